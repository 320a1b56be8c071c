// SPDX-License-Identifier: GPL-2.0-only
/*
 * qvisorctl: spec parser and plan.  See spec.h and qvisorctl(8).
 *
 * The grammar, one item per line ('#' starts a comment anywhere):
 *
 *	[link]
 *	KEY = VALUE		dev, handle, rate, limit, buckets, slot,
 *				default, backend, overlap, policy; dev may
 *				list names and globs
 *	[link NAME]		up to QS_MAX_LINKS: [link]'s keys, each
 *				not set inherited from [link]; own dev
 *	[tenant NAME]
 *	KEY = VALUE		class, match (repeatable), rank, range,
 *				levels, weight, ceil, burst, limit
 *	[template NAME]		at most one
 *	KEY = VALUE		iface, classes, share, and a tenant's rank,
 *				range, levels, weight, ceil, burst, limit
 *
 * Every error names the file and line ("fig3.spec:12: ...") and stops
 * the parse; nothing is guessed.
 */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"
#include <qvisor/aqm.h>

static int qs_fail(struct qs_spec *sp, int line, const char *fmt, ...)
{
	char msg[QS_ERR - 64];
	va_list ap;

	if (sp->err[0])
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(sp->err, sizeof(sp->err), "%s:%d: %s",
		 sp->file ? sp->file : "spec", line, msg);
	sp->err_line = line;
	return -1;
}

