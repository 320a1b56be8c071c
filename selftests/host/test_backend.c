// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Host unit tests of the queue backends of the qvisor core: SP-PIFO
 * (include/qvisor/sppifo.h), AIFO (aifo.h), the tier -> queue mapping and
 * the inversion tracker (qmap.h), each run against a reference PIFO on
 * recorded and random rank traces.
 *
 *	test_backend			TAP unit tests
 *	test_backend --table [N]	the table of Documentation/backends.md:
 *					inversions per 1000 packets per backend
 *					on the same traces (N packets, default
 *					200000; QV_SEED varies the traces)
 *
 * The simulator mirrors the kernel's use of the core: one array of FIFO
 * queues (queue 0 first), SP-PIFO choosing a queue inside the packet's
 * tier range, AIFO testing admission with the queue length and the
 * capacity, the same qv_inv_depart() counting inversions at dequeue.
 */
#include "tap.h"
#include "synth_util.h"
#include <qvisor/sppifo.h>
#include <qvisor/aifo.h>
#include <qvisor/qmap.h>
#include <uapi/linux/pkt_sched_qvisor.h>

struct pkt {
	u32	rank;	/* joint rank */
	u32	seq;
	u32	tier;
};

#define SIM_MAXQ	QV_SPPIFO_MAX

struct sim {
	int		backend;	/* QV_BACKEND_* */
	u32		cap;		/* buffer, packets */
	struct qv_qmap	map;
	struct qv_sppifo sp;
	struct qv_aifo	aifo;
	u32		aifo_k;
	/* queues: ring buffers of cap packets each; pifo uses queue 0 as a
	 * plain array searched for the minimum
	 */
	struct pkt	*q[SIM_MAXQ];
	u32		head[SIM_MAXQ], len[SIM_MAXQ];
	u32		qlen;
	u32		seq;
	struct qv_inv	inv;
	/* results */
	u64		arrived, departed, inversions, unpifoness;
	u64		deq_inversions;	/* a better packet was queued */
	u64		drop_admission, drop_full, pushout;
	u64		p1_violations;	/* lower tier left, higher queued */
	u64		rank_sum_out;
	u32		*out;		/* departure order (ranks), optional */
	u32		*out_seq;
	u32		nout, out_cap;
};

static void sim_init(struct sim *s, int backend, u32 nq, u32 cap)
{
	u32 i;

	memset(s, 0, sizeof(*s));
	s->backend = backend;
	s->cap = cap;
	s->aifo_k = QV_AIFO_DEF_K;
	s->map.nq = nq;
	s->map.tiers = 1;
	s->map.mapped = 1;
	s->map.first[0] = 0;
	s->map.first[1] = (u8)nq;
	for (i = 0; i < SIM_MAXQ; i++)
		s->q[i] = calloc(cap, sizeof(struct pkt));
}

static void sim_free(struct sim *s)
{
	u32 i;

	for (i = 0; i < SIM_MAXQ; i++)
		free(s->q[i]);
	free(s->out);
	free(s->out_seq);
}

static void sim_record(struct sim *s, u32 n)
{
	s->out = calloc(n, sizeof(u32));
	s->out_seq = calloc(n, sizeof(u32));
	s->out_cap = n;
}

static struct pkt *sim_at(struct sim *s, u32 qi, u32 k)
{
	return &s->q[qi][(s->head[qi] + k) % s->cap];
}

static void sim_push(struct sim *s, u32 qi, struct pkt p)
{
	*sim_at(s, qi, s->len[qi]) = p;
	s->len[qi]++;
	s->qlen++;
}

static struct pkt sim_pop_head(struct sim *s, u32 qi)
{
	struct pkt p = *sim_at(s, qi, 0);

	s->head[qi] = (s->head[qi] + 1) % s->cap;
	s->len[qi]--;
	s->qlen--;
	return p;
}

/* Queue index of an arriving packet (adapt = SP-PIFO may move bounds) */
static u32 sim_index(struct sim *s, const struct pkt *p, bool adapt)
{
	u32 first, n;

	if (s->backend != QV_BACKEND_SPPIFO)
		return 0;
	qv_qmap_range(&s->map, p->tier, &first, &n);
	return adapt ? qv_sppifo_push(&s->sp, first, n, p->rank) :
		       qv_sppifo_peek(&s->sp, first, n, p->rank);
}

static u32 sim_worst_queue(const struct sim *s)
{
	u32 i = s->map.nq;

	while (i-- > 0)
		if (s->len[i])
			return i;
	return 0;
}

/* Index in queue 0 of the PIFO's worst (highest rank, newest) packet */
static u32 pifo_worst(struct sim *s)
{
	u32 k, w = 0;

	for (k = 1; k < s->len[0]; k++) {
		struct pkt *a = sim_at(s, 0, k), *b = sim_at(s, 0, w);

		if (a->rank > b->rank ||
		    (a->rank == b->rank && a->seq > b->seq))
			w = k;
	}
	return w;
}

static void pifo_remove(struct sim *s, u32 k)
{
	*sim_at(s, 0, k) = *sim_at(s, 0, s->len[0] - 1);
	s->len[0]--;
	s->qlen--;
}

