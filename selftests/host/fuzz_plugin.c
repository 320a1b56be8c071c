// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the tc plugin q_qvisor.c, linked with iproute2 6.1's
 * own lib/ and tc/ helpers compiled from .cache/iproute2 (see the Makefile;
 * no iproute2 code lives in this repository).
 *
 * The first input byte picks a mode, the rest is the payload:
 *
 *   0  print: the payload, zero-padded to a multiple of 4 as every nest
 *      is, is the TCA_OPTIONS payload given to print_qopt and print_copt;
 *      as is, of any length, it is the TCA_STATS_APP payload given to
 *      print_xstats; each in a heap block of exactly rta_len bytes (ASan
 *      sees any read past it); everything twice, with JSON output off and
 *      on, nested the way tc nests it.
 *   1  parse_qopt, 2  parse_copt: the payload is split into words at
 *      whitespace and NUL (at most FP_MAX_WORDS) and parsed into a tc
 *      request of tc's own shape (struct tcmsg + TCA_BUF_MAX).  On success
 *      the TCA_OPTIONS nest must be well formed and hold only attributes of
 *      the sizes and ranges the uapi header documents; it is then printed
 *      back through print_qopt / print_copt.
 *
 * exit(): NEXT_ARG() in the plugin calls iproute2's incomplete_command(),
 * which calls exit(-1), as do invarg()/duparg().  The binary is linked with
 * -Wl,--wrap=exit: while a parse call is in flight __wrap_exit() longjmps
 * back here (the plugin allocates nothing on those paths, so nothing
 * leaks); at any other time it is the real exit(), so libFuzzer's own
 * exits are untouched.
 *
 * Output: stdout goes to /dev/null (fully buffered); the FILE *stderr the
 * plugin and iproute2 print their diagnostics to is pointed at /dev/null
 * too, unless FUZZ_PLUGIN_VERBOSE is set in the environment.  libFuzzer and
 * the sanitizers write to fd 2 directly, so their reports are kept.
 *
 * Stubs: only the globals use_iec, use_names and color, which iproute2's
 * tc/tc.c defines (not linked: it has main() and the whole tc command
 * set); every function comes from iproute2's own sources.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utils.h"
#include "tc_util.h"
#include "tc_common.h"
#include <uapi/linux/pkt_sched_qvisor.h>
#include <qvisor/policy_tree.h>

/* globals of tc/tc.c (not linked) that the linked helpers refer to */
int use_iec;
bool use_names;
int color;

extern struct qdisc_util qvisor_qdisc_util;

#define FP_MAX_WORDS	64

/* --- exit() interception ------------------------------------------------ */

void __real_exit(int code) __attribute__((noreturn));
void __wrap_exit(int code) __attribute__((noreturn));

static jmp_buf fp_exit_jmp;
static volatile int fp_exit_armed;

void __wrap_exit(int code)
{
	if (fp_exit_armed) {
		fp_exit_armed = 0;
		longjmp(fp_exit_jmp, 1);
	}
	__real_exit(code);
}

/* --- failure reports, to the real stderr -------------------------------- */

static FILE *fp_err;

static void __attribute__((noreturn, format(printf, 1, 2)))
fp_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(fp_err, "fuzz_plugin: ");
	vfprintf(fp_err, fmt, ap);
	fprintf(fp_err, "\n");
	va_end(ap);
	fflush(fp_err);
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char obuf[1 << 16];
	FILE *null;

	(void)argc;
	(void)argv;
	fp_err = stderr;
	if (!freopen("/dev/null", "w", stdout))
		abort();
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	if (!getenv("FUZZ_PLUGIN_VERBOSE")) {
		null = fopen("/dev/null", "w");
		if (!null)
			abort();
		stderr = null;
	}
	return 0;
}

/* --- print side --------------------------------------------------------- */

/*
 * One attribute of payload D[0..N) zero-padded to PAD bytes, in a heap
 * block of exactly rta_len bytes: ASan sees any read past the attribute.
 */
static struct rtattr *fp_rta(unsigned short type, const uint8_t *d, size_t n,
			     size_t pad)
{
	struct rtattr *rta = calloc(1, RTA_LENGTH(pad));

	if (!rta)
		abort();
	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(pad);
	memcpy(RTA_DATA(rta), d, n);
	return rta;
}

/* the nesting tc_qdisc.c / tc_class.c print_*() use around the callbacks */
static void fp_print_one(int js, struct rtattr *opt, struct rtattr *xst)
{
	struct qdisc_util *qu = &qvisor_qdisc_util;

	new_json_obj(js);
	open_json_object(NULL);
	if (opt) {
		open_json_object("options");
		qu->print_qopt(qu, stdout, opt);
		close_json_object();
		print_nl();
		open_json_object("options");
		qu->print_copt(qu, stdout, opt);
		close_json_object();
		print_nl();
	}
	if (xst) {
		qu->print_xstats(qu, stdout, xst);
		print_nl();
	}
	close_json_object();
	delete_json_obj();
}

