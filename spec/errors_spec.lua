-- Specs for modemftp.errors: the one failure helper.
local errors = require "modemftp.errors"
local helper = require "spec.helper_pure"

-- Chapter 4 of the EC20 FTP manual, verbatim.
local CHAPTER4 = {
	[601] = "Unknown error",
	[602] = "FTP service would block",
	[603] = "FTP service busy",
	[604] = "DNS parse fails",
	[605] = "Network error",
	[606] = "Control connection closed.",
	[607] = "Data connection closed",
	[608] = "Socket closed by peer",
	[609] = "Timeout error",
	[610] = "Invalid parameter",
	[611] = "Fail to open file",
	[612] = "File position invalid",
	[613] = "File error",
	[614] = "Service not available, closing control connection",
	[615] = "Open data connection fails",
	[616] = "Connection closed; transfer aborted",
	[617] = "Requested file action not taken",
	[618] = "Requested action aborted: local error in processing",
	[619] = "Requested action not taken: insufficient system storage",
	[620] = "Syntax error, command unrecognized",
	[621] = "Syntax error in parameters or arguments",
	[622] = "Command not implemented",
	[623] = "Bad sequence of commands",
	[624] = "Command parameter not implemented",
	[625] = "Not logged in",
	[626] = "Need account for storing files",
	[627] = "Requested action not taken.",
	[628] = "Requested action aborted: page type unknown",
	[629] = "Requested file action aborted",
	[630] = "Requested file name invalid",
	[631] = "SSL auth fail",
}

local NAMES = {
	[601] = "unknown_error", [602] = "would_block", [603] = "service_busy",
	[604] = "dns_parse_fails", [605] = "network_error", [606] = "control_connection_closed",
	[607] = "data_connection_closed", [608] = "socket_closed_by_peer", [609] = "timeout",
	[610] = "invalid_parameter", [611] = "open_file_failed", [612] = "invalid_file_position",
	[613] = "file_error", [614] = "service_not_available", [615] = "data_connection_failed",
	[616] = "transfer_aborted", [617] = "file_action_not_taken", [618] = "local_error",
	[619] = "insufficient_storage", [620] = "syntax_error", [621] = "parameter_syntax_error",
	[622] = "command_not_implemented", [623] = "bad_command_sequence",
	[624] = "parameter_not_implemented", [625] = "not_logged_in", [626] = "need_account",
	[627] = "file_unavailable", [628] = "page_type_unknown", [629] = "storage_exceeded",
	[630] = "file_name_not_allowed", [631] = "ssl_auth_failed",
}

-- Chapter 5, verbatim.
local CHAPTER5 = {
	[421] = "Service not available, closing control connection",
	[425] = "Open data connection fails",
	[426] = "Connection closed; transfer aborted",
	[450] = "Requested file action not taken",
	[451] = "Requested action aborted: local error in processing",
	[452] = "Requested action not taken: insufficient system storage",
	[500] = "Syntax error, command unrecognized",
	[501] = "Syntax error in parameters or arguments",
	[502] = "Command not implemented",
	[503] = "Bad sequence of commands",
	[504] = "Command parameter not implemented",
	[530] = "Not logged in",
	[532] = "Need account for storing files",
	[550] = "Requested action not taken. File unavailable",
	[551] = "Requested action aborted: page type unknown",
	[552] = "Requested file action aborted. Exceeded storage allocation",
	[553] = "Requested action not taken. File name not allowed",
}

-- The retry rule for codes alone (see the module comment).
local RETRY = {}
for n = 601, 631 do RETRY[n] = false end
for _, n in ipairs { 602, 603, 604, 605, 606, 607, 608, 609, 614, 615, 616, 617, 618, 619 } do
	RETRY[n] = true
end

