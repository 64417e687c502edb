-- modemftp.identity and modemftp.capabilities: reading what the module
-- says it is (ATI, AT+QGMR, AT+CGMM) and the AT+QFTPCFG settings it lists,
-- in the forms the public outputs show (lukejenkins/cellular's EG25-G on
-- four builds and BG95-M3, the EC20 manual, GSM logs), and, on replayed
-- transcripts, that a setting or a value the module lacks is never sent.
local identity = require "modemftp.identity"
local capabilities = require "modemftp.capabilities"
local metrics = require "modemftp.metrics"
local replay = require "support.replay"

local EG25_0103 = {
	'+QFTPCFG: "account",<username>,<password>', '+QFTPCFG: "filetype",(0,1)', '+QFTPCFG: "transmode",(0,1)',
	'+QFTPCFG: "contextid",(1-16)', '+QFTPCFG: "rsptimeout",(20-180)', '+QFTPCFG: "ssltype",(0-2)',
	'+QFTPCFG: "sslctxid",(0-5)', '+QFTPCFG: "data_address",(0-2)', '+QFTPCFG: "restenable",(0,1)',
}

describe("modemftp.identity", function()
	it("reads ATI and AT+QGMR as the modules print them", function()
		local id = identity.parse({ "Quectel", "EG25", "Revision: EG25GGBR07A08M2G" }, { "EG25GGBR07A08M2G_01.003.01.003" })
		assert.same({ manufacturer = "Quectel", model = "EG25", revision = "EG25GGBR07A08M2G",
			build = "EG25GGBR07A08M2G_01.003.01.003", family = "EC2x", dialect = "qftp" }, id)
		assert.equal("Quectel EG25 (EG25GGBR07A08M2G_01.003.01.003)", identity.describe(id))
		id = identity.parse({ "Quectel", "BG95-M3", "Revision: BG95M3LAR02A03" }, { "BG95M3LAR02A03_01.011.01.011" })
		assert.same({ "BG95-M3", "LPWA", "BG95M3LAR02A03_01.011.01.011" }, { id.model, id.family, id.build })
		-- no AT+QGMR (the EC20 V1.0 set): the build is the revision
		id = identity.parse({ "Quectel", "EC20F", "Revision: EC20CEFAR06A01M4G" }, nil)
		assert.same({ "EC20F", "EC20", "EC20CEFAR06A01M4G" }, { id.model, id.family, id.build })
		assert.equal("EC200x", identity.parse({ "Quectel", "EG800K", "Revision: EG800KCNGCR07A06M04" }).family)
		assert.equal("EC200x", identity.family("EC200U"))
		assert.equal("EC2x", identity.family("EC25"))
		assert.equal("LPWA", identity.family("BG96"))
		assert.equal("unknown", identity.family("SIM7600"))
	end)

	it("takes the model from AT+CGMM when ATI gives none, and knows nothing from nothing", function()
		local id = identity.parse({ "Revision: EG25GGBR07A08M2G" }, nil, { "", "EG25" })
		assert.same({ "EG25", "EC2x" }, { id.model, id.family })
		id = identity.parse(nil, nil, nil)
		assert.same({ "unknown", "qftp" }, { id.family, id.dialect })
		assert.equal("an unidentified module", identity.describe(id))
		assert.equal("an unidentified module", identity.describe(nil))
	end)

	it("recognises the GSM dialect (Quectel_Ltd / Quectel_M95), spaces and blank lines as some logs show", function()
		local id = identity.parse({ " Quectel_Ltd", " Quectel_M95", "", " Revision: M95FAR02A08" })
		assert.same({ "Quectel_Ltd", "Quectel_M95", "M95FAR02A08", "gsm", "GSM" },
			{ id.manufacturer, id.model, id.revision, id.dialect, id.family })
		assert.equal("gsm", identity.parse(nil, nil, { "Quectel_M26" }).dialect)
	end)

	it("gives each family its behaviour, and the overrides win", function()
		local p = identity.profile(identity.parse({ "Quectel", "EG800K", "Revision: X" }))
		assert.same({ "restart", { "UFS", "SD" }, 255, 128 }, { p.resume, p.drives, p.limits.hostname, p.limits.path_name })
		p = identity.profile(identity.parse({ "Quectel", "EC20F", "Revision: X" }))
		assert.same({ "ato", { "RAM" }, 200, 255 }, { p.resume, p.drives, p.limits.hostname, p.limits.path_name })
		p = assert(identity.profile(nil, { resume = "restart", drives = "UFS:, SD", hostname_max = 100 }))
		assert.same({ "restart", { "UFS", "SD" }, 100 }, { p.resume, p.drives, p.limits.hostname })
		for _, bad in ipairs { { resume = "maybe" }, { drives = "" }, { drives = { "U F S" } }, { path_max = 0 },
			{ hostname_max = 1.5 } } do
			local q, err = identity.profile(nil, bad)
			assert.is_nil(q)
			assert.equal("argument", err.name)
		end
	end)
end)

