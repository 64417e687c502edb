--- modemftp.metrics: a run's outcome for Prometheus (`modemftp run --metrics FILE`).
--
-- The file is in the text exposition format that node_exporter's textfile
-- collector reads (`--collector.textfile.directory`: the file name must end
-- in `.prom`). It is replaced atomically: written under a temporary name in
-- the same folder (`.NAME.PID.tmp`, which the collector skips), made mode
-- 0644 whatever the umask (node_exporter runs as another user), then
-- renamed over the old one, so the collector never reads half a file.
--
-- One file per job: every sample carries the labels `job` (the job file's
-- basename) and `port` (the port as configured). Counters (`_total`) add up
-- across runs and `modemftp_last_success_timestamp_seconds` survives a
-- failed run: both are read back from the file the previous run wrote (a
-- removed file starts the counters again at 0, which rate() and increase()
-- take as a counter reset). The families are `metrics.FAMILIES`.
local core = require "modemftp.core"

local M = {}

--- The metric families, in the order they are written: {name, type, help}.
M.FAMILIES = {
	{ "modemftp_last_run_timestamp_seconds", "gauge", "When the last run of the job ended (Unix time)." },
	{ "modemftp_last_success_timestamp_seconds", "gauge",
		"When a run of the job last succeeded (Unix time); kept from the previous file when this run failed, 0 before the first success." },
	{ "modemftp_exit_code", "gauge", "Exit status of the last run (modemftp(1): 0 success, 75 temporary failure, 69 too many in a row, ...)." },
	{ "modemftp_duration_seconds", "gauge", "How long the last run took, from start to exit." },
	{ "modemftp_bytes_total", "counter", "Bytes moved by the job's transfers, by direction (up: put, down: get), over all runs." },
	{ "modemftp_files_total", "counter", "Files the job's flows uploaded or downloaded, over all runs." },
	{ "modemftp_retries_total", "counter", "Retries of the job's flows, over all runs." },
	{ "modemftp_recoveries_total", "counter",
		"Module states the job's runs brought back (found mid-transfer, booting, ATV0, a stale answer...; a port reopened; an FTP session an earlier process left open), over all runs." },
	{ "modemftp_signal_quality", "gauge",
		"AT+CSQ <rssi> at the start of the last run: 0-31 (-113 dBm + 2 dB steps); absent when unknown (99) or no modem was open." },
	{ "modemftp_registration_status", "gauge",
		"AT+CGREG? <stat> at the start of the last run: 0 not registered, 1 home, 2 searching, 3 denied, 4 unknown, 5 roaming; absent when no modem was open." },
	{ "modemftp_module_info", "gauge",
		"The module of the last run, as ATI and AT+QGMR named it (labels manufacturer, model, revision, build; value 1); absent when no modem was open." },
}

local COUNTER = {}
for _, f in ipairs(M.FAMILIES) do
	if f[2] == "counter" then COUNTER[f[1]] = true end
end

--- A label value as the exposition format writes it: backslash, double
-- quote and line feed escaped.
-- @param value the value (any; written as its text)
-- @return the escaped text
function M.escape(value)
	return (tostring(value):gsub("[\\\"\n]", { ["\\"] = "\\\\", ['"'] = '\\"', ["\n"] = "\\n" }))
end

