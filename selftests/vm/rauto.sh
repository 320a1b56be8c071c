#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# range auto: a tenant that sends every packet at its best rank gains
# nothing in its '+' group.  Two tenants of "1 + 2", both declaring
# range 0 15 levels 16: tenant 1 is honest (ranks spread over 0..15),
# tenant 2 games (every packet at rank 0).  With range auto each is
# normalized by its own recent ranks: the gamer's rank 0 is the middle of
# its levels (joint 8), the honest tenant's ranks 0..2 are its best
# levels, so they leave before the gamer's packets although the gamer
# sent first.  With the declared range the same packets give the gamer
# the top (joint 0, and FIFO among equals since it sent first): the
# gamer wins there, and the first case would fail.
#
# P7 (rank gaming, Documentation/design.md): tc qdisc show says P7=no
# with declared ranges and P7=yes once both tenants have range auto (tc
# class change), and with range auto a gamer in "1 + 2" at weights 30:70
# still gets 30% at the receiver.
#
# The exact departure order is checked as in order.sh: a blocker
# occupies a 200 kbit/s link while the scripted packets queue.  The
# history comes from a 2 s flood of both tenants (qvsend -t) under the
# policy "1 >> 2" (no credits, so that each tenant starts the scripted
# case with a full quantum when the policy becomes "1 + 2"; the sketch
# is kept across the change).
. "$(dirname "$0")/lib.sh"

NS=qv-rauto
DEV=veth0
DST=10.0.0.2
RATE=200kbit
BLOCKER=1400
OUT=${TMPDIR:-/tmp}/qv-rauto.$$
mkdir -p "$OUT"
on_exit "rm -rf $OUT"

udp_test_setup "range auto tests"

# the gamer sends first: 4 packets at rank 0; then the honest tenant's
# 14, 0, 1, 2, 15
SPEC="5002:prio=0,5002:prio=0,5002:prio=0,5002:prio=0"
SPEC="$SPEC,5001:prio=14,5001:prio=0,5001:prio=1,5001:prio=2,5001:prio=15"
# declared range: joint rank = rank; the gamer's rank 0 ties with the
# honest rank 0 and sent first
WANT_DECL="1 2 0
2 2 0
3 2 0
4 2 0
6 1 0
7 1 1
8 1 2
5 1 14
9 1 15"
# range auto: the gamer at joint 8 (middle of 16 levels), the honest
# tenant's 0, 1, 2 below it, 14 and 15 above
WANT_AUTO="6 1 0
7 1 1
8 1 2
1 2 0
2 2 0
3 2 0
4 2 0
5 1 14
9 1 15"

# setup POLICY RANGE...: qdisc and the two classes
setup() {
	local pol=$1
	shift
	setup_qdisc policy "$pol" &&
		add_class 1 rank prio "$@" levels 16 &&
		add_class 2 rank prio "$@" levels 16
}

# history: both tenants flood for 2 s at 60 packets/s each (about
# 100 kbit/s together), honest ranks uniform over 0..15, gamer at 0
history() {
	qvsend -d $DST -t 2 -r 60 -S 7 "5001:prio=0-15,5002:prio=0" \
		2>"$OUT/flood"
	sleep 1
}

# best_first: the honest tenant's ranks 0..2 all left before the first
# packet of the gamer ($OUT/got)
best_first() {
	local last_best first_gamer
	last_best=$(awk '$2 == 1 && $3 <= 2 { n = NR } END { print n + 0 }' "$OUT/got")
	first_gamer=$(awk '$2 == 2 { print NR; exit }' "$OUT/got")
	[ "$last_best" -gt 0 ] && [ -n "$first_gamer" ] &&
		[ "$last_best" -lt "$first_gamer" ]
}

# --- start: no history yet, the declared range is used --------------------
if setup "1 + 2" range auto 0 15 window 64; then
	if $TC class show dev $DEV | grep -q 'range auto 0 15 window 64 '; then
		tap_ok "tc shows range auto 0 15 window 64"
	else
		tap_fail "tc shows range auto 0 15 window 64" "$($TC class show dev $DEV)"
	fi
	run_order "start (no history): range auto uses the declared range, gamer first" \
		"$SPEC" "$WANT_DECL"
	t=$(class_word 1:2 tables)
	if [ -z "$t" ]; then
		tap_ok "start: no table after 4 packets (first after 32)"
	else
		tap_fail "start: no table after 4 packets" "tables $t"
	fi
