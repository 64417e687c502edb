--- modemftp.modem: a modem handle: raw AT, URC handlers, PDP context, FTP.
--
-- Created by `modemftp.open`. Holds the C port, the registered URC
-- handlers, the transfer observers (`m:observe`) and the state the module
-- reported: `m.state` (rebooted, pdpdeact, resync: the next command runs
-- `m:resync()` first, port_lost) and `m.ftpstate` (`modemftp.ftpstate`).
-- What a line from the module means (its own, a restart, a lost PDP
-- context) is the core's one table: `core.line_class`; what it does to
-- this state is decided in one place, `take`, wherever the line arrived.
--
-- Dependencies point one way: modem -> session -> storage -> transfer; the
-- modem uses all three, none of them uses the modem module.
local core = require "modemftp.core"
local errors = require "modemftp.errors"
local atarg = require "modemftp.atarg"
local reply = require "modemftp.reply"
local storage = require "modemftp.storage"
local identity = require "modemftp.identity"
local capabilities = require "modemftp.capabilities"
local recover = require "modemftp.recover"
local Session = require "modemftp.session"
local ftpstate = require "modemftp.ftpstate"
local transfer = require "modemftp.transfer"
local usbserial = require "modemftp.usbserial"
local util = require "modemftp.util"

local ms, checkopts = util.ms, util.checkopts

local Modem = {}
Modem.__index = Modem
Modem.__name = "modemftp.modem"

-- The core's raw failure tables print well too (they become error objects
-- in transfer.fail; a script using modemftp.core directly sees these).
core.set_error_metatable {
	__name = "modemftp.core_error",
	__tostring = function(e) return (e.kind or "error") .. ": " .. tostring(e.message) end,
}

-- The module restarted, or the network took the PDP context down: what
-- the runtime knew is lost. A restart also loses the PDP context and the
-- echo/verbose settings (unknown: the next command resyncs first).
-- @param what "reboot" or "pdp"
-- @param ctx the context id a pdpdeact named (or nil)
local function lost(self, what, ctx)
	if what == "reboot" then
		self.state.rebooted = true
		self.state.resync = true
		self.state.pdpdeact = self.state.pdpdeact or true
	else
		self.state.pdpdeact = ctx or self.state.pdpdeact or true
	end
	self.ftpstate = "closed"
	if self.session then self.session.closed = true end
end

--- Remember what an error says about the module (restarted, PDP context
-- gone): the session is lost either way.
-- @param err an error object
-- @return err
function Modem:note(err)
	if err.name == "rebooted" then
		lost(self, "reboot")
	elseif err.name == "pdp_deactivated" then
		lost(self, "pdp")
	elseif err.name == "closed" then
		-- the port itself failed (vanished, peer closed): `m:gone()`
		self.state.port_lost = true
		if self.session then self.session.closed = true end
	end
	return err
end

--- True when the port went away (USB re-enumeration, ser2net restart) or
-- was closed: `m:reopen()` opens its spec again.
function Modem:gone()
	return self.state.port_lost == true or not self.port:is_open()
end

-- The one place where a line the module printed by itself takes effect,
-- wherever it arrived: during a command or `m:at`, a transfer, `m:poll`, a
-- handler's own command, the sync at open. What a line means is the core's
-- table (`core.line_class`); the FTP service's state is `modemftp.ftpstate`.
local function take(self, line)
	local class = core.line_class(line)
	if class.reboot then
		lost(self, "reboot")
	elseif class.pdp_lost then
		local _, f = reply.qiurc(line)
		lost(self, "pdp", f and f[1])
	end
	ftpstate.line(self, line, class)
end

