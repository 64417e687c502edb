/* test_at.c: the AT line parser and classifier, at every split point. */
#include "mf_at.h"
#include "tap.h"

#include <stdlib.h>

/* Feed `in` split at `split` (and byte at a time when split == 0); collect
** lines as "line|line|..." into out. */
static void collect(const char *in, size_t n, size_t split, char *out, size_t cap)
{
	mf_at_parser p;
	mf_at_init(&p);
	out[0] = 0;
	size_t pos = 0;
	while (pos < n) {
		size_t end = split ? (pos < split ? split : n) : pos + 1;
		if (end > n)
			end = n;
		size_t at = pos;
		while (at < end) {
			int ready;
			at += mf_at_feed(&p, in + at, end - at, &ready);
			if (ready) {
				strncat(out, p.overflow ? "<cut>" : "", cap - strlen(out) - 1);
				strncat(out, p.line, cap - strlen(out) - 1);
				strncat(out, "|", cap - strlen(out) - 1);
				p.overflow = 0;
				p.len = 0;
			}
		}
		pos = end;
	}
}

int main(void)
{
	static const char session[] =
	    "AT+QFTPSIZE=\"a.txt\"\r\r\nOK\r\n\r\n+QFTPSIZE: 0,1000\r\n"
	    "\r\n+QIURC: \"pdpdeact\",1\r\nATI\r\r\nQuectel\r\nEC20F\r\n\r\nOK\r\n"
	    "\n\nERROR\r+CME ERROR: 610\r\n";
	const char *want = "AT+QFTPSIZE=\"a.txt\"|OK|+QFTPSIZE: 0,1000|+QIURC: \"pdpdeact\",1|ATI|Quectel|EC20F|OK|"
	                   "ERROR|+CME ERROR: 610|";
	size_t n = sizeof session - 1;
	char got[1024];
	int all = 1;
	for (size_t split = 0; split <= n; split++) {
		collect(session, n, split, got, sizeof got);
		if (strcmp(got, want) != 0) {
			all = 0;
			printf("# split %zu: %s\n", split, got);
		}
	}
	ok(all, "same lines at every split point and byte at a time");

	/* noise before a line is stripped; a noise-only line vanishes */
	collect("\xff\x13\x87OK\r\n\x01\x02\r\n", 10, 0, got, sizeof got);
	is_str(got, "OK|", "leading noise stripped, noise-only line dropped");

	/* overflow: cut and reported, parser keeps going */
	char *big = malloc(MF_AT_LINE_MAX * 2 + 16);
	memset(big, 'x', MF_AT_LINE_MAX * 2);
	memcpy(big + MF_AT_LINE_MAX * 2, "\r\nOK\r\n", 7);
	static char gotbig[MF_AT_LINE_MAX + 64];
	collect(big, MF_AT_LINE_MAX * 2 + 6, 0, gotbig, sizeof gotbig);
	ok(strncmp(gotbig, "<cut>xxx", 8) == 0 && strlen(gotbig) == MF_AT_LINE_MAX + 5 + 4 &&
	   strcmp(gotbig + MF_AT_LINE_MAX + 5, "|OK|") == 0, "over-long line is cut at the limit, next line intact");
	free(big);

	/* CONNECT reported at CR; the LF is swallowed by data mode only */
	{
		mf_at_parser p;
		mf_at_init(&p);
		int ready;
		size_t used = mf_at_feed(&p, "\r\nCONNECT\r\n\nDATA", 16, &ready);
		ok(ready && strcmp(p.line, "CONNECT") == 0 && used == 10, "CONNECT line ends at its CR (%zu used)", used);
		ok(mf_at_swallow_lf(&p, '\n'), "its LF is swallowed");
		ok(!mf_at_swallow_lf(&p, '\n'), "a second LF is payload");
	}

	/* classification */
	mf_at_ctx ctx = {"AT+QFTPSIZE=\"a.txt\"", 0};
	is_int(mf_at_classify("AT+QFTPSIZE=\"a.txt\"", &ctx), MF_LINE_ECHO, "echo");
	ctx.echo_done = 1;
	is_int(mf_at_classify("OK", &ctx), MF_LINE_OK, "OK");
	is_int(mf_at_classify("ERROR", &ctx), MF_LINE_ERROR, "ERROR");
	is_int(mf_at_classify("+CME ERROR: 610", &ctx), MF_LINE_CME, "+CME ERROR numeric");
	is_int(mf_at_classify("+CME ERROR: invalid parameter", &ctx), MF_LINE_CME, "+CME ERROR verbose");
	is_int(mf_at_cme_code("+CME ERROR: 610"), 610, "CME code parsed");
	is_int(mf_at_cme_code("+CME ERROR: SIM not inserted"), -1, "verbose CME has no number");
	is_int(mf_at_classify("NO CARRIER", &ctx), MF_LINE_NO_CARRIER, "NO CARRIER");
	is_int(mf_at_classify("CONNECT", &ctx), MF_LINE_CONNECT, "CONNECT");
	is_int(mf_at_classify("CONNECT 115200", &ctx), MF_LINE_CONNECT, "CONNECT with text");
	is_int(mf_at_classify("+QFTPSIZE: 0,1000", &ctx), MF_LINE_INFO, "own prefix is info");
	is_int(mf_at_classify("+QIURC: \"pdpdeact\",1", &ctx), MF_LINE_URC, "+QIURC is a URC");
	is_int(mf_at_classify("+QFTPOPEN: 0,0", &ctx), MF_LINE_URC, "other command's result is a URC");
	is_int(mf_at_classify("RDY", &ctx), MF_LINE_URC, "RDY is a URC");
	is_int(mf_at_classify("POWERED DOWN", &ctx), MF_LINE_URC, "POWERED DOWN is a URC");
	is_int(mf_at_classify("+CPIN: NOT READY", &ctx), MF_LINE_URC, "+CPIN: NOT READY is a URC for others");
	mf_at_ctx cpin = {"AT+CPIN?", 1};
	is_int(mf_at_classify("+CPIN: READY", &cpin), MF_LINE_INFO, "+CPIN: is info for AT+CPIN?");
	mf_at_ctx ati = {"ATI", 1};
	is_int(mf_at_classify("Quectel", &ati), MF_LINE_INFO, "plain text is info while a command is in flight");
	is_int(mf_at_classify("Quectel", NULL), MF_LINE_URC, "anything is a URC when idle");
	is_int(mf_at_classify("+WEIRD: 1", NULL), MF_LINE_URC, "unknown URC");
	char pre[32];
	mf_at_prefix("AT+QFTPCFG=\"account\",\"u\",\"p\"", pre, sizeof pre);
	is_str(pre, "+QFTPCFG", "prefix of a write command");
	mf_at_prefix("at+qftppwd", pre, sizeof pre);
	is_str(pre, "+QFTPPWD", "prefix is case-insensitive");
	mf_at_prefix("AT+QIACT?", pre, sizeof pre);
	is_str(pre, "+QIACT", "prefix of a query");
	mf_at_prefix("ATI", pre, sizeof pre);
	is_str(pre, "", "no prefix for ATI");
	ok(mf_at_has_prefix("+QFTPGET: 0,1", "+QFTPGET"), "has_prefix");
	ok(!mf_at_has_prefix("+QFTPGETX: 0,1", "+QFTPGET"), "has_prefix needs the colon");
	return tap_done();
}
