// SPDX-License-Identifier: GPL-2.0-only
/*
 * qvrecv: UDP receiver for qvisor tests (pairs with qvsend).
 *
 *   qvrecv -p PORT[,PORT...] [-n COUNT] [-i IDLE_MS] [-b BASE] [-r FILE] [-v]
 *   qvrecv -p PORT[,PORT...] -w SECONDS [-r FILE]
 *
 * Order mode (default): receives on every PORT and, when COUNT packets
 * (blockers not counted) have arrived or nothing arrived for IDLE_MS
 * (default 3000, also before the first packet), prints one line per
 * packet in arrival order:
 *	SEQ TENANT RANK
 * Arrival order is the kernel receive timestamp (SO_TIMESTAMPNS), so it is
 * exact across ports.  Blocker packets (see qvsend -B) are left out unless
 * -v is given (then they print as "SEQ TENANT RANK blocker").  Packets
 * that are not qvsend payloads print as "? PORT LEN".  Exit status 0 if
 * COUNT packets arrived (or no COUNT was given), 1 otherwise.
 *
 * Throughput mode (-w): counts packets and bytes (UDP payload) per port
 * for SECONDS from the first packet and prints one line per port:
 *	PORT BYTES PACKETS GAP_MEAN GAP_SD DELAY_MEAN DUE MET
 * GAP_MEAN and GAP_SD are the mean and standard deviation of the time
 * between consecutive packets of the port (us; Lee et al.'s inter-packet
 * delay), DELAY_MEAN the mean one-way delay of qvsend payloads (us, from
 * the send time in the payload; sender and receiver must share a clock,
 * as namespaces of one machine do), DUE the payloads with a non-zero
 * rank and MET those of them that arrived within their rank in us (the
 * rank read as a deadline budget, as "rank edf ... mark_budget" does).
 *
 * -r FILE is created once every socket is bound (a readiness signal).
 * The sockets take IPv4 and IPv6 (dual-stack; IPv4 only where the
 * kernel has no IPv6).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define QV_MAGIC	0x51565331u
#define QV_F_BLOCKER	1u
#define MAX_PORTS	64
#define BUFLEN		65536

struct qv_payload {
	uint32_t magic;
	uint32_t seq;
	uint32_t tenant;
	uint32_t rank;
	uint32_t flags;
	uint32_t sent_hi, sent_lo;	/* ns, CLOCK_REALTIME */
};

struct rec {
	uint64_t ts;		/* ns, kernel receive time */
	uint32_t seq, tenant, rank, flags;
	uint16_t port;
	uint16_t valid;
	uint32_t len;
};

struct port {
	uint16_t port;
	int fd;
	unsigned long long bytes, pkts;
	/* -w: gaps between packets, one-way delays, deadlines (us) */
	uint64_t last;
	double gap_sum, gap_sq, delay_sum;
	unsigned long long gaps, delays, due, met;
};

static struct port ports[MAX_PORTS];
static int nports;

static void usage(void)
{
	fprintf(stderr,
		"usage: qvrecv -p PORT[,PORT...] [-n COUNT] [-i IDLE_MS] [-r FILE] [-v]\n"
		"       qvrecv -p PORT[,PORT...] -w SECONDS [-r FILE]\n");
	exit(2);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);	/* the clock of SO_TIMESTAMPNS */
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void parse_ports(char *s)
{
	char *tok, *save = NULL, *end;
	unsigned long v;

	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		v = strtoul(tok, &end, 0);
		if (*end || !v || v > 65535 || nports >= MAX_PORTS)
			usage();
		ports[nports++].port = (uint16_t)v;
	}
}

/* A UDP socket bound to @port on every address: dual-stack, or IPv4
 * where the kernel has no IPv6
 */
static int bind_any(uint16_t port)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0), zero = 0;

	if (fd >= 0) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		a6.sin6_port = htons(port);
		if (bind(fd, (struct sockaddr *)&a6, sizeof(a6)))
			return -1;
		return fd;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		perror("socket");
		exit(1);
	}
	a4.sin_port = htons(port);
	if (bind(fd, (struct sockaddr *)&a4, sizeof(a4)))
		return -1;
	return fd;
}

static void open_ports(void)
{
	int i, one = 1, sz = 8 << 20;

	for (i = 0; i < nports; i++) {
		int fd = bind_any(ports[i].port);

		if (fd < 0) {
			fprintf(stderr, "qvrecv: bind %u: %s\n", ports[i].port,
				strerror(errno));
			exit(1);
		}
		setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)))
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
		ports[i].fd = fd;
	}
}

/* Receive one datagram from @fd; returns its length or -1 */
static ssize_t recv_one(int fd, unsigned char *buf, uint64_t *ts)
{
	char ctl[CMSG_SPACE(sizeof(struct timespec))];
	struct iovec iov = { .iov_base = buf, .iov_len = BUFLEN };
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl, .msg_controllen = sizeof(ctl),
	};
	struct cmsghdr *c;
	ssize_t n;

	n = recvmsg(fd, &m, 0);
	if (n < 0)
		return -1;
	*ts = now_ns();
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec t;

			memcpy(&t, CMSG_DATA(c), sizeof(t));
			*ts = (uint64_t)t.tv_sec * 1000000000ull +
			      (uint64_t)t.tv_nsec;
		}
	}
	return n;
}

static int cmp_rec(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return 0;
}

static int poll_all(int timeout_ms)
{
	struct pollfd pfd[MAX_PORTS];
	int i;

	for (i = 0; i < nports; i++) {
		pfd[i].fd = ports[i].fd;
		pfd[i].events = POLLIN;
	}
	return poll(pfd, (nfds_t)nports, timeout_ms);
}

