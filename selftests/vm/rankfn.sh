#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# In-kernel rank functions (las, stfq, edf) and the flow table.
#
# As in order.sh: qvisor sits on veth0 with a tiny rate, a first "blocker"
# packet occupies the link while the scripted packets queue up behind it,
# and qvrecv in the peer netns prints the arrival order ("seq flow rank"),
# which must equal the rank function's order exactly.  Tenant 1:1 gets UDP
# destination ports 6144..6399 (u32 match 0x1800/0xff00); each port is one
# flow, numbered port - 6144.  qvsend -s binds each flow to a fixed source
# port, so that a flow is the same 5-tuple (the same skb hash) across
# runs.  ("none=1xN": N packets with no rank option.)  The blocker goes to port 6144, which a more specific filter sends
# to class 1:9 (rank fifo, a lower tier).
. "$(dirname "$0")/lib.sh"

NS=qv-rankfn
DEV=veth0
DST=10.0.0.2
RATE=200kbit		# 64-byte payloads leave every ~4 ms, the blocker ~58 ms
BLOCKER=1400
BASE=6144
SPORT=20000
L=106			# bytes per 64-byte UDP payload at the qdisc (with L2)
OUT=${TMPDIR:-/tmp}/qv-rankfn.$$
mkdir -p "$OUT"
on_exit "rm -rf $OUT"

udp_test_setup "rank function tests"

# setup QDISC-OPTIONS -- CLASS-OPTIONS: fresh qvisor, tenant 1:1 with
# CLASS-OPTIONS above the blocker's class 1:9
setup() {
	local qopts=()
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do qopts+=("$1"); shift; done
	shift
	$TC qdisc del dev $DEV root >/dev/null 2>&1
	$TC qdisc add dev $DEV root handle 1: qvisor rate $RATE buckets 8192 noaqm \
		policy "1 >> 9" "${qopts[@]}" &&
		$TC class add dev $DEV parent 1: classid 1:1 qvisor "$@" &&
		$TC class add dev $DEV parent 1: classid 1:9 qvisor rank fifo &&
		$TC filter add dev $DEV parent 1: protocol ip prio 1 u32 \
			match ip dport $BASE 0xffff classid 1:9 &&
		$TC filter add dev $DEV parent 1: protocol ip prio 2 u32 \
			match ip dport 0x1800 0xff00 classid 1:1
}

# ports SPEC: the destination ports of a qvsend SPEC, and the blocker's
ports() {
	{ echo $BASE; echo "$1" | tr ',' '\n' | cut -d: -f1; } | sort -un |
		paste -sd, -
}

# send_drain SPEC: send SPEC (nobody listens) and wait until it left
send_drain() {
	qvsend -d $DST -b $BASE -s $SPORT "$1" 2>"$OUT/send.err" &&
		wait_for 5 sh -c "$TC -s qdisc show dev $DEV | grep -q 'backlog 0b 0p'"
}

# run_order NAME SPEC EXPECTED: send SPEC behind a blocker, compare the
# arrival order with EXPECTED (lines "seq flow rank")
run_order() {
	local name=$1 spec=$2 expected=$3 n rpid
	n=$(echo "$spec" | tr ',' '\n' |
		awk '{ c = 1; if (match($0, /x[0-9]+$/)) c = substr($0, RSTART + 1); s += c } END { print s }')
	rm -f "$OUT/ready"
	$IP netns exec $NS qvrecv -p "$(ports "$spec")" -b $BASE -n "$n" -i 3000 \
		-r "$OUT/ready" >"$OUT/got" 2>"$OUT/recv.err" &
	rpid=$!
	if ! wait_for 5 test -f "$OUT/ready"; then
		tap_fail "$name" "qvrecv did not start: $(cat "$OUT/recv.err")"
		kill $rpid 2>/dev/null
		return 1
	fi
	if ! qvsend -d $DST -b $BASE -s $SPORT -B $BLOCKER "$spec" 2>"$OUT/send.err"; then
		tap_fail "$name" "qvsend failed: $(cat "$OUT/send.err")"
		kill $rpid 2>/dev/null
		return 1
	fi
	wait $rpid
	echo "$expected" >"$OUT/want"
	if diff -q "$OUT/want" "$OUT/got" >/dev/null; then
		tap_ok "$name"
		tap_diag "order: $(awk '{printf "%s:%s ", $1, $2}' "$OUT/got")"
		return 0
	fi
	tap_fail "$name" "expected (seq flow rank):" "$expected" \
		"received:" "$(cat "$OUT/got")" "$(cat "$OUT/recv.err")" \
		"$($TC -s qdisc show dev $DEV)" "$($TC -s class show dev $DEV)"
	return 1
}

