/*
** mf_data.c: data-mode streaming (see mf_data.h).
*/
#include "mf_data.h"
#include "mf_lines.h"
#include "mf_rx.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PUT_CHUNK (64 * 1024) /* read from the source at once */
#define PUT_SLICE 4096        /* written between looks at the modem */
/* Durations, and why: */
#define DRAIN_SLACK_MS 30000  /* the host's output backlog drains even on a slow line */
#define ESCAPE_SLACK_MS 2000  /* the module says OK a guard time after "+++": and back */
#define DTR_DROP_MS 100       /* DTR low long enough for the module to notice */
#define JUNK_QUIET_MS 300     /* silence: the AT interpreter answered all in-flight data */
#define JUNK_MAX_MS 5000      /* stop listening for those answers anyway */

static void progress(const mf_progress *p, int64_t bytes, int64_t *last, int force)
{
	if (!p || !p->fn)
		return;
	int64_t now = mf_now_ms();
	if (force || now - *last >= p->interval_ms) {
		*last = now;
		p->fn(p->ud, bytes);
	}
}

/* A signal (Ctrl-C), or the engine's user asked the transfer to stop. */
static int interrupted(const mf_chat *c)
{
	return c->cancel || (c->interrupt && *c->interrupt);
}

int mf_data_escape(mf_chat *c, int guard_ms)
{
	mf_transport *t = c->t;
	/* "+++" counts only after a silence: the backlog must have left first.
	** If it will not (a stalled line), "+++" would be glued to data. */
	int rc = t->ops->drain(t, guard_ms + DRAIN_SLACK_MS);
	if (rc != MF_OK) {
		snprintf(c->err, sizeof c->err, "cannot leave data mode: the line does not drain (%.150s)", t->err);
		return rc;
	}
	mf_sleep_ms(guard_ms);
	rc = mf_write_all(t, "+++", 3, mf_now_ms() + guard_ms, NULL);
	if (rc != MF_OK)
		return rc;
	mf_chat_trace(c, '>', "+++ (escape)", 12);
	/* Payload may still flow until the module sees the guard after "+++";
	** the engine drops it up to the module's OK (which cannot come sooner
	** than guard_ms from now), within a deadline. */
	return mf_chat_rx_drop_to_ok(c, guard_ms, 2 * guard_ms + ESCAPE_SLACK_MS);
}

static void reset_reply(mf_reply *r)
{
	r->done = 0;
	r->got_final = 0;
	r->echo_done = 1; /* no echo after data mode */
	r->final[0] = 0;
	r->result[0] = 0;
	r->connect = 0;
	r->cme = -1;
	r->rc = 0;
}

/* One download in progress: where its bytes go and what they add up to. */
typedef struct get_run {
	mf_chat *c;
	const mf_get_opts *o;
	mf_sink *sink;
	mf_reply *r;
	int64_t *bytes;  /* delivered to the sink */
	int sink_failed; /* the sink refused bytes: nothing more goes to it */
	unsigned sum;    /* QFDWL: the checksum of the bytes delivered */
} get_run;

/* Deliver n bytes to the sink. Once the sink has failed nothing more goes
** to it: MF_EIO, with its reason in c->err. */
static int deliver(get_run *g, const char *buf, size_t n)
{
	if (g->sink_failed)
		return MF_EIO;
	if (!n)
		return MF_OK;
	if (g->sink->write(g->sink->ud, buf, n, g->c->err, sizeof g->c->err) != 0) {
		g->sink_failed = 1;
		return MF_EIO;
	}
	if (g->o->trailer == MF_TRAILER_COUNT_CHECKSUM) /* QFDWL only: GET pays nothing */
		g->sum = mf_dlend_checksum(g->sum, *g->bytes, buf, n);
	*g->bytes += (int64_t)n;
	return MF_OK;
}

