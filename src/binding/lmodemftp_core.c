/*
** lmodemftp_core.c: the modemftp.core Lua module.
**
** One userdata type, "modemftp.port": a modem port (transport + AT engine).
** It is created closed, then opened, so a failure half-way leaves nothing
** behind; __gc and __close share one function; __tostring says "(closed)".
** Environment failures return nil, err where err is a table
** {kind, message, final, cme, result, lines, bytes} (metatable settable by
** the Lua layer through core.set_error_metatable); misuse raises.
** Lua callbacks (progress, sources, sinks) are called once per large chunk
** through one protected call; their errors abort the transfer cleanly and
** are re-raised once the port is consistent again. A callback cannot free
** what the transfer uses: port:close() from inside one is deferred (it
** returns true, the transfer stops at its next check, unwinds, and then the
** port is closed); the transfer then fails with kind "closed", message
** "port closed by a callback" (a callback's own error, if it raised one,
** is raised instead, after the close). Other methods called from inside a
** callback raise ("busy"). A callback's failure stops the transfer through
** the engine's cancel flag, never the signal flag: a SIGINT/SIGTERM that
** arrives meanwhile stays reported by core.interrupted().
** A file sink (io.open) gets every write checked, and is flushed when the
** transfer ends: a short write or a failed flush fails the transfer with
** kind "io" and errno. The binding opens no file for a transfer (sinks and
** sources are the caller's, and stay open); port:trace(f) keeps f alive and
** writes nothing more once f is closed.
*/
#include "mf_chat.h"
#include "mf_data.h"
#include "mf_lines.h"
#include "mf_sync.h"
#include "mf_transcript.h"
#include "lmodemftp_fail.h"
#include "lmodemftp_sys.h"

#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PORT_MT "modemftp.port"
#define MODEMFTP_CORE_VERSION "1.0.0"

static volatile sig_atomic_t g_interrupt;

typedef struct lport {
	mf_chat chat;
	int open;
	int busy;          /* inside a transfer: callbacks must not re-enter */
	int close_pending; /* port:close() from a callback: close once the transfer unwound */
	char spec[256];
	mf_port_opts opts; /* as opened: port:reopen opens the spec again with them */
	int recording;
} lport;

/* ---------------------------------------------------------------- errors */

/* Push nil, err and return 2: a port failure, with the modem's reply. */
static int push_fail(lua_State *L, int rc, const char *message, const mf_reply *r, long long bytes)
{
	mf_lua_fail_begin(L, mf_strerror(rc), message, 0);
	if (r) {
		if (r->final[0]) {
			lua_pushstring(L, r->final);
			lua_setfield(L, -2, "final");
		}
		if (r->cme >= 0) {
			lua_pushinteger(L, r->cme);
			lua_setfield(L, -2, "cme");
		}
		if (r->result[0]) {
			lua_pushstring(L, r->result);
			lua_setfield(L, -2, "result");
		}
		lua_createtable(L, (int)r->info.n, 0);
		int i = 1;
		for (const char *s = mf_strlist_next(&r->info, NULL); s; s = mf_strlist_next(&r->info, s)) {
			lua_pushstring(L, s);
			lua_rawseti(L, -2, i++);
		}
		lua_setfield(L, -2, "lines");
	}
	if (bytes >= 0) {
		lua_pushinteger(L, bytes);
		lua_setfield(L, -2, "bytes");
	}
	return mf_lua_fail_end(L);
}

static int push_reply(lua_State *L, const mf_reply *r)
{
	lua_createtable(L, 0, 4);
	lua_createtable(L, (int)r->info.n, 0);
	int i = 1;
	for (const char *s = mf_strlist_next(&r->info, NULL); s; s = mf_strlist_next(&r->info, s)) {
		lua_pushstring(L, s);
		lua_rawseti(L, -2, i++);
	}
	lua_setfield(L, -2, "info");
	lua_pushstring(L, r->final);
	lua_setfield(L, -2, "final");
	if (r->result[0]) {
		lua_pushstring(L, r->result);
		lua_setfield(L, -2, "result");
	}
	if (r->connect) {
		lua_pushboolean(L, 1);
		lua_setfield(L, -2, "connect");
	}
	return 1;
}

/* ------------------------------------------------------------ the handle */

static lport *check_port(lua_State *L, int idx)
{
	lport *p = luaL_checkudata(L, idx, PORT_MT);
	if (!p->open || p->close_pending)
		luaL_error(L, "attempt to use a closed modem port");
	if (p->busy)
		luaL_error(L, "modem port is busy (called from inside a transfer callback)");
	return p;
}

/* Raise on an option key the function does not take: a misspelt key (or
** "timeout" where the core wants "timeout_ms") would silently fall back
** to a default. */
static void check_opt_keys(lua_State *L, int idx, const char *const keys[])
{
	if (lua_isnoneornil(L, idx))
		return;
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		int known = 0;
		if (lua_type(L, -1) == LUA_TSTRING)
			for (int i = 0; keys[i] && !known; i++)
				known = strcmp(keys[i], lua_tostring(L, -1)) == 0;
		if (!known) {
			lua_pushvalue(L, -1);
			luaL_error(L, "unknown option '%s'", luaL_tolstring(L, -1, NULL));
		}
	}
}

static int opt_int(lua_State *L, int idx, const char *key, int def)
{
	if (lua_isnoneornil(L, idx))
		return def;
	lua_getfield(L, idx, key);
	int v = def;
	if (!lua_isnil(L, -1)) {
		int isnum;
		lua_Integer n = lua_tointegerx(L, -1, &isnum);
		if (!isnum || n < 0 || n > 0x7fffffff)
			luaL_error(L, "option '%s' must be a non-negative integer", key);
		v = (int)n;
	}
	lua_pop(L, 1);
	return v;
}

