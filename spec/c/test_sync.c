/* test_sync.c: the bring-to-known-state sequence (mf_sync.h) against a
** model of the module (mock_module.h) in each state it is found in, at 1,
** 7 and 4096 bytes per read. Durations are short (guard 30 ms) and every
** check on time has a wide margin. */
#include "mf_sync.h"
#include "mock_module.h"
#include "tap.h"

#define GUARD_MS 30

static mf_chat chat;
static mod *m;
static mf_sync_opts so;

static void start(size_t chunk)
{
	m = mod_new(chunk, GUARD_MS);
	mf_chat_init(&chat, &m->base);
	mf_sync_opts_init(&so);
	so.probe_ms = 100;
	so.guard_ms = GUARD_MS;
	so.boot_ms = 3000;
	so.cmd_ms = 1000;
	so.stream_ms = 100;
	so.quiet_ms = 20;
	so.result_ms = 500;
	so.sim_poll_ms = 20;
}

static void stop(void)
{
	mf_chat_free(&chat);
	free(m);
}

static int has_state(const mf_sync_result *r, unsigned bit) { return (r->states & bit) != 0; }

/* After the sequence, the next command gets its own answer. */
static int next_command_works(void)
{
	mf_reply r;
	mf_reply_init(&r);
	mf_cmd_opts o = {0};
	o.timeout_ms = 1000;
	int rc = mf_chat_command(&chat, "AT+CSQ", &o, &r);
	int good = rc == MF_OK && r.info.n == 1 && !strcmp(r.info.buf, "+CSQ: 20,99") && !strcmp(r.final, "OK");
	if (!good)
		printf("#   AT+CSQ: rc %d final '%s' info %zu '%s' (%s)\n", rc, r.final, r.info.n,
		       r.info.n ? r.info.buf : "", chat.err);
	mf_reply_free(&r);
	return good;
}

static const char *actions(const mf_sync_result *r)
{
	static char b[512];
	size_t n = 0;
	b[0] = 0;
	for (int i = 0; i < r->nactions && n < sizeof b - 30; i++)
		n += (size_t)snprintf(b + n, sizeof b - n, "%s%s", i ? ", " : "", r->actions[i]);
	return b;
}

static void test_clean(size_t chunk)
{
	mf_sync_result res;
	start(chunk);
	int rc = mf_sync(&chat, &so, &res);
	ok(rc == MF_OK && res.states == 0 && !strcmp(mf_sync_primary(res.states), "clean"),
	   "chunk %zu: clean module: clean (%s)", chunk, actions(&res));
	ok(m->host_len == 15 && !memcmp(m->host, "ATE1\rAT+CMEE=1\r", 15),
	   "chunk %zu: clean module: the bytes of the old handshake, nothing more", chunk);
	ok(res.ms < 100, "chunk %zu: clean module: no wait (%d ms)", chunk, res.ms);
	ok(chat.echo == 1 && chat.numeric == 0, "chunk %zu: echo on and verbose known after", chunk);
	ok(next_command_works(), "chunk %zu: clean module: the next command works", chunk);
	stop();

	start(chunk);
	m->echo = 0;
	rc = mf_sync(&chat, &so, &res);
	ok(rc == MF_OK && has_state(&res, MF_SYNC_ECHO_OFF) && m->echo == 1, "chunk %zu: ATE0 module: echo_off, echo on after (%s)",
	   chunk, actions(&res));
	ok(next_command_works(), "chunk %zu: echo_off: the next command works", chunk);
	stop();
}

static void test_atv0(size_t chunk)
{
	mf_sync_result res;
	start(chunk);
	m->verbose = 0;
	int rc = mf_sync(&chat, &so, &res);
	ok(rc == MF_OK && has_state(&res, MF_SYNC_ATV0) && m->verbose == 1,
	   "chunk %zu: ATV0: recognised by its numeric 0, V1 after (%s)", chunk, actions(&res));
	ok(mod_host_has(m, "ATE1V1Q0\r"), "chunk %zu: ATV0: ATE1V1Q0 sent", chunk);
	ok(next_command_works(), "chunk %zu: ATV0: the next command works", chunk);
	stop();
}

