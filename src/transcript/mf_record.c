/*
** mf_record.c: the recorder. Wraps any transport and tees its traffic into a
** transcript (format: mf_transcript.h, src/transcript/README.md).
**
** Bytes are collected per direction in a small buffer and written out at a
** line end, a direction change, a pause, or when the buffer fills, so the
** redactor always sees a quoted secret whole. Memory stays constant however
** long the session; the file goes through a large stdio buffer.
*/
#include "mf_transcript_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACC_MAX 1100              /* flush a run of bytes without line end here */
#define KEEP (MF_REDACT_MAX + 2)  /* longest quoted secret: never cut through it */
#define GAP_MS 50                 /* silences this long become "~" lines */

typedef struct recorder {
	mf_transport t;
	mf_transport *inner;
	FILE *f;
	char *path;
	mf_redactor *red;
	int dir;          /* '>' or '<': whose bytes are in acc; 0 none */
	size_t n;
	unsigned char acc[ACC_MAX];
	int have_last;
	int64_t last;     /* end of the last recorded event */
	int closed;       /* "! close" written: nothing can follow */
	int werr;         /* errno of the first failed transcript write */
	char line[640];   /* one escaped line */
} recorder;

static const mf_transport_ops record_ops;

/* Write acc[0..upto) as "> "/"< " lines: a break after each \n and every
** MF_TX_LINE_BYTES raw bytes; quoted secrets become "\*" whole. */
static void emit(recorder *rec, size_t upto)
{
	const char *a = (const char *)rec->acc;
	char *L = rec->line;
	size_t pos = 0, o = 0, raw = 0, span = 0;
	size_t next = mf_redact_find(rec->red, a, upto, 0, &span);
	int lastsp = 0;
	while (pos < upto) {
		int brk;
		if (o == 0) {
			L[0] = (char)rec->dir;
			L[1] = ' ';
			o = 2;
			raw = 0;
		}
		if (pos == next) {
			memcpy(L + o, "\"\\*\"", 4);
			o += 4;
			raw += span;
			pos += span;
			lastsp = 0;
			next = mf_redact_find(rec->red, a, upto, pos, &span);
			brk = raw >= MF_TX_LINE_BYTES;
		} else {
			unsigned char c = rec->acc[pos++];
			if (c == ' ' && raw == 0) { /* a leading space is easy to misread */
				memcpy(L + o, "\\x20", 4);
				o += 4;
				lastsp = 0;
			} else {
				o += mf_tx_esc1(c, L + o);
				lastsp = c == ' ';
			}
			raw++;
			brk = c == '\n' || raw >= MF_TX_LINE_BYTES;
		}
		if (brk || pos >= upto) {
			if (lastsp) { /* editors eat trailing spaces */
				memcpy(L + o - 1, "\\x20", 4);
				o += 3;
			}
			L[o++] = '\n';
			fwrite(L, 1, o, rec->f);
			o = 0;
			lastsp = 0;
		}
	}
}

static void flush_upto(recorder *rec, size_t cut)
{
	if (cut == 0)
		return;
	mf_redact_learn(rec->red, (const char *)rec->acc, rec->n);
	emit(rec, cut);
	memmove(rec->acc, rec->acc + cut, rec->n - cut);
	rec->n -= cut;
}

/* The buffer is full and holds no line end (those flush at once): write
** whole 64-byte lines but keep the last KEEP bytes, so a secret still being
** received stays whole; never cut through a secret already seen. */
static void flush_full(recorder *rec)
{
	const char *a = (const char *)rec->acc;
	size_t cut = (rec->n - KEEP) / MF_TX_LINE_BYTES * MF_TX_LINE_BYTES, at = 0, span = 0;
	mf_redact_learn(rec->red, a, rec->n);
	while ((at = mf_redact_find(rec->red, a, rec->n, at, &span)) < cut) {
		if (at + span > cut) {
			cut = at;
			break;
		}
		at += span;
	}
	flush_upto(rec, cut);
}

static void check_file(recorder *rec)
{
	if (!rec->werr && ferror(rec->f))
		rec->werr = errno ? errno : EIO;
}

/* Something happens at t0 in direction dir ('>', '<', or 0 for a control
** line): end the pending run if needed and note the silence before it. */
static void event(recorder *rec, int dir, int64_t t0)
{
	if (rec->have_last && t0 - rec->last >= GAP_MS) {
		flush_upto(rec, rec->n);
		fprintf(rec->f, "~ %lld\n", (long long)(t0 - rec->last));
	}
	if (dir != rec->dir) {
		flush_upto(rec, rec->n);
		rec->dir = dir;
	}
}

static void traffic(recorder *rec, int dir, const unsigned char *p, size_t len, int64_t t0, int64_t t1)
{
	if (rec->closed)
		return;
	event(rec, dir, t0);
	while (len > 0) {
		size_t k = ACC_MAX - rec->n;
		if (k > len)
			k = len;
		memcpy(rec->acc + rec->n, p, k);
		rec->n += k;
		const unsigned char *nl = memrchr(p, '\n', k);
		if (nl)
			flush_upto(rec, rec->n - (size_t)(p + k - nl - 1));
		if (rec->n == ACC_MAX)
			flush_full(rec);
		p += k;
		len -= k;
	}
	rec->have_last = 1;
	rec->last = t1;
	check_file(rec);
}

static void control(recorder *rec, const char *what)
{
	if (rec->closed)
		return;
	int64_t now = mf_now_ms();
	event(rec, 0, now);
	fprintf(rec->f, "! %s\n", what);
	rec->have_last = 1;
	rec->last = now;
	check_file(rec);
}

