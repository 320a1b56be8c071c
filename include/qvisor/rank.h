/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * qvisor rank functions computed at the scheduler: las, stfq and edf.
 *
 * The joint bucket array is linear, not circular, so a rank must stay in
 * the tenant's declared range [lo, hi] to keep its meaning.  Tags that
 * grow without bound (a start tag, a deadline) are therefore given
 * relative to a per-tenant base that only moves forward when the tenant
 * has nothing queued:
 *
 *	rank = tag - base	(saturated to u32)
 *
 * Inside one busy period of the tenant (from the first packet queued to
 * the queue running empty) every queued packet was ranked against the same
 * base, so packets leave in exact tag order as long as the tags fit the
 * range; a tag beyond hi is clamped to hi by the tenant's transform (and
 * counted as clamped), and the clamped packets leave in arrival order
 * after the others.  Since tags of one flow never decrease and clamping
 * is monotone, a flow's own packets are never reordered.  When the queue
 * ran empty, the next packet moves the base to the tenant's current time.
 *
 * Time-like values are u64 and compared modulo 2^64 (qv_after()), so a
 * virtual time or clock that wraps around keeps its order, as long as the
 * values compared are less than 2^63 apart.
 *
 *  las	rank = bytes the flow sent through the qdisc before this packet
 *		(least attained service: pFabric without end-host help).
 *		No base: the count is absolute; a flow forgotten by the flow
 *		table (idle, or evicted) starts at 0 again.
 *  stfq	start-time fair queueing with equal flow weights: the tenant's
 *		virtual time V is the start tag of its last packet dequeued;
 *		a packet of flow f gets S = max(V, F_f) and F_f = S + len.
 *		rank = S - base, in bytes; base = V when the tenant was idle.
 *  edf	deadline = arrival time + budget (the tenant's, or the
 *		packet's own from skb->mark in microseconds); rank =
 *		deadline - base in microseconds; base = the arrival time of
 *		the first packet of the busy period.
 */
#ifndef _QVISOR_RANK_H
#define _QVISOR_RANK_H

#include "types.h"

#define QV_NSEC_PER_USEC	1000u
#define QV_FLOW_RANGE		0x100000u	/* las, stfq: 2^20 bytes */

/* Rank sources, numbered as QVISOR_RANK_* */
#define QV_RANK_PRIO		0
#define QV_RANK_MARK		1
#define QV_RANK_DSCP		2
#define QV_RANK_FIFO		3
#define QV_RANK_LAS		4
#define QV_RANK_STFQ		5
#define QV_RANK_EDF		6

/* The highest rank of a rank source's default range [0, hi] (its lowest
 * is 0): what the kernel and qvisorctl use when a tenant declares no
 * range.  @rank is a QVISOR_RANK_* value; mark ranges cover the mask
 * shifted down, edf 16 budgets in microseconds.
 */
static inline u32 qv_default_hi(u8 rank, u32 mark_mask, u64 edf_budget_ns)
{
	u64 us;

	switch (rank) {
	case QV_RANK_PRIO:
		return 255;
	case QV_RANK_MARK:
		return mark_mask ? mark_mask >> qv_ffs64(mark_mask) : 0;
	case QV_RANK_DSCP:
		return 63;
	case QV_RANK_LAS:
	case QV_RANK_STFQ:
		return QV_FLOW_RANGE - 1;
	case QV_RANK_EDF:
		us = qv_div64(edf_budget_ns, QV_NSEC_PER_USEC);
		us = (us ? us : 1) * 16;
		return (u32)((us < 0xffffffffull ? us : 0xffffffffull) - 1);
	default:	/* fifo */
		return 0;
	}
}

/* Whether a tenant of rank source @rank chooses its own ranks (P7): prio,
 * mark and dscp are read from the packet, and so is edf's budget with
 * mark_budget (@edf_mark); fifo, las, stfq and plain edf are computed by
 * the qdisc.  A rank an operator's filter writes (skbedit) counts as
 * chosen too: the qdisc cannot tell who wrote it.
 */
static inline bool qv_rank_chosen(u8 rank, bool edf_mark)
{
	return rank == QV_RANK_PRIO || rank == QV_RANK_MARK ||
	       rank == QV_RANK_DSCP || (rank == QV_RANK_EDF && edf_mark);
}

/* a after b, modulo 2^64 */
static inline bool qv_after(u64 a, u64 b)
{
	return (s64)(a - b) > 0;
}

static inline u64 qv_max_mod(u64 a, u64 b)
{
	return qv_after(a, b) ? a : b;
}

/* A difference a - b as a rank: 0 if b is after a, U32_MAX at most */
static inline u32 qv_rank_diff(u64 a, u64 b)
{
	s64 d = (s64)(a - b);

	if (d <= 0)
		return 0;
	return d > 0xffffffffLL ? 0xffffffffu : (u32)d;
}

/* Per-tenant state of the base-relative rank functions */
struct qv_rbase {
	u64	base;	/* tags are ranked relative to this */
	u64	vt;	/* stfq: virtual time (start tag of the last dequeued) */
};

/* las: rank of a packet of @len bytes of a flow that attained @*bytes */
static inline u32 qv_las_rank(u64 *bytes, u32 len)
{
	u64 a = *bytes;

	*bytes = a + len;
	return a > 0xffffffffULL ? 0xffffffffu : (u32)a;
}

/* stfq: value a new flow starts with (its finish tag) */
static inline u64 qv_stfq_init(const struct qv_rbase *r)
{
	return r->vt;
}

/* stfq: rank of a packet of @len bytes of a flow whose finish tag is
 * @*finish; @idle says the tenant has nothing queued.
 */
static inline u32 qv_stfq_rank(struct qv_rbase *r, u64 *finish, u32 len,
			       bool idle)
{
	u64 s;

	if (idle)
		r->base = r->vt;
	s = qv_max_mod(r->vt, *finish);
	*finish = s + len;
	return qv_rank_diff(s, r->base);
}

/* stfq: a packet of rank @rank left; the virtual time follows its start
 * tag (never backwards; a saturated rank gives a lower bound).
 */
static inline void qv_stfq_dequeued(struct qv_rbase *r, u32 rank)
{
	r->vt = qv_max_mod(r->vt, r->base + rank);
}

/* edf: rank in microseconds of a packet arriving at @now (ns) with a
 * deadline budget of @budget_ns; @idle says the tenant has nothing queued.
 */
static inline u32 qv_edf_rank(struct qv_rbase *r, u64 now, u64 budget_ns,
			      bool idle)
{
	u64 d;

	if (idle || qv_after(r->base, now))
		r->base = now;
	d = now - r->base;
	if (budget_ns > ~0ULL - d)
		return 0xffffffffu;
	d = qv_div64(d + budget_ns, QV_NSEC_PER_USEC);
	return d > 0xffffffffULL ? 0xffffffffu : (u32)d;
}

#endif
