/*
** mf_replay.c: the replay:FILE transport. Plays the modem's side of a
** transcript and checks the host's side against it.
**
** The file is loaded whole (transcripts are fixtures) into one byte buffer;
** consecutive lines of one direction form one item (a "run") pointing into
** it, plus one small line record per payload line for error messages.
**
** Two cursors walk the items. The reader (the modem) delivers "<" runs and
** sleeps through "~" pauses; it may not pass a host action (">", "! dtr",
** "! rts") the host has not completed yet. The writer (the host) matches
** writes and control-line changes against the next host action in file
** order, skipping "<" and "~" items the reader has not reached: those bytes
** stay readable, in order, before anything that follows the host action.
** That is how a real modem behaves when the host talks while unread output
** (a URC, buffered payload) is pending.
*/
#include "mf_transcript_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { IT_SEND, IT_RECV, IT_PAUSE, IT_DTR, IT_RTS, IT_CLOSE, IT_END };

typedef struct item {
	uint8_t kind;
	uint8_t hostsil;  /* PAUSE before a host action: the host's silence, not the modem's */
	uint8_t guard;    /* PAUSE before a ">" run: the player checks it */
	int line;         /* the item's first line */
	size_t off, len;  /* SEND/RECV: bytes[off .. off + len) */
	size_t wfirst;    /* SEND: its first entry in wild[] */
	int64_t value;    /* PAUSE: ms; DTR/RTS: level */
	int64_t done_ms;  /* host actions: when the host completed it */
} item;

/* bytes[off] starts payload line `line` of the file. */
typedef struct lineref {
	size_t off;
	int line;
} lineref;

#define GOTMAX 512  /* host bytes kept for a mismatch message */
/* At the transcript's end the modem is silent for at most this much reading
** in all: the quiet a session's last steps may hold (a download's 500 ms
** quiet, a short poll). A host that waits longer waits for bytes the
** transcript does not have: tell it at once instead of after its deadline
** (rsptimeout + 10 s, 100 s by default). */
#define END_QUIET_MS 1000
#define SIDEMAX 110 /* chars per side of a mismatch message */

typedef struct replay {
	mf_transport t;
	unsigned char *bytes;
	size_t nbytes, capbytes;
	item *items;
	size_t nitems, capitems;
	size_t *wild; /* global offsets of ">" wildcards, ascending */
	size_t nwild, capwild;
	lineref *lines;
	size_t nlines, caplines;
	int lastline;
	/* The reader (modem side). */
	size_t ri, roff;
	int64_t r_ready; /* when the item at ri became due (a pause counts from here) */
	int64_t end_quiet_ms; /* silence played so far at the transcript's end */
	/* The writer (host side). */
	size_t wi, woff;
	size_t wwild;    /* next wildcard not yet passed */
	int inwild;      /* swallowing bytes for wild[wwild] */
	size_t wentered; /* wi + 1 once the host started on items[wi] */
	size_t wline;    /* the line the writer is in */
	unsigned char got[GOTMAX];
	size_t ngot;     /* host bytes since the start of wline (up to GOTMAX) */
	int64_t host_last; /* last write, or last read that returned bytes */
	int failed;      /* a mismatch is final: every later call repeats it */
	char fail[MF_ERRLEN];
} replay;

static const mf_transport_ops replay_ops;

/* ---- loading ---- */

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : 16;
	while (c < need)
		c *= 2;
	void *n = realloc(*p, c * size);
	if (!n)
		return -1;
	*p = n;
	*cap = c;
	return 0;
}

static item *new_item(replay *rp, int kind, int line)
{
	if (grow((void **)&rp->items, &rp->capitems, rp->nitems + 1, sizeof(item)))
		return NULL;
	item *it = &rp->items[rp->nitems++];
	memset(it, 0, sizeof *it);
	it->kind = (uint8_t)kind;
	it->line = line;
	it->off = rp->nbytes;
	it->wfirst = rp->nwild;
	return it;
}

/* A ">" run may not end in \*: the wildcard needs a byte to stop at. */
static int run_ends_wild(const replay *rp)
{
	const item *it = rp->nitems ? &rp->items[rp->nitems - 1] : NULL;
	return it && it->kind == IT_SEND && rp->nwild > it->wfirst &&
	       rp->wild[rp->nwild - 1] == it->off + it->len;
}

