/*
** mf_sync.c: bring the AT channel to a known state (see mf_sync.h).
*/
#include "mf_sync.h"
#include "mf_lines.h"

#include <stdio.h>
#include <string.h>

/* Durations, and why: */
#define ESCAPE_SLACK_MIN_MS 200 /* the module says OK a guard time after "+++": and back, */
                                /* over a slow link: one more guard time, at least this */
#define DRAIN_SLACK_MS 5000     /* our own bytes leave the host before the guard silence */
#define UPLOAD_RESULT_MS 180000 /* an abandoned upload's result: within the longest rsptimeout */

/* Probes after the first, in turn: each a harmless command, none the same
** as the one before, so that a late echo is paid to its own probe. */
static const char *const probes[] = {"AT", "ATE1", "ATV1", "ATQ0", "ATE1V1", "ATE1Q0", "ATV1Q0", "ATE1V1Q0"};
#define NPROBES (sizeof probes / sizeof probes[0])

void mf_sync_opts_init(mf_sync_opts *o)
{
	o->probe_ms = 500;
	o->guard_ms = 1000;
	o->boot_ms = 20000;
	o->cmd_ms = 5000;
	o->stream_ms = 300;
	o->quiet_ms = 50;
	o->result_ms = 2000;
	o->sim_poll_ms = 500;
}

static const char *const state_names[] = {"stale",     "download", "upload",   "boot",  "sim_busy",
                                          "atv0",      "half_line", "echo_off", "stall", "late"};

const char *mf_sync_state_name(unsigned bit)
{
	for (unsigned i = 0; i < sizeof state_names / sizeof state_names[0]; i++)
		if (bit == 1u << i)
			return state_names[i];
	return NULL;
}

const char *mf_sync_primary(unsigned states)
{
	/* the state that explains the most, first */
	static const unsigned order[] = {MF_SYNC_DOWNLOAD,  MF_SYNC_UPLOAD,   MF_SYNC_BOOT,  MF_SYNC_SIM_BUSY,
	                                 MF_SYNC_STALL,     MF_SYNC_ATV0,     MF_SYNC_HALF_LINE,
	                                 MF_SYNC_ECHO_OFF,  MF_SYNC_LATE,     MF_SYNC_STALE};
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
		if (states & order[i])
			return mf_sync_state_name(order[i]);
	return "clean";
}

static void act(mf_sync_result *res, const char *what, const char *arg)
{
	if (res->nactions < MF_SYNC_ACTIONS)
		snprintf(res->actions[res->nactions++], MF_SYNC_ACTION_LEN, "%s%s%s", what, arg ? " " : "",
		         arg ? arg : "");
}

static void add_flush(mf_sync_result *res, const mf_flush *f)
{
	res->flushed += f->bytes;
	res->stale += f->stale;
	res->urcs += f->urcs;
	if (f->reboot)
		res->states |= MF_SYNC_BOOT;
}

/* One command of the sequence; the reply is the caller's to free. A
** refusal is said in c->err. */
static int command(mf_chat *c, const char *cmd, int timeout_ms, mf_reply *r)
{
	mf_cmd_opts o = {0};
	o.timeout_ms = timeout_ms;
	mf_reply_init(r);
	int rc = mf_chat_command(c, cmd, &o, r);
	if (rc == MF_EMODEM)
		snprintf(c->err, sizeof c->err, "%s answered %.100s", cmd, r->final);
	return rc;
}

/* "+++" framed by guard times: guard_ms of silence from the host before
** (the module's output is read and judged meanwhile), none within
** guard_ms after. Returns MF_OK with *left = 1 when the module said OK
** (it was in data mode: 2 when bytes kept coming meanwhile, a download),
** 0 when it did not; or MF_E*. */
static int escape(mf_chat *c, const mf_sync_opts *o, mf_sync_result *res, int *left)
{
	mf_transport *t = c->t;
	*left = 0;
	int rc = t->ops->drain(t, o->guard_ms + DRAIN_SLACK_MS);
	if (rc != MF_OK && rc != MF_ESUPP) {
		snprintf(c->err, sizeof c->err, "cannot leave data mode: the line does not drain (%.150s)", t->err);
		return rc;
	}
	int wait_ms = mf_left_ms(c->last_tx_ms + o->guard_ms);
	if (!c->last_tx_ms || wait_ms > o->guard_ms)
		wait_ms = o->guard_ms;
	if (wait_ms < o->quiet_ms) /* long enough to see a payload flowing */
		wait_ms = o->quiet_ms;
	mf_flush before = {.quiet_ms = wait_ms, .max_ms = wait_ms};
	rc = mf_chat_flush(c, &before); /* reading does not break the host's silence */
	add_flush(res, &before);
	if (rc != MF_OK)
		return rc;
	if (before.late || before.reboot) {
		/* a late answer to the probe, or a restart: not in data mode */
		act(res, "no escape", before.reboot ? "(RDY)" : "(late answer)");
		return MF_OK;
	}
	act(res, "escape", "+++");
	rc = mf_write_all(t, "+++", 3, mf_now_ms() + o->guard_ms, NULL);
	c->last_tx_ms = mf_now_ms();
	if (rc != MF_OK) {
		snprintf(c->err, sizeof c->err, "%s", t->err);
		return rc;
	}
	mf_chat_trace(c, '>', "+++ (escape)", 12);
	/* The OK comes a guard time after "+++"; whatever streams until then
	** (a download's payload) is dropped. No OK: the silence after is kept. */
	int after_ms = 3 * o->guard_ms + ESCAPE_SLACK_MIN_MS;
	mf_flush after = {.quiet_ms = after_ms, .max_ms = after_ms, .until_ok = 1};
	rc = mf_chat_flush(c, &after);
	add_flush(res, &after);
	if (rc != MF_OK)
		return rc;
	if (after.ok) {
		/* Data mode is over: what was sent before it was data, not commands. */
		mf_owed_settle_lines(&c->owed);
		*left = before.bytes ? 2 : 1; /* an upload's module says nothing */
	}
	return MF_OK;
}

