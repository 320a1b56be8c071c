// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Host unit tests of the qvisor synthesizer (include/qvisor/synth.h) */
#include "tap.h"
#include "synth_util.h"
#include <qvisor/qmap.h>

static struct su U;

/* joint rank of minor's transform for a rank */
static u32 J(const struct su *u, u32 minor, u32 rank)
{
	u32 k;

	for (k = 0; k < u->nspec; k++)
		if (u->spec[k].minor == minor)
			return qv_xform_apply(&u->xf[k], rank);
	tap_check_fail(__FILE__, __LINE__, "no tenant %x", minor);
	return ~0u;
}

static u32 JI(const struct su *u)	/* implicit tenant */
{
	return qv_xform_apply(&u->xf[u->nspec], 12345);
}

/* synthesize, expecting success, and run the generic property checks */
static int synth_ok(struct su *u, u32 buckets, u32 overlap)
{
	static const u32 raw[8] = { 0, 1, 0x40000000, 0x7fffffff, 0x80000000,
				    0xbfffffff, 0xfffffffe, 0xffffffff };
	int r = su_synth(u, buckets, overlap);

	CHECK(r == 0, "synth failed: %s (%u)", u->e.msg ? u->e.msg : "?",
	      u->e.val);
	if (r)
		return r;
	su_fails = 0;
	su_check_all(u, raw, 8);
	CHECK(!su_fails, "property: %s", su_msg);
	return 0;
}

static void synth_err(struct su *u, u32 buckets, u32 overlap,
		      const char *msg, u32 val)
{
	int r = su_synth(u, buckets, overlap);

	CHECK(r == -22, "returned %d", r);
	CHECK(u->e.msg && !strcmp(u->e.msg, msg), "msg '%s' want '%s'",
	      u->e.msg ? u->e.msg : "(null)", msg);
	CHECK(u->e.val == val, "val %u want %u", u->e.val, val);
}

static void test_fig3(void)
{
	struct su *u = &U;
	u32 ov;

	for (ov = 0; ov <= 100; ov += 50) {
		CHECK(su_parse(u, "1 >> 2 + 3") == 0, "parse");
		su_add(u, 1, 7, 9, 3);
		su_add(u, 2, 1, 3, 2);
		su_add(u, 3, 3, 5, 2);
		if (synth_ok(u, 64, ov))
			break;
		CHECK(J(u, 1, 7) == 0 && J(u, 1, 8) == 1 && J(u, 1, 9) == 2,
		      "t1 7,8,9 -> %u,%u,%u", J(u, 1, 7), J(u, 1, 8),
		      J(u, 1, 9));
		CHECK(J(u, 2, 1) == 3 && J(u, 2, 3) == 4, "t2 1,3 -> %u,%u",
		      J(u, 2, 1), J(u, 2, 3));
		CHECK(J(u, 2, 2) == 3, "t2 2 -> %u", J(u, 2, 2));
		CHECK(J(u, 3, 3) == 3 && J(u, 3, 5) == 4, "t3 3,5 -> %u,%u",
		      J(u, 3, 3), J(u, 3, 5));
		CHECK(J(u, 3, 4) == 3, "t3 4 -> %u", J(u, 3, 4));
		CHECK(JI(u) == 5, "implicit -> %u", JI(u));
		CHECK(u->s.width == 6, "width %u", u->s.width);
		CHECK(u->s.tiers == 3, "tiers %u", u->s.tiers);
		CHECK(u->s.scale == 65536, "scale %u", u->s.scale);
		/* clamping keeps each tenant in its tier */
		CHECK(J(u, 1, 0) == 0 && J(u, 1, 1000) == 2, "t1 clamp");
		CHECK(J(u, 2, 0) == 3 && J(u, 2, 0xffffffff) == 4, "t2 clamp");
		CHECK(J(u, 3, 0) == 3 && J(u, 3, 6) == 4, "t3 clamp");
	}
	tap_point("fig. 3: \"1 >> 2 + 3\" t1 7..9/3 -> 0,1,2; t2 {1,3}, t3 {3,5} -> {3,4}; implicit 5");

	/* same, scaled into 4 buckets: tiers stay disjoint, one rank each */
	CHECK(su_parse(u, "1 >> 2 + 3") == 0, "parse");
	su_add(u, 1, 7, 9, 3);
	su_add(u, 2, 1, 3, 2);
	su_add(u, 3, 3, 5, 2);
	if (!synth_ok(u, 4, 0)) {
		CHECK(u->s.width <= 4, "width %u", u->s.width);
		CHECK(J(u, 1, 9) < J(u, 2, 1) && J(u, 3, 5) < JI(u),
		      "order lost");
	}
	tap_point("fig. 3 scaled into 4 buckets keeps P1");
	synth_err(u, 2, 0, "Policy needs more joint ranks than buckets", 3);
	tap_point("fig. 3 in 2 buckets: rejected (needs 3 tiers)");
}

