/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Shared by test_synth.c and the fuzz targets: a policy + specs + synth
 * bundle, and the property checks (P1 order, fit, monotonicity, clamping).
 * Checks report through a callback so that the unit test can count them and
 * the fuzzer can abort.
 */
#ifndef _QVISOR_SYNTH_UTIL_H
#define _QVISOR_SYNTH_UTIL_H

#include <qvisor/policy.h>
#include <qvisor/synth.h>
#include <stdio.h>
#include <string.h>

#define SU_MAXT 256		/* tenants (policy entries + unnamed) */
#define SU_MAXS 64		/* rank samples per transform */

struct su {
	struct qv_pol_ent	ent[SU_MAXT];
	struct qv_pol_grp	pgrp[SU_MAXT];	/* su_parse_groups() */
	struct qv_place		place[SU_MAXT];
	struct qv_policy	pol;
	struct qv_tenant_spec	spec[SU_MAXT];
	struct qv_group		grp[SU_MAXT + 2];
	struct qv_xform		xf[SU_MAXT + 1];
	u32			pol_grp[SU_MAXT];
	struct qv_synth		s;
	struct qv_err		e;
	u32			nspec;
	int			has_pol;
};

/* A failed property: prints and counts; the fuzzer sets su_fatal */
static int su_fails, su_fatal;
static char su_msg[512];

#define SU_CHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			su_fails++;					\
			snprintf(su_msg, sizeof(su_msg), __VA_ARGS__);	\
			if (su_fatal) {					\
				fprintf(stderr, "%s:%d: %s\n", __FILE__, \
					__LINE__, su_msg);		\
				__builtin_trap();			\
			}						\
		}							\
	} while (0)

static inline int su_parse(struct su *u, const char *pol)
{
	u->pol.ent = u->ent;
	u->pol.cap = SU_MAXT;
	u->has_pol = pol != NULL;
	u->nspec = 0;
	if (!pol)
		return 0;
	return qv_policy_parse(&u->pol, pol, (u32)strlen(pol), &u->e);
}

/* The same with room for nested groups (the properties checked by
 * su_check_all() are those of a flat policy)
 */
static inline int su_parse_groups(struct su *u, const char *pol)
{
	u->pol.ent = u->ent;
	u->pol.cap = SU_MAXT;
	u->has_pol = pol != NULL;
	u->nspec = 0;
	qv_policy_start(&u->pol, u->pgrp, SU_MAXT);
	if (!pol)
		return 0;
	return qv_policy_parse_groups(&u->pol, u->pgrp, SU_MAXT, pol,
				      (u32)strlen(pol), &u->e);
}

static inline s32 su_pol_idx(const struct su *u, u32 minor)
{
	u32 k;

	for (k = 0; u->has_pol && k < u->pol.n; k++)
		if (u->ent[k].minor == minor)
			return (s32)k;
	return -1;
}

static inline void su_add(struct su *u, u32 minor, u32 lo, u32 hi, u32 levels)
{
	struct qv_tenant_spec *t = &u->spec[u->nspec++];

	t->minor = minor;
	t->lo = lo;
	t->hi = hi;
	t->levels = levels;
	t->pol_idx = su_pol_idx(u, minor);
	t->autorange = 0;
	t->chosen = 0;
}

static inline int su_synth(struct su *u, u32 buckets, u32 overlap)
{
	memset(&u->s, 0, sizeof(u->s));
	memset(&u->e, 0, sizeof(u->e));
	u->s.pol = u->has_pol ? &u->pol : NULL;
	u->s.spec = u->spec;
	u->s.nspec = u->nspec;
	u->s.buckets = buckets;
	u->s.overlap = overlap;
	u->s.grp = u->grp;
	u->s.place = u->place;
	u->s.xf = u->xf;
	return qv_synthesize(&u->s, u->pol_grp, &u->e);
}

/* Strict order class of tenant k (k == nspec: the implicit tenant):
 * the policy tier, then the unnamed ones, then the implicit one.
 */
static inline u64 su_ord(const struct su *u, u32 k)
{
	if (k == u->nspec)
		return 1ull << 33;
	if (u->spec[k].pol_idx < 0)
		return 1ull << 32;
	return u->ent[u->spec[k].pol_idx].tier;
}

static inline u32 su_lo(const struct su *u, u32 k)
{
	return k == u->nspec ? 0 : u->spec[k].lo;
}

static inline u32 su_hi(const struct su *u, u32 k)
{
	return k == u->nspec ? 0 : u->spec[k].hi;
}

/* Reference transform with exact arithmetic (128-bit) */
static inline void su_ref(const struct qv_xform *x, u32 rank, u64 *qref,
			  u64 *jref)
{
	u64 span = (u64)x->hi - x->lo + 1, c;

	if (rank < x->lo)
		rank = x->lo;
	if (rank > x->hi)
		rank = x->hi;
	c = rank - x->lo;
	*qref = (u64)((unsigned __int128)c * x->levels / span);
	*jref = *qref * x->width / x->levels;
}