else
	tap_fail "start: setup" "$($TC qdisc show dev $DEV; $TC class show dev $DEV)"
fi

# --- range auto with history: the gamer lands in the middle ----------------
if setup "1 >> 2" range auto 0 15 window 64; then
	history
	t1=$(class_word 1:1 tables)
	t2=$(class_word 1:2 tables)
	if [ "${t1:-0}" -ge 1 ] && [ "${t2:-0}" -ge 1 ]; then
		tap_ok "history: range auto tables computed (1:1 $t1, 1:2 $t2)"
	else
		tap_fail "history: range auto tables computed" "1:1 ${t1:-none} 1:2 ${t2:-none}" \
			"$(cat "$OUT/flood")" "$($TC -s class show dev $DEV)"
	fi
	if $TC qdisc change dev $DEV root qvisor policy "1 + 2"; then
		run_order "range auto: honest 0,1,2 first, then the gamer's 4 (joint 8), then 14, 15" \
			"$SPEC" "$WANT_AUTO"
		if best_first; then
			tap_ok "range auto: honest ranks 0..2 leave before the gamer's first packet"
		else
			tap_fail "range auto: honest ranks 0..2 before the gamer" "$(cat "$OUT/got")"
		fi
		tap_diag "$($TC -s class show dev $DEV)"
	else
		tap_fail "range auto: policy 1 + 2" "$($TC qdisc show dev $DEV)"
	fi
else
	tap_fail "range auto: setup" "$($TC qdisc show dev $DEV; $TC class show dev $DEV)"
fi

# --- the same with the declared range: the gamer wins ------------------------
if setup "1 >> 2" range 0 15; then
	history
	if $TC qdisc change dev $DEV root qvisor policy "1 + 2"; then
		run_order "declared range: the gamer's 4 packets leave first" \
			"$SPEC" "$WANT_DECL"
		if ! best_first; then
			tap_ok "declared range: the gamer wins, so the range auto check fails without it"
		else
			tap_fail "declared range: the gamer wins" "$(cat "$OUT/got")"
		fi
	else
		tap_fail "declared range: policy 1 + 2" "$($TC qdisc show dev $DEV)"
	fi
else
	tap_fail "declared range: setup" "$($TC qdisc show dev $DEV)"
fi

# --- a declared range alone turns range auto off ------------------------------
if setup "1 + 2" range auto window 64 &&
	$TC class change dev $DEV classid 1:1 qvisor range 0 15; then
	if $TC class show dev $DEV | grep '^class qvisor 1:1 ' | grep -q 'range 0 15 ' &&
		$TC class show dev $DEV | grep '^class qvisor 1:2 ' | grep -q 'range auto '; then
		tap_ok "class change range 0 15 turns range auto off, other tenant kept"
	else
		tap_fail "class change range 0 15 turns range auto off" "$($TC class show dev $DEV)"
	fi
else
	tap_fail "range auto off: setup" "$($TC class show dev $DEV)"
fi

# --- P7 (rank gaming) as tc reports it ----------------------------------------
# declared ranges in a '+' group: each tenant chooses its ranks over the
# shared joint ranks, P7=no; range auto on both (class change, which
# resynthesizes): P7=yes; on one only: still no
p7_is() {	# p7_is WANT NAME: tc qdisc show (text and JSON) says P7=WANT
	local q j
	q=$($TC qdisc show dev $DEV)
	j=$($TC -j qdisc show dev $DEV)
	if grep -q "guarantees P1=yes P2=yes P3=yes P4=yes P5=yes P6=yes P7=$1 " <<<"$q" &&
		grep -qE "\"P7\": ?\"$1\"" <<<"$j"; then
		tap_ok "$2"
	else
		tap_fail "$2" "$q" "$j"
	fi
}
if setup "1 + 2" range 0 15; then
	p7_is no "P7=no: two tenants of a '+' group rank by prio over a declared range"
	$TC class change dev $DEV classid 1:1 qvisor range auto &&
		p7_is no "P7=no: range auto on one tenant, its mate still declares its range"
	$TC class change dev $DEV classid 1:2 qvisor range auto &&
		p7_is yes "P7=yes after tc class change ... range auto on both"
	$TC class change dev $DEV classid 1:2 qvisor range 0 15 &&
		p7_is no "P7=no again when a declared range turns range auto off"
	$TC qdisc change dev $DEV root qvisor policy "1 >> 2" &&
		p7_is yes "P7=yes with '>>': each tenant alone in its strict tier"
