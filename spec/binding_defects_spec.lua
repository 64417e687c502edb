-- Defects of the binding (src/binding/lmodemftp_core.c) seen from Lua:
-- what a transfer's callbacks may do to the port, signals, files that
-- cannot be written, traces into closed files, secrets the module prints.
-- Every port is a replay of a transcript built here, so each spec is
-- deterministic and needs no simulator.
local core = require "modemftp.core"
require "modemftp" -- sets the error metatable
local replay = require "support.replay"
local read_file = require("support.sim").read

local GET = 'AT+QFTPGET="a.bin","COM:"'

-- A transcript: the GET command, CONNECT, the payload, the module's end.
local function get_script(payload)
	local T = replay.script { echo = false }
	T:send(GET .. "\r"):connect():raw(payload)
	T:raw("\r\nOK\r\n\r\n+QFTPGET: 0," .. #payload .. "\r\n")
	return T
end

-- Close the port and remove the transcript when the spec ends, whatever
-- happened (busted's finally).
local function cleanup(T, p, ...)
	local paths = { ... }
	finally(function()
		if p:is_open() then p:close() end
		os.remove(T.path)
		for _, path in ipairs(paths) do os.remove(path) end
	end)
end

-- Open the core's port on a script (no Lua layer, no init); it is closed,
-- and the files named after T removed, when the spec ends.
local function port_of(T, ...)
	T.path = os.tmpname()
	local f = assert(io.open(T.path, "wb"))
	f:write(T:text())
	f:close()
	local p = assert(core.open("replay:" .. T.path))
	cleanup(T, p, ...)
	return p
end

local OPTS = { result = "+QFTPGET", expect = -1, confirm_ms = 10, quiet_ms = 50, guard_ms = 10,
	timeout_ms = 2000 }
local function opts(extra)
	local o = {}
	for k, v in pairs(OPTS) do o[k] = v end
	for k, v in pairs(extra or {}) do o[k] = v end
	return o
end

describe("the binding under hostile callers", function()
	after_each(function() replay.assert_all_closed() end)

	describe("m:close() inside a transfer callback", function()
		it("from a sink: deferred until the transfer has unwound, then the port is closed", function()
			local T = get_script(("x"):rep(3000))
			local p = port_of(T)
			local closed_ok
			local n, err = p:get(GET, function() closed_ok = p:close() end, opts())
			assert.is_true(closed_ok)
			assert.is_nil(n)
			assert.equal("closed", err.kind)
			assert.equal("port closed by a callback", err.message)
			assert.is_false(p:is_open())
			assert.matches("%(closed%)", tostring(p))
		end)

		it("from a progress function: the same", function()
			local T = get_script(("y"):rep(3000))
			local p = port_of(T)
			local n, err = p:get(GET, nil, opts { progress_interval_ms = 0, progress = function() p:close() end })
			assert.is_nil(n)
			assert.equal("closed", err.kind)
			assert.equal("port closed by a callback", err.message)
			assert.is_false(p:is_open())
		end)

		it("and a callback that closes and then raises: the port closed, its error raised", function()
			local T = get_script(("z"):rep(100))
			local p = port_of(T)
			local ok, e = pcall(p.get, p, GET, function() p:close(); error("sink gave up", 0) end, opts())
			assert.is_false(ok)
			assert.matches("^sink gave up", e)
			assert.is_false(p:is_open())
		end)
	end)

	describe("a signal during a callback that fails", function()
		it("SIGTERM raised by a progress function that then raises is not forgotten", function()
			local T = get_script(("s"):rep(3000))
			local p = port_of(T)
			core.clear_interrupt()
			core.catch_signals(true)
			local ok, e = pcall(p.get, p, GET, nil, opts { progress_interval_ms = 0, progress = function()
				os.execute("kill -TERM " .. core.getpid())
				error("progress failed", 0)
			end })
			local sig = core.interrupted()
			core.catch_signals(false)
			core.clear_interrupt()
			assert.is_false(ok)
			assert.matches("^progress failed", e)
			assert.equal(15, sig)
		end)

		it("a callback that fails without a signal leaves no interrupt behind", function()
			local T = get_script(("s"):rep(3000))
			local p = port_of(T)
			core.clear_interrupt()
			local ok = pcall(p.get, p, GET, nil, opts { progress_interval_ms = 0,
				progress = function() error("no", 0) end })
			assert.is_false(ok)
			assert.is_false(core.interrupted())
		end)
	end)

	describe("a file sink on a full disk (/dev/full)", function()
		local function full_get(size)
			local T = get_script(("f"):rep(size))
			local p = port_of(T)
			local f = assert(io.open("/dev/full", "wb"))
			local n, err = p:get(GET, f, opts())
			f:close()
			return n, err
		end

		it("a write the disk refuses: kind io, with errno", function()
			local n, err = full_get(20000)
			assert.is_nil(n)
			assert.equal("io", err.kind)
			assert.equal(28, err.errno) -- ENOSPC
			assert.matches("No space left", err.message)
		end)

		it("bytes still buffered when the transfer ends: the flush is checked too", function()
			local n, err = full_get(100)
			assert.is_nil(n)
			assert.equal("io", err.kind)
			assert.equal(28, err.errno)
		end)

		it("a file that takes the bytes: flushed, all there when get returns", function()
			local path = os.tmpname()
			local T = get_script(("w"):rep(100))
			local p = port_of(T, path)
			local f = assert(io.open(path, "wb"))
			local n = assert(p:get(GET, f, opts()))
			assert.equal(100, n)
			assert.equal(("w"):rep(100), read_file(path)) -- before f:close()
			f:close()
		end)
	end)

	describe("port:trace(f) and then f:close()", function()
		it("the closed file is never written to, nor the file opened after it", function()
			local path, later_path = os.tmpname(), os.tmpname()
			local T = replay.script { echo = false }
			T:send("AT\r"):ok():send("ATI\r"):line("Quectel"):ok()
			local p = port_of(T, path, later_path)
			local f = assert(io.open(path, "w"))
			p:trace(f)
			assert(p:command("AT"))
			f:close()
			-- the C library may hand the closed stream's memory to the next one
			local later = assert(io.open(later_path, "w"))
			assert(p:command("ATI"))
			later:close()
			local text = read_file(path)
			assert.matches("> AT", text)
			assert.is_nil(text:find("ATI", 1, true))
			assert.equal("", read_file(later_path))
		end)
	end)

	describe("a password the module prints", function()
		it("is not written into the trace", function()
			local path = os.tmpname()
			local T = replay.script { echo = false }
			T:send('AT+QFTPCFG="account"\r'):line('+QFTPCFG: "account","alice","pw-S3cret!"'):ok()
			local p = port_of(T, path)
			local f = assert(io.open(path, "w"))
			p:trace(f)
			local r = assert(p:command('AT+QFTPCFG="account"'))
			f:close()
			assert.equal('+QFTPCFG: "account","alice","pw-S3cret!"', r.info[1])
			local text = read_file(path)
			assert.matches('"alice","\\%*"', text)
			assert.is_nil(text:find("S3cret", 1, true))
			assert.equal('"\\*"', p:redact('"pw-S3cret!"'))
		end)
	end)

	describe("a raise inside port:get", function()
		it("propagates once the port is consistent; the caller's file stays the caller's", function()
			local path = os.tmpname()
			local T = get_script(("r"):rep(100))
			T:send("AT\r"):ok()
			local p = port_of(T, path)
			local f = assert(io.open(path, "wb"))
			local ok, e = pcall(p.get, p, GET, function() error("sink raised", 0) end, opts())
			assert.is_false(ok)
			assert.matches("^sink raised", e) -- (with the traceback of the one protected call)
			assert.equal("file", io.type(f)) -- not closed behind the caller's back
			assert(f:write("still mine"))
			f:close()
			assert.equal("still mine", read_file(path))
			assert(p:command("AT")) -- the port answers the next command
		end)
	end)
end)
