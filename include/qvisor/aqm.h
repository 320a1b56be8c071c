/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * qvisor AQM: a sojourn-time controller in the manner of CoDel (Nichols
 * and Jacobson, RFC 8289), one per tenant, acting on the packet that is
 * about to leave.
 *
 * A packet whose sojourn time (now - arrival) is at least target, while
 * the tenant holds more than one MTU, starts a grace interval; if the
 * sojourn stays above target for the whole interval, the controller says
 * "signal" (drop, or mark CE for an ECN-capable packet) and enters the
 * signalling state.  There the next signal is due
 *	interval / sqrt(count)
 * after the previous one, count being the signals of this episode, so the
 * signal rate grows with the square root of time until the sojourn falls
 * below target, which ends the episode.  An episode that starts soon
 * (within 16 intervals) after the previous one ended resumes near its
 * count instead of starting again at 1.
 *
 * No floating point: 1/sqrt(count) is kept as a Q0.32 fixed-point number
 * computed by Newton's iteration for the reciprocal square root,
 *	x' = x * (3 - count * x^2) / 2,
 * started from a power of two at or below the root (found from the bit
 * length of count), from where the iteration rises monotonically to
 * 1/sqrt(count) and can neither overflow nor overshoot; six steps leave
 * a relative error below 1e-6 (plus the Q0.32 resolution, sqrt(count) /
 * 2^32).  When a count of 1024 or more grows by one, a single step from
 * the previous value is as good.
 *
 * Times are u64 nanoseconds; the caller's clock only needs to be
 * monotonic.  The state update is O(1).
 */
#ifndef _QVISOR_AQM_H
#define _QVISOR_AQM_H

#include "types.h"

#define QV_AQM_DEF_TARGET_NS	5000000ULL	/* 5 ms */
#define QV_AQM_DEF_INTERVAL_NS	100000000ULL	/* 100 ms */
#define QV_AQM_RSQRT_ONE	0xffffffffU	/* 1.0 in Q0.32, nearly */
#define QV_AQM_SEED_STEPS	6		/* Newton steps from a seed */
#define QV_AQM_RESUME_INTERVALS	16

struct qv_aqm_cfg {
	u64	target;		/* ns */
	u64	interval;	/* ns, > 0 */
};

struct qv_aqm {
	u64	first_above;	/* end of the grace interval, 0 = none */
	u64	signal_next;	/* when the next signal is due */
	u32	count;		/* signals of this episode */
	u32	last_count;	/* count when the previous episode ended */
	u32	rsqrt;		/* 1/sqrt(count), Q0.32 */
	u32	rsqrt_count;	/* the count rsqrt belongs to */
	bool	signalling;	/* in an episode */
	u64	max_sojourn;	/* ns, statistics */
};

static inline void qv_aqm_init(struct qv_aqm *a)
{
	a->first_above = 0;
	a->signal_next = 0;
	a->count = 0;
	a->last_count = 0;
	a->rsqrt = QV_AQM_RSQRT_ONE;
	a->rsqrt_count = 1;
	a->signalling = false;
	a->max_sojourn = 0;
}

/* One Newton step of x ~ 1/sqrt(count), x in Q0.32 */
static inline u32 qv_aqm_newton(u32 x, u32 count)
{
	u64 cx = (u64)count * x;		/* count * x, Q32.32 */
	u64 three = 3ULL << 32;
	u64 cx2, y;

	/* count * x^2 in Q32.32, in two halves to keep its precision */
	if (!x || (cx >> 32) > three / x)
		return x >> 1;	/* far above the root: cannot happen */
	cx2 = (cx >> 32) * x + (((cx & 0xffffffffULL) * x) >> 32);
	if (cx2 >= three)
		return x >> 1;
	/* x * (3 - count * x^2) / 2: (3 - cx2) < 2^34, x < 2^32 */
	y = ((u64)x * ((three - cx2) >> 2)) >> 31;
	return y > QV_AQM_RSQRT_ONE ? QV_AQM_RSQRT_ONE : (u32)y;
}

/* A power of two at or below 1/sqrt(count) (count >= 1), Q0.32 */
static inline u32 qv_aqm_seed(u32 count)
{
	unsigned int half = (qv_fls64(count) + 2) / 2; /* 2^half >= sqrt */

	return half ? (u32)(1ULL << (32 - half)) : QV_AQM_RSQRT_ONE;
}

/* 1/sqrt(count) in Q0.32, count >= 1 */
static inline u32 qv_aqm_rsqrt(u32 count, u32 prev, u32 prev_count)
{
	u32 x;
	int i;

	if (count == 1)
		return QV_AQM_RSQRT_ONE;
	if (count == prev_count)
		return prev;
	if (count == prev_count + 1 && prev_count >= 1024)
		return qv_aqm_newton(prev, count);
	x = qv_aqm_seed(count);
	for (i = 0; i < QV_AQM_SEED_STEPS; i++)
		x = qv_aqm_newton(x, count);
	return x;
}

