--- bench/host.lua: modemftp through its public Lua API, as a user runs it.
--
--   lua5.4 bench/host.lua get PORT OUT [FTP]       m:ftp{...}, then s:get("bench.bin", OUT)
--   lua5.4 bench/host.lua put PORT IN [FTP]        m:ftp{...}, then s:put("bench-up.bin", IN)
--   lua5.4 bench/host.lua cmd PORT COUNT at|size   COUNT times m:at("AT") or s:size("bench.bin")
--
-- PORT is a modemftp port spec ("tty:/dev/pts/3"). FTP is "host:port:user:password"
-- (default 127.0.0.1:21:bench:bench, which bench_peer accepts as anything).
-- Prints one line of key=value: bytes, wall_us and cpu_us (os.clock: user+sys
-- of this process) of the transfer alone, or per_cmd_ns for the loops.
-- Needs LUA_PATH/LUA_CPATH pointing at lua/ and build/lib (bench/run sets them).
local modemftp = require "modemftp"
local core = require "modemftp.core"

local mode, port, a, b = arg[1], arg[2], arg[3], arg[4]
if not (mode and port and a) then
	io.stderr:write("usage: host.lua get PORT OUT [FTP] | put PORT IN [FTP] | cmd PORT COUNT at|size\n")
	os.exit(2)
end

local function check(v, err, what)
	if v == nil then
		io.stderr:write(string.format("host.lua: %s: %s\n", what, tostring(err)))
		os.exit(1)
	end
	return v
end

local m = check(modemftp.open(port), nil, "open " .. port)
local ftp = (mode ~= "cmd" and b) or "127.0.0.1:21:bench:bench"
local fhost, fport, fuser, fpass = ftp:match("^([^:]+):(%d+):([^:]*):(.*)$")
local function session()
	return check(m:ftp { host = fhost, port = tonumber(fport), user = fuser, password = fpass })
end

-- os.clock is clock(3): CPU time of the process, user plus system.
local function span(fn)
	local t0, c0 = core.monotonic_ms(), os.clock()
	local r = fn()
	return r, (core.monotonic_ms() - t0) * 1000, math.floor((os.clock() - c0) * 1e6 + 0.5)
end

-- BENCH_TRACE=1: trace the AT traffic (ms stamps) and report the time from
-- CONNECT to the +QFTPxxx result, where a guard time would show.
local trace = os.getenv("BENCH_TRACE") == "1" and io.tmpfile() or nil
if trace then m.port:trace(trace) end
local function connect_to_result_ms()
	trace:seek("set")
	local function ms_of(h, mi, se) return ((tonumber(h) * 60 + tonumber(mi)) * 60 + tonumber(se)) * 1000 end
	local t_connect, t_result
	for line in trace:lines() do
		local h, mi, se, text = line:match("^(%d+):(%d+):([%d.]+) < (.*)$")
		if text == "CONNECT" then t_connect = ms_of(h, mi, se) end
		if text and text:match("^%+QFTP[GP][EU]T: ") and t_connect then t_result = ms_of(h, mi, se) end
	end
	return t_connect and t_result and math.floor(t_result - t_connect + 0.5) or -1
end

if mode == "get" or mode == "put" then
	local s = session()
	local bytes, wall, cpu = span(function()
		if mode == "get" then return check(s:get("bench.bin", a)) end
		return check(s:put("bench-up.bin", a))
	end)
	s:close()
	print(string.format("bytes=%d wall_us=%d cpu_us=%d", bytes, wall, cpu))
	if trace then print(string.format("connect_to_result_ms=%d", connect_to_result_ms())) end
elseif mode == "cmd" then
	local count = math.tointeger(tonumber(a)) or 1000
	local fn
	if b == "size" then
		local s = session()
		fn = function() return check(s:size("bench.bin")) end
	else
		fn = function() return check(m:at("AT")) end
	end
	fn() -- warm up
	local _, wall, cpu = span(function()
		for _ = 1, count do fn() end
	end)
	print(string.format("count=%d per_cmd_ns=%d cpu_per_cmd_ns=%d", count, wall * 1000 // count, cpu * 1000 // count))
else
	io.stderr:write("host.lua: unknown mode " .. tostring(mode) .. "\n")
	os.exit(2)
end
m:close()
