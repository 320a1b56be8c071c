#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Flow completion times of a pFabric tenant next to a constant-bit-rate
# UDP tenant (the QVISOR paper's Fig. 4 experiment, on the real qdisc).
# The experiment itself is tools/fct/qvfct.sh (qvfct on the guest's PATH):
# TCP flows with data mining (VL2) or web search (DCTCP) sizes at a load
# of a 10 Mbit/s link, ranked by their remaining bytes (SO_PRIORITY),
# plus constant-bit-rate UDP at 30% of the link ranked by EDF.  Short
# version (make check, about 230 s): data mining flows at load 0.6;
# pfifo, one PIFO on both tenants' raw ranks, and qvisor "1 >> 2", 12 s
# of arrivals each, six flow sets (pfifo two), with the UDP tenant ranked
# "edf 1ms"; the mean FCT of small flows (< 100 KB) under "1 >> 2" must
# be below both.
#
# With qvisor.fct=bench on the kernel command line (make bench-fct) it
# runs the whole matrix instead, FCT_SETTINGS x FCT_LOADS on FCT_CDF's
# flows (default data mining), and checks that "1 >> 2" keeps the
# small-flow mean FCT within 1.5x of tenant 1 alone at load 0.6.  Kernel
# command line words qvisor.fct.NAME=VALUE set FCT_NAME=VALUE (see
# qvfct.sh for the knobs; lists such as SETTINGS and LOADS are written
# with commas there).
. "$(dirname "$0")/lib.sh"

