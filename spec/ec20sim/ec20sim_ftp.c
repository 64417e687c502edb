/*
** ec20sim_ftp.c: the module's FTP client, done with libcurl in a worker
** thread. One easy handle, run in a multi handle of its own whose cache
** keeps the connection, lives from AT+QFTPOPEN to AT+QFTPCLOSE, so the
** control connection is reused like the module's. Every request uses
** absolute paths with CURLFTPMETHOD_NOCWD: the simulator keeps the current
** directory itself and curl never changes the server's behind its back.
**
** Faults: the worker checks the armed byte thresholds (drop-data, drop-ctrl,
** "after N CMD") in the data callbacks, where the data socket is known to
** be open, so it can shut exactly that socket down at an exact byte count.
*/
#include "ec20sim.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

/* ------------------------------------------------------------------ ring */

void ring_init(sim_ring *r, size_t cap)
{
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	r->buf = malloc(cap);
	r->cap = r->buf ? cap : 0;
	r->head = r->len = 0;
	r->eof = r->abort = 0;
}

void ring_destroy(sim_ring *r)
{
	free(r->buf);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
}

void ring_reset(sim_ring *r)
{
	pthread_mutex_lock(&r->mu);
	r->head = r->len = 0;
	r->eof = r->abort = 0;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

size_t ring_len(sim_ring *r)
{
	pthread_mutex_lock(&r->mu);
	size_t n = r->len;
	pthread_mutex_unlock(&r->mu);
	return n;
}

size_t ring_space(sim_ring *r)
{
	pthread_mutex_lock(&r->mu);
	size_t n = r->cap - r->len;
	pthread_mutex_unlock(&r->mu);
	return n;
}

/* The producer only writes outside [head, head+len), so the caller may read
** the returned run without the lock until it calls ring_consume. */
size_t ring_peek(sim_ring *r, const unsigned char **p)
{
	pthread_mutex_lock(&r->mu);
	size_t n = r->len;
	if (r->head + n > r->cap)
		n = r->cap - r->head;
	*p = r->buf + r->head;
	pthread_mutex_unlock(&r->mu);
	return n;
}

void ring_consume(sim_ring *r, size_t n)
{
	pthread_mutex_lock(&r->mu);
	if (n > r->len)
		n = r->len;
	r->head = (r->head + n) % r->cap;
	r->len -= n;
	if (r->len == 0)
		r->head = 0;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

static size_t ring_put_locked(sim_ring *r, const unsigned char *d, size_t n)
{
	size_t done = 0;
	while (done < n && r->len < r->cap) {
		size_t tail = (r->head + r->len) % r->cap;
		size_t run = r->cap - tail;
		if (run > r->cap - r->len)
			run = r->cap - r->len;
		if (run > n - done)
			run = n - done;
		memcpy(r->buf + tail, d + done, run);
		r->len += run;
		done += run;
	}
	return done;
}

size_t ring_write(sim_ring *r, const void *d, size_t n)
{
	pthread_mutex_lock(&r->mu);
	size_t done = ring_put_locked(r, d, n);
	if (done)
		pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return done;
}

void ring_set_eof(sim_ring *r)
{
	pthread_mutex_lock(&r->mu);
	r->eof = 1;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

void ring_abort(sim_ring *r)
{
	pthread_mutex_lock(&r->mu);
	r->abort = 1;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

int ring_push_wait(sim_ring *r, const void *d, size_t n)
{
	const unsigned char *p = d;
	pthread_mutex_lock(&r->mu);
	while (n > 0) {
		if (r->abort)
			break;
		size_t k = ring_put_locked(r, p, n);
		if (k) {
			p += k;
			n -= k;
			pthread_cond_broadcast(&r->cv);
			continue;
		}
		pthread_cond_wait(&r->cv, &r->mu);
	}
	int rc = r->abort ? -1 : 0;
	pthread_mutex_unlock(&r->mu);
	return rc;
}

long ring_pull_wait(sim_ring *r, void *d, size_t max)
{
	unsigned char *p = d;
	long got = 0;
	pthread_mutex_lock(&r->mu);
	while (!r->abort && r->len == 0 && !r->eof)
		pthread_cond_wait(&r->cv, &r->mu);
	if (r->abort) {
		pthread_mutex_unlock(&r->mu);
		return -1;
	}
	while ((size_t)got < max && r->len > 0) {
		size_t run = r->cap - r->head;
		if (run > r->len)
			run = r->len;
		if (run > max - (size_t)got)
			run = max - (size_t)got;
		memcpy(p + got, r->buf + r->head, run);
		r->head = (r->head + run) % r->cap;
		r->len -= run;
		got += (long)run;
	}
	if (r->len == 0)
		r->head = 0;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return got;
}

/* ------------------------------------------------------------- plumbing */

sim_job *job_new(sim *s, int kind)
{
	sim_job *j = calloc(1, sizeof *j);
	if (!j)
		return NULL;
	j->kind = kind;
	j->gen = s->gen;
	snprintf(j->host, sizeof j->host, "%s", s->host);
	j->port = s->port;
	snprintf(j->user, sizeof j->user, "%s", s->cfg.user);
	snprintf(j->pass, sizeof j->pass, "%s", s->cfg.pass);
	j->binary = s->cfg.filetype == 0;
	j->passive = s->cfg.transmode == 1;
	/* EC20 V1.0: ssltype 1 is FTPS, implicit on port 990, else AUTH TLS.
	** ssltype (0-2) models: 1 implicit, 2 explicit (Quectel's SDK). */
	if (s->model->ssl_max == 1)
		j->ssl = s->cfg.ssltype == 1 ? (s->port == 990 ? 2 : 1) : 0;
	else
		j->ssl = s->cfg.ssltype == 1 ? 2 : s->cfg.ssltype == 2 ? 1 : 0;
	j->rsp_ms = sim_rsp_ms(s);
	j->limit = -1;
	atomic_init(&j->bytes, 0);
	atomic_init(&j->abort, 0);
	atomic_init(&j->connected, 0);
	return j;
}

void job_free(sim_job *j)
{
	if (!j)
		return;
	free(j->ram);
	memset(j->pass, 0, sizeof j->pass);
	free(j);
}

void ftp_post(sim *s, int type, sim_job *j, const char *cmd)
{
	sim_event *e = calloc(1, sizeof *e);
	if (!e)
		return; /* out of memory: nothing sane left to do */
	e->type = type;
	e->job = j;
	if (cmd)
		snprintf(e->cmd, sizeof e->cmd, "%s", cmd);
	pthread_mutex_lock(&s->evmu);
	if (s->evtail)
		s->evtail->next = e;
	else
		s->evhead = e;
	s->evtail = e;
	pthread_mutex_unlock(&s->evmu);
	sim_wake(s);
}

sim_event *ftp_next_event(sim *s)
{
	pthread_mutex_lock(&s->evmu);
	sim_event *e = s->evhead;
	if (e) {
		s->evhead = e->next;
		if (!s->evhead)
			s->evtail = NULL;
	}
	pthread_mutex_unlock(&s->evmu);
	return e;
}

void ftp_submit(sim *s, sim_job *j)
{
	s->outstanding++;
	pthread_mutex_lock(&s->jmu);
	if (s->jtail)
		s->jtail->next = j;
	else
		s->jhead = j;
	s->jtail = j;
	pthread_cond_signal(&s->jcv);
	pthread_mutex_unlock(&s->jmu);
}

/* Cancel a job: it stops at its next callback; err is what it reports
** (-1: nothing). Sockets are not touched here; see ftp_shutdown_*. */
void ftp_abort(sim *s, sim_job *j, int err)
{
	if (!j)
		return;
	int zero = 0;
	atomic_compare_exchange_strong(&j->abort, &zero, err);
	if (j->to_com)
		ring_abort(&s->ring);
	pthread_mutex_lock(&s->fmu);
	pthread_cond_broadcast(&s->fcv);
	pthread_mutex_unlock(&s->fmu);
}

void ftp_shutdown_ctrl(sim *s)
{
	pthread_mutex_lock(&s->smu);
	if (s->ctrl_fd >= 0)
		shutdown(s->ctrl_fd, SHUT_RDWR);
	pthread_mutex_unlock(&s->smu);
}

/* Sockets are closed only under smu (closesocket callback), so a tracked
** descriptor cannot have been reused by the time we shut it down. */
void ftp_shutdown_all(sim *s)
{
	pthread_mutex_lock(&s->smu);
	for (int i = 0; i < s->nsocks; i++)
		shutdown(s->socks[i], SHUT_RDWR);
	pthread_mutex_unlock(&s->smu);
}

/* ------------------------------------------------------------ callbacks */

typedef struct xfer {
	sim *s;
	sim_job *j;
	int data_fd; /* passive: opened by curl; active: accepted by curl */
	size_t ram_pos;
	char r257[SIM_PATH_MAX];
	char r213[256];
} xfer;

static int sa_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
			return 1;
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			return in6->sin6_addr.s6_addr[12] == 127;
	}
	return 0;
}

/* Every socket curl opens passes here: the last line of the loopback-only
** safety rule, and where the main thread learns which sockets exist. */
static curl_socket_t cb_open(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
	sim *s = clientp;
	xfer *x = s->wx;
	(void)purpose;
	if (!s->o.allow_remote && !sa_is_loopback(&a->addr)) {
		sim_log(s, "refusing a connection to a non-loopback address");
		return CURL_SOCKET_BAD;
	}
	int fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	if (fd < 0)
		return CURL_SOCKET_BAD;
	pthread_mutex_lock(&s->smu);
	if (s->nsocks < (int)(sizeof s->socks / sizeof s->socks[0]))
		s->socks[s->nsocks++] = fd;
	if (s->ctrl_fd < 0)
		s->ctrl_fd = fd;
	else if (x)
		x->data_fd = fd;
	pthread_mutex_unlock(&s->smu);
	return fd;
}

static int cb_close(void *clientp, curl_socket_t fd)
{
	sim *s = clientp;
	xfer *x = s->wx;
	pthread_mutex_lock(&s->smu);
	for (int i = 0; i < s->nsocks; i++) {
		if (s->socks[i] == fd) {
			s->socks[i] = s->socks[--s->nsocks];
			break;
		}
	}
	if (s->ctrl_fd == fd)
		s->ctrl_fd = -1;
	close(fd);
	pthread_mutex_unlock(&s->smu);
	if (x && x->data_fd == fd)
		x->data_fd = -1;
	return 0;
}

static int cb_sockopt(void *clientp, curl_socket_t fd, curlsocktype purpose)
{
	sim *s = clientp;
	xfer *x = s->wx;
	if (purpose == CURLSOCKTYPE_ACCEPT && x)
		x->data_fd = fd; /* active mode: closed by curl without the callback */
	return CURL_SOCKOPT_OK;
}

static void announce_connect(xfer *x)
{
	if (x->j->to_com && !atomic_exchange(&x->j->connected, 1))
		ftp_post(x->s, EV_CONNECT, x->j, NULL);
}

/* For FTP, curl hands every server reply line to the header callback. */
static size_t cb_header(char *p, size_t sz, size_t n, void *ud)
{
	xfer *x = ud;
	size_t len = sz * n, k = len;
	char line[512];
	while (k > 0 && (p[k - 1] == '\r' || p[k - 1] == '\n'))
		k--;
	if (k >= sizeof line)
		k = sizeof line - 1;
	memcpy(line, p, k);
	line[k] = 0;
	sim_log(x->s, "ftp< %s", line);
	if (k >= 4 && line[0] >= '1' && line[0] <= '5' && line[3] == ' ') {
		int code = atoi(line);
		if (code == 150 || code == 125)
			announce_connect(x);
		else if (code == 213)
			snprintf(x->r213, sizeof x->r213, "%.200s", line + 4);
		else if (code == 257) {
			/* 257 "<dir>" ...: a "" inside the name stands for one " */
			const char *q = strchr(line, '"');
			size_t o = 0;
			if (q) {
				for (q++; *q && o + 1 < sizeof x->r257; q++) {
					if (*q == '"') {
						if (q[1] != '"')
							break;
						q++;
					}
					x->r257[o++] = *q;
				}
			}
			x->r257[o] = 0;
		}
	}
	return len;
}

enum { F_NONE, F_DROP_DATA, F_DROP_CTRL, F_AFTER };

/* The nearest armed fault threshold (in payload bytes of this transfer). */
static long long next_fault(sim *s, int *kind)
{
	long long at = -1;
	*kind = F_NONE;
	pthread_mutex_lock(&s->fmu);
	if (s->drop_data_at >= 0 && (at < 0 || s->drop_data_at < at)) {
		at = s->drop_data_at;
		*kind = F_DROP_DATA;
	}
	if (s->drop_ctrl_at >= 0 && (at < 0 || s->drop_ctrl_at < at)) {
		at = s->drop_ctrl_at;
		*kind = F_DROP_CTRL;
	}
	if (s->after_at >= 0 && (at < 0 || s->after_at < at)) {
		at = s->after_at;
		*kind = F_AFTER;
	}
	pthread_mutex_unlock(&s->fmu);
	return at;
}

/* Returns -1 when the transfer must stop. */
static int fire_fault(xfer *x, int kind)
{
	sim *s = x->s;
	sim_job *j = x->j;
	char cmd[256] = "";
	pthread_mutex_lock(&s->fmu);
	if (kind == F_DROP_DATA)
		s->drop_data_at = -1;
	else if (kind == F_DROP_CTRL)
		s->drop_ctrl_at = -1;
	else if (kind == F_AFTER) {
		s->after_at = -1;
		snprintf(cmd, sizeof cmd, "%s", s->after_cmd);
	}
	pthread_mutex_unlock(&s->fmu);
	long long b = atomic_load(&j->bytes);
	switch (kind) {
	case F_DROP_DATA:
		sim_log(s, "fault: dropping the data connection at %lld bytes", b);
		if (x->data_fd >= 0)
			shutdown(x->data_fd, SHUT_RDWR);
		j->fault = 607;
		return -1;
	case F_DROP_CTRL:
		sim_log(s, "fault: dropping the control connection at %lld bytes", b);
		ftp_shutdown_ctrl(s);
		j->fault = 606;
		return -1;
	case F_AFTER:
		/* hold the transfer at exactly this byte until main ran cmd */
		sim_log(s, "fault: at %lld bytes: %s", b, cmd);
		pthread_mutex_lock(&s->fmu);
		s->trig_ack = 0;
		pthread_mutex_unlock(&s->fmu);
		ftp_post(s, EV_TRIGGER, j, cmd);
		pthread_mutex_lock(&s->fmu);
		while (!s->trig_ack && !atomic_load(&j->abort))
			pthread_cond_wait(&s->fcv, &s->fmu);
		pthread_mutex_unlock(&s->fmu);
		return atomic_load(&j->abort) ? -1 : 0;
	}
	return 0;
}

static int deliver(xfer *x, const char *p, size_t n)
{
	sim_job *j = x->j;
	if (j->to_com)
		return ring_push_wait(&x->s->ring, p, n);
	if (j->ram_len + n > j->ram_limit) {
		j->fault = 613; /* the RAM drive is full */
		return -1;
	}
	if (j->ram_len + n > j->ram_cap) {
		size_t cap = j->ram_cap ? j->ram_cap : 4096;
		while (cap < j->ram_len + n)
			cap *= 2;
		unsigned char *q = realloc(j->ram, cap);
		if (!q) {
			j->fault = 613;
			return -1;
		}
		j->ram = q;
		j->ram_cap = cap;
	}
	memcpy(j->ram + j->ram_len, p, n);
	j->ram_len += n;
	return 0;
}

static size_t cb_write(char *p, size_t sz, size_t n, void *ud)
{
	xfer *x = ud;
	sim_job *j = x->j;
	size_t len = sz * n, done = 0;
	if (atomic_load(&j->abort))
		return 0;
	announce_connect(x);
	while (done < len) {
		int kind;
		long long at = next_fault(x->s, &kind);
		long long b = atomic_load(&j->bytes);
		size_t chunk = len - done;
		if (at >= 0 && at - b < (long long)chunk)
			chunk = at > b ? (size_t)(at - b) : 0;
		if (chunk) {
			if (deliver(x, p + done, chunk) < 0)
				return 0;
			done += chunk;
			atomic_fetch_add(&j->bytes, (long long)chunk);
			sim_wake(x->s);
		}
		if (at >= 0 && atomic_load(&j->bytes) >= at && fire_fault(x, kind) < 0)
			return 0;
	}
	return len;
}

static size_t cb_read(char *p, size_t sz, size_t n, void *ud)
{
	xfer *x = ud;
	sim_job *j = x->j;
	size_t max = sz * n;
	if (atomic_load(&j->abort))
		return CURL_READFUNC_ABORT;
	announce_connect(x);
	for (;;) {
		int kind;
		long long at = next_fault(x->s, &kind);
		long long b = atomic_load(&j->bytes);
		if (at >= 0 && b >= at) {
			/* curl calls us only once its buffer went out, so a shutdown
			** here leaves exactly b bytes on the server */
			if (fire_fault(x, kind) < 0)
				return CURL_READFUNC_ABORT;
			continue;
		}
		if (at >= 0 && at - b < (long long)max)
			max = (size_t)(at - b);
		break;
	}
	long got;
	if (j->to_com) {
		got = ring_pull_wait(&x->s->ring, p, max);
		if (got < 0)
			return CURL_READFUNC_ABORT;
	} else {
		size_t left = j->ram_len - x->ram_pos;
		got = (long)(left < max ? left : max);
		memcpy(p, j->ram + x->ram_pos, (size_t)got);
		x->ram_pos += (size_t)got;
	}
	atomic_fetch_add(&j->bytes, got);
	sim_wake(x->s);
	return (size_t)got;
}

static int cb_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	xfer *x = ud;
	(void)dt, (void)dn, (void)ut, (void)un;
	if (atomic_load(&x->j->abort)) {
		if (x->data_fd >= 0)
			shutdown(x->data_fd, SHUT_RDWR);
		return 1;
	}
	return 0;
}

/* ------------------------------------------------------------ requests */

/* "ftp://host:port/%2F<path>": %2F makes the path absolute for curl. */
static void make_url(const sim_job *j, const char *path, int dir, char *url, size_t len)
{
	const char *scheme = j->ssl == 2 ? "ftps" : "ftp";
	int v6 = strchr(j->host, ':') != NULL;
	size_t o = (size_t)snprintf(url, len, "%s://%s%s%s:%d/%%2F", scheme, v6 ? "[" : "",
	                            j->host, v6 ? "]" : "", j->port);
	const char *p = path;
	while (*p == '/')
		p++;
	static const char keep[] = "-._~!$&'()*+,;=:@/";
	for (; *p && o + 4 < len; p++) {
		unsigned char c = (unsigned char)*p;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr(keep, c))
			url[o++] = (char)c;
		else
			o += (size_t)snprintf(url + o, len - o, "%%%02X", c);
	}
	if (dir && o > 0 && url[o - 1] != '/' && o + 1 < len)
		url[o++] = '/';
	url[o] = 0;
}

