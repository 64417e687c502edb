--- modemftp.json: one value as one line of JSON (the command's `--json` output).
--
-- Tables with keys 1..n are arrays; other tables are objects with sorted
-- keys, so a line reads the same from run to run; an error object, a
-- function or a userdata is written as its text; NaN and the infinities as
-- null. Encoding only: nothing in modemftp reads JSON.
local errors = require "modemftp.errors"
local util = require "modemftp.util"

local M = {}

local function str(s)
	return util.quote(s, "\\u%04x")
end

--- Encode a value as one line of JSON.
-- @param v the value (nil, boolean, number, string, table, or anything with a text)
-- @return the JSON text
function M.encode(v)
	local t = type(v)
	if v == nil then return "null" end
	if t == "boolean" then return tostring(v) end
	if t == "number" then
		if v ~= v or v == math.huge or v == -math.huge then return "null" end
		if math.type(v) == "integer" then return tostring(v) end
		return (string.format("%.3f", v):gsub("0+$", ""):gsub("%.$", ".0"))
	end
	if t == "string" then return str(v) end
	if t == "table" and not errors.is(v) then
		local n = #v
		local keys = {}
		for k in pairs(v) do keys[#keys + 1] = k end
		if n > 0 and #keys == n then
			local out = {}
			for i = 1, n do out[i] = M.encode(v[i]) end
			return "[" .. table.concat(out, ",") .. "]"
		end
		table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
		local out = {}
		for _, k in ipairs(keys) do out[#out + 1] = str(tostring(k)) .. ":" .. M.encode(v[k]) end
		return "{" .. table.concat(out, ",") .. "}"
	end
	return str(tostring(v))
end

return M
