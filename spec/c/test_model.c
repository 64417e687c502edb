/* test_model.c: a model-based randomized test of the data path (mf_data
** over the AT engine's receive window and mf_dlend) against a scripted
** module in virtual time: model_port.h is the module and the clock,
** model_gen.h the generator of its behaviour and the oracle.
**
** Environment:
**   MODEL_CASES=N          cases to run (default 100000)
**   MODEL_SEED=S           the run's seed (default: from the clock, printed)
**   MODEL_CASE=K           run only case K of seed S, with a trace of what was
**                          generated and what happened
**   MODEL_OP=get|put|escape  only that operation
**   MODEL_DUMP=DIR         write each case's choices to DIR/<op>-<case> (the
**                          transfer fuzzer's corpus format), MODEL_DUMP_EVERY=N
**                          keeps one case in N
**   MODEL_MAX_FAIL=N       stop after N failing cases (default 5)
** On failure: "# seed S case K" and the line that replays it.
**
** Linked with -Wl,--wrap=mf_now_ms,--wrap=mf_sleep_ms,--wrap=mf_left_ms,
** --wrap=mf_write_all (see the Makefile): nothing waits on the wall clock. */
#include "model_gen.h"
#include "tap.h"

#include <time.h>

static uint64_t case_seed(uint64_t seed, uint64_t k)
{
	uint64_t z = seed * 0x9e3779b97f4a7c15ULL + k * 0xbf58476d1ce4e5b9ULL + 1;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31)) | 1;
}

static long env_long(const char *name, long def)
{
	const char *e = getenv(name);
	return e && *e ? strtol(e, NULL, 10) : def;
}

static int op_from_env(void)
{
	const char *e = getenv("MODEL_OP");
	for (int i = 0; e && i < OP_N; i++)
		if (strcmp(e, mg_op_names[i]) == 0)
			return i;
	return -1;
}

static void dump(const char *dir, const mg_rng *g, int op, long k)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s-%ld", dir, mg_op_names[op], k);
	FILE *f = fopen(path, "wb");
	if (!f)
		return;
	/* the fuzzer's first choice is the operation */
	uint8_t head[4] = {(uint8_t)op, 0, 0, 0};
	fwrite(head, 1, 4, f);
	fwrite(g->log, 1, g->log_len, f);
	fclose(f);
}

int main(void)
{
	long cases = env_long("MODEL_CASES", 100000);
	long only = env_long("MODEL_CASE", -1);
	long max_fail = env_long("MODEL_MAX_FAIL", 5);
	uint64_t seed = (uint64_t)env_long("MODEL_SEED", 0);
	if (!seed)
		seed = (uint64_t)time(NULL) % 1000000;
	int op_only = op_from_env();
	const char *dumpdir = getenv("MODEL_DUMP");
	long dump_every = env_long("MODEL_DUMP_EVERY", 1);
	printf("# seed %llu, %ld cases\n", (unsigned long long)seed, only >= 0 ? 1 : cases);

	long failed = 0, ran = 0, per_op[OP_N] = {0}, ok_op[OP_N] = {0}, per_end[E_N] = {0};
	clock_t t0 = clock();
	for (long k = only >= 0 ? only : 0; k < (only >= 0 ? only + 1 : cases); k++) {
		mg_rng g = {case_seed(seed, (uint64_t)k), NULL, 0, 0, NULL, 0, 0, dumpdir != NULL};
		int op = op_only >= 0 ? op_only : (int)(k % 10 < 5 ? OP_GET : k % 10 < 8 ? OP_PUT : OP_ESCAPE);
		mg_case c;
		mg_generate(&g, &c, op);
		FILE *trace = only >= 0 ? stdout : NULL;
		if (trace)
			mg_describe(trace, &c);
		mg_result res;
		int pass = mg_run(&c, &res, trace);
		ran++;
		per_op[op]++;
		per_end[c.end]++;
		if (res.rc == MF_OK)
			ok_op[op]++;
		if (dumpdir && (dump_every <= 1 || k % dump_every == 0))
			dump(dumpdir, &g, op, k);
		if (!pass) {
			failed++;
			ok(0, "seed %llu case %ld (%s, %s): %s", (unsigned long long)seed, k, mg_op_names[op],
			   mg_end_names[c.end], res.why);
			printf("# seed %llu case %ld\n#   replay: MODEL_SEED=%llu MODEL_CASE=%ld build/test/test_model\n",
			       (unsigned long long)seed, k, (unsigned long long)seed, k);
		}
		free(g.log);
		mg_case_free(&c);
		if (failed >= max_fail && only < 0) {
			printf("# stopping after %ld failing cases\n", failed);
			break;
		}
	}
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	for (int i = 0; i < OP_N; i++)
		printf("# %-6s %8ld cases, %8ld succeeded\n", mg_op_names[i], per_op[i], ok_op[i]);
	for (int i = 0; i < E_N; i++)
		if (per_end[i])
			printf("# ending %-10s %8ld\n", mg_end_names[i], per_end[i]);
	printf("# %ld cases in %.1f s cpu\n", ran, secs);
	ok(failed == 0, "model: %ld cases (seed %llu), %ld failed", ran, (unsigned long long)seed, failed);
	return tap_done();
}
