#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# gso-bench.sh: TCP through a 10 Gbit/s qdisc with and without splitting
# GSO super-packets (issue #17).  Runs inside the test VM (`make bench-gso`,
# or tools/vm/run.sh KVER tools/bench/gso-bench.sh); not a selftest.
#
# veth0 (10.0.0.1) -> veth1 (10.0.0.2, netns qv-gso); veth offers TSO, so
# TCP hands the qdisc super-packets of up to 64 KB.  One iperf3 TCP flow for
# $SECS seconds per configuration, the configurations interleaved over
# $ROUNDS rounds after one discarded warm-up run:
#   pfifo         the plain FIFO (bypass when empty)
#   fq_codel      Linux's default qdisc
#   cake          cake bandwidth 10gbit besteffort (skipped without sch_cake)
#   qv-split      qvisor rate 10gbit split_gso, one tenant
#   qv-nosplit    qvisor rate 10gbit no_split_gso, one tenant
# Per run: Mbit/s at the receiver, packets per second through the root
# qdisc (its Sent packets over the run / seconds: tc counts a
# super-packet as its gso_segs segments, split or not), bytes per qdisc
# packet (so per segment), the sender's and the
# receiver's CPU (iperf3 -J end.cpu_utilization_percent host_total and
# remote_total) and retransmits:
#   # gso: CONFIG ROUND MBITS QDISC_PPS BYTES_PER_PKT CPU_SND CPU_RCV RETR
# then per configuration a "# row CONFIG:" line with the medians and one
# TAP line.
# Kernel command line knobs: qvisor.gso_rounds=N (3), qvisor.gso_secs=S (3),
# qvisor.bench_clock=C (for the header; make bench-gso: icount2).
. "$(dirname "$0")/lib.sh"

NS=qv-gso
DEV=veth0
DST=10.0.0.2
ROUNDS=3
SECS=3
CLOCK=wall
for arg in $(cat /proc/cmdline 2>/dev/null); do
	case $arg in
	qvisor.gso_rounds=*) ROUNDS=${arg#*=} ;;
	qvisor.gso_secs=*) SECS=${arg#*=} ;;
	qvisor.bench_clock=*) CLOCK=${arg#*=} ;;
	esac
done
OUT=${TMPDIR:-/tmp}/qv-gso.$$
mkdir -p "$OUT"
on_exit "rm -rf $OUT"

for t in iperf3 jq; do
	command -v $t >/dev/null || { tap_skip "gso bench" "$t missing"; tap_done; }
done
qvisor_loaded || { tap_skip "gso bench" "sch_qvisor not loaded"; tap_done; }
modprobe sch_fq_codel 2>/dev/null
quiet_veth_pair
$IP netns exec $NS iperf3 -s -p 5201 >"$OUT/srv.log" 2>&1 &
on_exit "kill $! 2>/dev/null"
wait_for 5 sh -c "$IP netns exec $NS ss -ltn | grep -q ':5201 '"

CONFIGS="pfifo fq_codel cake qv-split qv-nosplit"
declare -A state	# CONFIG -> ok | skip:why | fail:why
if ! modprobe sch_cake >/dev/null 2>&1; then
	state[cake]="skip:sch_cake not available"
fi

setup() {	# CONFIG
	$TC qdisc del dev $DEV root >/dev/null 2>&1
	case $1 in
	pfifo) $TC qdisc add dev $DEV root handle 1: pfifo ;;
	fq_codel) $TC qdisc add dev $DEV root handle 1: fq_codel ;;
	cake) $TC qdisc add dev $DEV root handle 1: cake bandwidth 10gbit besteffort ;;
	qv-split | qv-nosplit)
		$TC qdisc add dev $DEV root handle 1: qvisor rate 10gbit default 1 \
			"$([ "$1" = qv-split ] && echo split_gso || echo no_split_gso)" &&
			$TC class add dev $DEV parent 1: classid 1:1 qvisor rank fifo ;;
	esac
}

# root_sent: "BYTES PACKETS" sent by the root qdisc of $DEV
root_sent() {
	$TC -s qdisc show dev $DEV |
		awk '/^qdisc/ { root = / root / } root && /^ Sent/ { print $2, $4; exit }'
}

run() {	# CONFIG ROUND
	local c=$1 r=$2 a b j
	setup "$c" || return 2
	[ "$r" = 1 ] && echo "# gso $c: $($TC qdisc show dev $DEV | head -n 1)"
	a=$(root_sent)
	iperf3 -c $DST -p 5201 -t "$SECS" -J >"$OUT/c.json" 2>"$OUT/c.err"
	b=$(root_sent)
	j=$(jq -r '[.end.sum_received.bits_per_second // 0,
		.end.cpu_utilization_percent.host_total // 0,
		.end.cpu_utilization_percent.remote_total // 0,
		.end.sum_sent.retransmits // 0,
		.end.sum_received.seconds // 0] | @tsv' "$OUT/c.json" 2>/dev/null)
	[ -n "$j" ] || { cat "$OUT/c.err" "$OUT/c.json" | tail -n 5 | sed 's/^/#   /'; return 1; }
	# shellcheck disable=SC2086
	set -- $a $b $j
	awk -v c="$c" -v r="$r" -v b0="$1" -v p0="$2" -v b1="$3" -v p1="$4" \
		-v bps="$5" -v cs="$6" -v cr="$7" -v re="$8" -v s="$9" 'BEGIN {
		if (s <= 0) s = 1
		p = p1 - p0
		bpp = p > 0 ? (b1 - b0) / p : 0
		printf "# gso: %s %d %.0f %.0f %.0f %.1f %.1f %d\n", c, r,
		       bps / 1e6, p / s, bpp, cs, cr, re
	}'
	[ "${5%.*}" != 0 ]
}

echo "# gso bench: $(uname -r), $(nproc) cpus, $ROUNDS rounds of ${SECS}s, clock $CLOCK"
# warm up
setup pfifo
iperf3 -c $DST -p 5201 -t 1 >/dev/null 2>&1
for r in $(seq 1 "$ROUNDS"); do
	for c in $CONFIGS; do
		case ${state[$c]:-ok} in ok) ;; *) continue ;; esac
		run "$c" "$r" | tee -a "$OUT/results"
		case ${PIPESTATUS[0]} in
		0) ;;
		2) state[$c]="fail:setup failed" ;;
		*) state[$c]="fail:iperf3 failed in round $r" ;;
		esac
	done
done
$TC qdisc del dev $DEV root >/dev/null 2>&1

med() {	# FIELD CONFIG: the median of a field over the rounds
	awk -v c="$2" -v f="$1" '$3 == c { print $f }' "$OUT/results" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; else print "-" }'
}
for c in $CONFIGS; do
	case ${state[$c]:-ok} in
	ok)
		echo "# row $c: $(med 5 "$c") Mbit/s, $(med 6 "$c") qdisc pkts/s," \
			"$(med 7 "$c") B/pkt, sender CPU $(med 8 "$c")%," \
			"receiver CPU $(med 9 "$c")%, retransmits $(med 10 "$c")"
		tap_ok "gso $c: $ROUNDS rounds of ${SECS}s" ;;
	skip:*) tap_skip "gso $c" "${state[$c]#skip:}" ;;
	*) tap_fail "gso $c" "${state[$c]#fail:}" ;;
	esac
done
tap_done
