// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host tests of qvisorctl's spec parser and plan (tools/qvisorctl/spec.c).
 *
 * - every specs/bad-X.spec must fail to parse at the line and with the
 *   text its first line names ("# expect: LINE: TEXT"), or parse and fail
 *   to plan ("# plan-error: TEXT");
 * - every specs/good-X.spec and Documentation/examples/X.spec must parse
 *   and plan, each "# plan: TEXT" line must appear in the plan output, and
 *   the plan must equal an independent synthesis built the way the kernel
 *   builds it (synth_util.h) and pass its property checks;
 * - the paper's Fig. 3 (Documentation/examples/fig3.spec) maps tenant 1's
 *   ranks 7, 8, 9 to joint ranks 0, 1, 2 and interleaves tenants 2 and 3
 *   after them;
 * - the value parsers (rates, sizes, times) against known values.
 */
#include <dirent.h>
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include "tap.h"
#include "synth_util.h"
#include "../../tools/qvisorctl/spec.c"

#define SPECS	"specs"
#define EXAMPLES "../../Documentation/examples"

static struct qs_spec sp;
static struct qs_plan plan;
static struct su ref;

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	static char buf[1 << 16];
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* plan output of the spec in sp into a malloc'ed string */
static char *plan_text(bool map)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	qs_plan_print(f, &sp, &plan, map);
	fclose(f);
	return out;
}

static void test_bad(const char *path)
{
	char *text = slurp(path), want[256], msg[600], err[256];
	int line = 0, r;

	if (!text || (sscanf(text, "# expect: %d: %255[^\n]", &line, want) != 2 &&
		      sscanf(text, "# plan-error: %255[^\n]", want) != 1)) {
		tap_ok(0, "%s: has an '# expect: LINE: TEXT' first line", path);
		return;
	}
	r = qs_parse_file(&sp, path);
	if (line) {
		snprintf(msg, sizeof(msg), "%s:%d: ", path, line);
		tap_ok(r == -1 && sp.err_line == line &&
		       !strncmp(sp.err, msg, strlen(msg)) && strstr(sp.err, want),
		       "%s: error at line %d: %s", path, line, want);
		if (r != -1 || sp.err_line != line || !strstr(sp.err, want))
			tap_diag("got: r=%d line %d \"%s\"", r, sp.err_line, sp.err);
		return;
	}
	r = r ? r : qs_plan(&sp, &plan, err, sizeof(err));
	tap_ok(r == -1 && strstr(err, want), "%s: plan fails: %s", path, want);
	if (r != -1 || !strstr(err, want))
		tap_diag("got: r=%d \"%s\" \"%s\"", r, sp.err, err);
}

/* The same synthesis built independently, as sch_qvisor_main.c's
 * qvisor_spec()/qvisor_synth() do: policy parsed by the core, each class
 * with its effective range and levels, pol_idx looked up by minor.
 */
static void cross_check(const char *path)
{
	int k, r;

	r = su_parse_groups(&ref, sp.policy_line ? sp.policy : NULL);
	for (k = 0; k < sp.ntenants; k++)
		su_add(&ref, sp.t[k].minor, sp.t[k].lo, sp.t[k].hi,
		       sp.t[k].levels);
	r = r ? r : su_synth(&ref, sp.buckets, sp.overlap);
	CHECK(r == 0, "reference synthesis failed: %s", ref.e.msg);
	if (r)
		goto out;
	CHECK(ref.s.width == plan.s.width && ref.s.tiers == plan.s.tiers,
	      "width %u/%u tiers %u/%u", plan.s.width, ref.s.width,
	      plan.s.tiers, ref.s.tiers);
	for (k = 0; k <= sp.ntenants; k++) {
		const struct qv_xform *a = &plan.xf[k], *b = &ref.xf[k];

		CHECK(a->offset == b->offset && a->width == b->width &&
		      a->levels == b->levels && a->tier == b->tier &&
		      a->level == b->level && a->lo == b->lo && a->hi == b->hi,
		      "tenant %d: plan %u+%u L%u T%u differs from reference %u+%u L%u T%u",
		      k, a->offset, a->width, a->levels, a->tier, b->offset,
		      b->width, b->levels, b->tier);
	}
	if (ref.has_pol && ref.pol.ngrp) {
		/* P1 and order inside nested groups: test_nested */
		goto out;
	}
	{
		static const u32 raw[] = { 0, 1u << 30, 1u << 31, 3u << 30,
					   0xffffffffu };

		su_fails = 0;
		su_check_all(&ref, raw, 5);
		CHECK(su_fails == 0, "property check: %s", su_msg);
	}
out:
	tap_point("%s: plan equals the kernel-style synthesis, P1/order checks hold",
		  path);
}

static void test_good(const char *path)
{
	char err[256], *text, *out, *line, want[256];
	int r = qs_parse_file(&sp, path);

	tap_ok(r == 0, "%s: parses", path);
	if (r) {
		tap_diag("%s", sp.err);
		return;
	}
	r = qs_plan(&sp, &plan, err, sizeof(err));
	tap_ok(r == 0, "%s: plans", path);
	if (r) {
		tap_diag("%s", err);
		return;
	}
	cross_check(path);
	out = plan_text(false);
	text = slurp(path);
	for (line = text; line && *line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (sscanf(line, "# plan: %255[^\n]", want) == 1) {
			tap_ok(strstr(out, want) != NULL, "%s: plan shows \"%s\"",
			       path, want);
			if (!strstr(out, want))
				tap_diag("plan output:\n%s", out);
		}
	}
	free(out);
}

static void test_dir(const char *dir, const char *prefix, bool bad)
{
	struct dirent **names;
	char path[512];
	int n, k;

	n = scandir(dir, &names, NULL, alphasort);
	tap_ok(n > 2, "%s: readable", dir);
	for (k = 0; k < n; k++) {
		const char *e = names[k]->d_name;
		size_t l = strlen(e);

		if (!strncmp(e, prefix, strlen(prefix)) && l > 5 &&
		    !strcmp(e + l - 5, ".spec")) {
			snprintf(path, sizeof(path), "%s/%s", dir, e);
			if (bad)
				test_bad(path);
			else
				test_good(path);
		}
		free(names[k]);
	}
	if (n > 0)
		free(names);
}

static void test_fig3(void)
{
	static const struct { int t; u32 raw, joint; } map[] = {
		{ 0, 7, 0 }, { 0, 8, 1 }, { 0, 9, 2 },
		{ 1, 1, 3 }, { 1, 2, 3 }, { 1, 3, 4 },
		{ 2, 3, 3 }, { 2, 4, 3 }, { 2, 5, 4 },
		{ 0, 0, 0 }, { 0, 100, 2 }, { 2, 9, 4 },	/* clamped */
	};
	static const char *const lines[] = {
		"      0: t1:7\n", "      1: t1:8\n", "      2: t1:9\n",
		"      3: t2:1..2 t3:3..4\n", "      4: t2:3 t3:5\n",
		"P1 strict      holds: tier 0 {t1} 0..2 < tier 1 {t2,t3} 3..4",
		"P3 share       holds: joint 3..4 shared by weight: t2 50.0%, t3 50.0%",
		"P6 normalized  holds: t2 1..3 and t3 3..5 both span joint 3..4",
	};
	char err[256], *out;
	unsigned int k;

	if (qs_parse_file(&sp, EXAMPLES "/fig3.spec") ||
	    qs_plan(&sp, &plan, err, sizeof(err))) {
		tap_ok(0, "fig3.spec parses and plans: %s", sp.err);
		return;
	}
	for (k = 0; k < sizeof(map) / sizeof(map[0]); k++)
		CHECK(qv_xform_apply(&plan.xf[map[k].t], map[k].raw) ==
		      map[k].joint, "tenant %s rank %u -> %u, want %u",
		      sp.t[map[k].t].name, map[k].raw,
		      qv_xform_apply(&plan.xf[map[k].t], map[k].raw),
		      map[k].joint);
	tap_point("Fig. 3: t1 ranks 7,8,9 -> joint 0,1,2; t2 1..3 and t3 3..5 interleaved on 3,4");
	out = plan_text(false);
	for (k = 0; k < sizeof(lines) / sizeof(lines[0]); k++) {
		tap_ok(strstr(out, lines[k]) != NULL, "Fig. 3 plan shows \"%.*s\"",
		       (int)strcspn(lines[k], "\n"), lines[k]);
		if (!strstr(out, lines[k]))
			tap_diag("plan output:\n%s", out);
	}
	free(out);
}

/* Units by tc's rules (iproute2 6.1 get_rate64/get_size/get_time/
 * get_time64, as q_qvisor.c uses them): the same spellings, a bare number
 * in the base unit (bit/s, bytes, usec, nsec), the result truncated.
 * selftests/host/test_units.sh checks the same strings against the plugin.
 */
