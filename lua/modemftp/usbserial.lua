--- modemftp.usbserial: USB serial ports as sysfs describes them, and the
-- port specs that name a modem by what it is.
--
-- A modem's ttyUSBn numbers follow the order in which the kernel found its
-- interfaces: they change after a reset or a re-plug. Its vendor, product
-- and interface number do not. Two port specs name it by those:
--
--   usb:VID:PID:IF[:SERIAL]   e.g. usb:2c7c:0125:2: VID and PID in hex, IF
--                             the USB interface number (bInterfaceNumber,
--                             decimal as lsusb -v prints it), SERIAL the USB
--                             serial number when two identical modems are
--                             plugged in;
--   /dev/serial/by-id/...     udev's link, which names the same things.
--
-- `resolve(spec)` turns either into the device to open, reading sysfs each
-- time it is called: `modemftp.open` resolves on open and `m:reopen()`
-- again, so the port is found after it re-enumerated under another number.
-- Any other spec is returned as it is.
--
-- What sysfs says about one tty (`info`): /sys/class/tty/NAME/device is the
-- USB interface (cdc_acm: ttyACM) or a port below it (usb-serial: ttyUSB);
-- the interface holds bInterfaceNumber, its parent USB device idVendor,
-- idProduct, manufacturer, product and serial. The roots are /sys and /dev,
-- or MODEMFTP_SYSFS and MODEMFTP_DEVROOT (a test builds a fake tree with
-- the same links: spec/support/fakesysfs.lua).
--
-- Which interface of a Quectel module is its AT port is one table here
-- (`QUECTEL`, `role`), so `modemftp ports` can mark it.
local core = require "modemftp.core"
local errors = require "modemftp.errors"
local util = require "modemftp.util"

local M = {}

--- The interfaces of Quectel modules: "VID:PID" -> {model, roles = {[IF] =
-- "DM" | "NMEA" | "AT" | "modem"}}. "AT" is the port for modemftp; "modem"
-- is the second AT port, meant for PPP. Sources: Quectel's Linux USB driver
-- guide (EC20/EC25: 0 DM, 1 NMEA, 2 AT, 3 modem, 4 network) and
-- ModemManager's udev rules (77-mm-quectel-port-types.rules) for the other
-- Qualcomm-based modules; BG95's from the kernel's option driver, which
-- binds interfaces 0-2 and reserves 3 (less sure: no port-type rule found).
M.QUECTEL = {}
do
	local CLASSIC = { [0] = "DM", [1] = "NMEA", [2] = "AT", [3] = "modem" }
	local models = {
		["05c6:9215"] = "EC20 (Qualcomm VID)", ["2c7c:0121"] = "EC21", ["2c7c:0125"] = "EC25/EG25-G/EC20 R2.1",
		["2c7c:0191"] = "EG91", ["2c7c:0195"] = "EG95", ["2c7c:0296"] = "BG96", ["2c7c:0306"] = "EG06/EP06/EM06",
		["2c7c:0512"] = "EG12/EM12/EG18", ["2c7c:0800"] = "RM500Q",
	}
	for id, model in pairs(models) do M.QUECTEL[id] = { model = model, roles = CLASSIC } end
	M.QUECTEL["2c7c:0700"] = { model = "BG95/BG77/BG600L", roles = { [0] = "DM", [1] = "NMEA", [2] = "AT" } }
	M.QUECTEL["2c7c:0128"] = { model = "EM060K (MBIM)", roles = { [3] = "DM", [4] = "NMEA", [5] = "AT" } }
end

local function id(vid, pid) return string.format("%04x:%04x", vid or 0, pid or 0) end

--- What an interface of a known Quectel module is for.
-- @param vid the USB vendor id (a number)
-- @param pid the USB product id
-- @param interface the interface number
-- @return "AT", "DM", "NMEA", "modem", or nil (not known), and the model name
function M.role(vid, pid, interface)
	local q = M.QUECTEL[id(vid, pid)]
	if not q then return nil end
	return q.roles[interface], q.model
end