static int is_header(const char *s, size_t n)
{
	return n >= 23 && memcmp(s, "# modemftp transcript v", 23) == 0;
}

static int load(replay *rp, FILE *f, const char *path, char *err, size_t errlen)
{
	char *buf = NULL, why[200];
	size_t bufcap = 0;
	ssize_t got;
	int lineno = 0, closed = 0, wildline = 0, rc = MF_OK;
	why[0] = '\0';
	while ((got = getline(&buf, &bufcap, f)) >= 0) {
		size_t n = (size_t)got;
		lineno++;
		if (n > 0 && buf[n - 1] == '\n')
			n--;
		if (grow((void **)&rp->bytes, &rp->capbytes, rp->nbytes + 2 * n + 1, 1) ||
		    grow((void **)&rp->wild, &rp->capwild, rp->nwild + n / 2 + 1, sizeof(size_t)))
			goto nomem;
		mf_tx_line ln;
		if (mf_tx_parse_line(buf, n, &ln, rp->bytes + rp->nbytes, rp->wild + rp->nwild, why, sizeof why))
			goto bad;
		if (lineno == 1 && is_header(buf, n) && !(n >= 24 && buf[23] == '1' && (n == 24 || buf[24] == ' '))) {
			snprintf(why, sizeof why, "unsupported transcript version (this player reads v1)");
			goto bad;
		}
		if (ln.kind == MF_TX_BLANK || ln.kind == MF_TX_COMMENT)
			continue;
		if (closed) {
			snprintf(why, sizeof why, "only comments may follow '! close'");
			goto bad;
		}
		if (ln.kind != MF_TX_HOST && run_ends_wild(rp))
			goto wildend;
		item *last = rp->nitems ? &rp->items[rp->nitems - 1] : NULL, *it;
		switch (ln.kind) {
		case MF_TX_HOST:
		case MF_TX_MODEM: {
			int kind = ln.kind == MF_TX_HOST ? IT_SEND : IT_RECV;
			if (ln.nwild > 0) {
				if (last && last->kind == IT_SEND && rp->nwild > 0 &&
				    rp->wild[rp->nwild - 1] == rp->nbytes && rp->wild[rp->nwild] == 0) {
					snprintf(why, sizeof why, "\\* directly after \\*");
					goto bad;
				}
				for (size_t i = 0; i < ln.nwild; i++)
					rp->wild[rp->nwild + i] += rp->nbytes;
				wildline = lineno;
			}
			if (grow((void **)&rp->lines, &rp->caplines, rp->nlines + 1, sizeof(lineref)))
				goto nomem;
			rp->lines[rp->nlines].off = rp->nbytes;
			rp->lines[rp->nlines].line = lineno;
			rp->nlines++;
			if (last && last->kind == kind)
				it = last;
			else if (!(it = new_item(rp, kind, lineno)))
				goto nomem;
			it->len += ln.len;
			rp->nbytes += ln.len;
			rp->nwild += ln.nwild;
			break;
		}
		case MF_TX_PAUSE:
			if (last && last->kind == IT_PAUSE) {
				last->value += ln.value; /* "~ 500" "~ 500" is "~ 1000" */
				break;
			}
			if (!(it = new_item(rp, IT_PAUSE, lineno)))
				goto nomem;
			it->value = ln.value;
			break;
		default:
			if (!(it = new_item(rp, ln.kind == MF_TX_DTR ? IT_DTR : ln.kind == MF_TX_RTS ? IT_RTS : IT_CLOSE,
			                    lineno)))
				goto nomem;
			it->value = ln.value;
			closed = ln.kind == MF_TX_CLOSE;
			break;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = MF_EIO;
		goto out;
	}
	if (run_ends_wild(rp))
		goto wildend;
	rp->lastline = lineno;
	for (size_t i = 0; i < rp->nitems; i++) {
		item *it = &rp->items[i];
		int next = i + 1 < rp->nitems ? rp->items[i + 1].kind : IT_END;
		if (it->kind != IT_PAUSE)
			continue;
		it->guard = next == IT_SEND;
		it->hostsil = next == IT_SEND || next == IT_DTR || next == IT_RTS;
	}
	if (rp->nbytes > 0) { /* give back the doubling slack */
		unsigned char *b = realloc(rp->bytes, rp->nbytes);
		if (b) {
			rp->bytes = b;
			rp->capbytes = rp->nbytes;
		}
	}
	goto out;
wildend:
	lineno = wildline;
	snprintf(why, sizeof why, "\\* ends the host's bytes (it needs a following byte to match up to)");
bad:
	snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
	rc = MF_EARG;
	goto out;
nomem:
	snprintf(err, errlen, "%s:%d: out of memory", path, lineno);
	rc = MF_EMEM;
out:
	free(buf);
	return rc;
}

/* ---- messages ---- */

static int fail(replay *rp, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(replay *rp, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rp->t.err, sizeof rp->t.err, fmt, ap);
	va_end(ap);
	if (code == MF_EMISMATCH) {
		rp->failed = 1;
		memcpy(rp->fail, rp->t.err, sizeof rp->fail);
	}
	return code;
}

/* Render p[0..n) as the format writes it, into out (room for SIDEMAX + 1),
** windowed so that byte k is visible: "..." marks cut ends. wild[] holds
** ascending offsets (relative to p) where "\*" is shown. */
static void render(char *out, const unsigned char *p, size_t n, size_t k, const size_t *wild, size_t nw)
{
	char e[8];
	size_t s = k, w = 0, o = 0, wi = 0;
	while (s > 0) {
		size_t el = mf_tx_esc1(p[s - 1], e);
		if (w + el > SIDEMAX / 2)
			break;
		w += el;
		s--;
	}
	if (s > 0) {
		memcpy(out, "...", 3);
		o = 3;
	}
	while (wi < nw && wild[wi] < s)
		wi++;
	for (size_t i = s; i <= n; i++) {
		size_t el = 0;
		if (wi < nw && wild[wi] == i) {
			memcpy(e, "\\*", 2);
			el = 2;
			wi++;
		}
		if (i < n) {
			if (p[i] == ' ' && i == n - 1) {
				memcpy(e + el, "\\x20", 4);
				el += 4;
			} else {
				el += mf_tx_esc1(p[i], e + el);
			}
		}
		if (o + el > SIDEMAX - 3) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(out + o, e, el);
		o += el;
	}
	out[o] = '\0';
}

/* The payload line holding bytes[pos]: the last one starting at or before it. */
static size_t line_at(const replay *rp, size_t pos)
{
	size_t lo = 0, hi = rp->nlines;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (rp->lines[mid].off <= pos)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Render payload line j with bytes[pos] in view; host lines lose a
** trailing \r (it is on every command and only adds noise). */
static void render_line(const replay *rp, size_t j, size_t pos, int strip_cr, char *out)
{
	size_t ls = rp->lines[j].off;
	size_t le = j + 1 < rp->nlines ? rp->lines[j + 1].off : rp->nbytes;
	size_t w[16], nw = 0, lo = 0, hi = rp->nwild;
	while (lo < hi) { /* first wildcard at or after ls */
		size_t mid = lo + (hi - lo) / 2;
		if (rp->wild[mid] < ls)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < rp->nwild && rp->wild[lo] < le && nw < 16; lo++)
		w[nw++] = rp->wild[lo] - ls;
	if (strip_cr && le > ls && rp->bytes[le - 1] == '\r')
		le--;
	if (pos > le)
		pos = le;
	render(out, rp->bytes + ls, le - ls, pos - ls, w, nw);
}

/* The host's bytes up to (not including) the next \r. */
static size_t upto_cr(const unsigned char *p, size_t n)
{
	const unsigned char *cr = memchr(p, '\r', n);
	return cr ? (size_t)(cr - p) : n;
}

/* The host wrote p[i] where items[wi] expected something else. */
static long mismatch(replay *rp, const unsigned char *p, size_t i, size_t len)
{
	unsigned char g[GOTMAX + 256];
	char es[SIDEMAX + 1], gs[SIDEMAX + 1];
	size_t pos = rp->items[rp->wi].off + rp->woff;
	size_t tail = upto_cr(p + i, len - i);
	if (tail > 256)
		tail = 256;
	memcpy(g, rp->got, rp->ngot);
	memcpy(g + rp->ngot, p + i, tail);
	render_line(rp, rp->wline, pos, 1, es);
	render(gs, g, rp->ngot + tail, rp->ngot, NULL, 0);
	return fail(rp, MF_EMISMATCH, "line %d: expected %s, got %s", rp->lines[rp->wline].line, es, gs);
}

/* What the host owes next (for "expected ..."): items[wi] rendered. */
static void render_expected(const replay *rp, char *out)
{
	const item *it = rp->wi < rp->nitems ? &rp->items[rp->wi] : NULL;
	if (!it)
		snprintf(out, SIDEMAX + 1, "end of transcript");
	else if (it->kind == IT_SEND) {
		size_t pos = it->off + (rp->wentered == rp->wi + 1 ? rp->woff : 0);
		render_line(rp, line_at(rp, pos), pos, 1, out);
	} else
		snprintf(out, SIDEMAX + 1, "! %s %d", it->kind == IT_DTR ? "dtr" : "rts", (int)it->value);
}

static int expected_line(const replay *rp)
{
	const item *it = rp->wi < rp->nitems ? &rp->items[rp->wi] : NULL;
	if (!it)
		return rp->lastline;
	if (it->kind == IT_SEND)
		return rp->lines[line_at(rp, it->off + (rp->wentered == rp->wi + 1 ? rp->woff : 0))].line;
	return it->line;
}

/* ---- the host's side ---- */

/* Move the writer to the next host action, skipping what only the reader
** consumes. Returns its kind (IT_END past the last item). */
static int w_seek(replay *rp)
{
	while (rp->wi < rp->nitems &&
	       (rp->items[rp->wi].kind == IT_RECV || rp->items[rp->wi].kind == IT_PAUSE)) {
		rp->wi++;
		rp->woff = 0;
	}
	return rp->wi < rp->nitems ? rp->items[rp->wi].kind : IT_END;
}

static void got_add(replay *rp, const unsigned char *p, size_t n)
{
	if (n >= GOTMAX) { /* keep the newest bytes: they are next to the mismatch */
		memcpy(rp->got, p + n - GOTMAX, GOTMAX);
		rp->ngot = GOTMAX;
		return;
	}
	if (rp->ngot + n > GOTMAX) {
		size_t drop = rp->ngot + n - GOTMAX;
		memmove(rp->got, rp->got + drop, rp->ngot - drop);
		rp->ngot -= drop;
	}
	memcpy(rp->got + rp->ngot, p, n);
	rp->ngot += n;
}

static long sticky(replay *rp)
{
	memcpy(rp->t.err, rp->fail, sizeof rp->t.err);
	return MF_EMISMATCH;
}

static long rp_write(mf_transport *t, const void *buf, size_t len, int timeout_ms)
{
	replay *rp = (replay *)t;
	const unsigned char *p = buf;
	int64_t now = mf_now_ms();
	size_t i = 0;
	(void)timeout_ms; /* the player never blocks a write */
	if (rp->failed)
		return sticky(rp);
	while (i < len) {
		int kind = w_seek(rp);
		if (kind == IT_CLOSE)
			return fail(rp, MF_ECLOSED, "line %d: port closed", rp->items[rp->wi].line);
		if (kind != IT_SEND) {
			char es[SIDEMAX + 1], gs[SIDEMAX + 1];
			render_expected(rp, es);
			render(gs, p + i, upto_cr(p + i, len - i), 0, NULL, 0);
			return fail(rp, MF_EMISMATCH, "line %d: expected %s, got %s", expected_line(rp), es, gs);
		}
		item *it = &rp->items[rp->wi];
		if (rp->wentered != rp->wi + 1) {
			rp->wentered = rp->wi + 1;
			rp->woff = 0;
			rp->wwild = it->wfirst;
			rp->inwild = 0;
			const item *g = rp->wi > 0 ? &rp->items[rp->wi - 1] : NULL;
			int64_t quiet_ms = i > 0 ? 0 : now - rp->host_last;
			if (g && g->guard && quiet_ms * 10 < g->value * 9)
				return fail(rp, MF_EMISMATCH, "line %d: host did not keep the %lld ms guard silence (waited %lld ms)",
				            g->line, (long long)g->value, (long long)quiet_ms);
		}
		size_t pos = it->off + rp->woff;
		while (rp->wline + 1 < rp->nlines && rp->lines[rp->wline + 1].off <= pos) {
			rp->wline++;
			rp->ngot = 0;
		}
		size_t wpos = rp->wwild < rp->nwild ? rp->wild[rp->wwild] : (size_t)-1;
		if (!rp->inwild && wpos == pos)
			rp->inwild = 1;
		if (rp->inwild) {
			/* Swallow until the byte after the wildcard; a secret never
			** holds a line end, so CR/LF there is a plain mismatch. */
			unsigned char c = p[i];
			if (c == rp->bytes[pos]) {
				rp->inwild = 0;
				rp->wwild++;
				rp->woff++;
			} else if (c == '\r' || c == '\n') {
				return mismatch(rp, p, i, len);
			}
			got_add(rp, &c, 1);
			i++;
		} else {
			size_t le = rp->wline + 1 < rp->nlines ? rp->lines[rp->wline + 1].off : rp->nbytes;
			size_t lim = it->off + it->len;
			if (le < lim)
				lim = le;
			if (wpos < lim)
				lim = wpos;
			size_t m = lim - pos, k = 0;
			if (m > len - i)
				m = len - i;
			if (memcmp(p + i, rp->bytes + pos, m) == 0)
				k = m;
			else
				while (p[i + k] == rp->bytes[pos + k])
					k++;
			got_add(rp, p + i, k);
			i += k;
			rp->woff += k;
			if (k < m)
				return mismatch(rp, p, i, len);
		}
		if (rp->woff == it->len && !rp->inwild) {
			it->done_ms = now;
			rp->wi++;
			rp->woff = 0;
		}
	}
	if (len > 0)
		rp->host_last = now;
	return (long)len;
}

static int rp_control(mf_transport *t, int kind, int on)
{
	replay *rp = (replay *)t;
	const char *name = kind == IT_DTR ? "dtr" : "rts";
	char es[SIDEMAX + 1];
	if (rp->failed)
		return (int)sticky(rp);
	/* In the middle of a ">" run the host still owes bytes. */
	int midway = rp->wentered == rp->wi + 1 && rp->wi < rp->nitems && rp->items[rp->wi].kind == IT_SEND;
	int k = midway ? IT_SEND : w_seek(rp);
	if (k == IT_CLOSE)
		return fail(rp, MF_ECLOSED, "line %d: port closed", rp->items[rp->wi].line);
	if (k == kind && rp->items[rp->wi].value == (on != 0)) {
		rp->items[rp->wi].done_ms = mf_now_ms();
		rp->wi++;
		rp->woff = 0;
		return MF_OK;
	}
	render_expected(rp, es);
	return fail(rp, MF_EMISMATCH, "line %d: expected %s, got ! %s %d", expected_line(rp), es, name, on != 0);
}

static int rp_set_dtr(mf_transport *t, int on)
{
	return rp_control(t, IT_DTR, on);
}

static int rp_set_rts(mf_transport *t, int on)
{
	return rp_control(t, IT_RTS, on);
}

static int rp_drain(mf_transport *t, int timeout_ms)
{
	(void)t;
	(void)timeout_ms;
	return MF_OK;
}

/* ---- the modem's side ---- */

static long rp_read(mf_transport *t, void *buf, size_t len, int timeout_ms)
{
	replay *rp = (replay *)t;
	unsigned char *out = buf;
	size_t got = 0;
	int64_t now = mf_now_ms();
	int64_t deadline = now + (timeout_ms > 0 ? timeout_ms : 0);
	if (rp->failed)
		return sticky(rp);
	if (len == 0)
		return 0;
	while (got < len && rp->ri < rp->nitems) {
		item *it = &rp->items[rp->ri];
		if (it->kind == IT_RECV) {
			size_t n = it->len - rp->roff;
			if (n > len - got)
				n = len - got;
			memcpy(out + got, rp->bytes + it->off + rp->roff, n);
			got += n;
			rp->roff += n;
			if (rp->roff == it->len) {
				rp->ri++;
				rp->roff = 0;
				rp->r_ready = mf_now_ms();
			}
			continue;
		}
		if (it->kind == IT_SEND || it->kind == IT_DTR || it->kind == IT_RTS) {
			if (rp->ri >= rp->wi)
				break; /* the modem waits for the host */
			if (it->done_ms > rp->r_ready)
				rp->r_ready = it->done_ms;
			rp->ri++;
			continue;
		}
		if (it->kind == IT_PAUSE && it->hostsil) {
			if (rp->ri + 1 >= rp->wi)
				break; /* the host's own silence: nothing to say meanwhile */
			rp->ri++;
			continue;
		}
		if (it->kind == IT_PAUSE) {
			int64_t due = rp->r_ready + it->value;
			now = mf_now_ms();
			if (now >= due) {
				rp->r_ready = due;
				rp->ri++;
				continue;
			}
			if (got > 0 || now >= deadline)
				break;
			mf_sleep_ms((int)((due < deadline ? due : deadline) - now));
			continue;
		}
		/* IT_CLOSE */
		if (got > 0)
			break;
		return fail(rp, MF_ECLOSED, "line %d: port closed", it->line);
	}
	if (got > 0) {
		rp->host_last = mf_now_ms();
		return (long)got;
	}
	/* Nothing due before the deadline: a silent modem. Sleep it out once;
	** only the host can change that. */
	int left_ms = mf_left_ms(deadline);
	if (rp->ri >= rp->nitems) { /* nothing more, ever: END_QUIET_MS of it at most */
		if (left_ms > END_QUIET_MS - rp->end_quiet_ms)
			left_ms = (int)(END_QUIET_MS - rp->end_quiet_ms);
		rp->end_quiet_ms += left_ms;
		if (rp->end_quiet_ms >= END_QUIET_MS) {
			mf_sleep_ms(left_ms);
			return fail(rp, MF_ECLOSED, "transcript ended at line %d", rp->lastline);
		}
	}
	if (left_ms > 0)
		mf_sleep_ms(left_ms);
	return 0;
}

/* ---- lifetime ---- */

static void rp_close(mf_transport *t)
{
	replay *rp = (replay *)t;
	if (!rp)
		return;
	free(rp->bytes);
	free(rp->items);
	free(rp->wild);
	free(rp->lines);
	free(rp);
}

static const mf_transport_ops replay_ops = {
	.kind = "replay",
	.read = rp_read,
	.write = rp_write,
	.drain = rp_drain,
	.set_dtr = rp_set_dtr,
	.set_rts = rp_set_rts,
	.close = rp_close,
};

int mf_replay_open(const char *path, const mf_port_opts *o, mf_transport **out, char *err, size_t errlen)
{
	(void)o; /* baud, flow control and DTR mean nothing to a file */
	*out = NULL;
	if (!path || !*path) {
		snprintf(err, errlen, "replay: no transcript file named");
		return MF_EARG;
	}
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return MF_EIO;
	}
	replay *rp = calloc(1, sizeof *rp);
	if (!rp) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return MF_EMEM;
	}
	rp->t.ops = &replay_ops;
	int rc = load(rp, f, path, err, errlen);
	fclose(f);
	if (rc != MF_OK) {
		rp_close(&rp->t);
		return rc;
	}
	rp->r_ready = rp->host_last = mf_now_ms();
	*out = &rp->t;
	return MF_OK;
}