else
	tap_fail "P7: setup" "$($TC qdisc show dev $DEV; $TC class show dev $DEV)"
fi

# --- shares stay by weight: a gamer with range auto in "1 + 2" ---------------
# weights 30:70, both tenants with range auto; tenant 1 games (every
# packet at prio 0), tenant 2 is honest (prio 0..15), both offer about
# 1.4 times the 4 Mbit/s link (500 packets/s of 1400 bytes each, equal
# loads, so a FIFO would give 50:50).  The receiver counts each tenant's
# bytes for 4 s after a 2 s warm-up; credits do not depend on ranks, so
# the shares stay within 2 pp of 30:70.
RATE=4mbit
if setup_qdisc policy "1 + 2" limit 400 &&
	add_class 1 rank prio range auto 0 15 window 64 levels 16 weight 30 &&
	add_class 2 rank prio range auto 0 15 window 64 levels 16 weight 70; then
	qvsend -d $DST -l 1400 -t 8 -r 500 -S 11 "5001:prio=0,5002:prio=0-15" \
		2>"$OUT/flood" &
	spid=$!
	sleep 2
	$IP netns exec $NS qvrecv -p 5001,5002 -w 4 >"$OUT/shares" \
		2>"$OUT/shares.err"
	wait $spid
	b1=$(awk '$1 == 5001 { print $2 }' "$OUT/shares")
	b2=$(awk '$1 == 5002 { print $2 }' "$OUT/shares")
	got=$(awk -v a="${b1:-0}" -v b="${b2:-0}" \
		'BEGIN { if (a + b) printf "%.2f %.2f", 100 * a / (a + b), 100 * b / (a + b) }')
	echo "# table: range auto gamer 1 (prio 0) and honest 2 (prio 0..15), weights 30:70: ${got:-none} (receiver, 4 s)"
	tap_diag "receiver (port bytes packets): $(tr '\n' ' ' <"$OUT/shares")"
	tap_diag "$(cat "$OUT/flood")"
	tap_diag "$($TC -s class show dev $DEV | grep -E '^class|Sent|range_auto')"
	if [ -n "$got" ] && awk -v g="${got%% *}" 'BEGIN { exit !(g >= 28 && g <= 32) }'; then
		tap_ok "shares stay by weight with a gamer: $got (30:70 within 2 pp)"
	else
		tap_fail "shares stay by weight with a gamer" "got ${got:-none}, want 30:70 within 2 pp" \
			"$(cat "$OUT/shares" "$OUT/shares.err" "$OUT/flood")" \
			"$($TC -s class show dev $DEV)"
	fi
	if $TC qdisc show dev $DEV | grep -q 'P7=yes '; then
		tap_ok "the share case runs with P7=yes"
	else
		tap_fail "the share case runs with P7=yes" "$($TC qdisc show dev $DEV)"
	fi
else
	tap_fail "shares with a gamer: setup" "$($TC qdisc show dev $DEV; $TC class show dev $DEV)"
fi

