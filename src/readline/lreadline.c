/*
** lreadline.c: the modemftp.readline Lua module: GNU readline for the
** `modemftp console` (line editing, history, completion through a Lua
** function). A separate module so that the core does not link readline.
**
**   readline.readline(prompt [, interrupted [, idle [, idle_ms]]]) -> line
**       | nil (end of input) | false, "interrupted" | nil, message (I/O error)
**       idle (a function) is called every idle_ms (250) while no key comes:
**       the console reads the modem's URCs there and prints them at once
**   readline.hide() / readline.show(): inside `idle` (or a function it
**       calls), take the prompt and the partial line off the screen before
**       printing, and put them back after; no-ops anywhere else
**   readline.add_history(line)
**   readline.read_history(path)  -> true | nil, message
**   readline.write_history(path [, max_lines]) -> true | nil, message
**   readline.set_completer(fn | nil): fn(text, line, start, stop) returns an
**       array of candidates for `text` (line[start+1 .. stop] in Lua terms)
**
** readline() uses the callback interface around pselect() so that a signal
** (SIGINT with core.catch_signals on: pselect fails with EINTR) can cancel
** the line: then `interrupted()` is called and, if it returns true, the
** partial line is dropped and readline returns false, "interrupted". Any
** other EINTR (SIGWINCH, ...) just resumes reading; a SIGINT still pending
** when input is there acts first. What was typed ahead into the cooked
** terminal between prompts, a Ctrl-D included, is not lost (see veof_off).
** readline's own signal handlers are off (rl_catch_signals = 0): the
** application's stay in force.
** Lua is called only through lua_pcall; an error in the completer means "no
** completions", one in `interrupted` means "cancel".
*/
#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

static lua_State *g_L;                /* the state inside readline(), for callbacks */
static int g_completer = LUA_NOREF;   /* registry ref of the Lua completer */
static char *g_line;
static int g_done;
static int g_waiting;      /* inside readline(): hide/show may act */
static char *g_hidden;     /* the partial line hide() took off the screen */
static int g_hidden_point;

static void on_line(char *line)
{
	g_line = line;
	g_done = 1;
	rl_callback_handler_remove(); /* before readline redraws the prompt */
}

/* Longest common prefix of the candidates, for readline's match[0]. */
static char *common_prefix(char **m, size_t n)
{
	size_t len = strlen(m[0]);
	for (size_t i = 1; i < n; i++) {
		size_t k = 0;
		while (k < len && m[i][k] == m[0][k])
			k++;
		len = k;
	}
	char *p = malloc(len + 1);
	if (p) {
		memcpy(p, m[0], len);
		p[len] = 0;
	}
	return p;
}

static char **complete(const char *text, int start, int end)
{
	rl_attempted_completion_over = 1; /* no fallback to file names */
	rl_completion_append_character = '\0';
	lua_State *L = g_L;
	if (!L || g_completer == LUA_NOREF)
		return NULL;
	int top = lua_gettop(L);
	lua_rawgeti(L, LUA_REGISTRYINDEX, g_completer);
	lua_pushstring(L, text);
	lua_pushstring(L, rl_line_buffer);
	lua_pushinteger(L, start);
	lua_pushinteger(L, end);
	if (lua_pcall(L, 4, 1, 0) != LUA_OK || !lua_istable(L, -1)) {
		lua_settop(L, top);
		return NULL;
	}
	size_t n = 0, cap = lua_rawlen(L, -1);
	char **m = cap ? calloc(cap + 2, sizeof *m) : NULL;
	for (size_t i = 1; m && i <= cap; i++) {
		lua_rawgeti(L, -1, (lua_Integer)i);
		const char *s = lua_tostring(L, -1);
		if (s && (m[n + 1] = strdup(s)) != NULL)
			n++;
		lua_pop(L, 1);
	}
	lua_settop(L, top);
	if (!m || n == 0) {
		free(m);
		return NULL;
	}
	if (n == 1) { /* a single match replaces the text */
		m[0] = m[1];
		m[1] = NULL;
		return m;
	}
	m[0] = common_prefix(m + 1, n);
	if (!m[0]) {
		for (size_t i = 1; i <= n; i++)
			free(m[i]);
		free(m);
		return NULL;
	}
	return m;
}

/* Ask the Lua `interrupted` function (stack index idx) whether to cancel. */
static int ask_cancel(lua_State *L, int idx)
{
	if (idx == 0)
		return 0;
	lua_pushvalue(L, idx);
	if (lua_pcall(L, 0, 1, 0) != LUA_OK) {
		lua_pop(L, 1);
		return 1;
	}
	int yes = lua_toboolean(L, -1);
	lua_pop(L, 1);
	return yes;
}

/* readline.hide(): the prompt and the partial line off the screen (the
** usual recipe for printing while readline's callback interface waits). */
static int l_hide(lua_State *L)
{
	(void)L;
	if (!g_waiting || g_hidden)
		return 0;
	g_hidden_point = rl_point;
	g_hidden = rl_copy_text(0, rl_end);
	rl_save_prompt();
	rl_replace_line("", 0);
	rl_redisplay();
	return 0;
}

