-- The module's FTP service state (modemftp.ftpstate, mirroring AT+QFTPSTAT)
-- and what the runtime does with it, against ec20sim's states of real
-- modules (spec/ec20sim/README.md): a session left open by an earlier
-- process (603 to QFTPOPEN), an asynchronous close (capture 07: OK at once,
-- 603 until +QFTPCLOSE: 0,0), 615 then 603 (capture 09), "+++" that aborts a
-- download and ATO NO CARRIER (capture 08). Each prints "# recovery STATE N ms".
local modemftp = require "modemftp"
local core = require "modemftp.core"
local flow = require "modemftp.flow"
local sim = require "support.sim"
local replay = require "support.replay"

local GUARD_MS = 100
local OPEN = { guard = GUARD_MS / 1000 * 1.5, boot_wait = 15 }
local RSPTIMEOUT = 20

local with_sim = sim.with

local function recovery(state, ms)
	print(string.format("# recovery %s %d ms", state, ms))
end

local function login_opts(h)
	return { host = "127.0.0.1", port = h.ftp_port, user = h.user, password = h.password, timeout = RSPTIMEOUT }
end

local function modem(h)
	local m = assert(modemftp.open(h.port, OPEN))
	assert(m:pdp { context = 1, apn = "internet" })
	return m
end

-- A session left open by a host that died: the simulator logs in for it.
local function dead_host_session(h)
	sim.control(h, string.format("session-open 127.0.0.1 %d %s %s", h.ftp_port, h.user, h.password))
end

local wait_for = sim.wait_for

