/* test_cloexec.c: no transport hands its descriptors to a child process.
**
** A job's os.execute (or io.popen) forks and execs a shell; a descriptor
** without FD_CLOEXEC stays open in it, so the child holds the modem port
** (and a recording's file) for as long as it runs. For each backend the
** test notes the descriptors open before and after the open, then starts a
** child (/bin/sh) that checks whether it can see each new one.
**
** libserialport is replaced in this program by a small fake (the test's
** own sp_* definitions win over the shared library at link time): it opens
** a pty as libserialport 0.1.1 opens a tty, without O_CLOEXEC, so the
** serial backend is tested without a real serial device. */
#include "mf_transcript.h"
#include "mf_transport.h"
#include "tap.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libserialport.h>
#include <netinet/in.h>
#include <pty.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------ the fake libserialport */

struct sp_port {
	char *name;
	int fd;
};

enum sp_return sp_get_port_by_name(const char *portname, struct sp_port **port_ptr)
{
	struct sp_port *p = calloc(1, sizeof *p);
	p->name = strdup(portname);
	p->fd = -1;
	*port_ptr = p;
	return SP_OK;
}

enum sp_return sp_open(struct sp_port *port, enum sp_mode flags)
{
	(void)flags;
	port->fd = open(port->name, O_RDWR | O_NOCTTY | O_NONBLOCK); /* as libserialport: no O_CLOEXEC */
	return port->fd < 0 ? SP_ERR_FAIL : SP_OK;
}

enum sp_return sp_close(struct sp_port *port)
{
	if (port->fd >= 0)
		close(port->fd);
	port->fd = -1;
	return SP_OK;
}

void sp_free_port(struct sp_port *port)
{
	free(port->name);
	free(port);
}

enum sp_return sp_get_port_handle(const struct sp_port *port, void *result_ptr)
{
	*(int *)result_ptr = port->fd;
	return SP_OK;
}

enum sp_return sp_set_baudrate(struct sp_port *port, int baudrate) { (void)port; (void)baudrate; return SP_OK; }
enum sp_return sp_set_bits(struct sp_port *port, int bits) { (void)port; (void)bits; return SP_OK; }
enum sp_return sp_set_parity(struct sp_port *port, enum sp_parity parity) { (void)port; (void)parity; return SP_OK; }
enum sp_return sp_set_stopbits(struct sp_port *port, int stopbits) { (void)port; (void)stopbits; return SP_OK; }
enum sp_return sp_set_flowcontrol(struct sp_port *port, enum sp_flowcontrol fc) { (void)port; (void)fc; return SP_OK; }
enum sp_return sp_set_dtr(struct sp_port *port, enum sp_dtr dtr) { (void)port; (void)dtr; return SP_OK; }
enum sp_return sp_set_rts(struct sp_port *port, enum sp_rts rts) { (void)port; (void)rts; return SP_OK; }
enum sp_return sp_output_waiting(struct sp_port *port) { (void)port; return 0; }
char *sp_last_error_message(void) { return strdup("fake libserialport failed"); }
void sp_free_error_message(char *message) { free(message); }

/* ------------------------------------------------------------ the checks */

#define MAXFD 256

/* open[i] = 1 when descriptor i is open in this process. */
static void open_fds(char open_[MAXFD])
{
	for (int i = 0; i < MAXFD; i++)
		open_[i] = fcntl(i, F_GETFD) != -1;
}

/* 1 when a child started by exec sees descriptor fd open. */
static int child_sees(int fd)
{
	char script[64];
	snprintf(script, sizeof script, "test -e /proc/self/fd/%d", fd);
	pid_t pid = fork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", script, (char *)NULL);
		_exit(127);
	}
	int status = 0;
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) == 127)
		return -1;
	return WEXITSTATUS(status) == 0;
}

/* Open spec (through the recorder when record is set), then check that a
** child sees none of the descriptors the open added. */
static void check(const char *what, const char *spec, const char *record)
{
	char before[MAXFD], after[MAXFD], err[MF_ERRLEN];
	mf_port_opts o;
	mf_port_opts_init(&o);
	open_fds(before);
	mf_transport *t;
	int rc = mf_transport_open(spec, &o, &t, err, sizeof err);
	if (rc == MF_OK && record)
		rc = mf_record_open(t, record, &t, err, sizeof err);
	if (!ok(rc == MF_OK, "%s: opens (%s)", what, rc == MF_OK ? spec : err))
		return;
	open_fds(after);
	int added = 0, seen = 0;
	for (int i = 0; i < MAXFD; i++) {
		if (!after[i] || before[i])
			continue;
		added++;
		int s = child_sees(i);
		if (s != 0) {
			seen++;
			printf("#   %s: fd %d %s\n", what, i, s < 0 ? "could not be checked" : "is open in the child");
		}
	}
	ok(added >= 1 && seen == 0, "%s: a child process sees none of its %d descriptor(s)", what, added);
	t->ops->close(t);
}

int main(void)
{
	int master, slave;
	char name[64], spec[96];
	if (!ok(openpty(&master, &slave, name, NULL, NULL) == 0, "openpty"))
		return tap_done();
	snprintf(spec, sizeof spec, "serial:%s", name);
	check("serial (libserialport)", spec, NULL);
	snprintf(spec, sizeof spec, "tty:%s", name);
	check("tty (termios)", spec, NULL);

	char tx[] = "/tmp/modemftp-cloexec-XXXXXX";
	int tfd = mkstemp(tx);
	close(tfd);
	check("record (the transcript file and the port)", spec, tx);
	unlink(tx);

	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {0};
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof sa;
	if (ok(ls >= 0 && bind(ls, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(ls, 1) == 0 &&
	           getsockname(ls, (struct sockaddr *)&sa, &sl) == 0,
	       "listening on 127.0.0.1")) {
		snprintf(spec, sizeof spec, "tcp:127.0.0.1:%d", ntohs(sa.sin_port));
		check("tcp", spec, NULL);
	}
	close(ls);
	close(master);
	close(slave);
	return tap_done();
}
