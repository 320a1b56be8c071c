// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of include/qvisor/credit.h: quanta, lazy credit sync, round
 * skipping, and a simulation of a '+' group with the same admission and
 * round rules as sch_qvisor.c, checking that backlogged tenants get bytes
 * in proportion to their weights.
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

int main(void)
{
	tap_plan(0);
	test_quantum();
	test_sync();
	test_rounds();
	test_shares();
	return tap_done();
}
