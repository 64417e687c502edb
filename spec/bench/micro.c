/*
** bench_micro: the AT engine's parse rates, with no pty and no kernel in
** the way: how far the C core is from ever being the bottleneck.
**
**   bench_micro [MIB]     (default 64 MiB of input per figure)
**
** Figures, each the best of 3 passes, in MB/s (10^6 bytes per second):
**   at_feed_mbs       mf_at_feed over line traffic (result codes, URCs,
**                     information lines: 24 bytes a line on average)
**   at_classify_mbs   the same, plus mf_at_classify of every line against a
**                     command in flight (what mf_chat_wait does per line)
**   dlend_4k_mbs      mf_dlend_run over binary payload arriving 4095
**                     bytes at a time (what a pty read returns), driven
**                     as mf_data_get drives it (scan, flush the safe part,
**                     keep the rest); the trailer at the end must be found
**   dlend_64k_mbs     the same, 64 KiB at a time (USB, TCP)
**   data_get_mbs      mf_data_get itself over an in-memory transport that
**                     returns 4095 bytes a read, into a sink that drops
**   memcpy_mbs        memcpy of 64 KiB blocks, for scale
*/
#include "bench.h"
#include "mf_at.h"
#include "mf_chat.h"
#include "mf_data.h"
#include "mf_dlend.h"

static double secs(int64_t ns)
{
	return (double)ns / 1e9;
}

static volatile size_t sink_guard; /* keeps results alive */

/* ---------------------------------------------------------- line traffic */

static char *make_lines(size_t total, size_t *len)
{
	static const char *const lines[] = {
		"\r\nOK\r\n",
		"\r\n+QFTPSIZE: 0,268435456\r\n",
		"\r\n+QIURC: \"pdpdeact\",1\r\n",
		"\r\n+CSQ: 23,99\r\n",
		"\r\n+QFTPCFG: \"contextid\",1\r\n",
		"\r\n+CREG: 0,1\r\n",
		"\r\n+QFTPOPEN: 0,0\r\n",
		"\r\nQuectel\r\n",
		"\r\n+CME ERROR: 601\r\n",
		"\r\n+QFTPPWD: 0,\"/logs/2024\"\r\n",
	};
	char *b = malloc(total + 64);
	if (!b)
		exit(1);
	size_t n = 0, i = 0;
	while (n < total) {
		const char *l = lines[i++ % (sizeof lines / sizeof lines[0])];
		size_t k = strlen(l);
		memcpy(b + n, l, k);
		n += k;
	}
	*len = n;
	return b;
}

static double run_feed(const char *b, size_t len, int classify, size_t *nlines)
{
	mf_at_parser p;
	mf_at_init(&p);
	mf_at_ctx ctx = {"AT+QFTPSIZE=\"bench.bin\"", 1};
	size_t lines = 0, kinds = 0;
	int64_t t0 = bench_now_ns();
	for (size_t i = 0; i < len;) {
		int ready;
		i += mf_at_feed(&p, b + i, len - i, &ready);
		if (ready) {
			lines++;
			if (classify)
				kinds += (size_t)mf_at_classify(p.line, &ctx);
		}
	}
	int64_t t1 = bench_now_ns();
	sink_guard += kinds;
	*nlines = lines;
	return (double)len / 1e6 / secs(t1 - t0);
}

/* ---------------------------------------------------------- data mode */

static char *make_payload(size_t n, size_t *len)
{
	char *b = malloc(n + 64);
	if (!b)
		exit(1);
	bench_fill_pattern((unsigned char *)b, n);
	int k = snprintf(b + n, 64, "\r\nOK\r\n\r\n+QFTPGET: 0,%zu\r\n", n);
	*len = n + (size_t)k;
	return b;
}

/* Drive the scanner as mf_data_get does; returns MB/s, -1 if the end was
** not found at the right place. */
static double run_dlend(const char *in, size_t len, size_t payload, size_t chunk)
{
	char *work = malloc(MF_CHAT_BUF);
	if (!work)
		exit(1);
	mf_dlend s;
	mf_dlend_init(&s, "+QFTPGET", MF_TRAILER_RESULT_COUNT, 0, (int64_t)payload);
	size_t wl = 0, pos = 0, flushed = 0;
	int found = 0;
	int64_t t0 = bench_now_ns();
	while (!found) {
		size_t k = len - pos < chunk ? len - pos : chunk;
		if (k > MF_CHAT_BUF - wl)
			k = MF_CHAT_BUF - wl;
		if (!k && wl == 0)
			break;
		memcpy(work + wl, in + pos, k); /* the read() */
		pos += k;
		wl += k;
		size_t safe;
		mf_dlend_hit hit;
		int st = mf_dlend_run(&s, work, wl, &hit, &safe);
		if (st == MF_DLEND_VALIDATED) {
			flushed += hit.payload_end;
			found = 1;
			break;
		}
		flushed += safe;
		memmove(work, work + safe, wl - safe);
		wl -= safe;
		mf_dlend_consume(&s, safe);
		if (!k)
			break;
	}
	int64_t t1 = bench_now_ns();
	free(work);
	if (!found || flushed != payload)
		return -1;
	return (double)len / 1e6 / secs(t1 - t0);
}