static void test_p6(void)
{
	struct su *u = &U;
	u32 lv, b, k;
	static const u32 levels[] = { 2, 4, 8, 16 };
	static const u32 buckets[] = { 4096, 8, 5 };

	for (lv = 0; lv < 4; lv++) {
		for (b = 0; b < 3; b++) {
			u32 L = levels[lv];

			su_parse(u, "1 + 2");
			su_add(u, 1, 0, 15, L);
			su_add(u, 2, 1000, 50000, L);
			if (synth_ok(u, buckets[b], 0))
				continue;
			for (k = 0; k < L; k++) {
				/* first, middle and last rank of quantile k */
				u32 a0 = (u32)((16ull * k + L - 1) / L);
				u32 a1 = (u32)((16ull * (k + 1) + L - 1) / L) - 1;
				u32 b0 = 1000 + (u32)((49001ull * k + L - 1) / L);
				u32 b1 = 1000 + (u32)((49001ull * (k + 1) + L - 1) / L) - 1;

				CHECK(J(u, 1, a0) == J(u, 2, b0),
				      "L %u q%u start %u vs %u", L, k,
				      J(u, 1, a0), J(u, 2, b0));
				CHECK(J(u, 1, a1) == J(u, 2, b1),
				      "L %u q%u end %u vs %u", L, k,
				      J(u, 1, a1), J(u, 2, b1));
				CHECK(J(u, 1, (a0 + a1) / 2) ==
				      J(u, 2, (b0 + b1) / 2), "L %u q%u mid", L,
				      k);
				if (buckets[b] > L)
					CHECK(J(u, 1, a0) == k,
					      "L %u q%u -> %u", L, k,
					      J(u, 1, a0));
			}
		}
	}
	tap_point("P6: [0,15] and [1000,50000] with equal levels map quantiles to equal joint ranks (also scaled)");
}

static void test_overlap(void)
{
	struct su *u = &U;
	u32 r;

	/* overlap 0: disjoint, adjacent */
	su_parse(u, "1 > 2");
	su_add(u, 1, 0, 9, 10);
	su_add(u, 2, 0, 9, 10);
	if (!synth_ok(u, 1024, 0)) {
		CHECK(J(u, 1, 0) == 0 && J(u, 1, 9) == 9, "ov0 t1");
		CHECK(J(u, 2, 0) == 10 && J(u, 2, 9) == 19, "ov0 t2 %u..%u",
		      J(u, 2, 0), J(u, 2, 9));
		CHECK(JI(u) == 20 && u->s.width == 21, "ov0 width %u",
		      u->s.width);
	}
	tap_point("overlap 0: '>' levels are disjoint (0..9, 10..19)");
	if (!synth_ok(u, 1024, 100)) {
		for (r = 0; r <= 9; r++)
			CHECK(J(u, 1, r) == r && J(u, 2, r) == r, "ov100 %u", r);
		CHECK(JI(u) == 10 && u->s.width == 11, "ov100 width %u",
		      u->s.width);
	}
	tap_point("overlap 100: '>' levels are identical (both 0..9)");
	if (!synth_ok(u, 1024, 50)) {
		CHECK(J(u, 2, 0) == 5 && J(u, 2, 9) == 14, "ov50 t2 %u..%u",
		      J(u, 2, 0), J(u, 2, 9));
		CHECK(JI(u) == 15 && u->s.width == 16, "ov50 width %u",
		      u->s.width);
	}
	tap_point("overlap 50: level 2 starts halfway (5..14), shares 5..9");

	/* three levels, different widths, overlap 25: offsets 0, 6, 6+3 */
	su_parse(u, "1 > 2 > 3");
	su_add(u, 1, 0, 7, 8);
	su_add(u, 2, 0, 3, 4);
	su_add(u, 3, 0, 99, 100);
	if (!synth_ok(u, 1024, 25)) {
		CHECK(J(u, 2, 0) == 6, "t2 at %u", J(u, 2, 0));
		CHECK(J(u, 3, 0) == 9 && J(u, 3, 99) == 108, "t3 %u..%u",
		      J(u, 3, 0), J(u, 3, 99));
		CHECK(JI(u) == 109, "implicit %u", JI(u));
	}
	tap_point("overlap 25 with widths 8,4,100: offsets 0,6,9; tier ends at 109");
	synth_err(u, 1024, 101, "Overlap must be 0..100", 101);
	tap_point("overlap 101 rejected");
}

