/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * qvisor range auto: a tenant's ranks normalized by the distribution of
 * its recent ranks instead of a declared range.
 *
 * Sketch: a log-bucketed histogram of raw ranks.  Ranks below
 * 2 * QV_RAUTO_SUB have a bucket each; above, every power-of-two octave
 * is cut into QV_RAUTO_SUB equal sub-buckets, so a bucket spans at most
 * 1/16 of its lowest rank (QV_RAUTO_NB = 464 buckets cover all of u32).
 * A packet adds one to its bucket: a find-last-set, a shift and an
 * increment, no division.
 *
 * Quantization: every @window packets (the first time after
 * QV_RAUTO_FIRST) the table is recomputed in one loop over the buckets:
 * each bucket gets the midpoint of its share of the cumulative
 * distribution, (packets in buckets below + half of its own) / total,
 * in 16-bit fixed point, rounded (one division per recomputation).  Then every
 * counter is halved: exponential decay, a packet's weight halves every
 * window, so the sketch holds about the last 2 * window packets.
 * A packet's level is cdf[bucket] * levels >> 16 (a multiplication): the
 * tenant's levels receive about equal shares of its recent packets, up
 * to the mass of one bucket.  The table is monotone in the rank, so a
 * tenant's order is kept (ties where ranks share a bucket).
 *
 * A tenant that sends all its packets at one rank has all its mass in
 * one bucket, whose midpoint is 1/2: its packets land in the middle of
 * its levels, whatever that rank is.
 *
 * Before the first recomputation (no history) the caller uses the
 * declared range (qv_xform_apply).
 *
 * Shift: at each recomputation, the total variation distance between
 * the distribution of the window just ended and that of the window
 * before, over the buckets, in parts per million (0: the same shares,
 * 1000000: disjoint buckets).  A window's counts are the sketch minus
 * what the last recomputation left in it (base), so the packet path is
 * unchanged; the pass keeps the window's counts for the next one (prev)
 * and costs one more division.  0 until two windows were seen.
 */
#ifndef _QVISOR_RAUTO_H
#define _QVISOR_RAUTO_H

#include "types.h"

#define QV_RAUTO_SUB_BITS	4
#define QV_RAUTO_SUB		16U	/* 1 << QV_RAUTO_SUB_BITS */
#define QV_RAUTO_NB		((32 - QV_RAUTO_SUB_BITS + 1) * QV_RAUTO_SUB)
#define QV_RAUTO_FIRST		32	/* packets before the first table */
#define QV_RAUTO_MIN_WINDOW	16
#define QV_RAUTO_MAX_WINDOW	32768	/* counters stay below 2^16 */
#define QV_RAUTO_DEF_WINDOW	1024
#define QV_RAUTO_ONE		65536	/* cdf fixed point */
#define QV_RAUTO_PPM		1000000	/* shift_ppm of disjoint windows */

struct qv_rauto {
	u32	window;		/* packets between recomputations */
	u32	count;		/* packets since the last one */
	u32	due;		/* recompute when count reaches it */
	u32	ready;		/* a table was computed */
	u64	updates;	/* recomputations done */
	u32	shift_ppm;	/* last window against the one before */
	u32	prev_total;	/* packets in prev[], 0 = no window yet */
	u16	cnt[QV_RAUTO_NB];	/* decayed packet counts */
	u16	cdf[QV_RAUTO_NB];	/* midpoint cdf, QV_RAUTO_ONE = 1 */
	u16	base[QV_RAUTO_NB];	/* cnt after the last recomputation */
	u16	prev[QV_RAUTO_NB];	/* counts of the last window */
};

/* The bucket of @rank: monotone in @rank, below QV_RAUTO_NB */
static inline u32 qv_rauto_bucket(u32 rank)
{
	u32 e;

	if (rank < 2 * QV_RAUTO_SUB)
		return rank;
	e = qv_fls64(rank);
	return ((e - QV_RAUTO_SUB_BITS + 1) << QV_RAUTO_SUB_BITS) +
	       ((rank >> (e - QV_RAUTO_SUB_BITS)) & (QV_RAUTO_SUB - 1));
}

/* Lowest rank of bucket @b (for tests and documentation) */
static inline u32 qv_rauto_bucket_lo(u32 b)
{
	u32 e;

	if (b < 2 * QV_RAUTO_SUB)
		return b;
	e = (b >> QV_RAUTO_SUB_BITS) + QV_RAUTO_SUB_BITS - 1;
	return (QV_RAUTO_SUB + (b & (QV_RAUTO_SUB - 1))) <<
	       (e - QV_RAUTO_SUB_BITS);
}

