// SPDX-License-Identifier: GPL-2.0-only
/*
 * qvflows: TCP flow generator for flow-completion-time (FCT) experiments.
 *
 *   qvflows -s [-p PORT] [-r READYFILE]
 *   qvflows -c ADDR[,ADDR...] [-p PORT] -R MBIT -L LOAD -t SECONDS [-W DRAIN]
 *           [-f CDF] [-x SCALE] [-X MAXBYTES] [-k prio|mark|none]
 *           [-u UNIT] [-M MAXRANK] [-C MAXFLOWS] [-S SEED] [-o CSV] [-T TAG]
 *   qvflows -i [-f CDF] [-x SCALE] [-X MAXBYTES] [-n SAMPLES] [-S SEED]
 *
 * Server (-s): accepts any number of connections on PORT (default 7000,
 * epoll, one thread).  Each flow starts with a 16-byte header (magic,
 * flow id, total flow size in bytes, network byte order) followed by
 * payload up to the flow size; when the last byte has arrived the server
 * answers with one byte.  READYFILE is created once the socket listens.
 * The server listens on IPv6 and IPv4 (one dual-stack socket; IPv4 only
 * where the kernel has no IPv6).
 *
 * Client (-c): opens one TCP connection per flow, to ADDR (IPv4 or IPv6),
 * or with a comma-separated list of up to 64 addresses to one of them
 * drawn uniformly per flow from its own stream of SEED (so the sizes and
 * arrival times are the same whatever the list).  Flow sizes are drawn
 * from the CDF: "websearch" (the default: the web search distribution of
 * DCTCP / pFabric, tools/fct/websearch.cdf) or "datamining" (VL2's, as
 * pFabric uses it, tools/fct/datamining.cdf), both built in, or a file of
 * the same format.  Sizes are multiplied by SCALE (default 1); with -X,
 * a size above MAXBYTES (after scaling) is cut to MAXBYTES, i.e. the
 * distribution's tail above it becomes one point.  Flows arrive as a Poisson
 * process of rate LOAD * MBIT * 1e6 / 8 / mean size for SECONDS; the
 * arrival times and sizes depend only on SEED, LOAD, MBIT and the
 * distribution, so runs under different schedulers see the same flows.
 * At most MAXFLOWS (default 64) flows are open at once; later arrivals
 * wait for a free slot (their waiting time counts in their FCT).  After
 * the last arrival the client waits up to DRAIN seconds (default 10) for
 * open flows to complete.
 *
 * FCT is the time from a flow's arrival until the server's one-byte
 * answer is read, so it includes connection setup.  One CSV line per
 * flow goes to CSV (or stdout):
 *	tag,id,size,arrival_s,fct_ms,status
 * status is "done", or "open" for flows still unfinished when the client
 * gave up (their fct_ms is then the time until giving up, a lower bound).
 * A summary goes to stderr:
 *	summary TAG flows N done D small N MEAN P99 large N MEAN P99
 * (small: size < 100 KB; MEAN and P99 in ms; unfinished flows count with
 * their lower bound).
 *
 * End-host pFabric ranks (-k): before connecting and before every write
 * the client sets SO_PRIORITY (prio) or SO_MARK (mark) of the socket to
 * the flow's remaining bytes divided by UNIT (default 1), capped at
 * MAXRANK (default 2^31-1).  TCP stamps skb->priority and skb->mark from
 * the socket when a segment is transmitted (retransmissions too), so the
 * rank a segment carries is the remaining size at the last write; with
 * TCP_NOTSENT_LOWAT the unsent backlog, and thus the error, stays below
 * 2 * 16 KB.  The rank is lowered only while none of the socket's
 * segments are queued in this host (SO_MEMINFO's wmem_alloc is 0):
 * otherwise newer segments with a lower rank would overtake older ones
 * in the PIFO, and TCP takes that reordering for loss.  pFabric's switch
 * avoids it by sending a flow's earliest packet first; a flow that stays
 * backlogged here keeps the rank it had when its queue last emptied
 * (at worst its size).  qvisor reads the rank with "rank prio" / "rank mark" on a
 * device in the sender's network namespace (a veth crossing into another
 * namespace clears skb->mark).  SO_PRIORITY above 6 and SO_MARK need
 * CAP_NET_ADMIN.
 *
 * Info (-i): prints the distribution's mean, the fraction of small flows
 * and the largest size after scaling, and with -n the same measured over
 * SAMPLES drawn sizes (a check of the sampler).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/sock_diag.h>

#define QVF_MAGIC	0x51564631u	/* "QVF1" */
#define HDR_LEN		16
#define CHUNK		16384
#define NOTSENT_LOWAT	16384
#define SMALL_BYTES	100000
#define MAX_POINTS	256
#define MAX_EVENTS	256

