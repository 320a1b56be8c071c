/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * qvisor queue mapping: deploys the synthesized joint schedule onto a
 * backend with few FIFO queues (sppifo), and states which of the policy
 * properties P1-P6 the deployment keeps.
 *
 * The synthesizer numbers strict tiers 0..T-1; the last tier is always
 * the implicit best-effort tenant (packets of no class).  Call the others
 * the named tiers (the policy's tiers and the tier of classes the policy
 * does not name), N = T - 1 of them.  With Q queues (queue 0 the highest
 * priority):
 *  - Q > N: every named tier gets a disjoint range of at least one queue,
 *    the implicit tier one queue of its own at the bottom, and the
 *    Q - N - 1 spare queues go to the named tiers in proportion to the
 *    joint ranks each spans (largest remainder; ties to the higher tier).
 *    Every tier has dedicated queues, so P1 holds.
 *  - Q == N: as above but the implicit tier shares the lowest tier's
 *    range (its rank is the worst, so SP-PIFO puts it at the bottom of
 *    that range).  P1 holds between the named tiers, not between the
 *    lowest tier and packets of no class: reported as approximate.
 *  - Q < N: the policy cannot be met.  Rejected, unless the qdisc has the
 *    "partial" flag: then tiers 0..Q-2 get one queue each and all lower
 *    tiers share the last queue (the closest configuration: the top of
 *    the policy stays strict), and P1 is reported as approximate.
 * Inside a range, SP-PIFO (sppifo.h) maps joint ranks to queues.
 *
 * Also here: the per-tenant inversion tracker of the queue backends.
 */
#ifndef _QVISOR_QMAP_H
#define _QVISOR_QMAP_H

#include "types.h"
#include "synth.h"
#include "sppifo.h"

/* Backends, numbered as QVISOR_BACKEND_* */
#define QV_BACKEND_PIFO		0
#define QV_BACKEND_SPPIFO	1
#define QV_BACKEND_AIFO		2
#define QV_BACKEND_FIFO		3

struct qv_qmap {
	u32	nq;		/* queues */
	u32	tiers;		/* tiers of the synthesis, implicit included */
	u32	mapped;		/* tiers with a range of their own; tier t >=
				 * mapped uses the range of tier mapped - 1
				 */
	u8	first[QV_SPPIFO_MAX + 1];	/* tier t: [first[t], first[t+1]) */
};

/* Queue range of a tier */
static inline void qv_qmap_range(const struct qv_qmap *m, u32 tier,
				 u32 *first, u32 *n)
{
	if (tier >= m->mapped)
		tier = m->mapped - 1;
	*first = m->first[tier];
	*n = m->first[tier + 1] - m->first[tier];
}

/* The strict tier a queue serves (the first, when merged); statistics */
static inline u32 qv_qmap_tier_of(const struct qv_qmap *m, u32 queue)
{
	u32 t;

	for (t = 0; t + 1 < m->mapped; t++)
		if (queue < m->first[t + 1])
			return t;
	return m->mapped - 1;
}

/* Properties P1..P6: bit n-1 = Pn holds, bit n-1+8 = Pn holds only
 * approximately (measured, not guaranteed); neither = does not hold.
 */
#define QV_PROP_HOLDS(n)	(1u << ((n) - 1))
#define QV_PROP_APPROX(n)	(1u << ((n) - 1 + 8))

/* Inversions of the queue backends.  Per tenant, the raw rank of its
 * previous departure and the enqueue sequence number current at that
 * moment.  A departing packet is an inversion when the tenant's previous
 * departure had a strictly worse (higher) rank and left while this packet
 * was queued (this packet's sequence number is older).  Returns the rank
 * difference (its contribution to unpifoness), 0 if no inversion.  O(1).
 */
struct qv_inv {
	u32	rank;
	u32	seq;
	bool	valid;
};

static inline u32 qv_inv_depart(struct qv_inv *t, u32 rank, u32 seq,
				u32 now_seq)
{
	u32 d = 0;

	if (t->valid && rank < t->rank && (s32)(seq - t->seq) < 0)
		d = t->rank - rank;
	t->valid = true;
	t->rank = rank;
	t->seq = now_seq;
	return d;
}

int qv_qmap_build(struct qv_qmap *m, const struct qv_group *grp,
		  u32 ngrp, u32 tiers, u32 nq, bool partial,
				struct qv_err *e);
u32 qv_props(u32 backend, const struct qv_qmap *m, u32 tiers);

/* The properties inside nested group @g (1-based) of the policy of
 * synthesis @s (@pol_grp as qv_synthesize() filled it), deployed on
 * @backend with queue map @m and properties @props (qv_props()); the
 * group's queues are those of the strict tier of its top-level group.
 * P2, P4, P5 and P6 are the
 * deployment's.  P1 holds trivially in a group of one tier; otherwise the
 * group's tiers are ranks of one top-level tier: on pifo they hold, but
 * only approximately when the top-level group has credit mates (what a
 * lower tier admitted before the higher one ran out of credit leaves
 * first), on sppifo approximately when that tier has more than one queue
 * and not at all with one, on aifo and fifo not at all.  P3 does not hold
 * in a group with a '+' level of two members: they interleave by rank
 * within the group's credit account, their weights are not enforced.
 */
u32 qv_group_props(u32 backend, const struct qv_qmap *m,
		   const struct qv_synth *s, const u32 *pol_grp, u32 props,
		   u32 g);

#endif
