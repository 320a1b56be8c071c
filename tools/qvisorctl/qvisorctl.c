// SPDX-License-Identifier: GPL-2.0-only
/*
 * qvisorctl: declarative tenant specs for the qvisor qdisc.
 *
 *   qvisorctl plan [--map] SPEC     the joint rank map the kernel will build
 *   qvisorctl apply SPEC            create/update qdisc, classes, filters
 *   qvisorctl plan --tc SPEC        the same as a tc -batch file
 *   qvisorctl show [--json|--prom] [-d SECS] DEV
 *   qvisorctl top [-d SECS] [-n COUNT] DEV
 *   qvisorctl watch [-v] SPEC       apply, then keep it right as taps
 *                                   come and go (rtnetlink link events)
 *
 * Netlink goes through libnl-3 (socket, message building, attribute
 * parsing).  qvisor is not a kind libnl-route knows, so TCA_OPTIONS is
 * built here from include/uapi/linux/pkt_sched_qvisor.h; filters (flower,
 * fw) are built the same way so that every request carries our extack
 * handling.  See qvisorctl(8).
 */
#include <errno.h>
#include <math.h>
#include <net/if.h>
#include <signal.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/gen_stats.h>
#include <linux/if_ether.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <netlink/socket.h>
#include <netlink/cache.h>
#include <netlink/route/link.h>

#include "spec.h"
#include "state.h"
#include <qvisor/policy_tree.h>

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* The filters qvisorctl owns: priorities in band A or band B of the
 * qvisor qdisc, QS_MAX_FILTERS each (qvisorctl(8), FILTERS).  An apply
 * adds the new filters in the band the old ones do not use, then deletes
 * the old band: classification never has a gap.  Filters at any other
 * priority are foreign and never touched.
 */
#define QC_BAND_A	QS_BAND_A
#define QC_BAND_B	QS_BAND_B

static bool qc_owned(uint32_t prio)
{
	return prio >= QC_BAND_A && prio < QC_BAND_B + QS_MAX_FILTERS;
}

static struct nl_sock *qc_sk;
static int qc_verbose;
static int qc_quiet;		/* watch: apply prints steps only with -v */
/* the module knows TCA_QVISOR_LEND: a dump had it or we sent it */
static bool qc_lend_known;

/* the network devices an apply resolves iface/alias matches against */
static struct qs_link *qc_lk;
static int qc_nlk;
static int qc_last_nfilt;	/* filters the last apply left in place */
/* "DEV: " before each step of a multi-device apply, else "" */
static const char *qc_devtag = "";

/* --- netlink plumbing ---------------------------------------------------- */

static void qc_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "qvisorctl: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void qc_open(void)
{
	int one = 1;

	qc_sk = nl_socket_alloc();
	if (!qc_sk || nl_connect(qc_sk, NETLINK_ROUTE) < 0)
		qc_die("cannot open a netlink socket");
	nl_socket_disable_auto_ack(qc_sk);
	nl_socket_set_msg_buf_size(qc_sk, 65536);
	setsockopt(nl_socket_get_fd(qc_sk), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
}

/* extack message of an NLMSG_ERROR, or "" */
static const char *qc_extack(struct nlmsghdr *h)
{
	struct nlmsgerr *e = nlmsg_data(h);
	size_t off = NLMSG_HDRLEN + sizeof(*e);
	struct nlattr *a;
	int rem;

	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return "";
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		off += NLMSG_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN);
	if (off >= h->nlmsg_len)
		return "";
	a = (struct nlattr *)((char *)h + off);
	rem = (int)(h->nlmsg_len - off);
	for (; nla_ok(a, rem); a = nla_next(a, &rem))
		if (nla_type(a) == NLMSGERR_ATTR_MSG && nla_len(a) > 0) {
			char *s = nla_data(a);

			s[nla_len(a) - 1] = '\0';
			return s;
		}
	return "";
}

typedef void (*qc_cb)(struct nlmsghdr *h, void *arg);

/* Send msg (freed), read until the ack or NLMSG_DONE; each data message
 * goes to cb.  Returns 0 or -errno; the kernel's extack text in why.
 */
static int qc_talk(struct nl_msg *msg, qc_cb cb, void *arg, char *why,
		   size_t whylen)
{
	unsigned char *buf = NULL;
	struct sockaddr_nl nla;
	uint32_t seq;
	int n, err = 1;

	if (why)
		why[0] = '\0';
	nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_ACK;
	n = nl_send_auto(qc_sk, msg);
	seq = nlmsg_hdr(msg)->nlmsg_seq;
	nlmsg_free(msg);
	if (n < 0)
		return -EIO;
	while (err > 0) {
		struct nlmsghdr *h;

		n = nl_recv(qc_sk, &nla, &buf, NULL);
		if (n <= 0)
			return -EIO;
		for (h = (struct nlmsghdr *)buf; nlmsg_ok(h, n);
		     h = nlmsg_next(h, &n)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE) {
				err = 0;
			} else if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = nlmsg_data(h);

				err = e->error;
				if (err && why)
					snprintf(why, whylen, "%s", qc_extack(h));
			} else if (cb) {
				cb(h, arg);
			}
		}
		free(buf);
		buf = NULL;
	}
	return err;
}

static struct nl_msg *qc_tcmsg(int type, int flags, int ifindex,
			       uint32_t parent, uint32_t handle, uint32_t info)
{
	struct tcmsg tcm = {
		.tcm_family = AF_UNSPEC,
		.tcm_ifindex = ifindex,
		.tcm_parent = parent,
		.tcm_handle = handle,
		.tcm_info = info,
	};
	struct nl_msg *msg = nlmsg_alloc_simple(type, flags);

	if (!msg || nlmsg_append(msg, &tcm, sizeof(tcm), NLMSG_ALIGNTO) < 0)
		qc_die("out of memory");
	return msg;
}

/* --- the running configuration (state.h) --------------------------- */

/* room for one more element in a growing array */
static void *qc_grow(void *a, int n, int *cap, size_t size)
{
	if (n < *cap)
		return a;
	*cap = *cap ? *cap * 2 : 64;
	a = realloc(a, (size_t)*cap * size);
	if (!a)
		qc_die("out of memory");
	return a;
}

/* The stats; returns the xstats bytes the module sent (0: none) */
static size_t qc_stats(struct nlattr *st2, struct gnet_stats_basic *bs,
		       struct gnet_stats_queue *qs, void *xs, size_t xlen,
		       bool *has_xs)
{
	struct nlattr *tb[TCA_STATS_MAX + 1];

	if (!st2 || nla_parse_nested(tb, TCA_STATS_MAX, st2, NULL) < 0)
		return 0;
	if (tb[TCA_STATS_BASIC])
		memcpy(bs, nla_data(tb[TCA_STATS_BASIC]),
		       nla_len(tb[TCA_STATS_BASIC]) < (int)sizeof(*bs) ?
		       (size_t)nla_len(tb[TCA_STATS_BASIC]) : sizeof(*bs));
	if (tb[TCA_STATS_QUEUE])
		memcpy(qs, nla_data(tb[TCA_STATS_QUEUE]),
		       nla_len(tb[TCA_STATS_QUEUE]) < (int)sizeof(*qs) ?
		       (size_t)nla_len(tb[TCA_STATS_QUEUE]) : sizeof(*qs));
	if (tb[TCA_STATS_APP] && nla_len(tb[TCA_STATS_APP]) >= 4) {
		size_t n = (size_t)nla_len(tb[TCA_STATS_APP]);

		memcpy(xs, nla_data(tb[TCA_STATS_APP]), n < xlen ? n : xlen);
		*has_xs = true;
		return n;
	}
	return 0;
}

static uint32_t qc_u32(struct nlattr *a, uint32_t def)
{
	return a ? nla_get_u32(a) : def;
}

_Static_assert(QC_MAX_GROUPS == QV_POLICY_MAX_GROUPS, "QC_MAX_GROUPS");

/* The policy tree of a dump as the string (as tc prints it), and its
 * nested groups with the properties inside each (@gp, may be NULL)
 */
static void qc_policy_read(const struct nlattr *a, const struct nlattr *gp,
			   struct qc_qdisc *q)
{
	static struct qv_pol_ent ent[QVISOR_MAX_TENANTS];
	static struct qv_pol_grp grp[QV_POLICY_MAX_GROUPS];
	static u64 seen[QV_PTREE_SEEN_WORDS];
	struct qv_policy p = { .ent = ent, .cap = QVISOR_MAX_TENANTS };
	struct qv_err e = {};
	size_t used = 0;
	uint32_t g;
	int len;

	memset(seen, 0, sizeof(seen));
	if (qv_ptree_decode(&p, grp, QV_POLICY_MAX_GROUPS, a,
			    (uint32_t)nla_total_size(nla_len(a)), seen,
			    &e) ||
	    qv_policy_format(&p, q->policy, sizeof(q->policy)) < 0) {
		snprintf(q->policy, sizeof(q->policy), "?");
		return;
	}
	if (!gp || p.ngrp > QC_MAX_GROUPS ||
	    (size_t)nla_len(gp) != p.ngrp * sizeof(uint32_t))
		return;
	for (g = 0; g < p.ngrp; g++) {
		len = qv_policy_format_group(&p, g + 1, q->groups + used,
					     (uint32_t)(sizeof(q->groups) - used));
		if (len < 0)
			break;
		used += (size_t)len + 1;
		memcpy(&q->gprops[g], (const char *)nla_data(gp) + 4 * g, 4);
		q->ngroups = g + 1;
	}
}

