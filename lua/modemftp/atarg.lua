--- modemftp.atarg: building AT command strings safely.
--
-- Every value a script gives (host, user, password, file and directory
-- names, numbers) is checked here against the EC20 FTP manual's limits
-- before anything is sent, and refused with `nil, err` (an
-- `errors.argument`, name "argument") when the modem could not take it.
--
-- Why values are refused rather than escaped: an AT quoted string has no
-- escape mechanism. A double quote `"` would end the string early, CR
-- (or LF, which many parsers also take as the end of the line) would end
-- the whole command and the rest would run as a second, attacker-chosen
-- command line; NUL and the other control bytes (below 0x20, and DEL 0x7F)
-- are dropped or misread by the modem's line editor (backspace, Ctrl-Z,
-- ESC). So such values cannot be sent at all. Bytes 0x80 and above pass
-- unchanged (UTF-8 names work when the server and the modem agree on them),
-- and so do backslash, comma and semicolon, which are plain characters
-- inside quotes. Error messages name the argument, the limit and the
-- offending length or byte position, never the value itself, so passwords
-- do not leak into logs.
--
-- Limits (`atarg.limits`): a number is the maximum length in bytes of a
-- string parameter; a `{lo =, hi =}` table is the inclusive range of an
-- integer parameter. Decisions beyond the manual:
--
--   * `local_name` counts the whole parameter, "RAM:" prefix included (the
--     manual's "maximum size of the parameter is 60 bytes" is about the
--     string that is sent), so a RAM file name has at most 56 bytes.
--   * `startpos`, `uploadlen` and `downloadlen` have no maximum in the
--     manual; they are capped at 2147483647 (the modem parses a 32-bit
--     signed integer; larger values would wrap).
--   * `uploadlen` and `downloadlen` are at least 1: a zero-length packet
--     never "reaches" its length, so the manual leaves its end undefined.
--     To end an upload, send its last packet with beof = 1.
--   * Names must be non-empty where the manual needs a name (file_name,
--     path_name, folder_name, old_name, new_name, hostname, RAM: names);
--     `dirname` may be "" (chapter 3.4 sends `AT+QFTPMLSD="","RAM:nlst.txt"`)
--     or "." (the current directory); username and password may be "".
local errors = require "modemftp.errors"

local M = {}

local INT32_MAX = 2147483647

--- The manual's limits: string maximum lengths in bytes, integer ranges.
M.limits = {
	hostname = 200,
	username = 255,
	password = 255,
	file_name = 255,
	path_name = 255,
	folder_name = 255,
	dirname = 255,
	old_name = 255,
	new_name = 255,
	local_name = 60,
	contextid = { lo = 1, hi = 16 },
	rsptimeout = { lo = 20, hi = 180 },
	sslctxid = { lo = 0, hi = 5 },
	filetype = { lo = 0, hi = 1 },
	transmode = { lo = 0, hi = 1 },
	ssltype = { lo = 0, hi = 1 },
	port = { lo = 1, hi = 65535 },
	startpos = { lo = 0, hi = INT32_MAX },
	uploadlen = { lo = 1, hi = INT32_MAX },
	downloadlen = { lo = 1, hi = INT32_MAX },
	beof = { lo = 0, hi = 1 },
}

local ctl_names = {
	[0] = "NUL", [8] = "backspace", [9] = "TAB", [10] = "LF", [13] = "CR",
	[26] = "Ctrl-Z", [27] = "ESC", [127] = "DEL",
}

local function bad(what, fmt, ...)
	return nil, errors.argument(nil, string.format("bad argument '%s': " .. fmt, what, ...))
end

