#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# An adversarial tenant.  Policy "1 >> 2 + 3 + 4" on a 4 Mbit/s veth,
# weights 2:2:1 in the '+' group (targets 40/40/20 %).  Tenant 4 floods at
# ten times its share (3 flows of 320 packets/s of 1000 bytes: rank 0 by
# mark, a forged mark 0x10001, and SO_PRIORITY 0x10001 that names class
# 1:1, the top tier) and has a per-tenant limit of 30 packets; tenants 2
# and 3 send at the link rate each (backlogged); tenant 1 is a ping.
# Checks, over a 5 s window:
#   - the ping (tier 1) keeps its idle RTT (median within 5 ms) and loses
#     no packet,
#   - tenants 2 and 3 keep 40 % each of the group's bytes within 2 pp and
#     the flooder gets at most its 20 % + 2 pp,
#   - the flooder's backlog never exceeds its limit, its drops are
#     tenant-limit drops, tenants 2 and 3 have none of those, and the
#     flooder never holds more than a tenth of the shared buffer,
#   - its forged priority did not move it: class 1:1 saw only the ping.
. "$(dirname "$0")/lib.sh"

NS=qv-adv
DEV=veth0
DST=10.0.6.2
# make check-debug slows the guest ~20x (KASAN, lockdep): it sets a slower
# link and a longer window through these, so that senders stay backlogged.
RATE_MBIT=${QVISOR_ADV_MBIT:-4}
LIMIT=300
FLOOD_LIMIT=30
WIN=${QVISOR_ADV_WIN:-5}
TOL_PP=2
OUT=${TMPDIR:-/tmp}/qv-adv.$$
mkdir -p "$OUT"
on_exit "rm -rf $OUT"

qvisor_loaded || { tap_skip "adversarial" "sch_qvisor not loaded"; tap_done; }
command -v qvsend >/dev/null || { tap_skip "adversarial" "no qvsend"; tap_done; }
tap_check "veth pair across a netns" veth_pair $NS $DEV veth1 10.0.6.1 $DST ||
	tap_done
# the peer's entry too: its replies to the tier-1 ping must not wait for
# an ARP reply queued behind the flood (guard.sh lost every ping so once)
pin_neighbours 10.0.6.1
echo 1 >/proc/sys/net/ipv6/conf/$DEV/disable_ipv6 2>/dev/null
klog_mark

setup() {
	$TC qdisc add dev $DEV root handle 1: qvisor rate ${RATE_MBIT}mbit \
		limit $LIMIT noaqm policy "1 >> 2 + 3 + 4" &&
	$TC class add dev $DEV parent 1: classid 1:1 qvisor rank fifo &&
	$TC class add dev $DEV parent 1: classid 1:2 qvisor rank prio range 0 7 weight 2 &&
	$TC class add dev $DEV parent 1: classid 1:3 qvisor rank prio range 0 7 weight 2 &&
	$TC class add dev $DEV parent 1: classid 1:4 qvisor rank mark range 0 7 \
		weight 1 limit $FLOOD_LIMIT &&
	$TC filter add dev $DEV parent 1: protocol ip prio 1 u32 \
		match ip protocol 1 0xff classid 1:1 &&
	for t in 2 3 4; do
		$TC filter add dev $DEV parent 1: protocol ip prio $t u32 \
			match ip dport $((5000 + t)) 0xffff classid 1:$t || return 1
	done
}
tap_check "qvisor rate ${RATE_MBIT}mbit \"1 >> 2 + 3 + 4\", weights 2:2:1, flooder limit $FLOOD_LIMIT" \
	setup || tap_done

