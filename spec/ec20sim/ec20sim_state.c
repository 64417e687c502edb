/*
** ec20sim_state.c: the states a real module is found in when a host
** process starts, each set by a control command (FIFO or --fault): an FTP
** session or a transfer left behind by a host that died, a SIM still busy
** after a boot, numeric result codes, a half-typed command, a foreign
** prober on the port, late replies, and the behaviours some modules show
** (+++ aborting a download, an asynchronous QFTPCLOSE, a data connection
** that fails with 615 and leaves the service busy). README's fault table
** gives the real-module evidence for each.
*/
#include "ec20sim_at.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Run a command line as a host that died would have: the module acts on it,
** but the echo and answers went to nobody. A job it starts stays a ghost
** until CONNECT or its result, which go nowhere either. */
static void ghost_line(sim *s, const char *line)
{
	sim_job *before = s->cur;
	s->mute = 1;
	run_line(s, line);
	s->mute = 0;
	if (s->cur && s->cur != before)
		s->cur->ghost = 1;
}

static int word(const char **p, char *w, size_t len)
{
	size_t k = 0;
	while (**p == ' ' || **p == '\t')
		(*p)++;
	while (**p && **p != ' ' && **p != '\t' && k + 1 < len)
		w[k++] = *(*p)++;
	w[k] = 0;
	return k > 0;
}

/* session-open [HOST PORT USER PASS]: logs in for real, as a host that
** then died; without arguments, with the last QFTPOPEN's server and the
** configured account. */
static int session_open_ctl(sim *s, const char *rest, char *err, size_t errlen)
{
	char host[256], port[16], user[256], pass[256], line[600];
	int n = word(&rest, host, sizeof host) + word(&rest, port, sizeof port) +
	        word(&rest, user, sizeof user) + word(&rest, pass, sizeof pass);
	if (n != 0 && n != 4) {
		snprintf(err, errlen, "session-open takes HOST PORT USER PASS, or nothing");
		return -1;
	}
	if (n == 0) {
		if (!s->host[0]) {
			snprintf(err, errlen, "session-open: no server known yet (give HOST PORT USER PASS)");
			return -1;
		}
		snprintf(host, sizeof host, "%s", s->host);
		snprintf(port, sizeof port, "%d", s->port);
	} else {
		snprintf(s->cfg.user, sizeof s->cfg.user, "%s", user);
		snprintf(s->cfg.pass, sizeof s->cfg.pass, "%s", pass);
	}
	if (s->state != ST_CMD || s->ftpstat != 4 || s->outstanding) {
		snprintf(err, errlen, "session-open: the module is busy or a session is open");
		return -1;
	}
	s->cgatt = 1;
	s->pdp[s->cfg.contextid].active = 1; /* that host had activated it */
	snprintf(line, sizeof line, "AT+QFTPOPEN=\"%s\",%s", host, port);
	ghost_line(s, line);
	if (s->ftpstat != 0) {
		snprintf(err, errlen, "session-open: QFTPOPEN refused (host, port?)");
		return -1;
	}
	return 1;
}

/* stale-upload [FILE] / stale-download FILE: a host died in the middle of
** AT+QFTPPUT / AT+QFTPGET to COM:. Waits for a session-open still logging in. */
static int stale_ctl(sim *s, const char *w, const char *rest, char *err, size_t errlen)
{
	char file[256], line[400];
	int put = !strcmp(w, "stale-upload");
	if (!word(&rest, file, sizeof file)) {
		if (!put) {
			snprintf(err, errlen, "stale-download needs a FILE on the server");
			return -1;
		}
		snprintf(file, sizeof file, "stale-upload.bin");
	}
	if (s->ftpstat == 0 || (s->ftpstat == 1 && s->outstanding)) {
		snprintf(s->after_open, sizeof s->after_open, "%s %s", w, file);
		return 1; /* once the login (or what runs) is done */
	}
	if (s->ftpstat != 1 || s->state != ST_CMD) {
		snprintf(err, errlen, "%s needs an idle open FTP session (session-open first)", w);
		return -1;
	}
	snprintf(line, sizeof line, put ? "AT+QFTPPUT=\"%s\",\"COM:\",0" : "AT+QFTPGET=\"%s\",\"COM:\"",
	         file);
	ghost_line(s, line);
	if (s->state != ST_WAIT_CONNECT) {
		snprintf(err, errlen, "%s: the module refused it", w);
		return -1;
	}
	return 1;
}

static int num_arg(const char *rest, long lo, long hi, long *v)
{
	char *e;
	*v = strtol(rest, &e, 10);
	while (*e == ' ')
		e++;
	return e != rest && !*e && *v >= lo && *v <= hi ? 0 : -1;
}

