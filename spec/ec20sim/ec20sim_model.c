/*
** ec20sim_model.c: the module models the simulator can be (--model). Each
** is what the public record shows of one Quectel part: its identity lines
** (ATI, AT+CGMM, AT+GMR, AT+QGMR), the AT+QFTPCFG settings its firmware
** lists in the test form (copied line for line from real outputs where
** they exist), their ranges, the storage names its FTP and file commands
** take, and the few behaviours measured on it. The default, EC20, is the
** FTP manual V1.0 and the simulator as it always was. README's model
** table says where each value comes from and how sure it is.
*/
#include "ec20sim.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* EC20 FTP AT Commands Manual V1.0, 2.2 */
static const char *const cfg_ec20[] = {
	"\"account\",<username>,<password>", "\"filetype\",(0,1)", "\"transmode\",(0,1)",
	"\"contextid\",(1-16)", "\"rsptimeout\",(20-180)", "\"ssltype\",(0,1)", "\"sslctxid\",(0-5)",
	NULL,
};

/* EG25-G, EG25GGBR07A08M2G_01.003.01.003 (also _30.203.30.203 and
** _A0.301.A0.301): real AT+QFTPCFG=? output. _01.002.01.002 prints the
** same lines but the last (no restenable). */
static const char *const cfg_eg25[] = {
	"\"account\",<username>,<password>", "\"filetype\",(0,1)", "\"transmode\",(0,1)",
	"\"contextid\",(1-16)", "\"rsptimeout\",(20-180)", "\"ssltype\",(0-2)", "\"sslctxid\",(0-5)",
	"\"data_address\",(0-2)", "\"restenable\",(0,1)", NULL,
};

/* BG95-M3, BG95M3LAR02A03_01.011.01.011: real output */
static const char *const cfg_bg95[] = {
	"\"account\",<username>,<password>", "\"filetype\",(0,1)", "\"transmode\",(0,1)",
	"\"contextid\",(1-16)", "\"rsptimeout\",(20-180)", "\"ssltype\",(0-2)", "\"sslctxid\",(0-5)",
	"\"data_address\",(0,1)", NULL,
};

/* EG800K: no real =? output was found. Built from the ECx00x&EG800K FTP(S)
** AN's parameter list (as a third party transcribed it): contextid 1-15,
** ssltype 0-2, data_address <type>[,<data_timeout 15-50>], restenable,
** cache 0-2. The line forms follow the EG25-G's. */
static const char *const cfg_eg800k[] = {
	"\"account\",<username>,<password>", "\"filetype\",(0,1)", "\"transmode\",(0,1)",
	"\"contextid\",(1-15)", "\"rsptimeout\",(20-180)", "\"ssltype\",(0-2)", "\"sslctxid\",(0-5)",
	"\"data_address\",(0-2),(15-50)", "\"restenable\",(0,1)", "\"cache\",(0-2)", NULL,
};

#define EG25(build, rest)                                                                     \
	{"EG25-G", build, "EG25", "EG25GGBR07A08M2G", "EG25GGBR07A08M2G_" build, cfg_eg25, rest ? 9 : 8, \
	 16, 2, 2, rest ? 1 : -1, -1, 0, 200, 255, {"UFS", "RAM"}, 1, 0, 0, 0, NULL, 0}

static const sim_model models[] = {
	{"EC20", NULL, "EC20F", SIM_REVISION, NULL, cfg_ec20, 7, 16, 1, -1, -1, -1, 0, 200, 255,
	 {"RAM"}, 0, 0, 0, 0, NULL, 0},
	EG25("01.003.01.003", 1), /* the first EG25-G: the default build */
	EG25("01.002.01.002", 0),
	EG25("30.203.30.203", 1),
	EG25("A0.301.A0.301", 1),
	{"EG800K", NULL, "EG800K", "EG800KCNGCR07A06M04", "EG800KCNGCR07A06M04", cfg_eg800k, 10, 15, 2, 2,
	 1, 2, 1, 255, 128, {"UFS", "SD"}, 1, 1, 1, 1, NULL, 0},
	{"BG95-M3", NULL, "BG95-M3", "BG95M3LAR02A03", "BG95M3LAR02A03_01.011.01.011", cfg_bg95, 8, 16, 2,
	 1, -1, -1, 0, 200, 255, {"UFS"}, 1, 0, 0, 0, NULL, 0},
	/* M95 (GSM): ATI and AT+CGMM as public logs and ofono's Quectel driver
	** show them; its FTP dialect (QFTPUSER, QFTPPASS, QFTPPATH, numeric
	** QFTPCFG) is not simulated: every AT+QFTP command answers ERROR, so a
	** host that sends one anyway is seen to. No AT+QGMR output was found. */
	{"M95", NULL, "Quectel_M95", "M95FAR02A08", NULL, cfg_ec20, 0, 16, 1, -1, -1, -1, 0, 200, 255,
	 {"RAM"}, 0, 0, 0, 0, "Quectel_Ltd", 1},
};

const sim_model *model_find(const char *spec)
{
	char name[64];
	const char *build = strchr(spec, ':');
	size_t n = build ? (size_t)(build - spec) : strlen(spec);
	if (n >= sizeof name)
		return NULL;
	memcpy(name, spec, n);
	name[n] = 0;
	if (build)
		build++;
	for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
		const sim_model *m = &models[i];
		if (strcasecmp(m->name, name))
			continue;
		if (!build || (m->build && !strcmp(m->build, build)))
			return m;
	}
	return NULL;
}

void model_list(FILE *f)
{
	for (size_t i = 0; i < sizeof models / sizeof models[0]; i++)
		fprintf(f, "%s%s%s%s", i ? ", " : "", models[i].name, models[i].build ? ":" : "",
		        models[i].build ? models[i].build : "");
	fputc('\n', f);
}

/* A local name's storage: "DRV:" of the model, by the model's rules. On
** the EC20 only RAM:, in any case (the manual; bad names are parameter
** errors, 610). Elsewhere the drive names are case-sensitive: a real EC25
** answered 613 for "ufs:" (capture 02), and so does any drive the model
** does not have. Returns 0 with the canonical "DRV:name" in out, or the
** error code. */
int model_drive(const sim_model *m, const char *local, char *out, size_t len, int bad)
{
	const char *colon = strchr(local, ':');
	if (!colon || !colon[1] || strlen(local) + 1 > len)
		return m->drives_exact ? bad : 610;
	size_t dn = (size_t)(colon - local);
	for (int i = 0; i < 4 && m->drives[i]; i++) {
		const char *d = m->drives[i];
		if (strlen(d) != dn)
			continue;
		if (m->drives_exact ? !strncmp(d, local, dn) : !strncasecmp(d, local, dn)) {
			snprintf(out, len, "%s%s", d, colon);
			return 0;
		}
	}
	return m->drives_exact ? bad : 610;
}
