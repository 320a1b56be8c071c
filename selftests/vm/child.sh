#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# qvisor as a child qdisc: under tbf (which peeks before it dequeues) and
# under htb, with strict priority between two tenants and the parent's rate
# as the bottleneck; and one qvisor per transmit queue under mq.
. "$(dirname "$0")/lib.sh"

NS=qv-child
DST=10.8.0.2
QVSEND=${QVSEND:-qvsend}
SECS=3

qvisor_loaded || { tap_skip "child" "sch_qvisor not loaded"; tap_done; }
command -v "$QVSEND" >/dev/null || {
	tap_skip "child" "no qvsend tool"
	tap_done
}
for m in sch_tbf sch_htb sch_mq cls_u32; do modprobe $m 2>/dev/null; done
echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6 2>/dev/null

setup() {
	$IP netns add $NS || return 1
	on_exit "$IP netns del $NS"
	$IP link add veth0 numtxqueues 2 numrxqueues 2 type veth \
		peer name veth1 numtxqueues 2 numrxqueues 2 netns $NS || return 1
	on_exit "$IP link del veth0"
	$IP addr add 10.8.0.1/24 dev veth0 && $IP link set veth0 up &&
		$IP -n $NS addr add $DST/24 dev veth1 &&
		$IP -n $NS link set veth1 up &&
		$IP neigh replace $DST dev veth0 nud permanent lladdr \
			"$($IP -n $NS link show veth1 | awk '/ether/{print $2}')"
}

# qvisor_child PARENT HANDLE: qvisor "1 >> 2" below PARENT, tenants by port
qvisor_child() {
	local h=$2
	$TC qdisc add dev veth0 parent "$1" handle $h: qvisor \
		policy "1 >> 2" &&
	$TC class add dev veth0 parent $h: classid $h:1 qvisor rank fifo &&
	$TC class add dev veth0 parent $h: classid $h:2 qvisor rank fifo &&
	$TC filter add dev veth0 parent $h: protocol ip prio 1 u32 \
		match ip dport 5001 0xffff classid $h:1 &&
	$TC filter add dev veth0 parent $h: protocol ip prio 2 u32 \
		match ip dport 5002 0xffff classid $h:2
}

cl_bytes() {
	$TC -s class show dev veth0 classid "$1" | awk '/Sent/{print $2; exit}'
}

# strict_under NAME: both tenants flood at 8 Mbit/s each for SECS through a
# 4 Mbit/s parent; tenant 1 must get at least 95% and the parent's rate
# must hold.
strict_under() {
	local name=$1 b1 b2 mbit share
	if slow_guest; then
		tap_skip "$name: strict priority under the parent's rate" \
			"share measurement on a slow (sanitizer) guest"
		return
	fi
	$QVSEND -d $DST -l 1000 -t $SECS -r 1000 "5001:none=0,5002:none=0" \
		>/dev/null 2>&1
	sleep 0.5
	b1=$(cl_bytes 10:1) b2=$(cl_bytes 10:2)
	share=$(awk -v a="$b1" -v b="$b2" 'BEGIN { printf "%.1f", 100 * a / (a + b) }')
	mbit=$(awk -v a="$b1" -v b="$b2" -v s=$SECS \
		'BEGIN { printf "%.2f", (a + b) * 8 / s / 1e6 }')
	if awk -v s="$share" 'BEGIN { exit !(s >= 95) }' &&
		awk -v m="$mbit" 'BEGIN { exit !(m > 2.5 && m < 5.5) }'; then
		tap_ok "$name: tenant 1 gets $share% of $mbit Mbit/s, parent rate holds"
	else
		tap_fail "$name: strict priority under the parent's rate" \
			"tenant 1 $share% of $mbit Mbit/s" \
			"$($TC -s qdisc show dev veth0)" "$($TC -s class show dev veth0)"
	fi
}

tap_check "veth pair with two transmit queues" setup || tap_done

if tap_check "qvisor under tbf (tbf peeks)" eval \
	"$TC qdisc add dev veth0 root handle 1: tbf rate 4mbit burst 10k latency 200ms && qvisor_child 1:1 10"; then
	strict_under "under tbf"
fi
$TC qdisc del dev veth0 root 2>/dev/null

if tap_check "qvisor under htb" eval \
	"$TC qdisc add dev veth0 root handle 1: htb default 1 &&
	 $TC class add dev veth0 parent 1: classid 1:1 htb rate 4mbit ceil 4mbit &&
	 qvisor_child 1:1 10"; then
	strict_under "under htb"
fi
$TC qdisc del dev veth0 root 2>/dev/null

if tap_check "one qvisor per transmit queue under mq" eval \
	"$TC qdisc add dev veth0 root handle 1: mq &&
	 $TC qdisc add dev veth0 parent 1:1 handle 10: qvisor &&
	 $TC qdisc add dev veth0 parent 1:2 handle 20: qvisor"; then
	$QVSEND -d $DST -l 200 -t 1 -r 500 "5001:none=0,5002:none=0,5003:none=0,5004:none=0" \
		>/dev/null 2>&1
	sent=$($TC -s qdisc show dev veth0 | awk '/^qdisc qvisor/{q = 1} q && /Sent/{s += $4; q = 0} END {print s + 0}')
	mq=$($TC -s qdisc show dev veth0 | awk '/^qdisc mq/{q = 1} q && /Sent/{print $4; exit}')
	if [ "$sent" -gt 100 ] && [ "$sent" = "$mq" ]; then
		tap_ok "mq children carried all $sent packets"
	else
		tap_fail "mq children carried the traffic" "qvisor $sent, mq $mq" \
			"$($TC -s qdisc show dev veth0)"
	fi
fi
tap_done
