// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host tests of qvisorctl's output (tools/qvisorctl/output.c) on made-up
 * states, hostile device names included:
 * - show --json is valid JSON (python3 -m json.tool and jq), the device
 *   name comes back byte for byte, units are the documented ones (rates
 *   bits/s, times ns, share/target percent);
 * - show --prom passes promtool check metrics when Debian's prometheus
 *   package is installed, and always a strict line-by-line check of the
 *   text exposition format (HELP/TYPE before samples, metric and label
 *   names, escaped label values, numeric values, one TYPE per family).
 */
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/pkt_sched.h>
#include "tap.h"
#include "../../tools/qvisorctl/spec.h"
#include "../../tools/qvisorctl/state.h"

static struct qc_state st, prev;

static void mkstate(void)
{
	static struct qc_class cl[3], pcl[3];
	int k;

	memset(&st, 0, sizeof(st));
	st.q.found = true;
	strcpy(st.q.kind, "qvisor");
	st.q.handle = 1 << 16;
	st.q.rate = 2500000;		/* 20mbit */
	st.q.limit = 2000;
	st.q.buckets = 4096;
	st.q.slot = 1000;		/* us */
	st.q.backend = QVISOR_BACKEND_SPPIFO;
	st.q.queues = 4;
	st.q.overlap = 50;
	st.q.flows = 1024;
	st.q.flow_idle = 1000000;
	st.q.props = QVISOR_PROP_HOLDS(1) | QVISOR_PROP_APPROX(2) |
		     QVISOR_PROP_KNOWN(7);	/* P7 stated: no */
	strcpy(st.q.policy, "1 >> 2 + 3");
	/* two nested groups, as a dump of another policy would give them */
	st.q.ngroups = 2;
	strcpy(st.q.groups, "(1 >> 2)");
	strcpy(st.q.groups + 9, "(4 > 5)");
	st.q.gprops[0] = QVISOR_PROP_APPROX(1) | QVISOR_PROP_HOLDS(2) |
			 QVISOR_PROP_KNOWN(7) | QVISOR_PROP_HOLDS(7);
	st.q.gprops[1] = QVISOR_PROP_HOLDS(1);
	st.q.bs.bytes = 123456;
	st.q.bs.packets = 90;
	st.q.qs.drops = 4;
	st.q.has_xs = true;
	st.ncl = 3;
	st.cl = cl;
	for (k = 0; k < 3; k++) {
		cl[k].classid = 1 << 16 | (uint32_t)(k + 1);
		cl[k].rank = k == 2 ? QVISOR_RANK_EDF : QVISOR_RANK_PRIO;
		cl[k].budget = k == 2 ? 10000000 : 0;
		cl[k].hi = 15;
		cl[k].levels = 16;
		cl[k].weight = k == 1 ? 60 : 40;
		cl[k].ceil = k == 2 ? 1250000 : 0;	/* 10mbit */
		cl[k].bs.bytes = 1000u * (k + 1) * 10;
		cl[k].bs.packets = (uint32_t)(k + 1) * 10;
		cl[k].qs.drops = (uint32_t)k;
		cl[k].qs.qlen = 2;
		cl[k].qs.backlog = 3000;
		cl[k].has_xs = true;
		cl[k].xs.tier = k ? 1 : 0;
		cl[k].xs.offset = k ? 8 : 0;
		cl[k].xs.share_ppm = k == 1 ? 600000 : k == 2 ? 400000 : 1000000;
		cl[k].xs.drop_pushout = (uint64_t)k;
		cl[k].xs.drop_tenant_limit = 7;
		cl[k].xs.aqm_drops = 5;
		cl[k].xs.ecn_marks = 9;
		cl[k].xs.max_sojourn = 4500;
		cl[k].xs.memory = 2304 * (uint32_t)k;
		cl[k].xs.mem_part = k ? 60000 : 0;
	}
	/* 1:1 from a module before best_pkts; 1:2 with range auto */
	cl[1].has_best = cl[2].has_best = true;
	cl[1].rauto = 1024;
	cl[1].xs.best_pkts = 40;
	cl[1].xs.clamped_pkts = 12;
	cl[1].xs.shift_ppm = 250000;
	cl[2].xs.best_pkts = 7;
	cl[2].xs.clamped_pkts = 3;
	cl[2].xs.shift_ppm = 0;
	prev = st;
	prev.cl = pcl;
	memcpy(pcl, cl, sizeof(pcl));
	pcl[1].bs.bytes -= 5000;	/* 5000 bytes in 2 s: 20000 bit/s */
	/* 1:2: 10 packets arrived in the interval (7 sent, 1 dropped, two
	 * more queued), 9 at the best rank, 1 clamped; 1:3: none arrived
	 */
	pcl[1].bs.packets -= 7;
	pcl[1].qs.drops -= 1;
	pcl[1].qs.qlen -= 2;
	pcl[1].xs.best_pkts -= 9;
	pcl[1].xs.clamped_pkts -= 1;
}

