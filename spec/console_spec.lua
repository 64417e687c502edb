-- `modemftp console` driven through a pty (spec/support/ptydrive.py): type
-- a line, read the answer (expect patterns are Python regexes); completion; Ctrl-C at the prompt, in Lua code
-- and during a transfer keeps the console alive.
local sim = require "support.sim"
local cli = require "support.cli"
local console = require "modemftp.console"

local function json_steps(steps)
	return require("modemftp.json").encode(steps)
end

describe("console pieces", function()
	it("pretty-prints values, nested tables, cycles and errors", function()
		local t = { 1, "two", x = { y = true } }
		t.self = t
		local text = console.pretty(t)
		assert.equal('{ 1, "two", self = <cycle>, x = { y = true } }', text)
		assert.equal('"a\\nb"', console.pretty("a\nb"))
		assert.equal("error: put a: timeout",
			console.pretty(require("modemftp.errors").new { op = "put", target = "a", name = "timeout" }))
		local long = {}
		for i = 1, 30 do long[i] = "item" .. i end
		assert.truthy(console.pretty(long):match("^{\n  \"item1\",\n"))
	end)

	it("completes globals, fields and methods", function()
		local env = setmetatable({ m = setmetatable({}, { __index = { at = print, pdp = print, close = print } }) },
			{ __index = _G })
		assert.same({ "at" }, console.complete(env, "a", "m:a", 2))
		assert.same({ "upper" }, console.complete(env, "up", "string.up", 7))
		assert.truthy(#console.complete(env, "pri", "pri", 0) >= 1)
	end)

	it("completes public names only: no _private fields, no metatable internals", function()
		local Session = { __index = nil, __name = "x", _alive = print, _limits = print, put = print, get = print }
		Session.__index = Session
		local env = setmetatable({ s = setmetatable({ host = "h", _secret_state = 1 }, Session) }, { __index = _G })
		assert.same({ "get", "host", "put" }, console.complete(env, "", "s.", 2))
		assert.same({ "get", "put" }, console.complete(env, "", "s:", 2))
		-- typed "_": the private names are what is asked for
		assert.same({ "_alive", "_limits", "_secret_state" }, console.complete(env, "_", "s._", 2))
		for _, name in ipairs(console.complete(env, "", "", 0)) do
			assert.is_nil(name:match("^_"), name)
		end
		assert.truthy(#console.complete(env, "_", "_", 0) >= 2) -- _G, _VERSION
	end)

	it("fits the progress line into the terminal's width, asked at each redraw", function()
		local now, width = 0, 80
		local buf = {}
		local out = { write = function(_, ...) for _, x in ipairs { ... } do buf[#buf + 1] = x end end, flush = function() end }
		local update, finish = console.progress { out = out, tty = true, label = "get firmware-v2.bin",
			now = function() return now end, width = function() return width end }
		local function last_line()
			local text = table.concat(buf)
			buf = {}
			return text:match("\r\27%[K([^\r\n]*)\n?$")
		end
		now = 1000
		for _, w in ipairs { 80, 50, 40, 30, 20, 12 } do
			width = w
			update(300 * 1024, 1000 * 1024)
			local line = last_line()
			assert.truthy(#line <= w - 1, w .. ": " .. line)
			if w == 80 then assert.matches("^get firmware%-v2%.bin  %[#+%.+%]   30%%  300%.0 KiB  300%.0 KiB/s  ETA 0:02$", line) end
			if w <= 50 then assert.is_nil(line:find("/s", 1, true), line) end -- the rate went first
			if w >= 30 then assert.truthy(line:find("30%", 1, true), line) end
			if w <= 30 then assert.is_nil(line:find("[", 1, true)) end -- no room for a bar
		end
		width = 40
		finish(false)
		local line = last_line()
		assert.truthy(#line <= 39 and line:match("%(failed%)$"), line)
	end)

	it("draws a progress line with rate and ETA, or plain lines", function()
		local now = 0
		local buf = {}
		local out = { write = function(_, ...) for _, s in ipairs { ... } do buf[#buf + 1] = s end end, flush = function() end }
		local update, finish = console.progress { out = out, tty = true, label = "put a", now = function() return now end,
			width = function() return 80 end }
		now = 1000
		update(50 * 1024, 100 * 1024)
		local text = table.concat(buf)
		assert.truthy(text:match("put a  %[##########%.%.%.%.%.%.%.%.%.%.%]   50%%  50%.0 KiB  50%.0 KiB/s  ETA 0:01"))
		finish(true)
		buf = {}
		update, finish = console.progress { out = out, tty = false, label = "get b", now = function() return now end }
		now = 4000
		update(1000, nil)
		finish(true)
		assert.truthy(table.concat(buf):match("get b: 1000 bytes in 3.0 s"))
	end)
end)

describe("modemftp console on a pty", function()
	it("evaluates, completes, and survives Ctrl-C at the prompt and in Lua code", function()
		local ok, out = cli.pty(json_steps {
			{ "expect", "modemftp> ", 10 },
			{ "send", "1+1\n" }, { "expect", "\n2\r?\n", 5 },
			{ "send", "{a=1, b={2,3}}\n" }, { "expect", "\\{ a = 1, b = \\{ 2, 3 \\} \\}", 5 },
			{ "send", "string.up\t" }, { "expect", "upper", 5 }, { "send", "('ab')\n" }, { "expect", '"AB"', 5 },
			{ "send", "for i = 1, 2 do\n" }, { "expect", ">> ", 5 }, { "send", "print(i * 10) end\n" },
			-- Ctrl-C at the (fresh) prompt: a new prompt
			{ "expect", "20\r?\nmodemftp> ", 5 }, { "send", "\3" }, { "expect", "\r?\nmodemftp> ", 5 },
			-- Ctrl-C once the loop runs (it printed): interrupted
			{ "send", "print('sp' .. 'in') while true do end\n" }, { "expect", "\nspin\r?\n", 10 },
			{ "send", "\3" }, { "expect", "interrupted", 10 },
			-- typed ahead (also the Ctrl-D after the last step): not lost
			{ "send", "6*7\n" }, { "expect", "42", 5 },
		}, { "console", "--no-modem" }, { env = { MODEMFTP_HISTORY = os.tmpname() } })
		assert.is_true(ok, out)
		assert.truthy(out:match("exit 0\n$"), out)
	end)

	it("reads a pipe without prompts", function()
		local dir = sim.tmpdir()
		sim.write(dir .. "/in", "1+2\nreturn 'x', nil\n")
		local out = sim.sh(string.format("%s console --no-modem <%s 2>&1", sim.q(cli.bin), sim.q(dir .. "/in")))
		assert.equal('3\n"x"\tnil\n', out)
		os.execute("rm -rf " .. sim.q(dir))
	end)

	it("runs -e CODE, a SCRIPT or piped lines, and exits with the first failure's status", function()
		local dir = sim.tmpdir()
		local function run(argv, stdin)
			local words = {}
			for _, a in ipairs(argv) do words[#words + 1] = sim.q(a) end
			local cmd = string.format("%s console --no-modem %s <%s >%s 2>%s; echo $?", sim.q(cli.bin),
				table.concat(words, " "), sim.q(stdin or "/dev/null"), sim.q(dir .. "/out"), sim.q(dir .. "/err"))
			local code = tonumber((sim.sh(cmd)):match("(%d+)%s*$"))
			return code, sim.read(dir .. "/out") or "", sim.read(dir .. "/err") or ""
		end
		local code, out, err = run { "-e", "1 + 1" }
		assert.same({ 0, "2\n", "" }, { code, out, err })
		code, out, err = run { "-e", "error('boom')" }
		assert.same({ 1, "", "modemftp console: (command line):1: boom\n" }, { code, out, err })
		code, _, err = run { "-e", "1 +" }
		assert.equal(64, code, err)
		-- a script: arguments in ... and arg; `nil, err` as its results is a failure
		sim.write(dir .. "/s.lua", "local a, b = ...\nprint(a, b, arg[0] ~= nil)\n"
			.. "return nil, errors.new { op = 'size', name = 'timeout' }\n")
		code, out, err = run { dir .. "/s.lua", "x", "y" }
		assert.same({ 75, "x\ty\ttrue\n", "modemftp console: size: timeout\n" }, { code, out, err })
		code, _, err = run { dir .. "/missing.lua" }
		assert.equal(66, code, err)
		-- piped lines run one by one and stop at the first failure
		sim.write(dir .. "/in", "1 + 1\nlocal t = nil; return t.x\nprint('not reached')\n")
		code, out, err = run({}, dir .. "/in")
		assert.same({ 1, "2\n" }, { code, out })
		assert.matches("^modemftp console: console:1: attempt to index a nil value", err)
		os.execute("rm -rf " .. sim.q(dir))
	end)

	describe("with ec20sim", function()
		local h
		setup(function() h = sim.start { guard_ms = 100, args = "--baud 230400" } end)
		teardown(function() sim.stop(h) end)

		it("sends raw AT, logs in, shows progress, and Ctrl-C aborts a transfer only", function()
			sim.write(h.dir .. "/c.conf", cli.sim_conf(h))
			sim.make_file(h.root .. "/big.bin", 400000, 3)
			local ok, out = cli.pty(json_steps {
				{ "expect", "modemftp> ", 15 },
				{ "send", "at 'AT+CSQ'\n" }, { "expect", '\\{ "\\+CSQ: \\d+,\\d+" \\}', 10 },
				{ "send", "s = ftp()\n" }, { "expect", "modemftp> ", 15 },
				{ "send", "s:write('hello.txt', 'hello')\n" }, { "expect", "\n5\r?\n", 15 },
				{ "send", "s:get('big.bin', '" .. h.dir .. "/big.bin')\n" }, { "expect", "KiB/s  ETA", 15 },
				{ "send", "\3" }, { "expect", "interrupted, after \\d+ bytes", 15 }, { "expect", "modemftp> ", 15 },
				{ "send", "at 'AT'\n" }, { "expect", "\\{\\}", 10 },
				{ "send", "1+1\n" }, { "expect", "\n2\r?\n", 5 },
			}, { "console", "-c", h.dir .. "/c.conf", "--lock-dir", h.dir }, { env = { MODEMFTP_HISTORY = h.dir .. "/hist" } })
			assert.is_true(ok, out)
			assert.equal("hello", sim.read(h.root .. "/hello.txt"))
			assert.is_nil(out:find(h.password, 1, true))
		end)

		it("prints a URC at the idle prompt, fits the progress bar, and logs in again after a stopped download", function()
			sim.write(h.dir .. "/c.conf", cli.sim_conf(h))
			sim.make_file(h.root .. "/big2.bin", 400000, 4)
			local ok, out = cli.pty(json_steps {
				{ "expect", "modemftp> ", 15 },
				-- a URC a second from now, while the prompt waits with a half-typed line
				{ "send", "os.execute('(sleep 1; echo pdpdeact >" .. h.control .. ") &')\n" }, { "expect", "modemftp> ", 10 },
				{ "send", "m:ram_li" },
				{ "expect", 'urc: \\+QIURC: "pdpdeact",1\r?\n(\\S*\r)?modemftp> m:ram_li', 10 },
				-- the line is still there: Tab completes it, Enter runs it
				{ "send", "\t" }, { "expect", "st", 5 }, { "send", "()\n" }, { "expect", "\\{\\}\r?\nmodemftp> ", 10 },
				{ "send", "s = ftp()\n" }, { "expect", "modemftp> ", 15 },
				{ "send", "s:get('big2.bin', '" .. h.dir .. "/big2.bin')\n" }, { "expect", "ETA", 15 },
				{ "send", "\3" }, { "expect", "interrupted, after \\d+ bytes", 15 },
				{ "expect", "kept the module busy: logged out and in again", 15 }, { "expect", "modemftp> ", 15 },
				-- the same s works: no 603, no close and login by hand
				{ "send", "s:size('big2.bin')\n" }, { "expect", "\n400000\r?\nmodemftp> ", 15 },
			}, { "console", "-c", h.dir .. "/c.conf", "--lock-dir", h.dir },
				{ env = { MODEMFTP_HISTORY = h.dir .. "/hist", COLUMNS = "50" } })
			assert.is_true(ok, out)
			local drawn = 0
			for line in out:gmatch("\27%[K([^\r\n]*)") do
				line = line:gsub("%^C", "") -- the terminal's echo of Ctrl-C, not the console's
				if line:find("big2.bin", 1, true) then
					drawn = drawn + 1
					assert.truthy(#line <= 49, line)
				end
			end
			assert.truthy(drawn > 0, out)
		end)

		it("exits with the failure's status in -e mode", function()
			sim.write(h.dir .. "/c.conf", cli.sim_conf(h))
			os.execute("chmod 600 " .. h.dir .. "/c.conf") -- it holds a password: no warning
			local r = cli.run({ "console", "-c", h.dir .. "/c.conf", "--lock-dir", h.dir, "-e", "at 'AT+CSQ'" })
			assert.equal(0, r.code, r.stderr)
			assert.matches('^{ "%+CSQ: %d+,%d+" }\n$', r.stdout)
			r = cli.run({ "console", "-c", h.dir .. "/c.conf", "--lock-dir", h.dir, "-e", "s = ftp() return s:size('nothere')" })
			assert.equal(1, r.code)
			assert.matches("^modemftp console: size nothere: 627 .-550", r.stderr)
		end)
	end)
end)
