--- modemftp.lock: one lock file per modem, so two processes never drive it at once.
--
-- The lock is `core.lock` (flock on a file); this module names the file
-- (one per device, whatever the port's spelling), picks the directory, and
-- waits for a held lock in short steps so SIGINT/SIGTERM stop the wait.
local core = require "modemftp.core"
local errors = require "modemftp.errors"
local usbserial = require "modemftp.usbserial"
local util = require "modemftp.util"

local M = {}

--- The lock file of a port spec: one name per device, whatever the spelling
-- ("/dev/ttyUSB2", "tty:/dev/ttyUSB2", a /dev/serial/by-id link and the
-- usb:VID:PID:IF spec that names it share it).
-- @param port the port spec
-- @param dir the lock directory
-- @return the path
function M.path(port, dir)
	local dev = port:match("^tty:(.*)$") or port:match("^serial:(.*)$") or usbserial.resolve(port) or port
	if dev:sub(1, 1) == "/" then dev = core.realpath(dev) or dev end
	local name = dev:gsub("^/dev/", ""):gsub("[^%w%._%-]", "_")
	return dir .. "/modemftp." .. name .. ".lock"
end

local function writable_dir(d)
	local probe = d .. "/.modemftp-probe-" .. core.getpid()
	local f = io.open(probe, "w")
	if not f then return false end
	f:close()
	os.remove(probe)
	return true
end

--- The lock directory: conf.lock_dir, MODEMFTP_LOCK_DIR, /run/lock, /tmp.
-- @param conf the configuration
-- @return the directory
function M.dir(conf)
	local d = conf.lock_dir or util.getenv("MODEMFTP_LOCK_DIR")
	if d then return d end
	if writable_dir("/run/lock") then return "/run/lock" end
	return "/tmp"
end

-- What an OS error on the lock file means: name and advice.
local LOCK_ERRNO = {
	[1] = { "noperm", "the user may not open or create the lock file" },
	[13] = { "noperm", "the user may not open or create the lock file" },
	[30] = { "noperm", "the lock directory is read-only" },
	[2] = { "no_lock_dir", "the lock directory does not exist" },
	[20] = { "no_lock_dir", "the lock directory is not a directory" },
}

--- Take a lock, waiting up to `seconds` while another process holds it
-- (SIGINT/SIGTERM stop the wait). The lock file is created mode 0644
-- whatever the umask, and one that cannot be opened read-write is locked
-- through a read-only descriptor: a lock file root created does not lock a
-- service account out (`core.lock`).
-- @param path the lock file
-- @param seconds how long to wait (0: try once)
-- @return the lock (`lock:unlock()`), or nil, err with err.name "busy"
--   (still held after the wait; the message names the holder when it can),
--   "interrupted", "noperm" (EACCES, EPERM, EROFS), "no_lock_dir" (ENOENT,
--   ENOTDIR) or "io"; err.errno is the OS error
function M.acquire(path, seconds)
	local deadline = core.monotonic_ms() + util.ms(seconds or 0)
	while true do
		local step = math.max(0, math.min(200, deadline - core.monotonic_ms()))
		local lock, err = core.lock(path, step)
		if lock then return lock end
		if err.kind ~= "busy" then
			local what = LOCK_ERRNO[err.errno]
			return nil, errors.new { name = what and what[1] or "io", errno = err.errno,
				message = err.message .. (what and (" (" .. what[2] .. ")") or ""), retryable = not what }
		end
		if core.interrupted() then
			return nil, errors.new { name = "interrupted", message = "interrupted while waiting for " .. path }
		end
		if core.monotonic_ms() >= deadline then return nil, errors.new { name = "busy", message = err.message } end
	end
end

return M
