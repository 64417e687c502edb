--- modemftp.runner: `modemftp run`: a job script with the modem opened.
--
-- A run goes in steps, each one returning early on failure:
--   1. prepare: the log file, the configuration, the job file, the lock;
--   2. execute: the deadline (--timeout), the modem, the job's context,
--      then the job itself under the interrupt hook;
--   3. clean up: the flows' temporary uploads, the session, the modem, the
--      lock (with a bounded budget after a signal);
--   4. report: the last log line, one stderr line for cron, the --json line.
--
-- A job is a Lua file, loaded as a chunk and called as `job(m, args, job)`:
--   * `m`    the opened modem (`modemftp.modem`), AT handshake done;
--   * `args` the arguments after the job file (`args[0]` is the job path;
--            also the global `arg`, as with `lua5.4 job.lua`);
--   * `job`  the run's context: `job.conf` (the merged configuration),
--            `job.log` (a `modemftp.log`: `job.log:info(fmt, ...)`, `:warn`,
--            `:error`, `:debug`), `job.stats` ({bytes, files, retries}: the
--            `--json` line; bytes and files of every put and get, a flow's
--            or the job's own s:put/s:get, counted through `m:observe`; a
--            flow's file counts once however many retries it took),
--            `job.deadline` (core.monotonic_ms() deadline or
--            nil), `job:remaining()`, `job:ftp(opts)` (PDP context and FTP
--            login from the configuration), `job:flow(opts)` (a
--            `modemftp.flow` that logs in through `job:ftp`, bounded by the
--            deadline).
-- It returns nothing or true on success, `nil, err` (or raises an error
-- object) on failure; the exit status follows `err` (`modemftp.exitstatus`).
-- A plain Lua error it raises (a wrong call of the API) is one line naming
-- the job's file and line (`runner.call_script`), its traceback in the
-- debug log. With --json the line goes alone to stdout: what the job
-- writes to stdout goes to stderr (`core.divert_stdout`), and every
-- failure carries `error_name`.
--
-- Two records outlive a run: with --max-temp-failures N, a count of the
-- job's consecutive temporary failures on its port (`runner.state_path`:
-- the Nth in a row exits 69 instead of 75 or 73, loudly); with --metrics
-- FILE, the run's outcome for Prometheus (`modemftp.metrics`).
--
-- The console verb uses the shared steps too: `runner.configure`,
-- `runner.lock`, `runner.open_modem`, `runner.connect`, `runner.interrupt_hook`.
local core = require "modemftp.core"
local errors = require "modemftp.errors"
local modemftp = require "modemftp"
local flow = require "modemftp.flow"
local config = require "modemftp.config"
local options = require "modemftp.options"
local json = require "modemftp.json"
local Log = require "modemftp.log"
local lock = require "modemftp.lock"
local exitstatus = require "modemftp.exitstatus"
local metrics = require "modemftp.metrics"
local simpin = require "modemftp.simpin"
local util = require "modemftp.util"

local EXIT, RESULT = exitstatus.EXIT, exitstatus.RESULT
local HARD_EXIT_MS = 15000 -- after --timeout's SIGTERM-like stop, the job has this long

local M = {}

local function usage(msg)
	return errors.new { name = "usage", message = msg }
end

-- ------------------------------------------------- steps shared with the console

--- A verb's configuration: files and environment, then its command line.
-- What it warns about (unknown keys, a password on the command line or in
-- a file others may read) goes to `log` at warn level, else to stderr.
-- @param opts the verb's options (`options.parse`)
-- @param log optional logger
-- @return conf and the files read, or nil, err (err.name "usage",
--   "config" or "noperm": `exitstatus.of` gives the status)
function M.configure(opts, log)
	local set, err = options.to_conf(opts)
	if not set then return nil, err end
	local conf, sources, info = config.load { config = opts.config, set = set, strict = opts.strict }
	if not conf then return nil, sources end
	for _, s in ipairs(config.secrets(conf)) do
		if log then log:secret(s) end
	end
	for _, w in ipairs(info.warnings) do
		if log then log:warn("%s", w) else io.stderr:write("modemftp: warning: ", w, "\n") end
	end
	return conf, sources
end

