-- Configuration that catches mistakes: unknown keys (nearest known key,
-- --strict), checked numbers, secrets from files and the environment with
-- warnings for the exposed ones, the APN authentication default, the SIM
-- PIN (entered when asked, never wasting attempts, never shown), and the
-- command's own files made 0600.
local sim = require "support.sim"
local cli = require "support.cli"
local replay = require "support.replay"
local config = require "modemftp.config"
local runner = require "modemftp.runner"
local simpin = require "modemftp.simpin"
local core = require "modemftp.core"

local function has(list, pattern)
	for _, s in ipairs(list) do
		if s:find(pattern) then return s end
	end
	return nil
end

describe("configuration keys", function()
	local dir
	before_each(function() dir = sim.tmpdir() end)
	after_each(function() os.execute("rm -rf " .. sim.q(dir)) end)

	it("names the nearest known key of a misspelt one (Levenshtein), only when it is near", function()
		assert.equal("password", config.nearest("pasword"))
		assert.equal("apn_user", config.nearest("apn_usr"))
		assert.equal("lock_timeout", config.nearest("lock_timout"))
		assert.equal("host", config.nearest("hots") or config.nearest("hst"))
		assert.is_nil(config.nearest("custom"))
		assert.is_nil(config.nearest("wxyz"))
		assert.is_nil(config.unknown("password"))
		assert.is_nil(config.unknown("job_folder"))
	end)

	it("warns about an unknown key in a file with its file and line; job_* keys are quiet", function()
		sim.write(dir .. "/a.conf", "host = h\npasword = x\njob_folder = /data\ncustom = 1\n")
		local conf, _, info = assert(config.load { config = { dir .. "/a.conf" } })
		assert.equal("x", conf.pasword) -- still the job's
		assert.truthy(has(info.warnings, "^" .. dir:gsub("%p", "%%%0") .. "/a%.conf:2: unknown key 'pasword' %(did you mean 'password'%?%)$"),
			table.concat(info.warnings, "\n"))
		assert.truthy(has(info.warnings, "a%.conf:4: unknown key 'custom' %(kept for the job as job%.conf%.custom"))
		assert.is_nil(has(info.warnings, "job_folder"))
	end)

	it("makes an unknown key an error with --strict or strict = yes: 78 in a file, 64 with -o", function()
		sim.write(dir .. "/a.conf", "pasword = x\n")
		local conf, err = config.load { config = { dir .. "/a.conf" }, strict = true }
		assert.is_nil(conf)
		assert.same({ "config", dir .. "/a.conf:1: unknown key 'pasword' (did you mean 'password'?) (strict)" },
			{ err.name, err.message })
		sim.write(dir .. "/b.conf", "strict = yes\n")
		conf, err = config.load { config = { dir .. "/b.conf" }, set = { usr = "u" } }
		assert.is_nil(conf)
		assert.same({ "usage", "-o: unknown key 'usr' (did you mean 'user'?) (strict)" }, { err.name, err.message })
	end)

	it("checks numbers against their ranges and the baud against the line speeds", function()
		for key, text in pairs { baud = "-9600", guard = "1e9", timeout = "1e300", context = "0", rsptimeout = "181",
			apn_auth = "4", ftp_port = "70000", sslctxid = "6", attempts = "0" } do
			local v, err = config.value(key, text)
			assert.is_nil(v, key)
			assert.equal("usage", err.name)
			assert.truthy(err.message:find("^" .. key .. ": "), err.message)
		end
		assert.truthy(select(2, config.value("baud", "12345")).message:find("line speed", 1, true))
		assert.same({ 921600, 0.5, 16, 180 }, { config.value("baud", "921600"), config.value("guard", "0.5"),
			config.value("context", "16"), config.value("rsptimeout", "180") })
		local c, err = config.parse("port = /dev/ttyUSB2\nguard = 1e9\n", "f.conf")
		assert.is_nil(c)
		assert.same({ "config", "f.conf:2: guard: 1e9 is out of range (0-5)" }, { err.name, err.message })
	end)

	it("refuses an empty port or host, and a PIN that is not 4-8 digits without quoting it", function()
		assert.equal("port: empty", select(2, config.value("port", "")).message)
		assert.equal("host: empty", select(2, config.value("host", "")).message)
		local v, err = config.value("pin", "12x4")
		assert.is_nil(v)
		assert.equal("pin: expected 4 to 8 digits", err.message)
		assert.equal("0815", config.value("pin", "0815"))
	end)

	it("says where each key came from", function()
		sim.write(dir .. "/a.conf", "host = h\nport = /dev/a\n")
		local conf = assert(config.load { config = { dir .. "/a.conf" }, set = { host = "h2" } })
		assert.equal("command line", config.origin(conf, "host"))
		if os.getenv("MODEMFTP_PORT") == nil then assert.equal(dir .. "/a.conf", config.origin(conf, "port")) end
		assert.is_nil(config.origin(conf, "user"))
	end)
end)

