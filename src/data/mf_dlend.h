/*
** mf_dlend.h: the download-end scanner: where a data-mode download ends.
**
** After CONNECT the module sends the payload, then (EC20 framing)
** "\r\nOK\r\n\r\n+QFTPGET: 0,<transferlen>\r\n". The payload is binary and may
** itself contain "\r\nOK\r\n" or "+QFTPGET: 0,123", so a trailer is accepted
** only where its <transferlen> equals the number of payload bytes before its
** framing: the count validates the end. Framing variants ("OK\r\n" without
** the leading CRLF, no blank line, or no OK at all, URCs between the OK and
** the result, or the QFDWL form "<data>+QFDWL: <len>,<checksum>") are
** tried, the count decides. (QFDWL's <checksum>, hex, is checked by the
** caller against the data once the end is taken: mf_dlend_checksum.)
**
** A file can hold a fake trailer whose count matches its own position (a
** recorded modem session starting "\r\nOK\r\n\r\n+QFTPGET: 0,0\r\n"): when
** the size is known (SIZE before GET) only that count ends the transfer;
** otherwise the caller confirms the end by what follows it (see
** mf_dlend_tail_plausible).
**
** A trailer that cannot be validated by count (an error "+QFTPGET: 607,0",
** a count that does not match, NO CARRIER, RDY) is reported as a candidate:
** the caller accepts it only if the modem then stays quiet. How long: the
** same bytes are common in payloads (a downloaded modem log or boot log),
** so while a known size is not reached no quiet shorter than the idle
** timeout (rsptimeout: the module itself ends a transfer that silent)
** ends the transfer, and then as a timeout (see mf_data.h).
**
** The scanner is pure: it looks at the caller's buffer of unflushed bytes and
** says how many leading bytes are surely payload (all but the last
** MF_DLEND_HOLD), or where the payload ends. Memory is constant.
*/
#ifndef MF_DLEND_H
#define MF_DLEND_H

#include <stddef.h>
#include <stdint.h>

#define MF_DLEND_LINE_MAX 96 /* a trailer line is shorter than this */
#define MF_DLEND_WALK 512    /* module lines (OK, URCs) looked at before a trailer */
#define MF_DLEND_HOLD (MF_DLEND_LINE_MAX + MF_DLEND_WALK + 32) /* bytes held back */

/* The two trailer forms: what the two numbers after the prefix are. */
enum {
	MF_TRAILER_RESULT_COUNT,   /* "+QFTPGET: <err>,<transferlen>" (also LIST, NLST, MLSD) */
	MF_TRAILER_COUNT_CHECKSUM, /* "+QFDWL: <len>,<checksum>" (hex), glued to the data */
};
/* What mf_dlend_run found. */
enum {
	MF_DLEND_NONE,      /* no end in the buffer yet */
	MF_DLEND_VALIDATED, /* an end whose count matches the payload before it */
	MF_DLEND_CANDIDATE, /* a trailer or abort line the count does not confirm */
};

typedef struct mf_dlend {
	char prefix[24];    /* "+QFTPGET:" */
	size_t prefix_len;
	int kind;           /* MF_TRAILER_RESULT_COUNT or MF_TRAILER_COUNT_CHECKSUM */
	int64_t base;       /* payload bytes before buf[0] */
	int64_t expect;     /* the payload size when known (SIZE), else -1 */
	size_t scan;        /* resume the search here */
} mf_dlend;

typedef struct mf_dlend_hit {
	size_t payload_end; /* index in buf where the payload ends */
	size_t line_start;  /* index of the trailer line: [payload_end, line_start) holds the
	                       module's framing (OK, URCs that came between) */
	size_t end;         /* index just after the trailer line and its line end */
	long long a, b;     /* the trailer's two numbers (b is hex for COUNT_CHECKSUM) */
	int ok_seen;        /* the framing held the OK */
	char line[MF_DLEND_LINE_MAX + 1];
} mf_dlend_hit;

/* prefix without the colon, e.g. "+QFTPGET"; base = bytes already received
** by an earlier part of the same transfer (ATO re-entry); expect = the
** transfer's total size when known (then only a trailer at exactly that
** count ends it), else -1. */
void mf_dlend_init(mf_dlend *s, const char *prefix, int kind, int64_t base, int64_t expect);

/* After a validated end, the bytes that followed it (tail, n bytes): 1 if
** they look like the module's own lines (OK, URCs: the end stands), 0 if
** not (the "trailer" was payload), -1 if it cannot tell yet. */
int mf_dlend_tail_plausible(const char *tail, size_t n);

/* Scan buf[0..len) (the caller's unflushed bytes, buf[0] is payload offset
** s->base). Returns MF_DLEND_VALIDATED (validated end in *hit), MF_DLEND_CANDIDATE
** (an unvalidated trailer in *hit; scanning resumes after it next time), or
** MF_DLEND_NONE. *safe gets how many leading bytes are payload for sure. */
int mf_dlend_run(mf_dlend *s, const char *buf, size_t len, mf_dlend_hit *hit, size_t *safe);

/* QFDWL's <checksum> (Quectel FILE manual): the XOR of the data taken as
** big-endian 16-bit words, an odd last byte the high byte of a last word.
** Running form: sum so far, then buf[0..n), buf[0] at offset `at` of the
** data (its parity says which half of a word it is). Start with 0. */
unsigned mf_dlend_checksum(unsigned sum, int64_t at, const char *buf, size_t n);

/* The caller dropped n leading bytes (flushed to the sink). */
void mf_dlend_consume(mf_dlend *s, size_t n);

#endif
