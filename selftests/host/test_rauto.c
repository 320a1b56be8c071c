// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests of include/qvisor/rauto.h (range auto): the bucket map, the
 * start (no history), convergence of the equal-frequency quantization on
 * uniform, skewed, bimodal and shifting streams with a bounded error per
 * level, a single-rank (gaming) tenant landing in the middle of its
 * levels, and the table staying monotone.
 *
 * Error bound per level: a bucket goes whole to one level, so a level
 * can be off its 1/L share by at most the largest bucket's mass; on top,
 * the sampling noise of a window (a few percent at W = 1024).  The tests
 * check |share - 1/L| <= max bucket mass + 3 points and print the errors.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "qvisor/rauto.h"
#include "tap.h"
#include "synth_util.h"

#define L	8
#define SAMPLES	200000

static struct qv_rauto RA;

typedef u32 (*gen_fn)(void);

static u32 g_uniform(void)
{
	return tap_rand(1001);
}

static u32 g_wide(void)
{
	return 1000 + tap_rand(49001);
}

/* skewed: exponential with mean 200 (LAS-like, many small ranks) */
static u32 g_skewed(void)
{
	double u = (tap_rand64() >> 11) * (1.0 / 9007199254740992.0);

	return (u32)(-200.0 * log(1.0 - u));
}

/* bimodal: 70% near 10, 30% near 40000 */
static u32 g_bimodal(void)
{
	if (tap_rand(10) < 7)
		return 5 + tap_rand(11);
	return 39000 + tap_rand(2001);
}

static u32 g_shifted(void)
{
	return 2000 + tap_rand(10001);
}

static void feed(struct qv_rauto *ra, gen_fn g, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++)
		qv_rauto_note(ra, g());
}

/* Largest error of a level's share on fresh samples of @g; @bmax gets
 * the largest bucket mass of @g
 */
static double level_error(const struct qv_rauto *ra, gen_fn g, double *bmax)
{
	static u32 bk[QV_RAUTO_NB];
	u32 lv[L] = { 0 }, i, b;
	double e = 0, d;

	for (b = 0; b < QV_RAUTO_NB; b++)
		bk[b] = 0;
	for (i = 0; i < SAMPLES; i++) {
		u32 r = g();

		bk[qv_rauto_bucket(r)]++;
		lv[qv_rauto_level(ra, r, L)]++;
	}
	*bmax = 0;
	for (b = 0; b < QV_RAUTO_NB; b++)
		if ((double)bk[b] / SAMPLES > *bmax)
			*bmax = (double)bk[b] / SAMPLES;
	for (i = 0; i < L; i++) {
		d = fabs((double)lv[i] / SAMPLES - 1.0 / L);
		if (d > e)
			e = d;
	}
	return e;
}

static void test_buckets(void)
{
	u32 b, r, prev = 0;
	u64 x;

	for (b = 0; b < QV_RAUTO_NB; b++) {
		r = qv_rauto_bucket_lo(b);
		CHECK(qv_rauto_bucket(r) == b, "bucket_lo(%u) = %u maps to %u",
		      b, r, qv_rauto_bucket(r));
		CHECK(!b || r > prev, "bucket %u starts at %u <= %u", b, r,
		      prev);
		if (r > 1)
			CHECK(qv_rauto_bucket(r - 1) == b - 1,
			      "rank %u before bucket %u", r - 1, b);
		prev = r;
	}
	CHECK(qv_rauto_bucket(0xffffffffu) == QV_RAUTO_NB - 1, "top %u",
	      qv_rauto_bucket(0xffffffffu));
	/* spans at most 1/16 of their lowest rank above the exact ones */
	for (b = 2 * QV_RAUTO_SUB; b + 1 < QV_RAUTO_NB; b++) {
		x = qv_rauto_bucket_lo(b + 1) - qv_rauto_bucket_lo(b);
		CHECK(x * QV_RAUTO_SUB <= qv_rauto_bucket_lo(b),
		      "bucket %u spans %llu", b, (unsigned long long)x);
	}
	tap_point("bucket map: %u buckets, monotone, exact below %u, 1/%u of "
		  "the rank above", QV_RAUTO_NB, 2 * QV_RAUTO_SUB,
		  QV_RAUTO_SUB);
}

