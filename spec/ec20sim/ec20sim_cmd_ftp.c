/*
** ec20sim_cmd_ftp.c: the AT+QFTP* commands and their results. Each command
** becomes a job for the FTP worker (ec20sim_ftp.c); the session state the
** host sees (AT+QFTPSTAT, the current directory, AT+QFTPLEN) is kept here.
**
** Ordering rules (EC20 FTP manual): a command is answered OK at once and its
** +QFTPxxx result follows when the FTP work is done; a COM: transfer answers
** CONNECT, the payload, OK, then the result (ec20sim_datamode.c). A COM:
** transfer that fails before CONNECT answers with the result URC alone.
*/
#include "ec20sim_at.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* a transfer's local end: the host, in data mode, or a RAM: file */
enum { LOC_COM = 1, LOC_RAM = 2 };

/* ------------------------------------------------------------- helpers */

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

/* LOC_COM, LOC_RAM (a file on one of the model's drives, its canonical
** name in ram), or minus the error code */
static int parse_local(sim *s, const char *l, char *ram, size_t len)
{
	if (!strcasecmp(l, "COM:") || !strcasecmp(l, "COM:."))
		return LOC_COM;
	int e = strlen(l) <= 60 ? model_drive(s->model, l, ram, len, 613) : 610;
	return e ? -e : LOC_RAM;
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


static int is_transfer(int kind)
{
	return kind == J_GET || kind == J_PUT || kind == J_LIST || kind == J_NLST || kind == J_MLSD;
}

/* The FTP session is gone (PDP down, control connection lost). */
void session_lost(sim *s, int err)
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

/* -------------------------------------------------------- job results */

void report_result(sim *s, sim_job *j)
{
	const char *nm = urc_name(j->kind);
	long long n = atomic_load(&j->bytes);
	if (j->late_ms > 0) /* late-reply: the result URC comes that much later */
		hold_output(s, sb_size(&s->out), j->late_ms);
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
			else if (s->model->pwd_quoted) /* EG800K (capture 03) */
				out_urc(s, "+%s: 0,\"%s\"", nm, j->value);
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

/* ------------------------------------------------------------ commands */

static void end_parked(sim *s)
{
	if (!s->parked)
		return;
	ring_set_eof(&s->ring);
	if (s->cur)
		s->cur->quiet = 1; /* its segments were all reported */
	s->parked = 0;
}

/* close-async: the +QFTPCLOSE result that waited */
void finish_close(sim *s)
{
	sim_job *j = s->closed;
	s->closed = NULL;
	s->close_due = 0;
	report_result(s, j);
	job_free(j);
}

/* May a new FTP job start? 0 yes, RC_DEFER: later, >0: +CME ERROR. */
static int ftp_ready(sim *s, int closing)
{
	if (s->close_due)
		return 603; /* closing (close-async): every FTP command is refused */
	if (s->data_dead && !closing)
		return 603; /* after a 615, until QFTPCLOSE (capture 09) */
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
		report_result(s, j);
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

int session_open(const sim *s)
{
	return s->ftpstat == 1 || s->ftpstat == 2;
}

/* No session: the result is 606 at once. A COM: transfer answers with it
** alone (the module never got as far as CONNECT), other commands OK first. */
static int no_session(sim *s, int kind, int com)
{
	if (com) {
		out_urc(s, "+%s: 606,0", urc_name(kind));
		return RC_NONE;
	}
	post_urc(s, "+%s: 606,0", urc_name(kind));
	return RC_OK;
}

/* fail-data-615: this transfer's data connection fails: +CME ERROR: 615
** at once, and the FTP service stays busy (603) until QFTPCLOSE. */
static int data_fault(sim *s)
{
	if (!s->fail_data)
		return 0;
	sim_log(s, "fault: the data connection fails (615)");
	s->fail_data = 0;
	s->data_dead = 1;
	return 615;
}

static int submit_simple(sim *s, int kind, const char *p1, const char *p2)
{
	int r = ftp_ready(s, 0);
	if (r)
		return r;
	if (!session_open(s))
		return no_session(s, kind, 0);
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

/* The settings, as the model has them: highest value, -1 if absent. */
typedef struct cfg_key {
	const char *name;
	int lo, hi;
	int *field;
} cfg_key;

static int cfg_keys(sim *s, cfg_key *t)
{
	const sim_model *m = s->model;
	sim_cfg *c = &s->cfg;
	const cfg_key all[] = {
		{"filetype", 0, 1, &c->filetype},
		{"transmode", 0, 1, &c->transmode},
		{"contextid", 1, m->ctx_max, &c->contextid},
		{"rsptimeout", 20, 180, &c->rsptimeout},
		{"ssltype", 0, m->ssl_max, &c->ssltype},
		{"sslctxid", 0, 5, &c->sslctxid},
		{"data_address", 0, m->data_address_max, &c->data_address},
		{"restenable", 0, m->restenable_max, &c->restenable},
		{"cache", 0, m->cache_max, &c->cache},
	};
	int n = 0;
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		if (all[i].hi >= 0)
			t[n++] = all[i];
	return n;
}

static void cfg_show(sim *s, const cfg_key *k)
{
	if (s->model->data_timeout && k->field == &s->cfg.data_address)
		out_info(s, "+QFTPCFG: \"%s\",%d,%d", k->name, *k->field, s->cfg.data_timeout);
	else
		out_info(s, "+QFTPCFG: \"%s\",%d", k->name, *k->field);
}

static void account_show(sim *s)
{
	char pw[256];
	size_t n = strlen(s->cfg.pass);
	if (s->model->mask_password) { /* EG800K: one '*' a character (capture 03) */
		memset(pw, '*', n);
		pw[n] = 0;
	} else {
		memcpy(pw, s->cfg.pass, n + 1);
	}
	out_info(s, "+QFTPCFG: \"account\",\"%s\",\"%s\"", s->cfg.user, pw);
}

static int c_qftpcfg(sim *s, int f, args *A)
{
	cfg_key t[9];
	int nk = cfg_keys(s, t);
	if (f == F_TEST) {
		for (int i = 0; i < s->model->cfg_n; i++)
			out_info(s, "+QFTPCFG: %s", s->model->cfg_test[i]);
		return RC_OK;
	}
	if (f == F_READ) {
		account_show(s);
		for (int i = 0; i < nk; i++)
			cfg_show(s, &t[i]);
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
			account_show(s);
			return RC_OK;
		}
		if (A->n != 3 || get_str(A, 1, 255, &u) < 0 || get_str(A, 2, 255, &p) < 0 || !u || !p)
			return 610;
		snprintf(s->cfg.user, sizeof s->cfg.user, "%s", u);
		snprintf(s->cfg.pass, sizeof s->cfg.pass, "%s", p);
		return RC_OK;
	}
	for (int i = 0; i < nk; i++) {
		if (strcasecmp(nm, t[i].name))
			continue;
		long long v, dt = s->cfg.data_timeout;
		if (A->n == 1) {
			cfg_show(s, &t[i]);
			return RC_OK;
		}
		int two = s->model->data_timeout && t[i].field == &s->cfg.data_address;
		if (A->n > (two ? 3 : 2) || !has(A, 1) || get_int(A, 1, t[i].lo, t[i].hi, 0, &v) < 0 ||
		    (two && get_int(A, 2, 15, 50, dt, &dt) < 0))
			return 610;
		*t[i].field = (int)v;
		if (two)
			s->cfg.data_timeout = (int)dt;
		return RC_OK;
	}
	return 610; /* a key this model does not list */
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
	if (get_str(A, 0, (size_t)s->model->host_max, &host) < 0 || !host || !*host || get_int(A, 1, 1, 65535, 21, &port) < 0 ||
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
	s->data_dead = 0;
	if (s->ftpstat == 4) {
		post_urc(s, "+QFTPCLOSE: 0,0");
		return RC_OK;
	}
	sim_job *j = job_new(s, J_CLOSE);
	if (!j)
		return 601;
	if (s->close_async_ms > 0)
		s->close_due = sim_now() + s->close_async_ms;
	s->ftpstat = 3;
	s->cur = j;
	ftp_submit(s, j);
	return RC_OK;
}

/* Commands of the form AT+QFTPXXX=<name> */
static int one_name(sim *s, int f, args *A, int kind, const char *test)
{
	const char *name;
	size_t max = kind == J_CWD ? (size_t)s->model->path_max : 255;
	if (f == F_TEST) {
		out_info(s, "%s", test);
		return RC_OK;
	}
	if (f != F_WRITE)
		return RC_ERROR;
	if (A->n != 1 || get_str(A, 0, max, &name) < 0 || !name || !*name)
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

/* A COM: transfer: its payload crosses the ring, in data mode from the
** moment the server has opened the data connection (EV_CONNECT). */
static int start_com(sim *s, sim_job *j)
{
	j->to_com = 1;
	ring_reset(&s->ring);
	s->state = ST_WAIT_CONNECT;
	ftp_submit(s, j);
	return RC_NONE;
}

static int start_get(sim *s, int kind, const char *name, int loc, const char *ram, long long startpos,
                     long long limit)
{
	int r = ftp_ready(s, 0);
	if (r)
		return r;
	if (!session_open(s))
		return no_session(s, kind, loc == LOC_COM);
	if ((r = data_fault(s)))
		return r;
	sim_job *j = job_new(s, kind);
	if (!j)
		return 601;
	resolve(s->cwd, name, j->path, sizeof j->path);
	j->startpos = startpos;
	j->limit = limit > 0 ? limit : -1;
	s->cur = j;
	s->ftpstat = 2;
	if (loc == LOC_COM)
		return start_com(s, j);
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
	char ram[88];
	if (f == F_TEST) {
		out_info(s, "+QFTPGET: <file_name>,<local_name>,<startpos>,<downloadlen>");
		return RC_OK;
	}
	if (f != F_WRITE)
		return RC_ERROR;
	if (A->n > 4 || get_str(A, 0, 255, &name) < 0 || !name || !*name || get_str(A, 1, 60, &local) < 0 ||
	    !local || get_int(A, 2, 0, LLONG_MAX, 0, &sp) < 0 || get_int(A, 3, 0, LLONG_MAX, 0, &dl) < 0)
		return 610;
	int loc = parse_local(s, local, ram, sizeof ram);
	if (loc < 0)
		return -loc;
	if (loc == LOC_RAM && has(A, 3))
		return 610;
	return start_get(s, J_GET, name, loc, ram, sp, dl);
}

static int list_cmd(sim *s, int f, args *A, int kind, const char *test)
{
	const char *dir, *local = "COM:";
	char ram[88];
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
	int loc = parse_local(s, local, ram, sizeof ram);
	if (loc < 0)
		return -loc;
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

static int c_qftpput(sim *s, int f, args *A)
{
	const char *name, *local;
	long long sp, ul, beof;
	char ram[88], path[SIM_PATH_MAX];
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
	int loc = parse_local(s, local, ram, sizeof ram);
	if (loc < 0)
		return -loc;
	if ((loc == LOC_RAM && (has(A, 3) || has(A, 4))) || (has(A, 4) && !has(A, 3)))
		return 610;
	resolve(s->cwd, name, path, sizeof path);
	if (loc == LOC_COM && s->parked && !strcmp(path, s->parked_file) && sp == s->parked_end &&
	    s->cur) {
		/* beof=0 before: the data connection is still open, go on */
		s->ftpstat = 2;
		continue_upload(s, sp, ul, (int)beof);
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
	if (!session_open(s))
		return no_session(s, J_PUT, loc == LOC_COM);
	if ((r = data_fault(s)))
		return r;
	sim_job *j = job_new(s, J_PUT);
	if (!j)
		return 601;
	snprintf(j->path, sizeof j->path, "%s", path);
	j->startpos = sp;
	s->cur = j;
	s->ftpstat = 2;
	if (loc == LOC_COM) {
		begin_put_segment(s, sp, ul, (int)beof);
		snprintf(s->parked_file, sizeof s->parked_file, "%s", path);
		return start_com(s, j);
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

const at_cmd cmd_ftp[] = {
	{"QFTPCFG", c_qftpcfg}, {"QFTPOPEN", c_qftpopen}, {"QFTPCLOSE", c_qftpclose},
	{"QFTPCWD", c_qftpcwd}, {"QFTPPWD", c_qftppwd}, {"QFTPPUT", c_qftpput},
	{"QFTPGET", c_qftpget}, {"QFTPSIZE", c_qftpsize}, {"QFTPDEL", c_qftpdel},
	{"QFTPMKDIR", c_qftpmkdir}, {"QFTPRMDIR", c_qftprmdir}, {"QFTPLIST", c_qftplist},
	{"QFTPNLST", c_qftpnlst}, {"QFTPMLSD", c_qftpmlsd}, {"QFTPMDTM", c_qftpmdtm},
	{"QFTPRENAME", c_qftprename}, {"QFTPLEN", c_qftplen}, {"QFTPSTAT", c_qftpstat},
	{NULL, NULL},
};