static void test_unnamed_absent(void)
{
	struct su *u = &U;

	su_parse(u, "1 >> 2");
	su_add(u, 7, 0, 99, 4);
	su_add(u, 1, 0, 9, 2);
	su_add(u, 8, 0, 0, 1);
	su_add(u, 2, 0, 9, 3);
	if (!synth_ok(u, 64, 0)) {
		CHECK(u->spec[0].pol_idx == -1 && u->spec[2].pol_idx == -1,
		      "pol_idx");
		CHECK(J(u, 1, 0) == 0 && J(u, 1, 9) == 1, "t1");
		CHECK(J(u, 2, 0) == 2 && J(u, 2, 9) == 4, "t2");
		CHECK(J(u, 7, 0) == 5 && J(u, 7, 99) == 8, "t7 %u..%u",
		      J(u, 7, 0), J(u, 7, 99));
		CHECK(J(u, 8, 0) == 5, "t8 %u", J(u, 8, 0));
		CHECK(JI(u) == 9 && u->s.tiers == 4, "implicit %u tiers %u",
		      JI(u), u->s.tiers);
	}
	tap_point("unnamed tenants share one extra tier after the policy's, before the implicit one");

	/* no policy at all: everybody unnamed */
	su_parse(u, NULL);
	su_add(u, 1, 5, 5, 1);
	su_add(u, 2, 0, 0xffffffff, 16);
	if (!synth_ok(u, 64, 0)) {
		CHECK(J(u, 1, 0) == 0 && J(u, 2, 0) == 0 &&
		      J(u, 2, 0xffffffff) == 15 && JI(u) == 16 &&
		      u->s.tiers == 2, "no policy");
	}
	/* nothing at all: only the implicit tenant */
	su_parse(u, NULL);
	if (!synth_ok(u, 1, 0))
		CHECK(JI(u) == 0 && u->s.width == 1 && u->s.tiers == 1,
		      "empty");
	tap_point("no policy: all unnamed; no tenants: implicit alone in 1 bucket");

	/* the policy names tenants that have no class: they take no room */
	su_parse(u, "1 >> 2 > 3 >> 4 >> 5");
	su_add(u, 5, 0, 3, 4);
	su_add(u, 1, 0, 1, 2);
	su_add(u, 3, 0, 2, 3);
	if (!synth_ok(u, 64, 0)) {
		CHECK(J(u, 1, 0) == 0 && J(u, 1, 1) == 1, "t1");
		CHECK(J(u, 3, 0) == 2 && J(u, 3, 2) == 4, "t3 %u", J(u, 3, 0));
		CHECK(J(u, 5, 0) == 5 && J(u, 5, 3) == 8, "t5 %u", J(u, 5, 0));
		CHECK(JI(u) == 9 && u->s.tiers == 4 && u->s.width == 10,
		      "implicit %u tiers %u", JI(u), u->s.tiers);
	}
	tap_point("policy naming absent tenants: empty tiers/levels take no room");
}

