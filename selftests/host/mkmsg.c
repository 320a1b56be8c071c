// SPDX-License-Identifier: GPL-2.0-only
/*
 * Write crafted RTM_NEWQDISC / RTM_NEWTCLASS messages, as the qvisor kernel
 * module would dump them, to stdout, for "tc -s monitor file F" to decode
 * with the tc plugin.  Needs no kernel support.
 *
 * Usage: mkmsg SCENARIO > FILE
 * Scenarios: qdisc-full qdisc-oldstats qdisc-min qdisc-nested qdisc-p7
 *            qdisc-sppifo
 *            qdisc-sppifo-qstats qdisc-aifo qdisc-aifo-qstats class-full
 *            class-edf class-mark-all class-nostats class-rauto
 */

#include <sys/socket.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/gen_stats.h>
#include <linux/pkt_sched.h>
#include "../../include/uapi/linux/pkt_sched_qvisor.h"

#define MSG_MAX	8192

struct msg {
	union {
		struct nlmsghdr nlh;
		unsigned char buf[MSG_MAX];
	};
};

static struct rtattr *put(struct msg *m, int type, const void *data, int len)
{
	int alen = RTA_LENGTH(len);
	struct rtattr *rta;

	if (NLMSG_ALIGN(m->nlh.nlmsg_len) + RTA_ALIGN(alen) > MSG_MAX) {
		fprintf(stderr, "mkmsg: message too long\n");
		exit(1);
	}
	rta = (struct rtattr *)(m->buf + NLMSG_ALIGN(m->nlh.nlmsg_len));
	rta->rta_type = type;
	rta->rta_len = alen;
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	m->nlh.nlmsg_len = NLMSG_ALIGN(m->nlh.nlmsg_len) + RTA_ALIGN(alen);
	return rta;
}

static void put_u8(struct msg *m, int type, __u8 v)
{
	put(m, type, &v, sizeof(v));
}

static void put_u32(struct msg *m, int type, __u32 v)
{
	put(m, type, &v, sizeof(v));
}

static void put_u64(struct msg *m, int type, __u64 v)
{
	put(m, type, &v, sizeof(v));
}

static void put_str(struct msg *m, int type, const char *s)
{
	put(m, type, s, strlen(s) + 1);
}

static struct rtattr *nest_start(struct msg *m, int type)
{
	return put(m, type, NULL, 0);
}

static void nest_end(struct msg *m, struct rtattr *nest)
{
	nest->rta_len = m->buf + m->nlh.nlmsg_len - (unsigned char *)nest;
}

static void start(struct msg *m, int type, __u32 handle, __u32 parent)
{
	struct tcmsg *t;

	memset(m, 0, sizeof(*m));
	m->nlh.nlmsg_len = NLMSG_LENGTH(sizeof(*t));
	m->nlh.nlmsg_type = type;
	t = NLMSG_DATA(&m->nlh);
	t->tcm_family = AF_UNSPEC;
	t->tcm_ifindex = 1;	/* lo */
	t->tcm_handle = handle;
	t->tcm_parent = parent;
	put_str(m, TCA_KIND, "qvisor");
}

static void stats(struct msg *m, const void *app, int len)
{
	struct gnet_stats_basic basic = { .bytes = 1000, .packets = 10 };
	struct gnet_stats_queue queue = { .drops = 2 };
	struct rtattr *nest;

	nest = nest_start(m, TCA_STATS2);
	put(m, TCA_STATS_BASIC, &basic, sizeof(basic));
	put(m, TCA_STATS_QUEUE, &queue, sizeof(queue));
	if (app)
		put(m, TCA_STATS_APP, app, len);
	nest_end(m, nest);
}

static void emit(struct msg *m)
{
	if (fwrite(m->buf, NLMSG_ALIGN(m->nlh.nlmsg_len), 1, stdout) != 1) {
		perror("mkmsg: fwrite");
		exit(1);
	}
}

