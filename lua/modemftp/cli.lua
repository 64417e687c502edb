--- modemftp.cli: the `modemftp` command: `run`, `console` and `ports`.
--
-- `scripts/modemftp` is a thin wrapper around `cli.main(arg)`, which
-- returns the exit status. Everything here is plain Lua over
-- `modemftp.core`; pieces are exported for the specs (option parsing,
-- configuration files, the logger, JSON, exit codes).
--
-- A job is a Lua file, loaded as a chunk and called as `job(m, args, job)`:
--   * `m`    the opened modem (`modemftp.modem`), AT handshake done;
--   * `args` the arguments after the job file (`args[0]` is the job path;
--            also the global `arg`, as with `lua5.4 job.lua`);
--   * `job`  the run's context: `job.conf` (the merged configuration),
--            `job.log` (logger: `job.log:info(fmt, ...)`, `:warn`, `:error`,
--            `:debug`), `job.stats` ({bytes, files, retries}: the `--json`
--            line), `job.deadline` (core.monotonic_ms() deadline or nil),
--            `job:remaining()`, `job:ftp(opts)` (PDP context and FTP login
--            from the configuration), `job:flow(opts)` (a `modemftp.flow`
--            that logs in through `job:ftp`, bounded by the deadline).
-- It returns nothing or true on success, `nil, err` (or raises an error
-- object) on failure; the exit status follows `err` (see `EXIT`).
local core = require "modemftp.core"
local errors = require "modemftp.errors"

local M = {}

--- Exit statuses (documented in `modemftp --help` and modemftp(1)).
M.EXIT = {
	ok = 0,          -- the job succeeded
	failed = 1,      -- the job failed (a permanent error, or the job said so)
	usage = 64,      -- EX_USAGE: bad command line, configuration, no port
	noinput = 66,    -- EX_NOINPUT: the job file cannot be read or compiled
	software = 70,   -- EX_SOFTWARE: an internal error in modemftp
	busy = 73,       -- the port's lock is held by another modemftp (after --lock-timeout)
	tempfail = 75,   -- EX_TEMPFAIL: a retryable error (network, timeout, ...): a later run may succeed
	timeout = 124,   -- --timeout expired (as timeout(1))
	sigint = 130,    -- interrupted by SIGINT (128 + 2)
	sigterm = 143,   -- interrupted by SIGTERM (128 + 15)
}

local RESULT = {
	[0] = "ok", [1] = "failed", [64] = "usage", [66] = "noinput", [70] = "error", [73] = "busy",
	[75] = "tempfail", [124] = "timeout", [130] = "interrupted", [143] = "interrupted",
}
M.RESULT = RESULT

M.VERSION = "modemftp " .. tostring(core.version)

-- ---------------------------------------------------------------- helpers

local function usage_error(msg)
	return { usage = true, message = msg }
end

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

local function getenv(name)
	local v = os.getenv(name)
	if v == "" then return nil end
	return v
end

-- --------------------------------------------------------------------- json

local function json_string(s)
	return '"' .. s:gsub('[%c"\\]', function(c)
		local map = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
		return map[c] or string.format("\\u%04x", c:byte())
	end) .. '"'
end

