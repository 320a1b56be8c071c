// SPDX-License-Identifier: GPL-2.0-only
/*
 * tc plugin for the qvisor scheduling hypervisor qdisc.
 *
 * Built as q_qvisor.so and dlopened by tc, which looks up the data symbol
 * qvisor_qdisc_util.  All helpers used here are resolved from the tc binary
 * (Debian links it with -export-dynamic), so only helpers present in
 * iproute2 6.1 may be called.
 *
 * Options are sent only when given on the command line: the kernel keeps
 * the old value of every absent attribute on "change".  TCA_OPTIONS is
 * opened with NLA_F_NESTED because the kernel parses it strictly.
 *
 * Qdisc and class xstats share one print_xstats callback.  Both structs
 * start with a type word (QVISOR_XSTATS_QDISC or _CLASS) that tells
 * them apart; a shorter or longer payload (older or newer kernel) is copied
 * into a zeroed struct up to the shorter of the two lengths.
 *
 * Per-queue statistics come in TCA_OPTIONS (TCA_QVISOR_QSTATS), which tc
 * hands to print_qopt only; print_qopt keeps a copy for the print_xstats
 * call tc makes next for the same message.  From an older module, which
 * lacks it, the queue_* arrays of the xstats are printed instead.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <ctype.h>
#include <inttypes.h>
#include <math.h>

/* tc's helpers, declared in-tree: no iproute2 source needed (the header
 * says which tc versions it fits).
 */
#include "tc/qvisor_tc.h"
#include <uapi/linux/pkt_sched_qvisor.h>
#include "qvisor/policy.h"
#include "qvisor/policy_tree.h"

#define QVISOR_MASK_ALL	0xffffffffU

static const char * const qvisor_backend_names[] = {
	[QVISOR_BACKEND_PIFO]	= "pifo",
	[QVISOR_BACKEND_SPPIFO]	= "sppifo",
	[QVISOR_BACKEND_AIFO]	= "aifo",
	[QVISOR_BACKEND_FIFO]	= "fifo",
};

static const char * const qvisor_rank_names[] = {
	[QVISOR_RANK_PRIO]	= "prio",
	[QVISOR_RANK_MARK]	= "mark",
	[QVISOR_RANK_DSCP]	= "dscp",
	[QVISOR_RANK_FIFO]	= "fifo",
	[QVISOR_RANK_LAS]	= "las",
	[QVISOR_RANK_STFQ]	= "stfq",
	[QVISOR_RANK_EDF]	= "edf",
};

static void explain(void)
{
	fprintf(stderr,
		"Usage: ... qvisor [ rate RATE ] [ limit PACKETS ] [ buckets N ]\n"
		"		[ slot TIME ] [ default MINOR ]\n"
		"		[ backend { pifo | sppifo QUEUES | aifo | fifo } ]\n"
		"		[ partial | nopartial ]\n"
		"		[ policy \"POLICY\" ] [ overlap PERCENT ]\n"
		"		[ flows N ] [ flow_idle TIME ]\n"
		"		[ split_gso [ auto ] | no_split_gso ]\n"
		"		[ aqm | noaqm ] [ ecn | noecn ]\n"
		"		[ target TIME ] [ interval TIME ] [ memlimit BYTES ]\n"
		"		[ lend TIME ]\n"
		"(policy \"\" clears the policy)\n");
}

static void cexplain(void)
{
	fprintf(stderr,
		"Usage: ... qvisor [ rank { prio | mark [ MASK ] | dscp | fifo |\n"
		"			  las | stfq | edf TIME [ mark_budget ] } ]\n"
		"		[ range { LO HI | auto [ LO HI ] [ window PACKETS ] } ]\n"
		"		[ levels L ] [ weight W ]\n"
		"		[ ceil RATE [ burst BYTES ] ] [ limit PACKETS ]\n"
		"		[ aqm | noaqm ] [ ecn | noecn ]\n"
		"		[ target TIME ] [ interval TIME ]\n");
}

static int qvisor_illegal(const char *param, const char *arg, const char *why)
{
	fprintf(stderr, "qvisor: illegal \"%s\" \"%s\": %s\n", param, arg, why);
	return -1;
}

static int qvisor_duplicate(const char *param)
{
	fprintf(stderr, "qvisor: duplicate \"%s\"\n", param);
	return -1;
}

static int qvisor_unknown(const char *arg, void (*usage)(void))
{
	fprintf(stderr, "What is \"%s\"?\n", arg);
	usage();
	return -1;
}

/* Look up NAME in a table of names indexed by value; -1 if absent. */
static int qvisor_lookup(const char * const *names, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (names[i] && strcmp(names[i], name) == 0)
			return i;
	return -1;
}

static const char *qvisor_name(const char * const *names, int n,
			       unsigned int v)
{
	if (v < (unsigned int)n && names[v])
		return names[v];
	return "unknown";
}

/* "50" or "50%", decimal, 0..100 */
static int qvisor_get_percent(__u32 *val, const char *arg)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)arg[0]))
		return -1;
	v = strtoul(arg, &end, 10);
	if (*end && strcmp(end, "%") != 0)
		return -1;
	if (v > 100)
		return -1;
	*val = v;
	return 0;
}

/*
 * iproute2's get_rate64(), get_time(), get_time64() and get_size() turn a
 * double into an integer without a range check: a negative, infinite, NaN
 * or too large number is undefined behaviour and in practice garbage
 * ("ceil -40mbit" became 2^64 - 5000000 bytes/s).  The wrappers below
 * accept only an unsigned finite number with a unit of letters only, let
 * the helper scale "1" (for rates "8", as 1bit is 1/8 byte) with that
 * unit, which always fits, check that the number times that scale,
 * computed as the helper computes it, fits the result type, and only then
 * call the helper on ARG.
 */
static int qvisor_num_ok(const char *arg, const char *probe_num,
			 char *probe, size_t size, double *v)
{
	char *end, *p;

	if (!isdigit((unsigned char)arg[0]) && arg[0] != '.')
		return -1;	/* no sign, blank, "inf" or "nan" */
	*v = strtod(arg, &end);
	if (end == arg || !isfinite(*v))
		return -1;
	/* units are letters: the probe must not read as "1e32" */
	for (p = end; *p; p++)
		if (!isalpha((unsigned char)*p))
			return -1;
	if (snprintf(probe, size, "%s%s", probe_num, end) >= (int)size)
		return -1;
	return 0;
}

static int qvisor_get_rate64(__u64 *rate, const char *arg)
{
	char probe[32];
	double v;
	__u64 scale;	/* bits per second of "1<unit>" */

	if (qvisor_num_ok(arg, "8", probe, sizeof(probe), &v) ||
	    get_rate64(&scale, probe) ||
	    v * scale / 8 >= 0x1p64 || get_rate64(rate, arg))
		return -1;
	/* the kernel counts bytes per second: a rate under 8bit would be 0,
	 * which means no cap at all
	 */
	if (!*rate && v > 0)
		return -1;
	return 0;
}

static int qvisor_get_time(__u32 *usec, const char *arg)
{
	char probe[32];
	double v;
	__u32 scale;

	if (qvisor_num_ok(arg, "1", probe, sizeof(probe), &v) ||
	    get_time(&scale, probe) ||
	    v * scale >= 0x1p32)
		return -1;
	return get_time(usec, arg);
}

static int qvisor_get_time64(__s64 *nsec, const char *arg)
{
	char probe[32];
	double v;
	__s64 scale;

	if (qvisor_num_ok(arg, "1", probe, sizeof(probe), &v) ||
	    get_time64(&scale, probe) ||
	    v * scale >= 0x1p63)
		return -1;
	return get_time64(nsec, arg);
}

static int qvisor_get_size(__u32 *size, const char *arg)
{
	char probe[32];
	double v;
	__u32 scale;

	if (qvisor_num_ok(arg, "1", probe, sizeof(probe), &v) ||
	    get_size(&scale, probe) ||
	    v * scale >= 0x1p32)
		return -1;
	return get_size(size, arg);
}

static bool qvisor_is_pow2(__u32 v)
{
	return v && !(v & (v - 1));
}