static long long opt_ll(lua_State *L, int idx, const char *key, long long def)
{
	if (lua_isnoneornil(L, idx))
		return def;
	lua_getfield(L, idx, key);
	long long v = def;
	if (!lua_isnil(L, -1)) {
		int isnum;
		v = lua_tointegerx(L, -1, &isnum);
		if (!isnum)
			luaL_error(L, "option '%s' must be an integer", key);
	}
	lua_pop(L, 1);
	return v;
}

static int opt_bool(lua_State *L, int idx, const char *key, int def)
{
	if (lua_isnoneornil(L, idx))
		return def;
	lua_getfield(L, idx, key);
	int v = lua_isnil(L, -1) ? def : lua_toboolean(L, -1);
	lua_pop(L, 1);
	return v;
}

/* String option: copied into buf (empty = absent). */
static const char *opt_str(lua_State *L, int idx, const char *key, char *buf, size_t cap)
{
	buf[0] = 0;
	if (lua_isnoneornil(L, idx))
		return NULL;
	lua_getfield(L, idx, key);
	if (!lua_isnil(L, -1)) {
		if (lua_type(L, -1) != LUA_TSTRING)
			luaL_error(L, "option '%s' must be a string", key);
		snprintf(buf, cap, "%s", lua_tostring(L, -1));
	}
	lua_pop(L, 1);
	return buf[0] ? buf : NULL;
}

/* core.open(spec [, opts]) -> port | nil, err */
static int l_open(lua_State *L)
{
	const char *spec = luaL_checkstring(L, 1);
	if (!lua_isnoneornil(L, 2))
		luaL_checktype(L, 2, LUA_TTABLE);
	static const char *const keys[] = {"baud", "rtscts", "dtr", "connect_timeout_ms", "record", NULL};
	check_opt_keys(L, 2, keys);
	mf_port_opts o;
	mf_port_opts_init(&o);
	o.baud = opt_int(L, 2, "baud", o.baud);
	o.rtscts = opt_bool(L, 2, "rtscts", 0);
	o.dtr = opt_bool(L, 2, "dtr", 1);
	o.connect_timeout_ms = opt_int(L, 2, "connect_timeout_ms", o.connect_timeout_ms);
	char record[1024];
	opt_str(L, 2, "record", record, sizeof record);

	lport *p = lua_newuserdatauv(L, sizeof *p, 1); /* uservalue 1: trace file */
	memset(p, 0, sizeof *p);
	luaL_setmetatable(L, PORT_MT);
	snprintf(p->spec, sizeof p->spec, "%s", spec);

	char err[MF_ERRLEN];
	mf_transport *t;
	int rc = mf_transport_open(spec, &o, &t, err, sizeof err);
	if (rc != MF_OK)
		return push_fail(L, rc, err, NULL, -1);
	if (record[0]) {
		rc = mf_record_open(t, record, &t, err, sizeof err);
		if (rc != MF_OK)
			return push_fail(L, rc, err, NULL, -1);
	}
	p->opts = o;
	p->recording = record[0] != 0;
	if (mf_chat_init(&p->chat, t) != MF_OK) {
		t->ops->close(t);
		return push_fail(L, MF_EMEM, "out of memory", NULL, -1);
	}
	p->chat.interrupt = &g_interrupt;
	p->open = 1;
	return 1;
}

static void close_port(lport *p)
{
	p->open = 0;
	p->close_pending = 0;
	mf_chat_free(&p->chat);
}

/* __gc, __close and port:close(). From a transfer callback (busy) the
** engine's buffer is still in use: the close waits for the transfer to
** unwind (finish_transfer), which it asks to stop. */
static int l_close(lua_State *L)
{
	lport *p = luaL_checkudata(L, 1, PORT_MT);
	if (p->open && p->busy) {
		p->close_pending = 1;
		p->chat.cancel = 1;
	} else if (p->open) {
		close_port(p);
	}
	lua_pushboolean(L, 1);
	return 1;
}

static int l_tostring(lua_State *L)
{
	lport *p = luaL_checkudata(L, 1, PORT_MT);
	if (p->open)
		lua_pushfstring(L, "modemftp.port (%s, %s)", p->spec, p->chat.t->ops->kind);
	else
		lua_pushfstring(L, "modemftp.port (closed)");
	return 1;
}

static void read_cmd_opts(lua_State *L, int idx, mf_cmd_opts *o, char *result, size_t cap)
{
	memset(o, 0, sizeof *o);
	o->timeout_ms = opt_int(L, idx, "timeout_ms", 5000);
	o->result = opt_str(L, idx, "result", result, cap);
	o->result_timeout_ms = opt_int(L, idx, "result_timeout_ms", 90000);
	o->result_early = opt_bool(L, idx, "result_early", 0);
}

static const char *check_cmd(lua_State *L, int idx)
{
	size_t n;
	const char *cmd = luaL_checklstring(L, idx, &n);
	if (memchr(cmd, '\r', n) || memchr(cmd, '\n', n) || strlen(cmd) != n)
		luaL_argerror(L, idx, "command must not contain CR, LF or NUL");
	return cmd;
}

/* port:command(cmd [, opts]) -> reply | nil, err */
static int l_command(lua_State *L)
{
	lport *p = check_port(L, 1);
	const char *cmd = check_cmd(L, 2);
	if (!lua_isnoneornil(L, 3))
		luaL_checktype(L, 3, LUA_TTABLE);
	static const char *const keys[] = {"timeout_ms", "result", "result_timeout_ms", "result_early", NULL};
	check_opt_keys(L, 3, keys);
	mf_cmd_opts o;
	char result[64];
	read_cmd_opts(L, 3, &o, result, sizeof result);
	mf_reply r;
	mf_reply_init(&r);
	int rc = mf_chat_command(&p->chat, cmd, &o, &r);
	int n;
	if (rc == MF_OK)
		n = push_reply(L, &r);
	else
		n = push_fail(L, rc, rc == MF_EMODEM ? r.final : p->chat.err, &r, -1);
	mf_reply_free(&r);
	return n;
}

/* ------------------------------------------------ sources, sinks, progress */

typedef struct cb_state cb_state;

