/*
** mf_chat.c: AT command engine (see mf_chat.h).
*/
#include "mf_chat.h"
#include "mf_lines.h"
#include "mf_rx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STRLIST_MAX (4u << 20) /* a reply bigger than this is garbage */

void mf_strlist_clear(mf_strlist *l)
{
	l->len = 0;
	l->n = 0;
}

void mf_strlist_free(mf_strlist *l)
{
	free(l->buf);
	memset(l, 0, sizeof *l);
}

int mf_strlist_add(mf_strlist *l, const char *s, size_t n)
{
	if (l->len + n + 1 > l->cap) {
		size_t cap = l->cap ? l->cap : 256;
		while (cap < l->len + n + 1)
			cap *= 2;
		if (cap > STRLIST_MAX)
			return MF_EPROTO;
		char *b = realloc(l->buf, cap);
		if (!b)
			return MF_EMEM;
		l->buf = b;
		l->cap = cap;
	}
	memcpy(l->buf + l->len, s, n);
	l->buf[l->len + n] = 0;
	l->len += n + 1;
	l->n++;
	return MF_OK;
}

const char *mf_strlist_next(const mf_strlist *l, const char *prev)
{
	if (!prev)
		return l->n ? l->buf : NULL;
	const char *next = prev + strlen(prev) + 1;
	return next < l->buf + l->len ? next : NULL;
}

int mf_chat_init(mf_chat *c, mf_transport *t)
{
	memset(c, 0, sizeof *c);
	c->buf = malloc(MF_CHAT_BUF);
	c->redact = mf_redactor_new();
	if (!c->buf || !c->redact) {
		free(c->buf);
		mf_redactor_free(c->redact);
		c->buf = NULL;
		c->redact = NULL;
		return MF_EMEM;
	}
	c->t = t;
	mf_at_init(&c->p);
	return MF_OK;
}

void mf_chat_free(mf_chat *c)
{
	if (c->t)
		c->t->ops->close(c->t);
	c->t = NULL;
	free(c->buf);
	c->buf = NULL;
	mf_strlist_free(&c->urcs);
	mf_redactor_free(c->redact);
	c->redact = NULL;
}

void mf_reply_init(mf_reply *r)
{
	memset(r, 0, sizeof *r);
	r->cme = -1;
}

void mf_reply_free(mf_reply *r)
{
	mf_strlist_free(&r->info);
}

void mf_chat_trace(mf_chat *c, char dir, const char *text, size_t len)
{
	/* Every line the engine sends or takes passes here: learn its secrets
	** first, whichever way it went (the module prints the password when
	** asked for the account), traced or not (port:redact uses them). */
	mf_redact_learn(c->redact, text, len);
	FILE *out = c->trace_stream ? c->trace_stream(c->trace_ud) : c->trace;
	if (!out)
		return;
	char stamp[32];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
	char *red = malloc(2 * len + 1);
	if (!red)
		return;
	size_t n = mf_redact(c->redact, text, len, red);
	fprintf(out, "%s.%03ld %c %.*s\n", stamp, ts.tv_nsec / 1000000, dir, (int)n, red);
	fflush(out);
	free(red);
}

/* Queue a URC; the oldest goes when the queue is full. */
static void queue_urc(mf_chat *c, const char *line)
{
	if (c->urcs.n >= MF_URC_MAX) {
		const char *first = c->urcs.buf;
		size_t skip = strlen(first) + 1;
		memmove(c->urcs.buf, c->urcs.buf + skip, c->urcs.len - skip);
		c->urcs.len -= skip;
		c->urcs.n--;
		c->urcs_dropped++;
	}
	if (mf_strlist_add(&c->urcs, line, strlen(line)) != MF_OK)
		c->urcs_dropped++;
	else
		c->urcs_total++;
}

