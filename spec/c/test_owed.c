/* test_owed.c: what the module still owes (mf_owed.h): the table's rules
** alone, then the engine over a model of the module (mock_module.h) at 1,
** 7 and 4096 bytes per read: a late answer is dropped, never paired with
** the next command. */
#include "mf_chat.h"
#include "mf_data.h"
#include "mock_module.h"
#include "mock_transport.h"
#include "tap.h"

/* ----------------------------------------------------------- the table */

static void test_table(void)
{
	mf_owed o;
	mf_owed_init(&o);
	mf_owed_add(&o, "AT+CSQ", MF_OWE_ECHO | MF_OWE_FINAL, NULL, 0, 1000, 1000);
	mf_owed_add(&o, "AT+QFTPSIZE=\"a\"", MF_OWE_ECHO | MF_OWE_FINAL | MF_OWE_RESULT, "+QFTPSIZE", 0, 1000, 5000);
	ok(o.n == 2 && mf_owed_pending(&o) == (MF_OWE_ECHO | MF_OWE_FINAL | MF_OWE_RESULT), "two entries owed");
	ok(mf_owed_pay(&o, "OK", 0) == 0, "a final is not paid to an entry still owing its echo");
	ok(mf_owed_pay(&o, "AT+CSQ", 0) == MF_OWE_ECHO, "an echo pays its own command");
	ok(mf_owed_pay(&o, "+CSQ: 20,99", 0) == 0, "an information line is nobody's debt");
	ok(mf_owed_pay(&o, "OK", 0) == MF_OWE_FINAL && o.n == 1, "then the final pays it, and it is gone");
	ok(mf_owed_pay(&o, "\x01junkAT+QFTPSIZE=\"a\"", 0) == MF_OWE_ECHO, "an echo behind noise is still an echo");
	ok(mf_owed_pay(&o, "+CME ERROR: 603", 0) == MF_OWE_FINAL, "+CME ERROR is a final");
	ok(mf_owed_pay(&o, "+QFTPGET: 0,10", 0) == 0, "another result is not owed");
	ok(mf_owed_pay(&o, "+QFTPSIZE: 0,10", 0) == MF_OWE_RESULT && o.n == 0, "the result pays by its name");
	ok(o.paid == 5 && o.lost == 0, "counted: %lu paid, %lu lost", o.paid, o.lost);

	/* an echo settles the older entries' lines: the module answered them before */
	mf_owed_add(&o, "AT", MF_OWE_ECHO | MF_OWE_FINAL, NULL, 0, 1000, 1000);
	mf_owed_add(&o, "ATE1", MF_OWE_ECHO | MF_OWE_FINAL, NULL, 1, 1000, 1000);
	ok(mf_owed_pay(&o, "ATE1", 0) == MF_OWE_ECHO && o.n == 1 && o.lost == 2, "a newer echo settles the older lines");
	ok(mf_owed_pay(&o, "OK", 0) == MF_OWE_FINAL && o.n == 0, "its final is its own");

	/* the same command twice: in order */
	mf_owed_add(&o, "AT", MF_OWE_ECHO | MF_OWE_FINAL, NULL, 0, 1000, 1000);
	mf_owed_add(&o, "AT", MF_OWE_ECHO | MF_OWE_FINAL, NULL, 1, 1000, 1000);
	mf_owed_pay(&o, "AT", 0);
	ok(o.n == 2 && !(o.e[0].need & MF_OWE_ECHO) && (o.e[1].need & MF_OWE_ECHO), "identical commands paid oldest first");
	mf_owed_clear(&o);
	ok(o.n == 0, "clear forgets everything");

	/* numeric finals only when they may come */
	mf_owed_add(&o, "AT", MF_OWE_FINAL, NULL, 0, 1000, 1000);
	ok(mf_owed_pay(&o, "0", 0) == 0 && mf_owed_pay(&o, "0", 1) == MF_OWE_FINAL, "a digit is a final only in numeric mode");

	/* echo seen, job started, expiry */
	mf_owed_add(&o, "AT+X", MF_OWE_FINAL | MF_OWE_RESULT, "+QFTPPUT", 0, 100, 200);
	mf_owed_add(&o, "AT+Y", MF_OWE_RESULT, "+QIACT", 0, 100, 200);
	mf_owed_echo_seen(&o);
	ok(mf_owed_pending(&o) == MF_OWE_RESULT && o.n == 2, "the command's own echo settles finals, not results");
	mf_owed_job_started(&o);
	ok(o.n == 1 && !strcmp(o.e[0].result, "+QIACT"), "an FTP job accepted settles the +QFTP results only");
	ok(mf_owed_expire(&o, 199) == 0 && mf_owed_expire(&o, 200) == 1 && o.n == 0, "a result expires at its deadline");
	mf_owed_add(&o, "AT", MF_OWE_ECHO | MF_OWE_FINAL, NULL, 0, 100, 100);
	ok(mf_owed_expire(&o, 100) == 2 && o.n == 0, "so do echo and final");

	/* bounded */
	unsigned long lost = o.lost;
	for (int i = 0; i < MF_OWED_MAX + 3; i++) {
		char cmd[16];
		snprintf(cmd, sizeof cmd, "AT+N%d", i);
		mf_owed_add(&o, cmd, MF_OWE_FINAL, NULL, i, 1000, 1000);
	}
	ok(o.n == MF_OWED_MAX && o.lost == lost + 3 && !strcmp(o.e[0].cmd, "AT+N3"), "full: the oldest go, counted lost");

	/* what we sent */
	mf_owed_init(&o);
	mf_owed_sent(&o, "AT+QFTPCWD=\"/\"");
	ok(mf_owed_is_ours(&o, "AT+QFTPCWD=\"/\"") && !mf_owed_is_ours(&o, "AT+GCAP"), "our own old echo is known");
	char longcmd[300];
	memset(longcmd, 'A', sizeof longcmd - 1);
	longcmd[0] = 'A', longcmd[1] = 'T', longcmd[sizeof longcmd - 1] = 0;
	mf_owed_add(&o, longcmd, MF_OWE_ECHO, NULL, 0, 100, 100);
	ok(mf_owed_pay(&o, longcmd, 0) == MF_OWE_ECHO, "a long command's echo matches its kept start");
}

