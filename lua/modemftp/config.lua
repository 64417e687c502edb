--- modemftp.config: the command's configuration: files, environment, -o.
--
-- Read in this order, a later value overriding an earlier one key by key:
-- the files (/etc/modemftp.conf, /etc/modemftp/modemftp.conf (the one
-- `make install` puts in place), then ~/.config/modemftp.conf; or instead
-- the --config files, or MODEMFTP_CONFIG, a ':'-separated list), then the
-- environment (MODEMFTP_PORT, MODEMFTP_PASSWORD, MODEMFTP_APN_PASSWORD,
-- MODEMFTP_PIN), then the command line (`options.to_conf`). Lines are
-- `key = value`; `#` or `;` starts a comment line; a value may be "double
-- quoted" (then \" and \\ are escapes) to keep surrounding spaces. There
-- are no comments after a value: passwords may contain '#'.
--
-- Keys in `config.TYPES` are typed (times in seconds) and checked against
-- `config.LIMITS`; any other key is kept as a string for the job
-- (`job.conf`), with a warning that names the nearest known key unless it
-- starts with `job_` (an error with `strict`). `password_file`,
-- `apn_password_file` and `pin_file` name a file whose first line is the
-- secret. Failures are `nil, err`: err.name "config" for what a file or the
-- environment says (the command exits 78), "usage" for the command line
-- (64), "noperm" for a file the user may not read (77). `credentials_from` is set
-- by the loader, not read: where `password` came from (a file, a variable,
-- "-o password=..."), for the message of a refused login.
local errors = require "modemftp.errors"
local util = require "modemftp.util"
local core = require "modemftp.core"

local M = {}

--- Configuration keys with a type: "string", "int", "count" (an integer,
-- not negative), "bool" or "number" (seconds, not negative).
M.TYPES = {
	port = "string", baud = "int", rtscts = "bool", dtr = "bool", guard = "number",
	at_timeout = "number", init = "bool", boot_wait = "number",
	lock_timeout = "number", lock_dir = "string", timeout = "number",
	host = "string", ftp_port = "int", user = "string", password = "string", password_file = "string",
	context = "int", filetype = "string", passive = "bool", rsptimeout = "int",
	ssl = "bool", sslctxid = "int",
	pdp = "bool", apn = "string", apn_user = "string", apn_password = "string", apn_password_file = "string",
	apn_auth = "int", pin = "string", pin_file = "string",
	attempts = "int", strict = "bool",
	max_temp_failures = "count", state_dir = "string", metrics = "string",
}

--- The line speeds termios knows (an EC20 UART takes 4800-921600; over
-- USB the speed is not used, but it must still be one the tty accepts).
M.BAUDS = { 300, 600, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600,
	1000000, 1500000, 2000000, 3000000, 4000000 }
local BAUD = {}
for _, b in ipairs(M.BAUDS) do BAUD[b] = true end

--- Ranges of the numeric keys, inclusive: the manual's (context 1-16,
-- rsptimeout 20-180 s, sslctxid 0-5, QICSGP auth 0-3), else what is sane
-- for a run (a guard time above 5 s, a job of more than 30 days).
M.LIMITS = {
	guard = { 0, 5 }, at_timeout = { 0, 3600 }, boot_wait = { 0, 600 }, lock_timeout = { 0, 86400 },
	timeout = { 0, 30 * 86400 }, ftp_port = { 1, 65535 }, context = { 1, 16 }, rsptimeout = { 20, 180 },
	sslctxid = { 0, 5 }, apn_auth = { 0, 3 }, attempts = { 1, 100 }, max_temp_failures = { 0, 1000000 },
}

-- Strings that mean nothing empty.
local NONEMPTY = { port = true, host = true, lock_dir = true, state_dir = true, metrics = true,
	password_file = true, apn_password_file = true, pin_file = true }

--- The secrets a file may hold instead: secret key -> its file key, and
-- the environment variable that may hold it.
M.SECRET_FILES = { password = "password_file", apn_password = "apn_password_file", pin = "pin_file" }
M.SECRET_ENV = { password = "MODEMFTP_PASSWORD", apn_password = "MODEMFTP_APN_PASSWORD", pin = "MODEMFTP_PIN" }

