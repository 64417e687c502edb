/*
** mf_data.h: data-mode streaming, after CONNECT.
**
** GET (QFTPGET/LIST/NLST/MLSD/QFDWL to COM): bytes go from the transport to
** a sink in large chunks; the end is found by mf_dlend (count-validated).
** QFDWL's trailer "+QFDWL: <len>,<checksum>" also carries the data's
** checksum (mf_dlend_checksum): a mismatch is MF_EPROTO, once the end is
** taken.
** PUT (QFTPPUT/QFUPL from COM): bytes go from a source to the transport;
** the upload ends after exactly `length` bytes (uploadlen/beof: no guard
** time), or with "+++" framed by guard times, or by a DTR drop (AT&D1).
** While sending, the modem's output is watched so that an early exit from
** data mode (error) stops the upload at once instead of feeding file bytes
** to the AT interpreter. Memory is constant; progress is reported at most
** every interval_ms. Every wait has a deadline.
**
** How a download ends (mf_data_get, with mf_dlend):
**   - A validated end (a trailer whose count is the payload before it)
**     with the size known (expect): only the count expect ends it, at once.
**   - With the size unknown (listings, ASCII mode, size = false): a
**     validated end is accepted once confirm_ms (100 ms by default) pass
**     with nothing after it but the module's own lines; payload after it
**     cancels it, and a later validated end replaces it. So a file that
**     ends in a self-consistent fake trailer (a recorded session) whose
**     real trailer comes more than confirm_ms later is cut at the fake:
**     without the size nothing tells them apart. The real trailer then
**     reaches the engine as a late result (queued). Ask SIZE first where
**     that matters (binary downloads do).
**   - A line that can end a transfer but is not validated (NO CARRIER, RDY,
**     "+QFTPGET: <err>,...", a count that does not match) ends it after
**     quiet_ms of silence when the size is unknown or already reached (the
**     module's line is the final: MF_EMODEM, or MF_EPROTO for a count).
**     While a known size is not reached the same line is as likely payload
**     (a downloaded modem log or boot log, with the boot burst after RDY or
**     "pdpdeact" and an error result in it), and a pause in such a payload
**     looks the same as a module that left: nothing ends it before idle_ms
**     (rsptimeout: the module itself gives up a transfer that silent), and
**     then it is MF_ETIMEOUT (never a success), with the line as the final
**     (so that a restart or a lost PDP context is named) and in the error;
**     the bytes before the line are kept, the lines go to the engine. A
**     module that really restarted mid-download costs idle_ms. Bytes that
**     arrive meanwhile and are not the module's own lines cancel it.
**
** Data mode reads the modem through the AT engine's receive window
** (mf_rx.h): one engine call per chunk, never the engine's buffer or
** parser. What follows a download's end goes back to the engine.
*/
#ifndef MF_DATA_H
#define MF_DATA_H

#include "mf_chat.h"
#include "mf_dlend.h"

/* Where downloaded bytes go: returns 0, or -1 with a reason in err. */
typedef struct mf_sink {
	int (*write)(void *ud, const char *buf, size_t n, char *err, size_t errlen);
	void *ud;
} mf_sink;

/* Where uploaded bytes come from: > 0 bytes, 0 end, -1 failure (err). */
typedef struct mf_source {
	long (*read)(void *ud, char *buf, size_t n, char *err, size_t errlen);
	void *ud;
} mf_source;

typedef struct mf_progress {
	void (*fn)(void *ud, int64_t bytes);
	void *ud;
	int interval_ms;
} mf_progress;

typedef struct mf_get_opts {
	const char *cmd;      /* the command that entered data mode (for classifying lines after) */
	const char *result;   /* trailer prefix, e.g. "+QFTPGET" */
	int trailer;          /* MF_TRAILER_RESULT_COUNT or MF_TRAILER_COUNT_CHECKSUM */
	int idle_ms;          /* longest silence between packets (rsptimeout) */
	int quiet_ms;         /* silence that confirms an unvalidated trailer */
	int final_timeout_ms; /* wait for a trailing OK when the framing had none */
	int guard_ms;         /* escape guard time when aborting */
	int confirm_ms;       /* size unknown: watch this long after a validated end */
	int64_t offset;       /* bytes of this transfer received before (ATO) */
	int64_t expect;       /* total size of the transfer when known, else -1 */
	volatile int *pause;  /* set: leave data mode with "+++" and return MF_EPAUSED (ATO resumes); the
	                         pause's OK is the last line, with quiet_ms after it and after guard_ms */
	mf_progress progress;
} mf_get_opts;

typedef struct mf_put_opts {
	const char *cmd;
	const char *result;   /* "+QFTPPUT" / "+QFUPL" */
	int64_t length;       /* exact byte count (uploadlen), or -1: until the source ends */
	int end_by_dtr;       /* leave data mode by a DTR drop instead of "+++" */
	int guard_ms;         /* "+++" guard time (1000 per the manual) */
	int idle_ms;          /* deadline for each chunk to leave (rsptimeout) */
	int final_timeout_ms; /* for OK after data */
	int result_timeout_ms;/* for the result URC after OK */
	int ack_every;        /* QFUPL ack mode: wait for 'A' after each N bytes (0: off) */
	mf_progress progress;
} mf_put_opts;

/* Both return MF_OK or MF_E*; *bytes always gets the payload bytes moved.
** The reply r gets the trailer/result line (r->result) and final. */
int mf_data_get(mf_chat *c, const mf_get_opts *o, mf_sink *sink, int64_t *bytes, mf_reply *r);
int mf_data_put(mf_chat *c, const mf_put_opts *o, mf_source *src, int64_t *bytes, mf_reply *r);

/* Leave data mode by "+++" with guard times (used on interrupt and sink
** failure): the payload still in flight is dropped up to the module's OK,
** which counts only after the guard time after "+++" or when the module's
** own lines confirm it (an OK line in the payload is payload); the
** module's own lines after it are queued as URCs (mf_chat_rx_drop_to_ok). */
int mf_data_escape(mf_chat *c, int guard_ms);

#endif
