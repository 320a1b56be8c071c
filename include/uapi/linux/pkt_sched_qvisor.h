/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * qvisor: a scheduling hypervisor qdisc.  Netlink attributes and statistics
 * shared by the kernel module, the tc plugin and the tools.
 *
 * Append-only: never renumber or remove an attribute or a stats field.
 */
#ifndef _UAPI_LINUX_PKT_SCHED_QVISOR_H
#define _UAPI_LINUX_PKT_SCHED_QVISOR_H

#include <linux/types.h>

/* Limits shared by kernel and userspace */
#define QVISOR_MIN_BUCKETS	64
#define QVISOR_MAX_BUCKETS	65536
#define QVISOR_DEF_BUCKETS	4096
#define QVISOR_MAX_TENANTS	4096	/* classes per qdisc */
#define QVISOR_MAX_MINOR	0xffff	/* class minor 1..0xffff */
#define QVISOR_MAX_POLICY	32768	/* policy string given to tc or
					 * qvisorctl, bytes incl. NUL
					 */
#define QVISOR_DEF_LIMIT	10000	/* packets */
#define QVISOR_MAX_WEIGHT	65535
#define QVISOR_DEF_WEIGHT	1
#define QVISOR_MAX_LEVELS	QVISOR_MAX_BUCKETS
#define QVISOR_DEF_LEVELS	64
/* range auto (TCA_QVISOR_CLASS_RANGE_AUTO): window in packets */
#define QVISOR_RAUTO_MIN_WINDOW	16
#define QVISOR_RAUTO_MAX_WINDOW	32768
#define QVISOR_RAUTO_DEF_WINDOW	1024
#define QVISOR_DEF_OVERLAP	50	/* percent, preference '>' overlap */
#define QVISOR_DEF_SLOT_US	1000
#define QVISOR_MIN_SPPIFO_Q	2
#define QVISOR_MAX_SPPIFO_Q	32
#define QVISOR_MIN_FLOWS	16	/* flow table entries, power of two */
#define QVISOR_MAX_FLOWS	262144
#define QVISOR_DEF_FLOWS	1024
#define QVISOR_DEF_FLOW_IDLE_US	1000000	/* a flow idle 1 s is forgotten */
#define QVISOR_MAX_EDF_BUDGET_NS 3600000000000ULL	/* one hour */
#define QVISOR_DEF_TARGET_US	5000	/* AQM sojourn target */
#define QVISOR_DEF_INTERVAL_US	100000	/* AQM interval */
#define QVISOR_MAX_TARGET_US	1000000
#define QVISOR_MAX_INTERVAL_US	10000000
#define QVISOR_MAX_LEND_US	60000000	/* TCA_QVISOR_LEND, one minute */

/* TCA_QVISOR_CLASS_AQM and _ECN: a tenant's own setting or the qdisc's */
enum {
	QVISOR_AQM_INHERIT,
	QVISOR_AQM_OFF,
	QVISOR_AQM_ON,
	__QVISOR_AQM_MAX,
};

#define QVISOR_AQM_MAX (__QVISOR_AQM_MAX - 1)

/* TCA_QVISOR_SPLIT_GSO: whether GSO packets are queued as segments */
enum {
	QVISOR_SPLIT_GSO_AUTO,	/* with a rate of at most 1 Gbit/s */
	QVISOR_SPLIT_GSO_ON,
	QVISOR_SPLIT_GSO_OFF,
	__QVISOR_SPLIT_GSO_MAX,
};

#define QVISOR_SPLIT_GSO_MAX (__QVISOR_SPLIT_GSO_MAX - 1)

enum {
	QVISOR_BACKEND_PIFO,	/* exact bucketed PIFO (default) */
	QVISOR_BACKEND_SPPIFO,	/* N strict-priority FIFOs */
	QVISOR_BACKEND_AIFO,	/* one FIFO, rank-aware admission */
	QVISOR_BACKEND_FIFO,	/* one FIFO, ranks ignored */
	__QVISOR_BACKEND_MAX,
};

#define QVISOR_BACKEND_MAX (__QVISOR_BACKEND_MAX - 1)

