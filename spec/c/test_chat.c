/* test_chat.c: the AT engine and data mode over a mock transport that
** delivers replies in small chunks (1 byte, 7 bytes, all at once). */
#include "mf_chat.h"
#include "mf_data.h"
#include "mock_transport.h"
#include "tap.h"

static mf_chat chat;
static mock *m;

static void start(const char *in, size_t chunk)
{
	m = mock_new(in, strlen(in), chunk);
	mf_chat_init(&chat, &m->base);
}

static void stop(void)
{
	mf_chat_free(&chat);
	free(m);
}

static mf_cmd_opts copts(int timeout, const char *result, int result_timeout)
{
	mf_cmd_opts o = {0};
	o.timeout_ms = timeout;
	o.result = result;
	o.result_timeout_ms = result_timeout;
	return o;
}

#define GET_CMD "AT+QFTPGET=\"a\",\"COM:\""

/* Over the mock modem m: cmd sent and its CONNECT taken (result: the
** command's result prefix), as the binding does before data mode. */
static int enter(const char *cmd, const char *result, mf_reply *r)
{
	mf_chat_init(&chat, &m->base);
	mf_reply_init(r);
	mf_cmd_opts o = copts(1000, result, 1000);
	o.connect = 1;
	return mf_chat_command(&chat, cmd, &o, r);
}

/* A modem that says in[0..n) at `chunk` bytes a read, after GET_CMD. */
static void enter_get(const char *in, size_t n, size_t chunk, mf_reply *r)
{
	m = mock_new(in, n, chunk);
	enter(GET_CMD, "+QFTPGET", r);
}

/* The download options the GET tests share. */
static mf_get_opts get_opts(int quiet_ms, int confirm_ms, int64_t expect)
{
	mf_get_opts g = {0};
	g.cmd = GET_CMD;
	g.result = "+QFTPGET";
	g.idle_ms = 1000;
	g.quiet_ms = quiet_ms;
	g.confirm_ms = confirm_ms;
	g.expect = expect;
	return g;
}

typedef struct membuf {
	char data[1 << 17];
	size_t len;
} membuf;

static int mem_write(void *ud, const char *buf, size_t n, char *err, size_t errlen)
{
	membuf *b = ud;
	(void)err;
	(void)errlen;
	memcpy(b->data + b->len, buf, n);
	b->len += n;
	return 0;
}

static int count_sink(void *ud, const char *buf, size_t n, char *err, size_t errlen)
{
	membuf *b = ud;
	(void)buf;
	(void)err;
	(void)errlen;
	b->len += n;
	return 0;
}

typedef struct memsrc {
	const char *data;
	size_t len, pos;
} memsrc;

static long mem_read(void *ud, char *buf, size_t n, char *err, size_t errlen)
{
	memsrc *s = ud;
	(void)err;
	(void)errlen;
	size_t k = s->len - s->pos < n ? s->len - s->pos : n;
	memcpy(buf, s->data + s->pos, k);
	s->pos += k;
	return (long)k;
}

static void test_commands(size_t chunk)
{
	mf_reply r;
	mf_cmd_opts o;
	int rc;

	start("AT+CSQ\r\r\n+CSQ: 20,99\r\n\r\nOK\r\n", chunk);
	mf_reply_init(&r);
	o = copts(1000, NULL, 0);
	rc = mf_chat_command(&chat, "AT+CSQ", &o, &r);
	ok(rc == MF_OK && r.info.n == 1 && strcmp(r.info.buf, "+CSQ: 20,99") == 0 && strcmp(r.final, "OK") == 0,
	   "chunk %zu: echo dropped, info kept, OK", chunk);
	ok(m->out_len == 7 && memcmp(m->out, "AT+CSQ\r", 7) == 0, "chunk %zu: command sent with CR", chunk);
	mf_reply_free(&r);
	stop();

	start("\r\nOK\r\n\r\n+QIURC: \"recv\",1\r\n\r\n+QFTPSIZE: 0,1000\r\n\r\n+QFTPOPEN: 0,0\r\n", chunk);
	mf_reply_init(&r);
	o = copts(1000, "+QFTPSIZE", 1000);
	rc = mf_chat_command(&chat, "AT+QFTPSIZE=\"a.txt\"", &o, &r);
	ok(rc == MF_OK && strcmp(r.result, "+QFTPSIZE: 0,1000") == 0, "chunk %zu: result URC after OK", chunk);
	ok(chat.urcs.n == 1 && strcmp(chat.urcs.buf, "+QIURC: \"recv\",1") == 0, "chunk %zu: interleaved URC queued",
	   chunk);
	mf_chat_poll(&chat, 50);
	ok(chat.urcs.n == 2, "chunk %zu: late URC picked up by poll, nothing lost", chunk);
	mf_reply_free(&r);
	stop();

	start("AT+QFTPCWD=\"/x\"\r\r\n+CME ERROR: 610\r\n", chunk);
	mf_reply_init(&r);
	o = copts(1000, "+QFTPCWD", 1000);
	rc = mf_chat_command(&chat, "AT+QFTPCWD=\"/x\"", &o, &r);
	ok(rc == MF_EMODEM && r.cme == 610 && strcmp(r.final, "+CME ERROR: 610") == 0, "chunk %zu: +CME ERROR", chunk);
	mf_reply_free(&r);
	stop();

	start("AT+QFTPLEN\r\r\n+QFTPLEN: 0,1000\r\n\r\nOK\r\n", chunk);
	mf_reply_init(&r);
	o = copts(1000, "+QFTPLEN", 1000);
	o.result_early = 1;
	rc = mf_chat_command(&chat, "AT+QFTPLEN", &o, &r);
	ok(rc == MF_OK && strcmp(r.result, "+QFTPLEN: 0,1000") == 0, "chunk %zu: result before OK (chapter 3 form)",
	   chunk);
	mf_reply_free(&r);
	stop();

	start("\r\nOK\r\n\r\nRDY\r\n", chunk);
	mf_reply_init(&r);
	o = copts(1000, "+QFTPGET", 1000);
	rc = mf_chat_command(&chat, "AT+QFTPGET=\"a\",\"RAM:a\"", &o, &r);
	ok(rc == MF_EMODEM && strcmp(r.final, "RDY") == 0, "chunk %zu: reboot while waiting is a failure", chunk);
	mf_reply_free(&r);
	stop();

	start("\r\nOK\r\n\r\n+QIURC: \"pdpdeact\",1\r\n", chunk);
	mf_reply_init(&r);
	o = copts(1000, "+QFTPCWD", 1000);
	rc = mf_chat_command(&chat, "AT+QFTPCWD=\"/\"", &o, &r);
	ok(rc == MF_EMODEM && strncmp(r.final, "+QIURC: \"pdpdeact\"", 18) == 0, "chunk %zu: pdpdeact ends an FTP wait",
	   chunk);
	mf_reply_free(&r);
	stop();
}

