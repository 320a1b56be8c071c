// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: qvisorctl's spec parser and plan on arbitrary text.
 * Must never crash; a spec that parses must plan or fail cleanly, and a
 * plan that succeeds must print (to /dev/null) without faults.  A spec
 * with a [template] is expanded over a fixed set of devices first, as
 * apply and watch do.
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
	static const struct qs_link links[] = {
		{ 1, "eth0", "" }, { 2, "tap101i0", "vm:db" },
		{ 3, "vnet0", "libvirt:web" }, { 4, "vnet1", "" },
		{ 5, "tap102i0", "" }, { 6, "1", "" },
	};
	char err[256], *text;

	if (n > 8192)
		return 0;
	text = malloc(n + 1);
	if (!text)
		return 0;
	memcpy(text, data, n);
	text[n] = '\0';
	if (qs_parse_string(&sp, "fuzz", text) == 0) {
		if (qs_expand(&sp, links, 6, NULL) < 0 && !sp.err[0])
			__builtin_trap();	/* a failure must say why */
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