# class_ranks MINOR: "RMIN RMAX CLAMPED" of a class from tc -s
class_ranks() {
	$TC -s class show dev $DEV | awk -v want="1:$1" '
		/^class / { cur = $3 }
		cur == want && /ranks / {
			for (i = 1; i <= NF; i++) {
				if ($i == "ranks") { split($(i + 1), r, /\.\./) }
				if ($i == "clamped") { c = $(i + 1) }
			}
			print r[1], r[2], c; exit
		}'
}

# flow_stats: "FLOWS LIVE NEW EVICTED AGED" of the qdisc from tc -s
flow_stats() {
	$TC -s qdisc show dev $DEV | awk '
		/ flows [0-9]+ live / {
			for (i = 1; i <= NF; i++) {
				if ($i == "flows") f = $(i + 1)
				if ($i == "live") l = $(i + 1)
				if ($i == "new") n = $(i + 1)
				if ($i == "evicted") e = $(i + 1)
				if ($i == "aged") a = $(i + 1)
			}
			print f, l, n, e, a; exit
		}'
}

# expect NAME GOT WANT
expect() {
	if [ "$2" = "$3" ]; then
		tap_ok "$1: $2"
	else
		tap_fail "$1" "want: $3" "got:  $2" "$($TC -s qdisc show dev $DEV)" \
			"$($TC -s class show dev $DEV)"
	fi
}

# --- las: a flow that sent before ranks behind a new one -----------------
# Flow 1 sends 5 packets and drains; then 3 more of flow 1 and 3 of a new
# flow 2 queue up: las ranks flow 2 by 0, L, 2L and flow 1 by 5L, 6L, 7L.
# (flow_idle 10s: the VM may take more than the default 1 s between phases)
if setup flow_idle 10s -- rank las range 0 4095 levels 4096 &&
	send_drain "6145:none=1x5"; then
	run_order "las: the new flow's packets first, then the old flow's" \
		"6145:none=1x3,6146:none=1x3" "4 2 0
5 2 0
6 2 0
1 1 0
2 1 0
3 1 0"
	expect "las: class ranks min max clamped (L = $L bytes)" \
		"$(class_ranks 1)" "0 $((7 * L)) 0"
	expect "las: flows live new evicted aged" \
		"$(flow_stats | cut -d' ' -f2-)" "2 2 0 0"
else
	tap_fail "las: setup" "$(cat "$OUT/send.err")" "$($TC -s qdisc show dev $DEV)"
fi

# --- stfq: the same packets; virtual time V = start tag of the last packet
# dequeued (4L after flow 1's 5 packets), the base moves to V when the
# tenant is idle: flow 1's finish tag 5L -> ranks L, 2L, 3L; the new flow
# 2 starts at V -> 0, L, 2L.  Equal ranks leave in arrival order.
if setup flow_idle 10s -- rank stfq range 0 4095 levels 4096 &&
	send_drain "6145:none=1x5"; then
	run_order "stfq: flows interleave by start tag, the new flow at V" \
		"6145:none=1x3,6146:none=1x3" "4 2 0
