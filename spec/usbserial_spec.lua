-- The modem by what it is: usb:VID:PID:IF and /dev/serial/by-id/... specs
-- resolved through a fake sysfs tree (spec/support/fakesysfs.lua, laid out
-- as the kernel lays out /sys), again after the device re-enumerates;
-- `modemftp ports` showing interface numbers, by-id links and the AT port.
local core = require "modemftp.core"
local usbserial = require "modemftp.usbserial"
local lock = require "modemftp.lock"
local sim = require "support.sim"
local cli = require "support.cli"
local fake = require "support.fakesysfs"
local helper = require "spec.helper_pure"

local function merged(a, b)
	local out = {}
	for k, v in pairs(a) do out[k] = v end
	for k, v in pairs(b or {}) do out[k] = v end
	return out
end

describe("modemftp.usbserial", function()
	helper.module_hygiene(_ENV, "modemftp.usbserial", "lua/modemftp/usbserial.lua", function(u)
		u.resolve("usb:2c7c:0125:2", u.roots { sys = "/nonexistent", dev = "/nonexistent" })
		u.list(u.roots { sys = "/nonexistent", dev = "/nonexistent" })
		u.role(0x2c7c, 0x0125, 2)
		u.at_interface(0x2c7c, 0x0125)
	end)
end)

describe("core.listdir", function()
	it("gives a folder's names, {} for an empty one, nil and the core's failure for a missing one", function()
		local dir = sim.tmpdir()
		for _, n in ipairs { "b", "a", "c.d" } do sim.write(dir .. "/" .. n, "") end
		local list = core.listdir(dir)
		table.sort(list)
		assert.same({ "a", "b", "c.d" }, list)
		os.execute("mkdir " .. sim.q(dir .. "/empty"))
		assert.same({}, core.listdir(dir .. "/empty"))
		local r, err = core.listdir(dir .. "/missing")
		assert.is_nil(r)
		assert.same({ "io", 2 }, { err.kind, err.errno })
		assert.matches("missing: No such file or directory", err.message, 1, true)
		os.execute("rm -rf " .. sim.q(dir))
	end)
end)

