/*
** bench_pair: run one benchmark host against one modem peer and account
** for the host process exactly (wait4: user, system, peak RSS).
**
**   bench_pair PEER ARGS... -- HOST ARGS...
**   bench_pair -- HOST ARGS...          (no peer: just the accounting)
**
** The peer (bench_peer, ec20sim) must print its pty path as its first line
** on stdout; every "@PTY@" in the host's arguments is replaced by it. The
** host's stdout passes through. When the host has exited, the peer gets 3
** seconds to exit by itself (it sees the hangup), then SIGTERM; the rest of
** its stdout is copied after the host's. Last, one line:
**   [peer_user_us=U peer_sys_us=S] start_ns=T host_wall_us=W host_user_us=U
**   host_sys_us=S host_maxrss_kb=R
** (start_ns: CLOCK_MONOTONIC just before the host's fork). The exit status
** is the host's (or 3 when the peer did not start).
*/
#include "bench.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

static void die(const char *what)
{
	fprintf(stderr, "bench_pair: %s: %s\n", what, strerror(errno));
	exit(3);
}

/* Read from fd until a newline or the deadline; returns bytes in buf. */
static size_t read_until(int fd, char *buf, size_t cap, int64_t deadline_ns, int whole)
{
	size_t n = 0;
	while (n + 1 < cap) {
		int64_t left = (deadline_ns - bench_now_ns()) / 1000000;
		if (left <= 0)
			break;
		struct pollfd p = {fd, POLLIN, 0};
		int r = poll(&p, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		ssize_t k = read(fd, buf + n, whole ? cap - 1 - n : 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		n += (size_t)k;
		if (!whole && buf[n - 1] == '\n')
			break;
	}
	buf[n] = 0;
	return n;
}

int main(int argc, char **argv)
{
	int sep = -1;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			sep = i;
			break;
		}
	if (sep < 0 || sep + 1 >= argc) {
		fprintf(stderr, "usage: bench_pair [PEER ARGS...] -- HOST ARGS...\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	pid_t peer = -1;
	int pfd = -1;
	char path[512] = "";
	if (sep > 1) {
		int pp[2];
		if (pipe2(pp, O_CLOEXEC) < 0)
			die("pipe");
		peer = fork();
		if (peer < 0)
			die("fork");
		if (peer == 0) {
			dup2(pp[1], 1);
			argv[sep] = NULL;
			execvp(argv[1], argv + 1);
			fprintf(stderr, "bench_pair: %s: %s\n", argv[1], strerror(errno));
			_exit(127);
		}
		close(pp[1]);
		pfd = pp[0];
		size_t n = read_until(pfd, path, sizeof path, bench_now_ns() + 10 * 1000000000LL, 0);
		while (n && (path[n - 1] == '\n' || path[n - 1] == '\r'))
			path[--n] = 0;
		if (!n) {
			fprintf(stderr, "bench_pair: %s printed no pty path\n", argv[1]);
			kill(peer, SIGTERM);
			waitpid(peer, NULL, 0);
			return 3;
		}
	}
	char **hargv = calloc((size_t)(argc - sep), sizeof *hargv);
	char **owned = calloc((size_t)(argc - sep), sizeof *owned);
	if (!hargv || !owned)
		die("calloc");
	for (int i = sep + 1; i < argc; i++) {
		const char *a = argv[i], *at = strstr(a, "@PTY@");
		if (at && path[0]) {
			size_t k = strlen(a) + strlen(path);
			char *s = malloc(k);
			if (!s)
				die("malloc");
			snprintf(s, k, "%.*s%s%s", (int)(at - a), a, path, at + 5);
			hargv[i - sep - 1] = owned[i - sep - 1] = s;
		} else {
			hargv[i - sep - 1] = argv[i];
		}
	}
	fflush(stdout);
	int64_t start = bench_now_ns();
	pid_t host = fork();
	if (host < 0)
		die("fork");
	if (host == 0) {
		int null = open("/dev/null", O_RDONLY);
		if (null >= 0)
			dup2(null, 0);
		execvp(hargv[0], hargv);
		fprintf(stderr, "bench_pair: %s: %s\n", hargv[0], strerror(errno));
		_exit(127);
	}
	int status = 0;
	struct rusage ru;
	while (wait4(host, &status, 0, &ru) < 0)
		if (errno != EINTR)
			die("wait4");
	int64_t end = bench_now_ns();

	struct rusage pru;
	memset(&pru, 0, sizeof pru);
	if (peer > 0) {
		static char rest[1 << 16];
		size_t n = read_until(pfd, rest, sizeof rest, bench_now_ns() + 3 * 1000000000LL, 1);
		if (wait4(peer, NULL, WNOHANG, &pru) == 0) {
			kill(peer, SIGTERM);
			n += read_until(pfd, rest + n, sizeof rest - n, bench_now_ns() + 3 * 1000000000LL, 1);
			if (wait4(peer, NULL, WNOHANG, &pru) == 0) {
				kill(peer, SIGKILL);
				wait4(peer, NULL, 0, &pru);
			}
		}
		fwrite(rest, 1, n, stdout);
		if (n && rest[n - 1] != '\n')
			putchar('\n');
		printf("peer_user_us=%lld peer_sys_us=%lld ", (long long)bench_tv_us(pru.ru_utime),
		       (long long)bench_tv_us(pru.ru_stime));
	}
	printf("start_ns=%lld host_wall_us=%lld host_user_us=%lld host_sys_us=%lld host_maxrss_kb=%ld\n",
	       (long long)start, (long long)((end - start) / 1000), (long long)bench_tv_us(ru.ru_utime),
	       (long long)bench_tv_us(ru.ru_stime), ru.ru_maxrss);
	for (int i = 0; i < argc - sep; i++)
		free(owned[i]);
	free(owned);
	free(hargv);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	fprintf(stderr, "bench_pair: host killed by signal %d\n", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return 1;
}
