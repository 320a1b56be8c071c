#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# pktgen-bench.sh: packets per second through qvisor and through Linux's own
# qdiscs, side by side in one boot.  Runs inside the test VM (`make bench`,
# or tools/vm/run.sh KVER tools/bench/pktgen-bench.sh); it is not a
# selftest and `make check` does not run it.
#
# One pktgen thread sends in `xmit_mode queue_xmit` (dev_queue_xmit, so
# through the root qdisc) into a dummy device, which frees every packet as
# fast as the qdisc hands it over.  Each configuration is set up once per
# round and measured with 60-byte frames (64 on the wire with the FCS) and
# with 1514-byte frames (a 1500-byte IP packet); the configurations are
# interleaved round by round so that a slow phase of the host hits all of
# them alike.
#
# Classification:
#   - single-class rows: pktgen sets skb->priority to 1:1, which every
#     classful qdisc here (prio, htb, drr, ets, qvisor) maps to class/band
#     1:1 without a filter; pfifo_fast and skbprio use it as a priority.
#   - multi-tenant rows ("bpf"): UDP source ports 1..T, one port per
#     packet in turn, and one classic-BPF cls_bpf filter returning
#     classid 1:<source port> (load half word, or, return: 3 instructions),
#     the same filter for qvisor, htb and drr.
#
# Deep rows ("deep:QDISC", only with qvisor.bench_only): the queue is
# ~1000 packets deep and full, 60-byte packets only.  A throttle lets out
# about a quarter of what pktgen offers: root `tbf rate $DEEP_RATE` (2:)
# with the qdisc under test as its child 1: (htb throttles itself and is
# the root), so skb->priority 1:1 and the BPF filter's 1:<port> still
# classify.  64 tenants by UDP source port 1..64 (deep:qvplus: 8).
# pktgen counts only NET_XMIT_SUCCESS as sent and every drop as an error,
# so the offered rate is (pkts-sofar + errors) / elapsed; the qdisc's
# counters are read while pktgen still sends.
#
# Output: TAP (one line per configuration) and, per measurement,
#   # pktgen: CONFIG SIZE ROUND PPS
#   # deep: CONFIG ROUND OFFERED_PPS ACCEPTED_PPS SENT_PPS BACKLOG DROPS
# (deep rows: offered and accepted by pktgen's counters, sent = the
# qdisc's Sent packets / the seconds, backlog in packets at the end of
# the run, drops of the qdisc under test in the run, push-outs included)
# which tools/bench/pktgen-report.sh turns into tables.
# Kernel command line knobs (QVISOR_VM_APPEND):
#   qvisor.bench_rounds=N  rounds (default 3)
#   qvisor.bench_secs=S    seconds per measurement (default 2)
#   qvisor.bench_only=A,B  only these configurations (and pfifo);
#                          "deep" stands for all deep rows
#   qvisor.bench_profile=A,B  instead of the tables: profile these
#                          configurations with perf (cpu-clock samples,
#                          whole guest, 60-byte packets, each with its
#                          tables' tenants: deep rows too; make bench-profile)
#   qvisor.bench_deep_rate=R  the throttle of the deep rows (default
#                          12mbit: about 25000 60-byte packets a second)
#   qvisor.bench_clock=C   how the guest's clock runs, for the report
#                          (make bench: "icount2", QEMU -icount shift=2:
#                          guest time advances 4 ns per guest instruction,
#                          so pps counts instructions, not the host's load)
. "$(dirname "$0")/lib.sh"

