// SPDX-License-Identifier: GPL-2.0-only
/* qv_prio2label: skb->priority -> IPv6 flow label (see qv_label.h) */
#include "qv_label.h"

SEC("classifier")
int qv_prio2label(struct __sk_buff *skb)
{
	struct ipv6hdr *ip = qv_ip6(skb);
	__u32 v = skb->priority;

	if (!ip)
		return TC_ACT_OK;
	if (v > QV_LABEL_MAX)
		v = QV_LABEL_MAX;
	ip->flow_lbl[0] = (ip->flow_lbl[0] & 0xf0) | (v >> 16);
	ip->flow_lbl[1] = (v >> 8) & 0xff;
	ip->flow_lbl[2] = v & 0xff;
	return TC_ACT_OK;
}