/* Qdisc options, nested in TCA_OPTIONS */
enum {
	TCA_QVISOR_UNSPEC,
	TCA_QVISOR_RATE,	/* u64, bytes per second, 0 = no link cap */
	TCA_QVISOR_LIMIT,	/* u32, packets */
	TCA_QVISOR_BUCKETS,	/* u32, power of two, 64..65536 */
	TCA_QVISOR_SLOT,	/* u32, credit slot length in usec */
	TCA_QVISOR_DEFAULT,	/* u32, default class minor, 0 = none */
	TCA_QVISOR_BACKEND,	/* u8, QVISOR_BACKEND_* */
	TCA_QVISOR_QUEUES,	/* u32, queues of the sppifo backend */
	TCA_QVISOR_POLICY,	/* unused: was the policy as a string, now
				 * rejected (see TCA_QVISOR_POLICY_TREE)
				 */
	TCA_QVISOR_OVERLAP,	/* u32, percent of a level's width that
				 * the next '>' level overlaps, 0..100
				 */
	TCA_QVISOR_PAD,
	TCA_QVISOR_FLOWS,	/* u32, flow table entries (las, stfq),
				 * power of two 16..262144
				 */
	TCA_QVISOR_FLOW_IDLE,	/* u32, usec after which an idle flow is
				 * forgotten, >= 1
				 */
	TCA_QVISOR_PARTIAL,	/* u8, 1 = when the policy needs more queues
				 * than the backend has, deploy the closest
				 * configuration instead of rejecting it
				 */
	TCA_QVISOR_PROPS,	/* u32, read-only: which of the properties
				 * P1..P7 the deployment keeps,
				 * QVISOR_PROP_HOLDS/_APPROX/_KNOWN bits
				 */
	TCA_QVISOR_SPLIT_GSO,	/* u8, QVISOR_SPLIT_GSO_* */
	TCA_QVISOR_AQM,		/* u8, 1 = sojourn-time AQM for every tenant
				 * that does not say otherwise (default 1)
				 */
	TCA_QVISOR_ECN,		/* u8, 1 = the AQM marks ECN-capable
				 * packets CE instead of dropping them
				 * (default 1)
				 */
	TCA_QVISOR_TARGET,	/* u32, AQM sojourn target, usec */
	TCA_QVISOR_INTERVAL,	/* u32, AQM interval, usec */
	TCA_QVISOR_MEMLIMIT,	/* u32, bytes of packet memory (truesize)
				 * held at most, 0 = no bound (default)
				 */
	/* nested TCA_QVISOR_NODE_*: the policy's root group; without
	 * payload it clears the policy (every tenant best effort)
	 */
	TCA_QVISOR_POLICY_TREE,
	/* u32 array, read-only: per nested group of the policy, in the
	 * order the policy prints them (each '(' from the left), which of
	 * the properties hold inside it; QVISOR_PROP_HOLDS/_APPROX bits
	 */
	TCA_QVISOR_GROUP_PROPS,
	/* nested, read-only: one TCA_QVISOR_QSTATS_QUEUE per FIFO queue of
	 * the backend (sppifo N, aifo and fifo 1, pifo none), queue 0
	 * first.  Older modules have only the queue_* arrays of struct
	 * tc_qvisor_xstats.
	 */
	TCA_QVISOR_QSTATS,
	/* u32, usec: on sppifo, a strict tier none of whose tenants sent
	 * for this long and whose queues are empty lends all its queues but
	 * one to the active tiers (Documentation/backends.md); 0 = off
	 * (default).  Accepted and ignored on the other backends.
	 */
	TCA_QVISOR_LEND,
	__TCA_QVISOR_MAX
};

#define TCA_QVISOR_MAX (__TCA_QVISOR_MAX - 1)

