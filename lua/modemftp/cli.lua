--- modemftp.cli: the `modemftp` command: picks the verb and runs it.
--
-- `scripts/modemftp` calls `cli.main(arg)` and exits with what it returns.
-- Each verb is its own module:
--
--   run      modemftp.runner    a job script with the modem opened (cron, systemd)
--   console  modemftp.console   the interactive Lua console
--   ports    modemftp.ports     the serial ports, Quectel modules flagged
--   put get ls rm mkdir mdtm size at
--            modemftp.oneshot   one FTP operation or AT command from the shell
--   status   modemftp.status    SIM, network, signal, PDP, firmware, FTP state
--
-- and so is each piece they share: modemftp.options (the command line),
-- modemftp.config (files, environment, -o), modemftp.log, modemftp.json,
-- modemftp.help, modemftp.lock and modemftp.exitstatus.
--
-- What every verb has in common is done here: its options are parsed
-- (`options.parse`), --help prints its text, and a verb that takes no
-- operands (ports) is spared a bad command line: "modemftp VERB:
-- message" on stderr, exit 64. `run` reports its own usage errors (its
-- --json line says them too). An error a verb raises is an internal
-- error: its traceback, exit 70 (and run's --json line).
local modemftp = require "modemftp"
local errors = require "modemftp.errors"
local options = require "modemftp.options"
local help = require "modemftp.help"
local exitstatus = require "modemftp.exitstatus"
local runner = require "modemftp.runner"
local console = require "modemftp.console"
local ports = require "modemftp.ports"
local oneshot = require "modemftp.oneshot"
local status = require "modemftp.status"

local EXIT = exitstatus.EXIT

local M = {}

--- The verbs: name -> {fn = function(opts, operands, argv) -> exit status,
-- operands = true when the verb takes operands (they end its options)}.
-- For a verb with operands, opts is nil and operands the usage error when
-- the command line is bad.
M.verbs = {
	run = { fn = runner.run, operands = true },
	console = { fn = console.main, operands = true }, -- [SCRIPT [ARGS...]]
	ports = { fn = ports.main },
	-- one-shots: options may follow the operands (modemftp put a.log --port X)
	put = { fn = oneshot.verb("put"), operands = true, anywhere = true },
	get = { fn = oneshot.verb("get"), operands = true, anywhere = true },
	ls = { fn = oneshot.verb("ls"), operands = true, anywhere = true },
	rm = { fn = oneshot.verb("rm"), operands = true, anywhere = true },
	mkdir = { fn = oneshot.verb("mkdir"), operands = true, anywhere = true },
	mdtm = { fn = oneshot.verb("mdtm"), operands = true, anywhere = true },
	size = { fn = oneshot.verb("size"), operands = true, anywhere = true },
	at = { fn = oneshot.verb("at"), operands = true, anywhere = true },
	status = { fn = function(...) return oneshot.execute("status", status.VERB, ...) end, operands = true, anywhere = true },
}

-- Parse the verb's options, then run it. @return the exit status
local function dispatch(name, verb, argv)
	local opts, operands = options.parse(name, argv, verb.operands and not verb.anywhere)
	if opts and opts.help then io.stdout:write(help.text(name)); return EXIT.ok end
	if not verb.operands then
		local err = not opts and operands
			or operands[1] and errors.new { name = "usage", message = "unexpected argument " .. operands[1] }
		if err then
			io.stderr:write("modemftp ", name, ": ", err.message, "\n")
			return EXIT.usage
		end
	end
	return verb.fn(opts, operands, argv)
end

--- The command: help and version, else the verb.
-- @param argv the script's `arg` table (argv[1] is the verb)
-- @return the exit status
function M.main(argv)
	argv = argv or {}
	local verb = argv[1]
	local rest = table.move(argv, 2, math.max(#argv, 1), 1, {})
	if verb == nil then io.stderr:write(help.text()); return EXIT.usage end
	if verb == "-h" or verb == "--help" or (verb == "help" and rest[1] == nil) then
		io.stdout:write(help.text())
		return EXIT.ok
	end
	if verb == "--version" or verb == "-V" then io.stdout:write(modemftp._VERSION, "\n"); return EXIT.ok end
	if verb == "help" then
		local text = help.text(rest[1])
		if not text then io.stderr:write("modemftp: no verb '", rest[1], "'\n"); return EXIT.usage end
		io.stdout:write(text)
		return EXIT.ok
	end
	local v = M.verbs[verb]
	if not v then
		io.stderr:write("modemftp: unknown verb '", tostring(verb), "' (run, console, ports, put, get, ls, rm, mkdir, mdtm, size, at, status; see modemftp --help)\n")
		return EXIT.usage
	end
	local ok, code = xpcall(dispatch, debug.traceback, verb, v, rest)
	if not ok then
		io.stderr:write("modemftp: internal error: ", tostring(code), "\n")
		if verb == "run" then runner.internal_error(rest, code) end
		return EXIT.software
	end
	return code
end

return M
