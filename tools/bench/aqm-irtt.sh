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
#   qvisor        one tenant (default 1), noaqm: probe and bulk share
#                 its FIFO
#   qvisor-aqm    the same with aqm (target 5 ms, interval 100 ms)
#   qvisor-tier   aqm, the probe (UDP port 2112) in tenant 1 of
#                 policy "1 >> 2", the bulk in tenant 2
#   htb-fq_codel  htb rate $RATE, fq_codel leaf (flow queueing)
# Prints "# irtt NAME: RTT min mean median max ... " and one TAP line per
# configuration (ok when irtt ran).
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
qd_tier() {
	$TC qdisc add dev $DEV root handle 1: qvisor rate $RATE default 2 \
		policy "1 >> 2" aqm &&
		$TC class add dev $DEV parent 1: classid 1:1 qvisor rank fifo &&
		$TC class add dev $DEV parent 1: classid 1:2 qvisor rank fifo &&
		$TC filter add dev $DEV parent 1: protocol ip prio 1 u32 \
			match ip dport 2112 0xffff classid 1:1
}
qd_fq_codel() {
	$TC qdisc add dev $DEV root handle 1: htb default 1 &&
		$TC class add dev $DEV parent 1: classid 1:1 htb rate $RATE &&
		$TC qdisc add dev $DEV parent 1:1 handle 10: fq_codel
}

# run NAME SETUP...: one configuration
run() {
	local name=$1 c rtt
	shift
	$TC qdisc del dev $DEV root >/dev/null 2>&1
	if ! "$@"; then
		tap_fail "irtt $name" "setup failed: $*"
		return
	fi
	iperf3 -c $DST -p 5201 -P 2 -t 14 >"$OUT/bulk-$name.log" 2>&1 &
	c=$!
	sleep 2
	irtt client -q -i 20ms -d 10s -l 172 $DST:2112 >"$OUT/irtt-$name.log" 2>&1
	wait $c
	rtt=$(awk '$1 == "RTT" { $1 = ""; print; exit }' "$OUT/irtt-$name.log")
	echo "# irtt $name: RTT min mean median max stddev:$rtt;" \
		"$(grep 'packets sent/received' "$OUT/irtt-$name.log" | tr -s ' ')"
	echo "# bulk $name: $(grep -E 'SUM.*receiver' "$OUT/bulk-$name.log")"
	echo "# $name: $($TC -s qdisc show dev $DEV | grep -E 'dropped|aqm drops' | tr -s ' ' | tr '\n' ' ')"
	if [ -n "$rtt" ]; then
		tap_ok "irtt $name"
	else
		tap_fail "irtt $name" "$(cat "$OUT/irtt-$name.log")"
	fi
}

run qvisor qd_qvisor
run qvisor-aqm qd_qvisor aqm
run qvisor-tier qd_tier
run htb-fq_codel qd_fq_codel
$TC qdisc del dev $DEV root >/dev/null 2>&1
tap_done
