/*
** mf_chat.c: AT command engine (see mf_chat.h).
*/
#include "mf_chat.h"
#include "mf_lines.h"
#include "mf_rx.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define STRLIST_MAX (4u << 20) /* a reply bigger than this is garbage */
/* Durations, and why: */
#define OWED_LINE_MS 30000     /* an echo or final that has not come by then never will (echo off) */
#define OWED_RESULT_MIN_MS 30000 /* a result URC: at least this long (the module's own timer) */
#define EARLY_FINAL_GRACE_MS 2000 /* echo believed on, a final came, no echo: echo is off after all */
#define FOREIGN_WINDOW_MS 60000 /* two foreign commands this close: another program is at it */
#define STALE_TRACE_MAX 20     /* stale lines traced one by one per flush; the rest counted */

void mf_strlist_clear(mf_strlist *l)
{
	l->len = 0;
	l->n = 0;
}

void mf_strlist_free(mf_strlist *l)
{
	free(l->buf);
	memset(l, 0, sizeof *l);
}

int mf_strlist_add(mf_strlist *l, const char *s, size_t n)
{
	if (l->len + n + 1 > l->cap) {
		size_t cap = l->cap ? l->cap : 256;
		while (cap < l->len + n + 1)
			cap *= 2;
		if (cap > STRLIST_MAX)
			return MF_EPROTO;
		char *b = realloc(l->buf, cap);
		if (!b)
			return MF_EMEM;
		l->buf = b;
		l->cap = cap;
	}
	memcpy(l->buf + l->len, s, n);
	l->buf[l->len + n] = 0;
	l->len += n + 1;
	l->n++;
	return MF_OK;
}

const char *mf_strlist_next(const mf_strlist *l, const char *prev)
{
	if (!prev)
		return l->n ? l->buf : NULL;
	const char *next = prev + strlen(prev) + 1;
	return next < l->buf + l->len ? next : NULL;
}

int mf_chat_init(mf_chat *c, mf_transport *t)
{
	memset(c, 0, sizeof *c);
	c->buf = malloc(MF_CHAT_BUF);
	c->redact = mf_redactor_new();
	if (!c->buf || !c->redact) {
		free(c->buf);
		mf_redactor_free(c->redact);
		c->buf = NULL;
		c->redact = NULL;
		return MF_EMEM;
	}
	c->t = t;
	mf_at_init(&c->p);
	mf_owed_init(&c->owed);
	c->echo = -1;
	return MF_OK;
}

static long gone_io(mf_transport *t, void *buf, size_t len, int timeout_ms)
{
	(void)buf;
	(void)len;
	(void)timeout_ms;
	snprintf(t->err, sizeof t->err, "the port went away (reopen it)");
	return MF_ECLOSED;
}

static long gone_write(mf_transport *t, const void *buf, size_t len, int timeout_ms)
{
	return gone_io(t, (void *)(uintptr_t)buf, len, timeout_ms);
}

static int gone_ctl(mf_transport *t, int v)
{
	return (int)gone_io(t, NULL, 0, v);
}

static void gone_close(mf_transport *t)
{
	(void)t;
}

static const mf_transport_ops gone_ops = {"gone", gone_io, gone_write, gone_ctl, gone_ctl, gone_ctl, gone_close};

void mf_chat_set_transport(mf_chat *c, mf_transport *t)
{
	if (c->t && c->t != t)
		c->t->ops->close(c->t);
	if (!t) {
		c->gone.ops = &gone_ops;
		t = &c->gone;
	}
	c->t = t;
	c->pos = c->len = 0;
	mf_at_init(&c->p);
	mf_owed_clear(&c->owed);
	c->talking = 0;
}

void mf_chat_free(mf_chat *c)
{
	if (c->t)
		c->t->ops->close(c->t);
	c->t = NULL;
	free(c->buf);
	c->buf = NULL;
	mf_strlist_free(&c->urcs);
	mf_redactor_free(c->redact);
	c->redact = NULL;
}

void mf_reply_init(mf_reply *r)
{
	memset(r, 0, sizeof *r);
	r->cme = -1;
}

void mf_reply_free(mf_reply *r)
{
	mf_strlist_free(&r->info);
}

void mf_chat_trace(mf_chat *c, char dir, const char *text, size_t len)
{
	/* Every line the engine sends or takes passes here: learn its secrets
	** first, whichever way it went (the module prints the password when
	** asked for the account), traced or not (port:redact uses them). */
	mf_redact_learn(c->redact, text, len);
	FILE *out = c->trace_stream ? c->trace_stream(c->trace_ud) : c->trace;
	if (!out)
		return;
	char stamp[32];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
	char *red = malloc(2 * len + 1);
	if (!red)
		return;
	size_t n = mf_redact(c->redact, text, len, red);
	fprintf(out, "%s.%03ld %c %.*s\n", stamp, ts.tv_nsec / 1000000, dir, (int)n, red);
	fflush(out);
	free(red);
}

