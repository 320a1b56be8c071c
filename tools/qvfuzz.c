// SPDX-License-Identifier: GPL-2.0-only
/*
 * qvfuzz: a seeded rtnetlink fuzzer for sch_qvisor.
 *
 *   qvfuzz [-s SEED] [-n COUNT] [-t SECONDS] [-H MAJOR] [-p FROM] [-q] DEV
 *
 * Sends COUNT (default 100000) RTM_NEWQDISC / RTM_DELQDISC / RTM_NEWTCLASS /
 * RTM_DELTCLASS requests for a qvisor root qdisc on DEV (handle MAJOR:,
 * default 1), plus an occasional qdisc and class dump, and reads every
 * answer.  TCA_OPTIONS are generated from the attribute tables of
 * pkt_sched_qvisor.h:
 *   - known attributes with boundary and random values of the right size,
 *   - the same with a wrong payload length (0..12 bytes, or long),
 *   - unknown types (just past the max, far past it, with the nested and
 *     byte-order flag bits), nested attributes inside TCA_OPTIONS,
 *     duplicates, TCA_OPTIONS without NLA_F_NESTED or missing,
 *   - policy trees (TCA_QVISOR_POLICY_TREE): from policy strings of the
 *     grammar (minors 0..65536, >> > + and junk) parsed and encoded as tc
 *     does, and random raw trees (kinds 0..7, missing or repeated kinds,
 *     empty groups, duplicate and zero minors, odd tenant arrays, 4097
 *     tenants, nested groups, chains past netlink's recursion limit); the
 *     old string attribute now and then,
 *   - tree probes: a qdisc replace with a random tree alone, whose answer
 *     must be what netlink's policy and the core's decoder
 *     (core/policy_tree.c) predict: the exact extack text and, for the
 *     decoder's refusals, the offset of the attribute at fault,
 *   - mutations of requests the kernel accepted before (bit flips, byte
 *     overwrites with boundary values, an inner rta_len made too short or
 *     too long, truncation of the message).
 * Class minors come mostly from 1..8 so that classes exist and change.
 *
 * The sequence of requests depends only on SEED and on the kernel's
 * answers, so "-s SEED" reproduces a run on the same kernel; "-p FROM"
 * prints every request from number FROM on (hex) with its answer.
 * -t stops after SECONDS even if COUNT was not reached.
 *
 * Ends with a summary on stdout:
 *   qvfuzz: seed S: N messages in T s (R/s): qdisc Q, class C, dump D;
 *   accepted A, rejected E (EINVAL x, ...), timeouts 0
 *   EINVAL/ERANGE/EOPNOTSUPP without extack message K (requests ...)
 *   qvfuzz: tree probes P: accepted A, netlink N, tree T, mismatches M
 * Exit status 0 when every request was answered as predicted, 1 when the
 * kernel did not answer (timeout), the device vanished or a tree probe
 * mismatched, 2 on usage or socket errors.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/pkt_sched.h>
#include <linux/pkt_sched_qvisor.h>
#include "qvisor/policy.h"
#include "qvisor/policy_tree.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

#define MSG_MAX		(64 * 1024)
#define CORPUS		64
#define MAX_ERRNO	600

/* ---- deterministic random numbers (splitmix64) --------------------------- */

static uint64_t rng_state;

