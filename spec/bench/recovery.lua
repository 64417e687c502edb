#!/usr/bin/env lua5.4
--- spec/bench/recovery.lua: how long `modemftp run` takes to get back to
-- work from each state a module is found in (the ec20sim module states,
-- spec/ec20sim/README.md), against a clean module.
--
-- For each state: a fresh ec20sim, put in the state (by flags, control
-- commands, or a host that sends a command and goes away, as a dead
-- process would), then `modemftp run` of a job that logs in (the flow's
-- session: PDP context, AT+QFTPOPEN), notes the time, checks the session
-- with AT+QFTPPWD and logs out. One line per state:
--
--   recovery: session-open 0.62 s (median of 3; run 0.70 s) ok
--
-- the seconds from the fork of `modemftp run` to its first successful FTP
-- command (the login), and of the whole run. A run that fails prints
-- "FAILED" and why (the first error line). The `prober` state may be
-- refused by design (another program on the port: a clear error naming
-- ModemManager): its figure is then the time to that error. One pyftpdlib
-- serves every state.
--
--   lua5.4 spec/bench/recovery.lua [ROUNDS]     # ROUNDS runs per state (1); from the tree after `make all`
--
-- EC20SIM names the simulator; BENCH_RECOVERY_TIMEOUT bounds each run
-- (`--timeout`, default 30 s).
local top = (arg[0]:match("^(.*)/spec/bench/recovery%.lua$")) or "."
package.path = top .. "/lua/?.lua;" .. top .. "/lua/?/init.lua;" .. top .. "/spec/?.lua;" .. package.path
package.cpath = (os.getenv("MODEMFTP_BUILD") or (top .. "/build")) .. "/lib/?.so;" .. package.cpath

local modemftp = require "modemftp"
local core = require "modemftp.core"
local sim = require "support.sim"

local ROUNDS = math.tointeger(tonumber(arg[1] or "1")) or 1
local RUN_TIMEOUT = tonumber(os.getenv("BENCH_RECOVERY_TIMEOUT") or "") or 30
local GUARD_MS = 100
local HOST_GUARD = 0.15 -- above the simulator's guard time
local CLI = top .. "/scripts/modemftp"
local q = sim.q

local ftp = sim.start { sim = false }
local dir = ftp.dir

-- the job: log in, note the time, one more FTP command, log out
local JOB = dir .. "/recovery-job.lua"
sim.write(JOB, [[
local m, args, job = ...
local core = require "modemftp.core"
local f = job:flow()
local ok, err = f:run(function() return true end)
if not ok then return nil, err end
local mf = assert(io.open(args[1], "w"))
mf:write(core.monotonic_ms(), "\n")
mf:close()
ok, err = f:run(function(s) return s:pwd() end)
if not ok then return nil, err end
f:close()
return true
]])

local function start_sim(args)
	local h = { dir = dir, root = ftp.root, ftp_port = ftp.ftp_port, user = ftp.user, password = ftp.password }
	local pty_file = dir .. "/pty"
	os.remove(pty_file)
	h.control = dir .. "/control"
	os.remove(h.control)
	h.link = dir .. "/ttyLINK"
	os.remove(h.link)
	local cmd = string.format("env -u LD_PRELOAD %s --pty-file %s --pty-link %s --control %s --guard-ms %d %s",
		q(sim.sim_bin()), q(pty_file), q(h.link), q(h.control), GUARD_MS, args or "")
	h.sim_pid = tonumber((sim.sh(string.format("sh -c %s", q(cmd .. " >" .. q(dir .. "/sim.log") .. " 2>&1 & echo $!")))))
	h.pty = sim.wait_line(pty_file, 10)
	if not h.pty then error("ec20sim did not start: " .. (sim.read(dir .. "/sim.log") or "")) end
	h.port = "tty:" .. h.pty
	return h
end

local function stop_sim(h)
	os.execute("kill -TERM " .. h.sim_pid .. " 2>/dev/null")
	local deadline = core.monotonic_ms() + 3000
	while os.execute("kill -0 " .. h.sim_pid .. " 2>/dev/null") and core.monotonic_ms() < deadline do
		core.sleep_ms(20)
	end
	os.execute("kill -KILL " .. h.sim_pid .. " 2>/dev/null")
end

local function wait_for(seconds, fn)
	local deadline = core.monotonic_ms() + math.floor(seconds * 1000)
	repeat
		if fn() then return true end
		core.sleep_ms(10)
	until core.monotonic_ms() > deadline
	return false
end

-- a session a dead host left open
local function session_open(h)
	sim.control(h, string.format("session-open 127.0.0.1 %d %s %s", h.ftp_port, h.user, h.password))
end

-- a host that sends one command and goes away (its answers go to nobody)
local function dead_host_sends(h, cmd)
	local m = assert(modemftp.open(h.port, { guard = HOST_GUARD }))
	m.port:write(cmd .. "\r")
	core.sleep_ms(50)
	m:close()
end

