--- modemftp.exitstatus: the exit statuses of the `modemftp` command.
--
-- `EXIT` names each status (documented in `modemftp --help` and
-- modemftp(1)), `RESULT` gives the word the --json line prints for it, and
-- `exitstatus.of(err)` says how a failed run ends: a signal or the
-- --timeout deadline first, then the error object (a local file that could
-- not be read or written: 74, or 66 when the file to send is missing;
-- retryable: 75; else 1).
-- 69 is not an error's status: the runner gives it instead of 75 or 73 when
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
	usage = 64,      -- EX_USAGE: bad command line, configuration, no port
	unavailable = 69, -- EX_UNAVAILABLE: --max-temp-failures temporary failures (75, 73) in a row
	noinput = 66,    -- EX_NOINPUT: the job file cannot be read or compiled, or a file to send is missing
	software = 70,   -- EX_SOFTWARE: an internal error in modemftp
	busy = 73,       -- the port's lock is held by another modemftp (after --lock-timeout)
	ioerr = 74,      -- EX_IOERR: a local file cannot be read or written (disk full, read-only, ...)
	tempfail = 75,   -- EX_TEMPFAIL: a retryable error (network, timeout, ...): a later run may succeed
	timeout = 124,   -- --timeout expired (as timeout(1))
	sigint = 130,    -- interrupted by SIGINT (128 + 2)
	sigterm = 143,   -- interrupted by SIGTERM (128 + 15)
}

--- The --json line's `result` for each status.
M.RESULT = {
	[0] = "ok", [1] = "failed", [64] = "usage", [66] = "noinput", [69] = "unavailable", [70] = "error", [73] = "busy", [74] = "ioerr",
	[75] = "tempfail", [124] = "timeout", [130] = "interrupted", [143] = "interrupted",
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
		if err.name == "interrupted" then return M.EXIT.sigterm end
		if err.name == "local_missing" then return M.EXIT.noinput end
		if err.name == "local_io" then return M.EXIT.ioerr end
		if err.retryable then return M.EXIT.tempfail end
	end
	return M.EXIT.failed
end

return M
