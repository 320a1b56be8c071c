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

/* The same synthesis built independently, as sch_qvisor.c's
 * qvisor_spec()/qvisor_synth() do: policy parsed by the core, each class
 * with its effective range and levels, pol_idx looked up by minor.
 */
static void cross_check(const char *path)
{
	int k, r;

	r = su_parse(&ref, sp.policy_line ? sp.policy : NULL);
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

static void test_values(void)
{
	static const struct { const char *s; uint64_t v; } rates[] = {
		{ "40mbit", 5000000 }, { "1gbit", 125000000 }, { "200kbit", 25000 },
		{ "8", 1 }, { "8bit", 1 }, { "100kbps", 100000 },
		{ "1.5mbit", 187500 }, { "1MBIT", 125000 }, { "1mibit", 131072 },
	};
	static const char *const bad_rates[] = {
		"", "-1mbit", "10 mbit", "mbit", "10parsecs", " 10mbit",
		"nanmbit", "infbit", "inf", "nan",
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
	CHECK(qs_get_size("15k", &v) == 0 && v == 15360, "15k -> %u", v);
	CHECK(qs_get_size("1500", &v) == 0 && v == 1500, "1500 -> %u", v);
	CHECK(qs_get_size("1m", &v) == 0 && v == 1048576, "1m -> %u", v);
	CHECK(qs_get_size("5x", &v) != 0, "5x accepted");
	CHECK(qs_get_size("nan", &v) != 0, "nan accepted as a size");
	CHECK(qs_get_size("infk", &v) != 0, "infk accepted as a size");
	CHECK(qs_get_time_us("nanms", &v) != 0, "nanms accepted as a time");
	CHECK(qs_get_time_us("1ms", &v) == 0 && v == 1000, "1ms -> %u", v);
	CHECK(qs_get_time_us("250us", &v) == 0 && v == 250, "250us -> %u", v);
	CHECK(qs_get_time_us("2s", &v) == 0 && v == 2000000, "2s -> %u", v);
	CHECK(qs_get_time_us("5", &v) != 0, "time without unit accepted");
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
		CHECK(sp.t[0].rank == TCA_QVISOR_RANK_PRIO &&
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

int main(void)
{
	tap_plan(0);
	test_values();
	test_defaults();
	test_fig3();
	test_dir(SPECS, "bad-", true);
	test_dir(SPECS, "good-", false);
	test_dir(EXAMPLES, "", false);
	return tap_done();
}
