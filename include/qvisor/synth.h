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
 * When the joint space needs more ranks than there are buckets, every
 * group's width is scaled down by one common factor (the largest that
 * fits; each group keeps at least one rank).  Tiers stay disjoint, so P1
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
};

/* One sharing group; the caller provides room for npol + 2 of them */
struct qv_group {
	u32	want;		/* widest levels among members */
	u32	width;		/* after scaling */
	u32	offset;
	u16	tier;
	u16	level;
};

struct qv_synth {
	/* in */
	const struct qv_policy		*pol;
	const struct qv_tenant_spec	*spec;
	u32				nspec;
	u32				buckets;
	u32				overlap;	/* percent 0..100 */
	struct qv_group			*grp;		/* npol + 2 entries */
	/* out: xf[nspec] is the implicit tenant, so nspec + 1 entries */
	struct qv_xform			*xf;
	u32				width;		/* joint ranks used */
	u32				tiers;		/* incl. the extra ones */
	u32				ngrp;
	u32				scale;		/* 65536 = 1.0 */
};

static inline u32 qv_xform_apply(const struct qv_xform *x, u32 rank)
{
	u64 q, j;
	u32 c;

	if (rank < x->lo)
		rank = x->lo;
	else if (rank > x->hi)
		rank = x->hi;
	c = rank - x->lo;
	q = ((u64)c * x->mult_q) >> 32;
	if (q >= x->levels)
		q = x->levels - 1;
	j = (q * x->mult_w) >> 32;
	if (j >= x->width)
		j = x->width - 1;
	return x->offset + (u32)j;
}

static inline u64 qv_mult_ceil(u64 num, u64 den)
{
	return qv_div64((num << 32) + den - 1, den);
}

static inline u32 qv_spec_levels(const struct qv_tenant_spec *t)
{
	u64 span = (u64)t->hi - t->lo + 1;
	u32 l = t->levels ? t->levels : 1;

	return span < l ? (u32)span : l;
}

/* Group index of tenant k: policy groups are numbered in policy order,
 * then the "unnamed" group, then the implicit tenant's group.
 */
static inline u32 qv_group_of(const struct qv_synth *s, const u32 *pol_grp,
			      s32 pol_idx)
{
	if (pol_idx >= 0)
		return pol_grp[pol_idx];
	return s->ngrp - 2;
}

static inline u32 qv_scaled(u32 want, u32 scale)
{
	u64 w = ((u64)want * scale) >> 16;

	return w ? (u32)w : 1;
}

/* Lay out the groups with a given scale; returns the joint width needed */
static inline u64 qv_layout(struct qv_synth *s, u32 scale)
{
	u64 tier_base = 0, tier_end = 0, lvl_off = 0;
	struct qv_group *g, *prev = NULL;
	u32 k;

	for (k = 0; k < s->ngrp; k++) {
		g = &s->grp[k];
		if (!g->want) {		/* empty group: takes no room */
			g->width = 0;
			continue;
		}
		g->width = qv_scaled(g->want, scale);
		if (!prev || g->tier != prev->tier) {
			tier_base = tier_end;
			lvl_off = 0;
		} else if (g->level != prev->level) {
			lvl_off += prev->width -
				   (u64)prev->width * s->overlap / 100;
		}
		g->offset = (u32)(tier_base + lvl_off);
		if (g->offset + (u64)g->width > tier_end)
			tier_end = g->offset + (u64)g->width;
		prev = g;
	}
	return tier_end;
}

static inline void qv_make_xform(struct qv_xform *x,
				 const struct qv_tenant_spec *t,
				 const struct qv_group *g)
{
	u64 span = (u64)t->hi - t->lo + 1;

	x->lo = t->lo;
	x->hi = t->hi;
	x->levels = qv_spec_levels(t);
	x->width = g->width;
	x->offset = g->offset;
	x->tier = g->tier;
	x->level = g->level;
	x->mult_q = qv_mult_ceil(x->levels, span);
	x->mult_w = qv_mult_ceil(x->width, x->levels);
}

