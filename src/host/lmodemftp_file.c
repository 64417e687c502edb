/*
** lmodemftp_file.c: local file services: stat, fsync, fsync_dir, chmod, ferror,
** listdir (see header).
*/
#include "lmodemftp_file.h"
#include "lmodemftp_fail.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The FILE of the Lua file at idx, or NULL when idx is not a Lua file.
** A closed Lua file is misuse: raise. */
static FILE *opt_stream(lua_State *L, int idx)
{
	luaL_Stream *ls = luaL_testudata(L, idx, LUA_FILEHANDLE);
	if (!ls)
		return NULL;
	if (!ls->closef)
		luaL_argerror(L, idx, "attempt to use a closed file");
	return ls->f;
}

static const char *type_name(mode_t m)
{
	if (S_ISREG(m))
		return "file";
	if (S_ISDIR(m))
		return "directory";
	if (S_ISCHR(m))
		return "char";
	if (S_ISBLK(m))
		return "block";
	if (S_ISFIFO(m))
		return "fifo";
	if (S_ISSOCK(m))
		return "socket";
	if (S_ISLNK(m))
		return "link";
	return "other";
}

static void set_int(lua_State *L, const char *key, lua_Integer v)
{
	lua_pushinteger(L, v);
	lua_setfield(L, -2, key);
}

/* core.stat(path | file) -> table | nil, err */
static int l_stat(lua_State *L)
{
	FILE *f = opt_stream(L, 1);
	struct stat st;
	int rc;
	const char *what;
	if (f) {
		what = "file";
		rc = fstat(fileno(f), &st);
	} else {
		what = luaL_checkstring(L, 1);
		rc = stat(what, &st);
	}
	if (rc != 0) {
		int e = errno;
		return mf_lua_fail(L, "io", e, "%s: %s", what, strerror(e));
	}
	lua_createtable(L, 0, 8);
	lua_pushstring(L, type_name(st.st_mode));
	lua_setfield(L, -2, "type");
	set_int(L, "size", (lua_Integer)st.st_size);
	set_int(L, "dev", (lua_Integer)st.st_dev);
	set_int(L, "ino", (lua_Integer)st.st_ino);
	set_int(L, "mode", (lua_Integer)(st.st_mode & 07777));
	set_int(L, "nlink", (lua_Integer)st.st_nlink);
	set_int(L, "mtime", (lua_Integer)st.st_mtim.tv_sec);
	set_int(L, "mtime_nsec", (lua_Integer)st.st_mtim.tv_nsec);
	return 1;
}

/* fsync an open descriptor; EINTR is retried. Returns 0 or errno. */
static int sync_fd(int fd)
{
	while (fsync(fd) != 0) {
		if (errno != EINTR)
			return errno;
	}
	return 0;
}

/* core.fsync(path | file) -> true | nil, err */
static int l_fsync(lua_State *L)
{
	FILE *f = opt_stream(L, 1);
	int e;
	if (f) {
		if (fflush(f) != 0) {
			e = errno;
			return mf_lua_fail(L, "io", e, "flush: %s", strerror(e));
		}
		e = sync_fd(fileno(f));
		if (e)
			return mf_lua_fail(L, "io", e, "fsync: %s", strerror(e));
	} else {
		const char *path = luaL_checkstring(L, 1);
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0) {
			e = errno;
			return mf_lua_fail(L, "io", e, "fsync %s: %s", path, strerror(e));
		}
		e = sync_fd(fd);
		close(fd);
		if (e)
			return mf_lua_fail(L, "io", e, "fsync %s: %s", path, strerror(e));
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* core.fsync_dir(dir) -> true | nil, err */
static int l_fsync_dir(lua_State *L)
{
	const char *dir = luaL_checkstring(L, 1);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		return mf_lua_fail(L, "io", e, "fsync_dir %s: %s", dir, strerror(e));
	}
	int e = sync_fd(fd);
	close(fd);
	if (e && e != EINVAL) /* EINVAL: this file system does not sync directories */
		return mf_lua_fail(L, "io", e, "fsync_dir %s: %s", dir, strerror(e));
	lua_pushboolean(L, 1);
	return 1;
}

/* core.chmod(path | file, mode) -> true | nil, err */
static int l_chmod(lua_State *L)
{
	FILE *f = opt_stream(L, 1);
	const char *what = f ? "file" : luaL_checkstring(L, 1);
	lua_Integer mode = luaL_checkinteger(L, 2);
	luaL_argcheck(L, mode >= 0 && mode <= 07777, 2, "mode must be 0..07777");
	int rc = f ? fchmod(fileno(f), (mode_t)mode) : chmod(what, (mode_t)mode);
	if (rc != 0) {
		int e = errno;
		return mf_lua_fail(L, "io", e, "chmod %s: %s", what, strerror(e));
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* core.ferror(file) -> boolean */
static int l_ferror(lua_State *L)
{
	FILE *f = opt_stream(L, 1);
	if (!f)
		luaL_typeerror(L, 1, "file");
	lua_pushboolean(L, ferror(f) != 0);
	return 1;
}

/* core.listdir(dir) -> {names...} | nil, err */
static int l_listdir(lua_State *L)
{
	const char *dir = luaL_checkstring(L, 1);
	DIR *d = opendir(dir);
	if (!d) {
		int e = errno;
		return mf_lua_fail(L, "io", e, "%s: %s", dir, strerror(e));
	}
	lua_newtable(L);
	lua_Integer n = 0;
	for (;;) {
		errno = 0;
		struct dirent *ent = readdir(d);
		if (!ent)
			break;
		const char *name = ent->d_name;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		lua_pushstring(L, name);
		lua_rawseti(L, -2, ++n);
	}
	int e = errno; /* readdir's own failure, or 0 at the end */
	closedir(d);
	if (e)
		return mf_lua_fail(L, "io", e, "%s: %s", dir, strerror(e));
	return 1;
}

void mf_lua_register_file(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{"stat", l_stat}, {"fsync", l_fsync}, {"fsync_dir", l_fsync_dir}, {"chmod", l_chmod},
		{"ferror", l_ferror}, {"listdir", l_listdir}, {NULL, NULL},
	};
	luaL_setfuncs(L, fns, 0);
}
