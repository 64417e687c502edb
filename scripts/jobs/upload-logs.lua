-- upload-logs.lua: upload rotated log files, with retries and atomic publish.
--
--   modemftp run upload-logs.lua [--pattern GLOB] [--delete] [--same-names] LOCAL_DIR [REMOTE_DIR]
--
-- Every file in LOCAL_DIR matching GLOB (default "*.log.*": rotated logs,
-- never the one being written) that is not uploaded yet goes to REMOTE_DIR
-- (default: the login directory). A missing or unreadable LOCAL_DIR is a
-- failure (exit 74), not an empty run.
--
-- Files are remembered by what they are, not by their name: device,
-- inode, size and modification time (LOCAL_DIR/.modemftp-uploaded). When
-- logrotate shifts app.log.1 to app.log.2 the file is the same one and is
-- not sent again. For the same reason the remote name carries the file's
-- modification time instead of logrotate's shifting number (app.log.1 ->
-- app.log.20261202T013000Z, app.log.2.gz -> app.log.20261201T013000Z.gz),
-- so a new app.log.1 never overwrites the one uploaded before it;
-- --same-names keeps the local names (for `dateext` names, unique already).
--
-- Each upload goes to a temporary name, is size-checked, then renamed (a
-- consumer never sees a half file) and is retried with backoff on network
-- errors, resuming where it stopped. With --delete a file goes once it is
-- whole on the server.
-- Configuration used: host, user, password, ftp_port, apn, attempts.
local m, args, job = ...
local here = (args[0]:match("^(.*)/[^/]*$") or ".")
local lib = dofile(here .. "/lib.lua")
local localfile = require "modemftp.localfile"

local opts, pos = lib.getopt(args, { pattern = true })
local dir, rdir = pos[1], pos[2]
if not dir then
	return nil, "usage: upload-logs.lua [--pattern GLOB] [--delete] [--same-names] LOCAL_DIR [REMOTE_DIR]"
end
local statefile = dir .. "/.modemftp-uploaded"
local state = lib.read_state(statefile) -- identity -> remote name

-- The remote name of a rotated file: logrotate's number replaced by the
-- file's modification time (UTC), a compression suffix kept.
local function remote_name(name, st)
	if opts["same-names"] then return name end
	local stamp = os.date("!%Y%m%dT%H%M%SZ", st.mtime)
	local base, _, ext = name:match("^(.-)%.(%d+)(%.?[%w]*)$")
	if base and (ext == "" or ext:match("^%.%a[%w]*$")) then return base .. "." .. stamp .. ext end
	return name .. "." .. stamp
end

local names, stats = lib.files(dir, opts.pattern or "*.log.*")
if not names then return nil, stats end
local todo, present = {}, {}
for _, name in ipairs(names) do
	local id = localfile.identity(stats[name])
	present[id] = true
	if not state[id] then todo[#todo + 1] = name end
end
-- files logrotate has removed are forgotten (the state file stays small)
local forgot = false
for id in pairs(state) do
	if not present[id] then state[id], forgot = nil, true end
end
if #todo == 0 then
	if forgot then
		local ok, werr = lib.write_state(statefile, state)
		if not ok then return nil, werr end
	end
	job.log:info("nothing new to upload in %s", dir)
	return true
end

local f = job:flow()
if rdir then
	-- make the folder once (an error such as "exists" is fine: the uploads tell)
	f:run(function(s) s:mkdir(rdir); return true end)
end
local failed
for _, name in ipairs(todo) do
	local path = dir .. "/" .. name
	local st = stats[name]
	local rname = remote_name(name, st)
	local remote = rdir and (rdir .. "/" .. rname) or rname
	local n, err = f:publish(path, remote)
	if n then
		job.log:info("uploaded %s as %s (%d bytes)", name, remote, n)
		if opts.delete then
			-- the file is whole on the server (size checked, renamed): only then
			-- does the local copy go
			os.remove(path)
		else
			state[localfile.identity(st)] = remote
			local ok, werr = lib.write_state(statefile, state)
			if not ok then
				failed = werr
				break
			end
		end
	else
		-- err names the file already ("upload /var/log/app.log.1: ...")
		job.log:error("%s", tostring(err))
		failed = err
		-- a retryable error that outlived its retries: the link is down, stop
		if err.retryable or err.name == "interrupted" then break end
	end
end
f:close()
if failed then return nil, failed end
return true
