// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Host unit tests of nested groups in the policy: parentheses in the
 * parser and printer, the tree on the wire, the synthesizer's layout of a
 * nested group (exact joint ranks) and the order a PIFO gives packets.
 */
#include <linux/netlink.h>
#include <uapi/linux/pkt_sched_qvisor.h>
#include <qvisor/policy.h>
#include <qvisor/policy_tree.h>
#include <qvisor/synth.h>
#include "tap.h"

#define N 256

static struct qv_pol_ent ent[N], ent2[N];
static struct qv_pol_grp grp[N], grp2[N];
static struct qv_policy P, Q;
static struct qv_tenant_spec spec[N];
static struct qv_group sgrp[N + 2];
static struct qv_xform xf[N + 1];
static struct qv_place place[N];
static u32 pol_grp[N];
static struct qv_synth S;
static u32 nspec;
static u64 seen[QV_PTREE_SEEN_WORDS];
static u8 tree[65536];

static int parse(const char *s, struct qv_err *e)
{
	P.ent = ent;
	P.cap = N;
	memset(e, 0, sizeof(*e));
	return qv_policy_parse_groups(&P, grp, N, s, (u32)strlen(s), e);
}

static const char *fmt(const struct qv_policy *p)
{
	static char buf[4096];

	if (qv_policy_format(p, buf, sizeof(buf)) < 0)
		return "(ENOSPC)";
	return buf;
}

/* The tree of P, decoded into Q with room for groups or not */
static int wire(u32 gcap, struct qv_err *e)
{
	struct nlattr *a = (struct nlattr *)tree;
	u32 len = qv_ptree_size(&P);

	a->nla_type = TCA_QVISOR_POLICY_TREE;
	a->nla_len = (u16)(NLA_HDRLEN + len);
	qv_ptree_encode(&P, tree + NLA_HDRLEN);
	memset(seen, 0, sizeof(seen));
	Q.ent = ent2;
	Q.cap = N;
	memset(e, 0, sizeof(*e));
	return qv_ptree_decode(&Q, grp2, gcap, tree, a->nla_len, seen, e);
}

static void norm(const char *in, const char *out, u32 ngrp)
{
	struct qv_err e;
	char once[4096];
	int r = parse(in, &e);

	CHECK(!r, "%s: %s at %u", in, e.msg, e.pos);
	if (r)
		goto out;
	CHECK(!strcmp(fmt(&P), out), "\"%s\" prints \"%s\"", in, fmt(&P));
	CHECK(P.ngrp == ngrp, "%u nested groups, want %u", P.ngrp, ngrp);
	strcpy(once, fmt(&P));
	r = wire(N, &e);
	CHECK(!r, "decode: %s", e.msg);
	CHECK(!r && !strcmp(fmt(&Q), once), "tree gives \"%s\"", fmt(&Q));
	CHECK(!r && Q.ngrp == P.ngrp && Q.tiers == P.tiers, "groups/tiers");
	CHECK(!r && !memcmp(ent, ent2, P.n * sizeof(ent[0])), "entries differ");
	CHECK(!r && !memcmp(grp, grp2, P.ngrp * sizeof(grp[0])), "groups differ");
	r = parse(once, &e);
	CHECK(!r && !strcmp(fmt(&P), once), "not idempotent: %s", fmt(&P));
out:
	tap_point("\"%s\" -> \"%s\", through the tree too", in, out);
}

static void refused(const char *in, const char *msg, u32 pos)
{
	struct qv_err e;
	int r = parse(in, &e);

	CHECK(r == -EINVAL, "returned %d", r);
	CHECK(e.msg && !strcmp(e.msg, msg), "\"%s\", want \"%s\"", e.msg, msg);
	CHECK(e.pos == pos, "at %u, want %u", e.pos, pos);
	tap_point("\"%s\" refused: %s at %u", in, msg, pos);
}

