// SPDX-License-Identifier: GPL-2.0-only
/*
 * qvisor: a scheduling hypervisor qdisc
 *
 * Copyright (C) 2026 The qvisor developers
 *
 * Several tenants share one egress link.  Each tenant (a class 1:MINOR)
 * orders its own packets by rank, as if it owned a PIFO queue; the operator
 * writes one policy ("1 >> 2 > 3 + 4": strict priority, best-effort
 * preference, sharing) and qvisor synthesizes the joint schedule.  tc
 * parses the policy and sends it as a tree of nested attributes
 * (TCA_QVISOR_POLICY_TREE), which core/policy_tree.c validates and
 * flattens into tiers, levels and tenants, and nested groups
 * ("(1 >> 2) + 3"): a nested group is one member of its '+' group, laid
 * out inside that group's interval, and its tenants share one credit
 * account (qvisor_class.acct).
 *
 * Algorithm
 * ---------
 * Per packet:
 *  - classify: attached filters, else skb->priority whose major is our
 *    handle, else the default class, else an implicit best-effort tenant in
 *    the lowest tier.  Nothing is dropped for lack of a class.
 *  - rank: from skb->priority, bits of skb->mark, the DSCP, arrival
 *    order (fifo), or a rank function computed here (include/qvisor/
 *    rank.h): las (bytes the flow sent before), stfq (start-time fair
 *    queueing tag) or edf (arrival + deadline budget), as the tenant's
 *    class says.  Per-flow state lives in a bounded, preallocated
 *    set-associative flow table keyed by the skb flow hash
 *    (include/qvisor/flow.h); a new flow replaces an idle or the least
 *    recently used entry of its set, never allocates.
 *  - transform: the tenant's synthesized transform (include/qvisor/synth.h)
 *    clamps the rank to the declared range, quantizes it and shifts it
 *    into the tenant's interval of the joint rank space.  Strict tiers are
 *    disjoint intervals, so a tenant can never leave its tier.
 *  - enqueue into the bucket array (include/qvisor/bucket.h): one FIFO per
 *    joint rank and a three-level bitmap, so enqueue and dequeue are O(1)
 *    for any number of buckets and tenants.
 *  - buffer: when sch->limit packets are queued, the oldest packet of the
 *    worst non-empty bucket is pushed out if the arriving packet ranks
 *    better; otherwise the arriving packet is dropped.  A higher tier always
 *    ranks better, so a lower tier can never push it out.  A tenant over
 *    its own limit has the arriving packet dropped.  The arriving packet
 *    is then accepted (NET_XMIT_SUCCESS) and the parents are told that
 *    the pushed-out packet left (qdisc_tree_reduce_backlog, as sfq and
 *    fq_codel do), so their backlog stays exact under any parent.
 *  - backends sppifo N, aifo and fifo use the same array as their FIFO
 *    queues (queue i is bucket i, queue 0 served first): sppifo puts a
 *    packet into a queue of its strict tier's range chosen by SP-PIFO,
 *    aifo admits by rank quantile into queue 0, fifo uses queue 0
 *    (include/qvisor/{sppifo,aifo,qmap}.h, Documentation/backends.md).
 *  - dequeue: the head of the lowest non-empty bucket.  With a qdisc rate,
 *    a virtual clock spaces packets by their length; when it is ahead of
 *    now the qdisc watchdog is armed for that time and nothing is returned.
 *
 * Control path: every configuration change (qdisc change, class add,
 * change, delete) parses and validates everything, synthesizes the new
 * transforms into freshly allocated memory, and only then commits under
 * sch_tree_lock.  A rejected change leaves configuration and queued packets
 * exactly as they were.  When a commit moves any tenant's transform (or
 * the number of buckets changes), every queued packet is re-placed by the
 * new transforms in the order it would have left (qvisor_replace()), so
 * P1-P6 of the new configuration hold from the first dequeue; O(queued),
 * at most sch->limit packets.  A changed ceil or rate starts its token
 * bucket or clock over.
 *
 * Statistics dumps cost O(tenants) under the qdisc lock: counts are kept
 * as packets move, and the flow table is counted outside the lock.
 */

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/skbuff.h>
#include <linux/string.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/log2.h>
#include <net/dsfield.h>
#include <net/flow_dissector.h>
#include <net/inet_ecn.h>
#include <net/netlink.h>
#include <net/pkt_cls.h>
#include <net/pkt_sched.h>
#include <net/sch_generic.h>
#include <uapi/linux/pkt_sched_qvisor.h>

#include "qvisor_compat.h"
#include "qvisor/policy.h"
#include "qvisor/policy_tree.h"
#include "qvisor/synth.h"
#include "qvisor/bucket.h"
#include "qvisor/credit.h"
#include "qvisor/rank.h"
#include "qvisor/flow.h"
#include "qvisor/sppifo.h"
#include "qvisor/aifo.h"
#include "qvisor/qmap.h"
#include "qvisor/aqm.h"
#include "qvisor/rauto.h"

#define CREATE_TRACE_POINTS
#include <trace/events/qvisor.h>

#define QVISOR_IMPLICIT_SLOT	QVISOR_MAX_TENANTS
#define QVISOR_RATE_SLACK_NS	NSEC_PER_MSEC
#define QVISOR_RATE_CATCHUP_NS	(100 * NSEC_PER_MSEC)
#define QVISOR_DEFERRED_BUCKETS	64	/* a tenant's deferred queue */
/* split_gso auto: split GSO packets with a rate of at most 1 Gbit/s */
#define QVISOR_SPLIT_GSO_AUTO_BPS	(125ULL * 1000 * 1000)
#define QVISOR_TS_SHIFT		10	/* cb->tstamp is ns >> 10 */
#define QVISOR_MEM_PUSHOUTS	4	/* for one packet over memlimit */
#define QVISOR_AQM_MAX_DROPS	4	/* AQM drops in one dequeue, at most */

/* the core's range auto limits are the uapi's */
static_assert(QV_RAUTO_MIN_WINDOW == QVISOR_RAUTO_MIN_WINDOW);
static_assert(QV_RAUTO_MAX_WINDOW == QVISOR_RAUTO_MAX_WINDOW);

struct qvisor_skb_cb {
	u32	rank;	/* raw rank, before the transform */
	u32	seq;	/* enqueue sequence number */
	u16	joint;	/* bucket */
	u16	slot;	/* tenant slot */
	u32	tstamp;	/* arrival, ns >> QVISOR_TS_SHIFT (wraps) */
};

static struct qvisor_skb_cb *qvisor_skb_cb(const struct sk_buff *skb)
{
	qdisc_cb_private_validate(skb, sizeof(struct qvisor_skb_cb));
	return (struct qvisor_skb_cb *)qdisc_skb_cb(skb)->data;
}

/* What a tenant's class is configured with */
struct qvisor_ccfg {
	u64	ceil;		/* bytes per second, 0 = none */
	u64	edf_budget;	/* ns */
	u32	mark_mask;
	u32	lo;
	u32	hi;
	u32	levels;
	u32	weight;
	u32	burst;
	u32	limit;		/* packets, 0 = qdisc limit only */
	u32	target_us;	/* AQM, 0 = the qdisc's */
	u32	interval_us;	/* AQM, 0 = the qdisc's */
	u32	rauto;		/* range auto window, packets; 0 = off */
	u8	aqm;		/* QVISOR_AQM_* */
	u8	ecn;		/* QVISOR_AQM_* */
	u8	rank;		/* QVISOR_RANK_* */
	bool	range_set;	/* lo/hi given, not the rank source's default */
	bool	edf_mark;	/* edf: a non-zero skb->mark is the budget */
};

/* Runtime state of one sharing group ('+'), rebuilt at every synthesis:
 * a '+' level of the policy's top (q->groups[0, ntop)) or of a nested
 * group (after them)
 */
struct qvisor_group {
	struct list_head		waiting;	/* tenants out of credit */
	struct list_head		todo;		/* on q->todo: may round */
	/* kept for groups of several tenants (with credits) only */
	u64				bytes;		/* sent since synthesis */
	u32				admitted;	/* its packets in the PIFO */
	u32				ready;		/* accounts with credit
							 * and packets queued
							 */
	bool				outer;		/* its tenants have credits
							 * in a group above too
							 */
	u32				round;
	u32				members;
	u32				wmin;
	u64				wsum;		/* members' weights */
};

/* A member's credit in a sharing group of several members: a tenant's
 * own, or its nested group's, which all its tenants are charged to
 */
struct qvisor_acct {
	s64				credit;		/* bytes */
	u32				round;		/* group round last seen */
	u32				quantum;	/* bytes per round */
	u64				weight;		/* a group's: its tenants' */
	u32				queued;		/* its tenants' packets */
	bool				counted;	/* synthesis scratch */
	bool				live;		/* set up this synthesis */
	bool				had;		/* ... and the one before */
};

/* A sharing group a tenant's packets count in, and the account charged */
struct qvisor_link {
	struct qvisor_group		*g;
	struct qvisor_acct		*a;
};

#define QVISOR_LINKS	(QV_POLICY_MAX_NEST + 1)

/* A tenant's way down its nested groups (qv_pol_steps()) */
struct qvisor_path {
	struct qv_pol_step		st[QV_POLICY_MAX_NEST];
	u8				n;
};

struct qvisor_class {
	struct Qdisc_class_common	common;	/* first */
	struct qvisor_ccfg		cfg;
	struct qv_xform			xf;	/* read by the datapath */
	u32				slot;
	u32				filter_cnt;
	s32				pol_idx;	/* synthesis scratch */

	/* credits and cap (see include/qvisor/credit.h) */
	struct qvisor_group		*grp;		/* of the policy's top */
	struct qvisor_path		path;		/* down its nested groups */
	struct qvisor_acct		own;		/* as a member itself */
	struct qvisor_link		link[QVISOR_LINKS]; /* top first */
	u8				nlinks;		/* with credits: weights
							 * enforced when > 0
							 */
	bool				blocked;	/* on the blocked list */
	struct psched_ratecfg		ceil_rate;
	struct qv_cap			cap;		/* ns of ceil rate */
	struct list_head		dlist;		/* waiting or blocked */
	u32				deferred_qlen;	/* packets deferred */
	u64				deferred_mult;	/* joint offset -> deferred bucket */
	struct qv_barray		deferred_q;	/* deferred packets, by rank */
	u64				dq_leaf;
	struct qv_bucket		dq_b[QVISOR_DEFERRED_BUCKETS];

	/* datapath state */
	u32				qlen;
	u32				mem;		/* truesize held */
	u32				inv_rank;	/* inversion tracking */
	u32				inv_seq;
	u16				inv_joint;
	bool				inv_valid;
	/* set at synthesis (qvisor_set_fast()) */
	bool				fast;		/* straight-line path */
	bool				no_inv;		/* no inversion possible */
	bool				inv_drain;	/* no_inv once queue empties */
	bool				aqm_on;
	struct qv_aqm_cfg		aqm_cfg;	/* if aqm_on */
	struct qv_rbase			rbase;		/* stfq, edf */
	struct qv_aqm			aqm;		/* sojourn AQM */
	struct qv_rauto			*ra;		/* range auto: set the
							 * first time it is
							 * enabled, kept
							 */

	/* statistics */
	struct gnet_stats_basic_sync	bstats;
	struct gnet_stats_queue		qstats;
	struct net_rate_estimator __rcu	*rate_est;
	u32				rank_min;	/* above rank_max: none */
	u32				rank_max;
	u32				joint_min;
	u32				joint_max;
	u64				clamped;
	u64				best;		/* rank <= xf.lo */
	u64				drop_pushout;
	u64				drop_limit;
	u64				drop_tenant_limit;
	u64				inversions;
	u64				share_base;	/* bstats bytes at synthesis */
	struct qv_inv			qinv;		/* queue backends */
	u64				unpifoness;
	u64				drop_admission;
	u64				aqm_drops;
	u64				ecn_marks;
	u64				max_sojourn;	/* ns */
};

struct qvisor_sched_data {
	/* configuration, read mostly */
	u64				rate;		/* bytes/s, 0 = none */
	struct psched_ratecfg		ratecfg;
	u32				buckets;
	u32				slot_us;
	u32				defcls;
	u32				queues;
	u32				overlap;
	u8				backend;
	u8				split_gso;	/* TCA_QVISOR_SPLIT_GSO_* */
	u8				aqm;		/* tenants' default */
	u8				ecn;
	u32				target_us;	/* AQM */
	u32				interval_us;
	bool				limit_set;	/* given, not auto */
	u32				memlimit;	/* bytes, 0 = none */
	struct qv_policy		pol;
	struct qv_pol_ent		*pol_ent;
	struct qv_pol_grp		*pol_grp;	/* its nested groups */
	struct qvisor_acct		*gacct;		/* nested group -> its
							 * credit account
							 */
	struct list_head		todo;		/* groups that may round */
	struct list_head		rel;		/* tenants to release */

	/* tenants */
	struct Qdisc_class_hash		clhash;
	struct qvisor_class		**slots;	/* slot -> class */
	struct qvisor_class		*defcl;		/* defcls's, or NULL */
	struct qvisor_class		*prio_cl;	/* last found by priority,
							 * or NULL (qvisor_rebuild())
							 */
	struct qvisor_class		implicit;
	u32				ntenants;
	u32				width;
	u32				tiers;
	struct tcf_proto __rcu		*filter_list;
	struct tcf_block		*block;
	u32				fcount;		/* qvisor_filters_of() */
	struct qvisor_group		*groups;
	u32				ngroups;
	u32				ntop;		/* of the policy's top */
	struct list_head		blocked;	/* capped, no tokens */
	struct qvisor_class		*fattest;	/* longest queue, lazily */
	u64				slot_next;	/* next refill, ns */

	/* datapath */
	struct qv_barray		ba;
	u32				seq;
	u64				t_next;		/* rate clock, ns */
	bool				rate_idle;	/* queue ran empty */
	struct qdisc_watchdog		watchdog;
	struct qv_ftable		ft;		/* las, stfq flows */
	u32				flows;		/* entries */
	u32				flow_idle_us;
	u8				*flow_gen;	/* per slot, see flow.h */
	/* packets pushed out by this enqueue, told to the parents at its
	 * end (qvisor_enqueue)
	 */
	u32				pushed_pkts;
	u32				pushed_bytes;
	u64				mem;		/* truesize held */
	/* packets in each queue of a queue backend */
	u32				qcount[QVISOR_MAX_SPPIFO_Q];

	/* statistics */
	u64				stat_drop_pushout;
	u64				stat_drop_limit;
	u64				stat_drop_tenant_limit;
	u64				stat_drop_classify;
	u64				stat_implicit;
	u64				stat_default;
	u64				stat_throttled;
	u64				stat_inversions;
	u64				stat_resynth;
	u64				stat_rounds;
	u64				stat_refills;
	u64				stat_replaced;	/* re-placed by a change */

	/* queue backends (sppifo, aifo, fifo) */
	bool				partial;
	u32				props;		/* TCA_QVISOR_PROPS */
	u32				*gprops;	/* ... inside each nested
							 * group: TCA_QVISOR_GROUP_PROPS
							 */
	u32				ngprops;
	struct qv_qmap			qmap;		/* tier -> queues, now */
	struct qv_qmap			qmap_base;	/* ... as planned */
	struct qv_sppifo		sp;
	/* lending (TCA_QVISOR_LEND): tiers idle and lending, tiers that
	 * admitted a packet since the last check, when each was last seen
	 * active, the next check (U64_MAX: off)
	 */
	u32				lend_us;
	u32				lend_idle;
	u32				lend_seen;
	u64				lend_next;
	u64				lend_last[QV_SPPIFO_MAX];
	u64				stat_lends;
	struct qv_aifo			aifo;
	u64				stat_unpifoness;
	u64				stat_drop_admission;
	u64				stat_aqm_drops;
	u64				stat_ecn_marks;
	u64				stat_drop_memlimit;
};

/* A synthesized schedule, built before it is committed */
struct qvisor_plan {
	struct qvisor_class	**cls;		/* n tenants */
	struct qv_xform		*xf;		/* n + 1: the last is implicit */
	struct qvisor_group	*groups;
	u32			ngroups;	/* ntop + levels in groups */
	u32			ntop;
	struct qvisor_path	*paths;		/* n */
	u32			n;
	u32			width;
	u32			tiers;
	/* backend the plan is for: the qdisc's unless be_set */
	bool			be_set;
	u8			backend;
	bool			partial;
	u32			queues;
	struct qv_qmap		qmap;
	u32			props;
	u32			*gprops;	/* per nested group */
	u32			ngprops;
};

/* ---------------------------------------------------------------------- */
/* Datapath                                                               */

static struct qvisor_class *qvisor_find(struct Qdisc *sch, u32 classid)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);
	struct Qdisc_class_common *c;

	c = qdisc_class_find(&q->clhash, classid);
	return c ? container_of(c, struct qvisor_class, common) : NULL;
}

/* The attached filters' verdict: the tenant, NULL for no class, or
 * ERR_PTR(-EINPROGRESS) when an action took the packet and
 * ERR_PTR(-ECANCELED) when one dropped it.  Out of line and without
 * pointers to the caller's variables: the no-filter path keeps no
 * tcf_result (nor a stack canary for it).
 */
static noinline struct qvisor_class *
qvisor_classify_filters(struct sk_buff *skb, struct Qdisc *sch,
			struct tcf_proto *fl)
{
	struct qvisor_class *cl;
	struct tcf_result res;
	int result;

	result = tcf_classify(skb, NULL, fl, &res, false);
#ifdef CONFIG_NET_CLS_ACT
	switch (result) {
	case TC_ACT_QUEUED:
	case TC_ACT_STOLEN:
	case TC_ACT_TRAP:
		return ERR_PTR(-EINPROGRESS);
	case TC_ACT_SHOT:
		return ERR_PTR(-ECANCELED);
	}
#endif
	if (result < 0)
		return NULL;
	cl = (struct qvisor_class *)res.class;
	return cl ? cl : qvisor_find(sch, res.classid);
}

/* The tenant whose class skb->priority names, the last one found
 * remembered (as one packet is usually followed by more of its flow)
 */
static struct qvisor_class *qvisor_classify_prio(struct sk_buff *skb,
						 struct Qdisc *sch)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);
	struct qvisor_class *cl = q->prio_cl;

	if (likely(cl && cl->common.classid == skb->priority))
		return cl;
	cl = qvisor_find(sch, skb->priority);
	if (cl)
		q->prio_cl = cl;
	return cl;
}

/* Returns the tenant, or NULL when a filter action took or dropped the
 * packet (*qerr says which).
 */
static struct qvisor_class *qvisor_classify(struct sk_buff *skb,
					    struct Qdisc *sch, int *qerr)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);
	struct qvisor_class *cl;
	struct tcf_proto *fl;

	*qerr = NET_XMIT_SUCCESS | __NET_XMIT_BYPASS;
	fl = rcu_dereference_bh(q->filter_list);
	if (fl) {
		cl = qvisor_classify_filters(skb, sch, fl);
		if (IS_ERR(cl)) {
			if (PTR_ERR(cl) == -EINPROGRESS)
				*qerr = NET_XMIT_SUCCESS | __NET_XMIT_STOLEN;
			return NULL;
		}
		if (cl)
			return cl;
	}
	if (TC_H_MAJ(skb->priority) == sch->handle) {
		cl = qvisor_classify_prio(skb, sch);
		if (cl)
			return cl;
	}
	if (q->defcl) {
		q->stat_default++;
		return q->defcl;
	}
	q->stat_implicit++;
	return &q->implicit;
}

static noinline u32 qvisor_dscp(struct sk_buff *skb)
{
	int nhoff = skb_network_offset(skb);

	switch (skb_protocol(skb, true)) {
	case htons(ETH_P_IP):
		if (!pskb_may_pull(skb, nhoff + sizeof(struct iphdr)))
			return 0;
		return ipv4_get_dsfield(ip_hdr(skb)) >> 2;
	case htons(ETH_P_IPV6):
		if (!pskb_may_pull(skb, nhoff + sizeof(struct ipv6hdr)))
			return 0;
		return ipv6_get_dsfield(ipv6_hdr(skb)) >> 2;
	default:
		return 0;
	}
}