static void test_values(void)
{
	static const struct { const char *s; uint64_t v; } rates[] = {
		{ "40mbit", 5000000 }, { "1gbit", 125000000 }, { "200kbit", 25000 },
		{ "8", 1 }, { "8bit", 1 }, { "100kbps", 100000 },
		{ "1.5mbit", 187500 }, { "1MBIT", 125000 }, { "1mibit", 131072 },
		{ "1tibit", 137438953472ull }, { "1tbit", 125000000000ull },
		{ "1kibit", 128 }, { "1gibit", 134217728 }, { "1KiBps", 1024 },
		{ "1MiBps", 1048576 }, { "1GiBps", 1073741824 },
		{ "1TiBps", 1099511627776ull }, { "1TBps", 1000000000000ull },
		{ "1Bps", 1 }, { "15", 1 }, { "8", 1 }, { "0", 0 }, { "1e3kbit", 125000 },
		{ ".5mbit", 62500 },
	};
	static const char *const bad_rates[] = {
		"", "-1mbit", "10 mbit", "mbit", "10parsecs", " 10mbit",
		"nanmbit", "infbit", "inf", "nan", "+1mbit", "1kbit/s",
		"99999999999tbps", "7", "1bit", "0.5bit",
	};
	static const struct { const char *s; uint32_t v; } sizes[] = {
		{ "15k", 15360 }, { "1500", 1500 }, { "1m", 1048576 },
		{ "1kb", 1024 }, { "2b", 2 }, { "1g", 1073741824 },
		{ "1gb", 1073741824 }, { "8kbit", 1024 }, { "1mbit", 131072 },
		{ "1gbit", 134217728 }, { "1.5k", 1536 }, { "3K", 3072 },
	};
	static const char *const bad_sizes[] = {
		"5x", "nan", "infk", "4g", "-1", "1kib",
	};
	static const struct { const char *s; uint32_t v; } times[] = {
		{ "1ms", 1000 }, { "250us", 250 }, { "2s", 2000000 }, { "5", 5 },
		{ "1sec", 1000000 }, { "2secs", 2000000 }, { "3msec", 3000 },
		{ "4msecs", 4000 }, { "7usec", 7 }, { "8usecs", 8 },
		{ "1.5ms", 1500 },
	};
	static const struct { const char *s; uint64_t v; } times64[] = {
		{ "10ms", 10000000 }, { "5", 5 }, { "3ns", 3 }, { "4nsec", 4 },
		{ "1us", 1000 }, { "2s", 2000000000 }, { "1.5us", 1500 },
	};
	uint64_t r;
	uint32_t v;
	unsigned int k;

	for (k = 0; k < sizeof(rates) / sizeof(rates[0]); k++)
		CHECK(qs_get_rate(rates[k].s, &r) == 0 && r == rates[k].v,
		      "rate %s -> %llu, want %llu", rates[k].s,
		      (unsigned long long)r, (unsigned long long)rates[k].v);
	for (k = 0; k < sizeof(bad_rates) / sizeof(bad_rates[0]); k++)
		CHECK(qs_get_rate(bad_rates[k], &r) != 0,
		      "rate '%s' accepted", bad_rates[k]);
	tap_point("rates in tc's units, bad rates refused");
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
		CHECK(qs_get_size(sizes[k].s, &v) == 0 && v == sizes[k].v,
		      "size %s -> %u, want %u", sizes[k].s, v, sizes[k].v);
	for (k = 0; k < sizeof(bad_sizes) / sizeof(bad_sizes[0]); k++)
		CHECK(qs_get_size(bad_sizes[k], &v) != 0,
		      "size '%s' accepted", bad_sizes[k]);
	for (k = 0; k < sizeof(times) / sizeof(times[0]); k++)
		CHECK(qs_get_time_us(times[k].s, &v) == 0 && v == times[k].v,
		      "time %s -> %u us, want %u", times[k].s, v, times[k].v);
	for (k = 0; k < sizeof(times64) / sizeof(times64[0]); k++)
		CHECK(qs_get_time_ns(times64[k].s, &r) == 0 && r == times64[k].v,
		      "time %s -> %llu ns, want %llu", times64[k].s,
		      (unsigned long long)r, (unsigned long long)times64[k].v);
	CHECK(qs_get_time_us("nanms", &v) != 0, "nanms accepted as a time");
	CHECK(qs_get_time_us("5ns", &v) != 0, "ns accepted by get_time");
	CHECK(qs_get_time_us("5000s", &v) != 0, "5000s fits no u32 usec");
	CHECK(qs_get_u32("4294967296", &v) != 0, "u32 overflow accepted");
	CHECK(qs_get_u32("0x10", &v) == 0 && v == 16, "0x10 -> %u", v);
	tap_point("sizes, times and numbers");
}

/* a spec string with every default left to the kernel's values */
static void test_defaults(void)
{
	int r = qs_parse_string(&sp, "inline",
				"[link]\n[tenant a]\nclass = 1\n"
				"[tenant b]\nclass = 2\nrank = dscp\n"
				"[tenant c]\nclass = 3\nrank = mark 0xf0\n"
				"[tenant d]\nclass = 4\nrank = fifo\n");

	CHECK(r == 0, "parse: %s", sp.err);
	if (!r) {
		CHECK(sp.handle == 1 && sp.buckets == QVISOR_DEF_BUCKETS &&
		      sp.overlap == QVISOR_DEF_OVERLAP, "link defaults");
		CHECK(sp.t[0].rank == QVISOR_RANK_PRIO &&
		      sp.t[0].lo == 0 && sp.t[0].hi == 255 &&
		      sp.t[0].levels == QVISOR_DEF_LEVELS &&
		      sp.t[0].weight == 1, "prio defaults %u..%u L%u W%u",
		      sp.t[0].lo, sp.t[0].hi, sp.t[0].levels, sp.t[0].weight);
		CHECK(sp.t[1].hi == 63, "dscp hi %u", sp.t[1].hi);
		CHECK(sp.t[2].hi == 15 && sp.t[2].mark_mask == 0xf0,
		      "mark 0xf0 hi %u", sp.t[2].hi);
		CHECK(sp.t[3].hi == 0, "fifo hi %u", sp.t[3].hi);
	}
	tap_point("defaults are the kernel's (qvisor_cfg_range, levels 64, weight 1)");
}

/* AQM keys: on by default as in the kernel, the limit apply sets follows
 * the kernel's rule for a rate with the AQM on, plan --tc says it all
 */
static void test_aqm_keys(void)
{
	static const struct { const char *link; uint32_t limit; } lim[] = {
		{ "", QVISOR_DEF_LIMIT },
		{ "rate = 5mbit\n", 64 },
		{ "rate = 10gbit\n", 82562 },
		{ "rate = 10gbit\naqm = no\n", QVISOR_DEF_LIMIT },
		{ "rate = 5mbit\nlimit = 500\n", 500 },
	};
	char buf[4096], text[256];
	unsigned int k;
	FILE *f;
	int r;

	for (k = 0; k < sizeof(lim) / sizeof(lim[0]); k++) {
		snprintf(text, sizeof(text), "[link]\n%s[tenant a]\nclass = 1\n",
			 lim[k].link);
		r = qs_parse_string(&sp, "inline", text);
		CHECK(r == 0 && qs_qdisc_limit(&sp) == lim[k].limit,
		      "limit of '%s': %u, want %u (%s)", lim[k].link,
		      qs_qdisc_limit(&sp), lim[k].limit, sp.err);
	}
	r = qs_parse_string(&sp, "inline", "[link]\n[tenant a]\nclass = 1\n");
	CHECK(r == 0 && qs_aqm_on(&sp) && qs_ecn_on(&sp) &&
	      qs_target_us(&sp) == 5000 && qs_interval_us(&sp) == 100000 &&
	      !sp.memlimit && !sp.t[0].aqm && !sp.t[0].target_us,
	      "AQM defaults: on, ecn, 5ms, 100ms, no memlimit, tenants inherit");
	tap_point("AQM on by default; the limit of a spec is the kernel's (5mbit: 64, 10gbit: 82562, noaqm: 10000)");

	r = qs_parse_string(&sp, "inline",
			    "[link]\ndev = eth0\nrate = 5mbit\naqm = no\necn = no\n"
			    "target = 2ms\ninterval = 40ms\nmemlimit = 4m\n"
			    "[tenant a]\nclass = 1\naqm = yes\necn = yes\n"
			    "target = 1ms\ninterval = 20ms\n"
			    "[tenant b]\nclass = 2\naqm = no\n");
	CHECK(r == 0, "parse: %s", sp.err);
	if (r)
		return;
	CHECK(!qs_aqm_on(&sp) && !qs_ecn_on(&sp) && sp.memlimit == 4194304 &&
	      sp.t[0].aqm == QVISOR_AQM_ON && sp.t[0].ecn == QVISOR_AQM_ON &&
	      sp.t[0].target_us == 1000 && sp.t[0].interval_us == 20000 &&
	      sp.t[1].aqm == QVISOR_AQM_OFF && !sp.t[1].ecn,
	      "AQM keys parsed");
	f = fmemopen(buf, sizeof(buf), "w");
	qs_plan_tc(f, &sp);
	fclose(f);
	CHECK(strstr(buf, " memlimit 4194304b noaqm noecn policy") ||
	      strstr(buf, " memlimit 4194304b noaqm noecn\n"),
	      "plan --tc qdisc: %s", buf);
	CHECK(strstr(buf, " limit 10000 ") != NULL, "noaqm keeps 10000: %s", buf);
	CHECK(strstr(buf, "classid 1:1 qvisor rank prio range 0 255 levels 64 weight 1 aqm ecn target 1000us interval 20000us\n") &&
	      strstr(buf, "classid 1:2 qvisor rank prio range 0 255 levels 64 weight 1 noaqm\n"),
	      "plan --tc classes: %s", buf);
	tap_point("aqm, ecn, target, interval, memlimit per link and aqm, ecn, target, interval per tenant, in plan --tc");
	if (qs_plan(&sp, &plan, text, sizeof(text)) == 0) {
		char *out = plan_text(false);

		tap_ok(strstr(out, " rate 5mbit limit 10000p memlimit 4194304b noaqm\n") != NULL,
		       "plan shows the limit in effect, memlimit and noaqm");
		if (!strstr(out, " noaqm\n"))
			tap_diag("%s", out);
		free(out);
	} else {
		tap_ok(0, "plan of the AQM spec: %s", text);
	}

	r = qs_parse_string(&sp, "inline", "[link]\naqm = maybe\n[tenant a]\nclass = 1\n");
	CHECK(r != 0 && strstr(sp.err, "aqm: expected yes or no"), "%s", sp.err);
	r = qs_parse_string(&sp, "inline", "[link]\nmemlimit = 5x\n[tenant a]\nclass = 1\n");
	CHECK(r != 0 && strstr(sp.err, "memlimit:"), "%s", sp.err);
	r = qs_parse_string(&sp, "inline", "[link]\ninterval = 4ms\n[tenant a]\nclass = 1\n");
	CHECK(r != 0 && strstr(sp.err, "AQM target must be below its interval"),
	      "%s", sp.err);
	tap_point("bad AQM keys refused with their messages");
}

