/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * qvisor AIFO: a PIFO approximated by one FIFO with rank-aware admission
 * (Yu et al., "Programmable Packet Scheduling with a Single Queue",
 * SIGCOMM 2021).
 *
 * A sliding window holds the ranks of the last QV_AIFO_WINDOW arriving
 * packets (a ring).  An arriving packet of rank r has the quantile
 *	q(r) = (ranks in the window strictly below r) / (ranks in the window)
 * and is admitted when
 *	q(r) <= (C - c) / ((1 - k) * C)
 * with c the packets queued, C the capacity (the qdisc limit) and k the
 * burstiness allowance in percent.  The test is done in integers:
 *	below * (100 - k) * C <= (C - c) * 100 * n.
 * While the queue is short the right side exceeds 1 and everything is
 * admitted; as it fills, only ever better quantiles are.  Every arrival,
 * admitted or not, enters the window.  Counting the window is a bounded
 * loop of QV_AIFO_WINDOW compares.
 */
#ifndef _QVISOR_AIFO_H
#define _QVISOR_AIFO_H

#include "types.h"

#define QV_AIFO_WINDOW	64	/* ranks in the sliding window */
#define QV_AIFO_DEF_K	10	/* burstiness allowance, percent */

struct qv_aifo {
	u32	win[QV_AIFO_WINDOW];
	u32	n;		/* ranks in the window, up to QV_AIFO_WINDOW */
	u32	pos;		/* next slot of the ring */
};

static inline void qv_aifo_reset(struct qv_aifo *a)
{
	a->n = 0;
	a->pos = 0;
}

/* Ranks in the window strictly below @rank */
static inline u32 qv_aifo_below(const struct qv_aifo *a, u32 rank)
{
	u32 i, below = 0;

	for (i = 0; i < a->n; i++)
		below += a->win[i] < rank;
	return below;
}

static inline void qv_aifo_record(struct qv_aifo *a, u32 rank)
{
	a->win[a->pos] = rank;
	a->pos = (a->pos + 1) % QV_AIFO_WINDOW;
	if (a->n < QV_AIFO_WINDOW)
		a->n++;
}

/* Admission test for a packet of @rank with @qlen packets queued out of
 * @cap (cap >= 1) and burstiness @k_pct (0..100); records the rank.
 */
static inline bool qv_aifo_admit(struct qv_aifo *a, u32 rank, u32 qlen,
				 u32 cap, u32 k_pct)
{
	u32 below = qv_aifo_below(a, rank), n = a->n;
	u64 room = qlen < cap ? cap - qlen : 0;
	bool ok;

	if (k_pct > 100)
		k_pct = 100;
	ok = !n || (u64)below * (100 - k_pct) * cap <= room * 100 * n;
	qv_aifo_record(a, rank);
	return ok;
}

#endif