static void qc_qdisc_cb(struct nlmsghdr *h, void *arg)
{
	struct qc_state *st = arg;
	struct tcmsg *tcm = nlmsg_data(h);
	struct nlattr *tb[TCA_MAX + 1], *o[TCA_QVISOR_MAX + 1];
	struct qc_qdisc *q = &st->q;

	if (h->nlmsg_type != RTM_NEWQDISC || tcm->tcm_ifindex != st->ifindex ||
	    tcm->tcm_parent != TC_H_ROOT)
		return;
	if (nlmsg_parse(h, sizeof(*tcm), tb, TCA_MAX, NULL) < 0 ||
	    !tb[TCA_KIND])
		return;
	memset(q, 0, sizeof(*q));
	q->found = true;
	q->handle = tcm->tcm_handle;
	q->parent = tcm->tcm_parent;
	snprintf(q->kind, sizeof(q->kind), "%s", nla_get_string(tb[TCA_KIND]));
	if (strcmp(q->kind, "qvisor"))
		return;
	if (tb[TCA_OPTIONS] &&
	    nla_parse_nested(o, TCA_QVISOR_MAX, tb[TCA_OPTIONS], NULL) == 0) {
		q->rate = o[TCA_QVISOR_RATE] ? nla_get_u64(o[TCA_QVISOR_RATE]) : 0;
		q->limit = qc_u32(o[TCA_QVISOR_LIMIT], QVISOR_DEF_LIMIT);
		q->buckets = qc_u32(o[TCA_QVISOR_BUCKETS], QVISOR_DEF_BUCKETS);
		q->slot = qc_u32(o[TCA_QVISOR_SLOT], QVISOR_DEF_SLOT_US);
		q->defcls = qc_u32(o[TCA_QVISOR_DEFAULT], 0);
		q->queues = qc_u32(o[TCA_QVISOR_QUEUES], 0);
		q->overlap = qc_u32(o[TCA_QVISOR_OVERLAP], QVISOR_DEF_OVERLAP);
		q->backend = o[TCA_QVISOR_BACKEND] ?
			     nla_get_u8(o[TCA_QVISOR_BACKEND]) : 0;
		q->partial = o[TCA_QVISOR_PARTIAL] ?
			     nla_get_u8(o[TCA_QVISOR_PARTIAL]) : 0;
		q->flows = qc_u32(o[TCA_QVISOR_FLOWS], QVISOR_DEF_FLOWS);
		q->flow_idle = qc_u32(o[TCA_QVISOR_FLOW_IDLE],
				      QVISOR_DEF_FLOW_IDLE_US);
		q->props = qc_u32(o[TCA_QVISOR_PROPS], 0);
		q->has_split_gso = o[TCA_QVISOR_SPLIT_GSO] != NULL;
		q->split_gso = o[TCA_QVISOR_SPLIT_GSO] ?
			       nla_get_u8(o[TCA_QVISOR_SPLIT_GSO]) : 0;
		q->aqm = o[TCA_QVISOR_AQM] ? nla_get_u8(o[TCA_QVISOR_AQM]) : 1;
		q->ecn = o[TCA_QVISOR_ECN] ? nla_get_u8(o[TCA_QVISOR_ECN]) : 1;
		q->target = qc_u32(o[TCA_QVISOR_TARGET], QVISOR_DEF_TARGET_US);
		q->interval = qc_u32(o[TCA_QVISOR_INTERVAL],
				     QVISOR_DEF_INTERVAL_US);
		q->memlimit = qc_u32(o[TCA_QVISOR_MEMLIMIT], 0);
		q->lend = qc_u32(o[TCA_QVISOR_LEND], 0);
		qc_lend_known |= o[TCA_QVISOR_LEND] != NULL;
		if (o[TCA_QVISOR_POLICY_TREE])
			qc_policy_read(o[TCA_QVISOR_POLICY_TREE],
				       o[TCA_QVISOR_GROUP_PROPS], q);
		if (o[TCA_QVISOR_QSTATS])
			qc_queues_read(q, nla_data(o[TCA_QVISOR_QSTATS]),
				       (size_t)nla_len(o[TCA_QVISOR_QSTATS]));
	}
	qc_stats(tb[TCA_STATS2], &q->bs, &q->qs, &q->xs, sizeof(q->xs),
		 &q->has_xs);
	qc_queues_fallback(q);
}

static void qc_class_cb(struct nlmsghdr *h, void *arg)
{
	struct qc_state *st = arg;
	struct tcmsg *tcm = nlmsg_data(h);
	struct nlattr *tb[TCA_MAX + 1], *o[TCA_QVISOR_CLASS_MAX + 1];
	struct qc_class *c;
	size_t xlen;

	if (h->nlmsg_type != RTM_NEWTCLASS || tcm->tcm_ifindex != st->ifindex ||
	    TC_H_MAJ(tcm->tcm_handle) != st->q.handle)
		return;
	if (nlmsg_parse(h, sizeof(*tcm), tb, TCA_MAX, NULL) < 0 ||
	    !tb[TCA_KIND] || strcmp(nla_get_string(tb[TCA_KIND]), "qvisor"))
		return;
	st->cl = qc_grow(st->cl, st->ncl, &st->capcl, sizeof(*st->cl));
	c = &st->cl[st->ncl++];
	memset(c, 0, sizeof(*c));
	c->classid = tcm->tcm_handle;
	if (tb[TCA_OPTIONS] &&
	    nla_parse_nested(o, TCA_QVISOR_CLASS_MAX, tb[TCA_OPTIONS], NULL) == 0) {
		c->rank = o[TCA_QVISOR_CLASS_RANK] ?
			  nla_get_u8(o[TCA_QVISOR_CLASS_RANK]) : 0;
		c->mask = qc_u32(o[TCA_QVISOR_CLASS_MARK_MASK], 0);
		c->lo = qc_u32(o[TCA_QVISOR_CLASS_LO], 0);
		c->hi = qc_u32(o[TCA_QVISOR_CLASS_HI], 0);
		c->levels = qc_u32(o[TCA_QVISOR_CLASS_LEVELS], 0);
		c->rauto = qc_u32(o[TCA_QVISOR_CLASS_RANGE_AUTO], 0);
		c->weight = qc_u32(o[TCA_QVISOR_CLASS_WEIGHT], 1);
		c->limit = qc_u32(o[TCA_QVISOR_CLASS_LIMIT], 0);
		c->burst = qc_u32(o[TCA_QVISOR_CLASS_BURST], 0);
		c->ceil = o[TCA_QVISOR_CLASS_CEIL] ?
			  nla_get_u64(o[TCA_QVISOR_CLASS_CEIL]) : 0;
		c->budget = o[TCA_QVISOR_CLASS_EDF_BUDGET] ?
			    nla_get_u64(o[TCA_QVISOR_CLASS_EDF_BUDGET]) : 0;
		c->edf_mark = o[TCA_QVISOR_CLASS_EDF_MARK] ?
			      nla_get_u8(o[TCA_QVISOR_CLASS_EDF_MARK]) : 0;
		c->aqm = o[TCA_QVISOR_CLASS_AQM] ?
			 nla_get_u8(o[TCA_QVISOR_CLASS_AQM]) : 0;
		c->ecn = o[TCA_QVISOR_CLASS_ECN] ?
			 nla_get_u8(o[TCA_QVISOR_CLASS_ECN]) : 0;
		c->target = qc_u32(o[TCA_QVISOR_CLASS_TARGET], 0);
		c->interval = qc_u32(o[TCA_QVISOR_CLASS_INTERVAL], 0);
	}
	xlen = qc_stats(tb[TCA_STATS2], &c->bs, &c->qs, &c->xs, sizeof(c->xs),
			&c->has_xs);
	/* a module before best_pkts sends a shorter struct */
	c->has_best = xlen >= offsetof(struct tc_qvisor_cl_xstats, reserved);
}

static void qc_filter_cb(struct nlmsghdr *h, void *arg)
{
	struct qc_state *st = arg;
	struct tcmsg *tcm = nlmsg_data(h);
	struct qc_filter *f;

	if (h->nlmsg_type != RTM_NEWTFILTER || tcm->tcm_ifindex != st->ifindex)
		return;
	st->fl = qc_grow(st->fl, st->nfl, &st->capfl, sizeof(*st->fl));
	f = &st->fl[st->nfl++];
	f->h = malloc(h->nlmsg_len);
	if (!f->h)
		qc_die("out of memory");
	memcpy(f->h, h, h->nlmsg_len);
	f->prio = TC_H_MAJ(tcm->tcm_info) >> 16;
}

static void qc_state_free(struct qc_state *st)
{
	int k;

	for (k = 0; k < st->nfl; k++)
		free(st->fl[k].h);
	st->nfl = 0;
}

static int qc_read_state(struct qc_state *st, int ifindex, bool filters)
{
	char why[256];
	int err;

	qc_state_free(st);
	memset(&st->q, 0, sizeof(st->q));
	st->ncl = 0;
	st->ifindex = ifindex;
	err = qc_talk(qc_tcmsg(RTM_GETQDISC, NLM_F_REQUEST | NLM_F_DUMP,
			       ifindex, 0, 0, 0), qc_qdisc_cb, st, why,
		      sizeof(why));
	if (err || !st->q.found || strcmp(st->q.kind, "qvisor"))
		return err;
	err = qc_talk(qc_tcmsg(RTM_GETTCLASS, NLM_F_REQUEST | NLM_F_DUMP,
			       ifindex, 0, 0, 0), qc_class_cb, st, why,
		      sizeof(why));
	if (err || !filters)
		return err;
	return qc_talk(qc_tcmsg(RTM_GETTFILTER, NLM_F_REQUEST | NLM_F_DUMP,
				ifindex, st->q.handle, 0, 0), qc_filter_cb, st,
		       why, sizeof(why));
}

/* --- building requests --------------------------------------------------- */

/* The policy string as TCA_QVISOR_POLICY_TREE; "" clears the policy */
static int qc_put_policy(struct nl_msg *m, const char *str)
{
	static struct qv_pol_ent ent[QVISOR_MAX_TENANTS];
	static struct qv_pol_grp grp[QV_POLICY_MAX_GROUPS];
	struct qv_policy p = { .ent = ent, .cap = QVISOR_MAX_TENANTS };
	struct qv_err e = {};
	uint32_t len;
	void *buf;
	int err;

	if (!*str)
		return nla_put(m, TCA_QVISOR_POLICY_TREE | NLA_F_NESTED, 0, NULL);
	if (qv_policy_parse_groups(&p, grp, QV_POLICY_MAX_GROUPS, str,
				   (uint32_t)strlen(str), &e))
		return -EINVAL;
	len = qv_ptree_size(&p);
	if (len > 0xffff - NLA_HDRLEN)
		return -E2BIG;
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	qv_ptree_encode(&p, buf);
	err = nla_put(m, TCA_QVISOR_POLICY_TREE | NLA_F_NESTED, (int)len, buf);
	free(buf);
	return err;
}

static int qc_put_qdisc_opts(struct nl_msg *m, const struct qc_qdisc *q)
{
	struct nlattr *o = nla_nest_start(m, TCA_OPTIONS);
	int err;

	nla_put_u64(m, TCA_QVISOR_RATE, q->rate);
	nla_put_u32(m, TCA_QVISOR_LIMIT, q->limit);
	nla_put_u32(m, TCA_QVISOR_BUCKETS, q->buckets);
	nla_put_u32(m, TCA_QVISOR_SLOT, q->slot);
	nla_put_u32(m, TCA_QVISOR_DEFAULT, q->defcls);
	nla_put_u8(m, TCA_QVISOR_BACKEND, q->backend);
	if (q->backend == QVISOR_BACKEND_SPPIFO)
		nla_put_u32(m, TCA_QVISOR_QUEUES, q->queues);
	nla_put_u32(m, TCA_QVISOR_OVERLAP, q->overlap);
	nla_put_u32(m, TCA_QVISOR_FLOWS, q->flows);
	nla_put_u32(m, TCA_QVISOR_FLOW_IDLE, q->flow_idle);
	nla_put_u8(m, TCA_QVISOR_PARTIAL, q->partial);
	if (q->has_split_gso)
		nla_put_u8(m, TCA_QVISOR_SPLIT_GSO, q->split_gso);
	/* the AQM always: a key left out of the spec is the default again */
	nla_put_u8(m, TCA_QVISOR_AQM, q->aqm);
	nla_put_u8(m, TCA_QVISOR_ECN, q->ecn);
	nla_put_u32(m, TCA_QVISOR_TARGET, q->target);
	nla_put_u32(m, TCA_QVISOR_INTERVAL, q->interval);
	nla_put_u32(m, TCA_QVISOR_MEMLIMIT, q->memlimit);
	/* only when set, or to turn it off where the module has it: a
	 * module from before lending refuses the attribute
	 */
	if (q->lend || qc_lend_known) {
		nla_put_u32(m, TCA_QVISOR_LEND, q->lend);
		qc_lend_known = true;
	}
	/* always sent: an empty policy clears the kernel's */
	err = qc_put_policy(m, q->policy);
	nla_nest_end(m, o);
	return err;
}