int qs_get_u32(const char *s, uint32_t *v)
{
	unsigned long long x;
	char *end;

	if (!*s || *s == '-' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno || *end || x > UINT32_MAX)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

static int qs_get_hex(const char *s, uint32_t *v)
{
	unsigned long x;
	char *end;

	if (!isxdigit((unsigned char)*s))
		return -1;
	errno = 0;
	x = strtoul(s, &end, 16);
	if (errno || *end || x > 0xffffffffUL)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

/*
 * Numbers with units, by tc's rules (iproute2's get_rate64, get_size,
 * get_time, get_time64, as the tc plugin q_qvisor.c uses them): a
 * decimal (or strtod) number, then an optional unit matched without
 * regard to case; the scaled value is truncated to an integer.  As the
 * plugin does, the number must start with a digit or '.' (no sign, blank,
 * "inf" or "nan"), the unit must be letters only and the result must fit
 * its type.  Units: rates in bits per second (a bare number is bit/s),
 * sizes in bytes, times in usec (get_time) or nsec (get_time64), a bare
 * number being the base unit.
 */
struct qs_unit {
	const char	*name;
	double		mult;
};

static int qs_get_scaled(const char *s, const struct qs_unit *u, double max,
			 double *out)
{
	const char *p;
	char *end;
	double x;

	if (!isdigit((unsigned char)*s) && *s != '.')
		return -1;
	errno = 0;
	x = strtod(s, &end);
	if (end == s || !isfinite(x) || x < 0)
		return -1;
	for (p = end; *p; p++)
		if (!isalpha((unsigned char)*p))
			return -1;
	for (; u->name; u++) {
		if (strcasecmp(end, u->name) == 0) {
			x = floor(x * u->mult);
			if (!isfinite(x) || x >= max)
				return -1;
			*out = x;
			return 0;
		}
	}
	return -1;
}

/* bytes per second; the multipliers are bits per second of one unit */
int qs_get_rate(const char *s, uint64_t *bps)
{
	static const struct qs_unit units[] = {
		{ "", 1 }, { "bit", 1 },
		{ "kibit", 0x1p10 }, { "kbit", 1e3 },
		{ "mibit", 0x1p20 }, { "mbit", 1e6 },
		{ "gibit", 0x1p30 }, { "gbit", 1e9 },
		{ "tibit", 0x1p40 }, { "tbit", 1e12 },
		{ "bps", 8 },
		{ "kibps", 8 * 0x1p10 }, { "kbps", 8e3 },
		{ "mibps", 8 * 0x1p20 }, { "mbps", 8e6 },
		{ "gibps", 8 * 0x1p30 }, { "gbps", 8e9 },
		{ "tibps", 8 * 0x1p40 }, { "tbps", 8e12 },
		{ NULL, 0 }
	};
	double v;

	/* tc divides by 8 after scaling: truncate bits/8, not bits */
	if (qs_get_scaled(s, units, 0x1p67, &v))
		return -1;
	v = floor(v / 8);
	if (v >= 0x1p64)
		return -1;
	/* as the plugin: a rate under 8bit would be 0 bytes/s, no cap */
	if (!v && strtod(s, NULL) > 0)
		return -1;
	*bps = (uint64_t)v;
	return 0;
}

int qs_get_size(const char *s, uint32_t *bytes)
{
	static const struct qs_unit units[] = {
		{ "", 1 }, { "b", 1 },
		{ "k", 0x1p10 }, { "kb", 0x1p10 }, { "kbit", 0x1p10 / 8 },
		{ "m", 0x1p20 }, { "mb", 0x1p20 }, { "mbit", 0x1p20 / 8 },
		{ "g", 0x1p30 }, { "gb", 0x1p30 }, { "gbit", 0x1p30 / 8 },
		{ NULL, 0 }
	};
	double v;

	if (qs_get_scaled(s, units, 0x1p32, &v))
		return -1;
	*bytes = (uint32_t)v;
	return 0;
}

static const struct qs_unit qs_time_units_us[] = {
	{ "", 1 }, { "us", 1 }, { "usec", 1 }, { "usecs", 1 },
	{ "ms", 1e3 }, { "msec", 1e3 }, { "msecs", 1e3 },
	{ "s", 1e6 }, { "sec", 1e6 }, { "secs", 1e6 },
	{ NULL, 0 }
};

/* usec, as tc's get_time (a bare number is usec) */
int qs_get_time_us(const char *s, uint32_t *usec)
{
	double v;

	if (qs_get_scaled(s, qs_time_units_us, 0x1p32, &v))
		return -1;
	*usec = (uint32_t)v;
	return 0;
}

/* nsec, as tc's get_time64 (a bare number is nsec) */
int qs_get_time_ns(const char *s, uint64_t *nsec)
{
	static const struct qs_unit units[] = {
		{ "", 1 }, { "ns", 1 }, { "nsec", 1 }, { "nsecs", 1 },
		{ "us", 1e3 }, { "usec", 1e3 }, { "usecs", 1e3 },
		{ "ms", 1e6 }, { "msec", 1e6 }, { "msecs", 1e6 },
		{ "s", 1e9 }, { "sec", 1e9 }, { "secs", 1e9 },
		{ NULL, 0 }
	};
	double v;

	if (qs_get_scaled(s, units, 0x1p63, &v))
		return -1;
	*nsec = (uint64_t)v;
	return 0;
}

void qs_fmt_rate(char *buf, size_t n, uint64_t bps)
{
	double bits = (double)bps * 8;

	if (bits >= 1e9)
		snprintf(buf, n, "%.4ggbit", bits / 1e9);
	else if (bits >= 1e6)
		snprintf(buf, n, "%.4gmbit", bits / 1e6);
	else if (bits >= 1e3)
		snprintf(buf, n, "%.4gkbit", bits / 1e3);
	else
		snprintf(buf, n, "%.4gbit", bits);
}

const char *qs_rank_name(int rank)
{
	switch (rank) {
	case QVISOR_RANK_PRIO: return "prio";
	case QVISOR_RANK_MARK: return "mark";
	case QVISOR_RANK_DSCP: return "dscp";
	case QVISOR_RANK_FIFO: return "fifo";
	case QVISOR_RANK_LAS: return "las";
	case QVISOR_RANK_STFQ: return "stfq";
	case QVISOR_RANK_EDF: return "edf";
	}
	return "?";
}

/* split s (modified) into blank-separated words; returns the count */
static int qs_words(char *s, char **w, int max)
{
	int n = 0;

	for (;;) {
		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			return n;
		if (n == max)
			return max + 1;
		w[n++] = s;
		while (*s && !isspace((unsigned char)*s))
			s++;
		if (*s)
			*s++ = '\0';
	}
}

static char *qs_trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* "MINOR" or "MAJ:MINOR" in hex, as tc writes class ids */
static int qs_get_minor(const char *s, uint32_t *minor, uint32_t *major)
{
	const char *c = strchr(s, ':');
	char buf[16];

	*major = 0;
	if (c) {
		if ((size_t)(c - s) >= sizeof(buf) || c == s)
			return -1;
		memcpy(buf, s, (size_t)(c - s));
		buf[c - s] = '\0';
		if (qs_get_hex(buf, major) || !*major || *major > 0xffff)
			return -1;
		s = c + 1;
	}
	if (qs_get_hex(s, minor) || !*minor || *minor > QVISOR_MAX_MINOR)
		return -1;
	return 0;
}

static int qs_parse_match(struct qs_spec *sp, struct qs_tenant *t, int line,
			  char *val)
{
	char *w[16], *slash;
	struct qs_match *m;
	uint32_t v;
	int n, i;

	if (t->nmatch == QS_MAX_MATCH)
		return qs_fail(sp, line, "tenant %s: more than %d match lines",
			       t->name, QS_MAX_MATCH);
	m = &t->match[t->nmatch];
	memset(m, 0, sizeof(*m));
	m->line = line;
	m->dscp = -1;
	n = qs_words(val, w, 15);
	if (n == 0)
		return qs_fail(sp, line, "match: expected src, indev, iface, alias, mac, dscp or mark");
	if (n > 15)
		return qs_fail(sp, line, "match: too many words");
	for (i = 0; i < n; i += 2) {
		if (i + 1 >= n)
			return qs_fail(sp, line, "match %s: missing value", w[i]);
		if (strcmp(w[i], "src") == 0) {
			if (m->has_src)
				return qs_fail(sp, line, "match: src given twice");
			slash = strchr(w[i + 1], '/');
			if (slash)
				*slash++ = '\0';
			if (inet_pton(AF_INET, w[i + 1], m->src) == 1)
				m->family = AF_INET;
			else if (inet_pton(AF_INET6, w[i + 1], m->src) == 1)
				m->family = AF_INET6;
			else
				return qs_fail(sp, line,
					       "match src: '%s' is not an IPv4 or IPv6 address",
					       w[i + 1]);
			m->plen = m->family == AF_INET ? 32 : 128;
			if (slash && (qs_get_u32(slash, &v) ||
				      v > (uint32_t)m->plen))
				return qs_fail(sp, line,
					       "match src: bad prefix length '%s'",
					       slash);
			if (slash)
				m->plen = (int)v;
			m->has_src = true;
		} else if (strcmp(w[i], "indev") == 0) {
			if (m->indev[0])
				return qs_fail(sp, line, "match: indev given twice");
			if (strlen(w[i + 1]) >= sizeof(m->indev))
				return qs_fail(sp, line,
					       "match indev: name '%s' too long",
					       w[i + 1]);
			strcpy(m->indev, w[i + 1]);
		} else if (strcmp(w[i], "iface") == 0) {
			if (m->iface[0])
				return qs_fail(sp, line, "match: iface given twice");
			if (strlen(w[i + 1]) >= sizeof(m->iface))
				return qs_fail(sp, line,
					       "match iface: '%s' longer than an interface name (15)",
					       w[i + 1]);
			if (strchr(w[i + 1], '/'))
				return qs_fail(sp, line,
					       "match iface: '%s' is not an interface name or glob",
					       w[i + 1]);
			strcpy(m->iface, w[i + 1]);
		} else if (strcmp(w[i], "alias") == 0) {
			if (m->alias[0])
				return qs_fail(sp, line, "match: alias given twice");
			if (strlen(w[i + 1]) >= sizeof(m->alias))
				return qs_fail(sp, line,
					       "match alias: '%s' longer than %d characters",
					       w[i + 1], QS_ALIAS - 1);
			strcpy(m->alias, w[i + 1]);
		} else if (strcmp(w[i], "mac") == 0) {
			unsigned int b[6];
			char c;

			if (m->has_mac)
				return qs_fail(sp, line, "match: mac given twice");
			if (strlen(w[i + 1]) != 17 ||
			    sscanf(w[i + 1], "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0],
				   &b[1], &b[2], &b[3], &b[4], &b[5], &c) != 6)
				return qs_fail(sp, line,
					       "match mac: '%s' is not a MAC address such as 52:54:00:12:34:56",
					       w[i + 1]);
			for (v = 0; v < 6; v++)
				m->mac[v] = (uint8_t)b[v];
			if (m->mac[0] & 1)
				return qs_fail(sp, line,
					       "match mac: %s is a multicast address, not a guest's source MAC",
					       w[i + 1]);
			m->has_mac = true;
		} else if (strcmp(w[i], "dscp") == 0) {
			if (m->dscp >= 0)
				return qs_fail(sp, line, "match: dscp given twice");
			if (qs_get_u32(w[i + 1], &v) || v > 63)
				return qs_fail(sp, line,
					       "match dscp: '%s' is not 0..63",
					       w[i + 1]);
			m->dscp = (int)v;
		} else if (strcmp(w[i], "mark") == 0) {
			if (m->has_mark)
				return qs_fail(sp, line, "match: mark given twice");
			slash = strchr(w[i + 1], '/');
			if (slash)
				*slash++ = '\0';
			if (qs_get_u32(w[i + 1], &m->mark) ||
			    (slash && (qs_get_u32(slash, &m->mark_mask) ||
				       !m->mark_mask)))
				return qs_fail(sp, line,
					       "match mark: expected VALUE[/MASK]");
			m->has_mark = true;
		} else {
			return qs_fail(sp, line,
				       "match: unknown key '%s' (src, indev, iface, alias, mac, dscp, mark)",
				       w[i]);
		}
	}
	if (m->has_mark && (m->has_src || m->indev[0] || m->dscp >= 0 ||
			    qs_match_dynamic(m) || m->has_mac))
		return qs_fail(sp, line,
			       "match: mark cannot be combined with src, indev, iface, alias, mac or dscp (use two match lines)");
	if (m->indev[0] && qs_match_dynamic(m))
		return qs_fail(sp, line,
			       "match: indev names one device; iface and alias find devices by name or alias: use one of them");
	if (m->has_mark && !m->mark && (!m->mark_mask || m->mark_mask == ~0u))
		return qs_fail(sp, line, "match mark: value must not be 0");
	if (m->has_mark && (m->mark & ~(m->mark_mask ? m->mark_mask : ~0u)))
		return qs_fail(sp, line, "match mark: value has bits outside the mask");
	t->nmatch++;
	return 0;
}

static int qs_parse_rank(struct qs_spec *sp, struct qs_tenant *t, int line,
			 char *val)
{
	static const struct { const char *name; int rank; } src[] = {
		{ "prio", QVISOR_RANK_PRIO }, { "mark", QVISOR_RANK_MARK },
		{ "dscp", QVISOR_RANK_DSCP }, { "fifo", QVISOR_RANK_FIFO },
		{ "las", QVISOR_RANK_LAS }, { "stfq", QVISOR_RANK_STFQ },
		{ "edf", QVISOR_RANK_EDF },
	};
	char *w[4];
	int n = qs_words(val, w, 3);
	unsigned int k;

	if (n < 1 || n > 3)
		return qs_fail(sp, line,
			       "rank: expected prio, mark [MASK], dscp, fifo, las, stfq or edf BUDGET [mark_budget]");
	for (k = 0; k < sizeof(src) / sizeof(src[0]); k++)
		if (!strcmp(w[0], src[k].name))
			break;
	if (k == sizeof(src) / sizeof(src[0]))
		return qs_fail(sp, line,
			       "rank: unknown source '%s' (prio, mark, dscp, fifo, las, stfq, edf)",
			       w[0]);
	t->rank = src[k].rank;
	if (t->rank == QVISOR_RANK_MARK) {
		t->mark_mask = 0xffffffff;
		if (n == 3)
			return qs_fail(sp, line, "rank mark: takes one MASK");
		if (n == 2 && qs_get_u32(w[1], &t->mark_mask))
			return qs_fail(sp, line,
				       "rank mark: MASK '%s' is not a number", w[1]);
		if (!t->mark_mask)
			return qs_fail(sp, line, "mark mask must not be zero");
		return 0;
	}
	if (t->rank == QVISOR_RANK_EDF) {
		/* the budget in tc's time units, a bare number is nsec */
		if (n < 2)
			return qs_fail(sp, line,
				       "rank edf needs a deadline budget greater than 0 (e.g. rank = edf 10ms)");
		if (qs_get_time_ns(w[1], &t->edf_budget))
			return qs_fail(sp, line,
				       "rank edf: '%s' is not a time such as 10ms",
				       w[1]);
		if (!t->edf_budget)
			return qs_fail(sp, line,
				       "rank edf needs a deadline budget greater than 0");
		if (t->edf_budget > QVISOR_MAX_EDF_BUDGET_NS)
			return qs_fail(sp, line,
				       "rank edf: the budget is at most one hour (the kernel's QVISOR_MAX_EDF_BUDGET_NS)");
		if (n == 3 && strcmp(w[2], "mark_budget"))
			return qs_fail(sp, line,
				       "rank edf: '%s' after the budget: only mark_budget",
				       w[2]);
		t->edf_mark = n == 3;
		return 0;
	}
	if (n >= 2)
		return qs_fail(sp, line, "rank %s: takes no argument", w[0]);
	return 0;
}

/* bit set of keys seen in the current section, for duplicates */
static int qs_seen(struct qs_spec *sp, int line, unsigned int *seen, int bit,
		   const char *key)
{
	if (*seen & (1u << bit))
		return qs_fail(sp, line, "'%s' given twice in this section", key);
	*seen |= 1u << bit;
	return 0;
}

/* yes/on/1/true: 1, no/off/0/false: 0, else -1 */
static int qs_yesno(const char *val)
{
	if (!strcmp(val, "yes") || !strcmp(val, "on") ||
	    !strcmp(val, "1") || !strcmp(val, "true"))
		return 1;
	if (!strcmp(val, "no") || !strcmp(val, "off") ||
	    !strcmp(val, "0") || !strcmp(val, "false"))
		return 0;
	return -1;
}

/* target (1us..1s) or interval (1us..10s), as tc checks them */
static int qs_aqm_time(struct qs_spec *sp, int line, const char *key,
		       char *val, uint32_t *us)
{
	bool target = !strcmp(key, "target");

	if (qs_get_time_us(val, us))
		return qs_fail(sp, line, "%s: '%s' is not a time such as %s",
			       key, val, target ? "5ms" : "100ms");
	if (!*us || *us > (target ? QVISOR_MAX_TARGET_US :
				    QVISOR_MAX_INTERVAL_US))
		return qs_fail(sp, line, target ?
			       "target must be from 1us to 1s" :
			       "interval must be from 1us to 10s");
	return 0;
}

bool qs_is_glob(const char *name)
{
	return strpbrk(name, "*?[") != NULL;
}

/* the one fnmatch() of device names: dev = globs, iface = matches and
 * the template's iface
 */
bool qs_glob_match(const char *pattern, const char *name)
{
	return !fnmatch(pattern, name, 0);
}

/* dev = NAME|GLOB ...: each word a device name (or a glob) that fits
 * IFNAMSIZ, none twice; kept as the words joined by one space
 */
static int qs_dev_key(struct qs_spec *sp, int line, char *val)
{
	char *w[QS_DEVLIST / 2], out[QS_DEVLIST];
	size_t o = 0;
	int n, i, j;

	if (strlen(val) >= sizeof(sp->dev))
		return qs_fail(sp, line, "dev: longer than %d characters",
			       QS_DEVLIST - 1);
	n = qs_words(val, w, QS_DEVLIST / 2);
	for (i = 0; i < n; i++) {
		if (strlen(w[i]) >= 16 || strchr(w[i], '/'))
			return qs_fail(sp, line, "dev: bad device name '%s'",
				       w[i]);
		for (j = 0; j < i; j++)
			if (!strcmp(w[i], w[j]))
				return qs_fail(sp, line,
					       "dev: '%s' given twice", w[i]);
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s",
				      i ? " " : "", w[i]);
	}
	strcpy(sp->dev, out);
	sp->dev_line = line;
	return 0;
}

static int qs_link_key(struct qs_spec *sp, int line, unsigned int *seen,
		       const char *key, char *val)
{
	static const char *const keys[] = {
		"dev", "handle", "rate", "limit", "buckets", "slot", "default",
		"backend", "overlap", "policy", "flows", "flow_idle", "partial",
		"split_gso", "aqm", "ecn", "target", "interval", "memlimit",
		"lend", NULL
	};
	uint32_t v, maj;
	char *w[3];
	int k, n;

	for (k = 0; keys[k] && strcmp(keys[k], key); k++)
		;
	if (!keys[k])
		return qs_fail(sp, line,
			       "[link]: unknown key '%s' (dev, handle, rate, limit, buckets, slot, default, backend, overlap, policy, flows, flow_idle, partial, split_gso, aqm, ecn, target, interval, memlimit, lend)",
			       key);
	if (qs_seen(sp, line, seen, k, key))
		return -1;
	switch (k) {
	case 0:
		return qs_dev_key(sp, line, val);
	case 1:
		n = (int)strlen(val);
		if (n && val[n - 1] == ':')
			val[n - 1] = '\0';
		if (qs_get_hex(val, &v) || !v || v > 0xffff)
			return qs_fail(sp, line,
				       "handle: expected a qdisc major 1..ffff, e.g. 1:");
		sp->handle = v;
		return 0;
	case 2:
		if (qs_get_rate(val, &sp->rate))
			return qs_fail(sp, line,
				       "rate: '%s' is not a rate such as 100mbit",
				       val);
		sp->has_rate = true;
		sp->rate_line = line;
		return 0;
	case 3:
		if (qs_get_u32(val, &sp->limit))
			return qs_fail(sp, line, "limit: expected packets");
		if (!sp->limit)
			return qs_fail(sp, line, "limit must be at least 1 packet");
		sp->has_limit = true;
		sp->limit_line = line;
		return 0;
	case 4:
		if (qs_get_u32(val, &v) || v < QVISOR_MIN_BUCKETS ||
		    v > QVISOR_MAX_BUCKETS || (v & (v - 1)))
			return qs_fail(sp, line,
				       "buckets must be a power of two from 64 to 65536");
		sp->buckets = v;
		sp->has_buckets = true;
		return 0;
	case 5:
		if (qs_get_time_us(val, &sp->slot_us))
			return qs_fail(sp, line,
				       "slot: '%s' is not a time such as 1ms", val);
		if (!sp->slot_us || sp->slot_us > 1000000)
			return qs_fail(sp, line, "slot must be from 1us to 1s");
		sp->has_slot = true;
		return 0;
	case 6:
		if (qs_get_minor(val, &sp->defcls, &maj))
			return qs_fail(sp, line,
				       "default must be a class minor 0..ffff (hex, 0 = none: leave default out)");
		sp->has_default = true;
		sp->default_line = line;
		return 0;
	case 7:
		n = qs_words(val, w, 2);
		sp->has_backend = true;
		if (n == 1 && !strcmp(w[0], "pifo"))
			sp->backend = QVISOR_BACKEND_PIFO;
		else if (n == 1 && !strcmp(w[0], "fifo"))
			sp->backend = QVISOR_BACKEND_FIFO;
		else if (n == 1 && !strcmp(w[0], "aifo"))
			sp->backend = QVISOR_BACKEND_AIFO;
		else if (n == 2 && !strcmp(w[0], "sppifo") &&
			 !qs_get_u32(w[1], &sp->queues)) {
			if (sp->queues < QVISOR_MIN_SPPIFO_Q ||
			    sp->queues > QVISOR_MAX_SPPIFO_Q)
				return qs_fail(sp, line,
					       "queues must be from 2 to 32");
			sp->backend = QVISOR_BACKEND_SPPIFO;
		} else
			return qs_fail(sp, line,
				       "backend: expected pifo, fifo, aifo or sppifo QUEUES (2..32)");
		return 0;
	case 8:
		n = (int)strlen(val);
		if (n && val[n - 1] == '%')
			val[n - 1] = '\0';
		if (qs_get_u32(val, &sp->overlap) || sp->overlap > 100)
			return qs_fail(sp, line, "overlap must be a percentage 0..100");
		sp->has_overlap = true;
		return 0;
	case 10:
		if (qs_get_u32(val, &sp->flows) ||
		    sp->flows < QVISOR_MIN_FLOWS ||
		    sp->flows > QVISOR_MAX_FLOWS ||
		    (sp->flows & (sp->flows - 1)))
			return qs_fail(sp, line,
				       "flows must be a power of two from 16 to 262144");
		sp->has_flows = true;
		return 0;
	case 11:
		if (qs_get_time_us(val, &sp->flow_idle_us))
			return qs_fail(sp, line,
				       "flow_idle: '%s' is not a time such as 1s", val);
		if (!sp->flow_idle_us)
			return qs_fail(sp, line, "flow_idle must be at least 1us");
		sp->has_flow_idle = true;
		return 0;
	case 12:
		if (!strcmp(val, "yes") || !strcmp(val, "on") ||
		    !strcmp(val, "1") || !strcmp(val, "true"))
			sp->partial = 1;
		else if (!strcmp(val, "no") || !strcmp(val, "off") ||
			 !strcmp(val, "0") || !strcmp(val, "false"))
			sp->partial = 0;
		else
			return qs_fail(sp, line, "partial: expected yes or no");
		sp->has_partial = true;
		return 0;
	case 13:
		if (!strcmp(val, "auto"))
			sp->split_gso = QVISOR_SPLIT_GSO_AUTO;
		else if (!strcmp(val, "yes") || !strcmp(val, "on"))
			sp->split_gso = QVISOR_SPLIT_GSO_ON;
		else if (!strcmp(val, "no") || !strcmp(val, "off"))
			sp->split_gso = QVISOR_SPLIT_GSO_OFF;
		else
			return qs_fail(sp, line, "split_gso: expected auto, yes or no");
		sp->has_split_gso = true;
		return 0;
	case 14:
	case 15:
		n = qs_yesno(val);
		if (n < 0)
			return qs_fail(sp, line, "%s: expected yes or no", key);
		if (k == 14) {
			sp->aqm = (uint8_t)n;
			sp->has_aqm = true;
			sp->aqm_line = line;
		} else {
			sp->ecn = (uint8_t)n;
			sp->has_ecn = true;
		}
		return 0;
	case 16:
	case 17:
		return qs_aqm_time(sp, line, key, val,
				   k == 16 ? &sp->target_us : &sp->interval_us);
	case 18:
		if (qs_get_size(val, &sp->memlimit))
			return qs_fail(sp, line,
				       "memlimit: '%s' is not a size such as 4m (0 = none)",
				       val);
		return 0;
	case 19:
		if (qs_get_time_us(val, &sp->lend_us) ||
		    sp->lend_us > QVISOR_MAX_LEND_US)
			return qs_fail(sp, line,
				       "lend: '%s' is not a time such as 100ms (0 = off, at most 60s)",
				       val);
		return 0;
	case 9:
		if (strlen(val) >= sizeof(sp->policy))
			return qs_fail(sp, line, "policy: too long");
		if ((val[0] == '"' || val[0] == '\'') && strlen(val) >= 2 &&
		    val[strlen(val) - 1] == val[0]) {
			val[strlen(val) - 1] = '\0';
			val++;
		}
		strcpy(sp->policy, val);
		sp->policy_line = line;
		return 0;
	}
	return -1;
}

/* range = LO HI | auto [LO HI] [window PACKETS]; window 0 turns auto off
 * (then LO HI are needed), as the kernel's attribute does
 */
static int qs_parse_range(struct qs_spec *sp, struct qs_tenant *t, int line,
			  char *val)
{
	static const char usage[] =
		"range: expected LO HI, or auto [LO HI] [window PACKETS]";
	char *w[6];
	int n = qs_words(val, w, 5), i = 0;
	bool is_auto = n && !strcmp(w[0], "auto");

	if (n > 5)
		return qs_fail(sp, line, usage);
	t->rauto = is_auto ? QVISOR_RAUTO_DEF_WINDOW : 0;
	i = is_auto;
	if (n - i >= 2 && strcmp(w[i], "window")) {
		if (qs_get_u32(w[i], &t->lo) || qs_get_u32(w[i + 1], &t->hi))
			return qs_fail(sp, line, usage);
		if (t->lo > t->hi)
			return qs_fail(sp, line,
				       "range LO must not be above HI (%u > %u)",
				       t->lo, t->hi);
		t->range_set = true;
		i += 2;
	}
	if (is_auto && n - i == 2 && !strcmp(w[i], "window")) {
		if (qs_get_u32(w[i + 1], &t->rauto) ||
		    (t->rauto && (t->rauto < QVISOR_RAUTO_MIN_WINDOW ||
				  t->rauto > QVISOR_RAUTO_MAX_WINDOW)))
			return qs_fail(sp, line,
				       "range auto window must be 0 (off) or %u to %u packets",
				       QVISOR_RAUTO_MIN_WINDOW,
				       QVISOR_RAUTO_MAX_WINDOW);
		i += 2;
	}
	if (i != n || (!t->rauto && !t->range_set))
		return qs_fail(sp, line, usage);
	return 0;
}

static int qs_tenant_key(struct qs_spec *sp, struct qs_tenant *t, int line,
			 unsigned int *seen, const char *key, char *val)
{
	static const char *const keys[] = {
		"class", "match", "rank", "range", "levels", "weight", "ceil",
		"burst", "limit", "aqm", "ecn", "target", "interval", NULL
	};
	uint32_t maj;
	int k, on;

	for (k = 0; keys[k] && strcmp(keys[k], key); k++)
		;
	if (!keys[k])
		return qs_fail(sp, line,
			       "[tenant %s]: unknown key '%s' (class, match, rank, range, levels, weight, ceil, burst, limit, aqm, ecn, target, interval)",
			       t->name, key);
	if (k != 1 && qs_seen(sp, line, seen, k, key))
		return -1;
	switch (k) {
	case 0:
		if (qs_get_minor(val, &t->minor, &maj)) {
			if (qs_get_hex(val, &maj) == 0 && !maj)
				return qs_fail(sp, line,
					       "classid must be MAJOR:MINOR of this qdisc with MINOR not 0");
			return qs_fail(sp, line,
				       "class: expected a class minor in hex (1..ffff), e.g. 3 or 1:3");
		}
		if (maj && sp->handle && maj != sp->handle)
			return qs_fail(sp, line,
				       "class: major %x is not the qdisc handle %x",
				       maj, sp->handle);
		return 0;
	case 1:
		return qs_parse_match(sp, t, line, val);
	case 2:
		return qs_parse_rank(sp, t, line, val);
	case 3:
		return qs_parse_range(sp, t, line, val);
	case 4:
		if (qs_get_u32(val, &t->levels) || !t->levels ||
		    t->levels > QVISOR_MAX_LEVELS)
			return qs_fail(sp, line, "levels must be from 1 to 65536");
		return 0;
	case 5:
		if (qs_get_u32(val, &t->weight) || !t->weight ||
		    t->weight > QVISOR_MAX_WEIGHT)
			return qs_fail(sp, line, "weight must be from 1 to 65535");
		t->weight_line = line;
		return 0;
	case 6:
		if (qs_get_rate(val, &t->ceil) || !t->ceil)
			return qs_fail(sp, line,
				       "ceil: '%s' is not a rate such as 40mbit", val);
		t->ceil_line = line;
		return 0;
	case 7:
		if (qs_get_size(val, &t->burst) || !t->burst)
			return qs_fail(sp, line,
				       "burst: '%s' is not a size such as 15k", val);
		return 0;
	case 9:
	case 10:
		on = qs_yesno(val);
		if (on < 0)
			return qs_fail(sp, line, "%s: expected yes or no", key);
		*(k == 9 ? &t->aqm : &t->ecn) = on ? QVISOR_AQM_ON :
						     QVISOR_AQM_OFF;
		if (k == 9)
			t->aqm_line = line;
		return 0;
	case 11:
	case 12:
		return qs_aqm_time(sp, line, key, val,
				   k == 11 ? &t->target_us : &t->interval_us);
	default:
		if (qs_get_u32(val, &t->limit) || !t->limit)
			return qs_fail(sp, line,
				       "limit: expected packets, at least 1");
		t->limit_line = line;
		return 0;
	}
}

static const char *const qs_gmetrics[] = { "best", "clamped", "shift" };

const char *qs_guard_metric(int metric)
{
	return qs_gmetrics[metric];
}

/* whole seconds, 1..3600 */
static int qs_get_secs(const char *s, uint32_t *secs)
{
	uint32_t us;

	if (qs_get_time_us(s, &us) || us < 1000000 || us > 3600000000u ||
	    us % 1000000)
		return -1;
	*secs = us / 1000000;
	return 0;
}

#define QS_GUARD_FORM "expected 'METRIC > N% for DURATION: ceil RATE' or '...: weight N', e.g. 'best > 90% for 2s: ceil 1mbit'"

/* rule = METRIC > N% for DURATION: ACTION VALUE */
static int qs_guard_rule(struct qs_spec *sp, int line, char *val)
{
	struct qs_guard_rule *r = &sp->guard.r[sp->guard.nrules];
	char *colon = strchr(val, ':'), *w[8];
	size_t n;
	int m;

	if (sp->guard.nrules == QS_MAX_GUARD)
		return qs_fail(sp, line, "[guard]: more than %d rules",
			       QS_MAX_GUARD);
	if (colon)
		*colon = ' ';
	if (!colon || qs_words(val, w, 8) != 7 || strcmp(w[1], ">") ||
	    strcmp(w[3], "for"))
		return qs_fail(sp, line, "[guard] rule: %s", QS_GUARD_FORM);
	for (m = 0; m < 3 && strcmp(qs_gmetrics[m], w[0]); m++)
		;
	if (m == 3)
		return qs_fail(sp, line,
			       "[guard] rule: unknown metric '%s' (best, clamped, shift)",
			       w[0]);
	n = strlen(w[2]);
	if (n < 2 || n > 3 || w[2][n - 1] != '%' ||
	    strspn(w[2], "0123456789") != n - 1)
		return qs_fail(sp, line,
			       "[guard] rule: threshold '%s': a percentage, 0%%..99%%",
			       w[2]);
	if (qs_get_secs(w[4], &r->for_s))
		return qs_fail(sp, line,
			       "[guard] rule: 'for %s': whole seconds, 1s..3600s",
			       w[4]);
	r->pct = (uint32_t)atoi(w[2]);
	r->metric = m;
	r->line = line;
	if (!strcmp(w[5], "ceil")) {
		r->action = QS_GA_CEIL;
		if (qs_get_rate(w[6], &r->ceil) || !r->ceil)
			return qs_fail(sp, line,
				       "[guard] rule: ceil '%s': a rate such as 1mbit",
				       w[6]);
	} else if (!strcmp(w[5], "weight")) {
		r->action = QS_GA_WEIGHT;
		if (qs_get_u32(w[6], &r->weight) || !r->weight ||
		    r->weight > QVISOR_MAX_WEIGHT)
			return qs_fail(sp, line,
				       "[guard] rule: weight '%s': 1..%u",
				       w[6], QVISOR_MAX_WEIGHT);
	} else {
		return qs_fail(sp, line,
			       "[guard] rule: unknown action '%s' (ceil, weight)",
			       w[5]);
	}
	sp->guard.nrules++;
	return 0;
}

/* [guard]: rule (repeated), restore, min_packets */
static int qs_guard_key(struct qs_spec *sp, int line, unsigned int *seen,
			const char *key, char *val)
{
	if (!strcmp(key, "rule"))
		return qs_guard_rule(sp, line, val);
	if (!strcmp(key, "restore")) {
		if (qs_seen(sp, line, seen, 0, key))
			return -1;
		if (qs_get_secs(val, &sp->guard.restore_s))
			return qs_fail(sp, line,
				       "[guard] restore '%s': whole seconds, 1s..3600s",
				       val);
		return 0;
	}
	if (!strcmp(key, "min_packets")) {
		if (qs_seen(sp, line, seen, 1, key))
			return -1;
		if (qs_get_u32(val, &sp->guard.min_pkts) || !sp->guard.min_pkts)
			return qs_fail(sp, line,
				       "[guard] min_packets '%s': packets a second, at least 1",
				       val);
		return 0;
	}
	return qs_fail(sp, line,
		       "[guard]: unknown key '%s' (rule, restore, min_packets)",
		       key);
}

/* [template NAME]: iface, classes, share, or a tenant key but class and
 * match (the template makes those)
 */
static int qs_template_key(struct qs_spec *sp, int line, unsigned int *seen,
			   const char *key, char *val)
{
	struct qs_template *tp = &sp->tmpl;
	char *dash;
	uint32_t maj;

	if (!strcmp(key, "iface")) {
		if (qs_seen(sp, line, seen, 16, key))
			return -1;
		if (strlen(val) >= sizeof(tp->iface) || strchr(val, '/') ||
		    strpbrk(val, " \t"))
			return qs_fail(sp, line,
				       "iface: '%s' is not an interface name or glob (at most 15 characters)",
				       val);
		strcpy(tp->iface, val);
		return 0;
	}
	if (!strcmp(key, "classes")) {
		if (qs_seen(sp, line, seen, 17, key))
			return -1;
		dash = strchr(val, '-');
		if (dash)
			*dash++ = '\0';
		if (!dash || qs_get_minor(qs_trim(val), &tp->lo, &maj) || maj ||
		    qs_get_minor(qs_trim(dash), &tp->hi, &maj) || maj)
			return qs_fail(sp, line,
				       "classes: expected LO-HI, class minors in hex (1..ffff), e.g. 100-1ff");
		if (tp->lo > tp->hi)
			return qs_fail(sp, line,
				       "classes: LO must not be above HI (%x > %x)",
				       tp->lo, tp->hi);
		return 0;
	}
	if (!strcmp(key, "share")) {
		if (qs_seen(sp, line, seen, 18, key))
			return -1;
		if (strlen(val) >= sizeof(tp->share))
			return qs_fail(sp, line, "share: tenant name too long");
		strcpy(tp->share, val);
		return 0;
	}
	if (!strcmp(key, "class") || !strcmp(key, "match"))
		return qs_fail(sp, line,
			       "[template %s]: '%s' is not a template key: the template makes one class per device (classes = LO-HI) and matches it by name (iface = GLOB)",
			       tp->t.name, key);
	if (!strcmp(key, "rank") || !strcmp(key, "range") ||
	    !strcmp(key, "levels") || !strcmp(key, "weight") ||
	    !strcmp(key, "ceil") || !strcmp(key, "burst") ||
	    !strcmp(key, "limit"))
		return qs_tenant_key(sp, &tp->t, line, seen, key, val);
	return qs_fail(sp, line,
		       "[template %s]: unknown key '%s' (iface, classes, share, rank, range, levels, weight, ceil, burst, limit)",
		       tp->t.name, key);
}

static bool qs_name_ok(const char *s)
{
	if (!*s || strlen(s) >= QS_NAME)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return false;
	return true;
}

/* the kernel's defaults for what the spec leaves out, then whole-spec
 * checks: classes unique, policy valid and naming declared tenants
 */
bool qs_aqm_on(const struct qs_spec *sp)
{
	return !sp->has_aqm || sp->aqm;
}

bool qs_ecn_on(const struct qs_spec *sp)
{
	return !sp->has_ecn || sp->ecn;
}

uint32_t qs_target_us(const struct qs_spec *sp)
{
	return sp->target_us ? sp->target_us : QVISOR_DEF_TARGET_US;
}

uint32_t qs_interval_us(const struct qs_spec *sp)
{
	return sp->interval_us ? sp->interval_us : QVISOR_DEF_INTERVAL_US;
}

uint32_t qs_qdisc_limit(const struct qs_spec *sp)
{
	if (sp->has_limit)
		return sp->limit;
	return qv_auto_limit(sp->rate, qs_aqm_on(sp), QVISOR_DEF_LIMIT);
}

static int qs_finish(struct qs_spec *sp)
{
	struct qv_err e = {};
	int k, m;

	if (!sp->handle)
		sp->handle = 1;
	if (!sp->buckets)
		sp->buckets = QVISOR_DEF_BUCKETS;
	if (!sp->has_overlap)
		sp->overlap = QVISOR_DEF_OVERLAP;
	for (k = 0; k < sp->ntenants; k++) {
		struct qs_tenant *t = &sp->t[k];

		if (!t->minor)
			return qs_fail(sp, t->line, "[tenant %s]: no 'class'",
				       t->name);
		for (m = 0; m < k; m++) {
			if (sp->t[m].minor == t->minor)
				return qs_fail(sp, t->line,
					       "[tenant %s]: class %x:%x already used by tenant %s (line %d)",
					       t->name, sp->handle, t->minor,
					       sp->t[m].name, sp->t[m].line);
			if (!strcmp(sp->t[m].name, t->name))
				return qs_fail(sp, t->line,
					       "[tenant %s]: name already used (line %d)",
					       t->name, sp->t[m].line);
		}
		if (!t->range_set) {
			t->lo = 0;
			t->hi = qv_default_hi(t->rank, t->mark_mask,
					      t->edf_budget);
		}
		if (!t->levels)
			t->levels = QVISOR_DEF_LEVELS;
		if (!t->weight)
			t->weight = QVISOR_DEF_WEIGHT;
		if (t->burst && !t->ceil)
			return qs_fail(sp, t->line,
				       "[tenant %s]: burst without ceil", t->name);
		/* the kernel checks a class's own pair, else the qdisc's */
		if ((t->target_us || t->interval_us) &&
		    (t->target_us ? t->target_us : qs_target_us(sp)) >=
		    (t->interval_us ? t->interval_us : qs_interval_us(sp)))
			return qs_fail(sp, t->line,
				       "[tenant %s]: AQM target must be below its interval",
				       t->name);
	}
	if (qs_target_us(sp) >= qs_interval_us(sp))
		return qs_fail(sp, sp->aqm_line ? sp->aqm_line : 1,
			       "AQM target must be below its interval");
	sp->pol.ent = sp->ent;
	sp->pol.cap = QS_MAX_TENANTS;
	qv_policy_start(&sp->pol, sp->grp, QV_POLICY_MAX_GROUPS);
	if (sp->policy_line) {
		if (qv_policy_parse_groups(&sp->pol, sp->grp,
					   QV_POLICY_MAX_GROUPS, sp->policy,
					   (uint32_t)strlen(sp->policy), &e))
			return qs_fail(sp, sp->policy_line,
				       "policy: %s (at character %u)", e.msg,
				       e.pos);
		for (k = 0; k < (int)sp->pol.n; k++) {
			for (m = 0; m < sp->ntenants; m++)
				if (sp->t[m].minor == sp->ent[k].minor)
					break;
			if (m == sp->ntenants)
				return qs_fail(sp, sp->policy_line,
					       "policy names class %x:%x, which no [tenant] declares",
					       sp->handle, sp->ent[k].minor);
		}
	}
	if (sp->has_default) {
		for (m = 0; m < sp->ntenants; m++)
			if (sp->t[m].minor == sp->defcls)
				break;
		if (m == sp->ntenants)
			return qs_fail(sp, sp->default_line,
				       "default class %x:%x is not a declared tenant",
				       sp->handle, sp->defcls);
	}
	return 0;
}

static int qs_finish_template(struct qs_spec *sp)
{
	struct qs_template *tp = &sp->tmpl;
	int k;

	if (!tp->set)
		return 0;
	if (!tp->iface[0])
		return qs_fail(sp, tp->line,
			       "[template %s]: no 'iface' (the devices it makes tenants for, e.g. iface = vnet*)",
			       tp->t.name);
	if (!tp->lo)
		return qs_fail(sp, tp->line,
			       "[template %s]: no 'classes' (e.g. classes = 100-13f: at most 64 tenants)",
			       tp->t.name);
	if (tp->t.burst && !tp->t.ceil)
		return qs_fail(sp, tp->line, "[template %s]: burst without ceil",
			       tp->t.name);
	if (!tp->t.range_set) {
		tp->t.lo = 0;
		tp->t.hi = qv_default_hi(tp->t.rank, tp->t.mark_mask,
					 tp->t.edf_budget);
		tp->t.range_set = true;
	}
	if (!tp->t.levels)
		tp->t.levels = QVISOR_DEF_LEVELS;
	if (!tp->t.weight)
		tp->t.weight = QVISOR_DEF_WEIGHT;
	for (k = 0; k < sp->ntenants; k++)
		if (sp->t[k].minor >= tp->lo && sp->t[k].minor <= tp->hi)
			return qs_fail(sp, tp->line,
				       "[template %s]: classes %x-%x include class %x of tenant %s (line %d)",
				       tp->t.name, tp->lo, tp->hi, sp->t[k].minor,
				       sp->t[k].name, sp->t[k].line);
	if (sp->has_default && sp->defcls >= tp->lo && sp->defcls <= tp->hi)
		return qs_fail(sp, tp->line,
			       "[template %s]: classes %x-%x include the default class %x",
			       tp->t.name, tp->lo, tp->hi, sp->defcls);
	if (tp->share[0]) {
		for (k = 0; k < sp->ntenants; k++)
			if (!strcmp(sp->t[k].name, tp->share))
				break;
		if (k == sp->ntenants)
			return qs_fail(sp, tp->line,
				       "[template %s]: share = %s: no such tenant",
				       tp->t.name, tp->share);
	} else if (sp->policy_line) {
		return qs_fail(sp, tp->line,
			       "[template %s]: the spec has a policy: say whose '+' group the template's tenants join (share = TENANT)",
			       tp->t.name);
	}
	return 0;
}

bool qs_match_dynamic(const struct qs_match *m)
{
	return m->iface[0] || m->alias[0];
}

bool qs_link_matches(const struct qs_match *m, const struct qs_link *l)
{
	if (!qs_match_dynamic(m))
		return false;
	if (m->iface[0] && !qs_glob_match(m->iface, l->name))
		return false;
	if (m->alias[0] && (!l->alias[0] || !qs_glob_match(m->alias, l->alias)))
		return false;
	return true;
}

/* is link l claimed by a declared tenant (iface/alias match or indev)? */
static bool qs_claimed(const struct qs_spec *sp, const struct qs_link *l)
{
	int k, m;

	for (k = 0; k < sp->ndeclared; k++)
		for (m = 0; m < sp->t[k].nmatch; m++) {
			const struct qs_match *mt = &sp->t[k].match[m];

			if (qs_link_matches(mt, l) || !strcmp(mt->indev, l->name))
				return true;
		}
	return false;
}

static bool qs_minor_used(const struct qs_spec *sp, uint32_t minor)
{
	int k;

	for (k = 0; k < sp->ntenants; k++)
		if (sp->t[k].minor == minor)
			return true;
	return false;
}

/* the policy with every token naming class 'minor' replaced by
 * "TOKEN + add" (the template's tenants join that tenant's '+' group:
 * '+' binds tightest)
 */
static int qs_policy_join(struct qs_spec *sp, uint32_t minor, const char *add)
{
	static char out[QVISOR_MAX_POLICY];
	const char *p = sp->policy;
	size_t o = 0, len;
	bool done = false;

	while (*p) {
		const char *b = p;
		uint32_t v = 0, maj;
		char tok[16];

		if (!isxdigit((unsigned char)*p)) {
			if (o + 1 >= sizeof(out))
				return -1;
			out[o++] = *p++;
			continue;
		}
		while (isxdigit((unsigned char)*p) || *p == ':')
			p++;
		len = (size_t)(p - b);
		if (o + len + 1 >= sizeof(out))
			return -1;
		memcpy(out + o, b, len);
		o += len;
		if (len < sizeof(tok)) {
			memcpy(tok, b, len);
			tok[len] = '\0';
			if (!qs_get_minor(tok, &v, &maj) && v == minor && !done) {
				if (o + 3 + strlen(add) >= sizeof(out))
					return -1;
				o += (size_t)snprintf(out + o, sizeof(out) - o,
						      " + %s", add);
				done = true;
			}
		}
	}
	out[o] = '\0';
	strcpy(sp->policy, out);
	return 0;
}

/* --- link sections ------------------------------------------------------ */

int qs_nsections(const struct qs_spec *sp)
{
	return 1 + sp->nsec;
}

bool qs_section_used(const struct qs_spec *sp, int i)
{
	return i > 0 || sp->dev[0] || !sp->nsec;
}

const char *qs_section_label(const struct qs_spec *sp, int i, char *buf,
			     size_t n)
{
	if (i <= 0)
		snprintf(buf, n, "[link]");
	else
		snprintf(buf, n, "[link %.*s]", QS_NAME - 1, sp->sec[i - 1].name);
	return buf;
}

/* section i's dev = value ("" = none) and its line */
static const char *qs_section_devs(const struct qs_spec *sp, int i, int *line)
{
	const struct qs_linksec *ls;
	int k;

	if (i <= 0) {
		*line = sp->dev_line;
		return sp->dev;
	}
	ls = &sp->sec[i - 1];
	*line = ls->dev_line;
	for (k = 0; k < ls->nkeys; k++)
		if (!strcmp(ls->pool + ls->koff[k], "dev"))
			return ls->pool + ls->koff[k] + 4;
	return "";
}

/* the next word of a dev list into w (IFNAMSIZ), or NULL at its end */
static const char *qs_dev_word(const char *p, char *w)
{
	size_t n;

	while (*p == ' ')
		p++;
	if (!*p)
		return NULL;
	n = strcspn(p, " ");
	if (n > 15)
		n = 15;
	memcpy(w, p, n);
	w[n] = '\0';
	return p + strcspn(p, " ");
}

/* does a dev = of any section name (or match) device 'name'? */
static bool qs_dev_named(const struct qs_spec *sp, const char *name)
{
	const char *p;
	char w[16];
	int i, line;

	for (i = 0; i < qs_nsections(sp); i++)
		for (p = qs_section_devs(sp, i, &line);
		     (p = qs_dev_word(p, w));)
			if (qs_glob_match(w, name))
				return true;
	return false;
}

int qs_multi_dev(const struct qs_spec *sp)
{
	if (sp->nsec)
		return sp->sec[0].line;
	if (strchr(sp->dev, ' ') || qs_is_glob(sp->dev))
		return sp->dev_line;
	return 0;
}

int qs_section(const struct qs_spec *sp, int i, struct qs_spec *out)
{
	static char val[sizeof(((struct qs_linksec *)0)->pool)];
	const struct qs_linksec *ls;
	unsigned int seen = 0;
	int k;

	qs_spec_copy(out, sp);
	out->err[0] = '\0';
	if (i <= 0)
		return 0;
	ls = &sp->sec[i - 1];
	out->nsec = 0;
	out->dev[0] = '\0';
	out->dev_line = 0;
	for (k = 0; k < ls->nkeys; k++) {
		const char *key = ls->pool + ls->koff[k];

		strcpy(val, key + strlen(key) + 1);
		if (qs_link_key(out, ls->kline[k], &seen, key, val))
			return -1;
	}
	return qs_finish(out);
}

/* add dev of section sec to out[], once; a device of two sections is an error */
static int qs_target_add(struct qs_spec *sp, struct qs_target *out, int *n,
			 int max, int sec, const char *dev, int line)
{
	char a[QS_NAME + 8], b[QS_NAME + 8];
	int k, l2;

	for (k = 0; k < *n; k++) {
		if (strcmp(out[k].dev, dev))
			continue;
		if (out[k].sec == sec)
			return 0;	/* a name and a glob of one section */
		qs_section_devs(sp, out[k].sec, &l2);
		return qs_fail(sp, line,
			       "dev: device %s is named by %s (line %d) and by %s",
			       dev, qs_section_label(sp, out[k].sec, a, sizeof(a)),
			       l2, qs_section_label(sp, sec, b, sizeof(b)));
	}
	if (*n == max)
		return qs_fail(sp, line, "dev: more than %d devices", max);
	out[*n].sec = sec;
	strcpy(out[*n].dev, dev);
	(*n)++;
	return 0;
}

int qs_targets(struct qs_spec *sp, const struct qs_link *l, int n,
	       bool must_exist, FILE *warn, struct qs_target *out, int max)
{
	const char *p;
	char w[16];
	int i, j, line, cnt = 0, hit;

	for (i = 0; i < qs_nsections(sp); i++) {
		if (!qs_section_used(sp, i))
			continue;
		for (p = qs_section_devs(sp, i, &line); (p = qs_dev_word(p, w));) {
			if (!qs_is_glob(w)) {
				for (j = 0; j < n && strcmp(l[j].name, w); j++)
					;
				if (j == n && must_exist)
					return qs_fail(sp, line, "no device %s", w);
				if (qs_target_add(sp, out, &cnt, max, i, w, line))
					return -1;
				continue;
			}
			for (j = 0, hit = 0; j < n; j++) {
				if (!qs_glob_match(w, l[j].name))
					continue;
				hit++;
				if (qs_target_add(sp, out, &cnt, max, i,
						  l[j].name, line))
					return -1;
			}
			if (!hit && warn)
				fprintf(warn, "%s:%d: warning: dev %s matches no device\n",
					sp->file ? sp->file : "spec", line, w);
		}
	}
	return cnt;
}

int qs_expand(struct qs_spec *sp, const struct qs_link *l, int n,
	      const struct qs_spec *prev)
{
	struct qs_template *tp = &sp->tmpl;
	static char add[QVISOR_MAX_POLICY];
	size_t alen = 0;
	int i, k, pass, over = 0, first = sp->ntenants;
	uint32_t minor;

	if (!tp->set || sp->ntenants != sp->ndeclared)
		return 0;
	/* pass 0: links that had a class in prev keep it; pass 1: the rest
	 * take the lowest free class
	 */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < n; i++) {
			struct qs_tenant *t;

			if (qs_dev_named(sp, l[i].name) ||
			    !qs_glob_match(tp->iface, l[i].name) ||
			    qs_claimed(sp, &l[i]))
				continue;
			for (k = first; k < sp->ntenants; k++)
				if (!strcmp(sp->t[k].match[0].indev, l[i].name))
					break;
			if (k < sp->ntenants)
				continue;
			minor = 0;
			for (k = prev ? prev->ndeclared : 0;
			     prev && k < prev->ntenants; k++)
				if (!strcmp(prev->t[k].match[0].indev, l[i].name) &&
				    prev->t[k].minor >= tp->lo &&
				    prev->t[k].minor <= tp->hi &&
				    !qs_minor_used(sp, prev->t[k].minor))
					minor = prev->t[k].minor;
			if (!pass && !minor)
				continue;
			for (k = (int)tp->lo; !minor && k <= (int)tp->hi; k++)
				if (!qs_minor_used(sp, (uint32_t)k))
					minor = (uint32_t)k;
			if (!minor || sp->ntenants == QS_MAX_TENANTS) {
				over++;
				continue;
			}
			t = &sp->t[sp->ntenants++];
			*t = tp->t;
			snprintf(t->name, sizeof(t->name), "%.15s-%.15s",
				 tp->t.name, l[i].name);
			t->minor = minor;
			t->nmatch = 1;
			memset(&t->match[0], 0, sizeof(t->match[0]));
			t->match[0].line = tp->line;
			t->match[0].dscp = -1;
			strcpy(t->match[0].indev, l[i].name);
			if (alen + 8 < sizeof(add))
				alen += (size_t)snprintf(add + alen,
							 sizeof(add) - alen,
							 "%s%x", alen ? " + " : "",
							 minor);
		}
	}
	if (alen && tp->share[0] && sp->policy_line) {
		for (k = 0; k < sp->ndeclared; k++)
			if (!strcmp(sp->t[k].name, tp->share))
				break;
		if (qs_policy_join(sp, sp->t[k].minor, add))
			return qs_fail(sp, tp->line,
				       "[template %s]: the policy with %d template tenants is longer than %d bytes",
				       tp->t.name, sp->ntenants - first,
				       QVISOR_MAX_POLICY - 1);
	}
	if (sp->ntenants != first && qs_finish(sp))
		return -1;
	return over;
}