/* The policy as a tree.  The string "1 >> 2 > 3 + 4" is
 *
 *	strict: 1, prefer: (2, share: (3, 4))
 *
 * A group is a nest of TCA_QVISOR_NODE_* attributes: its kind, then its
 * members in policy order, each either a run of tenants
 * (TCA_QVISOR_NODE_TENANTS) or a group (TCA_QVISOR_NODE_CHILD); both may
 * repeat and interleave.  A strict group's members are its tiers, highest
 * first; a prefer group's members its levels, most preferred first; a
 * share group's members share by their weights.  Userspace leaves out a
 * group of a single member.  A strict group of prefer groups of share
 * groups (any of them left out) is a flat policy.  A group inside a group
 * of a tighter kind is a nested group: "(1 >> 2) + 3" is
 * share: (strict: (1, 2), 3), the pair one member of the share group with
 * tiers of its own.  A group inside one of its own kind is rejected, and
 * so is a tree deeper than 8 groups (netlink's policy recursion limit is
 * above that).
 */
enum {
	QVISOR_NODE_SHARE,	/* "+": members share by weight */
	QVISOR_NODE_PREFER,	/* ">": best-effort preference */
	QVISOR_NODE_STRICT,	/* ">>": strict priority */
	__QVISOR_NODE_MAX,
};

#define QVISOR_NODE_MAX (__QVISOR_NODE_MAX - 1)

/* A policy group, nested in TCA_QVISOR_POLICY_TREE or TCA_QVISOR_NODE_CHILD */
enum {
	TCA_QVISOR_NODE_UNSPEC,
	TCA_QVISOR_NODE_KIND,		/* u8, QVISOR_NODE_*, required */
	/* binary, __u16 array: member tenants by class minor
	 * (1..0xffff), in order
	 */
	TCA_QVISOR_NODE_TENANTS,
	TCA_QVISOR_NODE_CHILD,	/* nested TCA_QVISOR_NODE_*: a member group */
	__TCA_QVISOR_NODE_MAX
};

#define TCA_QVISOR_NODE_MAX (__TCA_QVISOR_NODE_MAX - 1)

/* Nested in TCA_QVISOR_QSTATS */
enum {
	TCA_QVISOR_QSTATS_UNSPEC,
	TCA_QVISOR_QSTATS_QUEUE,	/* nested TCA_QVISOR_QUEUE_*: one queue */
	__TCA_QVISOR_QSTATS_MAX
};

#define TCA_QVISOR_QSTATS_MAX (__TCA_QVISOR_QSTATS_MAX - 1)

/* One queue's state, nested in TCA_QVISOR_QSTATS_QUEUE; read under the
 * qdisc lock, so one queue's and all queues' values fit together.
 */
enum {
	TCA_QVISOR_QUEUE_UNSPEC,
	TCA_QVISOR_QUEUE_LEN,		/* u32, packets queued */
	TCA_QVISOR_QUEUE_BOUND,		/* u32, sppifo only: its bound (the
					 * lowest joint rank it admits)
					 */
	TCA_QVISOR_QUEUE_TIER,		/* u32, the (highest) strict tier
					 * mapped to the queue
					 */
	__TCA_QVISOR_QUEUE_MAX
};

#define TCA_QVISOR_QUEUE_MAX (__TCA_QVISOR_QUEUE_MAX - 1)

/* TCA_QVISOR_PROPS: Pn (n = 1..8) holds exactly, or only approximately
 * (measured and counted, not guaranteed); neither bit = does not hold.
 * P1..P6 are always stated; a later property (P7, rank gaming) only when
 * its QVISOR_PROP_KNOWN bit is set (older modules do not state it).
 */
#define QVISOR_PROP_HOLDS(n)	(1U << ((n) - 1))
#define QVISOR_PROP_APPROX(n)	(1U << ((n) - 1 + 8))
#define QVISOR_PROP_KNOWN(n)	(1U << ((n) - 1 + 16))

/* Rank sources of a tenant */
enum {
	QVISOR_RANK_PRIO,	/* skb->priority */
	QVISOR_RANK_MARK,	/* skb->mark & mask */
	QVISOR_RANK_DSCP,	/* IPv4/IPv6 DSCP */
	QVISOR_RANK_FIFO,	/* arrival order: every packet rank 0 */
	QVISOR_RANK_LAS,	/* bytes the flow sent before the packet */
	QVISOR_RANK_STFQ,	/* start-time fair queueing tag, bytes */
	QVISOR_RANK_EDF,	/* arrival + deadline budget, usec */
	__QVISOR_RANK_MAX,
};