/* readline.show(): put back what hide() took away. */
static int l_show(lua_State *L)
{
	(void)L;
	if (!g_hidden)
		return 0;
	fflush(stdout);
	rl_restore_prompt();
	rl_replace_line(g_hidden, 0);
	rl_point = g_hidden_point;
	free(g_hidden);
	g_hidden = NULL;
	rl_forced_update_display();
	return 0;
}

/* Call the Lua `idle` function (stack index idx); its errors are dropped
** (a console must not die of a URC printer), the line is put back. */
static void run_idle(lua_State *L, int idx)
{
	lua_pushvalue(L, idx);
	if (lua_pcall(L, 0, 0, 0) != LUA_OK)
		lua_pop(L, 1);
	l_show(L);
}

/* Typed ahead (between two prompts, while Lua code ran) is typed into the
** cooked terminal. There a Ctrl-D is no byte but the line buffer's
** end-of-file mark, which readline's raw mode reads as a NUL: the end of
** input would be lost. So from the start of each prompt until readline has
** the terminal raw, VEOF is off (a Ctrl-D typed then stays a plain ^D byte,
** which readline takes for end of input); what was typed before that is
** taken as the tty hands it (typed_ahead). The deprep hook puts VEOF back
** for the Lua code that runs between prompts. */
static int g_veof_fd = -1;
static cc_t g_veof;

static void veof_off(int fd)
{
	struct termios tio;
	if (g_veof_fd >= 0 || tcgetattr(fd, &tio) != 0 || !(tio.c_lflag & ICANON) ||
	    tio.c_cc[VEOF] == _POSIX_VDISABLE)
		return;
	g_veof = tio.c_cc[VEOF];
	tio.c_cc[VEOF] = _POSIX_VDISABLE;
	if (tcsetattr(fd, TCSANOW, &tio) == 0) /* c_cc only: the line buffer stays */
		g_veof_fd = fd;
}

static void veof_on(void)
{
	struct termios tio;
	if (g_veof_fd >= 0 && tcgetattr(g_veof_fd, &tio) == 0) {
		tio.c_cc[VEOF] = g_veof;
		tcsetattr(g_veof_fd, TCSANOW, &tio);
	}
	g_veof_fd = -1;
}

static void deprep(void)
{
	rl_deprep_terminal(); /* back to the settings saved at prep (VEOF off) */
	veof_on();
}

/* A whole line (or end of input) typed ahead into the cooked terminal:
** returns 1 with the line (or nil) pushed, 0 when nothing complete waits. */
static int typed_ahead(lua_State *L, int fd, const char *prompt)
{
	struct termios tio;
	struct pollfd pf = {fd, POLLIN, 0};
	if (tcgetattr(fd, &tio) != 0 || !(tio.c_lflag & ICANON) || poll(&pf, 1, 0) != 1 ||
	    !(pf.revents & POLLIN))
		return 0; /* cooked mode is readable only with a whole line (or EOF) */
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	size_t total = 0;
	char chunk[1024];
	for (;;) { /* one canonical read is one line, a long one comes in parts */
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		total += (size_t)n;
		if (chunk[n - 1] == '\n') {
			luaL_addlstring(&b, chunk, (size_t)n - 1);
			break;
		}
		luaL_addlstring(&b, chunk, (size_t)n);
		if (poll(&pf, 1, 0) != 1)
			break;
	}
	if (total == 0) {
		lua_pushnil(L); /* Ctrl-D */
		return 1;
	}
	luaL_pushresult(&b);
	/* the tty echoed it as typed; show it at its prompt too, as readline would */
	FILE *out = rl_outstream ? rl_outstream : stdout;
	fprintf(out, "%s%s\n", prompt, lua_tostring(L, -1));
	fflush(out);
	return 1;
}