describe("FTP state (ec20sim)", function()
	it("m:ftp on a session an earlier process left open: closed, then logged in", function()
		with_sim({ guard_ms = GUARD_MS }, function(h)
			local m = modem(h)
			dead_host_session(h)
			wait_for("the dead host's login", 10, function()
				local _, name = assert(m:ftp_stat())
				return name == "idle"
			end)
			local t0 = core.monotonic_ms()
			local s, err = m:ftp(login_opts(h))
			assert(s, tostring(err))
			recovery("session_open", core.monotonic_ms() - t0)
			assert.equal("idle", s.recovered.from)
			assert.equal(11, assert(s:write("after.txt", "hello again")))
			assert.equal("hello again", sim.read(h.root .. "/after.txt"))
			assert(s:close())
			assert.equal("closed", m.ftpstate)
			m:close()
		end)
	end)

	it("an earlier process's session whose close is asynchronous (capture 07): waited for", function()
		with_sim({ guard_ms = GUARD_MS, args = "--close-async 1500" }, function(h)
			local m = modem(h)
			dead_host_session(h)
			wait_for("the dead host's login", 10, function()
				return select(2, assert(m:ftp_stat())) == "idle"
			end)
			local t0 = core.monotonic_ms()
			local s = assert(m:ftp(login_opts(h)))
			local ms = core.monotonic_ms() - t0
			recovery("session_open_close_async", ms)
			assert.is_true(ms >= 1400, "the close was waited for")
			assert.is_true(ms < RSPTIMEOUT * 1000)
			assert.equal(3, assert(s:write("a.txt", "abc")))
			assert(s:close())
			m:close()
		end)
	end)

	it("s:close returns once the module has really closed: a login right after works", function()
		with_sim({ guard_ms = GUARD_MS, args = "--close-async 1200" }, function(h)
			local m = modem(h)
			local s = assert(m:ftp(login_opts(h)))
			local t0 = core.monotonic_ms()
			assert(s:close())
			local ms = core.monotonic_ms() - t0
			assert.is_true(ms >= 1100, "close waited for +QFTPCLOSE")
			assert.equal(4, (assert(m:ftp_stat())))
			local s2, err = m:ftp(login_opts(h))
			assert(s2, tostring(err))
			assert.is_nil(s2.recovered)
			assert(s2:close())
			m:close()
		end)
	end)

	it("a close already in progress (603 to AT+QFTPCLOSE): its URC is awaited", function()
		with_sim({ guard_ms = GUARD_MS, args = "--close-async 1200" }, function(h)
			local m = modem(h)
			local s = assert(m:ftp(login_opts(h)))
			-- a close that someone else started (or ours, whose wait was cut)
			assert(m:at("AT+QFTPCLOSE"))
			local t0 = core.monotonic_ms()
			assert(s:close())
			assert.is_true(core.monotonic_ms() - t0 >= 900)
			assert.equal("closed", m.ftpstate)
			assert(m:ftp(login_opts(h))):close()
			m:close()
		end)
	end)

	it("615 then 603 (capture 09): the session is unusable, a flow logs in again", function()
		with_sim({ guard_ms = GUARD_MS }, function(h)
			local m = modem(h)
			local s = assert(m:ftp(login_opts(h)))
			sim.control(h, "fail-data-615")
			local n, err = s:write("x.txt", "data")
			assert.is_nil(n)
			assert.equal(615, err.code)
			assert.truthy(s.unusable)
			-- no command is tried on it: the module would answer 603
			local v, e2 = s:size("x.txt")
			assert.is_nil(v)
			assert.equal("closed", e2.name)
			assert.matches("615", e2.message)
			assert.is_true(e2.retryable)
			assert(s:close())
			-- a flow that meets 615 reconnects instead of retrying on the session
			sim.control(h, "fail-data-615")
			local logins = 0
			local f = flow.new { connect = function()
				logins = logins + 1
				return m:ftp(login_opts(h))
			end, base = 0.05, jitter = 0 }
			local path = os.tmpname()
			sim.write(path, "flow data")
			local t0 = core.monotonic_ms()
			assert.equal(9, assert(f:upload(path, "flow.txt")))
			recovery("615", core.monotonic_ms() - t0)
			assert.equal(2, logins)
			assert.equal("flow data", sim.read(h.root .. "/flow.txt"))
			f:close()
			os.remove(path)
			m:close()
		end)
	end)

	it("+++ aborts a download and ATO says NO CARRIER (capture 08): ato fails at once, get resumes from the offset", function()
		with_sim({ guard_ms = GUARD_MS, args = "--escape-aborts 1 --baud 460800" }, function(h)
			sim.make_file(h.root .. "/big.bin", 300000, 7)
			local m = modem(h)
			local s = assert(m:ftp(login_opts(h)))
			local path = os.tmpname()
			local n, err = s:get("big.bin", path, { progress = function(bytes)
				if bytes > 20000 then return false end
			end, progress_interval = 0.01 })
			assert.is_nil(n)
			assert.equal("paused", err.name)
			local offset = err.bytes
			assert.is_true(offset > 0)
			local t0 = core.monotonic_ms()
			local b, aerr = s:ato(path, { offset = offset })
			assert.is_nil(b)
			assert.equal("no_carrier", aerr.name)
			assert.matches("aborted", aerr.message)
			assert.matches("startpos", aerr.message)
			local ms = core.monotonic_ms() - t0
			assert.is_true(ms < 2000)
			recovery("escape_aborts_ato", ms)
			assert.equal("idle", m.ftpstate)
			-- the session still works: the rest from the offset
			local rest = assert(s:get("big.bin", path, { startpos = offset }))
			assert.equal(300000 - offset, rest)
			assert.equal(sim.sha256(h.root .. "/big.bin"), sim.sha256(path))
			os.remove(path)
			assert(s:close())
			m:close()
		end)
	end)
end)

