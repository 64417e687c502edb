/*
** ptycopy: the limit. A raw copy through a pty pair, no parsing: what the
** line can carry on this machine, against which bench/run measures
** everything else.
**
**   ptycopy get BYTES OUT   the modem side (pty master) writes BYTES bytes
**                           of the benchmark pattern; the host side (the
**                           raw slave) reads them and writes them to OUT
**   ptycopy put IN          the host side reads IN and writes it to the
**                           slave; the modem side reads and drops it, then
**                           answers one byte (the end of the round trip,
**                           as +QFTPPUT answers a real upload)
**
** The host side is this process, the modem side a child. Both move data in
** 64 KiB calls on O_NONBLOCK descriptors, waiting in poll() when the pty is
** full or empty: through a Linux pty that is faster than blocking calls (on
** the development machine `bench_core rawput`, blocking 64 KiB writes to the
** same peer, took about 1.4x as long as modemftp's non-blocking ones), and
** it is what modemftp and pyserial do. PTYCOPY_BLOCKING=1 selects blocking
** calls on both sides.
** Prints one line:
**   bytes=N wall_us=W user_us=U sys_us=S
** wall from the fork to the host's last byte; user and system CPU time of
** the host side over the same span.
*/
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "bench.h" /* the shared payload pattern */

#define CHUNK (64 * 1024)
#define PATTERN (1u << 20)

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t tv_us(struct timeval tv)
{
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

/* This process's user and system time so far. */
static void cpu_us(int64_t *user, int64_t *sys)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	*user = tv_us(ru.ru_utime);
	*sys = tv_us(ru.ru_stime);
}

static void die(const char *what)
{
	fprintf(stderr, "ptycopy: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int use_poll; /* O_NONBLOCK + poll (default) instead of blocking calls */

static void wait_fd(int fd, short ev)
{
	struct pollfd p = {fd, ev, 0};
	while (poll(&p, 1, -1) < 0)
		if (errno != EINTR)
			die("poll");
}

static void write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				wait_fd(fd, POLLOUT);
				continue;
			}
			die("write");
		}
		p += w;
		n -= (size_t)w;
	}
}

/* read(2) that waits in poll() when the descriptor is non-blocking. */
static ssize_t read_some(int fd, void *buf, size_t n)
{
	for (;;) {
		ssize_t r = read(fd, buf, n);
		if (r >= 0)
			return r;
		if (errno == EAGAIN)
			wait_fd(fd, POLLIN);
		else if (errno != EINTR)
			return r;
	}
}

static void set_style(int fd)
{
	if (use_poll)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

int main(int argc, char **argv)
{
	if (argc < 3 || (strcmp(argv[1], "get") && strcmp(argv[1], "put")) ||
	    (!strcmp(argv[1], "get") && argc != 4) || (!strcmp(argv[1], "put") && argc != 3)) {
		fprintf(stderr, "usage: ptycopy get BYTES OUT | ptycopy put IN\n");
		return 2;
	}
	int get = !strcmp(argv[1], "get");
	long long total;
	int io;
	if (get) {
		total = strtoll(argv[2], NULL, 10);
		io = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (io < 0)
			die(argv[3]);
	} else {
		io = open(argv[2], O_RDONLY | O_CLOEXEC);
		struct stat st;
		if (io < 0 || fstat(io, &st) < 0)
			die(argv[2]);
		total = st.st_size;
	}

	int master, slave;
	struct termios tio;
	if (openpty(&master, &slave, NULL, NULL, NULL) < 0)
		die("openpty");
	if (tcgetattr(slave, &tio) < 0)
		die("tcgetattr");
	cfmakeraw(&tio);
	if (tcsetattr(slave, TCSANOW, &tio) < 0)
		die("tcsetattr");

	use_poll = getenv("PTYCOPY_BLOCKING") == NULL;
	unsigned char *buf = malloc(get ? CHUNK : PATTERN);
	if (!buf)
		die("malloc");
	int64_t t0 = now_us();
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) { /* the modem side */
		close(slave);
		set_style(master);
		if (get) {
			unsigned char *pat = malloc(PATTERN);
			if (!pat)
				die("malloc");
			bench_fill_pattern(pat, PATTERN);
			for (long long off = 0; off < total;) {
				size_t at = (size_t)(off % PATTERN), n = CHUNK;
				if (n > PATTERN - at)
					n = PATTERN - at;
				if ((long long)n > total - off)
					n = (size_t)(total - off);
				write_all(master, pat + at, n);
				off += (long long)n;
			}
			/* stay until the host has everything: closing the master
			** would hang up the slave under unread bytes */
			char c;
			(void)read_some(master, &c, 1);
		} else {
			for (long long got = 0; got < total;) {
				ssize_t r = read_some(master, buf, PATTERN);
				if (r <= 0)
					die("read master");
				got += r;
			}
			write_all(master, "\n", 1);
			char c;
			(void)read_some(master, &c, 1);
		}
		_exit(0);
	}
	close(master);
	set_style(slave);
	int64_t u0, s0, u1, s1;
	cpu_us(&u0, &s0);
	if (get) {
		for (long long got = 0; got < total;) {
			ssize_t r = read_some(slave, buf, CHUNK);
			if (r <= 0)
				die("read slave");
			write_all(io, buf, (size_t)r);
			got += r;
		}
	} else {
		for (;;) {
			ssize_t r = read(io, buf, CHUNK);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				die("read file");
			if (r == 0)
				break;
			write_all(slave, buf, (size_t)r);
		}
		char c;
		if (read_some(slave, &c, 1) != 1)
			die("read answer");
	}
	int64_t t1 = now_us();
	cpu_us(&u1, &s1);
	write_all(slave, "x", 1); /* let the modem side go */
	int status;
	waitpid(pid, &status, 0);
	close(slave);
	close(io);
	free(buf);
	printf("bytes=%lld wall_us=%lld user_us=%lld sys_us=%lld\n", total, (long long)(t1 - t0),
	       (long long)(u1 - u0), (long long)(s1 - s0));
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
