--- modemftp.flow: the job flows every deployment rewrites by hand.
--
-- * `flow.retry(fn, opts)`: call `fn` again on retryable failures only
--   (`err.retryable`: network, timeout, connection closed, pdpdeact,
--   reboot; never 530, 550 or a bad argument), with exponential backoff and
--   jitter, a maximum number of attempts, a deadline, and a hook that runs
--   between attempts (reopen the session or the PDP context).
-- * `flow.new{...}`: a flow bound to an FTP session (and a way to reconnect)
--   with resumable, atomic transfers:
--   - `f:upload(path, remote)`: upload under a temporary name, resume from
--     the remote size after a failure, check the size, rename into place;
--   - `f:download(remote, path)`: download into `path .. ".part"`, resume from
--     its size after a failure, check the size, `os.rename` into place.
--   A failed flow never leaves a truncated file under the final name.
--
--     local flow = require "modemftp.flow"
--     local f = flow.new { connect = function() return m:ftp { host = "h" } end }
--     assert(f:upload("/var/log/app.log.1", "logs/app.log.1"))
--     f:close()
--
-- Failures are `nil, err` (a `modemftp.errors` object with `err.attempts`);
-- wrong argument types raise.
local core = require "modemftp.core"
local errors = require "modemftp.errors"
local localfile = require "modemftp.localfile"
local util = require "modemftp.util"

local checkopts = util.checkopts

local M = {}

--- Default retry settings (seconds).
M.defaults = {
	attempts = 5,   -- calls of fn at most (1 = no retry)
	base = 2,       -- delay before the 2nd attempt
	factor = 2,     -- each further delay is factor times the last
	max_delay = 60, -- cap of one delay
	jitter = 0.5,   -- a delay d becomes d * (1 - jitter * random()), random() in [0, 1)
}

-- Errors after which the FTP session is gone (or can no longer be trusted):
-- the flow logs in again before the next attempt. Data-connection errors
-- 607 and 616 leave the control connection, and the session, usable; after
-- 615 real modules answer 603 until the session is closed (capture 09).
local SESSION_LOST = {
	data_connection_failed = true,
	closed = true, io = true, timeout = true, no_carrier = true, rebooted = true,
	pdp_deactivated = true, network_error = true, control_connection_closed = true,
	socket_closed_by_peer = true, service_not_available = true, would_block = true,
	service_busy = true, dns_parse_fails = true, protocol = true,
}
M.SESSION_LOST = SESSION_LOST

local function opt(o, key)
	if o[key] ~= nil then return o[key] end
	return M.defaults[key]
end

--- Delay before attempt `n + 1`, in seconds.
-- @param n the attempt that just failed (1 for the first)
-- @param opts base, factor, max_delay, jitter (defaults: `flow.defaults`)
-- @param random optional function returning [0, 1) (default math.random)
-- @return seconds (a number >= 0)
function M.backoff(n, opts, random)
	opts = opts or {}
	local d = opt(opts, "base") * opt(opts, "factor") ^ (n - 1)
	d = math.min(d, opt(opts, "max_delay"))
	local j = opt(opts, "jitter")
	if j > 0 then d = d * (1 - j * (random or math.random)()) end
	return math.max(d, 0)
end

local function interrupted_error(op)
	return errors.new { op = op, name = "interrupted", message = "interrupted by signal " .. tostring(core.interrupted()) }
end

--- Sleep up to `seconds`, in small steps so that SIGINT/SIGTERM (with
-- `core.catch_signals` on) cuts it short.
-- @return true, or false when interrupted
function M.sleep(seconds)
	local deadline = core.monotonic_ms() + util.ms(seconds)
	while true do
		if core.interrupted() then return false end
		local left = deadline - core.monotonic_ms()
		if left <= 0 then return true end
		core.sleep_ms(math.min(left, 100))
	end
end

local function say(log, level, fmt, ...)
	if not log then return end
	local msg = select("#", ...) > 0 and string.format(fmt, ...) or fmt
	if type(log) == "function" then
		log(msg, level)
	elseif log[level] then
		log[level](log, msg)
	end
