--- modemftp.reply: the modem's lines parsed into values.
--
-- Pure functions over strings (one line, or a list of lines). They accept
-- what the EC20 really prints, quirks of the manual's chapter 3 included:
-- a space after the comma (`+QFTPPWD: 0, "/"`), quoted or unquoted strings
-- (`+QFTPPWD: 0,/`, `+QFLST: RAM:test.txt,1000`), a missing err field
-- (`+QFTPSIZE: 1000`). Trailing CR/LF is ignored. A line that does not
-- match never raises: the functions return `nil, err`, where err is an
-- `errors` object named "protocol" whose message shows the line (control
-- bytes escaped, cut at 80 bytes).
local errors = require "modemftp.errors"

local M = {}

local function show(s)
	s = tostring(s)
	local cut = #s > 80
	if cut then s = s:sub(1, 80) end
	s = s:gsub("[%c\127\"\\]", function(c)
		if c == "\r" then return "\\r" elseif c == "\n" then return "\\n"
		elseif c == "\t" then return "\\t" elseif c == '"' then return '\\"'
		elseif c == "\\" then return "\\\\" end
		return string.format("\\x%02X", c:byte())
	end)
	return '"' .. s .. (cut and '..."' or '"')
end

local function garbage(what, line)
	return nil, errors.new { name = "protocol", message = what .. ": " .. show(line) }
end

local function typeerr(fn, v, want)
	return nil, errors.new { name = "protocol",
		message = "reply." .. fn .. ": " .. (want or "string") .. " expected, got " .. type(v) }
end

local function chomp(s)
	return (s:gsub("^[\r\n]+", ""):gsub("[\r\n]+$", ""))
end

local function trim(s)
	return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

local function toint(s)
	if type(s) ~= "string" or not s:match("^%d+$") then return nil end
	return math.tointeger(tonumber(s))
end