ROUNDS=3
SECS=2
CLOCK=wall
DEEP_RATE=12mbit
ONLY=
PROFILE=
for arg in $(cat /proc/cmdline 2>/dev/null); do
	case $arg in
	qvisor.bench_rounds=*) ROUNDS=${arg#*=} ;;
	qvisor.bench_secs=*) SECS=${arg#*=} ;;
	qvisor.bench_only=*) ONLY=${arg#*=} ;;
	qvisor.bench_clock=*) CLOCK=${arg#*=} ;;
	qvisor.bench_profile=*) PROFILE=${arg#*=} ;;
	qvisor.bench_deep_rate=*) DEEP_RATE=${arg#*=} ;;
	esac
done
DEV=pgdum0
PG=/proc/net/pktgen
SIZES="60 1514"
BATCH=/tmp/bench.tc

# Rows of the side-by-side table (skb->priority 1:1, no filter); qvisor
# has its AQM on (the default), qvnoaqm is the same with noaqm: the cost
# of the arrival stamp and the controller
SINGLE="pfifo_fast pfifo prio skbprio fq fq_codel htb drr ets qvisor qvnoaqm"
# qvisor shapes: qv:TENANTS:BUCKETS (strict tiers "1 >> 2 >> ... >> T",
# each tenant levels BUCKETS/TENANTS wide), the tenant sweep at 65536
# buckets and the bucket sweeps at 64 tenants (from 128: 64 strict tiers
# and the implicit tenant's own need 65 joint ranks) and at 8 tenants
# (from 64)
QV="qv:1:4096 qv:64:4096 qv:1024:65536
	qv:1:65536 qv:8:65536 qv:64:65536 qv:512:65536
	qv:64:128 qv:64:512 qv:64:32768
	qv:8:64 qv:8:512 qv:8:4096 qv:8:32768"
# the same BPF classifier in front of htb and drr; a '+' group of 8
# weighted tenants; the SP-PIFO backend (skipped while the kernel
# rejects "backend sppifo")
OTHER="htb:64 drr:64 htb:1024 drr:1024 qvplus:8 qvsppifo:8"
CONFIGS="$SINGLE $QV $OTHER"
# Deep rows, not in the default list (qvisor.bench_only=deep:pfifo,...):
# pfifo (the baseline), skbprio, fq, htb with an fq_codel leaf, ets, drr
# with 64 classes of pfifo limit 16, qvisor with 64 strict tiers and the
# weighted "+" group of 8, all with a limit of 1000 packets
DEEP="deep:pfifo deep:skbprio deep:fq deep:htb_fq_codel deep:ets deep:drr"
DEEP="$DEEP deep:qvisor deep:qvplus"

if [ -n "$ONLY" ]; then
	CONFIGS=pfifo
	for c in ${ONLY//,/ }; do
		case $c in
		deep) CONFIGS="$CONFIGS $DEEP" ;;
		*) CONFIGS="$CONFIGS $c" ;;
		esac
	done
fi

tenants_of() {
	case $1 in
	deep:qvplus) echo 8 ;;
	deep:*) echo 64 ;;
	*:*:*) local t=${1#*:}; echo "${t%%:*}" ;;
	*:*) echo "${1#*:}" ;;
	*) echo 1 ;;
	esac
}

# Class minors are hex in tc and in the policy; tenant i is class
# 1:<i in hex>, which the filter's classid 1:<port> (port i) names.
tenants_policy() {	# T OP -> "1 OP 2 OP ... OP T", minors in hex
	local i h p=1
	for ((i = 2; i <= $1; i++)); do
		printf -v h %x "$i"
		p="$p $2 $h"
	done
	echo "$p"
}

# A '+' group of T weighted tenants (weights 1..T, 64 levels each): the
# qdisc line with QDISC_ARGS ("root handle 1:" or a parent and options)
# and the classes
plus_batch() {	# T QDISC_ARGS
	local i h
	echo "qdisc add dev $DEV $2 policy \"$(tenants_policy "$1" +)\""
	for ((i = 1; i <= $1; i++)); do
		printf -v h %x "$i"
		echo "class add dev $DEV parent 1: classid 1:$h qvisor rank prio range 0 65535 levels 64 weight $i"
	done
}

