-- End to end: the public Lua API drives ec20sim (a simulated EC20 on a pty),
-- which does the FTP work against a real pyftpdlib server on 127.0.0.1.
-- Files are checked on the server's disk by size and SHA-256. Every spec
-- starts and stops its own servers (spec/support/sim.lua).
local modemftp = require "modemftp"
local sim = require "support.sim"
local replay = require "support.replay"

local GUARD_MS = 100

local function connect(h, opts)
	opts = opts or {}
	local m = assert(modemftp.open(h.port, { guard = GUARD_MS / 1000 * 1.5 }))
	assert(m:pdp { context = 1, apn = "internet" })
	local s, err = m:ftp { host = "127.0.0.1", port = h.ftp_port, user = opts.user or h.user,
		password = opts.password or h.password, timeout = 20, ssl = opts.ssl, passive = opts.passive }
	if not s then m:close(); error(tostring(err)) end
	return m, s
end

local function with_sim(opts, fn)
	local h = sim.start(opts)
	local ok, err = pcall(fn, h)
	local log = sim.stop(h)
	if not ok then
		pcall(replay.assert_all_closed)
		io.stderr:write("\n--- ec20sim log ---\n", tostring(log), "\n")
		error(err, 0)
	end
	replay.assert_all_closed()
end

local function size_of(path)
	local d = sim.read(path)
	return d and #d
end

