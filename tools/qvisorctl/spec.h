/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * qvisorctl: the tenant spec (an INI-like file, see qvisorctl(8)), its
 * parser, and the plan: the same synthesis the kernel runs, from the
 * portable core include/qvisor/{policy,synth}.h.
 *
 * spec.c has no netlink and no kernel dependency, so the host tests
 * (selftests/host/test_spec.c) compile it directly.
 */
#ifndef _QVISORCTL_SPEC_H
#define _QVISORCTL_SPEC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <netinet/in.h>
#include <qvisor/policy.h>
#include <qvisor/synth.h>
#include <qvisor/qmap.h>
#include <qvisor/rank.h>
#include <linux/pkt_sched_qvisor.h>

#define QS_MAX_TENANTS	QVISOR_MAX_TENANTS	/* the kernel's 4096 */
#define QS_MAX_MATCH	8	/* match lines per tenant */
/* apply gives every filter a priority of its own in a band of
 * QS_MAX_FILTERS (qvisorctl(8), FILTERS)
 */
#define QS_MAX_FILTERS	8192
#define QS_BAND_A	0x8000
#define QS_BAND_B	(QS_BAND_A + QS_MAX_FILTERS)
#define QS_NAME		32
#define QS_ERR		256
#define QS_ALIAS	64
/* dev = NAME|GLOB ...: a [link] section's devices */
#define QS_DEVLIST	512
#define QS_MAX_LINKS	16	/* named [link NAME] sections */
#define QS_MAX_TARGETS	4096	/* devices one apply configures */

/* One "match = ..." line: a flower filter, or a fw filter for "mark" */
struct qs_match {
	int	line;
	bool	has_src;
	int	family;		/* AF_INET or AF_INET6 when has_src */
	uint8_t	src[16];
	int	plen;
	char	indev[16];	/* "" = any */
	/* survive a tap being re-created: resolved to indev filters, one
	 * per matching link, at each apply (and by watch on link events)
	 */
	char	iface[16];	/* name or fnmatch glob, "" = none */
	char	alias[QS_ALIAS];	/* glob on the link's ifalias */
	bool	has_mac;	/* flower src_mac (bridged guest traffic) */
	uint8_t	mac[6];
	int	dscp;		/* -1 = any */
	bool	has_mark;
	uint32_t mark;
	uint32_t mark_mask;	/* 0 = exact (fw default 0xffffffff) */
};

struct qs_tenant {
	char		name[QS_NAME];
	int		line;		/* of its [tenant ...] header */
	uint32_t	minor;		/* class 1:minor */
	int		rank;		/* QVISOR_RANK_* */
	uint32_t	mark_mask;	/* rank mark MASK */
	bool		range_set;
	uint32_t	lo, hi;		/* effective (defaults as the kernel) */
	uint32_t	levels;		/* declared (default QVISOR_DEF_LEVELS) */
	uint32_t	rauto;		/* range auto window, 0 = off */
	uint32_t	weight;
	uint64_t	ceil;		/* bytes/s, 0 = none */
	uint32_t	burst;		/* bytes, 0 = default */
	uint32_t	limit;		/* packets, 0 = qdisc limit */
	uint64_t	edf_budget;	/* nsec, rank edf */
	bool		edf_mark;	/* rank edf ... mark_budget */
	uint8_t		aqm, ecn;	/* QVISOR_AQM_*, 0 = the qdisc's */
	uint32_t	target_us;	/* AQM, 0 = the qdisc's */
	uint32_t	interval_us;	/* AQM, 0 = the qdisc's */
	int		weight_line, ceil_line, limit_line, aqm_line;
	int		nmatch;
	struct qs_match	match[QS_MAX_MATCH];
};

/* [template NAME]: one tenant per link that matches iface and no tenant's
 * iface/alias match claims, with a class from lo..hi (so at most
 * hi - lo + 1 of them), sharing the '+' group of tenant 'share'
 */
