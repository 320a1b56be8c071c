/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * qvisor portable core: the few types and bit helpers it needs, taken from
 * the kernel when built there and from libc/compiler builtins in userspace.
 */
#ifndef _QVISOR_TYPES_H
#define _QVISOR_TYPES_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/bitops.h>
#include <linux/stddef.h>
#include <linux/math64.h>
#include <linux/compiler.h>
#include <linux/errno.h>

#define QV_READ_ONCE(x)	READ_ONCE(x)

static inline unsigned int qv_ffs64(u64 x)
{
	return __ffs64(x);
}

static inline unsigned int qv_fls64(u64 x)
{
	return fls64(x) - 1;
}

static inline u64 qv_div64(u64 a, u64 b)
{
	return div64_u64(a, b);
}

/* a * b / c without overflow of the product; c must not be 0 */
static inline u64 qv_mul_div64(u64 a, u64 b, u64 c)
{
	return mul_u64_u64_div_u64(a, b, c);
}
#else
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

/* the kernel's names for the uapi types the host's linux/types.h has */
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s32 s32;
typedef __s64 s64;

#define QV_READ_ONCE(x)	__atomic_load_n(&(x), __ATOMIC_RELAXED)

/* index of the lowest / highest set bit; x must not be 0 */
static inline unsigned int qv_ffs64(u64 x)
{
#ifdef __x86_64__
	u64 r;

	/* as the kernel's __ffs: tzcnt (bsf before BMI1), without the xor
	 * gcc puts in front of __builtin_ctzll's
	 */
	__asm__("rep; bsf %1, %0" : "=r" (r) : "rm" (x));
	return (unsigned int)r;
#else
	return (unsigned int)__builtin_ctzll(x);
#endif
}

static inline unsigned int qv_fls64(u64 x)
{
	return 63u - (unsigned int)__builtin_clzll(x);
}

static inline u64 qv_div64(u64 a, u64 b)
{
	return a / b;
}

/* a * b / c without overflow of the product; c must not be 0 */
static inline u64 qv_mul_div64(u64 a, u64 b, u64 c)
{
	unsigned __int128 p = (unsigned __int128)a * b / c;

	return p > UINT64_MAX ? UINT64_MAX : (u64)p;
}
#endif

/* An error found by the parser or the synthesizer: a message and, for the
 * parser, the byte offset in the policy string where it was found.
 */
struct qv_err {
	const char	*msg;
	u32		pos;
	u32		val;	/* the offending number, when there is one */
};

static inline int qv_fail(struct qv_err *e, const char *msg, u32 pos, u32 val)
{
	if (e) {
		e->msg = msg;
		e->pos = pos;
		e->val = val;
	}
	return -EINVAL;
}

#endif
