--- modemftp.simpin: enter the configured SIM PIN when the SIM asks for it.
--
-- `AT+CPIN?` says what the SIM waits for. "READY": nothing to do. "SIM
-- PIN": the configured PIN is entered with AT+CPIN="<pin>", once, and only
-- while the SIM still has all 3 of its attempts (AT+QPINC="SC"; a module
-- without that command is trusted): a wrong PIN in a configuration costs
-- one attempt, and the next run refuses instead of spending the rest and
-- locking the SIM behind its PUK. Anything else ("SIM PUK", "PH-SIM PIN",
-- ...) needs a person. The PIN is a secret of the port (`port:secret`; the
-- core also learns every quoted argument of AT+CPIN=), so traces and
-- transcripts show "\*".
local core = require "modemftp.core"
local errors = require "modemftp.errors"
local reply = require "modemftp.reply"

local M = {}

--- How many PIN attempts a SIM has when none was wasted.
M.ATTEMPTS = 3

local function failure(name, fmt, ...)
	return errors.new { op = "pin", name = name, message = string.format(fmt, ...), retryable = false }
end

local HOW = "(modemftp console, then at 'AT+CPIN=\"<pin>\"')"

-- What the SIM waits for ("READY", "SIM PIN", ...). @return code, or nil, err
local function waits_for(m)
	local r, err = m:command("AT+CPIN?", { op = "pin" })
	if not r then return nil, err end
	for _, line in ipairs(r.info) do
		local code = reply.cpin(line)
		if code then return code:upper() end
	end
	return nil, failure("protocol", "no +CPIN answer to AT+CPIN?")
end

-- The PIN attempts left (+QPINC: "SC",<pin>,<puk>), or nil when unknown.
local function attempts_left(m)
	local r = m:command('AT+QPINC="SC"', { op = "pin" })
	for _, line in ipairs(r and r.info or {}) do
		local n = line:match('^%+QPINC:%s*"SC"%s*,%s*(%d+)')
		if n then return tonumber(n) end
	end
	return nil
end

--- Unlock the SIM with the configured PIN if it asks for one.
-- @param m the modem
-- @param pin the PIN (4-8 digits) or nil when none is configured
-- @param o optional {ready_wait = seconds (10): how long the SIM may take
--   to become READY after the PIN}
-- @return "ready" (nothing asked) or "entered"; or nil, err: err.name
--   "config" (the SIM wants a PIN and none is configured, the PIN was
--   refused, or attempts were already wasted), "sim_locked" (PUK or another
--   code a person must enter), or the command's own failure
function M.unlock(m, pin, o)
	o = o or {}
	local code, err = waits_for(m)
	if not code then return nil, err end
	if code == "READY" then return "ready" end
	if code ~= "SIM PIN" then
		return nil, failure("sim_locked", "the SIM waits for %s: enter it by hand %s", code, HOW)
	end
	if not pin or pin == "" then
		return nil, failure("config", "the SIM asks for its PIN: set `pin =` (or pin_file =, MODEMFTP_PIN)")
	end
	m.port:secret(pin)
	local left = attempts_left(m)
	if left and left < M.ATTEMPTS then
		return nil, failure("config", "the SIM has %d PIN attempt%s left: the configured PIN is not tried "
			.. "(a wrong one would lock the SIM); check `pin` and enter it once by hand %s", left, left == 1 and "" or "s", HOW)
	end
	local r
	r, err = m:command('AT+CPIN="' .. pin .. '"', { op = "pin", timeout = 10 })
	if not r then
		if err.retryable then return nil, err end
		return nil, failure("config", "the SIM refused the configured PIN (%s): fix `pin`; %s attempt(s) left",
			tostring(err.message), tostring(attempts_left(m) or "?"))
	end
	local deadline = core.monotonic_ms() + math.floor((o.ready_wait or 10) * 1000)
	while true do
		code, err = waits_for(m)
		if code == "READY" then return "entered" end
		if core.monotonic_ms() >= deadline then
			return nil, err or failure("sim_locked", "the SIM is not ready after its PIN: +CPIN: %s", code)
		end
		core.sleep_ms(200)
	end
end

return M