end

--- Call `fn` until it succeeds, fails for good, or time or attempts run out.
-- @param fn function(attempt) returning a truthy first value on success, or
--   `nil, err` (an error object; a string counts as not retryable)
-- @param opts {attempts, base, factor, max_delay, jitter (see `defaults`),
--   deadline = monotonic ms (core.monotonic_ms clock) after which no new
--   attempt starts, before_retry = function(err, attempt) run before each
--   retry (return `nil, err2` to count as a failed attempt), retry_if =
--   function(err) (default: err.retryable), op = name for messages, log =
--   function(msg, level) or a logger with :info/:warn, stats = table whose
--   `retries` field is incremented, sleep = function(seconds) -> bool,
--   random = function() -> [0, 1)}
-- @return fn's results, or nil, err (err.attempts = attempts made)
function M.retry(fn, opts)
	if type(fn) ~= "function" then error("bad argument #1 to 'retry' (function expected)", 2) end
	opts = checkopts(opts, "retry")
	local attempts = opt(opts, "attempts")
	local sleep = opts.sleep or M.sleep
	local retry_if = opts.retry_if or function(e) return errors.is(e) and e.retryable end
	local attempt = 0
	local hook_err -- a failed before_retry hook: counts as that attempt's failure
	while true do
		attempt = attempt + 1
		local res
		if hook_err then
			res, hook_err = table.pack(nil, hook_err), nil
		else
			res = table.pack(fn(attempt))
			if res[1] then return table.unpack(res, 1, res.n) end
		end
		local err = res[2]
		if not errors.is(err) then
			err = errors.new { op = opts.op, name = "unknown_error", message = tostring(err), retryable = false }
		end
		err.attempts = attempt
		if core.interrupted() or err.name == "interrupted" then return nil, err end
		if not retry_if(err) then return nil, err end
		if attempt >= attempts then
			say(opts.log, "warn", "%s: giving up after %d attempts", tostring(err), attempt)
			return nil, err
		end
		local delay = M.backoff(attempt, opts, opts.random)
		if opts.deadline and core.monotonic_ms() + delay * 1000 >= opts.deadline then
			say(opts.log, "warn", "%s: no time left for attempt %d", tostring(err), attempt + 1)
			err.gave_up = "deadline"
			return nil, err
		end
		say(opts.log, "warn", "%s; attempt %d of %d in %.1f s", tostring(err), attempt + 1, attempts, delay)
		if opts.stats then opts.stats.retries = (opts.stats.retries or 0) + 1 end
		if sleep(delay) == false then return nil, interrupted_error(opts.op) end
		if opts.before_retry then
			local ok, herr = opts.before_retry(err, attempt)
			if not ok then
				hook_err = errors.is(herr) and herr
					or errors.new { op = opts.op, message = tostring(herr or "before_retry failed"), retryable = false }
			end
		end
	end
end

-- -------------------------------------------------------------- the flow

--- Bring the AT channel back to a known state after a transfer that ended
-- badly (payload the host sent after the module had left data mode, a
-- stall, late answers): `m:resync()` (see `modemftp.recover`). A port that
-- went away (USB re-enumeration, ser2net restart) is opened again from its
-- spec first (`m:reopen()`).
-- @param m the modem
-- @return what the sync found (`m.sync`), or nil, err
function M.resync(m)
	if m:gone() then return m:reopen() end
	return m:resync()
end

-- -------------------------------------------------------------- the flow

local Flow = {}
Flow.__index = Flow
Flow.__name = "modemftp.flow"
M.Flow = Flow