static char *capture(void (*fn)(FILE *, const char *), const char *dev)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	fn(f, dev);
	fclose(f);
	return out;
}

static void json_fn(FILE *f, const char *dev)
{
	qc_print_json(f, dev, &st, &prev, 2.0);
}

static void table_fn(FILE *f, const char *dev)
{
	qc_print_table(f, dev, &st, &prev, 2.0);
}

/* show without an interval: no previous read */
static void show_fn(FILE *f, const char *dev)
{
	qc_print_table(f, dev, &st, NULL, 0);
}

static void prom_fn(FILE *f, const char *dev)
{
	qc_print_prom(f, dev, &st);
}

/* run cmd with text on stdin, its stdout into out (malloc'ed); exit code */
static int pipe_through(const char *cmd, const char *text, char **out)
{
	char tmp[] = "/tmp/qvout.XXXXXX", line[512];
	size_t len = 0;
	int fd = mkstemp(tmp), rc;
	FILE *p;

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return -1;
	close(fd);
	snprintf(line, sizeof(line), "%s < %s 2>&1", cmd, tmp);
	p = popen(line, "r");
	*out = calloc(1, 65536);
	if (p) {
		len = fread(*out, 1, 65535, p);
		(*out)[len] = '\0';
		rc = pclose(p);
	} else {
		rc = -1;
	}
	unlink(tmp);
	return rc == -1 ? -1 : WEXITSTATUS(rc);
}

static bool have(const char *tool)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
	return system(cmd) == 0;
}

static const char *const devs[] = {
	"veth0", "ve\"th0", "a\\b", "x}\n{y", "tab\there", "\x01\x1f",
	"caf\xc3\xa9", "</script>",
};

