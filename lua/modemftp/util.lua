--- modemftp.util: the small helpers several modules share, written once.
--
-- * Units: public Lua options are in seconds, the core takes milliseconds
--   (its option keys end in `_ms`); `util.ms` is the one conversion.
-- * Option tables: `util.checkopts` (misuse raises, as luaL_argerror does)
--   and `util.merge` (copy and override, never change the caller's table).
-- * Text: `util.quote` (a string as a quoted literal; JSON and the console
--   differ only in how a control byte is written) and `util.getenv` (an
--   empty variable counts as unset).
-- * Callbacks: `util.callback` (a script's function that must not yield).
local M = {}

--- Seconds to whole milliseconds (the core's unit), rounded.
-- @param seconds a number of seconds
-- @return milliseconds (an integer)
function M.ms(seconds)
	return math.floor(seconds * 1000 + 0.5)
end

--- Check an options argument: nil or a table; anything else is a caller's
-- bug and raises, naming the caller's caller.
-- @param opts the value the caller got
-- @param where the public function's name, for the message
-- @return opts, or a new empty table for nil
function M.checkopts(opts, where)
	if opts ~= nil and type(opts) ~= "table" then
		error(string.format("bad argument to '%s' (table expected, got %s)", where, type(opts)), 3)
	end
	return opts or {}
end

--- A new table with the fields of each table in turn (a later one wins;
-- nil arguments are skipped).
-- @param ... tables
-- @return the new table
function M.merge(...)
	local out = {}
	for i = 1, select("#", ...) do
		local t = select(i, ...)
		if t then
			for k, v in pairs(t) do out[k] = v end
		end
	end
	return out
end

local ESCAPES = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

--- A string as a double-quoted literal: `"`, `\`, newline, return and tab
-- escaped by name, any other control byte by `byte_format`.
-- @param s the string
-- @param byte_format format of one other control byte: "\\u%04x" (JSON) or "\\x%02x" (Lua)
-- @return the quoted text
function M.quote(s, byte_format)
	return '"' .. s:gsub('[%c"\\]', function(c)
		return ESCAPES[c] or string.format(byte_format, c:byte())
	end) .. '"'
end

--- Call a script's callback (a URC handler, an observer) so that it cannot
-- suspend the modem operation that calls it: it runs in a coroutine of its
-- own, and a yield there is an error ("observer yielded: ..."), raised at
-- once; an error the callback raises is raised again as it is (a string
-- with the callback's traceback).
-- @param what the callback's name, for the error
-- @param fn the callback
-- @param ... its arguments
-- @return its results
function M.callback(what, fn, ...)
	local co = coroutine.create(fn)
	local r = table.pack(coroutine.resume(co, ...))
	if not r[1] then
		local e = r[2]
		if type(e) == "string" then e = debug.traceback(co, e) end
		error(e, 0)
	end
	if coroutine.status(co) ~= "dead" then
		coroutine.close(co)
		error(what .. " yielded: a callback cannot yield (it runs inside a modem operation)", 0)
	end
	return table.unpack(r, 2, r.n)
end

--- An environment variable, nil when unset or empty.
-- @param name the variable
-- @return its value, or nil
function M.getenv(name)
	local v = os.getenv(name)
	if v == "" then return nil end
	return v
end

return M
