-- Error messages that say what to do (`errors.advice`): a refused login
-- names the user and where the password came from, a refused connection and
-- a missing PDP context are told apart, a tty the user may not open names
-- the dialout group, a SIM that wants its PIN names `pin`, a PDP failure
-- shows its command and APN, a local file is named once, and a wrong call of
-- the API in a job is one line with the job's file and line.
local errors = require "modemftp.errors"
local replay = require "support.replay"
local sim = require "support.sim"
local cli = require "support.cli"

local decode = cli.json_line

local function count(hay, needle)
	local n, i = 0, 1
	while true do
		local a, b = hay:find(needle, i, true)
		if not a then return n end
		n, i = n + 1, b + 1
	end
end

describe("errors.advice", function()
	it("names the refused user and the password's source, never a password", function()
		local e = errors.from_result("open", 625, 530, { target = "ftp.example.com" })
		e.user, e.host, e.port, e.password_source = "gw17", "ftp.example.com", 21, "/etc/modemftp/modemftp.conf"
		assert.equal("open ftp.example.com: 625 not logged in (FTP 530 Not logged in); the server refused user 'gw17' "
			.. "with the password from /etc/modemftp/modemftp.conf: check `user` and `password` there", tostring(e))
		e.password_source = nil
		assert.matches("refused user 'gw17': check the user name and the password$", tostring(e))
	end)

	it("tells a refused connection from a missing PDP context, with host and port", function()
		local e = errors.from_result("open", 605, 0, { target = "10.0.0.5" })
		e.host, e.port = "10.0.0.5", 2121
		local refused = tostring(e)
		assert.matches("could not connect to 10%.0%.0%.5:2121 %(refused or unreachable", refused)
		e.pdp_active, e.context = false, 2
		local nopdp = tostring(e)
		assert.matches("no PDP context: context 2 is not active, so the module could not reach 10%.0%.0%.5:2121", nopdp)
		assert.not_equal(refused, nopdp)
		-- the real EC25's refused port 21 (capture 02: +QFTPOPEN: 606,0)
		local e606 = errors.from_result("open", 606, 0, { target = "h" })
		e606.host, e606.port = "h", 21
		assert.matches("could not connect to h:21", tostring(e606))
	end)

	it("says nothing it does not know: no context, no advice", function()
		assert.equal("open: 604 DNS parse fails", tostring(errors.from_result("open", 604, 0)))
		assert.is_nil(errors.advice(errors.new { op = "size", name = "timeout" }))
		local mine = errors.new { op = "open", name = "io", advice = "do this" }
		assert.equal("open: I/O error; do this", tostring(mine))
	end)

	it("points at the dialout group for a tty the user may not open", function()
		local e = errors.from_core("open", { kind = "io", errno = 13,
			message = "/dev/ttyUSB2: Permission denied (libserialport: /dev/ttyUSB2: open: Permission denied)" },
			{ target = "/dev/ttyUSB2" })
		local text = tostring(e)
		assert.matches("^open /dev/ttyUSB2: Permission denied", text) -- the port named once at the head
		assert.matches("may not open /dev/ttyUSB2: serial ports belong to the dialout group", text)
		assert.matches("usermod %-aG dialout", text)
		-- the message alone is enough (a core that gives no errno)
		local plain = errors.new { op = "open", target = "/dev/ttyUSB2", name = "io", message = "Permission denied" }
		assert.matches("dialout", tostring(plain))
	end)

	it("asks for `pin` when the SIM wants its PIN, and never for a PUK", function()
		local e = errors.new { op = "pdp", name = "cme_error", message = "SIM not ready: +CPIN: SIM PIN" }
		assert.matches("the SIM asks for its PIN: set `pin =` in the configuration$", tostring(e))
		local cme = errors.from_core("pdp", { kind = "modem", final = "+CME ERROR: 11" })
		assert.matches("set `pin =`", tostring(cme))
		local puk = errors.new { op = "pdp", name = "cme_error", message = "SIM not ready: +CPIN: SIM PUK" }
		assert.matches("wants its PUK", tostring(puk))
		assert.is_nil(tostring(puk):find("set `pin", 1, true))
	end)

	it("names a local file once, however the message came", function()
		local e = errors.local_io("upload", "/var/log/app.log.1", "/var/log/app.log.1: No such file or directory", 2, true)
		assert.equal("upload /var/log/app.log.1: No such file or directory", tostring(e))
		local raw = errors.new { op = "put", target = "/x/y", name = "local_missing", message = "/x/y: No such file or directory" }
		assert.equal(1, count(tostring(raw), "/x/y"))
	end)
end)

