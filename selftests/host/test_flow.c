// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of include/qvisor/flow.h: lookup, per-tenant keys, LRU
 * replacement inside a set, eviction and aging counters, idle time across
 * a clock wraparound, and a SYN-flood-like spread of flows that only
 * evicts (the table never grows) while a busy flow keeps its state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qvisor/flow.h"
#include "tap.h"

#define MS 1000000ULL

static struct qv_flow *mktable(struct qv_ftable *t, u32 entries, u64 idle)
{
	struct qv_flow *e = calloc(entries, sizeof(*e));

	if (!e)
		abort();
	qv_ft_init(t, e, entries, idle);
	return e;
}

/* n hashes that fall into the same set as @h */
static void same_set(const struct qv_ftable *t, u32 h, u32 *out, int n)
{
	u32 x = h + 1;
	int k = 0;

	while (k < n) {
		if (qv_ft_set(t, x) == qv_ft_set(t, h))
			out[k++] = x;
		x++;
	}
}

static void test_lookup(void)
{
	struct qv_ftable t;
	struct qv_flow *e = mktable(&t, 64, 100 * MS), *a, *b;

	CHECK(t.nsets == 16 && t.shift == 28, "64 entries = 16 sets of 4");
	a = qv_ft_get(&t, 0x1234, 1, 4, 1000, 0);
	a->val += 500;
	b = qv_ft_get(&t, 0x1234, 1, 4, 2000, 0);
	CHECK(a == b && b->val == 500, "same flow, same entry, state kept");
	b = qv_ft_get(&t, 0x1234, 2, 4, 2000, 7);
	CHECK(a != b && b->val == 7, "same hash, other tenant: other flow");
	b = qv_ft_get(&t, 0x1234, 1, 5, 2000, 9);
	CHECK(a != b && b->val == 9, "same hash, other rank function: other flow");
	CHECK(t.stat_new == 3 && !t.stat_evict && !t.stat_aged, "counters");
	CHECK(qv_ft_live(&t, 2000) == 3, "3 live");
	qv_ft_forget(&t, 2);
	CHECK(qv_ft_live(&t, 2000) == 2, "forget tenant 2");
	qv_ft_forget(&t, 0);
	CHECK(qv_ft_live(&t, 2000) == 0, "forget all");
	free(e);
	tap_point("flow lookup: key = (hash, tenant, rank function), state kept");
}

static void test_lru(void)
{
	struct qv_ftable t;
	struct qv_flow *e = mktable(&t, 16, 100 * MS), *f;
	u32 h[6];
	int i;

	same_set(&t, 77, h, 6);
	for (i = 0; i < 4; i++)
		qv_ft_get(&t, h[i], 1, 4, 1000 + i, 100 + i)->val += 1;
	/* touch h[0] again: h[1] is now the least recently used */
	qv_ft_get(&t, h[0], 1, 4, 2000, 0);
	f = qv_ft_get(&t, h[4], 1, 4, 3000, 0);
	CHECK(t.stat_evict == 1, "a fifth flow in a full set evicts one");
	CHECK(qv_ft_get(&t, h[0], 1, 4, 3001, 0)->val == 101,
	      "the recently used flow survived");
	CHECK(qv_ft_get(&t, h[1], 1, 4, 3002, 0)->val == 0 &&
	      t.stat_evict == 2, "the LRU flow was evicted (starts over)");
	CHECK(f->hash == h[4] || f->hash == h[1], "entries reused in place");
	CHECK(qv_ft_live(&t, 3002) == 4, "a set never holds more than 4");
	free(e);
	tap_point("flow replacement: least recently used entry of the set, counted");
}

static void test_aging(void)
{
	struct qv_ftable t;
	struct qv_flow *e = mktable(&t, 16, 100 * MS), *f;
	u32 h[5];

	f = qv_ft_get(&t, 42, 3, 4, 0, 0);
	f->val = 12345;
	f = qv_ft_get(&t, 42, 3, 4, 100 * MS, 0);
	CHECK(f->val == 12345 && !t.stat_aged, "idle exactly flow_idle: kept");
	f = qv_ft_get(&t, 42, 3, 4, 200 * MS + 1, 0);
	CHECK(f->val == 0 && t.stat_aged == 1 && t.stat_new == 2,
	      "idle longer: starts over, counted aged and new");
	CHECK(qv_ft_live(&t, 200 * MS + 1) == 1, "live right after");
	CHECK(qv_ft_live(&t, 400 * MS) == 0, "not live after flow_idle");
	/* an idle entry reclaimed by another flow is aged, not evicted */
	same_set(&t, 42, h, 5);
	qv_ft_get(&t, h[0], 3, 4, 400 * MS, 0);
	qv_ft_get(&t, h[1], 3, 4, 400 * MS, 0);
	qv_ft_get(&t, h[2], 3, 4, 400 * MS, 0);
	qv_ft_get(&t, h[3], 3, 4, 400 * MS, 0);
	CHECK(t.stat_aged == 2 && t.stat_evict == 0,
	      "the idle entry was taken by a new flow: aged");
	/* clock wraps: 10 ns before 2^64 and 5 ns after are 15 ns apart */
	f = qv_ft_get(&t, 99, 1, 4, ~0ULL - 9, 0);
	f->val = 7;
	f = qv_ft_get(&t, 99, 1, 4, 5, 0);
	CHECK(f->val == 7, "idle time measured across the clock wrap");
	free(e);
	tap_point("flow aging: idle longer than flow_idle starts over, counted; wrap-safe");
}