struct cdf_pt {
	double bytes;
	double frac;
};

/* The built-in distributions, from the data files themselves */
static const struct cdf_pt websearch[] = {
#include "fct/websearch.cdf"
};

static const struct cdf_pt datamining[] = {
#include "fct/datamining.cdf"
};

static const struct {
	const char *name;
	const struct cdf_pt *pts;
	int n;
} builtin_cdfs[] = {
	{ "websearch", websearch, sizeof(websearch) / sizeof(websearch[0]) },
	{ "datamining", datamining, sizeof(datamining) / sizeof(datamining[0]) },
};

static struct cdf_pt cdf[MAX_POINTS + 1];	/* + 1: cdf_cap */
static int ncdf;

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- distribution ----------------------------------------------------- */

static int cdf_check(void)
{
	int i;

	if (ncdf < 2 || cdf[0].frac != 0 || cdf[ncdf - 1].frac != 1)
		return -1;
	for (i = 0; i < ncdf; i++) {
		if (cdf[i].bytes < 1)
			return -1;
		if (i && (cdf[i].bytes < cdf[i - 1].bytes ||
			  cdf[i].frac < cdf[i - 1].frac))
			return -1;
	}
	return 0;
}

/* Lines "{ BYTES, FRAC }," (or "BYTES FRAC"); comments and blanks skipped */
static void cdf_load(const char *path)
{
	char line[512], *p;
	int incomment = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		fprintf(stderr, "qvflows: %s: %s, and not a built-in distribution "
			"(websearch, datamining)\n", path, strerror(errno));
		exit(2);
	}
	ncdf = 0;
	while (fgets(line, sizeof(line), f)) {
		double b, q;

		p = line;
		if (incomment) {
			p = strstr(p, "*/");
			if (!p)
				continue;
			p += 2;
			incomment = 0;
		}
		if (strstr(p, "/*")) {
			incomment = !strstr(strstr(p, "/*"), "*/");
			continue;
		}
		while (*p == ' ' || *p == '\t' || *p == '{')
			p++;
		if (!*p || *p == '\n' || *p == '#')
			continue;
		if (sscanf(p, "%lf%*[ ,\t]%lf", &b, &q) != 2) {
			fprintf(stderr, "qvflows: %s: bad line: %s", path, line);
			exit(2);
		}
		if (ncdf == MAX_POINTS) {
			fprintf(stderr, "qvflows: %s: too many points\n", path);
			exit(2);
		}
		cdf[ncdf].bytes = b;
		cdf[ncdf].frac = q;
		ncdf++;
	}
	fclose(f);
	if (cdf_check()) {
		fprintf(stderr, "qvflows: %s: not a CDF (sizes >= 1 rising, "
			"fractions rising from 0 to 1)\n", path);
		exit(2);
	}
}

static void cdf_scale(double scale)
{
	int i;

	for (i = 0; i < ncdf; i++) {
		cdf[i].bytes *= scale;
		if (cdf[i].bytes < HDR_LEN)
			cdf[i].bytes = HDR_LEN;
	}
}

/* A built-in distribution by name; 0 if there is none of that name */
static int cdf_builtin(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(builtin_cdfs) / sizeof(builtin_cdfs[0]); i++) {
		if (strcmp(name, builtin_cdfs[i].name))
			continue;
		ncdf = builtin_cdfs[i].n;
		memcpy(cdf, builtin_cdfs[i].pts, (size_t)ncdf * sizeof(cdf[0]));
		return 1;
	}
	return 0;
}

