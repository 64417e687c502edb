/*
** test_transcript.c: the transcript format, the replay: player, the
** recorder and the redactor. Pauses are a few tens of ms; every timing
** check is a lower bound or has a generous deadline.
*/
#include "mf_chat.h"
#include "mf_transcript.h"
#include "mf_transcript_int.h"
#include "tap.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char dir[64];
static char errbuf[MF_ERRLEN];

static const char *tmpfile_named(const char *name)
{
	static char path[8][128];
	static int k;
	char *p = path[k++ % 8];
	snprintf(p, 128, "%s/%s", dir, name);
	return p;
}

static void put_file(const char *path, const char *text, size_t n)
{
	FILE *f = fopen(path, "w");
	if (!f || fwrite(text, 1, n, f) != n) {
		perror(path);
		exit(2);
	}
	fclose(f);
}

static char *get_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t cap = 0, len = 0, k;
	char chunk[65536];
	while ((k = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (len + k + 1 > cap) {
			cap = (len + k + 1) * 2;
			buf = realloc(buf, cap);
		}
		memcpy(buf + len, chunk, k);
		len += k;
	}
	fclose(f);
	if (!buf)
		buf = calloc(1, 1);
	buf[len] = '\0';
	if (n)
		*n = len;
	return buf;
}

/* Open a replay of the given transcript text. */
static mf_transport *replay_of(const char *name, const char *text)
{
	const char *path = tmpfile_named(name);
	mf_transport *t = NULL;
	put_file(path, text, strlen(text));
	if (mf_replay_open(path, NULL, &t, errbuf, sizeof errbuf) != MF_OK) {
		printf("# replay_of(%s): %s\n", name, errbuf);
		return NULL;
	}
	return t;
}

static long wr(mf_transport *t, const char *s)
{
	return t->ops->write(t, s, strlen(s), 100);
}

/* Read until n bytes or a read returns <= 0. */
static size_t rd(mf_transport *t, char *buf, size_t n, size_t chunk, int timeout_ms)
{
	size_t got = 0;
	while (got < n) {
		size_t want = n - got < chunk ? n - got : chunk;
		long k = t->ops->read(t, buf + got, want, timeout_ms);
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	return got;
}

static double cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- format ---- */

static void test_escape(void)
{
	unsigned char all[256], back[512];
	size_t wild[130];
	char text[1100], line[1104];
	mf_tx_line ln;
	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	size_t n = mf_tx_escape(all, 256, text);
	ok(n == strlen(text), "escape: length matches");
	int printable = 1;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)text[i] < 0x20 || (unsigned char)text[i] > 0x7e)
			printable = 0;
	ok(printable, "escape: all 256 byte values become printable ASCII");
	for (int dirc = 0; dirc < 2; dirc++) {
		snprintf(line, sizeof line, "%c %s", dirc ? '<' : '>', text);
		int rc = mf_tx_parse_line(line, strlen(line), &ln, back, wild, errbuf, sizeof errbuf);
		ok(rc == 0 && ln.kind == (dirc ? MF_TX_MODEM : MF_TX_HOST) && ln.len == 256 &&
		       memcmp(back, all, 256) == 0 && ln.nwild == 0,
		   "escape/unescape round trip of all 256 bytes in a '%c' line", dirc ? '<' : '>');
	}
	/* every single byte, also at the edges of a line */
	int each = 1;
	for (int i = 0; i < 256; i++) {
		unsigned char one = (unsigned char)i;
		mf_tx_escape(&one, 1, text);
		snprintf(line, sizeof line, "> %s", text);
		if (mf_tx_parse_line(line, strlen(line), &ln, back, wild, errbuf, sizeof errbuf) ||
		    ln.len != 1 || back[0] != one)
			each = 0;
	}
	ok(each, "each byte alone round-trips");
	const unsigned char tricky[] = " a\\b\r\n\t\"\x7f ";
	mf_tx_escape(tricky, sizeof tricky - 1, text);
	is_str(text, "\\x20a\\\\b\\r\\n\\t\"\\x7f\\x20", "escape: edge spaces, backslash, controls");
	const char *mixed = "> \\x41\\xfF\\x00";
	if (!ok(mf_tx_parse_line(mixed, strlen(mixed), &ln, back, wild, errbuf, sizeof errbuf) == 0 && ln.len == 3 &&
	       back[0] == 'A' && back[1] == 0xff && back[2] == 0,
	   "unescape: hex digits of either case"))
		printf("# %s\n", errbuf);
}

static void test_parse_lines(void)
{
	unsigned char b[64];
	size_t w[16];
	mf_tx_line ln;
	const char *s = "> a\\*\"b\\*\"";
	ok(mf_tx_parse_line(s, strlen(s), &ln, b, w, errbuf, sizeof errbuf) == 0 && ln.nwild == 2 && w[0] == 1 &&
	       w[1] == 3 && ln.len == 4 && memcmp(b, "a\"b\"", 4) == 0,
	   "wildcards recorded before the following byte");
	s = "< \"\\*\"";
	ok(mf_tx_parse_line(s, strlen(s), &ln, b, w, errbuf, sizeof errbuf) == 0 && ln.len == 5 &&
	       memcmp(b, "\"***\"", 5) == 0,
	   "\\* in a '<' line is ***");
	s = "~ 1200";
	ok(mf_tx_parse_line(s, strlen(s), &ln, b, w, errbuf, sizeof errbuf) == 0 && ln.kind == MF_TX_PAUSE &&
	       ln.value == 1200,
	   "pause line");
	s = "! rts 0";
	ok(mf_tx_parse_line(s, strlen(s), &ln, b, w, errbuf, sizeof errbuf) == 0 && ln.kind == MF_TX_RTS &&
	       ln.value == 0,
	   "rts line");
}