struct qs_template {
	bool		set;
	int		line;
	char		iface[16];
	uint32_t	lo, hi;
	char		share[QS_NAME];
	struct qs_tenant t;	/* name, rank, range, weight, ... */
};

/* [guard]: watch's rules against tenants that game their ranks.  Every
 * second watch reads each tenant's rank counters; a rule fires when its
 * metric stayed above the threshold for 'for' seconds (with at least
 * min_packets arrivals a second), and is lifted after 'restore' seconds
 * below it.
 */
#define QS_MAX_GUARD	8
enum { QS_GM_BEST, QS_GM_CLAMPED, QS_GM_SHIFT };
enum { QS_GA_CEIL, QS_GA_WEIGHT };

struct qs_guard_rule {
	int		line;
	int		metric;		/* QS_GM_* */
	uint32_t	pct;		/* threshold, percent 0..99 */
	uint32_t	for_s;		/* seconds above it, 1..3600 */
	int		action;		/* QS_GA_* */
	uint64_t	ceil;		/* bytes/s */
	uint32_t	weight;
};

struct qs_guard {
	int			line;	/* of [guard], 0 = none */
	int			nrules;
	struct qs_guard_rule	r[QS_MAX_GUARD];
	uint32_t		restore_s;	/* default 10 */
	uint32_t		min_pkts;	/* a second, default 20 */
};

/* a network device, as watch and apply see it */
struct qs_link {
	int	ifindex;
	char	name[16];
	char	alias[QS_ALIAS];
};

/* A named [link NAME] section: its keys as written, applied over the
 * [link] section's by qs_section() (every key it does not set is
 * inherited, policy included)
 */
struct qs_linksec {
	char	name[QS_NAME];
	int	line;		/* of its header */
	int	dev_line;	/* of its 'dev', 0 = none (an error) */
	int	nkeys;
	int	kline[24];	/* line of key i */
	uint32_t koff[24];	/* "KEY\0VALUE\0" at pool + koff[i] */
	uint32_t used;
	char	pool[QVISOR_MAX_POLICY + 1024];
};

/* one device of an apply and the section that configures it */
struct qs_target {
	int	sec;		/* 0 = [link], i = sp->sec[i - 1] */
	char	dev[16];
};

struct qs_spec {
	const char	*file;
	/* NAME or glob ..., separated by spaces; one literal name in a
	 * classic spec.  A spec from qs_section() for one device holds it.
	 */
	char		dev[QS_DEVLIST];
	int		dev_line;
	int		nsec;		/* named [link NAME] sections */
	struct qs_linksec sec[QS_MAX_LINKS];
	uint32_t	handle;		/* major, default 1 */
	uint64_t	rate;		/* bytes/s, 0 = none */
	bool		has_rate, has_limit, has_buckets, has_slot;
	bool		has_default, has_backend, has_overlap;
	bool		has_flows, has_flow_idle, has_partial, has_split_gso;
	uint8_t		split_gso;	/* QVISOR_SPLIT_GSO_* */
	uint32_t	flows;		/* las/stfq flow table entries */
	uint32_t	flow_idle_us;
	uint8_t		partial;
	uint8_t		aqm, ecn;	/* 0/1, if has_aqm/has_ecn (default 1) */
	bool		has_aqm, has_ecn;
	uint32_t	target_us;	/* AQM, 0 = QVISOR_DEF_TARGET_US */
	uint32_t	interval_us;	/* AQM, 0 = QVISOR_DEF_INTERVAL_US */
	uint32_t	memlimit;	/* bytes, 0 = none */
	uint32_t	lend_us;	/* sppifo queue lending, 0 = off */
	int		aqm_line;
	int		rate_line, limit_line;
	uint32_t	limit;
	uint32_t	buckets;
	uint32_t	slot_us;
	uint32_t	defcls;
	int		backend;
	uint32_t	queues;
	uint32_t	overlap;
	char		policy[QVISOR_MAX_POLICY];
	int		policy_line;
	int		default_line;
	int		ntenants;
	int		ndeclared;	/* tenants of the file; the rest: template */
	struct qs_template tmpl;
	struct qs_guard	guard;
	struct qs_tenant t[QS_MAX_TENANTS];
	/* the parsed policy, for plan and apply */
	struct qv_pol_ent ent[QS_MAX_TENANTS];
	struct qv_pol_grp grp[QV_POLICY_MAX_GROUPS];	/* nested groups */
	struct qv_policy pol;
	/* first error: "FILE:LINE: message" */
	char		err[QS_ERR];
	int		err_line;
};