/* The flow of @skb for las and stfq: a hash of its addresses, ports and
 * protocol, from the flow dissector, without the IPv6 flow label.  Not
 * skb_get_hash(): for a local socket that is the socket's random txhash,
 * which TCP draws anew after a timeout (sk_rethink_txhash()), and over
 * IPv6 the flow label follows it.  A flow seen with a new hash would start
 * over at rank 0 under las and jump ahead of every flow that already
 * sent, a sparse one included.
 */
static u32 qvisor_flow_hash(const struct sk_buff *skb)
{
	struct flow_keys keys;

	skb_flow_dissect_flow_keys(skb, &keys, 0);
	keys.tags.flow_label = 0;
	return flow_hash_from_keys(&keys);
}

/* Rank functions computed here (include/qvisor/rank.h): las and stfq keep
 * per-flow state in the flow table, stfq and edf rank relative to the
 * tenant's base, which moves only when the tenant has nothing queued.
 */
static u32 qvisor_rank_fn(struct Qdisc *sch, struct qvisor_class *cl,
			  struct sk_buff *skb)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);
	u32 len = qdisc_pkt_len(skb);
	u64 now = ktime_get_ns();
	u32 owner = QV_FLOW_OWNER(cl->slot + 1, q->flow_gen[cl->slot]);
	struct qv_flow *f;
	u64 budget;

	switch (cl->cfg.rank) {
	case QVISOR_RANK_LAS:
		f = qv_ft_get(&q->ft, qvisor_flow_hash(skb), owner,
			      QVISOR_RANK_LAS, now, 0);
		return qv_las_rank(&f->val, len);
	case QVISOR_RANK_STFQ:
		f = qv_ft_get(&q->ft, qvisor_flow_hash(skb), owner,
			      QVISOR_RANK_STFQ, now,
			      qv_stfq_init(&cl->rbase));
		return qv_stfq_rank(&cl->rbase, &f->val, len, !cl->qlen);
	case QVISOR_RANK_EDF:
		/* with edf_mark, a mark is the packet's own budget in usec */
		budget = cl->cfg.edf_mark && skb->mark ?
			 (u64)skb->mark * NSEC_PER_USEC : cl->cfg.edf_budget;
		return qv_edf_rank(&cl->rbase, now, budget, !cl->qlen);
	default:
		return 0;
	}
}

static bool qvisor_has_flows(u8 rank)
{
	return rank == QVISOR_RANK_LAS || rank == QVISOR_RANK_STFQ;
}

/* Forget the flows of a tenant that had flow state (las, stfq): its slot
 * moves to the next generation, and only a wrapped generation costs a
 * scan of the flow table (include/qvisor/flow.h).  Control path.
 */
static void qvisor_forget_flows(struct qvisor_sched_data *q,
				const struct qvisor_class *cl)
{
	if (!qvisor_has_flows(cl->cfg.rank))
		return;
	if (!++q->flow_gen[cl->slot])
		qv_ft_forget(&q->ft, cl->slot + 1);
}

/* The tenant's rank source changes (control path, under the tree lock):
 * its flows and its base start over.
 */
static void qvisor_rank_restart(struct qvisor_sched_data *q,
				struct qvisor_class *cl, u8 rank)
{
	qvisor_forget_flows(q, cl);
	memset(&cl->rbase, 0, sizeof(cl->rbase));
	if (rank == QVISOR_RANK_EDF)
		cl->rbase.base = ktime_get_ns();
}

/* A packet of @cl left the scheduler: stfq's virtual time follows it */
static void qvisor_rank_dequeued(struct qvisor_class *cl,
				 const struct qvisor_skb_cb *cb)
{
	if (cl->cfg.rank == QVISOR_RANK_STFQ)
		qv_stfq_dequeued(&cl->rbase, cb->rank);
}

static u32 qvisor_rank(struct Qdisc *sch, struct qvisor_class *cl,
		       struct sk_buff *skb)
{
	u32 mask = cl->cfg.mark_mask;

	switch (cl->cfg.rank) {
	case QVISOR_RANK_PRIO:
		/* a priority MAJOR:MINOR naming this qdisc ranks by MINOR */
		if (TC_H_MAJ(skb->priority) == sch->handle)
			return TC_H_MIN(skb->priority);
		return skb->priority;
	case QVISOR_RANK_MARK:
		return mask ? (skb->mark & mask) >> __ffs(mask) : 0;
	case QVISOR_RANK_DSCP:
		return qvisor_dscp(skb);
	case QVISOR_RANK_LAS:
	case QVISOR_RANK_STFQ:
	case QVISOR_RANK_EDF:
		return qvisor_rank_fn(sch, cl, skb);
	default:
		return 0;
	}
}

/* range auto with a table: ranks are placed by their distribution, none
 * is clamped (before the first table, the declared range is used)
 */
static bool qvisor_rauto_on(const struct qvisor_class *cl)
{
	return cl->cfg.rauto && cl->ra->ready;
}

static __always_inline void qvisor_note_rank(struct qvisor_class *cl, u32 rank,
					     u32 joint)
{
	cl->rank_min = min(cl->rank_min, rank);
	cl->rank_max = max(cl->rank_max, rank);
	cl->joint_min = min(cl->joint_min, joint);
	cl->joint_max = max(cl->joint_max, joint);
	/* the best rank it can express: the low end of its range */
	cl->best += rank <= cl->xf.lo;
	if (unlikely(rank < cl->xf.lo || rank > cl->xf.hi) &&
	    !qvisor_rauto_on(cl)) {
		/* a clamped rank shares its bucket with other ranks */
		cl->clamped++;
		cl->no_inv = false;
		cl->inv_drain = false;
	}
	/* after the packet's joint rank: a new table is for the next ones */
	if (unlikely(cl->cfg.rauto))
		qv_rauto_note(cl->ra, rank);
}

static struct qvisor_class *qvisor_slot_class(struct qvisor_sched_data *q,
					      const struct sk_buff *skb)
{
	return q->slots[qvisor_skb_cb(skb)->slot];
}

/* A tenant's packets in the joint PIFO: all it holds but the deferred */
static u32 qvisor_admitted(const struct qvisor_class *cl)
{
	return cl->qlen - cl->deferred_qlen;
}

/* Whether account @a counts in its group's ready count */
static bool qvisor_ready(const struct qvisor_acct *a)
{
	return a->queued && a->credit > 0;
}

/* @n more (or, negative, fewer) packets of @cl are queued; its groups'
 * ready counts follow
 */
static void qvisor_queued(struct qvisor_class *cl, int n)
{
	struct qvisor_acct *a;
	bool was;
	u8 i;

	for (i = 0; i < cl->nlinks; i++) {
		a = cl->link[i].a;
		was = qvisor_ready(a);
		a->queued += n;
		cl->link[i].g->ready += (int)qvisor_ready(a) - (int)was;
	}
}

/* Set the credit of @l's account; its group's ready count follows */
static void qvisor_set_credit(const struct qvisor_link *l, s64 credit)
{
	bool was = qvisor_ready(l->a);

	l->a->credit = credit;
	l->g->ready += (int)qvisor_ready(l->a) - (int)was;
}

/* Take a packet off the queue's books (not off any list) */
static void qvisor_unaccount(struct Qdisc *sch, struct qvisor_class *cl,
			     struct sk_buff *skb)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);

	if (cl->nlinks)
		qvisor_queued(cl, -1);
	q->mem -= skb->truesize;
	cl->mem -= skb->truesize;
	cl->qlen--;
	cl->qstats.backlog -= qdisc_pkt_len(skb);
	qdisc_qstats_backlog_dec(sch, skb);
	sch->q.qlen--;
}

/* Credits and caps ---------------------------------------------------- */

static bool qvisor_shaped(const struct qvisor_class *cl)
{
	return cl->nlinks || cl->cfg.ceil;
}

/* The first of @cl's accounts without credit, top first, or NULL */
static struct qvisor_link *qvisor_blocking(struct qvisor_class *cl)
{
	u8 i;

	for (i = 0; i < cl->nlinks; i++)
		if (cl->link[i].a->credit <= 0)
			return &cl->link[i];
	return NULL;
}

static bool qvisor_eligible(struct qvisor_class *cl)
{
	return !qvisor_blocking(cl) && (!cl->cfg.ceil || cl->cap.tokens > 0);
}

/* An account's credit caught up with its group's rounds */
static s64 qvisor_credit_now(const struct qvisor_link *l)
{
	return qv_credit_sync(l->a->credit, l->a->round, l->g->round,
			      l->a->quantum);
}

static void qvisor_sync(struct qvisor_class *cl, u64 now)
{
	u8 i;

	for (i = 0; i < cl->nlinks; i++) {
		qvisor_set_credit(&cl->link[i], qvisor_credit_now(&cl->link[i]));
		cl->link[i].a->round = cl->link[i].g->round;
	}
	if (cl->cfg.ceil)
		qv_cap_sync(&cl->cap, now);
}

/* Backends ------------------------------------------------------------ */

static bool qvisor_queue_backend(const struct qvisor_sched_data *q)
{
	return q->backend != QVISOR_BACKEND_PIFO;
}

/* The joint rank of @rank under @cl's current transform; the fifo
 * backend ranks nothing, every packet is 0.  Used at enqueue, when a
 * deferred packet is admitted, and when a change re-places packets.
 */
static u32 qvisor_joint(const struct qvisor_sched_data *q,
			const struct qvisor_class *cl, u32 rank)
{
	if (q->backend == QVISOR_BACKEND_FIFO)
		return 0;
	if (qvisor_rauto_on(cl))
		return qv_xform_place(&cl->xf,
				      qv_rauto_level(cl->ra, rank,
						     cl->xf.levels));
	return qv_xform_apply(&cl->xf, rank);
}

/* The queue of a queue backend for a packet of @cl with joint rank
 * @joint: on sppifo a queue of its tier's range, chosen by SP-PIFO
 * (@adapt: the packet is admitted, update the bounds; else only look);
 * the single queue 0 on aifo and fifo.  At most 32 steps.
 */
static u32 qvisor_be_queue(struct qvisor_sched_data *q,
			   const struct qvisor_class *cl, u32 joint, bool adapt)
{
	u32 first, n;

	if (q->backend != QVISOR_BACKEND_SPPIFO)
		return 0;
	qv_qmap_range(&q->qmap, cl->xf.tier, &first, &n);
	if (adapt)
		return qv_sppifo_push(&q->sp, first, n, joint);
	return qv_sppifo_peek(&q->sp, first, n, joint);
}

/* Where in q->ba a packet of @cl with joint rank @joint goes: its bucket
 * on pifo (kept small so that it inlines into the enqueue), else the
 * queue backend's choice
 */
static u32 qvisor_be_index(struct qvisor_sched_data *q,
			   const struct qvisor_class *cl, u32 joint, bool adapt)
{
	if (q->backend == QVISOR_BACKEND_PIFO)
		return joint;
	return qvisor_be_queue(q, cl, joint, adapt);
}

/* Packets in queue @idx of a queue backend (for the stats dump) */
static void qvisor_qcount(struct qvisor_sched_data *q, u32 idx, int delta)
{
	if (qvisor_queue_backend(q) && idx < QVISOR_MAX_SPPIFO_Q)
		q->qcount[idx] += delta;
}

/* Take the oldest packet of bucket (queue) @idx of the joint PIFO */
static struct sk_buff *qvisor_ba_pop(struct qvisor_sched_data *q, u32 idx)
{
	qvisor_qcount(q, idx, -1);
	return qv_ba_pop(&q->ba, idx);
}

/* The next packet to leave the joint PIFO; it must not be empty */
static struct sk_buff *qvisor_ba_pop_first(struct qvisor_sched_data *q)
{
	if (qvisor_queue_backend(q))
		return qvisor_ba_pop(q, qv_ba_first(&q->ba));
	return qv_ba_pop_first(&q->ba);
}

/* Lending ------------------------------------------------------------ */

/* Install the map of the idle tiers q->lend_idle over the current one:
 * the queued packets follow their tiers' new ranges in the order they
 * would have left (qv_qmap_remap()), and the SP-PIFO bounds of the ranges
 * that changed start over, as after a new plan.  Under the qdisc lock.
 * O(queues).
 */
static void qvisor_lend_install(struct qvisor_sched_data *q)
{
	struct qv_qmap m;
	u32 t, i, f, n, of, on;

	if (!qv_qmap_lend(&m, &q->qmap_base, q->lend_idle))
		q->lend_idle = 0;
	if (qv_qmap_same(&m, &q->qmap))
		return;
	qv_qmap_remap(&q->ba, q->qcount, &q->qmap, &m);
	for (t = 0; t < m.mapped; t++) {
		qv_qmap_range(&m, t, &f, &n);
		qv_qmap_range(&q->qmap, t, &of, &on);
		if (f == of && n == on)
			continue;
		for (i = f; i < f + n; i++)
			q->sp.bound[i] = 0;
	}
	q->qmap = m;
	if (q->lend_idle)
		q->stat_lends++;
}

/* A packet of @tier is admitted: the tier is active (one OR per packet);
 * if it was lending, its queues come back at once.  P1 holds throughout:
 * the tier's kept queue is above every queue of the tiers below it.
 */
static void qvisor_lend_note(struct qvisor_sched_data *q, u32 tier)
{
	u32 b;

	tier = min(tier, q->qmap_base.mapped - 1);
	b = 1u << (tier & 31);
	q->lend_seen |= b;
	if (unlikely(q->lend_idle & b)) {
		q->lend_idle &= ~b;
		qvisor_lend_install(q);
	}
}

/* Packets in tier @t's queues of the current map */
static bool qvisor_tier_empty(const struct qvisor_sched_data *q, u32 t)
{
	u32 f, n, i;

	qv_qmap_range(&q->qmap, t, &f, &n);
	for (i = f; i < f + n; i++)
		if (q->qcount[i])
			return false;
	return true;
}

/* Every slot while packets leave: the tiers seen since the last check
 * were active now; a tier that may lend, active for none of the last
 * lend usec and with empty queues, becomes idle.  Out of line, O(queues).
 */
static noinline void qvisor_lend_tick(struct qvisor_sched_data *q, u64 now)
{
	u64 idle_ns = (u64)q->lend_us * NSEC_PER_USEC;
	u32 t, lenders, idle;

	q->lend_next = now + (u64)q->slot_us * NSEC_PER_USEC;
	for (t = 0; t < QV_SPPIFO_MAX; t++)
		if (q->lend_seen & (1u << t))
			q->lend_last[t] = now;
	q->lend_seen = 0;
	if (q->backend != QVISOR_BACKEND_SPPIFO)
		return;
	lenders = qv_qmap_lenders(&q->qmap_base) & ~q->lend_idle;
	idle = q->lend_idle;
	for (t = 0; t < q->qmap_base.mapped; t++)
		if ((lenders & (1u << t)) && now - q->lend_last[t] >= idle_ns &&
		    qvisor_tier_empty(q, t))
			idle |= 1u << t;
	if (idle != q->lend_idle) {
		q->lend_idle = idle;
		qvisor_lend_install(q);
	}
}

/* Lending starts over (a new plan, a new lend time): every tier counts
 * as active now and the planned map is in place
 */
static void qvisor_lend_reset(struct qvisor_sched_data *q)
{
	u64 now = ktime_get_ns();
	u32 t;

	for (t = 0; t < QV_SPPIFO_MAX; t++)
		q->lend_last[t] = now;
	q->lend_seen = 0;
	q->lend_idle = 0;
	q->lend_next = q->lend_us ? now : U64_MAX;
}

/* Put a packet into the joint PIFO at cb->joint (the tenant's current
 * transform: set at enqueue, recomputed for a packet that waited)
 */
static void qvisor_admit(struct qvisor_sched_data *q, struct qvisor_class *cl,
			 struct sk_buff *skb)
{
	struct qvisor_skb_cb *cb = qvisor_skb_cb(skb);
	u32 idx;
	u8 i;

	if (q->lend_us && q->backend == QVISOR_BACKEND_SPPIFO)
		qvisor_lend_note(q, cl->xf.tier);
	idx = qvisor_be_index(q, cl, cb->joint, true);

	qv_ba_push(&q->ba, idx, skb);
	qvisor_qcount(q, idx, 1);
	for (i = 0; i < cl->nlinks; i++) {
		cl->link[i].g->admitted++;
		qvisor_set_credit(&cl->link[i], cl->link[i].a->credit -
				  qdisc_pkt_len(skb));
	}
	if (cl->cfg.ceil)
		cl->cap.tokens -= psched_l2t_ns(&cl->ceil_rate,
						qdisc_pkt_len(skb));
}

/* A packet left the joint PIFO (the tenant's own count of packets in it
 * is qvisor_admitted())
 */
static void qvisor_left(struct qvisor_class *cl)
{
	u8 i;

	for (i = 0; i < cl->nlinks; i++)
		cl->link[i].g->admitted--;
}

/* Bucket of a tenant's deferred queue for a joint rank of the tenant */
static u32 qvisor_deferred_index(const struct qvisor_class *cl, u32 joint)
{
	u64 d = ((u64)(joint - cl->xf.offset) * cl->deferred_mult) >> 32;

	return min_t(u64, d, QVISOR_DEFERRED_BUCKETS - 1);
}

static void qvisor_defer(struct qvisor_class *cl, struct sk_buff *skb)
{
	qv_ba_push(&cl->deferred_q, qvisor_deferred_index(cl, qvisor_skb_cb(skb)->joint),
		   skb);
	cl->deferred_qlen++;
}

/* Group @g may start a new round: tenants wait, and nothing of it is
 * admitted (so that within a round its packets leave by rank).  A group
 * whose tenants also have credits in a group above (a '+' level inside a
 * nested group that shares with others) is paced by that account
 * already: it starts a round as soon as none of its members with credit
 * has a packet queued, as deficit round robin does.  Waiting for its
 * packets to leave would let a lower tier of its nested group spend the
 * group's credit meanwhile (P1 inside the group), and a member held up
 * only by the account above keeps its credit for the round.
 * qvisor_rotate() runs the groups marked so.
 */
static bool qvisor_may_round(const struct qvisor_group *g)
{
	if (list_empty(&g->waiting))
		return false;
	return g->outer ? !g->ready : !g->admitted;
}

static void qvisor_kick(struct qvisor_sched_data *q, struct qvisor_group *g)
{
	if (qvisor_may_round(g) && list_empty(&g->todo))
		list_add_tail(&g->todo, &q->todo);
}

/* A tenant charged to its nested group's account waits before the
 * tenants of higher joint offset, so a new round admits the group's
 * higher tiers first (P1 inside the group).  O(tenants waiting in @g).
 */
static void qvisor_wait_in_order(struct qvisor_class *cl,
				 struct qvisor_group *g)
{
	struct qvisor_class *w;

	list_for_each_entry(w, &g->waiting, dlist) {
		if (w->xf.offset > cl->xf.offset) {
			list_add_tail(&cl->dlist, &w->dlist);
			return;
		}
	}
	list_add_tail(&cl->dlist, &g->waiting);
}

/* File a tenant with deferred packets under what it waits for: the
 * slot's refill for a cap, else the first of its groups (top first) in
 * which it has no credit
 */
static void qvisor_file_waiting(struct qvisor_sched_data *q,
				struct qvisor_class *cl, u64 now)
{
	struct qvisor_link *l;

