-- modemftp.metrics and `modemftp run --metrics FILE`: the Prometheus text
-- exposition format (node_exporter's textfile collector), replaced
-- atomically, counters and the last success carried across runs.
local metrics = require "modemftp.metrics"
local helper = require "spec.helper_pure"
local sim = require "support.sim"
local cli = require "support.cli"

-- A strict reader of the exposition format: every sample's family has one
-- HELP and one TYPE line before its first sample; names and labels are
-- well formed; values are numbers. @return {["name{labels}"] = value}, or raises
local function check_exposition(text)
	assert.equal("\n", text:sub(-1), "the text ends with a line feed")
	local help, type_, samples = {}, {}, {}
	for line in text:gmatch("([^\n]*)\n") do
		local kind, name, rest = line:match("^# (%u+) ([%a_:][%w_:]*) (.+)$")
		if kind == "HELP" then
			assert.is_nil(help[name], "one HELP for " .. name)
			help[name] = rest
		elseif kind == "TYPE" then
			assert.is_nil(type_[name], "one TYPE for " .. name)
			assert.truthy(rest == "gauge" or rest == "counter", line)
			type_[name] = rest
		else
			local n, labels, value = line:match('^([%a_:][%w_:]*)(%b{}) (%S+)$')
			assert.truthy(n, "a sample line: " .. line)
			assert.truthy(help[n] and type_[n], "HELP and TYPE before " .. n)
			-- name="value" pairs separated by commas; in values only \\ \" \n escapes
			local i, inner = 1, labels:sub(2, -2)
			while i <= #inner do
				local name_end = inner:match('^[%a_][%w_]*="()', i)
				assert.truthy(name_end, "a label name at " .. i .. " in " .. line)
				i = name_end
				while inner:sub(i, i) ~= '"' do
					assert.truthy(i <= #inner, "an unterminated label value in " .. line)
					if inner:sub(i, i) == "\\" then
						assert.truthy(inner:sub(i + 1, i + 1):match('[\\"n]'), "an escape in " .. line)
						i = i + 1
					end
					assert.is_nil(inner:sub(i, i):find("\n", 1, true), "a raw line feed in " .. line)
					i = i + 1
				end
				i = i + 1
				if i <= #inner then
					assert.equal(",", inner:sub(i, i), line)
					i = i + 1
				end
			end
			assert.truthy(tonumber(value), "a number: " .. line)
			assert.is_nil(samples[n .. labels], "one sample per label set: " .. line)
			samples[n .. labels] = tonumber(value)
		end
	end
	return samples
end

local RUN = { job = "upload-logs.lua", port = "/dev/ttyUSB2", time = 1700000000, exit = 0, duration = 12.5,
	up = 1000, down = 20, files = 2, retries = 1, rssi = 21, registration = 1 }
local L = '{job="upload-logs.lua",port="/dev/ttyUSB2"}'

local function with(t, extra)
	local out = {}
	for k, v in pairs(t) do out[k] = v end
	for k, v in pairs(extra) do out[k] = v end
	return out
end

describe("modemftp.metrics", function()
	helper.module_hygiene(_ENV, "modemftp.metrics", "lua/modemftp/metrics.lua", function(m)
		m.parse(m.render { job = "j", port = "p", time = 1, exit = 0, duration = 0 })
		m.escape('a"b')
	end)

	it("writes every family with HELP and TYPE, labelled job and port", function()
		local s = check_exposition(metrics.render(RUN))
		assert.same({
			["modemftp_last_run_timestamp_seconds" .. L] = 1700000000,
			["modemftp_last_success_timestamp_seconds" .. L] = 1700000000,
			["modemftp_exit_code" .. L] = 0,
			["modemftp_duration_seconds" .. L] = 12.5,
			['modemftp_bytes_total{job="upload-logs.lua",port="/dev/ttyUSB2",direction="up"}'] = 1000,
			['modemftp_bytes_total{job="upload-logs.lua",port="/dev/ttyUSB2",direction="down"}'] = 20,
			["modemftp_files_total" .. L] = 2,
			["modemftp_retries_total" .. L] = 1,
			["modemftp_recoveries_total" .. L] = 0,
			["modemftp_signal_quality" .. L] = 21,
			["modemftp_registration_status" .. L] = 1,
		}, s)
		local text = metrics.render(RUN)
		assert.truthy(text:find("# TYPE modemftp_bytes_total counter\n", 1, true))
		assert.truthy(text:find("# TYPE modemftp_exit_code gauge\n", 1, true))
	end)

	it("escapes label values (backslash, double quote, line feed)", function()
		assert.equal('a\\\\b\\"c\\nd', metrics.escape('a\\b"c\nd'))
		local text = metrics.render(with(RUN, { job = 'we"ird\\job\n.lua', port = "tcp:{h}:1" }))
		check_exposition(text)
		assert.truthy(text:find('{job="we\\"ird\\\\job\\n.lua",port="tcp:{h}:1"}', 1, true))
		-- and reads them back as the same keys
		local again = metrics.render(with(RUN, { job = 'we"ird\\job\n.lua', port = "tcp:{h}:1", previous = text }))
		assert.truthy(again:find('modemftp_files_total{job="we\\"ird\\\\job\\n.lua",port="tcp:{h}:1"} 4', 1, true))
	end)

	it("leaves out what is unknown: no signal quality, no registration", function()
		local text = metrics.render(with(RUN, { rssi = false, registration = false }))
		local s = check_exposition(text)
		assert.is_nil(text:find("modemftp_signal_quality", 1, true))
		assert.is_nil(text:find("modemftp_registration_status", 1, true))
		assert.equal(0, s["modemftp_exit_code" .. L])
	end)

	it("adds the counters to the previous file's and keeps the last success after a failure", function()
		local first = metrics.render(RUN)
		local failed = metrics.render(with(RUN, { time = 1700000900, exit = 75, up = 5, down = 0, files = 0, retries = 4,
			recoveries = 1, previous = first }))
		local s = check_exposition(failed)
		assert.equal(1700000900, s["modemftp_last_run_timestamp_seconds" .. L])
		assert.equal(1700000000, s["modemftp_last_success_timestamp_seconds" .. L])
		assert.equal(75, s["modemftp_exit_code" .. L])
		assert.equal(1005, s['modemftp_bytes_total{job="upload-logs.lua",port="/dev/ttyUSB2",direction="up"}'])
		assert.equal(2, s["modemftp_files_total" .. L])
		assert.equal(5, s["modemftp_retries_total" .. L])
		assert.equal(1, s["modemftp_recoveries_total" .. L])
		-- no success yet: 0, so that "no success for N hours" fires
		s = check_exposition(metrics.render(with(RUN, { exit = 1 })))
		assert.equal(0, s["modemftp_last_success_timestamp_seconds" .. L])
		-- another job's file (other labels) carries nothing over
		s = check_exposition(metrics.render(with(RUN, { job = "other.lua", previous = first })))
		assert.equal(2, s['modemftp_files_total{job="other.lua",port="/dev/ttyUSB2"}'])
	end)

	it("reads samples with and without labels, skips comments and junk", function()
		assert.same({ a = 1, ['b{x="1"}'] = 2.5, c = 1e9, ['d{x="}\\"{"}'] = 3 },
			metrics.parse('# HELP a x\na 1\nb{x="1"} 2.5\nc 1e9\nd{x="}\\"{"} 3\nnot a sample\n\n'))
		assert.same({}, metrics.parse(nil))
	end)

	it("reads the signal quality and the registration from the modem, never failing", function()
		local function modem(replies)
			return { at = function(_, cmd)
				local r = replies[cmd]
				if type(r) == "function" then return r() end
				if r then return r end
				return nil, "ERROR"
			end }
		end
		assert.same({ rssi = 18, registration = 5 }, metrics.probe(modem {
			["AT+CSQ"] = { "+CSQ: 18,99" }, ["AT+CGREG?"] = { "+CGREG: 2,5,\"1A2B\",\"01C2D3E4\",7" } }))
		assert.same({ registration = 1 }, metrics.probe(modem {
			["AT+CSQ"] = { "+CSQ: 99,99" }, ["AT+CGREG?"] = { "+CGREG: 0,1" } }))
		assert.same({}, metrics.probe(modem {}))
		assert.same({}, metrics.probe(modem { ["AT+CSQ"] = function() error("boom") end }))
	end)

	it("replaces the file atomically: mode 0644 whatever the umask, no temporary left", function()
		local dir = sim.tmpdir()
		local path = dir .. "/job.prom"
		sim.write(path, "old\n")
		local script = string.format([[
			package.path = %q .. "/lua/?.lua;" .. package.path
			local m = require "modemftp.metrics"
			assert(m.write(%q, { job = "j", port = "p", time = 1, exit = 0, duration = 0 }))]], cli.top, path)
		sim.write(dir .. "/w.lua", script)
		local out, ok = sim.sh("umask 077 && lua5.4 " .. sim.q(dir .. "/w.lua") .. " 2>&1")
		assert.is_true(ok, out)
		assert.equal("644", (sim.sh("stat -c %a " .. sim.q(path)):gsub("%s+$", "")))
		assert.equal("job.prom\n", sim.sh("ls -A " .. sim.q(dir) .. " | grep -v w.lua"))
		check_exposition(sim.read(path))
		local w, err = metrics.write_file(dir .. "/no/such/dir/x.prom", "x\n", "0644")
		assert.is_nil(w)
		assert.truthy(err:find("No such file", 1, true))
		os.execute("rm -rf " .. sim.q(dir))
	end)
end)

describe("modemftp run --metrics", function()
	local dir, env, port, prom

	local function run(argv)
		return cli.run(table.move(argv, 1, #argv, 4, { "run", "--lock-dir", dir }), { env = env, timeout = 40 })
	end

	local function job(name, text)
		local path = dir .. "/" .. name
		sim.write(path, text)
		return path
	end

	local function samples()
		return check_exposition(assert(sim.read(prom), "no metrics file"))
	end

	before_each(function()
		dir = sim.tmpdir()
		env = { HOME = dir, XDG_CONFIG_HOME = dir }
		prom = dir .. "/job.prom"
		-- the probe: AT+CSQ then AT+CGREG? once the modem is open
		local probe = "> AT+CSQ\\r\n< AT+CSQ\\r\\r\\n+CSQ: 17,99\\r\\n\\r\\nOK\\r\\n\n"
			.. "> AT+CGREG?\\r\n< AT+CGREG?\\r\\r\\n+CGREG: 0,5\\r\\n\\r\\nOK\\r\\n\n"
		cli.transcript(dir .. "/probe.tx", probe)
		port = "replay:" .. dir .. "/probe.tx"
	end)
	after_each(function() os.execute("rm -rf " .. sim.q(dir)) end)

	it("writes the outcome of each run; a failure keeps the last success, counters add up", function()
		local ok = job("ok.lua", "local m, a, job = ... ; job.stats.files = 3 ; job.stats.retries = 1 ; return true")
		local bad = job("ok.lua.fail", "local m, a, job = ... ; job.stats.retries = 2 ;"
			.. " return nil, require('modemftp.errors').new { name = 'timeout', op = 'size' }")
		local r = run({ "--metrics", prom, "-p", port, ok })
		assert.equal(0, r.code, r.stderr)
		local s = samples()
		local l = '{job="ok.lua",port="' .. port .. '"}'
		local success = s["modemftp_last_success_timestamp_seconds" .. l]
		assert.equal(s["modemftp_last_run_timestamp_seconds" .. l], success)
		assert.truthy(math.abs(os.time() - success) < 60)
		assert.same({ 0, 17, 5, 3, 1 }, { s["modemftp_exit_code" .. l], s["modemftp_signal_quality" .. l],
			s["modemftp_registration_status" .. l], s["modemftp_files_total" .. l], s["modemftp_retries_total" .. l] })
		assert.truthy(s["modemftp_duration_seconds" .. l] >= 0)
		-- the same job fails (same basename: the file is the job's)
		os.rename(bad, dir .. "/sub.lua")
		os.execute("mkdir -p " .. sim.q(dir .. "/b") .. " && mv " .. sim.q(dir .. "/sub.lua") .. " " .. sim.q(dir .. "/b/ok.lua"))
		r = run({ "-o", "metrics=" .. prom, "-p", port, dir .. "/b/ok.lua" })
		assert.equal(75, r.code)
		s = samples()
		assert.equal(75, s["modemftp_exit_code" .. l])
		assert.equal(success, s["modemftp_last_success_timestamp_seconds" .. l])
		assert.same({ 3, 3, 0 }, { s["modemftp_files_total" .. l], s["modemftp_retries_total" .. l],
			s["modemftp_recoveries_total" .. l] })
	end)

	it("says no signal quality it does not know, and still writes when no modem opened or the run was refused", function()
		cli.transcript(dir .. "/unknown.tx", "> AT+CSQ\\r\n< AT+CSQ\\r\\r\\n+CSQ: 99,99\\r\\n\\r\\nOK\\r\\n\n"
			.. "> AT+CGREG?\\r\n< AT+CGREG?\\r\\r\\nERROR\\r\\n\n")
		local ok = job("ok.lua", "return true")
		local r = run({ "--metrics", prom, "-p", "replay:" .. dir .. "/unknown.tx", ok })
		assert.equal(0, r.code, r.stderr)
		local text = sim.read(prom)
		assert.is_nil(text:find("modemftp_signal_quality", 1, true))
		assert.is_nil(text:find("modemftp_registration_status", 1, true))
		-- the port cannot be opened: 75, and no probe values
		r = run({ "--metrics", prom, "-p", "tty:/dev/nonexistent-modem", ok })
		assert.equal(75, r.code)
		local s = samples()
		assert.equal(75, s['modemftp_exit_code{job="ok.lua",port="tty:/dev/nonexistent-modem"}'])
		assert.is_nil(sim.read(prom):find("modemftp_signal_quality", 1, true))
		-- no port configured: 64, still said (port "")
		r = run({ "--metrics", prom, ok })
		assert.equal(64, r.code)
		assert.equal(64, samples()['modemftp_exit_code{job="ok.lua",port=""}'])
	end)

	it("sends nothing more to the modem without --metrics", function()
		cli.transcript(dir .. "/plain.tx", "")
		local ok = job("ok.lua", "local m = ... ; assert(m:replay_finished()) ; return true")
		local r = run({ "-p", "replay:" .. dir .. "/plain.tx", ok })
		assert.equal(0, r.code, r.stderr)
		assert.is_nil(sim.read(prom))
	end)

	it("warns when the file cannot be written, and keeps the job's exit status", function()
		local ok = job("ok.lua", "return true")
		local r = run({ "--metrics", dir .. "/missing/job.prom", "-p", port, ok })
		assert.equal(0, r.code)
		assert.truthy(r.stderr:find("warn: --metrics " .. dir .. "/missing/job.prom: ", 1, true), r.stderr)
	end)
end)

describe("modemftp run --metrics with ec20sim", function()
	local h

	setup(function() h = sim.start { guard_ms = 100 } end)
	teardown(function() sim.stop(h) end)

	it("counts the bytes put and got, the files, and reads the simulator's CSQ and CGREG", function()
		local conf = h.dir .. "/modemftp.conf"
		sim.write(conf, cli.sim_conf(h))
		sim.make_file(h.dir .. "/up.bin", 30000, 4)
		local job = h.dir .. "/updown.lua"
		sim.write(job, [[
			local m, args, job = ...
			local f = job:flow()
			assert(f:publish(args[1], "up.bin"))
			assert(f:fetch("up.bin", args[1] .. ".back"))
			return true
		]])
		local prom = h.dir .. "/updown.prom"
		local r = cli.run({ "run", "--lock-dir", h.dir, "-c", conf, "--metrics", prom, job, h.dir .. "/up.bin" },
			{ env = { HOME = h.dir, XDG_CONFIG_HOME = h.dir }, timeout = 60 })
		assert.equal(0, r.code, r.stderr)
		local s = check_exposition(sim.read(prom))
		local l = '{job="updown.lua",port="' .. h.port .. '"'
		assert.equal(30000, s["modemftp_bytes_total" .. l .. ',direction="up"}'])
		assert.equal(30000, s["modemftp_bytes_total" .. l .. ',direction="down"}'])
		assert.equal(2, s["modemftp_files_total" .. l .. "}"])
		assert.equal(24, s["modemftp_signal_quality" .. l .. "}"])
		assert.is_number(s["modemftp_registration_status" .. l .. "}"])
	end)
end)
