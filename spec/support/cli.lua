--- spec/support/cli.lua: run the `modemftp` command as a separate process.
--
--     local cli = require "support.cli"
--     local r = cli.run({"run", "--json", "job.lua"}, {env = {MODEMFTP_PORT = "..."}})
--     -- r.code, r.stdout, r.stderr
local core = require "modemftp.core"
local sim = require "support.sim"

local M = {}

local top = os.getenv("MODEMFTP_TOP") or "."
M.top = top
M.bin = top .. "/scripts/modemftp"
local q = sim.q

local function envprefix(env)
	local parts = {}
	for k, v in pairs(env or {}) do parts[#parts + 1] = k .. "=" .. q(v) end
	table.sort(parts)
	return #parts > 0 and ("env " .. table.concat(parts, " ") .. " ") or ""
end

local function cmdline(argv, o)
	local words = {}
	for _, a in ipairs(argv) do words[#words + 1] = q(a) end
	return envprefix(o.env) .. q(M.bin) .. " " .. table.concat(words, " ")
end

--- Run the command to completion (bounded by `timeout` seconds, 60).
-- @return {code =, stdout =, stderr =, seconds =}
function M.run(argv, o)
	o = o or {}
	local dir = sim.tmpdir()
	local t0 = core.monotonic_ms()
	local sh = string.format("timeout -k 5 %d %s >%s 2>%s </dev/null; echo $?", o.timeout or 60,
		cmdline(argv, o), q(dir .. "/out"), q(dir .. "/err"))
	local status = sim.sh(sh)
	local r = {
		code = tonumber(status:match("(%d+)%s*$")), stdout = sim.read(dir .. "/out") or "",
		stderr = sim.read(dir .. "/err") or "", seconds = (core.monotonic_ms() - t0) / 1000,
	}
	os.execute("rm -rf " .. q(dir))
	return r
end

--- Start the command in the background.
-- @return handle {pid =, dir =} for `wait`
function M.spawn(argv, o)
	o = o or {}
	local dir = sim.tmpdir()
	-- a wrapper shell waits for the command and stores its status
	local inner = string.format("%s >%s 2>%s </dev/null; echo $? >%s", cmdline(argv, o), q(dir .. "/out"),
		q(dir .. "/err"), q(dir .. "/rc"))
	local pid = tonumber((sim.sh("sh -c " .. q(inner) .. " >/dev/null 2>&1 & echo $!")))
	return { pid = pid, dir = dir, t0 = core.monotonic_ms() }
end

--- Signal the command started by `spawn` (the child of its wrapper shell).
function M.kill(h, sig)
	-- pkill under the sanitizer run's LD_PRELOAD deadlocks in libasan's init
	os.execute(string.format("env -u LD_PRELOAD pkill -%s -P %d 2>/dev/null", sig or "TERM", h.pid))
end

--- Wait (at most `seconds`) for a spawned command; returns {code, stdout, stderr, seconds} or nil on timeout.
function M.wait(h, seconds)
	local deadline = core.monotonic_ms() + math.floor((seconds or 30) * 1000)
	while core.monotonic_ms() < deadline do
		local rc = sim.read(h.dir .. "/rc")
		if rc and rc:match("%d") then
			local r = { code = tonumber(rc:match("%d+")), stdout = sim.read(h.dir .. "/out") or "",
				stderr = sim.read(h.dir .. "/err") or "", seconds = (core.monotonic_ms() - h.t0) / 1000 }
			os.execute("rm -rf " .. q(h.dir))
			return r
		end
		core.sleep_ms(20)
	end
	M.kill(h, "KILL")
	return nil
end

--- Wait until a file exists (bounded); returns true or false.
function M.wait_file(path, seconds)
	local deadline = core.monotonic_ms() + math.floor((seconds or 10) * 1000)
	repeat
		local f = io.open(path, "r")
		if f then f:close(); return true end
		core.sleep_ms(20)
	until core.monotonic_ms() > deadline
	return false
end

--- The environment that shows the command a made-up port list
-- (spec/support/fakeports.lua replaces core.ports before the command runs).
-- @param kind "none" or "sample"
-- @return the env table for `run`
function M.fake_ports(kind)
	local top_abs = core.realpath(top) or top
	return { LUA_INIT_5_4 = "@" .. top_abs .. "/spec/support/fakeports.lua", MODEMFTP_SPEC_PORTS = kind }
end

--- A replay transcript with the open handshake (ATE1, AT+CMEE=1), then `more`.
function M.transcript(path, more)
	sim.write(path, "# modemftp transcript v1\n> ATE1\\r\n< ATE1\\r\\r\\nOK\\r\\n\n"
		.. "> AT+CMEE=1\\r\n< AT+CMEE=1\\r\\r\\nOK\\r\\n\n" .. (more or ""))
end

--- Configuration text for a running simulator handle.
function M.sim_conf(h, extra)
	return string.format("port = %s\nhost = 127.0.0.1\nftp_port = %d\nuser = %s\npassword = %s\nguard = 0.1\n%s",
		h.port, h.ftp_port, h.user, h.password, extra or "")
end

--- A `modemftp run` bench on a started simulator (`sim.start`): the
-- configuration `sim_conf(h, extra)` in h.dir/modemftp.conf, HOME and the
-- lock directory in h.dir.
-- @return {conf =, env =, run = function(argv) -> `run`'s result (argv after
--   "run --lock-dir DIR -c CONF"), job = function(name, text) -> the path of
--   a job file written into h.dir}
function M.run_bench(h, extra)
	local b = { conf = h.dir .. "/modemftp.conf", env = { HOME = h.dir, XDG_CONFIG_HOME = h.dir } }
	sim.write(b.conf, M.sim_conf(h, extra))
	function b.run(argv)
		local a = { "run", "--lock-dir", h.dir, "-c", b.conf }
		for _, x in ipairs(argv) do a[#a + 1] = x end
		return M.run(a, { env = b.env })
	end
	function b.job(name, text)
		sim.write(h.dir .. "/" .. name, text)
		return h.dir .. "/" .. name
	end
	return b
end

--- The --json line as a table (a flat object: strings, numbers, booleans).
function M.json_line(text)
	local lua = text:gsub('"([%w_]+)":', '["%1"]=')
	return assert(load("return " .. lua, "=json", "t", {}))()
end

--- Drive a command through a pty (spec/support/ptydrive.py).
-- @param steps the steps as JSON text
-- @param argv the command after the script (e.g. {"console", "--no-modem"})
-- @return ok, output
function M.pty(steps, argv, o)
	o = o or {}
	local dir = sim.tmpdir()
	sim.write(dir .. "/steps.json", steps)
	local words = {}
	for _, a in ipairs(argv) do words[#words + 1] = q(a) end
	-- python itself runs without the sanitizer preload; the command keeps it
	local pre = os.getenv("LD_PRELOAD") or ""
	local env = {}
	for k, v in pairs(o.env or {}) do env[k] = v end
	env.LD_PRELOAD = pre
	local cmd = string.format("env -u LD_PRELOAD timeout -k 5 %d python3 %s/spec/support/ptydrive.py %s -- %s%s %s 2>&1",
		o.timeout or 90, top, q(dir .. "/steps.json"), envprefix(env), q(M.bin), table.concat(words, " "))
	local out, ok = sim.sh(cmd)
	os.execute("rm -rf " .. q(dir))
	return ok, out
end

return M
