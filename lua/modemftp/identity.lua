--- modemftp.identity: what module is on the port, and what that means.
--
-- Fleets mix Quectel parts that share the AT+QFTP* commands but not their
-- settings, storage names or data-mode habits. `read` asks the module
-- (ATI, then AT+QGMR for the full firmware build, AT+CGMM only when ATI
-- named no model) and `parse` turns the answers into
--
--     {manufacturer = "Quectel", model = "EG25", revision = "EG25GGBR07A08M2G",
--      build = "EG25GGBR07A08M2G_01.003.01.003", family = "EC2x", dialect = "qftp"}
--
-- `profile` gives the behaviour that AT+QFTPCFG=? cannot show, chosen from
-- the family (README, "Modules and builds", says where each value comes
-- from and how sure it is); `modemftp.open`'s `profile` option (the
-- configuration's `module_*` keys) overrides any of it.
--
-- The GSM parts (M95, M26, M10, MC60: ATI `Quectel_Ltd` / `Quectel_M95`)
-- speak another FTP dialect (QFTPUSER, QFTPPASS, QFTPPATH, a numeric
-- QFTPCFG, results without an error field): their dialect is "gsm" and
-- the FTP methods refuse them before sending any AT+QFTP command.
local errors = require "modemftp.errors"

local M = {}

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

-- Families by the model line's start (ATI line 2, AT+CGMM). The EC20's
-- own manual is the contract; the EC2x/EG2x-G/EG9x "LTE Standard" parts,
-- the ECx00x/EG800K Cat-1 parts and the LPWA parts differ as FAMILY.md shows.
local FAMILIES = {
	{ "^EG8[01]", "EC200x" }, { "^EC[268]00", "EC200x" }, { "^EG91%dN", "EC200x" }, { "^EG915", "EC200x" },
	{ "^EG950", "EC200x" },
	{ "^EC20", "EC20" },
	{ "^EC2[15]", "EC2x" }, { "^EG2[15]", "EC2x" }, { "^EG9[15]", "EC2x" }, { "^EM05", "EC2x" },
	{ "^BG9[56]", "LPWA" }, { "^BG77", "LPWA" }, { "^BG600", "LPWA" },
	{ "^UC[12]", "UMTS" },
}

--- The family of a model line: "EC20", "EC2x", "EC200x", "LPWA", "UMTS" or "unknown".
-- @param model the model line ("EG25", "BG95-M3", "EC20F")
-- @return the family
function M.family(model)
	if type(model) ~= "string" then return "unknown" end
	local m = model:upper()
	for _, f in ipairs(FAMILIES) do
		if m:find(f[1]) then return f[2] end
	end
	return "unknown"
end

