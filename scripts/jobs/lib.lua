--- Small helpers shared by the example jobs (shell-free where Lua allows).
-- Jobs load it with dofile(dir .. "/lib.lua"); copy what you need.
local L = {}

--- Shell-quote a string.
function L.q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

--- Parse "--flag" and "--key value" options out of args; returns opts, positional.
function L.getopt(args, takes_value)
	local opts, pos, i = {}, {}, 1
	while i <= #args do
		local a = args[i]
		local k = a:match("^%-%-([%w%-]+)$")
		if k and takes_value[k] then
			opts[k] = args[i + 1]
			i = i + 1
		elseif k then
			opts[k] = true
		else
			pos[#pos + 1] = a
		end
		i = i + 1
	end
	return opts, pos
end

--- Regular files in dir whose names match a shell glob, sorted.
function L.files(dir, glob)
	local p = io.popen("find " .. L.q(dir) .. " -maxdepth 1 -type f -name " .. L.q(glob or "*") .. " -printf '%f\\n' 2>/dev/null")
	local out = {}
	for name in p:lines() do out[#out + 1] = name end
	p:close()
	table.sort(out)
	return out
end

--- Size of a local file, or nil.
function L.size(path)
	local f = io.open(path, "rb")
	if not f then return nil end
	local n = f:seek("end")
	f:close()
	return n
end

--- Read a state file of "key value..." lines into a table key -> rest.
function L.read_state(path)
	local t = {}
	local f = io.open(path, "r")
	if not f then return t end
	for line in f:lines() do
		local k, v = line:match("^(%S+)%s*(.-)%s*$")
		if k then t[k] = v end
	end
	f:close()
	return t
end

--- Write a state table atomically and durably: a temporary file, every
-- write checked, flushed, fsync'ed and closed, renamed over the old one,
-- then the folder fsync'ed (modemftp.localfile). After a power loss the
-- state file is the old one or the new one, never a short one.
-- @return true, or nil, err (a local_io error object)
function L.write_state(path, t)
	local localfile = require "modemftp.localfile"
	local keys = {}
	for k in pairs(t) do keys[#keys + 1] = k end
	table.sort(keys)
	local tmp = path .. ".tmp"
	local f, err = localfile.open_sink("state", tmp, 0)
	if not f then return nil, err end
	for _, k in ipairs(keys) do
		local ok, msg, no = f:write(k, " ", tostring(t[k]), "\n")
		if not ok then
			f:close()
			os.remove(tmp)
			return nil, require("modemftp.errors").local_io("state", tmp, msg, no)
		end
	end
	local ok
	ok, err = localfile.close("state", tmp, f, true)
	if ok then ok, err = localfile.rename("state", tmp, path) end
	if not ok then os.remove(tmp) end
	return ok, err
end

--- mkdir -p
function L.mkdirs(path)
	return os.execute("mkdir -p " .. L.q(path))
end

return L
