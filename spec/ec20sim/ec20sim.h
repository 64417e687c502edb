/*
** ec20sim.h: internals shared by the ec20sim files (not a library API).
**
** Threads: the main thread owns the pty, the AT engine and all module state;
** one worker thread owns libcurl and runs FTP jobs one at a time. They meet
** in three places only: the job queue (main -> worker), the event queue
** (worker -> main, woken through an eventfd) and the byte ring that carries
** data-mode payload in either direction with back-pressure.
*/
#ifndef EC20SIM_H
#define EC20SIM_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SIM_REVISION "EC20CEFAR06A01M4G"
#define SIM_MAX_LINE 4096
#define SIM_RING_CAP (1u << 20) /* data-mode buffer; memory stays constant */
#define SIM_HELD_CHUNKS 512      /* reads kept apart during a stall */
#define SIM_PATH_MAX 1024
#define SIM_MAX_FH 8

/* ---- growable byte queue: valid bytes are p[off..len) ---- */
typedef struct sbuf {
	unsigned char *p;
	size_t off, len, cap;
} sbuf;
void sb_put(sbuf *b, const void *d, size_t n);
void sb_puts(sbuf *b, const char *s);
void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
size_t sb_size(const sbuf *b);
const unsigned char *sb_data(const sbuf *b);
void sb_drop(sbuf *b, size_t n);
void sb_clear(sbuf *b);
void sb_free(sbuf *b);

/* ---- the data-mode ring: one producer, one consumer ---- */
typedef struct sim_ring {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned char *buf;
	size_t cap, head, len;
	int eof;   /* producer is done */
	int abort; /* transfer cancelled: both sides stop */
} sim_ring;
void ring_init(sim_ring *r, size_t cap);
void ring_destroy(sim_ring *r);
void ring_reset(sim_ring *r);
size_t ring_len(sim_ring *r);
size_t ring_space(sim_ring *r);
/* main side, never blocks */
size_t ring_peek(sim_ring *r, const unsigned char **p); /* contiguous readable run */
void ring_consume(sim_ring *r, size_t n);
size_t ring_write(sim_ring *r, const void *d, size_t n);
void ring_set_eof(sim_ring *r);
void ring_abort(sim_ring *r);
/* worker side, blocks */
int ring_push_wait(sim_ring *r, const void *d, size_t n);          /* 0 or -1 aborted */
long ring_pull_wait(sim_ring *r, void *d, size_t max);             /* >0, 0 eof, -1 aborted */

/* ---- FTP jobs ---- */
enum job_kind {
	J_OPEN, J_CLOSE, J_CWD, J_PWD, J_PUT, J_GET, J_LIST, J_NLST, J_MLSD,
	J_SIZE, J_DEL, J_MKDIR, J_RMDIR, J_RENAME, J_MDTM, J_RESET, J_QUIT
};

typedef struct sim_job {
	int kind;
	unsigned gen; /* the module "boot" that issued it; stale results are dropped */
	/* session settings, copied so that AT+QFTPCFG cannot change them mid-job */
	char host[256];
	int port;
	char user[256], pass[256];
	int binary, passive;
	int ssl;               /* 0 none, 1 explicit (AUTH TLS), 2 implicit */
	long rsp_ms;
	char path[SIM_PATH_MAX], path2[SIM_PATH_MAX]; /* absolute remote paths */
	int to_com;            /* payload goes through the ring (data mode) */
	long long startpos;
	long long limit;       /* GET: downloadlen, -1 none */
	unsigned char *ram;    /* GET to RAM: collected here; PUT from RAM: source */
	size_t ram_len, ram_cap, ram_limit;
	char ram_name[88];
	atomic_llong bytes;    /* payload bytes moved so far (AT+QFTPLEN) */
	atomic_int abort;      /* 0; -1 silently; or the <err> to report */
	atomic_int connected;  /* CONNECT already announced */
	int fault;             /* <err> forced by an injected fault */
	int quiet;             /* nobody waits for the result */
	int ghost;             /* a dead host's: its answers go nowhere */
	int late_ms;           /* late-reply: its result URC comes this late */
	int err, proto;        /* the result: <err>,<protocol_error> */
	char value[SIM_PATH_MAX]; /* SIZE, MDTM or PWD value */
	struct sim_job *next;
} sim_job;