static void qc_put_class_opts(struct nl_msg *m, const struct qc_class *c)
{
	struct nlattr *o = nla_nest_start(m, TCA_OPTIONS);

	nla_put_u8(m, TCA_QVISOR_CLASS_RANK, c->rank);
	if (c->rank == QVISOR_RANK_MARK)
		nla_put_u32(m, TCA_QVISOR_CLASS_MARK_MASK, c->mask);
	if (c->rank == QVISOR_RANK_EDF) {
		nla_put_u64(m, TCA_QVISOR_CLASS_EDF_BUDGET, c->budget);
		nla_put_u8(m, TCA_QVISOR_CLASS_EDF_MARK, c->edf_mark);
	}
	nla_put_u32(m, TCA_QVISOR_CLASS_LO, c->lo);
	nla_put_u32(m, TCA_QVISOR_CLASS_HI, c->hi);
	nla_put_u32(m, TCA_QVISOR_CLASS_LEVELS, c->levels);
	/* only when on: a kernel without range auto takes the rest */
	if (c->rauto)
		nla_put_u32(m, TCA_QVISOR_CLASS_RANGE_AUTO, c->rauto);
	nla_put_u32(m, TCA_QVISOR_CLASS_WEIGHT, c->weight);
	nla_put_u64(m, TCA_QVISOR_CLASS_CEIL, c->ceil);
	if (c->ceil && c->burst)
		nla_put_u32(m, TCA_QVISOR_CLASS_BURST, c->burst);
	nla_put_u32(m, TCA_QVISOR_CLASS_LIMIT, c->limit);
	nla_put_u8(m, TCA_QVISOR_CLASS_AQM, c->aqm);
	nla_put_u8(m, TCA_QVISOR_CLASS_ECN, c->ecn);
	nla_put_u32(m, TCA_QVISOR_CLASS_TARGET, c->target);
	nla_put_u32(m, TCA_QVISOR_CLASS_INTERVAL, c->interval);
	nla_nest_end(m, o);
}

/* The policy as the kernel's dump prints it (spaces, lowercase hex
 * minors), so that it compares equal to what is applied
 */
static void qc_policy_canonical(const char *in, char *out, size_t n)
{
	static struct qv_pol_ent ent[QVISOR_MAX_TENANTS];
	static struct qv_pol_grp grp[QV_POLICY_MAX_GROUPS];
	struct qv_policy p = { .ent = ent, .cap = QVISOR_MAX_TENANTS };
	struct qv_err e = {};

	if (qv_policy_parse_groups(&p, grp, QV_POLICY_MAX_GROUPS, in,
				   (uint32_t)strlen(in), &e) ||
	    qv_policy_format(&p, out, (uint32_t)n) < 0)
		snprintf(out, n, "%s", in);
}

static void qc_spec_qdisc(const struct qs_spec *sp, struct qc_qdisc *q)
{
	memset(q, 0, sizeof(*q));
	q->handle = sp->handle << 16;
	q->rate = sp->rate;
	q->limit = qs_qdisc_limit(sp);
	q->buckets = sp->buckets;
	q->slot = sp->has_slot ? sp->slot_us : QVISOR_DEF_SLOT_US;
	q->defcls = sp->has_default ? sp->defcls : 0;
	q->backend = (uint8_t)sp->backend;
	q->queues = sp->queues;
	q->overlap = sp->overlap;
	q->flows = sp->has_flows ? sp->flows : QVISOR_DEF_FLOWS;
	q->flow_idle = sp->has_flow_idle ? sp->flow_idle_us :
		       QVISOR_DEF_FLOW_IDLE_US;
	q->partial = sp->partial;
	q->has_split_gso = sp->has_split_gso;
	q->split_gso = sp->split_gso;
	q->aqm = qs_aqm_on(sp);
	q->ecn = qs_ecn_on(sp);
	q->target = qs_target_us(sp);
	q->interval = qs_interval_us(sp);
	q->memlimit = sp->memlimit;
	q->lend = sp->lend_us;
	if (sp->policy_line)
		qc_policy_canonical(sp->policy, q->policy, sizeof(q->policy));
}

static void qc_spec_class(const struct qs_spec *sp, const struct qs_tenant *t,
			  struct qc_class *c)
{
	memset(c, 0, sizeof(*c));
	c->classid = sp->handle << 16 | t->minor;
	c->rank = (uint8_t)t->rank;
	c->mask = t->mark_mask;
	c->lo = t->lo;
	c->hi = t->hi;
	c->levels = t->levels;
	c->rauto = t->rauto;
	c->weight = t->weight;
	c->ceil = t->ceil;
	c->burst = t->burst;
	c->limit = t->limit;
	c->budget = t->rank == QVISOR_RANK_EDF ? t->edf_budget : 0;
	c->edf_mark = t->rank == QVISOR_RANK_EDF && t->edf_mark;
	c->aqm = t->aqm;
	c->ecn = t->ecn;
	c->target = t->target_us;
	c->interval = t->interval_us;
}

static int qc_qdisc_req(int ifindex, int type, int flags,
			const struct qc_qdisc *q, char *why, size_t n)
{
	struct nl_msg *m = qc_tcmsg(type, NLM_F_REQUEST | flags, ifindex,
				    TC_H_ROOT, q->handle, 0);

	nla_put_string(m, TCA_KIND, "qvisor");
	if (qc_put_qdisc_opts(m, q)) {
		nlmsg_free(m);
		snprintf(why, n, "policy \"%.200s\" cannot be sent", q->policy);
		return -EINVAL;
	}
	return qc_talk(m, NULL, NULL, why, n);
}

static int qc_class_req(int ifindex, int type, int flags, uint32_t parent,
			const struct qc_class *c, char *why, size_t n)
{
	struct nl_msg *m = qc_tcmsg(type, NLM_F_REQUEST | flags, ifindex,
				    parent, c->classid, 0);

	if (type == RTM_NEWTCLASS) {
		nla_put_string(m, TCA_KIND, "qvisor");
		qc_put_class_opts(m, c);
	}
	return qc_talk(m, NULL, NULL, why, n);
}

static int qc_filter_add(int ifindex, uint32_t parent, uint32_t prio,
			 uint32_t classid, const struct qs_match *mt,
			 uint16_t proto, char *why, size_t n)
{
	struct nl_msg *m;
	struct nlattr *o;

	m = qc_tcmsg(RTM_NEWTFILTER, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL,
		     ifindex, parent, mt->has_mark ? mt->mark : 0,
		     TC_H_MAKE(prio << 16, htons(proto)));
	if (mt->has_mark) {
		nla_put_string(m, TCA_KIND, "fw");
		o = nla_nest_start(m, TCA_OPTIONS);
		nla_put_u32(m, TCA_FW_CLASSID, classid);
		if (mt->mark_mask)
			nla_put_u32(m, TCA_FW_MASK, mt->mark_mask);
		nla_nest_end(m, o);
		return qc_talk(m, NULL, NULL, why, n);
	}
	nla_put_string(m, TCA_KIND, "flower");
	o = nla_nest_start(m, TCA_OPTIONS);
	nla_put_u32(m, TCA_FLOWER_CLASSID, classid);
	if (mt->indev[0])
		nla_put_string(m, TCA_FLOWER_INDEV, mt->indev);
	if (mt->has_mac) {
		static const uint8_t ones[6] = { 0xff, 0xff, 0xff,
						 0xff, 0xff, 0xff };

		nla_put(m, TCA_FLOWER_KEY_ETH_SRC, 6, mt->mac);
		nla_put(m, TCA_FLOWER_KEY_ETH_SRC_MASK, 6, ones);
	}
	if (proto != ETH_P_ALL)
		nla_put_u16(m, TCA_FLOWER_KEY_ETH_TYPE, htons(proto));
	if (mt->has_src) {
		uint8_t mask[16] = { 0 };
		int k;

		for (k = 0; k < mt->plen; k++)
			mask[k / 8] |= (uint8_t)(0x80 >> (k % 8));
		if (mt->family == AF_INET) {
			nla_put(m, TCA_FLOWER_KEY_IPV4_SRC, 4, mt->src);
			nla_put(m, TCA_FLOWER_KEY_IPV4_SRC_MASK, 4, mask);
		} else {
			nla_put(m, TCA_FLOWER_KEY_IPV6_SRC, 16, mt->src);
			nla_put(m, TCA_FLOWER_KEY_IPV6_SRC_MASK, 16, mask);
		}
	}
	if (mt->dscp >= 0) {
		nla_put_u8(m, TCA_FLOWER_KEY_IP_TOS, (uint8_t)(mt->dscp << 2));
		nla_put_u8(m, TCA_FLOWER_KEY_IP_TOS_MASK, 0xfc);
	}
	nla_nest_end(m, o);
	return qc_talk(m, NULL, NULL, why, n);
}

/* A dumped filter's options, fit to be sent back: the kernel reports
 * state in them that it refuses as input (the "not in hardware" flag,
 * hardware and packet counters), so those are dropped or masked.
 */
static void qc_put_filter_opts(struct nl_msg *m, const char *kind,
			       struct nlattr *opts)
{
	int flags_attr = 0, skip1 = -1, skip2 = -1, rem;
	struct nlattr *o, *a;

	if (!strcmp(kind, "flower")) {
		flags_attr = TCA_FLOWER_FLAGS;
		skip1 = TCA_FLOWER_IN_HW_COUNT;
	} else if (!strcmp(kind, "u32")) {
		flags_attr = TCA_U32_FLAGS;
		skip1 = TCA_U32_PCNT;
		skip2 = TCA_U32_PAD;
	} else if (!strcmp(kind, "matchall")) {
		flags_attr = TCA_MATCHALL_FLAGS;
		skip1 = TCA_MATCHALL_PCNT;
		skip2 = TCA_MATCHALL_PAD;
	}
	o = nla_nest_start(m, TCA_OPTIONS);
	nla_for_each_nested(a, opts, rem) {
		int t = nla_type(a);

		if (t == skip1 || t == skip2)
			continue;
		if (flags_attr && t == flags_attr && nla_len(a) >= 4) {
			uint32_t fl = nla_get_u32(a) &
				      (TCA_CLS_FLAGS_SKIP_HW | TCA_CLS_FLAGS_SKIP_SW);

			if (fl)
				nla_put_u32(m, t, fl);
			continue;
		}
		nla_put(m, a->nla_type, nla_len(a), nla_data(a));
	}
	nla_nest_end(m, o);
}

