// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of include/qvisor/rank.h: las, stfq and edf ranks, the
 * per-tenant base, saturation, and wraparound of virtual time and clock
 * (the same packet sequence ranked from a start near 2^64 gives the same
 * ranks as from 0).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qvisor/rank.h"
#include "tap.h"

static void test_after(void)
{
	CHECK(qv_after(1, 0), "1 after 0");
	CHECK(!qv_after(0, 1), "0 not after 1");
	CHECK(!qv_after(7, 7), "not after itself");
	CHECK(qv_after(5, ~0ULL - 10), "5 after 2^64-11 (wrapped)");
	CHECK(qv_max_mod(~0ULL - 3, 2) == 2, "max across the wrap");
	CHECK(qv_max_mod(2, ~0ULL - 3) == 2, "max across the wrap, swapped");
	CHECK(qv_rank_diff(10, 3) == 7, "diff");
	CHECK(qv_rank_diff(3, 10) == 0, "negative diff is 0");
	CHECK(qv_rank_diff(4, ~0ULL - 5) == 10, "diff across the wrap");
	CHECK(qv_rank_diff(1ULL << 40, 0) == 0xffffffffu, "diff saturates");
	tap_point("qv_after, qv_max_mod, qv_rank_diff: modulo 2^64, saturating");
}

static void test_las(void)
{
	u64 a = 0, b = 0;

	CHECK(qv_las_rank(&a, 100) == 0, "first packet ranks 0");
	CHECK(qv_las_rank(&a, 1500) == 100, "then bytes before it");
	CHECK(qv_las_rank(&a, 1500) == 1600, "accumulates");
	CHECK(qv_las_rank(&b, 64) == 0, "another flow starts at 0");
	CHECK(a == 3100 && b == 64, "attained bytes");
	a = 0xfffffff0ULL;
	CHECK(qv_las_rank(&a, 1000) == 0xfffffff0u, "below 2^32 exact");
	CHECK(qv_las_rank(&a, 1000) == 0xffffffffu, "beyond 2^32 saturates");
	CHECK(a == 0xfffffff0ULL + 2000, "count itself does not saturate");
	tap_point("las: rank = bytes the flow sent before, saturating at 2^32-1");
}

/* Ranks of a fixed packet sequence of 3 flows under stfq, starting with
 * virtual time @v0; idle gaps (the tenant's queue ran empty) at marked
 * packets, and dequeues in between.
 */
#define NPKT 40
static void stfq_run(u64 v0, u32 *ranks, u64 *vts)
{
	static const u32 flow[NPKT] = {
		0, 0, 0, 1, 1, 2, 0, 1, 2, 2, 2, 2, 0, 0, 1, 1, 1, 1, 0, 2,
		1, 0, 2, 1, 0, 2, 1, 0, 0, 0, 1, 1, 2, 2, 0, 1, 2, 0, 1, 2 };
	static const u32 len[3] = { 1500, 700, 64 };
	struct qv_rbase r = { .base = v0, .vt = v0 };
	u64 fin[3];
	unsigned int i, f;
	bool idle;

	for (f = 0; f < 3; f++)
		fin[f] = qv_stfq_init(&r);
	for (i = 0; i < NPKT; i++) {
		f = flow[i];
		idle = i == 0 || i == 17 || i == 30;
		ranks[i] = qv_stfq_rank(&r, &fin[f], len[f], idle);
		/* every third packet, the lowest rank so far leaves */
		if (i % 3 == 2)
			qv_stfq_dequeued(&r, ranks[i - 2] < ranks[i - 1] ?
					 ranks[i - 2] : ranks[i - 1]);
		vts[i] = r.vt - v0;
	}
}

