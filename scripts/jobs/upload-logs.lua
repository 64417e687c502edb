-- upload-logs.lua: upload rotated log files, with retries and atomic publish.
--
--   modemftp run upload-logs.lua [--pattern GLOB] [--delete] LOCAL_DIR [REMOTE_DIR]
--
-- Every file in LOCAL_DIR matching GLOB (default "*.log.*": rotated logs,
-- never the one being written) that is not uploaded yet goes to REMOTE_DIR
-- (default: the login directory) under its own name. Each upload goes to a
-- temporary name, is size-checked, then renamed (a consumer never sees a
-- half file) and is retried with backoff on network errors, resuming where
-- it stopped. Uploaded files are remembered in LOCAL_DIR/.modemftp-uploaded
-- (name and size), or deleted with --delete.
-- Configuration used: host, user, password, ftp_port, apn, attempts.
local m, args, job = ...
local here = (args[0]:match("^(.*)/[^/]*$") or ".")
local lib = dofile(here .. "/lib.lua")

local opts, pos = lib.getopt(args, { pattern = true })
local dir, rdir = pos[1], pos[2]
if not dir then return nil, "usage: upload-logs.lua [--pattern GLOB] [--delete] LOCAL_DIR [REMOTE_DIR]" end
local statefile = dir .. "/.modemftp-uploaded"
local state = lib.read_state(statefile)

local todo = {}
for _, name in ipairs(lib.files(dir, opts.pattern or "*.log.*")) do
	local size = lib.size(dir .. "/" .. name)
	if size and state[name] ~= tostring(size) then todo[#todo + 1] = name end
end
if #todo == 0 then
	job.log:info("nothing to upload in %s", dir)
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
	local remote = rdir and (rdir .. "/" .. name) or name
	local n, err = f:publish(path, remote)
	if n then
		job.log:info("uploaded %s (%d bytes)", remote, n)
		if opts.delete then
			-- the file is whole on the server (size checked, renamed): only then
			-- does the local copy go
			os.remove(path)
		else
			state[name] = tostring(n)
			local ok, werr = lib.write_state(statefile, state)
			if not ok then
				job.log:error("state file: %s", tostring(werr))
				failed = werr
				break
			end
		end
	else
		job.log:error("%s: %s", name, tostring(err))
		failed = err
		-- a retryable error that outlived its retries: the link is down, stop
		if err.retryable or err.name == "interrupted" then break end
	end
end
f:close()
if failed then return nil, failed end
return true
