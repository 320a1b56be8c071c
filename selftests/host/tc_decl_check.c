// SPDX-License-Identifier: GPL-2.0-only
/*
 * Compile-time check of include/tc/qvisor_tc.h against iproute2's own
 * headers (make plugin-test builds this when the iproute2 source of the
 * installed tc is in .cache/iproute2): every function the plugin declares
 * must match iproute2's declaration (a mismatch is a "conflicting types"
 * error), and our struct qdisc_util must have iproute2's size and field
 * offsets, and the "no color" value and output types their values.
 */
#define QVISOR_IPROUTE2_HEADERS
#define QVISOR_TC_CROSSCHECK
#include <stddef.h>
#include "tc/qvisor_tc.h"

#define SAME_FIELD(f) \
	_Static_assert(offsetof(struct qdisc_util, f) == \
		       offsetof(struct qvisor_tc_qdisc_util, f), "qdisc_util." #f)

_Static_assert(sizeof(struct qdisc_util) ==
	       sizeof(struct qvisor_tc_qdisc_util), "qdisc_util size");
SAME_FIELD(next);
SAME_FIELD(id);
SAME_FIELD(parse_qopt);
SAME_FIELD(print_qopt);
SAME_FIELD(print_xstats);
SAME_FIELD(parse_copt);
SAME_FIELD(print_copt);
SAME_FIELD(has_block);
_Static_assert(COLOR_NONE == QVISOR_TC_COLOR_NONE, "COLOR_NONE");
_Static_assert(PRINT_FP == 1 && PRINT_JSON == 2 && PRINT_ANY == 4,
	       "output_type");

int main(void)
{
	return 0;
}
