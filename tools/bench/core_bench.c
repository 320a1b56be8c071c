// SPDX-License-Identifier: GPL-2.0-only
/*
 * core_bench: cost of one enqueue + dequeue pair of the portable core,
 * against a binary heap doing the same job.  Run it under
 * `valgrind --tool=callgrind --toggle-collect='run_*'` (see
 * tools/bench/core-bench.sh) to count instructions; it also prints
 * wall-clock ns per pair when run alone.
 *
 *   core_bench pifo|pifo-xform|pifo-rauto|heap|none BUCKETS uniform|skewed|zipf DEPTH PAIRS
 *
 * "none" runs the measuring loop alone (a slot read and written back
 * instead of a dequeue and an enqueue), to show what of each count is the
 * harness.
 *
 * The queue is first filled with DEPTH packets, then each pair dequeues
 * the best packet and enqueues a new one with the next rank of the stream
 * (steady state).  Ranks are drawn before the measured loop: uniform over
 * the span; skewed, u*u/span of a uniform u (density falling linearly
 * towards the worst rank); zipf, rank k with probability proportional to
 * 1/(k+1) (about 1 rank in 12 is the best one at 65536 ranks, half of
 * them fall in the best 0.4%).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qvisor/bucket.h"
#include "qvisor/synth.h"
#include "qvisor/rauto.h"

struct pkt {
	struct pkt *next;	/* the bucket array's link */
	u32 rank;
	u32 seq;
};

static struct pkt *pool;
static u32 *ranks;
static struct qv_barray ba;
static struct qv_xform xf;
static struct qv_rauto ra;
static struct pkt **heap;
static u32 heap_n, seq;

