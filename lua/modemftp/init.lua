--- modemftp: FTP jobs over a Quectel EC20's AT+QFTP* commands, from Lua.
--
--     local modemftp = require "modemftp"
--     local m = assert(modemftp.open("/dev/ttyUSB2", { baud = 115200 }))
--     assert(m:pdp { context = 1, apn = "internet" })
--     local s = assert(m:ftp { host = "ftp.example.com", user = "u", password = "p" })
--     assert(s:put("app.log", "/var/log/app.log"))
--     s:close() m:close()
--
-- Every runtime failure returns `nil, err` (see `modemftp.errors`); wrong
-- argument types raise. The C core (`modemftp.core`) moves the bytes.
local core = require "modemftp.core"
local errors = require "modemftp.errors"
local Modem = require "modemftp.modem"

local M = {
	_VERSION = "modemftp " .. core.version,
	errors = errors,
	core = core,
}

--- Open a modem port.
-- @param port "/dev/ttyUSB2" (libserialport, falling back to termios),
--   "tty:/dev/pts/3" (termios: ttys and ptys), "serial:/dev/ttyUSB2",
--   "tcp:HOST:PORT" (ser2net raw), or "replay:FILE" (a recorded transcript)
-- @param opts optional table: `baud` (115200), `rtscts` (false), `dtr`
--   (true), `record` (path: write a transcript of the session), `trace`
--   (a Lua file: log AT traffic, passwords redacted), `timeout` (seconds for
--   plain AT commands, default 5), `init` (false to skip bringing the
--   module to a known state: modemftp.recover), `guard` (seconds of "+++"
--   guard time, 1), `boot_wait` (seconds, 20: a boot, a stall or a busy SIM
--   is waited out this long), `probe_wait` (seconds, 0.5), `identify`
--   (false: read the module's identity on first use instead of now),
--   `profile` (overrides of the module's behaviour: {resume = "ato" |
--   "restart" | "auto", drives = "UFS,SD", hostname_max =, path_max =},
--   see modemftp.identity)
-- @return a Modem, or nil, err
function M.open(port, opts)
	return Modem.open(port, opts)
end

return M