/* Read more bytes into the buffer (appending); returns bytes, 0, or MF_E*. */
static long fill(mf_chat *c, int timeout_ms)
{
	if (c->pos == c->len)
		c->pos = c->len = 0;
	else if (c->len == MF_CHAT_BUF) {
		memmove(c->buf, c->buf + c->pos, c->len - c->pos);
		c->len -= c->pos;
		c->pos = 0;
	}
	if (c->len == MF_CHAT_BUF) { /* a read of 0 bytes would look like end of file */
		snprintf(c->err, sizeof c->err, "receive buffer full (%d bytes not taken)", MF_CHAT_BUF);
		return MF_EPROTO;
	}
	long n = c->t->ops->read(c->t, c->buf + c->len, MF_CHAT_BUF - c->len, timeout_ms);
	if (n > 0)
		c->len += (size_t)n;
	else if (n < 0)
		snprintf(c->err, sizeof c->err, "%s", c->t->err);
	return n;
}

int mf_chat_send(mf_chat *c, const char *cmd, int timeout_ms)
{
	size_t n = strlen(cmd);
	char *line = malloc(n + 1);
	if (!line)
		return MF_EMEM;
	memcpy(line, cmd, n);
	line[n] = '\r';
	mf_chat_trace(c, '>', cmd, n); /* learns its secrets too */
	int rc = mf_write_all(c->t, line, n + 1, mf_now_ms() + timeout_ms, NULL);
	free(line);
	if (rc != MF_OK)
		snprintf(c->err, sizeof c->err, "%s", c->t->err);
	return rc;
}

static int ends_wait(mf_reply *r, int rc)
{
	r->done = 1;
	r->rc = rc;
	return 1;
}

/* A line that means the module restarted, or lost the data link an FTP
** wait depends on: the module will not answer that wait usefully. */
static int is_fatal_urc(const char *line, const mf_cmd_opts *o)
{
	unsigned cls = mf_line_classes(line, strlen(line));
	if (cls & MF_LC_REBOOT)
		return 1;
	return (cls & MF_LC_PDP_LOST) && o->result && strncmp(o->result, "+QFTP", 5) == 0;
}

/* Handle one complete line; returns 1 when the wait is over. */
static int handle_line(mf_chat *c, const char *cmd, const mf_cmd_opts *o, mf_reply *r, const char *line)
{
	mf_at_ctx ctx = {cmd, r->echo_done};
	mf_line_kind k = mf_at_classify(line, &ctx);
	mf_chat_trace(c, '<', line, strlen(line));
	switch (k) {
	case MF_LINE_ECHO:
		r->echo_done = 1;
		return 0;
	case MF_LINE_OK:
		if (r->got_final) { /* a stray OK after ours (e.g. after data mode) */
			return 0;
		}
		r->got_final = 1;
		snprintf(r->final, sizeof r->final, "%s", line);
		if (!o->result || r->result[0])
			return ends_wait(r, MF_OK);
		return 0;
	case MF_LINE_ERROR:
	case MF_LINE_CME:
	case MF_LINE_NO_CARRIER:
		snprintf(r->final, sizeof r->final, "%s", line);
		r->got_final = 1;
		r->cme = mf_at_cme_code(line);
		return ends_wait(r, MF_EMODEM);
	case MF_LINE_CONNECT:
		if (o->connect && !r->got_final) {
			snprintf(r->final, sizeof r->final, "%s", line);
			r->connect = 1;
			return ends_wait(r, MF_OK);
		}
		break; /* unexpected CONNECT: keep it as info */
	case MF_LINE_INFO:
		if (o->result && mf_at_has_prefix(line, o->result) && !r->result[0] &&
		    (r->got_final || o->result_early || o->connect)) {
			snprintf(r->result, sizeof r->result, "%s", line);
			/* A data-mode command answered by its result alone (no OK, no
			** CONNECT) was refused: the wait is over. */
			if (r->got_final || o->connect)
				return ends_wait(r, MF_OK);
			return 0;
		}
		if (r->got_final) { /* the command is answered: anything else is unsolicited */
			queue_urc(c, line);
			return 0;
		}
		break;
	case MF_LINE_URC:
		queue_urc(c, line);
		if (is_fatal_urc(line, o)) {
			snprintf(r->final, sizeof r->final, "%s", line);
			return ends_wait(r, MF_EMODEM);
		}
		return 0;
	}
	if (mf_strlist_add(&r->info, line, strlen(line)) != MF_OK) {
		snprintf(c->err, sizeof c->err, "reply too long (more than %u bytes of lines)", STRLIST_MAX);
		return ends_wait(r, MF_EPROTO);
	}
	return 0;
}

