/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * qvisor SP-PIFO: a PIFO approximated by strict-priority FIFO queues with
 * adaptive bounds (Alcoz et al., "SP-PIFO: Approximating Push-In First-Out
 * Behaviors using Strict-Priority Queues", NSDI 2020).
 *
 * Queue 0 has the highest priority.  A tier owns a contiguous range of
 * queues [first, first + n); each queue i has a bound (the rank of the last
 * packet it took).  A packet of rank r is mapped by scanning the range from
 * the lowest-priority queue upwards and taking the first queue whose bound
 * is at most r:
 *  - push-up: that queue's bound becomes r;
 *  - push-down: when r is below even the bound of the range's top queue,
 *    the packet goes to the top queue and every bound of the range is
 *    lowered by (bound[first] - r) (saturating at 0), so that the top
 *    queue's bound becomes r.
 * The scan visits at most n <= 32 queues.  The caller holds the FIFOs;
 * this file only decides where a packet goes.
 */
#ifndef _QVISOR_SPPIFO_H
#define _QVISOR_SPPIFO_H

#include "types.h"

#define QV_SPPIFO_MAX	32

struct qv_sppifo {
	u32	bound[QV_SPPIFO_MAX];
	u64	pushdowns;	/* push-down events */
};

/* Bounds back to 0 (the push-down counter is kept) */
static inline void qv_sppifo_reset(struct qv_sppifo *s)
{
	u32 i;

	for (i = 0; i < QV_SPPIFO_MAX; i++)
		s->bound[i] = 0;
}

/* The queue a packet of @rank would take, without adapting the bounds
 * (used to decide a push-out before the packet is admitted).
 */
static inline u32 qv_sppifo_peek(const struct qv_sppifo *s, u32 first, u32 n,
				 u32 rank)
{
	u32 i;

	for (i = first + n - 1; i > first; i--)
		if (rank >= s->bound[i])
			return i;
	return first;
}

/* Map a packet of @rank to a queue of [first, first + n) and adapt the
 * bounds (push-up / push-down).  n must be 1..QV_SPPIFO_MAX and
 * first + n <= QV_SPPIFO_MAX.
 */
static inline u32 qv_sppifo_push(struct qv_sppifo *s, u32 first, u32 n,
				 u32 rank)
{
	u32 i, cost;

	for (i = first + n - 1; i > first; i--) {
		if (rank >= s->bound[i]) {
			s->bound[i] = rank;
			return i;
		}
	}
	if (rank >= s->bound[first]) {
		s->bound[first] = rank;
		return first;
	}
	cost = s->bound[first] - rank;
	for (i = first; i < first + n; i++)
		s->bound[i] = s->bound[i] > cost ? s->bound[i] - cost : 0;
	s->pushdowns++;
	return first;
}

#endif
