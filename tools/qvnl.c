// SPDX-License-Identifier: GPL-2.0-only
/*
 * qvnl: send hand-built qvisor rtnetlink requests, bypassing tc and its
 * plugin, and check the kernel's answer.  Used by selftests/vm/netlink.sh
 * to feed the kernel well-formed and malformed TCA_OPTIONS.
 *
 * Usage:
 *   qvnl [OPTION...] qdisc {add|change|replace} DEV [ATTR...]
 *   qvnl [OPTION...] class {add|change|delete} DEV MINOR [ATTR...]
 *   qvnl qstats DEV      print the root qdisc's TCA_QVISOR_QSTATS as the
 *                        module dumps it, one "queue N ..." line per
 *                        queue (exit 1 if it has none)
 *
 * Options:
 *   --expect-ok          the kernel must accept the request (the default)
 *   --expect-error E     the kernel must reject it with errno E: a name
 *                        (EINVAL, ERANGE, EOPNOTSUPP, ...), a number, or
 *                        "any" for any error
 *   --expect-msg TEXT    the extack message must contain TEXT
 *   --handle MAJOR       qdisc major number in hex (default 1)
 *   --kind KIND          TCA_KIND (default qvisor)
 *   --no-nested          send TCA_OPTIONS without NLA_F_NESTED
 *   --no-options         send no TCA_OPTIONS at all
 *   --truncate N         cut the last N bytes off TCA_OPTIONS (and off the
 *                        message): its last attribute is left truncated
 *   -q                   print nothing but mismatches
 *
 * ATTR is TYPE:NAME=VALUE, added inside TCA_OPTIONS in the order given.
 * NAME is a qdisc or class option name as in pkt_sched_qvisor.h, lower
 * case without prefix (rate, limit, buckets, slot, default, backend,
 * queues, policy, tree (TCA_QVISOR_POLICY_TREE), gprops
 * (TCA_QVISOR_GROUP_PROPS), overlap, pad, flows, flow_idle, qstats;
 * class: rank, mask, lo, hi, levels, weight, ceil, burst, limit, budget,
 * pad), or a number (any attribute type).
 * TYPE:
 *   u8 u16 u32 u64   an integer VALUE (decimal or 0x hex) of that size
 *   str              VALUE with its terminating NUL
 *   nonul            VALUE without a NUL
 *   strpad           VALUE is LEN:TEXT: TEXT padded with spaces to LEN
 *                    bytes, then a NUL
 *   hex              VALUE is raw bytes in hex (an empty VALUE is an
 *                    empty attribute)
 *   tree             VALUE is a policy group written as
 *                      KIND(MEMBER ...)  KIND: strict, prefer, share,
 *                                        kindN (the raw kind N), nokind
 *                                        (no KIND attribute)
 *                      MEMBER: a hex minor or a range LO-HI (adjacent
 *                      minors go into one TCA_QVISOR_NODE_TENANTS, '|'
 *                      starts a new one), or a group (TCA_QVISOR_NODE_CHILD)
 *                    an empty VALUE is an empty nest (clears the policy);
 *                    '@' before a group or a minor marks that attribute:
 *                    the kernel's extack must point at it
 *
 * Prints the kernel's answer, e.g.
 *   qvnl: kernel: EINVAL (Invalid argument) "weight must be from 1 to 65535"
 * and exits 0 when the answer matches the expectation, 1 when it does not,
 * 2 on usage or socket errors.
 */

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/pkt_sched.h>
#include <linux/pkt_sched_qvisor.h>

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

#define MSG_MAX		(128 * 1024)

struct name_val {
	const char *name;
	int val;
};