describe("modemftp.errors", function()
	helper.module_hygiene(_ENV, "modemftp.errors", "lua/modemftp/errors.lua", function(m)
		tostring(m.from_core("x", { kind = "modem", final = "+CME ERROR: 610" }))
		tostring(m.from_result("x", 625, 530, { target = "t", bytes = 3 }))
	end)

	describe("codes (chapter 4)", function()
		it("has every code 601-631 and nothing else", function()
			local n = 0
			for k in pairs(errors.codes) do
				n = n + 1
				assert.is_true(k >= 601 and k <= 631, "unexpected code " .. tostring(k))
			end
			assert.equal(31, n)
		end)

		for code = 601, 631 do
			it(code .. " is named " .. NAMES[code] .. " with the manual's wording", function()
				local c = errors.codes[code]
				assert.is_table(c)
				assert.equal(NAMES[code], c.name)
				assert.matches("^[a-z][a-z0-9_]*$", c.name)
				assert.equal((CHAPTER4[code]:gsub("%.$", "")), c.message)
				local e = errors.from_result("op", code, 0)
				assert.equal(code, e.code)
				assert.equal(NAMES[code], e.name)
				assert.equal(c.message, e.message)
				assert.equal(RETRY[code], e.retryable)
				assert.is_nil(e.protocol_error)
				assert.equal(code, errors.by_name[c.name])
			end)
		end

		it("names are unique", function()
			local seen = {}
			for code, c in pairs(errors.codes) do
				assert.is_nil(seen[c.name], "duplicate name " .. c.name)
				seen[c.name] = code
			end
		end)

		it("614-630 mirror the chapter 5 codes in order", function()
			local ftp = { 421, 425, 426, 450, 451, 452, 500, 501, 502, 503, 504, 530, 532, 550, 551, 552, 553 }
			for i, f in ipairs(ftp) do
				assert.equal(f, errors.codes[613 + i].ftp)
			end
			for _, n in ipairs { 601, 602, 603, 604, 605, 606, 607, 608, 609, 610, 611, 612, 613, 631 } do
				assert.is_nil(errors.codes[n].ftp)
			end
		end)
	end)

	describe("ftp_codes (chapter 5)", function()
		it("has exactly the chapter 5 codes with the manual's wording", function()
			assert.same(CHAPTER5, errors.ftp_codes)
		end)

		for code, text in pairs(CHAPTER5) do
			it("FTP " .. code .. " alone is named and classed", function()
				local e = errors.from_result("cwd", 0, code)
				assert.is_nil(e.code)
				assert.equal(code, e.protocol_error)
				-- Named after the EC20 code that mirrors it.
				local mirror
				for n, c in pairs(errors.codes) do if c.ftp == code then mirror = n end end
				assert.equal(errors.codes[mirror].name, e.name)
				assert.equal(text, e.message)
				assert.equal(code < 500, e.retryable)
				assert.equal("cwd: FTP " .. code .. " " .. text, tostring(e))
			end)
		end

		it("an FTP reply outside chapter 5 is ftp_error", function()
			local e = errors.from_result("open", 0, 534)
			assert.equal("ftp_error", e.name)
			assert.equal(534, e.protocol_error)
			assert.is_false(e.retryable)
			assert.equal("FTP reply", e.message)
			assert.is_true(errors.from_result("open", 0, 499).retryable)
		end)
	end)

	describe("new", function()
		it("builds an error object with defaults", function()
			local e = errors.new { code = 625, protocol_error = 530, op = "open" }
			assert.is_true(errors.is(e))
			assert.equal("not_logged_in", e.name)
			assert.equal("Not logged in", e.message)
			assert.is_false(e.retryable)
			assert.equal("open", e.op)
		end)

		it("maps protocol_error 0 and code 0 to nil", function()
			local e = errors.new { name = "network_error", code = 605, protocol_error = 0 }
			assert.is_nil(e.protocol_error)
			local z = errors.new { name = "timeout", code = 0 }
			assert.is_nil(z.code)
		end)

		it("accepts digit strings for code and protocol_error", function()
			local e = errors.new { code = "616", protocol_error = "426" }
			assert.equal(616, e.code)
			assert.equal(426, e.protocol_error)
			assert.equal("transfer_aborted", e.name)
			assert.is_true(e.retryable)
		end)

		it("keeps unknown fields and lets retryable be overridden", function()
			local e = errors.new { code = 605, retryable = false, custom = "x" }
			assert.is_false(e.retryable)
			assert.equal("x", e.custom)
			local f = errors.new { name = "argument", retryable = 1 }
			assert.is_true(f.retryable)
		end)

		it("names an unknown EC20 code unknown_error and says its number", function()
			local e = errors.new { code = 700 }
			assert.equal("unknown_error", e.name)
			assert.equal(700, e.code)
			assert.equal("unknown error code 700", e.message)
			assert.is_false(e.retryable)
		end)

		it("uses default messages and classes for the non-modem names", function()
			local expect = {
				timeout = true, closed = true, io = true, no_carrier = true,
				pdp_deactivated = true, rebooted = true,
				argument = false, protocol = false, modem_error = false, cme_error = false,
				interrupted = false, mismatch = false, unsupported = false,
			}
			for name, retry in pairs(expect) do
				local e = errors.new { name = name }
				assert.equal(retry, e.retryable, name)
				assert.is_string(e.message)
				assert.is_true(#e.message > 0)
			end
		end)

		it("with nothing to go on is unknown_error", function()
			local e = errors.new {}
			assert.equal("unknown_error", e.name)
			assert.is_false(e.retryable)
		end)

		it("says how long a timeout waited", function()
			local e = errors.new { name = "timeout", op = "size", target = "a.txt", seconds = 90 }
			assert.equal("size a.txt: timeout after 90 s", tostring(e))
			local f = errors.new { name = "timeout", seconds = 2.5 }
			assert.equal("timeout after 2.5 s", tostring(f))
		end)

		it("raises on a non-table (a programmer error)", function()
			assert.has_error(function() errors.new("x") end)
			assert.has_error(function() errors.new() end)
		end)
	end)

	describe("is", function()
		it("tells error objects from other values", function()
			assert.is_true(errors.is(errors.new { name = "io" }))
			assert.is_false(errors.is({ name = "io" }))
			assert.is_false(errors.is(nil))
			assert.is_false(errors.is("timeout"))
			assert.is_false(errors.is(42))
		end)
	end)

	describe("retry rule", function()
		it("RFC 959 class of the FTP reply wins over the EC20 code", function()
			assert.is_true(errors.from_result("x", 601, 421).retryable)
			assert.is_false(errors.from_result("x", 609, 550).retryable)
			assert.is_true(errors.from_result("x", 616, 426).retryable)
			assert.is_true(errors.from_result("x", 615, 425).retryable)
			assert.is_true(errors.from_result("x", 617, 450).retryable)
			assert.is_true(errors.from_result("x", 618, 451).retryable)
		end)

		it("the brief's non-retryable list holds", function()
			for _, pe in ipairs { 530, 550, 553 } do
				assert.is_false(errors.from_result("x", 0, pe).retryable, pe)
			end
			for _, c in ipairs { 625, 610, 611, 612, 613, 620, 621, 622, 623, 624,
				626, 627, 628, 629, 630, 631 } do
				assert.is_false(errors.from_result("x", c, 0).retryable, c)
			end
		end)

		it("the brief's retryable list holds", function()
			for _, c in ipairs { 605, 606, 607, 608, 609, 614, 615, 616 } do
				assert.is_true(errors.from_result("x", c, 0).retryable, c)
			end
			for _, pe in ipairs { 421, 425, 426, 450, 451 } do
				assert.is_true(errors.from_result("x", 0, pe).retryable, pe)
			end
			for _, k in ipairs { "timeout", "closed", "pdpdeact", "rebooted" } do
				assert.is_true(errors.from_core("x", { kind = k }).retryable, k)
			end
		end)
	end)

	describe("__tostring", function()
		it("prints the brief's examples", function()
			local e = errors.from_result("put", 625, 530, { target = "app.log" })
			assert.equal("put app.log: 625 not logged in (FTP 530 Not logged in)", tostring(e))
			local t = errors.from_core("size", { kind = "timeout" }, { target = "a.txt", seconds = 90 })
			assert.equal("size a.txt: timeout after 90 s", tostring(t))
		end)

		it("keeps acronyms capitalised", function()
			assert.equal("open: 631 SSL auth fail", tostring(errors.from_result("open", 631, 0)))
			assert.equal("open: 604 DNS parse fails", tostring(errors.from_result("open", 604, 0)))
			assert.equal("open: 603 FTP service busy", tostring(errors.from_result("open", 603, 0)))
		end)

		it("adds partial progress and detail", function()
			local e = errors.from_result("put", 616, 426,
				{ target = "big.bin", bytes = 5000, detail = "data connection reset" })
			assert.equal("put big.bin: 616 connection closed; transfer aborted "
				.. "(FTP 426 Connection closed; transfer aborted): data connection reset, after 5000 bytes",
				tostring(e))
		end)

		it("names an FTP code outside chapter 5 by number", function()
			local e = errors.new { op = "open", code = 625, protocol_error = 534 }
			assert.equal("open: 625 not logged in (FTP 534)", tostring(e))
		end)

		it("is one line even when the message has newlines", function()
			local e = errors.from_core("at", { kind = "protocol", message = "bad line\r\nmore\n" })
			local s = tostring(e)
			assert.is_nil(s:find("[\r\n]"))
			assert.equal("at: bad line more", s)
		end)

		it("works without op", function()
			assert.equal("I/O error", tostring(errors.new { name = "io" }))
			assert.equal("610 invalid parameter", tostring(errors.new { code = 610 }))
		end)
	end)

	describe("from_result", function()
		it("wraps +QFTPOPEN: 625,530", function()
			local e = errors.from_result("open", 625, 530, { command = 'AT+QFTPOPEN="h",21' })
			assert.equal(625, e.code)
			assert.equal(530, e.protocol_error)
			assert.equal("not_logged_in", e.name)
			assert.equal("Not logged in", e.message)
			assert.equal("open", e.op)
			assert.equal('AT+QFTPOPEN="h",21', e.command)
			assert.is_false(e.retryable)
		end)

		it("wraps +QFTPGET: 627,550 (file unavailable)", function()
			local e = errors.from_result("get", 627, 550, { target = "missing.txt" })
			assert.equal("file_unavailable", e.name)
			assert.equal("get missing.txt: 627 requested action not taken "
				.. "(FTP 550 Requested action not taken. File unavailable)", tostring(e))
		end)

		it("wraps +QFTPOPEN: 604,0 (DNS)", function()
			local e = errors.from_result("open", 604, 0)
			assert.equal("dns_parse_fails", e.name)
			assert.is_nil(e.protocol_error)
			assert.is_true(e.retryable)
		end)

		it("keeps extra fields and does not let them override op/code", function()
			local e = errors.from_result("put", 616, 426, { op = "nope", code = 1, bytes = 12, lines = { "a" } })
			assert.equal("put", e.op)
			assert.equal(616, e.code)
			assert.equal(12, e.bytes)
			assert.same({ "a" }, e.lines)
		end)

		it("with err 0 and no protocol error is still an error object", function()
			local e = errors.from_result("x", 0, 0)
			assert.is_true(errors.is(e))
			assert.is_nil(e.code)
			assert.is_nil(e.protocol_error)
		end)
	end)

	describe("from_core", function()
		local simple = {
			timeout = { "timeout", true }, closed = { "closed", true }, io = { "io", true },
			argument = { "argument", false }, protocol = { "protocol", false },
			interrupted = { "interrupted", false }, mismatch = { "mismatch", false },
			unsupported = { "unsupported", false }, pdpdeact = { "pdp_deactivated", true },
			rebooted = { "rebooted", true },
		}
		for kind, want in pairs(simple) do
			it("maps kind " .. kind .. " to " .. want[1], function()
				local e = errors.from_core("get", { kind = kind, message = "m " .. kind, bytes = 7 })
				assert.equal(want[1], e.name)
				assert.equal(want[2], e.retryable)
				assert.equal("m " .. kind, e.message)
				assert.equal(7, e.bytes)
				assert.equal("get", e.op)
				assert.is_nil(e.code)
			end)
		end

		it("uses default messages when the core gives none", function()
			assert.equal("port closed", errors.from_core("x", { kind = "closed" }).message)
			assert.equal("timeout", errors.from_core("x", { kind = "timeout", message = "" }).message)
		end)

		it("maps +CME ERROR: 610 (final line) to code 610", function()
			local e = errors.from_core("size", { kind = "modem", final = "+CME ERROR: 610",
				lines = {}, message = "modem error" })
			assert.equal(610, e.code)
			assert.equal(610, e.cme)
			assert.equal("invalid_parameter", e.name)
			assert.equal("Invalid parameter", e.message)
			assert.equal("+CME ERROR: 610", e.final)
			assert.is_false(e.retryable)
		end)

		for code = 601, 631 do
			it("maps +CME ERROR: " .. code .. " as a number, a field and verbose text", function()
				local a = errors.from_core("x", { kind = "modem", cme = code })
				local b = errors.from_core("x", { kind = "modem", final = "+CME ERROR: " .. code })
				local c = errors.from_core("x", { kind = "modem", final = "+CME ERROR: " .. CHAPTER4[code] })
				local d = errors.from_core("x", { kind = "modem", cme_text = CHAPTER4[code]:upper() })
				for _, e in ipairs { a, b, c, d } do
					assert.equal(code, e.code)
					assert.equal(NAMES[code], e.name)
					assert.equal(RETRY[code], e.retryable)
				end
			end)
		end

		it("maps verbose text case-insensitively, ignoring space and a final period", function()
			for _, t in ipairs { "invalid parameter", "INVALID PARAMETER", "  Invalid  parameter. " } do
				local e = errors.from_core("x", { kind = "modem", final = "+CME ERROR: " .. t })
				assert.equal(610, e.code, t)
			end
		end)

		it("keeps other +CME ERROR codes as cme_error", function()
			local e = errors.from_core("pdp", { kind = "modem", final = "+CME ERROR: 10" })
			assert.equal("cme_error", e.name)
			assert.is_nil(e.code)
			assert.equal(10, e.cme)
			assert.equal("+CME ERROR: 10 (SIM not inserted)", e.message)
			assert.equal("pdp: +CME ERROR: 10 (SIM not inserted); the module sees no SIM card: insert one (with the power off)",
				tostring(e))
			assert.is_false(e.retryable)
			local three = errors.from_core("pdp", { kind = "modem", cme = 3 })
			assert.equal("+CME ERROR: 3 (operation not allowed)", three.message)
			local thirteen = errors.from_core("pdp", { kind = "modem", cme = 13 })
			assert.equal("+CME ERROR: 13 (SIM failure)", thirteen.message)
			local odd = errors.from_core("pdp", { kind = "modem", cme = 9999 })
			assert.equal("+CME ERROR: 9999", odd.message)
		end)

		it("classes SIM busy, no network and network timeout as retryable", function()
			for _, n in ipairs { 14, 30, 31 } do
				assert.is_true(errors.from_core("x", { kind = "modem", cme = n }).retryable, n)
			end
			for _, n in ipairs { 3, 4, 10, 11, 12, 13, 15, 16, 100 } do
				assert.is_false(errors.from_core("x", { kind = "modem", cme = n }).retryable, n)
			end
		end)

		it("maps verbose 27.007 text back to its number", function()
			local e = errors.from_core("pdp", { kind = "modem", final = "+CME ERROR: SIM not inserted" })
			assert.equal("cme_error", e.name)
			assert.equal(10, e.cme)
			assert.equal("SIM not inserted", e.cme_text)
			local f = errors.from_core("pdp", { kind = "modem", cme_text = "sim busy" })
			assert.equal(14, f.cme)
			assert.is_true(f.retryable)
		end)

		it("keeps unknown verbose text", function()
			local e = errors.from_core("x", { kind = "modem", final = "+CME ERROR: something odd" })
			assert.equal("cme_error", e.name)
			assert.is_nil(e.cme)
			assert.equal("+CME ERROR: something odd", e.message)
		end)

		it("maps plain ERROR to modem_error and NO CARRIER to no_carrier", function()
			local e = errors.from_core("cwd", { kind = "modem", final = "ERROR", lines = { "x" } })
			assert.equal("modem_error", e.name)
			assert.is_false(e.retryable)
			assert.same({ "x" }, e.lines)
			assert.equal("cwd: modem answered ERROR", tostring(e))
			local n = errors.from_core("get", { kind = "modem", final = "NO CARRIER", bytes = 10 })
			assert.equal("no_carrier", n.name)
			assert.is_true(n.retryable)
			assert.equal(10, n.bytes)
		end)

		it("modem kind without a final line keeps the core's message", function()
			local e = errors.from_core("x", { kind = "modem", message = "no final" })
			assert.equal("modem_error", e.name)
			assert.equal("no final", e.message)
			local f = errors.from_core("x", { kind = "modem", final = "+CMS ERROR: 500" })
			assert.equal("modem answered +CMS ERROR: 500", f.message)
		end)

		it("passes an error object through, filling op", function()
			local a = errors.argument(nil, "bad")
			local b = errors.from_core("put", a)
			assert.equal(a, b)
			assert.equal("put", b.op)
			local c = errors.from_core("get", errors.argument("put", "bad"))
			assert.equal("put", c.op)
		end)

		it("takes a string as an io message and survives nil and odd kinds", function()
			local e = errors.from_core("open", "No such file or directory")
			assert.equal("io", e.name)
			assert.equal("No such file or directory", e.message)
			assert.equal("io", errors.from_core("open", nil).name)
			assert.equal("io", errors.from_core("open", { kind = 5 }).name)
			local w = errors.from_core("open", { kind = "weird_kind" })
			assert.equal("weird_kind", w.name)
			assert.is_false(w.retryable)
		end)

		it("extra fields travel (target, command, seconds)", function()
			local e = errors.from_core("get", { kind = "timeout" },
				{ target = "f", command = "AT+QFTPGET=\"f\",\"COM:\"", seconds = 30 })
			assert.equal("f", e.target)
			assert.equal('AT+QFTPGET="f","COM:"', e.command)
			assert.equal("get f: timeout after 30 s", tostring(e))
		end)
	end)

	describe("argument", function()
		it("builds a non-retryable argument error", function()
			local e = errors.argument("put", "bad argument 'file_name': empty")
			assert.is_true(errors.is(e))
			assert.equal("argument", e.name)
			assert.is_false(e.retryable)
			assert.equal("put: bad argument 'file_name': empty", tostring(e))
			assert.equal("bad argument 'x'", tostring(errors.argument(nil, "bad argument 'x'")))
		end)
	end)
end)