/* Parse buffered bytes; 1 when the wait is over. */
static int parse_buffered(mf_chat *c, const char *cmd, const mf_cmd_opts *o, mf_reply *r)
{
	while (c->pos < c->len && !r->done) {
		int ready;
		c->pos += mf_at_feed(&c->p, c->buf + c->pos, c->len - c->pos, &ready);
		if (ready)
			handle_line(c, cmd, o, r, c->p.line);
	}
	return r->done;
}

int mf_chat_wait(mf_chat *c, const char *cmd, const mf_cmd_opts *o, mf_reply *r)
{
	int64_t deadline = mf_now_ms() + o->timeout_ms;
	int result_phase = r->got_final;
	if (result_phase)
		deadline = mf_now_ms() + o->result_timeout_ms;
	for (;;) {
		if (parse_buffered(c, cmd, o, r))
			return r->rc;
		if (!result_phase && r->got_final) { /* OK came: now the result URC's deadline */
			result_phase = 1;
			deadline = mf_now_ms() + o->result_timeout_ms;
		}
		if (c->interrupt && *c->interrupt) {
			snprintf(c->err, sizeof c->err, "interrupted");
			return MF_EINTR;
		}
		int left_ms = mf_left_ms(deadline);
		if (left_ms == 0) {
			if (result_phase)
				snprintf(c->err, sizeof c->err, "no %s result within %d ms after OK", o->result,
				         o->result_timeout_ms);
			else
				snprintf(c->err, sizeof c->err, "no final result code within %d ms", o->timeout_ms);
			return MF_ETIMEOUT;
		}
		long n = fill(c, left_ms < MF_INTERRUPT_CHECK_MS ? left_ms : MF_INTERRUPT_CHECK_MS);
		if (n < 0)
			return (int)n;
	}
}

int mf_chat_command(mf_chat *c, const char *cmd, const mf_cmd_opts *o, mf_reply *r)
{
	int rc = mf_chat_send(c, cmd, o->timeout_ms);
	if (rc != MF_OK)
		return rc;
	return mf_chat_wait(c, cmd, o, r);
}

int mf_chat_wait_final(mf_chat *c, const char *cmd, int timeout_ms, char *final, size_t cap)
{
	mf_cmd_opts o = {0};
	o.timeout_ms = timeout_ms;
	mf_reply tail;
	mf_reply_init(&tail);
	tail.echo_done = 1;
	int got = mf_chat_wait(c, cmd, &o, &tail) == MF_OK;
	if (got)
		snprintf(final, cap, "%s", tail.final);
	mf_reply_free(&tail);
	return got;
}

int mf_chat_peek(mf_chat *c, const char *cmd, const mf_cmd_opts *o, mf_reply *r)
{
	if (parse_buffered(c, cmd, o, r))
		return 1;
	long n = fill(c, 0);
	if (n < 0)
		return (int)n;
	return parse_buffered(c, cmd, o, r);
}

