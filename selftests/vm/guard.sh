#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# qvisorctl watch [guard]: a tenant that switches to a gaming rank stream
# halfway is detected and capped, and the cap is lifted once its stream
# is normal again.  "3 >> 1 + 2" on a 400 kbit/s link: tenants 1 and 2
# at 50:50, both ranking by prio over a declared range 0..15 and
# offering about 350 kbit/s each (so that shares matter).  The spec's rule:
#	best > 80% for 2s: ceil 100kbit	(restore 3s)
# Phase 1, both honest (ranks spread over 0..15, about 1/16 at the best
# rank): no action.  Phase 2, tenant 2 sends every packet at rank 0: the
# guard caps it within 5 s (measured), tenant 1 is left alone and its
# share at the receiver is not lower than in phase 1 and the gamer gets
# at most 90 kbit/s of payload (capped: ~60, its 50% share: ~120).
# Phase 3, tenant 2 honest again: the cap is lifted within restore + 2 s.
# Tier 1 (tenant 3) is a ping every 0.2 s: its median RTT with the gamer
# capped stays within 5 ms of its RTT while both were honest, and no
# ping is lost.
# The tenants are classified by u32 filters (UDP port, ICMP), outside
# qvisorctl's priority band, which watch leaves alone.
. "$(dirname "$0")/lib.sh"

NS=qv-guard
DEV=veth0
DST=10.0.0.2
CTL=${QVISORCTL:-qvisorctl}
OUT=${TMPDIR:-/tmp}/qv-guard.$$
S=1
slow_guest && S=4
mkdir -p "$OUT"
on_exit "rm -rf $OUT"

udp_test_setup "guard tests"
command -v "$CTL" >/dev/null || { tap_skip "guard tests" "$CTL missing"; tap_done; }

cat >"$OUT/g.spec" <<EOF
[link]
dev = $DEV
rate = 400kbit
limit = 200
aqm = off
policy = 3 >> 1 + 2

[tenant probe]
class = 3
rank = fifo

[tenant honest]
class = 1
rank = prio
range = 0 15
levels = 16
weight = 50

[tenant gamer]
class = 2
rank = prio
range = 0 15
levels = 16
weight = 50

[guard]
rule = best > 80% for 2s: ceil 100kbit
restore = 3s
min_packets = 20
EOF

"$CTL" watch "$OUT/g.spec" >"$OUT/watch.log" 2>&1 &
WPID=$!
on_exit "kill $WPID 2>/dev/null"
if wait_for $((5 * S)) sh -c "$TC class show dev $DEV | grep -q '1:2 '" &&
	$TC filter add dev $DEV parent 1: protocol ip prio 1 u32 \
		match ip dport 5001 0xffff classid 1:1 &&
	$TC filter add dev $DEV parent 1: protocol ip prio 2 u32 \
		match ip dport 5002 0xffff classid 1:2 &&
	$TC filter add dev $DEV parent 1: protocol ip prio 3 u32 \
		match ip protocol 1 0xff classid 1:3; then
	tap_ok "watch applied the spec with a [guard] rule; port filters added"
else
	tap_fail "watch applies the spec" "$(cat "$OUT/watch.log")" \
		"$($TC class show dev $DEV)"
	tap_done
fi

capped() {
	$TC class show dev $DEV classid 1:2 | grep -q ' ceil '
}

# phase SECS RANKS2 NAME: both tenants flood for SECS s (tenant 1 honest,
# tenant 2 at RANKS2) while qvrecv counts 3 s in the middle of it;
# sets B1 B2 (bytes at the receiver)
phase_start() {
	qvsend -d $DST -t "$1" -r 400 "5001:prio=0-15,5002:prio=$2" \
		2>>"$OUT/flood" &
	SPID=$!
}
measure() {
	$IP netns exec $NS qvrecv -p 5001,5002 -w 3 >"$OUT/rx" 2>&1
	B1=$(awk '$1 == 5001 { print $2 }' "$OUT/rx")
	B2=$(awk '$1 == 5002 { print $2 }' "$OUT/rx")
	B1=${B1:-0}
	B2=${B2:-0}
}
share1() {	# percent of tenant 1, one decimal
	awk -v a="$B1" -v b="$B2" 'BEGIN { if (a + b) printf "%.1f", 100 * a / (a + b); else print 0 }'
}

