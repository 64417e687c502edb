/*
** lmodemftp_sys.c: host services for the command line (see header).
*/
#include "lmodemftp_sys.h"
#include "lmodemftp_fail.h"
#include "lmodemftp_file.h"
#include "mf_holder.h"
#include "lmodemftp_stdio.h"
#include "mf_transport.h"

#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <libserialport.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <syslog.h>
#include <unistd.h>

#define LOCK_MT "modemftp.lock"

static void set_str(lua_State *L, const char *key, const char *v)
{
	if (v) {
		lua_pushstring(L, v);
		lua_setfield(L, -2, key);
	}
}

/* core.ports() -> { {name=, description=, transport=, vid=, pid=,
** manufacturer=, product=, serial=, quectel=bool}, ... } | nil, err */
static int l_ports(lua_State *L)
{
	struct sp_port **list = NULL;
	enum sp_return rc = sp_list_ports(&list);
	if (rc != SP_OK) {
		int e = sp_last_error_code();
		char *msg = sp_last_error_message();
		mf_lua_fail(L, "io", e, "listing serial ports: %s", msg ? msg : "failed");
		sp_free_error_message(msg);
		return 2;
	}
	lua_newtable(L);
	int n = 0;
	for (int i = 0; list[i]; i++) {
		struct sp_port *p = list[i];
		lua_createtable(L, 0, 9);
		set_str(L, "name", sp_get_port_name(p));
		set_str(L, "description", sp_get_port_description(p));
		enum sp_transport tr = sp_get_port_transport(p);
		set_str(L, "transport", tr == SP_TRANSPORT_USB ? "usb" : tr == SP_TRANSPORT_BLUETOOTH ? "bluetooth" : "native");
		if (tr == SP_TRANSPORT_USB) {
			int vid = 0, pid = 0;
			if (sp_get_port_usb_vid_pid(p, &vid, &pid) == SP_OK) {
				lua_pushinteger(L, vid);
				lua_setfield(L, -2, "vid");
				lua_pushinteger(L, pid);
				lua_setfield(L, -2, "pid");
				lua_pushboolean(L, vid == 0x2c7c);
				lua_setfield(L, -2, "quectel");
			}
			set_str(L, "manufacturer", sp_get_port_usb_manufacturer(p));
			set_str(L, "product", sp_get_port_usb_product(p));
			set_str(L, "serial", sp_get_port_usb_serial(p));
		}
		lua_rawseti(L, -2, ++n);
	}
	sp_free_port_list(list);
	return 1;
}

typedef struct lock_ud {
	int fd;
} lock_ud;

static int l_unlock(lua_State *L)
{
	lock_ud *u = luaL_checkudata(L, 1, LOCK_MT);
	if (u->fd >= 0) {
		flock(u->fd, LOCK_UN);
		close(u->fd);
		u->fd = -1;
	}
	return 0;
}

/* The pid a holder wrote into the lock file (see l_lock), or 0. */
static long lock_file_pid(const char *path)
{
	FILE *f = fopen(path, "re");
	long pid = 0;
	if (f) {
		if (fscanf(f, "%ld", &pid) != 1 || pid <= 0)
			pid = 0;
		fclose(f);
	}
	return pid;
}

/* "held by pid 812 (modemftp)": the pid the holder wrote, while that
** process lives; else the processes that have the file open (/proc: all of
** them for root, one's own for a user); else nothing known. */
static void lock_holder(const char *path, char *out, size_t cap)
{
	long pid = lock_file_pid(path);
	char proc[64], comm[32] = "";
	snprintf(proc, sizeof proc, "/proc/%ld/comm", pid);
	FILE *f = pid > 0 ? fopen(proc, "re") : NULL;
	if (f) {
		if (fgets(comm, sizeof comm, f))
			comm[strcspn(comm, "\n")] = 0;
		fclose(f);
		snprintf(out, cap, "held by pid %ld (%s)", pid, comm[0] ? comm : "?");
		return;
	}
	char who[200];
	if (mf_holders(path, who, sizeof who) > 0)
		snprintf(out, cap, "held by %s", who);
	else
		snprintf(out, cap, "held by another process");
}