-- {job=, port=} and extra labels as `{job="...",port="...",k="v"}`.
local function labels(base, extra)
	local out = { 'job="' .. M.escape(base.job) .. '"', 'port="' .. M.escape(base.port) .. '"' }
	for _, kv in ipairs(extra or {}) do out[#out + 1] = kv[1] .. '="' .. M.escape(kv[2]) .. '"' end
	return "{" .. table.concat(out, ",") .. "}"
end

local function number(v)
	if math.type(v) == "integer" then return string.format("%d", v) end
	if v ~= v then return "NaN" end
	if v == math.huge then return "+Inf" elseif v == -math.huge then return "-Inf" end
	if v == math.floor(v) and math.abs(v) < 2 ^ 53 then return string.format("%d", math.tointeger(v)) end
	return (string.format("%.6f", v):gsub("0+$", ""):gsub("%.$", ""))
end

--- Read the samples of an exposition text (the previous run's file).
-- @param text the text (nil or "" gives no samples)
-- @return table of "name{labels}" (as written) -> number
function M.parse(text)
	local out = {}
	for line in ((text or "") .. "\n"):gmatch("([^\n]*)\n") do
		local name, i = line:match("^([%a_:][%w_:]*)()")
		local lab = ""
		if name and line:sub(i, i) == "{" then
			-- to the closing brace outside the quoted values
			local j, quoted = i + 1, false
			while j <= #line and (quoted or line:sub(j, j) ~= "}") do
				local c = line:sub(j, j)
				if c == "\\" and quoted then j = j + 1 elseif c == '"' then quoted = not quoted end
				j = j + 1
			end
			lab, i = line:sub(i, j), j + 1
		end
		local value = name and line:match("^%s+(%S+)", i)
		local n = value and tonumber(value)
		if n then out[name .. lab] = math.tointeger(n) or n end
	end
	return out
end

--- The exposition text of one run.
-- @param o {job = job file basename, port = port as configured, time = Unix
--   time the run ended, exit = status, duration = seconds, up = bytes,
--   down = bytes, files =, retries =, recoveries =, rssi = CSQ rssi or nil,
--   registration = CGREG stat or nil, module = the identity (`m:identity()`)
--   or nil, previous = the previous file's text or nil}
-- @return the text
function M.render(o)
	local prev = M.parse(o.previous)
	local base = { job = o.job or "", port = o.port or "" }
	local l = labels(base)
	local function count(v) return tonumber(v) or 0 end
	local values = {
		modemftp_last_run_timestamp_seconds = { { l, o.time } },
		modemftp_last_success_timestamp_seconds = { { l, o.exit == 0 and o.time or nil } },
		modemftp_exit_code = { { l, o.exit } },
		modemftp_duration_seconds = { { l, o.duration } },
		modemftp_bytes_total = { { labels(base, { { "direction", "up" } }), count(o.up) },
			{ labels(base, { { "direction", "down" } }), count(o.down) } },
		modemftp_files_total = { { l, count(o.files) } },
		modemftp_retries_total = { { l, count(o.retries) } },
		modemftp_recoveries_total = { { l, count(o.recoveries) } },
		modemftp_signal_quality = { { l, o.rssi or nil } },
		modemftp_registration_status = { { l, o.registration or nil } },
		modemftp_module_info = { o.module and { labels(base, {
			{ "manufacturer", o.module.manufacturer or "" }, { "model", o.module.model or "" },
			{ "revision", o.module.revision or "" }, { "build", o.module.build or "" } }), 1 } or nil },
	}
	local out = {}
	for _, f in ipairs(M.FAMILIES) do
		local name = f[1]
		local samples = {}
		for _, s in ipairs(values[name]) do
			local key, v = name .. s[1], s[2]
			if COUNTER[name] then
				v = (prev[key] or 0) + v
			elseif name == "modemftp_last_success_timestamp_seconds" and v == nil then
				v = prev[key] or 0
			end
			if v ~= nil then samples[#samples + 1] = key .. " " .. number(v) end
		end
		if #samples > 0 then
			out[#out + 1] = "# HELP " .. name .. " " .. f[3]:gsub("\\", "\\\\")
			out[#out + 1] = "# TYPE " .. name .. " " .. f[2]
			for _, s in ipairs(samples) do out[#out + 1] = s end
		end
	end
	return table.concat(out, "\n") .. "\n"
end

--- Read the signal quality (AT+CSQ) and the packet-domain registration
-- (AT+CGREG?) from an open modem. A command that fails leaves its value
-- out; nothing here fails the run.
-- @param m the modem
-- @return {rssi = 0..31 or nil, registration = stat or nil, module = the
--   identity when the opening read it}
function M.probe(m)
	local out = { module = m.ident }
	local function first(cmd, pattern)
		local ok, lines = pcall(m.at, m, cmd)
		if not ok or type(lines) ~= "table" then return nil end
		for _, line in ipairs(lines) do
			local v = type(line) == "string" and line:match(pattern)
			if v then return tonumber(v) end
		end
	end
	local rssi = first("AT+CSQ", "^%+CSQ:%s*(%d+)%s*,")
	if rssi and rssi ~= 99 and rssi ~= 199 then out.rssi = rssi end
	out.registration = first("AT+CGREG?", "^%+CGREG:%s*%d+%s*,%s*(%d+)")
	return out
end

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

--- Replace a file atomically: write a temporary file in the same folder
-- (`.NAME.PID.tmp`), set its mode, rename it over `path`.
-- @param path the file
-- @param text its new content
-- @param mode optional octal mode as text ("0644"), whatever the umask
-- @return true, or nil and a message
function M.write_file(path, text, mode)
	local dir, name = path:match("^(.*)/([^/]+)$")
	if not dir then dir, name = ".", path end
	local tmp = string.format("%s/.%s.%d.tmp", dir == "" and "" or dir, name, core.getpid())
	local f, msg = io.open(tmp, "w")
	if not f then return nil, msg end
	local ok, werr = f:write(text)
	local cok, cerr = f:close()
	if not ok or not cok then
		os.remove(tmp)
		return nil, tostring(werr or cerr)
	end
	if mode and not os.execute("chmod " .. mode .. " " .. q(tmp)) then
		os.remove(tmp)
		return nil, "chmod " .. mode .. " " .. tmp .. " failed"
	end
	local rok, rerr = os.rename(tmp, path)
	if not rok then
		os.remove(tmp)
		return nil, rerr
	end
	return true
end

--- Write a run's metrics to `path` (mode 0644), carrying the counters and
-- the last success over from the file that is there.
-- @param path the .prom file
-- @param o the run (see `render`; `previous` is read from `path`)
-- @return true, or nil and a message
function M.write(path, o)
	local f = io.open(path, "r")
	local previous = f and f:read("a") or nil
	if f then f:close() end
	local r = setmetatable({ previous = previous }, { __index = o })
	return M.write_file(path, M.render(r), "0644")
end

return M