-- The error name of a wrong value: "usage" when it came from the command
-- line (exit 64), "config" from a file or the environment (78).
local function misconfigured(conf, key)
	return config.origin(conf, key) == "command line" and "usage" or "config"
end

-- " (port from FILE)" when a file or the environment set the key.
local function from(conf, key)
	local o = config.origin(conf, key)
	if o and o ~= "command line" then return " (" .. key .. " from " .. o .. ")" end
	return ""
end

--- Name a failure to take the port's lock for what the user must fix:
-- a missing lock directory is a usage or configuration error, a lock file
-- the user may not open is "noperm" (77); the rest is as `lock.acquire` said.
-- @param err the error of `lock.acquire`
-- @param conf the configuration
-- @return the error object
function M.lock_failure(err, conf)
	if err.name == "no_lock_dir" then
		return errors.new { name = misconfigured(conf, "lock_dir"), message = "lock: " .. err.message
			.. from(conf, "lock_dir") .. ": give --lock-dir, lock_dir = or MODEMFTP_LOCK_DIR an existing directory" }
	elseif err.name == "noperm" then
		return errors.new { name = "noperm", message = "lock: " .. err.message
			.. ": fix its mode or owner, or give --lock-dir a directory the user can write" }
	end
	return err
end

--- Name a failure to open the configured port for what the user must fix:
-- a port spec the core cannot take (unknown form, empty host) or that is
-- no serial port: "usage" (64) or "config" (78), by where the port came
-- from; a device the user may not open: "noperm" (77), with the dialout
-- hint; a port where nothing answers like an AT modem (silent, NMEA, the
-- DM interface): "not_a_modem" (69). A device that is missing (unplugged,
-- re-enumerating) or a refused tcp: connection stays as it was (75).
-- @param err the error of `modemftp.open`
-- @param conf the configuration
-- @return the error object
function M.port_failure(err, conf)
	local msg = tostring(err.message)
	local function as(name, text)
		return errors.new { op = err.op, target = err.target, name = name, message = text, retryable = false,
			sync = err.sync }
	end
	if err.name == "argument" then
		return as(misconfigured(conf, "port"), msg .. from(conf, "port"))
	elseif msg:find("Permission denied", 1, true) then
		return as("noperm", msg .. ": the user " .. (util.getenv("USER") or "running modemftp")
			.. " may not open it: add the user to the dialout group (usermod -aG dialout USER, then log in again;"
			.. " systemd: SupplementaryGroups=dialout)")
	elseif msg:find("not a tty", 1, true) or msg:find("Is a directory", 1, true) then
		return as(misconfigured(conf, "port"), msg .. ": not a serial port" .. from(conf, "port"))
	elseif err.op == "sync" and (err.name == "timeout" or err.name == "protocol") then
		return as("not_a_modem", msg .. ": nothing answers like an AT modem; is it the modem's AT port? (an EC20's"
			.. " AT port is its USB interface 2, usually /dev/ttyUSB2, not the DM, NMEA or PPP one: modemftp ports)")
	end
	return err
end

--- Take the configured port's lock, waiting up to conf.lock_timeout.
-- @param conf the configuration
-- @param seconds the wait when conf.lock_timeout is not set
-- @param log optional logger (a debug line)
-- @return the lock, or nil, err (see `lock.acquire` and `lock_failure`)
function M.lock(conf, seconds, log)
	local path = lock.path(conf.port, lock.dir(conf))
	seconds = conf.lock_timeout or seconds
	if log then log:debug("waiting up to %g s for %s", seconds, path) end
	local l, err = lock.acquire(path, seconds)
	if not l then return nil, M.lock_failure(err, conf) end
	return l
end

--- Open the configured modem, with tracing and recording as asked; the
-- configuration's secrets are never traced or recorded.
-- @param conf the configuration
-- @param o {trace = Lua file, record = path}
-- @return the modem, or nil, err (see `port_failure`)
function M.open_modem(conf, o)
	local m, err = modemftp.open(conf.port, {
		baud = conf.baud, rtscts = conf.rtscts, dtr = conf.dtr, guard = conf.guard,
		timeout = conf.at_timeout, init = conf.init, trace = o.trace, record = o.record, boot_wait = conf.boot_wait,
		profile = { resume = conf.module_resume, drives = conf.module_drives,
			hostname_max = conf.module_hostname_max, path_max = conf.module_path_max },
	})
	if not m then return nil, M.port_failure(err, conf) end
	for _, s in ipairs(config.secrets(conf)) do m.port:secret(s) end
	return m