# snap: "USEC B1 B2 B3 B4 Q1 Q2 Q3 Q4" bytes sent and backlog packets
snap() {
	local t=${EPOCHREALTIME/./}
	echo "$t" $($TC -s class show dev $DEV | awk '
		/^class / { cur = $3 }
		/Sent/ { b[cur] = $2 }
		/backlog/ { q = $3; sub(/p$/, "", q); p[cur] = q }
		END { for (i = 1; i <= 4; i++) printf " %d", b["1:" i]
			for (i = 1; i <= 4; i++) printf " %d", p["1:" i]
			print "" }')
}

read -r idle idle_loss <<<"$(ping_rtt 15)"

# Link: 4 Mbit/s of ~1042-byte frames is ~480 packets/s; the partners
# send that much each, the flooder 2/3 of it on each of its 3 flows.
LINK_PPS=$(awk -v m="$RATE_MBIT" 'BEGIN { p = int(m * 1e6 / 8 / 1042); print (p > 3 ? p : 3) }')
# a tier-1 packet may wait for one frame on the wire: tolerance 5 ms, or
# three frame times on slow links
RTT_TOL=$(awk -v m="$RATE_MBIT" 'BEGIN { f = 3 * 1042 * 8 / m / 1000; printf "%.1f", (f > 5 ? f : 5) }')
qvsend -d $DST -l 1000 -t $((WIN + 8)) -r $LINK_PPS "5002:prio=0-7,5003:prio=0-7" \
	>/dev/null 2>"$OUT/partners.out" &
p_pid=$!
qvsend -d $DST -l 1000 -t $((WIN + 8)) -r $((LINK_PPS * 2 / 3)) \
	"5004:mark=0,5004:mark=65537,5004:prio=65537" \
	>/dev/null 2>"$OUT/flood.out" &
f_pid=$!
on_exit "kill $p_pid $f_pid 2>/dev/null"
sleep 2

read -r t0 a1 a2 a3 a4 x <<<"$(snap)"
ping_rtt $((WIN * 5)) >"$OUT/rtt" &
ping_pid=$!
maxq4=0 maxq23=0 samples=""
for i in $(seq $((WIN * 8 / 5))); do
	sleep 0.5
	read -r x x x x x q1 q2 q3 q4 <<<"$(snap)"
	samples="$samples ${q2}/${q3}/${q4}"
	[ "$q4" -gt $maxq4 ] && maxq4=$q4
	[ $((q2 + q3)) -gt $maxq23 ] && maxq23=$((q2 + q3))
done
wait $ping_pid
read -r t1 b1 b2 b3 b4 x <<<"$(snap)"
read -r loaded loaded_loss <"$OUT/rtt"
wait $p_pid $f_pid 2>/dev/null
cls=$($TC -s class show dev $DEV)

d2=$((b2 - a2)) d3=$((b3 - a3)) d4=$((b4 - a4)) d1=$((b1 - a1))
tot=$((d2 + d3 + d4))
pct() { awk -v a="$1" -v s="$tot" 'BEGIN { printf "%.2f", s ? 100 * a / s : 0 }'; }
s2=$(pct $d2) s3=$(pct $d3) s4=$(pct $d4)
mbit() { awk -v a="$1" -v us=$((t1 - t0)) 'BEGIN { printf "%.2f", us ? a * 8 / us : 0 }'; }
tap_diag "window $(((t1 - t0) / 1000)) ms: tenant 2 ${s2}% ($(mbit $d2) Mbit/s)," \
	"tenant 3 ${s3}% ($(mbit $d3) Mbit/s), flooder ${s4}% ($(mbit $d4) Mbit/s)," \
	"tier 1 $d1 bytes; backlog 2/3/4 packets:$samples"
tap_diag "senders: $(tr '\n' ' ' <"$OUT/partners.out") $(tr '\n' ' ' <"$OUT/flood.out")"

# --- tier 1 latency -----------------------------------------------------
if [ "$idle" != none ] && [ "$loaded" != none ] &&
	awk -v i="$idle" -v l="$loaded" -v t="$RTT_TOL" 'BEGIN { exit !(l <= i + t) }'; then
	tap_ok "tier-1 ping RTT median ${loaded} ms under the flood <= idle ${idle} + $RTT_TOL ms"
else
	tap_fail "tier-1 ping RTT median under the flood <= idle + $RTT_TOL ms" \
		"idle ${idle:-none} loaded ${loaded:-none}" "$(cat "$OUT/ping.log")"
fi
if [ "$loaded_loss" = "0%" ]; then
	tap_ok "tier-1 ping lost 0 packets under the flood"
else
	tap_fail "tier-1 ping lost 0 packets under the flood" "loss $loaded_loss"
fi

# --- shares ---------------------------------------------------------------
within() { awk -v g="$1" -v w="$2" -v d=$TOL_PP 'BEGIN { exit !(g - w <= d && w - g <= d) }'; }
if [ $tot -gt 0 ] && within "$s2" 40 && within "$s3" 40; then
	tap_ok "'+' partners keep their shares: ${s2}% and ${s3}% (target 40% +- $TOL_PP pp)"
else
	tap_fail "'+' partners keep their shares (40% +- $TOL_PP pp)" \
		"tenant 2 ${s2}%, tenant 3 ${s3}%, flooder ${s4}%" "$cls"
fi
if awk -v s="$s4" -v d=$TOL_PP 'BEGIN { exit !(s <= 20 + d) }'; then
	tap_ok "flooder at 10x its share gets ${s4}% (<= 20% + $TOL_PP pp)"
else
	tap_fail "flooder gets at most its share" "${s4}%"
fi

# --- buffer ---------------------------------------------------------------
# drops by reason per class: "CLASS PUSHOUT LIMIT TENANT_LIMIT"
drops=$(awk '/^class / { cur = $3 }
	/drops pushout/ { for (i = 1; i <= NF; i++) {
		if ($i == "pushout") p = $(i + 1)
		if ($i == "limit") l = $(i + 1)
		if ($i == "tenant_limit") t = $(i + 1) }
		print cur, p, l, t }' <<<"$cls")
read -r x x x tl4 <<<"$(grep '^1:4 ' <<<"$drops")"
read -r x x x tl2 <<<"$(grep '^1:2 ' <<<"$drops")"
read -r x x x tl3 <<<"$(grep '^1:3 ' <<<"$drops")"
tap_diag "drops (class pushout limit tenant_limit): $(tr '\n' ';' <<<"$drops")"
if [ "$maxq4" -le $FLOOD_LIMIT ] && [ "$maxq4" -le $((LIMIT / 10)) ]; then
	tap_ok "flooder backlog at most $maxq4 packets (its limit $FLOOD_LIMIT, buffer $LIMIT); partners up to $maxq23"
else
	tap_fail "flooder backlog within its limit" "max $maxq4 packets, samples$samples"
fi
if [ "${tl4:-0}" -gt 0 ] && [ "${tl2:-1}" -eq 0 ] && [ "${tl3:-1}" -eq 0 ]; then
	tap_ok "flooder dropped by its tenant limit ($tl4 packets), partners never"
else
	tap_fail "flooder dropped by its tenant limit, partners never" \
		"tenant_limit drops: flooder ${tl4:-?}, tenant 2 ${tl2:-?}, tenant 3 ${tl3:-?}" "$cls"
fi
# The ping sends 84-byte frames: 5 per second of the window, ~0.5 kB/s.
# The flooder's forged priority 1:1 would put its whole rate there.
if [ $d1 -lt $((WIN * 4000)) ]; then
	tap_ok "forged priority 1:1 did not reach tier 1 ($d1 bytes there, the ping's)"
else
	tap_fail "forged priority 1:1 did not reach tier 1" "$d1 bytes in class 1:1"
fi
klog_check "kernel log: no oops, WARN, BUG or sanitizer report"
tap_diag "adversarial: tier-1 RTT idle $idle ms loaded $loaded ms loss $loaded_loss;" \
	"shares $s2/$s3/$s4 %; flooder backlog max $maxq4; tenant-limit drops $tl4"
$TC qdisc del dev $DEV root
tap_done
