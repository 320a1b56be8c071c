#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Exact departure order of the pifo backend (P1, P4, the paper's Fig. 3).
#
# qvisor sits on veth0 (root netns, where qvsend runs) with a tiny rate, so
# that a first large "blocker" packet occupies the link while the scripted
# packets queue up behind it; qvrecv in the peer netns prints the arrival
# order ("seq tenant rank"), which must equal the PIFO order exactly.
# Tenants are chosen by UDP destination port (u32 filters: 5001 -> 1:1,
# 5002 -> 1:2, 5003 -> 1:3); the blocker goes to port 5000 (no class, the
# implicit tenant).  Ranks come from SO_PRIORITY (rank prio), and once
# each from IP_TOS (rank dscp) and SO_MARK (rank mark).
. "$(dirname "$0")/lib.sh"

NS=qv-order
DEV=veth0
DST=10.0.0.2
RATE=200kbit		# 64-byte payloads leave every ~4 ms, the blocker ~58 ms
BLOCKER=1400
OUT=${TMPDIR:-/tmp}/qv-order.$$
mkdir -p "$OUT"
on_exit "rm -rf $OUT"

udp_test_setup "order tests"

# pifo_order SPEC: expected PIFO order when every tenant has levels ==
# span and the tenants are in strict tiers by tenant number: by tenant,
# then rank, then sequence (FIFO among equal ranks).
pifo_order() {
	sent_list "$1" | sort -k2,2n -k3,3n -k1,1n
}

# class_stat MINOR: "RMIN RMAX JMIN JMAX CLAMPED" from tc -s class show
class_stat() {
	$TC -s class show dev $DEV | awk -v want="1:$1" '
		/^class / { cur = $3 }
		cur == want && /ranks / {
			for (i = 1; i <= NF; i++) {
				if ($i == "ranks") { split($(i + 1), r, /\.\./) }
				if ($i == "joint") { split($(i + 1), j, /\.\./) }
				if ($i == "clamped") { c = $(i + 1) }
			}
			print r[1], r[2], j[1], j[2], c; exit
		}'
}

# check_stats NAME MINOR "RMIN RMAX JMIN JMAX CLAMPED"
check_stats() {
	local got
	got=$(class_stat "$2")
	if [ "$got" = "$3" ]; then
		tap_ok "$1: class 1:$2 ranks/joint/clamped $got"
	else
		tap_fail "$1: class 1:$2 ranks/joint/clamped" "want: $3" \
			"got:  $got" "$($TC -s class show dev $DEV)"
	fi
}

# --- P4: one tenant, shuffled ranks, levels == span ----------------------
RANKS4="9 3 12 0 7 3 15 5 9 1 0 11 3 8"
SPEC4=$(for r in $RANKS4; do printf '5001:prio=%s,' "$r"; done)
SPEC4=${SPEC4%,}
if setup_qdisc && add_class 1 rank prio range 0 15 levels 16; then
	run_order "P4 prio: one tenant leaves in rank order, FIFO among equals" \
		"$SPEC4" "$(pifo_order "$SPEC4")"
	check_stats "P4 prio" 1 "0 15 0 15 0"
else
	tap_fail "P4 prio: setup" "$($TC qdisc show dev $DEV)"
fi

# --- P4 with rank dscp (IP_TOS) ------------------------------------------
SPECD=$(for r in 7 2 13 2 0 9 4; do printf '5001:dscp=%s,' "$r"; done)
SPECD=${SPECD%,}
if setup_qdisc && add_class 1 rank dscp range 0 15 levels 16; then
	run_order "P4 dscp: rank from IP_TOS, rank order + FIFO" \
		"$SPECD" "$(pifo_order "$SPECD")"
	check_stats "P4 dscp" 1 "0 13 0 13 0"
else
	tap_fail "P4 dscp: setup" "$($TC qdisc show dev $DEV)"
fi

# --- P4 with rank mark (SO_MARK) -----------------------------------------
SPECM=$(for r in 5 14 1 8 1 3 12; do printf '5001:mark=%s,' "$r"; done)
SPECM=${SPECM%,}
if setup_qdisc && add_class 1 rank mark range 0 15 levels 16; then
	run_order "P4 mark: rank from SO_MARK, rank order + FIFO" \
		"$SPECM" "$(pifo_order "$SPECM")"
	check_stats "P4 mark" 1 "1 14 1 14 0"
else
	tap_fail "P4 mark: setup" "$($TC qdisc show dev $DEV)"
fi