describe("modemftp.capabilities", function()
	it("parses the forms of the real outputs", function()
		local c = capabilities.parse(EG25_0103)
		assert.same({ "account", "filetype", "transmode", "contextid", "rsptimeout", "ssltype", "sslctxid",
			"data_address", "restenable" }, c.order)
		assert.same({ lo = 1, hi = 16 }, { lo = c:range("contextid").lo, hi = c:range("contextid").hi })
		assert.same({ 0, 2 }, { c:range("ssltype").lo, c:range("ssltype").hi })
		assert.equal("text", c.settings.account.params[1].kind)
		assert.is_nil(c:range("account"))
		assert.equal('"restenable",(0,1)', c:accepts("restenable"))
		assert.is_false(c:has("cache"))
	end)

	it("reads two ranges, lists with ranges, optional and unreadable parameters", function()
		local c = capabilities.parse {
			"AT+QFTPCFG=?", "", '+QFTPCFG: "data_address",(0-2),(15-50)', '+QFTPCFG: "odd",(0,2-5)',
			'+QFTPCFG: "opt"[,(0,1)]', '+QFTPCFG: "weird",what', "+QFTPCFG: bare,(1-3)", "OK",
		}
		assert.same({ "data_address", "odd", "opt", "weird", "bare" }, c.order)
		assert.same({ 15, 50 }, { c:range("data_address", 2).lo, c:range("data_address", 2).hi })
		assert.is_true(c:check("data_address", { 2, 25 }))
		assert.is_nil(c:check("data_address", { 2, 51 }))
		assert.is_true(c:check("odd", { 3 }))
		local ok, err = c:check("odd", { 1 }, "X")
		assert.is_nil(ok)
		assert.equal("bad argument 'odd': 1 is out of range, X accepts \"odd\",(0,2-5)", err.message)
		assert.is_true(c.settings.opt.params[1].optional)
		assert.is_true(c:check("opt", { 1 }))
		assert.is_true(c:check("weird", { 12345 })) -- a form it cannot read: any value
		assert.is_true(c:check("bare", { 3 }))
	end)

	it("names the module and what it lists when it refuses", function()
		local c = capabilities.parse(EG25_0103)
		local ok, err = c:check("cache", { 1 }, "Quectel EG25 (EG25GGBR07A08M2G_01.003.01.003)", "open")
		assert.is_nil(ok)
		assert.same({ "unsupported", "open", false }, { err.name, err.op, err.retryable })
		assert.equal('Quectel EG25 (EG25GGBR07A08M2G_01.003.01.003) does not list the AT+QFTPCFG setting "cache"; '
			.. "it lists account, filetype, transmode, contextid, rsptimeout, ssltype, sslctxid, data_address, restenable",
			err.message)
		local m = capabilities.manual()
		ok, err = m:check("ssltype", { 2 }, "X")
		assert.is_nil(ok)
		assert.matches("the EC20 manual's", err.message, 1, true)
	end)
end)

