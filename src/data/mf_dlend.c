/*
** mf_dlend.c: count-validated end of a data-mode download (see header).
*/
#include "mf_dlend.h"
#include "mf_lines.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mf_dlend_init(mf_dlend *s, const char *prefix, int kind, int64_t base, int64_t expect)
{
	memset(s, 0, sizeof *s);
	snprintf(s->prefix, sizeof s->prefix, "%s:", prefix);
	s->prefix_len = strlen(s->prefix);
	s->kind = kind;
	s->base = base;
	s->expect = expect;
}

int mf_dlend_tail_plausible(const char *tail, size_t n)
{
	size_t i = 0;
	while (i < n) {
		if (tail[i] == '\r' || tail[i] == '\n') {
			i++;
			continue;
		}
		size_t e = i;
		while (e < n && tail[e] != '\r' && tail[e] != '\n') {
			unsigned char c = (unsigned char)tail[e];
			if (c < 0x20 || c > 0x7e)
				return 0; /* binary: payload */
			if (e - i > MF_DLEND_LINE_MAX * 4)
				return 0;
			e++;
		}
		if (e == n) /* incomplete line: a prefix of OK or a URC? */
			return (tail[i] == '+' || tail[i] == 'O' || tail[i] == 'R' || tail[i] == 'N' ||
			        tail[i] == 'P') ? -1 : 0;
		size_t len = e - i;
		const char *l = tail + i;
		if (!mf_line_is_module_framing(l, len))
			return 0;
		i = e;
	}
	return 1;
}

unsigned mf_dlend_checksum(unsigned sum, int64_t at, const char *buf, size_t n)
{
	const unsigned char *p = (const unsigned char *)buf;
	size_t i = 0;
	if ((at & 1) && n) /* the low byte of a word begun before */
		sum ^= p[i++];
	for (; i + 1 < n; i += 2)
		sum ^= (unsigned)p[i] << 8 | p[i + 1];
	if (i < n)
		sum ^= (unsigned)p[i] << 8;
	return sum;
}

void mf_dlend_consume(mf_dlend *s, size_t n)
{
	s->base += (int64_t)n;
	s->scan = s->scan > n ? s->scan - n : 0;
}

/* Parse "<digits> *, *<digits|hex>" into a, b; 1 on success. p..e is
** part of a line shorter than MF_DLEND_LINE_MAX (line_end sees to it). */
static int two_numbers(const char *p, const char *e, int hex_b, long long *a, long long *b)
{
	char tmp[MF_DLEND_LINE_MAX + 1];
	size_t n = (size_t)(e - p);
	memcpy(tmp, p, n);
	tmp[n] = 0;
	char *s = tmp, *end;
	while (*s == ' ')
		s++;
	if (*s < '0' || *s > '9')
		return 0;
	*a = strtoll(s, &end, 10);
	s = end;
	while (*s == ' ')
		s++;
	if (*s++ != ',')
		return 0;
	while (*s == ' ')
		s++;
	if (!((*s >= '0' && *s <= '9') || (hex_b && ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'f'))))
		return 0;
	*b = strtoll(s, &end, hex_b ? 16 : 10);
	while (*end == ' ')
		end++;
	return *end == 0;
}

static int ends_with(const char *buf, size_t at, const char *f, size_t flen)
{
	return at >= flen && memcmp(buf + at - flen, f, flen) == 0;
}

/* Framings that may sit between the payload and the trailer line, longest
** first; the count picks the right one. */
static const struct { const char *s; size_t n; int ok; } framings[] = {
	{"\r\nOK\r\n\r\n", 8, 1}, {"\r\nOK\r\n", 6, 1}, {"OK\r\n\r\n", 6, 1}, {"OK\r\n", 4, 1},
	{"\r\n\r\n", 4, 0}, {"\r\n", 2, 0}, {"\n", 1, 0}, {"", 0, 0},
};

typedef struct cand {
	size_t end; /* payload end */
	int ok;     /* an OK sits between it and the trailer */
} cand;