static void test_errors(void)
{
	struct su *u = &U;

	su_parse(u, "1 >> 2");
	su_add(u, 1, 0, 9, 2);
	su_add(u, 2, 10, 9, 2);
	synth_err(u, 64, 0, "Rank range has lo above hi", 2);
	su_parse(u, NULL);
	su_add(u, 0x33, 0xffffffff, 0, 2);
	synth_err(u, 64, 0, "Rank range has lo above hi", 0x33);
	tap_point("lo > hi rejected with its minor");

	su_parse(u, "1 >> 2 >> 3");
	su_add(u, 1, 0, 9, 5);
	su_add(u, 2, 0, 9, 5);
	su_add(u, 3, 0, 9, 5);
	synth_err(u, 3, 0, "Policy needs more joint ranks than buckets", 4);
	synth_err(u, 0, 0, "Policy needs more joint ranks than buckets", 4);
	tap_point("3 tiers + implicit in 3 buckets: rejected (needs 4)");
	if (!synth_ok(u, 4, 0))
		CHECK(J(u, 1, 9) == 0 && J(u, 2, 0) == 1 && J(u, 3, 9) == 2 &&
		      JI(u) == 3, "one rank per tier");
	tap_point("3 tiers + implicit in 4 buckets: one rank per tier");

	su_parse(u, "1 > 2 > 3");
	su_add(u, 1, 0, 9, 5);
	su_add(u, 2, 0, 9, 5);
	su_add(u, 3, 0, 9, 5);
	synth_err(u, 3, 0, "Policy needs more joint ranks than buckets", 4);
	synth_err(u, 3, 50, "Policy needs more joint ranks than buckets", 4);
	if (!synth_ok(u, 3, 100))
		CHECK(u->s.width == 3 && u->xf[0].width == 2 &&
		      u->xf[2].offset == 0, "width %u", u->s.width);
	tap_point("3 levels: overlap < 100 needs a rank per level, 100 needs one");
}

static void test_levels_edge(void)
{
	struct su *u = &U;

	/* levels 0 means 1; levels above the span are cut to the span */
	su_parse(u, "1 + 2 >> 3");
	su_add(u, 1, 10, 20, 0);
	su_add(u, 2, 0, 3, 1000);
	su_add(u, 3, 0, 0xffffffff, 10);
	if (!synth_ok(u, 64, 0)) {
		CHECK(u->xf[0].levels == 1 && u->xf[1].levels == 4,
		      "levels %u %u", u->xf[0].levels, u->xf[1].levels);
		CHECK(J(u, 1, 10) == J(u, 1, 20), "levels 0");
		CHECK(J(u, 2, 3) == 3 && u->xf[1].width == 4, "t2");
	}
	/* the kernel caps levels at 65536: with want <= 65536 the 16.16
	 * scale is fine enough that the fit uses every bucket it can
	 */
	su_parse(u, "1 >> 3");
	su_add(u, 1, 10, 20, 0);
	su_add(u, 3, 0, 0xffffffff, 65536);
	if (!synth_ok(u, 4096, 0)) {
		CHECK(u->s.width == 4096, "width %u", u->s.width);
		CHECK(J(u, 3, 0xffffffff) == 4094, "t3 top %u",
		      J(u, 3, 0xffffffff));
		CHECK(J(u, 3, 0) == 1, "t3 bottom %u", J(u, 3, 0));
		CHECK(JI(u) == 4095, "implicit %u", JI(u));
	}
	/* above 65536 levels (not accepted by the kernel) the 16.16 scale
	 * is coarse: 2^32-1 levels in 2^18 buckets get scale 3/65536, i.e.
	 * 196607 ranks of 262142 possible.  Still correct, just coarser.
	 */
	su_parse(u, "1 >> 3");
	su_add(u, 1, 10, 20, 0);
	su_add(u, 3, 0, 0xffffffff, 0xffffffff);
	if (!synth_ok(u, 262144, 0))
		CHECK(u->s.width == 196609 && u->s.scale == 3,
		      "width %u scale %u", u->s.width, u->s.scale);
	tap_point("levels 0 -> 1, levels > span -> span; 65536 levels fill 4096 buckets exactly");

	/* two huge tiers: the unscaled layout needs > 2^32 ranks */
	su_parse(u, "1 >> 2 >> 3");
	su_add(u, 1, 0, 0xffffffff, 0xffffffff);
	su_add(u, 2, 0, 0xffffffff, 0xffffffff);
	su_add(u, 3, 0, 0xffffffff, 0xffffffff);
	synth_ok(u, 65536, 0);
	synth_ok(u, 4, 0);
	synth_ok(u, 0xffffffff, 0);
	tap_point("three 2^32-level tiers fit in 4, 65536 and 2^32-1 buckets");
}

