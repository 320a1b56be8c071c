/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * qvisor policy tree: the policy as netlink attributes
 * (TCA_QVISOR_POLICY_TREE, described in the uapi header) to and from the
 * flat entries of qvisor/policy.h.
 *
 * The tc plugin and qvisorctl parse the policy string and encode it; the
 * kernel decodes and validates the tree; the plugin and qvisorctl decode
 * the dump to print the string again.  The same code runs on both sides,
 * on raw attribute bytes (struct nlattr and struct rtattr have one
 * layout), so it is unit-tested and fuzzed on the host.
 *
 * A tree of today's shape is a strict group of tiers, a tier a prefer
 * group of levels, a level a share group of tenants; a group with a single
 * member may be left out (its member stands in its place).  A group inside
 * a group of a tighter kind is a nested group ("(1 >> 2) + 3": a strict
 * group inside a share group), one member of its parent with tiers and
 * levels of its own (struct qv_pol_grp); a group inside one of its own
 * kind is not (userspace splices it).  A caller without room for nested
 * groups (gcap 0) gets them rejected.  The tree is at most
 * QV_PTREE_MAX_DEPTH groups deep, within netlink's policy recursion limit.
 */
#ifndef _QVISOR_POLICY_TREE_H
#define _QVISOR_POLICY_TREE_H

#include "types.h"
#include "policy.h"

/* Groups from the root down, at most */
#define QV_PTREE_MAX_DEPTH	8

/* Bitmap over all class minors, for the duplicate check */
#define QV_PTREE_SEEN_WORDS	(65536 / 64)

/* Bytes of the root group's attributes for @p (the payload of
 * TCA_QVISOR_POLICY_TREE); 0 for an empty policy.  More than 0xffff
 * means the tree does not fit in one netlink attribute.
 */
u32 qv_ptree_size(const struct qv_policy *p);

/* Groups of the deepest branch of @p's tree (the root is 1) */
u32 qv_ptree_depth(const struct qv_policy *p);

/* Write those attributes into @buf, which has qv_ptree_size(p) bytes */
void qv_ptree_encode(const struct qv_policy *p, void *buf);

/* Convert the tree attribute @tree (header included, @len bytes in all,
 * at least its nla_len) into @p's entries, with room for @gcap nested
 * groups in @grp (set as p->grp; 0 refuses nested groups).  An attribute
 * without payload is the empty policy (p->n = 0).  @seen must be zeroed,
 * QV_PTREE_SEEN_WORDS words.  On error e->pos is the byte offset, from
 * @tree, of the attribute at fault (0: @tree itself).
 */
int qv_ptree_decode(struct qv_policy *p, struct qv_pol_grp *grp, u32 gcap,
		    const void *tree, u32 len, u64 *seen, struct qv_err *e);

#ifndef __KERNEL__
/* Every message qv_ptree_decode() gives, for the fuzzers that check the
 * kernel's and the core's answers (fuzz_policy_tree, qvfuzz)
 */
static const char *const qv_ptree_messages[] = {
	"Malformed policy tree", "Policy group kind given twice",
	"Unknown policy group kind", "Policy group without a kind",
	"Nested groups are not supported here",
	"Tenants must be an array of 16-bit class minors",
	"Unknown attribute in a policy group", "Policy group has no members",
	"Tenant appears twice in policy", "Tenant must be a class minor 1..ffff",
	"Too many tenants in policy", "Policy tree is nested too deep",
	"Policy group inside a group of its own kind",
	"Too many groups in policy",
};
#endif

#endif