/* Number the policy's groups into pol_grp[] and fill s->grp[] */
static inline void qv_make_groups(struct qv_synth *s, u32 *pol_grp)
{
	const struct qv_policy *p = s->pol;
	u32 k, n = 0, tiers = p ? p->tiers : 0;

	for (k = 0; p && k < p->n; k++) {
		if (k == 0 || p->ent[k].tier != p->ent[k - 1].tier ||
		    p->ent[k].level != p->ent[k - 1].level) {
			s->grp[n].tier = p->ent[k].tier;
			s->grp[n].level = p->ent[k].level;
			s->grp[n].want = 0;
			n++;
		}
		pol_grp[k] = n - 1;
	}
	s->grp[n].tier = (u16)tiers;	/* tenants the policy does not name */
	s->grp[n].level = 0;
	s->grp[n].want = 0;
	s->grp[n + 1].tier = (u16)(tiers + 1);	/* implicit tenant */
	s->grp[n + 1].level = 0;
	s->grp[n + 1].want = 1;
	s->ngrp = n + 2;
}

/* Count the tiers that actually hold a tenant, renumbering them densely */
static inline u32 qv_compact_tiers(struct qv_synth *s)
{
	u32 k, tiers = 0;
	int last = -1;

	for (k = 0; k < s->ngrp; k++) {
		if (!s->grp[k].want)
			continue;
		if ((int)s->grp[k].tier != last) {
			last = s->grp[k].tier;
			tiers++;
		}
		s->grp[k].tier = (u16)(tiers - 1);
	}
	return tiers;
}

/* Find the largest scale (16.16) whose layout fits in the buckets */
static inline int qv_fit(struct qv_synth *s, struct qv_err *e)
{
	u32 lo = 0, hi = 65536, mid;

	if (qv_layout(s, 65536) <= s->buckets) {
		s->scale = 65536;
		return 0;
	}
	if (qv_layout(s, 0) > s->buckets)
		return qv_fail(e, "Policy needs more joint ranks than buckets",
			       0, (u32)qv_layout(s, 0));
	while (lo < hi) {
		mid = lo + (hi - lo + 1) / 2;
		if (qv_layout(s, mid) <= s->buckets)
			lo = mid;
		else
			hi = mid - 1;
	}
	s->scale = lo;
	return 0;
}

/* pol_grp: scratch of pol->n entries.  Returns 0 or -EINVAL with e set. */
static inline int qv_synthesize(struct qv_synth *s, u32 *pol_grp,
				struct qv_err *e)
{
	struct qv_tenant_spec implicit = { .levels = 1, .pol_idx = -1 };
	const struct qv_tenant_spec *t;
	struct qv_group *g;
	u32 k;
	int err;

	if (s->overlap > 100)
		return qv_fail(e, "Overlap must be 0..100", 0, s->overlap);
	qv_make_groups(s, pol_grp);
	for (k = 0; k < s->nspec; k++) {
		t = &s->spec[k];
		if (t->lo > t->hi)
			return qv_fail(e, "Rank range has lo above hi",
				       0, t->minor);
		g = &s->grp[qv_group_of(s, pol_grp, t->pol_idx)];
		if (qv_spec_levels(t) > g->want)
			g->want = qv_spec_levels(t);
	}
	s->tiers = qv_compact_tiers(s);
	err = qv_fit(s, e);
	if (err)
		return err;
	s->width = (u32)qv_layout(s, s->scale);
	for (k = 0; k < s->nspec; k++) {
		t = &s->spec[k];
		g = &s->grp[qv_group_of(s, pol_grp, t->pol_idx)];
		qv_make_xform(&s->xf[k], t, g);
		s->xf[k].group = (u32)(g - s->grp);
	}
	qv_make_xform(&s->xf[s->nspec], &implicit, &s->grp[s->ngrp - 1]);
	s->xf[s->nspec].group = s->ngrp - 1;
	return 0;
}

#endif