/* re-create a dumped filter: same tcmsg, kind, chain and options */
static int qc_filter_replay(const struct qc_filter *f, char *why, size_t n)
{
	struct tcmsg *tcm = nlmsg_data(f->h);
	struct nlattr *tb[TCA_MAX + 1];
	struct nl_msg *m;

	if (!tcm->tcm_handle)
		return 0;	/* a classifier's head, created with its filters */
	if (nlmsg_parse(f->h, sizeof(*tcm), tb, TCA_MAX, NULL) < 0 ||
	    !tb[TCA_KIND])
		return -EINVAL;
	m = qc_tcmsg(RTM_NEWTFILTER, NLM_F_REQUEST | NLM_F_CREATE,
		     tcm->tcm_ifindex, tcm->tcm_parent, tcm->tcm_handle,
		     tcm->tcm_info);
	nla_put_string(m, TCA_KIND, nla_get_string(tb[TCA_KIND]));
	if (tb[TCA_CHAIN])
		nla_put_u32(m, TCA_CHAIN, nla_get_u32(tb[TCA_CHAIN]));
	if (tb[TCA_OPTIONS])
		qc_put_filter_opts(m, nla_get_string(tb[TCA_KIND]),
				   tb[TCA_OPTIONS]);
	return qc_talk(m, NULL, NULL, why, n);
}

static int qc_del_root(int ifindex, char *why, size_t n)
{
	return qc_talk(qc_tcmsg(RTM_DELQDISC, NLM_F_REQUEST, ifindex, TC_H_ROOT,
				0, 0), NULL, NULL, why, n);
}

static int qc_del_prio(int ifindex, uint32_t parent, uint32_t prio,
		       char *why, size_t n)
{
	return qc_talk(qc_tcmsg(RTM_DELTFILTER, NLM_F_REQUEST, ifindex, parent,
				0, TC_H_MAKE(prio << 16, 0)), NULL, NULL, why, n);
}

/* --- apply ------------------------------------------------------------- */

/* Is m's ingress device missing?  Asked just before its filter is
 * created.  A device an iface/alias match resolved to may vanish during
 * the apply (a tap deleted): its filter is skipped, not the apply failed,
 * and watch applies again on the event.  (Linux 6.1's flower would also
 * keep the class bound after failing on the indev; the module repairs
 * that count when the class is deleted, qvisor_filters_of().)
 */
static bool qc_indev_gone(const struct qs_match *m, char *why, size_t n)
{
	if (!m->indev[0] || if_nametoindex(m->indev))
		return false;
	if (qs_match_dynamic(m)) {
		if (!qc_quiet)
			printf("  %sdevice %s is gone: no filter for it\n",
			       qc_devtag, m->indev);
		return true;
	}
	snprintf(why, n, "no device %s (checked before the filter is created)",
		 m->indev);
	return true;
}

static void qc_step_fail(const char *what, int err, const char *why)
{
	fprintf(stderr, "qvisorctl: %s: %s%s%s%s\n", what, strerror(-err),
		why[0] ? " (kernel: \"" : "", why, why[0] ? "\")" : "");
}

/* Put the snapshot back: delete the root, re-create the old qvisor with
 * its classes and filters (or leave the device's default qdisc when
 * there was no qvisor before).
 */
static int qc_restore(const struct qc_state *old)
{
	char why[256];
	int k, err, bad = 0;

	err = qc_del_root(old->ifindex, why, sizeof(why));
	if (err && err != -ENOENT && err != -EINVAL) {
		qc_step_fail("rollback: delete root qdisc", err, why);
		bad++;
	}
	if (!old->q.found || strcmp(old->q.kind, "qvisor"))
		return bad;
	err = qc_qdisc_req(old->ifindex, RTM_NEWQDISC,
			   NLM_F_CREATE | NLM_F_EXCL, &old->q, why, sizeof(why));
	if (err) {
		qc_step_fail("rollback: re-create qdisc", err, why);
		return bad + 1;
	}
	for (k = 0; k < old->ncl; k++) {
		err = qc_class_req(old->ifindex, RTM_NEWTCLASS,
				   NLM_F_CREATE | NLM_F_EXCL, old->q.handle,
				   &old->cl[k], why, sizeof(why));
		if (err) {
			qc_step_fail("rollback: re-create class", err, why);
			bad++;
		}
	}
	for (k = 0; k < old->nfl; k++) {
		err = qc_filter_replay(&old->fl[k], why, sizeof(why));
		if (err) {
			qc_step_fail("rollback: re-create filter", err, why);
			bad++;
		}
	}
	return bad;
}

static bool qc_default_root(const struct qc_qdisc *q)
{
	/* the qdisc a device gets by itself has handle 0: */
	return !q->found || TC_H_MAJ(q->handle) == 0;
}

/* what differs between a class of the spec and a dumped one, as text */
static void qc_class_diff(char *buf, size_t n, const struct qc_class *o,
			  const struct qc_class *c)
{
	size_t used = 0;

	buf[0] = '\0';
#define QC_D(cond, fmt, ...)						\
	do {								\
		if ((cond) && used < n)					\
			used += (size_t)snprintf(buf + used, n - used,	\
						 " " fmt, __VA_ARGS__);	\
	} while (0)
	QC_D(o->rank != c->rank, "rank %s->%s", qs_rank_name(o->rank),
	     qs_rank_name(c->rank));
	QC_D(c->rank == QVISOR_RANK_MARK && o->mask != c->mask,
	     "mask 0x%x->0x%x", o->mask, c->mask);
	QC_D(c->rank == QVISOR_RANK_EDF && o->edf_mark != c->edf_mark,
	     "mark_budget %u->%u", o->edf_mark, c->edf_mark);
	QC_D(c->rank == QVISOR_RANK_EDF && o->budget != c->budget,
	     "budget %lluns->%lluns", (unsigned long long)o->budget,
	     (unsigned long long)c->budget);
	QC_D(o->lo != c->lo || o->hi != c->hi, "range %u..%u->%u..%u", o->lo,
	     o->hi, c->lo, c->hi);
	QC_D(o->rauto != c->rauto, "range auto window %u->%u", o->rauto,
	     c->rauto);
	QC_D(o->levels != c->levels, "levels %u->%u", o->levels, c->levels);
	QC_D(o->weight != c->weight, "weight %u->%u", o->weight, c->weight);
	QC_D(o->ceil != c->ceil, "ceil %llu->%llu bytes/s",
	     (unsigned long long)o->ceil, (unsigned long long)c->ceil);
	QC_D(c->ceil && c->burst && o->burst != c->burst, "burst %u->%u",
	     o->burst, c->burst);
	QC_D(o->limit != c->limit, "limit %u->%u", o->limit, c->limit);
	QC_D(o->aqm != c->aqm, "aqm %u->%u", o->aqm, c->aqm);
	QC_D(o->ecn != c->ecn, "ecn %u->%u", o->ecn, c->ecn);
	QC_D(o->target != c->target, "target %uus->%uus", o->target,
	     c->target);
	QC_D(o->interval != c->interval, "interval %uus->%uus", o->interval,
	     c->interval);
}

static void qc_qdisc_diff(char *buf, size_t n, const struct qc_qdisc *o,
			  const struct qc_qdisc *q)
{
	size_t used = 0;

	buf[0] = '\0';
	QC_D(o->rate != q->rate, "rate %llu->%llu bytes/s",
	     (unsigned long long)o->rate, (unsigned long long)q->rate);
	QC_D(o->limit != q->limit, "limit %u->%u", o->limit, q->limit);
	QC_D(o->buckets != q->buckets, "buckets %u->%u", o->buckets, q->buckets);
	QC_D(o->slot != q->slot, "slot %uus->%uus", o->slot, q->slot);
	QC_D(o->defcls != q->defcls, "default %x->%x", o->defcls, q->defcls);
	QC_D(o->backend != q->backend, "backend %u->%u", o->backend, q->backend);
	QC_D(q->backend == QVISOR_BACKEND_SPPIFO && o->queues != q->queues,
	     "queues %u->%u", o->queues, q->queues);
	QC_D(o->overlap != q->overlap, "overlap %u->%u", o->overlap, q->overlap);
	QC_D(o->flows != q->flows, "flows %u->%u", o->flows, q->flows);
	QC_D(o->flow_idle != q->flow_idle, "flow_idle %uus->%uus", o->flow_idle,
	     q->flow_idle);
	QC_D(o->partial != q->partial, "partial %u->%u", o->partial, q->partial);
	QC_D(q->has_split_gso && o->split_gso != q->split_gso,
	     "split_gso %u->%u", o->split_gso, q->split_gso);
	QC_D(o->aqm != q->aqm, "aqm %u->%u", o->aqm, q->aqm);
	QC_D(o->ecn != q->ecn, "ecn %u->%u", o->ecn, q->ecn);
	QC_D(o->target != q->target, "target %uus->%uus", o->target,
	     q->target);
	QC_D(o->interval != q->interval, "interval %uus->%uus", o->interval,
	     q->interval);
	QC_D(o->memlimit != q->memlimit, "memlimit %u->%u", o->memlimit,
	     q->memlimit);
	QC_D(o->lend != q->lend, "lend %uus->%uus", o->lend, q->lend);
	QC_D(strcmp(o->policy, q->policy), "policy \"%.200s\"->\"%.200s\"",
	     o->policy, q->policy);
#undef QC_D
}

/* the undo log of an apply */
enum { QC_U_QDISC, QC_U_CLASS_ADD, QC_U_CLASS_CHG, QC_U_FILTER_ADD,
       QC_U_FILTER_DEL, QC_U_CLASS_DEL };

struct qc_undo {
	int		what;
	int		old;		/* index in old.cl, or a prio */
	uint32_t	classid;
};

static struct qc_undo *qc_ulog;
static int qc_nulog, qc_capulog;

static void qc_log(int what, int old, uint32_t classid)
{
	qc_ulog = qc_grow(qc_ulog, qc_nulog, &qc_capulog, sizeof(*qc_ulog));
	qc_ulog[qc_nulog].what = what;
	qc_ulog[qc_nulog].old = old;
	qc_ulog[qc_nulog].classid = classid;
	qc_nulog++;
}

/* Undo an update in place, newest step first: nothing is re-created that
 * was not deleted, so the packets queued in the qdisc and in the classes
 * that stay are kept.  Returns the failed steps; *lost gets the packets
 * that were queued in classes the apply deleted (dropped with them).
 */
