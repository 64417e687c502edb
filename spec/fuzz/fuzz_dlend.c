/* fuzz_dlend.c: libFuzzer target for the download-end scanner (mf_dlend)
** driven as data mode drives it: a window of unflushed bytes, `safe` bytes
** flushed after each run, until the first validated end.
** Input: [0] bit 0 trailer form (count+checksum), bit 1 size known;
** [1..2] the known size; [3] split seed; then the module's bytes.
** Invariants: the scanner never claims an end whose count differs (or
** that is not the known size); safe bytes never exceed the buffer, and are
** the payload's end at a validated one; hit indices lie in the buffer;
** split independence: whole, one byte at a time and random chunks give
** the same hits; completeness: a trailer at its own count behind a plain
** framing is found, the line right after a candidate's line too. */
#include "mf_dlend.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_HITS 64

typedef struct run {
	int nhits;
	int st[MAX_HITS];
	int64_t line_at[MAX_HITS], end_at[MAX_HITS], next_at[MAX_HITS];
	int validated;
} run;

static void fail(const char *why, size_t step)
{
	fprintf(stderr, "fuzz_dlend: %s (chunking %zu)\n", why, step);
	abort();
}

/* The count a trailer line claims, or -1. */
static long long claim(const char *line, int kind, const char *prefix)
{
	size_t pl = strlen(prefix);
	if (strncmp(line, prefix, pl) != 0 || line[pl] != ':')
		return -1;
	long long a, b;
	int used = -1;
	const char *p = line + pl + 1;
	if (strpbrk(p, "\t\v\f+-")) /* the scanner allows spaces only, and digits */
		return -1;
	if (sscanf(p, kind == MF_TRAILER_COUNT_CHECKSUM ? " %lld , %llx %n" : " %lld , %lld %n", &a, &b, &used) != 2 ||
	    used < 0 || p[used] != 0)
		return -1; /* the line holds the two numbers and nothing else */
	return kind == MF_TRAILER_COUNT_CHECKSUM ? a : a == 0 ? b : -1;
}

static uint32_t next_rand(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 16;
}

static void drive(const char *in, size_t n, int kind, int64_t expect, size_t step, uint32_t seed, run *out)
{
	const char *prefix = kind == MF_TRAILER_COUNT_CHECKSUM ? "+QFDWL" : "+QFTPGET";
	mf_dlend s;
	mf_dlend_init(&s, prefix, kind, 0, expect);
	static char work[1 << 17];
	size_t wl = 0, pos = 0;
	int64_t base = 0;
	memset(out, 0, sizeof *out);
	for (;;) {
		size_t safe = 0;
		mf_dlend_hit hit;
		int st = wl ? mf_dlend_run(&s, work, wl, &hit, &safe) : MF_DLEND_NONE;
		if (safe > wl)
			fail("safe past the buffer", step);
		if (st != MF_DLEND_NONE) {
			if (hit.payload_end > hit.line_start || hit.line_start > hit.end || hit.end > wl)
				fail("hit outside the buffer", step);
			if (out->nhits < MAX_HITS) {
				out->st[out->nhits] = st;
				out->line_at[out->nhits] = base + (int64_t)hit.line_start;
				out->end_at[out->nhits] = base + (int64_t)hit.payload_end;
				out->next_at[out->nhits++] = base + (int64_t)hit.end;
			}
		}
		if (st == MF_DLEND_VALIDATED) {
			long long cnt = claim(hit.line, kind, prefix);
			if (cnt != base + (int64_t)hit.payload_end || (expect >= 0 && cnt != expect))
				fail("validated an end whose count differs", step);
			if (safe != hit.payload_end)
				fail("safe is not the payload's end at a validated end", step);
			out->validated = 1;
			return;
		}
		if (st == MF_DLEND_CANDIDATE)
			continue;
		if (safe > wl - (wl > MF_DLEND_HOLD ? wl - MF_DLEND_HOLD : 0) && wl <= MF_DLEND_HOLD && safe)
			fail("safe bytes inside the hold-back", step);
		memmove(work, work + safe, wl - safe);
		wl -= safe;
		base += (int64_t)safe;
		mf_dlend_consume(&s, safe);
		if (pos == n)
			return;
		size_t k = step ? step : 1 + next_rand(&seed) % 97;
		if (k > n - pos)
			k = n - pos;
		if (wl + k > sizeof work)
			k = sizeof work - wl;
		memcpy(work + wl, in + pos, k);
		wl += k;
		pos += k;
	}
}

static int same(const run *a, const run *b)
{
	if (a->nhits != b->nhits || a->validated != b->validated)
		return 0;
	for (int i = 0; i < a->nhits; i++)
		if (a->st[i] != b->st[i] || a->line_at[i] != b->line_at[i] || a->end_at[i] != b->end_at[i])
			return 0;
	return 1;
}

/* A trailer at its own count behind a plain framing, complete with its
** line end, before the first validated hit: the scanner must not miss it. */
static void complete(const char *in, size_t n, int kind, int64_t expect, const run *r)
{
	if (kind != MF_TRAILER_RESULT_COUNT)
		return;
	static const char *const fr[] = {"\r\nOK\r\n\r\n", "\r\nOK\r\n", "OK\r\n\r\n", "OK\r\n", "\r\n\r\n", "\r\n", "\n"};
	int64_t limit = r->validated ? r->line_at[r->nhits - 1] : (int64_t)n;
	for (size_t ls = 1; ls < n && (int64_t)ls < limit; ls++) {
		if (in[ls - 1] != '\n' || in[ls] != '+')
			continue;
		size_t e = ls;
		while (e < n && e - ls < MF_DLEND_LINE_MAX && in[e] != '\r' && in[e] != '\n')
			e++;
		if (e >= n || e - ls >= MF_DLEND_LINE_MAX || (in[e] == '\r' && e + 1 >= n))
			continue;
		char line[MF_DLEND_LINE_MAX + 1];
		memcpy(line, in + ls, e - ls);
		line[e - ls] = 0;
		long long cnt = claim(line, kind, "+QFTPGET");
		if (cnt < 0 || (size_t)cnt > ls || (expect >= 0 && cnt != expect))
			continue;
		/* The framing is binary-safe compared: the payload may hold NULs
		** (spec/fuzz/findings/dlend-missed-trailer-1: "\n\0\0\0s\r\n"
		** once passed as the framing "\n" under strcmp). */
		size_t trail = ls - (size_t)cnt;
		int framed = 0;
		for (size_t i = 0; i < sizeof fr / sizeof fr[0]; i++)
			if (trail == strlen(fr[i]) && memcmp(in + cnt, fr[i], trail) == 0)
				framed = 1;
		if (framed)
			fail("missed a trailer at its own count", 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	int kind = data[0] & 1 ? MF_TRAILER_COUNT_CHECKSUM : MF_TRAILER_RESULT_COUNT;
	int64_t expect = data[0] & 2 ? (int64_t)(data[1] | data[2] << 8) : -1;
	uint32_t seed = data[3];
	const char *in = (const char *)data + 4;
	size_t n = size - 4;
	if (n > 100000)
		return 0;
	static run whole, bytewise, chunks;
	drive(in, n, kind, expect, n ? n : 1, seed, &whole);
	drive(in, n, kind, expect, 1, seed, &bytewise);
	drive(in, n, kind, expect, 0, seed, &chunks);
	if (!same(&whole, &bytewise))
		fail("whole and byte-at-a-time disagree", 1);
	if (!same(&whole, &chunks))
		fail("whole and random chunks disagree", 0);
	complete(in, n, kind, expect, &whole);
	return 0;
}
