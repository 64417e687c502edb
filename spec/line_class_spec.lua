-- core.line_class: the Lua side of the one table of the module's own lines
-- (src/at/mf_lines.h); modem.lua asks it, so do the C engine and scanner.
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
end)
