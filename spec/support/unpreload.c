/*
** unpreload.c: a test seam for the sanitizer run, never part of the product.
**
** Lua is not built with ASan, so scripts/run-tests runs every Lua process
** of the ASan variant through a lua5.4 wrapper that preloads libasan
** (LD_PRELOAD). The programs those Lua processes start (python, pkill, the
** FTP server) must not inherit it: libasan in them deadlocks or reports
** leaks that are not ours. The wrapper has each Lua process load this
** module as it starts (LUA_INIT, by path), and it takes LD_PRELOAD out of
** the process's environment: the loader has used it already. A Lua child
** goes through the wrapper again and gets its own preload.
**
** Built only into the ASan tree (make asan: build/asan/lib/unpreload.so).
*/
#include <lua.h>
#include <stdlib.h>

__attribute__((visibility("default"))) int luaopen_unpreload(lua_State *L);

int luaopen_unpreload(lua_State *L)
{
	(void)L;
	unsetenv("LD_PRELOAD");
	return 0;
}
