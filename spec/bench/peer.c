/*
** bench_peer: a minimal EC20 in data mode, as fast as the pty allows, so
** that a benchmark measures the host runtime and not a simulator.
**
**   bench_peer [--size BYTES] [--guard-ms N] [--timeout S]
**
** Opens a pty, prints the slave's path (one line) on stdout and answers:
**   AT+QFTPGET="f","COM:"[,start[,len]]  CONNECT, the payload (the bench
**         pattern, BYTES - start bytes, or len), then
**         \r\nOK\r\n\r\n+QFTPGET: 0,<n>\r\n
**   AT+QFTPPUT="f","COM:",start,len,beof  CONNECT, swallows len bytes, then
**         \r\nOK\r\n\r\n+QFTPPUT: 0,<len>\r\n (without len: up to a "+++"
**         followed by the guard time)
**   AT+QFTPSIZE="f"   OK, then +QFTPSIZE: 0,BYTES
**   AT+QFTPxxx=...    OK, then +QFTPxxx: 0,0 (OPEN, CLOSE, CWD, ...)
**   anything else     OK (AT, ATE1, AT+CMEE=1, AT+QFTPCFG=...)
** No echo. It exits when the host closes the pty (or after --timeout
** seconds, default 600) and prints one report line:
**   first_byte_ns=T commands=N get_bytes=G put_bytes=P
** first_byte_ns is CLOCK_MONOTONIC when the first command byte arrived
** (bench/run subtracts the host's start time: the cold start figure).
*/
#include "bench.h"

#include <ctype.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <strings.h>

static int master = -1;
static unsigned char pattern[BENCH_PATTERN];
static unsigned char rbuf[BENCH_CHUNK];
static size_t rpos, rlen; /* unread command bytes in rbuf */
static long long size_bytes = 1 << 20;
static int guard_ms = 1000;
static long long get_total, put_total;
static int commands;