/* Queue a URC; the oldest goes when the queue is full. */
static void queue_urc(mf_chat *c, const char *line)
{
	if (c->urcs.n >= MF_URC_MAX) {
		const char *first = c->urcs.buf;
		size_t skip = strlen(first) + 1;
		memmove(c->urcs.buf, c->urcs.buf + skip, c->urcs.len - skip);
		c->urcs.len -= skip;
		c->urcs.n--;
		c->urcs_dropped++;
	}
	if (mf_strlist_add(&c->urcs, line, strlen(line)) != MF_OK)
		c->urcs_dropped++;
	else
		c->urcs_total++;
}

/* Read more bytes into the buffer (appending); returns bytes, 0, or MF_E*. */
static long fill(mf_chat *c, int timeout_ms)
{
	if (c->pos == c->len)
		c->pos = c->len = 0;
	else if (c->len == MF_CHAT_BUF) {
		memmove(c->buf, c->buf + c->pos, c->len - c->pos);
		c->len -= c->pos;
		c->pos = 0;
	}
	if (c->len == MF_CHAT_BUF) { /* a read of 0 bytes would look like end of file */
		snprintf(c->err, sizeof c->err, "receive buffer full (%d bytes not taken)", MF_CHAT_BUF);
		return MF_EPROTO;
	}
	long n = c->t->ops->read(c->t, c->buf + c->len, MF_CHAT_BUF - c->len, timeout_ms);
	if (n > 0)
		c->len += (size_t)n;
	else if (n < 0)
		snprintf(c->err, sizeof c->err, "%s", c->t->err);
	return n;
}

/* Basic commands that change what the module's answers look like. */
static int sets_verbose(const char *cmd);

int mf_chat_send(mf_chat *c, const char *cmd, int timeout_ms)
{
	/* What came since the last answer is nobody's answer to this command:
	** late answers, the module's own lines, stale bytes. One read, no wait.
	** (Before the first command there is no last answer: what waits then
	** is the sync's to judge, mf_sync.h.) */
	mf_owed_expire(&c->owed, mf_now_ms());
	if (c->talking) {
		mf_flush f = {0};
		int frc = mf_chat_flush(c, &f);
		if (frc != MF_OK)
			return frc;
	}
	if (sets_verbose(cmd))
		c->numeric = 1; /* ATV0 answers "0": take either form until its OK */
	mf_owed_sent(&c->owed, cmd);
	c->talking = 1;
	size_t n = strlen(cmd);
	char *line = malloc(n + 1);
	if (!line)
		return MF_EMEM;
	memcpy(line, cmd, n);
	line[n] = '\r';
	mf_chat_trace(c, '>', cmd, n); /* learns its secrets too */
	int rc = mf_write_all(c->t, line, n + 1, mf_now_ms() + timeout_ms, NULL);
	c->last_tx_ms = mf_now_ms();
	free(line);
	if (rc != MF_OK)
		snprintf(c->err, sizeof c->err, "%s", c->t->err);
	return rc;
}

static int ends_wait(mf_reply *r, int rc)
{
	r->done = 1;
	r->rc = rc;
	return 1;
}

/* ------------------------------------------------ the module's settings */

/* Walk the basic commands of an AT command line ("ATE1V1Q0", "ATE0;+CMEE=1"):
** fn(letter, value or -1) for each; extended commands are skipped. */
static void basic_commands(const char *cmd, void (*fn)(void *ud, int letter, long v), void *ud)
{
	if (strncasecmp(cmd, "AT", 2) != 0)
		return;
	const char *p = cmd + 2;
	while (*p) {
		if (*p == '+' || *p == '$' || *p == '^') { /* an extended command: to the next ';' */
			int inq = 0;
			while (*p && (inq || *p != ';')) {
				if (*p == '"')
					inq = !inq;
				p++;
			}
			continue;
		}
		if (*p == ';' || *p == ' ') {
			p++;
			continue;
		}
		int amp = *p == '&';
		if (amp && !*++p)
			return;
		int letter = toupper((unsigned char)*p++);
		if (!amp && letter == 'S') { /* Sn=v, Sn? */
			while (isdigit((unsigned char)*p) || *p == '=' || *p == '?')
				p++;
			continue;
		}
		long v = -1;
		if (isdigit((unsigned char)*p)) {
			v = 0;
			while (isdigit((unsigned char)*p))
				v = v * 10 + (*p++ - '0');
		}
		fn(ud, amp ? -letter : letter, v);
	}
}

static void find_v(void *ud, int letter, long v)
{
	(void)v;
	if (letter == 'V')
		*(int *)ud = 1;
}

static int sets_verbose(const char *cmd)
{
	int has_v = 0;
	basic_commands(cmd, find_v, &has_v);
	return has_v;
}

static void note_setting(void *ud, int letter, long v)
{
	mf_chat *c = ud;
	if (letter == 'E')
		c->echo = v > 0; /* ATE is ATE0 */
	else if (letter == 'V')
		c->numeric = v <= 0;
	else if (letter == 'Z') { /* the stored profile: not known here */
		c->echo = -1;
		c->numeric = 1;
	} else if (letter == -'F') { /* the factory profile: echo on, verbose */
		c->echo = 1;
		c->numeric = 0;
	}
}

void mf_chat_note_settings(mf_chat *c, const char *cmd)
{
	basic_commands(cmd, note_setting, c);
}

/* ------------------------------------------------- lines nobody asked for */

