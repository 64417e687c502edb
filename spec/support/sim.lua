--- spec/support/sim.lua: end-to-end fixtures: a pyftpdlib server on
-- 127.0.0.1 (scripts/ftpserver) and an ec20sim on a pty, each started on a
-- port the test picks (the OS picks a free one) and stopped by the test.
--
--     local sim = require "support.sim"
--     local h = sim.start { guard_ms = 100 }     -- {port=, root=, ftp_port=, user=, password=, ...}
--     local m = assert(modemftp.open(h.port))
--     ... sim.control(h, "drop-data 1000") ...
--     sim.stop(h)
local core = require "modemftp.core"

local M = {}

local top = os.getenv("MODEMFTP_TOP") or "."

local function sh(cmd)
	local p = assert(io.popen(cmd, "r"))
	local out = p:read("a")
	local ok, _, code = p:close()
	return out, ok, code
end

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
M.q = q
M.sh = sh

--- Path of the simulator binary (the runner points EC20SIM at the variant).
function M.sim_bin()
	return os.getenv("EC20SIM") or (top .. "/build/ec20sim")
end

--- Read a whole file, or nil.
function M.read(path)
	local f = io.open(path, "rb")
	if not f then return nil end
	local d = f:read("a")
	f:close()
	return d
end

--- Wait until fn() is true, checking every 20 ms (a deadline, never a
-- fixed sleep); raises "timed out waiting for WHAT" after `seconds`.
function M.wait_for(what, seconds, fn)
	local deadline = core.monotonic_ms() + math.floor(seconds * 1000)
	repeat
		if fn() then return end
		core.sleep_ms(20)
	until core.monotonic_ms() > deadline
	error("timed out waiting for " .. what, 2)
end

--- Write a whole file.
function M.write(path, data)
	local f = assert(io.open(path, "wb"))
	f:write(data)
	f:close()
end

--- SHA-256 of a file (hex), or nil when it does not exist.
function M.sha256(path)
	if not M.read(path) then return nil end
	return (sh("sha256sum " .. q(path)):match("^(%x+)"))
end

--- Wait until a file has a non-empty first line; returns it, or nil on deadline.
function M.wait_line(path, seconds)
	local deadline = core.monotonic_ms() + math.floor(seconds * 1000)
	repeat
		local d = M.read(path)
		local line = d and d:match("^([^\n]+)\n")
		if line then return line end
		core.sleep_ms(20)
	until core.monotonic_ms() > deadline
	return nil
end

--- A fresh temporary directory.
function M.tmpdir()
	return (sh("mktemp -d /tmp/modemftp-spec.XXXXXX"):gsub("%s+$", ""))
end

--- Start an FTP server (and, unless opts.sim == false, ec20sim).
-- @param opts {tls = bool, guard_ms = 100, args = "extra ec20sim flags", sim = true}
-- @return handle {dir, root, ftp_port, user, password, port ("tty:/dev/pts/N"),
--   pty, control (FIFO path), sim_pid}
function M.start(opts)
	opts = opts or {}
	local h = { dir = M.tmpdir(), user = "mftp", password = "pw-S3cret!" }
	h.root = h.dir .. "/ftp"
	os.execute("mkdir -p " .. q(h.root))
	-- python must not inherit the ASan preload the sanitizer run gives Lua
	-- --watch-pid: the server goes away with this test process, even if it dies
	local cmd = string.format("env -u LD_PRELOAD %s/scripts/ftpserver start %s --user %s --password %s --port-file %s%s --watch-pid %d >%s 2>&1",
		top, q(h.root), q(h.user), q(h.password), q(h.dir .. "/ftp.port"), opts.tls and " --tls" or "",
		core.getpid(), q(h.dir .. "/ftpserver.log"))
	local ok = os.execute(cmd)
	local port = M.wait_line(h.dir .. "/ftp.port", 10)
	if not ok or not port then
		local log = M.read(h.dir .. "/ftpserver.log") or ""
		M.stop(h)
		error("ftp server did not start: " .. log)
	end
	h.ftp_port = tonumber(port)
	if opts.sim ~= false then
		h.control = h.dir .. "/control"
		local simcmd = string.format("env -u LD_PRELOAD %s --pty-file %s --control %s --guard-ms %d %s",
			q(M.sim_bin()), q(h.dir .. "/pty"), q(h.control), opts.guard_ms or 100, opts.args or "")
		h.sim_pid = tonumber((sh(string.format("sh -c %s", q(simcmd .. " >" .. q(h.dir .. "/sim.log") .. " 2>&1 & echo $!")))))
		h.pty = M.wait_line(h.dir .. "/pty", 10)
		if not h.pty then
			local log = M.read(h.dir .. "/sim.log") or ""
			M.stop(h)
			error("ec20sim did not start: " .. log)
		end
		h.port = "tty:" .. h.pty
	end
	return h