/* Every framing, and room for the walk back over URC lines. */
#define CAND_MAX 16
_Static_assert(sizeof framings / sizeof framings[0] + 2 < CAND_MAX, "room for the framings and the walk");

/* Candidate payload ends for a trailer line at ls, most likely first: the
** plain framings (the empty one always fits: there is at least one), then
** walking back over module lines (URCs that came between OK and the
** result) to the OK before them. */
static size_t payload_ends(const char *buf, size_t ls, cand out[CAND_MAX])
{
	size_t n = 0;
	for (size_t i = 0; i < sizeof framings / sizeof framings[0]; i++)
		if (ends_with(buf, ls, framings[i].s, framings[i].n))
			out[n++] = (cand){ls - framings[i].n, framings[i].ok};
	size_t cur = ls;
	while (ls - cur < MF_DLEND_WALK && n + 2 < CAND_MAX) {
		size_t e = cur;
		while (e > 0 && cur - e < 4 && (buf[e - 1] == '\r' || buf[e - 1] == '\n'))
			e--;
		if (e == cur || e == 0)
			break;
		size_t b = e;
		while (b > 0 && buf[b - 1] != '\n' && e - b <= MF_DLEND_LINE_MAX)
			b--;
		if (b == 0 || e - b > MF_DLEND_LINE_MAX || !mf_line_is_module_framing(buf + b, e - b))
			break;
		if (e - b == 2 && memcmp(buf + b, "OK", 2) == 0) {
			if (ends_with(buf, b, "\r\n", 2))
				out[n++] = (cand){b - 2, 1};
			out[n++] = (cand){b, 1};
			break;
		}
		cur = b; /* a URC line: look further back */
		if (ends_with(buf, cur, "\r\n", 2))
			out[n++] = (cand){cur - 2, 0};
	}
	return n;
}

/* Look at a trailer line starting at ls, ending (exclusive) at le, with the
** next line starting at next. Returns MF_DLEND_* for it. */
static int judge(mf_dlend *s, const char *buf, size_t ls, size_t le, size_t next, mf_dlend_hit *hit)
{
	size_t n = le - ls;
	const char *line = buf + ls;
	long long a = 0, b = 0;
	int is_trailer = n > s->prefix_len && memcmp(line, s->prefix, s->prefix_len) == 0 &&
	                 two_numbers(line + s->prefix_len, line + n, s->kind == MF_TRAILER_COUNT_CHECKSUM, &a, &b);
	int is_abort = (mf_line_classes(line, n) & MF_LC_ENDS_TRANSFER) != 0;
	if (!is_trailer && !is_abort)
		return MF_DLEND_NONE;
	memset(hit, 0, sizeof *hit);
	memcpy(hit->line, line, n < MF_DLEND_LINE_MAX ? n : MF_DLEND_LINE_MAX);
	hit->a = a;
	hit->b = b;
	hit->line_start = ls;
	hit->end = next;
	long long want = -1;
	if (is_trailer)
		want = s->kind == MF_TRAILER_COUNT_CHECKSUM ? a : (a == 0 ? b : -1);
	cand c[CAND_MAX];
	size_t nc = payload_ends(buf, ls, c);
	for (size_t i = 0; i < nc; i++) {
		int64_t payload = s->base + (int64_t)c[i].end;
		if (want >= 0 && payload == want && (s->expect < 0 || payload == s->expect)) {
			hit->payload_end = c[i].end;
			hit->ok_seen = c[i].ok;
			return MF_DLEND_VALIDATED;
		}
	}
	/* Error code, count mismatch, or an abort line: unvalidated. The
	** payload ends before the OK when there is one, else before the line. */
	hit->payload_end = c[0].end;
	for (size_t i = 0; i < nc; i++)
		if (c[i].ok) {
			hit->payload_end = c[i].end;
			hit->ok_seen = 1;
			break;
		}
	return MF_DLEND_CANDIDATE;
}

