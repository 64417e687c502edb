--- spec/support/users.lua: run the command as an unprivileged user.
--
-- The specs run as root in CI; permission cases (a device the user may not
-- open, root's lock file, a configuration file the user may not read) need
-- a user without root's rights. `setpriv` drops to nobody (65534) with no
-- supplementary groups. `users.unavailable()` says why that cannot be done
-- here (not root, no setpriv), for a visible `pending`.
--
--     local users = require "support.users"
--     local why = users.unavailable()
--     if why then pending(why) return end
--     local r = users.run({"run", "-p", port, job}, {env = {...}})  -- r.code, r.stdout, r.stderr
local sim = require "support.sim"
local cli = require "support.cli"

local M = {}

--- The user and group the commands run as.
M.uid, M.gid = 65534, 65534

--- Why commands cannot run as another user here, or nil when they can.
-- @return the reason, or nil
function M.unavailable()
	if sim.sh("id -u"):match("%d+") ~= "0" then return "not root: no other user to become (run the specs as root)" end
	if not os.execute("command -v setpriv >/dev/null 2>&1") then return "setpriv(1) is not installed (util-linux)" end
	return nil
end

--- The command prefix that drops to `M.uid`/`M.gid` with no supplementary groups.
-- @return the prefix (ends with a space)
function M.prefix()
	return string.format("setpriv --reuid=%d --regid=%d --clear-groups ", M.uid, M.gid)
end

--- Run `modemftp ARGV...` as the unprivileged user, to completion (60 s at most).
-- @param argv the arguments
-- @param o {env = {NAME = value}}
-- @return {code =, stdout =, stderr =}
function M.run(argv, o)
	local words = {}
	for k, v in pairs(o and o.env or {}) do words[#words + 1] = k .. "=" .. sim.q(v) end
	table.sort(words)
	words[#words + 1] = sim.q(cli.bin)
	for _, a in ipairs(argv) do words[#words + 1] = sim.q(a) end
	local out = os.tmpname()
	local err = os.tmpname()
	local status = sim.sh(string.format("timeout -k 5 60 %senv %s >%s 2>%s </dev/null; echo $?", M.prefix(),
		table.concat(words, " "), out, err))
	local r = { code = tonumber(status:match("(%d+)%s*$")), stdout = sim.read(out) or "", stderr = sim.read(err) or "" }
	os.remove(out)
	os.remove(err)
	return r
end

return M