#define QVISOR_RANK_MAX (__QVISOR_RANK_MAX - 1)

/* Class (tenant) options, nested in TCA_OPTIONS of a class */
enum {
	TCA_QVISOR_CLASS_UNSPEC,
	TCA_QVISOR_CLASS_RANK,		/* u8, QVISOR_RANK_* */
	TCA_QVISOR_CLASS_MARK_MASK,	/* u32, mask for rank mark */
	TCA_QVISOR_CLASS_LO,		/* u32, lowest declared rank */
	TCA_QVISOR_CLASS_HI,		/* u32, highest declared rank */
	TCA_QVISOR_CLASS_LEVELS,	/* u32, quantization steps */
	TCA_QVISOR_CLASS_WEIGHT,	/* u32, share weight, 1..65535 */
	TCA_QVISOR_CLASS_CEIL,		/* u64, bytes per second, 0 = none */
	TCA_QVISOR_CLASS_BURST,		/* u32, bytes */
	TCA_QVISOR_CLASS_LIMIT,		/* u32, packets, 0 = qdisc limit */
	TCA_QVISOR_CLASS_EDF_BUDGET,	/* u64, nsec, for rank edf, at most
					 * QVISOR_MAX_EDF_BUDGET_NS
					 */
	TCA_QVISOR_CLASS_PAD,
	TCA_QVISOR_CLASS_EDF_MARK,	/* u8, 1 = a packet with a non-zero
					 * skb->mark has its own edf budget
					 * of mark usec (default 0)
					 */
	TCA_QVISOR_CLASS_AQM,		/* u8, QVISOR_AQM_* */
	TCA_QVISOR_CLASS_ECN,		/* u8, QVISOR_AQM_* */
	TCA_QVISOR_CLASS_TARGET,	/* u32, usec, 0 = the qdisc's */
	TCA_QVISOR_CLASS_INTERVAL,	/* u32, usec, 0 = the qdisc's */
	TCA_QVISOR_CLASS_RANGE_AUTO,	/* u32, range auto: packets per window
					 * of the rank estimator,
					 * QVISOR_RAUTO_MIN_WINDOW ..
					 * QVISOR_RAUTO_MAX_WINDOW; 0 = off
					 * (the declared range)
					 */
	__TCA_QVISOR_CLASS_MAX
};

#define TCA_QVISOR_CLASS_MAX (__TCA_QVISOR_CLASS_MAX - 1)

/* xstats (TCA_STATS_APP) of the qdisc and of a class; both start with a
 * type so that a reader can tell them apart whatever their length.
 */
enum {
	QVISOR_XSTATS_QDISC = 1,
	QVISOR_XSTATS_CLASS = 2,
};

struct tc_qvisor_xstats {
	__u32	type;			/* QVISOR_XSTATS_QDISC */
	__u32	tenants;		/* configured classes */
	__u32	buckets;		/* bucket array size */
	__u32	joint_width;		/* joint ranks used by the synthesis */
	__u32	tiers;			/* strict tiers in the policy */
	__u32	blocked;		/* capped tenants waiting for tokens */
	__u64	drop_pushout;		/* pushed out by a better-ranked packet */
	__u64	drop_limit;		/* arrived to a full queue, worst rank */
	__u64	drop_tenant_limit;	/* tenant over its own limit */
	__u64	drop_classify;		/* a filter said drop */
	__u64	implicit_pkts;		/* packets of no class (best effort) */
	__u64	default_pkts;		/* packets sent to the default class */
	__u64	throttled;		/* dequeues held back by rate */
	__u64	inversions;		/* see struct tc_qvisor_cl_xstats */
	__u64	resynth;		/* times the schedule was synthesized */
	__u64	rounds;			/* credit rounds of all groups */
	__u64	refills;		/* slot refills of capped tenants */
	__u64	deferred;		/* packets waiting for credit/tokens */
	__u32	flows;			/* flow table entries */
	__u32	flows_live;		/* entries of flows seen within
					 * flow_idle
					 */
	__u64	flows_new;		/* flows started: new, or back after
					 * being forgotten
					 */
	__u64	flows_evicted;		/* live flows forgotten for room */
	__u64	flows_aged;		/* idle flows forgotten */
	/* backends (Documentation/backends.md) */
	__u64	unpifoness;		/* sum of the rank differences of the
					 * inversions
					 */
	__u64	drop_admission;		/* aifo: refused by the rank quantile */
	__u64	pushdowns;		/* sppifo: push-down events */
	__u32	backend;		/* QVISOR_BACKEND_* */
	__u32	nqueues;		/* FIFO queues: sppifo N, aifo and
					 * fifo 1, pifo 0
					 */
	__u32	aifo_window;		/* ranks in the aifo window */
	__u32	aifo_k;			/* aifo burstiness, percent */
	/* superseded by TCA_QVISOR_QSTATS (in TCA_OPTIONS), which is not
	 * limited to 32 queues; still filled for readers from before it
	 */
	__u32	queue_len[32];
	__u32	queue_bound[32];
	__u8	queue_tier[32];
	__u64	replaced;		/* queued packets re-placed by a
					 * configuration change
					 */
	__u64	aqm_drops;		/* dropped by the AQM of any tenant */
	__u64	ecn_marks;		/* marked CE by the AQM */
	__u64	drop_memlimit;		/* arrived over memlimit */
	__u64	memory;			/* bytes of packet memory held */
	__u64	lends;			/* sppifo: maps with lent queues
					 * installed (TCA_QVISOR_LEND)
					 */
};