describe("errors made by the modem layer carry their context", function()
	it("a PDP failure shows the command and the APN, and what to check", function()
		local T = replay.script()
			:cmd("AT+CPIN?"):line("+CPIN: READY"):ok()
			:cmd("AT+CGATT?"):line("+CGATT: 1"):ok()
			:cmd("AT+CGREG?"):line("+CGREG: 0,1"):ok()
			:cmd('AT+QICSGP=1,1,"internet.example","","",0'):ok()
			:cmd("AT+QIACT?"):ok()
			:cmd("AT+QIACT=1"):error()
			-- not active after all, and the network holds no context of its own
			:cmd("AT+QIACT?"):ok()
			:cmd("AT+CGACT?"):line("+CGACT: 1,0"):ok()
		local m = assert(T:open())
		local ok, err = m:pdp { apn = "internet.example" }
		assert.is_nil(ok)
		assert.equal("internet.example", err.apn)
		assert.equal('pdp: AT+QIACT=1 (APN "internet.example"): modem answered ERROR; check the APN with the operator '
			.. "(`apn`; `apn_user`, `apn_password`, `apn_auth` if it wants a login)", tostring(err))
		T:finish(m)
	end)

	it("a SIM that wants its PIN says to set `pin`", function()
		local T = replay.script():cmd("AT+CPIN?"):line("+CPIN: SIM PIN"):ok()
		local m = assert(T:open())
		local ok, err = m:pdp { apn = "x" }
		assert.is_nil(ok)
		assert.matches("SIM PIN; the SIM asks for its PIN: set `pin =` in the configuration", tostring(err))
		T:finish(m)
	end)

	-- replay.login with the QFTPOPEN result given, and what follows it
	local function login_failing(result, after)
		local T = replay.login(replay.script(), nil, result)
		if after then after(T) end
		return T
	end

	it("a refused login names the user and the password's source m:ftp was given", function()
		local T = login_failing("+QFTPOPEN: 625,530")
		local m = assert(T:open())
		local s, err = m:ftp { host = replay.HOST, user = "test", password = "test", password_source = "/etc/x.conf" }
		assert.is_nil(s)
		assert.matches("refused user 'test' with the password from /etc/x%.conf", tostring(err))
		assert.is_nil(tostring(err):find("test\"", 1, true))
		T:finish(m)
	end)

	it("a 605 asks AT+QIACT? whether the context was up, and says which it was", function()
		local T = login_failing("+QFTPOPEN: 605,0", function(t) t:cmd("AT+QIACT?"):ok() end)
		local m = assert(T:open())
		local _, err = m:ftp { host = replay.HOST, user = "test", password = "test" }
		assert.is_false(err.pdp_active)
		assert.matches("no PDP context: context 1 is not active, so the module could not reach " .. replay.HOST:gsub("%.", "%%.")
			.. ":21", tostring(err))
		T:finish(m)
		T = login_failing("+QFTPOPEN: 606,0", function(t) t:cmd("AT+QIACT?"):line('+QIACT: 1,1,1,"10.7.157.1"'):ok() end)
		m = assert(T:open())
		_, err = m:ftp { host = replay.HOST, user = "test", password = "test" }
		assert.is_true(err.pdp_active)
		assert.matches("could not connect to " .. replay.HOST:gsub("%.", "%%.") .. ":21 %(refused", tostring(err))
		T:finish(m)
	end)
end)