static void test_start(void)
{
	u32 i;

	qv_rauto_init(&RA, 1024);
	for (i = 0; i + 1 < QV_RAUTO_FIRST; i++)
		qv_rauto_note(&RA, i * 30);
	CHECK(!RA.ready, "ready after %u packets", i);
	qv_rauto_note(&RA, 0);
	CHECK(RA.ready && RA.updates == 1, "not ready after %u packets",
	      QV_RAUTO_FIRST);
	feed(&RA, g_uniform, 1023);
	CHECK(RA.updates == 1, "%llu updates before the window ended",
	      (unsigned long long)RA.updates);
	feed(&RA, g_uniform, 1);
	CHECK(RA.updates == 2, "%llu updates at the window's end",
	      (unsigned long long)RA.updates);
	tap_point("start: no table before %u packets (declared range), then "
		  "one per window", QV_RAUTO_FIRST);
}

static void converge(const char *name, gen_fn g)
{
	double e, bmax;

	qv_rauto_init(&RA, 1024);
	feed(&RA, g, 8 * 1024);
	e = level_error(&RA, g, &bmax);
	tap_diag("%s: largest level error %.2f%% of packets (1/L = %.1f%%, "
		 "largest bucket %.2f%%)", name, e * 100, 100.0 / L,
		 bmax * 100);
	tap_ok(e <= bmax + 0.03, "%s: every level within %.1f%% of 1/%u",
	       name, (bmax + 0.03) * 100, L);
}

static void test_shift(void)
{
	double e = 1, bmax = 0;
	u32 w;

	qv_rauto_init(&RA, 1024);
	feed(&RA, g_uniform, 8 * 1024);
	for (w = 1; w <= 10; w++) {
		feed(&RA, g_shifted, 1024);
		e = level_error(&RA, g_shifted, &bmax);
		if (e <= bmax + 0.03)
			break;
	}
	tap_diag("shift [0,1000] -> [2000,12000]: within bound after %u "
		 "windows (error %.2f%%)", w, e * 100);
	tap_ok(w <= 6, "shift: converged within 6 windows (%u)", w);
}

/* Windows of @w packets (a multiple of 16) at ranks 0..15 in turn (an
 * equal share each, a bucket each): the first (32 packets) and the
 * second window; then one window with fraction @num/@den of its packets
 * at rank 5000 and the others at 0..15 in turn.  The distance is then
 * exactly num/den (what left the 16 ranks, evenly).
 */
static u32 shift_after(u32 w, u32 num, u32 den)
{
	u32 i, k = 0;

	qv_rauto_init(&RA, w);
	for (i = 0; i < QV_RAUTO_FIRST + w; i++)
		qv_rauto_note(&RA, i % 16);
	for (i = 0; i < w; i++)
		qv_rauto_note(&RA, i % den < num ? 5000 : k++ % 16);
	return RA.shift_ppm;
}

/* The same uniform [0,1000] stream in windows of @w: sampling noise */
static u32 shift_noise(u32 w)
{
	qv_rauto_init(&RA, w);
	feed(&RA, g_uniform, QV_RAUTO_FIRST + 4 * w);
	return RA.shift_ppm;
}