/* --- the kernel's refusals, reproduced offline --------------------------
 *
 * Every extack text of sch_qvisor_main.c (NL_SET_ERR_MSG*) and every error of
 * the portable core (qv_fail() in the core .c files) is read from the
 * sources and must be in this table: with a spec that the kernel would
 * refuse with that text, for which check (parse + plan) must fail with
 * the same text; or with the reason no spec can reach it.  A new kernel
 * message fails this test until it is added here.
 */
#define KSRC	"../../sch_qvisor_main.c"
#define KCORE	"../../core"

#define LINK	"[link]\ndev = veth0\n"
#define T1	"[tenant a]\nclass = 1\n"
#define T2	"[tenant b]\nclass = 2\n"
#define T3	"[tenant c]\nclass = 3\n"

/* A refusal is an extack text of sch_qvisor.c or the core (msg), or a
 * range of the kernel's netlink policy (attr, e.g. "TCA_QVISOR_LIMIT":
 * the netlink core then says "integer out of range" and names the
 * attribute; check says what the range is).
 */
static const struct krefusal {
	const char *msg;	/* as in the kernel source, or check's text */
	const char *spec;	/* NULL: not reachable from a spec */
	const char *why;	/* when not */
	const char *attr;	/* checked by the kernel's nla_policy */
} krefusals[] = {
	{ "limit must be at least 1 packet", LINK "limit = 0\n" T1, NULL, "TCA_QVISOR_LIMIT" },
	{ "buckets must be a power of two from 64 to 65536",
	  LINK "buckets = 100\n" T1, NULL },
	{ "slot must be from 1us to 1s", LINK "slot = 2s\n" T1, NULL, "TCA_QVISOR_SLOT" },
	{ "default must be a class minor 0..ffff", LINK "default = 10000\n" T1, NULL, "TCA_QVISOR_DEFAULT" },
	{ "overlap must be a percentage 0..100", LINK "overlap = 101\n" T1, NULL, "TCA_QVISOR_OVERLAP" },
	{ "backend", NULL, "backends are named; an unknown name is a parse error", "TCA_QVISOR_BACKEND" },
	{ "partial", NULL, "partial is yes or no in a spec", "TCA_QVISOR_PARTIAL" },
	{ "split_gso", NULL, "split_gso is auto, yes or no in a spec", "TCA_QVISOR_SPLIT_GSO" },
	{ "Properties are reported, not set", NULL, "a spec has no key for TCA_QVISOR_PROPS" },
	{ "Queue statistics are reported, not set", NULL, "a spec has no key for TCA_QVISOR_QSTATS" },
	{ "queues must be from 2 to 32", LINK "backend = sppifo 33\n" T1, NULL, "TCA_QVISOR_QUEUES" },
	{ "flows must be a power of two from 16 to 262144", LINK "flows = 100\n" T1, NULL },
	{ "flow_idle must be at least 1us", LINK "flow_idle = 0\n" T1, NULL, "TCA_QVISOR_FLOW_IDLE" },
	{ "Failed to replace the rate estimator", NULL, "a spec sets no rate estimator (TCA_RATE)" },
	{ "the budget is at most one hour", LINK T1 "rank = edf 3601s\n", NULL, "TCA_QVISOR_CLASS_EDF_BUDGET" },
	{ "mark_budget", NULL, "mark_budget is a word in a spec", "TCA_QVISOR_CLASS_EDF_MARK" },
	{ "range auto window must be 0 (off) or 16 to 32768 packets",
	  LINK T1 "range = auto window 15\n", NULL },
	{ "range auto window must be 0 (off) or 16 to 32768 packets",
	  LINK T1 "range = auto 0 9 window 32769\n", NULL,
	  "TCA_QVISOR_CLASS_RANGE_AUTO" },
	{ "Backend can change only while the queue is empty (packets are queued)",
	  NULL, "depends on the queue at apply time; apply reports the kernel's text" },
	{ "rank", NULL, "rank sources are named; an unknown name is a parse error", "TCA_QVISOR_CLASS_RANK" },
	{ "rank edf needs a deadline budget greater than 0",
	  LINK T1 "rank = edf 0\n", NULL },
	{ "mark mask must not be zero", LINK T1 "rank = mark 0\n", NULL },
	{ "range LO must not be above HI", LINK T1 "range = 9 7\n", NULL },
	{ "levels must be from 1 to 65536", LINK T1 "levels = 0\n", NULL, "TCA_QVISOR_CLASS_LEVELS" },
	{ "weight must be from 1 to 65535", LINK T1 "weight = 0\n", NULL, "TCA_QVISOR_CLASS_WEIGHT" },
	{ "Too many tenants (at most 4096 classes)", "" /* generated */, NULL },
	{ "classid must be MAJOR:MINOR of this qdisc with MINOR not 0",
	  LINK "[tenant a]\nclass = 0\n", NULL },
	{ "Tenant classes hang off the qdisc itself", NULL, "apply makes every class a child of the qdisc" },
	{ "Class is in use by a filter", NULL,
	  "apply removes its own filters before their classes; a foreign filter's class is reported with the kernel's text" },
	{ "Filters attach to the qdisc, not to a tenant class", NULL, "apply attaches filters to the qdisc" },
	{ "AQM target must be below its interval",
	  LINK "target = 200ms\n" T1, NULL },
	{ "AQM target must be below its interval",
	  LINK T1 "target = 30ms\ninterval = 20ms\n", NULL },
	{ "aqm", NULL, "aqm is yes or no in a spec", "TCA_QVISOR_AQM" },
	{ "ecn", NULL, "ecn is yes or no in a spec", "TCA_QVISOR_ECN" },
	{ "target must be from 1us to 1s", LINK "target = 2s\n" T1, NULL, "TCA_QVISOR_TARGET" },
	{ "interval must be from 1us to 10s", LINK "interval = 11s\n" T1, NULL, "TCA_QVISOR_INTERVAL" },
	{ "class aqm", NULL, "aqm is yes or no in a spec", "TCA_QVISOR_CLASS_AQM" },
	{ "class ecn", NULL, "ecn is yes or no in a spec", "TCA_QVISOR_CLASS_ECN" },
	{ "target must be from 1us to 1s", LINK T1 "target = 2s\n", NULL, "TCA_QVISOR_CLASS_TARGET" },
	{ "interval must be from 1us to 10s", LINK T1 "interval = 0\n", NULL, "TCA_QVISOR_CLASS_INTERVAL" },
	{ "The policy is a tree now, not a string", NULL,
	  "qvisorctl sends the policy as TCA_QVISOR_POLICY_TREE" },
	/* the core: the policy tree the kernel validates (policy_tree.c);
	 * qvisorctl encodes a parsed policy, so only raw netlink (qvnl,
	 * qvfuzz in the VM) reaches these
	 */
	{ "Malformed policy tree", NULL, "qvisorctl encodes a well-formed tree" },
	{ "Policy group kind given twice", NULL, "qvisorctl gives each group one kind" },
	{ "Unknown policy group kind", NULL, "qvisorctl sends known kinds" },
	{ "Policy group without a kind", NULL, "qvisorctl gives each group a kind" },
	{ "Policy group inside a group of its own kind", NULL,
	  "the parser splices such groups, and the kernel decodes without groups" },
	{ "Policy tree is nested too deep",
	  LINK "policy = 1 >> 2 > 3 + (4 >> 5 > 6 + (7 >> 8 > 9 + (a >> b > c + (d >> e > f + 10))))\n"
	  T1, NULL },
	{ "Too many groups in policy", "" /* generated */, NULL },
	{ "Tenants must be an array of 16-bit class minors", NULL,
	  "qvisorctl packs minors two bytes each" },
	{ "Unknown attribute in a policy group", NULL, "qvisorctl sends known attributes" },
	{ "Policy group has no members", NULL, "a parsed policy has no empty group" },
	/* the core: the string parser (policy.c, in qvisorctl and tc), the
	 * synthesizer and the queue map (synth.c, qmap.c)
	 */
	{ "Expected a tenant at end of policy", LINK "policy = 1 >>\n" T1, NULL },
	{ "Expected a tenant", LINK "policy = 1 >> >> 2\n" T1 T2, NULL },
	{ "Expected a class minor after ':'", LINK "policy = 1:\n" T1, NULL },
	{ "Tenant must be a class minor 1..ffff", LINK "policy = 1 >> 10000\n" T1, NULL },
	{ "Unknown operator '>>>'", LINK "policy = 1 >>> 2\n" T1 T2, NULL },
	{ "Expected '>>', '>' or '+' between tenants", LINK "policy = 1 2\n" T1 T2, NULL },
	{ "Policy is empty", LINK "policy = \"\"\n" T1, NULL },
	{ "Nested groups are not supported here", NULL,
	  "qvisorctl parses and decodes with room for nested groups, as the kernel" },
	{ "Empty parentheses", LINK "policy = 1 + ()\n" T1, NULL },
	{ "Unbalanced '(' in policy", LINK "policy = (1 >> 2\n" T1 T2, NULL },
	{ "Unbalanced ')' in policy", LINK "policy = 1 + 2)\n" T1 T2, NULL },
	{ "Parentheses nested too deep",
	  LINK "policy = (((((1 >> 2) + 3) > 4) >> 5) + 6) + 7\n" T1, NULL },
	{ "Nested groups need room to be placed", NULL, "qvisorctl's plan has room (qs_plan.place)" },
	{ "Tenant appears twice in policy", LINK "policy = 1 + 1\n" T1, NULL },
	{ "Too many tenants in policy", "" /* generated */, NULL },
	{ "Policy needs more joint ranks than buckets", "" /* generated */, NULL },
	{ "Overlap must be 0..100", NULL, "the qdisc's own check (overlap must be a percentage 0..100) comes first" },
	{ "Rank range has lo above hi", NULL, "the class's own check (range LO must not be above HI) comes first" },
	{ "Queue map needs 1 to 32 queues", NULL, "queues is 2..32 (checked first) or 1 for aifo/fifo" },
	{ "More strict tiers than sppifo queues: add queues or set partial",
	  LINK "backend = sppifo 2\npolicy = 1 >> 2 >> 3\n" T1 T2 T3, NULL },
};

