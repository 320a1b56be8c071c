// SPDX-License-Identifier: GPL-2.0-only
/*
 * qvsend: UDP sender for qvisor tests.
 *
 *   qvsend -d ADDR [-l LEN] [-b BASE] [-B LEN] SPEC
 *   qvsend -d ADDR [-l LEN] [-b BASE] -t SECONDS [-r PPS] [-S SEED] SPEC
 *
 * SPEC is a comma-separated list of items PORT:KIND=RANK[xCOUNT] (or "-"
 * or "@FILE" to read items, separated by commas, spaces or newlines, from
 * stdin or FILE).  KIND says how the rank is put on the packet:
 *   prio  SO_PRIORITY = RANK            (qvisor "rank prio")
 *   mark  SO_MARK = RANK                (qvisor "rank mark")
 *   dscp  IP_TOS = RANK << 2            (qvisor "rank dscp")
 *   tos   IP_TOS = RANK, rank is RANK >> 2 in the payload
 *   none  nothing set, rank 0
 * (dscp and tos set IPV6_TCLASS when ADDR is an IPv6 address).
 *
 * Sequence mode (no -t): the items are sent once each, back to back, in
 * the order given (xCOUNT repeats an item).  With -B LEN a "blocker"
 * packet of LEN payload bytes (flagged, sequence number 0, tenant 0) is
 * sent first to port BASE without any rank option, to occupy a throttled
 * link while the rest queue up.  Packets are numbered 1, 2, ...
 * With -f the blocker goes on the first item's socket instead (its
 * port, and the same 5-tuple: the same multipath route as that flow).
 *
 * Flood mode (-t SECONDS): every item is a flow; RANK may be a range
 * LO-HI, drawn uniformly per packet.  Each flow sends PPS packets per
 * second (-r, 0 = as fast as possible) for SECONDS, then a summary line
 * "flood PORT sent N errors E" per flow goes to stderr.
 *
 * With -G SEGS (sequence mode) every packet is one UDP GSO datagram
 * (UDP_SEGMENT) of SEGS segments of LEN bytes, each segment with its own
 * header and sequence number, so that the qdisc gets a GSO packet to
 * split.  IP_RECVERR is set then: a send fails with ENOBUFS when the
 * qdisc reports the datagram dropped (NET_XMIT_DROP).
 *
 * With -D DSCP every socket's IP_TOS (IPV6_TCLASS) is DSCP << 2 (the
 * blocker's too), so that a filter can tell the sender's packets apart
 * whatever carries their rank (items of kind dscp or tos set it
 * themselves).
 *
 * With -s SPORT the socket of destination port PORT is bound to source
 * port SPORT + PORT - BASE, so that a flow (a 5-tuple, as the qdisc's
 * flow hash sees it) stays the same across runs of qvsend.
 *
 * Every payload (LEN bytes, default 64, at least the header) starts with
 * struct qv_payload (network byte order): magic, sequence number, tenant
 * (PORT - BASE, BASE default 5000), rank, flags, and the send time
 * (CLOCK_REALTIME in ns, the clock of the receiver's SO_TIMESTAMPNS, high
 * and low 32 bits).  qvrecv reads them.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define QV_MAGIC	0x51565331u	/* "QVS1" */
#define QV_F_BLOCKER	1u
#define MAX_ITEMS	4096
#define MAX_LEN		65000
#define MAX_SEGS	64	/* UDP_MAX_SEGMENTS */

struct qv_payload {
	uint32_t magic;
	uint32_t seq;
	uint32_t tenant;
	uint32_t rank;
	uint32_t flags;
	uint32_t sent_hi, sent_lo;	/* ns, CLOCK_REALTIME */
};

enum kind { K_NONE, K_PRIO, K_MARK, K_DSCP, K_TOS };

struct item {
	uint16_t port;
	enum kind kind;
	uint32_t lo, hi;	/* value to set (range in flood mode) */
	uint32_t count;
	int fd;
	unsigned long sent, errors;
	double next;		/* flood: next send time */
};

static struct item items[MAX_ITEMS];
static int nitems;
static struct sockaddr_storage dst;	/* -d: IPv4 or IPv6 */
static socklen_t dst_len;
static unsigned int base_port = 5000;
static unsigned int src_port;	/* -s: 0 = any */
static unsigned int gso_segs = 1;	/* -G */
static int blocker_first;	/* -f */
static int dscp = -1;		/* -D */

