// SPDX-License-Identifier: GPL-2.0-only
/*
 * qvtap: plays a VM behind a tap device.  It attaches to an existing tap
 * (as QEMU's tap backend does) and writes Ethernet frames carrying UDP
 * over IPv4 into it, which the host receives as if the guest had sent
 * them: they cross the host's bridge and leave through its uplink.
 *
 *   qvtap -i TAP -m DSTMAC -s SRCIP -d DSTIP [-p PORT] [-l LEN]
 *         [-t SECONDS] [-r PPS] [-w WARMUP_MS]
 *
 * LEN is the UDP payload (default 1000 bytes), PPS 0 writes as fast as the
 * tap takes them.  SIGINT or SIGTERM ends it early.  Prints "qvtap TAP sent
 * N frames" at the end.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define MAX_FRAME 9000

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct frame_hdr {
	uint8_t dst[6];
	uint8_t src[6];
	uint16_t proto;
	/* IPv4 */
	uint8_t ver_ihl;
	uint8_t tos;
	uint16_t tot_len;
	uint16_t id;
	uint16_t frag;
	uint8_t ttl;
	uint8_t ip_proto;
	uint16_t check;
	uint32_t saddr;
	uint32_t daddr;
	/* UDP */
	uint16_t sport;
	uint16_t dport;
	uint16_t ulen;
	uint16_t ucheck;
} __attribute__((packed));

static void usage(void)
{
	fprintf(stderr, "usage: qvtap -i TAP -m DSTMAC -s SRCIP -d DSTIP [-p PORT] [-l LEN] [-t SECONDS] [-r PPS] [-w WARMUP_MS]\n");
	exit(2);
}

static uint16_t ip_checksum(const void *data, size_t len)
{
	const uint16_t *w = data;
	uint32_t sum = 0;

	for (; len > 1; len -= 2)
		sum += *w++;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static int parse_mac(const char *s, uint8_t *mac)
{
	unsigned int b[6];
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4],
		   &b[5]) != 6)
		return -1;
	for (i = 0; i < 6; i++) {
		if (b[i] > 255)
			return -1;
		mac[i] = (uint8_t)b[i];
	}
	return 0;
}

static int tap_open(const char *name)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR);

	if (fd < 0) {
		perror("qvtap: /dev/net/tun");
		exit(1);
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		perror("qvtap: TUNSETIFF");
		exit(1);
	}
	return fd;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t build_frame(uint8_t *buf, const uint8_t *dst, struct in_addr s,
			  struct in_addr d, unsigned int port, unsigned int len)
{
	struct frame_hdr *h = (struct frame_hdr *)buf;
	size_t total = sizeof(*h) + len;

	memset(buf, 0, total);
	memcpy(h->dst, dst, 6);
	h->src[0] = 0x02;		/* locally administered */
	memcpy(&h->src[2], &s.s_addr, 4);
	h->proto = htons(0x0800);
	h->ver_ihl = 0x45;
	h->tot_len = htons((uint16_t)(20 + 8 + len));
	h->ttl = 64;
	h->ip_proto = IPPROTO_UDP;
	h->saddr = s.s_addr;
	h->daddr = d.s_addr;
	h->check = ip_checksum(&h->ver_ihl, 20);
	h->sport = htons(40000);
	h->dport = htons((uint16_t)port);
	h->ulen = htons((uint16_t)(8 + len));
	return total;
}

int main(int argc, char **argv)
{
	const char *tap = NULL;
	unsigned int port = 5001, len = 1000, pps = 0, warm = 500;
	double secs = 1, start, next, gap;
	static uint8_t buf[MAX_FRAME];
	struct in_addr s = { 0 }, d = { 0 };
	unsigned long sent = 0;
	int have_mac = 0, c, fd;
	uint8_t mac[6];
	size_t flen;

	while ((c = getopt(argc, argv, "i:m:s:d:p:l:t:r:w:")) != -1) {
		switch (c) {
		case 'i': tap = optarg; break;
		case 'm': have_mac = parse_mac(optarg, mac) == 0; break;
		case 's': if (!inet_aton(optarg, &s)) usage(); break;
		case 'd': if (!inet_aton(optarg, &d)) usage(); break;
		case 'p': port = (unsigned int)atoi(optarg); break;
		case 'l': len = (unsigned int)atoi(optarg); break;
		case 't': secs = atof(optarg); break;
		case 'r': pps = (unsigned int)atoi(optarg); break;
		case 'w': warm = (unsigned int)atoi(optarg); break;
		default: usage();
		}
	}
	if (!tap || !have_mac || !s.s_addr || !d.s_addr || !port ||
	    port > 65535 || len + sizeof(struct frame_hdr) > MAX_FRAME ||
	    secs <= 0)
		usage();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fd = tap_open(tap);
	usleep(warm * 1000);	/* carrier up, bridge port forwarding */
	flen = build_frame(buf, mac, s, d, port, len);
	gap = pps ? 1.0 / pps : 0;
	start = now_s();
	next = start;
	while (!stop && now_s() - start < secs) {
		if (pps) {
			double t = now_s();

			if (t < next) {
				usleep((useconds_t)((next - t) * 1e6));
				continue;
			}
			next += gap;
		}
		if (write(fd, buf, flen) == (ssize_t)flen)
			sent++;
		else if (errno != EAGAIN && errno != ENOBUFS && errno != EIO)
			perror("qvtap: write");
	}
	printf("qvtap %s sent %lu frames\n", tap, sent);
	close(fd);
	return 0;
}
