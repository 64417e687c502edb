--- spec/support/replay.lua: build modem transcripts in specs, play them
-- through the real `replay:` transport, and check that no port is left open.
--
--     local T = replay.script()
--     T:cmd('AT+QFTPCWD="/"'):ok():urc("+QFTPCWD: 0,0")
--     local m = T:open()             -- modemftp.open("replay:<tmp>", {init = false})
--     assert(m:...)
--     T:finish(m)                    -- transcript fully played, port closed
local modemftp = require "modemftp"
local core = require "modemftp.core"

local M = {}

-- Track every port the core opens, to assert none is left open.
local opened = setmetatable({}, { __mode = "k" })
if not core._tracked then
	local open = core.open
	core.open = function(...)
		local p, e = open(...)
		if p then opened[p] = true end
		return p, e
	end
	core._tracked = true
end

--- Assert that every port opened so far was closed.
function M.assert_all_closed()
	for p in pairs(opened) do
		if p:is_open() then
			p:close()
			error("a modem port was left open: " .. tostring(p), 2)
		end
	end
end

--- Escape bytes for a transcript line (src/transcript/README.md).
local function esc(s)
	local t = {}
	for i = 1, #s do
		local c = s:sub(i, i)
		local b = c:byte()
		if c == "\\" then t[#t + 1] = "\\\\"
		elseif c == "\r" then t[#t + 1] = "\\r"
		elseif c == "\n" then t[#t + 1] = "\\n"
		elseif c == "\t" then t[#t + 1] = "\\t"
		elseif b >= 32 and b <= 126 then t[#t + 1] = c
		else t[#t + 1] = string.format("\\x%02X", b) end
	end
	local line = table.concat(t)
	if line:sub(-1) == " " then line = line:sub(1, -2) .. "\\x20" end
	return line
end
M.escape = esc

local Script = {}
Script.__index = Script

--- A new transcript builder. opts.echo = false for an ATE0 modem.
function M.script(opts)
	opts = opts or {}
	return setmetatable({ lines = { "# modemftp transcript v1" }, echo = opts.echo ~= false }, Script)
end

local function emit(self, dir, bytes)
	-- one transcript line per modem line keeps the file readable
	for piece in bytes:gmatch("[^\n]*\n?") do
		if piece ~= "" then self.lines[#self.lines + 1] = dir .. " " .. esc(piece) end
	end
	return self
end

--- The host sends cmd (CR added); the modem echoes it when echo is on.
function Script:cmd(cmd)
	emit(self, ">", cmd .. "\r")
	if self.echo then emit(self, "<", cmd .. "\r") end
	return self
end
--- The host sends raw bytes (data mode).
function Script:send(bytes) return emit(self, ">", bytes) end
--- The modem sends raw bytes.
function Script:raw(bytes) return emit(self, "<", bytes) end
--- The modem sends one framed line: \r\n<line>\r\n.
function Script:line(l) return emit(self, "<", "\r\n" .. l .. "\r\n") end
function Script:ok() return self:line("OK") end
function Script:error() return self:line("ERROR") end
function Script:cme(n) return self:line("+CME ERROR: " .. n) end
--- A result or unsolicited line (same framing as line).
Script.urc = Script.line
function Script:connect() return emit(self, "<", "\r\nCONNECT\r\n") end
--- Silence of ms milliseconds (before a ">" line: the host's guard time).
function Script:pause(ms) self.lines[#self.lines + 1] = "~ " .. ms; return self end
function Script:close() self.lines[#self.lines + 1] = "! close"; return self end
function Script:comment(t) self.lines[#self.lines + 1] = "# " .. t; return self end

--- The standard opening: ATE1 and AT+CMEE=1 (what modemftp.open sends).
function Script:hello()
	return self:cmd("ATE1"):ok():cmd("AT+CMEE=1"):ok()
end

--- The transcript text.
function Script:text() return table.concat(self.lines, "\n") .. "\n" end

--- Write the transcript and open a modem on it.
-- @param opts passed to modemftp.open (init defaults to false unless the
--   script starts with hello())
function Script:open(opts)
	opts = opts or {}
	self.path = os.tmpname()
	local f = assert(io.open(self.path, "wb"))
	f:write(self:text())
	f:close()
	if opts.init == nil then opts.init = false end
	return modemftp.open("replay:" .. self.path, opts)
end

--- Assert the whole transcript was played, then close and clean up.
function Script:finish(m)
	local ok, err = m:replay_finished()
	m:close()
	os.remove(self.path)
	assert(ok, tostring(err))
end

--- Remove the file without the check (for specs that stop early on purpose).
function Script:discard(m)
	if m then m:close() end
	if self.path then os.remove(self.path) end
end

-- ------------------------------------------------------------ FTP login

--- The FTP server of the replayed logins.
M.HOST = "quectel.3322.org"

--- Add the login `session` performs: the QFTPCFG settings, then QFTPOPEN.
-- @param T the script
-- @param extra optional function(T) adding commands before QFTPOPEN
-- @param result optional QFTPOPEN result line ("+QFTPOPEN: 0,0")
-- @return T
function M.login(T, extra, result)
	T:cmd('AT+QFTPCFG="contextid",1'):ok()
	T:cmd('AT+QFTPCFG="account","test","test"'):ok()
	T:cmd('AT+QFTPCFG="filetype",0'):ok()
	T:cmd('AT+QFTPCFG="transmode",1'):ok()
	T:cmd('AT+QFTPCFG="rsptimeout",90'):ok()
	T:cmd('AT+QFTPCFG="ssltype",0'):ok()
	if extra then extra(T) end
	T:cmd('AT+QFTPOPEN="' .. M.HOST .. '",21'):ok():pause(5):urc(result or "+QFTPOPEN: 0,0")
	return T
end

--- Open the script's modem and log in (the script starts with `login`).
-- @param T the script
-- @param opts passed to `Script:open`
-- @return the modem and the session
function M.session(T, opts)
	local m = assert(T:open(opts))
	local s = assert(m:ftp { host = M.HOST, user = "test", password = "test" })
	return m, s
end

return M