# --- phase 1: both honest ----------------------------------------------------
phase_start 6 0-15
sleep 1
ping_rtt 15 >"$OUT/rtt1" &
PPID1=$!
measure
wait $PPID1
wait $SPID
s1=$(share1)
best2=$($TC -s class show dev $DEV classid 1:2 | grep -o ' best [0-9]*' | cut -d' ' -f3)
if ! capped && ! grep -q 'guard:' "$OUT/watch.log" && [ "$B1" -gt 0 ] && [ "$B2" -gt 0 ]; then
	tap_ok "phase 1, both honest: no guard action (tenant 1 ${s1}% at the receiver, tenant 2 best_pkts ${best2:-?})"
else
	tap_fail "phase 1: no guard action" "$(cat "$OUT/watch.log")" \
		"$($TC -s class show dev $DEV)" "rx: $(cat "$OUT/rx")"
fi

# --- phase 2: tenant 2 games ---------------------------------------------------
t0=${EPOCHREALTIME/./}
phase_start 10 0
if wait_for $((6 * S)) capped; then
	ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
	line=$(grep 'guard: tenant gamer' "$OUT/watch.log" | head -1)
	echo "# table: guard: gaming detected and capped ${ms} ms after the switch"
	if [ $ms -le $((5000 * S)) ] && grep -q 'best [0-9]*% of .* (line .*: best > 80%): capped' <<<"$line" &&
		$TC class show dev $DEV classid 1:2 | grep -q 'ceil 100Kbit' &&
		! $TC class show dev $DEV classid 1:1 | grep -q ' ceil '; then
		tap_ok "phase 2: the gamer capped to 100kbit after $ms ms, tenant 1 left alone ($line)"
	else
		tap_fail "phase 2: the gamer capped within 5 s, only it" "$ms ms" \
			"$(cat "$OUT/watch.log")" "$($TC class show dev $DEV)"
	fi
	ping_rtt 15 >"$OUT/rtt2" &
	PPID2=$!
	measure
	wait $PPID2
	s2=$(share1)
	r2=$((B2 * 8 / 3))
	if awk -v a="$s2" -v b="$s1" 'BEGIN { exit !(a >= b - 3) }' &&
		[ "$r2" -le 90000 ]; then
		tap_ok "phase 2, capped: tenant 1 ${s2}% at the receiver (phase 1 ${s1}%), the gamer $r2 bit/s of payload"
	else
		tap_fail "phase 2: tenant 1 keeps its share, the gamer at its cap" \
			"tenant 1 ${s2}% (phase 1 ${s1}%), gamer $r2 bit/s" "rx: $(cat "$OUT/rx")"
	fi
else
	tap_fail "phase 2: the gamer is capped" "$(cat "$OUT/watch.log")" \
		"$($TC -s class show dev $DEV)"
fi
wait $SPID
read -r rtt1 loss1 <"$OUT/rtt1"
read -r rtt2 loss2 <"$OUT/rtt2" 2>/dev/null
echo "# table: guard: tier-1 ping median RTT ${rtt1} ms (${loss1} lost) both honest, ${rtt2:-?} ms (${loss2:-?} lost) with the gamer capped"
if [ "$loss1" = 0% ] && [ "$loss2" = 0% ] &&
	awk -v a="$rtt1" -v b="$rtt2" 'BEGIN { exit !(b <= a + 5) }'; then
	tap_ok "tier 1 (ping): median RTT ${rtt1} ms before, ${rtt2} ms with the gamer capped, none lost"
else
	tap_fail "tier 1 latency unaffected by the guard" "before '$rtt1 $loss1', capped '${rtt2:-none} ${loss2:-}'" \
		"$(cat "$OUT/ping.log")"
fi

# --- phase 3: tenant 2 honest again ---------------------------------------------
t0=${EPOCHREALTIME/./}
phase_start 10 0-15
if wait_for $(((3 + 2) * S + 1)) sh -c "! $TC class show dev $DEV classid 1:2 | grep -q ' ceil '"; then
	ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
	echo "# table: guard: cap lifted ${ms} ms after the stream became normal (restore 3 s)"
	if grep -q 'guard: tenant gamer (1:2): best at [0-9]*% for 3 s: the rule of line [0-9]* lifted' "$OUT/watch.log"; then
		tap_ok "phase 3: the cap lifted $ms ms after the gamer turned honest, logged"
	else
		tap_fail "phase 3: the lift is logged" "$(cat "$OUT/watch.log")"
	fi
else
	tap_fail "phase 3: the cap is lifted" "$(cat "$OUT/watch.log")" \
		"$($TC -s class show dev $DEV)"
fi
wait $SPID
tap_diag "$(cat "$OUT/watch.log")"
kill $WPID
tap_done
