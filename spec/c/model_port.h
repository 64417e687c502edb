/*
** model_port.h: virtual time, and a scripted module behind a mock
** transport, for the model test (test_model.c) and the transfer fuzzer
** (spec/fuzz/fuzz_transfer.c).
**
** Time is virtual: the binary is linked with -Wl,--wrap for mf_now_ms,
** mf_sleep_ms, mf_left_ms and mf_write_all (the last two because their
** calls to the clock inside mf_transport.c are resolved in that object and
** never reach a wrapped symbol). A sleep adds to the clock; a read with a
** timeout moves the clock to the next delivery, the next event of the
** module (an escape it recognises), or the deadline, whichever is first.
** Nothing here ever waits on the wall clock.
**
** The module's output is a list of pieces of one byte stream, in order.
** Piece i becomes readable at max(at(i-1), gate) + delay: the gate is
** nothing, the host having written n bytes since data mode began, or the
** module having recognised "+++" (guard silence, "+++" within the guard,
** guard silence) or a DTR drop, whose answers are spliced in when it
** happens. Pieces of data-mode output (payload, the transfer's own end)
** that were not readable yet when the module left data mode by escape are
** never sent. A read returns the rest of one piece (or, with `merge`, every
** readable piece): the split points are the pieces' boundaries.
**
** The module also listens: bytes the host writes in data mode are data
** (the upload) unless they are a recognised escape; once the module has
** left data mode (its own exit after `exit_after` bytes or a `leaves`
** piece, an escape, a DTR drop) the host's bytes reach the AT interpreter,
** which the port counts as a fault when the host had already read the line
** that told it the module left (`exit_mark`).
*/
#ifndef MODEL_PORT_H
#define MODEL_PORT_H

#include "mf_transport.h"

#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MP_GATE_NONE, MP_GATE_WRITTEN, MP_GATE_ESCAPE, MP_GATE_DTR };
enum { MP_DATA, MP_AFTER }; /* cut by an escape, or not */

typedef struct mp_piece {
	size_t off, len;   /* in the module's output buffer */
	int delay_ms;      /* after the previous piece, or the gate */
	int gate;          /* MP_GATE_* */
	int64_t gate_n;    /* MP_GATE_WRITTEN: host bytes since data mode began */
	int role;          /* MP_DATA or MP_AFTER */
	int leaves;        /* the module is in command mode from this piece on */
	int exit_mark;     /* once read, the host knows the module left data mode */
	int cut;           /* never sent: the module had left data mode by escape */
	unsigned mark;     /* added to the port's `seen` once read whole */
	size_t got;        /* bytes of it the host has read */
} mp_piece;

/* A template piece for the answers spliced in at an escape or DTR drop. */
typedef struct mp_answer {
	const char *text;
	int delay_ms;
	unsigned mark;
} mp_answer;

#define MP_ANSWERS 4

