--- modemftp.errors: the one helper that builds every failure.
--
-- Every runtime failure in modemftp is returned as `nil, err`, where `err` is
-- an error object built here and nowhere else. An error object is a plain
-- table with a shared metatable (`errors.is(x)` tells), so scripts read its
-- fields directly and `tostring(err)` prints one readable line:
--
--     put app.log: 625 not logged in (FTP 530 Not logged in)
--     size a.txt: timeout after 90 s
--     open: bad argument 'hostname': 201 bytes, the EC20 allows at most 200
--
-- Fields (only `name`, `message` and `retryable` are always present):
--
--   * `name`           stable short identifier, safe to compare in scripts.
--                      For EC20 codes 601-631 a snake-case name from
--                      `errors.codes` ("not_logged_in", "network_error", ...);
--                      otherwise one of "timeout", "closed", "io", "argument",
--                      "protocol", "modem_error" (plain ERROR), "cme_error"
--                      (a +CME ERROR outside 601-631), "no_carrier",
--                      "interrupted", "mismatch", "unsupported",
--                      "pdp_deactivated", "rebooted", "ftp_error" (an FTP reply
--                      outside chapter 5), "unknown_error", "local_io" (a
--                      local file cannot be opened, read, written, flushed,
--                      synced, closed or renamed: a full or read-only file
--                      system, a missing directory, a directory or a device
--                      where a file was meant), "local_missing" (the local
--                      file to send does not exist), "lua_error" (a script
--                      raised a plain Lua error: a wrong call of the API,
--                      a bug; see `runner.call_script`); and for the
--                      `modemftp` command "usage" (a bad command line or
--                      configuration) and "busy" (the port's lock is held).
--   * `code`           EC20 `<err>` (chapter 4, 601-631) or nil.
--   * `protocol_error` FTP reply code from the server (chapter 5) or nil; the
--                      modem's "0 = meaningless" is stored as nil.
--   * `message`        the manual's wording (chapter 4, else chapter 5) or,
--                      for failures the manual does not cover, a short text.
--   * `retryable`      boolean, see "Retry rule" below.
--   * `op`             the operation that failed ("open", "put", "size", ...).
--   * `target`         what it was about (a file or directory name), optional.
--   * `command`        the AT command that failed, redacted by the caller.
--   * `bytes`          bytes transferred before the failure (partial
--                      progress, so a flow can resume), optional.
--   * `detail`         extra context appended to the printed line, optional.
--   * `seconds`        for timeouts: the deadline that expired, optional.
--   * `errno`          for local_io and local_missing: the OS error number.
--   * `cme`, `cme_text`, `final`, `lines`: what the modem actually said, kept
--                      from the core's failure table (see `errors.from_core`).
--   * `advice`         what to do about it, one short sentence; when absent,
--                      `errors.advice` derives one from the fields above and
--                      the context the maker added (never a secret):
--   * `user`, `password_source` (a login: the user name, and the file or
--                      option the password came from), `host`, `port` (the
--                      server), `context`, `pdp_active` (false: QFTPOPEN
--                      failed and the PDP context was not active), `apn` (a
--                      PDP failure).
--
-- The printed line ends with the advice ("; check ..."), so a log line, the
-- --json line and the console say what to do, not only what failed.
--
-- Retry rule (`retryable`): an error is retryable when the same operation,
-- unchanged, may succeed later (possibly after reopening the session or the
-- PDP context); callers still bound their attempts.
--
--   1. If the FTP server replied (`protocol_error` set), RFC 959 decides:
--      4xx (transient negative: 421, 425, 426, 450, 451, 452) is retryable,
--      5xx (permanent: 500-504, 530, 532, 550-553) is not.
--   2. Else the EC20 code decides: 602-609 (would block, busy, DNS, network,
--      connections closed, timeout) and 614-619 (the 4xx equivalents) are
--      retryable; 601 (unknown), 610-613 (parameter and local file errors)
--      and 620-631 (the 5xx equivalents, SSL auth) are not.
--   3. Else the name decides: timeout, closed, io, no_carrier,
--      pdp_deactivated, rebooted and busy are retryable, and so are the +CME
--      ERROR codes 14 (SIM busy), 30 (no network service) and 31 (network
--      timeout); argument, protocol, modem_error, other cme_error,
--      interrupted, mismatch, unsupported, usage, local_io and
--      local_missing are not ("io" is the port's own I/O and is retryable;
--      a local disk that is full or read-only stays so on the next try).
--
-- A caller may override the rule by passing `retryable` to `errors.new`.
local util = require "modemftp.util"

local M = {}

local Error = {}
Error.__name = "modemftp.error"

--- EC20 error codes of chapter 4: `codes[n] = {name =, message =, ftp =}`.
-- `message` is the manual's wording (trailing period dropped); `ftp` is the
-- chapter 5 reply code the EC20 code mirrors (614-630 mirror 421-553), if any.
M.codes = {
	[601] = { name = "unknown_error", message = "Unknown error" },
	[602] = { name = "would_block", message = "FTP service would block" },
	[603] = { name = "service_busy", message = "FTP service busy" },
	[604] = { name = "dns_parse_fails", message = "DNS parse fails" },
	[605] = { name = "network_error", message = "Network error" },
	[606] = { name = "control_connection_closed", message = "Control connection closed" },
	[607] = { name = "data_connection_closed", message = "Data connection closed" },
	[608] = { name = "socket_closed_by_peer", message = "Socket closed by peer" },
	[609] = { name = "timeout", message = "Timeout error" },
	[610] = { name = "invalid_parameter", message = "Invalid parameter" },
	[611] = { name = "open_file_failed", message = "Fail to open file" },
	[612] = { name = "invalid_file_position", message = "File position invalid" },
	[613] = { name = "file_error", message = "File error" },
	[614] = { name = "service_not_available", ftp = 421,
	          message = "Service not available, closing control connection" },
	[615] = { name = "data_connection_failed", ftp = 425, message = "Open data connection fails" },
	[616] = { name = "transfer_aborted", ftp = 426, message = "Connection closed; transfer aborted" },
	[617] = { name = "file_action_not_taken", ftp = 450, message = "Requested file action not taken" },
	[618] = { name = "local_error", ftp = 451,
	          message = "Requested action aborted: local error in processing" },
	[619] = { name = "insufficient_storage", ftp = 452,
	          message = "Requested action not taken: insufficient system storage" },
	[620] = { name = "syntax_error", ftp = 500, message = "Syntax error, command unrecognized" },
	[621] = { name = "parameter_syntax_error", ftp = 501,
	          message = "Syntax error in parameters or arguments" },
	[622] = { name = "command_not_implemented", ftp = 502, message = "Command not implemented" },
	[623] = { name = "bad_command_sequence", ftp = 503, message = "Bad sequence of commands" },
	[624] = { name = "parameter_not_implemented", ftp = 504,
	          message = "Command parameter not implemented" },
	[625] = { name = "not_logged_in", ftp = 530, message = "Not logged in" },
	[626] = { name = "need_account", ftp = 532, message = "Need account for storing files" },
	[627] = { name = "file_unavailable", ftp = 550, message = "Requested action not taken" },
	[628] = { name = "page_type_unknown", ftp = 551, message = "Requested action aborted: page type unknown" },
	[629] = { name = "storage_exceeded", ftp = 552, message = "Requested file action aborted" },
	[630] = { name = "file_name_not_allowed", ftp = 553, message = "Requested file name invalid" },
	[631] = { name = "ssl_auth_failed", message = "SSL auth fail" },
}

--- FTP protocol error codes of chapter 5: `ftp_codes[n] = message`.
M.ftp_codes = {
	[421] = "Service not available, closing control connection",
	[425] = "Open data connection fails",
	[426] = "Connection closed; transfer aborted",
	[450] = "Requested file action not taken",
	[451] = "Requested action aborted: local error in processing",
	[452] = "Requested action not taken: insufficient system storage",
	[500] = "Syntax error, command unrecognized",
	[501] = "Syntax error in parameters or arguments",
	[502] = "Command not implemented",
	[503] = "Bad sequence of commands",
	[504] = "Command parameter not implemented",
	[530] = "Not logged in",
	[532] = "Need account for storing files",
	[550] = "Requested action not taken. File unavailable",
	[551] = "Requested action aborted: page type unknown",
	[552] = "Requested file action aborted. Exceeded storage allocation",
	[553] = "Requested action not taken. File name not allowed",
}

--- Common 3GPP TS 27.007 `+CME ERROR` codes (outside the FTP range):
-- `cme_codes[n] = text`. Used to print `+CME ERROR: 10 (SIM not inserted)`
-- and to map verbose `+CME ERROR: <text>` back to a number.
M.cme_codes = {
	[0] = "phone failure",
	[1] = "no connection to phone",
	[2] = "phone-adaptor link reserved",
	[3] = "operation not allowed",
	[4] = "operation not supported",
	[5] = "PH-SIM PIN required",
	[6] = "PH-FSIM PIN required",
	[7] = "PH-FSIM PUK required",
	[10] = "SIM not inserted",
	[11] = "SIM PIN required",
	[12] = "SIM PUK required",
	[13] = "SIM failure",
	[14] = "SIM busy",
	[15] = "SIM wrong",
	[16] = "incorrect password",
	[17] = "SIM PIN2 required",
	[18] = "SIM PUK2 required",
	[20] = "memory full",
	[21] = "invalid index",
	[22] = "not found",
	[23] = "memory failure",
	[24] = "text string too long",
	[25] = "invalid characters in text string",
	[26] = "dial string too long",
	[27] = "invalid characters in dial string",
	[30] = "no network service",
	[31] = "network timeout",
	[32] = "network not allowed - emergency calls only",
	[100] = "unknown",
}

-- Name -> EC20 code, for scripts that want the number behind a name.
M.by_name = {}
for n, c in pairs(M.codes) do M.by_name[c.name] = n end

-- FTP reply -> the EC20 code that mirrors it, to name FTP-only failures.
local ftp_to_code = {}
for n, c in pairs(M.codes) do
	if c.ftp then ftp_to_code[c.ftp] = n end
end

-- Retry rule, part 2: EC20 codes that are transient.
local retry_code = {
	[602] = true, [603] = true, [604] = true, [605] = true, [606] = true,
	[607] = true, [608] = true, [609] = true,
	[614] = true, [615] = true, [616] = true, [617] = true, [618] = true, [619] = true,
}

-- Retry rule, part 3: names that are transient, and their default messages.
local by_kind = {
	timeout = { retry = true, message = "timeout" },
	closed = { retry = true, message = "port closed" },
	io = { retry = true, message = "I/O error" },
	no_carrier = { retry = true, message = "NO CARRIER" },
	pdp_deactivated = { retry = true, message = "PDP context deactivated" },
	rebooted = { retry = true, message = "modem rebooted" },
	argument = { retry = false, message = "bad argument" },
	protocol = { retry = false, message = "unexpected reply from the modem" },
	modem_error = { retry = false, message = "modem answered ERROR" },
	cme_error = { retry = false, message = "+CME ERROR" },
	interrupted = { retry = false, message = "interrupted" },
	mismatch = { retry = false, message = "replay mismatch" },
	unsupported = { retry = false, message = "not supported" },
	ftp_error = { retry = false, message = "FTP error" },
	unknown_error = { retry = false, message = "unknown error" },
	usage = { retry = false, message = "usage error" },
	busy = { retry = true, message = "busy" },
	local_io = { retry = false, message = "local I/O error" },
	local_missing = { retry = false, message = "local file not found" },
	lua_error = { retry = false, message = "error in the script" },
}
local retry_cme = { [14] = true, [30] = true, [31] = true }

-- Core kinds (the C core's failure table) -> names here.
local core_kind = {
	timeout = "timeout", closed = "closed", io = "io", argument = "argument",
	protocol = "protocol", interrupted = "interrupted", mismatch = "mismatch",
	unsupported = "unsupported", pdpdeact = "pdp_deactivated",
	pdp_deactivated = "pdp_deactivated", rebooted = "rebooted",
	no_carrier = "no_carrier", local_io = "local_io",
}

-- Verbose-text comparison key: case, surrounding space and a final period
-- do not matter ("+CME ERROR: invalid parameter" is code 610).
local function textkey(s)
	s = s:lower():gsub("%s+", " "):gsub("^ ", ""):gsub(" $", ""):gsub("%.$", "")
	return s
end
local text_to_code, text_to_cme = {}, {}
for n, c in pairs(M.codes) do text_to_code[textkey(c.message)] = n end
for n, t in pairs(M.cme_codes) do text_to_cme[textkey(t)] = n end

local function toint(v)
	if type(v) == "string" then v = tonumber(v) end
	if type(v) == "number" then return math.tointeger(v) end
	return nil
end

local function is_retryable(e)
	local pe = e.protocol_error
	if pe and pe >= 400 and pe < 600 then return pe < 500 end
	if e.code then return retry_code[e.code] == true end
	if e.name == "cme_error" then return retry_cme[e.cme] == true end
	local k = by_kind[e.name]
	return k ~= nil and k.retry
end

--- Build an error object.
-- Unknown fields are kept as given. Missing `name`, `message` and
-- `retryable` are derived from `code`, then `protocol_error`, then `name`.
-- @param t table with any of the fields listed in the module comment
-- @return the error object (a new table: t is copied, not changed)
function M.new(t)
	if type(t) ~= "table" then
		error("errors.new: table expected, got " .. type(t), 2)
	end
	local e = {}
	for k, v in pairs(t) do e[k] = v end
	e.code = toint(e.code)
	if e.code == 0 then e.code = nil end
	e.protocol_error = toint(e.protocol_error)
	if e.protocol_error == 0 then e.protocol_error = nil end
	e.bytes = e.bytes ~= nil and toint(e.bytes) or nil
	local c = e.code and M.codes[e.code]
	local pe = e.protocol_error
	if e.name == nil then
		if c then
			e.name = c.name
		elseif e.code then
			e.name = "unknown_error"
		elseif pe then
			local mirror = ftp_to_code[pe]
			e.name = mirror and M.codes[mirror].name or "ftp_error"
		else
			e.name = "unknown_error"
		end
	end
	if e.message == nil then
		if c then
			e.message = c.message
		elseif e.code then
			e.message = "unknown error code " .. e.code
		elseif pe then
			e.message = M.ftp_codes[pe] or "FTP reply"
		elseif e.name == "timeout" and e.seconds then
			e.message = string.format("timeout after %g s", e.seconds)
		else
			local k = by_kind[e.name]
			e.message = k and k.message or e.name
		end
	end
	if e.retryable == nil then e.retryable = is_retryable(e) end
	e.retryable = e.retryable and true or false
	return setmetatable(e, Error)
end

--- Tell whether a value is an error object built by this module.
-- @param x any value
-- @return true or false
function M.is(x)
	return getmetatable(x) == Error
end

--- The failure for a `+QFTPxxx: <err>,<protocol_error>` result.
-- @param op the operation ("open", "put", "size", ...)
-- @param err the EC20 `<err>` (number or digit string); 0 means "no code"
-- @param protocol_error the FTP reply code, or 0/nil when meaningless
-- @param extra optional table of more fields (target, command, bytes, detail, lines)
-- @return the error object
function M.from_result(op, err, protocol_error, extra)
	local t = {}
	if extra then for k, v in pairs(extra) do t[k] = v end end
	t.op, t.code, t.protocol_error = op, err, protocol_error
	return M.new(t)
end

--- Wrap the plain failure table that the C core returns.
-- The core's table is `{kind =, message =, cme =, cme_text =, final =,
-- lines =, bytes =}` (kind: "timeout", "closed", "io", "argument",
-- "protocol", "modem", "interrupted", "mismatch", "unsupported"). A modem
-- failure becomes an EC20 code when `+CME ERROR: <n>` has n in 601-631 or
-- its verbose text matches a chapter 4 message (case-insensitively),
-- "cme_error" for other +CME ERRORs, "no_carrier" for NO CARRIER and
-- "modem_error" for plain ERROR. An error object is passed through (its
-- `op` filled in if missing); a string is taken as an "io" message.
-- @param op the operation that failed
-- @param t the core's failure table (or a string, or an error object)
-- @param extra optional table of more fields (target, command, seconds, ...)
-- @return the error object
function M.from_core(op, t, extra)
	if M.is(t) then
		if t.op == nil then t.op = op end
		return t
	end
	if type(t) ~= "table" then
		t = { kind = "io", message = t ~= nil and tostring(t) or nil }
	end
	local e = {}
	if extra then for k, v in pairs(extra) do e[k] = v end end
	e.op = op
	e.bytes = t.bytes
	e.lines = t.lines
	e.final = t.final
	e.cme = toint(t.cme)
	e.cme_text = t.cme_text
	e.errno = toint(t.errno) -- a local file the core wrote or read (disk full, ...)
	local kind = t.kind
	if kind == "modem" then
		local final = type(t.final) == "string" and t.final or ""
		local after = final:match("^%s*%+CME ERROR:%s*(.-)%s*$")
		if after and e.cme == nil and after:match("^%d+$") then
			e.cme = toint(after)
		elseif after and after ~= "" and e.cme_text == nil and not after:match("^%d+$") then
			e.cme_text = after
		end
		if e.cme == nil and e.cme_text then
			local key = textkey(e.cme_text)
			if text_to_code[key] then
				e.cme = text_to_code[key]
			elseif text_to_cme[key] then
				e.cme = text_to_cme[key]
			end
		end
		if e.cme and M.codes[e.cme] then
			e.code = e.cme
		elseif e.cme or e.cme_text then
			e.name = "cme_error"
			local text = e.cme and M.cme_codes[e.cme]
			if e.cme then
				e.message = "+CME ERROR: " .. e.cme .. (text and (" (" .. text .. ")") or "")
			else
				e.message = "+CME ERROR: " .. e.cme_text
			end
		elseif final:match("^%s*NO CARRIER") then
			e.name = "no_carrier"
		elseif final:match("^%s*ERROR") or final == "" then
			e.name = "modem_error"
			if final == "" and t.message then e.message = t.message end
		else
			e.name = "modem_error"
			e.message = "modem answered " .. final
		end
	else
		local name = core_kind[kind]
		if name == nil then
			name = (type(kind) == "string" and kind:match("^[%a_]+$")) and kind or "io"
		end
		e.name = name
		if t.message ~= nil and t.message ~= "" then e.message = tostring(t.message) end
	end
	return M.new(e)
end

local ENOENT = 2

--- The failure of a local file (never retryable: see the retry rule).
-- @param op the operation ("get", "put", "download", ...)
-- @param path the local file
-- @param message what failed; a leading "PATH: " (io.open's form) is dropped,
--   the error prints the path as its target
-- @param errno the OS error number, if known (io.open's third result)
-- @param source true when path is a file to send: then a missing file
--   (ENOENT) is named "local_missing", else "local_io"
-- @return the error object
function M.local_io(op, path, message, errno, source)
	message = tostring(message or "local I/O error")
	if path and message:sub(1, #path + 2) == path .. ": " then message = message:sub(#path + 3) end
	errno = toint(errno)
	return M.new { op = op, target = path, message = message, errno = errno, retryable = false,
		name = (source and errno == ENOENT) and "local_missing" or "local_io" }
end

--- The failure for a bad argument (a caller's value the EC20 cannot take).
-- Its name is "argument" and it is never retryable.
-- @param op the operation, or nil when not known yet (the caller may set `err.op`)
-- @param msg what is wrong, e.g. "bad argument 'file_name': ..."
-- @return the error object
function M.argument(op, msg)
	return M.new { name = "argument", op = op, message = msg, retryable = false }
end

-- "Not logged in" -> "not logged in", but "SSL auth fail" stays.
local function lowerfirst(s)
	if s:match("^%u%l") then return s:sub(1, 1):lower() .. s:sub(2) end
	return s
end

local function oneline(s)
	return (tostring(s):gsub("[\r\n]+", " "):gsub("^%s+", ""):gsub("%s+$", ""))
end

-- A port spec's device: "tty:/dev/pts/3" -> "/dev/pts/3".
local function device(target)
	return target:match("^%a+:(/.*)$") or target
end

-- The advice for a failed login or connect (QFTPOPEN).
local function open_advice(e)
	local who = e.user and ("user '" .. e.user .. "'") or "the user"
	if e.name == "not_logged_in" or e.protocol_error == 530 then
		if e.password_source then
			return string.format("the server refused %s with the password from %s: check `user` and `password` there",
				who, e.password_source)
		end
		return "the server refused " .. who .. ": check the user name and the password"
	end
	local server = e.host and (e.host .. (e.port and (":" .. e.port) or "")) or "the server"
	if e.pdp_active == false and e.code and e.code >= 604 and e.code <= 609 then
		return string.format("no PDP context: context %s is not active, so the module could not reach %s; "
			.. "activate it first (m:pdp{apn = ...}; `pdp = yes` and `apn =` in the configuration)",
			tostring(e.context or 1), server)
	end
	if e.code == 604 then
		return "the module could not resolve " .. tostring(e.host or "the host name") .. ": check `host` (and the APN's DNS)"
	end
	if e.code == 605 or e.code == 606 or e.code == 608 then
		return "could not connect to " .. server .. " (refused or unreachable over the PDP context): check that an "
			.. "FTP server listens there (`host`, `ftp_port`) and that the mobile network may reach it"
	end
end

--- What to do about a failure: `e.advice`, else a sentence derived from
-- the error and its context (a login refused, no PDP context, a port the
-- user may not open, a SIM that asks for its PIN, a PDP failure), else nil.
-- @param e the error object
-- @return the advice, or nil
function M.advice(e)
	if e.advice then return e.advice end
	local msg = tostring(e.message or "")
	if e.cme == 11 or (msg:find("SIM PIN", 1, true) and not msg:find("PIN2", 1, true)) then
		return "the SIM asks for its PIN: set `pin =` in the configuration"
	elseif e.cme == 12 or msg:find("SIM PUK", 1, true) then
		return "the SIM is blocked and wants its PUK: unblock it in a phone (modemftp never enters a PUK)"
	elseif e.cme == 16 and e.op == "pdp" then
		return "the SIM refused the configured `pin`: correct it before the SIM blocks"
	elseif e.cme == 10 then
		return "the module sees no SIM card: insert one (with the power off)"
	end
	-- the rest needs the context the error's maker added (m:ftp, m:pdp)
	if e.op == "open" and e.host and (e.code or e.protocol_error) then return open_advice(e) end
	if e.op == "open" and e.target and (e.errno == 13 or msg:find("Permission denied", 1, true)) then
		local user = os.getenv("USER") or os.getenv("LOGNAME") or "USER"
		return string.format("%s may not open %s: serial ports belong to the dialout group; add the user "
			.. "(sudo usermod -aG dialout %s, then log in again) or run as a member (SupplementaryGroups=dialout)",
			user, device(e.target), user)
	end
	if e.op == "pdp" and e.apn and e.command and (e.command:find("QIACT", 1, true) or e.command:find("QICSGP", 1, true)) then
		return "check the APN with the operator (`apn`; `apn_user`, `apn_password`, `apn_auth` if it wants a login)"
	elseif e.op == "pdp" and e.apn and e.name == "network_error" then
		return "no packet network: check the antenna and the signal (AT+CSQ) and that the SIM has data service"
	end
end

-- "put a.txt: a.txt: No such file" names the file once: a message that
-- starts with the target (or a port spec's device) drops it; the line's
-- head names it already.
local function without_target(msg, target)
	if not target then return msg end
	for _, t in ipairs { target, device(target) } do
		if msg:sub(1, #t + 2) == t .. ": " then return msg:sub(#t + 3) end
	end
	return msg
end

--- One readable line: `op target: what (FTP n text)[: detail][, after N
-- bytes][; advice]`; a PDP failure names its command and APN first.
-- @param e the error object
-- @return the string
function Error.__tostring(e)
	local body
	local target = e.target and oneline(e.target)
	local msg = without_target(oneline(e.message or e.name or "error"), target)
	if e.code then
		body = e.code .. " " .. lowerfirst(msg)
		if e.protocol_error then
			body = body .. " (FTP " .. e.protocol_error
				.. (M.ftp_codes[e.protocol_error] and (" " .. M.ftp_codes[e.protocol_error]) or "") .. ")"
		end
	elseif e.protocol_error then
		body = "FTP " .. e.protocol_error .. " " .. msg
	else
		body = msg
	end
	if e.op == "pdp" and e.apn and e.name ~= "argument" then
		body = (e.command and (oneline(e.command) .. " ") or "") .. "(APN " .. util.quote(e.apn, "\\x%02x") .. "): " .. body
	end
	if e.detail then body = body .. ": " .. oneline(e.detail) end
	if e.bytes and e.bytes > 0 then body = body .. ", after " .. e.bytes .. " bytes" end
	local advice = M.advice(e)
	if advice then body = body .. "; " .. oneline(advice) end
	local head = e.op and oneline(e.op)
	if head and target then head = head .. " " .. target end
	return head and (head .. ": " .. body) or body
end

return M