/* Where a transfer's bytes go (sink) or come from (source): a Lua file, an
** fd, a Lua function, a string (source) or nil (sink: collect into a
** string that get returns). One table of operations per kind, so that
** each kind's code sits together; a kind that cannot be a sink or a source
** has no write or read. */
typedef struct endpoint endpoint;
typedef struct endpoint_ops {
	const char *kind;
	/* mf_sink's write and mf_source's read, with ud the endpoint */
	int (*write)(void *ud, const char *buf, size_t n, char *err, size_t errlen);
	long (*read)(void *ud, char *buf, size_t n, char *err, size_t errlen);
	/* after a successful transfer: push extra results, return how many */
	int (*push_result)(endpoint *e, lua_State *L);
	void (*free)(endpoint *e);
} endpoint_ops;

struct endpoint {
	const endpoint_ops *ops;
	cb_state *cb; /* Lua functions are called through cb (the one protected call) */
	int saved_errno; /* of the OS failure that stopped it, or 0 */
	union {
		FILE *file;
		int fd;
		struct {
			int idx;            /* stack index of the function */
			const char *pending; /* a source returned more than asked: the rest */
			size_t pending_len;
			int pending_ref;    /* keeps that string alive */
		} fn;
		struct {
			const char *s;
			size_t len, pos;
		} str;
		struct {
			char *buf;
			size_t len, cap;
		} acc;
	} u;
};

struct cb_state {
	lua_State *L;
	lport *port;
	endpoint ep;
	int progress_idx;   /* stack index of the progress function, or 0 */
	int failed;         /* a Lua callback raised: error object at err_ref */
	volatile int pause; /* the progress function returned false: pause the download */
	int err_ref;
};

static int traceback(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);
	if (msg)
		luaL_traceback(L, L, msg, 1);
	return 1;
}

/* The one protected call for Lua callbacks: nargs on the stack above fn. */
static int call_lua(cb_state *s, int nargs, int nres)
{
	lua_State *L = s->L;
	int base = lua_gettop(L) - nargs;
	lua_pushcfunction(L, traceback);
	lua_insert(L, base);
	int rc = lua_pcall(L, nargs, nres, base);
	lua_remove(L, base);
	if (rc != LUA_OK) {
		if (!s->failed) {
			s->failed = 1;
			s->err_ref = luaL_ref(L, LUA_REGISTRYINDEX);
		} else {
			lua_pop(L, 1);
		}
		return -1;
	}
	return 0;
}

static void on_progress(void *ud, int64_t bytes)
{
	cb_state *s = ud;
	if (!s->progress_idx || s->failed)
		return;
	lua_pushvalue(s->L, s->progress_idx);
	lua_pushinteger(s->L, bytes);
	if (call_lua(s, 1, 1) == 0) {
		if (lua_isboolean(s->L, -1) && !lua_toboolean(s->L, -1))
			s->pause = 1; /* "false": leave data mode (downloads; ATO resumes) */
		lua_pop(s->L, 1);
	}
	if (s->failed)
		s->port->chat.cancel = 1; /* stop the transfer at the next check (not a signal) */
}

/* -- a Lua file (io.open) */

/* An OS failure of the endpoint: its errno kept for the failure table. */
static int endpoint_failed(endpoint *e, int saved, const char *what, char *err, size_t errlen)
{
	e->saved_errno = saved ? saved : EIO;
	snprintf(err, errlen, "%s: %s", what, strerror(e->saved_errno));
	return -1;
}

static int file_write(void *ud, const char *buf, size_t n, char *err, size_t errlen)
{
	endpoint *e = ud;
	errno = 0;
	if (fwrite(buf, 1, n, e->u.file) != n) /* short: the disk is full, or worse */
		return endpoint_failed(e, errno, "write to file", err, errlen);
	return 0;
}

static long file_read(void *ud, char *buf, size_t n, char *err, size_t errlen)
{
	endpoint *e = ud;
	errno = 0;
	size_t got = fread(buf, 1, n, e->u.file);
	if (got == 0 && ferror(e->u.file))
		return endpoint_failed(e, errno, "read from file", err, errlen);
	return (long)got;
}

static const endpoint_ops file_ops = {"file", file_write, file_read, NULL, NULL};

/* -- a file descriptor (integer) */