/* End data mode at a trailer h found in buf (the window past its first
** `done` bytes, already delivered): deliver the payload before it, and hand
** the rest back to the engine, which takes the module's lines around the
** trailer and, with ok_wait_ms >= 0, an OK that trails it. The module has
** left data mode: the end is taken also when the sink failed (now or
** before); then its failure (MF_EIO, reason in c->err) is returned. */
static int take_trailer(get_run *g, const char *buf, size_t done, const mf_dlend_hit *h, int ok_wait_ms)
{
	mf_chat *c = g->c;
	int rc = deliver(g, buf, h->payload_end);
	char why[MF_ERRLEN];
	snprintf(why, sizeof why, "%s", c->err);
	snprintf(g->r->result, sizeof g->r->result, "%s", h->line);
	mf_rx_end end = {done + h->payload_end, h->line_start - h->payload_end, h->end - h->line_start, ok_wait_ms,
	                 g->o->cmd};
	mf_chat_rx_end(c, &end, g->r->final, sizeof g->r->final);
	if (rc != MF_OK)
		snprintf(c->err, sizeof c->err, "%s", why);
	return rc;
}

/* Accept a validated end; the OK that belongs to it came before the
** trailer, or may follow it (no OK in the framing). QFDWL's trailer also
** carries the data's checksum: one that does not match is a protocol
** error, reported once the end is taken. */
static int accept_end(get_run *g, const char *buf, size_t done, const mf_dlend_hit *h)
{
	const mf_get_opts *o = g->o;
	int ok_wait_ms = h->ok_seen ? -1 : o->trailer == MF_TRAILER_COUNT_CHECKSUM ? o->final_timeout_ms : o->quiet_ms;
	int rc = take_trailer(g, buf, done, h, ok_wait_ms);
	if (rc == MF_OK && h->ok_seen)
		snprintf(g->r->final, sizeof g->r->final, "OK");
	if (rc == MF_OK && o->trailer == MF_TRAILER_COUNT_CHECKSUM && h->b != (long long)g->sum) {
		snprintf(g->c->err, sizeof g->c->err,
		         "checksum mismatch: module reports %llx, the %lld bytes received sum to %x", h->b,
		         (long long)*g->bytes, g->sum);
		return MF_EPROTO;
	}
	return rc;
}

/* Accept an unvalidated trailer after quiet: the transfer failed. */
static int accept_candidate(get_run *g, const char *buf, size_t done, const mf_dlend_hit *h)
{
	const mf_get_opts *o = g->o;
	mf_chat *c = g->c;
	int rc = take_trailer(g, buf, done, h, -1);
	if (rc != MF_OK)
		return rc; /* no escape: the module left data mode */
	int is_result = h->line[0] == '+';
	long long claimed = o->trailer == MF_TRAILER_COUNT_CHECKSUM ? h->a : h->b;
	if (is_result && (o->trailer == MF_TRAILER_COUNT_CHECKSUM || h->a == 0)) {
		snprintf(c->err, sizeof c->err, "byte count mismatch: module reports %lld, received %lld%s", claimed,
		         (long long)(o->offset + *g->bytes),
		         o->expect >= 0 ? " (or the file changed size since SIZE)" : "");
		return MF_EPROTO;
	}
	snprintf(g->r->final, sizeof g->r->final, "%s", h->line);
	snprintf(c->err, sizeof c->err, "transfer ended with %.80s after %lld bytes", h->line, (long long)*g->bytes);
	return MF_EMODEM;
}

enum { PEND_NONE, PEND_END, PEND_CAND };

/* A candidate h short of a known size: the line (RDY and its boot burst,
** NO CARRIER, an error result, a count short of SIZE) is as likely payload
** (a downloaded modem log, boot log or session) as the module's, and no
** silence shorter than the idle timeout tells them apart: only that ends
** the transfer, as a timeout (mf_data.h). */
static int short_of_size(const mf_get_opts *o, const mf_dlend *s, const mf_dlend_hit *h)
{
	return o->expect >= 0 && s->base + (int64_t)h->payload_end < o->expect;
}