static long secs(long ms)
{
	return ms < 1000 ? 1 : (ms + 999) / 1000;
}

static void setup(sim *s, CURL *h, xfer *x, const char *url)
{
	sim_job *j = x->j;
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "ftp,ftps");
	if (j->user[0]) {
		curl_easy_setopt(h, CURLOPT_USERNAME, j->user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, j->pass);
	}
	curl_easy_setopt(h, CURLOPT_FTP_FILEMETHOD, (long)CURLFTPMETHOD_NOCWD);
	/* active: PORT/EPRT with the control connection's own address, which is
	** loopback whenever the server is (the only kind allowed by default) */
	curl_easy_setopt(h, CURLOPT_FTPPORT, j->passive ? NULL : "-");
	if (j->ssl) {
		curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L); /* seclevel 0 */
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	curl_easy_setopt(h, CURLOPT_TRANSFERTEXT, j->binary ? 0L : 1L);
	/* curl 7.88 can charge a data connection's connect time against an
	** older start time; below a few seconds (--timeout-scale) it then
	** gives up without trying. Connecting gets at least 5 s. */
	long cto = j->rsp_ms < 5000 ? 5000 : j->rsp_ms;
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, cto);
	curl_easy_setopt(h, CURLOPT_ACCEPTTIMEOUT_MS, cto);
	curl_easy_setopt(h, CURLOPT_SERVER_RESPONSE_TIMEOUT, secs(j->rsp_ms));
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, secs(j->rsp_ms));
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, cb_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	/* socket callbacks get the sim, not x: curl keeps these pointers for
	** the connection's life, which outlives one request */
	curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, cb_open);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, s);
	curl_easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, cb_close);
	curl_easy_setopt(h, CURLOPT_CLOSESOCKETDATA, s);
	curl_easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, cb_sockopt);
	curl_easy_setopt(h, CURLOPT_SOCKOPTDATA, s);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, cb_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 256L * 1024);
	curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 256L * 1024);
}

