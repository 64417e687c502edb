-- The README's "How it is built" tree names every source file of the
-- repository, one line each, and nothing that is gone. Source files: what
-- git tracks (or, outside a checkout, what is on disk) under src, lua,
-- scripts, spec and .ci with a source ending (.c .h .lua .py .mk) or the
-- executable bit, and the Makefile. Documents, transcripts and fuzz seeds
-- are data: the tree may name them, it need not.
--
-- Tree format: an unindented "folder/  text" line starts a folder (a path
-- from the top); each indented "name  text" line under it is a file in
-- that folder; "name.[ch]" stands for name.c and name.h; an unindented
-- name without a slash is a file at the top.

local function read(path)
	local f = assert(io.open(path, "rb"))
	local s = f:read("a")
	f:close()
	return s
end

local function tree_block(readme)
	local after = readme:match("\n## How it is built\n(.*)$")
	assert(after, 'README.md has no "## How it is built" section')
	local section = after:match("^(.-)\n## ") or after
	local block = section:match("```[^\n]*\n(.-)\n```")
	assert(block, 'the "How it is built" section has no ``` block')
	return block
end

--- Parse the tree into {path = line number}, and the lines without a text.
local function listed_paths(block)
	local paths, bare, folder = {}, {}, nil
	local n = 0
	for line in (block .. "\n"):gmatch("(.-)\n") do
		n = n + 1
		local indent, name, text = line:match("^(%s*)(%S+)%s*(.*)$")
		if name then
			if text == "" then bare[#bare + 1] = n .. ": " .. line end
			local full
			if indent == "" then
				if name:sub(-1) == "/" then
					folder = name
				else
					full = name
				end
			else
				assert(folder, "line " .. n .. " is indented under no folder: " .. line)
				full = folder .. name
			end
			if full then
				local stem = full:match("^(.*)%.%[ch%]$")
				if stem then
					paths[stem .. ".c"], paths[stem .. ".h"] = n, n
				else
					paths[full] = n
				end
			end
		end
	end
	return paths, bare
end

local function tracked_files()
	local list = {}
	local p = io.popen("git ls-files -s 2>/dev/null")
	for line in p:lines() do
		local mode, path = line:match("^(%d+) %x+ %d+\t(.+)$")
		if mode then list[#list + 1] = { path = path, exec = mode == "100755" } end
	end
	p:close()
	if #list > 0 then return list end
	p = io.popen("find src lua scripts spec .ci Makefile -type f -printf '%m %p\\n'")
	for line in p:lines() do
		local m, path = line:match("^(%d+) (.+)$")
		list[#list + 1] = { path = path, exec = tonumber(m:sub(1, 1)) % 2 == 1 }
	end
	p:close()
	return list
end

local function is_source(f)
	if f.path == "Makefile" then return true end
	if not (f.path:match("^src/") or f.path:match("^lua/") or f.path:match("^scripts/")
		or f.path:match("^spec/") or f.path:match("^%.ci/")) then
		return false
	end
	if f.path:match("%.md$") or f.path:match("^spec/fuzz/corpus/") or f.path:match("^spec/fuzz/seeds/") then
		return false
	end
	return f.exec or f.path:match("%.[ch]$") or f.path:match("%.lua$") or f.path:match("%.py$")
		or f.path:match("%.mk$")
end

local function exists(path)
	local f = io.open(path, "rb")
	if f then f:close() end
	return f ~= nil
end

describe("README's 'How it is built'", function()
	local paths, bare = listed_paths(tree_block(read("README.md")))

	it("names every source file", function()
		local missing = {}
		for _, f in ipairs(tracked_files()) do
			if is_source(f) and not paths[f.path] then missing[#missing + 1] = f.path end
		end
		table.sort(missing)
		assert.same({}, missing)
	end)

	it("names no file that is gone", function()
		local gone = {}
		for path, line in pairs(paths) do
			if not exists(path) then gone[#gone + 1] = path .. " (line " .. line .. ")" end
		end
		table.sort(gone)
		assert.same({}, gone)
	end)

	it("says in one line what each file is", function()
		assert.same({}, bare)
	end)

	it("reads the tree format it documents", function()
		local p = listed_paths("src/at/\n  mf_at.[ch]   parser\nMakefile  builds\nlua/\n  x.lua  y\n")
		assert.same({ ["src/at/mf_at.c"] = 2, ["src/at/mf_at.h"] = 2, Makefile = 3, ["lua/x.lua"] = 5 }, p)
		assert.has_error(function() listed_paths("  orphan.c  no folder\n") end)
	end)
end)
