/*
** model_gen.h: a generator of module behaviour and the oracle that judges
** the C data path against it, shared by the model test (test_model.c) and
** the transfer fuzzer (spec/fuzz/fuzz_transfer.c).
**
** One case: an operation (GET, PUT, the escape), its options, a module
** (model_port.h: payload, framing, split points, delays, faults) and what
** the contract (mf_data.h, mf_dlend.h, mf_rx.h, the EC20 FTP manual) says
** may come out of it. Every choice is drawn from mg_rng: a seeded
** generator in the model test, the fuzz input in the fuzzer (4 bytes a
** choice, 1 a payload byte), so a case dumped by the model test is a
** corpus file of the fuzzer.
**
** The oracle, for every case: a success delivers exactly the payload (GET)
** or the module took exactly the payload (PUT), with the module's own
** result line; a failure is one of the MF_E* codes the case allows and
** still delivered only payload, in order; success is required when the
** module behaved (no fault, every delay below the threshold that would
** excuse a failure); every call returns within its bound in virtual time;
** the host never writes to the AT interpreter once it has read that the
** module left data mode; URCs around a download's end are queued, never
** lost or invented.
*/
#ifndef MODEL_GEN_H
#define MODEL_GEN_H

#include "mf_chat.h"
#include "mf_data.h"
#include "mf_dlend.h"
#include "mf_lines.h"
#include "mf_rx.h"
#include "model_port.h"

/* ------------------------------------------------------------ choices */

typedef struct mg_rng {
	uint64_t s;
	const uint8_t *in; /* the fuzz input, or NULL */
	size_t in_len, in_pos;
	uint8_t *log; /* the choices made, as fuzz input */
	size_t log_len, log_cap;
	int logging;
} mg_rng;

static uint32_t mg_raw(mg_rng *g, int nbytes)
{
	uint32_t v = 0;
	if (g->in) {
		for (int i = 0; i < nbytes; i++)
			v |= (uint32_t)(g->in_pos < g->in_len ? g->in[g->in_pos++] : 0) << (8 * i);
		return v;
	}
	g->s ^= g->s >> 12;
	g->s ^= g->s << 25;
	g->s ^= g->s >> 27;
	v = (uint32_t)((g->s * 2685821657736338717ULL) >> 32);
	return nbytes == 4 ? v : v & 0xff;
}

static void mg_log(mg_rng *g, uint32_t v, int nbytes)
{
	if (!g->logging)
		return;
	g->log = mp_grow(g->log, &g->log_cap, g->log_len + 4, 1);
	for (int i = 0; i < nbytes; i++)
		g->log[g->log_len++] = (uint8_t)(v >> (8 * i));
}

/* A choice in [0, n). */
static uint32_t mg_u(mg_rng *g, uint32_t n)
{
	uint32_t v = n ? mg_raw(g, 4) % n : 0;
	mg_log(g, v, 4);
	return v;
}

static char mg_byte(mg_rng *g)
{
	uint32_t v = mg_raw(g, 1);
	mg_log(g, v, 1);
	return (char)v;
}

static int mg_pct(mg_rng *g, uint32_t pct)
{
	return mg_u(g, 100) < pct;
}

static int mg_range(mg_rng *g, int lo, int hi)
{
	return lo + (int)mg_u(g, (uint32_t)(hi - lo + 1));
}

/* ------------------------------------------------------------- a buffer */

typedef struct mg_buf {
	char *b;
	size_t len, cap;
} mg_buf;

static void mg_put(mg_buf *b, const void *s, size_t n)
{
	if (!n && b->b)
		return;
	if (!n)
		s = "";
	b->b = mp_grow(b->b, &b->cap, b->len + n + 1, 1);
	memcpy(b->b + b->len, s, n);
	b->len += n;
	b->b[b->len] = 0;
}

static void mg_puts(mg_buf *b, const char *s)
{
	mg_put(b, s, strlen(s));
}

