#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# qvisor as a leaf of every classful parent (DESIGN.md "Any tree"): two
# tenants of different packet sizes flood a small limit, so that packets
# are pushed out; once the traffic stops and the queues drain, every qdisc
# and class of the tree must show backlog 0b 0p, the root must have
# counted as many drops as qvisor, and the kernel log must be clean.
#
# A push-out reported as NET_XMIT_CN (what qvisor did before) leaves the
# parents counting the pushed-out packet's length for the packet that
# replaced it: their byte backlog drifts by the size difference and never
# returns to 0.  Parents that do not shape (qfq, drr, ets, prio) sit under
# a tbf, which does; netem duplicates packets above a qvisor with a rate.
. "$(dirname "$0")/lib.sh"

NS=qv-tree
DEV=veth0
DST=10.0.0.2
OUT=${TMPDIR:-/tmp}/qv-tree.$$
mkdir -p "$OUT"
on_exit "rm -rf $OUT"

udp_test_setup "tree tests"
klog_mark

QV="qvisor limit 20 noaqm policy \"1 >> 2\""
TBF="tbf rate 2mbit burst 4k latency 300ms"

# The trees: NAME|tc -batch lines; qvisor is always handle 10:.
TREES=(
"tbf|qdisc add dev $DEV root handle 1: $TBF
qdisc add dev $DEV parent 1:1 handle 10: $QV"
"htb|qdisc add dev $DEV root handle 1: htb default 1
class add dev $DEV parent 1: classid 1:1 htb rate 2mbit ceil 2mbit
qdisc add dev $DEV parent 1:1 handle 10: $QV"
"hfsc|qdisc add dev $DEV root handle 1: hfsc default 1
class add dev $DEV parent 1: classid 1:1 hfsc sc rate 2mbit ul rate 2mbit
qdisc add dev $DEV parent 1:1 handle 10: $QV"
"tbf/qfq|qdisc add dev $DEV root handle 1: $TBF
qdisc add dev $DEV parent 1:1 handle 2: qfq
class add dev $DEV parent 2: classid 2:1 qfq weight 10
filter add dev $DEV parent 2: protocol all prio 1 u32 match u32 0 0 classid 2:1
qdisc add dev $DEV parent 2:1 handle 10: $QV"
"tbf/drr|qdisc add dev $DEV root handle 1: $TBF
qdisc add dev $DEV parent 1:1 handle 2: drr
class add dev $DEV parent 2: classid 2:1 drr
filter add dev $DEV parent 2: protocol all prio 1 u32 match u32 0 0 classid 2:1
qdisc add dev $DEV parent 2:1 handle 10: $QV"
"tbf/ets|qdisc add dev $DEV root handle 1: $TBF
qdisc add dev $DEV parent 1:1 handle 2: ets bands 2 quanta 3000 3000
filter add dev $DEV parent 2: protocol all prio 1 u32 match u32 0 0 classid 2:1
qdisc add dev $DEV parent 2:1 handle 10: $QV"
"tbf/prio|qdisc add dev $DEV root handle 1: $TBF
qdisc add dev $DEV parent 1:1 handle 2: prio
filter add dev $DEV parent 2: protocol all prio 1 u32 match u32 0 0 classid 2:1
qdisc add dev $DEV parent 2:1 handle 10: $QV"
"netem duplicate|qdisc add dev $DEV root handle 1: netem duplicate 30%
qdisc add dev $DEV parent 1:1 handle 10: $QV rate 2mbit"
)

# tenants inside qvisor: UDP port 5001 -> 10:1 (1000-byte packets, tier
# 1), 5002 -> 10:2 (200-byte packets, tier 2)
TENANTS="class add dev $DEV parent 10: classid 10:1 qvisor rank prio range 0 15 levels 16
class add dev $DEV parent 10: classid 10:2 qvisor rank prio range 0 15 levels 16
filter add dev $DEV parent 10: protocol ip prio 1 u32 match ip dport 5001 0xffff classid 10:1
filter add dev $DEV parent 10: protocol ip prio 1 u32 match ip dport 5002 0xffff classid 10:2"