int mf_data_get(mf_chat *c, const mf_get_opts *o, mf_sink *sink, int64_t *bytes, mf_reply *r)
{
	mf_dlend s;
	mf_dlend_init(&s, o->result, o->trailer, o->offset, o->expect);
	*bytes = 0;
	reset_reply(r);
	/* The engine's receive window: first the payload that came with
	** CONNECT, then one read per chunk. Its first `done` bytes are
	** delivered; the next read drops them. */
	mf_rx_window w;
	mf_chat_rx_window(c, &w);
	size_t done = 0;

	int64_t now = mf_now_ms(), last_progress = now;
	int64_t idle_deadline = now + o->idle_ms, pend_deadline = 0;
	int pend = PEND_NONE, paused = 0;
	int64_t paused_at = 0; /* when "+++" left for a pause */
	get_run g = {c, o, sink, r, bytes, 0, 0};
	int64_t last_rx = now;
	mf_dlend_hit ph, hit; /* the pending end or candidate, and a fresh hit */
	int rc;
	for (;;) {
		const char *buf = w.data + done; /* the bytes not delivered yet */
		size_t len = w.len - done;
		size_t safe = 0;
		int st = len ? mf_dlend_run(&s, buf, len, &hit, &safe) : MF_DLEND_NONE;
		if (st == MF_DLEND_VALIDATED) {
			/* A later validated end wins over an earlier one: the earlier
			** was a fake trailer inside the payload. */
			ph = hit;
			pend = PEND_END;
			pend_deadline = mf_now_ms() + (o->expect >= 0 ? 0 : o->confirm_ms);
			continue;
		}
		if (st == MF_DLEND_CANDIDATE) {
			if (pend == PEND_CAND && hit.payload_end == ph.end) {
				ph.end = hit.end; /* a URC right after the first trailer line */
			} else if (pend != PEND_END) {
				ph = hit;
				pend = PEND_CAND;
			}
			continue;
		}
		/* What follows a pending end must look like the module's own lines. */
		if (pend != PEND_NONE && mf_dlend_tail_plausible(buf + ph.end, len - ph.end) == 0)
			pend = PEND_NONE;
		size_t n = safe;
		if (pend != PEND_NONE && n > ph.payload_end)
			n = ph.payload_end;
		if (n && deliver(&g, buf, n) == MF_OK) {
			done += n;
			buf += n;
			len -= n;
			mf_dlend_consume(&s, n);
			if (pend != PEND_NONE) { /* every index of the pending hit moves */
				ph.payload_end -= n;
				ph.line_start -= n;
				ph.end -= n;
			}
		}
		if (g.sink_failed && pend == PEND_NONE) {
			rc = MF_EIO; /* no end in sight (the sink refused bytes): the module still sends */
			goto abort;
		}
		if (pend == PEND_END && mf_left_ms(pend_deadline) == 0) {
			/* The module has left data mode: no escape, also when the sink failed */
			rc = accept_end(&g, buf, done, &ph);
			if (rc == MF_OK)
				progress(&o->progress, *bytes, &last_progress, 1);
			return rc;
		}
		progress(&o->progress, *bytes, &last_progress, 0);
		if (interrupted(c) && pend == PEND_END) {
			/* The module has sent its end and left data mode: "+++" now
			** would reach its AT interpreter. Take the end; the interrupt
			** stays set for the caller. */
			rc = accept_end(&g, buf, done, &ph);
			if (rc == MF_OK)
				progress(&o->progress, *bytes, &last_progress, 1);
			return rc;
		}
		if (interrupted(c)) {
			snprintf(c->err, sizeof c->err, "interrupted after %lld bytes", (long long)*bytes);
			rc = MF_EINTR;
			goto abort;
		}
		if (o->pause && *o->pause && !paused) {
			/* Leave data mode, keeping every byte: the module goes on sending
			** until it has seen the guard after "+++", then says OK. */
			c->t->ops->drain(c->t, o->guard_ms);
			mf_sleep_ms(o->guard_ms);
			rc = mf_write_all(c->t, "+++", 3, mf_now_ms() + o->idle_ms, NULL);
			if (rc != MF_OK) {
				snprintf(c->err, sizeof c->err, "%.200s", c->t->err);
				goto drop;
			}
			mf_chat_trace(c, '>', "+++ (pause)", 11);
			paused = 1;
			paused_at = mf_now_ms();
		}
		if (pend != PEND_NONE && len >= MF_RX_MAX) {
			/* Nothing delivered past the pending end and no room to read
			** what would confirm it: a full buffer of lines after an end
			** is more than a module says there; it was payload. */
			pend = PEND_NONE;
			continue;
		}
		if (pend == PEND_CAND) /* its quiet counts from the last byte received */
			pend_deadline = last_rx + (short_of_size(o, &s, &ph) ? o->idle_ms : o->quiet_ms);
		/* The pause's OK: the last line, and nothing after it for quiet_ms
		** counted from the end of our guard time after "+++" at the
		** earliest. The module (whose guard cannot be longer than ours, or
		** "+++" would not have reached it) has left data mode and said OK
		** by then; an OK line before that, then a pause in the data, is
		** payload still in flight: the module's own OK follows it. */
		int paused_end = paused && pend == PEND_NONE && len >= 6 && memcmp(buf + len - 6, "\r\nOK\r\n", 6) == 0;
		int64_t paused_quiet_from = last_rx > paused_at + o->guard_ms ? last_rx : paused_at + o->guard_ms;
		int left_ms = mf_left_ms(pend != PEND_NONE ? pend_deadline
		                      : paused_end        ? paused_quiet_from + o->quiet_ms
		                                          : idle_deadline);
		if (left_ms == 0 && paused_end) {
			rc = deliver(&g, buf, len - 6);
			if (rc != MF_OK)
				goto drop;
			progress(&o->progress, *bytes, &last_progress, 1);
			snprintf(c->err, sizeof c->err, "paused after %lld bytes: ATO resumes the transfer",
			         (long long)*bytes);
			rc = MF_EPAUSED;
			goto drop; /* the last 6 bytes are the pause's OK */
		}
		if (left_ms == 0) {
			if (pend == PEND_CAND && !short_of_size(o, &s, &ph))
				return accept_candidate(&g, buf, done, &ph);
			if (pend == PEND_CAND) {
				/* Payload or not, the line follows payload: keep what came
				** before it. The line (and the module's lines around it)
				** go to the engine and the line is the final, so that a
				** restart or a lost PDP context is named; the failure is
				** the silence. */
				rc = take_trailer(&g, buf, done, &ph, -1);
				if (rc != MF_OK)
					return rc;
				snprintf(r->final, sizeof r->final, "%s", ph.line);
				snprintf(c->err, sizeof c->err,
				         "no data for %d ms (after %lld bytes) since a line that can end a transfer, "
				         "\"%.80s\", short of the size (%lld)",
				         o->idle_ms, (long long)*bytes, ph.line, (long long)o->expect);
				return MF_ETIMEOUT;
			}
			snprintf(c->err, sizeof c->err, "no data for %d ms (after %lld bytes)", o->idle_ms,
			         (long long)*bytes);
			rc = MF_ETIMEOUT;
			goto drop;
		}
		long got = mf_chat_rx_read(c, done, left_ms < MF_INTERRUPT_CHECK_MS ? left_ms : MF_INTERRUPT_CHECK_MS, &w);
		done = 0;
		if (got < 0) {
			snprintf(c->err, sizeof c->err, "%.200s (after %lld bytes)", c->t->err, (long long)*bytes);
			rc = (int)got;
			goto drop;
		}
		if (got > 0) {
			last_rx = mf_now_ms();
			idle_deadline = last_rx + o->idle_ms;
		}
	}
drop:
	/* Data mode ends without a trailer: the bytes held back are unconfirmed
	** (the caller resumes from *bytes) or the pause's OK. */
	mf_chat_rx_consume(c, SIZE_MAX);
	return rc;
abort:
	/* Leave data mode while the module still sends: what it sent is
	** dropped up to its OK. */
	mf_chat_rx_consume(c, SIZE_MAX);
	{
		char why[MF_ERRLEN];
		snprintf(why, sizeof why, "%s", c->err);
		mf_data_escape(c, o->guard_ms);
		snprintf(c->err, sizeof c->err, "%s", why);
	}
	return rc;
}