/* The AQM options of the qdisc (the tenants' default) and of a class */
struct qvisor_aqmopt {
	__u32	target;		/* usec */
	__u32	interval;	/* usec */
	bool	aqm;
	bool	ecn;
	bool	set_aqm;
	bool	set_ecn;
	bool	set_target;
	bool	set_interval;
};

/* aqm, noaqm, ecn, noecn, target TIME, interval TIME at argv: 0 when
 * one was parsed (argv at its last word), 1 when argv is none of them,
 * -1 on an error
 */
static int qvisor_parse_aqm(struct qvisor_aqmopt *a, int *argcp,
			    char ***argvp)
{
	char **argv = *argvp;
	int argc = *argcp;
	bool on;

	if (strcmp(*argv, "aqm") == 0 || strcmp(*argv, "noaqm") == 0) {
		if (a->set_aqm)
			return qvisor_duplicate("aqm");
		a->aqm = **argv == 'a';
		a->set_aqm = true;
	} else if (strcmp(*argv, "ecn") == 0 || strcmp(*argv, "noecn") == 0) {
		if (a->set_ecn)
			return qvisor_duplicate("ecn");
		a->ecn = **argv == 'e';
		a->set_ecn = true;
	} else if (strcmp(*argv, "target") == 0 ||
		   strcmp(*argv, "interval") == 0) {
		on = **argv == 't';
		if (on ? a->set_target : a->set_interval)
			return qvisor_duplicate(*argv);
		NEXT_ARG();
		if (qvisor_get_time(on ? &a->target : &a->interval, *argv) ||
		    (on ? a->target : a->interval) == 0 ||
		    (on ? a->target > QVISOR_MAX_TARGET_US :
			  a->interval > QVISOR_MAX_INTERVAL_US))
			return qvisor_illegal(on ? "target" : "interval", *argv,
					      on ? "expected a time from 1us to 1s such as 5ms" :
						   "expected a time from 1us to 10s such as 100ms");
		if (on)
			a->set_target = true;
		else
			a->set_interval = true;
	} else {
		return 1;
	}
	*argcp = argc;
	*argvp = argv;
	return 0;
}

/* The qdisc's: AQM and ECN 0/1; a class's: QVISOR_AQM_OFF/_ON */
static void qvisor_add_aqm(struct nlmsghdr *n, const struct qvisor_aqmopt *a,
			   bool cls)
{
	if (a->set_aqm)
		addattr8(n, TCA_BUF_MAX,
			 cls ? TCA_QVISOR_CLASS_AQM : TCA_QVISOR_AQM,
			 cls ? (a->aqm ? QVISOR_AQM_ON : QVISOR_AQM_OFF) : a->aqm);
	if (a->set_ecn)
		addattr8(n, TCA_BUF_MAX,
			 cls ? TCA_QVISOR_CLASS_ECN : TCA_QVISOR_ECN,
			 cls ? (a->ecn ? QVISOR_AQM_ON : QVISOR_AQM_OFF) : a->ecn);
	if (a->set_target)
		addattr32(n, TCA_BUF_MAX,
			  cls ? TCA_QVISOR_CLASS_TARGET : TCA_QVISOR_TARGET,
			  a->target);
	if (a->set_interval)
		addattr32(n, TCA_BUF_MAX,
			  cls ? TCA_QVISOR_CLASS_INTERVAL : TCA_QVISOR_INTERVAL,
			  a->interval);
}

struct qvisor_qopt {
	struct qvisor_aqmopt	a;
	__u64	rate;
	__u32	limit;
	__u32	buckets;
	__u32	slot;
	__u32	defcls;
	__u32	queues;
	__u32	overlap;
	__u32	flows;
	__u32	flow_idle;
	__u8	backend;
	__u8	partial;
	__u8	split_gso;
	__u32	memlimit;
	bool	set_memlimit;
	__u32	lend;
	bool	set_lend;
	const char *policy;
	bool	set_rate;
	bool	set_limit;
	bool	set_buckets;
	bool	set_slot;
	bool	set_defcls;
	bool	set_backend;
	bool	set_overlap;
	bool	set_flows;
	bool	set_flow_idle;
	bool	set_partial;
	bool	set_split_gso;
};

/* backend { pifo | sppifo QUEUES | aifo | fifo }, argv at "backend" */
static int qvisor_parse_backend(struct qvisor_qopt *o, int *argcp,
				char ***argvp)
{
	int argc = *argcp;
	char **argv = *argvp;
	int b;

	NEXT_ARG();
	b = qvisor_lookup(qvisor_backend_names,
			  ARRAY_SIZE(qvisor_backend_names), *argv);
	if (b < 0)
		return qvisor_illegal("backend", *argv,
				      "expected pifo, sppifo QUEUES, aifo or fifo");
	o->backend = b;
	if (b == QVISOR_BACKEND_SPPIFO) {
		NEXT_ARG();
		if (get_u32(&o->queues, *argv, 0) ||
		    o->queues < QVISOR_MIN_SPPIFO_Q ||
		    o->queues > QVISOR_MAX_SPPIFO_Q)
			return qvisor_illegal("sppifo", *argv,
					      "QUEUES must be 2 to 32");
	}
	*argcp = argc;
	*argvp = argv;
	return 0;
}

static int qvisor_parse_qargs(struct qvisor_qopt *o, int argc, char **argv)
{
	int r;

	while (argc > 0) {
		r = qvisor_parse_aqm(&o->a, &argc, &argv);
		if (r < 0)
			return -1;
		if (r == 0) {
			argc--;
			argv++;
			continue;
		}
		if (strcmp(*argv, "rate") == 0) {
			if (o->set_rate)
				return qvisor_duplicate("rate");
			NEXT_ARG();
			if (qvisor_get_rate64(&o->rate, *argv))
				return qvisor_illegal("rate", *argv,
						      "expected a rate of at least 8bit (1 byte/s) such as 100mbit");
			o->set_rate = true;
		} else if (strcmp(*argv, "limit") == 0) {
			if (o->set_limit)
				return qvisor_duplicate("limit");
			NEXT_ARG();
			if (get_u32(&o->limit, *argv, 0) || !o->limit)
				return qvisor_illegal("limit", *argv,
						      "expected a number of packets, at least 1");
			o->set_limit = true;
		} else if (strcmp(*argv, "buckets") == 0) {
			if (o->set_buckets)
				return qvisor_duplicate("buckets");
			NEXT_ARG();
			if (get_u32(&o->buckets, *argv, 0) ||
			    !qvisor_is_pow2(o->buckets) ||
			    o->buckets < QVISOR_MIN_BUCKETS ||
			    o->buckets > QVISOR_MAX_BUCKETS)
				return qvisor_illegal("buckets", *argv,
						      "must be a power of two from 64 to 65536");
			o->set_buckets = true;
		} else if (strcmp(*argv, "slot") == 0) {
			if (o->set_slot)
				return qvisor_duplicate("slot");
			NEXT_ARG();
			if (qvisor_get_time(&o->slot, *argv) || o->slot == 0)
				return qvisor_illegal("slot", *argv,
						      "expected a time greater than 0 such as 1ms");
			o->set_slot = true;
		} else if (strcmp(*argv, "default") == 0) {
			if (o->set_defcls)
				return qvisor_duplicate("default");
			NEXT_ARG();
			if (get_u32(&o->defcls, *argv, 16) ||
			    o->defcls > QVISOR_MAX_MINOR)
				return qvisor_illegal("default", *argv,
						      "expected a class minor in hex, 0 to ffff");
			o->set_defcls = true;
		} else if (strcmp(*argv, "backend") == 0) {
			if (o->set_backend)
				return qvisor_duplicate("backend");
			if (qvisor_parse_backend(o, &argc, &argv))
				return -1;
			o->set_backend = true;
		} else if (strcmp(*argv, "policy") == 0) {
			if (o->policy)
				return qvisor_duplicate("policy");
			NEXT_ARG();
			if (strlen(*argv) >= QVISOR_MAX_POLICY)
				return qvisor_illegal("policy", "...",
						      "longer than 32767 bytes");
			o->policy = *argv;
		} else if (strcmp(*argv, "overlap") == 0) {
			if (o->set_overlap)
				return qvisor_duplicate("overlap");
			NEXT_ARG();
			if (qvisor_get_percent(&o->overlap, *argv))
				return qvisor_illegal("overlap", *argv,
						      "expected a percentage from 0 to 100");
			o->set_overlap = true;
		} else if (strcmp(*argv, "flows") == 0) {
			if (o->set_flows)
				return qvisor_duplicate("flows");
			NEXT_ARG();
			if (get_u32(&o->flows, *argv, 0) ||
			    !qvisor_is_pow2(o->flows) ||
			    o->flows < QVISOR_MIN_FLOWS ||
			    o->flows > QVISOR_MAX_FLOWS)
				return qvisor_illegal("flows", *argv,
						      "must be a power of two from 16 to 262144");
			o->set_flows = true;
		} else if (strcmp(*argv, "flow_idle") == 0) {
			if (o->set_flow_idle)
				return qvisor_duplicate("flow_idle");
			NEXT_ARG();
			if (qvisor_get_time(&o->flow_idle, *argv) ||
			    o->flow_idle == 0)
				return qvisor_illegal("flow_idle", *argv,
						      "expected a time of at least 1us such as 1s");
			o->set_flow_idle = true;
		} else if (strcmp(*argv, "partial") == 0 ||
			   strcmp(*argv, "nopartial") == 0) {
			if (o->set_partial)
				return qvisor_duplicate("partial");
			o->partial = strcmp(*argv, "partial") == 0;
			o->set_partial = true;
		} else if (strcmp(*argv, "lend") == 0) {
			if (o->set_lend)
				return qvisor_duplicate("lend");
			NEXT_ARG();
			if (qvisor_get_time(&o->lend, *argv) ||
			    o->lend > QVISOR_MAX_LEND_US)
				return qvisor_illegal("lend", *argv,
						      "expected a time up to 60s such as 100ms (0 = off)");
			o->set_lend = true;
		} else if (strcmp(*argv, "memlimit") == 0) {
			if (o->set_memlimit)
				return qvisor_duplicate("memlimit");
			NEXT_ARG();
			if (qvisor_get_size(&o->memlimit, *argv))
				return qvisor_illegal("memlimit", *argv,
						      "expected a size in bytes such as 4m, 0 for none");
			o->set_memlimit = true;
		} else if (strcmp(*argv, "split_gso") == 0 ||
			   strcmp(*argv, "no_split_gso") == 0) {
			if (o->set_split_gso)
				return qvisor_duplicate("split_gso");
			o->set_split_gso = true;
			o->split_gso = **argv == 'n' ? QVISOR_SPLIT_GSO_OFF :
						       QVISOR_SPLIT_GSO_ON;
			if (**argv == 's' && argc > 1 &&
			    strcmp(argv[1], "auto") == 0) {
				NEXT_ARG();
				o->split_gso = QVISOR_SPLIT_GSO_AUTO;
			}
		} else if (strcmp(*argv, "help") == 0) {
			explain();
			return -1;
		} else {
			return qvisor_unknown(*argv, explain);
		}
		argc--;
		argv++;
	}
	return 0;
}