-- The line forms of the real captures, replayed through the real transport.
describe("FTP state (replayed line forms of captures 07 and 09)", function()
	it("+CME ERROR: 603 to QFTPOPEN: STAT, QFTPCLOSE (OK now, +QFTPCLOSE later), login again", function()
		local T = replay.script()
		replay.login(T)
		-- QFTPOPEN answered 603 instead: drop its OK, pause and result
		for _ = 1, 3 do table.remove(T.lines) end
		T:cme(603)
		T:cmd("AT+QFTPSTAT"):ok():urc("+QFTPSTAT: 0,1")
		T:cmd("AT+QFTPCLOSE"):ok():pause(50):urc("+QFTPCLOSE: 0,0")
		replay.login(T)
		T:cmd("AT+QFTPCLOSE"):ok():urc("+QFTPCLOSE: 0,0")
		local m, s = replay.session(T)
		assert.equal("idle", s.recovered.from)
		assert.equal("idle", m.ftpstate)
		assert(s:close())
		T:finish(m)
	end)

	it("+QFTPOPEN: 603,0 (the result form): the same", function()
		local T = replay.script()
		replay.login(T)
		table.remove(T.lines) -- the +QFTPOPEN: 0,0 result
		T:urc("+QFTPOPEN: 603,0")
		T:cmd("AT+QFTPSTAT"):ok():urc("+QFTPSTAT: 0,2")
		T:cmd("AT+QFTPCLOSE"):ok():urc("+QFTPCLOSE: 0,0")
		replay.login(T)
		local m, s = replay.session(T)
		assert.equal("transferring", s.recovered.from)
		T:finish(m)
	end)

	it("603 to AT+QFTPCLOSE (a close in progress): its +QFTPCLOSE is awaited", function()
		local T = replay.login(replay.script())
		T:cmd("AT+QFTPCLOSE"):cme(603):pause(100):urc("+QFTPCLOSE: 0,0")
		local m, s = replay.session(T)
		assert(s:close())
		assert.equal("closed", m.ftpstate)
		T:finish(m)
	end)

	it("+CME ERROR: 615 to QFTPPUT: the session is unusable, nothing more is sent on it", function()
		local T = replay.login(replay.script())
		T:cmd('AT+QFTPPUT="x.txt","COM:",0,4,1'):cme(615)
		T:cmd("AT+QFTPCLOSE"):ok():urc("+QFTPCLOSE: 0,0")
		local m, s = replay.session(T)
		local n, err = s:write("x.txt", "data")
		assert.is_nil(n)
		assert.equal(615, err.code)
		local v, e2 = s:pwd()
		assert.is_nil(v)
		assert.matches("unusable", e2.message)
		assert(s:close())
		T:finish(m)
	end)
end)

-- The issue's field case: a run killed while logged in (or in the middle
-- of an upload) leaves the module's session open; the next run, untouched,
-- succeeds.
describe("modemftp run after a run that died logged in (ec20sim)", function()
	local cli = require "support.cli"

	local function run_job(h, body)
		local conf, job = h.dir .. "/modemftp.conf", h.dir .. "/job.lua"
		sim.write(conf, cli.sim_conf(h, "rsptimeout = 20\n"))
		sim.write(job, body)
		return cli.run({ "run", "--json", "--metrics", h.dir .. "/job.prom", "--lock-dir", h.dir, "-c", conf, job },
			{ env = { HOME = h.dir, XDG_CONFIG_HOME = h.dir }, timeout = 60 })
	end

	local JOB = [[
		local m, args, job = ...
		local f = job:flow()
		local path = os.tmpname()
		local fh = assert(io.open(path, "wb")); fh:write("published after a dead run"); fh:close()
		local ok, err = f:publish(path, "pub.txt")
		os.remove(path)
		f:close()
		if not ok then return nil, err end
	]]

	it("a session left open and an asynchronous close: exit 0", function()
		with_sim({ guard_ms = GUARD_MS, args = "--close-async 800" }, function(h)
			dead_host_session(h)
			sim.control(h, "stale-upload dead.bin")
			wait_for("the dead host's login", 10, function() return sim.read(h.root .. "/dead.bin") ~= nil end)
			local r = run_job(h, JOB)
			assert.equal(0, r.code, r.stderr)
			recovery("run_after_dead_run", math.floor(r.seconds * 1000))
			assert.equal("published after a dead run", sim.read(h.root .. "/pub.txt"))
			-- the stale upload (sync) and the session left open (login): two recoveries counted
			local prom = assert(sim.read(h.dir .. "/job.prom"))
			local n = tonumber(prom:match('\nmodemftp_recoveries_total{[^}]*} (%d+)'))
			assert.equal(2, n, prom)
		end)
	end)
end)
