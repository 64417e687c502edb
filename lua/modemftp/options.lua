--- modemftp.options: the command line of each verb (`run`, `console`, `ports`,
-- and the one-shots of `modemftp.oneshot`).
--
-- `options.OPTIONS[verb]` lists a verb's options as {long, short, ARG,
-- help}; `options.parse` reads argv against it (long `--name`, `--name=value`,
-- short `-n value`, `-nvalue`, bundled flags `-qv`, `--` ends the options);
-- `options.to_conf` turns the options that are configuration keys into the
-- command line's layer of the configuration (`config.load`'s `set`).
-- Failures are `nil, err` with err.name "usage" (the command exits 64).
local config = require "modemftp.config"
local errors = require "modemftp.errors"

local M = {}

local function usage(msg)
	return errors.new { name = "usage", message = msg }
end

local COMMON = {
	{ "port", "p", "PORT", "the modem port (forms under ports: below)" },
	{ "baud", nil, "N", "line speed (115200)" },
	{ "rtscts", nil, nil, "RTS/CTS hardware flow control" },
	{ "config", "c", "FILE", "read FILE instead of the default configuration files (repeatable)" },
	{ "set", "o", "KEY=VALUE", "set a configuration key (repeatable; overrides files and environment)" },
	{ "strict", nil, nil, "an unknown configuration key is an error, not a warning (also: strict = yes)" },
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
	{ "json", nil, nil, "print one JSON status line on stdout at the end (the job's own stdout goes to stderr)" },
	{ "max-temp-failures", nil, "N", "the Nth temporary failure (75, 73) in a row exits 69, loudly (0: no bound)" },
	{ "state-dir", nil, "DIR", "where --max-temp-failures keeps its count (the lock directory)" },
	{ "metrics", nil, "FILE", "write the run's outcome to FILE (Prometheus text, node_exporter textfile)" },
}

local CONSOLE_ONLY = {
	{ "no-modem", nil, nil, "do not open a modem (m is nil): a plain Lua console with the modules" },
	{ "log", nil, "FILE", "append log lines (and --verbose traffic) to FILE" },
	{ "execute", "e", "CODE", "run CODE as a console line, print its results and exit (status: its failure's)" },
}

-- put get ls rm mkdir mdtm size at status: the one-shots (modemftp.oneshot)
local ONESHOT_ONLY = {
	{ "timeout", "t", "SECONDS", "bound the whole command: clean abort, exit 124" },
	{ "json", nil, nil, "print one JSON line on stdout: the result, or the failure" },
}
M.ONESHOTS = { "put", "get", "ls", "rm", "mkdir", "mdtm", "size", "at", "status" }

local PORTS = {
	{ "json", nil, nil, "print a JSON array" },
	{ "help", "h", nil, "this help" },
}

