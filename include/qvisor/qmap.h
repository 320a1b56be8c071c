/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * qvisor queue mapping: deploys the synthesized joint schedule onto a
 * backend with few FIFO queues (sppifo), and states which of the policy
 * properties P1-P7 the deployment keeps.
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
#include "bucket.h"

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

/* Whether two maps give every tier the same queues (padding aside) */
static inline bool qv_qmap_same(const struct qv_qmap *a,
				const struct qv_qmap *b)
{
	u32 t;

	if (a->nq != b->nq || a->tiers != b->tiers || a->mapped != b->mapped)
		return false;
	for (t = 0; t <= a->mapped && t <= QV_SPPIFO_MAX; t++)
		if (a->first[t] != b->first[t])
			return false;
	return true;
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

/* Properties P1..P7: bit n-1 = Pn holds, bit n-1+8 = Pn holds only
 * approximately (measured, not guaranteed); neither = does not hold.
 * Bit n-1+16: Pn is stated at all; P1..P6 always are (without the bit),
 * P7 with it (a module before P7 does not state it).
 */
#define QV_PROP_HOLDS(n)	(1u << ((n) - 1))
#define QV_PROP_APPROX(n)	(1u << ((n) - 1 + 8))
#define QV_PROP_KNOWN(n)	(1u << ((n) - 1 + 16))
#define QV_PROP_LAST		7	/* the last property stated */
#define QV_PROP_GAMING		7	/* P7 */

/* Whether the properties @props state Pn */
static inline bool qv_prop_known(u32 props, u32 n)
{
	return n <= 6 || (props & QV_PROP_KNOWN(n));
}

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

/* Lending (option lend, Documentation/backends.md): the map @base with
 * the tiers of @idle (bit t: tier t) lending their queues.  An idle tier
 * keeps one queue, the top of its new range; the queues it frees go to
 * the nearest active tier below it (a run of idle tiers gives them all to
 * that tier, whose range grows upwards), or, when no tier below is
 * active, to the nearest active tier above (its range grows downwards).
 * Ranges stay contiguous and in tier order, so P1 holds as in @base, and
 * the range of an active tier always contains its range in @base.  Only
 * tiers with a range of their own lend: bits of tiers >= @base->mapped,
 * and of tier mapped - 1 when it shares its range with the tiers below
 * (mapped < tiers), are ignored.  With no active tier @base is copied.
 * Returns the tiers that really lend (their bits of @idle that freed a
 * queue), 0 when @out equals @base.  O(tiers).
 */
u32 qv_qmap_lend(struct qv_qmap *out, const struct qv_qmap *base, u32 idle);

/* Install map @to over map @from on the FIFO queues @ba (queue i is
 * bucket i; @qcount: packets per queue, kept right): the packets of each
 * queue go to the range its tier has in @to, without changing the order
 * in which they leave.  A queue above the tier's new range is put in
 * front of the range's first queue, one below it after the range's last
 * queue: the queues of a tier leave one after the other (strict
 * priority), so the concatenation leaves in the same order, and every
 * packet then sits in its tier's range of @to, ranges in tier order (P1).
 * Returns the packets moved.  O(queues), list splices only.
 */
u32 qv_qmap_remap(struct qv_barray *ba, u32 *qcount,
		  const struct qv_qmap *from, const struct qv_qmap *to);

/* The tiers that may lend in @base (a range of their own, more than one
 * queue): bit t for tier t
 */
u32 qv_qmap_lenders(const struct qv_qmap *base);

/* The properties inside nested group @g (1-based) of the policy of
 * synthesis @s (@pol_grp as qv_synthesize() filled it), deployed on
 * @backend with queue map @m and properties @props (qv_props()); the
 * group's queues are those of the strict tier of its top-level group.
 * P2, P3, P4, P5 and P6 are the
 * deployment's.  P1 holds trivially in a group of one tier; otherwise the
 * group's tiers are ranks of one top-level tier: on pifo they hold, but
 * only approximately when the top-level group has credit mates (what a
 * lower tier admitted before the higher one ran out of credit leaves
 * first), on sppifo approximately when that tier has more than one queue
 * and not at all with one, on aifo and fifo not at all.  P3 is the
 * deployment's: a '+' level inside a group shares the group's bytes by
 * its members' weights (an account per member, rounds per level).
 */
u32 qv_group_props(u32 backend, const struct qv_qmap *m,
		   const struct qv_synth *s, const u32 *pol_grp, u32 props,
		   u32 g);

/* P7, rank gaming: no tenant gains over its mates by the ranks it sends.
 * A tenant can gain by its ranks only over the tenants whose joint
 * intervals overlap its own (its '+' mates, the '>' levels it overlaps;
 * a strict tier or a '>' level at overlap 0 orders them whatever the
 * ranks).  P7 holds when every tenant that overlaps another tenant and
 * whose ranks map to more than one joint rank either does not choose its
 * ranks (qv_tenant_spec.chosen: fifo, las, stfq, edf are computed by the
 * qdisc) or has range auto (its ranks are placed by the quantiles of its
 * own recent ranks: a tenant sending one rank lands in the middle of its
 * levels, qvisor/rauto.h).  On fifo ranks are ignored, so it holds.
 * Never approx: what a tenant with range auto can still gain is bounded
 * by construction (its first 32 packets, and about a window after it
 * changes its distribution), not measured.  Inside nested group g only
 * the tenants of the group count.
 *
 * Adds the P7 bits (QV_PROP_KNOWN(7), and QV_PROP_HOLDS(7) when it holds)
 * to *@props and to @gprops[0 .. number of nested groups).  @scratch:
 * s->nspec + s->ngrp entries.  O(n + groups) for a policy without nested
 * groups when a tenant that could gain shares its sharing group (or none
 * could); else a sort by joint offset and a sweep per scope, O(n log n +
 * n * nested groups).  No allocation.
 */
void qv_props_gaming(const struct qv_synth *s, u32 backend, u32 *scratch,
		     u32 *props, u32 *gprops);

/* A tenant of the whole policy that breaks P7 (it chooses its ranks,
 * without range auto, over more than one joint rank, and overlaps another
 * tenant; the first one found), or -1.  @scratch as for
 * qv_props_gaming().
 */
s32 qv_gamer(const struct qv_synth *s, u32 *scratch);

#endif
