// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * qvisor synthesizer: where the policy is turned into per-tenant rank
 * transforms onto the joint rank space (see qvisor/synth.h).
 */

#include "qvisor/synth.h"

static u32 qv_spec_levels(const struct qv_tenant_spec *t)
{
	u64 span = (u64)t->hi - t->lo + 1;
	u32 l = t->levels ? t->levels : 1;

	if (t->autorange)
		return l;
	return span < l ? (u32)span : l;
}

/* Group index of tenant k: policy groups are numbered in policy order,
 * then the "unnamed" group, then the implicit tenant's group.
 */
static u32 qv_group_of(const struct qv_synth *s, const u32 *pol_grp,
		       s32 pol_idx)
{
	if (pol_idx >= 0)
		return pol_grp[pol_idx];
	return s->ngrp - 2;
}

static u32 qv_scaled(const struct qv_group *g, u32 scale)
{
	u64 w = ((u64)g->want * scale) >> 16;

	if (w < g->min)
		return g->min;
	return w ? (u32)w : 1;
}

/* Lay out the groups with a given scale; returns the joint width needed */
u64 qv_layout(struct qv_synth *s, u32 scale)
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
		g->width = qv_scaled(g, scale);
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

static void qv_make_xform(struct qv_xform *x,
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

static u32 qv_nest_layout(struct qv_synth *s, u32 scope, u32 off, u32 width,
			  bool place);

/* Natural width of the member of @scope at entry @k */
static u32 qv_nest_want(struct qv_synth *s, u32 scope, u32 k)
{
	u32 g = qv_pol_member(s->pol, k, scope);

	return g ? qv_nest_layout(s, g, 0, 0, false) : s->place[k].want;
}

/* Place the member of @scope at entry @k on [off, off + width) */
static void qv_nest_put(struct qv_synth *s, u32 scope, u32 k, u32 off,
			u32 width)
{
	u32 g = qv_pol_member(s->pol, k, scope);

	if (g) {
		qv_nest_layout(s, g, off, width, true);
		return;
	}
	s->place[k].offset = off;
	s->place[k].width = width;
}

static u32 qv_nest_skip(const struct qv_policy *p, u32 scope, u32 k)
{
	u32 g = qv_pol_member(p, k, scope);

	return g ? p->grp[g - 1].end : k + 1;
}

/* Lay out nested group @scope as qv_layout() does the policy, at natural
 * widths; returns its natural width.  With @place, stretch that layout
 * over [off, off + width) (width at least the natural one) and write each
 * entry's place.  Recursion is bounded by QV_POLICY_MAX_NEST.
 */
static u32 qv_nest_layout(struct qv_synth *s, u32 scope, u32 off, u32 width,
			  bool place)
{
	const struct qv_policy *p = s->pol;
	const struct qv_pol_grp *G = &p->grp[scope - 1];
	u64 tier_base = 0, tier_end = 0, lvl_off = 0, a, b;
	u32 k, j, w, pw = 0, total = 0, pt = 0, pl = 0;
	bool first = true;

	if (place)
		total = qv_nest_layout(s, scope, 0, 0, false);
	for (k = G->first; k < G->end; k = j) {
		u16 t = qv_pol_tier(p, k, scope);
		u16 l = qv_pol_level(p, k, scope);

		/* one sharing level: members [k, j) */
		w = 0;
		for (j = k; j < G->end && qv_pol_tier(p, j, scope) == t &&
		     qv_pol_level(p, j, scope) == l;
		     j = qv_nest_skip(p, scope, j)) {
			u32 mw = qv_nest_want(s, scope, j);

			if (mw > w)
				w = mw;
		}
		if (!w)
			continue;
		if (first || t != pt) {
			tier_base = tier_end;
			lvl_off = 0;
		} else if (l != pl) {
			lvl_off += pw - (u64)pw * s->overlap / 100;
		}
		a = tier_base + lvl_off;
		if (a + w > tier_end)
			tier_end = a + w;
		first = false;
		pt = t;
		pl = l;
		pw = w;
		if (!place || !total)
			continue;
		b = off + qv_div64((a + w) * width, total);
		a = off + qv_div64(a * width, total);
		for (j = k; j < G->end && qv_pol_tier(p, j, scope) == t &&
		     qv_pol_level(p, j, scope) == l;
		     j = qv_nest_skip(p, scope, j))
			qv_nest_put(s, scope, j, (u32)a, (u32)(b - a));
	}
	return (u32)tier_end;
}

/* A tenant inside a nested group */
static bool qv_nested(const struct qv_synth *s, const struct qv_tenant_spec *t)
{
	return t->pol_idx >= 0 && s->pol->ent[t->pol_idx].group;
}

/* Each top-level nested group's natural width is a want of its sharing
 * group, and the least width that group may be scaled to
 */
static void qv_nest_wants(struct qv_synth *s, const u32 *pol_grp)
{
	const struct qv_policy *p = s->pol;
	struct qv_group *g;
	u32 k, w;

	for (k = 0; p && k < p->ngrp; k++) {
		if (p->grp[k].parent)
			continue;
		w = qv_nest_layout(s, k + 1, 0, 0, false);
		g = &s->grp[pol_grp[p->grp[k].first]];
		if (w > g->want)
			g->want = w;
		if (w > g->min)
			g->min = w;
	}
}

/* Stretch each top-level nested group over its sharing group's interval */
static void qv_nest_place(struct qv_synth *s, const u32 *pol_grp)
{
	const struct qv_policy *p = s->pol;
	const struct qv_group *g;
	u32 k;

	for (k = 0; p && k < p->ngrp; k++) {
		if (p->grp[k].parent)
			continue;
		g = &s->grp[pol_grp[p->grp[k].first]];
		qv_nest_layout(s, k + 1, g->offset, g->width, true);
	}
}

/* Number the policy's groups into pol_grp[] and fill s->grp[] */
static void qv_make_groups(struct qv_synth *s, u32 *pol_grp)
{
	const struct qv_policy *p = s->pol;
	u32 k, n = 0, tiers = p ? p->tiers : 0;

	for (k = 0; p && k < p->n; k++) {
		if (k == 0 || qv_pol_tier(p, k, 0) != qv_pol_tier(p, k - 1, 0) ||
		    qv_pol_level(p, k, 0) != qv_pol_level(p, k - 1, 0)) {
			s->grp[n].tier = qv_pol_tier(p, k, 0);
			s->grp[n].level = qv_pol_level(p, k, 0);
			s->grp[n].want = 0;
			s->grp[n].min = 0;
			n++;
		}
		pol_grp[k] = n - 1;
	}
	s->grp[n].tier = (u16)tiers;	/* tenants the policy does not name */
	s->grp[n].level = 0;
	s->grp[n].want = 0;
	s->grp[n].min = 0;
	s->grp[n + 1].min = 0;
	s->grp[n + 1].tier = (u16)(tiers + 1);	/* implicit tenant */
	s->grp[n + 1].level = 0;
	s->grp[n + 1].want = 1;
	s->ngrp = n + 2;
}

/* Count the tiers that actually hold a tenant, renumbering them densely */
static u32 qv_compact_tiers(struct qv_synth *s)
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
static int qv_fit(struct qv_synth *s, struct qv_err *e)
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
int qv_synthesize(struct qv_synth *s, u32 *pol_grp,
		  struct qv_err *e)
{
	struct qv_tenant_spec implicit = { .levels = 1, .pol_idx = -1 };
	const struct qv_tenant_spec *t;
	struct qv_group *g;
	u32 k;
	int err;

	if (s->overlap > 100)
		return qv_fail(e, "Overlap must be 0..100", 0, s->overlap);
	if (s->pol && s->pol->ngrp && !s->place)
		return qv_fail(e, "Nested groups need room to be placed", 0, 0);
	qv_make_groups(s, pol_grp);
	for (k = 0; s->pol && s->pol->ngrp && k < s->pol->n; k++)
		s->place[k].want = 0;
	for (k = 0; k < s->nspec; k++) {
		t = &s->spec[k];
		if (t->lo > t->hi)
			return qv_fail(e, "Rank range has lo above hi",
				       0, t->minor);
		if (qv_nested(s, t)) {
			s->place[t->pol_idx].want = qv_spec_levels(t);
			continue;
		}
		g = &s->grp[qv_group_of(s, pol_grp, t->pol_idx)];
		if (qv_spec_levels(t) > g->want)
			g->want = qv_spec_levels(t);
	}
	qv_nest_wants(s, pol_grp);
	s->tiers = qv_compact_tiers(s);
	err = qv_fit(s, e);
	if (err)
		return err;
	s->width = (u32)qv_layout(s, s->scale);
	qv_nest_place(s, pol_grp);
	for (k = 0; k < s->nspec; k++) {
		t = &s->spec[k];
		g = &s->grp[qv_group_of(s, pol_grp, t->pol_idx)];
		qv_make_xform(&s->xf[k], t, g);
		s->xf[k].group = (u32)(g - s->grp);
		s->xf[k].nest = 0;
		if (qv_nested(s, t)) {
			s->xf[k].nest = (u16)qv_pol_member(s->pol, t->pol_idx, 0);
			s->xf[k].offset = s->place[t->pol_idx].offset;
			s->xf[k].width = s->place[t->pol_idx].width;
			s->xf[k].mult_w = qv_mult_ceil(s->xf[k].width,
						       s->xf[k].levels);
		}
	}
	qv_make_xform(&s->xf[s->nspec], &implicit, &s->grp[s->ngrp - 1]);
	s->xf[s->nspec].nest = 0;
	s->xf[s->nspec].group = s->ngrp - 1;
	return 0;
}

/* The levels inside nested groups and each entry's way through them:
 * entry @k's steps are @steps[k * QV_POLICY_MAX_NEST + i], i < @depth[k],
 * from its top-level group inward (the levels of the policy's top are
 * the synthesizer's groups).  A level's members are consecutive entries
 * of its group, so a scan of each group numbers its levels; groups come
 * parent first.  Returns the number of levels; O(entries x depth^2).
 */
u32 qv_pol_steps(const struct qv_policy *p, struct qv_pol_step *steps,
		 u8 *depth)
{
	u32 g, k, n = 0;
	u16 t, l;

	for (k = 0; k < p->n; k++)
		depth[k] = 0;
	for (g = 1; g <= p->ngrp; g++) {
		const struct qv_pol_grp *pg = &p->grp[g - 1];

		for (k = pg->first; k < pg->end; k++) {
			t = qv_pol_tier(p, k, g);
			l = qv_pol_level(p, k, g);
			if (k == pg->first || t != qv_pol_tier(p, k - 1, g) ||
			    l != qv_pol_level(p, k - 1, g))
				n++;
			if (depth[k] >= QV_POLICY_MAX_NEST)
				continue;
			steps[k * QV_POLICY_MAX_NEST + depth[k]].level =
				(u16)(n - 1);
			steps[k * QV_POLICY_MAX_NEST + depth[k]].member =
				(u16)qv_pol_member(p, k, g);
			depth[k]++;
		}
	}
	return n;
}