typedef struct mem_port {
	mf_transport base;
	const char *buf;
	size_t len, pos, chunk;
} mem_port;

static long mem_read(mf_transport *t, void *buf, size_t len, int timeout_ms)
{
	mem_port *m = (mem_port *)t;
	(void)timeout_ms;
	size_t k = m->len - m->pos;
	if (k > m->chunk)
		k = m->chunk;
	if (k > len)
		k = len;
	memcpy(buf, m->buf + m->pos, k);
	m->pos += k;
	return (long)k;
}

static long mem_write(mf_transport *t, const void *buf, size_t len, int timeout_ms)
{
	(void)t, (void)buf, (void)timeout_ms;
	return (long)len;
}

static int mem_drain(mf_transport *t, int ms)
{
	(void)t, (void)ms;
	return MF_OK;
}

static int mem_line(mf_transport *t, int on)
{
	(void)t, (void)on;
	return MF_OK;
}

static void mem_close(mf_transport *t)
{
	(void)t;
}

static const mf_transport_ops mem_ops = {"mem", mem_read, mem_write, mem_drain, mem_line, mem_line, mem_close};

static int drop_sink(void *ud, const char *buf, size_t n, char *err, size_t errlen)
{
	(void)err, (void)errlen;
	*(size_t *)ud += n + (size_t)(unsigned char)buf[0];
	return 0;
}

static double run_data_get(const char *in, size_t len, size_t payload)
{
	mem_port m = {{&mem_ops, ""}, in, len, 0, 4095};
	mf_chat c;
	if (mf_chat_init(&c, &m.base) != MF_OK)
		exit(1);
	mf_get_opts o = {0};
	o.cmd = "AT+QFTPGET=\"bench.bin\",\"COM:\"";
	o.result = "+QFTPGET";
	o.trailer = MF_TRAILER_RESULT_COUNT;
	o.idle_ms = 5000;
	o.quiet_ms = 500;
	o.final_timeout_ms = 100;
	o.guard_ms = 100;
	o.confirm_ms = 100;
	o.expect = (int64_t)payload;
	size_t acc = 0;
	int64_t bytes = 0;
	mf_reply r;
	mf_reply_init(&r);
	int64_t t0 = bench_now_ns();
	int rc = mf_data_get(&c, &o, &(mf_sink){drop_sink, &acc}, &bytes, &r);
	int64_t t1 = bench_now_ns();
	mf_reply_free(&r);
	c.t = NULL;
	mf_chat_free(&c);
	sink_guard += acc;
	if (rc != MF_OK || bytes != (int64_t)payload)
		return -1;
	return (double)len / 1e6 / secs(t1 - t0);
}

static double run_memcpy(const char *in, size_t len)
{
	char *dst = malloc(BENCH_CHUNK);
	if (!dst)
		exit(1);
	int64_t t0 = bench_now_ns();
	for (size_t i = 0; i + BENCH_CHUNK <= len; i += BENCH_CHUNK) {
		memcpy(dst, in + i, BENCH_CHUNK);
		sink_guard += (unsigned char)dst[i % BENCH_CHUNK];
	}
	int64_t t1 = bench_now_ns();
	free(dst);
	return (double)(len / BENCH_CHUNK * BENCH_CHUNK) / 1e6 / secs(t1 - t0);
}

static double best(double a, double b)
{
	return a < 0 || b < 0 ? -1 : (a > b ? a : b);
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? (size_t)atol(argv[1]) : 64;
	if (mib < 1)
		mib = 1;
	size_t total = mib << 20, llen, plen, nlines = 0;
	char *lines = make_lines(total, &llen);
	char *payload = make_payload(total, &plen);
	double feed = 0, cls = 0, g4 = 0, g64 = 0, dg = 0, mc = 0;
	for (int pass = 0; pass < 3; pass++) {
		feed = best(feed, run_feed(lines, llen, 0, &nlines));
		cls = best(cls, run_feed(lines, llen, 1, &nlines));
		g4 = best(g4, run_dlend(payload, plen, total, 4095));
		g64 = best(g64, run_dlend(payload, plen, total, 65536));
		dg = best(dg, run_data_get(payload, plen, total));
		mc = best(mc, run_memcpy(payload, total));
	}
	printf("input_mib=%zu lines=%zu at_feed_mbs=%.0f at_classify_mbs=%.0f dlend_4k_mbs=%.0f "
	       "dlend_64k_mbs=%.0f data_get_mbs=%.0f memcpy_mbs=%.0f\n",
	       mib, nlines, feed, cls, g4, g64, dg, mc);
	free(lines);
	free(payload);
	return feed > 0 && cls > 0 && g4 > 0 && g64 > 0 && dg > 0 ? 0 : 1;
}