static int l_readline(lua_State *L)
{
	const char *prompt = luaL_optstring(L, 1, "> ");
	int cancel_idx = 0, idle_idx = 0;
	if (!lua_isnoneornil(L, 2)) {
		luaL_checktype(L, 2, LUA_TFUNCTION);
		cancel_idx = 2;
	}
	if (!lua_isnoneornil(L, 3)) {
		luaL_checktype(L, 3, LUA_TFUNCTION);
		idle_idx = 3;
	}
	lua_Integer idle_ms = luaL_optinteger(L, 4, 250);
	luaL_argcheck(L, idle_ms > 0 && idle_ms <= 3600000, 4, "idle_ms must be 1..3600000");
	struct timespec tick = {(time_t)(idle_ms / 1000), (long)(idle_ms % 1000) * 1000000L};
	FILE *in = rl_instream ? rl_instream : stdin;
	int fd = fileno(in);
	veof_off(fd);
	if (!ask_cancel(L, cancel_idx) && typed_ahead(L, fd, prompt)) {
		veof_on();
		return 1;
	}
	g_L = L;
	g_done = 0;
	g_line = NULL;
	rl_callback_handler_install(prompt, on_line);
	g_waiting = 1;
	/* SIGINT/SIGTERM stay blocked except inside pselect(), so a signal that
	** comes after the check below still interrupts the wait (no lost wakeup). */
	sigset_t block, orig;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &orig);
	while (!g_done) {
		fd_set fds;
		FD_ZERO(&fds);
		FD_SET(fd, &fds);
		int n, e = EINTR;
		if (ask_cancel(L, cancel_idx))
			n = -1;
		else {
			n = pselect(fd + 1, &fds, NULL, NULL, idle_idx ? &tick : NULL, &orig);
			e = errno;
		}
		if (n == 0) { /* no key within idle_ms */
			run_idle(L, idle_idx);
			continue;
		}
		if (n > 0) {
			/* A Ctrl-C typed just before this input may still be pending
			** (pselect saw the input first): let it act first, so that it
			** cancels this prompt instead of the code of the next line. */
			sigset_t pend;
			if (sigpending(&pend) == 0 && (sigismember(&pend, SIGINT) || sigismember(&pend, SIGTERM))) {
				sigprocmask(SIG_SETMASK, &orig, NULL); /* the handler runs here */
				sigprocmask(SIG_BLOCK, &block, NULL);
				if (ask_cancel(L, cancel_idx)) {
					n = -1;
					e = EINTR;
				}
			}
		}
		if (n < 0) {
			if (e == EINTR && !ask_cancel(L, cancel_idx))
				continue;
			g_waiting = 0;
			sigprocmask(SIG_SETMASK, &orig, NULL);
			rl_free_line_state();
			rl_callback_sigcleanup();
			rl_replace_line("", 0);
			rl_callback_handler_remove();
			fputc('\n', rl_outstream ? rl_outstream : stdout);
			fflush(rl_outstream ? rl_outstream : stdout);
			veof_on(); /* (the deprep hook did; harmless twice) */
			g_L = NULL;
			if (e == EINTR) {
				lua_pushboolean(L, 0);
				lua_pushliteral(L, "interrupted");
			} else {
				lua_pushnil(L);
				lua_pushfstring(L, "readline: %s", strerror(e));
			}
			return 2;
		}
		/* Input is there: readline reads it with the signals still blocked,
		** so a Ctrl-C now waits for the next pselect() instead of landing
		** inside readline's own read loop (where it would be lost). */
		rl_callback_read_char();
	}
	g_waiting = 0;
	sigprocmask(SIG_SETMASK, &orig, NULL);
	veof_on();
	g_L = NULL;
	if (!g_line) {
		/* A signal inside readline's own read() also ends the line with
		** NULL: tell that apart from a real end of input. */
		if (ask_cancel(L, cancel_idx)) {
			lua_pushboolean(L, 0);
			lua_pushliteral(L, "interrupted");
			return 2;
		}
		lua_pushnil(L);
		return 1;
	}
	lua_pushstring(L, g_line);
	free(g_line);
	g_line = NULL;
	return 1;
}

static int l_add_history(lua_State *L)
{
	const char *line = luaL_checkstring(L, 1);
	if (*line)
		add_history(line);
	return 0;
}

static int history_result(lua_State *L, int rc, const char *path)
{
	if (rc != 0) {
		lua_pushnil(L);
		lua_pushfstring(L, "%s: %s", path, strerror(rc));
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

static int l_read_history(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	return history_result(L, read_history(path), path);
}

static int l_write_history(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	lua_Integer max = luaL_optinteger(L, 2, 1000);
	int rc = write_history(path);
	if (rc == 0 && max > 0)
		rc = history_truncate_file(path, (int)max);
	return history_result(L, rc, path);
}

static int l_set_completer(lua_State *L)
{
	if (!lua_isnoneornil(L, 1))
		luaL_checktype(L, 1, LUA_TFUNCTION);
	luaL_unref(L, LUA_REGISTRYINDEX, g_completer);
	g_completer = LUA_NOREF;
	if (!lua_isnoneornil(L, 1)) {
		lua_pushvalue(L, 1);
		g_completer = luaL_ref(L, LUA_REGISTRYINDEX);
	}
	return 0;
}

__attribute__((visibility("default"))) int luaopen_modemftp_readline(lua_State *L);

int luaopen_modemftp_readline(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{"readline", l_readline}, {"add_history", l_add_history},
		{"read_history", l_read_history}, {"write_history", l_write_history},
		{"set_completer", l_set_completer}, {"hide", l_hide}, {"show", l_show}, {NULL, NULL},
	};
	rl_readline_name = "modemftp";
	rl_catch_signals = 0;
	rl_catch_sigwinch = 0;
	rl_deprep_term_function = deprep;
	/* ':' and '.' break words, so "m:pu" completes "pu" after "m:". */
	rl_basic_word_break_characters = " \t\n\"'`@$><=;|&{([,:.+-*/%~^#";
	rl_attempted_completion_function = complete;
	using_history();
	luaL_newlib(L, fns);
	return 1;
}