/* Minimal joint width any layout needs (every group at width 1): per
 * strict class, one rank per distinct non-empty level (overlap 100: one)
 */
static inline u64 su_min_width(const struct su *u)
{
	static u64 key[SU_MAXT + 1];
	u32 k, n = 0, i;
	u64 total = 0;

	for (k = 0; k <= u->nspec; k++) {
		u64 lvl = k < u->nspec && u->spec[k].pol_idx >= 0 ?
			  u->ent[u->spec[k].pol_idx].level : 0;
		u64 v = su_ord(u, k) << 20 | lvl;

		/* insertion sort */
		for (i = n++; i && key[i - 1] > v; i--)
			key[i] = key[i - 1];
		key[i] = v;
	}
	for (k = 0; k < n; k++) {
		if (k && key[k] == key[k - 1])
			continue;	/* same group */
		if (k && u->s.overlap == 100 &&
		    key[k] >> 20 == key[k - 1] >> 20)
			continue;	/* same class, levels stacked */
		total++;
	}
	return total;
}

/* Check one transform on a few ranks: range, monotonicity, clamping, and
 * closeness to the exact reference.  samples: sorted ranks to try.
 */
static inline void su_check_xform(const struct su *u, u32 k,
				  const u32 *samples, u32 ns)
{
	const struct qv_xform *x = &u->xf[k];
	u32 i, prev = 0, j;
	u64 qr, jr;

	SU_CHECK(x->lo == su_lo(u, k) && x->hi == su_hi(u, k),
		 "tenant %u: range copied wrong", k);
	SU_CHECK(x->width >= 1 && x->levels >= 1, "tenant %u: width %u levels %u",
		 k, x->width, x->levels);
	SU_CHECK((u64)x->offset + x->width <= u->s.width,
		 "tenant %u: [%u,+%u) beyond joint width %u", k, x->offset,
		 x->width, u->s.width);
	/* clamping */
	SU_CHECK(qv_xform_apply(x, 0) == qv_xform_apply(x, x->lo),
		 "tenant %u: rank 0 not clamped to lo", k);
	SU_CHECK(qv_xform_apply(x, 0xffffffffu) == qv_xform_apply(x, x->hi),
		 "tenant %u: rank max not clamped to hi", k);
	SU_CHECK(qv_xform_apply(x, x->lo) == x->offset,
		 "tenant %u: lo maps to %u, not offset %u", k,
		 qv_xform_apply(x, x->lo), x->offset);
	for (i = 0; i < ns; i++) {
		j = qv_xform_apply(x, samples[i]);
		SU_CHECK(j >= x->offset && j - x->offset < x->width,
			 "tenant %u: rank %u -> %u outside [%u,+%u)", k,
			 samples[i], j, x->offset, x->width);
		SU_CHECK(i == 0 || j >= prev,
			 "tenant %u: not monotone: rank %u -> %u < %u", k,
			 samples[i], j, prev);
		su_ref(x, samples[i], &qr, &jr);
		/* exact for spans below 2^16; otherwise never below the
		 * exact value, and above it by at most one quantization step
		 * (rounded-up mult_q) plus one joint rank (rounded-up mult_w)
		 */
		if ((u64)x->hi - x->lo + 1 < 65536) {
			SU_CHECK(j - x->offset == jr,
				 "tenant %u: rank %u -> +%u, exact +%llu", k,
				 samples[i], j - x->offset,
				 (unsigned long long)jr);
		} else {
			u64 jr1 = (qr + 1 < x->levels ? qr + 1 : qr) *
				  x->width / x->levels;

			SU_CHECK(j - x->offset >= jr &&
				 j - x->offset <= jr1 + 1,
				 "tenant %u: rank %u -> +%u, exact +%llu", k,
				 samples[i], j - x->offset,
				 (unsigned long long)jr);
		}
		prev = j;
	}
}

