-- modemftp.util: the helpers written once (units, option tables, quoting).
local util = require "modemftp.util"
local helper = require "spec.helper_pure"

describe("modemftp.util", function()
	helper.module_hygiene(_ENV, "modemftp.util", "lua/modemftp/util.lua", function(u)
		u.ms(1.5)
		u.checkopts(nil, "x")
		u.merge({ a = 1 }, nil, { b = 2 })
		u.quote("a\n", "\\x%02x")
		u.getenv("HOME")
	end)

	it("converts seconds to whole milliseconds, rounded", function()
		assert.equal(1500, util.ms(1.5))
		assert.equal(1, util.ms(0.0006))
		assert.equal(0, util.ms(0))
		assert.equal("integer", math.type(util.ms(2)))
	end)

	it("takes nil or a table of options and raises for anything else, naming the function", function()
		local t = {}
		assert.equal(t, util.checkopts(t, "f"))
		assert.same({}, util.checkopts(nil, "f"))
		local function f(o) local r = util.checkopts(o, "f"); return r end
		local ok, msg = pcall(function() f(42) end)
		assert.is_false(ok)
		assert.matches("util_spec.lua:%d+: bad argument to 'f' %(table expected, got number%)$", msg)
	end)

	it("merges tables into a new one, later wins, the inputs untouched", function()
		local a, b = { x = 1, y = 1 }, { y = 2 }
		local c = util.merge(a, nil, b)
		assert.same({ x = 1, y = 2 }, c)
		assert.same({ x = 1, y = 1 }, a)
	end)

	it("quotes strings, control bytes in the caller's form", function()
		assert.equal('"a\\"b\\\\c\\n\\r\\t"', util.quote('a"b\\c\n\r\t', "\\x%02x"))
		assert.equal('"\\u0001"', util.quote("\1", "\\u%04x"))
		assert.equal('"\\x1b"', util.quote("\27", "\\x%02x"))
	end)
end)