static void mg_printf(mg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void mg_printf(mg_buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	mg_put(b, tmp, (size_t)(n < (int)sizeof tmp ? n : (int)sizeof tmp - 1));
}

/* --------------------------------------------------------------- a case */

enum { OP_GET, OP_PUT, OP_ESCAPE, OP_N };
static const char *const mg_op_names[] = {"get", "put", "escape"};

enum {
	E_GOOD,     /* the transfer ends as the manual says */
	E_MISMATCH, /* GET: the trailer counts bytes that never came */
	E_ERROR,    /* GET: an error result after partial data */
	E_RDY,      /* GET: the module restarts */
	E_NOCARRIER,/* GET: the data link drops */
	E_STALL,    /* nothing more: the module (GET) or the line (PUT) stalls */
	E_CLOSE,    /* the port vanishes */
	E_SINK,     /* GET: the sink fails */
	E_INTR,     /* the user interrupts */
	E_EARLY,    /* PUT: the module leaves data mode early (an error) */
	E_SRC_FAIL, /* PUT: the source fails */
	E_SRC_SHORT,/* PUT: the source ends before the announced length */
	E_SILENT,   /* PUT: no answer after the data */
	E_N
};
static const char *const mg_end_names[] = {"good", "mismatch", "error", "rdy", "no_carrier", "stall", "close",
                                           "sink", "interrupt", "early", "src_fail", "src_short", "silent"};

#define MG_MAX_URCS 8
#define MG_MAX_AMBIG 256

typedef struct mg_case {
	int op, end;
	/* options */
	int idle_ms, quiet_ms, confirm_ms, final_ms, guard_ms, result_ms, mguard_ms;
	int kind;          /* GET trailer form */
	int64_t expect, offset;
	int length_known;  /* PUT */
	int by_dtr;        /* PUT: unknown length ends by DTR */
	int ack_every;     /* PUT: QFUPL ACK mode */
	char cmd[64], prefix[16];
	/* the module */
	mp_port port;
	mg_buf stream;     /* GET/escape: what the module sends, prelude included */
	size_t pay_at;     /* where the payload starts in stream */
	size_t pay_end;    /* where it ends */
	size_t connect_end;/* past CONNECT's CR: data mode's clock starts there */
	size_t trailer_at; /* GET: where the trailer line starts (else end_line_end) */
	size_t end_line_end; /* GET: past the trailer's (or the ending's) line */
	mg_buf payload;    /* what the payload is (GET: sent; PUT: the source) */
	char trailer[128]; /* GET: the trailer line; PUT: the module's result line */
	char answer[4][256]; /* the texts of answers spliced in */
	int64_t sink_fail_at; /* GET: the delivery that crosses this byte fails (-1) */
	int64_t src_fail_at;  /* PUT: the source fails (or ends, E_SRC_SHORT) here (-1) */
	int src_step;      /* PUT: most bytes a source read gives (0: all asked) */
	/* the oracle */
	int must_ok;       /* success is required */
	int may_ok;        /* success is allowed */
	int fail_excused;  /* a failure is excused by a delay at a threshold */
	char excuse[96];
	int64_t ambig[MG_MAX_AMBIG]; /* GET, size unknown: truncations the stream allows */
	int nambig;
	char urcs[MG_MAX_URCS][64]; /* URCs the engine must hold after a good GET */
	int nurcs;
	unsigned allowed;  /* bit (-rc) for each MF_E* allowed */
	int64_t bound_ms;  /* the call returns within this (virtual) */
} mg_case;

#define RC_BIT(rc) (1u << (unsigned)(-(rc)))

static const char *const mg_urc_lines[] = {
	"+QIURC: \"pdpdeact\",1", "+QIURC: \"recv\",3", "+QIND: SMS DONE", "+CREG: 1", "+QIND: \"csq\",20,99",
};

/* A delay: mostly none or a few ms; sometimes right at a threshold the
** code uses, one side or the other. */
static int mg_delay(mg_rng *g, const mg_case *c, int hot)
{
	uint32_t r = mg_u(g, 100);
	if (r < (hot ? 40u : 70u))
		return 0;
	if (r < (hot ? 55u : 88u))
		return mg_range(g, 1, 5);
	const int t[] = {c->idle_ms, c->quiet_ms, c->confirm_ms, c->final_ms, c->guard_ms, c->result_ms,
	                 MF_INTERRUPT_CHECK_MS, 300, 100, 2 * c->guard_ms + 2000, c->mguard_ms};
	int base = t[mg_u(g, sizeof t / sizeof t[0])];
	int d = base + mg_range(g, -2, 2);
	return d < 0 ? 0 : d;
}

static void mg_options(mg_rng *g, mg_case *c)
{
	c->quiet_ms = mg_pct(g, 30) ? 500 : mg_range(g, 20, 1000);
	c->confirm_ms = mg_pct(g, 30) ? 100 : mg_range(g, 5, 300);
	c->idle_ms = mg_pct(g, 20) ? 90000 : mg_range(g, 1000, 20000);
	c->final_ms = mg_pct(g, 30) ? 2000 : mg_range(g, 50, 3000);
	c->guard_ms = mg_pct(g, 40) ? 1000 : mg_range(g, 20, 1500);
	c->mguard_ms = mg_pct(g, 70) ? c->guard_ms : mg_range(g, c->guard_ms / 2, c->guard_ms);
	c->result_ms = mg_pct(g, 30) ? 90000 : mg_range(g, 100, 5000);
}

/* A payload size: mostly small, sometimes past the hold-back or the engine's buffer. */
static size_t mg_size(mg_rng *g)
{
	uint32_t r = mg_u(g, 1000);
	if (r < 50)
		return 0;
	if (r < 350)
		return (size_t)mg_range(g, 1, 64);
	if (r < 850)
		return (size_t)mg_range(g, 65, 1500);
	if (r < 985)
		return (size_t)mg_range(g, 1501, 5000);
	return (size_t)mg_range(g, MF_CHAT_BUF - 1000, 2 * MF_CHAT_BUF + 5000);
}

/* Payload bytes: binary, text, and what looks like the module's lines. */
static void mg_payload(mg_rng *g, mg_case *c, size_t size, int no_ok, int no_plus)
{
	mg_buf *p = &c->payload;
	const char *pre = c->prefix;
	mg_put(p, "", 0); /* allocated even when empty */
	while (p->len < size) {
		size_t room = size - p->len;
		if (room > 4096 && mg_pct(g, 90)) { /* bulk: cheap */
			size_t n = (size_t)mg_range(g, 1000, 4000);
			n = n < room ? n : room;
			char tmp[4000];
			uint32_t pat = mg_u(g, 4);
			for (size_t i = 0; i < n; i++)
				tmp[i] = pat == 0 ? (char)(i * 131 + p->len) : pat == 1 ? (i % 61 == 60 ? '\n' : (char)('a' + i % 26))
				       : pat == 2 ? (i % 40 == 39 ? '\n' : i % 40 == 0 ? '+' : 'x') : '\0';
			mg_put(p, tmp, n);
			continue;
		}
		char frag[160];
		int n = 0;
		switch (mg_u(g, 16)) {
		case 0: case 1: case 2: /* binary */
			n = mg_range(g, 1, 40);
			for (int i = 0; i < n; i++)
				frag[i] = mg_byte(g);
			break;
		case 3: n = snprintf(frag, sizeof frag, "text line %u\r\n", mg_u(g, 1000)); break;
		case 4: n = snprintf(frag, sizeof frag, "%s", (const char *[]){"\r\nOK\r\n", "OK\r\n", "\r\n\r\n", "\r\nOK", "\nOK\n"}[mg_u(g, 5)]); break;
		case 5: n = snprintf(frag, sizeof frag, "%s", (const char *[]){"\r\nRDY\r\n", "\r\nNO CARRIER\r\n", "\r\nPOWERED DOWN\r\n", "\nRDY\n"}[mg_u(g, 4)]); break;
		case 6: n = snprintf(frag, sizeof frag, "\r\n%s: %s\r\n", pre, (const char *[]){"607,0", "627,550", "0,0", "609,0"}[mg_u(g, 4)]); break;
		case 7: n = snprintf(frag, sizeof frag, "\r\n%s: 0,%u\r\n", pre, mg_u(g, 100000)); break;
		case 8: case 9: { /* a trailer at (or near) its own count */
			static const char *const fr[] = {"\r\nOK\r\n\r\n", "\r\nOK\r\n", "OK\r\n", "\r\n", "\r\nOK\r\n\r\n+QIURC: \"recv\",1\r\n\r\n", ""};
			const char *f = fr[mg_u(g, 6)];
			long long own = (long long)(c->offset + (int64_t)p->len);
			long long cnt = own + (mg_pct(g, 60) ? 0 : mg_range(g, -3, 3));
			if (cnt < 0)
				cnt = 0;
			if (c->kind == MF_TRAILER_COUNT_CHECKSUM)
				n = snprintf(frag, sizeof frag, "%s: %lld,%x\r\n", pre, cnt, mg_u(g, 0x10000));
			else
				n = snprintf(frag, sizeof frag, "%s%s: 0,%lld\r\n", f, pre, cnt);
			break;
		}
		case 10: n = snprintf(frag, sizeof frag, "%s", (const char *[]){"+++", "+++\r\n", "\r\n+++\r\n", "++"}[mg_u(g, 4)]); break;
		case 11: n = snprintf(frag, sizeof frag, "\r\n%s\r\n", mg_urc_lines[mg_u(g, 5)]); break;
		case 12: n = snprintf(frag, sizeof frag, "%s", (const char *[]){"\r", "\n", "\r\n", "\r\r\n", "\n\n"}[mg_u(g, 5)]); break;
		case 13: n = snprintf(frag, sizeof frag, "\x01OK\r\nx\x02" "NO CARRIER\r\n"); break;
		default: n = snprintf(frag, sizeof frag, "data%u ", mg_u(g, 100)); break;
		}
		if ((size_t)n > room)
			n = (int)room;
		mg_put(p, frag, (size_t)n);
	}
	/* keep away what a case must not hold */
	for (size_t i = 0; i < p->len; i++) {
		if (no_ok && (p->b[i] == 'O' || p->b[i] == 'K'))
			p->b[i] = 'o';
		if (no_plus && p->b[i] == '+')
			p->b[i] = '-';
	}
}

/* Split stream[from, to) into pieces; `cuts` are offsets that must start
** a piece, and a piece that starts at one of them gets a "hot" delay. */
static void mg_split(mg_rng *g, mg_case *c, size_t from, size_t to, const size_t *cuts, size_t ncuts, int role,
                     int mode)
{
	size_t pos = from;
	while (pos < to) {
		size_t n;
		switch (mode) {
		case 0: n = 1; break;
		case 1: n = (size_t)mg_range(g, 1, 8); break;
		case 2: n = (size_t)mg_range(g, 1, 4096); break;
		default: n = to - from; break;
		}
		if (n > to - pos)
			n = to - pos;
		int hot = 0;
		for (size_t i = 0; i < ncuts; i++) {
			if (cuts[i] > pos && cuts[i] < pos + n)
				n = cuts[i] - pos;
			if (cuts[i] == pos)
				hot = 1;
		}
		mp_piece *pc = mp_piece_add(&c->port, c->stream.b + pos, n, mg_delay(g, c, hot), role);
		(void)pc;
		pos += n;
	}
}

/* Offsets just past each line of s[from, to) that could end a transfer:
** one the table says ends it, or a result line of the prefix. */
static size_t mg_end_lines(const mg_case *c, const char *s, size_t from, size_t to, size_t *out, size_t cap)
{
	size_t n = 0;
	size_t ls = from;
	for (size_t i = from; i < to && n < cap; i++) {
		if (s[i] != '\r' && s[i] != '\n')
			continue;
		size_t len = i - ls;
		const char *l = s + ls;
		int capable = (mf_line_classes(l, len) & MF_LC_ENDS_TRANSFER) ||
		              (len > strlen(c->prefix) && memcmp(l, c->prefix, strlen(c->prefix)) == 0);
		if (c->kind == MF_TRAILER_COUNT_CHECKSUM) {
			capable = 0;
			for (size_t k = ls; k + strlen(c->prefix) <= i; k++)
				if (memcmp(s + k, c->prefix, strlen(c->prefix)) == 0)
					capable = 1;
		}
		size_t e = i + 1;
		if (s[i] == '\r' && e < to && s[e] == '\n')
			e++;
		if (capable && len > 0)
			out[n++] = e;
		ls = e;
		i = e - 1;
	}
	return n;
}

/* Truncations of a download whose size is unknown that the stream itself
** allows: a trailer inside the payload whose count is a payload end just
** before it (a file holding a recorded session). */
static void mg_ambiguities(mg_case *c)
{
	const char *s = c->payload.b;
	size_t n = c->payload.len, pl = strlen(c->prefix);
	for (size_t i = 0; i + pl < n && c->nambig < MG_MAX_AMBIG; i++) {
		if (memcmp(s + i, c->prefix, pl) != 0 || s[i + pl] != ':')
			continue;
		long long a = -1, b = -1;
		char tmp[64];
		size_t k = 0;
		while (k < sizeof tmp - 1 && i + pl + 1 + k < n && s[i + pl + 1 + k] != '\r' && s[i + pl + 1 + k] != '\n') {
			tmp[k] = s[i + pl + 1 + k];
			k++;
		}
		tmp[k] = 0;
		if (sscanf(tmp, " %lld , %llx", &a, &b) != 2 && sscanf(tmp, " %lld,%lld", &a, &b) != 2)
			continue;
		long long cnt = c->kind == MF_TRAILER_COUNT_CHECKSUM ? a : (a == 0 ? b : -1);
		if (c->kind != MF_TRAILER_COUNT_CHECKSUM && sscanf(tmp, " %lld , %lld", &a, &b) == 2)
			cnt = a == 0 ? b : -1;
		long long at = cnt - c->offset;
		if (cnt >= 0 && at >= 0 && (size_t)at <= i && i - (size_t)at <= MF_DLEND_WALK + MF_DLEND_LINE_MAX)
			c->ambig[c->nambig++] = at;
	}
}

static void mg_allow(mg_case *c, int rc)
{
	c->allowed |= RC_BIT(rc);
}

static void mg_excuse(mg_case *c, const char *why)
{
	if (!c->fail_excused)
		snprintf(c->excuse, sizeof c->excuse, "%s", why);
	c->fail_excused = 1;
}

/* Delays of the pieces that cover stream[from, to): a gap of idle_ms or
** more excuses a timeout; after a line that can end a transfer, a gap of
** quiet_ms or more excuses its acceptance (size unknown). */
static void mg_judge_gaps(mg_case *c, size_t from, size_t to, const size_t *ends, size_t nends)
{
	size_t off = 0;
	for (size_t i = 0; i < c->port.npc; i++) {
		mp_piece *pc = &c->port.pc[i];
		off = pc->off;
		if (off + pc->len <= from || off >= to)
			continue;
		if (pc->delay_ms >= c->idle_ms) {
			mg_excuse(c, "a gap of idle_ms or more");
			mg_allow(c, MF_ETIMEOUT);
		}
		if (pc->delay_ms >= c->quiet_ms && c->expect < 0)
			for (size_t k = 0; k < nends; k++)
				if (ends[k] <= off) {
					mg_excuse(c, "quiet after a line that can end a transfer, size unknown");
					mg_allow(c, MF_EMODEM);
					mg_allow(c, MF_EPROTO);
				}
	}
}

/* ------------------------------------------------------------------ GET */

static void mg_gen_get(mg_rng *g, mg_case *c)
{
	c->kind = mg_pct(g, 75) ? MF_TRAILER_RESULT_COUNT : MF_TRAILER_COUNT_CHECKSUM;
	snprintf(c->prefix, sizeof c->prefix, "%s", c->kind == MF_TRAILER_COUNT_CHECKSUM ? "+QFDWL" : "+QFTPGET");
	snprintf(c->cmd, sizeof c->cmd, "%s", c->kind == MF_TRAILER_COUNT_CHECKSUM ? "AT+QFDWL=\"a\"" : "AT+QFTPGET=\"a\",\"COM:\"");
	c->offset = mg_pct(g, 85) ? 0 : mg_range(g, 1, 100000);
	static const int ends[] = {E_GOOD, E_GOOD, E_GOOD, E_GOOD, E_GOOD, E_GOOD, E_GOOD, E_GOOD, E_GOOD, E_GOOD,
	                           E_MISMATCH, E_ERROR, E_RDY, E_NOCARRIER, E_STALL, E_CLOSE, E_SINK, E_SINK, E_INTR};
	c->end = ends[mg_u(g, sizeof ends / sizeof ends[0])];
	size_t size = mg_size(g);
	mg_payload(g, c, size, 0, 0);
	size_t L = c->payload.len;
	int64_t total = c->offset + (int64_t)L;
	int64_t claimed = c->end == E_MISMATCH ? total + mg_range(g, MF_DLEND_HOLD + 1, 5000) : total; /* past any framing: a lost block */
	c->expect = mg_pct(g, 50) ? -1 : claimed;
	int mode = L + 200 > 20000 ? (int)mg_range(g, 2, 3) : (int)mg_u(g, 4);
	c->port.merge = mg_pct(g, 20);
	/* the stream: prelude, payload, ending, what follows */
	mg_buf *s = &c->stream;
	if (mg_pct(g, 50))
		mg_printf(s, "%s\r", c->cmd);
	/* CONNECT<CR> alone: the next byte is payload (unless it is a LF,
	** which would be CONNECT's) */
	mg_puts(s, "\r\nCONNECT\r");
	c->connect_end = s->len;
	if (mg_pct(g, 90) || (L && c->payload.b[0] == '\n'))
		mg_puts(s, "\n");
	c->pay_at = s->len;
	mg_put(s, c->payload.b, L);
	c->pay_end = s->len;
	c->sink_fail_at = -1;
	int after_urcs = 0;
	int ok_after = 0;
	switch (c->end) {
	case E_GOOD: case E_MISMATCH: case E_SINK: case E_INTR:
		if (c->kind == MF_TRAILER_COUNT_CHECKSUM) {
			/* The QFDWL checksum: 16-bit XOR of the data as big-endian
			** words, an odd last byte as a high byte (written here again,
			** not taken from the code under test). */
			unsigned sum = 0;
			for (size_t k = 0; k < (size_t)L; k++)
				sum ^= (unsigned)(unsigned char)c->payload.b[k] << (k % 2 ? 0 : 8);
			snprintf(c->trailer, sizeof c->trailer, "%s: %lld,%x", c->prefix, (long long)claimed, sum);
			c->trailer_at = s->len;
			mg_printf(s, "%s\r\n", c->trailer);
			ok_after = 1;
		} else {
			static const char *const fr[] = {"\r\nOK\r\n\r\n", "\r\nOK\r\n\r\n", "\r\nOK\r\n", "OK\r\n\r\n", "\r\n",
			                                 "\r\n\r\n", "urc"};
			const char *f = fr[mg_u(g, sizeof fr / sizeof fr[0])];
			if (strcmp(f, "urc") == 0) {
				mg_puts(s, "\r\nOK\r\n");
				int k = mg_range(g, 1, 3);
				for (int i = 0; i < k; i++) {
					const char *u = mg_urc_lines[mg_u(g, 5)];
					mg_printf(s, "\r\n%s\r\n", u);
					snprintf(c->urcs[c->nurcs++], sizeof c->urcs[0], "%s", u);
				}
				mg_puts(s, "\r\n");
			} else {
				mg_puts(s, f);
				ok_after = strstr(f, "OK") == NULL && mg_pct(g, 70);
			}
			snprintf(c->trailer, sizeof c->trailer, "%s: 0,%lld", c->prefix, (long long)claimed);
			c->trailer_at = s->len;
			mg_printf(s, "%s\r\n", c->trailer);
		}
		break;
	case E_ERROR:
		if (c->kind == MF_TRAILER_COUNT_CHECKSUM)
			mg_puts(s, "\r\n+CME ERROR: 402\r\n");
		else
			mg_printf(s, "\r\nOK\r\n\r\n%s: %s\r\n", c->prefix, mg_pct(g, 50) ? "607,0" : "627,550");
		break;
	case E_RDY: mg_puts(s, "\r\nRDY\r\n"); break;
	case E_NOCARRIER: mg_puts(s, "\r\nNO CARRIER\r\n"); break;
	default: break;
	}
	c->end_line_end = s->len;
	if (!c->trailer_at)
		c->trailer_at = s->len;
	size_t ok_at = s->len;
	if (ok_after)
		mg_puts(s, "\r\nOK\r\n");
	size_t after_at = s->len;
	if (c->end == E_GOOD && mg_pct(g, 40)) {
		after_urcs = mg_range(g, 1, 2);
		for (int i = 0; i < after_urcs && c->nurcs < MG_MAX_URCS; i++) {
			const char *u = mg_urc_lines[mg_u(g, 5)];
			mg_printf(s, "\r\n%s\r\n", u);
			snprintf(c->urcs[c->nurcs++], sizeof c->urcs[0], "%s", u);
		}
	}
	if (c->end == E_RDY && mg_pct(g, 50))
		mg_puts(s, "\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n");

	/* the cuts: payload start and end, the lines that can end a transfer */
	size_t cuts[64];
	size_t ncuts = 0;
	int glue = mg_pct(g, 30); /* payload in the same read as CONNECT */
	if (!glue)
		cuts[ncuts++] = c->pay_at;
	cuts[ncuts++] = c->pay_end;
	size_t ends_[48];
	size_t nends = mg_end_lines(c, s->b, c->pay_at, c->trailer_at, ends_, 48);
	for (size_t i = 0; i < nends && ncuts < 60; i++)
		cuts[ncuts++] = ends_[i];
	cuts[ncuts++] = ok_at;
	cuts[ncuts++] = after_at;

	if (c->end == E_SINK) {
		if (L == 0)
			c->end = E_GOOD;
		else
			c->sink_fail_at = mg_range(g, 0, (int)L - 1);
	}
	size_t first_end_piece = 0;
	if (glue) {
		mg_split(g, c, 0, c->end_line_end, cuts, ncuts, MP_DATA, mode);
	} else {
		mg_split(g, c, 0, c->pay_at, NULL, 0, MP_AFTER, mode);
		first_end_piece = c->port.npc;
		mg_split(g, c, c->pay_at, c->end_line_end, cuts, ncuts, MP_DATA, mode);
	}
	for (size_t i = first_end_piece; i < c->port.npc; i++)
		if (c->port.pc[i].off == c->pay_end) {
			c->port.leaves_idx = i;
		}
	if (c->port.npc > first_end_piece && c->end_line_end > c->pay_end)
		c->port.pc[c->port.npc - 1].exit_mark = 1;
	mg_split(g, c, c->end_line_end, s->len, cuts, ncuts, MP_AFTER, mode);

	/* the escape the host may send (sink failure, interrupt) */
	mp_answer_add(c->port.esc_answer, &c->port.esc_n, "\r\nOK\r\n", mg_delay(g, c, 0), 1);
	c->port.guard_ms = c->mguard_ms;

	int64_t span = 0;
	for (size_t i = 0; i < c->port.npc; i++)
		span += c->port.pc[i].delay_ms;
	if (c->end == E_CLOSE) {
		int64_t t = 0;
		for (size_t i = 0; i < c->port.npc && c->port.pc[i].off < c->pay_end; i++)
			t += c->port.pc[i].delay_ms;
		c->port.close_at = c->port.start_at + t + mg_range(g, 1, 3);
	}
	if (c->end == E_INTR) {
		int64_t from = 0, lim = span < 100000 ? span + 10 : 100000;
		if (lim < 0)
			c->end = E_GOOD;
		else
			c->port.interrupt_at = c->port.start_at + from + mg_range(g, 0, (int)lim);
	}
	/* the oracle */
	c->may_ok = c->end == E_GOOD || c->end == E_INTR;
	c->must_ok = c->end == E_GOOD;
	if (c->expect < 0)
		mg_ambiguities(c);
	/* QFDWL, size unknown: a fake trailer at its own count inside the data
	** ends the download there, and its checksum (made up) then fails:
	** EPROTO is a right answer to that stream too. */
	if (c->kind == MF_TRAILER_COUNT_CHECKSUM && c->nambig) {
		c->must_ok = 0;
		mg_allow(c, MF_EPROTO);
	}
	mg_judge_gaps(c, c->connect_end, c->end_line_end, ends_, nends);
	switch (c->end) {
	case E_MISMATCH: case E_ERROR: case E_RDY: case E_NOCARRIER:
		mg_allow(c, MF_EMODEM);
		mg_allow(c, MF_EPROTO);
		mg_allow(c, MF_ETIMEOUT);
		break;
	case E_STALL: case E_CLOSE:
		mg_allow(c, c->end == E_STALL ? MF_ETIMEOUT : MF_ECLOSED);
		if (c->expect < 0 && nends > 0) { /* silence after a line that can end a transfer */
			mg_allow(c, MF_EMODEM);
			mg_allow(c, MF_EPROTO);
		}
		break;
	case E_SINK: mg_allow(c, MF_EIO); break;
	case E_INTR: mg_allow(c, MF_EINTR); break;
	default: break;
	}
	c->bound_ms = span + c->idle_ms + c->quiet_ms + c->confirm_ms + c->final_ms + 3 * c->guard_ms + 30000 + 2000 +
	              1000;
}

/* ------------------------------------------------------------------ PUT */

static void mg_gen_put(mg_rng *g, mg_case *c)
{
	int qfupl = mg_pct(g, 30);
	snprintf(c->prefix, sizeof c->prefix, "%s", qfupl ? "+QFUPL" : "+QFTPPUT");
	static const int ends[] = {E_GOOD, E_GOOD, E_GOOD, E_GOOD, E_GOOD, E_GOOD, E_GOOD, E_EARLY, E_EARLY,
	                           E_SRC_FAIL, E_SRC_SHORT, E_STALL, E_CLOSE, E_INTR, E_SILENT};
	c->end = ends[mg_u(g, sizeof ends / sizeof ends[0])];
	c->length_known = qfupl || mg_pct(g, 60);
	c->by_dtr = !c->length_known && mg_pct(g, 25);
	c->ack_every = qfupl && mg_pct(g, 50) ? mg_range(g, 1, 600) : 0;
	if (c->end == E_SRC_SHORT && !c->length_known)
		c->end = E_SRC_FAIL;
	size_t size = mg_size(g);
	if (c->ack_every && size / (size_t)c->ack_every > 400)
		size = (size_t)c->ack_every * 400;
	mg_payload(g, c, size, 0, c->ack_every > 0);
	size_t L = c->payload.len;
	if (L && c->payload.b[0] == '+') /* "+++" after CONNECT's silence would be an escape */
		c->payload.b[0] = '-';
	if (qfupl)
		snprintf(c->cmd, sizeof c->cmd, "AT+QFUPL=\"RAM:a\",%zu,5%s", L, c->ack_every ? ",1" : "");
	else if (c->length_known)
		snprintf(c->cmd, sizeof c->cmd, "AT+QFTPPUT=\"a\",\"COM:\",0,%zu,1", L);
	else
		snprintf(c->cmd, sizeof c->cmd, "AT+QFTPPUT=\"a\",\"COM:\",0");
	c->src_step = mg_pct(g, 50) ? 0 : mg_range(g, 1, 5000);
	c->src_fail_at = -1;
	if ((c->end == E_EARLY || c->end == E_SRC_FAIL || c->end == E_SRC_SHORT || c->end == E_STALL ||
	     c->end == E_CLOSE) && L == 0)
		c->end = E_GOOD;
	int64_t k = L ? mg_range(g, 0, (int)L - 1) : 0;
	mp_port *p = &c->port;
	p->guard_ms = c->mguard_ms;
	mg_buf *s = &c->stream;
	if (mg_pct(g, 50))
		mg_printf(s, "%s\r", c->cmd);
	mg_puts(s, "\r\nCONNECT\r\n");
	mp_piece_add(p, s->b, s->len, mg_delay(g, c, 0), MP_AFTER);

	/* acks before the end (or the early exit) */
	int64_t stop = c->end == E_EARLY ? k : (int64_t)L;
	if (c->ack_every)
		for (int64_t a = c->ack_every; a < stop; a += c->ack_every) {
			mp_piece *pc = mp_piece_add(p, "A", 1, mg_delay(g, c, 0), MP_DATA);
			pc->gate = MP_GATE_WRITTEN;
			pc->gate_n = a;
			if (pc->delay_ms >= c->idle_ms) {
				mg_excuse(c, "an ack after idle_ms");
				mg_allow(c, MF_ETIMEOUT);
			}
		}
	/* the answer after the data */
	int d1 = mg_delay(g, c, 1), d2 = mg_delay(g, c, 1);
	if (qfupl) {
		snprintf(c->trailer, sizeof c->trailer, "+QFUPL: %zu,%x", L, mg_u(g, 0x10000));
		snprintf(c->answer[0], sizeof c->answer[0], "\r\n%s\r\n", c->trailer);
		snprintf(c->answer[1], sizeof c->answer[1], "\r\nOK\r\n");
	} else {
		snprintf(c->trailer, sizeof c->trailer, "+QFTPPUT: 0,%zu", L);
		snprintf(c->answer[0], sizeof c->answer[0], "\r\nOK\r\n");
		snprintf(c->answer[1], sizeof c->answer[1], "\r\n%s\r\n", c->trailer);
	}
	/* what must hold for the answer to be taken in time */
	int64_t first_budget, second_budget;
	if (c->length_known)
		first_budget = c->final_ms;
	else if (c->by_dtr)
		first_budget = c->final_ms + 100;
	else
		first_budget = c->final_ms - c->mguard_ms;
	second_budget = qfupl ? first_budget - d1 : c->result_ms;
	int answer_late = d1 >= first_budget || d2 >= second_budget;
	if (c->end == E_GOOD || c->end == E_INTR) {
		if (answer_late) {
			mg_excuse(c, "the answer after its deadline");
			mg_allow(c, MF_ETIMEOUT);
		}
	}
	if (c->end == E_EARLY) {
		p->exit_after = k;
		static const char *const ex[] = {"\r\nOK\r\n\r\n+QFTPPUT: 609,0\r\n", "\r\n+CME ERROR: 615\r\n",
		                                 "\r\nNO CARRIER\r\n", "\r\nERROR\r\n"};
		int which = (int)mg_u(g, 4);
		if (qfupl && which == 0)
			which = 3;
		snprintf(c->answer[2], sizeof c->answer[2], "%s", ex[which]);
		if (which == 0)
			snprintf(c->trailer, sizeof c->trailer, "+QFTPPUT: 609,0");
		else
			c->trailer[0] = 0;
		mp_piece *pc = mp_piece_add(p, c->answer[2], strlen(c->answer[2]), d1, MP_DATA);
		pc->gate = MP_GATE_WRITTEN;
		pc->gate_n = k;
		pc->exit_mark = 1;
		/* the AT interpreter answers what the host sent after */
		pc = mp_piece_add(p, "\r\nERROR\r\n", 9, mg_delay(g, c, 1), MP_AFTER);
		pc->gate = MP_GATE_WRITTEN;
		pc->gate_n = k + 1;
		mg_allow(c, MF_EMODEM);
		mg_allow(c, MF_ETIMEOUT);
		c->may_ok = 1; /* the module finished as the last byte left: its result line is the answer */
	} else if (c->end != E_SILENT) {
		if (c->length_known) {
			p->exit_after = (int64_t)L;
			mp_piece *pc = mp_piece_add(p, c->answer[0], strlen(c->answer[0]), d1, MP_DATA);
			pc->gate = MP_GATE_WRITTEN;
			pc->gate_n = (int64_t)L;
			pc->exit_mark = qfupl;
			pc = mp_piece_add(p, c->answer[1], strlen(c->answer[1]), d2, MP_DATA);
			pc->exit_mark = !qfupl;
		} else {
			mp_answer *a = c->by_dtr ? p->dtr_answer : p->esc_answer;
			int *an = c->by_dtr ? &p->dtr_n : &p->esc_n;
			mp_answer_add(a, an, c->answer[0], d1, 0);
			mp_answer_add(a, an, c->answer[1], d2, 0);
		}
	}
	if (c->end == E_SILENT)
		mg_allow(c, MF_ETIMEOUT);
	/* an escape on a failure is answered with OK (and the count so far) */
	if (c->end == E_SRC_FAIL || c->end == E_SRC_SHORT || c->end == E_INTR) {
		if (c->length_known || c->by_dtr) {
			p->esc_n = 0;
			mp_answer_add(p->esc_answer, &p->esc_n, "\r\nOK\r\n", mg_delay(g, c, 0), 0);
		}
		c->src_fail_at = c->end == E_INTR ? -1 : k;
	}
	if (c->end == E_SRC_FAIL)
		mg_allow(c, MF_EIO);
	if (c->end == E_SRC_SHORT)
		mg_allow(c, MF_EARG);
	if (c->end == E_STALL) {
		p->stall_after = k;
		mg_allow(c, MF_ETIMEOUT);
	}
	if (c->end == E_CLOSE) {
		p->wclose_after = k;
		mg_allow(c, MF_ECLOSED);
	}
	if (c->end == E_INTR) {
		p->interrupt_at = p->start_at + mg_range(g, 0, 3000);
		mg_allow(c, MF_EINTR);
	}
	c->may_ok |= c->end == E_GOOD || c->end == E_INTR;
	c->must_ok = c->end == E_GOOD && !c->fail_excused;
	int64_t span = 0;
	for (size_t i = 0; i < p->npc; i++)
		span += p->pc[i].delay_ms;
	c->bound_ms = span + d1 + d2 + c->idle_ms * 2 + c->final_ms + c->result_ms + 3 * c->guard_ms + 30000 + 2000 +
	              5000 + 1000;
}

/* --------------------------------------------------------------- escape */

static void mg_gen_escape(mg_rng *g, mg_case *c)
{
	snprintf(c->prefix, sizeof c->prefix, "+QFTPGET");
	snprintf(c->cmd, sizeof c->cmd, "AT+QFTPGET=\"a\",\"COM:\"");
	c->kind = MF_TRAILER_RESULT_COUNT;
	c->end = mg_pct(g, 85) ? E_GOOD : mg_pct(g, 50) ? E_CLOSE : E_SILENT;
	size_t size = (size_t)mg_range(g, 0, 3000);
	mg_payload(g, c, size, 0, 0);
	mp_port *p = &c->port;
	p->guard_ms = c->mguard_ms;
	mg_buf *s = &c->stream;
	mg_puts(s, "\r\nCONNECT\r\n");
	c->pay_at = s->len;
	mg_put(s, c->payload.b, c->payload.len);
	mp_piece_add(p, s->b, c->pay_at, 0, MP_AFTER);
	/* the payload keeps coming over about the guard times */
	int mode = (int)mg_u(g, 4);
	size_t pos = c->pay_at;
	while (pos < s->len) {
		size_t n = mode == 0 ? 1 : mode == 1 ? (size_t)mg_range(g, 1, 8) : (size_t)mg_range(g, 1, 600);
		if (n > s->len - pos)
			n = s->len - pos;
		mp_piece_add(p, s->b + pos, n, mg_pct(g, 70) ? mg_range(g, 0, 3) : mg_delay(g, c, 0), MP_DATA);
		pos += n;
	}
	/* the module's answer: OK, then perhaps URCs, together or apart */
	int d = mg_delay(g, c, 1);
	int same = mg_pct(g, 50);
	snprintf(c->answer[0], sizeof c->answer[0], "\r\nOK\r\n");
	int nu = mg_pct(g, 50) ? mg_range(g, 1, 2) : 0;
	for (int i = 0; i < nu; i++) {
		const char *u = mg_urc_lines[mg_u(g, 5)];
		snprintf(c->urcs[c->nurcs++], sizeof c->urcs[0], "%s", u);
	}
	if (c->end != E_SILENT) {
		if (same && nu) {
			char *a = c->answer[0];
			for (int i = 0; i < nu; i++) {
				char u[64];
				memcpy(u, c->urcs[i], sizeof u);
				snprintf(a + strlen(a), sizeof c->answer[0] - strlen(a), "\r\n%s\r\n", u);
			}
			mp_answer_add(p->esc_answer, &p->esc_n, a, d, 1);
		} else {
			mp_answer_add(p->esc_answer, &p->esc_n, c->answer[0], d, 1);
			for (int i = 0; i < nu; i++) {
				char u[64];
				memcpy(u, c->urcs[i], sizeof u);
				snprintf(c->answer[1 + i], sizeof c->answer[0], "\r\n%s\r\n", u);
				mp_answer_add(p->esc_answer, &p->esc_n, c->answer[1 + i], mg_range(g, 1, 50), 0);
			}
		}
	} else {
		c->nurcs = 0;
	}
	if (c->end == E_CLOSE)
		p->close_at = p->start_at + mg_range(g, 1, 3 * c->guard_ms + 2000);
	c->may_ok = c->end == E_GOOD;
	/* The OK must come within the escape's wait: 2 guards + 2000 after
	** "+++"; and after our whole guard time: before it, an OK may be
	** payload (the module sends payload until its own guard has passed),
	** so one with nothing after it is no answer the host can take. */
	int answer_at = c->mguard_ms + d;
	c->must_ok = c->end == E_GOOD && answer_at > c->guard_ms && answer_at < 2 * c->guard_ms + 2000;
	if (c->end == E_GOOD && !c->must_ok)
		mg_excuse(c, answer_at > c->guard_ms ? "the OK after the escape's deadline"
		                                     : "the OK within our guard time (a module with a shorter guard)");
	mg_allow(c, MF_ETIMEOUT);
	if (c->end == E_CLOSE)
		mg_allow(c, MF_ECLOSED);
	int64_t span = 0;
	for (size_t i = 0; i < p->npc; i++)
		span += p->pc[i].delay_ms;
	c->bound_ms = 30000 + 3 * c->guard_ms + 2000 + 1000;
}

static void mg_case_free(mg_case *c)
{
	mp_free(&c->port);
	free(c->stream.b);
	free(c->payload.b);
	memset(c, 0, sizeof *c);
}

/* One case from the choices in g. */
static void mg_generate(mg_rng *g, mg_case *c, int op)
{
	memset(c, 0, sizeof *c);
	mp_init(&c->port);
	c->op = op >= 0 ? op : (int)mg_u(g, 10) < 5 ? OP_GET : (int)mg_u(g, 10) < 7 ? OP_PUT : OP_ESCAPE;
	mg_options(g, c);
	c->expect = -1;
	switch (c->op) {
	case OP_GET: mg_gen_get(g, c); break;
	case OP_PUT: mg_gen_put(g, c); break;
	default: mg_gen_escape(g, c); break;
	}
}

/* ---------------------------------------------------------------- trace */

static void mg_show(FILE *f, const char *what, const char *s, size_t n, size_t max)
{
	fprintf(f, "#   %s (%zu): \"", what, n);
	for (size_t i = 0; i < n && i < max; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '\r')
			fputs("\\r", f);
		else if (ch == '\n')
			fputs("\\n", f);
		else if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch > 0x7e)
			fprintf(f, "\\x%02x", ch);
		else
			fputc(ch, f);
	}
	fprintf(f, "\"%s\n", n > max ? "..." : "");
}