static void test_stfq_basic(void)
{
	struct qv_rbase r = { 0, 0 };
	u64 fa = qv_stfq_init(&r), fb = qv_stfq_init(&r);

	CHECK(qv_stfq_rank(&r, &fa, 1000, true) == 0, "a1: S=0");
	CHECK(qv_stfq_rank(&r, &fa, 1000, false) == 1000, "a2: S=F(a1)");
	CHECK(qv_stfq_rank(&r, &fa, 1000, false) == 2000, "a3");
	CHECK(qv_stfq_rank(&r, &fb, 100, false) == 0, "b1: new flow at V=0");
	CHECK(qv_stfq_rank(&r, &fb, 100, false) == 100, "b2");
	/* a1 and b1 leave (start tag 0), then a2 (1000) */
	qv_stfq_dequeued(&r, 0);
	qv_stfq_dequeued(&r, 0);
	qv_stfq_dequeued(&r, 1000);
	CHECK(r.vt == 1000, "V = start tag of the last dequeued");
	qv_stfq_dequeued(&r, 100);
	CHECK(r.vt == 1000, "V never moves back");
	CHECK(qv_stfq_rank(&r, &fb, 100, false) == 1000,
	      "b3: lagging flow starts at V, S = max(V, F)");
	{
		u64 fc = qv_stfq_init(&r);

		CHECK(qv_stfq_rank(&r, &fc, 64, false) == 1000,
		      "c1: new flow starts at V");
	}
	/* tenant idle: base moves to V, the next packet of a caught-up flow
	 * ranks 0, one ahead keeps its lead
	 */
	qv_stfq_dequeued(&r, 3000);
	CHECK(qv_stfq_rank(&r, &fb, 100, true) == 0, "idle: base = V, rank 0");
	CHECK(r.base == 3000, "base moved to V");
	fa = 3500;
	CHECK(qv_stfq_rank(&r, &fa, 100, false) == 500, "lead kept");
	tap_point("stfq: S = max(V, F), F = S + len, V = start of last dequeued, rebase when idle");
}

static void test_stfq_wrap(void)
{
	u32 r0[NPKT], r1[NPKT], r2[NPKT];
	u64 v0[NPKT], v1[NPKT], v2[NPKT];
	int same = 1, i;

	stfq_run(0, r0, v0);
	stfq_run(~0ULL - 2000, r1, v1);	/* wraps during the run */
	stfq_run(1ULL << 63, r2, v2);		/* crosses the sign bit */
	for (i = 0; i < NPKT; i++)
		if (r0[i] != r1[i] || r0[i] != r2[i] || v0[i] != v1[i] ||
		    v0[i] != v2[i])
			same = 0;
	CHECK(same, "same ranks and virtual times from 0, 2^64-2001, 2^63");
	CHECK(v1[NPKT - 1] > 2001, "the run did cross 2^64");
	tap_diag("virtual time advanced by %llu", (unsigned long long)v0[NPKT - 1]);
	tap_point("stfq: virtual time wraparound (u64, modular) changes no rank");
}

/* One tenant, 3 flows always backlogged with different packet sizes, a
 * PIFO by stfq rank: each flow gets about the same bytes.
 */
static void test_stfq_fair(void)
{
	static const u32 len[3] = { 1500, 576, 64 };
	struct qv_rbase r = { ~0ULL - 100000, ~0ULL - 100000 };
	u64 fin[3], sent[3] = { 0 };
	u32 head[3];
	unsigned int f, best, n;

	for (f = 0; f < 3; f++) {
		fin[f] = qv_stfq_init(&r);
		head[f] = qv_stfq_rank(&r, &fin[f], len[f], f == 0);
	}
	for (n = 0; n < 30000; n++) {
		best = 0;
		for (f = 1; f < 3; f++)
			if (head[f] < head[best])
				best = f;
		qv_stfq_dequeued(&r, head[best]);
		sent[best] += len[best];
		head[best] = qv_stfq_rank(&r, &fin[best], len[best], false);
	}
	for (f = 0; f < 3; f++)
		tap_diag("flow %u (len %u): %llu bytes", f, len[f],
			 (unsigned long long)sent[f]);
	for (f = 1; f < 3; f++)
		CHECK(sent[f] + 1500 >= sent[0] && sent[0] + 1500 >= sent[f],
		      "flow %u within one max packet of flow 0", f);
	tap_point("stfq: backlogged flows of 1500/576/64-byte packets get equal bytes (across a wrap)");
}

static void test_edf(void)
{
	struct qv_rbase r = { 0, 0 };
	u64 t = 5000000;	/* ns */

	CHECK(qv_edf_rank(&r, t, 10000000, true) == 10000,
	      "first packet of a busy period: rank = budget in us");
	CHECK(r.base == t, "base = its arrival");
	CHECK(qv_edf_rank(&r, t + 3000000, 10000000, false) == 13000,
	      "3 ms later: 13 ms after base");
	CHECK(qv_edf_rank(&r, t + 4000000, 2000000, false) == 6000,
	      "own budget 2 ms: deadline earlier than the previous ones");
	CHECK(qv_edf_rank(&r, t + 9000000, 10000000, true) == 10000,
	      "idle again: rebased");
	CHECK(qv_edf_rank(&r, t + 9000999, 0, false) == 0,
	      "budget 0 and under 1 us: rank 0");
	CHECK(qv_edf_rank(&r, t + 9000000, ~0ULL - 5, false) == 0xffffffffu,
	      "huge budget saturates");
	CHECK(qv_edf_rank(&r, t + 9000000, 5000000000000ULL, false) ==
	      0xffffffffu, "budget beyond 2^32 us saturates");
	/* clock going backwards (never from ktime): rebase, no huge rank */
	CHECK(qv_edf_rank(&r, t, 1000, false) == 1, "clock behind base: rebase");
	tap_point("edf: rank = arrival + budget - base in us, rebase when idle, saturating");
}