--- Open a port and say hello to the module (see `modemftp.open`).
function Modem.open(port, opts)
	if type(port) ~= "string" then
		error("bad argument #1 to 'open' (port string expected, got " .. type(port) .. ")", 2)
	end
	opts = checkopts(opts, "open")
	-- usb:VID:PID:IF and /dev/serial/by-id/... name the device; m:reopen() resolves them again
	local device, rerr = usbserial.resolve(port)
	if not device then return nil, rerr end
	local p, err = core.open(device, { baud = opts.baud, rtscts = opts.rtscts, dtr = opts.dtr,
		record = opts.record, connect_timeout_ms = opts.connect_timeout and ms(opts.connect_timeout) })
	if not p then return nil, transfer.fail("open", err, { target = port }) end
	local self = setmetatable({
		port = p,
		name = port,
		device = device,
		timeout = opts.timeout or 5,
		guard = opts.guard or 1,
		handlers = {},
		observers = {},
		state = {},
		ftpstate = "unknown", -- an earlier process may have left a session open (modemftp.ftpstate)
	}, Modem)
	if opts.trace then p:trace(opts.trace) end
	self.init = opts.init
	if opts.init ~= false then
		-- Whatever the module is doing (a dead host's transfer, a boot, a
		-- half line, ATV0...), bring it to echo on, verbose and numeric
		-- +CME errors; m.sync says what was found (modemftp.recover).
		local ok, e = self:resync(opts)
		if not ok then p:close(); return nil, e end
	end
	local perr
	self.profile_over = opts.profile
	self.behaviour, perr = identity.profile(nil, opts.profile)
	if not self.behaviour then p:close(); return nil, perr end
	if opts.init ~= false and opts.identify ~= false then
		-- what module this is belongs to the opening: ATI and AT+QGMR, two
		-- round trips once the channel is known to be clean
		local id, e = self:identity()
		if not id then p:close(); return nil, e end
	end
	return self
end

--- The module's identity (ATI, AT+QGMR, AT+CGMM where ATI names no model;
-- `modemftp.identity`), read once per port open: by `modemftp.open`
-- unless `init = false` or `identify = false`, else on first use.
-- @return {manufacturer =, model =, revision =, build =, family =,
--   dialect = "qftp" | "gsm"} (a field the module did not give is nil), or nil, err
function Modem:identity()
	if self.ident then return self.ident end
	local id, err = identity.read(self)
	if not id then return nil, err end
	local p, perr = identity.profile(id, self.profile_over)
	if not p then return nil, perr end
	self.ident, self.behaviour = id, p
	self:comment("module: " .. identity.describe(id) .. ", family " .. id.family)
	return id
end

--- The module, for messages and logs: "Quectel EG25 (EG25GGBR07A08M2G_01.003.01.003)".
function Modem:describe()
	return identity.describe(self.ident)
end

--- What the module does that AT+QFTPCFG=? cannot show, from its family
-- (`modemftp.identity.profile`) and the `profile` option of open:
-- {resume = "ato" | "restart" | "auto", drives = {"RAM"} ..., limits =
-- {hostname =, path_name =}}. Before the identity is read (init = false),
-- an unknown module's: the manual's.
function Modem:profile()
	return self.behaviour
end

-- The GSM parts' FTP dialect is another (QFTPUSER, QFTPPASS, QFTPPATH):
-- refuse it before any AT+QFTP command goes out.
local function qftp_dialect(self, op)
	local id, err = self:identity()
	if not id then return nil, err end
	if id.dialect == "gsm" then
		return nil, errors.new { op = op, name = "unsupported", retryable = false,
			message = self:describe() .. " speaks the GSM FTP dialect (AT+QFTPUSER, AT+QFTPPASS, AT+QFTPPATH, "
				.. "numeric AT+QFTPCFG): modemftp drives only the AT+QFTPCFG=\"<setting>\" family (EC2x, EG800K, BG9x)" }
	end
	return id
end

--- The FTP settings the module lists in AT+QFTPCFG=?, parsed
-- (`modemftp.capabilities`): read once per port open, on first use. A
-- module that answers the test form with ERROR gets the manual's list.
-- @return the capabilities (`caps:has(name)`, `caps:range(name)`,
--   `caps:accepts(name)`, `caps.settings`, `caps.order`), or nil, err
function Modem:ftp_capabilities()
	if self.caps then return self.caps end
	local ok, err = qftp_dialect(self, "ftp_capabilities")
	if not ok then return nil, err end
	local r
	r, err = self:command(atarg.test("QFTPCFG"), { op = "ftp_capabilities" })
	if r then
		self.caps = capabilities.parse(r.info)
		if #self.caps.order == 0 then self.caps = capabilities.manual() end
	elseif err.name == "modem_error" or err.name == "cme_error" or err.code then
		self.caps = capabilities.manual()
	else
		return nil, err
	end
	return self.caps
