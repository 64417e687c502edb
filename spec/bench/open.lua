#!/usr/bin/env lua5.4
--- spec/bench/open.lua: what `modemftp.open` costs on a clean module.
--
-- Starts ec20sim in its default state (no FTP server needed: the open
-- handshake never leaves the module), then opens and closes the port N
-- times (default 200) in rounds of 20 and prints the median of the rounds'
-- mean open time, the overall mean and the spread, one line:
--
--   open: 200 opens, median 0.35 ms (rounds of 20), mean 0.36 ms, max 2 ms, sync clean
--
-- `core.monotonic_ms` counts whole milliseconds and an open takes well
-- under one: a round of 20 opens gives 0.05 ms resolution. Run from the tree after `make all` (spec/bench/run
-- calls it); EC20SIM names the simulator, BENCH_OPENS the count.
local top = (arg[0]:match("^(.*)/spec/bench/open%.lua$")) or "."
package.path = top .. "/lua/?.lua;" .. top .. "/lua/?/init.lua;" .. package.path
package.cpath = top .. "/build/lib/?.so;" .. package.cpath

local modemftp = require "modemftp"
local core = require "modemftp.core"

local N = math.tointeger(tonumber(arg[1] or os.getenv("BENCH_OPENS") or "200")) or 200
local ROUND = 20
local sim_bin = os.getenv("EC20SIM") or (top .. "/build/ec20sim")

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local dir = io.popen("mktemp -d /tmp/modemftp-open.XXXXXX"):read("l")
local pid = tonumber(io.popen(string.format("env -u LD_PRELOAD %s --pty-file %s >%s 2>&1 & echo $!",
	q(sim_bin), q(dir .. "/pty"), q(dir .. "/sim.log"))):read("l"))

local function cleanup()
	if pid then os.execute("kill -TERM " .. pid .. " 2>/dev/null") end
	os.execute("rm -rf " .. q(dir))
end

local pty
local deadline = core.monotonic_ms() + 10000
repeat
	local f = io.open(dir .. "/pty")
	pty = f and f:read("l")
	if f then f:close() end
	if not pty then core.sleep_ms(10) end
until pty or core.monotonic_ms() > deadline
if not pty then
	cleanup()
	io.stderr:write("open.lua: ec20sim did not start\n")
	os.exit(1)
end

local samples, rounds, state = {}, {}, nil
for r = 1, math.max(1, N // ROUND) do
	local t0 = core.monotonic_ms()
	for _ = 1, ROUND do
		local s = core.monotonic_ms()
		local m, err = modemftp.open("tty:" .. pty, { guard = 0.1 })
		if not m then
			cleanup()
			io.stderr:write("open.lua: open failed: " .. tostring(err) .. "\n")
			os.exit(1)
		end
		samples[#samples + 1] = core.monotonic_ms() - s
		state = m.sync and m.sync.state or "n/a"
		m:close()
	end
	rounds[r] = (core.monotonic_ms() - t0) / ROUND
end
cleanup()

table.sort(rounds)
table.sort(samples)
local sum = 0
for _, v in ipairs(samples) do sum = sum + v end
local median = #rounds % 2 == 1 and rounds[(#rounds + 1) // 2]
	or (rounds[#rounds // 2] + rounds[#rounds // 2 + 1]) / 2
print(string.format("open: %d opens, median %.2f ms (rounds of %d), mean %.2f ms, max %d ms, sync %s",
	#samples, median, ROUND, sum / #samples, samples[#samples], state))