/* ---------------------------------------------- the engine over the model */

#define GUARD_MS 30

static mf_chat chat;
static mod *m;

static void start(size_t chunk, int echo_known)
{
	m = mod_new(chunk, GUARD_MS);
	mf_chat_init(&chat, &m->base);
	chat.echo = echo_known ? 1 : -1;
}

static void stop(void)
{
	mf_chat_free(&chat);
	free(m);
}

static int command(const char *cmd, int timeout_ms, mf_reply *r)
{
	mf_cmd_opts o = {0};
	o.timeout_ms = timeout_ms;
	mf_reply_init(r);
	return mf_chat_command(&chat, cmd, &o, r);
}

static int csq_ok(const char *what, size_t chunk)
{
	mf_reply r;
	int rc = command("AT+CSQ", 1000, &r);
	int good = rc == MF_OK && r.info.n == 1 && !strcmp(r.info.buf, "+CSQ: 20,99") && !strcmp(r.final, "OK");
	ok(good, "chunk %zu: %s: the next command gets its own answer (rc %d, %zu info, %s)", chunk, what, rc, r.info.n,
	   r.final);
	mf_reply_free(&r);
	return good;
}

static void test_late_final(size_t chunk, int echo_known)
{
	const char *mode = echo_known ? "echo known" : "echo unknown";
	mf_reply r;
	/* the late answer is read before the next command is sent */
	start(chunk, echo_known);
	m->late_ms = 150;
	int rc = command("AT+QFTPSTAT", 50, &r);
	mf_reply_free(&r);
	ok(rc == MF_ETIMEOUT && (mf_owed_pending(&chat.owed) & MF_OWE_FINAL), "chunk %zu, %s: a timed-out command owes its final",
	   chunk, mode);
	mf_sleep_ms(250);
	csq_ok(mode, chunk);
	ok(chat.late >= 1 && chat.owed.n == 0, "chunk %zu, %s: its late OK dropped (%lu late)", chunk, mode, chat.late);
	stop();

	/* the next command is sent before the late answer comes */
	start(chunk, echo_known);
	m->late_ms = 150;
	rc = command("AT", 50, &r);
	mf_reply_free(&r);
	csq_ok(echo_known ? "echo known, sent at once" : "echo unknown, sent at once", chunk);
	stop();
}

static void test_aborted_upload(size_t chunk)
{
	static const char put[] = "AT+QFTPPUT=\"a.bin\",\"COM:\",0";
	mf_reply r;
	mf_cmd_opts o = {0};
	o.timeout_ms = 1000;
	o.result = "+QFTPPUT";
	o.result_timeout_ms = 1000;
	o.connect = 1;
	start(chunk, 1);
	m->result_delay_ms = 20;
	mf_reply_init(&r);
	int rc = mf_chat_command(&chat, put, &o, &r);
	ok(rc == MF_OK && r.connect, "chunk %zu: upload: CONNECT", chunk);
	mf_reply_free(&r);
	mf_write_all(&m->base, "0123456789", 10, mf_now_ms() + 100, NULL);
	rc = mf_data_escape(&chat, GUARD_MS); /* Ctrl-C: leave data mode */
	mf_chat_owe_result(&chat, put, "+QFTPPUT", 1000); /* as the binding does after an aborted upload */
	ok(rc == MF_OK, "chunk %zu: upload aborted with +++", chunk);
	mf_sleep_ms(60); /* its "+QFTPPUT: 0,10" comes now */
	mf_reply_init(&r);
	rc = mf_chat_command(&chat, put, &o, &r);
	ok(rc == MF_OK && r.connect && !r.result[0], "chunk %zu: the next put gets its own CONNECT, not the late result (%s)",
	   chunk, r.result);
	mf_reply_free(&r);
	ok(!(mf_owed_pending(&chat.owed) & MF_OWE_RESULT), "chunk %zu: nothing owed after", chunk);
	ok(chat.urcs.n == 0, "chunk %zu: the late result is not a URC either", chunk);
	mf_data_escape(&chat, GUARD_MS);
	stop();
}