/* random policies, ranges, bucket counts, overlaps */
static void test_random(void)
{
	struct su *u = &U;
	char pol[SU_MAXT * 12];
	u32 raw[SU_MAXS];
	u32 minors[SU_MAXT];
	int iter, scaled = 0, rejected = 0, ok = 0;

	for (iter = 0; iter < 20000; iter++) {
		u32 n = 1 + tap_rand(iter % 10 ? 12 : 120), k, i, len = 0;
		u32 extra = tap_rand(4), buckets, overlap;
		int r;

		for (k = 0; k < n + extra; k++) {
		again:
			minors[k] = 1 + tap_rand(tap_rand(2) ? 40 : 0xffff);
			for (i = 0; i < k; i++)
				if (minors[i] == minors[k])
					goto again;
		}
		for (k = 0; k < n; k++) {
			static const char *ops[] = { " >> ", " > ", " + ",
						     ">>", ">", "+" };

			if (k)
				len += (u32)snprintf(pol + len, sizeof(pol) - len,
						     "%s", ops[tap_rand(6)]);
			len += (u32)snprintf(pol + len, sizeof(pol) - len,
					     "%x", minors[k]);
		}
		r = su_parse(u, pol);
		CHECK(r == 0, "random policy '%s': %s", pol, u->e.msg);
		if (r)
			continue;
		for (k = 0; k < n + extra; k++) {
			u32 lo, hi, lv;

			if (k < n && tap_rand(5) == 0)
				continue;	/* named but no class */
			switch (tap_rand(5)) {
			case 0:
				lo = tap_rand(100);
				hi = lo + tap_rand(20);
				break;
			case 1:
				lo = 0;
				hi = 0xffffffff;
				break;
			case 2:
				lo = (u32)tap_rand64();
				hi = (u32)tap_rand64();
				if (lo > hi) {
					u32 t = lo;

					lo = hi;
					hi = t;
				}
				break;
			case 3:
				lo = tap_rand(1000);
				hi = lo + tap_rand(70000);
				break;
			default:
				lo = 0xffffffff - tap_rand(10);
				hi = 0xffffffff;
				break;
			}
			switch (tap_rand(4)) {
			case 0:
				lv = tap_rand(8);
				break;
			case 1:
				lv = tap_rand(100000);
				break;
			case 2:
				lv = tap_rand(8) ? 65536 : 0xffffffff;
				break;
			default:
				lv = 16;
				break;
			}
			su_add(u, minors[k], lo, hi, lv);
		}
		switch (tap_rand(4)) {
		case 0:
			buckets = 1 + tap_rand(16);
			break;
		case 1:
			buckets = 64u << tap_rand(13);
			break;
		case 2:
			buckets = 1 + tap_rand(300);
			break;
		default:
			buckets = (u32)tap_rand64();
			break;
		}
		overlap = tap_rand(3) ? tap_rand(3) * 50 : tap_rand(101);
		for (k = 0; k < SU_MAXS; k++)
			raw[k] = (u32)tap_rand64();
		r = su_synth(u, buckets, overlap);
		su_fails = 0;
		if (r) {
			/* only legitimate reason: even one rank per group
			 * does not fit
			 */
			CHECK(u->e.msg && !strcmp(u->e.msg,
				"Policy needs more joint ranks than buckets"),
			      "'%s' b %u: unexpected error %s", pol, buckets,
			      u->e.msg);
			CHECK(su_min_width(u) > buckets,
			      "'%s' b %u ov %u: rejected but %llu ranks fit",
			      pol, buckets, overlap,
			      (unsigned long long)su_min_width(u));
			CHECK(u->e.val == su_min_width(u),
			      "'%s' reported need %u, computed %llu", pol,
			      u->e.val, (unsigned long long)su_min_width(u));
			rejected++;
			continue;
		}
		ok++;
		CHECK(su_min_width(u) <= buckets, "'%s': accepted below minimum",
		      pol);
		if (u->s.scale < 65536)
			scaled++;
		su_check_all(u, raw, SU_MAXS);
		CHECK(!su_fails, "%s [b %u ov %u '%s']", su_msg, buckets,
		      overlap, pol);
	}
	tap_diag("random: %d synthesized (%d scaled down), %d rejected", ok,
		 scaled, rejected);
	CHECK(scaled > 1000 && rejected > 100 && ok - scaled > 1000,
	      "too little coverage");
	tap_point("random policies: P1, fit (width <= buckets, largest scale), monotone, clamped, exact below 2^16");
}

