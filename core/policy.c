// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * qvisor policy parser: the policy string into tiers, levels and tenants
 * (the grammar is in qvisor/policy.h), and back.  Userspace only.
 */

#include <stdio.h>

#include "qvisor/policy.h"

static bool qv_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int qv_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static u32 qv_skip_blanks(const char *s, u32 len, u32 i)
{
	while (i < len && qv_is_blank(s[i]))
		i++;
	return i;
}

/* Read one hex number at s[*i]; returns its value or more than 0xffff when
 * it has too many digits.  *i is left after the last digit.
 */
static u32 qv_read_hex(const char *s, u32 len, u32 *i)
{
	u32 v = 0;

	while (*i < len && qv_hexval(s[*i]) >= 0) {
		if (v <= 0xffff)
			v = v * 16 + (u32)qv_hexval(s[*i]);
		(*i)++;
	}
	return v;
}

/* Read "MINOR" or "MAJ:MINOR" starting at s[*i] */
static int qv_parse_tenant(const char *s, u32 len, u32 *i, u32 *minor,
			   struct qv_err *e)
{
	u32 start = *i, v;

	if (*i >= len || qv_hexval(s[*i]) < 0) {
		if (*i >= len)
			return qv_fail(e, "Expected a tenant at end of policy",
				       *i, 0);
		return qv_fail(e, "Expected a tenant", *i, 0);
	}
	v = qv_read_hex(s, len, i);
	if (*i < len && s[*i] == ':') {
		(*i)++;
		if (*i >= len || qv_hexval(s[*i]) < 0)
			return qv_fail(e, "Expected a class minor after ':'",
				       *i, 0);
		v = qv_read_hex(s, len, i);
	}
	if (v == 0 || v > 0xffff)
		return qv_fail(e, "Tenant must be a class minor 1..ffff",
			       start, v);
	*minor = v;
	return 0;
}

/* Read an operator at s[*i]: 2 for ">>", 1 for ">", 0 for "+" */
static int qv_parse_op(const char *s, u32 len, u32 *i, int *op,
		       struct qv_err *e)
{
	if (s[*i] == '+') {
		*op = 0;
		(*i)++;
	} else if (s[*i] == '>') {
		(*i)++;
		*op = 1;
		if (*i < len && s[*i] == '>') {
			(*i)++;
			*op = 2;
			if (*i < len && s[*i] == '>')
				return qv_fail(e, "Unknown operator '>>>'",
					       *i - 2, 0);
		}
	} else {
		return qv_fail(e, "Expected '>>', '>' or '+' between tenants",
			       *i, 0);
	}
	return 0;
}

/* Duplicates are found with a bitmap over all minors: O(length) */
int qv_policy_parse(struct qv_policy *p, const char *s, u32 len,
		    struct qv_err *e)
{
	u32 i = 0, tier = 0, level = 0, minor, start;
	u64 seen[65536 / 64] = { 0 };
	int op, err;

	p->n = 0;
	p->tiers = 0;
	while (len > 0 && s[len - 1] == '\0')
		len--;
	i = qv_skip_blanks(s, len, 0);
	if (i == len)
		return qv_fail(e, "Policy is empty", 0, 0);
	for (;;) {
		start = i;
		err = qv_parse_tenant(s, len, &i, &minor, e);
		if (err)
			return err;
		if (seen[minor / 64] & (1ULL << (minor % 64)))
			return qv_fail(e, "Tenant appears twice in policy",
				       start, minor);
		seen[minor / 64] |= 1ULL << (minor % 64);
		if (p->n >= p->cap)
			return qv_fail(e, "Too many tenants in policy",
				       start, p->cap);
		p->ent[p->n].minor = minor;
		p->ent[p->n].tier = (u16)tier;
		p->ent[p->n].level = (u16)level;
		p->n++;
		i = qv_skip_blanks(s, len, i);
		if (i == len)
			break;
		err = qv_parse_op(s, len, &i, &op, e);
		if (err)
			return err;
		i = qv_skip_blanks(s, len, i);
		if (op == 2) {
			tier++;
			level = 0;
		} else if (op == 1) {
			level++;
		}
	}
	p->tiers = tier + 1;
	return 0;
}

/* Print the policy back in the grammar, minors in hex as tc writes them */
int qv_policy_format(const struct qv_policy *p, char *buf, u32 cap)
{
	u32 k, off = 0;
	int n;

	if (cap)
		buf[0] = '\0';
	for (k = 0; k < p->n; k++) {
		const char *op = "";

		if (k && p->ent[k].tier != p->ent[k - 1].tier)
			op = " >> ";
		else if (k && p->ent[k].level != p->ent[k - 1].level)
			op = " > ";
		else if (k)
			op = " + ";
		n = snprintf(buf + off, cap - off, "%s%x", op, p->ent[k].minor);
		if (n < 0 || (u32)n >= cap - off)
			return -ENOSPC;
		off += (u32)n;
	}
	return (int)off;
}