static void usage(void)
{
	fprintf(stderr,
		"usage: qvsend -d ADDR [-l LEN] [-b BASE] [-B BLOCKLEN [-f]] [-s SPORT] [-G SEGS] SPEC\n"
		"       qvsend -d ADDR [-l LEN] [-b BASE] -t SECONDS [-r PPS] [-S SEED] SPEC\n"
		"       (both: [-D DSCP] on every packet)\n"
		"SPEC: PORT:KIND=RANK[xCOUNT],...  KIND: prio|mark|dscp|tos|none\n"
		"      (flood mode: RANK may be LO-HI), \"-\" or @FILE reads items\n");
	exit(2);
}

static int parse_kind(const char *s, size_t n, enum kind *k)
{
	static const struct { const char *name; enum kind k; } tab[] = {
		{ "prio", K_PRIO }, { "mark", K_MARK }, { "dscp", K_DSCP },
		{ "tos", K_TOS }, { "none", K_NONE },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strlen(tab[i].name) == n && !strncmp(s, tab[i].name, n)) {
			*k = tab[i].k;
			return 0;
		}
	return -1;
}

static unsigned long num(const char *s, char **end)
{
	errno = 0;
	return strtoul(s, end, 0);
}

/* PORT:KIND=RANK[-HI][xCOUNT] */
static void parse_item(const char *tok)
{
	struct item *it;
	const char *eq, *colon;
	char *end;
	unsigned long v;

	if (nitems >= MAX_ITEMS) {
		fprintf(stderr, "qvsend: too many items\n");
		exit(2);
	}
	it = &items[nitems];
	memset(it, 0, sizeof(*it));
	it->count = 1;
	it->fd = -1;
	v = num(tok, &end);
	colon = end;
	if (end == tok || *colon != ':' || v == 0 || v > 65535)
		goto bad;
	it->port = (uint16_t)v;
	eq = strchr(colon, '=');
	if (!eq) {
		if (parse_kind(colon + 1, strlen(colon + 1), &it->kind) ||
		    it->kind != K_NONE)
			goto bad;
		nitems++;
		return;
	}
	if (parse_kind(colon + 1, (size_t)(eq - colon - 1), &it->kind))
		goto bad;
	v = num(eq + 1, &end);
	if (end == eq + 1 || errno || v > UINT32_MAX)
		goto bad;
	it->lo = it->hi = (uint32_t)v;
	if (*end == '-') {
		const char *p = end + 1;

		v = num(p, &end);
		if (end == p || errno || v > UINT32_MAX || v < it->lo)
			goto bad;
		it->hi = (uint32_t)v;
	}
	if (*end == 'x') {
		const char *p = end + 1;

		v = num(p, &end);
		if (end == p || errno || v == 0 || v > 1000000)
			goto bad;
		it->count = (uint32_t)v;
	}
	if (*end)
		goto bad;
	if ((it->kind == K_DSCP && it->hi > 63) ||
	    (it->kind == K_TOS && it->hi > 255))
		goto bad;
	nitems++;
	return;
bad:
	fprintf(stderr, "qvsend: bad item \"%s\"\n", tok);
	exit(2);
}

static void parse_spec_text(char *s)
{
	char *tok, *save = NULL;

	for (tok = strtok_r(s, ", \t\r\n", &save); tok;
	     tok = strtok_r(NULL, ", \t\r\n", &save))
		parse_item(tok);
}

static void parse_spec(const char *spec)
{
	FILE *f = NULL;
	char *buf = NULL;
	size_t len = 0;

	if (!strcmp(spec, "-"))
		f = stdin;
	else if (spec[0] == '@')
		f = fopen(spec + 1, "r");
	if (f || spec[0] == '@') {
		ssize_t n;
		size_t cap = 0;
		char *line = NULL;

		if (!f) {
			perror(spec + 1);
			exit(2);
		}
		while ((n = getline(&line, &cap, f)) > 0) {
			buf = realloc(buf, len + (size_t)n + 2);
			if (!buf) {
				perror("realloc");
				exit(1);
			}
			memcpy(buf + len, line, (size_t)n);
			len += (size_t)n;
			buf[len++] = ' ';
			buf[len] = 0;
		}
		free(line);
		if (f != stdin)
			fclose(f);
		if (!buf)
			return;
	} else {
		buf = strdup(spec);
		if (!buf) {
			perror("strdup");
			exit(1);
		}
	}
	parse_spec_text(buf);
	free(buf);
}

/* IP_TOS, or IPV6_TCLASS on an IPv6 socket */
static int set_tos(int fd, int tos)
{
	if (dst.ss_family == AF_INET6)
		return setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
	return setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
}

