// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * qvisor policy parser: the policy string into tiers, levels and tenants
 * (the grammar is in qvisor/policy.h), and back.  Userspace only.
 */

#include <stdio.h>

#include "qvisor/policy.h"
#include "qvisor/policy_tree.h"

static bool qv_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int qv_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static u32 qv_skip_blanks(const char *s, u32 len, u32 i)
{
	while (i < len && qv_is_blank(s[i]))
		i++;
	return i;
}

/* Read one hex number at s[*i]; returns its value or more than 0xffff when
 * it has too many digits.  *i is left after the last digit.
 */
static u32 qv_read_hex(const char *s, u32 len, u32 *i)
{
	u32 v = 0;

	while (*i < len && qv_hexval(s[*i]) >= 0) {
		if (v <= 0xffff)
			v = v * 16 + (u32)qv_hexval(s[*i]);
		(*i)++;
	}
	return v;
}

/* Read "MINOR" or "MAJ:MINOR" starting at s[*i] */
static int qv_parse_tenant(const char *s, u32 len, u32 *i, u32 *minor,
			   struct qv_err *e)
{
	u32 start = *i, v;

	if (*i >= len || qv_hexval(s[*i]) < 0) {
		if (*i >= len)
			return qv_fail(e, "Expected a tenant at end of policy",
				       *i, 0);
		return qv_fail(e, "Expected a tenant", *i, 0);
	}
	v = qv_read_hex(s, len, i);
	if (*i < len && s[*i] == ':') {
		(*i)++;
		if (*i >= len || qv_hexval(s[*i]) < 0)
			return qv_fail(e, "Expected a class minor after ':'",
				       *i, 0);
		v = qv_read_hex(s, len, i);
	}
	if (v == 0 || v > 0xffff)
		return qv_fail(e, "Tenant must be a class minor 1..ffff",
			       start, v);
	*minor = v;
	return 0;
}

/* Read an operator at s[*i]: 2 for ">>", 1 for ">", 0 for "+" */
static int qv_parse_op(const char *s, u32 len, u32 *i, int *op,
		       struct qv_err *e)
{
	if (s[*i] == '+') {
		*op = 0;
		(*i)++;
	} else if (s[*i] == '>') {
		(*i)++;
		*op = 1;
		if (*i < len && s[*i] == '>') {
			(*i)++;
			*op = 2;
			if (*i < len && s[*i] == '>')
				return qv_fail(e, "Unknown operator '>>>'",
					       *i - 2, 0);
		}
	} else {
		return qv_fail(e, "Expected '>>', '>' or '+' between tenants",
			       *i, 0);
	}
	return 0;
}

/* Parser state: the policy being built and the seen-bitmap */
struct qv_pp {
	struct qv_policy	*p;
	const char		*s;
	u32			len;
	u32			i;
	u64			*seen;
	struct qv_err		*e;
};

/* The next direct member of @scope from position *@it (entries, then
 * groups; start at 0): its tier and level in @t and @l
 */
static bool qv_pp_member_at(struct qv_policy *p, u32 scope, u32 *it,
			    u16 **t, u16 **l)
{
	struct qv_pol_grp *g;

	for (; *it < p->n; (*it)++) {
		if (p->ent[*it].group != scope)
			continue;
		*t = &p->ent[*it].tier;
		*l = &p->ent[*it].level;
		(*it)++;
		return true;
	}
	for (; *it < p->n + p->ngrp; (*it)++) {
		g = &p->grp[*it - p->n];
		if (g->parent != scope || g->first == g->end)
			continue;
		*t = &g->tier;
		*l = &g->level;
		(*it)++;
		return true;
	}
	return false;
}

/* Move the direct members of group @g into @to: entries and groups */
static void qv_pp_reparent(struct qv_policy *p, u32 g, u32 to)
{
	u32 k;

	for (k = 0; k < p->n; k++)
		if (p->ent[k].group == g)
			p->ent[k].group = (u16)to;
	for (k = 0; k < p->ngrp; k++)
		if (p->grp[k].parent == g)
			p->grp[k].parent = (u16)to;
	p->grp[g - 1].first = p->grp[g - 1].end;	/* dead */
}

/* Splice group @g (1-based) into its parent where that changes nothing
 * (see qvisor/policy.h): a group of one member, a share group, a prefer
 * group alone in its level, a strict group alone in its tier.
 */
