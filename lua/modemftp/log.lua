--- modemftp.log: the command's logger (`job.log` in a job).
--
-- Lines look like "2024-05-01 12:00:00 modemftp[123] info: text" and go to
-- stderr, or to syslog and/or a file; `quiet` holds them back and `flush`
-- prints them (on failure, so cron mails the context).
--
-- Redaction, one rule for the whole command: a known secret is written
-- `\*`. The core applies it to the AT traffic (`--verbose` traces,
-- `--record` transcripts, err.command through port:redact), where
-- passwords always stand quoted: "p" becomes "\*". The logger applies it
-- to every occurrence in its lines, and the command to its stderr line and
-- its --json error, since a job may print a secret anywhere. The
-- logger's secrets are the values of configuration keys containing
-- "password" or "secret", and the SIM PIN (`config.secrets`); the core's
-- are those and the secrets it reads in AT+QFTPCFG="account", AT+QICSGP
-- and AT+CPIN=.
local core = require "modemftp.core"

local Log = {}
Log.__index = Log
Log.__name = "modemftp.log"

--- What a secret becomes in the output: backslash, star.
Log.MASK = "\\*"

local SYSLOG = { debug = "debug", info = "info", warn = "warning", error = "err" }

--- A logger.
-- @param o {quiet = bool (buffer everything; `flush` prints it),
--   verbose = bool (debug lines too), syslog = bool, file = Lua file,
--   stderr = Lua file (default io.stderr), secrets = {strings never
--   printed}, tag = "modemftp"}
-- @return the logger
function Log.new(o)
	o = o or {}
	return setmetatable({
		quiet = o.quiet, verbose = o.verbose, syslog = o.syslog, file = o.file,
		stderr = o.stderr or io.stderr, secrets = o.secrets or {}, buffer = {}, tag = o.tag or "modemftp",
	}, Log)
end

--- Replace every occurrence of every known secret in text by `Log.MASK`.
-- @param text the text
-- @return the redacted text
function Log:redact(text)
	for _, s in ipairs(self.secrets) do
		if s ~= "" then
			local i = 1
			while true do
				local a, b = text:find(s, i, true)
				if not a then break end
				text = text:sub(1, a - 1) .. Log.MASK .. text:sub(b + 1)
				i = a + #Log.MASK
			end
		end
	end
	return text
end

--- Add a secret to redact (empty strings and non-strings are ignored).
-- @param s the secret
function Log:secret(s)
	if type(s) == "string" and s ~= "" then self.secrets[#self.secrets + 1] = s end
end

--- The line format: "2024-05-01 12:00:00 modemftp[123] info: text".
-- @param level the level name
-- @param msg the message
-- @return the line (no newline)
function Log:format(level, msg)
	return string.format("%s %s[%d] %s: %s", os.date("%Y-%m-%d %H:%M:%S"), self.tag, core.getpid(), level, msg)
end

--- Log one message at a level ("debug", "info", "warn", "error"): one line,
-- redacted.
-- @param level the level
-- @param fmt a string.format format (or the text when no arguments follow)
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

--- `log:debug(fmt, ...)`, `log:info`, `log:warn`, `log:error`: `log:log` at
-- that level (debug lines only when verbose).
function Log:debug(...) return self:log("debug", ...) end
function Log:info(...) return self:log("info", ...) end
function Log:warn(...) return self:log("warn", ...) end
function Log:error(...) return self:log("error", ...) end

--- Print what `quiet` held back (on failure, so cron mails the context).
function Log:flush()
	for _, line in ipairs(self.buffer) do self.stderr:write(line, "\n") end
	self.buffer = {}
	self.stderr:flush()
end

return Log
