/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * qvisor flow table: per-flow state of the in-kernel rank functions (las,
 * stfq), bounded and preallocated.
 *
 * A flow is a 32-bit flow hash (in the kernel a hash of the dissected
 * 5-tuple, see qvisor_flow_hash()) seen by one tenant with one rank
 * function.  The table is set-associative: 2^k sets of QV_FLOW_WAYS
 * entries; a flow lives in the
 * set its hash selects, so a lookup looks at QV_FLOW_WAYS entries and
 * never allocates.  A flow not in its set takes, in order of preference,
 * a free entry, an entry idle for longer than the idle time (counted as
 * aged), or the least recently used entry of the set (counted as an
 * eviction: a live flow forgotten).  A flow found after more than the idle
 * time starts over (aged).  A spread of new flows (a SYN flood) therefore
 * only evicts entries, at O(QV_FLOW_WAYS) per packet.
 *
 * Times are unsigned nanoseconds compared modulo 2^64.  Two flows whose
 * hashes are equal share an entry.
 *
 * The owner of a flow is a tenant slot + 1 (bits 0-15) and a generation
 * of that slot (bits 16-23).  A tenant that is deleted, or changes its
 * rank function, moves its slot to the next generation instead of
 * scanning the table: its old entries no longer match and are reused
 * like idle ones.  Only when the generation wraps must the slot's
 * entries be forgotten by a scan (qv_ft_forget()), once in 256 changes.
 */
#ifndef _QVISOR_FLOW_H
#define _QVISOR_FLOW_H

#include "types.h"

#define QV_FLOW_WAYS	4

struct qv_flow {
	u64	last;		/* time of the last packet, ns */
	u64	val;		/* the rank function's state */
	u32	hash;
	u16	tenant;		/* tenant slot + 1; 0 = free entry */
	u8	kind;		/* rank function */
	u8	gen;		/* generation of the tenant slot */
};

#define QV_FLOW_OWNER(slot1, gen)	((u32)(slot1) | (u32)(gen) << 16)

struct qv_ftable {
	struct qv_flow	*e;		/* nsets * QV_FLOW_WAYS entries */
	u32		nsets;		/* a power of two */
	u32		shift;		/* 32 - log2(nsets) */
	u64		idle;		/* ns */
	u64		stat_new;	/* flows started (new or aged) */
	u64		stat_evict;	/* live flows forgotten for room */
	u64		stat_aged;	/* idle entries reclaimed */
};

/* @e has @entries (a power of two >= QV_FLOW_WAYS) zeroed entries */
static inline void qv_ft_init(struct qv_ftable *t, struct qv_flow *e,
			      u32 entries, u64 idle_ns)
{
	u32 n = entries / QV_FLOW_WAYS, k = 0;

	while ((1u << k) < n)
		k++;
	t->e = e;
	t->nsets = n;
	t->shift = 32 - k;
	t->idle = idle_ns;
	t->stat_new = 0;
	t->stat_evict = 0;
	t->stat_aged = 0;
}

static inline bool qv_flow_idle(const struct qv_ftable *t,
				const struct qv_flow *f, u64 now)
{
	return now - f->last > t->idle;
}

/* The set of a hash: the top bits of a multiplicative mix */
static inline struct qv_flow *qv_ft_set(const struct qv_ftable *t, u32 hash)
{
	u32 h = hash * 0x9e3779b1u;

	return &t->e[t->shift >= 32 ? 0 : (h >> t->shift) * QV_FLOW_WAYS];
}

/* The entry of flow (@hash, @tenant, @kind) at time @now; a flow that is
 * new, or idle for longer than the idle time, starts with val = @init.
 * Never fails.
 */
static inline struct qv_flow *qv_ft_get(struct qv_ftable *t, u32 hash,
					u32 owner, u8 kind, u64 now, u64 init)
{
	struct qv_flow *set = qv_ft_set(t, hash), *f, *victim = NULL;
	u16 tenant = (u16)owner;
	u8 gen = (u8)(owner >> 16);
	unsigned int i;

	for (i = 0; i < QV_FLOW_WAYS; i++) {
		f = &set[i];
		if (f->tenant == tenant && f->hash == hash && f->kind == kind &&
		    f->gen == gen) {
			if (qv_flow_idle(t, f, now)) {
				t->stat_aged++;
				t->stat_new++;
				f->val = init;
			}
			f->last = now;
			return f;
		}
		if (!victim || (victim->tenant &&
				(!f->tenant || now - f->last > now - victim->last)))
			victim = f;
	}
	if (victim->tenant) {
		if (qv_flow_idle(t, victim, now))
			t->stat_aged++;
		else
			t->stat_evict++;
	}
	t->stat_new++;
	victim->hash = hash;
	victim->tenant = tenant;
	victim->kind = kind;
	victim->gen = gen;
	victim->val = init;
	victim->last = now;
	return victim;
}

/* Entries holding a flow seen within the idle time (control path: O(n);
 * the kernel reads it without the qdisc lock, so each field is read once)
 */
static inline u32 qv_ft_live(const struct qv_ftable *t, u64 now)
{
	u32 i, n = 0;

	for (i = 0; i < t->nsets * QV_FLOW_WAYS; i++) {
		u64 last = QV_READ_ONCE(t->e[i].last);

		if (QV_READ_ONCE(t->e[i].tenant) && now - last <= t->idle)
			n++;
	}
	return n;
}

/* Forget the flows of a tenant slot, every generation (0 = all);
 * control path
 */
static inline void qv_ft_forget(struct qv_ftable *t, u16 tenant)
{
	u32 i;

	for (i = 0; i < t->nsets * QV_FLOW_WAYS; i++)
		if (!tenant || t->e[i].tenant == tenant)
			t->e[i].tenant = 0;
}

#endif