int mf_chat_poll(mf_chat *c, int timeout_ms)
{
	int64_t deadline = mf_now_ms() + timeout_ms;
	size_t before = c->urcs_total;
	for (;;) {
		while (c->pos < c->len) {
			int ready;
			c->pos += mf_at_feed(&c->p, c->buf + c->pos, c->len - c->pos, &ready);
			if (ready) {
				mf_chat_trace(c, '<', c->p.line, c->p.len);
				queue_urc(c, c->p.line);
			}
		}
		if (c->urcs_total > before)
			return MF_OK;
		if (c->interrupt && *c->interrupt)
			return MF_EINTR;
		int left_ms = mf_left_ms(deadline);
		if (left_ms == 0)
			return MF_ETIMEOUT;
		long n = fill(c, left_ms < MF_INTERRUPT_CHECK_MS ? left_ms : MF_INTERRUPT_CHECK_MS);
		if (n < 0)
			return (int)n;
	}
}

int mf_chat_discard(mf_chat *c, int quiet_ms, int max_ms)
{
	int64_t max_deadline = mf_now_ms() + max_ms, quiet_deadline = mf_now_ms() + quiet_ms;
	int dropped = 0;
	for (;;) {
		while (c->pos < c->len) {
			int ready;
			c->pos += mf_at_feed(&c->p, c->buf + c->pos, c->len - c->pos, &ready);
			if (!ready)
				continue;
			mf_chat_trace(c, '<', c->p.line, c->p.len);
			if (mf_at_is_known_urc(c->p.line))
				queue_urc(c, c->p.line);
			else
				dropped++;
		}
		int left_ms = mf_left_ms(quiet_deadline < max_deadline ? quiet_deadline : max_deadline);
		if (left_ms == 0)
			return dropped;
		long n = fill(c, left_ms);
		if (n < 0)
			return dropped;
		if (n > 0) /* the modem spoke: the quiet starts again */
			quiet_deadline = mf_now_ms() + quiet_ms;
	}
}

/* ------------------------------------------- the receive window (mf_rx.h) */

/* The LF of CONNECT's CRLF may come with the first payload read: the
** parser knows (it saw the CR), and only the engine asks it. */
static void skip_connect_lf(mf_chat *c)
{
	if (c->p.after_cr && c->pos < c->len && mf_at_swallow_lf(&c->p, c->buf[c->pos]))
		c->pos++;
}

void mf_chat_rx_window(mf_chat *c, mf_rx_window *w)
{
	skip_connect_lf(c);
	w->data = c->buf + c->pos;
	w->len = c->len - c->pos;
}

void mf_chat_rx_consume(mf_chat *c, size_t n)
{
	c->pos += n < c->len - c->pos ? n : c->len - c->pos;
}

long mf_chat_rx_read(mf_chat *c, size_t consumed, int timeout_ms, mf_rx_window *w)
{
	mf_chat_rx_consume(c, consumed);
	/* What the caller still holds moves to the front (a few hundred bytes
	** in a download), so that the read gets the whole free space. */
	if (c->pos > 0) {
		memmove(c->buf, c->buf + c->pos, c->len - c->pos);
		c->len -= c->pos;
		c->pos = 0;
	}
	long n = fill(c, timeout_ms);
	mf_chat_rx_window(c, w);
	return n;
}

int mf_chat_rx_lines(mf_chat *c, size_t n, const char *cmd, const mf_cmd_opts *o, mf_reply *r)
{
	/* The parser sees exactly those bytes: what follows them (an ack that
	** is no line) stays in the window. */
	size_t len = c->len;
	if (n < c->len - c->pos)
		c->len = c->pos + n;
	int done = parse_buffered(c, cmd, o, r);
	c->len = len;
	return done;
}

/* Queue the URCs among the complete lines in buf[0..n) (the module's own
** lines that came between a download's payload and its trailer); OK lines
** are the download's and dropped. */
static void queue_lines(mf_chat *c, const char *buf, size_t n)
{
	mf_at_parser p;
	mf_at_init(&p);
	for (size_t i = 0; i < n;) {
		int ready;
		i += mf_at_feed(&p, buf + i, n - i, &ready);
		if (ready && strcmp(p.line, "OK") != 0) {
			mf_chat_trace(c, '<', p.line, p.len);
			queue_urc(c, p.line);
		}
	}
}

