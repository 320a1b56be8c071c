// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * qvisor policy tree: flat policy entries to TCA_QVISOR_POLICY_TREE
 * attributes and back, with the validation the kernel relies on (the
 * shape is in qvisor/policy_tree.h, the attributes in the uapi header).
 */

#include <linux/netlink.h>
#include <uapi/linux/pkt_sched_qvisor.h>
#include "qvisor/policy_tree.h"

/* Encoding.  With w->buf NULL only the size is counted. */
struct qv_ptree_wr {
	u8	*buf;
	u32	off;
	u32	depth;		/* groups open */
	u32	max_depth;
};

static u32 qv_ptree_start(struct qv_ptree_wr *w, u16 type)
{
	u32 at = w->off;

	if (w->buf) {
		struct nlattr *a = (struct nlattr *)(w->buf + at);

		a->nla_type = type;
		a->nla_len = NLA_HDRLEN;
	}
	w->off += NLA_HDRLEN;
	return at;
}

/* Close the attribute that starts at @at after @len payload bytes */
static void qv_ptree_end(struct qv_ptree_wr *w, u32 at, u32 len)
{
	u32 pad = NLA_ALIGN(len) - len;

	if (w->buf) {
		struct nlattr *a = (struct nlattr *)(w->buf + at);

		a->nla_len = (u16)(w->off + len - at);
		while (pad--)
			w->buf[w->off + len + pad] = 0;
	}
	w->off += NLA_ALIGN(len);
}

static void qv_ptree_nest_end(struct qv_ptree_wr *w, u32 at)
{
	if (w->buf)
		((struct nlattr *)(w->buf + at))->nla_len = (u16)(w->off - at);
}

static void qv_ptree_kind(struct qv_ptree_wr *w, u8 kind)
{
	u32 at = qv_ptree_start(w, TCA_QVISOR_NODE_KIND);

	if (w->buf)
		w->buf[w->off] = kind;
	qv_ptree_end(w, at, 1);
}

/* One TCA_QVISOR_NODE_TENANTS with the minors of entries [from, to) */
static void qv_ptree_tenants(struct qv_ptree_wr *w, const struct qv_policy *p,
			     u32 from, u32 to)
{
	u32 at = qv_ptree_start(w, TCA_QVISOR_NODE_TENANTS), k;

	for (k = from; w->buf && k < to; k++) {
		u16 m = (u16)p->ent[k].minor;

		__builtin_memcpy(w->buf + w->off + 2 * (k - from), &m, 2);
	}
	qv_ptree_end(w, at, 2 * (to - from));
}

/* Tier and level of the member of @scope that starts at entry @k, and
 * the entry after it
 */
static u16 qv_ptree_tier(const struct qv_policy *p, u32 scope, u32 k)
{
	u32 g = qv_pol_member(p, k, scope);

	return g ? p->grp[g - 1].tier : p->ent[k].tier;
}

static u16 qv_ptree_level(const struct qv_policy *p, u32 scope, u32 k)
{
	u32 g = qv_pol_member(p, k, scope);

	return g ? p->grp[g - 1].level : p->ent[k].level;
}

static u32 qv_ptree_skip(const struct qv_policy *p, u32 scope, u32 k)
{
	u32 g = qv_pol_member(p, k, scope);

	return g ? p->grp[g - 1].end : k + 1;
}

/* End of the run of members from @k with the same tier (and level) */
static u32 qv_ptree_run(const struct qv_policy *p, u32 scope, u32 k, u32 to,
			bool level)
{
	u32 j = qv_ptree_skip(p, scope, k);

	while (j < to &&
	       qv_ptree_tier(p, scope, j) == qv_ptree_tier(p, scope, k) &&
	       (!level || qv_ptree_level(p, scope, j) ==
			  qv_ptree_level(p, scope, k)))
		j = qv_ptree_skip(p, scope, j);
	return j;
}

static void qv_ptree_scope(struct qv_ptree_wr *w, const struct qv_policy *p,
			   u32 scope, u32 from, u32 to, u8 parent);

/* A nested group as a member of a group of kind @parent */
static void qv_ptree_nested(struct qv_ptree_wr *w, const struct qv_policy *p,
			    u32 g, u8 parent)
{
	u32 at = qv_ptree_start(w, TCA_QVISOR_NODE_CHILD | NLA_F_NESTED);

	qv_ptree_scope(w, p, g, p->grp[g - 1].first, p->grp[g - 1].end,
		       parent);
	qv_ptree_nest_end(w, at);
}