static void fp_print(const uint8_t *d, size_t n)
{
	struct rtattr *opt, *xst;

	if (n > 0xfff0)
		n = 0xfff0;	/* rta_len is 16 bits */
	/*
	 * A nest's length is a multiple of 4 (nla_nest_end() measures up to
	 * the aligned tail), its last attribute's padding included.  An
	 * unaligned one makes iproute2's parse_rtattr_flags() read the
	 * rta_len 1..5 bytes past it for its "!!!Deficit" message: not the
	 * plugin's bug, and no kernel message is like that.
	 */
	opt = fp_rta(TCA_OPTIONS | NLA_F_NESTED, d, n, RTA_ALIGN(n));
	xst = fp_rta(TCA_STATS_APP, d, n, n);
	fp_print_one(0, opt, xst);
	fp_print_one(1, opt, xst);
	free(opt);
	free(xst);
}

/* --- parse side --------------------------------------------------------- */

struct fp_req {
	struct nlmsghdr	n;
	struct tcmsg	t;
	char		buf[TCA_BUF_MAX];
};

struct fp_attr {
	unsigned short	len;	/* exact payload size, 0 = string */
	unsigned long long lo, hi;	/* value range for len 1, 4, 8 */
};

static const struct fp_attr fp_qattrs[TCA_QVISOR_MAX + 1] = {
	[TCA_QVISOR_RATE]	= { 8, 0, ~0ULL },
	[TCA_QVISOR_LIMIT]	= { 4, 0, 0xffffffffULL },
	[TCA_QVISOR_BUCKETS]	= { 4, QVISOR_MIN_BUCKETS, QVISOR_MAX_BUCKETS },
	[TCA_QVISOR_SLOT]	= { 4, 1, 0xffffffffULL },
	[TCA_QVISOR_DEFAULT]	= { 4, 0, QVISOR_MAX_MINOR },
	[TCA_QVISOR_BACKEND]	= { 1, 0, QVISOR_BACKEND_MAX },
	[TCA_QVISOR_QUEUES]	= { 4, QVISOR_MIN_SPPIFO_Q, QVISOR_MAX_SPPIFO_Q },
	[TCA_QVISOR_POLICY_TREE] = { 0, 0, 0 },
	[TCA_QVISOR_OVERLAP]	= { 4, 0, 100 },
	[TCA_QVISOR_FLOWS]	= { 4, QVISOR_MIN_FLOWS, QVISOR_MAX_FLOWS },
	[TCA_QVISOR_FLOW_IDLE]	= { 4, 1, 0xffffffffULL },
	[TCA_QVISOR_PARTIAL]	= { 1, 0, 1 },
	[TCA_QVISOR_SPLIT_GSO]	= { 1, 0, QVISOR_SPLIT_GSO_MAX },
	[TCA_QVISOR_AQM]	= { 1, 0, 1 },
	[TCA_QVISOR_ECN]	= { 1, 0, 1 },
	[TCA_QVISOR_TARGET]	= { 4, 1, QVISOR_MAX_TARGET_US },
	[TCA_QVISOR_INTERVAL]	= { 4, 1, QVISOR_MAX_INTERVAL_US },
	[TCA_QVISOR_MEMLIMIT]	= { 4, 0, 0xffffffffULL },
	[TCA_QVISOR_LEND]	= { 4, 0, QVISOR_MAX_LEND_US },
};

