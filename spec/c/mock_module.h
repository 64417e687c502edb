/*
** mock_module.h: a small model of the module behind a transport, for the
** C tests of the recovery sequence (test_sync.c) and the owed answers.
**
** Unlike mock_transport.h (canned bytes), this one answers what the host
** writes: it assembles command lines (echo, backspace-free), runs a few
** commands (AT, ATE, ATV, ATQ in any combination, AT+CMEE, AT+CPIN?,
** AT+CSQ, AT+GCAP, AT+QFTPSTAT), and can be found in the states the real
** module is left in: upload data mode (host bytes are file data until
** "+++" framed by guard times: OK, then "+QFTPPUT: 0,<n>"), a download
** streaming its payload (until "+++": OK), booting (deaf, then RDY), a
** stall (input kept, answered after), late replies, numeric codes, echo
** off, a half-typed line, a SIM busy for a number of AT+CPIN?, a foreign
** prober. Output goes out at most `chunk` bytes per read (1, 7, 4096), in
** order; a part can be held until a time (late replies, stalls). Time is
** the real clock (mf_now_ms): the tests use short guard times and
** deadlines with margins, never exact timings.
*/
#ifndef MOCK_MODULE_H
#define MOCK_MODULE_H
#include "mf_transport.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOD_OUT_MAX 64
#define MOD_HOST_MAX 8192

enum { MOD_CMD, MOD_UPLOAD, MOD_DOWNLOAD };

typedef struct mod_out {
	char *bytes;
	size_t len, pos;
	int64_t due_ms; /* not before then (late replies, stalls) */
	int aside;      /* a URC due later: what is queued after it may overtake it */
} mod_out;

typedef struct mod {
	mf_transport base;
	size_t chunk;
	int guard_ms;
	int mode, echo, verbose;
	char line[512];
	size_t line_len;
	mod_out out[MOD_OUT_MAX]; /* oldest first */
	int nout;
	int64_t deaf_until;  /* booting: input dropped; RDY then */
	int rdy_pending;
	int64_t stall_until; /* stalled: input kept, answered after */
	char held[4096];
	size_t held_len;
	int late_ms;         /* the next command line's final comes this much later */
	int cpin_busy;       /* AT+CPIN? answers +CME ERROR: 14 this many more times */
	int64_t last_write_ms;
	int64_t escape_at;   /* a "+++" after a guard silence came then (0: none) */
	long upload_bytes;
	long payload_sent;
	int result_delay_ms; /* the upload's "+QFTPPUT" that long after its OK */
	char host[MOD_HOST_MAX]; /* what the host wrote (command mode and data) */
	size_t host_len;
	int lines_run;
} mod;

static void mod_emit_at(mod *m, const char *b, size_t n, int64_t due_ms)
{
	if (!n)
		return;
	/* join the last item when due at the same time: fewer, larger reads */
	if (m->nout && m->out[m->nout - 1].due_ms == due_ms && !m->out[m->nout - 1].aside) {
		mod_out *o = &m->out[m->nout - 1];
		o->bytes = realloc(o->bytes, o->len + n);
		memcpy(o->bytes + o->len, b, n);
		o->len += n;
		return;
	}
	if (m->nout == MOD_OUT_MAX)
		return;
	mod_out *o = &m->out[m->nout++];
	o->bytes = malloc(n);
	memcpy(o->bytes, b, n);
	o->len = n;
	o->pos = 0;
	o->due_ms = due_ms;
	o->aside = 0;
}

/* Output goes no earlier than what is queued before it: order is kept. */
static int64_t mod_due(mod *m, int delay_ms)
{
	int64_t due = mf_now_ms() + delay_ms;
	if (m->stall_until > due)
		due = m->stall_until;
	for (int i = m->nout - 1; i >= 0; i--)
		if (!m->out[i].aside) {
			if (m->out[i].due_ms > due)
				due = m->out[i].due_ms;
			break;
		}
	return due;
}

static void mod_emit(mod *m, const char *s, int delay_ms)
{
	mod_emit_at(m, s, strlen(s), mod_due(m, delay_ms));
}

/* A URC that comes delay_ms from now whatever is queued: answers queued
** after it may overtake it (the module prints a job's result when the job
** ends, not after the host's next command). */
static void mod_urc_later(mod *m, const char *text, int delay_ms)
{
	if (m->nout == MOD_OUT_MAX)
		return;
	char b[256];
	int n = snprintf(b, sizeof b, m->verbose ? "\r\n%s\r\n" : "%s\r\n", text);
	mod_out *o = &m->out[m->nout++];
	o->bytes = malloc((size_t)n);
	memcpy(o->bytes, b, (size_t)n);
	o->len = (size_t)n;
	o->pos = 0;
	o->due_ms = mf_now_ms() + delay_ms;
	o->aside = 1;
}

