--- modemftp.ram: the module's RAM file system (AT+QFUPL, QFDWL, QFLST,
-- QFDEL) and FTP transfers through it (QFTPPUT/QFTPGET/QFTPLIST with a
-- "RAM:" local name). The manual recommends RAM for downloads; a RAM file
-- also lets an upload be retried without resending it over the serial line.
local errors = require "modemftp.errors"
local atarg = require "modemftp.atarg"
local reply = require "modemftp.reply"

local M = {}

local function ms(seconds) return math.floor(seconds * 1000 + 0.5) end

local function ramname(name)
	if type(name) ~= "string" then error("RAM file name must be a string", 3) end
	if not name:match("^RAM:") then name = "RAM:" .. name end
	return name
end

local tmp_seq = 0
local function tmpname()
	tmp_seq = tmp_seq + 1
	return string.format("RAM:mftp%d.tmp", tmp_seq)
end

--- Upload into a RAM file (AT+QFUPL="RAM:x",<size>,<timeout>,0).
-- @param m modem
-- @param name "RAM:x" or "x"
-- @param source string, Lua file, or function (then opts.size is required)
-- @param opts {size =, timeout = seconds (default 60), ack = false (ACK mode:
--   wait for the module's 'A' after each 1024 bytes)}
-- @return bytes, checksum, or nil, err
function M.upload(m, name, source, opts)
	opts = opts or {}
	name = ramname(name)
	local q, err = atarg.local_name(name)
	if not q then err.op = "ram_upload"; return nil, err end
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
	local n, r = m.port:put(cmd, source, { result = "+QFUPL", length = size, timeout_ms = ms(timeout + 5),
		progress = opts.progress, ack_every = opts.ack and 1024 or 0 })
	m:dispatch()
	if not n then return nil, require("modemftp.modem").fail("ram_upload", r, { target = name, command = cmd }) end
	local got, cs = reply.qfupl(r.result or "")
	if not got then cs.op = "ram_upload"; return nil, cs end
	if got ~= size then
		return nil, errors.new { op = "ram_upload", target = name, name = "protocol",
			message = string.format("module stored %d of %d bytes", got, size) }
	end
	return n, cs
end

--- Download a RAM file (AT+QFDWL) into a sink (path, Lua file, function, nil).
-- @return bytes [, data when sink is nil], or nil, err
function M.download(m, name, sink, opts)
	opts = opts or {}
	name = ramname(name)
	local q, err = atarg.local_name(name)
	if not q then err.op = "ram_download"; return nil, err end
	local f, close = sink, nil
	if type(sink) == "string" then
		f, err = io.open(sink, "wb")
		if not f then return nil, errors.new { op = "ram_download", name = "io", message = err, target = sink } end
		close = true
	end
	local cmd = atarg.command("QFDWL", q)
	local n, r, data = m.port:get(cmd, f, { result = "+QFDWL", trailer = "lensum",
		timeout_ms = ms(opts.timeout or 60), progress = opts.progress })
	if close then f:close() end
	m:dispatch()
	if not n then return nil, require("modemftp.modem").fail("ram_download", r, { target = name, command = cmd }) end
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

--- put through RAM: QFUPL, then AT+QFTPPUT="remote","RAM:x",startpos, then QFDEL.
function M.put_via_ram(s, remote, src, length, startpos, opts)
	if not length then
		return nil, errors.argument("put", "via = \"ram\" needs a source of known size")
	end
	local m = s.modem
	local tmp = tmpname()
	local n, err = M.upload(m, tmp, src, { size = length, progress = opts.progress })
	if not n then err.op = "put"; return nil, err end
	local v
	v, err = s:_result("put", atarg.put_command(remote, tmp, startpos), "+QFTPPUT", remote)
	M.delete(m, tmp)
	if v == nil then return nil, err end
	if v ~= length then
		return nil, errors.new { op = "put", target = remote, name = "protocol", bytes = v,
			message = string.format("module reports %d bytes transferred, %d were stored", v, length) }
	end
	return v
end

--- get through RAM: AT+QFTPGET="remote","RAM:x",startpos, then QFDWL, then QFDEL.
function M.get_via_ram(s, remote, sink, startpos, opts)
	local m = s.modem
	local tmp = tmpname()
	local v, err = s:_result("get", atarg.get_command(remote, tmp, startpos), "+QFTPGET", remote)
	if v == nil then M.delete(m, tmp); return nil, err end
	local n, data = M.download(m, tmp, sink, { progress = opts.progress })
	M.delete(m, tmp)
	if not n then data.op = "get"; return nil, data end
	if n ~= v then
		return nil, errors.new { op = "get", target = remote, name = "protocol", bytes = n,
			message = string.format("module stored %d bytes, %d were read back", v, n) }
	end
	return n, nil, data
end

--- LIST/NLST/MLSD through RAM.
function M.list_via_ram(s, cmdname, prefix, qdir, dir)
	local m = s.modem
	local tmp = tmpname()
	local v, err = s:_result(cmdname:lower():sub(5), atarg.command(cmdname, qdir, '"' .. tmp .. '"'), prefix, dir)
	if v == nil then M.delete(m, tmp); return nil, err end
	local n, data = M.download(m, tmp, nil)
	M.delete(m, tmp)
	if not n then return nil, data end
	return n, nil, data
end

return M