/* P7, rank gaming (qv_props_gaming(), qv_gamer()) */
#define GM_CHOSEN	1	/* the tenant chooses its ranks (prio) */
#define GM_AUTO		2	/* range auto */

/* Classes for tenants 1..n: tenant k with flags @f[k-1], range 0..levels-1
 * and levels @lv[k-1] (0 levels: no class)
 */
static void gm_add(struct su *u, u32 n, const u32 *f, const u32 *lv)
{
	u32 k;

	for (k = 0; k < n; k++) {
		if (!lv[k])
			continue;
		su_add(u, k + 1, 0, lv[k] - 1, lv[k]);
		u->spec[u->nspec - 1].chosen = !!(f[k] & GM_CHOSEN);
		u->spec[u->nspec - 1].autorange = !!(f[k] & GM_AUTO);
	}
}

/* Tenants 1..n of @pol (nested groups allowed), tenant k with flags
 * @f[k-1] and levels @lv[k-1] (range 0..levels-1; 0 levels: no class);
 * returns the top-level P7 bits on @backend, *gamer the first tenant
 * (minor) that breaks it or 0, and gprops[] for the nested groups
 */
static u32 gaming(const char *pol, u32 overlap, u32 buckets, u32 backend,
		  u32 n, const u32 *f, const u32 *lv, u32 *gamer, u32 *gprops)
{
	static u32 scratch[2 * SU_MAXT + 2];
	struct su *u = &U;
	u32 k, props = 0;
	s32 g;

	*gamer = ~0u;
	if (su_parse_groups(u, pol)) {
		tap_check_fail(__FILE__, __LINE__, "parse %s: %s", pol,
			       u->e.msg);
		return 0;
	}
	gm_add(u, n, f, lv);
	if (su_synth(u, buckets, overlap)) {
		tap_check_fail(__FILE__, __LINE__, "synth %s: %s", pol,
			       u->e.msg);
		return 0;
	}
	for (k = 0; k < u->pol.ngrp; k++)
		gprops[k] = 0;
	qv_props_gaming(&u->s, backend, scratch, &props, gprops);
	g = qv_gamer(&u->s, scratch);
	*gamer = g < 0 ? 0 : u->spec[g].minor;
	return props & (QV_PROP_HOLDS(7) | QV_PROP_APPROX(7) |
			QV_PROP_KNOWN(7));
}

#define P7_YES	(QV_PROP_KNOWN(7) | QV_PROP_HOLDS(7))
#define P7_NO	QV_PROP_KNOWN(7)