enum ev_type { EV_CONNECT = 1, EV_DONE, EV_TRIGGER, EV_PROGRESS };
typedef struct sim_event {
	int type;
	sim_job *job;
	char cmd[256];
	struct sim_event *next;
} sim_event;

/* ---- the module model (ec20sim_model.c) ---- */
typedef struct sim_model {
	const char *name, *build;    /* --model NAME[:BUILD] */
	const char *ati_model;       /* ATI line 2, AT+CGMM */
	const char *revision;        /* ATI "Revision: ", AT+GMR */
	const char *qgmr;            /* AT+QGMR; NULL: ERROR */
	const char *const *cfg_test; /* AT+QFTPCFG=? lines, after "+QFTPCFG: " */
	int cfg_n;                   /* how many of them this build prints */
	/* highest value of each setting; -1: the model does not have it */
	int ctx_max, ssl_max, data_address_max, restenable_max, cache_max;
	int data_timeout;            /* "data_address",<type>[,<data_timeout>] */
	int host_max, path_max;      /* QFTPOPEN hostname, QFTPCWD path */
	const char *drives[4];       /* storage names, without ':' */
	int drives_exact;            /* case-sensitive; other names: 613 */
	int escape_aborts;           /* +++ aborts a download; ATO: NO CARRIER */
	int pwd_quoted;              /* +QFTPPWD: 0,"/dir" */
	int mask_password;           /* "account" read back with '*' */
	const char *manufacturer;    /* ATI line 1, AT+GMI; NULL: "Quectel" */
	int gsm;                     /* the GSM parts' FTP dialect: not simulated, AT+QFTP* answer ERROR */
} sim_model;
const sim_model *model_find(const char *spec); /* "EG25-G:01.002.01.002"; NULL unknown */
void model_list(FILE *f);
int model_drive(const sim_model *m, const char *local, char *out, size_t len, int bad);

/* ---- module state ---- */
enum sim_state {
	ST_CMD,          /* AT command mode */
	ST_WAIT_CONNECT, /* a COM: command waits for the data connection */
	ST_DATA_OUT,     /* GET/LIST/NLST/MLSD payload flows to the host */
	ST_DATA_IN,      /* PUT / QFUPL / QFWRITE payload flows from the host */
	ST_SUSPENDED,    /* host left a download with +++; ATO resumes it */
	ST_WAIT_IDLE,    /* a command waits until the FTP worker is idle */
	ST_BOOTING       /* rebooting: deaf and mute until RDY */
};
enum sink { SINK_FTP, SINK_QFUPL, SINK_QFWRITE };

typedef struct sim_opts {
	const char *pty_file, *control;
	int guard_ms;
	double timeout_scale;
	long baud;
	int quirks, allow_remote, verbose, pdp_active, boot_urcs, exit_on_hangup;
	int boot_ms;
	int verbose_codes;  /* ATV at power-on (1; --verbose-codes 0) */
	int close_async_ms; /* QFTPCLOSE result this much after its OK */
	int escape_aborts;  /* -1: the model's */
	const char *model, *pty_link;
	size_t ram_size;
	const char *faults[32];
	int nfaults;
} sim_opts;

typedef struct sim_cfg {
	char user[256], pass[256];
	int filetype, transmode, contextid, rsptimeout, ssltype, sslctxid;
	int data_address, data_timeout, restenable, cache; /* stored, not acted on */
} sim_cfg;

typedef struct ramfile {
	char name[88]; /* with its drive: "RAM:name" */
	unsigned char *data;
	size_t len, cap;
	int opens;
	struct ramfile *next;
} ramfile;

typedef struct ramfh {
	ramfile *f; /* NULL: free slot */
	size_t pos;
	int mode;
} ramfh;

typedef struct pdp_ctx {
	int active, type, auth;
	char apn[101], user[128], pass[128];
} pdp_ctx;

