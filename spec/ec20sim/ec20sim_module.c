/*
** ec20sim_module.c: the module's life: its state at power-on (and after a
** reboot, which loses all of it), the boot URCs, and the reboot itself,
** asked for by the "reboot" control command or by AT+CFUN=1,1.
*/
#include "ec20sim_at.h"

#include <stdio.h>
#include <string.h>

void sim_ready(sim *s)
{
	out_urc(s, "+CPIN: READY");
	out_urc(s, "+QUSIM: 1");
	out_urc(s, "+QIND: SMS DONE");
	out_urc(s, "+QIND: PB DONE");
}

/* RDY and what follows. After boot-sim-busy the SIM takes its time: the
** SIM's URCs come when AT+CPIN? stops answering 14 (capture 13). */
void boot_urcs(sim *s)
{
	out_urc(s, "RDY");
	out_urc(s, "+CFUN: 1");
	if (s->sim_busy_ms > 0) {
		int64_t now = sim_now();
		s->sim_busy_until = now + s->sim_busy_ms;
		s->sim_absent_until = s->sim_absent ? now + s->sim_busy_ms / 2 : 0;
		s->sim_busy_ms = s->sim_absent = 0;
		s->sim_ready_urcs = 1;
		return;
	}
	sim_ready(s);
}

void at_reset(sim *s, int boot)
{
	s->echo = 1;
	s->verbose = s->o.verbose_codes;
	s->cmee = 1;
	s->dtr_mode = 2;
	s->ifc[0] = s->ifc[1] = 0;
	s->cgreg = s->creg = s->cereg = 0;
	s->cfun = 1;
	memset(&s->cfg, 0, sizeof s->cfg);
	s->cfg.contextid = 1;
	s->cfg.rsptimeout = 90;
	memset(s->pdp, 0, sizeof s->pdp);
	for (int i = 1; i <= 16; i++)
		s->pdp[i].type = 1;
	s->cgatt = 1;
	s->ftpstat = 4;
	s->host[0] = 0;
	s->port = 21;
	snprintf(s->cwd, sizeof s->cwd, "/");
	s->last_len = 0;
	s->parked = s->await_drain = s->put_after_ok = 0;
	s->plus_n = 0;
	s->upl = NULL;
	ram_clear_drive(s, "RAM"); /* UFS: and SD: keep their files */
	memset(s->fh, 0, sizeof s->fh);
	sb_clear(&s->in);
	sb_clear(&s->held); /* (kept during a stall) */
	s->held_head = s->held_n = 0;
	sb_clear(&s->deferred);
	sb_clear(&s->post);
	s->line_len = 0;
	s->info_open = 0;
	s->data_dead = s->fail_data = 0;
	s->close_due = 0;
	s->sim_absent_until = s->sim_busy_until = 0;
	s->sim_ready_urcs = 0;
	s->after_open[0] = 0;
	s->hold_until = 0;
	if (boot) {
		s->state = ST_BOOTING;
		s->boot_until = sim_now() + s->o.boot_ms;
	} else {
		s->state = ST_CMD;
	}
}

void at_init(sim *s)
{
	s->escape_aborts = s->o.escape_aborts >= 0 ? s->o.escape_aborts : s->model->escape_aborts;
	s->close_async_ms = s->o.close_async_ms;
	at_reset(s, 0);
	if (s->o.pdp_active)
		s->pdp[1].active = 1;
	if (s->o.boot_urcs)
		boot_urcs(s);
}

/* keep_out: AT+CFUN=1,1's OK still reaches the host, a "reboot" loses it */
void reboot_module(sim *s, int keep_out)
{
	sim_log(s, "reboot");
	s->gen++;
	if (s->cur)
		ftp_abort(s, s->cur, -1);
	s->cur = NULL;
	if (s->done) {
		job_free(s->done);
		s->done = NULL;
	}
	job_free(s->closed);
	s->closed = NULL;
	ftp_shutdown_all(s);
	ftp_submit(s, job_new(s, J_RESET));
	if (!keep_out)
		sb_clear(&s->out); /* what the UART had not sent yet is lost */
	at_reset(s, 1);
}

void at_reboot(sim *s)
{
	reboot_module(s, 0);
}