	list_del_init(&cl->dlist);
	cl->blocked = false;
	if (!cl->deferred_qlen)
		return;
	if (cl->cfg.ceil && cl->cap.tokens <= 0) {
		if (list_empty(&q->blocked))
			q->slot_next = now + (u64)q->slot_us * NSEC_PER_USEC;
		list_add_tail(&cl->dlist, &q->blocked);
		cl->blocked = true;
		return;
	}
	l = qvisor_blocking(cl);
	if (WARN_ON_ONCE(!l))
		return;
	if (l->a != &cl->own)
		qvisor_wait_in_order(cl, l->g);
	else
		list_add_tail(&cl->dlist, &l->g->waiting);
	qvisor_kick(q, l->g);
}

/* Admit a tenant's deferred packets, best rank first, while it may send.
 * Each packet admitted is paid for by that packet: amortized O(1).
 */
static void qvisor_release(struct qvisor_sched_data *q,
			   struct qvisor_class *cl, u64 now)
{
	struct sk_buff *skb;

	while (cl->deferred_qlen && qvisor_eligible(cl)) {
		skb = qv_ba_pop_first(&cl->deferred_q);
		cl->deferred_qlen--;
		qvisor_skb_cb(skb)->joint =
			qvisor_joint(q, cl, qvisor_skb_cb(skb)->rank);
		qvisor_admit(q, cl, skb);
	}
	qvisor_file_waiting(q, cl, now);
}

/* The qdisc's handle, for the tracepoints of functions without @sch */
static u32 qvisor_handle(const struct qvisor_sched_data *q)
{
	return q->watchdog.qdisc->handle;
}

/* @cl's link into group @g */
static const struct qvisor_link *qvisor_link_of(const struct qvisor_class *cl,
						const struct qvisor_group *g)
{
	u8 i;

	for (i = 0; i < cl->nlinks; i++)
		if (cl->link[i].g == g)
			return &cl->link[i];
	return NULL;
}

/* A new round for group @g (qvisor_may_round()): it skips as many rounds
 * as the closest of its waiting tenants needs, so at least one of them
 * has credit in it, and puts them, in their order, first in line for
 * release (q->rel)
 */
static void qvisor_new_round(struct qvisor_sched_data *q,
			     struct qvisor_group *g)
{
	const struct qvisor_link *l;
	struct qvisor_class *cl;
	u32 k = U32_MAX;

	if (!qvisor_may_round(g))
		return;
	list_for_each_entry(cl, &g->waiting, dlist) {
		l = qvisor_link_of(cl, g);
		if (l)
			k = min(k, qv_rounds_needed(qvisor_credit_now(l),
						    l->a->quantum));
	}
	g->round += max(k, 1U);
	q->stat_rounds += max(k, 1U);
	trace_qvisor_round(qvisor_handle(q), (u32)(g - q->groups), g->round);
	list_splice_init(&g->waiting, &q->rel);
}

/* New rounds for @g (if it may start one) and for every group that may
 * then, and the release of their waiting tenants: a tenant released in
 * one group can wait in another (an inner group's round gave it credit,
 * its nested group's account above is spent, or the other way round).
 * A group's new round runs before the next tenant in line is released,
 * and its tenants go first: a higher tier of a nested group waiting for
 * an inner round is released before a lower tier can spend the group's
 * credit.  Bounded: a group rounds only when it has a waiting tenant
 * without credit in it, and each round gives at least one such tenant
 * credit there, which only an admission takes away; a group paced by
 * admissions rounds again only after its packets left, one paced by an
 * account above only while that account has credit.  Each round is
 * O(tenants waiting in the group).
 */
static void qvisor_rotate(struct qvisor_sched_data *q, struct qvisor_group *g,
			  u64 now)
{
	struct qvisor_class *cl;

	if (g)
		qvisor_kick(q, g);
	for (;;) {
		if (!list_empty(&q->todo)) {
			g = list_first_entry(&q->todo, struct qvisor_group,
					     todo);
			list_del_init(&g->todo);
			qvisor_new_round(q, g);
		} else if (!list_empty(&q->rel)) {
			cl = list_first_entry(&q->rel, struct qvisor_class,
					      dlist);
			list_del_init(&cl->dlist);
			qvisor_sync(cl, now);
			qvisor_release(q, cl, now);
		} else {
			break;
		}
	}
}

/* A packet of @cl left the PIFO: its groups may start new rounds */
static void qvisor_rotate_links(struct qvisor_sched_data *q,
				struct qvisor_class *cl, u64 now)
{
	u8 i;

	for (i = 0; i < cl->nlinks; i++)
		qvisor_kick(q, cl->link[i].g);
	if (unlikely(!list_empty(&q->todo)))
		qvisor_rotate(q, NULL, now);
}

/* Every slot: refill the tokens of capped tenants that ran out.  Out of
 * line: its list head on the stack would give every dequeue a canary.
 */
static noinline void qvisor_refill(struct qvisor_sched_data *q, u64 now)
{
	struct qvisor_class *cl, *tmp;
	LIST_HEAD(batch);

	q->stat_refills++;
	list_splice_init(&q->blocked, &batch);
	list_for_each_entry_safe(cl, tmp, &batch, dlist) {
		qvisor_sync(cl, now);
		qvisor_release(q, cl, now);
		qvisor_rotate_links(q, cl, now);
	}
	if (!list_empty(&q->blocked))
		q->slot_next = now + (u64)q->slot_us * NSEC_PER_USEC;
}

/* A packet that counts against credits or a cap.  With nothing of its
 * tenant deferred and the tenant eligible, it is admitted at once (what
 * the deferred queue would do with it, without the round trip; the clock
 * is read only for a cap).  Otherwise it waits in its tenant's deferred
 * queue, from which the best ranked packets are admitted while the tenant
 * may send; a group with nothing admitted starts a new round.
 */
static void qvisor_enqueue_shaped(struct qvisor_sched_data *q,
				  struct qvisor_class *cl, struct sk_buff *skb)
{
	u64 now = cl->cfg.ceil ? ktime_get_ns() : 0;

	qvisor_sync(cl, now);
	if (!cl->deferred_qlen && qvisor_eligible(cl)) {
		qvisor_admit(q, cl, skb);
		/* off a stale waiting list, as qvisor_release() would */
		if (unlikely(!list_empty(&cl->dlist)))
			qvisor_file_waiting(q, cl, now);
		return;
	}
	if (!cl->cfg.ceil)
		now = ktime_get_ns();
	qvisor_defer(cl, skb);
	qvisor_release(q, cl, now);
	qvisor_rotate(q, NULL, now);
}

/* Enqueue ------------------------------------------------------------- */

/* Drop a queued packet of @cl that was pushed out to make room; the
 * caller has taken it off its list.  The parents learn of it when the
 * enqueue that pushed it out ends (qvisor_enqueue()).
 */
static void qvisor_drop_pushed(struct Qdisc *sch, struct qvisor_class *cl,
			       struct sk_buff *skb, struct sk_buff **to_free)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);

	trace_qvisor_drop(sch->handle, TC_H_MIN(cl->common.classid),
			  qvisor_skb_cb(skb)->rank, qvisor_skb_cb(skb)->joint,
			  QVISOR_DROP_PUSHOUT);
	q->pushed_pkts++;
	q->pushed_bytes += qdisc_pkt_len(skb);
	qvisor_unaccount(sch, cl, skb);
	cl->qstats.drops++;
	cl->drop_pushout++;
	q->stat_drop_pushout++;
	qdisc_drop(skb, sch, to_free);
}

/* The queue is full: make room for a packet that would go to bucket (or
 * queue) @joint by pushing out the oldest packet of the worst non-empty
 * bucket (queue), if that is worse.
 */
static bool qvisor_push_out(struct Qdisc *sch, u32 joint,
			    struct sk_buff **to_free)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);
	struct qvisor_class *victim;
	struct sk_buff *skb;
	u32 worst;

	if (qv_ba_empty(&q->ba))
		return false;
	worst = qv_ba_last(&q->ba);
	if (joint >= worst)
		return false;
	skb = qvisor_ba_pop(q, worst);
	victim = qvisor_slot_class(q, skb);
	qvisor_left(victim);
	qvisor_drop_pushed(sch, victim, skb, to_free);
	qvisor_rotate_links(q, victim, ktime_get_ns());
	return true;
}

/* Push out the oldest of the worst deferred packets of @cl */
static void qvisor_push_out_deferred(struct Qdisc *sch, struct qvisor_class *cl,
				     struct sk_buff **to_free)
{
	struct sk_buff *skb;

	skb = qv_ba_pop(&cl->deferred_q, qv_ba_last(&cl->deferred_q));
	cl->deferred_qlen--;
	qvisor_drop_pushed(sch, cl, skb, to_free);
}

/* The queue is full and @cl wants room for a packet of joint rank @joint.
 * Buffer goes first from the tenant with the longest queue (tracked
 * lazily, as fq_codel drops from its fattest flow, among the tenants off
 * the straight-line path: only those can defer) when that one has
 * packets waiting for credit or tokens and is not in a higher tier; a
 * tenant that itself waits competes only with its own waiting packets;
 * otherwise the worst packet of the scheduler goes (push_out).
 */
static bool qvisor_make_room(struct Qdisc *sch, struct qvisor_class *cl,
			     u32 joint, struct sk_buff **to_free)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);
	struct qvisor_class *fattest = q->fattest;

	if (fattest && fattest != cl && fattest->deferred_qlen &&
	    fattest->qlen > cl->qlen && fattest->xf.tier >= cl->xf.tier) {
		qvisor_push_out_deferred(sch, fattest, to_free);
		return true;
	}
	if (cl->deferred_qlen) {
		if (qvisor_deferred_index(cl, joint) >= qv_ba_last(&cl->deferred_q))
			return false;
		qvisor_push_out_deferred(sch, cl, to_free);
		return true;
	}
	return qvisor_push_out(sch, qvisor_be_index(q, cl, joint, false),
			       to_free);
}

/* Over memlimit with @skb: push out worse packets as for the packet limit,
 * at most QVISOR_MEM_PUSHOUTS of them; false when still over.
 */
static bool qvisor_mem_room(struct Qdisc *sch, struct qvisor_class *cl,
			    u32 joint, const struct sk_buff *skb,
			    struct sk_buff **to_free)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);
	int i;

	for (i = 0; i < QVISOR_MEM_PUSHOUTS; i++) {
		if (q->mem + skb->truesize <= q->memlimit)
			return true;
		if (!sch->q.qlen || !qvisor_make_room(sch, cl, joint, to_free))
			return false;
	}
	return q->mem + skb->truesize <= q->memlimit;
}

/* A tenant without its own limit may hold at most its fair part of
 * memlimit: memlimit * weight / (sum of the weights of its '+' group).
 * A tenant alone in its group has all of it, where memlimit's own
 * push-out applies (qvisor_mem_room()).  Two multiplications, no
 * division: (mem + truesize) * wsum <= memlimit * weight, both below
 * 2^64 (memlimit and mem are u32, weights at most 65535 each of 4097).
 */
static bool qvisor_over_part(const struct qvisor_sched_data *q,
			     const struct qvisor_class *cl,
			     const struct sk_buff *skb)
{
	const struct qvisor_group *g = cl->grp;

	return g->wsum > cl->cfg.weight &&
	       ((u64)cl->mem + skb->truesize) * g->wsum >
	       (u64)q->memlimit * cl->cfg.weight;
}

/* For the dump: the bytes of memlimit that @cl may hold, 0 if none (the
 * part qvisor_over_part() enforces, or all of memlimit)
 */
static u32 qvisor_mem_part(const struct qvisor_sched_data *q,
			   const struct qvisor_class *cl)
{
	const struct qvisor_group *g = cl->grp;

	if (!q->memlimit || cl->cfg.limit)
		return 0;
	if (g->wsum <= cl->cfg.weight)
		return q->memlimit;
	return (u32)div_u64((u64)q->memlimit * cl->cfg.weight, g->wsum);
}

static int qvisor_drop_new(struct sk_buff *skb, struct Qdisc *sch,
			   struct qvisor_class *cl, u64 *cl_ctr, u64 *q_ctr,
			   int reason, struct sk_buff **to_free)
{
	trace_qvisor_drop(sch->handle, TC_H_MIN(cl->common.classid),
			  qvisor_skb_cb(skb)->rank, qvisor_skb_cb(skb)->joint,
			  reason);
	cl->qstats.drops++;
	(*cl_ctr)++;
	(*q_ctr)++;
	return qdisc_drop(skb, sch, to_free);
}

/* Put a queued packet of @cl on the books (qvisor_unaccount() undoes it) */
static __always_inline void qvisor_account(struct Qdisc *sch,
					   struct qvisor_class *cl,
					   struct sk_buff *skb)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);
	struct qvisor_skb_cb *cb = qvisor_skb_cb(skb);

	cb->slot = cl->slot;
	cb->seq = q->seq++;
	cb->tstamp = (u32)(ktime_get_ns() >> QVISOR_TS_SHIFT);
	if (cl->nlinks)
		qvisor_queued(cl, 1);
	q->mem += skb->truesize;
	cl->mem += skb->truesize;
	cl->qlen++;
	cl->qstats.backlog += qdisc_pkt_len(skb);
	qdisc_qstats_backlog_inc(sch, skb);
	sch->q.qlen++;
}

/* The straight-line enqueue of a tenant with the fast flag (see
 * qvisor_set_fast()) into a queue with room: its bucket is its joint
 * rank, nothing of it waits for credit or tokens, no limit but the
 * queue's applies, and it never has to be the fattest tenant (only a
 * tenant with deferred packets gives room from there).
 */
static __always_inline void qvisor_enqueue_fast(struct sk_buff *skb,
						struct Qdisc *sch,
						struct qvisor_class *cl,
						u32 rank)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);
	struct qvisor_skb_cb *cb = qvisor_skb_cb(skb);
	u32 joint = qv_xform_apply(&cl->xf, rank);

	qvisor_note_rank(cl, rank, joint);
	cb->rank = rank;
	cb->joint = joint;
	trace_qvisor_enqueue(sch->handle, TC_H_MIN(cl->common.classid), rank,
			     joint, sch->q.qlen);
	qvisor_account(sch, cl, skb);
	qv_ba_push(&q->ba, joint, skb);
}

/* Every other enqueue: queue backends, credits, caps, limits, memlimit
 * and a full queue
 */
static int qvisor_enqueue_general(struct sk_buff *skb, struct Qdisc *sch,
				  struct qvisor_class *cl, u32 rank,
				  struct sk_buff **to_free)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);
	struct qvisor_skb_cb *cb;
	u32 joint;

	joint = qvisor_joint(q, cl, rank);
	qvisor_note_rank(cl, rank, joint);
	cb = qvisor_skb_cb(skb);
	cb->rank = rank;
	cb->joint = joint;

	if (q->backend == QVISOR_BACKEND_AIFO &&
	    !qv_aifo_admit(&q->aifo, joint, sch->q.qlen, sch->limit,
			   QV_AIFO_DEF_K))
		return qvisor_drop_new(skb, sch, cl, &cl->drop_admission,
				       &q->stat_drop_admission,
				       QVISOR_DROP_ADMISSION, to_free);
	if (unlikely(cl->cfg.limit ? cl->qlen >= cl->cfg.limit :
		     q->memlimit && qvisor_over_part(q, cl, skb)))
		return qvisor_drop_new(skb, sch, cl, &cl->drop_tenant_limit,
				       &q->stat_drop_tenant_limit,
				       QVISOR_DROP_TENANT_LIMIT, to_free);
	if (unlikely(sch->q.qlen >= sch->limit) &&
	    !qvisor_make_room(sch, cl, joint, to_free))
		return qvisor_drop_new(skb, sch, cl, &cl->drop_limit,
				       &q->stat_drop_limit, QVISOR_DROP_LIMIT,
				       to_free);
	if (unlikely(q->memlimit) && !qvisor_mem_room(sch, cl, joint, skb,
						      to_free))
		return qvisor_drop_new(skb, sch, cl, &cl->drop_limit,
				       &q->stat_drop_memlimit,
				       QVISOR_DROP_MEMLIMIT, to_free);

	trace_qvisor_enqueue(sch->handle, TC_H_MIN(cl->common.classid), rank,
			     joint, sch->q.qlen);
	/* a new rate sets rate_idle itself (qvisor_qcfg_commit()) */
	if (q->rate && !sch->q.qlen)
		q->rate_idle = true;
	qvisor_account(sch, cl, skb);
	if (!q->fattest || cl->qlen > q->fattest->qlen)
		q->fattest = cl;
	if (qvisor_shaped(cl))
		qvisor_enqueue_shaped(q, cl, skb);
	else
		qvisor_admit(q, cl, skb);
	return NET_XMIT_SUCCESS;
}

/* May @cl's packet take the straight-line enqueue now? */
static __always_inline bool qvisor_fast_room(const struct Qdisc *sch,
					     const struct qvisor_class *cl)
{
	return likely(cl->fast) && likely(sch->q.qlen < sch->limit);
}

static int qvisor_enqueue_one(struct sk_buff *skb, struct Qdisc *sch,
			      struct qvisor_class *cl, u32 rank,
			      struct sk_buff **to_free)
{
	if (qvisor_fast_room(sch, cl)) {
		qvisor_enqueue_fast(skb, sch, cl, rank);
		return NET_XMIT_SUCCESS;
	}
	return qvisor_enqueue_general(skb, sch, cl, rank, to_free);
}

/* Split GSO packets?  split_gso auto splits with a link rate of at most
 * 1 Gbit/s (as cake): there a 64 KB packet holds the link for 0.5 ms or
 * more in front of higher tiers; above it splitting costs TSO and ~45x
 * the per-packet work for little latency.
 */
static bool qvisor_split_gso(const struct qvisor_sched_data *q)
{
	switch (q->split_gso) {
	case QVISOR_SPLIT_GSO_ON:
		return true;
	case QVISOR_SPLIT_GSO_OFF:
		return false;
	default:
		return q->rate && q->rate <= QVISOR_SPLIT_GSO_AUTO_BPS;
	}
}

/* With a link rate, a GSO packet would hold the link for its whole length
 * (64 KB is 5 ms at 100 Mbit/s) in front of higher tiers: queue its
 * segments one by one instead, as tbf and cake do, and tell the parents
 * how many packets and bytes that really added.  The packet counts as
 * sent when any segment was queued, even if pushing out others for it
 * left the queue no longer: NET_XMIT_DROP would make TCP believe the
 * data never left (snd_nxt stays), and it would then discard the ACKs
 * for it as acknowledging unsent data.
 */
static int qvisor_enqueue_gso(struct sk_buff *skb, struct Qdisc *sch,
			      struct qvisor_class *cl, u32 rank,
			      struct sk_buff **to_free)
{
	netdev_features_t features = netif_skb_features(skb);
	struct qvisor_sched_data *q = qdisc_priv(sch);
	unsigned int len = qdisc_pkt_len(skb), queued = 0;
	int qlen = sch->q.qlen, backlog = sch->qstats.backlog, dp, db, ret;
	struct sk_buff *segs, *seg, *next;

	segs = skb_gso_segment(skb, features & ~NETIF_F_GSO_MASK);
	if (IS_ERR_OR_NULL(segs))
		return qdisc_drop(skb, sch, to_free);
	skb_list_walk_safe(segs, seg, next) {
		skb_mark_not_on_list(seg);
		qdisc_skb_cb(seg)->pkt_len = seg->len;
		ret = qvisor_enqueue_one(seg, sch, cl, rank, to_free);
		if (ret == NET_XMIT_SUCCESS || ret == NET_XMIT_CN)
			queued++;
	}
	consume_skb(skb);
	/* the packets pushed out are in these differences already */
	q->pushed_pkts = 0;
	q->pushed_bytes = 0;
	dp = (int)sch->q.qlen - qlen;
	db = (int)sch->qstats.backlog - backlog;
	if (queued) {
		/* the parents will count one packet of len bytes */
		if (dp != 1 || db != (int)len)
			qdisc_tree_reduce_backlog(sch, 1 - dp, (int)len - db);
		return NET_XMIT_SUCCESS;
	}
	return NET_XMIT_DROP;
}