static void test_timeouts(void)
{
	mf_reply r;
	start("", 1);
	mf_reply_init(&r);
	mf_cmd_opts o = copts(30, NULL, 0);
	int64_t t0 = mf_now_ms();
	int rc = mf_chat_command(&chat, "AT", &o, &r);
	int64_t dt = mf_now_ms() - t0;
	ok(rc == MF_ETIMEOUT && dt >= 30 && dt < 1000, "silent modem: timeout after the deadline (%lld ms)", (long long)dt);
	ok(strstr(chat.err, "no final result code") != NULL, "clear message: %s", chat.err);
	mf_reply_free(&r);
	stop();

	start("\r\nOK\r\n", 1);
	mf_reply_init(&r);
	o = copts(1000, "+QFTPSIZE", 30);
	rc = mf_chat_command(&chat, "AT+QFTPSIZE=\"a\"", &o, &r);
	ok(rc == MF_ETIMEOUT && strcmp(r.final, "OK") == 0 && strstr(chat.err, "+QFTPSIZE"),
	   "missing result URC: timeout naming it (%s)", chat.err);
	mf_reply_free(&r);
	stop();

	start("\r\nOK", 1);
	m->eof = 1;
	mf_reply_init(&r);
	o = copts(1000, NULL, 0);
	rc = mf_chat_command(&chat, "AT", &o, &r);
	ok(rc == MF_ECLOSED, "port closing mid-reply is MF_ECLOSED, not a hang");
	mf_reply_free(&r);
	stop();
}

static void test_get(size_t chunk)
{
	static char in[4096];
	const char *payload = "line1\r\nOK\r\n\r\n+QFTPGET: 0,5\r\nNO CARRIER\r\n\x00\xff end";
	size_t plen = 47;
	int n = snprintf(in, sizeof in, "AT+QFTPGET=\"a\",\"COM:\"\r\r\nCONNECT\r\n");
	memcpy(in + n, payload, plen);
	n += (int)plen;
	n += snprintf(in + n, sizeof in - (size_t)n, "\r\nOK\r\n\r\n+QFTPGET: 0,%zu\r\n\r\n+QIURC: \"x\"\r\n", plen);
	m = mock_new(in, (size_t)n, chunk);
	mf_chat_init(&chat, &m->base);
	mf_reply r;
	mf_reply_init(&r);
	mf_cmd_opts o = copts(1000, "+QFTPGET", 1000);
	o.connect = 1;
	int rc = mf_chat_command(&chat, "AT+QFTPGET=\"a\",\"COM:\"", &o, &r);
	ok(rc == MF_OK && r.connect, "chunk %zu: CONNECT", chunk);
	mf_get_opts g = {0};
	g.cmd = "AT+QFTPGET=\"a\",\"COM:\"";
	g.result = "+QFTPGET";
	g.idle_ms = 1000;
	g.quiet_ms = 50;
	g.confirm_ms = 30;
	g.expect = -1;
	g.guard_ms = 10;
	membuf *b = calloc(1, sizeof *b);
	int64_t bytes;
	rc = mf_data_get(&chat, &g, &(mf_sink){mem_write, b}, &bytes, &r);
	ok(rc == MF_OK && bytes == (int64_t)plen && b->len == plen && memcmp(b->data, payload, plen) == 0,
	   "chunk %zu: payload exact (%lld bytes)", chunk, (long long)bytes);
	ok(strcmp(r.result, "+QFTPGET: 0,47") == 0 && strcmp(r.final, "OK") == 0, "chunk %zu: trailer and OK", chunk);
	mf_chat_poll(&chat, 20);
	ok(chat.urcs.n == 1 && strcmp(chat.urcs.buf, "+QIURC: \"x\"") == 0, "chunk %zu: URC after the trailer kept",
	   chunk);
	free(b);
	mf_reply_free(&r);
	stop();
}

static void test_get_failures(void)
{
	/* error trailer after partial data, then quiet */
	static const char in1[] = "\r\nCONNECT\r\nabc\r\nOK\r\n\r\n+QFTPGET: 607,0\r\n";
	m = mock_new(in1, sizeof in1 - 1, 5);
	mf_chat_init(&chat, &m->base);
	mf_reply r;
	mf_reply_init(&r);
	mf_cmd_opts o = copts(1000, "+QFTPGET", 1000);
	o.connect = 1;
	mf_chat_command(&chat, "AT+QFTPGET=\"a\",\"COM:\"", &o, &r);
	mf_get_opts g = {0};
	g.cmd = "AT+QFTPGET=\"a\",\"COM:\"";
	g.result = "+QFTPGET";
	g.idle_ms = 1000;
	g.quiet_ms = 30;
	g.expect = -1;
	membuf *b = calloc(1, sizeof *b);
	int64_t bytes;
	int rc = mf_data_get(&chat, &g, &(mf_sink){mem_write, b}, &bytes, &r);
	ok(rc == MF_EMODEM && bytes == 3 && strcmp(r.result, "+QFTPGET: 607,0") == 0,
	   "error trailer after quiet: MF_EMODEM, 3 bytes kept (%s)", chat.err);
	mf_reply_free(&r);
	stop();

	/* port closes mid-transfer */
	static const char in2[] = "\r\nCONNECT\r\n0123456789";
	m = mock_new(in2, sizeof in2 - 1, 4);
	m->eof = 1;
	mf_chat_init(&chat, &m->base);
	mf_reply_init(&r);
	mf_chat_command(&chat, "AT+QFTPGET=\"a\",\"COM:\"", &o, &r);
	b->len = 0;
	rc = mf_data_get(&chat, &g, &(mf_sink){mem_write, b}, &bytes, &r);
	ok(rc == MF_ECLOSED && bytes <= 10, "port closed mid-transfer: MF_ECLOSED after %lld bytes (%s)", (long long)bytes,
	   chat.err);
	mf_reply_free(&r);
	stop();

	/* modem goes silent mid-transfer */
	static const char in3[] = "\r\nCONNECT\r\n0123456789";
	m = mock_new(in3, sizeof in3 - 1, 4);
	mf_chat_init(&chat, &m->base);
	mf_reply_init(&r);
	mf_chat_command(&chat, "AT+QFTPGET=\"a\",\"COM:\"", &o, &r);
	g.idle_ms = 40;
	rc = mf_data_get(&chat, &g, &(mf_sink){mem_write, b}, &bytes, &r);
	ok(rc == MF_ETIMEOUT && strstr(chat.err, "no data for 40 ms"), "silent mid-transfer: deadline (%s)", chat.err);
	free(b);
	mf_reply_free(&r);
	stop();
}

