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
#include <signal.h>
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

/* The last words: written by mf_say_last_words from a signal handler, so
** kept in static storage; the descriptor is set last (and cleared first). */
static char g_words[2048];
static size_t g_words_len;
static volatile sig_atomic_t g_words_fd = -1;

/* core.last_words(file, text) | core.last_words(nil) */
static int l_last_words(lua_State *L)
{
	g_words_fd = -1;
	if (lua_isnoneornil(L, 1))
		return 0;
	luaL_Stream *ls = luaL_checkudata(L, 1, LUA_FILEHANDLE);
	if (!ls->closef)
		luaL_argerror(L, 1, "attempt to use a closed file");
	size_t n;
	const char *text = luaL_checklstring(L, 2, &n);
	luaL_argcheck(L, n <= sizeof g_words, 2, "at most 2048 bytes");
	fflush(ls->f);
	memcpy(g_words, text, n);
	g_words_len = n;
	g_words_fd = fileno(ls->f);
	return 0;
}

void mf_say_last_words(void)
{
	int fd = g_words_fd;
	if (fd < 0)
		return;
	g_words_fd = -1;
	const char *p = g_words;
	size_t left = g_words_len;
	while (left > 0) {
		ssize_t w = write(fd, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		p += w;
		left -= (size_t)w;
	}
}

void mf_lua_register_stdio(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{"term_columns", l_term_columns}, {"divert_stdout", l_divert_stdout},
		{"last_words", l_last_words}, {NULL, NULL},
	};
	luaL_setfuncs(L, fns, 0);
}