static void test_parse_errors(void)
{
	static const struct {
		const char *text;
		const char *want; /* after "FILE:" */
	} cases[] = {
		{"# modemftp transcript v1\n> AT\\q\n", "2: unknown escape \\q"},
		{"> AT \n", "1: trailing space (write it as \\x20)"},
		{"> AT\r\n", "1: CR at end of line (transcripts use LF line ends)"},
		{"> AT\n\n< OK\n~ abc\n", "4: bad pause"},
		{"~ 0\n", "1: bad pause"},
		{"! dtr 2\n", "1: unknown control line"},
		{"< NO CARRIER\\r\\n\n! close\n# fine\n< x\n", "4: only comments may follow '! close'"},
		{"> AT+X=\"\\*\n< OK\n", "1: \\* ends the host's bytes"},
		{"> \"\\*\n", "1: \\* ends the host's bytes"},
		{"> a\\*\\*b\n", "1: \\* directly after \\*"},
		{"> a\\*\n> \\*b\n", "2: \\* directly after \\*"},
		{"> a\\x4\n", "1: \\x needs two hex digits"},
		{"> \\X41\n", "1: unknown escape \\X"},
		{"> a\\\n", "1: lone backslash"},
		{"> a\tb\n", "1: raw byte 0x09"},
		{"> caf\xc3\xa9\n", "1: raw byte 0xc3"},
		{"hello\n", "1: unknown line"},
		{">AT\n", "1: want '> ' followed by bytes"},
		{">\n", "1: want '> ' followed by bytes"},
		{"> \n", "1: empty payload"},
		{"<  \n", "1: trailing space"},
		{"~1200\n", "1: want a single space after '~'"},
		{"   \n", "1: line of blanks"},
		{"# modemftp transcript v2\n", "1: unsupported transcript version"},
	};
	const char *path = tmpfile_named("bad.tx");
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		mf_transport *t = NULL;
		char want[256];
		put_file(path, cases[i].text, strlen(cases[i].text));
		int rc = mf_replay_open(path, NULL, &t, errbuf, sizeof errbuf);
		snprintf(want, sizeof want, "%s:%s", path, cases[i].want);
		if (!ok(rc == MF_EARG && !t && strncmp(errbuf, want, strlen(want)) == 0, "parse error %zu: %s", i,
		   cases[i].want))
			printf("#   got rc %d: %s\n", rc, errbuf);
		if (t)
			t->ops->close(t);
	}
	mf_transport *t = NULL;
	int rc = mf_replay_open(tmpfile_named("does-not-exist.tx"), NULL, &t, errbuf, sizeof errbuf);
	ok(rc == MF_EIO && strstr(errbuf, "does-not-exist.tx: No such file"), "missing file: MF_EIO (%s)", errbuf);
	const char *fine = "# modemftp transcript v1 (by hand)\n\n#\n> AT\\r\n# a comment between\n< \\x20OK\n";
	put_file(path, fine, strlen(fine));
	rc = mf_replay_open(path, NULL, &t, errbuf, sizeof errbuf);
	if (!ok(rc == MF_OK, "blank lines, comments and a leading \\x20 are fine"))
		printf("# %s\n", errbuf);
	if (t)
		t->ops->close(t);
	/* through the generic opener */
	put_file(path, fine, strlen(fine));
	char spec[160];
	snprintf(spec, sizeof spec, "replay:%s", path);
	rc = mf_transport_open(spec, NULL, &t, errbuf, sizeof errbuf);
	ok(rc == MF_OK && t && strcmp(t->ops->kind, "replay") == 0, "mf_transport_open(\"replay:FILE\")");
	if (t)
		t->ops->close(t);
}

/* ---- replay ---- */

static const char session[] =
	"# modemftp transcript v1\n"
	"> AT+QFTPSIZE=\"a.txt\"\\r\n"
	"< AT+QFTPSIZE=\"a.txt\"\\r\\r\\n\n"
	"< OK\\r\\n\n"
	"< \\r\\n+QFTPSIZE: 0,1234\\r\\n\n"
	"> AT+QFTPCLOSE\\r\n"
	"< \\r\\nOK\\r\\n\n";
static const char cmd1[] = "AT+QFTPSIZE=\"a.txt\"\r";
static const char resp1[] = "AT+QFTPSIZE=\"a.txt\"\r\r\nOK\r\n\r\n+QFTPSIZE: 0,1234\r\n";
static const char cmd2[] = "AT+QFTPCLOSE\r";
static const char resp2[] = "\r\nOK\r\n";

static void test_replay_session(void)
{
	size_t n1 = strlen(cmd1), r1 = strlen(resp1);
	int all_ok = 1;
	for (size_t split = 0; split <= n1; split++) {
		mf_transport *t = replay_of("session.tx", session);
		char got[128];
		if (!t) {
			all_ok = 0;
			break;
		}
		long a = t->ops->write(t, cmd1, split, 0);
		long b = t->ops->write(t, cmd1 + split, n1 - split, 0);
		size_t g = rd(t, got, sizeof got, 1, 0); /* 1 byte a time; stops when the modem waits */
		long c = wr(t, cmd2);
		size_t g2 = rd(t, got + g, sizeof got - g, 1, 0);
		int fin = mf_replay_finished(t, errbuf, sizeof errbuf);
		if (a != (long)split || b != (long)(n1 - split) || g != r1 || memcmp(got, resp1, r1) != 0 ||
		    c != (long)strlen(cmd2) || g2 != strlen(resp2) || memcmp(got + g, resp2, g2) != 0 || fin != MF_OK) {
			printf("# split %zu: %ld %ld %zu %ld %zu %d %s\n", split, a, b, g, c, g2, fin, errbuf);
			all_ok = 0;
		}
		t->ops->close(t);
	}
	ok(all_ok, "session: writes split at every byte, 1-byte reads: identical streams, finished");

	/* one byte per write, big reads */
	mf_transport *t = replay_of("session.tx", session);
	int bytewise = 1;
	for (size_t i = 0; i < n1; i++)
		if (t->ops->write(t, cmd1 + i, 1, 0) != 1)
			bytewise = 0;
	char got[256];
	long k = t->ops->read(t, got, sizeof got, 0);
	ok(bytewise && k == (long)r1 && memcmp(got, resp1, r1) == 0, "byte-per-write host; one read spans items");
	t->ops->close(t);
}

static void test_mismatch(void)
{
	mf_transport *t = replay_of("session.tx", session);
	long rc = wr(t, "AT+QFTPSIZE=\"b.txt\"\r");
	ok(rc == MF_EMISMATCH, "wrong command: MF_EMISMATCH");
	is_str(t->err, "line 2: expected AT+QFTPSIZE=\"a.txt\", got AT+QFTPSIZE=\"b.txt\"", "mismatch message");
	rc = wr(t, "AT\r");
	ok(rc == MF_EMISMATCH && strcmp(t->err, "line 2: expected AT+QFTPSIZE=\"a.txt\", got AT+QFTPSIZE=\"b.txt\"") == 0,
	   "a mismatch is final (later calls repeat it)");
	ok(t->ops->read(t, errbuf, 10, 0) == MF_EMISMATCH, "reads after a mismatch fail too");
	ok(mf_replay_finished(t, errbuf, sizeof errbuf) == MF_EMISMATCH && strncmp(errbuf, "line 2: expected", 16) == 0,
	   "finished reports the mismatch");
	t->ops->close(t);

	/* split write: the message still shows the command from its start */
	t = replay_of("session.tx", session);
	wr(t, "AT+QFTP");
	wr(t, "SIZE=\"a.");
	rc = wr(t, "tx\"\rAT");
	ok(rc == MF_EMISMATCH, "mismatch found across split writes");
	is_str(t->err, "line 2: expected AT+QFTPSIZE=\"a.txt\", got AT+QFTPSIZE=\"a.tx\"", "split-write mismatch message");
	t->ops->close(t);

	/* second command wrong, after the host read the answer */
	t = replay_of("session.tx", session);
	wr(t, cmd1);
	char buf[128];
	rd(t, buf, sizeof buf, 64, 0);
	rc = wr(t, "AT+QFTPCLOSE=1\r\n");
	is_str(t->err, "line 6: expected AT+QFTPCLOSE, got AT+QFTPCLOSE=1", "mismatch at the end of an item");
	t->ops->close(t);

	/* control bytes are escaped; long lines are windowed around the difference */
	t = replay_of("long.tx",
	              "> AT+QFTPPUT=\"/a/very/long/directory/name/that/goes/on/and/on/and/on/file-0001.bin\","
	              "\"COM:\",0\\r\n");
	rc = wr(t, "AT+QFTPPUT=\"/a/very/long/directory/name/that/goes/on/and/on/and/on/file-0002.bin\",\"COM:\",0\r");
	if (!ok(rc == MF_EMISMATCH && strlen(t->err) < MF_ERRLEN - 1 && strstr(t->err, "file-0001.bin") &&
	       strstr(t->err, "got ...") && strstr(t->err, "file-0002.bin"),
	   "long lines: both sides windowed around the difference"))
		printf("# %s\n", t->err);
	t->ops->close(t);
	t = replay_of("ctl.tx", "> \\x00\\x01AT\\t \\r\n");
	rc = t->ops->write(t, "\x00\x01" "AT\x1b", 5, 0);
	is_str(t->err, "line 1: expected \\x00\\x01AT\\t\\x20, got \\x00\\x01AT\\x1b", "control bytes rendered escaped");
	t->ops->close(t);

	/* nothing more expected */
	t = replay_of("end.tx", "> AT\\r\n< OK\\r\\n\n");
	wr(t, "AT\r");
	rc = wr(t, "ATI\r");
	ok(rc == MF_EMISMATCH, "writing past the end: MF_EMISMATCH");
	is_str(t->err, "line 2: expected end of transcript, got ATI", "end-of-transcript message");
	t->ops->close(t);
}

