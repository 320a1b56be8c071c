#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Ranks across a hop: the sender's ranks reach qvisor on a switch.
#
# Host H (netns) -- switch S (netns, IPv6 forwarding) -- receiver R
# (netns).  qvsend runs in H and sets each packet's rank with SO_PRIORITY;
# qvisor sits on S's port towards R with a tiny rate, so that a first
# "blocker" packet occupies the link while the rest queue behind it, and
# qvrecv in R prints the arrival order (as in order.sh).  Entering S
# through the veth clears skb->priority and skb->mark, so the rank has to
# travel in the packet: tools/bpf's qv_prio2label (clsact egress of H)
# writes the priority into the IPv6 flow label, qv_label2mark (clsact
# ingress of S) copies the label into skb->mark, which S's qvisor reads
# ("rank mark", and "rank edf ... mark_budget" for deadlines in us).
# Tenants by UDP destination port (u32 ip6 dport: 5001 -> 1:1, 5002 ->
# 1:2); the blocker goes to port 5000 (the implicit tenant).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-leafspine.sh"

HNS=qv-hop-h
SNS=qv-hop-s
NS=qv-hop-r		# start_recv runs qvrecv here
DEV=s1			# S's port towards R (in $SNS)
DST=fd00:2::2
RATE=200kbit		# 64-byte payloads leave every ~4 ms, the blocker ~58 ms
BLOCKER=1400
OUT=${TMPDIR:-/tmp}/qv-hops.$$
mkdir -p "$OUT"
on_exit "rm -rf $OUT"
IPH="$IP -n $HNS"
IPR="$IP -n $NS"
TCH="$TC -n $HNS"
TC="$TC -n $SNS"	# every other tc command of this test is about S

# qvsend runs in H (run_order calls it)
qvsend() {
	$IP netns exec $HNS qvsend "$@"
}

ls_require "ranks across a hop" qvsend qvrecv

topology() {
	local n
	for n in $HNS $SNS $NS; do
		ls_ns $n || return 1
	done
	ns_sysctl $SNS net/ipv6/conf/all/forwarding 1 &&
		ls_link $HNS h0 fd00:1::1 $SNS s0 fd00:1::2 &&
		ls_link $SNS s1 fd00:2::1 $NS r0 fd00:2::2 &&
		$IPH -6 route add default via fd00:1::2 &&
		$IPR -6 route add default via fd00:2::1
}

tap_check "topology H -- S -- R (IPv6, S forwards)" topology || tap_done
tap_check "H reaches R through S" \
	$IP netns exec $HNS ping -6 -c 1 -W 2 $DST || tap_done
tap_check "qv_prio2label on H's egress (clsact, tc bpf da)" \
	sh -c "$TCH qdisc add dev h0 clsact &&
		$TCH filter add dev h0 egress prio 1 bpf da obj $BPF/qv_prio2label.o sec classifier" ||
	tap_done
$TC qdisc add dev s0 clsact

label2mark() {
	$TC filter add dev s0 ingress prio 1 bpf da obj $BPF/qv_label2mark.o sec classifier
}

# qdisc POLICY CLASS1-OPTIONS -- CLASS2-OPTIONS: fresh qvisor on S's port
# with tenants 1:1 (port 5001) and 1:2 (port 5002)
qdisc() {
	local policy=$1 c1=()
	shift
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do c1+=("$1"); shift; done
	shift
	$TC qdisc del dev $DEV root >/dev/null 2>&1
	$TC qdisc add dev $DEV root handle 1: qvisor rate $RATE noaqm \
		policy "$policy" &&
		$TC class add dev $DEV parent 1: classid 1:1 qvisor "${c1[@]}" &&
		$TC class add dev $DEV parent 1: classid 1:2 qvisor "$@" &&
		$TC filter add dev $DEV parent 1: protocol ipv6 prio 1 u32 \
			match ip6 dport 5001 0xffff classid 1:1 &&
		$TC filter add dev $DEV parent 1: protocol ipv6 prio 1 u32 \
			match ip6 dport 5002 0xffff classid 1:2
}

RANKS="9 3 12 0 7 3 15 5 9 1 0 11 3 8"
SPEC=$(for r in $RANKS; do printf '5001:prio=%s,' "$r"; done)
SPEC=${SPEC%,}

# --- without the ingress program: the mark does not cross ------------------
# (the priority set in H is gone too: the veth into S zeroes it)
if qdisc "1 >> 2" rank mark range 0 15 levels 16 -- rank fifo; then
	run_order "without label2mark, S sees no ranks: arrival order" \
		"$SPEC" "$(sent_list "$SPEC")"
else
	tap_fail "setup without label2mark" "$($TC qdisc show dev $DEV)"
fi

tap_check "qv_label2mark on S's ingress" label2mark

# --- pFabric-style ranks through the label ---------------------------------
if qdisc "1 >> 2" rank mark range 0 15 levels 16 -- rank fifo; then
	run_order "rank mark at S: rank order set in H, FIFO among equals" \
		"$SPEC" "$(sent_list "$SPEC" | sort -k3,3n -k1,1n)"
else
	tap_fail "setup rank mark" "$($TC qdisc show dev $DEV)"
fi

# --- deadlines through the label: edf with budgets in us -------------------
# deadline = arrival at S + budget; arrivals within a few ms, budgets
# 10 ms apart, so packets leave by budget (a packet without a rank,
# label 0, gets the tenant's 50 ms)
EDF="5002:prio=40000,5002:prio=10000,5002:prio=30000,5002:none=0,5002:prio=20000,5002:prio=2000"
if slow_guest; then
	tap_skip "edf at S: deadlines set in H" "timing (deadlines in us) on a slow (sanitizer) guest"
elif qdisc "1 >> 2" rank fifo -- rank edf 50ms mark_budget range 0 1000000 levels 1000; then
	run_order "edf at S: packets leave by the deadlines set in H" "$EDF" \
		"6 2 2000
2 2 10000
5 2 20000
3 2 30000
1 2 40000
4 2 0"
else
	tap_fail "setup edf" "$($TC qdisc show dev $DEV)"
fi

# --- both tenants in their own units under one policy ----------------------
# tenant 1 ranks in bytes-like units 0..15, tenant 2 deadlines in us;
# 1 >> 2: every tenant-1 packet first, by rank, then tenant 2 by deadline
MIX="5002:prio=30000,5001:prio=9,5002:prio=10000,5001:prio=2,5002:prio=20000,5001:prio=14,5001:prio=2"
if slow_guest; then
	tap_skip "1 >> 2 at S, pFabric over EDF" "timing (deadlines in us) on a slow (sanitizer) guest"
elif qdisc "1 >> 2" rank mark range 0 15 levels 16 -- \
	rank edf 50ms mark_budget range 0 1000000 levels 1000; then
	run_order "1 >> 2 at S: tenant 1 by rank, then tenant 2 by deadline" "$MIX" \
		"4 1 2
7 1 2
2 1 9
6 1 14
3 2 10000
5 2 20000
1 2 30000"
	if qdisc "2 >> 1" rank mark range 0 15 levels 16 -- \
		rank edf 50ms mark_budget range 0 1000000 levels 1000; then
		run_order "2 >> 1 at S: tenant 2 by deadline, then tenant 1 by rank" "$MIX" \
			"3 2 10000
5 2 20000
1 2 30000
4 1 2
7 1 2
2 1 9
6 1 14"
	else
		tap_fail "setup 2 >> 1" "$($TC qdisc show dev $DEV)"
	fi
else
	tap_fail "setup 1 >> 2" "$($TC qdisc show dev $DEV)"
fi

tap_done
