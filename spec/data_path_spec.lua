-- The data path under hostile local conditions, end to end against ec20sim
-- + pyftpdlib: a full disk, a final flush or close that fails, an old file
-- a failed download must not destroy, the order of fsync and rename, a
-- source with no end (/dev/zero), and local errors that are permanent.
local flow = require "modemftp.flow"
local sim = require "support.sim"
local doubles = require "support.doubles"

-- A source with no end must be refused before anything is sent: this
-- progress function stops an unbounded upload instead of letting it run.
local function cut_after(limit)
	return function(bytes)
		if bytes > limit then error("unbounded upload: " .. bytes .. " bytes sent", 0) end
	end
end

describe("data path: local files against ec20sim", function()
	local h, m, s, dir

	-- A flow over the one session (the EC20 has one FTP client); never
	-- closed by the specs, which keep using s.
	local function newflow(o)
		o = o or {}
		o.session, o.base, o.jitter = s, 0.05, 0
		return flow.new(o)
	end
	-- Files in dir whose names start with prefix (temporary files left behind).
	local function leftovers(prefix)
		local out = {}
		local p = io.popen("ls -a " .. sim.q(dir))
		for name in p:lines() do
			if name:sub(1, #prefix) == prefix then out[#out + 1] = name end
		end
		p:close()
		return out
	end

	setup(function()
		h = sim.start { guard_ms = 100 }
		dir = h.dir
		m = sim.modem(h)
		s = assert(sim.login(m, h))
		sim.make_file(h.root .. "/big.bin", 1050576, 11)
		sim.make_file(h.root .. "/small.bin", 1000, 12)
	end)
	teardown(function()
		if s then pcall(s.close, s) end
		if m then m:close() end
		sim.stop(h)
	end)

	describe("a full disk", function()
		it("a download that cannot be written is a local I/O error, not retryable; the port stays usable", function()
			local n, err = s:get("big.bin", "/dev/full")
			assert.is_nil(n)
			assert.equal("local_io", err.name)
			assert.is_false(err.retryable)
			assert.truthy(tostring(err):find("No space left on device", 1, true))
			assert.same({}, assert(m:at("AT")))
			assert.equal(1000, #assert(s:read("small.bin")))
		end)

		it("a download whose buffered last bytes cannot be flushed or closed is not a success", function()
			-- 1000 bytes stay in the stream's buffer: only the final flush/close writes them
			local n, err = s:get("small.bin", "/dev/full")
			assert.is_nil(n)
			assert.equal("local_io", err.name)
			assert.equal(28, err.errno)
		end)

		it("flow:fetch says local I/O error once, not 'size check failed' five times", function()
			-- a spec double: the part file is opened on /dev/full, so the
			-- flow's final flush and close fail as on a full disk
			local part = dir .. "/fetched.part"
			local open = io.open
			io.open = function(p, mode)
				if p == part and mode ~= "rb" then return open("/dev/full", "wb") end
				return open(p, mode)
			end
			local stats = {}
			local ok, n, err = pcall(function() return newflow { stats = stats }:fetch("small.bin", dir .. "/fetched") end)
			io.open = open
			assert(ok, n)
			assert.is_nil(n)
			assert.equal("local_io", err.name)
			assert.equal(1, err.attempts)
			assert.is_nil(stats.retries)
			assert.is_nil(sim.read(dir .. "/fetched"))
		end)
	end)

	describe("an existing local file", function()
		it("s:get keeps it when the download fails, replaces it whole when it succeeds", function()
			local path = dir .. "/keep.bin"
			sim.write(path, "the previous copy")
			sim.control(h, "drop-data 100000")
			local n, err = s:get("big.bin", path)
			assert.is_nil(n)
			assert.equal(607, err.code)
			assert.equal(#"the previous copy", #sim.read(path))
			assert.equal("the previous copy", sim.read(path))
			assert.same({}, leftovers(".keep.bin."))
			assert.equal(1050576, assert(s:get("big.bin", path)))
			assert.equal(sim.sha256(h.root .. "/big.bin"), sim.sha256(path))
			assert.same({}, leftovers(".keep.bin."))
		end)

		it("is synced before the rename that replaces it, and its folder after (s:get and flow:fetch)", function()
			local path = dir .. "/synced.bin"
			sim.write(path, "old")
			local calls = doubles.durability(function(made)
				assert.equal(1000, assert(s:get("small.bin", path)))
				made[#made + 1] = "--"
				assert.equal(1000, assert(newflow():fetch("small.bin", dir .. "/fetched.bin")))
			end)
			assert.same({ "fsync", "rename " .. path, "fsync_dir " .. dir, "--",
				"fsync", "rename " .. dir .. "/fetched.bin", "fsync_dir " .. dir }, calls)
			assert.equal(sim.sha256(h.root .. "/small.bin"), sim.sha256(dir .. "/fetched.bin"))
		end)
	end)

	describe("a source with no end", function()
		it("s:put refuses /dev/zero without length or limit, before anything is sent", function()
			local n, err = s:put("zero.bin", "/dev/zero", { progress = cut_after(200000), progress_interval = 0 })
			assert.is_nil(n)
			assert.equal("argument", err.name)
			assert.truthy(err.message:find("not a regular file", 1, true))
			assert.is_nil(sim.read(h.root .. "/zero.bin"))
			local f = assert(io.open("/dev/zero", "rb"))
			n, err = s:put("zero.bin", f, { progress = cut_after(200000), progress_interval = 0 })
			f:close()
			assert.is_nil(n)
			assert.equal("argument", err.name)
			assert.is_nil(sim.read(h.root .. "/zero.bin"))
		end)

		it("sends exactly length bytes, or streams at most limit bytes ended with +++", function()
			assert.equal(100000, assert(s:put("zero.bin", "/dev/zero", { length = 100000, progress = cut_after(200000) })))
			assert.equal(("\0"):rep(100000), sim.read(h.root .. "/zero.bin"))
			assert.equal(70000, assert(s:put("zero2.bin", "/dev/zero", { limit = 70000, progress = cut_after(200000) })))
			assert.equal(70000, #sim.read(h.root .. "/zero2.bin"))
			-- a limit above what a regular file holds: the file, with uploadlen
			sim.make_file(dir .. "/r.bin", 5000, 13)
			assert.equal(5000, assert(s:put("r.bin", dir .. "/r.bin", { limit = 1000000 })))
			assert.equal(sim.sha256(dir .. "/r.bin"), sim.sha256(h.root .. "/r.bin"))
		end)

		it("flow:publish refuses /dev/zero before logging in, publishes length bytes of it", function()
			local connects = 0
			local f = flow.new { connect = function() connects = connects + 1; return s end }
			local n, err = f:publish("/dev/zero", "pz.bin", { progress = cut_after(200000), progress_interval = 0 })
			assert.is_nil(n)
			assert.equal("argument", err.name)
			assert.equal(0, connects)
			assert.equal(50000, assert(f:publish("/dev/zero", "pz.bin", { length = 50000 })))
			assert.equal(50000, #sim.read(h.root .. "/pz.bin"))
			assert.is_nil(sim.read(h.root .. "/.pz.bin.part"))
		end)
	end)

	describe("local errors are permanent", function()
		it("a missing source, a directory as source, a missing folder: one attempt each", function()
			local stats = {}
			local f = newflow { stats = stats }
			local n, err = f:publish(dir .. "/no-such-file", "x.bin")
			assert.is_nil(n)
			assert.same({ "local_missing", false }, { err.name, err.retryable })
			n, err = f:publish(dir, "x.bin")
			assert.is_nil(n)
			assert.same({ "local_io", false }, { err.name, err.retryable })
			n, err = f:fetch("small.bin", dir .. "/no/such/folder/x.bin")
			assert.is_nil(n)
			assert.same({ "local_io", false, 1 }, { err.name, err.retryable, err.attempts })
			assert.is_nil(stats.retries)
			-- the session alone says the same
			n, err = s:put("x.bin", dir)
			assert.is_nil(n)
			assert.same({ "local_io", false }, { err.name, err.retryable })
			n, err = s:put("x.bin", dir .. "/no-such-file")
			assert.is_nil(n)
			assert.same({ "local_missing", false }, { err.name, err.retryable })
			n, err = s:get("small.bin", dir .. "/no/such/folder/x.bin")
			assert.is_nil(n)
			assert.same({ "local_io", false }, { err.name, err.retryable })
			assert.is_nil(sim.read(h.root .. "/x.bin"))
		end)
	end)
end)
