/*
** mf_transcript_int.h: internals shared by the transcript files (the line
** format in mf_transcript.c, the player mf_replay.c, the recorder
** mf_record.c, the redactor mf_redact.c) and their tests. Not an API.
*/
#ifndef MF_TRANSCRIPT_INT_H
#define MF_TRANSCRIPT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "mf_transcript.h"

#define MF_TX_HEADER "# modemftp transcript v1"
#define MF_TX_LINE_BYTES 64     /* the recorder breaks ">"/"<" lines here */
#define MF_TX_MAX_PAUSE 86400000 /* one "~" line: at most a day */
#define MF_REDACT_MAX 255       /* longest secret kept (EC20 limit) */
#define MF_REDACT_SLOTS 16      /* secrets kept per redactor, most recent */

/* Escape one byte as the format writes it: printable ASCII but '\' as is,
** \r \n \t \\, else \xHH (lowercase). out gets 1, 2 or 4 chars (no NUL);
** returns how many. */
size_t mf_tx_esc1(unsigned char c, char *out);

/* Escape a whole payload line: mf_tx_esc1 on every byte, and a space at
** the start or end as \x20 so editors cannot eat or blur it. out must hold
** 4 * n + 1; NUL-terminated; returns the length. */
size_t mf_tx_escape(const unsigned char *p, size_t n, char *out);

/* What one transcript line says. */
enum {
	MF_TX_BLANK,   /* empty line */
	MF_TX_COMMENT, /* "#..." */
	MF_TX_HOST,    /* "> bytes" */
	MF_TX_MODEM,   /* "< bytes" */
	MF_TX_PAUSE,   /* "~ MS" */
	MF_TX_DTR,     /* "! dtr 0|1" */
	MF_TX_RTS,     /* "! rts 0|1" */
	MF_TX_CLOSE    /* "! close" */
};

typedef struct mf_tx_line {
	int kind;
	int64_t value; /* PAUSE: ms (1..MF_TX_MAX_PAUSE); DTR/RTS: 0 or 1 */
	size_t len;    /* HOST/MODEM: payload bytes written to bytes[] */
	size_t nwild;  /* HOST: \* positions written to wild[] (offsets into
	               ** bytes[]: the wildcard sits before that byte) */
} mf_tx_line;

/* Parse one line s[0..n) (without its '\n'). For payload lines the bytes go
** to bytes[] (room for 2 * n) and, for ">", the \* positions to wild[]
** (room for n / 2 + 1); in a "<" line \* becomes "***". Returns 0, or -1
** with a reason (no line number) in why. */
int mf_tx_parse_line(const char *s, size_t n, mf_tx_line *ln, unsigned char *bytes,
                     size_t *wild, char *why, size_t whylen);

/* The earliest quoted occurrence of a known secret in p[from..n): returns
** the index of its opening quote and sets *span to its length including
** both quotes; returns n when there is none. */
size_t mf_redact_find(const mf_redactor *r, const char *p, size_t n, size_t from, size_t *span);

#endif
