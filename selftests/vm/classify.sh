#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Classification order (DESIGN.md, tc-qvisor(8) CLASSIFICATION), checked by
# per-class packet counters: a filter's class id (u32, flower, fw), else
# skb->priority whose major is the qdisc handle, else the default class,
# else the implicit best-effort tenant (xstats "implicit").  Nothing is
# dropped for lack of a class.  Then flower indev on a bridge port.
. "$(dirname "$0")/lib.sh"

NS=qv-cls
DEV=qvk0
QVSEND=${QVSEND:-qvsend}
DST=10.7.0.2
N=10

if ! qvisor_loaded; then
	tap_skip "sch_qvisor loaded" "sch_qvisor module missing"
	tap_done
fi
if ! command -v "$QVSEND" >/dev/null; then
	tap_skip "classification" "no qvsend tool (tools/qvsend.c)"
	tap_done
fi
# No IPv6 chatter (router solicitations, MLD) through the qdiscs under test.
echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6 2>/dev/null
echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6 2>/dev/null
for m in cls_u32 cls_flower cls_fw cls_bpf cls_matchall act_skbedit bridge; do
	modprobe $m 2>/dev/null
done

if ! tap_check "veth pair across a netns" \
	veth_pair $NS $DEV qvk1 10.7.0.1 $DST; then
	tap_done
fi
# Static neighbours both ways: no ARP through the qdisc (the peer answers
# our UDP with ICMP port unreachable, which needs our address resolved).
$IP neigh replace $DST dev $DEV nud permanent \
	lladdr "$($IP -n $NS link show qvk1 | awk '/link\/ether/{print $2}')"
$IP -n $NS neigh replace 10.7.0.1 dev qvk1 nud permanent \
	lladdr "$($IP link show $DEV | awk '/link\/ether/{print $2}')"

# cl_pkts DEV CLASSID: packets the class sent
cl_pkts() {
	$TC -s class show dev "$1" classid "$2" |
		awk '/Sent/{print $4; exit}'
}
# xstat DEV KEY: a qdisc xstats counter (text form "KEY N", after the
# backlog line, so that the "default" option does not count)
xstat() {
	$TC -s qdisc show dev "$1" | sed -n '/backlog/,$p' | tr ' ' '\n' |
		awk -v k="$2" 'p {print; exit} $0 == k {p = 1}'
}
qdisc_drops() {
	$TC -s qdisc show dev "$1" |
		awk '/Sent/{d = $7; sub(/,/, "", d); print d; exit}'
}

# counters DEV CLASS...: "1:1=N 1:2=M ... implicit=I default=D"
counters() {
	local dev=$1 c s=""
	shift
	for c in "$@"; do
		s="$s$c=$(cl_pkts "$dev" "$c") "
	done
	echo "${s}implicit=$(xstat "$dev" implicit) default=$(xstat "$dev" default)"
}