/* One request, driven through the session's multi handle rather than with
** curl_easy_perform(). libcurl 7.88 sets the data connection up when it
** reads the 227/229 reply but opens its socket only on the next
** curl_multi_perform(); when that reply is already waiting as curl sends
** EPSV/PASV (a fast server, a busy client), the DO phase ends in one call
** and the transfer is left with no socket to watch and no timer, so the
** easy interface sleeps its fixed 1000 ms in curl_multi_poll() before
** connecting. Here a round in which curl watches no socket (maxfd -1) is
** followed by another curl_multi_perform() at once (then every 10 ms at
** most, should it last). */
static CURLcode perform(sim *s, CURL *h, xfer *x)
{
	CURLM *m = s->cm;
	CURLcode rc = CURLE_FAILED_INIT;
	CURLMcode mc;
	s->wx = x;
	if (!m || curl_multi_add_handle(m, h) != CURLM_OK) {
		s->wx = NULL;
		return rc;
	}
	for (int running = 1, idle = 0;;) {
		mc = curl_multi_perform(m, &running);
		if (mc != CURLM_OK || !running)
			break;
		fd_set rd, wr, ex;
		int maxfd = -1;
		long ms = -1;
		FD_ZERO(&rd);
		FD_ZERO(&wr);
		FD_ZERO(&ex);
		mc = curl_multi_fdset(m, &rd, &wr, &ex, &maxfd);
		if (mc == CURLM_OK)
			mc = curl_multi_timeout(m, &ms);
		if (mc != CURLM_OK)
			break;
		if (ms < 0 || ms > 1000)
			ms = 1000; /* what curl_easy_perform() waits at most */
		if (maxfd < 0)
			ms = idle++ == 0 ? 0 : (ms < 10 ? ms : 10);
		else
			idle = 0;
		if (ms > 0 && (mc = curl_multi_poll(m, NULL, 0, (int)ms, NULL)) != CURLM_OK)
			break;
	}
	if (mc != CURLM_OK) /* as curl_easy_perform() maps it */
		rc = mc == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY : CURLE_BAD_FUNCTION_ARGUMENT;
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(m, &left)) != NULL)
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == h)
			rc = msg->data.result;
	/* before the removal: ACTIVESOCKET looks in the multi's cache */
	curl_socket_t a = CURL_SOCKET_BAD;
	if (curl_easy_getinfo(h, CURLINFO_ACTIVESOCKET, &a) == CURLE_OK && a != CURL_SOCKET_BAD) {
		pthread_mutex_lock(&s->smu);
		s->ctrl_fd = (int)a;
		pthread_mutex_unlock(&s->smu);
	}
	curl_multi_remove_handle(m, h);
	s->wx = NULL;
	return rc;
}

