/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * qvisorctl: the configuration and statistics read from the kernel
 * (qvisorctl.c) and their output as a table, JSON (json-c) and Prometheus
 * text (output.c).  output.c has no netlink, so the host tests
 * (selftests/host/test_output.c) feed it made-up states.
 */
#ifndef _QVISORCTL_STATE_H
#define _QVISORCTL_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/gen_stats.h>
#include <linux/netlink.h>
#include <linux/pkt_sched_qvisor.h>

#define QC_MAX_GROUPS	1024	/* QV_POLICY_MAX_GROUPS */

/* A FIFO queue of the backend (sppifo, aifo, fifo) */
struct qc_queue {
	uint32_t	len, tier;	/* packets; (highest) strict tier */
	uint32_t	bound;		/* sppifo, if has_bound */
	bool		has_bound;
};

#define QC_MAX_QUEUES	256

struct qc_qdisc {
	bool		found;
	char		kind[32];
	uint32_t	handle, parent;
	/* qvisor options */
	uint64_t	rate;
	uint32_t	limit, buckets, slot, defcls, queues, overlap;
	uint32_t	flows, flow_idle, props;
	uint8_t		backend, partial;
	uint8_t		split_gso;	/* QVISOR_SPLIT_GSO_*, if has_split_gso */
	bool		has_split_gso;
	uint8_t		aqm, ecn;	/* 0/1 */
	uint32_t	target, interval;	/* usec */
	uint32_t	memlimit;	/* bytes, 0 = none */
	uint32_t	lend;		/* usec, 0 = off */
	char		policy[QVISOR_MAX_POLICY];
	/* its nested groups as the policy prints them, one after the other
	 * ("(1 >> 2)\0(4 > 5)\0"; as many as fit), and the properties inside
	 * each (TCA_QVISOR_GROUP_PROPS)
	 */
	uint32_t	ngroups;
	char		groups[QVISOR_MAX_POLICY];
	uint32_t	gprops[QC_MAX_GROUPS];
	/* stats */
	struct gnet_stats_basic bs;
	struct gnet_stats_queue qs;
	struct tc_qvisor_xstats xs;
	bool		has_xs;
	/* from TCA_QVISOR_QSTATS (has_qstats), else the xstats arrays */
	struct qc_queue	queue[QC_MAX_QUEUES];
	uint32_t	nqueue;
	bool		has_qstats;
};

struct qc_class {
	uint32_t	classid;
	uint8_t		rank;
	uint32_t	mask, lo, hi, levels, weight, burst, limit;
	uint32_t	rauto;		/* range auto window, 0 = off */
	uint64_t	ceil, budget;
	uint8_t		edf_mark;
	uint8_t		aqm, ecn;	/* QVISOR_AQM_*, 0 = the qdisc's */
	uint32_t	target, interval;	/* usec, 0 = the qdisc's */
	struct gnet_stats_basic bs;
	struct gnet_stats_queue qs;
	struct tc_qvisor_cl_xstats xs;
	bool		has_xs;
	bool		has_best;	/* xs has best_pkts and shift_ppm */
};

/* a dumped filter, kept whole for replay */
struct qc_filter {
	struct nlmsghdr	*h;
	uint32_t	prio;
};

struct qc_state {
	int			ifindex;
	struct qc_qdisc		q;
	int			ncl, capcl;
	struct qc_class		*cl;	/* every class of the dump */
	int			nfl, capfl;
	struct qc_filter	*fl;	/* every filter of the dump */
};


/* output.c; the queues are read there, from raw attributes, so that the
 * host tests reach the reading too: qc_queues_read with TCA_QVISOR_QSTATS's
 * payload, then (after the xstats) qc_queues_fallback for older modules
 */
void qc_queues_read(struct qc_qdisc *q, const void *data, size_t len);
void qc_queues_fallback(struct qc_qdisc *q);
void qc_print_json(FILE *f, const char *dev, const struct qc_state *st,
		   const struct qc_state *prev, double dt);
void qc_print_table(FILE *f, const char *dev, const struct qc_state *st,
		    const struct qc_state *prev, double dt);
void qc_print_prom(FILE *f, const char *dev, const struct qc_state *st);

#endif
