-- End to end against each module model of ec20sim (`--model`, the forms of
-- the public outputs: spec/ec20sim/README.md "Models"): the identity read at
-- open, the AT+QFTPCFG=? list, the main flows (login, put, get, list,
-- publish, fetch, through the module's own drive), what each module lacks
-- refused with nothing sent (checked in a --record transcript of the whole
-- session), and the resume policy after "+++" per module.
local modemftp = require "modemftp"
local flow = require "modemftp.flow"
local sim = require "support.sim"

local GUARD_MS = 100

local MODELS = {
	{ sim = "EC20", model = "EC20F", build = "EC20CEFAR06A01M4G", family = "EC20", drive = "RAM", via = "ram",
		lacks = { data_address = 1 }, ssltype = "(0,1)", resume = "ato" },
	{ sim = "EG25-G:01.002.01.002", model = "EG25", build = "EG25GGBR07A08M2G_01.002.01.002", family = "EC2x",
		drive = "UFS", via = "ufs", lacks = { restenable = 1 }, has = { data_address = 2 }, ssltype = "(0-2)",
		resume = "auto" },
	{ sim = "EG25-G:01.003.01.003", model = "EG25", build = "EG25GGBR07A08M2G_01.003.01.003", family = "EC2x",
		drive = "UFS", via = "ufs", lacks = { cache = 1 }, has = { restenable = 1, data_address = 1 },
		ssltype = "(0-2)", resume = "auto" },
	{ sim = "EG800K", model = "EG800K", build = "EG800KCNGCR07A06M04", family = "EC200x", drive = "UFS", via = "sd",
		lacks = { contextid = 16 }, has = { cache = 1, restenable = 0, data_address = { 2, 25 } }, ssltype = "(0-2)",
		resume = "restart", no_via = "ram" },
	{ sim = "BG95-M3", model = "BG95-M3", build = "BG95M3LAR02A03_01.011.01.011", family = "LPWA", drive = "UFS",
		via = "ufs", lacks = { restenable = 1, data_address = 2 }, has = { data_address = 1 }, ssltype = "(0-2)",
		resume = "auto", no_via = "ram" },
}

local function with_sim(args, fn)
	return sim.with({ guard_ms = GUARD_MS, args = args }, fn)
end

local function open(h, extra)
	local o = { guard = GUARD_MS / 1000 * 1.5, record = h.dir .. "/session.tx" }
	for k, v in pairs(extra or {}) do o[k] = v end
	return assert(modemftp.open(h.port, o))
end

local function login(m, h, extra)
	local o = { host = "127.0.0.1", port = h.ftp_port, user = h.user, password = h.password, timeout = 20 }
	for k, v in pairs(extra or {}) do o[k] = v end
	return m:ftp(o)
end

-- The host's lines of the recorded transcript (what was sent).
local function sent(h, name)
	local out = {}
	for line in (sim.read(h.dir .. "/" .. (name or "session.tx")) or ""):gmatch("[^\n]+") do
		local cmd = line:match("^> (.-)\\r$")
		if cmd then out[#out + 1] = cmd end
	end
	return table.concat(out, "\n")
end

for _, M in ipairs(MODELS) do
	describe("module " .. M.sim, function()
		it("is identified at open, lists its settings, and runs the main flows", function()
			with_sim("--model " .. M.sim, function(h)
				local m = open(h)
				local id = assert(m:identity())
				assert.same({ "Quectel", M.model, M.build, M.family, "qftp" },
					{ id.manufacturer, id.model, id.build, id.family, id.dialect })
				assert.equal(M.resume, m:profile().resume)
				assert.equal(M.drive, m:profile().drives[1])
				local caps = assert(m:ftp_capabilities())
				assert.equal('"ssltype",' .. M.ssltype, caps:accepts("ssltype"))
				assert(m:pdp { context = 1, apn = "internet" })
				local s = assert(login(m, h))
				-- put, get, list
				local text = "hello from " .. M.model
				assert.equal(#text, assert(s:write("hello.txt", text)))
				assert.equal(text, assert(s:read("hello.txt")))
				local names = {}
				for _, e in ipairs(assert(s:list("."))) do names[e.name] = e.size end
				assert.equal(#text, names["hello.txt"])
				-- through the module's own drive, named in its case
				assert.equal(5, assert(s:write("drive.txt", "drive", { via = M.via })))
				assert.equal("drive", assert(s:read("drive.txt", { via = M.via })))
				local listed = {}
				for _, name in ipairs(assert(s:nlst(".", { via = M.via }))) do listed[name] = true end
				assert.is_true(listed["drive.txt"] and listed["hello.txt"])
				if M.no_via then
					local n, err = s:write("x.txt", "x", { via = M.no_via })
					assert.is_nil(n)
					assert.equal("unsupported", err.name)
					assert.matches(M.build, tostring(err), 1, true)
				end
				-- publish and fetch (atomic flows)
				local f = flow.new { session = s, attempts = 2 }
				sim.make_file(h.dir .. "/up.bin", 70000, 3)
				assert.equal(70000, assert(f:publish(h.dir .. "/up.bin", "up.bin")))
				assert.equal(sim.sha256(h.dir .. "/up.bin"), sim.sha256(h.root .. "/up.bin"))
				assert.equal(70000, assert(f:fetch("up.bin", h.dir .. "/down.bin")))
				assert.equal(sim.sha256(h.dir .. "/up.bin"), sim.sha256(h.dir .. "/down.bin"))
				assert(s:close())
				m:close()
				local tx = sent(h)
				assert.truthy(tx:find("ATI", 1, true))
				assert.truthy(tx:find("AT+QFTPCFG=?", 1, true))
				assert.truthy(sim.read(h.dir .. "/session.tx"):find("# module: Quectel " .. M.model, 1, true))
				if M.drive ~= "RAM" then assert.falsy(tx:find("RAM:", 1, true)) end
			end)
		end)

		it("keeps files on its own drive with the storage helpers; m:ram_* only where it has RAM:", function()
			with_sim("--model " .. M.sim, function(h)
				local m = open(h)
				assert.equal(5, assert(m:storage_upload("a.bin", "12345")))
				local list = assert(m:storage_list())
				assert.same({ M.drive .. ":a.bin", M.drive, 5 }, { list[1].name, list[1].storage, list[1].size })
				assert.same({ 5, "12345" }, { m:storage_download(M.drive .. ":a.bin") })
				assert.is_true(m:storage_delete("a.bin"))
				assert.same({}, assert(m:storage_list()))
				local n, err = m:ram_upload("r.bin", "x")
				if M.drive == "RAM" or M.sim:find("^EG25") then
					assert.equal(1, n)
					assert(m:ram_delete("r.bin"))
				else
					assert.is_nil(n)
					assert.equal("argument", err.name)
				end
				m:close()
				if M.no_via then assert.falsy(sent(h):find(M.no_via:upper() .. ":", 1, true)) end
			end)
		end)

		it("takes the settings it lists, refuses what it lacks before anything is sent", function()
			with_sim("--model " .. M.sim .. " --pdp-active", function(h)
				local m = open(h)
				for key, v in pairs(M.lacks) do
					local s, err = login(m, h, { [key == "contextid" and "context" or key] = v })
					assert.is_nil(s)
					assert.matches(M.build, tostring(err), 1, true)
					assert.is_true(err.name == "unsupported" or err.name == "argument")
					-- and m:ftpcfg refuses it the same way
					local ok, cerr = m:ftpcfg(key, v)
					assert.is_nil(ok)
					assert.equal(err.name, cerr.name)
				end
				for key, v in pairs(M.has or {}) do
					local s = assert(login(m, h, { [key] = v }))
					assert(s:close())
					if type(v) == "table" then
						assert.same(v, { m:ftpcfg(key) })
					else
						assert.equal(v, m:ftpcfg(key))
					end
				end
				m:close()
				local tx = sent(h)
				for key, v in pairs(M.lacks) do
					assert.falsy(tx:find('AT+QFTPCFG="' .. key .. '",' .. v, 1, true), key .. " was sent")
				end
				for key in pairs(M.has or {}) do
					assert.truthy(tx:find('AT+QFTPCFG="' .. key .. '",', 1, true))
				end
				-- one read of each per port
				local _, atis = tx:gsub("ATI\n", "")
				local _, lists = tx:gsub("AT%+QFTPCFG=%?", "")
				assert.same({ 1, 1 }, { atis, lists })
			end)
		end)

		it("sends ssl as its numbering has it, and refuses what that cannot say", function()
			with_sim("--model " .. M.sim .. " --pdp-active", function(h)
				-- the server speaks plain FTP: a login may fail after the setting went out
				local n = 0
				local function ssltype_sent(ssl)
					n = n + 1
					local m = open(h, { record = h.dir .. "/ssl" .. n .. ".tx" })
					local s, err = login(m, h, { ssl = ssl })
					if s then s:close() end
					m:close()
					return err, tonumber(sent(h, "ssl" .. n .. ".tx"):match('AT%+QFTPCFG="ssltype",(%d)'))
				end
				if M.ssltype == "(0,1)" then
					local err = ssltype_sent("explicit")
					assert.equal("unsupported", err.name)
					assert.matches('"ssltype",(0,1)', tostring(err), 1, true)
					local _, v = ssltype_sent(true)
					assert.equal(1, v)
				else
					assert.equal(2, select(2, ssltype_sent("explicit")))
					assert.equal(1, select(2, ssltype_sent("implicit")))
					assert.equal(2, select(2, ssltype_sent(true))) -- port 21: explicit
				end
			end)
		end)
	end)
end

describe("module resume policy after +++", function()
	for _, case in ipairs { { "EC20", "ATO" }, { "EG800K", "AT+QFTPGET" }, { "EG25-G", "ATO" } } do
		it(case[1] .. " continues a paused download with " .. case[2] .. ", nothing lost", function()
			with_sim("--model " .. case[1] .. " --pdp-active --baud 2000000", function(h)
				local m = open(h)
				local s = assert(login(m, h))
				sim.make_file(h.root .. "/big.bin", 300 * 1024, 7)
				local dst = h.dir .. "/big.part"
				local n, err = s:get("big.bin", dst, { progress = function(b) return b < 50000 end, progress_interval = 0 })
				assert.is_nil(n)
				assert.equal("paused", err.name)
				-- paused once more, then to the end: the offset counts from the start
				local first = err.bytes
				local part
				part, err = s:ato(dst, { offset = first, expect = 300 * 1024,
					progress = function(b) return b < 150000 end })
				assert.is_nil(part)
				assert.equal("paused", err.name)
				local rest = assert(s:ato(dst, { offset = first + err.bytes, expect = 300 * 1024 }))
				assert.equal(300 * 1024, first + err.bytes + rest)
				assert.equal(sim.sha256(h.root .. "/big.bin"), sim.sha256(dst))
				assert(s:close())
				m:close()
				local tx = sent(h)
				if case[2] == "ATO" then
					assert.truthy(tx:find("\nATO\n", 1, true))
				else
					assert.falsy(tx:find("\nATO\n", 1, true))
					assert.truthy(tx:find('AT+QFTPGET="big.bin","COM:",' .. first, 1, true))
				end
			end)
		end)
	end
end)

describe("a GSM module (M95)", function()
	it("is recognised from ATI and refused before any AT+QFTP command", function()
		with_sim("--model M95 --pdp-active", function(h)
			local m = open(h)
			local id = assert(m:identity())
			assert.same({ "Quectel_Ltd", "Quectel_M95", "M95FAR02A08", "gsm" },
				{ id.manufacturer, id.model, id.revision, id.dialect })
			local s, err = login(m, h)
			assert.is_nil(s)
			assert.equal("unsupported", err.name)
			assert.matches("GSM FTP dialect", tostring(err), 1, true)
			assert.is_nil(m:ftpcfg("filetype", 0))
			assert.is_nil(m:ftp_capabilities())
			m:close()
			assert.falsy(sent(h):find("QFTP", 1, true))
		end)
	end)
end)

describe("module identity at open", function()
	it("is skipped with identify = false and read on first use", function()
		with_sim("--model BG95-M3", function(h)
			local m = open(h, { identify = false })
			assert.is_nil(m.ident)
			assert.equal("RAM", m:profile().drives[1]) -- an unknown module's: the manual's
			assert.equal("BG95-M3", assert(m:identity()).model)
			assert.equal("UFS", m:profile().drives[1])
			m:close()
		end)
	end)

	it("takes the configuration's overrides of the profile", function()
		with_sim("--model EG800K", function(h)
			local m = open(h, { profile = { resume = "ato", drives = "SD", path_max = 64 } })
			local p = m:profile()
			assert.same({ "ato", { "SD" }, 64, 255 }, { p.resume, p.drives, p.limits.path_name, p.limits.hostname })
			m:close()
			local m2, err = modemftp.open(h.port, { profile = { resume = "sometimes" } })
			assert.is_nil(m2)
			assert.equal("argument", err.name)
		end)
	end)
end)