void qs_spec_copy(struct qs_spec *dst, const struct qs_spec *src)
{
	memcpy(dst, src, sizeof(*dst));
	dst->pol.ent = dst->ent;
	dst->pol.grp = dst->grp;
}

/* a key of a [link NAME] section: checked as [link] would take it (on
 * scratch, a spec of its own), then kept as written for qs_section()
 */
static int qs_linksec_key(struct qs_spec *sp, struct qs_spec **scratch,
			  struct qs_linksec *ls, int line, unsigned int *seen,
			  const char *key, const char *val)
{
	static char v[QVISOR_MAX_POLICY + 256];
	size_t kl = strlen(key) + 1, vl = strlen(val) + 1;

	if (!*scratch) {
		*scratch = calloc(1, sizeof(**scratch));
		if (!*scratch)
			return qs_fail(sp, line, "out of memory");
	}
	(*scratch)->file = sp->file;
	(*scratch)->err[0] = '\0';
	strcpy(v, val);
	if (qs_link_key(*scratch, line, seen, key, v)) {
		strcpy(sp->err, (*scratch)->err);
		sp->err_line = line;
		return -1;
	}
	if (ls->nkeys == (int)(sizeof(ls->kline) / sizeof(ls->kline[0])) ||
	    ls->used + kl + vl > sizeof(ls->pool))
		return qs_fail(sp, line, "[link %s]: too long", ls->name);
	ls->kline[ls->nkeys] = line;
	ls->koff[ls->nkeys++] = ls->used;
	memcpy(ls->pool + ls->used, key, kl);
	memcpy(ls->pool + ls->used + kl, val, vl);
	ls->used += (uint32_t)(kl + vl);
	if (!strcmp(key, "dev"))
		ls->dev_line = line;
	return 0;
}

