/*
** mf_chat.h: AT command engine over a transport.
**
** Sends a command, then reads and parses the modem's output until the final
** result code and, for the AT+QFTP* commands that report asynchronously, the
** result URC that follows OK (within its own deadline: rsptimeout). Echo is
** recognised and dropped; information lines are collected; unsolicited
** result codes that belong to no command in flight are queued (bounded) for
** the caller. Bytes read past the end of a reply stay buffered for the next
** call: nothing is lost or reordered. Every wait has a deadline. After
** CONNECT, data mode reads the same buffer through the receive window
** (mf_rx.h), never through the fields below.
**
** Lines nobody asked for: before each command the input is flushed (the
** module's own lines are queued as URCs, the rest dropped and traced as
** stale); a command whose wait the host gave up (deadline, interrupt) is
** remembered with what it still owes (mf_owed.h), and its late echo, final
** result code or result URC is recognised and dropped, never taken for the
** next command's. Once the module's echo is known to be on (a sync, ATE1),
** an answer is taken only after the command's own echo: what comes before
** it is late, stale, the module's own, or another program's (an echo of a
** command this engine never sent: counted, and a command fails with
** MF_EFOREIGN when such lines keep coming).
**
** Return codes: MF_OK; MF_EMODEM (ERROR, +CME ERROR, NO CARRIER, a reboot or
** a PDP deactivation while waiting; see the reply); MF_ETIMEOUT (the reply
** holds what did arrive); MF_ECLOSED/MF_EIO (transport); MF_EINTR;
** MF_EFOREIGN (another program talks on the port).
*/
#ifndef MF_CHAT_H
#define MF_CHAT_H

#include "mf_at.h"
#include "mf_owed.h"
#include "mf_transcript.h"
#include "mf_transport.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

/* A growable list of NUL-terminated strings, bounded in total size. */
typedef struct mf_strlist {
	char *buf;
	size_t len, cap;
	size_t n;
} mf_strlist;

void mf_strlist_clear(mf_strlist *l);
void mf_strlist_free(mf_strlist *l);
int mf_strlist_add(mf_strlist *l, const char *s, size_t n);
/* Iterate: pass NULL first, then the previous string. */
const char *mf_strlist_next(const mf_strlist *l, const char *prev);

#define MF_URC_MAX 256       /* queued URCs kept; older ones are dropped */
/* The longest a wait sleeps between looks at the interrupt flag, so that
** Ctrl-C stops a transfer at once however long its deadline. */
#define MF_INTERRUPT_CHECK_MS 200
#define MF_CHAT_BUF (64 * 1024)

typedef struct mf_chat {
	mf_transport *t;
	/* The engine's alone (data mode sees them through mf_rx.h): */
	mf_at_parser p;
	char *buf; /* receive buffer: unparsed bytes are buf[pos..len) */
	size_t pos, len;
	mf_strlist urcs;
	size_t urcs_dropped;
	size_t urcs_total; /* URCs ever queued */
	mf_redactor *redact;
	FILE *trace;                    /* AT traffic log (redacted), or NULL */
	/* When set, asked before each trace write for the stream to write to
	** (NULL: none), instead of trace: a stream the caller does not own (a
	** Lua file) may have been closed since. */
	FILE *(*trace_stream)(void *ud);
	void *trace_ud;
	volatile sig_atomic_t *interrupt; /* set by a signal handler: abort waits */
	/* Set by the engine's user (a transfer callback asked to stop): data mode
	** stops as on an interrupt, but it is not a signal and never touches
	** *interrupt. The user clears it. */
	int cancel;
	char err[MF_ERRLEN];
	/* The module's state as the command path knows it: */
	mf_owed owed;          /* answers still owed by abandoned commands */
	int echo;              /* echo: 1 on (answers only after it), 0 off, -1 not known */
	int numeric;           /* numeric result codes (ATV0) possible: digits are finals */
	int talking;           /* a command was sent on this transport */
	int64_t last_tx_ms;    /* when the host last wrote (guard times) */
	unsigned long reboots; /* restart lines (RDY...) seen */
	unsigned long stale, late; /* lines dropped: nobody's; late answers */
	unsigned long foreign; /* echoes of commands this engine never sent */
	int64_t foreign_ms[2]; /* when the last two came */
	unsigned long foreign_reported;
	char foreign_line[80]; /* the last one */
	mf_transport gone;     /* stands in for a transport that went away (mf_chat_set_transport) */
} mf_chat;

typedef struct mf_cmd_opts {
	int timeout_ms;        /* deadline for the final result code */
	const char *result;    /* e.g. "+QFTPSIZE": wait for this URC after OK */
	int result_timeout_ms; /* its deadline, counted from OK (rsptimeout) */
	int result_early;      /* the result line may come before OK (QFTPLEN, QFTPSTAT) */
	int connect;           /* CONNECT ends the wait (data mode follows) */
} mf_cmd_opts;