/* After a boot: wait until the SIM stops answering "not ready". */
static int wait_sim(mf_chat *c, const mf_sync_opts *o, mf_sync_result *res, int64_t deadline)
{
	act(res, "cpin", NULL);
	for (;;) {
		mf_reply r;
		int rc = command(c, "AT+CPIN?", o->cmd_ms, &r);
		if (rc == MF_OK) {
			const char *l = mf_strlist_next(&r.info, NULL);
			snprintf(res->sim, sizeof res->sim, "%.63s", l ? l : r.final);
		} else if (rc == MF_EMODEM) {
			snprintf(res->sim, sizeof res->sim, "%.63s", r.final);
		}
		int busy = rc == MF_EMODEM && (r.cme == 10 || r.cme == 13 || r.cme == 14);
		int cme = r.cme;
		mf_reply_free(&r);
		if (!busy)
			return rc == MF_EMODEM ? MF_OK : rc; /* a PIN to enter is the caller's business */
		res->states |= MF_SYNC_SIM_BUSY;
		int left_ms = mf_left_ms(deadline);
		if (left_ms == 0) {
			snprintf(c->err, sizeof c->err, "SIM not ready within %d ms of the start (+CME ERROR: %d)", o->boot_ms,
			         cme);
			return MF_ETIMEOUT;
		}
		mf_sleep_ms(left_ms < o->sim_poll_ms ? left_ms : o->sim_poll_ms);
		if (c->interrupt && *c->interrupt) {
			snprintf(c->err, sizeof c->err, "interrupted");
			return MF_EINTR;
		}
	}
}

static int foreign_seen(mf_chat *c, unsigned long before)
{
	if (c->foreign == before)
		return 0;
	c->foreign_reported = c->foreign;
	snprintf(c->err, sizeof c->err,
	         "another program is sending AT commands on this port (\"%.40s\"): likely ModemManager. "
	         "Keep it off the AT port: udev rule ENV{ID_MM_PORT_IGNORE}=\"1\", or stop it",
	         c->foreign_line);
	return 1;
}

/* Steps 2 to 4: until a probe is answered. Returns MF_OK with *clean = 1
** when the first "ATE1" proved echo, verbose and result codes. */
static int probe_until_answered(mf_chat *c, const mf_sync_opts *o, mf_sync_result *res, int64_t deadline,
                                unsigned long foreign0, int *clean)
{
	unsigned long reboots0 = c->reboots;
	int escaped = 0, left = 0, echoed_once = 0, tries_after_error = 0;
	*clean = 0;
	for (int i = 0;; i++) {
		const char *cmd = i == 0 ? "ATE1" : probes[(size_t)(i - 1) % NPROBES];
		mf_reply r;
		c->echo = 1; /* answers only after the probe's own echo (mf_chat.h) */
		res->probes++;
		act(res, "probe", cmd);
		int rc = command(c, cmd, o->probe_ms, &r);
		char final[sizeof r.early_final];
		snprintf(final, sizeof final, "%.63s", r.final);
		int numeric = final[0] >= '0' && final[0] <= '9';
		int no_echo = r.no_echo, echoed_before = echoed_once;
		echoed_once |= r.echo_done;
		mf_reply_free(&r);
		if (foreign_seen(c, foreign0))
			return MF_EFOREIGN;
		if (rc == MF_OK) {
			if (numeric)
				res->states |= MF_SYNC_ATV0;
			if (no_echo)
				res->states |= MF_SYNC_ECHO_OFF;
			if (c->reboots != reboots0)
				res->states |= MF_SYNC_BOOT;
			else if (i > 0 && !left && !echoed_before && !(res->states & MF_SYNC_HALF_LINE))
				res->states |= MF_SYNC_STALL; /* deaf, then all at once (a slow but echoing module: late) */
			*clean = i == 0 && !numeric;
			return MF_OK;
		}
		if (rc == MF_EMODEM && c->reboots == reboots0) {
			/* ERROR: the probe ended a half-typed line; the next is whole */
			res->states |= MF_SYNC_HALF_LINE;
			if (++tries_after_error > 2) {
				snprintf(c->err, sizeof c->err, "the module answers %s to %s", final, cmd);
				return MF_EMODEM;
			}
			continue;
		}
		if (rc != MF_ETIMEOUT && rc != MF_EMODEM)
			return rc;
		/* A probe echoed but not answered: command mode (data mode never
		** echoes), only slow; its answer is owed. Else it may be upload
		** data mode. */
		if (!escaped && !echoed_once && rc == MF_ETIMEOUT && c->reboots == reboots0) {
			escaped = 1;
			rc = escape(c, o, res, &left);
			if (rc != MF_OK)
				return rc;
			if (left == 2) {
				res->states |= MF_SYNC_DOWNLOAD;
			} else if (left) {
				res->states |= MF_SYNC_UPLOAD;
				/* its result still comes: dropped when it does */
				mf_owed_add(&c->owed, "+++", MF_OWE_RESULT, "+QFTPPUT", mf_now_ms(), 0, UPLOAD_RESULT_MS);
			}
		}
		if (mf_left_ms(deadline) == 0) {
			snprintf(c->err, sizeof c->err, "the module does not answer (%d probes, \"+++\" tried) within %d ms",
			         res->probes, o->boot_ms);
			return MF_ETIMEOUT;
		}
		if (c->interrupt && *c->interrupt) {
			snprintf(c->err, sizeof c->err, "interrupted");
			return MF_EINTR;
		}
	}
}

