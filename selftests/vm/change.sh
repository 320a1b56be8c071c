#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# A change with packets queued takes effect for them (DESIGN.md "Runtime
# change"): the queued packets are re-placed by the new transforms, each
# tenant's own order kept, so P1-P6 of the new configuration hold from the
# first dequeue after the commit.  And a changed ceil is a new token
# bucket: a debt counted at the old ceil does not hold a tenant back.
#
# As in order.sh, qvisor sits on veth0 with a slow rate; a blocker packet
# holds the link while the scripted packets queue up behind it; the change
# is made while they wait; qvrecv in the peer netns prints the arrival
# order ("seq tenant rank").  A plain FIFO, or qvisor keeping the joint
# ranks of the old synthesis, would deliver another order.
. "$(dirname "$0")/lib.sh"

NS=qv-change
DEV=veth0
DST=10.0.0.2
RATE=20kbit		# the blocker holds the link ~560 ms, a packet ~40 ms
BLOCKER=1400
OUT=${TMPDIR:-/tmp}/qv-change.$$
mkdir -p "$OUT"
on_exit "rm -rf $OUT"

udp_test_setup "change tests"

# change_order NAME SPEC EXPECTED CHANGE-CMD...: SPEC queued behind a
# blocker, CHANGE-CMD run while it waits, then the arrival order must be
# EXPECTED and the qdisc must have counted the queued packets re-placed.
change_order() {
	local name=$1 spec=$2 expected=$3 n r0 r1
	shift 3
	n=$(echo "$spec" | tr ',' '\n' | wc -l)
	r0=$(replaced)
	if ! start_recv "$n" 4000; then
		tap_fail "$name" "qvrecv did not start: $(cat "$OUT/recv.err")"
		return 1
	fi
	if ! qvsend -d $DST -B $BLOCKER "$spec" 2>"$OUT/send.err"; then
		tap_fail "$name" "qvsend failed: $(cat "$OUT/send.err")"
		kill $RPID 2>/dev/null
		return 1
	fi
	"$@" >"$OUT/change.err" 2>&1 ||
		tap_fail "$name: the change" "$*" "$(cat "$OUT/change.err")"
	r1=$(replaced)
	wait $RPID
	order_result "$name" "$spec" "$expected"
	if [ "$((r1 - r0))" -ge "$n" ]; then
		tap_ok "$name: $((r1 - r0)) queued packets counted re-placed"
	else
		tap_fail "$name: queued packets counted re-placed" \
			"replaced went from $r0 to $r1, $n packets were queued"
	fi
}

replaced() {
	$TC -s qdisc show dev $DEV |
		awk '{ for (i = 1; i < NF; i++) if ($i == "replaced") { print $(i + 1); exit } }'
}

# by_tenant_order TENANTS SPEC: the PIFO order when the tenants are strict
# tiers in the order TENANTS (e.g. "2 1"): by tier, rank, sequence
by_tenant_order() {
	local t tiers=$1
	for t in $tiers; do
		sent_list "$2" | awk -v t="$t" '$2 == t' | sort -k3,3n -k1,1n
	done
}

# --- P1: "1 >> 2" reversed to "2 >> 1" with both tenants queued ----------
SPEC1="5001:prio=3,5002:prio=7,5001:prio=0,5002:prio=2,5001:prio=9"
SPEC1="$SPEC1,5002:prio=2,5001:prio=1,5002:prio=0"
if setup_qdisc policy "1 >> 2" &&
	add_class 1 rank prio range 0 15 levels 16 &&
	add_class 2 rank prio range 0 15 levels 16; then
	change_order "policy 1 >> 2 -> 2 >> 1 with a backlog: tenant 2 first, each in rank order" \
		"$SPEC1" "$(by_tenant_order "2 1" "$SPEC1")" \
		$TC qdisc change dev $DEV root qvisor policy "2 >> 1"
else
	tap_fail "policy flip: setup" "$($TC qdisc show dev $DEV)"
fi

# --- P4 after a range change: ranks 0..7 clamped to 8 (one bucket, FIFO)
# until the range is 0 7; the queued packets then leave in rank order.
SPEC2="5001:prio=5,5001:prio=1,5001:prio=7,5001:prio=0,5001:prio=3,5001:prio=1"
if setup_qdisc && add_class 1 rank prio range 8 15 levels 8; then
	change_order "range 8 15 -> 0 7 with a backlog: queued packets in rank order" \
		"$SPEC2" "$(sent_list "$SPEC2" | sort -k3,3n -k1,1n)" \
		$TC class change dev $DEV parent 1: classid 1:1 qvisor range 0 7
else
	tap_fail "range change: setup" "$($TC qdisc show dev $DEV)"
fi

# --- levels 1 -> 16: from FIFO to rank order ---------------------------------
SPEC3="5001:prio=9,5001:prio=2,5001:prio=14,5001:prio=2,5001:prio=0"
if setup_qdisc && add_class 1 rank prio range 0 15 levels 1; then
	change_order "levels 1 -> 16 with a backlog: queued packets in rank order" \
		"$SPEC3" "$(sent_list "$SPEC3" | sort -k3,3n -k1,1n)" \
		$TC class change dev $DEV parent 1: classid 1:1 qvisor levels 16
else
	tap_fail "levels change: setup" "$($TC qdisc show dev $DEV)"
fi