static void mg_describe(FILE *f, const mg_case *c)
{
	fprintf(f, "#   op %s, ending %s, cmd %s\n", mg_op_names[c->op], mg_end_names[c->end], c->cmd);
	fprintf(f, "#   idle %d quiet %d confirm %d final %d guard %d (module %d) result %d\n", c->idle_ms, c->quiet_ms,
	        c->confirm_ms, c->final_ms, c->guard_ms, c->mguard_ms, c->result_ms);
	fprintf(f, "#   kind %s offset %lld expect %lld length_known %d dtr %d ack %d src_step %d merge %d\n",
	        c->kind == MF_TRAILER_COUNT_CHECKSUM ? "count_checksum" : "result_count", (long long)c->offset,
	        (long long)c->expect, c->length_known, c->by_dtr, c->ack_every, c->src_step, c->port.merge);
	fprintf(f, "#   sink_fail_at %lld src_fail_at %lld close_at %+lld stall_after %lld wclose_after %lld "
	           "interrupt_at %+lld exit_after %lld\n",
	        (long long)c->sink_fail_at, (long long)c->src_fail_at,
	        (long long)(c->port.close_at < 0 ? -1 : c->port.close_at - c->port.start_at), (long long)c->port.stall_after,
	        (long long)c->port.wclose_after,
	        (long long)(c->port.interrupt_at < 0 ? -1 : c->port.interrupt_at - c->port.start_at),
	        (long long)c->port.exit_after);
	fprintf(f, "#   oracle: must_ok %d may_ok %d excused %d (%s) allowed 0x%x ambiguities %d bound %lld ms\n", c->must_ok,
	        c->may_ok, c->fail_excused, c->excuse, c->allowed, c->nambig, (long long)c->bound_ms);
	mg_show(f, "payload", c->payload.b, c->payload.len, 600);
	if (c->trailer[0])
		fprintf(f, "#   result line: %s\n", c->trailer);
	for (size_t i = 0; i < c->port.npc && i < 400; i++) {
		const mp_piece *pc = &c->port.pc[i];
		char what[96];
		snprintf(what, sizeof what, "piece %zu +%dms%s%s%s%s", i, pc->delay_ms,
		         pc->gate == MP_GATE_WRITTEN ? " after-written" : "", pc->role == MP_DATA ? " data" : "",
		         pc->leaves ? " leaves" : "", pc->exit_mark ? " exit" : "");
		if (pc->gate == MP_GATE_WRITTEN)
			snprintf(what + strlen(what), sizeof what - strlen(what), " n=%lld", (long long)pc->gate_n);
		mg_show(f, what, c->port.out + pc->off, pc->len, 120);
	}
	for (int i = 0; i < c->port.esc_n; i++)
		mg_show(f, "escape answer", c->port.esc_answer[i].text, strlen(c->port.esc_answer[i].text), 120);
	for (int i = 0; i < c->port.dtr_n; i++)
		mg_show(f, "DTR answer", c->port.dtr_answer[i].text, strlen(c->port.dtr_answer[i].text), 120);
}