/* The tree of "1 >> 2 + 3" as the kernel dumps it, written by hand */
static void policy_tree(struct msg *m)
{
	static const __u16 one[] = { 1 }, two_three[] = { 2, 3 };
	struct rtattr *tree, *share;

	tree = nest_start(m, TCA_QVISOR_POLICY_TREE | NLA_F_NESTED);
	put_u8(m, TCA_QVISOR_NODE_KIND, QVISOR_NODE_STRICT);
	put(m, TCA_QVISOR_NODE_TENANTS, one, sizeof(one));
	share = nest_start(m, TCA_QVISOR_NODE_CHILD | NLA_F_NESTED);
	put_u8(m, TCA_QVISOR_NODE_KIND, QVISOR_NODE_SHARE);
	put(m, TCA_QVISOR_NODE_TENANTS, two_three, sizeof(two_three));
	nest_end(m, share);
	nest_end(m, tree);
}

/* "(1 >> 2) + 3 + (4 > 5)" and the properties inside its two groups;
 * with @p7 as a module that states P7 (no for the policy, yes inside
 * (1 >> 2), no inside (4 > 5))
 */
static void qdisc_nested(struct msg *m, int p7)
{
	static const __u16 one_two[] = { 1, 2 }, three[] = { 3 }, four[] = { 4 },
			   five[] = { 5 };
	__u32 gprops[] = {
		QVISOR_PROP_APPROX(1) | QVISOR_PROP_HOLDS(2) |
		QVISOR_PROP_HOLDS(3) | QVISOR_PROP_HOLDS(4) |
		QVISOR_PROP_HOLDS(5) | QVISOR_PROP_HOLDS(6),
		0x3f,
	};
	struct rtattr *opt, *tree, *g;

	if (p7) {
		gprops[0] |= QVISOR_PROP_KNOWN(7) | QVISOR_PROP_HOLDS(7);
		gprops[1] |= QVISOR_PROP_KNOWN(7);
	}
	start(m, RTM_NEWQDISC, 0x10000, TC_H_ROOT);
	opt = nest_start(m, TCA_OPTIONS);
	put_u8(m, TCA_QVISOR_BACKEND, QVISOR_BACKEND_PIFO);
	put_u32(m, TCA_QVISOR_PROPS, 0x3f | (p7 ? QVISOR_PROP_KNOWN(7) : 0));
	tree = nest_start(m, TCA_QVISOR_POLICY_TREE | NLA_F_NESTED);
	put_u8(m, TCA_QVISOR_NODE_KIND, QVISOR_NODE_SHARE);
	g = nest_start(m, TCA_QVISOR_NODE_CHILD | NLA_F_NESTED);
	put_u8(m, TCA_QVISOR_NODE_KIND, QVISOR_NODE_STRICT);
	put(m, TCA_QVISOR_NODE_TENANTS, one_two, sizeof(one_two));
	nest_end(m, g);
	put(m, TCA_QVISOR_NODE_TENANTS, three, sizeof(three));
	g = nest_start(m, TCA_QVISOR_NODE_CHILD | NLA_F_NESTED);
	put_u8(m, TCA_QVISOR_NODE_KIND, QVISOR_NODE_PREFER);
	put(m, TCA_QVISOR_NODE_TENANTS, four, sizeof(four));
	put(m, TCA_QVISOR_NODE_TENANTS, five, sizeof(five));
	nest_end(m, g);
	nest_end(m, tree);
	put(m, TCA_QVISOR_GROUP_PROPS, gprops, sizeof(gprops));
	nest_end(m, opt);
}

static void qdisc_full(struct msg *m)
{
	struct tc_qvisor_xstats xs = {
		.type = QVISOR_XSTATS_QDISC,
		.tenants = 3, .buckets = 4096, .joint_width = 130, .tiers = 2,
		.blocked = 1, .deferred = 7, .rounds = 8, .refills = 9,
		.drop_pushout = 11, .drop_limit = 12, .drop_tenant_limit = 13,
		.drop_classify = 14, .implicit_pkts = 15, .default_pkts = 16,
		.throttled = 17, .inversions = 18, .resynth = 19,
		.flows = 4096, .flows_live = 40, .flows_new = 41,
		.flows_evicted = 42, .flows_aged = 43,
	};
	struct rtattr *opt;

	start(m, RTM_NEWQDISC, 0x10000, TC_H_ROOT);
	opt = nest_start(m, TCA_OPTIONS);
	put_u64(m, TCA_QVISOR_RATE, 12500000);	/* 100mbit */
	put_u32(m, TCA_QVISOR_LIMIT, 500);
	put_u32(m, TCA_QVISOR_BUCKETS, 1024);
	put_u32(m, TCA_QVISOR_SLOT, 2000);
	put_u32(m, TCA_QVISOR_DEFAULT, 0x10);
	put_u8(m, TCA_QVISOR_BACKEND, QVISOR_BACKEND_PIFO);
	put_u32(m, TCA_QVISOR_QUEUES, 0);
	policy_tree(m);		/* "1 >> 2 + 3" */
	put_u32(m, TCA_QVISOR_OVERLAP, 30);
	put_u32(m, TCA_QVISOR_FLOWS, 4096);
	put_u32(m, TCA_QVISOR_FLOW_IDLE, 200000);	/* 200ms */
	nest_end(m, opt);
	stats(m, &xs, sizeof(xs));
}

