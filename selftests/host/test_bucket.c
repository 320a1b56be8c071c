// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Host unit tests of the qvisor bucket array (include/qvisor/bucket.h),
 * checked against a reference stable priority queue: a sorted array of
 * (rank, arrival) pairs.
 */
#include <qvisor/bucket.h>
#include "tap.h"

struct el {
	u32	rank;
	u32	seq;		/* arrival number */
	u64	pad;
	void	*next;		/* the link, not at offset 0 on purpose */
	u32	in;		/* 1 while queued */
};

#define MAXEL 20000

static struct el pool[MAXEL];
static struct el *freel[MAXEL];
static u32 nfree;

/* reference: queued elements sorted by (rank, seq) */
static struct el *ref[MAXEL];
static u32 nref;

static struct qv_barray A;
static u64 *leaf;
static struct qv_bucket *bk;
static u32 seq;

static int cmp_el(const struct el *a, u32 rank, u32 sq)
{
	if (a->rank != rank)
		return a->rank < rank ? -1 : 1;
	return a->seq < sq ? -1 : a->seq > sq;
}

/* first index whose (rank, seq) >= (rank, sq) */
static u32 ref_lb(u32 rank, u32 sq)
{
	u32 lo = 0, hi = nref;

	while (lo < hi) {
		u32 mid = (lo + hi) / 2;

		if (cmp_el(ref[mid], rank, sq) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void ref_ins(struct el *e)
{
	u32 i = ref_lb(e->rank, e->seq);

	memmove(&ref[i + 1], &ref[i], (nref - i) * sizeof(ref[0]));
	ref[i] = e;
	nref++;
}

static void ref_del(struct el *e)
{
	u32 i = ref_lb(e->rank, e->seq);

	CHECK(i < nref && ref[i] == e, "ref_del: element not found");
	if (i >= nref || ref[i] != e)
		return;
	memmove(&ref[i], &ref[i + 1], (nref - i - 1) * sizeof(ref[0]));
	nref--;
}

static void setup(u32 n)
{
	u32 i;

	free(leaf);
	free(bk);
	leaf = calloc(1, qv_ba_leaf_bytes(n));
	bk = calloc(1, qv_ba_bucket_bytes(n));
	if (!leaf || !bk) {
		perror("calloc");
		exit(1);
	}
	qv_ba_init(&A, leaf, bk, n, (u32)offsetof(struct el, next));
	nfree = 0;
	for (i = 0; i < MAXEL; i++) {
		pool[i].in = 0;
		freel[nfree++] = &pool[MAXEL - 1 - i];
	}
	nref = 0;
	seq = 0;
}

static void push(u32 rank)
{
	struct el *e;

	if (!nfree)
		return;
	e = freel[--nfree];
	e->rank = rank;
	e->seq = seq++;
	e->in = 1;
	e->next = (void *)0x1;	/* push must overwrite a stale link */
	qv_ba_push(&A, rank, e);
	ref_ins(e);
}

static void got(struct el *e, struct el *want, const char *what)
{
	CHECK(e == want, "%s: got rank %u seq %u, want rank %u seq %u", what,
	      e ? e->rank : ~0u, e ? e->seq : ~0u,
	      want ? want->rank : ~0u, want ? want->seq : ~0u);
	CHECK(!e || e->next == NULL, "%s: popped element keeps a link", what);
	if (e) {
		e->in = 0;
		freel[nfree++] = e;
	}
}

static void pop_first(void)
{
	struct el *want, *e;

	if (!nref)
		return;
	want = ref[0];
	/* the datapath's combined lookup and pop, or the two steps */
	if (tap_rand(2))
		e = qv_ba_pop_first(&A);
	else
		e = qv_ba_pop(&A, qv_ba_first(&A));
	ref_del(want);
	got(e, want, "pop first");
}

static void pop_last(void)	/* push-out: oldest of the worst rank */
{
	struct el *want, *e;

	if (!nref)
		return;
	want = ref[ref_lb(ref[nref - 1]->rank, 0)];
	e = qv_ba_pop(&A, qv_ba_last(&A));
	ref_del(want);
	got(e, want, "pop last");
}

/* Control-path filter of one bucket: unlink every element whose seq has
 * no bit of mask (mask 0: all of them), then
 * install the rest with qv_ba_set (as class delete / limit change do).
 */
static void filter(u32 idx, u32 mask)
{
	struct el *e, *next, *head = NULL, *tail = NULL;

	for (e = qv_ba_peek(&A, idx); e; e = next) {
		next = e->next;
		if ((e->seq & mask) == 0) {
			ref_del(e);
			e->in = 0;
			e->next = NULL;
			freel[nfree++] = e;
			continue;
		}
		e->next = NULL;
		if (tail)
			tail->next = e;
		else
			head = e;
		tail = e;
	}
	qv_ba_set(&A, idx, head, tail);
}

/* compare the observable state with the reference */
static void check_state(u32 probe)
{
	u32 n = A.nbuckets, want, i;

	CHECK(qv_ba_empty(&A) == (nref == 0), "empty %d with %u queued",
	      qv_ba_empty(&A), nref);
	if (nref) {
		CHECK(qv_ba_first(&A) == ref[0]->rank, "first %u want %u",
		      qv_ba_first(&A), ref[0]->rank);
		CHECK(qv_ba_last(&A) == ref[nref - 1]->rank, "last %u want %u",
		      qv_ba_last(&A), ref[nref - 1]->rank);
		CHECK(qv_ba_peek(&A, ref[0]->rank) == ref[0], "peek first");
	}
	i = ref_lb(probe, 0);
	want = i < nref ? ref[i]->rank : n;
	CHECK(qv_ba_next(&A, probe) == want, "next(%u) = %u want %u", probe,
	      qv_ba_next(&A, probe), want);
	/* the bucket right at a queued rank, and right after it */
	if (nref) {
		u32 r = ref[(probe * 2654435761u) % nref]->rank;

		CHECK(qv_ba_next(&A, r) == r, "next(%u) at a queued rank", r);
		i = ref_lb(r + 1, 0);
		want = i < nref ? ref[i]->rank : n;
		CHECK(qv_ba_next(&A, r + 1) == want, "next(%u) = %u want %u",
		      r + 1, qv_ba_next(&A, r + 1), want);
	}
	CHECK(qv_ba_next(&A, n) == n && qv_ba_next(&A, n + 12345) == n &&
	      qv_ba_next(&A, ~0u) == n, "next beyond the end");
}

/* the whole bitmap and every list, slow */
static void check_deep(void)
{
	u32 n = A.nbuckets, w, b, cnt = 0, i;

	for (w = 0; w < n / 64; w++) {
		int nz = A.leaf[w] != 0;

		CHECK(!!(A.mid[w >> 6] & (1ULL << (w & 63))) == nz,
		      "mid bit of leaf word %u", w);
	}
	for (i = 0; i < 64; i++)
		CHECK(!!(A.top & (1ULL << i)) == (A.mid[i] != 0),
		      "top bit %u", i);
	for (b = 0; b < n; b++) {
		struct el *e = A.b[b].head, *last = NULL;
		int bit = !!(A.leaf[b >> 6] & (1ULL << (b & 63)));

		CHECK(bit == (e != NULL), "leaf bit of bucket %u", b);
		for (; e; e = e->next) {
			CHECK(e->rank == b && e->in, "stray element in %u", b);
			CHECK(!last || last->seq < e->seq,
			      "FIFO order broken in bucket %u", b);
			last = e;
			cnt++;
		}
		/* an emptied bucket may keep a stale tail (bucket.h) */
		CHECK(!A.b[b].head || A.b[b].tail == last,
		      "tail of bucket %u", b);
	}
	CHECK(cnt == nref, "%u elements in buckets, %u in reference", cnt,
	      nref);
}

static u32 pick_rank(u32 n, u32 mode, u32 center)
{
	switch (mode) {
	case 0:
		return tap_rand(n);
	case 1:		/* a narrow window: many per bucket, word edges */
		return (center + tap_rand(130)) % n;
	case 2: {	/* the edges of leaf / mid words and of the array */
		static const u32 edge[] = { 0, 1, 62, 63, 64, 65, 127, 128,
					    4095, 4096, 4097, 8191, 8192 };
		u32 r = tap_rand(2) ? edge[tap_rand(13)] :
				      n - 1 - edge[tap_rand(13)];
		return r < n ? r : n - 1;
	}
	default:	/* few distinct ranks */
		return (tap_rand(8) * (n / 8)) + (n / 8 - 1) * tap_rand(2);
	}
}

static void run_random(u32 n, u32 ops, int deep_every)
{
	u32 i, mode = 0, center = 0;
	u32 fill_bias = 60;

	setup(n);
	check_state(0);
	CHECK(qv_ba_empty(&A), "not empty after init");
	for (i = 0; i < ops; i++) {
		u32 r = tap_rand(100);

		if (i % 2000 == 0) {
			mode = tap_rand(4);
			center = tap_rand(n);
			/* alternate growing and draining phases */
			fill_bias = (i / 2000) % 3 == 2 ? 30 : 65;
		}
		if (r < fill_bias)
			push(pick_rank(n, mode, center));
		else if (r < fill_bias + 25)
			pop_first();
		else if (r < 97)
			pop_last();
		else if (nref) {
			u32 idx = ref[tap_rand(nref)]->rank;

			filter(idx, tap_rand(4) ? 1u << tap_rand(3) : 0);
		}
		check_state(tap_rand(n + 1));
		if (deep_every && i % (u32)deep_every == 0)
			check_deep();
	}
	check_deep();
	/* drain: every element leaves in (rank, arrival) order */
	while (nref) {
		pop_first();
		check_state(tap_rand(n));
	}
	CHECK(qv_ba_empty(&A) && A.top == 0, "not empty after drain");
	check_deep();
}

static void test_set(u32 n)
{
	struct el *e1, *e2;

	setup(n);
	/* set() on an empty bucket installs a list and marks it */
	e1 = freel[--nfree];
	e2 = freel[--nfree];
	e1->rank = e2->rank = n - 1;
	e1->seq = seq++;
	e2->seq = seq++;
	e1->in = e2->in = 1;
	e1->next = e2;
	e2->next = NULL;
	qv_ba_set(&A, n - 1, e1, e2);
	ref_ins(e1);
	ref_ins(e2);
	check_state(0);
	check_deep();
	push(n - 1);		/* appends after the installed tail */
	push(0);
	check_deep();
	filter(n - 1, 0);	/* removes all: the bucket is unmarked */
	check_state(n - 1);
	CHECK(qv_ba_last(&A) == 0, "last after emptying set");
	filter(0, 0);
	CHECK(qv_ba_empty(&A), "empty after removing all");
	check_deep();
	/* set(NULL) on an already empty bucket changes nothing */
	qv_ba_set(&A, 5, NULL, NULL);
	CHECK(qv_ba_empty(&A), "set NULL on empty bucket");
	check_deep();
	/* set() with the same list keeps it marked */
	push(7);
	push(7);
	qv_ba_set(&A, 7, A.b[7].head, A.b[7].tail);
	check_state(3);
	check_deep();
	while (nref)
		pop_first();
	check_deep();
}

/* splice: queues 2 and 3 before queue 4, queue 6 after queue 5, into an
 * empty queue 9; the departures keep the order of the sources
 */
static void sp_push(u32 idx, u32 sq)
{
	struct el *e = freel[--nfree];

	e->rank = idx;
	e->seq = sq;
	e->next = (void *)0x1;
	qv_ba_push(&A, idx, e);
}

static void test_splice(void)
{
	static const u32 want[] = { 20, 21, 30, 40, 41, 50, 60, 61, 10 };
	struct el *e;
	u32 k = 0;

	setup(64);
	sp_push(2, 20);
	sp_push(2, 21);
	sp_push(3, 30);
	sp_push(4, 40);
	sp_push(4, 41);
	sp_push(5, 50);
	sp_push(6, 60);
	sp_push(6, 61);
	sp_push(8, 10);
	/* descending for the prepends, as the qdisc does */
	qv_ba_splice(&A, 3, 4, true);
	qv_ba_splice(&A, 2, 4, true);
	qv_ba_splice(&A, 6, 5, false);
	qv_ba_splice(&A, 8, 9, false);
	qv_ba_splice(&A, 7, 5, false);	/* empty source: nothing */
	CHECK(qv_ba_first(&A) == 4 && qv_ba_last(&A) == 9, "first %u last %u",
	      qv_ba_first(&A), qv_ba_last(&A));
	CHECK(!A.b[2].head && !A.b[3].head && !A.b[6].head && !A.b[8].head,
	      "sources emptied");
	while (!qv_ba_empty(&A)) {
		e = qv_ba_pop_first(&A);
		CHECK(k < 9 && e->seq == want[k], "departure %u: seq %u", k,
		      e->seq);
		k++;
	}
	CHECK(k == 9, "departures %u", k);
	qv_ba_splice(&A, 1, 2, true);
	CHECK(qv_ba_empty(&A), "splice of empty buckets");
}

int main(void)
{
	static const u32 sizes[] = { 64, 4096, 65536, 262144 };
	static const u32 nops[] = { 60000, 60000, 40000, 40000 };
	static const int deep[] = { 97, 499, 9973, 19997 };
	u32 k;

	tap_plan(0);
	tap_seed_from_env();
	for (k = 0; k < 4; k++) {
		test_set(sizes[k]);
		tap_point("%u buckets: set() installs, appends, empties, keeps marks",
			  sizes[k]);
		run_random(sizes[k], nops[k], deep[k]);
		tap_point("%u buckets: %u random push/pop-first (both ways)/pop-last/filter ops vs sorted reference (first, last, next, FIFO, empty)",
			  sizes[k], nops[k]);
	}
	test_splice();
	tap_point("splice: before/after/into empty, order kept, marks moved");
	/* a long trace element by element at the default size */
	run_random(4096, 400000, 0);
	tap_point("4096 buckets: 400000-op trace equals a stable priority queue element by element");
	free(leaf);
	free(bk);
	return tap_done();
}