/* after the parse: every named section has a dev, no literal device is
 * named by two sections, and each section's spec (with what it inherits)
 * is valid
 */
static int qs_finish_links(struct qs_spec *sp, struct qs_spec **scratch)
{
	char a[QS_NAME + 8], w[16], w2[16];
	const char *p, *p2;
	int i, j, l1, l2;

	for (i = 1; i < qs_nsections(sp); i++) {
		if (!sp->sec[i - 1].dev_line)
			return qs_fail(sp, sp->sec[i - 1].line,
				       "[link %s]: no 'dev' (a named link section names its own devices)",
				       sp->sec[i - 1].name);
		for (j = 0; j < i; j++)
			for (p = qs_section_devs(sp, i, &l1);
			     (p = qs_dev_word(p, w));)
				for (p2 = qs_section_devs(sp, j, &l2);
				     (p2 = qs_dev_word(p2, w2));)
					if (!qs_is_glob(w) && !strcmp(w, w2))
						return qs_fail(sp, l1,
							       "dev: device %s is already named by %s (line %d)",
							       w, qs_section_label(sp, j, a, sizeof(a)),
							       l2);
		if (qs_section(sp, i, *scratch)) {
			strcpy(sp->err, (*scratch)->err);
			sp->err_line = (*scratch)->err_line;
			return -1;
		}
	}
	return 0;
}