static const struct name_val qdisc_attrs[] = {
	{ "rate", TCA_QVISOR_RATE },
	{ "limit", TCA_QVISOR_LIMIT },
	{ "buckets", TCA_QVISOR_BUCKETS },
	{ "slot", TCA_QVISOR_SLOT },
	{ "default", TCA_QVISOR_DEFAULT },
	{ "backend", TCA_QVISOR_BACKEND },
	{ "queues", TCA_QVISOR_QUEUES },
	{ "policy", TCA_QVISOR_POLICY },
	{ "overlap", TCA_QVISOR_OVERLAP },
	{ "pad", TCA_QVISOR_PAD },
	{ "flows", TCA_QVISOR_FLOWS },
	{ "flow_idle", TCA_QVISOR_FLOW_IDLE },
	{ "partial", TCA_QVISOR_PARTIAL },
	{ "props", TCA_QVISOR_PROPS },
	{ "aqm", TCA_QVISOR_AQM },
	{ "ecn", TCA_QVISOR_ECN },
	{ "target", TCA_QVISOR_TARGET },
	{ "interval", TCA_QVISOR_INTERVAL },
	{ "memlimit", TCA_QVISOR_MEMLIMIT },
	{ "tree", TCA_QVISOR_POLICY_TREE },
	{ "gprops", TCA_QVISOR_GROUP_PROPS },
	{ "qstats", TCA_QVISOR_QSTATS },
	{ "lend", TCA_QVISOR_LEND },
	{ NULL, 0 }
};

static const struct name_val class_attrs[] = {
	{ "rank", TCA_QVISOR_CLASS_RANK },
	{ "mask", TCA_QVISOR_CLASS_MARK_MASK },
	{ "lo", TCA_QVISOR_CLASS_LO },
	{ "hi", TCA_QVISOR_CLASS_HI },
	{ "levels", TCA_QVISOR_CLASS_LEVELS },
	{ "weight", TCA_QVISOR_CLASS_WEIGHT },
	{ "ceil", TCA_QVISOR_CLASS_CEIL },
	{ "burst", TCA_QVISOR_CLASS_BURST },
	{ "limit", TCA_QVISOR_CLASS_LIMIT },
	{ "budget", TCA_QVISOR_CLASS_EDF_BUDGET },
	{ "pad", TCA_QVISOR_CLASS_PAD },
	{ "aqm", TCA_QVISOR_CLASS_AQM },
	{ "ecn", TCA_QVISOR_CLASS_ECN },
	{ "target", TCA_QVISOR_CLASS_TARGET },
	{ "interval", TCA_QVISOR_CLASS_INTERVAL },
	{ "rauto", TCA_QVISOR_CLASS_RANGE_AUTO },
	{ NULL, 0 }
};

#define E(x) { #x, x }
static const struct name_val errnos[] = {
	E(EPERM), E(ENOENT), E(E2BIG), E(EBADF), E(ENOMEM), E(EBUSY),
	E(EEXIST), E(ENODEV), E(EINVAL), E(ENOSPC), E(ERANGE), E(EMSGSIZE),
	E(ENOBUFS), E(EOPNOTSUPP), E(EAGAIN), E(EFAULT), E(ENAMETOOLONG),
	E(EOVERFLOW),
	{ "ENOTSUPP", 524 },	/* kernel-internal, leaks to userspace */
	{ NULL, 0 }
};
#undef E

static bool quiet;

static void usage(void)
{
	fprintf(stderr,
		"usage: qvnl [--expect-ok | --expect-error E] [--expect-msg TEXT]\n"
		"            [--handle MAJOR] [--kind KIND] [--no-nested] [--no-options]\n"
		"            [--truncate N] [-q]\n"
		"            qdisc {add|change|replace} DEV [TYPE:NAME=VALUE...]\n"
		"            class {add|change|delete} DEV MINOR [TYPE:NAME=VALUE...]\n"
		"       qvnl qstats DEV\n"
		"TYPE: u8 u16 u32 u64 str nonul strpad(LEN:TEXT) hex\n");
	exit(2);
}

static int lookup(const struct name_val *t, const char *name)
{
	for (; t->name; t++)
		if (strcmp(t->name, name) == 0)
			return t->val;
	return -1;
}

static const char *errno_name(int e)
{
	const struct name_val *t;

	for (t = errnos; t->name; t++)
		if (t->val == e)
			return t->name;
	return "E?";
}