1 1 0
5 2 0
2 1 0
6 2 0
3 1 0"
	# the drained packets rank up to 4L, depending on how fast they came
	read -r rmin rmax clamped <<<"$(class_ranks 1)"
	if [ "${rmax:-0}" -ge $((3 * L)) ] && [ "$rmax" -le $((4 * L)) ] &&
		[ "$clamped" = 0 ]; then
		tap_ok "stfq: ranks $rmin..$rmax, none clamped"
	else
		tap_fail "stfq: ranks" "got $rmin..$rmax clamped $clamped" \
			"$($TC -s class show dev $DEV)"
	fi
else
	tap_fail "stfq: setup" "$(cat "$OUT/send.err")" "$($TC -s qdisc show dev $DEV)"
fi

# --- stfq: three backlogged flows, 4 packets each, sent flow by flow:
# round robin by start tag.
if setup -- rank stfq range 0 4095 levels 4096; then
	run_order "stfq: three flows sent one after the other leave round robin" \
		"6145:none=1x4,6146:none=1x4,6147:none=1x4" "1 1 0
5 2 0
9 3 0
2 1 0
6 2 0
10 3 0
3 1 0
7 2 0
11 3 0
4 1 0
8 2 0
12 3 0"
else
	tap_fail "stfq round robin: setup" "$($TC -s qdisc show dev $DEV)"
fi

# --- edf, budgets from SO_MARK (usec), tenant budget 50 ms otherwise ----
# deadline = arrival + budget; arrivals are within a few ms, budgets 8 ms
# or more apart, so packets leave by budget.
if slow_guest; then
	tap_skip "edf: deadline order and ranks from the mark" "timing (deadlines in us, idle times) on a slow (sanitizer) guest"
elif setup -- rank edf 50ms mark_budget range 0 1000000 levels 1000; then
	run_order "edf: packets leave by deadline (budgets from the mark)" \
		"6145:mark=40000,6146:mark=10000,6147:mark=30000,6148:none=0,6149:mark=20000,6145:mark=2000" \
		"6 1 2000
2 2 10000
5 5 20000
3 3 30000
1 1 40000
4 4 0"
	read -r rmin rmax clamped <<<"$(class_ranks 1)"
	if [ "${rmin:-0}" -ge 2000 ] && [ "$rmin" -lt 10000 ] &&
		[ "${rmax:-0}" -ge 50000 ] && [ "$rmax" -lt 58000 ] &&
		[ "$clamped" = 0 ]; then
		tap_ok "edf: ranks $rmin..$rmax us after the base (2 ms and 50 ms budgets)"
	else
		tap_fail "edf: ranks in us after the base" "got $rmin..$rmax clamped $clamped" \
			"$($TC -s class show dev $DEV)"
	fi
	expect "edf keeps no flows" "$(flow_stats | cut -d' ' -f3)" "0"
else
	tap_fail "edf: setup" "$($TC -s qdisc show dev $DEV)"
fi

# --- edf without mark_budget: marks (set for fw or routing) are not
# deadlines; every packet has the tenant's 50 ms, so arrival order
if slow_guest; then
	tap_skip "edf: marks ignored without mark_budget" "timing on a slow (sanitizer) guest"
elif setup -- rank edf 50ms range 0 1000000 levels 1000; then
	run_order "edf: marks ignored without mark_budget (arrival order)" \
		"6145:mark=40000,6146:mark=10000,6147:mark=30000,6148:none=0,6149:mark=20000,6145:mark=2000" \
		"1 1 40000
2 2 10000
3 3 30000
4 4 0
5 5 20000
6 1 2000"
else
	tap_fail "edf without mark_budget: setup" "$($TC -s qdisc show dev $DEV)"
fi

# --- edf, tenant budget: FIFO for equal budgets, base moves when idle ----
if slow_guest; then
	tap_skip "edf 10ms: arrival order and busy-period base" "timing (deadlines in us, idle times) on a slow (sanitizer) guest"