# words KEY N: for every qdisc and class on $DEV, "WHO: " and the N words
# after KEY in its statistics
words() {
	{ $TC -s qdisc show dev $DEV; $TC -s class show dev $DEV; } |
		awk -v k="$1" -v n="$2" '/^(qdisc|class) / { who = $1 " " $2 " " $3 }
			{ for (i = 1; i + n <= NF; i++) if ($i == k) {
				w = who ":"
				for (j = 1; j <= n; j++) w = w " " $(i + j)
				print w
			} }'
}
# backlogs: every "backlog" of every qdisc and class, one per line
backlogs() {
	words backlog 2
}
# memories: qvisor's packet memory and each of its tenants'
memories() {
	words memory 1
}

# dropped HANDLE: the "dropped" count of qdisc HANDLE
dropped() {
	$TC -s qdisc show dev $DEV | awk -v h="$1" '
		/^qdisc / { cur = $3 }
		cur == h && /dropped/ { for (i = 1; i < NF; i++) if ($i == "(dropped") { sub(/,/, "", $(i + 1)); print $(i + 1); exit } }'
}

# pushouts: qvisor's "drops pushout" count
pushouts() {
	$TC -s qdisc show dev $DEV | awk '/drops pushout/ { print $3; exit }'
}

for t in "${TREES[@]}"; do
	name=${t%%|*}
	$TC qdisc del dev $DEV root >/dev/null 2>&1
	printf '%s\n%s\n' "${t#*|}" "$TENANTS" >"$OUT/batch"
	if ! $TC -batch "$OUT/batch" >"$OUT/tc.err" 2>&1; then
		tap_fail "$name: tree set up" "$(cat "$OUT/tc.err")" "$(cat "$OUT/batch")"
		continue
	fi
	qvsend -d $DST -l 1000 -t 2 -r 400 "5001:prio=0-15" 2>"$OUT/s1.err" &
	p1=$!
	qvsend -d $DST -l 200 -t 2 -r 1200 "5002:prio=0-15" 2>"$OUT/s2.err" &
	p2=$!
	wait $p1 $p2
	# drain: 20 packets of at most 1 KB at 2 Mbit/s take 0.1 s
	wait_for 5 sh -c "$TC -s qdisc show dev $DEV | grep -q 'backlog 0b 0p'"
	sleep 0.5
	bad=$(backlogs | grep -v ': 0b 0p$')
	if [ -z "$bad" ] && [ -n "$(backlogs)" ]; then
		tap_ok "$name: every qdisc and class at backlog 0b 0p after push-outs"
	else
		tap_fail "$name: every qdisc and class at backlog 0b 0p" "$(backlogs)" \
			"$($TC -s qdisc show dev $DEV)" "$($TC -s class show dev $DEV)"
	fi
	bad=$(memories | grep -v ': 0$')
	if [ -z "$bad" ] && [ "$(memories | wc -l)" = 3 ]; then
		tap_ok "$name: qvisor and its tenants hold memory 0 after push-outs"
	else
		tap_fail "$name: qvisor and its tenants hold memory 0" "$(memories)"
	fi
	po=$(pushouts)
	if [ "${po:-0}" -gt 0 ]; then
		tap_ok "$name: qvisor pushed out $po packets"
	else
		tap_fail "$name: qvisor pushed out packets" "$($TC -s qdisc show dev $DEV)"
	fi
	if [ "$name" != "netem duplicate" ]; then
		rd=$(dropped 1:) qd=$(dropped 10:)
		if [ -n "$rd" ] && [ "$rd" = "$qd" ]; then
			tap_ok "$name: the root counted each of qvisor's $qd drops once"
		else
			tap_fail "$name: drops counted once" "root dropped '$rd', qvisor dropped '$qd'" \
				"$($TC -s qdisc show dev $DEV)"
		fi
	fi
