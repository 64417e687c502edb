/*
** ec20sim: a Quectel EC20 on a pseudo-terminal, whose FTP commands
** (AT+QFTP*, EC20 FTP AT Commands Manual V1.0) are carried out against a
** real FTP server with libcurl. See spec/ec20sim/README.md and --help.
**
** This file: options, the pty, the poll loop, output framing, line-rate
** emulation and the control FIFO that injects faults mid-run.
*/
#include "ec20sim.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define IN_CAP (64 * 1024)
#define HELD_CAP (1024 * 1024) /* read during a stall; beyond, the host waits */
#define WRITE_CHUNK (256 * 1024)

/* ---------------------------------------------------------------- sbuf */

static void sb_grow(sbuf *b, size_t n)
{
	if (b->off > 0 && b->off == b->len)
		b->off = b->len = 0;
	if (b->len + n <= b->cap)
		return;
	if (b->off > 0) { /* compact first */
		memmove(b->p, b->p + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		if (b->len + n <= b->cap)
			return;
	}
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + n)
		cap *= 2;
	unsigned char *p = realloc(b->p, cap);
	if (!p) {
		fprintf(stderr, "ec20sim: out of memory\n");
		exit(2);
	}
	b->p = p;
	b->cap = cap;
}

void sb_put(sbuf *b, const void *d, size_t n)
{
	if (!n)
		return;
	sb_grow(b, n);
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

void sb_puts(sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

void sb_printf(sbuf *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof tmp) {
		sb_put(b, tmp, (size_t)n);
		return;
	}
	sb_grow(b, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

size_t sb_size(const sbuf *b)
{
	return b->len - b->off;
}

const unsigned char *sb_data(const sbuf *b)
{
	return b->p + b->off;
}

void sb_drop(sbuf *b, size_t n)
{
	b->off += n;
	if (b->off >= b->len)
		b->off = b->len = 0;
}

void sb_clear(sbuf *b)
{
	b->off = b->len = 0;
}

void sb_free(sbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

/* ------------------------------------------------------------- helpers */

int64_t sim_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int g_verbose;

void sim_log(sim *s, const char *fmt, ...)
{
	(void)s;
	if (!g_verbose)
		return;
	char msg[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	localtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "ec20sim %02d:%02d:%02d.%03ld %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
	        ts.tv_nsec / 1000000, msg);
}

void sim_wake(sim *s)
{
	uint64_t one = 1;
	ssize_t r = write(s->evfd, &one, sizeof one);
	(void)r; /* a full counter is still a pending wake-up */
}

long sim_rsp_ms(const sim *s)
{
	double ms = s->cfg.rsptimeout * 1000.0 * s->o.timeout_scale;
	return ms < 50 ? 50 : (long)ms;
}

int host_is_loopback(const char *host)
{
	unsigned char buf[16];
	char h[256];
	size_t n = strlen(host);
	if (n >= sizeof h)
		return 0;
	if (host[0] == '[' && n > 2 && host[n - 1] == ']') {
		memcpy(h, host + 1, n - 2);
		h[n - 2] = 0;
	} else {
		memcpy(h, host, n + 1);
	}
	if (strcasecmp(h, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, h, buf) == 1)
		return buf[0] == 127;
	if (inet_pton(AF_INET6, h, buf) == 1) {
		static const unsigned char lo[16] = {[15] = 1};
		static const unsigned char v4m[12] = {[10] = 0xff, [11] = 0xff};
		return memcmp(buf, lo, 16) == 0 || (memcmp(buf, v4m, 12) == 0 && buf[12] == 127);
	}
	return 0;
}

/* ---------------------------------------------------------------- output */

/* Log one chunk of AT output, readable, with the account password hidden. */
static void log_out(sim *s, const void *p, size_t n)
{
	if (!g_verbose || n == 0)
		return;
	char t[600];
	size_t o = 0;
	const unsigned char *c = p;
	for (size_t i = 0; i < n && o + 5 < sizeof t; i++) {
		if (c[i] == '\r')
			o += (size_t)snprintf(t + o, sizeof t - o, "\\r");
		else if (c[i] == '\n')
			o += (size_t)snprintf(t + o, sizeof t - o, "\\n");
		else if (c[i] < 32 || c[i] > 126)
			o += (size_t)snprintf(t + o, sizeof t - o, "\\x%02x", c[i]);
		else
			t[o++] = (char)c[i];
	}
	t[o] = 0;
	char *acct = strstr(t, "+QFTPCFG: \"account\",");
	if (acct) {
		char *pw = strchr(acct + 20, ',');
		if (pw)
			snprintf(pw, (size_t)(t + sizeof t - pw), ",\"***\"\\r\\n");
	}
	sim_log(s, "at> %s", t);
}

void out_raw(sim *s, const void *p, size_t n)
{
	if (!s->mute)
		sb_put(&s->out, p, n);
}

/* One line of text framed as ATV says: ATV1 "\r\n<text>\r\n", ATV0
** "<text>\r\n" (V.25ter information text; also URCs and +CME ERROR). */
void out_line(sim *s, sbuf *b, const char *text)
{
	if (s->mute)
		return;
	sb_printf(b, "%s%s\r\n", s->verbose ? "\r\n" : "", text);
}

void out_info(sim *s, const char *fmt, ...)
{
	char tmp[1500];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (s->mute)
		return;
	if (!s->info_open && s->verbose)
		out_raw(s, "\r\n", 2);
	s->info_open = 1;
	sb_puts(&s->out, tmp);
	out_raw(s, "\r\n", 2);
	log_out(s, tmp, strlen(tmp));
}

/* URCs raised in data mode wait in `deferred` until data mode ends, those
** raised inside a command line until its CR (at_urcs_wait). */
void out_urc(sim *s, const char *fmt, ...)
{
	char tmp[1500];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (s->mute)
		return;
	out_line(s, at_urcs_wait(s) ? &s->deferred : &s->out, tmp);
	log_out(s, tmp, strlen(tmp));
}

/* A result code; with ATV0 the basic ones are numbers: "<n>\r". */
void out_final(sim *s, const char *text)
{
	static const char *const basic[] = {"OK", "CONNECT", "RING", "NO CARRIER", "ERROR"};
	s->info_open = 0;
	if (s->mute)
		return;
	log_out(s, text, strlen(text));
	if (!s->verbose)
		for (int i = 0; i < 5; i++)
			if (!strcmp(text, basic[i])) {
				sb_printf(&s->out, "%d\r", i);
				return;
			}
	out_line(s, &s->out, text);
}

/* late-reply: what is queued past `mark` reaches the host ms later */
void hold_output(sim *s, size_t mark, int ms)
{
	int64_t until = sim_now() + ms;
	if (s->hold_until > sim_now()) {
		if (until > s->hold_until)
			s->hold_until = until;
		return;
	}
	s->hold_mark = mark;
	s->hold_until = until;
}

static const char *cme_text(int code)
{
	static const struct { int code; const char *text; } t[] = {
		{3, "operation not allowed"}, {4, "operation not supported"},
		{10, "SIM not inserted"}, {50, "Incorrect parameters"}, {100, "unknown"},
		{400, "Invalid input value"}, {401, "Larger than the size of the file"},
		{402, "Read zero byte"}, {403, "Drive full"}, {405, "File not found"},
		{406, "Invalid file name"}, {407, "File already existed"},
		{409, "Fail to write the file"}, {410, "Fail to open the file"},
		{413, "Reach the max number of file allowed to be opened"},
		{416, "Invalid file descriptor"}, {420, "No space"}, {421, "Time out"},
		{423, "File too large"}, {426, "File already opened"},
		{552, "Invalid parameters"}, {561, "Open PDP context failed"},
		{601, "Unknown error"}, {602, "FTP service would block"}, {603, "FTP service busy"},
		{604, "DNS parse fails"}, {605, "Network error"}, {606, "Control connection closed"},
		{607, "Data connection closed"}, {608, "Socket closed by peer"}, {609, "Timeout error"},
		{610, "Invalid parameter"}, {611, "Fail to open file"}, {612, "File position invalid"},
		{613, "File error"}, {614, "Service not available, closing control connection"},
		{615, "Open data connection fails"}, {616, "Connection closed; transfer aborted"},
		{617, "Requested file action not taken"},
		{618, "Requested action aborted: local error in processing"},
		{619, "Requested action not taken: insufficient system storage"},
		{620, "Syntax error, command unrecognized"},
		{621, "Syntax error in parameters or arguments"}, {622, "Command not implemented"},
		{623, "Bad sequence of commands"}, {624, "Command parameter not implemented"},
		{625, "Not logged in"}, {626, "Need account for storing files"},
		{627, "Requested action not taken."}, {628, "Requested action aborted: page type unknown"},
		{629, "Requested file action aborted"}, {630, "Requested file name invalid"},
		{631, "SSL auth fail"},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (t[i].code == code)
			return t[i].text;
	return "unknown";
}

void out_cme(sim *s, int code)
{
	char t[128];
	if (s->cmee == 0)
		snprintf(t, sizeof t, "ERROR");
	else if (s->cmee == 2)
		snprintf(t, sizeof t, "+CME ERROR: %s", cme_text(code));
	else
		snprintf(t, sizeof t, "+CME ERROR: %d", code);
	out_final(s, t);
}

/* ------------------------------------------------------------- control */

static void pty_vanish(sim *s, int ms);

static int parse_ll(const char *p, long long *v)
{
	char *e;
	errno = 0;
	long long x = strtoll(p, &e, 10);
	if (errno || e == p || x < 0)
		return -1;
	while (*e == ' ')
		e++;
	if (*e)
		return -1;
	*v = x;
	return 0;
}

/* One control command (FIFO line or --fault). Returns 0, or -1 with err. */
int sim_ctl_exec(sim *s, const char *cmd, char *err, size_t errlen)
{
	char w[32] = "";
	const char *arg;
	long long v = -1;
	while (*cmd == ' ' || *cmd == '\t')
		cmd++;
	if (!*cmd || *cmd == '#')
		return 0;
	size_t k = strcspn(cmd, " \t");
	if (k >= sizeof w)
		k = sizeof w - 1;
	memcpy(w, cmd, k);
	w[k] = 0;
	arg = cmd + k;
	while (*arg == ' ' || *arg == '\t')
		arg++;
	sim_log(s, "control: %s", cmd);

	if (!strcmp(w, "drop-data") || !strcmp(w, "drop-ctrl")) {
		if (*arg && parse_ll(arg, &v) < 0)
			goto bad;
		if (!strcmp(w, "drop-data")) {
			pthread_mutex_lock(&s->fmu);
			s->drop_data_at = v < 0 ? 0 : v;
			pthread_mutex_unlock(&s->fmu);
		} else if (v >= 0) {
			pthread_mutex_lock(&s->fmu);
			s->drop_ctrl_at = v;
			pthread_mutex_unlock(&s->fmu);
		} else {
			ftp_shutdown_ctrl(s);
			if (s->cur && s->cur->gen == s->gen)
				ftp_abort(s, s->cur, 606);
			if (s->ftpstat != 4) {
				s->ftpstat = 4;
				s->parked = 0;
				ftp_submit(s, job_new(s, J_RESET));
			}
		}
	} else if (!strcmp(w, "after")) {
		const char *rest;
		char num[32];
		size_t nk = strcspn(arg, " \t");
		if (nk == 0 || nk >= sizeof num)
			goto bad;
		memcpy(num, arg, nk);
		num[nk] = 0;
		rest = arg + nk;
		while (*rest == ' ' || *rest == '\t')
			rest++;
		if (parse_ll(num, &v) < 0 || !*rest || !strncmp(rest, "after", 5))
			goto bad;
		pthread_mutex_lock(&s->fmu);
		s->after_at = v;
		snprintf(s->after_cmd, sizeof s->after_cmd, "%s", rest);
		pthread_mutex_unlock(&s->fmu);
	} else if (!strcmp(w, "stall")) {
		char *e;
		double t = strtod(arg, &e);
		if (e == arg || t < 0)
			goto bad;
		s->stall_until = sim_now() + (int64_t)(t * 1000);
	} else if (!strcmp(w, "pdpdeact")) {
		at_pdp_deact(s);
	} else if (!strcmp(w, "reboot")) {
		at_reboot(s);
	} else if (!strcmp(w, "noise")) {
		if (parse_ll(arg, &v) < 0)
			goto bad;
		s->noise_pending += (long)v;
	} else if (!strcmp(w, "dtr")) {
		at_dtr_drop(s);
	} else if (!strcmp(w, "baud")) {
		if (parse_ll(arg, &v) < 0)
			goto bad;
		s->o.baud = (long)v;
	} else if (!strcmp(w, "quirks")) {
		if (parse_ll(arg, &v) < 0 || v > 1)
			goto bad;
		s->o.quirks = (int)v;
	} else if (!strcmp(w, "clear")) {
		pthread_mutex_lock(&s->fmu);
		s->drop_data_at = s->drop_ctrl_at = s->after_at = -1;
		pthread_mutex_unlock(&s->fmu);
		s->stall_until = 0;
		s->noise_pending = 0;
		s->late_ms = s->fail_data = s->prober_ms = 0;
		s->after_open[0] = 0;
	} else if (!strcmp(w, "vanish")) {
		if (parse_ll(arg, &v) < 0 || v > 600000)
			goto bad;
		pty_vanish(s, (int)v);
	} else {
		int r = state_ctl(s, w, arg, err, errlen);
		if (r == 0)
			r = network_ctl(s, w, arg, err, errlen);
		if (r < 0)
			return -1;
		if (r == 0) {
			snprintf(err, errlen, "unknown control command '%s'", w);
			return -1;
		}
	}
	return 0;
bad:
	snprintf(err, errlen, "bad argument for '%s': '%s'", w, arg);
	return -1;
}

static char ctl_buf[1024];
static size_t ctl_len;

static void ctl_read(sim *s)
{
	char buf[512];
	ssize_t n;
	while ((n = read(s->ctlfd, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n' || buf[i] == '\r') {
				char err[200];
				ctl_buf[ctl_len] = 0;
				if (sim_ctl_exec(s, ctl_buf, err, sizeof err) < 0)
					fprintf(stderr, "ec20sim: control: %s\n", err);
				ctl_len = 0;
			} else if (ctl_len + 1 < sizeof ctl_buf) {
				ctl_buf[ctl_len++] = buf[i];
			}
		}
	}
}

/* ----------------------------------------------------------------- pty */

static int write_file_atomic(const char *path, const char *text)
{
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -1;
	fputs(text, f);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Tell where the pty is: --pty-file (atomically) or stdout, and the
** --pty-link symlink (made beside it, then renamed over it: atomic too). */
static int announce_pty(sim *s, const char *name)
{
	if (s->o.pty_file) {
		char line[300];
		snprintf(line, sizeof line, "%s\n", name);
		if (write_file_atomic(s->o.pty_file, line) < 0) {
			perror("ec20sim: --pty-file");
			return -1;
		}
	} else {
		printf("%s\n", name);
		fflush(stdout);
	}
	if (s->o.pty_link) {
		char tmp[4096];
		snprintf(tmp, sizeof tmp, "%s.tmp.%d", s->o.pty_link, (int)getpid());
		unlink(tmp);
		if (symlink(name, tmp) < 0 || rename(tmp, s->o.pty_link) < 0) {
			perror("ec20sim: --pty-link");
			unlink(tmp);
			return -1;
		}
	}
	sim_log(s, "pty %s", name);
	return 0;
}

static int open_pty(sim *s, char *name, size_t len)
{
	s->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s->master < 0 || grantpt(s->master) < 0 || unlockpt(s->master) < 0)
		return -1;
	if (ptsname_r(s->master, name, len) != 0)
		return -1;
	/* Hold the slave open: no EIO/hang-up while no client has it, and a
	** client may close and reopen it. Raw, so nothing is echoed back. */
	s->slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s->slave < 0)
		return -1;
	struct termios t;
	if (tcgetattr(s->slave, &t) == 0) {
		cfmakeraw(&t);
		cfsetispeed(&t, B115200);
		cfsetospeed(&t, B115200);
		tcsetattr(s->slave, TCSANOW, &t);
	}
	if (s->o.exit_on_hangup) {
		close(s->slave);
		s->slave = -1;
	}
	fcntl(s->master, F_SETFL, fcntl(s->master, F_GETFL) | O_NONBLOCK);
	return 0;
}

/* The port disappears (a USB modem re-enumerating): clients get EIO and a
** hang-up; what was not sent yet is lost with it. The module goes on. */
static void pty_vanish(sim *s, int ms)
{
	if (s->master >= 0) {
		sim_log(s, "vanish: the pty goes away for %d ms", ms);
		close(s->master);
		if (s->slave >= 0)
			close(s->slave);
		s->master = s->slave = -1;
		sb_clear(&s->out);
		s->hold_until = 0;
		s->plus_n = 0;
	}
	s->vanish_until = sim_now() + ms;
}

/* ... and comes back under another name, announced like the first. */
static int pty_return(sim *s)
{
	char name[256];
	s->vanish_until = 0;
	s->client_seen = 0;
	if (open_pty(s, name, sizeof name) < 0) {
		perror("ec20sim: pty");
		return -1;
	}
	return announce_pty(s, name);
}

/* ------------------------------------------------------------ the loop */

static void tokens_refill(sim *s, int64_t now)
{
	if (s->o.baud <= 0)
		return;
	double rate = s->o.baud / 10.0; /* 8N1: ten bits a byte */
	double burst = rate / 50 > 64 ? rate / 50 : 64;
	double dt = (double)(now - s->tok_t) / 1000.0;
	s->tok_t = now;
	s->tok_out += dt * rate;
	s->tok_in += dt * rate;
	if (s->tok_out > burst)
		s->tok_out = burst;
	if (s->tok_in > burst)
		s->tok_in = burst;
}

static size_t budget(sim *s, double tok, size_t want)
{
	if (s->o.baud <= 0)
		return want;
	if (tok < 1)
		return 0;
	return (size_t)tok < want ? (size_t)tok : want;
}

static void spend(sim *s, double *tok, size_t n)
{
	if (s->o.baud > 0)
		*tok -= (double)n;
}

static int holding(const sim *s)
{
	return s->hold_until > 0 && sim_now() < s->hold_until;
}

static int have_output(sim *s)
{
	if (s->master < 0)
		return 0;
	if (sb_size(&s->out))
		return !holding(s) || s->hold_mark > 0;
	return s->state == ST_DATA_OUT && ring_len(&s->ring) > 0;
}

static void pty_write(sim *s)
{
	for (;;) {
		const unsigned char *p;
		size_t n;
		int from_ring = 0;
		int held = holding(s);
		if (sb_size(&s->out)) {
			p = sb_data(&s->out);
			n = sb_size(&s->out);
			if (held && n > s->hold_mark)
				n = s->hold_mark; /* late-reply: the rest waits */
		} else if (s->state == ST_DATA_OUT) {
			n = ring_peek(&s->ring, &p);
			from_ring = 1;
		} else {
			n = 0;
		}
		if (n == 0)
			break;
		if (n > WRITE_CHUNK)
			n = WRITE_CHUNK;
		n = budget(s, s->tok_out, n);
		if (n == 0)
			break;
		ssize_t w = write(s->master, p, n);
		if (w <= 0)
			break;
		spend(s, &s->tok_out, (size_t)w);
		if (from_ring) {
			ring_consume(&s->ring, (size_t)w);
			at_after_output(s);
		} else {
			sb_drop(&s->out, (size_t)w);
			if (held)
				s->hold_mark -= (size_t)w;
		}
		if ((size_t)w < n)
			break;
	}
}

/* Keep what the host sent during a stall (or while older kept bytes wait). */
static void hold(sim *s, const unsigned char *buf, size_t n, int64_t now)
{
	int last = (s->held_head + s->held_n - 1) % SIM_HELD_CHUNKS;
	if (s->held_n > 0 && (s->held_n == SIM_HELD_CHUNKS || s->held_t[last] == now)) {
		/* no slot left (or the same ms): join the last read; bytes that
		** look earlier only ever make a "+++" look glued, never free */
		s->held_len[last] += n;
	} else {
		int k = (s->held_head + s->held_n++) % SIM_HELD_CHUNKS;
		s->held_len[k] = n;
		s->held_t[k] = now;
	}
	sb_put(&s->held, buf, n);
	if (s->state == ST_DATA_IN)
		s->act_t = now; /* the host is not silent (rsptimeout) */
}

/* After a stall: hand the kept bytes over one read at a time, each with
** its own arrival time, as fast as the AT layer takes them. */
static void unhold(sim *s)
{
	while (s->held_n > 0) {
		if (sb_size(&s->in)) {
			at_consume(s);
			if (sb_size(&s->in))
				return; /* not taken yet (ring full, ...): next round */
		}
		size_t lim = at_read_limit(s);
		size_t *len = &s->held_len[s->held_head];
		size_t take = *len < lim ? *len : lim;
		if (take > IN_CAP)
			take = IN_CAP;
		if (take == 0)
			return;
		sb_put(&s->in, sb_data(&s->held), take);
		sb_drop(&s->held, take);
		s->in_t = s->held_t[s->held_head];
		if ((*len -= take) == 0) {
			s->held_head = (s->held_head + 1) % SIM_HELD_CHUNKS;
			s->held_n--;
		}
		at_consume(s);
	}
}

static void pty_read(sim *s, int64_t now, int stalled)
{
	int keep = stalled || s->held_n > 0;
	size_t lim = keep ? HELD_CAP : at_read_limit(s);
	size_t used = keep ? sb_size(&s->held) : sb_size(&s->in);
	size_t cap = keep ? HELD_CAP : IN_CAP;
	size_t room = cap > used ? cap - used : 0;
	if (lim > room)
		lim = room;
	if (lim > IN_CAP)
		lim = IN_CAP; /* the stack buffer below */
	lim = budget(s, s->tok_in, lim);
	if (lim == 0)
		return;
	unsigned char buf[IN_CAP];
	/* Take all that waits (a pty hands out ~4 KiB a read): what stays in the
	** pty would be stamped later than the host wrote it (see data_in_ftp). */
	ssize_t n = 0;
	while ((size_t)n < lim) {
		ssize_t k = read(s->master, buf + n, lim - (size_t)n);
		if (k <= 0)
			break;
		n += k;
	}
	if (n <= 0)
		return;
	spend(s, &s->tok_in, (size_t)n);
	s->client_seen = 1;
	if (s->state == ST_BOOTING)
		return; /* nobody listens while the module boots */
	if (g_verbose && !at_in_data_mode(s)) {
		char t[200];
		size_t o = 0;
		for (ssize_t i = 0; i < n && o + 5 < sizeof t; i++) {
			unsigned char c = buf[i];
			if (c == '\r')
				o += (size_t)snprintf(t + o, sizeof t - o, "\\r");
			else if (c == '\n')
				o += (size_t)snprintf(t + o, sizeof t - o, "\\n");
			else if (c < 32 || c > 126)
				o += (size_t)snprintf(t + o, sizeof t - o, "\\x%02x", c);
			else
				t[o++] = (char)c;
		}
		t[o] = 0;
		char *acct = strcasestr(t, "QFTPCFG=\"account\"");
		if (acct) {
			char *pw = strchr(acct + 17, ',');
			pw = pw ? strchr(pw + 1, ',') : NULL;
			if (pw)
				snprintf(pw, (size_t)(t + sizeof t - pw), ",\"***\"");
		}
		sim_log(s, "at< %s", t);
	}
	if (keep) {
		hold(s, buf, (size_t)n, now);
		return;
	}
	s->in_t = now;
	sb_put(&s->in, buf, (size_t)n);
}

static void emit_noise(sim *s)
{
	if (!s->noise_pending || at_in_data_mode(s) || s->state == ST_BOOTING ||
	    s->state == ST_WAIT_CONNECT)
		return;
	/* garbage between responses: random bytes, no CR/LF, so it sticks to
	** the next line the host reads */
	while (s->noise_pending > 0) {
		s->rng = s->rng * 1103515245u + 12345u;
		unsigned char c = (unsigned char)(s->rng >> 16);
		if (c == '\r' || c == '\n')
			continue;
		out_raw(s, &c, 1);
		s->noise_pending--;
	}
}

static volatile sig_atomic_t g_sig;

static int run(sim *s)
{
	while (s->running) {
		int64_t now = sim_now();
		sim_event *e;
		while ((e = ftp_next_event(s))) {
			at_on_event(s, e);
			free(e);
		}
		tokens_refill(s, now);
		int stalled = now < s->stall_until;
		if (!stalled)
			unhold(s);
		at_tick(s);
		state_tick(s);
		at_consume(s);
		emit_noise(s);
		if (s->master < 0 && now >= s->vanish_until && pty_return(s) < 0)
			return 1;

		struct pollfd pf[4];
		int np = 0;
		pf[np].fd = s->master;
		pf[np].events = 0;
		if (stalled || s->held_n > 0) {
			if (sb_size(&s->held) < HELD_CAP && (s->o.baud <= 0 || s->tok_in >= 1))
				pf[np].events |= POLLIN; /* kept, not taken (see hold) */
		} else if (at_read_limit(s) > 0 && sb_size(&s->in) < IN_CAP &&
		           (s->o.baud <= 0 || s->tok_in >= 1)) {
			pf[np].events |= POLLIN;
		}
		if (!stalled && have_output(s) && (s->o.baud <= 0 || s->tok_out >= 1))
			pf[np].events |= POLLOUT;
		int ipty = np++;
		pf[np].fd = s->evfd;
		pf[np].events = POLLIN;
		int iev = np++;
		pf[np].fd = s->sigfd;
		pf[np].events = POLLIN;
		int isig = np++;
		int ictl = -1;
		if (s->ctlfd >= 0) {
			pf[np].fd = s->ctlfd;
			pf[np].events = POLLIN;
			ictl = np++;
		}
		int64_t timeout = 1000;
		if (stalled && s->stall_until - now < timeout)
			timeout = s->stall_until - now;
		int64_t dls[4] = {at_next_deadline(s), state_deadline(s),
		                  holding(s) ? s->hold_until : -1, s->master < 0 ? s->vanish_until : -1};
		for (int k = 0; k < 4; k++)
			if (dls[k] >= 0 && dls[k] - now < timeout)
				timeout = dls[k] - now < 0 ? 0 : dls[k] - now;
		if (s->o.baud > 0 && !stalled) {
			int starved = (have_output(s) && s->tok_out < 1) ||
			              (at_read_limit(s) > 0 && s->tok_in < 1);
			if (starved && timeout > 2)
				timeout = 2;
		}
		if (s->o.exit_on_hangup && !s->client_seen && timeout > 50)
			timeout = 50;
		int r = poll(pf, (nfds_t)np, (int)timeout);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			perror("ec20sim: poll");
			return 1;
		}
		now = sim_now();
		if (pf[isig].revents & POLLIN) {
			struct signalfd_siginfo si;
			memset(&si, 0, sizeof si);
			if (read(s->sigfd, &si, sizeof si) > 0)
				g_sig = (int)si.ssi_signo;
			sim_log(s, "signal %d from pid %d: stopping", (int)g_sig, (int)si.ssi_pid);
			s->running = 0;
			break;
		}
		if (pf[iev].revents & POLLIN) {
			uint64_t v;
			ssize_t rr = read(s->evfd, &v, sizeof v);
			(void)rr;
		}
		if (ictl >= 0 && (pf[ictl].revents & POLLIN))
			ctl_read(s);
		if (pf[ipty].revents & POLLHUP) {
			/* only seen with --exit-on-hangup: no one holds the slave */
			if (s->client_seen) {
				sim_log(s, "client hung up: stopping");
				s->running = 0;
				break;
			}
		}
		if (pf[ipty].revents & POLLIN)
			pty_read(s, now, now < s->stall_until);
		if (pf[ipty].revents & POLLOUT)
			pty_write(s);
	}
	return 0;
}

/* -------------------------------------------------------------- options */

static void usage(FILE *f)
{
	fputs(
"usage: ec20sim [options]\n"
"A Quectel EC20 on a pseudo-terminal: AT commands per the EC20 FTP AT Commands\n"
"Manual; the FTP work is done for real with libcurl against the server named\n"
"in AT+QFTPOPEN=<host>,<port>. Prints the pty path (one line) on stdout, or\n"
"writes it to --pty-file; runs until SIGTERM/SIGINT.\n"
"\n"
"options:\n"
"  --pty-file FILE      write the pty path to FILE (atomically) instead of stdout\n"
"  --control FIFO       create FIFO and read control commands from it (below)\n"
"  --guard-ms N         '+++' guard time in ms (manual: 1000; tests use ~100)\n"
"  --timeout-scale F    multiply AT+QFTPCFG=\"rsptimeout\" by F (e.g. 0.05)\n"
"  --baud N             emulate an N baud line (N/10 bytes/s each way); 0 = off\n"
"  --quirks             answer in the chapter-3 example forms: +QFTPSTAT/+QFTPLEN\n"
"                       before OK, '+QFTPSIZE: <size>', '+QFTPPWD: 0, \"<dir>\"'\n"
"  --allow-remote       allow FTP servers outside 127.0.0.0/8 and ::1\n"
"                       (without it AT+QFTPOPEN answers +QFTPOPEN: 604,0)\n"
"  --pdp-active         start with PDP context 1 active (no AT+QIACT=1 needed)\n"
"  --boot-urcs          print RDY and the boot URCs at start, like a power-on\n"
"  --boot-ms N          reboot fault: silent time before RDY (default 500)\n"
"  --ram-size BYTES     size of the RAM: drive (default 8388608)\n"
"  --exit-on-hangup     do not hold the pty slave; exit when the client closes it\n"
"  --model NAME[:BUILD] EC20 (default), EG25-G[:01.003.01.003|01.002.01.002|\n"
"                       30.203.30.203|A0.301.A0.301], EG800K, BG95-M3\n"
"  --pty-link PATH      keep a symlink PATH to the pty (re-pointed after vanish)\n"
"  --verbose-codes 0    numeric result codes (ATV0) at power-on and after reboots\n"
"  --close-async MS     QFTPCLOSE: OK, then +QFTPCLOSE MS later; 603 meanwhile\n"
"  --escape-aborts 0|1  +++ aborts a download (default: the model's)\n"
"  --fault CMD          run control command CMD at start (repeatable)\n"
"  --drop-data-after N  same as --fault 'drop-data N'\n"
"  --drop-ctrl-after N  same as --fault 'drop-ctrl N'\n"
"  --noise N            same as --fault 'noise N'; likewise --session-open ARGS,\n"
"                       --stale-upload F, --stale-download F, --boot-sim-busy MS,\n"
"                       --half-line TEXT, --prober S, --fail-data-615\n"
"  --verbose            log AT traffic and FTP replies to stderr (passwords hidden)\n"
"  --help               this text\n"
"\n"
"control commands (one per line on the FIFO; byte counts are payload bytes of\n"
"the transfer in progress, or of the next one; every fault fires once):\n"
"  drop-data [N]        the FTP data connection dies after N bytes (default 0);\n"
"                       the transfer ends with +QFTPGET/+QFTPPUT: 607,0\n"
"  drop-ctrl [N]        the control connection dies now, or after N bytes of a\n"
"                       transfer; results 606,0; AT+QFTPSTAT then shows 4\n"
"  after N CMD          run control command CMD when a transfer reaches N bytes\n"
"                       (the transfer is held at exactly N until CMD has run)\n"
"  stall T              take nothing and say nothing for T seconds (what the\n"
"                       host sends meanwhile is kept and taken after it)\n"
"  pdpdeact             +QIURC: \"pdpdeact\",<ctx>: context down, FTP session gone,\n"
"                       a transfer in progress ends with 605,0\n"
"  reboot               all state lost, data mode dropped, then RDY and boot URCs\n"
"  noise N              N random bytes (no CR/LF) between responses, never\n"
"                       inside data-mode payload\n"
"  dtr                  DTR ON->OFF: per AT&D, leave data mode\n"
"  baud N               change the emulated line rate (0 = unthrottled)\n"
"  quirks 0|1           switch the chapter-3 answer forms\n"
"  clear                disarm all pending faults, end a stall\n"
"module states (see README):\n"
"  session-open [HOST PORT USER PASS]  an FTP session a dead host left open\n"
"  stale-upload [FILE]  a dead host's QFTPPUT to COM: waits for bytes\n"
"  stale-download FILE  a dead host's QFTPGET to COM: streams to the pty\n"
"  boot-sim-busy MS [10]  reboot; AT+CPIN? answers (10, then) 14 for MS ms\n"
"  verbose-codes 0|1    as ATV0 / ATV1\n"
"  half-line TEXT       the input buffer holds TEXT (a host died mid-write)\n"
"  escape-aborts 0|1    +++ aborts a download; ATO then NO CARRIER\n"
"  fail-data-615        the next transfer: +CME ERROR: 615, then 603 until\n"
"                       QFTPCLOSE\n"
"  close-async MS       QFTPCLOSE: OK, +QFTPCLOSE MS later, 603 meanwhile\n"
"  prober S             every S s, a ModemManager-like probe's echo and answers\n"
"  late-reply MS        the next command's answer (or result URC) MS ms late\n"
"  vanish MS            the pty goes away, and comes back under a new name\n",
	      f);
}

/* a control command to run at start: "<cmd> <arg>" */
static int add_fault(sim *s, const char *cmd, const char *arg)
{
	static char buf[32][256];
	int n = s->o.nfaults;
	if (n >= 32) {
		fprintf(stderr, "ec20sim: too many faults\n");
		return -1;
	}
	snprintf(buf[n], sizeof buf[n], "%s%s%s", cmd, *cmd && *arg ? " " : "", arg);
	s->o.faults[s->o.nfaults++] = buf[n];
	return 0;
}

int main(int argc, char **argv)
{
	static sim S;
	sim *s = &S;
	char err[200];
	s->o.guard_ms = 1000;
	s->o.timeout_scale = 1.0;
	s->o.boot_ms = 500;
	s->o.ram_size = 8u << 20;
	s->master = s->slave = s->evfd = s->sigfd = s->ctlfd = s->ctlwfd = -1;
	s->ctrl_fd = -1;
	s->drop_data_at = s->drop_ctrl_at = s->after_at = -1;
	/* flags that stand for a control command at start */
	static const struct { const char *flag, *cmd; } shorthand[] = {
		{"--drop-data-after", "drop-data"}, {"--drop-ctrl-after", "drop-ctrl"},
		{"--noise", "noise"}, {"--session-open", "session-open"},
		{"--stale-upload", "stale-upload"}, {"--stale-download", "stale-download"},
		{"--boot-sim-busy", "boot-sim-busy"}, {"--half-line", "half-line"},
		{"--prober", "prober"}, {"--fault", ""},
	};
	s->o.verbose_codes = 1;
	s->o.escape_aborts = -1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEEDV() do { if (!v) { fprintf(stderr, "ec20sim: %s needs a value\n", a); return 2; } i++; } while (0)
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--pty-file")) {
			NEEDV();
			s->o.pty_file = v;
		} else if (!strcmp(a, "--control")) {
			NEEDV();
			s->o.control = v;
		} else if (!strcmp(a, "--guard-ms")) {
			NEEDV();
			s->o.guard_ms = atoi(v);
			if (s->o.guard_ms < 1) {
				fprintf(stderr, "ec20sim: --guard-ms must be >= 1\n");
				return 2;
			}
		} else if (!strcmp(a, "--timeout-scale")) {
			NEEDV();
			s->o.timeout_scale = atof(v);
			if (s->o.timeout_scale <= 0) {
				fprintf(stderr, "ec20sim: --timeout-scale must be > 0\n");
				return 2;
			}
		} else if (!strcmp(a, "--baud")) {
			NEEDV();
			s->o.baud = atol(v);
		} else if (!strcmp(a, "--boot-ms")) {
			NEEDV();
			s->o.boot_ms = atoi(v);
		} else if (!strcmp(a, "--ram-size")) {
			NEEDV();
			s->o.ram_size = (size_t)atoll(v);
		} else if (!strcmp(a, "--quirks")) {
			s->o.quirks = 1;
		} else if (!strcmp(a, "--allow-remote")) {
			s->o.allow_remote = 1;
		} else if (!strcmp(a, "--pdp-active")) {
			s->o.pdp_active = 1;
		} else if (!strcmp(a, "--boot-urcs")) {
			s->o.boot_urcs = 1;
		} else if (!strcmp(a, "--exit-on-hangup")) {
			s->o.exit_on_hangup = 1;
		} else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
			s->o.verbose = 1;
		} else if (!strcmp(a, "--model")) {
			NEEDV();
			s->o.model = v;
		} else if (!strcmp(a, "--pty-link")) {
			NEEDV();
			s->o.pty_link = v;
		} else if (!strcmp(a, "--verbose-codes")) {
			NEEDV();
			s->o.verbose_codes = atoi(v) != 0;
		} else if (!strcmp(a, "--close-async")) {
			NEEDV();
			s->o.close_async_ms = atoi(v) < 0 ? 0 : atoi(v);
		} else if (!strcmp(a, "--escape-aborts")) {
			NEEDV();
			s->o.escape_aborts = atoi(v) != 0;
		} else if (!strcmp(a, "--fail-data-615")) {
			if (add_fault(s, "fail-data-615", "") < 0)
				return 2;
		} else {
			size_t k = 0, nsh = sizeof shorthand / sizeof shorthand[0];
			while (k < nsh && strcmp(a, shorthand[k].flag))
				k++;
			if (k == nsh) {
				fprintf(stderr, "ec20sim: unknown option '%s' (see --help)\n", a);
				return 2;
			}
			NEEDV();
			if (add_fault(s, shorthand[k].cmd, v) < 0)
				return 2;
		}
	}
	g_verbose = s->o.verbose;
	s->model = model_find(s->o.model ? s->o.model : "EC20");
	if (!s->model) {
		fprintf(stderr, "ec20sim: unknown --model '%s'; known: ", s->o.model);
		model_list(stderr);
		return 2;
	}

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL); /* before the worker: it inherits */
	signal(SIGPIPE, SIG_IGN);
	s->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	s->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->sigfd < 0 || s->evfd < 0) {
		perror("ec20sim: signalfd/eventfd");
		return 1;
	}
	if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK) {
		fprintf(stderr, "ec20sim: curl_global_init failed\n");
		return 1;
	}

	char name[256];
	if (open_pty(s, name, sizeof name) < 0) {
		perror("ec20sim: pty");
		return 1;
	}
	if (s->o.control) {
		unlink(s->o.control);
		if (mkfifo(s->o.control, 0600) < 0) {
			perror("ec20sim: mkfifo");
			return 1;
		}
		s->ctlfd = open(s->o.control, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		/* our own writer keeps the FIFO from reporting EOF between writers */
		s->ctlwfd = open(s->o.control, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (s->ctlfd < 0 || s->ctlwfd < 0) {
			perror("ec20sim: control FIFO");
			return 1;
		}
	}

	pthread_mutex_init(&s->jmu, NULL);
	pthread_cond_init(&s->jcv, NULL);
	pthread_mutex_init(&s->evmu, NULL);
	pthread_mutex_init(&s->fmu, NULL);
	pthread_cond_init(&s->fcv, NULL);
	pthread_mutex_init(&s->smu, NULL);
	ring_init(&s->ring, SIM_RING_CAP);
	s->rng = (uint32_t)getpid() ^ (uint32_t)sim_now();
	s->tok_t = sim_now();
	at_init(s);
	if (ftp_start(s) < 0) {
		fprintf(stderr, "ec20sim: cannot start the FTP worker\n");
		return 1;
	}
	for (int i = 0; i < s->o.nfaults; i++) {
		if (sim_ctl_exec(s, s->o.faults[i], err, sizeof err) < 0) {
			fprintf(stderr, "ec20sim: --fault: %s\n", err);
			s->running = 0;
			ftp_stop(s);
			return 2;
		}
	}
	/* announce the pty last: whoever waits for it may use it at once */
	if (announce_pty(s, name) < 0)
		return 1;

	s->running = 1;
	int rc = run(s);

	ftp_stop(s);
	sim_event *e;
	while ((e = ftp_next_event(s))) {
		if (e->type == EV_DONE) {
			if (s->done == e->job)
				s->done = NULL;
			if (s->cur == e->job)
				s->cur = NULL;
			job_free(e->job);
		}
		free(e);
	}
	job_free(s->done);
	while (s->jhead) { /* never ran: the worker stopped first */
		sim_job *j = s->jhead;
		s->jhead = j->next;
		job_free(j);
	}
	ram_clear(s);
	sb_free(&s->out);
	sb_free(&s->in);
	sb_free(&s->held);
	sb_free(&s->deferred);
	sb_free(&s->post);
	ring_destroy(&s->ring);
	curl_global_cleanup();
	if (s->o.control) {
		close(s->ctlfd);
		close(s->ctlwfd);
		unlink(s->o.control);
	}
	if (s->o.pty_file)
		unlink(s->o.pty_file);
	if (s->o.pty_link)
		unlink(s->o.pty_link);
	if (s->slave >= 0)
		close(s->slave);
	if (s->master >= 0)
		close(s->master);
	close(s->evfd);
	close(s->sigfd);
	memset(&s->cfg, 0, sizeof s->cfg);
	return rc;
}
