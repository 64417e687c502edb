-- modemftp as a LuaRocks package: `luarocks make` in a checkout builds the
-- C core with the Makefile (`make runtime`, into build/luarocks, apart from
-- the developers' build/) and installs the runtime (`make install-runtime`:
-- the modules, core.so stripped, readline.so when libreadline-dev is there,
-- the modemftp command, its man page, the example jobs). The system's files
-- (configuration, cron, logrotate, systemd units) are `make install`'s.
--
--   luarocks --lua-version 5.4 make                     # into the default tree
--   luarocks --lua-version 5.4 make --tree /opt/modemftp
--
-- The version follows the core's (MODEMFTP_CORE_VERSION, `modemftp --version`).
rockspec_format = "3.0"
package = "modemftp"
version = "1.0.0-1"

-- The project publishes no repository address yet: `luarocks make` builds
-- the checkout it runs in and fetches nothing. Name the repository and its
-- tag here before `luarocks upload`.
source = {
	url = "git+file://.",
	tag = "v1.0.0",
}

description = {
	summary = "FTP jobs over a Quectel EC20 modem's AT+QFTP* commands, in Lua 5.4",
	detailed = [[
A C core moves the bytes (serial port, AT parser, data mode); a Lua layer
holds the FTP session, retries and job flows. The modemftp command runs job
scripts from cron or systemd, gives an interactive console, and lists serial
ports. Tests replay recorded modem transcripts, with no hardware.]],
	license = "MIT",
	labels = { "modem", "ftp", "serial", "at-commands", "quectel" },
}

dependencies = {
	"lua >= 5.4, < 5.5",
}

external_dependencies = {
	LIBSERIALPORT = { header = "libserialport.h", library = "serialport" },
}

build = {
	type = "make",
	build_target = "runtime",
	build_variables = {
		B = "build/luarocks",
		-- the Makefile's optimisation flags are OPT; it adds -fPIC itself
		OPT = "$(CFLAGS)",
		CFLAGS = "$(CFLAGS)",
		LUA_INCDIR = "$(LUA_INCDIR)",
	},
	install_target = "install-runtime",
	install_variables = {
		B = "build/luarocks",
		PREFIX = "$(PREFIX)",
		BINDIR = "$(BINDIR)",
		LUA_LMOD_DIR = "$(LUADIR)",
		LUA_CMOD_DIR = "$(LIBDIR)",
		-- the configuration stays where the system keeps it
		SYSCONFDIR = "/etc",
		LUA_INCDIR = "$(LUA_INCDIR)",
	},
}