elif setup -- rank edf 10ms; then
	run_order "edf 10ms: equal budgets leave in arrival order" \
		"6145:none=0,6146:none=0,6145:none=0,6146:none=0" "1 1 0
2 2 0
3 1 0
4 2 0"
	sleep 1
	send_drain "6147:none=1x3"
	read -r rmin rmax clamped <<<"$(class_ranks 1)"
	if [ "$rmin" = 10000 ] && [ "${rmax:-0}" -lt 20000 ] && [ "$clamped" = 0 ]; then
		tap_ok "edf 10ms: first of a busy period ranks 10000 us, rebased 1 s later (max $rmax)"
	else
		tap_fail "edf 10ms: busy-period base" "got $rmin..$rmax clamped $clamped" \
			"(want 10000..<20000, 0)" "$($TC -s class show dev $DEV)"
	fi
else
	tap_fail "edf 10ms: setup" "$($TC -s qdisc show dev $DEV)"
fi

# --- flow table limit: 48 flows through 16 entries -----------------------
SPECF=$(for i in $(seq 1 48); do printf '%d:none=0,' $((BASE + i)); done)
SPECF=${SPECF%,}
if setup flows 16 flow_idle 10s -- rank las range 0 4095 levels 4096; then
	rm -f "$OUT/ready"
	$IP netns exec $NS qvrecv -p "$(ports "$SPECF")" -b $BASE -n 48 -i 3000 \
		-r "$OUT/ready" >"$OUT/got" 2>"$OUT/recv.err" &
	rpid=$!
	wait_for 5 test -f "$OUT/ready"
	qvsend -d $DST -b $BASE -s $SPORT "$SPECF" 2>"$OUT/send.err"
	wait $rpid
	rc=$?
	got=$(wc -l <"$OUT/got")
	if [ $rc -eq 0 ] && [ "$got" -eq 48 ]; then
		tap_ok "flows 16: all 48 packets of 48 flows arrived"
	else
		tap_fail "flows 16: all 48 packets of 48 flows arrived" \
			"got $got, qvrecv exit $rc" "$(cat "$OUT/recv.err")"
	fi
	read -r f live new evicted aged <<<"$(flow_stats)"
	if [ "$f" = 16 ] && [ "$new" = 48 ] && [ "$aged" = 0 ] &&
		[ "$live" -le 16 ] && [ "$evicted" -eq $((48 - live)) ] &&
		[ "$evicted" -ge 32 ]; then
		tap_ok "flows 16: 48 new flows, $evicted evicted, $live live"
	else
		tap_fail "flows 16: evictions counted" \
			"flows $f live $live new $new evicted $evicted aged $aged" \
			"$($TC -s qdisc show dev $DEV)"
	fi
	drops=$($TC -s qdisc show dev $DEV | sed -n 's/.*(dropped \([0-9]*\),.*/\1/p' | head -n 1)
	expect "flows 16: no drops" "$drops" "0"
else
	tap_fail "flows 16: setup" "$($TC -s qdisc show dev $DEV)"
fi

# --- aging: flow 1 idle for longer than flow_idle is forgotten -----------
# Flow 1 sends 3 packets, then after 1 s flow 2 sends 2 and flow 1 one:
# forgotten, flow 1 ranks 0 again and leaves between flow 2's packets;
# with a long flow_idle it keeps its 3L and leaves last.
if setup flows 16 flow_idle 300ms -- rank las range 0 4095 levels 4096 &&
	send_drain "6145:none=1x3"; then
	sleep 1
	expect "flow_idle 300ms: nothing live 1 s later (flows live new evicted aged)" \
		"$(flow_stats)" "16 0 1 0 0"
	run_order "flow_idle 300ms: the idle flow starts over (rank 0)" \
		"6146:none=1x2,6145:none=0" "1 2 0
3 1 0
2 2 0"
	expect "flow_idle 300ms: aged counted (new evicted aged)" \
		"$(flow_stats | cut -d' ' -f3-)" "3 0 1"