int state_ctl(sim *s, const char *w, const char *rest, char *err, size_t errlen)
{
	long v = 0;
	if (!strcmp(w, "session-open"))
		return session_open_ctl(s, rest, err, errlen);
	if (!strcmp(w, "stale-upload") || !strcmp(w, "stale-download"))
		return stale_ctl(s, w, rest, err, errlen);
	if (!strcmp(w, "half-line")) {
		/* a partial command, as if a host died mid-write: the next
		** bytes append to it */
		size_t n = strlen(rest);
		if (s->state != ST_CMD || n + 1 >= SIM_MAX_LINE)
			goto bad;
		memcpy(s->line, rest, n);
		s->line_len = n;
		return 1;
	}
	if (!strcmp(w, "boot-sim-busy")) {
		char ms[32], ten[8] = "";
		long t = 0;
		word(&rest, ms, sizeof ms);
		word(&rest, ten, sizeof ten);
		if (num_arg(ms, 0, 600000, &v) < 0 || (ten[0] && (num_arg(ten, 10, 10, &t) < 0 || *rest)))
			goto bad;
		at_reboot(s);
		s->sim_busy_ms = (int)v;
		s->sim_absent = t == 10;
		return 1;
	}
	if (!strcmp(w, "verbose-codes")) {
		if (num_arg(rest, 0, 1, &v) < 0)
			goto bad;
		s->verbose = (int)v;
		return 1;
	}
	if (!strcmp(w, "escape-aborts")) {
		if (num_arg(rest, 0, 1, &v) < 0)
			goto bad;
		s->escape_aborts = (int)v;
		return 1;
	}
	if (!strcmp(w, "fail-data-615")) {
		if (*rest)
			goto bad;
		s->fail_data = 1;
		return 1;
	}
	if (!strcmp(w, "close-async") || !strcmp(w, "late-reply")) {
		if (num_arg(rest, 0, 600000, &v) < 0)
			goto bad;
		if (w[0] == 'c')
			s->close_async_ms = (int)v;
		else
			s->late_ms = (int)v;
		return 1;
	}
	if (!strcmp(w, "prober")) {
		char *e;
		double t = strtod(rest, &e);
		if (e == rest || t < 0 || t > 3600)
			goto bad;
		s->prober_ms = (int)(t * 1000);
		s->prober_next = sim_now() + s->prober_ms;
		return 1;
	}
	return 0;
bad:
	snprintf(err, errlen, "bad argument for '%s': '%s'", w, rest);
	return -1;
}

/* ModemManager's probe of an AT port, as the port shows it: the command's
** echo (if echo is on) and the module's answers, between responses. */
static void probe(sim *s)
{
	static const char *const probes[] = {"AT+GCAP", "ATI", "AT+CGMM"};
	const char *p = probes[s->prober_i++ % 3];
	int late = s->late_ms;
	if (s->echo) {
		out_raw(s, p, strlen(p));
		out_raw(s, "\r", 1);
	}
	s->late_ms = 0; /* armed for the host's next command, not this */
	run_line(s, p);
	s->late_ms = late;
}

static int idle(const sim *s)
{
	return s->state == ST_CMD && s->line_len == 0 && !sb_size(&s->in) && !sb_size(&s->post) &&
	       s->master >= 0 && !(s->hold_until > 0 && sim_now() < s->hold_until);
}

void state_tick(sim *s)
{
	int64_t now = sim_now();
	if (s->sim_ready_urcs && s->state != ST_BOOTING && now >= s->sim_busy_until) {
		s->sim_ready_urcs = 0;
		sim_ready(s);
	}
	if (s->closed && now >= s->close_due)
		finish_close(s);
	if (s->after_open[0] && s->state == ST_CMD && !s->outstanding && s->ftpstat != 0) {
		char cmd[300], err[200];
		snprintf(cmd, sizeof cmd, "%s", s->after_open);
		s->after_open[0] = 0;
		if (sim_ctl_exec(s, cmd, err, sizeof err) < 0)
			fprintf(stderr, "ec20sim: control: %s\n", err);
	}
	if (s->prober_ms > 0 && now >= s->prober_next && idle(s)) {
		probe(s);
		s->prober_next = now + s->prober_ms;
	}
}

int64_t state_deadline(sim *s)
{
	int64_t now = sim_now(), dl = -1;
	int64_t t[3] = {s->sim_ready_urcs ? s->sim_busy_until : -1, s->closed ? s->close_due : -1,
	                s->prober_ms > 0 ? s->prober_next : -1};
	for (int i = 0; i < 3; i++)
		if (t[i] >= 0 && (dl < 0 || t[i] < dl))
			dl = t[i];
	/* due but waiting for a moment that fits (booting, a line being typed) */
	if (dl >= 0 && dl < now + 20 && (s->state == ST_BOOTING || !idle(s)))
		dl = now + 20;
	return dl;
}