/* gso_len: with -G the segment size (LEN), else 0 */
static int open_sock(size_t gso_len)
{
	int fd = socket(dst.ss_family, SOCK_DGRAM, 0);
	int sz = 4 << 20;

	if (fd < 0) {
		perror("socket");
		exit(1);
	}
	if (dscp >= 0 && set_tos(fd, dscp << 2)) {
		perror("qvsend: -D");
		exit(1);
	}
	/* Large send buffer: let the qdisc, not the socket, hold the backlog */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (gso_len) {
		int seg = (int)gso_len, one = 1;

		if (setsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, &seg, sizeof(seg)) ||
		    (dst.ss_family == AF_INET6 ?
		     setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one)) :
		     setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one)))) {
			perror("qvsend: UDP_SEGMENT");
			exit(1);
		}
	}
	return fd;
}

/* The port of an IPv4 or IPv6 socket address */
static void set_port(struct sockaddr_storage *a, unsigned int port)
{
	if (a->ss_family == AF_INET6)
		((struct sockaddr_in6 *)a)->sin6_port = htons((uint16_t)port);
	else
		((struct sockaddr_in *)a)->sin_port = htons((uint16_t)port);
}

/* -s: a fixed source port, shared by the sockets of one destination */
static void bind_src(int fd, unsigned int port)
{
	struct sockaddr_storage a = { .ss_family = dst.ss_family };
	int one = 1;

	set_port(&a, port);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (port > 65535 || bind(fd, (struct sockaddr *)&a, dst_len)) {
		fprintf(stderr, "qvsend: bind to source port %u: %s\n", port,
			strerror(errno));
		exit(1);
	}
}

/* One socket per (port, kind): reuse one already opened */
static void open_sockets(size_t gso_len)
{
	int i, j;

	for (i = 0; i < nitems; i++) {
		for (j = 0; j < i; j++)
			if (items[j].port == items[i].port &&
			    items[j].kind == items[i].kind)
				break;
		items[i].fd = j < i ? items[j].fd : open_sock(gso_len);
		if (j == i && src_port)
			bind_src(items[i].fd, src_port + items[i].port - base_port);
	}
}

/* Put the rank on the socket; returns the rank as qvisor will see it */
static uint32_t set_rank(const struct item *it, uint32_t v)
{
	int iv = (int)v, rc = 0;

	switch (it->kind) {
	case K_PRIO:
		rc = setsockopt(it->fd, SOL_SOCKET, SO_PRIORITY, &iv, sizeof(iv));
		break;
	case K_MARK:
		rc = setsockopt(it->fd, SOL_SOCKET, SO_MARK, &iv, sizeof(iv));
		break;
	case K_DSCP:
		rc = set_tos(it->fd, (int)(v << 2));
		break;
	case K_TOS:
		rc = set_tos(it->fd, iv);
		v >>= 2;
		break;
	case K_NONE:
		v = 0;
		break;
	}
	if (rc) {
		perror("setsockopt");
		exit(1);
	}
	return v;
}

/* Send a packet of len bytes, or with segs > 1 a GSO datagram of segs
 * segments of len bytes with sequence numbers seq, seq + 1, ...
 */
