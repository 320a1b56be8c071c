// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * libFuzzer target: the update path of range auto (qvisor/rauto.h).  The
 * input gives a window, a number of levels and a stream of ranks (with
 * runs and window changes); checked after every packet: no counter wraps
 * (a model of the counts in u64 agrees with the u16 ones), the level is
 * below the levels, and after every recomputation the table is monotone
 * and a recomputation happened exactly when due; shift_ppm agrees with
 * the total variation distance of a model of the last two windows'
 * counts (0 until two windows) and is at most 10^6.
 */
#include <stdlib.h>

#include "qvisor/rauto.h"
#include "fuzz_rd.h"

static struct qv_rauto RA;
static u64 model[QV_RAUTO_NB];
static u64 win[QV_RAUTO_NB], prev[QV_RAUTO_NB], prev_n;
static u32 shift;

/* The model's shift at the end of a window; then prev takes it */
static void model_shift(void)
{
	u64 n = 0, sum = 0, a, c;
	u32 k;

	for (k = 0; k < QV_RAUTO_NB; k++)
		n += win[k];
	for (k = 0; k < QV_RAUTO_NB; k++) {
		a = win[k] * prev_n;
		c = prev[k] * n;
		sum += a > c ? a - c : c - a;
		prev[k] = win[k];
		win[k] = 0;
	}
	if (prev_n && n)
		shift = (u32)(sum * 1000000 / (2 * n * prev_n));
	prev_n = n;
}

static void check_table(void)
{
	u32 b;

	for (b = 1; b < QV_RAUTO_NB; b++)
		if (RA.cdf[b] < RA.cdf[b - 1])
			abort();
	for (b = 0; b < QV_RAUTO_NB; b++)
		if (model[b] != RA.cnt[b])
			abort();
}

static void note(u32 rank, u32 levels)
{
	u64 before = RA.updates;
	u32 b = qv_rauto_bucket(rank), due = RA.due;
	u32 k;

	if (b >= QV_RAUTO_NB)
		abort();
	model[b]++;
	win[b]++;
	if (model[b] > 0xffff)
		abort();	/* the u16 counter would wrap */
	qv_rauto_note(&RA, rank);
	if (RA.updates != before) {
		if (RA.count || RA.updates != before + 1)
			abort();
		for (k = 0; k < QV_RAUTO_NB; k++)
			model[k] >>= 1;
		model_shift();
		if (RA.shift_ppm != shift || shift > 1000000 ||
		    (RA.updates < 2 && shift))
			abort();
		check_table();
	} else if (RA.count >= due) {
		abort();
	}
	if (qv_rauto_level(&RA, rank, levels) >= levels)
		abort();
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct rd r = { data, size, 0 };
	u32 window = rd32(&r) % (QV_RAUTO_MAX_WINDOW + 1);
	u32 levels = rd32(&r) % 65536 + 1;
	u32 op, rank, run, k;

	qv_rauto_init(&RA, window);
	for (k = 0; k < QV_RAUTO_NB; k++)
		model[k] = win[k] = prev[k] = 0;
	prev_n = 0;
	shift = 0;
	while (r.i < r.n) {
		op = rd8(&r);
		rank = rd32(&r);
		if ((op & 0xc0) == 0xc0) {	/* a new window */
			qv_rauto_set_window(&RA, rank % (2 * QV_RAUTO_MAX_WINDOW));
			if (!RA.due || RA.count >= RA.due)
				abort();
			continue;
		}
		/* a run of up to 64 * 64 packets of one rank */
		run = (op & 0x3f) + 1;
		if (op & 0x80)
			run <<= 6;
		if (op & 0x40)
			rank >>= rank & 31;
		while (run--)
			note(rank, levels);
	}
	return 0;
}
