/*
** mf_at.h: the incremental AT response parser.
**
** A byte-driven state machine with a bounded line buffer: feed it any split
** of the modem's output (one byte at a time or megabytes at once) and it
** yields the same lines. Lines end at CR, LF or CRLF; empty lines are
** skipped. mf_at_feed stops after each complete line so that the caller can
** switch to data mode right after CONNECT without the parser eating payload.
** A line longer than MF_AT_LINE_MAX is cut: the parser discards the rest up
** to the line end and reports it once with overflow set (it never crashes or
** grows). Leading noise bytes (non-printable) are stripped from each line.
**
** mf_at_classify() tells what a line is, given the command in flight: its
** echo, an information line, a final result code, CONNECT, or an
** unsolicited result code (URC).
*/
#ifndef MF_AT_H
#define MF_AT_H

#include <stddef.h>

#define MF_AT_LINE_MAX 2048

typedef struct mf_at_parser {
	char line[MF_AT_LINE_MAX + 1];
	size_t len;
	int overflow;   /* current line was cut */
	int after_cr;   /* last byte ended a line with CR: a following LF is part of it */
	int reported;   /* line was handed out: start a new one on the next byte */
} mf_at_parser;

void mf_at_init(mf_at_parser *p);

/* Consume bytes until one line is complete or buf is used up. Returns the
** bytes consumed; *line_ready is 1 when p->line (NUL-terminated, p->len
** bytes) holds a complete line, with p->overflow telling if it was cut. */
size_t mf_at_feed(mf_at_parser *p, const char *buf, size_t n, int *line_ready);

/* After CONNECT was reported at its CR, the LF of its CRLF may still be
** ahead: the engine calls this with the first data byte when it opens the
** receive window (mf_rx.h) and skips one LF if it returns 1. */
int mf_at_swallow_lf(mf_at_parser *p, char c);

typedef enum mf_line_kind {
	MF_LINE_INFO,       /* information text for the command in flight */
	MF_LINE_ECHO,       /* the modem echoing the command (ATE1) */
	MF_LINE_OK,
	MF_LINE_ERROR,      /* plain ERROR */
	MF_LINE_CME,        /* +CME ERROR: <n> or <text>, +CMS ERROR: ... */
	MF_LINE_NO_CARRIER, /* NO CARRIER, NO DIALTONE, BUSY, NO ANSWER */
	MF_LINE_CONNECT,    /* CONNECT [<text>] */
	MF_LINE_URC         /* unsolicited: belongs to no command in flight */
} mf_line_kind;

/* Context for classification: the command line in flight (without CR) or
** NULL when idle. */
typedef struct mf_at_ctx {
	const char *cmd;
	int echo_done; /* echo already seen: a second identical line is info */
} mf_at_ctx;

mf_line_kind mf_at_classify(const char *line, const mf_at_ctx *ctx);

/* The response prefix of a command: "AT+QFTPSIZE=\"a\"" -> "+QFTPSIZE",
** "AT+CSQ" -> "+CSQ", "ATI" -> "" (no prefix). Writes at most cap bytes
** including NUL. */
void mf_at_prefix(const char *cmd, char *out, size_t cap);

/* 1 if line starts with prefix followed by ':' (e.g. "+QFTPGET:"). */
int mf_at_has_prefix(const char *line, const char *prefix);

/* Lines that are URCs whatever is in flight (RDY, +QIURC:, POWERED DOWN...),
** unless the command in flight asked for them (AT+CPIN? and +CPIN:). */
int mf_at_is_known_urc(const char *line);

/* Final result code that is a failure: fills the CME number (or -1). */
int mf_at_cme_code(const char *line);

#endif
