-- `modemftp run` as a process: exit statuses, output modes, the lock, the
-- --timeout deadline and signals. The modem is a replay transcript here
-- (spec/cli_e2e_spec.lua drives ec20sim).
local sim = require "support.sim"
local cli = require "support.cli"

describe("modemftp run", function()
	local dir, env, port

	local function job(name, text)
		sim.write(dir .. "/" .. name, text)
		return dir .. "/" .. name
	end

	local function run(argv, extra)
		local e = {}
		for k, v in pairs(env) do e[k] = v end
		for k, v in pairs(extra or {}) do e[k] = v end
		local a = { "run", "--lock-dir", dir }
		for _, x in ipairs(argv) do a[#a + 1] = x end
		return cli.run(a, { env = e, timeout = 40 })
	end

	before_each(function()
		dir = sim.tmpdir()
		-- no configuration from the machine or the user running the tests
		env = { HOME = dir, XDG_CONFIG_HOME = dir }
		cli.transcript(dir .. "/hello.tx", "> AT+CSQ\\r\n< AT+CSQ\\r\\r\\n+CSQ: 20,99\\r\\n\\r\\nOK\\r\\n\n")
		port = "replay:" .. dir .. "/hello.tx"
	end)
	after_each(function() os.execute("rm -rf " .. sim.q(dir)) end)

	it("hands the job the modem, its arguments and the context; exits 0", function()
		local j = job("ok.lua", [[
			local m, args, job = ...
			local lines = assert(m:at("AT+CSQ"))
			assert(args[0]:match("ok.lua$") and arg == args)
			assert(job.conf.port and job.stats and job.log and job.flow and job.ftp)
			job.log:info("csq=%s args=%s,%s custom=%s", lines[1], args[1], args[2], job.conf.custom)
			return true
		]])
		local r = run({ "-p", port, "-o", "custom=yes", j, "a", "b" })
		assert.equal(0, r.code)
		assert.equal("", r.stdout)
		assert.truthy(r.stderr:match("%d%d:%d%d:%d%d modemftp%[%d+%] info: csq=%+CSQ: 20,99 args=a,b custom=yes"))
	end)

	it("takes the port from MODEMFTP_PORT, then the config file; --port wins", function()
		local j = job("port.lua", "local m = ... ; io.stdout:write(m.name, '\\n')")
		sim.write(dir .. "/m.conf", "port = " .. port .. "\n")
		assert.equal(port .. "\n", run({ "-c", dir .. "/m.conf", j }).stdout)
		sim.write(dir .. "/modemftp.conf", "port = replay:/nonexistent\n") -- $XDG_CONFIG_HOME/modemftp.conf
		assert.equal(port .. "\n", run({ j }, { MODEMFTP_PORT = port }).stdout)
		local r = run({ j }) -- the user's file names a port that does not exist
		assert.equal(75, r.code)
		assert.equal(port .. "\n", run({ "--port", port, j }, { MODEMFTP_PORT = "replay:/nonexistent" }).stdout)
	end)

	it("exits 64 on usage errors and without a port", function()
		local j = job("ok.lua", "return true")
		assert.equal(64, run({ "--bogus", j }).code)
		assert.equal(64, run({}).code)
		local r = run({ j })
		assert.equal(64, r.code)
		assert.truthy(r.stderr:match("no modem port"))
		assert.equal(64, run({ "-c", dir .. "/missing.conf", j }).code)
		assert.equal(64, cli.run({ "frobnicate" }).code)
	end)

	it("exits 66 when the job cannot be loaded", function()
		assert.equal(66, run({ "-p", port, dir .. "/nope.lua" }).code)
		local j = job("bad.lua", "this is not lua")
		local r = run({ "-p", port, j })
		assert.equal(66, r.code)
		assert.truthy(r.stderr:match("bad.lua"))
	end)

	it("exits 1 for permanent failures and 75 for retryable ones", function()
		local perm = job("perm.lua", [[
			return nil, require("modemftp.errors").new { op = "put", target = "a", code = 625, protocol_error = 530 }]])
		local temp = job("temp.lua", [[
			return nil, require("modemftp.errors").new { op = "put", target = "a", code = 607 }]])
		local raise = job("raise.lua", "error('boom')")
		local raise_err = job("raise_err.lua", "error(require('modemftp.errors').new { name = 'timeout' })")
		local falsy = job("false.lua", "return false, 'nope'")
		assert.equal(1, run({ "-p", port, perm }).code)
		assert.equal(75, run({ "-p", port, temp }).code)
		local r = run({ "-p", port, raise })
		assert.equal(1, r.code)
		assert.truthy(r.stderr:match("boom"))
		assert.equal(75, run({ "-p", port, raise_err }).code)
		assert.equal(1, run({ "-p", port, falsy }).code)
		-- the port cannot be opened: a later run may succeed
		assert.equal(75, run({ "-p", "tty:/dev/nonexistent-modem", perm }).code)
	end)

	it("--quiet prints nothing on success and the whole log on failure", function()
		local ok = job("ok.lua", "local m, a, job = ... ; job.log:info('step one'); return true")
		local bad = job("bad.lua", "local m, a, job = ... ; job.log:info('step one'); return nil, 'it broke'")
		local r = run({ "-q", "-p", port, ok })
		assert.equal(0, r.code)
		assert.equal("", r.stdout .. r.stderr)
		r = run({ "-q", "-p", port, bad })
		assert.equal(1, r.code)
		assert.truthy(r.stderr:match("info: step one"))
		assert.truthy(r.stderr:match("error: it broke"))
	end)

	it("--json prints one status line", function()
		local j = job("j.lua", "local m, a, job = ... ; job.stats.bytes = 42 ; job.stats.retries = 2 ; return true")
		local r = run({ "--json", "-q", "-p", port, j })
		assert.equal(0, r.code)
		assert.truthy(r.stdout:match('^{.*}\n$'))
		assert.truthy(r.stdout:find('"result":"ok"', 1, true))
		assert.truthy(r.stdout:find('"bytes":42', 1, true))
		assert.truthy(r.stdout:find('"retries":2', 1, true))
		assert.truthy(r.stdout:find('"exit":0', 1, true))
		assert.truthy(r.stdout:match('"duration":[%d%.]+'))
		local bad = job("b.lua", "return nil, require('modemftp.errors').new { name = 'timeout', op = 'size' }")
		r = run({ "--json", "-q", "-p", port, bad })
		assert.equal(75, r.code)
		assert.truthy(r.stdout:find('"result":"tempfail"', 1, true))
		assert.truthy(r.stdout:find('"error":"size: timeout"', 1, true))
		assert.truthy(r.stdout:find('"error_name":"timeout"', 1, true))
		r = run({ "--json", "--nope" })
		assert.equal(64, r.code)
		assert.truthy(r.stdout:find('"result":"usage"', 1, true))
	end)

	it("--log FILE and --syslog keep stderr quiet, except for a failure line", function()
		local ok = job("ok.lua", "local m, a, job = ... ; job.log:info('into the file'); return true")
		local bad = job("bad.lua", "return nil, 'it broke'")
		local r = run({ "--log", dir .. "/log", "-p", port, ok })
		assert.equal(0, r.code)
		assert.equal("", r.stderr)
		assert.truthy(sim.read(dir .. "/log"):match("info: into the file"))
		r = run({ "--syslog", "-p", port, ok })
		assert.equal(0, r.code)
		assert.equal("", r.stderr)
		r = run({ "--syslog", "-p", port, bad })
		assert.equal(1, r.code)
		assert.equal("modemftp: it broke\n", r.stderr)
	end)

	it("--record writes a transcript and --verbose shows the AT traffic", function()
		local j = job("csq.lua", "local m = ... ; assert(m:at('AT+CSQ')) ; return true")
		local r = run({ "-v", "--record", dir .. "/rec.tx", "-p", port, j })
		assert.equal(0, r.code)
		assert.truthy(r.stderr:match("> AT%+CSQ"))
		local rec = sim.read(dir .. "/rec.tx")
		assert.truthy(rec:match("^# modemftp transcript v1"))
		assert.truthy(rec:find("> AT+CSQ\\r", 1, true))
	end)

	it("lets one process at a time drive a port (lock between two processes)", function()
		local hold = job("hold.lua", string.format([[
			local f = io.open(%q, "w") f:write("x") f:close()
			local core = require "modemftp.core"
			local deadline = core.monotonic_ms() + 10000
			while not io.open(%q) and core.monotonic_ms() < deadline do core.sleep_ms(20) end
			return true]], dir .. "/ready", dir .. "/go"))
		local quick = job("quick.lua", "return true")
		local a = cli.spawn({ "run", "--lock-dir", dir, "-p", port, hold }, { env = env })
		assert.is_true(cli.wait_file(dir .. "/ready", 10))
		-- same device, other spelling of the port: still the same lock
		local r = run({ "--lock-timeout", "0.3", "-p", port, quick })
		assert.equal(73, r.code)
		assert.truthy(r.stderr:match("busy"))
		assert.truthy(r.seconds < 5)
		local b = cli.spawn({ "run", "--lock-dir", dir, "--lock-timeout", "10", "-p", port, quick }, { env = env })
		sim.write(dir .. "/go", "")
		local ra = cli.wait(a, 15)
		local rb = cli.wait(b, 15)
		assert.equal(0, ra.code)
		assert.equal(0, rb.code) -- waited for the lock, then ran
	end)

	it("--timeout ends a job stuck in a modem wait or in Lua code with 124", function()
		local wait = job("wait.lua", "local m = ... ; m:poll(30) ; return true")
		local spin = job("spin.lua", "while true do end")
		for _, j in ipairs { wait, spin } do
			local r = run({ "--json", "-t", "1", "-p", port, j })
			assert.equal(124, r.code)
			assert.truthy(r.seconds < 8, "took " .. r.seconds .. " s")
			assert.truthy(r.stdout:find('"result":"timeout"', 1, true))
		end
	end)

	it("exits 143 on SIGTERM and 130 on SIGINT, cleanly", function()
		local wait = job("wait.lua", string.format([[
			local m = ...
			local f = io.open(%q, "w") f:write("x") f:close()
			local ok, err = m:poll(30)
			return ok, err]], dir .. "/ready"))
		for sig, code in pairs { TERM = 143, INT = 130 } do
			os.remove(dir .. "/ready")
			local h = cli.spawn({ "run", "-p", port, "--lock-dir", dir, wait }, { env = env })
			assert.is_true(cli.wait_file(dir .. "/ready", 10))
			cli.kill(h, sig)
			local r = cli.wait(h, 10)
			assert.is_not_nil(r)
			assert.equal(code, r.code)
			assert.truthy(r.seconds < 8)
		end
	end)
end)

describe("modemftp run --max-temp-failures", function()
	local core = require "modemftp.core"
	local lock = require "modemftp.lock"
	local dir, env, port

	local function run(argv)
		return cli.run(table.move(argv, 1, #argv, 4, { "run", "--lock-dir", dir }), { env = env, timeout = 40 })
	end

	local function job(name, text)
		local path = dir .. "/" .. name
		sim.write(path, text)
		return path
	end

	local function states(d)
		local out = sim.sh("cd " .. sim.q(d or dir) .. " && ls -A | grep '\\.state$'")
		return out
	end

	before_each(function()
		dir = sim.tmpdir()
		env = { HOME = dir, XDG_CONFIG_HOME = dir }
		cli.transcript(dir .. "/t.tx", "")
		port = "replay:" .. dir .. "/t.tx"
	end)
	after_each(function() os.execute("rm -rf " .. sim.q(dir)) end)

	local TEMP = "return nil, require('modemftp.errors').new { name = 'timeout', op = 'size' }"

	it("exits 69 from the Nth temporary failure in a row, says so at error level, and a success clears it", function()
		local temp = job("temp.lua", TEMP)
		local ok = job("ok.lua", "return true")
		assert.equal(75, run({ "--max-temp-failures", "3", "-p", port, temp }).code)
		assert.equal(75, run({ "--max-temp-failures", "3", "-p", port, temp }).code)
		local r = run({ "--json", "--max-temp-failures", "3", "-p", port, temp })
		assert.equal(69, r.code)
		assert.truthy(r.stderr:match("error: 3 consecutive temporary failures since %d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ "
			.. "%(%-%-max%-temp%-failures 3%)\n"), r.stderr)
		assert.truthy(r.stderr:find("error: size: timeout (exit 69, unavailable)", 1, true), r.stderr)
		assert.truthy(r.stdout:find('"result":"unavailable"', 1, true))
		assert.truthy(r.stdout:find('"error_name":"timeout"', 1, true)) -- the failure itself is still named
		-- and every one after it, from the same first failure
		local since = r.stderr:match("since (%S+)")
		r = run({ "-q", "--max-temp-failures", "3", "-p", port, temp })
		assert.equal(69, r.code)
		assert.truthy(r.stderr:find("4 consecutive temporary failures since " .. since, 1, true), r.stderr)
		-- the count is the job's on this port: another job is not concerned
		assert.equal(0, run({ "--max-temp-failures", "3", "-p", port, ok }).code)
		assert.equal(69, run({ "--max-temp-failures", "3", "-p", port, temp }).code)
		-- a success of the job clears its count
		sim.write(temp, "return true")
		assert.equal(0, run({ "--max-temp-failures", "3", "-p", port, temp }).code)
		assert.equal("", states())
		sim.write(temp, TEMP)
		assert.equal(75, run({ "--max-temp-failures", "3", "-p", port, temp }).code)
	end)

	it("counts a busy lock as temporary, leaves the count on other failures, keeps it in --state-dir", function()
		local temp = job("temp.lua", TEMP)
		local perm = job("perm.lua", "return nil, 'broken'")
		local sd = dir .. "/state"
		os.execute("mkdir " .. sim.q(sd))
		local held = assert(core.lock(lock.path(port, dir), 0))
		local r = run({ "--lock-timeout", "0", "--max-temp-failures", "2", "--state-dir", sd, "-p", port, temp })
		held:unlock()
		assert.equal(73, r.code)
		-- a permanent failure neither counts nor clears (the job file differs: same name in another folder)
		os.execute("mkdir " .. sim.q(dir .. "/p") .. " && cp " .. sim.q(perm) .. " " .. sim.q(dir .. "/p/temp.lua"))
		assert.equal(1, run({ "--max-temp-failures", "2", "--state-dir", sd, "-p", port, dir .. "/p/temp.lua" }).code)
		r = run({ "--max-temp-failures", "2", "--state-dir", sd, "-p", port, temp })
		assert.equal(69, r.code)
		assert.matches("2 consecutive temporary failures", r.stderr)
		assert.equal("", states(dir))
		assert.truthy(states(sd):match("^modemftp%..+%.temp%.lua%.state\n$"), states(sd))
	end)

	it("reads max_temp_failures and state_dir from the configuration; without them nothing is kept", function()
		local temp = job("temp.lua", TEMP)
		for _ = 1, 3 do assert.equal(75, run({ "-p", port, temp }).code) end
		assert.equal("", states())
		sim.write(dir .. "/m.conf", "max_temp_failures = 2\nstate_dir = " .. dir .. "\n")
		assert.equal(75, run({ "-c", dir .. "/m.conf", "-p", port, temp }).code)
		assert.equal(69, run({ "-c", dir .. "/m.conf", "-p", port, temp }).code)
		-- 0 turns the bound off
		assert.equal(75, run({ "-c", dir .. "/m.conf", "--max-temp-failures", "0", "-p", port, temp }).code)
		assert.equal(64, run({ "--max-temp-failures", "-1", "-p", port, temp }).code)
	end)

	it("says the bound on stderr too when the log goes to syslog or a file", function()
		local temp = job("temp.lua", TEMP)
		local r = run({ "--log", dir .. "/log", "--max-temp-failures", "1", "-p", port, temp })
		assert.equal(69, r.code)
		assert.truthy(r.stderr:match("^modemftp: 1 consecutive temporary failures since %S+ %(%-%-max%-temp%-failures 1%)\n"
			.. "modemftp: size: timeout\n$"), r.stderr)
		assert.matches("error: 1 consecutive temporary failures", sim.read(dir .. "/log"))
	end)
end)

describe("the exit status tables", function()
	local exitstatus = require "modemftp.exitstatus"
	local help = require "modemftp.help"

	-- The codes a document's exit table lists. @return set of codes
	local function codes(text, section_start, row)
		local body = assert(text:match(section_start .. "(.-)\n#+ ") or text:match(section_start .. "(.-)\n%.SH ")
			or text:match(section_start .. "(.-)\n\n%S"), "no section " .. section_start)
		local set = {}
		for line in body:gmatch("[^\n]+") do
			local cells = line:match(row)
			if cells then
				for c in cells:gmatch("%d+") do set[tonumber(c)] = true end
			end
		end
		return set
	end

	local function listed(set)
		local out = {}
		for name, code in pairs(exitstatus.EXIT) do
			if not set[code] then out[#out + 1] = name .. " (" .. code .. ")" end
		end
		table.sort(out)
		return out
	end

	it("name every status in `modemftp run --help`", function()
		local set = {}
		local block = help.text("run"):match("\nexit status:\n(.-)\n\n")
		for line in block:gmatch("[^\n]+") do
			for c in (line:match("^%s+(%d+)%s") and line or ""):gmatch("%f[%d](%d+)%s%s") do set[tonumber(c)] = true end
		end
		assert.same({}, listed(set))
	end)

	it("name every status in scripts/modemftp.md and modemftp(1)", function()
		assert.same({}, listed(codes(sim.read("scripts/modemftp.md"), "\n### Exit status\n", "^| ([%d /]+) |")))
		assert.same({}, listed(codes(sim.read("scripts/modemftp.1"), "\n%.SH EXIT STATUS\n", "^%.B ([%d, ]+)$")))
	end)

	it("name every status in README.md", function()
		assert.same({}, listed(codes(sim.read("README.md"), "\n### Exit status\n", "^| ([%d /]+) |")))
	end)
end)