static void test_half_line(size_t chunk)
{
	mf_sync_result res;
	start(chunk);
	mod_half_line(m, "AT+QFTPC");
	int rc = mf_sync(&chat, &so, &res);
	ok(rc == MF_OK && has_state(&res, MF_SYNC_HALF_LINE) && !has_state(&res, MF_SYNC_STALL),
	   "chunk %zu: half line: ERROR to the probe, then answered (%s)", chunk, actions(&res));
	ok(next_command_works(), "chunk %zu: half line: the next command works", chunk);
	stop();

	/* ATV0 and a half line: "4" is the ERROR */
	start(chunk);
	m->verbose = 0;
	mod_half_line(m, "AT+QFT");
	rc = mf_sync(&chat, &so, &res);
	ok(rc == MF_OK && has_state(&res, MF_SYNC_HALF_LINE) && m->verbose == 1,
	   "chunk %zu: half line in ATV0: numeric 4 understood (%s)", chunk, actions(&res));
	ok(next_command_works(), "chunk %zu: half line in ATV0: the next command works", chunk);
	stop();
}

static void test_upload(size_t chunk)
{
	mf_sync_result res;
	start(chunk);
	m->mode = MOD_UPLOAD;
	m->result_delay_ms = 50;
	int rc = mf_sync(&chat, &so, &res);
	ok(rc == MF_OK && has_state(&res, MF_SYNC_UPLOAD) && m->mode == MOD_CMD,
	   "chunk %zu: upload data mode: left with +++ (%s)", chunk, actions(&res));
	ok(mod_host_has(m, "+++"), "chunk %zu: upload: +++ sent", chunk);
	ok(res.late >= 1 && !(mf_owed_pending(&chat.owed) & MF_OWE_RESULT),
	   "chunk %zu: upload: its late +QFTPPUT read and dropped (%d late)", chunk, res.late);
	ok(m->upload_bytes == 5, "chunk %zu: upload: only the probe became file data (%ld bytes)", chunk, m->upload_bytes);
	ok(next_command_works(), "chunk %zu: upload: the next command works", chunk);
	stop();

	/* the result comes after the sequence gave up waiting for it: still dropped */
	start(chunk);
	m->mode = MOD_UPLOAD;
	m->result_delay_ms = 700;
	rc = mf_sync(&chat, &so, &res);
	ok(rc == MF_OK && (mf_owed_pending(&chat.owed) & MF_OWE_RESULT), "chunk %zu: upload: a slow result stays owed (%s)", chunk, actions(&res));
	mf_sleep_ms(800);
	ok(next_command_works(), "chunk %zu: upload: the slow result is not the next command's", chunk);
	ok(chat.urcs.n == 0, "chunk %zu: upload: nor a URC (%zu queued)", chunk, chat.urcs.n);
	stop();
}

static void test_download(size_t chunk)
{
	mf_sync_result res;
	start(chunk);
	m->mode = MOD_DOWNLOAD;
	int rc = mf_sync(&chat, &so, &res);
	ok(rc == MF_OK && has_state(&res, MF_SYNC_DOWNLOAD) && m->mode == MOD_CMD,
	   "chunk %zu: download streaming: left with +++ (%s; %zu bytes dropped)", chunk, actions(&res), res.flushed);
	ok(m->host_len >= 3 && !memcmp(m->host, "+++", 3), "chunk %zu: download: +++ before anything else", chunk);
	ok(next_command_works(), "chunk %zu: download: the next command works", chunk);
	stop();
}

/* A download's payload is binary: a "line" of it that starts with "aT" is
** not another program's command (a command's echo is text). A random
** payload holds one such line in about 16000 (recovery_spec's dead host's
** download failed so now and then). */
static void test_download_binary_at(size_t chunk)
{
	mf_sync_result res;
	start(chunk);
	/* as a prober's would, they come while we talk to the module */
	mf_chat_flush(&chat, &(mf_flush){0});
	chat.talking = 1;
	mod_emit(m, "\x81\r\naT\xef" "2\x99\x01z\r\nAt\x02\xfe\x7f\n\x93\r\nat\x1b[x\r\n", 0);
	int rc = mf_sync(&chat, &so, &res);
	ok(rc == MF_OK && chat.foreign == 0,
	   "chunk %zu: binary payload lines starting with AT are not another program's (%s; %lu foreign; %s)", chunk,
	   actions(&res), chat.foreign, rc == MF_OK ? "" : chat.err);
	ok(next_command_works(), "chunk %zu: binary AT payload: the next command works", chunk);
	stop();
}