static int fd_write(void *ud, const char *buf, size_t n, char *err, size_t errlen)
{
	endpoint *e = ud;
	while (n) {
		ssize_t w = write(e->u.fd, buf, n);
		if (w < 0) {
			int saved = errno;
			if (saved == EINTR)
				continue;
			char what[32];
			snprintf(what, sizeof what, "write to fd %d", e->u.fd);
			return endpoint_failed(e, saved, what, err, errlen);
		}
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

static long fd_read(void *ud, char *buf, size_t n, char *err, size_t errlen)
{
	endpoint *e = ud;
	for (;;) {
		ssize_t got = read(e->u.fd, buf, n);
		if (got >= 0)
			return (long)got;
		int saved = errno;
		if (saved != EINTR) {
			char what[32];
			snprintf(what, sizeof what, "read from fd %d", e->u.fd);
			return endpoint_failed(e, saved, what, err, errlen);
		}
	}
}

static const endpoint_ops fd_ops = {"fd", fd_write, fd_read, NULL, NULL};

/* -- a Lua function: called once per chunk through call_lua */

static int fn_write(void *ud, const char *buf, size_t n, char *err, size_t errlen)
{
	endpoint *e = ud;
	lua_State *L = e->cb->L;
	lua_pushvalue(L, e->u.fn.idx);
	lua_pushlstring(L, buf, n);
	if (call_lua(e->cb, 1, 0) != 0) {
		snprintf(err, errlen, "sink function failed");
		return -1;
	}
	return 0;
}

/* The function returns a string (empty ones are skipped) or nil at the end;
** what does not fit in buf is kept for the next read. */
static long fn_read(void *ud, char *buf, size_t n, char *err, size_t errlen)
{
	endpoint *e = ud;
	lua_State *L = e->cb->L;
	while (!e->u.fn.pending_len) {
		if (e->u.fn.pending_ref != LUA_NOREF) {
			luaL_unref(L, LUA_REGISTRYINDEX, e->u.fn.pending_ref);
			e->u.fn.pending_ref = LUA_NOREF;
		}
		lua_pushvalue(L, e->u.fn.idx);
		if (call_lua(e->cb, 0, 1) != 0) {
			snprintf(err, errlen, "source function failed");
			return -1;
		}
		if (lua_isnil(L, -1)) {
			lua_pop(L, 1);
			return 0;
		}
		if (lua_type(L, -1) != LUA_TSTRING) {
			lua_pop(L, 1);
			snprintf(err, errlen, "source function must return a string or nil");
			return -1;
		}
		e->u.fn.pending = lua_tolstring(L, -1, &e->u.fn.pending_len);
		e->u.fn.pending_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	}
	size_t k = e->u.fn.pending_len < n ? e->u.fn.pending_len : n;
	memcpy(buf, e->u.fn.pending, k);
	e->u.fn.pending += k;
	e->u.fn.pending_len -= k;
	return (long)k;
}

static void fn_free(endpoint *e)
{
	if (e->u.fn.pending_ref != LUA_NOREF)
		luaL_unref(e->cb->L, LUA_REGISTRYINDEX, e->u.fn.pending_ref);
	e->u.fn.pending_ref = LUA_NOREF;
}

static const endpoint_ops fn_ops = {"function", fn_write, fn_read, NULL, fn_free};

/* -- a string (source) */

static long string_read(void *ud, char *buf, size_t n, char *err, size_t errlen)
{
	endpoint *e = ud;
	(void)err;
	(void)errlen;
	size_t k = e->u.str.len - e->u.str.pos < n ? e->u.str.len - e->u.str.pos : n;
	memcpy(buf, e->u.str.s + e->u.str.pos, k);
	e->u.str.pos += k;
	return (long)k;
}

static const endpoint_ops string_ops = {"string", NULL, string_read, NULL, NULL};

/* -- nil (sink): collect into a string, get's third result */

static int collect_write(void *ud, const char *buf, size_t n, char *err, size_t errlen)
{
	endpoint *e = ud;
	if (e->u.acc.len + n > e->u.acc.cap) {
		size_t cap = e->u.acc.cap ? e->u.acc.cap : 4096;
		while (cap < e->u.acc.len + n)
			cap *= 2;
		char *b = realloc(e->u.acc.buf, cap);
		if (!b) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		e->u.acc.buf = b;
		e->u.acc.cap = cap;
	}
	memcpy(e->u.acc.buf + e->u.acc.len, buf, n);
	e->u.acc.len += n;
	return 0;
}

static int collect_push(endpoint *e, lua_State *L)
{
	lua_pushlstring(L, e->u.acc.buf ? e->u.acc.buf : "", e->u.acc.len);
	return 1;
}

static void collect_free(endpoint *e)
{
	free(e->u.acc.buf);
	e->u.acc.buf = NULL;
}

static const endpoint_ops collect_ops = {"collect", collect_write, NULL, collect_push, collect_free};

static void cb_init(cb_state *s, lua_State *L, lport *p)
{
	memset(s, 0, sizeof *s);
	s->L = L;
	s->port = p;
	s->err_ref = LUA_NOREF;
}

static void cb_free(cb_state *s)
{
	if (s->ep.ops && s->ep.ops->free)
		s->ep.ops->free(&s->ep);
}

/* Raise the callback's error now that the port is consistent again. */
static void cb_rethrow(cb_state *s)
{
	if (!s->failed)
		return;
	lua_rawgeti(s->L, LUA_REGISTRYINDEX, s->err_ref);
	luaL_unref(s->L, LUA_REGISTRYINDEX, s->err_ref);
	cb_free(s);
	lua_error(s->L);
}

/* The endpoint at idx, as a sink (is_source 0) or a source; misuse raises. */
static void setup_endpoint(lua_State *L, int idx, cb_state *s, int is_source)
{
	endpoint *e = &s->ep;
	e->cb = s;
	luaL_Stream *ls = luaL_testudata(L, idx, LUA_FILEHANDLE);
	if (ls) {
		if (!ls->closef)
			luaL_argerror(L, idx, "attempt to use a closed file");
		e->ops = &file_ops;
		e->u.file = ls->f;
	} else if (lua_isinteger(L, idx)) {
		e->ops = &fd_ops;
		e->u.fd = (int)lua_tointeger(L, idx);
	} else if (lua_isfunction(L, idx)) {
		e->ops = &fn_ops;
		e->u.fn.idx = idx;
		e->u.fn.pending_ref = LUA_NOREF;
	} else if (lua_type(L, idx) == LUA_TSTRING) {
		e->ops = &string_ops;
		e->u.str.s = lua_tolstring(L, idx, &e->u.str.len);
	} else if (lua_isnoneornil(L, idx)) {
		e->ops = &collect_ops;
	}
	if (!e->ops || (is_source ? !e->ops->read : !e->ops->write)) {
		e->ops = NULL;
		luaL_argerror(L, idx, is_source ? "source must be a file, fd, string or function"
		                                : "sink must be a file, fd, function or nil");
	}
}

static void setup_progress(lua_State *L, int opts, cb_state *s, mf_progress *pr)
{
	memset(pr, 0, sizeof *pr);
	if (lua_isnoneornil(L, opts))
		return;
	lua_getfield(L, opts, "progress");
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return;
	}
	if (!lua_isfunction(L, -1))
		luaL_error(L, "option 'progress' must be a function");
	s->progress_idx = lua_gettop(L); /* stays on the stack during the transfer */
	pr->fn = on_progress;
	pr->ud = s;
	pr->interval_ms = opt_int(L, opts, "progress_interval_ms", 250);
}

/* A file sink's bytes still in stdio's buffer go out now, checked: a full
** disk often shows only here. Returns 0, or -1 with the reason in err. */
static int flush_sink(endpoint *e, int is_sink, char *err, size_t errlen)
{
	if (!is_sink || e->ops != &file_ops)
		return 0;
	errno = 0;
	if (fflush(e->u.file) != 0)
		return endpoint_failed(e, errno, "write to file", err, errlen);
	return 0;
}

/* The end of a transfer, on every path: flush a file sink; close the port
** if a callback asked to; re-raise a callback's error now that the port is
** consistent; else push bytes, reply [, data] or nil, err. */
static int finish_transfer(lua_State *L, lport *p, cb_state *s, int is_sink, int rc, int64_t bytes, mf_reply *r)
{
	p->busy = 0;
	p->chat.cancel = 0;
	char flush_err[MF_ERRLEN];
	if (flush_sink(&s->ep, is_sink, flush_err, sizeof flush_err) != 0 && rc != MF_EIO) {
		/* the file does not hold what the transfer counted: that failure wins */
		rc = MF_EIO;
		snprintf(p->chat.err, sizeof p->chat.err, "%s", flush_err);
	}
	int closed = p->close_pending;
	if (closed)
		close_port(p);
	if (s->failed) {
		mf_reply_free(r);
		cb_rethrow(s);
	}
	int n;
	if (closed) {
		n = push_fail(L, MF_ECLOSED, "port closed by a callback", r, bytes);
	} else if (rc == MF_OK) {
		lua_pushinteger(L, bytes);
		push_reply(L, r);
		n = 2;
		if (s->ep.ops->push_result)
			n += s->ep.ops->push_result(&s->ep, L);
	} else {
		/* a modem failure without a message of its own is its final line */
		n = push_fail(L, rc, p->chat.err[0] ? p->chat.err : r->final, r, bytes);
		if (rc == MF_EIO && s->ep.saved_errno > 0) {
			lua_pushinteger(L, s->ep.saved_errno);
			lua_setfield(L, -2, "errno");
		}
	}
	p->chat.err[0] = 0;
	mf_reply_free(r);
	cb_free(s);
	return n;
}

/* Send cmd and wait for CONNECT (or a failure/result instead). */
static int enter_data_mode(lport *p, const char *cmd, int timeout_ms, const char *result, int result_timeout_ms,
                           mf_reply *r)
{
	mf_cmd_opts o = {0};
	o.timeout_ms = timeout_ms;
	o.result = result;
	o.result_timeout_ms = result_timeout_ms;
	o.connect = 1;
	int rc = mf_chat_command(&p->chat, cmd, &o, r);
	if (rc == MF_OK && !r->connect && !r->got_final) /* refused by a bare result line: take an OK that may trail it */
		mf_chat_wait_final(&p->chat, cmd, 100, r->final, sizeof r->final);
	return rc;
}

/* port:get(cmd, sink, opts) -> bytes, reply [, data] | nil, err */
static int l_get(lua_State *L)
{
	lport *p = check_port(L, 1);
	const char *cmd = check_cmd(L, 2);
	luaL_checktype(L, 4, LUA_TTABLE);
	static const char *const keys[] = {"result", "trailer", "timeout_ms", "idle_ms", "quiet_ms", "final_timeout_ms",
	                                   "guard_ms", "offset", "expect", "confirm_ms", "result_timeout_ms",
	                                   "progress", "progress_interval_ms", NULL};
	check_opt_keys(L, 4, keys);
	cb_state s;
	cb_init(&s, L, p);
	setup_endpoint(L, 3, &s, 0);
	char result[64], trailer[16];
	mf_get_opts o = {0};
	o.cmd = cmd;
	o.result = opt_str(L, 4, "result", result, sizeof result);
	if (!o.result)
		luaL_error(L, "option 'result' (e.g. \"+QFTPGET\") is required");
	opt_str(L, 4, "trailer", trailer, sizeof trailer);
	/* "lensum": QFDWL's "+QFDWL: <len>,<checksum>"; else "+QFTPGET: <err>,<len>" */
	o.trailer = strcmp(trailer, "lensum") == 0 ? MF_TRAILER_COUNT_CHECKSUM : MF_TRAILER_RESULT_COUNT;
	int timeout_ms = opt_int(L, 4, "timeout_ms", 90000);
	o.idle_ms = opt_int(L, 4, "idle_ms", timeout_ms);
	o.quiet_ms = opt_int(L, 4, "quiet_ms", 500);
	o.final_timeout_ms = opt_int(L, 4, "final_timeout_ms", 2000);
	o.guard_ms = opt_int(L, 4, "guard_ms", 1000);
	o.offset = opt_ll(L, 4, "offset", 0);
	o.expect = opt_ll(L, 4, "expect", -1);
	o.confirm_ms = opt_int(L, 4, "confirm_ms", 100);
	int result_timeout_ms = opt_int(L, 4, "result_timeout_ms", timeout_ms);
	setup_progress(L, 4, &s, &o.progress);
	o.pause = &s.pause;

	mf_reply r;
	mf_reply_init(&r);
	int64_t bytes = 0;
	p->busy = 1;
	int rc = enter_data_mode(p, cmd, timeout_ms, o.result, result_timeout_ms, &r);
	if (rc == MF_OK && r.connect)
		rc = mf_data_get(&p->chat, &o, &(mf_sink){s.ep.ops->write, &s.ep}, &bytes, &r);
	return finish_transfer(L, p, &s, 1, rc, bytes, &r);
}

/* port:put(cmd, source, opts) -> bytes, reply | nil, err */
static int l_put(lua_State *L)
{
	lport *p = check_port(L, 1);
	const char *cmd = check_cmd(L, 2);
	luaL_checktype(L, 4, LUA_TTABLE);
	static const char *const keys[] = {"result", "length", "dtr", "guard_ms", "timeout_ms", "idle_ms",
	                                   "final_timeout_ms", "result_timeout_ms", "ack_every", "progress",
	                                   "progress_interval_ms", NULL};
	check_opt_keys(L, 4, keys);
	cb_state s;
	cb_init(&s, L, p);
	setup_endpoint(L, 3, &s, 1);
	char result[64];
	mf_put_opts o = {0};
	o.cmd = cmd;
	o.result = opt_str(L, 4, "result", result, sizeof result);
	if (!o.result)
		luaL_error(L, "option 'result' (e.g. \"+QFTPPUT\") is required");
	o.length = opt_ll(L, 4, "length", -1);
	o.end_by_dtr = opt_bool(L, 4, "dtr", 0);
	o.guard_ms = opt_int(L, 4, "guard_ms", 1000);
	int timeout_ms = opt_int(L, 4, "timeout_ms", 90000);
	o.idle_ms = opt_int(L, 4, "idle_ms", timeout_ms);
	o.final_timeout_ms = opt_int(L, 4, "final_timeout_ms", timeout_ms);
	o.result_timeout_ms = opt_int(L, 4, "result_timeout_ms", timeout_ms);
	o.ack_every = opt_int(L, 4, "ack_every", 0);
	setup_progress(L, 4, &s, &o.progress);

	mf_reply r;
	mf_reply_init(&r);
	int64_t bytes = 0;
	p->busy = 1;
	int rc = enter_data_mode(p, cmd, timeout_ms, o.result, o.result_timeout_ms, &r);
	if (rc == MF_OK && r.connect) {
		rc = mf_data_put(&p->chat, &o, &(mf_source){s.ep.ops->read, &s.ep}, &bytes, &r);
		/* an upload left early: its result still comes, and is not the next one's */
		if (rc != MF_OK && !r.result[0] && rc != MF_ECLOSED)
			mf_chat_owe_result(&p->chat, cmd, o.result, o.result_timeout_ms);
		/* The module left data mode by itself with OK before the upload was
		** complete (a DTR drop, "+++" seen in the data): cut short under us,
		** as by a closed connection, and retryable. An error code in its
		** result line, if any, still says more (the Lua layer reads it). */
		if (rc == MF_EMODEM && strcmp(r.final, "OK") == 0)
			rc = MF_ECLOSED;
	}
	return finish_transfer(L, p, &s, 0, rc, bytes, &r);
}

static void push_urcs(lua_State *L, lport *p)
{
	mf_strlist *u = &p->chat.urcs;
	lua_createtable(L, (int)u->n, 0);
	int i = 1;
	for (const char *s = mf_strlist_next(u, NULL); s; s = mf_strlist_next(u, s)) {
		lua_pushstring(L, s);
		lua_rawseti(L, -2, i++);
	}
	mf_strlist_clear(u);
}

/* port:urcs() -> { line, ... } (drains the queue) */
static int l_urcs(lua_State *L)
{
	push_urcs(L, check_port(L, 1));
	return 1;
}

/* port:poll(timeout_ms) -> { line, ... } | nil, err */
static int l_poll(lua_State *L)
{
	lport *p = check_port(L, 1);
	int timeout_ms = (int)luaL_optinteger(L, 2, 0);
	int rc = mf_chat_poll(&p->chat, timeout_ms < 0 ? 0 : timeout_ms);
	if (rc != MF_OK && rc != MF_ETIMEOUT && rc != MF_EINTR)
		return push_fail(L, rc, p->chat.err, NULL, -1);
	push_urcs(L, p);
	return 1;
}

/* port:write(bytes [, timeout_ms]) -> true | nil, err: raw bytes, no CR added */
static int l_write(lua_State *L)
{
	lport *p = check_port(L, 1);
	size_t n;
	const char *b = luaL_checklstring(L, 2, &n);
	int timeout_ms = (int)luaL_optinteger(L, 3, 5000);
	mf_chat_trace(&p->chat, '>', b, n);
	int rc = mf_write_all(p->chat.t, b, n, mf_now_ms() + timeout_ms, NULL);
	if (rc != MF_OK)
		return push_fail(L, rc, p->chat.t->err, NULL, -1);
	lua_pushboolean(L, 1);
	return 1;
}

static int line_op(lua_State *L, int (*op)(mf_transport *, int))
{
	lport *p = check_port(L, 1);
	luaL_checkany(L, 2);
	int rc = op(p->chat.t, lua_toboolean(L, 2));
	if (rc != MF_OK)
		return push_fail(L, rc, p->chat.t->err, NULL, -1);
	lua_pushboolean(L, 1);
	return 1;
}

static int set_dtr(mf_transport *t, int on) { return t->ops->set_dtr(t, on); }
static int set_rts(mf_transport *t, int on) { return t->ops->set_rts(t, on); }
static int l_set_dtr(lua_State *L) { return line_op(L, set_dtr); }
static int l_set_rts(lua_State *L) { return line_op(L, set_rts); }

/* The trace's stream, looked at before each write: the Lua file may have
** been closed (f:close()) since port:trace(f); then nothing is written. */
static FILE *trace_stream(void *ud)
{
	luaL_Stream *ls = ud;
	return ls->closef ? ls->f : NULL;
}

/* port:trace(file | nil): log AT traffic (passwords redacted) to a Lua file */
static int l_trace(lua_State *L)
{
	lport *p = check_port(L, 1);
	p->chat.trace = NULL;
	if (lua_isnoneornil(L, 2)) {
		p->chat.trace_stream = NULL;
		p->chat.trace_ud = NULL;
		lua_pushnil(L);
	} else {
		luaL_Stream *ls = luaL_checkudata(L, 2, LUA_FILEHANDLE);
		if (!ls->closef)
			luaL_argerror(L, 2, "attempt to use a closed file");
		p->chat.trace_stream = trace_stream;
		p->chat.trace_ud = ls;
		lua_pushvalue(L, 2);
	}
	lua_setiuservalue(L, 1, 1); /* keep the file (and ls) alive while traced */
	lua_pushboolean(L, 1);
	return 1;
}

/* port:secret(s): never show s in traces or recordings */
static int l_secret(lua_State *L)
{
	lport *p = check_port(L, 1);
	size_t n;
	const char *s = luaL_checklstring(L, 2, &n);
	if (n) {
		mf_redact_add(p->chat.redact, s, n);
		mf_redact_add(mf_record_redactor(p->chat.t), s, n); /* NULL when not recording: no-op */
	}
	return 0;
}

/* port:redact(text) -> text with known secrets replaced */
static int l_redact(lua_State *L)
{
	lport *p = check_port(L, 1);
	size_t n;
	const char *s = luaL_checklstring(L, 2, &n);
	char *out = malloc(2 * n + 1);
	if (!out)
		return luaL_error(L, "out of memory");
	size_t m = mf_redact(p->chat.redact, s, n, out);
	lua_pushlstring(L, out, m);
	free(out);
	return 1;
}

/* port:comment(text): a "# text" line in the recording, if recording */
static int l_comment(lua_State *L)
{
	lport *p = check_port(L, 1);
	mf_record_comment(p->chat.t, luaL_checkstring(L, 2));
	return 0;
}

/* port:replay_finished() -> true | nil, err */
static int l_replay_finished(lua_State *L)
{
	lport *p = check_port(L, 1);
	char err[MF_ERRLEN];
	int rc = mf_replay_finished(p->chat.t, err, sizeof err);
	if (rc != MF_OK)
		return push_fail(L, rc, err, NULL, -1);
	lua_pushboolean(L, 1);
	return 1;
}

/* ------------------------------------------------- known state, reopen */

static void push_sync_result(lua_State *L, const mf_sync_result *res)
{
	lua_createtable(L, 0, 10);
	lua_pushstring(L, mf_sync_primary(res->states));
	lua_setfield(L, -2, "state");
	lua_newtable(L);
	int n = 0;
	for (unsigned bit = 1; bit; bit <<= 1) {
		const char *name = (res->states & bit) ? mf_sync_state_name(bit) : NULL;
		if (name) {
			lua_pushstring(L, name);
			lua_rawseti(L, -2, ++n);
		}
	}
	lua_setfield(L, -2, "states");
	lua_createtable(L, res->nactions, 0);
	for (int i = 0; i < res->nactions; i++) {
		lua_pushstring(L, res->actions[i]);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "actions");
	static const char *const keys[] = {"ms", "flushed", "stale", "late", "urcs", "probes"};
	const long long vals[] = {res->ms, (long long)res->flushed, res->stale, res->late, res->urcs, res->probes};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		lua_pushinteger(L, vals[i]);
		lua_setfield(L, -2, keys[i]);
	}
	if (res->sim[0]) {
		lua_pushstring(L, res->sim);
		lua_setfield(L, -2, "sim");
	}
}

