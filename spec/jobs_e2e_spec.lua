-- The example jobs on a gateway, through `modemftp run` against ec20sim:
-- a logrotate shift sends nothing again and overwrites nothing, a missing
-- folder is an error, a failed download resumes on the next run; and what
-- every job gets from the runner: --json alone on stdout with error_name on
-- every failure, job.stats counting every transfer.
local sim = require "support.sim"
local cli = require "support.cli"
local core = require "modemftp.core"

local decode = cli.json_line

describe("example jobs and the run's reporting (ec20sim)", function()
	local h
	local jobs = cli.top .. "/scripts/jobs/"

	local run, job
	setup(function()
		h = sim.start { guard_ms = 100 }
		local bench = cli.run_bench(h, "attempts = 1\n")
		run, job = bench.run, bench.job
	end)
	teardown(function() sim.stop(h) end)

	it("upload-logs: a logrotate shift sends nothing again and overwrites nothing", function()
		local logs = h.dir .. "/rot"
		os.execute("mkdir -p " .. sim.q(logs))
		sim.make_file(logs .. "/app.log.1", 3000, 1)
		os.execute("touch -d '2026-01-01 10:00:00 UTC' " .. sim.q(logs .. "/app.log.1"))
		sim.write(logs .. "/app.log", "being written")
		local r = run({ "--json", jobs .. "upload-logs.lua", logs, "in" })
		assert.equal(0, r.code, r.stderr)
		assert.equal(1, decode(r.stdout).files)
		local first = h.root .. "/in/app.log.20260101T100000Z"
		assert.equal(sim.sha256(logs .. "/app.log.1"), sim.sha256(first))
		-- logrotate: app.log.1 -> app.log.2, a new app.log.1
		local old = sim.sha256(logs .. "/app.log.1")
		assert(os.rename(logs .. "/app.log.1", logs .. "/app.log.2"))
		sim.make_file(logs .. "/app.log.1", 4000, 2)
		os.execute("touch -d '2026-01-02 10:00:00 UTC' " .. sim.q(logs .. "/app.log.1"))
		r = run({ "--json", jobs .. "upload-logs.lua", logs, "in" })
		assert.equal(0, r.code, r.stderr)
		local line = decode(r.stdout)
		assert.same({ 1, 4000 }, { line.files, line.bytes }) -- app.log.2 is the file sent before
		assert.equal(old, sim.sha256(first)) -- still the first file's bytes
		assert.equal(sim.sha256(logs .. "/app.log.1"), sim.sha256(h.root .. "/in/app.log.20260102T100000Z"))
		assert.is_nil(sim.read(h.root .. "/in/app.log.2"))
		-- nothing new: nothing sent; a file logrotate removed is forgotten
		os.remove(logs .. "/app.log.2")
		r = run({ "--json", jobs .. "upload-logs.lua", logs, "in" })
		assert.equal(0, decode(r.stdout).files)
		local lines = 0
		for _ in (sim.read(logs .. "/.modemftp-uploaded") or ""):gmatch("[^\n]+") do lines = lines + 1 end
		assert.equal(1, lines)
		-- --same-names keeps the local name
		sim.make_file(logs .. "/web.log-20260103", 100, 3)
		r = run({ jobs .. "upload-logs.lua", "--same-names", "--pattern", "web.log-*", logs, "in" })
		assert.equal(0, r.code, r.stderr)
		assert.equal(sim.sha256(logs .. "/web.log-20260103"), sim.sha256(h.root .. "/in/web.log-20260103"))
	end)

	it("upload-logs: a missing folder is an error that names it, not an empty run", function()
		local r = run({ "--json", jobs .. "upload-logs.lua", h.dir .. "/no-such-logs", "in" })
		assert.equal(74, r.code, r.stderr)
		local line = decode(r.stdout)
		assert.equal("local_io", line.error_name)
		assert.equal("list " .. h.dir .. "/no-such-logs: No such file or directory", line.error)
	end)

	it("fetch-config: a failed download keeps its .part and the next run resumes it", function()
		sim.make_file(h.root .. "/big.conf", 200000, 5)
		local dest = h.dir .. "/app/big.conf"
		os.execute("mkdir -p " .. sim.q(h.dir .. "/app"))
		-- fetch-config.lua run by a job whose session's get breaks 50000 bytes
		-- in, as a dropped link would: the flow sees `nil, err` (attempts = 1)
		local cut = job("cut.lua", [[
			local m, args, job = ...
			local errors = require "modemftp.errors"
			local flow_of = job.flow
			function job.flow(self, o)
				local f = flow_of(self, o)
				local session_of = f.session
				function f.session(ff)
					local s, err = session_of(ff)
					if s and not s.get_of then
						s.get_of = s.get
						function s.get(ss, remote, dest, opts)
							opts = opts or {}
							opts.progress_interval = 0
							opts.progress = function(bytes) if bytes >= 50000 then error("cut", 0) end end
							local ok, n, e = pcall(ss.get_of, ss, remote, dest, opts)
							if ok then return n, e end
							return nil, errors.new { op = "get", target = remote, name = "closed", message = "the link dropped" }
						end
					end
					return s, err
				end
				return f
			end
			local target = table.move(args, 1, #args, 0, {})
			_G.arg = target
			return assert(loadfile(target[0]))(m, target, job)
		]])
		local r = run({ "--json", cut, jobs .. "fetch-config.lua", "big.conf", dest })
		assert.equal(75, r.code, r.stderr)
		assert.is_nil(sim.read(dest))
		local part = core.stat(dest .. ".part")
		assert.truthy(part and part.size >= 50000 and part.size < 200000, "the .part is kept: " .. r.stdout)
		assert.truthy(core.stat(dest .. ".part.meta"))
		r = run({ "--json", jobs .. "fetch-config.lua", "big.conf", dest })
		assert.equal(0, r.code, r.stderr)
		assert.equal(200000 - part.size, decode(r.stdout).bytes) -- only the rest came
		assert.equal(sim.sha256(h.root .. "/big.conf"), sim.sha256(dest))
		assert.is_nil(core.stat(dest .. ".part"))
		assert.is_nil(core.stat(dest .. ".part.meta"))
	end)

	it("--json: the line alone on stdout, the job's own output on stderr", function()
		local path = job("chatty.lua", [[
			print("a line the job prints")
			io.write("and writes\n")
			os.execute("echo from a command")
			return true
		]])
		local r = run({ "--json", path })
		assert.equal(0, r.code, r.stderr)
		assert.matches('^{[^\n]*"result":"ok"[^\n]*}\n$', r.stdout)
		for _, text in ipairs { "a line the job prints", "and writes", "from a command" } do
			assert.truthy(r.stderr:find(text, 1, true), text)
		end
		-- without --json, stdout is the job's
		r = run({ path })
		assert.truthy(r.stdout:find("a line the job prints", 1, true))
	end)

	it("--json: error_name on every failure, --timeout and a job's own text included", function()
		local r = run({ "--json", "--timeout", "1", job("spin.lua", "local m = ... while true do m:poll(0.2) end") })
		assert.equal(124, r.code)
		assert.equal("timeout", decode(r.stdout).error_name)
		-- a job stuck where no signal reaches it (a command it waits for) is
		-- ended 15 s after --timeout; its line is said all the same
		r = run({ "--json", "--timeout", "1", job("stuck.lua", "os.execute('sleep 20')\nreturn true") })
		assert.equal(124, r.code)
		local hard = decode(r.stdout)
		assert.same({ "timeout", 124, "timeout" }, { hard.result, hard.exit, hard.error_name })
		assert.matches("did not stop within 15 s more: hard exit", hard.error)
		r = run({ "--json", job("text.lua", "return nil, 'the job says no'") })
		local line = decode(r.stdout)
		assert.same({ 1, "job_failed", "the job says no" }, { line.exit, line.error_name, line.error })
		r = run({ "--json", job("bug.lua", "local t\nreturn t.x") })
		line = decode(r.stdout)
		assert.same({ "lua_error", h.dir .. "/bug.lua:2: attempt to index a nil value (local 't')" },
			{ line.error_name, line.error })
	end)

	it("job.stats counts every transfer: s:put and s:get too, a flow's file once", function()
		sim.make_file(h.dir .. "/up.bin", 1000, 6)
		local r = run({ "--json", job("direct.lua", [[
			local m, args, job = ...
			local s = assert(job:ftp())
			assert(s:put("direct.bin", args[1]))
			assert(s:get("direct.bin", args[1] .. ".back"))
			assert(s:write("note.txt", "hello"))
			assert(s:close())
			local f = job:flow()
			assert(f:publish(args[1], "flowed.bin"))
			assert(f:fetch("flowed.bin", args[1] .. ".again"))
			f:close()
			return true
		]]), h.dir .. "/up.bin" })
		assert.equal(0, r.code, r.stderr)
		local line = decode(r.stdout)
		assert.same({ 5, 1000 + 1000 + 5 + 1000 + 1000 }, { line.files, line.bytes })
	end)
end)