static int order_mode(long count, int idle_ms, int verbose)
{
	unsigned char *buf = malloc(BUFLEN);
	struct rec *r = NULL;
	size_t n = 0, cap = 0, i;
	long got = 0;
	int p;

	if (!buf) {
		perror("malloc");
		return 1;
	}
	while (count <= 0 || got < count) {
		int progress = 0;

		for (p = 0; p < nports; p++) {
			uint64_t ts;
			ssize_t len;

			while ((len = recv_one(ports[p].fd, buf, &ts)) >= 0) {
				const struct qv_payload *q = (const void *)buf;
				struct rec *e;

				progress = 1;
				if (n == cap) {
					cap = cap ? cap * 2 : 256;
					r = realloc(r, cap * sizeof(*r));
					if (!r) {
						perror("realloc");
						return 1;
					}
				}
				e = &r[n++];
				memset(e, 0, sizeof(*e));
				e->ts = ts;
				e->port = ports[p].port;
				e->len = (uint32_t)len;
				if ((size_t)len >= sizeof(*q) &&
				    ntohl(q->magic) == QV_MAGIC) {
					e->valid = 1;
					e->seq = ntohl(q->seq);
					e->tenant = ntohl(q->tenant);
					e->rank = ntohl(q->rank);
					e->flags = ntohl(q->flags);
				}
				if (!(e->valid && (e->flags & QV_F_BLOCKER)))
					got++;
			}
		}
		if (progress)
			continue;
		if (poll_all(idle_ms) <= 0)
			break;
	}
	qsort(r, n, sizeof(*r), cmp_rec);
	for (i = 0; i < n; i++) {
		if (!r[i].valid)
			printf("? %u %u\n", r[i].port, r[i].len);
		else if (r[i].flags & QV_F_BLOCKER) {
			if (verbose)
				printf("%u %u %u blocker\n", r[i].seq,
				       r[i].tenant, r[i].rank);
		} else
			printf("%u %u %u\n", r[i].seq, r[i].tenant, r[i].rank);
	}
	fflush(stdout);
	free(r);
	free(buf);
	if (count > 0 && got < count) {
		fprintf(stderr, "qvrecv: %ld of %ld packets\n", got, count);
		return 1;
	}
	return 0;
}

/* -w: count one packet of @len bytes that arrived at @ts on @pt */
static void rate_note(struct port *pt, const unsigned char *buf, size_t len,
		      uint64_t ts)
{
	const struct qv_payload *q = (const void *)buf;

	pt->bytes += len;
	pt->pkts++;
	if (pt->last && ts >= pt->last) {
		double g = (double)(ts - pt->last) / 1e3;

		pt->gap_sum += g;
		pt->gap_sq += g * g;
		pt->gaps++;
	}
	pt->last = ts;
	if (len >= sizeof(*q) && ntohl(q->magic) == QV_MAGIC) {
		uint64_t sent = (uint64_t)ntohl(q->sent_hi) << 32 |
				ntohl(q->sent_lo);
		double d = ts > sent ? (double)(ts - sent) / 1e3 : 0;
		uint32_t budget = ntohl(q->rank);

		pt->delay_sum += d;
		pt->delays++;
		if (budget) {
			pt->due++;
			pt->met += d <= budget;
		}
	}
}

static void rate_print(const struct port *pt)
{
	double n = pt->gaps ? (double)pt->gaps : 1, mean = pt->gap_sum / n;
	double var = pt->gap_sq / n - mean * mean;

	printf("%u %llu %llu %.1f %.1f %.1f %llu %llu\n", pt->port, pt->bytes,
	       pt->pkts, mean, var > 0 ? sqrt(var) : 0,
	       pt->delays ? pt->delay_sum / (double)pt->delays : 0, pt->due,
	       pt->met);
}

static int rate_mode(double secs)
{
	unsigned char *buf = malloc(BUFLEN);
	uint64_t start = 0, end = 0;
	int p;

	if (!buf) {
		perror("malloc");
		return 1;
	}
	for (;;) {
		uint64_t now = now_ns();
		int wait_ms;

		if (start && now >= end)
			break;
		wait_ms = start ? (int)((end - now) / 1000000) + 1 : 60000;
		if (poll_all(wait_ms) < 0 && errno != EINTR)
			break;
		for (p = 0; p < nports; p++) {
			uint64_t ts;
			ssize_t len;

			while ((len = recv_one(ports[p].fd, buf, &ts)) >= 0) {
				if (!start) {
					start = ts;
					end = start + (uint64_t)(secs * 1e9);
				}
				if (ts >= end)
					continue;
				rate_note(&ports[p], buf, (size_t)len, ts);
			}
		}
		if (!start && now_ns() > now + 59000000000ull)
			break;		/* nothing for a minute */
	}
	for (p = 0; p < nports; p++)
		rate_print(&ports[p]);
	fflush(stdout);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	const char *ready = NULL;
	double window = 0;
	long count = 0;
	int c, idle_ms = 3000, verbose = 0;

	while ((c = getopt(argc, argv, "p:n:i:w:r:b:vh")) != -1) {
		switch (c) {
		case 'p':
			parse_ports(optarg);
			break;
		case 'n':
			count = strtol(optarg, NULL, 0);
			break;
		case 'i':
			idle_ms = atoi(optarg);
			break;
		case 'w':
			window = strtod(optarg, NULL);
			break;
		case 'r':
			ready = optarg;
			break;
		case 'b':	/* accepted for symmetry with qvsend */
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (!nports || optind != argc)
		usage();
	open_ports();
	if (ready) {
		FILE *f = fopen(ready, "w");

		if (f)
			fclose(f);
	}
	if (window > 0)
		return rate_mode(window);
	return order_mode(count, idle_ms, verbose);
}
