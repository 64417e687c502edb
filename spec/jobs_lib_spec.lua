-- scripts/jobs/lib.lua, the example jobs' helpers: the state file that says
-- what was uploaded or fetched is written atomically and durably.
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
