-- modemftp.cli in-process: options, configuration order, help, lock names,
-- JSON, the logger, exit statuses.
local cli = require "modemftp.cli"
local errors = require "modemftp.errors"
local sim = require "support.sim"

describe("cli options", function()
	it("parses long, short, = and bundled options and stops at the job", function()
		local o, rest = cli.parse_options("run", { "-qv", "--port=tty:/dev/pts/9", "-t", "30", "--json",
			"-o", "host=ftp.example.com", "job.lua", "--port", "x", "arg2" }, true)
		assert.is_true(o.quiet)
		assert.is_true(o.verbose)
		assert.equal("tty:/dev/pts/9", o.port)
		assert.equal("30", o.timeout)
		assert.is_true(o.json)
		assert.equal("ftp.example.com", o.set.host)
		assert.same({ "job.lua", "--port", "x", "arg2" }, rest)
	end)

	it("types --set values and rejects bad ones", function()
		local o = cli.parse_options("run", { "-o", "baud=9600", "--set", "passive=no", "-o", "ftp-port=2121", "j" }, true)
		assert.equal(9600, o.set.baud)
		assert.is_false(o.set.passive)
		assert.equal(2121, o.set.ftp_port)
		local bad, err = cli.parse_options("run", { "-o", "baud=fast", "j" }, true)
		assert.is_nil(bad)
		assert.truthy(err.message:match("baud"))
	end)

	it("reports unknown options, missing values and values on flags", function()
		local cases = { { "--nope" }, { "-Z" }, { "--port" }, { "--json=1" } }
		for _, argv in ipairs(cases) do
			local o, err = cli.parse_options("run", argv, true)
			assert.is_nil(o)
			assert.is_true(err.usage)
		end
	end)

	it("has help for the command and every verb, listing the options", function()
		assert.truthy(cli.help():match("usage: modemftp VERB"))
		for _, verb in ipairs { "run", "console", "ports" } do
			local h = cli.help(verb)
			assert.truthy(h:match("usage: modemftp " .. verb))
			for _, o in ipairs(cli.OPTIONS[verb]) do
				assert.truthy(h:find("--" .. o[1], 1, true), verb .. " help lacks --" .. o[1])
			end
		end
		assert.truthy(cli.help("run"):match("73  the port is locked"))
		assert.is_nil(cli.help("nope"))
	end)
end)

describe("cli configuration", function()
	local dir
	before_each(function() dir = sim.tmpdir() end)
	after_each(function() os.execute("rm -rf " .. sim.q(dir)) end)

	it("parses key = value, comments, quotes and types", function()
		local c = assert(cli.parse_config(table.concat({
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
		local c, err = cli.parse_config("port = a\nthis is not\n", "f.conf")
		assert.is_nil(c)
		assert.equal("f.conf:2: expected 'key = value'", err)
		c, err = cli.parse_config("baud = x\n", "f.conf")
		assert.is_nil(c)
		assert.truthy(err:match("^f.conf:1: baud"))
	end)

	it("merges files in order, later wins, then command-line settings", function()
		sim.write(dir .. "/a.conf", "port = /dev/a\nhost = h1\nuser = u1\n")
		sim.write(dir .. "/b.conf", "host = h2\n")
		local c, sources = cli.load_config { config = { dir .. "/a.conf", dir .. "/b.conf" }, set = { user = "u3" } }
		if os.getenv("MODEMFTP_PORT") == nil then assert.equal("/dev/a", c.port) end
		assert.equal("h2", c.host)
		assert.equal("u3", c.user)
		assert.same({ dir .. "/a.conf", dir .. "/b.conf" }, sources)
	end)

	it("fails on a missing explicit file but not on a missing default one", function()
		local c, err = cli.load_config { config = { dir .. "/none.conf" } }
		assert.is_nil(c)
		assert.truthy(err:match("none.conf"))
		assert.same({}, cli.read_config(dir .. "/none.conf", false))
	end)

	it("lists /etc first, then the user's file", function()
		local files = cli.config_files()
		assert.equal("/etc/modemftp.conf", files[1])
		assert.truthy(files[2]:match("modemftp.conf$"))
	end)
end)

describe("cli pieces", function()
	it("names one lock per device whatever the spelling", function()
		local a = cli.lock_path("/dev/null", "/run/lock")
		assert.equal(a, cli.lock_path("tty:/dev/null", "/run/lock"))
		assert.equal(a, cli.lock_path("serial:/dev/null", "/run/lock"))
		assert.equal("/run/lock/modemftp.null.lock", a)
		assert.equal("/x/modemftp.tcp_host_2000.lock", cli.lock_path("tcp:host:2000", "/x"))
	end)

	it("encodes JSON", function()
		assert.equal('{"a":[1,2],"b":"x\\"\\n","c":true,"d":1.5}', cli.json { a = { 1, 2 }, b = 'x"\n', c = true, d = 1.5 })
		assert.equal("null", cli.json(nil))
		assert.equal('"put a: timeout"', cli.json(errors.new { op = "put", target = "a", name = "timeout" }))
	end)

	it("maps errors to exit statuses", function()
		assert.equal(75, cli.status_of(errors.new { name = "timeout" }))
		assert.equal(75, cli.status_of(errors.new { code = 605 }))
		assert.equal(1, cli.status_of(errors.new { code = 625, protocol_error = 530 }))
		assert.equal(1, cli.status_of(errors.new { code = 627, protocol_error = 550 }))
		assert.equal(1, cli.status_of("plain string"))
		assert.equal(143, cli.status_of(errors.new { name = "interrupted" }))
		assert.equal("tempfail", cli.RESULT[75])
	end)

	it("logs timestamped lines, redacts secrets, holds them back when quiet", function()
		local path = os.tmpname()
		local f = assert(io.open(path, "w+"))
		local log = cli.Log.new { stderr = f, secrets = { "s3cr3t" } }
		log:info("password is %s", "s3cr3t")
		log:debug("not shown without verbose")
		local q = cli.Log.new { stderr = f, quiet = true }
		q:info("held back")
		f:seek("set")
		local text = f:read("a")
		assert.truthy(text:match("^%d%d%d%d%-%d%d%-%d%d %d%d:%d%d:%d%d modemftp%[%d+%] info: password is %*%*%*\n$"))
		q:flush()
		f:seek("set")
		text = f:read("a")
		assert.truthy(text:match("info: held back\n$"))
		f:close()
		os.remove(path)
	end)
end)