/* Open (creating if needed) a lock file so that any user can lock it
** later: a new file gets mode 0644 whatever the umask (flock needs only a
** read-only descriptor, so a file root created stays usable by a service
** account); an existing file is opened read-write, else read-only. */
static int open_lock_file(const char *path, int *writable)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd >= 0) {
		(void)fchmod(fd, 0644);
		*writable = 1;
		return fd;
	}
	if (errno != EEXIST)
		return -1;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		*writable = 1;
		return fd;
	}
	if (errno != EACCES && errno != EPERM && errno != EROFS)
		return -1;
	*writable = 0;
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* core.lock(path, timeout_ms) -> lock | nil, err (err.kind "busy" or "io",
** err.errno for "io")
** An exclusive flock on path (created if needed, see open_lock_file),
** waited for at most timeout_ms; released by lock:unlock(), garbage
** collection or exit. The holder writes its pid into the file when it may
** (the HDB UUCP form: "%10d\n"), so a busy lock names its holder. */
static int l_lock(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	lua_Integer timeout = luaL_optinteger(L, 2, 0);
	lock_ud *u = lua_newuserdatauv(L, sizeof *u, 0);
	u->fd = -1;
	luaL_setmetatable(L, LOCK_MT);
	int writable = 0;
	int fd = open_lock_file(path, &writable);
	if (fd < 0) {
		int e = errno;
		return mf_lua_fail(L, "io", e, "%s: %s", path, strerror(e));
	}
	int64_t deadline = mf_now_ms() + timeout;
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			int e = errno;
			close(fd);
			return mf_lua_fail(L, "io", e, "%s: %s", path, strerror(e));
		}
		if (mf_left_ms(deadline) == 0) {
			close(fd);
			char who[256];
			lock_holder(path, who, sizeof who);
			return mf_lua_fail(L, "busy", 0, "%s: %s", path, who);
		}
		mf_sleep_ms(20);
	}
	if (writable && ftruncate(fd, 0) == 0) {
		char pid[16];
		int n = snprintf(pid, sizeof pid, "%10ld\n", (long)getpid());
		if (write(fd, pid, (size_t)n) != n) {
			/* the pid is a courtesy for the next waiter's message */
		}
	}
	u->fd = fd;
	return 1;
}

/* core.umask(mask) -> the previous mask: files the command creates that
** hold payloads or logs (--record, --log) are made 0600 under umask 077. */
static int l_umask(lua_State *L)
{
	lua_Integer mask = luaL_checkinteger(L, 1);
	luaL_argcheck(L, mask >= 0 && mask <= 0777, 1, "mask must be 0..0777");
	lua_pushinteger(L, (lua_Integer)umask((mode_t)mask));
	return 1;
}

/* core.syslog(level, message): level "err", "warning", "notice", "info", "debug" */
static int l_syslog(lua_State *L)
{
	static const char *const names[] = {"err", "warning", "notice", "info", "debug", NULL};
	static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG};
	int i = luaL_checkoption(L, 1, "info", names);
	const char *msg = luaL_checkstring(L, 2);
	static int opened;
	if (!opened) {
		openlog("modemftp", LOG_PID, LOG_USER);
		opened = 1;
	}
	syslog(prio[i], "%s", msg);
	return 0;
}

/* core.isatty(fd) -> boolean */
static int l_isatty(lua_State *L)
{
	lua_pushboolean(L, isatty((int)luaL_checkinteger(L, 1)));
	return 1;
}

/* core.getpid() -> integer */
static int l_getpid(lua_State *L)
{
	lua_pushinteger(L, getpid());
	return 1;
}

