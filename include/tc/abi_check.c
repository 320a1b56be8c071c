// SPDX-License-Identifier: GPL-2.0-only
/*
 * Load-time check that the tc which dlopens q_qvisor.so has the interface
 * include/tc/qvisor_tc.h declares.  Linked into the plugin; runs before
 * tc looks up qvisor_qdisc_util.
 *
 * tc binds the plugin's calls lazily, so a helper missing from an
 * unsupported tc would otherwise surface as "symbol lookup error" in the
 * middle of a command.  Instead every helper is looked up in the running
 * program now, and the layout of a qdisc_util tc defines itself (fq's:
 * next, then id) is compared with ours.  On a mismatch the plugin's
 * callbacks are replaced by one that prints what is wrong and fails, so
 * tc reports an error for qvisor and keeps working for everything else.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "qvisor_tc.h"

extern struct qdisc_util qvisor_qdisc_util;

static const char * const qvisor_tc_helpers[] = {
	"addattr8", "addattr32", "addattr64", "addattrstrz", "addattr_nest",
	"addattr_nest_end", "parse_rtattr_flags", "get_u32", "get_rate64",
	"get_size", "get_time", "get_time64", "sprint_time", "sprint_time64",
	"incomplete_command", "open_json_object", "close_json_object",
	"open_json_array", "close_json_array", "print_nl", "tc_print_rate",
	"print_color_bool", "print_color_string", "print_color_uint",
	"print_color_size", "print_color_u64", "print_color_s64",
	"print_color_0xhex", "print_color_lluint", "print_color_float",
};

static char qvisor_tc_problem[160];

static int qvisor_tc_refuse(void)
{
	fprintf(stderr,
		"q_qvisor.so: %s; this plugin supports the tc of iproute2 %s to %s.x (built with %s)\n",
		qvisor_tc_problem, QVISOR_TC_MIN, QVISOR_TC_MAX_MAJOR,
		QVISOR_TC_VERSION);
	return -1;
}

static int qvisor_tc_refuse_parse(struct qdisc_util *qu, int argc,
				  char **argv, struct nlmsghdr *n,
				  const char *dev)
{
	(void)qu; (void)argc; (void)argv; (void)n; (void)dev;
	return qvisor_tc_refuse();
}

static int qvisor_tc_refuse_print(struct qdisc_util *qu, FILE *f,
				  struct rtattr *opt)
{
	(void)qu; (void)f; (void)opt;
	return qvisor_tc_refuse();
}

static void qvisor_tc_abi_check(void) __attribute__((constructor));
static void qvisor_tc_abi_check(void)
{
	const struct qdisc_util *fq;
	size_t i;

	if (getenv("QVISOR_TC_NO_ABI_CHECK"))
		return;
	for (i = 0; i < ARRAY_SIZE(qvisor_tc_helpers); i++) {
		if (!dlsym(RTLD_DEFAULT, qvisor_tc_helpers[i])) {
			snprintf(qvisor_tc_problem, sizeof(qvisor_tc_problem),
				 "this tc does not export %s()",
				 qvisor_tc_helpers[i]);
			goto refuse;
		}
	}
	/* tc's own fq descriptor: our field order and size must match it */
	fq = dlsym(RTLD_DEFAULT, "fq_qdisc_util");
	if (fq && (!fq->id || strcmp(fq->id, "fq") || !fq->parse_qopt ||
		   !fq->print_qopt)) {
		snprintf(qvisor_tc_problem, sizeof(qvisor_tc_problem),
			 "this tc's struct qdisc_util differs from the one the plugin was built for");
		goto refuse;
	}
	return;
refuse:
	qvisor_qdisc_util.parse_qopt = qvisor_tc_refuse_parse;
	qvisor_qdisc_util.parse_copt = qvisor_tc_refuse_parse;
	qvisor_qdisc_util.print_qopt = qvisor_tc_refuse_print;
	qvisor_qdisc_util.print_copt = qvisor_tc_refuse_print;
	qvisor_qdisc_util.print_xstats = qvisor_tc_refuse_print;
}