describe("configuration secrets", function()
	local dir
	before_each(function() dir = sim.tmpdir() end)
	after_each(function() os.execute("rm -rf " .. sim.q(dir)) end)

	it("reads password_file, apn_password_file and pin_file (first line); a later password wins", function()
		sim.write(dir .. "/pw", "s3cret\nignored\n")
		sim.write(dir .. "/apn", "apn-pw")
		sim.write(dir .. "/pin", "4711\n")
		os.execute("chmod 600 " .. dir .. "/pw " .. dir .. "/apn " .. dir .. "/pin")
		sim.write(dir .. "/a.conf", string.format("password_file = %s/pw\napn_password_file = %s/apn\npin_file = %s/pin\n",
			dir, dir, dir))
		local conf, _, info = assert(config.load { config = { dir .. "/a.conf" } })
		assert.same({ "s3cret", "apn-pw", "4711" }, { conf.password, conf.apn_password, conf.pin })
		assert.equal(dir .. "/pw", config.origin(conf, "password"))
		assert.is_nil(has(info.warnings, "."))
		conf = assert(config.load { config = { dir .. "/a.conf" }, set = { password = "cli" } })
		assert.equal("cli", conf.password)
		local secrets = config.secrets(conf)
		table.sort(secrets)
		assert.same({ "4711", "apn-pw", "cli" }, secrets) -- the PIN is one; the file names are not
	end)

	it("fails on a missing secret's file: 78 from a file, 64 from -o, 77 when the user may not read it", function()
		sim.write(dir .. "/a.conf", "password_file = " .. dir .. "/none\n")
		local conf, err = config.load { config = { dir .. "/a.conf" } }
		assert.is_nil(conf)
		assert.equal("config", err.name)
		assert.truthy(err.message:find("^password_file: " .. dir:gsub("%p", "%%%0") .. "/none: No such file"), err.message)
		conf, err = config.load { config = {}, set = { password_file = dir .. "/none" } }
		assert.is_nil(conf)
		assert.equal("usage", err.name)
	end)

	it("warns about -o password=..., and about a file holding a secret that others may read", function()
		local conf, _, info = assert(config.load { config = {}, set = { password = "p" } })
		assert.equal("p", conf.password)
		assert.truthy(has(info.warnings, "^%-o password=%.%.%. is visible to every user of this machine %(ps%): "
			.. "use password_file = FILE or MODEMFTP_PASSWORD instead$"))
		sim.write(dir .. "/a.conf", "password = p\n")
		os.execute("chmod 644 " .. dir .. "/a.conf")
		_, _, info = assert(config.load { config = { dir .. "/a.conf" } })
		assert.truthy(has(info.warnings, "a%.conf holds a password and is readable by every user %(mode 0644%): chmod 600 "))
		os.execute("chmod 640 " .. dir .. "/a.conf")
		_, _, info = assert(config.load { config = { dir .. "/a.conf" } })
		assert.truthy(has(info.warnings, "readable by its group %(mode 0640%)"))
		os.execute("chmod 600 " .. dir .. "/a.conf")
		_, _, info = assert(config.load { config = { dir .. "/a.conf" } })
		assert.same({}, info.warnings)
	end)

	it("takes MODEMFTP_PASSWORD, MODEMFTP_APN_PASSWORD and MODEMFTP_PIN, below the command line", function()
		local port = dir .. "/hello.tx"
		cli.transcript(port)
		sim.write(dir .. "/show.lua", [[
			local m, args, job = ...
			io.stdout:write(job.conf.password, " ", job.conf.apn_password, " ", job.conf.pin, "\n")
			job.log:info("password %s", job.conf.password)
			return true]])
		local env = { HOME = dir, XDG_CONFIG_HOME = dir, MODEMFTP_PASSWORD = "envpw", MODEMFTP_APN_PASSWORD = "envapn",
			MODEMFTP_PIN = "1234" }
		local r = cli.run({ "run", "--lock-dir", dir, "-p", "replay:" .. port, dir .. "/show.lua" }, { env = env })
		assert.equal(0, r.code, r.stderr)
		assert.equal("envpw envapn 1234\n", r.stdout)
		assert.truthy(r.stderr:find("info: password \\*", 1, true), r.stderr)
		r = cli.run({ "run", "--lock-dir", dir, "-p", "replay:" .. port, "-o", "password=clipw", dir .. "/show.lua" },
			{ env = env })
		assert.equal("clipw envapn 1234\n", r.stdout)
		assert.truthy(r.stderr:find("warn: -o password=... is visible to every user", 1, true), r.stderr)
	end)
end)

