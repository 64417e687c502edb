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
  ports                   list serial ports (USB VID:PID, interface, by-id, AT port)
  put LOCAL [REMOTE]      upload one file      get REMOTE [LOCAL]   download one
  ls [PATH]  rm PATH  mkdir PATH  mdtm PATH  size PATH   one FTP command
  at COMMAND              one raw AT command: its answer's lines
  status                  SIM, registration, operator, signal, PDP, firmware, FTP
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
replay:FILE (a recorded transcript, for tests), usb:VID:PID:IF[:SERIAL]
(e.g. usb:2c7c:0125:2) or /dev/serial/by-id/...: the modem by what it is,
found again after it re-enumerates (modemftp ports). One lock file per device
(modemftp.NAME.lock in the lock directory) keeps two runs off one modem.

configuration (later wins): /etc/modemftp.conf, /etc/modemftp/modemftp.conf
(make install's), ~/.config/modemftp.conf ($XDG_CONFIG_HOME/modemftp.conf)
or the --config files (or MODEMFTP_CONFIG, ':'-separated); then
MODEMFTP_PORT, MODEMFTP_PASSWORD, MODEMFTP_APN_PASSWORD, MODEMFTP_PIN; then
--port/--baud/--set ... Lines are `key = value`; keys: port baud rtscts dtr
guard at_timeout init boot_wait lock_timeout lock_dir timeout host ftp_port
user password password_file context filetype passive rsptimeout ssl sslctxid
pdp apn apn_user apn_password apn_password_file apn_auth pin pin_file
attempts strict max_temp_failures state_dir metrics. Values are checked
(baud a line speed, context 1-16, rsptimeout 20-180, guard 0-5 s, ...). An
unknown key warns, naming the nearest known one (an error with --strict);
job_* keys are the job's own (job.conf). *_file keys name a file whose first
line is the secret; -o password=... warns (ps shows it). apn_auth defaults to
3 (PAP or CHAP) when apn_user is set. pin is entered when the SIM asks, only
while it has all 3 attempts.

exit status:
    0  success
    1  the job failed (a permanent error: 530, 550, bad argument, ...)
   64  usage: bad option or value, an option after JOB.lua, a missing -c
       file or --lock-dir/--record/--log directory, a bad port spec on the
       command line, no port configured
   66  the job file cannot be read or compiled, or a local file to send
       does not exist
   69  the port answers nothing like an AT modem (silent, NMEA, DM: a wrong
       port); or --max-temp-failures N: the Nth temporary failure (75 or 73)
       in a row of this job on this port (logged: "N consecutive temporary
       failures since TIME"); a success starts the count again
   70  internal error in modemftp
   73  the port's lock or the device is held by another process (after
       --lock-timeout; the message names it)
   74  local I/O error: a local file cannot be read or written (disk full,
       read-only file system, missing directory, a directory as source)
   75  temporary failure (network, timeout, connection closed, pdpdeact,
       module reboot, device missing): a later run may succeed
   77  permission: the device (dialout group), the lock file or a
       configuration file may not be opened by this user
   78  configuration: a file or the environment holds an impossible value
       (baud = -5, port = tcp::21, unknown key with strict), no host to
       log in to, or the SIM wants a PIN that is missing or wrong
  124  --timeout expired
  130  interrupted by SIGINT;  143  interrupted by SIGTERM
--json prints its line on every exit.

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

M.TEXT.console = [=[
usage: modemftp console [OPTIONS] [SCRIPT [ARGS...]]

Interactive Lua 5.4 console: the modem opened as m; s = ftp() logs in with
the configuration; at "AT+CSQ" sends a raw command; results are pretty-
printed; Tab completes public names and methods (m:<Tab>); history is kept
in ~/.modemftp_history (MODEMFTP_HISTORY). URCs are printed as they come,
at the prompt too. put/get show a progress bar that fits the terminal.
Ctrl-C aborts the transfer (or line) in progress and returns to the prompt
(a transfer the module still holds: logged out and in again, said so);
Ctrl-D or quit() leaves.
With -e CODE and/or a SCRIPT (its ARGS in arg and ...) it runs them with
the same helpers and exits; lines piped in run one by one. The first
failure (a Lua error, or nil, err as the results) ends it with its exit
status; a SCRIPT that cannot be read or compiled exits 66.

options:
%s

ports: /dev/ttyUSB2 (libserialport, else termios), serial:/dev/ttyUSB2,
tty:/dev/pts/3 (termios: ttys and ptys), tcp:HOST:PORT (ser2net raw),
replay:FILE (a recorded transcript, for tests), usb:VID:PID:IF[:SERIAL]
(e.g. usb:2c7c:0125:2) or /dev/serial/by-id/...: the modem by what it is,
found again after it re-enumerates (modemftp ports). One lock file per device
(modemftp.NAME.lock in the lock directory) keeps two runs off one modem.
]=]

M.TEXT.ports = [[
usage: modemftp ports [--json]

List the serial ports (libserialport): name, USB VID:PID, interface number,
what a Quectel module's interface is for (DM, NMEA, AT, modem; the AT port
marked *), manufacturer, product, serial number and /dev/serial/by-id link,
with the port spec that names the AT port whatever its ttyUSB number
(usb:VID:PID:IF). Read from sysfs (MODEMFTP_SYSFS, MODEMFTP_DEVROOT: other
roots).

options:
%s
]]

