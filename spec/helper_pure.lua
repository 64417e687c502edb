-- Shared checks for the pure-Lua modules (errors, atarg, reply, listing):
-- no globals created or read by mistake, and every public function
-- documented in LDoc style (the README API section is generated from it).
local M = {}

local function read(path)
	local f = assert(io.open(path, "rb"))
	local s = f:read("a")
	f:close()
	return s
end

-- Map public function name -> its doc block (comment lines right above it).
local function doc_blocks(src)
	local lines = {}
	for l in (src .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = l end
	local out = {}
	for i, l in ipairs(lines) do
		local name, params = l:match("^function M%.([%w_]+)%s*%((.-)%)")
		if name then
			local block = {}
			local j = i - 1
			while j >= 1 and lines[j]:match("^%s*%-%-") do
				table.insert(block, 1, lines[j])
				j = j - 1
			end
			out[name] = { block = block, params = params }
		end
	end
	return out
end

--- Register the hygiene specs for one module.
-- @param env the spec file's _ENV (busted puts describe/it/assert there)
-- @param modname the module name ("modemftp.errors")
-- @param path its source file
-- @param exercise function(module) calling some of it, run under a strict environment
function M.module_hygiene(env, modname, path, exercise)
	local describe, it, assert = env.describe, env.it, env.assert
	describe("hygiene", function()
		it("creates no globals when required", function()
			local saved = package.loaded[modname]
			local before = {}
			for k in pairs(_G) do before[k] = true end
			package.loaded[modname] = nil
			local ok, m = pcall(require, modname)
			package.loaded[modname] = saved
			assert.is_true(ok, tostring(m))
			assert.is_table(m)
			local leaked = {}
			for k in pairs(_G) do
				if not before[k] then leaked[#leaked + 1] = tostring(k) end
			end
			assert.same({}, leaked)
		end)

		it("reads no undefined global and writes none, even when used", function()
			local env = setmetatable({}, {
				__index = function(_, k)
					local v = _G[k]
					if v == nil then error("read of undefined global '" .. tostring(k) .. "'", 2) end
					return v
				end,
				__newindex = function(_, k)
					error("write of global '" .. tostring(k) .. "'", 2)
				end,
			})
			local chunk = assert(loadfile(path, "t", env))
			local m = chunk(modname)
			assert.is_table(m)
			if exercise then exercise(m) end
		end)

		it("documents every public function (---, @param, @return)", function()
			local docs = doc_blocks(read(path))
			local m = require(modname)
			local count = 0
			for k, v in pairs(m) do
				if type(v) == "function" then
					count = count + 1
					local d = docs[k]
					assert.is_table(d, k .. " is not defined as `function M." .. k .. "`")
					assert.is_true(#d.block > 0, k .. " has no doc comment")
					assert.matches("^%-%-%-", d.block[1], 1, false, k .. ": doc must start with ---")
					local text = table.concat(d.block, "\n")
					assert.is_truthy(text:find("@return", 1, true), k .. " lacks @return")
					for p in d.params:gmatch("[%w_]+") do
						assert.is_truthy(text:find("@param " .. p, 1, true), k .. " lacks @param " .. p)
					end
				end
			end
			assert.is_true(count > 0)
		end)
	end)
end

return M