# --- a tenant joins a '+' group: "1 + 2 >> 3" with only 1 and 3 present;
# tenant 2 (levels 64) joins, which widens the group and moves tier 1
# (tenant 3) up.  Packets of tenant 1 and 2 sent after the join must
# still leave before every queued tenant-3 packet (P1); without the
# re-place, tenant 3's queued packets would keep joint ranks that the
# widened group now covers.
SPEC4A="5003:prio=0,5001:prio=15,5003:prio=1,5001:prio=12,5003:prio=0"
SPEC4B="5001:prio=15,5002:prio=63,5001:prio=14,5002:prio=60"
if setup_qdisc policy "1 + 2 >> 3" &&
	add_class 1 rank prio range 0 15 levels 16 &&
	add_class 3 rank prio range 0 15 levels 16; then
	if start_recv 9 4000 && qvsend -d $DST -B $BLOCKER "$SPEC4A" 2>"$OUT/send.err"; then
		printf '%s\n' \
			"class add dev $DEV parent 1: classid 1:2 qvisor rank prio range 0 63 levels 64" \
			"filter add dev $DEV parent 1: protocol ip prio 1 u32 match ip dport 5002 0xffff classid 1:2" \
			>"$OUT/batch"
		$TC -batch "$OUT/batch" >"$OUT/change.err" 2>&1 ||
			tap_fail "join: tenant 2 added" "$(cat "$OUT/change.err")"
		qvsend -d $DST "$SPEC4B" 2>>"$OUT/send.err"
		wait $RPID
		last01=$(awk '$2 != 3 { n = NR } END { print n + 0 }' "$OUT/got")
		first3=$(awk '$2 == 3 { print NR; exit }' "$OUT/got")
		n3=$(awk '$2 == 3' "$OUT/got" | wc -l)
		if [ "$(wc -l <"$OUT/got")" = 9 ] && [ "$n3" = 3 ] &&
			[ "$last01" -lt "$first3" ]; then
			tap_ok "join '+' group with a backlog: tier 0 (1, 2) before every queued tier-1 packet"
		else
			tap_fail "join '+' group with a backlog: tier 0 before tier 1" \
				"received (seq tenant rank):" "$(cat "$OUT/got")" \
				"$(cat "$OUT/send.err")" "$($TC -s class show dev $DEV)"
		fi
		tap_diag "join: $(awk '{printf "%s:%s ", $2, $3}' "$OUT/got")"
	else
		tap_fail "join: send" "$(cat "$OUT/recv.err" "$OUT/send.err")"
		kill $RPID 2>/dev/null
	fi
else
	tap_fail "join: setup" "$($TC qdisc show dev $DEV)"
fi

# --- ceil 8kbit -> 100mbit: the old debt does not hold the tenant -------------
# At 8kbit (1000 B/s) the bucket holds ~1.5 s: the first 1400-byte packet
# leaves ~0.1 s, the second (sent while tokens are positive) a debt of
# ~1.3 s, so the third waits that long.  After the ceil is raised it must
# leave at once: the token bucket starts full at the new ceil (as htb and
# tbf reset theirs), not with the debt counted at the old ceil.
$TC qdisc del dev $DEV root >/dev/null 2>&1
if $TC qdisc add dev $DEV root handle 1: qvisor noaqm &&
	add_class 1 rank prio range 0 15 ceil 8kbit burst 1500; then
	qvsend -d $DST -l 1400 "5001:prio=0,5001:prio=0,5001:prio=0" 2>"$OUT/send.err"
	sleep 0.2
	if ! $TC class change dev $DEV parent 1: classid 1:1 qvisor ceil 100mbit; then
		tap_fail "ceil change" "$($TC -s class show dev $DEV)"
	fi
	t0=$EPOCHREALTIME
	# right after the change: a full bucket (minus what just left), not
	# the old debt (about -1.3 s, converted at the new ceil)
	tokens=$($TC -s class show dev $DEV | awk '{ for (i = 1; i < NF; i++) if ($i == "tokens") { print $(i + 1); exit } }')
	wait_for 5 sh -c "$TC -s class show dev $DEV | grep -q 'backlog 0b 0p'"
	ms=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }')
	sent=$($TC -s class show dev $DEV | awk '/Sent/ { print $4; exit }')
	if [ "$ms" -lt 700 ] && [ "$sent" = 3 ]; then
		tap_ok "ceil 8kbit -> 100mbit: the waiting packet left ${ms} ms after the change (old debt ~1.4 s)"
	else
		tap_fail "ceil 8kbit -> 100mbit: no old debt" "drained after ${ms} ms, sent $sent" \
			"$($TC -s class show dev $DEV)"
	fi
	if [ -n "$tokens" ] && [ "$tokens" -gt 0 ]; then
		tap_ok "ceil 100mbit: tokens $tokens bytes right after the change (a new bucket, none of the old debt)"
	else
		tap_fail "ceil 100mbit: tokens positive" "tokens '$tokens'" "$($TC -s class show dev $DEV)"
	fi
else
	tap_fail "ceil change: setup" "$($TC qdisc show dev $DEV)"
fi

# --- the policy can be cleared ------------------------------------------------
if setup_qdisc policy "1 >> 2" &&
	$TC qdisc change dev $DEV root qvisor policy "" &&
	! $TC qdisc show dev $DEV | grep -q 'policy'; then
	tap_ok "policy \"\" clears the policy"
else
	tap_fail "policy \"\" clears the policy" "$($TC qdisc show dev $DEV)"
fi

tap_diag "$($TC -s qdisc show dev $DEV)"
$TC qdisc del dev $DEV root >/dev/null 2>&1
tap_done