/* The policy string, parsed here, as TCA_QVISOR_POLICY_TREE; "" clears
 * the policy (a tree without payload)
 */
static int qvisor_add_policy(struct nlmsghdr *n, const char *str)
{
	static struct qv_pol_ent ent[QVISOR_MAX_TENANTS];
	static struct qv_pol_grp grp[QV_POLICY_MAX_GROUPS];
	struct qv_policy p = { .ent = ent, .cap = QVISOR_MAX_TENANTS };
	struct qv_err e = {};
	void *buf;
	__u32 len;
	int err;

	if (!*str)
		return addattr_l(n, TCA_BUF_MAX,
				 TCA_QVISOR_POLICY_TREE | NLA_F_NESTED, NULL, 0);
	if (qv_policy_parse_groups(&p, grp, QV_POLICY_MAX_GROUPS, str,
				   (__u32)strlen(str), &e)) {
		fprintf(stderr, "qvisor: illegal \"policy\" \"%s\": %s (at character %u)\n",
			str, e.msg, e.pos);
		return -1;
	}
	len = qv_ptree_size(&p);
	if (len > 0xffff - RTA_LENGTH(0))
		return qvisor_illegal("policy", "...",
				      "too large for one netlink attribute");
	buf = malloc(len);
	if (!buf)
		return -1;
	qv_ptree_encode(&p, buf);
	err = addattr_l(n, TCA_BUF_MAX, TCA_QVISOR_POLICY_TREE | NLA_F_NESTED,
			buf, (int)len);
	free(buf);
	return err;
}

static int qvisor_parse_opt(struct qdisc_util *qu, int argc, char **argv,
			    struct nlmsghdr *n, const char *dev)
{
	struct qvisor_qopt o = {};
	struct rtattr *tail;

	(void)qu;
	(void)dev;

	if (qvisor_parse_qargs(&o, argc, argv))
		return -1;

	tail = addattr_nest(n, TCA_BUF_MAX, TCA_OPTIONS | NLA_F_NESTED);
	if (o.set_rate)
		addattr64(n, TCA_BUF_MAX, TCA_QVISOR_RATE, o.rate);
	if (o.set_limit)
		addattr32(n, TCA_BUF_MAX, TCA_QVISOR_LIMIT, o.limit);
	if (o.set_buckets)
		addattr32(n, TCA_BUF_MAX, TCA_QVISOR_BUCKETS, o.buckets);
	if (o.set_slot)
		addattr32(n, TCA_BUF_MAX, TCA_QVISOR_SLOT, o.slot);
	if (o.set_defcls)
		addattr32(n, TCA_BUF_MAX, TCA_QVISOR_DEFAULT, o.defcls);
	if (o.set_backend) {
		addattr8(n, TCA_BUF_MAX, TCA_QVISOR_BACKEND, o.backend);
		if (o.backend == QVISOR_BACKEND_SPPIFO)
			addattr32(n, TCA_BUF_MAX, TCA_QVISOR_QUEUES, o.queues);
	}
	if (o.policy && qvisor_add_policy(n, o.policy))
		return -1;
	if (o.set_overlap)
		addattr32(n, TCA_BUF_MAX, TCA_QVISOR_OVERLAP, o.overlap);
	if (o.set_flows)
		addattr32(n, TCA_BUF_MAX, TCA_QVISOR_FLOWS, o.flows);
	if (o.set_flow_idle)
		addattr32(n, TCA_BUF_MAX, TCA_QVISOR_FLOW_IDLE, o.flow_idle);
	if (o.set_partial)
		addattr8(n, TCA_BUF_MAX, TCA_QVISOR_PARTIAL, o.partial);
	if (o.set_memlimit)
		addattr32(n, TCA_BUF_MAX, TCA_QVISOR_MEMLIMIT, o.memlimit);
	if (o.set_split_gso)
		addattr8(n, TCA_BUF_MAX, TCA_QVISOR_SPLIT_GSO, o.split_gso);
	if (o.set_lend)
		addattr32(n, TCA_BUF_MAX, TCA_QVISOR_LEND, o.lend);
	qvisor_add_aqm(n, &o.a, false);
	addattr_nest_end(n, tail);
	return 0;
}

struct qvisor_copt {
	struct qvisor_aqmopt	a;
	__u64	ceil;
	__s64	budget;
	__u32	mask;
	__u32	lo;
	__u32	hi;
	__u32	levels;
	__u32	weight;
	__u32	burst;
	__u32	limit;
	__u32	rauto;		/* range auto window, 0 = declared range */
	__u8	rank;
	__u8	edf_mark;
	bool	set_rank;
	bool	set_range;
	bool	set_levels;
	bool	set_weight;
	bool	set_ceil;
	bool	set_burst;
	bool	set_limit;
};

