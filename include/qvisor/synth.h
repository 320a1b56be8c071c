/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * qvisor synthesizer: turns the operator policy and each tenant's declared
 * rank range into per-tenant rank transforms onto one joint rank space.
 *
 * A tenant's transform (applied per packet, O(1), no division):
 *	c = clamp(rank, lo, hi) - lo		0 .. span-1
 *	q = c * levels / span			its own quantization, 0 .. levels-1
 *	j = q * width / levels			normalized to its group's width
 *	joint = offset + j
 * The two scalings use 32.32 fixed-point multipliers rounded up, so they
 * are exact for spans below 2^16 and monotone always, and are clamped to
 * their last step.
 *
 * Placement:
 *  - a sharing group ('+') is the tenants of one (tier, level); all share
 *    one joint interval of width W = the largest levels among them, so a
 *    tenant ranking in [0,15] and one ranking in [1000,50000] land on the
 *    same joint ranks (P6) and interleave;
 *  - the levels of a tier ('>') start at increasing offsets: level l+1
 *    starts where level l's interval still has overlap% of its width left,
 *    so the preferred level wins ties at the top while the other is never
 *    starved (P2); overlap 0 makes them disjoint, 100 makes them equal;
 *  - strict tiers ('>>') are disjoint intervals stacked in policy order,
 *    so every rank of tier t is below every rank of tier t+1 (P1);
 *  - tenants that the policy does not name form one more tier after the
 *    policy's, and the implicit best-effort tenant (packets of no class)
 *    one last tier of width 1.
 *  - a nested group ("(1 >> 2) + 3") is one member of its sharing group
 *    and spans the group's whole interval like any member (P6); inside,
 *    its own tiers, levels and sharing groups are laid out as above at
 *    their natural widths and then stretched over that interval (offsets
 *    and ends scaled by interval / natural width, rounded down), so the
 *    order inside the group is kept: its strict tiers stay disjoint, its
 *    preferred levels keep their overlap;
 * When the joint space needs more ranks than there are buckets, every
 * group's width is scaled down by one common factor (the largest that
 * fits; each group keeps at least one rank, and a group with a nested
 * member at least that member's natural width, so nesting never loses its
 * tiers).  Tiers stay disjoint, so P1
 * holds at any size; only resolution inside a tier is lost.
 */
#ifndef _QVISOR_SYNTH_H
#define _QVISOR_SYNTH_H

#include "types.h"
#include "policy.h"

/* What the operator declared for one tenant */
struct qv_tenant_spec {
	u32	minor;
	u32	lo;
	u32	hi;
	u32	levels;
	s32	pol_idx;	/* index in the policy, -1 if not named */
	u32	autorange;	/* range auto: levels not limited by the
				 * span of [lo, hi] (qvisor/rauto.h)
				 */
	u32	chosen;		/* the tenant chooses its ranks
				 * (qv_rank_chosen()): P7, qv_props_gaming()
				 */
};

/* The synthesized transform of one tenant */
struct qv_xform {
	u32	lo;
	u32	hi;
	u64	mult_q;		/* ceil(levels * 2^32 / span) */
	u64	mult_w;		/* ceil(width * 2^32 / levels) */
	u32	levels;		/* effective: min(declared, span) */
	u32	offset;		/* first joint rank */
	u32	width;		/* joint ranks spanned */
	u32	group;		/* index of its sharing group in grp[] */
	u16	tier;
	u16	level;
	u16	nest;		/* its top-level nested group, 0: none */
};

/* One sharing group; the caller provides room for npol + 2 of them */
struct qv_group {
	u32	want;		/* widest levels among members */
	u32	min;		/* never scaled below: a nested member's */
	u32	width;		/* after scaling */
	u32	offset;
	u16	tier;
	u16	level;
};

/* Where one policy entry of a nested group lands (scratch, one per entry) */
struct qv_place {
	u32	want;		/* its tenant's levels, 0 without a class */
	u32	offset;
	u32	width;
};

struct qv_synth {
	/* in */
	const struct qv_policy		*pol;
	const struct qv_tenant_spec	*spec;
	u32				nspec;
	u32				buckets;
	u32				overlap;	/* percent 0..100 */
	struct qv_group			*grp;		/* npol + 2 entries */
	struct qv_place			*place;		/* npol entries, needed
							 * with nested groups
							 */
	/* out: xf[nspec] is the implicit tenant, so nspec + 1 entries */
	struct qv_xform			*xf;
	u32				width;		/* joint ranks used */
	u32				tiers;		/* incl. the extra ones */
	u32				ngrp;
	u32				scale;		/* 65536 = 1.0 */
};

/* The joint rank of level @q (0 .. levels - 1) of the tenant */
static inline u32 qv_xform_place(const struct qv_xform *x, u64 q)
{
	u64 j;

	if (q >= x->levels)
		q = x->levels - 1;
	j = (q * x->mult_w) >> 32;
	if (j >= x->width)
		j = x->width - 1;
	return x->offset + (u32)j;
}

static inline u32 qv_xform_apply(const struct qv_xform *x, u32 rank)
{
	u32 c;

	if (rank < x->lo)
		rank = x->lo;
	else if (rank > x->hi)
		rank = x->hi;
	c = rank - x->lo;
	return qv_xform_place(x, ((u64)c * x->mult_q) >> 32);
}

static inline u64 qv_mult_ceil(u64 num, u64 den)
{
	return qv_div64((num << 32) + den - 1, den);
}

u64 qv_layout(struct qv_synth *s, u32 scale);
int qv_synthesize(struct qv_synth *s, u32 *pol_grp,
		  struct qv_err *e);

/* One step of an entry's way down the nested groups it is in: the '+'
 * level it reaches inside the group (the levels inside nested groups
 * numbered over the whole policy, in group order) and the member of that
 * level it belongs to (a nested group, or 0: the entry itself).
 */
struct qv_pol_step {
	u16	level;
	u16	member;
};

u32 qv_pol_steps(const struct qv_policy *p, struct qv_pol_step *steps,
		 u8 *depth);

#endif