static int send_one(const struct item *it, unsigned char *buf, size_t len,
		    unsigned int segs, uint32_t seq, uint32_t rank,
		    uint32_t flags, int dontwait)
{
	struct sockaddr_storage to = dst;
	struct timespec now;
	uint64_t ns;
	unsigned int k;

	clock_gettime(CLOCK_REALTIME, &now);
	ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	for (k = 0; k < segs; k++) {
		struct qv_payload *p = (struct qv_payload *)(buf + k * len);

		p->magic = htonl(QV_MAGIC);
		p->seq = htonl(seq + k);
		p->tenant = htonl(it->port >= base_port ? it->port - base_port : it->port);
		p->rank = htonl(rank);
		p->flags = htonl(flags);
		p->sent_hi = htonl((uint32_t)(ns >> 32));
		p->sent_lo = htonl((uint32_t)ns);
	}
	set_port(&to, it->port);
	if (sendto(it->fd, buf, len * segs, dontwait ? MSG_DONTWAIT : 0,
		   (struct sockaddr *)&to, dst_len) < 0)
		return -1;
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
	struct timespec ts;

	ts.tv_sec = (time_t)t;
	ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* xorshift64*: uniform enough for rank draws */
static uint64_t rng_state = 88172645463325252ull;

static uint32_t rnd_range(uint32_t lo, uint32_t hi)
{
	uint64_t x = rng_state, span = (uint64_t)hi - lo + 1;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return lo + (uint32_t)(((x * 2685821657736338717ull) >> 11) % span);
}

static int run_sequence(unsigned char *buf, size_t len, size_t blocker)
{
	uint32_t seq = 1, k;
	int i, fail = 0;

	if (blocker) {
		struct item b = { .port = (uint16_t)base_port, .kind = K_NONE };
		unsigned char *big = calloc(1, blocker);

		if (blocker_first)
			b = items[0];	/* its rank is set per packet, none yet */
		else
			b.fd = open_sock(0);
		if (!big || send_one(&b, big, blocker, 1, 0, 0, QV_F_BLOCKER, 0)) {
			perror("qvsend: blocker");
			return 1;
		}
		free(big);
		if (!blocker_first)
			close(b.fd);
	}
	for (i = 0; i < nitems; i++) {
		struct item *it = &items[i];

		for (k = 0; k < it->count; k++) {
			uint32_t rank = set_rank(it, it->lo);

			if (send_one(it, buf, len, gso_segs, seq, rank, 0, 0)) {
				fprintf(stderr, "qvsend: send to %u: %s\n",
					it->port, strerror(errno));
				fail = 1;
			}
			seq += gso_segs;
		}
	}
	return fail;
}

static int run_flood(unsigned char *buf, size_t len, double secs, double pps)
{
	double t0 = now_s(), end = t0 + secs, t, gap = pps > 0 ? 1.0 / pps : 0;
	uint32_t seq = 1;
	int i;

	for (i = 0; i < nitems; i++)
		items[i].next = t0 + gap * i / nitems;
	for (;;) {
		struct item *it = &items[0];

		/* the flow whose next packet is due first */
		for (i = 1; i < nitems; i++)
			if (items[i].next < it->next)
				it = &items[i];
		if (gap > 0) {
			if (it->next >= end)
				break;
			t = now_s();
			if (it->next > t)
				sleep_until(it->next);
		} else if (now_s() >= end) {
			break;
		}
		if (send_one(it, buf, len, 1, seq++,
			     set_rank(it, rnd_range(it->lo, it->hi)), 0, 1))
			it->errors++;
		else
			it->sent++;
		it->next += gap > 0 ? gap : 1e-9;
		/* fell far behind (a stall): do not burst to catch up */
		if (gap > 0 && it->next < now_s() - 0.05)
			it->next = now_s();
	}
	for (i = 0; i < nitems; i++)
		fprintf(stderr, "flood %u sent %lu errors %lu\n", items[i].port,
			items[i].sent, items[i].errors);
	return 0;
}

/* -d ADDR: an IPv4 or IPv6 address */
static void parse_dst(const char *s)
{
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&dst;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&dst;

	memset(&dst, 0, sizeof(dst));
	if (inet_pton(AF_INET, s, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		dst_len = sizeof(*a4);
	} else if (inet_pton(AF_INET6, s, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		dst_len = sizeof(*a6);
	} else {
		fprintf(stderr, "qvsend: -d %s: not an IPv4 or IPv6 address\n", s);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	double secs = 0, pps = 0;
	size_t len = 64, blocker = 0;
	unsigned char *buf;
	int c;

	while ((c = getopt(argc, argv, "d:l:b:B:fD:t:r:S:s:G:h")) != -1) {
		switch (c) {
		case 'd':
			parse_dst(optarg);
			break;
		case 'l':
			len = strtoul(optarg, NULL, 0);
			break;
		case 'b':
			base_port = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'B':
			blocker = strtoul(optarg, NULL, 0);
			break;
		case 'f':
			blocker_first = 1;
			break;
		case 'D':
			dscp = (int)strtol(optarg, NULL, 0);
			if (dscp < 0 || dscp > 63)
				usage();
			break;
		case 't':
			secs = strtod(optarg, NULL);
			break;
		case 'r':
			pps = strtod(optarg, NULL);
			break;
		case 'S':
			rng_state = strtoull(optarg, NULL, 0) | 1;
			break;
		case 's':
			src_port = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'G':
			gso_segs = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		default:
			usage();
		}
	}
	if (!dst_len || optind != argc - 1)
		usage();
	if (len < sizeof(struct qv_payload))
		len = sizeof(struct qv_payload);
	if (len > MAX_LEN || blocker > MAX_LEN)
		usage();
	if (gso_segs < 1 || gso_segs > MAX_SEGS || len * gso_segs > MAX_LEN ||
	    (gso_segs > 1 && secs > 0)) {
		fprintf(stderr, "qvsend: -G needs sequence mode, 1..%d segments, SEGS x LEN <= %d\n",
			MAX_SEGS, MAX_LEN);
		return 2;
	}
	if (blocker && blocker < sizeof(struct qv_payload))
		blocker = sizeof(struct qv_payload);
	parse_spec(argv[optind]);
	if (!nitems)
		usage();
	open_sockets(gso_segs > 1 ? len : 0);
	buf = calloc(gso_segs, len);
	if (!buf) {
		perror("calloc");
		return 1;
	}
	if (secs > 0)
		return run_flood(buf, len, secs, pps);
	return run_sequence(buf, len, blocker);
}