static int qc_undo(const struct qc_state *old, uint32_t parent, long *lost)
{
	char why[256];
	int k, j, err, bad = 0;

	*lost = 0;
	for (k = qc_nulog - 1; k >= 0; k--) {
		const struct qc_undo *u = &qc_ulog[k];

		switch (u->what) {
		case QC_U_CLASS_DEL:
			*lost += old->cl[u->old].qs.qlen;
			err = qc_class_req(old->ifindex, RTM_NEWTCLASS,
					   NLM_F_CREATE | NLM_F_EXCL, parent,
					   &old->cl[u->old], why, sizeof(why));
			break;
		case QC_U_FILTER_DEL:
			err = 0;
			for (j = 0; j < old->nfl && !err; j++)
				if (old->fl[j].prio == (uint32_t)u->old)
					err = qc_filter_replay(&old->fl[j], why,
							       sizeof(why));
			break;
		case QC_U_FILTER_ADD:
			err = qc_del_prio(old->ifindex, parent, (uint32_t)u->old,
					  why, sizeof(why));
			break;
		case QC_U_CLASS_CHG:
			err = qc_class_req(old->ifindex, RTM_NEWTCLASS, 0, parent,
					   &old->cl[u->old], why, sizeof(why));
			break;
		case QC_U_CLASS_ADD: {
			struct qc_class c = { .classid = u->classid };

			/* A filter not ours may point at the class (or a
			 * module before qvisor_filters_of() counts a binding
			 * Linux 6.1's flower leaked, which never goes away):
			 * leaving the class (empty, no filter of ours) beats
			 * dropping every queued packet by re-creating the
			 * qdisc.
			 */
			err = qc_class_req(old->ifindex, RTM_DELTCLASS, 0,
					   parent, &c, why, sizeof(why));
			if (err == -EBUSY) {
				fprintf(stderr, "qvisorctl: class %x:%x stays: the kernel still counts a filter on it (\"%s\"; a filter that failed to be created can leave its binding); deleting the qdisc removes it\n",
					TC_H_MAJ(u->classid) >> 16,
					TC_H_MIN(u->classid), why);
				err = 0;
			}
			break;
		}
		default:
			/* an old configuration without a policy gets "" */
			err = qc_qdisc_req(old->ifindex, RTM_NEWQDISC, 0, &old->q,
					   why, sizeof(why));
			break;
		}
		if (err) {
			qc_step_fail("rollback step", err, why);
			bad++;
		}
	}
	return bad;
}

/* The devices of the system, for iface/alias matches: names and
 * indexes from if_nameindex(), aliases from sysfs (watch reads them from
 * its link cache instead)
 */
static void qc_read_links(void)
{
	struct if_nameindex *ni = if_nameindex(), *p;
	char path[64];
	FILE *f;
	int n = 0;

	free(qc_lk);
	qc_lk = NULL;
	qc_nlk = 0;
	if (!ni)
		return;
	for (p = ni; p->if_index; p++)
		n++;
	qc_lk = calloc((size_t)n + 1, sizeof(*qc_lk));
	if (!qc_lk)
		qc_die("out of memory");
	for (p = ni; p->if_index; p++) {
		struct qs_link *l = &qc_lk[qc_nlk];

		if (strlen(p->if_name) >= sizeof(l->name))
			continue;
		l->ifindex = (int)p->if_index;
		strcpy(l->name, p->if_name);
		snprintf(path, sizeof(path), "/sys/class/net/%s/ifalias",
			 p->if_name);
		f = fopen(path, "r");
		if (f) {
			if (fgets(l->alias, sizeof(l->alias), f))
				l->alias[strcspn(l->alias, "\n")] = '\0';
			fclose(f);
		}
		qc_nlk++;
	}
	if_freenameindex(ni);
}

/* one step of an apply: printed with -v or --dry-run, done unless dry */
static bool qc_show_step(bool dry)
{
	return dry || qc_verbose;
}

/* what a multi-device apply keeps of a device it applied, to roll it
 * back when a later device fails
 */
struct qc_done {
	struct qc_state	old;
	struct qc_undo	*ulog;
	int		nulog;
	bool		update;
	uint32_t	parent;
	char		dev[16];
};

/* an error before anything is changed: exit 1 as qc_die, except in a
 * multi-device apply, which rolls back the devices before this one
 */
static bool qc_multi;
#define qc_refuse(...)	do {						\
	fprintf(stderr, "qvisorctl: ");					\
	fprintf(stderr, __VA_ARGS__);					\
	fputc('\n', stderr);						\
	if (!qc_multi)							\
		exit(1);						\
	return 1;							\
} while (0)

/* Put a device back as it was before the apply that changed it (the
 * undo log in qc_ulog): in place for an update, else by deleting the
 * new qdisc.  Returns the steps that failed.
 */
static int qc_rollback(const struct qc_state *old, bool update,
		       uint32_t parent, const char *dev)
{
	long lost;
	int k;

	if (!update) {
		/* a new qdisc: deleting it is the rollback */
		fprintf(stderr, "qvisorctl: rolling back: deleting the new qvisor qdisc of %s (packets queued in it are dropped with it)\n",
			dev);
		return qc_restore(old);
	}
	fprintf(stderr, "qvisorctl: rolling back %s in place (%d steps)\n",
		dev, qc_nulog);
	k = qc_undo(old, parent, &lost);
	if (lost)
		fprintf(stderr, "qvisorctl: %ld packets queued in deleted classes were dropped\n",
			lost);
	if (k) {
		fprintf(stderr, "qvisorctl: in-place rollback failed (%d steps): re-creating the old configuration (queued packets are dropped)\n",
			k);
		k = qc_restore(old);
	}
	return k;
}

/* Apply sp (one device, sp->dev) with its own rollback: 0, 1 (nothing
 * changed, or rolled back), 2 (rollback incomplete).  With keep, a
 * success leaves there what qc_rollback() needs to undo it later.
 */
static int qc_apply(const struct qs_spec *sp, bool dry, struct qc_done *keep)
{
	static struct qc_state old, now;
	struct qc_qdisc nq;
	struct qc_class nc;
	struct qs_plan *plan;
	char why[256], what[200], diff[1024], props[QS_PROPS_LEN];
	uint32_t band, parent;
	int ifindex, k, m, i, err = 0, nfilt = 0, nforeign = 0;
	bool update;

	plan = calloc(1, sizeof(*plan));
	if (!plan)
		qc_die("out of memory");
	if (qs_plan(sp, plan, why, sizeof(why))) {
		free(plan);
		qc_refuse("%s:%d: %s", sp->file,
			  sp->policy_line ? sp->policy_line : 1, why);
	}
	qs_fmt_props(props, sizeof(props), plan->props);
	free(plan);
	if (!sp->dev[0])
		qc_refuse("%s: [link] has no 'dev'", sp->file);
	ifindex = (int)if_nametoindex(sp->dev);
	if (!ifindex)
		qc_refuse("%s: no device %s", sp->file, sp->dev);
	err = qc_read_state(&old, ifindex, true);
	if (err)
		qc_refuse("cannot read the configuration of %s: %s", sp->dev,
			  strerror(-err));
	update = old.q.found && !strcmp(old.q.kind, "qvisor");
	if (!update && !qc_default_root(&old.q))
		qc_refuse("%s has root qdisc %s %x:; qvisorctl replaces only qvisor or the default qdisc (delete it first)",
			  sp->dev, old.q.kind, TC_H_MAJ(old.q.handle) >> 16);
	if (update && TC_H_MAJ(old.q.handle) != sp->handle << 16)
		qc_refuse("%s has qvisor handle %x:, the spec says %x:", sp->dev,
			  TC_H_MAJ(old.q.handle) >> 16, sp->handle);
	parent = sp->handle << 16;
	band = QC_BAND_A;
	for (k = 0; k < old.nfl; k++) {
		if (!qc_owned(old.fl[k].prio)) {
			if (((struct tcmsg *)nlmsg_data(old.fl[k].h))->tcm_handle)
				nforeign++;
			continue;
		}
		if (old.fl[k].prio < QC_BAND_B)
			band = QC_BAND_B;
	}
	if (!qc_quiet)
		printf("%s %s: qvisor %x: with %d tenants (%s), guarantees %s\n",
		       dry ? "would apply to" : "applying to", sp->dev,
		       sp->handle, sp->ntenants,
		       update ? "update in place" : "create", props);
	if (nforeign && !qc_quiet)
		printf("  %s%d filter%s not owned by qvisorctl (priority outside %u..%u) left alone\n",
		       qc_devtag, nforeign, nforeign == 1 ? "" : "s", QC_BAND_A,
		       QC_BAND_B + QS_MAX_FILTERS - 1);
	fflush(stdout);
	qc_nulog = 0;

	/* 1. the qdisc: created, or changed in place (queued packets stay) */
	qc_spec_qdisc(sp, &nq);
	diff[0] = '\0';
	if (update)
		qc_qdisc_diff(diff, sizeof(diff), &old.q, &nq);
	snprintf(what, sizeof(what), "%s:%d: [link] qdisc %s", sp->file,
		 sp->policy_line ? sp->policy_line : 1,
		 update ? "change" : "add");
	if (!update || diff[0]) {
		if (qc_show_step(dry))
			printf("  %s%s qdisc qvisor %x:%s\n", qc_devtag,
			       update ? "~" : "+",
			       sp->handle, update ? diff : "");
		err = dry ? 0 : qc_qdisc_req(ifindex, RTM_NEWQDISC,
					     update ? 0 : NLM_F_CREATE | NLM_F_EXCL,
					     &nq, why, sizeof(why));
		if (err)
			goto fail;
		if (update)
			qc_log(QC_U_QDISC, 0, 0);
	}
	/* 2. classes: added, or changed in place when they differ */
	for (k = 0; k < sp->ntenants; k++) {
		int idx = -1;

		qc_spec_class(sp, &sp->t[k], &nc);
		for (m = 0; update && m < old.ncl; m++)
			if (old.cl[m].classid == nc.classid)
				idx = m;
		diff[0] = '\0';
		if (idx >= 0) {
			qc_class_diff(diff, sizeof(diff), &old.cl[idx], &nc);
			if (!diff[0])
				continue;
		}
		snprintf(what, sizeof(what), "%s:%d: tenant %s: class %x:%x %s",
			 sp->file, sp->t[k].line, sp->t[k].name, sp->handle,
			 sp->t[k].minor, idx >= 0 ? "change" : "add");
		if (qc_show_step(dry))
			printf("  %s%s class %x:%x (%s)%s\n", qc_devtag,
			       idx >= 0 ? "~" : "+",
			       sp->handle, sp->t[k].minor, sp->t[k].name,
			       idx >= 0 ? diff : "");
		err = dry ? 0 : qc_class_req(ifindex, RTM_NEWTCLASS,
					     idx >= 0 ? 0 : NLM_F_CREATE | NLM_F_EXCL,
					     parent, &nc, why, sizeof(why));
		if (err)
			goto fail;
		if (idx >= 0)
			qc_log(QC_U_CLASS_CHG, idx, nc.classid);
		else
			qc_log(QC_U_CLASS_ADD, -1, nc.classid);
	}
	/* 3. the new filters, in spec order, one priority each in the free
	 * band; the old band still classifies meanwhile
	 */
	for (k = 0; k < sp->ntenants; k++) {
		for (m = 0; m < sp->t[k].nmatch; m++) {
		    /* an iface/alias match: one indev filter per device */
		    int li = -1;

		    for (;;) {
			struct qs_match one = sp->t[k].match[m];
			const struct qs_match *mt = &one;

			if (qs_match_dynamic(mt)) {
				while (++li < qc_nlk &&
				       !qs_link_matches(mt, &qc_lk[li]))
					;
				if (li >= qc_nlk)
					break;
				strcpy(one.indev, qc_lk[li].name);
			}
			for (i = 0; i < qs_match_filters(mt); i++) {
				uint16_t proto = qs_match_proto(mt, i);

				if (nfilt == QS_MAX_FILTERS) {
					err = -ENOSPC;
					snprintf(why, sizeof(why),
						 "more than %d filters",
						 QS_MAX_FILTERS);
					goto fail;
				}
				snprintf(what, sizeof(what),
					 "%s:%d: tenant %s: filter (match line%s%s)",
					 sp->file, mt->line, sp->t[k].name,
					 qs_match_dynamic(mt) ? ", device " : "",
					 qs_match_dynamic(mt) ? mt->indev : "");
				if (!dry && qc_indev_gone(mt, why, sizeof(why))) {
					if (qs_match_dynamic(mt))
						break;	/* watch follows */
					err = -ENODEV;
					goto fail;
				}
				if (qc_show_step(dry))
					printf("  %s+ filter prio %u protocol %s %s%s%s -> %x:%x\n",
					       qc_devtag, band + nfilt,
					       proto == ETH_P_IP ? "ip" :
					       proto == ETH_P_IPV6 ? "ipv6" : "all",
					       mt->has_mark ? "fw" : "flower",
					       mt->indev[0] ? " indev " : "",
					       mt->indev,
					       sp->handle, sp->t[k].minor);
				err = dry ? 0 :
				      qc_filter_add(ifindex, parent, band + nfilt,
						    parent | sp->t[k].minor, mt,
						    proto, why, sizeof(why));
				if (err)
					goto fail;
				qc_log(QC_U_FILTER_ADD, (int)(band + nfilt), 0);
				nfilt++;
			}
			if (!qs_match_dynamic(mt))
				break;
		    }
		}
	}
	/* 4. the old band (ours only), then classes the spec no longer has */
	for (k = 0; update && k < old.nfl; k++) {
		if (!qc_owned(old.fl[k].prio) ||
		    (k && old.fl[k].prio == old.fl[k - 1].prio))
			continue;
		snprintf(what, sizeof(what), "delete old filters at prio %u",
			 old.fl[k].prio);
		if (qc_show_step(dry))
			printf("  %s- filter prio %u\n", qc_devtag,
			       old.fl[k].prio);
		err = dry ? 0 : qc_del_prio(ifindex, parent, old.fl[k].prio,
					     why, sizeof(why));
		if (err && err != -ENOENT)
			goto fail;
		qc_log(QC_U_FILTER_DEL, (int)old.fl[k].prio, 0);
	}
	for (m = 0; update && m < old.ncl; m++) {
		for (k = 0; k < sp->ntenants; k++)
			if (old.cl[m].classid == (parent | sp->t[k].minor))
				break;
		if (k < sp->ntenants)
			continue;
		snprintf(what, sizeof(what), "delete class %x:%x (not in %s)",
			 sp->handle, TC_H_MIN(old.cl[m].classid), sp->file);
		if (qc_show_step(dry))
			printf("  %s- class %x:%x (%u packets queued would be dropped)\n",
			       qc_devtag, sp->handle, TC_H_MIN(old.cl[m].classid),
			       old.cl[m].qs.qlen);
		err = dry ? 0 : qc_class_req(ifindex, RTM_DELTCLASS, 0, parent,
					     &old.cl[m], why, sizeof(why));
		if (err)
			goto fail;
		qc_log(QC_U_CLASS_DEL, m, old.cl[m].classid);
	}
	if (dry)
		printf("dry run: nothing changed (%d steps)\n", qc_nulog);
	else if (!qc_quiet)
		printf("applied: qdisc, %d classes, %d filters in band %u..%u\n",
		       sp->ntenants, nfilt, band, band + QS_MAX_FILTERS - 1);
	qc_last_nfilt = nfilt;
	if (keep && !dry) {
		keep->old = old;
		memset(&old, 0, sizeof(old));
		keep->ulog = malloc(sizeof(*qc_ulog) * (size_t)(qc_nulog + 1));
		if (!keep->ulog)
			qc_die("out of memory");
		if (qc_nulog)
			memcpy(keep->ulog, qc_ulog,
			       sizeof(*qc_ulog) * (size_t)qc_nulog);
		keep->nulog = qc_nulog;
		keep->update = update;
		keep->parent = parent;
		snprintf(keep->dev, sizeof(keep->dev), "%.15s", sp->dev);
	}
	qc_state_free(&old);
	return 0;
fail:
	qc_step_fail(what, err, why);
	k = qc_rollback(&old, update, parent, sp->dev);
	if (k) {
		fprintf(stderr, "qvisorctl: rollback incomplete (%d steps failed)\n", k);
		return 2;
	}
	/* say what is there now */
	qc_read_state(&now, ifindex, true);
	for (k = 0, m = 0; k < now.nfl; k++)
		if (((struct tcmsg *)nlmsg_data(now.fl[k].h))->tcm_handle)
			m++;
	if (now.q.found && !strcmp(now.q.kind, "qvisor"))
		fprintf(stderr, "qvisorctl: rolled back: qvisor %x: with %d classes, %d filters, %u packets queued\n",
			TC_H_MAJ(now.q.handle) >> 16, now.ncl, m, now.q.qs.qlen);
	else
		fprintf(stderr, "qvisorctl: rolled back: %s has no qvisor qdisc (as before)\n",
			sp->dev);
	qc_state_free(&now);
	qc_state_free(&old);
	return 1;
}

