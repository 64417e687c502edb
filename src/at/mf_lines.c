/*
** mf_lines.c: the table of the module's own lines (see mf_lines.h).
**
** Sources: the EC20 FTP manual (URCs of chapter 2, +QIURC "pdpdeact"), the
** boot burst of real EC20/EC21/EC25/EG800K/BG96 captures (RDY, +CFUN,
** +CPIN, +QUSIM, +QIND), and the power-down lines of AT+QPOWD.
*/
#include "mf_lines.h"

#include <string.h>

typedef struct line_rule {
	const char *text;
	unsigned prefix; /* 1: text is a prefix; 0: the whole line */
	unsigned classes;
} line_rule;

#define OWN MF_LC_OWN
#define REBOOT MF_LC_REBOOT
#define PDP MF_LC_PDP_LOST
#define ENDS MF_LC_ENDS_TRANSFER

/* First match wins: specific rules stand before the prefix they refine. */
static const line_rule rules[] = {
	{"RDY", 0, OWN | REBOOT | ENDS},
	{"POWERED DOWN", 0, OWN | REBOOT | ENDS},
	{"NORMAL POWER DOWN", 0, OWN | REBOOT | ENDS},
	{"NO CARRIER", 0, ENDS}, /* a final result code, not a URC: it ends data mode */
	{"+QIURC: \"pdpdeact\"", 1, OWN | PDP},
	{"+QIURC:", 1, OWN},
	{"+QUSIM:", 1, OWN},
	{"+QIND:", 1, OWN},
	{"+CPIN:", 1, OWN},
	{"+CFUN:", 1, OWN},
	{"+CREG:", 1, OWN},
	{"+CGREG:", 1, OWN},
	{"+CEREG:", 1, OWN},
	{"+CGEV:", 1, OWN},
	{"+QSTATE:", 1, OWN},
	{"+QUSB:", 1, OWN},
	{"+QSIMSTAT:", 1, OWN},
	{"+QFTP", 1, OWN}, /* late results of an earlier command: +QFTPCLOSE: 0,0 */
	{"+CRING:", 1, OWN},
	{"RING", 0, OWN},
	{"+CMTI:", 1, OWN},
	{"+CMT:", 1, OWN},
	{"+CDS:", 1, OWN},
};

const char *const mf_line_class_names[] = {"own", "reboot", "pdp_lost", "ends_transfer", NULL};

unsigned mf_line_classes(const char *line, size_t n)
{
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
		size_t tn = strlen(rules[i].text);
		if (rules[i].prefix ? (n >= tn && memcmp(line, rules[i].text, tn) == 0)
		                    : (n == tn && memcmp(line, rules[i].text, tn) == 0))
			return rules[i].classes;
	}
	return 0;
}

int mf_line_is_module_framing(const char *line, size_t n)
{
	if (n == 2 && memcmp(line, "OK", 2) == 0)
		return 1;
	if (n > 1 && line[0] == '+')
		return 1;
	return mf_line_classes(line, n) != 0;
}