/* rank { prio | mark [ MASK ] | dscp | fifo | las | stfq | edf TIME } */
static int qvisor_parse_rank(struct qvisor_copt *o, int *argcp, char ***argvp)
{
	int argc = *argcp;
	char **argv = *argvp;
	int r;

	NEXT_ARG();
	r = qvisor_lookup(qvisor_rank_names, ARRAY_SIZE(qvisor_rank_names),
			  *argv);
	if (r < 0)
		return qvisor_illegal("rank", *argv,
				      "expected prio, mark [ MASK ], dscp, fifo, las, stfq or edf TIME");
	o->rank = r;
	o->mask = QVISOR_MASK_ALL;
	if (r == QVISOR_RANK_MARK && argc > 1 &&
	    get_u32(&o->mask, argv[1], 0) == 0) {
		/* MASK is optional: consume the next word only if a number */
		NEXT_ARG();
		if (o->mask == 0)
			return qvisor_illegal("mark", *argv,
					      "MASK must not be 0");
	} else if (r == QVISOR_RANK_EDF) {
		NEXT_ARG();
		if (qvisor_get_time64(&o->budget, *argv) || o->budget <= 0 ||
		    (__u64)o->budget > QVISOR_MAX_EDF_BUDGET_NS)
			return qvisor_illegal("edf", *argv,
					      "expected a deadline budget from 1ns to 1h such as 10ms");
		if (argc > 1 && strcmp(argv[1], "mark_budget") == 0) {
			NEXT_ARG();
			o->edf_mark = 1;
		}
	}
	*argcp = argc;
	*argvp = argv;
	return 0;
}

/* [ window PACKETS ] after range auto */
static int qvisor_parse_window(struct qvisor_copt *o, int *argcp,
			       char ***argvp)
{
	int argc = *argcp;
	char **argv = *argvp;

	o->rauto = QVISOR_RAUTO_DEF_WINDOW;
	if (argc > 1 && strcmp(argv[1], "window") == 0) {
		NEXT_ARG();
		NEXT_ARG();
		if (get_u32(&o->rauto, *argv, 0) ||
		    o->rauto < QVISOR_RAUTO_MIN_WINDOW ||
		    o->rauto > QVISOR_RAUTO_MAX_WINDOW)
			return qvisor_illegal("window", *argv,
					      "must be from 16 to 32768 packets");
	}
	*argcp = argc;
	*argvp = argv;
	return 0;
}

/* LO HI, from the word at *argv */
static int qvisor_parse_lohi(struct qvisor_copt *o, int *argcp,
			     char ***argvp)
{
	int argc = *argcp;
	char **argv = *argvp;

	if (get_u32(&o->lo, *argv, 0))
		return qvisor_illegal("range", *argv,
				      "LO must be a number from 0 to 4294967295");
	NEXT_ARG();
	if (get_u32(&o->hi, *argv, 0))
		return qvisor_illegal("range", *argv,
				      "HI must be a number from 0 to 4294967295");
	if (o->lo > o->hi) {
		fprintf(stderr,
			"qvisor: illegal \"range\" %u %u: LO must not be greater than HI\n",
			o->lo, o->hi);
		return -1;
	}
	o->set_range = true;
	*argcp = argc;
	*argvp = argv;
	return 0;
}

/* range { LO HI | auto [ LO HI ] [ window PACKETS ] } */
static int qvisor_parse_range(struct qvisor_copt *o, int *argcp,
			      char ***argvp)
{
	int argc = *argcp;
	char **argv = *argvp;
	__u32 n;

	NEXT_ARG();
	if (strcmp(*argv, "auto") != 0) {
		if (qvisor_parse_lohi(o, &argc, &argv))
			return -1;
		goto out;
	}
	/* LO HI are optional after auto: the range used before history */
	if (argc > 1 && get_u32(&n, argv[1], 0) == 0) {
		NEXT_ARG();
		if (qvisor_parse_lohi(o, &argc, &argv))
			return -1;
	}
	if (qvisor_parse_window(o, &argc, &argv))
		return -1;
out:
	*argcp = argc;
	*argvp = argv;
	return 0;
}

static int qvisor_parse_cargs(struct qvisor_copt *o, int argc, char **argv)
{
	int r;

	while (argc > 0) {
		r = qvisor_parse_aqm(&o->a, &argc, &argv);
		if (r < 0)
			return -1;
		if (r == 0) {
			argc--;
			argv++;
			continue;
		}
		if (strcmp(*argv, "rank") == 0) {
			if (o->set_rank)
				return qvisor_duplicate("rank");
			if (qvisor_parse_rank(o, &argc, &argv))
				return -1;
			o->set_rank = true;
		} else if (strcmp(*argv, "range") == 0) {
			if (o->set_range || o->rauto)
				return qvisor_duplicate("range");
			if (qvisor_parse_range(o, &argc, &argv))
				return -1;
		} else if (strcmp(*argv, "levels") == 0) {
			if (o->set_levels)
				return qvisor_duplicate("levels");
			NEXT_ARG();
			if (get_u32(&o->levels, *argv, 0) || o->levels < 1 ||
			    o->levels > QVISOR_MAX_LEVELS)
				return qvisor_illegal("levels", *argv,
						      "must be from 1 to 65536");
			o->set_levels = true;
		} else if (strcmp(*argv, "weight") == 0) {
			if (o->set_weight)
				return qvisor_duplicate("weight");
			NEXT_ARG();
			if (get_u32(&o->weight, *argv, 0) || o->weight < 1 ||
			    o->weight > QVISOR_MAX_WEIGHT)
				return qvisor_illegal("weight", *argv,
						      "must be from 1 to 65535");
			o->set_weight = true;
		} else if (strcmp(*argv, "ceil") == 0) {
			if (o->set_ceil)
				return qvisor_duplicate("ceil");
			NEXT_ARG();
			if (qvisor_get_rate64(&o->ceil, *argv))
				return qvisor_illegal("ceil", *argv,
						      "expected a rate of at least 8bit (1 byte/s) such as 40mbit");
			o->set_ceil = true;
		} else if (strcmp(*argv, "burst") == 0) {
			if (o->set_burst)
				return qvisor_duplicate("burst");
			NEXT_ARG();
			if (qvisor_get_size(&o->burst, *argv))
				return qvisor_illegal("burst", *argv,
						      "expected a size in bytes such as 15k");
			o->set_burst = true;
		} else if (strcmp(*argv, "limit") == 0) {
			if (o->set_limit)
				return qvisor_duplicate("limit");
			NEXT_ARG();
			if (get_u32(&o->limit, *argv, 0))
				return qvisor_illegal("limit", *argv,
						      "expected a number of packets");
			o->set_limit = true;
		} else if (strcmp(*argv, "help") == 0) {
			cexplain();
			return -1;
		} else {
			return qvisor_unknown(*argv, cexplain);
		}
		argc--;
		argv++;
	}
	return 0;
}

static int qvisor_parse_copt(struct qdisc_util *qu, int argc, char **argv,
			     struct nlmsghdr *n, const char *dev)
{
	struct qvisor_copt o = {};
	struct rtattr *tail;

	(void)qu;
	(void)dev;

	if (qvisor_parse_cargs(&o, argc, argv))
		return -1;

	tail = addattr_nest(n, TCA_BUF_MAX, TCA_OPTIONS | NLA_F_NESTED);
	if (o.set_rank) {
		addattr8(n, TCA_BUF_MAX, TCA_QVISOR_CLASS_RANK, o.rank);
		/* "rank mark" without MASK means the whole mark */
		if (o.rank == QVISOR_RANK_MARK)
			addattr32(n, TCA_BUF_MAX, TCA_QVISOR_CLASS_MARK_MASK,
				  o.mask);
		if (o.rank == QVISOR_RANK_EDF) {
			addattr64(n, TCA_BUF_MAX, TCA_QVISOR_CLASS_EDF_BUDGET,
				  o.budget);
			addattr8(n, TCA_BUF_MAX, TCA_QVISOR_CLASS_EDF_MARK,
				 o.edf_mark);
		}
	}
	if (o.set_range) {
		addattr32(n, TCA_BUF_MAX, TCA_QVISOR_CLASS_LO, o.lo);
		addattr32(n, TCA_BUF_MAX, TCA_QVISOR_CLASS_HI, o.hi);
	}
	/* only with range auto, so that older kernels take the rest */
	if (o.rauto)
		addattr32(n, TCA_BUF_MAX, TCA_QVISOR_CLASS_RANGE_AUTO, o.rauto);
	if (o.set_levels)
		addattr32(n, TCA_BUF_MAX, TCA_QVISOR_CLASS_LEVELS, o.levels);
	if (o.set_weight)
		addattr32(n, TCA_BUF_MAX, TCA_QVISOR_CLASS_WEIGHT, o.weight);
	if (o.set_ceil)
		addattr64(n, TCA_BUF_MAX, TCA_QVISOR_CLASS_CEIL, o.ceil);
	if (o.set_burst)
		addattr32(n, TCA_BUF_MAX, TCA_QVISOR_CLASS_BURST, o.burst);
	if (o.set_limit)
		addattr32(n, TCA_BUF_MAX, TCA_QVISOR_CLASS_LIMIT, o.limit);
	qvisor_add_aqm(n, &o.a, true);
	addattr_nest_end(n, tail);
	return 0;
}

