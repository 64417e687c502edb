/*
** bench_core: the C core alone (build/libmodemftp.a, no Lua), and the
** minimal C write/read that command round trips are measured against.
**
**   bench_core get PTY OUT BYTES   AT+QFTPSIZE, then AT+QFTPGET to COM: into
**                                  the file OUT (stdio, as the Lua binding)
**   bench_core put PTY IN          AT+QFTPPUT="…","COM:",0,<size>,1 from IN
**   bench_core cmd PTY COUNT CMD   COUNT round trips of CMD through
**                                  mf_chat_command (+QFTP… waits for its
**                                  result line after OK, as the Lua layer)
**   bench_core raw PTY COUNT CMD   the same with plain write() and read()
**                                  until the reply's last line: the floor
**   bench_core rawget PTY OUT BYTES  the minimal C transfer against the same
**   bench_core rawput PTY IN         peer: blocking 64 KiB calls, the size
**                                  known, no scanning (the in-pair limit)
**
** Prints one line of key=value: bytes, wall_us and cpu_us (user+sys of the
** transfer or the loop), or per_cmd_ns for the round trips.
*/
#include "bench.h"
#include "mf_chat.h"
#include "mf_data.h"

#include <fcntl.h>
#include <sys/stat.h>

static void die(const char *what, const char *why)
{
	fprintf(stderr, "bench_core: %s: %s\n", what, why);
	exit(1);
}

static mf_chat chat;

static void open_chat(const char *pty)
{
	char spec[600], err[MF_ERRLEN];
	mf_transport *t;
	snprintf(spec, sizeof spec, "tty:%s", pty);
	if (mf_transport_open(spec, NULL, &t, err, sizeof err) != MF_OK)
		die(pty, err);
	if (mf_chat_init(&chat, t) != MF_OK)
		die("init", "out of memory");
}

