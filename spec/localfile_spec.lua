-- modemftp.localfile: the checked close, rename and download sink of the
-- local files of transfers, with spec doubles where a real file cannot fail
-- on demand, and the names and exit statuses of local failures.
local core = require "modemftp.core"
local errors = require "modemftp.errors"
local exitstatus = require "modemftp.exitstatus"
local localfile = require "modemftp.localfile"
local sim = require "support.sim"
local doubles = require "support.doubles"
local helper = require "spec.helper_pure"

describe("modemftp.localfile", function()
	helper.module_hygiene(_ENV, "modemftp.localfile", "lua/modemftp/localfile.lua", function(l)
		assert(l.dirname("a/b") == "a" and l.dirname("/b") == "/" and l.dirname("b") == ".")
	end)

	local dir
	before_each(function() dir = sim.tmpdir() end)
	after_each(function() os.execute("rm -rf " .. sim.q(dir)) end)

	-- A Lua file double whose steps fail on demand; core.stat and core.fsync
	-- are doubled too for it (they take real files only).
	local function double(fail)
		local calls = {}
		local f = {}
		function f.flush() calls[#calls + 1] = "flush"; if fail == "flush" then return nil, "Input/output error", 5 end return f end
		function f.close() calls[#calls + 1] = "close"; if fail == "close" then return nil, "Input/output error", 5 end return true end
		return f, calls
	end
	local function with_fake_core(calls, fail, fn)
		local stat, fsync = core.stat, core.fsync
		core.stat = function() return { type = "file" } end
		core.fsync = function()
			calls[#calls + 1] = "fsync"
			if fail == "fsync" then return nil, { kind = "io", errno = 28, message = "fsync: No space left on device" } end
			return true
		end
		local ok, a, b = pcall(fn)
		core.stat, core.fsync = stat, fsync
		assert(ok, a)
		return a, b
	end

	it("closes a received file with every step checked: flush, fsync, close", function()
		for _, fail in ipairs { "none", "flush", "fsync", "close" } do
			local f, calls = double(fail)
			local ok, err = with_fake_core(calls, fail, function() return localfile.close("get", "/x/y", f, true) end)
			if fail == "none" then
				assert.is_true(ok)
			else
				assert.is_nil(ok, fail)
				assert.same({ "local_io", false, "/x/y" }, { err.name, err.retryable, err.target })
			end
			-- the file is closed whatever failed, and the steps keep their order
			assert.equal("close", calls[#calls], fail)
			assert.same(fail == "flush" and { "flush", "close" } or { "flush", "fsync", "close" }, calls)
		end
	end)

	it("renames into place, then syncs the folder", function()
		sim.write(dir .. "/t", "new")
		local calls = doubles.durability(function() assert(localfile.rename("get", dir .. "/t", dir .. "/final")) end)
		assert.same({ "rename " .. dir .. "/final", "fsync_dir " .. dir }, calls)
		assert.equal("new", sim.read(dir .. "/final"))
		local ok, err = localfile.rename("get", dir .. "/t", dir .. "/final")
		assert.is_nil(ok)
		assert.same({ "local_io", 2 }, { err.name, err.errno })
	end)

	it("names local failures: local_io (exit 74), local_missing for a file to send (exit 66)", function()
		local e = errors.local_io("put", "/a/b", "/a/b: No such file or directory", 2, true)
		assert.same({ "local_missing", false, 2 }, { e.name, e.retryable, e.errno })
		assert.equal("put /a/b: No such file or directory", tostring(e))
		assert.equal(66, exitstatus.of(e))
		e = errors.local_io("get", "/a/b", "No such file or directory", 2)
		assert.same({ "local_io", false }, { e.name, e.retryable })
		assert.equal(74, exitstatus.of(e))
		assert.equal("local_io", errors.from_core("get", { kind = "local_io", message = "x" }).name)
		local f, err = localfile.open_source("put", dir)
		assert.is_nil(f)
		assert.same({ "local_io", 21 }, { err.name, err.errno })
		f, err = localfile.open_source("put", dir .. "/nope")
		assert.is_nil(f)
		assert.equal("local_missing", err.name)
		f, err = localfile.open_sink("get", dir .. "/no/such/folder", 0)
		assert.is_nil(f)
		assert.same({ "local_io", 2 }, { err.name, err.errno })
	end)

	it("a download sink over an existing file: a temporary file, synced, renamed; a failure keeps the old", function()
		local path = dir .. "/conf"
		sim.write(path, "old")
		-- a failure: the old file stays, the temporary file goes
		local sink = assert(localfile.sink("get", path, 0))
		assert.not_equal(path, sink.path)
		assert.equal(dir, localfile.dirname(sink.path))
		sink.file:write("partial")
		local ok, err = sink.finish(errors.new { code = 607, bytes = 7 })
		assert.is_nil(ok)
		assert.equal(607, err.code)
		assert.equal("old", sim.read(path))
		assert.is_nil(sim.read(sink.path))
		-- a success: flush/fsync of the file, rename over the old, fsync of the folder
		local calls = doubles.durability(function()
			sink = assert(localfile.sink("get", path, 0))
			sink.file:write("new contents")
			assert.is_true(sink.finish())
		end)
		assert.same({ "fsync", "rename " .. path, "fsync_dir " .. dir }, calls)
		assert.equal("new contents", sim.read(path))
		assert.is_nil(sim.read(sink.path))
		-- the replaced file's permission bits stay (a 0600 configuration stays 0600)
		assert(core.chmod(path, 384))
		sink = assert(localfile.sink("get", path, 0))
		sink.file:write("secret")
		assert.is_true(sink.finish())
		assert.same({ "secret", 384 }, { sim.read(path), core.stat(path).mode })
		-- a new path is written in place: a failure keeps the partial (err.part)
		sink = assert(localfile.sink("get", dir .. "/fresh", 0))
		assert.equal(dir .. "/fresh", sink.path)
		sink.file:write("part")
		ok, err = sink.finish(errors.new { code = 607, bytes = 4 })
		assert.is_nil(ok)
		assert.equal(dir .. "/fresh", err.part)
		assert.equal("part", sim.read(dir .. "/fresh"))
		-- a device is never replaced by a rename
		sink = assert(localfile.sink("get", "/dev/null", 0, true))
		assert.equal("/dev/null", sink.path)
		assert.is_true(sink.finish())
		assert.equal("char", core.stat("/dev/null").type)
	end)
end)