# expect NAME DEV "CLASSES" WANT SENDER...: run SENDER, then the counters of
# CLASSES (+ implicit, default) must have grown by WANT, e.g.
# "1:1=10 1:3=0 implicit=0 default=0" (classes not named must not grow).
expect() {
	local name=$1 dev=$2 classes=$3 want=$4 before after got k v b a
	shift 4
	before=$(counters "$dev" $classes)
	"$@" >/dev/null 2>&1
	sleep 0.3
	after=$(counters "$dev" $classes)
	got=""
	for kv in $after; do
		k=${kv%%=*}
		a=${kv#*=}
		b=$(tr ' ' '\n' <<<"$before" | sed -n "s/^$k=//p")
		got="$got$k=$((${a:-0} - ${b:-0})) "
	done
	got=${got% }
	local bad=""
	for kv in $want; do
		k=${kv%%=*}
		v=${kv#*=}
		grep -qw -- "$k=$v" <<<"$got" || bad="$bad $kv"
	done
	# every class not named in WANT must stay at 0
	for kv in $got; do
		k=${kv%%=*}
		grep -qw -- "$k=[0-9]*" <<<"$want" && continue
		[ "${kv#*=}" = 0 ] || bad="$bad $k=0"
	done
	if [ -z "$bad" ]; then
		tap_ok "$name ($got)"
	else
		tap_fail "$name" "expected:$bad" "got: $got" \
			"$($TC -s class show dev "$dev")" "$($TC -s qdisc show dev "$dev")"
	fi
}

send() { $QVSEND -d $DST "$@"; }
CL="1:1 1:2 1:3 1:4 1:5 1:6"

$TC qdisc add dev $DEV root handle 1: qvisor policy "1 >> 2 >> 3 >> 4 >> 5 >> 6"
for i in 1 2 3 4 5 6; do
	$TC class add dev $DEV parent 1: classid 1:$i qvisor rank fifo
done
$TC filter add dev $DEV parent 1: protocol ip prio 1 u32 \
	match ip dport 6001 0xffff classid 1:1
$TC filter add dev $DEV parent 1: protocol ip prio 2 flower \
	ip_proto udp dst_port 6002 classid 1:2
$TC filter add dev $DEV parent 1: protocol ip prio 3 handle 4 fw classid 1:4

expect "u32 filter -> class 1:1" $DEV "$CL" "1:1=$N" \
	send "6001:none=1x$N"
expect "u32 filter wins over skb->priority 1:3" $DEV "$CL" "1:1=$N" \
	send "6001:prio=65539x$N"
expect "flower ip_proto/dst_port -> class 1:2" $DEV "$CL" "1:2=$N" \
	send "6002:none=1x$N"
expect "fw (SO_MARK 4) -> class 1:4" $DEV "$CL" "1:4=$N" \
	send "6004:mark=4x$N"
expect "skb->priority 1:3 (SO_PRIORITY 0x10003) -> class 1:3" $DEV "$CL" \
	"1:3=$N" send "6003:prio=65539x$N"
expect "skb->priority 1:6 -> class 1:6" $DEV "$CL" "1:6=$N" \
	send "6003:prio=65542x$N"
expect "skb->priority 2:3 (other major) -> implicit" $DEV "$CL" \
	"implicit=$N" send "6003:prio=131075x$N"
expect "skb->priority 1:99 (no such class) -> implicit" $DEV "$CL" \
	"implicit=$N" send "6003:prio=65689x$N"
expect "no filter, no priority -> implicit tenant" $DEV "$CL" \
	"implicit=$N" send "6003:none=1x$N"

$TC qdisc change dev $DEV root qvisor default 5
expect "default 5 -> class 1:5 (xstats default)" $DEV "$CL" \
	"1:5=$N default=$N" send "6003:none=1x$N"
expect "skb->priority wins over default" $DEV "$CL" "1:3=$N" \
	send "6003:prio=65539x$N"
expect "filter wins over default" $DEV "$CL" "1:2=$N" send "6002:none=1x$N"
$TC qdisc change dev $DEV root qvisor default 77
expect "default 77 (no such class) -> implicit" $DEV "$CL" "implicit=$N" \
	send "6003:none=1x$N"
# the default class is looked up when classes or the option change: it
# follows a delete and a re-add of its class
$TC qdisc change dev $DEV root qvisor default 6
expect "default 6 -> class 1:6" $DEV "$CL" "1:6=$N default=$N" \
	send "6003:none=1x$N"
# what 1:6 sent goes with it: the sum at the end adds it back
gone=$(cl_pkts $DEV 1:6)
$TC class del dev $DEV classid 1:6
expect "default 6 deleted -> implicit" $DEV "1:1 1:2 1:3 1:4 1:5" \
	"implicit=$N" send "6003:none=1x$N"
$TC class add dev $DEV parent 1: classid 1:6 qvisor rank fifo
expect "default 6 added again -> class 1:6" $DEV "$CL" "1:6=$N default=$N" \
	send "6003:none=1x$N"
$TC qdisc change dev $DEV root qvisor default 0

# A filter without a class id whose action sets skb->priority: the packet
# falls through to the skb->priority step.
$TC filter add dev $DEV parent 1: protocol ip prio 4 u32 \
	match ip dport 6005 0xffff action skbedit priority 1:6
expect "u32 + skbedit priority 1:6, no classid -> class 1:6" $DEV "$CL" \
	"1:6=$N" send "6005:none=1x$N"
# A filter whose class id names no class: next steps decide.
$TC filter add dev $DEV parent 1: protocol ip prio 5 u32 \
	match ip dport 6006 0xffff classid 1:42
expect "filter to a missing class 1:42 -> skb->priority 1:3" $DEV "$CL" \
	"1:3=$N" send "6006:prio=65539x$N"
expect "filter to a missing class 1:42, no priority -> implicit" $DEV "$CL" \
	"implicit=$N" send "6006:none=1x$N"
# cls_bpf with a classic BPF program (no compiler needed): UDP destination
# port 6008 (offset 36 from the Ethernet header of an IPv4 packet without
# options) returns -1, "use this filter's classid".
$TC filter add dev $DEV parent 1: protocol ip prio 7 bpf \
	bytecode '4,40 0 0 36,21 0 1 6008,6 0 0 4294967295,6 0 0 0' \
	classid 1:5
expect "cls_bpf (classic bytecode, dport 6008) -> class 1:5" $DEV "$CL" \
	"1:5=$N" send "6008:none=1x$N"
# A filter that drops: counted as drop_classify
d0=$(xstat $DEV classify)
$TC filter add dev $DEV parent 1: protocol ip prio 6 u32 \
	match ip dport 6007 0xffff action drop
send "6007:none=1x$N" >/dev/null 2>&1
d1=$(xstat $DEV classify)
if [ "$((d1 - d0))" = $N ]; then
	tap_ok "filter action drop counted in xstats classify ($N)"
else
	tap_fail "filter action drop counted in xstats classify" "$d0 -> $d1" \
		"$($TC -s qdisc show dev $DEV)"
fi

# Everything that was not dropped by a filter left: no drops for lack of
# a class, and the qdisc's packets are the classes' (with what the deleted
# 1:6 had sent) plus the implicit ones.
sum=${gone:-0}
for c in $CL; do
	sum=$((sum + $(cl_pkts $DEV $c)))
done
implicit=$(xstat $DEV implicit)
sent=$($TC -s qdisc show dev $DEV | awk '/Sent/{print $4; exit}')
drops=$(qdisc_drops $DEV)
if [ "$drops" = $N ] && [ "$sent" = $((sum + implicit)) ] &&
	[ "$($TC -s qdisc show dev $DEV | awk '/backlog/{print $2; exit}')" = 0b ]; then
	tap_ok "nothing dropped for lack of a class (sent $sent, classes $sum, implicit $implicit, drops $drops = the filter's)"
else
	tap_fail "nothing dropped for lack of a class" \
		"sent $sent, classes $sum, implicit $implicit, drops $drops" \
		"$($TC -s qdisc show dev $DEV)"
fi
$TC qdisc del dev $DEV root

# --- flower indev on a bridge port --------------------------------------
# nsA and nsB hang off bridge qvbr via ports qvba/qvbb; the uplink port qvbu
# leads to nsU.  qvisor on qvbu sorts bridged packets by the port they
# entered the bridge through.
setup_bridge() {
	local n
	$IP link add qvbr type bridge || return 1
	on_exit "$IP link del qvbr"
	$IP link set qvbr up
	for n in a b u; do
		$IP netns add qv-ns$n || return 1
		on_exit "$IP netns del qv-ns$n"
		$IP link add qvb$n type veth peer name eth0 netns qv-ns$n || return 1
		on_exit "$IP link del qvb$n"
		$IP netns exec qv-ns$n sh -c \
			'echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6;
			 echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6' 2>/dev/null
		$IP link set qvb$n master qvbr || return 1
		$IP link set qvb$n up
		$IP -n qv-ns$n link set lo up
		$IP -n qv-ns$n link set eth0 up
	done
	$IP -n qv-nsa addr add 10.8.0.1/24 dev eth0
	$IP -n qv-nsb addr add 10.8.0.2/24 dev eth0
	$IP -n qv-nsu addr add 10.8.0.3/24 dev eth0
	mac=$($IP -n qv-nsu link show eth0 | awk '/link\/ether/{print $2}')
	$IP addr add 10.8.0.254/24 dev qvbr
	# static neighbours everywhere: no ARP through the qdisc under test
	$IP -n qv-nsa neigh replace 10.8.0.3 lladdr "$mac" dev eth0 nud permanent
	$IP -n qv-nsb neigh replace 10.8.0.3 lladdr "$mac" dev eth0 nud permanent
	$IP neigh replace 10.8.0.3 lladdr "$mac" dev qvbr nud permanent
	for n in a b; do
		$IP -n qv-nsu neigh replace 10.8.0.$([ $n = a ] && echo 1 || echo 2) \
			dev eth0 nud permanent lladdr \
			"$($IP -n qv-ns$n link show eth0 | awk '/link\/ether/{print $2}')"
	done
	$IP -n qv-nsu neigh replace 10.8.0.254 dev eth0 nud permanent \
		lladdr "$($IP link show qvbr | awk '/link\/ether/{print $2}')"
}
if ! tap_check "bridge with ports qvba, qvbb, uplink qvbu" setup_bridge; then
	tap_done
fi
$TC qdisc add dev qvbu root handle 1: qvisor policy "1 >> 2"
$TC class add dev qvbu parent 1: classid 1:1 qvisor rank fifo
$TC class add dev qvbu parent 1: classid 1:2 qvisor rank fifo
$TC filter add dev qvbu parent 1: protocol ip prio 1 flower indev qvba \
	classid 1:1
$TC filter add dev qvbu parent 1: protocol ip prio 2 flower indev qvbb \
	classid 1:2
expect "flower indev qvba -> class 1:1 (bridged)" qvbu "1:1 1:2" "1:1=$N" \
	$IP netns exec qv-nsa $QVSEND -d 10.8.0.3 "7001:none=1x$N"
expect "flower indev qvbb -> class 1:2 (bridged)" qvbu "1:1 1:2" "1:2=$N" \
	$IP netns exec qv-nsb $QVSEND -d 10.8.0.3 "7001:none=1x$N"
# veth forwarding (dev_forward_skb) zeroes skb->priority, so a namespace's
# SO_PRIORITY never reaches the bridge; a socket of the host sending through
# the bridge device keeps it (and has no input device for indev filters).
expect "indev filter wins over a netns sender's SO_PRIORITY 1:2" \
	qvbu "1:1 1:2" "1:1=$N" \
	$IP netns exec qv-nsa $QVSEND -d 10.8.0.3 "7001:prio=65538x$N"
expect "host socket via the bridge: SO_PRIORITY 1:2 -> class 1:2" qvbu \
	"1:1 1:2" "1:2=$N" $QVSEND -d 10.8.0.3 "7001:prio=65538x$N"
expect "host socket via the bridge: no priority -> implicit" qvbu \
	"1:1 1:2" "implicit=$N" $QVSEND -d 10.8.0.3 "7001:none=1x$N"
$TC filter del dev qvbu parent 1: prio 1
expect "without indev filter, netns SO_PRIORITY 1:1 arrives zeroed -> implicit" \
	qvbu "1:1 1:2" "implicit=$N" \
	$IP netns exec qv-nsa $QVSEND -d 10.8.0.3 "7001:prio=65537x$N"
tap_check "qdisc on the bridge port deleted" $TC qdisc del dev qvbu root
tap_done
