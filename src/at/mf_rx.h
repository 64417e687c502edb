/*
** mf_rx.h: the receive window, data mode's side of the AT engine.
**
** The engine (mf_chat) owns the receive buffer and the line parser. Once
** the modem has said CONNECT its bytes are payload, not lines, and data
** mode (src/data) reads them through a window onto the engine's buffer: a
** pointer and a length that the engine hands out and refreshes. Data mode
** never touches the buffer, its indices or the parser; the engine never
** judges payload. The contract:
**
**   - The window holds the received bytes no line was parsed from, in
**     arrival order. Right after a wait ended at CONNECT it holds the
**     payload bytes that came with CONNECT. The LF of CONNECT's CRLF is the
**     engine's: it never shows in the window, whether it came with CONNECT
**     or arrives with the first read.
**   - mf_chat_rx_read drops the bytes the caller is done with and waits,
**     with a deadline, for more: one call per chunk. Bytes move once, from
**     the transport into the buffer; before a read the bytes the caller
**     still holds (the scanner's hold-back, a few hundred) go to the front
**     so that the read gets the whole free space.
**   - What the caller does not consume stays in the engine's buffer, and
**     the next wait or command parses it: the bytes that follow a
**     download's end are given back, never lost or reordered.
**   - A download that ends at a trailer ends with mf_chat_rx_end, which
**     takes the module's lines around the trailer (traced; URCs queued)
**     and, when its framing had no OK, waits for one.
**   - Leaving data mode by "+++" ends with mf_chat_rx_drop_to_ok: payload
**     still in flight is dropped up to the module's OK, through the
**     engine's own parser; the module's own lines around that OK are
**     queued.
**
** A window stays valid until the next call into the engine. Every wait has
** a deadline. Failures are MF_E* (mf_transport.h) with the reason in c->err.
** The engine implements these in mf_chat.c, beside the buffer they open.
*/
#ifndef MF_RX_H
#define MF_RX_H

#include "mf_chat.h"

/* The most the window holds: a read when the caller consumed nothing of a
** full window has no room and fails (MF_EPROTO), never asks the port for 0
** bytes. The caller consumes (delivers) before it reads again. */
#define MF_RX_MAX MF_CHAT_BUF

/* A view of the engine's received, unparsed bytes. */
typedef struct mf_rx_window {
	const char *data;
	size_t len;
} mf_rx_window;

/* The bytes received and not yet consumed, without waiting. */
void mf_chat_rx_window(mf_chat *c, mf_rx_window *w);

/* Drop the window's first `consumed` bytes (the caller is done with them),
** then wait at most timeout_ms for more and refresh *w. Returns the bytes
** that arrived (> 0), 0 when none did before the deadline, or MF_E* < 0
** (*w still shows what is held): MF_EPROTO when the window still holds
** MF_RX_MAX bytes (no room to read into). */
long mf_chat_rx_read(mf_chat *c, size_t consumed, int timeout_ms, mf_rx_window *w);

/* Drop the window's first n bytes without reading (n past its end: all of
** it); the rest stays for the next reader (data mode, or the line parser). */
void mf_chat_rx_consume(mf_chat *c, size_t n);

/* The window's first n bytes are complete lines of the module's (they end
** at a CR or LF): parse them as the engine's lines for cmd (o, r as in
** mf_chat_wait: URCs queued, a final result or the result line into r).
** Data mode calls this for lines that come while it waits for raw bytes (a
** QFUPL ack). Returns 1 when they ended the wait for cmd (r->done, r->rc),
** else 0. */
int mf_chat_rx_lines(mf_chat *c, size_t n, const char *cmd, const mf_cmd_opts *o, mf_reply *r);

/* Where a download ended, in bytes from the window's front. */
typedef struct mf_rx_end {
	size_t payload;  /* [0, payload): the payload (the caller delivered it) */
	size_t framing;  /* next, the module's own lines between payload and
	                    trailer (its OK, URCs that came in between) */
	size_t trailer;  /* next, the trailer: its line (traced), its line end,
	                    and what the caller judged part of it (a second
	                    abort line); the bytes after it are the next
	                    command's */
	int ok_wait_ms;  /* >= 0: the framing held no OK; take one that comes
	                    within this long. < 0: do not wait */
	const char *cmd; /* the command that entered data mode (for that wait) */
} mf_rx_end;

/* Leave data mode at a download's end: drop the payload; queue and trace
** the URCs among the framing lines (not the OK); trace the trailer's line
** (the caller keeps it as its result); leave what follows for the line
** parser; then take a trailing OK as e->ok_wait_ms says. Returns 1 when
** that OK came (its line in final, cap bytes), else 0. */
int mf_chat_rx_end(mf_chat *c, const mf_rx_end *e, char *final, size_t cap);

/* Right after "+++" left the host: drop the window and what still arrives
** up to and including the module's OK line, within timeout_ms. The module
** says OK only once it has seen its guard time of silence after "+++" (1 s
** by the manual; not below guard_ms / 2, and payload stops by guard_ms):
** whatever is read in the first half of guard_ms is payload, an OK line in
** it too, and is dropped unparsed. After that, lines are parsed: an OK
** read after guard_ms is the answer; one read before is held (payload
** still in flight may hold "OK"): a later OK replaces it, payload after it
** cancels it, the module's first other line read after guard_ms confirms
** it (that line and the rest stay for the next wait), and with nothing
** after it by the deadline the escape is MF_ETIMEOUT. The module's own
** lines (mf_at_is_known_urc: a "pdpdeact", a late result of the aborted
** transfer) after the answer, in the read that brought it, are queued as
** URCs (never left for the next command to take as its result); other
** complete lines before it are payload, dropped; a line still incomplete
** after the OK stays for the next wait. MF_OK; MF_ETIMEOUT (no OK: still
** in data mode?); or MF_E* from the transport. */
int mf_chat_rx_drop_to_ok(mf_chat *c, int guard_ms, int timeout_ms);

#endif