/* shift_ppm: total variation distance between consecutive windows */
static void test_drift(void)
{
	u32 s, i, w;

	qv_rauto_init(&RA, 1024);
	CHECK(RA.shift_ppm == 0, "shift %u before any window", RA.shift_ppm);
	feed(&RA, g_uniform, QV_RAUTO_FIRST);
	CHECK(RA.updates == 1 && RA.shift_ppm == 0,
	      "shift %u after one window", RA.shift_ppm);
	tap_point("shift: 0 before two windows");

	/* the same packets in two windows: exactly 0 */
	qv_rauto_init(&RA, 64);
	for (i = 0; i < QV_RAUTO_FIRST; i++)
		qv_rauto_note(&RA, i * 31);
	for (w = 0; w < 4; w++)
		for (i = 0; i < 64; i++)
			qv_rauto_note(&RA, (i >> 1) * 31);
	CHECK(RA.updates == 5 && RA.shift_ppm == 0,
	      "identical windows: shift %u ppm after %llu tables",
	      RA.shift_ppm, (unsigned long long)RA.updates);
	tap_point("shift: identical windows (32 and 64 packets, the same "
		  "shares) give 0 ppm");

	/* disjoint buckets: exactly 10^6, both ways */
	qv_rauto_init(&RA, 256);
	feed(&RA, g_uniform, QV_RAUTO_FIRST + 256);
	for (i = 0; i < 256; i++)
		qv_rauto_note(&RA, 100000 + i);
	s = RA.shift_ppm;
	for (i = 0; i < 256; i++)
		qv_rauto_note(&RA, 7);
	CHECK(s == QV_RAUTO_PPM && RA.shift_ppm == QV_RAUTO_PPM,
	      "disjoint windows: shift %u then %u ppm", s, RA.shift_ppm);
	tap_point("shift: a full move to disjoint buckets gives 1000000 ppm");

	/* part of the packets moved: exactly that part */
	s = shift_after(1024, 1, 2);
	CHECK(s == 500000, "half moved: %u ppm", s);
	s = shift_after(1024, 1, 4);
	CHECK(s == 250000, "quarter moved: %u ppm", s);
	s = shift_after(64, 3, 4);
	CHECK(s == 750000, "three quarters moved, window 64: %u ppm", s);
	s = shift_after(1024, 0, 1);
	CHECK(s == 0, "nothing moved: %u ppm", s);
	tap_point("shift: half of the packets moved gives 500000 ppm, a "
		  "quarter 250000, three quarters 750000");
	/* random ranks: 1001 ranks in about 112 buckets, so noise */
	tap_diag("uniform [0,1000], same stream: %u ppm at window 1024, %u "
		 "at 32768", shift_noise(1024), shift_noise(32768));
	s = shift_noise(1024);
	CHECK(s < 250000, "same stream, window 1024: %u ppm", s);
	s = shift_noise(32768);
	CHECK(s < 50000, "same stream, window 32768: %u ppm", s);
	tap_point("shift: the same random stream shows only sampling noise");
}

/* one rank only: the middle of the levels, whatever the rank */
static void test_gaming(void)
{
	static const u32 ranks[] = { 0, 1, 7, 100, 896, 1000, 65535,
				     0x80000000u, 0xffffffffu };
	u32 i, lv;

	for (i = 0; i < sizeof(ranks) / sizeof(ranks[0]); i++) {
		qv_rauto_init(&RA, 256);
		feed(&RA, g_uniform, 0);
		for (lv = 0; lv < 3000; lv++)
			qv_rauto_note(&RA, ranks[i]);
		CHECK(qv_rauto_level(&RA, ranks[i], 64) == 32,
		      "rank %u at level %u of 64", ranks[i],
		      qv_rauto_level(&RA, ranks[i], 64));
		CHECK(qv_rauto_level(&RA, ranks[i], 7) == 3,
		      "rank %u at level %u of 7", ranks[i],
		      qv_rauto_level(&RA, ranks[i], 7));
	}
	tap_point("a tenant at one rank lands in the middle of its levels");
	/* an honest tenant's best tenth ranks below the middle */
	qv_rauto_init(&RA, 1024);
	feed(&RA, g_uniform, 4096);
	for (i = 0; i < 100; i++)
		CHECK(qv_rauto_level(&RA, i, 64) < 8, "honest rank %u: level %u",
		      i, qv_rauto_level(&RA, i, 64));
	tap_point("an honest tenant's best 10%% of ranks land in its best "
		  "eighth of levels");
}