/* ------------------------------------------------------------ the runner */

typedef struct mg_sink {
	mg_buf got;
	int64_t fail_at;
	int failed;
} mg_sink;

static int mg_sink_write(void *ud, const char *buf, size_t n, char *err, size_t errlen)
{
	mg_sink *s = ud;
	if (s->fail_at >= 0 && (int64_t)(s->got.len + n) > s->fail_at) {
		s->failed = 1;
		snprintf(err, errlen, "sink: disk full");
		return -1;
	}
	mg_put(&s->got, buf, n);
	return 0;
}

typedef struct mg_source {
	const mg_case *c;
	size_t pos;
} mg_source;

static long mg_source_read(void *ud, char *buf, size_t n, char *err, size_t errlen)
{
	mg_source *s = ud;
	const mg_case *c = s->c;
	if (c->src_fail_at >= 0 && (int64_t)s->pos >= c->src_fail_at) {
		if (c->end == E_SRC_SHORT)
			return 0;
		snprintf(err, errlen, "source: read error");
		return -1;
	}
	size_t k = c->payload.len - s->pos;
	if (k > n)
		k = n;
	if (c->src_step && k > (size_t)c->src_step)
		k = (size_t)c->src_step;
	if (c->src_fail_at >= 0 && (int64_t)(s->pos + k) > c->src_fail_at)
		k = (size_t)(c->src_fail_at - (int64_t)s->pos);
	memcpy(buf, c->payload.b + s->pos, k);
	s->pos += k;
	return (long)k;
}