/* Write n bytes within idle_ms, in short waits so that an interrupt is
** seen while the line does not take bytes (flow control, a slow UART). */
static int write_watching(mf_chat *c, const char *buf, size_t n, int idle_ms, size_t *written)
{
	int64_t deadline = mf_now_ms() + idle_ms;
	*written = 0;
	for (;;) {
		size_t w = 0;
		int64_t step = mf_now_ms() + MF_INTERRUPT_CHECK_MS;
		int rc = mf_write_all(c->t, buf + *written, n - *written, step < deadline ? step : deadline, &w);
		*written += w;
		if (rc != MF_ETIMEOUT || mf_left_ms(deadline) == 0)
			return rc;
		if (interrupted(c))
			return MF_EINTR;
	}
}

/* Wait for the 'A' the module sends after each ack_every bytes (QFUPL): a
** raw byte, not a line, so it is read through the receive window. An ack
** is a lone 'A' at the start of a line (after line ends or noise) with
** nothing but a line end after it yet: the A of "NO CARRIER", or of any
** line, is none. Complete lines that come meanwhile are the module's
** (mf_chat_rx_lines): a URC is queued; ERROR, +CME ERROR or NO CARRIER end
** the wait. Returns 0 on the ack, 1 when the module's lines ended the
** upload (r->done), or MF_E*. */
static int wait_ack(mf_chat *c, const char *cmd, const mf_cmd_opts *wo, mf_reply *r, int timeout_ms)
{
	int64_t deadline = mf_now_ms() + timeout_ms;
	mf_rx_window w;
	mf_chat_rx_window(c, &w);
	for (;;) {
		size_t i = 0;
		while (i < w.len && ((unsigned char)w.data[i] < 0x20 || (unsigned char)w.data[i] >= 0x7f))
			i++; /* line ends and noise */
		if (i < w.len && w.data[i] == 'A' && (i + 1 == w.len || w.data[i + 1] == '\r' || w.data[i + 1] == '\n')) {
			mf_chat_rx_consume(c, i + 1);
			return 0;
		}
		size_t e = i;
		while (e < w.len && w.data[e] != '\r' && w.data[e] != '\n')
			e++;
		if (e < w.len) { /* a line: the module's, not an ack */
			if (mf_chat_rx_lines(c, e + 1, cmd, wo, r))
				return 1;
			mf_chat_rx_window(c, &w);
			continue;
		}
		int left_ms = mf_left_ms(deadline);
		if (left_ms == 0) {
			mf_chat_rx_consume(c, w.len);
			snprintf(c->err, sizeof c->err, "no ack from the module within %d ms", timeout_ms);
			return MF_ETIMEOUT;
		}
		long n = mf_chat_rx_read(c, 0, left_ms, &w);
		if (n < 0)
			return (int)n;
	}
}