--- A flow over one FTP session.
-- @param opts {session = an open Session, and/or connect = function() ->
--   session | nil, err (logs in again after a lost session), modem = the
--   modem (default: the session's; between retries a closed port is
--   reopened, a lost session's AT channel resynced), plus the retry
--   options of `flow.retry` (attempts, base, deadline, log, stats, ...)}
-- @return the flow
function M.new(opts)
	opts = checkopts(opts, "flow.new")
	if opts.session == nil and opts.connect == nil then
		error("bad argument to 'flow.new' (session or connect required)", 2)
	end
	local self = setmetatable({ s = opts.session, connect = opts.connect, modem = opts.modem, pending = {},
		opts = {} }, Flow)
	for k, v in pairs(opts) do
		if k ~= "session" and k ~= "connect" and k ~= "modem" then self.opts[k] = v end
	end
	self.stats = opts.stats or {}
	return self
end

function Flow:__tostring()
	return string.format("modemftp.flow (%s)", self.s and tostring(self.s) or "not connected")
end

-- True when a sync's result (m.sync) lists the state.
local function has_state(sync, state)
	for _, st in ipairs(sync and sync.states or {}) do
		if st == state then return true end
	end
	return false
end

-- A session the flow must not use again: closed (lost), or unusable (the
-- module answers 603 on it after a 615: capture 09).
local function spent(s)
	return s.closed or s.unusable ~= nil
end

--- The session, logging in (through `connect`) when there is none or it is
-- closed or unusable. @return session, or nil, err
function Flow:session()
	if self.s and not spent(self.s) then return self.s end
	if not self.connect then
		return nil, errors.new { op = "connect", name = "closed", message = "session is closed and the flow has no connect function" }
	end
	if self.s then pcall(self.s.close, self.s) end
	local s, err = self.connect()
	if not s then return nil, err end
	self.s = s
	return s
end

-- The retry options of this flow, with per-call overrides.
function Flow:_retry_opts(o, op)
	local r = util.merge(self.opts, o)
	r.op = r.op or op
	r.stats = self.stats
	local user_hook = r.before_retry
	r.before_retry = function(err, attempt)
		local m = self.modem or (self.s and self.s.modem)
		local synced -- what a sync here found (m.sync)
		if m and m:gone() then
			-- the port went away: open its spec again (a retryable failure
			-- while it is not back: counts as this attempt)
			local rerr
			synced, rerr = m:reopen()
			if not synced then return nil, rerr end
			say(r.log, "info", "%s: port opened again (%s)", m.name, tostring(m.device or m.name))
		end
		if self.s and (spent(self.s) or SESSION_LOST[err.name]) and self.connect then
			-- log in again on the next attempt: the EC20 has one FTP client,
			-- so close the old one first (it returns once the module closed)
			say(r.log, "info", "reconnecting after: %s", tostring(err))
			if not synced and self.s.modem and not self.s.modem:gone() then synced = M.resync(self.s.modem) end
			pcall(self.s.close, self.s)
			self.s = nil
		end
		-- the module was still in an upload's data mode: the probe went into
		-- the file (an upload sends it again from byte 0)
		if has_state(synced, "upload") then self.tainted = true end
		if user_hook then return user_hook(err, attempt) end
		return true
	end
	return r
end

--- Run `fn(session, attempt)` with retries (see `flow.retry`); the session
-- is (re)opened as needed before each attempt.
-- @param fn function(s, attempt) -> value | nil, err
-- @param opts retry options for this call
-- @return fn's results, or nil, err
function Flow:run(fn, opts)
	if type(fn) ~= "function" then error("bad argument #1 to 'run' (function expected)", 2) end
	return M.retry(function(attempt)
		local s, err = self:session()
		if not s then return nil, err end
		return fn(s, attempt)
	end, self:_retry_opts(opts, "run"))
end

local function is_missing(err)
	return err.protocol_error == 550 or err.name == "file_unavailable"
end

--- The default temporary name of an atomic upload: ".NAME.part" beside it.
function M.temp_name(remote)
	local dir, base = remote:match("^(.*/)([^/]+)$")
	if not dir then dir, base = "", remote end
	return dir .. "." .. base .. ".part"
end

--- Upload a local file, resumable and (by default) atomic.
-- Attempt 1 writes from byte 0 (a leftover temporary file of an earlier run
-- is overwritten: its bytes may be of another file); a later attempt asks
-- the remote size and continues from there (`startpos`), but only when the
-- local file is still the one the upload began with (same device, inode,
-- size and modification time): a file replaced or rewritten meanwhile is
-- sent again from byte 0, never spliced onto the old one's bytes. With
-- `atomic`, the data goes to a temporary name, its size is checked against
-- the bytes actually read, then it is renamed to `remote` (replacing an
-- older file: if the server refuses to rename over it, the old file is
-- deleted first). On failure the temporary file is deleted when the session
-- still works; it is never renamed. A source that is not a regular file (a
-- device, a pipe) needs `length` or `limit` (see `Session:put`), is never
-- resumed, and is refused before anything is sent without one. A local
-- file that cannot be read is a `local_io` error, a missing one
-- `local_missing`: neither is retried.
-- @param path the local file
-- @param remote the name on the server
-- @param opts {atomic = true, resume = true, verify = true (SIZE check),
--   tmp = name or function(remote) -> name (default `flow.temp_name`),
--   replace = true, progress = fn(bytes, total), progress_interval = seconds,
--   length = n, limit = n (a source that is not a regular file), plus retry
--   options}
-- @return bytes (what was read from the file and is on the server), or nil, err
function Flow:upload(path, remote, opts)
	if type(path) ~= "string" then error("bad argument #1 to 'upload' (path expected)", 2) end
	if type(remote) ~= "string" then error("bad argument #2 to 'upload' (remote name expected)", 2) end
	opts = checkopts(opts, "upload")
	local atomic = opts.atomic ~= false
	local resume = opts.resume ~= false
	local verify = opts.verify ~= false
	local st, serr = localfile.stat("upload", path, true)
	if not st then return nil, serr end
	if st.type == "directory" then return nil, localfile.not_a_file("upload", path) end
	local regular = st.type == "file"
	if not regular and opts.length == nil and opts.limit == nil then
		return nil, localfile.unbounded("upload", path, st.type)
	end
	-- size: what the temporary file must hold (nil: a stream, known once sent);
	-- ident: the local file the bytes on the server came from
	local size, ident = regular and st.size or opts.length, localfile.identity(st)
	local target = remote
	if atomic then
		target = type(opts.tmp) == "function" and opts.tmp(remote) or opts.tmp or M.temp_name(remote)
		if target == remote then error("upload: the temporary name must differ from the final name", 2) end
	end
	local log = util.merge(self.opts, opts).log
	local renaming = false -- a rename was sent: its reply may have been lost
	local began = false -- the temporary file holds bytes of this upload (not of an earlier run)
	local synced -- the modem's last sync (m.sync) this upload saw
	local res, err = self:run(function(s, attempt)
		local startpos = 0
		local m = s.modem
		-- a sync since the last attempt (here or in connect) found the module
		-- still in the upload's data mode: its probe went into the file
		local tainted = self.tainted or (m and m.sync ~= synced and has_state(m.sync, "upload"))
		self.tainted, synced = nil, m and m.sync
		if attempt > 1 and tainted and began then
			say(log, "info", "%s may hold bytes that are not the file's: sending it again", target)
			began = false
		end
		if attempt > 1 and regular then
			local now, e = localfile.stat("upload", path, true)
			if not now then return nil, e end
			if localfile.identity(now) ~= ident then
				say(log, "info", "%s changed since the upload began: sending it again from byte 0", path)
				began, renaming, size, ident = false, false, now.size, localfile.identity(now)
			end
		end
		if attempt > 1 and (resume or renaming) then
			local rs, e = s:size(target)
			if rs then
				if began and regular and resume and rs <= size then startpos = rs end
			elseif not is_missing(e) then
				return nil, e
			elseif renaming then
				-- the temporary file is gone: did the lost rename succeed?
				local fs = s:size(remote)
				if fs == size then return size end
			end
		end
		self.pending[target] = atomic or nil
		local total = size
		if size == nil or startpos < size or size == 0 then
			local n, perr = s:put(target, path, { startpos = startpos, length = opts.length, limit = opts.limit,
				progress = opts.progress, progress_interval = opts.progress_interval })
			began = began or n ~= nil or (perr.bytes or 0) > 0 -- the server truncated it when bytes came
			if not n then return nil, perr end
			total = startpos + n -- what was read, whatever the file's size said
			if not regular then size = total end
		end
		if verify then
			local rs, e = s:size(target)
			if not rs then return nil, e end
			if rs ~= total then
				return nil, errors.new { op = "upload", target = remote, name = "protocol", retryable = true,
					message = string.format("size check failed: server has %d bytes, %d were read from the local file", rs, total) }
			end
		end
		if atomic then
			renaming = true
			local ok, rerr = s:rename(target, remote)
			if not ok and opts.replace ~= false and not rerr.retryable then
				-- some servers do not rename over an existing file
				local fs = s:size(remote)
				if fs then
					local dok, derr = s:delete(remote)
					if not dok then return nil, derr end
					ok, rerr = s:rename(target, remote)
				end
			end
			if not ok then return nil, rerr end
			self.pending[target] = nil
		end
		self.stats.files = (self.stats.files or 0) + 1
		return total
	end, opts)
	if not res then
		err.op = err.op or "upload"
		if atomic then self:cleanup() end
		return nil, err
	end
	return res
end

-- The sidecar of a part file: which version of the remote file the part's
-- bytes are from (its SIZE and MDTM when the part began), so that a resume
-- never splices two versions.
local function meta_name(part) return part .. ".meta" end

local function read_meta(part)
	local f = io.open(meta_name(part), "rb")
	if not f then return nil end
	local text = f:read("a")
	f:close()
	return text and text:match("^remote (.-)\n$")
end

local function write_meta(part, stamp)
	local name = meta_name(part)
	local f, err = localfile.open_sink("download", name, 0)
	if not f then return nil, err end
	local ok, wmsg, wno = f:write("remote ", stamp, "\n")
	if not ok then f:close(); return nil, errors.local_io("download", name, wmsg, wno) end
	return localfile.close("download", name, f, false)
end

-- A part file and its sidecar go (a device or a pipe given as `part` stays).
local function drop_part(part)
	local st = core.stat(part)
	if st and st.type == "file" then os.remove(part) end
	os.remove(meta_name(part))
end

-- What tells one version of a remote file from another: "SIZE MDTM" ("-"
-- for a server without MDTM: then the size alone).
-- @return the stamp, or nil, err (a retryable failure)
local function remote_stamp(s, remote, total)
	local t, e = s:mdtm(remote)
	if not t and e.retryable then return nil, e end
	return string.format("%s %s", tostring(total or "-"), t and (t.text or tostring(t.epoch)) or "-")
end

--- Download a remote file, resumable and (by default) atomic.
-- The data goes to `part` (default `path .. ".part"`); attempt 1 starts
-- from byte 0 unless `continue` is set, later attempts continue from the
-- part's size, but only when the remote file is still the version the part
-- began with (its SIZE and MDTM, kept beside the part in `part .. ".meta"`):
-- a file replaced meanwhile, even by one of the same size, is fetched again
-- from byte 0. The part's size is checked against the remote SIZE, then it
-- is flushed, fsync'ed and closed, renamed to `path` (atomic within one file
-- system) and the folder fsync'ed: after a power loss `path` holds the old
-- file or the whole new one. On failure the part is removed (unless
-- `keep_partial`); `path` is never touched. A local file that cannot be
-- written (a full or read-only disk, a missing folder) is a `local_io`
-- error, never retried.
-- @param remote the name on the server
-- @param path the local file
-- @param opts {atomic = true, resume = true, verify = true, part = path,
--   continue = false, keep_partial = false, progress = fn(bytes, total),
--   progress_interval = seconds, plus retry options}
-- @return bytes (the file size), or nil, err
function Flow:download(remote, path, opts)
	if type(remote) ~= "string" then error("bad argument #1 to 'download' (remote name expected)", 2) end
	if type(path) ~= "string" then error("bad argument #2 to 'download' (path expected)", 2) end
	opts = checkopts(opts, "download")
	local atomic = opts.atomic ~= false
	local resume = opts.resume ~= false
	local verify = opts.verify ~= false
	local part = atomic and (opts.part or path .. ".part") or path
	local log = util.merge(self.opts, opts).log
	local res, err = self:run(function(s, attempt)
		local total, e = s:size(remote)
		if not total then
			if verify or is_missing(e) or not e.retryable then return nil, e end
		end
		local stamp -- the remote version a part may continue
		if resume or opts.continue then
			stamp, e = remote_stamp(s, remote, total)
			if not stamp then return nil, e end
		end
		local startpos = 0
		if (attempt > 1 and resume) or (attempt == 1 and opts.continue) then
			local st = core.stat(part)
			if st and st.type == "file" and stamp and read_meta(part) == stamp then
				startpos = st.size
			elseif st then
				say(log, "info", "%s changed since %s began: fetching it again from byte 0", remote, part)
			end
			if total and startpos > total then startpos = 0 end
		end
		if startpos == 0 and stamp then
			local ok, merr = write_meta(part, stamp)
			if not ok then return nil, merr end
		end
		if not (total and startpos == total and total > 0) then
			local f, ferr = localfile.open_sink("download", part, startpos)
			if not f then return nil, ferr end
			local n, gerr = s:get(remote, f, { startpos = startpos, progress = opts.progress,
				progress_interval = opts.progress_interval })
			local ok, cerr = localfile.close("download", part, f, n ~= nil)
			-- a disk that lost the data is the failure to report: a retry would not help
			if not ok and (n or gerr.retryable) then return nil, cerr end
			if not n then return nil, gerr end
		else
			local ok, serr = core.fsync(part)
			if not ok then return nil, errors.local_io("download", part, serr.message, serr.errno) end
		end
		local st, serr = localfile.stat("download", part)
		if not st then return nil, serr end
		local got = st.size
		if verify and total and got ~= total then
			return nil, errors.new { op = "download", target = remote, name = "protocol", retryable = true,
				message = string.format("size check failed: %d bytes arrived, the server has %d", got, total) }
		end
		if atomic then
			local ok, rerr = localfile.rename("download", part, path)
			if not ok then return nil, rerr end
		end
		os.remove(meta_name(part))
		self.stats.files = (self.stats.files or 0) + 1
		return got
	end, opts)
	if not res then
		err.op = err.op or "download"
		if atomic and not opts.keep_partial then drop_part(part) end
		return nil, err
	end
	return res