static void test_put(size_t chunk)
{
	static char in[256];
	const char *cmd = "AT+QFTPPUT=\"a\",\"COM:\",0,20,1";
	const char *payload = "+++\r\nOK\r\nbinary\x00\x01+++";
	size_t plen = 20;
	int n = snprintf(in, sizeof in, "%s\r\r\nCONNECT\r\n", cmd);
	int trailer_at = n;
	n += snprintf(in + n, sizeof in - (size_t)n, "\r\nOK\r\n\r\n+QFTPPUT: 0,%zu\r\n", plen);
	m = mock_new(in, (size_t)n, chunk);
	mock_gate(m, (size_t)trailer_at, strlen(cmd) + 1 + plen);
	mf_reply r;
	int rc = enter(cmd, "+QFTPPUT", &r);
	mf_put_opts po = {0};
	po.cmd = cmd;
	po.result = "+QFTPPUT";
	po.length = (int64_t)plen;
	po.guard_ms = 1000; /* must not be waited: the length is known */
	po.idle_ms = po.final_timeout_ms = po.result_timeout_ms = 1000;
	memsrc src = {payload, plen, 0};
	int64_t bytes;
	int64_t t0 = mf_now_ms();
	rc = mf_data_put(&chat, &po, &(mf_source){mem_read, &src}, &bytes, &r);
	int64_t dt = mf_now_ms() - t0;
	ok(rc == MF_OK && bytes == (int64_t)plen && strcmp(r.result, "+QFTPPUT: 0,20") == 0,
	   "chunk %zu: uploadlen PUT ok (%s)", chunk, chat.err);
	ok(m->out_len == strlen(cmd) + 1 + plen && memcmp(m->out + strlen(cmd) + 1, payload, plen) == 0,
	   "chunk %zu: exactly the payload went out after the command", chunk);
	ok(dt < 900, "chunk %zu: no guard-time delay with a known length (%lld ms)", chunk, (long long)dt);
	mf_reply_free(&r);
	stop();
}

static void test_put_escape(void)
{
	static char in[256];
	const char *cmd = "AT+QFTPPUT=\"a\",\"COM:\",0";
	int n = snprintf(in, sizeof in, "\r\nCONNECT\r\n");
	int trailer_at = n;
	n += snprintf(in + n, sizeof in - (size_t)n, "\r\nOK\r\n\r\n+QFTPPUT: 0,5\r\n");
	m = mock_new(in, (size_t)n, 3);
	mock_gate(m, (size_t)trailer_at, strlen(cmd) + 1 + 5 + 3);
	mf_chat_init(&chat, &m->base);
	mf_reply r;
	mf_reply_init(&r);
	mf_cmd_opts o = copts(1000, "+QFTPPUT", 1000);
	o.connect = 1;
	mf_chat_command(&chat, cmd, &o, &r);
	mf_put_opts po = {0};
	po.cmd = cmd;
	po.result = "+QFTPPUT";
	po.length = -1;
	po.guard_ms = 30;
	po.idle_ms = po.final_timeout_ms = po.result_timeout_ms = 1000;
	memsrc src = {"hello", 5, 0};
	int64_t bytes;
	int64_t t0 = mf_now_ms();
	int rc = mf_data_put(&chat, &po, &(mf_source){mem_read, &src}, &bytes, &r);
	int64_t dt = mf_now_ms() - t0;
	ok(rc == MF_OK && bytes == 5 && strcmp(r.result, "+QFTPPUT: 0,5") == 0, "+++ ends an unknown-length PUT");
	ok(m->out_len >= 3 && memcmp(m->out + m->out_len - 3, "+++", 3) == 0, "the last bytes sent are +++");
	ok(dt >= 30, "the guard time before +++ was kept (%lld ms)", (long long)dt);
	mf_reply_free(&r);
	stop();

	/* the module gives up during the upload: stop sending at once */
	static const char in2[] = "\r\nCONNECT\r\n\r\nOK\r\n\r\n+QFTPPUT: 607,0\r\n";
	m = mock_new(in2, sizeof in2 - 1, 64);
	mf_chat_init(&chat, &m->base);
	mf_reply_init(&r);
	mf_chat_command(&chat, cmd, &o, &r);
	static char big[300000];
	memsrc s2 = {big, sizeof big, 0};
	po.length = sizeof big;
	rc = mf_data_put(&chat, &po, &(mf_source){mem_read, &s2}, &bytes, &r);
	ok(rc == MF_EMODEM && bytes < (int64_t)sizeof big && strcmp(r.result, "+QFTPPUT: 607,0") == 0,
	   "early exit from data mode stops the upload (%lld bytes, %s)", (long long)bytes, chat.err);
	mf_reply_free(&r);
	stop();
}

#define ACK_CMD "AT+QFUPL=\"a\",10,5,1"

/* A module in QFUPL ack mode (ack every 4 of 10 bytes) that says after4
** once the host sent 4 bytes, after8 after 8 and after10 after all 10 (NULL:
** nothing more); the command sent and CONNECT taken. Returns the command's length with its CR. */
static size_t ack_modem(const char *after4, const char *after8, const char *after10, size_t chunk, mf_reply *r)
{
	static char in[256];
	size_t cl = strlen(ACK_CMD) + 1;
	int n = snprintf(in, sizeof in, "%s\r\r\nCONNECT\r\n", ACK_CMD);
	const char *says[] = {after4, after8, after10};
	size_t at[3], after[] = {cl + 4, cl + 8, cl + 10};
	int k = 0;
	for (; k < 3 && says[k]; k++) {
		at[k] = (size_t)n;
		n += snprintf(in + n, sizeof in - (size_t)n, "%s", says[k]);
	}
	m = mock_new(in, (size_t)n, chunk);
	for (int i = 0; i < k; i++)
		mock_gate(m, at[i], after[i]);
	enter(ACK_CMD, "+QFUPL", r);
	return cl;
}

/* Upload "0123456789" to the ack_modem with the given deadline. */
static int ack_upload(int idle_ms, int64_t *bytes, mf_reply *r)
{
	mf_put_opts po = {0};
	po.cmd = ACK_CMD;
	po.result = "+QFUPL";
	po.length = 10;
	po.ack_every = 4;
	po.guard_ms = 1000;
	po.idle_ms = po.final_timeout_ms = po.result_timeout_ms = idle_ms;
	memsrc src = {"0123456789", 10, 0};
	return mf_data_put(&chat, &po, &(mf_source){mem_read, &src}, bytes, r);
}

/* QFUPL's ack mode: the module sends a raw 'A' after each ack_every bytes,
** and the upload waits for it (read through the receive window). */
static void test_put_ack(size_t chunk)
{
	mf_reply r;
	int64_t bytes;
	size_t cl = ack_modem("A", "\r\nA", "\r\n+QFUPL: 10,1a2b\r\n\r\nOK\r\n", chunk, &r);
	int rc = ack_upload(1000, &bytes, &r);
	ok(rc == MF_OK && bytes == 10 && strcmp(r.result, "+QFUPL: 10,1a2b") == 0 && strcmp(r.final, "OK") == 0,
	   "chunk %zu: ack mode upload, an 'A' after each 4 bytes (rc %d, %s)", chunk, rc, chat.err);
	ok(m->out_len == cl + 10, "chunk %zu: exactly the payload after the command", chunk);
	mf_reply_free(&r);
	stop();

	/* no ack: the upload stops at its deadline */
	ack_modem(NULL, NULL, NULL, chunk, &r);
	rc = ack_upload(30, &bytes, &r);
	ok(rc == MF_ETIMEOUT && bytes == 4 && strstr(chat.err, "no ack"), "chunk %zu: no ack: timeout after 4 bytes (%s)",
	   chunk, chat.err);
	mf_reply_free(&r);
	stop();
}