/* Inverse CDF with linear interpolation; u in [0, 1) */
static uint64_t cdf_draw(double u)
{
	int i;

	for (i = 1; i < ncdf; i++) {
		if (u < cdf[i].frac) {
			double f0 = cdf[i - 1].frac, f1 = cdf[i].frac;
			double b0 = cdf[i - 1].bytes, b1 = cdf[i].bytes;

			return (uint64_t)llround(b0 + (u - f0) / (f1 - f0) * (b1 - b0));
		}
	}
	return (uint64_t)llround(cdf[ncdf - 1].bytes);
}

/* Mean of the interpolated distribution */
static double cdf_mean(void)
{
	double m = 0;
	int i;

	for (i = 1; i < ncdf; i++)
		m += (cdf[i].frac - cdf[i - 1].frac) *
		     (cdf[i].bytes + cdf[i - 1].bytes) / 2;
	return m;
}

/* Fraction of flows smaller than x bytes */
static double cdf_at(double x)
{
	int i;

	if (x <= cdf[0].bytes)
		return 0;
	for (i = 1; i < ncdf; i++) {
		if (x <= cdf[i].bytes) {
			if (cdf[i].bytes == cdf[i - 1].bytes)
				return cdf[i - 1].frac;
			return cdf[i - 1].frac + (x - cdf[i - 1].bytes) /
			       (cdf[i].bytes - cdf[i - 1].bytes) *
			       (cdf[i].frac - cdf[i - 1].frac);
		}
	}
	return 1;
}

/*
 * Sizes above max become max: the points beyond it are replaced by two
 * at max, one at the fraction of flows below it and one at 1.
 */
static void cdf_cap(double max)
{
	int i;

	for (i = 1; i < ncdf; i++) {
		if (cdf[i].bytes > max) {
			double f = cdf_at(max);

			cdf[i].bytes = max;
			cdf[i].frac = f;
			cdf[i + 1].bytes = max;
			cdf[i + 1].frac = 1;
			ncdf = i + 2;
			return;
		}
	}
}

/* splitmix64: two independent streams (sizes, gaps) from one seed */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double rng_unit(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) / 9007199254740992.0;
}

/* --- server ----------------------------------------------------------- */

struct sconn {
	int fd;
	unsigned char hdr[HDR_LEN];
	uint64_t got, size;
	int answered;
};

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int listen_on(unsigned int port)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6,
				   .sin6_addr = IN6ADDR_ANY_INIT };
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct sockaddr *sa = (struct sockaddr *)&a6;
	socklen_t len = sizeof(a6);
	int fd = socket(AF_INET6, SOCK_STREAM, 0), one = 1, zero = 0;

	if (fd >= 0) {		/* dual stack: IPv4 peers as ::ffff:a.b.c.d */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	} else {		/* a kernel without IPv6 */
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			die("socket");
		sa = (struct sockaddr *)&a;
		len = sizeof(a);
	}
	a6.sin6_port = htons((uint16_t)port);
	a.sin_port = a6.sin6_port;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, sa, len) || listen(fd, 1024))
		die("bind/listen");
	set_nonblock(fd);
	return fd;
}

static uint64_t get_be64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static void put_be64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (unsigned char)v;
		v >>= 8;
	}
}

static void sconn_close(int ep, struct sconn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
}

/* Read what is there; 1 when the connection is finished */
static int sconn_read(struct sconn *c)
{
	static unsigned char buf[65536];
	ssize_t n;

	for (;;) {
		n = read(c->fd, buf, sizeof(buf));
		if (n == 0)
			return 1;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : 1;
		if (c->got < HDR_LEN) {
			size_t k = HDR_LEN - c->got;

			if ((size_t)n < k)
				k = (size_t)n;
			memcpy(c->hdr + c->got, buf, k);
			if (c->got + k == HDR_LEN) {
				if (ntohl(*(uint32_t *)c->hdr) != QVF_MAGIC)
					return 1;
				c->size = get_be64(c->hdr + 8);
			}
		}
		c->got += (uint64_t)n;
		if (c->got >= HDR_LEN && c->got >= c->size && !c->answered) {
			char a = 'k';

			if (write(c->fd, &a, 1) != 1)
				return 1;
			c->answered = 1;
		}
	}
}

