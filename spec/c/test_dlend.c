/* test_dlend.c: the count-validated end of a download, at every split. */
#include "mf_dlend.h"
#include "tap.h"

#include <stdlib.h>

typedef struct out {
	char *buf;
	size_t len;
	int st;
	mf_dlend_hit hit;
	size_t leftover; /* bytes after the trailer */
} out;

/* Drive the scanner the way mf_data_get does: a working buffer of
** unflushed bytes, fed `chunk` bytes at a time. Stops at END or CANDIDATE
** (when the stream is over). */
static int64_t expect = -1;
static void run(const char *prefix, int kind, const char *in, size_t n, size_t chunk, out *o)
{
	mf_dlend s;
	mf_dlend_init(&s, prefix, kind, 0, expect);
	char *work = malloc(n + 1);
	size_t wl = 0, pos = 0;
	o->buf = malloc(n + 1);
	o->len = 0;
	o->st = MF_DLEND_NONE;
	int have_cand = 0;
	mf_dlend_hit cand;
	for (;;) {
		size_t safe;
		mf_dlend_hit hit;
		int st = wl ? mf_dlend_run(&s, work, wl, &hit, &safe) : (safe = 0, MF_DLEND_NONE);
		if (st == MF_DLEND_VALIDATED) {
			memcpy(o->buf + o->len, work, hit.payload_end);
			o->len += hit.payload_end;
			o->st = st;
			o->hit = hit;
			o->leftover = wl - hit.end + (n - pos);
			break;
		}
		if (st == MF_DLEND_CANDIDATE) {
			cand = hit;
			have_cand = 1;
			continue;
		}
		if (have_cand && wl - cand.end > MF_DLEND_LINE_MAX + 8)
			have_cand = 0;
		if (have_cand && safe > cand.payload_end)
			safe = cand.payload_end;
		memcpy(o->buf + o->len, work, safe);
		o->len += safe;
		memmove(work, work + safe, wl - safe);
		wl -= safe;
		mf_dlend_consume(&s, safe);
		if (have_cand) {
			cand.payload_end -= safe;
			cand.end -= safe;
		}
		if (pos == n) {
			if (have_cand) {
				memcpy(o->buf + o->len, work, cand.payload_end);
				o->len += cand.payload_end;
				o->st = MF_DLEND_CANDIDATE;
				o->hit = cand;
			}
			break;
		}
		size_t k = n - pos < chunk ? n - pos : chunk;
		memcpy(work + wl, in + pos, k);
		wl += k;
		pos += k;
	}
	free(work);
}

static char stream[8192];

static size_t build(const char *payload, size_t plen, const char *trailer_fmt, long long count)
{
	memcpy(stream, payload, plen);
	int t = snprintf(stream + plen, sizeof stream - plen, trailer_fmt, count);
	return plen + (size_t)t;
}

static int check_all_splits(const char *what, const char *prefix, int kind, const char *payload, size_t plen,
                            size_t n)
{
	int good = 1;
	for (size_t chunk = 1; chunk <= n + 1; chunk += (chunk < 300 ? 1 : 97)) {
		out o;
		run(prefix, kind, stream, n, chunk, &o);
		if (o.st != MF_DLEND_VALIDATED || o.len != plen || memcmp(o.buf, payload, plen) != 0) {
			printf("# %s: chunk %zu: st %d len %zu\n", what, chunk, o.st, o.len);
			good = 0;
		}
		free(o.buf);
		if (!good)
			break;
	}
	return good;
}