--- Read the identity from the answers (information lines, echo dropped).
-- @param ati ATI's lines (a table), or nil when it failed
-- @param qgmr AT+QGMR's lines, or nil when it failed (the EC20 V1.0 set has no QGMR)
-- @param cgmm AT+CGMM's lines, or nil
-- @return {manufacturer, model, revision, build, family, dialect}; unknown fields are nil
function M.parse(ati, qgmr, cgmm)
	local id = {}
	local plain = {}
	for _, l in ipairs(ati or {}) do
		l = trim(l)
		local rev = l:match("^Revision:%s*(.-)$")
		if rev then id.revision = rev elseif l ~= "" then plain[#plain + 1] = l end
	end
	id.manufacturer, id.model = plain[1], plain[2]
	if not id.model then
		for _, l in ipairs(cgmm or {}) do
			if trim(l) ~= "" then id.model = trim(l); break end
		end
	end
	for _, l in ipairs(qgmr or {}) do
		if trim(l) ~= "" then id.build = trim(l); break end
	end
	id.build = id.build or id.revision
	-- GSM parts print "Quectel_Ltd" and "Quectel_M95" (AT+CGMM too)
	local gsm = (id.manufacturer or ""):find("^Quectel_Ltd") or (id.model or ""):find("^Quectel_M")
	id.dialect = gsm and "gsm" or "qftp"
	id.family = gsm and "GSM" or M.family(id.model)
	return id
end

--- One line for logs, transcripts and messages: "Quectel EG25 (EG25GGBR07A08M2G_01.003.01.003)".
-- @param id an identity (nil: "an unidentified module")
-- @return the text
function M.describe(id)
	if not id or (not id.model and not id.build) then return "an unidentified module" end
	local s = table.concat({ id.manufacturer or "?", id.model or "?" }, " ")
	if id.build then s = s .. " (" .. id.build .. ")" end
	return s
end

--- Ask the module: ATI, AT+QGMR, and AT+CGMM when ATI named no model.
-- A command the module answers with ERROR (or +CME ERROR) leaves its
-- fields out; a failure of the port (timeout, closed) is returned.
-- @param m the modem (its `command`)
-- @return the identity, or nil, err
function M.read(m)
	local answers = {}
	local function ask(cmd)
		local r, err = m:command(cmd, { op = "identity" })
		if r then return r.info end
		if err.name == "modem_error" or err.name == "cme_error" or err.code then return nil end
		answers.err = err
		return nil
	end
	local ati = ask("ATI")
	if answers.err then return nil, answers.err end
	local id = M.parse(ati)
	local qgmr, cgmm
	if id.dialect == "qftp" then
		qgmr = ask("AT+QGMR")
		if answers.err then return nil, answers.err end
	end
	if not id.model then
		cgmm = ask("AT+CGMM")
		if answers.err then return nil, answers.err end
	end
	return M.parse(ati, qgmr, cgmm)
end

--- Behaviour by family: what `=?` cannot show. `resume` is what `s:ato`
-- does after a download left data mode with "+++": "ato" (send ATO, as
-- the manual says), "restart" (the module aborted it: QFTPGET again from
-- the offset), "auto" (ask AT+QFTPSTAT: a transfer still waiting is
-- resumed with ATO, an idle module gets the restart). `drives` are the
-- storage names the module's FTP and file commands take, in its case
-- (the first one is the default); `limits` the string lengths.
local PROFILES = {
	EC20 = { resume = "ato", drives = { "RAM" }, limits = { hostname = 200, path_name = 255, context = 16 } },
	EC2x = { resume = "auto", drives = { "UFS", "RAM" }, limits = { hostname = 200, path_name = 255, context = 16 } },
	EC200x = { resume = "restart", drives = { "UFS", "SD" }, limits = { hostname = 255, path_name = 128, context = 15 } },
	LPWA = { resume = "auto", drives = { "UFS" }, limits = { hostname = 200, path_name = 255, context = 16 } },
	UMTS = { resume = "auto", drives = { "RAM" }, limits = { hostname = 200, path_name = 255, context = 16 } },
	unknown = { resume = "auto", drives = { "RAM" }, limits = { hostname = 200, path_name = 255, context = 16 } },
}
PROFILES.GSM = PROFILES.unknown

local RESUME = { ato = true, restart = true, auto = true }

--- The behaviour of a module: its family's, then the overrides.
-- @param id the identity (nil: unknown)
-- @param over optional {resume =, drives = {..} or "UFS,SD", hostname_max =, path_max =}
-- @return {resume =, drives = {...}, limits = {hostname =, path_name =, context = the highest PDP
--   context id}}, or nil, err (a bad override)
function M.profile(id, over)
	local base = PROFILES[id and id.family or "unknown"] or PROFILES.unknown
	local p = { resume = base.resume, drives = table.move(base.drives, 1, #base.drives, 1, {}),
		limits = { hostname = base.limits.hostname, path_name = base.limits.path_name, context = base.limits.context } }
	over = over or {}
	if over.resume ~= nil then
		if not RESUME[over.resume] then
			return nil, errors.argument("open", "bad profile 'resume': want \"ato\", \"restart\" or \"auto\", got "
				.. tostring(over.resume))
		end
		p.resume = over.resume
	end
	if over.drives ~= nil then
		local list = over.drives
		if type(list) == "string" then
			local t = {}
			for d in list:gmatch("[^,%s]+") do t[#t + 1] = d:gsub(":$", "") end
			list = t
		end
		if type(list) ~= "table" or #list == 0 then
			return nil, errors.argument("open", "bad profile 'drives': want a list such as \"UFS,SD\"")
		end
		for _, d in ipairs(list) do
			if type(d) ~= "string" or not d:match("^%w+$") then
				return nil, errors.argument("open", "bad profile 'drives': " .. tostring(d) .. " is not a drive name")
			end
		end
		p.drives = list
	end
	for key, field in pairs { hostname_max = "hostname", path_max = "path_name" } do
		local v = over[key]
		if v ~= nil then
			if math.type(v) ~= "integer" or v < 1 then
				return nil, errors.argument("open", "bad profile '" .. key .. "': want a positive integer")
			end
			p.limits[field] = v
		end
	end
	return p
end

return M
