-- Every row of the README's exit table, each status produced by a real
-- scenario of `modemftp run --json` (a transcript, a pty that is no modem,
-- chmod'd files, a dropped uid, a held lock, signals), its --json line
-- included; and the table lists exactly the statuses the scenarios make.
local sim = require "support.sim"
local cli = require "support.cli"
local users = require "support.users"
local core = require "modemftp.core"
local json_line = '"exit":%d'

describe("the exit table, row by row", function()
	local dir, env, port

	local function job(name, text)
		sim.write(dir .. "/" .. name, text)
		return dir .. "/" .. name
	end

	local function run(argv, extra)
		local e = {}
		for k, v in pairs(env) do e[k] = v end
		for k, v in pairs(extra or {}) do e[k] = v end
		local a = { "run", "--json", "--lock-dir", dir }
		for _, x in ipairs(argv) do a[#a + 1] = x end
		return cli.run(a, { env = e, timeout = 60 })
	end

	-- A pty that is no modem (spec/support/fakedevice.py). @return its path, and a stop function
	local function fake_device(mode)
		local pathfile = dir .. "/" .. mode .. ".pty"
		local pid = sim.sh(string.format("env -u LD_PRELOAD python3 %s/spec/support/fakedevice.py %s %s %d >/dev/null 2>&1 & echo $!",
			cli.top, mode, sim.q(pathfile), core.getpid())):match("%d+")
		local path = assert(sim.wait_line(pathfile, 10), "fakedevice.py did not start")
		return path, function() os.execute("kill " .. pid .. " 2>/dev/null") end
	end

	-- The status, the --json line's exit and one stderr line naming the failure.
	local function expect(code, r, stderr_pattern)
		assert.equal(code, r.code, r.stderr)
		assert.truthy(r.stdout:find(json_line:format(code), 1, true), r.stdout)
		assert.is_nil(r.stderr:find("traceback", 1, true), r.stderr)
		if stderr_pattern then assert.truthy(r.stderr:find(stderr_pattern), r.stderr) end
	end

	local ok_job
	before_each(function()
		dir = sim.tmpdir()
		os.execute("chmod 755 " .. sim.q(dir)) -- the dropped-uid cases read the job and the transcript
		env = { HOME = dir, XDG_CONFIG_HOME = dir }
		cli.transcript(dir .. "/hello.tx", "> AT+CSQ\\r\n< AT+CSQ\\r\\r\\n+CSQ: 20,99\\r\\n\\r\\nOK\\r\\n\n")
		port = "replay:" .. dir .. "/hello.tx"
		ok_job = job("ok.lua", "return true")
	end)
	after_each(function() os.execute("rm -rf " .. sim.q(dir)) end)

	-- status -> scenarios (each asserts its own run)
	local scenarios = {}
	local function scenario(code, name, fn)
		scenarios[code] = scenarios[code] or {}
		table.insert(scenarios[code], name)
		it(code .. ": " .. name, fn)
	end

	scenario(0, "the job succeeds", function()
		local j = job("csq.lua", "local m = ... ; assert(m:at('AT+CSQ')) ; return true")
		expect(0, run({ "-p", port, j }))
	end)

	scenario(1, "a permanent failure (530)", function()
		local j = job("perm.lua", [[
			return nil, require("modemftp.errors").new { op = "open", code = 625, protocol_error = 530 }]])
		expect(1, run({ "-p", port, j }))
	end)

	scenario(64, "numbers out of range and an empty port on the command line", function()
		for _, argv in ipairs {
			{ "--baud", "-9600" }, { "--baud", "99999999999" }, { "--baud", "12345" }, { "--timeout", "1e300" },
			{ "--guard", "1e9" }, { "-o", "context=17" }, { "--port", "" },
		} do
			local a = { "-p", port }
			for _, x in ipairs(argv) do a[#a + 1] = x end
			a[#a + 1] = ok_job
			expect(64, run(a), "error: %-%-?%w")
		end
	end)

	scenario(64, "-c naming a directory or a missing file", function()
		expect(64, run({ "-p", port, "-c", dir, ok_job }), "Is a directory")
		expect(64, run({ "-p", port, "-c", dir .. "/none.conf", ok_job }), "none.conf")
	end)

	scenario(64, "--lock-dir, --record and --log in a directory that does not exist", function()
		expect(64, run({ "-p", port, "--lock-dir", "/nonexistent", ok_job }), "lock directory does not exist")
		expect(64, run({ "-p", port, "--record", "/nonexistent/x.tx", ok_job }), "%-%-record: /nonexistent/x.tx")
		local r = run({ "-p", port, "--log", "/nonexistent/x.log", ok_job })
		expect(64, r, "%-%-log: /nonexistent/x.log")
	end)

	scenario(64, "an option of run after the job file", function()
		expect(64, run({ ok_job, "--port", port }), "option %-%-port after the job file")
	end)

	scenario(64, "an unknown port spec, an empty tcp host, no serial port, on the command line", function()
		expect(64, run({ "-p", "usb-modem:1", ok_job }), "unknown port spec")
		expect(64, run({ "-p", "tcp::21", ok_job }), "want tcp:HOST:PORT")
		expect(64, run({ "-p", dir, ok_job }), "not a serial port")
	end)

	scenario(64, "no port at all", function()
		expect(64, run({ ok_job }), "no modem port")
	end)

	scenario(66, "the job file is missing", function()
		expect(66, run({ "-p", port, dir .. "/nope.lua" }))
	end)

	scenario(69, "a silent port (a wrong interface) and one that sends NMEA sentences", function()
		for mode, says in pairs { silent = "nothing answers like an AT modem", nmea = "is it the modem's AT port" } do
			local path, stop = fake_device(mode)
			local r = run({ "-p", "tty:" .. path, "-o", "boot_wait=1", ok_job })
			stop()
			expect(69, r, says)
			assert.truthy(r.stdout:find('"error_name":"not_a_modem"', 1, true), r.stdout)
		end
	end)

	scenario(69, "--max-temp-failures temporary failures in a row", function()
		local temp = job("temp.lua", "return nil, require('modemftp.errors').new { name = 'timeout' }")
		expect(69, run({ "-p", port, "--max-temp-failures", "1", temp }), "1 consecutive temporary failures")
	end)

	scenario(70, "an internal error, caught at the top", function()
		-- the runner itself fails (not the job): lock.dir raises
		local init = job("break.lua", string.format([[
			package.path = %q .. "/lua/?.lua;" .. package.path
			package.cpath = %q .. "/lib/?.so;" .. package.cpath
			require("modemftp.lock").dir = function() error("injected fault") end]],
			core.realpath(cli.top), core.realpath(os.getenv("MODEMFTP_BUILD") or (cli.top .. "/build"))))
		local r = run({ "-p", port, ok_job }, { LUA_INIT_5_4 = "@" .. init })
		assert.equal(70, r.code, r.stderr)
		assert.truthy(r.stderr:find("internal error", 1, true), r.stderr)
		assert.truthy(r.stdout:find('"exit":70', 1, true), r.stdout)
		assert.truthy(r.stdout:find('"error_name":"internal"', 1, true), r.stdout)
		assert.truthy(r.stdout:find("injected fault", 1, true), r.stdout .. "\n--- stderr:\n" .. r.stderr)
	end)

	scenario(73, "the port's lock is held by another process, named", function()
		local holder = job("hold.lua", string.format([[
			local core = require "modemftp.core"
			local l = assert(core.lock(%q, 0))
			local f = io.open(%q, "w") f:write("x") f:close()
			local deadline = core.monotonic_ms() + 20000
			while not io.open(%q) and core.monotonic_ms() < deadline do core.sleep_ms(20) end
			l:unlock()]], require("modemftp.lock").path(port, dir), dir .. "/held", dir .. "/release"))
		local h = sim.sh(string.format("MODEMFTP_BUILD=%s lua5.4 -e %s %s >/dev/null 2>&1 & echo $!",
			sim.q(os.getenv("MODEMFTP_BUILD") or "build"),
			sim.q("package.cpath = (os.getenv('MODEMFTP_BUILD') or 'build') .. '/lib/?.so;' .. package.cpath"),
			sim.q(holder))):match("%d+")
		assert.is_true(cli.wait_file(dir .. "/held", 10))
		local r = run({ "-p", port, "--lock-timeout", "0.2", ok_job })
		sim.write(dir .. "/release", "")
		expect(73, r, "held by pid " .. h .. " %(lua5.4%)")
	end)

	scenario(73, "the device is held open by another program (TIOCEXCL; root would pass), dropped uid", function()
		local why = users.unavailable()
		if why then pending(why) return end
		local path, stop = fake_device("silent")
		os.execute("chmod 666 " .. sim.q(path) .. "; mkdir -m 1777 " .. sim.q(dir .. "/shared"))
		local hold = job("hold.lua", string.format([[
			local m = ...
			local f = io.open(%q, "w") f:write("x") f:close()
			m:poll(10)
			return true]], dir .. "/shared/held"))
		local out = os.tmpname()
		sim.sh(string.format("%senv HOME=%s %s run --no-lock -o init=no -p %s %s >%s 2>&1 &", users.prefix(), sim.q(dir),
			sim.q(cli.bin), sim.q(path), sim.q(hold), out))
		assert.is_true(cli.wait_file(dir .. "/shared/held", 10), sim.read(out))
		local r = users.run({ "run", "--json", "--no-lock", "-o", "init=no", "-p", path, ok_job }, { env = env })
		stop()
		os.remove(out)
		expect(73, r, "busy: held by pid %d+ %(lua5%.4%)")
	end)

	scenario(74, "a local file cannot be written", function()
		local j = job("disk.lua", [[
			local f, msg, code = io.open(... and "/nonexistent/dir/file" or "", "w")
			return nil, require("modemftp.errors").local_io("get", "/nonexistent/dir/file", msg, code)]])
		expect(74, run({ "-p", port, j }))
	end)

	scenario(75, "the device is missing (unplugged, re-enumerating)", function()
		expect(75, run({ "-p", "tty:/dev/nonexistent-modem", ok_job }))
	end)

	scenario(77, "a device the user may not open (root's pty, dropped uid)", function()
		local why = users.unavailable()
		if why then pending(why) return end
		local path, stop = fake_device("silent") -- a pty: crw--w---- root
		local r = users.run({ "run", "--json", "--no-lock", "-p", path, ok_job }, { env = env })
		stop()
		expect(77, r, "dialout group")
	end)

	scenario(77, "a lock file the user may not open (mode 0600, root's), dropped uid", function()
		local why = users.unavailable()
		if why then pending(why) return end
		local lockfile = require("modemftp.lock").path(port, dir)
		sim.write(lockfile, "")
		os.execute("chmod 600 " .. sim.q(lockfile))
		expect(77, users.run({ "run", "--json", "--lock-dir", dir, "-p", port, ok_job }, { env = env }), "lock: ")
	end)

	scenario(77, "a configuration file the user may not read, dropped uid", function()
		local why = users.unavailable()
		if why then pending(why) return end
		sim.write(dir .. "/secret.conf", "password = x\n")
		os.execute("chmod 600 " .. sim.q(dir .. "/secret.conf"))
		expect(77, users.run({ "run", "--json", "--lock-dir", dir, "-p", port, "-c", dir .. "/secret.conf", ok_job },
			{ env = env }), "may not read it")
	end)

	scenario(78, "impossible values in a configuration file", function()
		for _, text in ipairs { "baud = -5\n", "guard = 1e9\n", "rsptimeout = 5\n", "host =\n" } do
			sim.write(dir .. "/bad.conf", text)
			expect(78, run({ "-p", port, "-c", dir .. "/bad.conf", ok_job }), "bad.conf:1: ")
		end
	end)

	scenario(78, "an unknown port spec or an empty tcp host in a file, or MODEMFTP_PORT", function()
		sim.write(dir .. "/port.conf", "port = tcp::21\n")
		expect(78, run({ "-c", dir .. "/port.conf", ok_job }), "%(port from /tmp/[^ ]+/port%.conf%)")
		expect(78, run({ ok_job }, { MODEMFTP_PORT = "bogus:1" }), "port from MODEMFTP_PORT")
	end)

	scenario(78, "no FTP host configured for a job that logs in", function()
		local login = job("login.lua", "local m, args, job = ... ; return job:ftp()")
		expect(78, run({ "-p", port, login }), "no FTP host")
	end)

	scenario(78, "an unknown key with strict", function()
		sim.write(dir .. "/typo.conf", "strict = yes\npasword = x\n")
		expect(78, run({ "-p", port, "-c", dir .. "/typo.conf", ok_job }), "did you mean 'password'")
	end)

	scenario(124, "--timeout expires", function()
		local spin = job("spin.lua", "while true do end")
		expect(124, run({ "-p", port, "-t", "1", spin }))
	end)

	scenario(130, "SIGINT, and 143: SIGTERM", function()
		local wait = job("wait.lua", string.format([[
			local m = ...
			local f = io.open(%q, "w") f:write("x") f:close()
			return m:poll(30)]], dir .. "/ready"))
		for sig, code in pairs { INT = 130, TERM = 143 } do
			os.remove(dir .. "/ready")
			local h = cli.spawn({ "run", "--json", "-p", port, "--lock-dir", dir, wait }, { env = env })
			assert.is_true(cli.wait_file(dir .. "/ready", 10))
			cli.kill(h, sig)
			expect(code, assert(cli.wait(h, 10)))
		end
	end)
	scenarios[143] = scenarios[130]

	it("the README's table lists exactly the statuses above, and the man page and --help too", function()
		local function codes(text, head, row)
			local body = assert(text:match(head .. "(.-)\n%.SH ") or text:match(head .. "(.-)\n\n[^|]"), head)
			local set = {}
			for line in body:gmatch("[^\n]+") do
				for c in (line:match(row) or ""):gmatch("%d+") do set[tonumber(c)] = true end
			end
			return set
		end
		local made = {}
		for code in pairs(scenarios) do made[code] = true end
		assert.same(made, codes(sim.read("README.md"), "\n### Exit status\n", "^| ([%d /]+) |"))
		assert.same(made, codes(sim.read("scripts/modemftp.md"), "\n### Exit status\n", "^| ([%d /]+) |"))
		assert.same(made, codes(sim.read("scripts/modemftp.1"), "\n%.SH EXIT STATUS\n", "^%.B ([%d, ]+)$"))
		local help = {}
		local block = "\n" .. require("modemftp.help").text("run"):match("\nexit status:\n(.-)\n%-%-json")
		for c in block:gmatch("\n%s+(%d+)%s%s") do
			help[tonumber(c)] = true
		end
		help[143] = true -- "130 ...;  143 ..." share a line
		assert.same(made, help)
	end)
end)
