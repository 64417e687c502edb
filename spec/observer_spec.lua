-- m:observe: the transfer-observer hook (what `modemftp run` counts bytes
-- with and the console draws progress with), against replayed transcripts.
local replay = require "support.replay"

local login, session = replay.login, replay.session

-- An observer that records every event as "phase op target bytes [ok]".
local function recorder()
	local seen = {}
	return seen, function(ev)
		local ok = ev.phase == "done" and (" " .. tostring(ev.ok)) or ""
		seen[#seen + 1] = string.format("%s %s %s %s %d%s", ev.phase, ev.op, ev.direction, ev.target, ev.bytes, ok)
	end
end

describe("transfer observers (m:observe)", function()
	after_each(function() replay.assert_all_closed() end)

	it("sees each put and get start and end, with the bytes that moved", function()
		local data = "0123456789"
		local T = login(replay.script())
			:cmd('AT+QFTPPUT="a.txt","COM:",0,10,1'):connect():send(data):ok():urc("+QFTPPUT: 0,10")
			:cmd('AT+QFTPGET="a.txt","COM:",0'):connect():raw(data):raw("\r\nOK\r\n\r\n+QFTPGET: 0,10\r\n")
		local m, s = session(T)
		local seen, fn = recorder()
		m:observe(fn)
		assert.equal(10, s:write("a.txt", data))
		assert.equal(data, s:read("a.txt", { size = false }))
		assert.same({ "start put up a.txt 0", "done put up a.txt 10 true",
			"start get down a.txt 0", "done get down a.txt 10 true" }, seen)
		T:finish(m)
	end)

	it("counts a failed transfer's partial bytes and hands over the error", function()
		local T = login(replay.script())
			:cmd('AT+QFTPGET="big","COM:",0'):connect():raw("partial"):raw("\r\nOK\r\n\r\n+QFTPGET: 607,0\r\n")
		local m, s = session(T)
		local last
		m:observe(function(ev) last = ev end)
		local n, err = s:get("big", nil, { size = false })
		assert.is_nil(n)
		assert.same({ "done", false, 7 }, { last.phase, last.ok, last.bytes })
		assert.equal(err, last.err)
		T:finish(m)
	end)

	it("sees a put in packets or through RAM once, as the caller made it", function()
		local a, b, r = ("a"):rep(1024), ("b"):rep(1024), ("r"):rep(100)
		local T = login(replay.script())
			:cmd('AT+QFTPPUT="p.txt","COM:",0,1024,0'):connect():send(a):ok():urc("+QFTPPUT: 0,1024")
			:cmd('AT+QFTPPUT="p.txt","COM:",1024,1024,1'):connect():send(b):ok():urc("+QFTPPUT: 0,1024")
			:cmd('AT+QFUPL="RAM:mftp1.tmp",100,60,0'):connect():send(r):urc("+QFUPL: 100,707"):ok()
			:cmd('AT+QFTPPUT="r.txt","RAM:mftp1.tmp",0'):ok():urc("+QFTPPUT: 0,100")
			:cmd('AT+QFDEL="RAM:mftp1.tmp"'):ok()
		local m, s = session(T)
		local seen, fn = recorder()
		m:observe(fn)
		assert.equal(2048, s:write("p.txt", a .. b, { packet = 1024 }))
		assert.equal(100, s:write("r.txt", r, { via = "ram" }))
		assert.same({ "start put up p.txt 0", "done put up p.txt 2048 true",
			"start put up r.txt 0", "done put up r.txt 100 true" }, seen)
		T:finish(m)
	end)

	it("gives progress events to observers that ask, next to the caller's own progress", function()
		local data = ("x"):rep(5000)
		local T = login(replay.script())
			:cmd('AT+QFTPPUT="big.txt","COM:",0,5000,1'):connect():send(data):ok():urc("+QFTPPUT: 0,5000")
		local m, s = session(T)
		local plain, steps, own = {}, {}, {}
		m:observe(function(ev) plain[#plain + 1] = ev.phase end)
		m:observe(function(ev)
			if ev.phase == "progress" then steps[#steps + 1] = { ev.bytes, ev.total, ev.watched } end
		end, { progress = true })
		assert.equal(5000, s:write("big.txt", data, { progress_interval = 0, progress = function(n, total)
			own[#own + 1] = { n, total }
		end }))
		assert.same({ "start", "done" }, plain)
		assert.is_true(#steps > 0)
		assert.same(own, (function()
			local t = {}
			for i, st in ipairs(steps) do t[i] = { st[1], st[2] } end
			return t
		end)())
		assert.same({ 5000, 5000, true }, steps[#steps])
		T:finish(m)
	end)

	it("stops with m:unobserve, also from inside the observer", function()
		local T = login(replay.script())
			:cmd('AT+QFTPPUT="a","COM:",0,1,1'):connect():send("1"):ok():urc("+QFTPPUT: 0,1")
			:cmd('AT+QFTPPUT="b","COM:",0,1,1'):connect():send("2"):ok():urc("+QFTPPUT: 0,1")
		local m, s = session(T)
		local calls = 0
		local h
		h = m:observe(function(ev)
			calls = calls + 1
			if ev.phase == "done" then assert.is_true(m:unobserve(h)) end
		end)
		assert(s:write("a", "1"))
		assert(s:write("b", "2"))
		assert.equal(2, calls)
		assert.is_false(m:unobserve(h))
		assert.has_error(function() m:observe("not a function") end)
		T:finish(m)
	end)
end)
