--- modemftp.oneshot: one command from the shell, curl -T / lftp -c style.
--
--   modemftp put LOCAL [REMOTE]    upload (atomic: a temporary name, then a rename)
--   modemftp get REMOTE [LOCAL]    download (LOCAL "-": to stdout)
--   modemftp ls [PATH]             the server's listing (AT+QFTPLIST)
--   modemftp rm PATH               delete a file
--   modemftp mkdir PATH            make a folder
--   modemftp mdtm PATH             modification time (UTC)
--   modemftp size PATH             size in bytes
--   modemftp at COMMAND            one raw AT command, its answer's lines
--   modemftp status                SIM, network, signal, PDP, firmware, FTP (modemftp.status)
--
-- Each takes the configuration, the port's lock, the --timeout deadline,
-- the exit statuses and the --json line of `modemftp run`
-- (`modemftp.runner` does the shared steps): `oneshot.execute` opens the
-- modem, logs in when the verb needs FTP, runs the verb's body, cleans up
-- and reports. A body returns its result table (what --json adds to the
-- line; `text` is what it prints without --json) or nil, err.
-- put and get go through a `modemftp.flow`: retries (`attempts`), resume,
-- and no truncated file under the final name.
local core = require "modemftp.core"
local errors = require "modemftp.errors"
local flow = require "modemftp.flow"
local json = require "modemftp.json"
local localfile = require "modemftp.localfile"
local Log = require "modemftp.log"
local config = require "modemftp.config"
local exitstatus = require "modemftp.exitstatus"
local runner = require "modemftp.runner"
local reply = require "modemftp.reply"
local util = require "modemftp.util"

local EXIT, RESULT = exitstatus.EXIT, exitstatus.RESULT

local M = {}

local function usage(msg)
	return errors.new { name = "usage", message = msg }
end

local function asks_json(argv)
	for _, a in ipairs(argv or {}) do
		if a == "--json" then return true end
	end
	return false
end

local function basename(path) return (path:gsub("/+$", ""):match("[^/]*$")) end

-- The lock, as `run` takes it (conf.lock_timeout, else 60 s); a person at a
-- terminal is told why nothing happens while another run holds it.
local function take_lock(conf, verb)
	local l, err = runner.lock(conf, 0)
	local wait = conf.lock_timeout or 60
	if l or err.name ~= "busy" or wait <= 0 then return l, err end
	if core.isatty(2) then
		io.stderr:write(string.format("modemftp %s: port %s is busy, waiting up to %g s\n", verb, conf.port, wait))
	end
	return runner.lock(util.merge(conf, { lock_timeout = wait }), wait)
end

-- The run's steps: configuration, deadline, lock, modem, login, the body.
-- @return status, err, result
local function steps(run, opts, operands, spec)
	local conf, cerr = runner.configure(opts, run.log)
	if not conf then return exitstatus.of(cerr), cerr end
	run.conf = conf
	if not conf.port then
		return EXIT.usage, usage("no modem port: give --port, set MODEMFTP_PORT, or `port =` in "
			.. table.concat(config.files(), " or "))
	end
	local args, aerr = spec.check(operands, opts)
	if not args then return exitstatus.of(aerr), aerr end
	core.catch_signals(true)
	if conf.timeout and conf.timeout > 0 then core.deadline(util.ms(conf.timeout), 15000, EXIT.timeout) end
	if not opts.no_lock then
		local l, err = take_lock(conf, run.verb)
		if not l then
			if err.name == "busy" then
				return EXIT.busy, errors.new { name = "busy", message = "port " .. conf.port .. " is busy: " .. err.message }
			elseif err.name == "interrupted" then
				return exitstatus.of(nil), err
			elseif err.name == "io" then
				return EXIT.tempfail, errors.new { name = "io", message = "lock: " .. err.message }
			end
			return exitstatus.of(err), err -- a lock directory that is missing (64, 78) or not the user's (77)
		end
		run.lock = l
	end
	local m, merr = runner.open_modem(conf, { trace = opts.verbose and io.stderr or nil, record = opts.record })
	if not m then return exitstatus.of(merr), merr end
	run.m = m
	local s
	if spec.ftp then
		local serr
		s, serr = runner.connect(m, conf) -- a session a dead run left open (603) is closed by m:ftp
		if not s then return exitstatus.of(serr), serr end
	end
	runner.interrupt_hook(m.port)
	local r = runner.call(spec.body, { m = m, s = s, conf = conf, log = run.log, args = args, verb = run.verb,
		flows = run.flows })
	debug.sethook()
	local ok, res, err = r[1], r[2], r[3]
	if not ok then return errors.is(res) and exitstatus.of(res) or EXIT.software, res end
	if not res then return exitstatus.of(err), err end
	return EXIT.ok, nil, res
end

local function clean_up(run)
	local m = run.m
	if m then
		if core.interrupted() or core.deadline_expired() then
			if not core.deadline_expired() then core.deadline(10000, 2000, EXIT.sigterm) end
			core.clear_interrupt()
		end
		-- an interrupted put leaves its temporary name: delete it now that commands go through
		for _, f in ipairs(run.flows) do f:cleanup() end
		if m.session then pcall(m.session.close, m.session) end
		m:close()
	end
	if run.lock then run.lock:unlock() end
	core.deadline(0)