static void test_wildcard(void)
{
	const char *tx = "> AT+QFTPCFG=\"account\",\"user\",\"\\*\"\\r\n"
	                 "< AT+QFTPCFG=\"account\",\"user\",\"\\*\"\\r\\r\\nOK\\r\\n\n";
	mf_transport *t = replay_of("wild.tx", tx);
	const char *cmd = "AT+QFTPCFG=\"account\",\"user\",\"s3cr3t,pw\"\r";
	long rc = 0;
	for (size_t i = 0; cmd[i] && rc >= 0; i++)
		rc = t->ops->write(t, cmd + i, 1, 0);
	char buf[128] = {0};
	long k = t->ops->read(t, buf, sizeof buf - 1, 0);
	ok(rc == 1, "wildcard matches a password written byte by byte");
	is_str(buf, "AT+QFTPCFG=\"account\",\"user\",\"***\"\r\r\nOK\r\n", "\\* in '<' reads as ***");
	ok(k > 0 && mf_replay_finished(t, errbuf, sizeof errbuf) == MF_OK, "finished");
	t->ops->close(t);

	t = replay_of("wild.tx", tx);
	rc = wr(t, "AT+QFTPCFG=\"account\",\"user\",\"\"\r");
	ok(rc > 0, "wildcard matches an empty run");
	t->ops->close(t);

	t = replay_of("wild.tx", tx);
	rc = wr(t, "AT+QFTPCFG=\"account\",\"user\",\"pw\r");
	ok(rc == MF_EMISMATCH, "wildcard does not swallow the line end");
	is_str(t->err, "line 1: expected AT+QFTPCFG=\"account\",\"user\",\"\\*\", got AT+QFTPCFG=\"account\",\"user\",\"pw",
	       "wildcard mismatch message");
	t->ops->close(t);
}

static void test_skip_rule(void)
{
	const char *tx = "> A\\r\n< a\\r\\n\n> B\\r\n< b\\r\\n\n";
	mf_transport *t = replay_of("skip.tx", tx);
	char buf[32];
	ok(wr(t, "A\r") == 2 && wr(t, "B\r") == 2, "host writes the next command before reading the answer");
	long k = t->ops->read(t, buf, sizeof buf, 0);
	ok(k == 6 && memcmp(buf, "a\r\nb\r\n", 6) == 0, "pending '<' bytes are still delivered, in order");
	ok(mf_replay_finished(t, errbuf, sizeof errbuf) == MF_OK, "finished");
	t->ops->close(t);

	t = replay_of("skip.tx", tx);
	ok(wr(t, "A\rB\r") == 4, "one write may span '>' items");
	k = t->ops->read(t, buf, 4, 0);
	ok(k == 4 && memcmp(buf, "a\r\nb", 4) == 0, "reads cross the already-written '>'");
	t->ops->close(t);

	/* data mode: "+++" while payload is unread */
	t = replay_of("ppp.tx", "< CONNECT\\r\\n\n< PAYLOAD\n> +++\n< \\r\\nOK\\r\\n\n");
	k = t->ops->read(t, buf, 3, 0);
	ok(k == 3 && wr(t, "+++") == 3, "+++ while payload is buffered");
	k = t->ops->read(t, buf, sizeof buf, 0);
	if (!ok(k == 6 + 7 + 6 && memcmp(buf, "NECT\r\nPAYLOAD\r\nOK\r\n", 19) == 0, "payload then OK"))
		printf("# k=%ld\n", k);
	t->ops->close(t);

	/* a read with nothing due waits for its timeout, without spinning */
	t = replay_of("skip.tx", tx);
	int64_t t0 = mf_now_ms();
	double c0 = cpu_ms();
	k = t->ops->read(t, buf, sizeof buf, 60);
	double cpu = cpu_ms() - c0;
	int64_t el = mf_now_ms() - t0;
	ok(k == 0 && el >= 59, "modem waits for the host: read returns 0 after its timeout (%lld ms)", (long long)el);
	ok(cpu < 30, "and sleeps meanwhile (%.1f ms CPU)", cpu);
	t->ops->close(t);
}

static void test_pause(void)
{
	mf_transport *t = replay_of("pause.tx", "> AT\\r\n~ 40\n< OK\\r\\n\n");
	char buf[16];
	wr(t, "AT\r");
	int64_t t0 = mf_now_ms();
	long k = t->ops->read(t, buf, sizeof buf, 5);
	ok(k == 0, "read with timeout 5 during a 40 ms pause: 0");
	k = t->ops->read(t, buf, sizeof buf, 100);
	int64_t el = mf_now_ms() - t0;
	ok(k == 4 && memcmp(buf, "OK\r\n", 4) == 0, "read with timeout 100: the bytes");
	ok(el >= 39, "after the pause (%lld ms)", (long long)el);
	t->ops->close(t);

	/* the pause between "<" items, with the remainder owed across reads */
	t = replay_of("pause2.tx", "< RDY\\r\\n\n~ 30\n~ 10\n< +CPIN: READY\\r\\n\n");
	t0 = mf_now_ms();
	k = t->ops->read(t, buf, sizeof buf, 500);
	ok(k == 5, "bytes before a pause come at once, without waiting");
	int zeros = 0;
	while ((k = t->ops->read(t, buf, sizeof buf, 10)) == 0)
		zeros++;
	el = mf_now_ms() - t0;
	/* How many 10 ms reads time out depends on the scheduler (a loaded
	** machine may sleep one read past the whole pause): only the pause
	** itself is the contract. */
	ok(k > 0 && el >= 39, "merged 40 ms pause across 10 ms reads: the bytes after it (%d timeouts, %lld ms)", zeros,
	   (long long)el);
	t->ops->close(t);

	/* a silent modem at the end */
	t = replay_of("pause3.tx", "< x\n");
	t->ops->read(t, buf, sizeof buf, 0);
	t0 = mf_now_ms();
	k = t->ops->read(t, buf, sizeof buf, 20);
	ok(k == 0 && mf_now_ms() - t0 >= 19, "end of transcript: reads time out");
	t->ops->close(t);
}