local BOOL = { ["1"] = true, yes = true, ["true"] = true, on = true, ["0"] = false, no = false, ["false"] = false, off = false }

local function fail(name, fmt, ...)
	return errors.new { name = name, message = string.format(fmt, ...) }
end

local function usage(fmt, ...) return fail("usage", fmt, ...) end

local function range(key, n, text)
	local lim = M.LIMITS[key]
	if key == "baud" and not BAUD[n] then
		return nil, usage("%s: expected a line speed (9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600, ...), got %q",
			key, text)
	end
	if lim and (n < lim[1] or n > lim[2]) then
		return nil, usage("%s: %s is out of range (%s-%s)", key, text, lim[1], lim[2])
	end
	return n
end

--- Convert a configuration value (text) to the key's type.
-- @param key the key ("baud", ...)
-- @param text the value as written (a value that is not a string is kept)
-- @return the value, or nil, err ("key: expected ...", err.name "usage")
function M.value(key, text)
	local ty = M.TYPES[key] or "string"
	if type(text) ~= "string" then return text end
	if ty == "bool" then
		local b = BOOL[text:lower()]
		if b == nil then return nil, usage("%s: expected yes or no, got %q", key, text) end
		return b
	elseif ty == "int" then
		local n = math.tointeger(tonumber(text))
		if not n then return nil, usage("%s: expected an integer, got %q", key, text) end
		return range(key, n, text)
	elseif ty == "count" then
		local n = math.tointeger(tonumber(text))
		if not n or n < 0 then return nil, usage("%s: expected a whole number, 0 or more, got %q", key, text) end
		return range(key, n, text)
	elseif ty == "number" then
		local n = tonumber(text)
		if not n or n < 0 or n ~= n then return nil, usage("%s: expected a number of seconds, got %q", key, text) end
		return range(key, n, text)
	end
	if NONEMPTY[key] and text == "" then return nil, usage("%s: empty", key) end
	-- never quote a PIN back: it is a secret
	if key == "pin" and text ~= "" and not text:match("^%d%d%d%d%d?%d?%d?%d?$") then
		return nil, usage("pin: expected 4 to 8 digits")
	end
	return text
end

--- A key as written ("lock-timeout", "FTP.Port") as the key it means
-- ("lock_timeout", "ftp_port").
-- @param key the key as written
-- @return the key
function M.key(key)
	return (key:lower():gsub("[%-%.]", "_"))
end

