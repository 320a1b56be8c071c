// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: qvisorctl's spec parser and plan on arbitrary text.
 * Must never crash; a spec that parses must plan or fail cleanly, and a
 * plan that succeeds must print (to /dev/null) without faults.
 */
#include <stdint.h>
#include <stdlib.h>
#include "../../tools/qvisorctl/spec.c"

static struct qs_spec sp;
static struct qs_plan plan;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	static FILE *null;
	char err[256], *text;

	if (n > 8192)
		return 0;
	text = malloc(n + 1);
	if (!text)
		return 0;
	memcpy(text, data, n);
	text[n] = '\0';
	if (qs_parse_string(&sp, "fuzz", text) == 0) {
		if (!sp.err[0] && qs_plan(&sp, &plan, err, sizeof(err)) == 0) {
			if (!null)
				null = fopen("/dev/null", "w");
			if (null)
				qs_plan_print(null, &sp, &plan, true);
		}
	} else if (!sp.err[0]) {
		__builtin_trap();	/* a failure must say why */
	}
	free(text);
	return 0;
}
