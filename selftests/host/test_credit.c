// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of include/qvisor/credit.h: quanta, lazy credit sync, round
 * skipping, and a simulation of a '+' group with the same admission and
 * round rules as sch_qvisor_main.c, checking that backlogged tenants get bytes
 * in proportion to their weights.  And the counters and scalings that
 * must not overflow: shares of counters near 2^64, token time to bytes
 * at 1 byte/s and 100 Gbit/s, and a cap whose rate changes.
 */
#include <stdio.h>
#include <stdlib.h>

#include "qvisor/credit.h"
#include "tap.h"

static void test_quantum(void)
{
	CHECK(qv_quantum(1, 1, 1514) == 1514, "weight 1 of 1: one MTU");
	CHECK(qv_quantum(60, 40, 1514) == 60 * 38, "60 of min 40");
	CHECK(qv_quantum(40, 40, 1514) == 40 * 38, "40 of min 40");
	CHECK(qv_quantum(40, 40, 1514) >= 1514, "lightest gets >= MTU");
	CHECK(qv_quantum(65535, 1, 65536) == 0x7fffffff, "saturates");
	tap_point("qv_quantum: proportional to weight, lightest >= MTU, saturates");
}

static void test_sync(void)
{
	CHECK(qv_credit_sync(100, 5, 5, 1000) == 100, "same round: unchanged");
	CHECK(qv_credit_sync(-2500, 5, 6, 1000) == -1500, "one round");
	CHECK(qv_credit_sync(-2500, 5, 8, 1000) == 500, "three rounds");
	CHECK(qv_credit_sync(-2500, 5, 100, 1000) == 1000, "capped at quantum");
	CHECK(qv_credit_sync(-10, 0xfffffffe, 1, 1000) == 1000,
	      "round counter wraps");
	CHECK(qv_credit_sync(-(1LL << 40), 0, 0xffffffff, 0x7fffffff) ==
	      0x7fffffff, "no overflow at the extremes");
	tap_point("qv_credit_sync: one quantum a round, capped, wraps");
}

static void test_rounds(void)
{
	CHECK(qv_rounds_needed(1, 1000) == 0, "positive: none");
	CHECK(qv_rounds_needed(0, 1000) == 1, "zero: one");
	CHECK(qv_rounds_needed(-999, 1000) == 1, "-999: one");
	CHECK(qv_rounds_needed(-1000, 1000) == 2, "-1000: two (must be > 0)");
	CHECK(qv_rounds_needed(-64000, 1514) == 43, "GSO deficit");
	CHECK(qv_credit_sync(-64000, 0, qv_rounds_needed(-64000, 1514), 1514) > 0,
	      "after the rounds needed the credit is positive");
	tap_point("qv_rounds_needed: the fewest rounds to a positive credit");
}

/*
 * A group of N always-backlogged tenants, packets of random sizes.  Each
 * tenant has packets "admitted" (in the PIFO) or waiting.  Admission: while
 * credit > 0.  The PIFO serves admitted packets in a random interleaving
 * (ranks), and when nothing of the group is admitted the round advances by
 * the fewest rounds any waiting tenant needs.
 */
#define NT 3
static int sim(const u32 *w, int n, u64 packets, double *share)
{
	s64 credit[NT];
	u32 seen[NT], quantum[NT], adm[NT], round = 0, wmin = ~0u, k, need;
	u64 bytes[NT] = { 0 }, total = 0, p;
	int i, admitted = 0;

	for (i = 0; i < n; i++)
		wmin = w[i] < wmin ? w[i] : wmin;
	for (i = 0; i < n; i++) {
		quantum[i] = qv_quantum(w[i], wmin, 1514);
		credit[i] = quantum[i];
		seen[i] = 0;
		adm[i] = 0;
	}
	for (p = 0; p < packets; p++) {
		/* admit what credit allows (each tenant always has more) */
		for (i = 0; i < n; i++) {
			credit[i] = qv_credit_sync(credit[i], seen[i], round,
						   quantum[i]);
			seen[i] = round;
			while (credit[i] > 0) {
				credit[i] -= 64 + rand() % 1451;
				adm[i]++;
				admitted++;
			}
		}
		if (!admitted) {
			k = ~0u;
			for (i = 0; i < n; i++) {
				need = qv_rounds_needed(qv_credit_sync(credit[i],
						seen[i], round, quantum[i]),
						quantum[i]);
				k = need < k ? need : k;
			}
			round += k ? k : 1;
			p--;
			continue;
		}
		/* serve one admitted packet of a random tenant */
		do {
			i = rand() % n;
		} while (!adm[i]);
		adm[i]--;
		admitted--;
		/* its size was charged at admission; use the mean here */
		bytes[i] += 1;
		total += 1;
	}
	for (i = 0; i < n; i++)
		share[i] = 100.0 * bytes[i] / total;
	return 0;
}

static void test_shares(void)
{
	static const u32 w2[] = { 60, 40 }, w3[] = { 50, 30, 20 };
	double s[NT];

	srand(1);
	sim(w2, 2, 400000, s);
	CHECK(s[0] > 59 && s[0] < 61, "60:40 gave %.2f:%.2f", s[0], s[1]);
	tap_point("simulated group 60:40 -> %.2f:%.2f", s[0], s[1]);
	sim(w3, 3, 400000, s);
	CHECK(s[0] > 49 && s[0] < 51 && s[1] > 29 && s[1] < 31,
	      "50:30:20 gave %.2f:%.2f:%.2f", s[0], s[1], s[2]);
	tap_point("simulated group 50:30:20 -> %.2f:%.2f:%.2f", s[0], s[1],
		  s[2]);
}