static void test_json(void)
{
	static const struct { const char *q, *want; } fields[] = {
		{ ".qdisc.rate", "20000000" },		/* bit/s */
		{ ".qdisc.slot", "1000000" },		/* ns */
		{ ".qdisc.flow_idle", "1000000000" },	/* ns */
		{ ".qdisc.backend", "sppifo" },
		{ ".qdisc.queues", "4" },
		{ ".qdisc.policy", "1 >> 2 + 3" },
		{ ".qdisc.guarantees.P1", "yes" },
		{ ".qdisc.guarantees.P2", "approx" },
		{ ".qdisc.guarantees.P4", "no" },
		{ ".qdisc.guarantees.P7", "no" },
		{ ".qdisc.groups[0].guarantees.P7", "yes" },
		{ ".qdisc.groups[0].group", "(1 >> 2)" },
		{ ".qdisc.groups[0].guarantees.P1", "approx" },
		{ ".qdisc.groups[1].group", "(4 > 5)" },
		{ ".qdisc.groups[1].guarantees.P1", "yes" },
		{ ".qdisc.groups[1].guarantees.P2", "no" },
		{ ".qdisc.packets", "90" },
		{ ".tenants[2].ceil", "10000000" },	/* bit/s */
		{ ".tenants[2].budget", "10000000" },	/* ns */
		{ ".tenants[2].rank", "edf" },
		{ ".tenants[1].rate", "20000" },	/* measured bit/s */
		{ ".tenants[1].share", "60" },		/* percent */
		{ ".tenants[1].target", "60" },		/* 60 / (60 + 40) */
		{ ".tenants[1].range.hi", "15" },
		{ ".tenants[0].class", "1:1" },
		{ ".tenants[2].drop_tenant_limit", "7" },
		{ ".tenants[2].aqm_drops", "5" },
		{ ".tenants[2].ecn_marks", "9" },
		{ ".tenants[2].max_sojourn_us", "4500" },
		{ ".tenants[2].memory", "4608" },
		{ ".tenants[1].mem_part", "60000" },
		{ ".tenants[1].best_pkts", "40" },
		{ ".tenants[1].clamped", "12" },
		{ ".tenants[1].shift_ppm", "250000" },	/* range auto */
		{ ".tenants[2].best_pkts", "7" },
		{ ".tenants[2].shift_ppm", "null" },	/* no range auto */
		{ ".tenants[0].best_pkts", "null" },	/* older module */
		{ ".tenants[0].clamped", "0" },
	};
	unsigned int k, d;
	char *out, *res, cmd[128];
	int rc;

	for (d = 0; d < sizeof(devs) / sizeof(devs[0]); d++) {
		out = capture(json_fn, devs[d]);
		rc = pipe_through("python3 -m json.tool", out, &res);
		tap_ok(rc == 0, "show --json with device name #%u is valid JSON (python3 -m json.tool)", d);
		if (rc)
			tap_diag("%s\n%s", out, res);
		free(res);
		if (have("jq")) {
			rc = pipe_through("jq -j .dev", out, &res);
			tap_ok(rc == 0 && !strcmp(res, devs[d]),
			       "jq reads device name #%u back byte for byte", d);
			free(res);
		}
		free(out);
	}
	if (!have("jq")) {
		tap_skip("JSON values", "jq missing");
		return;
	}
	out = capture(json_fn, "veth0");
	for (k = 0; k < sizeof(fields) / sizeof(fields[0]); k++) {
		snprintf(cmd, sizeof(cmd), "jq -j '%s'", fields[k].q);
		rc = pipe_through(cmd, out, &res);
		tap_ok(rc == 0 && !strcmp(res, fields[k].want), "JSON %s = %s",
		       fields[k].q, fields[k].want);
		if (rc || strcmp(res, fields[k].want))
			tap_diag("got '%s'", res);
		free(res);
	}
	free(out);
}