int mf_replay_finished(mf_transport *t, char *err, size_t errlen)
{
	if (!t || t->ops != &replay_ops) {
		snprintf(err, errlen, "not a replay transport");
		return MF_EARG;
	}
	replay *rp = (replay *)t;
	if (rp->failed) {
		snprintf(err, errlen, "%s", rp->fail);
		return MF_EMISMATCH;
	}
	size_t i = rp->ri < rp->wi ? rp->ri : rp->wi;
	for (; i < rp->nitems; i++) {
		const item *it = &rp->items[i];
		char es[SIDEMAX + 1];
		size_t pos;
		if (it->kind == IT_RECV && i >= rp->ri)
			pos = it->off + (i == rp->ri ? rp->roff : 0);
		else if (it->kind == IT_SEND && i >= rp->wi)
			pos = it->off + (i == rp->wi && rp->wentered == i + 1 ? rp->woff : 0);
		else if ((it->kind == IT_DTR || it->kind == IT_RTS) && i >= rp->wi) {
			snprintf(err, errlen, "line %d: transcript not finished, expected ! %s %d", it->line,
			         it->kind == IT_DTR ? "dtr" : "rts", (int)it->value);
			return MF_EMISMATCH;
		} else
			continue;
		size_t j = line_at(rp, pos);
		render_line(rp, j, rp->lines[j].off, 0, es);
		snprintf(err, errlen, "line %d: transcript not finished, expected %c %s", rp->lines[j].line,
		         it->kind == IT_RECV ? '<' : '>', es);
		return MF_EMISMATCH;
	}
	return MF_OK;
}