static void test_flood(void)
{
	struct qv_ftable t;
	struct qv_flow *e = mktable(&t, 64, 1000 * MS), *busy;
	u64 now = 0, pkts = 0, n = 200000, resets = 0;
	u32 i, live, h, in_set = 0;
	int kept = 1;

	busy = qv_ft_get(&t, 0xabcdef, 1, 4, now, 0);
	for (i = 0; i < n; i++) {
		now += 1000;
		h = (u32)tap_rand64();
		if (qv_ft_set(&t, h) == qv_ft_set(&t, 0xabcdef))
			in_set++;
		qv_ft_get(&t, h, 1, 4, now, 0);
		if (i % 8 == 7) {
			busy = qv_ft_get(&t, 0xabcdef, 1, 4, now + 1, 0);
			/* LRU: only 4 new flows in its set since its last
			 * packet can push it out
			 */
			if (busy->val != pkts) {
				if (in_set < QV_FLOW_WAYS || busy->val)
					kept = 0;
				resets++;
				pkts = 0;
			}
			busy->val = ++pkts;
			in_set = 0;
		}
	}
	live = qv_ft_live(&t, now + 1);
	tap_diag("flood: %llu new, %llu evicted, %llu aged, %u live of 64, busy flow evicted %llu times",
		 (unsigned long long)t.stat_new,
		 (unsigned long long)t.stat_evict,
		 (unsigned long long)t.stat_aged, live,
		 (unsigned long long)resets);
	CHECK(t.stat_new == n + 1 + resets, "every flood packet is a new flow");
	CHECK(t.stat_evict == t.stat_new - 64, "all but the 64 entries evicted");
	CHECK(!t.stat_aged, "nothing idle");
	CHECK(live == 64, "table full, not grown");
	CHECK(kept, "the busy flow was evicted only after 4 new flows in its set");
	CHECK(resets < n / 8 / 100, "busy flow kept its state 99%% of the time");
	free(e);
	tap_point("SYN-flood spread: O(1) evictions counted, no growth, busy flow kept");
}

/* A slot's next generation: its old flows no longer match (they start
 * over), other tenants' flows are untouched, and forgetting a slot clears
 * every generation of it.
 */
static void test_generation(void)
{
	struct qv_ftable t;
	struct qv_flow *e = mktable(&t, 64, 1000000000);
	u32 g0 = QV_FLOW_OWNER(7, 0), g1 = QV_FLOW_OWNER(7, 1);

	qv_ft_get(&t, 0xbeef, g0, 4, 10, 0)->val = 500;
	qv_ft_get(&t, 0xbeef, QV_FLOW_OWNER(8, 0), 4, 10, 0)->val = 800;
	CHECK(qv_ft_get(&t, 0xbeef, g0, 4, 20, 0)->val == 500,
	      "same generation: the flow is remembered");
	CHECK(qv_ft_get(&t, 0xbeef, g1, 4, 30, 9)->val == 9,
	      "next generation: the flow starts over");
	CHECK(qv_ft_get(&t, 0xbeef, QV_FLOW_OWNER(8, 0), 4, 40, 0)->val == 800,
	      "another tenant's flow untouched");
	CHECK(t.stat_evict == 0, "a free entry taken, no live flow evicted");
	qv_ft_forget(&t, 7);
	CHECK(qv_ft_live(&t, 40) == 1, "forget clears every generation: %u",
	      qv_ft_live(&t, 40));
	free(e);
	tap_point("flow owner generations: a tenant forgets its flows in O(1)");
}

int main(void)
{
	tap_seed_from_env();
	tap_plan(5);
	test_generation();
	test_lookup();
	test_lru();
	test_aging();
	test_flood();
	return tap_done();
}