static void test_monotone(void)
{
	u32 n, b, w;

	for (n = 0; n < 200; n++) {
		w = QV_RAUTO_MIN_WINDOW + tap_rand(2048);
		qv_rauto_init(&RA, w);
		for (b = 0; b < 5000; b++)
			qv_rauto_note(&RA, (u32)tap_rand64() >>
					   tap_rand(32));
		for (b = 1; b < QV_RAUTO_NB; b++)
			CHECK(RA.cdf[b] >= RA.cdf[b - 1],
			      "cdf falls at bucket %u", b);
	}
	tap_point("table monotone in the rank (tenant order kept)");
}

/* Through the synthesizer: "1 + 2", both range 0 15 levels 16 with range
 * auto; tenant 1 honest (uniform 0..15), tenant 2 at rank 0.  Joint ranks
 * as the qdisc computes them (qv_xform_place of the table's level).
 */
static struct su U;
static struct qv_rauto R2;

static void test_group(void)
{
	struct su *u = &U;
	u32 j1[16], j2, r;

	if (su_parse(u, "1 + 2")) {
		tap_ok(0, "policy 1 + 2");
		return;
	}
	su_add(u, 1, 0, 3, 16);
	su_add(u, 2, 0, 3, 16);
	u->spec[0].autorange = 1;
	u->spec[1].autorange = 0;
	CHECK(!su_synth(u, 4096, 50), "synthesis: %s", u->e.msg);
	CHECK(u->xf[0].levels == 16 && u->xf[1].levels == 4,
	      "levels %u (auto) and %u (range 0 3)", u->xf[0].levels,
	      u->xf[1].levels);
	tap_point("synth: range auto levels are not limited by the declared span");

	su_parse(u, "1 + 2");
	su_add(u, 1, 0, 15, 16);
	su_add(u, 2, 0, 15, 16);
	u->spec[0].autorange = 1;
	u->spec[1].autorange = 1;
	CHECK(!su_synth(u, 4096, 50), "synthesis: %s", u->e.msg);
	qv_rauto_init(&RA, 64);
	qv_rauto_init(&R2, 64);
	for (r = 0; r < 4096; r++) {
		qv_rauto_note(&RA, tap_rand(16));
		qv_rauto_note(&R2, 0);
	}
	for (r = 0; r < 16; r++)
		j1[r] = qv_xform_place(&u->xf[0],
				       qv_rauto_level(&RA, r, u->xf[0].levels));
	j2 = qv_xform_place(&u->xf[1], qv_rauto_level(&R2, 0, 16));
	CHECK(j2 == u->xf[1].offset + 8, "gamer at joint %u, offset %u", j2,
	      u->xf[1].offset);
	for (r = 0; r < 6; r++)
		CHECK(j1[r] < j2, "honest rank %u at joint %u, gamer %u", r,
		      j1[r], j2);
	for (r = 10; r < 16; r++)
		CHECK(j1[r] > j2, "honest rank %u at joint %u, gamer %u", r,
		      j1[r], j2);
	tap_diag("1 + 2: gamer joint %u; honest ranks 0..15 at %u %u %u %u "
		 "%u %u %u %u %u %u %u %u %u %u %u %u", j2, j1[0], j1[1],
		 j1[2], j1[3], j1[4], j1[5], j1[6], j1[7], j1[8], j1[9],
		 j1[10], j1[11], j1[12], j1[13], j1[14], j1[15]);
	tap_point("1 + 2: the gamer at the middle joint rank, the honest "
		  "tenant's best ranks before it");
}

int main(void)
{
	tap_plan(0);
	tap_seed_from_env();
	test_buckets();
	test_start();
	converge("uniform [0,1000]", g_uniform);
	converge("uniform [1000,50000]", g_wide);
	converge("skewed (exponential, mean 200)", g_skewed);
	converge("bimodal (70% ~10, 30% ~40000)", g_bimodal);
	test_shift();
	test_gaming();
	test_monotone();
	test_group();
	/* last: its random ranks leave the other tests' streams as they were */
	test_drift();
	return tap_done();
}