# --- detection: best_pkts and shift_ppm over a change of behaviour ----------
# policy "1 >> 2" without a link rate: tenant 2 (declared range 4 63) is
# a fast class (qvisor_set_fast()), tenant 1 (range auto 0 15, window
# 256) takes the general path.  Phase 1: ranks spread (1: uniform 0..15,
# 2: uniform 0..63), 32 + 4 windows of packets each; phase 2: one window
# with 1 all at rank 0 and 2 all at rank 4 (its low end, not clamped);
# phase 3: one more such window, 2 at rank 1 (below its range: clamped,
# and still its best).  best_pkts (deltas of tc -s -j class show over
# the packets that arrived) must be below 20% in phase 1 (ideal 1/16 and
# 5/64) and above 90% after (ideal 100%): a count of rank 0 only fails
# tenant 2's phase 2, a count of clamped-low ranks only fails it too, a
# count of rank == lo fails its phase 3.  shift_ppm: two windows of the
# same stream stay below 300000 (sampling noise of 256 packets over 16
# ranks, about 140000), the window after the switch is above 600000
# (ideal 1 - 1/16), and the next window of rank 0 only is exactly 0 (a
# distance to the decayed history rather than to the previous window
# would still see the uniform ranks).
DW=256
# det_stats MINOR: "best clamped shift arrived" of class 1:MINOR, from
# tc -s -j class show (or the text when this tc prints classes as text)
det_stats() {
	local j line
	j=$($TC -s -j class show dev $DEV 2>/dev/null)
	if [ "${j:0:1}" = "[" ]; then
		line=$(sed 's/},{"class"/}\n{"class"/g' <<<"$j" | grep "\"handle\":\"1:$1\"")
		awk -v l="$line" 'function num(k,   m) {
				if (match(l, "\"" k "\":[0-9]+")) {
					m = substr(l, RSTART, RLENGTH); sub(/.*:/, "", m); return m
				}
				return "x"
			}
			BEGIN { print num("best_pkts"), num("clamped"), num("shift_ppm") + 0,
				num("packets") + num("drops") + num("qlen") }'
	else
		local b c sh p d
		b=$(class_word 1:$1 best)
		c=$(class_word 1:$1 clamped)
		sh=$(class_word 1:$1 shift)
		p=$(class_word 1:$1 bytes)
		d=$(class_word 1:$1 '(dropped' | tr -d ,)
		echo "${b:-x} ${c:-x} ${sh:-0} $((${p:-0} + ${d:-0}))"
	fi
}
# det_send N R1 R2: N packets per tenant, interleaved, ranks R1 / R2
# ("u16" / "u64": uniform over 0..15 / 0..63, else that rank)
det_send() {
	awk -v n="$1" -v a="$2" -v b="$3" -v s="$RANDOM" 'function r(x) {
			if (x == "u16") return int(rand() * 16)
			if (x == "u64") return int(rand() * 64)
			return x
		}
		BEGIN { srand(s); for (i = 0; i < n; i++)
			printf "5001:prio=%d,5002:prio=%d\n", r(a), r(b) }' >"$OUT/det.spec"
	qvsend -d $DST @"$OUT/det.spec" 2>"$OUT/det.err" || tap_diag "qvsend: $(cat "$OUT/det.err")"
	sleep 0.5
}
# det_text MINOR: the lines of class 1:MINOR in tc -s class show
det_text() {
	$TC -s class show dev $DEV | awk -v c="1:$1" '/^class / { on = $3 == c } on'
}
# det_delta NOW BEFORE: "best% clamped% arrived" between two det_stats
det_delta() {
	awk -v c="$1" -v p="$2" 'BEGIN { split(c, x); split(p, y); n = x[4] - y[4]
		if (n > 0) printf "%.1f %.1f %d", 100 * (x[1] - y[1]) / n, 100 * (x[2] - y[2]) / n, n
		else print "none none 0" }'
}
# det_phase NAME: the deltas of both classes since the last det_phase
# (D1, D2) and 1:1's shift (S1)
det_phase() {
	local c1 c2
	c1=$(det_stats 1)
	c2=$(det_stats 2)
	D1=$(det_delta "$c1" "$DP1")
	D2=$(det_delta "$c2" "$DP2")
	DP1=$c1
	DP2=$c2
	S1=$(echo "$c1" | awk '{ print $3 }')
	echo "# table: detection $1: 1:1 (range auto) best% clamped% arrived = $D1, shift $S1 ppm; 1:2 (fast, range 4 63) = $D2"
}
# det_check NAME MINOR OP PCT: class MINOR's best% of the phase OP PCT
det_check() {
	local d=$D1
	[ "$2" = 2 ] && d=$D2
	if awk -v v="${d%% *}" -v op="$3" -v p="$4" 'BEGIN { if (v == "none") exit 1
		exit !(op == "<" ? v + 0 < p : v + 0 > p) }'; then
		tap_ok "detection $1: 1:$2 best ${d%% *}% $3 $4%"
	else
		tap_fail "detection $1: 1:$2 best $3 $4%" "best% clamped% arrived: $d" \
			"$($TC -s class show dev $DEV)"
	fi
}
$TC qdisc del dev $DEV root >/dev/null 2>&1
if $TC qdisc add dev $DEV root handle 1: qvisor noaqm policy "1 >> 2" &&
	add_class 1 rank prio range auto 0 15 window $DW levels 16 &&
	add_class 2 rank prio range 4 63 levels 60; then
	DP1="0 0 0 0"
	DP2="0 0 0 0"
	s0=$(det_stats 1)
	if [ "$(echo "$s0" | awk '{ print $1, $3 }')" = "0 0" ]; then
		tap_ok "detection: best_pkts 0 and shift_ppm 0 before any packet ($s0)"
	else
		tap_fail "detection: best_pkts and shift_ppm before any packet" "$s0" \
			"$($TC -s -j class show dev $DEV)"
	fi
	det_send $((32 + 4 * DW)) u16 u64
	det_phase "phase 1 (spread)"
	t=$(class_word 1:1 tables)
	det_check "phase 1 (spread ranks)" 1 "<" 20
	det_check "phase 1 (spread ranks)" 2 "<" 20
	if [ "${t:-0}" = 5 ] && [ "${S1:-x}" -lt 300000 ] 2>/dev/null; then
		tap_ok "detection: shift $S1 ppm < 300000 between two windows of the same stream ($t tables)"
	else
		tap_fail "detection: shift < 300000 between two windows of the same stream" \
			"shift ${S1:-none} tables ${t:-none} (want 5)" "$($TC -s class show dev $DEV)"
	fi
	det_send $DW 0 4
	det_phase "phase 2 (all best)"
	det_check "phase 2 (all at the best rank)" 1 ">" 90
	det_check "phase 2 (all at the low end of the declared range)" 2 ">" 90
	if [ "${S1:-0}" -gt 600000 ] 2>/dev/null; then
		tap_ok "detection: shift $S1 ppm > 600000 in the window after the switch"
	else
		tap_fail "detection: shift > 600000 after the switch" "shift ${S1:-none}" \
			"$($TC -s class show dev $DEV)"
	fi
	det_send $DW 0 1
	det_phase "phase 3 (all best again, 2 clamped low)"
	det_check "phase 3 (all best again)" 1 ">" 90
	det_check "phase 3 (all clamped below the range)" 2 ">" 90
	c2=$(echo "$D2" | awk '{ print $2 }')
	if [ "${S1:-x}" = 0 ] && awk -v c="$c2" 'BEGIN { exit !(c + 0 > 90) }'; then
		tap_ok "detection: shift 0 ppm for a second window of rank 0 only; 1:2 clamped $c2%"
	else
		tap_fail "detection: shift 0 for a second window of rank 0, 1:2 clamped" \
			"shift ${S1:-none} clamped ${c2:-none}" "$($TC -s class show dev $DEV)"
	fi
	if det_text 1 | grep -q 'range_auto tables 7 shift 0 ppm' &&
		det_text 1 | grep -qE 'clamped 0 best [0-9]+ *$' &&
		det_text 2 | grep -qE 'clamped [0-9]+ best [0-9]+ *$' &&
		! det_text 2 | grep -q 'shift'; then
		tap_ok "tc -s class show: best after clamped, shift with range auto only"
	else
		tap_fail "tc -s class show: best and shift" "$($TC -s class show dev $DEV)"
	fi
	j=$($TC -s -j class show dev $DEV 2>&1)
	if [ "${j:0:1}" != "[" ]; then
		tap_skip "tc -s -j class show: best_pkts and shift_ppm" \
			"this tc prints classes as text with -j (the phases read the text)"
	elif [ "$(grep -oE '"best_pkts":[0-9]+' <<<"$j" | wc -l)" = 2 ] &&
		[ "$(grep -oE '"shift_ppm":[0-9]+' <<<"$j" | wc -l)" = 1 ]; then
		tap_ok "tc -s -j class show: best_pkts for both, shift_ppm for the range auto tenant"
	else
		tap_fail "tc -s -j class show: best_pkts and shift_ppm" "$j"
	fi
	tap_diag "$($TC -s class show dev $DEV)"
else
	tap_fail "detection: setup" "$($TC qdisc show dev $DEV; $TC class show dev $DEV)"
fi

$TC qdisc del dev $DEV root >/dev/null 2>&1
tap_done
