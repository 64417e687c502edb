-- Packaging: `make install`'s system files (the configuration, the cron
-- file, the logrotate snippet, the systemd units: checked by
-- systemd-analyze verify), the stripped module, a build without readline,
-- the rockspec (`luarocks make` from a copy of the checkout), and the
-- .busted file (plain `busted` from the checkout).
local sim = require "support.sim"
local cli = require "support.cli"
local core = require "modemftp.core"
local config = require "modemftp.config"
local options = require "modemftp.options"

local q = sim.q
local top = cli.top

-- A command's environment with nothing of the test run's: no module paths,
-- no sanitizer preload or Lua init (the ASan run's), no build override.
local CLEAN = "env -u LUA_PATH -u LUA_CPATH -u LD_PRELOAD -u LUA_INIT_5_4 -u MODEMFTP_SPEC_INIT -u MODEMFTP_BUILD "

local function have(cmd)
	return sim.sh("command -v " .. cmd .. " >/dev/null 2>&1 && echo yes") == "yes\n"
end

local function make(args)
	return sim.sh("cd " .. q(top) .. " && make --no-print-directory " .. args .. " 2>&1")
end

local function mode(path)
	return (sim.sh("stat -c %a " .. q(path) .. " 2>&1"):gsub("%s+$", ""))
end

-- No .symtab left (the dynamic symbols, .dynsym, stay).
local function stripped(so)
	local out = sim.sh("readelf -S " .. q(so) .. " 2>&1")
	assert.truthy(out:find(".dynsym", 1, true), out)
	return not out:find(".symtab", 1, true)
end

-- A systemd unit's settings: key -> list of values (continuation lines joined).
local function unit(text)
	local out = {}
	for line in text:gsub("\\\n%s*", " "):gmatch("[^\n]+") do
		local k, v = line:match("^(%w+)=(.*)$")
		if k then
			out[k] = out[k] or {}
			table.insert(out[k], v)
		end
	end
	return out
end

-- The words of a command line (no quoting in these files).
local function words(s)
	local out = {}
	for w in s:gmatch("%S+") do out[#out + 1] = w end
	return out
end

-- `modemftp run` arguments: every option known, a job file as the operand.
local function check_run_args(argv)
	local opts, operands = options.parse("run", argv, true)
	assert.is_table(opts, tostring(operands))
	assert.truthy(operands[1] and operands[1]:match("%.lua$"), table.concat(argv, " "))
	return opts, operands
end

describe("make install: the system's files", function()
	local dest

	before_each(function() dest = sim.tmpdir() end)
	after_each(function() os.execute("rm -rf " .. q(dest)) end)

	it("puts the configuration (0600, inert), cron, logrotate and systemd files in place; strips the module", function()
		local out, ok = make("install PREFIX=/usr DESTDIR=" .. q(dest))
		assert.is_true(ok, out)
		-- the configuration: mode 0600, every key commented out, each one a key modemftp knows
		local conf = dest .. "/etc/modemftp/modemftp.conf"
		assert.equal("600", mode(conf))
		local text = sim.read(conf)
		assert.same({}, assert(config.parse(text, conf)))
		local set = assert(config.parse(text:gsub("\n#(%w[%w_]* =)", "\n%1"), conf))
		assert.truthy(set.port and set.host and set.password and set.max_temp_failures and set.metrics)
		for k in pairs(set) do assert.is_string(config.TYPES[k], "unknown key " .. k) end
		assert.equal("/etc/modemftp/modemftp.conf",
			sim.read(dest .. "/usr/share/lua/5.4/modemftp/config.lua"):match('\nM%.SYSCONF = "([^"]+)"'))
		-- the cron file: a name cron reads (no dot), its job line a valid run of the installed command
		local cron = assert(sim.read(dest .. "/etc/cron.d/modemftp"), "no /etc/cron.d/modemftp")
		local entry
		for line in cron:gmatch("[^\n]+") do
			local e = line:match("^#(%*/%d+ .*)$")
			if e then entry = e
			else assert.truthy(line:match("^#") or line:match("^%u+=%S*$"), "an active cron line: " .. line) end
		end
		assert.truthy(entry, "no job line (commented out) in the cron file")
		local w = words(entry)
		assert.equal(5, #table.move(w, 1, 5, 1, {}))
		assert.same({ "root", "/usr/bin/modemftp", "run" }, { w[6], w[7], w[8] })
		local opts, operands = check_run_args(table.move(w, 9, #w, 1, {}))
		assert.truthy(sim.read(dest .. operands[1]), "the cron job's file " .. operands[1])
		assert.truthy(tonumber(opts.max_temp_failures) > 0)
		-- the logrotate snippet rotates the log the cron job writes
		local rot = assert(sim.read(dest .. "/etc/logrotate.d/modemftp"))
		local logdir = opts.log:match("^(.*)/[^/]+$")
		assert.truthy(rot:find("\n" .. logdir .. "/*.log {", 1, true), rot)
		assert.equal("750", mode(dest .. logdir))
		assert.equal("755", mode(dest .. opts.state_dir))
		-- the units: a user, the dialout group, the modem's device, a bounded failure policy
		for _, name in ipairs { "modemftp-upload@.service", "modemftp-upload@.timer" } do
			assert.truthy(sim.read(dest .. "/usr/lib/systemd/system/" .. name), name)
		end
		local u = unit(sim.read(dest .. "/usr/lib/systemd/system/modemftp-upload@.service"))
		assert.same({ "modemftp" }, u.User)
		assert.same({ "dialout" }, u.SupplementaryGroups)
		assert.same({ "dev-%i.device" }, u.BindsTo)
		assert.truthy(u.After[1]:find("dev-%i.device", 1, true))
		assert.same({ "modemftp.conf:/etc/modemftp/modemftp.conf" }, u.LoadCredential)
		local exec = words(u.ExecStart[1])
		assert.same({ "/usr/bin/modemftp", "run" }, { exec[1], exec[2] })
		opts = check_run_args(table.move(exec, 3, #exec, 1, {}))
		local success = " " .. u.SuccessExitStatus[1] .. " "
		if success:find(" 73 ", 1, true) or success:find(" 75 ", 1, true) then
			assert.truthy(tonumber(opts.max_temp_failures) > 0, "73/75 count as success only with a bound")
		end
		assert.is_nil(success:find(" 69 ", 1, true), "the bound's status fails the unit")
		assert.equal("/dev/%I", opts.port)
		-- the module, stripped
		assert.is_true(stripped(dest .. "/usr/lib/lua/5.4/modemftp/core.so"))
		if sim.read(top .. "/build/lib/modemftp/readline.so") then
			assert.is_true(stripped(dest .. "/usr/lib/lua/5.4/modemftp/readline.so"))
		end
	end)

	it("never replaces the admin's configuration, cron or logrotate file; uninstall keeps the configuration", function()
		local out, ok = make("install PREFIX=/usr DESTDIR=" .. q(dest))
		assert.is_true(ok, out)
		local conf, cron, rot = dest .. "/etc/modemftp/modemftp.conf", dest .. "/etc/cron.d/modemftp",
			dest .. "/etc/logrotate.d/modemftp"
		local service = dest .. "/usr/lib/systemd/system/modemftp-upload@.service"
		local vendor = sim.read(service)
		for _, f in ipairs { conf, cron, rot, service } do sim.write(f, "edited\n") end
		out, ok = make("install PREFIX=/usr DESTDIR=" .. q(dest))
		assert.is_true(ok, out)
		for _, f in ipairs { conf, cron, rot } do
			assert.equal("edited\n", sim.read(f))
			assert.truthy(out:find("keeping " .. f, 1, true), out)
		end
		assert.equal("600", mode(conf))
		assert.equal(vendor, sim.read(service), "a unit is the vendor's: replaced")
		assert.truthy(sim.read(dest .. "/usr/share/doc/modemftp/examples/cron.d/modemftp"):find("modemftp run", 1, true))
		out, ok = make("uninstall PREFIX=/usr DESTDIR=" .. q(dest))
		assert.is_true(ok, out)
		assert.equal("edited\n", sim.read(conf))
		assert.truthy(out:find("kept " .. conf, 1, true), out)
		for _, f in ipairs { cron, rot, service, dest .. "/usr/bin/modemftp", dest .. "/usr/lib/lua/5.4/modemftp/core.so" } do
			assert.is_nil(sim.read(f), f)
		end
	end)

	it("keeps the symbols with DEB_BUILD_OPTIONS=nostrip", function()
		local out, ok = make("install-runtime PREFIX=/usr DEB_BUILD_OPTIONS=nostrip DESTDIR=" .. q(dest))
		assert.is_true(ok, out)
		assert.is_false(stripped(dest .. "/usr/lib/lua/5.4/modemftp/core.so"))
	end)
end)

describe("an installed tree", function()
	local dest, prefix

	setup(function()
		dest = sim.tmpdir()
		prefix = dest .. "/usr"
		local out, ok = make(string.format("install PREFIX=%s CRONDIR=%s LOGROTATEDIR=%s STATEDIR=%s LOGDIR=%s",
			q(prefix), q(dest .. "/cron.d"), q(dest .. "/logrotate.d"), q(dest .. "/lib"), q(dest .. "/log")))
		assert(ok, out)
	end)
	teardown(function() os.execute("rm -rf " .. q(dest)) end)

	it("reads the configuration make install put in place", function()
		local conf = prefix .. "/etc/modemftp/modemftp.conf" -- PREFIX/etc when PREFIX is not /usr
		assert.equal("600", mode(conf))
		cli.transcript(dest .. "/t.tx", "")
		sim.write(conf, sim.read(conf) .. "port = replay:" .. dest .. "/t.tx\nhost = from.installed.conf\n")
		sim.write(dest .. "/job.lua", "local m, a, job = ... ; io.stdout:write(job.conf.host, '\\n') ; return true")
		local cmd = string.format("cd / && %s HOME=%s XDG_CONFIG_HOME=%s LUA_PATH=%s LUA_CPATH=%s lua5.4 %s run --lock-dir %s %s 2>&1",
			CLEAN, q(dest), q(dest), q(prefix .. "/share/lua/5.4/?.lua;" .. prefix .. "/share/lua/5.4/?/init.lua"),
			q(prefix .. "/lib/lua/5.4/?.so"), q(prefix .. "/bin/modemftp"), q(dest), q(dest .. "/job.lua"))
		local out, ok = sim.sh(cmd)
		assert.is_true(ok, out)
		assert.truthy(out:find("from.installed.conf\n", 1, true), out)
	end)

	it("has systemd units that systemd-analyze verify accepts", function()
		if not have("systemd-analyze") then
			pending("systemd-analyze is not installed (Debian package systemd): the units were NOT verified")
			return
		end
		-- an instance of each template, as `systemctl enable modemftp-upload@ttyUSB2.timer` makes
		local units = prefix .. "/lib/systemd/system/"
		local v = dest .. "/verify/"
		os.execute("mkdir -p " .. q(v))
		for _, ext in ipairs { "service", "timer" } do
			sim.write(v .. "modemftp-upload@ttyUSB2." .. ext, assert(sim.read(units .. "modemftp-upload@." .. ext)))
		end
		assert.truthy(sim.read(v .. "modemftp-upload@ttyUSB2.service"):find("ExecStart=" .. prefix .. "/bin/modemftp", 1, true))
		-- MANPATH: Documentation=man:modemftp(1) is checked against the installed page
		local out, ok = sim.sh(string.format("%s MANPATH=%s systemd-analyze verify %s %s 2>&1", CLEAN,
			q(prefix .. "/share/man"), q(v .. "modemftp-upload@ttyUSB2.service"), q(v .. "modemftp-upload@ttyUSB2.timer")))
		assert.is_true(ok, out)
		assert.equal("", out)
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
		out, ok = make(string.format("install-runtime B=%s CC=%s PREFIX=/usr DESTDIR=%s", q(b), q(dir .. "/cc"), q(dir .. "/d")))
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

describe("the rockspec", function()
	local rockspec

	setup(function()
		local name = sim.sh("cd " .. q(top) .. " && ls modemftp-*.rockspec"):gsub("%s+$", "")
		rockspec = name
	end)

	it("is named for the core's version", function()
		assert.equal("modemftp-" .. core.version .. "-1.rockspec", rockspec)
		local text = sim.read(top .. "/" .. rockspec)
		assert.truthy(text:find('\nversion = "' .. core.version .. '-1"', 1, true))
		assert.truthy(text:find('type = "make"', 1, true))
	end)

	it("builds and installs with `luarocks make` from a fresh copy of the checkout", function()
		if not have("luarocks") then
			pending("luarocks is not installed (Debian package luarocks, which scripts/install-deps installs): NOT tried")
			return
		end
		local dir = sim.tmpdir()
		local src, tree = dir .. "/src", dir .. "/tree"
		-- what a clone has: the files git knows (no build/), else the folders that make one
		local list = "git ls-files -co --exclude-standard 2>/dev/null | grep . || find Makefile *.rockspec README.md src lua scripts spec -type f"
		local out, ok = sim.sh(string.format("mkdir -p %s && cd %s && { %s; } | tar -cf - -T - | tar -xf - -C %s 2>&1",
			q(src), q(top), list, q(src)))
		assert.is_true(ok, out)
		assert.is_nil(sim.read(src .. "/build/lib/modemftp/core.so"))
		local t0 = core.monotonic_ms()
		-- --lua-dir: the system's Lua 5.4, not a lua5.4 earlier on PATH (the ASan run's wrapper)
		out, ok = sim.sh(string.format("cd %s && %s luarocks --lua-version 5.4 --lua-dir /usr make --tree %s %s 2>&1",
			q(src), CLEAN, q(tree), q(rockspec)))
		assert.is_true(ok, out)
		assert.truthy(core.monotonic_ms() - t0 < 60000, "luarocks make took over a minute")
		assert.is_true(stripped(tree .. "/lib/lua/5.4/modemftp/core.so"))
		for _, f in ipairs { "init.lua", "runner.lua", "metrics.lua", "cli.lua" } do
			assert.truthy(sim.read(tree .. "/share/lua/5.4/modemftp/" .. f), f)
		end
		-- the command luarocks wraps finds the tree's modules, from anywhere
		local v
		v, ok = sim.sh("cd / && " .. CLEAN .. q(tree .. "/bin/modemftp") .. " --version 2>&1")
		assert.is_true(ok, v)
		assert.equal("modemftp " .. core.version .. "\n", v)
		-- the developers' build/ is not where luarocks builds
		assert.truthy(sim.read(src .. "/build/luarocks/lib/modemftp/core.so"))
		os.execute("rm -rf " .. q(dir))
	end)
end)

describe(".busted", function()
	it("lets plain `busted` from the checkout run the specs", function()
		assert.truthy(sim.read(top .. "/build/lib/modemftp/core.so"), "build/ has no core.so (make runtime)")
		local out, ok = sim.sh("cd " .. q(top) .. " && " .. CLEAN .. "-u EC20SIM busted -o TAP spec/command_pieces_spec.lua 2>&1")
		assert.is_true(ok, out)
		assert.truthy(out:match("\nok %d+ "), out)
		assert.is_nil(out:find("not ok", 1, true), out)
	end)
end)