int mf_data_put(mf_chat *c, const mf_put_opts *o, mf_source *src, int64_t *bytes, mf_reply *r)
{
	mf_cmd_opts wo = {0};
	wo.timeout_ms = o->final_timeout_ms;
	wo.result = o->result;
	wo.result_timeout_ms = o->result_timeout_ms;
	wo.result_early = 1; /* QFUPL reports before OK, QFTPPUT after: both end the upload */
	reset_reply(r);
	*bytes = 0;
	char *chunk = malloc(PUT_CHUNK);
	if (!chunk)
		return MF_EMEM;
	int64_t sent = 0, last_progress = mf_now_ms();
	int rc = MF_OK, escape = o->length < 0;
	for (;;) {
		size_t want = PUT_CHUNK;
		if (o->length >= 0) {
			if (sent >= o->length)
				break;
			if ((int64_t)want > o->length - sent)
				want = (size_t)(o->length - sent);
		}
		if (o->ack_every > 0 && want > (size_t)(o->ack_every - sent % o->ack_every))
			want = (size_t)(o->ack_every - sent % o->ack_every);
		long n = src->read(src->ud, chunk, want, c->err, sizeof c->err);
		if (n < 0) {
			rc = MF_EIO;
			escape = 1;
			goto out;
		}
		if (n == 0) {
			if (o->length >= 0 && sent < o->length) {
				snprintf(c->err, sizeof c->err, "source ended after %lld of %lld bytes",
				         (long long)sent, (long long)o->length);
				rc = MF_EARG;
				escape = 1;
				goto out;
			}
			break;
		}
		/* Write in slices and look at the modem between them: if it leaves
		** data mode early, at most one slice reaches its AT interpreter, and
		** an interrupt is honoured within a slice's time on the line. */
		for (size_t off = 0; off < (size_t)n;) {
			size_t slice = (size_t)n - off < PUT_SLICE ? (size_t)n - off : PUT_SLICE;
			size_t w = 0;
			rc = write_watching(c, chunk + off, slice, o->idle_ms, &w);
			sent += (int64_t)w;
			off += w;
			/* Every byte of a known length is out: the module ends the upload
			** by itself, so an interrupt now waits for its answer instead of
			** sending "+++" to its AT interpreter (the interrupt stays set). */
			if (rc == MF_EINTR && o->length >= 0 && sent >= o->length)
				goto sent_all;
			if (rc == MF_EINTR) {
				snprintf(c->err, sizeof c->err, "interrupted after %lld bytes", (long long)sent);
				escape = 1;
				goto out;
			}
			if (rc != MF_OK) {
				snprintf(c->err, sizeof c->err, "%.200s (after %lld bytes)", c->t->err, (long long)sent);
				escape = 0; /* the line does not take bytes: "+++" would not pass either */
				goto out;
			}
			int peek = 0;
			if (o->ack_every > 0 && sent % o->ack_every == 0 && (o->length < 0 || sent < o->length))
				peek = wait_ack(c, o->cmd, &wo, r, o->idle_ms);
			if (peek == 0)
				peek = mf_chat_peek(c, o->cmd, &wo, r);
			if (peek < 0) {
				rc = peek;
				escape = 0;
				goto out;
			}
			if (peek == 1) {
				if (o->length >= 0 && sent == o->length)
					goto sent_all; /* the module finished as we sent the last byte */
				rc = r->rc == MF_OK ? MF_EMODEM : r->rc;
				/* Bytes still in flight reached the AT interpreter: let its
				** answers to them pass before the next command. */
				int junk = mf_chat_discard(c, JUNK_QUIET_MS, JUNK_MAX_MS);
				snprintf(c->err, sizeof c->err, "module left data mode after %lld bytes: %.150s%s",
				         (long long)sent, r->result[0] ? r->result : r->final,
				         junk ? " (answers to in-flight data dropped)" : "");
				escape = 0;
				goto out;
			}
			progress(&o->progress, sent, &last_progress, 0);
			if (interrupted(c) && o->length >= 0 && sent >= o->length)
				goto sent_all;
			if (interrupted(c)) {
				snprintf(c->err, sizeof c->err, "interrupted after %lld bytes", (long long)sent);
				rc = MF_EINTR;
				escape = 1;
				goto out;
			}
		}
	}
sent_all:
	if (escape) { /* unknown length: leave data mode to end the file */
		if (o->end_by_dtr) {
			c->t->ops->drain(c->t, o->idle_ms);
			rc = c->t->ops->set_dtr(c->t, 0);
			if (rc != MF_OK) {
				snprintf(c->err, sizeof c->err, "%s", c->t->err);
				goto out_noescape;
			}
			mf_sleep_ms(DTR_DROP_MS);
		} else {
			rc = c->t->ops->drain(c->t, o->idle_ms);
			if (rc != MF_OK) { /* "+++" glued to data would be data */
				snprintf(c->err, sizeof c->err, "the line does not drain: %.200s", c->t->err);
				goto out_noescape;
			}
			mf_sleep_ms(o->guard_ms);
			rc = mf_write_all(c->t, "+++", 3, mf_now_ms() + o->idle_ms, NULL);
			if (rc != MF_OK) {
				snprintf(c->err, sizeof c->err, "%s", c->t->err);
				goto out_noescape;
			}
			mf_chat_trace(c, '>', "+++", 3);
		}
	}
	if (!r->done)
		rc = mf_chat_wait(c, o->cmd, &wo, r);
	else
		rc = r->rc;
	if (o->end_by_dtr && escape)
		c->t->ops->set_dtr(c->t, 1);
	progress(&o->progress, sent, &last_progress, 1);
	*bytes = sent;
	free(chunk);
	return rc;
out:
	if (escape) {
		char why[MF_ERRLEN];
		snprintf(why, sizeof why, "%s", c->err);
		if (o->end_by_dtr) {
			c->t->ops->set_dtr(c->t, 0);
			mf_sleep_ms(DTR_DROP_MS);
			c->t->ops->set_dtr(c->t, 1);
		} else {
			mf_data_escape(c, o->guard_ms);
		}
		snprintf(c->err, sizeof c->err, "%s", why);
	}
out_noescape:
	*bytes = sent;
	free(chunk);
	return rc;
}