end

--- Run one verb: the shared steps around its body, then the report.
-- @param verb the verb's name
-- @param spec {ftp = true when it logs in, check = function(operands, opts)
--   -> args or nil, usage error, body = function(ctx) -> result or nil, err}
--   (ctx: m, s, conf, log, args, verb, flows: the flows to clean up after)
-- @param opts the options (`options.parse`), or nil for a bad command line
-- @param operands the operands, or the usage error
-- @param argv the arguments after the verb (for --json after a usage error)
-- @return the exit status
function M.execute(verb, spec, opts, operands, argv)
	local started = core.monotonic_ms()
	local run = {
		verb = verb, json = (opts and opts.json) or (not opts and asks_json(argv)), flows = {},
		log = Log.new { verbose = opts and opts.verbose },
	}
	local status, err, res
	if not opts then
		status, err = EXIT.usage, operands
	else
		status, err, res = steps(run, opts, operands, spec)
	end
	if core.deadline_expired() then
		status, err = EXIT.timeout, errors.new { name = "timeout", message = "--timeout " .. tostring(run.conf.timeout)
			.. " s expired" .. ((err and not (errors.is(err) and err.name == "timeout")) and (": " .. tostring(err)) or "") }
	elseif core.interrupted() and status ~= EXIT.ok then
		status = exitstatus.of(err)
	end
	clean_up(run)
	local seconds = (core.monotonic_ms() - started) / 1000
	res = res or {}
	if status == EXIT.ok and not run.json and res.text then io.stdout:write(res.text) end
	if status ~= EXIT.ok then
		local line = run.log:redact((tostring(err):gsub("\n.*", "")))
		io.stderr:write("modemftp ", verb, ": ", line, "\n")
		if status == EXIT.usage then io.stderr:write("try 'modemftp ", verb, " --help'\n") end
	end
	if run.json then
		local out = { verb = verb, result = RESULT[status] or "failed", exit = status, duration = seconds,
			error = err ~= nil and run.log:redact((tostring(err):gsub("\n.*", ""))) or nil,
			error_name = errors.is(err) and err.name or nil }
		for k, v in pairs(res) do
			if k ~= "text" and out[k] == nil then out[k] = v end
		end
		io.stdout:write(json.encode(out), "\n")
	end
	return status
end

-- ------------------------------------------------------------------ the verbs

-- Operands: between `min` and `max` of them.
local function operands_between(verb, min, max, names)
	return function(operands)
		if #operands < min or #operands > max then
			return nil, usage(string.format("%s wants %s", verb, names))
		end
		return operands
	end
end