/* Step 1: what waits in the port. */
static int flush_stale(mf_chat *c, const mf_sync_opts *o, mf_sync_result *res)
{
	mf_flush f = {0};
	int rc = mf_chat_flush(c, &f);
	add_flush(res, &f);
	if (rc != MF_OK || !f.bytes)
		return rc;
	act(res, "flush", NULL);
	mf_flush more = {.quiet_ms = o->quiet_ms, .max_ms = o->stream_ms};
	rc = mf_chat_flush(c, &more);
	add_flush(res, &more);
	if (rc != MF_OK)
		return rc;
	if (res->stale)
		res->states |= MF_SYNC_STALE;
	if (more.busy) { /* bytes keep coming: a download in data mode */
		res->states |= MF_SYNC_DOWNLOAD;
		int left;
		rc = escape(c, o, res, &left);
		if (rc == MF_OK && !left) /* it ended by itself meanwhile: the probe will tell */
			res->states &= ~(unsigned)MF_SYNC_DOWNLOAD;
	}
	return rc;
}

/* The end: an abandoned upload's result, if it comes soon, is read now. */
static int take_owed_result(mf_chat *c, const mf_sync_opts *o, mf_sync_result *res)
{
	int64_t deadline = mf_now_ms() + o->result_ms;
	while (mf_owed_pending(&c->owed) & MF_OWE_RESULT) {
		int left_ms = mf_left_ms(deadline);
		if (left_ms == 0)
			return MF_OK; /* still owed: dropped when it comes */
		mf_flush f = {.quiet_ms = left_ms < 50 ? left_ms : 50, .max_ms = left_ms};
		int rc = mf_chat_flush(c, &f);
		add_flush(res, &f);
		if (f.late)
			act(res, "drop late", NULL);
		if (rc != MF_OK)
			return rc;
	}
	return MF_OK;
}

int mf_sync(mf_chat *c, const mf_sync_opts *o, mf_sync_result *res)
{
	memset(res, 0, sizeof *res);
	int64_t t0 = mf_now_ms(), deadline = t0 + o->boot_ms;
	unsigned long foreign0 = c->foreign, late0 = c->late;
	c->numeric = 1; /* until V1 is proven: "0" and "4" are finals too */
	int rc = flush_stale(c, o, res);
	int clean = 0;
	if (rc == MF_OK)
		rc = probe_until_answered(c, o, res, deadline, foreign0, &clean);
	mf_reply r;
	if (rc == MF_OK && !clean) {
		act(res, "settle", "ATE1V1Q0");
		rc = command(c, "ATE1V1Q0", o->cmd_ms, &r);
		mf_reply_free(&r);
	}
	if (rc == MF_OK) {
		c->numeric = 0; /* proven: verbose */
		c->echo = 1;
		act(res, "cmee", NULL);
		rc = command(c, "AT+CMEE=1", o->cmd_ms, &r);
		mf_reply_free(&r);
	}
	if (rc == MF_OK && (res->states & MF_SYNC_BOOT))
		rc = wait_sim(c, o, res, deadline);
	if (rc == MF_OK)
		rc = take_owed_result(c, o, res);
	if (rc == MF_OK && foreign_seen(c, foreign0))
		rc = MF_EFOREIGN;
	if (c->late != late0) {
		res->states |= MF_SYNC_LATE;
		res->late = (int)(c->late - late0);
	}
	res->ms = (int)(mf_now_ms() - t0);
	return rc;
}
