/*
** ec20sim_line.c: the line engine. It assembles command lines from the
** host's bytes in command mode (echo, backspace, CR), splits a line into
** its commands (several per line: AT+CMEE=2;+QFTPCFG=...), runs the basic
** ones (ATE, ATV, ATQ, ATI, ATZ, AT&F, AT&D, ATS, ATO) itself and hands
** the extended ones to the command tables, then prints the final result
** and the URCs that follow it. A line whose FTP command must wait for the
** worker is kept and run again once the worker is idle.
*/
#include "ec20sim_at.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ----------------------------------------------------------- arguments */

static int parse_args(const char *p, args *A)
{
	char *q = A->buf;
	snprintf(A->buf, sizeof A->buf, "%s", p);
	A->n = 0;
	while (*q == ' ')
		q++;
	if (!*q)
		return 0;
	for (;;) {
		if (A->n >= 16)
			return -1;
		arg *a = &A->a[A->n++];
		memset(a, 0, sizeof *a);
		while (*q == ' ')
			q++;
		if (*q == '"') {
			char *start = ++q, *end = strchr(q, '"');
			if (!end)
				return -1;
			*end = 0;
			a->s = start;
			a->present = a->quoted = 1;
			q = end + 1;
			while (*q == ' ')
				q++;
			if (*q == ',') {
				q++;
				continue;
			}
			if (!*q)
				break;
			return -1;
		}
		char *start = q;
		while (*q && *q != ',')
			q++;
		int more = *q == ',';
		*q = 0;
		char *e = q;
		while (e > start && e[-1] == ' ')
			*--e = 0;
		if (*start) {
			char *end;
			int base = (start[0] == '0' && (start[1] == 'x' || start[1] == 'X')) ? 16 : 10;
			a->present = 1;
			a->s = start;
			errno = 0;
			a->v = strtoll(start, &end, base);
			a->isnum = !errno && *end == 0 && end != start;
		}
		if (!more)
			break;
		q++;
	}
	return 0;
}

int has(const args *A, int i)
{
	return i < A->n && A->a[i].present;
}

/* 0 and *out, or -1: present but not a number in [lo,hi] */
int get_int(const args *A, int i, long long lo, long long hi, long long def, long long *out)
{
	if (!has(A, i)) {
		*out = def;
		return 0;
	}
	const arg *a = &A->a[i];
	if (!a->isnum || a->quoted || a->v < lo || a->v > hi)
		return -1;
	*out = a->v;
	return 0;
}

int get_str(const args *A, int i, size_t maxlen, const char **out)
{
	*out = NULL;
	if (!has(A, i))
		return 0;
	if (strlen(A->a[i].s) > maxlen)
		return -1;
	*out = A->a[i].s;
	return 0;
}

