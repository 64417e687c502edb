--- modemftp.ftpstate: the module's FTP service as the Lua layer knows it.
--
-- One model, mirroring AT+QFTPSTAT (section 2.15): `m.ftpstate` is
-- "opening", "idle", "transferring", "closing", "closed", or "unknown"
-- (a new process: an earlier one may have left a session open). It is set
-- by what the runtime sends (login, transfers, close), by what the module
-- says (AT+QFTPSTAT, a `+QFTPCLOSE` URC, a restart, a lost PDP context:
-- `ftpstate.line`, called by the modem's one place for URCs) and is the
-- base of two recoveries real modules need:
--
-- * a session of an earlier process (QFTPOPEN answers 603): `close` it,
--   then log in (`Session.open`);
-- * an asynchronous close (capture 07, EG800K: AT+QFTPCLOSE answers OK at
--   once, every FTP command 603 until `+QFTPCLOSE: 0,0`): `close` returns
--   only when the module says the session is closed, within rsptimeout.
--
-- Dependencies: the modem is an argument (its `command`, `poll`, `timeout`);
-- this module uses none of modem, session or flow.
local core = require "modemftp.core"
local errors = require "modemftp.errors"
local transfer = require "modemftp.transfer"
local util = require "modemftp.util"

local M = {}

--- AT+QFTPSTAT's <ftpstat> values and their names.
M.NAMES = { [0] = "opening", "idle", "transferring", "closing", "closed" }

M.SLACK = 10 -- seconds beyond rsptimeout: the module's own timer fires first

local BUSY = 603 -- "FTP(S) server busy": a session open, closing, or a job running

--- The state as last known ("unknown" when nothing was asked or seen yet).
function M.get(m)
	return m.ftpstate or "unknown"
end

--- What a line the module printed by itself says about the FTP service
-- (the modem's one place for URCs calls this for every such line).
-- @param m the modem
-- @param line the URC
-- @param class its `core.line_class`
function M.line(m, line, class)
	if class.reboot or class.pdp_lost or line:find("^%+QFTPCLOSE:") then
		m.ftpstate = "closed"
	end
end

--- Ask the module (AT+QFTPSTAT; no session needed).
-- @param m the modem
-- @return the number (0-4) and its name, or nil, err
function M.stat(m)
	local r, err = m:command("AT+QFTPSTAT", { op = "stat", result = "+QFTPSTAT", early = true,
		result_timeout = m.timeout })
	if not r then return nil, err end
	local v, e = transfer.result("stat", r.result, "+QFTPSTAT")
	if v == nil then return nil, e end
	m.ftpstate = M.NAMES[v] or "unknown"
	return v, m.ftpstate
end

--- True when err is the module's "busy" (603): a session is open, closing,
-- or a job still runs.
function M.busy(err)
	return errors.is(err) and err.code == BUSY
end

local function timeout(op, seconds, state)
	return errors.new { op = op, name = "timeout", retryable = true, seconds = seconds,
		message = string.format("the module did not close its FTP session within %g s (AT+QFTPSTAT: %s)",
			seconds, state) }
end

--- Close the module's FTP session, whoever opened it, and return only when
-- the module says it is closed: its `+QFTPCLOSE` result, or, when a close
-- is already in progress (603 to AT+QFTPCLOSE), that close's URC or
-- AT+QFTPSTAT 4. Bounded by rsptimeout + SLACK.
-- @param m the modem
-- @param rsptimeout the session's rsptimeout (seconds; 90 when nil)
-- @param op the operation name for errors ("close", "open")
-- @return true, or nil, err (err from the +QFTPCLOSE result: the module
--   has dropped the session either way, m.ftpstate is "closed")
function M.close(m, rsptimeout, op)
	op = op or "close"
	local limit = (rsptimeout or 90) + M.SLACK
	local deadline = core.monotonic_ms() + util.ms(limit)
	local tries = 0
	while true do
		tries = tries + 1
		m.ftpstate = "closing"
		local left = math.max(deadline - core.monotonic_ms(), 1000) / 1000
		local r, err = m:command("AT+QFTPCLOSE", { op = op, result = "+QFTPCLOSE", result_timeout = left })
		if r then
			m.ftpstate = "closed"
			local v, e = transfer.result(op, r.result, "+QFTPCLOSE", { command = "AT+QFTPCLOSE" })
			if v == nil then return nil, e end
			return true
		end
		if not M.busy(err) then
			m.ftpstate = "unknown"
			return nil, err
		end
		-- 603: a close in progress (its URC comes later), or a job that
		-- still runs (a dead host's): wait for the URC, ask STAT now and then
		local state = "closing"
		local ask = core.monotonic_ms() + 500
		while m.ftpstate ~= "closed" do
			if core.monotonic_ms() >= deadline then return nil, timeout(op, limit, state) end
			if core.interrupted() then
				return nil, errors.new { op = op, name = "interrupted", message = "interrupted while the module closes its FTP session" }
			end
			local lines, perr = m:poll(0.1)
			if not lines then return nil, perr end
			if m.ftpstate ~= "closed" and core.monotonic_ms() >= ask then
				local v, name = M.stat(m)
				if v == nil then return nil, name end
				state = name
				if v == 4 then m.ftpstate = "closed"; break end
				if v ~= 3 then break end -- not closing: a job ended; send the close again
				ask = core.monotonic_ms() + 500
			end
		end
		if m.ftpstate == "closed" then return true end
		if tries >= 5 then return nil, timeout(op, limit, state) end
	end
end

return M