/* Ack mode: an ack is a lone 'A', not the A of a line; the module's lines
** while the upload waits for an ack are lines: an error ends the upload at
** once with that error, a URC is queued. */
static void test_put_ack_lines(size_t chunk)
{
	static const struct {
		const char *after4; /* what the module says after the first 4 bytes */
		int rc, cme;
		const char *final;
		const char *what;
	} cases[] = {
		{"\r\nNO CARRIER\r\n", MF_EMODEM, -1, "NO CARRIER", "NO CARRIER is no ack: the upload ends with it"},
		{"\r\n+CME ERROR: 409\r\n", MF_EMODEM, 409, "+CME ERROR: 409", "+CME ERROR ends the upload with its code"},
		{"\r\nERROR\r\n", MF_EMODEM, -1, "ERROR", "ERROR ends the upload"},
	};
	mf_reply r;
	int64_t bytes;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t cl = ack_modem(cases[i].after4, NULL, NULL, chunk, &r);
		int64_t t0 = mf_now_ms();
		int rc = ack_upload(2000, &bytes, &r);
		int64_t dt = mf_now_ms() - t0;
		ok(rc == cases[i].rc && r.cme == cases[i].cme && strcmp(r.final, cases[i].final) == 0 && bytes == 4 &&
		       m->out_len == cl + 4 && dt < 1500,
		   "chunk %zu: %s (rc %s, final \"%s\", cme %d, %lld bytes, %lld ms: %s)", chunk, cases[i].what,
		   mf_strerror(rc), r.final, r.cme, (long long)bytes, (long long)dt, chat.err);
		mf_reply_free(&r);
		stop();
	}

	/* a URC before the ack is queued, and the ack still counts */
	ack_modem("\r\n+QIURC: \"recv\",1\r\nA", "A", "\r\n+QFUPL: 10,1a2b\r\n\r\nOK\r\n", chunk, &r);
	int rc = ack_upload(1000, &bytes, &r);
	ok(rc == MF_OK && bytes == 10 && chat.urcs.n == 1 && strcmp(chat.urcs.buf, "+QIURC: \"recv\",1") == 0,
	   "chunk %zu: a URC before an ack is queued, the ack counts (rc %s, %zu URCs, %s)", chunk, mf_strerror(rc),
	   chat.urcs.n, chat.err);
	mf_reply_free(&r);
	stop();
}

/* A file that starts with a complete, self-consistent fake trailer. */
static void test_get_fake_trailer(size_t chunk, int64_t expect)
{
	static char in[4096];
	const char *payload = "\r\nOK\r\n\r\n+QFTPGET: 0,0\r\nrecorded session text\r\n";
	size_t plen = strlen(payload);
	int n = snprintf(in, sizeof in, "\r\nCONNECT\r\n%s\r\nOK\r\n\r\n+QFTPGET: 0,%zu\r\n", payload, plen);
	mf_reply r;
	enter_get(in, (size_t)n, chunk, &r);
	mf_get_opts g = get_opts(30, 30, expect);
	membuf *b = calloc(1, sizeof *b);
	int64_t bytes;
	int rc = mf_data_get(&chat, &g, &(mf_sink){mem_write, b}, &bytes, &r);
	ok(rc == MF_OK && b->len == plen && memcmp(b->data, payload, plen) == 0,
	   "chunk %zu, expect %lld: file holding a fake trailer at its own count arrives whole (%zu bytes)", chunk,
	   (long long)expect, b->len);
	free(b);
	mf_reply_free(&r);
	stop();
}

/* The policy with the size unknown (listings, ASCII mode, size = false): a
** validated end is accepted once confirm_ms pass with nothing after it but
** the module's own lines. A file that ends in a self-consistent fake
** trailer, its real trailer 600 ms later, is therefore cut at the fake
** (nothing else tells them apart without the size); the real trailer then
** reaches the engine as a late result, queued. With the size known the
** same file arrives whole. */
static void test_get_fake_trailer_at_end(int64_t expect, size_t chunk)
{
	static char in[4096];
	static const char body[] = "recorded modem session:\r\nAT+QFTPGET=\"x\",\"COM:\"\r\nCONNECT\r\n0123456789";
	char payload[512];
	size_t blen = sizeof body - 1;
	size_t plen = (size_t)snprintf(payload, sizeof payload, "%s\r\nOK\r\n\r\n+QFTPGET: 0,%zu\r\n", body, blen);
	int n = snprintf(in, sizeof in, "\r\nCONNECT\r\n%s", payload);
	size_t late = (size_t)n;
	n += snprintf(in + n, sizeof in - (size_t)n, "\r\nOK\r\n\r\n+QFTPGET: 0,%zu\r\n", plen);
	m = mock_new(in, (size_t)n, chunk);
	mock_gate_ms(m, late, 0, 600);
	mf_reply r;
	enter(GET_CMD, "+QFTPGET", &r);
	mf_get_opts g = get_opts(500, 100, expect >= 0 ? (int64_t)plen : -1);
	g.idle_ms = 5000;
	membuf *b = calloc(1, sizeof *b);
	int64_t bytes;
	int rc = mf_data_get(&chat, &g, &(mf_sink){mem_write, b}, &bytes, &r);
	if (expect < 0) {
		char fake[64], real[64];
		snprintf(fake, sizeof fake, "+QFTPGET: 0,%zu", blen);
		snprintf(real, sizeof real, "+QFTPGET: 0,%zu", plen);
		ok(rc == MF_OK && b->len == blen && memcmp(b->data, body, blen) == 0 && strcmp(r.result, fake) == 0,
		   "chunk %zu, size unknown: a file ending in a self-consistent fake trailer is cut there after confirm_ms "
		   "(rc %s, %zu of %zu bytes, %s)",
		   chunk, mf_strerror(rc), b->len, plen, r.result);
		int queued = 0;
		for (int64_t until = mf_now_ms() + 3000; !queued && mf_chat_poll(&chat, mf_left_ms(until)) == MF_OK;)
			for (const char *u = mf_strlist_next(&chat.urcs, NULL); u; u = mf_strlist_next(&chat.urcs, u))
				queued |= strcmp(u, real) == 0;
		ok(queued, "chunk %zu, size unknown: the real trailer, 600 ms later, is queued as a late result", chunk);
	} else {
		ok(rc == MF_OK && b->len == plen && memcmp(b->data, payload, plen) == 0,
		   "chunk %zu, size known: the same file arrives whole (rc %s, %zu of %zu bytes)", chunk, mf_strerror(rc),
		   b->len, plen);
	}
	free(b);
	mf_reply_free(&r);
	stop();
}

