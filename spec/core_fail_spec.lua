-- Every failure of modemftp.core has one shape (src/binding/lmodemftp_fail.h):
-- nil, {kind, message[, errno]} with the error metatable, from the port
-- functions and from the host services alike.
local core = require "modemftp.core"
require "modemftp" -- sets the error metatable

describe("failures of modemftp.core", function()
	it("a port that cannot be opened", function()
		local p, err = core.open("/nonexistent/ttyUSB9")
		assert.is_nil(p)
		assert.is_string(err.kind)
		assert.matches("ttyUSB9", err.message)
		assert.is_string(tostring(err))
	end)
	it("a lock file that cannot be created (io, with errno)", function()
		local lock, err = core.lock("/nonexistent/dir/port.lock", 0)
		assert.is_nil(lock)
		assert.equal("io", err.kind)
		assert.equal(2, err.errno) -- ENOENT
		assert.matches("/nonexistent/dir/port.lock", err.message)
		assert.matches("port.lock", tostring(err))
	end)
	it("a lock held by another holder (busy)", function()
		local path = os.tmpname()
		local a = assert(core.lock(path, 0))
		local b, err = core.lock(path, 0)
		assert.is_nil(b)
		assert.equal("busy", err.kind)
		assert.is_nil(err.errno)
		assert.matches("held by pid " .. core.getpid() .. " ", err.message) -- this process holds it
		a:unlock()
		assert(core.lock(path, 0)):unlock()
		os.remove(path)
	end)
	it("realpath of a missing file", function()
		local r, err = core.realpath("/nonexistent/x")
		assert.is_nil(r)
		assert.equal("io", err.kind)
		assert.equal(2, err.errno)
		assert.equal(getmetatable(select(2, core.lock("/nonexistent/y", 0))), getmetatable(err))
	end)
end)

describe("misuse of modemftp.core raises", function()
	it("an option key the function does not take (units are in the core's names)", function()
		assert.has_error(function() core.open("/nonexistent/ttyUSB9", { connect_timeout = 5 }) end,
			"unknown option 'connect_timeout'")
		assert.has_no_error(function() core.open("/nonexistent/ttyUSB9", { connect_timeout_ms = 5 }) end)
	end)
end)
