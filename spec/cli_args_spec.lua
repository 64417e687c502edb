-- The command's pieces in-process: options, configuration order, help,
-- lock names, JSON, the logger, exit statuses (modemftp.options, config,
-- help, lock, json, log, exitstatus; modemftp.cli only picks the verb).
local options = require "modemftp.options"
local config = require "modemftp.config"
local help = require "modemftp.help"
local lock = require "modemftp.lock"
local json = require "modemftp.json"
local Log = require "modemftp.log"
local exitstatus = require "modemftp.exitstatus"
local errors = require "modemftp.errors"
local sim = require "support.sim"

describe("cli options", function()
	it("parses long, short, = and bundled options and stops at the job", function()
		local o, rest = options.parse("run", { "-qv", "--port=tty:/dev/pts/9", "-t", "30", "--json",
			"-o", "host=ftp.example.com", "job.lua", "--", "--port", "x", "arg2" }, true)
		assert.is_true(o.quiet)
		assert.is_true(o.verbose)
		assert.equal("tty:/dev/pts/9", o.port)
		assert.equal("30", o.timeout)
		assert.is_true(o.json)
		assert.equal("ftp.example.com", o.set.host)
		assert.same({ "job.lua", "--port", "x", "arg2" }, rest)
	end)

	it("refuses one of run's options after the job file, unless after --; other arguments are the job's", function()
		for _, argv in ipairs { { "job.lua", "--port", "x" }, { "job.lua", "a", "-p", "x" }, { "job.lua", "--timeout=5" } } do
			local o, err = options.parse("run", argv, true)
			assert.is_nil(o)
			assert.equal("usage", err.name)
			assert.truthy(err.message:match("^option %-%S+ after the job file: put modemftp's options before JOB.lua"), err.message)
		end
		local o, rest = options.parse("run", { "job.lua", "--dry-run", "-5", "--", "--port", "--" }, true)
		assert.is_truthy(o)
		assert.same({ "job.lua", "--dry-run", "-5", "--port", "--" }, rest)
		o, rest = options.parse("run", { "--", "job.lua", "--port" }, true)
		assert.same({ "job.lua", "--port" }, rest)
	end)

	it("types --set values and rejects bad ones", function()
		local o = options.parse("run", { "-o", "baud=9600", "--set", "passive=no", "-o", "ftp-port=2121", "j" }, true)
		assert.equal(9600, o.set.baud)
		assert.is_false(o.set.passive)
		assert.equal(2121, o.set.ftp_port)
		local bad, err = options.parse("run", { "-o", "baud=fast", "j" }, true)
		assert.is_nil(bad)
		assert.truthy(err.message:match("baud"))
	end)

	it("reports unknown options, missing values and values on flags", function()
		local cases = { { "--nope" }, { "-Z" }, { "--port" }, { "--json=1" } }
		for _, argv in ipairs(cases) do
			local o, err = options.parse("run", argv, true)
			assert.is_nil(o)
			assert.is_true(errors.is(err))
			assert.equal("usage", err.name)
		end
	end)

	it("has help for the command and every verb, listing the options", function()
		assert.truthy(help.text():match("usage: modemftp VERB"))
		for _, verb in ipairs { "run", "console", "ports" } do
			local h = help.text(verb)
			assert.truthy(h:match("usage: modemftp " .. verb))
			for _, o in ipairs(options.OPTIONS[verb]) do
				assert.truthy(h:find("--" .. o[1], 1, true), verb .. " help lacks --" .. o[1])
			end
		end
		assert.truthy(help.text("run"):match("73  the port.s lock or the device is held by another process"))
		assert.is_nil(help.text("nope"))
	end)
end)

