-- The host services for local files (src/host/lmodemftp_file.c): stat,
-- fsync, fsync_dir and ferror on real files, directories and devices.
local core = require "modemftp.core"
local sim = require "support.sim"

describe("host services for local files", function()
	local dir
	before_each(function() dir = sim.tmpdir() end)
	after_each(function() os.execute("rm -rf " .. sim.q(dir)) end)

	it("stat says what a path or a Lua file really is", function()
		sim.write(dir .. "/a", "abc")
		local st = assert(core.stat(dir .. "/a"))
		assert.same({ "file", 3 }, { st.type, st.size })
		assert.is_true(st.ino > 0 and st.mtime > 0 and st.mtime_nsec >= 0)
		assert.equal("directory", core.stat(dir).type)
		assert.equal("char", core.stat("/dev/zero").type)
		local p = assert(io.popen("true"))
		assert.equal("fifo", core.stat(p).type)
		p:close()
		local f = assert(io.open(dir .. "/a", "rb"))
		local again = core.stat(f)
		assert.same({ st.dev, st.ino, st.mtime, st.mtime_nsec }, { again.dev, again.ino, again.mtime, again.mtime_nsec })
		f:close()
		local n, err = core.stat(dir .. "/missing")
		assert.is_nil(n)
		assert.same({ "io", 2 }, { err.kind, err.errno })
	end)

	it("fsync syncs a Lua file (flushing it first) and a path; fsync_dir a folder", function()
		local f = assert(io.open(dir .. "/b", "wb"))
		f:write("buffered")
		assert.is_true(core.fsync(f))
		assert.equal("buffered", sim.read(dir .. "/b")) -- the flush happened
		f:close()
		assert.is_true(core.fsync(dir .. "/b"))
		assert.is_true(core.fsync_dir(dir))
		local n, err = core.fsync(dir .. "/missing")
		assert.is_nil(n)
		assert.same({ "io", 2 }, { err.kind, err.errno })
		n, err = core.fsync_dir(dir .. "/b")
		assert.is_nil(n)
		assert.equal(20, err.errno) -- ENOTDIR
		-- a full device: the flush inside fsync fails with ENOSPC
		local full = assert(io.open("/dev/full", "wb"))
		full:write("x")
		n, err = core.fsync(full)
		assert.is_nil(n)
		assert.equal(28, err.errno)
		full:close()
		assert.has_error(function() core.fsync(f) end) -- a closed file is misuse
	end)

	it("chmod sets the permission bits of a path or a Lua file", function()
		sim.write(dir .. "/c", "x")
		assert.is_true(core.chmod(dir .. "/c", 384)) -- 0600
		assert.equal(384, core.stat(dir .. "/c").mode)
		local f = assert(io.open(dir .. "/c", "rb"))
		assert.is_true(core.chmod(f, 416)) -- 0640
		f:close()
		assert.equal(416, core.stat(dir .. "/c").mode)
		local n, err = core.chmod(dir .. "/missing", 384)
		assert.is_nil(n)
		assert.equal(2, err.errno)
	end)

	it("ferror tells that a write through the stream failed", function()
		local full = assert(io.open("/dev/full", "wb"))
		assert.is_false(core.ferror(full))
		assert.is_nil(full:write(("x"):rep(100000)))
		assert.is_true(core.ferror(full))
		full:close()
		assert.has_error(function() core.ferror("/dev/full") end)
	end)
end)