--- Quote a string for an AT command, refusing what cannot travel.
-- @param value the string to quote
-- @param what the argument's name, used in the error message (default "value")
-- @param max the maximum length in bytes, or nil for no limit
-- @param who the module whose limit max is, for the message (default "the EC20")
-- @return the quoted string (`"value"`), or nil, err
function M.quote(value, what, max, who)
	what = what or "value"
	if type(value) ~= "string" then
		return bad(what, "string expected, got %s", type(value))
	end
	if max and #value > max then
		return bad(what, "%d bytes, %s allows at most %d", #value, who or "the EC20", max)
	end
	local pos = value:find("[\0-\31\"\127]")
	if pos then
		local b = value:byte(pos)
		if b == 34 then
			return bad(what, "contains '\"' at byte %d, which cannot travel inside a quoted AT string", pos)
		end
		return bad(what, "contains %s (0x%02X) at byte %d, which cannot travel inside a quoted AT string",
			ctl_names[b] or "control character", b, pos)
	end
	return '"' .. value .. '"'
end

--- Check an integer parameter.
-- Floats with an integral value (21.0) are accepted as integers; strings are not.
-- @param value the number
-- @param what the argument's name, used in the error message
-- @param lo the smallest allowed value, or nil
-- @param hi the largest allowed value, or nil
-- @return the integer, or nil, err
function M.int(value, what, lo, hi)
	what = what or "value"
	if type(value) ~= "number" then
		return bad(what, "integer expected, got %s", type(value))
	end
	local i = math.tointeger(value)
	if i == nil then
		return bad(what, "integer expected, got %s", tostring(value))
	end
	if (lo and i < lo) or (hi and i > hi) then
		if lo and hi then
			return bad(what, "%d is out of range, the EC20 allows %d-%d", i, lo, hi)
		elseif lo then
			return bad(what, "%d is out of range, the EC20 allows at least %d", i, lo)
		end
		return bad(what, "%d is out of range, the EC20 allows at most %d", i, hi)
	end
	return i
end

local function checkname(v, what, max, nonempty, who)
	if nonempty and v == "" then
		return bad(what, "empty, the EC20 needs a name here")
	end
	return M.quote(v, what, max, who)
end

local function ranged(v, what, key)
	local l = M.limits[key]
	return M.int(v, what or key, l.lo, l.hi)
end

--- Quote an FTP server host name or IP address (1-200 bytes; a module's
-- own limit when given: 255 on an EG800K).
-- @param v the host
-- @param what the argument's name for messages (default "hostname")
-- @param max optional: the module's limit instead of the manual's
-- @param who optional: the module, for the message
-- @return the quoted string, or nil, err
function M.hostname(v, what, max, who)
	return checkname(v, what or "hostname", max or M.limits.hostname, true, max and who)
end

--- Quote a user name (0-255 bytes).
-- @param v the user name
-- @param what the argument's name for messages (default "username")
-- @return the quoted string, or nil, err
function M.username(v, what)
	return checkname(v, what or "username", M.limits.username, false)
end

--- Quote a password (0-255 bytes; messages never show it).
-- @param v the password
-- @param what the argument's name for messages (default "password")
-- @return the quoted string, or nil, err
function M.password(v, what)
	return checkname(v, what or "password", M.limits.password, false)
end

--- Quote a file name on the FTP server (1-255 bytes).
-- @param v the name
-- @param what the argument's name for messages (default "file_name")
-- @return the quoted string, or nil, err
function M.file_name(v, what)
	return checkname(v, what or "file_name", M.limits.file_name, true)
end

--- Quote a directory path for QFTPCWD (1-255 bytes; a module's own limit
-- when given: 128 on an EG800K).
-- @param v the path
-- @param what the argument's name for messages (default "path_name")
-- @param max optional: the module's limit instead of the manual's
-- @param who optional: the module, for the message
-- @return the quoted string, or nil, err
function M.path_name(v, what, max, who)
	return checkname(v, what or "path_name", max or M.limits.path_name, true, max and who)
end

--- Quote a folder name for QFTPMKDIR/QFTPRMDIR (1-255 bytes).
-- @param v the folder name
-- @param what the argument's name for messages (default "folder_name")
-- @return the quoted string, or nil, err
function M.folder_name(v, what)
	return checkname(v, what or "folder_name", M.limits.folder_name, true)
end

--- Quote a directory for QFTPLIST/NLST/MLSD (0-255 bytes; "" and "." are the current one).
-- @param v the directory
-- @param what the argument's name for messages (default "dirname")
-- @return the quoted string, or nil, err
function M.dirname(v, what)
	return checkname(v, what or "dirname", M.limits.dirname, false)
end

--- Quote the old name for QFTPRENAME (1-255 bytes).
-- @param v the name
-- @param what the argument's name for messages (default "old_name")
-- @return the quoted string, or nil, err
function M.old_name(v, what)
	return checkname(v, what or "old_name", M.limits.old_name, true)
end

--- Quote the new name for QFTPRENAME (1-255 bytes).
-- @param v the name
-- @param what the argument's name for messages (default "new_name")
-- @return the quoted string, or nil, err
function M.new_name(v, what)
	return checkname(v, what or "new_name", M.limits.new_name, true)
end

--- Tell whether a local name means the COM port ("COM:", or "COM:." as
-- spelled in the manual's chapter 3.6 example).
-- @param v the local name
-- @return true or false
function M.is_com(v)
	return v == "COM:" or v == "COM:."
end

--- Quote a local name: "COM:" (or "COM:.") or "<DRIVE>:<name>" on one of
-- the module's drives ("RAM" on the EC20; "UFS", "SD" on others: names are
-- case-sensitive, a real EC25 refuses "ufs:"), at most 60 bytes with the
-- prefix, the name after the drive non-empty.
-- @param v the local name
-- @param what the argument's name for messages (default "local_name")
-- @param drives optional list of the module's drives (default {"RAM"})
-- @return the quoted string, or nil, err
function M.local_name(v, what, drives)
	what = what or "local_name"
	drives = drives or { "RAM" }
	if type(v) ~= "string" then
		return bad(what, "string expected, got %s", type(v))
	end
	if M.is_com(v) then return '"' .. v .. '"' end
	local drive, name = v:match("^(%w+):(.*)$")
	local known = false
	for _, d in ipairs(drives) do known = known or d == drive end
	if not known then
		local list = {}
		for i, d in ipairs(drives) do list[i] = '"' .. d .. ':<name>"' end
		return bad(what, 'must be "COM:" or %s', table.concat(list, " or "))
	end
	if name == "" then
		return bad(what, 'empty %s file name, the module needs a name after "%s:"', drive, drive)
	end
	return M.quote(v, what, M.limits.local_name)
end

--- Check a PDP context ID (1-16).
-- @param v the number
-- @return the integer, or nil, err
function M.contextid(v) return ranged(v, nil, "contextid") end

--- Check a response timeout in seconds (20-180).
-- @param v the number
-- @return the integer, or nil, err
function M.rsptimeout(v) return ranged(v, nil, "rsptimeout") end

--- Check an SSL context ID (0-5).
-- @param v the number
-- @return the integer, or nil, err
function M.sslctxid(v) return ranged(v, nil, "sslctxid") end

--- Check a file type (0 binary, 1 ASCII).
-- @param v the number
-- @return the integer, or nil, err
function M.filetype(v) return ranged(v, nil, "filetype") end

--- Check a transfer mode (0 active, 1 passive).
-- @param v the number
-- @return the integer, or nil, err
function M.transmode(v) return ranged(v, nil, "transmode") end

--- Check an SSL type (0 FTP, 1 FTPS).
-- @param v the number
-- @return the integer, or nil, err
function M.ssltype(v) return ranged(v, nil, "ssltype") end

--- Check a TCP port (1-65535).
-- @param v the number
-- @return the integer, or nil, err
function M.port(v) return ranged(v, nil, "port") end

--- Check a start position (0-2147483647).
-- @param v the number
-- @return the integer, or nil, err
function M.startpos(v) return ranged(v, nil, "startpos") end

--- Check an upload length (1-2147483647).
-- @param v the number
-- @return the integer, or nil, err
function M.uploadlen(v) return ranged(v, nil, "uploadlen") end

--- Check a download length (1-2147483647).
-- @param v the number
-- @return the integer, or nil, err
function M.downloadlen(v) return ranged(v, nil, "downloadlen") end

--- Check a last-packet flag (0 or 1).
-- @param v the number
-- @return the integer, or nil, err
function M.beof(v) return ranged(v, nil, "beof") end

local function cmdname(n)
	if type(n) ~= "string" or n == "" then
		error("atarg: command name expected, got " .. type(n), 3)
	end
	-- Extended (+) commands only; basic ones (ATO, AT&D1) are written literally.
	local bare = n:gsub("^[Aa][Tt]", ""):gsub("^%+", "")
	if not bare:match("^%w+$") then
		error("atarg: bad command name " .. string.format("%q", n), 3)
	end
	return "AT+" .. bare
end

--- Build a write (or execute) command from already-validated pieces.
-- Integers are written in decimal, strings verbatim (quote them first);
-- trailing nils are dropped (omitted optional parameters). A nil before a
-- given piece, a non-integral number, a string with CR, LF or NUL, or
-- another type is a programmer error and raises.
-- @param name the command, "QFTPPUT", "+QFTPPUT" or "AT+QFTPPUT"
-- @param ... the pieces
-- @return the command string, e.g. `AT+QFTPPUT="a.txt","COM:",0,100,1`
-- (`AT+QFTPPWD` when there are no pieces)
function M.command(name, ...)
	local head = cmdname(name)
	local n = select("#", ...)
	local pieces = { ... }
	while n > 0 and pieces[n] == nil do n = n - 1 end
	if n == 0 then return head end
	local out = {}
	for i = 1, n do
		local p = pieces[i]
		if p == nil then
			error(string.format("atarg.command: piece %d is nil but piece %d is given", i, n), 2)
		elseif type(p) == "number" then
			local v = math.tointeger(p)
			if v == nil then error("atarg.command: piece " .. i .. " is not an integer", 2) end
			out[i] = string.format("%d", v)
		elseif type(p) == "string" then
			if p:find("[\r\n\0]") then
				error("atarg.command: piece " .. i .. " contains CR, LF or NUL", 2)
			end
			out[i] = p
		else
			error("atarg.command: piece " .. i .. " is a " .. type(p), 2)
		end
	end
	return head .. "=" .. table.concat(out, ",")
end

--- Build a test command, e.g. `AT+QFTPCFG=?`.
-- @param name the command name
-- @return the command string
function M.test(name)
	return cmdname(name) .. "=?"
end

--- Build a read command, e.g. `AT+QIACT?`.
-- @param name the command name
-- @return the command string
function M.query(name)
	return cmdname(name) .. "?"
end

local cfg_checks = {
	filetype = M.filetype, transmode = M.transmode, contextid = M.contextid,
	rsptimeout = M.rsptimeout, ssltype = M.ssltype, sslctxid = M.sslctxid,
}

--- Build `AT+QFTPCFG="<setting>",...` (section 2.1), validating the values.
-- With no values it is the query form (`AT+QFTPCFG="filetype"`). "account"
-- takes username and password, the others one integer (`data_address` on
-- an EG800K a second one, its data timeout).
-- Without `caps` the settings are the manual's 7 and its ranges; with the
-- module's capabilities (`modemftp.capabilities`, what its AT+QFTPCFG=?
-- listed) a setting it does not list, or a value outside its range, is
-- refused, and the settings of newer firmware (data_address, restenable,
-- cache, ...) are taken where it lists them.
-- @param setting "account", "filetype", "transmode", "contextid", "rsptimeout", "ssltype", "sslctxid", ...
-- @param a the value (the username for "account")
-- @param b the password for "account", or a second value
-- @param caps optional: the module's capabilities
-- @param who optional: the module, for messages
-- @return the command string, or nil, err
function M.cfg(setting, a, b, caps, who)
	local q = '"' .. tostring(setting) .. '"'
	if caps then
		local ok, err = caps:check(setting, { a, b }, who)
		if not ok then return nil, err end
	end
	if setting == "account" then
		if a == nil and b == nil then return M.command("QFTPCFG", q) end
		local u, err = M.username(a)
		if not u then return nil, err end
		local p, perr = M.password(b)
		if not p then return nil, perr end
		return M.command("QFTPCFG", q, u, p)
	end
	local check = cfg_checks[setting]
	if caps and type(setting) == "string" and setting:match("^[%w_]+$") then
		-- the module's list decides; the manual's ranges still hold for its settings
		if a == nil then return M.command("QFTPCFG", q) end
		-- the module's range where it gives one (caps checked it), else the manual's
		if caps:range(setting) then check = nil end
		local v, err = (check or function(x) return M.int(x, setting, 0, INT32_MAX) end)(a)
		if not v then return nil, err end
		local w
		if b ~= nil then
			w, err = M.int(b, setting, 0, INT32_MAX)
			if not w then return nil, err end
		end
		return M.command("QFTPCFG", q, v, w)
	end
	if not check then
		return bad("setting", "unknown QFTPCFG setting, the EC20 knows account, filetype, "
			.. "transmode, contextid, rsptimeout, ssltype and sslctxid")
	end
	if a == nil then return M.command("QFTPCFG", q) end
	local v, err = check(a)
	if not v then return nil, err end
	return M.command("QFTPCFG", q, v)
