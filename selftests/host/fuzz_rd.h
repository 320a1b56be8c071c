/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A fuzz input read as a stream of little-endian integers; reads past the
 * end give zeros, so every input is a valid one.
 */
#ifndef _QVISOR_FUZZ_RD_H
#define _QVISOR_FUZZ_RD_H

#include <stddef.h>
#include "qvisor/types.h"

struct rd {
	const u8 *d;
	size_t n, i;
};

static inline u32 rd8(struct rd *r)
{
	return r->i < r->n ? r->d[r->i++] : 0;
}

static inline u32 rd32(struct rd *r)
{
	u32 v = rd8(r);

	v |= rd8(r) << 8;
	v |= rd8(r) << 16;
	return v | rd8(r) << 24;
}

#endif
