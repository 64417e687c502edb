-- The command's small modules: their contracts (hygiene, documentation)
-- and the dispatcher's common verb handling, in-process.
local helper = require "spec.helper_pure"
local json = require "modemftp.json"
local exitstatus = require "modemftp.exitstatus"

describe("modemftp.json", function()
	helper.module_hygiene(_ENV, "modemftp.json", "lua/modemftp/json.lua", function(j)
		j.encode { 1, { a = true }, "x", 0.5 }
	end)

	it("writes arrays, sorted objects, escapes, and null for what JSON lacks", function()
		assert.equal('[1,"a\\u0001",{"x":null}]', json.encode { 1, "a\1", { x = 0 / 0 } })
		assert.equal('{"1":"a","b":2}', json.encode { "a", b = 2 })
		assert.equal("{}", json.encode {})
	end)
end)

describe("modemftp.exitstatus", function()
	helper.module_hygiene(_ENV, "modemftp.exitstatus", "lua/modemftp/exitstatus.lua", function(x)
		x.of(nil)
	end)

	it("names a --json result for every status", function()
		for name, code in pairs(exitstatus.EXIT) do
			assert.is_string(exitstatus.RESULT[code], name)
		end
	end)
end)

describe("modemftp.help", function()
	helper.module_hygiene(_ENV, "modemftp.help", "lua/modemftp/help.lua", function(h)
		h.text("run")
	end)
end)

describe("modemftp.cli dispatcher", function()
	local cli = require "modemftp.cli"

	-- Run main with stdout and stderr captured.
	local function main(argv)
		local out, err = {}, {}
		local so, se = io.stdout, io.stderr
		local function sink(t) return { write = function(self, ...) for _, s in ipairs { ... } do t[#t + 1] = s end return self end } end
		io.stdout, io.stderr = sink(out), sink(err)
		local ok, code = pcall(cli.main, argv)
		io.stdout, io.stderr = so, se
		assert(ok, code)
		return code, table.concat(out), table.concat(err)
	end

	it("prints a verb's help, and refuses a bad command line before the verb runs", function()
		local ran
		local saved = cli.verbs.ports
		cli.verbs.ports = { fn = function() ran = true; return 0 end }
		local code, out = main { "ports", "--help", "extra" }
		assert.same({ 0, true }, { code, out:find("usage: modemftp ports", 1, true) ~= nil })
		local err
		code, out, err = main { "ports", "extra" }
		assert.same({ 64, "", "modemftp ports: unexpected argument extra\n" }, { code, out, err })
		code, _, err = main { "ports", "--nope" }
		assert.same({ 64, "modemftp ports: unknown option --nope\n" }, { code, err })
		assert.is_nil(ran)
		assert.equal(0, main { "ports", "--json" })
		assert.is_true(ran)
		cli.verbs.ports = saved
	end)

	it("says an internal error with its traceback, exit 70", function()
		local saved = cli.verbs.ports
		cli.verbs.ports = { fn = function() error("boom") end }
		local code, _, err = main { "ports" }
		cli.verbs.ports = saved
		assert.equal(70, code)
		assert.truthy(err:match("^modemftp: internal error: .*boom\nstack traceback"))
	end)
end)