/* port:sync([opts]) -> {state, states, actions, ms, ...} | nil, err (err.sync: the same table) */
static int l_sync(lua_State *L)
{
	lport *p = check_port(L, 1);
	if (!lua_isnoneornil(L, 2))
		luaL_checktype(L, 2, LUA_TTABLE);
	static const char *const keys[] = {"probe_ms", "guard_ms", "boot_ms", "cmd_ms", "stream_ms",
	                                   "quiet_ms", "result_ms", "sim_poll_ms", NULL};
	check_opt_keys(L, 2, keys);
	mf_sync_opts o;
	mf_sync_opts_init(&o);
	o.probe_ms = opt_int(L, 2, "probe_ms", o.probe_ms);
	o.guard_ms = opt_int(L, 2, "guard_ms", o.guard_ms);
	o.boot_ms = opt_int(L, 2, "boot_ms", o.boot_ms);
	o.cmd_ms = opt_int(L, 2, "cmd_ms", o.cmd_ms);
	o.stream_ms = opt_int(L, 2, "stream_ms", o.stream_ms);
	o.quiet_ms = opt_int(L, 2, "quiet_ms", o.quiet_ms);
	o.result_ms = opt_int(L, 2, "result_ms", o.result_ms);
	o.sim_poll_ms = opt_int(L, 2, "sim_poll_ms", o.sim_poll_ms);
	mf_sync_result res;
	int rc = mf_sync(&p->chat, &o, &res);
	if (rc == MF_OK) {
		push_sync_result(L, &res);
		return 1;
	}
	int n = push_fail(L, rc, p->chat.err, NULL, -1);
	push_sync_result(L, &res);
	lua_setfield(L, -2, "sync");
	return n;
}