typedef struct mp_port {
	mf_transport base;
	char *out;
	size_t out_len, out_cap;
	mp_piece *pc;
	size_t npc, pc_cap;
	size_t rd;               /* first piece not read whole */
	int64_t start_at;        /* the script's time 0 */
	int64_t prev_at;         /* when the last piece before rd that was sent became readable */
	size_t leaves_idx;       /* the piece that ends data mode on its own (npc: none) */
	int64_t leaves_at;       /* its time once known (-1) */
	size_t delivered;        /* module bytes read by the host */
	int merge;               /* a read may take several readable pieces */
	mp_answer esc_answer[MP_ANSWERS], dtr_answer[MP_ANSWERS];
	int esc_n, dtr_n;
	/* the host's bytes since data mode began, and when they came */
	char *in;
	size_t in_len, in_cap;
	int64_t *w_cum, *w_at;   /* per write: cumulative bytes, virtual time */
	size_t nw, w_cum_cap, w_at_cap;
	int64_t base_at;         /* when data mode began (mp_enter_data) */
	int64_t last_host_at;    /* last byte the host wrote (any mode) */
	/* the module */
	int guard_ms;            /* its escape guard time */
	int in_data;             /* 1 between mp_enter_data and leaving */
	int64_t left_at;         /* when it left data mode (-1) */
	int left_by;             /* 'x' own exit, 'e' escape, 'd' DTR */
	char *data;              /* what it took as data (the upload) */
	size_t data_len, data_cap;
	int64_t exit_after;      /* leaves data mode after this many data bytes (-1) */
	int esc_state;           /* '+' bytes seen of a possible escape (3: waiting for the guard after) */
	int64_t esc_t0, esc_t3;
	int64_t escaped_at;      /* -1 */
	int64_t dtr_at;          /* first DTR drop in data mode (-1) */
	int dtr;
	/* faults */
	int64_t close_at;        /* the port vanishes at this virtual time (-1) */
	int64_t stall_after;     /* the line takes no more host bytes after this many (-1) */
	int64_t wclose_after;    /* a write after this many host bytes: port closed (-1) */
	int64_t interrupt_at;    /* sets *interrupt at this virtual time (-1) */
	volatile sig_atomic_t *interrupt;
	/* what the oracle reads */
	int exit_seen;           /* the host read an exit_mark piece */
	unsigned seen;           /* marks of the pieces the host read whole */
	long writes_after_exit;  /* host bytes that reached the AT interpreter after that */
	long plus_to_cmd;        /* "+" bytes among those */
	long busy_reads;         /* consecutive reads that neither waited nor got bytes */
	int hung;                /* a busy loop or the hard deadline: calls now fail */
	int64_t hard_deadline;   /* virtual time no call may pass (0: none) */
	FILE *trace;
} mp_port;

/* ------------------------------------------------------------ the clock */

static int64_t mp_clock = 1000000; /* virtual ms; far from 0 so no deadline is negative */
static mp_port *mp_active;          /* the port whose module lives on this clock */

static void mp_settle(mp_port *p);

