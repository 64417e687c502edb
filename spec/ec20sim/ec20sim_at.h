/*
** ec20sim_at.h: what the files of the module's AT side share. The rest of
** the simulator sees only the at_* functions of ec20sim.h; these are the
** seams between the line engine (ec20sim_line.c), the module's life
** (ec20sim_module.c), data mode (ec20sim_datamode.c) and the command
** handlers (ec20sim_cmd_ftp.c, ec20sim_cmd_file.c, ec20sim_cmd_net.c).
*/
#ifndef EC20SIM_AT_H
#define EC20SIM_AT_H

#include "ec20sim.h"

/* What a handler returns: the final result code the line engine prints
** (RC_OK, RC_ERROR, or >0: +CME ERROR: <n>); RC_NONE when the handler has
** answered itself (CONNECT ..., a result URC alone); RC_DEFER to run the
** rest of the line once the FTP worker is idle. */
enum { RC_OK = 0, RC_ERROR = -1, RC_NONE = -2, RC_DEFER = -3 };
/* the forms of an extended command: AT+X, AT+X=?, AT+X?, AT+X=<args> */
enum { F_EXEC, F_TEST, F_READ, F_WRITE };

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

typedef int (*at_handler)(sim *s, int f, args *A);
typedef struct at_cmd {
	const char *name; /* after the "AT+" */
	at_handler h;
} at_cmd;

/* The command tables, each ended by {NULL, NULL}: ec20sim_cmd_ftp.c,
** ec20sim_cmd_file.c, ec20sim_cmd_net.c. */
extern const at_cmd cmd_ftp[], cmd_file[], cmd_net[];

/* ec20sim_line.c: the command line and its arguments */
int has(const args *A, int i);
int get_int(const args *A, int i, long long lo, long long hi, long long def, long long *out);
int get_str(const args *A, int i, size_t maxlen, const char **out);
void post_urc(sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cmd_bytes(sim *s);
void run_pending_line(sim *s);
void run_line(sim *s, const char *line); /* as if the host had sent it */

/* ec20sim_module.c */
void boot_urcs(sim *s);
void sim_ready(sim *s); /* the SIM's URCs: +CPIN: READY .. +QIND: PB DONE */
void reboot_module(sim *s, int keep_out);

/* ec20sim_datamode.c */
void out_connect(sim *s);
int resume_download(sim *s); /* ATO */
void begin_put_segment(sim *s, long long startpos, long long limit, int beof);
void continue_upload(sim *s, long long startpos, long long limit, int beof);
void begin_file_in(sim *s, int sink, long long size, long long tmo, int ackmode);

/* ec20sim_cmd_ftp.c */
void report_result(sim *s, sim_job *j);
void session_lost(sim *s, int err);
int session_open(const sim *s);
void finish_close(sim *s); /* close-async: the held +QFTPCLOSE result */

/* ec20sim_network.c: registration <stat> of +CGREG/+CREG/+CEREG, whether
** the network refuses another PDP context, AT+CGACT */
int network_reg_stat(const sim *s, const char *name);
int network_pdp_refused(const sim *s);
int at_cgact(sim *s, int f, args *A);

/* ec20sim_datamode.c: +++ in escape-aborts mode */
void abort_download(sim *s);

#endif
