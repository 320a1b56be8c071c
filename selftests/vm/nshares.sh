#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Shares of a nested group (P3 for a subtree): in "(1 >> 2) + 3" the pair
# {1, 2} is one member of the '+' group, weighing the sum of its tenants'
# weights and holding one credit account, while 1 stays strictly above 2
# inside it.  Each tenant saturates with UDP (iperf3); shares come from the
# per-class byte counters over a window after a warm-up, as in shares.sh.
# A flat "1 >> 2 + 3" would give tenant 1 everything, per-tenant credits
# would give 2 alone 30:70 of 3's 40 instead of the pair's 60.  Weights
# inside a nested group ('+' levels in it) hold too (cases at the end).
. "$(dirname "$0")/lib.sh"
measure_suite nshares

NS=qv-nshares
SHARES_TEST="nested shares"
. "$(dirname "$0")/lib-shares.sh"

# share_case POLICY "WEIGHTS" udp|tcp "SENDERS" LABEL SHARE...: set the
# policy and weights up, let the senders saturate, check the shares
share_case() {
	local pol=$1 weights=$2 proto=$3 senders=$4 label=$5

	shift 5
	if setup "$pol" $weights; then
		run $((WARM + WIN + 1)) "$proto" $senders
		expect_shares "$label" "$@"
	else
		tap_fail "$label" "setup failed"
	fi
}

share_case "(1 >> 2) + 3" "30 30 40" udp "1 2 3" \
	"(1 >> 2) + 3, weights 30 30 40, all busy: 60 0 40" 60 0 40

share_case "(1 >> 2) + 3" "30 30 40" udp "2 3" \
	"(1 >> 2) + 3, weights 30 30 40, 1 idle: the pair's 60 go to 2" 0 60 40

# Two nested groups, inner weights unlike their groups' ratio: the pairs
# weigh 10+50 = 60 and 30+10 = 40, so with all four busy 1 and 3 (the top
# of each pair) split 60:40, where per-tenant credits would give them
# 10:30 and a FIFO 25 each; with 1 and 3 idle, 2 and 4 take their
# pairs' 60:40 (per-tenant credits: 50:10).
share_case "(1 >> 2) + (3 >> 4)" "10 50 30 10" udp "1 2 3 4" \
	"(1 >> 2) + (3 >> 4), weights 10 50 30 10, all busy: 60 0 40 0" 60 0 40 0

share_case "(1 >> 2) + (3 >> 4)" "10 50 30 10" udp "2 4" \
	"(1 >> 2) + (3 >> 4), weights 10 50 30 10, 1 and 3 idle: 0 60 0 40" 0 60 0 40

# The same over TCP (GSO, a faster link), the tops of both pairs busy
RATE_MBIT=$TCP_MBIT
share_case "(1 >> 2) + (3 >> 4)" "10 50 30 10" tcp "1 3" \
	"TCP (1 >> 2) + (3 >> 4), weights 10 50 30 10, 1 and 3 busy: 60 0 40 0" 60 0 40 0
RATE_MBIT=$UDP_MBIT

# Weights inside a nested group: in "(1 + 2 >> 3) + 4" the level {1, 2}
# shares the group's 60 by its own weights 30:10, each of them with an
# account in the group's '+' level and charged to the group's account in
# the top one.  All busy: 45 15 0 40 (without weights inside the group 1
# and 2 would interleave by rank, ~30 30; a FIFO gives 25 each); with 1
# idle 2 takes the whole group's 60 (per-tenant credits at the top would
# give it 10 of 50).
share_case "(1 + 2 >> 3) + 4" "30 10 20 40" udp "1 2 3 4" \
	"(1 + 2 >> 3) + 4, weights 30 10 20 40, all busy: 45 15 0 40" 45 15 0 40

share_case "(1 + 2 >> 3) + 4" "30 10 20 40" udp "2 3 4" \
	"(1 + 2 >> 3) + 4, weights 30 10 20 40, 1 idle: 0 60 0 40" 0 60 0 40

# Credits inside a group only: "(1 + 2 >> 3) > 4" has no '+' at its top
# (the group and 4 are levels of one tier), so 1 and 2 are the only
# accounts; with 1 and 2 busy they split the link 30:10.
share_case "(1 + 2 >> 3) > 4" "30 10 20 40" udp "1 2" \
	"(1 + 2 >> 3) > 4, weights 30 10 20 40, 1 and 2 busy: 75 25 0 0" 75 25 0 0

$TC qdisc del dev veth0 root >/dev/null 2>&1
tap_done
