// SPDX-License-Identifier: GPL-2.0-only
/*
 * qvisorctl's units (tools/qvisorctl/spec.c: qs_get_rate, qs_get_size,
 * qs_get_time_us, qs_get_time_ns) against the tc plugin q_qvisor.c on the
 * same strings: the plugin, linked with iproute2 6.1's own helpers as
 * fuzz_plugin is (built from .cache/iproute2, nothing copied), parses
 * "rate S", "slot S" (qdisc) and "ceil S", "burst S", "rank edf S"
 * (class); the value it puts in the request, or its refusal, must equal
 * qvisorctl's.  exit() is wrapped: NEXT_ARG()/invarg() exit on errors.
 */
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utils.h"
#include "tc_util.h"
#include "tc_common.h"
#include <uapi/linux/pkt_sched_qvisor.h>
#include "tap.h"

int use_iec;
bool use_names;
int color;

extern struct qdisc_util qvisor_qdisc_util;

/* tools/qvisorctl/spec.c, compiled apart (its headers clash with tc's) */
int qs_get_rate(const char *s, uint64_t *bytes_per_sec);
int qs_get_size(const char *s, uint32_t *bytes);
int qs_get_time_us(const char *s, uint32_t *usec);
int qs_get_time_ns(const char *s, uint64_t *nsec);

void __real_exit(int code) __attribute__((noreturn));
void __wrap_exit(int code) __attribute__((noreturn));
static jmp_buf tu_jmp;
static volatile int tu_armed;

void __wrap_exit(int code)
{
	if (tu_armed) {
		tu_armed = 0;
		longjmp(tu_jmp, 1);
	}
	__real_exit(code);
}

struct tu_req {
	struct nlmsghdr	n;
	struct tcmsg	t;
	char		buf[TCA_BUF_MAX];
};

/* the plugin's parse of words (qdisc or class); attribute type's payload
 * as u64 in *v; 0, or -1 when the plugin refused or left it out
 */
static int tu_plugin(bool cls, const char *w0, const char *w1, const char *w2,
		     int type, uint64_t *v)
{
	static struct tu_req req;
	struct qdisc_util *qu = &qvisor_qdisc_util;
	char a[64], b[64], c[64], *words[4] = { a, b, c, NULL };
	struct rtattr *tb[TCA_QVISOR_MAX + TCA_QVISOR_CLASS_MAX + 2], *nest;
	volatile int rc = -1;
	int argc = w2 ? 3 : 2;

	snprintf(a, sizeof(a), "%s", w0);
	snprintf(b, sizeof(b), "%s", w1);
	snprintf(c, sizeof(c), "%s", w2 ? w2 : "");
	memset(&req, 0, sizeof(req));
	req.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg));
	req.n.nlmsg_type = cls ? RTM_NEWTCLASS : RTM_NEWQDISC;
	if (setjmp(tu_jmp) == 0) {
		tu_armed = 1;
		rc = cls ? qu->parse_copt(qu, argc, words, &req.n, "tu0") :
			   qu->parse_qopt(qu, argc, words, &req.n, "tu0");
	}
	tu_armed = 0;
	if (rc)
		return -1;
	nest = (struct rtattr *)((char *)&req.n + NLMSG_LENGTH(sizeof(struct tcmsg)));
	if (nest->rta_type != (TCA_OPTIONS | NLA_F_NESTED) &&
	    nest->rta_type != TCA_OPTIONS)
		return -1;
	memset(tb, 0, sizeof(tb));
	parse_rtattr_nested(tb, TCA_QVISOR_MAX + TCA_QVISOR_CLASS_MAX, nest);
	if (!tb[type])
		return -1;
	if (RTA_PAYLOAD(tb[type]) == 8)
		*v = rta_getattr_u64(tb[type]);
	else
		*v = rta_getattr_u32(tb[type]);
	return 0;
}