/* End the session: the multi handle's cleanup sends QUIT on a live
** connection and closes it (through cb_close, so s->wx must be set). */
static void session_end(sim *s, CURL **hp, xfer *x)
{
	s->wx = x;
	if (s->cm) {
		curl_multi_cleanup(s->cm);
		s->cm = NULL;
	}
	if (*hp)
		curl_easy_cleanup(*hp);
	*hp = NULL;
	s->wx = NULL;
}

/* FTP reply code -> chapter 4 <err>: the manual lists them in step. */
static int reply_err(long code)
{
	static const struct { int reply, err; } t[] = {
		{421, 614}, {425, 615}, {426, 616}, {450, 617}, {451, 618}, {452, 619},
		{500, 620}, {501, 621}, {502, 622}, {503, 623}, {504, 624}, {530, 625},
		{532, 626}, {550, 627}, {551, 628}, {552, 629}, {553, 630}, {554, 612},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (t[i].reply == code)
			return t[i].err;
	return 601;
}

static int curl_err(CURLcode rc)
{
	switch (rc) {
	case CURLE_OK: return 0;
	case CURLE_COULDNT_RESOLVE_HOST: return 604;
	case CURLE_COULDNT_CONNECT: return 605;
	case CURLE_OPERATION_TIMEDOUT: return 609;
	case CURLE_LOGIN_DENIED: return 625;
	case CURLE_REMOTE_FILE_NOT_FOUND: return 627;
	case CURLE_BAD_DOWNLOAD_RESUME: return 612;
	case CURLE_PARTIAL_FILE: return 607;
	case CURLE_FTP_ACCEPT_FAILED:
	case CURLE_FTP_ACCEPT_TIMEOUT:
	case CURLE_FTP_CANT_GET_HOST:
	case CURLE_FTP_WEIRD_PASV_REPLY:
	case CURLE_FTP_WEIRD_227_FORMAT:
	case CURLE_FTP_PORT_FAILED: return 615;
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR: return 608;
	case CURLE_WRITE_ERROR:
	case CURLE_READ_ERROR: return 613;
	case CURLE_URL_MALFORMAT: return 610;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_USE_SSL_FAILED:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER: return 631;
	default: return 601;
	}
}

static void map_result(sim *s, CURL *h, sim_job *j, CURLcode rc)
{
	long resp = 0;
	int ab = atomic_load(&j->abort);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp);
	if (j->fault) {
		j->err = j->fault;
		j->proto = 0;
	} else if (ab > 0) {
		j->err = ab;
		j->proto = 0;
	} else if (rc == CURLE_OK) {
		j->err = j->proto = 0;
	} else if (resp >= 400 && resp < 600) {
		j->err = reply_err(resp);
		j->proto = (int)resp;
	} else {
		j->err = curl_err(rc);
		j->proto = 0;
	}
	if (rc != CURLE_OK)
		sim_log(s, "curl: %s (reply %ld) -> %d,%d", curl_easy_strerror(rc), resp, j->err, j->proto);
}

