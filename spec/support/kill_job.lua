-- spec/support/kill_job.lua: the job spec/support/kill.lua kills at random
-- moments: publish a file (atomic upload), fetch it back (atomic download),
-- log out. It appends "PHASE MONOTONIC_MS" lines to MARKS as it goes, so
-- the harness knows where a kill landed and when the first FTP command of a
-- run succeeded (the login: "ftp_ok").
--   modemftp run kill_job.lua SOURCE REMOTE COPY MARKS
local m, args, job = ...
local core = require "modemftp.core"
local source, remote, copy, marks = args[1], args[2], args[3], args[4]
if not (source and remote and copy and marks) then return nil, "usage: kill_job.lua SOURCE REMOTE COPY MARKS" end
local mf = assert(io.open(marks, "a"))
local function mark(phase)
	mf:write(phase, " ", core.monotonic_ms(), "\n")
	mf:flush()
end
mark("job")
local f = job:flow()
mark("login")
local ok, err = f:run(function() return true end) -- the flow's session: m:pdp, m:ftp
if not ok then return nil, err end
mark("ftp_ok")
-- a progress callback marking a transfer's first and last byte
local function marking(first, last)
	local state
	return function(bytes, total)
		if not state then state = "began"; mark(first) end
		if state ~= "ended" and total and bytes >= total then state = "ended"; mark(last) end
	end
end
local n
n, err = f:publish(source, remote, { progress_interval = 0, progress = marking("upload", "upload_end") })
if not n then return nil, err end
mark("published")
n, err = f:fetch(remote, copy, { progress_interval = 0, progress = marking("download", "download_end") })
if not n then return nil, err end
mark("fetched")
mark("close")
f:close()
mark("done")
mf:close()
return true
