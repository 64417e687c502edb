/*
** mf_owed.c: what the module still owes the host (see mf_owed.h).
*/
#include "mf_owed.h"
#include "mf_at.h"

#include <string.h>

void mf_owed_init(mf_owed *o)
{
	memset(o, 0, sizeof *o);
}

static void copy(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strlen(src) : 0;
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src ? src : "", n);
	dst[n] = 0;
}

/* Remove entry i, keeping the order of the others. */
static void drop(mf_owed *o, int i)
{
	memmove(&o->e[i], &o->e[i + 1], (size_t)(o->n - i - 1) * sizeof o->e[0]);
	o->n--;
}

static void drop_empty(mf_owed *o)
{
	for (int i = o->n - 1; i >= 0; i--)
		if (!o->e[i].need)
			drop(o, i);
}

static int popcount(unsigned v)
{
	int n = 0;
	for (; v; v &= v - 1)
		n++;
	return n;
}

void mf_owed_add(mf_owed *o, const char *cmd, unsigned need, const char *result, int64_t now_ms, int line_ms,
                 int result_ms)
{
	need &= MF_OWE_ECHO | MF_OWE_FINAL | MF_OWE_RESULT;
	if (!result || !*result)
		need &= ~(unsigned)MF_OWE_RESULT;
	if (!need)
		return;
	if (o->n > 0) {
		/* The same wait given up twice (a wait resumed, then abandoned):
		** one command, one set of answers. */
		mf_owed_entry *last = &o->e[o->n - 1];
		if (strncmp(last->cmd, cmd, MF_OWED_CMD_MAX - 1) == 0 && last->since_ms == now_ms) {
			last->need |= need;
			if (need & MF_OWE_RESULT)
				copy(last->result, sizeof last->result, result);
			return;
		}
	}
	if (o->n == MF_OWED_MAX) {
		o->lost += (unsigned long)popcount(o->e[0].need);
		drop(o, 0);
	}
	mf_owed_entry *e = &o->e[o->n++];
	memset(e, 0, sizeof *e);
	copy(e->cmd, sizeof e->cmd, cmd);
	if (need & MF_OWE_RESULT)
		copy(e->result, sizeof e->result, result);
	e->need = need;
	e->since_ms = now_ms;
	e->line_until_ms = now_ms + (line_ms > 0 ? line_ms : 0);
	e->result_until_ms = now_ms + (result_ms > 0 ? result_ms : 0);
}

int mf_owed_is_echo_of(const char *line, const char *cmd)
{
	size_t ln = strlen(line), cn = strlen(cmd);
	if (!cn)
		return 0;
	if (cn >= MF_OWED_CMD_MAX - 1) /* a cut command: its start, anywhere */
		return strstr(line, cmd) != NULL;
	return ln >= cn && memcmp(line + ln - cn, cmd, cn) == 0;
}

int mf_owed_is_final(const char *line, int numeric)
{
	if (numeric && line[0] >= '0' && line[0] <= '8' && line[1] == 0)
		return 1;
	switch (mf_at_classify(line, NULL)) {
	case MF_LINE_OK:
	case MF_LINE_ERROR:
	case MF_LINE_CME:
	case MF_LINE_NO_CARRIER:
	case MF_LINE_CONNECT:
		return 1;
	default:
		return 0;
	}
}

/* Settle the echo and final of entries [0, upto). */
static void settle_lines(mf_owed *o, int upto)
{
	for (int i = 0; i < upto; i++) {
		unsigned lines = o->e[i].need & (MF_OWE_ECHO | MF_OWE_FINAL);
		o->lost += (unsigned long)popcount(lines);
		o->e[i].need &= ~lines;
	}
}

unsigned mf_owed_pay(mf_owed *o, const char *line, int numeric)
{
	unsigned paid = 0;
	int final = -1;
	for (int i = 0; i < o->n && !paid; i++) {
		mf_owed_entry *e = &o->e[i];
		if ((e->need & MF_OWE_ECHO) && mf_owed_is_echo_of(line, e->cmd)) {
			settle_lines(o, i);
			e->need &= ~(unsigned)MF_OWE_ECHO;
			paid = MF_OWE_ECHO;
		} else if ((e->need & MF_OWE_FINAL) && !(e->need & MF_OWE_ECHO) &&
		           (final < 0 ? (final = mf_owed_is_final(line, numeric)) : final)) {
			e->need &= ~(unsigned)MF_OWE_FINAL;
			paid = MF_OWE_FINAL;
		} else if ((e->need & MF_OWE_RESULT) && mf_at_has_prefix(line, e->result)) {
			e->need &= ~(unsigned)MF_OWE_RESULT;
			paid = MF_OWE_RESULT;
		}
	}
	if (paid) {
		o->paid++;
		drop_empty(o);
	}
	return paid;
}

void mf_owed_echo_seen(mf_owed *o)
{
	settle_lines(o, o->n);
	drop_empty(o);
}

void mf_owed_job_started(mf_owed *o)
{
	for (int i = 0; i < o->n; i++) {
		mf_owed_entry *e = &o->e[i];
		if ((e->need & MF_OWE_RESULT) && strncmp(e->result, "+QFTP", 5) == 0) {
			e->need &= ~(unsigned)MF_OWE_RESULT;
			o->lost++;
		}
	}
	drop_empty(o);
}

void mf_owed_clear(mf_owed *o)
{
	for (int i = 0; i < o->n; i++)
		o->lost += (unsigned long)popcount(o->e[i].need);
	o->n = 0;
}

int mf_owed_expire(mf_owed *o, int64_t now_ms)
{
	int n = 0;
	for (int i = 0; i < o->n; i++) {
		mf_owed_entry *e = &o->e[i];
		unsigned gone = 0;
		if (now_ms >= e->line_until_ms)
			gone |= e->need & (MF_OWE_ECHO | MF_OWE_FINAL);
		if (now_ms >= e->result_until_ms)
			gone |= e->need & MF_OWE_RESULT;
		e->need &= ~gone;
		n += popcount(gone);
	}
	o->expired += (unsigned long)n;
	drop_empty(o);
	return n;
}

unsigned mf_owed_pending(const mf_owed *o)
{
	unsigned need = 0;
	for (int i = 0; i < o->n; i++)
		need |= o->e[i].need;
	return need;
}

void mf_owed_sent(mf_owed *o, const char *cmd)
{
	copy(o->sent[o->sent_next], sizeof o->sent[0], cmd);
	o->sent_next = (o->sent_next + 1) % MF_OWED_SENT_MAX;
}

int mf_owed_is_ours(const mf_owed *o, const char *line)
{
	for (int i = 0; i < MF_OWED_SENT_MAX; i++)
		if (o->sent[i][0] && mf_owed_is_echo_of(line, o->sent[i]))
			return 1;
	return 0;
}