/* string literals following each occurrence of key in file (adjacent
 * literals joined); calls fn for each
 */
static int scan_msgs(const char *path, const char *key,
		     void (*fn)(const char *msg, const char *where))
{
	static char text[1 << 20];
	char msg[512], *p, *q;
	FILE *f = fopen(path, "r");
	size_t n, len;
	int found = 0;

	if (!f)
		return -1;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	for (p = strstr(text, key); p; p = strstr(p + 1, key)) {
		char *close = strchr(p, ';');

		if (p > text && p[-1] != ' ' && p[-1] != '\t' && p[-1] != '(')
			continue;	/* a definition such as "int qv_fail(" */
		q = strchr(p, '"');
		if (!q || (close && q > close))
			continue;	/* no literal: a message passed on */
		len = 0;
		while (q && *q == '"') {
			char *e = strchr(q + 1, '"');

			if (!e || len + (size_t)(e - q - 1) >= sizeof(msg))
				break;
			memcpy(msg + len, q + 1, (size_t)(e - q - 1));
			len += (size_t)(e - q - 1);
			q = e + 1;
			while (*q == ' ' || *q == '\t' || *q == '\n')
				q++;
		}
		msg[len] = '\0';
		fn(msg, path);
		found++;
	}
	return found;
}

/* "[ATTR]" of the kernel's nla_policy with a range or a reject */
static bool kpolicy_has(const char *attr)
{
	static char text[1 << 20];
	static size_t n;
	char key[96], *p, *end;
	FILE *f;

	if (!n && (f = fopen(KSRC, "r"))) {
		n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
		text[n] = '\0';
	}
	snprintf(key, sizeof(key), "[%s]", attr);
	for (p = strstr(text, key); p; p = strstr(p + 1, key)) {
		end = strstr(p, ",\n");
		if (end && (memmem(p, (size_t)(end - p), "NLA_POLICY_", 11) ||
			    memmem(p, (size_t)(end - p), "NLA_REJECT", 10)))
			return true;
	}
	return false;
}

static int kmsgs_found;

static void kmsg_listed(const char *msg, const char *where)
{
	unsigned int k;

	kmsgs_found++;
	for (k = 0; k < sizeof(krefusals) / sizeof(krefusals[0]); k++)
		if (!krefusals[k].attr && !strcmp(krefusals[k].msg, msg))
			return;
	CHECK(0, "%s: kernel message \"%s\" is not in krefusals[]", where, msg);
}

static bool kmsg_seen;
static const char *kmsg_want;

static void kmsg_find(const char *msg, const char *where)
{
	(void)where;
	if (!strcmp(msg, kmsg_want))
		kmsg_seen = true;
}

static void scan_all(void (*fn)(const char *, const char *))
{
	static const char *const core[] = { "policy.c", "policy_tree.c",
					    "synth.c", "qmap.c" };
	char path[256];
	unsigned int k;

	CHECK(scan_msgs(KSRC, "NL_SET_ERR_MSG", fn) > 0, "no messages in %s", KSRC);
	scan_msgs(KSRC, ".reject_message", fn);
	for (k = 0; k < sizeof(core) / sizeof(core[0]); k++) {
		snprintf(path, sizeof(path), "%s/%s", KCORE, core[k]);
		scan_msgs(path, "qv_fail(", fn);
		scan_msgs(path, "qv_ptree_fail(", fn);
	}
}

/* text of a spec with n tenants; with op, only tenant 1 and a policy
 * "1 OP 2 OP ... OP n"; with op and decl, all n declared
 */
static char *many_tenants(int n, const char *op, bool decl)
{
	size_t cap = (size_t)n * 48 + 256, used = 0;
	char *t = malloc(cap);
	int k;

	used += (size_t)snprintf(t + used, cap - used, LINK "buckets = 64\n");
	if (op) {
		used += (size_t)snprintf(t + used, cap - used, "policy = 1");
		for (k = 2; k <= n; k++)
			used += (size_t)snprintf(t + used, cap - used, "%s%x",
						 op, k);
		used += (size_t)snprintf(t + used, cap - used, "\n");
		if (!decl) {
			snprintf(t + used, cap - used, T1);
			return t;
		}
	}
	for (k = 1; k <= n; k++)
		used += (size_t)snprintf(t + used, cap - used,
					 "[tenant t%d]\nclass = %x\n", k, k);
	return t;
}

/* text of a spec whose policy has n nested groups "(1 >> 2) + (3 >> 4) ..." */
static char *many_groups(int n)
{
	size_t cap = (size_t)n * 24 + 256, used = 0;
	char *t = malloc(cap);
	int k;

	used += (size_t)snprintf(t + used, cap - used, LINK "policy = ");
	for (k = 0; k < n; k++)
		used += (size_t)snprintf(t + used, cap - used, "%s(%x >> %x)",
					 k ? " + " : "", 2 * k + 1, 2 * k + 2);
	snprintf(t + used, cap - used, "\n" T1);
	return t;
}

static void test_kernel_refusals(void)
{
	unsigned int k;
	char err[256], *gen;
	int r;

	kmsgs_found = 0;
	scan_all(kmsg_listed);
	tap_point("all %d refusals of sch_qvisor_main.c and the core are in the table",
		  kmsgs_found);
	for (k = 0; k < sizeof(krefusals) / sizeof(krefusals[0]); k++) {
		const struct krefusal *kr = &krefusals[k];

		if (kr->attr) {
			tap_ok(kpolicy_has(kr->attr),
			       "table entry \"%s\": the kernel's nla_policy checks %s",
			       kr->msg, kr->attr);
		} else {
			kmsg_seen = false;
			kmsg_want = kr->msg;
			scan_all(kmsg_find);
			tap_ok(kmsg_seen, "table entry \"%s\" is a kernel message",
			       kr->msg);
		}
		if (!kr->spec) {
			tap_ok(kr->why && *kr->why, "\"%s\": not reachable from a spec: %s",
			       kr->msg, kr->why);
			continue;
		}
		gen = NULL;
		if (!*kr->spec && strstr(kr->msg, "groups"))
			gen = many_groups(QV_POLICY_MAX_GROUPS + 1);
		else if (!*kr->spec && strstr(kr->msg, "buckets"))
			gen = many_tenants(64, " >> ", true);	/* 65 tiers */
		else if (!*kr->spec)
			gen = many_tenants(4097, strstr(kr->msg, "policy") ?
					   "+" : NULL, false);
		err[0] = '\0';
		r = qs_parse_string(&sp, "k.spec", gen ? gen : kr->spec);
		if (r == 0)
			r = qs_plan(&sp, &plan, err, sizeof(err));
		tap_ok(r == -1 && (strstr(sp.err, kr->msg) || strstr(err, kr->msg)),
		       "check refuses with the kernel's text: %s", kr->msg);
		if (r != -1 || (!strstr(sp.err, kr->msg) && !strstr(err, kr->msg)))
			tap_diag("got r=%d \"%s\" \"%s\"", r, sp.err, err);
		free(gen);
	}
	/* and the limits are the kernel's, not lower: 4096 tenants plan */
	gen = many_tenants(4096, NULL, false);
	r = qs_parse_string(&sp, "4096.spec", gen);
	r = r ? r : qs_plan(&sp, &plan, err, sizeof(err));
	tap_ok(r == 0 && sp.ntenants == 4096, "4096 tenants (the kernel's maximum) plan");
	if (r)
		tap_diag("%s %s", sp.err, err);
	free(gen);
}

