-- core.line_class: the Lua side of the one table of the module's own lines
-- (src/at/mf_lines.h); modem.lua and transfer.lua ask it, so do the C engine
-- and scanner, and no Lua module keeps a list of its own.
local core = require "modemftp.core"

describe("core.line_class", function()
	it("marks a reboot, a power-down and a lost PDP context", function()
		assert.same({ own = true, reboot = true, ends_transfer = true }, core.line_class("RDY"))
		assert.same({ own = true, reboot = true, ends_transfer = true }, core.line_class("POWERED DOWN"))
		assert.same({ own = true, pdp_lost = true }, core.line_class('+QIURC: "pdpdeact",1'))
	end)
	it("knows NO CARRIER ends data mode without being a URC", function()
		assert.same({ ends_transfer = true }, core.line_class("NO CARRIER"))
	end)
	it("answers an empty table for answers and payload", function()
		assert.same({}, core.line_class("OK"))
		assert.same({}, core.line_class("+CSQ: 20,99"))
		assert.same({}, core.line_class("RDY2"))
	end)
	it("raises on a wrong argument", function()
		assert.has_error(function() core.line_class(nil) end)
	end)
	it("is the only list: no Lua module spells the module's own lines in its code", function()
		local files = io.popen("ls lua/modemftp/*.lua lua/modemftp/*/*.lua 2>/dev/null")
		local n = 0
		for path in files:lines() do
			local f = assert(io.open(path, "rb"))
			-- code only: comments (and the rest of a line after a "--" in a string) removed
			local code = f:read("a"):gsub("%-%-[^\n]*", "")
			f:close()
			n = n + 1
			for _, line in ipairs { "RDY", "POWERED DOWN", '"pdpdeact"', '\\"pdpdeact\\"' } do
				assert.is_nil(code:find(line, 1, true), path .. " spells " .. line)
			end
		end
		files:close()
		assert.is_true(n > 10)
	end)
end)