static void test_gaming_rules(void)
{
	static const struct {
		const char *pol;
		u32 overlap, buckets, backend, n, f[4], lv[4];
		u32 want, gamer, gwant;	/* gwant: group 1's, if any */
		const char *why;
	} c[] = {
		{ "1 + 2", 50, 4096, QV_BACKEND_PIFO, 2,
		  { GM_CHOSEN, GM_CHOSEN }, { 16, 16 }, P7_NO, 1, 0,
		  "'+', both choose with a declared range: no (1)" },
		{ "1 + 2", 50, 4096, QV_BACKEND_PIFO, 2,
		  { GM_CHOSEN | GM_AUTO, GM_CHOSEN }, { 16, 16 }, P7_NO, 2, 0,
		  "'+', 1 with range auto, 2 declared: no (2)" },
		{ "1 + 2", 50, 4096, QV_BACKEND_PIFO, 2,
		  { GM_CHOSEN | GM_AUTO, GM_CHOSEN | GM_AUTO }, { 16, 16 },
		  P7_YES, 0, 0, "'+', both range auto: yes" },
		{ "1 + 2", 50, 4096, QV_BACKEND_PIFO, 2,
		  { GM_CHOSEN | GM_AUTO, 0 }, { 16, 16 }, P7_YES, 0, 0,
		  "'+', range auto and a computed rank (las, fifo): yes" },
		{ "1 >> 2", 50, 4096, QV_BACKEND_PIFO, 2,
		  { GM_CHOSEN, GM_CHOSEN }, { 16, 16 }, P7_YES, 0, 0,
		  "'>>': each alone in its tier, yes" },
		{ "1 > 2", 50, 4096, QV_BACKEND_PIFO, 2,
		  { GM_CHOSEN, GM_CHOSEN }, { 16, 16 }, P7_NO, 1, 0,
		  "'>' at overlap 50: the levels overlap, no" },
		{ "1 > 2", 0, 4096, QV_BACKEND_PIFO, 2,
		  { GM_CHOSEN, GM_CHOSEN }, { 16, 16 }, P7_YES, 0, 0,
		  "'>' at overlap 0: disjoint levels, yes" },
		{ "1 + 2", 50, 4096, QV_BACKEND_PIFO, 2,
		  { 0, GM_CHOSEN }, { 16, 1 }, P7_YES, 0, 0,
		  "'+', the chooser's range is one rank (levels 1): yes" },
		{ "1 + 2", 50, 2, QV_BACKEND_PIFO, 2,
		  { GM_CHOSEN, GM_CHOSEN }, { 16, 16 }, P7_YES, 0, 0,
		  "'+' scaled to one joint rank (buckets 2): yes" },
		{ "1 + 2", 50, 4096, QV_BACKEND_SPPIFO, 2,
		  { GM_CHOSEN, GM_CHOSEN }, { 16, 16 }, P7_NO, 1, 0,
		  "sppifo: ranks order the queues, no" },
		{ "1 + 2", 50, 4096, QV_BACKEND_FIFO, 2,
		  { GM_CHOSEN, GM_CHOSEN }, { 16, 16 }, P7_YES, 0, 0,
		  "fifo: ranks ignored, yes" },
		{ "1 + 2", 50, 4096, QV_BACKEND_PIFO, 2,
		  { GM_CHOSEN, GM_CHOSEN }, { 16, 0 }, P7_YES, 0, 0,
		  "'+' whose mate has no class: alone, yes" },
		{ "1", 50, 4096, QV_BACKEND_PIFO, 3,
		  { 0, GM_CHOSEN, 0 }, { 16, 16, 16 }, P7_NO, 2, 0,
		  "classes the policy leaves out share one tier: no (2)" },
		{ "1", 50, 4096, QV_BACKEND_PIFO, 2,
		  { GM_CHOSEN, GM_CHOSEN }, { 16, 16 }, P7_YES, 0, 0,
		  "one class left out, alone in its tier: yes" },
		{ "(1 >> 2) + 3", 0, 4096, QV_BACKEND_PIFO, 3,
		  { GM_CHOSEN, GM_CHOSEN, 0 }, { 4, 4, 4 }, P7_NO, 1, P7_YES,
		  "(1 >> 2) + 3: 1 shares ranks with 3: no; inside, strict: yes" },
		{ "(1 > 2) + 3", 50, 4096, QV_BACKEND_PIFO, 3,
		  { GM_CHOSEN | GM_AUTO, GM_CHOSEN | GM_AUTO, GM_CHOSEN },
		  { 4, 4, 4 }, P7_NO, 3, P7_YES,
		  "(1 > 2) + 3 with 3 declared: no (3); inside, range auto: yes" },
		{ "(1 > 2) + 3", 50, 4096, QV_BACKEND_PIFO, 3,
		  { GM_CHOSEN, GM_CHOSEN, 0 }, { 4, 4, 4 }, P7_NO, 1, P7_NO,
		  "(1 > 2) + 3, 1 and 2 declared: no, inside too" },
	};
	u32 k, p, gm, gp[4];

	for (k = 0; k < sizeof(c) / sizeof(c[0]); k++) {
		gp[0] = 0;
		p = gaming(c[k].pol, c[k].overlap, c[k].buckets, c[k].backend,
			   c[k].n, c[k].f, c[k].lv, &gm, gp);
		CHECK(p == c[k].want, "%s: P7 bits %#x want %#x", c[k].why,
		      p, c[k].want);
		if (c[k].backend != QV_BACKEND_FIFO)
			CHECK(gm == c[k].gamer, "%s: gamer %u want %u",
			      c[k].why, gm, c[k].gamer);
		if (c[k].gwant)
			CHECK((gp[0] & P7_YES) == c[k].gwant,
			      "%s: group P7 %#x want %#x", c[k].why, gp[0],
			      c[k].gwant);
		tap_point("P7 %s", c[k].why);
	}
}