describe("the command's own files", function()
	it("--record and a new --log are created 0600, an old transcript made 0600", function()
		local dir = sim.tmpdir()
		cli.transcript(dir .. "/hello.tx")
		sim.write(dir .. "/ok.lua", "return true")
		sim.write(dir .. "/old.tx", "x")
		os.execute("chmod 644 " .. dir .. "/old.tx")
		local env = { HOME = dir, XDG_CONFIG_HOME = dir }
		for _, rec in ipairs { dir .. "/new.tx", dir .. "/old.tx" } do
			local r = cli.run({ "run", "--lock-dir", dir, "-p", "replay:" .. dir .. "/hello.tx", "--record", rec,
				"--log", dir .. "/run.log", dir .. "/ok.lua" }, { env = env })
			assert.equal(0, r.code, r.stderr)
			assert.equal(384, core.stat(rec).mode, rec) -- 0600
			assert.truthy(sim.read(rec):match("^# modemftp transcript v1"))
		end
		assert.equal(384, core.stat(dir .. "/run.log").mode)
		assert.truthy(sim.read(dir .. "/run.log"):find("info: done", 1, true))
		os.execute("rm -rf " .. sim.q(dir))
	end)
end)

describe("the APN's authentication", function()
	it("is apn_auth when set, else PAP or CHAP (3) with an apn_user, else none (0)", function()
		assert.equal(3, runner.apn_auth { apn_user = "u" })
		assert.equal(1, runner.apn_auth { apn_user = "u", apn_auth = 1 })
		assert.equal(0, runner.apn_auth { apn_user = "" })
		assert.equal(0, runner.apn_auth {})
	end)
end)

describe("the SIM PIN", function()
	after_each(function() replay.assert_all_closed() end)

	it("is entered when the SIM asks and has all its attempts, never shown in a trace", function()
		local T = replay.script()
		T:cmd("AT+CPIN?"):line("+CPIN: SIM PIN"):ok()
		T:cmd('AT+QPINC="SC"'):line('+QPINC: "SC",3,10'):ok()
		T:cmd('AT+CPIN="4711"'):ok()
		T:cmd("AT+CPIN?"):cme(14)
		T:cmd("AT+CPIN?"):line("+CPIN: READY"):ok()
		local dir = sim.tmpdir()
		local trace = assert(io.open(dir .. "/trace", "w"))
		local m = T:open { trace = trace } -- the recorder writes through the same redactor (test_transcript.c)
		assert.equal("entered", simpin.unlock(m, "4711"))
		T:finish(m)
		trace:close()
		local all = sim.read(dir .. "/trace")
		assert.is_nil(all:find("4711", 1, true), all)
		assert.truthy(all:find('AT+CPIN="\\*"', 1, true), all)
		os.execute("rm -rf " .. sim.q(dir))
	end)

	it("does nothing when the SIM is ready", function()
		local T = replay.script()
		T:cmd("AT+CPIN?"):line("+CPIN: READY"):ok()
		local m = T:open()
		assert.equal("ready", simpin.unlock(m, "4711"))
		T:finish(m)
	end)

	it("is not tried when an attempt was wasted already (a wrong PIN must not lock the SIM)", function()
		local T = replay.script()
		T:cmd("AT+CPIN?"):line("+CPIN: SIM PIN"):ok()
		T:cmd('AT+QPINC="SC"'):line('+QPINC: "SC",2,10'):ok()
		local m = T:open()
		local ok, err = simpin.unlock(m, "4711")
		assert.is_nil(ok)
		assert.equal("config", err.name)
		assert.truthy(err.message:find("the SIM has 2 PIN attempts left: the configured PIN is not tried", 1, true))
		assert.is_nil(tostring(err):find("4711", 1, true))
		T:finish(m)
	end)

	it("refused, is a configuration error (78) that says so; missing, says to set pin; PUK needs a person", function()
		local T = replay.script()
		T:cmd("AT+CPIN?"):line("+CPIN: SIM PIN"):ok()
		T:cmd('AT+QPINC="SC"'):error()
		T:cmd('AT+CPIN="4711"'):cme(16)
		T:cmd('AT+QPINC="SC"'):error()
		T:cmd("AT+CPIN?"):line("+CPIN: SIM PIN"):ok()
		T:cmd("AT+CPIN?"):line("+CPIN: SIM PUK"):ok()
		local m = T:open()
		local ok, err = simpin.unlock(m, "4711")
		assert.is_nil(ok)
		assert.equal("config", err.name)
		assert.equal(78, require("modemftp.exitstatus").of(err))
		assert.truthy(err.message:find("the SIM refused the configured PIN", 1, true), err.message)
		ok, err = simpin.unlock(m, nil)
		assert.is_nil(ok)
		assert.equal("the SIM asks for its PIN: set `pin =` (or pin_file =, MODEMFTP_PIN)", err.message)
		ok, err = simpin.unlock(m, "4711")
		assert.is_nil(ok)
		assert.equal("sim_locked", err.name)
		assert.truthy(err.message:find("SIM PUK", 1, true))
		T:finish(m)
	end)
end)
