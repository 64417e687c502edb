-- fetch-config.lua: download a configuration file only when it changed.
--
--   modemftp run fetch-config.lua [--state FILE] [--then COMMAND] REMOTE LOCAL
--
-- Asks the server for REMOTE's modification time (AT+QFTPMDTM); when it
-- differs from the one remembered in the state file (default LOCAL.mdtm),
-- or LOCAL is missing, downloads REMOTE to LOCAL atomically (LOCAL.part,
-- size check, rename: the old file stays until the new one is complete),
-- records the time, and runs COMMAND (e.g. "systemctl reload app").
-- A download that fails keeps LOCAL.part (and LOCAL.part.meta, which
-- version of REMOTE it holds): the next run continues it when REMOTE is
-- still that version, and starts again from byte 0 when it is not.
-- Configuration used: host, user, password, ftp_port, apn, attempts.
local m, args, job = ...
local here = (args[0]:match("^(.*)/[^/]*$") or ".")
local lib = dofile(here .. "/lib.lua")

local opts, pos = lib.getopt(args, { state = true, ["then"] = true })
local remote, path = pos[1], pos[2]
if not (remote and path) then return nil, "usage: fetch-config.lua [--state FILE] [--then COMMAND] REMOTE LOCAL" end
local statefile = opts.state or (path .. ".mdtm")

local f = job:flow()
local t, err = f:run(function(s) return s:mdtm(remote) end)
if not t then return nil, err end
local stamp = t.text or tostring(t.epoch)
local state = lib.read_state(statefile)
if state.mdtm == stamp and lib.size(path) then
	job.log:info("%s unchanged (%s)", remote, stamp)
	f:close()
	return true
end
local n
n, err = f:fetch(remote, path, { keep_partial = true, continue = true })
f:close()
if not n then return nil, err end
state.mdtm = stamp
local ok, werr = lib.write_state(statefile, state)
if not ok then return nil, "state file: " .. tostring(werr) end
job.log:info("updated %s from %s (%d bytes, %s)", path, remote, n, stamp)
if opts["then"] then
	local okc = os.execute(opts["then"])
	if not okc then return nil, "--then command failed: " .. opts["then"] end
end
return true