/*
** The whole-job deadline of `modemftp run --timeout`. One interval timer:
** its first expiry raises SIGTERM in this process (with core.catch_signals
** on, that sets the interrupt flag, so waits and transfers stop cleanly);
** if the process is still running one interval later, it exits at once.
** The handler only raises, counts, writes the last words (core.last_words)
** and _exits: all async-signal-safe.
*/
static volatile sig_atomic_t g_deadline_fired;
static volatile sig_atomic_t g_deadline_status = 124;

static void on_alarm(int sig)
{
	(void)sig;
	if (g_deadline_fired++ == 0) {
		raise(SIGTERM);
	} else {
		mf_say_last_words(); /* the --json line of a job that did not stop */
		_exit(g_deadline_status);
	}
}

/* core.deadline(ms [, grace_ms [, status]]) -> true | nil, err
** After ms, SIGTERM; grace_ms (default 10000) later, _exit(status) (124).
** ms <= 0 disarms. */
static int l_deadline(lua_State *L)
{
	lua_Integer after_ms = luaL_checkinteger(L, 1);
	lua_Integer grace_ms = luaL_optinteger(L, 2, 10000);
	lua_Integer status = luaL_optinteger(L, 3, 124);
	luaL_argcheck(L, grace_ms > 0 && grace_ms <= INT_MAX, 2, "grace must be 1..INT_MAX ms");
	luaL_argcheck(L, status >= 0 && status <= 255, 3, "status must be 0..255");
	struct itimerval it;
	memset(&it, 0, sizeof it);
	if (after_ms > 0) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_alarm;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGALRM, &sa, NULL) != 0)
			goto fail;
		g_deadline_fired = 0;
		g_deadline_status = (sig_atomic_t)status;
		it.it_value.tv_sec = (time_t)(after_ms / 1000);
		it.it_value.tv_usec = (suseconds_t)(after_ms % 1000) * 1000;
		it.it_interval.tv_sec = (time_t)(grace_ms / 1000);
		it.it_interval.tv_usec = (suseconds_t)(grace_ms % 1000) * 1000;
	}
	if (setitimer(ITIMER_REAL, &it, NULL) != 0)
		goto fail;
	lua_pushboolean(L, 1);
	return 1;
fail:;
	int e = errno;
	return mf_lua_fail(L, "io", e, "deadline: %s", strerror(e));
}

/* core.deadline_expired() -> boolean: the deadline timer has fired */
static int l_deadline_expired(lua_State *L)
{
	lua_pushboolean(L, g_deadline_fired > 0);
	return 1;
}

/* core.realpath(path) -> absolute path with symlinks resolved | nil, err */
static int l_realpath(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	char *r = realpath(path, NULL);
	if (!r) {
		int e = errno;
		return mf_lua_fail(L, "io", e, "%s: %s", path, strerror(e));
	}
	lua_pushstring(L, r);
	free(r);
	return 1;
}

void mf_lua_register_sys(lua_State *L)
{
	if (luaL_newmetatable(L, LOCK_MT)) {
		lua_pushcfunction(L, l_unlock);
		lua_setfield(L, -2, "__gc");
		lua_pushcfunction(L, l_unlock);
		lua_setfield(L, -2, "__close");
		lua_newtable(L);
		lua_pushcfunction(L, l_unlock);
		lua_setfield(L, -2, "unlock");
		lua_setfield(L, -2, "__index");
	}
	lua_pop(L, 1);
	static const luaL_Reg fns[] = {
		{"ports", l_ports}, {"lock", l_lock}, {"syslog", l_syslog},
		{"isatty", l_isatty}, {"getpid", l_getpid}, {"deadline", l_deadline},
		{"deadline_expired", l_deadline_expired}, {"realpath", l_realpath}, {"umask", l_umask},
		{NULL, NULL},
	};
	luaL_setfuncs(L, fns, 0);
	mf_lua_register_file(L);
	mf_lua_register_stdio(L);
}
