#!/usr/bin/env lua5.4
--- spec/support/kill_soak.lua: the kill-at-random-moments test at soak size
-- (spec/support/kill.lua), for `make soak` (scripts/soak). Run from the
-- tree after `make all`:
--
--   lua5.4 spec/support/kill_soak.lua          # KILL_RUNS (200) kills, KILL_SEED (the time)
--
-- Prints each kill, then "# N cases in S s: SUMMARY" (the line
-- scripts/soak reports) and every failure; exits 1 when any run after a
-- kill failed. Up to KILL_MAX_FAILURES (5) failures are collected (the
-- module is rebooted after each) before it stops. KILL_PHASE=NAME aims
-- every kill at one phase (open, login, upload, between, download, close).
local top = (arg[0]:match("^(.*)/spec/support/kill_soak%.lua$")) or "."
package.path = top .. "/lua/?.lua;" .. top .. "/lua/?/init.lua;" .. top .. "/spec/?.lua;" .. package.path
package.cpath = (os.getenv("MODEMFTP_BUILD") or (top .. "/build")) .. "/lib/?.so;" .. package.cpath

local core = require "modemftp.core"
local kill = require "support.kill"

local seed = tonumber(os.getenv("KILL_SEED") or "") or os.time()
local runs = tonumber(os.getenv("KILL_RUNS") or "") or 200
print(string.format("kill soak: seed %d, %d runs (replay: KILL_SEED=%d KILL_RUNS=%d)", seed, runs, seed, runs))
local t0 = core.monotonic_ms()
local r = kill.run { seed = seed, runs = runs, phase = os.getenv("KILL_PHASE"), max_failures = tonumber(os.getenv("KILL_MAX_FAILURES") or "") or 5,
	log = function(line) print(line); io.stdout:flush() end }
local secs = (core.monotonic_ms() - t0) / 1000
local t = kill.distribution(r.total_s)
print(string.format("# %d cases in %.0f s: %s; next run total s: min %.2f median %.2f p95 %.2f max %.2f", #r.cycles,
	secs, kill.summary(r), t.min or 0, t.median or 0, t.p95 or 0, t.max or 0))
for _, f in ipairs(r.failures) do print("FAILED " .. f) end
os.exit(#r.failures == 0 and #r.cycles == runs and 0 or 1)