static int parse_errno(const char *s)
{
	char *end;
	long v;
	int e;

	if (strcmp(s, "any") == 0)
		return -1;
	e = lookup(errnos, s);
	if (e > 0)
		return e;
	v = strtol(s, &end, 0);
	if (*s && !*end && v > 0)
		return v;
	fprintf(stderr, "qvnl: unknown errno \"%s\"\n", s);
	exit(2);
}

struct msg {
	union {
		struct nlmsghdr nlh;
		unsigned char buf[MSG_MAX];
	};
};

static struct rtattr *put(struct msg *m, int type, const void *data, int len)
{
	int alen = RTA_LENGTH(len);
	struct rtattr *rta;

	if (alen > 0xffff ||
	    NLMSG_ALIGN(m->nlh.nlmsg_len) + RTA_ALIGN(alen) > MSG_MAX) {
		fprintf(stderr, "qvnl: attribute or message too long\n");
		exit(2);
	}
	rta = (struct rtattr *)(m->buf + NLMSG_ALIGN(m->nlh.nlmsg_len));
	rta->rta_type = type;
	rta->rta_len = alen;
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	m->nlh.nlmsg_len = NLMSG_ALIGN(m->nlh.nlmsg_len) + RTA_ALIGN(alen);
	return rta;
}

/* the attribute marked with '@' in a tree (its offset in the message) */
static int mark_offs = -1;

static void nest_end(struct msg *m, struct rtattr *nest)
{
	nest->rta_len = m->buf + m->nlh.nlmsg_len - (unsigned char *)nest;
}

static void tree_bad(const char *s)
{
	fprintf(stderr, "qvnl: bad tree at \"%s\"\n", s);
	exit(2);
}

static void tree_mark(struct msg *m, const struct rtattr *a)
{
	mark_offs = (int)((const unsigned char *)a - m->buf);
}

static const char *tree_node(struct msg *m, const char *s);

/* The members of a group whose '(' was read; returns after its ')' */
static const char *tree_group(struct msg *m, const char *s)
{
	static __u16 run[70000];
	bool mark = false, run_mark = false;
	struct rtattr *a;
	int n = 0;

	for (;;) {
		while (*s == ' ' || *s == ',')
			s++;
		if (*s == '@') {
			mark = true;
			s++;
		}
		if (isxdigit((unsigned char)*s)) {
			char *end;
			unsigned long lo = strtoul(s, &end, 16), hi = lo;

			if (*end == '-')
				hi = strtoul(end + 1, &end, 16);
			if ((*end && !strchr(" ,)|", *end)) || hi < lo ||
			    hi > 0xffff || hi - lo + n >= 70000)
				tree_bad(s);
			for (; lo <= hi; lo++)
				run[n++] = (__u16)lo;
			run_mark |= mark;
			mark = false;
			s = end;
			continue;
		}
		if (n) {
			a = put(m, TCA_QVISOR_NODE_TENANTS, run, 2 * n);
			if (run_mark)
				tree_mark(m, a);
			run_mark = false;
			n = 0;
		}
		if (*s == '|') {
			s++;
			continue;
		}
		if (*s == ')')
			return s + 1;
		if (!*s)
			tree_bad(s);
		a = put(m, TCA_QVISOR_NODE_CHILD | NLA_F_NESTED, NULL, 0);
		if (mark)
			tree_mark(m, a);
		mark = false;
		s = tree_node(m, s);
		nest_end(m, a);
	}
}