/* A transcript that ends while the host still waits for bytes: the host
** is told at once (after a short silence the end of a session may hold)
** instead of waiting out its whole deadline. */
static void test_ended_early(void)
{
	char buf[16];
	mf_transport *t = replay_of("early.tx", "> AT+QFTPSIZE=\"a\"\\r\n< \\r\\nOK\\r\\n\n");
	wr(t, "AT+QFTPSIZE=\"a\"\r");
	ok(t->ops->read(t, buf, sizeof buf, 0) == 6, "the bytes there are come first");
	int64_t t0 = mf_now_ms();
	long k = 0;
	while ((k = t->ops->read(t, buf, sizeof buf, 200)) == 0 && mf_now_ms() - t0 < 10000)
		;
	int64_t el = mf_now_ms() - t0;
	ok(k == MF_ECLOSED && el < 3000, "a host that keeps waiting at the end: MF_ECLOSED after %lld ms", (long long)el);
	is_str(t->err, "transcript ended at line 2", "and the message names the line");
	ok(t->ops->read(t, buf, sizeof buf, 10) == MF_ECLOSED, "and stays so");
	t->ops->close(t);

	/* the engine waiting for a result URC with a 100 s deadline */
	t = replay_of("early.tx", "> AT+QFTPSIZE=\"a\"\\r\n< \\r\\nOK\\r\\n\n");
	mf_chat c;
	mf_chat_init(&c, t);
	mf_reply r;
	mf_reply_init(&r);
	mf_cmd_opts o = {0};
	o.timeout_ms = 100000;
	o.result = "+QFTPSIZE";
	o.result_timeout_ms = 100000;
	t0 = mf_now_ms();
	int rc = mf_chat_command(&c, "AT+QFTPSIZE=\"a\"", &o, &r);
	el = mf_now_ms() - t0;
	ok(rc == MF_ECLOSED && el < 3000 && strstr(c.err, "transcript ended at line 2"),
	   "a command whose answer the transcript lacks fails in %lld ms, not 100 s: %s (%s)", (long long)el,
	   mf_strerror(rc), c.err);
	mf_reply_free(&r);
	mf_chat_free(&c);
}

static const char guard_tx[] = "> AT+QFTPPUT=\"f\",\"COM:\",0\\r\n"
                               "< \\r\\nCONNECT\\r\\n\n"
                               "> hello\n"
                               "~ 30\n"
                               "> +++\n"
                               "~ 50\n"
                               "< \\r\\nOK\\r\\n\n";

static void test_guard(void)
{
	char buf[64];
	mf_transport *t = replay_of("guard.tx", guard_tx);
	wr(t, "AT+QFTPPUT=\"f\",\"COM:\",0\r");
	rd(t, buf, 11, 64, 100);
	wr(t, "hello");
	long k = t->ops->read(t, buf, sizeof buf, 35); /* the host keeps quiet */
	ok(k == 0, "during the host's guard silence the modem says nothing");
	ok(wr(t, "+++") == 3, "guard silence kept: +++ accepted");
	int64_t t0 = mf_now_ms();
	k = t->ops->read(t, buf, sizeof buf, 200);
	ok(k == 6 && mf_now_ms() - t0 >= 49, "OK after the modem's pause");
	ok(mf_replay_finished(t, errbuf, sizeof errbuf) == MF_OK, "finished");
	t->ops->close(t);

	t = replay_of("guard.tx", guard_tx);
	wr(t, "AT+QFTPPUT=\"f\",\"COM:\",0\r");
	rd(t, buf, 11, 64, 100);
	wr(t, "hello");
	long rc = wr(t, "+++");
	long long waited = -1;
	ok(rc == MF_EMISMATCH && sscanf(t->err, "line 4: host did not keep the 30 ms guard silence (waited %lld ms)",
	                                &waited) == 1 && waited < 27,
	   "guard silence broken: %s", t->err);
	t->ops->close(t);

	t = replay_of("guard.tx", guard_tx);
	wr(t, "AT+QFTPPUT=\"f\",\"COM:\",0\r");
	rd(t, buf, 11, 64, 100);
	rc = wr(t, "hello+++");
	is_str(t->err, "line 4: host did not keep the 30 ms guard silence (waited 0 ms)",
	       "+++ glued to the payload breaks the guard");
	t->ops->close(t);
}

static void test_close_and_lines(void)
{
	char buf[64];
	mf_transport *t = replay_of("close.tx", "> ATH\\r\n< NO CARRIER\\r\\n\n! close\n# bye\n");
	wr(t, "ATH\r");
	long k = t->ops->read(t, buf, sizeof buf, 10);
	ok(k == 12, "bytes before '! close' are delivered");
	k = t->ops->read(t, buf, sizeof buf, 10);
	ok(k == MF_ECLOSED, "then reads fail with MF_ECLOSED");
	is_str(t->err, "line 3: port closed", "closed message");
	ok(wr(t, "AT\r") == MF_ECLOSED && t->ops->read(t, buf, 1, 0) == MF_ECLOSED, "writes and reads stay closed");
	ok(mf_replay_finished(t, errbuf, sizeof errbuf) == MF_OK, "finished after close");
	t->ops->close(t);

	t = replay_of("close2.tx", "< late\n! close\n");
	ok(wr(t, "AT") == MF_ECLOSED, "a write after the modem went away (unread bytes pending): MF_ECLOSED");
	ok(t->ops->read(t, buf, sizeof buf, 0) == 4, "pending bytes still readable");
	t->ops->close(t);

	const char *tx = "! dtr 0\n~ 20\n! dtr 1\n< \\r\\nNO CARRIER\\r\\n\n! rts 1\n";
	t = replay_of("dtr.tx", tx);
	ok(t->ops->set_dtr(t, 0) == MF_OK, "dtr 0 as recorded");
	k = t->ops->read(t, buf, sizeof buf, 5);
	ok(k == 0, "the modem waits for the second dtr change");
	ok(t->ops->set_dtr(t, 1) == MF_OK, "dtr 1 as recorded");
	k = t->ops->read(t, buf, sizeof buf, 5);
	ok(k == 14, "then NO CARRIER");
	ok(mf_replay_finished(t, errbuf, sizeof errbuf) == MF_EMISMATCH, "rts still owed: not finished");
	is_str(errbuf, "line 5: transcript not finished, expected ! rts 1", "not-finished message for a control line");
	ok(t->ops->set_rts(t, 1) == MF_OK && mf_replay_finished(t, errbuf, sizeof errbuf) == MF_OK, "rts 1, finished");
	ok(t->ops->drain(t, 10) == MF_OK, "drain succeeds");
	t->ops->close(t);

	t = replay_of("dtr.tx", tx);
	ok(t->ops->set_dtr(t, 1) == MF_EMISMATCH, "dtr out of order: MF_EMISMATCH");
	is_str(t->err, "line 1: expected ! dtr 0, got ! dtr 1", "dtr mismatch message");
	t->ops->close(t);

	t = replay_of("session.tx", session);
	ok(t->ops->set_dtr(t, 0) == MF_EMISMATCH, "dtr where a command is expected");
	is_str(t->err, "line 2: expected AT+QFTPSIZE=\"a.txt\", got ! dtr 0", "message");
	t->ops->close(t);

	t = replay_of("dtr.tx", tx);
	ok(wr(t, "AT\r") == MF_EMISMATCH, "write where a dtr change is expected");
	is_str(t->err, "line 1: expected ! dtr 0, got AT", "message");
	t->ops->close(t);
}