/* a URC that follows this command line's final result code */
void post_urc(sim *s, const char *fmt, ...)
{
	char tmp[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	out_line(s, &s->post, tmp);
}

/* ------------------------------------------------------- command line */

static int exec_basic(sim *s, const char **pp)
{
	const char *p = *pp;
	int c = toupper((unsigned char)*p++);
	int amp = 0;
	long v = -1;
	if (c == '&') {
		amp = 1;
		c = toupper((unsigned char)*p++);
		if (!c) {
			*pp = p - 1;
			return RC_ERROR;
		}
	}
	if (!amp && c == 'S') { /* Sn=v, Sn? */
		char *e;
		long reg = strtol(p, &e, 10);
		if (e == p)
			return RC_ERROR;
		p = e;
		if (*p == '?') {
			p++;
			out_info(s, "%03ld", reg == 3 ? 13L : reg == 4 ? 10L : reg == 5 ? 8L : 0L);
		} else if (*p == '=') {
			strtol(p + 1, &e, 10);
			p = e;
		}
		*pp = p;
		return RC_OK;
	}
	if (isdigit((unsigned char)*p)) {
		char *e;
		v = strtol(p, &e, 10);
		p = e;
	}
	*pp = p;
	if (amp) {
		switch (c) {
		case 'D':
			if (v > 2)
				return RC_ERROR;
			s->dtr_mode = v < 0 ? 0 : (int)v;
			return RC_OK;
		case 'F':
			s->echo = 1;
			s->cmee = 1;
			s->dtr_mode = 2;
			s->verbose = 1;
			return RC_OK;
		case 'C':
		case 'W':
		case 'V':
			return RC_OK;
		default:
			return RC_ERROR;
		}
	}
	switch (c) {
	case 'E':
		if (v > 1)
			return RC_ERROR;
		s->echo = v < 0 ? 0 : (int)v;
		return RC_OK;
	case 'V': /* ATV0: numeric result codes ("0\r"); a bare ATV stays ERROR */
		if (v != 0 && v != 1)
			return RC_ERROR;
		s->verbose = (int)v;
		return RC_OK;
	case 'Q':
		return v <= 0 ? RC_OK : RC_ERROR;
	case 'I':
		if (v > 0)
			return RC_ERROR;
		out_info(s, "%s", s->model->manufacturer ? s->model->manufacturer : "Quectel");
		out_info(s, "%s", s->model->ati_model);
		out_info(s, "Revision: %s", s->model->revision);
		return RC_OK;
	case 'Z':
		s->echo = 1;
		s->cmee = 1;
		s->verbose = s->o.verbose_codes; /* the stored profile */
		return RC_OK;
	case 'X':
	case 'L':
	case 'M':
	case 'H':
		return RC_OK;
	case 'O':
		return resume_download(s);
	default:
		return RC_ERROR;
	}
}

static at_handler find_cmd(const char *name)
{
	static const at_cmd *const tables[] = {cmd_ftp, cmd_file, cmd_net};
	for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
		for (const at_cmd *c = tables[t]; c->name; c++)
			if (!strcasecmp(c->name, name))
				return c->h;
	return NULL;
}

/* Log a command line; never the account password. */
static void log_cmd(sim *s, const char *p)
{
	const char *acct = strcasestr(p, "QFTPCFG=\"account\",");
	const char *pw = acct ? strchr(acct + 19, ',') : NULL;
	if (pw)
		sim_log(s, "cmd %.*s,\"***\"", (int)(pw - p), p);
	else
		sim_log(s, "cmd %s", p);
}

static void exec_line(sim *s, const char *line)
{
	const char *p = line;
	int rc = RC_OK;
	size_t mark = sb_size(&s->out); /* late-reply holds what follows the echo */
	sim_job *before = s->cur;
	while (*p && !(toupper((unsigned char)p[0]) == 'A' && toupper((unsigned char)p[1]) == 'T'))
		p++; /* whatever precedes "AT" is line noise */
	if (!*p)
		return;
	log_cmd(s, p);
	p += 2;
	s->info_open = 0;
	for (;;) {
		while (*p == ' ' || *p == ';')
			p++;
		if (!*p)
			break;
		const char *start = p;
		if (*p == '+' || *p == '$') {
			char name[32];
			const char *q = p + 1;
			size_t k = 0;
			while ((isalnum((unsigned char)*q) || *q == '_') && k + 1 < sizeof name)
				name[k++] = *q++;
			name[k] = 0;
			const char *end = q;
			int inq = 0;
			while (*end && (inq || *end != ';')) {
				if (*end == '"')
					inq = !inq;
				end++;
			}
			char body[SIM_MAX_LINE];
			snprintf(body, sizeof body, "%.*s", (int)(end - q), q);
			int form;
			const char *argstr = "";
			if (!body[0])
				form = F_EXEC;
			else if (!strcmp(body, "=?"))
				form = F_TEST;
			else if (!strcmp(body, "?"))
				form = F_READ;
			else if (body[0] == '=') {
				form = F_WRITE;
				argstr = body + 1;
			} else {
				rc = RC_ERROR;
				break;
			}
			static args A; /* large; never re-entered */
			at_handler h = find_cmd(name);
			if (s->model->gsm && !strncasecmp(name, "QFTP", 4))
				h = NULL; /* another dialect (QFTPUSER, numeric QFTPCFG...): not simulated */
			if (!h || parse_args(argstr, &A) < 0) {
				rc = RC_ERROR;
				break;
			}
			s->info_open = 0;
			rc = h(s, form, &A);
			p = *end ? end + 1 : end;
		} else {
			rc = exec_basic(s, &p);
		}
		if (rc == RC_DEFER) {
			snprintf(s->pending, sizeof s->pending, "AT%s", start);
			s->state = ST_WAIT_IDLE;
			return;
		}
		if (rc != RC_OK)
			break;
	}
	if (rc == RC_OK)
		out_final(s, "OK");
	else if (rc == RC_ERROR)
		out_final(s, "ERROR");
	else if (rc > 0)
		out_cme(s, rc);
	if (sb_size(&s->post)) {
		/* URCs that follow this line's result (also after CONNECT-less
		** failures of COM: commands) */
		sbuf *b = at_in_data_mode(s) ? &s->deferred : &s->out;
		sb_put(b, sb_data(&s->post), sb_size(&s->post));
		sb_clear(&s->post);
	}
	if (s->late_ms > 0 && !s->mute) {
		/* late-reply: the answer, or the result URC of the job the
		** line started, comes late_ms later than it would */
		if (s->cur && s->cur != before)
			s->cur->late_ms = s->late_ms;
		else
			hold_output(s, mark, s->late_ms);
		s->late_ms = 0;
	}
	if (s->reboot_after_line) {
		s->reboot_after_line = 0;
		reboot_module(s, 1);
	}
}

void run_line(sim *s, const char *line)
{
	s->info_open = 0;
	exec_line(s, line);
}

/* Command mode: the host's bytes make a line, echoed as they come; a CR
** runs it. Only one line at a time: its command may change the state, and
** with it what the bytes after the CR are. */
void cmd_bytes(sim *s)
{
	const unsigned char *p = sb_data(&s->in);
	size_t n = sb_size(&s->in), i = 0, from = 0;
	while (i < n) {
		unsigned char c = p[i++];
		if (c == '\r') {
			char l[SIM_MAX_LINE];
			if (s->echo)
				out_raw(s, p + from, i - from); /* echo includes the CR */
			if (!at_in_data_mode(s))
				at_flush_deferred(s); /* URCs raised while the line came in */
			memcpy(l, s->line, s->line_len);
			l[s->line_len] = 0;
			size_t len = s->line_len;
			s->line_len = 0;
			sb_drop(&s->in, i);
			if (len)
				exec_line(s, l);
			return;
		}
		if (c == 8 || c == 127) {
			if (s->line_len)
				s->line_len--;
			continue;
		}
		if ((c == '\n' && s->line_len == 0) || c == 0)
			continue;
		if (s->line_len + 1 < SIM_MAX_LINE)
			s->line[s->line_len++] = (char)c;
	}
	if (s->echo)
		out_raw(s, p + from, n - from);
	sb_drop(&s->in, n);
}

/* The rest of a line that waited (ST_WAIT_IDLE) runs once the worker is idle. */
void run_pending_line(sim *s)
{
	if (s->state != ST_WAIT_IDLE || s->outstanding > 0 || s->parked)
		return;
	char l[SIM_MAX_LINE];
	snprintf(l, sizeof l, "%s", s->pending);
	s->state = ST_CMD;
	exec_line(s, l);
}
