/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * qvisor bucket array: the exact PIFO.
 *
 * N FIFO buckets indexed by joint rank (N a power of two, up to 2^18), and
 * a three-level bitmap over them: bit b of the leaf words says bucket b is
 * non-empty, bit j of mid[i] says leaf word 64*i+j is non-zero, bit i of
 * top says mid[i] is non-zero.  The lowest (highest) non-empty bucket is
 * three find-first-set (find-last-set) instructions away, and keeping the
 * bits right costs at most three word updates per packet: enqueue and
 * dequeue are O(1) whatever N is.  Packets of one bucket leave in arrival
 * order (FIFO among equal joint ranks).  The dequeue of the best packet,
 * qv_ba_pop_first(), clears the bits with the words it read on its way
 * down: each bit to clear is the lowest one set in its word.
 *
 * Elements are linked through a pointer field at a fixed offset inside
 * them (sk_buff's next in the kernel), so the array allocates nothing per
 * packet.  The caller allocates the bucket and leaf arrays.
 */
#ifndef _QVISOR_BUCKET_H
#define _QVISOR_BUCKET_H

#include "types.h"

#define QV_BMAP_MAX_BITS	(64u * 64u * 64u)

/* tail is only meaningful while head is non-NULL (an emptied bucket keeps
 * its stale tail: the next push overwrites it)
 */
struct qv_bucket {
	void	*head;
	void	*tail;
};

struct qv_barray {
	u64			top;
	u64			mid[64];
	u64			*leaf;		/* nbuckets / 64 words */
	struct qv_bucket	*b;		/* nbuckets */
	u32			nbuckets;
	u32			link_off;	/* offset of the next pointer */
};

/* Bytes the caller allocates for the leaf words and the buckets */
static inline size_t qv_ba_leaf_bytes(u32 nbuckets)
{
	return (size_t)(nbuckets / 64) * sizeof(u64);
}

static inline size_t qv_ba_bucket_bytes(u32 nbuckets)
{
	return (size_t)nbuckets * sizeof(struct qv_bucket);
}

/* leaf and b must be zeroed; nbuckets a power of two, 64..2^18 */
static inline void qv_ba_init(struct qv_barray *a, u64 *leaf,
			      struct qv_bucket *b, u32 nbuckets, u32 link_off)
{
	u32 i;

	a->top = 0;
	for (i = 0; i < 64; i++)
		a->mid[i] = 0;
	a->leaf = leaf;
	a->b = b;
	a->nbuckets = nbuckets;
	a->link_off = link_off;
}

static inline void **qv_ba_link(const struct qv_barray *a, void *elem)
{
	return (void **)((char *)elem + a->link_off);
}

static inline bool qv_ba_empty(const struct qv_barray *a)
{
	return a->top == 0;
}

static inline void qv_ba_mark(struct qv_barray *a, u32 idx)
{
	size_t w = idx >> 6;

	a->leaf[w] |= 1ULL << (idx & 63);
	a->mid[w >> 6] |= 1ULL << (w & 63);
	a->top |= 1ULL << (w >> 6);
}

static inline void qv_ba_unmark(struct qv_barray *a, u32 idx)
{
	a->leaf[idx >> 6] &= ~(1ULL << (idx & 63));
	if (a->leaf[idx >> 6])
		return;
	a->mid[idx >> 12] &= ~(1ULL << ((idx >> 6) & 63));
	if (a->mid[idx >> 12])
		return;
	a->top &= ~(1ULL << (idx >> 12));
}

/* Lowest non-empty bucket; the array must not be empty */
static inline u32 qv_ba_first(const struct qv_barray *a)
{
	u32 i = qv_ffs64(a->top);
	u32 j = qv_ffs64(a->mid[i]);
	u32 w = (i << 6) | j;

	return (w << 6) | qv_ffs64(a->leaf[w]);
}

/* Highest non-empty bucket; the array must not be empty */
static inline u32 qv_ba_last(const struct qv_barray *a)
{
	u32 i = qv_fls64(a->top);
	u32 j = qv_fls64(a->mid[i]);
	u32 w = (i << 6) | j;

	return (w << 6) | qv_fls64(a->leaf[w]);
}

/* Lowest non-empty bucket at or above idx, or nbuckets if none.  Used by
 * control-path walks (class delete), not by the packet path.
 */
static inline u32 qv_ba_next(const struct qv_barray *a, u32 idx)
{
	u32 w, i;
	u64 m;

	if (idx >= a->nbuckets)
		return a->nbuckets;
	w = idx >> 6;
	m = a->leaf[w] & (~0ULL << (idx & 63));
	if (m)
		return (w << 6) | qv_ffs64(m);
	/* the remaining leaf words under the same mid word */
	i = w >> 6;
	m = (w & 63) == 63 ? 0 : a->mid[i] & (~0ULL << ((w & 63) + 1));
	if (!m) {
		m = i == 63 ? 0 : a->top & (~0ULL << (i + 1));
		if (!m)
			return a->nbuckets;
		i = qv_ffs64(m);
		m = a->mid[i];
	}
	w = (i << 6) | qv_ffs64(m);
	return (w << 6) | qv_ffs64(a->leaf[w]);
}

static inline void qv_ba_push(struct qv_barray *a, u32 idx, void *elem)
{
	struct qv_bucket *b = &a->b[idx];

	*qv_ba_link(a, elem) = NULL;
	if (b->head) {
		*qv_ba_link(a, b->tail) = elem;
	} else {
		b->head = elem;
		qv_ba_mark(a, idx);
	}
	b->tail = elem;
}

static inline void *qv_ba_peek(const struct qv_barray *a, u32 idx)
{
	return a->b[idx].head;
}

/* Remove and return the oldest element of a non-empty bucket */
static inline void *qv_ba_pop(struct qv_barray *a, u32 idx)
{
	struct qv_bucket *b = &a->b[idx];
	void *elem = b->head;

	b->head = *qv_ba_link(a, elem);
	*qv_ba_link(a, elem) = NULL;
	if (!b->head) {
		b->tail = NULL;
		qv_ba_unmark(a, idx);
	}
	return elem;
}

/* Remove and return the oldest element of the lowest non-empty bucket;
 * the array must not be empty.  Same as qv_ba_pop(a, qv_ba_first(a)), but
 * the words found on the way down are reused to clear the bits: the bit
 * to clear is the lowest one set in each of them.
 */
static inline void *qv_ba_pop_first(struct qv_barray *a)
{
	u32 i = qv_ffs64(a->top);
	u64 m = a->mid[i];
	u32 w = (i << 6) | qv_ffs64(m);
	u64 l = a->leaf[w];
	struct qv_bucket *b = &a->b[(w << 6) | qv_ffs64(l)];
	void *elem = b->head;
	void **link = qv_ba_link(a, elem);

	b->head = *link;
	if (b->head) {
		*link = NULL;
		return elem;
	}
	l &= l - 1;
	a->leaf[w] = l;
	if (l)
		return elem;
	m &= m - 1;
	a->mid[i] = m;
	if (!m)
		a->top &= a->top - 1;
	return elem;
}

/* Put the list @head .. @tail (linked, @tail's link NULL) before
 * (@front) or after the elements of bucket @idx; O(1).  Used when the
 * queues of a queue backend change owner (qv_qmap_remap()).
 */
static inline void qv_ba_splice_in(struct qv_barray *a, u32 idx, void *head,
				   void *tail, bool front)
{
	struct qv_bucket *t = &a->b[idx];

	if (!head)
		return;
	if (!t->head) {
		t->head = head;
		t->tail = tail;
		qv_ba_mark(a, idx);
	} else if (front) {
		*qv_ba_link(a, tail) = t->head;
		t->head = head;
	} else {
		*qv_ba_link(a, t->tail) = head;
		t->tail = tail;
	}
}

/* Move all elements of bucket @from into bucket @to, in their order,
 * before (@front) or after the elements of @to; O(1)
 */
static inline void qv_ba_splice(struct qv_barray *a, u32 from, u32 to,
				bool front)
{
	struct qv_bucket f = a->b[from];

	if (!f.head || from == to)
		return;
	a->b[from].head = NULL;
	a->b[from].tail = NULL;
	qv_ba_unmark(a, from);
	qv_ba_splice_in(a, to, f.head, f.tail, front);
}

/* Replace a bucket's list (control path: after filtering it) */
static inline void qv_ba_set(struct qv_barray *a, u32 idx, void *head,
			     void *tail)
{
	a->b[idx].head = head;
	a->b[idx].tail = tail;
	if (head)
		qv_ba_mark(a, idx);
	else
		qv_ba_unmark(a, idx);
}

#endif
