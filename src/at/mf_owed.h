/*
** mf_owed.h: what the module still owes the host.
**
** The host may stop waiting before the module answers: a deadline passes,
** Ctrl-C, an upload is aborted with "+++", a probe goes unanswered while the
** module boots or stalls. The module does not forget: that command's echo,
** its final result code and its result URC ("+QFTPPUT: 0,245760") still
** come, late, and the next command would take them for its own. The engine
** records one entry per abandoned command, oldest first, and shows every
** line it reads to this table before the command in flight sees it; a line
** the table takes is a late answer: traced and dropped, never paired.
**
** The rules, from how the module answers (in order, one command at a time,
** one FTP job at a time):
**   - an echo pays the oldest entry that owes the echo of that same command
**     (a line ending with it: noise may precede an echo), and settles the
**     echo and final of every older entry (the module answered those before
**     it read this one, or never will);
**   - a final result code (OK, ERROR, +CME ERROR, NO CARRIER, CONNECT; the
**     digits 0-8 when numeric codes are possible) pays the oldest entry that
**     owes a final and no longer its echo (the module echoes a line before
**     it answers it; echo is owed only when the echo is known to be on);
**   - a "+NAME: ..." line pays the oldest entry that owes the result NAME;
**   - the echo of the command in flight settles every owed echo and final
**     (mf_owed_echo_seen); owed results stay, a job's result comes when the
**     job ends;
**   - an FTP job accepted (the OK or CONNECT of a command that starts one)
**     settles every owed "+QFTP" result (mf_owed_job_started): the module
**     starts a job only once the last one ended, and printed its result
**     before that OK;
**   - a restart (RDY) and a sync settle everything (mf_owed_clear);
**   - an entry unpaid at its deadline expires (mf_owed_expire), so a line
**     that never comes cannot swallow answers for ever.
**
** The table also remembers the last commands sent (mf_owed_sent), so that
** an echo of an old command of ours is never mistaken for another
** program's (mf_owed_is_ours).
**
** Pure: no I/O, the caller passes the clock. Bounded: MF_OWED_MAX entries;
** when full, the oldest is dropped and counted as lost.
*/
#ifndef MF_OWED_H
#define MF_OWED_H

#include <stddef.h>
#include <stdint.h>

enum {
	MF_OWE_ECHO = 1u << 0,   /* the echo of the command line */
	MF_OWE_FINAL = 1u << 1,  /* its final result code */
	MF_OWE_RESULT = 1u << 2, /* its result URC ("+QFTPPUT: ...") */
};

#define MF_OWED_MAX 16
#define MF_OWED_CMD_MAX 128   /* longer commands are matched on their first 127 bytes */
#define MF_OWED_RESULT_MAX 24 /* "+QFTPMDTM" and the like */
#define MF_OWED_SENT_MAX 8    /* commands remembered for mf_owed_is_ours */

typedef struct mf_owed_entry {
	char cmd[MF_OWED_CMD_MAX];
	char result[MF_OWED_RESULT_MAX]; /* the result's name, "" for none */
	unsigned need;                   /* MF_OWE_* still owed */
	int64_t since_ms;                /* when the host gave up waiting */
	int64_t line_until_ms;           /* echo and final expire then */
	int64_t result_until_ms;         /* the result expires then */
} mf_owed_entry;

typedef struct mf_owed {
	mf_owed_entry e[MF_OWED_MAX]; /* oldest first */
	int n;
	char sent[MF_OWED_SENT_MAX][MF_OWED_CMD_MAX]; /* ring of the last commands sent */
	int sent_next;
	unsigned long paid, lost, expired; /* lines paid; needs settled unpaid; needs expired */
} mf_owed;

void mf_owed_init(mf_owed *o);

/* Record that cmd still owes `need` (MF_OWE_*); result names the result URC
** ("+QFTPPUT") when MF_OWE_RESULT is set. The echo and final expire after
** line_ms, the result after result_ms. A need already owed by the newest
** entry for the same command is not added twice. */
void mf_owed_add(mf_owed *o, const char *cmd, unsigned need, const char *result, int64_t now_ms, int line_ms,
                 int result_ms);

/* Offer one line (no line end) the module sent. Returns the MF_OWE_* it
** paid (the line is a late answer: drop it), or 0 (not owed: the caller
** decides). numeric: digits are final result codes (ATV0 possible). */
unsigned mf_owed_pay(mf_owed *o, const char *line, int numeric);

/* The echo of the command in flight came: settle every owed echo and final. */
void mf_owed_echo_seen(mf_owed *o);

/* An FTP job was accepted: settle every owed "+QFTP..." result. */
void mf_owed_job_started(mf_owed *o);

/* The module left data mode after "+++", or the host knows by other means
** that earlier lines were not commands: settle every owed echo and final. */
#define mf_owed_settle_lines mf_owed_echo_seen

/* Forget everything owed (restart, sync, a new port). */
void mf_owed_clear(mf_owed *o);

/* Drop the needs whose deadline passed; returns how many expired. */
int mf_owed_expire(mf_owed *o, int64_t now_ms);

/* The MF_OWE_* still owed by any entry (0: nothing). */
unsigned mf_owed_pending(const mf_owed *o);

/* Remember a command line the host sent (for mf_owed_is_ours). */
void mf_owed_sent(mf_owed *o, const char *cmd);

/* 1 when line is the echo of one of the last commands sent. */
int mf_owed_is_ours(const mf_owed *o, const char *line);

/* 1 when line is the echo of cmd: equal, or cmd preceded by noise. */
int mf_owed_is_echo_of(const char *line, const char *cmd);

/* 1 when line is a final result code (numeric: also the digits 0-8). */
int mf_owed_is_final(const char *line, int numeric);

#endif