static int sink_file(void *ud, const char *buf, size_t n, char *err, size_t errlen)
{
	if (fwrite(buf, 1, n, ud) != n) {
		snprintf(err, errlen, "write: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static long source_file(void *ud, char *buf, size_t n, char *err, size_t errlen)
{
	size_t got = fread(buf, 1, n, ud);
	if (got == 0 && ferror((FILE *)ud)) {
		snprintf(err, errlen, "read: %s", strerror(errno));
		return -1;
	}
	return (long)got;
}

static void command(const char *cmd, const char *result, mf_reply *r)
{
	mf_cmd_opts o = {0};
	o.timeout_ms = 5000;
	o.result = result;
	o.result_timeout_ms = 5000;
	mf_reply_init(r);
	int rc = mf_chat_command(&chat, cmd, &o, r);
	if (rc != MF_OK)
		die(cmd, chat.err[0] ? chat.err : mf_strerror(rc));
}

static int64_t cpu_now(void)
{
	int64_t u, s;
	bench_cpu_us(&u, &s);
	return u + s;
}

static int do_get(const char *out, long long expect)
{
	FILE *f = fopen(out, "wb");
	if (!f)
		die(out, strerror(errno));
	int64_t t0 = bench_now_us(), c0 = cpu_now();
	mf_reply r;
	command("AT+QFTPSIZE=\"bench.bin\"", "+QFTPSIZE", &r);
	mf_reply_free(&r);
	const char *cmd = "AT+QFTPGET=\"bench.bin\",\"COM:\"";
	mf_cmd_opts co = {0};
	co.timeout_ms = 90000;
	co.result = "+QFTPGET";
	co.result_timeout_ms = 90000;
	co.connect = 1;
	mf_reply_init(&r);
	int rc = mf_chat_command(&chat, cmd, &co, &r);
	if (rc != MF_OK || !r.connect)
		die(cmd, chat.err[0] ? chat.err : r.final);
	mf_get_opts o = {0};
	o.cmd = cmd;
	o.result = "+QFTPGET";
	o.trailer = MF_TRAILER_RESULT_COUNT;
	o.idle_ms = 90000;
	o.quiet_ms = 500;
	o.final_timeout_ms = 2000;
	o.guard_ms = 1000;
	o.confirm_ms = 100;
	o.expect = expect;
	int64_t bytes = 0;
	rc = mf_data_get(&chat, &o, &(mf_sink){sink_file, f}, &bytes, &r);
	if (rc != MF_OK)
		die("get", chat.err);
	if (fclose(f) != 0)
		die(out, strerror(errno));
	int64_t t1 = bench_now_us(), c1 = cpu_now();
	printf("bytes=%lld wall_us=%lld cpu_us=%lld result=\"%s\"\n", (long long)bytes, (long long)(t1 - t0),
	       (long long)(c1 - c0), r.result);
	mf_reply_free(&r);
	return bytes == expect ? 0 : 1;
}

static int do_put(const char *in)
{
	FILE *f = fopen(in, "rb");
	struct stat st;
	if (!f || fstat(fileno(f), &st) < 0)
		die(in, strerror(errno));
	char cmd[128];
	snprintf(cmd, sizeof cmd, "AT+QFTPPUT=\"bench.bin\",\"COM:\",0,%lld,1", (long long)st.st_size);
	int64_t t0 = bench_now_us(), c0 = cpu_now();
	mf_cmd_opts co = {0};
	co.timeout_ms = 90000;
	co.result = "+QFTPPUT";
	co.result_timeout_ms = 90000;
	co.connect = 1;
	mf_reply r;
	mf_reply_init(&r);
	int rc = mf_chat_command(&chat, cmd, &co, &r);
	if (rc != MF_OK || !r.connect)
		die(cmd, chat.err[0] ? chat.err : r.final);
	mf_put_opts o = {0};
	o.cmd = cmd;
	o.result = "+QFTPPUT";
	o.length = st.st_size;
	o.guard_ms = 1000;
	o.idle_ms = 90000;
	o.final_timeout_ms = 90000;
	o.result_timeout_ms = 90000;
	int64_t bytes = 0;
	rc = mf_data_put(&chat, &o, &(mf_source){source_file, f}, &bytes, &r);
	if (rc != MF_OK)
		die("put", chat.err);
	fclose(f);
	int64_t t1 = bench_now_us(), c1 = cpu_now();
	printf("bytes=%lld wall_us=%lld cpu_us=%lld result=\"%s\"\n", (long long)bytes, (long long)(t1 - t0),
	       (long long)(c1 - c0), r.result);
	mf_reply_free(&r);
	return bytes == st.st_size ? 0 : 1;
}

/* The response prefix a +QFTP command's result line starts with. */
static const char *result_of(const char *cmd, char *buf, size_t cap)
{
	mf_at_prefix(cmd, buf, cap);
	return strncmp(buf, "+QFTP", 5) == 0 ? buf : NULL;
}

static int do_cmd(long count, const char *cmd)
{
	char prefix[64];
	const char *result = result_of(cmd, prefix, sizeof prefix);
	mf_reply r;
	command(cmd, result, &r); /* warm up */
	mf_reply_free(&r);
	int64_t t0 = bench_now_ns(), c0 = cpu_now();
	for (long i = 0; i < count; i++) {
		command(cmd, result, &r);
		mf_reply_free(&r);
	}
	int64_t t1 = bench_now_ns(), c1 = cpu_now();
	printf("count=%ld per_cmd_ns=%lld cpu_per_cmd_ns=%lld\n", count, (long long)((t1 - t0) / count),
	       (long long)((c1 - c0) * 1000 / count));
	return 0;
}

/* Minimal C: write the line, read until the reply's last line is in. */
static int do_raw(const char *pty, long count, const char *cmd)
{
	int fd = open(pty, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || bench_make_raw(fd) < 0)
		die(pty, strerror(errno));
	char prefix[64], line[256], buf[4096];
	const char *result = result_of(cmd, prefix, sizeof prefix);
	const char *last = result ? prefix : "OK\r\n";
	int n = snprintf(line, sizeof line, "%s\r", cmd);
	int64_t t0 = 0, c0 = 0;
	for (long i = -1; i < count; i++) { /* i == -1: warm up */
		if (i == 0) {
			t0 = bench_now_ns();
			c0 = cpu_now();
		}
		if (bench_write_all(fd, line, (size_t)n) < 0)
			die("write", strerror(errno));
		size_t len = 0;
		for (;;) {
			ssize_t k = read(fd, buf + len, sizeof buf - 1 - len);
			if (k <= 0)
				die("read", k ? strerror(errno) : "end of file");
			len += (size_t)k;
			buf[len] = 0;
			const char *at = strstr(buf, last);
			if (at && len >= 2 && buf[len - 1] == '\n' && strchr(at, '\n'))
				break;
		}
	}
	int64_t t1 = bench_now_ns(), c1 = cpu_now();
	printf("count=%ld per_cmd_ns=%lld cpu_per_cmd_ns=%lld\n", count, (long long)((t1 - t0) / count),
	       (long long)((c1 - c0) * 1000 / count));
	close(fd);
	return 0;
}

/* Read from fd until buf holds `until` followed by a line end; returns the
** bytes after that line end (moved to the front of buf). */
static size_t raw_wait(int fd, char *buf, size_t cap, size_t *len, const char *until)
{
	for (;;) {
		buf[*len] = 0;
		char *at = strstr(buf, until);
		char *nl = at ? strchr(at, '\n') : NULL;
		if (nl) {
			size_t rest = *len - (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, rest);
			*len = rest;
			return rest;
		}
		ssize_t k = read(fd, buf + *len, cap - 1 - *len);
		if (k <= 0)
			die("read", k ? strerror(errno) : "end of file");
		*len += (size_t)k;
	}
}

/* The minimal C transfer against the same peer: blocking 64 KiB calls, the
** size known in advance, no scanning: what the pty allows one host. */
static int do_rawxfer(const char *pty, int get, const char *path, long long size)
{
	int fd = open(pty, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || bench_make_raw(fd) < 0)
		die(pty, strerror(errno));
	int io = get ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (io < 0 || fstat(io, &st) < 0)
		die(path, strerror(errno));
	if (!get)
		size = st.st_size;
	static char buf[BENCH_CHUNK + 1];
	size_t len = 0;
	char cmd[160];
	int64_t t0 = bench_now_us(), c0 = cpu_now();
	if (get)
		snprintf(cmd, sizeof cmd, "AT+QFTPGET=\"bench.bin\",\"COM:\"\r");
	else
		snprintf(cmd, sizeof cmd, "AT+QFTPPUT=\"bench.bin\",\"COM:\",0,%lld,1\r", size);
	if (bench_write_all(fd, cmd, strlen(cmd)) < 0)
		die("write", strerror(errno));
	raw_wait(fd, buf, sizeof buf, &len, "CONNECT");
	long long moved = 0;
	if (get) {
		while (moved < size) {
			if (!len) {
				ssize_t k = read(fd, buf, (size_t)(size - moved) < BENCH_CHUNK ? (size_t)(size - moved) : BENCH_CHUNK);
				if (k <= 0)
					die("read", k ? strerror(errno) : "end of file");
				len = (size_t)k;
			}
			size_t take = (long long)len > size - moved ? (size_t)(size - moved) : len;
			if (bench_write_all(io, buf, take) < 0)
				die(path, strerror(errno));
			moved += (long long)take;
			memmove(buf, buf + take, len - take);
			len -= take;
		}
		raw_wait(fd, buf, sizeof buf, &len, "+QFTPGET:");
	} else {
		for (;;) {
			ssize_t k = read(io, buf, BENCH_CHUNK);
			if (k < 0)
				die(path, strerror(errno));
			if (k == 0)
				break;
			if (bench_write_all(fd, buf, (size_t)k) < 0)
				die("write", strerror(errno));
			moved += k;
		}
		len = 0;
		raw_wait(fd, buf, sizeof buf, &len, "+QFTPPUT:");
	}
	int64_t t1 = bench_now_us(), c1 = cpu_now();
	printf("bytes=%lld wall_us=%lld cpu_us=%lld\n", moved, (long long)(t1 - t0), (long long)(c1 - c0));
	close(io);
	close(fd);
	return moved == size ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc >= 5 && !strcmp(argv[1], "rawget"))
		return do_rawxfer(argv[2], 1, argv[3], strtoll(argv[4], NULL, 10));
	if (argc >= 4 && !strcmp(argv[1], "rawput"))
		return do_rawxfer(argv[2], 0, argv[3], 0);
	if (argc >= 5 && !strcmp(argv[1], "get")) {
		open_chat(argv[2]);
		int rc = do_get(argv[3], strtoll(argv[4], NULL, 10));
		mf_chat_free(&chat);
		return rc;
	}
	if (argc >= 4 && !strcmp(argv[1], "put")) {
		open_chat(argv[2]);
		int rc = do_put(argv[3]);
		mf_chat_free(&chat);
		return rc;
	}
	if (argc >= 5 && !strcmp(argv[1], "cmd")) {
		open_chat(argv[2]);
		int rc = do_cmd(atol(argv[3]), argv[4]);
		mf_chat_free(&chat);
		return rc;
	}
	if (argc >= 5 && !strcmp(argv[1], "raw"))
		return do_raw(argv[2], atol(argv[3]), argv[4]);
	fprintf(stderr, "usage: bench_core get PTY OUT BYTES | put PTY IN | cmd PTY COUNT CMD | raw PTY COUNT CMD\n");
	return 2;
}
