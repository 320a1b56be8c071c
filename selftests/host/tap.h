/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Minimal TAP 13 helper for the host unit tests of the qvisor core.
 *
 *	tap_plan(N);			"TAP version 13" + "1..N"
 *	tap_ok(cond, "name %d", x);	"ok N - name" / "not ok N - name"
 *	tap_diag("fmt", ...);		"# ..." (only printed after a failure
 *					 by convention, but free to use)
 *	return tap_done();		exit status: 0 all passed, 1 otherwise
 *
 * A test that does not know its count in advance may call tap_plan(0):
 * the plan line is then printed at the end by tap_done().
 *
 * CHECK(cond, fmt, ...) is for inner loops: it records the first failure
 * of the current test point (with file:line and a message) without printing
 * thousands of lines; tap_point("name") then emits one TAP line for all the
 * CHECKs since the previous point.
 */
#ifndef _QVISOR_TAP_H
#define _QVISOR_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed, tap_planned = -1;
static int tap_cur_fail;		/* CHECK failures since last point */
static char tap_cur_msg[512];

static inline void tap_plan(int n)
{
	printf("TAP version 13\n");
	tap_planned = n;
	if (n > 0)
		printf("1..%d\n", n);
	fflush(stdout);
}

static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static inline int tap_vok(int cond, const char *fmt, va_list ap)
{
	tap_n++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

static inline int tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = tap_vok(cond, fmt, ap);
	va_end(ap);
	return r;
}

static inline void tap_skip(const char *name, const char *why)
{
	tap_n++;
	printf("ok %d - %s # SKIP %s\n", tap_n, name, why);
	fflush(stdout);
}

static inline void tap_check_fail(const char *file, int line,
				  const char *fmt, ...)
{
	va_list ap;
	int off;

	if (tap_cur_fail++)
		return;
	off = snprintf(tap_cur_msg, sizeof(tap_cur_msg), "%s:%d: ", file,
		       line);
	if (off < 0 || (size_t)off >= sizeof(tap_cur_msg))
		return;
	va_start(ap, fmt);
	vsnprintf(tap_cur_msg + off, sizeof(tap_cur_msg) - (size_t)off, fmt,
		  ap);
	va_end(ap);
}

#define CHECK(cond, ...)						\
	do {								\
		if (!(cond))						\
			tap_check_fail(__FILE__, __LINE__, __VA_ARGS__); \
	} while (0)

/* Emit one TAP line for the CHECKs done since the previous point */
static inline int tap_point(const char *fmt, ...)
{
	va_list ap;
	int r, nf = tap_cur_fail;

	va_start(ap, fmt);
	r = tap_vok(nf == 0, fmt, ap);
	va_end(ap);
	if (nf) {
		tap_diag("%s", tap_cur_msg);
		if (nf > 1)
			tap_diag("(%d failed checks in this point)", nf);
	}
	tap_cur_fail = 0;
	tap_cur_msg[0] = 0;
	return r;
}

static inline int tap_done(void)
{
	if (tap_planned <= 0)
		printf("1..%d\n", tap_n);
	else if (tap_planned != tap_n) {
		tap_diag("planned %d tests but ran %d", tap_planned, tap_n);
		tap_failed++;
	}
	if (tap_failed)
		tap_diag("%d of %d failed", tap_failed, tap_n);
	fflush(stdout);
	return tap_failed ? 1 : 0;
}

/* Small deterministic PRNG (xorshift64*), seedable from QV_SEED */
static unsigned long long tap_rng_state = 0x9e3779b97f4a7c15ULL;

static inline void tap_seed_from_env(void)
{
	const char *s = getenv("QV_SEED");

	if (s && *s) {
		tap_rng_state = (strtoull(s, NULL, 0) + 1) *
				0x9e3779b97f4a7c15ULL;
		if (!tap_rng_state)
			tap_rng_state = 1;
	}
	tap_diag("rng state 0x%llx%s%s (set QV_SEED=N to vary)",
		 tap_rng_state, s && *s ? " from QV_SEED=" : "", s && *s ? s : "");
}

static inline unsigned long long tap_rand64(void)
{
	unsigned long long x = tap_rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	tap_rng_state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* uniform-ish in [0, n), n > 0 */
static inline unsigned int tap_rand(unsigned int n)
{
	return (unsigned int)(tap_rand64() % n);
}

#endif