typedef struct mf_reply {
	mf_strlist info;                 /* information lines */
	char final[MF_AT_LINE_MAX + 1];  /* final result code line, "" if none */
	char result[MF_AT_LINE_MAX + 1]; /* the result URC line, "" if none */
	int cme;                         /* +CME ERROR number, or -1 */
	int connect;                     /* the wait ended at CONNECT */
	/* progress of the wait, so that peek and wait can resume each other */
	int echo_done, got_final, done, rc;
	/* echo on but not seen yet: the last final result code that came
	** before it (taken at the deadline if the echo never comes) */
	char early_final[64];
	int early_lines; /* lines before it that were neither its own nor a final */
	int no_echo; /* it was taken so: the module's echo is off */
} mf_reply;

int mf_chat_init(mf_chat *c, mf_transport *t);
void mf_chat_free(mf_chat *c); /* closes the transport too */
void mf_reply_init(mf_reply *r);
void mf_reply_free(mf_reply *r);

/* Write cmd followed by CR (deadline timeout_ms). Learns secrets from it
** (through mf_chat_trace). Once a command was sent on this transport, what
** came since is flushed first (mf_chat_flush, no wait); owed answers past
** their deadline expire. */
int mf_chat_send(mf_chat *c, const char *cmd, int timeout_ms);

/* Wait for the reply to cmd (already sent). */
int mf_chat_wait(mf_chat *c, const char *cmd, const mf_cmd_opts *o, mf_reply *r);

/* mf_chat_send + mf_chat_wait. */
int mf_chat_command(mf_chat *c, const char *cmd, const mf_cmd_opts *o, mf_reply *r);

/* Take an OK that may still trail an answer already taken (a bare result
** line, a download's trailer): wait at most timeout_ms for cmd's final
** result code, no echo expected. Returns 1 with the OK line in final (cap
** bytes), else 0 (final untouched; URCs that came are queued). */
int mf_chat_wait_final(mf_chat *c, const char *cmd, int timeout_ms, char *final, size_t cap);

/* Read for up to timeout_ms, queueing URCs; returns as soon as at least one
** URC is queued (MF_OK), or MF_ETIMEOUT. */
int mf_chat_poll(mf_chat *c, int timeout_ms);

/* Parse whatever is already readable without waiting (data-mode PUT peeks
** at the modem this way): lines for cmd go to r; returns 1 when a final
** result or the result URC arrived (the modem left data mode), 0 if not,
** or MF_E* < 0. */
int mf_chat_peek(mf_chat *c, const char *cmd, const mf_cmd_opts *o, mf_reply *r);

/* Resynchronise after the host's bytes may have reached the AT interpreter
** (the module left data mode while a chunk was in flight: each junk line
** earns an ERROR). Reads and drops lines until the modem has been quiet for
** quiet_ms (at most max_ms); known URCs are still queued. Returns the
** number of lines dropped. */
int mf_chat_discard(mf_chat *c, int quiet_ms, int max_ms);

/* Read what the module sent that no command asked for. Reads without
** waiting, then, while bytes come, until quiet_ms pass without any (at
** most max_ms; until_ok: stop after an OK line, or a restart). Each line:
** a late answer is paid to the owed table; the module's own lines are
** queued as URCs (a restart also settles everything owed); the rest is
** dropped and traced as stale, and so is a partial line of binary junk
** left at the end. Returns MF_OK or MF_E*; *f gets what was seen. */
typedef struct mf_flush {
	int quiet_ms, max_ms, until_ok;
	/* out */
	size_t bytes;
	int lines, stale, late, urcs, foreign, reboot, ok, finals;
	int busy; /* bytes were still coming at max_ms (a transfer in data mode?) */
	int numeric; /* a lone digit line came (numeric result codes?) */
} mf_flush;
int mf_chat_flush(mf_chat *c, mf_flush *f);

/* The host gives up waiting for cmd's result URC (an upload aborted with
** "+++"): it is owed, and dropped when it comes (mf_owed.h). */
void mf_chat_owe_result(mf_chat *c, const char *cmd, const char *result, int result_timeout_ms);

/* The module's settings as commands change them: after a successful cmd,
** note ATE0/ATE1 and ATV0/ATV1 among its basic commands. */
void mf_chat_note_settings(mf_chat *c, const char *cmd);

/* Start afresh on a new transport (a reopened port): the old one is
** closed; buffered bytes, the parser and what was owed are dropped; the
** queue, trace, secrets and settings stay. t NULL: a stand-in that fails
** every call as MF_ECLOSED until the next one. */
void mf_chat_set_transport(mf_chat *c, mf_transport *t);

/* Trace one line of traffic ("> " host, "< " modem), redacted. Every line
** the engine sends or takes passes here, traced or not: the secrets it
** carries are learned first (mf_redact_learn, both directions: the module
** prints the password of +QFTPCFG: "account"), so neither the trace nor
** port:redact ever shows them. */
void mf_chat_trace(mf_chat *c, char dir, const char *text, size_t len);

#endif