/* port:reopen([spec]) -> true | nil, err: open the same spec again (a
** symlink is followed anew), or `spec` instead (a usb: spec resolved again
** by the Lua layer after re-enumeration), keeping the engine's queue,
** trace, secrets and settings */
static int l_reopen(lua_State *L)
{
	lport *p = luaL_checkudata(L, 1, PORT_MT);
	size_t speclen = 0;
	const char *spec = luaL_optlstring(L, 2, NULL, &speclen);
	if (spec && (speclen == 0 || speclen >= sizeof p->spec))
		luaL_argerror(L, 2, "port spec empty or too long");
	if (!p->open)
		luaL_error(L, "attempt to use a closed modem port");
	if (p->busy)
		luaL_error(L, "modem port is busy (called from inside a transfer callback)");
	if (p->recording || strncmp(p->spec, "replay:", 7) == 0)
		return push_fail(L, MF_ESUPP,
		                 p->recording ? "reopen: not while recording (a transcript cannot show a port that went away)"
		                              : "reopen: a replayed transcript cannot be opened again",
		                 NULL, -1);
	char err[MF_ERRLEN];
	mf_transport *t;
	/* the old descriptor goes first (an exclusive tty must be free); until
	** the new one opens, the port fails every call as closed */
	mf_chat_set_transport(&p->chat, NULL);
	if (spec)
		memcpy(p->spec, spec, speclen + 1);
	int rc = mf_transport_open(p->spec, &p->opts, &t, err, sizeof err);
	if (rc != MF_OK)
		return push_fail(L, rc, err, NULL, -1);
	mf_chat_set_transport(&p->chat, t);
	lua_pushboolean(L, 1);
	return 1;
}

