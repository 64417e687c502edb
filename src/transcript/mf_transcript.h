/*
** mf_transcript.h: recorded modem sessions, for replay in tests and CI.
**
** The transcript is a line-oriented UTF-8/ASCII text file (format in
** src/transcript/README.md), diffable and editable by hand:
**
**   # comment                        ignored
**   > AT+QFTPSIZE="a.txt"\r          bytes the host sent
**   < \r\nOK\r\n                     bytes the modem sent
**   ~ 1200                           a silence of 1200 ms
**   ! dtr 0 | ! dtr 1 | ! rts 0|1    the host changed a control line
**   ! close                          the modem side went away (EOF)
**
** The recorder starts the file with "# modemftp transcript v1"; the player
** rejects any other version in such a first line, but does not require it.
** Empty lines are ignored. Lines end in LF (a CR before it is an error).
**
** Text after "> " or "< " (exactly one space) is byte-exact: printable ASCII
** 0x20-0x7E stands for itself except '\', and \r \n \t \\ \xHH (two hex
** digits, either case) escape the rest; a trailing space is written \x20
** (the recorder also writes a leading space so). Raw control bytes, tabs,
** non-ASCII and a raw trailing space are errors. Consecutive lines of the
** same direction form one stream, also across comments: line breaks there
** carry no meaning (the recorder breaks after \n and every 64 bytes).
** Consecutive "~" lines add up.
**
** A secret (FTP or APN password) is written as \* in either direction: in
** a ">" stream it matches any run of bytes (possibly empty, never CR or LF)
** up to the next expected byte, which must exist in the same ">" stream;
** in a "<" line the player sends "***". Nothing but comments may follow
** "! close". A malformed file fails mf_replay_open with "FILE:LINE: reason".
**
** Replay has two cursors. The modem's side delivers the "<" streams: a read
** returns what is due (up to len, across items), sleeps through "~" pauses
** bounded by its timeout (a silence longer than a read's timeout is a
** timeout, the rest of the silence is still owed; a pause counts from when
** the item before it was completed, by the host or by a read), and times
** out after sleeping timeout_ms when the next item is a host action the host
** has not done yet (a silent modem). It never spins. Once the transcript is
** over, the modem is silent for 1 s of reads in all (the quiet a session's
** last steps may hold); then reads fail with MF_ECLOSED, err "transcript
** ended at line N" (N its last line): a host that waits longer waits for
** bytes the transcript does not have, and learns so at once instead of
** after its deadline. The host's side matches every write, set_dtr and set_rts against
** the next host action (">", "! dtr", "! rts") in file order, skipping "<"
** and "~" items not read yet: their bytes stay readable, in order, before
** any "<" after that host action (the host may talk while output is pending,
** as with a real modem). Writes may be split at any byte and may span lines
** and items. On the first difference the call fails with MF_EMISMATCH and
** err reads: line 12: expected AT+QFTPSIZE="a.txt", got AT+QFTPSIZE="b.txt"
** (the expected line and the host's bytes from that line's start to the end
** of the write or the next \r, escaped, trailing \r dropped, ~110 chars
** each). A mismatch is final: every later call repeats it. "! close" makes
** reads (once the bytes before it are read) and writes fail with MF_ECLOSED,
** err "line N: port closed". A "~" directly before a ">" line is the host's
** guard silence: the player checks that at least 90% of it passed since the
** host's last write or last read that returned bytes, and fails with
** MF_EMISMATCH "line N: host did not keep the 1000 ms guard silence (waited
** 12 ms)" otherwise. drain() succeeds; the port options are ignored.
*/
#ifndef MF_TRANSCRIPT_H
#define MF_TRANSCRIPT_H

#include "mf_transport.h"

/* replay:FILE backend: loads FILE whole. MF_EIO if it cannot be read,
** MF_EARG with "FILE:LINE: reason" if it is malformed. */
int mf_replay_open(const char *path, const mf_port_opts *o, mf_transport **out, char *err, size_t errlen);

/* For a replay transport: MF_OK when every "<" byte was read and every
** ">" byte and "!" dtr/rts line was done by the host (pauses, comments and
** a final "! close" need not be reached), else MF_EMISMATCH with
** "line N: transcript not finished, expected < \r\nOK\r\n" (the first
** pending line) or the earlier mismatch in err.
** MF_EARG if t is not a replay transport. */
int mf_replay_finished(mf_transport *t, char *err, size_t errlen);

/* Wrap inner so that all traffic is also written to the transcript at path
** (created/truncated). The recorder owns inner from then on, also on failure.
** Reads and writes pass through unchanged (errors and short counts too);
** the bytes actually moved are recorded. Gaps of 50 ms or more between
** events become "~" lines; successful set_dtr/set_rts become "! dtr"/"! rts"
** lines (a refused one a comment); MF_ECLOSED from the port becomes
** "! close". Secrets are learned from both directions (mf_redact_learn) and
** redacted in both. Memory is constant: bytes are buffered per direction
** (up to ~1100) and written out at each \n, a direction change or a pause.
** close() flushes and closes the file and inner. If the file cannot be
** written, later reads and writes fail with MF_EIO. */
int mf_record_open(mf_transport *inner, const char *path, mf_transport **out, char *err, size_t errlen);

/* Add "# text" to a recording transport (no-op for others). Pending traffic
** is written first; text is redacted; each line of text becomes a comment. */
void mf_record_comment(mf_transport *t, const char *text);

/* The redactor of a recording transport (NULL for others), to add secrets
** it cannot learn from the traffic (mf_redact_add). */
typedef struct mf_redactor mf_redactor;
mf_redactor *mf_record_redactor(mf_transport *t);

/* Secrets: mf_redact_learn() looks at bytes of traffic and remembers the
** secrets they carry: the password of AT+QFTPCFG="account","u","p" (the
** 2nd quoted string after "account") and of AT+QICSGP=ctx,type,"apn","u",
** "p"[,auth] (the 3rd quoted string), and the same in the module's answers
** to queries (+QFTPCFG: "account","u","p", +QICSGP: 1,"apn","u","p",1);
** and every quoted argument of AT+CPIN= (the SIM PIN, or PUK and new PIN).
** Command names are matched case-insensitively wherever "+QFTPCFG"/
** "+QICSGP" appears, spaces around commas are allowed, empty passwords and
** ones longer than 255 bytes are ignored, and the 16 most recent secrets
** are kept. mf_redact_add() adds one directly (e.g. an FTP password the Lua
** layer knows). The rule for every writer of traffic (the AT engine's
** trace, the recorder): learn from each byte of traffic, whichever way it
** went, before writing any of it; then redact.
** mf_redact() then copies src to dst replacing each quoted occurrence of a
** known secret ("p") by "\*" (the quotes stay). Unquoted occurrences are
** left alone: AT commands quote passwords, and matching bare substrings
** would blank out common short strings everywhere. dst must hold
** 2 * srclen + 1 bytes (a 1-byte secret grows to 2); returns the length
** written (NUL added). Scanning is memchr-cheap; with no secrets it copies.
** A redactor is per-port state (not thread-safe). */
mf_redactor *mf_redactor_new(void);
void mf_redactor_free(mf_redactor *r);
void mf_redact_learn(mf_redactor *r, const char *cmd, size_t len);
void mf_redact_add(mf_redactor *r, const char *secret, size_t len);
size_t mf_redact(const mf_redactor *r, const char *src, size_t srclen, char *dst);

#endif