static void test_grammar(void)
{
	struct qv_err e;

	norm("(1 >> 2) + 3", "(1 >> 2) + 3", 1);
	norm("1 >> (2 + (3 > 4))", "1 >> 2 + (3 > 4)", 1);
	norm("(1 >> 2) > 3", "(1 >> 2) > 3", 1);
	norm("(1 > 2) + (3 >> 4) + 5", "(1 > 2) + (3 >> 4) + 5", 2);
	norm("1 + (2 > (3 >> (4 + 5)))", "1 + (2 > (3 >> 4 + 5))", 2);
	norm("((((1 >> 2) + 3) > 4) >> 5) + 6", "((1 >> 2) + 3 > 4 >> 5) + 6", 2);
	norm("(1 + 2) + 3", "1 + 2 + 3", 0);
	norm("(1 > 2) > 3", "1 > 2 > 3", 0);
	norm("1 >> (2 >> 3) >> 4", "1 >> 2 >> 3 >> 4", 0);
	norm("((a))", "a", 0);
	norm("(1 >> 2 > 3 + 4 >> 5)", "1 >> 2 > 3 + 4 >> 5", 0);
	norm(" ( 1>>2 )+3 ", "(1 >> 2) + 3", 1);
	refused("()", "Empty parentheses", 0);
	refused("1 + ( )", "Empty parentheses", 4);
	refused("(1 >> 2", "Unbalanced '(' in policy", 0);
	refused("1 >> 2) + 3", "Unbalanced ')' in policy", 6);
	refused("(1 >> ) + 3", "Expected a tenant", 6);
	refused("(1 >> 2)(3)", "Expected '>>', '>' or '+' between tenants", 8);
	refused("(1 >> 2) + (3 > 1)", "Tenant appears twice in policy", 16);
	refused("(((((1 >> 2) + 3) > 4) >> 5) + 6) + 7",
		"Parentheses nested too deep", 4);
	/* four parentheses, each three tree levels deep: 13 > 8 groups */
	refused("1 >> 2 > 3 + (4 >> 5 > 6 + (7 >> 8 > 9 + (a >> b > c + (d >> e > f + 10))))",
		"Policy tree is nested too deep", 0);
	/* a caller without room for groups */
	P.ent = ent;
	P.cap = N;
	CHECK(qv_policy_parse(&P, "(1 >> 2) + 3", 12, &e) == -EINVAL &&
	      !strcmp(e.msg, "Nested groups are not supported here"), "%s", e.msg);
	tap_point("qv_policy_parse() refuses parentheses");
	CHECK(!parse("(1 >> 2) + 3", &e), "parse");
	CHECK(wire(0, &e) == -EINVAL &&
	      !strcmp(e.msg, "Nested groups are not supported here"), "%s", e.msg);
	/* the tree's header and the root's kind, then the child */
	CHECK(e.pos == 4 + 8, "at %u", e.pos);
	tap_point("qv_ptree_decode() without room for groups refuses a nested group, pointing at it");
}

/* Hand-built trees the parser never writes */
static u32 off;
static u32 open_grp(u16 type, u8 kind)
{
	struct nlattr *a = (struct nlattr *)(tree + off), *k;
	u32 at = off;

	a->nla_type = type;
	off += NLA_HDRLEN;
	k = (struct nlattr *)(tree + off);
	k->nla_type = TCA_QVISOR_NODE_KIND;
	k->nla_len = NLA_HDRLEN + 1;
	tree[off + NLA_HDRLEN] = kind;
	off += NLA_ALIGN(NLA_HDRLEN + 1);
	return at;
}

static void add_minor(u16 m)
{
	struct nlattr *a = (struct nlattr *)(tree + off);

	a->nla_type = TCA_QVISOR_NODE_TENANTS;
	a->nla_len = NLA_HDRLEN + 2;
	memcpy(tree + off + NLA_HDRLEN, &m, 2);
	off += NLA_ALIGN(NLA_HDRLEN + 2);
}

static void close_grp(u32 at)
{
	((struct nlattr *)(tree + at))->nla_len = (u16)(off - at);
}

static int dec(struct qv_err *e)
{
	memset(seen, 0, sizeof(seen));
	Q.ent = ent2;
	Q.cap = N;
	memset(e, 0, sizeof(*e));
	return qv_ptree_decode(&Q, grp2, N, tree, off, seen, e);
}