/* A download bigger than the scanner's hold-back, whose end arrives in one
** read with more payload before it: only the module's own lines between
** payload and trailer are queued, never the trailer or payload bytes. */
static void test_get_big_end(size_t chunk)
{
	static char in[200000];
	const size_t size = 100000;
	int n = snprintf(in, sizeof in, "\r\nCONNECT\r\n");
	for (size_t i = 0; i < size; i++) /* text lines: what would pass for URCs if misread */
		in[(size_t)n + i] = i % 40 == 39 ? '\n' : i % 40 == 0 ? '+' : (char)('a' + i % 26);
	n += (int)size;
	n += snprintf(in + n, sizeof in - (size_t)n, "\r\nOK\r\n\r\n+QIURC: \"y\"\r\n\r\n+QFTPGET: 0,%zu\r\n", size);
	mf_reply r;
	enter_get(in, (size_t)n, chunk, &r);
	mf_get_opts g = get_opts(30, 10, (int64_t)size);
	membuf *b = calloc(1, sizeof *b);
	int64_t bytes;
	int rc = mf_data_get(&chat, &g, &(mf_sink){count_sink, b}, &bytes, &r);
	ok(rc == MF_OK && bytes == (int64_t)size && strcmp(r.result, "+QFTPGET: 0,100000") == 0,
	   "chunk %zu: big download ends at its trailer (%lld bytes)", chunk, (long long)bytes);
	ok(chat.urcs.n == 1 && strcmp(chat.urcs.buf, "+QIURC: \"y\"") == 0,
	   "chunk %zu: only the URC between OK and trailer is queued (%zu queued)", chunk, chat.urcs.n);
	free(b);
	mf_reply_free(&r);
	stop();
}

/* A line that could end the transfer (an unconfirmed end) followed by more
** lines that look like the module's own than the engine's buffer holds:
** the end cannot be confirmed by what follows while the buffer is full, so
** it was payload. Data mode never asks the port for 0 bytes (read as "port
** closed" on a real port): it delivers and goes on. */
static void test_get_full_window(size_t chunk)
{
	static char in[MF_CHAT_BUF * 2];
	static char payload[MF_CHAT_BUF + 8192];
	size_t plen = 0;
	plen += (size_t)snprintf(payload, sizeof payload, "log start\r\nNO CARRIER\r\n");
	while (plen + 40 < sizeof payload)
		plen += (size_t)snprintf(payload + plen, sizeof payload - plen, "+QIND: \"csq\",%08zu\r\n", plen);
	int n = snprintf(in, sizeof in, "\r\nCONNECT\r\n");
	memcpy(in + n, payload, plen);
	n += (int)plen;
	n += snprintf(in + n, sizeof in - (size_t)n, "\r\nOK\r\n\r\n+QFTPGET: 0,%zu\r\n", plen);
	mf_reply r;
	enter_get(in, (size_t)n, chunk, &r);
	mf_get_opts g = get_opts(5000, 30, -1); /* the line's quiet cannot pass before the buffer fills */
	membuf *b = calloc(1, sizeof *b);
	int64_t bytes;
	int64_t t0 = mf_now_ms();
	int rc = mf_data_get(&chat, &g, &(mf_sink){mem_write, b}, &bytes, &r);
	int64_t dt = mf_now_ms() - t0;
	ok(rc == MF_OK && b->len == plen && memcmp(b->data, payload, plen) == 0 && dt < 4000,
	   "chunk %zu: %zu bytes of module-like lines after an end line fill the buffer: delivered, the real end taken "
	   "(rc %s, %zu bytes, %lld ms, %s)",
	   chunk, plen, mf_strerror(rc), b->len, (long long)dt, chat.err);
	free(b);
	mf_reply_free(&r);
	stop();
}

/* A sink that fails once it is given the byte at index fail_at. */
typedef struct failsink {
	size_t got, fail_at;
	int calls;
} failsink;

static int fail_write(void *ud, const char *buf, size_t n, char *err, size_t errlen)
{
	failsink *f = ud;
	(void)buf;
	f->calls++;
	if (f->got + n > f->fail_at) {
		snprintf(err, errlen, "disk full");
		return -1;
	}
	f->got += n;
	return 0;
}

/* A sink that fails on the last delivery (or any delivery once the end
** was seen), after the module has already left data mode: the end is finished (trailer taken, lines after it kept)
** and then the sink's failure reported; no "+++" goes to a module in
** command mode. */
static void test_get_sink_fails_at_end(int64_t expect, size_t plen, size_t fail_at)
{
	static char in[8192];
	int n = snprintf(in, sizeof in, "\r\nCONNECT\r\n");
	memset(in + n, 'd', plen);
	n += (int)plen;
	n += snprintf(in + n, sizeof in - (size_t)n, "\r\nOK\r\n\r\n+QFTPGET: 0,%zu\r\n\r\n+QIURC: \"x\"\r\n", plen);
	mf_reply r;
	enter_get(in, (size_t)n, 4096, &r);
	mf_get_opts g = get_opts(30, 30, expect);
	g.guard_ms = 10;
	failsink f = {0, fail_at, 0};
	int64_t bytes;
	int64_t t0 = mf_now_ms();
	int rc = mf_data_get(&chat, &g, &(mf_sink){fail_write, &f}, &bytes, &r);
	int64_t dt = mf_now_ms() - t0;
	int sent_escape = memmem(m->out, m->out_len, "+++", 3) != NULL;
	ok(rc == MF_EIO && strcmp(chat.err, "disk full") == 0 && !sent_escape && dt < 1000,
	   "expect %lld: the sink fails on the last delivery: its failure, no +++ (rc %s, %s, %lld ms, +++ %s)",
	   (long long)expect, mf_strerror(rc), chat.err, (long long)dt, sent_escape ? "sent" : "not sent");
	char want[64];
	snprintf(want, sizeof want, "+QFTPGET: 0,%zu", plen);
	ok(strcmp(r.result, want) == 0, "expect %lld: the trailer was taken (%s)", (long long)expect, r.result);
	mf_chat_poll(&chat, 20);
	ok(chat.urcs.n == 1 && strcmp(chat.urcs.buf, "+QIURC: \"x\"") == 0,
	   "expect %lld: the line after the trailer is kept (%zu queued)", (long long)expect, chat.urcs.n);
	mf_reply_free(&r);
	stop();
}

