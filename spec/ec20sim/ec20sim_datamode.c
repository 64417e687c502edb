/*
** ec20sim_datamode.c: data mode. CONNECT, the payload in either direction
** (a COM: download to the host, an upload from it to the FTP worker or to
** a RAM file), the '+++' escape with its guard times, DTR, the timers that
** end an upload, and the results of FTP jobs, which must fit in around the
** payload: a COM: transfer answers CONNECT, the payload, OK, then the
** result. URCs never interrupt a payload: raised in data mode, they wait
** until data mode ends.
*/
#include "ec20sim_at.h"

#include <stdio.h>
#include <string.h>

void at_flush_deferred(sim *s)
{
	if (sb_size(&s->deferred)) {
		out_raw(s, sb_data(&s->deferred), sb_size(&s->deferred));
		sb_clear(&s->deferred);
	}
}

void out_connect(sim *s)
{
	out_final(s, "CONNECT");
}

int at_in_data_mode(const sim *s)
{
	return s->state == ST_DATA_OUT || s->state == ST_DATA_IN;
}

/* A URC waits in data mode, and while the host is part way through a
** command line: the module echoes a line whole (capture 16: the 7-byte echo
** "AT+CSQ<cr>" of a command sent in two writes), never split by a URC. */
int at_urcs_wait(const sim *s)
{
	return at_in_data_mode(s) || ((s->state == ST_CMD || s->state == ST_SUSPENDED) && s->line_len > 0);
}

/* CONNECT: from here on the host's bytes are payload (in a download, only
** watched for the escape), and the guard times count from now. */
static void enter_data_mode(sim *s, int state)
{
	out_connect(s);
	s->state = state;
	s->last_rx = s->act_t = sim_now();
	s->plus_n = 0;
}

/* Data mode ends, or the host leaves a download (ST_SUSPENDED): the final
** OK, then the URCs that waited behind the payload. */
static void leave_data_mode(sim *s, int state)
{
	s->plus_n = 0;
	s->state = state;
	out_final(s, "OK");
	at_flush_deferred(s);
}

/* -------------------------------------------------------- job results */

/* A COM: download is over and its payload is out: OK, then the result. */
static void finish_out(sim *s, sim_job *j)
{
	leave_data_mode(s, ST_CMD);
	report_result(s, j);
	if (s->done == j)
		s->done = NULL;
	if (s->cur == j)
		s->cur = NULL;
	job_free(j);
}

static void job_done(sim *s, sim_job *j)
{
	if (j != s->cur || j->quiet || atomic_load(&j->abort) < 0) {
		if (j == s->cur)
			s->cur = NULL;
		job_free(j);
		run_pending_line(s);
		return;
	}
	int aborted = atomic_load(&j->abort) != 0;
	switch (s->state) {
	case ST_DATA_OUT:
		/* what the module had received still reaches the host, also when
		** the transfer broke (drop-data, pdpdeact): resumable by count */
		if (ring_len(&s->ring) > 0) {
			s->done = j; /* the rest of the payload first */
			return;
		}
		ring_reset(&s->ring);
		finish_out(s, j);
		run_pending_line(s);
		return;
	case ST_SUSPENDED:
		if (!aborted && ring_len(&s->ring) > 0) {
			s->done = j; /* waits for ATO */
			return;
		}
		ring_reset(&s->ring);
		s->state = ST_CMD;
		report_result(s, j);
		break;
	case ST_WAIT_CONNECT:
		if (j->err == 0) {
			/* e.g. an empty file: no data connection was ever needed */
			out_connect(s);
			out_final(s, "OK");
		}
		s->state = ST_CMD;
		report_result(s, j);
		break;
	case ST_DATA_IN:
		if (s->sink == SINK_FTP) {
			/* the upload died while the host was sending */
			leave_data_mode(s, ST_CMD);
			sb_clear(&s->in);
		}
		report_result(s, j);
		break;
	default:
		if (j->kind == J_CLOSE && s->close_due > sim_now()) {
			s->closed = j; /* close-async: the result comes at close_due */
			s->cur = NULL;
			return;
		}
		if (j->kind == J_CLOSE)
			s->close_due = 0; /* the close took longer than close-async */
		report_result(s, j);
	}
	s->await_drain = 0;
	s->parked = 0;
	s->cur = NULL;
	job_free(j);
	run_pending_line(s);
}

/* A ghost job's answers (see ec20sim_state.c) go to nobody. */
static void on_done(sim *s, sim_job *j)
{
	int mute = s->mute;
	s->outstanding--;
	s->mute |= j->ghost;
	job_done(s, j);
	s->mute = mute;
}

