/*
** ec20sim_cmd_net.c: the network and general commands: error reporting
** (AT+CMEE), the serial settings (IFC, IPR), SIM, signal and registration
** (CPIN, CSQ, CGATT, CGREG/CREG/CEREG), AT+CFUN, the PDP contexts (QICSGP,
** QIACT, QIDEACT) and their loss, and the identity commands. The FTP
** session needs an active PDP context: losing it ends the session.
*/
#include "ec20sim_at.h"

#include <stdio.h>

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

/* boot-sim-busy: after a boot the SIM is not there yet (10), then busy (14) */
static int sim_not_ready(const sim *s)
{
	int64_t now = sim_now();
	return now < s->sim_absent_until ? 10 : now < s->sim_busy_until ? 14 : 0;
}

static int c_cpin(sim *s, int f, args *A)
{
	(void)A;
	if (f == F_READ && sim_not_ready(s))
		return sim_not_ready(s);
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
		out_info(s, "+%s: %d,%d", name, *n, network_reg_stat(s, name));
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
			s->reboot_after_line = 1; /* OK first, then the module restarts */
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
	/* like the module: no re-activation, at most three at once; no SIM,
	** no context (capture 13: ERROR right after a reboot) */
	if (!s->cgatt || s->pdp[ctx].active || n >= 3 || sim_not_ready(s) || network_pdp_refused(s))
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

/* The network took a context down (control command "pdpdeact"): the FTP
** session's own if it is active, else the first active one. */
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
	return c_ident(s, f, s->model->ati_model);
}

static int c_gmr(sim *s, int f, args *A)
{
	(void)A;
	return c_ident(s, f, s->model->revision);
}

/* the base revision and the build: EG25GGBR07A08M2G_01.003.01.003 */
static int c_qgmr(sim *s, int f, args *A)
{
	(void)A;
	if (!s->model->qgmr)
		return RC_ERROR; /* not in the EC20 V1.0 set the simulator follows */
	return c_ident(s, f, s->model->qgmr);
}

/* what ModemManager asks first (the prober) */
static int c_gcap(sim *s, int f, args *A)
{
	(void)A;
	return c_ident(s, f, "+GCAP: +CGSM");
}

static int c_gsn(sim *s, int f, args *A)
{
	(void)A;
	return c_ident(s, f, "867223020000001");
}

const at_cmd cmd_net[] = {
	{"CMEE", c_cmee}, {"IFC", c_ifc}, {"IPR", c_ipr}, {"CPIN", c_cpin}, {"CSQ", c_csq},
	{"CGATT", c_cgatt}, {"CGACT", at_cgact}, {"CGREG", c_cgreg}, {"CREG", c_creg}, {"CEREG", c_cereg},
	{"CFUN", c_cfun}, {"QICSGP", c_qicsgp}, {"QIACT", c_qiact}, {"QIDEACT", c_qideact},
	{"QSSLCFG", c_qsslcfg}, {"GMI", c_gmi}, {"CGMI", c_gmi}, {"GMM", c_gmm},
	{"CGMM", c_gmm}, {"GMR", c_gmr}, {"CGMR", c_gmr}, {"QGMR", c_qgmr}, {"GCAP", c_gcap}, {"GSN", c_gsn},
	{"CGSN", c_gsn},
	{NULL, NULL},
};
