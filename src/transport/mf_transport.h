/*
** mf_transport.h: the byte pipe under everything else.
**
** A transport moves bytes between the host and a modem. Every call that can
** wait takes a timeout in milliseconds and never waits longer; nothing here
** parses AT traffic. Backends are chosen by a spec string (see
** mf_transport_open): libserialport ports, ttys/ptys through termios, raw TCP
** serial servers (ser2net), and the transcript player (replay:FILE). The
** recorder wraps any transport and tees its traffic into a transcript.
**
** Every descriptor a transport holds (the port, a recording's file) is
** close-on-exec: a child process (a job's os.execute) never inherits it.
**
** Return convention: byte counts are >= 0; failures are the negative MF_E*
** codes below, with a human-readable reason in t->err.
*/
#ifndef MF_TRANSPORT_H
#define MF_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

/* Small, classed error set (after libserialport's sp_return). */
enum {
	MF_OK = 0,
	MF_ETIMEOUT = -1,  /* deadline hit; partial results are kept by the caller */
	MF_ECLOSED = -2,   /* port vanished, peer closed, USB unplugged */
	MF_EIO = -3,       /* OS error (errno text in err) */
	MF_EARG = -4,      /* caller bug: bad argument */
	MF_EMEM = -5,      /* out of memory */
	MF_ESUPP = -6,     /* not supported by this backend */
	MF_EPROTO = -7,    /* garbage or overflow from the modem */
	MF_EMODEM = -8,    /* the modem answered ERROR / +CME ERROR / NO CARRIER */
	MF_EINTR = -9,     /* interrupted by the user (SIGINT/SIGTERM) */
	MF_EMISMATCH = -10, /* replay: the host sent something the transcript did not */
	MF_EPAUSED = -11,   /* a download left data mode on request: ATO resumes it */
	MF_EFOREIGN = -12,  /* another program talks on the port (ModemManager?) */
	MF_EBUSY = -13      /* the port is held by another process */
};

#define MF_ERRLEN 256

typedef struct mf_transport mf_transport;

typedef struct mf_transport_ops {
	const char *kind; /* "serial", "tty", "tcp", "replay", "record" */
	/* Read up to len bytes; waits at most timeout_ms for the first byte.
	** Returns bytes read (> 0), 0 on timeout, or MF_E* (< 0). */
	long (*read)(mf_transport *t, void *buf, size_t len, int timeout_ms);
	/* Write up to len bytes within timeout_ms. Returns bytes written (may be
	** short on timeout, possibly 0) or MF_E* (< 0). */
	long (*write)(mf_transport *t, const void *buf, size_t len, int timeout_ms);
	/* Wait until written bytes have left the host (tcdrain). */
	int (*drain)(mf_transport *t, int timeout_ms);
	int (*set_dtr)(mf_transport *t, int on);
	int (*set_rts)(mf_transport *t, int on);
	/* Free everything; t is invalid afterwards. */
	void (*close)(mf_transport *t);
} mf_transport_ops;

struct mf_transport {
	const mf_transport_ops *ops;
	char err[MF_ERRLEN]; /* reason for the last failure */
};

typedef struct mf_port_opts {
	int baud;      /* default 115200 */
	int rtscts;    /* hardware flow control */
	int dtr;       /* initial DTR level: 1 asserted (default), 0 off */
	int connect_timeout_ms; /* tcp: connect deadline (default 5000) */
} mf_port_opts;

void mf_port_opts_init(mf_port_opts *o);

/* Open a transport from a spec:
**   "serial:/dev/ttyUSB2"  libserialport
**   "tty:/dev/pts/3"       termios (ptys, and ttys libserialport cannot open)
**   "tcp:HOST:PORT"        raw TCP serial server (ser2net)
**   "replay:FILE"          transcript player
**   "/dev/..." (no prefix) libserialport, falling back to termios
** Returns MF_OK and *out, or MF_E* with the reason in err. */
int mf_transport_open(const char *spec, const mf_port_opts *o, mf_transport **out,
                      char *err, size_t errlen);

/* Backends (each in its own file). Same contract as mf_transport_open. */
int mf_tty_open(const char *path, const mf_port_opts *o, mf_transport **out, char *err, size_t errlen);
int mf_sp_open(const char *path, const mf_port_opts *o, mf_transport **out, char *err, size_t errlen);
int mf_tcp_open(const char *hostport, const mf_port_opts *o, mf_transport **out, char *err, size_t errlen);

/* Write all of buf before the absolute deadline (mf_now_ms() clock).
** Returns MF_OK or MF_E*; *written (if not NULL) gets the bytes that left. */
int mf_write_all(mf_transport *t, const void *buf, size_t len, int64_t deadline_ms, size_t *written);

/* Monotonic milliseconds, and the time left until a deadline (>= 0). */
int64_t mf_now_ms(void);
int mf_left_ms(int64_t deadline_ms);
void mf_sleep_ms(int ms);

/* Name of an MF_E* code: "timeout", "closed", ... */
const char *mf_strerror(int code);

#endif