/* the text exposition format, line by line */
static int prom_strict(const char *text, char *why, size_t n)
{
	regex_t help, type, sample;
	char fam[64][96], cur[96] = "";
	int nfam = 0, k, bad = 0, lineno = 0;
	const char *p = text;

	regcomp(&help, "^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* [^\n]*$", REG_EXTENDED);
	regcomp(&type, "^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$",
		REG_EXTENDED);
	regcomp(&sample,
		"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\[\\\\\"n])*\""
		"(,[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\[\\\\\"n])*\")*\\})? "
		"(-?[0-9]+(\\.[0-9]+)?(e[-+]?[0-9]+)?|NaN|[+-]Inf)$", REG_EXTENDED);
	while (*p && !bad) {
		const char *nl = strchr(p, '\n');
		char line[1024];
		regmatch_t mt[2];
		size_t len;

		lineno++;
		if (!nl) {
			snprintf(why, n, "line %d: no newline at the end", lineno);
			bad = 1;
			break;
		}
		len = (size_t)(nl - p);
		if (len >= sizeof(line)) {
			snprintf(why, n, "line %d too long", lineno);
			bad = 1;
			break;
		}
		memcpy(line, p, len);
		line[len] = '\0';
		p = nl + 1;
		if (!strncmp(line, "# HELP ", 7)) {
			if (regexec(&help, line, 0, NULL, 0))
				bad = snprintf(why, n, "line %d: bad HELP: %s", lineno, line);
		} else if (!strncmp(line, "# TYPE ", 7)) {
			if (regexec(&type, line, 2, mt, 0)) {
				bad = snprintf(why, n, "line %d: bad TYPE: %s", lineno, line);
				continue;
			}
			snprintf(cur, sizeof(cur), "%.*s", (int)(mt[1].rm_eo - mt[1].rm_so),
				 line + mt[1].rm_so);
			for (k = 0; k < nfam; k++)
				if (!strcmp(fam[k], cur))
					bad = snprintf(why, n, "line %d: second TYPE for %s", lineno, cur);
			if (nfam < 64)
				strcpy(fam[nfam++], cur);
		} else {
			if (regexec(&sample, line, 2, mt, 0)) {
				bad = snprintf(why, n, "line %d: bad sample: %s", lineno, line);
				continue;
			}
			if ((size_t)(mt[1].rm_eo - mt[1].rm_so) != strlen(cur) ||
			    strncmp(line, cur, strlen(cur)))
				bad = snprintf(why, n, "line %d: sample outside its family %s: %s",
					       lineno, cur, line);
		}
	}
	regfree(&help);
	regfree(&type);
	regfree(&sample);
	return bad ? -1 : 0;
}