int mf_chat_rx_end(mf_chat *c, const mf_rx_end *e, char *final, size_t cap)
{
	const char *framing = c->buf + c->pos + e->payload;
	queue_lines(c, framing, e->framing);
	const char *trailer = framing + e->framing;
	size_t n = 0;
	while (n < e->trailer && trailer[n] != '\r' && trailer[n] != '\n')
		n++;
	mf_chat_trace(c, '<', trailer, n);
	mf_chat_rx_consume(c, e->payload + e->framing + e->trailer);
	if (e->ok_wait_ms < 0)
		return 0;
	return mf_chat_wait_final(c, e->cmd, e->ok_wait_ms, final, cap);
}

/* The rest of the read that brought the escape's OK: the module is in
** command mode, so its complete lines are its own. Those of the table (a
** URC, a late result of the aborted transfer) are queued, never left for
** the next command to take as its own result; others are dropped. A line
** still incomplete stays for the next wait. */
static void take_after_ok(mf_chat *c)
{
	size_t end = c->len;
	while (end > c->pos && c->buf[end - 1] != '\r' && c->buf[end - 1] != '\n')
		end--;
	mf_at_init(&c->p);
	while (c->pos < end) {
		int ready;
		c->pos += mf_at_feed(&c->p, c->buf + c->pos, end - c->pos, &ready);
		if (ready) {
			mf_chat_trace(c, '<', c->p.line, c->p.len);
			if (mf_at_is_known_urc(c->p.line))
				queue_urc(c, c->p.line);
		}
	}
	mf_at_init(&c->p);
}

int mf_chat_rx_drop_to_ok(mf_chat *c, int guard_ms, int timeout_ms)
{
	/* The module answers a guard time after "+++", by its own clock and its
	** own guard setting (S12), which may be shorter than ours: an OK in the
	** first half of our guard time is payload still in flight. */
	int64_t now = mf_now_ms(), deadline = now + timeout_ms, ok_from = now + guard_ms / 2;
	/* Payload, and a partial line glued to it, mean nothing now. */
	c->pos = c->len = 0;
	mf_at_init(&c->p);
	int counting = guard_ms <= 0;
	for (;;) {
		int left_ms = mf_left_ms(deadline);
		if (left_ms == 0)
			break;
		if (!counting) {
			/* Until the guard time has passed the module is still in data
			** mode: what comes is payload, an OK in it too. */
			int guard_left_ms = mf_left_ms(ok_from);
			if (guard_left_ms == 0) {
				counting = 1;
				continue;
			}
			long n = fill(c, guard_left_ms < left_ms ? guard_left_ms : left_ms);
			if (n < 0)
				return (int)n;
			/* Bytes that arrive once the guard time is over may hold the
			** answer (the read waited up to that very moment): parse them. */
			if (mf_left_ms(ok_from) > 0) {
				c->pos = c->len = 0;
				continue;
			}
			counting = 1;
		} else {
			long n = fill(c, left_ms);
			if (n < 0)
				return (int)n;
		}
		while (c->pos < c->len) {
			int ready;
			c->pos += mf_at_feed(&c->p, c->buf + c->pos, c->len - c->pos, &ready);
			if (!ready)
				continue;
			if (strcmp(c->p.line, "OK") == 0) {
				mf_chat_trace(c, '<', c->p.line, c->p.len);
				take_after_ok(c);
				return MF_OK;
			}
			/* Before the OK: payload still in flight, even a line that
			** looks like a URC (the module holds its URCs in data mode and
			** prints them after the OK, where take_after_ok keeps them). */
		}
	}
	mf_at_init(&c->p);
	snprintf(c->err, sizeof c->err, "no OK after +++ (module still in data mode?)");
	return MF_ETIMEOUT;
}