# Write the tc batch for a configuration; its tenants are 1:1..1:T.
write_batch() {
	local c=$1 t b i h p
	t=$(tenants_of "$c")
	case $c in
	deep:*) write_deep_batch "$c" "$t" >"$BATCH"; return ;;
	esac
	{
		case $c in
		pfifo_fast | pfifo | skbprio | fq | fq_codel)
			echo "qdisc add dev $DEV root handle 1: $c" ;;
		prio)
			echo "qdisc add dev $DEV root handle 1: prio" ;;
		ets)
			echo "qdisc add dev $DEV root handle 1: ets bands 1" ;;
		htb | htb:*)
			echo "qdisc add dev $DEV root handle 1: htb"
			for ((i = 1; i <= t; i++)); do
				printf -v h %x "$i"
				echo "class add dev $DEV parent 1: classid 1:$h htb rate 100gbit quantum 3000"
			done ;;
		drr | drr:*)
			echo "qdisc add dev $DEV root handle 1: drr"
			for ((i = 1; i <= t; i++)); do
				printf -v h %x "$i"
				echo "class add dev $DEV parent 1: classid 1:$h drr"
			done ;;
		qvisor)
			echo "qdisc add dev $DEV root handle 1: qvisor"
			echo "class add dev $DEV parent 1: classid 1:1 qvisor" ;;
		qvnoaqm)
			echo "qdisc add dev $DEV root handle 1: qvisor noaqm"
			echo "class add dev $DEV parent 1: classid 1:1 qvisor" ;;
		qv:*)
			b=${c##*:}
			echo "qdisc add dev $DEV root handle 1: qvisor buckets $b policy \"$(tenants_policy "$t" ">>")\""
			for ((i = 1; i <= t; i++)); do
				printf -v h %x "$i"
				echo "class add dev $DEV parent 1: classid 1:$h qvisor rank prio range 0 65535 levels $((b / t))"
			done ;;
		qvplus:*)
			plus_batch "$t" "root handle 1: qvisor buckets 4096" ;;
		qvsppifo:*)
			# HOOK for the SP-PIFO backend (being written in parallel)
			echo "qdisc add dev $DEV root handle 1: qvisor backend sppifo 8 policy \"$(tenants_policy "$t" ">>")\""
			for ((i = 1; i <= t; i++)); do
				printf -v h %x "$i"
				echo "class add dev $DEV parent 1: classid 1:$h qvisor rank prio range 0 65535 levels 64"
			done ;;
		esac
		case $c in
		*:*)	# classid 1:<UDP source port>: ldh [34]; or #0x10000; ret a
			echo "filter add dev $DEV parent 1: prio 1 bpf bytecode \"3,40 0 0 34,68 0 0 65536,22 0 0 0\"" ;;
		esac
	} >"$BATCH"
}

# The deep configurations: the qdisc under test is 1: below a tbf 2:
# (htb: the root, its one class at the same rate), 1000 packets deep.
write_deep_batch() {	# CONFIG TENANTS
	local c=$1 t=$2 i h p
	case $c in
	deep:htb_fq_codel)
		echo "qdisc add dev $DEV root handle 1: htb"
		echo "class add dev $DEV parent 1: classid 1:1 htb rate $DEEP_RATE burst 15k"
		echo "qdisc add dev $DEV parent 1:1 handle 10: fq_codel limit 1000"
		return ;;
	esac
	echo "qdisc add dev $DEV root handle 2: tbf rate $DEEP_RATE burst 15k latency 1s"
	p="parent 2:1 handle 1:"
	case $c in
	deep:pfifo | deep:skbprio | deep:fq)
		echo "qdisc add dev $DEV $p ${c#deep:} limit 1000" ;;
	deep:ets)	# its band's child: pfifo of txqueuelen (1000) packets
		echo "qdisc add dev $DEV $p ets bands 1" ;;
	deep:drr)
		echo "qdisc add dev $DEV $p drr"
		for ((i = 1; i <= t; i++)); do
			printf -v h %x "$i"
			echo "class add dev $DEV parent 1: classid 1:$h drr"
			echo "qdisc add dev $DEV parent 1:$h pfifo limit 16"
		done ;;
	deep:qvisor)
		echo "qdisc add dev $DEV $p qvisor limit 1000 noaqm buckets 4096 policy \"$(tenants_policy "$t" ">>")\""
		for ((i = 1; i <= t; i++)); do
			printf -v h %x "$i"
			echo "class add dev $DEV parent 1: classid 1:$h qvisor rank prio range 0 65535 levels 64"
		done ;;
	deep:qvplus)
		plus_batch "$t" "$p qvisor limit 1000 noaqm buckets 4096" ;;
	esac
	case $c in
	deep:drr | deep:qvisor | deep:qvplus)
		echo "filter add dev $DEV parent 1: prio 1 bpf bytecode \"3,40 0 0 34,68 0 0 65536,22 0 0 0\"" ;;
	esac
}

pgset() {	# FILE CMD
	if ! echo "$2" >"$1" 2>/dev/null; then
		echo "# pktgen: '$2' -> $(grep Result: "$1")"
		return 1
	fi
}

pg_setup() {
	modprobe pktgen || return 1
	pgset $PG/kpktgend_0 "rem_device_all" || return 1
	pgset $PG/kpktgend_0 "add_device $DEV" || return 1
	local d=$PG/$DEV
	pgset $d "xmit_mode queue_xmit" || return 1
	pgset $d "count 0" || return 1
	pgset $d "clone_skb 0" || return 1
	pgset $d "delay 0" || return 1
	pgset $d "dst 10.77.0.2" || return 1
	pgset $d "dst_mac 02:00:00:00:00:02" || return 1
	pgset $d "udp_dst_min 9" || return 1
	pgset $d "udp_dst_max 9" || return 1
}

