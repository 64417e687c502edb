/*
** mf_tcp.c: a raw TCP serial server (ser2net and similar): "HOST:PORT".
** Bytes pass unchanged (raw mode, no telnet/RFC 2217), so DTR/RTS are
** MF_ESUPP. The connect itself has a deadline.
*/
#include "mf_fdio.h"
#include "mf_transport.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
	mf_transport base;
	int fd;
} tcp_port;

static long tcp_read(mf_transport *t, void *buf, size_t len, int timeout_ms)
{
	return mf_fd_read(((tcp_port *)t)->fd, buf, len, timeout_ms, t->err, sizeof t->err);
}

static long tcp_write(mf_transport *t, const void *buf, size_t len, int timeout_ms)
{
	return mf_fd_write(((tcp_port *)t)->fd, buf, len, timeout_ms, t->err, sizeof t->err);
}

static int tcp_drain(mf_transport *t, int timeout_ms)
{
	(void)t;
	(void)timeout_ms;
	return MF_OK; /* the kernel owns the bytes once written; nothing to wait for */
}

static int tcp_line(mf_transport *t, int on)
{
	(void)on;
	snprintf(t->err, sizeof t->err, "tcp: no modem control lines on a raw TCP port");
	return MF_ESUPP;
}

static void tcp_close(mf_transport *t)
{
	tcp_port *p = (tcp_port *)t;
	if (p->fd >= 0)
		close(p->fd);
	free(p);
}

static const mf_transport_ops tcp_ops = {
	"tcp", tcp_read, tcp_write, tcp_drain, tcp_line, tcp_line, tcp_close,
};

static int connect_deadline(int fd, const struct sockaddr *sa, socklen_t salen, int timeout_ms)
{
	if (connect(fd, sa, salen) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return errno;
	struct pollfd pfd = {fd, POLLOUT, 0};
	int r;
	do
		r = poll(&pfd, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return ETIMEDOUT;
	int soerr = 0;
	socklen_t sl = sizeof soerr;
	if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		return errno;
	return soerr;
}

int mf_tcp_open(const char *hostport, const mf_port_opts *o, mf_transport **out, char *err, size_t errlen)
{
	*out = NULL;
	char host[256];
	const char *colon = strrchr(hostport, ':');
	if (!colon || colon == hostport || !colon[1] || (size_t)(colon - hostport) >= sizeof host) {
		snprintf(err, errlen, "tcp:%s: want tcp:HOST:PORT", hostport);
		return MF_EARG;
	}
	memcpy(host, hostport, (size_t)(colon - hostport));
	host[colon - hostport] = 0;
	if (host[0] == '[' && host[strlen(host) - 1] == ']') { /* [::1]:port */
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = 0;
	}
	struct addrinfo hints = {0}, *res = NULL;
	hints.ai_socktype = SOCK_STREAM;
	int g = getaddrinfo(host, colon + 1, &hints, &res);
	if (g != 0) {
		snprintf(err, errlen, "tcp:%s: %s", hostport, gai_strerror(g));
		return MF_EIO;
	}
	int fd = -1, e = 0;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			e = errno;
			continue;
		}
		e = connect_deadline(fd, ai->ai_addr, ai->ai_addrlen, o->connect_timeout_ms);
		if (e == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errlen, "tcp:%s: %s", hostport, strerror(e));
		return e == ETIMEDOUT ? MF_ETIMEOUT : MF_ECLOSED;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	tcp_port *p = calloc(1, sizeof *p);
	if (!p) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return MF_EMEM;
	}
	p->base.ops = &tcp_ops;
	p->fd = fd;
	*out = &p->base;
	return MF_OK;
}