/* The transcript cannot be written: say so instead of losing the session. */
static int file_failed(recorder *rec)
{
	if (!rec->werr)
		return 0;
	snprintf(rec->t.err, sizeof rec->t.err, "transcript %s: %s", rec->path, strerror(rec->werr));
	return 1;
}

static void take_err(recorder *rec)
{
	memcpy(rec->t.err, rec->inner->err, sizeof rec->t.err);
}

/* A read or write failed: take its reason, and note once in the transcript
** that the port closed (the player then closes at the same point). */
static void io_failed(recorder *rec, long rc)
{
	take_err(rec);
	if (rc == MF_ECLOSED && !rec->closed) {
		control(rec, "close");
		rec->closed = 1;
	}
}

static long rec_read(mf_transport *t, void *buf, size_t len, int timeout_ms)
{
	recorder *rec = (recorder *)t;
	if (file_failed(rec))
		return MF_EIO;
	long n = rec->inner->ops->read(rec->inner, buf, len, timeout_ms);
	if (n > 0) {
		int64_t now = mf_now_ms();
		traffic(rec, '<', buf, (size_t)n, now, now);
	} else if (n < 0) {
		io_failed(rec, n);
	}
	return n;
}

static long rec_write(mf_transport *t, const void *buf, size_t len, int timeout_ms)
{
	recorder *rec = (recorder *)t;
	if (file_failed(rec))
		return MF_EIO;
	int64_t t0 = mf_now_ms();
	long n = rec->inner->ops->write(rec->inner, buf, len, timeout_ms);
	if (n > 0) {
		traffic(rec, '>', buf, (size_t)n, t0, mf_now_ms());
	} else if (n < 0) {
		io_failed(rec, n);
	}
	return n;
}

static int rec_drain(mf_transport *t, int timeout_ms)
{
	recorder *rec = (recorder *)t;
	int rc = rec->inner->ops->drain(rec->inner, timeout_ms);
	if (rc != MF_OK)
		take_err(rec);
	return rc;
}

/* Only changes the port really made are recorded (the player answers every
** recorded one with MF_OK); a refused one leaves a comment. */
static int rec_line(mf_transport *t, const char *name, int on)
{
	recorder *rec = (recorder *)t;
	char what[MF_ERRLEN + 64];
	int rc = name[0] == 'd' ? rec->inner->ops->set_dtr(rec->inner, on)
	                        : rec->inner->ops->set_rts(rec->inner, on);
	if (rc == MF_OK) {
		snprintf(what, sizeof what, "%s %d", name, on != 0);
		control(rec, what);
	} else {
		take_err(rec);
		snprintf(what, sizeof what, "set_%s(%d) failed: %s", name, on != 0, rec->inner->err);
		mf_record_comment(t, what);
	}
	return rc;
}

static int rec_set_dtr(mf_transport *t, int on)
{
	return rec_line(t, "dtr", on);
}

static int rec_set_rts(mf_transport *t, int on)
{
	return rec_line(t, "rts", on);
}

static void rec_close(mf_transport *t)
{
	recorder *rec = (recorder *)t;
	if (!rec)
		return;
	if (rec->f) {
		flush_upto(rec, rec->n);
		fclose(rec->f);
	}
	if (rec->inner)
		rec->inner->ops->close(rec->inner);
	mf_redactor_free(rec->red);
	free(rec->path);
	free(rec);
}

static const mf_transport_ops record_ops = {
	.kind = "record",
	.read = rec_read,
	.write = rec_write,
	.drain = rec_drain,
	.set_dtr = rec_set_dtr,
	.set_rts = rec_set_rts,
	.close = rec_close,
};

int mf_record_open(mf_transport *inner, const char *path, mf_transport **out, char *err, size_t errlen)
{
	*out = NULL;
	if (!inner) {
		snprintf(err, errlen, "record: no transport to wrap");
		return MF_EARG;
	}
	if (!path || !*path) {
		inner->ops->close(inner);
		snprintf(err, errlen, "record: no transcript file named");
		return MF_EARG;
	}
	recorder *rec = calloc(1, sizeof *rec);
	if (!rec || !(rec->red = mf_redactor_new()) || !(rec->path = strdup(path))) {
		if (rec)
			mf_redactor_free(rec->red);
		free(rec);
		inner->ops->close(inner);
		snprintf(err, errlen, "%s: out of memory", path);
		return MF_EMEM;
	}
	rec->t.ops = &record_ops;
	rec->inner = inner;
	if (!(rec->f = fopen(path, "we"))) { /* "e": close on exec, as the port */
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rec_close(&rec->t);
		return MF_EIO;
	}
	setvbuf(rec->f, NULL, _IOFBF, 1 << 16);
	fprintf(rec->f, "%s\n", MF_TX_HEADER);
	*out = &rec->t;
	return MF_OK;
}

void mf_record_comment(mf_transport *t, const char *text)
{
	if (!t || t->ops != &record_ops || !text)
		return;
	recorder *rec = (recorder *)t;
	size_t n = strlen(text);
	char *red = malloc(2 * n + 1);
	if (!red)
		return;
	flush_upto(rec, rec->n);
	n = mf_redact(rec->red, text, n, red);
	/* One "# " line per line of text; control bytes would break the file. */
	for (size_t i = 0, s = 0; i <= n; i++) {
		if (i < n && red[i] != '\n') {
			unsigned char c = (unsigned char)red[i];
			if ((c < 0x20 && c != '\t') || c == 0x7f)
				red[i] = '?';
			continue;
		}
		if (i > s)
			fprintf(rec->f, "# %.*s\n", (int)(i - s), red + s);
		else
			fputs("#\n", rec->f);
		s = i + 1;
	}
	free(red);
	check_file(rec);
}

mf_redactor *mf_record_redactor(mf_transport *t)
{
	return t && t->ops == &record_ops ? ((recorder *)t)->red : NULL;
}
