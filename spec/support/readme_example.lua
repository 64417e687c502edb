--- The README's example job, extracted from README.md so that the spec
-- runs exactly what the README shows.
local M = {}

--- The example's source text.
function M.source(readme)
	local f = assert(io.open(readme or "README.md", "rb"))
	local text = f:read("a")
	f:close()
	local code = text:match("%-%- README example[^\n]*\n(.-)%-%- end of README example")
	return assert(code, "README example block not found")
end

--- Run the example with the given globals (PORT, FTP_HOST, FTP_PORT,
-- FTP_PASSWORD) and print captured in `out`.
function M.run(env_values, out)
	local env = setmetatable({}, { __index = _G })
	for k, v in pairs(env_values) do env[k] = v end
	env.print = function(...)
		local t = {}
		for i = 1, select("#", ...) do t[i] = tostring((select(i, ...))) end
		out[#out + 1] = table.concat(t, "\t")
	end
	local chunk = assert(load(M.source(), "=README example", "t", env))
	return chunk()
end

return M
