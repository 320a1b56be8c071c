#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Latency of a sparse flow under load, qvisor against htb + fq_codel at the
# same rate (Documentation/aqm.md).  Run in the VM with irtt added:
#
#   make KVER=K vm-artifacts
#   QVISOR_NOBUILD=1 QVISOR_VM_PROGS=/usr/bin/irtt \
#	tools/vm/run.sh K tools/bench/aqm-irtt.sh
#
# veth0 (10.0.0.1) -> veth1 (10.0.0.2, netns) at $RATE; two ECN TCP
# flows (iperf3 -P 2, net.ipv4.tcp_ecn=1) load the link while irtt sends
# a 172-byte UDP probe every 20 ms for 10 s.  Configurations:
#   idle          qvisor, no load: the probe's unloaded RTT
#   qvisor        one tenant (default 1), noaqm: probe and bulk share
#                 its FIFO
#   qvisor-aqm    the same with aqm (target 5 ms, interval 100 ms)
#   qvisor-las    aqm, the one tenant ranks its packets by `rank las`
#                 (bytes its flow sent before): the sparse probe's
#                 packets rank ahead of the bulk's, the tenant's own
#                 answer to flow queueing
#   qvisor-stfq   aqm, the one tenant ranks by `rank stfq` (start-time
#                 fair queueing over its flows, fq's answer inside a
#                 tenant)
#   qvisor-tier   aqm, the probe (UDP port 2112) in tenant 1 of
#                 policy "1 >> 2", the bulk in tenant 2
#   tier-50mbit   the tier configuration at 50 Mbit/s, where a 1514-byte
#                 frame on the wire delays the probe by 0.24 ms, not
#                 2.4 ms: its idle run (probe alone) and loaded run, to
#                 read the tier's isolation without serialization
#   htb-codel     htb rate $RATE, codel leaf: one queue with CoDel, what
#                 a FIFO tenant with the AQM should match
#   htb-fq_codel  htb rate $RATE, fq_codel leaf (flow queueing)
#   cake          cake bandwidth $RATE besteffort (flow queueing, COBALT)
# Prints "# irtt NAME: RTT min mean median max ... ", a "# row NAME:" line
# with the probe's p50/p99 RTT from irtt's JSON, p99 added to the idle
# median, loss, the bulk's goodput and the qdisc's drops/marks, and one
# TAP line per configuration (ok when irtt ran).
. "$(dirname "$0")/lib.sh"

NS=qv-irtt
DEV=veth0
DST=10.0.0.2
RATE=${QV_IRTT_RATE:-5mbit}
OUT=${TMPDIR:-/tmp}/qv-irtt.$$
mkdir -p "$OUT"
on_exit "rm -rf $OUT"

for t in irtt iperf3; do
	command -v $t >/dev/null || { tap_skip "irtt bench" "$t missing"; tap_done; }
done
qvisor_loaded || { tap_skip "irtt bench" "sch_qvisor not loaded"; tap_done; }
tap_check "veth pair across a netns" veth_pair $NS $DEV veth1 10.0.0.1 $DST ||
	tap_done
mac=$($IP -n $NS link show veth1 | awk '/link\/ether/{print $2}')
$IP neigh replace $DST lladdr "$mac" dev $DEV nud permanent
echo 1 >/proc/sys/net/ipv6/conf/$DEV/disable_ipv6 2>/dev/null
echo 1 >/proc/sys/net/ipv4/tcp_ecn
$IP netns exec $NS sh -c 'echo 1 >/proc/sys/net/ipv4/tcp_ecn'

$IP netns exec $NS iperf3 -s -p 5201 >"$OUT/srv.log" 2>&1 &
on_exit "kill $! 2>/dev/null"
$IP netns exec $NS irtt server -b $DST:2112 >"$OUT/irtt-srv.log" 2>&1 &
on_exit "kill $! 2>/dev/null"
wait_for 5 sh -c "$IP netns exec $NS ss -ltn | grep -q ':5201 '"
sleep 0.5