static bool qvisor_has(struct rtattr *tb[], int type, size_t size)
{
	return tb[type] && RTA_PAYLOAD(tb[type]) >= size;
}

/* The module states P7 (rank gaming); older modules state P1..P6 only */
static bool qvisor_p7_known(__u32 props)
{
	return props & QVISOR_PROP_KNOWN(7);
}

/* "P1=yes P2=approx ... ": an object "guarantees" in JSON, and in text
 * after @lead when @fp; P7 only when the module states it
 */
static void qvisor_print_pn(__u32 props, bool fp, const char *lead)
{
	char key[4];
	int n;

	open_json_object("guarantees");
	if (fp)
		print_string(PRINT_FP, NULL, "%s ", lead);
	for (n = 1; n <= (qvisor_p7_known(props) ? 7 : 6); n++) {
		const char *v = "no";

		if (props & QVISOR_PROP_HOLDS(n))
			v = "yes";
		else if (props & QVISOR_PROP_APPROX(n))
			v = "approx";
		snprintf(key, sizeof(key), "P%d", n);
		print_string(PRINT_JSON, key, NULL, v);
		if (fp)
			print_string(PRINT_FP, NULL, "%s", key);
		if (fp)
			print_string(PRINT_FP, NULL, "=%s ", v);
	}
	close_json_object();
}

/* The properties inside each nested group (TCA_QVISOR_GROUP_PROPS, one
 * u32 per group in the order the policy prints them):
 * group "(1 >> 2)" P1=approx ...; in JSON an array "groups"
 */
static void qvisor_print_groups(const struct qv_policy *p, struct rtattr *a)
{
	static char s[QVISOR_MAX_POLICY];
	__u32 g, props;

	if (!a || !p->ngrp || RTA_PAYLOAD(a) != p->ngrp * sizeof(__u32))
		return;
	open_json_array(PRINT_JSON, "groups");
	for (g = 0; g < p->ngrp; g++) {
		if (qv_policy_format_group(p, g + 1, s, sizeof(s)) < 0)
			break;
		memcpy(&props, (char *)RTA_DATA(a) + g * sizeof(props),
		       sizeof(props));
		open_json_object(NULL);
		print_string(PRINT_JSON, "group", NULL, s);
		print_string(PRINT_FP, NULL, "group \"%s\"", s);
		qvisor_print_pn(props, true, "");
		close_json_object();
	}
	close_json_array(PRINT_JSON, NULL);
}

/* The policy tree read back into the string the user would write, and
 * the properties inside its nested groups (@gprops, may be NULL)
 */
static void qvisor_print_policy(struct rtattr *rta, struct rtattr *gprops)
{
	static struct qv_pol_ent ent[QVISOR_MAX_TENANTS];
	static struct qv_pol_grp grp[QV_POLICY_MAX_GROUPS];
	static char s[QVISOR_MAX_POLICY];
	static __u64 seen[QV_PTREE_SEEN_WORDS];
	struct qv_policy p = { .ent = ent, .cap = QVISOR_MAX_TENANTS };
	struct qv_err e = {};

	memset(seen, 0, sizeof(seen));
	if (qv_ptree_decode(&p, grp, QV_POLICY_MAX_GROUPS, rta,
			    rta->rta_len, seen, &e) ||
	    qv_policy_format(&p, s, sizeof(s)) < 0) {
		fprintf(stderr, "qvisor: bad policy tree: %s\n",
			e.msg ? e.msg : "too long");
		return;
	}
	if (!p.n)
		return;
	print_string(PRINT_JSON, "policy", NULL, s);
	print_string(PRINT_FP, NULL, "policy \"%s\" ", s);
	qvisor_print_groups(&p, gprops);
}

static void qvisor_print_backend(struct rtattr *tb[])
{
	__u32 queues = 0;
	__u8 backend;

	if (qvisor_has(tb, TCA_QVISOR_QUEUES, sizeof(__u32)))
		queues = rta_getattr_u32(tb[TCA_QVISOR_QUEUES]);
	if (!qvisor_has(tb, TCA_QVISOR_BACKEND, sizeof(__u8))) {
		if (queues)
			print_uint(PRINT_JSON, "queues", NULL, queues);
		return;
	}
	backend = rta_getattr_u8(tb[TCA_QVISOR_BACKEND]);
	print_string(PRINT_ANY, "backend", "backend %s ",
		     qvisor_name(qvisor_backend_names,
				 ARRAY_SIZE(qvisor_backend_names), backend));
	if (backend == QVISOR_BACKEND_SPPIFO)
		print_uint(PRINT_ANY, "queues", "%u ", queues);
	else if (queues)
		print_uint(PRINT_JSON, "queues", NULL, queues);
}

/* Which of P1..P7 the deployment keeps: "P1=yes P2=approx ... " (JSON
 * always has it; text shows it for the queue backends, and on pifo when
 * the module states P7, which a tenant's ranks can break there too: an
 * older module's pifo kept P1..P6 all, and its line stays as it was)
 */
static void qvisor_print_props(struct rtattr *tb[])
{
	__u32 props;
	bool fp;

	if (!qvisor_has(tb, TCA_QVISOR_PROPS, sizeof(__u32)))
		return;
	props = rta_getattr_u32(tb[TCA_QVISOR_PROPS]);
	fp = qvisor_p7_known(props) ||
	     (qvisor_has(tb, TCA_QVISOR_BACKEND, sizeof(__u8)) &&
	      rta_getattr_u8(tb[TCA_QVISOR_BACKEND]) != QVISOR_BACKEND_PIFO);
	qvisor_print_pn(props, fp, "guarantees");
}

/* split_gso: "split_gso", "no_split_gso" or (the default) "split_gso
 * auto", which splits with a rate of at most 1 Gbit/s
 */
static void qvisor_print_split_gso(struct rtattr *tb[])
{
	static const char * const names[] = {
		[QVISOR_SPLIT_GSO_AUTO]	= "auto",
		[QVISOR_SPLIT_GSO_ON]	= "on",
		[QVISOR_SPLIT_GSO_OFF]	= "off",
	};
	__u8 v;

	if (!qvisor_has(tb, TCA_QVISOR_SPLIT_GSO, sizeof(__u8)))
		return;
	v = rta_getattr_u8(tb[TCA_QVISOR_SPLIT_GSO]);
	print_string(PRINT_JSON, "split_gso", NULL,
		     qvisor_name(names, ARRAY_SIZE(names), v));
	if (v == QVISOR_SPLIT_GSO_OFF)
		print_string(PRINT_FP, NULL, "%s ", "no_split_gso");
	else
		print_string(PRINT_FP, NULL, "%s ",
			     v == QVISOR_SPLIT_GSO_ON ? "split_gso" :
							"split_gso auto");
}

/* AQM settings as given: the qdisc's (@cls false: AQM and ECN 0/1;
 * aqm or noaqm always, so that a replayed line sets it either way,
 * target and interval only with the AQM on, ECN only when off) or a
 * class's (QVISOR_AQM_*, 0 for the qdisc's: not printed).  JSON has the
 * qdisc's always.
 */