static u64 xorshift(u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* ---- binary min-heap on (rank, seq) ---------------------------------- */
static int heap_less(const struct pkt *a, const struct pkt *b)
{
	return a->rank < b->rank || (a->rank == b->rank && a->seq < b->seq);
}

static void heap_push(struct pkt *p)
{
	u32 i = heap_n++;

	while (i && heap_less(p, heap[(i - 1) / 2])) {
		heap[i] = heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	heap[i] = p;
}

static struct pkt *heap_pop(void)
{
	struct pkt *top = heap[0], *last = heap[--heap_n];
	u32 i = 0, c;

	while ((c = 2 * i + 1) < heap_n) {
		if (c + 1 < heap_n && heap_less(heap[c + 1], heap[c]))
			c++;
		if (!heap_less(heap[c], last))
			break;
		heap[i] = heap[c];
		i = c;
	}
	heap[i] = last;
	return top;
}

/* ---- the measured loops ------------------------------------------------ */
enum mode { PIFO, PIFO_XFORM, PIFO_RAUTO, HEAP, NONE };

static u32 rauto_joint(u32 rank);

static void enqueue(enum mode m, struct pkt *p, u32 rank)
{
	p->rank = rank;
	p->seq = seq++;
	if (m == HEAP)
		heap_push(p);
	else
		qv_ba_push(&ba, m == PIFO_XFORM ? qv_xform_apply(&xf, rank) :
			   m == PIFO_RAUTO ? rauto_joint(rank) : rank, p);
}

/* One loop per mode, noinline, so that callgrind can collect exactly the
 * measured work (--toggle-collect='run_*') and each loop inlines its
 * operations as the kernel's enqueue/dequeue do.
 */
__attribute__((noinline)) static u64 run_pifo(u32 depth, u32 pairs)
{
	u64 check = 0;
	u32 i;

	for (i = 0; i < pairs; i++) {
		struct pkt *p = qv_ba_pop_first(&ba);

		check += p->rank;
		p->rank = ranks[depth + i];
		qv_ba_push(&ba, p->rank, p);
	}
	return check;
}

__attribute__((noinline)) static u64 run_pifo_xform(u32 depth, u32 pairs)
{
	u64 check = 0;
	u32 i;

	for (i = 0; i < pairs; i++) {
		struct pkt *p = qv_ba_pop_first(&ba);

		check += p->rank;
		p->rank = ranks[depth + i];
		qv_ba_push(&ba, qv_xform_apply(&xf, p->rank), p);
	}
	return check;
}

/* range auto as the kernel does it: the table's level (the declared
 * range before the first table), then the rank counted in the sketch;
 * every 1024 packets a new table (its cost is in the count)
 */
static u32 rauto_joint(u32 rank)
{
	u32 joint = ra.ready ?
		qv_xform_place(&xf, qv_rauto_level(&ra, rank, xf.levels)) :
		qv_xform_apply(&xf, rank);

	qv_rauto_note(&ra, rank);
	return joint;
}

__attribute__((noinline)) static u64 run_pifo_rauto(u32 depth, u32 pairs)
{
	u64 check = 0;
	u32 i;

	for (i = 0; i < pairs; i++) {
		struct pkt *p = qv_ba_pop_first(&ba);

		check += p->rank;
		p->rank = ranks[depth + i];
		qv_ba_push(&ba, rauto_joint(p->rank), p);
	}
	return check;
}

__attribute__((noinline)) static u64 run_heap(u32 depth, u32 pairs)
{
	u64 check = 0;
	u32 i;

	for (i = 0; i < pairs; i++) {
		struct pkt *p = heap_pop();

		check += p->rank;
		p->rank = ranks[depth + i];
		p->seq = seq++;
		heap_push(p);
	}
	return check;
}

/* The loop alone, on one packet: what every mode pays besides its queue */
__attribute__((noinline)) static u64 run_none(u32 depth, u32 pairs)
{
	struct pkt *volatile slot = &pool[0];
	u64 check = 0;
	u32 i;

	for (i = 0; i < pairs; i++) {
		struct pkt *p = slot;

		check += p->rank;
		p->rank = ranks[depth + i];
		slot = p;
	}
	return check;
}

static u64 run_pairs(enum mode m, u32 depth, u32 pairs)
{
	if (m == NONE)
		return run_none(depth, pairs);
	if (m == HEAP)
		return run_heap(depth, pairs);
	if (m == PIFO_XFORM)
		return run_pifo_xform(depth, pairs);
	if (m == PIFO_RAUTO)
		return run_pifo_rauto(depth, pairs);
	return run_pifo(depth, pairs);
}

/* Inverse CDF of a Zipf(s = 1) law over [0, span): cdf has span entries */
static double *zipf_cdf(u32 span)
{
	double *cdf = malloc(sizeof(*cdf) * span), sum = 0;
	u32 k;

	for (k = 0; k < span; k++)
		cdf[k] = (sum += 1.0 / (k + 1));
	for (k = 0; k < span; k++)
		cdf[k] /= sum;
	return cdf;
}

static u32 zipf_draw(const double *cdf, u32 span, u64 *s)
{
	double u = (double)(xorshift(s) >> 11) / (double)(1ull << 53);
	u32 lo = 0, hi = span - 1;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int main(int argc, char **argv)
{
	u32 buckets, depth, pairs, i, raw_hi;
	u64 s = 0x9e3779b97f4a7c15ull, check;
	struct timespec t0, t1;
	int skewed, zipf;
	double *cdf = NULL;
	enum mode m;
	int ranked;

	if (argc != 6) {
		fprintf(stderr, "usage: core_bench pifo|pifo-xform|pifo-rauto|heap|none BUCKETS uniform|skewed|zipf DEPTH PAIRS\n");
		return 2;
	}
	m = !strcmp(argv[1], "heap") ? HEAP :
	    !strcmp(argv[1], "none") ? NONE :
	    !strcmp(argv[1], "pifo-xform") ? PIFO_XFORM :
	    !strcmp(argv[1], "pifo-rauto") ? PIFO_RAUTO : PIFO;
	ranked = m == PIFO_XFORM || m == PIFO_RAUTO;	/* [1000, 50999] */
	buckets = (u32)atoi(argv[2]);
	skewed = !strcmp(argv[3], "skewed");
	zipf = !strcmp(argv[3], "zipf");
	depth = (u32)atoi(argv[4]);
	pairs = (u32)atoi(argv[5]);
	if (buckets < 64 || buckets > QV_BMAP_MAX_BITS ||
	    (buckets & (buckets - 1)) || !depth || !pairs)
		return 2;

	/* the transform of a tenant ranking in [1000, 50999] onto all buckets */
	raw_hi = 1000 + 50000 - 1;
	xf.lo = 1000;
	xf.hi = raw_hi;
	xf.levels = buckets;
	xf.width = buckets;
	xf.offset = 0;
	xf.mult_q = qv_mult_ceil(buckets, raw_hi - 1000 + 1);
	xf.mult_w = qv_mult_ceil(buckets, buckets);

	pool = calloc(depth, sizeof(*pool));
	ranks = malloc(sizeof(*ranks) * ((size_t)depth + pairs));
	heap = malloc(sizeof(*heap) * depth);
	qv_ba_init(&ba, calloc(qv_ba_leaf_bytes(buckets), 1),
		   calloc(qv_ba_bucket_bytes(buckets), 1), buckets,
		   offsetof(struct pkt, next));
	if (zipf)
		cdf = zipf_cdf(ranked ? 50000 : buckets);
	for (i = 0; i < depth + pairs; i++) {
		u32 span = ranked ? 50000 : buckets;
		u32 u = (u32)(xorshift(&s) % span);

		/* skewed: quadratic, most ranks near the best end */
		if (zipf)
			u = zipf_draw(cdf, span, &s);
		else if (skewed)
			u = (u32)((u64)u * u / span);
		ranks[i] = u + (ranked ? 1000 : 0);
	}
	qv_rauto_init(&ra, QV_RAUTO_DEF_WINDOW);
	for (i = 0; m != NONE && i < depth; i++)
		enqueue(m, &pool[i], ranks[i]);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	check = run_pairs(m, depth, pairs);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%s buckets=%u %s depth=%u pairs=%u ns/pair=%.1f check=%llu\n",
	       argv[1], buckets, argv[3], depth, pairs,
	       ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) /
	       pairs, (unsigned long long)check);
	return 0;
}
