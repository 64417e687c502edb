-- Specs for modemftp.reply: the modem's lines parsed into values.
local reply = require "modemftp.reply"
local errors = require "modemftp.errors"
local helper = require "spec.helper_pure"

local function garbage(v, e, pattern)
	assert.is_nil(v)
	assert.is_true(errors.is(e), "expected an error object, got " .. tostring(e))
	assert.equal("protocol", e.name)
	assert.is_false(e.retryable)
	if pattern then assert.matches(pattern, e.message, 1, true) end
	return e
end

local function result(line, prefix)
	return { reply.result(line, prefix) }
end

describe("modemftp.reply", function()
	helper.module_hygiene(_ENV, "modemftp.reply", "lua/modemftp/reply.lua", function(m)
		m.result('+QFTPPWD: 0, "/"', "QFTPPWD")
		m.result("+QFTPSIZE: 1000", "QFTPSIZE")
		m.cfg({ '+QFTPCFG: "contextid",(1-16)' })
		m.mdtm("20140708110039.123")
		m.cgreg("+CGREG: 0,1")
		m.result("garbage", "QFTPSIZE")
	end)

	describe("fields", function()
		it("splits on commas and drops spaces around fields", function()
			local f, q = reply.fields("0, 1 ,2")
			assert.same({ "0", "1", "2" }, f)
			assert.same({ false, false, false }, q)
		end)

		it("removes quotes and keeps commas inside them", function()
			local f, q = reply.fields('"RAM:a,b.txt", 1000')
			assert.same({ "RAM:a,b.txt", "1000" }, f)
			assert.same({ true, false }, q)
		end)

		it("keeps a quote that is not followed by a comma as data", function()
			assert.same({ 'a"b', "1" }, (reply.fields('"a"b",1')))
			assert.same({ 'say "hi"' }, (reply.fields('"say "hi""')))
		end)

		it("keeps parenthesised ranges whole", function()
			assert.same({ "filetype", "(0,1)" }, (reply.fields('"filetype",(0,1)')))
			assert.same({ "contextid", "(1-16)" }, (reply.fields('"contextid", (1-16)')))
		end)

		it("gives empty fields for empty input, ,, and a trailing comma", function()
			assert.same({ "" }, (reply.fields("")))
			assert.same({ "a", "", "b" }, (reply.fields("a,,b")))
			assert.same({ "a", "" }, (reply.fields("a,")))
			assert.same({ "", "" }, (reply.fields('"",')))
		end)

		it("reports unterminated quotes and parentheses", function()
			garbage(nil, select(2, reply.fields('"abc')), "unterminated quoted string")
			garbage(nil, select(2, reply.fields('1,"abc')), "unterminated quoted string")
			garbage(nil, select(2, reply.fields("(0,1")), "unterminated parenthesis")
			garbage(nil, select(2, reply.fields("(0,1)x")), "text after ')'")
			garbage(reply.fields(nil))
		end)
	end)

	describe("result", function()
		it("parses +QFTPSIZE: 0,1000", function()
			local r = result("+QFTPSIZE: 0,1000", "+QFTPSIZE")
			assert.equal(0, r[1])
			assert.equal(1000, r[2])
			assert.equal("integer", math.type(r[2]))
			assert.same({ "1000" }, r[3])
		end)

		it("parses the chapter 3.3 quirk +QFTPSIZE: 1000 as success", function()
			local r = result("+QFTPSIZE: 1000", "+QFTPSIZE")
			assert.equal(0, r[1])
			assert.equal(1000, r[2])
		end)

		it("parses +QFTPPWD: 0,/ (chapter 3.2)", function()
			local r = result("+QFTPPWD: 0,/", "+QFTPPWD")
			assert.equal(0, r[1])
			assert.equal("/", r[2])
		end)

		it('parses +QFTPPWD: 0, "/" (chapter 3.3)', function()
			local r = result('+QFTPPWD: 0, "/"', "+QFTPPWD")
			assert.equal(0, r[1])
			assert.equal("/", r[2])
		end)

		it("keeps commas in a quoted path", function()
			assert.equal("/dir, with comma", result('+QFTPPWD: 0,"/dir, with comma"', "+QFTPPWD")[2])
		end)

		it("takes the rest of the line verbatim for an unquoted path", function()
			assert.equal("/dir, with comma", result("+QFTPPWD: 0,/dir, with comma", "+QFTPPWD")[2])
			assert.equal("/a b/c;d", result("+QFTPPWD: 0,/a b/c;d\r\n", "+QFTPPWD")[2])
			assert.equal('/a"b', result('+QFTPPWD: 0,/a"b', "+QFTPPWD")[2])
		end)

		it("keeps a quote inside a quoted path", function()
			assert.equal('/a"b', result('+QFTPPWD: 0,"/a"b"', "+QFTPPWD")[2])
		end)

		it("keeps UTF-8 paths", function()
			assert.equal("/d\xC3\xA9j\xC3\xA0", result('+QFTPPWD: 0,"/d\xC3\xA9j\xC3\xA0"', "QFTPPWD")[2])
		end)

		it("reads a lone PWD/MDTM field as the value, or as err when it is a short number", function()
			assert.same({ 0, "/", { "/" } }, result("+QFTPPWD: /", "QFTPPWD"))
			assert.same({ 0, "/a b", { "/a b" } }, result('+QFTPPWD: "/a b"', "QFTPPWD"))
			assert.same({ 0, "20140708110039", { "20140708110039" } }, result("+QFTPMDTM: 20140708110039", "QFTPMDTM"))
			assert.same({ 627, 0, {} }, result("+QFTPPWD: 627", "QFTPPWD"))
			assert.same({ 609, 0, {} }, result("+QFTPMDTM: 609", "QFTPMDTM"))
		end)

		it("parses a failed PWD as err and protocol_error", function()
			local r = result("+QFTPPWD: 627,550", "+QFTPPWD")
			assert.equal(627, r[1])
			assert.equal(550, r[2])
		end)

		it('parses +QFTPMDTM: 0,"20140708110039" (chapter 3.3)', function()
			local r = result('+QFTPMDTM: 0,"20140708110039"', "+QFTPMDTM")
			assert.equal(0, r[1])
			assert.equal("20140708110039", r[2])
			assert.equal("string", type(r[2]))
			assert.equal(1404817239, reply.mdtm(r[2]).epoch)
		end)

		it("parses +QFTPMDTM: 0,20140708110039.123 as a string", function()
			local r = result("+QFTPMDTM: 0,20140708110039.123", "+QFTPMDTM")
			assert.equal("20140708110039.123", r[2])
			assert.equal(123, reply.mdtm(r[2]).msec)
		end)

		it("parses the data results", function()
			for _, c in ipairs { "QFTPGET", "QFTPPUT", "QFTPLIST", "QFTPNLST", "QFTPMLSD", "QFTPLEN" } do
				local r = result("+" .. c .. ": 0,1000", c)
				assert.equal(0, r[1], c)
				assert.equal(1000, r[2], c)
			end
			local s = result("+QFTPSTAT: 0,1", "+QFTPSTAT")
			assert.equal(0, s[1])
			assert.equal(1, s[2])
		end)

		it("parses +QFTPOPEN: 625,530 and +QFTPOPEN: 0,0", function()
			local r = result("+QFTPOPEN: 625,530", "+QFTPOPEN")
			assert.equal(625, r[1])
			assert.equal(530, r[2])
			local ok = result("+QFTPOPEN: 0,0", "+QFTPOPEN")
			assert.equal(0, ok[1])
			assert.equal(0, ok[2])
		end)

		it("parses every status-only result, success and failure", function()
			for _, c in ipairs { "QFTPOPEN", "QFTPCWD", "QFTPDEL", "QFTPMKDIR", "QFTPRMDIR", "QFTPRENAME", "QFTPCLOSE" } do
				local r = result("+" .. c .. ": 0,0", c)
				assert.equal(0, r[1], c)
				assert.equal(0, r[2], c)
				local f = result("+" .. c .. ": 627, 550", c)
				assert.equal(627, f[1], c)
				assert.equal(550, f[2], c)
				local one = result("+" .. c .. ": 605", c)
				assert.equal(605, one[1], c)
				assert.equal(0, one[2], c)
			end
		end)

		it("parses failures of the data commands as err, protocol_error", function()
			local r = result("+QFTPGET: 627,550", "+QFTPGET")
			assert.equal(627, r[1])
			assert.equal(550, r[2])
			local p = result("+QFTPPUT: 616,426\r\n", "+QFTPPUT")
			assert.equal(616, p[1])
			assert.equal(426, p[2])
			local m = result("+QFTPMDTM: 627,550", "+QFTPMDTM")
			assert.equal(627, m[1])
			assert.equal(550, m[2])
		end)

		it("accepts the prefix with or without + and :", function()
			for _, p in ipairs { "+QFTPSIZE", "QFTPSIZE", "+QFTPSIZE:", "QFTPSIZE: " } do
				assert.equal(1000, result("+QFTPSIZE: 0,1000", p)[2], p)
			end
		end)

		it("ignores CR/LF and leading blanks, and takes no space after the colon", function()
			assert.equal(1000, result("\r\n+QFTPSIZE: 0,1000\r\n", "QFTPSIZE")[2])
			assert.equal(1000, result("  +QFTPSIZE:0,1000", "QFTPSIZE")[2])
			assert.equal(1000, result("+QFTPSIZE: 0 , 1000 ", "QFTPSIZE")[2])
		end)

		it("keeps extra fields instead of failing", function()
			local r = result("+QFTPGET: 0,1000,7", "QFTPGET")
			assert.equal(1000, r[2])
			assert.same({ "1000", "7" }, r[3])
		end)

		it("handles big sizes and refuses overflow", function()
			assert.equal(5000000000, result("+QFTPSIZE: 0,5000000000", "QFTPSIZE")[2])
			garbage(reply.result("+QFTPSIZE: 0,99999999999999999999999", "QFTPSIZE"))
		end)

		it("returns unknown prefixes' values as integers or strings", function()
			local r = result("+QFOO: 0,abc", "QFOO")
			assert.equal(0, r[1])
			assert.equal("abc", r[2])
			assert.equal(5, result("+QFOO: 0,5", "QFOO")[2])
		end)

		it("turns garbage into protocol errors, never raising", function()
			garbage(select(1, reply.result("+QFTPOPEN: 625,530", "+QFTPSIZE")),
				select(2, reply.result("+QFTPOPEN: 625,530", "+QFTPSIZE")), 'expected +QFTPSIZE: "+QFTPOPEN: 625,530"')
			local cases = {
				{ "+QFTPSIZE: abc", "QFTPSIZE" },
				{ "+QFTPSIZE: 0,abc", "QFTPSIZE" },
				{ "+QFTPSIZE: 0,", "QFTPSIZE" },
				{ "+QFTPSIZE: ,1000", "QFTPSIZE" },
				{ "+QFTPSIZE:", "QFTPSIZE" },
				{ "+QFTPSIZE: -1", "QFTPSIZE" },
				{ "+QFTPSIZE: 0,-5", "QFTPSIZE" },
				{ "+QFTPSIZE: 0,1.5", "QFTPSIZE" },
				{ "QFTPSIZE: 0,1000", "QFTPSIZE" },
				{ "+QFTPSIZE 0,1000", "QFTPSIZE" },
				{ "+QFTPSIZEX: 0,1000", "QFTPSIZE" },
				{ "OK", "QFTPSIZE" },
				{ "", "QFTPSIZE" },
				{ "+QFTPOPEN: x,0", "QFTPOPEN" },
				{ "+QFTPOPEN: 625,abc", "QFTPOPEN" },
				{ "+QFTPOPEN: 625,\"530", "QFTPOPEN" },
				{ "+QFTPPWD: 0,\"/abc", "QFTPPWD" },
				{ "+QFTPPWD: 627,", "QFTPPWD" },
				{ "+QFTPPWD: x,/", "QFTPPWD" },
				{ "+QFTPPWD:", "QFTPPWD" },
				{ "+QFTPMDTM: 627,\"x\"", "QFTPMDTM" },
			}
			for _, c in ipairs(cases) do
				local ok, v, e = pcall(reply.result, c[1], c[2])
				assert.is_true(ok, c[1])
				assert.is_nil(v, c[1])
				assert.is_true(errors.is(e), c[1])
				assert.equal("protocol", e.name, c[1])
			end
		end)

		it("refuses a bad prefix and a non-string line", function()
			garbage(reply.result("+QFTPSIZE: 0,1", nil))
			garbage(reply.result("+QFTPSIZE: 0,1", ""))
			garbage(reply.result("+QFTPSIZE: 0,1", "QFTP.*"))
			garbage(reply.result(nil, "QFTPSIZE"))
			garbage(reply.result(42, "QFTPSIZE"))
		end)

		it("shows the line escaped and cut in the message", function()
			local e = garbage(reply.result("+QFTPSIZE: \1\"x\\\t" .. ("y"):rep(100), "QFTPSIZE"))
			assert.matches('"+QFTPSIZE: \\x01\\"x\\\\\\t' .. ("y"):rep(64) .. '..."', e.message, 1, true)
			assert.is_nil(e.message:find("[%c]"))
		end)
	end)

	describe("cfg", function()
		it("parses the =? test output of section 2.1", function()
			local t = assert(reply.cfg {
				"AT+QFTPCFG=?",
				'+QFTPCFG: "account",<username>,<password>',
				'+QFTPCFG: "filetype",(0,1)',
				'+QFTPCFG: "transmode",(0,1)',
				'+QFTPCFG: "contextid",(1-16)',
				'+QFTPCFG: "rsptimeout",(20-180)',
				'+QFTPCFG: "ssltype",(0,1)',
				'+QFTPCFG: "sslctxid",(0-5)',
				"",
				"OK",
			})
			assert.same({ username = "<username>", password = "<password>" }, t.account)
			assert.same({ lo = 0, hi = 1, ranges = { { lo = 0, hi = 0 }, { lo = 1, hi = 1 } } }, t.filetype)
			assert.same({ lo = 0, hi = 1, ranges = { { lo = 0, hi = 0 }, { lo = 1, hi = 1 } } }, t.transmode)
			assert.same({ lo = 1, hi = 16, ranges = { { lo = 1, hi = 16 } } }, t.contextid)
			assert.same({ lo = 20, hi = 180, ranges = { { lo = 20, hi = 180 } } }, t.rsptimeout)
			assert.same({ lo = 0, hi = 1, ranges = { { lo = 0, hi = 0 }, { lo = 1, hi = 1 } } }, t.ssltype)
			assert.same({ lo = 0, hi = 5, ranges = { { lo = 0, hi = 5 } } }, t.sslctxid)
		end)

		it("parses query answers", function()
			local t = assert(reply.cfg {
				'+QFTPCFG: "account","test","te,st"',
				'+QFTPCFG: "filetype",0',
				'+QFTPCFG: "transmode",1',
				'+QFTPCFG: "contextid",1',
				'+QFTPCFG: "rsptimeout",90',
				'+QFTPCFG: "ssltype",0',
				'+QFTPCFG: "sslctxid",1',
			})
			assert.same({
				account = { username = "test", password = "te,st" },
				filetype = 0, transmode = 1, contextid = 1, rsptimeout = 90, ssltype = 0, sslctxid = 1,
			}, t)
		end)

		it("takes one string with CRLF lines and spaces after commas", function()
			local t = assert(reply.cfg('\r\n+QFTPCFG: "rsptimeout", 120\r\n\r\nOK\r\n'))
			assert.same({ rsptimeout = 120 }, t)
		end)

		it("keeps unknown settings, several values as an array", function()
			local t = assert(reply.cfg { '+QFTPCFG: "future",1,"x"', '+QFTPCFG: "one","s"' })
			assert.same({ 1, "x" }, t.future)
			assert.equal("s", t.one)
		end)

		it("refuses malformed +QFTPCFG lines", function()
			garbage(reply.cfg { "+QFTPCFG: filetype,0" })
			garbage(reply.cfg { '+QFTPCFG: "filetype"' })
			garbage(reply.cfg { '+QFTPCFG: "filetype",abc' })
			garbage(reply.cfg { '+QFTPCFG: "filetype",(a-b)' })
			garbage(reply.cfg { '+QFTPCFG: "filetype",(0,1' })
			garbage(reply.cfg { '+QFTPCFG: "filetype' })
			garbage(reply.cfg { '+QFTPCFG: "",1' })
			garbage(reply.cfg(nil))
			garbage(reply.cfg { 1, 2 })
		end)

		it("returns an empty table when there is no +QFTPCFG line", function()
			assert.same({}, reply.cfg { "OK" })
			assert.same({}, reply.cfg {})
		end)
	end)

	describe("qiact", function()
		it('parses +QIACT: 1,1,1,"10.7.157.1" (chapter 3.1)', function()
			assert.same({ { context = 1, state = 1, type = 1, address = "10.7.157.1", active = true } },
				reply.qiact { "+QIACT: 1,1,1,\"10.7.157.1\"", "", "OK" })
		end)

		it("parses several contexts, IPv6 and an inactive one", function()
			local t = assert(reply.qiact('+QIACT: 1,1,1,"10.7.157.1"\r\n'
				.. '+QIACT: 2,1,2,"2001:db8::1"\r\n+QIACT: 3,0,1\r\nOK\r\n'))
			assert.equal(3, #t)
			assert.equal("2001:db8::1", t[2].address)
			assert.equal(2, t[2].type)
			assert.is_false(t[3].active)
			assert.is_nil(t[3].address)
		end)

		it("refuses malformed lines", function()
			garbage(reply.qiact { "+QIACT: 1,1" })
			garbage(reply.qiact { "+QIACT: a,1,1,\"x\"" })
			garbage(reply.qiact { "+QIACT: 1,1,1,\"x\",5" })
			garbage(reply.qiact { "+QIACT: 1,1,1,\"x" })
			garbage(reply.qiact(7))
		end)
	end)

	describe("cgreg", function()
		it("parses +CGREG: 0,1 (registered, home)", function()
			assert.same({ n = 0, stat = 1, registered = true }, reply.cgreg("+CGREG: 0,1"))
		end)

		it("classes roaming, searching and denied", function()
			assert.is_true(reply.cgreg("+CGREG: 0,5").registered)
			assert.is_false(reply.cgreg("+CGREG: 0,2").registered)
			assert.is_false(reply.cgreg("+CGREG: 0,3").registered)
			assert.is_false(reply.cgreg("+CGREG: 0,0").registered)
			assert.is_false(reply.cgreg("+CGREG: 0,4").registered)
		end)

		it("parses the long query form", function()
			assert.same({ n = 2, stat = 1, lac = "1A2B", ci = "01C3D4E5", act = 7, registered = true },
				reply.cgreg('+CGREG: 2,1,"1A2B","01C3D4E5",7\r\n'))
			assert.same({ n = 2, stat = 5, lac = "1A2B", ci = "01C3D4E5", registered = true },
				reply.cgreg('+CGREG: 2,5,"1A2B","01C3D4E5"'))
		end)

		it("parses the URC forms", function()
			assert.same({ stat = 1, registered = true }, reply.cgreg("+CGREG: 1"))
			assert.same({ stat = 1, lac = "1A2B", ci = "01C3D4E5", act = 7, registered = true },
				reply.cgreg('+CGREG: 1,"1A2B","01C3D4E5",7'))
		end)

		it("reads +CEREG and +CREG the same way", function()
			assert.is_true(reply.cgreg("+CEREG: 0,1").registered)
			assert.is_true(reply.cgreg("+CREG: 0,5").registered)
		end)

		it("refuses garbage", function()
			garbage(reply.cgreg("+CGREG: x,1"))
			garbage(reply.cgreg("+CGREG:"))
			garbage(reply.cgreg("+CGREG: 0,1,\"a\",\"b\",x"))
			garbage(reply.cgreg("+CGREG: 0,1,\"a\",\"b\",7,9"))
			garbage(reply.cgreg("+CPIN: READY"))
			garbage(reply.cgreg(nil))
		end)
	end)

	describe("cpin", function()
		it("parses READY and the manual's 'Ready'", function()
			local s, ready = reply.cpin("+CPIN: READY")
			assert.equal("READY", s)
			assert.is_true(ready)
			s, ready = reply.cpin("+CPIN: Ready\r\n")
			assert.equal("Ready", s)
			assert.is_true(ready)
		end)

		it("parses the other states as not ready", function()
			for _, st in ipairs { "SIM PIN", "SIM PUK", "NOT READY", "PH-SIM PIN", "SIM PIN2" } do
				local s, ready = reply.cpin("+CPIN: " .. st)
				assert.equal(st, s)
				assert.is_false(ready)
			end
		end)

		it("refuses garbage", function()
			garbage(reply.cpin("+CPIN:"))
			garbage(reply.cpin("+CPIN: "))
			garbage(reply.cpin("READY"))
			garbage(reply.cpin({}))
		end)
	end)

	describe("cgatt", function()
		it("parses +CGATT: 1 and 0", function()
			local s, att = reply.cgatt("+CGATT: 1")
			assert.equal(1, s)
			assert.is_true(att)
			s, att = reply.cgatt("+CGATT: 0\r\n")
			assert.equal(0, s)
			assert.is_false(att)
		end)

		it("refuses garbage", function()
			garbage(reply.cgatt("+CGATT: 2"))
			garbage(reply.cgatt("+CGATT:"))
			garbage(reply.cgatt("+CGATT: x"))
			garbage(reply.cgatt("+CGATT: 1,1"))
			garbage(reply.cgatt(false))
		end)
	end)

	describe("qflst", function()
		it("parses the quoted form (section 2.5)", function()
			assert.same({ { name = "RAM:test1.txt", size = 1000, storage = "RAM", file = "test1.txt" } },
				reply.qflst { '+QFLST: "RAM:test1.txt",1000', "", "OK" })
		end)

		it("parses the unquoted form of chapter 3.6", function()
			local t = assert(reply.qflst("+QFLST: RAM:test.txt,1000\r\n+QFLST: RAM:test1.txt,550\r\n\r\nOK\r\n"))
			assert.same({
				{ name = "RAM:test.txt", size = 1000, storage = "RAM", file = "test.txt" },
				{ name = "RAM:test1.txt", size = 550, storage = "RAM", file = "test1.txt" },
			}, t)
		end)

		it("takes the size after the last comma of an unquoted name", function()
			local t = assert(reply.qflst { "+QFLST: RAM:a,b.txt,5" })
			assert.equal("RAM:a,b.txt", t[1].name)
			assert.equal(5, t[1].size)
		end)

		it("parses quoted names with commas, spaces and no prefix", function()
			local t = assert(reply.qflst { '+QFLST: "RAM:a, b.txt", 7', '+QFLST: "plain",0' })
			assert.equal("RAM:a, b.txt", t[1].name)
			assert.equal(7, t[1].size)
			assert.is_nil(t[2].storage)
			assert.equal("plain", t[2].file)
		end)

		it("returns an empty list when there are no files", function()
			assert.same({}, reply.qflst { "OK" })
		end)

		it("refuses malformed lines", function()
			garbage(reply.qflst { "+QFLST: RAM:a" })
			garbage(reply.qflst { '+QFLST: "RAM:a",x' })
			garbage(reply.qflst { '+QFLST: "RAM:a' })
			garbage(reply.qflst { "+QFLST: ,5" })
			garbage(reply.qflst("x" == 1))
		end)
	end)

	describe("qfupl, qfdwl, qiurc", function()
		it("parses +QFUPL: 1000,707 (section 2.5)", function()
			local size, sum = reply.qfupl("+QFUPL: 1000,707")
			assert.equal(1000, size)
			assert.equal("707", sum)
			garbage(reply.qfupl("+QFUPL: x,1"))
			garbage(reply.qfupl(nil))
		end)

		it("parses +QFDWL: 1000,3a2f", function()
			local size, sum = reply.qfdwl("+QFDWL: 1000,3a2f\r\n")
			assert.equal(1000, size)
			assert.equal("3a2f", sum)
			garbage(reply.qfdwl("+QFDWL: 1000"))
			garbage(reply.qfdwl(1))
		end)

		it('parses +QIURC: "pdpdeact",1', function()
			local ev, rest = reply.qiurc('+QIURC: "pdpdeact",1')
			assert.equal("pdpdeact", ev)
			assert.same({ 1 }, rest)
			ev, rest = reply.qiurc('+QIURC: "closed"')
			assert.equal("closed", ev)
			assert.same({}, rest)
			ev, rest = reply.qiurc('+QIURC: "dnsgip","10.0.0.1"')
			assert.same({ "10.0.0.1" }, rest)
			garbage(reply.qiurc("+QIURC:"))
			garbage(reply.qiurc("+QIURC: \"x"))
			garbage(reply.qiurc("RDY"))
			garbage(reply.qiurc(nil))
		end)
	end)

	describe("mdtm", function()
		it("parses the manual's example", function()
			assert.same({ year = 2014, month = 7, day = 8, hour = 11, min = 0, sec = 39, msec = 0,
				epoch = 1404817239, text = "20140708110039" }, reply.mdtm("20140708110039"))
		end)

		it("parses milliseconds", function()
			local t = reply.mdtm("20140708110039.123")
			assert.equal(123, t.msec)
			assert.equal(1404817239, t.epoch)
			assert.equal("20140708110039.123", t.text)
			assert.equal(500, reply.mdtm("20140708110039.5").msec)
			assert.equal(50, reply.mdtm("20140708110039.05").msec)
			assert.equal(123, reply.mdtm("20140708110039.123456").msec)
		end)

		it("gets known epochs right", function()
			assert.equal(0, reply.mdtm("19700101000000").epoch)
			assert.equal(946684799, reply.mdtm("19991231235959").epoch)
			assert.equal(946684800, reply.mdtm("20000101000000").epoch)
			assert.equal(951782400, reply.mdtm("20000229000000").epoch)
			assert.equal(2147483648, reply.mdtm("20380119031408").epoch)
			assert.equal(4102444800, reply.mdtm("21000101000000").epoch)
			assert.equal(-86400, reply.mdtm("19691231000000").epoch)
		end)

		it("agrees with os.date('!...') on many instants", function()
			local epoch = 0
			for _ = 1, 500 do
				epoch = epoch + 6311389 -- about 73 days, odd seconds, across leap years to 2070
				local s = os.date("!%Y%m%d%H%M%S", epoch)
				assert.equal(epoch, reply.mdtm(s).epoch, s)
			end
		end)

		it("does not depend on the local time zone", function()
			-- Only arithmetic: no os.time, so TZ and DST cannot shift it.
			local src = assert(io.open("lua/modemftp/reply.lua")):read("a")
			assert.is_nil(src:find("os%.time%s*%("))
			assert.is_nil(src:find("os%.date%s*%("))
		end)

		it("accepts surrounding spaces and quotes, and a leap second", function()
			assert.equal(1404817239, reply.mdtm('  "20140708110039"  ').epoch)
			assert.equal(60, reply.mdtm("20161231235960").sec)
		end)

		it("checks calendar ranges", function()
			for _, s in ipairs {
				"20141308110039", "20140008110039", "20140732110039", "20140700110039",
				"20140708240039", "20140708116039", "20140708110061",
				"20230229000000", "19000229000000", "20140431000000",
			} do
				garbage(reply.mdtm(s))
			end
			assert.is_table(reply.mdtm("20240229000000"))
			assert.is_table(reply.mdtm("20000229000000"))
		end)

		it("refuses malformed text", function()
			for _, s in ipairs { "", "2014070811003", "201407081100390", "20140708110039.",
				"20140708110039.12a", "2014-07-08 11:00:39", "abcdefghijklmn", "20140708110039 x",
				"191140708110039" } do
				garbage(reply.mdtm(s))
			end
			garbage(reply.mdtm(nil))
			garbage(reply.mdtm(20140708110039))
		end)
	end)

	describe("robustness", function()
		it("never raises on random input", function()
			local alphabet = { "+QFTPSIZE:", "+QFTPPWD:", "+QFTPCFG:", "+QIACT:", "+CGREG:", "+CPIN:",
				"+CGATT:", "+QFLST:", "+QFUPL:", "+QIURC:", "+QFTPMDTM:", '"', ",", " ", "(", ")", "-",
				"0", "1", "9", "601", "\r", "\n", "\0", "\255", "a", "RAM:", "<", ">", "." }
			local seed = 12345
			local function rnd(n)
				seed = (seed * 1103515245 + 12345) % 2147483648
				return seed % n + 1
			end
			for _ = 1, 3000 do
				local parts = {}
				for i = 1, rnd(12) do parts[i] = alphabet[rnd(#alphabet)] end
				local s = table.concat(parts)
				for _, call in ipairs {
					function() return reply.result(s, "QFTPSIZE") end,
					function() return reply.result(s, "QFTPPWD") end,
					function() return reply.result(s, "QFTPOPEN") end,
					function() return reply.fields(s) end,
					function() return reply.cfg(s) end,
					function() return reply.qiact(s) end,
					function() return reply.cgreg(s) end,
					function() return reply.cpin(s) end,
					function() return reply.cgatt(s) end,
					function() return reply.qflst(s) end,
					function() return reply.qfupl(s) end,
					function() return reply.qfdwl(s) end,
					function() return reply.qiurc(s) end,
					function() return reply.mdtm(s) end,
				} do
					local ok, v, e = pcall(call)
					assert.is_true(ok, string.format("raised on %q: %s", s, tostring(v)))
					if v == nil then
						assert.is_true(errors.is(e), string.format("%q gave nil without an error object", s))
					end
				end
			end
		end)
	end)
end)
