--- modemftp.config: the command's configuration: files, environment, -o.
--
-- Read in this order, a later value overriding an earlier one key by key:
-- the files (/etc/modemftp.conf, /etc/modemftp/modemftp.conf (the one
-- `make install` puts in place), then ~/.config/modemftp.conf; or instead
-- the --config files, or MODEMFTP_CONFIG, a ':'-separated list), then
-- MODEMFTP_PORT, then the command line (`options.to_conf`). Lines are
-- `key = value`; `#` or `;` starts a comment line; a value may be "double
-- quoted" (then \" and \\ are escapes) to keep surrounding spaces. There
-- are no comments after a value: passwords may contain '#'.
--
-- Keys in `config.TYPES` are typed (times in seconds); any other key is
-- kept as a string for the job (`job.conf`). Failures are `nil, err` with
-- err.name "usage" (the command exits 64).
local errors = require "modemftp.errors"
local util = require "modemftp.util"

local M = {}

--- Configuration keys with a type: "string", "int", "count" (an integer,
-- not negative), "bool" or "number" (seconds, not negative).
M.TYPES = {
	port = "string", baud = "int", rtscts = "bool", dtr = "bool", guard = "number",
	at_timeout = "number", init = "bool",
	lock_timeout = "number", lock_dir = "string", timeout = "number",
	host = "string", ftp_port = "int", user = "string", password = "string",
	context = "int", filetype = "string", passive = "bool", rsptimeout = "int",
	ssl = "bool", sslctxid = "int",
	pdp = "bool", apn = "string", apn_user = "string", apn_password = "string", apn_auth = "int",
	attempts = "int",
	max_temp_failures = "count", state_dir = "string", metrics = "string",
	-- the module's behaviour where its family's profile is wrong (modemftp.identity)
	module_resume = "string", module_drives = "string", module_hostname_max = "int", module_path_max = "int",
	data_address = "int", restenable = "bool", cache = "int",
}

local BOOL = { ["1"] = true, yes = true, ["true"] = true, on = true, ["0"] = false, no = false, ["false"] = false, off = false }

local function usage(fmt, ...)
	return errors.new { name = "usage", message = string.format(fmt, ...) }
end

--- Convert a configuration value (text) to the key's type.
-- @param key the key ("baud", ...)
-- @param text the value as written (a value that is not a string is kept)
-- @return the value, or nil, err ("key: expected ...")
function M.value(key, text)
	local ty = M.TYPES[key] or "string"
	if type(text) ~= "string" then return text end
	-- ssl: yes/no, or the FTPS type where the module can tell them apart
	if key == "ssl" and (text:lower() == "implicit" or text:lower() == "explicit") then return text:lower() end
	if ty == "bool" then
		local b = BOOL[text:lower()]
		if b == nil then return nil, usage("%s: expected yes or no, got %q", key, text) end
		return b
	elseif ty == "int" then
		local n = math.tointeger(tonumber(text))
		if not n then return nil, usage("%s: expected an integer, got %q", key, text) end
		return n
	elseif ty == "count" then
		local n = math.tointeger(tonumber(text))
		if not n or n < 0 then return nil, usage("%s: expected a whole number, 0 or more, got %q", key, text) end
		return n
	elseif ty == "number" then
		local n = tonumber(text)
		if not n or n < 0 then return nil, usage("%s: expected a number of seconds, got %q", key, text) end
		return n
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

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

--- Parse configuration text.
-- @param text the file's content
-- @param name the file name, for messages
-- @return table of key -> typed value, or nil, err ("name:line: message")
function M.parse(text, name)
	local conf = {}
	local n = 0
	for line in (text .. "\n"):gmatch("([^\n]*)\n") do
		n = n + 1
		line = trim(line:gsub("\r$", ""))
		if line ~= "" and not line:match("^[#;]") then
			local key, value = line:match("^([%w_%.%-]+)%s*=%s*(.-)$")
			if not key then return nil, usage("%s:%d: expected 'key = value'", name, n) end
			key = M.key(key)
			if value:sub(1, 1) == '"' then
				local body = value:match('^"(.*)"$')
				if not body then return nil, usage("%s:%d: unterminated quoted value", name, n) end
				value = body:gsub("\\(.)", "%1")
			end
			local v, err = M.value(key, value)
			if v == nil then return nil, usage("%s:%d: %s", name, n, err.message) end
			conf[key] = v
		end
	end
	return conf
end

--- Read one configuration file.
-- @param path the file
-- @param must_exist when false, a missing file gives an empty table
-- @return table, or nil, err
function M.read(path, must_exist)
	local f, msg, code = io.open(path, "r")
	if not f then
		if not must_exist and code == 2 then return {} end -- ENOENT: optional file
		return nil, usage("%s", msg)
	end
	local text = f:read("a")
	f:close()
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

--- The merged configuration: files, then MODEMFTP_PORT, then `o.set`.
-- @param o {config = {paths} or nil (the defaults), set = {key = typed value}}
-- @return conf and the list of files that had keys, or nil, err
function M.load(o)
	o = o or {}
	local conf, sources = {}, {}
	local files, explicit = o.config, true
	if not files or #files == 0 then
		local env = util.getenv("MODEMFTP_CONFIG")
		if env then
			files = {}
			for p in env:gmatch("[^:]+") do files[#files + 1] = p end
		else
			files, explicit = M.files(), false
		end
	end
	for _, path in ipairs(files) do
		local t, err = M.read(path, explicit)
		if not t then return nil, err end
		if next(t) then sources[#sources + 1] = path end
		for k, v in pairs(t) do conf[k] = v end
	end
	local port = util.getenv("MODEMFTP_PORT")
	if port then conf.port = port end
	for k, v in pairs(o.set or {}) do conf[k] = v end
	return conf, sources
end

--- The secrets of a configuration: the values of keys containing
-- "password" or "secret" (never printed: see `modemftp.log`).
-- @param conf the configuration
-- @return the list of values
function M.secrets(conf)
	local out = {}
	for k, v in pairs(conf) do
		if type(v) == "string" and v ~= "" and (k:find("password", 1, true) or k:find("secret", 1, true)) then
			out[#out + 1] = v
		end
	end
	return out
end

return M
