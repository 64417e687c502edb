/* test_holder.c: a port is opened exclusively (TIOCEXCL), cleared on close,
** and a busy one names the process that holds it (mf_holder.h). Runs on a
** pty; the "another user" checks need root to become nobody, and are
** skipped otherwise. */
#include "mf_holder.h"
#include "mf_transport.h"
#include "tap.h"

#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOBODY 65534

typedef struct attempt {
	int rc;
	char err[MF_ERRLEN];
} attempt;

/* Open path as the user nobody in a child; the result comes back through a
** pipe. Returns 0, or -1 when the child could not become nobody. */
static int open_as_nobody(const char *path, attempt *a)
{
	int p[2];
	if (pipe(p) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		attempt r = {0};
		if (setgid(NOBODY) != 0 || setuid(NOBODY) != 0) {
			r.rc = 1;
		} else {
			mf_port_opts o;
			mf_port_opts_init(&o);
			mf_transport *t = NULL;
			r.rc = mf_tty_open(path, &o, &t, r.err, sizeof r.err);
			if (t)
				t->ops->close(t);
		}
		ssize_t w = write(p[1], &r, sizeof r);
		_exit(w == (ssize_t)sizeof r ? 0 : 2);
	}
	close(p[1]);
	ssize_t n = read(p[0], a, sizeof *a);
	close(p[0]);
	waitpid(pid, NULL, 0);
	return n == (ssize_t)sizeof *a && a->rc != 1 ? 0 : -1;
}

int main(void)
{
	int master, slave;
	char name[64];
	if (openpty(&master, &slave, name, NULL, NULL) != 0) {
		printf("1..0 # SKIP no pty\n");
		return 0;
	}
	close(slave);
	chmod(name, 0666);
	char me[32];
	snprintf(me, sizeof me, "pid %ld ", (long)getpid());

	/* a child holds the port: named with its command */
	int sync_pipe[2];
	if (pipe(sync_pipe) != 0)
		return 1;
	pid_t child = fork();
	if (child == 0) {
		int fd = open(name, O_RDWR | O_NOCTTY);
		ssize_t w = write(sync_pipe[1], fd >= 0 ? "y" : "n", 1);
		(void)w;
		pause();
		_exit(0);
	}
	char c = 0;
	ssize_t got = read(sync_pipe[0], &c, 1);
	char who[200], want[64];
	int n = mf_holders(name, who, sizeof who);
	snprintf(want, sizeof want, "pid %ld (test_holder)", (long)child);
	ok(got == 1 && c == 'y' && n == 1 && strstr(who, want), "the process holding the port is named: %s", who);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	ok(mf_holders(name, who, sizeof who) == 0 && who[0] == 0, "nobody holds it after");
	ok(mf_holders("/nonexistent/port", who, sizeof who) == 0, "a path that does not exist: nobody");

	/* opened exclusively: another program gets EBUSY, and who holds it */
	char spec[80], err[MF_ERRLEN];
	snprintf(spec, sizeof spec, "tty:%s", name);
	mf_transport *t = NULL;
	int rc = mf_transport_open(spec, NULL, &t, err, sizeof err);
	ok(rc == MF_OK, "the port opens (%s)", rc == MF_OK ? "ok" : err);
	attempt a;
	if (open_as_nobody(name, &a) != 0) {
		for (int i = 0; i < 3; i++)
			ok(1, "# SKIP cannot become nobody (not root)");
	} else {
		/* root's process is not visible to nobody: the message says how to find it */
		ok(a.rc == MF_EBUSY && strstr(a.err, "busy") && strstr(a.err, "fuser"),
		   "another user's program gets busy: %s", a.err);
		if (t)
			t->ops->close(t);
		t = NULL;
		open_as_nobody(name, &a);
		ok(a.rc == MF_OK, "closed: the exclusive flag is cleared (%s)", a.rc == MF_OK ? "opens" : a.err);
		/* the holder is visible when it is the same user's */
		int ready[2];
		if (pipe(ready) != 0)
			return 1;
		pid_t holder = fork();
		if (holder == 0) {
			mf_transport *ht = NULL;
			char herr[MF_ERRLEN];
			int hrc = MF_EIO;
			if (setgid(NOBODY) == 0 && setuid(NOBODY) == 0) {
				prctl(PR_SET_DUMPABLE, 1); /* as a program started by that user is */
				hrc = mf_transport_open(spec, NULL, &ht, herr, sizeof herr);
			}
			ssize_t w = write(ready[1], hrc == MF_OK ? "y" : "n", 1);
			(void)w;
			pause();
			_exit(0);
		}
		got = read(ready[0], &c, 1);
		open_as_nobody(name, &a);
		snprintf(want, sizeof want, "held by pid %ld (test_holder)", (long)holder);
		ok(got == 1 && c == 'y' && a.rc == MF_EBUSY && strstr(a.err, want), "the same user's holder is named: %s", a.err);
		kill(holder, SIGKILL);
		waitpid(holder, NULL, 0);
		open_as_nobody(name, &a);
		printf("# a holder killed without closing: the next open %s (%s)\n",
		       a.rc == MF_OK ? "works" : "is still refused while the pty's other side stays open",
		       a.rc == MF_OK ? "ok" : a.err);
	}
	if (t)
		t->ops->close(t);
	ok(!strcmp(mf_strerror(MF_EBUSY), "busy") && !strcmp(mf_strerror(MF_EFOREIGN), "foreign"),
	   "the codes' names: busy, foreign");
	close(master);
	return tap_done();
}