static inline void qv_rauto_init(struct qv_rauto *ra, u32 window)
{
	u32 b;

	if (window < QV_RAUTO_MIN_WINDOW)
		window = QV_RAUTO_MIN_WINDOW;
	if (window > QV_RAUTO_MAX_WINDOW)
		window = QV_RAUTO_MAX_WINDOW;
	ra->window = window;
	ra->count = 0;
	ra->due = window < QV_RAUTO_FIRST ? window : QV_RAUTO_FIRST;
	ra->ready = 0;
	ra->updates = 0;
	ra->shift_ppm = 0;
	ra->prev_total = 0;
	for (b = 0; b < QV_RAUTO_NB; b++) {
		ra->cnt[b] = 0;
		ra->cdf[b] = 0;
		ra->base[b] = 0;
		ra->prev[b] = 0;
	}
}

/* A new window length; the sketch is kept */
static inline void qv_rauto_set_window(struct qv_rauto *ra, u32 window)
{
	if (window < QV_RAUTO_MIN_WINDOW)
		window = QV_RAUTO_MIN_WINDOW;
	if (window > QV_RAUTO_MAX_WINDOW)
		window = QV_RAUTO_MAX_WINDOW;
	ra->window = window;
	if (ra->ready)
		ra->due = window;
	if (ra->count >= ra->due)
		ra->count = ra->due - 1;
}

/* Recompute the table from the sketch, then halve the counters: one
 * bounded loop over QV_RAUTO_NB buckets to sum, one to build the table,
 * one division for it.  Only this tenant's state is touched.
 *
 * The same loop measures the shift of the window that just ended (its
 * counts w = cnt - base, n packets) against the one before (prev,
 * m = prev_total packets): the total variation distance
 * sum |w / n - p / m| / 2, in ppm, as sum |w * m - p * n| * 10^6 /
 * (2 * n * m), one more division.  n and m are a window's packets, below
 * 2^16 (the window is at most 2^15; a window shortened then lengthened
 * by qv_rauto_set_window() can hold up to twice that), so the sum is at
 * most 2 * n * m < 2^33 and times 10^6 below 2^53: no overflow in u64.
 */
static inline void qv_rauto_recompute(struct qv_rauto *ra)
{
	u64 total = 0, inv, f, x, y, sum = 0;
	u32 b, cum2 = 0, n = 0, m = ra->prev_total;
	u16 w;

	for (b = 0; b < QV_RAUTO_NB; b++) {
		total += ra->cnt[b];
		n += (u16)(ra->cnt[b] - ra->base[b]);
	}
	if (!total)
		return;
	/* f = (2 * below + own) / (2 * total) in 1/65536 */
	inv = qv_div64(1ULL << 47, total);
	for (b = 0; b < QV_RAUTO_NB; b++) {
		w = ra->cnt[b] - ra->base[b];
		x = (u64)w * m;
		y = (u64)ra->prev[b] * n;
		sum += x > y ? x - y : y - x;
		ra->prev[b] = w;
		f = ((u64)(cum2 + ra->cnt[b]) * inv + (1ULL << 31)) >> 32;
		ra->cdf[b] = f >= QV_RAUTO_ONE ? QV_RAUTO_ONE - 1 : (u16)f;
		cum2 += 2U * ra->cnt[b];
		ra->cnt[b] >>= 1;
		ra->base[b] = ra->cnt[b];
	}
	if (m && n)
		ra->shift_ppm = (u32)qv_div64(sum * QV_RAUTO_PPM, 2ULL * n * m);
	ra->prev_total = n;
	ra->ready = 1;
	ra->updates++;
	ra->due = ra->window;
}

/* Count one packet of rank @rank; every window, a new table.  O(1)
 * amortized: the recomputation costs QV_RAUTO_NB steps per window.
 */
static inline void qv_rauto_note(struct qv_rauto *ra, u32 rank)
{
	ra->cnt[qv_rauto_bucket(rank)]++;
	if (++ra->count >= ra->due) {
		ra->count = 0;
		qv_rauto_recompute(ra);
	}
}

/* The level (0 .. levels - 1) of @rank under the current table */
static inline u32 qv_rauto_level(const struct qv_rauto *ra, u32 rank,
				 u32 levels)
{
	return (u32)(((u64)ra->cdf[qv_rauto_bucket(rank)] * levels) >> 16);
}

#endif
