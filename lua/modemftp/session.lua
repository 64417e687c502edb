--- modemftp.session: one FTP(S) login on the module (AT+QFTPOPEN .. QFTPCLOSE).
--
-- Created by `m:ftp{...}`. Every method sends the manual's command, waits
-- for OK and then for its `+QFTPxxx: <err>,...` result within rsptimeout,
-- and returns the value or `nil, err` (err.code = chapter 4 <err>,
-- err.protocol_error = chapter 5 FTP reply).
--
-- Transfers (put, get, ato, the listings) go through `modemftp.transfer`;
-- with `via = "ram" | "ufs" | "sd"` they go through a file on that drive
-- of the module (`modemftp.storage`).
-- put and get tell the modem's observers (`m:observe`) how they went.
local core = require "modemftp.core"
local errors = require "modemftp.errors"
local atarg = require "modemftp.atarg"
local reply = require "modemftp.reply"
local listing = require "modemftp.listing"
local storage = require "modemftp.storage"
local transfer = require "modemftp.transfer"
local localfile = require "modemftp.localfile"
local util = require "modemftp.util"
local ftpstate = require "modemftp.ftpstate"

local Session = {}
Session.__index = Session
Session.__name = "modemftp.session"

local SLACK = ftpstate.SLACK -- seconds we wait beyond rsptimeout: the module's own timer fires first

local function argfail(op, err, target)
	err.op = op
	err.target = err.target or target
	return nil, err
end

local FILETYPES = { binary = 0, ascii = 1, [0] = 0, [1] = 1 }