/* mf_at_classify, plus the numeric result codes of ATV0 when they may come. */
static mf_line_kind classify(const mf_chat *c, const char *line, const mf_at_ctx *ctx)
{
	if (c->numeric && line[0] >= '0' && line[0] <= '8' && line[1] == 0) {
		static const mf_line_kind digit[] = {MF_LINE_OK, MF_LINE_CONNECT, MF_LINE_URC, MF_LINE_NO_CARRIER,
		                                     MF_LINE_ERROR, MF_LINE_INFO, MF_LINE_NO_CARRIER,
		                                     MF_LINE_NO_CARRIER, MF_LINE_NO_CARRIER};
		return digit[line[0] - '0'];
	}
	return mf_at_classify(line, ctx);
}

static void trace_note(mf_chat *c, const char *what, const char *line)
{
	if (!c->trace)
		return;
	char note[MF_AT_LINE_MAX + 64];
	int n = snprintf(note, sizeof note, "%s: %s", what, line);
	mf_chat_trace(c, '#', note, n < 0 ? 0 : (size_t)n < sizeof note ? (size_t)n : sizeof note - 1);
}

/* A late answer to an abandoned command: dropped. */
static int take_late(mf_chat *c, const char *line)
{
	if (!mf_owed_pay(&c->owed, line, c->numeric))
		return 0;
	c->late++;
	trace_note(c, "late answer, dropped", line);
	return 1;
}

/* A restart: nothing the module owed will come, and its echo is its default
** again (on, unless a stored profile says otherwise). */
static void note_reboot(mf_chat *c)
{
	c->reboots++;
	mf_owed_clear(&c->owed);
	c->echo = -1;
}

