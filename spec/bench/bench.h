/*
** bench.h: small helpers shared by the benchmark programs in bench/:
** clocks, the payload pattern, raw pty setup, write-all. Header-only
** (static functions), so each program stays one file plus this.
**
** Every program reports on stdout as space-separated key=value pairs on
** one line, which bench/run collects: times in microseconds (_us) or
** nanoseconds (_ns, CLOCK_MONOTONIC, comparable across processes), sizes in
** bytes or KiB (_kb).
*/
#ifndef BENCH_H
#define BENCH_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define BENCH_CHUNK (64 * 1024)
#define BENCH_PATTERN (1u << 20) /* the payload repeats every MiB */

static inline int64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t bench_now_us(void)
{
	return bench_now_ns() / 1000;
}

static inline int64_t bench_tv_us(struct timeval tv)
{
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

/* This process's user and system CPU time so far (getrusage). */
static inline void bench_cpu_us(int64_t *user, int64_t *sys)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	*user = bench_tv_us(ru.ru_utime);
	*sys = bench_tv_us(ru.ru_stime);
}

/* The payload: xorshift bytes (the same as bench/ptycopy.c), so that the
** data-mode scanner sees binary data with a LF every 256 bytes on average. */
static inline void bench_fill_pattern(unsigned char *p, size_t n)
{
	uint64_t x = 0x9e3779b97f4a7c15u;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)(x >> 32);
	}
}

static inline int bench_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static inline int bench_make_raw(int fd)
{
	struct termios tio;
	if (tcgetattr(fd, &tio) < 0)
		return -1;
	cfmakeraw(&tio);
	tio.c_cc[VMIN] = 1;
	tio.c_cc[VTIME] = 0;
	return tcsetattr(fd, TCSANOW, &tio);
}

#endif