struct tc_qvisor_cl_xstats {
	__u32	type;			/* QVISOR_XSTATS_CLASS */
	__u32	tier;			/* strict tier, 0 = highest */
	__u32	level;			/* preference level inside the tier */
	__u32	offset;			/* first joint rank of the tenant */
	__u32	width;			/* joint ranks the tenant spans */
	__u32	rank_min;		/* observed raw ranks (before */
	__u32	rank_max;		/*   the transform), 0/0 if none */
	__u32	joint_min;		/* observed joint ranks (after */
	__u32	joint_max;		/*   the transform) */
	__u32	clamped;		/* packets whose rank was clamped,
					 * saturating: see clamped_pkts
					 */
	__u32	quantum;		/* bytes per credit round, 0 = none */
	__u32	deferred;		/* packets waiting for credit/tokens */
	__u32	share_ppm;		/* of its group's bytes since the
					 * last configuration change
					 */
	__u32	group_members;		/* tenants in its sharing group */
	__s64	credit;			/* bytes left in this round */
	__s64	tokens;			/* bytes of ceil allowance left */
	__u64	drop_pushout;
	__u64	drop_limit;
	__u64	drop_tenant_limit;
	/* packets that left after a higher-ranked packet of the same tenant
	 * which left while they were queued (quantization, credit rounds,
	 * runtime change)
	 */
	__u64	inversions;
	__u64	drop_admission;		/* aifo: refused by the rank quantile */
	__u64	unpifoness;		/* sum of the rank differences of the
					 * inversions
					 */
	__u64	clamped_pkts;		/* packets whose rank was clamped */
	__u64	aqm_drops;		/* dropped by the tenant's AQM */
	__u64	ecn_marks;		/* marked CE by the tenant's AQM */
	__u32	max_sojourn;		/* longest sojourn of a packet that
					 * left, usec, since the class was
					 * created
					 */
	__u32	aqm;			/* 1 = the tenant's AQM is on */
	__u32	memory;			/* bytes of packet memory (truesize)
					 * the tenant holds
					 */
	__u32	mem_part;		/* bytes of memlimit it may hold,
					 * 0 = no memlimit or its own limit
					 */
	__u64	rauto_updates;		/* range auto: tables computed from
					 * its ranks, 0 = none yet (the
					 * declared range is used)
					 */
	__u64	best_pkts;		/* packets that arrived at the best
					 * rank it can express: raw rank <=
					 * the low end of its range (the
					 * declared one, else 0), clamped
					 * ones included
					 */
	__u32	shift_ppm;		/* range auto: total variation
					 * distance between its last two
					 * windows of ranks, ppm; 0 before
					 * two windows or without it
					 */
	__u32	reserved;		/* 0 */
};

#endif
