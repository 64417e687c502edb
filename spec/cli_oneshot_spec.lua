-- The one-shots (put get ls rm mkdir mdtm size at status) against ec20sim
-- and a local FTP server: what they print, their --json line, and the exit
-- status of each failure (a missing local file 66, a 550 exits 1, usage 64,
-- a held lock 73).
local sim = require "support.sim"
local cli = require "support.cli"
local lock = require "modemftp.lock"
local helper = require "spec.helper_pure"

describe("modemftp.oneshot", function()
	helper.module_hygiene(_ENV, "modemftp.oneshot", "lua/modemftp/oneshot.lua", function(o)
		assert(o.at_allowed("AT+CSQ"))
		assert(not o.at_allowed("ATO"))
		local _, err = o.VERBS.put.check({}, {})
		assert.equal("usage", err.name)
	end)
end)

describe("modemftp one-shots with ec20sim", function()
	local h, conf, env

	local function run(argv, o)
		local a = {}
		for _, x in ipairs(argv) do a[#a + 1] = x end
		-- options after the operands, as a shell user types them
		for _, x in ipairs { "--lock-dir", h.dir, "-c", conf } do a[#a + 1] = x end
		return cli.run(a, { env = env, timeout = (o and o.timeout) or 60 })
	end

	setup(function()
		h = sim.start { guard_ms = 100 }
		conf = h.dir .. "/modemftp.conf"
		sim.write(conf, cli.sim_conf(h))
		os.execute("chmod 600 " .. sim.q(conf)) -- it holds a password
		env = { HOME = h.dir, XDG_CONFIG_HOME = h.dir }
	end)
	teardown(function() sim.stop(h) end)

	it("put, ls, size, mdtm, get, rm, mkdir: the file makes the round trip", function()
		sim.make_file(h.dir .. "/data.bin", 70000, 5)
		local r = run({ "put", h.dir .. "/data.bin" })
		assert.equal(0, r.code, r.stderr)
		assert.equal(h.dir .. "/data.bin -> data.bin: 70000 bytes\n", r.stdout)
		assert.equal(sim.sha256(h.dir .. "/data.bin"), sim.sha256(h.root .. "/data.bin"))

		r = run({ "mkdir", "in" })
		assert.equal(0, r.code, r.stderr)
		assert.equal("", r.stdout)
		r = run({ "put", h.dir .. "/data.bin", "in/", "--json" })
		assert.equal(0, r.code, r.stderr)
		assert.truthy(r.stdout:find('"bytes":70000', 1, true))
		assert.truthy(r.stdout:find('"remote":"in/data.bin","result":"ok","verb":"put"}\n', 1, true), r.stdout)
		assert.equal(sim.sha256(h.dir .. "/data.bin"), sim.sha256(h.root .. "/in/data.bin"))

		r = run({ "ls" })
		assert.equal(0, r.code, r.stderr)
		assert.truthy(r.stdout:match("\n?[-rw]+%s.-70000 .- data.bin\n"), r.stdout)
		assert.truthy(r.stdout:match("\nd[-rwx]+%s.- in\n") or r.stdout:match("^d[-rwx]+%s.- in\n"), r.stdout)
		r = run({ "ls", "in", "--json" })
		assert.truthy(r.stdout:find('"name":"data.bin"', 1, true), r.stdout)
		assert.truthy(r.stdout:find('"size":70000', 1, true))

		r = run({ "size", "data.bin" })
		assert.equal(0, r.code)
		assert.equal("70000\n", r.stdout)
		r = run({ "size", "data.bin", "--json" })
		assert.truthy(r.stdout:find('"size":70000', 1, true))

		r = run({ "mdtm", "data.bin" })
		assert.equal(0, r.code)
		assert.truthy(r.stdout:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ\n$"), r.stdout)
		r = run({ "mdtm", "data.bin", "--json" })
		assert.truthy(r.stdout:match('"epoch":%d+'), r.stdout)

		r = run({ "get", "data.bin", h.dir .. "/back.bin" })
		assert.equal(0, r.code, r.stderr)
		assert.equal("data.bin -> " .. h.dir .. "/back.bin: 70000 bytes\n", r.stdout)
		assert.equal(sim.sha256(h.dir .. "/data.bin"), sim.sha256(h.dir .. "/back.bin"))
		assert.is_nil(sim.read(h.dir .. "/back.bin.part"))
		-- into a folder: the remote name in it
		os.execute("mkdir -p " .. sim.q(h.dir .. "/dl"))
		r = run({ "get", "in/data.bin", h.dir .. "/dl" })
		assert.equal(0, r.code, r.stderr)
		assert.equal(sim.sha256(h.dir .. "/data.bin"), sim.sha256(h.dir .. "/dl/data.bin"))
		-- to standard output
		sim.write(h.root .. "/hello.txt", "hello, field\n")
		r = run({ "get", "hello.txt", "-" })
		assert.equal(0, r.code, r.stderr)
		assert.equal("hello, field\n", r.stdout)

		r = run({ "rm", "data.bin" })
		assert.equal(0, r.code, r.stderr)
		assert.is_nil(sim.read(h.root .. "/data.bin"))
	end)

	it("failures: missing local file 66, remote missing exits as its 550 (1), each with --json", function()
		local r = run({ "put", h.dir .. "/nope.bin", "--json" })
		assert.equal(66, r.code)
		assert.truthy(r.stdout:find('"error_name":"local_missing","exit":66,"result":"noinput","verb":"put"', 1, true), r.stdout)
		assert.truthy(r.stderr:find("nope.bin: No such file or directory", 1, true))
		local _, n = r.stderr:gsub("nope%.bin", "")
		assert.equal(1, n) -- named once
		for _, argv in ipairs { { "get", "missing.txt", h.dir .. "/m.txt" }, { "rm", "missing.txt" },
			{ "size", "missing.txt" }, { "mdtm", "missing.txt" } } do
			argv[#argv + 1] = "--json"
			r = run(argv)
			assert.equal(1, r.code, argv[1] .. ": " .. r.stderr)
			assert.truthy(r.stdout:find('"error_name":"file_unavailable","exit":1,"result":"failed","verb":"' .. argv[1] .. '"',
				1, true), r.stdout)
			assert.truthy(r.stdout:find("FTP 550", 1, true))
			assert.truthy(r.stderr:find("^modemftp " .. argv[1] .. ": "))
		end
		assert.is_nil(sim.read(h.dir .. "/m.txt"))
		assert.is_nil(sim.read(h.dir .. "/m.txt.part"))
		-- a local directory given as the file to send: 74
		r = run({ "put", h.dir, "--json" })
		assert.equal(74, r.code)
		assert.truthy(r.stdout:find('"error_name":"local_io"', 1, true))
	end)

	it("SIGTERM in the middle of a put: exit 143, the temporary name deleted, the final name absent", function()
		sim.make_file(h.dir .. "/big.bin", 400000, 9)
		sim.control(h, "after 65536 stall 3") -- the transfer held at 64 KiB for 3 s
		local a = { "put", h.dir .. "/big.bin", "big.bin", "--json", "-c", conf, "--lock-dir", h.dir }
		local p = cli.spawn(a, { env = env })
		assert.is_true(cli.wait_file(h.root .. "/.big.bin.part", 20))
		cli.kill(p, "TERM")
		local r = assert(cli.wait(p, 30))
		assert.equal(143, r.code, r.stderr)
		assert.truthy(r.stdout:find('"error_name":"interrupted","exit":143,"result":"interrupted","verb":"put"', 1, true),
			r.stdout)
		assert.is_nil(sim.read(h.root .. "/big.bin"))
		assert.is_nil(sim.read(h.root .. "/.big.bin.part"))
		-- the module is usable at once
		assert.equal(0, run({ "at", "AT" }).code)
	end)

	it("--timeout bounds the whole command: 124, said as such", function()
		sim.control(h, "stall 3")
		local r = run({ "at", "AT", "--timeout", "1", "--json" })
		sim.control(h, "clear")
		assert.equal(124, r.code)
		assert.truthy(r.stdout:find('"error":"--timeout 1 s expired', 1, true), r.stdout)
		assert.truthy(r.stdout:find('"error_name":"timeout","exit":124,"result":"timeout"', 1, true))
	end)

	it("usage errors exit 64 with a line and --json; no port configured is one too", function()
		for _, argv in ipairs { { "put" }, { "get" }, { "rm" }, { "rm", "a", "b" }, { "ls", "a", "b" }, { "size" },
			{ "mdtm" }, { "mkdir" }, { "at" }, { "status", "x" }, { "put", "--bogus", "a" } } do
			argv[#argv + 1] = "--json"
			local r = run(argv)
			assert.equal(64, r.code, table.concat(argv, " "))
			assert.truthy(r.stdout:find('"exit":64,"result":"usage"', 1, true), table.concat(argv, " ") .. ": " .. r.stdout)
			assert.truthy(r.stderr:find("^modemftp " .. argv[1] .. ": "), r.stderr)
		end
		local r = cli.run({ "status", "--json" }, { env = { HOME = h.dir, XDG_CONFIG_HOME = h.dir, MODEMFTP_CONFIG = "/dev/null" } })
		assert.equal(64, r.code)
		assert.truthy(r.stderr:find("no modem port", 1, true))
		-- a lock directory that does not exist, as for run
		r = cli.run({ "size", "x", "--json", "-c", conf, "--lock-dir", h.dir .. "/nonexistent" }, { env = env })
		assert.equal(64, r.code)
		assert.truthy(r.stdout:find('"error_name":"usage","exit":64', 1, true), r.stdout)
	end)

	it("the port's lock: another run holding it is waited for, then exit 73", function()
		local l = assert(lock.acquire(lock.path(h.port, h.dir), 0))
		local r = run({ "size", "x", "--lock-timeout", "0.3", "--json" })
		l:unlock()
		assert.equal(73, r.code)
		assert.truthy(r.stdout:find('"error_name":"busy","exit":73,"result":"busy"', 1, true), r.stdout)
	end)

	it("modemftp at: the answer's lines; ERROR exits 1; data-mode commands are refused (64)", function()
		local r = run({ "at", "AT+CSQ" })
		assert.equal(0, r.code, r.stderr)
		assert.equal("+CSQ: 24,99\n", r.stdout)
		r = run({ "at", "ATI", "--json" })
		assert.truthy(r.stdout:find('"command":"ATI","duration":', 1, true), r.stdout)
		assert.truthy(r.stdout:find('"lines":["Quectel","EC20F","Revision: ', 1, true), r.stdout)
		r = run({ "at", "AT+NOSUCHCOMMAND", "--json" })
		assert.equal(1, r.code)
		assert.truthy(r.stdout:find('"error_name":"modem_error"', 1, true))
		for _, cmd in ipairs { 'AT+QFTPPUT="a.txt","COM:",0', 'AT+QFTPGET="a.txt"', 'at+qftpget="a.txt","COM:"',
			'AT+QFTPLIST="."', "AT+QFUPL=\"RAM:x\",10", "ATD*99#", "ATO", "AT+CSQ;+QFTPNLST=\".\"", "AT+CMUX=0", "CSQ" } do
			r = run({ "at", cmd })
			assert.equal(64, r.code, cmd)
			assert.truthy(r.stderr:find("^modemftp at: "), cmd)
		end
		-- test and read forms, and transfers to a RAM file, stay in command mode
		assert.is_true(require("modemftp.oneshot").at_allowed("AT+QFTPPUT=?"))
		assert.is_true(require("modemftp.oneshot").at_allowed('AT+QFTPGET="a.txt","RAM:a.txt"'))
		assert.is_true(require("modemftp.oneshot").at_allowed("AT+QFDWL=?"))
		r = run({ "at", "AT+QFTPGET=?" })
		assert.equal(0, r.code, r.stderr)
	end)

	it("modemftp status: every field, a refused one shown with its reason; --json", function()
		local r = run({ "status" })
		assert.equal(0, r.code, r.stderr)
		assert.truthy(r.stdout:match("^SIM%s+READY\n"), r.stdout)
		assert.truthy(r.stdout:match("\nCGREG%s+registered, home\n"))
		assert.truthy(r.stdout:match("\nCEREG%s+registered, home\n"))
		-- the simulator has no AT+COPS: the field says so, the command still succeeds
		assert.truthy(r.stdout:match("\noperator%s+%(not available: at: modem answered ERROR%)\n"), r.stdout)
		assert.truthy(r.stdout:match("\nsignal%s+%-65 dBm %(CSQ 24,99%)\n"))
		assert.truthy(r.stdout:match("\nfirmware%s+Quectel EC20F revision EC20"), r.stdout)
		assert.truthy(r.stdout:match("\nFTP%s+%a+ %(QFTPSTAT %d%)\n"), r.stdout)
		-- after a login the PDP context and its address show
		assert.equal(0, run({ "size", "hello.txt" }).code)
		r = run({ "status", "--json" })
		assert.equal(0, r.code, r.stderr)
		assert.truthy(r.stdout:find('"contexts":[{"active":true,"address":"', 1, true), r.stdout)
		assert.truthy(r.stdout:match('"ip":"%d+%.%d+%.%d+%.%d+"'), r.stdout)
		assert.truthy(r.stdout:find('"errors":{"operator":"at: modem answered ERROR"}', 1, true))
		assert.truthy(r.stdout:find('"signal":{"ber":99,"dbm":-65,"rssi":24}', 1, true))
		assert.truthy(r.stdout:find('"sim":"READY","verb":"status"}', 1, true))
	end)

	it("status() in the console prints the same", function()
		local input = h.dir .. "/console.in"
		sim.write(input, "status()\nst = m:status()\nst.sim, st.signal.rssi, st.operator, tostring(st.errors.operator)\n")
		local out = sim.sh(string.format("%s console -c %s --lock-dir %s <%s 2>&1", sim.q(cli.bin), sim.q(conf),
			sim.q(h.dir), sim.q(input)))
		assert.truthy(out:match("^SIM%s+READY\n"), out)
		assert.truthy(out:find('\n"READY"\t24\tnil\t"at: modem answered ERROR"\n', 1, true), out)
	end)
end)
