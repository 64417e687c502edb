-- `modemftp run` against ec20sim: passwords never shown, SIGTERM in the
-- middle of an upload, and the example jobs of scripts/jobs.
local sim = require "support.sim"
local cli = require "support.cli"

describe("modemftp run with ec20sim", function()
	local h, conf, env

	local function run(argv, o)
		local a = { "run", "--lock-dir", h.dir, "-c", conf }
		for _, x in ipairs(argv) do a[#a + 1] = x end
		return cli.run(a, { env = env, timeout = (o and o.timeout) or 60 })
	end

	setup(function()
		h = sim.start { guard_ms = 100 }
		conf = h.dir .. "/modemftp.conf"
		sim.write(conf, cli.sim_conf(h))
		env = { HOME = h.dir, XDG_CONFIG_HOME = h.dir }
	end)
	teardown(function() sim.stop(h) end)

	it("never shows the password, in --verbose traffic, logs, --record or --json", function()
		local job = h.dir .. "/pw.lua"
		sim.write(job, [[
			local m, args, job = ...
			local s = assert(job:ftp())
			job.log:info("configured password: %s", job.conf.password)
			assert(s:write("pw.txt", "x"))
			return nil, "failing on purpose with " .. job.conf.password
		]])
		local r = run({ "-v", "--json", "--record", h.dir .. "/pw.tx", job })
		assert.equal(1, r.code)
		assert.truthy(r.stderr:find('AT+QFTPCFG="account","mftp"', 1, true))
		local all = r.stdout .. r.stderr .. (sim.read(h.dir .. "/pw.tx") or "")
		assert.is_nil(all:find(h.password, 1, true))
		assert.truthy(r.stderr:find("configured password: \\*", 1, true)) -- the core's mask, one rule
	end)

	it("SIGTERM mid-upload: exit 143, session closed, final name absent, temp removed", function()
		sim.make_file(h.dir .. "/big.bin", 300000, 9)
		local job = h.dir .. "/up.lua"
		-- the job signals itself from outside (kill) once 64 KiB are out
		sim.write(job, [[
			local m, args, job = ...
			local core = require "modemftp.core"
			local sent
			local f = job:flow()
			local n, err = f:publish(args[1], "big.bin", { progress_interval = 0, progress = function(b)
				if b >= 65536 and not sent then
					sent = true
					os.execute("kill -TERM " .. core.getpid())
				end
			end })
			if not n then return nil, err end
			return true
		]])
		local r = run({ "--json", job, h.dir .. "/big.bin" })
		assert.equal(143, r.code)
		assert.truthy(r.stdout:find('"result":"interrupted"', 1, true))
		assert.truthy(r.stderr:match("interrupted"))
		assert.is_nil(sim.read(h.root .. "/big.bin"))
		assert.is_nil(sim.read(h.root .. "/.big.bin.part"))
		-- the modem and the server are fine for the next run
		sim.write(h.dir .. "/after.lua", "local m, a, job = ... ; return job:flow():run(function(s) return s:write('ok.txt', 'ok') end)")
		assert.equal(0, run({ h.dir .. "/after.lua" }).code)
		assert.equal("ok", sim.read(h.root .. "/ok.txt"))
	end)

	it("SIGTERM from outside during a stalled upload never leaves a truncated final file", function()
		sim.make_file(h.dir .. "/s.bin", 200000, 10)
		sim.write(h.dir .. "/stalled.lua", [[
			local m, args, job = ...
			local n, err = job:flow():publish(args[1], "s.bin")
			if not n then return nil, err end
			return true
		]])
		sim.control(h, "after 30000 stall 2")
		local p = cli.spawn({ "run", "--lock-dir", h.dir, "-c", conf, h.dir .. "/stalled.lua", h.dir .. "/s.bin" }, { env = env })
		require("modemftp.core").sleep_ms(1500)
		cli.kill(p, "TERM")
		local r = cli.wait(p, 40)
		assert.is_not_nil(r)
		-- the upload either finished before the signal took (whole file) or did not (absent)
		assert.truthy(r.code == 143 or r.code == 0, "exit " .. tostring(r.code))
		local got = sim.read(h.root .. "/s.bin")
		assert.truthy(got == nil or got == sim.read(h.dir .. "/s.bin"))
		sim.control(h, "clear")
		os.execute("rm -f " .. sim.q(h.root .. "/.s.bin.part"))
	end)

	it("a local file problem is permanent: exit 66 for a missing source, 74 for an unwritable target", function()
		sim.write(h.root .. "/cfg.txt", "x")
		local job = h.dir .. "/local.lua"
		sim.write(job, [[
			local m, args, job = ...
			local f = job:flow { base = 0.05, jitter = 0 }
			local n, err
			if args[1] == "publish" then n, err = f:publish(args[2], "never.bin")
			else n, err = f:fetch("cfg.txt", args[2]) end
			if not n then return nil, err end
			return true
		]])
		local r = run({ "--json", job, "publish", h.dir .. "/no-such-file" })
		assert.equal(66, r.code, r.stderr)
		assert.truthy(r.stdout:find('"error_name":"local_missing"', 1, true), r.stdout)
		assert.truthy(r.stdout:find('"retries":0', 1, true), r.stdout)
		r = run({ "--json", job, "fetch", h.dir .. "/no/such/folder/cfg.txt" })
		assert.equal(74, r.code, r.stderr)
		assert.truthy(r.stdout:find('"result":"ioerr"', 1, true), r.stdout)
		assert.truthy(r.stdout:find('"retries":0', 1, true), r.stdout)
		assert.is_nil(sim.read(h.root .. "/never.bin"))
	end)

	it("runs the example jobs: upload-logs, fetch-config, mirror", function()
		local d = h.dir .. "/ex"
		os.execute("mkdir -p " .. sim.q(d .. "/logs") .. " " .. sim.q(h.root .. "/etc/sub"))
		sim.make_file(d .. "/logs/app.log.1", 5000, 1)
		sim.make_file(d .. "/logs/app.log.2.gz", 7000, 2)
		sim.write(d .. "/logs/app.log", "live, not rotated")
		local jobs = cli.top .. "/scripts/jobs/"
		local r = run({ "--json", jobs .. "upload-logs.lua", d .. "/logs", "incoming" })
		assert.equal(0, r.code, r.stderr)
		assert.truthy(r.stdout:find('"files":2', 1, true))
		assert.truthy(r.stdout:find('"bytes":12000', 1, true), r.stdout) -- counted by the run's observer
		-- uploaded under its modification time, not logrotate's shifting number
		local mtime = require("modemftp.core").stat(d .. "/logs/app.log.1").mtime
		assert.equal(sim.sha256(d .. "/logs/app.log.1"),
			sim.sha256(h.root .. "/incoming/app.log." .. os.date("!%Y%m%dT%H%M%SZ", mtime)))
		assert.is_nil(sim.read(h.root .. "/incoming/app.log"))
		r = run({ "--json", jobs .. "upload-logs.lua", d .. "/logs", "incoming" })
		assert.truthy(r.stdout:find('"files":0', 1, true)) -- nothing new

		sim.write(h.root .. "/etc/app.conf", "a = 1\n")
		r = run({ jobs .. "fetch-config.lua", "--then", "touch " .. d .. "/reloaded", "etc/app.conf", d .. "/app.conf" })
		assert.equal(0, r.code, r.stderr)
		assert.equal("a = 1\n", sim.read(d .. "/app.conf"))
		assert.truthy(sim.read(d .. "/reloaded"))
		os.remove(d .. "/reloaded")
		r = run({ jobs .. "fetch-config.lua", "--then", "touch " .. d .. "/reloaded", "etc/app.conf", d .. "/app.conf" })
		assert.equal(0, r.code)
		assert.truthy(r.stderr:match("unchanged"))
		assert.is_nil(sim.read(d .. "/reloaded"))

		sim.write(h.root .. "/etc/sub/x.bin", "xyz")
		r = run({ jobs .. "mirror.lua", "/etc", d .. "/mirror" })
		assert.equal(0, r.code, r.stderr)
		assert.equal("xyz", sim.read(d .. "/mirror/sub/x.bin"))
		assert.equal("a = 1\n", sim.read(d .. "/mirror/app.conf"))
		os.remove(h.root .. "/etc/sub/x.bin")
		r = run({ jobs .. "mirror.lua", "--delete", "/etc", d .. "/mirror" })
		assert.equal(0, r.code, r.stderr)
		assert.is_nil(sim.read(d .. "/mirror/sub/x.bin"))
	end)
end)