# --- P1: 1 >> 2, interleaved, tenant 2 with better raw ranks --------------
SPEC1="5002:prio=0,5001:prio=9,5002:prio=3,5001:prio=2,5002:prio=1"
SPEC1="$SPEC1,5001:prio=15,5002:prio=0,5001:prio=2,5002:prio=7,5001:prio=4"
if setup_qdisc policy "1 >> 2" &&
	add_class 1 rank prio range 0 15 levels 16 &&
	add_class 2 rank prio range 0 15 levels 16; then
	if run_order "P1 1 >> 2: all of tenant 1 first, each tenant in rank order" \
		"$SPEC1" "$(pifo_order "$SPEC1")"; then
		last1=$(grep -n '^[0-9]* 1 ' "$OUT/got" | tail -n1 | cut -d: -f1)
		first2=$(grep -n '^[0-9]* 2 ' "$OUT/got" | head -n1 | cut -d: -f1)
		if [ -n "$last1" ] && [ -n "$first2" ] && [ "$last1" -lt "$first2" ]; then
			tap_ok "P1: last tenant-1 packet ($last1) before first tenant-2 packet ($first2)"
		else
			tap_fail "P1: tenant 1 strictly first" "$(cat "$OUT/got")"
		fi
	else
		tap_fail "P1: tenant 1 strictly first" "see above"
	fi
	check_stats "P1" 1 "2 15 2 15 0"
	check_stats "P1" 2 "0 7 16 23 0"
else
	tap_fail "P1: setup" "$($TC qdisc show dev $DEV)"
fi

# --- The paper's Fig. 3: 1 >> 2 + 3 ----------------------------------------
# t1 range 7 9 levels 3: 7->0 8->1 9->2; t2 range 1 3 levels 2: 1->3 3->4;
# t3 range 3 5 levels 2: 3->3 5->4.  Tier 2 leaves by joint rank, then FIFO.
SPEC3="5003:prio=5,5002:prio=3,5001:prio=9,5003:prio=3,5002:prio=1,5001:prio=7,5001:prio=8"
WANT3="6 1 7
7 1 8
3 1 9
4 3 3
5 2 1
1 3 5
2 2 3"
if setup_qdisc policy "1 >> 2 + 3" &&
	add_class 1 rank prio range 7 9 levels 3 &&
	add_class 2 rank prio range 1 3 levels 2 &&
	add_class 3 rank prio range 3 5 levels 2; then
	run_order "Fig. 3 (1 >> 2 + 3): 1:7 1:8 1:9 3:3 2:1 3:5 2:3" "$SPEC3" "$WANT3"
	check_stats "Fig. 3" 1 "7 9 0 2 0"
	check_stats "Fig. 3" 2 "1 3 3 4 0"
	check_stats "Fig. 3" 3 "3 5 3 4 0"
	tap_diag "$($TC -s class show dev $DEV)"
else
	tap_fail "Fig. 3: setup" "$($TC qdisc show dev $DEV)"
fi

# A rank outside the declared range is clamped and counted.
SPECC="5001:prio=20,5001:prio=3"
if setup_qdisc && add_class 1 rank prio range 4 15 levels 12; then
	run_order "clamp: ranks 20 and 3 clamp to 15 and 4" "$SPECC" \
		"2 1 3
1 1 20"
	check_stats "clamp" 1 "3 20 0 11 2"
else
	tap_fail "clamp: setup" "$($TC qdisc show dev $DEV)"
fi

# --- GSO split at a full queue ---------------------------------------------
# With a rate, a GSO packet is queued as its segments.  Tenant 2 fills the
# 6-packet queue with two UDP GSO datagrams of 3 segments (ranks 1 and 2);
# tenant 1's datagram of 3 segments then pushes out tenant 2's three
# worst (rank 2), so the queue is no longer than before.  The datagram was
# still queued: the send must succeed (qvsend sets IP_RECVERR, so a
# NET_XMIT_DROP answer would fail it with ENOBUFS; TCP would take it for
# data never sent and ignore the ACKs for it).
SPECG="5002:prio=1,5002:prio=2,5001:prio=5"
if setup_qdisc limit 6 policy "1 >> 2" &&
	add_class 1 rank prio range 0 15 levels 16 &&
	add_class 2 rank prio range 0 15 levels 16; then
	run_order "GSO at a full queue: tenant 1's 3 segments push out tenant 2's worst 3" \
		"$SPECG" "7 1 5
8 1 5
9 1 5
1 2 1
2 2 1
3 2 1" 6 -G 3
	got=$($TC -s class show dev $DEV | awk '/^class / { c = $3 }
		c == "1:2" && / drops pushout / { print $3 }')
	bl=$($TC -s qdisc show dev $DEV | awk '/ backlog / { print $2, $3; exit }')
	if [ "$got" = 3 ] && [ "$bl" = "0b 0p" ]; then
		tap_ok "GSO at a full queue: 3 pushouts counted, backlog back to $bl"
	else
		tap_fail "GSO at a full queue: 3 pushouts, backlog 0b 0p" \
			"pushouts: ${got:-none}, backlog: ${bl:-none}" \
			"$($TC -s qdisc show dev $DEV; $TC -s class show dev $DEV)"
	fi
else
	tap_fail "GSO at a full queue: setup" "$($TC qdisc show dev $DEV)"
fi

$TC qdisc del dev $DEV root >/dev/null 2>&1
tap_done