/* port:owed() -> {entries = {{command, echo, final, result, age_ms}...}, late, stale, foreign} */
static int l_owed(lua_State *L)
{
	lport *p = check_port(L, 1);
	const mf_owed *o = &p->chat.owed;
	int64_t now = mf_now_ms();
	lua_createtable(L, 0, 4);
	lua_createtable(L, o->n, 0);
	for (int i = 0; i < o->n; i++) {
		const mf_owed_entry *e = &o->e[i];
		lua_createtable(L, 0, 5);
		char red[2 * MF_OWED_CMD_MAX + 1];
		size_t rn = mf_redact(p->chat.redact, e->cmd, strlen(e->cmd), red);
		lua_pushlstring(L, red, rn);
		lua_setfield(L, -2, "command");
		lua_pushboolean(L, (e->need & MF_OWE_ECHO) != 0);
		lua_setfield(L, -2, "echo");
		lua_pushboolean(L, (e->need & MF_OWE_FINAL) != 0);
		lua_setfield(L, -2, "final");
		if (e->need & MF_OWE_RESULT) {
			lua_pushstring(L, e->result);
			lua_setfield(L, -2, "result");
		}
		lua_pushinteger(L, now - e->since_ms);
		lua_setfield(L, -2, "age_ms");
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "entries");
	static const char *const keys[] = {"late", "stale", "foreign"};
	const unsigned long vals[] = {p->chat.late, p->chat.stale, p->chat.foreign};
	for (size_t i = 0; i < 3; i++) {
		lua_pushinteger(L, (lua_Integer)vals[i]);
		lua_setfield(L, -2, keys[i]);
	}
	return 1;
}

