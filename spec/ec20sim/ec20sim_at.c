/*
** ec20sim_at.c: the module's AT side: command-line parsing, every command
** the simulator knows, data mode (CONNECT, payload, '+++' with guard times,
** ATO, DTR) and the order in which results and URCs reach the host.
**
** Ordering rules (EC20 FTP manual): a command is answered OK at once and its
** +QFTPxxx result follows when the FTP work is done; a COM: transfer answers
** CONNECT, the payload, OK, then the result. A COM: transfer that fails
** before CONNECT answers with the result URC alone. URCs never interrupt a
** payload: raised in data mode, they wait until data mode ends.
*/
#include "ec20sim.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { RC_OK = 0, RC_ERROR = -1, RC_NONE = -2, RC_DEFER = -3 };
enum { F_EXEC, F_TEST, F_READ, F_WRITE };
enum { LOC_COM = 1, LOC_RAM = 2 };

typedef struct arg {
	int present, quoted, isnum;
	const char *s;
	long long v;
} arg;

typedef struct args {
	int n;
	arg a[16];
	char buf[SIM_MAX_LINE];
} args;

static void exec_line(sim *s, const char *line);

/* ------------------------------------------------------------- helpers */

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

static int has(const args *A, int i)
{
	return i < A->n && A->a[i].present;
}

/* 0 and *out, or -1: present but not a number in [lo,hi] */
static int get_int(const args *A, int i, long long lo, long long hi, long long def, long long *out)
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

static int get_str(const args *A, int i, size_t maxlen, const char **out)
{
	*out = NULL;
	if (!has(A, i))
		return 0;
	if (strlen(A->a[i].s) > maxlen)
		return -1;
	*out = A->a[i].s;
	return 0;
}

