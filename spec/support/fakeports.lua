--- spec/support/fakeports.lua: a made-up list of serial ports for `modemftp ports`.
--
-- The command lists what `core.ports()` returns (modemftp.ports); this file
-- replaces that function before the command runs. Lua loads it first when
-- the command's environment has LUA_INIT_5_4=@<this file>, and
-- MODEMFTP_SPEC_PORTS picks the list:
--   "none"    no ports at all;
--   "sample"  an EC20's four USB interfaces, an FTDI adapter and a native port.
-- `require("support.cli").fake_ports(kind)` gives that environment.
local build = os.getenv("MODEMFTP_BUILD")
if build then package.cpath = build .. "/lib/?.so;" .. package.cpath end
local core = require "modemftp.core"

local LISTS = {}

function LISTS.none()
	return {}
end

function LISTS.sample()
	local t = {}
	for i = 0, 3 do
		t[#t + 1] = { name = "/dev/ttyUSB" .. i, description = "Android - Mobile", transport = "usb",
			vid = 0x2c7c, pid = 0x0125, manufacturer = "Quectel", product = "Android",
			serial = "0123456789ABCDEF", quectel = true }
	end
	t[#t + 1] = { name = "/dev/ttyUSB4", description = "FT232R USB UART", transport = "usb", vid = 0x0403,
		pid = 0x6001, manufacturer = "FTDI", product = "FT232R USB UART", serial = "A50285BI", quectel = false }
	t[#t + 1] = { name = "/dev/ttyS0", description = "ttyS0", transport = "native" }
	return t
end

local kind = os.getenv("MODEMFTP_SPEC_PORTS")
core.ports = assert(LISTS[kind], "MODEMFTP_SPEC_PORTS: none or sample, got " .. tostring(kind))
