--- modemftp.status: the module's state at a glance, for a person in the
-- field and for monitoring: `m:status()` in Lua, `status()` in the console,
-- `modemftp status` in the shell.
--
-- One read-only command per field (nothing is changed on the module):
--
--   sim           AT+CPIN?   "READY", "SIM PIN", ...
--   cgreg, cereg  AT+CGREG?, AT+CEREG?  {stat, text, registered, lac, ci, act}
--   operator      AT+COPS?   {mode, format, name, act, act_text}
--   signal        AT+CSQ     {rssi, ber, dbm} (dbm nil when unknown: 99)
--   contexts      AT+QIACT?  {{context, state, type, address, active}, ...}
--   ip            the first active context's address (nil: none active)
--   firmware      `m:identity()` when the modem has it, else ATI and AT+GMR:
--                 {manufacturer, model, revision, gmr}
--   ftp           AT+QFTPSTAT {state = 0-4, name = "opening" | "idle" |
--                 "transferring" | "closing" | "closed"}
--
-- A field the module refuses (an ERROR, a +CME ERROR such as 10 "SIM not
-- inserted") or answers in a form not understood is nil, and
-- `st.errors[field]` says why (an error object). `gather` fails (nil, err)
-- only when no field could be read at all.
local errors = require "modemftp.errors"
local reply = require "modemftp.reply"
local transfer = require "modemftp.transfer"

local M = {}

--- The fields, in the order they are asked and printed.
M.FIELDS = { "sim", "cgreg", "cereg", "operator", "signal", "contexts", "ip", "firmware", "ftp" }

--- 3GPP TS 27.007 <stat> of +CGREG/+CEREG.
M.REGISTRATION = {
	[0] = "not registered", [1] = "registered, home", [2] = "searching", [3] = "registration denied",
	[4] = "unknown", [5] = "registered, roaming",
}

--- <AcT> of +COPS/+CGREG/+CEREG as Quectel modules report it.
M.ACT = { [0] = "GSM", [2] = "UTRAN", [3] = "GSM/EGPRS", [4] = "UTRAN/HSDPA", [5] = "UTRAN/HSUPA",
	[6] = "UTRAN/HSPA", [7] = "LTE", [8] = "LTE Cat-M1", [9] = "LTE NB-IoT" }

local FTP_STATES = { [0] = "opening", "idle", "transferring", "closing", "closed" }

local function bad(cmd, lines, what)
	return errors.new { op = "status", name = "protocol", command = cmd,
		message = "no " .. what .. " in the answer to " .. cmd, lines = lines }
end

local function first(lines, prefix)
	for _, l in ipairs(lines) do
		if l:sub(1, #prefix) == prefix then return l end
	end
end

--- +CSQ: <rssi>,<ber> as a table; dBm from rssi (0: -113 or less, 1: -111,
-- 2-30: -109 to -53, 31: -51 or more; 99: not known).
-- @param line the line
-- @return {rssi, ber, dbm}, or nil
function M.csq(line)
	local rssi, ber = (line or ""):match("^%s*%+CSQ:%s*(%d+)%s*,%s*(%d+)")
	rssi, ber = tonumber(rssi), tonumber(ber)
	if not rssi then return nil end
	local dbm
	if rssi <= 31 then dbm = -113 + 2 * rssi end
	return { rssi = rssi, ber = ber, dbm = dbm }
end

--- +COPS: <mode>[,<format>,<oper>[,<AcT>]] as a table.
-- @param line the line
-- @return {mode, format, name, act, act_text}, or nil
function M.cops(line)
	local body = (line or ""):match("^%s*%+COPS:%s*(.-)%s*$")
	local f = body and reply.fields(body)
	local mode = f and math.tointeger(tonumber(f[1]))
	if not mode then return nil end
	local act = math.tointeger(tonumber(f[4] or ""))
	return { mode = mode, format = math.tointeger(tonumber(f[2] or "")), name = f[3], act = act, act_text = act and M.ACT[act] }
end

--- ATI's lines ("Quectel", "EC25", "Revision: EC25EFAR06A06M4G") as a table.
-- @param lines the information lines
-- @return {manufacturer, model, revision}, or nil
function M.ati(lines)
	local t = {}
	for _, l in ipairs(lines) do
		local rev = l:match("^%s*Revision:%s*(.-)%s*$")
		if rev then
			t.revision = rev
		elseif l:match("%S") and not t.manufacturer then
			t.manufacturer = l
		elseif l:match("%S") and not t.model then
			t.model = l
		end
	end
	if not (t.revision or t.model) then return nil end
	return t
end

-- The registration of one command as a table.
local function registration(line)
	local r = line and reply.cgreg(line)
	if not r then return nil end
	r.text = M.REGISTRATION[r.stat]
	r.act_text = r.act and M.ACT[r.act] or nil
	return r
end

-- Each field: how it is read (command, parse(lines) -> value or nil).
local READ = {
	sim = { "AT+CPIN?", function(lines) return (reply.cpin(first(lines, "+CPIN:") or "")) end, "+CPIN" },
	cgreg = { "AT+CGREG?", function(lines) return registration(first(lines, "+CGREG:")) end, "+CGREG" },
	cereg = { "AT+CEREG?", function(lines) return registration(first(lines, "+CEREG:")) end, "+CEREG" },
	operator = { "AT+COPS?", function(lines) return M.cops(first(lines, "+COPS:")) end, "+COPS" },
	signal = { "AT+CSQ", function(lines) return M.csq(first(lines, "+CSQ:")) end, "+CSQ" },
	contexts = { "AT+QIACT?", function(lines) return (reply.qiact(lines)) end, "+QIACT" },
}

-- The firmware: m:identity() when the modem has it, else ATI and AT+GMR.
local function firmware(m)
	if m.identity then return m:identity() end
	local lines, err = m:at("ATI")
	if not lines then return nil, err end
	local t = M.ati(lines)
	if not t then return nil, bad("ATI", lines, "Revision") end
	local gmr = m:at("AT+GMR")
	for _, l in ipairs(gmr or {}) do
		if l:match("%S") then t.gmr = l:match("^%s*(.-)%s*$"); break end
	end
	return t
end

-- AT+QFTPSTAT: OK, then +QFTPSTAT: 0,<ftpstat> (section 2.17).
local function ftp_state(m)
	local cmd = "AT+QFTPSTAT"
	local r, err = m:command(cmd, { op = "status", result = "+QFTPSTAT", result_timeout = 5, early = true })
	if not r then return nil, err end
	local v, rerr = transfer.result("status", r.result, "+QFTPSTAT", { command = cmd })
	if v == nil then return nil, rerr end
	return { state = v, name = FTP_STATES[v] }
end

--- Read the module's state.
-- @param m the modem
-- @return the status table (fields above, `errors` = {field = err}), or
--   nil, err when the module answered none of the commands
function M.gather(m)
	local st, errs = {}, {}
	local got = 0
	local function set(field, v, err)
		if v ~= nil then
			st[field], got = v, got + 1
		else
			errs[field] = err
		end
	end
	for _, field in ipairs(M.FIELDS) do
		local how = READ[field]
		if how then
			local lines, err = m:at(how[1])
			if lines then
				local v = how[2](lines)
				set(field, v, v == nil and bad(how[1], lines, how[3]) or nil)
			else
				set(field, nil, err)
			end
		elseif field == "firmware" then
			set(field, firmware(m))
		elseif field == "ftp" then
			set(field, ftp_state(m))
		end
		if field == "contexts" and st.contexts then
			for _, c in ipairs(st.contexts) do
				if c.active and c.address and c.address ~= "" then st.ip = c.address; break end
			end
		end
	end
	if got == 0 then
		local _, err = next(errs)
		return nil, err
	end
	st.errors = errs
	return st
end

local TYPES = { [1] = "IPv4", [2] = "IPv6", [3] = "IPv4v6" }

local function reg_text(r)
	if not r then return nil end
	return r.text .. (r.act_text and (" (" .. r.act_text .. ")") or "")
end

--- The status as lines for a person: "field  value", a refused field as
-- "(refused: reason)".
-- @param st what `gather` returned
-- @return the text
function M.text(st)
	local rows = {}
	local function row(label, field, value)
		if value == nil and st.errors[field] then value = "(not available: " .. tostring(st.errors[field]) .. ")" end
		rows[#rows + 1] = string.format("%-14s %s", label, value or "-")
	end
	row("SIM", "sim", st.sim)
	row("CGREG", "cgreg", reg_text(st.cgreg))
	row("CEREG", "cereg", reg_text(st.cereg))
	local op = st.operator
	row("operator", "operator", op and (op.name and (string.format("%s%s", op.name, op.act_text and (" (" .. op.act_text .. ")") or ""))
		or "none (mode " .. op.mode .. ")"))
	local sig = st.signal
	row("signal", "signal", sig and (sig.dbm and string.format("%d dBm (CSQ %d,%d)", sig.dbm, sig.rssi, sig.ber)
		or string.format("unknown (CSQ %d,%d)", sig.rssi, sig.ber)))
	local ctx
	if st.contexts then
		local parts = {}
		for _, c in ipairs(st.contexts) do
			parts[#parts + 1] = string.format("%d %s %s%s", c.context, c.active and "active" or "inactive",
				TYPES[c.type] or ("type " .. c.type), c.address and c.address ~= "" and (" " .. c.address) or "")
		end
		ctx = #parts > 0 and table.concat(parts, "; ") or "none active"
	end
	row("PDP contexts", "contexts", ctx)
	rows[#rows + 1] = string.format("%-14s %s", "IP", st.ip or "-")
	local fw = st.firmware
	row("firmware", "firmware", fw and table.concat({ fw.manufacturer, fw.model, fw.revision and ("revision " .. fw.revision),
		fw.gmr and fw.gmr ~= fw.revision and ("(AT+GMR " .. fw.gmr .. ")") or nil }, " "))
	row("FTP", "ftp", st.ftp and string.format("%s (QFTPSTAT %d)", st.ftp.name or "?", st.ftp.state))
	return table.concat(rows, "\n") .. "\n"
end

--- The `modemftp status` verb's spec for `modemftp.oneshot`.
M.VERB = {
	operands = "",
	check = function(operands)
		if #operands > 0 then return nil, errors.new { name = "usage", message = "unexpected argument " .. operands[1] } end
		return operands
	end,
	body = function(ctx)
		local st, err = ctx.m:status()
		if not st then return nil, err end
		local reasons = {}
		for k, e in pairs(st.errors) do reasons[k] = tostring(e) end
		local out = { text = M.text(st), errors = next(reasons) and reasons or nil }
		for _, f in ipairs(M.FIELDS) do out[f] = st[f] end
		return out
	end,
}

return M
