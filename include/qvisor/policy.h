/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * qvisor policy parser.
 *
 * Grammar, loosest first:
 *	policy := tier ( ">>" tier )*		strict priority
 *	tier   := level ( ">" level )*		best-effort preference
 *	level  := tenant ( "+" tenant )*	sharing
 *	tenant := hex digits, a class minor 1..ffff, as tc writes it
 *		  ("10" is class 1:10, minor 0x10), optionally "MAJ:MINOR"
 *
 * Blanks are allowed anywhere between tokens.  The result is a flat list of
 * entries in policy order, each tagged with its tier and its level inside
 * the tier; consecutive entries with the same tier and level form one
 * sharing group.  Parsing is one pass, O(length), and allocates nothing:
 * the caller provides room for the entries.
 *
 * The parser and the printer run in userspace (tc plugin, qvisorctl):
 * the kernel receives the policy as a tree (qvisor/policy_tree.h).
 */
#ifndef _QVISOR_POLICY_H
#define _QVISOR_POLICY_H

#include "types.h"

struct qv_pol_ent {
	u32	minor;
	u16	tier;
	u16	level;	/* inside the tier */
};

struct qv_policy {
	struct qv_pol_ent	*ent;	/* caller's array */
	u32			cap;	/* its size */
	u32			n;	/* entries parsed */
	u32			tiers;	/* strict tiers */
};

int qv_policy_parse(struct qv_policy *p, const char *s, u32 len,
		    struct qv_err *e);

/* @p as a string in @buf; returns its length or -ENOSPC */
int qv_policy_format(const struct qv_policy *p, char *buf, u32 cap);

#endif