static int l_kind(lua_State *L)
{
	lport *p = check_port(L, 1);
	lua_pushstring(L, p->chat.t->ops->kind);
	return 1;
}

static int l_isopen(lua_State *L)
{
	lport *p = luaL_checkudata(L, 1, PORT_MT);
	lua_pushboolean(L, p->open && !p->close_pending);
	return 1;
}

/* ------------------------------------------------------------ module */

static void on_signal(int sig)
{
	g_interrupt = sig;
}

/* core.catch_signals(true|false): SIGINT/SIGTERM set the interrupt flag
** (waits and transfers then stop cleanly) instead of killing the process. */
static int l_catch_signals(lua_State *L)
{
	int on = lua_toboolean(L, 1);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on ? on_signal : SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: poll() returns EINTR at once */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	return 0;
}

/* core.interrupted() -> signal number, or false */
static int l_interrupted(lua_State *L)
{
	if (g_interrupt)
		lua_pushinteger(L, g_interrupt);
	else
		lua_pushboolean(L, 0);
	return 1;
}

static int l_clear_interrupt(lua_State *L)
{
	(void)L;
	g_interrupt = 0;
	return 0;
}

static int l_set_error_metatable(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_pushvalue(L, 1);
	lua_setfield(L, LUA_REGISTRYINDEX, MF_LUA_ERROR_MT_KEY);
	return 0;
}

/* core.monotonic_ms() -> integer */
static int l_monotonic(lua_State *L)
{
	lua_pushinteger(L, mf_now_ms());
	return 1;
}

/* core.sleep_ms(ms) */
static int l_sleep(lua_State *L)
{
	mf_sleep_ms((int)luaL_checkinteger(L, 1));
	return 0;
}

/* core.line_class(line) -> {own=, reboot=, pdp_lost=, ends_transfer=}: what a
** line the module printed by itself means (src/at/mf_lines.h, the one table). */
static int l_line_class(lua_State *L)
{
	size_t n;
	const char *line = luaL_checklstring(L, 1, &n);
	unsigned cls = mf_line_classes(line, n);
	lua_createtable(L, 0, 4);
	for (int i = 0; mf_line_class_names[i]; i++) {
		if (cls & (1u << i)) {
			lua_pushboolean(L, 1);
			lua_setfield(L, -2, mf_line_class_names[i]);
		}
	}
	return 1;
}

static const luaL_Reg port_methods[] = {
	{"command", l_command}, {"get", l_get}, {"put", l_put}, {"urcs", l_urcs}, {"poll", l_poll},
	{"write", l_write}, {"set_dtr", l_set_dtr}, {"set_rts", l_set_rts}, {"trace", l_trace},
	{"secret", l_secret}, {"redact", l_redact}, {"comment", l_comment},
	{"replay_finished", l_replay_finished}, {"kind", l_kind}, {"is_open", l_isopen},
	{"close", l_close}, {"sync", l_sync}, {"reopen", l_reopen}, {"owed", l_owed}, {NULL, NULL},
};

static const luaL_Reg port_meta[] = {
	{"__gc", l_close}, {"__close", l_close}, {"__tostring", l_tostring}, {"__index", NULL}, {NULL, NULL},
};

static const luaL_Reg core_funcs[] = {
	{"open", l_open}, {"catch_signals", l_catch_signals}, {"interrupted", l_interrupted},
	{"clear_interrupt", l_clear_interrupt}, {"set_error_metatable", l_set_error_metatable},
	{"monotonic_ms", l_monotonic}, {"sleep_ms", l_sleep}, {"line_class", l_line_class}, {NULL, NULL},
};

__attribute__((visibility("default"))) int luaopen_modemftp_core(lua_State *L);

int luaopen_modemftp_core(lua_State *L)
{
	luaL_newmetatable(L, PORT_MT);
	luaL_setfuncs(L, port_meta, 0);
	luaL_newlibtable(L, port_methods);
	luaL_setfuncs(L, port_methods, 0);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
	luaL_newlib(L, core_funcs);
	mf_lua_register_sys(L);
	lua_pushliteral(L, MODEMFTP_CORE_VERSION);
	lua_setfield(L, -2, "version");
	return 1;
}