static void mod_info(mod *m, const char *text, int delay_ms)
{
	char b[256];
	snprintf(b, sizeof b, m->verbose ? "\r\n%s\r\n" : "%s\r\n", text);
	mod_emit(m, b, delay_ms);
}

static void mod_final(mod *m, int ok, int delay_ms)
{
	mod_emit(m, m->verbose ? (ok ? "\r\nOK\r\n" : "\r\nERROR\r\n") : (ok ? "0\r" : "4\r"), delay_ms);
}

/* Basic commands: E, V, Q with digits, in any combination. */
static int mod_basic(mod *m, const char *p)
{
	while (*p) {
		int c = toupper((unsigned char)*p++);
		long v = isdigit((unsigned char)*p) ? strtol(p, (char **)&p, 10) : 0;
		if (c == 'E' && v <= 1)
			m->echo = (int)v;
		else if (c == 'V' && v <= 1)
			m->verbose = (int)v;
		else if (!(c == 'Q' && v == 0))
			return 0;
	}
	return 1;
}

static void mod_run(mod *m, const char *line)
{
	const char *p = line;
	while (*p && !(toupper((unsigned char)p[0]) == 'A' && toupper((unsigned char)p[1]) == 'T'))
		p++; /* noise before AT, as the module skips it */
	if (!*p)
		return;
	m->lines_run++;
	p += 2;
	int late = m->late_ms;
	m->late_ms = 0;
	if (!strcmp(p, "") || (*p != '+' && mod_basic(m, p))) {
		mod_final(m, 1, late);
	} else if (!strcmp(p, "+CMEE=1")) {
		mod_final(m, 1, late);
	} else if (!strcmp(p, "+CPIN?")) {
		if (m->cpin_busy > 0) {
			m->cpin_busy--;
			mod_emit(m, m->verbose ? "\r\n+CME ERROR: 14\r\n" : "+CME ERROR: 14\r\n", late);
		} else {
			mod_info(m, "+CPIN: READY", late);
			mod_final(m, 1, late);
		}
	} else if (!strcmp(p, "+CSQ")) {
		mod_info(m, "+CSQ: 20,99", late);
		mod_final(m, 1, late);
	} else if (!strcmp(p, "+GCAP")) {
		mod_info(m, "+GCAP: +CGSM", late);
		mod_final(m, 1, late);
	} else if (!strncmp(p, "+QFTPPUT=", 9)) {
		mod_emit(m, "\r\nCONNECT\r\n", late);
		m->mode = MOD_UPLOAD;
		m->upload_bytes = 0;
	} else if (!strcmp(p, "+QFTPSTAT")) {
		mod_final(m, 1, late);
		mod_info(m, "+QFTPSTAT: 0,1", late);
	} else {
		mod_final(m, 0, late);
	}
}

static void mod_feed(mod *m, const char *b, size_t n);

/* Time passes: a boot ends, a stall ends, a "+++" followed by a guard time
** of silence leaves data mode. */
static void mod_tick(mod *m)
{
	int64_t now = mf_now_ms();
	if (m->rdy_pending && now >= m->deaf_until) {
		m->rdy_pending = 0;
		mod_emit(m, "\r\nRDY\r\n", 0);
	}
	if (m->stall_until && now >= m->stall_until) {
		size_t n = m->held_len;
		char tmp[sizeof m->held];
		memcpy(tmp, m->held, n);
		m->held_len = 0;
		m->stall_until = 0;
		mod_feed(m, tmp, n); /* as if it arrived now, in one piece */
	}
	if (m->escape_at && now - m->escape_at >= m->guard_ms) {
		m->escape_at = 0;
		int was = m->mode;
		m->mode = MOD_CMD;
		mod_final(m, 1, 0);
		if (was == MOD_UPLOAD) {
			char r[64];
			snprintf(r, sizeof r, "+QFTPPUT: 0,%ld", m->upload_bytes);
			mod_urc_later(m, r, m->result_delay_ms);
		}
	}
}

static void mod_feed(mod *m, const char *b, size_t n)
{
	int64_t now = mf_now_ms();
	if (m->deaf_until && now < m->deaf_until)
		return; /* booting: nobody listens */
	if (m->stall_until && now < m->stall_until) {
		if (m->held_len + n <= sizeof m->held) {
			memcpy(m->held + m->held_len, b, n);
			m->held_len += n;
		}
		return;
	}
	if (m->mode != MOD_CMD) {
		int quiet_before = now - m->last_write_ms >= m->guard_ms;
		if (n == 3 && !memcmp(b, "+++", 3) && quiet_before) {
			m->escape_at = now;
			return;
		}
		if (m->escape_at) { /* no silence after: the "+++" was data */
			m->escape_at = 0;
			if (m->mode == MOD_UPLOAD)
				m->upload_bytes += 3;
		}
		if (m->mode == MOD_UPLOAD)
			m->upload_bytes += (long)n;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char c = b[i];
		if (m->echo)
			mod_emit_at(m, &c, 1, mod_due(m, 0));
		if (c == '\r') {
			m->line[m->line_len] = 0;
			m->line_len = 0;
			mod_run(m, m->line);
		} else if (m->line_len + 1 < sizeof m->line) {
			m->line[m->line_len++] = c;
		}
	}
}