/* A command line is text: a "line" of binary payload (a download still
** streaming) that starts with "aT" is none. */
static int is_text(const char *line)
{
	for (const unsigned char *p = (const unsigned char *)line; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			return 0;
	return 1;
}

/* The echo of a command this engine never sent (not one of its last): if
** the module echoes, another program is writing to the port. */
static int note_foreign(mf_chat *c, const char *line)
{
	if (strncasecmp(line, "AT", 2) != 0 || !is_text(line) || mf_owed_is_ours(&c->owed, line))
		return 0;
	/* While echoes of ours are still owed, the module is answering input
	** older than them: a dead host's, held by a stall, not a live program. */
	if (mf_owed_pending(&c->owed) & MF_OWE_ECHO)
		return 0;
	c->foreign++;
	c->foreign_ms[0] = c->foreign_ms[1];
	c->foreign_ms[1] = mf_now_ms();
	snprintf(c->foreign_line, sizeof c->foreign_line, "%.60s", line);
	trace_note(c, "another program's command", line);
	return 1;
}

/* Two foreign commands within a minute, one not reported yet: fail with
** the likely cause and its fix. */
static int foreign_failure(mf_chat *c)
{
	if (c->foreign < 2 || c->foreign == c->foreign_reported ||
	    c->foreign_ms[1] - c->foreign_ms[0] > FOREIGN_WINDOW_MS)
		return 0;
	c->foreign_reported = c->foreign;
	snprintf(c->err, sizeof c->err,
	         "another program is sending AT commands on this port (\"%.40s\"; %lu so far): likely ModemManager. "
	         "Keep it off the AT port: udev rule ENV{ID_MM_PORT_IGNORE}=\"1\", or stop it",
	         c->foreign_line, c->foreign);
	return 1;
}

/* One line that came when no command was waiting (mf_chat_flush). */
static void stale_line(mf_chat *c, const char *line, mf_flush *f)
{
	f->lines++;
	if (take_late(c, line)) {
		f->late++;
		return;
	}
	unsigned cls = mf_line_classes(line, strlen(line));
	if (cls & MF_LC_OWN) {
		mf_chat_trace(c, '<', line, strlen(line));
		if (cls & MF_LC_REBOOT) {
			note_reboot(c);
			f->reboot++;
		}
		queue_urc(c, line);
		f->urcs++;
		return;
	}
	if (mf_owed_is_final(line, 1)) {
		f->finals++;
		if (line[1] == 0)
			f->numeric++;
	}
	if (strcmp(line, "OK") == 0 || (c->numeric && strcmp(line, "0") == 0))
		f->ok++;
	if (c->talking && note_foreign(c, line))
		f->foreign++;
	f->stale++;
	c->stale++;
	if (f->stale <= STALE_TRACE_MAX)
		trace_note(c, "stale, dropped", line);
}

static int junk_partial(const mf_at_parser *p)
{
	if (p->reported || (!p->len && !p->overflow))
		return 0;
	if (p->overflow)
		return 1;
	for (size_t i = 0; i < p->len; i++)
		if ((unsigned char)p->line[i] < 0x20 || (unsigned char)p->line[i] >= 0x7f)
			return 1;
	return 0;
}

int mf_chat_flush(mf_chat *c, mf_flush *f)
{
	int64_t start = mf_now_ms();
	int64_t max_deadline = start + f->max_ms, quiet_deadline = start + f->quiet_ms;
	int rc = MF_OK, last = 0;
	for (;;) {
		while (c->pos < c->len) {
			int ready;
			c->pos += mf_at_feed(&c->p, c->buf + c->pos, c->len - c->pos, &ready);
			if (ready)
				stale_line(c, c->p.line, f);
			if (f->until_ok && (f->ok || f->reboot))
				goto out;
		}
		if (last)
			break;
		if (c->interrupt && *c->interrupt) {
			snprintf(c->err, sizeof c->err, "interrupted");
			rc = MF_EINTR;
			goto out;
		}
		int64_t until = quiet_deadline < max_deadline ? quiet_deadline : max_deadline;
		int left_ms = mf_left_ms(until);
		long n = fill(c, left_ms < MF_INTERRUPT_CHECK_MS ? left_ms : MF_INTERRUPT_CHECK_MS);
		if (n < 0) {
			rc = (int)n;
			goto out;
		}
		if (n > 0) {
			f->bytes += (size_t)n;
			quiet_deadline = mf_now_ms() + f->quiet_ms;
			if (mf_left_ms(max_deadline) == 0) {
				f->busy = f->max_ms > 0; /* still coming: parse what came, then stop */
				last = 1;
			}
		} else if (left_ms == 0) {
			break;
		}
	}
out:
	if (rc == MF_OK && junk_partial(&c->p)) {
		/* A partial line of binary junk (a payload's tail, the echo of file
		** bytes that reached the AT interpreter) would glue itself to the
		** next command's echo: it is stale too. A printable one may be a
		** URC still arriving: kept. */
		f->stale++;
		c->stale++;
		trace_note(c, "partial junk line, dropped", c->p.overflow ? "(overflowed)" : "(binary)");
		mf_at_init(&c->p);
	}
	if (f->stale > STALE_TRACE_MAX && c->trace) {
		char note[80];
		int n = snprintf(note, sizeof note, "%d more stale lines dropped", f->stale - STALE_TRACE_MAX);
		mf_chat_trace(c, '#', note, (size_t)n);
	}
	return rc;
}

/* ------------------------------------------------------ the command's wait */

/* A line that means the module restarted, or lost the data link an FTP
** wait depends on: the module will not answer that wait usefully. */
static int is_fatal_urc(const char *line, const mf_cmd_opts *o)
{
	unsigned cls = mf_line_classes(line, strlen(line));
	if (cls & MF_LC_REBOOT)
		return 1;
	return (cls & MF_LC_PDP_LOST) && o->result && strncmp(o->result, "+QFTP", 5) == 0;
}

/* An unsolicited line during a wait: queued; 1 when it ends the wait. */
static int urc_line(mf_chat *c, const mf_cmd_opts *o, mf_reply *r, const char *line)
{
	if (mf_line_classes(line, strlen(line)) & MF_LC_REBOOT)
		note_reboot(c);
	queue_urc(c, line);
	if (is_fatal_urc(line, o)) {
		snprintf(r->final, sizeof r->final, "%s", line);
		return ends_wait(r, MF_EMODEM);
	}
	return 0;
}

/* The command starts an FTP job: its OK or CONNECT means the last job ended. */
static int starts_job(const mf_cmd_opts *o)
{
	return o->result && strncmp(o->result, "+QFTP", 5) == 0 && !o->result_early;
}

/* A line of the answer proper (after the echo, or echo not required). */
static int handle_answer(mf_chat *c, const char *cmd, const mf_cmd_opts *o, mf_reply *r, const char *line)
{
	mf_at_ctx ctx = {cmd, r->echo_done};
	mf_line_kind k = classify(c, line, &ctx);
	switch (k) {
	case MF_LINE_ECHO:
		r->echo_done = 1;
		mf_owed_echo_seen(&c->owed);
		return 0;
	case MF_LINE_OK:
		if (r->got_final) { /* a stray OK after ours (e.g. after data mode) */
			return 0;
		}
		r->got_final = 1;
		snprintf(r->final, sizeof r->final, "%s", line);
		mf_chat_note_settings(c, cmd);
		if (starts_job(o))
			mf_owed_job_started(&c->owed);
		if (!o->result || r->result[0])
			return ends_wait(r, MF_OK);
		return 0;
	case MF_LINE_ERROR:
	case MF_LINE_CME:
	case MF_LINE_NO_CARRIER:
		snprintf(r->final, sizeof r->final, "%s", line);
		r->got_final = 1;
		r->cme = mf_at_cme_code(line);
		return ends_wait(r, MF_EMODEM);
	case MF_LINE_CONNECT:
		if (o->connect && !r->got_final) {
			snprintf(r->final, sizeof r->final, "%s", line);
			r->connect = 1;
			if (starts_job(o))
				mf_owed_job_started(&c->owed);
			return ends_wait(r, MF_OK);
		}
		break; /* unexpected CONNECT: keep it as info */
	case MF_LINE_INFO:
		if (o->result && mf_at_has_prefix(line, o->result) && !r->result[0] &&
		    (r->got_final || o->result_early || o->connect)) {
			snprintf(r->result, sizeof r->result, "%s", line);
			/* A data-mode command answered by its result alone (no OK, no
			** CONNECT) was refused: the wait is over. */
			if (r->got_final || o->connect)
				return ends_wait(r, MF_OK);
			return 0;
		}
		if (r->got_final) { /* the command is answered: anything else is unsolicited */
			queue_urc(c, line);
			return 0;
		}
		break;
	case MF_LINE_URC:
		return urc_line(c, o, r, line);
	}
	if (mf_strlist_add(&r->info, line, strlen(line)) != MF_OK) {
		snprintf(c->err, sizeof c->err, "reply too long (more than %u bytes of lines)", STRLIST_MAX);
		return ends_wait(r, MF_EPROTO);
	}
	return 0;
}

/* Echo on, the command's echo not seen yet: nothing here answers it. */
static int before_echo(mf_chat *c, const char *cmd, const mf_cmd_opts *o, mf_reply *r, const char *line)
{
	unsigned cls = mf_line_classes(line, strlen(line));
	if (cls & MF_LC_OWN)
		return urc_line(c, o, r, line);
	/* The command's own information lines and one final are kept aside: if
	** no echo ever comes, echo is off after all and they are its answer
	** (the echo, when it comes, drops them). Among other lines (a payload's
	** junk, another program's answers) a final proves nothing. */
	char prefix[32];
	mf_at_prefix(cmd, prefix, sizeof prefix);
	int final = mf_owed_is_final(line, c->numeric);
	if (!final && prefix[0] && mf_at_has_prefix(line, prefix))
		mf_strlist_add(&r->info, line, strlen(line));
	else if (final && !r->early_lines && !r->early_final[0])
		snprintf(r->early_final, sizeof r->early_final, "%s", line);
	else {
		r->early_lines++;
		r->early_final[0] = 0;
	}
	note_foreign(c, line);
	c->stale++;
	trace_note(c, "before the echo, dropped", line);
	return 0;
}

/* cmd's echo: as sent, or with its secrets masked (a recorded transcript
** plays back the echo it recorded, the password as "***" or "\*"). Both
** sides are compared with every quoted secret or run of stars as "\*". */
static int is_echo_of_cmd(mf_chat *c, const char *line, const char *cmd)
{
	if (mf_owed_is_echo_of(line, cmd))
		return 1;
	if (!strchr(line, '*'))
		return 0;
	size_t n = strlen(cmd), ln = strlen(line);
	char *red = malloc(2 * n + 1), *mask = malloc(2 * ln + 1);
	int echo = 0;
	if (red && mask) {
		red[mf_redact(c->redact, cmd, n, red)] = 0;
		size_t o = 0;
		for (size_t i = 0; i < ln;) {
			size_t j = i + 1;
			while (line[i] == '"' && j < ln && (line[j] == '*' || line[j] == '\\'))
				j++;
			if (line[i] == '"' && j > i + 1 && j < ln && line[j] == '"') {
				memcpy(mask + o, "\"\\*\"", 4); /* "***" and "\*" alike */
				o += 4;
				i = j + 1;
			} else {
				mask[o++] = line[i++];
			}
		}
		mask[o] = 0;
		echo = mf_owed_is_echo_of(mask, red);
	}
	free(red);
	free(mask);
	return echo;
}

/* Handle one complete line; returns 1 when the wait is over. */
static int handle_line(mf_chat *c, const char *cmd, const mf_cmd_opts *o, mf_reply *r, const char *line)
{
	mf_chat_trace(c, '<', line, strlen(line));
	if (take_late(c, line))
		return 0;
	if (c->echo == 1 && !r->echo_done) {
		if (!is_echo_of_cmd(c, line, cmd))
			return before_echo(c, cmd, o, r, line);
		r->echo_done = 1;
		r->early_final[0] = 0;
		r->early_lines = 0;
		mf_strlist_clear(&r->info); /* what came before the echo was not its answer */
		mf_owed_echo_seen(&c->owed);
		return 0;
	}
	return handle_answer(c, cmd, o, r, line);
}

/* Parse buffered bytes; 1 when the wait is over. */
static int parse_buffered(mf_chat *c, const char *cmd, const mf_cmd_opts *o, mf_reply *r)
{
	while (c->pos < c->len && !r->done) {
		int ready;
		c->pos += mf_at_feed(&c->p, c->buf + c->pos, c->len - c->pos, &ready);
		if (ready)
			handle_line(c, cmd, o, r, c->p.line);
	}
	return r->done;
}

/* The host stops waiting: what the command still owes may come later. */
static void owe_rest(mf_chat *c, const char *cmd, const mf_cmd_opts *o, const mf_reply *r)
{
	unsigned need = 0;
	if (!r->echo_done && c->echo == 1)
		need |= MF_OWE_ECHO;
	if (!r->got_final && !r->connect)
		need |= MF_OWE_FINAL;
	if (o->result && !r->result[0])
		need |= MF_OWE_RESULT;
	int result_ms = o->result_timeout_ms > OWED_RESULT_MIN_MS ? o->result_timeout_ms : OWED_RESULT_MIN_MS;
	mf_owed_add(&c->owed, cmd, need, o->result, mf_now_ms(), OWED_LINE_MS, result_ms);
}

void mf_chat_owe_result(mf_chat *c, const char *cmd, const char *result, int result_timeout_ms)
{
	for (int i = 0; i < c->owed.n; i++) /* owed already (its wait timed out) */
		if ((c->owed.e[i].need & MF_OWE_RESULT) && !strcmp(c->owed.e[i].result, result) &&
		    !strncmp(c->owed.e[i].cmd, cmd, MF_OWED_CMD_MAX - 1))
			return;
	int result_ms = result_timeout_ms > OWED_RESULT_MIN_MS ? result_timeout_ms : OWED_RESULT_MIN_MS;
	mf_owed_add(&c->owed, cmd, MF_OWE_RESULT, result, mf_now_ms(), OWED_LINE_MS, result_ms);
}

int mf_chat_wait(mf_chat *c, const char *cmd, const mf_cmd_opts *o, mf_reply *r)
{
	int64_t deadline = mf_now_ms() + o->timeout_ms;
	int64_t early_until = 0; /* an early final came: the echo has until then */
	int result_phase = r->got_final;
	if (result_phase)
		deadline = mf_now_ms() + o->result_timeout_ms;
	for (;;) {
		if (parse_buffered(c, cmd, o, r))
			return r->rc;
		if (!result_phase && r->got_final) { /* OK came: now the result URC's deadline */
			result_phase = 1;
			deadline = mf_now_ms() + o->result_timeout_ms;
		}
		if (!r->early_final[0])
			early_until = 0; /* none, or no longer alone */
		else if (!early_until)
			early_until = mf_now_ms() + EARLY_FINAL_GRACE_MS;
		if (early_until && (mf_left_ms(early_until) == 0 || mf_left_ms(deadline) == 0)) {
			/* The echo never came but a final did: the module's echo is off. */
			char line[sizeof r->early_final];
			snprintf(line, sizeof line, "%s", r->early_final);
			r->early_final[0] = 0;
			early_until = 0;
			c->echo = -1;
			r->echo_done = 1;
			r->no_echo = 1;
			trace_note(c, "no echo: taken as the answer", line);
			if (handle_answer(c, cmd, o, r, line))
				return r->rc;
			continue;
		}
		if (c->interrupt && *c->interrupt) {
			owe_rest(c, cmd, o, r);
			snprintf(c->err, sizeof c->err, "interrupted");
			return MF_EINTR;
		}
		int64_t until = early_until && early_until < deadline ? early_until : deadline;
		int left_ms = mf_left_ms(until);
		if (mf_left_ms(deadline) == 0) {
			owe_rest(c, cmd, o, r);
			if (result_phase)
				snprintf(c->err, sizeof c->err, "no %s result within %d ms after OK", o->result,
				         o->result_timeout_ms);
			else
				snprintf(c->err, sizeof c->err, "no final result code within %d ms", o->timeout_ms);
			return MF_ETIMEOUT;
		}
		long n = fill(c, left_ms < MF_INTERRUPT_CHECK_MS ? left_ms : MF_INTERRUPT_CHECK_MS);
		if (n < 0)
			return (int)n;
	}
}

int mf_chat_command(mf_chat *c, const char *cmd, const mf_cmd_opts *o, mf_reply *r)
{
	int rc = mf_chat_send(c, cmd, o->timeout_ms);
	if (rc == MF_OK)
		rc = mf_chat_wait(c, cmd, o, r);
	if (foreign_failure(c))
		return MF_EFOREIGN;
	return rc;
}

int mf_chat_wait_final(mf_chat *c, const char *cmd, int timeout_ms, char *final, size_t cap)
{
	mf_cmd_opts o = {0};
	o.timeout_ms = timeout_ms;
	mf_reply tail;
	mf_reply_init(&tail);
	tail.echo_done = 1;
	int got = mf_chat_wait(c, cmd, &o, &tail) == MF_OK;
	if (got)
		snprintf(final, cap, "%s", tail.final);
	mf_reply_free(&tail);
	return got;
}

int mf_chat_peek(mf_chat *c, const char *cmd, const mf_cmd_opts *o, mf_reply *r)
{
	if (parse_buffered(c, cmd, o, r))
		return 1;
	long n = fill(c, 0);
	if (n < 0)
		return (int)n;
	return parse_buffered(c, cmd, o, r);
}

int mf_chat_poll(mf_chat *c, int timeout_ms)
{
	int64_t deadline = mf_now_ms() + timeout_ms;
	size_t before = c->urcs_total;
	for (;;) {
		while (c->pos < c->len) {
			int ready;
			c->pos += mf_at_feed(&c->p, c->buf + c->pos, c->len - c->pos, &ready);
			if (ready) {
				mf_chat_trace(c, '<', c->p.line, c->p.len);
				if (take_late(c, c->p.line))
					continue;
				if (mf_line_classes(c->p.line, c->p.len) & MF_LC_REBOOT)
					note_reboot(c);
				queue_urc(c, c->p.line);
			}
		}
		if (c->urcs_total > before)
			return MF_OK;
		if (c->interrupt && *c->interrupt)
			return MF_EINTR;
		int left_ms = mf_left_ms(deadline);
		if (left_ms == 0)
			return MF_ETIMEOUT;
		long n = fill(c, left_ms < MF_INTERRUPT_CHECK_MS ? left_ms : MF_INTERRUPT_CHECK_MS);
		if (n < 0)
			return (int)n;
	}
}

int mf_chat_discard(mf_chat *c, int quiet_ms, int max_ms)
{
	int64_t max_deadline = mf_now_ms() + max_ms, quiet_deadline = mf_now_ms() + quiet_ms;
	int dropped = 0;
	for (;;) {
		while (c->pos < c->len) {
			int ready;
			c->pos += mf_at_feed(&c->p, c->buf + c->pos, c->len - c->pos, &ready);
			if (!ready)
				continue;
			mf_chat_trace(c, '<', c->p.line, c->p.len);
			if (mf_at_is_known_urc(c->p.line))
				queue_urc(c, c->p.line);
			else
				dropped++;
		}
		int left_ms = mf_left_ms(quiet_deadline < max_deadline ? quiet_deadline : max_deadline);
		if (left_ms == 0)
			return dropped;
		long n = fill(c, left_ms);
		if (n < 0)
			return dropped;
		if (n > 0) /* the modem spoke: the quiet starts again */
			quiet_deadline = mf_now_ms() + quiet_ms;
	}
}

/* ------------------------------------------- the receive window (mf_rx.h) */

/* The LF of CONNECT's CRLF may come with the first payload read: the
** parser knows (it saw the CR), and only the engine asks it. */
static void skip_connect_lf(mf_chat *c)
{
	if (c->p.after_cr && c->pos < c->len && mf_at_swallow_lf(&c->p, c->buf[c->pos]))
		c->pos++;
}

void mf_chat_rx_window(mf_chat *c, mf_rx_window *w)
{
	skip_connect_lf(c);
	w->data = c->buf + c->pos;
	w->len = c->len - c->pos;
}

void mf_chat_rx_consume(mf_chat *c, size_t n)
{
	c->pos += n < c->len - c->pos ? n : c->len - c->pos;
}

long mf_chat_rx_read(mf_chat *c, size_t consumed, int timeout_ms, mf_rx_window *w)
{
	mf_chat_rx_consume(c, consumed);
	/* What the caller still holds moves to the front (a few hundred bytes
	** in a download), so that the read gets the whole free space. */
	if (c->pos > 0) {
		memmove(c->buf, c->buf + c->pos, c->len - c->pos);
		c->len -= c->pos;
		c->pos = 0;
	}
	long n = fill(c, timeout_ms);
	mf_chat_rx_window(c, w);
	return n;
}

int mf_chat_rx_lines(mf_chat *c, size_t n, const char *cmd, const mf_cmd_opts *o, mf_reply *r)
{
	/* The parser sees exactly those bytes: what follows them (an ack that
	** is no line) stays in the window. */
	size_t len = c->len;
	if (n < c->len - c->pos)
		c->len = c->pos + n;
	int done = parse_buffered(c, cmd, o, r);
	c->len = len;
	return done;
}

/* Queue the URCs among the complete lines in buf[0..n) (the module's own
** lines that came between a download's payload and its trailer); OK lines
** are the download's and dropped. */
static void queue_lines(mf_chat *c, const char *buf, size_t n)
{
	mf_at_parser p;
	mf_at_init(&p);
	for (size_t i = 0; i < n;) {
		int ready;
		i += mf_at_feed(&p, buf + i, n - i, &ready);
		if (ready && strcmp(p.line, "OK") != 0) {
			mf_chat_trace(c, '<', p.line, p.len);
			queue_urc(c, p.line);
		}
	}
}

int mf_chat_rx_end(mf_chat *c, const mf_rx_end *e, char *final, size_t cap)
{
	const char *framing = c->buf + c->pos + e->payload;
	queue_lines(c, framing, e->framing);
	const char *trailer = framing + e->framing;
	size_t n = 0;
	while (n < e->trailer && trailer[n] != '\r' && trailer[n] != '\n')
		n++;
	mf_chat_trace(c, '<', trailer, n);
	mf_chat_rx_consume(c, e->payload + e->framing + e->trailer);
	if (e->ok_wait_ms < 0)
		return 0;
	return mf_chat_wait_final(c, e->cmd, e->ok_wait_ms, final, cap);
}

/* The rest of the read that brought the escape's OK: the module is in
** command mode, so its complete lines are its own. Those of the table (a
** URC, a late result of the aborted transfer) are queued, never left for
** the next command to take as its own result; others are dropped. A line
** still incomplete stays for the next wait. */
static void take_after_ok(mf_chat *c)
{
	size_t end = c->len;
	while (end > c->pos && c->buf[end - 1] != '\r' && c->buf[end - 1] != '\n')
		end--;
	mf_at_init(&c->p);
	while (c->pos < end) {
		int ready;
		c->pos += mf_at_feed(&c->p, c->buf + c->pos, end - c->pos, &ready);
		if (ready) {
			mf_chat_trace(c, '<', c->p.line, c->p.len);
			if (mf_at_is_known_urc(c->p.line))
				queue_urc(c, c->p.line);
		}
	}
	mf_at_init(&c->p);
}

/* The module's own lines after its OK are a few URCs: more is payload. */
#define HELD_LINES_MAX 1024

/* The next complete line of buf[from, len) after its line ends: its text
** in out (cut at cap - 1) and the index after it, or 0 when none is
** complete yet; a line longer than cap is *long. */
static size_t next_line(const char *buf, size_t from, size_t len, char *out, size_t cap, int *long_line)
{
	size_t b = from, e;
	while (b < len && (buf[b] == '\r' || buf[b] == '\n'))
		b++;
	for (e = b; e < len && buf[e] != '\r' && buf[e] != '\n'; e++)
		;
	*long_line = e - b >= cap;
	if (e == len)
		return 0;
	size_t n = e - b < cap ? e - b : cap - 1;
	memcpy(out, buf + b, n);
	out[n] = 0;
	return e + 1;
}

int mf_chat_rx_drop_to_ok(mf_chat *c, int guard_ms, int timeout_ms)
{
	/* The module answers a guard time after "+++" (1 s, the manual), by its
	** own clock and setting, which may be shorter than ours, not below
	** half: an OK in the first half of our guard time is payload still in
	** flight, dropped unparsed. Payload stops when the module leaves data
	** mode, by our full guard time (sure_from): an OK read later is its
	** answer. An OK read between the two may be either (a payload line
	** "OK" just before the module left, or the answer of a module with a
	** shorter guard): it is held, with what follows it kept unconsumed; a
	** later OK replaces it, payload after it cancels it, and the module's
	** first other line read after sure_from confirms it (the module prints
	** its OK first). Nothing after it by the deadline is a timeout: its
	** answer may still come (late), and taking a payload OK would leave that
	** answer to the next command. */
	int64_t now = mf_now_ms(), deadline = now + timeout_ms, ok_from = now + guard_ms / 2,
	        sure_from = now + guard_ms;
	/* Payload, and a partial line glued to it, mean nothing now. */
	c->pos = c->len = 0;
	mf_at_init(&c->p);
	int counting = guard_ms <= 0, held = 0, was_sure = 0;
	size_t scanned = 0; /* held: bytes after c->pos (the held OK) looked at */
	for (;;) {
		int left_ms = mf_left_ms(deadline);
		if (left_ms == 0)
			break;
		if (!counting) {
			/* Until the guard time has passed the module is still in data
			** mode: what comes is payload, an OK in it too. */
			int guard_left_ms = mf_left_ms(ok_from);
			if (guard_left_ms == 0) {
				counting = 1;
				continue;
			}
			long n = fill(c, guard_left_ms < left_ms ? guard_left_ms : left_ms);
			if (n < 0)
				return (int)n;
			/* Bytes that arrive once the guard time is over may hold the
			** answer (the read waited up to that very moment): parse them. */
			if (mf_left_ms(ok_from) > 0) {
				c->pos = c->len = 0;
				continue;
			}
			counting = 1;
		} else {
			/* a partial line after a held OK, read before sure_from, is
			** payload once more bytes come after it */
			int partial = 0;
			for (size_t k = c->pos + scanned; k < c->len && held && !was_sure; k++)
				partial |= c->buf[k] != '\r' && c->buf[k] != '\n';
			long n = fill(c, left_ms);
			if (n < 0)
				return (int)n;
			if (n == 0)
				continue;
			if (partial && (guard_ms <= 0 || mf_now_ms() > sure_from)) {
				held = 0;
				c->pos += scanned;
				mf_at_init(&c->p);
			}
		}
		int sure = guard_ms <= 0 || mf_now_ms() > sure_from;
		was_sure = sure;
		for (int again = 1; again;) { /* the held OK first, then plain parsing */
			again = 0;
			while (held) {
				char line[160];
				int long_line;
				size_t next = next_line(c->buf, c->pos + scanned, c->len, line, sizeof line, &long_line);
				if (!next && !long_line)
					break; /* wait for the rest of the line */
				if (next && strcmp(line, "OK") == 0) {
					c->pos = next; /* a later OK: the held one was payload */
					scanned = 0;
					if (sure) {
						mf_chat_trace(c, '<', "OK", 2);
						take_after_ok(c);
						return MF_OK;
					}
					continue;
				}
				if (next && sure) {
					/* The module's first line after it left data mode is no OK:
					** the held one was its answer. What follows it stays for the
					** next wait, as if it had come in a later read. */
					mf_chat_trace(c, '<', "OK", 2);
					mf_at_init(&c->p);
					return MF_OK;
				}
				if (next && !long_line && mf_at_is_known_urc(line) && next - c->pos <= HELD_LINES_MAX) {
					scanned = next - c->pos;
					continue;
				}
				/* payload after it: the held OK was payload too */
				held = 0;
				c->pos += scanned;
				scanned = 0;
				mf_at_init(&c->p);
			}
			while (!held && c->pos < c->len) {
				int ready;
				c->pos += mf_at_feed(&c->p, c->buf + c->pos, c->len - c->pos, &ready);
				if (!ready || strcmp(c->p.line, "OK") != 0)
					continue; /* Before the OK: payload still in flight, even a
					          ** line that looks like a URC (the module holds its
					          ** URCs in data mode and prints them after the OK) */
				if (sure) {
					mf_chat_trace(c, '<', c->p.line, c->p.len);
					take_after_ok(c);
					return MF_OK;
				}
				held = 1; /* then look at what came with it */
				scanned = 0;
				mf_at_init(&c->p);
				again = 1;
				break;
			}
		}
	}
	mf_at_init(&c->p);
	if (held)
		snprintf(c->err, sizeof c->err,
		         "no answer to +++ after the guard time: an OK came within it (payload, or a module whose "
		         "guard is shorter than %d ms)",
		         guard_ms);
	else
		snprintf(c->err, sizeof c->err, "no OK after +++ (module still in data mode?)");
	return MF_ETIMEOUT;
}