static void test_finished(void)
{
	char buf[128];
	mf_transport *t = replay_of("session.tx", session);
	ok(mf_replay_finished(t, errbuf, sizeof errbuf) == MF_EMISMATCH, "fresh replay: not finished");
	is_str(errbuf, "line 2: transcript not finished, expected > AT+QFTPSIZE=\"a.txt\"\\r", "first pending host line");
	wr(t, cmd1);
	rd(t, buf, 24, 64, 0);
	mf_replay_finished(t, errbuf, sizeof errbuf);
	is_str(errbuf, "line 4: transcript not finished, expected < OK\\r\\n", "partly read modem line");
	rd(t, buf, sizeof buf, 64, 0);
	mf_replay_finished(t, errbuf, sizeof errbuf);
	is_str(errbuf, "line 6: transcript not finished, expected > AT+QFTPCLOSE\\r", "next command owed");
	wr(t, cmd2);
	mf_replay_finished(t, errbuf, sizeof errbuf);
	is_str(errbuf, "line 7: transcript not finished, expected < \\r\\nOK\\r\\n", "unread answer");
	rd(t, buf, sizeof buf, 64, 0);
	ok(mf_replay_finished(t, errbuf, sizeof errbuf) == MF_OK, "all used: finished");
	t->ops->close(t);

	t = replay_of("tail.tx", "> AT\\r\n< OK\\r\\n\n~ 500\n# the end\n");
	wr(t, "AT\r");
	rd(t, buf, 4, 64, 0);
	ok(mf_replay_finished(t, errbuf, sizeof errbuf) == MF_OK, "trailing pause and comment need not be reached");
	t->ops->close(t);

	mf_transport *dummy = NULL;
	ok(mf_replay_finished(dummy, errbuf, sizeof errbuf) == MF_EARG, "finished(NULL): MF_EARG");
}

/* ---- redactor ---- */

static void test_redact(void)
{
	mf_redactor *r = mf_redactor_new();
	char out[512];
	const char *cmd = "at+qftpcfg=\"Account\", \"user\" , \"p@ss\"\r";
	mf_redact_learn(r, cmd, strlen(cmd));
	cmd = "AT+QICSGP=1,1,\"internet\",\"bob\",\"apn-pw\",1\r";
	mf_redact_learn(r, cmd, strlen(cmd));
	cmd = "AT+QICSGP=1,1,\"UNINET\",\"\",\"\",1\r"; /* empty password: nothing */
	mf_redact_learn(r, cmd, strlen(cmd));
	cmd = "AT+QFTPCFG=\"account\",\"u\"\r"; /* no password */
	mf_redact_learn(r, cmd, strlen(cmd));
	const char *src = "AT+QFTPCFG=\"account\",\"user\",\"p@ss\"\r\r\nOK\r\n+QICSGP: 1,\"internet\",\"bob\",\"apn-pw\",1\r\n"
	                  "p@ss apn-pw \"\" \"1\"";
	size_t n = mf_redact(r, src, strlen(src), out);
	is_str(out,
	       "AT+QFTPCFG=\"account\",\"user\",\"\\*\"\r\r\nOK\r\n+QICSGP: 1,\"internet\",\"bob\",\"\\*\",1\r\n"
	       "p@ss apn-pw \"\" \"1\"",
	       "learned FTP and APN passwords redacted when quoted, bare ones left");
	ok(n == strlen(out), "mf_redact returns the length");

	mf_redactor *pin = mf_redactor_new();
	cmd = "\r\n+CPIN: SIM PIN\r\nAT+CPIN=\"4711\"\rAT+cpin=\"12345678\",\"0815\"\r";
	mf_redact_learn(pin, cmd, strlen(cmd));
	mf_redact(pin, cmd, strlen(cmd), out);
	is_str(out, "\r\n+CPIN: SIM PIN\r\nAT+CPIN=\"\\*\"\rAT+cpin=\"\\*\",\"\\*\"\r",
	       "a SIM PIN, a PUK and the new PIN of AT+CPIN= are learned; +CPIN: SIM PIN teaches nothing");
	mf_redactor_free(pin);

	mf_redactor *q = mf_redactor_new();
	const char *ans = "\r\n+QFTPCFG: \"account\",\"u\",\"fromquery\"\r\n";
	mf_redact_learn(q, ans, strlen(ans));
	mf_redact(q, ans, strlen(ans), out);
	is_str(out, "\r\n+QFTPCFG: \"account\",\"u\",\"\\*\"\r\n", "learned from the module's query answer too");
	const char *half = "AT+QFTPCFG=\"account\",\"u\",\"unterminat";
	mf_redact_learn(q, half, strlen(half));
	mf_redact(q, "\"unterminat\"", 12, out);
	is_str(out, "\"unterminat\"", "a half-seen password is not learned");
	mf_redactor_free(q);

	mf_redact_add(r, "a", 1);
	mf_redact(r, "\"a\"", 3, out);
	is_str(out, "\"\\*\"", "one-byte secret grows within 2 * srclen + 1");
	char s[16];
	for (unsigned i = 0; i < MF_REDACT_SLOTS; i++) {
		snprintf(s, sizeof s, "k%02u", i % 100);
		mf_redact_add(r, s, strlen(s));
	}
	mf_redact(r, "\"p@ss\" \"k00\" \"k15\"", 18, out);
	is_str(out, "\"p@ss\" \"\\*\" \"\\*\"", "the 16 most recent secrets are kept");
	ok(mf_redact(r, "", 0, out) == 0 && out[0] == '\0', "empty input");
	mf_redactor_free(r);
	mf_redact_add(NULL, "x", 1);
	ok(mf_record_redactor(NULL) == NULL, "no redactor for a non-recorder");
}

/* ---- recorder ---- */

/* Scripted host: W write, R read until a marker, S sleep, D dtr. */
typedef struct step {
	char op;
	const char *s;
	size_t n; /* bytes for W (0: strlen) */
	int ms;   /* S: sleep */
} step;

static unsigned char bin_down[300], bin_up[300];
static size_t nbin_down, nbin_up;

static void make_bins(void)
{
	static const char tail_down[] = "\\\\x41 \r\n\\*\"pw\"  "; /* looks like escapes; trailing spaces */
	static const char tail_up[] = "  \\\r\n\x00\xff" " end  ";
	for (int i = 0; i < 256; i++) {
		bin_down[i] = (unsigned char)i;
		bin_up[i] = (unsigned char)(255 - i);
	}
	memcpy(bin_down + 256, tail_down, sizeof tail_down - 1);
	nbin_down = 256 + sizeof tail_down - 1;
	memcpy(bin_up + 256, tail_up, sizeof tail_up - 1);
	nbin_up = 256 + sizeof tail_up - 1;
}