static int qvisor_enqueue(struct sk_buff *skb, struct Qdisc *sch,
			  struct sk_buff **to_free)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);
	int ret = NET_XMIT_SUCCESS;
	struct qvisor_class *cl;
	u32 rank;

	cl = qvisor_classify(skb, sch, &ret);
	if (unlikely(!cl)) {
		if (ret & __NET_XMIT_BYPASS) {
			q->stat_drop_classify++;
			qdisc_qstats_drop(sch);
		}
		__qdisc_drop(skb, to_free);
		return ret;
	}
	rank = qvisor_rank(sch, cl, skb);
	if (skb_is_gso(skb) && qvisor_split_gso(q))
		return qvisor_enqueue_gso(skb, sch, cl, rank, to_free);
	/* qvisor_enqueue_one() without a look at pushed_pkts when fast */
	if (qvisor_fast_room(sch, cl)) {
		qvisor_enqueue_fast(skb, sch, cl, rank);
		return NET_XMIT_SUCCESS;
	}
	ret = qvisor_enqueue_general(skb, sch, cl, rank, to_free);
	if (unlikely(q->pushed_pkts)) {
		/* The packet was queued and others were pushed out for it:
		 * the parents count the packet (NET_XMIT_SUCCESS) and learn
		 * here what left, as sfq and fq_codel tell them.  With
		 * NET_XMIT_CN they would count neither, while the backlog
		 * changed by the difference of the lengths.
		 */
		qdisc_tree_reduce_backlog(sch, q->pushed_pkts, q->pushed_bytes);
		q->pushed_pkts = 0;
		q->pushed_bytes = 0;
	}
	return ret;
}

/* Dequeue ------------------------------------------------------------- */

/* Count a packet that leaves after a higher-ranked packet of its own
 * tenant which left from the same bucket while it was queued.  Exact
 * PIFO order never does this; quantization to fewer levels than ranks and
 * runtime changes do.  Per tenant, the highest rank that left the current
 * bucket and the sequence number at that moment are remembered.  Not
 * called for a tenant that cannot invert (qvisor_exact()).
 */
static void qvisor_count_inversion(struct qvisor_sched_data *q,
				   struct qvisor_class *cl,
				   const struct qvisor_skb_cb *cb)
{
	u32 d;

	if (qvisor_queue_backend(q)) {
		/* queue backends: include/qvisor/qmap.h, qv_inv_depart() */
		d = qv_inv_depart(&cl->qinv, cb->rank, cb->seq, q->seq);
		if (d) {
			trace_qvisor_inversion(qvisor_handle(q),
					       TC_H_MIN(cl->common.classid),
					       cb->rank, d);
			cl->inversions++;
			q->stat_inversions++;
			cl->unpifoness += d;
			q->stat_unpifoness += d;
		}
		return;
	}
	if (cl->inv_valid && cl->inv_joint == cb->joint &&
	    cb->rank < cl->inv_rank && (s32)(cb->seq - cl->inv_seq) < 0) {
		trace_qvisor_inversion(qvisor_handle(q),
				       TC_H_MIN(cl->common.classid), cb->rank,
				       cl->inv_rank - cb->rank);
		cl->inversions++;
		q->stat_inversions++;
		cl->unpifoness += cl->inv_rank - cb->rank;
		q->stat_unpifoness += cl->inv_rank - cb->rank;
		return;
	}
	if (!cl->inv_valid || cl->inv_joint != cb->joint ||
	    cb->rank > cl->inv_rank) {
		cl->inv_valid = true;
		cl->inv_joint = cb->joint;
		cl->inv_rank = cb->rank;
		cl->inv_seq = q->seq;
	}
}

/* With a link rate: may a packet leave now?  Arms the watchdog if not. */
static bool qvisor_rate_allows(struct Qdisc *sch, u64 now)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);

	if (now >= q->t_next)
		return true;
	q->stat_throttled++;
	qdisc_watchdog_schedule_ns(&q->watchdog, q->t_next);
	return false;
}

static void qvisor_rate_charge(struct qvisor_sched_data *q, u64 now,
			       unsigned int len)
{
	/* After idle time the clock may lag now by QVISOR_RATE_SLACK_NS (a
	 * small burst); while backlogged by up to QVISOR_RATE_CATCHUP_NS, so
	 * that late watchdog wakeups do not lose link time.
	 */
	u64 lag = q->rate_idle ? QVISOR_RATE_SLACK_NS : QVISOR_RATE_CATCHUP_NS;
	u64 t = max(q->t_next, now - min(now, lag));

	q->rate_idle = false;
	q->t_next = t + psched_l2t_ns(&q->ratecfg, len);
}

/* AQM: is the tenant's on, and with which target and interval? */
static bool qvisor_aqm_cfg(const struct qvisor_sched_data *q,
			   const struct qvisor_class *cl, struct qv_aqm_cfg *c)
{
	u8 on = cl->cfg.aqm;
	u32 target = cl->cfg.target_us ? cl->cfg.target_us : q->target_us;
	u32 interval = cl->cfg.interval_us ? cl->cfg.interval_us :
			q->interval_us;

	if (on == QVISOR_AQM_INHERIT)
		on = q->aqm ? QVISOR_AQM_ON : QVISOR_AQM_OFF;
	c->target = (u64)target * NSEC_PER_USEC;
	c->interval = (u64)interval * NSEC_PER_USEC;
	return on == QVISOR_AQM_ON;
}

static bool qvisor_ecn(const struct qvisor_sched_data *q,
		       const struct qvisor_class *cl)
{
	if (cl->cfg.ecn == QVISOR_AQM_INHERIT)
		return q->ecn;
	return cl->cfg.ecn == QVISOR_AQM_ON;
}

/* The AQM signals with @skb: mark it CE if ECN is on and it is capable.
 * Out of line (rare, and its header buffer would give every dequeue a
 * stack canary).
 */
static noinline bool qvisor_mark_ce(struct qvisor_sched_data *q,
				    struct qvisor_class *cl,
				    struct sk_buff *skb)
{
	if (!qvisor_ecn(q, cl) || !INET_ECN_set_ce(skb))
		return false;
	cl->ecn_marks++;
	q->stat_ecn_marks++;
	return true;
}

/* A packet of @cl, off the PIFO and the books, is about to leave at @now.
 * Its tenant's AQM may signal congestion with it: an ECN-capable packet
 * is marked CE (and leaves), any other is to be dropped (true).  The
 * AQM acts only on its own tenant's packets, and on the packet that
 * would leave, the oldest of the tenant's best rank: a drop never lets
 * a packet leave that would not have left anyway, and a lower tier's
 * AQM cannot touch a higher tier's packet (P1).
 */
static bool qvisor_aqm_drop(struct Qdisc *sch, struct qvisor_class *cl,
			    struct sk_buff *skb, u64 now)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);
	u32 waited = (u32)(now >> QVISOR_TS_SHIFT) - qvisor_skb_cb(skb)->tstamp;
	u64 sojourn = (u64)waited << QVISOR_TS_SHIFT;
	bool signal;

	cl->max_sojourn = max(cl->max_sojourn, sojourn);
	if (!cl->aqm_on)
		return false;
	signal = qv_aqm_dequeue(&cl->aqm, &cl->aqm_cfg, now, sojourn,
				cl->qstats.backlog <= psched_mtu(qdisc_dev(sch)));
	if (!cl->qlen)
		qv_aqm_idle(&cl->aqm);
	if (!signal)
		return false;
	return !qvisor_mark_ce(q, cl, skb);
}

/* Take the first packet off the PIFO and the books.  Each tenant's AQM
 * may drop the packet of its own that would leave, and at most
 * QVISOR_AQM_MAX_DROPS are dropped in one call, so that a dequeue stays
 * bounded; the parents learn of the drops here, as codel tells them.
 */
static struct sk_buff *qvisor_pop(struct Qdisc *sch, u64 now)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);
	u32 drops = 0, bytes = 0;
	struct qvisor_class *cl;
	struct sk_buff *skb;

	for (;;) {
		if (qv_ba_empty(&q->ba)) {
			skb = NULL;
			break;
		}
		skb = qvisor_ba_pop_first(q);
		cl = qvisor_slot_class(q, skb);
		qvisor_left(cl);
		qvisor_unaccount(sch, cl, skb);
		if (drops >= QVISOR_AQM_MAX_DROPS ||
		    !qvisor_aqm_drop(sch, cl, skb, now))
			break;
		trace_qvisor_drop(sch->handle, TC_H_MIN(cl->common.classid),
				  qvisor_skb_cb(skb)->rank,
				  qvisor_skb_cb(skb)->joint, QVISOR_DROP_AQM);
		drops++;
		bytes += qdisc_pkt_len(skb);
		cl->qstats.drops++;
		cl->aqm_drops++;
		q->stat_aqm_drops++;
		qdisc_qstats_drop(sch);
		kfree_skb(skb);
		qvisor_rotate_links(q, cl, now);
	}
	if (drops)
		qdisc_tree_reduce_backlog(sch, drops, bytes);
	return skb;
}

/* A packet of a tenant with credits left: count its bytes in its top
 * group if that has several members (a tenant alone there sent all of
 * its bytes: qvisor_credit_stats()), and each of its groups with nothing
 * left admitted starts a new round if others wait
 */
static void qvisor_group_sent(struct qvisor_sched_data *q,
			      struct qvisor_class *cl, const struct sk_buff *skb,
			      u64 now)
{
	if (cl->grp->members > 1)
		cl->grp->bytes += qdisc_pkt_len(skb);
	qvisor_rotate_links(q, cl, now);
}

/* What the dequeue of a packet of a tenant off the straight-line path
 * also does: stfq's virtual time, the link rate's clock, the group's
 * bytes and rounds
 */
static void qvisor_dequeued_general(struct qvisor_sched_data *q,
				    struct qvisor_class *cl,
				    const struct sk_buff *skb, u64 now)
{
	qvisor_rank_dequeued(cl, qvisor_skb_cb(skb));
	if (q->rate)
		qvisor_rate_charge(q, now, qdisc_pkt_len(skb));
	if (cl->nlinks)
		qvisor_group_sent(q, cl, skb, now);
}

static struct sk_buff *qvisor_dequeue(struct Qdisc *sch)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);
	struct qvisor_class *cl;
	struct sk_buff *skb;
	u64 now;

	if (!sch->q.qlen)
		return NULL;
	now = ktime_get_ns();
	if (!list_empty(&q->blocked) && now >= q->slot_next)
		qvisor_refill(q, now);
	if (unlikely(now >= q->lend_next))
		qvisor_lend_tick(q, now);
	if (q->rate && !qv_ba_empty(&q->ba) && !qvisor_rate_allows(sch, now))
		return NULL;
	skb = qvisor_pop(sch, now);
	if (!skb) {
		/* all queued packets wait for their caps */
		if (!list_empty(&q->blocked))
			qdisc_watchdog_schedule_ns(&q->watchdog, q->slot_next);
		return NULL;
	}
	cl = qvisor_slot_class(q, skb);
	trace_qvisor_dequeue(sch->handle, TC_H_MIN(cl->common.classid),
			     qvisor_skb_cb(skb)->rank, qvisor_skb_cb(skb)->joint,
			     sch->q.qlen);
	if (!cl->no_inv)
		qvisor_count_inversion(q, cl, qvisor_skb_cb(skb));
	if (unlikely(cl->inv_drain) && !cl->qlen) {
		/* what was queued at a change is gone (qvisor_set_fast()) */
		cl->inv_drain = false;
		cl->no_inv = true;
		cl->inv_valid = false;
	}
	bstats_update(&cl->bstats, skb);
	qdisc_bstats_update(sch, skb);
	if (unlikely(!cl->fast))
		qvisor_dequeued_general(q, cl, skb, now);
	return skb;
}

/* ---------------------------------------------------------------------- */
/* Queue walks (control path only)                                        */

/* Unlink the packets of @list (linked through skb->next) that @match
 * owns (all when NULL), free them, and return the rest.
 */
static struct sk_buff *qvisor_purge_list(struct Qdisc *sch,
					 struct sk_buff *list,
					 const struct qvisor_class *match,
					 struct sk_buff **tailp, bool in_pifo,
					 u32 *pkts, u32 *bytes)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);
	struct sk_buff *skb, *next, *head = NULL, *tail = NULL;
	struct qvisor_class *cl;

	for (skb = list; skb; skb = next) {
		next = skb->next;
		cl = qvisor_slot_class(q, skb);
		if (match && cl != match) {
			if (tail)
				tail->next = skb;
			else
				head = skb;
			tail = skb;
			continue;
		}
		(*pkts)++;
		*bytes += qdisc_pkt_len(skb);
		if (in_pifo)
			qvisor_left(cl);
		else
			cl->deferred_qlen--;
		qvisor_unaccount(sch, cl, skb);
		skb->next = NULL;
		rtnl_kfree_skbs(skb, skb);
	}
	if (tail)
		tail->next = NULL;
	*tailp = tail;
	return head;
}

/* Free every packet of a bucket array that @match owns (all when NULL) */
static void qvisor_purge_array(struct Qdisc *sch, struct qv_barray *a,
			       const struct qvisor_class *match, bool in_pifo,
			       u32 *pkts, u32 *bytes)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);
	struct sk_buff *head, *tail;
	u32 idx, before;

	for (idx = qv_ba_next(a, 0); idx < a->nbuckets;
	     idx = qv_ba_next(a, idx + 1)) {
		before = *pkts;
		head = qvisor_purge_list(sch, qv_ba_peek(a, idx), match, &tail,
					 in_pifo, pkts, bytes);
		qv_ba_set(a, idx, head, tail);
		if (in_pifo)
			qvisor_qcount(q, idx, -(int)(*pkts - before));
	}
}

/* Free the queued packets of @match, or all packets when NULL */
static void qvisor_purge(struct Qdisc *sch, struct qvisor_class *match,
			 u32 *pkts, u32 *bytes)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);
	struct qvisor_class *cl;
	unsigned int i;

	*pkts = 0;
	*bytes = 0;
	qvisor_purge_array(sch, &q->ba, match, true, pkts, bytes);
	for (i = 0; i < q->clhash.hashsize; i++) {
		hlist_for_each_entry(cl, &q->clhash.hash[i], common.hnode) {
			if (match && cl != match)
				continue;
			qvisor_purge_array(sch, &cl->deferred_q, NULL, false, pkts,
					   bytes);
			list_del_init(&cl->dlist);
			cl->blocked = false;
		}
	}
}

/* Take every packet of @a off it, in the order they would leave,
 * as a list linked through skb->next
 */
static struct sk_buff *qvisor_ba_drain(struct qv_barray *a)
{
	struct sk_buff *head = NULL, **tail = &head;

	while (!qv_ba_empty(a)) {
		*tail = qv_ba_pop_first(a);
		tail = &(*tail)->next;
	}
	return head;
}

/* Re-place every packet of the joint PIFO by the committed transforms
 * into @to (q->ba itself, or a new array of another size).  Packets are
 * taken in the order they would have left and appended to their new
 * bucket, so packets that share a bucket keep their order and each
 * tenant's packets are in rank order, FIFO among equal ranks: P1-P6 of
 * the new configuration hold from the next dequeue.  sppifo places them
 * by the new queue map; aifo and fifo keep their single queue.
 * O(queued): at most sch->limit packets, on the control path.
 */
static u32 qvisor_replace(struct qvisor_sched_data *q, struct qv_barray *to)
{
	struct sk_buff *skb, *next = qvisor_ba_drain(&q->ba);
	struct qvisor_skb_cb *cb;
	struct qvisor_class *cl;
	u32 idx, n = 0;

	memset(q->qcount, 0, sizeof(q->qcount));
	while (next) {
		skb = next;
		next = skb->next;
		cb = qvisor_skb_cb(skb);
		cl = q->slots[cb->slot];
		cb->joint = qvisor_joint(q, cl, cb->rank);
		cl->inv_valid = false;
		idx = qvisor_be_index(q, cl, cb->joint, true);
		qv_ba_push(to, idx, skb);
		qvisor_qcount(q, idx, 1);
		n++;
	}
	return n;
}

/* Re-place a tenant's deferred packets by its committed transform and
 * deferred-queue scale, in the order they would have been admitted
 */
static void qvisor_replace_deferred(struct qvisor_sched_data *q,
				    struct qvisor_class *cl)
{
	struct sk_buff *skb, *next = qvisor_ba_drain(&cl->deferred_q);
	struct qvisor_skb_cb *cb;

	while (next) {
		skb = next;
		next = skb->next;
		cb = qvisor_skb_cb(skb);
		cb->joint = qvisor_joint(q, cl, cb->rank);
		qv_ba_push(&cl->deferred_q, qvisor_deferred_index(cl, cb->joint), skb);
	}
}

/* The tenant whose worst deferred packet ranks worst, or NULL */
static struct qvisor_class *qvisor_worst_deferred(struct qvisor_sched_data *q,
						  u32 *joint)
{
	struct qvisor_class *cl, *worst = NULL;
	struct sk_buff *skb;
	unsigned int i;
	u32 j;

	for (i = 0; i < q->clhash.hashsize; i++) {
		hlist_for_each_entry(cl, &q->clhash.hash[i], common.hnode) {
			if (!cl->deferred_qlen)
				continue;
			skb = qv_ba_peek(&cl->deferred_q, qv_ba_last(&cl->deferred_q));
			j = qvisor_skb_cb(skb)->joint;
			if (!worst || j > *joint) {
				worst = cl;
				*joint = j;
			}
		}
	}
	return worst;
}

/* The worst queued packet, from the PIFO or a deferred queue, whichever
 * ranks worse (a deferred one on a tie: it waits for credit anyway).
 * O(tenants) per packet; only a lowered limit trims.
 */
static struct sk_buff *qvisor_pop_worst(struct Qdisc *sch)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);
	struct qvisor_class *cl;
	struct sk_buff *skb;
	u32 dj = 0, last;

	cl = qvisor_worst_deferred(q, &dj);
	if (!qv_ba_empty(&q->ba)) {
		last = qv_ba_last(&q->ba);
		skb = qv_ba_peek(&q->ba, last);
		if (!cl || qvisor_skb_cb(skb)->joint > dj) {
			skb = qvisor_ba_pop(q, last);
			qvisor_left(qvisor_slot_class(q, skb));
			return skb;
		}
	}
	if (!cl)
		return NULL;
	cl->deferred_qlen--;
	return qv_ba_pop(&cl->deferred_q, qv_ba_last(&cl->deferred_q));
}

/* Drop the worst packets until at most @limit are queued */
static void qvisor_trim(struct Qdisc *sch, u32 limit)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);
	struct qvisor_class *cl;
	struct sk_buff *skb;
	u32 pkts = 0, bytes = 0;

	while (sch->q.qlen > limit) {
		skb = qvisor_pop_worst(sch);
		if (WARN_ON_ONCE(!skb))
			break;
		cl = qvisor_slot_class(q, skb);
		pkts++;
		bytes += qdisc_pkt_len(skb);
		qvisor_unaccount(sch, cl, skb);
		cl->qstats.drops++;
		cl->drop_limit++;
		q->stat_drop_limit++;
		qdisc_qstats_drop(sch);
		rtnl_kfree_skbs(skb, skb);
	}
	if (pkts)
		qdisc_tree_reduce_backlog(sch, pkts, bytes);
}

/* ---------------------------------------------------------------------- */
/* Synthesis                                                              */

static void qvisor_cfg_range(const struct qvisor_ccfg *c, u32 *lo, u32 *hi)
{
	if (c->range_set) {
		*lo = c->lo;
		*hi = c->hi;
		return;
	}
	*lo = 0;
	*hi = qv_default_hi(c->rank, c->mark_mask, c->edf_budget);
}

static void qvisor_plan_free(struct qvisor_plan *p)
{
	kvfree(p->cls);
	kvfree(p->xf);
	kvfree(p->groups);
	kvfree(p->paths);
	kvfree(p->gprops);
	p->paths = NULL;
	p->cls = NULL;
	p->xf = NULL;
	p->groups = NULL;
	p->gprops = NULL;
	p->ngprops = 0;
}

