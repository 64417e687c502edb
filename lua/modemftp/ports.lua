--- modemftp.ports: `modemftp ports`: the serial ports, and for a USB modem
-- what each interface is and how to name it whatever its ttyUSB number.
--
-- The list is `core.ports()` (libserialport): one table per port {name,
-- description, transport, vid, pid, manufacturer, product, serial,
-- quectel}. sysfs adds, for a USB port, its interface number and its
-- /dev/serial/by-id link (`modemftp.usbserial`); for a Quectel module whose
-- product is known, what the interface is for (DM, NMEA, AT, modem) and, for
-- the AT port, the usb:VID:PID:IF spec to configure. It is printed as an
-- aligned table or, with --json, as an array. `core.ports` is the one source
-- of the list: the specs show the command other lists by replacing it
-- before the command runs (spec/support/fakeports.lua, loaded through
-- LUA_INIT_5_4), and other sysfs and /dev trees through MODEMFTP_SYSFS and
-- MODEMFTP_DEVROOT (spec/support/fakesysfs.lua).
local core = require "modemftp.core"
local json = require "modemftp.json"
local exitstatus = require "modemftp.exitstatus"
local usbserial = require "modemftp.usbserial"

local EXIT = exitstatus.EXIT

local M = {}

local function hex4(n) return n and string.format("%04x", n) or nil end

--- Add what sysfs knows to each port: `interface`, `by_id`, and for a
-- known Quectel module `role` ("AT", "DM", "NMEA", "modem"), `model`, and
-- `spec` (usb:VID:PID:IF, the AT port's name whatever its number).
-- @param list the ports (core.ports()); changed in place
-- @param roots optional `usbserial.roots()` table
-- @return list
function M.describe(list, roots)
	local by_name = {}
	for _, t in ipairs(usbserial.list(roots)) do by_name[t.name] = t end
	for _, p in ipairs(list) do
		local t = by_name[p.name:match("[^/]+$")]
		if t then
			p.interface, p.by_id = t.interface, t.by_id
			p.vid, p.pid = p.vid or t.vid, p.pid or t.pid
			p.manufacturer, p.product, p.serial = p.manufacturer or t.manufacturer, p.product or t.product,
				p.serial or t.serial
			p.role, p.model = usbserial.role(t.vid, t.pid, t.interface)
			if p.role == "AT" then p.spec = string.format("usb:%04x:%04x:%d", t.vid, t.pid, t.interface) end
		end
	end
	return list
end

--- The ports as the --json array: vid and pid as 4 hex digits.
-- @param list the ports (core.ports(), after `describe`)
-- @return the JSON text
function M.json(list)
	if #list == 0 then return "[]" end
	local rows = {}
	for i, p in ipairs(list) do
		rows[i] = {
			name = p.name, description = p.description, transport = p.transport, vid = hex4(p.vid), pid = hex4(p.pid),
			manufacturer = p.manufacturer, product = p.product, serial = p.serial, quectel = p.quectel or false,
			interface = p.interface, by_id = p.by_id, role = p.role, model = p.model, spec = p.spec,
			at_port = p.role == "AT",
		}
	end
	return json.encode(rows)
end

--- The ports as an aligned table with a header, then what to configure.
-- @param list the ports (core.ports(), after `describe`)
-- @return the text
function M.table(list)
	if #list == 0 then return "No serial ports found.\n" end
	local rows = { { "PORT", "VID:PID", "IF", "ROLE", "MANUFACTURER", "PRODUCT", "SERIAL", "BY-ID" } }
	local notes, unknown = {}, {}
	for _, p in ipairs(list) do
		local id = p.vid and string.format("%04x:%04x", p.vid, p.pid or 0) or (p.transport or "-")
		local role = p.role and (p.role == "AT" and "AT *" or p.role) or (p.quectel and "?" or "-")
		rows[#rows + 1] = { p.name, id, p.interface and tostring(p.interface) or "-", role, p.manufacturer or "-",
			p.product or p.description or "-", p.serial or "-", p.by_id or "-" }
		if p.spec then
			notes[#notes + 1] = string.format("* the AT port of the Quectel %s (%s): --port %s%s\n", p.model, id, p.spec,
				p.by_id and (" or " .. p.by_id) or "")
		elseif p.quectel and not p.role and not unknown[id] then
			unknown[id] = true
			notes[#notes + 1] = string.format("Quectel %s: %s (Qualcomm-based modules answer AT on interface 2, "
				.. "the EC200 and EG8xx families elsewhere: try modemftp at ATI --port PORT)\n", id, p.interface
				and "which interface of this product is the AT port is not known here"
				or "sysfs does not say which USB interface each port is")
		end
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
	for _, n in ipairs(notes) do out[#out + 1] = n end
	return table.concat(out)
end

--- The `modemftp ports` verb (after `modemftp.cli` parsed its options).
-- @param opts the options (`options.parse`): json
-- @return the exit status
function M.main(opts)
	local list, lerr = core.ports()
	if not list then io.stderr:write("modemftp ports: ", tostring(lerr), "\n"); return EXIT.failed end
	table.sort(list, function(a, b) return a.name < b.name end)
	M.describe(list)
	io.stdout:write(opts.json and (M.json(list) .. "\n") or M.table(list))
	return EXIT.ok
end

return M