/* Everything that must hold after a successful synthesis */
static inline void su_check_all(struct su *u, const u32 *raw, u32 ns)
{
	u32 k, m, a, b;
	u32 scale = u->s.scale;

	SU_CHECK(u->s.width <= u->s.buckets, "width %u > buckets %u",
		 u->s.width, u->s.buckets);
	SU_CHECK(u->s.width >= 1, "width 0");
	SU_CHECK(scale <= 65536, "scale %u", scale);
	/* the fit is the largest: one more step of scale would not fit */
	if (scale < 65536) {
		SU_CHECK(qv_layout(&u->s, scale + 1) > u->s.buckets,
			 "scale %u is not the largest that fits", scale);
		qv_layout(&u->s, scale);
	}
	/* ... and, when no tenant has more than 65536 levels (the kernel's
	 * cap), one scale step moves each group's width by at most one rank,
	 * so the fit leaves fewer unused buckets than there are groups
	 */
	if (scale < 65536) {
		u32 maxl = 0;

		for (k = 0; k < u->nspec; k++)
			if (u->xf[k].levels > maxl)
				maxl = u->xf[k].levels;
		if (maxl <= 65536)
			SU_CHECK((u64)u->s.width + u->s.ngrp > u->s.buckets,
				 "loose fit: width %u of %u buckets, %u groups",
				 u->s.width, u->s.buckets, u->s.ngrp);
	}
	/* P1: every joint rank of an earlier strict class is below every
	 * joint rank of a later one (transforms are monotone, so the ends
	 * suffice; monotonicity is checked separately)
	 */
	for (k = 0; k <= u->nspec; k++) {
		for (m = 0; m <= u->nspec; m++) {
			if (su_ord(u, k) >= su_ord(u, m))
				continue;
			a = qv_xform_apply(&u->xf[k], 0xffffffffu);
			b = qv_xform_apply(&u->xf[m], 0);
			SU_CHECK(a < b,
				 "P1: tenant %u (class %llu) max %u >= tenant %u (class %llu) min %u",
				 k, (unsigned long long)su_ord(u, k), a, m,
				 (unsigned long long)su_ord(u, m), b);
			SU_CHECK(u->xf[k].tier < u->xf[m].tier,
				 "tier numbers %u !< %u", u->xf[k].tier,
				 u->xf[m].tier);
		}
	}
	/* tenants of one sharing group share offset and width; preferred
	 * levels start no later (strictly earlier unless overlap is 100)
	 */
	for (k = 0; k < u->nspec; k++) {
		for (m = 0; m < u->nspec; m++) {
			s32 pk = u->spec[k].pol_idx, pm = u->spec[m].pol_idx;
			int same;

			if (su_ord(u, k) != su_ord(u, m))
				continue;
			same = pk < 0 || u->ent[pk].level == u->ent[pm].level;
			if (same) {
				SU_CHECK(u->xf[k].offset == u->xf[m].offset &&
					 u->xf[k].width == u->xf[m].width,
					 "group mates %u,%u differ", k, m);
			} else if (u->ent[pk].level < u->ent[pm].level) {
				SU_CHECK(u->s.overlap == 100 ?
					 u->xf[k].offset == u->xf[m].offset :
					 u->xf[k].offset < u->xf[m].offset,
					 "level order %u,%u", k, m);
			}
		}
	}
	for (k = 0; k <= u->nspec; k++) {
		u32 lo = su_lo(u, k), hi = su_hi(u, k), i, n = 0;
		u64 span = (u64)hi - lo + 1;
		u32 tmp[SU_MAXS + 8];

		/* the ends, their neighbours, the step boundaries of the
		 * first quantization steps, and the raw samples scaled in
		 */
		tmp[n++] = lo;
		tmp[n++] = hi;
		tmp[n++] = lo + (u32)(span > 1);
		tmp[n++] = hi - (u32)(span > 1);
		tmp[n++] = lo + (u32)(span / 2);
		if (k < u->nspec && u->xf[k].levels > 1) {
			u64 l = u->xf[k].levels;

			/* first rank of step 1 and the one before it */
			tmp[n++] = lo + (u32)((span + l - 1) / l);
			tmp[n++] = lo + (u32)((span + l - 1) / l) - 1;
			tmp[n++] = lo + (u32)(span - span / l);
		}
		for (i = 0; i < ns && i < SU_MAXS; i++)
			tmp[n++] = lo + (u32)(((u64)raw[i] * span) >> 32);
		for (i = 1; i < n; i++) {
			u32 v = tmp[i], p = i;

			while (p && tmp[p - 1] > v) {
				tmp[p] = tmp[p - 1];
				p--;
			}
			tmp[p] = v;
		}
		su_check_xform(u, k, tmp, n);
	}
	/* a tenant with the group's full resolution reaches its top */
	for (k = 0; k < u->nspec; k++) {
		const struct qv_xform *x = &u->xf[k];
		u32 want = 0;

		for (m = 0; m < u->nspec; m++)
			if (u->xf[m].offset == x->offset &&
			    u->xf[m].width == x->width &&
			    su_ord(u, m) == su_ord(u, k) &&
			    u->xf[m].levels > want)
				want = u->xf[m].levels;
		if (x->levels >= want)
			SU_CHECK(qv_xform_apply(x, x->hi) ==
				 x->offset + x->width - 1,
				 "tenant %u: hi maps to %u, not top %u", k,
				 qv_xform_apply(x, x->hi),
				 x->offset + x->width - 1);
	}
}

#endif
