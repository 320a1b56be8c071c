#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Statistics dumps do not hold up the packet path: with 4096 tenants and
# a flow table of 262144 entries full of live flows, `tc -s qdisc show`
# and `tc -s class show` every 10 ms (each in its own loop) must leave a tier-1 ping's median RTT
# within 1 ms of its value without dumps (issue: "Long work under the root
# lock").  The flow table is counted outside the qdisc lock, per-queue
# lengths are kept as packets move, and a class dump is O(1) under it.
#
# pktgen (queue_xmit) sends UDP through qvisor on veth0 with random
# source and destination ports into tenant 2 (rank las, one flow table
# entry per 5-tuple); the ping is tenant 1, strictly above it.
. "$(dirname "$0")/lib.sh"

NS=qv-dump
DEV=veth0
DST=10.0.0.2
PG=/proc/net/pktgen
OUT=${TMPDIR:-/tmp}/qv-dump.$$
mkdir -p "$OUT"
on_exit "rm -rf $OUT"

if ! qvisor_loaded; then
	tap_skip "dump under load" "sch_qvisor not loaded"
	tap_done
fi
if ! modprobe pktgen 2>/dev/null || [ ! -d $PG ]; then
	tap_skip "dump under load" "pktgen not available"
	tap_done
fi
quiet_veth_pair
MAC=$PEER_MAC

# 4096 tenants: 1 (the ping, tier 1), 2 (the flood, rank las, tier 2) and
# 4094 more that exist only to be dumped
{
	echo "qdisc add dev $DEV root handle 1: qvisor rate 40mbit limit 1000 flows 262144 flow_idle 60s default 2 policy \"1 >> 2\""
	echo "class add dev $DEV parent 1: classid 1:1 qvisor rank fifo"
	echo "class add dev $DEV parent 1: classid 1:2 qvisor rank las"
	for i in $(seq 3 4096); do
		printf 'class add dev %s parent 1: classid 1:%x qvisor rank prio\n' $DEV "$i"
	done
	echo "filter add dev $DEV parent 1: protocol ip prio 1 u32 match ip protocol 1 0xff classid 1:1"
} >"$OUT/batch"
t0=$(date +%s)
if ! $TC -batch "$OUT/batch" >"$OUT/tc.err" 2>&1; then
	tap_fail "4096 tenants configured" "$(head -n 20 "$OUT/tc.err")"
	tap_done
fi
n=$($TC class show dev $DEV | grep -c '^class qvisor')
expect_n() { [ "$n" = 4096 ]; }
tap_check "4096 tenants configured in $(($(date +%s) - t0)) s ($n classes)" expect_n

pgset() {	# FILE CMD
	echo "$2" >"$1" 2>/dev/null ||
		{ echo "pktgen: '$2' -> $(grep Result: "$1")" >&2; return 1; }
}
pg_setup() {	# COUNT DELAY-NS
	local d=$PG/$DEV
	pgset $PG/kpktgend_0 "rem_device_all" &&
		pgset $PG/kpktgend_0 "add_device $DEV" &&
		pgset $d "xmit_mode queue_xmit" &&
		pgset $d "count $1" && pgset $d "delay $2" &&
		pgset $d "clone_skb 0" && pgset $d "pkt_size 200" &&
		pgset $d "dst $DST" && pgset $d "dst_mac $MAC" &&
		pgset $d "udp_src_min 1" && pgset $d "udp_src_max 65535" &&
		pgset $d "udp_dst_min 1024" && pgset $d "udp_dst_max 1040" &&
		pgset $d "flag UDPSRC_RND" && pgset $d "flag UDPDST_RND"
}

# live: the flow table's "live" count
live() {
	$TC -s qdisc show dev $DEV | awk '/ flows [0-9]+ live / {
		for (i = 1; i < NF; i++) if ($i == "live") { print $(i + 1); exit } }'
}

# 1. fill the flow table: 800000 packets of random 5-tuples
if pg_setup 800000 0 2>"$OUT/pg.err"; then
	t0=$(date +%s)
	echo start >$PG/pgctrl
	l=$(live)
	if [ "${l:-0}" -ge 200000 ]; then
		tap_ok "flow table: $l of 262144 entries live after 800000 packets ($(($(date +%s) - t0)) s)"
	else
		tap_fail "flow table: at least 200000 entries live" "live '$l'" \
			"$($TC -s qdisc show dev $DEV)"
	fi
else
	tap_fail "pktgen set up" "$(cat "$OUT/pg.err")"
	tap_done
fi

# rtts FILE: the median of the ping RTTs in ms (ping's "time=X ms")
median_rtt() {
	sed -n 's/.* time=\([0-9.]*\) ms.*/\1/p' "$1" | median
}

# 2. a steady flood (200-byte packets every 40 us: 40 Mbit/s, the link
# rate) while tenant 1 pings, first without dumps, then with them
pg_setup 0 40000 2>"$OUT/pg.err"
echo start >$PG/pgctrl &
PGPID=$!
on_exit "echo stop >$PG/pgctrl 2>/dev/null"
sleep 1
ping -c 150 -i 0.02 $DST >"$OUT/ping0" 2>&1
rm -f "$OUT/stop"
# dumper LOOPFILE CMD...: run CMD every 10 ms (after it returns) until
# $OUT/stop exists; the number of rounds goes to LOOPFILE
dumper() {
	local f=$1 k=0
	shift
	while [ ! -f "$OUT/stop" ]; do
		"$@" >/dev/null 2>&1
		k=$((k + 1))
		sleep 0.01
	done
	echo $k >"$f"
}
dumper "$OUT/qdumps" $TC -s qdisc show dev $DEV &
D1=$!
dumper "$OUT/cdumps" $TC -s class show dev $DEV &
D2=$!
sleep 0.5
ping -c 150 -i 0.02 $DST >"$OUT/ping1" 2>&1
touch "$OUT/stop"
wait $D1 $D2
echo "$(cat "$OUT/qdumps") qdisc and $(cat "$OUT/cdumps") class" >"$OUT/dumps"
echo stop >$PG/pgctrl
wait $PGPID 2>/dev/null
r0=$(median_rtt "$OUT/ping0") r1=$(median_rtt "$OUT/ping1")
l=$(live)
if [ -n "$r0" ] && [ -n "$r1" ] &&
	awk -v a="$r0" -v b="$r1" 'BEGIN { exit !(b <= a + 1.0) }'; then
	tap_ok "tier-1 ping median RTT ${r1} ms with $(cat "$OUT/dumps") dump rounds, ${r0} ms without ($l flows live, 4096 tenants)"
else
	tap_fail "tier-1 ping median RTT within 1 ms of its no-dump value" \
		"without dumps: '$r0' ms, with $(cat "$OUT/dumps" 2>/dev/null) dump rounds: '$r1' ms" \
		"$(tail -n 3 "$OUT/ping0")" "$(tail -n 3 "$OUT/ping1")"
fi
tap_diag "$(tail -n 2 "$OUT/ping0")" "$(tail -n 2 "$OUT/ping1")"
lost=$(grep -oE '[0-9]+% packet loss' "$OUT/ping1")
if [ "$lost" = "0% packet loss" ]; then
	tap_ok "tier 1 lost no ping under the flood and the dumps"
else
	tap_fail "tier 1 lost no ping" "$lost"
fi

t0=$EPOCHREALTIME
$TC qdisc del dev $DEV root
tap_diag "qdisc with 4096 tenants deleted in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }') ms"
tap_done