/* The members of a group of @kind, entries [from, to) of @scope: single
 * tenants in runs, groups as children
 */
static void qv_ptree_members(struct qv_ptree_wr *w, const struct qv_policy *p,
			     u32 scope, u32 from, u32 to, u8 kind)
{
	bool lvl = kind == QVISOR_NODE_PREFER;
	u32 k = from, j, single, at;

	while (k < to) {
		j = kind == QVISOR_NODE_SHARE ? qv_ptree_skip(p, scope, k) :
		    qv_ptree_run(p, scope, k, to, lvl);
		if (qv_pol_member(p, k, scope) && j == qv_ptree_skip(p, scope, k)) {
			qv_ptree_nested(w, p, qv_pol_member(p, k, scope), kind);
			k = j;
			continue;
		}
		/* a run of members that are single tenants */
		single = k;
		while (single < to && !qv_pol_member(p, single, scope) &&
		       (kind == QVISOR_NODE_SHARE ||
			qv_ptree_run(p, scope, single, to, lvl) == single + 1))
			single++;
		if (single > k) {
			qv_ptree_tenants(w, p, k, single);
			k = single;
			continue;
		}
		w->depth++;
		if (w->depth > w->max_depth)
			w->max_depth = w->depth;
		at = qv_ptree_start(w, TCA_QVISOR_NODE_CHILD | NLA_F_NESTED);
		if (kind == QVISOR_NODE_STRICT &&
		    qv_ptree_run(p, scope, k, to, true) != j) {
			qv_ptree_kind(w, QVISOR_NODE_PREFER);
			qv_ptree_members(w, p, scope, k, j, QVISOR_NODE_PREFER);
		} else {
			qv_ptree_kind(w, QVISOR_NODE_SHARE);
			qv_ptree_members(w, p, scope, k, j, QVISOR_NODE_SHARE);
		}
		qv_ptree_nest_end(w, at);
		w->depth--;
		k = j;
	}
}

/* The group that @scope (0: the whole policy) is, entries [from, to).  A
 * nested group is written of a looser kind than its @parent, so that it
 * decodes as one again: a decoded group that holds less than its kind
 * ("share(1 prefer(2))") keeps that kind.
 */
static void qv_ptree_scope(struct qv_ptree_wr *w, const struct qv_policy *p,
			   u32 scope, u32 from, u32 to, u8 parent)
{
	u32 k, last = from;
	u8 kind;

	w->depth++;
	if (w->depth > w->max_depth)
		w->max_depth = w->depth;
	for (k = from; k < to; k = qv_ptree_skip(p, scope, k))
		last = k;
	if (qv_ptree_tier(p, scope, last) != qv_ptree_tier(p, scope, from))
		kind = QVISOR_NODE_STRICT;
	else if (qv_ptree_level(p, scope, last) !=
		 qv_ptree_level(p, scope, from))
		kind = QVISOR_NODE_PREFER;
	else
		kind = QVISOR_NODE_SHARE;
	if (scope && kind <= parent)
		kind = parent + 1;
	qv_ptree_kind(w, kind);
	qv_ptree_members(w, p, scope, from, to, kind);
	w->depth--;
}

static void qv_ptree_write(struct qv_ptree_wr *w, const struct qv_policy *p)
{
	if (p->n)
		qv_ptree_scope(w, p, 0, 0, p->n, __QVISOR_NODE_MAX);
}

u32 qv_ptree_depth(const struct qv_policy *p)
{
	struct qv_ptree_wr w = { NULL, 0, 0, 0 };

	qv_ptree_write(&w, p);
	return w.max_depth;
}

u32 qv_ptree_size(const struct qv_policy *p)
{
	struct qv_ptree_wr w = { NULL, 0, 0, 0 };

	qv_ptree_write(&w, p);
	return w.off;
}

void qv_ptree_encode(const struct qv_policy *p, void *buf)
{
	struct qv_ptree_wr w = { buf, 0, 0, 0 };

	qv_ptree_write(&w, p);
}

/* Decoding: @base is the tree attribute, for error offsets */
struct qv_ptree_rd {
	struct qv_policy	*p;
	const u8		*base;
	u64			*seen;
	struct qv_err		*e;
	u32			tier;
	u32			level;
	u32			scope;	/* group being filled, 0: none */
};

