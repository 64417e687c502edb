-- `modemftp ports`: the list, Quectel flagging, and no ports at all.
-- cli.fake_ports (spec/support/fakeports.lua) replaces libserialport's list.
local cli = require "support.cli"

describe("modemftp ports", function()
	it("says plainly that there are no ports", function()
		local r = cli.run({ "ports" }, { env = cli.fake_ports("none") })
		assert.equal(0, r.code)
		assert.equal("No serial ports found.\n", r.stdout)
		r = cli.run({ "ports", "--json" }, { env = cli.fake_ports("none") })
		assert.equal("[]\n", r.stdout)
	end)

	it("lists VID:PID, manufacturer, product and serial; a Quectel module sysfs does not describe gets a hint", function()
		-- an empty sysfs: no interface numbers, no by-id links
		local env = cli.fake_ports("sample")
		env.MODEMFTP_SYSFS, env.MODEMFTP_DEVROOT = "/nonexistent/sys", "/nonexistent/dev"
		local r = cli.run({ "ports" }, { env = env })
		assert.equal(0, r.code)
		assert.truthy(r.stdout:match("^PORT%s+VID:PID%s+IF%s+ROLE%s+MANUFACTURER%s+PRODUCT%s+SERIAL%s+BY%-ID\n"))
		assert.truthy(r.stdout:match("/dev/ttyUSB2%s+2c7c:0125%s+%-%s+%?%s+Quectel%s+Android%s+0123456789ABCDEF%s+%-\n"))
		assert.truthy(r.stdout:match("/dev/ttyUSB4%s+0403:6001%s+%-%s+%-%s+FTDI%s+FT232R USB UART%s+A50285BI%s+%-\n"))
		assert.truthy(r.stdout:find("Quectel 2c7c:0125: sysfs does not say which USB interface each port is", 1, true))
		r = cli.run({ "ports", "--json" }, { env = env })
		assert.truthy(r.stdout:find('"name":"/dev/ttyUSB2","pid":"0125","product":"Android","quectel":true', 1, true))
	end)

	it("works with the real libserialport list", function()
		local r = cli.run({ "ports" })
		assert.equal(0, r.code)
		assert.truthy(r.stdout:match("^PORT") or r.stdout == "No serial ports found.\n")
	end)

	it("has --help and rejects stray arguments", function()
		assert.truthy(cli.run({ "ports", "--help" }).stdout:match("usage: modemftp ports"))
		assert.equal(64, cli.run({ "ports", "extra" }).code)
	end)
end)