/* cwd + name -> normalised absolute path */
static void resolve(const char *cwd, const char *name, char *out, size_t len)
{
	char tmp[2 * SIM_PATH_MAX + 2];
	char *seg[256];
	int ns = 0;
	char *save = NULL;
	if (name[0] == '/')
		snprintf(tmp, sizeof tmp, "%s", name);
	else
		snprintf(tmp, sizeof tmp, "%s/%s", cwd, name);
	for (char *t = strtok_r(tmp, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		if (!strcmp(t, "."))
			continue;
		if (!strcmp(t, "..")) {
			if (ns)
				ns--;
			continue;
		}
		if (ns < 256)
			seg[ns++] = t;
	}
	size_t o = 0;
	out[0] = 0;
	for (int i = 0; i < ns && o + 2 < len; i++)
		o += (size_t)snprintf(out + o, len - o, "/%s", seg[i]);
	if (o == 0)
		snprintf(out, len, "/");
}

static int parse_local(const char *l, char *ram, size_t len)
{
	if (!strcasecmp(l, "COM:") || !strcasecmp(l, "COM:."))
		return LOC_COM;
	if (!strncasecmp(l, "RAM:", 4) && l[4] && strlen(l) <= 60) {
		snprintf(ram, len, "%s", l + 4);
		return LOC_RAM;
	}
	return -1;
}

static const char *urc_name(int kind)
{
	static const char *n[] = {
		[J_OPEN] = "QFTPOPEN", [J_CLOSE] = "QFTPCLOSE", [J_CWD] = "QFTPCWD",
		[J_PWD] = "QFTPPWD", [J_PUT] = "QFTPPUT", [J_GET] = "QFTPGET",
		[J_LIST] = "QFTPLIST", [J_NLST] = "QFTPNLST", [J_MLSD] = "QFTPMLSD",
		[J_SIZE] = "QFTPSIZE", [J_DEL] = "QFTPDEL", [J_MKDIR] = "QFTPMKDIR",
		[J_RMDIR] = "QFTPRMDIR", [J_RENAME] = "QFTPRENAME", [J_MDTM] = "QFTPMDTM",
	};
	return kind >= 0 && kind <= J_MDTM ? n[kind] : "QFTP";
}

/* a URC that follows this command line's final result code */
static void post_urc(sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void post_urc(sim *s, const char *fmt, ...)
{
	char tmp[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	sb_printf(&s->post, "\r\n%s\r\n", tmp);
}

static void flush_deferred(sim *s)
{
	if (sb_size(&s->deferred)) {
		out_raw(s, sb_data(&s->deferred), sb_size(&s->deferred));
		sb_clear(&s->deferred);
	}
}

static void out_connect(sim *s)
{
	out_raw(s, "\r\nCONNECT\r\n", 11);
	sim_log(s, "at> CONNECT");
}

int at_in_data_mode(const sim *s)
{
	return s->state == ST_DATA_OUT || s->state == ST_DATA_IN;
}

static int is_transfer(int kind)
{
	return kind == J_GET || kind == J_PUT || kind == J_LIST || kind == J_NLST || kind == J_MLSD;
}

/* ------------------------------------------------------- module state */

static void boot_urcs(sim *s)
{
	out_urc(s, "RDY");
	out_urc(s, "+CFUN: 1");
	out_urc(s, "+CPIN: READY");
	out_urc(s, "+QUSIM: 1");
	out_urc(s, "+QIND: SMS DONE");
	out_urc(s, "+QIND: PB DONE");
}

void at_reset(sim *s, int boot)
{
	s->echo = 1;
	s->cmee = 1;
	s->dtr_mode = 2;
	s->ifc[0] = s->ifc[1] = 0;
	s->cgreg = s->creg = s->cereg = 0;
	s->cfun = 1;
	memset(&s->cfg, 0, sizeof s->cfg);
	s->cfg.contextid = 1;
	s->cfg.rsptimeout = 90;
	memset(s->pdp, 0, sizeof s->pdp);
	for (int i = 1; i <= 16; i++)
		s->pdp[i].type = 1;
	s->cgatt = 1;
	s->ftpstat = 4;
	s->host[0] = 0;
	s->port = 21;
	snprintf(s->cwd, sizeof s->cwd, "/");
	s->last_len = 0;
	s->parked = s->await_drain = s->put_after_ok = 0;
	s->plus_n = 0;
	s->upl = NULL;
	ram_clear(s);
	memset(s->fh, 0, sizeof s->fh);
	sb_clear(&s->in);
	sb_clear(&s->held); /* (kept during a stall) */
	s->held_head = s->held_n = 0;
	sb_clear(&s->deferred);
	sb_clear(&s->post);
	s->line_len = 0;
	s->info_open = 0;
	if (boot) {
		s->state = ST_BOOTING;
		s->boot_until = sim_now() + s->o.boot_ms;
	} else {
		s->state = ST_CMD;
	}
}

void at_init(sim *s)
{
	at_reset(s, 0);
	if (s->o.pdp_active)
		s->pdp[1].active = 1;
	if (s->o.boot_urcs)
		boot_urcs(s);
}

/* The FTP session is gone (PDP down, control connection lost). */
static void session_lost(sim *s, int err)
{
	if (s->cur)
		ftp_abort(s, s->cur, err);
	s->parked = 0;
	s->await_drain = 0;
	if (s->ftpstat != 4) {
		ftp_shutdown_all(s);
		s->ftpstat = 4;
		ftp_submit(s, job_new(s, J_RESET));
	}
}

static void do_reboot(sim *s, int keep_out)
{
	sim_log(s, "reboot");
	s->gen++;
	if (s->cur)
		ftp_abort(s, s->cur, -1);
	s->cur = NULL;
	if (s->done) {
		job_free(s->done);
		s->done = NULL;
	}
	ftp_shutdown_all(s);
	ftp_submit(s, job_new(s, J_RESET));
	if (!keep_out)
		sb_clear(&s->out); /* what the UART had not sent yet is lost */
	at_reset(s, 1);
}

void at_reboot(sim *s)
{
	do_reboot(s, 0);
}

void at_pdp_deact(sim *s)
{
	int ctx = s->cfg.contextid;
	if (!s->pdp[ctx].active)
		for (int i = 1; i <= 16; i++)
			if (s->pdp[i].active) {
				ctx = i;
				break;
			}
	s->pdp[ctx].active = 0;
	out_urc(s, "+QIURC: \"pdpdeact\",%d", ctx);
	session_lost(s, 605);
}

/* -------------------------------------------------------- job results */

static void report(sim *s, sim_job *j)
{
	const char *nm = urc_name(j->kind);
	long long n = atomic_load(&j->bytes);
	if (is_transfer(j->kind))
		s->last_len = j->kind == J_PUT && j->to_com ? s->seg_count : n;
	if (!j->to_com && j->kind != J_PUT && is_transfer(j->kind) && (j->err == 0 || j->ram_len)) {
		/* GET/LIST/.. to RAM: the file holds what arrived, even if partial */
		ramfile *f = ram_find(s, j->ram_name);
		if (f)
			ram_delete(s, f);
		f = ram_create(s, j->ram_name);
		if (f)
			ram_append(s, f, j->ram, j->ram_len);
	}
	if (j->err) {
		out_urc(s, "+%s: %d,%d", nm, j->err, j->proto);
	} else {
		switch (j->kind) {
		case J_OPEN:
			snprintf(s->cwd, sizeof s->cwd, "%s", j->value[0] ? j->value : "/");
			out_urc(s, "+%s: 0,0", nm);
			break;
		case J_CWD:
			snprintf(s->cwd, sizeof s->cwd, "%s", j->value);
			out_urc(s, "+%s: 0,0", nm);
			break;
		case J_PWD:
			if (s->o.quirks)
				out_urc(s, "+%s: 0, \"%s\"", nm, j->value);
			else
				out_urc(s, "+%s: 0,%s", nm, j->value);
			break;
		case J_SIZE:
			if (s->o.quirks)
				out_urc(s, "+%s: %s", nm, j->value);
			else
				out_urc(s, "+%s: 0,%s", nm, j->value);
			break;
		case J_MDTM:
			out_urc(s, "+%s: 0,\"%s\"", nm, j->value);
			break;
		case J_PUT:
		case J_GET:
		case J_LIST:
		case J_NLST:
		case J_MLSD:
			out_urc(s, "+%s: 0,%lld", nm, s->last_len);
			break;
		default:
			out_urc(s, "+%s: 0,0", nm);
		}
	}
	if (j->kind == J_OPEN)
		s->ftpstat = j->err ? 4 : 1;
	else if (j->kind == J_CLOSE)
		s->ftpstat = 4;
	else if (s->ftpstat == 2)
		s->ftpstat = 1;
	if ((j->err == 605 || j->err == 606 || j->err == 608 || j->err == 614) && s->ftpstat != 4) {
		s->ftpstat = 4; /* the control connection is gone: no silent re-login */
		ftp_submit(s, job_new(s, J_RESET));
	}
}

static void maybe_resume(sim *s)
{
	if (s->state != ST_WAIT_IDLE || s->outstanding > 0 || s->parked)
		return;
	char l[SIM_MAX_LINE];
	snprintf(l, sizeof l, "%s", s->pending);
	s->state = ST_CMD;
	exec_line(s, l);
}

/* A COM: download is over and its payload is out: OK, then the result. */
static void finish_out(sim *s, sim_job *j)
{
	out_final(s, "OK");
	flush_deferred(s);
	s->state = ST_CMD;
	s->plus_n = 0;
	report(s, j);
	if (s->done == j)
		s->done = NULL;
	if (s->cur == j)
		s->cur = NULL;
	job_free(j);
}

static void on_done(sim *s, sim_job *j)
{
	s->outstanding--;
	if (j != s->cur || j->quiet || atomic_load(&j->abort) < 0) {
		if (j == s->cur)
			s->cur = NULL;
		job_free(j);
		maybe_resume(s);
		return;
	}
	int aborted = atomic_load(&j->abort) != 0;
	switch (s->state) {
	case ST_DATA_OUT:
		/* what the module had received still reaches the host, also when
		** the transfer broke (drop-data, pdpdeact): resumable by count */
		if (ring_len(&s->ring) > 0) {
			s->done = j; /* the rest of the payload first */
			return;
		}
		ring_reset(&s->ring);
		finish_out(s, j);
		maybe_resume(s);
		return;
	case ST_SUSPENDED:
		if (!aborted && ring_len(&s->ring) > 0) {
			s->done = j; /* waits for ATO */
			return;
		}
		ring_reset(&s->ring);
		s->state = ST_CMD;
		report(s, j);
		break;
	case ST_WAIT_CONNECT:
		if (j->err == 0) {
			/* e.g. an empty file: no data connection was ever needed */
			out_connect(s);
			out_final(s, "OK");
		}
		s->state = ST_CMD;
		report(s, j);
		break;
	case ST_DATA_IN:
		if (s->sink == SINK_FTP) {
			/* the upload died while the host was sending */
			out_final(s, "OK");
			flush_deferred(s);
			sb_clear(&s->in);
			s->plus_n = 0;
			s->state = ST_CMD;
		}
		report(s, j);
		break;
	default:
		report(s, j);
	}
	s->await_drain = 0;
	s->parked = 0;
	s->cur = NULL;
	job_free(j);
	maybe_resume(s);
}

void at_on_event(sim *s, sim_event *e)
{
	sim_job *j = e->job;
	switch (e->type) {
	case EV_CONNECT:
		if (j != s->cur || s->state != ST_WAIT_CONNECT)
			return;
		out_connect(s);
		s->last_rx = s->act_t = sim_now();
		s->plus_n = 0;
		if (j->kind == J_PUT) {
			s->state = ST_DATA_IN;
			s->sink = SINK_FTP;
			s->seg_count = 0;
		} else {
			s->state = ST_DATA_OUT;
		}
		break;
	case EV_TRIGGER: {
		char err[200];
		if (sim_ctl_exec(s, e->cmd, err, sizeof err) < 0)
			fprintf(stderr, "ec20sim: after: %s\n", err);
		pthread_mutex_lock(&s->fmu);
		s->trig_ack = 1;
		pthread_cond_broadcast(&s->fcv);
		pthread_mutex_unlock(&s->fmu);
		break;
	}
	case EV_DONE:
		on_done(s, j);
		break;
	}
}

void at_after_output(sim *s)
{
	if (s->done && s->state == ST_DATA_OUT && ring_len(&s->ring) == 0) {
		finish_out(s, s->done);
		maybe_resume(s);
	}
}

/* ----------------------------------------------------------- data mode */

static void put_segment_end(sim *s, int final)
{
	s->plus_n = 0;
	if (final || s->beof) {
		ring_set_eof(&s->ring); /* closes the data connection */
		s->put_after_ok = 1;
	} else {
		s->await_drain = 1; /* +QFTPPUT once the worker took it all */
	}
	out_final(s, "OK");
	flush_deferred(s);
	s->state = ST_CMD;
}

static void flush_plus(sim *s)
{
	if (s->plus_n > 0) {
		ring_write(&s->ring, "+++", (size_t)s->plus_n);
		s->seg_count += s->plus_n;
		s->plus_n = 0;
	}
}

static int seg_full(sim *s)
{
	return s->seg_limit >= 0 && s->seg_count >= s->seg_limit;
}

/* The silence before "+++" as we can measure it. We stamp bytes when we
** read them, later than the host wrote them: by our own scheduling, and by
** whatever waited in the pty (after a stall, behind a busy ring). A pty has no
** output queue the host could drain (TIOCOUTQ is 0), so a host that waited
** exactly the guard time after its last write can look a few ms short. Allow
** a fifth of the guard time for that; "+++" right behind data stays data. */
static int64_t guard_before(const sim *s)
{
	return s->o.guard_ms - s->o.guard_ms / 5;
}

/* Upload payload from the host, with the '+++' escape: "+++" counts only
** after guard-time silence, typed within a guard time, followed by silence.
** Bytes of one read share its arrival time, so only the first byte of a
** read can start an escape; the rest of the read moves in bulk. */
static void data_in_ftp(sim *s)
{
	const unsigned char *p = sb_data(&s->in);
	size_t n = sb_size(&s->in), i = 0;
	int64_t t = s->in_t, guard = s->o.guard_ms;
	while (i < n && s->state == ST_DATA_IN) {
		unsigned char c = p[i];
		if (s->plus_n > 0) {
			if (c == '+' && s->plus_n < 3 && t - s->plus_t0 <= guard) {
				s->plus_n++;
				i++;
				s->last_rx = s->act_t = t;
				if (s->seg_limit >= 0 && s->seg_count + s->plus_n >= s->seg_limit) {
					flush_plus(s); /* these complete the upload: data */
					put_segment_end(s, 0);
				}
				continue;
			}
			flush_plus(s);
		} else if (c == '+' && t - s->last_rx >= guard_before(s)) {
			s->plus_n = 1;
			s->plus_t0 = t;
			s->last_rx = s->act_t = t;
			i++;
			if (s->seg_limit >= 0 && s->seg_count + 1 >= s->seg_limit) {
				flush_plus(s);
				put_segment_end(s, 0);
			}
			continue;
		}
		size_t run = n - i;
		if (s->seg_limit >= 0 && (long long)run > s->seg_limit - s->seg_count)
			run = (size_t)(s->seg_limit - s->seg_count);
		run = ring_write(&s->ring, p + i, run);
		if (run == 0)
			break; /* ring full: wait for the worker */
		i += run;
		s->seg_count += (long long)run;
		s->last_rx = s->act_t = t;
		if (seg_full(s))
			put_segment_end(s, 0);
	}
	sb_drop(&s->in, i);
}

static void finish_file_in(sim *s)
{
	if (s->sink == SINK_QFUPL) {
		ramfile *f = s->upl;
		out_info(s, "+QFUPL: %zu,%x", f ? f->len : 0, f ? ram_checksum(f->data, f->len) : 0);
	} else {
		ramfh *h = &s->fh[s->wfh];
		out_info(s, "+QFWRITE: %lld,%zu", s->seg_count, h->f ? h->f->len : 0);
	}
	out_final(s, "OK");
	s->upl = NULL;
	s->state = ST_CMD;
	flush_deferred(s);
}

/* QFUPL / QFWRITE: exactly <size> bytes, no escape sequence. */
static void data_in_file(sim *s)
{
	size_t n = sb_size(&s->in);
	long long need = s->seg_limit - s->seg_count;
	size_t take = (long long)n < need ? n : (size_t)need;
	const unsigned char *p = sb_data(&s->in);
	if (s->sink == SINK_QFUPL) {
		if (s->upl && ram_append(s, s->upl, p, take) < 0)
			take = 0;
	} else {
		ramfh *h = &s->fh[s->wfh];
		if (h->f && take) {
			size_t end = h->pos + take;
			size_t grow = end > h->f->len ? end - h->f->len : 0;
			if (grow && ram_reserve(s, h->f, grow) < 0) {
				take = 0;
			} else {
				memcpy(h->f->data + h->pos, p, take);
				h->pos = end;
				if (grow) {
					h->f->len = end;
					s->ram_used += grow;
				}
			}
		}
	}
	sb_drop(&s->in, take);
	s->seg_count += (long long)take;
	if (take)
		s->last_rx = s->in_t;
	while (s->ackmode && s->seg_count >= s->ack_next && s->seg_count < s->seg_limit) {
		out_raw(s, "A", 1); /* ACK mode: one 'A' per 1024 bytes taken */
		s->ack_next += 1024;
	}
	if (s->seg_count >= s->seg_limit)
		finish_file_in(s);
}

static void data_out_input(sim *s)
{
	const unsigned char *p = sb_data(&s->in);
	size_t n = sb_size(&s->in);
	int64_t t = s->in_t, guard = s->o.guard_ms;
	for (size_t i = 0; i < n; i++) {
		if (s->plus_n > 0 && p[i] == '+' && s->plus_n < 3 && t - s->plus_t0 <= guard)
			s->plus_n++;
		else if (p[i] == '+' && t - s->last_rx >= guard_before(s)) {
			s->plus_n = 1;
			s->plus_t0 = t;
		} else
			s->plus_n = 0; /* what the host types during a download is dropped */
		s->last_rx = t;
	}
	sb_drop(&s->in, n);
}

static void cmd_bytes(sim *s)
{
	const unsigned char *p = sb_data(&s->in);
	size_t n = sb_size(&s->in), i = 0, from = 0;
	while (i < n) {
		unsigned char c = p[i++];
		if (c == '\r') {
			char l[SIM_MAX_LINE];
			if (s->echo)
				out_raw(s, p + from, i - from); /* echo includes the CR */
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

void at_consume(sim *s)
{
	for (int guard = 0; guard < 1000; guard++) {
		size_t before = sb_size(&s->in);
		int st = s->state;
		if (!before)
			return;
		switch (s->state) {
		case ST_CMD:
		case ST_SUSPENDED:
			cmd_bytes(s);
			break;
		case ST_DATA_IN:
			if (s->sink == SINK_FTP)
				data_in_ftp(s);
			else
				data_in_file(s);
			break;
		case ST_DATA_OUT:
			data_out_input(s);
			break;
		case ST_BOOTING:
			sb_clear(&s->in);
			return;
		default:
			return; /* waiting: the bytes stay queued */
		}
		if (sb_size(&s->in) == before && s->state == st)
			return;
	}
}

size_t at_read_limit(sim *s)
{
	if (s->state == ST_DATA_IN && s->sink == SINK_FTP) {
		size_t sp = ring_space(&s->ring), used = sb_size(&s->in) + 3;
		return sp > used ? sp - used : 0;
	}
	return 64 * 1024;
}

void at_dtr_drop(sim *s)
{
	if (s->dtr_mode == 0)
		return;
	if (s->state == ST_DATA_IN && s->sink == SINK_FTP) {
		sim_log(s, "DTR drop: upload ends");
		flush_plus(s);
		put_segment_end(s, 1);
	} else if (s->state == ST_DATA_OUT) {
		if (s->dtr_mode == 1 || s->done) {
			sim_log(s, "DTR drop: leaving data mode");
			s->plus_n = 0;
			s->state = ST_SUSPENDED;
			out_final(s, "OK");
			flush_deferred(s);
		} else {
			sim_log(s, "DTR drop (&D2): transfer aborted");
			ftp_abort(s, s->cur, 616);
			s->plus_n = 0;
			s->state = ST_SUSPENDED; /* the job's end reports */
			out_final(s, "OK");
			flush_deferred(s);
		}
	}
}

void at_tick(sim *s)
{
	int64_t now = sim_now(), guard = s->o.guard_ms;
	if (s->state == ST_BOOTING && now >= s->boot_until) {
		s->state = ST_CMD;
		boot_urcs(s);
	}
	if (s->state == ST_DATA_IN && s->sink == SINK_FTP) {
		if (ring_len(&s->ring) > 0 || sb_size(&s->in) > 0)
			s->act_t = now; /* we, not the host, are behind */
		if (s->plus_n == 3 && now - s->last_rx >= guard) {
			sim_log(s, "+++: upload ends");
			put_segment_end(s, 1);
		} else if (s->plus_n > 0 && s->plus_n < 3 && now - s->plus_t0 > guard) {
			flush_plus(s);
			if (seg_full(s))
				put_segment_end(s, 0);
		} else if (s->plus_n == 0 && now - s->act_t > sim_rsp_ms(s)) {
			sim_log(s, "host silent for rsptimeout: upload fails");
			ftp_abort(s, s->cur, 609);
			out_final(s, "OK");
			flush_deferred(s);
			s->state = ST_CMD;
		}
	} else if (s->state == ST_DATA_IN && now >= s->upl_deadline) {
		finish_file_in(s); /* QFUPL/QFWRITE timeout: keep what came */
	} else if (s->state == ST_DATA_OUT) {
		if (s->plus_n == 3 && now - s->last_rx >= guard) {
			sim_log(s, "+++: leaving data mode");
			s->plus_n = 0;
			s->state = ST_SUSPENDED;
			out_final(s, "OK");
			flush_deferred(s);
		} else if (s->plus_n > 0 && s->plus_n < 3 && now - s->plus_t0 > guard) {
			s->plus_n = 0;
		}
	}
	if (s->await_drain && s->cur && ring_len(&s->ring) == 0) {
		s->await_drain = 0;
		s->last_len = s->seg_count;
		out_urc(s, "+QFTPPUT: 0,%lld", s->seg_count);
		s->parked = 1;
		s->parked_end += s->seg_count;
	}
	at_after_output(s);
	maybe_resume(s);
}

int64_t at_next_deadline(sim *s)
{
	int64_t g = s->o.guard_ms;
	switch (s->state) {
	case ST_BOOTING:
		return s->boot_until;
	case ST_DATA_IN:
		if (s->sink != SINK_FTP)
			return s->upl_deadline;
		/* fall through */
	case ST_DATA_OUT:
		if (s->plus_n == 3)
			return s->last_rx + g;
		if (s->plus_n > 0)
			return s->plus_t0 + g + 1;
		if (s->state == ST_DATA_IN)
			return s->act_t + sim_rsp_ms(s) + 1;
		return -1;
	default:
		return -1;
	}
}

/* ------------------------------------------------------ FTP commands */

static void end_parked(sim *s)
{
	if (!s->parked)
		return;
	ring_set_eof(&s->ring);
	if (s->cur)
		s->cur->quiet = 1; /* its segments were all reported */
	s->parked = 0;
}

/* May a new FTP job start? 0 yes, RC_DEFER: later, >0: +CME ERROR. */
static int ftp_ready(sim *s, int closing)
{
	if (s->parked) {
		end_parked(s);
		return RC_DEFER;
	}
	if (s->state == ST_SUSPENDED && s->done) {
		/* The host left a download (+++, DTR) whose data the worker has
		** all fetched: the transfer is still on (QFTPSTAT 2, ATO resumes
		** it), so FTP commands are busy; QFTPCLOSE aborts it (616). (Other
		** commands used to become the suspended job and never answered.) */
		if (!closing)
			return 603;
		sim_job *j = s->done;
		ring_reset(&s->ring);
		s->done = NULL;
		if (s->cur == j)
			s->cur = NULL;
		s->state = ST_CMD;
		j->err = 616;
		j->proto = 0;
		report(s, j);
		job_free(j);
		if (s->outstanding == 0)
			return 0;
	}
	if (s->outstanding == 0)
		return 0;
	if (!s->cur)
		return RC_DEFER; /* housekeeping jobs are finishing */
	if (closing) {
		ftp_abort(s, s->cur, 616);
		return RC_DEFER;
	}
	return 603;
}

static int session_open(const sim *s)
{
	return s->ftpstat == 1 || s->ftpstat == 2;
}

static int submit_simple(sim *s, int kind, const char *p1, const char *p2)
{
	int r = ftp_ready(s, 0);
	if (r)
		return r;
	if (!session_open(s)) {
		post_urc(s, "+%s: 606,0", urc_name(kind));
		return RC_OK;
	}
	sim_job *j = job_new(s, kind);
	if (!j)
		return 601;
	if (p1)
		resolve(s->cwd, p1, j->path, sizeof j->path);
	if (p2)
		resolve(s->cwd, p2, j->path2, sizeof j->path2);
	s->cur = j;
	ftp_submit(s, j);
	return RC_OK;
}

static int c_qftpcfg(sim *s, int f, args *A)
{
	static const struct { const char *name; long long lo, hi; size_t off; } t[] = {
		{"filetype", 0, 1, offsetof(sim_cfg, filetype)},
		{"transmode", 0, 1, offsetof(sim_cfg, transmode)},
		{"contextid", 1, 16, offsetof(sim_cfg, contextid)},
		{"rsptimeout", 20, 180, offsetof(sim_cfg, rsptimeout)},
		{"ssltype", 0, 1, offsetof(sim_cfg, ssltype)},
		{"sslctxid", 0, 5, offsetof(sim_cfg, sslctxid)},
	};
	if (f == F_TEST) {
		out_info(s, "+QFTPCFG: \"account\",<username>,<password>");
		out_info(s, "+QFTPCFG: \"filetype\",(0,1)");
		out_info(s, "+QFTPCFG: \"transmode\",(0,1)");
		out_info(s, "+QFTPCFG: \"contextid\",(1-16)");
		out_info(s, "+QFTPCFG: \"rsptimeout\",(20-180)");
		out_info(s, "+QFTPCFG: \"ssltype\",(0,1)");
		out_info(s, "+QFTPCFG: \"sslctxid\",(0-5)");
		return RC_OK;
	}
	if (f == F_READ) {
		out_info(s, "+QFTPCFG: \"account\",\"%s\",\"%s\"", s->cfg.user, s->cfg.pass);
		for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
			out_info(s, "+QFTPCFG: \"%s\",%d", t[i].name,
			         *(int *)((char *)&s->cfg + t[i].off));
		return RC_OK;
	}
	if (f != F_WRITE)
		return RC_ERROR;
	if (!has(A, 0) || !A->a[0].quoted)
		return 610;
	const char *nm = A->a[0].s;
	if (!strcasecmp(nm, "account")) {
		const char *u, *p;
		if (A->n == 1) {
			out_info(s, "+QFTPCFG: \"account\",\"%s\",\"%s\"", s->cfg.user, s->cfg.pass);
			return RC_OK;
		}
		if (A->n != 3 || get_str(A, 1, 255, &u) < 0 || get_str(A, 2, 255, &p) < 0 || !u || !p)
			return 610;
		snprintf(s->cfg.user, sizeof s->cfg.user, "%s", u);
		snprintf(s->cfg.pass, sizeof s->cfg.pass, "%s", p);
		return RC_OK;
	}
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		if (strcasecmp(nm, t[i].name))
			continue;
		int *field = (int *)((char *)&s->cfg + t[i].off);
		long long v;
		if (A->n == 1) {
			out_info(s, "+QFTPCFG: \"%s\",%d", t[i].name, *field);
			return RC_OK;
		}
		if (A->n != 2 || !has(A, 1) || get_int(A, 1, t[i].lo, t[i].hi, 0, &v) < 0)
			return 610;
		*field = (int)v;
		return RC_OK;
	}
	return 610;
}

static int c_qftpopen(sim *s, int f, args *A)
{
	const char *host;
	long long port;
	if (f == F_TEST) {
		out_info(s, "+QFTPOPEN: <hostname>,<port>");
		return RC_OK;
	}
	if (f != F_WRITE)
		return RC_ERROR;
	if (get_str(A, 0, 200, &host) < 0 || !host || !*host || get_int(A, 1, 1, 65535, 21, &port) < 0 ||
	    A->n > 2)
		return 610;
	if (session_open(s))
		return 603;
	int r = ftp_ready(s, 0);
	if (r)
		return r;
	if (!s->pdp[s->cfg.contextid].active || !s->cgatt) {
		post_urc(s, "+QFTPOPEN: 605,0");
		return RC_OK;
	}
	if (!s->o.allow_remote && !host_is_loopback(host)) {
		/* safety: the simulator only ever talks to this machine */
		sim_log(s, "refusing non-loopback host (no --allow-remote)");
		post_urc(s, "+QFTPOPEN: 604,0");
		return RC_OK;
	}
	snprintf(s->host, sizeof s->host, "%s", host);
	if (s->host[0] == '[') { /* [::1] -> ::1 */
		size_t n = strlen(s->host);
		memmove(s->host, s->host + 1, n);
		if (n >= 2 && s->host[n - 2] == ']')
			s->host[n - 2] = 0;
	}
	s->port = (int)port;
	sim_job *j = job_new(s, J_OPEN);
	if (!j)
		return 601;
	s->ftpstat = 0;
	s->cur = j;
	ftp_submit(s, j);
	return RC_OK;
}

static int c_qftpclose(sim *s, int f, args *A)
{
	(void)A;
	if (f == F_TEST)
		return RC_OK;
	if (f != F_EXEC)
		return RC_ERROR;
	int r = ftp_ready(s, 1);
	if (r)
		return r;
	if (s->ftpstat == 4) {
		post_urc(s, "+QFTPCLOSE: 0,0");
		return RC_OK;
	}
	sim_job *j = job_new(s, J_CLOSE);
	if (!j)
		return 601;
	s->ftpstat = 3;
	s->cur = j;
	ftp_submit(s, j);
	return RC_OK;
}

/* Commands of the form AT+QFTPXXX=<name> */
static int one_name(sim *s, int f, args *A, int kind, const char *test)
{
	const char *name;
	if (f == F_TEST) {
		out_info(s, "%s", test);
		return RC_OK;
	}
	if (f != F_WRITE)
		return RC_ERROR;
	if (A->n != 1 || get_str(A, 0, 255, &name) < 0 || !name || !*name)
		return 610;
	return submit_simple(s, kind, name, NULL);
}

static int c_qftpcwd(sim *s, int f, args *A)
{
	return one_name(s, f, A, J_CWD, "+QFTPCWD: <path_name>");
}

static int c_qftpsize(sim *s, int f, args *A)
{
	return one_name(s, f, A, J_SIZE, "+QFTPSIZE: <file_name>");
}

static int c_qftpdel(sim *s, int f, args *A)
{
	return one_name(s, f, A, J_DEL, "+QFTPDEL: <file_name>");
}

static int c_qftpmkdir(sim *s, int f, args *A)
{
	return one_name(s, f, A, J_MKDIR, "+QFTPMKDIR: <folder_name>");
}

static int c_qftprmdir(sim *s, int f, args *A)
{
	return one_name(s, f, A, J_RMDIR, "+QFTPRMDIR: <folder_name>");
}

static int c_qftpmdtm(sim *s, int f, args *A)
{
	return one_name(s, f, A, J_MDTM, "+QFTPMDTM: <file_name>");
}

static int c_qftppwd(sim *s, int f, args *A)
{
	(void)A;
	if (f == F_TEST)
		return RC_OK;
	if (f != F_EXEC)
		return RC_ERROR;
	return submit_simple(s, J_PWD, s->cwd, NULL);
}

static int c_qftprename(sim *s, int f, args *A)
{
	const char *a, *b;
	if (f == F_TEST) {
		out_info(s, "+QFTPRENAME: <old_name>,<new_name>");
		return RC_OK;
	}
	if (f != F_WRITE)
		return RC_ERROR;
	if (A->n != 2 || get_str(A, 0, 255, &a) < 0 || get_str(A, 1, 255, &b) < 0 || !a || !b || !*a ||
	    !*b)
		return 610;
	return submit_simple(s, J_RENAME, a, b);
}

static long long live_len(sim *s)
{
	if (s->cur && is_transfer(s->cur->kind)) {
		if (s->cur->kind == J_PUT && s->cur->to_com)
			return s->seg_count;
		return atomic_load(&s->cur->bytes);
	}
	return s->last_len;
}

static int c_qftplen(sim *s, int f, args *A)
{
	(void)A;
	if (f == F_TEST)
		return RC_OK;
	if (f != F_EXEC)
		return RC_ERROR;
	if (s->o.quirks)
		out_info(s, "+QFTPLEN: 0,%lld", live_len(s));
	else
		post_urc(s, "+QFTPLEN: 0,%lld", live_len(s));
	return RC_OK;
}

static int c_qftpstat(sim *s, int f, args *A)
{
	(void)A;
	if (f == F_TEST)
		return RC_OK;
	if (f != F_EXEC)
		return RC_ERROR;
	int st = s->ftpstat;
	if (s->parked)
		st = 2;
	if (s->o.quirks)
		out_info(s, "+QFTPSTAT: 0,%d", st);
	else
		post_urc(s, "+QFTPSTAT: 0,%d", st);
	return RC_OK;
}

static int start_get(sim *s, int kind, const char *name, int loc, const char *ram, long long startpos,
                     long long limit)
{
	int r = ftp_ready(s, 0);
	if (r)
		return r;
	if (!session_open(s)) {
		if (loc == LOC_COM) {
			out_urc(s, "+%s: 606,0", urc_name(kind));
			return RC_NONE;
		}
		post_urc(s, "+%s: 606,0", urc_name(kind));
		return RC_OK;
	}
	sim_job *j = job_new(s, kind);
	if (!j)
		return 601;
	resolve(s->cwd, name, j->path, sizeof j->path);
	j->startpos = startpos;
	j->limit = limit > 0 ? limit : -1;
	s->cur = j;
	s->ftpstat = 2;
	if (loc == LOC_COM) {
		j->to_com = 1;
		ring_reset(&s->ring);
		s->state = ST_WAIT_CONNECT;
		s->data_kind = kind;
		ftp_submit(s, j);
		return RC_NONE;
	}
	snprintf(j->ram_name, sizeof j->ram_name, "%s", ram);
	ramfile *old = ram_find(s, ram);
	j->ram_limit = s->o.ram_size - s->ram_used + (old ? old->len : 0);
	ftp_submit(s, j);
	return RC_OK;
}

static int c_qftpget(sim *s, int f, args *A)
{
	const char *name, *local;
	long long sp, dl;
	char ram[64];
	if (f == F_TEST) {
		out_info(s, "+QFTPGET: <file_name>,<local_name>,<startpos>,<downloadlen>");
		return RC_OK;
	}
	if (f != F_WRITE)
		return RC_ERROR;
	if (A->n > 4 || get_str(A, 0, 255, &name) < 0 || !name || !*name || get_str(A, 1, 60, &local) < 0 ||
	    !local || get_int(A, 2, 0, LLONG_MAX, 0, &sp) < 0 || get_int(A, 3, 0, LLONG_MAX, 0, &dl) < 0)
		return 610;
	int loc = parse_local(local, ram, sizeof ram);
	if (loc < 0 || (loc == LOC_RAM && has(A, 3)))
		return 610;
	return start_get(s, J_GET, name, loc, ram, sp, dl);
}

static int list_cmd(sim *s, int f, args *A, int kind, const char *test)
{
	const char *dir, *local = "COM:";
	char ram[64];
	if (f == F_TEST) {
		out_info(s, "%s", test);
		return RC_OK;
	}
	if (f != F_WRITE)
		return RC_ERROR;
	if (A->n > 2 || get_str(A, 0, 255, &dir) < 0 || get_str(A, 1, 60, &local) < 0)
		return 610;
	if (!local)
		local = "COM:";
	if (!dir || !*dir)
		dir = "."; /* chapter 3 lists the current directory with "" */
	int loc = parse_local(local, ram, sizeof ram);
	if (loc < 0)
		return 610;
	return start_get(s, kind, dir, loc, ram, 0, -1);
}

static int c_qftplist(sim *s, int f, args *A)
{
	/* the manual prints this test response with a space after the comma */
	return list_cmd(s, f, A, J_LIST, "+QFTPLIST: <dirname>, <local_name>");
}

static int c_qftpnlst(sim *s, int f, args *A)
{
	return list_cmd(s, f, A, J_NLST, "+QFTPNLST: <dirname>,<local_name>");
}

static int c_qftpmlsd(sim *s, int f, args *A)
{
	return list_cmd(s, f, A, J_MLSD, "+QFTPMLSD: <dirname>,<local_name>");
}

static void begin_put_segment(sim *s, long long startpos, long long limit, int beof)
{
	s->seg_count = 0;
	s->seg_limit = limit;
	s->beof = beof;
	s->parked_end = startpos;
	s->put_after_ok = 0;
}

static int c_qftpput(sim *s, int f, args *A)
{
	const char *name, *local;
	long long sp, ul, beof;
	char ram[64], path[SIM_PATH_MAX];
	if (f == F_TEST) {
		out_info(s, "+QFTPPUT: <file_name>,<local_name>,<startpos>,<uploadlen>,<beof>");
		return RC_OK;
	}
	if (f != F_WRITE)
		return RC_ERROR;
	if (A->n > 5 || get_str(A, 0, 255, &name) < 0 || !name || !*name || get_str(A, 1, 60, &local) < 0 ||
	    !local || get_int(A, 2, 0, LLONG_MAX, 0, &sp) < 0 || get_int(A, 3, 0, LLONG_MAX, -1, &ul) < 0 ||
	    get_int(A, 4, 0, 1, 1, &beof) < 0)
		return 610;
	int loc = parse_local(local, ram, sizeof ram);
	if (loc < 0 || (loc == LOC_RAM && (has(A, 3) || has(A, 4))) || (has(A, 4) && !has(A, 3)))
		return 610;
	resolve(s->cwd, name, path, sizeof path);
	if (loc == LOC_COM && s->parked && !strcmp(path, s->parked_file) && sp == s->parked_end &&
	    s->cur) {
		/* beof=0 before: the data connection is still open, go on */
		s->parked = 0;
		begin_put_segment(s, sp, ul, (int)beof);
		s->state = ST_DATA_IN;
		s->sink = SINK_FTP;
		s->ftpstat = 2;
		out_connect(s);
		s->last_rx = s->act_t = sim_now();
		s->plus_n = 0;
		if (seg_full(s))
			put_segment_end(s, 0);
		return RC_NONE;
	}
	int r = ftp_ready(s, 0);
	if (r)
		return r;
	ramfile *rf = NULL;
	if (loc == LOC_RAM) {
		rf = ram_find(s, ram);
		if (!rf)
			return 611;
		if ((size_t)sp > rf->len)
			return 612;
	}
	if (!session_open(s)) {
		if (loc == LOC_COM) {
			out_urc(s, "+QFTPPUT: 606,0");
			return RC_NONE;
		}
		post_urc(s, "+QFTPPUT: 606,0");
		return RC_OK;
	}
	sim_job *j = job_new(s, J_PUT);
	if (!j)
		return 601;
	snprintf(j->path, sizeof j->path, "%s", path);
	j->startpos = sp;
	s->cur = j;
	s->ftpstat = 2;
	if (loc == LOC_COM) {
		j->to_com = 1;
		ring_reset(&s->ring);
		begin_put_segment(s, sp, ul, (int)beof);
		snprintf(s->parked_file, sizeof s->parked_file, "%s", path);
		s->state = ST_WAIT_CONNECT;
		s->data_kind = J_PUT;
		ftp_submit(s, j);
		return RC_NONE;
	}
	j->ram_len = rf->len - (size_t)sp;
	j->ram = malloc(j->ram_len ? j->ram_len : 1);
	if (!j->ram) {
		s->cur = NULL;
		job_free(j);
		return 601;
	}
	memcpy(j->ram, rf->data + sp, j->ram_len);
	ftp_submit(s, j);
	return RC_OK;
}

/* ---------------------------------------------------- RAM file commands */

static int ram_name(const char *full, char *out, size_t len)
{
	if (!full || strncasecmp(full, "RAM:", 4) || !full[4] || strlen(full) > 80)
		return -1;
	snprintf(out, len, "%s", full + 4);
	return 0;
}

static int c_qfupl(sim *s, int f, args *A)
{
	const char *full;
	char name[64];
	long long size, tmo, ack;
	if (f == F_TEST) {
		out_info(s, "+QFUPL: <filename>[,<file_size>[,<timeout>[,<ackmode>]]]");
		return RC_OK;
	}
	if (f != F_WRITE)
		return RC_ERROR;
	if (get_str(A, 0, 80, &full) < 0 || ram_name(full, name, sizeof name) < 0)
		return 400;
	if (get_int(A, 1, 0, LLONG_MAX, 10240, &size) < 0 || get_int(A, 2, 1, 65535, 5, &tmo) < 0 ||
	    get_int(A, 3, 0, 1, 0, &ack) < 0)
		return 400;
	if (ram_find(s, name))
		return 407;
	if (s->ram_used + (size_t)size > s->o.ram_size)
		return 420;
	s->upl = ram_create(s, name);
	if (!s->upl)
		return 420;
	s->sink = SINK_QFUPL;
	s->seg_count = 0;
	s->seg_limit = size;
	s->ackmode = (int)ack;
	s->ack_next = 1024;
	s->upl_deadline = sim_now() + tmo * 1000;
	s->state = ST_DATA_IN;
	out_connect(s);
	if (size == 0)
		finish_file_in(s);
	return RC_NONE;
}

static int list_match(const char *pat, const char *name)
{
	if (!*pat || !strcmp(pat, "*") || !strcmp(pat, ".*") || !strcmp(pat, "?") || !strcmp(pat, "."))
		return 1; /* chapter 3 writes "RAM:*", "RAM:.*", "RAM:?" and "RAM:." alike */
	return fnmatch(pat, name, 0) == 0;
}

static int c_qflst(sim *s, int f, args *A)
{
	const char *pat = "RAM:*";
	if (f == F_TEST)
		return RC_OK;
	if (f == F_WRITE && (get_str(A, 0, 80, &pat) < 0 || !pat))
		return 400;
	if (f != F_WRITE && f != F_EXEC)
		return RC_ERROR;
	if (f == F_EXEC || !strcmp(pat, "*"))
		pat = "RAM:*";
	if (strncasecmp(pat, "RAM:", 4))
		return RC_OK; /* no other drive has files here */
	/* oldest first, like a directory listing */
	ramfile *v[256];
	int n = 0;
	for (ramfile *r = s->ram; r && n < 256; r = r->next)
		v[n++] = r;
	for (int i = n - 1; i >= 0; i--)
		if (list_match(pat + 4, v[i]->name))
			out_info(s, "+QFLST: \"RAM:%s\",%zu", v[i]->name, v[i]->len);
	return RC_OK;
}

static int c_qfdel(sim *s, int f, args *A)
{
	const char *full;
	char name[64];
	if (f == F_TEST)
		return RC_OK;
	if (f != F_WRITE || get_str(A, 0, 80, &full) < 0 || !full)
		return f == F_WRITE ? 400 : RC_ERROR;
	if (!strcmp(full, "*") || !strcasecmp(full, "RAM:*")) {
		if (!strcmp(full, "*"))
			return RC_OK;
		ram_clear(s);
		return RC_OK;
	}
	if (ram_name(full, name, sizeof name) < 0)
		return 405;
	ramfile *r = ram_find(s, name);
	if (!r)
		return 405;
	ram_delete(s, r);
	return RC_OK;
}

static int c_qfdwl(sim *s, int f, args *A)
{
	const char *full;
	char name[64];
	if (f == F_TEST)
		return RC_OK;
	if (f != F_WRITE || get_str(A, 0, 80, &full) < 0 || !full)
		return f == F_WRITE ? 400 : RC_ERROR;
	if (ram_name(full, name, sizeof name) < 0)
		return 405;
	ramfile *r = ram_find(s, name);
	if (!r)
		return 405;
	out_connect(s);
	out_raw(s, r->data, r->len);
	out_info(s, "+QFDWL: %zu,%x", r->len, ram_checksum(r->data, r->len));
	out_final(s, "OK");
	return RC_NONE;
}

static int fh_get(sim *s, const args *A, int i)
{
	long long v;
	if (get_int(A, i, 1024, 1024 + SIM_MAX_FH - 1, -1, &v) < 0 || v < 0 || !s->fh[v - 1024].f)
		return -1;
	return (int)(v - 1024);
}

static int c_qfopen(sim *s, int f, args *A)
{
	const char *full;
	char name[64];
	long long mode;
	if (f == F_TEST)
		return RC_OK;
	if (f != F_WRITE)
		return RC_ERROR;
	if (get_str(A, 0, 80, &full) < 0 || ram_name(full, name, sizeof name) < 0 ||
	    get_int(A, 1, 0, 2, 0, &mode) < 0)
		return 400;
	ramfile *r = ram_find(s, name);
	if (!r && mode == 2)
		return 405;
	int slot = -1;
	for (int i = 0; i < SIM_MAX_FH; i++)
		if (!s->fh[i].f) {
			slot = i;
			break;
		}
	if (slot < 0)
		return 413;
	if (!r && !(r = ram_create(s, name)))
		return 420;
	if (mode == 1) {
		s->ram_used -= r->len;
		r->len = 0;
	}
	s->fh[slot].f = r;
	s->fh[slot].pos = 0;
	s->fh[slot].mode = (int)mode;
	out_info(s, "+QFOPEN: %d", 1024 + slot);
	return RC_OK;
}

static int c_qfclose(sim *s, int f, args *A)
{
	if (f != F_WRITE)
		return f == F_TEST ? RC_OK : RC_ERROR;
	int h = fh_get(s, A, 0);
	if (h < 0)
		return 416;
	s->fh[h].f = NULL;
	return RC_OK;
}

static int c_qfread(sim *s, int f, args *A)
{
	long long len;
	if (f != F_WRITE)
		return f == F_TEST ? RC_OK : RC_ERROR;
	int h = fh_get(s, A, 0);
	if (h < 0)
		return 416;
	ramfh *fh = &s->fh[h];
	size_t left = fh->f->len > fh->pos ? fh->f->len - fh->pos : 0;
	if (get_int(A, 1, 0, LLONG_MAX, (long long)left, &len) < 0)
		return 400;
	if ((size_t)len > left)
		len = (long long)left;
	char c[64];
	snprintf(c, sizeof c, "\r\nCONNECT %lld\r\n", len);
	out_raw(s, c, strlen(c));
	out_raw(s, fh->f->data + fh->pos, (size_t)len);
	fh->pos += (size_t)len;
	out_final(s, "OK");
	return RC_NONE;
}

static int c_qfwrite(sim *s, int f, args *A)
{
	long long len, tmo;
	if (f != F_WRITE)
		return f == F_TEST ? RC_OK : RC_ERROR;
	int h = fh_get(s, A, 0);
	if (h < 0)
		return 416;
	if (get_int(A, 1, 0, LLONG_MAX, 10240, &len) < 0 || get_int(A, 2, 1, 65535, 5, &tmo) < 0)
		return 400;
	if (s->fh[h].mode == 2)
		return 414;
	s->wfh = h;
	s->sink = SINK_QFWRITE;
	s->seg_count = 0;
	s->seg_limit = len;
	s->ackmode = 0;
	s->upl_deadline = sim_now() + tmo * 1000;
	s->state = ST_DATA_IN;
	out_connect(s);
	if (len == 0)
		finish_file_in(s);
	return RC_NONE;
}

static int c_qfseek(sim *s, int f, args *A)
{
	long long off, org;
	if (f != F_WRITE)
		return f == F_TEST ? RC_OK : RC_ERROR;
	int h = fh_get(s, A, 0);
	if (h < 0)
		return 416;
	if (get_int(A, 1, LLONG_MIN / 2, LLONG_MAX / 2, 0, &off) < 0 || get_int(A, 2, 0, 2, 0, &org) < 0)
		return 400;
	ramfh *fh = &s->fh[h];
	long long base = org == 0 ? 0 : org == 1 ? (long long)fh->pos : (long long)fh->f->len;
	if (base + off < 0 || base + off > (long long)fh->f->len)
		return 401;
	fh->pos = (size_t)(base + off);
	return RC_OK;
}

static int c_qfposition(sim *s, int f, args *A)
{
	if (f != F_WRITE)
		return f == F_TEST ? RC_OK : RC_ERROR;
	int h = fh_get(s, A, 0);
	if (h < 0)
		return 416;
	out_info(s, "+QFPOSITION: %zu", s->fh[h].pos);
	return RC_OK;
}

/* -------------------------------------------- network & general commands */

static int c_cmee(sim *s, int f, args *A)
{
	long long v;
	if (f == F_TEST)
		out_info(s, "+CMEE: (0-2)");
	else if (f == F_READ)
		out_info(s, "+CMEE: %d", s->cmee);
	else if (f == F_EXEC)
		s->cmee = 0;
	else if (get_int(A, 0, 0, 2, 0, &v) < 0 || A->n > 1)
		return RC_ERROR;
	else
		s->cmee = (int)v;
	return RC_OK;
}

static int c_ifc(sim *s, int f, args *A)
{
	long long a, b;
	if (f == F_TEST)
		out_info(s, "+IFC: (0,2),(0,2)");
	else if (f == F_READ)
		out_info(s, "+IFC: %d,%d", s->ifc[0], s->ifc[1]);
	else if (f == F_WRITE) {
		if (get_int(A, 0, 0, 2, 0, &a) < 0 || get_int(A, 1, 0, 2, 0, &b) < 0 || a == 1 || b == 1)
			return RC_ERROR;
		s->ifc[0] = (int)a;
		s->ifc[1] = (int)b;
	}
	return RC_OK;
}

static int c_ipr(sim *s, int f, args *A)
{
	long long v;
	if (f == F_TEST)
		out_info(s, "+IPR: (0,300,600,1200,2400,4800,9600,19200,38400,57600,115200,230400,"
		            "460800,921600,3000000,4000000)");
	else if (f == F_READ)
		out_info(s, "+IPR: %ld", s->o.baud > 0 ? s->o.baud : 115200);
	else if (f == F_WRITE && get_int(A, 0, 0, 4000000, 0, &v) < 0)
		return RC_ERROR;
	return RC_OK;
}

static int c_cpin(sim *s, int f, args *A)
{
	(void)A;
	if (f == F_READ)
		out_info(s, "+CPIN: READY");
	else if (f != F_TEST)
		return RC_ERROR;
	return RC_OK;
}

static int c_csq(sim *s, int f, args *A)
{
	(void)A;
	if (f == F_TEST)
		out_info(s, "+CSQ: (0-31,99),(0-7,99)");
	else if (f == F_EXEC)
		out_info(s, "+CSQ: 24,99");
	else
		return RC_ERROR;
	return RC_OK;
}

static int c_cgatt(sim *s, int f, args *A)
{
	long long v;
	if (f == F_TEST)
		out_info(s, "+CGATT: (0,1)");
	else if (f == F_READ)
		out_info(s, "+CGATT: %d", s->cgatt);
	else if (f == F_WRITE) {
		if (get_int(A, 0, 0, 1, 1, &v) < 0)
			return RC_ERROR;
		s->cgatt = (int)v;
		if (!v) {
			for (int i = 1; i <= 16; i++)
				s->pdp[i].active = 0;
			session_lost(s, 605);
		}
	} else
		return RC_ERROR;
	return RC_OK;
}

static int reg_cmd(sim *s, int f, args *A, const char *name, int *n)
{
	long long v;
	if (f == F_TEST)
		out_info(s, "+%s: (0-2)", name);
	else if (f == F_READ)
		out_info(s, "+%s: %d,%d", name, *n, s->cgatt ? 1 : 0);
	else if (f == F_WRITE) {
		if (get_int(A, 0, 0, 2, 0, &v) < 0)
			return RC_ERROR;
		*n = (int)v;
	} else
		return RC_ERROR;
	return RC_OK;
}

static int c_cgreg(sim *s, int f, args *A)
{
	return reg_cmd(s, f, A, "CGREG", &s->cgreg);
}

static int c_creg(sim *s, int f, args *A)
{
	return reg_cmd(s, f, A, "CREG", &s->creg);
}

static int c_cereg(sim *s, int f, args *A)
{
	return reg_cmd(s, f, A, "CEREG", &s->cereg);
}

static int g_reboot_after_line;

static int c_cfun(sim *s, int f, args *A)
{
	long long v, rst;
	if (f == F_TEST)
		out_info(s, "+CFUN: (0,1,4),(0,1)");
	else if (f == F_READ)
		out_info(s, "+CFUN: %d", s->cfun);
	else if (f == F_WRITE) {
		if (get_int(A, 0, 0, 4, 1, &v) < 0 || v == 2 || v == 3 || get_int(A, 1, 0, 1, 0, &rst) < 0)
			return RC_ERROR;
		s->cfun = (int)v;
		if (rst)
			g_reboot_after_line = 1; /* OK first, then the module restarts */
	} else
		return RC_ERROR;
	return RC_OK;
}

static int c_qicsgp(sim *s, int f, args *A)
{
	long long ctx, type, auth;
	const char *apn, *user, *pass;
	if (f == F_TEST) {
		out_info(s, "+QICSGP: (1-16),(1,2),<APN>,<username>,<password>,(0-3)");
		return RC_OK;
	}
	if (f != F_WRITE || get_int(A, 0, 1, 16, 0, &ctx) < 0 || !has(A, 0))
		return RC_ERROR;
	pdp_ctx *c = &s->pdp[ctx];
	if (A->n == 1) {
		out_info(s, "+QICSGP: %d,\"%s\",\"%s\",\"%s\",%d", c->type, c->apn, c->user, c->pass,
		         c->auth);
		return RC_OK;
	}
	if (get_int(A, 1, 1, 2, 1, &type) < 0 || get_str(A, 2, 100, &apn) < 0 ||
	    get_str(A, 3, 127, &user) < 0 || get_str(A, 4, 127, &pass) < 0 ||
	    get_int(A, 5, 0, 3, 0, &auth) < 0)
		return RC_ERROR;
	c->type = (int)type;
	snprintf(c->apn, sizeof c->apn, "%s", apn ? apn : "");
	snprintf(c->user, sizeof c->user, "%s", user ? user : "");
	snprintf(c->pass, sizeof c->pass, "%s", pass ? pass : "");
	c->auth = (int)auth;
	return RC_OK;
}

static int c_qiact(sim *s, int f, args *A)
{
	long long ctx;
	if (f == F_TEST) {
		out_info(s, "+QIACT: (1-16)");
		return RC_OK;
	}
	if (f == F_READ) {
		for (int i = 1; i <= 16; i++)
			if (s->pdp[i].active)
				out_info(s, "+QIACT: %d,1,%d,\"10.7.157.%d\"", i, s->pdp[i].type, i);
		return RC_OK;
	}
	if (f != F_WRITE || !has(A, 0) || get_int(A, 0, 1, 16, 0, &ctx) < 0)
		return RC_ERROR;
	int n = 0;
	for (int i = 1; i <= 16; i++)
		n += s->pdp[i].active;
	/* like the module: no re-activation, at most three at once */
	if (!s->cgatt || s->pdp[ctx].active || n >= 3)
		return RC_ERROR;
	s->pdp[ctx].active = 1;
	return RC_OK;
}

static int c_qideact(sim *s, int f, args *A)
{
	long long ctx;
	if (f == F_TEST) {
		out_info(s, "+QIDEACT: (1-16)");
		return RC_OK;
	}
	if (f != F_WRITE || !has(A, 0) || get_int(A, 0, 1, 16, 0, &ctx) < 0)
		return RC_ERROR;
	s->pdp[ctx].active = 0;
	if (ctx == s->cfg.contextid)
		session_lost(s, 605);
	return RC_OK;
}

static int c_qsslcfg(sim *s, int f, args *A)
{
	(void)s, (void)A, (void)f;
	return RC_OK; /* accepted and ignored: curl does not verify (seclevel 0) */
}

static int c_ident(sim *s, int f, const char *text)
{
	if (f == F_TEST)
		return RC_OK;
	if (f != F_EXEC)
		return RC_ERROR;
	out_info(s, "%s", text);
	return RC_OK;
}

static int c_gmi(sim *s, int f, args *A)
{
	(void)A;
	return c_ident(s, f, "Quectel");
}

static int c_gmm(sim *s, int f, args *A)
{
	(void)A;
	return c_ident(s, f, "EC20F");
}

static int c_gmr(sim *s, int f, args *A)
{
	(void)A;
	return c_ident(s, f, SIM_REVISION);
}

static int c_gsn(sim *s, int f, args *A)
{
	(void)A;
	return c_ident(s, f, "867223020000001");
}

typedef int (*at_handler)(sim *s, int f, args *A);
static const struct {
	const char *name;
	at_handler h;
} cmds[] = {
	{"QFTPCFG", c_qftpcfg}, {"QFTPOPEN", c_qftpopen}, {"QFTPCLOSE", c_qftpclose},
	{"QFTPCWD", c_qftpcwd}, {"QFTPPWD", c_qftppwd}, {"QFTPPUT", c_qftpput},
	{"QFTPGET", c_qftpget}, {"QFTPSIZE", c_qftpsize}, {"QFTPDEL", c_qftpdel},
	{"QFTPMKDIR", c_qftpmkdir}, {"QFTPRMDIR", c_qftprmdir}, {"QFTPLIST", c_qftplist},
	{"QFTPNLST", c_qftpnlst}, {"QFTPMLSD", c_qftpmlsd}, {"QFTPMDTM", c_qftpmdtm},
	{"QFTPRENAME", c_qftprename}, {"QFTPLEN", c_qftplen}, {"QFTPSTAT", c_qftpstat},
	{"QFUPL", c_qfupl}, {"QFLST", c_qflst}, {"QFDEL", c_qfdel}, {"QFDWL", c_qfdwl},
	{"QFOPEN", c_qfopen}, {"QFCLOSE", c_qfclose}, {"QFREAD", c_qfread},
	{"QFWRITE", c_qfwrite}, {"QFSEEK", c_qfseek}, {"QFPOSITION", c_qfposition},
	{"CMEE", c_cmee}, {"IFC", c_ifc}, {"IPR", c_ipr}, {"CPIN", c_cpin}, {"CSQ", c_csq},
	{"CGATT", c_cgatt}, {"CGREG", c_cgreg}, {"CREG", c_creg}, {"CEREG", c_cereg},
	{"CFUN", c_cfun}, {"QICSGP", c_qicsgp}, {"QIACT", c_qiact}, {"QIDEACT", c_qideact},
	{"QSSLCFG", c_qsslcfg}, {"GMI", c_gmi}, {"CGMI", c_gmi}, {"GMM", c_gmm},
	{"CGMM", c_gmm}, {"GMR", c_gmr}, {"CGMR", c_gmr}, {"GSN", c_gsn}, {"CGSN", c_gsn},
};

/* ----------------------------------------------------- command line */

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
	case 'V':
		return v == 1 ? RC_OK : RC_ERROR; /* numeric result codes: not simulated */
	case 'Q':
		return v <= 0 ? RC_OK : RC_ERROR;
	case 'I':
		if (v > 0)
			return RC_ERROR;
		out_info(s, "Quectel");
		out_info(s, "EC20F");
		out_info(s, "Revision: %s", SIM_REVISION);
		return RC_OK;
	case 'Z':
		s->echo = 1;
		s->cmee = 1;
		return RC_OK;
	case 'X':
	case 'L':
	case 'M':
	case 'H':
		return RC_OK;
	case 'O':
		if (s->state == ST_SUSPENDED && (s->cur || s->done)) {
			/* back to the download the host left with +++ */
			out_connect(s);
			s->state = ST_DATA_OUT;
			s->last_rx = sim_now();
			s->plus_n = 0;
			return RC_NONE;
		}
		out_final(s, "NO CARRIER");
		return RC_NONE;
	default:
		return RC_ERROR;
	}
}

static at_handler find_cmd(const char *name)
{
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (!strcasecmp(cmds[i].name, name))
			return cmds[i].h;
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
	if (g_reboot_after_line) {
		g_reboot_after_line = 0;
		do_reboot(s, 1);
	}
}