static void mp_tracef(mp_port *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void mp_tracef(mp_port *p, const char *fmt, ...)
{
	if (!p || !p->trace)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(p->trace, "#   [%7lld] ", (long long)(mp_clock - (p->base_at ? p->base_at : mp_clock)));
	vfprintf(p->trace, fmt, ap);
	fputc('\n', p->trace);
	va_end(ap);
}

int64_t __wrap_mf_now_ms(void);
void __wrap_mf_sleep_ms(int ms);
int __wrap_mf_left_ms(int64_t deadline_ms);
int __wrap_mf_write_all(mf_transport *t, const void *buf, size_t len, int64_t deadline_ms, size_t *written);

int64_t __wrap_mf_now_ms(void)
{
	return mp_clock;
}

/* Time passes in steps, so that the module's events (an escape, an
** interrupt) happen at their own time. */
void __wrap_mf_sleep_ms(int ms)
{
	if (ms > 0)
		mp_clock += ms;
	if (mp_active) {
		mp_tracef(mp_active, "sleep %d ms", ms);
		mp_settle(mp_active);
	}
}

/* mf_transport.c's own, on the virtual clock. */
int __wrap_mf_left_ms(int64_t deadline_ms)
{
	int64_t left_ms = deadline_ms - mp_clock;
	if (left_ms < 0)
		return 0;
	return left_ms > 0x7fffffff ? 0x7fffffff : (int)left_ms;
}

/* mf_transport.c's own loop (the same contract, line for line), with the
** wrapped mf_left_ms: the real one calls the real clock inside its object. */
int __wrap_mf_write_all(mf_transport *t, const void *buf, size_t len, int64_t deadline_ms, size_t *written)
{
	const char *b = buf;
	size_t done = 0;
	int rc = MF_OK;
	while (done < len) {
		int left_ms = __wrap_mf_left_ms(deadline_ms);
		long n = t->ops->write(t, b + done, len - done, left_ms);
		if (n < 0) {
			rc = (int)n;
			break;
		}
		done += (size_t)n;
		if (done < len && left_ms == 0) {
			snprintf(t->err, sizeof t->err, "write: deadline hit after %zu of %zu bytes", done, len);
			rc = MF_ETIMEOUT;
			break;
		}
	}
	if (written)
		*written = done;
	return rc;
}

/* ------------------------------------------------------- building a script */

static void *mp_grow(void *p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return p;
	size_t c = *cap ? *cap : 64;
	while (c < need)
		c *= 2;
	void *q = realloc(p, c * elem);
	if (!q)
		abort();
	*cap = c;
	return q;
}

/* Append bytes to the module's output as one piece. */
static mp_piece *mp_piece_add(mp_port *p, const char *bytes, size_t n, int delay_ms, int role)
{
	p->out = mp_grow(p->out, &p->out_cap, p->out_len + n + 1, 1);
	if (n)
		memcpy(p->out + p->out_len, bytes, n);
	p->pc = mp_grow(p->pc, &p->pc_cap, p->npc + 1, sizeof *p->pc);
	mp_piece *pc = &p->pc[p->npc++];
	memset(pc, 0, sizeof *pc);
	pc->off = p->out_len;
	pc->len = n;
	pc->delay_ms = delay_ms;
	pc->role = role;
	p->out_len += n;
	return pc;
}

static void mp_answer_add(mp_answer *a, int *n, const char *text, int delay_ms, unsigned mark)
{
	if (*n < MP_ANSWERS)
		a[(*n)++] = (mp_answer){text, delay_ms, mark};
}

static long mp_read(mf_transport *t, void *buf, size_t len, int timeout_ms);
static long mp_write(mf_transport *t, const void *buf, size_t len, int timeout_ms);
static int mp_drain(mf_transport *t, int timeout_ms);
static int mp_set_dtr(mf_transport *t, int on);
static int mp_set_rts(mf_transport *t, int on)
{
	(void)t;
	(void)on;
	return MF_OK;
}
static void mp_close(mf_transport *t)
{
	(void)t;
}

static const mf_transport_ops mp_ops = {"model", mp_read, mp_write, mp_drain, mp_set_dtr, mp_set_rts, mp_close};

static void mp_init(mp_port *p)
{
	memset(p, 0, sizeof *p);
	p->base.ops = &mp_ops;
	p->guard_ms = 1000;
	p->left_at = p->exit_after = p->escaped_at = p->dtr_at = -1;
	p->close_at = p->stall_after = p->wclose_after = p->interrupt_at = -1;
	p->dtr = 1;
	p->last_host_at = p->start_at = p->prev_at = mp_clock;
	p->leaves_at = -1;
	p->leaves_idx = (size_t)-1;
	mp_active = p;
}

static void mp_free(mp_port *p)
{
	free(p->out);
	free(p->pc);
	free(p->in);
	free(p->w_cum);
	free(p->w_at);
	free(p->data);
	if (mp_active == p)
		mp_active = NULL;
	memset(p, 0, sizeof *p);
}

static void mp_leave(mp_port *p, int64_t at, int by);

/* The host took CONNECT: from now on its bytes are data. */
static void mp_enter_data(mp_port *p)
{
	p->in_data = 1;
	p->base_at = mp_clock;
	p->in_len = 0;
	p->nw = 0;
	if (p->exit_after == 0)
		mp_leave(p, mp_clock, 'x');
}

/* --------------------------------------------------------------- the module */

static void mp_leave(mp_port *p, int64_t at, int by)
{
	if (!p->in_data)
		return;
	p->in_data = 0;
	p->left_at = at;
	p->left_by = by;
	mp_tracef(p, "module leaves data mode (%c) at +%lld", by, (long long)(at - p->base_at));
}

static void mp_data_byte(mp_port *p, char b)
{
	p->data = mp_grow(p->data, &p->data_cap, p->data_len + 1, 1);
	p->data[p->data_len++] = b;
	if (p->exit_after >= 0 && (int64_t)p->data_len >= p->exit_after)
		mp_leave(p, mp_clock, 'x');
}

/* '+' bytes held as a possible escape turn out to be data. */
static void mp_esc_release(mp_port *p)
{
	int n = p->esc_state;
	p->esc_state = 0;
	for (int i = 0; i < n && p->in_data; i++)
		mp_data_byte(p, '+');
}

static size_t mp_schedule(mp_port *p, size_t want);
static int64_t *mp_times;

/* Splice answers in after the pieces sent by `at`. */
static void mp_splice(mp_port *p, const mp_answer *a, int n, int64_t at)
{
	size_t known = mp_schedule(p, SIZE_MAX);
	size_t pos = p->rd;
	while (pos < p->npc && (p->pc[pos].cut || p->pc[pos].got > 0 || (pos < known && mp_times[pos] <= at)))
		pos++;
	for (int i = n - 1; i >= 0; i--) {
		mp_piece_add(p, a[i].text, strlen(a[i].text), a[i].delay_ms, MP_AFTER);
		mp_piece pc = p->pc[p->npc - 1];
		pc.gate = MP_GATE_ESCAPE; /* readable only after `at` */
		pc.gate_n = at;
		pc.mark = a[i].mark;
		memmove(&p->pc[pos + 1], &p->pc[pos], (p->npc - 1 - pos) * sizeof *p->pc);
		p->pc[pos] = pc;
	}
}

static int64_t mp_piece_at_(mp_port *p, size_t i, int64_t prev_at);

/* When the host had written n bytes since data mode began (-1: not yet). */
static int64_t mp_written_at(const mp_port *p, int64_t n)
{
	if (n <= 0)
		return p->base_at ? p->base_at : -1;
	size_t lo = 0, hi = p->nw;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (p->w_cum[mid] >= n)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo < p->nw ? p->w_at[lo] : -1;
}

/* When piece i becomes readable, given the previous one's time; -1: not
** known yet (its gate has not opened). */
static int64_t mp_piece_at_(mp_port *p, size_t i, int64_t prev_at)
{
	const mp_piece *pc = &p->pc[i];
	int64_t g = prev_at;
	if (pc->gate == MP_GATE_WRITTEN) {
		int64_t w = mp_written_at(p, pc->gate_n);
		if (w < 0)
			return -1;
		g = w > g ? w : g;
	} else if (pc->gate == MP_GATE_ESCAPE || pc->gate == MP_GATE_DTR) {
		g = pc->gate_n > g ? pc->gate_n : g;
	}
	return g + pc->delay_ms;
}

/* The readable times of the pieces from the first unread one, into
** mp_times[], for at most `want` pieces that are sent; returns the index
** past the last piece whose time is known. */
static size_t mp_times_cap;
static size_t mp_schedule(mp_port *p, size_t want)
{
	mp_times = mp_grow(mp_times, &mp_times_cap, p->npc + 1, sizeof *mp_times);
	int64_t prev = p->prev_at;
	size_t i, sent = 0;
	for (i = p->rd; i < p->npc && sent < want; i++) {
		if (p->pc[i].cut) {
			mp_times[i] = prev;
			continue;
		}
		int64_t at = mp_piece_at_(p, i, prev);
		if (at < 0)
			break;
		mp_times[i] = at;
		prev = at;
		sent++;
	}
	return i;
}

/* Bring the module up to the clock: an escape whose guard after has
** passed, pieces that end data mode, an interrupt that is due. */
static void mp_settle(mp_port *p)
{
	if (p->esc_state > 0 && p->esc_state < 3 && mp_clock - p->esc_t0 > p->guard_ms)
		mp_esc_release(p);
	if (p->esc_state == 3 && mp_clock >= p->esc_t3 + p->guard_ms && p->in_data) {
		int64_t at = p->esc_t3 + p->guard_ms;
		p->esc_state = 0;
		p->escaped_at = at;
		mp_leave(p, at, 'e');
		/* data-mode output not readable by then is never sent */
		size_t known = mp_schedule(p, SIZE_MAX);
		for (size_t i = p->rd; i < p->npc; i++)
			if (p->pc[i].role == MP_DATA && p->pc[i].got == 0 && (i >= known || mp_times[i] > at))
				p->pc[i].cut = 1;
		mp_splice(p, p->esc_answer, p->esc_n, at);
	}
	if (p->in_data && p->leaves_idx < p->npc) {
		if (p->leaves_at < 0 && p->leaves_idx >= p->rd &&
		    mp_schedule(p, SIZE_MAX) > p->leaves_idx)
			p->leaves_at = mp_times[p->leaves_idx];
		if (p->leaves_at >= 0 && p->leaves_at <= mp_clock)
			mp_leave(p, p->leaves_at, 'x');
	}
	if (p->interrupt && p->interrupt_at >= 0 && p->base_at && mp_clock >= p->interrupt_at && !*p->interrupt) {
		*p->interrupt = 1;
		mp_tracef(p, "interrupt");
	}
	if (p->hard_deadline && mp_clock > p->hard_deadline && !p->hung) {
		p->hung = 1;
		mp_tracef(p, "HUNG: past the hard deadline");
	}
}

/* The next time something happens on its own: a piece becomes readable, an
** escape completes, an interrupt, the port closes. -1: nothing. */
static int64_t mp_next_event(mp_port *p)
{
	int64_t best = -1;
#define MP_CONSIDER(t) do { int64_t t_ = (t); if (t_ > mp_clock && (best < 0 || t_ < best)) best = t_; } while (0)
	size_t known = mp_schedule(p, 1);
	for (size_t i = p->rd; i < known; i++)
		if (!p->pc[i].cut) {
			MP_CONSIDER(mp_times[i]);
			break;
		}
	if (p->esc_state == 3)
		MP_CONSIDER(p->esc_t3 + p->guard_ms);
	if (p->esc_state == 1 || p->esc_state == 2)
		MP_CONSIDER(p->esc_t0 + p->guard_ms + 1);
	if (p->interrupt_at >= 0)
		MP_CONSIDER(p->interrupt_at);
	if (p->close_at >= 0)
		MP_CONSIDER(p->close_at);
	if (p->in_data && p->leaves_at >= 0)
		MP_CONSIDER(p->leaves_at);
#undef MP_CONSIDER
	return best;
}

/* Copy what is readable now; 0 if nothing is. */
static size_t mp_take(mp_port *p, char *buf, size_t len)
{
	size_t n = 0;
	size_t known = mp_schedule(p, p->merge ? 64 : 1);
	while (p->rd < p->npc && n < len) {
		mp_piece *pc = &p->pc[p->rd];
		if (pc->cut || pc->got == pc->len) {
			p->rd++;
			continue;
		}
		if (p->rd >= known || mp_times[p->rd] > mp_clock || (p->close_at >= 0 && mp_times[p->rd] >= p->close_at))
			break;
		size_t k = pc->len - pc->got;
		if (k > len - n)
			k = len - n;
		memcpy(buf + n, p->out + pc->off + pc->got, k);
		pc->got += k;
		n += k;
		if (pc->got == pc->len) {
			if (pc->exit_mark)
				p->exit_seen = 1;
			p->seen |= pc->mark;
			p->prev_at = mp_times[p->rd];
			p->rd++;
			if (!p->merge)
				break;
		}
	}
	p->delivered += n;
	return n;
}

static int mp_closed(mp_port *p)
{
	return p->close_at >= 0 && mp_clock >= p->close_at;
}

static long mp_read(mf_transport *t, void *buf, size_t len, int timeout_ms)
{
	mp_port *p = (mp_port *)t;
	mp_settle(p);
	if (p->hung) {
		snprintf(t->err, sizeof t->err, "model: hung");
		return MF_EIO;
	}
	if (len == 0) { /* a full buffer: the real port is readable at once, the caller spins */
		mp_clock += timeout_ms > 0 ? 1 : 0;
		if (timeout_ms <= 0 && ++p->busy_reads > 1000000)
			p->hung = 1;
		return 0;
	}
	int64_t deadline = mp_clock + (timeout_ms > 0 ? timeout_ms : 0);
	for (;;) {
		size_t n = mp_take(p, buf, len);
		if (n) {
			p->busy_reads = 0;
			mp_tracef(p, "read %zu (timeout %d)", n, timeout_ms);
			return (long)n;
		}
		if (mp_closed(p)) {
			snprintf(t->err, sizeof t->err, "read: port closed");
			mp_tracef(p, "read: closed");
			return MF_ECLOSED;
		}
		int64_t next = mp_next_event(p);
		if (next < 0 || next > deadline)
			break;
		mp_clock = next;
		mp_settle(p);
	}
	if (mp_clock == deadline && timeout_ms <= 0) {
		if (++p->busy_reads > 1000000) {
			p->hung = 1;
			mp_tracef(p, "HUNG: a million reads without waiting");
		}
	} else {
		p->busy_reads = 0;
	}
	mp_clock = deadline;
	mp_settle(p);
	return 0;
}

/* One host byte reaches the module. */
static void mp_host_byte(mp_port *p, char b, int64_t gap_ms)
{
	if (!p->in_data) {
		if (p->exit_seen) {
			p->writes_after_exit++;
			if (b == '+')
				p->plus_to_cmd++;
		}
		return;
	}
	if (p->esc_state == 3) /* a byte within the guard after "+++": they were data */
		mp_esc_release(p);
	if (b == '+' && p->esc_state == 0 && gap_ms >= p->guard_ms) {
		p->esc_state = 1;
		p->esc_t0 = mp_clock;
		return;
	}
	if (b == '+' && (p->esc_state == 1 || p->esc_state == 2) && mp_clock - p->esc_t0 <= p->guard_ms) {
		if (++p->esc_state == 3)
			p->esc_t3 = mp_clock;
		return;
	}
	if (p->esc_state)
		mp_esc_release(p);
	if (p->in_data)
		mp_data_byte(p, b);
	else
		mp_host_byte(p, b, 0);
}

static long mp_write(mf_transport *t, const void *buf, size_t len, int timeout_ms)
{
	mp_port *p = (mp_port *)t;
	mp_settle(p);
	if (p->hung) {
		snprintf(t->err, sizeof t->err, "model: hung");
		return MF_EIO;
	}
	size_t n = len;
	if (p->wclose_after >= 0 && p->base_at && (int64_t)(p->in_len + n) > p->wclose_after)
		n = p->wclose_after > (int64_t)p->in_len ? (size_t)(p->wclose_after - (int64_t)p->in_len) : 0;
	if (mp_closed(p) || (n == 0 && len > 0 && p->wclose_after >= 0 && p->base_at)) {
		snprintf(t->err, sizeof t->err, "write: port closed");
		return MF_ECLOSED;
	}
	if (p->stall_after >= 0 && p->base_at) {
		int64_t room = p->stall_after - (int64_t)p->in_len;
		if (room <= 0) {
			mp_tracef(p, "write stalls %d ms", timeout_ms);
			mp_clock += timeout_ms > 0 ? timeout_ms : 0;
			mp_settle(p);
			return 0;
		}
		if ((int64_t)n > room)
			n = (size_t)room;
	}
	const char *b = buf;
	int64_t gap = mp_clock - p->last_host_at;
	for (size_t i = 0; i < n; i++) {
		mp_host_byte(p, b[i], i ? 0 : gap);
	}
	if (p->base_at) {
		p->in = mp_grow(p->in, &p->in_cap, p->in_len + n, 1);
		memcpy(p->in + p->in_len, b, n);
		p->in_len += n;
		p->w_cum = mp_grow(p->w_cum, &p->w_cum_cap, p->nw + 1, sizeof *p->w_cum);
		p->w_at = mp_grow(p->w_at, &p->w_at_cap, p->nw + 1, sizeof *p->w_at);
		p->w_cum[p->nw] = (int64_t)p->in_len;
		p->w_at[p->nw++] = mp_clock;
	}
	if (n)
		p->last_host_at = mp_clock;
	mp_tracef(p, "write %zu%s", n, n == 3 && memcmp(b, "+++", 3) == 0 ? " (+++)" : "");
	mp_settle(p);
	return (long)n;
}

static int mp_drain(mf_transport *t, int timeout_ms)
{
	mp_port *p = (mp_port *)t;
	if (p->stall_after >= 0 && p->base_at && (int64_t)p->in_len >= p->stall_after) {
		mp_clock += timeout_ms > 0 ? timeout_ms : 0;
		mp_settle(p);
		snprintf(t->err, sizeof t->err, "drain: the line does not move");
		return MF_ETIMEOUT;
	}
	return MF_OK;
}

static int mp_set_dtr(mf_transport *t, int on)
{
	mp_port *p = (mp_port *)t;
	mp_settle(p);
	mp_tracef(p, "DTR %s", on ? "on" : "off");
	if (!on && p->dtr && p->in_data) {
		p->dtr_at = mp_clock;
		mp_leave(p, mp_clock, 'd');
		mp_splice(p, p->dtr_answer, p->dtr_n, mp_clock);
	}
	p->dtr = on;
	return MF_OK;
}

#endif
