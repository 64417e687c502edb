--- modemftp.storage: the module's own file systems (AT+QFUPL, QFDWL, QFLST,
-- QFDEL) on the drives it has: "RAM:" on the EC20 (its FTP manual's only
-- one), "UFS:" and "SD:" on an EG800K, "UFS:" (and "RAM:") on EC2x parts,
-- "UFS:" on BG95/BG77 (`modemftp.identity` profiles; the names are
-- case-sensitive on the modules that have several: "ufs:" gives 613 on an
-- EC25). The manual recommends RAM for downloads; a module file also lets
-- an upload be retried without resending it over the serial line. FTP
-- transfers through a drive (`via = "ram" | "ufs" | "sd"`) are the
-- session's: it uploads and downloads with these functions around a
-- QFTPPUT/QFTPGET/QFTPLIST that names a "<DRIVE>:" file.
--
-- A name without a drive is on the module's default drive (its profile's
-- first: RAM on the EC20, UFS elsewhere); `m:ram_*` are the same functions
-- with RAM as the default, as before.
local errors = require "modemftp.errors"
local atarg = require "modemftp.atarg"
local reply = require "modemftp.reply"
local transfer = require "modemftp.transfer"
local localfile = require "modemftp.localfile"
local util = require "modemftp.util"

local M = {}

-- The drives the module has (its profile), or the manual's RAM alone.
local function drives_of(m)
	local p = m.profile and m:profile()
	return p and p.drives or { "RAM" }
end

--- The drive that `via` names, in the module's spelling: "ram" -> "RAM".
-- @param m the modem
-- @param via "ram", "ufs", "sd" (any case)
-- @param op the operation, for the error
-- @return the drive name, or nil, err (the module has no such drive)
function M.drive(m, via, op)
	local want = tostring(via):upper()
	local have = drives_of(m)
	for _, d in ipairs(have) do
		if d:upper() == want then return d end
	end
	local who = m.describe and m:describe() or "the module"
	return nil, errors.new { op = op, name = "unsupported", retryable = false, target = tostring(via),
		message = string.format('via = "%s": %s has no %s: drive; its drives are %s:',
			tostring(via), who, want, table.concat(have, ":, ")) }
end

-- "x" -> "<default drive>:x"; a name with a drive stays.
local function fullname(m, name, default)
	if type(name) ~= "string" then error("module file name must be a string", 3) end
	if name:match("^%w+:") then return name end
	return (default or drives_of(m)[1]) .. ":" .. name
end

-- The file of an upload or a download: "DRV:x" and its quoted form.
-- @return name, quoted; or nil, err
local function modfile(m, op, name, default)
	name = fullname(m, name, default)
	local q, err = atarg.local_name(name, nil, drives_of(m))
	if not q then err.op = op; return nil, err end
	return name, q
end

--- A file name for a transfer through a drive: "RAM:mftp1.tmp",
-- "UFS:mftp2.tmp", ... counted per modem (the files are the module's).
-- @param m the modem
-- @param drive the drive (default "RAM")
-- @return the name
function M.tmpname(m, drive)
	m.ram_files = (m.ram_files or 0) + 1
	return string.format("%s:mftp%d.tmp", drive or "RAM", m.ram_files)
end

--- Upload into a module file (AT+QFUPL="DRV:x",<size>,<timeout>,0).
-- @param m modem
-- @param name "DRV:x" or "x" (on the default drive)
-- @param source string, Lua file, or function (then opts.size is required)
-- @param opts {size =, timeout = seconds (default 60), ack = false (ACK mode:
--   wait for the module's 'A' after each 1024 bytes)}
-- @param default optional default drive
-- @return bytes, checksum, or nil, err
function M.upload(m, name, source, opts, default)
	opts = util.checkopts(opts, "storage_upload")
	local op = opts.op or "storage_upload"
	local q
	name, q = modfile(m, op, name, default)
	if not name then return nil, q end
	local size = opts.size
	if size == nil and type(source) == "string" then size = #source end
	if size == nil and io.type(source) == "file" then
		local here = source:seek()
		size = source:seek("end") - here
		source:seek("set", here)
	end
	if type(size) ~= "number" then
		error("bad argument to '" .. op .. "' (size needed for this source)", 2)
	end
	local timeout = opts.timeout or 60
	-- ACK mode: the module answers 'A' after each 1 KiB; the host waits for it
	-- (for UARTs without flow control)
	local cmd = atarg.command("QFUPL", q, size, math.floor(timeout), opts.ack and 1 or 0)
	local n, got, cs = transfer.put(m, { op = op, cmd = cmd, target = name, source = source,
		result = "+QFUPL", options = { length = size, timeout_ms = util.ms(timeout + 5), progress = opts.progress,
			ack_every = opts.ack and 1024 or 0 } })
	if not n then return nil, got end
	if got ~= size then
		return nil, errors.new { op = op, target = name, name = "protocol",
			message = string.format("module stored %d of %d bytes", got, size) }
	end
	return n, cs
end

--- Download a module file (AT+QFDWL) into a sink (path, Lua file, function, nil).
-- A path is written as `Session:get` writes one (checked, synced, an
-- existing file replaced only by a complete download).
-- @param default optional default drive
-- @return bytes [, data when sink is nil], or nil, err
function M.download(m, name, sink, opts, default)
	opts = util.checkopts(opts, "storage_download")
	local op = opts.op or "storage_download"
	local q, err
	name, q = modfile(m, op, name, default)
	if not name then return nil, q end
	local f, finish = sink, nil
	if type(sink) == "string" then -- the session's own file: see `localfile.sink`
		local ls
		ls, err = localfile.sink(op, sink, 0)
		if not ls then return nil, err end
		f, finish = ls.file, ls.finish
	end
	local cmd = atarg.command("QFDWL", q)
	local n, derr, data = transfer.get(m, { op = op, cmd = cmd, target = name, sink = f,
		result = "+QFDWL", options = { trailer = "lensum", timeout_ms = util.ms(opts.timeout or 60),
			progress = opts.progress } })
	if finish then
		local ok, ferr = finish(not n and localfile.transfer_error(op, sink, f, derr) or nil)
		if not ok then return nil, ferr end
	end
	if not n then return nil, derr end
	if f == nil then return n, data end
	return n
end

--- List module files (AT+QFLST). @return { {name=, size=, storage=, file=}, ... }, or nil, err
-- @param pattern "DRV:*" or a pattern on the default drive (default "*")
function M.list(m, pattern, default, op)
	op = op or "storage_list"
	local q, err = atarg.quote(fullname(m, pattern or "*", default), "pattern", 60)
	if not q then err.op = op; return nil, err end
	local r
	r, err = m:command(atarg.command("QFLST", q), { op = op })
	if not r then return nil, err end
	return reply.qflst(r.info)
end

--- Delete module files (AT+QFDEL), "DRV:x" or "DRV:*". @return true, or nil, err
function M.delete(m, name, default, op)
	op = op or "storage_delete"
	local q, err = atarg.quote(fullname(m, name, default), "name", 60)
	if not q then err.op = op; return nil, err end
	local r
	r, err = m:command(atarg.command("QFDEL", q), { op = op, target = name })
	if not r then return nil, err end
	return true
end

return M