-- a dead host's download still streaming: 4 MiB at 460800 baud take a minute
local function streaming(h, extra)
	os.execute(string.format("head -c %d /dev/urandom > %s", 4 * 1048576, q(h.root .. "/big.bin")))
	session_open(h)
	if extra then sim.control(h, extra) end
	sim.control(h, "stale-download big.bin")
	local peek = assert(modemftp.open(h.port, { init = false }))
	wait_for(10, function() return #assert(peek:poll(0.05)) > 0 end)
	peek:close()
end

--- The states: name, simulator flags, and how to get there.
local STATES = {
	{ name = "clean" },
	{ name = "session-open", prepare = session_open },
	{ name = "stale-upload", prepare = function(h)
		session_open(h)
		sim.control(h, "stale-upload stale.bin")
		wait_for(10, function() return sim.read(h.root .. "/stale.bin") ~= nil end)
	end },
	{ name = "stale-download", args = "--baud 460800", prepare = function(h) streaming(h) end },
	{ name = "escape-aborts", args = "--baud 460800 --escape-aborts 1", prepare = function(h) streaming(h) end },
	{ name = "boot-sim-busy", args = "--boot-ms 400", prepare = function(h) sim.control(h, "boot-sim-busy 1500") end },
	{ name = "verbose-codes-0", args = "--verbose-codes 0" },
	{ name = "half-line", args = "--half-line AT+QFTPC" },
	{ name = "fail-data-615", prepare = function(h)
		session_open(h)
		wait_for(10, function() return sim.read(dir .. "/sim.log") ~= nil end)
		sim.control(h, "fail-data-615")
		-- the dead host's transfer: 615, then 603 to every FTP command
		core.sleep_ms(300) -- the session-open login (curl to 127.0.0.1) is done by then
		dead_host_sends(h, 'AT+QFTPGET="x.bin","COM:"')
	end },
	{ name = "close-async", args = "--close-async 2000", prepare = function(h)
		-- a dead host's logout: the module closes for 2 s, 603 meanwhile
		session_open(h)
		core.sleep_ms(300)
		dead_host_sends(h, "AT+QFTPCLOSE")
	end },
	-- probes every 10 ms: a run either never sees them or stops with the clear error
	{ name = "prober", args = "--prober 0.01", refused = "foreign" },
	{ name = "late-reply", prepare = function(h) sim.control(h, "late-reply 800") end },
	{ name = "stall", prepare = function(h) sim.control(h, "stall 3") end },
	{ name = "vanish", link = true, prepare = function(h)
		-- the port went away during a dead host's session and came back under another name
		session_open(h)
		local before = h.pty
		sim.control(h, "vanish 300")
		wait_for(10, function()
			local now = sim.read(dir .. "/pty")
			return now and now:match("^([^\n]+)\n") ~= before
		end)
	end },
	{ name = "dtr", prepare = function(h)
		-- a dead host's upload, left by a DTR drop (its +QFTPPUT result to nobody)
		session_open(h)
		sim.control(h, "stale-upload dtr.bin")
		wait_for(10, function() return sim.read(h.root .. "/dtr.bin") ~= nil end)
		sim.control(h, "dtr")
	end },
}

local function median(t)
	local s = {}
	for i, v in ipairs(t) do s[i] = v end
	table.sort(s)
	if #s == 0 then return nil end
	return #s % 2 == 1 and s[(#s + 1) // 2] or (s[#s // 2] + s[#s // 2 + 1]) / 2
end

-- One run from the state: seconds to the first FTP command, the run's, or nil, why.
local function measure(state)
	local h = start_sim(state.args)
	local ok, a, b, c = pcall(function()
		if state.prepare then state.prepare(h) end
		local conf = dir .. "/recovery.conf"
		sim.write(conf, string.format("host = 127.0.0.1\nftp_port = %d\nuser = %s\npassword = %s\nguard = %s\n",
			h.ftp_port, h.user, h.password, HOST_GUARD))
		local mark = dir .. "/first-ftp"
		os.remove(mark)
		local port = state.link and ("tty:" .. h.link) or h.port
		local t0 = core.monotonic_ms()
		local out = sim.sh(string.format("%s run --port %s --config %s --lock-dir %s --timeout %d %s %s 2>&1 </dev/null; echo \"exit $?\"",
			q(CLI), q(port), q(conf), q(dir), RUN_TIMEOUT, q(JOB), q(mark)))
		local total = (core.monotonic_ms() - t0) / 1000
		local code = tonumber(out:match("exit (%d+)%s*$"))
		if state.refused and code ~= 0 then
			if out:find("ModemManager", 1, true) then return total, total, "refused" end
			return nil, string.format("exit %s, expected the %s error: %s", tostring(code), state.refused,
				out:match("error: ([^\n]*)") or out:sub(-200))
		end
		local first = tonumber((sim.read(mark) or ""):match("^(%d+)"))
		if code ~= 0 or not first then
			return nil, string.format("exit %s: %s", tostring(code), out:match("error: ([^\n]*)") or out:sub(-200))
		end
		return (first - t0) / 1000, total, "ok"
	end)
	stop_sim(h)
	if not ok then return nil, tostring(a) end
	return a, b, c
end

for _, state in ipairs(STATES) do
	local firsts, totals, why, verdict = {}, {}, nil, nil
	for _ = 1, ROUNDS do
		local first, total, v = measure(state)
		if first then
			firsts[#firsts + 1], totals[#totals + 1], verdict = first, total, v
		else
			why = total
			break
		end
	end
	if why then
		print(string.format("recovery: %-16s FAILED %s", state.name, why:gsub("\n", " ")))
	else
		print(string.format("recovery: %-16s %6.2f s (median of %d; run %.2f s) %s", state.name, median(firsts),
			#firsts, median(totals), verdict == "refused" and "refused by design: the error names ModemManager" or "ok"))
	end
	io.stdout:flush()
end
sim.stop(ftp)