# One measurement: pps of $SECS seconds of pktgen
measure() {	# SIZE
	local d=$PG/$DEV res
	pgset $d "pkt_size $1" || return 1
	echo start >$PG/pgctrl &
	sleep "$SECS"
	echo stop >$PG/pgctrl
	wait
	res=$(grep -oE '[0-9]+pps' $d | head -n 1)
	[ -n "$res" ] || return 1
	echo "${res%pps}"
}

# One deep measurement, 60-byte packets: pktgen's offered and accepted
# rates and the qdisc 1:'s counters, read before pktgen stops (the
# throttle drains the queue within a few ms after).
measure_deep() {	# CONFIG ROUND
	local d=$PG/$DEV q p
	pgset $d "pkt_size 60" || return 1
	echo start >$PG/pgctrl &
	sleep "$SECS"
	$TC -s qdisc show dev $DEV >/tmp/bench.qd
	echo stop >$PG/pgctrl
	wait
	if [ "$2" = 1 ]; then
		sed "s/^/# pgraw $1: /" $d | grep -a -E 'pkts-sofar|Result|pps'
		sed "s/^/# qdraw $1: /" /tmp/bench.qd | head -n 12
	fi
	# "pkts-sofar: N  errors: M" and "Result: OK: USEC(c...+d...) usec"
	p=$(awk '/pkts-sofar:/ { s = $2; e = $4 }
		/Result: OK:/ { u = $3; sub(/\(.*/, "", u) }
		END { if (u > 0) printf "%d %d", (s + e) * 1e6 / u, s * 1e6 / u }' $d)
	[ -n "$p" ] || return 1
	# qdisc 1:'s Sent packets, drops and backlog packets
	q=$(awk -v secs="$SECS" '
		/^qdisc / { on = ($3 == "1:") }
		on && /^ Sent / && !ns { ns = 1; sent = $4; d = $7; sub(/,/, "", d) }
		on && /^ backlog / && !nb { nb = 1; b = $3; sub(/p$/, "", b) }
		END { printf "%d %d %d", sent / secs, b, d }' /tmp/bench.qd)
	echo "# deep: $1 $2 $p $q"
}

# pg_flows CONFIG: pktgen's packets for CONFIG: skb->priority 1:1 where
# the qdisc takes it (one tenant), 0 where its filter classifies (the
# multi-tenant configurations, deep:drr/qvisor/qvplus); UDP source ports
# 1..T for T tenants
pg_flows() {
	local c=$1
	case $c in
	deep:drr | deep:qvisor | deep:qvplus) pgset $PG/$DEV "skb_priority 0" ;;
	deep:*) pgset $PG/$DEV "skb_priority 65537" ;;
	*:*) pgset $PG/$DEV "skb_priority 0" ;;	# the filter decides
	*) pgset $PG/$DEV "skb_priority 65537" ;;	# 1:1
	esac
	pgset $PG/$DEV "udp_src_min 1"
	pgset $PG/$DEV "udp_src_max $(($(tenants_of "$c") + 1))"	# exclusive: ports 1..T
}

# Set a configuration up, measure both sizes, tear it down.
run_config() {	# CONFIG ROUND
	local c=$1 r=$2 s pps out
	write_batch "$c"
	if ! out=$($TC -b "$BATCH" 2>&1); then
		echo "$out" >/tmp/bench.err.$c
		$TC qdisc del dev $DEV root 2>/dev/null
		return 2
	fi
	pg_flows "$c"
	case $c in
	deep:*)
		measure_deep "$c" "$r" || { $TC qdisc del dev $DEV root 2>/dev/null; return 1; }
		$TC qdisc del dev $DEV root
		return 0 ;;
	esac
	for s in $SIZES; do
		if ! pps=$(measure "$s"); then
			$TC qdisc del dev $DEV root 2>/dev/null
			return 1
		fi
		echo "# pktgen: $c $s $r $pps"
	done
	# the packets must have gone through the qdisc under test
	if [ "$c" != pfifo ] && [ "$c" != pfifo_fast ]; then
		out=$($TC -s qdisc show dev $DEV | awk '/^ Sent/ { print $4; exit }')
		if [ "${out:-0}" -lt 1000 ]; then
			echo "# $c: qdisc counted only ${out:-0} packets"
			$TC -s qdisc show dev $DEV | sed 's/^/#   /' | head -n 8
			$TC qdisc del dev $DEV root 2>/dev/null
			return 1
		fi
	fi
	$TC qdisc del dev $DEV root
}