describe("usb: port specs through sysfs", function()
	local dir, root
	before_each(function()
		dir = sim.tmpdir()
		root = fake.build(dir, fake.sample())
	end)
	after_each(function() os.execute("rm -rf " .. sim.q(dir)) end)

	it("lists the USB ttys with interface numbers, ids and by-id links; a native port is not USB", function()
		local byname = {}
		for _, t in ipairs(usbserial.list(root)) do byname[t.name] = t end
		assert.is_nil(byname.ttyS0)
		local at = byname.ttyUSB2
		assert.same({ 0x2c7c, 0x0125, 2, "EG25X0001", "Quectel", "EG25-G", "1-1" },
			{ at.vid, at.pid, at.interface, at.serial, at.manufacturer, at.product, at.usb })
		assert.equal(root.dev .. "/ttyUSB2", at.device)
		assert.equal(root.dev .. "/serial/by-id/usb-Quectel_EG25-G_EG25X0001-if02-port0", at.by_id)
		-- cdc_acm: the tty's device is the interface itself
		assert.same({ 0x1546, 0x01a8, 0 }, { byname.ttyACM0.vid, byname.ttyACM0.pid, byname.ttyACM0.interface })
		assert.equal(0, byname.ttyUSB4.interface)
	end)

	it("resolves usb:VID:PID:IF (and :SERIAL) to the device, and by-id links under the dev root", function()
		assert.equal(root.dev .. "/ttyUSB2", usbserial.resolve("usb:2c7c:0125:2", root))
		assert.equal(root.dev .. "/ttyUSB3", usbserial.resolve("usb:2C7C:125:3", root))
		assert.equal(root.dev .. "/ttyUSB2", usbserial.resolve("usb:2c7c:0125:2:EG25X0001", root))
		assert.equal(root.dev .. "/ttyACM0", usbserial.resolve("usb:1546:01a8:0", root))
		local link = "/dev/serial/by-id/usb-Quectel_EG25-G_EG25X0001-if02-port0"
		assert.equal(root.dev .. "/serial/by-id/usb-Quectel_EG25-G_EG25X0001-if02-port0", usbserial.resolve(link, root))
		-- other specs are not touched
		for _, spec in ipairs { "/dev/ttyUSB2", "tty:/dev/pts/3", "tcp:127.0.0.1:2000", "replay:x.tx" } do
			assert.equal(spec, usbserial.resolve(spec, root))
		end
	end)

	it("a spec that cannot name a port (no such interface, malformed, two matches): a bad argument saying what is there",
		function()
		local r, err = usbserial.resolve("usb:2c7c:0125:7", root)
		assert.is_nil(r)
		assert.equal("argument", err.name)
		assert.is_false(err.retryable)
		assert.matches("no USB serial port matches usb:2c7c:0125:7: 2c7c:0125 has no serial interface 7", err.message, 1, true)
		assert.matches("2c7c:0125 serial EG25X0001 (interfaces 0=ttyUSB0 1=ttyUSB1 2=ttyUSB2 3=ttyUSB3)", err.message, 1, true)
		-- an FTDI adapter has one interface
		r, err = usbserial.resolve("usb:0403:6001:1", root)
		assert.equal("argument", err.name)
		for _, bad in ipairs { "usb:2c7c:0125", "usb:2c7c:0125:x", "usb:zz:0125:2", "usb:2c7c:0125:2:", "usb:" } do
			r, err = usbserial.resolve(bad, root)
			assert.is_nil(r, bad)
			assert.equal("argument", err.name, bad)
			assert.matches("expected usb:VID:PID:IF", err.message, 1, true)
		end
		-- a second, identical modem: the serial number tells them apart
		local dir2 = sim.tmpdir()
		local devs = fake.sample()
		devs[#devs + 1] = { usb = "1-4", vid = "2c7c", pid = "0125", manufacturer = "Quectel", product = "EG25-G",
			serial = "EG25X0002", ttys = { [0] = "ttyUSB5", "ttyUSB6", "ttyUSB7", "ttyUSB8" } }
		local root2 = fake.build(dir2, devs)
		r, err = usbserial.resolve("usb:2c7c:0125:2", root2)
		assert.is_nil(r)
		assert.equal("argument", err.name)
		assert.matches("2 ports match usb:2c7c:0125:2 (EG25X0001, EG25X0002)", err.message, 1, true)
		assert.equal(root2.dev .. "/ttyUSB7", usbserial.resolve("usb:2c7c:0125:2:EG25X0002", root2))
		os.execute("rm -rf " .. sim.q(dir2))
	end)

	it("the device not connected (or still enumerating its AT interface): retryable, as a missing /dev/ttyUSB2", function()
		local r, err = usbserial.resolve("usb:dead:beef:2", root)
		assert.is_nil(r)
		assert.same({ "io", true }, { err.name, err.retryable })
		assert.matches("no USB serial port matches usb:dead:beef:2: dead:beef is not connected (present: ", err.message, 1, true)
		r, err = usbserial.resolve("usb:2c7c:0125:2:OTHER", root)
		assert.same({ "io", true }, { err.name, err.retryable })
		assert.matches("2c7c:0125 is not connected with serial OTHER", err.message, 1, true)
		r, err = usbserial.resolve("/dev/serial/by-id/usb-Quectel_EG25-G_NOPE-if02-port0", root)
		assert.is_nil(r)
		assert.same({ "io", true }, { err.name, err.retryable })
		assert.matches("usb-Quectel_EG25-G_EG25X0001-if02-port0", err.message, 1, true)
		-- interfaces 0 and 1 are there, the AT interface not yet: the kernel is still at it
		local dir2 = sim.tmpdir()
		local devs = { { usb = "1-1", vid = "2c7c", pid = "0125", ttys = { [0] = "ttyUSB0", "ttyUSB1" } } }
		r, err = usbserial.resolve("usb:2c7c:0125:2", fake.build(dir2, devs))
		assert.same({ "io", true }, { err.name, err.retryable })
		os.execute("rm -rf " .. sim.q(dir2))
	end)

	it("re-enumerated under other numbers, the same spec finds it again", function()
		local devs = fake.sample()
		local root3 = fake.build(dir .. "/again", devs)
		fake.renumber(root3, devs[1], { [0] = "ttyUSB9", "ttyUSB10", "ttyUSB11", "ttyUSB12" })
		assert.equal(root3.dev .. "/ttyUSB11", usbserial.resolve("usb:2c7c:0125:2", root3))
		assert.equal(root3.dev .. "/serial/by-id/usb-Quectel_EG25-G_EG25X0001-if02-port0",
			usbserial.resolve("/dev/serial/by-id/usb-Quectel_EG25-G_EG25X0001-if02-port0", root3))
		assert.is_nil(core.realpath(root3.dev .. "/ttyUSB2"))
	end)

	it("knows the AT interface of Quectel modules (EC20/EC25: 0 DM, 1 NMEA, 2 AT, 3 modem)", function()
		assert.same({ "DM", "NMEA", "AT", "modem" }, { usbserial.role(0x2c7c, 0x0125, 0), usbserial.role(0x2c7c, 0x0125, 1),
			usbserial.role(0x2c7c, 0x0125, 2), (usbserial.role(0x2c7c, 0x0125, 3)) })
		assert.is_nil(usbserial.role(0x2c7c, 0x0125, 4)) -- the network interface has no tty
		assert.equal("AT", usbserial.role(0x05c6, 0x9215, 2)) -- the EC20 under Qualcomm's VID
		assert.equal(2, usbserial.at_interface(0x2c7c, 0x0700))
		assert.equal(5, usbserial.at_interface(0x2c7c, 0x0128))
		assert.is_nil(usbserial.role(0x0403, 0x6001, 0))
		assert.is_nil(usbserial.at_interface(0x2c7c, 0x6002))
	end)
end)

