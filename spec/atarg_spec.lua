-- Specs for modemftp.atarg: AT command arguments checked against the manual.
local atarg = require "modemftp.atarg"
local errors = require "modemftp.errors"
local helper = require "spec.helper_pure"

local function refused(want, v, e)
	assert.is_nil(v)
	assert.is_true(errors.is(e), "expected an error object")
	assert.equal("argument", e.name)
	assert.is_false(e.retryable)
	if want then assert.equal(want, e.message) end
	return e
end

-- String parameters: limit, and whether "" is allowed.
local STRINGS = {
	hostname = { 200, false }, username = { 255, true }, password = { 255, true },
	file_name = { 255, false }, path_name = { 255, false }, folder_name = { 255, false },
	dirname = { 255, true }, old_name = { 255, false }, new_name = { 255, false },
}

local INTS = {
	contextid = { 1, 16 }, rsptimeout = { 20, 180 }, sslctxid = { 0, 5 }, filetype = { 0, 1 },
	transmode = { 0, 1 }, ssltype = { 0, 1 }, port = { 1, 65535 }, startpos = { 0, 2147483647 },
	uploadlen = { 1, 2147483647 }, downloadlen = { 1, 2147483647 }, beof = { 0, 1 },
}

describe("modemftp.atarg", function()
	helper.module_hygiene(_ENV, "modemftp.atarg", "lua/modemftp/atarg.lua", function(m)
		m.put_command("a", "COM:", 0, 1, 1)
		m.cfg("account", "u", "p")
		m.local_name("RAM:x")
		m.quote("a\r", "x", 3)
	end)

	it("exports the manual's limits", function()
		assert.same({
			hostname = 200, username = 255, password = 255, file_name = 255, path_name = 255,
			folder_name = 255, dirname = 255, old_name = 255, new_name = 255, local_name = 60,
			contextid = { lo = 1, hi = 16 }, rsptimeout = { lo = 20, hi = 180 },
			sslctxid = { lo = 0, hi = 5 }, filetype = { lo = 0, hi = 1 },
			transmode = { lo = 0, hi = 1 }, ssltype = { lo = 0, hi = 1 },
			port = { lo = 1, hi = 65535 }, startpos = { lo = 0, hi = 2147483647 },
			uploadlen = { lo = 1, hi = 2147483647 }, downloadlen = { lo = 1, hi = 2147483647 },
			beof = { lo = 0, hi = 1 },
		}, atarg.limits)
	end)

	describe("quote", function()
		it("wraps a plain string in double quotes", function()
			assert.equal('"a.txt"', atarg.quote("a.txt", "file_name", 255))
			assert.equal('""', atarg.quote("", "dirname", 255))
		end)

		it("lets UTF-8 and every byte >= 0x80 through", function()
			assert.equal('"r\xC3\xA9sum\xC3\xA9.txt"', atarg.quote("r\xC3\xA9sum\xC3\xA9.txt", "f", 255))
			local high = {}
			for b = 0x80, 0xFF do high[#high + 1] = string.char(b) end
			local s = table.concat(high)
			assert.equal('"' .. s .. '"', atarg.quote(s, "f", 255))
		end)

		it("lets comma, semicolon, backslash, quote-like and space through", function()
			local s = "a, b; c\\d 'e' `f` =+?*"
			assert.equal('"' .. s .. '"', atarg.quote(s, "f", 255))
		end)

		it("refuses a double quote with its position", function()
			refused([[bad argument 'file_name': contains '"' at byte 4, which cannot travel inside a quoted AT string]],
				atarg.quote('abc"d', "file_name", 255))
			refused(nil, atarg.quote('"', "file_name", 255))
		end)

		local names = { [0] = "NUL", [9] = "TAB", [10] = "LF", [13] = "CR", [26] = "Ctrl-Z",
			[27] = "ESC", [127] = "DEL", [8] = "backspace" }
		for b = 0, 31 do
			it(string.format("refuses control byte 0x%02X", b), function()
				local e = refused(nil, atarg.quote("ab" .. string.char(b) .. "c", "file_name", 255))
				local label = names[b] or "control character"
				assert.equal(string.format("bad argument 'file_name': contains %s (0x%02X) at byte 3, "
					.. "which cannot travel inside a quoted AT string", label, b), e.message)
			end)
		end
		it("refuses DEL (0x7F)", function()
			refused("bad argument 'f': contains DEL (0x7F) at byte 1, which cannot travel inside a quoted AT string",
				atarg.quote("\127", "f", 255))
		end)

		it("reports the first offending byte", function()
			local _, e = atarg.quote('ab\r\n"', "f", 255)
			assert.matches("CR %(0x0D%) at byte 3", e.message)
		end)

		it("refuses CR, LF and NUL at the start and the end too", function()
			for _, s in ipairs { "\rx", "x\r", "\nx", "x\n", "\0", "x\0" } do
				refused(nil, atarg.quote(s, "f", 255))
			end
		end)

		it("refuses non-strings", function()
			refused("bad argument 'file_name': string expected, got number", atarg.quote(12, "file_name", 255))
			refused("bad argument 'file_name': string expected, got nil", atarg.quote(nil, "file_name", 255))
			refused("bad argument 'value': string expected, got table", atarg.quote({}))
		end)

		it("checks the length at the boundary", function()
			assert.equal('"' .. ("x"):rep(10) .. '"', atarg.quote(("x"):rep(10), "f", 10))
			refused("bad argument 'f': 11 bytes, the EC20 allows at most 10", atarg.quote(("x"):rep(11), "f", 10))
		end)

		it("counts bytes, not characters", function()
			local s = ("\xC3\xA9"):rep(128) -- 128 characters, 256 bytes
			refused("bad argument 'f': 256 bytes, the EC20 allows at most 255", atarg.quote(s, "f", 255))
		end)

		it("has no limit when max is nil", function()
			local s = ("x"):rep(5000)
			assert.equal('"' .. s .. '"', atarg.quote(s, "f"))
		end)

		it("never shows the value in the message (passwords)", function()
			local _, e = atarg.password("s3cr\"et")
			assert.is_nil(e.message:find("s3cr", 1, true))
			local _, f = atarg.password(("p"):rep(300))
			assert.is_nil(f.message:find("ppp", 1, true))
		end)
	end)

	describe("string parameters", function()
		for fname, spec in pairs(STRINGS) do
			local max, empty_ok = spec[1], spec[2]
			describe(fname, function()
				it("takes exactly " .. max .. " bytes", function()
					local s = ("a"):rep(max)
					assert.equal('"' .. s .. '"', atarg[fname](s))
				end)
				it("refuses " .. (max + 1) .. " bytes with the limit in the message", function()
					refused(string.format("bad argument '%s': %d bytes, the EC20 allows at most %d",
						fname, max + 1, max), atarg[fname](("a"):rep(max + 1)))
				end)
				it(empty_ok and "takes an empty string" or "refuses an empty string", function()
					if empty_ok then
						assert.equal('""', atarg[fname](""))
					else
						refused(string.format("bad argument '%s': empty, the EC20 needs a name here", fname),
							atarg[fname](""))
					end
				end)
				it("refuses quotes, CR, LF, NUL and non-strings", function()
					for _, s in ipairs { 'a"b', "a\rb", "a\nb", "a\0b", "a\r\nAT+QFTPDEL=\"x\"" } do
						refused(nil, atarg[fname](s))
					end
					refused(string.format("bad argument '%s': string expected, got number", fname), atarg[fname](5))
					refused(nil, atarg[fname](nil))
				end)
				it("uses the caller's argument name when given", function()
					local _, e = atarg[fname]('"', "remote")
					assert.matches("^bad argument 'remote': ", e.message)
				end)
			end)
		end

		it("dirname takes '.' and '' (chapter 3.4)", function()
			assert.equal('"."', atarg.dirname("."))
			assert.equal('""', atarg.dirname(""))
			assert.equal('"TEST_2"', atarg.dirname("TEST_2"))
		end)

		it("path_name takes the root '/'", function()
			assert.equal('"/"', atarg.path_name("/"))
		end)
	end)

	describe("local_name", function()
		it('takes "COM:" and the chapter 3.6 spelling "COM:."', function()
			assert.equal('"COM:"', atarg.local_name("COM:"))
			assert.equal('"COM:."', atarg.local_name("COM:."))
			assert.is_true(atarg.is_com("COM:"))
			assert.is_true(atarg.is_com("COM:."))
			assert.is_false(atarg.is_com("RAM:x"))
			assert.is_false(atarg.is_com("com:"))
			assert.is_false(atarg.is_com(nil))
		end)

		it("counts the RAM: prefix in the 60 bytes", function()
			local ok = "RAM:" .. ("n"):rep(56)
			assert.equal(60, #ok)
			assert.equal('"' .. ok .. '"', atarg.local_name(ok))
			refused("bad argument 'local_name': 61 bytes, the EC20 allows at most 60",
				atarg.local_name("RAM:" .. ("n"):rep(57)))
		end)

		it("takes the manual's RAM names", function()
			assert.equal('"RAM:test1.txt"', atarg.local_name("RAM:test1.txt"))
			assert.equal('"RAM:nlst.txt"', atarg.local_name("RAM:nlst.txt"))
		end)

		it("refuses an empty RAM name, other prefixes and bad bytes", function()
			refused('bad argument \'local_name\': empty RAM file name, the module needs a name after "RAM:"',
				atarg.local_name("RAM:"))
			refused('bad argument \'local_name\': must be "COM:" or "RAM:<name>"', atarg.local_name("UFS:a"))
			refused(nil, atarg.local_name("ram:a"))
			refused(nil, atarg.local_name("a.txt"))
			refused(nil, atarg.local_name(""))
			refused(nil, atarg.local_name('RAM:a"b'))
			refused(nil, atarg.local_name("RAM:a\r"))
			refused("bad argument 'local_name': string expected, got nil", atarg.local_name(nil))
			refused(nil, atarg.local_name(1))
		end)

		it("takes the module's drives, in their case, when it is given them", function()
			local ufs_sd = { "UFS", "SD" }
			assert.equal('"UFS:a.bin"', atarg.local_name("UFS:a.bin", nil, ufs_sd))
			assert.equal('"SD:a.bin"', atarg.local_name("SD:a.bin", nil, ufs_sd))
			assert.equal('"COM:"', atarg.local_name("COM:", nil, ufs_sd))
			refused('bad argument \'local_name\': must be "COM:" or "UFS:<name>" or "SD:<name>"',
				atarg.local_name("RAM:a", nil, ufs_sd))
			refused(nil, atarg.local_name("ufs:a", nil, ufs_sd)) -- a real EC25 answers 613
			refused('bad argument \'local_name\': empty SD file name, the module needs a name after "SD:"',
				atarg.local_name("SD:", nil, ufs_sd))
		end)
	end)

	describe("integer parameters", function()
		for fname, r in pairs(INTS) do
			local lo, hi = r[1], r[2]
			describe(fname, function()
				it(string.format("takes %d and %d", lo, hi), function()
					assert.equal(lo, atarg[fname](lo))
					assert.equal(hi, atarg[fname](hi))
					assert.equal(math.type(lo), math.type(atarg[fname](lo)))
				end)
				it(string.format("refuses %d and %d with the range", lo - 1, hi + 1), function()
					local want = string.format("bad argument '%s': %%d is out of range, the EC20 allows %d-%d",
						fname, lo, hi)
					refused(want:format(lo - 1), atarg[fname](lo - 1))
					refused(want:format(hi + 1), atarg[fname](hi + 1))
				end)
				it("refuses non-integers", function()
					refused(string.format("bad argument '%s': integer expected, got string", fname),
						atarg[fname](tostring(lo)))
					refused(string.format("bad argument '%s': integer expected, got 1.5", fname),
						atarg[fname](1.5))
					refused(nil, atarg[fname](nil))
					refused(nil, atarg[fname](math.huge))
					refused(nil, atarg[fname](0 / 0))
				end)
			end)
		end

		it("takes floats with an integral value and returns an integer", function()
			local v = atarg.port(21.0)
			assert.equal(21, v)
			assert.equal("integer", math.type(v))
		end)

		it("int works with one-sided or no bounds", function()
			assert.equal(5, atarg.int(5, "n"))
			refused("bad argument 'n': -1 is out of range, the EC20 allows at least 0", atarg.int(-1, "n", 0))
			refused("bad argument 'n': 11 is out of range, the EC20 allows at most 10", atarg.int(11, "n", nil, 10))
			refused("bad argument 'value': integer expected, got boolean", atarg.int(true))
		end)
	end)

	describe("command", function()
		it("builds the brief's example", function()
			assert.equal('AT+QFTPPUT="a.txt","COM:",0,100,1',
				atarg.command("QFTPPUT", '"a.txt"', '"COM:"', 0, 100, 1))
		end)

		it("accepts QFTPPUT, +QFTPPUT and AT+QFTPPUT", function()
			for _, n in ipairs { "QFTPSIZE", "+QFTPSIZE", "AT+QFTPSIZE", "at+QFTPSIZE" } do
				assert.equal('AT+QFTPSIZE="a"', atarg.command(n, '"a"'))
			end
		end)

		it("is the execute form without pieces", function()
			assert.equal("AT+QFTPPWD", atarg.command("QFTPPWD"))
			assert.equal("AT+QFTPCLOSE", atarg.command("QFTPCLOSE", nil, nil))
		end)

		it("drops trailing nils (omitted optional parameters)", function()
			assert.equal('AT+QFTPGET="a","COM:"', atarg.command("QFTPGET", '"a"', '"COM:"', nil, nil))
		end)

		it("writes integers in decimal, floats with an integral value too", function()
			assert.equal("AT+QIACT=1", atarg.command("QIACT", 1))
			assert.equal("AT+QIACT=1", atarg.command("QIACT", 1.0))
			assert.equal("AT+X=2147483647,0", atarg.command("X", 2147483647, 0))
		end)

		it("raises on programmer errors", function()
			assert.has_error(function() atarg.command("QFTPGET", '"a"', nil, 0) end)
			assert.has_error(function() atarg.command("QFTPGET", 1.5) end)
			assert.has_error(function() atarg.command("QFTPGET", '"a\r"') end)
			assert.has_error(function() atarg.command("QFTPGET", "a\n") end)
			assert.has_error(function() atarg.command("QFTPGET", "a\0") end)
			assert.has_error(function() atarg.command("QFTPGET", {}) end)
			assert.has_error(function() atarg.command("QFTPGET", true) end)
			assert.has_error(function() atarg.command(nil) end)
			assert.has_error(function() atarg.command("") end)
			assert.has_error(function() atarg.command("QFTP PUT") end)
			assert.has_error(function() atarg.command("QFTPPUT;+QFTPDEL") end)
			assert.has_error(function() atarg.command("+") end)
			assert.has_error(function() atarg.command("AT") end)
			assert.has_error(function() atarg.command("&D1") end)
			assert.has_error(function() atarg.test("QFTP=") end)
			assert.has_error(function() atarg.query(5) end)
		end)

		it("builds test and read commands", function()
			assert.equal("AT+QFTPCFG=?", atarg.test("QFTPCFG"))
			assert.equal("AT+QFTPPUT=?", atarg.test("+QFTPPUT"))
			assert.equal("AT+QIACT?", atarg.query("QIACT"))
			assert.equal("AT+CPIN?", atarg.query("AT+CPIN"))
			assert.equal("AT+CGREG?", atarg.query("CGREG"))
		end)
	end)

	describe("cfg", function()
		it("builds the chapter 3.1 and 3.8 configuration commands", function()
			assert.equal('AT+QFTPCFG="contextid",1', atarg.cfg("contextid", 1))
			assert.equal('AT+QFTPCFG="account","test","test"', atarg.cfg("account", "test", "test"))
			assert.equal('AT+QFTPCFG="filetype",1', atarg.cfg("filetype", 1))
			assert.equal('AT+QFTPCFG="transmode",1', atarg.cfg("transmode", 1))
			assert.equal('AT+QFTPCFG="rsptimeout",90', atarg.cfg("rsptimeout", 90))
			assert.equal('AT+QFTPCFG="ssltype",1', atarg.cfg("ssltype", 1))
			assert.equal('AT+QFTPCFG="sslctxid",1', atarg.cfg("sslctxid", 1))
		end)

		it("builds the query forms", function()
			for _, s in ipairs { "account", "filetype", "transmode", "contextid", "rsptimeout", "ssltype", "sslctxid" } do
				assert.equal('AT+QFTPCFG="' .. s .. '"', atarg.cfg(s))
			end
		end)

		it("checks every value", function()
			refused("bad argument 'contextid': 17 is out of range, the EC20 allows 1-16", atarg.cfg("contextid", 17))
			refused("bad argument 'rsptimeout': 19 is out of range, the EC20 allows 20-180", atarg.cfg("rsptimeout", 19))
			refused(nil, atarg.cfg("rsptimeout", 181))
			refused(nil, atarg.cfg("sslctxid", 6))
			refused(nil, atarg.cfg("filetype", 2))
			refused(nil, atarg.cfg("transmode", -1))
			refused(nil, atarg.cfg("ssltype", 2))
			refused("bad argument 'username': 256 bytes, the EC20 allows at most 255",
				atarg.cfg("account", ("u"):rep(256), "p"))
			refused(nil, atarg.cfg("account", "u", ("p"):rep(256)))
			refused(nil, atarg.cfg("account", "u", 'p"'))
			refused(nil, atarg.cfg("account", "u"))
			refused(nil, atarg.cfg("account", nil, "p"))
			assert.equal('AT+QFTPCFG="account","",""', atarg.cfg("account", "", ""))
			assert.equal('AT+QFTPCFG="account","u","' .. ("p"):rep(255) .. '"',
				atarg.cfg("account", "u", ("p"):rep(255)))
		end)

		it("refuses unknown settings", function()
			local e = refused(nil, atarg.cfg("bogus", 1))
			assert.matches("^bad argument 'setting': unknown QFTPCFG setting", e.message)
			refused(nil, atarg.cfg(nil))
		end)
	end)

	describe("put_command", function()
		it("builds the section 2.5 examples", function()
			assert.equal('AT+QFTPPUT="test.txt","COM:",0', atarg.put_command("test.txt", "COM:", 0))
			assert.equal('AT+QFTPPUT="test.txt","COM:",0,1024,0', atarg.put_command("test.txt", "COM:", 0, 1024, 0))
			assert.equal('AT+QFTPPUT="test.txt","COM:",1024,1024,1',
				atarg.put_command("test.txt", "COM:", 1024, 1024, 1))
			assert.equal('AT+QFTPPUT="test.txt","RAM:test1.txt",0',
				atarg.put_command("test.txt", "RAM:test1.txt", 0))
			assert.equal('AT+QFTPPUT="a","COM:"', atarg.put_command("a", "COM:"))
		end)

		it("fills startpos 0 when only uploadlen is given", function()
			assert.equal('AT+QFTPPUT="a","COM:",0,10,1', atarg.put_command("a", "COM:", nil, 10, 1))
		end)

		it("refuses uploadlen/beof with RAM: and one without the other", function()
			refused('bad argument \'uploadlen\': valid only when local_name is "COM:"',
				atarg.put_command("a", "RAM:x", 0, 10, 1))
			refused(nil, atarg.put_command("a", "RAM:x", 0, nil, 1))
			refused("bad argument 'beof': uploadlen and beof go together", atarg.put_command("a", "COM:", 0, 10))
			refused("bad argument 'uploadlen': uploadlen and beof go together",
				atarg.put_command("a", "COM:", 0, nil, 1))
		end)

		it("checks each value", function()
			refused(nil, atarg.put_command("", "COM:"))
			refused(nil, atarg.put_command("a", "RAM:"))
			refused(nil, atarg.put_command("a", "COM:", -1))
			refused("bad argument 'uploadlen': 0 is out of range, the EC20 allows 1-2147483647",
				atarg.put_command("a", "COM:", 0, 0, 1))
			refused(nil, atarg.put_command("a", "COM:", 0, 10, 2))
			refused(nil, atarg.put_command("a\r\n", "COM:"))
		end)
	end)

	describe("get_command", function()
		it("builds the section 2.6 and chapter 3.6 examples", function()
			assert.equal('AT+QFTPGET="test.txt","COM:",0', atarg.get_command("test.txt", "COM:", 0))
			assert.equal('AT+QFTPGET="test.txt","COM:",500,500', atarg.get_command("test.txt", "COM:", 500, 500))
			assert.equal('AT+QFTPGET="test.txt","RAM:test2.txt",0', atarg.get_command("test.txt", "RAM:test2.txt", 0))
			assert.equal('AT+QFTPGET="test_my.txt","COM:."', atarg.get_command("test_my.txt", "COM:."))
			assert.equal('AT+QFTPGET="test.txt","COM:.",0,500', atarg.get_command("test.txt", "COM:.", 0, 500))
			assert.equal('AT+QFTPGET="test_my1.txt","RAM:test1.txt",450',
				atarg.get_command("test_my1.txt", "RAM:test1.txt", 450))
		end)

		it("fills startpos 0 when only downloadlen is given", function()
			assert.equal('AT+QFTPGET="a","COM:",0,5', atarg.get_command("a", "COM:", nil, 5))
		end)

		it("refuses downloadlen with RAM: and bad values", function()
			refused('bad argument \'downloadlen\': valid only when local_name is "COM:"',
				atarg.get_command("a", "RAM:x", 0, 10))
			refused(nil, atarg.get_command("a", "COM:", 0, 0))
			refused(nil, atarg.get_command("a", "COM:", -5))
			refused(nil, atarg.get_command(("a"):rep(256), "COM:"))
			refused(nil, atarg.get_command("a", "RAM:" .. ("x"):rep(57)))
		end)
	end)
end)
