/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Tracepoints of the qvisor qdisc: what happened to a packet and to the
 * schedule, for perf trace, bpftrace and trace-cmd.  The counters of
 * tc -s say how often; these say which tenant, rank and joint rank.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM qvisor

#if !defined(_TRACE_QVISOR_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_QVISOR_H

#include <linux/tracepoint.h>

/* Why a packet was dropped (qvisor_drop's reason) */
#ifndef _QVISOR_DROP_REASON
#define _QVISOR_DROP_REASON
enum qvisor_drop_reason {
	QVISOR_DROP_PUSHOUT,		/* pushed out by a better rank */
	QVISOR_DROP_LIMIT,		/* arrived to a full queue */
	QVISOR_DROP_TENANT_LIMIT,	/* its tenant over its limit */
	QVISOR_DROP_ADMISSION,		/* aifo refused its rank */
	QVISOR_DROP_AQM,		/* its tenant's AQM, sojourn too long */
	QVISOR_DROP_MEMLIMIT,		/* arrived over memlimit */
};
#endif

TRACE_DEFINE_ENUM(QVISOR_DROP_PUSHOUT);
TRACE_DEFINE_ENUM(QVISOR_DROP_LIMIT);
TRACE_DEFINE_ENUM(QVISOR_DROP_TENANT_LIMIT);
TRACE_DEFINE_ENUM(QVISOR_DROP_ADMISSION);
TRACE_DEFINE_ENUM(QVISOR_DROP_AQM);
TRACE_DEFINE_ENUM(QVISOR_DROP_MEMLIMIT);

/* A packet of tenant @minor entered the schedule with @rank -> @joint */
DECLARE_EVENT_CLASS(qvisor_pkt,
	TP_PROTO(u32 handle, u32 minor, u32 rank, u32 joint, u32 qlen),
	TP_ARGS(handle, minor, rank, joint, qlen),
	TP_STRUCT__entry(
		__field(u32, handle)
		__field(u32, minor)
		__field(u32, rank)
		__field(u32, joint)
		__field(u32, qlen)
	),
	TP_fast_assign(
		__entry->handle = handle;
		__entry->minor = minor;
		__entry->rank = rank;
		__entry->joint = joint;
		__entry->qlen = qlen;
	),
	TP_printk("qdisc=%x: tenant=%x rank=%u joint=%u qlen=%u",
		  __entry->handle >> 16, __entry->minor, __entry->rank,
		  __entry->joint, __entry->qlen)
);

DEFINE_EVENT(qvisor_pkt, qvisor_enqueue,
	TP_PROTO(u32 handle, u32 minor, u32 rank, u32 joint, u32 qlen),
	TP_ARGS(handle, minor, rank, joint, qlen)
);

DEFINE_EVENT(qvisor_pkt, qvisor_dequeue,
	TP_PROTO(u32 handle, u32 minor, u32 rank, u32 joint, u32 qlen),
	TP_ARGS(handle, minor, rank, joint, qlen)
);

TRACE_EVENT(qvisor_drop,
	TP_PROTO(u32 handle, u32 minor, u32 rank, u32 joint, int reason),
	TP_ARGS(handle, minor, rank, joint, reason),
	TP_STRUCT__entry(
		__field(u32, handle)
		__field(u32, minor)
		__field(u32, rank)
		__field(u32, joint)
		__field(int, reason)
	),
	TP_fast_assign(
		__entry->handle = handle;
		__entry->minor = minor;
		__entry->rank = rank;
		__entry->joint = joint;
		__entry->reason = reason;
	),
	TP_printk("qdisc=%x: tenant=%x rank=%u joint=%u reason=%s",
		  __entry->handle >> 16, __entry->minor, __entry->rank,
		  __entry->joint,
		  __print_symbolic(__entry->reason,
				   { QVISOR_DROP_PUSHOUT, "pushout" },
				   { QVISOR_DROP_LIMIT, "limit" },
				   { QVISOR_DROP_TENANT_LIMIT, "tenant_limit" },
				   { QVISOR_DROP_ADMISSION, "admission" },
				   { QVISOR_DROP_AQM, "aqm" },
				   { QVISOR_DROP_MEMLIMIT, "memlimit" }))
);

/* A packet left after a better-ranked packet of its own tenant that left
 * while it was queued; @diff is the rank difference
 */
TRACE_EVENT(qvisor_inversion,
	TP_PROTO(u32 handle, u32 minor, u32 rank, u32 diff),
	TP_ARGS(handle, minor, rank, diff),
	TP_STRUCT__entry(
		__field(u32, handle)
		__field(u32, minor)
		__field(u32, rank)
		__field(u32, diff)
	),
	TP_fast_assign(
		__entry->handle = handle;
		__entry->minor = minor;
		__entry->rank = rank;
		__entry->diff = diff;
	),
	TP_printk("qdisc=%x: tenant=%x rank=%u diff=%u",
		  __entry->handle >> 16, __entry->minor, __entry->rank,
		  __entry->diff)
);

/* Sharing group @group (in policy order) started credit round @round */
TRACE_EVENT(qvisor_round,
	TP_PROTO(u32 handle, u32 group, u32 round),
	TP_ARGS(handle, group, round),
	TP_STRUCT__entry(
		__field(u32, handle)
		__field(u32, group)
		__field(u32, round)
	),
	TP_fast_assign(
		__entry->handle = handle;
		__entry->group = group;
		__entry->round = round;
	),
	TP_printk("qdisc=%x: group=%u round=%u",
		  __entry->handle >> 16, __entry->group, __entry->round)
);

/* A synthesis was committed: @tenants classes, @width joint ranks in
 * @tiers tiers; @replaced queued packets re-placed by the new transforms
 */
TRACE_EVENT(qvisor_synth,
	TP_PROTO(u32 handle, u32 tenants, u32 width, u32 tiers, u32 replaced),
	TP_ARGS(handle, tenants, width, tiers, replaced),
	TP_STRUCT__entry(
		__field(u32, handle)
		__field(u32, tenants)
		__field(u32, width)
		__field(u32, tiers)
		__field(u32, replaced)
	),
	TP_fast_assign(
		__entry->handle = handle;
		__entry->tenants = tenants;
		__entry->width = width;
		__entry->tiers = tiers;
		__entry->replaced = replaced;
	),
	TP_printk("qdisc=%x: tenants=%u width=%u tiers=%u replaced=%u",
		  __entry->handle >> 16, __entry->tenants, __entry->width,
		  __entry->tiers, __entry->replaced)
);

#endif /* _TRACE_QVISOR_H */

#include <trace/define_trace.h>
