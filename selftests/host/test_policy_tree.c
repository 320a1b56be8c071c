// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Host unit tests of the policy tree (qvisor/policy_tree.h): string ->
 * tree -> string round trips, the exact canonical tree of small policies,
 * and every rejection of a hand-built tree with its message and the
 * attribute it points at.
 */
#include <linux/netlink.h>
#include <uapi/linux/pkt_sched_qvisor.h>
#include <qvisor/policy.h>
#include <qvisor/policy_tree.h>
#include "tap.h"

static struct qv_pol_ent ents[QVISOR_MAX_TENANTS + 8];
static struct qv_pol_ent ents2[QVISOR_MAX_TENANTS + 8];
static u64 seen[QV_PTREE_SEEN_WORDS];
static u8 tree[1 << 17] __attribute__((aligned(4)));
static char str[1 << 17];

/* The tree attribute for @p: header + qv_ptree_encode(); its length */
static u32 wrap(const struct qv_policy *p)
{
	struct nlattr *a = (struct nlattr *)tree;
	u32 len = qv_ptree_size(p);

	a->nla_type = TCA_QVISOR_POLICY_TREE | NLA_F_NESTED;
	a->nla_len = (u16)(NLA_HDRLEN + len);
	qv_ptree_encode(p, tree + NLA_HDRLEN);
	return NLA_HDRLEN + len;
}

static int decode(struct qv_policy *q, const void *t, u32 len, u32 cap,
		  struct qv_err *e)
{
	memset(seen, 0, sizeof(seen));
	memset(e, 0, sizeof(*e));
	q->ent = ents2;
	q->cap = cap;
	q->n = 777;
	q->tiers = 777;
	return qv_ptree_decode(q, NULL, 0, t, len, seen, e);
}

/* @in parses, round-trips through the tree and prints as @out */
static void round_trip(const char *in, const char *out)
{
	struct qv_policy p = { .ent = ents, .cap = QVISOR_MAX_TENANTS }, q;
	struct qv_err e = {};
	u32 len, k;
	int r;

	r = qv_policy_parse(&p, in, (u32)strlen(in), &e);
	CHECK(r == 0, "parse: %s", e.msg);
	if (r)
		goto out;
	len = wrap(&p);
	r = decode(&q, tree, len, QVISOR_MAX_TENANTS, &e);
	CHECK(r == 0, "decode: %s at %u", e.msg, e.pos);
	if (r)
		goto out;
	CHECK(q.n == p.n && q.tiers == p.tiers, "n %u/%u tiers %u/%u",
	      q.n, p.n, q.tiers, p.tiers);
	for (k = 0; k < p.n && k < q.n; k++)
		CHECK(q.ent[k].minor == p.ent[k].minor &&
		      q.ent[k].tier == p.ent[k].tier &&
		      q.ent[k].level == p.ent[k].level, "entry %u differs", k);
	r = qv_policy_format(&q, str, sizeof(str));
	CHECK(r == (int)strlen(out) && !strcmp(str, out),
	      "printed \"%.80s\", want \"%.80s\"", str, out);
out:
	tap_point("round trip \"%.60s\"%s", in,
		  strlen(in) > 60 ? "..." : "");
}

/* A tree written by hand, for the exact encoding and the rejections */
struct bld {
	u32	off;
	u32	open[16];
	int	depth;
};

static void b_start(struct bld *b, u16 type)
{
	struct nlattr *a = (struct nlattr *)(tree + b->off);

	a->nla_type = type;
	b->open[b->depth++] = b->off;
	b->off += NLA_HDRLEN;
}

static void b_end(struct bld *b)
{
	u32 at = b->open[--b->depth];

	((struct nlattr *)(tree + at))->nla_len = (u16)(b->off - at);
}

static u32 b_attr(struct bld *b, u16 type, const void *d, u32 len)
{
	struct nlattr *a = (struct nlattr *)(tree + b->off);
	u32 at = b->off;

	a->nla_type = type;
	a->nla_len = (u16)(NLA_HDRLEN + len);
	memcpy(tree + b->off + NLA_HDRLEN, d, len);
	memset(tree + b->off + NLA_HDRLEN + len, 0, NLA_ALIGN(len) - len);
	b->off += NLA_HDRLEN + NLA_ALIGN(len);
	return at;
}

static u32 b_kind(struct bld *b, u8 kind)
{
	return b_attr(b, TCA_QVISOR_NODE_KIND, &kind, 1);
}

/* TENANTS with the minors in @m (n of them) */
static u32 b_ten(struct bld *b, const u16 *m, u32 n)
{
	return b_attr(b, TCA_QVISOR_NODE_TENANTS, m, 2 * n);
}

#define TEN(b, ...)							\
	({ static const u16 m_[] = { __VA_ARGS__ };			\
	   b_ten(b, m_, sizeof(m_) / sizeof(m_[0])); })