end

--- Bring the AT channel to a known state again (see `modemftp.recover`):
-- after a stall, a transfer that ended badly, a restart.
-- @param opts optional {boot_wait =, probe_wait =} (seconds)
-- @return m.sync, or nil, err
function Modem:resync(opts)
	local r, err = recover.sync(self, opts)
	-- the lines the sync queued (a boot burst, a pdpdeact) take effect now:
	-- a restart before a session was opened loses nothing of it
	self:dispatch()
	if not r then return nil, err end
	self.state.resync = nil -- echo, verbose and CMEE are known again
	return r
end

--- Open the port's spec again after it went away (USB re-enumeration,
-- ser2net restart), then `m:resync()`.
-- @return m.sync, or nil, err (retryable while the port is not back)
function Modem:reopen(opts)
	-- the port may now lead to another module: identity and settings anew
	self.ident, self.caps, self.behaviour = nil, nil, identity.profile(nil, self.profile_over)
	local r, err = recover.reopen(self, opts)
	if self.port:is_open() then self:dispatch() end
	if not r then return nil, err end
	self.state.resync, self.state.port_lost = nil, nil
	return r
end

function Modem:__tostring()
	return string.format("modemftp.modem (%s%s)", self.name, self.port:is_open() and "" or ", closed")
end

-- Hand one URC line to the handlers registered by `m:on` (a handler may
-- raise, not yield).
local function deliver(self, line)
	for _, h in ipairs(self.handlers) do
		if h.pattern == nil or line:find(h.pattern) then util.callback("URC handler", h.fn, line) end
	end
end

--- Dispatch queued URCs to the handlers (also updates the modem state).
-- Called after every command; call `m:poll(seconds)` to wait for URCs.
-- @return the list of URC lines dispatched
function Modem:dispatch()
	if not self.port:is_open() then return {} end -- closed by a callback of the operation
	local urcs = self.port:urcs()
	for _, line in ipairs(urcs) do self:_urc(line) end
	return urcs
end

-- One URC, wherever it arrived: its effect on the modem's state (`take`),
-- then the handlers.
function Modem:_urc(line)
	take(self, line)
	deliver(self, line)
end

--- Register a URC handler.
-- @param event "urc" (every URC), or a Lua pattern matched against the URC
--   line (e.g. '^%+QIURC: "pdpdeact"', "^RDY$")
-- @param fn function(line)
-- @return a handle for `m:off`
function Modem:on(event, fn)
	if type(event) ~= "string" then error("bad argument #1 to 'on' (string expected)", 2) end
	if type(fn) ~= "function" then error("bad argument #2 to 'on' (function expected)", 2) end
	local h = { pattern = event ~= "urc" and event or nil, fn = fn }
	table.insert(self.handlers, h)
	return h
end

--- Remove a URC handler registered by `m:on` (or an observer, see `m:unobserve`).
-- @param handle what `m:on` (or `m:observe`) returned
-- @return true, or false when it was not registered
function Modem:off(handle)
	for _, list in ipairs { self.handlers, self.observers } do
		for i, h in ipairs(list) do
			if h == handle then table.remove(list, i); return true end
		end
	end
	return false
end

--- Wait up to `seconds` for URCs and dispatch them.
-- @return the list of URC lines received (possibly empty), or nil, err
function Modem:poll(seconds)
	local list, err = self.port:poll(ms(seconds or 0))
	if not list then return nil, self:note(transfer.fail("poll", err)) end
	-- poll drained the queue already: the lines take effect here
	for _, line in ipairs(list) do self:_urc(line) end
	return list
end

