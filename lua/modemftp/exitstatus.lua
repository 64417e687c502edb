--- modemftp.exitstatus: the exit statuses of the `modemftp` command.
--
-- They follow sysexits(3) where it has a word for the failure, so that
-- cron, systemd units and monitoring can tell "fix the configuration"
-- (64, 78), "fix the permissions" (77) and "not a modem" (69) from "try
-- again later" (75, 73). `EXIT` names each status (documented in `modemftp
-- --help` and modemftp(1)), `RESULT` gives the word the --json line prints
-- for it, and `exitstatus.of(err)` says how a failed run ends: a signal or
-- the --timeout deadline first, then the error object's name (usage: 64,
-- config: 78, noperm: 77, not_a_modem: 69, local_missing: 66, local_io:
-- 74, busy: 73), then retryable: 75; else 1.
-- 69 is also what the runner gives instead of 75 or 73 when
-- --max-temp-failures temporary failures came in a row (`modemftp.runner`),
-- so that a unit or a monitor can take 75 as "try again" and still see a
-- modem or server that stays unreachable: sysexits' EX_UNAVAILABLE, "a
-- service is unavailable", is what the run has shown by then.
local core = require "modemftp.core"
local errors = require "modemftp.errors"

local M = {}

--- Exit statuses.
M.EXIT = {
	ok = 0,          -- the job succeeded
	failed = 1,      -- the job failed (a permanent error, or the job said so)
	usage = 64,      -- EX_USAGE: bad command line (option, value, operand), no port configured
	noinput = 66,    -- EX_NOINPUT: the job file cannot be read or compiled, or a file to send is missing
	unavailable = 69, -- EX_UNAVAILABLE: the port answers nothing AT-like, or --max-temp-failures in a row
	software = 70,   -- EX_SOFTWARE: an internal error in modemftp
	busy = 73,       -- the port or its lock is held by another process (after --lock-timeout)
	ioerr = 74,      -- EX_IOERR: a local file cannot be read or written (disk full, read-only, ...)
	tempfail = 75,   -- EX_TEMPFAIL: a retryable error (network, timeout, ...): a later run may succeed
	noperm = 77,     -- EX_NOPERM: the user may not open the device, the lock file or a configuration file
	config = 78,     -- EX_CONFIG: a configuration file or the environment says something impossible
	timeout = 124,   -- --timeout expired (as timeout(1))
	sigint = 130,    -- interrupted by SIGINT (128 + 2)
	sigterm = 143,   -- interrupted by SIGTERM (128 + 15)
}

--- The --json line's `result` for each status.
M.RESULT = {
	[0] = "ok", [1] = "failed", [64] = "usage", [66] = "noinput", [69] = "unavailable", [70] = "error", [73] = "busy",
	[74] = "ioerr", [75] = "tempfail", [77] = "noperm", [78] = "config", [124] = "timeout", [130] = "interrupted",
	[143] = "interrupted",
}

-- Error names with a status of their own.
local BY_NAME = {
	interrupted = M.EXIT.sigterm, usage = M.EXIT.usage, config = M.EXIT.config, noperm = M.EXIT.noperm,
	not_a_modem = M.EXIT.unavailable, local_missing = M.EXIT.noinput, local_io = M.EXIT.ioerr, busy = M.EXIT.busy,
}

--- The exit status of a failed run or console start.
-- @param err error object, string or nil
-- @return the status
function M.of(err)
	if core.deadline_expired() then return M.EXIT.timeout end
	local sig = core.interrupted()
	if sig == 2 then return M.EXIT.sigint end
	if sig == 15 then return M.EXIT.sigterm end
	if errors.is(err) then
		if BY_NAME[err.name] then return BY_NAME[err.name] end
		if err.retryable then return M.EXIT.tempfail end
	end
	return M.EXIT.failed
end

return M