static uint64_t rnd64(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* 0 .. n-1 */
static uint32_t rnd(uint32_t n)
{
	return n ? (uint32_t)(rnd64() % n) : 0;
}

/* true with probability pct percent */
static bool chance(unsigned int pct)
{
	return rnd(100) < pct;
}

/* ---- message building ---------------------------------------------------- */

static unsigned char msg[MSG_MAX];
static unsigned int msg_len;

static struct rtattr *put(int type, const void *data, unsigned int len)
{
	struct rtattr *rta;

	if (len > 0xffff - RTA_LENGTH(0))
		len = 0xffff - RTA_LENGTH(0);
	if (NLMSG_ALIGN(msg_len) + RTA_SPACE(len) > MSG_MAX)
		return NULL;
	rta = (struct rtattr *)(msg + NLMSG_ALIGN(msg_len));
	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	if (len && data)
		memcpy(RTA_DATA(rta), data, len);
	else if (len)
		memset(RTA_DATA(rta), 0, len);
	/* keep padding deterministic */
	memset((char *)RTA_DATA(rta) + len, 0, RTA_ALIGN(rta->rta_len) -
	       rta->rta_len);
	msg_len = NLMSG_ALIGN(msg_len) + RTA_ALIGN(rta->rta_len);
	return rta;
}

static void nest_end(struct rtattr *nest)
{
	if (nest)
		nest->rta_len = msg + msg_len - (unsigned char *)nest;
}

/* ---- values ---------------------------------------------------------------- */

static const uint64_t boundaries[] = {
	0, 1, 2, 3, 7, 8, 31, 32, 33, 63, 64, 65, 100, 101, 127, 128, 255, 256,
	1000, 1023, 1024, 4095, 4096, 4097, 9999, 10000, 10001, 32767, 32768,
	32769, 65535, 65536, 65537, 0x7fffffff, 0x80000000, 0xfffffffe,
	0xffffffff, 0x100000000ULL, 0x7fffffffffffffffULL,
	0x8000000000000000ULL, 0xffffffffffffffffULL,
};

static uint64_t gen_value(unsigned int size)
{
	uint64_t v;

	switch (rnd(4)) {
	case 0:
	case 1:
		v = boundaries[rnd(sizeof(boundaries) / sizeof(boundaries[0]))];
		break;
	case 2:
		v = rnd(200);
		break;
	default:
		v = rnd64() >> rnd(64);
		break;
	}
	if (size < 8)
		v &= (1ULL << (8 * size)) - 1;
	return v;
}

/* ---- policy strings -------------------------------------------------------- */

static unsigned int gen_minor_text(char *p, unsigned int room)
{
	static const char *odd[] = { "0", "65535", "65536", "4294967295",
				     "4294967296", "99999999999999999999",
				     "-1", "+1", "0x3", "1:2", "01", "" };
	unsigned int n;

	if (chance(85))
		n = snprintf(p, room, "%u", 1 + rnd(chance(80) ? 8 : 64));
	else
		n = snprintf(p, room, "%s", odd[rnd(sizeof(odd) /
						     sizeof(odd[0]))]);
	return n < room ? n : room - 1;
}

/* Writes a NUL-terminated policy into buf (size room), returns its length */
static unsigned int gen_policy(char *buf, unsigned int room)
{
	static const char *ops[] = { " >> ", " > ", " + ", ">>", ">", "+",
				     " >>> ", " ++ ", " >+ ", " ", "  ",
				     " ( ", " ) ", ",", " >> >> " };
	static const char junk[] = " \t\n>+()0123456789abcxyz-:;,\\\"'\xff\x80";
	unsigned int len = 0, n, i, tenants;

	if (room < 2)
		return 0;
	if (chance(3)) {	/* long: many tenants, or past the limit */
		tenants = chance(50) ? 4096 + rnd(16) : 1 + rnd(8000);
	} else {
		tenants = chance(5) ? 0 : 1 + rnd(chance(70) ? 4 : 12);
	}
	for (i = 0; i < tenants && len + 24 < room; i++) {
		if (i) {
			const char *op = chance(90) ? ops[rnd(3)] :
				ops[rnd(sizeof(ops) / sizeof(ops[0]))];

			n = strlen(op);
			memcpy(buf + len, op, n);
			len += n;
		}
		if (tenants > 100)
			len += snprintf(buf + len, room - len, "%u",
					1 + (i % 65535));
		else
			len += gen_minor_text(buf + len, room - len);
	}
	/* sprinkle junk */
	if (chance(10)) {
		n = 1 + rnd(4);
		while (n-- && len + 1 < room) {
			unsigned int at = rnd(len + 1);

			memmove(buf + at + 1, buf + at, len - at);
			buf[at] = junk[rnd(sizeof(junk) - 1)];
			len++;
		}
	}
	if (chance(3)) {	/* pad with spaces, maybe past the maximum */
		n = QVISOR_MAX_POLICY - 8 + rnd(24);
		while (len < n && len + 1 < room)
			buf[len++] = ' ';
	}
	buf[len] = '\0';
	return len;
}

/* ---- policy trees --------------------------------------------------------- */

static struct qv_pol_ent tree_ent[QVISOR_MAX_TENANTS];
static struct qv_pol_grp tree_grp[QV_POLICY_MAX_GROUPS];

/* A random raw group (its attributes, into the open nest) at nesting level
 * lvl, the root being 1; children only down to level maxlvl
 */
static void gen_group(int lvl, int maxlvl, unsigned int child_pct)
{
	static uint16_t m[QVISOR_MAX_TENANTS + 1];
	uint8_t kind = chance(3) ? 3 + rnd(5) : rnd(3);
	unsigned int members, i, n, k;
	bool kind_last = chance(10);

	if (!kind_last && !chance(3))
		put(TCA_QVISOR_NODE_KIND, &kind, 1);
	if (chance(2))
		put(TCA_QVISOR_NODE_KIND, &kind, 1);
	members = chance(5) ? 0 : 1 + rnd(4);
	for (i = 0; i < members && msg_len < MSG_MAX - 16384; i++) {
		if (lvl < maxlvl && chance(child_pct)) {
			struct rtattr *c = put(TCA_QVISOR_NODE_CHILD |
					       NLA_F_NESTED, NULL, 0);

			gen_group(lvl + 1, maxlvl, child_pct);
			nest_end(c);
			continue;
		}
		n = chance(1) ? QVISOR_MAX_TENANTS + 1 : 1 + rnd(4);
		for (k = 0; k < n; k++)
			m[k] = chance(2) ? 0 : n > 4 ? k + 1 :
			       1 + rnd(chance(50) ? 12 : 0xffff);
		put(TCA_QVISOR_NODE_TENANTS, m, 2 * n - (chance(2) ? 1 : 0));
	}
	if (kind_last)
		put(TCA_QVISOR_NODE_KIND, &kind, 1);
}

static unsigned int gen_policy(char *buf, unsigned int room);

/* A tree as tc sends it: a policy string parsed and encoded */
static void gen_tree_valid(void)
{
	static char pol[QVISOR_MAX_POLICY + 64];
	struct qv_policy p = { .ent = tree_ent, .cap = QVISOR_MAX_TENANTS };
	struct qv_err e;
	unsigned int len = gen_policy(pol, sizeof(pol));
	uint32_t size, k;
	struct rtattr *t;

	if (qv_policy_parse(&p, pol, len, &e)) {
		/* a few tenants in random tiers and levels */
		p.n = 1 + rnd(8);
		for (k = 0; k < p.n; k++) {
			tree_ent[k].minor = 1 + k * (1 + rnd(40));
			tree_ent[k].group = 0;	/* the probes decode into tree_ent */
			tree_ent[k].tier = k ? tree_ent[k - 1].tier : 0;
			tree_ent[k].level = k ? tree_ent[k - 1].level : 0;
			if (k && chance(30)) {
				tree_ent[k].tier++;
				tree_ent[k].level = 0;
			} else if (k && chance(30)) {
				tree_ent[k].level++;
			}
		}
	}
	size = qv_ptree_size(&p);
	if (NLMSG_ALIGN(msg_len) + RTA_SPACE(size) > MSG_MAX ||
	    size > 0xffff - RTA_LENGTH(0))
		return;
	t = put(TCA_QVISOR_POLICY_TREE | NLA_F_NESTED, NULL, size);
	qv_ptree_encode(&p, RTA_DATA(t));
}

static void gen_tree(void)
{
	struct rtattr *t;

	if (chance(50)) {
		gen_tree_valid();
		return;
	}
	t = put(TCA_QVISOR_POLICY_TREE | (chance(97) ? NLA_F_NESTED : 0),
		NULL, 0);
	if (!chance(5))
		gen_group(1, chance(5) ? 12 : 4, chance(5) ? 90 : 30);
	nest_end(t);
}

/* ---- attribute tables (pkt_sched_qvisor.h) ------------------------------- */

enum vkind { V_INT, V_STR, V_TREE };

struct attr_desc {
	int type;
	unsigned int size;	/* payload of a well-formed value */
	enum vkind kind;
	uint32_t max;		/* 0: any; else values mostly 0..max+2 */
};

static const struct attr_desc qdisc_attrs[] = {
	{ TCA_QVISOR_RATE, 8, V_INT, 0 },
	{ TCA_QVISOR_LIMIT, 4, V_INT, 0 },
	{ TCA_QVISOR_BUCKETS, 4, V_INT, 0 },
	{ TCA_QVISOR_SLOT, 4, V_INT, 0 },
	{ TCA_QVISOR_DEFAULT, 4, V_INT, 10 },
	{ TCA_QVISOR_BACKEND, 1, V_INT, QVISOR_BACKEND_MAX },
	{ TCA_QVISOR_QUEUES, 4, V_INT, QVISOR_MAX_SPPIFO_Q },
	{ TCA_QVISOR_POLICY, 0, V_STR, 0 },
	{ TCA_QVISOR_POLICY_TREE, 0, V_TREE, 0 },
	{ TCA_QVISOR_POLICY_TREE, 0, V_TREE, 0 },
	{ TCA_QVISOR_OVERLAP, 4, V_INT, 100 },
	{ TCA_QVISOR_PAD, 0, V_INT, 0 },
};

static const struct attr_desc class_attrs[] = {
	{ TCA_QVISOR_CLASS_RANK, 1, V_INT, QVISOR_RANK_MAX },
	{ TCA_QVISOR_CLASS_MARK_MASK, 4, V_INT, 0 },
	{ TCA_QVISOR_CLASS_LO, 4, V_INT, 0 },
	{ TCA_QVISOR_CLASS_HI, 4, V_INT, 0 },
	{ TCA_QVISOR_CLASS_LEVELS, 4, V_INT, 0 },
	{ TCA_QVISOR_CLASS_WEIGHT, 4, V_INT, 0 },
	{ TCA_QVISOR_CLASS_CEIL, 8, V_INT, 0 },
	{ TCA_QVISOR_CLASS_BURST, 4, V_INT, 0 },
	{ TCA_QVISOR_CLASS_LIMIT, 4, V_INT, 0 },
	{ TCA_QVISOR_CLASS_EDF_BUDGET, 8, V_INT, 0 },
	{ TCA_QVISOR_CLASS_PAD, 0, V_INT, 0 },
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void put_known(const struct attr_desc *d, bool wrong_len)
{
	static char pol[QVISOR_MAX_POLICY + 64];
	unsigned char buf[16];
	unsigned int len;
	uint64_t v;

	if (d->kind == V_TREE) {
		gen_tree();
		return;
	}
	if (d->kind == V_STR) {
		len = gen_policy(pol, sizeof(pol));
		if (wrong_len) {	/* unterminated, or cut short */
			len = chance(50) ? len : rnd(len + 1);
			put(d->type, pol, len);
		} else {
			put(d->type, pol, len + 1);
		}
		return;
	}
	if (d->max && chance(70))
		v = rnd(d->max + 3);
	else
		v = gen_value(d->size ? d->size : 8);
	memcpy(buf, &v, sizeof(v));	/* little endian host */
	memset(buf + 8, 0, sizeof(buf) - 8);
	len = d->size;
	if (wrong_len) {
		len = rnd(13);
		if (len == d->size)
			len++;
		if (chance(10))
			len = 16 + rnd(300);	/* long: zero-filled */
	}
	if (len > sizeof(buf))
		put(d->type, NULL, len);
	else
		put(d->type, buf, len);
}

static void gen_options(bool is_class, int depth);

static void put_random_attr(const struct attr_desc *t, unsigned int n,
			    int maxtype, bool is_class, int depth)
{
	unsigned int r = rnd(100);
	int type;

	if (r < 70) {
		put_known(&t[rnd(n)], false);
	} else if (r < 82) {
		put_known(&t[rnd(n)], true);
	} else if (r < 92) {
		unsigned char b[8];
		uint64_t v = gen_value(8);

		switch (rnd(4)) {
		case 0:
			type = maxtype + 1 + rnd(3);
			break;
		case 1:
			type = rnd(0x4000);
			break;
		case 2:
			type = rnd(maxtype + 1) | NLA_F_NET_BYTEORDER;
			break;
		default:
			type = 0;	/* UNSPEC */
			break;
		}
		memcpy(b, &v, sizeof(b));
		put(type, b, rnd(9));
	} else if (depth < 2) {
		struct rtattr *nest;

		type = chance(50) ? rnd(maxtype + 2) : TCA_OPTIONS;
		nest = put(type | (chance(70) ? NLA_F_NESTED : 0), NULL, 0);
		gen_options(is_class, depth + 1);
		nest_end(nest);
	} else {
		put_known(&t[rnd(n)], false);
	}
}

static void gen_options(bool is_class, int depth)
{
	const struct attr_desc *t = is_class ? class_attrs : qdisc_attrs;
	unsigned int n = is_class ? ARRAY_SIZE(class_attrs) :
				    ARRAY_SIZE(qdisc_attrs);
	int maxtype = is_class ? TCA_QVISOR_CLASS_MAX : TCA_QVISOR_MAX;
	unsigned int count, i;

	count = chance(10) ? 0 : 1 + rnd(chance(80) ? 4 : 12);
	for (i = 0; i < count && msg_len < MSG_MAX - 512; i++)
		put_random_attr(t, n, maxtype, is_class, depth);
}

/* ---- corpus of accepted options, for mutation ----------------------------- */

struct blob {
	unsigned int len;
	unsigned char data[1024];
};

static struct blob corpus[2][CORPUS];
static unsigned int corpus_n[2];

static void corpus_add(int which, const unsigned char *p, unsigned int len)
{
	struct blob *b;

	if (len > sizeof(corpus[0][0].data) || len == 0)
		return;
	if (corpus_n[which] < CORPUS)
		b = &corpus[which][corpus_n[which]++];
	else
		b = &corpus[which][rnd(CORPUS)];
	b->len = len;
	memcpy(b->data, p, len);
}

/* Mutate the payload of TCA_OPTIONS at opts (already in the message) */
static void mutate(struct rtattr *opts)
{
	unsigned char *p = RTA_DATA(opts);
	unsigned int len = RTA_PAYLOAD(opts), i, n;

	if (!len)
		return;
	n = 1 + rnd(4);
	for (i = 0; i < n; i++) {
		unsigned int at = rnd(len);
		uint64_t v;

		switch (rnd(5)) {
		case 0:
			p[at] ^= 1u << rnd(8);
			break;
		case 1:
			p[at] = rnd(256);
			break;
		case 2:	/* boundary value at a random aligned spot */
			at &= ~3u;
			v = gen_value(4);
			if (at + 4 <= len)
				memcpy(p + at, &v, 4);
			break;
		case 3: {	/* an attribute header's length, off */
			struct rtattr *a = (struct rtattr *)p;
			int left = len;
			unsigned int k = rnd(4);

			while (k-- && RTA_OK(a, left))
				a = RTA_NEXT(a, left);
			if (left >= (int)sizeof(*a)) {
				static const int d[] = { -4, -1, 1, 4, 8, 4096 };

				a->rta_len += d[rnd(ARRAY_SIZE(d))];
				if (chance(20))
					a->rta_len = rnd(4);
			}
			break;
		}
		default:	/* attribute type */
			at &= ~3u;
			if (at + 4 <= len)
				p[at + 2] = rnd(24);
			break;
		}
	}
}

/* ---- netlink I/O ------------------------------------------------------------ */

static int nl_fd;
static char last_msg[512];	/* extack of the last answer */
static long last_offs;		/* its attribute offset, -1 = none */
static unsigned int seq;
static unsigned long counts[MAX_ERRNO + 1], timeouts, no_extack;
/* EINVAL, ERANGE or EOPNOTSUPP without a message: the first few requests */
static unsigned long bare[8], nbare;

static const char *errno_name(int e)
{
	switch (e) {
	case 0: return "ok";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case E2BIG: return "E2BIG";
	case ENOMEM: return "ENOMEM";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case ERANGE: return "ERANGE";
	case EMSGSIZE: return "EMSGSIZE";
	case ENOBUFS: return "ENOBUFS";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EAGAIN: return "EAGAIN";
	case EFAULT: return "EFAULT";
	case ENAMETOOLONG: return "ENAMETOOLONG";
	case EOVERFLOW: return "EOVERFLOW";
	case 524: return "ENOTSUPP";
	default: return NULL;
	}
}

static void nl_open(void)
{
	struct timeval tv = { .tv_sec = 10 };
	int one = 1, sz = 1 << 20;

	nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl_fd < 0) {
		perror("qvfuzz: socket");
		exit(2);
	}
	setsockopt(nl_fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl_fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	setsockopt(nl_fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(nl_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/*
 * Send the message; returns the errno of the answer (0 = ok, -1 = no
 * answer).  For dumps, reads until NLMSG_DONE and returns 0 or the error.
 */
static int nl_talk(bool dump, bool *has_msg)
{
	static unsigned char rbuf[256 * 1024];
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct nlmsghdr *nlh = (struct nlmsghdr *)msg;
	unsigned int want = ++seq;
	ssize_t n;

	*has_msg = false;
	last_msg[0] = '\0';
	last_offs = -1;
	nlh->nlmsg_seq = want;
	if (sendto(nl_fd, msg, nlh->nlmsg_len, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0) {
		if (errno == EMSGSIZE || errno == EINVAL || errno == ENOBUFS)
			return errno;
		perror("qvfuzz: sendto");
		exit(2);
	}
	for (;;) {
		struct nlmsghdr *h;

		n = recv(nl_fd, rbuf, sizeof(rbuf), 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return -1;
			if (errno == ENOBUFS || errno == EINTR)
				continue;
			perror("qvfuzz: recv");
			exit(2);
		}
		for (h = (struct nlmsghdr *)rbuf; NLMSG_OK(h, n);
		     h = NLMSG_NEXT(h, n)) {
			struct nlmsgerr *e;
			struct rtattr *a;
			int alen;

			if (h->nlmsg_seq != want)
				continue;
			if (h->nlmsg_type == NLMSG_DONE && dump)
				return 0;
			if (h->nlmsg_type != NLMSG_ERROR)
				continue;
			e = NLMSG_DATA(h);
			if ((h->nlmsg_flags & NLM_F_ACK_TLVS) && e->error) {
				a = (struct rtattr *)((char *)e + sizeof(*e));
				alen = h->nlmsg_len - NLMSG_HDRLEN - sizeof(*e);
				for (; RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
					if (a->rta_type == NLMSGERR_ATTR_MSG) {
						*has_msg = true;
						snprintf(last_msg, sizeof(last_msg),
							 "%.*s", (int)RTA_PAYLOAD(a),
							 (char *)RTA_DATA(a));
					}
					if (a->rta_type == NLMSGERR_ATTR_OFFS &&
					    RTA_PAYLOAD(a) >= 4)
						last_offs = *(uint32_t *)RTA_DATA(a);
				}
			}
			return -e->error;
		}
	}
}

/* ---- requests ----------------------------------------------------------------- */

enum op {
	Q_ADD, Q_CHANGE, Q_REPLACE, Q_DEL, C_ADD, C_CHANGE, C_DEL, DUMP,
	N_OPS
};

static const char *const op_names[N_OPS] = {
	"qdisc add", "qdisc change", "qdisc replace", "qdisc del",
	"class add", "class change", "class del", "dump",
};

static enum op pick_op(void)
{
	unsigned int r = rnd(1000);

	if (r < 130)
		return Q_ADD;
	if (r < 330)
		return Q_CHANGE;
	if (r < 420)
		return Q_REPLACE;
	if (r < 445)
		return Q_DEL;
	if (r < 665)
		return C_ADD;
	if (r < 885)
		return C_CHANGE;
	if (r < 985)
		return C_DEL;
	return DUMP;
}

static uint32_t pick_minor(void)
{
	static const uint32_t odd[] = { 0, 9, 255, 4096, 4097, 0xfffe, 0xffff };

	if (chance(90))
		return 1 + rnd(8);
	return odd[rnd(ARRAY_SIZE(odd))];
}

/*
 * Build one request into msg.  Returns the TCA_OPTIONS attribute (or NULL)
 * so that an accepted one can go to the corpus.
 */
static struct rtattr *build(enum op op, int ifindex, uint32_t major,
			    bool *dump)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)msg;
	bool is_class = op >= C_ADD && op <= C_DEL;
	struct rtattr *opts = NULL;
	struct tcmsg *t;
	const char *kind = "qvisor";
	uint32_t mj = major;

	memset(msg, 0, NLMSG_LENGTH(sizeof(*t)));
	msg_len = NLMSG_LENGTH(sizeof(*t));
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	*dump = false;
	t = NLMSG_DATA(nlh);
	t->tcm_family = AF_UNSPEC;
	t->tcm_ifindex = ifindex;
	if (chance(1))
		mj = rnd(3) + 1;	/* sometimes the wrong major */

	switch (op) {
	case Q_ADD:
		nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_EXCL;
		/* fall through */
	case Q_CHANGE:
	case Q_REPLACE:
		if (op == Q_REPLACE)
			nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_REPLACE;
		nlh->nlmsg_type = RTM_NEWQDISC;
		t->tcm_parent = TC_H_ROOT;
		t->tcm_handle = TC_H_MAKE(mj << 16, 0);
		break;
	case Q_DEL:
		nlh->nlmsg_type = RTM_DELQDISC;
		t->tcm_parent = TC_H_ROOT;
		t->tcm_handle = TC_H_MAKE(mj << 16, 0);
		return NULL;
	case C_ADD:
		nlh->nlmsg_flags |= NLM_F_CREATE | (chance(80) ? NLM_F_EXCL : 0);
		/* fall through */
	case C_CHANGE:
	case C_DEL:
		nlh->nlmsg_type = op == C_DEL ? RTM_DELTCLASS : RTM_NEWTCLASS;
		t->tcm_parent = chance(97) ? TC_H_MAKE(mj << 16, 0) :
			TC_H_MAKE(mj << 16, pick_minor());
		t->tcm_handle = TC_H_MAKE(mj << 16, pick_minor());
		if (op == C_DEL)
			return NULL;
		break;
	default:
		nlh->nlmsg_type = chance(50) ? RTM_GETQDISC : RTM_GETTCLASS;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		*dump = true;
		return NULL;
	}

	if (chance(1))
		kind = chance(50) ? "qvisoR" : "qvisor\xff";
	if (!chance(1))
		put(TCA_KIND, kind, strlen(kind) + 1);
	if (chance(2))
		return NULL;	/* no options */
	opts = put(TCA_OPTIONS | (chance(97) ? NLA_F_NESTED : 0), NULL, 0);
	if (chance(25) && corpus_n[is_class]) {
		struct blob *b = &corpus[is_class][rnd(corpus_n[is_class])];

		memcpy(msg + msg_len, b->data, b->len);
		msg_len += b->len;
		nest_end(opts);
		mutate(opts);
	} else {
		gen_options(is_class, 0);
		nest_end(opts);
		if (chance(8))
			mutate(opts);
	}
	nlh->nlmsg_len = msg_len;
	if (chance(2) && RTA_PAYLOAD(opts) > 1) {	/* truncate */
		unsigned int cut = 1 + rnd(RTA_PAYLOAD(opts) - 1);

		opts->rta_len -= cut;
		msg_len -= cut;
	}
	return opts;
}

/* ---- tree probes ----------------------------------------------------------- */


struct pred {
	int err;		/* 0: accepted (or refused for other reasons) */
	const char *msg;
	long offs;		/* -1: not checked */
};

/* What netlink's own validation of the group at @g (level @lvl, the root
 * 1) says first, in attribute order: the recursion limit (10 in 6.1 to
 * 7.2), then the range of each kind
 */
static bool nl_predict(const struct rtattr *g, int lvl, struct pred *p)
{
	const struct rtattr *a;
	int rem = RTA_PAYLOAD(g);

	if (lvl >= 10) {
		p->err = EINVAL;
		p->msg = "allowed policy recursion depth exceeded";
		p->offs = -1;
		return true;
	}
	for (a = RTA_DATA(g); RTA_OK(a, rem); a = RTA_NEXT(a, rem)) {
		switch (a->rta_type & NLA_TYPE_MASK) {
		case TCA_QVISOR_NODE_KIND:
			if (*(uint8_t *)RTA_DATA(a) > QVISOR_NODE_MAX) {
				p->err = ERANGE;
				p->msg = "integer out of range";
				p->offs = (const unsigned char *)a - msg;
				return true;
			}
			break;
		case TCA_QVISOR_NODE_CHILD:
			if (nl_predict(a, lvl + 1, p))
				return true;
			break;
		}
	}
	return false;
}

static unsigned long probes, probe_ok, probe_nl, probe_tree, mismatches;

/* A qdisc replace with a random tree alone; the answer must be the one
 * predicted.  Returns false on a mismatch (printed).
 */
static bool probe(int ifindex, uint32_t major, unsigned long i)
{
	static u64 seen[QV_PTREE_SEEN_WORDS];
	struct nlmsghdr *nlh = (struct nlmsghdr *)msg;
	struct qv_policy p = { .ent = tree_ent, .cap = QVISOR_MAX_TENANTS };
	struct rtattr *opts, *tree;
	struct pred want = { 0, NULL, -1 };
	struct qv_err e = {};
	struct tcmsg *t;
	bool has_msg, ok;
	unsigned int k;
	int err;

	memset(msg, 0, NLMSG_LENGTH(sizeof(*t)));
	msg_len = NLMSG_LENGTH(sizeof(*t));
	nlh->nlmsg_type = RTM_NEWQDISC;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE |
			   NLM_F_REPLACE;
	t = NLMSG_DATA(nlh);
	t->tcm_family = AF_UNSPEC;
	t->tcm_ifindex = ifindex;
	t->tcm_parent = TC_H_ROOT;
	t->tcm_handle = TC_H_MAKE(major << 16, 0);
	put(TCA_KIND, "qvisor", 7);
	opts = put(TCA_OPTIONS | NLA_F_NESTED, NULL, 0);
	tree = (struct rtattr *)(msg + msg_len);
	if (chance(30)) {
		gen_tree_valid();
	} else {
		tree = put(TCA_QVISOR_POLICY_TREE | NLA_F_NESTED, NULL, 0);
		gen_group(1, chance(10) ? 12 : 4, chance(10) ? 90 : 30);
		nest_end(tree);
	}
	nest_end(opts);
	nlh->nlmsg_len = msg_len;
	if ((unsigned char *)tree >= msg + msg_len)
		return true;	/* too large to send, nothing generated */

	if (!nl_predict(tree, 1, &want)) {
		memset(seen, 0, sizeof(seen));
		if (qv_ptree_decode(&p, tree_grp, QV_POLICY_MAX_GROUPS,
				    tree, tree->rta_len, seen, &e)) {
			want.err = EINVAL;
			want.msg = e.msg;
			want.offs = (unsigned char *)tree - msg + e.pos;
		}
	}
	err = nl_talk(false, &has_msg);
	if (err < 0) {
		timeouts++;
		return true;
	}
	probes++;
	if (want.err) {
		ok = err == want.err && strstr(last_msg, want.msg) &&
		     (want.offs < 0 || want.offs == last_offs);
		if (want.offs < 0)
			probe_nl++;
		else
			probe_tree++;
	} else {
		/* a valid tree: accepted, or refused by something else
		 * (the synthesizer), never with a tree message
		 */
		ok = true;
		for (k = 0; k < ARRAY_SIZE(qv_ptree_messages); k++)
			if (err && strstr(last_msg, qv_ptree_messages[k]))
				ok = false;
		if (err == EINVAL && strstr(last_msg, "recursion"))
			ok = false;
		probe_ok += !err;
	}
	if (!ok && mismatches++ < 5)
		fprintf(stderr,
			"qvfuzz: tree probe (request %lu): want %s \"%s\" at %ld, got %s \"%s\" at %ld\n",
			i, want.err ? errno_name(want.err) : "ok",
			want.msg ? want.msg : "", want.offs,
			err ? errno_name(err) : "ok", last_msg, last_offs);
	return ok;
}

static void hexdump(const unsigned char *p, unsigned int len)
{
	unsigned int i;

	for (i = 0; i < len; i++)
		printf("%02x%s", p[i], (i % 32 == 31 || i + 1 == len) ? "\n" :
		       "");
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: qvfuzz [-s SEED] [-n COUNT] [-t SECONDS] [-H MAJOR] [-p FROM] [-q] DEV\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long count = 100000, print_from = 0, i, ops[N_OPS] = { 0 };
	unsigned long accepted = 0, rejected = 0;
	unsigned long long seed = 1;
	double limit = 0, t0, el;
	uint32_t major = 1;
	bool quiet = false;
	int c, ifindex, e;

	while ((c = getopt(argc, argv, "s:n:t:H:p:q")) != -1) {
		switch (c) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			count = strtoul(optarg, NULL, 0);
			break;
		case 't':
			limit = atof(optarg);
			break;
		case 'H':
			major = strtoul(optarg, NULL, 16);
			break;
		case 'p':
			print_from = strtoul(optarg, NULL, 0);
			break;
		case 'q':
			quiet = true;
			break;
		default:
			usage();
		}
	}
	if (optind + 1 != argc || !major || major > 0xffff)
		usage();
	ifindex = if_nametoindex(argv[optind]);
	if (!ifindex) {
		fprintf(stderr, "qvfuzz: no device \"%s\"\n", argv[optind]);
		return 2;
	}
	rng_state = seed;
	nl_open();
	t0 = now();

	for (i = 1; i <= count; i++) {
		struct rtattr *opts;
		bool dump, has_msg;
		enum op op = pick_op();

		if (chance(5)) {
			if (!probe(ifindex, major, i) && print_from)
				hexdump(msg, msg_len);
			if (limit > 0 && (i & 63) == 0 && now() - t0 > limit) {
				i++;
				break;
			}
			continue;
		}
		opts = build(op, ifindex, major, &dump);
		((struct nlmsghdr *)msg)->nlmsg_len = msg_len;
		e = nl_talk(dump, &has_msg);
		ops[op]++;
		if (print_from && i >= print_from) {
			printf("# %lu %s len %u -> %s (%d)\n", i, op_names[op],
			       msg_len, e >= 0 && errno_name(e) ?
			       errno_name(e) : "?", e);
			hexdump(msg, msg_len);
		}
		if (e < 0) {
			timeouts++;
			fprintf(stderr, "qvfuzz: request %lu (%s) got no answer in 10 s\n",
				i, op_names[op]);
			break;
		}
		counts[e > MAX_ERRNO ? MAX_ERRNO : e]++;
		if (e == 0) {
			accepted++;
			if (opts && !dump && opts->rta_len > RTA_LENGTH(0))
				corpus_add(op >= C_ADD, RTA_DATA(opts),
					   RTA_PAYLOAD(opts));
		} else {
			rejected++;
			if (!has_msg) {
				no_extack++;
				if ((e == EINVAL || e == ERANGE || e == EOPNOTSUPP) &&
				    nbare++ < ARRAY_SIZE(bare))
					bare[nbare - 1] = i;
			}
		}
		if (!quiet && i % 20000 == 0)
			fprintf(stderr, "qvfuzz: %lu messages, %.1f s\n", i,
				now() - t0);
		if (limit > 0 && (i & 63) == 0 && now() - t0 > limit) {
			i++;
			break;
		}
	}
	i--;
	el = now() - t0;
	if (!if_nametoindex(argv[optind])) {
		fprintf(stderr, "qvfuzz: device %s vanished\n", argv[optind]);
		timeouts++;
	}
	printf("qvfuzz: seed %llu: %lu messages in %.1f s (%.0f/s): ", seed,
	       i, el, el > 0 ? i / el : 0.0);
	for (c = 0; c < N_OPS; c++)
		printf("%s%s %lu", c ? ", " : "", op_names[c], ops[c]);
	printf("\nqvfuzz: accepted %lu, rejected %lu (", accepted, rejected);
	for (e = 1, c = 0; e <= MAX_ERRNO; e++) {
		if (!counts[e])
			continue;
		if (errno_name(e))
			printf("%s%s %lu", c++ ? ", " : "", errno_name(e),
			       counts[e]);
		else
			printf("%serrno %d %lu", c++ ? ", " : "", e, counts[e]);
	}
	printf("), without extack message %lu, timeouts %lu\n", no_extack,
	       timeouts);
	printf("qvfuzz: EINVAL/ERANGE/EOPNOTSUPP without extack message %lu",
	       nbare);
	for (c = 0; c < (int)ARRAY_SIZE(bare) && (unsigned long)c < nbare; c++)
		printf("%s%lu", c ? " " : " (requests ", bare[c]);
	printf("%s\n", nbare ? ")" : "");
	printf("qvfuzz: tree probes %lu: accepted %lu, netlink %lu, tree %lu, mismatches %lu\n",
	       probes, probe_ok, probe_nl, probe_tree, mismatches);
	return timeouts || mismatches ? 1 : 0;
}