static void test_edf_wrap(void)
{
	static const u64 at[8] = { 0, 10, 2000, 2500, 90000, 90001, 150000,
				   3000000 };
	static const u64 bud[8] = { 100000, 5000, 100000, 1000, 1, 40000, 0,
				    100000 };
	u64 starts[3] = { 0, ~0ULL - 100000, (1ULL << 63) - 1000 };
	u32 want[8], got;
	int ok = 1, s, i;

	for (s = 0; s < 3; s++) {
		struct qv_rbase r = { starts[s], 0 };

		for (i = 0; i < 8; i++) {
			got = qv_edf_rank(&r, starts[s] + at[i] * 1000,
					  bud[i] * 1000, i == 0);
			if (s == 0)
				want[i] = got;
			else if (got != want[i])
				ok = 0;
		}
	}
	CHECK(ok, "the same ranks with the clock starting at 0, 2^64-100001, 2^63-1000");
	CHECK(want[3] == 3500 && want[6] == 150000,
	      "deadlines in us after the base");
	tap_point("edf: clock wraparound changes no rank");
}

/* Exactness inside a busy period: sorting by rank gives the order of the
 * absolute tags (when no tag is saturated).
 */
static void test_order(void)
{
	struct qv_rbase r = { ~0ULL - 3000000, ~0ULL - 3000000 };
	u64 abs_dl[200], t = r.base;
	u32 rk[200];
	int i, j, ok = 1;

	for (i = 0; i < 200; i++) {
		u64 b = (u64)(tap_rand(50) + 1) * 100000;

		t += tap_rand(20000);
		rk[i] = qv_edf_rank(&r, t, b, i == 0);
		abs_dl[i] = t + b;
	}
	for (i = 0; i < 200; i++)
		for (j = 0; j < 200; j++)
			if ((rk[i] < rk[j]) &&
			    qv_after(abs_dl[i], abs_dl[j] + 999))
				ok = 0;
	CHECK(ok, "rank order = deadline order (to 1 us) across the wrap");
	tap_point("edf: exact deadline order within a busy period");
}

/* A busy period longer than the range: ranks clamp at HI, and a PIFO of
 * clamped ranks (FIFO among equal ranks) still never reorders a flow.
 */
static void test_clamp_flow_order(void)
{
	enum { N = 3000, HI = 200000, NF = 5 };
	static u32 rk[N], fl[N], sq[N];
	static int done[N];
	struct qv_rbase r = { ~0ULL - 5000, ~0ULL - 5000 };
	u64 fin[NF];
	u32 last_seq[NF], f, i, k, n = 0, clamped = 0, best;
	int ok = 1, queued = 0;

	for (f = 0; f < NF; f++) {
		fin[f] = qv_stfq_init(&r);
		last_seq[f] = 0;
	}
	for (i = 0; i < N; i++) {
		f = tap_rand(NF);
		rk[i] = qv_stfq_rank(&r, &fin[f], 64 + tap_rand(1400), !queued);
		if (rk[i] > HI) {
			rk[i] = HI;
			clamped++;
		}
		fl[i] = f;
		sq[i] = ++n;
		queued++;
		/* dequeue one packet every other arrival: stays busy */
		if (i % 2) {
			best = N;
			for (k = 0; k <= i; k++)
				if (!done[k] && (best == N || rk[k] < rk[best]))
					best = k;
			done[best] = 1;
			queued--;
			qv_stfq_dequeued(&r, rk[best]);
			if (sq[best] < last_seq[fl[best]])
				ok = 0;
			last_seq[fl[best]] = sq[best];
		}
	}
	tap_diag("%u of %u ranks clamped at %u", clamped, N, HI);
	CHECK(clamped > N / 4, "the busy period outgrew the range");
	CHECK(ok, "no flow's packets were reordered");
	tap_point("stfq: ranks clamped in a long busy period never reorder a flow");
}

int main(void)
{
	tap_seed_from_env();
	tap_plan(9);
	test_after();
	test_las();
	test_stfq_basic();
	test_stfq_wrap();
	test_stfq_fair();
	test_edf();
	test_edf_wrap();
	test_order();
	test_clamp_flow_order();
	return tap_done();
}