describe("usb: specs in the command", function()
	local h, root, env, devs

	setup(function()
		h = sim.start { guard_ms = 100 }
		devs = fake.sample(h.pty)
		root = fake.build(h.dir .. "/fake", devs)
		env = merged({ HOME = h.dir, XDG_CONFIG_HOME = h.dir }, root.env)
	end)
	teardown(function() sim.stop(h) end)

	it("modemftp ports: interface number, role (the AT port marked), by-id link, the spec to use", function()
		local r = cli.run({ "ports" }, { env = merged(env, cli.fake_ports("sample")) })
		assert.equal(0, r.code, r.stderr)
		local byid = root.dev .. "/serial/by-id/usb-Quectel_EG25-G_EG25X0001-if0"
		assert.truthy(r.stdout:find("/dev/ttyUSB0  2c7c:0125  0   DM     Quectel", 1, true), r.stdout)
		assert.truthy(r.stdout:find("/dev/ttyUSB2  2c7c:0125  2   AT *   Quectel       Android          0123456789ABCDEF  "
			.. byid .. "2-port0\n", 1, true), r.stdout)
		assert.truthy(r.stdout:find("/dev/ttyUSB3  2c7c:0125  3   modem", 1, true))
		assert.truthy(r.stdout:match("/dev/ttyUSB4%s+0403:6001%s+0%s+%-%s+FTDI"))
		assert.truthy(r.stdout:find("* the AT port of the Quectel EC25/EG25-G/EC20 R2.1 (2c7c:0125): --port usb:2c7c:0125:2 or "
			.. byid .. "2-port0\n", 1, true))
		r = cli.run({ "ports", "--json" }, { env = merged(env, cli.fake_ports("sample")) })
		assert.truthy(r.stdout:find('"at_port":true,"by_id":"' .. byid .. '2-port0","description":"Android - Mobile",'
			.. '"interface":2', 1, true), r.stdout)
		assert.truthy(r.stdout:find('"role":"AT","serial":"0123456789ABCDEF","spec":"usb:2c7c:0125:2"', 1, true))
	end)

	it("--port usb:2c7c:0125:2 and the by-id link reach the modem; the lock is the device's", function()
		local r = cli.run({ "at", "AT+CSQ", "--port", "usb:2c7c:0125:2", "--lock-dir", h.dir }, { env = env })
		assert.equal(0, r.code, r.stderr)
		assert.equal("+CSQ: 24,99\n", r.stdout)
		r = cli.run({ "at", "AT+CSQ", "--port", "/dev/serial/by-id/usb-Quectel_EG25-G_EG25X0001-if02-port0",
			"--lock-dir", h.dir }, { env = env })
		assert.equal(0, r.code, r.stderr)
		-- while `tty:PTY` holds the lock, the usb: spec of the same device waits for it
		local l = assert(lock.acquire(lock.path(h.port, h.dir), 0))
		r = cli.run({ "at", "AT", "--json", "--port", "usb:2c7c:0125:2", "--lock-dir", h.dir, "--lock-timeout", "0.3" },
			{ env = env })
		l:unlock()
		assert.equal(73, r.code, r.stderr)
		assert.truthy(r.stdout:find('"error_name":"busy"', 1, true))
	end)

	it("a spec that names no port: 64 on the command line, 78 in a file, a clear line and --json; not connected: 75", function()
		local r = cli.run({ "status", "--json", "--port", "usb:2c7c:0125:7", "--lock-dir", h.dir }, { env = env })
		assert.equal(64, r.code)
		assert.truthy(r.stderr:find("no USB serial port matches usb:2c7c:0125:7: 2c7c:0125 has no serial interface 7 (present:",
			1, true), r.stderr)
		assert.truthy(r.stdout:find('"exit":64', 1, true), r.stdout)
		r = cli.run({ "status", "--json", "--port", "usb:dead:beef:2", "--lock-dir", h.dir }, { env = env })
		assert.equal(75, r.code)
		assert.truthy(r.stderr:find("dead:beef is not connected", 1, true), r.stderr)
		assert.truthy(r.stdout:find('"error_name":"io","exit":75,"result":"tempfail"', 1, true), r.stdout)
		r = cli.run({ "at", "AT", "--port", "usb:2c7c", "--lock-dir", h.dir }, { env = env })
		assert.equal(64, r.code)
		assert.truthy(r.stderr:find("expected usb:VID:PID:IF[:SERIAL]", 1, true))
		-- from a configuration file it is a configuration error (78), for run as for the one-shots
		local c = h.dir .. "/usb7.conf"
		sim.write(c, "port = usb:2c7c:0125:7\n")
		local job = h.dir .. "/true.lua"
		sim.write(job, "return true")
		for _, argv in ipairs { { "status", "--json", "-c", c }, { "run", "--json", "-c", c, job } } do
			table.insert(argv, 2, "--lock-dir")
			table.insert(argv, 3, h.dir)
			r = cli.run(argv, { env = env })
			assert.equal(78, r.code, argv[1])
			assert.truthy(r.stdout:find('"error_name":"config","exit":78', 1, true), r.stdout)
			assert.truthy(r.stdout:find("(port from " .. c .. ")", 1, true), r.stdout)
		end
		r = cli.run({ "run", "--json", "--port", "usb:2c7c:0125:7", "--lock-dir", h.dir, job }, { env = env })
		assert.equal(64, r.code)
	end)

	it("a USB reset in the middle of modemftp put: found again under its new number, the file sent intact", function()
		sim.with({ guard_ms = 100 }, function(h2)
			local d = fake.sample(h2.pty)
			local root2 = fake.build(h2.dir .. "/fake", d)
			local conf = h2.dir .. "/modemftp.conf"
			sim.write(conf, (cli.sim_conf(h2):gsub("^port = [^\n]*\n", "port = usb:2c7c:0125:2\n")))
			os.execute("chmod 600 " .. sim.q(conf))
			sim.make_file(h2.dir .. "/big.bin", 300000, 4)
			sim.control(h2, "after 65536 vanish 800") -- the pty goes away 64 KiB into the upload
			local p = cli.spawn({ "put", h2.dir .. "/big.bin", "--json", "-c", conf, "--lock-dir", h2.dir },
				{ env = merged({ HOME = h2.dir, XDG_CONFIG_HOME = h2.dir }, root2.env) })
			local newpty
			local deadline = core.monotonic_ms() + 20000
			repeat
				core.sleep_ms(50)
				newpty = (sim.read(h2.dir .. "/pty") or ""):match("^([^\n]+)\n")
			until (newpty and newpty ~= h2.pty) or core.monotonic_ms() > deadline
			assert.is_truthy(newpty ~= h2.pty, "the pty did not come back")
			-- the kernel takes the ttys away, then creates them under new numbers
			fake.renumber(root2, d[1], {})
			core.sleep_ms(300)
			d[1].target = { [2] = newpty }
			fake.renumber(root2, d[1], { [0] = "ttyUSB5", "ttyUSB6", "ttyUSB7", "ttyUSB8" })
			local r = assert(cli.wait(p, 60))
			assert.equal(0, r.code, r.stderr)
			assert.truthy(r.stderr:find("port opened again (" .. root2.dev .. "/ttyUSB7)", 1, true), r.stderr)
			-- the probe that found the module still in the upload went into the file: sent again from 0
			assert.truthy(r.stderr:find(".big.bin.part may hold bytes that are not the file's", 1, true), r.stderr)
			assert.equal(sim.sha256(h2.dir .. "/big.bin"), sim.sha256(h2.root .. "/big.bin"))
		end)
	end)

	it("the modem vanishes and re-enumerates under other numbers: m:reopen() finds it by the spec", function()
		local job = h.dir .. "/reenum.lua"
		sim.write(job, [[
			local m, args, job = ...
			package.path = args[1] .. "/?.lua;" .. package.path
			local core = require "modemftp.core"
			local fake = require "support.fakesysfs"
			local sim = require "support.sim"
			local root = { sys = os.getenv("MODEMFTP_SYSFS"), dev = os.getenv("MODEMFTP_DEVROOT") }
			local d = fake.sample(args[2])[1]
			local before = m.device
			local function wait(what, fn)
				local deadline = core.monotonic_ms() + 10000
				while not fn() do
					assert(core.monotonic_ms() < deadline, "timed out waiting for " .. what)
					core.sleep_ms(50)
				end
			end
			sim.control({ control = args[3] }, "vanish 300")
			fake.renumber(root, d, {}) -- the kernel took the ttys away
			wait("the port to fail", function() return m:at("AT", { timeout = 0.2 }) == nil end)
			local ok, err = m:reopen()
			assert(not ok and err.retryable and err.message:find("not back", 1, true), tostring(err))
			local newpty
			wait("the new pty", function()
				newpty = sim.read(args[4]):match("^([^\n]+)\n")
				return newpty and newpty ~= args[2]
			end)
			d.target = { [2] = newpty }
			fake.renumber(root, d, { [0] = "ttyUSB5", "ttyUSB6", "ttyUSB7", "ttyUSB8" })
			wait("the reopen", function() return m:reopen() ~= nil end)
			print(before .. " -> " .. m.device)
			return assert(m:at("AT+CSQ"))[1] == "+CSQ: 24,99"
		]])
		local top = core.realpath(cli.top)
		local r = cli.run({ "run", "--port", "usb:2c7c:0125:2", "--lock-dir", h.dir, "-o", "guard=0.1", job, top .. "/spec",
			h.pty, h.control, h.dir .. "/pty" }, { env = env })
		assert.equal(0, r.code, r.stderr)
		assert.equal(root.dev .. "/ttyUSB2 -> " .. root.dev .. "/ttyUSB7\n", r.stdout)
	end)
end)
