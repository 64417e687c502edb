/* test_rx.c: the receive window (mf_rx.h), data mode's side of the engine,
** over a mock transport that delivers 1, 7 or 4096 bytes per read: what
** came with CONNECT, CONNECT's LF, reading with a deadline, consuming,
** giving back what follows a download, the end at a trailer, the escape. */
#include "mf_chat.h"
#include "mf_rx.h"
#include "mock_transport.h"
#include "tap.h"

#define GET_CMD "AT+QFTPGET=\"a\",\"COM:\""

static mf_chat chat;
static mock *m;

/* The modem's output: the command's echo and CONNECT (line end `eol`),
** then rest[0..rest_len). */
static char in[300000];
static void start(const char *eol, const char *rest, size_t rest_len, size_t chunk)
{
	int n = snprintf(in, sizeof in, "%s\r\r\nCONNECT%s", GET_CMD, eol);
	memcpy(in + n, rest, rest_len);
	m = mock_new(in, (size_t)n + rest_len, chunk);
	mf_chat_init(&chat, &m->base);
}

static void stop(void)
{
	mf_chat_free(&chat);
	free(m);
}

/* Send the command and wait for CONNECT, as the binding does. */
static int connect_(void)
{
	mf_cmd_opts o = {0};
	o.timeout_ms = 1000;
	o.result = "+QFTPGET";
	o.result_timeout_ms = 1000;
	o.connect = 1;
	mf_reply r;
	mf_reply_init(&r);
	int rc = mf_chat_command(&chat, GET_CMD, &o, &r);
	int ok = rc == MF_OK && r.connect;
	mf_reply_free(&r);
	return ok;
}

/* Read want bytes through the window, holding back `hold` bytes between
** reads as data mode does; returns the bytes collected (into out). */
static size_t collect(char *out, size_t want, size_t hold)
{
	mf_rx_window w;
	mf_chat_rx_window(&chat, &w);
	size_t got = 0, done = 0;
	int64_t deadline = mf_now_ms() + 5000;
	for (;;) {
		/* deliver all but `hold` of what is new */
		size_t n = w.len > hold ? w.len - hold : 0;
		if (got + w.len >= want) /* the end is here: deliver it all */
			n = want - got;
		if (n > done) {
			memcpy(out + got, w.data + done, n - done);
			got += n - done;
			done = n;
		}
		if (got >= want || mf_left_ms(deadline) == 0)
			break;
		long r = mf_chat_rx_read(&chat, done, 50, &w);
		done = 0;
		if (r < 0)
			break;
	}
	mf_chat_rx_consume(&chat, done);
	return got;
}

