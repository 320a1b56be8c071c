/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Carry a rank across hops in the IPv6 flow label (20 bits), as pFabric
 * carries it in its header: veth into another namespace clears skb->mark
 * and skb->priority, and IPv4 forwarding resets the priority, so a rank
 * set by the sender (SO_PRIORITY, SO_MARK) is gone one hop later.
 *
 * qv_prio2label.o (clsact egress of the sending hosts) writes the
 * packet's skb->priority, capped at 0xfffff, into the flow label;
 * qv_label2mark.o (clsact ingress of every switch port) copies the label
 * into skb->mark, where qvisor's "rank mark" or "edf ... mark_budget"
 * read it on the way out.  IPv6 only; other packets pass unchanged.
 * Multipath routes must not hash the label (it changes per packet):
 * net.ipv6.fib_multipath_hash_policy = 1 hashes the ports instead.
 *
 * Direct packet access only, no helpers or maps: builds with clang
 * -target bpf and the kernel's UAPI headers alone.
 */
#ifndef QV_LABEL_H
#define QV_LABEL_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>

#define SEC(name) __attribute__((section(name), used))
#define QV_INLINE static inline __attribute__((always_inline))
#define QV_LABEL_MAX 0xfffffu

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define QV_ETH_P_IPV6 __builtin_bswap16(ETH_P_IPV6)
#else
#define QV_ETH_P_IPV6 ETH_P_IPV6
#endif

/* The IPv6 header after the Ethernet header, or 0 */
QV_INLINE struct ipv6hdr *qv_ip6(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip = (void *)(eth + 1);

	if ((void *)(ip + 1) > end || eth->h_proto != QV_ETH_P_IPV6)
		return 0;
	return ip;
}

char _license[] SEC("license") = "GPL";

#endif
