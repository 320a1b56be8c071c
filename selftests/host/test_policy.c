// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Host unit tests of the qvisor policy parser (include/qvisor/policy.h) */
#include <qvisor/policy.h>
#include "tap.h"

#define CAP 64
#define BIG_N 12288

struct exp_ent {
	u32 minor;
	u16 tier, level;
};

static struct qv_pol_ent ents[70000];

static int parse(struct qv_policy *p, const char *s, u32 len, u32 cap,
		 struct qv_err *e)
{
	memset(e, 0, sizeof(*e));
	e->pos = 0xdeadbeef;
	p->ent = ents;
	p->cap = cap;
	p->n = 12345;
	p->tiers = 12345;
	return qv_policy_parse(p, s, len, e);
}

static void good(const char *name, const char *s, u32 len, u32 tiers,
		 const struct exp_ent *x, u32 n)
{
	struct qv_policy p;
	struct qv_err e;
	int r = parse(&p, s, len, CAP, &e);
	u32 k;

	CHECK(r == 0, "returned %d (%s at %u)", r, e.msg ? e.msg : "?", e.pos);
	if (r == 0) {
		CHECK(p.n == n, "n %u want %u", p.n, n);
		CHECK(p.tiers == tiers, "tiers %u want %u", p.tiers, tiers);
		for (k = 0; k < n && k < p.n; k++) {
			CHECK(p.ent[k].minor == x[k].minor,
			      "ent %u minor %#x want %#x", k, p.ent[k].minor,
			      x[k].minor);
			CHECK(p.ent[k].tier == x[k].tier,
			      "ent %u tier %u want %u", k, p.ent[k].tier,
			      x[k].tier);
			CHECK(p.ent[k].level == x[k].level,
			      "ent %u level %u want %u", k, p.ent[k].level,
			      x[k].level);
		}
	}
	tap_point("parse ok: %s", name);
}

#define GOOD(name, str, tiers, ...)					\
	do {								\
		static const struct exp_ent x_[] = { __VA_ARGS__ };	\
		good(name, str, sizeof(str) - 1, tiers, x_,		\
		     sizeof(x_) / sizeof(x_[0]));			\
	} while (0)

/* printable form of a policy for a TAP line: no raw newlines or NULs */
static const char *esc(const char *s, u32 len)
{
	static char out[256];
	u32 i, o = 0;

	out[o++] = '"';
	for (i = 0; i < len && o < sizeof(out) - 8; i++) {
		char c = s[i];

		if (c == '\n' || c == '\r' || c == '\t' || c == '\0' || c == '#') {
			out[o++] = '\\';
			out[o++] = c == '\n' ? 'n' : c == '\r' ? 'r' :
				   c == '\t' ? 't' : c == '#' ? '#' : '0';
		} else {
			out[o++] = c;
		}
	}
	out[o++] = '"';
	out[o] = 0;
	return out;
}

static void bad(const char *name, const char *s, u32 len, u32 cap,
		const char *msg, u32 pos, u32 val)
{
	struct qv_policy p;
	struct qv_err e;
	int r = parse(&p, s, len, cap, &e);

	CHECK(r == -22, "returned %d, want -EINVAL", r);
	CHECK(e.msg && !strcmp(e.msg, msg), "msg '%s' want '%s'",
	      e.msg ? e.msg : "(null)", msg);
	CHECK(e.pos == pos, "pos %u want %u", e.pos, pos);
	CHECK(e.val == val, "val %u want %u", e.val, val);
	CHECK(e.pos <= len, "pos %u beyond len %u", e.pos, len);
	/* a NULL qv_err must be accepted too */
	p.ent = ents;
	p.cap = cap;
	CHECK(qv_policy_parse(&p, s, len, NULL) == -22, "NULL err differs");
	tap_point("parse error: %s -> \"%s\" @%u", name, msg, pos);
}

#define BAD(str, msg, pos, val) \
	bad(esc(str, sizeof(str) - 1), str, sizeof(str) - 1, CAP, msg, pos, val)