/* End of the line starting at ls: index of its CR/LF, or (size_t)-1 when the
** line is incomplete, or (size_t)-2 when it is too long to be a trailer. */
static size_t line_end(const char *buf, size_t len, size_t ls)
{
	size_t lim = ls + MF_DLEND_LINE_MAX < len ? ls + MF_DLEND_LINE_MAX : len;
	for (size_t e = ls; e < lim; e++)
		if (buf[e] == '\r' || buf[e] == '\n')
			return e;
	return lim == len ? (size_t)-1 : (size_t)-2;
}

/* Index after the line end at e, or (size_t)-1 if a LF may still follow. */
static size_t after_eol(const char *buf, size_t len, size_t e)
{
	if (buf[e] == '\n')
		return e + 1;
	if (e + 1 >= len)
		return (size_t)-1;
	return buf[e + 1] == '\n' ? e + 2 : e + 1;
}

static size_t safe_len(size_t len)
{
	return len > MF_DLEND_HOLD ? len - MF_DLEND_HOLD : 0;
}

/* QFDWL's trailer follows the data with no line break: find the prefix. */
static int run_prefix(mf_dlend *s, const char *buf, size_t len, mf_dlend_hit *hit, size_t *safe)
{
	size_t i = s->scan;
	while (i < len) {
		const char *q = memmem(buf + i, len - i, s->prefix, s->prefix_len);
		if (!q) {
			/* a prefix may straddle the end */
			s->scan = len >= s->prefix_len ? len - s->prefix_len + 1 : 0;
			if (s->scan < i)
				s->scan = i;
			break;
		}
		size_t ls = (size_t)(q - buf);
		size_t e = line_end(buf, len, ls);
		if (e == (size_t)-1) {
			s->scan = ls;
			break;
		}
		if (e != (size_t)-2) {
			size_t next = after_eol(buf, len, e);
			if (next == (size_t)-1) {
				s->scan = ls;
				break;
			}
			int r = judge(s, buf, ls, e, next, hit);
			if (r != MF_DLEND_NONE) {
				s->scan = next;
				*safe = r == MF_DLEND_VALIDATED ? hit->payload_end : safe_len(len);
				return r;
			}
		}
		i = ls + 1;
	}
	*safe = safe_len(len);
	return MF_DLEND_NONE;
}

int mf_dlend_run(mf_dlend *s, const char *buf, size_t len, mf_dlend_hit *hit, size_t *safe)
{
	if (s->kind == MF_TRAILER_COUNT_CHECKSUM)
		return run_prefix(s, buf, len, hit, safe);
	/* Every trailer line of the EC20 framing follows a LF: visit each LF and
	** look closer only when the next byte could start one. */
	size_t i = s->scan;
	while (i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);
		if (!nl) {
			i = len;
			break;
		}
		size_t ls = (size_t)(nl - buf) + 1;
		if (ls == len) { /* the LF is the last byte: wait */
			i = ls - 1;
			break;
		}
		char c0 = buf[ls];
		if (c0 != '+' && c0 != 'N' && c0 != 'R') {
			i = ls;
			continue;
		}
		size_t e = line_end(buf, len, ls);
		if (e == (size_t)-1) {
			i = ls - 1;
			break;
		}
		if (e != (size_t)-2) {
			size_t next = after_eol(buf, len, e);
			if (next == (size_t)-1) {
				i = ls - 1;
				break;
			}
			int r = judge(s, buf, ls, e, next, hit);
			if (r != MF_DLEND_NONE) {
				/* Resume at the LF that ends this line, so that the line
				** right after it (the real trailer after a payload whose
				** last line looks like one) is judged too. */
				s->scan = buf[next - 1] == '\n' ? next - 1 : next;
				*safe = r == MF_DLEND_VALIDATED ? hit->payload_end : safe_len(len);
				return r;
			}
		}
		i = ls;
	}
	s->scan = i;
	*safe = safe_len(len);
	return MF_DLEND_NONE;
}