void at_on_event(sim *s, sim_event *e)
{
	sim_job *j = e->job;
	switch (e->type) {
	case EV_CONNECT:
		if (j != s->cur || s->state != ST_WAIT_CONNECT)
			return;
		s->mute = j->ghost; /* a dead host's CONNECT */
		j->ghost = 0;       /* from here on the module talks to whoever is there */
		if (j->kind == J_PUT) {
			enter_data_mode(s, ST_DATA_IN);
			s->sink = SINK_FTP;
			s->seg_count = 0;
		} else {
			enter_data_mode(s, ST_DATA_OUT);
		}
		s->mute = 0;
		break;
	case EV_TRIGGER: {
		char err[200];
		if (sim_ctl_exec(s, e->cmd, err, sizeof err) < 0)
			fprintf(stderr, "ec20sim: after: %s\n", err);
		pthread_mutex_lock(&s->fmu);
		s->trig_ack = 1;
		pthread_cond_broadcast(&s->fcv);
		pthread_mutex_unlock(&s->fmu);
		break;
	}
	case EV_DONE:
		on_done(s, j);
		break;
	}
}

void at_after_output(sim *s)
{
	if (s->done && s->state == ST_DATA_OUT && ring_len(&s->ring) == 0) {
		finish_out(s, s->done);
		run_pending_line(s);
	}
}

/* ----------------------------------------------------------- data mode */

/* One QFTPPUT from COM: is one segment of the upload: <limit> bytes (-1:
** until +++ or DTR), going on at <startpos>; beof=0 keeps the data
** connection open for the next. */
void begin_put_segment(sim *s, long long startpos, long long limit, int beof)
{
	s->seg_count = 0;
	s->seg_limit = limit;
	s->beof = beof;
	s->parked_end = startpos;
	s->put_after_ok = 0;
}

static void put_segment_end(sim *s, int final)
{
	if (final || s->beof) {
		ring_set_eof(&s->ring); /* closes the data connection */
		s->put_after_ok = 1;
	} else {
		s->await_drain = 1; /* +QFTPPUT once the worker took it all */
	}
	leave_data_mode(s, ST_CMD);
}

static void flush_plus(sim *s)
{
	if (s->plus_n > 0) {
		ring_write(&s->ring, "+++", (size_t)s->plus_n);
		s->seg_count += s->plus_n;
		s->plus_n = 0;
	}
}

static int seg_full(sim *s)
{
	return s->seg_limit >= 0 && s->seg_count >= s->seg_limit;
}

/* A QFTPPUT that goes on with a beof=0 upload: its data connection is
** still open, so CONNECT at once. */
void continue_upload(sim *s, long long startpos, long long limit, int beof)
{
	s->parked = 0;
	begin_put_segment(s, startpos, limit, beof);
	enter_data_mode(s, ST_DATA_IN);
	s->sink = SINK_FTP;
	if (seg_full(s))
		put_segment_end(s, 0);
}

/* The silence before "+++" as we can measure it. We stamp bytes when we
** read them, later than the host wrote them: by our own scheduling, and by
** whatever waited in the pty (after a stall, behind a busy ring). A pty has no
** output queue the host could drain (TIOCOUTQ is 0), so a host that waited
** exactly the guard time after its last write can look a few ms short. Allow
** a fifth of the guard time for that; "+++" right behind data stays data. */
static int64_t guard_before(const sim *s)
{
	return s->o.guard_ms - s->o.guard_ms / 5;
}

/* Upload payload from the host, with the '+++' escape: "+++" counts only
** after guard-time silence, typed within a guard time, followed by silence.
** Bytes of one read share its arrival time, so only the first byte of a
** read can start an escape; the rest of the read moves in bulk. */
static void data_in_ftp(sim *s)
{
	const unsigned char *p = sb_data(&s->in);
	size_t n = sb_size(&s->in), i = 0;
	int64_t t = s->in_t, guard = s->o.guard_ms;
	while (i < n && s->state == ST_DATA_IN) {
		unsigned char c = p[i];
		if (s->plus_n > 0) {
			if (c == '+' && s->plus_n < 3 && t - s->plus_t0 <= guard) {
				s->plus_n++;
				i++;
				s->last_rx = s->act_t = t;
				if (s->seg_limit >= 0 && s->seg_count + s->plus_n >= s->seg_limit) {
					flush_plus(s); /* these complete the upload: data */
					put_segment_end(s, 0);
				}
				continue;
			}
			flush_plus(s);
		} else if (c == '+' && t - s->last_rx >= guard_before(s)) {
			s->plus_n = 1;
			s->plus_t0 = t;
			s->last_rx = s->act_t = t;
			i++;
			if (s->seg_limit >= 0 && s->seg_count + 1 >= s->seg_limit) {
				flush_plus(s);
				put_segment_end(s, 0);
			}
			continue;
		}
		size_t run = n - i;
		if (s->seg_limit >= 0 && (long long)run > s->seg_limit - s->seg_count)
			run = (size_t)(s->seg_limit - s->seg_count);
		run = ring_write(&s->ring, p + i, run);
		if (run == 0)
			break; /* ring full: wait for the worker */
		i += run;
		s->seg_count += (long long)run;
		s->last_rx = s->act_t = t;
		if (seg_full(s))
			put_segment_end(s, 0);
	}
	sb_drop(&s->in, i);
}