static void test_wire(void)
{
	u32 at[12], k, child = 0;
	struct qv_err e;

	/* share inside share: userspace splices it, the kernel refuses */
	off = 0;
	at[0] = open_grp(TCA_QVISOR_POLICY_TREE, QVISOR_NODE_SHARE);
	add_minor(1);
	child = off;
	at[1] = open_grp(TCA_QVISOR_NODE_CHILD, QVISOR_NODE_SHARE);
	add_minor(2);
	add_minor(3);
	close_grp(at[1]);
	close_grp(at[0]);
	CHECK(dec(&e) == -EINVAL &&
	      !strcmp(e.msg, "Policy group inside a group of its own kind") &&
	      e.pos == child, "%s at %u", e.msg, e.pos);
	tap_point("a share group in a share group is refused at the child");

	/* share, strict, share, strict...: 9 groups deep */
	off = 0;
	for (k = 0; k < 9; k++) {
		if (k == 8)
			child = off;
		at[k] = open_grp(k ? TCA_QVISOR_NODE_CHILD :
				 TCA_QVISOR_POLICY_TREE,
				 k % 2 ? QVISOR_NODE_STRICT : QVISOR_NODE_SHARE);
		add_minor((u16)(k + 1));
	}
	add_minor(0x20);
	for (k = 9; k-- > 0;)
		close_grp(at[k]);
	CHECK(dec(&e) == -EINVAL && !strcmp(e.msg, "Policy tree is nested too deep") &&
	      e.pos == child, "%s at %u (child at %u)", e.msg, e.pos, child);
	tap_point("a tree 9 groups deep is refused at its 9th group");
}

/* Synthesis of P with tenants minor:levels (ranks 0..levels-1) */
static int synth(const char *pol, const u32 *ml, u32 n, u32 buckets,
		 u32 overlap, struct qv_err *e)
{
	u32 k, j;

	if (parse(pol, e))
		return -1;
	for (k = 0; k < n; k++) {
		spec[k] = (struct qv_tenant_spec){ ml[2 * k], 0, ml[2 * k + 1] - 1,
						   ml[2 * k + 1], -1, 0, 0 };
		for (j = 0; j < P.n; j++)
			if (P.ent[j].minor == ml[2 * k])
				spec[k].pol_idx = (s32)j;
	}
	nspec = n;
	memset(&S, 0, sizeof(S));
	S.pol = &P;
	S.spec = spec;
	S.nspec = n;
	S.buckets = buckets;
	S.overlap = overlap;
	S.grp = sgrp;
	S.xf = xf;
	S.place = place;
	return qv_synthesize(&S, pol_grp, e);
}

static u32 J(u32 minor, u32 rank)
{
	u32 k;

	for (k = 0; k < nspec; k++)
		if (spec[k].minor == minor)
			return qv_xform_apply(&xf[k], rank);
	return ~0u;
}

/* "minor:J(lo)..J(hi)" of every tenant, in spec order */
static const char *layout(void)
{
	static char buf[512];
	u32 k, o = 0;

	for (k = 0; k < nspec; k++)
		o += (u32)snprintf(buf + o, sizeof(buf) - o, "%s%x:%u..%u",
				   k ? " " : "", spec[k].minor, J(spec[k].minor, 0),
				   J(spec[k].minor, spec[k].hi));
	snprintf(buf + o, sizeof(buf) - o, " implicit:%u width %u",
		 qv_xform_apply(&xf[nspec], 0), S.width);
	return buf;
}

static void exact(const char *pol, const u32 *ml, u32 n, u32 buckets,
		  u32 overlap, const char *want)
{
	struct qv_err e = { 0 };
	int r = synth(pol, ml, n, buckets, overlap, &e);

	CHECK(!r, "%s", e.msg);
	CHECK(!r && !strcmp(layout(), want), "layout \"%s\"", layout());
	tap_point("\"%s\" (buckets %u, overlap %u): %s", pol, buckets, overlap,
		  want);
}