static void test_prom(void)
{
	unsigned int d;
	char *out, *res, why[256];
	int rc;

	out = capture(prom_fn, "veth0");
	tap_ok(strstr(out, "qvisor_tenant_drops_total{dev=\"veth0\",class=\"1:3\",reason=\"tenant_limit\"} 7\n") != NULL &&
	       strstr(out, "qvisor_tenant_share_ratio{dev=\"veth0\",class=\"1:2\"} 0.6\n") != NULL &&
	       strstr(out, "qvisor_tenant_backlog_bytes{dev=\"veth0\",class=\"1:1\"} 3000\n") != NULL &&
	       strstr(out, "qvisor_tenant_bytes_total{dev=\"veth0\",class=\"1:2\"} 20000\n") != NULL &&
	       strstr(out, "qvisor_tenant_drops_total{dev=\"veth0\",class=\"1:3\",reason=\"aqm\"} 5\n") != NULL &&
	       strstr(out, "qvisor_tenant_ecn_marks_total{dev=\"veth0\",class=\"1:3\"} 9\n") != NULL &&
	       strstr(out, "qvisor_tenant_max_sojourn_seconds{dev=\"veth0\",class=\"1:3\"} 0.0045\n") != NULL &&
	       strstr(out, "qvisor_tenant_memory_bytes{dev=\"veth0\",class=\"1:3\"} 4608\n") != NULL,
	       "show --prom: drops by reason, share, backlog, bytes, AQM, memory per tenant");
	tap_ok(strstr(out, "# TYPE qvisor_tenant_best_packets_total counter\n") &&
	       strstr(out, "qvisor_tenant_best_packets_total{dev=\"veth0\",class=\"1:2\"} 40\n") &&
	       strstr(out, "qvisor_tenant_best_packets_total{dev=\"veth0\",class=\"1:3\"} 7\n") &&
	       !strstr(out, "qvisor_tenant_best_packets_total{dev=\"veth0\",class=\"1:1\"}") &&
	       strstr(out, "# TYPE qvisor_tenant_clamped_packets_total counter\n") &&
	       strstr(out, "qvisor_tenant_clamped_packets_total{dev=\"veth0\",class=\"1:2\"} 12\n") &&
	       strstr(out, "qvisor_tenant_clamped_packets_total{dev=\"veth0\",class=\"1:1\"} 0\n") &&
	       strstr(out, "# TYPE qvisor_tenant_rank_shift_ratio gauge\n") &&
	       strstr(out, "qvisor_tenant_rank_shift_ratio{dev=\"veth0\",class=\"1:2\"} 0.25\n") &&
	       !strstr(out, "qvisor_tenant_rank_shift_ratio{dev=\"veth0\",class=\"1:3\"}") &&
	       !strstr(out, "qvisor_tenant_rank_shift_ratio{dev=\"veth0\",class=\"1:1\"}"),
	       "show --prom: best and clamped packets per tenant (best only from a module that counts it), the shift with range auto");
	tap_ok(strstr(out, "qvisor_property_info{dev=\"veth0\",group=\"\",property=\"P1\",state=\"yes\"} 1\n") &&
	       strstr(out, "qvisor_property_info{dev=\"veth0\",group=\"\",property=\"P2\",state=\"approx\"} 1\n") &&
	       strstr(out, "qvisor_property_info{dev=\"veth0\",group=\"\",property=\"P3\",state=\"no\"} 1\n") &&
	       strstr(out, "qvisor_property_info{dev=\"veth0\",group=\"(1 >> 2)\",property=\"P1\",state=\"approx\"} 1\n") &&
	       strstr(out, "qvisor_property_info{dev=\"veth0\",group=\"(4 > 5)\",property=\"P1\",state=\"yes\"} 1\n") &&
	       strstr(out, "qvisor_property_info{dev=\"veth0\",group=\"(4 > 5)\",property=\"P6\",state=\"no\"} 1\n") &&
	       strstr(out, "qvisor_property_info{dev=\"veth0\",group=\"\",property=\"P7\",state=\"no\"} 1\n") &&
	       strstr(out, "qvisor_property_info{dev=\"veth0\",group=\"(1 >> 2)\",property=\"P7\",state=\"yes\"} 1\n") &&
	       !strstr(out, "group=\"(4 > 5)\",property=\"P7\"") &&
	       !strstr(out, "qvisor_queue_"),
	       "show --prom: properties of the policy and of each nested group (P7 where stated), no queues for pifo");
	free(out);
	for (d = 0; d < sizeof(devs) / sizeof(devs[0]); d++) {
		out = capture(prom_fn, devs[d]);
		why[0] = '\0';
		rc = prom_strict(out, why, sizeof(why));
		tap_ok(rc == 0, "show --prom with device name #%u: strict format check", d);
		if (rc)
			tap_diag("%s", why);
		if (have("promtool")) {
			rc = pipe_through("promtool check metrics", out, &res);
			tap_ok(rc == 0, "show --prom with device name #%u: promtool check metrics", d);
			if (rc)
				tap_diag("%s\n%s", res, out);
			free(res);
		}
		free(out);
	}
	if (!have("promtool"))
		tap_skip("promtool check metrics", "promtool missing (Debian package prometheus)");
	/* the strict check does fail on broken text */
	tap_ok(prom_strict("# TYPE a counter\na{dev=\"x\"y\"} 1\n", why, sizeof(why)) &&
	       prom_strict("# TYPE a counter\nb 1\n", why, sizeof(why)) &&
	       prom_strict("# TYPE a counter\na 1x\n", why, sizeof(why)) &&
	       !prom_strict("# TYPE a counter\na{d=\"x\\\"y\"} 1\n", why, sizeof(why)),
	       "the strict check refuses an unescaped quote, a foreign sample, a bad value");
}

