--- modemftp.transfer: one data-mode transfer, from its command to a checked result.
--
-- Every transfer of the Lua layer (FTP put, get, list, nlst, mlsd and ato
-- to COM; RAM upload and download) goes the same way, written here once:
--
--   1. `port:put` or `port:get` sends the command, moves the bytes in data
--      mode and reads the trailer (the C core);
--   2. `m:dispatch()` hands the URCs that came meanwhile to the modem;
--   3. a failure becomes one error object: the module's own code when the
--      trailer carries a `+QFTPxxx: <err>,...` line (the module said why),
--      else the core's failure through `transfer.fail`, noted on the modem
--      (`m:note`: a restart or a lost PDP context ends the session);
--   4. the result line is read by its prefix: `+QFUPL: <size>,<checksum>`,
--      `+QFDWL` (the core counted the bytes against it), else the FTP rule
--      `+QFTPxxx: <err>,<n>` (`transfer.result`: err 0 gives n, another err
--      the EC20 code).
--
-- `transfer.fail` is also the one place that turns any core failure (a
-- plain AT command's too) into an error object.
--
-- Dependencies point one way: modem, session and ram use this module; it
-- uses none of them. The modem is an argument (its `port`, `dispatch` and
-- `note`; `transferring` is set while the core moves the bytes, and
-- `closing` by an `m:close()` from a callback meanwhile: the port closes
-- once the transfer has stopped, and the transfer fails as "closed").
local core = require "modemftp.core"
local errors = require "modemftp.errors"
local reply = require "modemftp.reply"

local M = {}

--- Turn a core failure into an error object (the one place that does).
-- A final line that means a restart or a lost PDP context (`core.line_class`)
-- names the error "rebooted" or "pdp_deactivated".
-- @param op the operation name
-- @param t the core's failure table
-- @param extra optional fields (target, command, seconds, ...)
-- @return the error object
function M.fail(op, t, extra)
	if type(t) == "table" and t.bytes and type(t.message) == "string" then
		-- the error object prints ", after N bytes" itself
		t.message = t.message:gsub("%s*%(after %d+ bytes%)", ""):gsub("%s+after %d+ bytes$", "")
	end
	local final = type(t) == "table" and t.final or nil
	local class = final and core.line_class(final) or {}
	if class.reboot then
		extra = extra or {}
		extra.name, extra.message = "rebooted", "the module restarted (" .. final .. ")"
	elseif class.pdp_lost then
		extra = extra or {}
		extra.name, extra.message = "pdp_deactivated", "the network deactivated the PDP context (" .. final .. ")"
	end
	if extra and extra.name then
		local e = {}
		for k, v in pairs(extra) do e[k] = v end
		e.op, e.bytes, e.final, e.lines = op, t.bytes, t.final, t.lines
		return errors.new(e)
	end
	return errors.from_core(op, t, extra)
end

--- Read a `+QFTPxxx: <err>,<value>` result line (a command's or a transfer's).
-- @param op the operation, for the error
-- @param line the result line
-- @param prefix the result's name, e.g. "+QFTPPUT"
-- @param extra fields of a failure: target, command, bytes
-- @return the value and the parsed fields (err 0), or nil, err
function M.result(op, line, prefix, extra)
	local e, value, fields = reply.result(line or "", prefix)
	if e == nil then
		value.op, value.target = op, extra and extra.target
		return nil, value
	end
	if e ~= 0 then return nil, errors.from_result(op, e, value, extra) end
	return value, fields
end

-- Step 3: a failed transfer. The trailer's +QFTPxxx code, when the module
-- gave one, says why; else the core's failure does.
local function failure(m, t, f)
	local prefix = f.result and f.result:match("^(%+QFTP%w+):")
	if prefix then
		local e, v = reply.result(f.result, prefix)
		if e and e ~= 0 then
			return errors.from_result(t.op, e, v, { target = t.target, bytes = f.bytes, command = t.cmd,
				detail = f.kind ~= "modem" and f.message or nil })
		end
	end
	return m:note(M.fail(t.op, f, { target = t.target, command = t.cmd }))
end

-- Step 4: how a finished transfer's result line is read, by its prefix.
local READ = {
	["+QFUPL"] = function(t, r)
		local size, checksum = reply.qfupl(r.result or "")
		if not size then checksum.op, checksum.target = t.op, t.target end
		return size, checksum
	end,
	["+QFDWL"] = function() return true end,
}

local function read_ftp(t, r, bytes)
	return M.result(t.op, r.result, t.result, { target = t.target, bytes = bytes, command = t.cmd })
end

local function run(m, t, move, endpoint)
	local o = t.options or {}
	o.result = t.result
	m.transferring = true
	local ok, bytes, r, data = pcall(move, m.port, t.cmd, endpoint, o)
	m.transferring = nil
	if m.closing then
		-- a callback called m:close(): its error stopped the transfer (the
		-- core left data mode cleanly), now the port can close
		m.closing = nil
		m.port:close()
		if not ok and errors.is(bytes) and bytes.name == "closed" then
			bytes.op, bytes.target = t.op, t.target
			return nil, bytes
		end
	end
	if not ok then error(bytes, 0) end -- a callback's error, raised again
	m:dispatch()
	if not bytes then return nil, failure(m, t, r) end
	local value, more = (READ[t.result] or read_ftp)(t, r, bytes)
	if value == nil then return nil, more end
	return bytes, value, data or more
end

--- Upload: send `t.cmd`, then the source's bytes in data mode, then read the result.
-- @param m the modem
-- @param t {op = name for errors, cmd = the AT command, target = what it is
--   about, source = what the core's port:put takes (string, file, function),
--   result = the line that ends it ("+QFTPPUT", "+QFUPL"), options = the
--   core's put options (length, timeout_ms, guard_ms, progress, ...)}
-- @return bytes sent, the result's value (the module's count) and, for
--   "+QFUPL", the checksum; or nil, err (err.bytes: what left the host)
function M.put(m, t)
	return run(m, t, m.port.put, t.source)
end

--- Download: send `t.cmd`, then take the data into the sink, then read the result.
-- @param m the modem
-- @param t as for `transfer.put`, with `sink` (a file, a function, or nil
--   to collect a string) instead of `source`, and the core's get options
-- @return bytes received, the result's value, and the data when the sink
--   was nil; or nil, err (err.bytes: what the sink took)
function M.get(m, t)
	return run(m, t, m.port.get, t.sink)
end

return M