static inline void qv_aqm_set_count(struct qv_aqm *a, u32 count)
{
	a->rsqrt = qv_aqm_rsqrt(count, a->rsqrt, a->rsqrt_count);
	a->rsqrt_count = count;
	a->count = count;
}

/* t + interval / sqrt(count), interval * rsqrt without a 128-bit product */
static inline u64 qv_aqm_control_law(const struct qv_aqm *a,
				     const struct qv_aqm_cfg *c, u64 t)
{
	u64 hi = (c->interval >> 32) * a->rsqrt;
	u64 lo = ((c->interval & 0xffffffffULL) * a->rsqrt) >> 32;

	return t + hi + lo;
}

/* Has the sojourn been above target for a whole interval? */
static inline bool qv_aqm_above(struct qv_aqm *a, const struct qv_aqm_cfg *c,
				u64 now, u64 sojourn, bool short_queue)
{
	if (sojourn < c->target || short_queue) {
		a->first_above = 0;
		return false;
	}
	if (!a->first_above) {
		a->first_above = now + c->interval;
		if (!a->first_above)	/* 0 means none */
			a->first_above = 1;
		return false;
	}
	return now >= a->first_above;
}

/* Enter the signalling state: the first signal of an episode */
static inline void qv_aqm_start(struct qv_aqm *a, const struct qv_aqm_cfg *c,
				u64 now)
{
	u32 resume = a->count - a->last_count;

	a->signalling = true;
	if (a->count > a->last_count + 1 &&
	    (s64)(now - a->signal_next) <
	    (s64)(QV_AQM_RESUME_INTERVALS * c->interval))
		qv_aqm_set_count(a, resume);
	else
		qv_aqm_set_count(a, 1);
	a->last_count = a->count;
	a->signal_next = qv_aqm_control_law(a, c, now);
}

/*
 * The packet at the head of the tenant's queue is about to leave after a
 * sojourn of @sojourn ns; @short_queue when the tenant holds at most an
 * MTU.  Returns true when this packet must carry a congestion signal:
 * dropped, or marked CE if it is ECN-capable and ECN is on.  Either way
 * it counts as a signal.  Call it once for every packet that would leave.
 */
static inline bool qv_aqm_dequeue(struct qv_aqm *a, const struct qv_aqm_cfg *c,
				  u64 now, u64 sojourn, bool short_queue)
{
	bool above = qv_aqm_above(a, c, now, sojourn, short_queue);

	if (sojourn > a->max_sojourn)
		a->max_sojourn = sojourn;
	if (a->signalling) {
		if (!above) {
			a->signalling = false;
			return false;
		}
		if ((s64)(now - a->signal_next) < 0)
			return false;
		if (a->count != 0xffffffffU)
			qv_aqm_set_count(a, a->count + 1);
		a->signal_next = qv_aqm_control_law(a, c, a->signal_next);
		return true;
	}
	if (!above)
		return false;
	qv_aqm_start(a, c, now);
	return true;
}

enum {
	QV_AQM_PASS,
	QV_AQM_MARK,	/* set CE and send */
	QV_AQM_DROP,
};

/* What to do with a packet: a signal marks an ECN-capable transport's
 * packet when ECN is on, and drops any other.
 */
static inline int qv_aqm_verdict(bool signal, bool ecn, bool ect)
{
	if (!signal)
		return QV_AQM_PASS;
	return ecn && ect ? QV_AQM_MARK : QV_AQM_DROP;
}

/* The tenant's queue ran empty: no grace interval is running any more.
 * The episode counters are kept so that a new episode soon after resumes.
 */
/* The qdisc limit when none is given (kernel and qvisorctl): with a rate
 * (bytes/s) and the AQM on, QV_AUTO_LIMIT_MS of the rate in packets of
 * QV_AUTO_LIMIT_MTU bytes, from QV_AUTO_LIMIT_MIN to QV_AUTO_LIMIT_MAX
 * packets; else @def (QVISOR_DEF_LIMIT).
 */
#define QV_AUTO_LIMIT_MS	100
#define QV_AUTO_LIMIT_MTU	1514
#define QV_AUTO_LIMIT_MIN	64
#define QV_AUTO_LIMIT_MAX	1048576

static inline u32 qv_auto_limit(u64 rate, bool aqm, u32 def)
{
	u64 n;

	if (!rate || !aqm)
		return def;
	n = qv_div64(rate, QV_AUTO_LIMIT_MTU * (1000 / QV_AUTO_LIMIT_MS));
	if (n < QV_AUTO_LIMIT_MIN)
		return QV_AUTO_LIMIT_MIN;
	return n > QV_AUTO_LIMIT_MAX ? QV_AUTO_LIMIT_MAX : (u32)n;
}

static inline void qv_aqm_idle(struct qv_aqm *a)
{
	a->first_above = 0;
	a->signalling = false;
}

#endif
