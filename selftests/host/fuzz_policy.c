// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * libFuzzer target: the policy parser on arbitrary bytes, then the
 * synthesizer on what it accepted, with tenant specs derived from the input.
 *
 * Parser invariants: on success n in 1..cap, minors unique and 1..ffff,
 * tiers/levels numbered consistently (a '>>' starts tier+1 at level 0, a
 * '>' moves to level+1, a '+' stays), tiers = last tier + 1, and printing
 * the entries back and parsing that gives the same entries.  On failure:
 * a known message, pos <= len, and the entries beyond cap untouched.
 * Synthesizer: see synth_util.h (P1, fit, monotone, clamped).
 */
#include "synth_util.h"
#include <stdlib.h>

static const char *const msgs[] = {
	"Policy is empty",
	"Expected a tenant at end of policy",
	"Expected a tenant",
	"Expected a class minor after ':'",
	"Tenant must be a class minor 1..ffff",
	"Expected '>>', '>' or '+' between tenants",
	"Unknown operator '>>>'",
	"Tenant appears twice in policy",
	"Too many tenants in policy",
	"Nested groups are not supported here",
	"Empty parentheses",
	"Unbalanced '(' in policy",
	"Unbalanced ')' in policy",
	"Parentheses nested too deep",
	"Too many groups in policy",
	"Policy tree is nested too deep",
};

#define FAIL(...)							\
	do {								\
		fprintf(stderr, __VA_ARGS__);				\
		fprintf(stderr, "\n");					\
		__builtin_trap();					\
	} while (0)

static struct su U, V;

static u64 rng;