end

--- The QICSGP authentication for a configuration: apn_auth when set;
-- else 3 (PAP or CHAP: the module offers both and the network picks) when
-- there is an APN user, 0 (none) without one.
-- @param c the configuration
-- @return 0-3
function M.apn_auth(c)
	if c.apn_auth then return c.apn_auth end
	if c.apn_user and c.apn_user ~= "" then return 3 end
	return 0
end

--- Log in as the configuration says: the SIM PIN (when `pin` is set and
-- the SIM asks, `modemftp.simpin`), the PDP context (unless `pdp = no`),
-- then QFTPOPEN. An earlier session on the modem is closed first (one client).
-- @param m the modem
-- @param conf the configuration
-- @param o overrides (any configuration key)
-- @return the session, or nil, err
function M.connect(m, conf, o)
	local c = util.merge(conf, o)
	if not c.host then
		return nil, errors.new { op = "open", name = "config", retryable = false,
			message = "no FTP host: set `host =` in the configuration (or -o host=...)" }
	end
	if m.session then pcall(m.session.close, m.session); m.session = nil end
	if m:gone() then
		-- the port went away (USB re-enumeration, ser2net restart): its spec again
		local ok, err = m:reopen()
		if not ok then return nil, err end
	end
	-- after a restart the module's first command resyncs it (m:command);
	-- a session an earlier process left open is closed by m:ftp (603)
	if c.pdp ~= false then
		if c.pin then
			local ok, err = simpin.unlock(m, c.pin)
			if not ok then return nil, err end
		end
		local ok, err = m:pdp { context = c.context, apn = c.apn, user = c.apn_user,
			password = c.apn_password, auth = M.apn_auth(c) }
		if not ok then return nil, err end
	end
	return m:ftp { host = c.host, port = c.ftp_port, user = c.user, password = c.password,
		context = c.context, filetype = c.filetype, passive = c.passive, timeout = c.rsptimeout,
		ssl = c.ssl, sslctxid = c.sslctxid, data_address = c.data_address, restenable = c.restenable,
		cache = c.cache, password_source = c.credentials_from }
end

-- The C functions that wait on the port: an interrupt inside them ends the
-- wait cleanly, so the Lua-level hook must not raise through them. Every
-- port shares one metatable: one port shows them all.
local function port_waits(port)
	local set = {}
	local idx = port and getmetatable(port).__index
	if type(idx) == "table" then
		for _, k in ipairs { "command", "get", "put", "poll" } do
			if idx[k] then set[idx[k]] = true end
		end
	end
	return set
end

--- Make SIGINT/SIGTERM (flag set by core.catch_signals) stop pure Lua code
-- too: a count hook raises an "interrupted" error object once the flag has
-- been set for `grace_ms` (1000) outside any port wait. Port waits return
-- `nil, err` by themselves; the grace lets that error travel up the job's
-- own code (cleanup, logging) before a runaway loop is cut. Remove it with
-- `debug.sethook()`.
-- @param port a modem port (m.port), to know the port waits; nil without a modem
-- @param grace_ms optional grace in ms
function M.interrupt_hook(port, grace_ms)
	grace_ms = grace_ms or 1000
	local waits = port_waits(port)
	local since
	debug.sethook(function()
		if not core.interrupted() then since = nil; return end
		for level = 2, 250 do
			local info = debug.getinfo(level, "f")
			if not info then break end
			if waits[info.func] then since = nil; return end
		end
		local now = core.monotonic_ms()
		since = since or now
		if now - since < grace_ms then return end
		error(errors.new { name = "interrupted", message = "interrupted by signal " .. tostring(core.interrupted()) }, 2)
	end, "", 1000)
end

--- Run a function as the console and the job do: raised error objects stay
-- as they are, anything else gets a traceback.
-- @param fn the function
-- @return xpcall's results, packed (`r.n`)
function M.call(fn, ...)
	return table.pack(xpcall(fn, function(e)
		if errors.is(e) then return e end
		return debug.traceback(tostring(e), 2)
	end, ...))
end