#define M_EMPTY	"Policy is empty"
#define M_END	"Expected a tenant at end of policy"
#define M_TEN	"Expected a tenant"
#define M_COLON	"Expected a class minor after ':'"
#define M_RANGE	"Tenant must be a class minor 1..ffff"
#define M_OP	"Expected '>>', '>' or '+' between tenants"
#define M_3GT	"Unknown operator '>>>'"
#define M_DUP	"Tenant appears twice in policy"
#define M_MANY	"Too many tenants in policy"

int main(void)
{
	char buf[4096];
	int k, len;

	tap_plan(0);

	/* --- accepted policies --- */
	GOOD("single", "1", 1, { 1, 0, 0 });
	GOOD("design example", "1 >> 2 > 3 + 4 >> 5", 3,
	     { 1, 0, 0 }, { 2, 1, 0 }, { 3, 1, 1 }, { 4, 1, 1 }, { 5, 2, 0 });
	GOOD("fig3", "1 >> 2 + 3", 2, { 1, 0, 0 }, { 2, 1, 0 }, { 3, 1, 0 });
	GOOD("no blanks", "1>>2>3+4", 2,
	     { 1, 0, 0 }, { 2, 1, 0 }, { 3, 1, 1 }, { 4, 1, 1 });
	GOOD("levels reset per tier", "1 > 2 >> 3 > 4 > 5", 2,
	     { 1, 0, 0 }, { 2, 0, 1 }, { 3, 1, 0 }, { 4, 1, 1 }, { 5, 1, 2 });
	GOOD("hex minors", "a + B >> 10 > ffff > FfFe", 2,
	     { 10, 0, 0 }, { 11, 0, 0 }, { 0x10, 1, 0 }, { 0xffff, 1, 1 },
	     { 0xfffe, 1, 2 });
	GOOD("maj:min form", "1:3 >> 1:a + 1", 2,
	     { 3, 0, 0 }, { 10, 1, 0 }, { 1, 1, 0 });
	GOOD("leading zeros", "0001 + 00000000000a", 1,
	     { 1, 0, 0 }, { 10, 0, 0 });
	GOOD("blanks (space, tab, CR, LF)", " \t1\n>>\r\n 2 \t+\n3 \n", 2,
	     { 1, 0, 0 }, { 2, 1, 0 }, { 3, 1, 0 });
	GOOD("trailing NULs in length", "1 >> 2\0\0\0", 2,
	     { 1, 0, 0 }, { 2, 1, 0 });
	GOOD("all sharing", "1+2+3+4", 1,
	     { 1, 0, 0 }, { 2, 0, 0 }, { 3, 0, 0 }, { 4, 0, 0 });
	GOOD("all preference", "4>3>2>1", 1,
	     { 4, 0, 0 }, { 3, 0, 1 }, { 2, 0, 2 }, { 1, 0, 3 });

	/* length shorter than the string: only the prefix counts */
	good("length is honoured (prefix \"1 >> 2\")", "1 >> 2 + x", 6, 2,
	     (const struct exp_ent[]){ { 1, 0, 0 }, { 2, 1, 0 } }, 2);

	/* exactly cap tenants is fine */
	len = 0;
	for (k = 1; k <= CAP; k++)
		len += snprintf(buf + len, sizeof(buf) - (size_t)len,
				"%s%x", k > 1 ? " + " : "", k);
	{
		struct qv_policy p;
		struct qv_err e;
		int r = parse(&p, buf, (u32)len, CAP, &e);

		tap_ok(r == 0 && p.n == CAP && p.tiers == 1,
		       "parse ok: exactly cap (%d) tenants", CAP);
	}

	/* many minors, one tier each (the dup check is O(n^2): 65535 would
	 * take seconds under ASan, so 12288; minors up to 0x3000)
	 */
	{
		static char big[65535 * 8];
		struct qv_policy p;
		struct qv_err e;
		int r;
		u32 i;

		len = 0;
		for (k = 1; k <= BIG_N; k++)
			len += snprintf(big + len, sizeof(big) - (size_t)len,
					"%s%x", k > 1 ? ">>" : "", k);
		r = parse(&p, big, (u32)len, 70000, &e);
		CHECK(r == 0, "returned %d", r);
		CHECK(p.n == BIG_N && p.tiers == BIG_N, "n %u tiers %u",
		      p.n, p.tiers);
		for (i = 0; r == 0 && i < p.n; i++)
			CHECK(p.ent[i].minor == i + 1 && p.ent[i].tier == i &&
			      p.ent[i].level == 0, "entry %u", i);
		tap_point("parse ok: %d minors in %d tiers", BIG_N, BIG_N);
	}

	/* --- errors: exact message, position and value --- */
	bad("\"\" (len 0)", "", 0, CAP, M_EMPTY, 0, 0);
	bad("NULs only", "\0\0\0", 3, CAP, M_EMPTY, 0, 0);
	BAD("   ", M_EMPTY, 0, 0);
	BAD(" \t\n\r ", M_EMPTY, 0, 0);
	BAD("1 >>", M_END, 4, 0);
	BAD("1 >> ", M_END, 5, 0);
	BAD("1 >", M_END, 3, 0);
	BAD("1 +", M_END, 3, 0);
	BAD(">> 1", M_TEN, 0, 0);
	BAD("  + 1", M_TEN, 2, 0);
	BAD("1 + + 2", M_TEN, 4, 0);
	BAD("1 > >> 2", M_TEN, 4, 0);
	BAD("1 >>> 2", M_3GT, 2, 0);
	BAD("1>>>>2", M_3GT, 1, 0);
	BAD("1 2", M_OP, 2, 0);
	BAD("1 >> 2 3", M_OP, 7, 0);
	BAD("1 - 2", M_OP, 2, 0);
	BAD("1 >> x", M_TEN, 5, 0);
	BAD("1 >> 2x", M_OP, 6, 0);
	BAD("0", M_RANGE, 0, 0);
	BAD("1 >> 0", M_RANGE, 5, 0);
	BAD("0x10", M_RANGE, 0, 0);
	BAD("10000", M_RANGE, 0, 0x10000);
	BAD("2 + fffff", M_RANGE, 4, 0xfffff);
	BAD("1 + 123456789", M_RANGE, 4, 0x12345);	/* v saturates */
	BAD("1:10000", M_RANGE, 0, 0x10000);
	BAD("1:0", M_RANGE, 0, 0);
	BAD("1:", M_COLON, 2, 0);
	BAD("1: 3", M_COLON, 2, 0);
	BAD("1 >> 2:x", M_COLON, 7, 0);
	BAD(":3", M_TEN, 0, 0);
	BAD("1 + 2 >> 1", M_DUP, 9, 1);
	BAD("a > 1:a", M_DUP, 4, 10);
	BAD("a + 000a", M_DUP, 4, 10);
	BAD("1 >> 2\0" "3", M_OP, 6, 0);	/* NUL inside the length */
	bad("\"1 >> 2 + x\" (len 9)", "1 >> 2 + x", 9, CAP, M_END, 9, 0);

	/* cap + 1 tenants: error at the first one that does not fit */
	len = 0;
	for (k = 1; k <= CAP + 1; k++)
		len += snprintf(buf + len, sizeof(buf) - (size_t)len,
				"%s%x", k > 1 ? " >> " : "", k);
	bad("cap+1 tenants", buf, (u32)len, CAP, M_MANY,
	    (u32)(strrchr(buf, ' ') - buf + 1), CAP);
	bad("cap 0", "1", 1, 0, M_MANY, 0, 0);
	bad("cap 2, \"1+2+1\" (duplicate reported first)", "1+2+1", 5, 2,
	    M_DUP, 4, 1);
	bad("cap 2, \"1+2+3\"", "1+2+3", 5, 2, M_MANY, 4, 2);

	return tap_done();
}