static void sim_enqueue(struct sim *s, u32 rank, u32 tier)
{
	struct pkt p = { .rank = rank, .seq = s->seq++, .tier = tier };
	u32 worst;

	s->arrived++;
	if (s->backend == QV_BACKEND_AIFO &&
	    !qv_aifo_admit(&s->aifo, rank, s->qlen, s->cap, s->aifo_k)) {
		s->drop_admission++;
		return;
	}
	if (s->qlen >= s->cap) {
		/* the kernel's buffer: push out from the worst queue
		 * (bucket) when the arriving packet goes to a better one
		 */
		if (s->backend == QV_BACKEND_PIFO) {
			worst = pifo_worst(s);
			if (rank >= sim_at(s, 0, worst)->rank) {
				s->drop_full++;
				return;
			}
			pifo_remove(s, worst);
		} else {
			worst = sim_worst_queue(s);
			if (sim_index(s, &p, false) >= worst) {
				s->drop_full++;
				return;
			}
			sim_pop_head(s, worst);
		}
		s->pushout++;
	}
	sim_push(s, sim_index(s, &p, true), p);
}

static bool sim_better_waits(struct sim *s, const struct pkt *d, u32 *tier_min)
{
	bool better = false;
	u32 i, k;

	*tier_min = ~0u;
	for (i = 0; i < s->map.nq; i++) {
		for (k = 0; k < s->len[i]; k++) {
			struct pkt *p = sim_at(s, i, k);

			if (p->rank < d->rank)
				better = true;
			if (p->tier < *tier_min)
				*tier_min = p->tier;
		}
	}
	return better;
}

