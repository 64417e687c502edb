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

	it("draws a progress line with rate and ETA, or plain lines", function()
		local now = 0
		local buf = {}
		local out = { write = function(_, ...) for _, s in ipairs { ... } do buf[#buf + 1] = s end end, flush = function() end }
		local update, finish = console.progress { out = out, tty = true, label = "put a", now = function() return now end }
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
	end)
end)
