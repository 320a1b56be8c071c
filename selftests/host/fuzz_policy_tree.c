// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * libFuzzer target: the policy tree decoder (core/policy_tree.c) on
 * arbitrary bytes, as the kernel runs it on a TCA_QVISOR_POLICY_TREE.
 *
 * On failure: a message of the decoder's, an offset inside the input at
 * an attribute header (4-aligned), no entries.  On success: minors unique
 * and 1..ffff, at most the cap, tiers and levels numbered as the parser
 * numbers them; the canonical encoding of the entries decodes to the same
 * entries, and so does their string through the parser.  Decoded with
 * room for nested groups, as the kernel does; a policy with nested groups
 * re-encodes to the same entries and groups, and its string prints the
 * same after one pass through the parser (which normalizes).
 */
#include <linux/netlink.h>
#include <uapi/linux/pkt_sched_qvisor.h>
#include <qvisor/policy.h>
#include <qvisor/policy_tree.h>
#include <stdio.h>
#include <string.h>

#define FAIL(...)							\
	do {								\
		fprintf(stderr, __VA_ARGS__);				\
		fprintf(stderr, "\n");					\
		__builtin_trap();					\
	} while (0)

#define CAP 64
#define NMSGS (sizeof(qv_ptree_messages) / sizeof(qv_ptree_messages[0]))


static struct qv_pol_ent a[CAP + 1], b[CAP + 1];
static struct qv_pol_grp ga[CAP], gb[CAP];
static u64 seen[QV_PTREE_SEEN_WORDS];
static u8 in[70000] __attribute__((aligned(4)));
static u8 out[70000] __attribute__((aligned(4)));
static char str[CAP * 8 + 1], str2[CAP * 8 + 1];

static int decode(struct qv_policy *p, struct qv_pol_ent *e, const void *t,
		  u32 len, struct qv_err *err)
{
	memset(seen, 0, sizeof(seen));
	p->ent = e;
	p->cap = CAP;
	return qv_ptree_decode(p, e == a ? ga : gb, CAP, t, len, seen,
			       err);
}

/* Nested groups: the tree of the entries decodes to them, and the string
 * is a fixed point of parse + print after one normalizing pass
 */
static void check_nested(struct qv_policy *p)
{
	struct qv_policy q;
	struct qv_err e = {};
	u32 len = qv_ptree_size(p);
	int r;

	if (len + NLA_HDRLEN > sizeof(out))
		FAIL("canonical tree of %u bytes", len);
	((struct nlattr *)out)->nla_type = TCA_QVISOR_POLICY_TREE;
	((struct nlattr *)out)->nla_len = (u16)(len + NLA_HDRLEN);
	qv_ptree_encode(p, out + NLA_HDRLEN);
	r = decode(&q, b, out, len + NLA_HDRLEN, &e);
	if (r || q.n != p->n || q.tiers != p->tiers || q.ngrp != p->ngrp ||
	    memcmp(a, b, p->n * sizeof(a[0])) ||
	    memcmp(ga, gb, p->ngrp * sizeof(ga[0])))
		FAIL("nested tree differs (%d %s)", r, r ? e.msg : "");
	if (qv_policy_format(p, str, sizeof(str)) < 0)
		FAIL("format");
	q.ent = b;
	q.cap = CAP;
	if (qv_policy_parse_groups(&q, gb, CAP, str, (u32)strlen(str), &e))
		FAIL("'%s' does not parse: %s", str, e.msg);
	if (qv_policy_format(&q, str, sizeof(str)) < 0)
		FAIL("format");
	if (qv_policy_parse_groups(&q, gb, CAP, str, (u32)strlen(str), &e) ||
	    qv_policy_format(&q, str2, sizeof(str2)) < 0 || strcmp(str, str2))
		FAIL("'%s' prints as '%s'", str, str2);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct qv_policy p, q;
	struct qv_err e = {};
	u32 k, len;
	int r;

	if (size > sizeof(in))
		return 0;
	memcpy(in, data, size);
	r = decode(&p, a, in, (u32)size, &e);
	if (r) {
		for (k = 0; k < NMSGS; k++)
			if (e.msg && !strcmp(e.msg, qv_ptree_messages[k]))
				break;
		if (k == NMSGS)
			FAIL("unknown message %s", e.msg ? e.msg : "(null)");
		if (e.pos % 4 || (e.pos && e.pos + NLA_HDRLEN > size))
			FAIL("offset %u outside the input (%zu)", e.pos, size);
		if (p.n)
			FAIL("%u entries after an error", p.n);
		return 0;
	}
	if (p.ngrp) {
		check_nested(&p);
		return 0;
	}
	for (k = 0; k < p.n; k++) {
		if (!a[k].minor || a[k].minor > 0xffff)
			FAIL("minor %#x", a[k].minor);
		if (k && a[k].tier == a[k - 1].tier &&
		    a[k].level != a[k - 1].level &&
		    a[k].level != a[k - 1].level + 1)
			FAIL("level jump at %u", k);
		if (k && a[k].tier != a[k - 1].tier &&
		    (a[k].tier != a[k - 1].tier + 1 || a[k].level))
			FAIL("tier jump at %u", k);
	}
	if (p.n && p.tiers != (u32)a[p.n - 1].tier + 1)
		FAIL("tiers %u", p.tiers);
	if (!p.n)
		return 0;

	/* the canonical tree of the entries decodes to them */
	len = qv_ptree_size(&p);
	if (len + NLA_HDRLEN > sizeof(out))
		FAIL("canonical tree of %u bytes", len);
	((struct nlattr *)out)->nla_type = TCA_QVISOR_POLICY_TREE;
	((struct nlattr *)out)->nla_len = (u16)(len + NLA_HDRLEN);
	qv_ptree_encode(&p, out + NLA_HDRLEN);
	r = decode(&q, b, out, len + NLA_HDRLEN, &e);
	if (r || q.n != p.n || q.tiers != p.tiers ||
	    memcmp(a, b, p.n * sizeof(a[0])))
		FAIL("canonical tree differs (%d %s)", r, r ? e.msg : "");

	/* and their string parses to them */
	if (qv_policy_format(&p, str, sizeof(str)) < 0)
		FAIL("format");
	q.ent = b;
	q.cap = CAP;
	r = qv_policy_parse(&q, str, (u32)strlen(str), &e);
	if (r || q.n != p.n || q.tiers != p.tiers ||
	    memcmp(a, b, p.n * sizeof(a[0])))
		FAIL("string '%s' parses differently", str);
	return 0;
}