local ONESHOT_COMMON = [[

The configuration, the port's lock (waiting up to --lock-timeout, 60 s),
--timeout, the exit statuses and --json are those of `modemftp run`: a
missing local file exits 66, a server's 550 exits 1, a network failure 75;
--json prints one line: verb result exit duration error error_name and the
result's fields.

options:
%s

ports: as for modemftp run, and usb:VID:PID:IF[:SERIAL] (e.g. usb:2c7c:0125:2)
or /dev/serial/by-id/...: the modem by what it is (modemftp ports).
]]

M.TEXT.put = [[
usage: modemftp put [OPTIONS] LOCAL [REMOTE]

Upload LOCAL as REMOTE (default: LOCAL's name; a REMOTE ending in / is a
folder): under a temporary name, then renamed into place; retried and
resumed on temporary failures (`attempts`). Prints "LOCAL -> REMOTE: N bytes".
]] .. ONESHOT_COMMON

M.TEXT.get = [[
usage: modemftp get [OPTIONS] REMOTE [LOCAL]

Download REMOTE into LOCAL (default: REMOTE's name in the current folder; a
folder: REMOTE's name in it; "-": standard output, not retried): into
LOCAL.part, then renamed into place; retried and resumed (`attempts`).
]] .. ONESHOT_COMMON

M.TEXT.ls = [[
usage: modemftp ls [OPTIONS] [PATH]

The server's listing of PATH (AT+QFTPLIST; default: the login folder), as
the server sent it; --json: the parsed entries.
]] .. ONESHOT_COMMON

M.TEXT.rm = [[
usage: modemftp rm [OPTIONS] PATH

Delete the remote file PATH (AT+QFTPDEL).
]] .. ONESHOT_COMMON

M.TEXT.mkdir = [[
usage: modemftp mkdir [OPTIONS] PATH

Make the remote folder PATH (AT+QFTPMKDIR).
]] .. ONESHOT_COMMON

M.TEXT.mdtm = [[
usage: modemftp mdtm [OPTIONS] PATH

The modification time of the remote file PATH (AT+QFTPMDTM), in UTC:
2024-05-01T10:15:02Z; --json adds epoch.
]] .. ONESHOT_COMMON

M.TEXT.size = [[
usage: modemftp size [OPTIONS] PATH

The size of the remote file PATH in bytes (AT+QFTPSIZE).
]] .. ONESHOT_COMMON

M.TEXT.at = [[
usage: modemftp at [OPTIONS] COMMAND

Send one AT command (quoted: modemftp at "AT+CSQ") and print the lines of
its answer; an ERROR or +CME ERROR exits 1. The answer must come within
at_timeout (5 s; -o at_timeout=180 for AT+COPS=?). Commands that switch the
channel to data mode are refused (exit 64): ATD, ATO, AT+QFTPPUT/QFTPGET/
QFTPLIST/QFTPNLST/QFTPMLSD to COM:, AT+QFUPL, AT+QFDWL, AT+QFREAD,
AT+QFWRITE, AT+QISEND, AT+QIRD, AT+CMUX, ...: use put, get, ls or a job.
]] .. ONESHOT_COMMON

M.TEXT.status = [[
usage: modemftp status [OPTIONS]

The module's state, one read-only command per line: SIM (AT+CPIN?),
registration (AT+CGREG?, AT+CEREG?), operator (AT+COPS?), signal (AT+CSQ),
PDP contexts and IP (AT+QIACT?), firmware (ATI, AT+GMR), FTP service
(AT+QFTPSTAT). A command the module refuses shows "(not available: why)";
the command fails only when the module answers none.
]] .. ONESHOT_COMMON

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