static int run_host(mf_transport *t, const step *steps, size_t nsteps, int guard_ms, char *stream, size_t *slen)
{
	size_t len = 0, used = 0;
	for (size_t i = 0; i < nsteps; i++) {
		const step *s = &steps[i];
		if (s->op == 'W') {
			size_t n = s->n ? s->n : strlen(s->s);
			for (size_t off = 0; off < n;) { /* odd chunks */
				size_t c = n - off < 7 ? n - off : 7;
				long k = t->ops->write(t, s->s + off, c, 200);
				if (k <= 0) {
					printf("# step %zu: write: %ld %s\n", i, k, t->err);
					return -1;
				}
				off += (size_t)k;
			}
		} else if (s->op == 'R') {
			size_t ml = strlen(s->s);
			for (;;) {
				char *hit = memmem(stream + used, len - used, s->s, ml);
				if (hit) {
					used = (size_t)(hit - stream) + ml;
					break;
				}
				long k = t->ops->read(t, stream + len, 13, 300);
				if (k <= 0) {
					printf("# step %zu: read for '%s': %ld %s\n", i, s->s, k, t->err);
					return -1;
				}
				len += (size_t)k;
			}
		} else if (s->op == 'S') {
			mf_sleep_ms(s->ms ? s->ms : guard_ms);
		} else if (s->op == 'D') {
			if (t->ops->set_dtr(t, s->ms) != MF_OK) {
				printf("# step %zu: dtr: %s\n", i, t->err);
				return -1;
			}
		}
	}
	*slen = len;
	return 0;
}

static void test_record_roundtrip(void)
{
	make_bins();
	char esc_down[1300], esc_up[1300], src[8192];
	mf_tx_escape(bin_down, nbin_down, esc_down);
	mf_tx_escape(bin_up, nbin_up, esc_up);
	snprintf(src, sizeof src,
	         "# modemftp transcript v1\n"
	         "! dtr 1\n"
	         "> AT+QICSGP=1,1,\"internet\",\"bob\",\"apn-Secret\"\\r\n"
	         "< AT+QICSGP=1,1,\"internet\",\"bob\",\"apn-Secret\"\\r\\r\\nOK\\r\\n\n"
	         "> AT+QFTPCFG=\"account\",\"alice\",\"ftp pw\\\\x\"\\r\n"
	         "< AT+QFTPCFG=\"account\",\"alice\",\"ftp pw\\\\x\"\\r\\r\\nOK\\r\\n\n"
	         "> AT+QFTPCFG=\"account\"\\r\n"
	         "< \\r\\n+QFTPCFG: \"account\",\"alice\",\"ftp pw\\\\x\"\\r\\n\\r\\nOK\\r\\n\n"
	         "> AT+QFTPGET=\"bin.dat\",\"COM:\"\\r\n"
	         "< \\r\\nCONNECT\\r\\n\n"
	         "< %s\n"
	         "~ 60\n"
	         "< \\r\\nOK\\r\\n\n"
	         "> AT+QFTPPUT=\"up.dat\",\"COM:\",0\\r\n"
	         "< \\r\\nCONNECT\\r\\n\n"
	         "> %s\n"
	         "~ 50\n"
	         "> +++\n"
	         "< \\r\\nOK\\r\\n\n"
	         "! dtr 0\n"
	         "! dtr 1\n"
	         "< \\r\\nNO CARRIER\\r\\n\n"
	         "! close\n",
	         esc_down, esc_up);
	step host[] = {
		{'D', NULL, 0, 1},
		{'W', "AT+QICSGP=1,1,\"internet\",\"bob\",\"apn-Secret\"\r", 0, 0},
		{'R', "OK\r\n", 0, 0},
		{'W', "AT+QFTPCFG=\"account\",\"alice\",\"ftp pw\\x\"\r", 0, 0},
		{'R', "OK\r\n", 0, 0},
		{'W', "AT+QFTPCFG=\"account\"\r", 0, 0},
		{'R', "OK\r\n", 0, 0},
		{'W', "AT+QFTPGET=\"bin.dat\",\"COM:\"\r", 0, 0},
		{'R', "\r\nOK\r\n", 0, 0}, /* CONNECT, the payload, then OK after 60 ms */
		{'W', "AT+QFTPPUT=\"up.dat\",\"COM:\",0\r", 0, 0},
		{'R', "CONNECT\r\n", 0, 0},
		{'W', (const char *)bin_up, 0, 0}, /* length set below */
		{'S', NULL, 0, 0}, /* the guard silence */
		{'W', "+++", 0, 0},
		{'R', "OK\r\n", 0, 0},
		{'D', NULL, 0, 0},
		{'D', NULL, 0, 1},
		{'R', "NO CARRIER\r\n", 0, 0},
	};
	size_t nhost = sizeof host / sizeof host[0];
	host[11].n = nbin_up;
	const char *srcpath = tmpfile_named("source.tx"), *recpath = tmpfile_named("recorded.tx");
	put_file(srcpath, src, strlen(src));

	mf_transport *inner = NULL, *t = NULL;
	int rc = mf_replay_open(srcpath, NULL, &inner, errbuf, sizeof errbuf);
	if (!ok(rc == MF_OK, "source transcript loads"))
		printf("# %s\n", errbuf);
	rc = mf_record_open(inner, recpath, &t, errbuf, sizeof errbuf);
	ok(rc == MF_OK && strcmp(t->ops->kind, "record") == 0, "recorder over a replay");
	static char stream1[8192], stream2[8192];
	size_t len1 = 0, len2 = 0;
	ok(run_host(t, host, nhost, 60, stream1, &len1) == 0, "host session through the recorder");
	mf_record_comment(t, "done: \"apn-Secret\"\nsecond line");
	char buf[16];
	ok(t->ops->read(t, buf, sizeof buf, 10) == MF_ECLOSED && strcmp(t->err, "line 23: port closed") == 0,
	   "inner's close and its message pass through");
	if (!ok(mf_replay_finished(inner, errbuf, sizeof errbuf) == MF_OK, "the source was fully used"))
		printf("# %s\n", errbuf);
	t->ops->close(t);

	size_t flen;
	char *rec = get_file(recpath, &flen);
	ok(rec && strncmp(rec, MF_TX_HEADER "\n", strlen(MF_TX_HEADER) + 1) == 0, "header line first");
	ok(rec && !strstr(rec, "apn-Secret") && !strstr(rec, "ftp pw"), "no password anywhere in the recording");
	ok(rec && strstr(rec, "> AT+QFTPCFG=\"account\",\"alice\",\"\\*\"\\r\n") &&
	       strstr(rec, "< AT+QFTPCFG=\"account\",\"alice\",\"\\*\"\\r\\r\\n") &&
	       strstr(rec, "\n< +QFTPCFG: \"account\",\"alice\",\"\\*\"\\r\\n") &&
	       strstr(rec, "\"bob\",\"\\*\""),
	   "secrets redacted in both directions and in the query answer");
	ok(rec && strstr(rec, "# done: \"\\*\"\n# second line\n"), "comment lines, redacted");
	ok(rec && strstr(rec, "! dtr 1\n> AT+QICSGP") && strstr(rec, "! dtr 0\n! dtr 1\n"), "dtr lines");
	ok(rec && strstr(rec, "\n! close\n"), "! close recorded");
	/* pauses: one before the download's OK, one before +++ */
	int p60 = 0, pguard = 0;
	for (char *l = rec; l && (l = strstr(l, "\n~ ")); l++) {
		long ms = strtol(l + 3, NULL, 10);
		char *nx = strchr(l + 1, '\n');
		if (nx && strncmp(nx + 1, "< \\r\\n\n< OK", 11) == 0 && ms >= 55)
			p60 = 1;
		if (nx && strncmp(nx + 1, "> +++", 5) == 0 && ms >= 60)
			pguard = 1;
	}
	ok(p60 && pguard, "gaps recorded as '~' lines (the modem's pause, the host's guard)");
	/* every payload line holds at most 64 raw bytes, breaks after \n */
	int lines_ok = 1;
	unsigned char pb[600];
	size_t pw[300];
	for (char *l = rec; l && *l;) {
		char *e = strchr(l, '\n');
		mf_tx_line ln;
		if (!e || mf_tx_parse_line(l, (size_t)(e - l), &ln, pb, pw, errbuf, sizeof errbuf) != 0)
			lines_ok = 0;
		else if ((ln.kind == MF_TX_HOST || ln.kind == MF_TX_MODEM) &&
		         (ln.len > 64 || (ln.len > 0 && memchr(pb, '\n', ln.len - 1))))
			lines_ok = 0;
		l = e ? e + 1 : NULL;
	}
	ok(lines_ok, "every line parses; payload lines <= 64 bytes, \\n only last");

	/* replay the recording: same host, same bytes (but the redacted answer) */
	rc = mf_replay_open(recpath, NULL, &t, errbuf, sizeof errbuf);
	if (!ok(rc == MF_OK, "the recording loads"))
		printf("# %s\n", errbuf);
	if (rc == MF_OK) {
		ok(run_host(t, host, nhost, 120, stream2, &len2) == 0, "the same host replays against the recording");
		if (!ok(mf_replay_finished(t, errbuf, sizeof errbuf) == MF_OK, "recording fully used"))
			printf("# %s\n", errbuf);
		ok(t->ops->read(t, buf, sizeof buf, 10) == MF_ECLOSED, "and ends closed");
		t->ops->close(t);
	}
	/* expected: stream1 with the modem's copies of the secrets as *** */
	static char want[8192];
	size_t wl = 0;
	for (size_t i = 0; i < len1;) {
		if (i + 12 <= len1 && memcmp(stream1 + i, "\"apn-Secret\"", 12) == 0) {
			memcpy(want + wl, "\"***\"", 5), wl += 5, i += 12;
		} else if (i + 10 <= len1 && memcmp(stream1 + i, "\"ftp pw\\x\"", 10) == 0) {
			memcpy(want + wl, "\"***\"", 5), wl += 5, i += 10;
		} else {
			want[wl++] = stream1[i++];
		}
	}
	if (!ok(len2 == wl && memcmp(stream2, want, wl) == 0, "replayed modem stream identical (binary intact)"))
		printf("# len1 %zu len2 %zu want %zu\n", len1, len2, wl);
	ok(memmem(stream1, len1, bin_down, nbin_down) != NULL, "binary download reached the host");
	free(rec);
}