else
	tap_fail "flow_idle: setup" "$(cat "$OUT/send.err")" "$($TC -s qdisc show dev $DEV)"
fi
if slow_guest; then
	tap_skip "flow_idle 10s: the flow is remembered" "timing (deadlines in us, idle times) on a slow (sanitizer) guest"
elif setup flows 16 flow_idle 10s -- rank las range 0 4095 levels 4096 &&
	send_drain "6145:none=1x3"; then
	sleep 1
	run_order "flow_idle 10s: the flow is remembered (rank 3L, last)" \
		"6146:none=1x2,6145:none=0" "1 2 0
2 2 0
3 1 0"
	expect "flow_idle 10s: (flows live new evicted aged)" \
		"$(flow_stats)" "16 2 2 0 0"
else
	tap_fail "flow_idle 10s: setup" "$(cat "$OUT/send.err")" "$($TC -s qdisc show dev $DEV)"
fi

# --- a TCP flow stays one flow when its socket draws a new hash ---------
# TCP picks a new random txhash (skb->hash of its packets, and over IPv6
# its flow label) after a retransmission timeout.  las and stfq must not
# see that as a new flow: under las it would start over at rank 0 and
# jump ahead of every flow that sent before (the sparse ones included).
# The receiver drops everything for 1.5 s in the middle of a 4 s iperf3
# transfer; the sender's timeouts (TcpTimeoutRehash) rehash the data
# flow, and the flow table of the las tenant, which gets only TCP, must
# still have seen two flows (iperf3's control and data connections).
# Over IPv4 and IPv6.
# tcp_counter FILE PREFIX KEY: one of the host's TCP counters
tcp_counter() {
	awk -v p="$2" -v k="$3" '$1 == p {
		if (!n) { for (i = 1; i <= NF; i++) h[$i] = i; n = 1 }
		else print $h[k] + 0 }' "$1"
}
tcp_rehash() {
	tcp_counter /proc/net/netstat TcpExt: TcpTimeoutRehash
}
tcp_opens() {
	tcp_counter /proc/net/snmp Tcp: ActiveOpens
}
# rehash_setup PORT [htb]: qvisor with TCP to PORT in las tenant :1, the
# rest in :2; at the root with a rate, or (htb) as the leaf of an htb
# class that shapes, so that the flow table is also checked under a
# classful parent.  Each case has its own server port: a late packet of
# an earlier case's connection (a FIN or ACK from TIME-WAIT) is then not
# one of this case's flows.
rehash_setup() {
	local port=$1
	shift
	local at="root handle 1:" opt="rate 10mbit" h=1:
	$TC qdisc del dev $DEV root >/dev/null 2>&1
	if [ "$1" = htb ]; then
		$TC qdisc add dev $DEV root handle 1: htb default 1 &&
			$TC class add dev $DEV parent 1: classid 1:1 htb \
				rate 10mbit ceil 10mbit || return 1
		at="parent 1:1 handle 10:" opt= h=10:
	fi
	$TC qdisc add dev $DEV $at qvisor $opt default 2 \
		flows 1024 flow_idle 10s &&
		$TC class add dev $DEV parent $h classid ${h}1 qvisor rank las &&
		$TC class add dev $DEV parent $h classid ${h}2 qvisor rank fifo &&
		$TC filter add dev $DEV parent $h protocol ip prio 1 flower \
			ip_proto tcp dst_port $port classid ${h}1 &&
		$TC filter add dev $DEV parent $h protocol ipv6 prio 2 flower \
			ip_proto tcp dst_port $port classid ${h}1 &&
		$IP netns exec $NS $TC qdisc replace dev veth1 ingress
}
# rehash_case FAMILY SERVER-ADDRESS [htb]
rehash_port=5299
rehash_case() {
	local fam=$1${3:+ under $3} addr=$2 port=$((rehash_port++))
	local name="las, $fam: a TCP flow keeps its flow across a rehash"
	local r0 r1 o0 o1 cpid spid crc f live new evicted aged other h=1:
	[ "$3" = htb ] && h=10:
	if ! rehash_setup $port "$3"; then
		tap_fail "$name: setup" "$($TC -s qdisc show dev $DEV)"
		return
	fi
	$IP netns exec $NS iperf3 -s -1 -p $port >"$OUT/tcp-srv.log" 2>&1 &
	spid=$!
	wait_listen $NS $port
	r0=$(tcp_rehash)
	o0=$(tcp_opens)
	iperf3 -c "$addr" -p $port -t 4 -b 4M >"$OUT/tcp-cli.log" 2>&1 &
	cpid=$!
	sleep 1.2
	$IP netns exec $NS $TC filter add dev veth1 ingress prio 1 matchall \
		action drop
	sleep 1.5
	$IP netns exec $NS $TC filter del dev veth1 ingress prio 1
	wait $cpid
	crc=$?
	wait $spid 2>/dev/null
	r1=$(tcp_rehash)
	o1=$(tcp_opens)
	read -r f live new evicted aged <<<"$(flow_stats)"
	other=$(class_word ${h}2 bytes)
	tap_diag "$fam rehash: TcpTimeoutRehash $r0 -> $r1, connections" \
		"opened $((o1 - o0)), iperf3 exit $crc; flows live $live" \
		"new $new evicted $evicted aged $aged; other tenant ${other:-?} pkt"
	if [ "$r1" -le "$r0" ]; then
		tap_skip "$name" "no timeout rehash happened (TcpTimeoutRehash $r0 -> $r1)"
	elif [ "$crc" = 0 ] && [ "$((o1 - o0))" -ge 2 ] &&
		[ "$new" = "$((o1 - o0))" ] && [ "$evicted" = 0 ] &&
		[ "$aged" = 0 ]; then
		tap_ok "las, $fam: $((r1 - r0)) timeout rehashes, still one flow per connection ($new)"
	else
		tap_fail "$name" "$((r1 - r0)) rehashes, flows new $new (want" \
			"one per connection opened: $((o1 - o0)))," \
			"evicted $evicted, aged $aged, iperf3 exit $crc" \
			"$(tail -n 5 "$OUT/tcp-cli.log")" \
			"$($IP netns exec $NS ss -tanH) ; $(ss -tanH)"
	fi
	$IP netns exec $NS $TC qdisc del dev veth1 ingress >/dev/null 2>&1
}
if ! command -v iperf3 >/dev/null; then
	tap_skip "las: a TCP flow keeps its flow across a rehash" "iperf3 missing"
else
	rehash_case IPv4 $DST
	rehash_case IPv4 $DST htb
	# IPv6 on the pair, addresses without DAD, neighbours permanent
	mac0=$($IP link show $DEV | awk '/link\/ether/{print $2}')
	if echo 0 >/proc/sys/net/ipv6/conf/$DEV/disable_ipv6 &&
		$IP -6 addr add fd00:6::1/64 dev $DEV nodad &&
		$IP -n $NS -6 addr add fd00:6::2/64 dev veth1 nodad &&
		$IP -6 neigh replace fd00:6::2 lladdr "$PEER_MAC" dev $DEV nud permanent &&
		$IP -n $NS -6 neigh replace fd00:6::1 lladdr "$mac0" dev veth1 nud permanent; then
		rehash_case IPv6 fd00:6::2
		rehash_case IPv6 fd00:6::2 htb
	else
		tap_fail "las, IPv6 rehash: IPv6 on the veth pair"
	fi
	echo 1 >/proc/sys/net/ipv6/conf/$DEV/disable_ipv6
fi

tap_diag "$($TC -s qdisc show dev $DEV)"
$TC qdisc del dev $DEV root >/dev/null 2>&1
tap_done