/* xstats of a kernel from before the flow table: no flow counters */
static void qdisc_oldstats(struct msg *m)
{
	struct tc_qvisor_xstats xs = {
		.type = QVISOR_XSTATS_QDISC, .tenants = 2, .resynth = 5,
		.flows = 99,
	};

	start(m, RTM_NEWQDISC, 0x10000, TC_H_ROOT);
	stats(m, &xs, offsetof(struct tc_qvisor_xstats, flows));
}

static void qdisc_min(struct msg *m)
{
	struct rtattr *opt;

	start(m, RTM_NEWQDISC, 0x10000, TC_H_ROOT);
	opt = nest_start(m, TCA_OPTIONS);
	put_u64(m, TCA_QVISOR_RATE, 0);
	put_u32(m, TCA_QVISOR_LIMIT, 10000);
	put_u32(m, TCA_QVISOR_DEFAULT, 0);
	nest_end(m, opt);
	stats(m, NULL, 0);
}

static void qdisc_sppifo(struct msg *m)
{
	struct tc_qvisor_xstats xs = {
		.type = QVISOR_XSTATS_QDISC, .tiers = 3,
		.unpifoness = 31, .drop_admission = 0, .pushdowns = 32,
		.backend = QVISOR_BACKEND_SPPIFO, .nqueues = 3,
		.queue_len = { 4, 0, 7 }, .queue_bound = { 12, 0, 77 },
		.queue_tier = { 0, 0, 1 }, .lends = 33,
	};
	struct rtattr *opt;

	start(m, RTM_NEWQDISC, 0x10000, TC_H_ROOT);
	opt = nest_start(m, TCA_OPTIONS);
	put_u8(m, TCA_QVISOR_BACKEND, QVISOR_BACKEND_SPPIFO);
	put_u32(m, TCA_QVISOR_QUEUES, 8);
	put_u8(m, TCA_QVISOR_PARTIAL, 1);
	put_u32(m, TCA_QVISOR_LEND, 100000);	/* 100ms */
	put_u32(m, TCA_QVISOR_PROPS, QVISOR_PROP_APPROX(1) |
		QVISOR_PROP_APPROX(2) | QVISOR_PROP_HOLDS(3) |
		QVISOR_PROP_APPROX(4) | QVISOR_PROP_HOLDS(5));
	nest_end(m, opt);
	stats(m, &xs, sizeof(xs));
}

/* TCA_QVISOR_QSTATS: @n queues, bound only if @bound */
static void qstats(struct msg *m, int n, const __u32 *len, const __u32 *bound,
		   const __u32 *tier)
{
	struct rtattr *all, *one;
	int i;

	all = nest_start(m, TCA_QVISOR_QSTATS | NLA_F_NESTED);
	for (i = 0; i < n; i++) {
		one = nest_start(m, TCA_QVISOR_QSTATS_QUEUE | NLA_F_NESTED);
		put_u32(m, TCA_QVISOR_QUEUE_LEN, len[i]);
		if (bound)
			put_u32(m, TCA_QVISOR_QUEUE_BOUND, bound[i]);
		put_u32(m, TCA_QVISOR_QUEUE_TIER, tier[i]);
		nest_end(m, one);
	}
	nest_end(m, all);
}

