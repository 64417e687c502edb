/* test_transport.c: the termios and TCP backends, the spec dispatch, and a
** port that vanishes mid-read (pty master closed, TCP peer gone): an error,
** never a hang. */
#include "mf_chat.h"
#include "mf_transport.h"
#include "tap.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pty.h>
#include <sys/socket.h>
#include <unistd.h>

static void test_pty(void)
{
	int master, slave;
	char name[64];
	if (!ok(openpty(&master, &slave, name, NULL, NULL) == 0, "openpty"))
		return;
	close(slave);
	mf_port_opts o;
	mf_port_opts_init(&o);
	mf_transport *t;
	char err[MF_ERRLEN], spec[80];
	snprintf(spec, sizeof spec, "tty:%s", name);
	int rc = mf_transport_open(spec, &o, &t, err, sizeof err);
	if (!ok(rc == MF_OK, "tty: opens a pty (%s)", rc ? err : name))
		return;
	is_str(t->ops->kind, "tty", "tty backend");
	ok(t->ops->set_dtr(t, 1) == MF_ESUPP, "a pty has no DTR: MF_ESUPP, not a crash");
	ok(mf_write_all(t, "AT\r", 3, mf_now_ms() + 1000, NULL) == MF_OK, "write all");
	char buf[16];
	ssize_t n = read(master, buf, sizeof buf);
	ok(n == 3 && memcmp(buf, "AT\r", 3) == 0, "bytes reach the other side");
	int64_t t0 = mf_now_ms();
	long r = t->ops->read(t, buf, sizeof buf, 30);
	ok(r == 0 && mf_now_ms() - t0 >= 25, "read with nothing to read times out at its deadline");
	ok(write(master, "\r\nOK\r\n", 6) == 6, "modem answers");
	r = t->ops->read(t, buf, sizeof buf, 1000);
	ok(r == 6, "read gets the answer");
	ok(t->ops->drain(t, 1000) == MF_OK, "drain");
	/* a command in flight when the port goes away */
	mf_chat c;
	mf_chat_init(&c, t);
	close(master);
	mf_reply rep;
	mf_reply_init(&rep);
	mf_cmd_opts co = {0};
	co.timeout_ms = 2000;
	t0 = mf_now_ms();
	rc = mf_chat_command(&c, "AT", &co, &rep);
	ok((rc == MF_ECLOSED || rc == MF_EIO) && mf_now_ms() - t0 < 1500,
	   "pty closed mid-command: %s (%s), no hang", mf_strerror(rc), c.err);
	mf_reply_free(&rep);
	mf_chat_free(&c);

	/* bare paths fall back from libserialport to termios for ptys */
	if (openpty(&master, &slave, name, NULL, NULL) == 0) {
		close(slave);
		rc = mf_transport_open(name, &o, &t, err, sizeof err);
		ok(rc == MF_OK && strcmp(t->ops->kind, "tty") == 0, "bare pty path opens through the termios fallback");
		if (rc == MF_OK)
			t->ops->close(t);
		close(master);
	}
}

static void test_tcp(void)
{
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {0};
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof sa;
	if (!ok(ls >= 0 && bind(ls, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(ls, 1) == 0 &&
	            getsockname(ls, (struct sockaddr *)&sa, &sl) == 0,
	        "listening on 127.0.0.1"))
		return;
	char spec[64], err[MF_ERRLEN];
	snprintf(spec, sizeof spec, "tcp:127.0.0.1:%d", ntohs(sa.sin_port));
	mf_port_opts o;
	mf_port_opts_init(&o);
	mf_transport *t;
	int rc = mf_transport_open(spec, &o, &t, err, sizeof err);
	if (!ok(rc == MF_OK, "tcp: connects (%s)", rc ? err : spec))
		return;
	int peer = accept(ls, NULL, NULL);
	ok(mf_write_all(t, "ATI\r", 4, mf_now_ms() + 1000, NULL) == MF_OK, "tcp write");
	char buf[16];
	ok(read(peer, buf, sizeof buf) == 4, "tcp bytes arrive");
	ok(t->ops->set_dtr(t, 0) == MF_ESUPP, "tcp: no modem lines");
	close(peer);
	long r = t->ops->read(t, buf, sizeof buf, 1000);
	ok(r == MF_ECLOSED, "tcp peer gone: MF_ECLOSED (%s)", t->err);
	t->ops->close(t);
	close(ls);
	/* nobody listening: a clear error */
	rc = mf_transport_open(spec, &o, &t, err, sizeof err);
	ok(rc != MF_OK && strstr(err, "refused"), "connection refused reported: %s", err);
}

static void test_specs(void)
{
	mf_port_opts o;
	mf_port_opts_init(&o);
	mf_transport *t;
	char err[MF_ERRLEN];
	ok(mf_transport_open("", &o, &t, err, sizeof err) == MF_EARG, "empty spec refused");
	ok(mf_transport_open("ttyUSB2", &o, &t, err, sizeof err) == MF_EARG && strstr(err, "unknown port spec"),
	   "relative name refused: %s", err);
	ok(mf_transport_open("tcp:nohostport", &o, &t, err, sizeof err) == MF_EARG, "tcp without port refused");
	ok(mf_transport_open("/dev/nonexistent-modem", &o, &t, err, sizeof err) != MF_OK &&
	       strstr(err, "nonexistent"),
	   "missing device: %s", err);
	ok(mf_transport_open("replay:/nonexistent.txt", &o, &t, err, sizeof err) != MF_OK, "missing transcript");
	o.baud = 12345;
	ok(mf_transport_open("tty:/dev/null", &o, &t, err, sizeof err) == MF_EARG, "odd baud rate refused: %s", err);
}

int main(void)
{
	test_specs();
	test_pty();
	test_tcp();
	return tap_done();
}