done

# --- memory counters under a parent: htb shapes, qvisor "1 + 2" with
# memlimit 64k, so that each tenant without a limit of its own may hold
# half of it (32768 bytes of truesize).  Tenant 2 floods 1000-byte packets
# at 4x the link, tenant 1 sends 200-byte packets far below its half:
# while the queue is full, qvisor holds at most 64k, tenant 2 at most its
# part (and more than a quarter of it: it is the one that fills), its
# excess is dropped as tenant_limit, tenant 1 loses nothing; once drained,
# every counter is back to 0.
mem_batch() {
	printf '%s\n' \
		"qdisc add dev $DEV root handle 1: htb default 1" \
		"class add dev $DEV parent 1: classid 1:1 htb rate 2mbit ceil 2mbit" \
		"qdisc add dev $DEV parent 1:1 handle 10: qvisor limit 1000 noaqm memlimit 64k policy \"1 + 2\"" \
		"$TENANTS"
}
$TC qdisc del dev $DEV root >/dev/null 2>&1
mem_batch >"$OUT/batch"
if $TC -batch "$OUT/batch" >"$OUT/tc.err" 2>&1; then
	qvsend -d $DST -l 1000 -t 3 -r 1000 "5002:prio=0-15" 2>"$OUT/s2.err" &
	p2=$!
	qvsend -d $DST -l 200 -t 3 -r 100 "5001:prio=0-15" 2>"$OUT/s1.err" &
	p1=$!
	qmem=0 cmem=0 part=
	for i in 1 2 3 4 5; do
		sleep 0.5
		m=$($TC -s qdisc show dev $DEV | sed -n 's/.* memory \([0-9]*\).*/\1/p')
		[ "${m:-0}" -gt "$qmem" ] && qmem=$m
		m=$(class_word 10:2 memory) part=$(class_word 10:2 memory 3)
		[ "${m:-0}" -gt "$cmem" ] && cmem=$m
	done
	wait $p1 $p2
	d1=$(class_word 10:1 "(dropped") t2=$(class_word 10:2 tenant_limit)
	tap_diag "htb/qvisor memlimit 64k: qvisor held up to $qmem bytes," \
		"tenant 2 up to $cmem of ${part:-?} (tenant_limit ${t2:-?})," \
		"tenant 1 dropped ${d1%,}"
	if [ "$part" = 32768 ] && [ "$cmem" -le 32768 ] &&
		[ "$cmem" -gt 8192 ] && [ "$qmem" -le 65536 ] &&
		[ "${t2:-0}" -gt 0 ] && [ "${d1%,}" = 0 ]; then
		tap_ok "htb/qvisor memlimit: tenant 2 held up to $cmem of its part $part, $t2 over it dropped, tenant 1 lost nothing"
	else
		tap_fail "htb/qvisor memlimit: tenant 2 within its part 32768, tenant 1 lost nothing" \
			"qvisor up to $qmem, tenant 2 up to $cmem of '$part'," \
			"tenant_limit '$t2', tenant 1 dropped '$d1'" \
			"$($TC -s qdisc show dev $DEV)" "$($TC -s class show dev $DEV)"
	fi
	wait_for 5 sh -c "$TC -s qdisc show dev $DEV | grep -q 'backlog 0b 0p'"
	sleep 0.5
	bad=$( { backlogs | grep -v ': 0b 0p$'; memories | grep -v ': 0$'; } )
	if [ -z "$bad" ] && [ "$(memories | wc -l)" = 3 ]; then
		tap_ok "htb/qvisor memlimit: backlog 0b 0p and memory 0 everywhere once drained"
	else
		tap_fail "htb/qvisor memlimit: backlog and memory back to 0" \
			"$(backlogs)" "$(memories)"
	fi
else
	tap_fail "htb/qvisor memlimit: set up" "$(cat "$OUT/tc.err")" "$(cat "$OUT/batch")"
fi