typedef struct sim {
	sim_opts o;
	const sim_model *model;
	int master, slave, evfd, sigfd, ctlfd, ctlwfd;
	int running;
	int client_seen;
	sbuf out;      /* responses and URCs waiting for the pty */
	sbuf in;       /* bytes read from the pty, not yet consumed */
	sbuf deferred; /* URCs raised in data mode or inside a command line, emitted after it */
	sbuf post;     /* URCs that follow the final result of this line */
	int64_t in_t;  /* when the bytes in `in` arrived */
	/* A stall takes nothing, but what the host sends meanwhile is read and
	** kept with its arrival times, so that a "+++" sent after a silence is
	** still one after the stall (in the pty it would lose its time). */
	sbuf held;
	size_t held_len[SIM_HELD_CHUNKS]; /* the reads it came in, oldest first */
	int64_t held_t[SIM_HELD_CHUNKS];
	int held_head, held_n;
	int state;
	int info_open; /* an information response block is open */

	/* AT settings */
	int verbose; /* ATV1 (text) or ATV0 (numeric result codes) */
	int echo, cmee, dtr_mode, ifc[2], cgreg, creg, cereg, cfun;
	char line[SIM_MAX_LINE];
	size_t line_len;
	char pending[SIM_MAX_LINE]; /* ST_WAIT_IDLE: the rest of a command line */
	int reboot_after_line; /* AT+CFUN=1,1: OK first, then the module restarts */

	pdp_ctx pdp[17];
	int cgatt;

	/* FTP session as the AT side sees it */
	sim_cfg cfg;
	int ftpstat; /* AT+QFTPSTAT value: 0 opening .. 4 closed */
	char host[256];
	int port;
	char cwd[SIM_PATH_MAX];
	long long last_len;  /* AT+QFTPLEN */
	sim_job *cur;        /* the job the AT side waits for */
	int outstanding;     /* jobs queued or running in the worker */
	unsigned gen;
	sim_ring ring;

	/* data mode */
	int sink;
	long long seg_count, seg_limit; /* bytes of this data-mode segment; -1 none */
	int beof;
	int64_t last_rx;     /* last byte from the host (guard times) */
	int64_t act_t;       /* last sign of upload activity (rsptimeout) */
	int plus_n;          /* '+' held back as a possible escape */
	int64_t plus_t0;
	sim_job *done;       /* finished job waiting until its payload is out */
	int put_after_ok;    /* PUT: OK sent, result URC follows the job */
	int parked;          /* PUT beof=0: data connection kept open */
	long long parked_end;
	char parked_file[SIM_PATH_MAX];
	int await_drain;     /* beof=0 segment: URC once the worker took all */
	ramfile *upl;        /* QFUPL target */
	char upl_name[64];
	int ackmode;
	long long ack_next;
	int64_t upl_deadline;
	int wfh;             /* QFWRITE handle */

	/* faults */
	int64_t stall_until, boot_until;
	long noise_pending;
	uint32_t rng;

	/* module states (ec20sim_state.c) */
	int mute;            /* output dropped: what a dead host was answered */
	int64_t hold_until;  /* late-reply: output past hold_mark waits */
	size_t hold_mark;    /* bytes of `out` that may go meanwhile */
	int late_ms;         /* armed: the next command's answer comes late */
	int escape_aborts;   /* +++ aborts a download (EG800K) */
	int close_async_ms;
	int64_t close_due;   /* a finished QFTPCLOSE reports then (0: none) */
	int fail_data;       /* armed: the next transfer's data connection fails */
	int data_dead;       /* after it: FTP commands 603 until QFTPCLOSE */
	sim_job *closed;     /* close-async: the finished QFTPCLOSE waits */
	int sim_busy_ms, sim_absent; /* boot-sim-busy, for the next boot */
	int64_t sim_absent_until, sim_busy_until; /* CPIN? answers 10 / 14 */
	int sim_ready_urcs;  /* the SIM URCs are still to come */
	int prober_ms, prober_i;
	int64_t prober_next;
	char after_open[300]; /* a control command that waits for session-open */
	int64_t vanish_until; /* the pty is gone until then */
	int reg_forced, reg_cgreg, reg_cereg; /* registration: the <stat> answered (ec20sim_network.c) */
	int pdp_auto_cid;    /* pdp-auto: a context the network activated on its own (0: none) */

	/* line-rate emulation */
	double tok_out, tok_in;
	int64_t tok_t;

	/* RAM file system */
	ramfile *ram;
	size_t ram_used;
	ramfh fh[SIM_MAX_FH];

	/* worker plumbing */
	pthread_t worker;
	int worker_started;
	pthread_mutex_t jmu;
	pthread_cond_t jcv;
	sim_job *jhead, *jtail;
	pthread_mutex_t evmu;
	sim_event *evhead, *evtail;

	/* faults shared with the worker (fmu) */
	pthread_mutex_t fmu;
	pthread_cond_t fcv;
	long long drop_data_at, drop_ctrl_at, after_at;
	char after_cmd[256];
	int trig_ack;

	/* sockets curl opened (smu): the main thread may shut them down */
	pthread_mutex_t smu;
	int socks[16];
	int nsocks;
	int ctrl_fd;
	void *wx; /* worker only: the transfer in progress */
	void *cm; /* worker only: the session's CURLM, which keeps its connection */
} sim;