static void b_root(struct bld *b)
{
	memset(b, 0, sizeof(*b));
	memset(tree, 0, 4096);
	b_start(b, TCA_QVISOR_POLICY_TREE | NLA_F_NESTED);
}

static u32 b_child(struct bld *b)
{
	u32 at = b->off;

	b_start(b, TCA_QVISOR_NODE_CHILD | NLA_F_NESTED);
	return at;
}

/* The hand-built tree (b_root .. b_end) is rejected with @msg at @pos */
static void bad(const char *name, struct bld *b, const char *msg, u32 pos)
{
	struct qv_policy q;
	struct qv_err e;
	int r;

	r = decode(&q, tree, b->off, QVISOR_MAX_TENANTS, &e);
	CHECK(r == -EINVAL, "returned %d", r);
	CHECK(e.msg && !strcmp(e.msg, msg), "message \"%s\", want \"%s\"",
	      e.msg ? e.msg : "(none)", msg);
	CHECK(e.pos == pos, "at %u, want %u", e.pos, pos);
	CHECK(q.n == 0, "n %u after an error", q.n);
	tap_point("rejected: %s", name);
}

/* The hand-built tree is accepted and prints as @out */
static void good(const char *name, struct bld *b, const char *out)
{
	struct qv_policy q;
	struct qv_err e;
	int r;

	r = decode(&q, tree, b->off, QVISOR_MAX_TENANTS, &e);
	CHECK(r == 0, "decode: %s at %u", e.msg, e.pos);
	if (!r) {
		qv_policy_format(&q, str, sizeof(str));
		CHECK(!strcmp(str, out), "printed \"%s\", want \"%s\"", str,
		      out);
	}
	tap_point("accepted: %s", name);
}

/* The encoder writes exactly the hand-built tree */
static void exact(const char *in, struct bld *b)
{
	static u8 want[4096];
	struct qv_policy p = { .ent = ents, .cap = QVISOR_MAX_TENANTS };
	struct qv_err e = {};
	u32 len;

	memcpy(want, tree, b->off);
	CHECK(!qv_policy_parse(&p, in, (u32)strlen(in), &e), "parse");
	len = wrap(&p);
	CHECK(len == b->off && !memcmp(want, tree, len),
	      "encoding differs (%u bytes, want %u)", len, b->off);
	tap_point("canonical tree of \"%s\"", in);
}

static u32 rnd_state = 12345;

static u32 rnd(u32 n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 8) % n;
}

static void random_trips(void)
{
	static const char *const ops[] = { " >> ", " > ", " + " };
	static u8 used[65536];
	u32 round, n, k, len, m;

	for (round = 0; round < 2000; round++) {
		n = 1 + rnd(round % 10 == 0 ? QVISOR_MAX_TENANTS : 12);
		memset(used, 0, sizeof(used));
		len = 0;
		for (k = 0; k < n; k++) {
			do
				m = 1 + rnd(0xffff);
			while (used[m]);
			used[m] = 1;
			len += (u32)snprintf(str + len, sizeof(str) - len,
					     "%s%x", k ? ops[rnd(3)] : "", m);
		}
		{
			static char in[1 << 17];
			struct qv_policy p = { .ent = ents, .cap = QVISOR_MAX_TENANTS };
			struct qv_policy q;
			struct qv_err e = {};
			u32 tl;

			memcpy(in, str, len + 1);
			if (qv_policy_parse(&p, in, len, &e)) {
				CHECK(0, "parse %s", e.msg);
				break;
			}
			tl = qv_ptree_size(&p);
			if (tl > 0xffff - NLA_HDRLEN)
				continue;	/* refused by the senders */
			tl = wrap(&p);
			if (decode(&q, tree, tl, QVISOR_MAX_TENANTS, &e)) {
				CHECK(0, "decode %s at %u", e.msg, e.pos);
				break;
			}
			qv_policy_format(&q, str, sizeof(str));
			CHECK(!strcmp(in, str), "round %u differs", round);
		}
	}
	tap_point("2000 random policies (up to 4096 tenants) round-trip");
}