--- Run a script's chunk (a job, a console line) so that a plain Lua error
-- it raises (a wrong call of the API, a bug) becomes one line that says
-- where in the script: "job.lua:12: bad argument #2 to 'put' (...)", named
-- "lua_error", with `err.traceback` for a debug log. The position is the
-- script's own line that was running, whatever module raised. Error
-- objects stay as they are.
-- @param chunkname the script's chunk name ("@" .. path, "=console")
-- @param fn the function
-- @return xpcall's results, packed (`r.n`)
function M.call_script(chunkname, fn, ...)
	return table.pack(xpcall(fn, function(e)
		if errors.is(e) then return e end
		local msg = tostring(e):gsub("\n.*", "")
		-- the script's file alone when its frame is gone (a `return f()` tail call)
		local where = chunkname:sub(2)
		for level = 2, 250 do
			local info = debug.getinfo(level, "Sl")
			if not info then break end
			if info.source == chunkname and info.currentline > 0 then
				where = info.short_src .. ":" .. info.currentline
				break
			end
		end
		-- the position error() put in front names a module when a check raised for its caller
		msg = where .. ": " .. (msg:match("^[^:]+:%d+: (.*)$") or msg)
		return errors.new { name = "lua_error", message = msg, retryable = false,
			traceback = debug.traceback(tostring(e), 2) }
	end, ...))
end

-- ------------------------------------------------------------ the job context

local Job = {}
Job.__index = Job
Job.__name = "modemftp.job"
M.Job = Job

--- Seconds left before --timeout, or nil without one.
-- @return seconds, or nil
function Job:remaining()
	if not self.deadline then return nil end
	return math.max(0, (self.deadline - core.monotonic_ms()) / 1000)
end

--- Activate the PDP context and log in with the configuration.
-- @param o overrides of configuration keys
-- @return session, or nil, err
function Job:ftp(o)
	local s, err = M.connect(self.modem, self.conf, o)
	if s then self.log:info("logged in to %s", tostring(s.host)) end
	return s, err
end

