-- The demo job (make demo): upload a file, list the folder, download the
-- file back and compare SHA-256 digests.
--   modemftp run --port PORT scripts/jobs/demo.lua FILE HOST FTP_PORT USER
-- The password comes from MODEMFTP_PASSWORD (never on a command line).
local m, args, job = ...
local file, host, port, user = args[1], args[2], tonumber(args[3]), args[4]
if not (file and host and port and user) then
	return nil, "usage: demo.lua FILE HOST FTP_PORT USER (password in MODEMFTP_PASSWORD)"
end

local function sha256(path)
	local p = assert(io.popen("sha256sum '" .. path:gsub("'", "'\\''") .. "'"))
	local out = p:read("a")
	p:close()
	return out:match("^(%x+)")
end

local function say(fmt, ...) io.stdout:write(string.format(fmt, ...), "\n") end

local t0 = os.clock()
local ctx = assert(m:pdp { context = 1, apn = "internet" })
say("PDP context %d active, IP %s", ctx.context, tostring(ctx.ip))
local s = assert(m:ftp { host = host, port = port, user = user, password = os.getenv("MODEMFTP_PASSWORD"), timeout = 30 })
say("logged in to ftp://%s@%s:%d", user, host, port)
local name = file:match("[^/]+$")
local clock = require("modemftp.core").monotonic_ms
local start = clock()
local sent = assert(s:put(name, file))
local up_ms = clock() - start
say("uploaded   %-12s %9d bytes in %5d ms", name, sent, up_ms)
for _, e in ipairs(assert(s:list("."))) do
	say("  listing: %-4s %9s  %s", e.type, tostring(e.size or "-"), e.name)
end
local back = file .. ".back"
start = clock()
local got = assert(s:get(name, back))
say("downloaded %-12s %9d bytes in %5d ms", name, got, clock() - start)
local a, b = sha256(file), sha256(back)
say("sha256 local  %s", a)
say("sha256 back   %s", b)
assert(s:close())
if a ~= b then return nil, "SHA-256 mismatch after the round trip" end
say("round trip OK (%.2f s CPU)", os.clock() - t0)
return true