MODE=short
for arg in $(cat /proc/cmdline 2>/dev/null); do
	case $arg in
	qvisor.fct=*) MODE=${arg#*=} ;;
	qvisor.fct.*=*)
		name=${arg#qvisor.fct.}
		export "FCT_${name%%=*}=${arg#*=}" ;;
	esac
done

# qvisor.fct=off skips it (a quick run of the other tests).
if [ "$MODE" = off ]; then
	tap_skip "fct" "qvisor.fct=off on the kernel command line (make check runs fct.sh on CHECK_LONG_KVERS only)"
	tap_done
fi
if ! qvisor_loaded; then
	tap_skip "fct" "sch_qvisor not loaded"
	tap_done
fi
for t in qvfct qvflows qvsend qvrecv; do
	command -v $t >/dev/null || { tap_skip "fct" "$t missing"; tap_done; }
done

# run_cells OUT SECS DRAIN SETTING LOAD ...: qvfct, its output in OUT
run_cells() {
	local out=$1 secs=$2 drain=$3 budget rc
	shift 3
	# a bound on the whole run: a cell takes at most SECS + DRAIN + ~5 s
	budget=$(($# / 2 * (secs + drain + 15) + 30))
	FCT_SECS=$secs FCT_DRAIN=$drain timeout -k 5 $budget qvfct "$@" 2>&1 |
		tee "$out" | grep -v '^# fct-flow: '
	rc=${PIPESTATUS[0]}
	[ "$rc" -eq 0 ] && tap_ok "qvfct ran $(($# / 2)) cells" ||
		tap_fail "qvfct ran $(($# / 2)) cells" "exit status $rc"
}

# field OUT FIELD SETTING LOAD [SEEDS]: from the lines "# fct-summary:
# SET LOAD flows N done D small N MEAN P99 large N MEAN P99 udp MBIT" of
# SETTING (any seed suffix @N, or only those in the list SEEDS): flows,
# done and nsmall summed; small and large the mean over all its small
# (large) flows; p99small the largest of the rounds' small-flow p99s
field() {
	awk -v f="$2" -v s="$3" -v l="$4" -v seeds=" $5 " '
		$1 == "#" && $2 == "fct-summary:" && $4 == l {
			k = $3; sub(/@.*/, "", k)
			if (k != s) next
			n = $3; if (!sub(/.*@/, "", n)) n = ""
			if (seeds != "  " && index(seeds, " " n " ") == 0) next
			hit = 1; fl += $6; dn += $8; ns += $10; sm += $10 * $11
			nl += $14; lm += $14 * $15; if ($12 > p) p = $12
		}
		END {
			if (!hit) exit
			if (f == "flows") print fl
			if (f == "done") print dn
			if (f == "nsmall") print ns
			if (f == "small") printf "%.3f\n", ns ? sm / ns : 0
			if (f == "large") printf "%.3f\n", nl ? lm / nl : 0
			if (f == "p99small") printf "%.3f\n", p
		}' "$1"
}

# check_small OUT LOAD: the qualitative result of the short version
check_small() {
	local out=$1 L=$2 q nq flows done_ o
	q=$(field "$out" small strict12 $L)
	nq=$(field "$out" nsmall strict12 $L)
	flows=$(field "$out" flows strict12 $L)
	done_=$(field "$out" done strict12 $L)
	if [ -n "$q" ] && [ "${nq:-0}" -ge 30 ]; then
		tap_ok "1 >> 2: $nq small flows, mean FCT $q ms (load $L)"
	else
		tap_fail "1 >> 2: at least 30 small flows measured" \
			"got ${nq:-none} small flows, mean ${q:-none}"
	fi
	if [ -n "$flows" ] && [ "${done_:-x}" = "$flows" ]; then
		tap_ok "1 >> 2: all $flows flows of tenant 1 completed"
	else
		tap_fail "1 >> 2: all flows of tenant 1 completed" \
			"${done_:-?} of ${flows:-?} done"
	fi
	# pfifo ran the first two flow sets only
	compare "small-flow mean FCT" "$(field "$out" small strict12 $L "1 2")" \
		"$(field "$out" small pfifo $L)" pfifo
	compare "small-flow mean FCT" "$q" "$(field "$out" small pifo $L)" pifo
	compare "small-flow p99 FCT" "$(field "$out" p99small strict12 $L)" \
		"$(field "$out" p99small pifo $L)" pifo
	compare "large-flow mean FCT" "$(field "$out" large strict12 $L)" \
		"$(field "$out" large pifo $L)" pifo
}

# compare WHAT A B NAME: 1 >> 2's A below NAME's B
compare() {
	local what=$1 a=$2 b=$3 name=$4
	if [ -n "$a" ] && [ -n "$b" ] &&
		awk -v a="$a" -v b="$b" 'BEGIN { exit !(a < b) }'; then
		tap_ok "$what: 1 >> 2 ($a ms) < $name ($b ms)"
	else
		tap_fail "$what: 1 >> 2 < $name" \
			"1 >> 2: ${a:-none} ms, $name: ${b:-none} ms"
	fi
}

OUT=${TMPDIR:-/tmp}/fct.out
on_exit "rm -f $OUT $OUT.bench"
# Six rounds with different flows (seeds 1-6), each pair in the order
# A B C C B A, so that a slow drift of the emulated machine's speed
# treats the settings alike; pfifo, far behind, only in the first two.
# Tenant 1's flows are data mining ones (FCT_SHORT_CDF, default
# datamining: sizes as published, cut at 3.65 MB), whatever the bench's
# FCT_CDF says.  The UDP tenant is ranked "edf 1ms" here: its raw ranks
# (1000 us and up) then undercut every packet of tenant 1 (the smallest
# flow is 1460 bytes) in the single PIFO, the situation of the paper's
# Fig. 4.  With the bench's "edf 10ms" they undercut only flows with more
# than ~10 KB left, and the difference of the small-flow means was within
# the guest's noise (web search, 1 >> 2 : PIFO 0.74-1.06 over two seeds,
# once above 1.15 in CI).  Measured with "edf 1ms" on data mining: 0.74
# to 1.03 per seed, 0.80 to 0.83 over the six (three runs, 6.12 and
# 6.1); Documentation/fct.md has the runs.  A bench run (make bench-fct) runs this only with
# qvisor.fct.SHORT=1.
if [ "$MODE" != bench ] || [ "${FCT_SHORT:-0}" = 1 ]; then
	T2=${FCT_SHORT_T2_RANK:-edf 1ms}
	echo "# fct-config: short version, ${FCT_MBIT:-10} Mbit/s link, tenant 2 ranked \"$T2\""
	FCT_T2_RANK=$T2 FCT_CDF=${FCT_SHORT_CDF:-datamining} FCT_SCALE= FCT_CAP= \
		run_cells "$OUT" 12 8 pfifo@1 0.6 pifo@1 0.6 strict12@1 0.6 \
		strict12@2 0.6 pifo@2 0.6 pfifo@2 0.6 pifo@3 0.6 strict12@3 0.6 \
		strict12@4 0.6 pifo@4 0.6 pifo@5 0.6 strict12@5 0.6 \
		strict12@6 0.6 pifo@6 0.6
	check_small "$OUT" 0.6
	# the slowest flows of the short version, for the log
	grep '^# fct-flow: ' "$OUT" | awk -F, '$6 > 1000 || $7 != "done"' |
		head -n 20 | sed 's/^# fct-flow: /# fct-slow: /'
fi

if [ "$MODE" = bench ]; then
	SETTINGS=${FCT_SETTINGS:-"ideal pfifo pifo strict12 strict21 share strict12-las sppifo8 aifo"}
	LOADS=${FCT_LOADS:-"0.2 0.4 0.6 0.8"}
	# on the kernel command line the lists are written with commas
	SETTINGS=${SETTINGS//,/ } LOADS=${LOADS//,/ }
	args=()
	for load in $LOADS; do
		for s in $SETTINGS; do
			args+=("$s" "$load")
		done
	done
	secs=${FCT_SECS:-12} drain=${FCT_DRAIN:-6}
	echo "# fct-config: ${FCT_MBIT:-10} Mbit/s link, $secs s of flow arrivals per cell (then up to $drain s to finish), seed ${FCT_SEED:-1}, tenant 2: UDP at ${FCT_CBR:-0.3} of the link, rank ${FCT_T2_RANK:-edf 10ms}"
	run_cells "$OUT.bench" "$secs" "$drain" "${args[@]}"
	# per-flow lines on the console, for tools/fct/report.sh
	grep '^# fct-flow: ' "$OUT.bench"
	q=$(field "$OUT.bench" small strict12 0.6)
	i=$(field "$OUT.bench" small ideal 0.6)
	if [ -n "$q" ] && [ -n "$i" ] &&
		awk -v a="$q" -v b="$i" 'BEGIN { exit !(a <= 1.5 * b) }'; then
		tap_ok "small-flow mean FCT at load 0.6: 1 >> 2 ($q ms) within 1.5x of ideal ($i ms)"
	else
		tap_fail "small-flow mean FCT at load 0.6: 1 >> 2 within 1.5x of ideal" \
			"1 >> 2: ${q:-none} ms, ideal: ${i:-none} ms"
	fi
fi
tap_done