/* KIND(...) inside an open nest: the KIND attribute, then the members */
static const char *tree_node(struct msg *m, const char *s)
{
	static const struct name_val kinds[] = {
		{ "strict", QVISOR_NODE_STRICT },
		{ "prefer", QVISOR_NODE_PREFER },
		{ "share", QVISOR_NODE_SHARE },
		{ NULL, 0 }
	};
	const char *open = strchr(s, '(');
	char word[32];
	__u8 k;

	if (!open || open - s >= (int)sizeof(word))
		tree_bad(s);
	memcpy(word, s, open - s);
	word[open - s] = '\0';
	if (strcmp(word, "nokind") != 0) {
		if (strncmp(word, "kind", 4) == 0)
			k = (__u8)strtoul(word + 4, NULL, 0);
		else if (lookup(kinds, word) >= 0)
			k = (__u8)lookup(kinds, word);
		else
			tree_bad(s);
		put(m, TCA_QVISOR_NODE_KIND, &k, 1);
	}
	return tree_group(m, open + 1);
}

static void put_tree(struct msg *m, int attr, const char *val)
{
	struct rtattr *t = put(m, attr | NLA_F_NESTED, NULL, 0);

	while (*val == ' ')
		val++;
	if (*val == '@') {
		tree_mark(m, t);
		val++;
	}
	if (*val) {
		val = tree_node(m, val);
		while (*val == ' ')
			val++;
		if (*val)
			tree_bad(val);
	}
	nest_end(m, t);
}

static unsigned long long parse_num(const char *s)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (!*s || *end || errno) {
		fprintf(stderr, "qvnl: bad number \"%s\"\n", s);
		exit(2);
	}
	return v;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* TYPE:NAME=VALUE */
static void put_spec(struct msg *m, const struct name_val *names, char *spec)
{
	char *colon = strchr(spec, ':'), *eq, *name, *val, *type;
	static unsigned char buf[MSG_MAX];
	int attr, len, i;

	if (!colon)
		goto bad;
	*colon = '\0';
	type = spec;
	name = colon + 1;
	eq = strchr(name, '=');
	if (!eq)
		goto bad;
	*eq = '\0';
	val = eq + 1;
	attr = lookup(names, name);
	if (attr < 0)
		attr = parse_num(name);

	if (strcmp(type, "u8") == 0) {
		__u8 x = parse_num(val);

		put(m, attr, &x, sizeof(x));
	} else if (strcmp(type, "u16") == 0) {
		__u16 x = parse_num(val);

		put(m, attr, &x, sizeof(x));
	} else if (strcmp(type, "u32") == 0) {
		__u32 x = parse_num(val);

		put(m, attr, &x, sizeof(x));
	} else if (strcmp(type, "u64") == 0) {
		__u64 x = parse_num(val);

		put(m, attr, &x, sizeof(x));
	} else if (strcmp(type, "str") == 0) {
		put(m, attr, val, strlen(val) + 1);
	} else if (strcmp(type, "nonul") == 0) {
		put(m, attr, val, strlen(val));
	} else if (strcmp(type, "strpad") == 0) {
		char *text = strchr(val, ':');

		if (!text)
			goto bad;
		*text++ = '\0';
		len = parse_num(val);
		if (len < (int)strlen(text) || len + 1 > (int)sizeof(buf))
			goto bad;
		memset(buf, ' ', len);
		memcpy(buf, text, strlen(text));
		buf[len] = '\0';
		put(m, attr, buf, len + 1);
	} else if (strcmp(type, "tree") == 0) {
		put_tree(m, attr, val);
	} else if (strcmp(type, "hex") == 0) {
		len = strlen(val);
		if (len % 2 || len / 2 > (int)sizeof(buf))
			goto bad;
		for (i = 0; i < len / 2; i++) {
			int hi = hexval(val[2 * i]), lo = hexval(val[2 * i + 1]);

			if (hi < 0 || lo < 0)
				goto bad;
			buf[i] = hi << 4 | lo;
		}
		put(m, attr, buf, len / 2);
	} else {
		goto bad;
	}
	return;
bad:
	fprintf(stderr, "qvnl: bad attribute \"%s\" (TYPE:NAME=VALUE)\n", spec);
	exit(2);
}