static int qv_ptree_fail(struct qv_ptree_rd *r, const char *msg,
			 const void *at, u32 val)
{
	return qv_fail(r->e, msg, (u32)((const u8 *)at - r->base), val);
}

/* The next attribute of a nest payload, or NULL at its end or when it is
 * malformed (*bad set)
 */
static const struct nlattr *qv_ptree_next(const u8 *pos, const u8 *end,
					  bool *bad)
{
	const struct nlattr *a = (const struct nlattr *)pos;

	if (end - pos < NLA_HDRLEN)
		return NULL;
	if (a->nla_len < NLA_HDRLEN || a->nla_len > end - pos) {
		*bad = true;
		return NULL;
	}
	return a;
}

static const u8 *qv_ptree_after(const struct nlattr *a)
{
	return (const u8 *)a + NLA_ALIGN(a->nla_len);
}

/* A member begins: a strict group's next member is the next tier, a
 * prefer group's the next level.
 */
static void qv_ptree_member(struct qv_ptree_rd *r, u8 kind, u32 *members)
{
	if ((*members)++ == 0)
		return;
	if (kind == QVISOR_NODE_STRICT) {
		r->tier++;
		r->level = 0;
	} else if (kind == QVISOR_NODE_PREFER) {
		r->level++;
	}
}

static int qv_ptree_add(struct qv_ptree_rd *r, const struct nlattr *a,
			u32 minor)
{
	struct qv_policy *p = r->p;

	if (!minor)
		return qv_ptree_fail(r, "Tenant must be a class minor 1..ffff",
				     a, minor);
	if (r->seen[minor / 64] & (1ULL << (minor % 64)))
		return qv_ptree_fail(r, "Tenant appears twice in policy", a,
				     minor);
	if (p->n >= p->cap)
		return qv_ptree_fail(r, "Too many tenants in policy", a,
				     p->cap);
	r->seen[minor / 64] |= 1ULL << (minor % 64);
	p->ent[p->n].minor = minor;
	p->ent[p->n].tier = (u16)r->tier;
	p->ent[p->n].level = (u16)r->level;
	p->ent[p->n].group = (u16)r->scope;
	p->n++;
	return 0;
}

static int qv_ptree_tenants_in(struct qv_ptree_rd *r, const struct nlattr *a,
			       u8 kind, u32 *members)
{
	const u8 *d = (const u8 *)a + NLA_HDRLEN;
	u32 len = a->nla_len - NLA_HDRLEN, k;
	int err;

	if (!len || len % 2)
		return qv_ptree_fail(r, "Tenants must be an array of 16-bit class minors",
				     a, len);
	for (k = 0; k < len; k += 2) {
		u16 m;

		__builtin_memcpy(&m, d + k, 2);
		qv_ptree_member(r, kind, members);
		err = qv_ptree_add(r, a, m);
		if (err)
			return err;
	}
	return 0;
}

static int qv_ptree_group(struct qv_ptree_rd *r, const struct nlattr *g,
			  u32 depth);

/* A group of a looser kind than its parent: a nested group, whose
 * members get tiers and levels of their own
 */
static int qv_ptree_nest(struct qv_ptree_rd *r, const struct nlattr *g,
			 u8 kind, u8 ckind, u32 depth)
{
	struct qv_policy *p = r->p;
	u32 tier = r->tier, level = r->level, scope = r->scope, id;
	int err;

	if (!p->gcap)
		return qv_ptree_fail(r, "Nested groups are not supported here",
				     g, ckind);
	if (ckind == kind)
		return qv_ptree_fail(r, "Policy group inside a group of its own kind",
				     g, ckind);
	if (p->ngrp >= p->gcap || p->ngrp >= QV_POLICY_MAX_GROUPS)
		return qv_ptree_fail(r, "Too many groups in policy", g, p->gcap);
	id = ++p->ngrp;
	p->grp[id - 1] = (struct qv_pol_grp){ (u16)scope, (u16)tier,
					      (u16)level, 0, p->n, p->n };
	r->tier = 0;
	r->level = 0;
	r->scope = id;
	err = qv_ptree_group(r, g, depth);
	p->grp[id - 1].tiers = (u16)(r->tier + 1);
	p->grp[id - 1].end = p->n;
	r->tier = tier;
	r->level = level;
	r->scope = scope;
	return err;
}

