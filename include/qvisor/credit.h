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

#define QV_S64_MAX	0x7fffffffffffffffll
#define QV_NSEC_PER_SEC	1000000000ull

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

/* @part of @whole in parts per million (0 when @whole is 0), exact for
 * any 64-bit counters: the product is never formed in 64 bits.
 */
static inline u32 qv_ppm(u64 part, u64 whole)
{
	if (!whole)
		return 0;
	if (part >= whole)
		return 1000000;
	return (u32)qv_mul_div64(part, 1000000, whole);
}

/* Bytes that @ns nanoseconds of a cap of @rate bytes per second allow;
 * negative for a debt.  Exact for any rate and time, saturating at the
 * s64 range: whole seconds and the rest are scaled apart, so no product
 * and no quotient can overflow.
 */
static inline s64 qv_ns_to_bytes(s64 ns, u64 rate)
{
	u64 a = ns >= 0 ? (u64)ns : -(u64)ns;
	u64 sec = qv_div64(a, QV_NSEC_PER_SEC);
	u64 rest = a - sec * QV_NSEC_PER_SEC;
	u64 b, r = qv_mul_div64(rest, rate, QV_NSEC_PER_SEC);

	if ((sec && rate > (u64)QV_S64_MAX / sec) || r > (u64)QV_S64_MAX)
		b = QV_S64_MAX;
	else if (sec * rate > (u64)QV_S64_MAX - r)
		b = QV_S64_MAX;
	else
		b = sec * rate + r;
	return ns >= 0 ? (s64)b : -(s64)b;
}

/* A token bucket in nanoseconds of its rate (the kernel converts
 * lengths to time with psched_l2t_ns()).  Changing the rate or the
 * burst resets it full, as htb and tbf do: tokens counted at the old
 * rate mean nothing at the new one.
 */
struct qv_cap {
	s64	tokens;		/* ns; negative = debt */
	s64	burst_ns;	/* most it can hold */
	u64	updated_ns;		/* last update, ns */
};

static inline void qv_cap_reset(struct qv_cap *c, s64 burst_ns, u64 now)
{
	c->burst_ns = burst_ns;
	c->tokens = burst_ns;
	c->updated_ns = now;
}

/* Add the time elapsed since the last update, up to the burst */
static inline void qv_cap_sync(struct qv_cap *c, u64 now)
{
	u64 dt = now > c->updated_ns ? now - c->updated_ns : 0;

	if (dt > (u64)(c->burst_ns - c->tokens))
		c->tokens = c->burst_ns;
	else
		c->tokens += (s64)dt;
	c->updated_ns = now;
}

#endif
