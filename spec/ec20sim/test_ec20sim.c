/*
** test_ec20sim.c: ec20sim end to end over its pty, against real pyftpdlib
** servers (scripts/ftpserver) in a temporary directory. Raw AT traffic with
** tiny helpers of its own; every wait has a deadline; everything started is
** stopped at the end, also on failure (and by a watchdog alarm).
**
** The simulator binary comes from $EC20SIM (default build/ec20sim); the
** server script from $FTPSERVER (default scripts/ftpserver). Run from the
** repository root.
*/
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#define USER "test"
#define PASS "s3cret"

static char tmp[256], root[300], troot[300];
static int ftp_port, tls_port;
static pid_t sim_pid = -1;
static volatile pid_t srv_pid[2] = {-1, -1};
static int pty = -1;
static char ctlpath[320];

/* bytes read from the pty and not yet claimed by an expect() */
static unsigned char *acc;
static size_t acc_len, acc_cap;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------ cleanup */

static void on_alarm(int sig)
{
	(void)sig;
	static const char m[] = "# watchdog: test took too long\n";
	ssize_t w = write(1, m, sizeof m - 1);
	(void)w;
	if (sim_pid > 0)
		kill(sim_pid, SIGKILL);
	for (int i = 0; i < 2; i++)
		if (srv_pid[i] > 0)
			kill(srv_pid[i], SIGKILL);
	_exit(1);
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	int rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static const char *ftpserver(void)
{
	const char *e = getenv("FTPSERVER");
	return e && *e ? e : "scripts/ftpserver";
}

static long read_num(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static int start_server(const char *dir, const char *state, int tls, int idx)
{
	char pf[400];
	snprintf(pf, sizeof pf, "%s/port", state);
	/* --watch-pid: the server goes away with us, even if we crash */
	if (sh("%s start %s --user %s --password %s %s --state-dir %s --port-file %s --watch-pid %d "
	       ">/dev/null",
	       ftpserver(), dir, USER, PASS, tls ? "--tls" : "", state, pf, (int)getpid()) != 0)
		return -1;
	char pidf[400];
	snprintf(pidf, sizeof pidf, "%s/ftpd.pid", state);
	srv_pid[idx] = (pid_t)read_num(pidf);
	return (int)read_num(pf);
}

/* ------------------------------------------------------------ the sim */

static char ptypath[256]; /* the pty the simulator announced last */

/* Open the pty the simulator announces in its --pty-file, as a new host
** process would; wait (up to ms) for a path other than `old`. */
static int open_pty(const char *old, int ms)
{
	char pf[320];
	snprintf(pf, sizeof pf, "%s/pty", tmp);
	/* the path file appears atomically once the pty is ready */
	int64_t dl = now_ms() + ms;
	char path[256] = "";
	while (now_ms() < dl) {
		FILE *f = fopen(pf, "r");
		if (f) {
			if (fgets(path, sizeof path, f))
				path[strcspn(path, "\n")] = 0;
			fclose(f);
			if (path[0] && strcmp(path, old))
				break;
			path[0] = 0;
		}
		sleep_ms(10);
	}
	if (!path[0])
		return -1;
	snprintf(ptypath, sizeof ptypath, "%s", path);
	if (pty >= 0)
		close(pty);
	pty = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (pty < 0)
		return -1;
	struct termios t;
	tcgetattr(pty, &t);
	cfmakeraw(&t);
	tcsetattr(pty, TCSANOW, &t);
	acc_len = 0;
	return 0;
}

static int start_sim(const char *const *extra)
{
	char pf[320], log[320];
	const char *bin = getenv("EC20SIM");
	if (!bin || !*bin)
		bin = "build/ec20sim";
	snprintf(pf, sizeof pf, "%s/pty", tmp);
	snprintf(log, sizeof log, "%s/sim.log", tmp);
	snprintf(ctlpath, sizeof ctlpath, "%s/ctl", tmp);
	unlink(pf);
	const char *argv[40];
	int n = 0;
	argv[n++] = bin;
	argv[n++] = "--pty-file";
	argv[n++] = pf;
	argv[n++] = "--control";
	argv[n++] = ctlpath;
	argv[n++] = "--guard-ms";
	argv[n++] = "100";
	argv[n++] = "--timeout-scale";
	argv[n++] = "0.05";
	argv[n++] = "--boot-ms";
	argv[n++] = "200";
	argv[n++] = "--verbose";
	for (int i = 0; extra && extra[i] && n < 38; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	sim_pid = fork();
	if (sim_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the test */
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 2);
			dup2(fd, 1);
		}
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	if (sim_pid < 0)
		return -1;
	return open_pty("", 5000);
}

/* SIGTERM and wait; returns the exit status (-1: did not exit in time) */
static int stop_sim(void)
{
	int st = -1;
	if (pty >= 0)
		close(pty);
	pty = -1;
	if (sim_pid <= 0)
		return -1;
	kill(sim_pid, SIGTERM);
	int64_t dl = now_ms() + 5000;
	while (now_ms() < dl) {
		if (waitpid(sim_pid, &st, WNOHANG) == sim_pid) {
			sim_pid = -1;
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
		sleep_ms(10);
	}
	kill(sim_pid, SIGKILL);
	waitpid(sim_pid, &st, 0);
	sim_pid = -1;
	return -1;
}

static void ctl(const char *cmd)
{
	int fd = open(ctlpath, O_WRONLY | O_NONBLOCK);
	if (fd < 0)
		return;
	char line[256];
	int n = snprintf(line, sizeof line, "%s\n", cmd);
	ssize_t w = write(fd, line, (size_t)n);
	(void)w;
	close(fd);
	sleep_ms(30); /* let the simulator read it before we go on */
}

/* ------------------------------------------------------------- pty I/O */

static void send_raw(const void *p, size_t n)
{
	const unsigned char *c = p;
	int64_t dl = now_ms() + 10000;
	while (n > 0 && now_ms() < dl) {
		ssize_t w = write(pty, c, n);
		if (w > 0) {
			c += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN)
			return;
		/* the pty is full: drain what the simulator said meanwhile */
		struct pollfd pf = {pty, POLLIN | POLLOUT, 0};
		poll(&pf, 1, 50);
		if (pf.revents & POLLIN) {
			if (acc_len + 65536 > acc_cap) {
				acc_cap = (acc_len + 65536) * 2;
				acc = realloc(acc, acc_cap);
			}
			ssize_t r = read(pty, acc + acc_len, 65536);
			if (r > 0)
				acc_len += (size_t)r;
		}
	}
}

static void send_str(const char *s)
{
	send_raw(s, strlen(s));
}

typedef struct blob {
	char *p; /* NUL-terminated, may hold NULs */
	size_t n;
} blob;

/* Read until `needle` has arrived; returns everything up to and including
** it (removed from the pending bytes). On timeout: all pending, ok=0. */
static blob expect(const char *needle, int ms, int *ok)
{
	size_t nl = strlen(needle);
	int64_t dl = now_ms() + ms;
	blob b = {0, 0};
	*ok = 0;
	for (;;) {
		unsigned char *hit = acc_len >= nl ? memmem(acc, acc_len, needle, nl) : NULL;
		if (hit) {
			b.n = (size_t)(hit - acc) + nl;
			*ok = 1;
			break;
		}
		int64_t left = dl - now_ms();
		if (left <= 0) {
			b.n = acc_len;
			break;
		}
		struct pollfd pf = {pty, POLLIN, 0};
		if (poll(&pf, 1, (int)(left < 50 ? left : 50)) > 0) {
			if (acc_len + 65536 > acc_cap) {
				acc_cap = (acc_len + 65536) * 2;
				acc = realloc(acc, acc_cap);
			}
			ssize_t r = read(pty, acc + acc_len, 65536);
			if (r > 0)
				acc_len += (size_t)r;
		}
	}
	b.p = malloc(b.n + 1);
	memcpy(b.p, acc, b.n);
	b.p[b.n] = 0;
	memmove(acc, acc + b.n, acc_len - b.n);
	acc_len -= b.n;
	return b;
}

/* printable, one line: TAP descriptions and diagnostics must not break */
static const char *esc(const char *s, char *buf, size_t len)
{
	size_t o = 0;
	for (; s && *s && o + 5 < len; s++) {
		if (*s == '\r')
			o += (size_t)snprintf(buf + o, len - o, "\\r");
		else if (*s == '\n')
			o += (size_t)snprintf(buf + o, len - o, "\\n");
		else if ((unsigned char)*s < 32 || (unsigned char)*s > 126)
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", (unsigned char)*s);
		else
			buf[o++] = *s;
	}
	buf[o] = 0;
	return buf;
}

/* Send a command and collect the answer up to `until`; when `until` ends
** with ':' (a result URC), up to the end of that line. */
static char *at(const char *cmd, const char *until)
{
	int ok;
	char line[2048];
	snprintf(line, sizeof line, "%s\r", cmd);
	send_str(line);
	blob b = expect(until, 4000, &ok);
	if (ok && until[strlen(until) - 1] == ':') {
		blob r = expect("\r\n", 4000, &ok);
		b.p = realloc(b.p, b.n + r.n + 1);
		memcpy(b.p + b.n, r.p, r.n + 1);
		b.n += r.n;
		free(r.p);
	}
	if (!ok) {
		char e1[100], e2[700];
		printf("# no \"%s\" after %s; got: %s\n", esc(until, e1, sizeof e1), cmd,
		       esc(b.p, e2, sizeof e2));
	}
	return b.p;
}

/* Wait for `until` without sending anything (same rules as at()). */
static char *wait_for(const char *until)
{
	int ok;
	blob b = expect(until, 4000, &ok);
	if (ok && until[strlen(until) - 1] == ':') {
		blob r = expect("\r\n", 4000, &ok);
		b.p = realloc(b.p, b.n + r.n + 1);
		memcpy(b.p + b.n, r.p, r.n + 1);
		b.n += r.n;
		free(r.p);
	}
	if (!ok) {
		char e1[100], e2[700];
		printf("# no \"%s\"; got: %s\n", esc(until, e1, sizeof e1), esc(b.p, e2, sizeof e2));
	}
	return b.p;
}

static int has(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

/* at() and check that the answer contains `want`; frees it */
static void at_ok(const char *cmd, const char *until, const char *want)
{
	char e1[400], e2[600];
	char *r = at(cmd, until);
	if (!ok(has(r, want), "%s -> %s", cmd, esc(want, e1, sizeof e1)))
		printf("#   got: %s\n", esc(r, e2, sizeof e2));
	free(r);
}

static void flush_input(int ms)
{
	int ok_;
	blob b = expect("\x01\x02never\x03", ms, &ok_);
	free(b.p);
}

/* ------------------------------------------------------------ files */

static void write_file(const char *path, const void *d, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (f) {
		fwrite(d, 1, n, f);
		fclose(f);
	}
}

static unsigned char *read_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	*n = 0;
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *p = malloc((size_t)sz + 1);
	*n = fread(p, 1, (size_t)sz, f);
	fclose(f);
	return p;
}

static int file_is(const char *path, const void *d, size_t n)
{
	size_t m;
	unsigned char *p = read_file(path, &m);
	int same = p && m == n && memcmp(p, d, n) == 0;
	if (!same)
		printf("#   %s: %zu bytes, want %zu\n", path, m, n);
	free(p);
	return same;
}

/* wait until the server has written the file completely */
static int wait_file(const char *path, const void *d, size_t n, int ms)
{
	int64_t dl = now_ms() + ms;
	while (now_ms() < dl) {
		size_t m;
		unsigned char *p = read_file(path, &m);
		int same = p && m == n && memcmp(p, d, n) == 0;
		free(p);
		if (same)
			return 1;
		sleep_ms(20);
	}
	return file_is(path, d, n);
}

/* After a dropped upload the server keeps what reached it before the data
** connection died: wait until the file stops growing (stable for 300 ms,
** at most ms) and return its size if it is a prefix of d no longer than
** max, else (size_t)-1. A client resumes from there (SIZE, startpos). */
static size_t wait_stable_prefix(const char *path, const void *d, size_t max, int ms)
{
	int64_t dl = now_ms() + ms, since = now_ms();
	size_t last = (size_t)-1;
	while (now_ms() < dl) {
		size_t m;
		unsigned char *p = read_file(path, &m);
		int prefix = p && m <= max && memcmp(p, d, m) == 0;
		free(p);
		if (!p || m != last) {
			last = p ? m : (size_t)-1;
			since = now_ms();
		} else if (prefix && now_ms() - since >= 300) {
			return m;
		}
		sleep_ms(20);
	}
	return (size_t)-1;
}

static unsigned char *random_bytes(size_t n, unsigned seed)
{
	unsigned char *p = malloc(n);
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (unsigned char)x;
	}
	return p;
}

/* GET to COM: check CONNECT, exactly `n` payload bytes equal to `want`,
** then OK and the +QFTPGET result. */
static void get_exact(const char *cmd, const unsigned char *want, size_t n, const char *what)
{
	int okc, okd;
	char line[512], res[64];
	snprintf(line, sizeof line, "%s\r", cmd);
	send_str(line);
	blob c = expect("\r\nCONNECT\r\n", 5000, &okc);
	free(c.p);
	snprintf(res, sizeof res, "\r\nOK\r\n\r\n+QFTPGET: 0,%zu\r\n", n);
	/* the payload may itself contain "\r\nOK\r\n": count, do not scan */
	int64_t dl = now_ms() + 15000;
	while (acc_len < n + strlen(res) && now_ms() < dl) {
		int o;
		blob b = expect("\x01\x02never\x03", 50, &o);
		/* expect() consumed it: put it back */
		if (acc_len + b.n > acc_cap) {
			acc_cap = (acc_len + b.n) * 2 + 65536;
			acc = realloc(acc, acc_cap);
		}
		memmove(acc + b.n, acc, acc_len);
		memcpy(acc, b.p, b.n);
		acc_len += b.n;
		free(b.p);
	}
	okd = acc_len >= n + strlen(res) && memcmp(acc, want, n) == 0 &&
	      memcmp(acc + n, res, strlen(res)) == 0;
	if (!okd)
	{
		char e[400], t[81];
		size_t k = acc_len > 80 ? 80 : acc_len;
		memcpy(t, acc + acc_len - k, k);
		t[k] = 0;
		printf("#   got %zu bytes after CONNECT; tail: %s\n", acc_len, esc(t, e, sizeof e));
	}
	ok(okc && okd, "%s", what);
	size_t drop = acc_len >= n + strlen(res) ? n + strlen(res) : acc_len;
	memmove(acc, acc + drop, acc_len - drop);
	acc_len -= drop;
}

/* ------------------------------------------------------------ the tests */

static void test_basics(void)
{
	char *r = at("AT", "OK\r\n");
	is_str(r, "AT\r\r\nOK\r\n", "AT echoes the line with its CR, then \\r\\nOK\\r\\n");
	free(r);
	r = at("ATE0", "OK\r\n");
	free(r);
	r = at("AT", "OK\r\n");
	is_str(r, "\r\nOK\r\n", "ATE0: no echo");
	free(r);
	r = at("ATE1", "OK\r\n");
	free(r);
	r = at("ATI", "OK\r\n");
	ok(has(r, "\r\nQuectel\r\nEC20F\r\nRevision: ") && has(r, "\r\n\r\nOK\r\n"), "ATI");
	free(r);
	at_ok("AT+NOSUCH", "ERROR\r\n", "\r\nERROR\r\n");
	at_ok("AT&D1", "OK\r\n", "OK");
	at_ok("AT+IFC=2,2", "OK\r\n", "OK");
	at_ok("AT+IFC?", "OK\r\n", "+IFC: 2,2");
	at_ok("AT+CPIN?", "OK\r\n", "\r\n+CPIN: READY\r\n");
	at_ok("AT+CGATT?", "OK\r\n", "+CGATT: 1");
	at_ok("AT+CGREG?", "OK\r\n", "+CGREG: 0,1");
	at_ok("AT+CMEE?", "OK\r\n", "+CMEE: 1");
	at_ok("AT+QICSGP=1,1,\"UNINET\",\"\",\"\",1", "OK\r\n", "OK");
	at_ok("AT+QICSGP=1", "OK\r\n", "+QICSGP: 1,\"UNINET\",\"\",\"\",1");
	at_ok("ATO", "NO CARRIER\r\n", "NO CARRIER");
}

static void test_forms(void)
{
	static const struct { const char *cmd, *want; } t[] = {
		{"AT+QFTPOPEN=?", "\r\n+QFTPOPEN: <hostname>,<port>\r\n\r\nOK\r\n"},
		{"AT+QFTPCWD=?", "\r\n+QFTPCWD: <path_name>\r\n\r\nOK\r\n"},
		{"AT+QFTPPWD=?", "=?\r\r\nOK\r\n"},
		{"AT+QFTPPUT=?", "\r\n+QFTPPUT: <file_name>,<local_name>,<startpos>,<uploadlen>,<beof>\r\n\r\nOK\r\n"},
		{"AT+QFTPGET=?", "\r\n+QFTPGET: <file_name>,<local_name>,<startpos>,<downloadlen>\r\n\r\nOK\r\n"},
		{"AT+QFTPSIZE=?", "\r\n+QFTPSIZE: <file_name>\r\n\r\nOK\r\n"},
		{"AT+QFTPDEL=?", "\r\n+QFTPDEL: <file_name>\r\n\r\nOK\r\n"},
		{"AT+QFTPMKDIR=?", "\r\n+QFTPMKDIR: <folder_name>\r\n\r\nOK\r\n"},
		{"AT+QFTPRMDIR=?", "\r\n+QFTPRMDIR: <folder_name>\r\n\r\nOK\r\n"},
		{"AT+QFTPLIST=?", "\r\n+QFTPLIST: <dirname>, <local_name>\r\n\r\nOK\r\n"},
		{"AT+QFTPNLST=?", "\r\n+QFTPNLST: <dirname>,<local_name>\r\n\r\nOK\r\n"},
		{"AT+QFTPMLSD=?", "\r\n+QFTPMLSD: <dirname>,<local_name>\r\n\r\nOK\r\n"},
		{"AT+QFTPMDTM=?", "\r\n+QFTPMDTM: <file_name>\r\n\r\nOK\r\n"},
		{"AT+QFTPRENAME=?", "\r\n+QFTPRENAME: <old_name>,<new_name>\r\n\r\nOK\r\n"},
		{"AT+QFTPLEN=?", "=?\r\r\nOK\r\n"},
		{"AT+QFTPSTAT=?", "=?\r\r\nOK\r\n"},
		{"AT+QFTPCLOSE=?", "=?\r\r\nOK\r\n"},
		{"AT+QFTPCFG=?", "\r\n+QFTPCFG: \"account\",<username>,<password>\r\n"
		                 "+QFTPCFG: \"filetype\",(0,1)\r\n+QFTPCFG: \"transmode\",(0,1)\r\n"
		                 "+QFTPCFG: \"contextid\",(1-16)\r\n+QFTPCFG: \"rsptimeout\",(20-180)\r\n"
		                 "+QFTPCFG: \"ssltype\",(0,1)\r\n+QFTPCFG: \"sslctxid\",(0-5)\r\n\r\nOK\r\n"},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		at_ok(t[i].cmd, "OK\r\n", t[i].want);
}

static void test_cfg(void)
{
	at_ok("AT+QFTPCFG=\"filetype\"", "OK\r\n", "\r\n+QFTPCFG: \"filetype\",0\r\n\r\nOK\r\n");
	at_ok("AT+QFTPCFG=\"rsptimeout\"", "OK\r\n", "+QFTPCFG: \"rsptimeout\",90");
	at_ok("AT+QFTPCFG=\"transmode\",1", "OK\r\n", "OK");
	at_ok("AT+QFTPCFG=\"transmode\"", "OK\r\n", "+QFTPCFG: \"transmode\",1");
	at_ok("AT+QFTPCFG=\"contextid\",17", "+CME ERROR:", "+CME ERROR: 610");
	at_ok("AT+QFTPCFG=\"rsptimeout\",19", "+CME ERROR:", "+CME ERROR: 610");
	at_ok("AT+QFTPCFG=\"sslctxid\",6", "+CME ERROR:", "+CME ERROR: 610");
	at_ok("AT+QFTPCFG=\"filetype\",2", "+CME ERROR:", "+CME ERROR: 610");
	at_ok("AT+QFTPCFG=\"nosuch\",1", "+CME ERROR:", "+CME ERROR: 610");
	char cmd[600], name[300];
	memset(name, 'x', 256);
	name[256] = 0;
	snprintf(cmd, sizeof cmd, "AT+QFTPCFG=\"account\",\"%s\",\"p\"", name);
	at_ok(cmd, "+CME ERROR:", "+CME ERROR: 610");
	at_ok("AT+CMEE=2", "OK\r\n", "OK");
	at_ok("AT+QFTPCFG=\"contextid\",0", "+CME ERROR:", "+CME ERROR: Invalid parameter");
	at_ok("AT+CMEE=0", "OK\r\n", "OK");
	at_ok("AT+QFTPCFG=\"contextid\",0", "ERROR\r\n", "\r\nERROR\r\n");
	at_ok("AT+CMEE=1", "OK\r\n", "OK");
	at_ok("AT+QFTPCFG=\"rsptimeout\",20", "OK\r\n", "OK");
	at_ok("AT+QFTPCFG=\"account\",\"" USER "\",\"" PASS "\"", "OK\r\n", "OK");
}

static void test_open(void)
{
	char cmd[200];
	snprintf(cmd, sizeof cmd, "AT+QFTPOPEN=\"127.0.0.1\",%d", ftp_port);
	at_ok(cmd, "+QFTPOPEN:", "OK\r\n\r\n+QFTPOPEN: 605,0\r\n"); /* no PDP yet */
	at_ok("AT+QIACT=1", "OK\r\n", "OK");
	at_ok("AT+QIACT?", "OK\r\n", "\r\n+QIACT: 1,1,1,\"10.7.157.1\"\r\n\r\nOK\r\n");
	at_ok("AT+QFTPOPEN=\"192.0.2.1\",21", "+QFTPOPEN:", "+QFTPOPEN: 604,0");
	at_ok("AT+QFTPOPEN=\"ftp.example.com\",21", "+QFTPOPEN:", "+QFTPOPEN: 604,0");
	at_ok("AT+QFTPCFG=\"account\",\"" USER "\",\"wrong\"", "OK\r\n", "OK");
	at_ok(cmd, "+QFTPOPEN:", "+QFTPOPEN: 625,530"); /* wrong password */
	at_ok("AT+QFTPSTAT", "+QFTPSTAT:", "OK\r\n\r\n+QFTPSTAT: 0,4\r\n");
	at_ok("AT+QFTPCWD=\"/\"", "+QFTPCWD:", "+QFTPCWD: 606,0");
	at_ok("AT+QFTPCFG=\"account\",\"" USER "\",\"" PASS "\"", "OK\r\n", "OK");
	at_ok(cmd, "+QFTPOPEN:", "\r\nOK\r\n\r\n+QFTPOPEN: 0,0\r\n");
	at_ok("AT+QFTPSTAT", "+QFTPSTAT:", "OK\r\n\r\n+QFTPSTAT: 0,1\r\n");
	at_ok(cmd, "+CME ERROR:", "+CME ERROR: 603"); /* already open */
	flush_input(100);
}

static void test_dirs(void)
{
	char p[400];
	at_ok("AT+QFTPPWD", "+QFTPPWD:", "OK\r\n\r\n+QFTPPWD: 0,/\r\n");
	at_ok("AT+QFTPMKDIR=\"TEST\"", "+QFTPMKDIR:", "+QFTPMKDIR: 0,0");
	snprintf(p, sizeof p, "%s/TEST", root);
	struct stat st;
	ok(stat(p, &st) == 0 && S_ISDIR(st.st_mode), "MKDIR made the folder on the server");
	at_ok("AT+QFTPMKDIR=\"TEST\"", "+QFTPMKDIR:", "+QFTPMKDIR: 627,550");
	at_ok("AT+QFTPCWD=\"TEST\"", "+QFTPCWD:", "+QFTPCWD: 0,0");
	at_ok("AT+QFTPPWD", "+QFTPPWD:", "+QFTPPWD: 0,/TEST\r\n");
	at_ok("AT+QFTPCWD=\"nosuch\"", "+QFTPCWD:", "+QFTPCWD: 627,550");
	at_ok("AT+QFTPCWD=\"/\"", "+QFTPCWD:", "+QFTPCWD: 0,0");
	at_ok("AT+QFTPRENAME=\"TEST\",\"TEST_NEW\"", "+QFTPRENAME:", "+QFTPRENAME: 0,0");
	snprintf(p, sizeof p, "%s/TEST_NEW", root);
	ok(stat(p, &st) == 0, "RENAME renamed it on the server");
	at_ok("AT+QFTPRMDIR=\"TEST_NEW\"", "+QFTPRMDIR:", "+QFTPRMDIR: 0,0");
	ok(stat(p, &st) != 0, "RMDIR removed it");
	at_ok("AT+QFTPRMDIR=\"TEST_NEW\"", "+QFTPRMDIR:", "+QFTPRMDIR: 627,550");
}

static void test_files(void)
{
	char p[400];
	snprintf(p, sizeof p, "%s/f.txt", root);
	write_file(p, "0123456789", 10);
	struct utimbuf ut = {1404817239, 1404817239}; /* 2014-07-08 11:00:39 UTC */
	utime(p, &ut);
	at_ok("AT+QFTPSIZE=\"f.txt\"", "+QFTPSIZE:", "OK\r\n\r\n+QFTPSIZE: 0,10\r\n");
	at_ok("AT+QFTPSIZE=\"nosuch.txt\"", "+QFTPSIZE:", "+QFTPSIZE: 627,550");
	at_ok("AT+QFTPMDTM=\"f.txt\"", "+QFTPMDTM:", "+QFTPMDTM: 0,\"20140708110039\"");
	at_ok("AT+QFTPRENAME=\"f.txt\",\"g.txt\"", "+QFTPRENAME:", "+QFTPRENAME: 0,0");
	at_ok("AT+QFTPDEL=\"g.txt\"", "+QFTPDEL:", "+QFTPDEL: 0,0");
	snprintf(p, sizeof p, "%s/g.txt", root);
	ok(access(p, F_OK) != 0, "DEL deleted the file on the server");
	at_ok("AT+QFTPDEL=\"g.txt\"", "+QFTPDEL:", "+QFTPDEL: 627,550");
}

static void test_get(void)
{
	char p[400];
	/* a payload that looks like the module's own framing */
	static const char tricky[] = "head\r\nOK\r\n\r\n+QFTPGET: 0,12\r\n+++tail";
	snprintf(p, sizeof p, "%s/tricky.bin", root);
	write_file(p, tricky, sizeof tricky - 1);
	get_exact("AT+QFTPGET=\"tricky.bin\",\"COM:\"", (const unsigned char *)tricky, sizeof tricky - 1,
	          "GET to COM: payload exact, also when it holds OK and +QFTPGET lines");
	get_exact("AT+QFTPGET=\"tricky.bin\",\"COM:.\",4,6", (const unsigned char *)tricky + 4, 6,
	          "GET \"COM:.\" with startpos 4, downloadlen 6");
	get_exact("AT+QFTPGET=\"tricky.bin\",\"COM:\",30", (const unsigned char *)tricky + 30,
	          sizeof tricky - 1 - 30, "GET with startpos only: the rest of the file");
	at_ok("AT+QFTPLEN", "+QFTPLEN:", "OK\r\n\r\n+QFTPLEN: 0,5\r\n");
	at_ok("AT+QFTPGET=\"nosuch.bin\",\"COM:\"", "+QFTPGET:", "\r\r\n+QFTPGET: 627,550\r\n");
	at_ok("AT+QFTPGET=\"tricky.bin\",\"COM:\",999", "+QFTPGET:", "+QFTPGET: 612,0");
	at_ok("AT+QFTPGET=\"tricky.bin\",\"RAM:t.bin\",4", "+QFTPGET:", "OK\r\n\r\n+QFTPGET: 0,31\r\n");
	at_ok("AT+QFLST=\"RAM:*\"", "OK\r\n", "\r\n+QFLST: \"RAM:t.bin\",31\r\n\r\nOK\r\n");
	at_ok("AT+QFTPGET=\"tricky.bin\",\"UFS:x\"", "+CME ERROR:", "+CME ERROR: 610");
	flush_input(50);
	/* an empty file still gets CONNECT ... OK */
	snprintf(p, sizeof p, "%s/empty.bin", root);
	write_file(p, "", 0);
	get_exact("AT+QFTPGET=\"empty.bin\",\"COM:\"", (const unsigned char *)"", 0, "GET of an empty file");
}

static void test_put(void)
{
	char p[400];
	snprintf(p, sizeof p, "%s/up.bin", root);
	/* uploadlen with beof=0 keeps the data connection; the next consequent
	** PUT continues the same file */
	at_ok("AT+QFTPPUT=\"up.bin\",\"COM:\",0,10,0", "CONNECT\r\n", "\r\nCONNECT\r\n");
	send_str("0123456789");
	char *r = wait_for("+QFTPPUT:");
	ok(has(r, "\r\nOK\r\n\r\n+QFTPPUT: 0,10\r\n"), "PUT uploadlen 10 beof 0: OK then +QFTPPUT: 0,10");
	free(r);
	at_ok("AT+QFTPSTAT", "+QFTPSTAT:", "+QFTPSTAT: 0,2");
	at_ok("AT+QFTPPUT=\"up.bin\",\"COM:\",10,5,1", "CONNECT\r\n", "CONNECT");
	send_str("ABCDE");
	r = wait_for("+QFTPPUT:");
	ok(has(r, "+QFTPPUT: 0,5\r\n"), "consequent PUT beof 1");
	free(r);
	ok(wait_file(p, "0123456789ABCDE", 15, 2000), "server file holds both parts");
	/* startpos: appends where the file ends, refuses elsewhere */
	at_ok("AT+QFTPPUT=\"up.bin\",\"COM:\",15,3,1", "CONNECT\r\n", "CONNECT");
	send_str("xyz");
	r = wait_for("+QFTPPUT:");
	ok(has(r, "+QFTPPUT: 0,3\r\n"), "PUT with startpos at the end of the file");
	free(r);
	ok(wait_file(p, "0123456789ABCDExyz", 18, 2000), "server file resumed");
	at_ok("AT+QFTPPUT=\"up.bin\",\"COM:\",5,3,1", "+QFTPPUT:", "+QFTPPUT: 612,0");

	/* +++ ends an upload only with its guard times; a +++ inside data is data */
	static const char data[] = "abc+++def\r\nOK\r\n+++";
	snprintf(p, sizeof p, "%s/plus.bin", root);
	at_ok("AT+QFTPPUT=\"plus.bin\",\"COM:\",0", "CONNECT\r\n", "CONNECT");
	sleep_ms(150);
	send_str("abc+++def\r\nOK\r\n");
	send_str("+++"); /* right after data: no silence before, so data */
	sleep_ms(250);
	send_str("+++");
	r = wait_for("+QFTPPUT:");
	char want[64];
	snprintf(want, sizeof want, "\r\nOK\r\n\r\n+QFTPPUT: 0,%zu\r\n", sizeof data - 1);
	ok(has(r, want), "PUT ended by +++ after a guard time");
	free(r);
	ok(wait_file(p, data, sizeof data - 1, 2000), "the +++ inside the data reached the file");

	/* RAM: QFUPL (ACK mode), QFLST, QFTPPUT from RAM, QFDWL, QFDEL */
	unsigned char *blk = random_bytes(2100, 7);
	at_ok("AT+QFUPL=\"RAM:r1.bin\",2100,5,1", "CONNECT\r\n", "CONNECT");
	send_raw(blk, 1024);
	int okA;
	blob a = expect("A", 2000, &okA);
	free(a.p);
	send_raw(blk + 1024, 1024);
	blob a2 = expect("A", 2000, &okA);
	free(a2.p);
	send_raw(blk + 2048, 52);
	unsigned ck = 0;
	for (size_t i = 0; i < 2100; i += 2)
		ck ^= (unsigned)blk[i] << 8 | blk[i + 1];
	snprintf(want, sizeof want, "\r\n+QFUPL: 2100,%x\r\n\r\nOK\r\n", ck);
	r = wait_for("OK\r\n");
	ok(okA && has(r, want), "QFUPL with ACK mode: +QFUPL: <size>,<checksum>");
	free(r);
	at_ok("AT+QFUPL=\"RAM:r1.bin\",10", "+CME ERROR:", "+CME ERROR: 407");
	flush_input(50);
	at_ok("AT+QFLST", "OK\r\n", "+QFLST: \"RAM:r1.bin\",2100");
	at_ok("AT+QFTPPUT=\"ram.bin\",\"RAM:r1.bin\",0", "+QFTPPUT:", "OK\r\n\r\n+QFTPPUT: 0,2100\r\n");
	snprintf(p, sizeof p, "%s/ram.bin", root);
	ok(wait_file(p, blk, 2100, 2000), "PUT from RAM: server file exact");
	send_str("AT+QFDWL=\"RAM:r1.bin\"\r");
	blob d = expect("OK\r\n", 3000, &okA);
	snprintf(want, sizeof want, "\r\n+QFDWL: 2100,%x\r\n\r\nOK\r\n", ck);
	char *c = memmem(d.p, d.n, "\r\nCONNECT\r\n", 11);
	ok(c && d.n >= (size_t)(c - d.p) + 11 + 2100 && memcmp(c + 11, blk, 2100) == 0 &&
	   has(c + 11 + 2100, want), "QFDWL: CONNECT, the data, +QFDWL, OK");
	free(d.p);
	at_ok("AT+QFDEL=\"RAM:r1.bin\"", "OK\r\n", "OK");
	at_ok("AT+QFDEL=\"RAM:r1.bin\"", "+CME ERROR:", "+CME ERROR: 405");
	flush_input(50);
	at_ok("AT+QFDEL=\"RAM:*\"", "OK\r\n", "OK");
	at_ok("AT+QFLST=\"RAM:*\"", "OK\r\n", "=\"RAM:*\"\r\r\nOK\r\n");
	free(blk);
}

static void test_lists(void)
{
	char p[400];
	snprintf(p, sizeof p, "%s/list_me.txt", root);
	write_file(p, "x", 1);
	at_ok("AT+QFTPLIST=\".\"", "+QFTPLIST:", "list_me.txt");
	at_ok("AT+QFTPNLST=\".\",\"COM:\"", "+QFTPNLST:", "list_me.txt\n");
	at_ok("AT+QFTPMLSD=\".\"", "+QFTPMLSD:", "type=file;");
	at_ok("AT+QFTPLIST=\".\",\"RAM:l.txt\"", "+QFTPLIST:", "OK\r\n\r\n+QFTPLIST: 0,");
	at_ok("AT+QFTPNLST=\"/\",\"RAM:n.txt\"", "+QFTPNLST:", "+QFTPNLST: 0,");
	at_ok("AT+QFTPMLSD=\"\",\"RAM:m.txt\"", "+QFTPMLSD:", "+QFTPMLSD: 0,");
	char *r = at("AT+QFLST=\"RAM:*\"", "OK\r\n");
	ok(has(r, "\"RAM:l.txt\"") && has(r, "\"RAM:n.txt\"") && has(r, "\"RAM:m.txt\""),
	   "LIST/NLST/MLSD to RAM made RAM files");
	free(r);
	at_ok("AT+QFDWL=\"RAM:n.txt\"", "OK\r\n", "list_me.txt\n");
	at_ok("AT+QFTPLIST=\"nosuchdir\"", "+QFTPLIST:", "+QFTPLIST: 627,550");
	at_ok("AT+QFDEL=\"RAM:*\"", "OK\r\n", "OK");
}

static void test_stream(void)
{
	char p[400];
	size_t n = 1536 * 1024;
	unsigned char *big = random_bytes(n, 3);
	snprintf(p, sizeof p, "%s/big.bin", root);
	write_file(p, big, n);
	int64_t t0 = now_ms();
	get_exact("AT+QFTPGET=\"big.bin\",\"COM:\"", big, n, "GET 1.5 MiB to COM exact");
	printf("# GET 1.5 MiB took %lld ms\n", (long long)(now_ms() - t0));
	snprintf(p, sizeof p, "%s/big2.bin", root);
	char cmd[100];
	snprintf(cmd, sizeof cmd, "AT+QFTPPUT=\"big2.bin\",\"COM:\",0,%zu,1", n);
	t0 = now_ms();
	at_ok(cmd, "CONNECT\r\n", "CONNECT");
	send_raw(big, n);
	char *r = wait_for("+QFTPPUT:");
	char want[64];
	snprintf(want, sizeof want, "+QFTPPUT: 0,%zu\r\n", n);
	ok(has(r, want), "PUT 1.5 MiB with uploadlen");
	free(r);
	ok(wait_file(p, big, n, 3000), "PUT 1.5 MiB: server file exact");
	printf("# PUT 1.5 MiB took %lld ms\n", (long long)(now_ms() - t0));

	/* drop-data: the transfer breaks after exactly N bytes */
	ctl("drop-data 100000");
	send_str("AT+QFTPGET=\"big.bin\",\"COM:\"\r");
	int okc;
	blob b = expect("+QFTPGET: 607,0\r\n", 5000, &okc);
	char *c = memmem(b.p, b.n, "\r\nCONNECT\r\n", 11);
	char *e = b.n > 30 ? memmem(b.p + b.n - 30, 30, "\r\nOK\r\n", 6) : NULL;
	ok(okc && c && e && e - (c + 11) == 100000 && memcmp(c + 11, big, 100000) == 0,
	   "drop-data 100000 mid-GET: 100000 bytes, OK, +QFTPGET: 607,0");
	free(b.p);
	ctl("drop-data 5000");
	snprintf(p, sizeof p, "%s/dd.bin", root);
	at_ok("AT+QFTPPUT=\"dd.bin\",\"COM:\",0,20000,1", "CONNECT\r\n", "CONNECT");
	send_raw(big, 20000);
	r = wait_for("+QFTPPUT:");
	ok(has(r, "\r\nOK\r\n\r\n+QFTPPUT: 607,0\r\n"), "drop-data mid-PUT: +QFTPPUT: 607,0");
	free(r);
	/* curl may have handed the server a little more than the sim counted
	** before the drop: any prefix is fine, the client resumes from it */
	size_t kept = wait_stable_prefix(p, big, 20000, 5000);
	ok(kept != (size_t)-1, "drop-data mid-PUT: the server keeps a prefix of what was sent (%zu bytes)", kept);
	if (kept == (size_t)-1)
		kept = 0;
	/* the rest of what we sent arrived in command mode: end that line */
	send_str("\r");
	flush_input(300);
	/* resume after the drop from what the server has: nothing lost */
	snprintf(cmd, sizeof cmd, "AT+QFTPPUT=\"dd.bin\",\"COM:\",%zu,%zu,1", kept, 20000 - kept);
	at_ok(cmd, "CONNECT\r\n", "CONNECT");
	send_raw(big + kept, 20000 - kept);
	r = wait_for("+QFTPPUT:");
	snprintf(want, sizeof want, "+QFTPPUT: 0,%zu", 20000 - kept);
	ok(has(r, want), "resumed PUT from startpos %zu", kept);
	free(r);
	ok(wait_file(p, big, 20000, 2000), "resumed file exact");

	/* +++ leaves a download, ATO goes back; throttled so it is still going */
	ctl("baud 2000000");
	send_str("AT+QFTPGET=\"big.bin\",\"COM:\",0,300000\r");
	b = expect("\r\nCONNECT\r\n", 3000, &okc);
	free(b.p);
	sleep_ms(150);
	send_str("+++");
	b = expect("\r\nOK\r\n", 3000, &okc);
	size_t got1 = b.n - 6;
	free(b.p);
	at_ok("AT+QFTPSTAT", "+QFTPSTAT:", "+QFTPSTAT: 0,2");
	send_str("ATO\r");
	b = expect("+QFTPGET: 0,300000\r\n", 8000, &okc);
	c = memmem(b.p, b.n, "\r\nCONNECT\r\n", 11);
	size_t got2 = c ? (size_t)(b.p + b.n - (c + 11)) - strlen("\r\nOK\r\n\r\n+QFTPGET: 0,300000\r\n") : 0;
	ok(okc && c && got1 + got2 == 300000, "+++ leaves the download, ATO resumes it (%zu+%zu bytes)", got1,
	   got2);
	free(b.p);
	ctl("baud 0");

	/* pdpdeact mid-transfer: the payload so far, OK, the URC, 605 */
	ctl("after 50000 pdpdeact");
	send_str("AT+QFTPGET=\"big.bin\",\"COM:\"\r");
	b = expect("+QFTPGET: 605,0\r\n", 5000, &okc);
	c = memmem(b.p, b.n, "\r\nCONNECT\r\n", 11);
	static const char tail[] = "\r\nOK\r\n\r\n+QIURC: \"pdpdeact\",1\r\n\r\n+QFTPGET: 605,0\r\n";
	e = c && b.p + b.n >= c + 11 + 50000 + sizeof tail - 1 &&
	            memcmp(c + 11 + 50000, tail, sizeof tail - 1) == 0
	        ? c + 11 + 50000
	        : NULL;
	ok(okc && c && e == c + 11 + 50000, "pdpdeact mid-GET: 50000 bytes, OK, +QIURC, +QFTPGET: 605,0");
	free(b.p);
	at_ok("AT+QIACT?", "OK\r\n", "AT+QIACT?\r\r\nOK\r\n");
	at_ok("AT+QFTPSTAT", "+QFTPSTAT:", "+QFTPSTAT: 0,4");
	at_ok("AT+QIACT=1", "OK\r\n", "OK");
	snprintf(cmd, sizeof cmd, "AT+QFTPOPEN=\"localhost\",%d", ftp_port);
	at_ok(cmd, "+QFTPOPEN:", "+QFTPOPEN: 0,0");
	free(big);
}

/* Leave a download with +++ (throttled so that it is still going), check
** that FTP commands answer at once while it is suspended, and that
** QFTPCLOSE ends it. */
static void suspend_get(const char *cmd)
{
	int okc;
	ctl("baud 2000000");
	send_str(cmd);
	blob b = expect("\r\nCONNECT\r\n", 3000, &okc);
	free(b.p);
	sleep_ms(150);
	send_str("+++");
	b = expect("\r\nOK\r\n", 3000, &okc);
	free(b.p);
	ctl("baud 0");
}

static void test_suspended(void)
{
	char cmd[120];
	snprintf(cmd, sizeof cmd, "AT+QFTPOPEN=\"127.0.0.1\",%d", ftp_port);
	static const char *const how[2] = {"fetched whole by the module",
	                                   "still coming from the server"};
	/* 300000 bytes fit the module's 1 MiB buffer; all of big.bin (1.5 MiB) does not */
	static const char *const get[2] = {"AT+QFTPGET=\"big.bin\",\"COM:\",0,300000\r",
	                                   "AT+QFTPGET=\"big.bin\",\"COM:\"\r"};
	for (int k = 0; k < 2; k++) {
		suspend_get(get[k]);
		at_ok("AT+QFTPSTAT", "+QFTPSTAT:", "+QFTPSTAT: 0,2");
		int64_t t0 = now_ms();
		char *r = at("AT+QFTPPWD", "+CME ERROR:");
		ok(has(r, "+CME ERROR: 603") && now_ms() - t0 < 2000,
		   "suspended download (%s): QFTPPWD answers 603 (busy) at once", how[k]);
		free(r);
		r = at("AT+QFTPCLOSE", "+QFTPCLOSE:");
		ok(has(r, "\r\n+QFTPGET: 616,0\r\n\r\nOK\r\n\r\n+QFTPCLOSE: 0,0\r\n"),
		   "suspended download (%s): QFTPCLOSE aborts it (616), OK, +QFTPCLOSE: 0,0", how[k]);
		free(r);
		at_ok("AT+QFTPSTAT", "+QFTPSTAT:", "+QFTPSTAT: 0,4");
		at_ok("ATO", "NO CARRIER", "NO CARRIER");
		at_ok(cmd, "+QFTPOPEN:", "+QFTPOPEN: 0,0");
	}
}

static void test_faults(void)
{
	char cmd[120];
	/* the host goes silent during an upload: rsptimeout (20 s * 0.05) */
	at_ok("AT+QFTPPUT=\"slow.bin\",\"COM:\",0,100,1", "CONNECT\r\n", "CONNECT");
	send_str("only a part");
	int64_t t0 = now_ms();
	char *r = wait_for("+QFTPPUT:");
	ok(has(r, "\r\nOK\r\n\r\n+QFTPPUT: 609,0\r\n") && now_ms() - t0 >= 800,
	   "silent host during PUT: +QFTPPUT: 609,0 after rsptimeout");
	free(r);
	/* DTR drop ends an upload like +++ */
	at_ok("AT+QFTPPUT=\"dtr.bin\",\"COM:\",0", "CONNECT\r\n", "CONNECT");
	send_str("dtrdata");
	sleep_ms(50);
	ctl("dtr");
	r = wait_for("+QFTPPUT:");
	ok(has(r, "+QFTPPUT: 0,7\r\n"), "DTR drop ends the upload");
	free(r);
	/* drop the control connection */
	ctl("drop-ctrl");
	at_ok("AT+QFTPSTAT", "+QFTPSTAT:", "+QFTPSTAT: 0,4");
	at_ok("AT+QFTPCWD=\"/\"", "+QFTPCWD:", "+QFTPCWD: 606,0");
	at_ok("AT+QFTPGET=\"big.bin\",\"COM:\"", "+QFTPGET:", "\r\r\n+QFTPGET: 606,0\r\n");
	snprintf(cmd, sizeof cmd, "AT+QFTPOPEN=\"127.0.0.1\",%d", ftp_port);
	at_ok(cmd, "+QFTPOPEN:", "+QFTPOPEN: 0,0");
	/* noise between responses */
	ctl("noise 16");
	send_str("AT\r");
	int okn;
	blob nb = expect("OK\r\n", 3000, &okn);
	/* binary-safe: the garbage may hold NUL bytes, never CR or LF */
	ok(okn && nb.n == 16 + 9 && memcmp(nb.p + 16, "AT\r\r\nOK\r\n", 9) == 0 &&
	   !memchr(nb.p, '\r', 16) && !memchr(nb.p, '\n', 16),
	   "noise: 16 bytes of garbage, then the next response");
	free(nb.p);
	/* stall */
	ctl("stall 0.5");
	t0 = now_ms();
	r = at("AT", "OK\r\n");
	ok(has(r, "OK") && now_ms() - t0 >= 400, "stall: no answer for 0.5 s");
	free(r);
	/* quirks: the chapter-3 forms */
	ctl("quirks 1");
	at_ok("AT+QFTPSTAT", "OK\r\n", "\r\n+QFTPSTAT: 0,1\r\n\r\nOK\r\n");
	at_ok("AT+QFTPSIZE=\"big.bin\"", "+QFTPSIZE:", "+QFTPSIZE: 1572864\r\n");
	at_ok("AT+QFTPPWD", "+QFTPPWD:", "+QFTPPWD: 0, \"/\"\r\n");
	at_ok("AT+QFTPLEN", "OK\r\n", "+QFTPLEN: 0,");
	ctl("quirks 0");
	at_ok("AT+QFTPCLOSE", "+QFTPCLOSE:", "OK\r\n\r\n+QFTPCLOSE: 0,0\r\n");
	/* reboot: RDY, all state lost */
	at_ok("AT+QFUPL=\"RAM:keep\",3", "CONNECT\r\n", "CONNECT");
	send_str("abc");
	r = wait_for("OK\r\n");
	free(r);
	ctl("reboot");
	int okr;
	blob b = expect("+QIND: PB DONE\r\n", 3000, &okr);
	ok(okr && has(b.p, "\r\nRDY\r\n") && has(b.p, "+CPIN: READY"), "reboot: RDY and boot URCs");
	free(b.p);
	at_ok("AT", "OK\r\n", "AT\r\r\nOK\r\n");
	at_ok("AT+QIACT?", "OK\r\n", "AT+QIACT?\r\r\nOK\r\n");
	at_ok("AT+QFLST", "OK\r\n", "AT+QFLST\r\r\nOK\r\n");
	at_ok("AT+QFTPCFG=\"rsptimeout\"", "OK\r\n", "+QFTPCFG: \"rsptimeout\",90");
}

static void test_tls(void)
{
	char cmd[200], p[400];
	at_ok("AT+QIACT=1", "OK\r\n", "OK");
	at_ok("AT+QFTPCFG=\"account\",\"" USER "\",\"" PASS "\"", "OK\r\n", "OK");
	at_ok("AT+QFTPCFG=\"ssltype\",1", "OK\r\n", "OK");
	at_ok("AT+QFTPCFG=\"sslctxid\",1", "OK\r\n", "OK");
	at_ok("AT+QSSLCFG=\"seclevel\",1,0", "OK\r\n", "OK");
	snprintf(cmd, sizeof cmd, "AT+QFTPOPEN=\"127.0.0.1\",%d", tls_port);
	at_ok(cmd, "+QFTPOPEN:", "+QFTPOPEN: 0,0");
	at_ok("AT+QFTPPUT=\"s.bin\",\"COM:\",0,6,1", "+QFTPPUT:", "+QFTPPUT: 615,0"); /* active */
	at_ok("AT+QFTPCFG=\"transmode\",1", "OK\r\n", "OK");
	at_ok("AT+QFTPPUT=\"s.bin\",\"COM:\",0,6,1", "CONNECT\r\n", "CONNECT");
	send_str("secret");
	char *r = wait_for("+QFTPPUT:");
	ok(has(r, "+QFTPPUT: 0,6"), "FTPS PUT");
	free(r);
	snprintf(p, sizeof p, "%s/s.bin", troot);
	ok(wait_file(p, "secret", 6, 2000), "FTPS PUT: server file exact");
	get_exact("AT+QFTPGET=\"s.bin\",\"COM:\"", (const unsigned char *)"secret", 6, "FTPS GET");
	at_ok("AT+QFTPNLST=\".\"", "+QFTPNLST:", "s.bin");
	at_ok("AT+QFTPCLOSE", "+QFTPCLOSE:", "+QFTPCLOSE: 0,0");
}

static void test_active(void)
{
	char cmd[200], p[400];
	at_ok("AT+QFTPCFG=\"ssltype\",0", "OK\r\n", "OK");
	at_ok("AT+QFTPCFG=\"transmode\",0", "OK\r\n", "OK");
	snprintf(cmd, sizeof cmd, "AT+QFTPOPEN=\"127.0.0.1\",%d", ftp_port);
	at_ok(cmd, "+QFTPOPEN:", "+QFTPOPEN: 0,0");
	at_ok("AT+QFTPPUT=\"act.bin\",\"COM:\",0,4,1", "CONNECT\r\n", "CONNECT");
	send_str("wxyz");
	char *r = wait_for("+QFTPPUT:");
	ok(has(r, "+QFTPPUT: 0,4"), "active mode PUT");
	free(r);
	snprintf(p, sizeof p, "%s/act.bin", root);
	ok(wait_file(p, "wxyz", 4, 2000), "active mode: server file exact");
	get_exact("AT+QFTPGET=\"act.bin\",\"COM:\"", (const unsigned char *)"wxyz", 4, "active mode GET");
}


/* ------------------------------------------------- module states */

/* wait until AT+QFTPSTAT says `want` (or ms pass); 1 if it did */
static int wait_stat(const char *want, int ms)
{
	int64_t dl = now_ms() + ms;
	int got = 0;
	while (!got && now_ms() < dl) {
		char *r = at("AT+QFTPSTAT", "+QFTPSTAT:");
		got = has(r, want);
		if (has(r, "+QFTPOPEN"))
			printf("# unexpected: %s\n", r);
		free(r);
		if (!got)
			sleep_ms(50);
	}
	return got;
}

static void open_session(void)
{
	char cmd[120];
	snprintf(cmd, sizeof cmd, "AT+QFTPOPEN=\"127.0.0.1\",%d", ftp_port);
	at_ok(cmd, "+QFTPOPEN:", "+QFTPOPEN: 0,0");
}

static void test_verbose_codes(void)
{
	at_ok("ATV0", "\r0\r", "ATV0\r0\r");
	at_ok("AT", "0\r", "AT\r0\r");
	at_ok("AT+CPIN?", "0\r", "AT+CPIN?\r+CPIN: READY\r\n0\r");
	at_ok("AT+NOSUCH", "4\r", "AT+NOSUCH\r4\r");
	at_ok("ATO", "3\r", "ATO\r3\r");
	at_ok("AT+QFTPCFG=\"contextid\",99", "\r\n", "\r+CME ERROR: 610\r\n");
	/* a download in V0: CONNECT is 1, the trailer's OK 0, the URC unframed */
	at_ok("AT+QFTPGET=\"act.bin\",\"COM:\"", "+QFTPGET:", "\r1\rwxyz0\r+QFTPGET: 0,4\r\n");
	at_ok("ATV1", "OK\r\n", "ATV1\r\r\nOK\r\n");
	ctl("verbose-codes 0");
	at_ok("AT", "0\r", "AT\r0\r");
	ctl("verbose-codes 1");
	at_ok("AT", "OK\r\n", "AT\r\r\nOK\r\n");
}

static void test_half_line(void)
{
	ctl("half-line AT+QFTPC");
	at_ok("AT", "ERROR\r\n", "AT\r\r\nERROR\r\n"); /* AT+QFTPCAT: garbage */
	at_ok("AT", "OK\r\n", "AT\r\r\nOK\r\n");
}

static void test_late_and_stall(void)
{
	int ok1;
	at_ok("AT+QFTPCFG=\"rsptimeout\",20", "OK\r\n", "OK"); /* 1 s here (reboot reset it) */
	ctl("late-reply 600");
	int64_t t0 = now_ms();
	send_str("AT\r");
	blob e = expect("AT\r", 400, &ok1);
	free(e.p);
	char *r = wait_for("OK\r\n");
	ok(ok1 && has(r, "\r\nOK\r\n") && now_ms() - t0 >= 500,
	   "late-reply 600: the echo at once, OK 600 ms later (%lld ms)", (long long)(now_ms() - t0));
	free(r);
	ctl("late-reply 600");
	t0 = now_ms();
	r = at("AT+QFTPPWD", "OK\r\n");
	int64_t t1 = now_ms();
	free(r);
	r = wait_for("+QFTPPWD:");
	ok(t1 - t0 < 400 && now_ms() - t0 >= 500 && has(r, "+QFTPPWD: 0,/"),
	   "late-reply 600 on an FTP command: OK at once, its +QFTPPWD 600 ms late");
	free(r);
	/* a stall longer than rsptimeout (20 s * 0.05 = 1 s): the session survives */
	ctl("stall 1.5");
	t0 = now_ms();
	send_str("AT+QFTPPWD\r");
	int okp;
	blob b = expect("+QFTPPWD: 0,/\r\n", 4000, &okp);
	ok(okp && has(b.p, "\r\nOK\r\n") && now_ms() - t0 >= 1300,
	   "stall 1.5 s (> rsptimeout): the command is answered after it (%lld ms)",
	   (long long)(now_ms() - t0));
	free(b.p);
	at_ok("AT+QFTPSTAT", "+QFTPSTAT:", "+QFTPSTAT: 0,1");
}

/* A job's result URC due while the host is part way through a command
** line waits for the line's CR: the echo comes whole, then the URC, then
** the line's answer (found by the SIGKILL test: a dead host's +QFTPPUT
** split the next host's echo, which then never matched). */
static void test_urc_inside_line(void)
{
	send_str("AT+QFTPPWD\rAT+QFTPCFG=");
	char *r = wait_for("OK\r\n");
	free(r);
	sleep_ms(500); /* the PWD job is done meanwhile: its URC is due */
	send_str("\"filetype\",0\r");
	int ok1;
	blob b = expect("\r\nOK\r\n", 3000, &ok1);
	char e[300];
	ok(ok1 && has(b.p, "AT+QFTPCFG=\"filetype\",0\r\r\n+QFTPPWD: 0,/\r\n\r\nOK\r\n"),
	   "a URC due inside a command line comes after its echo, whole: %s", esc(b.p, e, sizeof e));
	free(b.p);
}

static void test_prober(void)
{
	ctl("prober 0.2");
	char *r = wait_for("+GCAP: +CGSM\r\n\r\nOK\r\n");
	ok(has(r, "AT+GCAP\r\r\n+GCAP: +CGSM\r\n\r\nOK\r\n"), "prober: echo and answers of AT+GCAP");
	free(r);
	r = wait_for("EC20F\r\n");
	ok(has(r, "ATI\r\r\nQuectel\r\nEC20F\r\n"), "prober: then ATI");
	free(r);
	/* never inside a payload: a throttled 100000-byte download stays exact */
	size_t n;
	char p[400];
	snprintf(p, sizeof p, "%s/big.bin", root);
	unsigned char *big = read_file(p, &n);
	ctl("prober 0.1");
	flush_input(250);
	ctl("baud 2000000");
	get_exact("AT+QFTPGET=\"big.bin\",\"COM:\",0,100000", big, 100000,
	          "prober: never inside a download's payload");
	ctl("baud 0");
	free(big);
	ctl("prober 0");
	flush_input(300);
	at_ok("AT", "OK\r\n", "AT\r\r\nOK\r\n");
}

static void test_fail_data(void)
{
	ctl("fail-data-615");
	at_ok("AT+QFTPGET=\"act.bin\",\"COM:\"", "+CME ERROR:", "\r\n+CME ERROR: 615\r\n");
	at_ok("AT+QFTPSIZE=\"act.bin\"", "+CME ERROR:", "+CME ERROR: 603");
	at_ok("AT+QFTPPUT=\"x.bin\",\"COM:\",0", "+CME ERROR:", "+CME ERROR: 603");
	at_ok("AT+QFTPCLOSE", "+QFTPCLOSE:", "OK\r\n\r\n+QFTPCLOSE: 0,0\r\n");
	open_session();
}

static void test_close_async(void)
{
	char cmd[120];
	ctl("close-async 500");
	int64_t t0 = now_ms();
	at_ok("AT+QFTPCLOSE", "OK\r\n", "AT+QFTPCLOSE\r\r\nOK\r\n");
	at_ok("AT+QFTPSTAT", "+QFTPSTAT:", "+QFTPSTAT: 0,3");
	snprintf(cmd, sizeof cmd, "AT+QFTPOPEN=\"127.0.0.1\",%d", ftp_port);
	at_ok(cmd, "+CME ERROR:", "+CME ERROR: 603");
	at_ok("AT+QFTPSIZE=\"act.bin\"", "+CME ERROR:", "+CME ERROR: 603");
	char *r = wait_for("+QFTPCLOSE:");
	ok(has(r, "+QFTPCLOSE: 0,0") && now_ms() - t0 >= 450,
	   "close-async 500: +QFTPCLOSE: 0,0 500 ms after OK (%lld ms)", (long long)(now_ms() - t0));
	free(r);
	ctl("close-async 0");
	open_session();
}

static void test_escape_aborts(void)
{
	ctl("escape-aborts 1");
	suspend_get("AT+QFTPGET=\"big.bin\",\"COM:\"\r");
	at_ok("AT+QFTPSTAT", "+QFTPSTAT:", "+QFTPSTAT: 0,1");
	at_ok("ATO", "NO CARRIER", "NO CARRIER");
	at_ok("AT+QFTPSIZE=\"big.bin\"", "+QFTPSIZE:", "+QFTPSIZE: 0,1572864");
	ctl("escape-aborts 0");
}

static void test_stale(void)
{
	char c[200], p[400];
	at_ok("AT+QFTPCLOSE", "+QFTPCLOSE:", "+QFTPCLOSE: 0,0");
	/* an FTP session left open by a host that logged in and died */
	snprintf(c, sizeof c, "session-open 127.0.0.1 %d %s %s", ftp_port, USER, PASS);
	ctl(c);
	ok(open_pty("", 1000) == 0, "a new host opens the pty");
	ok(wait_stat("+QFTPSTAT: 0,1", 3000), "session-open: QFTPSTAT 1, no +QFTPOPEN seen");
	snprintf(c, sizeof c, "AT+QFTPOPEN=\"127.0.0.1\",%d", ftp_port);
	at_ok(c, "+CME ERROR:", "+CME ERROR: 603");
	at_ok("AT+QFTPPWD", "+QFTPPWD:", "+QFTPPWD: 0,/");
	at_ok("AT+QFTPCLOSE", "+QFTPCLOSE:", "OK\r\n\r\n+QFTPCLOSE: 0,0\r\n");
	/* an upload left waiting for bytes (queued behind the login) */
	snprintf(c, sizeof c, "session-open 127.0.0.1 %d %s %s", ftp_port, USER, PASS);
	ctl(c);
	ctl("stale-upload stale.bin");
	ok(open_pty("", 1000) == 0, "a new host opens the pty");
	sleep_ms(300);
	send_str("hello");
	sleep_ms(200);
	send_str("+++");
	char *r = wait_for("+QFTPPUT:");
	ok(!has(r, "CONNECT") && has(r, "\r\nOK\r\n\r\n+QFTPPUT: 0,5\r\n"),
	   "stale-upload: the host's bytes are file data, +++ gives OK, +QFTPPUT: 0,5");
	free(r);
	snprintf(p, sizeof p, "%s/stale.bin", root);
	ok(wait_file(p, "hello", 5, 2000), "stale-upload: server file exact");
	/* ... and left alone: rsptimeout (1 s) ends it with 609 */
	ctl("stale-upload stale2.bin");
	int64_t t0 = now_ms();
	r = wait_for("+QFTPPUT:");
	ok(has(r, "\r\nOK\r\n\r\n+QFTPPUT: 609,0\r\n") && now_ms() - t0 >= 800,
	   "stale-upload left silent: OK, +QFTPPUT: 609,0 after rsptimeout");
	free(r);
	/* a download still streaming to COM: */
	size_t n;
	snprintf(p, sizeof p, "%s/big.bin", root);
	unsigned char *big = read_file(p, &n);
	ctl("baud 2000000");
	ctl("stale-download big.bin");
	ok(open_pty("", 1000) == 0, "a new host opens the pty");
	int okb;
	blob b = expect("\x01\x02never\x03", 300, &okb);
	ok(b.n > 1000 && big && memcmp(b.p, big, b.n) == 0 && !has(b.p, "CONNECT"),
	   "stale-download: the payload flows at once (%zu bytes), no CONNECT", b.n);
	free(b.p);
	sleep_ms(150);
	send_str("+++");
	b = expect("\r\nOK\r\n", 3000, &okb);
	free(b.p);
	ctl("baud 0");
	at_ok("AT+QFTPSTAT", "+QFTPSTAT:", "+QFTPSTAT: 0,2");
	at_ok("AT+QFTPCLOSE", "+QFTPCLOSE:", "+QFTPGET: 616,0\r\n\r\nOK\r\n\r\n+QFTPCLOSE: 0,0\r\n");
	free(big);
	at_ok("AT+QGMR", "ERROR\r\n", "\r\nERROR\r\n"); /* EC20 V1.0: not in its set */
}

static void restart(const char *const *extra, const char *what)
{
	is_int(stop_sim(), 0, "SIGTERM: clean exit 0");
	ok(start_sim(extra) == 0, "ec20sim %s up", what);
}

static void test_boot_sim_busy(void)
{
	static const char *const a[] = {"--fault", "boot-sim-busy 1000 10", "--verbose-codes", "0", NULL};
	restart(a, "--fault 'boot-sim-busy 1000 10' --verbose-codes 0");
	send_str("AT\r");
	int okr;
	blob b = expect("+CFUN: 1\r\n", 3000, &okr);
	int64_t rdy = now_ms(); /* SIM absent (10) for 500 ms, then busy (14) till 1000 */
	ok(okr && !has(b.p, "AT\r") && has(b.p, "RDY\r\n+CFUN: 1\r\n"),
	   "boot-sim-busy: AT before RDY gets no answer; RDY, +CFUN: 1 (V0 framing)");
	free(b.p);
	at_ok("AT+CPIN?", "ERROR: 10\r\n", "AT+CPIN?\r+CME ERROR: 10\r\n");
	at_ok("AT+QIACT=1", "4\r", "AT+QIACT=1\r4\r");
	sleep_ms((int)(750 - (now_ms() - rdy)));
	at_ok("AT+CPIN?", "ERROR: 14\r\n", "AT+CPIN?\r+CME ERROR: 14\r\n");
	char *r = wait_for("+QIND: PB DONE\r\n");
	ok(has(r, "+CPIN: READY\r\n+QUSIM: 1\r\n+QIND: SMS DONE\r\n+QIND: PB DONE\r\n"),
	   "boot-sim-busy: the SIM's URCs when it is ready");
	free(r);
	at_ok("AT+CPIN?", "0\r", "+CPIN: READY\r\n0\r");
	at_ok("AT+QIACT?", "0\r", "AT+QIACT?\r0\r"); /* PDP gone */
}

static void test_models(void)
{
	static const char *const a1[] = {"--model", "EG25-G:01.002.01.002", NULL};
	restart(a1, "--model EG25-G:01.002.01.002");
	at_ok("ATI", "OK\r\n", "\r\nQuectel\r\nEG25\r\nRevision: EG25GGBR07A08M2G\r\n\r\nOK\r\n");
	at_ok("AT+QGMR", "OK\r\n", "\r\nEG25GGBR07A08M2G_01.002.01.002\r\n\r\nOK\r\n");
	at_ok("AT+CGMM", "OK\r\n", "\r\nEG25\r\n\r\nOK\r\n");
	at_ok("AT+GMR", "OK\r\n", "\r\nEG25GGBR07A08M2G\r\n\r\nOK\r\n");
	at_ok("AT+QFTPCFG=?", "OK\r\n", "+QFTPCFG: \"ssltype\",(0-2)\r\n+QFTPCFG: \"sslctxid\",(0-5)\r\n"
	                                "+QFTPCFG: \"data_address\",(0-2)\r\n\r\nOK\r\n");
	at_ok("AT+QFTPCFG=\"restenable\",1", "+CME ERROR:", "+CME ERROR: 610");
	at_ok("AT+QFTPCFG=\"data_address\",2", "OK\r\n", "OK");
	at_ok("AT+QFTPCFG=\"ssltype\",2", "OK\r\n", "OK");
	at_ok("AT+QFTPGET=\"f\",\"ufs:f\"", "+CME ERROR:", "+CME ERROR: 613");

	static const char *const a2[] = {"--model", "EG25-G", NULL};
	restart(a2, "--model EG25-G");
	at_ok("AT+QGMR", "OK\r\n", "EG25GGBR07A08M2G_01.003.01.003\r\n");
	at_ok("AT+QFTPCFG=?", "OK\r\n", "+QFTPCFG: \"data_address\",(0-2)\r\n"
	                                "+QFTPCFG: \"restenable\",(0,1)\r\n\r\nOK\r\n");
	at_ok("AT+QFTPCFG=\"restenable\",1", "OK\r\n", "OK");
	/* ssltype 2 is explicit FTPS (AUTH TLS) on these */
	char cmd[200];
	at_ok("AT+QIACT=1", "OK\r\n", "OK");
	at_ok("AT+QFTPCFG=\"account\",\"" USER "\",\"" PASS "\"", "OK\r\n", "OK");
	at_ok("AT+QFTPCFG=\"ssltype\",2", "OK\r\n", "OK");
	at_ok("AT+QFTPCFG=\"transmode\",1", "OK\r\n", "OK");
	snprintf(cmd, sizeof cmd, "AT+QFTPOPEN=\"127.0.0.1\",%d", tls_port);
	at_ok(cmd, "+QFTPOPEN:", "+QFTPOPEN: 0,0");
	get_exact("AT+QFTPGET=\"s.bin\",\"COM:\"", (const unsigned char *)"secret", 6,
	          "EG25-G: ssltype 2 is explicit FTPS");

	static const char *const a3[] = {"--model", "BG95-M3", NULL};
	restart(a3, "--model BG95-M3");
	at_ok("ATI", "OK\r\n", "\r\nQuectel\r\nBG95-M3\r\nRevision: BG95M3LAR02A03\r\n\r\nOK\r\n");
	at_ok("AT+QGMR", "OK\r\n", "\r\nBG95M3LAR02A03_01.011.01.011\r\n");
	at_ok("AT+QFTPCFG=?", "OK\r\n", "+QFTPCFG: \"data_address\",(0,1)\r\n\r\nOK\r\n");
	at_ok("AT+QFTPCFG=\"data_address\",2", "+CME ERROR:", "+CME ERROR: 610");
	at_ok("AT+QFTPCFG=\"restenable\",0", "+CME ERROR:", "+CME ERROR: 610");

	/* a GSM part: recognised by its ATI, its FTP dialect not simulated */
	static const char *const a4[] = {"--model", "M95", NULL};
	restart(a4, "--model M95");
	at_ok("ATI", "OK\r\n", "\r\nQuectel_Ltd\r\nQuectel_M95\r\nRevision: M95FAR02A08\r\n\r\nOK\r\n");
	at_ok("AT+CGMM", "OK\r\n", "\r\nQuectel_M95\r\n");
	at_ok("AT+QGMR", "ERROR\r\n", "ERROR");
	at_ok("AT+QFTPCFG=?", "ERROR\r\n", "ERROR");
	at_ok("AT+QFTPOPEN=\"127.0.0.1\",21", "ERROR\r\n", "ERROR");
}

static void test_eg800k(void)
{
	char link[320], cmd[200], p[400];
	snprintf(link, sizeof link, "%s/ttyUSB-by-id", tmp);
	char so[120];
	snprintf(so, sizeof so, "127.0.0.1 %d %s %s", ftp_port, USER, PASS);
	static const char *ab[] = {"--model", "EG800K", "--pty-link", NULL, "--session-open", NULL, NULL};
	ab[3] = link;
	ab[5] = so;
	restart(ab, "--model EG800K --pty-link L --session-open '127.0.0.1 PORT USER PASS'");
	ok(wait_stat("+QFTPSTAT: 0,1", 3000), "--session-open: logged in at start, no +QFTPOPEN seen");
	at_ok("AT+QFTPCFG=?", "OK\r\n", "+QFTPCFG: \"contextid\",(1-15)\r\n");
	at_ok("AT+QFTPCFG=?", "OK\r\n", "+QFTPCFG: \"restenable\",(0,1)\r\n+QFTPCFG: \"cache\",(0-2)\r\n\r\nOK\r\n");
	at_ok("AT+QFTPCFG=\"contextid\",16", "+CME ERROR:", "+CME ERROR: 610");
	at_ok("AT+QFTPCFG=\"cache\",2", "OK\r\n", "OK");
	at_ok("AT+QFTPCFG=\"data_address\",2,30", "OK\r\n", "OK");
	at_ok("AT+QFTPCFG=\"account\"", "OK\r\n", "+QFTPCFG: \"account\",\"" USER "\",\"******\"");
	at_ok("AT+QFTPCFG=\"transmode\",1", "OK\r\n", "OK");
	at_ok("AT+QFTPPWD", "+QFTPPWD:", "+QFTPPWD: 0,\"/\"\r\n");
	at_ok("AT+QFTPGET=\"act.bin\",\"UFS:a.bin\"", "+QFTPGET:", "+QFTPGET: 0,4");
	at_ok("AT+QFLST=\"UFS:*\"", "OK\r\n", "+QFLST: \"UFS:a.bin\",4\r\n");
	at_ok("AT+QFTPGET=\"act.bin\",\"ufs:a.bin\"", "+CME ERROR:", "+CME ERROR: 613");
	at_ok("AT+QFTPGET=\"act.bin\",\"RAM:a.bin\"", "+CME ERROR:", "+CME ERROR: 613");
	/* +++ aborts a download for good here (capture 08) */
	suspend_get("AT+QFTPGET=\"big.bin\",\"COM:\"\r");
	at_ok("AT+QFTPSTAT", "+QFTPSTAT:", "+QFTPSTAT: 0,1");
	at_ok("ATO", "NO CARRIER", "NO CARRIER");
	/* the port vanishes and comes back under another name; the module keeps
	** its state */
	char old[256], target[256];
	snprintf(old, sizeof old, "%s", ptypath);
	ctl("vanish 200");
	struct pollfd pf = {pty, POLLIN, 0};
	unsigned char c;
	int gone = poll(&pf, 1, 1000) > 0 && (pf.revents & (POLLHUP | POLLERR) || read(pty, &c, 1) <= 0);
	ok(gone, "vanish: the old pty hangs up");
	ok(open_pty(old, 3000) == 0, "vanish: --pty-file names a new pty (%s)", ptypath);
	ssize_t tl = readlink(link, target, sizeof target - 1);
	if (tl > 0)
		target[tl] = 0;
	ok(tl > 0 && !strcmp(target, ptypath), "vanish: --pty-link points to the new pty");
	close(pty);
	pty = open(link, O_RDWR | O_NOCTTY | O_NONBLOCK);
	at_ok("AT+QFTPSTAT", "+QFTPSTAT:", "+QFTPSTAT: 0,1");
	at_ok("AT+QFTPCFG=\"cache\"", "OK\r\n", "+QFTPCFG: \"cache\",2");
	snprintf(p, sizeof p, "%s/up800.bin", root);
	snprintf(cmd, sizeof cmd, "AT+QFTPPUT=\"up800.bin\",\"UFS:a.bin\",0");
	at_ok(cmd, "+QFTPPUT:", "+QFTPPUT: 0,4");
	ok(wait_file(p, "wxyz", 4, 2000), "EG800K: PUT from UFS: server file exact");
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_alarm);
	alarm(150);
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(tmp, sizeof tmp, "/tmp/test_ec20sim.XXXXXX");
	if (!mkdtemp(tmp)) {
		ok(0, "mkdtemp");
		return tap_done();
	}
	snprintf(root, sizeof root, "%s/root", tmp);
	snprintf(troot, sizeof troot, "%s/troot", tmp);
	mkdir(root, 0755);
	mkdir(troot, 0755);
	char st[320], tst[320];
	snprintf(st, sizeof st, "%s/ftpd", tmp);
	snprintf(tst, sizeof tst, "%s/tftpd", tmp);
	ftp_port = start_server(root, st, 0, 0);
	tls_port = start_server(troot, tst, 1, 1);
	ok(ftp_port > 0 && tls_port > 0, "pyftpdlib servers up (ports %d, %d)", ftp_port, tls_port);
	if (ftp_port > 0 && tls_port > 0) {
		int up = start_sim(NULL) == 0;
		ok(up, "ec20sim up, pty path announced");
		if (up) {
			test_basics();
			test_forms();
			test_cfg();
			test_open();
			test_dirs();
			test_files();
			test_get();
			test_put();
			test_lists();
			test_stream();
			test_suspended();
			test_faults();
			test_tls();
			test_active();
			test_verbose_codes();
			test_half_line();
			test_late_and_stall();
			test_urc_inside_line();
			test_prober();
			test_fail_data();
			test_close_async();
			test_escape_aborts();
			test_stale();
			test_boot_sim_busy();
			test_models();
			test_eg800k();
		}
		is_int(stop_sim(), 0, "SIGTERM: clean exit 0");
	}
	sh("%s stop %s >/dev/null 2>&1", ftpserver(), st);
	sh("%s stop %s >/dev/null 2>&1", ftpserver(), tst);
	srv_pid[0] = srv_pid[1] = -1;
	if (tap_failed)
		printf("# simulator log kept in %s/sim.log\n", tmp);
	else
		sh("rm -rf %s", tmp);
	free(acc);
	return tap_done();
}