static int run_server(unsigned int port, const char *ready)
{
	struct epoll_event ev, evs[MAX_EVENTS];
	int lfd = listen_on(port), ep = epoll_create1(0), i, n;

	if (ep < 0)
		die("epoll_create1");
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	if (ready) {
		FILE *f = fopen(ready, "w");

		if (f)
			fclose(f);
	}
	for (;;) {
		n = epoll_wait(ep, evs, MAX_EVENTS, -1);
		if (n < 0 && errno != EINTR)
			die("epoll_wait");
		for (i = 0; i < n; i++) {
			struct sconn *c = evs[i].data.ptr;

			if (!c) {
				int fd;

				while ((fd = accept4(lfd, NULL, NULL,
						     SOCK_NONBLOCK)) >= 0) {
					c = calloc(1, sizeof(*c));
					if (!c)
						die("calloc");
					c->fd = fd;
					ev.events = EPOLLIN;
					ev.data.ptr = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			if (sconn_read(c))
				sconn_close(ep, c);
		}
	}
	return 0;
}

/* --- client ----------------------------------------------------------- */

enum fstate { F_WAIT, F_CONN, F_SEND, F_ANSWER, F_DONE, F_FAIL };

struct flow {
	uint32_t id;
	unsigned int dst;	/* index into cl.dst */
	uint64_t size, sent;
	double arrival, done;
	int fd;
	enum fstate st;
	long rank;		/* last rank set, -1 none */
};

enum rkind { R_NONE, R_PRIO, R_MARK };

#define MAX_DST		64

static struct {
	struct sockaddr_storage dst[MAX_DST];
	socklen_t dstlen[MAX_DST];
	unsigned int ndst;
	enum rkind kind;
	uint64_t unit, maxrank;
	uint64_t held;		/* rank updates held back: segments queued */
	int ep;
} cl = { .unit = 1, .maxrank = 0x7fffffff };

/* Bytes of the socket's segments still queued in this host (qdisc, device) */
static uint32_t flow_queued(const struct flow *f)
{
	uint32_t mem[SK_MEMINFO_VARS] = { 0 };
	socklen_t len = sizeof(mem);

	if (getsockopt(f->fd, SOL_SOCKET, SO_MEMINFO, mem, &len) ||
	    len <= SK_MEMINFO_WMEM_ALLOC * sizeof(mem[0]))
		return 1;	/* unknown: assume queued, keep the rank */
	return mem[SK_MEMINFO_WMEM_ALLOC];
}

static void flow_rank(struct flow *f)
{
	uint64_t r = (f->size - f->sent) / cl.unit;
	int v;

	if (cl.kind == R_NONE)
		return;
	if (r > cl.maxrank)
		r = cl.maxrank;
	if ((long)r == f->rank)
		return;
	/* never let newer segments overtake older ones of the same flow */
	if (f->rank >= 0 && (long)r < f->rank && flow_queued(f)) {
		cl.held++;
		return;
	}
	v = (int)r;
	if (setsockopt(f->fd, SOL_SOCKET,
		       cl.kind == R_PRIO ? SO_PRIORITY : SO_MARK, &v, sizeof(v)))
		die(cl.kind == R_PRIO ? "SO_PRIORITY" : "SO_MARK");
	f->rank = (long)r;
}

static void flow_fail(struct flow *f, const char *why)
{
	fprintf(stderr, "qvflows: flow %u: %s: %s\n", f->id, why, strerror(errno));
	if (f->fd >= 0) {
		epoll_ctl(cl.ep, EPOLL_CTL_DEL, f->fd, NULL);
		close(f->fd);
		f->fd = -1;
	}
	f->st = F_FAIL;
}

static void flow_start(struct flow *f)
{
	struct epoll_event ev = { .events = EPOLLOUT };
	int one = 1, low = NOTSENT_LOWAT;

	f->fd = socket(cl.dst[f->dst].ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (f->fd < 0) {
		flow_fail(f, "socket");
		return;
	}
	f->rank = -1;
	setsockopt(f->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(f->fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &low, sizeof(low));
	flow_rank(f);		/* the SYN carries the flow's size */
	if (connect(f->fd, (struct sockaddr *)&cl.dst[f->dst], cl.dstlen[f->dst]) &&
	    errno != EINPROGRESS) {
		flow_fail(f, "connect");
		return;
	}
	ev.data.ptr = f;
	epoll_ctl(cl.ep, EPOLL_CTL_ADD, f->fd, &ev);
	f->st = F_CONN;
}

/* Write while the socket takes it; the rank follows the remaining bytes */
static void flow_send(struct flow *f)
{
	static unsigned char buf[CHUNK];
	ssize_t n;

	while (f->sent < f->size) {
		uint64_t want = f->size - f->sent;
		size_t len = want < CHUNK ? (size_t)want : CHUNK;
		unsigned char *p = buf;

		if (f->sent < HDR_LEN) {	/* first write carries the header */
			memset(buf, 0, HDR_LEN);
			*(uint32_t *)buf = htonl(QVF_MAGIC);
			*(uint32_t *)(buf + 4) = htonl(f->id);
			put_be64(buf + 8, f->size);
			p = buf + f->sent;
			if (len > CHUNK - f->sent)
				len = CHUNK - (size_t)f->sent;
		}
		flow_rank(f);
		n = write(f->fd, p, len);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			flow_fail(f, "write");
			return;
		}
		f->sent += (uint64_t)n;
	}
	if (f->st == F_SEND) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = f };

		epoll_ctl(cl.ep, EPOLL_CTL_MOD, f->fd, &ev);
		f->st = F_ANSWER;
	}
}

static void flow_event(struct flow *f, uint32_t events)
{
	if (f->st == F_CONN) {
		int err = 0;
		socklen_t l = sizeof(err);

		getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &err, &l);
		if (err) {
			errno = err;
			flow_fail(f, "connect");
			return;
		}
		f->st = F_SEND;
	}
	if (f->st == F_SEND && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
		flow_send(f);
	if (f->st == F_ANSWER && (events & (EPOLLIN | EPOLLERR | EPOLLHUP))) {
		char a;
		ssize_t n = read(f->fd, &a, 1);

		if (n == 1) {
			f->done = now_s();
			f->st = F_DONE;
			epoll_ctl(cl.ep, EPOLL_CTL_DEL, f->fd, NULL);
			close(f->fd);
			f->fd = -1;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			flow_fail(f, "answer");
		}
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* mean and p99 (nearest rank) of v[0..n) in place; 0 0 when empty */
static void stats(double *v, int n, double *mean, double *p99)
{
	double s = 0;
	int i, k;

	*mean = *p99 = 0;
	if (!n)
		return;
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	for (i = 0; i < n; i++)
		s += v[i];
	*mean = s / n;
	k = (int)ceil(0.99 * n) - 1;
	*p99 = v[k < 0 ? 0 : k];
}

static void usage(void)
{
	fprintf(stderr,
		"usage: qvflows -s [-p PORT] [-r READYFILE]\n"
		"       qvflows -c ADDR[,ADDR...] [-p PORT] -R MBIT -L LOAD -t SECONDS [-W DRAIN]\n"
		"               [-f CDF] [-x SCALE] [-X MAXBYTES] [-k prio|mark|none]\n"
		"               [-u UNIT] [-M MAXRANK] [-C MAXFLOWS] [-S SEED] [-o CSV] [-T TAG]\n"
		"       qvflows -i [-f CDF] [-x SCALE] [-X MAXBYTES] [-n SAMPLES] [-S SEED]\n"
		"CDF: websearch (default) or datamining (built in), or a file\n");
	exit(2);
}

/* ADDR[,ADDR...]: each an IPv4 or IPv6 address, all with PORT */
static void parse_dsts(const char *list, uint16_t port)
{
	char *copy = strdup(list), *tok, *save = NULL;

	if (!copy)
		die("strdup");
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		struct sockaddr_storage *ss = &cl.dst[cl.ndst];
		struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

		if (cl.ndst == MAX_DST) {
			fprintf(stderr, "qvflows: more than %d addresses\n",
				MAX_DST);
			exit(2);
		}
		if (inet_pton(AF_INET, tok, &a4->sin_addr) == 1) {
			a4->sin_family = AF_INET;
			a4->sin_port = htons(port);
			cl.dstlen[cl.ndst] = sizeof(*a4);
		} else if (inet_pton(AF_INET6, tok, &a6->sin6_addr) == 1) {
			a6->sin6_family = AF_INET6;
			a6->sin6_port = htons(port);
			cl.dstlen[cl.ndst] = sizeof(*a6);
		} else {
			fprintf(stderr, "qvflows: not an address: %s\n", tok);
			exit(2);
		}
		cl.ndst++;
	}
	free(copy);
	if (!cl.ndst)
		usage();
}

static void print_info(long samples, uint64_t seed)
{
	double mean = cdf_mean(), sum = 0;
	long i, small = 0;
	uint64_t s = seed, mx = 0;

	printf("mean %.0f small %.4f max %.0f\n", mean, cdf_at(SMALL_BYTES),
	       cdf[ncdf - 1].bytes);
	if (samples <= 0)
		return;
	for (i = 0; i < samples; i++) {
		uint64_t b = cdf_draw(rng_unit(&s));

		sum += (double)b;
		small += b < SMALL_BYTES;
		if (b > mx)
			mx = b;
	}
	printf("sampled %ld mean %.0f small %.4f max %llu\n", samples,
	       sum / samples, (double)small / samples, (unsigned long long)mx);
}

int main(int argc, char **argv)
{
	double mbit = 0, load = 0, secs = 0, drain = 10, scale = 1, cap = 0;
	const char *addr = NULL, *cdf_file = "websearch", *csv = NULL;
	const char *ready = NULL;
	const char *tag = "-";
	unsigned int port = 7000, maxflows = 64;
	int c, server = 0, info = 0, i, n, nflows, next = 0, open = 0;
	long samples = 0;
	uint64_t seed = 1, s_size, s_gap, s_dst;
	struct flow *fl;
	double t0, t, lambda, end_arr, deadline, *small, *large;
	int nsmall = 0, nlarge = 0, ndone = 0;
	double sm_mean, sm_p99, lg_mean, lg_p99;
	FILE *out = stdout;

	while ((c = getopt(argc, argv, "sc:p:r:R:L:t:W:f:x:X:k:u:M:C:S:o:T:in:h")) != -1) {
		switch (c) {
		case 's': server = 1; break;
		case 'c': addr = optarg; break;
		case 'p': port = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'r': ready = optarg; break;
		case 'R': mbit = strtod(optarg, NULL); break;
		case 'L': load = strtod(optarg, NULL); break;
		case 't': secs = strtod(optarg, NULL); break;
		case 'W': drain = strtod(optarg, NULL); break;
		case 'f': cdf_file = optarg; break;
		case 'x': scale = strtod(optarg, NULL); break;
		case 'X': cap = strtod(optarg, NULL); break;
		case 'k':
			if (!strcmp(optarg, "prio"))
				cl.kind = R_PRIO;
			else if (!strcmp(optarg, "mark"))
				cl.kind = R_MARK;
			else if (!strcmp(optarg, "none"))
				cl.kind = R_NONE;
			else
				usage();
			break;
		case 'u': cl.unit = strtoull(optarg, NULL, 0); break;
		case 'M': cl.maxrank = strtoull(optarg, NULL, 0); break;
		case 'C': maxflows = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'S': seed = strtoull(optarg, NULL, 0); break;
		case 'o': csv = optarg; break;
		case 'T': tag = optarg; break;
		case 'i': info = 1; break;
		case 'n': samples = strtol(optarg, NULL, 0); break;
		default: usage();
		}
	}
	if (optind != argc || server + info + !!addr != 1 || !port ||
	    port > 65535)
		usage();
	signal(SIGPIPE, SIG_IGN);
	if (server)
		return run_server(port, ready);

	if (!cdf_builtin(cdf_file))
		cdf_load(cdf_file);
	if (!(scale > 0) || !(cap >= 0) || !cl.unit ||
	    cl.maxrank > 0xffffffffull)
		usage();
	cdf_scale(scale);
	if (cap > 0 && cap < cdf[0].bytes) {
		fprintf(stderr, "qvflows: -X %.0f is below the smallest size, "
			"%.0f bytes\n", cap, cdf[0].bytes);
		exit(2);
	}
	if (cap > 0)
		cdf_cap(cap);
	if (info) {
		print_info(samples, seed);
		return 0;
	}

	if (!(mbit > 0) || !(load > 0) || !(secs > 0) || drain < 0 ||
	    !maxflows || maxflows > 4096)
		usage();
	parse_dsts(addr, (uint16_t)port);
	if (csv) {
		out = fopen(csv, "w");
		if (!out)
			die(csv);
	}

	/* the whole arrival process, up front: it depends on the seed only */
	lambda = load * mbit * 1e6 / 8 / cdf_mean();
	nflows = (int)(lambda * secs * 2 + 100);
	fl = calloc((size_t)nflows, sizeof(*fl));
	small = calloc((size_t)nflows, sizeof(*small));
	large = calloc((size_t)nflows, sizeof(*large));
	if (!fl || !small || !large)
		die("calloc");
	s_size = seed * 2 + 1;
	s_gap = seed * 2 + 2;
	/* a stream that no small seed's s_size or s_gap starts at */
	s_dst = (seed * 2 + 1) ^ 0xd1b54a32d192ed03ull;
	t = 0;
	for (n = 0; n < nflows; n++) {
		t += -log(1 - rng_unit(&s_gap)) / lambda;
		if (t >= secs)
			break;
		fl[n].id = (uint32_t)n + 1;
		fl[n].arrival = t;
		fl[n].size = cdf_draw(rng_unit(&s_size));
		fl[n].dst = cl.ndst > 1 ?
			(unsigned int)(rng_next(&s_dst) % cl.ndst) : 0;
		if (fl[n].size < HDR_LEN)
			fl[n].size = HDR_LEN;
		fl[n].fd = -1;
	}
	nflows = n;

	cl.ep = epoll_create1(0);
	if (cl.ep < 0)
		die("epoll_create1");
	t0 = now_s();
	end_arr = t0 + secs;
	deadline = end_arr + drain;
	for (;;) {
		struct epoll_event evs[MAX_EVENTS];
		double tnow = now_s(), wake;
		int ms;

		/* finished flows free their slots */
		open = 0;
		for (i = 0; i < next; i++)
			open += fl[i].st != F_DONE && fl[i].st != F_FAIL;
		while (next < nflows && t0 + fl[next].arrival <= tnow &&
		       open < (int)maxflows) {
			flow_start(&fl[next++]);
			open++;
		}
		if ((next == nflows && !open) || tnow >= deadline)
			break;
		wake = deadline;
		if (next < nflows && open < (int)maxflows)
			wake = t0 + fl[next].arrival;
		ms = (int)ceil((wake - tnow) * 1000);
		if (ms < 0)
			ms = 0;
		if (ms > 100)
			ms = 100;
		n = epoll_wait(cl.ep, evs, MAX_EVENTS, ms);
		if (n < 0 && errno != EINTR)
			die("epoll_wait");
		for (i = 0; i < n; i++)
			flow_event(evs[i].data.ptr, evs[i].events);
	}
	t = now_s();

	fprintf(out, "tag,id,size,arrival_s,fct_ms,status\n");
	for (i = 0; i < nflows; i++) {
		struct flow *f = &fl[i];
		const char *st = "done";
		double fct;

		if (f->st == F_FAIL) {
			st = "error";
			fct = 0;
		} else if (f->st == F_DONE) {
			fct = (f->done - t0 - f->arrival) * 1000;
			ndone++;
		} else {
			st = "open";
			fct = (t - t0 - f->arrival) * 1000;
		}
		fprintf(out, "%s,%u,%llu,%.4f,%.3f,%s\n", tag, f->id,
			(unsigned long long)f->size, f->arrival, fct, st);
		if (f->st == F_FAIL)
			continue;
		if (f->size < SMALL_BYTES)
			small[nsmall++] = fct;
		else
			large[nlarge++] = fct;
	}
	if (out != stdout)
		fclose(out);
	stats(small, nsmall, &sm_mean, &sm_p99);
	stats(large, nlarge, &lg_mean, &lg_p99);
	if (cl.kind != R_NONE)
		fprintf(stderr, "ranks: %llu lowerings held while segments were queued\n",
			(unsigned long long)cl.held);
	fprintf(stderr, "summary %s flows %d done %d small %d %.3f %.3f "
		"large %d %.3f %.3f\n", tag, nflows, ndone, nsmall, sm_mean,
		sm_p99, nlarge, lg_mean, lg_p99);
	close(cl.ep);
	free(fl);
	free(small);
	free(large);
	/* failed flows (connect or write errors) make the run fail */
	return nflows && nsmall + nlarge == nflows ? 0 : 1;
}