static void test_boot(size_t chunk)
{
	mf_sync_result res;
	start(chunk);
	mod_boot(m, 300, 3);
	int64_t t0 = mf_now_ms();
	int rc = mf_sync(&chat, &so, &res);
	int64_t dt = mf_now_ms() - t0;
	ok(rc == MF_OK && has_state(&res, MF_SYNC_BOOT) && has_state(&res, MF_SYNC_SIM_BUSY) &&
	       !strcmp(res.sim, "+CPIN: READY"),
	   "chunk %zu: boot: deaf until RDY, SIM busy waited out (%s; %s)", chunk, actions(&res), res.sim);
	ok(dt >= 300, "chunk %zu: boot: not before RDY (%lld ms)", chunk, (long long)dt);
	ok(next_command_works(), "chunk %zu: boot: the next command works", chunk);
	stop();

	start(chunk);
	so.boot_ms = 400;
	mod_boot(m, 5000, 0);
	t0 = mf_now_ms();
	rc = mf_sync(&chat, &so, &res);
	dt = mf_now_ms() - t0;
	ok(rc == MF_ETIMEOUT && strstr(chat.err, "does not answer"), "chunk %zu: a boot beyond the bound: timeout (%s)",
	   chunk, chat.err);
	ok(dt < 400 + 3 * GUARD_MS + 200 + 2 * so.probe_ms + 500, "chunk %zu: ... within its bound (%lld ms)", chunk,
	   (long long)dt);
	stop();

	start(chunk);
	so.boot_ms = 300;
	mod_boot(m, 0, 1000);
	rc = mf_sync(&chat, &so, &res);
	ok(rc == MF_ETIMEOUT && strstr(chat.err, "SIM not ready"), "chunk %zu: SIM busy beyond the bound: timeout (%s)",
	   chunk, chat.err);
	stop();
}

static void test_stall(size_t chunk)
{
	mf_sync_result res;
	start(chunk);
	mod_stall(m, 500);
	int rc = mf_sync(&chat, &so, &res);
	ok(rc == MF_OK && has_state(&res, MF_SYNC_STALL) && has_state(&res, MF_SYNC_LATE),
	   "chunk %zu: stall: answered after it, the late answers dropped (%s; %d late)", chunk, actions(&res), res.late);
	ok(next_command_works(), "chunk %zu: stall: the next command works", chunk);
	ok(chat.owed.n == 0, "chunk %zu: stall: nothing owed after (%d)", chunk, chat.owed.n);
	stop();
}

static void test_late_reply(size_t chunk)
{
	mf_sync_result res;
	start(chunk);
	m->late_ms = 250; /* the first probe's OK comes after its deadline */
	int rc = mf_sync(&chat, &so, &res);
	ok(rc == MF_OK && has_state(&res, MF_SYNC_LATE) && !has_state(&res, MF_SYNC_UPLOAD),
	   "chunk %zu: late reply: discarded, not taken for data mode (%s)", chunk, actions(&res));
	ok(!mod_host_has(m, "+++"), "chunk %zu: late reply: no +++ needed (%s)", chunk, actions(&res));
	ok(next_command_works(), "chunk %zu: late reply: the next command gets its own", chunk);
	stop();
}

static void test_stale(size_t chunk)
{
	mf_sync_result res;
	start(chunk);
	mod_emit(m, "\r\nOK\r\n\r\n+QFTPGET: 0,10\r\n\r\nERROR\r\nAT+QFTPSIZE=\"x\"\r\r\nRDY\r\n", 0);
	int rc = mf_sync(&chat, &so, &res);
	ok(rc == MF_OK && has_state(&res, MF_SYNC_STALE) && has_state(&res, MF_SYNC_BOOT),
	   "chunk %zu: stale lines dropped, RDY among them means a boot (%s)", chunk, actions(&res));
	ok(res.urcs == 2, "chunk %zu: the module's own lines queued (%d)", chunk, res.urcs);
	ok(chat.foreign == 0, "chunk %zu: a dead host's echo is not another program's", chunk);
	ok(next_command_works(), "chunk %zu: stale: the next command works", chunk);
	stop();
}

static void test_prober(size_t chunk)
{
	mf_sync_result res;
	start(chunk);
	m->late_ms = 0;
	/* the prober speaks between our commands */
	mf_chat_flush(&chat, &(mf_flush){0});
	chat.talking = 1;
	mod_probe(m);
	int rc = mf_sync(&chat, &so, &res);
	ok(rc == MF_EFOREIGN && strstr(chat.err, "ModemManager") && strstr(chat.err, "ID_MM_PORT_IGNORE"),
	   "chunk %zu: another program's command: a clear error (%s)", chunk, chat.err);
	stop();
}

int main(void)
{
	static const size_t chunks[] = {1, 7, 4096};
	for (size_t i = 0; i < 3; i++) {
		test_clean(chunks[i]);
		test_atv0(chunks[i]);
		test_half_line(chunks[i]);
		test_upload(chunks[i]);
		test_download(chunks[i]);
		test_download_binary_at(chunks[i]);
		test_boot(chunks[i]);
		test_stall(chunks[i]);
		test_late_reply(chunks[i]);
		test_stale(chunks[i]);
		test_prober(chunks[i]);
	}
	return tap_done();
}