static int qs_parse_text(struct qs_spec *sp, const char *name,
			 const char *text, struct qs_spec **scratch)
{
	enum { NONE, LINK, LINKSEC, TENANT, TEMPLATE, GUARD } sect = NONE;
	struct qs_linksec *ls = NULL;
	struct qs_tenant *t = NULL;
	unsigned int seen = 0;
	bool had_link = false;
	const char *p = text;
	char buf[QVISOR_MAX_POLICY + 256], *s, *eq, *hash;
	int line = 0;

	memset(sp, 0, sizeof(*sp));
	sp->file = name;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		line++;
		if (len >= sizeof(buf))
			return qs_fail(sp, line, "line too long");
		memcpy(buf, p, len);
		buf[len] = '\0';
		p += len + (nl ? 1 : 0);
		hash = strchr(buf, '#');
		if (hash)
			*hash = '\0';
		s = qs_trim(buf);
		if (!*s)
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']'), *w[3];
			int n;

			if (!end || *qs_trim(end + 1))
				return qs_fail(sp, line,
					       "section header must be [link], [link NAME], [tenant NAME], [template NAME] or [guard]");
			*end = '\0';
			n = qs_words(s + 1, w, 2);
			seen = 0;
			if (n == 1 && !strcmp(w[0], "link")) {
				if (had_link)
					return qs_fail(sp, line, "second [link] section");
				had_link = true;
				sect = LINK;
			} else if (n == 2 && !strcmp(w[0], "link")) {
				int k;

				if (!qs_name_ok(w[1]))
					return qs_fail(sp, line,
						       "link name '%s': use up to %d letters, digits, '_', '.', '-'",
						       w[1], QS_NAME - 1);
				for (k = 0; k < sp->nsec; k++)
					if (!strcmp(sp->sec[k].name, w[1]))
						return qs_fail(sp, line,
							       "second [link %s] section (line %d)",
							       w[1], sp->sec[k].line);
				if (sp->nsec == QS_MAX_LINKS)
					return qs_fail(sp, line,
						       "too many [link NAME] sections (at most %d)",
						       QS_MAX_LINKS);
				ls = &sp->sec[sp->nsec++];
				strcpy(ls->name, w[1]);
				ls->line = line;
				sect = LINKSEC;
			} else if (n == 2 && !strcmp(w[0], "tenant")) {
				if (!qs_name_ok(w[1]))
					return qs_fail(sp, line,
						       "tenant name '%s': use up to %d letters, digits, '_', '.', '-'",
						       w[1], QS_NAME - 1);
				if (sp->ntenants == QS_MAX_TENANTS)
					return qs_fail(sp, line,
						       "Too many tenants (at most %d classes)",
						       QS_MAX_TENANTS);
				t = &sp->t[sp->ntenants++];
				strcpy(t->name, w[1]);
				t->line = line;
				sect = TENANT;
			} else if (n == 2 && !strcmp(w[0], "template")) {
				if (sp->tmpl.set)
					return qs_fail(sp, line,
						       "second [template] section (at most one, line %d)",
						       sp->tmpl.line);
				if (!qs_name_ok(w[1]) || strlen(w[1]) > 15)
					return qs_fail(sp, line,
						       "template name '%s': use up to 15 letters, digits, '_', '.', '-'",
						       w[1]);
				sp->tmpl.set = true;
				sp->tmpl.line = line;
				sp->tmpl.t.line = line;
				strcpy(sp->tmpl.t.name, w[1]);
				sect = TEMPLATE;
			} else if (n == 1 && !strcmp(w[0], "guard")) {
				if (sp->guard.line)
					return qs_fail(sp, line,
						       "second [guard] section (line %d)",
						       sp->guard.line);
				sp->guard.line = line;
				sp->guard.restore_s = 10;
				sp->guard.min_pkts = 20;
				sect = GUARD;
			} else {
				return qs_fail(sp, line,
					       "section header must be [link], [link NAME], [tenant NAME], [template NAME] or [guard]");
			}
			continue;
		}
		eq = strchr(s, '=');
		if (!eq)
			return qs_fail(sp, line, "expected KEY = VALUE");
		*eq = '\0';
		s = qs_trim(s);
		eq = qs_trim(eq + 1);
		if (!*s)
			return qs_fail(sp, line, "expected KEY = VALUE");
		if (!*eq)
			return qs_fail(sp, line, "'%s' has no value", s);
		if (sect == NONE)
			return qs_fail(sp, line,
				       "'%s' outside a section ([link] or [tenant NAME] first)",
				       s);
		if (sect == LINK ? qs_link_key(sp, line, &seen, s, eq) :
		    sect == LINKSEC ? qs_linksec_key(sp, scratch, ls, line,
						     &seen, s, eq) :
		    sect == TEMPLATE ? qs_template_key(sp, line, &seen, s, eq) :
		    sect == GUARD ? qs_guard_key(sp, line, &seen, s, eq) :
		    qs_tenant_key(sp, t, line, &seen, s, eq))
			return -1;
	}
	if (!had_link)
		return qs_fail(sp, line ? line : 1, "no [link] section");
	if (sp->guard.line && !sp->guard.nrules)
		return qs_fail(sp, sp->guard.line, "[guard] has no rule");
	sp->ndeclared = sp->ntenants;
	if (qs_finish_template(sp) || qs_finish(sp))
		return -1;
	if (sp->nsec && !*scratch) {
		*scratch = calloc(1, sizeof(**scratch));
		if (!*scratch)
			return qs_fail(sp, 1, "out of memory");
	}
	return qs_finish_links(sp, scratch);
}

int qs_parse_string(struct qs_spec *sp, const char *name, const char *text)
{
	struct qs_spec *scratch = NULL;
	int r = qs_parse_text(sp, name, text, &scratch);

	free(scratch);
	return r;
}

int qs_parse_file(struct qs_spec *sp, const char *path)
{
	char *text = NULL;
	size_t cap = 0, len = 0, n;
	FILE *f = fopen(path, "r");
	int err;

	if (!f) {
		memset(sp, 0, sizeof(*sp));
		snprintf(sp->err, sizeof(sp->err), "%s: %s", path,
			 strerror(errno));
		return -1;
	}
	for (;;) {
		if (len + 4096 + 1 > cap) {
			char *nt;

			cap = cap ? cap * 2 : 8192;
			nt = realloc(text, cap);
			if (!nt) {
				free(text);
				fclose(f);
				snprintf(sp->err, sizeof(sp->err),
					 "%s: out of memory", path);
				return -1;
			}
			text = nt;
		}
		n = fread(text + len, 1, 4096, f);
		len += n;
		if (n < 4096)
			break;
	}
	fclose(f);
	text[len] = '\0';
	if (strlen(text) != len) {
		free(text);
		memset(sp, 0, sizeof(*sp));
		snprintf(sp->err, sizeof(sp->err), "%s: contains a NUL byte",
			 path);
		return -1;
	}
	err = qs_parse_string(sp, path, text);
	free(text);
	return err;
}

