/*
** lmodemftp_fail.c: builds every failure table of modemftp.core (see header).
*/
#include "lmodemftp_fail.h"

#include <lauxlib.h>
#include <stdarg.h>
#include <stdio.h>

void mf_lua_fail_begin(lua_State *L, const char *kind, const char *message, int saved_errno)
{
	lua_pushnil(L);
	lua_createtable(L, 0, 8);
	lua_pushstring(L, kind);
	lua_setfield(L, -2, "kind");
	lua_pushstring(L, message && *message ? message : kind);
	lua_setfield(L, -2, "message");
	if (saved_errno > 0) {
		lua_pushinteger(L, saved_errno);
		lua_setfield(L, -2, "errno");
	}
}

int mf_lua_fail_end(lua_State *L)
{
	if (lua_getfield(L, LUA_REGISTRYINDEX, MF_LUA_ERROR_MT_KEY) == LUA_TTABLE)
		lua_setmetatable(L, -2);
	else
		lua_pop(L, 1);
	return 2;
}

int mf_lua_fail(lua_State *L, const char *kind, int saved_errno, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	mf_lua_fail_begin(L, kind, msg, saved_errno);
	return mf_lua_fail_end(L);
}