end

--- Delete the temporary files of atomic uploads that did not complete
-- (best effort: only while the session works and no signal is pending).
-- Called by `upload` on failure, and by `modemftp run` after an interrupt.
-- @return the number of temporary files still left
function Flow:cleanup()
	local left = 0
	for name in pairs(self.pending) do
		local s = self.s
		if s and not s.closed and not core.interrupted() then
			local ok, err = s:delete(name)
			-- right after an aborted upload the module may still be busy
			-- finishing it (603 until its +QFTPPUT result): wait briefly
			local deadline = core.monotonic_ms() + 3000
			while not ok and (err.name == "service_busy" or err.name == "would_block")
				and core.monotonic_ms() < deadline and not core.interrupted() do
				s.modem:poll(0.3)
				ok, err = s:delete(name)
			end
			if ok or is_missing(err) then self.pending[name] = nil end
		end
		if self.pending[name] then left = left + 1 end
	end
	return left
end

--- Log out (best effort) and forget the session.
function Flow:close()
	if self.s then pcall(self.s.close, self.s) end
	self.s = nil
	return true
end

--- Same as `upload` with atomic publish (the default), for readability.
function Flow:publish(path, remote, opts)
	return self:upload(path, remote, util.merge(checkopts(opts, "publish"), { atomic = true }))
end

--- Same as `download` with an atomic local rename (the default).
function Flow:fetch(remote, path, opts)
	return self:download(remote, path, util.merge(checkopts(opts, "fetch"), { atomic = true }))
end

return M