static bool sim_dequeue(struct sim *s)
{
	u32 i, k, best = 0, tmin;
	struct pkt p;

	if (!s->qlen)
		return false;
	if (s->backend == QV_BACKEND_PIFO) {
		for (k = 1; k < s->len[0]; k++) {
			struct pkt *a = sim_at(s, 0, k), *b = sim_at(s, 0, best);

			if (a->rank < b->rank ||
			    (a->rank == b->rank && a->seq < b->seq))
				best = k;
		}
		p = *sim_at(s, 0, best);
		/* keep FIFO order among the rest: shift, not swap */
		for (k = best; k + 1 < s->len[0]; k++)
			*sim_at(s, 0, k) = *sim_at(s, 0, k + 1);
		s->len[0]--;
		s->qlen--;
	} else {
		for (i = 0; !s->len[i]; i++)
			;
		p = sim_pop_head(s, i);
	}
	if (sim_better_waits(s, &p, &tmin))
		s->deq_inversions++;
	if (tmin < p.tier)
		s->p1_violations++;
	k = qv_inv_depart(&s->inv, p.rank, p.seq, s->seq);
	if (k) {
		s->inversions++;
		s->unpifoness += k;
	}
	s->departed++;
	s->rank_sum_out += p.rank;
	if (s->nout < s->out_cap) {
		s->out_seq[s->nout] = p.seq;
		s->out[s->nout++] = p.rank;
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* traces                                                             */

/* A fixed trace (recorded once from a uniform 0..99 generator): used
 * where a test needs the same input on every run whatever QV_SEED.
 */
static const u32 recorded[] = {
	37, 82, 5, 61, 94, 13, 48, 70, 26, 88, 2, 55, 41, 99, 17, 66,
	73, 30, 9, 84, 52, 21, 90, 44, 6, 77, 35, 60, 12, 95, 28, 81,
	3, 57, 46, 69, 19, 86, 33, 74, 0, 63, 50, 24, 91, 15, 79, 39,
	8, 67, 54, 97, 22, 71, 45, 11, 83, 31, 58, 4, 92, 36, 65, 18,
};
#define NREC (sizeof(recorded) / sizeof(recorded[0]))

/* Run a trace through a backend: @pre packets preloaded, then per tick
 * @load_pct/100 arrivals (fractional part by chance) and one departure;
 * finally drain.  Ranks from @trace (cycled) or uniform 0..@range-1.
 */
static void sim_run(struct sim *s, const u32 *trace, u32 ntrace, u32 range,
		    u32 npkts, u32 pre, u32 load_pct)
{
	u32 sent = 0, a;

	while (sent < npkts && sent < pre) {
		sim_enqueue(s, trace ? trace[sent % ntrace] : tap_rand(range),
			    0);
		sent++;
	}
	while (sent < npkts) {
		a = load_pct / 100 + (tap_rand(100) < load_pct % 100);
		while (a-- && sent < npkts) {
			sim_enqueue(s, trace ? trace[sent % ntrace] :
				    tap_rand(range), 0);
			sent++;
		}
		sim_dequeue(s);
	}
	while (sim_dequeue(s))
		;
}

/* ------------------------------------------------------------------ */
/* tests                                                              */

/* The worked example of Documentation/backends.md, by hand:
 * 2 queues, ranks 5 3 7 1 4 arrive; bounds (q0,q1) go
 * (0,5) (3,5) (3,7) push-down by 2: (1,5) (4,5); queues q0 = 3 1 4,
 * q1 = 5 7; departures 3 1 4 5 7: one inversion (1 after 3), distance 2.
 */
static void test_sppifo_example(void)
{
	static const u32 in[] = { 5, 3, 7, 1, 4 }, want[] = { 3, 1, 4, 5, 7 };
	struct sim s;
	u32 k;

	sim_init(&s, QV_BACKEND_SPPIFO, 2, 16);
	sim_record(&s, 5);
	for (k = 0; k < 5; k++)
		sim_enqueue(&s, in[k], 0);
	CHECK(s.sp.bound[0] == 4 && s.sp.bound[1] == 5, "bounds %u %u",
	      s.sp.bound[0], s.sp.bound[1]);
	CHECK(s.sp.pushdowns == 1, "pushdowns %llu",
	      (unsigned long long)s.sp.pushdowns);
	while (sim_dequeue(&s))
		;
	for (k = 0; k < 5; k++)
		CHECK(s.out[k] == want[k], "departure %u: rank %u want %u", k,
		      s.out[k], want[k]);
	CHECK(s.inversions == 1 && s.unpifoness == 2, "inv %llu unpif %llu",
	      (unsigned long long)s.inversions,
	      (unsigned long long)s.unpifoness);
	tap_point("sppifo: worked example 5 3 7 1 4 -> 3 1 4 5 7, 1 inversion");
	sim_free(&s);
}

/* An independent SP-PIFO (signed bounds, scan written differently) */
static u32 ref_sppifo(long long *b, u32 n, u32 rank)
{
	long long cost;
	u32 i;

	for (i = n; i > 0; i--) {
		if ((long long)rank >= b[i - 1]) {
			b[i - 1] = rank;
			return i - 1;
		}
	}
	cost = b[0] - rank;
	for (i = 0; i < n; i++)
		b[i] = b[i] - cost < 0 ? 0 : b[i] - cost;
	return 0;
}

static void test_sppifo_reference(void)
{
	u32 n, k, r, got, want, first = 3;
	struct qv_sppifo sp;
	long long b[32];

	for (n = 1; n <= 29; n++) {
		memset(&sp, 0, sizeof(sp));
		memset(b, 0, sizeof(b));
		for (k = 0; k < 20000; k++) {
			r = tap_rand(k & 1 ? 1000 : 64);
			want = ref_sppifo(b, n, r) + first;
			CHECK(qv_sppifo_peek(&sp, first, n, r) == want,
			      "n %u peek differs", n);
			got = qv_sppifo_push(&sp, first, n, r);
			CHECK(got == want, "n %u pkt %u rank %u: queue %u want %u",
			      n, k, r, got, want);
			CHECK(sp.bound[got] == r, "bound after push %u", r);
		}
		for (k = 0; k < n; k++)
			CHECK(sp.bound[first + k] == (u32)b[k], "bound %u", k);
		CHECK(sp.bound[first - 1] == 0 &&
		      (first + n == QV_SPPIFO_MAX || sp.bound[first + n] == 0),
		      "bounds outside the range touched");
	}
	tap_point("sppifo: equals an independent implementation (1..29 queues, 20000 ranks each, range at queue 3)");
}

/* Ranks arriving in order (and equal ranks) leave SP-PIFO exactly as
 * from a PIFO: every packet takes the bottom queue.
 */
static void test_sppifo_in_order(void)
{
	struct sim sp, pf;
	u32 k, r = 0;

	sim_init(&sp, QV_BACKEND_SPPIFO, 8, 512);
	sim_init(&pf, QV_BACKEND_PIFO, 1, 512);
	sim_record(&sp, 400);
	sim_record(&pf, 400);
	for (k = 0; k < 400; k++) {
		r += tap_rand(3);	/* non-decreasing, with repeats */
		sim_enqueue(&sp, r, 0);
		sim_enqueue(&pf, r, 0);
		if (k % 3 == 2) {
			sim_dequeue(&sp);
			sim_dequeue(&pf);
		}
	}
	while (sim_dequeue(&sp) | sim_dequeue(&pf))
		;
	CHECK(sp.nout == 400 && pf.nout == 400, "counts %u %u", sp.nout,
	      pf.nout);
	for (k = 0; k < 400; k++)
		CHECK(sp.out_seq[k] == pf.out_seq[k], "departure %u differs", k);
	CHECK(sp.inversions == 0 && sp.deq_inversions == 0, "inversions");
	CHECK(sp.len[7] == 0 && sp.sp.pushdowns == 0, "pushdowns %llu",
	      (unsigned long long)sp.sp.pushdowns);
	tap_point("sppifo 8: non-decreasing ranks leave exactly as from the PIFO");
	sim_free(&sp);
	sim_free(&pf);
}

struct row {
	const char	*name;
	int		backend;
	u32		nq;
	struct sim	s;
};

static struct row rows[] = {
	{ .name = "pifo", .backend = QV_BACKEND_PIFO, .nq = 1 },
	{ .name = "sppifo 32", .backend = QV_BACKEND_SPPIFO, .nq = 32 },
	{ .name = "sppifo 8", .backend = QV_BACKEND_SPPIFO, .nq = 8 },
	{ .name = "sppifo 4", .backend = QV_BACKEND_SPPIFO, .nq = 4 },
	{ .name = "sppifo 2", .backend = QV_BACKEND_SPPIFO, .nq = 2 },
	{ .name = "aifo", .backend = QV_BACKEND_AIFO, .nq = 1 },
	{ .name = "fifo", .backend = QV_BACKEND_FIFO, .nq = 1 },
};
#define NROWS (sizeof(rows) / sizeof(rows[0]))

/* Same trace (same seed) through every backend */
static void run_rows(u32 range, u32 npkts, u32 cap, u32 pre, u32 load,
		     unsigned long long seed)
{
	u32 i;

	for (i = 0; i < NROWS; i++) {
		sim_init(&rows[i].s, rows[i].backend, rows[i].nq, cap);
		tap_rng_state = seed;
		sim_run(&rows[i].s, NULL, 0, range, npkts, pre, load);
	}
}

static void free_rows(void)
{
	u32 i;

	for (i = 0; i < NROWS; i++)
		sim_free(&rows[i].s);
}

static struct sim *row(const char *name)
{
	u32 i;

	for (i = 0; i < NROWS; i++)
		if (!strcmp(rows[i].name, name))
			return &rows[i].s;
	abort();
}

static double per1000(u64 x, u64 n)
{
	return n ? 1000.0 * (double)x / (double)n : 0;
}

/* Uniform ranks 0..99, buffer 256, 64 packets backlogged, load 100%:
 * the SP-PIFO paper's setting in miniature.  Relations, not constants:
 * pifo 0; sppifo 8 far fewer than fifo; more queues, fewer inversions.
 */
static void test_uniform(void)
{
	unsigned long long seed = tap_rng_state;
	double f, s8, s2, s32;

	run_rows(100, 50000, 256, 64, 100, seed);
	f = per1000(row("fifo")->inversions, row("fifo")->departed);
	s2 = per1000(row("sppifo 2")->inversions, row("sppifo 2")->departed);
	s8 = per1000(row("sppifo 8")->inversions, row("sppifo 8")->departed);
	s32 = per1000(row("sppifo 32")->inversions,
		      row("sppifo 32")->departed);
	tap_diag("uniform 0..99: inversions/1000 fifo %.1f sppifo2 %.1f sppifo8 %.1f sppifo32 %.1f",
		 f, s2, s8, s32);
	CHECK(row("pifo")->inversions == 0 && row("pifo")->deq_inversions == 0,
	      "pifo inversions %llu",
	      (unsigned long long)row("pifo")->inversions);
	CHECK(f > 400 && f < 600, "fifo %.1f: about half of the packets", f);
	CHECK(s8 < f / 3, "sppifo 8 %.1f not far below fifo %.1f", s8, f);
	CHECK(s8 < s2 && s32 < s8, "more queues must mean fewer: %.1f %.1f %.1f",
	      s2, s8, s32);
	CHECK(row("sppifo 8")->unpifoness < row("fifo")->unpifoness / 3,
	      "unpifoness sppifo 8 vs fifo");
	CHECK(row("sppifo 8")->deq_inversions <
	      row("fifo")->deq_inversions / 2, "dequeue inversions");
	tap_point("uniform ranks: pifo 0, sppifo 8 < fifo / 3, sppifo 32 < 8 < 2");
	free_rows();
	tap_rng_state = seed;
}

/* Overload (150%) into a buffer of 64: AIFO refuses by rank, so what it
 * delivers ranks better than what a FIFO delivers, and it drops by
 * admission, not at the tail.
 */
static void test_aifo_overload(void)
{
	unsigned long long seed = tap_rng_state;
	struct sim *a, *f;
	double ma, mf;

	run_rows(100, 50000, 64, 0, 150, seed);
	a = row("aifo");
	f = row("fifo");
	ma = (double)a->rank_sum_out / (double)a->departed;
	mf = (double)f->rank_sum_out / (double)f->departed;
	tap_diag("overload: mean delivered rank aifo %.1f fifo %.1f, aifo drops admission %llu full %llu",
		 ma, mf, (unsigned long long)a->drop_admission,
		 (unsigned long long)a->drop_full);
	CHECK(a->drop_admission > a->arrived / 5, "aifo admission drops %llu",
	      (unsigned long long)a->drop_admission);
	CHECK(a->drop_full < a->drop_admission / 10, "aifo tail drops %llu",
	      (unsigned long long)a->drop_full);
	CHECK(f->drop_admission == 0 && f->drop_full > f->arrived / 5,
	      "fifo drops");
	CHECK(ma < mf - 15, "aifo mean rank %.1f not well below fifo %.1f", ma,
	      mf);
	CHECK(a->departed + a->drop_admission + a->drop_full == a->arrived,
	      "aifo conservation");
	tap_point("aifo under 150%% load: admission drops, better delivered ranks than fifo");
	free_rows();
	tap_rng_state = seed;
}

static void test_aifo_rules(void)
{
	struct qv_aifo a;
	u32 k, r, c;
	bool lo, hi;

	memset(&a, 0, sizeof(a));
	for (k = 0; k < 1000; k++) {
		r = tap_rand(100);
		/* empty queue: always admitted */
		CHECK(qv_aifo_admit(&a, r, 0, 64, QV_AIFO_DEF_K), "c=0");
	}
	CHECK(a.n == QV_AIFO_WINDOW, "window %u", a.n);
	for (k = 0; k < 5000; k++) {
		struct qv_aifo b;

		c = tap_rand(65);
		r = tap_rand(100);
		b = a;
		lo = qv_aifo_admit(&b, r / 2, c, 64, QV_AIFO_DEF_K);
		b = a;
		hi = qv_aifo_admit(&b, r, c, 64, QV_AIFO_DEF_K);
		CHECK(lo || !hi, "monotone: rank %u admitted, %u not", r, r / 2);
		b = a;
		CHECK(qv_aifo_admit(&b, r, c, 64, 100), "k 100 admits all");
		/* full queue: only a rank no worse than the whole window */
		b = a;
		CHECK(qv_aifo_admit(&b, r, 64, 64, QV_AIFO_DEF_K) ==
		      (qv_aifo_below(&a, r) == 0), "full queue");
		qv_aifo_admit(&a, tap_rand(100), c, 64, QV_AIFO_DEF_K);
	}
	/* exact threshold: window 0..63, C 100, k 10, c 55:
	 * admit iff below * 90 * 100 <= 45 * 100 * 64, below <= 32
	 */
	qv_aifo_reset(&a);
	for (k = 0; k < 64; k++)
		qv_aifo_record(&a, k);
	for (k = 0; k < 64; k++) {
		struct qv_aifo b = a;

		CHECK(qv_aifo_admit(&b, k, 55, 100, 10) == (k <= 32),
		      "threshold at rank %u", k);
	}
	tap_point("aifo: admits all when empty, monotone in rank, exact threshold, k 100");
}

static void test_inv(void)
{
	struct qv_inv t = {};

	/* 9 leaves at seq-now 10; 3 (seq 4) was waiting: inversion 6 */
	CHECK(qv_inv_depart(&t, 9, 2, 10) == 0, "first");
	CHECK(qv_inv_depart(&t, 3, 4, 10) == 6, "inversion of 6");
	/* 5 arrived (seq 12) after 3 left (now 11): not an inversion */
	CHECK(qv_inv_depart(&t, 8, 5, 11) == 0, "worse is fine");
	CHECK(qv_inv_depart(&t, 5, 12, 13) == 0, "arrived after");
	CHECK(qv_inv_depart(&t, 5, 9, 13) == 0, "equal rank");
	/* sequence numbers wrap */
	t.rank = 7;
	t.seq = 3;
	CHECK(qv_inv_depart(&t, 1, 0xfffffff0u, 20) == 6, "wrap");
	tap_point("inversion tracker: previous departure worse and left while queued");
}

/* ------------------------------------------------------------------ */
/* queue mapping                                                      */

static struct su U;

static int map_of(const char *pol, u32 nq, bool partial, struct qv_qmap *m)
{
	CHECK(su_synth(&U, 4096, 50) == 0, "synth %s", pol);
	memset(m, 0, sizeof(*m));
	return qv_qmap_build(m, U.grp, U.s.ngrp, U.s.tiers, nq, partial,
			     &U.e);
}

static void range_is(const struct qv_qmap *m, u32 tier, u32 first, u32 n)
{
	u32 f, k;

	qv_qmap_range(m, tier, &f, &k);
	CHECK(f == first && k == n, "tier %u: [%u,+%u) want [%u,+%u)", tier,
	      f, k, first, n);
}

static void test_qmap(void)
{
	struct qv_qmap m;
	u32 p;

	/* 1 >> 2 + 3, equal widths, 5 queues: 2 + 2, implicit 1 */
	su_parse(&U, "1 >> 2 + 3");
	su_add(&U, 1, 0, 63, 64);
	su_add(&U, 2, 0, 63, 64);
	su_add(&U, 3, 0, 99, 64);
	CHECK(map_of("1 >> 2 + 3", 5, false, &m) == 0, "5 queues");
	CHECK(U.s.tiers == 3 && m.mapped == 3, "tiers %u mapped %u",
	      U.s.tiers, m.mapped);
	range_is(&m, 0, 0, 2);
	range_is(&m, 1, 2, 2);
	range_is(&m, 2, 4, 1);
	CHECK(qv_qmap_tier_of(&m, 1) == 0 && qv_qmap_tier_of(&m, 2) == 1 &&
	      qv_qmap_tier_of(&m, 4) == 2, "tier_of");
	p = qv_props(QV_BACKEND_SPPIFO, &m, U.s.tiers);
	CHECK(p == (QV_PROP_HOLDS(1) | QV_PROP_APPROX(2) | QV_PROP_HOLDS(3) |
		    QV_PROP_APPROX(4) | QV_PROP_HOLDS(5) | QV_PROP_HOLDS(6)),
	      "props %#x", p);
	CHECK(QV_PROP_APPROX(4) == QVISOR_PROP_APPROX(4) &&
	      QV_BACKEND_AIFO == QVISOR_BACKEND_AIFO &&
	      QV_BACKEND_SPPIFO == QVISOR_BACKEND_SPPIFO &&
	      QV_BACKEND_FIFO == QVISOR_BACKEND_FIFO &&
	      QV_SPPIFO_MAX == QVISOR_MAX_SPPIFO_Q,
	      "core and uapi numbers agree");
	/* aifo and fifo: one queue, P1 lost with several tiers */
	CHECK(map_of("1 >> 2 + 3", 1, true, &m) == 0, "1 queue");
	p = qv_props(QV_BACKEND_AIFO, &m, U.s.tiers);
	CHECK(!(p & (QV_PROP_HOLDS(1) | QV_PROP_APPROX(1))) &&
	      (p & QV_PROP_APPROX(2)) && !(p & QV_PROP_HOLDS(4)), "aifo %#x", p);
	p = qv_props(QV_BACKEND_FIFO, &m, U.s.tiers);
	CHECK(!(p & (QV_PROP_HOLDS(1) | QV_PROP_APPROX(1) | QV_PROP_APPROX(2) |
		     QV_PROP_APPROX(4))), "fifo %#x", p);
	p = qv_props(QV_BACKEND_PIFO, &m, U.s.tiers);
	CHECK(p == 0x3f, "pifo %#x", p);
	tap_point("qmap: 1 >> 2 + 3 on 5 queues -> [0,2) [2,4) [4,5); props");

	/* widths 48 : 16 with 9 queues: 6 spare -> 4.5 : 1.5, tie -> tier 0 */
	su_parse(&U, "1 >> 2");
	su_add(&U, 1, 0, 47, 48);
	su_add(&U, 2, 0, 15, 16);
	CHECK(map_of("1 >> 2", 9, false, &m) == 0, "9 queues");
	range_is(&m, 0, 0, 6);
	range_is(&m, 1, 6, 2);
	range_is(&m, 2, 8, 1);
	/* exactly as many queues as named tiers: implicit shares the last */
	CHECK(map_of("1 >> 2", 2, false, &m) == 0, "2 queues");
	range_is(&m, 0, 0, 1);
	range_is(&m, 1, 1, 1);
	range_is(&m, 2, 1, 1);
	p = qv_props(QV_BACKEND_SPPIFO, &m, U.s.tiers);
	CHECK((p & QV_PROP_APPROX(1)) && !(p & QV_PROP_HOLDS(1)),
	      "shared implicit: P1 approx %#x", p);
	CHECK(map_of("1 >> 2", 3, false, &m) == 0 && m.mapped == 3,
	      "3 queues: all dedicated");
	tap_point("qmap: proportional widths, implicit tier shares when queues == tiers");

	/* more named tiers than queues */
	su_parse(&U, "1 >> 2 >> 3 >> 4");
	su_add(&U, 1, 0, 7, 8);
	su_add(&U, 2, 0, 7, 8);
	su_add(&U, 3, 0, 7, 8);
	su_add(&U, 4, 0, 7, 8);
	su_add(&U, 5, 0, 7, 8);		/* unnamed: a fifth named tier */
	CHECK(map_of("4 tiers", 3, false, &m) == -22, "rejected");
	CHECK(U.e.msg && strstr(U.e.msg, "More strict tiers than sppifo queues") &&
	      U.e.val == 5, "message '%s' val %u", U.e.msg ? U.e.msg : "",
	      U.e.val);
	CHECK(map_of("4 tiers", 3, true, &m) == 0, "partial accepted");
	range_is(&m, 0, 0, 1);
	range_is(&m, 1, 1, 1);
	range_is(&m, 2, 2, 1);
	range_is(&m, 3, 2, 1);
	range_is(&m, 5, 2, 1);
	p = qv_props(QV_BACKEND_SPPIFO, &m, U.s.tiers);
	CHECK((p & QV_PROP_APPROX(1)) && !(p & QV_PROP_HOLDS(1)), "partial P1");
	CHECK(map_of("4 tiers", 6, false, &m) == 0 && m.mapped == 6,
	      "6 queues fit");
	/* no classes, no policy: the implicit tier gets every queue */
	su_parse(&U, NULL);
	CHECK(map_of("none", 8, false, &m) == 0, "empty");
	range_is(&m, 0, 0, 8);
	tap_point("qmap: 5 tiers on 3 queues rejected, partial merges the lowest tiers");
}

/* Lending: 1 >> 2 >> 3 >> 4 on 8 queues is [2, 2, 2, 1] and the implicit
 * tier 1
 */
static void lend_base(struct qv_qmap *m)
{
	su_parse(&U, "1 >> 2 >> 3 >> 4");
	su_add(&U, 1, 0, 7, 8);
	su_add(&U, 2, 0, 7, 8);
	su_add(&U, 3, 0, 7, 8);
	su_add(&U, 4, 0, 7, 8);
	CHECK(map_of("1 >> 2 >> 3 >> 4", 8, false, m) == 0 && m->mapped == 5,
	      "base map");
	range_is(m, 0, 0, 2);
	range_is(m, 1, 2, 2);
	range_is(m, 2, 4, 2);
	range_is(m, 3, 6, 1);
	range_is(m, 4, 7, 1);
}

/* Ranges contiguous from 0 to nq in tier order, each at least one queue,
 * idle tiers one, active tiers containing their base range
 */
static void lend_invariants(const struct qv_qmap *m, const struct qv_qmap *b,
			    u32 idle)
{
	u32 t, f, n, bf, bn;

	CHECK(m->first[0] == 0 && m->first[m->mapped] == m->nq &&
	      m->mapped == b->mapped && m->nq == b->nq, "bounds");
	for (t = 0; t < m->mapped; t++) {
		qv_qmap_range(m, t, &f, &n);
		qv_qmap_range(b, t, &bf, &bn);
		CHECK(n >= 1, "tier %u empty", t);
		if (idle & (1u << t))
			CHECK(n == 1, "idle tier %u keeps %u", t, n);
		else
			CHECK(f <= bf && f + n >= bf + bn,
			      "active tier %u [%u,+%u) base [%u,+%u)", t, f, n,
			      bf, bn);
	}
}

static void test_lend_map(void)
{
	struct qv_qmap b, m;
	u32 k, idle, lent;

	lend_base(&b);
	CHECK(qv_qmap_lenders(&b) == 7, "lenders %#x", qv_qmap_lenders(&b));
	/* tiers 1-3 idle: tier 4 gets their 3 spare queues */
	CHECK(qv_qmap_lend(&m, &b, 7) == 7, "lent");
	range_is(&m, 0, 0, 1);
	range_is(&m, 1, 1, 1);
	range_is(&m, 2, 2, 1);
	range_is(&m, 3, 3, 4);
	range_is(&m, 4, 7, 1);
	CHECK(qv_qmap_tier_of(&m, 3) == 3 && qv_qmap_tier_of(&m, 6) == 3 &&
	      qv_qmap_tier_of(&m, 2) == 2, "tier_of");
	/* one idle tier: the tier below grows upwards */
	CHECK(qv_qmap_lend(&m, &b, 2) == 2, "tier 2 lends");
	range_is(&m, 0, 0, 2);
	range_is(&m, 1, 2, 1);
	range_is(&m, 2, 3, 3);
	range_is(&m, 3, 6, 1);
	/* nothing active below: the tier above grows downwards */
	CHECK(qv_qmap_lend(&m, &b, 0x1c) == 4, "bottom run");
	range_is(&m, 1, 2, 3);
	range_is(&m, 2, 5, 1);
	range_is(&m, 3, 6, 1);
	range_is(&m, 4, 7, 1);
	/* a one-queue tier has nothing to lend; all idle: nobody borrows */
	CHECK(qv_qmap_lend(&m, &b, 8) == 0 && qv_qmap_same(&m, &b),
	      "one queue");
	CHECK(qv_qmap_lend(&m, &b, 0x1f) == 0 && qv_qmap_same(&m, &b),
	      "all idle");
	CHECK(qv_qmap_lend(&m, &b, 0) == 0 && qv_qmap_same(&m, &b),
	      "none idle");
	for (k = 0; k < 2000; k++) {
		idle = tap_rand(32);
		lent = qv_qmap_lend(&m, &b, idle);
		CHECK((lent & ~idle) == 0, "lent %#x idle %#x", lent, idle);
		lend_invariants(&m, &b, lent ? idle : 0);
	}
	/* queues == named tiers: the last range is shared, never lent */
	su_parse(&U, "1 >> 2");
	su_add(&U, 1, 0, 47, 48);
	su_add(&U, 2, 0, 15, 16);
	CHECK(map_of("1 >> 2", 2, false, &b) == 0 && b.mapped == 2, "merged");
	CHECK(qv_qmap_lenders(&b) == 0, "merged lenders");
	CHECK(qv_qmap_lend(&m, &b, 3) == 0, "merged: none");
	CHECK(offsetof(struct tc_qvisor_xstats, lends) ==
	      offsetof(struct tc_qvisor_xstats, memory) + 8 &&
	      sizeof(struct tc_qvisor_xstats) ==
	      offsetof(struct tc_qvisor_xstats, lends) + 8,
	      "xstats lends appended without holes");
	tap_point("lend: idle tiers keep 1 queue, spare to the active tier below (above at the bottom), order kept");
}

struct lel {
	u32	seq;
	u32	tier;
	void	*next;
};

/* Fill queues at random under one lend map, remap to another: the whole
 * departure sequence is unchanged (queue order is tier order in both, and
 * each tier's packets keep theirs) and every queue holds only its tier
 */
static void test_lend_remap(void)
{
	static struct lel el[400];
	static struct qv_bucket bk[64];
	static u64 leaf[1];
	struct qv_qmap b, from, to;
	struct qv_barray ba;
	u32 qcount[QV_SPPIFO_MAX], want[400];
	u32 round, k, n, i, f, c, t;
	struct lel *e;

	lend_base(&b);
	for (round = 0; round < 500; round++) {
		memset(bk, 0, sizeof(bk));
		leaf[0] = 0;
		memset(qcount, 0, sizeof(qcount));
		qv_ba_init(&ba, leaf, bk, 64, offsetof(struct lel, next));
		qv_qmap_lend(&from, &b, tap_rand(32));
		qv_qmap_lend(&to, &b, tap_rand(32));
		n = tap_rand(400);
		for (k = 0; k < n; k++) {
			t = tap_rand(from.mapped);
			qv_qmap_range(&from, t, &f, &c);
			i = f + tap_rand(c);
			el[k].seq = k;
			el[k].tier = t;
			qv_ba_push(&ba, i, &el[k]);
			qcount[i]++;
		}
		/* the departure order before */
		k = 0;
		for (i = 0; i < from.nq; i++)
			for (e = qv_ba_peek(&ba, i); e; e = e->next)
				want[k++] = e->seq;
		qv_qmap_remap(&ba, qcount, &from, &to);
		c = 0;
		for (i = 0; i < to.nq; i++)
			for (e = qv_ba_peek(&ba, i); e; e = e->next) {
				CHECK(e->tier == qv_qmap_tier_of(&to, i),
				      "round %u: tier %u in queue %u", round,
				      e->tier, i);
				c++;
			}
		CHECK(c == n, "round %u: %u of %u", round, c, n);
		for (i = 0; i < to.nq; i++) {
			t = 0;
			for (e = qv_ba_peek(&ba, i); e; e = e->next)
				t++;
			CHECK(t == qcount[i], "qcount %u: %u != %u", i,
			      qcount[i], t);
		}
		for (k = 0; k < n; k++) {
			e = qv_ba_pop_first(&ba);
			CHECK(e->seq == want[k], "round %u: departure %u", round,
			      k);
		}
		CHECK(qv_ba_empty(&ba), "empty");
	}
	tap_point("lend remap: 500 random map pairs, departure order unchanged, counts kept");
}

/* P1 on sppifo with dedicated tier ranges; lost on aifo and fifo */
static void test_p1(void)
{
	static const int be[] = { QV_BACKEND_SPPIFO, QV_BACKEND_AIFO,
				  QV_BACKEND_FIFO };
	struct qv_qmap m;
	struct sim s;
	u32 i, k, t, r;

	su_parse(&U, "1 >> 2");
	su_add(&U, 1, 0, 63, 64);
	su_add(&U, 2, 0, 63, 64);
	CHECK(map_of("1 >> 2", 4, false, &m) == 0, "map");
	for (i = 0; i < 3; i++) {
		sim_init(&s, be[i], be[i] == QV_BACKEND_SPPIFO ? 4 : 1, 128);
		if (be[i] == QV_BACKEND_SPPIFO)
			s.map = m;
		for (k = 0; k < 20000; k++) {
			t = tap_rand(2);
			r = qv_xform_apply(&U.xf[t], tap_rand(64));
			sim_enqueue(&s, r, U.xf[t].tier);
			if (k & 1)
				sim_dequeue(&s);
		}
		while (sim_dequeue(&s))
			;
		if (be[i] == QV_BACKEND_SPPIFO)
			CHECK(s.p1_violations == 0, "sppifo P1 violated %llu",
			      (unsigned long long)s.p1_violations);
		else
			CHECK(s.p1_violations > 100, "backend %d: %llu", be[i],
			      (unsigned long long)s.p1_violations);
		sim_free(&s);
	}
	tap_point("P1: sppifo 4 on 1 >> 2 never serves tier 1 before tier 0; aifo and fifo do");
}

/* The table of Documentation/backends.md */
static int table(u32 npkts)
{
	static const struct {
		const char *name;
		u32 range, cap, pre, load;
	} sc[] = {
		{ "uniform 0..99, load 100%, 64 backlogged, buffer 256", 100,
		  256, 64, 100 },
		{ "uniform 0..99, load 150%, buffer 64", 100, 64, 0, 150 },
	};
	u32 j, i;

	for (j = 0; j < 2; j++) {
		run_rows(sc[j].range, npkts, sc[j].cap, sc[j].pre, sc[j].load,
			 tap_rng_state);
		printf("\n%u packets, %s, QV_SEED=%s\n\n", npkts, sc[j].name,
		       getenv("QV_SEED") ? getenv("QV_SEED") : "(unset)");
		printf("| backend | inversions / 1000 | unpifoness / pkt | dequeues with a better packet queued / 1000 | drops / 1000 | mean rank sent |\n");
		printf("| --- | ---: | ---: | ---: | ---: | ---: |\n");
		for (i = 0; i < NROWS; i++) {
			struct sim *s = &rows[i].s;

			printf("| %s | %.1f | %.2f | %.1f | %.1f | %.1f |\n",
			       rows[i].name,
			       per1000(s->inversions, s->departed),
			       s->departed ? (double)s->unpifoness / s->departed : 0,
			       per1000(s->deq_inversions, s->departed),
			       per1000(s->drop_admission + s->drop_full +
				       s->pushout, s->arrived),
			       s->departed ? (double)s->rank_sum_out / s->departed : 0);
		}
		free_rows();
	}
	return 0;
}

static void test_recorded(void)
{
	struct sim f, sp, pf;
	u32 k;

	sim_init(&f, QV_BACKEND_FIFO, 1, 128);
	sim_init(&sp, QV_BACKEND_SPPIFO, 8, 128);
	sim_init(&pf, QV_BACKEND_PIFO, 1, 128);
	for (k = 0; k < 10; k++) {
		sim_run(&f, recorded, NREC, 0, NREC, 16, 100);
		sim_run(&sp, recorded, NREC, 0, NREC, 16, 100);
		sim_run(&pf, recorded, NREC, 0, NREC, 16, 100);
	}
	tap_diag("recorded trace x10: inversions fifo %llu sppifo8 %llu pifo %llu",
		 (unsigned long long)f.inversions,
		 (unsigned long long)sp.inversions,
		 (unsigned long long)pf.inversions);
	CHECK(pf.inversions == 0 && pf.departed == 10 * NREC, "pifo");
	CHECK(f.departed == 10 * NREC && sp.departed == 10 * NREC, "all left");
	CHECK(sp.inversions * 2 < f.inversions, "sppifo %llu fifo %llu",
	      (unsigned long long)sp.inversions,
	      (unsigned long long)f.inversions);
	tap_point("recorded trace: pifo 0, sppifo 8 under half of fifo");
	sim_free(&f);
	sim_free(&sp);
	sim_free(&pf);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--table")) {
		tap_seed_from_env();
		return table(argc > 2 ? (u32)atoi(argv[2]) : 200000);
	}
	tap_plan(0);
	tap_seed_from_env();
	test_sppifo_example();
	test_sppifo_reference();
	test_sppifo_in_order();
	test_inv();
	test_aifo_rules();
	test_recorded();
	test_uniform();
	test_aifo_overload();
	test_qmap();
	test_p1();
	test_lend_map();
	test_lend_remap();
	return tap_done();
}
