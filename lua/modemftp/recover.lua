--- modemftp.recover: bring a modem's AT channel to a known state, and open
-- a port that went away again.
--
-- The module keeps its state across host processes and across our own
-- failures: a dead host's upload or download in data mode, a half-typed
-- line, ATV0, late answers, a boot in progress, a stall. `sync` runs the
-- core's sequence (src/at/mf_sync.h: flush, probe, "+++", boot wait,
-- ATE1 V1 Q0, AT+CMEE=1) and keeps what it found in `m.sync`:
--
--     m.sync = {state = "clean" | "upload" | "download" | "boot" | "sim_busy"
--               | "stall" | "atv0" | "half_line" | "echo_off" | "late" | "stale",
--               states = {...every state found...}, actions = {"probe ATE1", "cmee", ...},
--               ms = 3, flushed = bytes, stale = lines, late = lines, urcs = n,
--               probes = n, sim = "+CPIN: READY" (after a boot)}
--
-- On a clean module the bytes on the line are those of the old handshake
-- ("ATE1", "AT+CMEE=1") and it costs one non-blocking read more.
-- What the FTP session, the PDP context and the URCs mean for the Lua
-- layer's own state is not decided here. `m.recoveries` counts the module
-- states brought back (a sync that found anything but "clean", a port
-- reopened; `Session.open` adds a session an earlier process left open):
-- the `--metrics` counter modemftp_recoveries_total.
local errors = require "modemftp.errors"
local transfer = require "modemftp.transfer"
local usbserial = require "modemftp.usbserial"
local util = require "modemftp.util"

local ms = util.ms

local M = {}

--- The core's sync options from open's options (seconds) and the modem's.
-- @param m the modem (its guard and timeout)
-- @param opts `boot_wait` (s, 20: the longest wait for a boot, a stall or a
--   busy SIM), `probe_wait` (s, 0.5: one probe's deadline), `guard`, `timeout`
-- @return the options table for port:sync
function M.options(m, opts)
	opts = opts or {}
	return {
		boot_ms = ms(opts.boot_wait or 20),
		probe_ms = ms(opts.probe_wait or 0.5),
		guard_ms = ms(opts.guard or m.guard),
		cmd_ms = ms(opts.timeout or m.timeout),
	}
end

--- Run the sequence on m's port; m.sync gets what it found.
-- @param m the modem
-- @param opts see `options` (nil: the options open was given)
-- @return m.sync, or nil, err (err.sync: what was found before it failed)
function M.sync(m, opts)
	if opts then m.sync_opts = M.options(m, opts) end
	local r, err = m.port:sync(m.sync_opts or M.options(m))
	if not r then
		m.sync = err.sync
		return nil, transfer.fail("sync", err, { target = m.name, sync = err.sync })
	end
	m.sync = r
	-- a module found in any state but clean was brought back: a recovery (metrics)
	if r.state ~= "clean" and not m.reopening then m.recoveries = (m.recoveries or 0) + 1 end
	return r
end

--- Open m's port spec again (resolved anew: a usb:VID:PID:IF spec is looked
-- up in sysfs again, a symlink such as /dev/serial/by-id/... is followed
-- again) and run the sequence.
-- @param m the modem
-- @param opts as for `sync`
-- @return m.sync, or nil, err (retryable when the port is not back yet)
function M.reopen(m, opts)
	-- a usb: or by-id spec is looked up again: the device may have come back under another number
	local device, rerr = usbserial.resolve(m.name)
	if not device then
		return nil, errors.new { op = "reopen", target = m.name, name = "closed", retryable = true,
			message = "the port is not back: " .. rerr.message }
	end
	local ok, err = m.port:reopen(device ~= m.name and device or nil)
	if ok then m.device = device end
	if not ok then return nil, transfer.fail("reopen", err, { target = m.name }) end
	m.recoveries = (m.recoveries or 0) + 1 -- a port that came back: one recovery, whatever its sync finds
	if m.init == false then return { state = "unknown", states = {}, actions = {}, ms = 0 } end
	m.reopening = true
	local r, serr = M.sync(m, opts)
	m.reopening = nil
	return r, serr
end

return M
