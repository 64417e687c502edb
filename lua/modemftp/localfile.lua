--- modemftp.localfile: the local files of transfers, owned by the Lua layer.
--
-- A session's `get` to a path, a flow's part file and the files a session
-- sends are opened, checked and closed here, with every step's result read:
-- a full disk, a read-only file system, a missing directory or a directory
-- where a file was meant is a `local_io` error (never retried, exit 74), a
-- missing file to send is `local_missing` (exit 66).
--
-- A file that holds a download is made durable before its name is given
-- out: flush, fsync (`core.fsync`), close, rename, then fsync of the folder
-- (`core.fsync_dir`), so that after a power loss the final name holds the
-- old file or the whole new one, never a short one.
--
-- Dependencies: core (stat, fsync, fsync_dir, chmod, ferror) and errors.
local core = require "modemftp.core"
local errors = require "modemftp.errors"

local M = {}

local EISDIR = 21

-- A core failure (kind "io", errno) as a local_io error.
local function fail(op, path, e, source)
	return errors.local_io(op, path, e and e.message, e and e.errno, source)
end

--- The folder of a path ("." for a bare name, "/" for "/x").
-- @param path a file path
-- @return the folder
function M.dirname(path)
	local dir = path:match("^(.*)/[^/]*$")
	if dir == nil then return "." end
	if dir == "" then return "/" end
	return dir
end

--- What a local file is (`core.stat`), as a local_io error on failure.
-- @param op the operation, for the error
-- @param path a path or a Lua file
-- @param source true when it is a file to send (missing: local_missing)
-- @return the stat table, or nil, err
function M.stat(op, path, source)
	local st, e = core.stat(path)
	if not st then return nil, fail(op, type(path) == "string" and path or nil, e, source) end
	return st
end

--- What tells that a file is still the one it was: device, inode, size and
-- modification time (to the nanosecond the file system keeps).
-- @param st a stat table
-- @return a string; equal strings mean the same, unchanged file
function M.identity(st)
	return string.format("%d:%d:%d:%d.%09d", st.dev, st.ino, st.size, st.mtime, st.mtime_nsec)
end

--- The failure for a directory where a file to send was meant.
-- @param op the operation
-- @param path the directory
-- @return the error object (local_io)
function M.not_a_file(op, path)
	return errors.local_io(op, path, "is a directory, not a file to send", EISDIR, true)
end

local KINDS = { char = "character device", block = "block device", fifo = "pipe" }

--- The refusal of a source that is not a regular file (a device, a pipe)
-- and has no bound: its size is unknown and it may never end.
-- @param op the operation
-- @param what the path, or a description ("the source file")
-- @param kind its `core.stat` type
-- @return the error object (argument)
function M.unbounded(op, what, kind)
	return errors.argument(op, string.format("%s is a %s, not a regular file: its size is unknown; give "
		.. "length = bytes (sent exactly) or limit = bytes (streamed, ended with +++, at most that many)",
		what, KINDS[kind] or kind))
end

--- Open a local file to send.
-- @param op the operation, for errors
-- @param path the file
-- @return the Lua file and its stat table, or nil, err (local_missing,
--   local_io; a directory is a local_io error)
function M.open_source(op, path)
	local st, err = M.stat(op, path, true)
	if not st then return nil, err end
	if st.type == "directory" then return nil, M.not_a_file(op, path) end
	local f, msg, no = io.open(path, "rb")
	if not f then return nil, errors.local_io(op, path, msg, no, true) end
	return f, st
end

--- Open a local file to receive into, from `startpos` when it holds that
-- much already (a resume), else from its start (created or truncated).
-- @param op the operation, for errors
-- @param path the file
-- @param startpos the offset to write from
-- @return the Lua file, or nil, err (local_io)
function M.open_sink(op, path, startpos)
	local f, msg, no
	if startpos > 0 then
		f = io.open(path, "r+b")
		if f and not f:seek("set", startpos) then f:close(); f = nil end
	end
	if not f then
		f, msg, no = io.open(path, "wb")
		if not f then return nil, errors.local_io(op, path, msg, no) end
	end
	return f
end

--- Close a file that received data, every step checked: flush, then (for a
-- regular file, with `sync`) fsync, then close. The file is closed even when
-- an earlier step failed.
-- @param op the operation, for errors
-- @param path the file's name, for errors
-- @param f the Lua file
-- @param sync true: fsync before closing
-- @return true, or nil, err (local_io)
function M.close(op, path, f, sync)
	local err
	local ok, msg, no = f:flush()
	if not ok then
		err = errors.local_io(op, path, msg, no)
	elseif sync then
		local st = core.stat(f)
		if st and st.type == "file" then -- a device or a pipe has nothing to sync
			local s, e = core.fsync(f)
			if not s then err = fail(op, path, e) end
		end
	end
	ok, msg, no = f:close()
	if not ok and not err then err = errors.local_io(op, path, msg, no) end
	if err then return nil, err end
	return true