qd_qvisor() {
	$TC qdisc add dev $DEV root handle 1: qvisor rate $RATE default 1 "$@" &&
		$TC class add dev $DEV parent 1: classid 1:1 qvisor rank fifo
}
# qd_rank FN: aqm on, the one tenant ranks its packets by rank function FN
qd_rank() {
	$TC qdisc add dev $DEV root handle 1: qvisor rate $RATE default 1 aqm &&
		$TC class add dev $DEV parent 1: classid 1:1 qvisor rank "$1"
}
# qd_tier [RATE]: the probe in tier 1 of "1 >> 2", the rest in tier 2
qd_tier() {
	$TC qdisc add dev $DEV root handle 1: qvisor rate "${1:-$RATE}" default 2 \
		policy "1 >> 2" aqm &&
		$TC class add dev $DEV parent 1: classid 1:1 qvisor rank fifo &&
		$TC class add dev $DEV parent 1: classid 1:2 qvisor rank fifo &&
		$TC filter add dev $DEV parent 1: protocol ip prio 1 u32 \
			match ip dport 2112 0xffff classid 1:1
}
# qd_htb LEAF: htb at the rate with LEAF (codel, fq_codel) under it
qd_htb() {
	$TC qdisc add dev $DEV root handle 1: htb default 1 &&
		$TC class add dev $DEV parent 1: classid 1:1 htb rate $RATE &&
		$TC qdisc add dev $DEV parent 1:1 handle 10: "$1"
}

qd_cake() {
	$TC qdisc add dev $DEV root cake bandwidth $RATE besteffort
}

# pct FILE P: the P-th percentile of the probe's RTTs in irtt's JSON, ms
pct() {
	jq -r --argjson p "$2" '[.round_trips[] | .delay.rtt // empty] | sort |
		if length == 0 then "-" else
		.[((length - 1) * $p / 100 | floor)] / 1000000 * 100 | round / 100
		end' "$1" 2>/dev/null || echo -
}

idle_p50=""
# run NAME LOAD SETUP...: one configuration, with the bulk load or not
run() {
	local name=$1 load=$2 c="" rtt p50 p99 added good
	shift 2
	$TC qdisc del dev $DEV root >/dev/null 2>&1
	if ! "$@"; then
		tap_fail "irtt $name" "setup failed: $*"
		return
	fi
	if [ "$load" = load ]; then
		iperf3 -c $DST -p 5201 -P 2 -t 14 >"$OUT/bulk-$name.log" 2>&1 &
		c=$!
		sleep 2
	fi
	irtt client -q -i 20ms -d 10s -l 172 -o "$OUT/irtt-$name.json" \
		$DST:2112 >"$OUT/irtt-$name.log" 2>&1
	[ -n "$c" ] && wait $c
	rtt=$(awk '$1 == "RTT" { $1 = ""; print; exit }' "$OUT/irtt-$name.log")
	echo "# irtt $name: RTT min mean median max stddev:$rtt;" \
		"$(grep 'packets sent/received' "$OUT/irtt-$name.log" | tr -s ' ')"
	good=-
	if [ -n "$c" ]; then
		echo "# bulk $name: $(grep -E 'SUM.*receiver' "$OUT/bulk-$name.log")"
		good=$(awk '/SUM.*receiver/ {print $(NF - 2), $(NF - 1)}' "$OUT/bulk-$name.log")
	fi
	echo "# $name: $($TC -s qdisc show dev $DEV | grep -E 'dropped|aqm drops|marks|flows' | tr -s ' ' | tr '\n' ' ')"
	p50=$(pct "$OUT/irtt-$name.json" 50)
	p99=$(pct "$OUT/irtt-$name.json" 99)
	# "p99 added" is against the last idle run's median
	[ "$load" = idle ] && idle_p50=$p50
	added=$(awk -v a="$p99" -v b="$idle_p50" \
		'BEGIN { if (a == "-" || b == "") print "-"; else printf "%.2f", a - b }')
	echo "# row $name: p50 $p50 ms, p99 $p99 ms, p99 added $added ms;" \
		"loss $(grep -o '[0-9.]*% loss' "$OUT/irtt-$name.log" | head -n 1 | cut -d% -f1)%;" \
		"bulk $good"
	if [ -n "$rtt" ]; then
		tap_ok "irtt $name"
	else
		tap_fail "irtt $name" "$(cat "$OUT/irtt-$name.log")"
	fi
}

run idle idle qd_qvisor noaqm
run qvisor load qd_qvisor noaqm
run qvisor-aqm load qd_qvisor aqm
run qvisor-las load qd_rank las
run qvisor-stfq load qd_rank stfq
run qvisor-tier load qd_tier
idle5=$idle_p50
run idle-50mbit idle qd_tier 50mbit	# the idle median for the next row
run tier-50mbit load qd_tier 50mbit
idle_p50=$idle5
run htb-codel load qd_htb codel
run htb-fq_codel load qd_htb fq_codel
if modprobe sch_cake >/dev/null 2>&1; then
	run cake load qd_cake
else
	tap_skip "irtt cake" "sch_cake not available"
fi
$TC qdisc del dev $DEV root >/dev/null 2>&1
tap_done