--- Encode a value as one line of JSON (tables with keys 1..n are arrays;
-- other tables are objects with sorted keys; functions and userdata as strings).
-- @param v the value
-- @return the JSON text
function M.json(v)
	local t = type(v)
	if v == nil then return "null" end
	if t == "boolean" then return tostring(v) end
	if t == "number" then
		if v ~= v or v == math.huge or v == -math.huge then return "null" end
		if math.type(v) == "integer" then return tostring(v) end
		return (string.format("%.3f", v):gsub("0+$", ""):gsub("%.$", ".0"))
	end
	if t == "string" then return json_string(v) end
	if t == "table" and not errors.is(v) then
		local n = #v
		local keys = {}
		for k in pairs(v) do keys[#keys + 1] = k end
		if n > 0 and #keys == n then
			local out = {}
			for i = 1, n do out[i] = M.json(v[i]) end
			return "[" .. table.concat(out, ",") .. "]"
		end
		table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
		local out = {}
		for _, k in ipairs(keys) do out[#out + 1] = json_string(tostring(k)) .. ":" .. M.json(v[k]) end
		return "{" .. table.concat(out, ",") .. "}"
	end
	return json_string(tostring(v))
end

-- ------------------------------------------------------------ configuration

--- Configuration keys with a type; any other key is kept as a string and
-- passed to the job in `job.conf`.
M.CONF_TYPES = {
	port = "string", baud = "int", rtscts = "bool", dtr = "bool", guard = "number",
	at_timeout = "number", init = "bool",
	lock_timeout = "number", lock_dir = "string", timeout = "number",
	host = "string", ftp_port = "int", user = "string", password = "string",
	context = "int", filetype = "string", passive = "bool", rsptimeout = "int",
	ssl = "bool", sslctxid = "int",
	pdp = "bool", apn = "string", apn_user = "string", apn_password = "string", apn_auth = "int",
	attempts = "int",
}

local BOOL = { ["1"] = true, yes = true, ["true"] = true, on = true, ["0"] = false, no = false, ["false"] = false, off = false }

--- Convert a configuration value to the key's type.
-- @return the value, or nil, message
function M.conf_value(key, text)
	local ty = M.CONF_TYPES[key] or "string"
	if type(text) ~= "string" then return text end
	if ty == "bool" then
		local b = BOOL[text:lower()]
		if b == nil then return nil, string.format("%s: expected yes or no, got %q", key, text) end
		return b
	elseif ty == "int" then
		local n = math.tointeger(tonumber(text))
		if not n then return nil, string.format("%s: expected an integer, got %q", key, text) end
		return n
	elseif ty == "number" then
		local n = tonumber(text)
		if not n or n < 0 then return nil, string.format("%s: expected a number of seconds, got %q", key, text) end
		return n
	end
	return text
end

--- Parse configuration text: `key = value` lines; `#` or `;` starts a
-- comment line; blank lines are ignored; a value may be "double quoted"
-- (then \" and \\ are escapes) to keep surrounding spaces. There are no
-- comments after a value: passwords may contain '#'.
-- @param text the file's content
-- @param name the file name for messages
-- @return table of key -> typed value, or nil, "name:line: message"
function M.parse_config(text, name)
	local conf = {}
	local n = 0
	for line in (text .. "\n"):gmatch("([^\n]*)\n") do
		n = n + 1
		line = trim(line:gsub("\r$", ""))
		if line ~= "" and not line:match("^[#;]") then
			local key, value = line:match("^([%w_%.%-]+)%s*=%s*(.-)$")
			if not key then return nil, string.format("%s:%d: expected 'key = value'", name, n) end
			key = key:lower():gsub("[%-%.]", "_")
			if value:sub(1, 1) == '"' then
				local body = value:match('^"(.*)"$')
				if not body then return nil, string.format("%s:%d: unterminated quoted value", name, n) end
				value = body:gsub("\\(.)", "%1")
			end
			local v, err = M.conf_value(key, value)
			if v == nil then return nil, string.format("%s:%d: %s", name, n, err) end
			conf[key] = v
		end
	end
	return conf
end

--- Read one configuration file.
-- @param path the file
-- @param must_exist when false, a missing file gives an empty table
-- @return table, or nil, message
function M.read_config(path, must_exist)
	local f, msg, code = io.open(path, "r")
	if not f then
		if not must_exist and code == 2 then return {} end -- ENOENT: optional file
		return nil, msg
	end
	local text = f:read("a")
	f:close()
	return M.parse_config(text, path)
end

--- The default configuration files, in the order they are read (a later
-- file overrides an earlier one, key by key).
function M.config_files()
	local list = { "/etc/modemftp.conf" }
	local xdg = getenv("XDG_CONFIG_HOME")
	local home = getenv("HOME")
	if xdg then
		list[#list + 1] = xdg .. "/modemftp.conf"
	elseif home then
		list[#list + 1] = home .. "/.config/modemftp.conf"
	end
	return list
end

--- The merged configuration: files (defaults, or `--config` files, or
-- MODEMFTP_CONFIG, a ':'-separated list), then the environment
-- (MODEMFTP_PORT), then command-line settings; later wins.
-- @param o {config = {paths} or nil, set = {key = value} (already typed)}
-- @return conf, or nil, message
function M.load_config(o)
	o = o or {}
	local conf, sources = {}, {}
	local files, explicit = o.config, true
	if not files or #files == 0 then
		local env = getenv("MODEMFTP_CONFIG")
		if env then
			files = {}
			for p in env:gmatch("[^:]+") do files[#files + 1] = p end
		else
			files, explicit = M.config_files(), false
		end
	end
	for _, path in ipairs(files) do
		local t, err = M.read_config(path, explicit)
		if not t then return nil, err end
		if next(t) then sources[#sources + 1] = path end
		for k, v in pairs(t) do conf[k] = v end
	end
	local port = getenv("MODEMFTP_PORT")
	if port then conf.port = port end
	for k, v in pairs(o.set or {}) do conf[k] = v end
	return conf, sources
end

-- ------------------------------------------------------------------- logging

local Log = {}
Log.__index = Log
M.Log = Log

local LEVELS = { debug = 1, info = 2, warn = 3, error = 4 }
local SYSLOG = { debug = "debug", info = "info", warn = "warning", error = "err" }

--- A logger: timestamped lines to stderr, or to syslog and/or a file.
-- @param o {quiet = bool (buffer everything; `flush` prints it on failure),
--   verbose = bool (debug lines too), syslog = bool, file = Lua file,
--   stderr = Lua file (default io.stderr), secrets = {strings never printed}}
function Log.new(o)
	o = o or {}
	return setmetatable({
		quiet = o.quiet, verbose = o.verbose, syslog = o.syslog, file = o.file,
		stderr = o.stderr or io.stderr, secrets = o.secrets or {}, buffer = {}, tag = o.tag or "modemftp",
	}, Log)
end

--- Replace every known secret in text by "***".
function Log:redact(text)
	for _, s in ipairs(self.secrets) do
		if s ~= "" then
			local i = 1
			while true do
				local a, b = text:find(s, i, true)
				if not a then break end
				text = text:sub(1, a - 1) .. "***" .. text:sub(b + 1)
				i = a + 3
			end
		end
	end
	return text
end

--- Add a secret to redact.
function Log:secret(s)
	if type(s) == "string" and s ~= "" then self.secrets[#self.secrets + 1] = s end
end

--- The line format: "2024-05-01 12:00:00 modemftp[123] info: text".
function Log:format(level, msg)
	return string.format("%s %s[%d] %s: %s", os.date("%Y-%m-%d %H:%M:%S"), self.tag, core.getpid(), level, msg)
end

--- Log one message at a level ("debug", "info", "warn", "error").
function Log:log(level, fmt, ...)
	if level == "debug" and not self.verbose then return end
	local msg = select("#", ...) > 0 and string.format(fmt, ...) or tostring(fmt)
	msg = self:redact(msg:gsub("[\r\n]+", " "))
	local line = self:format(level, msg)
	if self.syslog then core.syslog(SYSLOG[level] or "info", msg) end
	if self.file then
		self.file:write(line, "\n")
		self.file:flush()
	end
	if not self.syslog and not self.file then
		if self.quiet then
			if #self.buffer >= 1000 then table.remove(self.buffer, 1) end
			self.buffer[#self.buffer + 1] = line
		else
			self.stderr:write(line, "\n")
			self.stderr:flush()
		end
	end
end

function Log:debug(...) return self:log("debug", ...) end
function Log:info(...) return self:log("info", ...) end
function Log:warn(...) return self:log("warn", ...) end
function Log:error(...) return self:log("error", ...) end

--- Print what `--quiet` held back (on failure, so cron mails the context).
function Log:flush()
	for _, line in ipairs(self.buffer) do self.stderr:write(line, "\n") end
	self.buffer = {}
	self.stderr:flush()
end

-- ---------------------------------------------------------- option parsing

-- Option tables: long name -> {key =, arg = "NAME" or nil, short =, multi =}.
local COMMON = {
	{ "port", "p", "PORT", "the modem port (forms under ports: below)" },
	{ "baud", nil, "N", "line speed (115200)" },
	{ "rtscts", nil, nil, "RTS/CTS hardware flow control" },
	{ "config", "c", "FILE", "read FILE instead of the default configuration files (repeatable)" },
	{ "set", "o", "KEY=VALUE", "set a configuration key (repeatable; overrides files and environment)" },
	{ "guard", nil, "SECONDS", "'+++' guard time the module expects (1)" },
	{ "lock-timeout", nil, "SECONDS", "wait this long for the port's lock (run: 60, console: 5)" },
	{ "lock-dir", nil, "DIR", "where lock files live (/run/lock, else /tmp; MODEMFTP_LOCK_DIR)" },
	{ "no-lock", nil, nil, "do not take the port's lock" },
	{ "verbose", "v", nil, "debug lines and the AT traffic (passwords redacted)" },
	{ "record", nil, "FILE", "write a transcript of the modem traffic to FILE (src/transcript/README.md)" },
	{ "help", "h", nil, "this help" },
}

local RUN_ONLY = {
	{ "timeout", "t", "SECONDS", "bound the whole job: SIGTERM-like clean abort, exit 124" },
	{ "quiet", "q", nil, "print nothing on success; on failure print the whole log" },
	{ "syslog", nil, nil, "log to syslog (facility user, tag modemftp) instead of stderr" },
	{ "log", nil, "FILE", "append log lines (and --verbose traffic) to FILE instead of stderr" },
	{ "json", nil, nil, "print one JSON status line on stdout at the end" },
}

local CONSOLE_ONLY = {
	{ "no-modem", nil, nil, "do not open a modem (m is nil): a plain Lua console with the modules" },
	{ "log", nil, "FILE", "append log lines (and --verbose traffic) to FILE" },
}

local PORTS_OPTS = {
	{ "json", nil, nil, "print a JSON array" },
	{ "help", "h", nil, "this help" },
}

local function optlist(...)
	local out = {}
	for _, l in ipairs({ ... }) do
		for _, o in ipairs(l) do out[#out + 1] = o end
	end
	return out
end

M.OPTIONS = {
	run = optlist(COMMON, RUN_ONLY),
	console = optlist(COMMON, CONSOLE_ONLY),
	ports = PORTS_OPTS,
}

--- Parse options for a verb.
-- @param verb "run", "console" or "ports"
-- @param argv array of arguments after the verb
-- @param stop_at_operand stop at the first non-option (run: the job file)
-- @return opts (keys are long names with '-' -> '_'; `config` and `set`
--   are lists), operands; or nil, usage error table
function M.parse_options(verb, argv, stop_at_operand)
	local spec = M.OPTIONS[verb]
	local by_long, by_short = {}, {}
	for _, o in ipairs(spec) do
		by_long[o[1]] = o
		if o[2] then by_short[o[2]] = o end
	end
	local opts, operands = { config = {}, set = {} }, {}
	local i = 1
	while i <= #argv do
		local a = argv[i]
		if a == "--" then
			for j = i + 1, #argv do operands[#operands + 1] = argv[j] end
			break
		end
		local o, value, name
		if a:match("^%-%-") then
			name, value = a:match("^%-%-([^=]+)=(.*)$")
			name = name or a:sub(3)
			o = by_long[name]
			if not o then return nil, usage_error("unknown option --" .. name) end
		elseif a:match("^%-.") then
			name = a:sub(2, 2)
			o = by_short[name]
			if not o then return nil, usage_error("unknown option -" .. name) end
			if #a > 2 then
				if o[3] then value = a:sub(3) else
					-- bundled flags: -qv
					for k = 3, #a do
						local f = by_short[a:sub(k, k)]
						if not f or f[3] then return nil, usage_error("bad option " .. a) end
						opts[f[1]:gsub("%-", "_")] = true
					end
				end
			end
		else
			operands[#operands + 1] = a
			if stop_at_operand then
				for j = i + 1, #argv do operands[#operands + 1] = argv[j] end
				break
			end
			o = nil
		end
		if o then
			local key = o[1]:gsub("%-", "_")
			if o[3] then
				if value == nil then
					i = i + 1
					value = argv[i]
					if value == nil then return nil, usage_error("option --" .. o[1] .. " needs " .. o[3]) end
				end
				if key == "config" then
					table.insert(opts.config, value)
				elseif key == "set" then
					local k, v = value:match("^%s*([%w_%.%-]+)%s*=(.*)$")
					if not k then return nil, usage_error("--set wants KEY=VALUE, got " .. value) end
					k = k:lower():gsub("[%-%.]", "_")
					local tv, err = M.conf_value(k, v)
					if tv == nil then return nil, usage_error("--set " .. err) end
					opts.set[k] = tv
				else
					opts[key] = value
				end
			elseif value ~= nil then
				return nil, usage_error("option --" .. o[1] .. " takes no value")
			else
				opts[key] = true
			end
		end
		i = i + 1
	end
	return opts, operands
end

-- Command-line options that are configuration keys too.
local function options_to_conf(opts)
	local set = {}
	for k, v in pairs(opts.set) do set[k] = v end
	local map = { port = "port", baud = "baud", guard = "guard", lock_timeout = "lock_timeout",
		lock_dir = "lock_dir", timeout = "timeout" }
	for opt, key in pairs(map) do
		if opts[opt] ~= nil then
			local v, err = M.conf_value(key, opts[opt])
			if v == nil then return nil, usage_error("--" .. opt:gsub("_", "-") .. ": " .. err) end
			set[key] = v
		end
	end
	if opts.rtscts then set.rtscts = true end
	return set
end

-- ------------------------------------------------------------------- help

local function option_help(list)
	local out = {}
	for _, o in ipairs(list) do
		local head = (o[2] and ("-" .. o[2] .. ", ") or "    ") .. "--" .. o[1] .. (o[3] and (" " .. o[3]) or "")
		out[#out + 1] = string.format("  %-28s %s", head, o[4])
	end
	return table.concat(out, "\n")
end

M.HELP = {}

M.HELP.main = [[
usage: modemftp VERB [OPTIONS] [ARGS]

FTP jobs through a Quectel EC20 modem's AT+QFTP* commands.

verbs:
  run JOB.lua [ARGS...]   run a job script (cron and systemd ready)
  console                 interactive Lua console with the modem opened as m
  ports                   list serial ports (USB VID:PID, Quectel flagged)
  help [VERB]             this text, or a verb's

  modemftp VERB --help    a verb's options;  modemftp --version

The modem port comes from --port, else MODEMFTP_PORT, else `port =` in the
configuration (/etc/modemftp.conf, then ~/.config/modemftp.conf; later wins).
See modemftp(1).
]]

M.HELP.run = [[
usage: modemftp run [OPTIONS] JOB.lua [ARGS...]

Run a job script with the modem opened, holding the port's lock.
The job is called as  local m, args, job = ...  (m: the modem; args: the
arguments after JOB.lua, args[0] = JOB.lua; job: conf, log, stats, deadline,
job:ftp(), job:flow()). It returns true (or nothing) on success, or
nil, err on failure.

options:
%s

ports: /dev/ttyUSB2 (libserialport, else termios), serial:/dev/ttyUSB2,
tty:/dev/pts/3 (termios: ttys and ptys), tcp:HOST:PORT (ser2net raw),
replay:FILE (a recorded transcript, for tests). One lock file per device
(modemftp.NAME.lock in the lock directory) keeps two runs off one modem.

configuration (later wins): /etc/modemftp.conf, ~/.config/modemftp.conf
($XDG_CONFIG_HOME/modemftp.conf) or the --config files (or MODEMFTP_CONFIG,
':'-separated); then MODEMFTP_PORT; then --port/--baud/--set ... Lines are
`key = value`; keys: port baud rtscts guard at_timeout lock_timeout lock_dir
timeout host ftp_port user password context filetype passive rsptimeout ssl
sslctxid pdp apn apn_user apn_password apn_auth attempts, and any other key
the job reads from job.conf.

exit status:
    0  success
    1  the job failed (a permanent error: 530, 550, bad argument, ...)
   64  usage: bad option or configuration, no port configured
   66  the job file cannot be read or compiled
   70  internal error in modemftp
   73  the port is locked by another modemftp (after --lock-timeout)
   75  temporary failure (network, timeout, connection closed, pdpdeact,
       module reboot, port unavailable): a later run may succeed
  124  --timeout expired
  130  interrupted by SIGINT;  143  interrupted by SIGTERM

Signals: SIGINT/SIGTERM abort a transfer cleanly (the module leaves data
mode), the FTP session is closed, unfinished atomic uploads are deleted.
]]

M.HELP.console = [[
usage: modemftp console [OPTIONS]

Interactive Lua 5.4 console: the modem opened as m; s = ftp() logs in with
the configuration; at "AT+CSQ" sends a raw command; results are pretty-
printed; Tab completes names and methods (m:<Tab>); history is kept in
~/.modemftp_history (MODEMFTP_HISTORY). put/get show a progress bar on a
terminal. Ctrl-C aborts the transfer (or line) in progress and returns to
the prompt; Ctrl-D or quit() leaves.

options:
%s

ports: /dev/ttyUSB2 (libserialport, else termios), serial:/dev/ttyUSB2,
tty:/dev/pts/3 (termios: ttys and ptys), tcp:HOST:PORT (ser2net raw),
replay:FILE (a recorded transcript, for tests). One lock file per device
(modemftp.NAME.lock in the lock directory) keeps two runs off one modem.
]]

M.HELP.ports = [[
usage: modemftp ports [--json]

List the serial ports (libserialport): name, USB VID:PID, manufacturer,
product, serial number and description. Quectel modules (VID 2c7c) are
flagged: their AT port is usually the third interface (ttyUSB2).

options:
%s
]]

--- The help text of a verb (or of the command when verb is nil).
function M.help(verb)
	if verb == nil or verb == "main" then return M.HELP.main end
	local text = M.HELP[verb]
	if not text then return nil end
	return string.format(text, option_help(M.OPTIONS[verb]))
end

-- ------------------------------------------------------------------ locks

--- The lock file of a port spec: one name per device, whatever the spelling
-- ("/dev/ttyUSB2", "tty:/dev/ttyUSB2" and a /dev/serial/by-id link share it).
-- @param port the port spec
-- @param dir the lock directory
-- @return path
function M.lock_path(port, dir)
	local dev = port:match("^tty:(.*)$") or port:match("^serial:(.*)$") or port
	if dev:sub(1, 1) == "/" then dev = core.realpath(dev) or dev end
	local name = dev:gsub("^/dev/", ""):gsub("[^%w%._%-]", "_")
	return dir .. "/modemftp." .. name .. ".lock"
end

local function writable_dir(d)
	local probe = d .. "/.modemftp-probe-" .. core.getpid()
	local f = io.open(probe, "w")
	if not f then return false end
	f:close()
	os.remove(probe)
	return true
end

--- The lock directory: conf.lock_dir, MODEMFTP_LOCK_DIR, /run/lock, /tmp.
function M.lock_dir(conf)
	local d = conf.lock_dir or getenv("MODEMFTP_LOCK_DIR")
	if d then return d end
	if writable_dir("/run/lock") then return "/run/lock" end
	return "/tmp"
end

--- Take the port's lock, waiting up to timeout seconds (SIGINT/SIGTERM
-- stop the wait). @return lock, or nil, message, "busy"|"io"|"interrupted"
function M.acquire_lock(path, timeout)
	local deadline = core.monotonic_ms() + math.floor((timeout or 0) * 1000)
	while true do
		local step = math.max(0, math.min(200, deadline - core.monotonic_ms()))
		local lock, err = core.lock(path, step)
		if lock then return lock end
		if err.kind ~= "busy" then return nil, err.message, err.kind end
		if core.interrupted() then return nil, "interrupted while waiting for " .. path, "interrupted" end
		if core.monotonic_ms() >= deadline then return nil, err.message, err.kind end
	end
end

-- --------------------------------------------------------------- the modem

local function secret_keys(conf)
	local out = {}
	for k, v in pairs(conf) do
		if type(v) == "string" and v ~= "" and (k:find("password", 1, true) or k:find("secret", 1, true)) then
			out[#out + 1] = v
		end
	end
	return out
end
M.secrets = secret_keys

--- Open the configured modem, with tracing and recording as asked.
-- @param conf the configuration
-- @param o {trace = Lua file, record = path}
-- @return modem, or nil, err
function M.open_modem(conf, o)
	local modemftp = require "modemftp"
	local m, err = modemftp.open(conf.port, {
		baud = conf.baud, rtscts = conf.rtscts, dtr = conf.dtr, guard = conf.guard,
		timeout = conf.at_timeout, init = conf.init, trace = o.trace, record = o.record,
	})
	if not m then return nil, err end
	for _, s in ipairs(secret_keys(conf)) do m.port:secret(s) end
	return m
end

--- Log in as the configuration says: PDP context (unless `pdp = no`), then
-- QFTPOPEN. An earlier session on the modem is closed first (one client).
-- @param m the modem
-- @param conf the configuration
-- @param o overrides (any configuration key)
-- @return session, or nil, err
function M.connect(m, conf, o)
	local c = {}
	for k, v in pairs(conf) do c[k] = v end
	for k, v in pairs(o or {}) do c[k] = v end
	if not c.host then
		return nil, errors.new { op = "open", name = "argument", retryable = false,
			message = "no FTP host: set `host =` in the configuration (or -o host=...)" }
	end
	if m.session then pcall(m.session.close, m.session); m.session = nil end
	if m.state.rebooted then
		-- the module restarted: redo the handshake that open() did
		local ok, err = m:at("ATE1")
		if ok then ok, err = m:at("AT+CMEE=1") end
		if not ok then return nil, err end
		m.state.rebooted = nil
	end
	if c.pdp ~= false then
		local ok, err = m:pdp { context = c.context, apn = c.apn, user = c.apn_user,
			password = c.apn_password, auth = c.apn_auth }
		if not ok then return nil, err end
	end
	return m:ftp { host = c.host, port = c.ftp_port, user = c.user, password = c.password,
		context = c.context, filetype = c.filetype, passive = c.passive, timeout = c.rsptimeout,
		ssl = c.ssl, sslctxid = c.sslctxid }
end

-- ------------------------------------------------------------ the job context

local Job = {}
Job.__index = Job
M.Job = Job

--- Seconds left before --timeout, or nil without one.
function Job:remaining()
	if not self.deadline then return nil end
	return math.max(0, (self.deadline - core.monotonic_ms()) / 1000)
end

--- Activate the PDP context and log in with the configuration (overrides
-- in `o`). @return session, or nil, err
function Job:ftp(o)
	local s, err = M.connect(self.modem, self.conf, o)
	if s then self.log:info("logged in to %s", tostring(s.host)) end
	return s, err
end

--- A `modemftp.flow` that logs in through `job:ftp`, bounded by the job's
-- deadline, counting into `job.stats`, logging into `job.log`.
-- @param o flow/retry options (attempts defaults to conf.attempts or 5)
function Job:flow(o)
	local flow = require "modemftp.flow"
	local opts = { attempts = self.conf.attempts, deadline = self.deadline, log = self.log, stats = self.stats }
	for k, v in pairs(o or {}) do opts[k] = v end
	if opts.connect == nil and opts.session == nil then
		opts.connect = function() return self:ftp() end
	end
	local f = flow.new(opts)
	self.flows[#self.flows + 1] = f
	return f
end

-- Count the bytes of every put and get (the --json line), however the job
-- moves them.
local function count_bytes(m, stats)
	m:observe(function(ev)
		if ev.phase == "done" then stats.bytes = stats.bytes + ev.bytes end
	end)
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
-- own code (cleanup, logging) before a runaway loop is cut.
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

--- The exit status for a failed run.
-- @param err error object, string or nil
-- @return status
function M.status_of(err)
	if core.deadline_expired() then return M.EXIT.timeout end
	local sig = core.interrupted()
	if sig == 2 then return M.EXIT.sigint end
	if sig == 15 then return M.EXIT.sigterm end
	if errors.is(err) then
		if err.name == "interrupted" then return M.EXIT.sigterm end
		if err.retryable then return M.EXIT.tempfail end
	end
	return M.EXIT.failed
end

-- ----------------------------------------------------------------- verbs

local function out(s) io.stdout:write(s) end

local function run(argv)
	local t0 = core.monotonic_ms()
	local opts, operands = M.parse_options("run", argv, true)
	if opts and opts.help then out(M.help("run")); return M.EXIT.ok end
	local status, result_err
	local json = opts and opts.json
	if not opts then -- a usage error: still honour --json for monitoring
		for _, a in ipairs(argv) do if a == "--json" then json = true end end
	end
	local log = Log.new { quiet = opts and opts.quiet, verbose = opts and opts.verbose, syslog = opts and opts.syslog }
	local job = { stats = { bytes = 0, files = 0, retries = 0 }, flows = {} }
	local m, lock, logfile

	local function finish(code, err)
		status, result_err = code, err
	end

	repeat -- one pass; `break` ends setup early with status set
		if not opts then finish(M.EXIT.usage, operands.message); break end
		if not operands[1] then finish(M.EXIT.usage, "no job file (usage: modemftp run [OPTIONS] JOB.lua [ARGS...])"); break end
		if opts.log then
			local f, msg = io.open(opts.log, "a")
			if not f then finish(M.EXIT.usage, "--log: " .. msg); break end
			logfile = f
			log.file = f
		end
		local set, serr = options_to_conf(opts)
		if not set then finish(M.EXIT.usage, serr.message); break end
		local conf, sources = M.load_config { config = opts.config, set = set }
		if not conf then finish(M.EXIT.usage, "configuration: " .. sources); break end
		for _, s in ipairs(secret_keys(conf)) do log:secret(s) end
		if not conf.port then
			finish(M.EXIT.usage, "no modem port: give --port, set MODEMFTP_PORT, or `port =` in " .. table.concat(M.config_files(), " or "))
			break
		end
		local path = operands[1]
		local chunk, lerr = loadfile(path, "t")
		if not chunk then finish(M.EXIT.noinput, lerr); break end
		local args = { [0] = path }
		for i = 2, #operands do args[i - 1] = operands[i] end

		core.catch_signals(true)
		if not opts.no_lock then
			local lpath = M.lock_path(conf.port, M.lock_dir(conf))
			local lt = conf.lock_timeout or 60
			log:debug("waiting up to %g s for %s", lt, lpath)
			local l, msg, why = M.acquire_lock(lpath, lt)
			if not l then
				if why == "busy" then
					finish(M.EXIT.busy, "port " .. conf.port .. " is busy: " .. msg .. " (waited " .. lt .. " s)")
				elseif why == "interrupted" then
					finish(M.status_of(nil), msg)
				else
					finish(M.EXIT.tempfail, "lock: " .. msg)
				end
				break
			end
			lock = l
		end
		log:info("job %s on %s%s", path, conf.port, #sources > 0 and (" (config " .. table.concat(sources, ", ") .. ")") or "")
		if conf.timeout and conf.timeout > 0 then
			job.deadline = core.monotonic_ms() + math.floor(conf.timeout * 1000)
			core.deadline(math.floor(conf.timeout * 1000), 15000, M.EXIT.timeout)
		end
		local trace
		if opts.verbose then trace = logfile or io.stderr end
		local merr
		m, merr = M.open_modem(conf, { trace = trace, record = opts.record })
		if not m then
			finish(M.status_of(merr), merr)
			break
		end
		count_bytes(m, job.stats)
		job = setmetatable({ modem = m, conf = conf, log = log, args = args, name = path,
			stats = job.stats, flows = {}, deadline = job.deadline }, Job)
		_G.arg = args
		M.interrupt_hook(m.port)
		local r = table.pack(xpcall(chunk, function(e)
			if errors.is(e) then return e end
			return debug.traceback(tostring(e), 2)
		end, m, args, job))
		debug.sethook()
		local ok, v1, v2 = r[1], r[2], r[3]
		local e = (not ok and v1) or (ok and not v1 and v2) or nil
		if core.deadline_expired() then
			finish(M.EXIT.timeout, "--timeout " .. conf.timeout .. " s expired" .. (e and (": " .. tostring(e)) or ""))
		elseif core.interrupted() then
			finish(M.status_of(e), e or ("interrupted by signal " .. tostring(core.interrupted())))
		elseif not ok then
			finish(errors.is(v1) and M.status_of(v1) or M.EXIT.failed, v1)
		elseif r.n >= 2 and not v1 then
			finish(M.status_of(v2), v2 or "the job returned " .. tostring(v1))
		else
			finish(M.EXIT.ok)
		end
	until true

	-- Cleanup: after a signal, clear the flag so the modem takes commands
	-- again, with a bounded budget (the timer _exits if it runs out).
	if m then
		local sig = core.interrupted()
		if sig or core.deadline_expired() then
			if not core.deadline_expired() then core.deadline(10000, 2000, status) end
			core.clear_interrupt()
		elseif status == M.EXIT.ok then
			core.deadline(0)
		end
		for _, f in ipairs(job.flows or {}) do
			local left = f:cleanup()
			if left > 0 then log:warn("%d temporary upload(s) left on the server", left) end
		end
		if m.session then
			local ok, err = m.session:close()
			if not ok then log:debug("close: %s", tostring(err)) end
		end
		m:close()
	end
	if lock then lock:unlock() end
	core.deadline(0)

	local secs = (core.monotonic_ms() - t0) / 1000
	local stats = job.stats
	if status == M.EXIT.ok then
		log:info("done in %.1f s: %d bytes, %d files, %d retries", secs, stats.bytes, stats.files, stats.retries)
	elseif status ~= M.EXIT.ok then
		local msg = tostring(result_err)
		if log.quiet then log:flush() end
		log.quiet = false
		log:error("%s (exit %d, %s)", msg, status, RESULT[status] or "?")
		if log.syslog or log.file then
			-- cron mails stderr: say it there too
			io.stderr:write("modemftp: ", log:redact(msg:gsub("\n.*", "")), "\n")
		end
		if status == M.EXIT.usage and not (opts and opts.help) then
			io.stderr:write("try 'modemftp run --help'\n")
		end
	end
	if json then
		local e = result_err
		out(M.json {
			result = RESULT[status] or "failed", exit = status, bytes = stats.bytes, files = stats.files,
			retries = stats.retries, duration = secs, job = operands and operands[1] or nil,
			error = e ~= nil and log:redact(tostring(e):gsub("\n.*", "")) or nil,
			error_name = errors.is(e) and e.name or nil,
		} .. "\n")
	end
	if logfile then logfile:close() end
	return status
end

--- Where `ports` gets its list: core.ports(), or for tests only the
-- environment variable MODEMFTP_PORTS_FAKE ("none": no ports; "sample": an
-- EC20's four interfaces and an FTDI adapter).
function M.list_ports()
	local fake = getenv("MODEMFTP_PORTS_FAKE")
	if fake == "none" then return {} end
	if fake == "sample" then
		local t = {}
		for i = 0, 3 do
			t[#t + 1] = { name = "/dev/ttyUSB" .. i, description = "Android - Mobile", transport = "usb",
				vid = 0x2c7c, pid = 0x0125, manufacturer = "Quectel", product = "Android",
				serial = "0123456789ABCDEF", quectel = true }
		end
		t[#t + 1] = { name = "/dev/ttyUSB4", description = "FT232R USB UART", transport = "usb", vid = 0x0403,
			pid = 0x6001, manufacturer = "FTDI", product = "FT232R USB UART", serial = "A50285BI", quectel = false }
		t[#t + 1] = { name = "/dev/ttyS0", description = "ttyS0", transport = "native" }
		return t
	end
	return core.ports()
end

local function ports(argv)
	local opts, operands = M.parse_options("ports", argv)
	if not opts then io.stderr:write("modemftp ports: ", operands.message, "\n"); return M.EXIT.usage end
	if opts.help then out(M.help("ports")); return M.EXIT.ok end
	if operands[1] then io.stderr:write("modemftp ports: unexpected argument ", operands[1], "\n"); return M.EXIT.usage end
	local list, err = M.list_ports()
	if not list then io.stderr:write("modemftp ports: ", tostring(err), "\n"); return M.EXIT.failed end
	table.sort(list, function(a, b) return a.name < b.name end)
	if opts.json then
		local rows = {}
		for i, p in ipairs(list) do
			rows[i] = {
				name = p.name, description = p.description, transport = p.transport,
				vid = p.vid and string.format("%04x", p.vid) or nil, pid = p.pid and string.format("%04x", p.pid) or nil,
				manufacturer = p.manufacturer, product = p.product, serial = p.serial, quectel = p.quectel or false,
			}
		end
		out((#rows == 0 and "[]" or M.json(rows)) .. "\n")
		return M.EXIT.ok
	end
	if #list == 0 then
		out("No serial ports found.\n")
		return M.EXIT.ok
	end
	local rows = { { "PORT", "VID:PID", "MANUFACTURER", "PRODUCT", "SERIAL", "" } }
	local nq = 0
	for _, p in ipairs(list) do
		local id = p.vid and string.format("%04x:%04x", p.vid, p.pid or 0) or (p.transport or "-")
		if p.quectel then nq = nq + 1 end
		rows[#rows + 1] = { p.name, id, p.manufacturer or "-", p.product or p.description or "-", p.serial or "-",
			p.quectel and "* Quectel" or "" }
	end
	local w = {}
	for _, r in ipairs(rows) do
		for i, c in ipairs(r) do w[i] = math.max(w[i] or 0, #c) end
	end
	for _, r in ipairs(rows) do
		local cells = {}
		for i, c in ipairs(r) do cells[i] = c .. string.rep(" ", w[i] - #c) end
		out((table.concat(cells, "  "):gsub("%s+$", "")) .. "\n")
	end
	if nq > 0 then
		out(string.format("%d Quectel port(s) (VID 2c7c): the AT port is usually the third (e.g. ttyUSB2).\n", nq))
	end
	return M.EXIT.ok
end

local function console(argv)
	local opts, operands = M.parse_options("console", argv)
	if not opts then io.stderr:write("modemftp console: ", operands.message, "\n"); return M.EXIT.usage end
	if opts.help then out(M.help("console")); return M.EXIT.ok end
	if operands[1] then io.stderr:write("modemftp console: unexpected argument ", operands[1], "\n"); return M.EXIT.usage end
	local set, serr = options_to_conf(opts)
	if not set then io.stderr:write("modemftp console: ", serr.message, "\n"); return M.EXIT.usage end
	local conf, sources = M.load_config { config = opts.config, set = set }
	if not conf then io.stderr:write("modemftp console: configuration: ", sources, "\n"); return M.EXIT.usage end
	local logfile
	if opts.log then
		local f, msg = io.open(opts.log, "a")
		if not f then io.stderr:write("modemftp console: --log: ", msg, "\n"); return M.EXIT.usage end
		logfile = f
	end
	local log = Log.new { verbose = opts.verbose, file = logfile }
	for _, s in ipairs(secret_keys(conf)) do log:secret(s) end
	core.catch_signals(true)
	local m, lock
	if not opts.no_modem then
		if not conf.port then
			io.stderr:write("modemftp console: no modem port: give --port, set MODEMFTP_PORT, or `port =` in the configuration (or --no-modem)\n")
			return M.EXIT.usage
		end
		if not opts.no_lock then
			local lpath = M.lock_path(conf.port, M.lock_dir(conf))
			local l, msg, why = M.acquire_lock(lpath, conf.lock_timeout or 5)
			if not l then
				io.stderr:write("modemftp console: ", msg, "\n")
				return why == "busy" and M.EXIT.busy or M.EXIT.tempfail
			end
			lock = l
		end
		local err
		m, err = M.open_modem(conf, { trace = opts.verbose and (logfile or io.stderr) or nil, record = opts.record })
		if not m then
			io.stderr:write("modemftp console: ", tostring(err), "\n")
			if lock then lock:unlock() end
			return M.status_of(err)
		end
	end
	local code = require("modemftp.console").run { modem = m, conf = conf, log = log }
	core.clear_interrupt()
	if m then
		if m.session then pcall(m.session.close, m.session) end
		m:close()
	end
	if lock then lock:unlock() end
	if logfile then logfile:close() end
	return code or M.EXIT.ok
end

M.verbs = { run = run, ports = ports, console = console }

--- The command: dispatch on the verb.
-- @param argv the script's `arg` table (argv[1] is the verb)
-- @return the exit status
function M.main(argv)
	argv = argv or {}
	local verb = argv[1]
	local rest = table.move(argv, 2, math.max(#argv, 1), 1, {})
	if verb == nil then io.stderr:write(M.help()); return M.EXIT.usage end
	if verb == "-h" or verb == "--help" or (verb == "help" and rest[1] == nil) then
		out(M.help())
		return M.EXIT.ok
	end
	if verb == "--version" or verb == "-V" then out(M.VERSION .. "\n"); return M.EXIT.ok end
	if verb == "help" then
		local h = M.help(rest[1])
		if not h then io.stderr:write("modemftp: no verb '", rest[1], "'\n"); return M.EXIT.usage end
		out(h)
		return M.EXIT.ok
	end
	local fn = M.verbs[verb]
	if not fn then
		io.stderr:write("modemftp: unknown verb '", tostring(verb), "' (run, console, ports; see modemftp --help)\n")
		return M.EXIT.usage
	end
	local ok, code = xpcall(fn, debug.traceback, rest)
	if not ok then
		io.stderr:write("modemftp: internal error: ", tostring(code), "\n")
		return M.EXIT.software
	end
	return code
end

return M