/* Packets (minor, rank) through a PIFO on joint rank, FIFO on ties */
static const char *order(const u32 *pk, u32 n)
{
	static char buf[256];
	u32 used[64] = { 0 }, k, i, best, o = 0;

	for (k = 0; k < n; k++) {
		best = n;
		for (i = 0; i < n; i++)
			if (!used[i] && (best == n ||
					 J(pk[2 * i], pk[2 * i + 1]) <
					 J(pk[2 * best], pk[2 * best + 1])))
				best = i;
		used[best] = 1;
		o += (u32)snprintf(buf + o, sizeof(buf) - o, "%s%x/%u",
				   k ? " " : "", pk[2 * best], pk[2 * best + 1]);
	}
	return buf;
}

static void test_synth(void)
{
	static const u32 l4[] = { 1, 4, 2, 4, 3, 4 };
	static const u32 mix[] = { 1, 4, 2, 8, 3, 4, 4, 4 };
	static const u32 deep[] = { 1, 2, 2, 2, 3, 2, 4, 2, 5, 2 };
	static const u32 pk[] = { 2, 0, 3, 3, 1, 3, 3, 0, 2, 3, 1, 0 };
	struct qv_err e;

	/* the pair spans 0..7 (1 on 0..3 strictly above 2 on 4..7) and so
	 * does 3, whose four ranks spread over the pair's eight
	 */
	exact("(1 >> 2) + 3", l4, 3, 64, 0, "1:0..3 2:4..7 3:0..6 implicit:8 width 9");
	/* tier 1: 2 (8 levels) shares 4..11 with (3 > 4), natural width
	 * 4 + 2 = 6 at overlap 50, stretched by 8/6: 3 on 4..8 (its ranks
	 * 4..7), 4 on 6..11 (6..10)
	 */
	exact("1 >> (2 + (3 > 4))", mix, 4, 64, 50,
	      "1:0..3 2:4..11 3:4..7 4:6..10 implicit:12 width 13");
	/* three deep: (3 >> 4 + 5) is 4 wide inside (2 > ...), which at
	 * overlap 0 is 6 wide and shares 0..5 with 1 (ranks 0 and 3)
	 */
	exact("1 + (2 > (3 >> 4 + 5))", deep, 5, 64, 0,
	      "1:0..3 2:0..1 3:2..3 4:4..5 5:4..5 implicit:6 width 7");
	/* flat policies as before: the same tenants, no parentheses */
	exact("1 >> 2 + 3", l4, 3, 64, 0, "1:0..3 2:4..7 3:4..7 implicit:8 width 9");
	/* too few buckets: the nested group keeps its natural width 8, the
	 * policy needs 9 ranks
	 */
	CHECK(synth("(1 >> 2) + 3", l4, 3, 8, 0, &e) == -EINVAL &&
	      !strcmp(e.msg, "Policy needs more joint ranks than buckets"),
	      "%s", e.msg);
	tap_point("a nested group is never compressed below its natural width");

	/* the order a PIFO gives: 3 interleaves with the pair, whose 1
	 * leaves before 2.  Flat "1 >> 2 + 3" sends 1 first, "1 + 2 + 3"
	 * sends 2/0 first, FIFO sends in arrival order: all differ.
	 */
	CHECK(!synth("(1 >> 2) + 3", l4, 3, 64, 0, &e), "%s", e.msg);
	CHECK(!strcmp(order(pk, 6), "3/0 1/0 1/3 2/0 3/3 2/3"), "%s", order(pk, 6));
	CHECK(!synth("1 >> 2 + 3", l4, 3, 64, 0, &e), "%s", e.msg);
	CHECK(!strcmp(order(pk, 6), "1/0 1/3 2/0 3/0 3/3 2/3"), "flat %s", order(pk, 6));
	CHECK(!synth("1 + 2 + 3", l4, 3, 64, 0, &e), "%s", e.msg);
	CHECK(!strcmp(order(pk, 6), "2/0 3/0 1/0 3/3 1/3 2/3"), "share %s", order(pk, 6));
	tap_point("\"(1 >> 2) + 3\" dequeues 3/0 1/0 1/3 2/0 3/3 2/3 (flat, share and FIFO orders differ)");
}