end

--- Give a finished file its name: rename `from` over `to` (atomic within
-- one file system), then fsync the folder so the new name survives a power
-- loss. `from` must have been synced and closed (`localfile.close`).
-- @param op the operation, for errors
-- @param from the temporary name
-- @param to the final name
-- @return true, or nil, err (local_io)
function M.rename(op, from, to)
	local ok, msg, no = os.rename(from, to)
	if not ok then return nil, errors.local_io(op, to, msg, no) end
	local d, e = core.fsync_dir(M.dirname(to))
	if not d then return nil, fail(op, to, e) end
	return true
end

local serial = 0

--- A temporary name beside `path` (same folder, so a rename is atomic):
-- ".NAME.PID-N.part".
-- @param path the final name
-- @return the temporary name
function M.temp_name(path)
	serial = serial + 1
	local dir, base = path:match("^(.*/)([^/]*)$")
	if not dir then dir, base = "", path end
	return string.format("%s.%s.%d-%d.part", dir, base, core.getpid(), serial)
end

--- After a failed transfer: the local file's own failure, if it had one.
-- The core reads and writes a Lua file through its stream; a failed read
-- or write there leaves the stream's error indicator set (`core.ferror`).
-- @param op the operation
-- @param path the file's name (or nil for a caller's file)
-- @param f the Lua file the transfer used
-- @param err the transfer's error
-- @param source true when f was the file being sent
-- @return a local_io error (with err's bytes) when f failed, else err
function M.transfer_error(op, path, f, err, source)
	if io.type(f) ~= "file" or not core.ferror(f) then return err end
	local e = errors.local_io(op, path, err.detail or err.message, err.errno, source)
	e.bytes = err.bytes
	return e
end

--- A local file to download into, owned by the caller of `get`.
-- A path that holds a non-empty regular file already is replaced only by a
-- complete download: the data goes to a temporary file beside it, which is
-- synced and renamed over it at the end, and a failure leaves the old file
-- as it was. Any other path (absent, empty; a device or a pipe is never
-- replaced) and a resume (`startpos` > 0) are written in place, so that a
-- failure leaves the partial data to resume from. `atomic` true always uses
-- the temporary file (for a regular file or an absent path), false never.
-- A replaced file keeps its permission bits (not its owner).
-- @param op the operation, for errors
-- @param path the destination
-- @param startpos the offset to write from
-- @param atomic nil (as above), true or false
-- @return {file =, path = where the data goes, finish = function(err)
--   -> true | nil, err}, or nil, err (local_io)
function M.sink(op, path, startpos, atomic)
	local st = core.stat(path)
	local replace
	if startpos > 0 or atomic == false or (st and st.type ~= "file") then
		replace = false
	elseif atomic then
		replace = true
	else
		replace = st ~= nil and st.size > 0
	end
	local target = replace and M.temp_name(path) or path
	local f, err = M.open_sink(op, target, startpos)
	if not f then return nil, err end
	if replace and st then -- the new file takes the old one's permission bits
		local ok, e = core.chmod(f, st.mode)
		if not ok then
			f:close()
			os.remove(target)
			return nil, fail(op, path, e)
		end
	end
	local sink = { file = f, path = target }
	--- End the download. After a success (terr nil) the data is kept:
	-- synced, and a temporary file renamed over path. After a failure a
	-- temporary file is dropped (unless the download was paused) and a
	-- partial in place is kept; err.part names the file that keeps it
	-- (for a resume, or `ato`).
	-- @param terr the transfer's error, or nil after a success
	-- @return true, or nil, err (terr, or the local failure that lost data)
	function sink.finish(terr)
		local keep = terr == nil or not replace or terr.name == "paused"
		local c, cerr = M.close(op, path, f, terr == nil)
		if c and terr == nil and replace then c, cerr = M.rename(op, target, path) end
		if not keep or (not c and replace) then os.remove(target) end
		if terr and keep then terr.part = target end
		if not c and keep then -- a partial shorter than it says is worse than the transfer's error
			cerr.bytes = terr and terr.bytes
			return nil, cerr
		end
		if terr then return nil, terr end
		return true
	end
	return sink
end

return M