/* Lines that can end a transfer, inside a payload whose size is known and
** not reached (a downloaded modem log), followed by a pause in the payload
** longer than quiet_ms: the download goes on (only the module's full
** rsptimeout of silence would end it there). */
static void test_get_end_line_in_payload(const char *line, const char *what, size_t chunk)
{
	static char in[4096], payload[1024];
	size_t plen = (size_t)snprintf(payload, sizeof payload, "modem log\r\n%s\r\n", line);
	size_t first = plen;
	plen += (size_t)snprintf(payload + plen, sizeof payload - plen, "after the pause: more log\r\n");
	int n = snprintf(in, sizeof in, "\r\nCONNECT\r\n");
	memcpy(in + n, payload, plen);
	size_t stall = (size_t)n + first;
	n += (int)plen;
	n += snprintf(in + n, sizeof in - (size_t)n, "\r\nOK\r\n\r\n+QFTPGET: 0,%zu\r\n", plen);
	mf_reply r;
	m = mock_new(in, (size_t)n, chunk);
	mock_gate_ms(m, stall, 0, 600); /* the payload pauses 600 ms after the line */
	enter(GET_CMD, "+QFTPGET", &r);
	mf_get_opts g = get_opts(100, 30, (int64_t)plen);
	g.idle_ms = 5000;
	membuf *b = calloc(1, sizeof *b);
	int64_t bytes;
	int rc = mf_data_get(&chat, &g, &(mf_sink){mem_write, b}, &bytes, &r);
	ok(rc == MF_OK && b->len == plen && memcmp(b->data, payload, plen) == 0,
	   "chunk %zu: %s in a payload of known size, then a pause: the download goes on (rc %s, %zu of %zu bytes, %s)",
	   chunk, what, mf_strerror(rc), b->len, plen, rc == MF_OK ? "" : chat.err);
	free(b);
	mf_reply_free(&r);
	stop();
}

/* A transfer that ends early, size known and not reached (expect 100000):
** the lines that say so (a restart and its boot burst, a PDP deactivation
** and the error result, an error result, NO CARRIER) are as likely payload
** (a downloaded modem log, whose pause would look the same), so no quiet
** shorter than the idle timeout ends it, and then it is a timeout (which
** the caller recovers from), not a claim of what the module said: the
** error names the line. The same lines once the known size is reached (a
** trailer whose count the file's change of size broke), or with the size
** unknown: the quiet ends the transfer, the module's line its final. The
** bytes before the line are kept either way. */
static void test_get_early_end(const char *tail, int64_t expect, const char *line)
{
	static char in[4096];
	int n = snprintf(in, sizeof in, "\r\nCONNECT\r\n0123456789%s", tail);
	mf_reply r;
	enter_get(in, (size_t)n, 4096, &r);
	mf_get_opts g = get_opts(50, 30, expect);
	g.idle_ms = 1500;
	membuf *b = calloc(1, sizeof *b);
	int64_t bytes;
	int64_t t0 = mf_now_ms();
	int rc = mf_data_get(&chat, &g, &(mf_sink){mem_write, b}, &bytes, &r);
	int64_t dt = mf_now_ms() - t0;
	if (expect > 10)
		ok(rc == MF_ETIMEOUT && bytes == 10 && b->len == 10 && dt >= 1500 && dt < 3000 && strstr(chat.err, line) &&
		       strcmp(r.final, line) == 0,
		   "size known, %s: a timeout after the idle time, the line its final (rc %s, %lld bytes, %lld ms, final "
		   "\"%s\": %s)",
		   line, mf_strerror(rc), (long long)bytes, (long long)dt, r.final, chat.err);
	else
		ok((rc == MF_EMODEM || rc == MF_EPROTO) && bytes == 10 && dt < 1000 &&
		       strcmp(r.result[0] ? r.result : r.final, line) == 0,
		   "size %lld, %s: ends after the quiet (rc %s, %lld bytes, %lld ms, final \"%s\", result \"%s\")",
		   (long long)expect, line, mf_strerror(rc), (long long)bytes, (long long)dt, r.final, r.result);
	free(b);
	mf_reply_free(&r);
	stop();
}

/* A pause (+++, section 1.3): the module goes on sending until its guard
** time after "+++" has passed (ours or shorter), then says OK; the download
** ends paused with every byte before that OK. A payload that ends in
** "\r\nOK\r\n" early in the guard time, then stops for longer than
** quiet_ms (the server is slow), is payload: the OK that ends the pause is
** the last one once our guard time is over. */
#define PAUSE_GUARD 300
static void test_get_pause(size_t chunk)
{
	static char in[4096];
	static const char payload[] = "a log line\r\nlast payload line\r\nOK\r\n";
	size_t plen = sizeof payload - 1;
	int n = snprintf(in, sizeof in, "\r\nCONNECT\r\n");
	size_t at_payload = (size_t)n;
	memcpy(in + n, payload, plen);
	n += (int)plen;
	size_t at_ok = (size_t)n;
	n += snprintf(in + n, sizeof in - (size_t)n, "\r\nOK\r\n");
	mf_reply r;
	m = mock_new(in, (size_t)n, chunk);
	size_t cmd_len = strlen(GET_CMD) + 1;
	mock_gate_ms(m, at_payload, cmd_len + 3, PAUSE_GUARD / 2); /* in flight after "+++" */
	mock_gate_ms(m, at_ok, cmd_len + 3, PAUSE_GUARD * 9 / 10); /* the module's answer: a shorter guard */
	enter(GET_CMD, "+QFTPGET", &r);
	mf_get_opts g = get_opts(50, 30, -1);
	g.guard_ms = PAUSE_GUARD;
	g.idle_ms = 3000;
	volatile int pause = 1;
	g.pause = &pause;
	membuf *b = calloc(1, sizeof *b);
	int64_t bytes;
	int rc = mf_data_get(&chat, &g, &(mf_sink){mem_write, b}, &bytes, &r);
	ok(rc == MF_EPAUSED && bytes == (int64_t)plen && b->len == plen && memcmp(b->data, payload, plen) == 0 &&
	       m->out_total == cmd_len + 3,
	   "chunk %zu: a pause keeps a payload ending in OK within the guard time; the OK after it is the "
	   "module's (rc %s, %lld of %zu bytes: %s)",
	   chunk, mf_strerror(rc), (long long)bytes, plen, chat.err);
	free(b);
	mf_reply_free(&r);
	stop();

	/* the sink refuses the bytes the pause ends with: a local failure, and
	** no second "+++" (the module has left data mode) */
	m = mock_new(in, (size_t)n, chunk);
	mock_gate_ms(m, at_payload, cmd_len + 3, PAUSE_GUARD / 2);
	mock_gate_ms(m, at_ok, cmd_len + 3, PAUSE_GUARD * 9 / 10);
	enter(GET_CMD, "+QFTPGET", &r);
	failsink f = {0, 5, 0};
	rc = mf_data_get(&chat, &g, &(mf_sink){fail_write, &f}, &bytes, &r);
	ok(rc == MF_EIO && bytes == 0 && m->out_total == cmd_len + 3 && strstr(chat.err, "disk full"),
	   "chunk %zu: a pause whose bytes the sink refuses: a local failure, one \"+++\" (rc %s: %s)", chunk,
	   mf_strerror(rc), chat.err);
	mf_reply_free(&r);
	stop();

	/* a pause that is never asked for: the download ends at its trailer */
	n = snprintf(in, sizeof in, "\r\nCONNECT\r\n%s\r\nOK\r\n\r\n+QFTPGET: 0,%zu\r\n", payload, plen);
	enter_get(in, (size_t)n, chunk, &r);
	pause = 0;
	b = calloc(1, sizeof *b);
	rc = mf_data_get(&chat, &g, &(mf_sink){mem_write, b}, &bytes, &r);
	ok(rc == MF_OK && b->len == plen && m->out_total == cmd_len, "chunk %zu: no pause asked: the whole file (rc %s)",
	   chunk, mf_strerror(rc));
	free(b);
	mf_reply_free(&r);
	stop();
}