/* --- plan ------------------------------------------------------------- */

static int32_t qs_pol_idx(const struct qs_spec *sp, uint32_t minor)
{
	uint32_t k;

	for (k = 0; k < sp->pol.n; k++)
		if (sp->ent[k].minor == minor)
			return (int32_t)k;
	return -1;
}

int qs_match_filters(const struct qs_match *m)
{
	return !m->has_mark && !m->has_src && m->dscp >= 0 ? 2 : 1;
}

int qs_nfilters(const struct qs_spec *sp)
{
	int k, m, n = 0;

	for (k = 0; k < sp->ntenants; k++)
		for (m = 0; m < sp->t[k].nmatch; m++)
			n += qs_match_filters(&sp->t[k].match[m]);
	return n;
}

int qs_plan(const struct qs_spec *sp, struct qs_plan *p, char *err, size_t n)
{
	uint32_t nq;
	int k;

	memset(p, 0, sizeof(*p));
	for (k = 0; k < sp->ntenants; k++) {
		p->spec[k].minor = sp->t[k].minor;
		p->spec[k].lo = sp->t[k].lo;
		p->spec[k].hi = sp->t[k].hi;
		p->spec[k].levels = sp->t[k].levels;
		p->spec[k].pol_idx = qs_pol_idx(sp, sp->t[k].minor);
		p->spec[k].autorange = sp->t[k].rauto != 0;
		p->spec[k].chosen = qv_rank_chosen((u8)sp->t[k].rank,
						   sp->t[k].edf_mark);
	}
	p->buckets = sp->buckets;
	p->overlap = sp->overlap;
	p->s.pol = sp->policy_line ? &sp->pol : NULL;
	p->s.spec = p->spec;
	p->s.nspec = (u32)sp->ntenants;
	p->s.buckets = sp->buckets;
	p->s.overlap = sp->overlap;
	p->s.grp = p->grp;
	p->s.place = p->place;
	p->s.xf = p->xf;
	if (qs_nfilters(sp) > QS_MAX_FILTERS) {
		snprintf(err, n,
			 "the matches need %d filters, qvisorctl applies at most %d",
			 qs_nfilters(sp), QS_MAX_FILTERS);
		return -1;
	}
	/* the kernel's own steps and texts: qvisor_synth() then
	 * qvisor_plan_queues() of sch_qvisor_main.c
	 */
	if (qv_synthesize(&p->s, p->pol_grp, &p->e)) {
		snprintf(err, n, "%s", p->e.msg);
		return -1;
	}
	nq = sp->backend == QVISOR_BACKEND_SPPIFO ? sp->queues : 1;
	if (qv_qmap_build(&p->qmap, p->s.grp, p->s.ngrp, p->s.tiers, nq,
			  sp->partial || nq == 1, &p->e)) {
		snprintf(err, n, "%s", p->e.msg);
		return -1;
	}
	p->props = qv_props((u32)sp->backend, &p->qmap, p->s.tiers);
	for (k = 0; p->s.pol && k < (int)sp->pol.ngrp; k++)
		p->gprops[k] = qv_group_props((u32)sp->backend, &p->qmap,
					      &p->s, p->pol_grp, p->props,
					      (u32)k + 1);
	qv_props_gaming(&p->s, (u32)sp->backend, p->scratch, &p->props,
			p->gprops);
	p->gamer = qv_gamer(&p->s, p->scratch);
	return 0;
}

const char *qs_prop_state(uint32_t props, int n)
{
	return props & QV_PROP_HOLDS(n) ? "yes" :
	       props & QV_PROP_APPROX(n) ? "approx" : "no";
}

void qs_fmt_props(char *buf, size_t n, uint32_t props)
{
	size_t used = 0;
	int k;

	buf[0] = '\0';
	for (k = 1; k <= QV_PROP_LAST && used < n; k++)
		if (qv_prop_known(props, (u32)k))
			used += (size_t)snprintf(buf + used, n - used,
						 "%sP%d=%s", k > 1 ? " " : "",
						 k, qs_prop_state(props, k));
}

/* Tenant k is the first tenant of its member of its sharing group (itself,
 * or its top-level nested group)
 */
static bool qs_member_first(const struct qs_plan *p, int k)
{
	int m;

	for (m = 0; p->xf[k].nest && m < k; m++)
		if (p->xf[m].nest == p->xf[k].nest)
			return false;
	return true;
}

/* the weight of tenant k's member: its own, or its nested group's sum */
static uint32_t qs_member_weight(const struct qs_spec *sp,
				 const struct qs_plan *p, int k)
{
	uint32_t sum = 0;
	int m;

	if (!p->xf[k].nest)
		return sp->t[k].weight;
	for (m = 0; m < sp->ntenants; m++)
		if (p->xf[m].nest == p->xf[k].nest)
			sum += sp->t[m].weight;
	return sum;
}

/* tenant k's name, or its nested group as the policy prints it */
static void qs_member_name(char *buf, size_t n, const struct qs_spec *sp,
			   const struct qs_plan *p, int k)
{
	if (!p->xf[k].nest ||
	    qv_policy_format_group(&sp->pol, p->xf[k].nest, buf, (u32)n) < 0)
		snprintf(buf, n, "%s", sp->t[k].name);
}

uint32_t qs_group_weight(const struct qs_spec *sp, const struct qs_plan *p,
			 int k)
{
	uint32_t sum = 0;
	int m;

	for (m = 0; m < sp->ntenants; m++)
		if (p->xf[m].group == p->xf[k].group)
			sum += sp->t[m].weight;
	return sum;
}

/* first raw rank in [lo, hi] that maps to joint >= j (apply is monotone) */
static uint32_t qs_first_raw(const struct qv_xform *x, uint32_t j)
{
	uint64_t lo = x->lo, hi = (uint64_t)x->hi + 1, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (qv_xform_apply(x, (uint32_t)mid) >= j)
			hi = mid;
		else
			lo = mid + 1;
	}
	return (uint32_t)lo;	/* hi + 1 when none */
}

static void qs_print_map(FILE *f, const struct qs_spec *sp,
			 const struct qs_plan *p)
{
	uint32_t j;
	int k;

	fprintf(f, "\nrank map (joint rank: tenant:raw ranks that land on it)\n");
	for (j = 0; j < p->s.width; j++) {
		bool any = false;

		fprintf(f, "  %5u:", j);
		for (k = 0; k <= sp->ntenants; k++) {
			const struct qv_xform *x = &p->xf[k];
			uint64_t a, b;

			if (j < x->offset || j >= x->offset + x->width)
				continue;
			a = qs_first_raw(x, j);
			b = qs_first_raw(x, j + 1);
			if (a > x->hi || a >= b || qv_xform_apply(x, (uint32_t)a) != j)
				continue;
			any = true;
			if (k == sp->ntenants)
				fprintf(f, " (no class)");
			else if (a == b - 1)
				fprintf(f, " %s:%llu", sp->t[k].name,
					(unsigned long long)a);
			else
				fprintf(f, " %s:%llu..%llu", sp->t[k].name,
					(unsigned long long)a,
					(unsigned long long)b - 1);
		}
		fprintf(f, "%s\n", any ? "" : " -");
	}
}

/* names of the tenants of group g, comma separated */
static void qs_group_names(char *buf, size_t n, const struct qs_spec *sp,
			   const struct qs_plan *p, uint32_t g)
{
	size_t used = 0;
	int k;

	buf[0] = '\0';
	for (k = 0; k < sp->ntenants && used < n; k++) {
		if (p->xf[k].group != g)
			continue;
		used += (size_t)snprintf(buf + used, n - used, "%s%s",
					 used ? "," : "", sp->t[k].name);
	}
}

static void qs_print_guarantees(FILE *f, const struct qs_spec *sp,
				const struct qs_plan *p)
{
	static const char *const be[] = { "pifo", "sppifo", "aifo", "fifo" };
	uint32_t g, tiers = 0;
	char a[512], b[512], r[32], props[QS_PROPS_LEN];
	bool any, quant = false, weighted = false;
	int k, m, gamer;

	/* what tc qdisc show prints after the kernel deployed this plan */
	qs_fmt_props(props, sizeof(props), p->props);
	fprintf(f, "\nguarantees %s (backend %s", props,
		(unsigned int)sp->backend < 4 ? be[sp->backend] : "?");
	if (sp->backend == QVISOR_BACKEND_SPPIFO)
		fprintf(f, " %u, %u queue ranges for %u tiers%s", sp->queues,
			p->qmap.mapped, p->s.tiers,
			sp->partial ? ", partial" : "");
	fprintf(f, "; yes = guaranteed, approx = measured as inversions)\n");
	/* P1: the joint ranks of each strict tier lie below the next's */
	for (k = 0; k < sp->ntenants; k++)
		if (p->xf[k].tier + 1u > tiers)
			tiers = p->xf[k].tier + 1u;
	if (tiers < 2) {
		fprintf(f, "  P1 strict      n/a (one tier)\n");
	} else {
		uint32_t lo[QS_MAX_TENANTS + 1], hi[QS_MAX_TENANTS + 1];
		bool ok = true;

		for (g = 0; g < tiers; g++) {
			lo[g] = UINT32_MAX;
			hi[g] = 0;
		}
		for (k = 0; k < sp->ntenants; k++) {
			const struct qv_xform *x = &p->xf[k];

			if (x->offset < lo[x->tier])
				lo[x->tier] = x->offset;
			if (x->offset + x->width - 1 > hi[x->tier])
				hi[x->tier] = x->offset + x->width - 1;
		}
		for (g = 0; g + 1 < tiers; g++)
			if (hi[g] >= lo[g + 1])
				ok = false;
		fprintf(f, "  P1 strict      %s:", !ok ? "BROKEN" :
			p->props & QV_PROP_HOLDS(1) ? "holds" :
			p->props & QV_PROP_APPROX(1) ?
			"approx (tiers share sppifo queues)" :
			"no (one FIFO: the tiers share it)");
		for (g = 0; g < tiers; g++) {
			size_t used = 0;

			a[0] = '\0';
			for (k = 0; k < sp->ntenants; k++)
				if (p->xf[k].tier == g && used < sizeof(a))
					used += (size_t)snprintf(a + used,
						sizeof(a) - used, "%s%s",
						used ? "," : "", sp->t[k].name);
			fprintf(f, "%s tier %u {%s} %u..%u", g ? " <" : "", g,
				a, lo[g], hi[g]);
		}
		fprintf(f, "\n");
	}
	/* P2: levels of one tier */
	any = false;
	for (g = 1; g < p->s.ngrp; g++) {
		if (!p->grp[g].want || !p->grp[g - 1].want ||
		    p->grp[g].tier != p->grp[g - 1].tier ||
		    p->grp[g].level == p->grp[g - 1].level)
			continue;
		qs_group_names(a, sizeof(a), sp, p, g - 1);
		qs_group_names(b, sizeof(b), sp, p, g);
		any = true;
		if (sp->overlap == 0)
			fprintf(f, "  P2 preference  strict: overlap 0, {%s} joint %u..%u and {%s} %u..%u are disjoint, {%s} can starve\n",
				a, p->grp[g - 1].offset,
				p->grp[g - 1].offset + p->grp[g - 1].width - 1,
				b, p->grp[g].offset,
				p->grp[g].offset + p->grp[g].width - 1, b);
		else if (sp->overlap == 100)
			fprintf(f, "  P2 preference  none: overlap 100, {%s} and {%s} on the same joint ranks\n",
				a, b);
		else
			fprintf(f, "  P2 preference  %s: {%s} joint %u..%u before {%s} %u..%u, overlap %u%%\n",
				p->props & QV_PROP_HOLDS(2) ? "holds" :
				p->props & QV_PROP_APPROX(2) ? "approx" : "no",
				a, p->grp[g - 1].offset,
				p->grp[g - 1].offset + p->grp[g - 1].width - 1,
				b, p->grp[g].offset,
				p->grp[g].offset + p->grp[g].width - 1,
				sp->overlap);
	}
	if (!any)
		fprintf(f, "  P2 preference  n/a (no '>' in the policy)\n");
	/* P3: sharing groups with more than one member; a nested group is
	 * one member with the sum of its tenants' weights
	 */
	any = false;
	for (g = 0; g < p->s.ngrp; g++) {
		uint32_t sum = 0, n = 0;
		size_t used = 0;

		for (k = 0; k < sp->ntenants; k++)
			if (p->xf[k].group == g) {
				sum += sp->t[k].weight;
				n += qs_member_first(p, k);
			}
		if (n < 2)
			continue;
		weighted = true;
		a[0] = '\0';
		for (k = 0; k < sp->ntenants; k++) {
			if (p->xf[k].group != g || used >= sizeof(a) ||
			    !qs_member_first(p, k))
				continue;
			qs_member_name(b, sizeof(b), sp, p, k);
			used += (size_t)snprintf(a + used,
				sizeof(a) - used, "%s%s %.1f%%",
				used ? ", " : "", b,
				100.0 * qs_member_weight(sp, p, k) / sum);
		}
		fprintf(f, "  P3 share       %s: joint %u..%u shared by weight: %s\n",
			p->props & QV_PROP_HOLDS(3) ? "holds" : "measured",
			p->grp[g].offset,
			p->grp[g].offset + p->grp[g].width - 1, a);
		any = true;
	}
	if (!any)
		fprintf(f, "  P3 share       n/a (no '+' group with two tenants)\n");
	/* P4: monotone transforms; exact when no ranks merge, and on pifo
	 * only within a credit round for tenants that share a '+' group
	 */
	if (!(p->props & (QV_PROP_HOLDS(4) | QV_PROP_APPROX(4)))) {
		fprintf(f, "  P4 order       no: one FIFO, packets leave in arrival order\n");
	} else {
		const char *how = p->props & QV_PROP_HOLDS(4) ? "holds" :
				  "approx (sppifo queues)";

		for (k = 0; k < sp->ntenants; k++) {
			uint64_t span = (uint64_t)p->xf[k].hi - p->xf[k].lo + 1;

			if (span > p->xf[k].width) {
				if (!quant)
					fprintf(f, "  P4 order       %s up to quantization (FIFO among ranks that merge):",
						how);
				fprintf(f, " %s %llu ranks -> %u", sp->t[k].name,
					(unsigned long long)span,
					p->xf[k].width);
				quant = true;
			}
		}
		if (quant)
			fprintf(f, "\n");
		else if (weighted)
			fprintf(f, "  P4 order       %s within a credit round (no two ranks of a tenant merge)\n",
				how);
		else
			fprintf(f, "  P4 order       %s%s (no two ranks of a tenant merge)\n",
				how, p->props & QV_PROP_HOLDS(4) ?
				" exactly" : "");
		if (weighted)
			fprintf(f, "                 weighted groups: a tenant's packets may leave out of rank order across credit rounds (counted as inversions)\n");
	}
	/* P5: caps */
	any = false;
	if (sp->rate) {
		qs_fmt_rate(r, sizeof(r), sp->rate);
		fprintf(f, "  P5 caps        link rate %s", r);
		any = true;
	}
	for (k = 0; k < sp->ntenants; k++) {
		if (!sp->t[k].ceil)
			continue;
		qs_fmt_rate(r, sizeof(r), sp->t[k].ceil);
		fprintf(f, "%s %s ceil %s", any ? "," : "  P5 caps       ",
			sp->t[k].name, r);
		any = true;
	}
	fprintf(f, "%s\n", any ? "" : "  P5 caps        none (no link rate, no ceil)");
	/* P6: group mates with different ranges land on the same ranks */
	any = false;
	for (k = 0; k < sp->ntenants; k++) {
		for (m = k + 1; m < sp->ntenants; m++) {
			if (p->xf[k].group != p->xf[m].group ||
			    p->xf[k].nest || p->xf[m].nest ||
			    (p->xf[k].lo == p->xf[m].lo &&
			     p->xf[k].hi == p->xf[m].hi))
				continue;
			fprintf(f, "  P6 normalized  holds: %s %u..%u and %s %u..%u both span joint %u..%u\n",
				sp->t[k].name, p->xf[k].lo, p->xf[k].hi,
				sp->t[m].name, p->xf[m].lo, p->xf[m].hi,
				p->xf[k].offset,
				p->xf[k].offset + p->xf[k].width - 1);
			any = true;
		}
	}
	if (!any)
		fprintf(f, "  P6 normalized  n/a (no group mates with different ranges)\n");
	/* P7: rank gaming (qv_props_gaming(), as the kernel) */
	gamer = p->gamer;
	if (sp->backend == QVISOR_BACKEND_FIFO)
		fprintf(f, "  P7 gaming      holds: one FIFO, ranks ignored\n");
	else if (gamer < 0)
		fprintf(f, "  P7 gaming      holds: every tenant sharing joint ranks with another has range auto or ranks the qdisc computes\n");
	else
		fprintf(f, "  P7 gaming      no: %s chooses its ranks (rank %s%s) on joint %u..%u shared with others; range auto would place them by its own ranks' quantiles\n",
			sp->t[gamer].name, qs_rank_name(sp->t[gamer].rank),
			sp->t[gamer].edf_mark ? " mark_budget" : "",
			p->xf[gamer].offset,
			p->xf[gamer].offset + p->xf[gamer].width - 1);
	/* inside each nested group (qv_group_props(), as the kernel) */
	for (g = 0; p->s.pol && g < sp->pol.ngrp; g++) {
		if (qv_policy_format_group(&sp->pol, g + 1, a, sizeof(a)) < 0)
			snprintf(a, sizeof(a), "%u", g + 1);
		qs_fmt_props(props, sizeof(props), p->gprops[g]);
		fprintf(f, "  group %s: %s\n", a, props);
	}
}