describe("end to end (ec20sim + pyftpdlib)", function()
	it("uploads with uploadlen/beof and with +++, downloads to COM and through RAM", function()
		with_sim({ guard_ms = GUARD_MS }, function(h)
			local m, s = connect(h)
			local src = h.dir .. "/src.bin"
			sim.make_file(src, 1024 * 1024 + 7)
			-- known size: uploadlen/beof
			assert.equal(1024 * 1024 + 7, assert(s:put("known.bin", src)))
			assert.equal(sim.sha256(src), sim.sha256(h.root .. "/known.bin"))
			-- unknown size: a Lua function source, ended with +++ (guard times kept)
			local f = assert(io.open(src, "rb"))
			local n = assert(s:put("stream.bin", function() return f:read(50000) end))
			f:close()
			assert.equal(1024 * 1024 + 7, n)
			assert.equal(sim.sha256(src), sim.sha256(h.root .. "/stream.bin"))
			-- in packets: beof 0 keeps the data connection open between them
			assert.equal(1024 * 1024 + 7, assert(s:put("packets.bin", src, { packet = 300000 })))
			assert.equal(sim.sha256(src), sim.sha256(h.root .. "/packets.bin"))
			-- a "+++" inside the data is data
			local tricky = "a+++b\r\n+++\r\nOK\r\n+QFTPPUT: 0,3\r\n"
			assert.equal(#tricky, assert(s:put("tricky.txt", function()
				local t = tricky; tricky = nil; return t
			end)))
			assert.equal("a+++b\r\n+++\r\nOK\r\n+QFTPPUT: 0,3\r\n", sim.read(h.root .. "/tricky.txt"))
			-- download to COM, to a file
			assert.equal(1024 * 1024 + 7, assert(s:get("known.bin", h.dir .. "/back.bin")))
			assert.equal(sim.sha256(src), sim.sha256(h.dir .. "/back.bin"))
			-- download through a RAM file
			assert.equal(1024 * 1024 + 7, assert(s:get("known.bin", h.dir .. "/ram.bin", { via = "ram" })))
			assert.equal(sim.sha256(src), sim.sha256(h.dir .. "/ram.bin"))
			-- upload through a RAM file
			assert.equal(5000, assert(s:put("viaram.bin", { string = ("r"):rep(5000) }, { via = "ram" })))
			assert.equal(("r"):rep(5000), sim.read(h.root .. "/viaram.bin"))
			assert.same({}, assert(m:ram_list()))
			-- RAM files directly, in ACK mode (an 'A' after each 1024 bytes)
			local blob = ("0123456789abcdef"):rep(300) -- 4800 bytes: 4 acks, then a partial KiB
			assert.equal(4800, assert(m:ram_upload("blob.bin", blob, { ack = true })))
			local list = assert(m:ram_list())
			assert.equal("RAM:blob.bin", list[1].name)
			assert.equal(4800, list[1].size)
			local bytes, back = m:ram_download("blob.bin")
			assert.equal(4800, bytes)
			assert.equal(blob, back)
			assert(m:ram_delete("blob.bin"))
			assert.same({}, assert(m:ram_list()))
			assert(s:close())
			m:close()
		end)
	end)

	it("a file holding the modem's own trailer text arrives whole", function()
		with_sim({ guard_ms = GUARD_MS }, function(h)
			local m, s = connect(h)
			local evil = "\r\nOK\r\n\r\n+QFTPGET: 0,0\r\n" .. "\r\nOK\r\n\r\n+QFTPGET: 0,52\r\n" .. ("x"):rep(100)
				.. "\r\nNO CARRIER\r\n\r\nRDY\r\n"
			sim.write(h.root .. "/evil.txt", evil)
			assert.equal(evil, assert(s:read("evil.txt")))
			assert.equal(evil, assert(s:read("evil.txt", { size = false })))
			sim.write(h.root .. "/empty.txt", "")
			assert.equal("", assert(s:read("empty.txt")))
			assert(s:close())
			m:close()
		end)
	end)

	it("lists, renames, makes and removes folders, deletes, reads mdtm", function()
		with_sim({ guard_ms = GUARD_MS }, function(h)
			local m, s = connect(h)
			assert(s:mkdir("logs"))
			assert(s:cwd("logs"))
			assert.equal("/logs", s:pwd())
			assert(s:write("a.txt", "alpha"))
			assert(s:write("b with space.txt", "beta!"))
			local entries = assert(s:list("."))
			local byname = {}
			for _, e in ipairs(entries) do byname[e.name] = e end
			assert.equal(5, byname["a.txt"].size)
			assert.equal("file", byname["b with space.txt"].type)
			local names = assert(s:nlst("."))
			table.sort(names)
			assert.same({ "a.txt", "b with space.txt" }, names)
			local ml = assert(s:mlsd("."))
			local files = 0
			for _, e in ipairs(ml) do if e.type == "file" then files = files + 1 end end
			assert.equal(2, files)
			assert(s:rename("a.txt", "c.txt"))
			assert.is_nil(sim.read(h.root .. "/logs/a.txt"))
			assert.equal("alpha", sim.read(h.root .. "/logs/c.txt"))
			local t = assert(s:mdtm("c.txt"))
			assert.is_true(math.abs(t.epoch - os.time()) < 3600 * 24)
			assert(s:delete("c.txt"))
			assert(s:delete("b with space.txt"))
			assert(s:cwd("/"))
			assert(s:rmdir("logs"))
			assert.is_nil(sim.read(h.root .. "/logs/c.txt"))
			assert.equal(2, (s:stat()) >= 0 and 2 or 0)
			assert(s:close())
			m:close()
		end)
	end)

	it("resumes an upload and a download after a dropped data connection, nothing lost", function()
		with_sim({ guard_ms = GUARD_MS }, function(h)
			local m, s = connect(h)
			local src = h.dir .. "/src.bin"
			sim.make_file(src, 600 * 1024, 99)
			sim.control(h, "drop-data 200000")
			local n, err = s:put("r.bin", src)
			assert.is_nil(n)
			assert.equal(607, err.code)
			assert.is_true(err.retryable)
			local have = assert(s:size("r.bin"))
			assert.is_true(have <= 600 * 1024)
			assert.equal(600 * 1024 - have, assert(s:put("r.bin", src, { startpos = have })))
			assert.equal(sim.sha256(src), sim.sha256(h.root .. "/r.bin"))

			sim.control(h, "drop-data 250000")
			local dst = h.dir .. "/r.back"
			n, err = s:get("r.bin", dst)
			assert.is_nil(n)
			assert.equal(607, err.code)
			local part = size_of(dst)
			assert.equal(err.bytes, part)
			assert.equal(600 * 1024 - part, assert(s:get("r.bin", dst, { startpos = part })))
			assert.equal(sim.sha256(src), sim.sha256(dst))
			assert(s:close())
			m:close()
		end)
	end)

	it("FTPS: ssltype 1 against a TLS server", function()
		with_sim({ guard_ms = GUARD_MS, tls = true }, function(h)
			local m, s = connect(h, { ssl = true })
			assert.equal(11, assert(s:write("tls.txt", "over TLS!\r\n")))
			assert.equal("over TLS!\r\n", sim.read(h.root .. "/tls.txt"))
			assert.equal("over TLS!\r\n", assert(s:read("tls.txt")))
			assert(s:close())
			m:close()
		end)
	end)

	it("reports a wrong password (530) and a missing file (550) with their codes", function()
		with_sim({ guard_ms = GUARD_MS }, function(h)
			local m = assert(modemftp.open(h.port))
			assert(m:pdp { apn = "internet" })
			local s, err = m:ftp { host = "127.0.0.1", port = h.ftp_port, user = h.user, password = "wrong", timeout = 20 }
			assert.is_nil(s)
			assert.equal(530, err.protocol_error)
			assert.is_truthy(err.code and err.code >= 601 and err.code <= 631)
			assert.is_false(err.retryable)
			s = assert(m:ftp { host = "127.0.0.1", port = h.ftp_port, user = h.user, password = h.password, timeout = 20 })
			local n
			n, err = s:get("missing.bin", h.dir .. "/x")
			assert.is_nil(n)
			assert.equal(550, err.protocol_error)
			assert.is_false(err.retryable)
			n, err = s:get("missing.bin", nil, { size = false })
			assert.is_nil(n)
			assert.equal(550, err.protocol_error)
			assert(s:close())
			m:close()
		end)
	end)

	it("pdpdeact mid-transfer: a retryable error, the session marked lost", function()
		with_sim({ guard_ms = GUARD_MS }, function(h)
			local m, s = connect(h)
			sim.make_file(h.root .. "/big.bin", 800 * 1024)
			local seen
			m:on('^%+QIURC: "pdpdeact"', function(l) seen = l end)
			sim.control(h, "after 300000 pdpdeact")
			local n, err = s:get("big.bin", h.dir .. "/big.part")
			assert.is_nil(n)
			assert.is_true(err.retryable)
			m:poll(0.5)
			assert.equal('+QIURC: "pdpdeact",1', seen)
			assert.is_true(s.closed)
			-- the flow a job would run: reactivate, log in again, resume
			assert(m:pdp { apn = "internet" })
			local s2 = assert(m:ftp { host = "127.0.0.1", port = h.ftp_port, user = h.user, password = h.password, timeout = 20 })
			local part = size_of(h.dir .. "/big.part")
			assert(s2:get("big.bin", h.dir .. "/big.part", { startpos = part }))
			assert.equal(sim.sha256(h.root .. "/big.bin"), sim.sha256(h.dir .. "/big.part"))
			assert(s2:close())
			m:close()
		end)
	end)

	it("reboot mid-transfer: reported as rebooted, nothing hangs", function()
		with_sim({ guard_ms = GUARD_MS, args = "--boot-ms 200" }, function(h)
			local m, s = connect(h)
			sim.make_file(h.root .. "/big.bin", 800 * 1024)
			sim.control(h, "after 300000 reboot")
			local n, err = s:get("big.bin", h.dir .. "/big.part")
			assert.is_nil(n)
			assert.equal("rebooted", err.name)
			assert.is_true(err.retryable)
			assert.is_true(m.state.rebooted)
			m:close()
		end)
	end)

	it("survives line noise between responses", function()
		with_sim({ guard_ms = GUARD_MS }, function(h)
			local m, s = connect(h)
			sim.control(h, "noise 40")
			assert(s:write("n.txt", "noise-proof"))
			sim.control(h, "noise 40")
			assert.equal("noise-proof", assert(s:read("n.txt")))
			assert(s:close())
			m:close()
		end)
	end)

	it("records a session that replays identically, with the password redacted", function()
		with_sim({ guard_ms = GUARD_MS }, function(h)
			local rec = h.dir .. "/session.txt"
			local m = assert(modemftp.open(h.port, { record = rec }))
			assert(m:pdp { apn = "internet" })
			local s = assert(m:ftp { host = "127.0.0.1", port = h.ftp_port, user = h.user, password = h.password, timeout = 20 })
			assert(s:write("rec.txt", "recorded\n"))
			assert.equal("recorded\n", assert(s:read("rec.txt")))
			assert(s:close())
			m:close()
			local text = sim.read(rec)
			assert.is_nil(text:find(h.password, 1, true))
			assert.is_truthy(text:find("\\*", 1, true))
			-- replay: same calls, no simulator
			local r = assert(modemftp.open("replay:" .. rec))
			assert(r:pdp { apn = "internet" })
			local s2 = assert(r:ftp { host = "127.0.0.1", port = h.ftp_port, user = h.user, password = h.password, timeout = 20 })
			assert(s2:write("rec.txt", "recorded\n"))
			assert.equal("recorded\n", assert(s2:read("rec.txt")))
			assert(s2:close())
			assert(r:replay_finished())
			r:close()
		end)
	end)
end)

describe("end to end: leaving and re-entering data mode (1.3)", function()
	it("pauses a download with +++ and resumes it with ATO, nothing lost", function()
		-- a 2 Mbaud line (200 KB/s), so that the pause lands mid-transfer
		with_sim({ guard_ms = GUARD_MS, args = "--baud 2000000" }, function(h)
			local m, s = connect(h)
			sim.make_file(h.root .. "/big.bin", 300 * 1024, 7)
			local dst = h.dir .. "/big.part"
			local n, err = s:get("big.bin", dst, { progress = function(b) return b < 50000 end, progress_interval = 0 })
			assert.is_nil(n)
			assert.equal("paused", err.name)
			assert.is_true(err.bytes >= 50000 and err.bytes < 300 * 1024)
			assert.equal(err.bytes, #sim.read(dst))
			-- the module is in command mode now: other commands work
			assert.same({}, assert(m:at("AT")))
			local rest = assert(s:ato(dst, { offset = err.bytes }))
			assert.equal(300 * 1024, err.bytes + rest)
			assert.equal(sim.sha256(h.root .. "/big.bin"), sim.sha256(dst))
			assert(s:close())
			m:close()
		end)
	end)
end)