/* Random nested policies: parse, print, parse again, through the tree */
static u32 rnd_state = 12345;
static u32 rnd(u32 n)
{
	rnd_state = rnd_state * 1103515245 + 12345;
	return (rnd_state >> 16) % n;
}

static u32 next_minor;
static void gen(char *b, u32 *o, u32 depth)
{
	static const char *const ops[] = { " >> ", " > ", " + " };
	u32 m = 1 + rnd(4), k;

	for (k = 0; k < m; k++) {
		if (k)
			*o += (u32)sprintf(b + *o, "%s", ops[rnd(3)]);
		if (depth < 3 && rnd(3) == 0) {
			b[(*o)++] = '(';
			gen(b, o, depth + 1);
			b[(*o)++] = ')';
			b[*o] = '\0';
		} else {
			*o += (u32)sprintf(b + *o, "%x", next_minor++);
		}
	}
}

static void test_random(void)
{
	char in[4096], once[4096];
	struct qv_err e;
	u32 i, o, nested = 0;
	int r;

	for (i = 0; i < 3000; i++) {
		o = 0;
		next_minor = 1;
		gen(in, &o, 0);
		r = parse(in, &e);
		if (r) {
			CHECK(!strcmp(e.msg, "Policy tree is nested too deep"),
			      "%s: %s", in, e.msg);
			continue;
		}
		nested += P.ngrp > 0;
		strcpy(once, fmt(&P));
		r = wire(N, &e);
		CHECK(!r && !strcmp(fmt(&Q), once), "%s: tree \"%s\"", in, fmt(&Q));
		r = parse(once, &e);
		CHECK(!r && !strcmp(fmt(&P), once), "%s: reparse \"%s\"", in, fmt(&P));
	}
	CHECK(nested > 500, "only %u nested", nested);
	tap_point("3000 random policies with parentheses: parse, print, tree and reparse agree (%u nested)",
		  nested);
}

/* qv_pol_steps(): @want lists, per entry, "level:member ..." (empty
 * for a tenant of the top), entries separated by '|'
 */
static void steps(const char *in, u32 nlev, const char *want)
{
	static struct qv_pol_step st[N * QV_POLICY_MAX_NEST];
	static u8 depth[N];
	char got[1024];
	struct qv_err e;
	u32 k, i, o = 0, n;

	CHECK(!parse(in, &e), "%s: %s", in, e.msg);
	n = qv_pol_steps(&P, st, depth);
	for (k = 0; k < P.n; k++) {
		for (i = 0; i < depth[k]; i++)
			o += (u32)snprintf(got + o, sizeof(got) - o, "%s%u:%u",
					   i ? " " : "",
					   st[k * QV_POLICY_MAX_NEST + i].level,
					   st[k * QV_POLICY_MAX_NEST + i].member);
		if (k + 1 < P.n)
			o += (u32)snprintf(got + o, sizeof(got) - o, "|");
	}
	CHECK(n == nlev, "%s: %u levels, want %u", in, n, nlev);
	CHECK(!strcmp(got, want), "%s: steps \"%s\", want \"%s\"", in, got,
	      want);
	tap_point("\"%s\": %u levels inside groups, steps %s", in, nlev, want);
}

static void test_steps(void)
{
	steps("1 + 2 > 3", 0, "||");
	steps("(1 + 2 > 3) + 4", 2, "0:0|0:0|1:0|");
	steps("((1 + 2 > 3) >> 4) + 5", 3, "0:0|0:0|1:0|2:0|");
	steps("((1 + 2 >> 3) > 4) + 5", 4, "0:2 2:0|0:2 2:0|0:2 3:0|1:0|");
	steps("(1 >> 2) + (3 + 4 > 5)", 4, "0:0|1:0|2:0|2:0|3:0");
	steps("1 >> 2 + (3 > 4 + 5 >> (6 > 7) + 8)", 5,
	      "||0:0|1:0|1:0|2:2 3:0|2:2 4:0|2:0");
}

int main(void)
{
	tap_plan(0);
	test_grammar();
	test_wire();
	test_synth();
	test_random();
	test_steps();
	return tap_done();
}