/* recv() from the netlink socket; exit 2 on an error */
static ssize_t recv_or_exit(int fd, void *buf, size_t len)
{
	ssize_t n = recv(fd, buf, len, 0);

	if (n < 0) {
		perror("qvnl: recv");
		exit(2);
	}
	return n;
}
/* Send @m, read the ack; returns 0 or a positive errno, *msg the extack */
static int talk(struct msg *m, char *msg, size_t msglen, int *offs)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	static unsigned char rbuf[MSG_MAX + 4096];
	int fd, one = 1, err = 0;
	struct nlmsghdr *h;
	ssize_t n;

	*msg = '\0';
	*offs = -1;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0) {
		perror("qvnl: socket");
		exit(2);
	}
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	m->nlh.nlmsg_seq = 1;
	if (sendto(fd, m->buf, m->nlh.nlmsg_len, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0) {
		perror("qvnl: sendto");
		exit(2);
	}
	for (;;) {
		n = recv_or_exit(fd, rbuf, sizeof(rbuf));
		for (h = (struct nlmsghdr *)rbuf; NLMSG_OK(h, n);
		     h = NLMSG_NEXT(h, n)) {
			struct nlmsgerr *e = NLMSG_DATA(h);
			struct rtattr *a;
			int alen;

			if (h->nlmsg_type != NLMSG_ERROR)
				continue;
			err = -e->error;
			if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
				goto out;
			/* capped ack: the TLVs follow the request's header */
			a = (struct rtattr *)((char *)e + sizeof(*e));
			alen = h->nlmsg_len - NLMSG_HDRLEN - sizeof(*e);
			for (; RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
				if (a->rta_type == NLMSGERR_ATTR_MSG)
					snprintf(msg, msglen, "%.*s",
						 (int)RTA_PAYLOAD(a),
						 (char *)RTA_DATA(a));
				else if (a->rta_type == NLMSGERR_ATTR_OFFS &&
					 RTA_PAYLOAD(a) >= 4)
					*offs = *(__u32 *)RTA_DATA(a);
			}
			goto out;
		}
	}
out:
	close(fd);
	return err;
}

/* "queue N tier T [bound B] len L" (as tc -s) per TCA_QVISOR_QSTATS_QUEUE;
 * "?" for an attribute that is missing, bound only if sent
 */
static void print_qstats(struct rtattr *qs)
{
	int rem = RTA_PAYLOAD(qs), qrem, n = 0, k;
	struct rtattr *q, *a, *tb[TCA_QVISOR_QUEUE_MAX + 1];
	char v[TCA_QVISOR_QUEUE_MAX + 1][16];

	for (q = RTA_DATA(qs); RTA_OK(q, rem); q = RTA_NEXT(q, rem)) {
		if ((q->rta_type & ~NLA_F_NESTED) != TCA_QVISOR_QSTATS_QUEUE)
			continue;
		memset(tb, 0, sizeof(tb));
		qrem = RTA_PAYLOAD(q);
		for (a = RTA_DATA(q); RTA_OK(a, qrem); a = RTA_NEXT(a, qrem))
			if (a->rta_type <= TCA_QVISOR_QUEUE_MAX &&
			    RTA_PAYLOAD(a) == sizeof(__u32))
				tb[a->rta_type] = a;
		for (k = 0; k <= TCA_QVISOR_QUEUE_MAX; k++)
			if (tb[k])
				snprintf(v[k], sizeof(v[k]), "%u",
					 *(__u32 *)RTA_DATA(tb[k]));
			else
				snprintf(v[k], sizeof(v[k]), "?");
		printf("queue %d tier %s", n++, v[TCA_QVISOR_QUEUE_TIER]);
		if (tb[TCA_QVISOR_QUEUE_BOUND])
			printf(" bound %s", v[TCA_QVISOR_QUEUE_BOUND]);
		printf(" len %s\n", v[TCA_QVISOR_QUEUE_LEN]);
	}
}

/* qvnl qstats DEV: dump the root qdisc of DEV and print its
 * TCA_QVISOR_QSTATS as the module sent it (attributes in their order);
 * exit 1 if the qdisc has none
 */