describe("modemftp run says what to do (ec20sim)", function()
	local h, env

	local run, job
	setup(function()
		h = sim.start { guard_ms = 100 }
		local bench = cli.run_bench(h)
		run, job, env = bench.run, bench.job, bench.env
	end)
	teardown(function() sim.stop(h) end)

	local LOGIN = "local m, a, job = ... local s, err = job:ftp() if not s then return nil, err end return true"

	it("530: the user and the file the password came from, or the option; never the password", function()
		local wrong = h.dir .. "/wrong.conf"
		sim.write(wrong, cli.sim_conf(h):gsub("password = [^\n]*", "password = not-the-one"))
		local r = cli.run({ "run", "--lock-dir", h.dir, "-c", wrong, "--json", job("login.lua", LOGIN) }, { env = env })
		assert.equal(1, r.code, r.stderr)
		local line = decode(r.stdout)
		assert.equal("not_logged_in", line.error_name)
		assert.truthy(line.error:find("refused user 'mftp' with the password from " .. wrong, 1, true), line.error)
		assert.is_nil((r.stdout .. r.stderr):find("not-the-one", 1, true))
		r = run({ "-o", "password=wrong-again", "--json", h.dir .. "/login.lua" })
		line = decode(r.stdout)
		assert.truthy(line.error:find("with the password from the command line (-o password=...)", 1, true), line.error)
		assert.is_nil((r.stdout .. r.stderr):find("wrong-again", 1, true))
	end)

	it("a refused connection and a missing PDP context are told apart", function()
		-- a port nothing listens on: find one free now
		local sock = io.popen("/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\", 0)); "
			.. "print(s.getsockname()[1])'")
		local free = tonumber(sock:read("a"))
		sock:close()
		local r = run({ "-o", "ftp_port=" .. free, "--json", job("login2.lua", LOGIN) })
		local refused = decode(r.stdout).error
		assert.truthy(refused:find("could not connect to 127.0.0.1:" .. free, 1, true), refused)
		r = run({ "-o", "pdp=no", "--json", job("nopdp.lua", [[
			local m, a, job = ...
			assert(m:at("AT+QIDEACT=1"))
			local s, err = job:ftp()
			if not s then return nil, err end
			return true
		]]) })
		local nopdp = decode(r.stdout).error
		assert.truthy(nopdp:find("no PDP context: context 1 is not active, so the module could not reach 127.0.0.1:"
			.. h.ftp_port, 1, true), nopdp)
		assert.is_nil(nopdp:find("could not connect", 1, true))
	end)

	it("a wrong API call in a job: one line with the job's file and line, no traceback", function()
		local path = job("misuse.lua", "local m, args, job = ...\nlocal s = assert(job:ftp())\ns:put('x.txt', 42)\nreturn true\n")
		local r = run({ "--json", path })
		assert.equal(1, r.code)
		local line = decode(r.stdout)
		assert.equal("lua_error", line.error_name)
		assert.equal(path .. ":3: bad argument #2 to 'put' (path, file, function or {string = s} expected, got number)",
			line.error)
		assert.is_nil(r.stderr:find("traceback", 1, true), r.stderr)
		assert.is_nil(r.stderr:find("session.lua", 1, true), r.stderr)
		-- -v keeps the traceback for whoever debugs it
		r = run({ "-v", path })
		assert.truthy(r.stderr:find("stack traceback", 1, true))
	end)

	it("a missing file to send is named once", function()
		local missing = h.dir .. "/no-such-dir/app.log.1"
		local r = run({ "--json", job("missing.lua", [[
			local m, args, job = ...
			local n, err = job:flow():publish(args[1], "app.log.1")
			if not n then return nil, err end
			return true
		]]), missing })
		assert.equal(66, r.code)
		local line = decode(r.stdout)
		assert.equal("local_missing", line.error_name)
		assert.equal(1, count(line.error, missing), line.error)
		local err_line = r.stderr:match("error: ([^\n]*)")
		assert.equal(1, count(err_line, missing), err_line)
	end)

	it("a tty the user may not open names the dialout group", function()
		if not os.execute("command -v setpriv >/dev/null 2>&1") or not os.execute("test $(id -u) -eq 0") then
			pending("needs root and setpriv to run as another user")
			return
		end
		local pty = h.port:gsub("^tty:", "")
		local before = sim.sh("stat -c %a " .. sim.q(pty)):gsub("%s+", "")
		os.execute("chmod 600 " .. sim.q(pty))
		local dir = sim.tmpdir()
		os.execute("chmod 755 " .. sim.q(dir))
		sim.write(dir .. "/ok.lua", "return true")
		os.execute("chmod 644 " .. sim.q(dir .. "/ok.lua"))
		local out = sim.sh(string.format("cd %s && env -u LD_PRELOAD setpriv --reuid=nobody --regid=nogroup --clear-groups "
			.. "env HOME=/nonexistent USER=nobody scripts/modemftp run --no-lock -c /dev/null --port %s %s 2>&1",
			sim.q(cli.top), sim.q(h.port), sim.q(dir .. "/ok.lua")))
		os.execute("chmod " .. before .. " " .. sim.q(pty))
		os.execute("rm -rf " .. sim.q(dir))
		assert.truthy(out:find("nobody may not open " .. pty .. ": serial ports belong to the dialout group", 1, true), out)
		assert.truthy(out:find("usermod -aG dialout nobody", 1, true), out)
	end)
end)
