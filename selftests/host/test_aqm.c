// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of include/qvisor/aqm.h: the fixed-point reciprocal square
 * root against libm, the control law, the signal schedule on synthetic
 * sojourn sequences against a floating-point model of RFC 8289, the ends
 * of an episode (sojourn below target, short queue, idle), the resumed
 * count, the ECN verdict, and a random property test of the state update.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "qvisor/aqm.h"
#include "tap.h"

#define MS	1000000ULL

static const struct qv_aqm_cfg defcfg = {
	.target = QV_AQM_DEF_TARGET_NS,
	.interval = QV_AQM_DEF_INTERVAL_NS,
};

static double rel_err(u32 x, u32 count)
{
	double want = 1.0 / sqrt((double)count);

	return fabs((double)x / 4294967296.0 - want) / want;
}

static void test_rsqrt(void)
{
	u32 prev = QV_AQM_RSQRT_ONE, c;
	double worst = 0, e;

	for (c = 1; c < 200000; c++) {
		u32 x = qv_aqm_rsqrt(c, 0, 0);	/* from the seed */

		e = rel_err(x, c);
		if (e > worst)
			worst = e;
		CHECK(e < 1e-6, "seeded rsqrt(%u) error %g", c, e);
		prev = qv_aqm_rsqrt(c, prev, c - 1);	/* incremental */
		CHECK(rel_err(prev, c) < 1e-5, "incremental rsqrt(%u) %g", c,
		      rel_err(prev, c));
	}
	/* plus the resolution of Q0.32, sqrt(count) / 2^32 */
	for (c = 0xffffffffU; c > 1000; c -= c / 7 + 1)
		CHECK(rel_err(qv_aqm_rsqrt(c, 0, 0), c) <
		      1e-6 + 2 * sqrt(c) / 4294967296.0,
		      "rsqrt(%u) %g", c, rel_err(qv_aqm_rsqrt(c, 0, 0), c));
	tap_diag("worst seeded rsqrt error below 200000: %g", worst);
	tap_point("qv_aqm_rsqrt: Newton's reciprocal square root within 1e-6");
}

static void test_control_law(void)
{
	struct qv_aqm a;
	struct qv_aqm_cfg big = { .target = 5 * MS, .interval = 10000 * MS };
	u32 c;

	qv_aqm_init(&a);
	for (c = 1; c < 5000; c += 7) {
		double want = 100e6 / sqrt(c);
		u64 got;

		qv_aqm_set_count(&a, c);
		got = qv_aqm_control_law(&a, &defcfg, 1000) - 1000;
		CHECK(fabs((double)got - want) < 1000, "count %u: %llu vs %.0f",
		      c, (unsigned long long)got, want);
		/* an interval above 2^32 ns (10 s) */
		got = qv_aqm_control_law(&a, &big, 0);
		CHECK(fabs((double)got - 1e10 / sqrt(c)) < 1e4,
		      "10 s interval, count %u: %llu", c,
		      (unsigned long long)got);
	}
	tap_point("control law: next signal interval/sqrt(count) after, to 1 us");
}

/*
 * A tenant whose packets leave every @gap ns, each after @sojourn ns,
 * for @dur ns starting at @t0; records the times of the signals.
 */
static int run_const(struct qv_aqm *a, const struct qv_aqm_cfg *c, u64 t0,
		     u64 dur, u64 gap, u64 sojourn, u64 *sig, int max)
{
	int n = 0;
	u64 t;

	for (t = t0; t < t0 + dur; t += gap)
		if (qv_aqm_dequeue(a, c, t, sojourn, false) && n < max)
			sig[n++] = t;
	return n;
}

/* RFC 8289 in floating point, same packet times */
static int model_const(double t0, double dur, double gap, double target,
		       double interval, double sojourn, double *sig, int max)
{
	double first_above = 0, next = 0, t;
	int n = 0, count = 0, dropping = 0;

	for (t = t0; t < t0 + dur; t += gap) {
		int ok;

		if (sojourn < target) {
			first_above = 0;
			ok = 0;
		} else if (first_above == 0) {
			first_above = t + interval;
			ok = 0;
		} else {
			ok = t >= first_above;
		}
		if (dropping) {
			if (!ok) {
				dropping = 0;
			} else if (t >= next) {
				count++;
				next += interval / sqrt(count);
				if (n < max)
					sig[n++] = t;
			}
		} else if (ok) {
			dropping = 1;
			count = 1;
			next = t + interval;
			if (n < max)
				sig[n++] = t;
		}
	}
	return n;
}