void qs_plan_print(FILE *f, const struct qs_spec *sp, const struct qs_plan *p,
		   bool full_map)
{
	char r[32], range[32], joint[32], cls[16];
	bool nested = false;
	int k;

	fprintf(f, "link %s handle %x: policy \"%s\" buckets %u overlap %u%%",
		sp->dev[0] ? sp->dev : "-", sp->handle,
		sp->policy_line ? sp->policy : "", sp->buckets, sp->overlap);
	if (sp->rate) {
		qs_fmt_rate(r, sizeof(r), sp->rate);
		fprintf(f, " rate %s", r);
	}
	fprintf(f, " limit %up", qs_qdisc_limit(sp));
	if (sp->memlimit)
		fprintf(f, " memlimit %ub", sp->memlimit);
	if (sp->lend_us)
		fprintf(f, " lend %uus", sp->lend_us);
	if (qs_aqm_on(sp))
		fprintf(f, " aqm target %uus interval %uus%s", qs_target_us(sp),
			qs_interval_us(sp), qs_ecn_on(sp) ? "" : " noecn");
	else
		fprintf(f, " noaqm");
	fprintf(f, "\njoint ranks used %u of %u, %u tiers, scale %.4f\n\n",
		p->s.width, p->s.buckets, p->s.tiers, p->s.scale / 65536.0);
	fprintf(f, "%-12s %-7s %-5s %-4s %-5s %-5s %-14s %-6s %-6s %-12s %-6s %s\n",
		"tenant", "class", "rank", "tier", "level", "group", "range",
		"levels", "offset", "joint", "weight", "target");
	for (k = 0; k <= sp->ntenants; k++) {
		const struct qv_xform *x = &p->xf[k];
		const struct qs_tenant *t = &sp->t[k];
		char tgt[16];

		snprintf(range, sizeof(range), "%s%u..%u",
			 k < sp->ntenants && t->rauto ? "auto " : "", x->lo,
			 x->hi);
		snprintf(joint, sizeof(joint), "%u..%u", x->offset,
			 x->offset + x->width - 1);
		if (k == sp->ntenants) {
			fprintf(f, "%-12s %-7s %-5s %-4u %-5u %-5u %-14s %-6u %-6u %-12s %-6s %s\n",
				"(no class)", "-", "-", x->tier, x->level,
				x->group, "-", x->levels, x->offset, joint,
				"-", "-");
			continue;
		}
		snprintf(cls, sizeof(cls), "%x:%x", sp->handle, t->minor);
		snprintf(tgt, sizeof(tgt), "%.1f%%%s",
			 100.0 * qs_member_weight(sp, p, k) /
			 qs_group_weight(sp, p, k), x->nest ? " *" : "");
		nested |= x->nest != 0;
		fprintf(f, "%-12s %-7s %-5s %-4u %-5u %-5u %-14s %-6u %-6u %-12s %-6u %s\n",
			t->name, cls, qs_rank_name(t->rank), x->tier, x->level,
			x->group, range, x->levels, x->offset, joint,
			t->weight, tgt);
	}
	if (nested)
		fprintf(f, "* the target of the tenant's nested group, which its tenants hold together\n");
	if (sp->tmpl.set && sp->ntenants == sp->ndeclared)
		fprintf(f, "template %s: a tenant per device %s no tenant matches, classes %x..%x (at most %u)%s%s; not in this plan (apply and watch add them)\n",
			sp->tmpl.t.name, sp->tmpl.iface, sp->tmpl.lo,
			sp->tmpl.hi, sp->tmpl.hi - sp->tmpl.lo + 1,
			sp->tmpl.share[0] ? ", sharing with " : "",
			sp->tmpl.share);
	if (full_map || p->s.width <= 64)
		qs_print_map(f, sp, p);
	else
		fprintf(f, "\nrank map: %u joint ranks, not printed (plan --map prints it)\n",
			p->s.width);
	qs_print_guarantees(f, sp, p);
}

/* --- conflict warnings -------------------------------------------------- */