/* Roll back the devices d[0..n) a multi-device apply changed, newest
 * first; returns the steps that failed
 */
static int qc_rollback_done(struct qc_done *d, int n)
{
	struct qc_undo *saved = qc_ulog;
	int saved_n = qc_nulog, bad = 0, i;

	for (i = n - 1; i >= 0; i--) {
		qc_ulog = d[i].ulog;
		qc_nulog = d[i].nulog;
		bad += qc_rollback(&d[i].old, d[i].update, d[i].parent,
				   d[i].dev);
	}
	qc_ulog = saved;
	qc_nulog = saved_n;
	return bad;
}

/* apply: a spec of one device as always; a multi-device spec (several
 * names, globs, [link NAME] sections) device by device in spec order,
 * all or nothing: when one fails (and is rolled back), the devices
 * applied before it are rolled back too.  Exit 0, 1 (nothing left
 * changed), 2 (a rollback incomplete).
 */
static int qc_apply_all(struct qs_spec *sp, bool dry)
{
	struct qs_spec *dsp;
	struct qs_target *tg;
	struct qc_done *done;
	char tag[24], lab[QS_NAME + 8];
	int n, i, r = 0, bad;

	if (!qs_multi_dev(sp))
		return qc_apply(sp, dry, NULL);
	tg = calloc(QS_MAX_TARGETS, sizeof(*tg));
	dsp = calloc(1, sizeof(*dsp));
	if (!tg || !dsp)
		qc_die("out of memory");
	n = qs_targets(sp, qc_lk, qc_nlk, true, stderr, tg, QS_MAX_TARGETS);
	if (n < 0) {
		fprintf(stderr, "qvisorctl: %s\n", sp->err);
		return 1;
	}
	if (!n) {
		fprintf(stderr, "qvisorctl: %s: no device to apply to (no dev glob matches a device)\n",
			sp->file);
		return 1;
	}
	done = calloc((size_t)n, sizeof(*done));
	if (!done)
		qc_die("out of memory");
	qc_multi = true;
	if (!qc_quiet)
		printf("%s %d device%s of %s\n", dry ? "would apply to" : "applying to",
		       n, n == 1 ? "" : "s", sp->file);
	for (i = 0; i < n; i++) {
		if (qs_section(sp, tg[i].sec, dsp)) {
			fprintf(stderr, "qvisorctl: %s\n", dsp->err);
			r = 1;
			break;
		}
		strcpy(dsp->dev, tg[i].dev);
		snprintf(tag, sizeof(tag), "%s: ", tg[i].dev);
		qc_devtag = tag;
		if (!qc_quiet)
			printf("%s (%s)\n", tg[i].dev,
			       qs_section_label(sp, tg[i].sec, lab, sizeof(lab)));
		r = qc_apply(dsp, dry, &done[i]);
		if (r)
			break;
	}
	qc_devtag = "";
	if (!r) {
		if (!qc_quiet && !dry)
			printf("applied to %d device%s\n", n, n == 1 ? "" : "s");
	} else if (i > 0 && !dry) {
		fprintf(stderr, "qvisorctl: %s failed: rolling back the %d device%s applied before it\n",
			tg[i].dev, i, i == 1 ? "" : "s");
		bad = qc_rollback_done(done, i);
		if (bad) {
			fprintf(stderr, "qvisorctl: rollback incomplete (%d steps failed)\n",
				bad);
			r = 2;
		} else {
			fprintf(stderr, "qvisorctl: rolled back: the %d device%s before %s are as they were\n",
				i, i == 1 ? "" : "s", tg[i].dev);
		}
	}
	for (i = 0; i < n; i++) {
		qc_state_free(&done[i].old);
		free(done[i].old.cl);
		free(done[i].old.fl);
		free(done[i].ulog);
	}
	free(done);
	free(dsp);
	free(tg);
	qc_multi = false;
	return r;
}

/* --- show and top ------------------------------------------------------ */

static double qc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

enum { QC_TABLE, QC_JSON, QC_PROM };

static void qc_print(int fmt, const char *dev, const struct qc_state *st,
		     const struct qc_state *prev, double dt)
{
	if (fmt == QC_JSON)
		qc_print_json(stdout, dev, st, prev, dt);
	else if (fmt == QC_PROM)
		qc_print_prom(stdout, dev, st);
	else
		qc_print_table(stdout, dev, st, prev, dt);
}

static int qc_show(const char *dev, int fmt, double delay, long count,
		   bool top)
{
	static struct qc_state st[2];
	int ifindex = (int)if_nametoindex(dev), cur = 0, err;
	double t0, t1;
	long i;

	if (!ifindex)
		qc_die("no device %s", dev);
	err = qc_read_state(&st[0], ifindex, false);
	t0 = qc_now();
	if (err)
		qc_die("cannot read %s: %s", dev, strerror(-err));
	if (!st[0].q.found || strcmp(st[0].q.kind, "qvisor"))
		qc_die("%s has no qvisor root qdisc", dev);
	if (!top && delay <= 0) {
		qc_print(fmt, dev, &st[0], NULL, 0);
		return 0;
	}
	for (i = 0; count <= 0 || i < count; i++) {
		struct timespec ts = {
			.tv_sec = (time_t)delay,
			.tv_nsec = (long)((delay - (double)(time_t)delay) * 1e9),
		};

		nanosleep(&ts, NULL);
		err = qc_read_state(&st[!cur], ifindex, false);
		t1 = qc_now();
		if (err || !st[!cur].q.found ||
		    strcmp(st[!cur].q.kind, "qvisor"))
			qc_die("%s: qvisor qdisc went away", dev);
		/* a terminal gets a fresh screen; a pipe or file plain
		 * screens one after the other
		 */
		if (top && isatty(STDOUT_FILENO))
			printf("\033[H\033[2J");
		else if (top && i)
			printf("\n");
		qc_print(fmt, dev, &st[!cur], &st[cur], t1 - t0);
		if (top)
			printf("(every %gs, %s)\n", delay,
			       count > 0 ? "-n count" : "ctrl-c to quit");
		fflush(stdout);
		cur = !cur;
		t0 = t1;
		if (!top)
			break;
	}
	return 0;
}