static int qstats(int ifindex)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	static unsigned char rbuf[65536];
	struct {
		struct nlmsghdr nlh;
		struct tcmsg t;
	} req = {
		.nlh.nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg)),
		.nlh.nlmsg_type = RTM_GETQDISC,
		.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		.nlh.nlmsg_seq = 1,
		.t.tcm_family = AF_UNSPEC,
	};
	int fd, found = 0, len, rem;
	struct rtattr *a, *o;
	struct nlmsghdr *h;
	struct tcmsg *t;
	ssize_t n;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0 || sendto(fd, &req, req.nlh.nlmsg_len, 0,
			     (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("qvnl: qstats");
		exit(2);
	}
	for (;;) {
		n = recv_or_exit(fd, rbuf, sizeof(rbuf));
		for (h = (struct nlmsghdr *)rbuf; NLMSG_OK(h, n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE ||
			    h->nlmsg_type == NLMSG_ERROR)
				goto out;
			t = NLMSG_DATA(h);
			if (h->nlmsg_type != RTM_NEWQDISC ||
			    t->tcm_ifindex != ifindex ||
			    t->tcm_parent != TC_H_ROOT)
				continue;
			len = h->nlmsg_len - NLMSG_LENGTH(sizeof(*t));
			for (a = TCA_RTA(t); RTA_OK(a, len);
			     a = RTA_NEXT(a, len)) {
				if ((a->rta_type & ~NLA_F_NESTED) != TCA_OPTIONS)
					continue;
				rem = RTA_PAYLOAD(a);
				for (o = RTA_DATA(a); RTA_OK(o, rem);
				     o = RTA_NEXT(o, rem))
					if ((o->rta_type & ~NLA_F_NESTED) ==
					    TCA_QVISOR_QSTATS) {
						print_qstats(o);
						found = 1;
					}
			}
		}
	}
out:
	close(fd);
	if (!found)
		printf("qvnl: no TCA_QVISOR_QSTATS\n");
	return found ? 0 : 1;
}

