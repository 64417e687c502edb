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

--- A shell glob ("*.log.*", "app-??.csv", "[ab]*") as an anchored Lua
-- pattern.
function L.glob_pattern(glob)
	local out, i = { "^" }, 1
	while i <= #glob do
		local c = glob:sub(i, i)
		if c == "*" then
			out[#out + 1] = ".*"
		elseif c == "?" then
			out[#out + 1] = "."
		elseif c == "[" and glob:find("]", i + 2, true) then
			local close = glob:find("]", i + 2, true)
			local body = glob:sub(i + 1, close - 1):gsub("^!", "^"):gsub("%%", "%%%%")
			out[#out + 1] = "[" .. body .. "]"
			i = close
		else
			out[#out + 1] = c:gsub("%W", "%%%0")
		end
		i = i + 1
	end
	out[#out + 1] = "$"
	return table.concat(out)
end

--- Regular files in dir whose names match a shell glob, sorted. The
-- folder is listed by the runtime (core.listdir: no `find`, so a BusyBox
-- gateway does as well); a folder that is missing or cannot be read is a
-- failure, never an empty list.
-- @return the names and their stat tables (name -> stat), or nil, err (local_io)
function L.files(dir, glob)
	local core = require "modemftp.core"
	local names, e = core.listdir(dir)
	if not names then
		return nil, require("modemftp.errors").local_io("list", dir, e.message, e.errno)
	end
	local pattern = L.glob_pattern(glob or "*")
	local out, stats = {}, {}
	for _, name in ipairs(names) do
		if name:match(pattern) then
			local st = core.stat(dir .. "/" .. name)
			if st and st.type == "file" then
				out[#out + 1] = name
				stats[name] = st
			end
		end
	end
	table.sort(out)
	return out, stats
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

--- mkdir -p (BusyBox has it); a folder that cannot be made is a failure.
-- @return true, or nil, err (local_io)
function L.mkdirs(path)
	if os.execute("mkdir -p " .. L.q(path)) then return true end
	local st = require("modemftp.core").stat(path)
	if st and st.type == "directory" then return true end
	return nil, require("modemftp.errors").local_io("mkdir", path, "cannot make the folder")
end

return L