local function common_and(list)
	local out = table.move(COMMON, 1, #COMMON, 1, {})
	return table.move(list, 1, #list, #out + 1, out)
end

--- Each verb's options: {long name, short letter or nil, ARG name or nil
-- (a flag), help text}.
M.OPTIONS = { run = common_and(RUN_ONLY), console = common_and(CONSOLE_ONLY), ports = PORTS }
for _, verb in ipairs(M.ONESHOTS) do M.OPTIONS[verb] = common_and(ONESHOT_ONLY) end

-- -o KEY=VALUE: typed by the key.
local function set(opts, value)
	local k, v = value:match("^%s*([%w_%.%-]+)%s*=(.*)$")
	if not k then return nil, usage("--set wants KEY=VALUE, got " .. value) end
	k = config.key(k)
	local tv, err = config.value(k, v)
	if tv == nil then return nil, usage("--set " .. err.message) end
	opts.set[k] = tv
	return true
end

-- Store one option; value is nil for a flag given without "=".
local function store(opts, o, value, argv, i)
	local key = o[1]:gsub("%-", "_")
	if not o[3] then
		if value ~= nil then return nil, usage("option --" .. o[1] .. " takes no value") end
		opts[key] = true
		return i
	end
	if value == nil then
		i = i + 1
		value = argv[i]
		if value == nil then return nil, usage("option --" .. o[1] .. " needs " .. o[3]) end
	end
	if key == "config" then
		table.insert(opts.config, value)
	elseif key == "set" then
		local ok, err = set(opts, value)
		if not ok then return nil, err end
	else
		opts[key] = value
	end
	return i
end

-- The arguments after the job file are the job's, but one that is an
-- option of the verb (`run job.lua --port x`) was surely meant for
-- modemftp: a usage error rather than an option silently handed to the
-- job. A first `--` there ends the check (and is dropped): what follows
-- it goes to the job as it is.
local function job_args(rest, by_long, by_short)
	for i, a in ipairs(rest) do
		if a == "--" then
			table.remove(rest, i)
			return rest
		end
		local long = a:match("^%-%-([^=]+)")
		local short = not long and a:match("^%-(%a)")
		if (long and by_long[long]) or (short and by_short[short]) then
			return nil, usage("option " .. a .. " after the job file: put modemftp's options before JOB.lua"
				.. " (arguments for the job that look like them go after --: JOB.lua -- " .. a .. " ...)")
		end
	end
	return rest
end

--- Parse a verb's options.
-- @param verb "run", "console" or "ports"
-- @param argv array of arguments after the verb
-- @param stop_at_operand stop at the first non-option (run: the job file;
--   the rest are the job's arguments, where one of the verb's own options
--   is a usage error unless a `--` comes before it: see `job_args`)
-- @return opts (keys are long names with '-' -> '_'; `config` is a list of
--   files, `set` a table of typed -o settings) and the operands; or nil, err
function M.parse(verb, argv, stop_at_operand)
	local by_long, by_short = {}, {}
	for _, o in ipairs(M.OPTIONS[verb]) do
		by_long[o[1]] = o
		if o[2] then by_short[o[2]] = o end
	end
	local opts, operands = { config = {}, set = {} }, {}
	local i = 1
	while i <= #argv do
		local a = argv[i]
		local o, value
		if a == "--" then
			table.move(argv, i + 1, #argv, #operands + 1, operands)
			break
		elseif a:match("^%-%-") then
			local name
			name, value = a:match("^%-%-([^=]+)=(.*)$")
			name = name or a:sub(3)
			o = by_long[name]
			if not o then return nil, usage("unknown option --" .. name) end
		elseif a:match("^%-.") then
			o = by_short[a:sub(2, 2)]
			if not o then return nil, usage("unknown option -" .. a:sub(2, 2)) end
			if #a > 2 and o[3] then
				value = a:sub(3)
			elseif #a > 2 then -- bundled flags: -qv
				for k = 3, #a do
					local f = by_short[a:sub(k, k)]
					if not f or f[3] then return nil, usage("bad option " .. a) end
					opts[f[1]:gsub("%-", "_")] = true
				end
			end
		else
			operands[#operands + 1] = a
			if stop_at_operand then
				local rest, err = job_args(table.move(argv, i + 1, #argv, 1, {}), by_long, by_short)
				if not rest then return nil, err end
				table.move(rest, 1, #rest, #operands + 1, operands)
				break
			end
		end
		if o then
			local err
			i, err = store(opts, o, value, argv, i)
			if not i then return nil, err end
		end
		i = i + 1
	end
	return opts, operands
end

-- Options that are configuration keys too.
local CONF_KEYS = { "port", "baud", "guard", "lock_timeout", "lock_dir", "timeout", "max_temp_failures", "state_dir",
	"metrics" }

--- The command line's layer of the configuration: the -o settings, then
-- the options that are configuration keys (--port, --baud, --rtscts,
-- --guard, --lock-timeout, --lock-dir, --timeout, --max-temp-failures,
-- --state-dir, --metrics), typed.
-- @param opts what `parse` returned
-- @return table of key -> value (for `config.load`'s `set`), or nil, err
function M.to_conf(opts)
	local out = {}
	for k, v in pairs(opts.set) do out[k] = v end
	for _, key in ipairs(CONF_KEYS) do
		if opts[key] ~= nil then
			local v, err = config.value(key, opts[key])
			if v == nil then return nil, usage("--" .. key:gsub("_", "-") .. ": " .. err.message) end
			out[key] = v
		end
	end
	if opts.rtscts then out.rtscts = true end
	return out
end

return M