/* --- watch ------------------------------------------------------------- */

/*
 * qvisorctl watch SPEC: apply, then follow rtnetlink link events through
 * libnl's cache manager.  When the devices the spec's iface/alias
 * matches and template resolve to change (a tap created, deleted, or
 * re-created with a new ifindex), or the qdisc or our filters are gone,
 * apply again: the new filters go into the free band before the old band
 * is deleted, so nothing is left behind.  SIGHUP re-reads the spec,
 * SIGTERM and SIGINT exit (the configuration stays).
 */
static volatile sig_atomic_t qc_sig_hup, qc_sig_term;

static void qc_on_signal(int sig)
{
	if (sig == SIGHUP)
		qc_sig_hup = 1;
	else
		qc_sig_term = 1;
}

/* systemd's readiness protocol (sd_notify(3)): one datagram to the unix
 * socket named by $NOTIFY_SOCKET ('@' = abstract); nothing when unset
 */
static void qc_notify(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') ||
	    strlen(path) >= sizeof(sa.sun_path))
		return;
	strcpy(sa.sun_path, path);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&sa, len) < 0)
		fprintf(stderr, "qvisorctl: sd_notify: %s\n", strerror(errno));
	close(fd);
}

static void qc_link_change(struct nl_cache *c, struct nl_object *o,
			   int action, void *arg)
{
	(void)c;
	(void)o;
	(void)action;
	(*(int *)arg)++;
}

/* one line per action, with a timestamp */
static void qc_wlog(const char *fmt, ...)
{
	struct timespec ts;
	struct tm tm;
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	printf("%02d:%02d:%02d.%03ld watch: ", tm.tm_hour, tm.tm_min,
	       tm.tm_sec, ts.tv_nsec / 1000000);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static int qc_link_cmp(const void *a, const void *b)
{
	return ((const struct qs_link *)a)->ifindex -
	       ((const struct qs_link *)b)->ifindex;
}

/* the devices of the link cache, by ifindex (the cache's own order moves
 * when an object is updated)
 */
static void qc_cache_links(struct nl_cache *cache)
{
	struct nl_object *o;
	int n = nl_cache_nitems(cache);

	free(qc_lk);
	qc_lk = calloc((size_t)n + 1, sizeof(*qc_lk));
	if (!qc_lk)
		qc_die("out of memory");
	qc_nlk = 0;
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_link *l = (struct rtnl_link *)o;
		const char *name = rtnl_link_get_name(l);
		const char *alias = rtnl_link_get_ifalias(l);
		struct qs_link *q = &qc_lk[qc_nlk];

		/* bridge ports also come as AF_BRIDGE objects: one each */
		if (!name || strlen(name) >= sizeof(q->name) || qc_nlk >= n ||
		    rtnl_link_get_family(l) != AF_UNSPEC)
			continue;
		q->ifindex = rtnl_link_get_ifindex(l);
		strcpy(q->name, name);
		if (alias)
			snprintf(q->alias, sizeof(q->alias), "%s", alias);
		qc_nlk++;
	}
	qsort(qc_lk, (size_t)qc_nlk, sizeof(*qc_lk), qc_link_cmp);
}

/* which tenant each device's packets go to: "NAME:IFINDEX=MINOR ..." in
 * device order, the first tenant in spec order whose match takes it
 */
static void qc_bindings(const struct qs_spec *sp, char *buf, size_t n)
{
	size_t used = 0;
	int i, k, m;

	buf[0] = '\0';
	for (i = 0; i < qc_nlk && used < n; i++) {
		for (k = 0; k < sp->ntenants; k++) {
			for (m = 0; m < sp->t[k].nmatch; m++) {
				const struct qs_match *mt = &sp->t[k].match[m];

				if (qs_link_matches(mt, &qc_lk[i]) ||
				    !strcmp(mt->indev, qc_lk[i].name))
					break;
			}
			if (m < sp->t[k].nmatch)
				break;
		}
		if (k == sp->ntenants)
			continue;
		used += (size_t)snprintf(buf + used, n - used, "%s:%d=%x ",
					 qc_lk[i].name, qc_lk[i].ifindex,
					 sp->t[k].minor);
	}
}

/* is the binding token tok ("NAME:IFINDEX=MINOR ") in the string b? */
static bool qc_has_tok(const char *b, const char *tok)
{
	const char *p;

	for (p = strstr(b, tok); p; p = strstr(p + 1, tok))
		if (p == b || p[-1] == ' ')
			return true;
	return false;
}

/* log, one line each, the bindings of a that b does not have */
static void qc_log_diff(const struct qs_spec *sp, const char *a,
			const char *b, bool added)
{
	char tok[64], name[32];
	const char *p, *end;
	unsigned int minor;
	int idx, k;

	for (p = a; *p; p = end + 1) {
		end = strchr(p, ' ');
		if (!end || (size_t)(end - p) + 2 > sizeof(tok))
			break;
		memcpy(tok, p, (size_t)(end - p) + 1);
		tok[end - p + 1] = '\0';
		if (qc_has_tok(b, tok) ||
		    sscanf(tok, "%31[^:]:%d=%x", name, &idx, &minor) != 3)
			continue;
		for (k = 0; k < sp->ntenants; k++)
			if (sp->t[k].minor == minor)
				break;
		if (added)
			qc_wlog("device %s (ifindex %d) -> tenant %s class %x:%x%s",
				name, idx,
				k < sp->ntenants ? sp->t[k].name : "?",
				sp->handle, minor,
				k >= sp->ndeclared ? " (template)" : "");
		else
			qc_wlog("device %s (ifindex %d) gone: its filter for class %x:%x goes",
				name, idx, sp->handle, minor);
	}
}

/* [guard]: per class (by minor), the counters of the last sample and how
 * long each rule's metric has been over (hot) or the fired rule's under
 * (cool) its threshold
 */
struct qc_guard {
	bool		have;
	uint64_t	arrived, best, clamped;
	uint32_t	hot[QS_MAX_GUARD];
	uint32_t	cool;
	int		fired;		/* rule index + 1, 0 = none */
};

static struct qc_guard *qc_gs;	/* 65536, by class minor */

/* one rule's metric for a class over the last second, percent */
static uint32_t qc_guard_metric(const struct qs_guard_rule *r,
				const struct qc_class *c, uint64_t arrived,
				uint64_t best, uint64_t clamped)
{
	uint64_t n = r->metric == QS_GM_BEST ? best : clamped;

	if (r->metric == QS_GM_SHIFT)
		return c->rauto ? c->xs.shift_ppm / 10000 : 0;
	return arrived ? (uint32_t)(n * 100 / arrived) : 0;
}

static const char *qc_tenant_name(const struct qs_spec *sp, uint32_t minor)
{
	int k;

	for (k = 0; k < sp->ntenants; k++)
		if (sp->t[k].minor == minor)
			return sp->t[k].name;
	return "?";
}

/* Judge one class's last second: true when a rule fired or was lifted */
static bool qc_guard_class(const struct qs_spec *sp, const struct qc_class *c)
{
	const struct qs_guard *gd = &sp->guard;
	struct qc_guard *g = &qc_gs[TC_H_MIN(c->classid)];
	uint64_t arrived = c->bs.packets + c->qs.drops + c->qs.qlen;
	uint64_t da = arrived - g->arrived, db = c->xs.best_pkts - g->best;
	uint64_t dc = c->xs.clamped_pkts - g->clamped;
	/* no sample before, or the class re-created (counters from 0) */
	bool was = g->have && arrived >= g->arrived;
	bool busy = da >= gd->min_pkts;
	uint32_t v, minor = TC_H_MIN(c->classid);
	int k;

	g->have = true;
	g->arrived = arrived;
	g->best = c->xs.best_pkts;
	g->clamped = c->xs.clamped_pkts;
	if (!was)
		return false;
	for (k = 0; k < gd->nrules; k++) {
		v = qc_guard_metric(&gd->r[k], c, da, db, dc);
		g->hot[k] = busy && v > gd->r[k].pct ? g->hot[k] + 1 : 0;
		if (g->fired || g->hot[k] < gd->r[k].for_s)
			continue;
		g->fired = k + 1;
		g->cool = 0;
		qc_wlog("guard: tenant %s (%x:%x): %s %u%% of %llu packets for %u s (line %d: %s > %u%%): %s",
			qc_tenant_name(sp, minor), sp->handle, minor,
			qs_guard_metric(gd->r[k].metric), v,
			(unsigned long long)da, g->hot[k], gd->r[k].line,
			qs_guard_metric(gd->r[k].metric), gd->r[k].pct,
			gd->r[k].action == QS_GA_CEIL ? "capped" : "weight lowered");
		return true;
	}
	if (!g->fired)
		return false;
	k = g->fired - 1;
	v = qc_guard_metric(&gd->r[k], c, da, db, dc);
	g->cool = busy && v > gd->r[k].pct ? 0 : g->cool + 1;
	if (g->cool < gd->restore_s)
		return false;
	g->fired = 0;
	memset(g->hot, 0, sizeof(g->hot));
	qc_wlog("guard: tenant %s (%x:%x): %s at %u%% for %u s: the rule of line %d lifted",
		qc_tenant_name(sp, minor), sp->handle, minor,
		qs_guard_metric(gd->r[k].metric), v, g->cool, gd->r[k].line);
	return true;
}

/* every second: read the classes' counters; true when the spec's
 * overrides changed (apply again)
 */
static bool qc_guard_sample(const struct qs_spec *sp, int ifindex)
{
	static struct qc_state st;
	bool changed = false;
	int m;

	if (qc_read_state(&st, ifindex, false) || !st.q.found)
		return false;
	for (m = 0; m < st.ncl; m++)
		if (st.cl[m].has_xs && qc_guard_class(sp, &st.cl[m]))
			changed = true;
	return changed;
}

/* the fired rules' actions on an expanded spec, before it is applied */
static void qc_guard_override(struct qs_spec *sp)
{
	const struct qs_guard_rule *r;
	struct qs_tenant *t;
	int k;

	for (k = 0; qc_gs && k < sp->ntenants; k++) {
		t = &sp->t[k];
		if (!qc_gs[t->minor].fired)
			continue;
		r = &sp->guard.r[qc_gs[t->minor].fired - 1];
		if (r->action == QS_GA_WEIGHT)
			t->weight = r->weight;
		else if (!t->ceil || r->ceil < t->ceil)
			t->ceil = r->ceil;
	}
}