static void qv_pp_normalize(struct qv_policy *p, u32 g)
{
	struct qv_pol_grp *G = &p->grp[g - 1];
	u32 levels = 1, in_level = 0, in_tier = 0, it;
	u16 *t, *l, gt = G->tier, gl = G->level;

	for (it = 0; qv_pp_member_at(p, g, &it, &t, &l);)
		if (*l + 1u > levels)
			levels = *l + 1u;
	for (it = 0; qv_pp_member_at(p, G->parent, &it, &t, &l);) {
		if (*t == gt && *l == gl)
			in_level++;
		else if (*t == gt)
			in_tier++;
	}
	if (G->tiers > 1 && (in_level > 1 || in_tier))
		return;				/* nested strict group */
	if (G->tiers == 1 && levels > 1 && in_level > 1)
		return;				/* nested prefer group */
	if (G->tiers > 1) {
		for (it = 0; qv_pp_member_at(p, G->parent, &it, &t, &l);)
			if (*t > gt)
				*t += G->tiers - 1;
		for (it = 0; qv_pp_member_at(p, g, &it, &t, &l);)
			*t += gt;
		if (G->parent)
			p->grp[G->parent - 1].tiers += G->tiers - 1;
		else
			p->tiers += G->tiers - 1;
	} else if (levels > 1) {
		for (it = 0; qv_pp_member_at(p, G->parent, &it, &t, &l);)
			if (*t == gt && *l > gl)
				*l += levels - 1;
		for (it = 0; qv_pp_member_at(p, g, &it, &t, &l);) {
			*t = gt;
			*l += gl;
		}
	} else {
		for (it = 0; qv_pp_member_at(p, g, &it, &t, &l);) {
			*t = gt;
			*l = gl;
		}
	}
	qv_pp_reparent(p, g, G->parent);
}

/* Renumber the live groups densely, in order */
static void qv_pp_compact(struct qv_policy *p)
{
	u16 map[QV_POLICY_MAX_GROUPS + 1];
	u32 k, n = 0;

	map[0] = 0;
	for (k = 0; k < p->ngrp; k++) {
		if (p->grp[k].first == p->grp[k].end) {
			map[k + 1] = 0;
			continue;
		}
		n++;
		map[k + 1] = (u16)n;
		p->grp[n - 1] = p->grp[k];
		p->grp[n - 1].parent = map[p->grp[n - 1].parent];
	}
	for (k = 0; k < p->n; k++)
		p->ent[k].group = map[p->ent[k].group];
	p->ngrp = n;
}

static int qv_pp_scope(struct qv_pp *c, u32 scope, u32 depth, u32 *tiers);

static int qv_pp_member(struct qv_pp *c, u32 scope, u32 depth, u16 tier,
			u16 level)
{
	struct qv_policy *p = c->p;
	u32 start = c->i, minor, g, sub;
	int err;

	if (c->i < c->len && c->s[c->i] == '(') {
		if (depth >= QV_POLICY_MAX_NEST)
			return qv_fail(c->e, "Parentheses nested too deep",
				       start, QV_POLICY_MAX_NEST);
		if (!p->gcap)
			return qv_fail(c->e, "Nested groups are not supported here",
				       start, 0);
		if (p->ngrp >= p->gcap || p->ngrp >= QV_POLICY_MAX_GROUPS)
			return qv_fail(c->e, "Too many groups in policy",
				       start, p->gcap);
		g = ++p->ngrp;
		p->grp[g - 1] = (struct qv_pol_grp){ (u16)scope, tier, level,
						    0, p->n, p->n };
		c->i = qv_skip_blanks(c->s, c->len, c->i + 1);
		if (c->i < c->len && c->s[c->i] == ')')
			return qv_fail(c->e, "Empty parentheses", start, 0);
		err = qv_pp_scope(c, g, depth + 1, &sub);
		if (err)
			return err;
		if (c->i >= c->len || c->s[c->i] != ')')
			return qv_fail(c->e, "Unbalanced '(' in policy", start, 0);
		c->i++;
		p->grp[g - 1].tiers = (u16)sub;
		p->grp[g - 1].end = p->n;
		return 0;
	}
	err = qv_parse_tenant(c->s, c->len, &c->i, &minor, c->e);
	if (err)
		return err;
	if (c->seen[minor / 64] & (1ULL << (minor % 64)))
		return qv_fail(c->e, "Tenant appears twice in policy", start,
			       minor);
	c->seen[minor / 64] |= 1ULL << (minor % 64);
	if (p->n >= p->cap)
		return qv_fail(c->e, "Too many tenants in policy", start, p->cap);
	p->ent[p->n] = (struct qv_pol_ent){ minor, tier, level, (u16)scope };
	p->n++;
	return 0;
}

/* One policy (the whole string or the inside of parentheses) into
 * @scope; stops at the end or at a ')', which the caller checks.
 */
