--- modemftp.console: the interactive console of `modemftp console`.
--
-- A Lua 5.4 read-eval-print loop with the modem opened as `m`: each line is
-- tried as an expression first ("return " .. line), then as a statement;
-- an incomplete chunk asks for more lines. Results are pretty-printed
-- (tables too, error objects as their one-line text). Line editing,
-- history and Tab completion come from `modemftp.readline` on a terminal;
-- without it (or on a pipe) lines are read with io.read.
--
-- Helpers in the console's environment: `m`, `at(cmd)`, `ftp(opts)` (PDP
-- and login from the configuration; also sets `s`), `status()` (the
-- module's state, `modemftp.status`), `flow`, `errors`, `modemftp`, `core`,
-- `conf`, `pp(v)`, `help()`, `quit()`.
--
-- SIGINT (with core.catch_signals on) aborts the transfer or the Lua code
-- in progress and returns to the prompt; at the prompt it drops the line.
-- A transfer stopped so can leave the module holding it (a paused download
-- answers every FTP command with 603): the console then logs out and in
-- again, in the same session object, and says so.
--
-- URCs are printed as they come ("urc: +QIURC: ..."): during a command,
-- and at the prompt too (readline's idle call polls the port every 250 ms).
-- Tab completion offers public names only (no `_private` fields unless the
-- word starts with "_", no metatable internals).
--
-- `console.main(opts, operands)` is the `modemftp console` verb:
-- configuration, log, lock and modem as `modemftp run` takes them
-- (`modemftp.runner`), then `console.run`; with `-e CODE` or a SCRIPT
-- operand (its arguments after it, in `arg` and `...`) it runs that instead
-- of reading lines, and its exit status follows the first failure: a Lua
-- error, or `nil, err` as the results (`modemftp.exitstatus`; a script that
-- cannot be read or compiled: 66). Lines piped in stop at the first failure
-- the same way. While it runs, put/get draw a progress line that fits the
-- terminal's width through a transfer observer (`m:observe`).
local core = require "modemftp.core"
local errors = require "modemftp.errors"
local modemftp = require "modemftp"
local flow = require "modemftp.flow"
local config = require "modemftp.config"
local Log = require "modemftp.log"
local exitstatus = require "modemftp.exitstatus"
local runner = require "modemftp.runner"
local util = require "modemftp.util"

local EXIT = exitstatus.EXIT

local M = {}

-- ------------------------------------------------------------ pretty printer

local KEYWORDS = {}
for w in ([[and break do else elseif end false for function goto if in local nil not or
repeat return then true until while]]):gmatch("%a+") do KEYWORDS[w] = true end

local function quote(s)
	return util.quote(s, "\\x%02x")
end

local function keystr(k)
	if type(k) == "string" and k:match("^[%a_][%w_]*$") and not KEYWORDS[k] then return k end
	if type(k) == "string" then return "[" .. quote(k) .. "]" end
	return "[" .. tostring(k) .. "]"
end

local function has_tostring(v)
	local mt = getmetatable(v)
	return type(mt) == "table" and rawget(mt, "__tostring") ~= nil
end

local function sorted_keys(t)
	local keys, n = {}, #t
	for k in pairs(t) do
		if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
	end
	table.sort(keys, function(a, b)
		local ta, tb = type(a), type(b)
		if ta ~= tb then return ta < tb end
		if ta == "number" or ta == "string" then return a < b end
		return tostring(a) < tostring(b)
	end)
	return keys, n
end

--- Render a value as readable text: strings quoted, tables expanded with
-- sorted keys (one line when short), cycles and depth limited, error
-- objects and objects with __tostring as their text.
-- @param v the value
-- @param opts {depth = 4, width = 78, max_items = 200}
-- @return the text
function M.pretty(v, opts)
	opts = opts or {}
	local maxdepth, width, max_items = opts.depth or 4, opts.width or 78, opts.max_items or 200
	local seen = {}
	local function render(x, indent, depth)
		local t = type(x)
		if t == "string" then return quote(x) end
		if t ~= "table" then
			if t == "userdata" and has_tostring(x) then return tostring(x) end
			return tostring(x)
		end
		if errors.is(x) then return "error: " .. tostring(x) end
		if has_tostring(x) then return tostring(x) end
		if seen[x] then return "<cycle>" end
		if depth >= maxdepth then return "{...}" end
		seen[x] = true
		local keys, n = sorted_keys(x)
		local items = {}
		local pad = indent .. "  "
		for i = 1, n do
			if #items >= max_items then break end
			items[#items + 1] = render(x[i], pad, depth + 1)
		end
		for _, k in ipairs(keys) do
			if #items >= max_items then items[#items + 1] = "..."; break end
			items[#items + 1] = keystr(k) .. " = " .. render(x[k], pad, depth + 1)
		end
		seen[x] = nil
		if #items == 0 then return "{}" end
		local one = "{ " .. table.concat(items, ", ") .. " }"
		if #one + #indent <= width and not one:find("\n", 1, true) then return one end
		return "{\n" .. pad .. table.concat(items, ",\n" .. pad) .. "\n" .. indent .. "}"
	end
	return render(v, "", 0)
end

-- ------------------------------------------------------------------ progress

local function human(n)
	local units = { "B", "KiB", "MiB", "GiB" }
	local i = 1
	while n >= 1024 and i < #units do n = n / 1024; i = i + 1 end
	return i == 1 and string.format("%d %s", math.floor(n), units[i]) or string.format("%.1f %s", n, units[i])
end
M.human = human

local function clock(secs)
	secs = math.floor(secs + 0.5)
	if secs >= 3600 then return string.format("%d:%02d:%02d", secs // 3600, secs % 3600 // 60, secs % 60) end
	return string.format("%d:%02d", secs // 60, secs % 60)
end

--- The terminal's width in columns: the terminal on `fd` (TIOCGWINSZ,
-- asked again each time, so a resized window is followed), else COLUMNS,
-- else 80.
-- @param fd the descriptor (1)
-- @return columns
function M.columns(fd)
	return core.term_columns(fd or 1) or math.tointeger(tonumber(os.getenv("COLUMNS") or "")) or 80
end

-- Fit a progress line into `width` columns: "label  [bar]  pct  size
-- rate  eta", the bar 20 wide at most; when that is too wide the bar
-- shrinks (to 5 columns) or goes, then the rate goes, then the ETA; the
-- label is cut last.
-- @param label the transfer's label
-- @param frac the fraction done, or nil (size unknown: no bar, no percent)
-- @param p {pct =, size =, rate =, eta =} texts (pct, eta may be nil)
-- @param width the columns there are
local function fit(label, frac, p, width)
	local function pick(...)
		local t = {}
		for i = 1, select("#", ...) do
			local v = select(i, ...)
			if v then t[#t + 1] = v end
		end
		return t
	end
	local choices = { pick(p.pct, p.size, p.rate, p.eta), pick(p.pct, p.size, p.eta), pick(p.pct, p.size) }
	for _, t in ipairs(choices) do
		if frac then
			local room = width - #table.concat({ label, "[]", table.unpack(t) }, "  ")
			if room >= 5 then
				local w = math.min(room, 20)
				local full = math.floor(frac * w + 0.5)
				local bar = "[" .. string.rep("#", full) .. string.rep(".", w - full) .. "]"
				return table.concat({ label, bar, table.unpack(t) }, "  ")
			end
		end
		local text = table.concat({ label, table.unpack(t) }, "  ")
		if #text <= width then return text end
	end
	local text = table.concat({ label, table.unpack(choices[3]) }, "  ")
	if #text > width then text = text:sub(1, math.max(width, 1)) end
	return text
end

--- A progress reporter for one transfer.
-- On a terminal: one redrawn line "put a.bin [#####.....]  45%  1.2 MiB
-- 34.5 KiB/s  ETA 0:12" that fits the terminal's width (less a column, so
-- the cursor never wraps; the width is asked at each redraw); otherwise a
-- plain line every `every` seconds and one at the end.
-- @param o {out = Lua file (io.stdout), tty = bool, label = text, every = 2,
--   now = function() -> ms (core.monotonic_ms), width = function() ->
--   columns (`console.columns`)}
-- @return update(bytes, total), finish(ok)
function M.progress(o)
	local out, now = o.out or io.stdout, o.now or core.monotonic_ms
	local columns = o.width or M.columns
	local t0 = now()
	local last_print, last_bytes, last_total, drawn = t0, 0, nil, false
	local function rate(bytes)
		local secs = math.max((now() - t0) / 1000, 0.001)
		return bytes / secs, secs
	end
	local function line(bytes, total, suffix)
		suffix = suffix or ""
		local r, secs = rate(bytes)
		local frac = total and total > 0 and math.min(bytes / total, 1) or nil
		local p = { size = human(bytes), rate = human(r) .. "/s",
			pct = frac and string.format("%3d%%", math.floor(frac * 100)) or nil }
		if total and total > 0 and bytes < total and r > 0 then
			p.eta = "ETA " .. clock((total - bytes) / r)
		elseif total and bytes >= total then
			p.eta = "in " .. clock(secs)
		end
		local width = o.tty and (columns() - 1 - #suffix) or math.huge
		return fit(o.label or "transfer", frac, p, width) .. suffix
	end
	local function update(bytes, total)
		last_bytes, last_total = bytes, total
		if o.tty then
			out:write("\r\27[K", line(bytes, total))
			out:flush()
			drawn = true
		elseif now() - last_print >= (o.every or 2) * 1000 then
			last_print = now()
			out:write(line(bytes, total), "\n")
			out:flush()
		end
	end
	local function finish(ok)
		if o.tty then
			if drawn then out:write("\r\27[K", line(last_bytes, last_total, ok and "" or "  (failed)"), "\n") end
		elseif drawn or now() - t0 >= 0 then
			local r, secs = rate(last_bytes)
			out:write(string.format("%s: %d bytes in %.1f s (%s/s)%s\n", o.label or "transfer", last_bytes, secs,
				human(r), ok and "" or ", failed"))
		end
		out:flush()
	end
	return update, finish
end

-- While the console runs, each put/get of the modem's sessions without a
-- `progress` option of its own draws one (an observer, see m:observe).
-- @return a function that stops it
local function show_transfers(m, out, tty)
	if not m then return function() end end
	local update, finish
	local handle = m:observe(function(ev)
		if ev.watched then return end
		if ev.phase == "start" then
			update, finish = M.progress { out = out, tty = tty, label = ev.op .. " " .. tostring(ev.target) }
		elseif ev.phase == "progress" then
			update(ev.bytes, ev.total)
		else
			finish(ev.ok)
		end
	end, { progress = true })
	return function() m:unobserve(handle) end
end

-- ---------------------------------------------------------------- completion

local function methods_of(v, out, want_fn)
	local seen_tables = {}
	local function add_table(t)
		if type(t) ~= "table" or seen_tables[t] then return end
		seen_tables[t] = true
		for k, x in pairs(t) do
			if type(k) == "string" and k:match("^[%a_][%w_]*$") and (not want_fn or type(x) == "function")
				and not k:match("^__") then
				out[k] = true
			end
		end
	end
	if type(v) == "table" then add_table(v) end
	local mt = getmetatable(v)
	local depth = 0
	while type(mt) == "table" and depth < 5 do
		local idx = rawget(mt, "__index")
		if type(idx) ~= "table" then break end
		add_table(idx)
		mt = getmetatable(idx)
		depth = depth + 1
	end
	if type(v) == "string" then add_table(string) end
end

--- Completion candidates for `text` at `start` in `line` (0-based offset,
-- as readline gives it): globals, `obj.field` and `obj:method`; public
-- names only: a name that starts with "_" (a private field such as
-- `s._alive`, or `_G`) only when `text` does too, and never a metatable's
-- "__" entries.
-- @param env the console environment
-- @return array of candidates (sorted)
function M.complete(env, text, line, start)
	local before = line:sub(1, start)
	local names = {}
	local expr, sep = before:match("([%a_][%w_%.:]*)([%.:])$")
	if expr then
		local v = env
		for part in expr:gmatch("[^%.:]+") do
			if type(v) ~= "table" and type(v) ~= "userdata" and type(v) ~= "string" then v = nil; break end
			local ok, x = pcall(function() return v[part] end)
			v = ok and x or nil
			if v == nil then break end
		end
		if v ~= nil then methods_of(v, names, sep == ":") end
	else
		methods_of(env, names, false)
		for k in pairs(_G) do if type(k) == "string" then names[k] = true end end
		for k in pairs(KEYWORDS) do names[k] = true end
	end
	local out = {}
	local private_ok = text:sub(1, 1) == "_"
	for k in pairs(names) do
		if k:sub(1, #text) == text and (private_ok or k:sub(1, 1) ~= "_") then out[#out + 1] = k end
	end
	table.sort(out)
	return out
end

-- ------------------------------------------------------------------ the REPL

local HELP = [[
m                 the modem: m:at("AT+CSQ"), m:pdp{apn=...}, m:ftp{...}, m:status(), m:identity(), m:storage_list()
at "AT+CSQ"       a raw AT command: the information lines
s = ftp()         PDP context + FTP login from the configuration (overrides: ftp{host=...})
s:list()  s:nlst()  s:size(name)  s:mdtm(name)  s:cwd(dir)  s:pwd()
s:put(remote, localpath)   s:get(remote, localpath)   s:read(name)   s:write(name, data)
f = flow.new{session = s}  f:upload(path, remote)  f:download(remote, path)
status()          SIM, registration, operator, signal, PDP, firmware, FTP (m:status() as a table)
pp(v)             pretty-print;  conf  the configuration;  errors, core, modemftp
Ctrl-C aborts the transfer or code in progress; Ctrl-D or quit() leaves.]]

--- Compile a console chunk: expression first, then statement.
-- @param src the text
-- @param env the environment
-- @param name the chunk name ("=console")
-- @return function, or nil, message, incomplete (true when more lines could complete it)
function M.compile(src, env, name)
	name = name or "=console"
	-- `select(1, ...)` keeps a call in the expression from being a tail
	-- call, so an error in it still names the console's line
	local f = load("return " .. src, name, "t", env)
	if f then return load("return select(1, " .. src .. "\n)", name, "t", env) or f end
	local err
	f, err = load(src, name, "t", env)
	if f then return f end
	if err:match("<eof>$") then return nil, err, true end
	return nil, err, false
end

--- Show the results of one evaluation.
local function show(out, r)
	if r.n == 0 then return end
	local parts = {}
	for i = 1, r.n do parts[i] = M.pretty(r[i]) end
	out:write(table.concat(parts, "\t"), "\n")
end

-- The failure of one evaluation (xpcall's packed results): the error it
-- raised, or the error object of a `nil, err` it returned; else nil.
local function failure_of(r)
	if not r[1] then return r[2] end
	if r.n >= 3 and r[2] == nil and errors.is(r[3]) then return r[3] end
	return nil
end

--- Run the console until end of input or quit(), or run `execute` and
-- `script` instead.
-- @param o {modem = m or nil, conf = table, log = logger, input = Lua file
--   (io.stdin), output = Lua file (io.stdout), errors = Lua file (io.stderr),
--   readline = module, false (none) or nil (load modemftp.readline on a
--   terminal), history = path, execute = CODE, script = path, args = the
--   script's arguments}
-- @return exit status: 0, or the first failure's (`exitstatus.of`; 66 for
--   a script that cannot be read or compiled)
function M.run(o)
	o = o or {}
	local input, out, errout = o.input or io.stdin, o.output or io.stdout, o.errors or io.stderr
	local batch = o.execute ~= nil or o.script ~= nil
	local tty_in = not batch and input == io.stdin and core.isatty(0)
	local tty_out = out == io.stdout and core.isatty(1)
	local rl = o.readline
	if rl == nil and tty_in then
		local ok, mod = pcall(require, "modemftp.readline")
		rl = ok and mod or false
	end
	local m, conf = o.modem, o.conf or {}
	local quit = false
	local logins = setmetatable({}, { __mode = "k" }) -- session -> the ftp() overrides it logged in with
	local env = setmetatable({}, { __index = _G })
	env.m = m
	env.conf = conf
	env.modemftp = modemftp
	env.flow = flow
	env.errors = errors
	env.core = core
	env.pp = function(...) show(out, table.pack(...)) end
	env.help = function() out:write(HELP, "\n") end
	env.quit = function() quit = true end
	env.exit = env.quit
	env.at = function(cmd, opts)
		if not m then error("no modem (console started with --no-modem)", 2) end
		return m:at(cmd, opts)
	end
	env.status = function()
		if not m then error("no modem (console started with --no-modem)", 2) end
		local st, err = m:status()
		if not st then return nil, err end
		out:write(require("modemftp.status").text(st))
	end
	env.ftp = function(opts)
		if not m then error("no modem (console started with --no-modem)", 2) end
		local s, err = runner.connect(m, conf, opts)
		if s then
			env.s = s
			logins[s] = opts or {}
		end
		return s, err
	end

	local function say(fmt, ...)
		out:write(string.format(fmt, ...), "\n")
		out:flush()
	end

	-- After Ctrl-C stopped a transfer, the module may still hold it (a
	-- download left with +++ waits for ATO, and every FTP command answers
	-- 603 meanwhile). QFTPCLOSE ends it; a session that ftp() opened logs in
	-- again with the same settings, in the same object, so `s` (and any
	-- other variable holding it) works on.
	local function settle()
		local s = m and m.session
		if not s or s.closed or not m.port:is_open() then return end
		local state = s:stat()
		if state == 1 then return end -- idle: nothing held
		local again = logins[s]
		pcall(s.close, s)
		if not again then
			say("the stopped transfer kept the module busy: the session is closed; log in again (s = ftp())")
			return
		end
		local fresh, err = runner.connect(m, conf, again)
		if not fresh then
			say("the stopped transfer kept the module busy: logged out; logging in again failed: %s", tostring(err))
			return
		end
		for k in pairs(s) do s[k] = nil end
		for k, v in pairs(fresh) do s[k] = v end
		m.session = s
		logins[s] = again
		say("the stopped transfer kept the module busy: logged out and in again (%s)", tostring(s))
	end

	-- One evaluation under the interrupt hook.
	-- @return results (packed), failure, and whether a signal stopped it
	local function evaluate(chunkname, f, ...)
		runner.interrupt_hook(m and m.port)
		local r = runner.call_script(chunkname, f, ...)
		debug.sethook()
		local stopped = core.interrupted() ~= false
		core.clear_interrupt()
		local failure = failure_of(r)
		return r, failure, stopped or (errors.is(failure) and failure.name == "interrupted")
	end

	-- A failure outside the interactive console ends it, said on stderr.
	local function stop(failure)
		errout:write("modemftp console: ", errors.is(failure) and tostring(failure) or tostring(failure), "\n")
		errout:flush()
		return exitstatus.of(failure)
	end

	local unwatch = show_transfers(m, out, tty_out)
	local function finish(status)
		unwatch()
		return status
	end

	if batch then
		if o.execute then
			local f, err = M.compile(o.execute, env, "=(command line)")
			if not f then
				stop(errors.new { name = "usage", message = "-e: " .. err })
				return finish(EXIT.usage)
			end
			local r, failure = evaluate("=(command line)", f)
			if failure then return finish(stop(failure)) end
			show(out, table.pack(table.unpack(r, 2, r.n)))
			out:flush()
		end
		if o.script then
			local f, err = loadfile(o.script, "t", env)
			if not f then
				stop(errors.new { name = "io", message = err })
				return finish(EXIT.noinput)
			end
			local args = table.move(o.args or {}, 1, #(o.args or {}), 1, { [0] = o.script })
			env.arg = args
			local _, failure = evaluate("@" .. o.script, f, table.unpack(args))
			if failure then return finish(stop(failure)) end
		end
		out:flush()
		return finish(EXIT.ok)
	end

	local history = o.history or os.getenv("MODEMFTP_HISTORY")
		or (os.getenv("HOME") and os.getenv("HOME") .. "/.modemftp_history")
	if rl then
		if history then rl.read_history(history) end
		rl.set_completer(function(text, line, start) return M.complete(env, text, line, start) end)
	end
	-- URCs as they come: after each command, and at the prompt (idle poll)
	local urcs = m and tty_in and m:on("urc", function(line)
		if rl and rl.hide then rl.hide() end
		out:write("urc: ", line, "\n")
		out:flush()
	end)
	local function idle()
		-- a millisecond's wait: a zero wait looks at what was read already
		if m and m.port:is_open() then m:poll(0.001) end
	end

	if tty_in then
		out:write(string.format("%s console%s. help() for the helpers; Ctrl-D leaves.\n", modemftp._VERSION,
			m and (" on " .. tostring(m.name)) or " (no modem)"))
	end
	local function read(prompt)
		if rl then
			return rl.readline(prompt, function() return core.interrupted() ~= false end, urcs and idle or nil)
		end
		if tty_in then out:write(prompt); out:flush() end
		local line, err = input:read("l")
		if line == nil and err and core.interrupted() then return false, "interrupted" end
		return line
	end

	local status = EXIT.ok
	local buffer
	while not quit do
		local line, why = read(buffer and ">> " or "modemftp> ")
		if line == nil then
			if buffer and not tty_in then -- piped text that ends inside a chunk
				local _, err = M.compile(buffer, env)
				stop(errors.new { name = "usage", message = err })
				status = EXIT.noinput
			end
			if tty_in then out:write("\n") end
			break
		end
		if line == false then -- Ctrl-C at the prompt: drop the line
			core.clear_interrupt()
			buffer = nil
			if why ~= "interrupted" then break end
		else
			if rl and line:match("%S") then rl.add_history(line) end
			local src = buffer and (buffer .. "\n" .. line) or line
			if src:match("^%s*=") then src = "return " .. src:gsub("^%s*=", "") end
			local f, err, incomplete = M.compile(src, env)
			if not f and incomplete then
				buffer = src
			else
				buffer = nil
				if not f then
					if not tty_in then
						stop(errors.new { name = "usage", message = err })
						status = EXIT.noinput
						break
					end
					out:write(err, "\n")
				elseif src:match("%S") then
					local r, failure, stopped = evaluate("=console", f)
					-- piped lines stop at the first failure, with its status
					if failure and not tty_in then status = stop(failure); break end
					if r[1] then
						show(out, table.pack(table.unpack(r, 2, r.n)))
					elseif errors.is(r[2]) and r[2].name == "interrupted" then
						out:write("interrupted\n")
					else
						out:write("error: ", tostring(r[2]), "\n")
					end
					if stopped and m then settle() end
				end
			end
		end
		out:flush()
	end
	if urcs then m:off(urcs) end
	if rl and history then rl.write_history(history, 1000) end
	return finish(status)
end

-- ------------------------------------------------------------------ the verb

local function fail(status, msg)
	io.stderr:write("modemftp console: ", tostring(msg), "\n")
	return status
end

-- The modem of the console (nil with --no-modem), its lock held.
-- @return modem, lock; or nil, nil, status (the failure said on stderr)
local function open(opts, conf, logfile)
	if opts.no_modem then return nil end
	if not conf.port then
		return nil, nil, fail(EXIT.usage, "no modem port: give --port, set MODEMFTP_PORT, or `port =` in the "
			.. "configuration (or --no-modem)")
	end
	local lock, err
	if not opts.no_lock then
		lock, err = runner.lock(conf, 5)
		if not lock then return nil, nil, fail(exitstatus.of(err), err.message) end
	end
	local m
	m, err = runner.open_modem(conf, { trace = opts.verbose and (logfile or io.stderr) or nil, record = opts.record })
	if not m then
		if lock then lock:unlock() end
		return nil, nil, fail(exitstatus.of(err), err)
	end
	return m, lock
end

--- The `modemftp console` verb (after `modemftp.cli` parsed its options).
-- @param opts the options (`options.parse`), or nil for a bad command line
-- @param operands the script and its arguments (or the usage error)
-- @return the exit status
function M.main(opts, operands)
	if not opts then return fail(EXIT.usage, operands.message) end
	local conf, err = runner.configure(opts)
	if not conf then return fail(exitstatus.of(err), err.message) end
	local logfile
	if opts.log then
		logfile, err = runner.open_private("--log", opts.log, "a")
		if not logfile then return fail(exitstatus.of(err), err.message) end
	end
	local log = Log.new { verbose = opts.verbose, file = logfile, secrets = config.secrets(conf) }
	core.catch_signals(true)
	local m, lock, status = open(opts, conf, logfile)
	if status then return status end
	local code = M.run { modem = m, conf = conf, log = log, execute = opts.execute, script = operands[1],
		args = table.move(operands, 2, #operands, 1, {}) }
	core.clear_interrupt()
	if m then
		if m.session then pcall(m.session.close, m.session) end
		m:close()
	end
	if lock then lock:unlock() end
	if logfile then logfile:close() end
	return code or EXIT.ok
end

return M
