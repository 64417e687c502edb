/*
** ec20sim_network.c: the network's side of a PDP bring-up, as states a
** test can ask for (control commands), and AT+CGACT.
**
**   registration CGREG CEREG   the <stat> AT+CGREG? (and AT+CREG?) and
**                              AT+CEREG? answer (0-5), whatever the attach:
**                              "0 1" an LTE-only network (registered on
**                              CEREG alone), "3 3" registration denied;
**   registration auto          back to the default (1 when attached, else 0);
**   pdp-auto CID               the network activated a PDP context in cid CID
**                              on its own and allows one (capture 10, EG800K
**                              with a 1NCE SIM): AT+CGACT? lists it, AT+QIACT
**                              answers ERROR until AT+CGACT=0,CID; 0 clears.
**
** AT+CGACT? lists the active contexts ("+CGACT: <cid>,<state>"); AT+CGACT=0,<cid>
** deactivates one (the FTP session's own: the session is lost, as with
** QIDEACT); AT+CGACT=1,<cid> answers +CME ERROR: 100 while the network's
** own context holds the one PDP it allows (capture 10), else activates.
*/
#include "ec20sim_at.h"

#include <stdlib.h>
#include <string.h>

int network_reg_stat(const sim *s, const char *name)
{
	if (!s->reg_forced)
		return s->cgatt ? 1 : 0;
	return strcmp(name, "CEREG") == 0 ? s->reg_cereg : s->reg_cgreg;
}

int network_pdp_refused(const sim *s)
{
	return s->pdp_auto_cid != 0;
}

static int stat_arg(const char *w, int *out)
{
	char *e;
	long v = strtol(w, &e, 10);
	if (e == w || *e || v < 0 || v > 5)
		return -1;
	*out = (int)v;
	return 0;
}

int network_ctl(sim *s, const char *w, const char *rest, char *err, size_t errlen)
{
	char a[16] = "", b[16] = "";
	if (!strcmp(w, "registration")) {
		int n = sscanf(rest, "%15s %15s", a, b);
		if (n == 1 && !strcmp(a, "auto")) {
			s->reg_forced = 0;
			return 1;
		}
		if (n != 2 || stat_arg(a, &s->reg_cgreg) < 0 || stat_arg(b, &s->reg_cereg) < 0)
			goto bad;
		s->reg_forced = 1;
		return 1;
	}
	if (!strcmp(w, "pdp-auto")) {
		int cid;
		if (sscanf(rest, "%15s", a) != 1 || (cid = atoi(a)) < 0 || cid > 16)
			goto bad;
		s->pdp_auto_cid = cid;
		return 1;
	}
	return 0;
bad:
	snprintf(err, errlen, "bad argument for '%s': '%s'", w, rest);
	return -1;
}

int at_cgact(sim *s, int f, args *A)
{
	long long st, cid;
	if (f == F_TEST) {
		out_info(s, "+CGACT: (0,1)");
		return RC_OK;
	}
	if (f == F_READ) {
		for (int i = 1; i <= 16; i++)
			if (s->pdp[i].active || i == s->pdp_auto_cid)
				out_info(s, "+CGACT: %d,1", i);
		return RC_OK;
	}
	if (f != F_WRITE || get_int(A, 0, 0, 1, 0, &st) < 0 || !has(A, 1) || get_int(A, 1, 1, 16, 0, &cid) < 0)
		return RC_ERROR;
	if (st == 0) {
		if (cid == s->pdp_auto_cid) {
			s->pdp_auto_cid = 0;
			return RC_OK;
		}
		s->pdp[cid].active = 0;
		if (cid == s->cfg.contextid)
			session_lost(s, 605);
		return RC_OK;
	}
	if (network_pdp_refused(s))
		return 100; /* the network allows a single PDP context (capture 10) */
	if (!s->cgatt)
		return RC_ERROR;
	s->pdp[cid].active = 1;
	return RC_OK;
}
