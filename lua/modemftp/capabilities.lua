--- modemftp.capabilities: the AT+QFTPCFG settings a module lists, and their ranges.
--
-- `AT+QFTPCFG=?` prints one line per setting the firmware knows, e.g.
--
--     +QFTPCFG: "account",<username>,<password>
--     +QFTPCFG: "contextid",(1-16)
--     +QFTPCFG: "ssltype",(0-2)
--     +QFTPCFG: "data_address",(0-2),(15-50)
--
-- and the set follows the firmware build, not only the family (an EG25-G
-- lists `restenable` from build 01.003 on; a BG95-M3 has `data_address`
-- (0,1); the EC20 V1.0 manual has 7 settings and `ssltype` (0,1)). `parse`
-- reads each parameter as a range (`(0,1)`, `(1-16)`, `(0,2-5)`), a
-- placeholder (`<username>`: any value) or, for a form it cannot read, any
-- value; `check` refuses a setting the module does not list, or a value
-- outside its range, before anything is sent. `MANUAL` is the contract's
-- list, used when the module gives none (its `=?` answered ERROR).
local errors = require "modemftp.errors"

local M = {}

local Caps = {}
Caps.__index = Caps
Caps.__name = "modemftp.capabilities"

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

-- Split a parameter list at the commas outside (), <>, [] and quotes.
local function split(s)
	local out, depth, quoted, cur = {}, 0, false, {}
	for c in s:gmatch(".") do
		if c == '"' then quoted = not quoted end
		if not quoted then
			if c == "(" or c == "<" or c == "[" then depth = depth + 1
			elseif (c == ")" or c == ">" or c == "]") and depth > 0 then depth = depth - 1 end
		end
		if c == "," and depth == 0 and not quoted then
			out[#out + 1] = trim(table.concat(cur))
			cur = {}
		else
			cur[#cur + 1] = c
		end
	end
	out[#out + 1] = trim(table.concat(cur))
	return out
end

-- "(0,1)", "(1-16)", "(0,2-5)" as {kind = "range", ranges = {{lo, hi}...}, lo, hi, text}
local function range_of(text)
	local inner = text:match("^%((.*)%)$")
	if not inner then return nil end
	local r = { kind = "range", ranges = {}, text = text }
	for item in (inner .. ","):gmatch("([^,]*),") do
		item = trim(item)
		local a, b = item:match("^(%d+)%s*%-%s*(%d+)$")
		if not a then a = item:match("^(%d+)$"); b = a end
		a, b = math.tointeger(tonumber(a)), math.tointeger(tonumber(b))
		if not a or not b then return nil end
		r.ranges[#r.ranges + 1] = { lo = a, hi = b }
		if not r.lo or a < r.lo then r.lo = a end
		if not r.hi or b > r.hi then r.hi = b end
	end
	return r
end

local function param_of(text)
	local opt = text:match("^%[,?(.*)%]$") -- "[,(0,1)]": an optional parameter
	local p = range_of(opt or text)
		or ((opt or text):match("^<.*>$") and { kind = "text", text = opt or text })
		or { kind = "any", text = text }
	p.optional = opt ~= nil
	return p
end

--- Parse the test form's lines (echo, blank lines and OK are skipped).
-- @param lines the information lines of AT+QFTPCFG=?
-- @return the capabilities: `caps.settings[name] = {params = {...}, line =}`,
--   `caps.order` (the names as listed)
function M.parse(lines)
	local c = setmetatable({ settings = {}, order = {}, source = "module" }, Caps)
	for _, line in ipairs(lines or {}) do
		local body = line:match("^%s*%+QFTPCFG:%s*(.-)%s*$")
		if body then
			local name, rest = body:match('^"([^"]+)"%s*(.*)$')
			if not name then name, rest = body:match("^([%w_]+)%s*(.*)$") end
			if name and not c.settings[name] then
				local params = {}
				rest = rest:gsub("^,", "")
				if rest ~= "" then
					for _, p in ipairs(split(rest)) do params[#params + 1] = param_of(p) end
				end
				c.settings[name] = { params = params, line = trim(line) }
				c.order[#c.order + 1] = name
			end
		end
	end
	return c
end

--- The EC20 FTP manual V1.0's list (2.1): the fallback when the module gives none.
M.MANUAL_LINES = {
	'+QFTPCFG: "account",<username>,<password>', '+QFTPCFG: "filetype",(0,1)',
	'+QFTPCFG: "transmode",(0,1)', '+QFTPCFG: "contextid",(1-16)', '+QFTPCFG: "rsptimeout",(20-180)',
	'+QFTPCFG: "ssltype",(0,1)', '+QFTPCFG: "sslctxid",(0-5)',
}

--- The manual's capabilities (a fresh object).
function M.manual()
	local c = M.parse(M.MANUAL_LINES)
	c.source = "manual"
	return c
end

--- Whether the module lists a setting.
function Caps:has(name)
	return self.settings[name] ~= nil
end

--- The range of a setting's n-th parameter (default the first), or nil
-- when it has none (a placeholder, an unreadable form, not listed).
function Caps:range(name, n)
	local s = self.settings[name]
	local p = s and s.params[n or 1]
	return p and p.kind == "range" and p or nil
end

local function inside(p, v)
	for _, r in ipairs(p.ranges) do
		if v >= r.lo and v <= r.hi then return true end
	end
	return false
end

--- What the module accepts for a setting, as it printed it: `"ssltype",(0-2)`.
function Caps:accepts(name)
	local s = self.settings[name]
	if not s then return nil end
	local t = {}
	for _, p in ipairs(s.params) do t[#t + 1] = p.optional and ("[" .. p.text .. "]") or p.text end
	return '"' .. name .. '"' .. (#t > 0 and ("," .. table.concat(t, ",")) or "")
end

--- Check a setting and its integer values against the module's list.
-- @param name the setting ("ssltype")
-- @param values the values to send (integers; strings are not checked here)
-- @param who the module, for messages ("Quectel EG25 (EG25GGBR07A08M2G_01.002.01.002)")
-- @param op the operation, for the error
-- @return true, or nil, err (name "unsupported" for a setting it does not
--   list, "argument" for a value outside its range)
function Caps:check(name, values, who, op)
	who = who or "the module"
	local s = self.settings[name]
	local from = self.source == "manual" and " (its AT+QFTPCFG=? gave no list: the EC20 manual's)" or ""
	if not s then
		return nil, errors.new { op = op, target = name, name = "unsupported", retryable = false,
			message = string.format('%s does not list the AT+QFTPCFG setting "%s"%s; it lists %s',
				who, tostring(name), from, table.concat(self.order, ", ")) }
	end
	for i, v in ipairs(values or {}) do
		local p = s.params[i]
		if math.type(v) == "integer" then
			if p == nil and #s.params > 0 then
				return nil, errors.new { op = op, target = name, name = "argument", retryable = false,
					message = string.format("bad argument '%s': %d values given, %s accepts %s%s",
						name, #values, who, self:accepts(name), from) }
			end
			if p and p.kind == "range" and not inside(p, v) then
				return nil, errors.new { op = op, target = name, name = "argument", retryable = false,
					message = string.format("bad argument '%s': %d is out of range, %s accepts %s%s",
						name, v, who, self:accepts(name), from) }
			end
		end
	end
	return true
end

return M