# --- IPv6 and IPv4 together: htb above qvisor, tenant 1 is iperf3 UDP
# over IPv6 with traffic class 0x28 (DSCP 10, rank dscp), tenant 2 IPv4
# (qvsend); flower classifies both.  The IPv6 packets must be ranked by
# their traffic class and counted back to 0 like the IPv4 ones.
v6_setup() {
	echo 0 >/proc/sys/net/ipv6/conf/$DEV/disable_ipv6 &&
		$IP addr add fd00::1/64 dev $DEV nodad &&
		$IP -n $NS addr add fd00::2/64 dev veth1 nodad &&
		$IP neigh replace fd00::2 lladdr "$($IP -n $NS link show veth1 |
			awk '/link\/ether/{print $2}')" dev $DEV nud permanent
}
if command -v iperf3 >/dev/null && v6_setup; then
	$TC qdisc del dev $DEV root >/dev/null 2>&1
	printf '%s\n' \
		"qdisc add dev $DEV root handle 1: htb default 1" \
		"class add dev $DEV parent 1: classid 1:1 htb rate 2mbit ceil 2mbit" \
		"qdisc add dev $DEV parent 1:1 handle 10: $QV" \
		"class add dev $DEV parent 10: classid 10:1 qvisor rank dscp range 0 63 levels 64" \
		"class add dev $DEV parent 10: classid 10:2 qvisor rank prio range 0 15 levels 16" \
		"filter add dev $DEV parent 10: protocol ipv6 prio 1 flower ip_proto udp dst_port 5201 classid 10:1" \
		"filter add dev $DEV parent 10: protocol ip prio 2 flower ip_proto udp dst_port 5002 classid 10:2" \
		>"$OUT/batch"
	if $TC -batch "$OUT/batch" >"$OUT/tc.err" 2>&1; then
		$IP netns exec $NS iperf3 -s -1 -p 5201 >"$OUT/srv" 2>&1 &
		srv=$!
		sleep 0.5
		iperf3 -6 -c fd00::2 -p 5201 -u -b 3M -l 1000 -S 0x28 -t 2 >"$OUT/cli" 2>&1 &
		cli=$!
		qvsend -d $DST -l 200 -t 2 -r 1200 "5002:prio=0-15" 2>"$OUT/s2.err"
		wait $cli
		wait_for 5 sh -c "$TC -s qdisc show dev $DEV | grep -q 'backlog 0b 0p'"
		sleep 0.5
		kill $srv 2>/dev/null
		ranks=$($TC -s class show dev $DEV | awk '/^class qvisor 10:1 / { c = 1 }
			c && / ranks / { print $2; exit }')
		sent6=$($TC -s class show dev $DEV | awk '/^class qvisor 10:1 / { c = 1 }
			c && /Sent/ { print $4; exit }')
		bad=$(backlogs | grep -v ': 0b 0p$')
		# iperf3's UDP handshake datagram goes before it sets the
		# traffic class: rank 0 once; every data packet is rank 10
		if [ -z "$bad" ] && [ "${sent6:-0}" -gt 100 ] &&
			[ "${ranks#*..}" = 10 ]; then
			tap_ok "IPv6 + IPv4 under htb: backlog 0b 0p everywhere, $sent6 IPv6 packets ranked by traffic class (ranks $ranks)"
		else
			tap_fail "IPv6 + IPv4 under htb" "IPv6 sent '$sent6', ranks '$ranks'" \
				"$(backlogs)" "$($TC -s class show dev $DEV)" "$(cat "$OUT/cli")"
		fi
	else
		tap_fail "IPv6 + IPv4 under htb: set up" "$(cat "$OUT/tc.err")"
	fi
else
	tap_skip "IPv6 + IPv4 under htb" "no iperf3 or no IPv6 on $DEV"
fi

$TC qdisc del dev $DEV root >/dev/null 2>&1
klog_check "kernel log: no WARN, BUG or oops in any tree"
tap_done
