/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * qvisor policy parser.
 *
 * Grammar, loosest first:
 *	policy := tier ( ">>" tier )*		strict priority
 *	tier   := level ( ">" level )*		best-effort preference
 *	level  := member ( "+" member )*	sharing
 *	member := tenant | "(" policy ")"	a nested group
 *	tenant := hex digits, a class minor 1..ffff, as tc writes it
 *		  ("10" is class 1:10, minor 0x10), optionally "MAJ:MINOR"
 *
 * Blanks are allowed anywhere between tokens.  The result is a flat list of
 * entries in policy order, each tagged with its tier and its level inside
 * the tier; consecutive entries with the same tier and level form one
 * sharing group.  Parsing allocates nothing: the caller provides room for
 * the entries (and for nested groups).
 *
 * Parentheses are normalized away where they change nothing: a group of
 * one member is that member, and a group whose operator is the one it
 * stands between ("(1 + 2) + 3", "1 >> (2 >> 3)", "(1 > 2) > 3") is
 * spliced into it.  What stays is a nested group: one member of a level
 * whose own top operator binds looser than its place ("(1 >> 2) + 3",
 * "(1 > 2) + 3", "(1 >> 2) > 3").  Its entries are tagged with the group
 * (1-based index into grp[]) and with tier and level inside it; the group
 * itself carries its parent and its tier and level inside the parent.
 * Entries of a group are consecutive, [first, end).
 *
 * The parser and the printer run in userspace (tc plugin, qvisorctl):
 * the kernel receives the policy as a tree (qvisor/policy_tree.h).
 */
#ifndef _QVISOR_POLICY_H
#define _QVISOR_POLICY_H

#include "types.h"

/* Parentheses inside parentheses, at most */
#define QV_POLICY_MAX_NEST	4
/* Nested groups in one policy, at most */
#define QV_POLICY_MAX_GROUPS	1024

struct qv_pol_ent {
	u32	minor;
	u16	tier;
	u16	level;	/* inside the tier */
	u16	group;	/* innermost nested group, 0: none */
};

/* A nested group; its tier and level are its place in its parent */
struct qv_pol_grp {
	u16	parent;	/* 0: the policy itself */
	u16	tier;
	u16	level;
	u16	tiers;	/* strict tiers inside it */
	u32	first;	/* its entries, [first, end) */
	u32	end;
};

struct qv_policy {
	struct qv_pol_ent	*ent;	/* caller's array */
	u32			cap;	/* its size */
	u32			n;	/* entries parsed */
	u32			tiers;	/* strict tiers */
	struct qv_pol_grp	*grp;	/* set by the parser and decoder */
	u32			gcap;	/* its size: 0, no nesting */
	u32			ngrp;	/* nested groups */
};

/* @p emptied, to be filled with nested groups in @grp (room for @gcap) */
static inline void qv_policy_start(struct qv_policy *p, struct qv_pol_grp *grp,
				   u32 gcap)
{
	p->n = 0;
	p->tiers = 0;
	p->grp = grp;
	p->gcap = gcap;
	p->ngrp = 0;
}

/* The group of @p that holds entry @k as a direct member of group @scope
 * (0 for the policy itself): 0 when the entry is a member itself
 */
static inline u32 qv_pol_member(const struct qv_policy *p, u32 k, u32 scope)
{
	u32 g = p->ent[k].group;

	while (g && p->grp[g - 1].parent != scope)
		g = p->grp[g - 1].parent;
	return g;
}

/* Tier and level in @scope of the member of @scope at entry @k */
static inline u16 qv_pol_tier(const struct qv_policy *p, u32 k, u32 scope)
{
	u32 g = qv_pol_member(p, k, scope);

	return g ? p->grp[g - 1].tier : p->ent[k].tier;
}

static inline u16 qv_pol_level(const struct qv_policy *p, u32 k, u32 scope)
{
	u32 g = qv_pol_member(p, k, scope);

	return g ? p->grp[g - 1].level : p->ent[k].level;
}

/* Parse @s into @p's entries; parentheses are refused */
int qv_policy_parse(struct qv_policy *p, const char *s, u32 len,
		    struct qv_err *e);

/* The same with room for @gcap nested groups in @grp (set as p->grp) */
int qv_policy_parse_groups(struct qv_policy *p, struct qv_pol_grp *grp,
			   u32 gcap, const char *s, u32 len, struct qv_err *e);

/* @p as a string in @buf; returns its length or -ENOSPC */
int qv_policy_format(const struct qv_policy *p, char *buf, u32 cap);

/* Nested group @g (1..p->ngrp) as "(...)" in @buf, as qv_policy_format()
 * prints it; returns its length or -ENOSPC
 */
int qv_policy_format_group(const struct qv_policy *p, u32 g, char *buf,
			   u32 cap);

#endif
