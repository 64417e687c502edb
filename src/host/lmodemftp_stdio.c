/*
** lmodemftp_stdio.c: terminal width and the diverted standard output (see
** header).
*/
#include "lmodemftp_stdio.h"
#include "lmodemftp_fail.h"

#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* core.term_columns(fd) -> columns | nil */
static int l_term_columns(lua_State *L)
{
	lua_Integer fd = luaL_checkinteger(L, 1);
	struct winsize ws;
	if (fd < 0 || fd > 1024 || ioctl((int)fd, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0) {
		lua_pushnil(L);
		return 1;
	}
	lua_pushinteger(L, ws.ws_col);
	return 1;
}

/* The __close of a Lua file made here (as liolib's io_fclose). */
static int close_stream(lua_State *L)
{
	luaL_Stream *p = luaL_checkudata(L, 1, LUA_FILEHANDLE);
	errno = 0;
	return luaL_fileresult(L, fclose(p->f) == 0, NULL);
}

/* core.divert_stdout() -> file | nil, err */
static int l_divert_stdout(lua_State *L)
{
	fflush(stdout);
	int keep = fcntl(1, F_DUPFD_CLOEXEC, 3);
	if (keep < 0) {
		int e = errno;
		return mf_lua_fail(L, "io", e, "stdout: %s", strerror(e));
	}
	luaL_Stream *p = lua_newuserdatauv(L, sizeof *p, 0);
	p->closef = NULL; /* not a file yet: a failure below leaves nothing to close */
	luaL_setmetatable(L, LUA_FILEHANDLE);
	p->f = fdopen(keep, "w");
	if (!p->f || dup2(2, 1) < 0) {
		int e = errno;
		if (p->f)
			fclose(p->f);
		else
			close(keep);
		p->f = NULL;
		return mf_lua_fail(L, "io", e, "stdout: %s", strerror(e));
	}
	p->closef = close_stream;
	/* a line at a time, as stderr's readers (a log, a terminal) expect
	** (glibc allows this after the flush above) */
	setvbuf(stdout, NULL, _IOLBF, 0);
	return 1;
}

void mf_lua_register_stdio(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{"term_columns", l_term_columns}, {"divert_stdout", l_divert_stdout}, {NULL, NULL},
	};
	luaL_setfuncs(L, fns, 0);
}
