--- modemftp.ram: the module's RAM file system (AT+QFUPL, QFDWL, QFLST,
-- QFDEL). The manual recommends RAM for downloads; a RAM file also lets an
-- upload be retried without resending it over the serial line. FTP
-- transfers through RAM (`via = "ram"`) are the session's: it uploads and
-- downloads with these functions around a QFTPPUT/QFTPGET/QFTPLIST that
-- names a "RAM:" file.
local errors = require "modemftp.errors"
local atarg = require "modemftp.atarg"
local reply = require "modemftp.reply"
local transfer = require "modemftp.transfer"
local localfile = require "modemftp.localfile"
local util = require "modemftp.util"

local M = {}

local function ramname(name)
	if type(name) ~= "string" then error("RAM file name must be a string", 3) end
	if not name:match("^RAM:") then name = "RAM:" .. name end
	return name
end

-- The file of an upload or a download: "RAM:x" and its quoted form.
-- @return name, quoted; or nil, err
local function ramfile(op, name)
	name = ramname(name)
	local q, err = atarg.local_name(name)
	if not q then err.op = op; return nil, err end
	return name, q
end

--- A RAM file name for a transfer through RAM: "RAM:mftp1.tmp",
-- "RAM:mftp2.tmp", ... counted per modem (the files are the module's).
-- @param m the modem
-- @return the name
function M.tmpname(m)
	m.ram_files = (m.ram_files or 0) + 1
	return string.format("RAM:mftp%d.tmp", m.ram_files)
end

--- Upload into a RAM file (AT+QFUPL="RAM:x",<size>,<timeout>,0).
-- @param m modem
-- @param name "RAM:x" or "x"
-- @param source string, Lua file, or function (then opts.size is required)
-- @param opts {size =, timeout = seconds (default 60), ack = false (ACK mode:
--   wait for the module's 'A' after each 1024 bytes)}
-- @return bytes, checksum, or nil, err
function M.upload(m, name, source, opts)
	opts = util.checkopts(opts, "ram_upload")
	local q
	name, q = ramfile("ram_upload", name)
	if not name then return nil, q end
	local size = opts.size
	if size == nil and type(source) == "string" then size = #source end
	if size == nil and io.type(source) == "file" then
		local here = source:seek()
		size = source:seek("end") - here
		source:seek("set", here)
	end
	if type(size) ~= "number" then
		error("bad argument to 'ram_upload' (size needed for this source)", 2)
	end
	local timeout = opts.timeout or 60
	-- ACK mode: the module answers 'A' after each 1 KiB; the host waits for it
	-- (for UARTs without flow control)
	local cmd = atarg.command("QFUPL", q, size, math.floor(timeout), opts.ack and 1 or 0)
	local n, got, cs = transfer.put(m, { op = "ram_upload", cmd = cmd, target = name, source = source,
		result = "+QFUPL", options = { length = size, timeout_ms = util.ms(timeout + 5), progress = opts.progress,
			ack_every = opts.ack and 1024 or 0 } })
	if not n then return nil, got end
	if got ~= size then
		return nil, errors.new { op = "ram_upload", target = name, name = "protocol",
			message = string.format("module stored %d of %d bytes", got, size) }
	end
	return n, cs
end

--- Download a RAM file (AT+QFDWL) into a sink (path, Lua file, function, nil).
-- A path is written as `Session:get` writes one (checked, synced, an
-- existing file replaced only by a complete download).
-- @return bytes [, data when sink is nil], or nil, err
function M.download(m, name, sink, opts)
	opts = util.checkopts(opts, "ram_download")
	local q, err
	name, q = ramfile("ram_download", name)
	if not name then return nil, q end
	local f, finish = sink, nil
	if type(sink) == "string" then -- the session's own file: see `localfile.sink`
		local ls
		ls, err = localfile.sink("ram_download", sink, 0)
		if not ls then return nil, err end
		f, finish = ls.file, ls.finish
	end
	local cmd = atarg.command("QFDWL", q)
	local n, derr, data = transfer.get(m, { op = "ram_download", cmd = cmd, target = name, sink = f,
		result = "+QFDWL", options = { trailer = "lensum", timeout_ms = util.ms(opts.timeout or 60),
			progress = opts.progress } })
	if finish then
		local ok, ferr = finish(not n and localfile.transfer_error("ram_download", sink, f, derr) or nil)
		if not ok then return nil, ferr end
	end
	if not n then return nil, derr end
	if f == nil then return n, data end
	return n
end

--- List RAM files (AT+QFLST). @return { {name=, size=, file=}, ... }, or nil, err
function M.list(m, pattern)
	local q, err = atarg.quote(ramname(pattern or "*"), "pattern", 60)
	if not q then err.op = "ram_list"; return nil, err end
	local r
	r, err = m:command(atarg.command("QFLST", q), { op = "ram_list" })
	if not r then return nil, err end
	return reply.qflst(r.info)
end

--- Delete RAM files (AT+QFDEL), "RAM:x" or "RAM:*". @return true, or nil, err
function M.delete(m, name)
	local q, err = atarg.quote(ramname(name), "name", 60)
	if not q then err.op = "ram_delete"; return nil, err end
	local r
	r, err = m:command(atarg.command("QFDEL", q), { op = "ram_delete", target = name })
	if not r then return nil, err end
	return true
end

return M
