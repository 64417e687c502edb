/*
** mock_transport.h: an in-memory transport for the C tests.
** The modem side is a canned byte string delivered at most `chunk` bytes per
** read (1 = byte at a time), optionally only after the host has written a
** given number of bytes (`gate`, so replies follow commands). Host writes are
** captured. When the canned bytes run out, reads time out (no sleeping: the
** tests' deadlines are short) or, with `eof`, report the port closed.
** A gate may also hold its bytes back for some milliseconds after the host
** wrote its count (`mock_gate_ms`: a module that answers a guard time after
** "+++"); the test's other checks then keep a generous margin to it.
*/
#ifndef MOCK_TRANSPORT_H
#define MOCK_TRANSPORT_H
#include "mf_transport.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOCK_DTR_WEIGHT 1000000u

typedef struct mock {
	mf_transport base;
	const char *in;
	size_t in_len, in_pos;
	size_t chunk;
	/* gates: in[gate_at[i]..] is readable only once the host wrote gate[i] bytes */
	size_t gate_at[8], gate[8];
	int ngates;
	char out[1 << 16];
	size_t out_len;
	size_t out_total;
	int eof;
	int dtr;
	int dtr_changes;
	int closed;
	/* mock_gate_ms: gate i opens gate_ms[i] after the host reached its count */
	int gate_ms[8];
	int64_t gate_open[8]; /* when it opens; 0 while the count is not reached */
} mock;

static long mock_read(mf_transport *t, void *buf, size_t len, int timeout_ms)
{
	mock *m = (mock *)t;
	size_t limit = m->in_len;
	/* a DTR change counts as MOCK_DTR_WEIGHT written bytes, so a gate can wait for it */
	size_t written = m->out_total + (size_t)m->dtr_changes * MOCK_DTR_WEIGHT;
	for (int i = 0; i < m->ngates; i++) {
		int shut = written < m->gate[i];
		if (!shut && m->gate_ms[i] > 0) {
			if (!m->gate_open[i])
				m->gate_open[i] = mf_now_ms() + m->gate_ms[i];
			shut = mf_now_ms() < m->gate_open[i];
		}
		if (shut && m->gate_at[i] < limit)
			limit = m->gate_at[i];
	}
	if (m->in_pos >= limit) {
		if (m->eof && m->in_pos >= m->in_len) {
			snprintf(t->err, sizeof t->err, "read: port closed (end of file)");
			return MF_ECLOSED;
		}
		if (timeout_ms > 0)
			mf_sleep_ms(timeout_ms < 5 ? timeout_ms : 5);
		return 0;
	}
	size_t n = limit - m->in_pos;
	if (n > len)
		n = len;
	if (n > m->chunk)
		n = m->chunk;
	memcpy(buf, m->in + m->in_pos, n);
	m->in_pos += n;
	return (long)n;
}

static long mock_write(mf_transport *t, const void *buf, size_t len, int timeout_ms)
{
	mock *m = (mock *)t;
	(void)timeout_ms;
	size_t room = sizeof m->out - m->out_len;
	memcpy(m->out + m->out_len, buf, len < room ? len : room);
	m->out_len += len < room ? len : room;
	m->out_total += len;
	return (long)len;
}

static int mock_drain(mf_transport *t, int ms) { (void)t; (void)ms; return MF_OK; }
static int mock_dtr(mf_transport *t, int on) { ((mock *)t)->dtr = on; ((mock *)t)->dtr_changes++; return MF_OK; }
static int mock_rts(mf_transport *t, int on) { (void)t; (void)on; return MF_OK; }
static void mock_close(mf_transport *t) { ((mock *)t)->closed = 1; }

static const mf_transport_ops mock_ops = {
	"mock", mock_read, mock_write, mock_drain, mock_dtr, mock_rts, mock_close,
};

/* Bytes from offset `at` of the canned input wait until the host wrote `written` bytes. */
static void mock_gate(mock *m, size_t at, size_t written)
{
	m->gate_at[m->ngates] = at;
	m->gate[m->ngates++] = written;
}

/* The same, and only ms milliseconds after the host wrote them (the time
** counts from the first read that finds the count reached). */
__attribute__((unused)) static void mock_gate_ms(mock *m, size_t at, size_t written, int ms)
{
	m->gate_ms[m->ngates] = ms;
	mock_gate(m, at, written);
}

static mock *mock_new(const char *in, size_t in_len, size_t chunk)
{
	mock *m = calloc(1, sizeof *m);
	m->base.ops = &mock_ops;
	m->in = in;
	m->in_len = in_len;
	m->chunk = chunk ? chunk : 1;
	return m;
}
#endif
