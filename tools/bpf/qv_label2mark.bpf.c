// SPDX-License-Identifier: GPL-2.0-only
/* qv_label2mark: IPv6 flow label -> skb->mark (see qv_label.h) */
#include "qv_label.h"

SEC("classifier")
int qv_label2mark(struct __sk_buff *skb)
{
	struct ipv6hdr *ip = qv_ip6(skb);

	if (ip)
		skb->mark = ((__u32)(ip->flow_lbl[0] & 0x0f) << 16) |
			    ((__u32)ip->flow_lbl[1] << 8) | ip->flow_lbl[2];
	return TC_ACT_OK;
}