/* The synthesis of a spec, as the kernel would do it */
struct qs_plan {
	struct qv_tenant_spec	spec[QS_MAX_TENANTS];
	struct qv_group		grp[QS_MAX_TENANTS + 2];
	struct qv_xform		xf[QS_MAX_TENANTS + 1];
	uint32_t		pol_grp[QS_MAX_TENANTS];
	struct qv_synth		s;
	struct qv_err		e;
	uint32_t		buckets, overlap;
	struct qv_qmap		qmap;	/* the backend's queues (qmap.h) */
	uint32_t		props;	/* QV_PROP_* of P1..P7, as the kernel */
	struct qv_place		place[QS_MAX_TENANTS];	/* nested groups */
	/* inside each nested group of sp->pol (qv_group_props()) */
	uint32_t		gprops[QV_POLICY_MAX_GROUPS];
	/* qv_props_gaming()'s scratch: a tenant each, a sharing group each */
	uint32_t		scratch[QS_MAX_TENANTS + QS_MAX_TENANTS + 2];
	int32_t			gamer;	/* a tenant that breaks P7, or -1 */
};

/* "best", "clamped", "shift" */
const char *qs_guard_metric(int metric);

/* *dst = *src, with dst's policy pointing at its own arrays */
void qs_spec_copy(struct qs_spec *dst, const struct qs_spec *src);

/* 0, or -1 with sp->err / sp->err_line set */
int qs_parse_file(struct qs_spec *sp, const char *path);
int qs_parse_string(struct qs_spec *sp, const char *name, const char *text);

/* Link sections: 1 + sp->nsec, section 0 being [link].  [link] is
 * planned and applied unless it has no dev and named sections exist (it
 * then only holds what they inherit).
 */
int qs_nsections(const struct qs_spec *sp);
bool qs_section_used(const struct qs_spec *sp, int i);
/* "[link]" or "[link NAME]" */
const char *qs_section_label(const struct qs_spec *sp, int i, char *buf,
			     size_t n);
/* *out = the spec of section i: [link] with section i's keys applied
 * over it; 0, or -1 with out->err set (FILE:LINE)
 */
int qs_section(const struct qs_spec *sp, int i, struct qs_spec *out);
/* does spec name more than one device (several names, a glob, or
 * named sections)?  0 = no, else the line that makes it so
 */
int qs_multi_dev(const struct qs_spec *sp);
/* is NAME a shell glob (fnmatch(3) pattern)? does name match pattern? */
bool qs_is_glob(const char *name);
bool qs_glob_match(const char *pattern, const char *name);
/* The devices of every used section, in spec order: a literal name as
 * it is (it must be among l[0..n) when must_exist), a glob expanded
 * against l[0..n) (a "FILE:LINE: warning: ..." to warn when it matches
 * nothing).  Returns the count, or -1 with sp->err set: a missing
 * device, a device named by two sections, more than max devices.
 */
int qs_targets(struct qs_spec *sp, const struct qs_link *l, int n,
	       bool must_exist, FILE *warn, struct qs_target *out, int max);

/* check (one "FILE [link NAME]: ok, ..." line each) or plan (a block
 * each, headed "== [link NAME] dev LIST ==") of every used section of
 * a multi-device spec, warnings and errors to warn; 0 or -1
 */