static u64 next_rand(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

/* FNV-1a of the input: seeds the derived specs */
static u64 hash(const u8 *d, size_t n)
{
	u64 h = 0xcbf29ce484222325ULL;

	while (n--)
		h = (h ^ *d++) * 0x100000001b3ULL;
	return h ? h : 1;
}

static void check_parse(const struct su *u, const char *s, u32 len, u32 cap,
			int r)
{
	u32 k, m;

	if (r) {
		int known = 0;

		if (r != -22)
			FAIL("parse returned %d", r);
		for (k = 0; k < sizeof(msgs) / sizeof(msgs[0]); k++)
			if (u->e.msg && !strcmp(u->e.msg, msgs[k]))
				known = 1;
		if (!u->e.msg || !known)
			FAIL("unknown message %s", u->e.msg ? u->e.msg : "NULL");
		if (u->e.pos > len)
			FAIL("pos %u > len %u", u->e.pos, len);
		if (!strcmp(u->e.msg, "Too many tenants in policy") &&
		    u->e.val != cap)
			FAIL("too many: val %u cap %u", u->e.val, cap);
		if (u->pol.n > cap)
			FAIL("n %u > cap %u on failure", u->pol.n, cap);
		return;
	}
	if (u->pol.n < 1 || u->pol.n > cap)
		FAIL("n %u cap %u", u->pol.n, cap);
	for (k = 0; k < u->pol.n; k++) {
		const struct qv_pol_ent *e = &u->ent[k], *p = e - 1;

		if (e->minor < 1 || e->minor > 0xffff)
			FAIL("minor %#x", e->minor);
		for (m = 0; m < k; m++)
			if (u->ent[m].minor == e->minor)
				FAIL("duplicate minor %#x", e->minor);
		if (k == 0) {
			if (e->tier || e->level)
				FAIL("first entry at %u/%u", e->tier, e->level);
			continue;
		}
		if (e->tier == p->tier) {
			if (e->level != p->level && e->level != p->level + 1)
				FAIL("level jump %u -> %u", p->level, e->level);
		} else if (e->tier != p->tier + 1 || e->level != 0) {
			FAIL("tier jump %u/%u -> %u/%u", p->tier, p->level,
			     e->tier, e->level);
		}
	}
	if (u->pol.tiers != (u32)u->ent[u->pol.n - 1].tier + 1)
		FAIL("tiers %u, last tier %u", u->pol.tiers,
		     u->ent[u->pol.n - 1].tier);
	(void)s;
}

/* print the parsed policy back and parse it again: same entries */
static void check_roundtrip(const struct su *u, u32 cap)
{
	static char buf[SU_MAXT * 8 + 1];
	u32 k, len = 0;
	int r;

	for (k = 0; k < u->pol.n; k++) {
		const struct qv_pol_ent *e = &u->ent[k];

		if (k)
			len += (u32)sprintf(buf + len, "%s",
					    e->tier != e[-1].tier ? ">>" :
					    e->level != e[-1].level ? " > " :
					    "+");
		len += (u32)sprintf(buf + len, k & 1 ? "%X" : "1:%x",
				    e->minor);
	}
	V.pol.ent = V.ent;
	V.pol.cap = cap;
	V.has_pol = 1;
	r = qv_policy_parse(&V.pol, buf, len, &V.e);
	if (r || V.pol.n != u->pol.n || V.pol.tiers != u->pol.tiers ||
	    memcmp(V.ent, u->ent, u->pol.n * sizeof(V.ent[0])))
		FAIL("round trip of '%s' differs (%d %s)", buf, r,
		     r ? V.e.msg : "");
}

static void synth_random(struct su *u)
{
	u32 k, nextra = (u32)(next_rand() % 4), buckets, overlap;
	u32 raw[16];
	int r;

	u->nspec = 0;
	for (k = 0; k < u->pol.n + nextra && u->nspec < SU_MAXT; k++) {
		u32 minor, lo, hi, lv;

		if (k < u->pol.n) {
			if (next_rand() % 5 == 0)
				continue;	/* named, no class */
			minor = u->ent[k].minor;
		} else {
			minor = 0x10000 + k;	/* never in a policy */
		}
		lo = (u32)next_rand();
		switch (next_rand() % 4) {
		case 0:
			hi = lo + (u32)(next_rand() % 64);
			if (hi < lo)
				hi = 0xffffffff;
			break;
		case 1:
			lo = 0;
			hi = 0xffffffff;
			break;
		case 2:
			lo %= 1000;
			hi = lo + (u32)(next_rand() % 100000);
			break;
		default:
			hi = (u32)next_rand();
			if (hi < lo) {
				u32 t = hi;

				hi = lo;
				lo = t;
			}
		}
		lv = next_rand() % 3 ? (u32)(next_rand() % 65537) :
				       (u32)next_rand();
		su_add(u, minor, lo, hi, lv);
	}
	switch (next_rand() % 3) {
	case 0:
		buckets = 1 + (u32)(next_rand() % 64);
		break;
	case 1:
		buckets = 64u << (next_rand() % 13);
		break;
	default:
		buckets = (u32)next_rand();
	}
	overlap = (u32)(next_rand() % 3 ? next_rand() % 3 * 50 :
					  next_rand() % 102);
	r = su_synth(u, buckets, overlap);
	if (overlap > 100) {
		if (r != -22 || strcmp(u->e.msg, "Overlap must be 0..100"))
			FAIL("overlap %u accepted", overlap);
		return;
	}
	if (r) {
		if (strcmp(u->e.msg, "Policy needs more joint ranks than buckets"))
			FAIL("unexpected synth error %s", u->e.msg);
		if (u->nspec <= 64 && su_min_width(u) <= buckets)
			FAIL("rejected, but %llu ranks fit in %u",
			     (unsigned long long)su_min_width(u), buckets);
		return;
	}
	if (u->nspec <= 64 && su_min_width(u) > buckets)
		FAIL("accepted below the minimum width");
	for (k = 0; k < 16; k++)
		raw[k] = (u32)next_rand();
	su_check_all(u, raw, 16);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct su *u = &U;
	u32 cap, len = (u32)size;
	int r;

	su_fatal = 1;
	if (size > 1 << 16)
		return 0;
	rng = hash(data, size);
	cap = next_rand() % 8 ? SU_MAXT : (u32)(next_rand() % 17);
	u->pol.ent = u->ent;
	u->pol.cap = cap;
	u->has_pol = 1;
	memset(&u->e, 0, sizeof(u->e));
	/* parse from a heap copy of exactly len bytes, so that ASan sees
	 * any read past the end
	 */
	{
		char *s = malloc(size ? size : 1);

		if (!s)
			return 0;
		memcpy(s, data, size);
		r = qv_policy_parse(&u->pol, s, len, &u->e);
		check_parse(u, s, len, cap, r);
		free(s);
	}
	if (r)
		return 0;
	check_roundtrip(u, cap);
	synth_random(u);
	return 0;
}
