--- modemftp.listing: directory listings parsed into Lua tables.
--
-- The payloads of QFTPLIST, QFTPNLST and QFTPMLSD are whatever the FTP
-- server sent on the data connection. These functions turn that text into
-- arrays of entries. Lines may end in CRLF or LF and the last one may lack
-- its newline. They never raise on garbage: a line that cannot be parsed is
-- kept as `{raw = line}` (LIST, MLSD), so nothing the server said is lost.
-- Only a non-string argument gives `nil, err`.
--
-- Entry shape (LIST and MLSD): `{name =, type = "file"|"dir"|"link"|"other"
-- (MLSD also "cdir"/"pdir"), size = integer or nil, target = symlink target
-- or nil, perm =, owner =, group =, mtime_text = the time as the server
-- wrote it, raw = the line}`, plus format-specific fields listed below.
local errors = require "modemftp.errors"
local reply = require "modemftp.reply"

local M = {}

local months = {
	jan = 1, feb = 2, mar = 3, apr = 4, may = 5, jun = 6,
	jul = 7, aug = 8, sep = 9, oct = 10, nov = 11, dec = 12,
}

-- Lines of a payload: CRLF or LF, final newline optional, trailing CR
-- dropped; empty lines skipped.
local function each_line(text)
	local out = {}
	for line in (text .. "\n"):gmatch("([^\n]*)\n") do
		line = line:gsub("\r+$", "")
		if line ~= "" then out[#out + 1] = line end
	end
	return out
end

local function badtype(fn, v)
	return nil, errors.new { name = "protocol",
		message = "listing." .. fn .. ": string expected, got " .. type(v) }
end

local PERM = "^[%-bcdDlnpsw%?][%-rwxsStTlL%?][%-rwxsStTlL%?][%-rwxsStTlL%?]"
	.. "[%-rwxsStTlL%?][%-rwxsStTlL%?][%-rwxsStTlL%?][%-rwxsStTlL%?][%-rwxsStTlL%?][%-rwxsStTlL%?][%.%+@]?$"

local unix_types = { ["-"] = "file", d = "dir", l = "link" }

local function is_time(s)
	return s:match("^%d%d?:%d%d$") or s:match("^%d%d?:%d%d:%d%d$") or s:match("^%d%d%d%d$")
end

-- Unix `ls -l` style (vsftpd, ProFTPD, pure-ftpd, pyftpdlib, FileZilla...):
-- perm [links] owner [group] size|major, minor month day time|year name.
local function parse_unix(line)
	local toks = {}
	for s, word, e in line:gmatch("()(%S+)()") do toks[#toks + 1] = { s = s, w = word, e = e } end
	if #toks < 6 or not toks[1].w:match(PERM) then return nil end
	-- Find the date: month, day, time-or-year, preceded by a size.
	local i
	for k = 3, #toks - 2 do
		local mon = months[toks[k].w:lower()]
		local day = toks[k + 1].w:match("^%d%d?$") and tonumber(toks[k + 1].w)
		if mon and day and day >= 1 and day <= 31 and is_time(toks[k + 2].w)
			and (toks[k - 1].w:match("^%d+$") or toks[k - 1].w:match("^%d+,%d+$")) then
			i = k
			break
		end
	end
	if not i then return nil end
	local name = line:sub(toks[i + 2].e + 1)
	if name == "" then return nil end
	local perm = toks[1].w
	local e = { raw = line, perm = perm:sub(1, 10), type = unix_types[perm:sub(1, 1)] or "other" }
	-- Size, or "major, minor" / "major,minor" for device files.
	local sz = i - 1
	local major_tok = toks[i - 2] and toks[i - 2].w
	if i - 2 >= 2 and major_tok:match("^%d+,$") then
		e.major, e.minor = math.tointeger(tonumber(major_tok:sub(1, -2))), math.tointeger(tonumber(toks[i - 1].w))
		sz = i - 2
	elseif toks[i - 1].w:match("^%d+,%d+$") then
		local a, b = toks[i - 1].w:match("^(%d+),(%d+)$")
		e.major, e.minor = math.tointeger(tonumber(a)), math.tointeger(tonumber(b))
	else
		e.size = math.tointeger(tonumber(toks[i - 1].w))
	end
	-- Between perm and size: links, owner, group (some servers omit some).
	local first = 2
	if sz - 2 >= 2 and toks[2].w:match("^%d+$") then
		e.links = math.tointeger(tonumber(toks[2].w))
		first = 3
	end
	if first < sz then
		e.owner = toks[first].w
		if first + 1 < sz then
			local g = {}
			for k = first + 1, sz - 1 do g[#g + 1] = toks[k].w end
			e.group = table.concat(g, " ")
		end
	end
	local mt = { month = months[toks[i].w:lower()], day = tonumber(toks[i + 1].w) }
	local tw = toks[i + 2].w
	if tw:match("^%d%d%d%d$") then
		mt.year = tonumber(tw)
	else
		local h, m, s = tw:match("^(%d+):(%d+):?(%d*)$")
		mt.hour, mt.min, mt.sec = tonumber(h), tonumber(m), tonumber(s)
	end
	e.mtime = mt
	e.mtime_text = toks[i].w .. " " .. toks[i + 1].w .. " " .. tw
	if e.type == "link" then
		local n, target = name:match("^(.-) %-> (.*)$")
		if n and n ~= "" then name, e.target = n, target end
	end
	e.name = name
	return e
end

-- DOS / IIS style: `07-08-14  11:00AM       <DIR>          TEST`.
local function parse_dos(line)
	local date, time, rest = line:match("^(%d%d%-%d%d%-%d%d%d?%d?)%s+(%d%d?:%d%d%s*[AaPp]?[Mm]?)%s+(.-)$")
	if not date or (#date ~= 8 and #date ~= 10) then return nil end
	time = time:gsub("%s+", "")
	local e = { raw = line, mtime_text = date .. " " .. time }
	local name = rest:match("^<DIR>%s+(.+)$")
	if name then
		e.type = "dir"
	else
		local size
		size, name = rest:match("^(%d+)%s+(.+)$")
		if not size then return nil end
		e.type = "file"
		e.size = math.tointeger(tonumber(size))
	end
	local mo, d, y = date:match("^(%d+)%-(%d+)%-(%d+)$")
	local h, mi, ampm = time:match("^(%d+):(%d+)(%a*)$")
	local mt = { month = tonumber(mo), day = tonumber(d), year = tonumber(y),
		hour = tonumber(h), min = tonumber(mi) }
	if mt.year < 100 then mt.year = mt.year + (mt.year < 70 and 2000 or 1900) end
	ampm = ampm:upper()
	if ampm == "PM" and mt.hour < 12 then mt.hour = mt.hour + 12 end
	if ampm == "AM" and mt.hour == 12 then mt.hour = 0 end
	e.mtime = mt
	e.name = name
	return e
end

--- Parse a LIST payload. Understands Unix `ls -l` lines (links, owner,
-- group, device major/minor, `name -> target` symlinks, names with
-- spaces; the name starts one space after the time or year) and DOS/IIS
-- lines (`MM-DD-YY  HH:MMAM  <DIR>|size  name`). `total N` lines are
-- skipped; other lines become `{raw = line}`. Besides the common fields,
-- entries may have `links`, `major`, `minor` and `mtime` (`{month, day,
-- hour, min[, sec]}` or `{month, day, year}`; DOS gives all, 2-digit years
-- < 70 are 20xx). "." and ".." entries are kept as the server sent them.
-- @param text the payload
-- @return an array of entries, or nil, err when text is not a string
function M.list(text)
	if type(text) ~= "string" then return badtype("list", text) end
	local out = {}
	for _, line in ipairs(each_line(text)) do
		if not line:match("^total%s+%d+%s*$") then
			out[#out + 1] = parse_unix(line) or parse_dos(line) or { raw = line }
		end
	end
	return out
end

--- Parse an NLST payload into names, as the server gave them (no prefix
-- is stripped; trailing CR removed; empty lines skipped).
-- @param text the payload
-- @return an array of names, or nil, err when text is not a string
function M.nlst(text)
	if type(text) ~= "string" then return badtype("nlst", text) end
	return each_line(text)
end

local mlsd_types = { file = "file", dir = "dir", cdir = "cdir", pdir = "pdir" }

--- Parse an MLSD payload (RFC 3659): `fact=value;fact=value; name`.
-- The facts end at the first "; " (or the line starts with a space when
-- there are none), so names keep their spaces and semicolons. Entries get
-- `facts` (all facts, keys lowercased, values as sent) and: `type` ("file",
-- "dir", "cdir" for the listed directory itself, "pdir" for its parent,
-- "link" for OS.unix=slink/symlink with `target` when given, else
-- "other"), `size` (from size or sizd), `modify` (`reply.mdtm` table) with
-- `mtime_text`, `perm`, `unique`, `mode` (UNIX.mode), `owner` and `group`
-- (UNIX.ownername/owner/uid, UNIX.groupname/group/gid). cdir and pdir
-- entries are kept: callers filter them, e.g. keep only `type == "file"
-- or type == "dir"`. Lines without facts-and-name become `{raw = line}`.
-- @param text the payload
-- @return an array of entries, or nil, err when text is not a string
function M.mlsd(text)
	if type(text) ~= "string" then return badtype("mlsd", text) end
	local out = {}
	for _, line in ipairs(each_line(text)) do
		local facts_s, name
		if line:sub(1, 1) == " " then
			facts_s, name = "", line:sub(2)
		else
			local p = line:find("; ", 1, true)
			if p then facts_s, name = line:sub(1, p), line:sub(p + 2) end
		end
		if not name or name == "" then
			out[#out + 1] = { raw = line }
		else
			local facts = {}
			for f in facts_s:gmatch("([^;]*);") do
				local k, v = f:match("^([^=]+)=(.*)$")
				if k then facts[k:lower()] = v elseif f ~= "" then facts[f:lower()] = "" end
			end
			local e = { raw = line, name = name, facts = facts }
			local t = facts.type and facts.type:lower()
			if t and mlsd_types[t] then
				e.type = mlsd_types[t]
			elseif t and (t:match("^os%.unix=slink") or t:match("^os%.unix=symlink")) then
				e.type = "link"
				local target = facts.type:match("^[^:]*:(.+)$")
				if target then e.target = target end
			else
				e.type = "other"
			end
			local sz = facts.size or facts.sizd
			e.size = sz and sz:match("^%d+$") and math.tointeger(tonumber(sz)) or nil
			if facts.modify then
				e.mtime_text = facts.modify
				e.modify = reply.mdtm(facts.modify) or nil
			end
			e.perm, e.unique, e.mode = facts.perm, facts.unique, facts["unix.mode"]
			e.owner = facts["unix.ownername"] or facts["unix.owner"] or facts["unix.uid"]
			e.group = facts["unix.groupname"] or facts["unix.group"] or facts["unix.gid"]
			out[#out + 1] = e
		end
	end
	return out
end

return M