describe("cli configuration", function()
	local dir
	before_each(function() dir = sim.tmpdir() end)
	after_each(function() os.execute("rm -rf " .. sim.q(dir)) end)

	it("parses key = value, comments, quotes and types", function()
		local c = assert(config.parse(table.concat({
			"# comment", "; also a comment", "", "port = /dev/ttyUSB2", "baud=57600", "rtscts = yes",
			'password = "  p#w \\" x"', "lock-timeout = 2.5", "custom_key = any value # kept",
		}, "\n"), "t"))
		assert.equal("/dev/ttyUSB2", c.port)
		assert.equal(57600, c.baud)
		assert.is_true(c.rtscts)
		assert.equal('  p#w " x', c.password)
		assert.equal(2.5, c.lock_timeout)
		assert.equal("any value # kept", c.custom_key)
	end)

	it("says file and line of a bad line", function()
		local c, err = config.parse("port = a\nthis is not\n", "f.conf")
		assert.is_nil(c)
		assert.equal("f.conf:2: expected 'key = value'", tostring(err))
		assert.equal("config", err.name)
		c, err = config.parse("baud = x\n", "f.conf")
		assert.is_nil(c)
		assert.truthy(tostring(err):match("^f.conf:1: baud"))
	end)

	it("merges files in order, later wins, then command-line settings", function()
		sim.write(dir .. "/a.conf", "port = /dev/a\nhost = h1\nuser = u1\n")
		sim.write(dir .. "/b.conf", "host = h2\n")
		local c, sources = config.load { config = { dir .. "/a.conf", dir .. "/b.conf" }, set = { user = "u3" } }
		if os.getenv("MODEMFTP_PORT") == nil then assert.equal("/dev/a", c.port) end
		assert.equal("h2", c.host)
		assert.equal("u3", c.user)
		assert.same({ dir .. "/a.conf", dir .. "/b.conf" }, sources)
	end)

	it("fails on a missing explicit file but not on a missing default one", function()
		local c, err = config.load { config = { dir .. "/none.conf" } }
		assert.is_nil(c)
		assert.truthy(tostring(err):match("none.conf"))
		assert.same({}, config.read(dir .. "/none.conf", false))
	end)

	it("lists /etc first, then the user's file", function()
		local files = config.files()
		assert.equal("/etc/modemftp.conf", files[1])
		assert.truthy(files[2]:match("modemftp.conf$"))
	end)
end)

describe("cli pieces", function()
	it("names one lock per device whatever the spelling", function()
		local a = lock.path("/dev/null", "/run/lock")
		assert.equal(a, lock.path("tty:/dev/null", "/run/lock"))
		assert.equal(a, lock.path("serial:/dev/null", "/run/lock"))
		assert.equal("/run/lock/modemftp.null.lock", a)
		assert.equal("/x/modemftp.tcp_host_2000.lock", lock.path("tcp:host:2000", "/x"))
	end)

	it("encodes JSON", function()
		assert.equal('{"a":[1,2],"b":"x\\"\\n","c":true,"d":1.5}', json.encode { a = { 1, 2 }, b = 'x"\n', c = true, d = 1.5 })
		assert.equal("null", json.encode(nil))
		assert.equal('"put a: timeout"', json.encode(errors.new { op = "put", target = "a", name = "timeout" }))
	end)

	it("maps errors to exit statuses", function()
		assert.equal(75, exitstatus.of(errors.new { name = "timeout" }))
		assert.equal(75, exitstatus.of(errors.new { code = 605 }))
		assert.equal(1, exitstatus.of(errors.new { code = 625, protocol_error = 530 }))
		assert.equal(1, exitstatus.of(errors.new { code = 627, protocol_error = 550 }))
		assert.equal(1, exitstatus.of("plain string"))
		assert.equal(143, exitstatus.of(errors.new { name = "interrupted" }))
		assert.equal("tempfail", exitstatus.RESULT[75])
	end)

	it("maps a local file failure to 74 (local_io) or 66 (local_missing), never retried", function()
		local e = errors.new { name = "local_io", message = "No space left on device" }
		assert.is_false(e.retryable)
		assert.equal(74, exitstatus.of(e))
		assert.is_false(errors.new { name = "local_missing" }.retryable)
		assert.equal(66, exitstatus.of(errors.new { name = "local_missing" }))
		assert.equal("ioerr", exitstatus.RESULT[74])
	end)

	it("logs timestamped lines, redacts secrets (as \\*, the core's mask), holds them back when quiet", function()
		local path = os.tmpname()
		local f = assert(io.open(path, "w+"))
		local log = Log.new { stderr = f, secrets = { "s3cr3t" } }
		log:info("password is %s", "s3cr3t")
		log:debug("not shown without verbose")
		local q = Log.new { stderr = f, quiet = true }
		q:info("held back")
		f:seek("set")
		local text = f:read("a")
		assert.truthy(text:match("^%d%d%d%d%-%d%d%-%d%d %d%d:%d%d:%d%d modemftp%[%d+%] info: password is \\%*\n$"))
		q:flush()
		f:seek("set")
		text = f:read("a")
		assert.truthy(text:match("info: held back\n$"))
		f:close()
		os.remove(path)
	end)
end)
