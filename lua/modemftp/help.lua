--- modemftp.help: the texts of `modemftp --help`, `modemftp help VERB`
-- and `modemftp VERB --help`.
--
-- A verb's text lists its options from `options.OPTIONS`, so an option
-- is documented where it is defined. scripts/modemftp.md and modemftp(1)
-- say the same at more length.
local options = require "modemftp.options"

local M = {}

local function option_lines(list)
	local out = {}
	for _, o in ipairs(list) do
		local head = (o[2] and ("-" .. o[2] .. ", ") or "    ") .. "--" .. o[1] .. (o[3] and (" " .. o[3]) or "")
		out[#out + 1] = string.format("  %-28s %s", head, o[4])
	end
	return table.concat(out, "\n")
end

--- The texts: `main` (the command's), and one per verb with a %s where its
-- options go.
M.TEXT = {}

M.TEXT.main = [[
usage: modemftp VERB [OPTIONS] [ARGS]

FTP jobs through a Quectel EC20 modem's AT+QFTP* commands.

verbs:
  run JOB.lua [ARGS...]   run a job script (cron and systemd ready)
  console                 interactive Lua console with the modem opened as m
  ports                   list serial ports (USB VID:PID, Quectel flagged)
  help [VERB]             this text, or a verb's

  modemftp VERB --help    a verb's options;  modemftp --version

The modem port comes from --port, else MODEMFTP_PORT, else `port =` in the
configuration (/etc/modemftp.conf, /etc/modemftp/modemftp.conf, then
~/.config/modemftp.conf; later wins).
See modemftp(1).
]]

M.TEXT.run = [[
usage: modemftp run [OPTIONS] JOB.lua [ARGS...]

Run a job script with the modem opened, holding the port's lock.
The job is called as  local m, args, job = ...  (m: the modem; args: the
arguments after JOB.lua, args[0] = JOB.lua; job: conf, log, stats, deadline,
job:ftp(), job:flow()). It returns true (or nothing) on success, or
nil, err on failure.

options:
%s

ports: /dev/ttyUSB2 (libserialport, else termios), serial:/dev/ttyUSB2,
tty:/dev/pts/3 (termios: ttys and ptys), tcp:HOST:PORT (ser2net raw),
replay:FILE (a recorded transcript, for tests). One lock file per device
(modemftp.NAME.lock in the lock directory) keeps two runs off one modem.

configuration (later wins): /etc/modemftp.conf, /etc/modemftp/modemftp.conf
(make install's), ~/.config/modemftp.conf ($XDG_CONFIG_HOME/modemftp.conf)
or the --config files (or MODEMFTP_CONFIG, ':'-separated); then
MODEMFTP_PORT; then --port/--baud/--set ... Lines are
`key = value`; keys: port baud rtscts guard at_timeout lock_timeout lock_dir
timeout host ftp_port user password context filetype passive rsptimeout ssl
(yes, no, implicit, explicit) sslctxid data_address restenable cache pdp apn
apn_user apn_password apn_auth attempts max_temp_failures state_dir metrics
module_resume (ato, restart, auto) module_drives (UFS,SD) module_hostname_max
module_path_max, and any other key the job reads from job.conf.

exit status:
    0  success
    1  the job failed (a permanent error: 530, 550, bad argument, ...)
   64  usage: bad option or configuration, no port configured
   66  the job file cannot be read or compiled, or a local file to send
       does not exist
   69  --max-temp-failures N: the Nth temporary failure (75 or 73) in a row
       of this job on this port (logged: "N consecutive temporary failures
       since TIME"); a success starts the count again
   70  internal error in modemftp
   73  the port is locked by another modemftp (after --lock-timeout)
   74  local I/O error: a local file cannot be read or written (disk full,
       read-only file system, missing directory, a directory as source)
   75  temporary failure (network, timeout, connection closed, pdpdeact,
       module reboot, port unavailable): a later run may succeed
  124  --timeout expired
  130  interrupted by SIGINT;  143  interrupted by SIGTERM

Signals: SIGINT/SIGTERM abort a transfer cleanly (the module leaves data
mode), the FTP session is closed, unfinished atomic uploads are deleted.

--metrics FILE writes the run's outcome in Prometheus' text format for
node_exporter's textfile collector (FILE ending in .prom, replaced
atomically, mode 0644): modemftp_last_run_timestamp_seconds,
modemftp_last_success_timestamp_seconds, modemftp_exit_code,
modemftp_duration_seconds, modemftp_bytes_total{direction}, modemftp_files_total,
modemftp_retries_total, modemftp_recoveries_total, modemftp_signal_quality,
modemftp_registration_status, labelled job and port; one file per job.
]]

M.TEXT.console = [[
usage: modemftp console [OPTIONS]

Interactive Lua 5.4 console: the modem opened as m; s = ftp() logs in with
the configuration; at "AT+CSQ" sends a raw command; results are pretty-
printed; Tab completes names and methods (m:<Tab>); history is kept in
~/.modemftp_history (MODEMFTP_HISTORY). put/get show a progress bar on a
terminal. Ctrl-C aborts the transfer (or line) in progress and returns to
the prompt; Ctrl-D or quit() leaves.

options:
%s

ports: /dev/ttyUSB2 (libserialport, else termios), serial:/dev/ttyUSB2,
tty:/dev/pts/3 (termios: ttys and ptys), tcp:HOST:PORT (ser2net raw),
replay:FILE (a recorded transcript, for tests). One lock file per device
(modemftp.NAME.lock in the lock directory) keeps two runs off one modem.
]]

M.TEXT.ports = [[
usage: modemftp ports [--json]

List the serial ports (libserialport): name, USB VID:PID, manufacturer,
product, serial number and description. Quectel modules (VID 2c7c) are
flagged: their AT port is usually the third interface (ttyUSB2).

options:
%s
]]

--- The help text of a verb, or of the command.
-- @param verb "run", "console", "ports", or nil (or "main") for the command
-- @return the text, or nil for an unknown verb
function M.text(verb)
	if verb == nil or verb == "main" then return M.TEXT.main end
	local text = M.TEXT[verb]
	if not text then return nil end
	return string.format(text, option_lines(options.OPTIONS[verb]))
end

return M
