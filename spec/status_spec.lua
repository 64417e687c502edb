-- m:status(): one read-only command per field, parsed; a field the module
-- refuses is nil with its reason; replayed answers of a module without a
-- SIM, with m:identity() when the modem has one, and of one that refuses
-- everything. (The simulator's answers: spec/cli_oneshot_spec.lua.)
local modemftp = require "modemftp"
local status = require "modemftp.status"
local sim = require "support.sim"
local cli = require "support.cli"
local helper = require "spec.helper_pure"

-- One command and its answer in the transcript format (echo, lines, final).
local function ans(cmd, lines, final)
	local body = ""
	for _, l in ipairs(lines) do body = body .. "\\r\\n" .. l .. "\\r\\n" end
	return string.format("> %s\\r\n< %s\\r%s\\r\\n%s\\r\\n\n", cmd, cmd, body, final or "OK")
end

describe("modemftp.status", function()
	helper.module_hygiene(_ENV, "modemftp.status", "lua/modemftp/status.lua", function(st)
		st.csq("+CSQ: 24,99")
		st.cops("+COPS: 0")
		st.ati { "Quectel", "EC25", "Revision: R" }
	end)

	local dir
	before_each(function() dir = sim.tmpdir() end)
	after_each(function() os.execute("rm -rf " .. sim.q(dir)) end)

	local function modem(script)
		cli.transcript(dir .. "/t.tx", script)
		return assert(modemftp.open("replay:" .. dir .. "/t.tx"))
	end

	it("parses CSQ (dBm per 27.007), COPS and ATI", function()
		assert.same({ rssi = 0, ber = 99, dbm = -113 }, status.csq("+CSQ: 0,99"))
		assert.same({ rssi = 31, ber = 0, dbm = -51 }, status.csq("+CSQ: 31,0"))
		assert.same({ rssi = 24, ber = 99, dbm = -65 }, status.csq("+CSQ: 24,99"))
		assert.same({ rssi = 99, ber = 99 }, status.csq("+CSQ: 99,99"))
		assert.is_nil(status.csq("+CSQ: x"))
		assert.same({ mode = 0, format = 0, name = "CHINA MOBILE", act = 7, act_text = "LTE" },
			status.cops('+COPS: 0,0,"CHINA MOBILE",7'))
		assert.same({ mode = 0 }, status.cops("+COPS: 0"))
		assert.is_nil(status.cops("+COPS: "))
		assert.same({ manufacturer = "Quectel", model = "EG25", revision = "EG25GGBR07A08M2G" },
			status.ati { "Quectel", "EG25", "Revision: EG25GGBR07A08M2G" })
	end)

	it("a module without a SIM: the SIM field is nil with +CME ERROR 10, the others read", function()
		local m = modem(ans("AT+CPIN?", {}, "+CME ERROR: 10")
			.. ans("AT+CGREG?", { "+CGREG: 0,2" }) .. ans("AT+CEREG?", {}, "ERROR")
			.. ans("AT+COPS?", { "+COPS: 0" }) .. ans("AT+CSQ", { "+CSQ: 99,99" }) .. ans("AT+QIACT?", {})
			.. ans("ATI", { "Quectel", "EC25", "Revision: EC25EFAR06A06M4G" }) .. ans("AT+GMR", { "EC25EFAR06A06M4G" })
			.. ans("AT+QFTPSTAT", {}) .. "< \\r\\n+QFTPSTAT: 0,4\\r\\n\n")
		local st = assert(m:status())
		assert.is_nil(st.sim)
		assert.equal("cme_error", st.errors.sim.name)
		assert.equal(10, st.errors.sim.cme)
		assert.same({ 2, "searching", false }, { st.cgreg.stat, st.cgreg.text, st.cgreg.registered })
		assert.is_nil(st.cereg)
		assert.equal("modem_error", st.errors.cereg.name)
		assert.same({ mode = 0 }, st.operator)
		assert.same({ rssi = 99, ber = 99 }, st.signal)
		assert.same({}, st.contexts)
		assert.is_nil(st.ip)
		assert.same({ manufacturer = "Quectel", model = "EC25", revision = "EC25EFAR06A06M4G", gmr = "EC25EFAR06A06M4G" },
			st.firmware)
		assert.same({ state = 4, name = "closed" }, st.ftp)
		local text = status.text(st)
		assert.truthy(text:match("^SIM%s+%(not available: at: %+CME ERROR: 10 %(SIM not inserted%)[^\n]*%)\n"), text)
		assert.truthy(text:match("\nCGREG%s+searching\n"))
		assert.truthy(text:match("\noperator%s+none %(mode 0%)\n"))
		assert.truthy(text:match("\nsignal%s+unknown %(CSQ 99,99%)\n"))
		assert.truthy(text:match("\nPDP contexts%s+none active\n"))
		assert.truthy(text:match("\nfirmware%s+Quectel EC25 revision EC25EFAR06A06M4G\n"), text)
		assert.truthy(text:match("\nFTP%s+closed %(QFTPSTAT 4%)\n$"))
		assert.is_true(m:replay_finished())
		m:close()
	end)

	it("registered with a PDP context: operator, IP; m:identity() gives the firmware when the modem has it", function()
		local m = modem(ans("AT+CPIN?", { "+CPIN: READY" }) .. ans("AT+CGREG?", { "+CGREG: 0,5" })
			.. ans("AT+CEREG?", { "+CEREG: 0,1" }) .. ans("AT+COPS?", { '+COPS: 0,0,"Operator X",7' })
			.. ans("AT+CSQ", { "+CSQ: 20,99" }) .. ans("AT+QIACT?", { '+QIACT: 1,1,1,"10.1.2.3"' })
			.. ans("AT+QFTPSTAT", {}) .. "< \\r\\n+QFTPSTAT: 0,1\\r\\n\n")
		m.identity = function() return { manufacturer = "Quectel", model = "EG25", revision = "R1" } end
		local st = assert(m:status())
		assert.equal("READY", st.sim)
		assert.equal("registered, roaming", st.cgreg.text)
		assert.equal("Operator X", st.operator.name)
		assert.equal("10.1.2.3", st.ip)
		assert.equal("R1", st.firmware.revision)
		assert.same({ state = 1, name = "idle" }, st.ftp)
		assert.same({}, st.errors)
		local text = status.text(st)
		assert.truthy(text:find("operator       Operator X (LTE)\n", 1, true), text)
		assert.truthy(text:find("PDP contexts   1 active IPv4 10.1.2.3\n", 1, true), text)
		assert.is_true(m:replay_finished())
		m:close()
	end)

	it("a module that refuses every command: nil, err", function()
		local script = ""
		for _, cmd in ipairs { "AT+CPIN?", "AT+CGREG?", "AT+CEREG?", "AT+COPS?", "AT+CSQ", "AT+QIACT?", "ATI", "AT+QFTPSTAT" } do
			script = script .. ans(cmd, {}, "ERROR")
		end
		local m = modem(script)
		local st, err = m:status()
		assert.is_nil(st)
		assert.equal("modem_error", err.name)
		m:close()
	end)
end)