/* check refuses what apply cannot install: more filters than its band */
static void test_filter_limit(void)
{
	size_t cap = 1 << 20, used;
	char *t = malloc(cap), err[256];
	int k, m, r, n;

	for (n = 512; n <= 513; n++) {
		/* n tenants of 8 dscp matches: 2 filters each (ip, ipv6) */
		used = (size_t)snprintf(t, cap, LINK);
		for (k = 1; k <= n; k++) {
			used += (size_t)snprintf(t + used, cap - used,
						 "[tenant t%d]\nclass = %x\n", k, k);
			for (m = 0; m < 8; m++)
				used += (size_t)snprintf(t + used, cap - used,
							 "match = dscp %d indev d%d\n",
							 m, k);
		}
		err[0] = '\0';
		r = qs_parse_string(&sp, "f.spec", t);
		r = r ? r : qs_plan(&sp, &plan, err, sizeof(err));
		if (n == 512)
			tap_ok(r == 0 && qs_nfilters(&sp) == QS_MAX_FILTERS,
			       "%d filters (the band) plan", QS_MAX_FILTERS);
		else
			tap_ok(r == -1 && strstr(err, "the matches need 8208 filters, qvisorctl applies at most 8192"),
			       "8208 filters are refused by check: %s", err);
	}
	free(t);
}

/* the conflict warnings, each at its line */
static void test_warnings(void)
{
	static const char spec[] =
		"[link]\n"				/* 1 */
		"dev = veth0\n"
		"rate = 100mbit\n"
		"limit = 1000\n"
		"policy = 1 >> 2 + 3\n"			/* 5 */
		"[tenant a]\n"
		"class = 1\n"
		"weight = 3\n"
		"match = src 10.0.0.0/24\n"
		"match = src 10.0.0.0/24\n"		/* 10 */
		"[tenant b]\n"
		"class = 2\n"
		"match = src 10.0.0.7\n"
		"ceil = 1gbit\n"
		"match = src fd00::/64\n"		/* 15 */
		"[tenant c]\n"
		"class = 3\n"
		"limit = 5000\n"
		"match = src fd00::5\n"
		"match = src 10.0.0.0/16\n"		/* 20 */
		"[tenant d]\n"
		"class = 4\n"
		"[tenant e]\n"
		"class = 5\n"
		"match = dscp 10\n";			/* 25 */
	static const char *const want[] = {
		"w.spec:8: warning: weight 3 of tenant a has no effect: it is alone in its sharing group",
		"w.spec:14: warning: ceil 1gbit of tenant b is above the link rate 100mbit",
		"w.spec:18: warning: limit 5000 of tenant c is above the qdisc limit 1000",
		"w.spec:21: warning: tenant d has no match and is not the default class",
		"w.spec:21: warning: tenant d (class 1:4) is missing from the policy",
		"w.spec:23: warning: tenant e (class 1:5) is missing from the policy",
		"w.spec:10: warning: duplicate match (src 10.0.0.0/24) of tenant a: line 9 (tenant a) has it already",
		"w.spec:13: warning: match (src 10.0.0.7/32) of tenant b never matches: match (src 10.0.0.0/24) of tenant a at line 9 contains it",
		"w.spec:19: warning: match (src fd00::5/128) of tenant c never matches: match (src fd00::/64) of tenant b at line 15 contains it",
		"w.spec:20: warning: match (src 10.0.0.0/16) of tenant c contains match (src 10.0.0.0/24) of tenant a at line 9: those packets go to a",
	};
	char err[256], *out = NULL;
	size_t len = 0, k, lines = 0;
	FILE *f;
	int n = -1;

	if (qs_parse_string(&sp, "w.spec", spec) ||
	    qs_plan(&sp, &plan, err, sizeof(err))) {
		tap_ok(0, "warnings spec plans: %s %s", sp.err, err);
		return;
	}
	f = open_memstream(&out, &len);
	n = qs_warnings(f, &sp, &plan);
	fclose(f);
	for (k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
		tap_ok(strstr(out, want[k]) != NULL, "warning: %s", want[k]);
		if (!strstr(out, want[k]))
			tap_diag("warnings:\n%s", out);
	}
	for (k = 0; k < len; k++)
		lines += out[k] == '\n';
	/* twice for b's /32 (a's two /24 lines), e's dscp vs nothing */
	/* and the second /24 of a repeats its two */
	tap_ok(n == 13 && lines == 13, "exactly the expected warnings (%d, %zu lines)",
	       n, lines);
	if (n != 13)
		tap_diag("warnings:\n%s", out);
	free(out);
	/* a clean spec has none */
	if (qs_parse_file(&sp, SPECS "/good-flowranks.spec") == 0 &&
	    qs_plan(&sp, &plan, err, sizeof(err)) == 0) {
		f = open_memstream(&out, &len);
		n = qs_warnings(f, &sp, &plan);
		fclose(f);
		tap_ok(n == 0, "good-flowranks.spec: no warnings");
		if (n)
			tap_diag("%s", out);
		free(out);
	}
}

/* iface/alias/mac matches and the template's expansion (what apply and
 * watch do with the devices they find)
 */
static void test_expand(void)
{
	static struct qs_spec prev;
	static const char spec[] =
		"[link]\n"
		"dev = eth0\n"
		"policy = 1 >> 2 + 3\n"
		"[tenant gold]\n"
		"class = 1\n"
		"match = iface tap101i*\n"
		"match = mac 52:54:00:12:34:56\n"
		"[tenant silver]\n"
		"class = 2\n"
		"match = alias vm-silver-*\n"
		"[tenant rest]\n"
		"class = 3\n"
		"[template vm]\n"
		"iface = vnet*\n"
		"classes = 100-101\n"
		"share = rest\n"
		"rank = fifo\n"
		"weight = 10\n";
	struct qs_link l[] = {
		{ 1, "eth0", "" },
		{ 2, "tap101i0", "" },
		{ 3, "vnet0", "vm-silver-7" },	/* claimed by silver */
		{ 4, "vnet1", "" },
		{ 5, "vnet2", "" },
		{ 6, "vnet3", "" },		/* template full */
		{ 7, "tap102i0", "" },
	};
	const struct qs_match *g0, *g1, *s0;
	int r;

	r = qs_parse_string(&sp, "x.spec", spec);
	tap_ok(r == 0 && sp.ndeclared == 3 && sp.tmpl.set &&
	       sp.tmpl.lo == 0x100 && sp.tmpl.hi == 0x101 &&
	       sp.tmpl.t.weight == 10, "template parses: %s", sp.err);
	g0 = &sp.t[0].match[0];
	g1 = &sp.t[0].match[1];
	s0 = &sp.t[1].match[0];
	tap_ok(qs_match_dynamic(g0) && !qs_match_dynamic(g1) &&
	       g1->has_mac && g1->mac[0] == 0x52 && g1->mac[5] == 0x56 &&
	       qs_match_filters(g1) == 1 && qs_match_proto(g1, 0) == ETH_P_ALL,
	       "mac match is one flower filter for every protocol");
	tap_ok(qs_link_matches(g0, &l[1]) && !qs_link_matches(g0, &l[6]) &&
	       qs_link_matches(s0, &l[2]) && !qs_link_matches(s0, &l[3]),
	       "iface glob and alias glob select devices");
	r = qs_expand(&sp, l, 7, NULL);
	tap_ok(r == 1 && sp.ntenants == 5 &&
	       !strcmp(sp.t[3].name, "vm-vnet1") && sp.t[3].minor == 0x100 &&
	       !strcmp(sp.t[3].match[0].indev, "vnet1") &&
	       sp.t[4].minor == 0x101 && sp.t[4].weight == 10 &&
	       sp.t[4].rank == QVISOR_RANK_FIFO,
	       "template: one tenant per unclaimed vnet*, vnet3 over the limit (r=%d n=%d %s)",
	       r, sp.ntenants, sp.err);
	tap_ok(!strcmp(sp.policy, "1 >> 2 + 3 + 100 + 101") && sp.pol.n == 5 &&
	       qs_plan(&sp, &plan, sp.err, sizeof(sp.err)) == 0,
	       "template tenants join rest's '+' group: \"%s\"", sp.policy);
	/* vnet1 goes away: vnet3 takes a class, vnet2 keeps 101 */
	qs_spec_copy(&prev, &sp);
	qs_parse_string(&sp, "x.spec", spec);
	l[3].name[0] = 'x';
	r = qs_expand(&sp, l, 7, &prev);
	tap_ok(r == 0 && sp.ntenants == 5 &&
	       !strcmp(sp.t[3].match[0].indev, "vnet2") && sp.t[3].minor == 0x101 &&
	       !strcmp(sp.t[4].match[0].indev, "vnet3") && sp.t[4].minor == 0x100,
	       "a device keeps its template class while it exists");
	/* no template: expand changes nothing */
	qs_parse_string(&sp, "y.spec", "[link]\ndev = eth0\n[tenant a]\nclass = 1\nmatch = iface vnet*\n");
	tap_ok(qs_expand(&sp, l, 7, NULL) == 0 && sp.ntenants == 1,
	       "no template: nothing added");
}