/* Mark each class with its index in @pol, or -1 */
static void qvisor_resolve_policy(struct Qdisc *sch,
				  const struct qv_policy *pol)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);
	struct qvisor_class *cl;
	unsigned int i;
	u32 k;

	for (i = 0; i < q->clhash.hashsize; i++)
		hlist_for_each_entry(cl, &q->clhash.hash[i], common.hnode)
			cl->pol_idx = -1;
	for (k = 0; pol && k < pol->n; k++) {
		cl = qvisor_find(sch, TC_H_MAKE(sch->handle, pol->ent[k].minor));
		if (cl)
			cl->pol_idx = k;
	}
}

static s32 qvisor_pol_index(const struct qv_policy *pol, u32 minor)
{
	u32 k;

	for (k = 0; pol && k < pol->n; k++)
		if (pol->ent[k].minor == minor)
			return k;
	return -1;
}

static void qvisor_spec(struct qv_tenant_spec *t, const struct qvisor_class *cl,
			const struct qvisor_ccfg *cfg)
{
	t->minor = TC_H_MIN(cl->common.classid);
	qvisor_cfg_range(cfg, &t->lo, &t->hi);
	t->levels = cfg->levels ? cfg->levels : QVISOR_DEF_LEVELS;
	t->pol_idx = cl->pol_idx;
	t->autorange = cfg->rauto != 0;
	t->chosen = qv_rank_chosen(cfg->rank, cfg->edf_mark);
}

/* Collect the tenants as they would be after the change: @chg with
 * configuration @chg_cfg (new or changed; NULL cfg = being deleted).
 */
static u32 qvisor_collect(struct Qdisc *sch, struct qvisor_plan *p,
			  struct qv_tenant_spec *spec, struct qvisor_class *chg,
			  const struct qvisor_ccfg *chg_cfg)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);
	struct qvisor_class *cl;
	bool chg_seen = false;
	unsigned int i;
	u32 n = 0;

	for (i = 0; i < q->clhash.hashsize; i++) {
		hlist_for_each_entry(cl, &q->clhash.hash[i], common.hnode) {
			if (cl == chg) {
				chg_seen = true;
				if (!chg_cfg)
					continue;
			}
			p->cls[n] = cl;
			qvisor_spec(&spec[n++], cl, cl == chg ? chg_cfg : &cl->cfg);
		}
	}
	if (chg && chg_cfg && !chg_seen) {
		p->cls[n] = chg;
		qvisor_spec(&spec[n++], chg, chg_cfg);
	}
	return n;
}

static int qvisor_plan_alloc(struct qvisor_plan *p, u32 n,
			     struct qv_tenant_spec **spec)
{
	p->cls = kvcalloc(n + 1, sizeof(*p->cls), GFP_KERNEL);
	p->xf = kvcalloc(n + 1, sizeof(*p->xf), GFP_KERNEL);
	*spec = kvcalloc(n + 1, sizeof(**spec), GFP_KERNEL);
	if (!p->cls || !p->xf || !*spec) {
		qvisor_plan_free(p);
		kvfree(*spec);
		return -ENOMEM;
	}
	return 0;
}

/* Map the synthesis onto the plan's backend: the queue ranges of the
 * strict tiers (include/qvisor/qmap.h) and the properties that hold.
 * A sppifo with fewer queues than named tiers is rejected unless partial;
 * aifo and fifo have one queue by choice and are never rejected.
 */
static int qvisor_plan_queues(struct qvisor_sched_data *q,
			      struct qvisor_plan *p, const struct qv_synth *s,
			      struct netlink_ext_ack *extack)
{
	struct qv_err e = {};
	u32 nq = 1;

	if (!p->be_set) {
		p->backend = q->backend;
		p->queues = q->queues;
		p->partial = q->partial;
	}
	if (p->backend == QVISOR_BACKEND_SPPIFO)
		nq = p->queues;
	if (qv_qmap_build(&p->qmap, s->grp, s->ngrp, s->tiers, nq,
			  p->partial || nq == 1, &e)) {
		qvisor_ext_msg(extack, e.msg);
		return -EINVAL;
	}
	p->props = qv_props(p->backend, &p->qmap, s->tiers);
	return 0;
}

/* The sharing groups: @ntop of the policy's top (the synthesizer's), then
 * the '+' levels inside nested groups, and each tenant's way to them
 */
static int qvisor_plan_groups(struct qvisor_plan *p, const struct qv_policy *pol,
			      const struct qv_tenant_spec *spec, u32 ntop)
{
	u32 k, n = pol ? pol->n : 0, inner = 0;
	struct qv_pol_step *st = NULL;
	u8 *depth = NULL;
	s32 i;

	p->paths = kvcalloc(p->n + 1, sizeof(*p->paths), GFP_KERNEL);
	if (!p->paths)
		return -ENOMEM;
	if (n && pol->ngrp) {
		st = kvcalloc(n * QV_POLICY_MAX_NEST, sizeof(*st), GFP_KERNEL);
		depth = kvcalloc(n, sizeof(*depth), GFP_KERNEL);
		if (!st || !depth)
			goto nomem;
		inner = qv_pol_steps(pol, st, depth);
		for (k = 0; k < p->n; k++) {
			i = spec[k].pol_idx;
			if (i < 0 || i >= n)
				continue;
			memcpy(p->paths[k].st, &st[i * QV_POLICY_MAX_NEST],
			       depth[i] * sizeof(*st));
			p->paths[k].n = depth[i];
		}
	}
	p->ntop = ntop;
	p->ngroups = ntop + inner;
	p->groups = kvcalloc(p->ngroups, sizeof(*p->groups), GFP_KERNEL);
	if (!p->groups)
		goto nomem;
	kvfree(st);
	kvfree(depth);
	return 0;
nomem:
	kvfree(st);
	kvfree(depth);
	return -ENOMEM;
}

/* The properties inside each nested group of the synthesized policy
 * (qv_group_props()), in the order the policy prints its groups
 */
static int qvisor_plan_gprops(struct qvisor_plan *p, const struct qv_synth *s,
			      const u32 *pol_grp)
{
	u32 g, n = s->pol ? s->pol->ngrp : 0;

	if (!n)
		return 0;
	p->gprops = kvcalloc(n, sizeof(*p->gprops), GFP_KERNEL);
	if (!p->gprops)
		return -ENOMEM;
	p->ngprops = n;
	for (g = 0; g < n; g++)
		p->gprops[g] = qv_group_props(p->backend, &p->qmap, s, pol_grp,
					      p->props, g + 1);
	return 0;
}

/* P7 (rank gaming) for the whole policy and inside each nested group:
 * qv_props_gaming(), after qv_props() and qv_group_props()
 */
static int qvisor_plan_gaming(struct qvisor_plan *p, const struct qv_synth *s)
{
	u32 *scratch = kvcalloc(s->nspec + s->ngrp + 1, sizeof(*scratch),
				GFP_KERNEL);

	if (!scratch)
		return -ENOMEM;
	qv_props_gaming(s, p->backend, scratch, &p->props, p->gprops);
	kvfree(scratch);
	return 0;
}

/* Synthesize the schedule for policy @pol, @buckets and @overlap with the
 * tenant set changed by (@chg, @chg_cfg).  Nothing is committed.
 */
static int qvisor_synth(struct Qdisc *sch, const struct qv_policy *pol,
			u32 buckets, u32 overlap, struct qvisor_class *chg,
			const struct qvisor_ccfg *chg_cfg, struct qvisor_plan *p,
			struct netlink_ext_ack *extack)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);
	u32 npol = pol ? pol->n : 0;
	struct qv_tenant_spec *spec;
	struct qv_synth s = {};
	struct qv_err e = {};
	u32 *pol_grp;
	int err;

	err = qvisor_plan_alloc(p, q->ntenants + 1, &spec);
	if (err)
		return err;
	s.grp = kvcalloc(npol + 2, sizeof(*s.grp), GFP_KERNEL);
	s.place = kvcalloc(npol + 1, sizeof(*s.place), GFP_KERNEL);
	pol_grp = kvcalloc(npol + 1, sizeof(*pol_grp), GFP_KERNEL);
	if (!s.grp || !s.place || !pol_grp) {
		err = -ENOMEM;
		goto out;
	}
	qvisor_resolve_policy(sch, pol);
	if (chg && chg_cfg && hlist_unhashed(&chg->common.hnode))
		chg->pol_idx = qvisor_pol_index(pol, TC_H_MIN(chg->common.classid));
	p->n = qvisor_collect(sch, p, spec, chg, chg_cfg);

	s.pol = pol;
	s.spec = spec;
	s.nspec = p->n;
	s.buckets = buckets;
	s.overlap = overlap;
	s.xf = p->xf;
	err = qv_synthesize(&s, pol_grp, &e);
	if (err) {
		qvisor_ext_msg(extack, e.msg);
		goto out;
	}
	p->width = s.width;
	p->tiers = s.tiers;
	err = qvisor_plan_groups(p, pol, spec, s.ngrp);
	if (!err)
		err = qvisor_plan_queues(q, p, &s, extack);
	if (!err)
		err = qvisor_plan_gprops(p, &s, pol_grp);
	if (!err)
		err = qvisor_plan_gaming(p, &s);
out:
	kvfree(pol_grp);
	kvfree(s.place);
	kvfree(s.grp);
	kvfree(spec);
	if (err)
		qvisor_plan_free(p);
	return err;
}

static bool qvisor_xf_set(struct qv_xform *to, const struct qv_xform *from)
{
	bool changed = memcmp(to, from, sizeof(*to)) != 0;

	*to = *from;
	return changed;
}

/* Install a plan's transforms and groups; under sch_tree_lock.  The old
 * groups stay allocated (in the plan) until the plan is freed, so tenants
 * can still be unlinked from them; qvisor_rebuild() moves tenants over.
 * Returns whether a transform or the queue map changed: then queued
 * packets must be re-placed (qvisor_replace()).
 */
static bool qvisor_commit_plan(struct qvisor_sched_data *q,
			       struct qvisor_plan *p)
{
	bool changed;
	u32 k;

	changed = !qv_qmap_same(&q->qmap, &p->qmap);
	for (k = 0; k < p->n; k++) {
		changed |= qvisor_xf_set(&p->cls[k]->xf, &p->xf[k]);
		p->cls[k]->path = p->paths[k];
	}
	changed |= qvisor_xf_set(&q->implicit.xf, &p->xf[p->n]);
	q->width = p->width;
	q->tiers = p->tiers;
	swap(q->groups, p->groups);
	swap(q->ngroups, p->ngroups);
	q->ntop = p->ntop;
	q->qmap = p->qmap;
	q->qmap_base = p->qmap;
	qvisor_lend_reset(q);
	WRITE_ONCE(q->props, p->props);
	swap(q->gprops, p->gprops);
	swap(q->ngprops, p->ngprops);
	qv_sppifo_reset(&q->sp);
	q->stat_resynth++;
	return changed;
}

/* After a commit: re-place the queued packets if the transforms changed,
 * and count them
 */
static void qvisor_replace_all(struct qvisor_sched_data *q, bool changed)
{
	u32 n = 0;

	if (changed && !qv_ba_empty(&q->ba))
		n = qvisor_replace(q, &q->ba);
	q->stat_replaced += n;
	trace_qvisor_synth(qvisor_handle(q), q->ntenants, q->width, q->tiers,
			   n);
}

/* An account from the synthesis: forget what it weighed, remember
 * whether it had credits
 */
static void qvisor_acct_reset(struct qvisor_acct *a)
{
	a->had = a->live;
	a->live = false;
	a->weight = 0;
	a->queued = 0;
	a->counted = false;
}

/* Before any of its packets are counted (queued 0, not ready) */
static void qvisor_acct_setup(struct qvisor_acct *a,
			      const struct qvisor_group *g, u32 mtu)
{
	a->quantum = qv_quantum(min_t(u64, a->weight, U32_MAX), g->wmin, mtu);
	a->round = g->round;
	/* an account new to credits starts with a full quantum */
	if (!a->had || a->credit > a->quantum)
		a->credit = a->quantum;
	a->live = true;
}

/* Keep the links into groups of several members: those the tenant's
 * packets count in; each account is set up by the first of its tenants
 */
static void qvisor_setup_credits(struct qvisor_sched_data *q,
				 struct qvisor_class *cl, u32 mtu, u64 now)
{
	struct qvisor_link l;
	u8 i, n = 0;

	for (i = 0; i < cl->nlinks; i++) {
		l = cl->link[i];
		if (l.g->members < 2)
			continue;
		if (!l.a->live)
			qvisor_acct_setup(l.a, l.g, mtu);
		l.g->admitted += qvisor_admitted(cl);
		/* paced by the account of a group above */
		l.g->outer |= n > 0;
		cl->link[n++] = l;
	}
	cl->nlinks = n;
	qvisor_queued(cl, cl->qlen);
	cl->deferred_mult = qv_mult_ceil(QVISOR_DEFERRED_BUCKETS, cl->xf.width);
}

static void qvisor_setup_ceil(struct qvisor_sched_data *q,
			      struct qvisor_class *cl, u32 mtu, u64 now)
{
	struct tc_ratespec rs = {};
	s64 slot_ns = (s64)q->slot_us * NSEC_PER_USEC;
	s64 burst_ns;

	if (!cl->cfg.ceil)
		return;
	psched_ratecfg_precompute(&cl->ceil_rate, &rs, cl->cfg.ceil);
	/* a refill every slot must not overflow the bucket */
	burst_ns = max_t(s64, psched_l2t_ns(&cl->ceil_rate, cl->cfg.burst),
			 slot_ns + psched_l2t_ns(&cl->ceil_rate, mtu));
	/* new, or ceil/burst changed (qvisor_class_change() cleared updated_ns) */
	if (!cl->cap.updated_ns || burst_ns != cl->cap.burst_ns)
		qv_cap_reset(&cl->cap, burst_ns, now);
}

/* Move a tenant into its (new) groups; first pass of qvisor_rebuild().
 * It links to the sharing group of the policy's top it is in and to the
 * '+' level it reaches in each nested group on its way down (its path),
 * charging in each the account of the member it belongs to there: a
 * nested group's, or its own.  Each account weighs the weights of the
 * tenants charged to it.
 */
static void qvisor_attach(struct qvisor_sched_data *q, struct qvisor_class *cl)
{
	const struct qv_pol_step *st = cl->path.st;
	struct qvisor_link *l = cl->link;
	u8 i;

	list_del_init(&cl->dlist);
	cl->blocked = false;
	cl->share_base = u64_stats_read(&cl->bstats.bytes);
	cl->grp = &q->groups[cl->xf.group];
	qvisor_acct_reset(&cl->own);
	l[0].g = cl->grp;
	l[0].a = cl->xf.nest ? &q->gacct[cl->xf.nest] : &cl->own;
	for (i = 0; i < cl->path.n; i++) {
		l[i + 1].g = &q->groups[q->ntop + st[i].level];
		l[i + 1].a = st[i].member ? &q->gacct[st[i].member] : &cl->own;
	}
	cl->nlinks = cl->path.n + 1;
	for (i = 0; i < cl->nlinks; i++)
		l[i].a->weight += cl->cfg.weight;
	cl->grp->wsum += cl->cfg.weight;
}

/* Second pass: each account is one member of its group */
static void qvisor_count_member(struct qvisor_class *cl)
{
	struct qvisor_link *l;
	u8 i;

	for (i = 0; i < cl->nlinks; i++) {
		l = &cl->link[i];
		if (l->a->counted)
			continue;
		l->a->counted = true;
		l->g->members++;
		l->g->wmin = min_t(u64, l->g->wmin, l->a->weight);
	}
}

/* Second pass: credits and caps from the new configuration */
static void qvisor_setup_shaping(struct qvisor_sched_data *q,
				 struct qvisor_class *cl, u32 mtu, u64 now)
{
	qvisor_setup_credits(q, cl, mtu, now);
	qvisor_setup_ceil(q, cl, mtu, now);
	if (cl->deferred_qlen) {
		qvisor_replace_deferred(q, cl);
		qvisor_release(q, cl, now);
	}
}

/* Can @cl's transform put two different ranks of [lo, hi] into one
 * bucket?  Not when it keeps every rank (levels == span) and spreads
 * the levels over at least as many joint ranks: then only a clamped
 * rank shares a bucket with another (qvisor_note_rank()).
 */
static bool qvisor_exact(const struct qv_xform *x)
{
	return x->levels == (u64)x->hi - x->lo + 1 && x->width >= x->levels;
}

/* Third pass: what the packet path of @cl may leave out.  The fast flag
 * (the straight-line enqueue and dequeue): the pifo backend without a
 * link rate or memlimit, and a tenant without credits, ceil, limit of
 * its own, rank function or range auto.  Inversion tracking only where
 * an inversion is possible: a queue backend, a transform that quantizes,
 * range auto, or a rank ever clamped; a tenant that stops tracking forgets its last departure
 * (nothing is compared with it until it tracks again).  Packets queued
 * while the tenant tracked may share a bucket out of rank order after
 * the change, so it stops only once those are gone (inv_drain).  The
 * AQM settings as qvisor_aqm_cfg() gives them.
 */
static void qvisor_set_fast(struct qvisor_sched_data *q,
			    struct qvisor_class *cl)
{
	u8 rank = cl->cfg.rank;
	bool exact;

	cl->fast = q->backend == QVISOR_BACKEND_PIFO && !q->rate &&
		   !q->memlimit && !qvisor_shaped(cl) && !cl->cfg.limit &&
		   rank != QVISOR_RANK_LAS && rank != QVISOR_RANK_STFQ &&
		   rank != QVISOR_RANK_EDF && !cl->cfg.rauto;
	/* range auto puts the ranks of one sketch bucket into one level */
	exact = !qvisor_queue_backend(q) && qvisor_exact(&cl->xf) &&
		!cl->clamped && !cl->cfg.rauto;
	cl->inv_drain = exact && !cl->no_inv && cl->qlen;
	cl->no_inv = exact && !cl->inv_drain;
	if (cl->no_inv)
		cl->inv_valid = false;
	cl->aqm_on = qvisor_aqm_cfg(q, cl, &cl->aqm_cfg);
}

/* Rebuild the runtime state of groups, credits and caps after a commit:
 * O(tenants) on the control path, under sch_tree_lock.
 */
static void qvisor_rebuild(struct Qdisc *sch)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);
	u32 mtu = psched_mtu(qdisc_dev(sch));
	u64 now = ktime_get_ns();
	struct qvisor_class *cl;
	unsigned int i;

	q->fattest = NULL;
	q->prio_cl = NULL;
	/* every change of the classes or of defcls ends here */
	q->defcl = q->defcls ? qvisor_find(sch, TC_H_MAKE(sch->handle,
							  q->defcls)) : NULL;
	for (i = 0; i < q->ngroups; i++) {
		q->groups[i].wmin = U32_MAX;
		INIT_LIST_HEAD(&q->groups[i].waiting);
		INIT_LIST_HEAD(&q->groups[i].todo);
	}
	for (i = 0; i <= QV_POLICY_MAX_GROUPS; i++)
		qvisor_acct_reset(&q->gacct[i]);
	for (i = 0; i < q->clhash.hashsize; i++)
		hlist_for_each_entry(cl, &q->clhash.hash[i], common.hnode)
			qvisor_attach(q, cl);
	qvisor_attach(q, &q->implicit);
	for (i = 0; i < q->clhash.hashsize; i++)
		hlist_for_each_entry(cl, &q->clhash.hash[i], common.hnode)
			qvisor_count_member(cl);
	qvisor_count_member(&q->implicit);
	INIT_LIST_HEAD(&q->blocked);
	for (i = 0; i < q->clhash.hashsize; i++)
		hlist_for_each_entry(cl, &q->clhash.hash[i], common.hnode)
			qvisor_setup_shaping(q, cl, mtu, now);
	qvisor_setup_shaping(q, &q->implicit, mtu, now);
	for (i = 0; i < q->ngroups; i++)
		qvisor_kick(q, &q->groups[i]);
	qvisor_rotate(q, NULL, now);
	for (i = 0; i < q->clhash.hashsize; i++)
		hlist_for_each_entry(cl, &q->clhash.hash[i], common.hnode)
			qvisor_set_fast(q, cl);
	qvisor_set_fast(q, &q->implicit);
}

