/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * qvisor credits: weighted sharing inside a '+' group, deficit-round-robin
 * style, but without a round-robin order: within a round the group's
 * admitted packets still leave by joint rank.
 *
 * Every tenant of a group holds a credit in bytes.  An arriving packet is
 * admitted into the joint PIFO while its tenant's credit is positive (the
 * credit may then go negative by at most one packet); otherwise it waits in
 * the tenant's deferred queue.  When the group has no admitted packet left,
 * the group's round advances by as many rounds as the most advanced waiting
 * tenant needs to become positive, each tenant gains one quantum per round,
 * and deferred packets are admitted again.  Quanta are proportional to the
 * weights, so backlogged tenants get bytes in proportion to their weights;
 * an idle tenant keeps at most one quantum, so it cannot hoard.
 *
 * Credits are synced lazily: a tenant remembers the round it last saw, so
 * a round change costs nothing for tenants that are not waiting.
 */
#ifndef _QVISOR_CREDIT_H
#define _QVISOR_CREDIT_H

#include "types.h"

/* Bytes per round for a weight: the lightest tenant of the group gets at
 * least one MTU per round, so every round moves at least one packet.
 */
static inline u32 qv_quantum(u32 weight, u32 wmin, u32 mtu)
{
	u32 unit = (mtu + wmin - 1) / wmin;
	u64 q = (u64)weight * unit;

	return q > 0x7fffffff ? 0x7fffffff : (u32)q;
}

/* Credit after catching up from round @seen to round @now */
static inline s64 qv_credit_sync(s64 credit, u32 seen, u32 now, u32 quantum)
{
	u64 rounds = (u32)(now - seen);

	if (!rounds)
		return credit;
	credit += (s64)(rounds * quantum);
	return credit > (s64)quantum ? (s64)quantum : credit;
}

/* Rounds a tenant with @credit needs until its credit is positive */
static inline u32 qv_rounds_needed(s64 credit, u32 quantum)
{
	u64 deficit;

	if (credit > 0)
		return 0;
	deficit = (u64)(-credit) + 1;
	return (u32)qv_div64(deficit + quantum - 1, quantum);
}

#endif
