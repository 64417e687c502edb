-- Recovery: whatever state the module is found in (ec20sim reproduces the
-- states real modules are left in: spec/ec20sim/README.md), opening the
-- port brings the AT channel to a known state and the first command after
-- works; a late answer is dropped, never taken for the next command's; a
-- stall is recovered, a port that went away is opened again, another
-- program on the port is named. Each prints "# recovery STATE N ms".
local modemftp = require "modemftp"
local core = require "modemftp.core"
local sim = require "support.sim"

local GUARD_MS = 100
local OPEN = { guard = GUARD_MS / 1000 * 1.5, boot_wait = 15 }

local with_sim = sim.with

local function recovery(state, ms)
	print(string.format("# recovery %s %d ms", state, ms))
end

-- The first command after: its own answer, nothing else.
local function first_command_works(m)
	local info = assert(m:at("AT+CSQ"))
	assert.equal(1, #info)
	assert.matches("^%+CSQ: %d+,%d+$", info[1])
	local stat = assert(m:at("AT+QFTPSTAT"))
	assert.same({}, stat)
end

local function has(list, x)
	for _, v in ipairs(list or {}) do if v == x then return true end end
	return false
end

local wait_for = sim.wait_for

-- Open, PDP context, FTP login.
local function login(h)
	local m = assert(modemftp.open(h.port, OPEN))
	assert(m:pdp { context = 1, apn = "internet" })
	return m, assert(m:ftp { host = "127.0.0.1", port = h.ftp_port, user = h.user, password = h.password,
		timeout = 20 })
end

-- The dead host's session is still the module's: the next login closes it
-- (603, modemftp.ftpstate) and works.
local function next_login_works(h, m)
	local t0 = core.monotonic_ms()
	assert(m:pdp { context = 1, apn = "internet" })
	local s = assert(m:ftp { host = "127.0.0.1", port = h.ftp_port, user = h.user, password = h.password,
		timeout = 20 })
	assert.truthy(s.recovered)
	assert.equal(2, assert(s:write("next-login.txt", "ok")))
	recovery("next_login", core.monotonic_ms() - t0)
	assert(s:close())
end

-- A session left open by a dead host, then that host's transfer.
local function dead_host(h, what)
	sim.control(h, string.format("session-open 127.0.0.1 %d %s %s", h.ftp_port, h.user, h.password))
	sim.control(h, what)
end

describe("recovery (ec20sim)", function()
	it("a clean module: clean, the handshake's bytes only", function()
		with_sim({ guard_ms = GUARD_MS }, function(h)
			local m = assert(modemftp.open(h.port, OPEN))
			assert.equal("clean", m.sync.state)
			assert.same({ "probe ATE1", "cmee" }, m.sync.actions)
			recovery("clean", m.sync.ms)
			first_command_works(m)
			m:close()
		end)
	end)

	it("a dead host's upload in data mode: left with +++, its late result dropped", function()
		with_sim({ guard_ms = GUARD_MS }, function(h)
			dead_host(h, "stale-upload stale.bin")
			wait_for("the dead host's login", 10, function() return sim.read(h.root .. "/stale.bin") ~= nil end)
			local m = assert(modemftp.open(h.port, OPEN))
			assert.equal("upload", m.sync.state)
			assert.is_true(has(m.sync.actions, "escape +++"))
			recovery("upload", m.sync.ms)
			first_command_works(m)
			-- only the probe became file data
			wait_for("the upload's end", 5, function() return sim.read(h.root .. "/stale.bin") == "ATE1\r" end)
			next_login_works(h, m)
			m:close()
		end)
	end)

	it("a dead host's download still streaming: left with +++ before anything else", function()
		-- a line of 460800 baud: the 4 MiB take minutes, the payload is still flowing
		with_sim({ guard_ms = GUARD_MS, args = "--baud 460800" }, function(h)
			os.execute(string.format("head -c %d /dev/urandom > %s", 4 * 1048576, sim.q(h.root .. "/big.bin")))
			dead_host(h, "stale-download big.bin")
			-- until the payload flows (read a little of it, as nobody would)
			local peek = assert(modemftp.open(h.port, { init = false }))
			wait_for("the dead host's download", 10, function() return #assert(peek:poll(0.05)) > 0 end)
			peek:close()
			local m = assert(modemftp.open(h.port, OPEN))
			assert.equal("download", m.sync.state)
			assert.is_true(has(m.sync.actions, "escape +++"))
			assert.is_true(m.sync.flushed > 0)
			recovery("download", m.sync.ms)
			first_command_works(m)
			next_login_works(h, m)
			m:close()
		end)
	end)

	it("a boot in progress and a busy SIM: waited out", function()
		with_sim({ guard_ms = GUARD_MS, args = "--boot-ms 400 --boot-sim-busy 1500" }, function(h)
			local m = assert(modemftp.open(h.port, OPEN))
			assert.equal("boot", m.sync.state)
			assert.is_true(has(m.sync.states, "sim_busy"))
			assert.equal("+CPIN: READY", m.sync.sim)
			recovery("boot", m.sync.ms)
			first_command_works(m)
			assert.same({ "+CPIN: READY" }, assert(m:at("AT+CPIN?")))
			m:close()
		end)
	end)

	it("a boot that does not end within boot_wait: a retryable timeout", function()
		with_sim({ guard_ms = GUARD_MS, args = "--boot-ms 3000 --boot-sim-busy 0" }, function(h)
			local t0 = core.monotonic_ms()
			local m, err = modemftp.open(h.port, { guard = 0.15, boot_wait = 1 })
			assert.is_nil(m)
			assert.equal("timeout", err.name)
			assert.is_true(err.retryable)
			assert.matches("does not answer", err.message)
			assert.is_true(core.monotonic_ms() - t0 < 4000)
		end)
	end)

	it("numeric result codes (ATV0): verbose again", function()
		with_sim({ guard_ms = GUARD_MS, args = "--verbose-codes 0" }, function(h)
			local m = assert(modemftp.open(h.port, OPEN))
			assert.equal("atv0", m.sync.state)
			recovery("atv0", m.sync.ms)
			first_command_works(m)
			m:close()
		end)
	end)

	it("a half-typed line: ended, then answered", function()
		with_sim({ guard_ms = GUARD_MS, args = "--half-line AT+QFTPC" }, function(h)
			local m = assert(modemftp.open(h.port, OPEN))
			assert.equal("half_line", m.sync.state)
			recovery("half_line", m.sync.ms)
			first_command_works(m)
			m:close()
		end)
	end)

	it("a late reply: discarded, the next command gets its own", function()
		with_sim({ guard_ms = GUARD_MS }, function(h)
			sim.control(h, "late-reply 800")
			local m = assert(modemftp.open(h.port, { guard = 0.15, probe_wait = 0.3 }))
			assert.equal("late", m.sync.state)
			assert.is_true(m.sync.late >= 1)
			assert.is_false(has(m.sync.actions, "escape +++"))
			recovery("late", m.sync.ms)
			first_command_works(m)
			-- and a command that times out: its late OK is not the next one's
			sim.control(h, "late-reply 700")
			local t0 = core.monotonic_ms()
			local r, err = m:at("AT+QIACT?", { timeout = 0.3 })
			assert.is_nil(r)
			assert.equal("timeout", err.name)
			first_command_works(m)
			recovery("late_command", core.monotonic_ms() - t0)
			m:close()
		end)
	end)

	it("a stall longer than the command's deadline: m:resync(), and a new process after one", function()
		with_sim({ guard_ms = GUARD_MS }, function(h)
			local m = assert(modemftp.open(h.port, OPEN))
			sim.control(h, "stall 2.5")
			local t0 = core.monotonic_ms()
			local r, err = m:at("AT+CSQ", { timeout = 0.5 })
			assert.is_nil(r)
			assert.equal("timeout", err.name)
			local s = assert(m:resync())
			assert.is_true(has(s.states, "stall") or has(s.states, "late"))
			first_command_works(m)
			recovery("stall", core.monotonic_ms() - t0)
			-- the host dies in a stall: the next process starts from it
			sim.control(h, "stall 2")
			assert.is_nil(m:at("AT+CSQ", { timeout = 0.3 }))
			m:close()
			t0 = core.monotonic_ms()
			local m2 = assert(modemftp.open(h.port, OPEN))
			first_command_works(m2)
			assert.same({ "+CPIN: READY" }, assert(m2:at("AT+CPIN?")))
			recovery("stall_new_process", core.monotonic_ms() - t0)
			m2:close()
		end)
	end)

	it("a port that went away: m:reopen() follows the link again", function()
		local link = os.tmpname()
		os.remove(link)
		with_sim({ guard_ms = GUARD_MS, args = "--pty-link " .. link }, function(h)
			local m = assert(modemftp.open("tty:" .. link, OPEN))
			sim.control(h, "vanish 600")
			local t0 = core.monotonic_ms()
			local r, err
			wait_for("the port to fail", 5, function()
				r, err = m:at("AT+CSQ", { timeout = 0.2 })
				return r == nil and err.name == "closed"
			end)
			assert.is_true(err.retryable)
			local s
			wait_for("the port to come back", 10, function()
				s, err = m:reopen()
				return s ~= nil
			end)
			first_command_works(m)
			recovery("vanish", core.monotonic_ms() - t0)
			m:close()
		end)
		os.remove(link)
	end)

	it("another program probing the port: a clear error naming ModemManager", function()
		with_sim({ guard_ms = GUARD_MS, args = "--prober 0.15" }, function(h)
			local t0 = core.monotonic_ms()
			local m, err = modemftp.open(h.port, OPEN)
			if m then
				wait_for("the foreign commands to be noticed", 10, function()
					local r
					r, err = m:at("AT+CSQ")
					core.sleep_ms(40)
					return r == nil
				end)
				m:close()
			end
			assert.equal("foreign", err.name)
			assert.is_false(err.retryable)
			assert.matches("ModemManager", err.message)
			assert.matches('ID_MM_PORT_IGNORE', err.message)
			recovery("prober", core.monotonic_ms() - t0)
		end)
	end)

	it("an upload aborted mid-way: the next put is not fed its late result", function()
		with_sim({ guard_ms = GUARD_MS }, function(h)
			local m, s = login(h)
			local chunk = string.rep("x", 4096)
			local sent = 0
			-- a source of unknown size (ends with +++): aborted after 64 KiB, as Ctrl-C would
			local ok = pcall(s.put, s, "aborted.bin", function()
				sent = sent + #chunk
				if sent > 65536 then error("stop") end
				return chunk
			end)
			assert.is_false(ok)
			local t0 = core.monotonic_ms()
			-- the module may still be finishing it: 603 (busy) is honest and retryable
			local n, err
			wait_for("the module to take the next upload", 10, function()
				n, err = s:write("next.txt", "hello world")
				assert(n or err.code == 603, tostring(err))
				return n ~= nil
			end)
			assert.equal(11, n)
			-- its late +QFTPPUT came and was dropped (or went with the escape's OK): nothing owed
			assert.same({}, m.port:owed().entries)
			assert.equal("hello world", sim.read(h.root .. "/next.txt"))
			assert.equal(3, assert(s:write("third.txt", "abc")))
			assert.equal("abc", sim.read(h.root .. "/third.txt"))
			recovery("aborted_upload", core.monotonic_ms() - t0)
			assert(s:close())
			m:close()
		end)
	end)

	it("DTR dropped during an upload: a retryable error, and the next command works after m:resync()", function()
		with_sim({ guard_ms = GUARD_MS }, function(h)
			local m, s = login(h)
			local data = string.rep("y", 4 * 1048576)
			local dropped = false
			local n, err = s:put("dtr.bin", { string = data }, { progress = function(bytes)
				if not dropped and bytes > 65536 then
					dropped = true
					sim.control(h, "dtr")
				end
			end, progress_interval = 0.01 })
			assert.is_nil(n)
			assert.is_true(err.retryable, tostring(err))
			-- the bytes in flight reached the AT interpreter: a half line of
			-- file data, ended by the resync (a flow's before_retry does it)
			local t0 = core.monotonic_ms()
			assert(m:resync())
			first_command_works(m)
			recovery("dtr", core.monotonic_ms() - t0)
			m:close()
		end)
	end)
end)
