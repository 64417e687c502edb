/* fuzz_at.c: libFuzzer target for the AT parser, the classifier and the
** download scanner. Input: arbitrary modem output. Checks that the parser
** gives the same lines for one buffer and byte-at-a-time, and that the
** scanner never reports a payload end outside its buffer. */
#include "mf_at.h"
#include "mf_dlend.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t lines(const uint8_t *d, size_t n, size_t step, char *sig, size_t cap)
{
	mf_at_parser p;
	mf_at_init(&p);
	size_t pos = 0, out = 0;
	mf_at_ctx ctx = {"AT+QFTPGET=\"a\",\"COM:\"", 0};
	while (pos < n) {
		size_t end = pos + step < n ? pos + step : n;
		while (pos < end) {
			int ready;
			pos += mf_at_feed(&p, (const char *)d + pos, end - pos, &ready);
			if (ready) {
				mf_line_kind k = mf_at_classify(p.line, &ctx);
				if (k == MF_LINE_ECHO)
					ctx.echo_done = 1;
				if (out + 1 < cap)
					sig[out++] = (char)('A' + k + (p.overflow ? 10 : 0));
				(void)mf_at_cme_code(p.line);
				p.len = 0;
				p.overflow = 0;
			}
		}
	}
	sig[out] = 0;
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char a[1 << 16], b[1 << 16];
	lines(data, size, size ? size : 1, a, sizeof a);
	lines(data, size, 1, b, sizeof b);
	if (strcmp(a, b) != 0)
		abort();

	mf_dlend s;
	mf_dlend_init(&s, size && (data[0] & 1) ? "+QFDWL" : "+QFTPGET",
	                size && (data[0] & 1) ? MF_TRAILER_COUNT_CHECKSUM : MF_TRAILER_RESULT_COUNT, 0, -1);
	mf_dlend_hit hit;
	size_t safe;
	for (int i = 0; i < 4; i++) {
		int st = mf_dlend_run(&s, (const char *)data, size, &hit, &safe);
		if (safe > size)
			abort();
		if (st != MF_DLEND_NONE && (hit.payload_end > hit.end || hit.end > size))
			abort();
		if (st == MF_DLEND_NONE)
			break;
	}
	return 0;
}