end

--- Send a fault command to the simulator's control FIFO ("drop-data 1000",
-- "stall 2", "pdpdeact", "reboot", "noise 20", "dtr", ...).
function M.control(h, line)
	local f = assert(io.open(h.control, "w"))
	f:write(line, "\n")
	f:close()
end

local function alive(pid)
	return pid and os.execute("kill -0 " .. pid .. " 2>/dev/null")
end

--- Stop what start started and remove the directory. Returns the
-- simulator's log (useful in failure messages).
function M.stop(h)
	local log
	if h.sim_pid then
		os.execute("kill -TERM " .. h.sim_pid .. " 2>/dev/null")
		local deadline = core.monotonic_ms() + 3000
		while alive(h.sim_pid) and core.monotonic_ms() < deadline do core.sleep_ms(20) end
		if alive(h.sim_pid) then os.execute("kill -KILL " .. h.sim_pid .. " 2>/dev/null") end
		log = M.read(h.dir .. "/sim.log")
	end
	os.execute(string.format("env -u LD_PRELOAD %s/scripts/ftpserver stop %s >/dev/null 2>&1", top, q(h.root)))
	if h.dir and h.dir:match("^/tmp/modemftp%-spec%.") then os.execute("rm -rf " .. q(h.dir)) end
	return log
end

--- Open a modem on the simulator of h, its PDP context active.
-- @param h the handle of `start`
-- @param guard the host's +++ guard time in seconds (0.15: above the
--   simulator's 100 ms)
-- @return the modem
function M.modem(h, guard)
	local m = assert(require("modemftp").open(h.port, { guard = guard or 0.15 }))
	assert(m:pdp {})
	return m
end

--- Log in to the FTP server of h through the modem m.
-- @return the session, or nil, err
function M.login(m, h)
	return m:ftp { host = "127.0.0.1", port = h.ftp_port, user = h.user, password = h.password, timeout = 20 }
end

--- Run fn(h) against a fresh simulator and FTP server (`start(opts)`),
-- stop them whatever happens, print the simulator's log (its end) when fn
-- fails, and check that no modem port was left open.
function M.with(opts, fn)
	local replay = require "support.replay"
	local h = M.start(opts)
	local ok, err = pcall(fn, h)
	local log = M.stop(h)
	if not ok then
		pcall(replay.assert_all_closed)
		io.stderr:write("\n--- ec20sim log ---\n", tostring(log):sub(-4000), "\n")
		error(err, 0)
	end
	replay.assert_all_closed()
end

--- A file of n pseudo-random bytes (deterministic), written to path.
function M.make_file(path, n, seed)
	local f = assert(io.open(path, "wb"))
	local x = seed or 12345
	local chunk = {}
	for i = 1, n do
		x = (x * 1103515245 + 12345) % 2147483648
		chunk[#chunk + 1] = string.char(x >> 16 & 0xff)
		if #chunk == 4096 or i == n then f:write(table.concat(chunk)); chunk = {} end
	end
	f:close()
end

return M