--- Split a comma-separated AT value list, honouring quoted strings and
-- parenthesised ranges like `(0,1)`. Spaces around fields are dropped;
-- quotes are removed. A quoted string ends at the first `"` that is
-- followed by a comma or the end of the text (the AT syntax has no escape,
-- so a `"` elsewhere is kept as data).
-- @param s the text after `+CMD: `
-- @return an array of field strings and an array of booleans (true where the field was quoted), or nil, err
function M.fields(s)
	if type(s) ~= "string" then return typeerr("fields", s) end
	local out, quoted = {}, {}
	local pos, n = 1, #s
	while true do
		pos = s:find("[^ \t]", pos) or n + 1
		local c = s:sub(pos, pos)
		local value, isq
		if c == '"' then
			local start = pos + 1
			local q = start
			local stop
			while true do
				local e = s:find('"', q, true)
				if not e then return garbage("unterminated quoted string", s) end
				local after = s:find("[^ \t]", e + 1)
				if after == nil or s:sub(after, after) == "," then
					stop = e
					pos = after or n + 1
					break
				end
				q = e + 1
			end
			value, isq = s:sub(start, stop - 1), true
		elseif c == "(" then
			local e = s:find(")", pos, true)
			if not e then return garbage("unterminated parenthesis", s) end
			value = s:sub(pos, e)
			local after = s:find("[^ \t]", e + 1)
			if after and s:sub(after, after) ~= "," then return garbage("text after ')'", s) end
			pos = after or n + 1
		else
			local e = s:find(",", pos, true) or n + 1
			value = trim(s:sub(pos, e - 1))
			pos = e
		end
		out[#out + 1] = value
		quoted[#quoted + 1] = isq or false
		if pos > n then break end
		pos = pos + 1 -- past the comma
	end
	return out, quoted
end

-- Result kinds: what the field after <err> holds on success.
local STATUS = { QFTPOPEN = true, QFTPCWD = true, QFTPDEL = true, QFTPMKDIR = true,
	QFTPRMDIR = true, QFTPRENAME = true, QFTPCLOSE = true }
local STRING = { QFTPPWD = true, QFTPMDTM = true }

local function key_of(prefix)
	if type(prefix) ~= "string" then return nil end
	local k = prefix:gsub("^%s*%+", ""):gsub(":%s*$", "")
	if k == "" or k:find("[^%w]") then return nil end
	return k
end

-- A string value after "0,": quoted, or the rest of the line verbatim.
local function string_value(rest, line)
	rest = rest:gsub("^[ \t]+", "")
	if rest:sub(1, 1) == '"' then
		local inner = rest:match('^"(.*)"[ \t]*$')
		if not inner then return garbage("unterminated quoted string", line) end
		return inner
	end
	return rest
end

--- Parse a `+QFTPxxx: <err>,<value>` result line.
-- On success (err 0) value is the command's result: an integer for
-- QFTPSIZE, GET, PUT, LIST, NLST, MLSD, LEN, STAT (and for unknown
-- prefixes when it is one), a string for QFTPPWD and QFTPMDTM (quoted or
-- unquoted; unquoted takes the rest of the line verbatim, commas included),
-- the protocol_error (normally 0) for OPEN, CWD, DEL, MKDIR, RMDIR, RENAME,
-- CLOSE. On failure (err ~= 0) value is the protocol_error integer. A
-- single field is the value on success for commands that return one (the
-- chapter 3.3 quirk `+QFTPSIZE: 1000`), and the err code for the others;
-- for PWD and MDTM a lone number of at most 3 digits is an err code too
-- (a path starts with "/", a time has 14 digits).
-- @param line the line, e.g. `+QFTPSIZE: 0,1000`
-- @param prefix "+QFTPSIZE" (the "+" and ":" are optional)
-- @return err (integer), value, fields (the raw fields after err); or nil, errobj
function M.result(line, prefix)
	local key = key_of(prefix)
	if not key then return garbage("result: bad prefix", prefix) end
	if type(line) ~= "string" then return typeerr("result", line) end
	local l = chomp(line)
	local body = l:match("^%s*%+" .. key .. ":[ \t]*(.-)$")
	if not body then return garbage("expected +" .. key, line) end
	local first, rest = body:match("^([^,]*),(.*)$")
	if not first then
		-- One field only.
		if body == "" then return garbage("empty +" .. key .. " result", line) end
		if STRING[key] and not body:match("^%s*%d%d?%d?%s*$") then
			local v, err = string_value(body, line)
			if v == nil then return nil, err end
			return 0, v, { v }
		end
		local n = toint(trim(body))
		if n == nil then return garbage("+" .. key .. ": integer expected", line) end
		if STATUS[key] or STRING[key] then return n, 0, {} end
		return 0, n, { trim(body) }
	end
	local err = toint(trim(first))
	if err == nil then return garbage("+" .. key .. ": error code expected", line) end
	if err == 0 and STRING[key] then
		local v, verr = string_value(rest, line)
		if v == nil then return nil, verr end
		return 0, v, { v }
	end
	local f, ferr = M.fields(rest)
	if not f then return nil, ferr end
	local v = toint(f[1])
	if v == nil then
		if err ~= 0 or STATUS[key] or key:match("^QFTP") then
			return garbage("+" .. key .. ": integer expected", line)
		end
		v = f[1]
	end
	return err, v, f
end

local function lines_of(lines)
	if type(lines) == "string" then
		local t = {}
		for l in (lines .. "\n"):gmatch("([^\n]*)\n") do t[#t + 1] = l end
		return t
	end
	if type(lines) ~= "table" then return nil end
	for _, l in ipairs(lines) do
		if type(l) ~= "string" then return nil end
	end
	return lines
end

local function range_of(s)
	local inner = s:match("^%((.*)%)$")
	local r = { ranges = {} }
	for item in (inner .. ","):gmatch("([^,]*),") do
		item = trim(item)
		local a, b = item:match("^(%d+)%s*%-%s*(%d+)$")
		a, b = toint(a), toint(b)
		if not a then
			a = toint(item)
			b = a
		end
		if not a then return nil end
		r.ranges[#r.ranges + 1] = { lo = a, hi = b }
		if r.lo == nil or a < r.lo then r.lo = a end
		if r.hi == nil or b > r.hi then r.hi = b end
	end
	return r
end

--- Parse `+QFTPCFG:` lines, from a query or from the `=?` test output.
-- Other lines (echo, OK, blank) are skipped. The result maps each setting
-- to its value: an integer (`"filetype",0`), for "account" a table
-- `{username =, password =}`, and for test output a range table
-- `{lo =, hi =, ranges = {{lo =, hi =}, ...}}` (`(0,1)` and `(1-16)`);
-- placeholders like `<username>` stay as strings.
-- @param lines an array of lines, or one string with newlines
-- @return the settings table, or nil, err
function M.cfg(lines)
	local ls = lines_of(lines)
	if not ls then return typeerr("cfg", lines, "array of lines or string") end
	local t = {}
	for _, line in ipairs(ls) do
		local l = chomp(line)
		local body = l:match("^%s*%+QFTPCFG:[ \t]*(.*)$")
		if body then
			local f, q = M.fields(body)
			if not f then return nil, q end
			if #f < 2 or not q[1] or f[1] == "" then return garbage("malformed +QFTPCFG", line) end
			local vals = {}
			for i = 2, #f do
				local v = f[i]
				if not q[i] and v:sub(1, 1) == "(" then
					v = range_of(v)
					if not v then return garbage("malformed range in +QFTPCFG", line) end
				elseif not q[i] and toint(v) then
					v = toint(v)
				elseif not q[i] and not v:match("^<.*>$") then
					return garbage("malformed value in +QFTPCFG", line)
				end
				vals[#vals + 1] = v
			end
			if f[1] == "account" then
				t.account = { username = vals[1], password = vals[2] }
			elseif #vals == 1 then
				t[f[1]] = vals[1]
			else
				t[f[1]] = vals
			end
		end
	end
	return t
end

--- Parse `+QIACT: <contextID>,<state>,<type>[,<address>]` lines (AT+QIACT?).
-- Other lines are skipped.
-- @param lines an array of lines, or one string with newlines
-- @return an array of `{context =, state =, type =, address =, active = state == 1}`, or nil, err
function M.qiact(lines)
	local ls = lines_of(lines)
	if not ls then return typeerr("qiact", lines, "array of lines or string") end
	local out = {}
	for _, line in ipairs(ls) do
		local body = chomp(line):match("^%s*%+QIACT:[ \t]*(.*)$")
		if body then
			local f, q = M.fields(body)
			if not f then return nil, q end
			local cid, st, ty = toint(f[1]), toint(f[2]), toint(f[3])
			if not (cid and st and ty) or #f > 4 then return garbage("malformed +QIACT", line) end
			out[#out + 1] = { context = cid, state = st, type = ty, address = f[4], active = st == 1 }
		end
	end
	return out
end

--- Parse a registration line: `+CGREG: <n>,<stat>[,<lac>,<ci>[,<act>]]` (the
-- AT+CGREG? answer) or the URC `+CGREG: <stat>[,<lac>,<ci>[,<act>]]`;
-- `+CEREG:` and `+CREG:` are read the same way.
-- @param line the line
-- @return `{n =, stat =, lac =, ci =, act =, registered = (stat 1 home or 5 roaming)}` (n is nil for the URC), or nil, err
function M.cgreg(line)
	if type(line) ~= "string" then return typeerr("cgreg", line) end
	local body = chomp(line):match("^%s*%+C[GE]?REG:[ \t]*(.*)$")
	if not body then return garbage("expected +CGREG", line) end
	local f, q = M.fields(body)
	if not f then return nil, q end
	local r = {}
	local i = 1
	-- The query answer starts with two integers; the URC with stat then quoted lac.
	if #f == 2 or (#f >= 3 and toint(f[2]) and not q[2]) then
		r.n = toint(f[1])
		if r.n == nil then return garbage("malformed +CGREG", line) end
		i = 2
	end
	r.stat = toint(f[i])
	if r.stat == nil or #f - i > 3 then return garbage("malformed +CGREG", line) end
	r.lac, r.ci = f[i + 1], f[i + 2]
	if f[i + 3] then
		r.act = toint(f[i + 3])
		if r.act == nil then return garbage("malformed +CGREG", line) end
	end
	r.registered = r.stat == 1 or r.stat == 5
	return r
end

--- Parse `+CPIN: <code>` (READY, SIM PIN, SIM PUK, NOT READY, ...).
-- @param line the line
-- @return the code string and true when it is READY (any case), or nil, err
function M.cpin(line)
	if type(line) ~= "string" then return typeerr("cpin", line) end
	local code = chomp(line):match("^%s*%+CPIN:[ \t]*(.-)%s*$")
	if not code or code == "" then return garbage("expected +CPIN", line) end
	code = code:match('^"(.*)"$') or code
	return code, code:upper() == "READY"
end

--- Parse `+CGATT: <state>`.
-- @param line the line
-- @return the state (0 or 1) and true when attached, or nil, err
function M.cgatt(line)
	if type(line) ~= "string" then return typeerr("cgatt", line) end
	local s = toint(chomp(line):match("^%s*%+CGATT:[ \t]*(%d+)%s*$"))
	if s == nil or s > 1 then return garbage("expected +CGATT: 0 or 1", line) end
	return s, s == 1
end

--- Parse `+QFLST: "<name>",<size>` lines (also unquoted, as in chapter 3.6:
-- `+QFLST: RAM:test.txt,1000`; the size is after the last comma).
-- Other lines are skipped.
-- @param lines an array of lines, or one string with newlines
-- @return an array of `{name = "RAM:test.txt", size =, storage = "RAM", file = "test.txt"}`, or nil, err
function M.qflst(lines)
	local ls = lines_of(lines)
	if not ls then return typeerr("qflst", lines, "array of lines or string") end
	local out = {}
	for _, line in ipairs(ls) do
		local body = chomp(line):match("^%s*%+QFLST:[ \t]*(.-)%s*$")
		if body then
			local name, size
			if body:sub(1, 1) == '"' then
				name, size = body:match('^"(.*)"[ \t]*,[ \t]*(%d+)$')
			else
				name, size = body:match("^(.-)[ \t]*,[ \t]*(%d+)$")
			end
			size = toint(size)
			if not name or name == "" or not size then return garbage("malformed +QFLST", line) end
			local storage, file = name:match("^(%u+):(.*)$")
			out[#out + 1] = { name = name, size = size, storage = storage, file = file or name }
		end
	end
	return out
end

--- Parse `+QFUPL: <size>,<checksum>` (upload to RAM finished).
-- @param line the line
-- @return size (integer) and checksum (string as printed), or nil, err
function M.qfupl(line)
	if type(line) ~= "string" then return typeerr("qfupl", line) end
	local s, c = chomp(line):match("^%s*%+QFUPL:[ \t]*(%d+)[ \t]*,[ \t]*(%x+)%s*$")
	if not toint(s) then return garbage("expected +QFUPL: <size>,<checksum>", line) end
	return toint(s), c
end

--- Parse `+QFDWL: <size>,<checksum>` (download from RAM finished).
-- @param line the line
-- @return size (integer) and checksum (string as printed), or nil, err
function M.qfdwl(line)
	if type(line) ~= "string" then return typeerr("qfdwl", line) end
	local s, c = chomp(line):match("^%s*%+QFDWL:[ \t]*(%d+)[ \t]*,[ \t]*(%x+)%s*$")
	if not toint(s) then return garbage("expected +QFDWL: <size>,<checksum>", line) end
	return toint(s), c
end

--- Parse a `+QIURC: "<event>"[,<fields>]` URC, e.g. `+QIURC: "pdpdeact",1`.
-- @param line the line
-- @return the event name and an array of the remaining fields (integers where they are integers), or nil, err
function M.qiurc(line)
	if type(line) ~= "string" then return typeerr("qiurc", line) end
	local body = chomp(line):match("^%s*%+QIURC:[ \t]*(.*)$")
	if not body then return garbage("expected +QIURC", line) end
	local f, q = M.fields(body)
	if not f then return nil, q end
	if f[1] == "" then return garbage("malformed +QIURC", line) end
	local rest = {}
	for i = 2, #f do rest[#rest + 1] = (not q[i] and toint(f[i])) or f[i] end
	return f[1], rest
end

local function days_from_civil(y, m, d)
	-- Howard Hinnant's algorithm: exact for the proleptic Gregorian
	-- calendar, and free of os.time's local-time and DST pitfalls.
	if m <= 2 then y = y - 1 end
	local era = y // 400
	local yoe = y - era * 400
	local mp = (m + 9) % 12
	local doy = (153 * mp + 2) // 5 + d - 1
	local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
	return era * 146097 + doe - 719468
end

local function days_in_month(y, m)
	if m == 2 then
		local leap = (y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0
		return leap and 29 or 28
	end
	return (m == 4 or m == 6 or m == 9 or m == 11) and 30 or 31
end

--- Parse an MDTM / MLSD time "YYYYMMDDHHMMSS[.NNN]" (UTC, RFC 3659).
-- Surrounding spaces and quotes are ignored; the fraction may have 1 or
-- more digits (msec uses the first three); second 60 (a leap second) is
-- allowed.
-- @param s the time string
-- @return `{year, month, day, hour, min, sec, msec, epoch = seconds since 1970-01-01 UTC, text = s}`, or nil, err
function M.mdtm(s)
	if type(s) ~= "string" then return typeerr("mdtm", s) end
	local t = trim(s)
	t = t:match('^"(.*)"$') or t
	local Y, Mo, D, h, mi, sec, frac =
		t:match("^(%d%d%d%d)(%d%d)(%d%d)(%d%d)(%d%d)(%d%d)(.*)$")
	if not Y or not (frac == "" or frac:match("^%.%d+$")) then
		return garbage("malformed time, expected YYYYMMDDHHMMSS[.NNN]", s)
	end
	local r = { year = toint(Y), month = toint(Mo), day = toint(D), hour = toint(h),
		min = toint(mi), sec = toint(sec), msec = 0, text = s }
	if r.month < 1 or r.month > 12 or r.day < 1 or r.day > days_in_month(r.year, r.month)
		or r.hour > 23 or r.min > 59 or r.sec > 60 then
		return garbage("time out of range", s)
	end
	if frac ~= "" then r.msec = toint((frac:sub(2) .. "00"):sub(1, 3)) end
	r.epoch = days_from_civil(r.year, r.month, r.day) * 86400 + r.hour * 3600 + r.min * 60 + r.sec
	return r
end

return M