/* qdisc-sppifo from a module with TCA_QVISOR_QSTATS: the queues are read
 * from it, so the xstats arrays hold other values here (a module fills
 * both alike).  Four queues: one more than xstats' nqueues.
 */
static void qdisc_sppifo_qstats(struct msg *m)
{
	static const __u32 len[] = { 4, 0, 7, 5 }, bound[] = { 12, 0, 77, 90 };
	static const __u32 tier[] = { 0, 0, 1, 2 };
	struct tc_qvisor_xstats xs = {
		.type = QVISOR_XSTATS_QDISC, .tiers = 3,
		.unpifoness = 31, .drop_admission = 0, .pushdowns = 32,
		.backend = QVISOR_BACKEND_SPPIFO, .nqueues = 3,
		.queue_len = { 99, 99, 99 }, .queue_bound = { 98, 98, 98 },
		.queue_tier = { 9, 9, 9 },
	};
	struct rtattr *opt;

	start(m, RTM_NEWQDISC, 0x10000, TC_H_ROOT);
	opt = nest_start(m, TCA_OPTIONS);
	put_u8(m, TCA_QVISOR_BACKEND, QVISOR_BACKEND_SPPIFO);
	put_u32(m, TCA_QVISOR_QUEUES, 8);
	qstats(m, 4, len, bound, tier);
	nest_end(m, opt);
	stats(m, &xs, sizeof(xs));
}

/* aifo with TCA_QVISOR_QSTATS: one queue, no bound */
static void qdisc_aifo_qstats(struct msg *m)
{
	static const __u32 len[] = { 43 }, tier[] = { 0 };
	struct tc_qvisor_xstats xs = {
		.type = QVISOR_XSTATS_QDISC, .backend = QVISOR_BACKEND_AIFO,
		.nqueues = 1, .queue_len = { 99 },
	};
	struct rtattr *opt;

	start(m, RTM_NEWQDISC, 0x10000, TC_H_ROOT);
	opt = nest_start(m, TCA_OPTIONS);
	put_u8(m, TCA_QVISOR_BACKEND, QVISOR_BACKEND_AIFO);
	qstats(m, 1, len, NULL, tier);
	nest_end(m, opt);
	stats(m, &xs, sizeof(xs));
}

static void qdisc_aifo(struct msg *m)
{
	struct tc_qvisor_xstats xs = {
		.type = QVISOR_XSTATS_QDISC, .tiers = 2,
		.unpifoness = 41, .drop_admission = 42,
		.backend = QVISOR_BACKEND_AIFO, .nqueues = 1,
		.aifo_window = 64, .aifo_k = 10, .queue_len = { 43 },
	};
	struct rtattr *opt;

	start(m, RTM_NEWQDISC, 0x10000, TC_H_ROOT);
	opt = nest_start(m, TCA_OPTIONS);
	put_u8(m, TCA_QVISOR_BACKEND, QVISOR_BACKEND_AIFO);
	put_u8(m, TCA_QVISOR_PARTIAL, 0);
	put_u32(m, TCA_QVISOR_PROPS, QVISOR_PROP_APPROX(2) |
		QVISOR_PROP_HOLDS(3) | QVISOR_PROP_HOLDS(5) |
		QVISOR_PROP_HOLDS(6));
	nest_end(m, opt);
	stats(m, &xs, sizeof(xs));
}

static void class_opts(struct msg *m, __u8 rank, __u32 mask, __u64 ceil,
		       __u32 limit, __u32 rauto)
{
	struct rtattr *opt;

	opt = nest_start(m, TCA_OPTIONS);
	put_u8(m, TCA_QVISOR_CLASS_RANK, rank);
	put_u32(m, TCA_QVISOR_CLASS_MARK_MASK, mask);
	put_u32(m, TCA_QVISOR_CLASS_LO, 3);
	put_u32(m, TCA_QVISOR_CLASS_HI, 9);
	put_u32(m, TCA_QVISOR_CLASS_LEVELS, 3);
	put_u32(m, TCA_QVISOR_CLASS_WEIGHT, 60);
	put_u64(m, TCA_QVISOR_CLASS_CEIL, ceil);
	put_u32(m, TCA_QVISOR_CLASS_BURST, 15360);
	put_u32(m, TCA_QVISOR_CLASS_LIMIT, limit);
	put_u64(m, TCA_QVISOR_CLASS_EDF_BUDGET, 10000000);	/* 10ms */
	if (rauto)
		put_u32(m, TCA_QVISOR_CLASS_RANGE_AUTO, rauto);
	nest_end(m, opt);
}