typedef struct mg_result {
	char why[512];
	int rc;
	int64_t bytes;
	int64_t took_ms;
} mg_result;

static int mg_fail(mg_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int mg_fail(mg_result *res, const char *fmt, ...)
{
	if (res->why[0])
		return 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(res->why, sizeof res->why, fmt, ap);
	va_end(ap);
	return 0;
}

static int mg_is_prefix(const char *a, size_t an, const char *b, size_t bn)
{
	return an <= bn && (an == 0 || memcmp(a, b, an) == 0);
}

/* Collect the URCs the engine holds and will take from what is left. */
static void mg_drain_urcs(mf_chat *chat, int64_t wait_ms)
{
	for (int i = 0; i < 64; i++)
		if (mf_chat_poll(chat, (int)(wait_ms < 0x3fffffff ? wait_ms : 0x3fffffff)) != MF_OK)
			break;
}

static int mg_check_urcs(const mg_case *c, mf_chat *chat, mg_result *res)
{
	mg_drain_urcs(chat, c->bound_ms + 1000000);
	int k = 0;
	for (const char *u = mf_strlist_next(&chat->urcs, NULL); u; u = mf_strlist_next(&chat->urcs, u)) {
		if (strcmp(u, "OK") == 0)
			continue; /* a late OK: given back to the engine, taken as a line */
		if (k >= c->nurcs || strcmp(u, c->urcs[k]) != 0)
			return mg_fail(res, "URC %d is \"%s\", want \"%s\"", k, u, k < c->nurcs ? c->urcs[k] : "(none)");
		k++;
	}
	if (k != c->nurcs)
		return mg_fail(res, "%d URCs queued, want %d (first missing \"%s\")", k, c->nurcs, c->urcs[k]);
	return 1;
}

/* Run one case; 1 if the oracle is content, else 0 with the reason. */
static int mg_run(mg_case *c, mg_result *res, FILE *trace)
{
	memset(res, 0, sizeof *res);
	mp_port *p = &c->port;
	p->trace = trace;
	mf_chat chat;
	if (mf_chat_init(&chat, &p->base) != MF_OK)
		return mg_fail(res, "mf_chat_init");
	volatile sig_atomic_t intr = 0;
	chat.interrupt = &intr;
	p->interrupt = &intr;
	if (trace)
		chat.trace = trace;
	mf_cmd_opts co = {0};
	co.timeout_ms = 10000000;
	co.result = c->prefix;
	co.result_timeout_ms = 10000000;
	co.connect = 1;
	mf_reply r;
	mf_reply_init(&r);
	int rc = mf_chat_command(&chat, c->cmd, &co, &r);
	if (rc != MF_OK || !r.connect) {
		mg_fail(res, "no CONNECT (rc %d)", rc);
		goto out;
	}
	mp_enter_data(p);
	p->hard_deadline = mp_clock + c->bound_ms * 4 + 100000;
	int64_t t0 = mp_clock;
	mg_sink sink = {{0}, c->sink_fail_at, 0};
	int64_t bytes = 0;
	if (c->op == OP_GET) {
		mf_get_opts o = {0};
		o.cmd = c->cmd;
		o.result = c->prefix;
		o.trailer = c->kind;
		o.idle_ms = c->idle_ms;
		o.quiet_ms = c->quiet_ms;
		o.final_timeout_ms = c->final_ms;
		o.guard_ms = c->guard_ms;
		o.confirm_ms = c->confirm_ms;
		o.offset = c->offset;
		o.expect = c->expect;
		rc = mf_data_get(&chat, &o, &(mf_sink){mg_sink_write, &sink}, &bytes, &r);
	} else if (c->op == OP_PUT) {
		mf_put_opts o = {0};
		o.cmd = c->cmd;
		o.result = c->prefix;
		o.length = c->length_known ? (int64_t)c->payload.len : -1;
		o.end_by_dtr = c->by_dtr;
		o.guard_ms = c->guard_ms;
		o.idle_ms = c->idle_ms;
		o.final_timeout_ms = c->final_ms;
		o.result_timeout_ms = c->result_ms;
		o.ack_every = c->ack_every;
		mg_source src = {c, 0};
		rc = mf_data_put(&chat, &o, &(mf_source){mg_source_read, &src}, &bytes, &r);
	} else {
		rc = mf_data_escape(&chat, c->guard_ms);
	}
	res->rc = rc;
	res->bytes = bytes;
	res->took_ms = mp_clock - t0;
	if (trace)
		fprintf(trace, "#   => rc %d (%s) bytes %lld in %lld ms; result \"%s\" final \"%s\"; err \"%s\"\n", rc,
		        mf_strerror(rc), (long long)bytes, (long long)res->took_ms, r.result, r.final, chat.err);

	/* every call returns, within its bound */
	if (p->hung)
		mg_fail(res, "hang: %s", p->busy_reads ? "busy loop without time passing" : "past the hard deadline");
	if (res->took_ms > c->bound_ms)
		mg_fail(res, "took %lld ms, bound %lld", (long long)res->took_ms, (long long)c->bound_ms);
	if (rc > 0 || rc < MF_EPAUSED)
		mg_fail(res, "rc %d is no MF_E* code", rc);
	if (p->writes_after_exit)
		mg_fail(res, "%ld host bytes (%ld '+') reached the AT interpreter after the host read that the module left "
		             "data mode", p->writes_after_exit, p->plus_to_cmd);

	if (c->op == OP_GET) {
		const char *P = c->payload.b;
		size_t L = c->payload.len;
		if ((int64_t)sink.got.len != bytes)
			mg_fail(res, "*bytes %lld but the sink got %zu", (long long)bytes, sink.got.len);
		if (!mg_is_prefix(sink.got.b, sink.got.len, P, L))
			mg_fail(res, "delivered %zu bytes that are not the payload's first bytes", sink.got.len);
		if (rc == MF_OK) {
			int exact = sink.got.len == L && strcmp(r.result, c->trailer) == 0;
			int ambig = 0;
			for (int i = 0; i < c->nambig; i++)
				if ((int64_t)sink.got.len == c->ambig[i])
					ambig = 1;
			if (!exact && !ambig)
				mg_fail(res, "WRONG SUCCESS: %zu of %zu bytes, result \"%s\" (want \"%s\")", sink.got.len, L,
				        r.result, c->trailer);
			else if (exact && !c->may_ok)
				mg_fail(res, "success where the module never finished (%s)", mg_end_names[c->end]);
			else if (exact && c->end == E_GOOD)
				mg_check_urcs(c, &chat, res);
		} else {
			if (!(c->allowed & RC_BIT(rc)))
				mg_fail(res, "rc %s not allowed here (ending %s%s%s)", mf_strerror(rc), mg_end_names[c->end],
				        c->fail_excused ? ", excused: " : "", c->excuse);
			else if (c->must_ok && !c->fail_excused)
				mg_fail(res, "SPURIOUS FAILURE: %s (%s) from a module that behaved", mf_strerror(rc), chat.err);
		}
		/* the host writes nothing during a download but an escape */
		int aborting = rc == MF_EIO || rc == MF_EINTR || rc == MF_EPAUSED;
		if (p->in_len && (!aborting || p->in_len != 3 || memcmp(p->in, "+++", 3) != 0))
			mg_fail(res, "the host wrote %zu bytes during the download", p->in_len);
	} else if (c->op == OP_PUT) {
		const char *P = c->payload.b;
		size_t L = c->payload.len;
		if (!mg_is_prefix(p->data, p->data_len, P, L))
			mg_fail(res, "the module took %zu bytes as data that are not the payload's first bytes", p->data_len);
		if (bytes < (int64_t)p->data_len)
			mg_fail(res, "*bytes %lld, but the module took %zu", (long long)bytes, p->data_len);
		if (rc == MF_OK) {
			if (!c->may_ok)
				mg_fail(res, "success where the upload cannot have finished (%s)", mg_end_names[c->end]);
			else if (strcmp(r.result, c->trailer) != 0)
				mg_fail(res, "WRONG SUCCESS: result \"%s\", the module said \"%s\"", r.result, c->trailer);
			else if (c->end != E_EARLY && (p->data_len != L || bytes != (int64_t)L))
				mg_fail(res, "WRONG SUCCESS: the module took %zu of %zu bytes (*bytes %lld)", p->data_len, L,
				        (long long)bytes);
		} else {
			if (!(c->allowed & RC_BIT(rc)))
				mg_fail(res, "rc %s not allowed here (ending %s%s%s)", mf_strerror(rc), mg_end_names[c->end],
				        c->fail_excused ? ", excused: " : "", c->excuse);
			else if (c->must_ok)
				mg_fail(res, "SPURIOUS FAILURE: %s (%s) from a module that behaved", mf_strerror(rc), chat.err);
		}
	} else {
		if (rc == MF_OK) {
			if (!(p->seen & 1))
				mg_fail(res, "WRONG SUCCESS: the escape returned before the module's OK was read");
			else if (c->end == E_GOOD)
				mg_check_urcs(c, &chat, res);
		} else if (!(c->allowed & RC_BIT(rc))) {
			mg_fail(res, "rc %s not allowed here (ending %s)", mf_strerror(rc), mg_end_names[c->end]);
		} else if (c->must_ok) {
			mg_fail(res, "SPURIOUS FAILURE: %s (%s) from a module that answered", mf_strerror(rc), chat.err);
		}
	}
	free(sink.got.b);
out:
	mf_reply_free(&r);
	chat.trace = NULL;
	mf_chat_free(&chat);
	return res->why[0] == 0;
}

#endif
