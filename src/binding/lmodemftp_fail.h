/*
** lmodemftp_fail.h: the one shape of a failure that modemftp.core returns.
**
** Every function of the module that can fail in its environment (the port,
** the modem, the file system, a lock) returns nil, err: err is a table
** {kind = "timeout"|"closed"|"io"|"busy"|..., message = "...", errno = n?,
** ...} carrying the error metatable the Lua layer set with
** core.set_error_metatable, so that it prints well. Misuse raises instead.
** The core's port functions add the modem's reply (final, cme, result,
** lines) and the bytes moved; host services add errno. Callers save errno
** before any call that may change it and pass it in.
*/
#ifndef LMODEMFTP_FAIL_H
#define LMODEMFTP_FAIL_H

#include <lua.h>

#define MF_LUA_ERROR_MT_KEY "modemftp.error_mt"

/* Push nil and a new failure table {kind, message[, errno]} (errno when
** saved_errno > 0); the table stays on top for more fields. Finish with
** mf_lua_fail_end. */
void mf_lua_fail_begin(lua_State *L, const char *kind, const char *message, int saved_errno);

/* Give the failure table on top the error metatable; returns 2 (nil, err). */
int mf_lua_fail_end(lua_State *L);

/* Both in one: nil, {kind, message = formatted[, errno]}; returns 2. */
int mf_lua_fail(lua_State *L, const char *kind, int saved_errno, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