static long mod_read(mf_transport *t, void *buf, size_t len, int timeout_ms)
{
	mod *m = (mod *)t;
	int64_t deadline = mf_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	for (;;) {
		mod_tick(m);
		if (m->mode == MOD_DOWNLOAD && !m->nout) { /* the payload flows while nothing else waits */
			char pay[512];
			for (size_t i = 0; i < sizeof pay; i++)
				pay[i] = (char)(((size_t)m->payload_sent + i) * 131 % 251);
			m->payload_sent += (long)sizeof pay;
			mod_emit_at(m, pay, sizeof pay, mf_now_ms());
		}
		/* the first item due, passing only URCs set aside (in order otherwise) */
		int at = 0;
		while (at < m->nout && m->out[at].aside && m->out[at].due_ms > mf_now_ms() && m->out[at].pos == 0)
			at++;
		if (at < m->nout && m->out[at].due_ms <= mf_now_ms()) {
			mod_out *o = &m->out[at];
			size_t k = o->len - o->pos;
			if (k > len)
				k = len;
			if (k > m->chunk)
				k = m->chunk;
			memcpy(buf, o->bytes + o->pos, k);
			o->pos += k;
			if (o->pos == o->len) {
				free(o->bytes);
				memmove(&m->out[at], &m->out[at + 1], (size_t)(m->nout - at - 1) * sizeof m->out[0]);
				m->nout--;
			}
			return (long)k;
		}
		if (mf_now_ms() >= deadline)
			return 0;
		mf_sleep_ms(1);
	}
}

static long mod_write(mf_transport *t, const void *buf, size_t len, int timeout_ms)
{
	mod *m = (mod *)t;
	(void)timeout_ms;
	size_t room = sizeof m->host - m->host_len;
	memcpy(m->host + m->host_len, buf, len < room ? len : room);
	m->host_len += len < room ? len : room;
	mod_tick(m);
	mod_feed(m, buf, len);
	m->last_write_ms = mf_now_ms();
	return (long)len;
}

static int mod_drain(mf_transport *t, int ms) { (void)t; (void)ms; return MF_OK; }
static int mod_line(mf_transport *t, int on) { (void)t; (void)on; return MF_OK; }
static void mod_close(mf_transport *t)
{
	mod *m = (mod *)t;
	for (int i = 0; i < m->nout; i++)
		free(m->out[i].bytes);
	m->nout = 0;
}

static const mf_transport_ops mod_ops = {"mockmodule", mod_read, mod_write, mod_drain, mod_line, mod_line, mod_close};

/* A clean module: echo on, verbose, command mode. */
static mod *mod_new(size_t chunk, int guard_ms)
{
	mod *m = calloc(1, sizeof *m);
	m->base.ops = &mod_ops;
	m->chunk = chunk ? chunk : 1;
	m->guard_ms = guard_ms;
	m->echo = 1;
	m->verbose = 1;
	m->last_write_ms = mf_now_ms() - 10 * guard_ms;
	return m;
}

/* States. */
__attribute__((unused)) static void mod_boot(mod *m, int deaf_ms, int cpin_busy)
{
	m->deaf_until = mf_now_ms() + deaf_ms;
	m->rdy_pending = 1;
	m->cpin_busy = cpin_busy;
}

__attribute__((unused)) static void mod_stall(mod *m, int ms) { m->stall_until = mf_now_ms() + ms; }

__attribute__((unused)) static void mod_half_line(mod *m, const char *text)
{
	m->line_len = strlen(text);
	memcpy(m->line, text, m->line_len);
}

/* Another program's probe, printed now: its echo and the module's answer. */
__attribute__((unused)) static void mod_probe(mod *m)
{
	mod_emit(m, m->echo ? "AT+GCAP\r\r\n+GCAP: +CGSM\r\n\r\nOK\r\n" : "\r\n+GCAP: +CGSM\r\n\r\nOK\r\n", 0);
}

__attribute__((unused)) static int mod_host_has(const mod *m, const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i + n <= m->host_len; i++)
		if (!memcmp(m->host + i, s, n))
			return 1;
	return 0;
}
#endif