static int qv_ptree_child(struct qv_ptree_rd *r, const struct nlattr *a,
			  u8 kind, u32 *members, u32 depth)
{
	const u8 *end = (const u8 *)a + a->nla_len;
	const u8 *pos = (const u8 *)a + NLA_HDRLEN;
	const struct nlattr *c;
	bool bad = false;
	u8 ckind = __QVISOR_NODE_MAX;

	qv_ptree_member(r, kind, members);
	if (depth >= QV_PTREE_MAX_DEPTH)
		return qv_ptree_fail(r, "Policy tree is nested too deep", a,
				     depth + 1);
	for (; (c = qv_ptree_next(pos, end, &bad)); pos = qv_ptree_after(c))
		if ((c->nla_type & NLA_TYPE_MASK) == TCA_QVISOR_NODE_KIND &&
		    c->nla_len >= NLA_HDRLEN + 1)
			ckind = *((const u8 *)c + NLA_HDRLEN);
	if (ckind <= QVISOR_NODE_MAX && ckind >= kind)
		return qv_ptree_nest(r, a, kind, ckind, depth + 1);
	return qv_ptree_group(r, a, depth + 1);
}

/* The group in attribute @g, @depth groups deep.  A child of the same
 * or a looser kind than its parent is a nested group.
 */
static int qv_ptree_group(struct qv_ptree_rd *r, const struct nlattr *g,
			  u32 depth)
{
	const u8 *end = (const u8 *)g + g->nla_len;
	const u8 *pos = (const u8 *)g + NLA_HDRLEN;
	const struct nlattr *a, *kind_a = NULL;
	u32 members = 0;
	bool bad = false;
	u8 kind = 0;
	int err;

	for (; (a = qv_ptree_next(pos, end, &bad)); pos = qv_ptree_after(a)) {
		if ((a->nla_type & NLA_TYPE_MASK) != TCA_QVISOR_NODE_KIND)
			continue;
		if (kind_a)
			return qv_ptree_fail(r, "Policy group kind given twice",
					     a, 0);
		if (a->nla_len < NLA_HDRLEN + 1)
			return qv_ptree_fail(r, "Malformed policy tree", a, 0);
		kind_a = a;
		kind = *((const u8 *)a + NLA_HDRLEN);
		if (kind > QVISOR_NODE_MAX)
			return qv_ptree_fail(r, "Unknown policy group kind", a,
					     kind);
	}
	if (bad)
		return qv_ptree_fail(r, "Malformed policy tree", pos, 0);
	if (!kind_a)
		return qv_ptree_fail(r, "Policy group without a kind", g, 0);

	pos = (const u8 *)g + NLA_HDRLEN;
	for (; (a = qv_ptree_next(pos, end, &bad)); pos = qv_ptree_after(a)) {
		switch (a->nla_type & NLA_TYPE_MASK) {
		case TCA_QVISOR_NODE_KIND:
			break;
		case TCA_QVISOR_NODE_TENANTS:
			err = qv_ptree_tenants_in(r, a, kind, &members);
			if (err)
				return err;
			break;
		case TCA_QVISOR_NODE_CHILD:
			err = qv_ptree_child(r, a, kind, &members, depth);
			if (err)
				return err;
			break;
		default:
			return qv_ptree_fail(r, "Unknown attribute in a policy group",
					     a, a->nla_type & NLA_TYPE_MASK);
		}
	}
	if (!members)
		return qv_ptree_fail(r, "Policy group has no members", g, 0);
	return 0;
}

int qv_ptree_decode(struct qv_policy *p, struct qv_pol_grp *grp, u32 gcap,
		    const void *tree, u32 len, u64 *seen, struct qv_err *e)
{
	const struct nlattr *t = tree;
	struct qv_ptree_rd r = { p, tree, seen, e, 0, 0, 0 };
	int err;

	qv_policy_start(p, grp, gcap);
	if (len < NLA_HDRLEN || t->nla_len < NLA_HDRLEN || t->nla_len > len)
		return qv_fail(e, "Malformed policy tree", 0, 0);
	if (t->nla_len == NLA_HDRLEN)
		return 0;
	err = qv_ptree_group(&r, t, 1);
	if (err) {
		p->n = 0;
		p->ngrp = 0;
		return err;
	}
	p->tiers = r.tier + 1;
	return 0;
}
