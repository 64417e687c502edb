-- SIGKILL `modemftp run` at random moments of a publish + fetch job, one
-- simulator through all the runs; the next run, untouched, must succeed
-- and leave byte-identical files (spec/support/kill.lua). A quick sample
-- here (KILL_RUNS, default 10); `make soak` runs 200
-- (spec/support/kill_soak.lua). Replay: KILL_SEED=N.
local kill = require "support.kill"

describe("SIGKILL at random moments of a publish + fetch job", function()
	it("the next run always succeeds, with byte-identical files", function()
		local seed = tonumber(os.getenv("KILL_SEED") or "") or os.time()
		local runs = tonumber(os.getenv("KILL_RUNS") or "") or 10
		print(string.format("# kill: seed %d (replay: KILL_SEED=%d KILL_RUNS=%d)", seed, seed, runs))
		-- run_timeout: a next run that cannot recover gives up (5 attempts) well within it
		local r = kill.run { seed = seed, runs = runs, run_timeout = 40, log = function(line) print("# " .. line) end }
		print("# " .. kill.summary(r))
		assert.equal(runs, #r.cycles, table.concat(r.failures, "\n"))
		assert.same({}, r.failures)
		-- every phase was aimed at (where each kill landed is printed: timing moves some)
		for _, p in ipairs(kill.PHASES) do
			local aimed = 0
			for _, c in ipairs(r.cycles) do if c.aimed == p.name then aimed = aimed + 1 end end
			if runs >= #kill.PHASES then assert.is_true(aimed >= 1, p.name) end
		end
		assert.equal(#r.cycles, #r.recovery_ms)
	end)
end)
