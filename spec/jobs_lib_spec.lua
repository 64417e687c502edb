-- scripts/jobs/lib.lua, the example jobs' helpers: the state file that says
-- what was uploaded or fetched is written atomically and durably; folders
-- are listed by the runtime (a BusyBox gateway has no `find -printf`), and
-- a missing folder is an error.
local doubles = require "support.doubles"
local sim = require "support.sim"

describe("example jobs' lib.write_state", function()
	local lib = dofile("scripts/jobs/lib.lua")
	local dir
	before_each(function() dir = sim.tmpdir() end)
	after_each(function() os.execute("rm -rf " .. sim.q(dir)) end)

	it("writes a temporary file, syncs it, renames it over the state file, syncs the folder", function()
		local path = dir .. "/.state"
		sim.write(path, "old 1\n")
		local calls = doubles.durability(function() assert(lib.write_state(path, { b = 2, a = "x y" })) end)
		assert.same({ "fsync", "rename " .. path, "fsync_dir " .. dir }, calls)
		assert.equal("a x y\nb 2\n", sim.read(path))
		assert.same({ a = "x y", b = "2" }, lib.read_state(path))
		assert.is_nil(sim.read(path .. ".tmp"))
	end)

	it("says why it could not, and leaves the old state file", function()
		local ok, err = lib.write_state(dir .. "/no/such/folder/.state", { a = 1 })
		assert.is_nil(ok)
		assert.equal("local_io", err.name)
		local path = dir .. "/.state"
		sim.write(path, "a 1\n")
		local rename = os.rename
		os.rename = function() return nil, "rename: Read-only file system", 30 end
		ok, err = lib.write_state(path, { a = 2 })
		os.rename = rename
		assert.is_nil(ok)
		assert.same({ "local_io", 30 }, { err.name, err.errno })
		assert.equal("a 1\n", sim.read(path))
		assert.is_nil(sim.read(path .. ".tmp"))
	end)
end)

describe("example jobs' lib.files on a BusyBox gateway", function()
	local lib = dofile("scripts/jobs/lib.lua")
	local core = require "modemftp.core"
	local dir
	before_each(function() dir = sim.tmpdir() end)
	after_each(function() os.execute("rm -rf " .. sim.q(dir)) end)

	it("core.listdir gives a folder's names, . and .. left out; a missing folder is a failure", function()
		sim.write(dir .. "/a", "1")
		os.execute("mkdir " .. sim.q(dir .. "/sub"))
		local names = assert(core.listdir(dir))
		table.sort(names)
		assert.same({ "a", "sub" }, names)
		local none, err = core.listdir(dir .. "/missing")
		assert.is_nil(none)
		assert.same({ "io", 2 }, { err.kind, err.errno })
		assert.equal(dir .. "/missing: No such file or directory", err.message)
	end)

	it("lists regular files matching a glob, sorted, without running a command (no find)", function()
		for _, name in ipairs { "app.log", "app.log.1", "app.log.2.gz", "web.log.1", "notes.txt" } do
			sim.write(dir .. "/" .. name, name)
		end
		os.execute("mkdir " .. sim.q(dir .. "/old.log.d"))
		local popen, execute = io.popen, os.execute
		io.popen = function() error("lib.files ran a command") end
		os.execute = function() error("lib.files ran a command") end
		local ok, names, stats = pcall(lib.files, dir, "*.log.*")
		io.popen, os.execute = popen, execute
		assert.is_true(ok, names)
		assert.same({ "app.log.1", "app.log.2.gz", "web.log.1" }, names)
		assert.equal(9, stats["app.log.1"].size)
		assert.same({ "app.log.1" }, (lib.files(dir, "app.log.[0-9]")))
		assert.same({ "web.log.1" }, (lib.files(dir, "[!a]*.log.?")))
		assert.same({ "notes.txt" }, (lib.files(dir, "no?es.*")))
	end)

	it("a missing or unreadable folder is an error that names it, never an empty list", function()
		local names, err = lib.files(dir .. "/gone", "*")
		assert.is_nil(names)
		assert.same({ "local_io", 2 }, { err.name, err.errno })
		assert.equal("list " .. dir .. "/gone: No such file or directory", tostring(err))
	end)

	it("globs become anchored patterns", function()
		assert.equal("^.*%.log%..*$", lib.glob_pattern("*.log.*"))
		assert.equal("^a.c$", lib.glob_pattern("a?c"))
		assert.equal("^[^a]z$", lib.glob_pattern("[!a]z"))
		assert.truthy(("x-1.csv"):match(lib.glob_pattern("x-?.csv")))
		assert.falsy(("x-1.csvx"):match(lib.glob_pattern("x-?.csv")))
	end)
end)