-- Levenshtein distance (keys are short).
local function distance(a, b)
	local prev = {}
	for j = 0, #b do prev[j] = j end
	for i = 1, #a do
		local cur = { [0] = i }
		for j = 1, #b do
			local cost = a:byte(i) == b:byte(j) and 0 or 1
			cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
		end
		prev = cur
	end
	return prev[#b]
end

--- The known key nearest to an unknown one, when it is near enough to be
-- a typing mistake (at most 2 edits, 1 for keys of 4 letters or less).
-- @param key the unknown key
-- @return the known key, or nil
function M.nearest(key)
	local best, bestd
	for k in pairs(M.TYPES) do
		local d = distance(key, k)
		if not bestd or d < bestd or (d == bestd and k < best) then best, bestd = k, d end
	end
	if bestd and bestd <= (#key <= 4 and 1 or 2) then return best end
	return nil
end

--- What to say about a key: nil for a known key or a job's own (`job_*`),
-- else "unknown key 'pasword' (did you mean 'password'?)".
-- @param key the key
-- @return the text, or nil
function M.unknown(key)
	if M.TYPES[key] or key:match("^job_") then return nil end
	local near = M.nearest(key)
	if near then return string.format("unknown key '%s' (did you mean '%s'?)", key, near) end
	return string.format("unknown key '%s' (kept for the job as job.conf.%s; name a job's own keys job_*)", key, key)
end

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

--- Parse configuration text.
-- @param text the file's content
-- @param name the file name, for messages
-- @return table of key -> typed value and the list of {key =, line =} of
--   the keys `config.unknown` speaks of; or nil, err ("name:line: message",
--   err.name "config")
function M.parse(text, name)
	local conf, unknown = {}, {}
	local n = 0
	for line in (text .. "\n"):gmatch("([^\n]*)\n") do
		n = n + 1
		line = trim(line:gsub("\r$", ""))
		if line ~= "" and not line:match("^[#;]") then
			local key, value = line:match("^([%w_%.%-]+)%s*=%s*(.-)$")
			if not key then return nil, fail("config", "%s:%d: expected 'key = value'", name, n) end
			key = M.key(key)
			if value:sub(1, 1) == '"' then
				local body = value:match('^"(.*)"$')
				if not body then return nil, fail("config", "%s:%d: unterminated quoted value", name, n) end
				value = body:gsub("\\(.)", "%1")
			end
			local v, err = M.value(key, value)
			if v == nil then return nil, fail("config", "%s:%d: %s", name, n, err.message) end
			conf[key] = v
			if M.unknown(key) then unknown[#unknown + 1] = { key = key, line = n } end
		end
	end
	return conf, unknown
end

-- Read a whole file. @return text, or nil, err (ENOENT: err.errno 2)
local function slurp(path, named_on_command_line)
	local f, msg, code = io.open(path, "r")
	local text
	if f then
		text, msg, code = f:read("a")
		f:close()
	end
	if text then return text end
	if not msg:find(path, 1, true) then msg = path .. ": " .. msg end
	local e = fail(code == 13 and "noperm" or named_on_command_line and "usage" or "config", "%s", msg)
	e.errno = code
	if code == 13 then e.message = msg .. " (the user " .. (util.getenv("USER") or "running modemftp") .. " may not read it)" end
	return nil, e
end

--- Read one configuration file.
-- @param path the file
-- @param must_exist when false, a missing file gives an empty table
-- @param explicit true when the command line named it (a failure to read
--   it is then a usage error)
-- @return table and its unknown keys (`parse`), or nil, err
function M.read(path, must_exist, explicit)
	local text, err = slurp(path, explicit)
	if not text then
		if not must_exist and err.errno == 2 then return {}, {} end -- ENOENT: optional file
		return nil, err
	end
	return M.parse(text, path)
end

--- The configuration file `make install` puts in place: SYSCONFDIR/modemftp/modemftp.conf
-- (/etc/modemftp/modemftp.conf for PREFIX=/usr; the install writes its own
-- SYSCONFDIR on the next line).
M.SYSCONF = "/etc/modemftp/modemftp.conf"

--- The default configuration files, in the order they are read:
-- /etc/modemftp.conf, `config.SYSCONF`, then the user's.
-- @return the list of paths
function M.files()
	local list = { "/etc/modemftp.conf" }
	if M.SYSCONF ~= list[1] then list[#list + 1] = M.SYSCONF end
	local xdg = util.getenv("XDG_CONFIG_HOME")
	local home = util.getenv("HOME")
	if xdg then
		list[#list + 1] = xdg .. "/modemftp.conf"
	elseif home then
		list[#list + 1] = home .. "/.config/modemftp.conf"
	end
	return list
end

-- A file that holds a secret and that others may read. @return warning or nil
local function exposed(path, what)
	local st = core.stat(path)
	if st and st.mode & 4 ~= 0 or st and st.mode & 32 ~= 0 then
		return string.format("%s holds %s and is readable by %s (mode %04o): chmod 600 %s", path, what,
			st.mode & 4 ~= 0 and "every user" or "its group", st.mode, path)
	end
	return nil
end

-- The first line of a secret's file.
local function read_secret(path, key, origin)
	local text, err = slurp(path, origin == "command line")
	if not text then
		err.message = key .. ": " .. err.message
		return nil, err
	end
	return (text:match("^([^\r\n]*)"))
end

local SECRET_KEYS = { "password", "apn_password", "pin" }

--- The merged configuration: files, then the environment, then `o.set`.
-- @param o {config = {paths} or nil (the defaults), set = {key = typed
--   value} (the command line's layer), strict = bool (--strict)}
-- @return conf, the list of files that had keys, and what the command
--   reports: {origin = {key -> "FILE", "MODEMFTP_PORT", ... or
--   "command line"}, warnings = {text...}}; or nil, err
function M.load(o)
	o = o or {}
	local conf, sources = {}, {}
	local origin, rank, warnings, unknown = {}, {}, {}, {}
	local files, explicit, from_cli = o.config, true, true
	if not files or #files == 0 then
		from_cli = false
		local env = util.getenv("MODEMFTP_CONFIG")
		if env then
			files = {}
			for p in env:gmatch("[^:]+") do files[#files + 1] = p end
		else
			files, explicit = M.files(), false
		end
	end
	local level = 0
	local function put(k, v, where)
		level = level + 1
		conf[k], origin[k], rank[k] = v, where, level
	end
	for _, path in ipairs(files) do
		local t, unk = M.read(path, explicit, from_cli)
		if not t then return nil, unk end
		if next(t) then sources[#sources + 1] = path end
		for k, v in pairs(t) do put(k, v, path) end
		for _, u in ipairs(unk) do unknown[#unknown + 1] = { key = u.key, where = path .. ":" .. u.line } end
		for _, k in ipairs(SECRET_KEYS) do
			if t[k] and t[k] ~= "" then warnings[#warnings + 1] = exposed(path, "a " .. k:gsub("_", " ")) end
		end
	end
	local port = util.getenv("MODEMFTP_PORT")
	if port then put("port", port, "MODEMFTP_PORT") end
	for key, var in pairs(M.SECRET_ENV) do
		local v = util.getenv(var)
		if v then put(key, v, var) end
	end
	local keys = {}
	for k in pairs(o.set or {}) do keys[#keys + 1] = k end
	table.sort(keys)
	for _, k in ipairs(keys) do
		put(k, o.set[k], "command line")
		if M.unknown(k) then unknown[#unknown + 1] = { key = k, where = "-o" } end
		if M.SECRET_FILES[k] then
			warnings[#warnings + 1] = string.format("-o %s=... is visible to every user of this machine (ps): "
				.. "use %s = FILE or %s instead", k, M.SECRET_FILES[k], M.SECRET_ENV[k])
		end
	end
	-- a secret's file, unless the secret itself was set later
	for key, fkey in pairs(M.SECRET_FILES) do
		if conf[fkey] and (rank[key] or 0) < rank[fkey] then
			local v, err = read_secret(conf[fkey], fkey, origin[fkey])
			if not v then return nil, err end
			conf[key], origin[key] = v, conf[fkey]
			warnings[#warnings + 1] = exposed(conf[fkey], "the " .. key:gsub("_", " "))
		end
	end
	local strict = o.strict or conf.strict
	for _, u in ipairs(unknown) do
		local text = u.where .. ": " .. M.unknown(u.key)
		if strict then
			return nil, fail(u.where == "-o" and "usage" or "config", "%s (strict)", text)
		end
		warnings[#warnings + 1] = text
	end
	local from = origin.password
	if from == "command line" then from = "the command line (-o password=...)" end
	conf.credentials_from = from -- named when a login is refused (a key with "password" in it would be a secret)
	M.origins[conf] = origin
	return conf, sources, { origin = origin, warnings = warnings }
end

--- Where each key of a loaded configuration came from (`load`'s origin).
M.origins = setmetatable({}, { __mode = "k" })

--- Where a key of a configuration `load` returned came from.
-- @param conf the configuration
-- @param key the key
-- @return "FILE" (or "FILE" of a secret's file), "MODEMFTP_PORT", ...,
--   "command line", or nil (not set, or not a loaded configuration)
function M.origin(conf, key)
	local o = M.origins[conf]
	return o and o[key]
end

--- The secrets of a configuration: the values of keys containing
-- "password" or "secret", and the SIM PIN (never printed: see
-- `modemftp.log`); a secret's file name (`password_file`) is not one.
-- @param conf the configuration
-- @return the list of values
function M.secrets(conf)
	local out = {}
	for k, v in pairs(conf) do
		if type(v) == "string" and v ~= "" and not k:match("_file$")
			and (k:find("password", 1, true) or k:find("secret", 1, true) or k == "pin") then
			out[#out + 1] = v
		end
	end
	return out
end

return M