/* nested groups: parsed with room for groups, planned, copied, joined by
 * a template, printed with their parentheses and their own properties
 */
static void test_nested(void)
{
	static struct qs_spec cp;
	static const char spec[] =
		"[link]\n"
		"dev = eth0\n"
		"policy = 1 >> (2 + (3 > 4))\n"
		"[tenant a]\nclass = 1\n"
		"[tenant b]\nclass = 2\n"
		"[tenant c]\nclass = 3\n"
		"[tenant d]\nclass = 4\n"
		"[template vm]\n"
		"iface = vnet*\n"
		"classes = 100-101\n"
		"share = c\n";
	struct qs_link l[] = { { 1, "eth0", "" }, { 2, "vnet0", "" } };
	char err[256], *out = NULL;
	size_t n = 0;
	FILE *f;
	int r;

	r = qs_parse_string(&sp, "n.spec", LINK "policy = (1 >> 2) + 3\n" T1 T2 T3);
	tap_ok(r == 0 && sp.pol.n == 3 && sp.pol.ngrp == 1 &&
	       sp.pol.grp == sp.grp && sp.grp[0].first == 0 &&
	       sp.grp[0].end == 2 && sp.grp[0].tiers == 2,
	       "\"(1 >> 2) + 3\" parses: one nested group of two tiers (r=%d %s)",
	       r, sp.err);
	r = qs_plan(&sp, &plan, err, sizeof(err));
	tap_ok(r == 0 && plan.xf[0].nest == 1 && plan.xf[1].nest == 1 &&
	       plan.xf[2].nest == 0 && plan.xf[0].offset + plan.xf[0].width <=
	       plan.xf[1].offset,
	       "it plans: 1 and 2 in group 1, 1's joint ranks below 2's (%s)",
	       r ? err : "");
	tap_ok(plan.gprops[0] == (QV_PROP_APPROX(1) | QV_PROP_HOLDS(2) |
				  QV_PROP_HOLDS(3) | QV_PROP_HOLDS(4) |
				  QV_PROP_HOLDS(5) | QV_PROP_HOLDS(6) |
				  QV_PROP_HOLDS(7) | QV_PROP_KNOWN(7)),
	       "pifo: P1 inside (1 >> 2) approx (credit mate 3), the rest hold (%#x)",
	       plan.gprops[0]);
	tap_ok((plan.props & QV_PROP_KNOWN(7)) &&
	       !(plan.props & (QV_PROP_HOLDS(7) | QV_PROP_APPROX(7))),
	       "P7: no for the policy (1 and 3 share ranks, declared ranges), yes inside (1 >> 2), strict (%#x)",
	       plan.props);
	qs_spec_copy(&cp, &sp);
	tap_ok(cp.pol.ent == cp.ent && cp.pol.grp == cp.grp && cp.pol.ngrp == 1,
	       "qs_spec_copy() points the copy's policy at its own groups");

	r = qs_parse_string(&sp, "n.spec", LINK "backend = sppifo 2\n"
			    "policy = (1 >> 2) > 3 + 4\n" T1 T2 T3
			    "[tenant d]\nclass = 4\n");
	tap_ok(r == 0 && sp.pol.ngrp == 1 &&
	       qs_plan(&sp, &plan, err, sizeof(err)) == 0 &&
	       !(plan.gprops[0] & (QV_PROP_HOLDS(1) | QV_PROP_APPROX(1))) &&
	       (plan.gprops[0] & QV_PROP_APPROX(2)),
	       "sppifo, one queue for the group's tier: P1 inside does not hold (%#x)",
	       plan.gprops[0]);
	r = qs_parse_string(&sp, "n.spec", LINK "policy = (1 >> 2) > 3\n" T1 T2 T3);
	tap_ok(r == 0 && qs_plan(&sp, &plan, err, sizeof(err)) == 0 &&
	       (plan.gprops[0] & QV_PROP_HOLDS(1)),
	       "pifo, a group without credit mates: P1 inside holds (%#x)",
	       plan.gprops[0]);
	r = qs_parse_string(&sp, "n.spec", LINK "policy = 1 + (2 > 3 + 4)\n"
			    T1 T2 T3 "[tenant d]\nclass = 4\n");
	tap_ok(r == 0 && qs_plan(&sp, &plan, err, sizeof(err)) == 0 &&
	       (plan.gprops[0] & QV_PROP_HOLDS(3)) &&
	       (plan.gprops[0] & QV_PROP_HOLDS(1)),
	       "a '+' level inside a group: P3 inside holds, by its weights (%#x)",
	       plan.gprops[0]);

	r = qs_parse_string(&sp, "t.spec", spec);
	tap_ok(r == 0 && qs_expand(&sp, l, 2, NULL) == 0 &&
	       !strcmp(sp.policy, "1 >> (2 + (3 + 100 > 4))") &&
	       sp.pol.n == 5 && sp.pol.ngrp == 1 &&
	       qs_plan(&sp, &plan, err, sizeof(err)) == 0,
	       "a template joins a tenant inside a nested group: \"%s\" (%s)",
	       sp.policy, sp.err);
	f = open_memstream(&out, &n);
	qs_plan_print(f, &sp, &plan, false);
	fclose(f);
	tap_ok(out && strstr(out, "policy \"1 >> (2 + (3 + 100 > 4))\"") &&
	       strstr(out, "  group (3 + 100 > 4): P1=yes P2=yes P3=yes P4=yes P5=yes P6=yes P7=no\n"),
	       "plan prints the policy and each group's properties");
	if (out && !strstr(out, "group (3 + 100 > 4)"))
		tap_diag("%s", out);
	free(out);
	out = NULL;
	f = open_memstream(&out, &n);
	qs_plan_tc(f, &sp);
	fclose(f);
	tap_ok(out && strstr(out, "policy \"1 >> (2 + (3 + 100 > 4))\""),
	       "plan --tc passes the parentheses to tc");
	free(out);
}

/* range = auto [LO HI] [window N]: parsed, planned with levels not
 * limited by the span (as the kernel synthesizes it), in plan --tc;
 * malformed forms refused
 */
static void test_range_auto(void)
{
	static const char *const bad[] = {
		"range = auto 5\n", "range = auto window\n",
		"range = auto window 0\n", "range = 3 4 window 64\n",
		"range = auto 0 9 window 64 x\n", "range = auto auto\n",
	};
	char buf[4096], err[256];
	unsigned int k;
	FILE *f;
	int r;

	r = qs_parse_string(&sp, "inline", LINK "policy = 1 + 2 + 3\n"
			    "[tenant a]\nclass = 1\nrange = auto\n"
			    "[tenant b]\nclass = 2\nrange = auto 0 3 window 256\n"
			    "[tenant c]\nclass = 3\nrange = auto 0 3 window 0\n");
	CHECK(r == 0, "parse: %s", sp.err);
	if (r)
		return;
	CHECK(sp.t[0].rauto == QVISOR_RAUTO_DEF_WINDOW && sp.t[0].lo == 0 &&
	      sp.t[0].hi == 255 && sp.t[1].rauto == 256 && sp.t[1].hi == 3 &&
	      !sp.t[2].rauto && sp.t[2].hi == 3,
	      "range auto: window %u/%u/%u, range %u..%u",
	      sp.t[0].rauto, sp.t[1].rauto, sp.t[2].rauto, sp.t[1].lo,
	      sp.t[1].hi);
	r = qs_plan(&sp, &plan, err, sizeof(err));
	CHECK(r == 0 && plan.xf[1].levels == 64 && plan.xf[2].levels == 4,
	      "range auto levels are not limited by the span: %u, declared %u (%s)",
	      plan.xf[1].levels, plan.xf[2].levels, err);
	f = fmemopen(buf, sizeof(buf), "w");
	qs_plan_tc(f, &sp);
	fclose(f);
	CHECK(strstr(buf, "classid 1:1 qvisor rank prio range auto 0 255 window 1024 levels 64 ") &&
	      strstr(buf, "classid 1:2 qvisor rank prio range auto 0 3 window 256 levels 64 ") &&
	      strstr(buf, "classid 1:3 qvisor rank prio range 0 3 levels 64 "),
	      "plan --tc: %s", buf);
	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		char text[256];

		snprintf(text, sizeof(text), LINK T1 "%s", bad[k]);
		r = qs_parse_string(&sp, "inline", text);
		CHECK(r == -1 && strstr(sp.err, "range: expected LO HI, or auto [LO HI] [window PACKETS]"),
		      "'%s' refused: %s", bad[k], sp.err);
	}
	tap_point("range = auto [LO HI] [window N]: defaults, window 0 = off, plan levels, plan --tc, malformed forms refused");
}

