#!/bin/bash
. "$(dirname "$0")/lib.sh"
NS=qv-lee DEV=veth0 DST=10.0.1.2
SRC=("" 10.0.1.1 10.0.1.3)
on_exit "killall -q iperf3"
iperf_veth_pair "zz" "${SRC[1]}" "${SRC[2]}"
for p in 5211 5221 5222 5223; do $IP netns exec $NS iperf3 -s -D -p $p >/dev/null 2>&1; done
wait_listen $NS 5211 5221 5222 5223
for lim in 200000 3000000; do
$TC qdisc replace dev $DEV root handle 1: tbf rate 40mbit burst 20k limit $lim
for run in 1 2; do
iperf3 -B 10.0.1.1 -c $DST -p 5211 -t 8 -J > /tmp/i11 2>&1 &
for c in 1 2 3; do iperf3 -B 10.0.1.3 -c $DST -p 522$c -t 8 -J > /tmp/i2$c 2>&1 & done
sleep 4
ss -tin dst $DST | grep -E "cwnd|^ESTAB" | sed 's/^/# /' | cut -c1-250
top -b -n1 | head -15 | sed 's/^/# top /'
$TC -s qdisc show dev $DEV | sed 's/^/# /'
wait
for f in /tmp/i11 /tmp/i21 /tmp/i22 /tmp/i23; do
echo "# $lim run $run $f $(jq '.end.sum_received.bits_per_second/1e6, .end.sum_sent.retransmits' $f | tr '\n' ' ')"
done
done
done
echo "ok 1 - done"
tap_done