/* ---------------------------------------------------------------------- */
/* Qdisc configuration                                                    */

/* Ranges the netlink core checks (and reports in policy dumps and in
 * the extack's policy attribute); powers of two and conditions between
 * attributes are checked by hand below.
 */
static const struct netlink_range_validation qvisor_slot_range = {
	.min = 1, .max = USEC_PER_SEC,
};

static const struct netlink_range_validation qvisor_lend_range = {
	.max = QVISOR_MAX_LEND_US,
};

static const struct netlink_range_validation qvisor_minor_range = {
	.max = QVISOR_MAX_MINOR,
};

static const struct netlink_range_validation qvisor_target_range = {
	.min = 1, .max = QVISOR_MAX_TARGET_US,
};

static const struct netlink_range_validation qvisor_interval_range = {
	.min = 1, .max = QVISOR_MAX_INTERVAL_US,
};

/* A policy group; its children are groups again (netlink bounds the
 * recursion), the shape is checked by qv_ptree_decode()
 */
static const struct nla_policy qvisor_node_policy[TCA_QVISOR_NODE_MAX + 1];

static const struct nla_policy qvisor_node_policy[TCA_QVISOR_NODE_MAX + 1] = {
	[TCA_QVISOR_NODE_KIND]		= NLA_POLICY_MAX(NLA_U8, QVISOR_NODE_MAX),
	[TCA_QVISOR_NODE_TENANTS]	= { .type = NLA_BINARY },
	[TCA_QVISOR_NODE_CHILD]		= NLA_POLICY_NESTED(qvisor_node_policy),
};

static const struct nla_policy qvisor_policy[TCA_QVISOR_MAX + 1] = {
	[TCA_QVISOR_RATE]	= { .type = NLA_U64 },
	[TCA_QVISOR_LIMIT]	= NLA_POLICY_MIN(NLA_U32, 1),
	[TCA_QVISOR_BUCKETS]	= { .type = NLA_U32 },
	[TCA_QVISOR_SLOT]	= NLA_POLICY_FULL_RANGE(NLA_U32,
							QVISOR_RANGE(qvisor_slot_range)),
	[TCA_QVISOR_DEFAULT]	= NLA_POLICY_FULL_RANGE(NLA_U32,
							QVISOR_RANGE(qvisor_minor_range)),
	[TCA_QVISOR_BACKEND]	= NLA_POLICY_MAX(NLA_U8, QVISOR_BACKEND_MAX),
	[TCA_QVISOR_QUEUES]	= NLA_POLICY_RANGE(NLA_U32, QVISOR_MIN_SPPIFO_Q,
						   QVISOR_MAX_SPPIFO_Q),
	[TCA_QVISOR_POLICY]	= { .type = NLA_REJECT,
				    .reject_message =
					"The policy is a tree now, not a string" },
	[TCA_QVISOR_POLICY_TREE] = NLA_POLICY_NESTED(qvisor_node_policy),
	[TCA_QVISOR_OVERLAP]	= NLA_POLICY_MAX(NLA_U32, 100),
	[TCA_QVISOR_FLOWS]	= { .type = NLA_U32 },
	[TCA_QVISOR_FLOW_IDLE]	= NLA_POLICY_MIN(NLA_U32, 1),
	[TCA_QVISOR_PARTIAL]	= NLA_POLICY_MAX(NLA_U8, 1),
	[TCA_QVISOR_PROPS]	= { .type = NLA_REJECT,
				    .reject_message =
					"Properties are reported, not set" },
	[TCA_QVISOR_GROUP_PROPS] = { .type = NLA_REJECT,
				     .reject_message =
					"Properties are reported, not set" },
	[TCA_QVISOR_SPLIT_GSO]	= NLA_POLICY_MAX(NLA_U8, QVISOR_SPLIT_GSO_MAX),
	[TCA_QVISOR_AQM]	= NLA_POLICY_MAX(NLA_U8, 1),
	[TCA_QVISOR_ECN]	= NLA_POLICY_MAX(NLA_U8, 1),
	[TCA_QVISOR_TARGET]	= NLA_POLICY_FULL_RANGE(NLA_U32,
							QVISOR_RANGE(qvisor_target_range)),
	[TCA_QVISOR_INTERVAL]	= NLA_POLICY_FULL_RANGE(NLA_U32,
							QVISOR_RANGE(qvisor_interval_range)),
	[TCA_QVISOR_MEMLIMIT]	= { .type = NLA_U32 },
	[TCA_QVISOR_QSTATS]	= { .type = NLA_REJECT,
				    .reject_message =
					"Queue statistics are reported, not set" },
	[TCA_QVISOR_LEND]	= NLA_POLICY_FULL_RANGE(NLA_U32,
							QVISOR_RANGE(qvisor_lend_range)),
};

/* A qdisc configuration being built from netlink, before it is committed */
struct qvisor_qcfg {
	u64			rate;
	u32			limit;
	u32			buckets;
	u32			slot_us;
	u32			defcls;
	u32			queues;
	u32			overlap;
	u8			backend;
	u8			partial;
	u8			split_gso;
	u8			aqm;
	u8			ecn;
	u32			target_us;
	u32			interval_us;
	u32			memlimit;
	u32			lend_us;
	bool			limit_set;
	bool			new_policy;	/* a policy tree was given */
	struct qv_policy	pol;		/* its entries (none: clear) */
	u64			*leaf;		/* new bucket array, if */
	struct qv_bucket	*bkt;		/*   buckets changed */
	u32			flows;
	u32			flow_idle_us;
	struct qv_flow		*fe;		/* new flow table, if
						 * flows changed
						 */
};

static void qvisor_qcfg_free(struct qvisor_qcfg *c)
{
	kvfree(c->pol.ent);
	kvfree(c->pol.grp);
	kvfree(c->leaf);
	kvfree(c->bkt);
	kvfree(c->fe);
}

static int qvisor_check_numbers(struct nlattr **tb, struct qvisor_qcfg *c,
				struct netlink_ext_ack *extack)
{
	if (c->buckets < QVISOR_MIN_BUCKETS ||
	    c->buckets > QVISOR_MAX_BUCKETS || !is_power_of_2(c->buckets)) {
		NL_SET_ERR_MSG_ATTR(extack, tb[TCA_QVISOR_BUCKETS],
				    "buckets must be a power of two from 64 to 65536");
		return -EINVAL;
	}
	if (c->target_us >= c->interval_us) {
		NL_SET_ERR_MSG_ATTR(extack, tb[TCA_QVISOR_TARGET] ?
				    tb[TCA_QVISOR_TARGET] : tb[TCA_QVISOR_INTERVAL],
				    "AQM target must be below its interval");
		return -EINVAL;
	}
	return 0;
}

/* The policy tree into flat entries.  An empty tree clears the policy:
 * every tenant best effort, one group.  Duplicates are found with a
 * bitmap over all minors, O(tenants).
 */
static int qvisor_parse_policy(struct nlattr *attr, struct qvisor_qcfg *c,
			       struct netlink_ext_ack *extack)
{
	struct qv_pol_grp *grp;
	struct qv_err e = {};
	u64 *seen;
	int err;

	c->new_policy = true;
	if (!nla_len(attr))
		return 0;
	c->pol.ent = kvcalloc(QVISOR_MAX_TENANTS, sizeof(*c->pol.ent),
			      GFP_KERNEL);
	grp = kvcalloc(QV_POLICY_MAX_GROUPS, sizeof(*grp), GFP_KERNEL);
	seen = kvcalloc(QV_PTREE_SEEN_WORDS, sizeof(*seen), GFP_KERNEL);
	if (!c->pol.ent || !grp || !seen) {
		kvfree(grp);
		kvfree(seen);
		return -ENOMEM;
	}
	c->pol.cap = QVISOR_MAX_TENANTS;
	err = qv_ptree_decode(&c->pol, grp, QV_POLICY_MAX_GROUPS, attr,
			      nla_total_size(nla_len(attr)), seen, &e);
	kvfree(seen);
	if (err) {
		qvisor_ext_msg(extack, e.msg);
		NL_SET_BAD_ATTR(extack, (const struct nlattr *)
				((const u8 *)attr + e.pos));
	}
	return err;
}

/* Netlink values that replace a current setting only when present */
static void qvisor_nla_u32(const struct nlattr *a, u32 *v)
{
	if (a)
		*v = nla_get_u32(a);
}

static void qvisor_nla_u64(const struct nlattr *a, u64 *v)
{
	if (a)
		*v = nla_get_u64(a);
}

static void qvisor_nla_u8(const struct nlattr *a, u8 *v)
{
	if (a)
		*v = nla_get_u8(a);
}

static void qvisor_qcfg_load(struct Qdisc *sch, struct nlattr **tb,
			     struct qvisor_qcfg *c)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);

	c->rate = q->rate;
	c->limit = sch->limit;
	c->buckets = q->buckets;
	c->slot_us = q->slot_us;
	c->defcls = q->defcls;
	c->backend = q->backend;
	c->queues = q->queues;
	c->overlap = q->overlap;
	c->partial = q->partial;
	c->split_gso = q->split_gso;
	qvisor_nla_u8(tb[TCA_QVISOR_SPLIT_GSO], &c->split_gso);
	qvisor_nla_u64(tb[TCA_QVISOR_RATE], &c->rate);
	qvisor_nla_u32(tb[TCA_QVISOR_LIMIT], &c->limit);
	qvisor_nla_u32(tb[TCA_QVISOR_BUCKETS], &c->buckets);
	qvisor_nla_u32(tb[TCA_QVISOR_SLOT], &c->slot_us);
	qvisor_nla_u32(tb[TCA_QVISOR_DEFAULT], &c->defcls);
	qvisor_nla_u8(tb[TCA_QVISOR_BACKEND], &c->backend);
	qvisor_nla_u32(tb[TCA_QVISOR_QUEUES], &c->queues);
	qvisor_nla_u32(tb[TCA_QVISOR_OVERLAP], &c->overlap);
	c->flows = q->flows;
	c->flow_idle_us = q->flow_idle_us;
	qvisor_nla_u32(tb[TCA_QVISOR_FLOWS], &c->flows);
	qvisor_nla_u32(tb[TCA_QVISOR_FLOW_IDLE], &c->flow_idle_us);
	qvisor_nla_u8(tb[TCA_QVISOR_PARTIAL], &c->partial);
	c->aqm = q->aqm;
	c->ecn = q->ecn;
	c->target_us = q->target_us;
	c->interval_us = q->interval_us;
	qvisor_nla_u8(tb[TCA_QVISOR_AQM], &c->aqm);
	qvisor_nla_u8(tb[TCA_QVISOR_ECN], &c->ecn);
	qvisor_nla_u32(tb[TCA_QVISOR_TARGET], &c->target_us);
	qvisor_nla_u32(tb[TCA_QVISOR_INTERVAL], &c->interval_us);
	c->memlimit = q->memlimit;
	qvisor_nla_u32(tb[TCA_QVISOR_MEMLIMIT], &c->memlimit);
	c->lend_us = q->lend_us;
	qvisor_nla_u32(tb[TCA_QVISOR_LEND], &c->lend_us);
	c->limit_set = q->limit_set || tb[TCA_QVISOR_LIMIT];
	if (!c->limit_set)
		c->limit = qv_auto_limit(c->rate, c->aqm, QVISOR_DEF_LIMIT);
}

/* flows and flow_idle; a new table when the size changes */
static int qvisor_flows_prepare(struct Qdisc *sch, struct nlattr **tb,
				struct qvisor_qcfg *c,
				struct netlink_ext_ack *extack)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);

	if (c->flows < QVISOR_MIN_FLOWS || c->flows > QVISOR_MAX_FLOWS ||
	    !is_power_of_2(c->flows)) {
		NL_SET_ERR_MSG_ATTR(extack, tb[TCA_QVISOR_FLOWS],
				    "flows must be a power of two from 16 to 262144");
		return -EINVAL;
	}
	if (c->flows == q->flows && q->ft.e)
		return 0;
	c->fe = kvcalloc(c->flows, sizeof(*c->fe), GFP_KERNEL);
	return c->fe ? 0 : -ENOMEM;
}

/* Under sch_tree_lock.  A new table starts empty: every flow starts over. */
static void qvisor_flows_commit(struct qvisor_sched_data *q,
				struct qvisor_qcfg *c)
{
	u64 idle = (u64)c->flow_idle_us * NSEC_PER_USEC;
	u64 st_new = q->ft.stat_new, st_evict = q->ft.stat_evict;
	u64 st_aged = q->ft.stat_aged;

	if (c->fe) {
		swap(q->ft.e, c->fe);	/* c frees the old table */
		qv_ft_init(&q->ft, q->ft.e, c->flows, idle);
		/* the counters go on */
		q->ft.stat_new = st_new;
		q->ft.stat_evict = st_evict;
		q->ft.stat_aged = st_aged;
		WRITE_ONCE(q->flows, c->flows);
	}
	q->ft.idle = idle;
	WRITE_ONCE(q->flow_idle_us, c->flow_idle_us);
}

static int qvisor_alloc_buckets(u32 n, u64 **leaf, struct qv_bucket **bkt)
{
	*leaf = kvzalloc(qv_ba_leaf_bytes(n), GFP_KERNEL);
	*bkt = kvzalloc(qv_ba_bucket_bytes(n), GFP_KERNEL);
	return *leaf && *bkt ? 0 : -ENOMEM;
}

/* Validate and prepare everything; allocates, commits nothing */
static int qvisor_qcfg_prepare(struct Qdisc *sch, struct nlattr **tb,
			       struct qvisor_qcfg *c,
			       struct netlink_ext_ack *extack)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);
	int err;

	qvisor_qcfg_load(sch, tb, c);
	err = qvisor_check_numbers(tb, c, extack);
	if (!err && tb[TCA_QVISOR_POLICY_TREE])
		err = qvisor_parse_policy(tb[TCA_QVISOR_POLICY_TREE], c,
					  extack);
	if (!err && c->buckets != q->buckets)
		err = qvisor_alloc_buckets(c->buckets, &c->leaf, &c->bkt);
	if (!err)
		err = qvisor_flows_prepare(sch, tb, c, extack);
	return err;
}

static void qvisor_qcfg_commit(struct Qdisc *sch, struct qvisor_qcfg *c)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);
	struct tc_ratespec rs = {};
	struct qv_barray nba;

	if (c->rate != q->rate) {
		/* the rate clock starts over: its time was at the old rate */
		q->t_next = 0;
		q->rate_idle = true;
	}
	WRITE_ONCE(q->rate, c->rate);
	if (c->rate)
		psched_ratecfg_precompute(&q->ratecfg, &rs, c->rate);
	WRITE_ONCE(q->split_gso, c->split_gso);
	WRITE_ONCE(sch->limit, c->limit);
	WRITE_ONCE(q->slot_us, c->slot_us);
	WRITE_ONCE(q->defcls, c->defcls);
	WRITE_ONCE(q->queues, c->queues);
	WRITE_ONCE(q->overlap, c->overlap);
	if (c->backend != q->backend)
		qv_aifo_reset(&q->aifo);
	WRITE_ONCE(q->backend, c->backend);
	WRITE_ONCE(q->partial, c->partial);
	WRITE_ONCE(q->aqm, c->aqm);
	WRITE_ONCE(q->ecn, c->ecn);
	WRITE_ONCE(q->target_us, c->target_us);
	WRITE_ONCE(q->interval_us, c->interval_us);
	WRITE_ONCE(q->memlimit, c->memlimit);
	q->limit_set = c->limit_set;
	if (c->lend_us != q->lend_us) {
		WRITE_ONCE(q->lend_us, c->lend_us);
		/* off: the lent queues come back now */
		qvisor_lend_reset(q);
		if (q->backend == QVISOR_BACKEND_SPPIFO)
			qvisor_lend_install(q);
	}
	if (c->new_policy) {
		swap(q->pol_ent, c->pol.ent);
		swap(q->pol_grp, c->pol.grp);
		q->pol = c->pol;
		q->pol.ent = q->pol_ent;
		q->pol.grp = q->pol_grp;
	}
	if (c->leaf) {
		qv_ba_init(&nba, c->leaf, c->bkt, c->buckets,
			   offsetof(struct sk_buff, next));
		q->stat_replaced += qvisor_replace(q, &nba);
		/* hand the old arrays to c, which frees them */
		c->leaf = q->ba.leaf;
		c->bkt = q->ba.b;
		q->ba = nba;
		WRITE_ONCE(q->buckets, c->buckets);
	}
	qvisor_flows_commit(q, c);
}

/* The backend (or the number of sppifo queues) changes only while
 * nothing is queued: packets are never moved between backends.  Under
 * sch_tree_lock, before anything is committed.
 */
static int qvisor_check_switch(struct Qdisc *sch, const struct qvisor_qcfg *c,
			       struct netlink_ext_ack *extack)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);

	if (c->backend == q->backend &&
	    (c->backend != QVISOR_BACKEND_SPPIFO || c->queues == q->queues))
		return 0;
	if (!sch->q.qlen)
		return 0;
	NL_SET_ERR_MSG_MOD(extack,
			   "Backend can change only while the queue is empty (packets are queued)");
	return -EBUSY;
}

static int qvisor_change(struct Qdisc *sch, struct nlattr *opt,
			 struct netlink_ext_ack *extack)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);
	struct nlattr *tb[TCA_QVISOR_MAX + 1];
	struct qvisor_plan plan = {};
	struct qvisor_qcfg c = {};
	bool changed;
	int err;

	err = nla_parse_nested(tb, TCA_QVISOR_MAX, opt, qvisor_policy, extack);
	if (err < 0)
		return err;
	err = qvisor_qcfg_prepare(sch, tb, &c, extack);
	if (err)
		goto out;
	plan.be_set = true;
	plan.backend = c.backend;
	plan.queues = c.queues;
	plan.partial = c.partial;
	err = qvisor_synth(sch, c.new_policy ? &c.pol : &q->pol,
			   c.buckets, c.overlap, NULL, NULL, &plan, extack);
	if (err)
		goto out;

	sch_tree_lock(sch);
	err = qvisor_check_switch(sch, &c, extack);
	if (err) {
		sch_tree_unlock(sch);
		goto out;
	}
	changed = qvisor_commit_plan(q, &plan);
	qvisor_qcfg_commit(sch, &c);
	qvisor_replace_all(q, changed && !c.leaf);
	qvisor_trim(sch, sch->limit);
	qvisor_rebuild(sch);
	sch_tree_unlock(sch);
out:
	qvisor_plan_free(&plan);
	qvisor_qcfg_free(&c);
	return err;
}

static void qvisor_tenant_init(struct qvisor_class *cl)
{
	INIT_LIST_HEAD(&cl->dlist);
	qv_ba_init(&cl->deferred_q, &cl->dq_leaf, cl->dq_b, QVISOR_DEFERRED_BUCKETS,
		   offsetof(struct sk_buff, next));
	gnet_stats_basic_sync_init(&cl->bstats);
	qv_aqm_init(&cl->aqm);
	/* nothing seen: the first rank is both ends (qvisor_note_rank()) */
	cl->rank_min = U32_MAX;
	cl->joint_min = U32_MAX;
}