int main(int argc, char **argv)
{
	int expect_err = 0, truncate = 0, offs, err, i, ifindex;
	bool no_nested = false, no_options = false;
	const char *expect_msg = NULL, *kind = "qvisor";
	const struct name_val *names;
	unsigned int major = 1, minor = 0;
	static struct msg m;
	struct rtattr *opts = NULL;
	char kmsg[4096];
	struct tcmsg *t;
	bool is_class;
	const char *op;
	bool ok;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--expect-ok") == 0) {
			expect_err = 0;
		} else if (strcmp(argv[i], "--expect-error") == 0 && i + 1 < argc) {
			expect_err = parse_errno(argv[++i]);
		} else if (strcmp(argv[i], "--expect-msg") == 0 && i + 1 < argc) {
			expect_msg = argv[++i];
		} else if (strcmp(argv[i], "--handle") == 0 && i + 1 < argc) {
			major = strtoul(argv[++i], NULL, 16);
		} else if (strcmp(argv[i], "--kind") == 0 && i + 1 < argc) {
			kind = argv[++i];
		} else if (strcmp(argv[i], "--no-nested") == 0) {
			no_nested = true;
		} else if (strcmp(argv[i], "--no-options") == 0) {
			no_options = true;
		} else if (strcmp(argv[i], "--truncate") == 0 && i + 1 < argc) {
			truncate = parse_num(argv[++i]);
		} else if (strcmp(argv[i], "-q") == 0) {
			quiet = true;
		} else {
			usage();
		}
	}
	if (argc - i == 2 && strcmp(argv[i], "qstats") == 0) {
		ifindex = if_nametoindex(argv[i + 1]);
		if (!ifindex) {
			fprintf(stderr, "qvnl: no device \"%s\"\n", argv[i + 1]);
			return 2;
		}
		return qstats(ifindex);
	}
	if (argc - i < 3)
		usage();
	if (strcmp(argv[i], "qdisc") == 0)
		is_class = false;
	else if (strcmp(argv[i], "class") == 0)
		is_class = true;
	else
		usage();
	op = argv[i + 1];
	ifindex = if_nametoindex(argv[i + 2]);
	if (!ifindex) {
		fprintf(stderr, "qvnl: no device \"%s\"\n", argv[i + 2]);
		return 2;
	}
	i += 3;
	if (is_class) {
		if (i >= argc)
			usage();
		minor = strtoul(argv[i++], NULL, 16);
	}

	m.nlh.nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg));
	m.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	if (strcmp(op, "add") == 0)
		m.nlh.nlmsg_flags |= NLM_F_CREATE | NLM_F_EXCL;
	else if (strcmp(op, "replace") == 0 && !is_class)
		m.nlh.nlmsg_flags |= NLM_F_CREATE | NLM_F_REPLACE;
	else if (strcmp(op, "delete") == 0 && is_class)
		;
	else if (strcmp(op, "change") != 0)
		usage();
	t = NLMSG_DATA(&m.nlh);
	t->tcm_family = AF_UNSPEC;
	t->tcm_ifindex = ifindex;
	if (is_class) {
		m.nlh.nlmsg_type = strcmp(op, "delete") == 0 ? RTM_DELTCLASS :
				   RTM_NEWTCLASS;
		t->tcm_parent = TC_H_MAKE(major << 16, 0);
		t->tcm_handle = TC_H_MAKE(major << 16, minor);
		names = class_attrs;
	} else {
		m.nlh.nlmsg_type = RTM_NEWQDISC;
		t->tcm_parent = TC_H_ROOT;
		t->tcm_handle = TC_H_MAKE(major << 16, 0);
		names = qdisc_attrs;
	}
	if (m.nlh.nlmsg_type != RTM_DELTCLASS)
		put(&m, TCA_KIND, kind, strlen(kind) + 1);

	if (!no_options && m.nlh.nlmsg_type != RTM_DELTCLASS) {
		opts = put(&m, TCA_OPTIONS | (no_nested ? 0 : NLA_F_NESTED),
			   NULL, 0);
		for (; i < argc; i++)
			put_spec(&m, names, argv[i]);
		opts->rta_len = m.buf + m.nlh.nlmsg_len - (unsigned char *)opts;
		if (truncate) {
			if (truncate >= (int)(opts->rta_len - RTA_LENGTH(0))) {
				fprintf(stderr, "qvnl: --truncate %d too large\n",
					truncate);
				return 2;
			}
			opts->rta_len -= truncate;
			m.nlh.nlmsg_len -= truncate;
		}
	} else if (i < argc) {
		usage();
	}

	err = talk(&m, kmsg, sizeof(kmsg), &offs);
	if (!quiet) {
		if (err)
			printf("qvnl: kernel: %s (%s)", errno_name(err),
			       strerror(err));
		else
			printf("qvnl: kernel: ok");
		if (*kmsg)
			printf(" \"%s\"", kmsg);
		if (offs >= 0)
			printf(" [attribute at offset %d]", offs);
		printf("\n");
	}

	if (expect_err == 0)
		ok = err == 0;
	else if (expect_err < 0)
		ok = err != 0;
	else
		ok = err == expect_err;
	if (ok && expect_msg && !strstr(kmsg, expect_msg))
		ok = false;
	if (!ok) {
		printf("qvnl: MISMATCH: expected %s%s%s%s, got %s \"%s\"\n",
		       expect_err == 0 ? "success" :
		       expect_err < 0 ? "an error" : errno_name(expect_err),
		       expect_msg ? " with message containing \"" : "",
		       expect_msg ? expect_msg : "", expect_msg ? "\"" : "",
		       err ? errno_name(err) : "ok", kmsg);
		return 1;
	}
	if (err && mark_offs >= 0 && offs != mark_offs) {
		printf("qvnl: MISMATCH: the extack points at offset %d, not at the attribute marked '@' (offset %d)\n",
		       offs, mark_offs);
		return 1;
	}
	return 0;
}