static void qvisor_print_aqm(struct rtattr *aqm, struct rtattr *ecn,
			     struct rtattr *target, struct rtattr *interval,
			     bool cls)
{
	int on = -1, e = -1;
	__u32 t = 0, i = 0;

	SPRINT_BUF(b1);

	if (aqm && RTA_PAYLOAD(aqm) >= sizeof(__u8))
		on = cls ? (int)rta_getattr_u8(aqm) - 1 : rta_getattr_u8(aqm);
	if (ecn && RTA_PAYLOAD(ecn) >= sizeof(__u8))
		e = cls ? (int)rta_getattr_u8(ecn) - 1 : rta_getattr_u8(ecn);
	if (target && RTA_PAYLOAD(target) >= sizeof(__u32))
		t = rta_getattr_u32(target);
	if (interval && RTA_PAYLOAD(interval) >= sizeof(__u32))
		i = rta_getattr_u32(interval);
	if (on >= 0) {
		print_bool(PRINT_JSON, "aqm", NULL, on);
		print_string(PRINT_FP, NULL, "%s ", on ? "aqm" : "noaqm");
	}
	if (t) {
		print_uint(PRINT_JSON, "target", NULL, t);
		if (on > 0 || cls)
			print_string(PRINT_FP, NULL, "target %s ",
				     sprint_time(t, b1));
	}
	if (i) {
		print_uint(PRINT_JSON, "interval", NULL, i);
		if (on > 0 || cls)
			print_string(PRINT_FP, NULL, "interval %s ",
				     sprint_time(i, b1));
	}
	if (e >= 0) {
		print_bool(PRINT_JSON, "ecn", NULL, e);
		if (!e || cls)
			print_string(PRINT_FP, NULL, "%s ", e ? "ecn" : "noecn");
	}
}

/* TCA_QVISOR_QSTATS of the qdisc print_qopt saw last, for print_xstats:
 * tc calls them in this order for each message and gives print_xstats only
 * TCA_STATS_APP.  NULL: none (an older module, or already printed).
 */
static struct rtattr *qvisor_qstats;

static void qvisor_keep_qstats(const struct rtattr *rta)
{
	free(qvisor_qstats);
	qvisor_qstats = NULL;
	if (!rta)
		return;
	qvisor_qstats = malloc(rta->rta_len);
	if (qvisor_qstats)
		memcpy(qvisor_qstats, rta, rta->rta_len);
}

static int qvisor_print_opt(struct qdisc_util *qu, FILE *f,
			    struct rtattr *opt)
{
	struct rtattr *tb[TCA_QVISOR_MAX + 1];

	SPRINT_BUF(b1);

	(void)qu;
	(void)f;
	qvisor_keep_qstats(NULL);
	if (!opt)
		return 0;

	parse_rtattr_nested(tb, TCA_QVISOR_MAX, opt);
	qvisor_keep_qstats(tb[TCA_QVISOR_QSTATS]);

	if (qvisor_has(tb, TCA_QVISOR_RATE, sizeof(__u64))) {
		__u64 rate = rta_getattr_u64(tb[TCA_QVISOR_RATE]);

		/* 0 = no link cap: hidden in text, kept in JSON */
		if (rate)
			tc_print_rate(PRINT_ANY, "rate", "rate %s ", rate);
		else
			print_u64(PRINT_JSON, "rate", NULL, 0);
	}
	if (qvisor_has(tb, TCA_QVISOR_LIMIT, sizeof(__u32)))
		print_uint(PRINT_ANY, "limit", "limit %up ",
			   rta_getattr_u32(tb[TCA_QVISOR_LIMIT]));
	if (qvisor_has(tb, TCA_QVISOR_BUCKETS, sizeof(__u32)))
		print_uint(PRINT_ANY, "buckets", "buckets %u ",
			   rta_getattr_u32(tb[TCA_QVISOR_BUCKETS]));
	if (qvisor_has(tb, TCA_QVISOR_SLOT, sizeof(__u32))) {
		__u32 slot = rta_getattr_u32(tb[TCA_QVISOR_SLOT]);

		print_uint(PRINT_JSON, "slot", NULL, slot);
		print_string(PRINT_FP, NULL, "slot %s ", sprint_time(slot, b1));
	}
	if (qvisor_has(tb, TCA_QVISOR_DEFAULT, sizeof(__u32))) {
		__u32 defcls = rta_getattr_u32(tb[TCA_QVISOR_DEFAULT]);

		/* 0 = no default class: hidden in text, kept in JSON */
		print_uint(PRINT_JSON, "default", NULL, defcls);
		if (defcls)
			print_uint(PRINT_FP, NULL, "default %x ", defcls);
	}
	qvisor_print_backend(tb);
	if (qvisor_has(tb, TCA_QVISOR_PARTIAL, sizeof(__u8))) {
		bool partial = rta_getattr_u8(tb[TCA_QVISOR_PARTIAL]);

		print_bool(PRINT_JSON, "partial", NULL, partial);
		if (partial)
			print_string(PRINT_FP, NULL, "%s ", "partial");
	}
	if (tb[TCA_QVISOR_POLICY_TREE])
		qvisor_print_policy(tb[TCA_QVISOR_POLICY_TREE],
				    tb[TCA_QVISOR_GROUP_PROPS]);
	if (qvisor_has(tb, TCA_QVISOR_OVERLAP, sizeof(__u32)))
		print_uint(PRINT_ANY, "overlap", "overlap %u%% ",
			   rta_getattr_u32(tb[TCA_QVISOR_OVERLAP]));
	if (qvisor_has(tb, TCA_QVISOR_FLOWS, sizeof(__u32)))
		print_uint(PRINT_ANY, "flows", "flows %u ",
			   rta_getattr_u32(tb[TCA_QVISOR_FLOWS]));
	if (qvisor_has(tb, TCA_QVISOR_FLOW_IDLE, sizeof(__u32))) {
		__u32 idle = rta_getattr_u32(tb[TCA_QVISOR_FLOW_IDLE]);

		print_uint(PRINT_JSON, "flow_idle", NULL, idle);
		print_string(PRINT_FP, NULL, "flow_idle %s ",
			     sprint_time(idle, b1));
	}
	qvisor_print_props(tb);
	qvisor_print_split_gso(tb);
	if (qvisor_has(tb, TCA_QVISOR_MEMLIMIT, sizeof(__u32)) &&
	    rta_getattr_u32(tb[TCA_QVISOR_MEMLIMIT]))
		print_size(PRINT_ANY, "memlimit", "memlimit %s ",
			   rta_getattr_u32(tb[TCA_QVISOR_MEMLIMIT]));
	qvisor_print_aqm(tb[TCA_QVISOR_AQM], tb[TCA_QVISOR_ECN],
			 tb[TCA_QVISOR_TARGET], tb[TCA_QVISOR_INTERVAL], false);
	if (qvisor_has(tb, TCA_QVISOR_LEND, sizeof(__u32)) &&
	    rta_getattr_u32(tb[TCA_QVISOR_LEND])) {
		__u32 lend = rta_getattr_u32(tb[TCA_QVISOR_LEND]);

		print_uint(PRINT_JSON, "lend", NULL, lend);
		print_string(PRINT_FP, NULL, "lend %s ", sprint_time(lend, b1));
	}
	return 0;
}

static void qvisor_print_rank(struct rtattr *tb[])
{
	__u8 rank = rta_getattr_u8(tb[TCA_QVISOR_CLASS_RANK]);

	SPRINT_BUF(b1);

	print_string(PRINT_ANY, "rank", "rank %s ",
		     qvisor_name(qvisor_rank_names,
				 ARRAY_SIZE(qvisor_rank_names), rank));
	if (rank == QVISOR_RANK_MARK &&
	    qvisor_has(tb, TCA_QVISOR_CLASS_MARK_MASK, sizeof(__u32))) {
		__u32 mask = rta_getattr_u32(tb[TCA_QVISOR_CLASS_MARK_MASK]);

		print_0xhex(PRINT_JSON, "mask", NULL, mask);
		if (mask != QVISOR_MASK_ALL)
			print_0xhex(PRINT_FP, NULL, "%#llx ", mask);
	}
	if (rank == QVISOR_RANK_EDF &&
	    qvisor_has(tb, TCA_QVISOR_CLASS_EDF_BUDGET, sizeof(__u64))) {
		__u64 budget = rta_getattr_u64(tb[TCA_QVISOR_CLASS_EDF_BUDGET]);

		print_u64(PRINT_JSON, "budget", NULL, budget);
		print_string(PRINT_FP, NULL, "%s ", sprint_time64(budget, b1));
		if (qvisor_has(tb, TCA_QVISOR_CLASS_EDF_MARK, sizeof(__u8))) {
			bool m = rta_getattr_u8(tb[TCA_QVISOR_CLASS_EDF_MARK]);

			print_bool(PRINT_JSON, "mark_budget", NULL, m);
			if (m)
				print_string(PRINT_FP, NULL, "%s ",
					     "mark_budget");
		}
	}
}