static int qvisor_init(struct Qdisc *sch, struct nlattr *opt,
		       struct netlink_ext_ack *extack)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);
	struct qvisor_plan plan = {};
	int err;

	qdisc_watchdog_init(&q->watchdog, sch);
	sch->limit = QVISOR_DEF_LIMIT;
	q->slot_us = QVISOR_DEF_SLOT_US;
	q->overlap = QVISOR_DEF_OVERLAP;
	q->queues = 8;
	q->flows = QVISOR_DEF_FLOWS;
	q->flow_idle_us = QVISOR_DEF_FLOW_IDLE_US;
	q->aqm = 1;
	q->ecn = 1;
	q->target_us = QVISOR_DEF_TARGET_US;
	q->interval_us = QVISOR_DEF_INTERVAL_US;
	q->lend_next = U64_MAX;
	INIT_LIST_HEAD(&q->blocked);
	INIT_LIST_HEAD(&q->todo);
	INIT_LIST_HEAD(&q->rel);
	qvisor_tenant_init(&q->implicit);
	q->implicit.slot = QVISOR_IMPLICIT_SLOT;
	q->implicit.cfg.rank = QVISOR_RANK_FIFO;
	q->implicit.cfg.weight = QVISOR_DEF_WEIGHT;

	err = qdisc_class_hash_init(&q->clhash);
	if (err)
		return err;
	err = tcf_block_get(&q->block, &q->filter_list, sch, extack);
	if (err)
		return err;
	q->slots = kvcalloc(QVISOR_MAX_TENANTS + 1, sizeof(*q->slots),
			    GFP_KERNEL);
	if (!q->slots)
		return -ENOMEM;
	q->slots[QVISOR_IMPLICIT_SLOT] = &q->implicit;
	q->flow_gen = kvcalloc(QVISOR_MAX_TENANTS + 1, sizeof(*q->flow_gen),
			       GFP_KERNEL);
	if (!q->flow_gen)
		return -ENOMEM;
	q->gacct = kvcalloc(QV_POLICY_MAX_GROUPS + 1, sizeof(*q->gacct),
			    GFP_KERNEL);
	if (!q->gacct)
		return -ENOMEM;

	q->buckets = QVISOR_DEF_BUCKETS;
	err = qvisor_alloc_buckets(q->buckets, &q->ba.leaf, &q->ba.b);
	if (err)
		return err;
	qv_ba_init(&q->ba, q->ba.leaf, q->ba.b, q->buckets,
		   offsetof(struct sk_buff, next));
	q->ft.e = kvcalloc(q->flows, sizeof(*q->ft.e), GFP_KERNEL);
	if (!q->ft.e)
		return -ENOMEM;
	qv_ft_init(&q->ft, q->ft.e, q->flows,
		   (u64)q->flow_idle_us * NSEC_PER_USEC);

	if (opt)
		return qvisor_change(sch, opt, extack);
	err = qvisor_synth(sch, NULL, q->buckets, q->overlap, NULL, NULL,
			   &plan, extack);
	if (!err) {
		qvisor_commit_plan(q, &plan);
		qvisor_rebuild(sch);
	}
	qvisor_plan_free(&plan);
	return err;
}

static void qvisor_reset(struct Qdisc *sch)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);
	u32 pkts, bytes;

	if (q->ba.leaf)
		qvisor_purge(sch, NULL, &pkts, &bytes);
	q->t_next = 0;
	q->fattest = NULL;
	q->mem = 0;
	qdisc_watchdog_cancel(&q->watchdog);
}

static void qvisor_destroy_class(struct Qdisc *sch, struct qvisor_class *cl)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);

	if (q->slots)
		q->slots[cl->slot] = NULL;
	gen_kill_estimator(&cl->rate_est);
	kfree(cl->ra);
	kfree(cl);
}

/* Called even when init failed half-way: everything may be NULL */
static void qvisor_destroy(struct Qdisc *sch)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);
	struct hlist_node *next;
	struct qvisor_class *cl;
	unsigned int i;

	tcf_block_put(q->block);
	qdisc_watchdog_cancel(&q->watchdog);
	qvisor_reset(sch);
	for (i = 0; i < q->clhash.hashsize; i++)
		hlist_for_each_entry_safe(cl, next, &q->clhash.hash[i],
					  common.hnode)
			qvisor_destroy_class(sch, cl);
	qdisc_class_hash_destroy(&q->clhash);
	kvfree(q->slots);
	kvfree(q->flow_gen);
	kvfree(q->groups);
	kvfree(q->ba.leaf);
	kvfree(q->ba.b);
	kvfree(q->ft.e);
	kvfree(q->pol_ent);
	kvfree(q->pol_grp);
	kvfree(q->gacct);
	kvfree(q->gprops);
}

/* The policy as the tree userspace sends, each group of one member left
 * out.  Under RTNL, which keeps changes of the policy apart.
 */
static int qvisor_dump_policy(struct sk_buff *skb, const struct qv_policy *pol)
{
	u32 len = qv_ptree_size(pol);
	struct nlattr *a;

	if (len > U16_MAX - NLA_HDRLEN)
		return -EMSGSIZE;
	a = nla_reserve(skb, TCA_QVISOR_POLICY_TREE | NLA_F_NESTED, len);
	if (!a)
		return -EMSGSIZE;
	qv_ptree_encode(pol, nla_data(a));
	return 0;
}

/* FIFO queues of the backend: sppifo N, aifo and fifo 1, pifo none */
static u32 qvisor_nqueues(const struct qvisor_sched_data *q)
{
	if (q->backend == QVISOR_BACKEND_SPPIFO)
		return q->qmap.nq;
	return qvisor_queue_backend(q) ? 1 : 0;
}

/* TCA_QVISOR_QSTATS: each queue's length, bound and tier.  Under the qdisc
 * lock, which the packet path holds when it moves qcount and the bounds
 * and a change holds when it replaces the queue map, so that the queues
 * add up to one moment; nla_put only copies into the skb's tailroom.
 */
static int qvisor_dump_queues(struct Qdisc *sch, struct sk_buff *skb)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);
	struct nlattr *all, *one;
	int err = -EMSGSIZE;
	u32 i, n;

	all = nla_nest_start(skb, TCA_QVISOR_QSTATS);
	if (!all)
		return -EMSGSIZE;
	sch_tree_lock(sch);
	n = min_t(u32, qvisor_nqueues(q), QVISOR_MAX_SPPIFO_Q);
	for (i = 0; i < n; i++) {
		one = nla_nest_start(skb, TCA_QVISOR_QSTATS_QUEUE);
		if (!one ||
		    nla_put_u32(skb, TCA_QVISOR_QUEUE_LEN, q->qcount[i]) ||
		    (q->backend == QVISOR_BACKEND_SPPIFO &&
		     nla_put_u32(skb, TCA_QVISOR_QUEUE_BOUND, q->sp.bound[i])) ||
		    nla_put_u32(skb, TCA_QVISOR_QUEUE_TIER,
				qv_qmap_tier_of(&q->qmap, i)))
			goto out;
		nla_nest_end(skb, one);
	}
	err = 0;
out:
	sch_tree_unlock(sch);
	if (err)
		nla_nest_cancel(skb, all);
	else
		nla_nest_end(skb, all);
	return err;
}

static int qvisor_dump(struct Qdisc *sch, struct sk_buff *skb)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);
	struct nlattr *opts;

	opts = nla_nest_start_noflag(skb, TCA_OPTIONS);
	if (!opts)
		goto nla_put_failure;
	if (nla_put_u64_64bit(skb, TCA_QVISOR_RATE, READ_ONCE(q->rate),
			      TCA_QVISOR_PAD) ||
	    nla_put_u32(skb, TCA_QVISOR_LIMIT, READ_ONCE(sch->limit)) ||
	    nla_put_u32(skb, TCA_QVISOR_BUCKETS, READ_ONCE(q->buckets)) ||
	    nla_put_u32(skb, TCA_QVISOR_SLOT, READ_ONCE(q->slot_us)) ||
	    nla_put_u32(skb, TCA_QVISOR_DEFAULT, READ_ONCE(q->defcls)) ||
	    nla_put_u8(skb, TCA_QVISOR_BACKEND, READ_ONCE(q->backend)) ||
	    nla_put_u32(skb, TCA_QVISOR_QUEUES, READ_ONCE(q->queues)) ||
	    nla_put_u32(skb, TCA_QVISOR_OVERLAP, READ_ONCE(q->overlap)) ||
	    nla_put_u32(skb, TCA_QVISOR_FLOWS, READ_ONCE(q->flows)) ||
	    nla_put_u32(skb, TCA_QVISOR_FLOW_IDLE, READ_ONCE(q->flow_idle_us)) ||
	    nla_put_u8(skb, TCA_QVISOR_PARTIAL, READ_ONCE(q->partial)) ||
	    nla_put_u32(skb, TCA_QVISOR_PROPS, READ_ONCE(q->props)) ||
	    nla_put_u8(skb, TCA_QVISOR_SPLIT_GSO, READ_ONCE(q->split_gso)) ||
	    nla_put_u8(skb, TCA_QVISOR_AQM, READ_ONCE(q->aqm)) ||
	    nla_put_u8(skb, TCA_QVISOR_ECN, READ_ONCE(q->ecn)) ||
	    nla_put_u32(skb, TCA_QVISOR_TARGET, READ_ONCE(q->target_us)) ||
	    nla_put_u32(skb, TCA_QVISOR_INTERVAL, READ_ONCE(q->interval_us)) ||
	    nla_put_u32(skb, TCA_QVISOR_MEMLIMIT, READ_ONCE(q->memlimit)))
		goto nla_put_failure;
	if (READ_ONCE(q->lend_us) &&
	    nla_put_u32(skb, TCA_QVISOR_LEND, READ_ONCE(q->lend_us)))
		goto nla_put_failure;
	if (q->pol.n && qvisor_dump_policy(skb, &q->pol))
		goto nla_put_failure;
	/* the plan of this policy (both change under RTNL, which the dump
	 * holds)
	 */
	if (q->pol.ngrp && q->ngprops == q->pol.ngrp &&
	    nla_put(skb, TCA_QVISOR_GROUP_PROPS,
		    q->ngprops * sizeof(*q->gprops), q->gprops))
		goto nla_put_failure;
	if (qvisor_dump_queues(sch, skb))
		goto nla_put_failure;
	return nla_nest_end(skb, opts);

nla_put_failure:
	nla_nest_cancel(skb, opts);
	return -EMSGSIZE;
}

/* Blocked tenants, and all deferred packets into *deferred */
static u32 qvisor_count_blocked(struct qvisor_sched_data *q, u64 *deferred)
{
	struct qvisor_class *cl;
	unsigned int i;
	u32 n = 0;

	*deferred = 0;
	for (i = 0; i < q->clhash.hashsize; i++) {
		hlist_for_each_entry(cl, &q->clhash.hash[i], common.hnode) {
			*deferred += cl->deferred_qlen;
			n += cl->blocked;
		}
	}
	return n;
}

/* Backend statistics, O(queues).  The queue_* arrays are superseded by
 * TCA_QVISOR_QSTATS (qvisor_dump_queues) but filled for older readers.
 */
static void qvisor_backend_stats(struct qvisor_sched_data *q,
				 struct tc_qvisor_xstats *st)
{
	u32 i, n = qvisor_nqueues(q);

	st->unpifoness = q->stat_unpifoness;
	st->drop_admission = q->stat_drop_admission;
	st->pushdowns = q->sp.pushdowns;
	st->backend = q->backend;
	st->aifo_k = QV_AIFO_DEF_K;
	st->aifo_window = q->aifo.n;
	st->nqueues = n;
	for (i = 0; i < n; i++) {
		st->queue_len[i] = q->qcount[i];
		st->queue_bound[i] = q->sp.bound[i];
		st->queue_tier[i] = qv_qmap_tier_of(&q->qmap, i);
	}
}

static int qvisor_dump_stats(struct Qdisc *sch, struct gnet_dump *d)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);
	struct tc_qvisor_xstats st = {};

	/* The flow table is scanned outside the qdisc lock, so that up to
	 * 262144 entries never hold up the packet path: its entries are
	 * only counted (each field read once), and the table is replaced
	 * only by a change, which RTNL keeps apart from dumps.
	 */
	st.flows_live = q->ft.e ? qv_ft_live(&q->ft, ktime_get_ns()) : 0;
	sch_tree_lock(sch);
	st.type = QVISOR_XSTATS_QDISC;
	st.blocked = qvisor_count_blocked(q, &st.deferred);
	st.tenants = q->ntenants;
	st.buckets = q->buckets;
	st.joint_width = q->width;
	st.tiers = q->tiers;
	st.drop_pushout = q->stat_drop_pushout;
	st.drop_limit = q->stat_drop_limit;
	st.drop_tenant_limit = q->stat_drop_tenant_limit;
	st.drop_classify = q->stat_drop_classify;
	st.implicit_pkts = q->stat_implicit;
	st.default_pkts = q->stat_default;
	st.throttled = q->stat_throttled;
	st.inversions = q->stat_inversions;
	st.resynth = q->stat_resynth;
	st.rounds = q->stat_rounds;
	st.refills = q->stat_refills;
	st.flows = q->flows;
	st.flows_new = q->ft.stat_new;
	st.flows_evicted = q->ft.stat_evict;
	st.flows_aged = q->ft.stat_aged;
	st.replaced = q->stat_replaced;
	st.aqm_drops = q->stat_aqm_drops;
	st.ecn_marks = q->stat_ecn_marks;
	st.drop_memlimit = q->stat_drop_memlimit;
	st.memory = q->mem;
	st.lends = q->stat_lends;
	qvisor_backend_stats(q, &st);
	sch_tree_unlock(sch);
	return gnet_stats_copy_app(d, &st, sizeof(st));
}

/* ---------------------------------------------------------------------- */
/* Classes (tenants)                                                      */

static const struct netlink_range_validation qvisor_levels_range = {
	.min = 1, .max = QVISOR_MAX_LEVELS,
};

static const struct netlink_range_validation qvisor_weight_range = {
	.min = 1, .max = QVISOR_MAX_WEIGHT,
};

static const struct netlink_range_validation qvisor_budget_range = {
	.max = QVISOR_MAX_EDF_BUDGET_NS,
};

/* 0 = the qdisc's */
static const struct netlink_range_validation qvisor_cl_target_range = {
	.max = QVISOR_MAX_TARGET_US,
};

static const struct netlink_range_validation qvisor_cl_interval_range = {
	.max = QVISOR_MAX_INTERVAL_US,
};

static const struct netlink_range_validation qvisor_rauto_range = {
	.max = QVISOR_RAUTO_MAX_WINDOW,
};

static const struct nla_policy qvisor_class_policy[TCA_QVISOR_CLASS_MAX + 1] = {
	[TCA_QVISOR_CLASS_RANK]		= NLA_POLICY_MAX(NLA_U8,
							 QVISOR_RANK_MAX),
	[TCA_QVISOR_CLASS_MARK_MASK]	= { .type = NLA_U32 },
	[TCA_QVISOR_CLASS_LO]		= { .type = NLA_U32 },
	[TCA_QVISOR_CLASS_HI]		= { .type = NLA_U32 },
	[TCA_QVISOR_CLASS_LEVELS]	=
		NLA_POLICY_FULL_RANGE(NLA_U32, QVISOR_RANGE(qvisor_levels_range)),
	[TCA_QVISOR_CLASS_WEIGHT]	=
		NLA_POLICY_FULL_RANGE(NLA_U32, QVISOR_RANGE(qvisor_weight_range)),
	[TCA_QVISOR_CLASS_CEIL]		= { .type = NLA_U64 },
	[TCA_QVISOR_CLASS_BURST]	= { .type = NLA_U32 },
	[TCA_QVISOR_CLASS_LIMIT]	= { .type = NLA_U32 },
	[TCA_QVISOR_CLASS_EDF_BUDGET]	=
		NLA_POLICY_FULL_RANGE(NLA_U64, QVISOR_RANGE(qvisor_budget_range)),
	[TCA_QVISOR_CLASS_EDF_MARK]	= NLA_POLICY_MAX(NLA_U8, 1),
	[TCA_QVISOR_CLASS_AQM]		= NLA_POLICY_MAX(NLA_U8, QVISOR_AQM_MAX),
	[TCA_QVISOR_CLASS_ECN]		= NLA_POLICY_MAX(NLA_U8, QVISOR_AQM_MAX),
	[TCA_QVISOR_CLASS_TARGET]	=
		NLA_POLICY_FULL_RANGE(NLA_U32, QVISOR_RANGE(qvisor_cl_target_range)),
	[TCA_QVISOR_CLASS_INTERVAL]	=
		NLA_POLICY_FULL_RANGE(NLA_U32, QVISOR_RANGE(qvisor_cl_interval_range)),
	[TCA_QVISOR_CLASS_RANGE_AUTO]	=
		NLA_POLICY_FULL_RANGE(NLA_U32, QVISOR_RANGE(qvisor_rauto_range)),
};

static void qvisor_ccfg_load(struct nlattr **tb, struct qvisor_ccfg *c)
{
	/* a declared range alone turns range auto off */
	if (tb[TCA_QVISOR_CLASS_LO] || tb[TCA_QVISOR_CLASS_HI]) {
		c->range_set = true;
		c->rauto = 0;
	}
	qvisor_nla_u32(tb[TCA_QVISOR_CLASS_RANGE_AUTO], &c->rauto);
	qvisor_nla_u8(tb[TCA_QVISOR_CLASS_RANK], &c->rank);
	qvisor_nla_u32(tb[TCA_QVISOR_CLASS_MARK_MASK], &c->mark_mask);
	qvisor_nla_u32(tb[TCA_QVISOR_CLASS_LO], &c->lo);
	qvisor_nla_u32(tb[TCA_QVISOR_CLASS_HI], &c->hi);
	qvisor_nla_u32(tb[TCA_QVISOR_CLASS_LEVELS], &c->levels);
	qvisor_nla_u32(tb[TCA_QVISOR_CLASS_WEIGHT], &c->weight);
	qvisor_nla_u64(tb[TCA_QVISOR_CLASS_CEIL], &c->ceil);
	qvisor_nla_u32(tb[TCA_QVISOR_CLASS_BURST], &c->burst);
	qvisor_nla_u32(tb[TCA_QVISOR_CLASS_LIMIT], &c->limit);
	qvisor_nla_u64(tb[TCA_QVISOR_CLASS_EDF_BUDGET], &c->edf_budget);
	if (tb[TCA_QVISOR_CLASS_EDF_MARK])
		c->edf_mark = nla_get_u8(tb[TCA_QVISOR_CLASS_EDF_MARK]);
	qvisor_nla_u8(tb[TCA_QVISOR_CLASS_AQM], &c->aqm);
	qvisor_nla_u8(tb[TCA_QVISOR_CLASS_ECN], &c->ecn);
	qvisor_nla_u32(tb[TCA_QVISOR_CLASS_TARGET], &c->target_us);
	qvisor_nla_u32(tb[TCA_QVISOR_CLASS_INTERVAL], &c->interval_us);
}

static int qvisor_ccfg_check_rank(struct nlattr **tb,
				  const struct qvisor_ccfg *c,
				  struct netlink_ext_ack *extack)
{
	if (c->rank == QVISOR_RANK_EDF && !c->edf_budget) {
		NL_SET_ERR_MSG_ATTR(extack, tb[TCA_QVISOR_CLASS_EDF_BUDGET],
				    "rank edf needs a deadline budget greater than 0");
		return -EINVAL;
	}
	if (c->rank == QVISOR_RANK_MARK && !c->mark_mask) {
		NL_SET_ERR_MSG_ATTR(extack, tb[TCA_QVISOR_CLASS_MARK_MASK],
				    "mark mask must not be zero");
		return -EINVAL;
	}
	return 0;
}

static int qvisor_ccfg_check(struct nlattr **tb, const struct qvisor_ccfg *c,
			     struct netlink_ext_ack *extack)
{
	int err = qvisor_ccfg_check_rank(tb, c, extack);