int main(void)
{
	const char *ec20 = "\r\nOK\r\n\r\n+QFTPGET: 0,%lld\r\n";
	/* plain text */
	const char *p1 = "hello world\n";
	size_t n = build(p1, strlen(p1), ec20, (long long)strlen(p1));
	ok(check_all_splits("plain", "+QFTPGET", MF_TRAILER_RESULT_COUNT, p1, strlen(p1), n), "plain payload, every chunk size");

	/* payload containing the trailer text itself */
	const char *p2 = "log\r\nOK\r\n\r\n+QFTPGET: 0,12\r\nmore\r\nOK\r\n+QFTPGET: 0,5\r\n+QFTPGET: 0,0\r\nNO CARRIER\r\nend";
	n = build(p2, strlen(p2), ec20, (long long)strlen(p2));
	ok(check_all_splits("tricky", "+QFTPGET", MF_TRAILER_RESULT_COUNT, p2, strlen(p2), n),
	   "payload containing \\r\\nOK\\r\\n and +QFTPGET: lines, every chunk size");

	/* payload that ends with exactly the fake trailer of a shorter length */
	const char *p3 = "abc\r\nOK\r\n\r\n+QFTPGET: 0,3\r\n";
	n = build(p3, strlen(p3), ec20, (long long)strlen(p3));
	expect = (int64_t)strlen(p3);
	ok(check_all_splits("self", "+QFTPGET", MF_TRAILER_RESULT_COUNT, p3, strlen(p3), n),
	   "payload holding a self-consistent fake trailer: the known size decides");
	expect = -1;
	{
		out o;
		run("+QFTPGET", MF_TRAILER_RESULT_COUNT, stream, n, 4096, &o);
		ok(o.st == MF_DLEND_VALIDATED && o.len == 3, "without the size the scanner alone stops early (the caller confirms)");
		free(o.buf);
	}
	ok(mf_dlend_tail_plausible("", 0) == 1, "nothing after the end: plausible");
	ok(mf_dlend_tail_plausible("\r\n+QIURC: \"pdpdeact\",1\r\n", strlen("\r\n+QIURC: \"pdpdeact\",1\r\n")) == 1, "a URC after the end: plausible");
	ok(mf_dlend_tail_plausible("\r\nOK\r\n", strlen("\r\nOK\r\n")) == 1, "OK after the end: plausible");
	ok(mf_dlend_tail_plausible("\r\n+QFT", strlen("\r\n+QFT")) == -1, "half a URC: undecided");
	ok(mf_dlend_tail_plausible("\r\nOK\r\n\r\n+QFTPGET: 0,28\r\n", strlen("\r\nOK\r\n\r\n+QFTPGET: 0,28\r\n")) == 1, "the real trailer after a fake one");
	ok(mf_dlend_tail_plausible("more data\r\n", strlen("more data\r\n")) == 0, "text after the end: it was payload");
	ok(mf_dlend_tail_plausible("\x00\x01", 2) == 0, "binary after the end: it was payload");

	/* all 256 byte values, binary */
	char bin[2048];
	for (size_t i = 0; i < sizeof bin; i++)
		bin[i] = (char)(i * 7 + (i >> 8));
	n = build(bin, sizeof bin, ec20, (long long)sizeof bin);
	ok(check_all_splits("binary", "+QFTPGET", MF_TRAILER_RESULT_COUNT, bin, sizeof bin, n), "binary payload");

	/* empty payload */
	n = build("", 0, ec20, 0);
	ok(check_all_splits("empty", "+QFTPGET", MF_TRAILER_RESULT_COUNT, "", 0, n), "empty file");

	/* framing variants */
	const char *variants[] = {"OK\r\n\r\n+QFTPGET: 0,%lld\r\n", "\r\nOK\r\n+QFTPGET: 0,%lld\r\n",
	                          "\r\n+QFTPGET: 0,%lld\r\n", "\r\nOK\r\n\r\n+QFTPGET:0, %lld\r\n",
	                          "\r\nOK\r\n\r\n+QFTPGET: 0,%lld\n"};
	for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
		n = build(p1, strlen(p1), variants[v], (long long)strlen(p1));
		ok(check_all_splits("variant", "+QFTPGET", MF_TRAILER_RESULT_COUNT, p1, strlen(p1), n), "framing variant %zu", v);
	}

	/* a URC between the OK and the result (pdpdeact, SMS...) is not payload */
	n = build(p2, strlen(p2), "\r\nOK\r\n\r\n+QIURC: \"pdpdeact\",1\r\n\r\n+QFTPGET: 0,%lld\r\n", (long long)strlen(p2));
	ok(check_all_splits("urc-between", "+QFTPGET", MF_TRAILER_RESULT_COUNT, p2, strlen(p2), n),
	   "URC between OK and the result line");
	{
		const char *p = "partial-data";
		n = build(p, strlen(p), "\r\nOK\r\n\r\n+QIURC: \"pdpdeact\",1\r\n\r\n+QFTPGET: 605,0\r\n", 0);
		out o;
		run("+QFTPGET", MF_TRAILER_RESULT_COUNT, stream, n, 5, &o);
		ok(o.st == MF_DLEND_CANDIDATE && o.len == strlen(p) && memcmp(o.buf, p, o.len) == 0,
		   "error result after a URC: the payload stops before the OK (%zu bytes)", o.len);
		free(o.buf);
	}

	/* LIST uses its own prefix; a +QFTPGET line in a listing is data */
	const char *p4 = "-rw-r--r-- 1 u g 10 Jul 08 11:00 +QFTPGET: 0,10\r\n";
	n = build(p4, strlen(p4), "\r\nOK\r\n\r\n+QFTPLIST: 0,%lld\r\n", (long long)strlen(p4));
	ok(check_all_splits("list", "+QFTPLIST", MF_TRAILER_RESULT_COUNT, p4, strlen(p4), n), "+QFTPLIST trailer");

	/* QFDWL: trailer right after the data, checksum in hex, OK after */
	const char *p5 = "0123456789";
	n = build(p5, strlen(p5), "+QFDWL: %lld,613e\r\n\r\nOK\r\n", (long long)strlen(p5));
	ok(check_all_splits("qfdwl", "+QFDWL", MF_TRAILER_COUNT_CHECKSUM, p5, strlen(p5), n), "QFDWL trailer");

	/* error trailer: a candidate, payload before it kept */
	{
		const char *p = "partial";
		n = build(p, strlen(p), "\r\nOK\r\n\r\n+QFTPGET: 607,0\r\n", 0);
		out o;
		run("+QFTPGET", MF_TRAILER_RESULT_COUNT, stream, n, 3, &o);
		ok(o.st == MF_DLEND_CANDIDATE && o.len == 7 && memcmp(o.buf, p, 7) == 0 && o.hit.a == 607,
		   "error trailer is a candidate; partial payload kept");
		free(o.buf);
	}
	/* count mismatch: a candidate too (bytes were lost on the line) */
	{
		n = build("abcd", 4, ec20, 5);
		out o;
		run("+QFTPGET", MF_TRAILER_RESULT_COUNT, stream, n, 2, &o);
		ok(o.st == MF_DLEND_CANDIDATE && o.hit.a == 0 && o.hit.b == 5 && o.len == 4, "count mismatch is a candidate");
		free(o.buf);
	}
	/* the leftover after the trailer is not eaten */
	{
		n = build("xy", 2, "\r\nOK\r\n\r\n+QFTPGET: 0,%lld\r\n\r\n+QIURC: \"pdpdeact\",1\r\n", 2);
		out o;
		run("+QFTPGET", MF_TRAILER_RESULT_COUNT, stream, n, 1000, &o);
		ok(o.st == MF_DLEND_VALIDATED && o.leftover == strlen("\r\n+QIURC: \"pdpdeact\",1\r\n"), "bytes after the trailer left over (%zu)", o.leftover);
		free(o.buf);
	}
	/* big payload: memory stays bounded (scanner only ever sees its window) */
	{
		size_t big = 3 * 1000 * 1000;
		char *b = malloc(big + 64);
		for (size_t i = 0; i < big; i++)
			b[i] = (char)(i % 251 == 0 ? '\n' : 'a' + i % 26);
		int t = snprintf(b + big, 64, "\r\nOK\r\n\r\n+QFTPGET: 0,%zu\r\n", big);
		out o;
		run("+QFTPGET", MF_TRAILER_RESULT_COUNT, b, big + (size_t)t, 65536, &o);
		ok(o.st == MF_DLEND_VALIDATED && o.len == big && memcmp(o.buf, b, big) == 0, "3 MB payload exact");
		free(o.buf);
		free(b);
	}
	/* QFDWL's checksum, run over any split: the same as over the whole */
	{
		unsigned char d[1001];
		unsigned whole = 0;
		for (size_t i = 0; i < sizeof d; i++) {
			d[i] = (unsigned char)(i * 131 + 7);
			whole ^= i % 2 ? d[i] : (unsigned)d[i] << 8;
		}
		int same = mf_dlend_checksum(0, 0, (const char *)d, sizeof d) == whole;
		for (size_t chunk = 1; chunk <= 9; chunk++) {
			unsigned sum = 0;
			for (size_t at = 0; at < sizeof d; at += chunk)
				sum = mf_dlend_checksum(sum, (int64_t)at, (const char *)d + at,
				                        sizeof d - at < chunk ? sizeof d - at : chunk);
			same = same && sum == whole;
		}
		ok(same, "QFDWL checksum (big-endian 16-bit XOR, odd last byte high) is the same over every split");
		ok(mf_dlend_checksum(0, 0, "\x12\x34\x56", 3) == (0x1234u ^ 0x5600u), "checksum of 12 34 56 is 1234 ^ 5600");
	}
	/* A payload whose last line looks like a trailer, framed by a bare CRLF:
	** the real trailer on the very next line is still judged (found by the
	** model test: the scan used to resume past the LF that starts it). */
	{
		const char *in = "xyz\r\n+QFTPGET: 0,9\r\n+QFTPGET: 0,18\r\n";
		mf_dlend s;
		mf_dlend_hit hit;
		size_t safe;
		mf_dlend_init(&s, "+QFTPGET", MF_TRAILER_RESULT_COUNT, 0, -1);
		int st1 = mf_dlend_run(&s, in, strlen(in), &hit, &safe);
		int st2 = mf_dlend_run(&s, in, strlen(in), &hit, &safe);
		ok(st1 == MF_DLEND_CANDIDATE && st2 == MF_DLEND_VALIDATED && hit.payload_end == 18,
		   "the line right after a candidate is judged: the end at 18 is found");
	}
	/* The edges of the trailer's syntax and of the scan (every branch of
	** the end detection, make coverage) */
	{
		const char *spaced[] = {"\r\n+QFTPGET: 0 ,%lld\r\n", "\r\n+QFTPGET:  0 , %lld  \r\n"};
		for (int i = 0; i < 2; i++) {
			n = build("abc", 3, spaced[i], 3);
			out o;
			run("+QFTPGET", MF_TRAILER_RESULT_COUNT, stream, n, 4096, &o);
			ok(o.st == MF_DLEND_VALIDATED && o.len == 3, "spaces around the comma and after the count (%d)", i);
			free(o.buf);
		}
		n = build("0123456789", 10, "+QFDWL: %lld,g1\r\n", 10);
		out o;
		run("+QFDWL", MF_TRAILER_COUNT_CHECKSUM, stream, n, 4096, &o);
		ok(o.st == MF_DLEND_NONE, "a checksum that is no hex number: no trailer");
		free(o.buf);
		/* "+QFDWL:" inside the data with no line end for longer than a
		** trailer: skipped, the real trailer after it found */
		static char data[300];
		size_t dl = (size_t)snprintf(data, sizeof data, "+QFDWL: 1,2");
		memset(data + dl, 'x', 150);
		dl += 150;
		n = build(data, dl, "+QFDWL: %lld,0\r\n", (long long)dl);
		expect = (int64_t)dl;
		run("+QFDWL", MF_TRAILER_COUNT_CHECKSUM, stream, n, 64, &o);
		ok(o.st == MF_DLEND_VALIDATED && o.len == dl, "a long line after the prefix in the data is data");
		expect = -1;
		free(o.buf);
		static char longline[600];
		memcpy(longline, "\r\n", 2);
		memset(longline + 2, 'A', 500);
		memcpy(longline + 502, "\r\n", 2);
		ok(mf_dlend_tail_plausible(longline, 504) == 0, "a printable line longer than any module line after the end: payload");
		ok(mf_dlend_checksum(0x1234, 1, "", 0) == 0x1234, "checksum of nothing at an odd offset: unchanged");
	}
	return tap_done();
}