static void quote(sim *s, CURL *h, xfer *x, const char *c1, const char *c2, const char *c3)
{
	char url[SIM_PATH_MAX * 3 + 300];
	struct curl_slist *q = NULL;
	const char *cs[3] = {c1, c2, c3};
	for (int i = 0; i < 3; i++) {
		if (cs[i]) {
			struct curl_slist *n = curl_slist_append(q, cs[i]);
			if (!n) {
				curl_slist_free_all(q);
				x->j->err = 601;
				return;
			}
			q = n;
		}
	}
	make_url(x->j, "/", 1, url, sizeof url);
	setup(s, h, x, url);
	curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(h, CURLOPT_QUOTE, q);
	CURLcode rc = perform(s, h, x);
	map_result(s, h, x->j, rc);
	curl_easy_setopt(h, CURLOPT_QUOTE, NULL);
	curl_slist_free_all(q);
}

static int needs_data(int kind)
{
	return kind == J_PUT || kind == J_GET || kind == J_LIST || kind == J_NLST || kind == J_MLSD;
}

static void run_job(sim *s, CURL **hp, sim_job *j)
{
	xfer x;
	char url[SIM_PATH_MAX * 3 + 300];
	char c1[SIM_PATH_MAX + 16], c2[SIM_PATH_MAX + 16];
	CURL *h = *hp;
	CURLcode rc;
	memset(&x, 0, sizeof x);
	x.s = s;
	x.j = j;
	x.data_fd = -1;

	if (j->kind == J_RESET || j->kind == J_CLOSE) {
		session_end(s, hp, &x);
		return;
	}
	if (j->kind == J_OPEN) {
		session_end(s, hp, &x);
		*hp = h = curl_easy_init();
		s->cm = curl_multi_init();
		if (!h || !s->cm) {
			session_end(s, hp, &x);
			j->err = 601;
			return;
		}
		make_url(j, "/", 1, url, sizeof url);
		setup(s, h, &x, url);
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
		curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
		rc = perform(s, h, &x);
		map_result(s, h, j, rc);
		if (j->err == 0) {
			const char *ep = NULL;
			curl_easy_getinfo(h, CURLINFO_FTP_ENTRY_PATH, &ep);
			snprintf(j->value, sizeof j->value, "%s", ep && *ep ? ep : "/");
		} else {
			session_end(s, hp, &x);
		}
		return;
	}
	if (!h) {
		j->err = 606;
		return;
	}
	if (j->ssl && !j->passive && needs_data(j->kind)) {
		j->err = 615; /* the module's FTPS has no active mode */
		return;
	}
	switch (j->kind) {
	case J_CWD:
	case J_PWD:
		snprintf(c1, sizeof c1, "CWD %s", j->path);
		quote(s, h, &x, c1, "PWD", NULL);
		if (j->err == 0)
			snprintf(j->value, sizeof j->value, "%s", x.r257[0] ? x.r257 : j->path);
		break;
	case J_SIZE:
		/* servers refuse SIZE in ASCII mode; put the type back after */
		snprintf(c1, sizeof c1, "SIZE %s", j->path);
		quote(s, h, &x, "TYPE I", c1, j->binary ? NULL : "TYPE A");
		if (j->err == 0)
			snprintf(j->value, sizeof j->value, "%lld", atoll(x.r213));
		break;
	case J_MDTM:
		snprintf(c1, sizeof c1, "MDTM %s", j->path);
		quote(s, h, &x, c1, NULL, NULL);
		if (j->err == 0)
			snprintf(j->value, sizeof j->value, "%s", x.r213);
		break;
	case J_DEL:
	case J_MKDIR:
	case J_RMDIR:
		snprintf(c1, sizeof c1, "%s %s",
		         j->kind == J_DEL ? "DELE" : j->kind == J_MKDIR ? "MKD" : "RMD", j->path);
		quote(s, h, &x, c1, NULL, NULL);
		break;
	case J_RENAME:
		snprintf(c1, sizeof c1, "RNFR %s", j->path);
		snprintf(c2, sizeof c2, "RNTO %s", j->path2);
		quote(s, h, &x, c1, c2, NULL);
		break;
	case J_GET:
	case J_LIST:
	case J_NLST:
	case J_MLSD:
		make_url(j, j->path, j->kind != J_GET, url, sizeof url);
		setup(s, h, &x, url);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, cb_write);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
		if (j->kind == J_NLST)
			curl_easy_setopt(h, CURLOPT_DIRLISTONLY, 1L);
		if (j->kind == J_MLSD)
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "MLSD");
		if (j->kind == J_GET && j->limit > 0) {
			char range[64];
			snprintf(range, sizeof range, "%lld-%lld", j->startpos, j->startpos + j->limit - 1);
			curl_easy_setopt(h, CURLOPT_RANGE, range);
		} else if (j->kind == J_GET && j->startpos > 0) {
			curl_easy_setopt(h, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)j->startpos);
		}
		rc = perform(s, h, &x);
		map_result(s, h, j, rc);
		break;
	case J_PUT:
		if (j->startpos > 0) {
			/* the module writes from <startpos>; curl can only append, so
			** insist that the file ends exactly there */
			snprintf(c1, sizeof c1, "SIZE %s", j->path);
			quote(s, h, &x, "TYPE I", c1, j->binary ? NULL : "TYPE A");
			if (j->err)
				break;
			if (atoll(x.r213) != j->startpos) {
				sim_log(s, "PUT startpos %lld but the file has %lld bytes", j->startpos,
				        atoll(x.r213));
				j->err = 612;
				j->proto = 0;
				break;
			}
		}
		make_url(j, j->path, 0, url, sizeof url);
		setup(s, h, &x, url);
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, cb_read);
		curl_easy_setopt(h, CURLOPT_READDATA, &x);
		if (j->startpos > 0)
			curl_easy_setopt(h, CURLOPT_APPEND, 1L);
		if (!j->to_com)
			curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)j->ram_len);
		rc = perform(s, h, &x);
		map_result(s, h, j, rc);
		break;
	default:
		j->err = 601;
	}
}

