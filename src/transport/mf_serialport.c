/*
** mf_serialport.c: serial ports through libserialport (USB and UART ports
** it enumerates). I/O goes through the port's fd with poll so that every wait
** has a deadline and an unplugged device is reported as MF_ECLOSED.
*/
#include "mf_fdio.h"
#include "mf_holder.h"
#include "mf_transport.h"

#include <errno.h>
#include <libserialport.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	mf_transport base;
	struct sp_port *port;
	int fd;
} sp_transport;

static int sp_fail(mf_transport *t, const char *what)
{
	char *msg = sp_last_error_message();
	snprintf(t->err, sizeof t->err, "%s: %s", what, msg ? msg : "failed");
	sp_free_error_message(msg);
	return MF_EIO;
}

static long spt_read(mf_transport *t, void *buf, size_t len, int timeout_ms)
{
	return mf_fd_read(((sp_transport *)t)->fd, buf, len, timeout_ms, t->err, sizeof t->err);
}

static long spt_write(mf_transport *t, const void *buf, size_t len, int timeout_ms)
{
	return mf_fd_write(((sp_transport *)t)->fd, buf, len, timeout_ms, t->err, sizeof t->err);
}

static int spt_drain(mf_transport *t, int timeout_ms)
{
	sp_transport *s = (sp_transport *)t;
	int64_t deadline = mf_now_ms() + timeout_ms;
	while (sp_output_waiting(s->port) > 0) {
		if (mf_left_ms(deadline) == 0) {
			snprintf(t->err, sizeof t->err, "drain: output still queued");
			return MF_ETIMEOUT;
		}
		mf_sleep_ms(1);
	}
	return MF_OK;
}

static int spt_set_dtr(mf_transport *t, int on)
{
	if (sp_set_dtr(((sp_transport *)t)->port, on ? SP_DTR_ON : SP_DTR_OFF) != SP_OK)
		return sp_fail(t, "DTR");
	return MF_OK;
}

static int spt_set_rts(mf_transport *t, int on)
{
	if (sp_set_rts(((sp_transport *)t)->port, on ? SP_RTS_ON : SP_RTS_OFF) != SP_OK)
		return sp_fail(t, "RTS");
	return MF_OK;
}

static void spt_close(mf_transport *t)
{
	sp_transport *s = (sp_transport *)t;
	if (s->port) {
		mf_tty_exclusive(s->fd, 0);
		sp_close(s->port);
		sp_free_port(s->port);
	}
	free(s);
}

static const mf_transport_ops sp_ops = {
	"serial", spt_read, spt_write, spt_drain, spt_set_dtr, spt_set_rts, spt_close,
};

int mf_sp_open(const char *path, const mf_port_opts *o, mf_transport **out, char *err, size_t errlen)
{
	*out = NULL;
	sp_transport *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return MF_EMEM;
	}
	s->base.ops = &sp_ops;
	s->fd = -1;
	const char *step = "open";
	if (sp_get_port_by_name(path, &s->port) != SP_OK)
		goto fail;
	if (sp_open(s->port, SP_MODE_READ_WRITE) != SP_OK) {
		if (sp_last_error_code() == EBUSY) {
			mf_busy_message(path, err, errlen);
			spt_close(&s->base);
			return MF_EBUSY;
		}
		goto fail;
	}
	/* libserialport opens without O_CLOEXEC: a child (a job's os.execute)
	** would hold the port. */
	if (sp_get_port_handle(s->port, &s->fd) != SP_OK || mf_fd_set_cloexec(s->fd) < 0)
		goto fail;
	step = "configure";
	if (sp_set_baudrate(s->port, o->baud) != SP_OK || sp_set_bits(s->port, 8) != SP_OK ||
	    sp_set_parity(s->port, SP_PARITY_NONE) != SP_OK || sp_set_stopbits(s->port, 1) != SP_OK ||
	    sp_set_flowcontrol(s->port, o->rtscts ? SP_FLOWCONTROL_RTSCTS : SP_FLOWCONTROL_NONE) != SP_OK)
		goto fail;
	if (!o->rtscts && sp_set_dtr(s->port, o->dtr ? SP_DTR_ON : SP_DTR_OFF) != SP_OK)
		goto fail;
	if (mf_fd_set_nonblock(s->fd) < 0)
		goto fail;
	mf_tty_exclusive(s->fd, 1);
	*out = &s->base;
	return MF_OK;
fail:;
	char *msg = sp_last_error_message();
	snprintf(err, errlen, "%s: %s: %s", path, step, msg ? msg : "failed");
	sp_free_error_message(msg);
	spt_close(&s->base);
	return MF_EIO;
}