/* show and top: the AQM columns after sent, "(noaqm)" when it is off */
static void test_table(void)
{
	char *out;

	st.cl[1].xs.aqm = 1;
	st.cl[2].xs.aqm = 0;
	out = capture(table_fn, "veth0");
	tap_ok(strstr(out, " sent         aqm_drops ecn_marks max_sojourn\n") &&
	       strstr(out, " 20000        5         9         4.5ms\n") &&
	       strstr(out, " 30000        5         9         4.5ms (noaqm)\n"),
	       "show/top table: aqm_drops, ecn_marks, max_sojourn per tenant");
	if (!strstr(out, "4.5ms"))
		tap_diag("%s", out);
	tap_ok(strstr(out, "seen ranks  best     clamped  target ") &&
	       strstr(out, " 0..0        -        -        100.0% ") &&
	       strstr(out, " 0..0        90.0%    10.0%    60.0% ") &&
	       strstr(out, " 0..0        -        -        40.0% "),
	       "top table: best and clamped as a percentage of the interval's arrivals, - for none or an older module");
	if (!strstr(out, "90.0%"))
		tap_diag("%s", out);
	free(out);
	out = capture(show_fn, "veth0");
	tap_ok(strstr(out, " 0..0        40       12       60.0% ") &&
	       strstr(out, " 0..0        7        3        40.0% ") &&
	       strstr(out, " 0..0        -        0        100.0% "),
	       "show table: best and clamped packets, - for an older module's best");
	if (!strstr(out, "40       12"))
		tap_diag("%s", out);
	free(out);
	out = capture(table_fn, "veth0");
	tap_ok(strstr(out, "dropped 4\n  group (1 >> 2): P1=approx P2=yes P3=no P4=no P5=no P6=no P7=yes\n  group (4 > 5): P1=yes P2=no P3=no P4=no P5=no P6=no\n") != NULL,
	       "show/top table: a line per nested group under the qdisc's");
	if (!strstr(out, "group (4 > 5)"))
		tap_diag("%s", out);
	free(out);
}

/* Append an attribute of @len bytes at @p, return the end */
static char *put_attr(char *p, uint16_t type, const void *data, uint16_t len)
{
	struct nlattr a = { .nla_len = NLA_HDRLEN + len, .nla_type = type };

	memcpy(p, &a, sizeof(a));
	memcpy(p + NLA_HDRLEN, data, len);
	memset(p + NLA_HDRLEN + len, 0, NLA_ALIGN(len) - len);
	return p + NLA_ALIGN(a.nla_len);
}

/* One TCA_QVISOR_QSTATS_QUEUE nest, bound only if @bound >= 0 */
static char *put_queue(char *p, uint32_t len, long bound, uint32_t tier)
{
	char in[64], *e = in;
	uint32_t b = (uint32_t)bound;

	e = put_attr(e, TCA_QVISOR_QUEUE_LEN, &len, sizeof(len));
	if (bound >= 0)
		e = put_attr(e, TCA_QVISOR_QUEUE_BOUND, &b, sizeof(b));
	e = put_attr(e, TCA_QVISOR_QUEUE_TIER, &tier, sizeof(tier));
	return put_attr(p, TCA_QVISOR_QSTATS_QUEUE | NLA_F_NESTED, in,
			(uint16_t)(e - in));
}

/* The queues from TCA_QVISOR_QSTATS (a module with it: the arrays hold
 * other values, which must not show), then from the xstats arrays only
 * (an older module), in the table and in JSON
 */
