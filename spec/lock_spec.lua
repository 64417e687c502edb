-- The port's lock shared by root and a service account: a lock file root
-- created (whatever its umask) never locks an unprivileged user out, and a
-- busy lock names its holder, also to a user who cannot see root's files
-- in /proc.
local sim = require "support.sim"
local cli = require "support.cli"
local users = require "support.users"
local core = require "modemftp.core"
local lock = require "modemftp.lock"

describe("the port's lock", function()
	local dir, port, job

	before_each(function()
		dir = sim.tmpdir()
		os.execute("chmod 1777 " .. sim.q(dir)) -- as /run/lock
		cli.transcript(dir .. "/hello.tx")
		port = "replay:" .. dir .. "/hello.tx"
		job = dir .. "/ok.lua"
		sim.write(job, "return true")
	end)
	after_each(function() os.execute("rm -rf " .. sim.q(dir)) end)

	local function run_as_user(extra)
		local argv = { "run", "--json", "--lock-dir", dir, "-p", port }
		for _, a in ipairs(extra or {}) do argv[#argv + 1] = a end
		argv[#argv + 1] = job
		return users.run(argv, { env = { HOME = dir, XDG_CONFIG_HOME = dir } })
	end

	it("is created 0644 whatever the umask, with the holder's pid in it", function()
		local path = lock.path(port, dir)
		local old = core.umask(63) -- 077: root's lock file would be 0600
		local l = assert(lock.acquire(path, 0))
		core.umask(old)
		assert.equal(420, core.stat(path).mode) -- 0644
		assert.equal(string.format("%10d\n", core.getpid()), sim.read(path))
		l:unlock()
	end)

	it("root's lock file (created under umask 077) can be taken by a service user afterwards", function()
		local why = users.unavailable()
		if why then pending(why) return end
		local old = core.umask(63)
		local r = cli.run({ "run", "--lock-dir", dir, "-p", port, job }, { env = { HOME = dir, XDG_CONFIG_HOME = dir } })
		core.umask(old)
		assert.equal(0, r.code, r.stderr)
		assert.equal(420, core.stat(lock.path(port, dir)).mode) -- root's, 0644 despite the umask
		r = run_as_user()
		assert.equal(0, r.code, r.stderr)
		assert.truthy(r.stdout:find('"exit":0', 1, true), r.stdout)
	end)

	it("an older root-owned 0644 lock file is locked read-only by the user", function()
		local why = users.unavailable()
		if why then pending(why) return end
		local path = lock.path(port, dir)
		sim.write(path, "")
		os.execute("chmod 644 " .. sim.q(path))
		local r = run_as_user()
		assert.equal(0, r.code, r.stderr)
	end)

	it("held by root, is named to a user who cannot see root's descriptors (the pid in the file)", function()
		local why = users.unavailable()
		if why then pending(why) return end
		local path = lock.path(port, dir)
		local l = assert(lock.acquire(path, 0))
		local r = run_as_user { "--lock-timeout", "0.2" }
		l:unlock()
		assert.equal(73, r.code, r.stderr)
		assert.truthy(r.stderr:find("held by pid " .. core.getpid() .. " (", 1, true), r.stderr)
		assert.truthy(r.stdout:find('"error_name":"busy"', 1, true), r.stdout)
	end)

	it("held by a user, is waited for by root and then taken", function()
		local why = users.unavailable()
		if why then pending(why) return end
		local hold = dir .. "/hold.lua"
		sim.write(hold, string.format([[
			local f = io.open(%q, "w") f:write("x") f:close()
			local core = require "modemftp.core"
			local deadline = core.monotonic_ms() + 10000
			while not io.open(%q) and core.monotonic_ms() < deadline do core.sleep_ms(20) end
			return true]], dir .. "/ready", dir .. "/go"))
		local out = os.tmpname()
		local pid = sim.sh(string.format("%senv HOME=%s XDG_CONFIG_HOME=%s %s run --lock-dir %s -p %s %s >%s 2>&1 & echo $!",
			users.prefix(), sim.q(dir), sim.q(dir), sim.q(cli.bin), sim.q(dir), sim.q(port), sim.q(hold), out)):match("%d+")
		assert.is_true(cli.wait_file(dir .. "/ready", 10), sim.read(out))
		local r = cli.run({ "run", "--lock-dir", dir, "--lock-timeout", "0.2", "-p", port, job },
			{ env = { HOME = dir, XDG_CONFIG_HOME = dir } })
		assert.equal(73, r.code)
		assert.truthy(r.stderr:find("held by pid %d+ %(lua5%.4%)"), r.stderr)
		sim.write(dir .. "/go", "")
		r = cli.run({ "run", "--lock-dir", dir, "--lock-timeout", "10", "-p", port, job },
			{ env = { HOME = dir, XDG_CONFIG_HOME = dir } })
		assert.equal(0, r.code, r.stderr)
		os.execute("wait " .. pid .. " 2>/dev/null")
		os.remove(out)
	end)
end)