modprobe dummy 2>/dev/null
for m in sch_prio sch_skbprio sch_fq sch_fq_codel sch_htb sch_drr sch_ets sch_tbf cls_bpf; do
	modprobe $m 2>/dev/null
done
$IP link add $DEV type dummy || { tap_skip "pktgen bench" "no dummy device"; tap_done; }
$IP link set $DEV txqueuelen 1000 up
$IP addr add 10.77.0.1/24 dev $DEV
if ! pg_setup; then
	tap_skip "pktgen bench" "pktgen not usable"
	tap_done
fi
echo "# pktgen bench: $(uname -r), $(nproc) cpus, $ROUNDS rounds of ${SECS}s per size, clock $CLOCK"
echo "# pktgen configs: $CONFIGS"
case " $CONFIGS" in *" deep:"*) echo "# pktgen deep: tbf/htb rate $DEEP_RATE, limit 1000" ;; esac
# warm up (the first run of a boot is slower: page and slab allocation)
$TC qdisc add dev $DEV root handle 1: pfifo
measure 60 >/dev/null
$TC qdisc del dev $DEV root

# Profile: where the guest's time goes while pktgen sends 60-byte packets
# through CONFIG.  Under -icount, cpu-clock samples are spread by guest
# instructions.  Output: "# perf CONFIG: PERCENT SYMBOL" lines.
profile_config() {	# CONFIG
	local c=$1 d=$PG/$DEV perf
	perf=$(command -v perf) || { tap_skip "profile $c" "no perf in the image"; return; }
	write_batch "$c"
	if ! $TC -b "$BATCH" >/tmp/bench.err 2>&1; then
		tap_fail "profile $c" "$(cat /tmp/bench.err)"
		return
	fi
	pg_flows "$c"
	pgset $d "pkt_size 60"
	echo start >$PG/pgctrl &
	sleep 0.5
	$perf record -q -e cpu-clock -F 999 -a -o /tmp/perf.data -- sleep "$SECS" \
		>/tmp/perf.err 2>&1
	echo stop >$PG/pgctrl
	wait
	$perf report -q -i /tmp/perf.data --stdio --sort sym --percent-limit 0.3 \
		2>/dev/null | awk 'NF >= 2 { $2 = ""; print }' | head -n 60 |
		sed "s/^/# perf $c: /"
	if [ -s /tmp/perf.data ]; then
		tap_ok "profile $c"
	else
		tap_fail "profile $c" "$(cat /tmp/perf.err)"
	fi
	$TC qdisc del dev $DEV root
}
if [ -n "$PROFILE" ]; then
	for c in ${PROFILE//,/ }; do
		profile_config "$c"
	done
	$IP link del $DEV
	tap_done
fi

declare -A state	# CONFIG -> ok | skip:why | fail:why
for r in $(seq 1 "$ROUNDS"); do
	t0=$EPOCHREALTIME
	for c in $CONFIGS; do
		case ${state[$c]:-ok} in ok) ;; *) continue ;; esac
		run_config "$c" "$r"
		case $? in
		0) ;;
		2)
			case $c in
			qvsppifo:*) state[$c]="skip:$(grep -v '^Command failed' /tmp/bench.err.$c | tail -n 1)" ;;
			*) state[$c]="fail:setup: $(tail -n 2 /tmp/bench.err.$c | tr '\n' ' ')" ;;
			esac ;;
		*) state[$c]="fail:measurement failed in round $r" ;;
		esac
	done
	echo "# pktgen: round $r took $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')s"
done

for c in $CONFIGS; do
	case ${state[$c]:-ok} in
	ok)
		case $c in
		deep:*) tap_ok "pktgen $c: $ROUNDS rounds x 60 bytes, 1000 deep at $DEEP_RATE" ;;
		*) tap_ok "pktgen $c: $ROUNDS rounds x ${SIZES// /+} bytes" ;;
		esac ;;
	skip:*) tap_skip "pktgen $c" "${state[$c]#skip:}" ;;
	*) tap_fail "pktgen $c" "${state[$c]#fail:}" ;;
	esac
done
$IP link del $DEV
tap_done