int qs_plan_sections(FILE *f, FILE *warn, struct qs_spec *sp, bool check,
		     bool full_map);
/* plan --tc of a multi-device spec: a batch per device (headed
 * "# device DEV, [link NAME]"), globs expanded against l[0..n), names
 * kept whether they exist or not; 0 or -1
 */
int qs_plan_tc_all(FILE *f, FILE *warn, struct qs_spec *sp,
		   const struct qs_link *l, int n);

/* an iface or alias match: resolved against the links at each apply */
bool qs_match_dynamic(const struct qs_match *m);
/* does link l satisfy m's iface and alias patterns? */
bool qs_link_matches(const struct qs_match *m, const struct qs_link *l);
/* Add the template's tenants for links l[0..n) to a parsed spec (once,
 * right after the parse).  A link keeps the class it had in prev (an
 * earlier expansion of the same spec, or NULL) while it exists.  Returns
 * the number of links left to the default class because lo..hi is full,
 * or -1 with sp->err set.
 */
int qs_expand(struct qs_spec *sp, const struct qs_link *l, int n,
	      const struct qs_spec *prev);

/* filters apply creates for match m: a dscp (or indev) match without a
 * src is two, for IPv4 and IPv6
 */
int qs_match_filters(const struct qs_match *m);
int qs_nfilters(const struct qs_spec *sp);
/* ETH_P_IP, ETH_P_IPV6 or ETH_P_ALL: the protocol of filter i of match m */
uint16_t qs_match_proto(const struct qs_match *m, int i);
/* the spec as a tc -batch file (filters in band A) */
void qs_plan_tc(FILE *f, const struct qs_spec *sp);

int qs_plan(const struct qs_spec *sp, struct qs_plan *p, char *err, size_t n);
/* prints the table, the rank map and the guarantees */
void qs_plan_print(FILE *f, const struct qs_spec *sp, const struct qs_plan *p,
		   bool full_map);

/* Conflicts the kernel accepts but that are likely mistakes: overlapping
 * or missing matches, a tenant the policy leaves out, a weight without a
 * group mate, a ceil above the link rate, a tenant limit above the qdisc
 * limit.  One "FILE:LINE: warning: ..." line each to f; returns the count.
 */
int qs_warnings(FILE *f, const struct qs_spec *sp, const struct qs_plan *p);
/* "P1=yes P2=approx ..." as tc qdisc show prints the kernel's props (P7
 * when they state it)
 */
void qs_fmt_props(char *buf, size_t n, uint32_t props);
#define QS_PROPS_LEN	80	/* "P1=approx ... P7=approx" fits */
/* "yes", "approx" or "no": property Pn in props */
const char *qs_prop_state(uint32_t props, int n);

/* the qdisc limit apply sets: the spec's, else the kernel's default for
 * its rate and AQM (qv_auto_limit)
 */
uint32_t qs_qdisc_limit(const struct qs_spec *sp);
/* the qdisc's AQM and ECN (1 unless the spec says no), target, interval */
bool qs_aqm_on(const struct qs_spec *sp);
bool qs_ecn_on(const struct qs_spec *sp);
uint32_t qs_target_us(const struct qs_spec *sp);
uint32_t qs_interval_us(const struct qs_spec *sp);

/* value parsers shared with the command line; 0 or -1 */
int qs_get_rate(const char *s, uint64_t *bytes_per_sec);
int qs_get_size(const char *s, uint32_t *bytes);
int qs_get_time_us(const char *s, uint32_t *usec);
int qs_get_time_ns(const char *s, uint64_t *nsec);
int qs_get_u32(const char *s, uint32_t *v);
void qs_fmt_rate(char *buf, size_t n, uint64_t bytes_per_sec);
const char *qs_rank_name(int rank);
/* sum of weights of the tenants sharing t's group (same tier and level) */
uint32_t qs_group_weight(const struct qs_spec *sp, const struct qs_plan *p,
			 int k);

#endif