/* Quectel's file checksum, written out as the FILE manual says: XOR of the
** data taken as big-endian 16-bit words, an odd last byte the high byte. */
static unsigned word_xor(const unsigned char *d, size_t n)
{
	unsigned c = 0;
	for (size_t i = 0; i < n; i += 2)
		c ^= (unsigned)d[i] << 8 | (i + 1 < n ? d[i + 1] : 0);
	return c;
}

/* A RAM download (QFDWL) ends at "+QFDWL: <len>,<checksum>": the length
** validates the end, the checksum the data; a checksum that does not match
** is a protocol error (once the module's end was taken). */
static void test_qfdwl_checksum(size_t plen, int corrupt, size_t chunk)
{
	static char in[8192];
	static unsigned char data[4096];
	const char *cmd = "AT+QFDWL=\"RAM:a.bin\"";
	for (size_t i = 0; i < plen; i++)
		data[i] = (unsigned char)(i * 37 + 11);
	unsigned sum = word_xor(data, plen) ^ (corrupt ? 0x0100u : 0);
	int n = snprintf(in, sizeof in, "%s\r\r\nCONNECT\r\n", cmd);
	memcpy(in + n, data, plen);
	n += (int)plen;
	n += snprintf(in + n, sizeof in - (size_t)n, "\r\n+QFDWL: %zu,%x\r\n\r\nOK\r\n", plen, sum);
	m = mock_new(in, (size_t)n, chunk);
	mf_reply r;
	enter(cmd, "+QFDWL", &r);
	mf_get_opts g = get_opts(30, 30, -1);
	g.cmd = cmd;
	g.result = "+QFDWL";
	g.trailer = MF_TRAILER_COUNT_CHECKSUM;
	g.final_timeout_ms = 1000;
	membuf *b = calloc(1, sizeof *b);
	int64_t bytes;
	int rc = mf_data_get(&chat, &g, &(mf_sink){mem_write, b}, &bytes, &r);
	if (corrupt)
		ok(rc == MF_EPROTO && strstr(chat.err, "checksum") && bytes == (int64_t)plen && strcmp(r.final, "OK") == 0,
		   "chunk %zu, %zu bytes: a checksum that does not match is a protocol error (rc %s, %s)", chunk, plen,
		   mf_strerror(rc), chat.err);
	else
		ok(rc == MF_OK && b->len == plen && memcmp(b->data, data, plen) == 0 && strcmp(r.final, "OK") == 0,
		   "chunk %zu, %zu bytes: the checksum matches (rc %s, %s)", chunk, plen, mf_strerror(rc), chat.err);
	free(b);
	mf_reply_free(&r);
	stop();
}

static int progress_calls;
static void count_progress(void *ud, int64_t bytes) { (void)ud; (void)bytes; progress_calls++; }

/* DTR drop ends an unknown-length upload (AT&D1), with no "+++". */
static void test_put_dtr(void)
{
	static const char in[] = "\r\nCONNECT\r\n\r\nOK\r\n\r\n+QFTPPUT: 0,5\r\n";
	const char *cmd = "AT+QFTPPUT=\"a\",\"COM:\",0";
	m = mock_new(in, sizeof in - 1, 64);
	mock_gate(m, 11, strlen(cmd) + 1 + 5 + MOCK_DTR_WEIGHT); /* answers only after the DTR drop */
	mf_chat_init(&chat, &m->base);
	mf_reply r;
	mf_reply_init(&r);
	mf_cmd_opts o = copts(1000, "+QFTPPUT", 1000);
	o.connect = 1;
	mf_chat_command(&chat, cmd, &o, &r);
	mf_put_opts po = {0};
	po.cmd = cmd;
	po.result = "+QFTPPUT";
	po.length = -1;
	po.end_by_dtr = 1;
	po.guard_ms = 1000;
	po.idle_ms = po.final_timeout_ms = po.result_timeout_ms = 1000;
	memsrc src = {"hello", 5, 0};
	int64_t bytes;
	int rc = mf_data_put(&chat, &po, &(mf_source){mem_read, &src}, &bytes, &r);
	ok(rc == MF_OK && bytes == 5 && m->dtr_changes == 2 && m->dtr == 1, "DTR drop ends the upload, DTR restored (rc %d, %lld bytes, %d changes, %s)", rc, (long long)bytes, m->dtr_changes, chat.err);
	ok(m->out_len == strlen(cmd) + 1 + 5, "no +++ sent when leaving by DTR");
	mf_reply_free(&r);
	stop();
}

/* ATO re-entry: the trailer counts the whole transfer (offset + this part);
** progress is rate-limited. */
static void test_get_ato_progress(void)
{
	static char in[300000];
	int n = snprintf(in, sizeof in, "\r\nCONNECT\r\n");
	memset(in + n, 'd', 200000);
	n += 200000;
	n += snprintf(in + n, sizeof in - (size_t)n, "\r\nOK\r\n\r\n+QFTPGET: 0,%d\r\n", 200000 + 1000);
	m = mock_new(in, (size_t)n, 512);
	mf_chat_init(&chat, &m->base);
	mf_reply r;
	mf_reply_init(&r);
	mf_cmd_opts o = copts(1000, "+QFTPGET", 1000);
	o.connect = 1;
	mf_chat_command(&chat, "ATO", &o, &r);
	mf_get_opts g = {0};
	g.cmd = "ATO";
	g.result = "+QFTPGET";
	g.idle_ms = 1000;
	g.quiet_ms = 30;
	g.confirm_ms = 10;
	g.offset = 1000;
	g.expect = -1;
	g.progress.fn = count_progress;
	g.progress.interval_ms = 10000;
	membuf *b = calloc(1, sizeof *b);
	int64_t bytes;
	progress_calls = 0;
	int rc = mf_data_get(&chat, &g, &(mf_sink){count_sink, b}, &bytes, &r);
	ok(rc == MF_OK && bytes == 200000, "ATO part ends at offset + bytes (%lld)", (long long)bytes);
	ok(progress_calls >= 1 && progress_calls <= 2, "progress at a bounded rate: %d calls for ~400 reads", progress_calls);
	free(b);
	mf_reply_free(&r);
	stop();
}

