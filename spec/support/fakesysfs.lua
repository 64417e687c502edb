--- spec/support/fakesysfs.lua: a sysfs and /dev tree with USB serial ports,
-- laid out as the kernel lays out the real one, for `modemftp.usbserial`
-- (MODEMFTP_SYSFS and MODEMFTP_DEVROOT point at it).
--
--     local fake = require "support.fakesysfs"
--     local root = fake.build(dir, {
--       { usb = "1-1", vid = "2c7c", pid = "0125", serial = "EG25X", product = "EG25-G",
--         manufacturer = "Quectel", ttys = { [0] = "ttyUSB0", "ttyUSB1", "ttyUSB2", "ttyUSB3" },
--         target = { [2] = "/dev/pts/7" } },              -- what DEV/ttyUSB2 links to
--     })
--     -- root.sys, root.dev, root.env (the two variables)
--
-- For each device: DEV_SYS/devices/pci0000:00/0000:00:14.0/usb1/<usb>/ with
-- idVendor, idProduct, manufacturer, product, serial; one interface folder
-- <usb>:1.<n> per tty with bInterfaceNumber ("%02x", as the kernel writes it);
-- a usb-serial port (ttyUSB: <iface>/<tty>/tty/<tty>, device -> the port) or
-- a cdc_acm one (ttyACM: <iface>/tty/<tty>, device -> the interface);
-- class/tty/<tty> and bus/usb-serial/devices/<tty> links; in DEV, <tty> (a
-- link to target[n] when given, else an empty file) and the udev by-id link
-- serial/by-id/usb-<manufacturer>_<product>_<serial>-if<NN>-port0.
-- `renumber` rebuilds a device's ttys under other names (a re-enumeration).
local sim = require "support.sim"

local q = sim.q
local M = {}

local function sh(fmt, ...)
	local cmd = string.format(fmt, ...)
	assert(os.execute(cmd), cmd)
end

local function write(path, text) sim.write(path, text .. "\n") end