end

--- Build `AT+QFTPPUT` (section 2.5), checking which parameters go together:
-- uploadlen and beof only with "COM:" and only both together; startpos is
-- filled in as 0 when uploadlen is given without it.
-- @param file_name the name on the server
-- @param local_name "COM:" or "RAM:<name>"
-- @param startpos optional start position
-- @param uploadlen optional packet length (COM: only)
-- @param beof optional last-packet flag (COM: only, with uploadlen)
-- @return the command string, or nil, err
function M.put_command(file_name, local_name, startpos, uploadlen, beof)
	local f, err = M.file_name(file_name)
	if not f then return nil, err end
	local l, lerr = M.local_name(local_name)
	if not l then return nil, lerr end
	if (uploadlen ~= nil or beof ~= nil) and not M.is_com(local_name) then
		return bad(uploadlen ~= nil and "uploadlen" or "beof", 'valid only when local_name is "COM:"')
	end
	if (uploadlen == nil) ~= (beof == nil) then
		return bad(uploadlen == nil and "uploadlen" or "beof", "uploadlen and beof go together")
	end
	local s, u, b
	if startpos ~= nil or uploadlen ~= nil then
		s, err = M.startpos(startpos == nil and 0 or startpos)
		if not s then return nil, err end
	end
	if uploadlen ~= nil then
		u, err = M.uploadlen(uploadlen)
		if not u then return nil, err end
		b, err = M.beof(beof)
		if not b then return nil, err end
	end
	return M.command("QFTPPUT", f, l, s, u, b)
end

--- Build `AT+QFTPGET` (section 2.6): downloadlen only with "COM:";
-- startpos is filled in as 0 when downloadlen is given without it.
-- @param file_name the name on the server
-- @param local_name "COM:" or "RAM:<name>"
-- @param startpos optional start position
-- @param downloadlen optional length to download (COM: only)
-- @return the command string, or nil, err
function M.get_command(file_name, local_name, startpos, downloadlen)
	local f, err = M.file_name(file_name)
	if not f then return nil, err end
	local l, lerr = M.local_name(local_name)
	if not l then return nil, lerr end
	if downloadlen ~= nil and not M.is_com(local_name) then
		return bad("downloadlen", 'valid only when local_name is "COM:"')
	end
	local s, d
	if startpos ~= nil or downloadlen ~= nil then
		s, err = M.startpos(startpos == nil and 0 or startpos)
		if not s then return nil, err end
	end
	if downloadlen ~= nil then
		d, err = M.downloadlen(downloadlen)
		if not d then return nil, err end
	end
	return M.command("QFTPGET", f, l, s, d)
end

return M
