// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * qvisor queue map: which FIFO queues of a queue backend each strict tier
 * gets, and which of the properties P1-P7 a backend keeps.
 */

#include "qvisor/qmap.h"

/* Joint ranks spanned by tiers 0..QV_SPPIFO_MAX-1 of a synthesis */
static void qv_qmap_widths(const struct qv_group *grp, u32 ngrp,
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
static void qv_qmap_share(u32 *cnt, const u64 *w, u32 n, u32 extra)
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
int qv_qmap_build(struct qv_qmap *m, const struct qv_group *grp,
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

/* Bit t: tier t has a range of its own in @m (not shared with the tiers
 * below it)
 */
static u32 qv_qmap_own(const struct qv_qmap *m)
{
	u32 n = m->mapped < m->tiers ? m->mapped - 1 : m->mapped;

	return n >= 32 ? ~0u : (1u << n) - 1;
}

u32 qv_qmap_lenders(const struct qv_qmap *base)
{
	u32 t, own = qv_qmap_own(base), r = 0;

	for (t = 0; t < base->mapped && t < 32; t++)
		if ((own & (1u << t)) && base->first[t + 1] - base->first[t] > 1)
			r |= 1u << t;
	return r;
}

u32 qv_qmap_lend(struct qv_qmap *out, const struct qv_qmap *base, u32 idle)
{
	u32 cnt[QV_SPPIFO_MAX + 1], t, pending = 0, lent = 0, above = 0;
	bool any = false;

	*out = *base;
	idle &= qv_qmap_own(base);
	if (!idle || base->mapped < 2)
		return 0;
	for (t = 0; t < base->mapped; t++) {
		cnt[t] = base->first[t + 1] - base->first[t];
		if (idle & (1u << t)) {
			if (cnt[t] > 1)
				lent |= 1u << t;
			pending += cnt[t] - 1;
			cnt[t] = 1;
		} else {
			cnt[t] += pending;
			pending = 0;
			above = t;
			any = true;
		}
	}
	if (!any || !lent) {
		*out = *base;
		return 0;
	}
	cnt[above] += pending;
	out->first[0] = 0;
	for (t = 0; t < base->mapped; t++)
		out->first[t + 1] = (u8)(out->first[t] + cnt[t]);
	return lent;
}

/* Where the packets of queue @i of map @from go under map @to: the queue
 * itself, or the first (@head) or last queue of its tier's new range
 */
static u32 qv_qmap_dest(const struct qv_qmap *from, const struct qv_qmap *to,
			u32 i, bool *head)
{
	u32 first, n;

	qv_qmap_range(to, qv_qmap_tier_of(from, i), &first, &n);
	*head = i < first;
	if (i < first)
		return first;
	if (i >= first + n)
		return first + n - 1;
	return i;
}

u32 qv_qmap_remap(struct qv_barray *ba, u32 *qcount,
		  const struct qv_qmap *from, const struct qv_qmap *to)
{
	struct qv_bucket out[QV_SPPIFO_MAX];
	u32 n[QV_SPPIFO_MAX], dest[QV_SPPIFO_MAX];
	u32 i, moved = 0, mask = 0;
	bool head;

	/* take the queues that move off first: a queue that receives may
	 * itself be one whose packets go elsewhere
	 */
	for (i = 0; i < from->nq; i++) {
		dest[i] = qv_qmap_dest(from, to, i, &head);
		if (dest[i] == i || !qcount[i])
			continue;
		out[i] = ba->b[i];
		n[i] = qcount[i];
		qv_ba_set(ba, i, NULL, NULL);
		qcount[i] = 0;
		mask |= 1u << i;
	}
	/* in front of a range: the lowest of them first ... */
	for (i = from->nq; i-- > 0;) {
		if (!(mask & (1u << i)) || dest[i] < i)
			continue;
		qv_ba_splice_in(ba, dest[i], out[i].head, out[i].tail, true);
		qcount[dest[i]] += n[i];
		moved += n[i];
	}
	/* ... behind a range: the highest of them first */
	for (i = 0; i < from->nq; i++) {
		if (!(mask & (1u << i)) || dest[i] > i)
			continue;
		qv_ba_splice_in(ba, dest[i], out[i].head, out[i].tail, false);
		qcount[dest[i]] += n[i];
		moved += n[i];
	}
	return moved;
}

u32 qv_props(u32 backend, const struct qv_qmap *m, u32 tiers)
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

/* Whether group @g or a group inside it has members of two tiers */
static bool qv_group_strict(const struct qv_policy *pol, u32 g)
{
	const struct qv_pol_grp *G = &pol->grp[g - 1];
	u32 k, h;

	for (k = G->first; k < G->end; k = h ? pol->grp[h - 1].end : k + 1) {
		h = qv_pol_member(pol, k, g);
		if (qv_pol_tier(pol, k, g) != qv_pol_tier(pol, G->first, g))
			return true;
		if (h && qv_group_strict(pol, h))
			return true;
	}
	return false;
}

/* A member of the policy's top level that shares the level of top-level
 * group @a
 */
static bool qv_group_mates(const struct qv_policy *pol, u32 a)
{
	const struct qv_pol_grp *A = &pol->grp[a - 1];
	u32 k, h;

	for (k = 0; k < pol->n; k = h ? pol->grp[h - 1].end : k + 1) {
		h = qv_pol_member(pol, k, 0);
		if (h != a && qv_pol_tier(pol, k, 0) == A->tier &&
		    qv_pol_level(pol, k, 0) == A->level)
			return true;
	}
	return false;
}

u32 qv_group_props(u32 backend, const struct qv_qmap *m,
		   const struct qv_synth *s, const u32 *pol_grp, u32 props,
		   u32 g)
{
	const struct qv_policy *pol = s->pol;
	u32 a = g, p, first, nq, tier;

	while (pol->grp[a - 1].parent)
		a = pol->grp[a - 1].parent;
	tier = s->grp[pol_grp[pol->grp[a - 1].first]].tier;
	p = props & ~(QV_PROP_HOLDS(1) | QV_PROP_APPROX(1) |
		      QV_PROP_HOLDS(7) | QV_PROP_APPROX(7) | QV_PROP_KNOWN(7));
	if (!qv_group_strict(pol, g)) {
		p |= QV_PROP_HOLDS(1);
	} else if (backend == QV_BACKEND_PIFO) {
		p |= qv_group_mates(pol, a) ? QV_PROP_APPROX(1) :
					       QV_PROP_HOLDS(1);
	} else if (backend == QV_BACKEND_SPPIFO) {
		qv_qmap_range(m, tier, &first, &nq);
		p |= nq > 1 ? QV_PROP_APPROX(1) : 0;
	}
	return p;
}

/* Tenant @a before tenant @b in joint offset order (index order on ties) */
static bool qv_offset_before(const struct qv_xform *xf, u32 a, u32 b)
{
	return xf[a].offset < xf[b].offset ||
	       (xf[a].offset == xf[b].offset && a < b);
}

/* Heap sort of @ix[0..n) by qv_offset_before(): no recursion, no
 * allocation, O(n log n)
 */
static void qv_sort_offset(const struct qv_xform *xf, u32 *ix, u32 n)
{
	u32 end, root, child, start, t;

	for (start = n / 2, end = n; end > 1;) {
		if (start > 0) {
			root = --start;
		} else {
			t = ix[0];
			ix[0] = ix[--end];
			ix[end] = t;
			root = 0;
		}
		while ((child = 2 * root + 1) < end) {
			if (child + 1 < end &&
			    qv_offset_before(xf, ix[child], ix[child + 1]))
				child++;
			if (!qv_offset_before(xf, ix[root], ix[child]))
				break;
			t = ix[root];
			ix[root] = ix[child];
			ix[child] = t;
			root = child;
		}
	}
}

/* Tenant @k is in scope: the whole policy (@g 0) or nested group @g */
static bool qv_in_scope(const struct qv_synth *s, u32 k, u32 g)
{
	const struct qv_pol_grp *G;
	s32 idx = s->spec[k].pol_idx;

	if (!g)
		return true;
	G = &s->pol->grp[g - 1];
	return idx >= 0 && (u32)idx >= G->first && (u32)idx < G->end;
}

/* Tenant @k could gain by its ranks if it had a mate: it chooses them,
 * without range auto, and they map to more than one joint rank
 */
static bool qv_can_game(const struct qv_synth *s, u32 k)
{
	return s->spec[k].chosen && !s->spec[k].autorange &&
	       s->xf[k].levels > 1 && s->xf[k].width > 1;
}

/* The first tenant (in offset order) of scope @g that could gain by its
 * ranks and overlaps another tenant of the scope, or -1: a sweep over
 * @order (the tenants sorted by offset); a tenant overlaps another when an
 * earlier one ends after its start or the next one starts before its end
 */
static s32 qv_gamer_sweep(const struct qv_synth *s, const u32 *order, u32 g)
{
	u32 p, k, prev = 0, end;
	bool seen = false, prev_mate = false, mate;
	u64 maxend = 0;

	for (p = 0; p < s->nspec; p++) {
		k = order[p];
		if (!qv_in_scope(s, k, g))
			continue;
		end = s->xf[k].offset + s->xf[k].width;
		mate = seen && maxend > s->xf[k].offset;
		if (seen && s->xf[k].offset < s->xf[prev].offset +
					      s->xf[prev].width)
			prev_mate = true;
		if (seen && prev_mate && qv_can_game(s, prev))
			return (s32)prev;
		if (end > maxend)
			maxend = end;
		prev = k;
		prev_mate = mate;
		seen = true;
	}
	if (seen && prev_mate && qv_can_game(s, prev))
		return (s32)prev;
	return -1;
}

/* The whole policy without a sort where it can: no tenant that could
 * gain (-1), or one outside nested groups that shares its sharing group
 * with another tenant (it spans the group's whole interval, so it
 * overlaps every tenant there): O(n + groups).  Else -2: sort and sweep.
 */
static s32 qv_gamer_fast(const struct qv_synth *s, u32 *cnt)
{
	bool any = false;
	u32 k;

	for (k = 0; k < s->ngrp; k++)
		cnt[k] = 0;
	for (k = 0; k < s->nspec; k++) {
		cnt[s->xf[k].group]++;
		any |= qv_can_game(s, k);
	}
	if (!any)
		return -1;
	for (k = 0; k < s->nspec; k++)
		if (!s->xf[k].nest && cnt[s->xf[k].group] > 1 &&
		    qv_can_game(s, k))
			return (s32)k;
	return -2;
}

/* The tenants sorted by joint offset into @order */
static void qv_order_offset(const struct qv_synth *s, u32 *order)
{
	u32 k;

	for (k = 0; k < s->nspec; k++)
		order[k] = k;
	qv_sort_offset(s->xf, order, s->nspec);
}

s32 qv_gamer(const struct qv_synth *s, u32 *scratch)
{
	s32 r = qv_gamer_fast(s, scratch + s->nspec);

	if (r != -2)
		return r;
	qv_order_offset(s, scratch);
	return qv_gamer_sweep(s, scratch, 0);
}

/* P7 bits: holds unless a tenant breaks it (@gamer >= 0); fifo ignores
 * ranks
 */
static u32 qv_gaming_bits(u32 backend, s32 gamer)
{
	if (backend != QV_BACKEND_FIFO && gamer >= 0)
		return QV_PROP_KNOWN(7);
	return QV_PROP_KNOWN(7) | QV_PROP_HOLDS(7);
}

void qv_props_gaming(const struct qv_synth *s, u32 backend, u32 *scratch,
		     u32 *props, u32 *gprops)
{
	u32 k, ngrp = s->pol ? s->pol->ngrp : 0;
	u32 clear = QV_PROP_HOLDS(7) | QV_PROP_APPROX(7);

	*props = (*props & ~clear) | qv_gaming_bits(backend,
						     qv_gamer(s, scratch));
	if (!ngrp)
		return;
	qv_order_offset(s, scratch);
	for (k = 0; k < ngrp; k++)
		gprops[k] = (gprops[k] & ~clear) |
			    qv_gaming_bits(backend,
					   qv_gamer_sweep(s, scratch, k + 1));
}
