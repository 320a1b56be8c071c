#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Nested groups in the policy: the exact departure order of the pifo
# backend for "(1 >> 2) + 3" and "1 >> (2 + (3 > 4))", the joint ranks
# each class shows, and the policy tc prints back.
#
# As in order.sh: qvisor on veth0 with a tiny rate, a blocker packet (port
# 5000, the implicit tenant) holds the link while the scripted packets
# queue; qvrecv in the peer netns prints the arrival order ("seq tenant
# rank").  Tenants by UDP port 5000 + minor, ranks from SO_PRIORITY.  The
# orders below are the ones test_nested computes on the host; a flat
# policy or a FIFO gives another order for each.
. "$(dirname "$0")/lib.sh"

NS=qv-nested
DEV=veth0
DST=10.0.0.2
RATE=200kbit
BLOCKER=1400
OUT=${TMPDIR:-/tmp}/qv-nested.$$
mkdir -p "$OUT"
on_exit "rm -rf $OUT"

udp_test_setup "nested group tests"

# joint MINOR: "JMIN..JMAX", the joint ranks class 1:MINOR's packets got
# (tc -s class show)
joint() {
	class_word "1:$1" joint
}

# check_joint NAME MINOR...=RANGE
check_joint() {
	local name=$1 kv got bad=
	shift
	for kv in "$@"; do
		got=$(joint "${kv%%=*}")
		[ "$got" = "${kv#*=}" ] || bad="$bad 1:${kv%%=*} $got (want ${kv#*=})"
	done
	if [ -z "$bad" ]; then
		tap_ok "$name: joint ranks $*"
	else
		tap_fail "$name: joint ranks" "$bad" "$($TC -s class show dev $DEV)"
	fi
}

# --- (1 >> 2) + 3: the pair shares with 3; 1 strictly above 2 inside ----
# levels 4 each: 1 on 0..3, 2 on 4..7, 3 spread over 0..7 (0 2 4 6).
# Sent 2:0 3:3 1:3 3:0 2:3 1:0; flat "1 >> 2 + 3" would send 1:0 first,
# "1 + 2 + 3" 2:0 first, a FIFO 2:0 first.
SPECA="5002:prio=0,5003:prio=3,5001:prio=3,5003:prio=0,5002:prio=3,5001:prio=0"
WANTA="4 3 0
6 1 0
3 1 3
1 2 0
2 3 3
5 2 3"
if setup_qdisc policy "(1 >> 2) + 3" &&
	add_class 1 rank prio range 0 3 levels 4 &&
	add_class 2 rank prio range 0 3 levels 4 &&
	add_class 3 rank prio range 0 3 levels 4; then
	tap_check "(1 >> 2) + 3: tc shows the policy with its parentheses" \
		grep -q ' policy "(1 >> 2) + 3" ' <<<"$($TC qdisc show dev $DEV | tr '\n' ' ')"
	run_order "(1 >> 2) + 3: 3:0 1:0 1:3 2:0 3:3 2:3" "$SPECA" "$WANTA"
	check_joint "(1 >> 2) + 3" 1=0..3 2=4..7 3=0..6
else
	tap_fail "(1 >> 2) + 3: setup" "$($TC qdisc show dev $DEV 2>&1)"
fi

# --- 1 >> (2 + (3 > 4)), overlap 50 ----------------------------------------
# 1 (4 levels) on 0..3; tier 1 is 8 wide: 2 (8 levels) on 4..11, the
# group (3 > 4), natural width 6, stretched over 4..11: 3 on 4..8 (ranks
# 0..3 -> 4 5 6 7), 4 on 6..11 (-> 6 7 9 10).
SPECB="5004:prio=0,5002:prio=1,5003:prio=3,5001:prio=3,5004:prio=3,5003:prio=0,5002:prio=7,5002:prio=2"
WANTB="4 1 3
6 3 0
2 2 1
1 4 0
8 2 2
3 3 3
5 4 3
7 2 7"
if setup_qdisc overlap 50 policy "1 >> (2 + (3 > 4))" &&
	add_class 1 rank prio range 0 3 levels 4 &&
	add_class 2 rank prio range 0 7 levels 8 &&
	add_class 3 rank prio range 0 3 levels 4 &&
	add_class 4 rank prio range 0 3 levels 4; then
	tap_check "1 >> (2 + (3 > 4)): tc shows \"1 >> 2 + (3 > 4)\"" \
		grep -q ' policy "1 >> 2 + (3 > 4)" ' <<<"$($TC qdisc show dev $DEV | tr '\n' ' ')"
	run_order "1 >> (2 + (3 > 4)): 1:3 3:0 2:1 4:0 2:2 3:3 4:3 2:7" "$SPECB" "$WANTB"
	check_joint "1 >> (2 + (3 > 4))" 1=3..3 2=5..11 3=4..7 4=6..10
else
	tap_fail "1 >> (2 + (3 > 4)): setup" "$($TC qdisc show dev $DEV 2>&1)"
fi

$TC qdisc del dev $DEV root >/dev/null 2>&1
tap_done