static void test_stall(size_t chunk)
{
	mf_reply r;
	start(chunk, 1);
	mod_stall(m, 300);
	int timeouts = 0;
	for (int i = 0; i < 3; i++) {
		timeouts += command("AT+CSQ", 50, &r) == MF_ETIMEOUT;
		mf_reply_free(&r);
	}
	ok(timeouts == 3 && chat.owed.n == 3, "chunk %zu: three commands time out in a stall (%d owed)", chunk, chat.owed.n);
	mf_sleep_ms(350);
	csq_ok("after a stall", chunk);
	ok(chat.owed.n == 0 && chat.late == 6, "chunk %zu: the three late echoes and finals dropped (%lu)", chunk, chat.late);
	stop();
}

static void test_foreign(size_t chunk)
{
	mf_reply r;
	start(chunk, 1);
	csq_ok("before the prober", chunk);
	mod_probe(m);
	csq_ok("one foreign command", chunk);
	mod_probe(m);
	int rc = command("AT+CSQ", 1000, &r);
	mf_reply_free(&r);
	ok(rc == MF_EFOREIGN && strstr(chat.err, "ModemManager") && strstr(chat.err, "ID_MM_PORT_IGNORE"),
	   "chunk %zu: a second one: the error names the likely cause and the fix (%s)", chunk, chat.err);
	csq_ok("once reported", chunk);
	stop();
}

static void test_echo_lost(size_t chunk)
{
	mf_reply r;
	start(chunk, 1);
	m->echo = 0; /* the engine believes echo is on */
	int rc = command("AT+CSQ", 300, &r);
	ok(rc == MF_OK && r.no_echo && !strcmp(r.final, "OK") && chat.echo == -1,
	   "chunk %zu: no echo ever: the final is taken at the deadline, echo no longer assumed", chunk);
	mf_reply_free(&r);
	csq_ok("echo off", chunk);
	stop();
}

/* A recorded transcript plays back the echo as recorded: the password
** masked. It is still the command's own echo. */
static void test_masked_echo(size_t chunk)
{
	static const char *const echoes[] = {"AT+QFTPCFG=\"account\",\"u\",\"***\"\r\r\nOK\r\n",
	                                     "AT+QFTPCFG=\"account\",\"u\",\"\\*\"\r\r\nOK\r\n"};
	for (int i = 0; i < 2; i++) {
		mock *mk = mock_new(echoes[i], strlen(echoes[i]), chunk);
		mock_gate(mk, 0, 1);
		mf_chat_init(&chat, &mk->base);
		chat.echo = 1;
		mf_redact_add(chat.redact, "s3cret", 6);
		mf_reply r;
		mf_reply_init(&r);
		mf_cmd_opts o = {0};
		o.timeout_ms = 1000;
		int64_t t0 = mf_now_ms();
		int rc = mf_chat_command(&chat, "AT+QFTPCFG=\"account\",\"u\",\"s3cret\"", &o, &r);
		ok(rc == MF_OK && !r.no_echo && mf_now_ms() - t0 < 500 && chat.foreign == 0,
		   "chunk %zu: a masked echo (%s) is the command's own", chunk, i ? "\\*" : "***");
		mf_reply_free(&r);
		mf_chat_free(&chat);
		free(mk);
	}
}

/* A port reopened: what the old one owed is gone with it, the rest stays. */
static void test_reopen(void)
{
	mf_reply r;
	start(4096, 1);
	mod_urc_later(m, "+QIURC: \"recv\",1", 0);
	mf_chat_poll(&chat, 50);
	m->late_ms = 200;
	command("AT+CSQ", 30, &r);
	mf_reply_free(&r);
	ok(chat.owed.n == 1 && chat.urcs.n == 1, "before: one command owed, one URC queued (%d, %zu)", chat.owed.n, chat.urcs.n);
	mf_chat_set_transport(&chat, NULL);
	int rc = command("AT+CSQ", 100, &r);
	mf_reply_free(&r);
	ok(rc == MF_ECLOSED && strstr(chat.err, "went away"), "a port gone: every call fails as closed (%s)", chat.err);
	mod *again = mod_new(7, GUARD_MS);
	mf_chat_set_transport(&chat, &again->base);
	ok(chat.owed.n == 0 && chat.urcs.n == 1 && chat.echo == 1, "reopened: nothing owed, the queue and settings kept");
	csq_ok("reopened", 7);
	mf_chat_free(&chat);
	free(again);
	mod_close(&m->base);
	free(m);
}

int main(void)
{
	static const size_t chunks[] = {1, 7, 4096};
	test_table();
	for (size_t i = 0; i < 3; i++) {
		test_late_final(chunks[i], 1);
		test_late_final(chunks[i], 0);
		test_aborted_upload(chunks[i]);
		test_stall(chunks[i]);
		test_foreign(chunks[i]);
		test_echo_lost(chunks[i]);
		test_masked_echo(chunks[i]);
	}
	test_reopen();
	return tap_done();
}