--- Send one command and wait for its reply (internal building block).
-- @param cmd the AT command (no CR)
-- @param o {timeout = s, result = "+QFTPxxx", result_timeout = s, early = bool, op = name}
-- @return reply table {info=, final=, result=} or nil, err
function Modem:command(cmd, o)
	o = o or {}
	if self.state.resync and self.init ~= false then
		-- the module restarted: echo and verbose are back to its defaults
		local ok, serr = self:resync()
		if not ok then return nil, serr end
	end
	local r, err = self.port:command(cmd, {
		timeout_ms = ms(o.timeout or self.timeout),
		result = o.result,
		result_timeout_ms = o.result_timeout and ms(o.result_timeout) or nil,
		result_early = o.early,
	})
	self:dispatch()
	if not r then
		local extra = { command = self.port:redact(cmd), target = o.target }
		if err.kind == "timeout" then extra.seconds = o.result and o.result_timeout or o.timeout or self.timeout end
		return nil, self:note(transfer.fail(o.op or "at", err, extra))
	end
	return r
end

--- Raw AT command.
-- @param cmd e.g. "AT+CSQ" (no CR; the module's echo is dropped)
-- @param opts optional {timeout = seconds}
-- @return the information lines (a table, possibly empty), or nil, err
function Modem:at(cmd, opts)
	if type(cmd) ~= "string" then error("bad argument #1 to 'at' (string expected, got " .. type(cmd) .. ")", 2) end
	if cmd:find("[\r\n%z]") then error("bad argument #1 to 'at' (command must not contain CR, LF or NUL)", 2) end
	opts = checkopts(opts, "at")
	local r, err = self:command(cmd, { timeout = opts.timeout, op = "at" })
	if not r then return nil, err end
	return r.info
end

local function first_info(r, prefix)
	for _, l in ipairs(r.info) do
		if l:sub(1, #prefix) == prefix then return l end
	end
end

-- +CME ERROR codes of AT+CPIN? while the SIM is not ready yet after a
-- restart: 10 not inserted (not seen yet), 13 failure, 14 busy (capture 13).
local SIM_BUSY = { [10] = true, [13] = true, [14] = true }

-- AT+CPIN? until READY, asked again every 0.5 s while the SIM is busy, up
-- to `wait` seconds. @return true, or nil, err
local function sim_ready(self, wait)
	local deadline = core.monotonic_ms() + ms(wait)
	while true do
		local r, err = self:command("AT+CPIN?", { op = "pdp" })
		if r then
			local cpin = first_info(r, "+CPIN:")
			if cpin and select(2, reply.cpin(cpin)) then return true end
			return nil, errors.new { op = "pdp", name = "cme_error", retryable = false,
				message = "SIM not ready: " .. tostring(cpin or "no +CPIN answer") }
		end
		if not SIM_BUSY[err.cme] or core.interrupted() then return nil, err end
		local left = deadline - core.monotonic_ms()
		if left <= 0 then
			err.retryable = err.cme ~= 10 -- still "not inserted" after the wait: it is not there
			err.message = string.format("the SIM was not ready within %g s (AT+CPIN?: +CME ERROR: %d, %s)",
				wait, err.cme, err.cme == 14 and "SIM busy" or err.cme == 10 and "SIM not inserted" or "SIM failure")
			return nil, err
		end
		local ok, perr = self:poll(math.min(left, 500) / 1000) -- URCs meanwhile take effect
		if not ok then return nil, perr end
	end
end

-- The signal quality for a message: "+CSQ: 24,99", or "no +CSQ".
local function signal(self)
	local r = self:command("AT+CSQ", { op = "pdp" })
	return r and first_info(r, "+CSQ:") or "no +CSQ answer"
end

-- Registration on the packet network: AT+CGREG? and AT+CEREG? (LTE-only
-- networks answer on CEREG alone), 1 home or 5 roaming, asked every second
-- up to `wait` seconds. Denied (stat 3, nothing registered or searching) is
-- permanent and says so, with the signal quality. @return true, or nil, err
local function registered(self, wait)
	local deadline = core.monotonic_ms() + ms(wait)
	while true do
		local seen, denied, searching = {}, false, false
		for _, name in ipairs { "CGREG", "CEREG" } do
			local r, err = self:command("AT+" .. name .. "?", { op = "pdp" })
			if r then
				local line = first_info(r, "+" .. name .. ":")
				local st = line and reply.cgreg(line)
				if st and st.registered then return true end
				denied = denied or (st and st.stat == 3) or false
				searching = searching or (st and st.stat == 2) or false
				seen[#seen + 1] = line or ("no +" .. name .. " answer")
			elseif name == "CGREG" or not (err.name == "modem_error" or err.name == "cme_error") then
				return nil, err -- (a module without CEREG answers ERROR: not a failure)
			end
		end
		local states = table.concat(seen, ", ")
		if denied and not searching then
			return nil, errors.new { op = "pdp", name = "network_error", retryable = false,
				message = string.format("registration denied by the network (%s; signal %s): check the SIM's "
					.. "subscription, data plan and roaming", states, signal(self)) }
		end
		if core.monotonic_ms() >= deadline or core.interrupted() then
			return nil, errors.new { op = "pdp", name = "network_error", retryable = true,
				message = string.format("not registered on the packet network within %g s (%s; signal %s)",
					wait, states, signal(self)) }
		end
		core.sleep_ms(math.min(1000, math.max(deadline - core.monotonic_ms(), 0)))
	end
end

-- The context ctx as AT+QIACT? shows it: {context=, address=, ...}, false
-- when not active, or nil, err.
local function active(self, ctx)
	local q, err = self:command("AT+QIACT?", { op = "pdp" })
	if not q then return nil, err end
	for _, c in ipairs(reply.qiact(q.info) or {}) do
		if c.context == ctx and c.state == 1 then return c end
	end
	return false
end

-- AT+QIACT answered ERROR although nothing seemed active: the network may
-- have activated a context of its own and allow only one (capture 10: cid
-- 9 or 1 in AT+CGACT?). Deactivate what AT+CGACT? shows active, then
-- activate ctx again. @return the context, or nil, err (the first error)
local function activate_again(self, ctx, timeout, first)
	local c, err = active(self, ctx)
	if c == nil then return nil, err end
	if c then return c end -- it was active in fact
	local r
	r, err = self:command("AT+CGACT?", { op = "pdp" })
	if not r then return nil, first end
	local freed = 0
	for _, line in ipairs(r.info) do
		local cid, st = line:match("^%+CGACT:%s*(%d+)%s*,%s*(%d+)")
		if cid and st == "1" then
			if self:command("AT+CGACT=0," .. cid, { op = "pdp", timeout = 40 }) then freed = freed + 1 end
		end
	end
	if freed == 0 then return nil, first end
	r, err = self:command(atarg.command("QIACT", ctx), { op = "pdp", timeout = timeout })
	if not r then return nil, err end
	c, err = active(self, ctx)
	if c == nil then return nil, err end
	return c
end

--- Activate a PDP context, with the checks of section 1.4.
-- CPIN must be READY (asked again while the SIM is busy after a restart:
-- +CME ERROR 10, 13, 14, up to `sim_wait`); PS attach (CGATT) is requested
-- when missing; registration (AT+CGREG? or AT+CEREG?: 1 home or 5 roaming)
-- is awaited, registration denied fails at once (not retryable, with
-- AT+CSQ in the message); QICSGP sets the APN; QIACT activates unless
-- QIACT? shows the context active already. QIACT answered ERROR while the
-- network holds a context of its own (AT+CGACT?) deactivates that one and
-- activates again.
-- @param opts {context = 1, apn = "internet", user = "", password = "",
--   auth = 0 (0 none, 1 PAP, 2 CHAP, 3 both), type = 1 (1 IPv4, 2 IPv6, 3 both),
--   sim_wait = 20 (seconds), register_timeout = 60 (seconds), timeout = 150
--   (QIACT seconds)}
-- @return {context =, ip =}, or nil, err
function Modem:pdp(opts)
	opts = checkopts(opts, "pdp")
	local ctx, err = atarg.contextid(opts.context or 1)
	if not ctx then err.op = "pdp"; return nil, err end
	-- the module's own range: its AT+QFTPCFG=? list when read, else its
	-- family's (EG800K: 1-15) when its identity is known
	local ok
	if self.caps and self.caps:range("contextid") then
		ok, err = self.caps:check("contextid", { ctx }, self:describe(), "pdp")
		if not ok then return nil, err end
	elseif self.ident and self.behaviour.limits.context and ctx > self.behaviour.limits.context then
		return nil, errors.new { op = "pdp", target = "contextid", name = "argument", retryable = false,
			message = string.format("bad argument 'contextid': %d is out of range, %s allows 1-%d", ctx,
				self:describe(), self.behaviour.limits.context) }
	end
	ok, err = sim_ready(self, opts.sim_wait or 20)
	if not ok then return nil, err end
	local r
	r, err = self:command("AT+CGATT?", { op = "pdp" })
	if not r then return nil, err end
	local att = first_info(r, "+CGATT:")
	if not (att and select(2, reply.cgatt(att))) then
		r, err = self:command("AT+CGATT=1", { op = "pdp", timeout = 140 })
		if not r then return nil, err end
	end
	ok, err = registered(self, opts.register_timeout or 60)
	if not ok then return nil, err end
	local apn, aerr = atarg.quote(opts.apn or "", "apn", 100)
	if not apn then aerr.op = "pdp"; return nil, aerr end
	local user, uerr = atarg.quote(opts.user or "", "user", 127)
	if not user then uerr.op = "pdp"; return nil, uerr end
	local pass, perr = atarg.quote(opts.password or "", "password", 127)
	if not pass then perr.op = "pdp"; return nil, perr end
	if opts.password and opts.password ~= "" then self.port:secret(opts.password) end
	local auth = atarg.int(opts.auth or 0, "auth", 0, 3)
	local ptype = atarg.int(opts.type or 1, "type", 1, 3)
	if not auth or not ptype then return nil, errors.argument("pdp", "bad argument 'auth' (0-3) or 'type' (1-3)") end
	r, err = self:command(atarg.command("QICSGP", ctx, ptype, apn, user, pass, auth), { op = "pdp" })
	if not r then return nil, err end
	local c
	c, err = active(self, ctx)
	if c == nil then return nil, err end
	if not c then
		local timeout = opts.timeout or 150
		r, err = self:command(atarg.command("QIACT", ctx), { op = "pdp", timeout = timeout })
		if r then
			c, err = active(self, ctx)
		elseif err.name == "modem_error" or err.name == "cme_error" then
			c, err = activate_again(self, ctx, timeout, err)
		else
			return nil, err
		end
		if c == nil then return nil, err end
	end
	self.state.pdpdeact, self.state.rebooted = nil, nil
	self.state.context = ctx
	return { context = ctx, ip = c and c.address or nil }
end

-- Every failure of pdp names its APN (the printed line shows the command
-- and the APN, and what to check: errors.advice).
local activate = Modem.pdp
function Modem:pdp(opts)
	opts = checkopts(opts, "pdp")
	local r, err = activate(self, opts)
	if not r then err.apn = opts.apn or "" end
	return r, err
end

--- Deactivate a PDP context (AT+QIDEACT).
-- @param context the context id (default: the one `pdp` activated, else 1)
-- @return true, or nil, err
function Modem:pdp_close(context)
	local ctx, err = atarg.contextid(context or self.state.context or 1)
	if not ctx then return nil, err end
	local r
	r, err = self:command(atarg.command("QIDEACT", ctx), { op = "pdp_close", timeout = 40 })
	if not r then return nil, err end
	return true
end

--- Read or set one AT+QFTPCFG setting (section 2.1).
-- `m:ftpcfg("filetype")` queries; `m:ftpcfg("filetype", 0)` sets;
-- `m:ftpcfg("account", user, password)`.
-- @return the value (query: number, or {username=, password=} for account),
--   true (set), or nil, err
function Modem:ftpcfg(setting, a, b)
	local caps, err = self:ftp_capabilities()
	if not caps then err.op = "ftpcfg"; return nil, err end
	local cmd
	cmd, err = atarg.cfg(setting, a, b, caps, self:describe())
	if not cmd then err.op = "ftpcfg"; return nil, err end
	if setting == "account" and type(b) == "string" and b ~= "" then self.port:secret(b) end
	local r
	r, err = self:command(cmd, { op = "ftpcfg", target = setting })
	if not r then return nil, err end
	if a ~= nil then return true end
	local t = reply.cfg(r.info)
	if t and setting == "data_address" and type(t[setting]) == "table" then return table.unpack(t[setting]) end
	if not t or t[setting] == nil then
		return nil, errors.new { op = "ftpcfg", target = setting, name = "protocol",
			message = "no +QFTPCFG answer for " .. setting, lines = r.info }
	end
	return t[setting]
end

--- Run a command's test form ("AT+QFTPxxx=?") and return its lines.
-- @param name "QFTPCFG", "QFTPPUT", ... (any extended command)
-- @return the information lines, or nil, err
function Modem:test(name)
	local r, err = self:command(atarg.test(name), { op = "test", target = name })
	if not r then return nil, err end
	return r.info
end

--- Log in to an FTP server (QFTPCFG settings, then QFTPOPEN). The
-- settings are checked against the module's AT+QFTPCFG=? first.
-- @param opts {host =, port = 21, user =, password =, context = 1,
--   filetype = "binary"|"ascii" (or 0|1), passive = true, timeout = 90
--   (rsptimeout, seconds, 20-180), ssl = false | true | "implicit" |
--   "explicit" (FTPS in the module's ssltype numbering; needs passive),
--   sslctxid = 1, data_address = n or {type, data_timeout}, restenable =
--   bool or 0|1, cache = n (these three only where the module lists them),
--   password_source = where the password came from (a file, an option:
--   named when the server refuses the login)}
-- @return a Session, or nil, err (a failed login or connect says what to
--   check: the user, the password's source, the PDP context, host and port)
function Modem:ftp(opts)
	opts = checkopts(opts, "ftp")
	local s, err = Session.open(self, opts)
	if not s and err.op == "open" and (err.code or err.protocol_error) then
		-- what the message needs to say what to do (errors.advice): whom the
		-- server refused, where the password came from, whether the PDP
		-- context was up at all (a refused connection and no context give
		-- the same 605/606)
		err.user, err.host, err.port = opts.user or "anonymous", opts.host, opts.port or 21
		err.password_source = opts.password_source
		if err.code and err.code >= 604 and err.code <= 609 then
			local ctx = opts.context or self.state.context or 1
			local q = self:command("AT+QIACT?", { op = "open" })
			local up = false
			for _, c in ipairs(q and reply.qiact(q.info) or {}) do
				if c.context == ctx and c.state == 1 then up = true end
			end
			if q then err.pdp_active, err.context = up, ctx end
		end
	end
	return s, err
end

--- The module's FTP service state (AT+QFTPSTAT; no session needed): also
-- kept in `m.ftpstate` (see `modemftp.ftpstate`).
-- @return the number (0-4) and its name ("opening", "idle", "transferring",
--   "closing", "closed"), or nil, err
function Modem:ftp_stat()
	return ftpstate.stat(self)
end

--- Close the module's FTP session whoever opened it (an earlier process,
-- a session this process lost track of), returning only once the module
-- says it is closed (see `ftpstate.close`).
-- @param rsptimeout seconds the close may take (default 90)
-- @return true, or nil, err
function Modem:ftp_close(rsptimeout)
	if self.session then self.session.closed = true; self.session = nil end
	return ftpstate.close(self, rsptimeout, "close")
end

--- Upload bytes into a module file (AT+QFUPL), on one of the module's
-- drives (`m:profile().drives`: "RAM" on the EC20, "UFS", "SD" on an EG800K).
-- @param name "UFS:name" (or just "name": the module's first drive)
-- @param source a string, a Lua file, or a function (then opts.size)
-- @param opts {size = n (required for a function), timeout = seconds, ack = bool}
-- @return bytes, checksum, or nil, err
function Modem:storage_upload(name, source, opts)
	return storage.upload(self, name, source, opts)
end

--- Download a module file (AT+QFDWL) into a sink (path, file, function, or nil for a string).
function Modem:storage_download(name, sink, opts)
	return storage.download(self, name, sink, opts)
end

--- List module files (AT+QFLST): { {name=, size=, storage=, file=}, ... }
-- @param pattern "UFS:*", or a pattern on the first drive (default "*")
function Modem:storage_list(pattern)
	return storage.list(self, pattern)
end

--- Delete module files (AT+QFDEL), "UFS:name" or "UFS:*".
function Modem:storage_delete(name)
	return storage.delete(self, name)
end

--- The RAM-file names of the storage functions (a name without a drive is
-- on "RAM:"), as before the other drives: `m:ram_upload(name, source,
-- opts)`, `m:ram_download(name, sink, opts)`, `m:ram_list(pattern)`,
-- `m:ram_delete(name)`. A module without a RAM drive refuses them.
function Modem:ram_upload(name, source, opts)
	opts = util.merge(checkopts(opts, "ram_upload"), { op = "ram_upload" })
	return storage.upload(self, name, source, opts, "RAM")
end
function Modem:ram_download(name, sink, opts)
	opts = util.merge(checkopts(opts, "ram_download"), { op = "ram_download" })
	return storage.download(self, name, sink, opts, "RAM")
end
function Modem:ram_list(pattern)
	return storage.list(self, pattern, "RAM", "ram_list")
end
function Modem:ram_delete(name)
	return storage.delete(self, name, "RAM", "ram_delete")
end

--- Watch the file transfers of this modem's sessions: every `s:put` and
-- `s:get` (whatever the source, sink or route: COM, RAM, packets), e.g. to
-- count bytes or draw progress. `fn(ev)` is called when a transfer starts
-- (ev.phase "start"), as it moves (ev.phase "progress", only with
-- `opts.progress`) and when it ends (ev.phase "done"). ev = {op = "put" |
-- "get", target = the remote name, direction = "up" | "down", phase,
-- bytes = bytes so far (done: what moved, err.bytes on a failure), total =
-- the size when known (progress), ok = true | false (done), err = the error
-- object (done, failed), watched = true when the caller passed its own
-- `progress`}. An error raised by fn ends the transfer as the caller's own
-- progress function would.
-- @param fn function(ev)
-- @param opts optional {progress = true (also the "progress" events)}
-- @return a handle for `m:unobserve`
function Modem:observe(fn, opts)
	if type(fn) ~= "function" then error("bad argument #1 to 'observe' (function expected)", 2) end
	opts = checkopts(opts, "observe")
	local h = { fn = fn, progress = opts.progress and true or false }
	table.insert(self.observers, h)
	return h
end

--- Stop an observer registered by `m:observe` (the same as `m:off`):
-- true, or false when it was not registered.
Modem.unobserve = Modem.off

--- The module's state at a glance: SIM, registration, operator, signal,
-- PDP contexts, firmware, FTP service (see `modemftp.status`).
-- @return the table (a field the module refused is nil, its reason in
--   `st.errors[field]`), or nil, err when the module answered nothing
function Modem:status()
	return require("modemftp.status").gather(self)
end

--- Write a comment into the transcript being recorded (no-op otherwise).
function Modem:comment(text)
	self.port:comment(tostring(text))
end

--- For a replay port: true when the whole transcript was played, else nil, err.
function Modem:replay_finished()
	local ok, err = self.port:replay_finished()
	if not ok then return nil, transfer.fail("replay", err) end
	return true
end

--- Close the port (idempotent). An open FTP session is not logged out: call
-- `s:close()` first for a clean logout. From a callback of a transfer (a
-- sink, a source, progress, an observer's progress) it raises an error
-- object named "closed": that stops the transfer (the core leaves data
-- mode cleanly), then the port closes and the transfer returns nil and that
-- error.
-- @return true
function Modem:close()
	if self.transferring then
		self.closing = true
		error(errors.new { op = "close", name = "closed",
			message = "the modem was closed by a callback of the transfer" }, 2)
	end
	if self.port:is_open() then self.port:close() end
	return true
end

Modem.__close = Modem.close
Modem.__gc = Modem.close

return Modem