-- ssl = true | "implicit" | "explicit" in the module's numbering: the
-- manual's (0,1) has one FTPS, 1; current firmware's (0-2) has 1 implicit,
-- 2 explicit (Quectel's own SDK numbers them so), and `true` there means
-- implicit on port 990, else explicit (AUTH TLS), as the EC20 does with 1.
-- @return the ssltype, or nil, err
local function ssltype_of(m, caps, ssl, port)
	if not ssl then return 0 end
	local r = caps:range("ssltype")
	local hi = r and r.hi or 1
	if ssl == true then
		if hi >= 2 then return port == 990 and 1 or 2 end
		return 1
	elseif ssl == "implicit" or ssl == "explicit" then
		if hi >= 2 then return ssl == "implicit" and 1 or 2 end
		return nil, errors.new { op = "open", name = "unsupported", retryable = false, target = "ssltype",
			message = string.format('ssl = "%s": %s lists %s, one FTPS type that does not say implicit or '
				.. "explicit; use ssl = true", ssl, m:describe(), caps:accepts("ssltype") or '"ssltype" not at all') }
	end
	return nil, errors.argument("open", 'bad argument \'ssl\': want true, "implicit" or "explicit"')
end

-- The settings of newer firmware, sent only when asked for and listed.
local EXTRA = { "data_address", "restenable", "cache" }

--- Configure and log in (see `Modem:ftp` for the options). Every value is
-- checked (the manual's limits, the module's list and ranges from
-- AT+QFTPCFG=?, its profile's name limits) before the first command goes.
function Session.open(m, o)
	-- first what does not depend on the module: nothing is sent for these
	if type(o.host) ~= "string" then return argfail("open", select(2, atarg.hostname(o.host))) end
	local port, err = atarg.port(o.port or 21)
	if not port then return argfail("open", err, o.host) end
	local user, pass
	user, err = atarg.username(o.user or "anonymous")
	if not user then return argfail("open", err, o.host) end
	pass, err = atarg.password(o.password or "")
	if not pass then return argfail("open", err, o.host) end
	-- integers here; their ranges are the module's (AT+QFTPCFG=?), below
	local ctx
	ctx, err = atarg.int(o.context or m.state.context or 1, "contextid")
	if not ctx then return argfail("open", err, o.host) end
	local filetype = FILETYPES[o.filetype == nil and "binary" or o.filetype]
	if filetype == nil then
		return nil, errors.argument("open", "bad argument 'filetype': want \"binary\" (0) or \"ascii\" (1)")
	end
	local passive = o.passive ~= false
	local rsptimeout
	rsptimeout, err = atarg.int(o.timeout or 90, "rsptimeout")
	if not rsptimeout then return argfail("open", err, o.host) end
	local ssl = o.ssl or false
	local sslctxid
	if ssl then
		if not passive then
			return nil, errors.argument("open", "FTPS needs passive mode: the EC20 has no active mode over SSL (section 1.2)")
		end
		sslctxid, err = atarg.int(o.sslctxid or 1, "sslctxid")
		if not sslctxid then return argfail("open", err, o.host) end
	end
	if m.session and not m.session.closed and m.session.unusable then
		-- ours, but the module answers 603 on it (after 615): close it first
		local old = m.session
		m.session = nil
		old.closed = true
		ftpstate.close(m, old.rsptimeout, "open")
	end
	if m.session and not m.session.closed then
		return nil, errors.new { op = "open", target = o.host, name = "argument", retryable = false,
			message = "a session is already open on this modem (the EC20 has one FTP client): close it first" }
	end
	-- then the module: its identity (read once), its settings list
	local caps
	caps, err = m:ftp_capabilities()
	if not caps then err.op = "open"; return nil, err end
	local who, limits = m:describe(), m:profile().limits
	local host
	host, err = atarg.hostname(o.host, nil, limits.hostname, who)
	if not host then return argfail("open", err) end
	local ssltype
	ssltype, err = ssltype_of(m, caps, ssl, port)
	if not ssltype then return argfail("open", err, o.host) end

	-- {setting, a, b}; ssltype 0 only goes to a module that lists it
	local settings = {
		{ "contextid", ctx }, { "account", o.user or "anonymous", o.password or "" },
		{ "filetype", filetype }, { "transmode", passive and 1 or 0 }, { "rsptimeout", rsptimeout },
	}
	if ssl or caps:has("ssltype") then settings[#settings + 1] = { "ssltype", ssltype } end
	if ssl then settings[#settings + 1] = { "sslctxid", sslctxid } end
	for _, key in ipairs(EXTRA) do
		local v = o[key]
		if v ~= nil then
			if key == "restenable" and type(v) == "boolean" then v = v and 1 or 0 end
			if type(v) == "table" then
				settings[#settings + 1] = { key, v[1], v[2] }
			else
				settings[#settings + 1] = { key, v }
			end
		end
	end
	local cmds = {}
	for i, st in ipairs(settings) do
		cmds[i], err = atarg.cfg(st[1], st[2], st[3], caps, who)
		if not cmds[i] then return argfail("open", err, o.host) end
	end
	if o.password and o.password ~= "" then m.port:secret(o.password) end
	local self = setmetatable({
		modem = m, host = o.host, port = port, user = o.user, rsptimeout = rsptimeout,
		filetype = filetype, passive = passive, ssl = ssl, closed = false,
	}, Session)
	local function login()
		for _, cmd in ipairs(cmds) do
			local r, cerr = m:command(cmd, { op = "open", target = o.host })
			if not r then return nil, cerr end
		end
		m.ftpstate = "opening"
		local r, oerr = self:_result("open", atarg.command("QFTPOPEN", host, port), "+QFTPOPEN", o.host)
		if not r then
			if m.ftpstate == "opening" then m.ftpstate = "unknown" end
			return nil, oerr
		end
		m.ftpstate = "idle"
		return r
	end
	local t0 = core.monotonic_ms()
	local r
	r, err = login()
	if not r and ftpstate.busy(err) then
		-- 603: the module's one FTP client is taken: a session an earlier
		-- process left open (or still closing, or still running a job).
		-- Close it, waiting for the module to say so, and log in again.
		local _, from = ftpstate.stat(m)
		local ok, cerr = ftpstate.close(m, rsptimeout, "open")
		if not ok and m.ftpstate ~= "closed" then
			cerr.message = "the module's FTP session (left by an earlier process?) could not be closed: "
				.. tostring(cerr.message)
			return nil, cerr
		end
		r, err = login()
		if r then
			self.recovered = { from = from or "unknown", ms = core.monotonic_ms() - t0 }
			m.recoveries = (m.recoveries or 0) + 1
		end
	end
	if not r then return nil, err end
	m.session = self
	return self
end

function Session:__tostring()
	return string.format("modemftp.session (%s:%d%s)", self.host, self.port, self.closed and ", closed" or "")
end

function Session:_alive(op, target)
	if not self.closed and not self.modem.port:is_open() then
		return nil, errors.new { op = op, target = target, name = "closed", retryable = true,
			message = "session lost: the modem port is closed" }
	end
	if self.closed then
		return nil, errors.new { op = op, target = target, name = "closed", retryable = true,
			message = self.modem.state.rebooted and "session lost: the module restarted"
				or self.modem.state.pdpdeact and "session lost: PDP context deactivated"
				or "session is closed" }
	end
	if self.unusable then
		return nil, errors.new { op = op, target = target, name = "closed", retryable = true,
			message = "session unusable: " .. self.unusable .. "; close it and log in again" }
	end
	return true
end

-- What an error says about this session. Real modules answer 603 to every
-- FTP command after a failed data connection (615), until the session is
-- closed (capture 09): the session is unusable, a flow logs in again.
-- @return err
function Session:_note(err)
	if errors.is(err) and err.code == 615 and not self.closed then
		self.unusable = "the data connection failed (615): the module answers 603 until the session is closed"
	end
	return err
end

--- Send cmd, wait for OK and the +QFTPxxx result; return err == 0's value.
-- @return value, fields (the result's parsed fields), or nil, err
function Session:_result(op, cmd, prefix, target, early)
	local r, err = self.modem:command(cmd, { op = op, target = target, result = prefix,
		result_timeout = self.rsptimeout + SLACK, early = early, timeout = self.modem.timeout })
	if not r then return nil, self:_note(err) end
	local v, f = transfer.result(op, r.result, prefix, { target = target, command = self.modem.port:redact(cmd) })
	if v == nil then return nil, self:_note(f) end
	return v, f
end

-- The core's options for one transfer of this session: waits bounded by the
-- module's rsptimeout (plus slack), the modem's "+++" guard time.
function Session:_limits(o)
	local t = util.ms(self.rsptimeout + SLACK)
	o.timeout_ms, o.result_timeout_ms, o.guard_ms = t, t, util.ms(self.modem.guard)
	return o
end

--- The current directory (AT+QFTPPWD), e.g. "/logs".
function Session:pwd()
	local ok, err = self:_alive("pwd")
	if not ok then return nil, err end
	local path
	path, err = self:_result("pwd", "AT+QFTPPWD", "+QFTPPWD")
	if path == nil then return nil, err end
	return path
end

-- A method of one name argument: check it, then the session, then send
-- AT+<cmdname>="<name>" and hand its value (and the name) to post.
local function named(op, check, prefix, cmdname, post, limit)
	return function(self, name)
		local max = limit and self.modem:profile().limits[limit]
		local q, err = check(name, nil, max, max and self.modem:describe())
		if not q then return argfail(op, err, name) end
		local ok, aerr = self:_alive(op, name)
		if not ok then return nil, aerr end
		local v
		v, err = self:_result(op, atarg.command(cmdname, q), prefix, name)
		if v == nil then return nil, err end
		return post(v, name)
	end
end

local function yes() return true end

--- Change the current directory (AT+QFTPCWD). @return true, or nil, err
Session.cwd = named("cwd", atarg.path_name, "+QFTPCWD", "QFTPCWD", yes, "path_name")

--- Size of a remote file in bytes (AT+QFTPSIZE).
Session.size = named("size", atarg.file_name, "+QFTPSIZE", "QFTPSIZE", function(v) return v end)
--- Delete a remote file (AT+QFTPDEL). @return true, or nil, err
Session.delete = named("delete", atarg.file_name, "+QFTPDEL", "QFTPDEL", yes)
--- Make a remote folder (AT+QFTPMKDIR). @return true, or nil, err
Session.mkdir = named("mkdir", atarg.folder_name, "+QFTPMKDIR", "QFTPMKDIR", yes)
--- Remove a remote folder (AT+QFTPRMDIR). @return true, or nil, err
Session.rmdir = named("rmdir", atarg.folder_name, "+QFTPRMDIR", "QFTPRMDIR", yes)

--- Modification time of a remote file (AT+QFTPMDTM).
-- @return {year, month, day, hour, min, sec, msec, epoch (UTC), text}, or nil, err
Session.mdtm = named("mdtm", atarg.file_name, "+QFTPMDTM", "QFTPMDTM", function(v, name)
	local t, terr = reply.mdtm(v)
	if not t then terr.op, terr.target = "mdtm", name; return nil, terr end
	return t
end)

--- Rename a remote file or folder (AT+QFTPRENAME).
-- @return true, or nil, err
function Session:rename(old, new)
	local a, err = atarg.old_name(old)
	if not a then return argfail("rename", err, old) end
	local b
	b, err = atarg.new_name(new)
	if not b then return argfail("rename", err, new) end
	local ok, aerr = self:_alive("rename", old)
	if not ok then return nil, aerr end
	local v
	v, err = self:_result("rename", atarg.command("QFTPRENAME", a, b), "+QFTPRENAME", old)
	if v == nil then return nil, err end
	return true
end

--- Bytes moved by the last transfer (AT+QFTPLEN).
function Session:len()
	local n, err = self:_result("len", "AT+QFTPLEN", "+QFTPLEN", nil, true)
	if n == nil then return nil, err end
	return n
end

--- FTP service state (AT+QFTPSTAT; also `m.ftpstate`, see `modemftp.ftpstate`).
-- @return the number (0-4) and its name ("opening", "idle", "transferring",
--   "closing", "closed"), or nil, err
function Session:stat()
	local v, err = self:_result("stat", "AT+QFTPSTAT", "+QFTPSTAT", nil, true)
	if v == nil then return nil, err end
	self.modem.ftpstate = ftpstate.NAMES[v] or "unknown"
	return v, ftpstate.NAMES[v]
end

--- Log out (AT+QFTPCLOSE). Returns only once the module has really closed
-- (its `+QFTPCLOSE` result; real modules may answer OK at once and report
-- the close later, 603 meanwhile: capture 07), within rsptimeout, so that a
-- new login right after works. The session is closed afterwards even if
-- the module reports an error (it has dropped the connection either way).
-- @return true, or nil, err
function Session:close()
	local m = self.modem
	if m.session == self then m.session = nil end
	if self.closed or not m.port:is_open() then
		self.closed = true
		return true -- logged out already, or the module dropped the session
	end
	self.closed = true
	return ftpstate.close(m, self.rsptimeout, "close")
end
Session.__close = Session.close

-- Progress callback adapter: fn(bytes, total).
local function progress_of(opts, total, base)
	local fn = opts.progress
	if fn == nil then return nil end
	if type(fn) ~= "function" then error("option 'progress' must be a function", 3) end
	base = base or 0
	return function(bytes) return fn(base + bytes, total) end
end

-- The source cut after `limit` bytes: a function for the core (streamed,
-- ended with +++).
local function bounded(src, limit)
	local left = limit
	local read
	if type(src) == "string" then
		local pos = 1
		read = function(n)
			local c = src:sub(pos, pos + n - 1)
			pos = pos + #c
			return c ~= "" and c or nil
		end
	elseif io.type(src) == "file" then
		read = function(n) return src:read(n) end
	else
		read = function() return src() end
	end
	return function()
		if left <= 0 then return nil end
		local c = read(math.min(left, 65536))
		if type(c) ~= "string" then return c end -- nil ends it; the core names anything else
		if #c > left then c = c:sub(1, left) end
		left = left - #c
		return c
	end
end

-- A Lua source for put: a path (the session's own file, `localfile`), a
-- Lua file, a function returning chunks then nil, or {string = s}.
-- opts.length (send exactly that many bytes) and opts.limit (stream, at most
-- that many) bound it; a source that is not a regular file needs one.
-- @return what the core takes, the byte count if known (nil: ended with
--   +++), the local file (for its errors, or nil) and a closer; or nil, err
local function open_source(source, startpos, opts)
	local t = type(source)
	local src, length, file, close, regular, what, kind = source, nil, nil, function() end, true, nil, nil
	if t == "string" then
		local f, st = localfile.open_source("put", source)
		if not f then return nil, st end
		src, file, what, kind = f, f, source, st.type
		close = function() f:close() end
		regular = st.type == "file"
		if regular then
			length = f:seek("end")
			if startpos > length then
				f:close()
				return nil, errors.new { name = "argument", message = string.format(
					"startpos %d is past the end of %s (%d bytes)", startpos, source, length), target = source }
			end
			f:seek("set", startpos)
			length = length - startpos
		elseif startpos > 0 then
			f:close()
			return nil, errors.argument("put", source .. " is not a regular file: startpos cannot skip into it")
		end
	elseif io.type(source) == "file" then
		local st = core.stat(source)
		file, what, kind = source, "the source file", st and st.type or "pipe"
		regular = kind == "file"
		local here = regular and source:seek()
		local size = here and source:seek("end")
		if size then
			source:seek("set", here)
			length = size - here
		end
	elseif t == "table" and type(source.string) == "string" then
		src, length = source.string, #source.string
	elseif t ~= "function" then
		error("bad argument #2 to 'put' (path, file, function or {string = s} expected, got " .. t .. ")", 3)
	end
	if opts.length ~= nil or opts.limit ~= nil then
		local key = opts.length ~= nil and "length" or "limit"
		local bound = opts[key]
		if math.type(bound) ~= "integer" or bound < 0 then
			close()
			error("option '" .. key .. "' must be a non-negative integer", 4)
		end
		if key == "length" then
			if length and length < bound then
				close()
				return nil, errors.argument("put", string.format("length %d: the source has %d bytes", bound, length))
			end
			length = bound
		elseif length == nil or length > bound then
			src, length = bounded(src, bound), nil
		end
	elseif not regular then
		close()
		return nil, localfile.unbounded("put", what, kind)
	end
	return src, length, file, close
end

-- put and get tell the modem's observers (m:observe) that a transfer
-- starts, how far it got (observers that asked for progress), and how it
-- ended; run(opts) does the transfer. Without observers it is a tail call.
local function observed(self, op, remote, opts, run)
	local m = self.modem
	local inner = run
	run = function(o)
		if not self.closed and not self.unusable then m.ftpstate = "transferring" end
		local r = table.pack(inner(o))
		local err = r[1] == nil and r[2] or nil
		if m.ftpstate == "transferring" and not (errors.is(err) and err.name == "paused") then
			m.ftpstate = self.closed and "closed" or "idle"
		end
		if err then self:_note(err) end
		return table.unpack(r, 1, r.n)
	end
	local all = m.observers
	if #all == 0 then return run(opts) end
	local watchers = table.move(all, 1, #all, 1, {}) -- an observer may unobserve itself
	local base = { op = op, target = remote, direction = op == "put" and "up" or "down",
		watched = opts.progress ~= nil }
	local function tell(phase, ev)
		for k, v in pairs(base) do ev[k] = v end
		ev.phase = phase
		for _, w in ipairs(watchers) do
			if phase ~= "progress" or w.progress then util.callback("observer", w.fn, ev) end
		end
	end
	tell("start", { bytes = 0 })
	local o, own = opts, opts.progress
	local wants = false
	for _, w in ipairs(watchers) do wants = wants or w.progress end
	if wants and (own == nil or type(own) == "function") then
		o = util.merge(opts, { progress = function(bytes, total)
			tell("progress", { bytes = bytes, total = total })
			if own then return own(bytes, total) end
		end })
	end
	local r = table.pack(run(o))
	local err = r[1] == nil and r[2] or nil
	tell("done", { ok = r[1] ~= nil, err = err, bytes = r[1] or (errors.is(err) and err.bytes) or 0 })
	return table.unpack(r, 1, r.n)
end

-- put in packets of opts.packet bytes: <uploadlen> with <beof> 0 for all but
-- the last, each at the consequent <startpos> (section 2.5's "twice, each
-- time in 1024 bytes"); the data connection stays open between packets.
local function put_packets(self, remote, src, length, startpos, opts)
	local size, err = atarg.uploadlen(opts.packet)
	if not size then return argfail("put", err, remote) end
	if not length or length == 0 then
		return nil, errors.argument("put", "packet needs a source of known, non-zero size")
	end
	local pos = 0
	while pos < length do
		local len = math.min(size, length - pos)
		local bytes, perr = transfer.put(self.modem, { op = "put", target = remote, result = "+QFTPPUT",
			cmd = atarg.put_command(remote, "COM:", startpos + pos, len, pos + len >= length and 1 or 0),
			source = type(src) == "string" and src:sub(pos + 1, pos + len) or src,
			options = self:_limits { length = len, progress = progress_of(opts, length, pos) } })
		if not bytes then
			perr.bytes = pos + (perr.bytes or 0)
			return nil, perr
		end
		pos = pos + len
	end
	return length
end

-- The module drive a transfer goes through: nil for COM (via nil or
-- "com"), else the drive's name ("ram" -> "RAM"), refused when the module
-- has no such drive. @return drive or false (COM), or nil, err
local function via_drive(self, op, via)
	if via == nil or via == "com" then return false end
	if type(via) ~= "string" then return nil, errors.argument(op, "bad option 'via': want \"com\", \"ram\", \"ufs\" or \"sd\"") end
	return storage.drive(self.modem, via, op)
end

-- A put or get command naming a module file: the drive must be the module's.
local function local_checked(self, name)
	return atarg.local_name(name, nil, self.modem:profile().drives)
end

-- put through a drive: QFUPL, then AT+QFTPPUT="remote","UFS:x",startpos, then QFDEL.
local function put_via_ram(self, remote, src, length, startpos, opts, drive)
	if not length then
		return nil, errors.argument("put", "via = \"" .. tostring(opts.via) .. "\" needs a source of known size")
	end
	local m = self.modem
	local tmp = storage.tmpname(m, drive)
	local ok, lerr = local_checked(self, tmp)
	if not ok then lerr.op = "put"; return nil, lerr end
	local n, err = storage.upload(m, tmp, src, { size = length, progress = opts.progress, op = "put" })
	if not n then err.op = "put"; return nil, err end
	local v
	v, err = self:_result("put", atarg.command("QFTPPUT", assert(atarg.file_name(remote)), ok,
		startpos), "+QFTPPUT", remote)
	storage.delete(m, tmp)
	if v == nil then return nil, err end
	if v ~= length then
		return nil, errors.new { op = "put", target = remote, name = "protocol", bytes = v,
			message = string.format("module reports %d bytes transferred, %d were stored", v, length) }
	end
	return v
end

-- What put and get check first: the remote name, the start position (and
-- get's downloadlen), then that the session is alive.
-- @return startpos, or nil, err
local function checked(self, op, remote, opts)
	local q, err = atarg.file_name(remote)
	if not q then return argfail(op, err, remote) end
	local startpos
	startpos, err = atarg.startpos(opts.startpos or 0)
	if not startpos then return argfail(op, err, remote) end
	if op == "get" and opts.downloadlen ~= nil then
		local d, derr = atarg.downloadlen(opts.downloadlen)
		if not d then return argfail(op, derr, remote) end
	end
	local ok, aerr = self:_alive(op, remote)
	if not ok then return nil, aerr end
	return startpos
end

local function put(self, remote, source, opts)
	local startpos, err = checked(self, "put", remote, opts)
	if not startpos then return nil, err end
	local src, length, file, done = open_source(source, startpos, opts)
	if not src then return argfail("put", length, remote) end
	local n
	local drive
	drive, err = via_drive(self, "put", opts.via)
	if drive == nil then done(); return nil, err end
	if drive then
		n, err = put_via_ram(self, remote, src, length, startpos, opts, drive)
	elseif opts.packet then
		n, err = put_packets(self, remote, src, length, startpos, opts)
	else
		local cmd
		if length and length > 0 and length <= 0x7fffffff and not opts.escape and not opts.dtr then
			cmd = atarg.put_command(remote, "COM:", startpos, length, 1)
		else
			cmd = atarg.put_command(remote, "COM:", startpos)
			if opts.length and length then src = bounded(src, length) end -- the core reads to the end
			length = nil
		end
		local count
		n, count = transfer.put(self.modem, { op = "put", cmd = cmd, target = remote, source = src,
			result = "+QFTPPUT", options = self:_limits { length = length or -1, dtr = opts.dtr,
				progress = progress_of(opts, length),
				progress_interval_ms = opts.progress_interval and util.ms(opts.progress_interval) } })
		if not n then
			err = count
		elseif count ~= n then
			n, err = nil, errors.new { op = "put", target = remote, name = "protocol", bytes = count, retryable = true,
				message = string.format("module reports %d bytes transferred, %d were sent", count, n) }
		end
	end
	if not n then err = localfile.transfer_error("put", type(source) == "string" and source or nil, file, err, true) end
	done()
	if not n then return nil, err end
	return n
end

--- Upload a file (AT+QFTPPUT from COM, data mode).
-- A source of known size (a regular file by path or as a Lua file, {string
-- = s}, or any source with `length`) is sent with <uploadlen>/<beof>: no
-- guard-time delay. Unknown size (a function, or any source with `limit`)
-- is ended with "+++" framed by the guard times (section 1.3), or by a DTR
-- drop with `dtr = true` (AT&D1 must be set). A source that is not a
-- regular file (a device such as /dev/zero, a pipe) has no size and may
-- never end: without `length` or `limit` it is refused before anything is
-- sent. A local file that cannot be read is a `local_io` error, a missing
-- one `local_missing` (never retried).
-- @param remote the name on the server (max 255 bytes)
-- @param source local path, Lua file, function returning chunks then nil, or {string = data}
-- @param opts {startpos = 0 (remote offset; for a path also the local offset:
--   resume), progress = fn(bytes, total), escape = false (force "+++"),
--   dtr = false, via = "com"|"ram" (upload through a module RAM file),
--   packet = n (send in packets of n bytes: <beof> 0 until the last),
--   length = n (send exactly n bytes of the source), limit = n (stream the
--   source, ended with "+++", at most n bytes)}
-- @return bytes sent (what was read from the source), or nil, err
--   (err.bytes = bytes that left the host)
function Session:put(remote, source, opts)
	return observed(self, "put", remote, opts or {}, function(o) return put(self, remote, source, o) end)
end

-- A sink for get: a path (the session's own file: `localfile.sink`), a
-- Lua file, a function or nil (collect). Returns what the core takes (false
-- for nil) and a function(err) that ends it: true, or nil and the error to
-- report (the transfer's, or the local file's own failure).
local function open_sink(op, dest, startpos, atomic)
	local t = type(dest)
	if t == "string" then
		local sink, err = localfile.sink(op, dest, startpos, atomic)
		if not sink then return nil, err end
		return sink.file, function(terr)
			return sink.finish(terr and localfile.transfer_error(op, dest, sink.file, terr))
		end
	elseif io.type(dest) == "file" then
		return dest, function(terr)
			if terr then return nil, localfile.transfer_error(op, nil, dest, terr) end
			return true
		end
	elseif t == "function" or t == "nil" then
		return dest or false, function(terr) return terr == nil, terr end
	end
	error("bad argument #2 to '" .. op .. "' (path, file, function or nil expected, got " .. t .. ")", 3)
end

-- get through a drive: AT+QFTPGET="remote","UFS:x",startpos, then QFDWL, then QFDEL.
local function get_via_ram(self, remote, sink, startpos, opts, drive)
	local m = self.modem
	local tmp = storage.tmpname(m, drive)
	local l, err = local_checked(self, tmp)
	if not l then err.op = "get"; return nil, err end
	local v
	v, err = self:_result("get", atarg.command("QFTPGET", assert(atarg.file_name(remote)), l,
		startpos), "+QFTPGET", remote)
	if v == nil then storage.delete(m, tmp); return nil, err end
	local n, data = storage.download(m, tmp, sink, { progress = opts.progress, op = "get" })
	storage.delete(m, tmp)
	if not n then data.op = "get"; return nil, data end
	if n ~= v then
		return nil, errors.new { op = "get", target = remote, name = "protocol", bytes = n,
			message = string.format("module stored %d bytes, %d were read back", v, n) }
	end
	return n, data
end

local function get(self, remote, dest, opts)
	local startpos, err = checked(self, "get", remote, opts)
	if not startpos then return nil, err end
	local drive, derr = via_drive(self, "get", opts.via)
	if drive == nil then return nil, derr end
	local expect
	if opts.size ~= false and self.filetype == 0 then
		local size, serr = self:size(remote)
		if size then
			expect = math.max(size - startpos, 0)
			if opts.downloadlen then expect = math.min(expect, opts.downloadlen) end
		elseif serr.protocol_error == 550 or serr.name == "closed" or serr.name == "rebooted"
			or serr.name == "pdp_deactivated" or serr.name == "timeout" then
			serr.op = "get"
			return nil, serr
		end -- else: the server has no SIZE: end by count alone
	end
	local sink, done = open_sink("get", dest, startpos, opts.atomic)
	if sink == nil then return nil, done end
	local n, data
	if drive then
		n, data = get_via_ram(self, remote, sink or nil, startpos, opts, drive)
	else
		local rerr
		n, rerr, data = transfer.get(self.modem, { op = "get", target = remote, sink = sink or nil, result = "+QFTPGET",
			cmd = atarg.get_command(remote, "COM:", startpos, opts.downloadlen),
			options = self:_limits { expect = expect or -1, progress = progress_of(opts, expect),
				progress_interval_ms = opts.progress_interval and util.ms(opts.progress_interval) } })
		if not n then data = rerr end
		-- what `ato` needs to restart it where the module cannot resume
		self.paused = not n and errors.is(rerr) and rerr.name == "paused"
			and { remote = remote, startpos = startpos, downloadlen = opts.downloadlen } or nil
	end
	local ok, err = done(not n and data or nil)
	if not ok then return nil, err end
	if sink then return n end
	return n, data
end

--- Download a file (AT+QFTPGET to COM, data mode).
-- The end of the data is validated by the module's byte count; unless
-- `size = false` (or filetype is ascii) SIZE is asked first, so that only a
-- trailer at exactly that count can end the file (a file that contains a
-- recorded modem trailer still arrives whole) and progress knows the total.
-- A local path is the session's own file (`modemftp.localfile`): every
-- write, the flush, fsync and close are checked (a failure is a `local_io`
-- error, never retried). A path that holds a file already is replaced only
-- by a complete download (a temporary file beside it, synced, renamed over
-- it); a failure leaves the old file. A new path, or a resume (startpos),
-- is written in place: a failure leaves the partial data there (err.part).
-- @param remote the name on the server
-- @param dest local path (written from startpos), Lua file, function(chunk), or nil (returns the data)
-- @param opts {startpos = 0, downloadlen = nil, progress = fn(bytes, total),
--   size = true, via = "com"|"ram" (through a module RAM file), atomic =
--   nil (see above) | true (always through a temporary file) | false (always
--   in place)}; a progress function that returns false pauses the download
--   (see `ato`)
-- @return bytes received [, data when dest is nil], or nil, err (err.bytes =
--   bytes written, err.part = the local file that keeps them)
function Session:get(remote, dest, opts)
	return observed(self, "get", remote, opts or {}, function(o) return get(self, remote, dest, o) end)
end

--- Re-enter a download's data mode with ATO (section 1.3: allowed for
-- QFTPGET, QFTPLIST and QFTPNLST, not QFTPPUT). A download leaves data mode
-- when its `progress` function returns false: `get` then fails with
-- err.name "paused" and err.bytes; other commands may run; `ato` continues.
-- @param dest sink as for `get` (a path is written from `offset`)
-- @param opts {offset = bytes received so far (err.bytes; required for the
--   count), result = "+QFTPGET" (or "+QFTPLIST", "+QFTPNLST"), expect =
--   total size if known, progress}
-- @return bytes received in this part [, data], or nil, err
function Session:ato(dest, opts)
	opts = opts or {}
	local offset = opts.offset or 0
	local result = opts.result or "+QFTPGET"
	local how, herr = self:_resume_how(result)
	if not how then return nil, herr end
	local sink, done = open_sink("ato", dest, offset, false)
	if sink == nil then return nil, done end
	local m = self.modem
	local cmd, base, expect, paused = "ATO", offset, opts.expect, self.paused
	if how == "restart" then
		-- the module gave the download up at "+++" (an EG800K answers ATO
		-- with NO CARRIER): ask for the rest, from the offset
		local p = self.paused
		cmd = atarg.get_command(p.remote, "COM:", p.startpos + offset,
			p.downloadlen and math.max(p.downloadlen - offset, 1) or nil)
		base, expect = 0, opts.expect and opts.expect - offset or nil
	end
	self.paused = nil
	local bytes, rerr, data = transfer.get(m, { op = "ato", cmd = cmd, sink = sink or nil,
		result = result, options = self:_limits {
			offset = base, expect = expect or -1, progress = progress_of(opts, opts.expect, offset) } })
	-- paused again: the next ato continues from its (cumulative) offset the same way
	if not bytes and errors.is(rerr) and rerr.name == "paused" then self.paused = paused end
	if not bytes and errors.is(rerr) and rerr.name == "no_carrier" then
		-- some modules (EG800K, capture 08) abort a download on "+++",
		-- unlike the manual: there is nothing to resume, the service is idle
		if m.ftpstate == "transferring" then m.ftpstate = "idle" end
		rerr.message = string.format("ATO answered NO CARRIER: the module aborted the download when it left "
			.. "data mode (nothing to resume); get it again from byte %d (s:get with startpos = %d)", offset, offset)
		rerr.retryable = true
	end
	local ok, err = done(not bytes and rerr or nil)
	if not ok then return nil, err end
	if m.ftpstate == "transferring" then m.ftpstate = "idle" end
	if sink then return bytes end
	return bytes, data
end

-- How a download that left data mode goes on, by the module's profile
-- (`m:profile().resume`): "ato"; "restart" (QFTPGET from the offset; a
-- download only); "auto": AT+QFTPSTAT says whether the module still holds
-- it (2: ATO) or gave it up (restart).
-- @return "ato" or "restart", or nil, err
function Session:_resume_how(result)
	local policy = self.modem:profile().resume
	if policy == "ato" then return "ato" end
	if policy == "auto" then
		local v, err = self:_result("ato", "AT+QFTPSTAT", "+QFTPSTAT", nil, true)
		if v == nil then return nil, err end
		if v == 2 then return "ato" end
	end
	if result ~= "+QFTPGET" or not self.paused then
		return nil, errors.new { op = "ato", name = "unsupported", retryable = false,
			message = self.modem:describe() .. " does not resume with ATO (profile resume = " .. policy
				.. ") and only a paused s:get can be restarted from its offset: run it again" }
	end
	return "restart"
end

-- LIST/NLST/MLSD through a drive: the listing into a module file, then QFDWL, then QFDEL.
local function list_via_ram(self, op, cmdname, prefix, qdir, dir, drive)
	local m = self.modem
	local tmp = storage.tmpname(m, drive)
	local l, err = local_checked(self, tmp)
	if not l then err.op = op; return nil, err end
	local v
	v, err = self:_result(op, atarg.command(cmdname, qdir, l), prefix, dir)
	if v == nil then storage.delete(m, tmp); return nil, err end
	local n, data = storage.download(m, tmp, nil, { op = op })
	storage.delete(m, tmp)
	if not n then return nil, data end
	return n, data
end

-- LIST / NLST / MLSD to COM (or RAM), parsed.
function Session:_listing(op, cmdname, prefix, dir, opts, parse)
	opts = opts or {}
	dir = dir or "."
	local q, err = atarg.dirname(dir)
	if not q then return argfail(op, err, dir) end
	local drive, derr = via_drive(self, op, opts.via)
	if drive == nil then return nil, derr end
	local ok, aerr = self:_alive(op, dir)
	if not ok then return nil, aerr end
	local n, text
	if drive then
		n, text = list_via_ram(self, op, cmdname, prefix, q, dir, drive)
	else
		local rerr
		n, rerr, text = transfer.get(self.modem, { op = op, cmd = atarg.command(cmdname, q, '"COM:"'),
			target = dir, result = prefix, options = self:_limits {} })
		if not n then text = rerr end
	end
	if not n then return nil, self:_note(text) end
	if opts.raw then return text end
	return parse(text), text
end

--- Directory listing (AT+QFTPLIST), parsed by `modemftp.listing.list`.
-- @param dir folder ("." current, default)
-- @param opts {raw = true (return the text), via = "ram"}
-- @return entries ({name, type, size, ...}), text; or nil, err
function Session:list(dir, opts)
	return self:_listing("list", "QFTPLIST", "+QFTPLIST", dir, opts, listing.list)
end

--- File names (AT+QFTPNLST): { "a.txt", ... }, text; or nil, err
function Session:nlst(dir, opts)
	return self:_listing("nlst", "QFTPNLST", "+QFTPNLST", dir, opts, listing.nlst)
end

--- Standardized listing (AT+QFTPMLSD, RFC 3659 facts): entries, text; or nil, err
function Session:mlsd(dir, opts)
	return self:_listing("mlsd", "QFTPMLSD", "+QFTPMLSD", dir, opts, listing.mlsd)
end

--- Read a whole remote file into a Lua string. @return data, or nil, err
function Session:read(remote, opts)
	local n, data = self:get(remote, nil, opts)
	if not n then return nil, data end
	return data
end

--- Write a Lua string as a remote file. @return bytes, or nil, err
function Session:write(remote, data, opts)
	if type(data) ~= "string" then error("bad argument #2 to 'write' (string expected)", 2) end
	return self:put(remote, { string = data }, opts)
end

return Session