static const struct fp_attr fp_cattrs[TCA_QVISOR_CLASS_MAX + 1] = {
	[TCA_QVISOR_CLASS_RANK]		= { 1, 0, QVISOR_RANK_MAX },
	[TCA_QVISOR_CLASS_MARK_MASK]	= { 4, 1, 0xffffffffULL },
	[TCA_QVISOR_CLASS_LO]		= { 4, 0, 0xffffffffULL },
	[TCA_QVISOR_CLASS_HI]		= { 4, 0, 0xffffffffULL },
	[TCA_QVISOR_CLASS_LEVELS]	= { 4, 1, QVISOR_MAX_LEVELS },
	[TCA_QVISOR_CLASS_WEIGHT]	= { 4, 1, QVISOR_MAX_WEIGHT },
	[TCA_QVISOR_CLASS_CEIL]		= { 8, 0, ~0ULL },
	[TCA_QVISOR_CLASS_BURST]	= { 4, 0, 0xffffffffULL },
	[TCA_QVISOR_CLASS_LIMIT]	= { 4, 0, 0xffffffffULL },
	/* s64 nsec, > 0 */
	[TCA_QVISOR_CLASS_EDF_BUDGET]	= { 8, 1, QVISOR_MAX_EDF_BUDGET_NS },
	[TCA_QVISOR_CLASS_EDF_MARK]	= { 1, 0, 1 },
	/* the plugin sets a class's own value, never "inherit" */
	[TCA_QVISOR_CLASS_AQM]		= { 1, QVISOR_AQM_OFF, QVISOR_AQM_ON },
	[TCA_QVISOR_CLASS_ECN]		= { 1, QVISOR_AQM_OFF, QVISOR_AQM_ON },
	[TCA_QVISOR_CLASS_TARGET]	= { 4, 1, QVISOR_MAX_TARGET_US },
	[TCA_QVISOR_CLASS_INTERVAL]	= { 4, 1, QVISOR_MAX_INTERVAL_US },
	/* sent only with range auto, never 0 */
	[TCA_QVISOR_CLASS_RANGE_AUTO]	= { 4, QVISOR_RAUTO_MIN_WINDOW,
					    QVISOR_RAUTO_MAX_WINDOW },
};

static unsigned long long fp_val(const struct rtattr *a)
{
	switch (RTA_PAYLOAD(a)) {
	case 1:
		return rta_getattr_u8(a);
	case 4:
		return rta_getattr_u32(a);
	default:
		return rta_getattr_u64(a);
	}
}

/*
 * Check the request parse_qopt/parse_copt built and return its TCA_OPTIONS
 * nest; tb[] gets the nested attributes.
 */
static struct rtattr *fp_check(struct fp_req *req, unsigned int len0,
			       const struct fp_attr *spec, int max,
			       struct rtattr **tb)
{
	unsigned int len = req->n.nlmsg_len, rem;
	struct rtattr *nest, *a;
	int type;

	if (len > sizeof(*req) || len < len0 + RTA_LENGTH(0))
		fp_fail("nlmsg_len %u (was %u, max %zu)", len, len0,
			sizeof(*req));
	nest = (struct rtattr *)((char *)&req->n + len0);
	if (nest->rta_type != (TCA_OPTIONS | NLA_F_NESTED))
		fp_fail("nest type %#x", nest->rta_type);
	if (nest->rta_len != len - len0)
		fp_fail("nest rta_len %u, message holds %u",
			nest->rta_len, len - len0);
	memset(tb, 0, sizeof(*tb) * (max + 1));
	rem = RTA_PAYLOAD(nest);
	for (a = RTA_DATA(nest); RTA_OK(a, rem); a = RTA_NEXT(a, rem)) {
		type = a->rta_type;
		if (spec == fp_qattrs &&
		    type == (TCA_QVISOR_POLICY_TREE | NLA_F_NESTED))
			type = TCA_QVISOR_POLICY_TREE;
		if (type < 1 || type > max || (!spec[type].len &&
					       (spec != fp_qattrs ||
						type != TCA_QVISOR_POLICY_TREE)))
			fp_fail("unexpected attribute %d", type);
		if (tb[type])
			fp_fail("attribute %d twice", type);
		tb[type] = a;
		if (!spec[type].len) {	/* the policy tree, as the kernel
					 * decodes it
					 */
			static struct qv_pol_ent ent[QVISOR_MAX_TENANTS];
			static struct qv_pol_grp grp[QV_POLICY_MAX_GROUPS];
			static __u64 seen[QV_PTREE_SEEN_WORDS];
			struct qv_policy p = { .ent = ent, .cap = QVISOR_MAX_TENANTS };
			struct qv_err e = {};

			memset(seen, 0, sizeof(seen));
			if (qv_ptree_decode(&p, grp, QV_POLICY_MAX_GROUPS,
					    a, a->rta_len, seen, &e))
				fp_fail("policy tree rejected: %s at %u",
					e.msg, e.pos);
			continue;
		}
		if (RTA_PAYLOAD(a) != spec[type].len)
			fp_fail("attribute %d of %u bytes, not %u", type,
				(unsigned int)RTA_PAYLOAD(a), spec[type].len);
		if (fp_val(a) < spec[type].lo || fp_val(a) > spec[type].hi)
			fp_fail("attribute %d = %llu, not in %llu..%llu", type,
				fp_val(a), spec[type].lo, spec[type].hi);
	}
	if (rem)
		fp_fail("%u bytes of garbage in the nest", rem);
	return nest;
}