static void fail(const char *what)
{
	fprintf(stderr, "bench_peer: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void send_str(const char *s)
{
	if (bench_write_all(master, s, strlen(s)) < 0)
		fail("write");
}

/* Read more command bytes; 0 when the host went away. */
static int fill(void)
{
	for (;;) {
		ssize_t n = read(master, rbuf, sizeof rbuf);
		if (n > 0) {
			rpos = 0;
			rlen = (size_t)n;
			return 1;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return 0; /* EIO: the slave side is closed */
	}
}

/* The n-th comma-separated argument after '=' (quotes respected), as a
** number; def when absent. */
static long long num_arg(const char *cmd, int n, long long def)
{
	const char *p = strchr(cmd, '=');
	if (!p)
		return def;
	p++;
	int i = 0, q = 0;
	while (*p && i < n) {
		if (*p == '"')
			q = !q;
		else if (*p == ',' && !q)
			i++;
		p++;
	}
	while (*p == ' ')
		p++;
	if (i < n || !isdigit((unsigned char)*p))
		return def;
	return strtoll(p, NULL, 10);
}

static void send_payload(long long n)
{
	for (long long off = 0; off < n;) {
		size_t at = (size_t)(off % BENCH_PATTERN), k = BENCH_CHUNK;
		if (k > BENCH_PATTERN - at)
			k = BENCH_PATTERN - at;
		if ((long long)k > n - off)
			k = (size_t)(n - off);
		if (bench_write_all(master, pattern + at, k) < 0)
			fail("write payload");
		off += (long long)k;
	}
}

/* Swallow exactly n bytes (bytes past them stay in rbuf as commands). */
static long long swallow(long long n)
{
	long long got = 0;
	while (got < n) {
		if (rpos == rlen && !fill())
			break;
		size_t k = rlen - rpos;
		if ((long long)k > n - got)
			k = (size_t)(n - got);
		rpos += k;
		got += (long long)k;
	}
	return got;
}

/* Swallow up to "+++" followed by guard_ms of silence; returns the payload. */
static long long swallow_to_escape(void)
{
	long long got = 0;
	char tail[3] = {0, 0, 0};
	for (;;) {
		if (rpos == rlen) {
			if (tail[0] == '+' && tail[1] == '+' && tail[2] == '+') {
				struct pollfd p = {master, POLLIN, 0};
				if (poll(&p, 1, guard_ms) == 0)
					return got - 3;
			}
			if (!fill())
				return got;
		}
		for (; rpos < rlen; rpos++, got++) {
			tail[0] = tail[1];
			tail[1] = tail[2];
			tail[2] = (char)rbuf[rpos];
		}
	}
}

static void handle(const char *cmd)
{
	char out[160];
	commands++;
	if (!strncasecmp(cmd, "AT+QFTPGET=", 11)) {
		long long start = num_arg(cmd, 2, 0), len = num_arg(cmd, 3, -1);
		long long n = size_bytes > start ? size_bytes - start : 0;
		if (len >= 0 && len < n)
			n = len;
		if (!strstr(cmd, "\"COM:\"")) {
			snprintf(out, sizeof out, "\r\nOK\r\n\r\n+QFTPGET: 0,%lld\r\n", n);
			send_str(out);
			return;
		}
		send_str("\r\nCONNECT\r\n");
		send_payload(n);
		get_total += n;
		snprintf(out, sizeof out, "\r\nOK\r\n\r\n+QFTPGET: 0,%lld\r\n", n);
		send_str(out);
	} else if (!strncasecmp(cmd, "AT+QFTPPUT=", 11)) {
		long long len = num_arg(cmd, 3, -1);
		send_str("\r\nCONNECT\r\n");
		long long n = len >= 0 ? swallow(len) : swallow_to_escape();
		put_total += n;
		snprintf(out, sizeof out, "\r\nOK\r\n\r\n+QFTPPUT: 0,%lld\r\n", n);
		send_str(out);
	} else if (!strncasecmp(cmd, "AT+QFTPSIZE=", 12)) {
		snprintf(out, sizeof out, "\r\nOK\r\n\r\n+QFTPSIZE: 0,%lld\r\n", size_bytes);
		send_str(out);
	} else if (!strncasecmp(cmd, "AT+QFTP", 7) && strncasecmp(cmd, "AT+QFTPCFG", 10)) {
		char name[32];
		size_t i = 0;
		for (const char *p = cmd + 2; *p && *p != '=' && *p != '?' && i + 1 < sizeof name; p++)
			name[i++] = (char)toupper((unsigned char)*p);
		name[i] = 0;
		snprintf(out, sizeof out, "\r\nOK\r\n\r\n%s: 0,0\r\n", name);
		send_str(out);
	} else {
		send_str("\r\nOK\r\n");
	}
}

int main(int argc, char **argv)
{
	int timeout_s = 600;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--size") && i + 1 < argc)
			size_bytes = strtoll(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--guard-ms") && i + 1 < argc)
			guard_ms = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout_s = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: bench_peer [--size BYTES] [--guard-ms N] [--timeout S]\n");
			return 2;
		}
	}
	bench_fill_pattern(pattern, sizeof pattern);
	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0)
		fail("posix_openpt");
	const char *path = ptsname(master);
	/* Hold the slave until the host speaks: reads then block instead of
	** failing with EIO, and the first byte's time is exact. */
	int slave = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0 || bench_make_raw(slave) < 0)
		fail(path);
	printf("%s\n", path);
	fflush(stdout);
	alarm((unsigned)timeout_s);

	long long first_ns = 0;
	char line[4096];
	size_t ll = 0;
	for (;;) {
		if (rpos == rlen) {
			if (!fill())
				break;
			if (!first_ns) {
				first_ns = bench_now_ns();
				close(slave);
				slave = -1;
			}
		}
		char c = (char)rbuf[rpos++];
		if (c == '\r' || c == '\n') {
			if (ll) {
				line[ll] = 0;
				ll = 0;
				handle(line);
			}
		} else if (ll + 1 < sizeof line) {
			line[ll++] = c;
		}
	}
	printf("first_byte_ns=%lld commands=%d get_bytes=%lld put_bytes=%lld\n", first_ns, commands, get_total,
	       put_total);
	return 0;
}