-- A flow over the one-shot's session: retries with conf.attempts.
local function one_flow(ctx)
	local f = flow.new { session = ctx.s, attempts = ctx.conf.attempts, log = ctx.log,
		connect = function() return runner.connect(ctx.m, ctx.conf) end }
	ctx.flows[#ctx.flows + 1] = f
	return f
end

M.VERBS = {}

M.VERBS.put = {
	ftp = true, operands = "LOCAL [REMOTE]",
	-- a missing or unreadable file is said before the modem is opened (66, 74)
	check = function(operands)
		local args, err = operands_between("put", 1, 2, "LOCAL [REMOTE]")(operands)
		if not args then return nil, err end
		local st, serr = localfile.stat("put", args[1], true)
		if not st then return nil, serr end
		if st.type == "directory" then return nil, localfile.not_a_file("put", args[1]) end
		return args
	end,
	body = function(ctx)
		local path, remote = ctx.args[1], ctx.args[2]
		if not remote or remote == "" then
			remote = basename(path)
		elseif remote:sub(-1) == "/" then
			remote = remote .. basename(path)
		end
		local n, err = one_flow(ctx):upload(path, remote)
		if not n then return nil, err end
		return { bytes = n, ["local"] = path, remote = remote,
			text = string.format("%s -> %s: %d bytes\n", path, remote, n) }
	end,
}

M.VERBS.get = {
	ftp = true, operands = "REMOTE [LOCAL]",
	check = function(operands, opts)
		local args, err = operands_between("get", 1, 2, "REMOTE [LOCAL]")(operands)
		if args and args[2] == "-" and opts.json then
			return nil, usage("get to standard output (-) and --json would share it: give a LOCAL file")
		end
		return args, err
	end,
	body = function(ctx)
		local remote, path = ctx.args[1], ctx.args[2]
		if path == "-" then
			local n, err = ctx.s:get(remote, io.stdout)
			if not n then return nil, err end
			io.stdout:flush()
			return { bytes = n, remote = remote, ["local"] = "-" }
		end
		if not path or path == "" then
			path = basename(remote)
		elseif path:sub(-1) == "/" or (core.stat(path) or {}).type == "directory" then
			path = path:gsub("/*$", "/") .. basename(remote)
		end
		local n, err = one_flow(ctx):download(remote, path)
		if not n then return nil, err end
		return { bytes = n, remote = remote, ["local"] = path,
			text = string.format("%s -> %s: %d bytes\n", remote, path, n) }
	end,
}

M.VERBS.ls = {
	ftp = true, operands = "[PATH]",
	check = operands_between("ls", 0, 1, "at most one PATH"),
	body = function(ctx)
		local entries, text = ctx.s:list(ctx.args[1])
		if not entries then return nil, text end
		if text ~= "" and text:sub(-1) ~= "\n" then text = text .. "\n" end
		return { entries = entries, path = ctx.args[1], text = text }
	end,
}

-- A verb that runs one session method on one PATH; result(value) gives
-- what it adds to its result table.
local function path_verb(verb, method, result)
	return {
		ftp = true, operands = "PATH",
		check = operands_between(verb, 1, 1, "one PATH"),
		body = function(ctx)
			local v, err = ctx.s[method](ctx.s, ctx.args[1])
			if v == nil then return nil, err end
			local out = result and result(v) or {}
			out.path = ctx.args[1]
			return out
		end,
	}
end

M.VERBS.rm = path_verb("rm", "delete")
M.VERBS.mkdir = path_verb("mkdir", "mkdir")
M.VERBS.size = path_verb("size", "size", function(n) return { size = n, text = n .. "\n" } end)
M.VERBS.mdtm = path_verb("mdtm", "mdtm", function(t)
	local iso = string.format("%04d-%02d-%02dT%02d:%02d:%02dZ", t.year, t.month, t.day, t.hour, t.min, t.sec)
	return { mdtm = iso, epoch = t.epoch, text = iso .. "\n" }
end)

-- ---------------------------------------------------------------- modemftp at

-- Commands that leave the AT channel for data mode or a prompt: raw, they
-- would leave the module waiting for bytes (or sending them) after the
-- command exits. The FTP transfers only when their local name is COM: (or
-- missing: COM: is the default); to RAM: or UFS: they stay in command mode.
local TO_COM = { QFTPPUT = true, QFTPGET = true, QFTPLIST = true, QFTPNLST = true, QFTPMLSD = true }
local DATA_MODE = {
	QFUPL = "uploads into a RAM file in data mode", QFDWL = "sends a RAM file in data mode",
	QFREAD = "sends file data", QFWRITE = "waits for file data", QISEND = "waits for socket data",
	QIRD = "sends socket data", QSSLSEND = "waits for socket data", QSSLRECV = "sends socket data",
	QHTTPPOST = "waits for the body", QHTTPPUT = "waits for the body", QHTTPREAD = "sends the body",
	CMUX = "starts the multiplexer",
}

--- Whether `modemftp at` may send a command: data-mode commands are refused.
-- @param cmd the command
-- @return true, or nil, usage error saying why and what to use
function M.at_allowed(cmd)
	local up = cmd:upper():gsub("^%s+", "")
	if not up:match("^AT") then return nil, usage("not an AT command: " .. cmd) end
	if up:match("^ATO%d*$") or up:match("^ATD") then
		return nil, usage(cmd .. " switches the channel to data mode (the module would stay there)")
	end
	-- each command of a concatenated line: AT+A;+B
	for part in (up:sub(3) .. ";"):gmatch("([^;]*);") do
		local name, rest = part:match("^%s*[+&]?(%w+)(.*)$")
		if name then
			local query = rest:match("^%s*%?") or rest:match("^%s*=%s*%?")
			if DATA_MODE[name] and not query then
				return nil, usage(string.format("AT+%s %s: not over `modemftp at` (modemftp console or a job can)", name,
					DATA_MODE[name]))
			end
			if TO_COM[name] and not query then
				local args = rest:match("^%s*=(.*)$")
				local fields = args and reply.fields(args)
				local localname = fields and fields[2]
				if not localname or localname:upper():match("^COM:") then
					return nil, usage(string.format("AT+%s to COM: transfers in data mode: use modemftp %s, or a RAM:/UFS: "
						.. "local name", name, name == "QFTPPUT" and "put" or name == "QFTPGET" and "get" or "ls"))
				end
			end
		end
	end
	return true
end

M.VERBS.at = {
	operands = "COMMAND",
	check = function(operands)
		if #operands ~= 1 then return nil, usage('at wants one COMMAND (quote it: modemftp at "AT+CSQ")') end
		if operands[1]:find("[\r\n%z]") then return nil, usage("the command must not contain CR, LF or NUL") end
		local ok, err = M.at_allowed(operands[1])
		if not ok then return nil, err end
		return operands
	end,
	body = function(ctx)
		local lines, err = ctx.m:at(ctx.args[1])
		if not lines then return nil, err end
		local text = #lines > 0 and (table.concat(lines, "\n") .. "\n") or ""
		return { command = ctx.m.port:redact(ctx.args[1]), lines = lines, text = text }
	end,
}

--- The verb functions for `modemftp.cli`'s table: name -> fn(opts, operands, argv).
-- @param name a key of `VERBS`
-- @return the function
function M.verb(name)
	local spec = assert(M.VERBS[name], name)
	return function(opts, operands, argv) return M.execute(name, spec, opts, operands, argv) end
end

return M