/* ec20sim.c */
int64_t sim_now(void);
void sim_log(sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sim_wake(sim *s);
void out_raw(sim *s, const void *p, size_t n);
void out_info(sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void out_urc(sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void out_final(sim *s, const char *text);
void out_cme(sim *s, int code);
void out_line(sim *s, sbuf *b, const char *text); /* framed per ATV */
void hold_output(sim *s, size_t mark, int ms); /* out past mark waits ms */
int sim_ctl_exec(sim *s, const char *cmd, char *err, size_t errlen);
long sim_rsp_ms(const sim *s);
int host_is_loopback(const char *host);

/* The AT side (its files share ec20sim_at.h). ec20sim_module.c: */
void at_init(sim *s);
void at_reset(sim *s, int boot);
void at_reboot(sim *s);
/* ec20sim_datamode.c: */
void at_consume(sim *s);
void at_tick(sim *s);            /* timers: guard times, timeouts */
int64_t at_next_deadline(sim *s); /* -1 none */
void at_on_event(sim *s, sim_event *e);
void at_after_output(sim *s);    /* data-mode bookkeeping once output moved */
void at_dtr_drop(sim *s);
int at_in_data_mode(const sim *s);
int at_urcs_wait(const sim *s);  /* data mode, or a command line half received */
void at_flush_deferred(sim *s);  /* the URCs that waited, now */
size_t at_read_limit(sim *s);    /* how many bytes the pty reader may take now */
/* ec20sim_cmd_net.c: */
void at_pdp_deact(sim *s);
/* ec20sim_state.c: module states set by control commands; 1 handled,
** 0 not a state command, -1 bad (err says why) */
int state_ctl(sim *s, const char *w, const char *arg, char *err, size_t errlen);
/* ec20sim_network.c: registration and PDP bring-up states; 1 handled, 0 not its, -1 bad */
int network_ctl(sim *s, const char *w, const char *rest, char *err, size_t errlen);
void state_tick(sim *s);
int64_t state_deadline(sim *s); /* -1 none */

/* ec20sim_ram.c */
ramfile *ram_find(sim *s, const char *name);
ramfile *ram_create(sim *s, const char *name);
int ram_reserve(sim *s, ramfile *f, size_t need);
int ram_append(sim *s, ramfile *f, const void *d, size_t n);
void ram_delete(sim *s, ramfile *f);
void ram_clear(sim *s);
void ram_clear_drive(sim *s, const char *drv); /* "RAM": its files; NULL all */
unsigned ram_checksum(const unsigned char *d, size_t n);

/* ec20sim_ftp.c */
int ftp_start(sim *s);
void ftp_stop(sim *s);
void ftp_submit(sim *s, sim_job *j);
sim_job *job_new(sim *s, int kind);
void job_free(sim_job *j);
void ftp_abort(sim *s, sim_job *j, int err);
void ftp_shutdown_ctrl(sim *s);
void ftp_shutdown_all(sim *s);
void ftp_post(sim *s, int type, sim_job *j, const char *cmd);
sim_event *ftp_next_event(sim *s);

#endif
