-- Packaging: the stripped module and a build without readline.
local sim = require "support.sim"
local cli = require "support.cli"

local q = sim.q
local top = cli.top

local function make(args)
	return sim.sh("cd " .. q(top) .. " && make --no-print-directory " .. args .. " 2>&1")
end

-- No .symtab left (the dynamic symbols, .dynsym, stay).
local function stripped(so)
	local out = sim.sh("readelf -S " .. q(so) .. " 2>&1")
	assert.truthy(out:find(".dynsym", 1, true), out)
	return not out:find(".symtab", 1, true)
end

describe("make install strips the module", function()
	local dest

	before_each(function() dest = sim.tmpdir() end)
	after_each(function() os.execute("rm -rf " .. q(dest)) end)

	it("(strip --strip-unneeded), unless DEB_BUILD_OPTIONS=nostrip", function()
		local out, ok = make("install PREFIX=/usr DESTDIR=" .. q(dest))
		assert.is_true(ok, out)
		assert.is_true(stripped(dest .. "/usr/lib/lua/5.4/modemftp/core.so"))
		if sim.read(top .. "/build/lib/modemftp/readline.so") then
			assert.is_true(stripped(dest .. "/usr/lib/lua/5.4/modemftp/readline.so"))
		end
		os.execute("rm -rf " .. q(dest) .. "/usr")
		out, ok = make("install PREFIX=/usr DEB_BUILD_OPTIONS=nostrip DESTDIR=" .. q(dest))
		assert.is_true(ok, out)
		assert.is_false(stripped(dest .. "/usr/lib/lua/5.4/modemftp/core.so"))
	end)
end)

describe("a build without readline", function()
	it("skips readline.so when its header is missing, installs, and the console reads plain lines", function()
		local dir = sim.tmpdir()
		-- a compiler that has no <readline/readline.h>, as without libreadline-dev
		sim.write(dir .. "/cc", '#!/bin/sh\nif [ "$1" = -E ]; then grep -q readline/readline.h && exit 1; fi\nexec cc "$@"\n')
		os.execute("chmod +x " .. q(dir .. "/cc"))
		local b = dir .. "/build"
		local out, ok = make(string.format("runtime B=%s CC=%s", q(b), q(dir .. "/cc")))
		assert.is_true(ok, out)
		assert.truthy(sim.read(b .. "/lib/modemftp/core.so"))
		assert.is_nil(sim.read(b .. "/lib/modemftp/readline.so"))
		out, ok = make(string.format("install B=%s CC=%s PREFIX=/usr DESTDIR=%s", q(b), q(dir .. "/cc"), q(dir .. "/d")))
		assert.is_true(ok, out)
		assert.truthy(sim.read(dir .. "/d/usr/lib/lua/5.4/modemftp/core.so"))
		assert.is_nil(sim.read(dir .. "/d/usr/lib/lua/5.4/modemftp/readline.so"))
		-- the console on a terminal, with that build: lines without readline (no history kept)
		local json = require "modemftp.json"
		local pok, pout = cli.pty(json.encode {
			{ "expect", "modemftp> ", 10 }, { "send", "1+1\n" }, { "expect", "\n2\r?\n", 5 },
			{ "send", "quit()\n" },
		}, { "console", "--no-modem" }, { env = { MODEMFTP_BUILD = b, LUA_CPATH = ";;", -- that build's modules only
			MODEMFTP_HISTORY = dir .. "/history", HOME = dir } })
		assert.is_true(pok, pout)
		assert.truthy(pout:match("\nexit 0\n?$"), pout)
		assert.is_nil(sim.read(dir .. "/history"), "readline would have written the history")
		os.execute("rm -rf " .. q(dir))
	end)
end)

