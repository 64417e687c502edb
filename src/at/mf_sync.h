/*
** mf_sync.h: bring the AT channel to a known state, whatever the module is
** doing.
**
** A module keeps its state across host processes: a host that died may
** have left it in upload data mode (what we type becomes file data), a
** download still streaming, a half-typed command line, numeric result
** codes (ATV0), echo off, late answers in the port's buffer; or it is
** booting (deaf until RDY, then the SIM busy for seconds), or stalled. The
** sequence, each step only when the one before says so:
**
**   1. flush: read what waits without waiting; if bytes came, read on until
**      quiet_ms of silence. Lines: the module's own are queued as URCs (RDY
**      means a boot: step 6 follows), late answers paid, the rest dropped.
**      Bytes still arriving after stream_ms are a download in data mode:
**      leave it with "+++" framed by guard times, dropping what comes up to
**      the module's OK.
**   2. probe: "ATE1", probe_ms. The module's verbose OK after our echo (or
**      with no echo: it was off) is the clean case: echo on, verbose and
**      result codes proven; nothing else is sent but AT+CMEE=1 (step 5).
**      A numeric "0" means ATV0. ERROR (or "4") means our probe was
**      appended to a half-typed line, which it ended: probe again.
**   3. no answer: the module may be in upload data mode (the probe was file
**      data): "+++" with the guard times; its OK says so, and the upload's
**      late "+QFTPPUT: 0,N" is owed (paid, and so dropped, when it comes:
**      waited for up to result_ms at the end).
**   4. still no answer: probe again ("AT", "ATE1", "ATV1", ... in turn, so
**      that a late echo of one is never taken for another's) every
**      probe_ms until boot_ms from the start. A stalled module answers all
**      of them at once: the owed table pays the late ones in order. RDY
**      (a boot) settles what was owed.
**   5. settle: "ATE1V1Q0" unless step 2 proved it; then "AT+CMEE=1".
**   6. after a boot: "AT+CPIN?" until it stops answering +CME ERROR 10, 13
**      or 14 (SIM not ready), every sim_poll_ms, until boot_ms from the
**      start.
** Another program's command echoed while the sequence runs fails it with
** MF_EFOREIGN (mf_chat.h). A clean module costs one non-blocking read more
** than "ATE1" and "AT+CMEE=1", the bytes on the line are the same.
**
** Every step has a deadline: the whole sequence ends within boot_ms plus
** two cmd_ms and the guard times. Returns MF_OK, or MF_E* with the reason
** in c->err (MF_ETIMEOUT: the module never answered, or its SIM stayed
** busy); *res says what was found and done, either way.
*/
#ifndef MF_SYNC_H
#define MF_SYNC_H

#include "mf_chat.h"

typedef struct mf_sync_opts {
	int probe_ms;    /* one probe's deadline (a module in command mode answers well within it) */
	int guard_ms;    /* the "+++" guard time (the module's S12; the manual: 1000) */
	int boot_ms;     /* the longest wait for a boot, a stall or a busy SIM, from the start */
	int cmd_ms;      /* the settling commands' deadline */
	int stream_ms;   /* input still arriving after this long is a transfer in data mode */
	int quiet_ms;    /* the silence that ends stale input */
	int result_ms;   /* after leaving an upload: wait this long for its late result */
	int sim_poll_ms; /* between two AT+CPIN? while the SIM is busy */
} mf_sync_opts;

/* The defaults: probe 500, guard 1000, boot 20000, cmd 5000, stream 300,
** quiet 50, result 2000, sim_poll 500 (ms). */
void mf_sync_opts_init(mf_sync_opts *o);

/* What the module was found doing (bits of mf_sync_result.states). */
enum {
	MF_SYNC_STALE = 1u << 0,     /* unread lines from before (dropped, URCs queued) */
	MF_SYNC_DOWNLOAD = 1u << 1,  /* a download still streaming: left with "+++" */
	MF_SYNC_UPLOAD = 1u << 2,    /* upload data mode: the probe was data, "+++" ended it */
	MF_SYNC_BOOT = 1u << 3,      /* booting: RDY seen (or deaf until RDY) */
	MF_SYNC_SIM_BUSY = 1u << 4,  /* AT+CPIN? said 10/13/14 for a while */
	MF_SYNC_ATV0 = 1u << 5,      /* numeric result codes */
	MF_SYNC_HALF_LINE = 1u << 6, /* the probe ended a half-typed line: ERROR */
	MF_SYNC_ECHO_OFF = 1u << 7,  /* ATE0 */
	MF_SYNC_STALL = 1u << 8,     /* deaf, then answering, no restart */
	MF_SYNC_LATE = 1u << 9,      /* late answers to earlier commands dropped */
};

#define MF_SYNC_ACTIONS 24
#define MF_SYNC_ACTION_LEN 24

typedef struct mf_sync_result {
	unsigned states;     /* MF_SYNC_* found */
	char actions[MF_SYNC_ACTIONS][MF_SYNC_ACTION_LEN]; /* what was done, in order */
	int nactions;        /* (at most MF_SYNC_ACTIONS kept) */
	int ms;              /* how long it took */
	size_t flushed;      /* stale bytes read in step 1 (and while leaving a download) */
	int stale, late, urcs, probes;
	char sim[64];        /* the last AT+CPIN? answer after a boot, "" if not asked */
} mf_sync_result;

int mf_sync(mf_chat *c, const mf_sync_opts *o, mf_sync_result *res);

/* The name of one MF_SYNC_* bit ("stale", "download", "upload", "boot",
** "sim_busy", "atv0", "half_line", "echo_off", "stall", "late"), NULL for
** others; and of the state that says most about states ("clean" for 0). */
const char *mf_sync_state_name(unsigned bit);
const char *mf_sync_primary(unsigned states);

#endif
