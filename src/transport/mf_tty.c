/*
** mf_tty.c: any tty or pty by path, through termios.
** libserialport 0.1.1 refuses ptys (its sysfs lookup fails with "No such file
** or directory"), and gateways expose modems on odd ttys; plain termios opens
** them all. Raw 8N1, optional RTS/CTS; DTR/RTS by TIOCMBIS/TIOCMBIC (ptys
** have no modem lines: MF_ESUPP).
*/
#include "mf_fdio.h"
#include "mf_holder.h"
#include "mf_transport.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

typedef struct {
	mf_transport base;
	int fd;
} tty_port;

static long tty_read(mf_transport *t, void *buf, size_t len, int timeout_ms)
{
	return mf_fd_read(((tty_port *)t)->fd, buf, len, timeout_ms, t->err, sizeof t->err);
}

static long tty_write(mf_transport *t, const void *buf, size_t len, int timeout_ms)
{
	return mf_fd_write(((tty_port *)t)->fd, buf, len, timeout_ms, t->err, sizeof t->err);
}

static int tty_drain(mf_transport *t, int timeout_ms)
{
	/* tcdrain() has no deadline; poll the output queue instead. */
	int fd = ((tty_port *)t)->fd;
	int64_t deadline = mf_now_ms() + timeout_ms;
	for (;;) {
		int pending = 0;
		if (ioctl(fd, TIOCOUTQ, &pending) < 0 || pending <= 0)
			return MF_OK;
		if (mf_left_ms(deadline) == 0) {
			snprintf(t->err, sizeof t->err, "drain: %d bytes still queued", pending);
			return MF_ETIMEOUT;
		}
		mf_sleep_ms(1);
	}
}

static int modem_line(mf_transport *t, int bit, int on)
{
	int fd = ((tty_port *)t)->fd;
	if (ioctl(fd, on ? TIOCMBIS : TIOCMBIC, &bit) < 0) {
		int e = errno;
		snprintf(t->err, sizeof t->err, "%s: %s", bit == TIOCM_DTR ? "DTR" : "RTS", strerror(e));
		return (e == ENOTTY || e == EINVAL) ? MF_ESUPP : MF_EIO;
	}
	return MF_OK;
}

static int tty_set_dtr(mf_transport *t, int on) { return modem_line(t, TIOCM_DTR, on); }
static int tty_set_rts(mf_transport *t, int on) { return modem_line(t, TIOCM_RTS, on); }

static void tty_close(mf_transport *t)
{
	tty_port *p = (tty_port *)t;
	if (p->fd >= 0) {
		mf_tty_exclusive(p->fd, 0); /* a pty's other side keeps the flag otherwise */
		close(p->fd);
	}
	free(p);
}

static const mf_transport_ops tty_ops = {
	"tty", tty_read, tty_write, tty_drain, tty_set_dtr, tty_set_rts, tty_close,
};

static speed_t baud_const(int baud)
{
	switch (baud) {
	case 9600: return B9600;
	case 19200: return B19200;
	case 38400: return B38400;
	case 57600: return B57600;
	case 115200: return B115200;
	case 230400: return B230400;
	case 460800: return B460800;
	case 921600: return B921600;
	case 1000000: return B1000000;
	case 2000000: return B2000000;
	case 3000000: return B3000000;
	case 4000000: return B4000000;
	default: return 0;
	}
}

int mf_tty_open(const char *path, const mf_port_opts *o, mf_transport **out, char *err, size_t errlen)
{
	*out = NULL;
	speed_t sp = baud_const(o->baud);
	if (!sp) {
		snprintf(err, errlen, "%s: unsupported baud rate %d", path, o->baud);
		return MF_EARG;
	}
	int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == EBUSY) { /* opened exclusively by another process */
			mf_busy_message(path, err, errlen);
			return MF_EBUSY;
		}
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return e == ENOENT || e == ENXIO ? MF_ECLOSED : MF_EIO;
	}
	mf_tty_exclusive(fd, 1); /* one program on an AT port */
	struct termios tio;
	if (tcgetattr(fd, &tio) < 0) {
		snprintf(err, errlen, "%s: not a tty: %s", path, strerror(errno));
		close(fd);
		return MF_EIO;
	}
	cfmakeraw(&tio);
	tio.c_cflag |= CLOCAL | CREAD;
	tio.c_cflag &= ~(CSTOPB | PARENB | CRTSCTS);
	if (o->rtscts)
		tio.c_cflag |= CRTSCTS;
	tio.c_cc[VMIN] = 1;
	tio.c_cc[VTIME] = 0;
	cfsetispeed(&tio, sp);
	cfsetospeed(&tio, sp);
	if (tcsetattr(fd, TCSANOW, &tio) < 0) {
		snprintf(err, errlen, "%s: tcsetattr: %s", path, strerror(errno));
		close(fd);
		return MF_EIO;
	}
	tty_port *p = calloc(1, sizeof *p);
	if (!p) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return MF_EMEM;
	}
	p->base.ops = &tty_ops;
	p->fd = fd;
	/* DTR is best effort: a pty has none. */
	(void)modem_line(&p->base, TIOCM_DTR, o->dtr);
	p->base.err[0] = 0;
	*out = &p->base;
	return MF_OK;
}