static void test_schedule(void)
{
	u64 sig[400];
	double ref[400];
	struct qv_aqm a;
	int n, m, i;

	/* 20 ms sojourn, a packet every ms, for 10 s */
	qv_aqm_init(&a);
	n = run_const(&a, &defcfg, 1 * MS, 10000 * MS, MS, 20 * MS, sig, 400);
	m = model_const(1e6, 1e10, 1e6, 5e6, 1e8, 2e7, ref, 400);
	CHECK(n == m, "%d signals, model %d", n, m);
	CHECK(n > 50, "only %d signals in 10 s", n);
	CHECK(sig[0] == 101 * MS, "first signal at %llu ns, want 101 ms",
	      (unsigned long long)sig[0]);
	for (i = 0; i < n && i < m; i++)
		CHECK(fabs((double)sig[i] - ref[i]) <= 1e6,
		      "signal %d at %llu, model %.0f", i,
		      (unsigned long long)sig[i], ref[i]);
	/* the gaps shrink as 1/sqrt(count) */
	for (i = 2; i < n; i++)
		CHECK(sig[i] - sig[i - 1] <= sig[i - 1] - sig[i - 2] + MS,
		      "gap %d grew", i);
	CHECK(fabs((double)(sig[2] - sig[1]) - 1e8 / sqrt(2)) <= 1e6,
	      "second gap %llu", (unsigned long long)(sig[2] - sig[1]));
	tap_diag("20 ms sojourn for 10 s: %d signals, gaps %llu, %llu ... %llu ms",
		 n, (unsigned long long)((sig[1] - sig[0]) / MS),
		 (unsigned long long)((sig[2] - sig[1]) / MS),
		 (unsigned long long)((sig[n - 1] - sig[n - 2]) / MS));
	tap_point("schedule of a standing queue follows RFC 8289's control law");
}

static void test_below_target(void)
{
	u64 sig[4];
	struct qv_aqm a;

	qv_aqm_init(&a);
	CHECK(run_const(&a, &defcfg, MS, 5000 * MS, MS, 4999999, sig, 4) == 0,
	      "signals below target");
	CHECK(run_const(&a, &defcfg, 6000 * MS, 99 * MS, MS, 50 * MS, sig,
			4) == 0, "signals within the first interval");
	/* above target, but the queue is short: nothing */
	qv_aqm_init(&a);
	for (u64 t = MS; t < 3000 * MS; t += MS)
		CHECK(!qv_aqm_dequeue(&a, &defcfg, t, 50 * MS, true),
		      "signal with a short queue at %llu",
		      (unsigned long long)t);
	/* an episode ends when the sojourn falls below target */
	qv_aqm_init(&a);
	CHECK(run_const(&a, &defcfg, MS, 300 * MS, MS, 20 * MS, sig, 4) > 0,
	      "no episode");
	CHECK(a.signalling, "not signalling");
	CHECK(!qv_aqm_dequeue(&a, &defcfg, 301 * MS, MS, false), "signal");
	CHECK(!a.signalling && !a.first_above, "episode did not end");
	/* and a new one needs a whole interval above target again */
	CHECK(run_const(&a, &defcfg, 302 * MS, 99 * MS, MS, 20 * MS, sig,
			4) == 0, "signal within the new grace interval");
	/* idle: the grace interval is forgotten */
	qv_aqm_init(&a);
	run_const(&a, &defcfg, MS, 90 * MS, MS, 20 * MS, sig, 4);
	qv_aqm_idle(&a);
	CHECK(!qv_aqm_dequeue(&a, &defcfg, 120 * MS, 20 * MS, false),
	      "signal right after idle");
	CHECK(a.max_sojourn == 20 * MS, "max sojourn %llu",
	      (unsigned long long)a.max_sojourn);
	tap_point("no signal below target, with a short queue, or after idle");
}