/* range LO HI, or range auto LO HI window N (LO HI: before history) */
static void qvisor_print_range(struct rtattr **tb)
{
	__u32 w = 0;

	if (qvisor_has(tb, TCA_QVISOR_CLASS_RANGE_AUTO, sizeof(__u32)))
		w = rta_getattr_u32(tb[TCA_QVISOR_CLASS_RANGE_AUTO]);
	open_json_object("range");
	print_string(PRINT_FP, NULL, "%s", w ? "range auto " : "range ");
	print_bool(PRINT_JSON, "auto", NULL, w != 0);
	print_uint(PRINT_ANY, "lo", "%u ",
		   rta_getattr_u32(tb[TCA_QVISOR_CLASS_LO]));
	print_uint(PRINT_ANY, "hi", "%u ",
		   rta_getattr_u32(tb[TCA_QVISOR_CLASS_HI]));
	if (w)
		print_uint(PRINT_ANY, "window", "window %u ", w);
	close_json_object();
}

static int qvisor_print_copt(struct qdisc_util *qu, FILE *f,
			     struct rtattr *opt)
{
	struct rtattr *tb[TCA_QVISOR_CLASS_MAX + 1];

	(void)qu;
	(void)f;
	if (!opt)
		return 0;

	parse_rtattr_nested(tb, TCA_QVISOR_CLASS_MAX, opt);

	if (qvisor_has(tb, TCA_QVISOR_CLASS_RANK, sizeof(__u8)))
		qvisor_print_rank(tb);
	if (qvisor_has(tb, TCA_QVISOR_CLASS_LO, sizeof(__u32)) &&
	    qvisor_has(tb, TCA_QVISOR_CLASS_HI, sizeof(__u32)))
		qvisor_print_range(tb);
	if (qvisor_has(tb, TCA_QVISOR_CLASS_LEVELS, sizeof(__u32)))
		print_uint(PRINT_ANY, "levels", "levels %u ",
			   rta_getattr_u32(tb[TCA_QVISOR_CLASS_LEVELS]));
	if (qvisor_has(tb, TCA_QVISOR_CLASS_WEIGHT, sizeof(__u32)))
		print_uint(PRINT_ANY, "weight", "weight %u ",
			   rta_getattr_u32(tb[TCA_QVISOR_CLASS_WEIGHT]));
	if (qvisor_has(tb, TCA_QVISOR_CLASS_CEIL, sizeof(__u64))) {
		__u64 ceil = rta_getattr_u64(tb[TCA_QVISOR_CLASS_CEIL]);

		if (ceil)
			tc_print_rate(PRINT_ANY, "ceil", "ceil %s ", ceil);
	}
	if (qvisor_has(tb, TCA_QVISOR_CLASS_BURST, sizeof(__u32))) {
		__u32 burst = rta_getattr_u32(tb[TCA_QVISOR_CLASS_BURST]);

		if (burst)
			print_size(PRINT_ANY, "burst", "burst %s ", burst);
	}
	if (qvisor_has(tb, TCA_QVISOR_CLASS_LIMIT, sizeof(__u32))) {
		__u32 limit = rta_getattr_u32(tb[TCA_QVISOR_CLASS_LIMIT]);

		if (limit)
			print_uint(PRINT_ANY, "limit", "limit %up ", limit);
	}
	qvisor_print_aqm(tb[TCA_QVISOR_CLASS_AQM], tb[TCA_QVISOR_CLASS_ECN],
			 tb[TCA_QVISOR_CLASS_TARGET],
			 tb[TCA_QVISOR_CLASS_INTERVAL], true);
	return 0;
}

static const char *qvisor_backend_name(__u32 backend)
{
	return qvisor_name(qvisor_backend_names,
			   ARRAY_SIZE(qvisor_backend_names), backend);
}

static void qvisor_print_queue(__u32 i, __u32 tier, const __u32 *bound,
			       __u32 len)
{
	print_nl();
	open_json_object(NULL);
	print_uint(PRINT_ANY, "queue", "  queue %u", i);
	print_uint(PRINT_ANY, "tier", " tier %u", tier);
	if (bound)
		print_uint(PRINT_ANY, "bound", " bound %u", *bound);
	print_uint(PRINT_ANY, "len", " len %u", len);
	close_json_object();
}

static __u32 qvisor_u32(struct rtattr *tb[], int type)
{
	return qvisor_has(tb, type, sizeof(__u32)) ?
	       rta_getattr_u32(tb[type]) : 0;
}

/* Each TCA_QVISOR_QSTATS_QUEUE nest in order; bound only if sent (sppifo) */
static void qvisor_print_qstats(struct rtattr *qs)
{
	struct rtattr *tb[TCA_QVISOR_QUEUE_MAX + 1], *a;
	int rem = RTA_PAYLOAD(qs);
	__u32 i = 0, bound;

	for (a = RTA_DATA(qs); RTA_OK(a, rem); a = RTA_NEXT(a, rem)) {
		if ((a->rta_type & ~NLA_F_NESTED) != TCA_QVISOR_QSTATS_QUEUE)
			continue;
		parse_rtattr_nested(tb, TCA_QVISOR_QUEUE_MAX, a);
		bound = qvisor_u32(tb, TCA_QVISOR_QUEUE_BOUND);
		qvisor_print_queue(i++, qvisor_u32(tb, TCA_QVISOR_QUEUE_TIER),
				   tb[TCA_QVISOR_QUEUE_BOUND] ? &bound : NULL,
				   qvisor_u32(tb, TCA_QVISOR_QUEUE_LEN));
	}
}

/* Backend statistics: inversions' rank distance, aifo admission, and per
 * queue of a queue backend its tier, sppifo bound and length: from
 * TCA_QVISOR_QSTATS (@qs), else from the xstats arrays (older modules).
 */
static void qvisor_print_be_xstats(const struct tc_qvisor_xstats *st,
				   struct rtattr *qs)
{
	__u32 i, nq = st->nqueues < 32 ? st->nqueues : 32;
	bool sppifo = st->backend == QVISOR_BACKEND_SPPIFO;

	print_nl();
	print_string(PRINT_ANY, "backend", "  backend %s",
		     qvisor_backend_name(st->backend));
	print_lluint(PRINT_ANY, "unpifoness", " unpifoness %llu",
		     st->unpifoness);
	if (st->backend == QVISOR_BACKEND_SPPIFO)
		print_lluint(PRINT_ANY, "pushdowns", " pushdowns %llu",
			     st->pushdowns);
	if (st->backend == QVISOR_BACKEND_AIFO) {
		print_uint(PRINT_ANY, "aifo_window", " window %u",
			   st->aifo_window);
		print_uint(PRINT_ANY, "aifo_k", " k %u%%", st->aifo_k);
	}
	print_lluint(PRINT_ANY, "drop_admission", " drops admission %llu",
		     st->drop_admission);
	open_json_array(PRINT_JSON, "queues");
	if (qs)
		qvisor_print_qstats(qs);
	for (i = 0; !qs && i < nq; i++)
		qvisor_print_queue(i, st->queue_tier[i],
				   sppifo ? &st->queue_bound[i] : NULL,
				   st->queue_len[i]);
	close_json_array(PRINT_JSON, NULL);
}

/* Does an xstats attribute reach to the end of field F of struct S? */
#define QVISOR_HAS(rta, s, f)						\
	(RTA_PAYLOAD(rta) >= (size_t)((char *)&(s).f - (char *)&(s)) +	\
			     sizeof((s).f))