static void finish_file_in(sim *s)
{
	if (s->sink == SINK_QFUPL) {
		ramfile *f = s->upl;
		out_info(s, "+QFUPL: %zu,%x", f ? f->len : 0, f ? ram_checksum(f->data, f->len) : 0);
	} else {
		ramfh *h = &s->fh[s->wfh];
		out_info(s, "+QFWRITE: %lld,%zu", s->seg_count, h->f ? h->f->len : 0);
	}
	s->upl = NULL;
	leave_data_mode(s, ST_CMD);
}

/* QFUPL / QFWRITE (sink): CONNECT, then <size> bytes for the file, or what
** came before <tmo> seconds ran out. */
void begin_file_in(sim *s, int sink, long long size, long long tmo, int ackmode)
{
	s->sink = sink;
	s->seg_count = 0;
	s->seg_limit = size;
	s->ackmode = ackmode;
	s->ack_next = 1024;
	s->upl_deadline = sim_now() + tmo * 1000;
	enter_data_mode(s, ST_DATA_IN);
	if (size == 0)
		finish_file_in(s);
}

/* QFUPL / QFWRITE: exactly <size> bytes, no escape sequence. */
static void data_in_file(sim *s)
{
	size_t n = sb_size(&s->in);
	long long need = s->seg_limit - s->seg_count;
	size_t take = (long long)n < need ? n : (size_t)need;
	const unsigned char *p = sb_data(&s->in);
	if (s->sink == SINK_QFUPL) {
		if (s->upl && ram_append(s, s->upl, p, take) < 0)
			take = 0;
	} else {
		ramfh *h = &s->fh[s->wfh];
		if (h->f && take) {
			size_t end = h->pos + take;
			size_t grow = end > h->f->len ? end - h->f->len : 0;
			if (grow && ram_reserve(s, h->f, grow) < 0) {
				take = 0;
			} else {
				memcpy(h->f->data + h->pos, p, take);
				h->pos = end;
				if (grow) {
					h->f->len = end;
					s->ram_used += grow;
				}
			}
		}
	}
	sb_drop(&s->in, take);
	s->seg_count += (long long)take;
	if (take)
		s->last_rx = s->in_t;
	while (s->ackmode && s->seg_count >= s->ack_next && s->seg_count < s->seg_limit) {
		out_raw(s, "A", 1); /* ACK mode: one 'A' per 1024 bytes taken */
		s->ack_next += 1024;
	}
	if (s->seg_count >= s->seg_limit)
		finish_file_in(s);
}

static void data_out_input(sim *s)
{
	const unsigned char *p = sb_data(&s->in);
	size_t n = sb_size(&s->in);
	int64_t t = s->in_t, guard = s->o.guard_ms;
	for (size_t i = 0; i < n; i++) {
		if (s->plus_n > 0 && p[i] == '+' && s->plus_n < 3 && t - s->plus_t0 <= guard)
			s->plus_n++;
		else if (p[i] == '+' && t - s->last_rx >= guard_before(s)) {
			s->plus_n = 1;
			s->plus_t0 = t;
		} else
			s->plus_n = 0; /* what the host types during a download is dropped */
		s->last_rx = t;
	}
	sb_drop(&s->in, n);
}

/* --------------------------------------- the host's bytes, DTR, timers */

void at_consume(sim *s)
{
	for (int guard = 0; guard < 1000; guard++) {
		size_t before = sb_size(&s->in);
		int st = s->state;
		if (!before)
			return;
		switch (s->state) {
		case ST_CMD:
		case ST_SUSPENDED:
			cmd_bytes(s);
			break;
		case ST_DATA_IN:
			if (s->sink == SINK_FTP)
				data_in_ftp(s);
			else
				data_in_file(s);
			break;
		case ST_DATA_OUT:
			data_out_input(s);
			break;
		case ST_BOOTING:
			sb_clear(&s->in);
			return;
		default:
			return; /* waiting: the bytes stay queued */
		}
		if (sb_size(&s->in) == before && s->state == st)
			return;
	}
}