/* Tenant k of @u in nested group @g (0: the whole policy) */
static bool gm_in(const struct su *u, u32 k, u32 g)
{
	s32 i = u->spec[k].pol_idx;

	return !g || (i >= 0 && (u32)i >= u->pgrp[g - 1].first &&
		      (u32)i < u->pgrp[g - 1].end);
}

/* The definition of "P7 breaks in scope @g", pair by pair */
static bool gm_brute(const struct su *u, u32 g)
{
	u32 k, m;

	for (k = 0; k < u->nspec; k++) {
		const struct qv_xform *a = &u->xf[k];

		if (!gm_in(u, k, g) || !u->spec[k].chosen ||
		    u->spec[k].autorange || a->levels < 2 || a->width < 2)
			continue;
		for (m = 0; m < u->nspec; m++) {
			const struct qv_xform *b = &u->xf[m];

			if (m != k && gm_in(u, m, g) &&
			    a->offset < b->offset + b->width &&
			    b->offset < a->offset + a->width)
				return true;
		}
	}
	return false;
}

/* Random flat and nested policies: qv_gamer() equals the definition
 * checked pair by pair (a tenant that can game overlaps another)
 */
static void test_gaming_random(void)
{
	static const char *const ops[] = { " + ", " > ", " >> " };
	static u32 scratch[2 * SU_MAXT + 2];
	struct su *u = &U;
	char pol[256];
	u32 it, n, k, m, f[8], lv[8], props, gp[8], len;
	u32 runs = 0, nested = 0, broken = 0, gbroken = 0;
	bool want;
	s32 g;

	for (it = 0; it < 20000; it++) {
		n = 2 + tap_rand(7);
		len = 0;
		for (k = 0; k < n; k++) {
			bool open = k + 2 < n && !tap_rand(4);

			len += (u32)snprintf(pol + len, sizeof(pol) - len,
					     "%s%s%u", k ? ops[tap_rand(3)] : "",
					     open ? "(" : "", k + 1);
			if (open) {
				len += (u32)snprintf(pol + len,
						     sizeof(pol) - len,
						     "%s%u)", ops[tap_rand(3)],
						     k + 2);
				k++;
			}
		}
		for (k = 0; k < n; k++) {
			f[k] = tap_rand(4);
			lv[k] = tap_rand(8) ? 1 + tap_rand(16) : 0;
		}
		if (su_parse_groups(u, pol))
			continue;
		gm_add(u, n, f, lv);
		if (su_synth(u, 4 + tap_rand(200), tap_rand(101)))
			continue;
		props = 0;
		qv_props_gaming(&u->s, QV_BACKEND_PIFO, scratch, &props, gp);
		g = qv_gamer(&u->s, scratch);
		want = gm_brute(u, 0);
		runs++;
		nested += u->pol.ngrp > 0;
		broken += want;
		CHECK(want == (g >= 0), "%s: brute force %d, qv_gamer %d",
		      pol, want, g);
		for (m = 0; m < u->pol.ngrp; m++) {
			gbroken += gm_brute(u, m + 1);
			CHECK(!!(gp[m] & QV_PROP_HOLDS(7)) ==
			      !gm_brute(u, m + 1), "%s: group %u props %#x",
			      pol, m + 1, gp[m]);
		}
		CHECK(!!(props & QV_PROP_HOLDS(7)) == !want &&
		      (props & QV_PROP_KNOWN(7)), "%s: props %#x", pol, props);
	}
	tap_diag("P7 random: %u synthesized, %u with nested groups, P7 broken in %u, inside a group in %u",
		 runs, nested, broken, gbroken);
	tap_point("P7: qv_gamer() and the groups' P7 equal the pairwise overlap rule on 20000 random policies");
}

int main(void)
{
	tap_plan(0);
	tap_seed_from_env();
	test_fig3();
	test_p6();
	test_overlap();
	test_unnamed_absent();
	test_errors();
	test_levels_edge();
	test_random();
	test_gaming_rules();
	test_gaming_random();
	return tap_done();
}
