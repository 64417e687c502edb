/*
** mf_transport.c: spec dispatch, deadlines and write-all over any backend.
*/
#include "mf_transport.h"
#include "mf_transcript.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void mf_port_opts_init(mf_port_opts *o)
{
	memset(o, 0, sizeof *o);
	o->baud = 115200;
	o->dtr = 1;
	o->connect_timeout_ms = 5000;
}

int64_t mf_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int mf_left_ms(int64_t deadline_ms)
{
	int64_t left_ms = deadline_ms - mf_now_ms();
	if (left_ms < 0)
		return 0;
	return left_ms > 0x7fffffff ? 0x7fffffff : (int)left_ms;
}

void mf_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

const char *mf_strerror(int code)
{
	switch (code) {
	case MF_OK: return "ok";
	case MF_ETIMEOUT: return "timeout";
	case MF_ECLOSED: return "closed";
	case MF_EIO: return "io";
	case MF_EARG: return "argument";
	case MF_EMEM: return "memory";
	case MF_ESUPP: return "unsupported";
	case MF_EPROTO: return "protocol";
	case MF_EMODEM: return "modem";
	case MF_EINTR: return "interrupted";
	case MF_EMISMATCH: return "mismatch";
	case MF_EPAUSED: return "paused";
	case MF_EFOREIGN: return "foreign";
	case MF_EBUSY: return "busy";
	default: return "unknown";
	}
}

int mf_write_all(mf_transport *t, const void *buf, size_t len, int64_t deadline_ms, size_t *written)
{
	const char *p = buf;
	size_t done = 0;
	int rc = MF_OK;
	while (done < len) {
		int left_ms = mf_left_ms(deadline_ms);
		long n = t->ops->write(t, p + done, len - done, left_ms);
		if (n < 0) {
			rc = (int)n;
			break;
		}
		done += (size_t)n;
		if (done < len && left_ms == 0) {
			snprintf(t->err, sizeof t->err, "write: deadline hit after %zu of %zu bytes", done, len);
			rc = MF_ETIMEOUT;
			break;
		}
	}
	if (written)
		*written = done;
	return rc;
}

static int starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int mf_transport_open(const char *spec, const mf_port_opts *o, mf_transport **out,
                      char *err, size_t errlen)
{
	mf_port_opts defaults;
	*out = NULL;
	if (!spec || !*spec) {
		snprintf(err, errlen, "empty port spec");
		return MF_EARG;
	}
	if (!o) {
		mf_port_opts_init(&defaults);
		o = &defaults;
	}
	if (starts(spec, "serial:"))
		return mf_sp_open(spec + 7, o, out, err, errlen);
	if (starts(spec, "tty:"))
		return mf_tty_open(spec + 4, o, out, err, errlen);
	if (starts(spec, "tcp:"))
		return mf_tcp_open(spec + 4, o, out, err, errlen);
	if (starts(spec, "replay:"))
		return mf_replay_open(spec + 7, o, out, err, errlen);
	if (spec[0] != '/') {
		snprintf(err, errlen, "unknown port spec '%s' (want /dev/..., serial:, tty:, tcp: or replay:)", spec);
		return MF_EARG;
	}
	/* A bare path: libserialport first (it knows USB ports); it cannot open
	** ptys ("No such file or directory" from its sysfs lookup), so fall back
	** to plain termios for anything it refuses. */
	int rc = mf_sp_open(spec, o, out, err, errlen);
	if (rc == MF_OK || rc == MF_EBUSY)
		return rc;
	char sperr[MF_ERRLEN];
	snprintf(sperr, sizeof sperr, "%s", err);
	rc = mf_tty_open(spec, o, out, err, errlen);
	if (rc != MF_OK) {
		char tyerr[MF_ERRLEN];
		snprintf(tyerr, sizeof tyerr, "%s", err);
		snprintf(err, errlen, "%s (libserialport: %s)", tyerr, sperr);
	}
	return rc;
}