static void qvisor_print_qd_xstats(struct rtattr *xstats)
{
	struct tc_qvisor_xstats st = {};

	memcpy(&st, RTA_DATA(xstats), min(RTA_PAYLOAD(xstats), sizeof(st)));

	print_uint(PRINT_ANY, "tenants", "  tenants %u", st.tenants);
	print_uint(PRINT_ANY, "buckets", " buckets %u", st.buckets);
	print_uint(PRINT_ANY, "joint_width", " joint_width %u",
		   st.joint_width);
	print_uint(PRINT_ANY, "tiers", " tiers %u", st.tiers);
	print_nl();
	print_lluint(PRINT_ANY, "deferred", "  deferred %llu", st.deferred);
	print_uint(PRINT_ANY, "blocked", " blocked %u", st.blocked);
	print_lluint(PRINT_ANY, "rounds", " rounds %llu", st.rounds);
	print_lluint(PRINT_ANY, "refills", " refills %llu", st.refills);
	print_nl();
	print_lluint(PRINT_ANY, "drop_pushout", "  drops pushout %llu",
		     st.drop_pushout);
	print_lluint(PRINT_ANY, "drop_limit", " limit %llu", st.drop_limit);
	print_lluint(PRINT_ANY, "drop_tenant_limit", " tenant_limit %llu",
		     st.drop_tenant_limit);
	print_lluint(PRINT_ANY, "drop_classify", " classify %llu",
		     st.drop_classify);
	print_nl();
	print_lluint(PRINT_ANY, "implicit_pkts", "  implicit %llu",
		     st.implicit_pkts);
	print_lluint(PRINT_ANY, "default_pkts", " default %llu",
		     st.default_pkts);
	print_lluint(PRINT_ANY, "throttled", " throttled %llu", st.throttled);
	print_lluint(PRINT_ANY, "inversions", " inversions %llu",
		     st.inversions);
	print_lluint(PRINT_ANY, "resynth", " resynth %llu", st.resynth);
	/* the flow table's counters, from kernels that have them */
	if (RTA_PAYLOAD(xstats) < (size_t)((char *)&st.flows_aged -
					   (char *)&st) + sizeof(st.flows_aged))
		return;
	print_nl();
	print_uint(PRINT_ANY, "flows", "  flows %u", st.flows);
	print_uint(PRINT_ANY, "flows_live", " live %u", st.flows_live);
	print_lluint(PRINT_ANY, "flows_new", " new %llu", st.flows_new);
	print_lluint(PRINT_ANY, "flows_evicted", " evicted %llu",
		     st.flows_evicted);
	print_lluint(PRINT_ANY, "flows_aged", " aged %llu", st.flows_aged);
	if (QVISOR_HAS(xstats, st, replaced))
		print_lluint(PRINT_ANY, "replaced", " replaced %llu",
			     st.replaced);
	if (RTA_PAYLOAD(xstats) >= (size_t)((char *)&st.replaced - (char *)&st))
		qvisor_print_be_xstats(&st, qvisor_qstats);
	if (QVISOR_HAS(xstats, st, ecn_marks)) {
		print_nl();
		print_lluint(PRINT_ANY, "aqm_drops", "  aqm drops %llu",
			     st.aqm_drops);
		print_lluint(PRINT_ANY, "ecn_marks", " ecn_marks %llu",
			     st.ecn_marks);
	}
	if (QVISOR_HAS(xstats, st, memory)) {
		print_lluint(PRINT_ANY, "drop_memlimit", " drops memlimit %llu",
			     st.drop_memlimit);
		print_lluint(PRINT_ANY, "memory", " memory %llu", st.memory);
	}
	if (QVISOR_HAS(xstats, st, lends) &&
	    st.backend == QVISOR_BACKEND_SPPIFO)
		print_lluint(PRINT_ANY, "lends", " lends %llu", st.lends);
}

static void qvisor_print_cl_xstats(struct rtattr *xstats)
{
	struct tc_qvisor_cl_xstats st = {};

	memcpy(&st, RTA_DATA(xstats), min(RTA_PAYLOAD(xstats), sizeof(st)));

	print_uint(PRINT_ANY, "tier", "  tier %u", st.tier);
	print_uint(PRINT_ANY, "level", " level %u", st.level);
	print_uint(PRINT_ANY, "offset", " offset %u", st.offset);
	print_uint(PRINT_ANY, "width", " width %u", st.width);
	print_nl();
	print_uint(PRINT_ANY, "rank_min", "  ranks %u", st.rank_min);
	print_uint(PRINT_ANY, "rank_max", "..%u", st.rank_max);
	print_uint(PRINT_ANY, "joint_min", " joint %u", st.joint_min);
	print_uint(PRINT_ANY, "joint_max", "..%u", st.joint_max);
	/* the 64-bit count from kernels that have it */
	if (QVISOR_HAS(xstats, st, clamped_pkts))
		print_lluint(PRINT_ANY, "clamped", " clamped %llu",
			     st.clamped_pkts);
	else
		print_uint(PRINT_ANY, "clamped", " clamped %u", st.clamped);
	if (QVISOR_HAS(xstats, st, best_pkts))
		print_lluint(PRINT_ANY, "best_pkts", " best %llu",
			     st.best_pkts);
	print_nl();
	print_uint(PRINT_ANY, "group_members", "  group %u", st.group_members);
	print_float(PRINT_ANY, "share", " share %.2f%%",
		    st.share_ppm / 10000.0);
	print_uint(PRINT_ANY, "quantum", " quantum %u", st.quantum);
	print_s64(PRINT_ANY, "credit", " credit %" PRId64, st.credit);
	print_s64(PRINT_ANY, "tokens", " tokens %" PRId64, st.tokens);
	print_uint(PRINT_ANY, "deferred", " deferred %u", st.deferred);
	print_nl();
	print_lluint(PRINT_ANY, "drop_pushout", "  drops pushout %llu",
		     st.drop_pushout);
	print_lluint(PRINT_ANY, "drop_limit", " limit %llu", st.drop_limit);
	print_lluint(PRINT_ANY, "drop_tenant_limit", " tenant_limit %llu",
		     st.drop_tenant_limit);
	print_lluint(PRINT_ANY, "inversions", " inversions %llu",
		     st.inversions);
	if (RTA_PAYLOAD(xstats) >=
	    (size_t)((char *)&st.clamped_pkts - (char *)&st)) {
		print_lluint(PRINT_ANY, "unpifoness", " unpifoness %llu",
			     st.unpifoness);
		print_lluint(PRINT_ANY, "drop_admission", " admission %llu",
			     st.drop_admission);
	}
	if (QVISOR_HAS(xstats, st, aqm)) {
		print_nl();
		print_bool(PRINT_JSON, "aqm", NULL, st.aqm);
		print_string(PRINT_FP, NULL, "  %s", st.aqm ? "aqm" : "noaqm");
		print_lluint(PRINT_ANY, "aqm_drops", " drops %llu",
			     st.aqm_drops);
		print_lluint(PRINT_ANY, "ecn_marks", " ecn_marks %llu",
			     st.ecn_marks);
		print_uint(PRINT_ANY, "max_sojourn_us", " max_sojourn %uus",
			   st.max_sojourn);
	}
	if (QVISOR_HAS(xstats, st, mem_part)) {
		print_uint(PRINT_ANY, "memory", " memory %u", st.memory);
		if (st.mem_part)
			print_uint(PRINT_ANY, "mem_part", " of %u", st.mem_part);
	}
	if (QVISOR_HAS(xstats, st, rauto_updates) && st.rauto_updates) {
		print_lluint(PRINT_ANY, "rauto_updates", " range_auto tables %llu",
			     st.rauto_updates);
		if (QVISOR_HAS(xstats, st, shift_ppm))
			print_uint(PRINT_ANY, "shift_ppm", " shift %u ppm",
				   st.shift_ppm);
	}
}

static int qvisor_print_xstats(struct qdisc_util *qu, FILE *f,
			       struct rtattr *xstats)
{
	(void)qu;
	(void)f;
	if (!xstats)
		return 0;

	if (RTA_PAYLOAD(xstats) < sizeof(__u32))
		return -1;
	switch (rta_getattr_u32(xstats)) {
	case QVISOR_XSTATS_QDISC:
		qvisor_print_qd_xstats(xstats);
		qvisor_keep_qstats(NULL);
		break;
	case QVISOR_XSTATS_CLASS:
		qvisor_print_cl_xstats(xstats);
		break;
	default:
		print_string(PRINT_FP, NULL, "%s", "  unknown xstats type");
		return -1;
	}
	return 0;
}

struct qdisc_util qvisor_qdisc_util = {
	.id		= "qvisor",
	.parse_qopt	= qvisor_parse_opt,
	.print_qopt	= qvisor_print_opt,
	.print_xstats	= qvisor_print_xstats,
	.parse_copt	= qvisor_parse_copt,
	.print_copt	= qvisor_print_copt,
};