static const char *const strs[] = {
	/* numbers */
	"0", "1", "7", "8", "15", "1000", "1.5", ".5", "1e3", "0x10", "1e-3",
	"-1", "+1", " 1", "1 ", "", "inf", "nan", "1e40", "99999999999999",
	/* rate units */
	"1bit", "40mbit", "1MBIT", "1kbit", "1kibit", "1Kibit", "1mibit",
	"1gibit", "1gbit", "1tibit", "1tbit", "1bps", "1Bps", "1kbps", "1KBps",
	"1KiBps", "1mbps", "1MiBps", "1gbps", "1GiBps", "1tbps", "1TiBps",
	"1.5mbit", "2.5kbps", "100kbps", "3tbit", "1kbit/s", "1mb", "1k",
	/* size units */
	"15k", "15K", "1kb", "1m", "1mb", "1g", "1gb", "2b", "8kbit", "1mbit",
	"1gbit", "1.5k", "4g", "1kib", "5x",
	/* time units */
	"1ms", "250us", "2s", "1sec", "2secs", "3msec", "4msecs", "7usec",
	"8usecs", "1.5ms", "5ns", "4nsec", "3nsecs", "10ms", "5000s", "1min",
	"0.1us", "1h",
};

int main(void)
{
	unsigned int k;
	uint64_t pv, qv;
	uint32_t q32;
	int pr, qr, n = 0;

	tap_plan(0);
	if (!freopen("/dev/null", "w", stderr))
		return 1;
	for (k = 0; k < sizeof(strs) / sizeof(strs[0]); k++) {
		const char *s = strs[k];

		/* rate (qdisc) and ceil (class): get_rate64, bytes/s */
		pr = tu_plugin(false, "rate", s, NULL, TCA_QVISOR_RATE, &pv);
		qr = qs_get_rate(s, &qv);
		CHECK(pr == qr && (pr || pv == qv), "rate '%s': plugin %d %llu, qvisorctl %d %llu",
		      s, pr, (unsigned long long)pv, qr, (unsigned long long)qv);
		pr = tu_plugin(true, "ceil", s, NULL,
			       TCA_QVISOR_CLASS_CEIL, &pv);
		CHECK(pr == qr && (pr || pv == qv), "ceil '%s': plugin %d %llu, qvisorctl %d %llu",
		      s, pr, (unsigned long long)pv, qr, (unsigned long long)qv);
		/* burst: get_size, bytes */
		pr = tu_plugin(true, "burst", s, NULL,
			       TCA_QVISOR_CLASS_BURST, &pv);
		qr = qs_get_size(s, &q32);
		CHECK(pr == qr && (pr || pv == q32), "burst '%s': plugin %d %llu, qvisorctl %d %u",
		      s, pr, (unsigned long long)pv, qr, q32);
		/* flow_idle: get_time, usec (slot has a 1s cap in the plugin
		 * too, flow_idle only refuses 0: both compared where valid)
		 */
		pr = tu_plugin(false, "flow_idle", s, NULL,
			       TCA_QVISOR_FLOW_IDLE, &pv);
		qr = qs_get_time_us(s, &q32);
		if (!qr && !q32)
			qr = -1;	/* flow_idle 0 is refused by both */
		CHECK(pr == qr && (pr || pv == q32), "flow_idle '%s': plugin %d %llu, qvisorctl %d %u",
		      s, pr, (unsigned long long)pv, qr, q32);
		/* rank edf: get_time64, nsec, > 0 */
		pr = tu_plugin(true, "rank", "edf", s,
			       TCA_QVISOR_CLASS_EDF_BUDGET, &pv);
		qr = qs_get_time_ns(s, &qv);
		/* the spec's rank edf refuses 0 and more than the maximum */
		if (!qr && (!qv || qv > QVISOR_MAX_EDF_BUDGET_NS))
			qr = -1;
		CHECK(pr == qr && (pr || pv == qv), "edf '%s': plugin %d %llu, qvisorctl %d %llu",
		      s, pr, (unsigned long long)pv, qr, (unsigned long long)qv);
		n++;
	}
	tap_point("%d strings: rate, ceil, burst, flow_idle and the edf budget equal the plugin's (value or refusal)",
		  n);
	return tap_done();
}