/* A fake port: reads give a pseudo-random stream, writes swallow bytes. */
typedef struct fake {
	mf_transport t;
	uint32_t rs;
	size_t rleft, wtotal;
	long wlimit;   /* write at most this much per call (0: all) */
	int werror;    /* then fail with this */
} fake;

static uint32_t prng(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static long fake_read(mf_transport *t, void *buf, size_t len, int timeout_ms)
{
	fake *f = (fake *)t;
	(void)timeout_ms;
	if (f->rleft == 0)
		return 0;
	if (len > f->rleft)
		len = f->rleft;
	for (size_t i = 0; i < len; i++)
		((unsigned char *)buf)[i] = (unsigned char)(prng(&f->rs) >> 11);
	f->rleft -= len;
	return (long)len;
}

static long fake_write(mf_transport *t, const void *buf, size_t len, int timeout_ms)
{
	fake *f = (fake *)t;
	(void)buf;
	(void)timeout_ms;
	if (f->werror) {
		snprintf(t->err, sizeof t->err, "fake: write refused");
		return f->werror;
	}
	if (f->wlimit && len > (size_t)f->wlimit)
		len = (size_t)f->wlimit;
	f->wtotal += len;
	return (long)len;
}

static int fake_drain(mf_transport *t, int ms)
{
	(void)t;
	(void)ms;
	return MF_OK;
}

static int fake_dtr(mf_transport *t, int on)
{
	(void)on;
	snprintf(t->err, sizeof t->err, "fake: no modem lines");
	return MF_ESUPP;
}

static void fake_close(mf_transport *t)
{
	free(t);
}

static const mf_transport_ops fake_ops = {"fake", fake_read, fake_write, fake_drain, fake_dtr, fake_dtr, fake_close};

static fake *fake_new(size_t rbytes)
{
	fake *f = calloc(1, sizeof *f);
	f->t.ops = &fake_ops;
	f->rs = 12345;
	f->rleft = rbytes;
	return f;
}

static void test_record_bulk(void)
{
	const size_t total = 4u << 20, rchunk = 4096, wchunk = 3000;
	fake *f = fake_new(total);
	mf_transport *t = NULL;
	const char *path = tmpfile_named("bulk.tx");
	int rc = mf_record_open(&f->t, path, &t, errbuf, sizeof errbuf);
	unsigned char *buf = malloc(rchunk), *wbuf = malloc(wchunk);
	uint32_t ws = 777, rs = 12345;
	size_t got = 0, put = 0;
	int64_t t0 = mf_now_ms();
	int pass = rc == MF_OK;
	/* alternate: read a chunk from the "modem", write a chunk of upload */
	while (pass && (got < total || put < total)) {
		if (got < total) {
			long k = t->ops->read(t, buf, rchunk, 0);
			if (k <= 0)
				pass = 0;
			else
				got += (size_t)k;
		}
		if (put < total) {
			size_t n = total - put < wchunk ? total - put : wchunk;
			for (size_t i = 0; i < n; i++)
				wbuf[i] = (unsigned char)(prng(&ws) >> 11);
			if (t->ops->write(t, wbuf, n, 0) != (long)n)
				pass = 0;
			put += n;
		}
	}
	t->ops->close(t);
	int64_t rec_ms = mf_now_ms() - t0;
	ok(pass, "recorded %zu MiB each way through a fake port in %lld ms", total >> 20, (long long)rec_ms);

	/* This test is about bytes, not timing: a stall of the machine while
	** recording would leave a "~" guard the fast replay cannot keep. */
	size_t flen;
	char *text = get_file(path, &flen), *o = text;
	int pauses = 0;
	for (char *l = text; l && *l;) {
		char *e = strchr(l, '\n');
		size_t n = e ? (size_t)(e - l) + 1 : strlen(l);
		if (l[0] == '~')
			pauses++;
		else
			memmove(o, l, n), o += n;
		l += n;
	}
	if (pauses)
		printf("# %d pause lines (machine stalls) dropped from the bulk recording\n", pauses);
	path = tmpfile_named("bulk-nopause.tx");
	put_file(path, text, (size_t)(o - text));
	free(text);
	t0 = mf_now_ms();
	rc = mf_replay_open(path, NULL, &t, errbuf, sizeof errbuf);
	int64_t load_ms = mf_now_ms() - t0;
	if (!ok(rc == MF_OK, "the bulk recording loads (%lld ms)", (long long)load_ms))
		printf("# %s\n", errbuf);
	if (rc != MF_OK)
		goto out;
	ws = 777;
	got = put = 0;
	int same = 1;
	while (same && (got < total || put < total)) {
		if (got < total) {
			size_t want = total - got < rchunk ? total - got : rchunk, have = 0;
			while (have < want) { /* the replay may hand it out in pieces */
				long k = t->ops->read(t, buf + have, want - have, 0);
				if (k <= 0) {
					printf("# read at %zu: %ld %s\n", got, k, t->err);
					same = 0;
					break;
				}
				have += (size_t)k;
			}
			for (size_t i = 0; i < have && same; i++)
				if (buf[i] != (unsigned char)(prng(&rs) >> 11))
					same = 0;
			got += have;
		}
		if (put < total && same) {
			size_t n = total - put < wchunk ? total - put : wchunk;
			for (size_t i = 0; i < n; i++)
				wbuf[i] = (unsigned char)(prng(&ws) >> 11);
			/* the host splits differently now */
			for (size_t off = 0; off < n && same;) {
				size_t c = n - off < 1021 ? n - off : 1021;
				if (t->ops->write(t, wbuf + off, c, 0) != (long)c) {
					printf("# write at %zu: %s\n", put + off, t->err);
					same = 0;
				}
				off += c;
			}
			put += n;
		}
	}
	ok(same, "bulk binary replays byte-exact in both directions");
	ok(same && mf_replay_finished(t, errbuf, sizeof errbuf) == MF_OK, "bulk replay finished");
	t->ops->close(t);
out:
	free(buf);
	free(wbuf);
}

static void test_record_passthrough(void)
{
	fake *f = fake_new(0);
	mf_transport *t = NULL;
	const char *path = tmpfile_named("pass.tx");
	mf_record_open(&f->t, path, &t, errbuf, sizeof errbuf);
	f->wlimit = 5;
	ok(t->ops->write(t, "AT+QFTPCWD=\"/\"\r", 15, 0) == 5, "short write passes through");
	f->werror = MF_EIO;
	ok(t->ops->write(t, "more", 4, 0) == MF_EIO && strcmp(t->err, "fake: write refused") == 0,
	   "write error and its message pass through");
	ok(t->ops->read(t, errbuf, 10, 0) == 0, "timeout passes through");
	ok(t->ops->set_dtr(t, 0) == MF_ESUPP && strcmp(t->err, "fake: no modem lines") == 0, "refused dtr passes through");
	mf_redact_add(mf_record_redactor(t), "lua-known", 9);
	f->werror = 0;
	f->wlimit = 0;
	t->ops->write(t, "\"lua-known\"", 11, 0);
	mf_record_comment(t, "");
	t->ops->close(t);
	char *rec = get_file(path, NULL);
	if (!ok(rec && strcmp(rec, MF_TX_HEADER "\n> AT+QF\n# set_dtr(0) failed: fake: no modem lines\n> \"\\*\"\n#\n") == 0,
	   "only the bytes moved are recorded; refused dtr as a comment; added secret redacted"))
		printf("# got:\n%s", rec ? rec : "(none)");
	free(rec);
	f = fake_new(0);
	mf_record_comment(&f->t, "no-op"); /* not a recorder: nothing happens */
	ok(mf_record_redactor(&f->t) == NULL, "comment on a non-recorder is a no-op");
	f->t.ops->close(&f->t);

	/* the recorder owns inner also when it fails */
	f = fake_new(0);
	int rc = mf_record_open(&f->t, "/nonexistent-dir/x.tx", &t, errbuf, sizeof errbuf);
	ok(rc == MF_EIO && t == NULL && strstr(errbuf, "/nonexistent-dir/x.tx:"), "unwritable file: MF_EIO (%s)", errbuf);
}

/* A secret straddling the 1100-byte flush of a long run without line ends. */
static void test_record_long_secret(void)
{
	fake *f = fake_new(0);
	mf_transport *t = NULL;
	const char *path = tmpfile_named("longsecret.tx");
	mf_record_open(&f->t, path, &t, errbuf, sizeof errbuf);
	char pw[256];
	memset(pw, 'Z', 255);
	pw[255] = '\0';
	mf_redact_add(mf_record_redactor(t), pw, 255);
	int leak = 0, replay_ok = 1;
	char cmd[2200];
	for (size_t pad = 780; pad < 1100 && !leak; pad += 37) {
		/* pad bytes with no \n, then the quoted secret, as one write */
		memset(cmd, 'a', pad);
		cmd[pad] = '"';
		memcpy(cmd + pad + 1, pw, 255);
		cmd[pad + 256] = '"';
		t->ops->write(t, cmd, pad + 257, 0);
		mf_record_comment(t, "next");
	}
	t->ops->close(t);
	char *rec = get_file(path, NULL);
	leak = rec && strstr(rec, "ZZZZZZZZ") != NULL;
	ok(!leak, "a 255-byte secret is never split by the size flush");
	free(rec);
	mf_transport *r = NULL;
	replay_ok = mf_replay_open(path, NULL, &r, errbuf, sizeof errbuf) == MF_OK;
	for (size_t pad = 780; pad < 1100 && replay_ok; pad += 37) {
		memset(cmd, 'a', pad);
		cmd[pad] = '"';
		memcpy(cmd + pad + 1, pw, 255);
		cmd[pad + 256] = '"';
		replay_ok = r->ops->write(r, cmd, pad + 257, 0) == (long)(pad + 257);
	}
	if (!ok(replay_ok && mf_replay_finished(r, errbuf, sizeof errbuf) == MF_OK, "and the wildcard replays it"))
		printf("# %s\n", r ? r->err : errbuf);
	if (r)
		r->ops->close(r);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/test_transcript.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	test_escape();
	test_parse_lines();
	test_parse_errors();
	test_replay_session();
	test_mismatch();
	test_wildcard();
	test_skip_rule();
	test_pause();
	test_guard();
	test_ended_early();
	test_close_and_lines();
	test_finished();
	test_redact();
	test_record_roundtrip();
	test_record_bulk();
	test_record_passthrough();
	test_record_long_secret();
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (getenv("KEEP_TMP"))
		printf("# kept %s\n", dir);
	else if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
