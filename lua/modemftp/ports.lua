--- modemftp.ports: `modemftp ports`: the serial ports, Quectel modules flagged.
--
-- The list is `core.ports()` (libserialport): one table per port {name,
-- description, transport, vid, pid, manufacturer, product, serial,
-- quectel}. It is printed as an aligned table (the third interface of a
-- Quectel module is usually its AT port) or, with --json, as an array.
-- `core.ports` is the one source of the list: the specs show the command
-- other lists by replacing it before the command runs
-- (spec/support/fakeports.lua, loaded through LUA_INIT_5_4).
local core = require "modemftp.core"
local json = require "modemftp.json"
local exitstatus = require "modemftp.exitstatus"

local EXIT = exitstatus.EXIT

local M = {}

local function hex4(n) return n and string.format("%04x", n) or nil end

--- The ports as the --json array: vid and pid as 4 hex digits.
-- @param list the ports (core.ports())
-- @return the JSON text
function M.json(list)
	if #list == 0 then return "[]" end
	local rows = {}
	for i, p in ipairs(list) do
		rows[i] = {
			name = p.name, description = p.description, transport = p.transport, vid = hex4(p.vid), pid = hex4(p.pid),
			manufacturer = p.manufacturer, product = p.product, serial = p.serial, quectel = p.quectel or false,
		}
	end
	return json.encode(rows)
end

--- The ports as an aligned table with a header, then a hint when a
-- Quectel module is among them.
-- @param list the ports (core.ports())
-- @return the text
function M.table(list)
	if #list == 0 then return "No serial ports found.\n" end
	local rows = { { "PORT", "VID:PID", "MANUFACTURER", "PRODUCT", "SERIAL", "" } }
	local nq = 0
	for _, p in ipairs(list) do
		local id = p.vid and string.format("%04x:%04x", p.vid, p.pid or 0) or (p.transport or "-")
		if p.quectel then nq = nq + 1 end
		rows[#rows + 1] = { p.name, id, p.manufacturer or "-", p.product or p.description or "-", p.serial or "-",
			p.quectel and "* Quectel" or "" }
	end
	local w = {}
	for _, r in ipairs(rows) do
		for i, c in ipairs(r) do w[i] = math.max(w[i] or 0, #c) end
	end
	local out = {}
	for _, r in ipairs(rows) do
		local cells = {}
		for i, c in ipairs(r) do cells[i] = c .. string.rep(" ", w[i] - #c) end
		out[#out + 1] = (table.concat(cells, "  "):gsub("%s+$", "")) .. "\n"
	end
	if nq > 0 then
		out[#out + 1] = string.format("%d Quectel port(s) (VID 2c7c): the AT port is usually the third (e.g. ttyUSB2).\n", nq)
	end
	return table.concat(out)
end

--- The `modemftp ports` verb (after `modemftp.cli` parsed its options).
-- @param opts the options (`options.parse`): json
-- @return the exit status
function M.main(opts)
	local list, lerr = core.ports()
	if not list then io.stderr:write("modemftp ports: ", tostring(lerr), "\n"); return EXIT.failed end
	table.sort(list, function(a, b) return a.name < b.name end)
	io.stdout:write(opts.json and (M.json(list) .. "\n") or M.table(list))
	return EXIT.ok
end

return M