static void qs_warn(FILE *f, const struct qs_spec *sp, int line, int *n,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void qs_warn(FILE *f, const struct qs_spec *sp, int line, int *n,
		    const char *fmt, ...)
{
	va_list ap;

	fprintf(f, "%s:%d: warning: ", sp->file ? sp->file : "spec", line);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	(*n)++;
}

/* the first plen bits of a and b agree */
static bool qs_prefix_eq(const uint8_t *a, const uint8_t *b, int plen)
{
	int k;

	for (k = 0; k < plen / 8; k++)
		if (a[k] != b[k])
			return false;
	if (plen % 8) {
		uint8_t m = (uint8_t)(0xff << (8 - plen % 8));

		if ((a[k] ^ b[k]) & m)
			return false;
	}
	return true;
}

/* Does every packet that matches b also match a?  fw (mark) and flower
 * filters are not compared with each other: they look at different
 * things by design.  Partial overlaps (a src and a dscp match) are not
 * reported: they are how specs carve traffic.
 */
static bool qs_match_contains(const struct qs_match *a,
			      const struct qs_match *b)
{
	if (a->has_mark != b->has_mark)
		return false;
	if (a->has_mark) {
		uint32_t ma = a->mark_mask ? a->mark_mask : ~0u;
		uint32_t mb = b->mark_mask ? b->mark_mask : ~0u;

		return !(ma & ~mb) && !((a->mark ^ b->mark) & ma);
	}
	if (a->indev[0] && strcmp(a->indev, b->indev))
		return false;
	if ((a->iface[0] && strcmp(a->iface, b->iface)) ||
	    (a->alias[0] && strcmp(a->alias, b->alias)))
		return false;
	if (a->has_mac && (!b->has_mac || memcmp(a->mac, b->mac, 6)))
		return false;
	if (a->dscp >= 0 && a->dscp != b->dscp)
		return false;
	if (a->has_src)
		return b->has_src && a->family == b->family &&
		       a->plen <= b->plen &&
		       qs_prefix_eq(a->src, b->src, a->plen);
	return true;
}

static void qs_fmt_match(char *buf, size_t n, const struct qs_match *m)
{
	char addr[INET6_ADDRSTRLEN];
	size_t used = 0;

	buf[0] = '\0';
	if (m->has_mark) {
		if (m->mark_mask)
			snprintf(buf, n, "mark 0x%x/0x%x", m->mark, m->mark_mask);
		else
			snprintf(buf, n, "mark 0x%x", m->mark);
		return;
	}
	if (m->has_src) {
		inet_ntop(m->family, m->src, addr, sizeof(addr));
		used += (size_t)snprintf(buf + used, n - used, "src %s/%d",
					 addr, m->plen);
	}
	if (m->indev[0] && used < n)
		used += (size_t)snprintf(buf + used, n - used, "%sindev %s",
					 used ? " " : "", m->indev);
	if (m->iface[0] && used < n)
		used += (size_t)snprintf(buf + used, n - used, "%siface %s",
					 used ? " " : "", m->iface);
	if (m->alias[0] && used < n)
		used += (size_t)snprintf(buf + used, n - used, "%salias %s",
					 used ? " " : "", m->alias);
	if (m->has_mac && used < n)
		used += (size_t)snprintf(buf + used, n - used,
					 "%smac %02x:%02x:%02x:%02x:%02x:%02x",
					 used ? " " : "", m->mac[0], m->mac[1],
					 m->mac[2], m->mac[3], m->mac[4],
					 m->mac[5]);
	if (m->dscp >= 0 && used < n)
		used += (size_t)snprintf(buf + used, n - used, "%sdscp %d",
					 used ? " " : "", m->dscp);
	if (!used)
		snprintf(buf, n, "every packet");
}

int qs_warnings(FILE *f, const struct qs_spec *sp, const struct qs_plan *p)
{
	uint32_t qlimit = qs_qdisc_limit(sp);
	char ra[32], rb[32], ma[96], mb[96];
	int k, m, i, j, n = 0;

	for (k = 0; k < sp->ntenants; k++) {
		const struct qs_tenant *t = &sp->t[k];

		if (!t->nmatch && !(sp->has_default && sp->defcls == t->minor))
			qs_warn(f, sp, t->line, &n,
				"tenant %s has no match and is not the default class: only filters qvisorctl does not own can send packets to it",
				t->name);
		if (sp->policy_line && qs_pol_idx(sp, t->minor) < 0)
			qs_warn(f, sp, t->line, &n,
				"tenant %s (class %x:%x) is missing from the policy \"%s\": it gets a strict tier of its own below the policy's tenants",
				t->name, sp->handle, t->minor, sp->policy);
		if (t->weight_line) {
			for (m = 0; m < sp->ntenants; m++)
				if (m != k && p->xf[m].group == p->xf[k].group)
					break;
			if (m == sp->ntenants)
				qs_warn(f, sp, t->weight_line, &n,
					"weight %u of tenant %s has no effect: it is alone in its sharing group (share with '+' in the policy)",
					t->weight, t->name);
		}
		if (t->ceil && sp->rate && t->ceil > sp->rate) {
			qs_fmt_rate(ra, sizeof(ra), t->ceil);
			qs_fmt_rate(rb, sizeof(rb), sp->rate);
			qs_warn(f, sp, t->ceil_line, &n,
				"ceil %s of tenant %s is above the link rate %s: it never limits",
				ra, t->name, rb);
		}
		if (t->limit > qlimit)
			qs_warn(f, sp, t->limit_line, &n,
				"limit %u of tenant %s is above the qdisc limit %u: the qdisc limit is reached first",
				t->limit, t->name, qlimit);
	}
	/* matches that contain one another: apply installs them in spec
	 * order, and the first that matches classifies the packet
	 */
	for (k = 0; k < sp->ntenants; k++) {
		for (i = 0; i < sp->t[k].nmatch; i++) {
			const struct qs_match *a = &sp->t[k].match[i];

			for (m = k; m < sp->ntenants; m++) {
				for (j = m == k ? i + 1 : 0; j < sp->t[m].nmatch; j++) {
					const struct qs_match *b = &sp->t[m].match[j];
					bool fwd = qs_match_contains(a, b);
					bool rev = qs_match_contains(b, a);

					if (!fwd && !rev)
						continue;
					qs_fmt_match(ma, sizeof(ma), a);
					qs_fmt_match(mb, sizeof(mb), b);
					if (fwd && rev)
						qs_warn(f, sp, b->line, &n,
							"duplicate match (%s) of tenant %s: line %d (tenant %s) has it already%s",
							mb, sp->t[m].name, a->line,
							sp->t[k].name,
							m == k ? "" : ", this one never matches");
					else if (m == k)
						continue;
					else if (fwd)
						qs_warn(f, sp, b->line, &n,
							"match (%s) of tenant %s never matches: match (%s) of tenant %s at line %d contains it and is applied first",
							mb, sp->t[m].name, ma,
							sp->t[k].name, a->line);
					else
						qs_warn(f, sp, b->line, &n,
							"match (%s) of tenant %s contains match (%s) of tenant %s at line %d: those packets go to %s (applied first)",
							mb, sp->t[m].name, ma,
							sp->t[k].name, a->line,
							sp->t[k].name);
				}
			}
		}
	}
	return n;
}

/* --- plan --tc ---------------------------------------------------------- */

/* the protocol of filter i (0 or 1, see qs_match_filters) of a match: a
 * dscp match without src is one filter for IPv4 and one for IPv6 (flower's
 * ip_tos is the IPv6 traffic class there)
 */
uint16_t qs_match_proto(const struct qs_match *m, int i)
{
	if (m->has_src)
		return m->family == AF_INET ? ETH_P_IP : ETH_P_IPV6;
	if (m->dscp >= 0 && !m->has_mark)
		return i ? ETH_P_IPV6 : ETH_P_IP;
	return ETH_P_ALL;
}

void qs_plan_tc(FILE *f, const struct qs_spec *sp)
{
	static const char *const rank[] = { "prio", "mark", "dscp", "fifo",
					    "las", "stfq", "edf" };
	static const char *const be[] = { "pifo", "sppifo", "aifo", "fifo" };
	const char *dev = sp->dev[0] ? sp->dev : "DEV";
	char addr[INET6_ADDRSTRLEN];
	uint32_t prio = QS_BAND_A;
	int k, m, i;

	fprintf(f, "# %s as a tc -batch file (tc -batch FILE): what qvisorctl apply\n"
		"# creates on a device without qvisorctl's filters (apply itself\n"
		"# alternates filter bands %u.. and %u.. and deletes the old one)\n",
		sp->file ? sp->file : "spec", QS_BAND_A, QS_BAND_B);
	fprintf(f, "qdisc replace dev %s root handle %x: qvisor", dev, sp->handle);
	if (sp->rate)
		fprintf(f, " rate %llubit", (unsigned long long)sp->rate * 8);
	fprintf(f, " limit %u buckets %u slot %uus",
		qs_qdisc_limit(sp), sp->buckets,
		sp->has_slot ? sp->slot_us : QVISOR_DEF_SLOT_US);
	if (sp->has_default)
		fprintf(f, " default %x", sp->defcls);
	fprintf(f, " backend %s", be[sp->backend & 3]);
	if (sp->backend == QVISOR_BACKEND_SPPIFO)
		fprintf(f, " %u", sp->queues);
	fprintf(f, " %s overlap %u flows %u flow_idle %uus",
		sp->partial ? "partial" : "nopartial", sp->overlap,
		sp->has_flows ? sp->flows : QVISOR_DEF_FLOWS,
		sp->has_flow_idle ? sp->flow_idle_us : QVISOR_DEF_FLOW_IDLE_US);
	if (sp->has_split_gso)
		fprintf(f, " %s", sp->split_gso == QVISOR_SPLIT_GSO_OFF ?
			"no_split_gso" : sp->split_gso == QVISOR_SPLIT_GSO_ON ?
			"split_gso" : "split_gso auto");
	if (sp->memlimit)
		fprintf(f, " memlimit %ub", sp->memlimit);
	if (sp->lend_us)
		fprintf(f, " lend %uus", sp->lend_us);
	if (qs_aqm_on(sp))
		fprintf(f, " aqm target %uus interval %uus", qs_target_us(sp),
			qs_interval_us(sp));
	else
		fprintf(f, " noaqm");
	fprintf(f, " %s", qs_ecn_on(sp) ? "ecn" : "noecn");
	if (sp->policy_line)
		fprintf(f, " policy \"%s\"", sp->policy);
	fprintf(f, "\n");
	for (k = 0; k < sp->ntenants; k++) {
		const struct qs_tenant *t = &sp->t[k];

		fprintf(f, "class replace dev %s parent %x: classid %x:%x qvisor rank %s",
			dev, sp->handle, sp->handle, t->minor, rank[t->rank]);
		if (t->rank == QVISOR_RANK_MARK)
			fprintf(f, " 0x%x", t->mark_mask);
		if (t->rank == QVISOR_RANK_EDF)
			fprintf(f, " %lluns%s", (unsigned long long)t->edf_budget,
				t->edf_mark ? " mark_budget" : "");
		fprintf(f, " range%s %u %u", t->rauto ? " auto" : "", t->lo,
			t->hi);
		if (t->rauto)
			fprintf(f, " window %u", t->rauto);
		fprintf(f, " levels %u weight %u", t->levels, t->weight);
		if (t->ceil)
			fprintf(f, " ceil %llubit", (unsigned long long)t->ceil * 8);
		if (t->ceil && t->burst)
			fprintf(f, " burst %ub", t->burst);
		if (t->limit)
			fprintf(f, " limit %u", t->limit);
		if (t->aqm)
			fprintf(f, " %s", t->aqm == QVISOR_AQM_ON ? "aqm" : "noaqm");
		if (t->ecn)
			fprintf(f, " %s", t->ecn == QVISOR_AQM_ON ? "ecn" : "noecn");
		if (t->target_us)
			fprintf(f, " target %uus", t->target_us);
		if (t->interval_us)
			fprintf(f, " interval %uus", t->interval_us);
		fprintf(f, "\n");
	}
	for (k = 0; k < sp->ntenants; k++) {
		for (m = 0; m < sp->t[k].nmatch; m++) {
			const struct qs_match *mt = &sp->t[k].match[m];

			if (qs_match_dynamic(mt)) {
				fprintf(f, "# line %d: tenant %s: iface/alias match: apply adds one indev filter per matching device\n",
					mt->line, sp->t[k].name);
				continue;
			}
			for (i = 0; i < qs_match_filters(mt); i++) {
				uint16_t proto = qs_match_proto(mt, i);

				fprintf(f, "filter add dev %s parent %x: prio %u protocol %s",
					dev, sp->handle, prio++,
					proto == ETH_P_IP ? "ip" :
					proto == ETH_P_IPV6 ? "ipv6" : "all");
				if (mt->has_mark) {
					fprintf(f, " handle 0x%x", mt->mark);
					if (mt->mark_mask)
						fprintf(f, "/0x%x", mt->mark_mask);
					fprintf(f, " fw classid %x:%x\n",
						sp->handle, sp->t[k].minor);
					continue;
				}
				fprintf(f, " flower");
				if (mt->indev[0])
					fprintf(f, " indev %s", mt->indev);
				if (mt->has_mac)
					fprintf(f, " src_mac %02x:%02x:%02x:%02x:%02x:%02x",
						mt->mac[0], mt->mac[1], mt->mac[2],
						mt->mac[3], mt->mac[4], mt->mac[5]);
				if (mt->has_src) {
					inet_ntop(mt->family, mt->src, addr,
						  sizeof(addr));
					fprintf(f, " src_ip %s/%d", addr, mt->plen);
				}
				if (mt->dscp >= 0)
					fprintf(f, " ip_tos 0x%x/0xfc", mt->dscp << 2);
				fprintf(f, " classid %x:%x\n", sp->handle,
					sp->t[k].minor);
			}
		}
	}
}

/* --- a spec of several devices ------------------------------------------ */

/* qs_warnings() of one section, each line said once over all sections
 * (the tenants' warnings are every section's): *seen holds those said
 */
static int qs_section_warnings(FILE *warn, const struct qs_spec *sp,
			       const struct qs_plan *p, char **seen,
			       size_t *nseen)
{
	char *buf = NULL, *line, *nl, *grown;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int n;

	if (!m)
		return qs_warnings(warn, sp, p);
	n = qs_warnings(m, sp, p);
	fclose(m);
	for (line = buf; line && *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			break;
		*nl = '\0';
		if (*seen && strstr(*seen, line))
			continue;
		fprintf(warn, "%s\n", line);
		grown = realloc(*seen, *nseen + strlen(line) + 2);
		if (!grown)
			continue;
		*seen = grown;
		*nseen += (size_t)sprintf(grown + *nseen, "%s\n", line);
	}
	free(buf);
	return n;
}

int qs_plan_sections(FILE *f, FILE *warn, struct qs_spec *sp, bool check,
		     bool full_map)
{
	struct qs_spec *dsp = calloc(1, sizeof(*dsp));
	struct qs_plan *plan = calloc(1, sizeof(*plan));
	char err[256], lab[QS_NAME + 8], *seen = NULL;
	size_t nseen = 0;
	int i, nwarn, r = 0, done = 0;

	if (!dsp || !plan) {
		free(dsp);
		free(plan);
		return qs_fail(sp, 1, "out of memory");
	}
	for (i = 0; i < qs_nsections(sp) && !r; i++) {
		if (!qs_section_used(sp, i))
			continue;
		qs_section_label(sp, i, lab, sizeof(lab));
		if (qs_section(sp, i, dsp)) {
			fprintf(warn, "qvisorctl: %s\n", dsp->err);
			r = -1;
		} else if (qs_plan(dsp, plan, err, sizeof(err))) {
			fprintf(warn, "qvisorctl: %s %s: %s\n", sp->file, lab, err);
			r = -1;
		} else {
			nwarn = qs_section_warnings(warn, dsp, plan, &seen,
						    &nseen);
			if (check) {
				fprintf(f, "%s %s: ok, dev %s, %d tenants, %u joint ranks, %d warning%s\n",
					sp->file, lab, dsp->dev, dsp->ntenants,
					plan->s.width, nwarn, nwarn == 1 ? "" : "s");
			} else {
				fprintf(f, "%s== %s dev %s ==\n", done ? "\n" : "",
					lab, dsp->dev);
				qs_plan_print(f, dsp, plan, full_map);
			}
			done++;
		}
	}
	free(seen);
	free(plan);
	free(dsp);
	return r;
}

int qs_plan_tc_all(FILE *f, FILE *warn, struct qs_spec *sp,
		   const struct qs_link *l, int n)
{
	struct qs_spec *dsp = calloc(1, sizeof(*dsp));
	struct qs_target *tg = calloc(QS_MAX_TARGETS, sizeof(*tg));
	char lab[QS_NAME + 8];
	int i, cnt, r = 0;

	if (!dsp || !tg) {
		free(dsp);
		free(tg);
		return qs_fail(sp, 1, "out of memory");
	}
	cnt = qs_targets(sp, l, n, false, warn, tg, QS_MAX_TARGETS);
	if (cnt < 0) {
		fprintf(warn, "qvisorctl: %s\n", sp->err);
		r = -1;
	}
	for (i = 0; !r && i < cnt; i++) {
		if (qs_section(sp, tg[i].sec, dsp)) {
			fprintf(warn, "qvisorctl: %s\n", dsp->err);
			r = -1;
			break;
		}
		strcpy(dsp->dev, tg[i].dev);
		fprintf(f, "%s# device %s, %s\n", i ? "\n" : "", tg[i].dev,
			qs_section_label(sp, tg[i].sec, lab, sizeof(lab)));
		qs_plan_tc(f, dsp);
	}
	free(tg);
	free(dsp);
	return r;
}
