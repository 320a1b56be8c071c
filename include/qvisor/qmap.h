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

/* Backends, numbered as TCA_QVISOR_BACKEND_* */
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

/* Joint ranks spanned by tiers 0..QV_SPPIFO_MAX-1 of a synthesis */
static inline void qv_qmap_widths(const struct qv_group *grp, u32 ngrp,
				  u64 *w)
{
	u64 lo[QV_SPPIFO_MAX], hi[QV_SPPIFO_MAX];
	u32 k, t;

	for (t = 0; t < QV_SPPIFO_MAX; t++) {
		lo[t] = ~0ULL;
		hi[t] = 0;
	}
	for (k = 0; k < ngrp; k++) {
		t = grp[k].tier;
		if (!grp[k].width || t >= QV_SPPIFO_MAX)
			continue;
		if (grp[k].offset < lo[t])
			lo[t] = grp[k].offset;
		if ((u64)grp[k].offset + grp[k].width > hi[t])
			hi[t] = (u64)grp[k].offset + grp[k].width;
	}
	for (t = 0; t < QV_SPPIFO_MAX; t++)
		w[t] = hi[t] > lo[t] ? hi[t] - lo[t] : 1;
}

/* Give @extra queues to tiers 0..@n-1 in proportion to w[], largest
 * remainder first; cnt[] holds each tier's queues.
 */
static inline void qv_qmap_share(u32 *cnt, const u64 *w, u32 n, u32 extra)
{
	u64 rem[QV_SPPIFO_MAX], sum = 0;
	u32 t, best, given = 0;

	for (t = 0; t < n; t++)
		sum += w[t];
	for (t = 0; t < n; t++) {
		cnt[t] += (u32)qv_div64(w[t] * extra, sum);
		given += (u32)qv_div64(w[t] * extra, sum);
		rem[t] = w[t] * extra - qv_div64(w[t] * extra, sum) * sum;
	}
	while (given < extra) {
		best = 0;
		for (t = 1; t < n; t++)
			if (rem[t] > rem[best])
				best = t;
		cnt[best]++;
		rem[best] = 0;
		given++;
	}
}

/* Build the map of @nq queues for a synthesis (groups @grp, @tiers tiers).
 * Returns 0, or -EINVAL with e->msg set (e->val = the named tiers) when
 * the tiers do not fit and @partial is false.
 */
static inline int qv_qmap_build(struct qv_qmap *m, const struct qv_group *grp,
				u32 ngrp, u32 tiers, u32 nq, bool partial,
				struct qv_err *e)
{
	u32 cnt[QV_SPPIFO_MAX], named, t, own;
	u64 w[QV_SPPIFO_MAX];

	if (nq < 1 || nq > QV_SPPIFO_MAX || tiers < 1)
		return qv_fail(e, "Queue map needs 1 to 32 queues", 0, nq);
	m->nq = nq;
	m->tiers = tiers;
	named = tiers - 1;
	if (named > nq && !partial)
		return qv_fail(e,
			       "More strict tiers than sppifo queues: add queues or set partial",
			       0, named);
	if (named == 0 || named >= nq) {
		/* one queue per tier; the last range takes what is left */
		m->mapped = named == 0 ? 1 : nq;
		for (t = 0; t < m->mapped; t++)
			m->first[t] = (u8)t;
		m->first[m->mapped] = (u8)nq;
		return 0;
	}
	/* Q > N: named tiers by width, the implicit tier one queue */
	own = named + 1;
	qv_qmap_widths(grp, ngrp, w);
	for (t = 0; t < named; t++)
		cnt[t] = 1;
	qv_qmap_share(cnt, w, named, nq - own);
	cnt[named] = 1;
	m->mapped = own;
	m->first[0] = 0;
	for (t = 0; t < own; t++)
		m->first[t + 1] = (u8)(m->first[t] + cnt[t]);
	return 0;
}

/* Properties P1..P6: bit n-1 = Pn holds, bit n-1+8 = Pn holds only
 * approximately (measured, not guaranteed); neither = does not hold.
 */
#define QV_PROP_HOLDS(n)	(1u << ((n) - 1))
#define QV_PROP_APPROX(n)	(1u << ((n) - 1 + 8))

static inline u32 qv_props(u32 backend, const struct qv_qmap *m, u32 tiers)
{
	u32 p = QV_PROP_HOLDS(3) | QV_PROP_HOLDS(5) | QV_PROP_HOLDS(6);

	switch (backend) {
	case QV_BACKEND_PIFO:
		return p | QV_PROP_HOLDS(1) | QV_PROP_HOLDS(2) |
		       QV_PROP_HOLDS(4);
	case QV_BACKEND_SPPIFO:
		p |= QV_PROP_APPROX(2) | QV_PROP_APPROX(4);
		return p | (m->mapped >= m->tiers ? QV_PROP_HOLDS(1) :
						    QV_PROP_APPROX(1));
	case QV_BACKEND_AIFO:
		p |= QV_PROP_APPROX(2);
		break;
	}
	/* one FIFO: strict tiers only when there is a single tier */
	return p | (tiers <= 1 ? QV_PROP_HOLDS(1) : 0);
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

#endif