static void test_guard(void)
{
	static const struct { const char *text, *err; } bad[] = {
		{ "rule = best > 90% for 2s ceil 1mbit\n", "expected 'METRIC > N% for DURATION" },
		{ "rule = best >= 90% for 2s: ceil 1mbit\n", "expected 'METRIC > N% for DURATION" },
		{ "rule = rank > 90% for 2s: ceil 1mbit\n", "unknown metric 'rank'" },
		{ "rule = best > 100% for 2s: ceil 1mbit\n", "threshold '100%'" },
		{ "rule = best > 90 for 2s: ceil 1mbit\n", "threshold '90'" },
		{ "rule = best > 90% for 1500ms: ceil 1mbit\n", "'for 1500ms': whole seconds" },
		{ "rule = best > 90% for 2s: ceil x\n", "ceil 'x'" },
		{ "rule = best > 90% for 2s: weight 0\n", "weight '0'" },
		{ "rule = best > 90% for 2s: drop 1\n", "unknown action 'drop'" },
		{ "restore = 0\n", "restore '0'" },
		{ "min_packets = 0\n", "min_packets '0'" },
		{ "limit = 5\n", "[guard]: unknown key 'limit'" },
		{ "restore = 5s\n", "[guard] has no rule" },
	};
	char text[512];
	unsigned int k;
	int r;

	r = qs_parse_string(&sp, "inline", LINK T1 "[guard]\n"
			    "rule = best > 90% for 2s: ceil 1mbit\n"
			    "rule = clamped > 50% for 3s: weight 1\n"
			    "rule = shift > 5% for 1s: ceil 100kbit\n"
			    "restore = 5s\nmin_packets = 7\n");
	CHECK(r == 0, "parse: %s", sp.err);
	if (r)
		return;
	CHECK(sp.guard.nrules == 3 && sp.guard.restore_s == 5 &&
	      sp.guard.min_pkts == 7 && sp.guard.r[0].metric == QS_GM_BEST &&
	      sp.guard.r[0].pct == 90 && sp.guard.r[0].for_s == 2 &&
	      sp.guard.r[0].action == QS_GA_CEIL &&
	      sp.guard.r[0].ceil == 125000 &&
	      sp.guard.r[1].metric == QS_GM_CLAMPED &&
	      sp.guard.r[1].action == QS_GA_WEIGHT &&
	      sp.guard.r[1].weight == 1 && sp.guard.r[1].for_s == 3 &&
	      sp.guard.r[2].metric == QS_GM_SHIFT && sp.guard.r[2].pct == 5 &&
	      sp.guard.r[2].ceil == 12500,
	      "[guard]: %d rules, restore %u, min %u, rule 1 %d %u%% %us %d %llu",
	      sp.guard.nrules, sp.guard.restore_s, sp.guard.min_pkts,
	      sp.guard.r[0].metric, sp.guard.r[0].pct, sp.guard.r[0].for_s,
	      sp.guard.r[0].action, (unsigned long long)sp.guard.r[0].ceil);
	r = qs_parse_string(&sp, "inline", LINK T1 "[guard]\nrule = best > 0% for 1s: weight 2\n");
	CHECK(r == 0 && sp.guard.restore_s == 10 && sp.guard.min_pkts == 20,
	      "[guard] defaults: restore %u s, min_packets %u (%s)",
	      sp.guard.restore_s, sp.guard.min_pkts, sp.err);
	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		snprintf(text, sizeof(text), LINK T1 "[guard]\n%s", bad[k].text);
		r = qs_parse_string(&sp, "inline", text);
		CHECK(r == -1 && strstr(sp.err, bad[k].err),
		      "[guard] '%.*s' refused: %s", (int)strlen(bad[k].text) - 1,
		      bad[k].text, sp.err);
	}
	r = qs_parse_string(&sp, "inline", LINK T1 "[guard]\nrule = best > 9% for 1s: weight 2\n[guard]\n");
	CHECK(r == -1 && strstr(sp.err, "second [guard] section"),
	      "a second [guard] refused: %s", sp.err);
	tap_point("[guard]: rules, restore, min_packets parsed; defaults; malformed rules refused with their reason");
}

static void test_lend(void)
{
	char buf[4096];
	FILE *f;
	int r;

	r = qs_parse_string(&sp, "inline", LINK "backend = sppifo 8\nlend = 100ms\n"
			    "policy = 1 >> 2\n" T1 T2);
	CHECK(r == 0 && sp.lend_us == 100000, "lend = 100ms: %u us (%s)",
	      sp.lend_us, sp.err);
	if (r)
		return;
	f = fmemopen(buf, sizeof(buf), "w");
	qs_plan_tc(f, &sp);
	fclose(f);
	CHECK(strstr(buf, " lend 100000us") != NULL, "plan --tc: %s", buf);
	r = qs_parse_string(&sp, "inline", LINK "lend = 61s\n" T1);
	CHECK(r == -1 && strstr(sp.err, "lend: '61s' is not a time such as 100ms (0 = off, at most 60s)"),
	      "lend = 61s refused: %s", sp.err);
	r = qs_parse_string(&sp, "inline", LINK "lend = 0\n" T1);
	CHECK(r == 0 && !sp.lend_us, "lend = 0: off (%s)", sp.err);
	tap_point("[link] lend: parsed, in plan --tc, over 60 s refused, 0 = off");
}

/* one spec, many devices: dev lists and globs, [link NAME] sections
 * inheriting [link], the devices an apply resolves them to
 */
