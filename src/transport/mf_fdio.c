/*
** mf_fdio.c: the one place that waits on a file descriptor.
** POLLHUP/POLLERR or EIO/ENXIO mean the port went away (USB unplug, pty
** master closed, TCP peer gone): that is MF_ECLOSED, never a hang.
*/
#include "mf_fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int mf_fd_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	return 0;
}

int mf_fd_set_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);
	if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
		return -1;
	return 0;
}

static int gone(int e)
{
	return e == EIO || e == ENXIO || e == ENODEV || e == EPIPE || e == ECONNRESET ||
	       e == EBADF || e == ENOTCONN;
}

static long fail(int e, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %s", what, strerror(e));
	return gone(e) ? MF_ECLOSED : MF_EIO;
}

/* Wait for an event; returns 1 ready, 0 timeout, < 0 failure. */
static int wait_fd(int fd, short events, int timeout_ms, const char *what, char *err, size_t errlen)
{
	struct pollfd pfd = {fd, events, 0};
	for (;;) {
		int r = poll(&pfd, 1, timeout_ms);
		if (r > 0) {
			if (pfd.revents & POLLNVAL) {
				snprintf(err, errlen, "%s: port not open", what);
				return MF_ECLOSED;
			}
			return 1; /* POLLHUP/POLLERR: let read/write report it */
		}
		if (r == 0)
			return 0;
		if (errno != EINTR)
			return (int)fail(errno, what, err, errlen);
		/* EINTR: a signal (SIGINT for abort); let the caller look at its flag. */
		return 0;
	}
}

long mf_fd_read(int fd, void *buf, size_t len, int timeout_ms, char *err, size_t errlen)
{
	for (;;) {
		ssize_t n = read(fd, buf, len);
		if (n > 0)
			return (long)n;
		if (n == 0) {
			snprintf(err, errlen, "read: port closed (end of file)");
			return MF_ECLOSED;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return fail(errno, "read", err, errlen);
		if (timeout_ms <= 0)
			return 0;
		int w = wait_fd(fd, POLLIN, timeout_ms, "read", err, errlen);
		if (w <= 0)
			return w;
		timeout_ms = 0; /* one wait per call: the caller owns the deadline */
	}
}

long mf_fd_write(int fd, const void *buf, size_t len, int timeout_ms, char *err, size_t errlen)
{
	for (;;) {
		ssize_t n = write(fd, buf, len);
		if (n >= 0)
			return (long)n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return fail(errno, "write", err, errlen);
		if (timeout_ms <= 0)
			return 0;
		int w = wait_fd(fd, POLLOUT, timeout_ms, "write", err, errlen);
		if (w <= 0)
			return w;
		timeout_ms = 0;
	}
}
