-- make install PREFIX=... DESTDIR=... puts the module, the Lua files, the
-- command, the jobs and the man page where Debian's lua5.4 finds them.
local sim = require "support.sim"

describe("make install", function()
	it("installs a tree that runs without the source", function()
		local dest = sim.tmpdir()
		local out, ok = sim.sh(string.format("make --no-print-directory install PREFIX=/usr DESTDIR=%s 2>&1", sim.q(dest)))
		assert.is_true(ok, out)
		for _, f in ipairs {
			"/usr/lib/lua/5.4/modemftp/core.so", "/usr/lib/lua/5.4/modemftp/readline.so",
			"/usr/share/lua/5.4/modemftp/init.lua", "/usr/share/lua/5.4/modemftp/session.lua",
			"/usr/share/lua/5.4/modemftp/cli.lua", "/usr/bin/modemftp", "/usr/share/man/man1/modemftp.1",
			"/usr/share/modemftp/jobs/upload-logs.lua",
		} do
			assert.is_truthy(sim.read(dest .. f), "missing " .. f)
		end
		assert.is_nil(sim.read(dest .. "/usr/bin/ec20sim"), "the simulator is not part of the runtime")
		local cmd = sim.read(dest .. "/usr/bin/modemftp")
		assert.is_nil(cmd:find("DEV-PATHS", 1, true), "the source-tree path block is stripped")
		-- run the installed command against the installed modules only
		local run = string.format("cd / && env LUA_PATH=%s LUA_CPATH=%s lua5.4 %s --help 2>&1",
			sim.q(dest .. "/usr/share/lua/5.4/?.lua;" .. dest .. "/usr/share/lua/5.4/?/init.lua"),
			sim.q(dest .. "/usr/lib/lua/5.4/?.so"), sim.q(dest .. "/usr/bin/modemftp"))
		local help, rok = sim.sh(run)
		assert.is_true(rok, help)
		assert.matches("usage: modemftp", help)
		os.execute("rm -rf " .. sim.q(dest))
	end)

	it("installs the simulator only when asked (make install-sim)", function()
		local dest = sim.tmpdir()
		local out, ok = sim.sh(string.format("make --no-print-directory install-sim PREFIX=/usr DESTDIR=%s 2>&1", sim.q(dest)))
		assert.is_true(ok, out)
		local help = sim.sh(sim.q(dest .. "/usr/bin/ec20sim") .. " --help 2>&1")
		assert.matches("ec20sim", help)
		os.execute("rm -rf " .. sim.q(dest))
	end)
end)