static void test_links(void)
{
	static struct qs_spec dsp;
	static const struct qs_link lk[] = {
		{ 1, "lo", "" }, { 2, "lf1-h1", "" }, { 3, "lf1-h2", "" },
		{ 4, "lf1-s1", "" }, { 5, "sp1-l1", "" }, { 6, "sp2-l1", "" },
		{ 7, "tap0", "" },
	};
	struct qs_target tg[16];
	char *out = NULL, lab[64];
	size_t len = 0;
	FILE *f;
	int r, n;

	/* a classic spec: one device, one section, as before */
	r = qs_parse_string(&sp, "c.spec", "[link]\ndev = eth0\n[tenant a]\nclass = 1\n");
	tap_ok(r == 0 && !strcmp(sp.dev, "eth0") && !sp.nsec &&
	       !qs_multi_dev(&sp) && qs_nsections(&sp) == 1 &&
	       qs_section_used(&sp, 0),
	       "links: a one-device spec is not multi-device");
	/* a list with a glob, spaces normalized */
	r = qs_parse_string(&sp, "l.spec", "[link]\ndev =  lf1-h1\t lf1-s*  \n[tenant a]\nclass = 1\n");
	tap_ok(r == 0 && !strcmp(sp.dev, "lf1-h1 lf1-s*") && sp.dev_line == 2 &&
	       qs_multi_dev(&sp) == 2, "links: dev lists names and globs");
	r = qs_parse_string(&sp, "g.spec", "[link]\ndev = lf*\n[tenant a]\nclass = 1\n");
	tap_ok(r == 0 && qs_multi_dev(&sp) == 2, "links: one glob is multi-device");
	tap_ok(qs_is_glob("sp*-l?") && qs_is_glob("a[12]") && !qs_is_glob("eth0") &&
	       qs_glob_match("sp*-l*", "sp2-l1") && !qs_glob_match("sp*-l*", "lf1-s1"),
	       "links: globs are fnmatch patterns");

	/* [link core] inherits every [link] key it does not set */
	r = qs_parse_string(&sp, "ls.spec",
		"[link]\n"			/* 1 */
		"dev = lf*-h*\n"
		"rate = 10mbit\n"
		"limit = 300\n"
		"policy = 1 >> 2\n"		/* 5 */
		"backend = sppifo 8\n"
		"[link core]\n"
		"dev = lf*-s* sp*-l*\n"
		"rate = 40mbit\n"
		"[link edge2]\n"		/* 10 */
		"dev = tap0\n"
		"policy = 2 >> 1\n"
		"buckets = 1024\n"
		"[tenant a]\nclass = 1\nmatch = dscp 1\n"
		"[tenant b]\nclass = 2\nmatch = dscp 2\n");
	tap_ok(r == 0 && sp.nsec == 2 && qs_nsections(&sp) == 3 &&
	       qs_multi_dev(&sp) == 7 && sp.rate == 10000000 / 8,
	       "links: [link] plus two named sections parse");
	if (r)
		tap_diag("%s", sp.err);
	tap_ok(!strcmp(qs_section_label(&sp, 0, lab, sizeof(lab)), "[link]") &&
	       !strcmp(qs_section_label(&sp, 1, lab, sizeof(lab)), "[link core]"),
	       "links: section labels");
	r = qs_section(&sp, 1, &dsp);
	tap_ok(r == 0 && dsp.rate == 40000000 / 8 && dsp.limit == 300 &&
	       !strcmp(dsp.policy, "1 >> 2") &&
	       dsp.backend == QVISOR_BACKEND_SPPIFO && dsp.queues == 8 &&
	       !strcmp(dsp.dev, "lf*-s* sp*-l*") && dsp.ntenants == 2 &&
	       !dsp.nsec, "links: [link core] sets rate and dev, inherits limit, policy, backend");
	r = qs_section(&sp, 2, &dsp);
	tap_ok(r == 0 && dsp.rate == 10000000 / 8 && !strcmp(dsp.policy, "2 >> 1") &&
	       dsp.policy_line == 12 && dsp.buckets == 1024 && !strcmp(dsp.dev, "tap0"),
	       "links: a named section's policy replaces [link]'s");
	r = qs_section(&sp, 0, &dsp);
	tap_ok(r == 0 && !strcmp(dsp.dev, "lf*-h*") && dsp.buckets == QVISOR_DEF_BUCKETS,
	       "links: section 0 is [link] itself");
	/* each section plans on its own: the plan names its rate */
	r = qs_section(&sp, 1, &dsp);
	r = r ? r : qs_plan(&dsp, &plan, lab, sizeof(lab));
	f = open_memstream(&out, &len);
	if (!r)
		qs_plan_print(f, &dsp, &plan, false);
	fclose(f);
	tap_ok(r == 0 && strstr(out, "link lf*-s* sp*-l* handle 1:") &&
	       strstr(out, "rate 40mbit"), "links: plan of [link core] shows its devices and rate");
	free(out);

	/* the devices, in spec order, globs expanded against the links */
	out = NULL;
	f = open_memstream(&out, &len);
	n = qs_targets(&sp, lk, 7, true, f, tg, 16);
	fclose(f);
	tap_ok(n == 6 && !strcmp(tg[0].dev, "lf1-h1") && tg[0].sec == 0 &&
	       !strcmp(tg[1].dev, "lf1-h2") && !strcmp(tg[2].dev, "lf1-s1") &&
	       tg[2].sec == 1 && !strcmp(tg[3].dev, "sp1-l1") &&
	       !strcmp(tg[4].dev, "sp2-l1") && !strcmp(tg[5].dev, "tap0") &&
	       tg[5].sec == 2 && len == 0,
	       "links: targets in spec order, each with its section");
	free(out);
	/* a glob that matches nothing is a warning */
	out = NULL;
	f = open_memstream(&out, &len);
	n = qs_targets(&sp, lk, 1, true, f, tg, 16);
	fclose(f);
	tap_ok(n == -1 && strstr(sp.err, "ls.spec:11: no device tap0") &&
	       strstr(out, "ls.spec:2: warning: dev lf*-h* matches no device") &&
	       strstr(out, "ls.spec:8: warning: dev sp*-l* matches no device"),
	       "links: a glob matching nothing warns, a missing name is an error at its line");
	free(out);
	sp.err[0] = '\0';
	n = qs_targets(&sp, lk, 1, false, NULL, tg, 16);
	tap_ok(n == 1 && !strcmp(tg[0].dev, "tap0"),
	       "links: plan --tc keeps a literal name that does not exist");
	n = qs_targets(&sp, lk, 7, true, NULL, tg, 3);
	tap_ok(n == -1 && strstr(sp.err, "dev: more than 3 devices"),
	       "links: more devices than fit is an error");
	/* a device two sections match (a glob) is an error at the second */
	r = qs_parse_string(&sp, "d.spec",
		"[link]\ndev = lf1-h1 lf1-*\n[link core]\ndev = *-s1\n"
		"[tenant a]\nclass = 1\n");
	n = r ? -2 : qs_targets(&sp, lk, 7, true, NULL, tg, 16);
	tap_ok(n == -1 && !strcmp(sp.err,
	       "d.spec:4: dev: device lf1-s1 is named by [link] (line 2) and by [link core]"),
	       "links: a device matched by two sections is an error");
	if (n != -1)
		tap_diag("n=%d %s", n, sp.err);
	/* a name and a glob of one section name a device once */
	sp.nsec = 0;
	n = qs_targets(&sp, lk, 7, true, NULL, tg, 16);
	tap_ok(n == 3 && !strcmp(tg[0].dev, "lf1-h1") &&
	       !strcmp(tg[1].dev, "lf1-h2") && !strcmp(tg[2].dev, "lf1-s1"),
	       "links: a device a section names twice is applied once");
	/* [link] without dev only holds defaults when named sections exist */
	r = qs_parse_string(&sp, "n.spec",
		"[link]\nrate = 1gbit\n[link a]\ndev = x\n[tenant a]\nclass = 1\n");
	n = r ? -2 : qs_targets(&sp, lk, 7, false, NULL, tg, 16);
	tap_ok(n == 1 && !qs_section_used(&sp, 0) && qs_section_used(&sp, 1) &&
	       !strcmp(tg[0].dev, "x") && tg[0].sec == 1,
	       "links: [link] without dev is not a device of its own");
	/* template tenants are for no device a section names */
	r = qs_parse_string(&sp, "t.spec",
		"[link]\ndev = lf1-h*\n[link b]\ndev = sp*\n[template vm]\n"
		"iface = *\nclasses = 100-1ff\n");
	n = r ? -2 : qs_expand(&sp, lk, 7, NULL);
	tap_ok(n == 0 && sp.ntenants == 3 &&
	       !strcmp(sp.t[0].match[0].indev, "lo") &&
	       !strcmp(sp.t[1].match[0].indev, "lf1-s1") &&
	       !strcmp(sp.t[2].match[0].indev, "tap0"),
	       "links: a template leaves out every device of the spec");
	/* check and plan: a line or a block per section, each warning once */
	{
		static const char ls[] =
			"[link]\ndev = lf*-h*\nrate = 10mbit\n"
			"[link core]\ndev = lf*-s* sp*-l*\nrate = 40mbit\n"
			"[tenant a]\nclass = 1\n";
		char *w = NULL;
		size_t wl = 0;
		FILE *wf = open_memstream(&w, &wl);

		out = NULL;
		f = open_memstream(&out, &len);
		r = qs_parse_string(&sp, "ls.spec", ls);
		r = r ? r : qs_plan_sections(f, wf, &sp, true, false);
		fclose(f);
		fflush(wf);
		tap_ok(r == 0 && !strcmp(out,
		       "ls.spec [link]: ok, dev lf*-h*, 1 tenants, 65 joint ranks, 1 warning\n"
		       "ls.spec [link core]: ok, dev lf*-s* sp*-l*, 1 tenants, 65 joint ranks, 1 warning\n") &&
		       strstr(w, "ls.spec:7: warning: tenant a has no match") &&
		       !strstr(strstr(w, "no match") + 1, "no match"),
		       "links: check prints a line per section, a tenant's warning once");
		free(out);
		out = NULL;
		f = open_memstream(&out, &len);
		r = qs_plan_sections(f, wf, &sp, false, false);
		fclose(f);
		tap_ok(r == 0 && !strncmp(out, "== [link] dev lf*-h* ==\nlink lf*-h* handle 1:", 44) &&
		       strstr(out, "\n\n== [link core] dev lf*-s* sp*-l* ==\nlink lf*-s* sp*-l* handle 1:") &&
		       strstr(out, "P5 caps        link rate 10mbit") &&
		       strstr(out, "P5 caps        link rate 40mbit"),
		       "links: plan prints a block per section, labelled, each with its rate");
		free(out);
		out = NULL;
		f = open_memstream(&out, &len);
		r = qs_plan_tc_all(f, wf, &sp, lk, 7);
		fclose(f);
		fclose(wf);
		tap_ok(r == 0 && strstr(out, "# device lf1-h1, [link]\n") &&
		       strstr(out, "qdisc replace dev lf1-h1 root handle 1: qvisor rate 10000000bit") &&
		       strstr(out, "qdisc replace dev lf1-h2 root handle 1: qvisor rate 10000000bit") &&
		       strstr(out, "# device sp2-l1, [link core]\n") &&
		       strstr(out, "qdisc replace dev sp2-l1 root handle 1: qvisor rate 40000000bit") &&
		       !strstr(out, "dev tap0") && !strstr(out, "dev lo "),
		       "links: plan --tc prints a batch per device, globs expanded");
		free(out);
		free(w);
	}
	/* too many sections */
	{
		static char big[8192];
		size_t o;
		int k;

		o = (size_t)snprintf(big, sizeof(big), "[link]\n");
		for (k = 0; k <= QS_MAX_LINKS; k++)
			o += (size_t)snprintf(big + o, sizeof(big) - o,
					      "[link s%d]\ndev = d%d\n", k, k);
		r = qs_parse_string(&sp, "m.spec", big);
		tap_ok(r == -1 && strstr(sp.err, "too many [link NAME] sections (at most 16)") &&
		       sp.err_line == 2 + 2 * QS_MAX_LINKS,
		       "links: at most %d named sections", QS_MAX_LINKS);
	}
}

int main(void)
{
	tap_plan(0);
	test_values();
	test_defaults();
	test_aqm_keys();
	test_fig3();
	test_kernel_refusals();
	test_warnings();
	test_filter_limit();
	test_expand();
	test_nested();
	test_range_auto();
	test_guard();
	test_lend();
	test_links();
	test_dir(SPECS, "bad-", true);
	test_dir(SPECS, "good-", false);
	test_dir(EXAMPLES, "", false);
	return tap_done();
}
