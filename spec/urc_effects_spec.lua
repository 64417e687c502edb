-- URC effects in one place (modem.lua): wherever a line the module printed
-- by itself arrives (m:poll, a command, m:at, a handler's command, a
-- transfer, the sync at open), a restart (RDY) marks the module, the FTP
-- session and the PDP context lost and the echo/verbose settings unknown
-- (the next command resyncs), `+QIURC: "pdpdeact"` marks the PDP context
-- and the session lost. Against ec20sim's `reboot` and `pdpdeact`.
local modemftp = require "modemftp"
local core = require "modemftp.core"
local flow = require "modemftp.flow"
local sim = require "support.sim"

local GUARD_MS = 100
local OPEN = { guard = GUARD_MS / 1000 * 1.5, boot_wait = 15 }

local with_sim, wait_for = sim.with, sim.wait_for

local function login(h, m)
	assert(m:pdp { context = 1, apn = "internet" })
	return assert(m:ftp { host = "127.0.0.1", port = h.ftp_port, user = h.user, password = h.password,
		timeout = 20 })
end

-- m:poll until a line matching pattern came (and was dispatched).
local function poll_for(m, pattern)
	local seen = false
	wait_for(pattern, 10, function()
		for _, l in ipairs(assert(m:poll(0.1))) do
			if l:find(pattern) then seen = true end
		end
		return seen
	end)
end

describe("URC effects (ec20sim)", function()
	it("a pdpdeact that arrives in m:poll marks the PDP context and the session lost", function()
		with_sim({ guard_ms = GUARD_MS }, function(h)
			local m = assert(modemftp.open(h.port, OPEN))
			local s = login(h, m)
			local handled
			m:on('^%+QIURC: "pdpdeact"', function(line) handled = line end)
			sim.control(h, "pdpdeact")
			poll_for(m, "pdpdeact")
			assert.equal('+QIURC: "pdpdeact",1', handled)
			assert.is_true(s.closed)
			assert.equal(1, m.state.pdpdeact)
			assert.equal("closed", m.ftpstate)
			local v, err = s:pwd()
			assert.is_nil(v)
			assert.equal("closed", err.name)
			assert.matches("PDP context deactivated", err.message)
			-- the next login is not refused as "a session is already open"
			local s2 = login(h, m)
			assert.is_nil(m.state.pdpdeact)
			assert.equal(5, assert(s2:write("p.txt", "after")))
			assert(s2:close())
			m:close()
		end)
	end)

	it("a pdpdeact that arrives during m:at: the same", function()
		with_sim({ guard_ms = GUARD_MS }, function(h)
			local m = assert(modemftp.open(h.port, OPEN))
			local s = login(h, m)
			sim.control(h, "pdpdeact")
			wait_for("the pdpdeact", 5, function()
				assert(m:at("AT+CSQ"))
				return s.closed
			end)
			assert.equal(1, m.state.pdpdeact)
			m:close()
		end)
	end)

	it("RDY in m:poll: module, session and PDP lost; the next command resyncs (ATV0 after the restart)", function()
		with_sim({ guard_ms = GUARD_MS, args = "--verbose-codes 0 --boot-ms 300" }, function(h)
			local m = assert(modemftp.open(h.port, OPEN))
			assert.equal("atv0", m.sync.state)
			local s = login(h, m)
			sim.control(h, "reboot")
			poll_for(m, "^RDY$")
			assert.is_true(s.closed)
			assert.is_true(m.state.rebooted)
			assert.is_true(m.state.resync)
			assert.truthy(m.state.pdpdeact)
			assert.equal("closed", m.ftpstate)
			-- the restart brought ATV0 back: without a resync this would time out
			local t0 = core.monotonic_ms()
			local info = assert(m:at("AT+CSQ"))
			assert.matches("^%+CSQ:", info[1])
			assert.is_nil(m.state.resync)
			print(string.format("# recovery reboot_resync %d ms", core.monotonic_ms() - t0))
			local s2 = login(h, m)
			assert.equal(2, assert(s2:write("r.txt", "ok")))
			assert(s2:close())
			m:close()
		end)
	end)

	it("RDY seen by a handler's own command: the same, once", function()
		with_sim({ guard_ms = GUARD_MS, args = "--boot-ms 300" }, function(h)
			local m = assert(modemftp.open(h.port, OPEN))
			local s = login(h, m)
			local csq
			m:on("^RDY$", function() csq = assert(m:at("AT+CSQ"))[1] end)
			sim.control(h, "reboot")
			poll_for(m, "^RDY$")
			assert.matches("^%+CSQ:", csq)
			assert.is_true(s.closed)
			assert.is_nil(m.state.resync, "the handler's command resynced")
			m:close()
		end)
	end)

	it("a restart during a transfer: the same, and the next login works", function()
		with_sim({ guard_ms = GUARD_MS, args = "--boot-ms 200" }, function(h)
			local m = assert(modemftp.open(h.port, OPEN))
			local s = login(h, m)
			sim.make_file(h.root .. "/big.bin", 800 * 1024)
			sim.control(h, "after 300000 reboot")
			local n, err = s:get("big.bin", h.dir .. "/big.part")
			assert.is_nil(n)
			assert.equal("rebooted", err.name)
			assert.is_true(s.closed)
			assert.is_true(m.state.resync)
			local t0 = core.monotonic_ms()
			local s2 = login(h, m)
			print(string.format("# recovery reboot_transfer %d ms", core.monotonic_ms() - t0))
			assert.equal(800 * 1024, assert(s2:get("big.bin", h.dir .. "/big.part")))
			assert(s2:close())
			m:close()
		end)
	end)

	it("a stale boot burst at open is flushed and does not mark the new session lost", function()
		with_sim({ guard_ms = GUARD_MS, args = "--boot-urcs" }, function(h)
			-- the burst waits in the port's buffer, as after a power-on nobody watched
			local m = assert(modemftp.open(h.port, OPEN))
			assert.is_nil(m.state.resync)
			local s = login(h, m)
			assert.is_false(s.closed)
			assert(s:pwd())
			assert(m:at("AT+CSQ"))
			assert.is_false(s.closed)
			assert(s:close())
			m:close()
		end)
	end)

	it("a port that went away under a flow: before_retry reopens it, the upload completes", function()
		local link = os.tmpname()
		os.remove(link)
		with_sim({ guard_ms = GUARD_MS, args = "--pty-link " .. link }, function(h)
			local m = assert(modemftp.open("tty:" .. link, OPEN))
			local f = flow.new { modem = m, base = 0.3, factor = 1.5, jitter = 0, attempts = 8,
				log = function(msg) print("# " .. msg) end,
				connect = function()
					local ok, err = m:pdp { context = 1, apn = "internet" }
					if not ok then return nil, err end
					return m:ftp { host = "127.0.0.1", port = h.ftp_port, user = h.user, password = h.password, timeout = 20 }
				end }
			assert(f:session())
			local path = os.tmpname()
			sim.write(path, "survives a vanished port")
			sim.control(h, "vanish 600")
			wait_for("the port to fail", 5, function()
				local r, err = m:at("AT", { timeout = 0.2 })
				return r == nil and err.name == "closed"
			end)
			local t0 = core.monotonic_ms()
			assert.equal(24, assert(f:upload(path, "v.txt")))
			print(string.format("# recovery vanish_flow %d ms", core.monotonic_ms() - t0))
			assert.equal("survives a vanished port", sim.read(h.root .. "/v.txt"))
			f:close()
			os.remove(path)
			m:close()
		end)
		os.remove(link)
	end)
end)