static void test_resume(void)
{
	struct qv_aqm a;
	u64 sig[400];
	u32 count;

	qv_aqm_init(&a);
	run_const(&a, &defcfg, MS, 3000 * MS, MS, 20 * MS, sig, 400);
	count = a.count;
	CHECK(count > 5, "count %u", count);
	/* below target briefly, then above again within 16 intervals */
	qv_aqm_dequeue(&a, &defcfg, 3001 * MS, MS, false);
	run_const(&a, &defcfg, 3002 * MS, 101 * MS, MS, 20 * MS, sig, 400);
	CHECK(a.signalling, "not signalling again");
	CHECK(a.count >= count - 1 && a.count <= count + 2,
	      "resumed at %u, was %u", a.count, count);
	/* after a long pause it starts again at 1 */
	qv_aqm_dequeue(&a, &defcfg, 4000 * MS, MS, false);
	run_const(&a, &defcfg, 9000 * MS, 101 * MS, MS, 20 * MS, sig, 400);
	CHECK(a.count == 1, "count %u after a long pause", a.count);
	tap_point("an episode soon after the last resumes near its count");
}

static void test_verdict(void)
{
	CHECK(qv_aqm_verdict(false, true, true) == QV_AQM_PASS, "no signal");
	CHECK(qv_aqm_verdict(false, false, false) == QV_AQM_PASS, "no signal");
	CHECK(qv_aqm_verdict(true, true, true) == QV_AQM_MARK, "ECT, ecn");
	CHECK(qv_aqm_verdict(true, true, false) == QV_AQM_DROP, "not-ECT");
	CHECK(qv_aqm_verdict(true, false, true) == QV_AQM_DROP, "noecn");
	tap_point("ECN: an ECT packet is marked instead of dropped");
}

/* Random sojourn sequences: the state update keeps its invariants */
static void test_property(void)
{
	int run, i;

	for (run = 0; run < 2000; run++) {
		struct qv_aqm_cfg c = {
			.target = 1 + tap_rand(20 * MS),
			.interval = 1 + tap_rand64() % (2000 * MS),
		};
		struct qv_aqm a;
		u64 t = tap_rand64() % (1ULL << 62), above_since = 0;
		u64 last_sig = 0, prev_next = 0;

		qv_aqm_init(&a);
		for (i = 0; i < 500; i++) {
			u64 soj = tap_rand(4) ? tap_rand64() % (4 * c.target) :
				  tap_rand64() % (1ULL << 40);
			bool shortq = !tap_rand(8), sig, was = a.signalling;

			t += tap_rand64() % (c.interval / 4 + 2);
			if (!tap_rand(50))
				qv_aqm_idle(&a);
			if (soj < c.target || shortq || !a.first_above)
				above_since = 0;
			else if (!above_since)
				above_since = 1;
			sig = qv_aqm_dequeue(&a, &c, t, soj, shortq);
			if (sig) {
				CHECK(soj >= c.target && !shortq,
				      "signal below target or short");
				CHECK(a.signalling && a.count >= 1,
				      "signal outside an episode");
				CHECK(rel_err(a.rsqrt, a.count) < 1e-5,
				      "rsqrt(%u) off", a.count);
				CHECK(!last_sig || t >= last_sig, "time");
				if (was)
					CHECK(a.signal_next >= prev_next,
					      "next signal moved back");
				last_sig = t;
			}
			if (a.signalling)
				CHECK(a.first_above && t >= a.first_above,
				      "episode without a full interval");
			CHECK(a.max_sojourn >= soj, "max sojourn");
			prev_next = a.signal_next;
		}
	}
	tap_point("property: 2000 random sequences keep the invariants");
}

int main(void)
{
	tap_plan(7);
	tap_seed_from_env();
	test_rsqrt();
	test_control_law();
	test_schedule();
	test_below_target();
	test_resume();
	test_verdict();
	test_property();
	return tap_done();
}