static void *worker_main(void *arg)
{
	sim *s = arg;
	CURL *h = NULL;
	for (;;) {
		pthread_mutex_lock(&s->jmu);
		while (!s->jhead)
			pthread_cond_wait(&s->jcv, &s->jmu);
		sim_job *j = s->jhead;
		s->jhead = j->next;
		if (!s->jhead)
			s->jtail = NULL;
		pthread_mutex_unlock(&s->jmu);
		j->next = NULL;
		if (j->kind == J_QUIT) {
			job_free(j);
			break;
		}
		run_job(s, &h, j);
		ftp_post(s, EV_DONE, j, NULL);
	}
	session_end(s, &h, NULL);
	return NULL;
}

int ftp_start(sim *s)
{
	if (pthread_create(&s->worker, NULL, worker_main, s) != 0)
		return -1;
	s->worker_started = 1;
	return 0;
}

void ftp_stop(sim *s)
{
	if (!s->worker_started)
		return;
	if (s->cur)
		ftp_abort(s, s->cur, -1);
	ring_abort(&s->ring);
	ftp_shutdown_all(s);
	sim_job *q = job_new(s, J_QUIT);
	if (q) {
		pthread_mutex_lock(&s->jmu);
		if (s->jtail)
			s->jtail->next = q;
		else
			s->jhead = q;
		s->jtail = q;
		pthread_cond_signal(&s->jcv);
		pthread_mutex_unlock(&s->jmu);
	}
	pthread_join(s->worker, NULL);
	s->worker_started = 0;
}
