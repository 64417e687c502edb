/* test_lines.c: the one table of the module's own lines (mf_lines.h). */
#include "mf_lines.h"
#include "tap.h"

#include <string.h>

static unsigned cls(const char *line)
{
	return mf_line_classes(line, strlen(line));
}

int main(void)
{
	const unsigned boot = MF_LC_OWN | MF_LC_REBOOT | MF_LC_ENDS_TRANSFER;
	is_int((int)cls("RDY"), (int)boot, "RDY: own, reboot, ends a transfer");
	is_int((int)cls("POWERED DOWN"), (int)boot, "POWERED DOWN: the same as RDY");
	is_int((int)cls("NORMAL POWER DOWN"), (int)boot, "NORMAL POWER DOWN: the same as RDY");
	is_int((int)cls("NO CARRIER"), MF_LC_ENDS_TRANSFER, "NO CARRIER ends data mode but is a result code, not a URC");
	is_int((int)cls("+QIURC: \"pdpdeact\",1"), MF_LC_OWN | MF_LC_PDP_LOST, "pdpdeact: own, PDP lost");
	is_int((int)cls("+QIURC: \"recv\",0"), MF_LC_OWN, "another +QIURC is only the module's own");
	is_int((int)cls("+QFTPCLOSE: 0,0"), MF_LC_OWN, "a late +QFTP result is the module's own");
	is_int((int)cls("+CPIN: READY"), MF_LC_OWN, "boot burst line +CPIN");
	is_int((int)cls("+QIND: SMS DONE"), MF_LC_OWN, "boot burst line +QIND");
	is_int((int)cls("RDYX"), 0, "whole-line rules need the whole line");
	is_int((int)cls("RD"), 0, "a prefix of a whole-line rule is nothing");
	is_int((int)cls("OK"), 0, "OK is a result code, not in the table");
	is_int((int)cls("hello"), 0, "payload is nothing");
	ok(mf_line_classes("RDY\r\n", 3) == boot, "the length bounds the line (no NUL needed)");
	ok(mf_line_is_module_framing("OK", 2), "OK frames a payload");
	ok(mf_line_is_module_framing("+QFTPGET: 0,10", 14), "a +NAME line frames a payload");
	ok(mf_line_is_module_framing("NO CARRIER", 10), "NO CARRIER frames a payload");
	ok(!mf_line_is_module_framing("+", 1), "a lone + does not");
	ok(!mf_line_is_module_framing("OKAY", 4), "OKAY does not");
	is_str(mf_line_class_names[0], "own", "class names in bit order");
	is_str(mf_line_class_names[3], "ends_transfer", "last class name");
	ok(mf_line_class_names[4] == NULL, "names end with NULL");
	return tap_done();
}