--- The interface number of a known module's AT port.
-- @param vid the USB vendor id (a number)
-- @param pid the USB product id
-- @return the interface number, or nil when the product is not known
function M.at_interface(vid, pid)
	local q = M.QUECTEL[id(vid, pid)]
	if not q then return nil end
	for i, r in pairs(q.roles) do
		if r == "AT" then return i end
	end
end

--- The sysfs and /dev roots: o.sys / o.dev, else MODEMFTP_SYSFS /
-- MODEMFTP_DEVROOT, else /sys and /dev.
-- @param o optional {sys =, dev =}
-- @return {sys =, dev =}
function M.roots(o)
	o = o or {}
	return { sys = o.sys or util.getenv("MODEMFTP_SYSFS") or "/sys", dev = o.dev or util.getenv("MODEMFTP_DEVROOT") or "/dev" }
end

local function read_attr(path)
	local f = io.open(path, "r")
	if not f then return nil end
	local v = f:read("l")
	f:close()
	return v and (v:gsub("%s+$", "")) or nil
end

local function parent(path) return path:match("^(.*)/[^/]+$") end

local function hex(s) return s and tonumber(s, 16) or nil end

--- What sysfs says about one tty.
-- @param name the tty's name ("ttyUSB2")
-- @param roots optional `roots()` table
-- @return {name, device = DEVROOT/name, vid, pid, interface, manufacturer,
--   product, serial, usb = the USB device's sysfs name ("1-1.4")}, or nil
--   when the tty is not on USB (or sysfs does not know it)
function M.info(name, roots)
	roots = roots or M.roots()
	local dev = core.realpath(roots.sys .. "/class/tty/" .. name .. "/device")
	if not dev then return nil end
	local iface = dev
	if not read_attr(iface .. "/bInterfaceNumber") then iface = parent(dev) end
	local ifnum = iface and hex(read_attr(iface .. "/bInterfaceNumber"))
	local usb = iface and parent(iface)
	local vid = usb and hex(read_attr(usb .. "/idVendor"))
	if not (ifnum and vid) then return nil end
	return {
		name = name, device = roots.dev .. "/" .. name, vid = vid, pid = hex(read_attr(usb .. "/idProduct")),
		interface = ifnum, manufacturer = read_attr(usb .. "/manufacturer"), product = read_attr(usb .. "/product"),
		serial = read_attr(usb .. "/serial"), usb = usb:match("[^/]+$"),
	}
end

-- A folder's names, sorted (so lists and messages read the same each time).
local function names(dir)
	local list = core.listdir(dir) or {}
	table.sort(list)
	return list
end

--- The /dev/serial/by-id links: realpath of the target -> the link.
local function by_id_links(roots)
	local dir = roots.dev .. "/serial/by-id"
	local out = {}
	for _, link in ipairs(names(dir)) do
		local target = core.realpath(dir .. "/" .. link)
		if target then out[target] = dir .. "/" .. link end
	end
	return out
end

--- Every USB tty sysfs knows, with its /dev/serial/by-id link (`by_id`).
-- @param roots optional `roots()` table
-- @return array of `info` tables, by name
function M.list(roots)
	roots = roots or M.roots()
	local links = by_id_links(roots)
	local out = {}
	for _, name in ipairs(names(roots.sys .. "/class/tty")) do
		local t = M.info(name, roots)
		if t then
			local real = core.realpath(t.device)
			t.by_id = real and links[real] or nil
			out[#out + 1] = t
		end
	end
	return out
end

-- A spec that can never name a port as written: a bad argument, which
-- the command reports as a usage (64) or configuration (78) error by where
-- the port came from (`modemftp.runner`).
local function config_error(spec, fmt, ...)
	return errors.new { op = "open", target = spec, name = "argument", retryable = false, message = string.format(fmt, ...) }
end

-- The device is not there (unplugged, resetting, still enumerating): as for
-- a /dev/ttyUSB2 that is missing, a later run may find it.
local function absent(spec, fmt, ...)
	return errors.new { op = "open", target = spec, name = "io", retryable = true, message = string.format(fmt, ...) }
end

--- Parse a usb: spec.
-- @param spec the port spec
-- @return {vid, pid, interface, serial} for a usb: spec, false for any other
--   spec, or nil, err (err.name "argument") for a malformed usb: spec
function M.parse(spec)
	if type(spec) ~= "string" or spec:sub(1, 4) ~= "usb:" then return false end
	local v, p, i, rest = spec:match("^usb:(%x%x?%x?%x?):(%x%x?%x?%x?):(%d%d?%d?)(.*)$")
	local serial = rest and rest:match("^:(.+)$")
	if not v or (rest ~= "" and not serial) or tonumber(i) > 255 then
		return nil, config_error(spec, "bad port spec: expected usb:VID:PID:IF[:SERIAL] (e.g. usb:2c7c:0125:2)")
	end
	return { vid = tonumber(v, 16), pid = tonumber(p, 16), interface = tonumber(i), serial = serial }
end

-- "2c7c:0125 interfaces 0 1 2 3 (serial X)" for each USB device present: what
-- a failed usb: spec could have named.
local function present(list)
	local devs, order = {}, {}
	for _, t in ipairs(list) do
		local key = id(t.vid, t.pid) .. (t.serial and (" serial " .. t.serial) or "")
		if not devs[key] then devs[key] = {}; order[#order + 1] = key end
		table.insert(devs[key], string.format("%d=%s", t.interface, t.name))
	end
	local out = {}
	for _, key in ipairs(order) do out[#out + 1] = key .. " (interfaces " .. table.concat(devs[key], " ") .. ")" end
	return #out > 0 and table.concat(out, "; ") or "no USB serial ports at all"
end

--- The device a port spec names, read from sysfs now.
-- @param spec a port spec: usb:VID:PID:IF[:SERIAL] and /dev/serial/by-id/...
--   are resolved (by-id under MODEMFTP_DEVROOT when it is set); any other
--   spec comes back unchanged
-- @param roots optional `roots()` table
-- @return the spec to open (e.g. "/dev/ttyUSB2"), or nil, err: err.name
--   "argument" (not retryable: a malformed spec, a device without that
--   interface, two devices that match) or "io" (retryable: the device is
--   not connected, as when a /dev/ttyUSB2 is missing: unplugged, resetting)
function M.resolve(spec, roots)
	local want, perr = M.parse(spec)
	if want == nil then return nil, perr end
	roots = roots or M.roots()
	if not want then
		local rest = type(spec) == "string" and spec:match("^/dev/(serial/by%-id/.+)$")
		if not rest then return spec end
		local path = roots.dev .. "/" .. rest
		if core.realpath(path) then return path end
		local links = names(roots.dev .. "/serial/by-id")
		return nil, absent(spec, "no such port: %s: the modem is not connected, or the name is wrong (%s; "
			.. "modemftp ports lists the ports)", spec,
			#links > 0 and ("by-id has " .. table.concat(links, ", ")) or "no /dev/serial/by-id links")
	end
	local list = M.list(roots)
	local found, device = {}, false
	for _, t in ipairs(list) do
		if t.vid == want.vid and t.pid == want.pid and (not want.serial or t.serial == want.serial) then
			device = true
			if t.interface == want.interface then found[#found + 1] = t end
		end
	end
	if #found == 1 then return found[1].device end
	if #found == 0 then
		-- the device without that interface: a wrong number, unless the product has
		-- a tty there and the kernel is still creating them one by one
		local q = M.QUECTEL[id(want.vid, want.pid)]
		if device and not (q and q.roles[want.interface]) then
			return nil, config_error(spec, "no USB serial port matches %s: %s has no serial interface %d (present: %s)",
				spec, id(want.vid, want.pid), want.interface, present(list))
		end
		return nil, absent(spec, "no USB serial port matches %s: %s is not connected%s (present: %s)", spec,
			id(want.vid, want.pid), want.serial and (" with serial " .. want.serial) or "", present(list))
	end
	local serials = {}
	for _, t in ipairs(found) do serials[#serials + 1] = tostring(t.serial) end
	return nil, config_error(spec, "%d ports match %s (%s): add the serial number, e.g. %s:%s", #found, spec,
		table.concat(serials, ", "), spec, tostring(found[1].serial))
end

return M