describe("module settings on replayed transcripts", function()
	after_each(function() replay.assert_all_closed() end)

	local EG25_LINES = {}
	for i, l in ipairs(EG25_0103) do EG25_LINES[i] = l:gsub("^%+QFTPCFG: ", "") end
	local EG25_ATI = { "Quectel", "EG25", "Revision: EG25GGBR07A08M2G" }

	it("maps ssl to a (0-2) module's numbering and sends the newer settings it lists", function()
		local T = replay.script():identify(EG25_ATI, "EG25GGBR07A08M2G_01.003.01.003"):capabilities(EG25_LINES)
		for _, c in ipairs { '"contextid",1', '"account","test","test"', '"filetype",0', '"transmode",1',
			'"rsptimeout",90', '"ssltype",2', '"sslctxid",1', '"data_address",1', '"restenable",1' } do
			T:cmd("AT+QFTPCFG=" .. c):ok()
		end
		T:cmd('AT+QFTPOPEN="' .. replay.HOST .. '",21'):ok():urc("+QFTPOPEN: 0,0")
		T:cmd("AT+QFTPCLOSE"):ok():urc("+QFTPCLOSE: 0,0")
		local m = assert(T:open())
		local s = assert(m:ftp { host = replay.HOST, user = "test", password = "test", ssl = "explicit",
			data_address = 1, restenable = true })
		assert.is_true(s:close())
		T:finish(m)
	end)

	it("never sends a setting the module does not list, nor a value outside its range", function()
		-- after the identity and the list, the transcript ends: any command would be a mismatch
		local T = replay.script():identify(EG25_ATI, "EG25GGBR07A08M2G_01.002.01.002")
			:capabilities { '"account",<username>,<password>', '"filetype",(0,1)', '"transmode",(0,1)',
				'"contextid",(1-16)', '"rsptimeout",(20-180)', '"ssltype",(0-2)', '"sslctxid",(0-5)', '"data_address",(0-2)' }
		local m = assert(T:open())
		for _, o in ipairs { { restenable = 1 }, { cache = 0 }, { data_address = 3 }, { data_address = { 1, 25 } },
			{ context = 17 } } do
			o.host, o.user, o.password = replay.HOST, "test", "test"
			local s, err = m:ftp(o)
			assert.is_nil(s)
			assert.is_true(err.name == "unsupported" or err.name == "argument", tostring(err))
		end
		local ok, err = m:ftpcfg("restenable", 1)
		assert.is_nil(ok)
		assert.matches("EG25GGBR07A08M2G_01.002.01.002", tostring(err), 1, true)
		assert.is_nil(m:ftpcfg("restenable"))
		T:finish(m)
	end)

	it("takes an EG800K's limits: hostname up to 255 bytes, CWD path up to 128, contextid 1-15", function()
		local host = ("h"):rep(250)
		local T = replay.script():identify({ "Quectel", "EG800K", "Revision: EG800KCNGCR07A06M04" })
			:capabilities { '"account",<username>,<password>', '"filetype",(0,1)', '"transmode",(0,1)',
				'"contextid",(1-15)', '"rsptimeout",(20-180)', '"ssltype",(0-2)', '"sslctxid",(0-5)',
				'"data_address",(0-2),(15-50)', '"restenable",(0,1)', '"cache",(0-2)' }
		for _, c in ipairs { '"contextid",1', '"account","test","test"', '"filetype",0', '"transmode",1',
			'"rsptimeout",90', '"ssltype",0', '"data_address",2,25', '"cache",2' } do
			T:cmd("AT+QFTPCFG=" .. c):ok()
		end
		T:cmd('AT+QFTPOPEN="' .. host .. '",21'):ok():urc("+QFTPOPEN: 0,0")
		T:cmd('AT+QFTPCWD="/' .. ("d"):rep(127) .. '"'):ok():urc("+QFTPCWD: 0,0")
		T:cmd("AT+QFTPCLOSE"):ok():urc("+QFTPCLOSE: 0,0")
		local m = assert(T:open())
		-- a PDP context it does not have: refused before anything is sent (its family's range)
		assert.equal("EC200x", assert(m:identity()).family)
		local p, perr = m:pdp { context = 16 }
		assert.is_nil(p)
		assert.equal("bad argument 'contextid': 16 is out of range, Quectel EG800K (EG800KCNGCR07A06M04) allows 1-15",
			perr.message)
		local s, err = m:ftp { host = ("h"):rep(256), user = "test", password = "test" }
		assert.is_nil(s)
		assert.equal("bad argument 'hostname': 256 bytes, Quectel EG800K (EG800KCNGCR07A06M04) allows at most 255",
			err.message)
		s, err = m:ftp { host = host, user = "test", password = "test", context = 16 }
		assert.is_nil(s)
		assert.matches('"contextid",(1-15)', err.message, 1, true)
		-- the settings list is read now: m:pdp takes the module's own range from it
		p, perr = m:pdp { context = 16 }
		assert.is_nil(p)
		assert.matches('"contextid",(1-15)', perr.message, 1, true)
		s = assert(m:ftp { host = host, user = "test", password = "test", data_address = { 2, 25 }, cache = 2 })
		local ok
		ok, err = s:cwd("/" .. ("d"):rep(128))
		assert.is_nil(ok)
		assert.matches("allows at most 128", err.message, 1, true)
		assert.is_true(s:cwd("/" .. ("d"):rep(127)))
		assert.is_true(s:close())
		T:finish(m)
	end)

	it("refuses ssl types a (0,1) module cannot express, before anything is sent", function()
		local T = replay.script():module()
		local m = assert(T:open())
		for _, ssl in ipairs { "implicit", "explicit" } do
			local s, err = m:ftp { host = replay.HOST, ssl = ssl }
			assert.is_nil(s)
			assert.equal("unsupported", err.name)
			assert.matches('"ssltype",(0,1)', tostring(err), 1, true)
		end
		local s, err = m:ftp { host = replay.HOST, ssl = "yes please" }
		assert.is_nil(s)
		assert.equal("argument", err.name)
		T:finish(m)
	end)

	it("takes the manual's list when the module answers the test form with ERROR", function()
		local T = replay.script():identify():cmd("AT+QFTPCFG=?"):error()
		local m = assert(T:open())
		local caps = assert(m:ftp_capabilities())
		assert.equal("manual", caps.source)
		assert.is_nil(m:ftpcfg("data_address", 1))
		T:finish(m)
	end)

	it("refuses via a drive the module does not have, before anything is sent", function()
		local T = replay.script():hello()
		local m = assert(T:open { init = true })
		local n, err = m:ram_upload("UFS:x", "data")
		assert.is_nil(n)
		assert.equal("argument", err.name)
		assert.matches('"RAM:<name>"', tostring(err), 1, true)
		T:finish(m)
	end)
end)

describe("modemftp.metrics module info", function()
	it("carries the identity as labels of an info metric", function()
		local text = metrics.render { job = "j", port = "p", time = 1, exit = 0, duration = 1,
			module = { manufacturer = "Quectel", model = "EG25", revision = "EG25GGBR07A08M2G",
				build = "EG25GGBR07A08M2G_01.003.01.003" } }
		assert.truthy(text:find('modemftp_module_info{job="j",port="p",manufacturer="Quectel",model="EG25",'
			.. 'revision="EG25GGBR07A08M2G",build="EG25GGBR07A08M2G_01.003.01.003"} 1\n', 1, true))
		assert.falsy(metrics.render({ job = "j", port = "p", time = 1, exit = 0 }):find("module_info", 1, true))
	end)
end)

describe("modemftp run and the module's identity", function()
	local sim = require "support.sim"
	local cli = require "support.cli"

	it("logs it with --verbose, records it in the transcript and writes it into --metrics", function()
		local dir = sim.tmpdir()
		local probe = "> AT+CSQ\\r\n< AT+CSQ\\r\\r\\n+CSQ: 17,99\\r\\n\\r\\nOK\\r\\n\n"
			.. "> AT+CGREG?\\r\n< AT+CGREG?\\r\\r\\n+CGREG: 0,1\\r\\n\\r\\nOK\\r\\n\n"
		cli.transcript(dir .. "/t.tx", probe)
		sim.write(dir .. "/ok.lua", "return true")
		local r = cli.run({ "run", "--lock-dir", dir, "--verbose", "--metrics", dir .. "/job.prom",
			"--record", dir .. "/rec.tx", "-p", "replay:" .. dir .. "/t.tx", dir .. "/ok.lua" },
			{ env = { HOME = dir, XDG_CONFIG_HOME = dir }, timeout = 40 })
		local prom, rec = sim.read(dir .. "/job.prom") or "", sim.read(dir .. "/rec.tx") or ""
		os.execute("rm -rf " .. sim.q(dir))
		assert.equal(0, r.code, r.stderr)
		assert.truthy(r.stderr:find("debug: module Quectel EC20F (EC20CEFAR06A01M4G), family EC20", 1, true), r.stderr)
		assert.truthy(rec:find("# module: Quectel EC20F (EC20CEFAR06A01M4G), family EC20\n", 1, true))
		assert.truthy(prom:find('modemftp_module_info{job="ok.lua",port="replay:' .. dir .. '/t.tx",manufacturer="Quectel",'
			.. 'model="EC20F",revision="EC20CEFAR06A01M4G",build="EC20CEFAR06A01M4G"} 1', 1, true), prom)
	end)
end)