static void fp_check_qopt(struct rtattr **tb)
{
	if (tb[TCA_QVISOR_BUCKETS]) {
		__u32 b = rta_getattr_u32(tb[TCA_QVISOR_BUCKETS]);

		if (b & (b - 1))
			fp_fail("buckets %u not a power of two", b);
	}
	if (tb[TCA_QVISOR_FLOWS]) {
		__u32 f = rta_getattr_u32(tb[TCA_QVISOR_FLOWS]);

		if (f & (f - 1))
			fp_fail("flows %u not a power of two", f);
	}
	if (!!tb[TCA_QVISOR_QUEUES] !=
	    (tb[TCA_QVISOR_BACKEND] &&
	     rta_getattr_u8(tb[TCA_QVISOR_BACKEND]) == QVISOR_BACKEND_SPPIFO))
		fp_fail("queues without backend sppifo, or the reverse");
}

static void fp_check_copt(struct rtattr **tb)
{
	int rank = -1;

	if (tb[TCA_QVISOR_CLASS_RANK])
		rank = rta_getattr_u8(tb[TCA_QVISOR_CLASS_RANK]);
	if (!!tb[TCA_QVISOR_CLASS_MARK_MASK] != (rank == QVISOR_RANK_MARK))
		fp_fail("mark mask and rank %d", rank);
	if (!!tb[TCA_QVISOR_CLASS_EDF_BUDGET] != (rank == QVISOR_RANK_EDF))
		fp_fail("edf budget and rank %d", rank);
	if (!!tb[TCA_QVISOR_CLASS_EDF_MARK] != (rank == QVISOR_RANK_EDF))
		fp_fail("edf mark_budget and rank %d", rank);
	if (!!tb[TCA_QVISOR_CLASS_LO] != !!tb[TCA_QVISOR_CLASS_HI])
		fp_fail("range LO without HI or the reverse");
	if (tb[TCA_QVISOR_CLASS_LO] &&
	    rta_getattr_u32(tb[TCA_QVISOR_CLASS_LO]) >
	    rta_getattr_u32(tb[TCA_QVISOR_CLASS_HI]))
		fp_fail("range LO > HI");
}

static int fp_isspace(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' ||
	       c == '\f' || c == '\r' || c == '\0';
}

static void fp_parse(int cls, const uint8_t *d, size_t n)
{
	static struct fp_req req;
	struct qdisc_util *qu = &qvisor_qdisc_util;
	struct rtattr *tb[TCA_QVISOR_MAX + TCA_QVISOR_CLASS_MAX + 2];
	char *words[FP_MAX_WORDS + 1];
	struct rtattr *nest;
	unsigned int len0;
	volatile int rc = -1;
	size_t i = 0, k;
	int argc = 0;
	char *buf;

	/* the words, NUL-terminated, in one exact heap block */
	buf = malloc(n + 1);
	if (!buf)
		abort();
	memcpy(buf, d, n);
	buf[n] = '\0';
	while (argc < FP_MAX_WORDS) {
		while (i < n && fp_isspace(d[i]))
			i++;
		if (i >= n)
			break;
		k = i;
		while (i < n && !fp_isspace(d[i]))
			i++;
		buf[i] = '\0';
		words[argc++] = buf + k;
		i++;
	}
	words[argc] = NULL;

	memset(&req, 0, sizeof(req.n) + sizeof(req.t));
	req.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg));
	req.n.nlmsg_type = cls ? RTM_NEWTCLASS : RTM_NEWQDISC;
	req.t.tcm_family = AF_UNSPEC;
	len0 = req.n.nlmsg_len;

	if (setjmp(fp_exit_jmp) == 0) {
		fp_exit_armed = 1;
		if (cls)
			rc = qu->parse_copt(qu, argc, words, &req.n, "fuzz0");
		else
			rc = qu->parse_qopt(qu, argc, words, &req.n, "fuzz0");
	}
	fp_exit_armed = 0;

	if (rc == 0) {
		if (cls) {
			nest = fp_check(&req, len0, fp_cattrs,
					TCA_QVISOR_CLASS_MAX, tb);
			fp_check_copt(tb);
		} else {
			nest = fp_check(&req, len0, fp_qattrs, TCA_QVISOR_MAX,
					tb);
			fp_check_qopt(tb);
		}
		new_json_obj(1);
		open_json_object(NULL);
		if (cls)
			qu->print_copt(qu, stdout, nest);
		else
			qu->print_qopt(qu, stdout, nest);
		close_json_object();
		delete_json_obj();
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fp_print(data + 1, size - 1);
		break;
	case 1:
		fp_parse(0, data + 1, size - 1);
		break;
	default:
		fp_parse(1, data + 1, size - 1);
		break;
	}
	return 0;
}