size_t at_read_limit(sim *s)
{
	if (s->state == ST_DATA_IN && s->sink == SINK_FTP) {
		size_t sp = ring_space(&s->ring), used = sb_size(&s->in) + 3;
		return sp > used ? sp - used : 0;
	}
	return 64 * 1024;
}

void at_dtr_drop(sim *s)
{
	if (s->dtr_mode == 0)
		return;
	if (s->state == ST_DATA_IN && s->sink == SINK_FTP) {
		sim_log(s, "DTR drop: upload ends");
		flush_plus(s);
		put_segment_end(s, 1);
	} else if (s->state == ST_DATA_OUT) {
		if (s->dtr_mode == 1 || s->done) {
			sim_log(s, "DTR drop: leaving data mode");
		} else {
			sim_log(s, "DTR drop (&D2): transfer aborted");
			ftp_abort(s, s->cur, 616); /* suspended, the job's end reports */
		}
		leave_data_mode(s, ST_SUSPENDED);
	}
}

/* escape-aborts (EG800K, capture 08): +++ ends a download for good: OK,
** the transfer is dropped without a result URC (none was seen), the
** service is idle again and ATO answers NO CARRIER. */
void abort_download(sim *s)
{
	leave_data_mode(s, ST_CMD);
	if (s->done) { /* all fetched already: only its payload is left */
		if (s->cur == s->done)
			s->cur = NULL;
		job_free(s->done);
		s->done = NULL;
		ring_reset(&s->ring);
	} else if (s->cur) {
		ftp_abort(s, s->cur, -1); /* ends quietly; later commands wait for it */
		s->cur = NULL;
	}
	if (s->ftpstat == 2)
		s->ftpstat = 1;
}

/* ATO: back to the download the host left with +++ or DTR */
int resume_download(sim *s)
{
	if (s->state == ST_SUSPENDED && (s->cur || s->done))
		enter_data_mode(s, ST_DATA_OUT);
	else
		out_final(s, "NO CARRIER");
	return RC_NONE;
}

void at_tick(sim *s)
{
	int64_t now = sim_now(), guard = s->o.guard_ms;
	if (s->state == ST_BOOTING && now >= s->boot_until) {
		s->state = ST_CMD;
		boot_urcs(s);
	}
	if (s->state == ST_DATA_IN && s->sink == SINK_FTP) {
		if (ring_len(&s->ring) > 0 || sb_size(&s->in) > 0)
			s->act_t = now; /* we, not the host, are behind */
		if (s->plus_n == 3 && now - s->last_rx >= guard) {
			sim_log(s, "+++: upload ends");
			put_segment_end(s, 1);
		} else if (s->plus_n > 0 && s->plus_n < 3 && now - s->plus_t0 > guard) {
			flush_plus(s);
			if (seg_full(s))
				put_segment_end(s, 0);
		} else if (s->plus_n == 0 && now - s->act_t > sim_rsp_ms(s)) {
			sim_log(s, "host silent for rsptimeout: upload fails");
			ftp_abort(s, s->cur, 609);
			leave_data_mode(s, ST_CMD);
		}
	} else if (s->state == ST_DATA_IN && now >= s->upl_deadline) {
		finish_file_in(s); /* QFUPL/QFWRITE timeout: keep what came */
	} else if (s->state == ST_DATA_OUT) {
		if (s->plus_n == 3 && now - s->last_rx >= guard && s->escape_aborts) {
			sim_log(s, "+++: download aborted (escape-aborts)");
			abort_download(s);
		} else if (s->plus_n == 3 && now - s->last_rx >= guard) {
			sim_log(s, "+++: leaving data mode");
			leave_data_mode(s, ST_SUSPENDED);
		} else if (s->plus_n > 0 && s->plus_n < 3 && now - s->plus_t0 > guard) {
			s->plus_n = 0;
		}
	}
	if (s->await_drain && s->cur && ring_len(&s->ring) == 0) {
		s->await_drain = 0;
		s->last_len = s->seg_count;
		out_urc(s, "+QFTPPUT: 0,%lld", s->seg_count);
		s->parked = 1;
		s->parked_end += s->seg_count;
	}
	at_after_output(s);
	run_pending_line(s);
}

int64_t at_next_deadline(sim *s)
{
	int64_t g = s->o.guard_ms;
	switch (s->state) {
	case ST_BOOTING:
		return s->boot_until;
	case ST_DATA_IN:
		if (s->sink != SINK_FTP)
			return s->upl_deadline;
		/* fall through */
	case ST_DATA_OUT:
		if (s->plus_n == 3)
			return s->last_rx + g;
		if (s->plus_n > 0)
			return s->plus_t0 + g + 1;
		if (s->state == ST_DATA_IN)
			return s->act_t + sim_rsp_ms(s) + 1;
		return -1;
	default:
		return -1;
	}
}
