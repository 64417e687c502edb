-- PDP bring-up as the field needs it (m:pdp), against ec20sim's network
-- states: a SIM still busy after a restart (capture 13: +CME ERROR 10/14),
-- an LTE-only network (registered on CEREG alone), registration denied,
-- and a network that activated its own context and allows one (capture 10:
-- AT+QIACT=1 answers ERROR, AT+CGACT? shows the other cid).
local modemftp = require "modemftp"
local core = require "modemftp.core"
local sim = require "support.sim"

local GUARD_MS = 100
local OPEN = { guard = GUARD_MS / 1000 * 1.5, boot_wait = 15 }

local with_sim, wait_for = sim.with, sim.wait_for

-- Restart the module with a SIM busy for ms (the first half "not
-- inserted", 10, with absent), and wait for its RDY (m:poll).
local function restart_sim_busy(h, m, ms, absent)
	sim.control(h, "boot-sim-busy " .. ms .. (absent and " 10" or ""))
	wait_for("RDY", 10, function()
		for _, l in ipairs(assert(m:poll(0.1))) do
			if l == "RDY" then return true end
		end
	end)
end

describe("m:pdp (ec20sim)", function()
	it("a SIM busy after a restart (+CME ERROR 10, then 14): AT+CPIN? is asked again until READY", function()
		with_sim({ guard_ms = GUARD_MS, args = "--boot-ms 200" }, function(h)
			local m = assert(modemftp.open(h.port, OPEN))
			restart_sim_busy(h, m, 1500, true)
			local t0 = core.monotonic_ms()
			local c, err = m:pdp { context = 1, apn = "internet" }
			assert(c, tostring(err))
			local ms = core.monotonic_ms() - t0
			print(string.format("# recovery sim_busy_pdp %d ms", ms))
			assert.is_true(ms < 5000)
			assert.equal(1, c.context)
			assert(sim.login(m, h)):close()
			m:close()
		end)
	end)

	it("a SIM that stays busy: a retryable error once sim_wait has passed", function()
		with_sim({ guard_ms = GUARD_MS, args = "--boot-ms 200" }, function(h)
			local m = assert(modemftp.open(h.port, OPEN))
			restart_sim_busy(h, m, 20000)
			local t0 = core.monotonic_ms()
			local c, err = m:pdp { context = 1, apn = "internet", sim_wait = 1 }
			assert.is_nil(c)
			assert.is_true(core.monotonic_ms() - t0 < 3000)
			assert.is_true(err.retryable)
			assert.matches("SIM", err.message)
			assert.matches("AT%+CPIN%?: %+CME ERROR: 1[034]", err.message)
			m:close()
		end)
	end)

	it("an LTE-only network: registered on AT+CEREG? alone", function()
		with_sim({ guard_ms = GUARD_MS, args = "--fault 'registration 0 1'" }, function(h)
			local m = assert(modemftp.open(h.port, OPEN))
			local t0 = core.monotonic_ms()
			local c, err = m:pdp { context = 1, apn = "internet", register_timeout = 3 }
			assert(c, tostring(err))
			assert.is_true(core.monotonic_ms() - t0 < 2000)
			assert(sim.login(m, h)):close()
			m:close()
		end)
	end)

	it("registration denied: a permanent error that says so, with the signal quality", function()
		with_sim({ guard_ms = GUARD_MS, args = "--fault 'registration 3 3'" }, function(h)
			local m = assert(modemftp.open(h.port, OPEN))
			local t0 = core.monotonic_ms()
			local c, err = m:pdp { context = 1, apn = "internet", register_timeout = 10 }
			assert.is_nil(c)
			assert.is_true(core.monotonic_ms() - t0 < 2000, "not waited for")
			assert.equal("network_error", err.name)
			assert.is_false(err.retryable)
			assert.matches("denied", err.message)
			assert.matches("%+CSQ: 24,99", err.message)
			m:close()
		end)
	end)

	it("AT+QIACT=1 answered ERROR while the network holds its own context: deactivated, activated again", function()
		with_sim({ guard_ms = GUARD_MS, args = "--fault 'pdp-auto 9'" }, function(h)
			local m = assert(modemftp.open(h.port, OPEN))
			local t0 = core.monotonic_ms()
			local c, err = m:pdp { context = 1, apn = "internet" }
			assert(c, tostring(err))
			print(string.format("# recovery qiact_error %d ms", core.monotonic_ms() - t0))
			assert.equal(1, c.context)
			assert.matches("^10%.", c.ip)
			assert.same({ "+CGACT: 1,1" }, assert(m:at("AT+CGACT?")))
			local s = assert(sim.login(m, h))
			assert.equal(2, assert(s:write("q.txt", "ok")))
			s:close()
			m:close()
		end)
	end)
end)