/* Leaving data mode by "+++": an OK inside the payload still in flight is
** not the escape's answer (only an OK that comes a guard time after "+++"
** counts); a URC that comes with the answer is queued, not dropped; and the
** next command gets its own answer. */
static void test_escape_lines(size_t chunk)
{
	static char in[512];
	int n = snprintf(in, sizeof in, "%s\r\r\nCONNECT\r\nfirst payload", GET_CMD);
	size_t flight = (size_t)n;
	n += snprintf(in + n, sizeof in - (size_t)n, "payload line\r\nOK\r\nmore payload");
	size_t answer = (size_t)n;
	n += snprintf(in + n, sizeof in - (size_t)n, "\r\nOK\r\n\r\n+QIURC: \"pdpdeact\",1\r\n");
	size_t next = (size_t)n;
	n += snprintf(in + n, sizeof in - (size_t)n, "AT\r\r\nERROR\r\n");
	m = mock_new(in, (size_t)n, chunk);
	size_t cl = strlen(GET_CMD) + 1;
	mock_gate(m, flight, cl + 3);           /* in flight when "+++" left */
	mock_gate_ms(m, answer, cl + 3, 600);   /* the module's OK: a guard time (200 ms) after "+++", and more */
	mock_gate(m, next, cl + 3 + 3);         /* the next command's answer */
	mf_reply r;
	enter(GET_CMD, "+QFTPGET", &r);
	int64_t t0 = mf_now_ms();
	int rc = mf_data_escape(&chat, 200);
	int64_t dt = mf_now_ms() - t0;
	ok(rc == MF_OK && dt >= 200 + 600, "chunk %zu: the OK inside the payload is not the escape's answer (%lld ms, %s)",
	   chunk, (long long)dt, rc == MF_OK ? "ok" : chat.err);
	mf_reply_free(&r);
	mf_reply_init(&r);
	mf_cmd_opts o = copts(2000, NULL, 0);
	rc = mf_chat_command(&chat, "AT", &o, &r);
	ok(rc == MF_EMODEM && strcmp(r.final, "ERROR") == 0, "chunk %zu: the next command gets its own answer (%s)", chunk,
	   r.final);
	ok(chat.urcs.n == 1 && strcmp(chat.urcs.buf, "+QIURC: \"pdpdeact\",1") == 0,
	   "chunk %zu: the pdpdeact that came with the answer is queued (%zu queued)", chunk, chat.urcs.n);
	mf_reply_free(&r);
	stop();
}

/* A password the module prints (the answer to AT+QFTPCFG="account") never
** reaches the trace: the engine learns secrets from both directions, as
** the recorder does, before anything is written. */
static void test_trace_redacts_answers(size_t chunk)
{
	start("AT+QFTPCFG=\"account\"\r\r\n+QFTPCFG: \"account\",\"alice\",\"pw-S3cret!\"\r\n\r\nOK\r\n"
	      "\r\n+QIURC: \"x\",\"pw-S3cret!\"\r\n",
	      chunk);
	char *text = NULL;
	size_t len = 0;
	chat.trace = open_memstream(&text, &len);
	mf_reply r;
	mf_reply_init(&r);
	mf_cmd_opts o = copts(1000, NULL, 0);
	int rc = mf_chat_command(&chat, "AT+QFTPCFG=\"account\"", &o, &r);
	mf_chat_poll(&chat, 50);
	fclose(chat.trace);
	chat.trace = NULL;
	ok(rc == MF_OK && strstr(text, "+QFTPCFG: \"account\",\"alice\",\"\\*\"") != NULL,
	   "chunk %zu: the answer is traced with its password blanked", chunk);
	ok(strstr(text, "S3cret") == NULL, "chunk %zu: the password appears nowhere in the trace", chunk);
	char red[64];
	mf_redact(chat.redact, "\"pw-S3cret!\"", 12, red);
	is_str(red, "\"\\*\"", "chunk %zu: and the engine's redactor knows it (port:redact)", chunk);
	free(text);
	mf_reply_free(&r);
	stop();
}

int main(void)
{
	test_trace_redacts_answers(1);
	test_trace_redacts_answers(4096);
	test_escape_lines(1);
	test_escape_lines(4096);
	test_get_full_window(7);
	test_get_full_window(4096);
	test_get_sink_fails_at_end(100, 100, 99);
	test_get_sink_fails_at_end(-1, 100, 99);
	test_get_sink_fails_at_end(3000, 3000, 2999);
	test_get_sink_fails_at_end(3000, 3000, 100); /* before the last delivery, the end seen */
	static const char *const end_lines[][2] = {
		{"NO CARRIER", "NO CARRIER"},
		{"RDY", "RDY"},
		{"+QFTPGET: 607,0", "+QFTPGET: 607,0"},
		{"\r\nOK\r\n\r\n+QFTPGET: 607,0", "OK and +QFTPGET: 607,0"},
		{"RDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY", "a boot burst"},
		{"OK\r\n\r\n+QIURC: \"pdpdeact\",1\r\n\r\n+QFTPGET: 605,0", "pdpdeact and +QFTPGET: 605,0"},
	};
	for (size_t i = 0; i < sizeof end_lines / sizeof end_lines[0]; i++) {
		test_get_end_line_in_payload(end_lines[i][0], end_lines[i][1], 1);
		test_get_end_line_in_payload(end_lines[i][0], end_lines[i][1], 4096);
	}
	test_get_early_end("\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n", 100000, "RDY");
	test_get_early_end("\r\nOK\r\n\r\n+QIURC: \"pdpdeact\",1\r\n\r\n+QFTPGET: 605,0\r\n", 100000, "+QFTPGET: 605,0");
	test_get_early_end("\r\nOK\r\n\r\n+QFTPGET: 607,0\r\n", 100000, "+QFTPGET: 607,0");
	test_get_early_end("\r\nNO CARRIER\r\n", 100000, "NO CARRIER");
	test_get_early_end("\r\nOK\r\n\r\n+QFTPGET: 0,12\r\n", 100000, "+QFTPGET: 0,12"); /* a count short of SIZE */
	test_get_early_end("\r\nRDY\r\n\r\n+CFUN: 1\r\n", -1, "RDY");
	test_get_early_end("\r\nOK\r\n\r\n+QFTPGET: 607,0\r\n", -1, "+QFTPGET: 607,0");
	test_get_early_end("\r\nOK\r\n\r\n+QFTPGET: 0,10\r\n", 8, "+QFTPGET: 0,10"); /* the file grew */
	test_get_pause(1);
	test_get_pause(4096);
	test_get_fake_trailer_at_end(-1, 7);
	test_get_fake_trailer_at_end(-1, 4096);
	test_get_fake_trailer_at_end(1, 4096);
	size_t qf_sizes[] = {0, 1, 2, 1001, 3000};
	for (size_t i = 0; i < sizeof qf_sizes / sizeof qf_sizes[0]; i++)
		for (int corrupt = 0; corrupt < 2; corrupt++) {
			test_qfdwl_checksum(qf_sizes[i], corrupt, 7);
			test_qfdwl_checksum(qf_sizes[i], corrupt, 4096);
		}
	test_put_dtr();
	test_get_ato_progress();
	test_get_fake_trailer(4096, -1);
	test_get_fake_trailer(4096, 46);
	test_get_fake_trailer(1, 46);
	size_t chunks[] = {1, 7, 4096};
	for (size_t i = 0; i < 3; i++) {
		test_commands(chunks[i]);
		test_get(chunks[i]);
		test_put(chunks[i]);
		test_put_ack(chunks[i]);
		test_put_ack_lines(chunks[i]);
		test_get_big_end(chunks[i]);
	}
	test_timeouts();
	test_get_failures();
	test_put_escape();
	return tap_done();
}