int main(void)
{
	struct qv_policy p = { .ent = ents, .cap = QVISOR_MAX_TENANTS }, q;
	struct qv_err e;
	struct bld b;
	u32 k, len, at, c1, c2, t;
	int r;

	tap_plan(0);

	round_trip("1", "1");
	round_trip("1 >> 2", "1 >> 2");
	round_trip("1 > 2", "1 > 2");
	round_trip("1 + 2", "1 + 2");
	round_trip("1 >> 2 > 3 + 4", "1 >> 2 > 3 + 4");
	round_trip("1 >> 2 + 3", "1 >> 2 + 3");
	round_trip("1+2>3+4>>5>6>>7+8", "1 + 2 > 3 + 4 >> 5 > 6 >> 7 + 8");
	round_trip("  a:10>>1:ff  ", "10 >> ff");
	round_trip("A + B > C", "a + b > c");
	round_trip("ffff >> 1", "ffff >> 1");
	round_trip("1 > 2 > 3 >> 4 >> 5 + 6 + 7 > 8",
		   "1 > 2 > 3 >> 4 >> 5 + 6 + 7 > 8");
	round_trip("1 >> 2 >> 3 + 4 >> 5 >> 6", "1 >> 2 >> 3 + 4 >> 5 >> 6");

	/* every tenant in one share group, the largest policy */
	len = 0;
	for (k = 1; k <= QVISOR_MAX_TENANTS; k++)
		len += (u32)snprintf(str + len, sizeof(str) - len, "%s%x",
				     k > 1 ? " + " : "", k);
	{
		static char big[1 << 17];

		memcpy(big, str, len + 1);
		round_trip(big, big);
		CHECK(!qv_policy_parse(&p, big, len, &e), "parse");
		t = qv_ptree_size(&p);
		CHECK(t == 8 + 4 + 2 * QVISOR_MAX_TENANTS, "size %u", t);
		tap_point("4096 tenants in one group: %u bytes of tree (string %u)",
			  t, len);
	}

	/* the canonical (collapsed) encoding */
	b_root(&b);
	b_kind(&b, QVISOR_NODE_SHARE);
	TEN(&b, 1);
	b_end(&b);
	exact("1", &b);

	b_root(&b);
	b_kind(&b, QVISOR_NODE_STRICT);
	TEN(&b, 1);
	b_child(&b);
	b_kind(&b, QVISOR_NODE_PREFER);
	TEN(&b, 2);
	b_child(&b);
	b_kind(&b, QVISOR_NODE_SHARE);
	TEN(&b, 3, 4);
	b_end(&b);
	b_end(&b);
	b_end(&b);
	exact("1 >> 2 > 3 + 4", &b);

	b_root(&b);
	b_kind(&b, QVISOR_NODE_STRICT);
	TEN(&b, 1, 2);
	b_child(&b);
	b_kind(&b, QVISOR_NODE_SHARE);
	TEN(&b, 3, 4);
	b_end(&b);
	TEN(&b, 5);
	b_end(&b);
	exact("1 >> 2 >> 3 + 4 >> 5", &b);

	/* uncollapsed and split forms are accepted */
	b_root(&b);
	b_kind(&b, QVISOR_NODE_STRICT);
	b_child(&b);
	b_kind(&b, QVISOR_NODE_PREFER);
	b_child(&b);
	b_kind(&b, QVISOR_NODE_SHARE);
	TEN(&b, 1);
	b_end(&b);
	b_end(&b);
	b_child(&b);
	b_kind(&b, QVISOR_NODE_SHARE);
	TEN(&b, 2);
	TEN(&b, 3);
	b_end(&b);
	b_end(&b);
	good("full shape, a share group split in two runs", &b, "1 >> 2 + 3");

	b_root(&b);
	TEN(&b, 7, 8);
	b_kind(&b, QVISOR_NODE_PREFER);	/* kind after the members */
	b_end(&b);
	good("kind after the members", &b, "7 > 8");

	/* an empty tree: no policy */
	b_root(&b);
	b_end(&b);
	r = decode(&q, tree, b.off, QVISOR_MAX_TENANTS, &e);
	CHECK(r == 0 && q.n == 0 && q.tiers == 0, "r %d n %u", r, q.n);
	tap_point("a tree without payload is the empty policy");
	CHECK(qv_policy_format(&q, str, sizeof(str)) == 0 && !str[0], "");
	tap_point("the empty policy prints as \"\"");

	/* rejections, each pointing at its attribute */
	b_root(&b);
	at = TEN(&b, 1);
	b_end(&b);
	bad("group without a kind", &b, "Policy group without a kind", 0);

	b_root(&b);
	b_kind(&b, QVISOR_NODE_SHARE);
	b_end(&b);
	bad("empty root group", &b, "Policy group has no members", 0);

	b_root(&b);
	b_kind(&b, QVISOR_NODE_STRICT);
	TEN(&b, 1);
	c1 = b_child(&b);
	b_kind(&b, QVISOR_NODE_SHARE);
	b_end(&b);
	b_end(&b);
	bad("empty share group", &b, "Policy group has no members", c1);

	b_root(&b);
	b_kind(&b, QVISOR_NODE_SHARE);
	TEN(&b, 1);
	c1 = b_child(&b);
	b_kind(&b, QVISOR_NODE_STRICT);
	TEN(&b, 2, 3);
	b_end(&b);
	b_end(&b);
	bad("(2 >> 3) in a share group", &b,
	    "Nested groups are not supported here", c1);

	b_root(&b);
	b_kind(&b, QVISOR_NODE_STRICT);
	TEN(&b, 1);
	c1 = b_child(&b);
	b_kind(&b, QVISOR_NODE_PREFER);
	TEN(&b, 2);
	c2 = b_child(&b);
	b_kind(&b, QVISOR_NODE_PREFER);
	TEN(&b, 3, 4);
	b_end(&b);
	b_end(&b);
	b_end(&b);
	bad("prefer in prefer, three deep", &b,
	    "Nested groups are not supported here", c2);
	CHECK(c1 < c2, "");

	b_root(&b);
	b_kind(&b, QVISOR_NODE_STRICT);
	b_child(&b);
	b_kind(&b, QVISOR_NODE_STRICT);
	TEN(&b, 1, 2);
	b_end(&b);
	b_end(&b);
	bad("strict in strict", &b, "Nested groups are not supported here",
	    NLA_HDRLEN + 8);

	b_root(&b);
	b_kind(&b, QVISOR_NODE_SHARE);
	b_child(&b);
	b_kind(&b, QVISOR_NODE_SHARE);
	TEN(&b, 1, 2);
	b_end(&b);
	TEN(&b, 3);
	b_end(&b);
	bad("(1 + 2) + 3", &b, "Nested groups are not supported here",
	    NLA_HDRLEN + 8);

	b_root(&b);
	b_kind(&b, QVISOR_NODE_SHARE);
	TEN(&b, 1, 2);
	at = TEN(&b, 3, 1);
	b_end(&b);
	bad("duplicate minor", &b, "Tenant appears twice in policy", at);

	b_root(&b);
	b_kind(&b, QVISOR_NODE_STRICT);
	TEN(&b, 5);
	b_child(&b);
	b_kind(&b, QVISOR_NODE_SHARE);
	at = TEN(&b, 6, 5);
	b_end(&b);
	b_end(&b);
	bad("duplicate minor across groups", &b,
	    "Tenant appears twice in policy", at);

	b_root(&b);
	b_kind(&b, QVISOR_NODE_SHARE);
	at = TEN(&b, 1, 0);
	b_end(&b);
	bad("minor 0", &b, "Tenant must be a class minor 1..ffff", at);

	b_root(&b);
	b_kind(&b, QVISOR_NODE_SHARE);
	at = b_attr(&b, TCA_QVISOR_NODE_TENANTS, "\x01\x00\x02", 3);
	b_end(&b);
	bad("odd tenants length", &b,
	    "Tenants must be an array of 16-bit class minors", at);

	b_root(&b);
	b_kind(&b, QVISOR_NODE_SHARE);
	at = b_attr(&b, TCA_QVISOR_NODE_TENANTS, "", 0);
	b_end(&b);
	bad("empty tenants", &b,
	    "Tenants must be an array of 16-bit class minors", at);

	b_root(&b);
	at = b_kind(&b, 3);
	TEN(&b, 1);
	b_end(&b);
	bad("kind 3", &b, "Unknown policy group kind", at);

	b_root(&b);
	b_kind(&b, QVISOR_NODE_SHARE);
	at = b_kind(&b, QVISOR_NODE_SHARE);
	TEN(&b, 1);
	b_end(&b);
	bad("kind twice", &b, "Policy group kind given twice", at);

	b_root(&b);
	b_kind(&b, QVISOR_NODE_SHARE);
	TEN(&b, 1);
	at = b_attr(&b, 9, "abcd", 4);
	b_end(&b);
	bad("unknown attribute", &b, "Unknown attribute in a policy group",
	    at);

	b_root(&b);
	b_kind(&b, QVISOR_NODE_SHARE);
	at = TEN(&b, 1);
	((struct nlattr *)(tree + at))->nla_len = 200;
	b_end(&b);
	bad("attribute longer than its group", &b, "Malformed policy tree",
	    at);

	/* 4097 tenants: the cap (QVISOR_MAX_TENANTS) */
	b_root(&b);
	b_kind(&b, QVISOR_NODE_SHARE);
	{
		static u16 m[QVISOR_MAX_TENANTS + 1];

		for (k = 0; k <= QVISOR_MAX_TENANTS; k++)
			m[k] = (u16)(k + 1);
		at = b_ten(&b, m, QVISOR_MAX_TENANTS + 1);
	}
	b_end(&b);
	bad("4097 tenants", &b, "Too many tenants in policy", at);

	/* a truncated buffer */
	b_root(&b);
	b_kind(&b, QVISOR_NODE_SHARE);
	TEN(&b, 1);
	b_end(&b);
	r = decode(&q, tree, b.off - 1, QVISOR_MAX_TENANTS, &e);
	CHECK(r == -EINVAL && !strcmp(e.msg, "Malformed policy tree"), "");
	tap_point("rejected: buffer shorter than the tree");

	random_trips();
	return tap_done();
}
