/*
** mf_lines.h: what a line the module prints by itself means.
**
** One table answers every question asked about a line that no command
** asked for: is it the module's own (a URC whatever is in flight), does it
** mean the module restarted (module, FTP session and PDP context lost; echo
** and verbose settings back to their defaults), does it mean the PDP
** context is gone (FTP session lost), can it end data mode (only after a
** quiet: inside a payload the same bytes are data). The AT engine, the
** download-end scanner, data mode and the Lua layer (core.line_class) all
** ask this table; none keeps a list of its own.
*/
#ifndef MF_LINES_H
#define MF_LINES_H

#include <stddef.h>

enum mf_line_class {
	MF_LC_OWN = 1u << 0,           /* the module's own unsolicited line (URC) */
	MF_LC_REBOOT = 1u << 1,        /* restart or power-down: everything the host knew is lost */
	MF_LC_PDP_LOST = 1u << 2,      /* the PDP context was deactivated: the FTP session is lost */
	MF_LC_ENDS_TRANSFER = 1u << 3, /* leaves data mode (a download ends on it after quiet) */
};

/* The classes of line[0..n) (no line end), 0 for a line the table does not
** know (an answer to a command, or payload). */
unsigned mf_line_classes(const char *line, size_t n);

/* 1 when line[0..n) is a line the module prints around a download's
** payload on its own: OK, any "+NAME: ..." result or URC, or a line of the
** table. The end scanner walks back over such lines to the payload. */
int mf_line_is_module_framing(const char *line, size_t n);

/* Names of the classes, in bit order, for the binding: "own", "reboot",
** "pdp_lost", "ends_transfer"; NULL-terminated. */
extern const char *const mf_line_class_names[];

#endif