static void test_connect_lf(size_t chunk)
{
	static const struct {
		const char *eol, *payload, *what;
	} cases[] = {
		{"\r\n", "payload\r\n", "CONNECT's LF dropped, payload exact"},
		{"\r\n", "\n\nbinary", "a payload starting with LF keeps it: one LF is CONNECT's"},
		{"\r", "XYZ", "CONNECT<CR>: the next byte is payload"},
		{"\n", "\nabc", "CONNECT<LF>: a LF after it is payload"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t len = strlen(cases[i].payload);
		start(cases[i].eol, cases[i].payload, len, chunk);
		int connected = connect_();
		char out[64];
		size_t n = collect(out, len, 0);
		ok(connected && n == len && memcmp(out, cases[i].payload, n) == 0, "chunk %zu: %s", chunk, cases[i].what);
		stop();
	}
}

/* More than the engine's buffer, read with a hold-back, arrives whole and
** in order: the held bytes move to the front before each read. */
static void test_stream(size_t chunk)
{
	static char payload[3 * MF_CHAT_BUF + 123];
	for (size_t i = 0; i < sizeof payload; i++)
		payload[i] = (char)(i * 7 + i / 251);
	start("\r\n", payload, sizeof payload, chunk);
	connect_();
	static char out[sizeof payload];
	size_t n = collect(out, sizeof payload, 700);
	ok(n == sizeof payload && memcmp(out, payload, n) == 0, "chunk %zu: %zu bytes through the window, holding 700",
	   chunk, n);
	stop();
}

static void test_deadline(void)
{
	start("\r\n", "abc", 3, 4096);
	connect_();
	mf_rx_window w;
	mf_chat_rx_window(&chat, &w);
	ok(w.len == 3 && memcmp(w.data, "abc", 3) == 0, "the window holds what came with CONNECT");
	int64_t t0 = mf_now_ms();
	long r = mf_chat_rx_read(&chat, 1, 40, &w);
	int64_t dt = mf_now_ms() - t0;
	ok(r == 0 && dt < 1000, "a silent modem: 0 by the deadline (%lld ms)", (long long)dt);
	ok(w.len == 2 && memcmp(w.data, "bc", 2) == 0, "the consumed byte is gone, the held ones stay");
	stop();

	start("\r\n", "abc", 3, 4096);
	m->eof = 1;
	connect_();
	mf_chat_rx_window(&chat, &w);
	r = mf_chat_rx_read(&chat, 0, 1000, &w);
	ok(r == MF_ECLOSED && strstr(chat.err, "closed"), "port closed: MF_ECLOSED (%s)", chat.err);
	ok(w.len == 3 && memcmp(w.data, "abc", 3) == 0, "the window still shows what is held");
	mf_chat_rx_consume(&chat, SIZE_MAX);
	mf_chat_rx_window(&chat, &w);
	ok(w.len == 0, "consume past the end drops it all");
	stop();
}

/* Read until the window holds at least `need` bytes (or the modem stops). */
static void read_until(size_t need, mf_rx_window *w)
{
	mf_chat_rx_window(&chat, w);
	while (w->len < need && mf_chat_rx_read(&chat, 0, 100, w) > 0)
		;
}

#define LEN(s) (sizeof s - 1)

/* The end of a download: framing lines and the trailer go to the engine,
** what follows stays for the next command; a trailing OK is taken. */
static void test_end(size_t chunk)
{
#define PAYLOAD "data\r\nOK\r\n"
#define FRAMING "\r\nOK\r\n\r\n+QIURC: \"y\"\r\n\r\n"
#define TRAILER "+QFTPGET: 0,10\r\n"
	static const char rest[] = PAYLOAD FRAMING TRAILER "\r\n+QIURC: \"z\"\r\n";
	start("\r\n", rest, LEN(rest), chunk);
	connect_();
	mf_rx_window w;
	size_t need = LEN(PAYLOAD FRAMING TRAILER);
	read_until(need, &w);
	ok(w.len >= need && memcmp(w.data, rest, need) == 0, "chunk %zu: payload, framing and trailer in the window",
	   chunk);
	mf_rx_end e = {LEN(PAYLOAD), LEN(FRAMING), LEN(TRAILER), -1, GET_CMD};
	char final[64] = "";
	int got_ok = mf_chat_rx_end(&chat, &e, final, sizeof final);
	ok(!got_ok && final[0] == 0, "chunk %zu: no OK wait asked, none taken", chunk);
	ok(chat.urcs.n == 1 && strcmp(chat.urcs.buf, "+QIURC: \"y\"") == 0,
	   "chunk %zu: the URC between OK and trailer is queued, the OK is not", chunk);
	mf_chat_poll(&chat, 50);
	ok(chat.urcs.n == 2 && strcmp(mf_strlist_next(&chat.urcs, chat.urcs.buf), "+QIURC: \"z\"") == 0,
	   "chunk %zu: what followed the trailer was given back to the engine", chunk);
	stop();

	/* QFDWL: the trailer follows the data, the OK comes after it */
	static const char dwl[] = "abc+QFDWL: 3,1a2b\r\n\r\nOK\r\n";
	start("\r\n", dwl, LEN(dwl), chunk);
	connect_();
	read_until(19, &w);
	mf_rx_end e2 = {3, 0, 16, 200, GET_CMD};
	got_ok = mf_chat_rx_end(&chat, &e2, final, sizeof final);
	ok(got_ok && strcmp(final, "OK") == 0, "chunk %zu: the OK after a QFDWL trailer is taken", chunk);
	mf_chat_rx_window(&chat, &w);
	ok(w.len == 0 && chat.urcs.n == 0, "chunk %zu: nothing left over, nothing queued", chunk);
	stop();
}

/* "+++": the payload still in flight is dropped up to the module's OK;
** what arrives after that read stays for the next command. */
static void test_drop_to_ok(size_t chunk)
{
#define FLIGHT "payload\x00\x01OK\r\nxOK\r\nstill payload\r\n"
#define ESC_OK "\r\nOK\r\n"
	static const char all[] = FLIGHT ESC_OK "AT\r\r\nOK\r\n";
	start("\r\n", all, LEN(all), chunk);
	/* the OK answers "+++", the next answer the next command */
	size_t cmd_len = strlen(GET_CMD) + 1;
	size_t connect_len = m->in_len - LEN(all);
	mock_gate(m, connect_len + LEN(FLIGHT), cmd_len + 3);
	mock_gate(m, connect_len + LEN(FLIGHT ESC_OK), cmd_len + 3 + 3);
	connect_();
	mf_write_all(&m->base, "+++", 3, mf_now_ms() + 100, NULL);
	int rc = mf_chat_rx_drop_to_ok(&chat, 0, 500);
	ok(rc == MF_OK, "chunk %zu: OK found behind payload lines that only end in OK", chunk);
	mf_cmd_opts o = {0};
	o.timeout_ms = 500;
	mf_reply r;
	mf_reply_init(&r);
	rc = mf_chat_command(&chat, "AT", &o, &r);
	ok(rc == MF_OK && strcmp(r.final, "OK") == 0 && r.info.n == 0, "chunk %zu: the next command's answer is its own",
	   chunk);
	mf_reply_free(&r);
	stop();

	start("\r\n", "payload without end", 19, chunk);
	connect_();
	int64_t t0 = mf_now_ms();
	rc = mf_chat_rx_drop_to_ok(&chat, 0, 40);
	int64_t dt = mf_now_ms() - t0;
	ok(rc == MF_ETIMEOUT && dt >= 40 && strstr(chat.err, "no OK after +++"),
	   "chunk %zu: no OK: timeout after the deadline (%lld ms, %s)", chunk, (long long)dt, chat.err);
	stop();
}

/* An "OK" line in the payload still in flight after "+++" is not the
** escape's answer, also when it comes in the second half of the guard time
** (the module's guard may be shorter than ours, so its answer may come
** then too): payload after it, or the module's OK after our full guard,
** says it was payload. The module's own lines after its OK are queued, and
** the next command gets its own answer. */
#define GUARD 400
static void test_escape_payload_ok(size_t chunk, int payload_after)
{
	/* in flight: payload at once, a payload OK at 0.7 guard (then more
	** payload, or nothing), the module's OK and a URC at 1.5 guard */
	static char all[512];
	size_t n = 0, at_ok, at_answer, at_next;
	n += (size_t)snprintf(all + n, sizeof all - n, "payload at once\r\n");
	at_ok = n;
	static const char *const after[] = {"", "more payload\r\n", "+QFTPGET: 0,4"}; /* the last cut mid-line */
	n += (size_t)snprintf(all + n, sizeof all - n, "\r\nOK\r\n%s", after[payload_after]);
	at_answer = n;
	n += (size_t)snprintf(all + n, sizeof all - n, "\r\nOK\r\n\r\n+QIURC: \"pdpdeact\",1\r\n");
	at_next = n;
	n += (size_t)snprintf(all + n, sizeof all - n, "ATI\r\r\nQuectel\r\n\r\nOK\r\n");
	start("\r\n", all, n, chunk);
	size_t cmd_len = strlen(GET_CMD) + 1, connect_len = m->in_len - n;
	mock_gate(m, connect_len, cmd_len + 3);
	mock_gate_ms(m, connect_len + at_ok, cmd_len + 3, GUARD * 7 / 10);
	mock_gate_ms(m, connect_len + at_answer, cmd_len + 3, GUARD * 3 / 2);
	mock_gate(m, connect_len + at_next, cmd_len + 3 + 4);
	connect_();
	mf_write_all(&m->base, "+++", 3, mf_now_ms() + 100, NULL);
	int64_t t0 = mf_now_ms();
	int rc = mf_chat_rx_drop_to_ok(&chat, GUARD, 2 * GUARD + 2000);
	int64_t dt = mf_now_ms() - t0;
	static const char *const what[] = {"", " and payload after it", " and a payload line cut by the exit"};
	ok(rc == MF_OK && dt >= GUARD * 3 / 2 && dt < 2 * GUARD + 2000,
	   "chunk %zu: a payload OK at 0.7 guard%s is not the answer: the module's OK is (%lld ms)", chunk,
	   what[payload_after], (long long)dt);
	mf_cmd_opts o = {0};
	o.timeout_ms = 500;
	mf_reply r;
	mf_reply_init(&r);
	rc = mf_chat_command(&chat, "ATI", &o, &r);
	ok(rc == MF_OK && r.info.n == 1 && strcmp(r.info.buf, "Quectel") == 0,
	   "chunk %zu: the next command's answer is its own (rc %s, %d info lines)", chunk, mf_strerror(rc),
	   (int)r.info.n);
	ok(chat.urcs.n == 1 && strcmp(chat.urcs.buf, "+QIURC: \"pdpdeact\",1") == 0,
	   "chunk %zu: the URC after the module's OK is queued (%d queued)", chunk, (int)chat.urcs.n);
	mf_reply_free(&r);
	stop();
}

/* A module whose guard is shorter than ours answers in the second half of
** our guard time: its OK is held (it could be payload), and its own line
** read after our guard confirms it; with nothing after it the escape is a
** timeout, never the taking of what may be payload. */
static void test_escape_short_guard(size_t chunk, int urc_after)
{
	static const char all[] = "\r\nOK\r\n\r\n+QIURC: \"pdpdeact\",1\r\n";
	start("\r\n", all, urc_after ? LEN(all) : 6, chunk);
	size_t cmd_len = strlen(GET_CMD) + 1, connect_len = m->in_len - (urc_after ? LEN(all) : 6);
	mock_gate_ms(m, connect_len, cmd_len + 3, GUARD * 7 / 10);
	mock_gate_ms(m, connect_len + 6, cmd_len + 3, GUARD * 3 / 2);
	connect_();
	mf_write_all(&m->base, "+++", 3, mf_now_ms() + 100, NULL);
	int64_t t0 = mf_now_ms();
	int rc = mf_chat_rx_drop_to_ok(&chat, GUARD, 2 * GUARD);
	int64_t dt = mf_now_ms() - t0;
	if (urc_after) {
		mf_chat_poll(&chat, 0); /* the URC stays for the next wait, as if read after the OK */
		ok(rc == MF_OK && dt >= GUARD * 3 / 2 && dt < 2 * GUARD && chat.urcs.n == 1,
		   "chunk %zu: an OK at 0.7 guard, its URC at 1.5 guard: the answer (rc %s, %lld ms, %d queued after)",
		   chunk, mf_strerror(rc), (long long)dt, (int)chat.urcs.n);
	} else
		ok(rc == MF_ETIMEOUT && dt >= 2 * GUARD && strstr(chat.err, "an OK came within it"),
		   "chunk %zu: an OK at 0.7 guard and nothing else: a timeout at the deadline (rc %s, %lld ms: %s)",
		   chunk, mf_strerror(rc), (long long)dt, chat.err);
	stop();
}

int main(void)
{
	size_t chunks[] = {1, 7, 4096};
	for (size_t i = 0; i < 3; i++) {
		test_connect_lf(chunks[i]);
		test_stream(chunks[i]);
		test_end(chunks[i]);
		test_drop_to_ok(chunks[i]);
		test_escape_payload_ok(chunks[i], 1);
		test_escape_payload_ok(chunks[i], 0);
		test_escape_payload_ok(chunks[i], 2);
		test_escape_short_guard(chunks[i], 1);
		test_escape_short_guard(chunks[i], 0);
	}
	test_deadline();
	return tap_done();
}
