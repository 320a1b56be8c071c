// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * libFuzzer target: the synthesizer and the transforms driven directly by
 * the input bytes (no parser in the way): a policy shape, the tenant specs,
 * buckets, overlap and the ranks to apply are all read from the data.
 * Properties checked: see synth_util.h.
 */
#include "synth_util.h"
#include "fuzz_rd.h"

static struct su U;

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct rd r = { data, size, 0 };
	struct su *u = &U;
	u32 n, k, buckets, overlap, raw[16], tier = 0, level = 0;
	int err;

	su_fatal = 1;
	/* header: tenants, buckets, overlap */
	n = rd8(&r) % 65;
	buckets = rd32(&r);
	if (buckets & 0x80000000u)	/* mostly the kernel's sizes */
		buckets = 1u << (buckets % 19);
	overlap = rd8(&r) % 101;
	/* policy: per tenant one byte: op (2 bits), named? (1 bit) */
	u->has_pol = rd8(&r) != 0xff;
	u->pol.ent = u->ent;
	u->pol.cap = SU_MAXT;
	u->pol.n = 0;
	u->nspec = 0;
	for (k = 0; k < n; k++) {
		u32 b = rd8(&r), lo = rd32(&r), hi = rd32(&r), lv = rd32(&r);

		if (b & 0x40)
			hi = lo + (b & 0x3f);	/* small spans, may wrap */
		if (lo > hi) {
			u32 t = lo;

			lo = hi;
			hi = t;
		}
		if (b & 0x80)
			lv %= 65537;
		if (u->has_pol && (b & 4) == 0) {
			if (u->pol.n) {
				if ((b & 3) == 2) {
					tier++;
					level = 0;
				} else if ((b & 3) == 1) {
					level++;
				}
			}
			u->ent[u->pol.n].minor = k + 1;
			u->ent[u->pol.n].tier = (u16)tier;
			u->ent[u->pol.n].level = (u16)level;
			u->pol.n++;
			u->pol.tiers = tier + 1;
			if (b & 8)
				continue;	/* named, no class */
		}
		su_add(u, k + 1, lo, hi, lv);
	}
	for (k = 0; k < 16; k++)
		raw[k] = rd32(&r);
	err = su_synth(u, buckets, overlap);
	if (err) {
		if (strcmp(u->e.msg, "Policy needs more joint ranks than buckets"))
			__builtin_trap();
		if (su_min_width(u) <= buckets) {
			fprintf(stderr, "rejected but %llu fit in %u\n",
				(unsigned long long)su_min_width(u), buckets);
			__builtin_trap();
		}
		return 0;
	}
	if (su_min_width(u) > buckets)
		__builtin_trap();
	su_check_all(u, raw, 16);
	return 0;
}