	if (err)
		return err;
	if (c->range_set && c->lo > c->hi) {
		NL_SET_ERR_MSG_ATTR(extack, tb[TCA_QVISOR_CLASS_LO],
				    "range LO must not be above HI");
		return -EINVAL;
	}
	if (c->rauto && c->rauto < QVISOR_RAUTO_MIN_WINDOW) {
		NL_SET_ERR_MSG_ATTR(extack, tb[TCA_QVISOR_CLASS_RANGE_AUTO],
				    "range auto window must be 0 (off) or 16 to 32768 packets");
		return -EINVAL;
	}
	if (c->target_us && c->interval_us && c->target_us >= c->interval_us) {
		NL_SET_ERR_MSG_ATTR(extack, tb[TCA_QVISOR_CLASS_TARGET] ?
				    tb[TCA_QVISOR_CLASS_TARGET] :
				    tb[TCA_QVISOR_CLASS_INTERVAL],
				    "AQM target must be below its interval");
		return -EINVAL;
	}
	return 0;
}

static int qvisor_free_slot(struct qvisor_sched_data *q,
			    struct netlink_ext_ack *extack)
{
	u32 i;

	for (i = 0; i < QVISOR_MAX_TENANTS; i++)
		if (!q->slots[i])
			return i;
	NL_SET_ERR_MSG_MOD(extack, "Too many tenants (at most 4096 classes)");
	return -ENOSPC;
}

static struct qvisor_class *qvisor_class_alloc(struct Qdisc *sch, u32 classid,
					       struct netlink_ext_ack *extack)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);
	struct qvisor_class *cl;
	int slot;

	if (TC_H_MAJ(classid) != sch->handle || !TC_H_MIN(classid)) {
		NL_SET_ERR_MSG_MOD(extack,
				   "classid must be MAJOR:MINOR of this qdisc with MINOR not 0");
		return ERR_PTR(-EINVAL);
	}
	slot = qvisor_free_slot(q, extack);
	if (slot < 0)
		return ERR_PTR(slot);
	cl = kzalloc(sizeof(*cl), GFP_KERNEL);
	if (!cl)
		return ERR_PTR(-ENOMEM);
	cl->common.classid = classid;
	cl->slot = slot;
	cl->cfg.rank = QVISOR_RANK_PRIO;
	cl->cfg.mark_mask = 0xffffffff;
	cl->cfg.weight = QVISOR_DEF_WEIGHT;
	qvisor_tenant_init(cl);
	return cl;
}

/* Under the tree lock, before @cfg is committed: range auto enabled
 * starts a fresh history (the declared range until its first table), a
 * new window keeps it; @ra is the sketch allocated for a class that had
 * none.  Queued packets keep their joint ranks until the re-placement
 * of the change.
 */
static void qvisor_rauto_commit(struct qvisor_class *cl,
				const struct qvisor_ccfg *cfg,
				struct qv_rauto *ra)
{
	if (ra)
		cl->ra = ra;
	if (!cfg->rauto)
		return;
	if (!cl->cfg.rauto)
		qv_rauto_init(cl->ra, cfg->rauto);
	else if (cfg->rauto != cl->cfg.rauto)
		qv_rauto_set_window(cl->ra, cfg->rauto);
}

static int qvisor_class_change(struct Qdisc *sch, u32 classid, u32 parentid,
			       struct nlattr **tca, unsigned long *arg,
			       struct netlink_ext_ack *extack)
{
	struct qvisor_class *cl = (struct qvisor_class *)*arg, *newcl = NULL;
	struct qvisor_sched_data *q = qdisc_priv(sch);
	struct nlattr *tb[TCA_QVISOR_CLASS_MAX + 1];
	struct nlattr *opt = tca[TCA_OPTIONS];
	struct qvisor_plan plan = {};
	struct qv_rauto *ra = NULL;
	struct qvisor_ccfg cfg;
	int err;

	if (parentid && parentid != TC_H_ROOT && parentid != sch->handle) {
		NL_SET_ERR_MSG_MOD(extack, "Tenant classes hang off the qdisc itself");
		return -EINVAL;
	}
	memset(tb, 0, sizeof(tb));
	if (opt) {
		err = nla_parse_nested(tb, TCA_QVISOR_CLASS_MAX, opt,
				       qvisor_class_policy, extack);
		if (err < 0)
			return err;
	}
	if (!cl) {
		newcl = qvisor_class_alloc(sch, classid, extack);
		if (IS_ERR(newcl))
			return PTR_ERR(newcl);
		cl = newcl;
	}
	cfg = cl->cfg;
	qvisor_ccfg_load(tb, &cfg);
	err = qvisor_ccfg_check(tb, &cfg, extack);
	if (!err)
		err = qvisor_synth(sch, &q->pol, q->buckets, q->overlap, cl,
				   &cfg, &plan, extack);
	if (err)
		goto fail;
	if (cfg.rauto && !cl->ra) {
		ra = kzalloc(sizeof(*ra), GFP_KERNEL);
		if (!ra) {
			err = -ENOMEM;
			goto fail;
		}
	}
	if (tca[TCA_RATE]) {
		err = gen_replace_estimator(&cl->bstats, NULL, &cl->rate_est,
					    NULL, true, tca[TCA_RATE]);
		if (err) {
			NL_SET_ERR_MSG_ATTR(extack, tca[TCA_RATE],
					    "Failed to replace the rate estimator");
			goto fail;
		}
	}

	sch_tree_lock(sch);
	if (!newcl && cfg.rank != cl->cfg.rank)
		qvisor_rank_restart(q, cl, cfg.rank);
	if (cfg.ceil != cl->cfg.ceil || cfg.burst != cl->cfg.burst)
		cl->cap.updated_ns = 0;	/* a new bucket: qvisor_setup_ceil() */
	qvisor_rauto_commit(cl, &cfg, ra);
	cl->cfg = cfg;
	if (newcl) {
		qdisc_class_hash_insert(&q->clhash, &cl->common);
		q->slots[cl->slot] = cl;
		q->ntenants++;
	}
	qvisor_replace_all(q, qvisor_commit_plan(q, &plan));
	qvisor_rebuild(sch);
	sch_tree_unlock(sch);
	qvisor_plan_free(&plan);
	if (newcl)
		qdisc_class_hash_grow(sch, &q->clhash);
	*arg = (unsigned long)cl;
	return 0;

fail:
	qvisor_plan_free(&plan);
	kfree(ra);
	if (newcl) {
		gen_kill_estimator(&newcl->rate_est);
		kfree(newcl);
	}
	return err;
}

/* Counting the filters that point at a class: each classifier's
 * bind_class() rebinds its filters of that classid, which calls
 * qvisor_bind_tcf() once per filter (and unbinds the old binding)
 */
struct qvisor_fcount {
	struct tcf_walker	w;
	struct Qdisc		*sch;
	struct qvisor_class	*cl;
};

static int qvisor_fcount_node(struct tcf_proto *tp, void *n,
			      struct tcf_walker *w)
{
	struct qvisor_fcount *a = container_of(w, struct qvisor_fcount, w);

	if (n && tp->ops->bind_class) {
		sch_tree_lock(a->sch);
		tp->ops->bind_class(n, a->cl->common.classid,
				    (unsigned long)a->cl, a->sch, 0);
		sch_tree_unlock(a->sch);
	}
	return 0;
}

/* The filters that really point at @cl, which becomes its filter_cnt.
 * filter_cnt can count more: Linux 6.1's flower binds the class, fails on
 * a missing indev and frees the filter without unbinding it, and the
 * class could never be deleted.  Under RTNL, as tc's own rebinding walk.
 */
static noinline u32 qvisor_filters_of(struct Qdisc *sch,
				      struct qvisor_class *cl)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);
	struct qvisor_fcount a = { .sch = sch, .cl = cl };
	struct tcf_chain *chain;
	struct tcf_proto *tp;

	q->fcount = 0;
	for (chain = tcf_get_next_chain(q->block, NULL); chain;
	     chain = tcf_get_next_chain(q->block, chain)) {
		for (tp = tcf_get_next_proto(chain, NULL); tp;
		     tp = tcf_get_next_proto(chain, tp)) {
			memset(&a.w, 0, sizeof(a.w));
			a.w.fn = qvisor_fcount_node;
			tp->ops->walk(tp, &a.w, true);
		}
	}
	sch_tree_lock(sch);
	if (cl->filter_cnt != q->fcount)
		pr_info_once("sch_qvisor: class %x:%x counted %u filters, %u point at it: binding count repaired\n",
			     TC_H_MAJ(cl->common.classid) >> 16,
			     TC_H_MIN(cl->common.classid), cl->filter_cnt,
			     q->fcount);
	cl->filter_cnt = q->fcount;
	sch_tree_unlock(sch);
	return q->fcount;
}

static int qvisor_class_delete(struct Qdisc *sch, unsigned long arg,
			       struct netlink_ext_ack *extack)
{
	struct qvisor_class *cl = (struct qvisor_class *)arg;
	struct qvisor_sched_data *q = qdisc_priv(sch);
	struct qvisor_plan plan = {};
	u32 pkts, bytes;
	int err;

	if (cl->filter_cnt && qvisor_filters_of(sch, cl)) {
		NL_SET_ERR_MSG_MOD(extack, "Class is in use by a filter");
		return -EBUSY;
	}
	err = qvisor_synth(sch, &q->pol, q->buckets, q->overlap, cl, NULL,
			   &plan, extack);
	if (err)
		return err;

	sch_tree_lock(sch);
	qvisor_purge(sch, cl, &pkts, &bytes);
	if (pkts)
		qdisc_tree_reduce_backlog(sch, pkts, bytes);
	qdisc_class_hash_remove(&q->clhash, &cl->common);
	q->ntenants--;
	qvisor_forget_flows(q, cl);	/* the slot may be reused */
	qvisor_replace_all(q, qvisor_commit_plan(q, &plan));
	qvisor_rebuild(sch);
	sch_tree_unlock(sch);
	qvisor_plan_free(&plan);
	qvisor_destroy_class(sch, cl);
	return 0;
}

static unsigned long qvisor_class_find(struct Qdisc *sch, u32 classid)
{
	return (unsigned long)qvisor_find(sch, classid);
}

static struct tcf_block *qvisor_tcf_block(struct Qdisc *sch, unsigned long cl,
					  struct netlink_ext_ack *extack)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);

	if (cl) {
		NL_SET_ERR_MSG_MOD(extack,
				   "Filters attach to the qdisc, not to a tenant class");
		return NULL;
	}
	return q->block;
}

static unsigned long qvisor_bind_tcf(struct Qdisc *sch, unsigned long parent,
				     u32 classid)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);
	struct qvisor_class *cl = qvisor_find(sch, classid);

	if (cl) {
		cl->filter_cnt++;
		q->fcount++;
	}
	return (unsigned long)cl;
}

static void qvisor_unbind_tcf(struct Qdisc *sch, unsigned long arg)
{
	struct qvisor_class *cl = (struct qvisor_class *)arg;

	if (cl)
		cl->filter_cnt--;
}

static int qvisor_class_dump_cfg(struct sk_buff *skb,
				 const struct qvisor_class *cl)
{
	const struct qvisor_ccfg *c = &cl->cfg;
	u32 lo, hi;

	qvisor_cfg_range(c, &lo, &hi);
	if (nla_put_u8(skb, TCA_QVISOR_CLASS_RANK, c->rank) ||
	    nla_put_u32(skb, TCA_QVISOR_CLASS_LO, lo) ||
	    nla_put_u32(skb, TCA_QVISOR_CLASS_HI, hi) ||
	    nla_put_u32(skb, TCA_QVISOR_CLASS_LEVELS,
			c->levels ? c->levels : QVISOR_DEF_LEVELS) ||
	    nla_put_u32(skb, TCA_QVISOR_CLASS_WEIGHT, c->weight) ||
	    nla_put_u32(skb, TCA_QVISOR_CLASS_LIMIT, c->limit) ||
	    nla_put_u8(skb, TCA_QVISOR_CLASS_AQM, c->aqm) ||
	    nla_put_u8(skb, TCA_QVISOR_CLASS_ECN, c->ecn) ||
	    nla_put_u32(skb, TCA_QVISOR_CLASS_TARGET, c->target_us) ||
	    nla_put_u32(skb, TCA_QVISOR_CLASS_INTERVAL, c->interval_us))
		return -EMSGSIZE;
	if (c->rank == QVISOR_RANK_MARK &&
	    nla_put_u32(skb, TCA_QVISOR_CLASS_MARK_MASK, c->mark_mask))
		return -EMSGSIZE;
	if (c->rauto &&
	    nla_put_u32(skb, TCA_QVISOR_CLASS_RANGE_AUTO, c->rauto))
		return -EMSGSIZE;
	if (c->rank == QVISOR_RANK_EDF &&
	    (nla_put_u64_64bit(skb, TCA_QVISOR_CLASS_EDF_BUDGET, c->edf_budget,
			       TCA_QVISOR_CLASS_PAD) ||
	     nla_put_u8(skb, TCA_QVISOR_CLASS_EDF_MARK, c->edf_mark)))
		return -EMSGSIZE;
	if (c->ceil &&
	    (nla_put_u64_64bit(skb, TCA_QVISOR_CLASS_CEIL, c->ceil,
			       TCA_QVISOR_CLASS_PAD) ||
	     nla_put_u32(skb, TCA_QVISOR_CLASS_BURST, c->burst)))
		return -EMSGSIZE;
	return 0;
}

static int qvisor_class_dump(struct Qdisc *sch, unsigned long arg,
			     struct sk_buff *skb, struct tcmsg *tcm)
{
	struct qvisor_class *cl = (struct qvisor_class *)arg;
	struct nlattr *opts;

	tcm->tcm_parent = TC_H_ROOT;
	tcm->tcm_handle = cl->common.classid;
	tcm->tcm_info = 0;
	opts = nla_nest_start_noflag(skb, TCA_OPTIONS);
	if (!opts)
		return -EMSGSIZE;
	if (qvisor_class_dump_cfg(skb, cl)) {
		nla_nest_cancel(skb, opts);
		return -EMSGSIZE;
	}
	return nla_nest_end(skb, opts);
}

/* Bytes @cl sent since the last synthesis (the share of its group) */
static u64 qvisor_share_bytes(const struct qvisor_class *cl)
{
	return u64_stats_read(&cl->bstats.bytes) - cl->share_base;
}

static void qvisor_credit_stats(const struct qvisor_class *cl,
				struct tc_qvisor_cl_xstats *st)
{
	const struct qvisor_link *l = cl->nlinks ? &cl->link[0] : NULL;
	const struct qvisor_group *g = cl->grp;

	/* the account of its first group with credits, top first */
	st->quantum = l ? l->a->quantum : 0;
	st->deferred = cl->deferred_qlen;
	st->group_members = g->members;
	/* alone in its top group, a tenant sent all of the group's bytes */
	st->share_ppm = qv_ppm(qvisor_share_bytes(cl),
			       g->members > 1 ? g->bytes :
			       qvisor_share_bytes(cl));
	st->credit = l ? qvisor_credit_now(l) : 0;
	if (cl->cfg.ceil)
		st->tokens = qv_ns_to_bytes(cl->cap.tokens, cl->cfg.ceil);
}

static int qvisor_class_dump_stats(struct Qdisc *sch, unsigned long arg,
				   struct gnet_dump *d)
{
	struct qvisor_class *cl = (struct qvisor_class *)arg;
	struct tc_qvisor_cl_xstats st = {};
	struct gnet_stats_queue qs;
	struct qv_aqm_cfg acfg;
	u32 qlen;

	sch_tree_lock(sch);
	st.type = QVISOR_XSTATS_CLASS;
	qvisor_credit_stats(cl, &st);
	st.tier = cl->xf.tier;
	st.level = cl->xf.level;
	st.offset = cl->xf.offset;
	st.width = cl->xf.width;
	if (cl->rank_min <= cl->rank_max) {	/* 0..0 until a packet came */
		st.rank_min = cl->rank_min;
		st.rank_max = cl->rank_max;
		st.joint_min = cl->joint_min;
		st.joint_max = cl->joint_max;
	}
	st.clamped = min_t(u64, cl->clamped, U32_MAX);
	st.clamped_pkts = cl->clamped;
	st.drop_pushout = cl->drop_pushout;
	st.drop_limit = cl->drop_limit;
	st.drop_tenant_limit = cl->drop_tenant_limit;
	st.inversions = cl->inversions;
	st.drop_admission = cl->drop_admission;
	st.unpifoness = cl->unpifoness;
	st.aqm_drops = cl->aqm_drops;
	st.ecn_marks = cl->ecn_marks;
	st.max_sojourn = min_t(u64, div_u64(cl->max_sojourn, NSEC_PER_USEC),
			       U32_MAX);
	st.aqm = qvisor_aqm_cfg(qdisc_priv(sch), cl, &acfg);
	st.memory = cl->mem;
	st.mem_part = qvisor_mem_part(qdisc_priv(sch), cl);
	st.rauto_updates = cl->cfg.rauto ? cl->ra->updates : 0;
	st.best_pkts = cl->best;
	st.shift_ppm = cl->cfg.rauto ? cl->ra->shift_ppm : 0;
	qs = cl->qstats;
	qlen = cl->qlen;
	sch_tree_unlock(sch);

	if (gnet_stats_copy_basic(d, NULL, &cl->bstats, true) < 0 ||
	    gnet_stats_copy_rate_est(d, &cl->rate_est) < 0 ||
	    gnet_stats_copy_queue(d, NULL, &qs, qlen) < 0)
		return -1;
	return gnet_stats_copy_app(d, &st, sizeof(st));
}

static void qvisor_walk(struct Qdisc *sch, struct qdisc_walker *arg)
{
	struct qvisor_sched_data *q = qdisc_priv(sch);
	struct qvisor_class *cl;
	unsigned int i;

	if (arg->stop)
		return;
	for (i = 0; i < q->clhash.hashsize; i++) {
		hlist_for_each_entry(cl, &q->clhash.hash[i], common.hnode) {
			if (!tc_qdisc_stats_dump(sch, (unsigned long)cl, arg))
				return;
		}
	}
}

static struct Qdisc *qvisor_class_leaf(struct Qdisc *sch, unsigned long arg)
{
	return NULL;
}

static const struct Qdisc_class_ops qvisor_class_ops = {
	.leaf		= qvisor_class_leaf,
	.find		= qvisor_class_find,
	.change		= qvisor_class_change,
	.delete		= qvisor_class_delete,
	.walk		= qvisor_walk,
	.tcf_block	= qvisor_tcf_block,
	.bind_tcf	= qvisor_bind_tcf,
	.unbind_tcf	= qvisor_unbind_tcf,
	.dump		= qvisor_class_dump,
	.dump_stats	= qvisor_class_dump_stats,
};

static struct Qdisc_ops qvisor_qdisc_ops __read_mostly = {
	.cl_ops		= &qvisor_class_ops,
	.id		= "qvisor",
	.priv_size	= sizeof(struct qvisor_sched_data),
	.enqueue	= qvisor_enqueue,
	.dequeue	= qvisor_dequeue,
	.peek		= qdisc_peek_dequeued,
	.init		= qvisor_init,
	.reset		= qvisor_reset,
	.destroy	= qvisor_destroy,
	.change		= qvisor_change,
	.dump		= qvisor_dump,
	.dump_stats	= qvisor_dump_stats,
	.owner		= THIS_MODULE,
};
MODULE_ALIAS_NET_SCH("qvisor");

static int __init qvisor_module_init(void)
{
	return register_qdisc(&qvisor_qdisc_ops);
}

static void __exit qvisor_module_exit(void)
{
	unregister_qdisc(&qvisor_qdisc_ops);
}

module_init(qvisor_module_init);
module_exit(qvisor_module_exit);
MODULE_LICENSE("GPL");
MODULE_AUTHOR("The qvisor developers");
MODULE_DESCRIPTION("qvisor: tenant rank scheduling with a synthesized joint PIFO");
MODULE_VERSION(QVISOR_VERSION);