static void test_queues(void)
{
	uint32_t junk = 7;
	char buf[256], *e = buf, *out, *res;
	int rc;

	st.q.xs.backend = QVISOR_BACKEND_SPPIFO;
	st.q.xs.nqueues = 2;
	st.q.xs.queue_len[0] = 99;
	st.q.xs.queue_len[1] = 98;
	e = put_queue(e, 4, 12, 0);
	e = put_attr(e, 9, &junk, sizeof(junk));	/* unknown: skipped */
	e = put_queue(e, 0, 0, 0);
	e = put_queue(e, 7, 77, 1);
	qc_queues_read(&st.q, buf, (size_t)(e - buf));
	qc_queues_fallback(&st.q);
	out = capture(table_fn, "veth0");
	tap_ok(st.q.nqueue == 3 &&
	       strstr(out, "\nqueue 0 tier 0 bound 12 len 4\n"
			   "queue 1 tier 0 bound 0 len 0\n"
			   "queue 2 tier 1 bound 77 len 7\n") &&
	       !strstr(out, "len 99"),
	       "TCA_QVISOR_QSTATS: 3 queues in the table, the arrays unused");
	if (!strstr(out, "queue 2 tier 1 bound 77 len 7"))
		tap_diag("%s", out);
	free(out);
	out = capture(prom_fn, "veth0");
	tap_ok(strstr(out, "qvisor_queue_packets{dev=\"veth0\",queue=\"2\",tier=\"1\"} 7\n") &&
	       strstr(out, "qvisor_queue_packets{dev=\"veth0\",queue=\"1\",tier=\"0\"} 0\n") &&
	       strstr(out, "qvisor_queue_bound{dev=\"veth0\",queue=\"0\",tier=\"0\"} 12\n") &&
	       !strstr(out, "} 99\n") && !prom_strict(out, buf, sizeof(buf)),
	       "TCA_QVISOR_QSTATS: show --prom has packets and bound per queue");
	if (!strstr(out, "qvisor_queue_bound"))
		tap_diag("%s", out);
	free(out);
	if (have("jq")) {
		out = capture(json_fn, "veth0");
		rc = pipe_through("jq -c -j .qdisc.queue_stats", out, &res);
		tap_ok(rc == 0 && !strcmp(res, "[{\"queue\":0,\"tier\":0,\"bound\":12,\"len\":4},"
					  "{\"queue\":1,\"tier\":0,\"bound\":0,\"len\":0},"
					  "{\"queue\":2,\"tier\":1,\"bound\":77,\"len\":7}]"),
		       "TCA_QVISOR_QSTATS: JSON queue_stats");
		if (rc || !strstr(res, "\"len\":7"))
			tap_diag("got '%s'", res);
		free(res);
		free(out);
	}

	/* an aifo queue: no bound */
	e = put_queue(buf, 43, -1, 0);
	qc_queues_read(&st.q, buf, (size_t)(e - buf));
	out = capture(table_fn, "veth0");
	tap_ok(st.q.nqueue == 1 && strstr(out, "\nqueue 0 tier 0 len 43\n") &&
	       !strstr(out, "bound"), "TCA_QVISOR_QSTATS: aifo queue, no bound");
	free(out);
	out = capture(prom_fn, "veth0");
	tap_ok(strstr(out, "qvisor_queue_packets{dev=\"veth0\",queue=\"0\",tier=\"0\"} 43\n") &&
	       !strstr(out, "qvisor_queue_bound"),
	       "show --prom: an aifo queue has no bound");
	free(out);

	/* an older module: no TCA_QVISOR_QSTATS */
	memset(st.q.queue, 0, sizeof(st.q.queue));
	st.q.nqueue = 0;
	st.q.has_qstats = false;
	st.q.xs.queue_bound[0] = 5;
	st.q.xs.queue_tier[1] = 1;
	qc_queues_fallback(&st.q);
	out = capture(table_fn, "veth0");
	tap_ok(st.q.nqueue == 2 &&
	       strstr(out, "\nqueue 0 tier 0 bound 5 len 99\n"
			   "queue 1 tier 1 bound 0 len 98\n") &&
	       !strstr(out, "queue 2"),
	       "no TCA_QVISOR_QSTATS (older module): the xstats arrays");
	if (!strstr(out, "len 98"))
		tap_diag("%s", out);
	free(out);
	memset(&st.q.xs, 0, sizeof(st.q.xs));
	st.q.nqueue = 0;
}

int main(void)
{
	tap_plan(0);
	mkstate();
	test_json();
	test_table();
	test_queues();
	test_prom();
	return tap_done();
}
