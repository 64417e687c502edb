--- spec/support/doubles.lua: spec doubles for the local file services.
--
--     local doubles = require "support.doubles"
--     local calls = doubles.durability(function() ... s:get(remote, path) ... end)
--     -- calls: { "fsync", "rename /x/final", "fsync_dir /x" } in the order made
local core = require "modemftp.core"

local M = {}

--- Run fn with core.fsync, core.fsync_dir and os.rename recorded (each
-- still does its work), then put them back, also when fn raises.
-- @param fn the code under test
-- @return the calls in order: "fsync" (a file or a path), "fsync_dir DIR",
--   "rename TO"
function M.durability(fn)
	local calls = {}
	local fsync, fsync_dir, rename = core.fsync, core.fsync_dir, os.rename
	core.fsync = function(x) calls[#calls + 1] = "fsync"; return fsync(x) end
	core.fsync_dir = function(d) calls[#calls + 1] = "fsync_dir " .. d; return fsync_dir(d) end
	os.rename = function(a, b) calls[#calls + 1] = "rename " .. b; return rename(a, b) end
	local ok, err = pcall(fn, calls)
	core.fsync, core.fsync_dir, os.rename = fsync, fsync_dir, rename
	if not ok then error(err, 0) end
	return calls
end

return M
