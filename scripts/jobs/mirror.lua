-- mirror.lua: mirror a remote folder into a local one.
--
--   modemftp run mirror.lua [--delete] [--depth N] REMOTE_DIR LOCAL_DIR
--
-- Lists REMOTE_DIR (AT+QFTPLIST) and its subfolders (up to --depth, 5) and
-- downloads each file whose size or modification time (AT+QFTPMDTM)
-- differs from what the last run fetched (LOCAL_DIR/.modemftp-mirror).
-- Every download is atomic (FILE.part, size check, rename) and retried with
-- backoff on network errors, resuming where it stopped; a download that
-- still fails keeps its FILE.part, and the next run continues it (when the
-- remote file is still the same version). --delete removes local files this
-- job fetched earlier that are gone from the server.
-- Configuration used: host, user, password, ftp_port, apn, attempts.
local m, args, job = ...
local here = (args[0]:match("^(.*)/[^/]*$") or ".")
local lib = dofile(here .. "/lib.lua")

local opts, pos = lib.getopt(args, { depth = true })
local rdir, ldir = pos[1], pos[2]
if not (rdir and ldir) then return nil, "usage: mirror.lua [--delete] [--depth N] REMOTE_DIR LOCAL_DIR" end
local maxdepth = tonumber(opts.depth) or 5
rdir = rdir:gsub("/+$", "")
if rdir == "" then rdir = "/" end
local made, merr = lib.mkdirs(ldir)
if not made then return nil, merr end
local statefile = ldir .. "/.modemftp-mirror"
local state = lib.read_state(statefile)
local seen = {}
local f = job:flow()

local function join(a, b) return (a == "/" and "" or a) .. "/" .. b end

-- Walk one folder: rel is the path below rdir ("" at the top).
local function walk(rel, depth)
	local remote = rel == "" and rdir or join(rdir, rel)
	local entries, err = f:run(function(s) return s:list(remote) end)
	if not entries then return nil, err end
	for _, e in ipairs(entries) do
		local name = e.name
		if name and name ~= "." and name ~= ".." then
			local relname = rel == "" and name or (rel .. "/" .. name)
			if e.type == "dir" and depth < maxdepth then
				local ok, werr = lib.mkdirs(ldir .. "/" .. relname)
				if ok then ok, werr = walk(relname, depth + 1) end
				if not ok then return nil, werr end
			elseif e.type == "file" then
				seen[relname] = true
				local rpath = join(remote, name)
				local t = f:run(function(s) return s:mdtm(rpath) end)
				local stamp = tostring(e.size) .. "|" .. tostring(t and (t.text or t.epoch) or "-"):gsub("%s", "_")
				local lpath = ldir .. "/" .. relname
				if state[relname] ~= stamp or not lib.size(lpath) then
					local n, gerr = f:fetch(rpath, lpath, { keep_partial = true, continue = true })
					if not n then return nil, gerr end
					job.log:info("fetched %s (%d bytes)", relname, n)
					state[relname] = stamp
					local ok, werr = lib.write_state(statefile, state)
					if not ok then return nil, werr end
				end
			end
		end
	end
	return true
end

local ok, err = walk("", 0)
if ok and opts.delete then
	for relname in pairs(state) do
		if not seen[relname] then
			os.remove(ldir .. "/" .. relname)
			state[relname] = nil
			job.log:info("removed %s (gone from the server)", relname)
		end
	end
	ok, err = lib.write_state(statefile, state)
end
f:close()
if not ok then return nil, err end
return true
