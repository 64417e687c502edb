--- spec/support/kill.lua: SIGKILL `modemftp run` at random moments of a
-- publish + fetch job (spec/support/kill_job.lua), and check that the next
-- run, untouched, succeeds.
--
-- One ec20sim and one FTP server live through all the runs: the module
-- keeps whatever a killed process left it in (a session, a transfer in
-- data mode, a half line), as a real module keeps it across host processes.
-- Each cycle writes a new source file (so an old copy cannot pass for a new
-- one), starts run A, waits for the phase the seed picked (the job marks
-- its phases in a file), waits a random part of that phase's length, kills
-- A with SIGKILL, then runs B to its end and asserts: exit 0, the file on
-- the server and the local copy byte-identical to the source. B's recovery
-- time is from its start to its first successful FTP command (the login).
--
--     local kill = require "support.kill"
--     local r = kill.run { runs = 10, seed = 42, log = print }
--     -- r.failures (a list of strings), r.recovery_ms, r.landed, kill.summary(r)
--
-- Replay: the same seed gives the same phases, offsets and files (where a
-- kill lands within a few ms still depends on the machine's timing).
local core = require "modemftp.core"
local sim = require "support.sim"
local cli = require "support.cli"

local M = {}

local top = os.getenv("MODEMFTP_TOP") or "."
M.JOB = top .. "/spec/support/kill_job.lua"

-- Where a kill is aimed: from the mark `from` (nil: the spawn of the
-- process) to the mark `to`; their lengths come from a calibration run.
M.PHASES = {
	{ name = "open", to = "job" },                 -- port opened, the module brought to a known state
	{ name = "login", from = "login", to = "ftp_ok" }, -- PDP context, AT+QFTPCFG, AT+QFTPOPEN
	{ name = "upload", from = "upload", to = "upload_end" }, -- AT+QFTPPUT in data mode
	{ name = "between", from = "upload_end", to = "download" }, -- SIZE, RENAME, SIZE, MDTM, GET's start
	{ name = "download", from = "download", to = "download_end" }, -- AT+QFTPGET streaming
	{ name = "close", from = "download_end", to = "done" }, -- the local rename, AT+QFTPCLOSE
}

-- Where a kill landed: the last mark the job wrote before it died.
local LANDED = {
	[""] = "open", job = "login", login = "login", ftp_ok = "between", upload = "upload",
	upload_end = "between", published = "between", download = "download", download_end = "close",
	fetched = "close", close = "close", done = "finished",
}

--- Parse a marks file: {phase = ms, ..., last = phase}.
function M.marks(path)
	local t = { last = "" }
	for phase, ms in (sim.read(path) or ""):gmatch("(%S+) (%d+)\n") do
		t[phase] = tonumber(ms)
		t.last = phase
	end
	return t
end

-- A deterministic generator (xorshift64*), independent of math.random.
local function rng(seed)
	local x = (seed ~ 0x9E3779B97F4A7C15) | 1
	return function(n) -- integer in [0, n)
		x = x ~ (x << 13)
		x = x ~ (x >> 7)
		x = x ~ (x << 17)
		return ((x >> 11) & 0xFFFFFFFFFFFF) % n
	end
end

local function percentile(sorted, p)
	if #sorted == 0 then return nil end
	local i = math.max(1, math.min(#sorted, math.ceil(p / 100 * #sorted)))
	return sorted[i]
end

--- min/median/p95/max of a list of numbers.
function M.distribution(list)
	local s = {}
	for i, v in ipairs(list) do s[i] = v end
	table.sort(s)
	return { n = #s, min = s[1], median = percentile(s, 50), p95 = percentile(s, 95), max = s[#s] }
end

--- One line for a result of `run`.
function M.summary(r)
	local d = M.distribution(r.recovery_ms)
	local landed = {}
	for _, p in ipairs(M.PHASES) do landed[#landed + 1] = p.name .. " " .. (r.landed[p.name] or 0) end
	landed[#landed + 1] = "finished " .. (r.landed.finished or 0)
	local fmt = function(v) return v and string.format("%d", v) or "-" end
	return string.format("seed %d, %d runs, %d failures; recovery to the first FTP command ms: min %s median %s "
		.. "p95 %s max %s; landed: %s", r.seed, r.runs, #r.failures, fmt(d.min), fmt(d.median), fmt(d.p95),
		fmt(d.max), table.concat(landed, ", "))
end

-- Run A: `modemftp run` in the background, its own pid known (so the kill
-- hits it, not a wrapper) and its exit status kept.
local function spawn(argv, dir)
	local words = {}
	for i, a in ipairs(argv) do words[i] = sim.q(a) end
	os.remove(dir .. "/a.pid")
	os.remove(dir .. "/a.rc")
	local inner = string.format("%s %s >/dev/null 2>&1 </dev/null & echo $! >%s; wait $!; echo $? >%s",
		sim.q(cli.bin), table.concat(words, " "), sim.q(dir .. "/a.pid"), sim.q(dir .. "/a.rc"))
	local t0 = core.monotonic_ms()
	os.execute("sh -c " .. sim.q(inner) .. " >/dev/null 2>&1 &")
	local pid
	local deadline = t0 + 10000
	repeat
		pid = tonumber((sim.read(dir .. "/a.pid") or ""):match("^(%d+)\n"))
		if not pid then core.sleep_ms(1) end
	until pid or core.monotonic_ms() > deadline
	return { pid = pid, rc = dir .. "/a.rc", t0 = t0 }
end

-- Wait for a mark while run A runs; nil when it ended first.
local function wait_mark(path, mark, seconds, proc)
	local deadline = core.monotonic_ms() + seconds * 1000
	repeat
		local m = M.marks(path)
		if m[mark] then return m end
		if sim.read(proc.rc) then return nil end
		core.sleep_ms(1)
	until core.monotonic_ms() > deadline
	return nil
end

--- Run the kill cycles.
-- @param o {runs = 10, seed = integer, log = fn(line) (default: nothing),
--   baud = 921600 (the simulated line: transfers long enough to be hit),
--   close_ms = 200 (how long the module takes to close a session),
--   min_size = 16384, max_size = 65536, guard_ms = 100, run_timeout = 90,
--   max_failures = 1 (stop after so many; after a failure the module is
--   rebooted, so that the next cycles test the kills, not that failure),
--   job = the job file, phase = aim every kill at this phase (investigating),
--   slow_ms = 5000 (a recovery slower than this logs the run's log)}
-- @return {seed, runs, failures = {text...}, recovery_ms = {...},
--   total_s = {...}, landed = {phase = count}, cycles = {...}}
function M.run(o)
	o = o or {}
	local runs, seed = o.runs or 10, o.seed or os.time()
	local log = o.log or function() end
	local rand = rng(seed)
	-- a close that takes a network round trip (AT+QFTPCLOSE: OK at once,
	-- +QFTPCLOSE later), as on a real module: long enough to be hit
	local h = sim.start { guard_ms = o.guard_ms or 100,
		args = string.format("--baud %d --close-async %d", o.baud or 921600, o.close_ms or 200) }
	local res = { seed = seed, runs = runs, failures = {}, recovery_ms = {}, total_s = {}, landed = {}, cycles = {} }
	local killer = io.popen("exec sh 2>/dev/null", "w")
	local ok, err = pcall(function()
		local conf = h.dir .. "/kill.conf"
		-- guard 0.15 s: above the simulator's 100 ms
		sim.write(conf, cli.sim_conf(h):gsub("guard = 0.1\n", "guard = 0.15\n"))
		local src, copy, marks = h.dir .. "/source.bin", h.dir .. "/copy.bin", h.dir .. "/marks"
		local remote = "kill.bin"
		local argv = { "run", "--config", conf, "--lock-dir", h.dir, o.job or M.JOB, src, remote, copy, marks }

		-- a run to its end; checks; returns the marks and the result
		local function full_run(label)
			os.remove(marks)
			local t0 = core.monotonic_ms()
			-- the next run logs its AT traffic (-v): what it did to recover
			local r = cli.run({ "run", "-v", table.unpack(argv, 2) }, { timeout = o.run_timeout or 90 })
			local mk = M.marks(marks)
			local want = sim.sha256(src)
			local problems = {}
			if r.code ~= 0 then problems[#problems + 1] = "exit " .. tostring(r.code) end
			if sim.sha256(h.root .. "/" .. remote) ~= want then problems[#problems + 1] = "the server's file differs" end
			if sim.sha256(copy) ~= want then problems[#problems + 1] = "the local copy differs" end
			if #problems > 0 then
				local e = r.stderr -- the run's -v log: its start (the recovery) and its end
				if #e > 7000 then e = e:sub(1, 4000) .. "\n[...]\n" .. e:sub(-3000) end
				res.failures[#res.failures + 1] = string.format("%s: %s\n%s", label, table.concat(problems, ", "), e)
				return nil, mk, nil, t0
			end
			local rec = mk.ftp_ok and (mk.ftp_ok - t0)
			if rec and rec > (o.slow_ms or 5000) then
				-- slower than the issue's target: say why (the run's log)
				log(string.format("%s: slow recovery, %d ms; the run's log:\n%s", label, rec,
					(r.stderr:match("^(.-logged in to[^\n]*)") or r.stderr):sub(-6000)))
			end
			return r, mk, rec, t0
		end

		-- calibration: the length of each phase on this machine, now
		sim.make_file(src, o.max_size or 65536, seed % 100000)
		local r0, m0, _, t00 = full_run("calibration run")
		if not r0 then error("the calibration run failed:\n" .. res.failures[#res.failures]) end
		local length = {}
		for _, p in ipairs(M.PHASES) do
			local from = p.from and m0[p.from] or t00
			length[p.name] = math.max(2, m0[p.to] - from)
		end
		log(string.format("kill: seed %d, %d runs; calibration run %.2f s, phases ms: open %d login %d upload %d "
			.. "between %d download %d close %d", seed, runs, r0.seconds, length.open, length.login, length.upload,
			length.between, length.download, length.close))

		local order = {}
		for i = 1, runs do
			if (i - 1) % #M.PHASES == 0 then -- a new shuffled block: every phase once per block
				local block = {}
				for k = 1, #M.PHASES do block[k] = k end
				for k = #block, 2, -1 do
					local j = 1 + rand(k)
					block[k], block[j] = block[j], block[k]
				end
				for _, k in ipairs(block) do order[#order + 1] = M.PHASES[k] end
			end
		end

		for i = 1, runs do
			local p = order[i]
			for _, q in ipairs(M.PHASES) do if q.name == o.phase then p = q end end
			local size = (o.min_size or 16384) + rand((o.max_size or 65536) - (o.min_size or 16384) + 1)
			local span = length[p.name]
			-- a transfer of a smaller file is shorter (calibrated at max_size)
			if p.name == "upload" or p.name == "download" then span = span * size // (o.max_size or 65536) end
			local offset = rand(math.max(1, span))
			sim.make_file(src, size, (seed + i) % 2147483647)
			os.remove(marks)
			local a = spawn(argv, h.dir)
			local landed
			if not a.pid then error("run A did not start") end
			-- the offset counts from the mark's own time (or the spawn's)
			local mk = p.from and wait_mark(marks, p.from, 60, a)
			if p.from and not mk then
				landed = "never reached " .. p.from
			else
				local at = (mk and mk[p.from] or a.t0) + offset
				local now = core.monotonic_ms()
				if at > now then core.sleep_ms(at - now) end
				-- a shell that is already running: the kill costs no fork
				killer:write("kill -KILL ", a.pid, "\n")
				killer:flush()
			end
			local rc = sim.wait_line(a.rc, 10)
			if not rc then
				res.failures[#res.failures + 1] = string.format("cycle %d: run A did not end after SIGKILL", i)
				break
			elseif tonumber(rc) ~= 137 then
				landed = "finished" -- it ended before the kill (or failed: B's checks tell)
			elseif not landed then
				landed = LANDED[M.marks(marks).last] -- the marks A wrote before it died
			end
			res.landed[landed] = (res.landed[landed] or 0) + 1
			local label = string.format("cycle %d (seed %d): killed in %s (aimed: %s +%d ms), %d bytes", i, seed,
				landed, p.name, offset, size)
			local rb, _, rec = full_run(label)
			local cycle = { i = i, aimed = p.name, offset = offset, landed = landed, size = size, ok = rb ~= nil,
				recovery_ms = rec, seconds = rb and rb.seconds }
			res.cycles[#res.cycles + 1] = cycle
			if rb then
				res.recovery_ms[#res.recovery_ms + 1] = rec
				res.total_s[#res.total_s + 1] = rb.seconds
				log(string.format("kill %d/%d: %s, next run ok in %.2f s, first FTP command after %d ms", i, runs,
					label:match("killed in .*"), rb.seconds, rec or -1))
			else
				log(string.format("kill %d/%d: FAILED %s", i, runs, res.failures[#res.failures]))
				if #res.failures >= (o.max_failures or 1) then break end
				sim.control(h, "reboot")
			end
			if not os.execute("kill -0 " .. h.sim_pid .. " 2>/dev/null") then error("ec20sim died") end
		end
	end)
	killer:close()
	local simlog = sim.stop(h)
	if not ok then
		res.failures[#res.failures + 1] = tostring(err) .. "\n--- ec20sim log ---\n" .. tostring(simlog):sub(-3000)
	end
	return res
end

return M