static int qv_pp_scope(struct qv_pp *c, u32 scope, u32 depth, u32 *tiers)
{
	u32 tier = 0, level = 0, k;
	int op, err;

	for (;;) {
		err = qv_pp_member(c, scope, depth, (u16)tier, (u16)level);
		if (err)
			return err;
		c->i = qv_skip_blanks(c->s, c->len, c->i);
		if (c->i == c->len || c->s[c->i] == ')')
			break;
		err = qv_parse_op(c->s, c->len, &c->i, &op, c->e);
		if (err)
			return err;
		c->i = qv_skip_blanks(c->s, c->len, c->i);
		if (op == 2) {
			tier++;
			level = 0;
		} else if (op == 1) {
			level++;
		}
	}
	*tiers = tier + 1;
	if (scope)
		c->p->grp[scope - 1].tiers = (u16)*tiers;
	else
		c->p->tiers = *tiers;
	for (k = scope; k < c->p->ngrp; k++)
		if (c->p->grp[k].parent == scope &&
		    c->p->grp[k].first != c->p->grp[k].end)
			qv_pp_normalize(c->p, k + 1);
	if (scope)
		*tiers = c->p->grp[scope - 1].tiers;
	else
		*tiers = c->p->tiers;
	return 0;
}

/* Duplicates are found with a bitmap over all minors: O(length) without
 * parentheses; each group normalized costs O(tenants + groups).
 */
int qv_policy_parse(struct qv_policy *p, const char *s, u32 len,
		    struct qv_err *e)
{
	return qv_policy_parse_groups(p, NULL, 0, s, len, e);
}

int qv_policy_parse_groups(struct qv_policy *p, struct qv_pol_grp *grp,
			   u32 gcap, const char *s, u32 len, struct qv_err *e)
{
	u64 seen[65536 / 64] = { 0 };
	struct qv_pp c = { p, s, len, 0, seen, e };
	u32 tiers;
	int err;

	qv_policy_start(p, grp, gcap);
	while (len > 0 && s[len - 1] == '\0')
		len--;
	c.len = len;
	c.i = qv_skip_blanks(s, len, 0);
	if (c.i == len)
		return qv_fail(e, "Policy is empty", 0, 0);
	err = qv_pp_scope(&c, 0, 0, &tiers);
	if (!err && c.i < len)
		err = qv_fail(e, "Unbalanced ')' in policy", c.i, 0);
	if (err) {
		p->n = 0;
		p->ngrp = 0;
		return err;
	}
	qv_pp_compact(p);
	if (qv_ptree_depth(p) > QV_PTREE_MAX_DEPTH) {
		p->n = 0;
		p->ngrp = 0;
		return qv_fail(e, "Policy tree is nested too deep", 0,
			       QV_PTREE_MAX_DEPTH);
	}
	return 0;
}

/* Print the members of @scope, entries [k, end), nested groups in
 * parentheses
 */
static int qv_policy_fmt_scope(const struct qv_policy *p, u32 scope, u32 k,
			       u32 end, char *buf, u32 cap, u32 *off)
{
	u16 pt = 0, pl = 0, t, l;
	bool first = true;
	u32 g;
	int n;

	while (k < end) {
		const char *op = "";

		g = qv_pol_member(p, k, scope);
		t = g ? p->grp[g - 1].tier : p->ent[k].tier;
		l = g ? p->grp[g - 1].level : p->ent[k].level;
		if (!first && t != pt)
			op = " >> ";
		else if (!first && l != pl)
			op = " > ";
		else if (!first)
			op = " + ";
		if (g)
			n = snprintf(buf + *off, cap - *off, "%s(", op);
		else
			n = snprintf(buf + *off, cap - *off, "%s%x", op,
				     p->ent[k].minor);
		if (n < 0 || (u32)n >= cap - *off)
			return -ENOSPC;
		*off += (u32)n;
		if (g) {
			n = qv_policy_fmt_scope(p, g, k, p->grp[g - 1].end,
						buf, cap, off);
			if (n < 0 || *off + 1 >= cap)
				return -ENOSPC;
			buf[(*off)++] = ')';
			buf[*off] = '\0';
			k = p->grp[g - 1].end;
		} else {
			k++;
		}
		pt = t;
		pl = l;
		first = false;
	}
	return 0;
}

/* Print the policy back in the grammar, minors in hex as tc writes them */
int qv_policy_format(const struct qv_policy *p, char *buf, u32 cap)
{
	u32 off = 0;

	if (!cap)
		return p->n ? -ENOSPC : 0;
	buf[0] = '\0';
	if (qv_policy_fmt_scope(p, 0, 0, p->n, buf, cap, &off))
		return -ENOSPC;
	return (int)off;
}

/* Nested group @g (1-based) of @p in parentheses, as the policy prints it */
int qv_policy_format_group(const struct qv_policy *p, u32 g, char *buf,
			   u32 cap)
{
	u32 off = 1;

	if (!g || g > p->ngrp)
		return -EINVAL;
	if (cap < 3)
		return -ENOSPC;
	buf[0] = '(';
	buf[1] = '\0';
	if (qv_policy_fmt_scope(p, g, p->grp[g - 1].first, p->grp[g - 1].end,
				buf, cap, &off) || off + 2 > cap)
		return -ENOSPC;
	buf[off++] = ')';
	buf[off] = '\0';
	return (int)off;
}