-- Relative link from folder `from` to `to` (both absolute, under the root).
local function rel(from, to)
	local a, b = {}, {}
	for p in from:gmatch("[^/]+") do a[#a + 1] = p end
	for p in to:gmatch("[^/]+") do b[#b + 1] = p end
	local i = 1
	while a[i] and b[i] and a[i] == b[i] do i = i + 1 end
	local up = {}
	for _ = i, #a do up[#up + 1] = ".." end
	return table.concat(up, "/") .. (#up > 0 and "/" or "") .. table.concat(b, "/", i)
end

local function link(target, path)
	local dir = path:match("^(.*)/[^/]+$")
	sh("mkdir -p %s && ln -sfn %s %s", q(dir), q(rel(dir, target)), q(path))
end

local function add_ttys(root, d)
	local usbdir = root.sys .. "/devices/pci0000:00/0000:00:14.0/usb1/" .. d.usb
	for n, tty in pairs(d.ttys) do
		local iface = string.format("%s/%s:1.%d", usbdir, d.usb, n)
		sh("mkdir -p %s", q(iface))
		write(iface .. "/bInterfaceNumber", string.format("%02x", n))
		local ttydir, device
		if tty:match("^ttyACM") then
			ttydir, device = iface .. "/tty/" .. tty, iface
		else
			device = iface .. "/" .. tty
			ttydir = device .. "/tty/" .. tty
			link(device, root.sys .. "/bus/usb-serial/devices/" .. tty)
		end
		sh("mkdir -p %s", q(ttydir))
		write(ttydir .. "/dev", "188:" .. n)
		link(device, ttydir .. "/device")
		link(ttydir, root.sys .. "/class/tty/" .. tty)
		local devnode = root.dev .. "/" .. tty
		local target = d.target and d.target[n]
		if target then
			sh("ln -sfn %s %s", q(target), q(devnode))
		else
			sim.write(devnode, "")
		end
		local byid = string.format("%s/serial/by-id/usb-%s_%s_%s-if%02d-port0", root.dev, d.manufacturer or "Android",
			(d.product or "Android"):gsub("[^%w%-]", "_"), d.serial or "0000", n)
		link(devnode, byid)
	end
end

--- Build the tree under dir (dir/sys, dir/dev).
-- @param dir an empty folder
-- @param devices the USB devices (see above); a device without vid is a
--   native port: class/tty/<tty>/device -> a platform device, not USB
-- @return {sys =, dev =, env = {MODEMFTP_SYSFS =, MODEMFTP_DEVROOT =}}
function M.build(dir, devices)
	local root = { sys = dir .. "/sys", dev = dir .. "/dev" }
	root.env = { MODEMFTP_SYSFS = root.sys, MODEMFTP_DEVROOT = root.dev }
	sh("mkdir -p %s %s %s %s", q(root.sys .. "/class/tty"), q(root.sys .. "/bus/usb-serial/devices"),
		q(root.dev .. "/serial/by-id"), q(root.sys .. "/devices/platform/serial8250/tty"))
	for _, d in ipairs(devices) do
		if d.vid then
			local usbdir = root.sys .. "/devices/pci0000:00/0000:00:14.0/usb1/" .. d.usb
			sh("mkdir -p %s", q(usbdir))
			write(usbdir .. "/idVendor", d.vid)
			write(usbdir .. "/idProduct", d.pid)
			if d.manufacturer then write(usbdir .. "/manufacturer", d.manufacturer) end
			if d.product then write(usbdir .. "/product", d.product) end
			if d.serial then write(usbdir .. "/serial", d.serial) end
			add_ttys(root, d)
		else
			for _, tty in pairs(d.ttys) do
				local ttydir = root.sys .. "/devices/platform/serial8250/tty/" .. tty
				sh("mkdir -p %s", q(ttydir))
				link(root.sys .. "/devices/platform/serial8250", ttydir .. "/device")
				link(ttydir, root.sys .. "/class/tty/" .. tty)
				sim.write(root.dev .. "/" .. tty, "")
			end
		end
	end
	return root
end

--- Re-enumerate a device: its ttys, links and by-id links go, and come
-- back as `ttys` (e.g. ttyUSB4-7 after a reset while ttyUSB0-3 were held).
-- @param root what `build` returned
-- @param d the device as given to `build`; d.ttys is replaced by ttys
-- @param ttys the new names {[interface] = name}
function M.renumber(root, d, ttys)
	for n, tty in pairs(d.ttys) do
		sh("rm -rf %s %s %s %s", q(root.sys .. "/class/tty/" .. tty), q(root.sys .. "/bus/usb-serial/devices/" .. tty),
			q(root.dev .. "/" .. tty), q(string.format("%s/devices/pci0000:00/0000:00:14.0/usb1/%s/%s:1.%d", root.sys,
				d.usb, d.usb, n)))
	end
	sh("rm -f %s/serial/by-id/*", q(root.dev))
	d.ttys = ttys
	add_ttys(root, d)
end

--- The sample gateway: an EG25-G (2c7c:0125, interfaces 0-3 as ttyUSB0-3),
-- an FTDI adapter (0403:6001, ttyUSB4), a cdc_acm device (ttyACM0) and a
-- native ttyS0. `target` links the EG25-G's DEV/ttyUSB2 (e.g. to a
-- simulator's pty).
-- @return the devices list for `build`
function M.sample(target)
	return {
		{ usb = "1-1", vid = "2c7c", pid = "0125", manufacturer = "Quectel", product = "EG25-G", serial = "EG25X0001",
			ttys = { [0] = "ttyUSB0", "ttyUSB1", "ttyUSB2", "ttyUSB3" }, target = target and { [2] = target } },
		{ usb = "1-2", vid = "0403", pid = "6001", manufacturer = "FTDI", product = "FT232R USB UART", serial = "A50285BI",
			ttys = { [0] = "ttyUSB4" } },
		{ usb = "1-3", vid = "1546", pid = "01a8", manufacturer = "u-blox", product = "GNSS receiver",
			ttys = { [0] = "ttyACM0" } },
		{ ttys = { "ttyS0" } },
	}
end

return M
