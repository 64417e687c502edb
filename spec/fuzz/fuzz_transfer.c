/* fuzz_transfer.c: libFuzzer target for a whole GET, PUT or escape through
** the model's scripted module (spec/c/model_port.h), in virtual time. The
** input is the generator's choices (spec/c/model_gen.h: 4 bytes a choice,
** 1 a payload byte; the first choice is the operation): payload, framing,
** split points, delays, faults. Invariants: the model test's oracle (no
** wrong success, only allowed failures, payload prefixes only, no hang,
** nothing written to the AT interpreter after the module's exit was read,
** URCs kept). Corpus: spec/fuzz/corpus/fuzz_transfer/, dumped by
** `MODEL_DUMP=dir build/test/test_model`. Linked with the clock wrapped. */
#include "model_gen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mg_rng g;
	memset(&g, 0, sizeof g);
	g.in = data;
	g.in_len = size;
	int op = (int)mg_u(&g, OP_N);
	mg_case c;
	mg_generate(&g, &c, op);
	mg_result res;
	if (!mg_run(&c, &res, NULL)) {
		fprintf(stderr, "fuzz_transfer: %s\n", res.why);
		mg_describe(stderr, &c);
		abort();
	}
	mg_case_free(&c);
	return 0;
}