/* @len: the xstats bytes sent, 0 = all (a shorter struct is an older
 * module's)
 */
static void class_full(struct msg *m, __u8 rank, __u32 mask, __u64 ceil,
		       __u32 limit, __u32 rauto, size_t len)
{
	struct tc_qvisor_cl_xstats xs = {
		.type = QVISOR_XSTATS_CLASS,
		.tier = 1, .level = 2, .offset = 64, .width = 3,
		.group_members = 2, .share_ppm = 600000, .quantum = 2280,
		.credit = -120, .tokens = 4000, .deferred = 6,
		.rank_min = 3, .rank_max = 9, .joint_min = 64,
		.joint_max = 66, .clamped = 5, .clamped_pkts = 5,
		.drop_pushout = 21, .drop_limit = 22, .drop_tenant_limit = 23,
		.inversions = 24, .drop_admission = 25, .unpifoness = 26,
		.rauto_updates = rauto ? 27 : 0,
		.best_pkts = 28, .shift_ppm = rauto ? 290000 : 0,
	};

	start(m, RTM_NEWTCLASS, 0x10003, 0x10000);
	class_opts(m, rank, mask, ceil, limit, rauto);
	stats(m, &xs, len ? len : sizeof(xs));
}

int main(int argc, char **argv)
{
	static struct msg m;
	const char *s;

	if (argc != 2) {
		fprintf(stderr, "usage: mkmsg SCENARIO > FILE\n");
		return 1;
	}
	s = argv[1];
	if (strcmp(s, "qdisc-full") == 0) {
		qdisc_full(&m);
	} else if (strcmp(s, "qdisc-oldstats") == 0) {
		qdisc_oldstats(&m);
	} else if (strcmp(s, "qdisc-min") == 0) {
		qdisc_min(&m);
	} else if (strcmp(s, "qdisc-nested") == 0) {
		qdisc_nested(&m, 0);
	} else if (strcmp(s, "qdisc-p7") == 0) {
		qdisc_nested(&m, 1);
	} else if (strcmp(s, "qdisc-sppifo") == 0) {
		qdisc_sppifo(&m);
	} else if (strcmp(s, "qdisc-aifo") == 0) {
		qdisc_aifo(&m);
	} else if (strcmp(s, "qdisc-sppifo-qstats") == 0) {
		qdisc_sppifo_qstats(&m);
	} else if (strcmp(s, "qdisc-aifo-qstats") == 0) {
		qdisc_aifo_qstats(&m);
	} else if (strcmp(s, "class-full") == 0) {
		class_full(&m, QVISOR_RANK_MARK, 0xff, 1250000, 100, 0, 0);
	} else if (strcmp(s, "class-rauto") == 0) {
		class_full(&m, QVISOR_RANK_PRIO, 0xffffffff, 0, 0, 512, 0);
	} else if (strcmp(s, "class-rauto-old") == 0) {
		/* a module before best_pkts: xstats end at rauto_updates */
		class_full(&m, QVISOR_RANK_PRIO, 0xffffffff, 0, 0, 512,
			   offsetof(struct tc_qvisor_cl_xstats, best_pkts));
	} else if (strcmp(s, "class-edf") == 0) {
		class_full(&m, QVISOR_RANK_EDF, 0xffffffff, 0, 0, 0, 0);
	} else if (strcmp(s, "class-mark-all") == 0) {
		class_full(&m, QVISOR_RANK_MARK, 0xffffffff, 0, 0, 0, 0);
	} else if (strcmp(s, "class-nostats") == 0) {
		start(&m, RTM_NEWTCLASS, 0x10003, 0x10000);
		class_opts(&m, QVISOR_RANK_DSCP, 0xffffffff, 0, 0, 0);
	} else {
		fprintf(stderr, "mkmsg: unknown scenario \"%s\"\n", s);
		return 1;
	}
	emit(&m);
	return 0;
}