--- A `modemftp.flow` that logs in through `job:ftp`, bounded by the job's
-- deadline, counting into `job.stats`, logging into `job.log`.
-- @param o flow/retry options (attempts defaults to conf.attempts or 5)
-- @return the flow
function Job:flow(o)
	local opts = util.merge({ attempts = self.conf.attempts, deadline = self.deadline, log = self.log,
		stats = self.stats, modem = self.modem }, o)
	if opts.connect == nil and opts.session == nil then
		opts.connect = function() return self:ftp() end
	end
	local f = flow.new(opts)
	self.flows[#self.flows + 1] = f
	-- a flow counts the files it moved itself (once, however many puts or
	-- gets its retries took): the run's observer leaves those to it
	for _, name in ipairs { "upload", "download" } do
		local method = f[name]
		f[name] = function(...)
			self.in_flow = self.in_flow + 1
			local r = table.pack(pcall(method, ...))
			self.in_flow = self.in_flow - 1
			if not r[1] then error(r[2], 0) end
			return table.unpack(r, 2, r.n)
		end
	end
	return f
end

-- ------------------------------------------------------------------- the run

-- Open a file the command writes (--log, --record) so that a new one is
-- private to the user (umask 077: mode 0600); a path that cannot be used
-- is a usage error (64), a permission problem 77, anything else 74.
-- @return the file, or nil, err
function M.open_private(option, path, mode)
	local old = core.umask(63)
	local f, msg, code = io.open(path, mode)
	core.umask(old)
	if f then return f end
	local name = (code == 13 or code == 1) and "noperm" or (code == 2 or code == 20 or code == 21) and "usage" or "local_io"
	return nil, errors.new { name = name, message = option .. ": " .. msg, errno = code }
end

-- Step 1. @return true, or nil, status, err
local function prepare(run, opts, operands)
	if not opts then return nil, EXIT.usage, operands end
	local path = operands[1]
	if not path then return nil, EXIT.usage, usage("no job file (usage: modemftp run [OPTIONS] JOB.lua [ARGS...])") end
	if opts.log then
		local f, err = M.open_private("--log", opts.log, "a")
		if not f then return nil, exitstatus.of(err), err end
		run.logfile, run.log.file = f, f
	end
	local conf, sources = M.configure(opts, run.log)
	if not conf then return nil, exitstatus.of(sources), sources end
	if not conf.port then
		return nil, EXIT.usage, usage("no modem port: give --port, set MODEMFTP_PORT, or `port =` in "
			.. table.concat(config.files(), " or "))
	end
	if opts.record then
		-- the transcript holds whole payloads: the user's only, made before the core writes it
		local f, err = M.open_private("--record", opts.record, "w")
		if not f then return nil, exitstatus.of(err), err end
		f:close()
		core.chmod(opts.record, 384) -- 0600 also when it was there already
	end
	local chunk, lerr = loadfile(path, "t")
	if not chunk then return nil, EXIT.noinput, errors.new { name = "io", message = lerr } end
	run.conf, run.sources, run.chunk = conf, sources, chunk
	core.catch_signals(true)
	if opts.no_lock then return true end
	local l, err = M.lock(conf, 60, run.log)
	if l then
		run.lock = l
		return true
	elseif err.name == "busy" then
		local seconds = conf.lock_timeout or 60
		return nil, EXIT.busy, errors.new { name = "busy",
			message = "port " .. conf.port .. " is busy: " .. err.message .. " (waited " .. seconds .. " s)" }
	elseif err.name == "interrupted" then
		return nil, exitstatus.of(nil), err
	elseif err.name == "io" then
		return nil, EXIT.tempfail, errors.new { name = "io", message = "lock: " .. err.message }
	end
	return nil, exitstatus.of(err), err
end

-- How the job's call ended. @return status, err
local function outcome(run, r)
	local ok, v1, v2 = r[1], r[2], r[3]
	local e = (not ok and v1) or (ok and not v1 and v2) or nil
	if core.deadline_expired() then
		return EXIT.timeout, errors.new { name = "timeout",
			message = "--timeout " .. run.conf.timeout .. " s expired" .. (e and (": " .. tostring(e)) or "") }
	elseif core.interrupted() then
		return exitstatus.of(e), e or errors.new { name = "interrupted",
			message = "interrupted by signal " .. tostring(core.interrupted()) }
	elseif not ok then
		return errors.is(v1) and exitstatus.of(v1) or EXIT.failed, v1
	elseif r.n >= 2 and not v1 then
		return exitstatus.of(v2), v2 or errors.new { name = "unknown_error", message = "the job returned " .. tostring(v1) }
	end
	return EXIT.ok
end

local json_line -- the --json line (defined below, with the report)

-- Step 2. @return status, err
local function execute(run, opts, operands)
	local conf, job = run.conf, run.job
	local path = operands[1]
	run.log:info("job %s on %s%s", path, conf.port,
		#run.sources > 0 and (" (config " .. table.concat(run.sources, ", ") .. ")") or "")
	if conf.timeout and conf.timeout > 0 then
		job.deadline = core.monotonic_ms() + util.ms(conf.timeout)
		core.deadline(util.ms(conf.timeout), HARD_EXIT_MS, EXIT.timeout)
		if run.json_out then
			-- a job that does not stop is ended where no Lua runs: its line is said then
			core.last_words(run.json_out, json_line(run, EXIT.timeout, errors.new { name = "timeout",
				message = string.format("--timeout %g s expired and the job did not stop within %g s more: hard exit",
					conf.timeout, HARD_EXIT_MS / 1000) }, conf.timeout + HARD_EXIT_MS / 1000))
		end
	end
	local m, err = M.open_modem(conf, { trace = opts.verbose and (run.logfile or io.stderr) or nil, record = opts.record })
	if not m then return exitstatus.of(err), err end
	run.m = m
	if m.ident then run.log:debug("module %s, family %s", m:describe(), m.ident.family) end
	if conf.metrics then run.signal = metrics.probe(m) end
	local args = table.move(operands, 2, #operands, 1, { [0] = path })
	job.modem, job.conf, job.log, job.args, job.name = m, conf, run.log, args, path
	m:observe(function(ev)
		if ev.phase == "done" then
			job.stats.bytes = job.stats.bytes + ev.bytes
			run.bytes[ev.direction] = (run.bytes[ev.direction] or 0) + ev.bytes
			-- every file moved whole by s:put/s:get (a flow counts its own: Job:flow)
			if ev.ok and job.in_flow == 0 then job.stats.files = job.stats.files + 1 end
		end
	end)
	_G.arg = args
	M.interrupt_hook(m.port)
	local r = M.call_script("@" .. path, run.chunk, m, args, job)
	debug.sethook()
	return outcome(run, r)
end

-- Step 3. After a signal the flag is cleared so the modem takes commands
-- again, within a bounded budget (the timer _exits if it runs out).
local function clean_up(run, status)
	local m, log = run.m, run.log
	if m then
		if core.interrupted() or core.deadline_expired() then
			if not core.deadline_expired() then core.deadline(10000, 2000, status) end
			core.clear_interrupt()
		elseif status == EXIT.ok then
			core.deadline(0)
		end
		for _, f in ipairs(run.job.flows) do
			local left = f:cleanup()
			if left > 0 then log:warn("%d temporary upload(s) left on the server", left) end
		end
		if m.session then
			local ok, err = m.session:close()
			if not ok then log:debug("close: %s", tostring(err)) end
		end
		m:close()
	end
	if run.lock then run.lock:unlock() end
	core.deadline(0)
end

-- The first line of a failure's text, secrets masked (stderr, --json).
local function one_line(log, err)
	return (log:redact((tostring(err):gsub("\n.*", ""))))
end

-- The --json line's `error_name`: every failure has one (a job's own
-- `return nil, "text"` is "job_failed").
local function failure_name(status, err)
	if status == EXIT.ok then return nil end
	if errors.is(err) then return err.name end
	if status == EXIT.timeout then return "timeout" end
	return "job_failed"
end

-- The --json line.
function json_line(run, status, err, seconds)
	local stats = run.job.stats
	return json.encode {
		result = RESULT[status] or "failed", exit = status, bytes = stats.bytes, files = stats.files,
		retries = stats.retries, duration = seconds, job = run.path,
		error = err ~= nil and one_line(run.log, err) or nil, error_name = failure_name(status, err),
	} .. "\n"
end

-- Step 4.
local function report(run, status, err, seconds)
	local log, stats = run.log, run.job.stats
	if status == EXIT.ok then
		log:info("done in %.1f s: %d bytes, %d files, %d retries", seconds, stats.bytes, stats.files, stats.retries)
	else
		if log.quiet then log:flush() end
		log.quiet = false
		if errors.is(err) and err.traceback then log:debug("%s", err.traceback) end
		log:error("%s (exit %d, %s)", tostring(err), status, RESULT[status] or "?")
		-- cron mails stderr: say it there too
		if log.syslog or log.file then
			if run.bounded then io.stderr:write("modemftp: ", run.bounded, "\n") end
			io.stderr:write("modemftp: ", one_line(log, err), "\n")
		end
		if status == EXIT.usage then io.stderr:write("try 'modemftp run --help'\n") end
	end
	if run.json then
		local out = run.json_out or io.stdout
		if run.json_out then core.last_words(nil) end
		out:write(json_line(run, status, err, seconds))
		out:flush()
	end
	if run.logfile then run.logfile:close() end
end

-- ------------------------------------ consecutive temporary failures, metrics

--- The file that counts a job's consecutive temporary failures on a port:
-- `modemftp.DEVICE.JOB.state` in conf.state_dir, else the lock directory
-- (DEVICE named as for the lock: one file whatever the port's spelling).
-- @param conf the configuration (port, state_dir, lock_dir)
-- @param job the job file's path
-- @return the path
function M.state_path(conf, job)
	local dir = conf.state_dir or lock.dir(conf)
	local dev = lock.path(conf.port, dir):match("/modemftp%.([^/]*)%.lock$")
	local name = job:match("[^/]*$"):gsub("[^%w%._%-]", "_")
	return dir .. "/modemftp." .. dev .. "." .. name .. ".state"
end

-- The count file: "count N" and "since UNIXTIME" lines.
local function read_state(path)
	local f = io.open(path, "r")
	local text = f and f:read("a") or ""
	if f then f:close() end
	return { count = tonumber(text:match("count%s+(%d+)")) or 0, since = tonumber(text:match("since%s+(%d+)")) }
end

local TEMPORARY = { [EXIT.tempfail] = true, [EXIT.busy] = true }

-- With --max-temp-failures N: a temporary failure (75, or 73: the run could
-- not even start) adds one to the job's count on this port, a success
-- clears it, any other end leaves it; at N the run says so at error level
-- and exits 69 (EX_UNAVAILABLE) instead. @return the exit status
local function bound(run, status)
	local conf, max = run.conf, run.conf and run.conf.max_temp_failures
	if not max or max <= 0 or not conf.port or not run.path then return status end
	if status ~= EXIT.ok and not TEMPORARY[status] then return status end
	local path = M.state_path(conf, run.path)
	local st = read_state(path)
	if status == EXIT.ok then
		if st.count > 0 then os.remove(path) end
		return status
	end
	st.count, st.since = st.count + 1, st.since or os.time()
	local ok, msg = metrics.write_file(path, string.format(
		"# modemftp run --max-temp-failures: %s on %s\ncount %d\nsince %d\n", run.path, conf.port, st.count, st.since))
	if not ok then run.log:warn("--max-temp-failures: cannot keep the count: %s", msg) end
	if st.count < max then return status end
	run.bounded = string.format("%d consecutive temporary failures since %s (--max-temp-failures %d)",
		st.count, os.date("!%Y-%m-%dT%H:%M:%SZ", st.since), max)
	run.log:error("%s", run.bounded)
	return EXIT.unavailable
end

-- With --metrics FILE (or `metrics =`): the run's outcome for Prometheus;
-- a file that cannot be written is a warning, not a failure of the run.
local function write_metrics(run, opts, status, seconds)
	local path = (run.conf and run.conf.metrics) or (opts and opts.metrics)
	if not path then return end
	local stats, signal = run.job.stats, run.signal or {}
	local ok, msg = metrics.write(path, {
		job = run.path and run.path:match("[^/]*$") or "", port = run.conf and run.conf.port or "",
		time = os.time(), exit = status, duration = seconds, up = run.bytes.up, down = run.bytes.down,
		files = stats.files, retries = stats.retries, recoveries = run.m and run.m.recoveries or 0,
		rssi = signal.rssi, registration = signal.registration, module = signal.module,
	})
	if not ok then run.log:warn("--metrics %s: %s", path, msg) end
end

-- A usage error still honours --json, for monitoring (options only: an
-- argument of the job named --json is the job's).
local function asks_json(argv)
	for _, a in ipairs(argv) do
		if a == "--json" then return true end
		if a == "--" then break end
	end
	return false
end

--- The --json line of a run that ended in an internal error (exit 70,
-- caught by `modemftp.cli`): monitoring gets its line on every exit.
-- @param argv the arguments after "run"
-- @param message the error's text (its first line is printed)
function M.internal_error(argv, message)
	if not asks_json(argv or {}) then return end
	local out = M.json_out or io.stdout -- the real stdout, when the run diverted it
	out:write(json.encode {
		result = RESULT[EXIT.software], exit = EXIT.software, bytes = 0, files = 0, retries = 0,
		error = "internal error: " .. tostring(message):gsub("\n.*", ""), error_name = "internal",
	}, "\n")
	out:flush()
end

--- The `modemftp run` verb (after `modemftp.cli` parsed its options).
-- @param opts the options (`options.parse`), or nil for a bad command line
-- @param operands the job file and its arguments, or the usage error
-- @param argv the arguments after "run" (for --json after a usage error)
-- @return the exit status
function M.run(opts, operands, argv)
	local started = core.monotonic_ms()
	local run = {
		path = opts and operands[1],
		json = (opts and opts.json) or (not opts and asks_json(argv)),
		log = Log.new { quiet = opts and opts.quiet, verbose = opts and opts.verbose, syslog = opts and opts.syslog },
		job = setmetatable({ stats = { bytes = 0, files = 0, retries = 0 }, flows = {}, in_flow = 0 }, Job),
		bytes = { up = 0, down = 0 },
	}
	if run.json then
		-- the line goes to the real stdout, alone: what the job writes there
		-- (print, io.write, commands it runs) goes to stderr from now on
		run.json_out = core.divert_stdout()
		M.json_out = run.json_out
	end
	local ok, status, err = prepare(run, opts, operands)
	if ok then status, err = execute(run, opts, operands) end
	status = bound(run, status)
	clean_up(run, status)
	local seconds = (core.monotonic_ms() - started) / 1000
	write_metrics(run, opts, status, seconds)
	report(run, status, err, seconds)
	return status
end

return M