static int qc_watch(const char *path)
{
	static struct qs_spec base, cur, next;
	static char bnow[65536], bold[65536];
	struct nl_cache_mngr *mngr;
	struct nl_cache *links;
	struct nl_sock *dump;
	struct qc_state st = { 0 };
	struct sigaction sa = { 0 };
	bool reload = true, applied = false, waiting = false;
	bool need_ready = true, ever = false;
	int events = 0, seen = -1, fail_seen = 0, err, k, have, ifindex;
	double t0, failed_at = 0, sampled = 0;
	bool guard = false;

	if (qs_parse_file(&base, path)) {
		fprintf(stderr, "qvisorctl: %s\n", base.err);
		return 1;
	}
	k = qs_multi_dev(&base);
	if (k) {
		fprintf(stderr, "qvisorctl: watch handles one device per spec: %s:%d: %s (run one watch per device, or qvisorctl apply)\n",
			path, k, base.nsec ? "a [link NAME] section" :
			"dev names several devices or a glob");
		return 1;
	}
	sa.sa_handler = qc_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	qc_open();
	qc_quiet = !qc_verbose;
	err = nl_cache_mngr_alloc(NULL, NETLINK_ROUTE, NL_AUTO_PROVIDE, &mngr);
	if (err < 0)
		qc_die("watch: cannot listen to link events: %s",
		       nl_geterror(err));
	err = nl_cache_mngr_add(mngr, "route/link", qc_link_change, &events,
				&links);
	if (err < 0)
		qc_die("watch: cannot listen to link events: %s",
		       nl_geterror(err));
	/* the devices are dumped again before each apply: the cache only
	 * tells that something changed (events lost to a socket overrun
	 * during fast tap churn would leave it stale for good)
	 */
	dump = nl_socket_alloc();
	if (!dump || nl_connect(dump, NETLINK_ROUTE) < 0)
		qc_die("watch: cannot open a netlink socket for link dumps");
	qc_wlog("%s: dev %s, %d tenants%s%s; pid %d", path, base.dev,
		base.ndeclared, base.tmpl.set ? ", template " : "",
		base.tmpl.set ? base.tmpl.t.name : "", (int)getpid());
	while (!qc_sig_term) {
		const char *why = NULL;

		if (qc_sig_hup) {
			qc_sig_hup = 0;
			qc_notify("RELOADING=1");
			need_ready = true;
			if (qs_parse_file(&next, path) || qs_multi_dev(&next)) {
				if (!next.err[0])
					snprintf(next.err, sizeof(next.err),
						 "%s:%d: watch handles one device per spec",
						 path, qs_multi_dev(&next));
				qc_wlog("SIGHUP: %s: kept the running spec", next.err);
				qc_notify("READY=1\nSTATUS=reload refused: bad spec, the running one kept");
				need_ready = false;
			} else {
				qs_spec_copy(&base, &next);
				qc_wlog("SIGHUP: re-read %s", path);
				reload = true;
			}
		}
		ifindex = (int)if_nametoindex(base.dev);
		if (!ifindex) {
			if (!waiting)
				qc_wlog("no device %s: waiting for it", base.dev);
			waiting = true;
			applied = false;
			goto wait;
		}
		waiting = false;
		if (base.guard.nrules && applied && qc_now() - sampled >= 1) {
			if (!qc_gs)
				qc_gs = calloc(65536, sizeof(*qc_gs));
			if (!qc_gs)
				qc_die("out of memory");
			sampled = qc_now();
			guard = qc_guard_sample(&cur, ifindex) || guard;
		}
		if (failed_at && events == fail_seen && !reload && !guard &&
		    qc_now() - failed_at < 5)
			goto wait;
		if (events != seen || reload || !applied || guard) {
			seen = events;
			err = nl_cache_refill(dump, links);
			if (err < 0) {
				qc_wlog("cannot read the devices: %s",
					nl_geterror(err));
				goto wait;
			}
			qc_cache_links(links);
			qs_spec_copy(&next, &base);
			k = qs_expand(&next, qc_lk, qc_nlk, applied ? &cur : NULL);
			if (k < 0) {
				qc_wlog("%s", next.err);
				goto wait;
			}
			qc_guard_override(&next);
			if (k)
				qc_wlog("template %s full (classes %x-%x): %d device%s left to the default class",
					next.tmpl.t.name, next.tmpl.lo,
					next.tmpl.hi, k, k == 1 ? "" : "s");
			qc_bindings(&next, bnow, sizeof(bnow));
			if (reload)
				why = "spec loaded";
			else if (!applied)
				why = "first apply";
			else if (strcmp(bnow, bold))
				why = "devices changed";
			else if (guard)
				why = "guard";
			guard = false;
		}
		if (!why) {
			/* the qdisc deleted or replaced, or our filters gone */
			err = qc_read_state(&st, ifindex, true);
			for (k = 0, have = 0; !err && k < st.nfl; k++)
				if (qc_owned(st.fl[k].prio) &&
				    ((struct tcmsg *)nlmsg_data(st.fl[k].h))->tcm_handle)
					have++;
			if (!err && (!st.q.found || strcmp(st.q.kind, "qvisor")))
				why = "qdisc gone";
			else if (!err && have != qc_last_nfilt)
				why = "filters changed by hand";
			if (why) {
				qs_spec_copy(&next, &cur);
			}
		}
		if (why) {
			t0 = qc_now();
			if (applied && strcmp(bnow, bold)) {
				qc_log_diff(&cur, bold, bnow, false);
				qc_log_diff(&next, bnow, bold, true);
			}
			if (qc_apply(&next, false, NULL)) {
				/* again at the next link event, or in 5 s */
				qc_wlog("apply failed (%s): again at the next device change or in 5 s",
					why);
				applied = false;
				reload = false;
				failed_at = qc_now();
				if (need_ready && ever) {
					/* a reload that failed: the unit
					 * is still running, with rollback
					 */
					qc_notify("READY=1\nSTATUS=reload: apply failed, retrying");
					need_ready = false;
				}
				fail_seen = events;
				goto wait;
			}
			failed_at = 0;
			qc_wlog("applied (%s): %d tenants, %d filters in %.0f ms",
				why, next.ntenants, qc_last_nfilt,
				(qc_now() - t0) * 1e3);
			qs_spec_copy(&cur, &next);
			memcpy(bold, bnow, sizeof(bold));
			applied = true;
			if (need_ready)
				qc_notify("READY=1\nSTATUS=applied, watching link events");
			need_ready = false;
			ever = true;
			reload = false;
		}
wait:
		/* link events wake us at once; the qdisc is checked every
		 * 250 ms
		 */
		err = nl_cache_mngr_poll(mngr, 250);
		if (err < 0 && err != -NLE_INTR) {
			/* lost events (ENOBUFS): count it as a change */
			events++;
			qc_wlog("link events lost (%s): the devices are read again",
				nl_geterror(err));
		}
	}
	qc_wlog("exiting (the configuration stays in place)");
	qc_state_free(&st);
	nl_cache_mngr_free(mngr);
	nl_socket_free(dump);
	return 0;
}

/* --- main -------------------------------------------------------------- */

static void qc_usage(FILE *f)
{
	fprintf(f,
		"usage: qvisorctl plan [--map] SPEC\n"
		"       qvisorctl check SPEC\n"
		"       qvisorctl apply [-v] [--dry-run] SPEC\n"
		"       qvisorctl plan --tc SPEC     (a tc -batch file)\n"
		"       qvisorctl show [--json | --prom] [-d SECS] DEV\n"
		"       qvisorctl top [-d SECS] [-n COUNT] DEV\n"
		"       qvisorctl watch [-v] SPEC  (apply, then follow devices)\n"
		"See qvisorctl(8).\n");
}

int main(int argc, char **argv)
{
	static struct qs_spec sp;
	static struct qs_plan plan;
	const char *cmd, *arg = NULL;
	bool map = false, dry = false, tcb = false;
	int fmt = QC_TABLE;
	double delay = -1;
	long count = 0;
	char err[256];
	int i, nwarn;

	if (argc < 2) {
		qc_usage(stderr);
		return 2;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		qc_usage(stdout);
		return 0;
	}
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j")) {
			fmt = QC_JSON;
		} else if (!strcmp(argv[i], "--prom")) {
			fmt = QC_PROM;
		} else if (!strcmp(argv[i], "--tc")) {
			tcb = true;
		} else if (!strcmp(argv[i], "--map")) {
			map = true;
		} else if (!strcmp(argv[i], "--dry-run")) {
			dry = true;
		} else if (!strcmp(argv[i], "-v")) {
			qc_verbose = 1;
		} else if (!strcmp(argv[i], "-d") && i + 1 < argc) {
			char *end;

			delay = strtod(argv[++i], &end);
			if (*end || delay < 0 || delay > 3600)
				qc_die("-d: expected seconds, 0..3600");
		} else if (!strcmp(argv[i], "-n") && i + 1 < argc) {
			char *end;

			count = strtol(argv[++i], &end, 10);
			if (*end || count < 1)
				qc_die("-n: expected a count of at least 1");
		} else if (argv[i][0] == '-' && argv[i][1]) {
			qc_usage(stderr);
			return 2;
		} else if (!arg) {
			arg = argv[i];
		} else {
			qc_usage(stderr);
			return 2;
		}
	}
	if (!arg) {
		qc_usage(stderr);
		return 2;
	}
	if (!strcmp(cmd, "watch"))
		return qc_watch(arg);
	if (!strcmp(cmd, "plan") || !strcmp(cmd, "check") ||
	    !strcmp(cmd, "apply")) {
		if (qs_parse_file(&sp, arg)) {
			fprintf(stderr, "qvisorctl: %s\n", sp.err);
			return 1;
		}
		if (!strcmp(cmd, "apply")) {
			qc_open();
			qc_read_links();
			if (qs_expand(&sp, qc_lk, qc_nlk, NULL) < 0) {
				fprintf(stderr, "qvisorctl: %s\n", sp.err);
				return 1;
			}
			return qc_apply_all(&sp, dry);
		}
		if (qs_multi_dev(&sp) && tcb) {
			qc_read_links();
			return qs_plan_tc_all(stdout, stderr, &sp, qc_lk, qc_nlk) ? 1 : 0;
		}
		if (qs_multi_dev(&sp))
			return qs_plan_sections(stdout, stderr, &sp,
						!strcmp(cmd, "check"), map) ? 1 : 0;
		if (qs_plan(&sp, &plan, err, sizeof(err))) {
			fprintf(stderr, "qvisorctl: %s: %s\n", arg, err);
			return 1;
		}
		nwarn = qs_warnings(stderr, &sp, &plan);
		if (!strcmp(cmd, "plan") && tcb)
			qs_plan_tc(stdout, &sp);
		else if (!strcmp(cmd, "plan"))
			qs_plan_print(stdout, &sp, &plan, map);
		else
			printf("%s: ok, %d tenants, %u joint ranks, %d warning%s\n",
			       arg, sp.ntenants, plan.s.width, nwarn,
			       nwarn == 1 ? "" : "s");
		return 0;
	}
	if (!strcmp(cmd, "show") || !strcmp(cmd, "top")) {
		bool top = !strcmp(cmd, "top");

		if (top && fmt != QC_TABLE)
			qc_die("top has no --json or --prom (use show)");
		if (delay < 0)
			delay = top ? 1 : 1;
		qc_open();
		return qc_show(arg, fmt, delay, top ? count : 1, top);
	}
	qc_usage(stderr);
	return 2;
}