#define U64_MAX_T	0xffffffffffffffffull
#define S64_MAX_T	0x7fffffffffffffffll

static void test_ppm(void)
{
	/* share_bytes * 1000000 wraps u64 from 18.4 TB on: not here */
	CHECK(qv_ppm(0, 0) == 0, "nothing sent: 0");
	CHECK(qv_ppm(3, 5) == 600000, "3 of 5");
	CHECK(qv_ppm(U64_MAX_T / 5 * 3, U64_MAX_T / 5) == 1000000,
	      "part above whole saturates at 1e6");
	CHECK(qv_ppm(U64_MAX_T / 10 * 6, U64_MAX_T) == 599999,
	      "60%% of 2^64: %u", qv_ppm(U64_MAX_T / 10 * 6, U64_MAX_T));
	CHECK(qv_ppm(20000000000000ull, 40000000000000ull) == 500000,
	      "20 TB of 40 TB (the old product wrapped): %u",
	      qv_ppm(20000000000000ull, 40000000000000ull));
	CHECK(qv_ppm(U64_MAX_T - 1, U64_MAX_T) == 999999, "just below all");
	CHECK(qv_ppm(1, U64_MAX_T) == 0, "one byte of 2^64");
	tap_point("qv_ppm: exact near 2^64, no wrap past 18 TB");
}

static void test_ns_to_bytes(void)
{
	const u64 g100 = 12500000000ull;	/* 100 Gbit/s in bytes/s */

	CHECK(qv_ns_to_bytes(1000000000, 1) == 1, "1 s at 1 B/s");
	CHECK(qv_ns_to_bytes(999999999, 1) == 0, "under 1 s at 1 B/s");
	CHECK(qv_ns_to_bytes(-3000000000ll, 1) == -3, "a debt at 1 B/s");
	CHECK(qv_ns_to_bytes(1000, g100) == 12500, "1 us at 100 Gbit/s");
	CHECK(qv_ns_to_bytes(S64_MAX_T, g100) == S64_MAX_T,
	      "2^63 ns at 100 Gbit/s saturates (%lld)",
	      (long long)qv_ns_to_bytes(S64_MAX_T, g100));
	CHECK(qv_ns_to_bytes(-S64_MAX_T, g100) == -S64_MAX_T,
	      "a huge debt saturates");
	CHECK(qv_ns_to_bytes(3600ll * 1000000000ll, g100) ==
	      3600ll * 12500000000ll, "an hour at 100 Gbit/s: %lld",
	      (long long)qv_ns_to_bytes(3600ll * 1000000000ll, g100));
	CHECK(qv_ns_to_bytes(S64_MAX_T, U64_MAX_T) == S64_MAX_T,
	      "any rate: saturates, never wraps");
	CHECK(qv_ns_to_bytes(1, U64_MAX_T) == (s64)(U64_MAX_T / 1000000000ull),
	      "1 ns at the largest rate");
	/* the old code: tokens * min(rate, 2^31) in s64, which wrapped for
	 * a burst of 2^32 bytes at 1 B/s (4.3e18 ns) times 4 B/s
	 */
	CHECK(qv_ns_to_bytes(4294967296ll * 1000000000ll, 4) ==
	      4 * 4294967296ll, "2^32 s at 4 B/s");
	tap_point("qv_ns_to_bytes: 1 B/s to 100 Gbit/s and beyond, saturating");
}

static void test_cap(void)
{
	struct qv_cap c;
	/* ceil 1 mbit (125000 B/s): 1500 B = 12 ms; 10 gbit: 1.2 us */
	const s64 l1m = 12000000, l10g = 1200;
	const s64 burst1m = 1000000 + l1m, burst10g = 1000000 + l10g;
	u64 now = 5000000000ull;

	qv_cap_reset(&c, burst1m, now);
	CHECK(c.tokens == burst1m, "starts full");
	c.tokens -= 10 * l1m;	/* ten packets through a 1 mbit cap */
	CHECK(c.tokens < 0, "in debt: %lld", (long long)c.tokens);
	qv_cap_sync(&c, now + 1000000);
	CHECK(c.tokens == burst1m - 10 * l1m + 1000000, "1 ms refills 1 ms");
	/* ceil raised to 10 gbit: a new bucket, not the old debt */
	qv_cap_reset(&c, burst10g, now + 1000000);
	CHECK(c.tokens == burst10g && c.tokens > 0,
	      "reset at 10 gbit: full, no debt of %lld ns",
	      (long long)(10 * l1m));
	qv_cap_sync(&c, now + 500000000000ull);
	CHECK(c.tokens == burst10g, "capped at the burst");
	qv_cap_sync(&c, now);
	CHECK(c.tokens == burst10g && c.updated_ns == now,
	      "a clock going back adds nothing");
	c.tokens = -S64_MAX_T / 2;
	qv_cap_sync(&c, U64_MAX_T);
	CHECK(c.tokens == burst10g, "a long idle time fills it, no overflow");
	tap_point("qv_cap: refill, burst cap, reset at a new ceil (1 mbit -> 10 gbit)");
}

int main(void)
{
	tap_plan(0);
	test_ppm();
	test_ns_to_bytes();
	test_cap();
	test_quantum();
	test_sync();
	test_rounds();
	test_shares();
	return tap_done();
}
