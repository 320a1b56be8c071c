#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The queue backends: sppifo N, aifo, fifo (Documentation/backends.md).
#
# As order.sh: qvisor on veth0 with a tiny rate, a blocker packet holds
# the link while the scripted packets queue up, qvrecv prints the arrival
# order ("seq tenant rank").  Checked: SP-PIFO's exact order on a worked
# example and on in-order ranks, P1 with dedicated tier queues, FIFO
# order of aifo/fifo, AIFO admission drops under overload, the queue
# mapping's rejection and 'partial', the guarantees and backend stats in
# tc, and the rule that the backend changes only while nothing is queued.
. "$(dirname "$0")/lib.sh"

NS=qv-be
DEV=veth0
DST=10.0.0.2
RATE=50kbit		# the blocker holds the link ~230 ms: time for qvsend
			# to queue every scripted packet on a loaded host
BLOCKER=1400
QVNL=${QVNL:-qvnl}
OUT=${TMPDIR:-/tmp}/qv-be.$$
mkdir -p "$OUT"
on_exit "rm -rf $OUT"

udp_test_setup "backend tests"

pifo_order() {
	sent_list "$1" | sort -k2,2n -k3,3n -k1,1n
}

# run_order NAME SPEC EXPECTED
run_order() {
	local name=$1 spec=$2 expected=$3
	send_blocked "$spec"
	order_result "$name" "$spec" "$expected"
}

# has NAME REGEX CMD...: the output of CMD (lines joined) matches REGEX
has() {
	local name=$1 re=$2 out
	shift 2
	out=$("$@" 2>&1 | tr '\n' ' ')
	if grep -qE -- "$re" <<<"$out"; then
		tap_ok "$name"
	else
		tap_fail "$name" "command: $*" "expected /$re/ in:" "$out"
	fi
}

# rejects NAME MESSAGE CMD...: CMD exits 2 (kernel) with MESSAGE, and the
# qdisc and classes are as before
rejects() {
	local name=$1 msg=$2 before out rc
	shift 2
	before=$($TC qdisc show dev $DEV; $TC class show dev $DEV)
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -ne 2 ] || ! grep -qF -- "$msg" <<<"$out"; then
		tap_fail "$name" "command: $*" "exit $rc, expected 2 and: $msg" "$out"
	elif [ "$before" != "$($TC qdisc show dev $DEV; $TC class show dev $DEV)" ]; then
		tap_fail "$name" "configuration changed"
	else
		tap_ok "$name"
		tap_diag "$out"
	fi
}

qd_stats() { $TC -s qdisc show dev $DEV; }

# --- SP-PIFO worked example (Documentation/backends.md) -------------------
# sppifo 3, one class (no policy): its tier gets queues 0-1, packets of no
# class queue 2.  Ranks 5 3 7 1 4: bounds (0,5) (3,5) (3,7), push-down by
# 2 to (1,5), then (4,5); queue 0 holds 3 1 4, queue 1 holds 5 7.
SPECX="5001:prio=5,5001:prio=3,5001:prio=7,5001:prio=1,5001:prio=4"
if setup_qdisc backend sppifo 3 && add_class 1 rank prio range 0 15 levels 16; then
	has "sppifo 3: guarantees shown" \
		'backend sppifo 3 .*guarantees P1=yes P2=approx P3=yes P4=approx P5=yes P6=yes' \
		$TC qdisc show dev $DEV
	run_order "sppifo 3 example: 5 3 7 1 4 leave as 3 1 4 5 7" "$SPECX" \
		"2 1 3
4 1 1
5 1 4
1 1 5
3 1 7"
	has "sppifo 3 example: bounds, pushdowns, inversions in tc -s" \
		'inversions 1 .*backend sppifo unpifoness 2 pushdowns 1 drops admission 0 +queue 0 tier 0 bound 4 len 0 +queue 1 tier 0 bound 5 len 0 +queue 2 tier 1 bound [0-9]+ len 0' \
		qd_stats
	has "sppifo 3 example: class inversions 1 unpifoness 2" \
		'class qvisor 1:1 .*inversions 1 unpifoness 2 admission 0' \
		$TC -s class show dev $DEV
else
	tap_fail "sppifo example: setup" "$($TC qdisc show dev $DEV)"
fi

# --- in-order ranks: SP-PIFO equals the PIFO -------------------------------
SPECI=$(for r in 0 1 1 2 5 5 9 12 12 15; do printf '5001:prio=%s,' "$r"; done)
SPECI=${SPECI%,}
if setup_qdisc backend sppifo 8 && add_class 1 rank prio range 0 15 levels 16; then
	run_order "sppifo 8: non-decreasing ranks leave in PIFO order" \
		"$SPECI" "$(pifo_order "$SPECI")"
else
	tap_fail "sppifo in-order: setup" "$($TC qdisc show dev $DEV)"
fi

# --- fifo and aifo keep arrival order ----------------------------------------
SPECS=$(for r in 9 3 12 0 7 3 15 5; do printf '5001:prio=%s,' "$r"; done)
SPECS=${SPECS%,}
for be in fifo aifo; do
	if setup_qdisc backend $be && add_class 1 rank prio range 0 15 levels 16; then
		run_order "$be: shuffled ranks leave in arrival order" "$SPECS" \
			"$(sent_list "$SPECS")"
	else
		tap_fail "$be order: setup" "$($TC qdisc show dev $DEV)"
	fi
done
has "aifo: guarantees P1=no P4=no (one FIFO, two tiers)" \
	'backend aifo overlap 50% flows 1024 flow_idle 1s guarantees P1=no P2=approx P3=yes P4=no P5=yes P6=yes' \
	$TC qdisc show dev $DEV

# --- P1 with dedicated tier queues -----------------------------------------
SPEC1="5002:prio=0,5001:prio=9,5002:prio=3,5001:prio=2,5002:prio=1"
SPEC1="$SPEC1,5001:prio=15,5002:prio=0,5001:prio=2,5002:prio=7,5001:prio=4"
for nq in 4 3; do
	if setup_qdisc backend sppifo $nq policy "1 >> 2" &&
		add_class 1 rank prio range 0 15 levels 16 &&
		add_class 2 rank prio range 0 15 levels 16; then
		send_blocked "$SPEC1"
		last1=$(grep -n '^[0-9]* 1 ' "$OUT/got" | tail -n1 | cut -d: -f1)
		first2=$(grep -n '^[0-9]* 2 ' "$OUT/got" | head -n1 | cut -d: -f1)
		n=$(wc -l <"$OUT/got")
		if [ "$n" = 10 ] && [ -n "$last1" ] && [ -n "$first2" ] &&
			[ "$last1" -lt "$first2" ]; then
			tap_ok "P1 on sppifo $nq, 1 >> 2: every tenant-1 packet before tenant 2"
			tap_diag "order: $(awk '{printf "%s:%s ", $2, $3}' "$OUT/got")"
		else
			tap_fail "P1 on sppifo $nq, 1 >> 2" "$(cat "$OUT/got")" \
				"$(qd_stats)"
		fi
	else
		tap_fail "P1 sppifo $nq: setup" "$($TC qdisc show dev $DEV)"
	fi
done
# 3 queues, 2 named tiers + packets of no class: dedicated ranges
has "sppifo 3, 1 >> 2: queue ranges 0 | 1 | 2 and P1=yes" \
	'queue 0 tier 0 .*queue 1 tier 1 .*queue 2 tier 2 ' qd_stats
has "sppifo 3, 1 >> 2: P1=yes" 'guarantees P1=yes' $TC qdisc show dev $DEV

# --- more tiers than queues: rejected, or 'partial' -------------------------
if setup_qdisc backend sppifo 2 policy "1 >> 2 >> 3" &&
	add_class 1 rank prio range 0 15 &&
	add_class 2 rank prio range 0 15; then
	has "sppifo 2, 2 named tiers: accepted, P1=approx (no-class packets share)" \
		'guarantees P1=approx' $TC qdisc show dev $DEV
	rejects "sppifo 2: a third strict tier is rejected" \
		'More strict tiers than sppifo queues: add queues or set partial' \
		$TC class add dev $DEV parent 1: classid 1:3 qvisor rank prio
	tap_check "partial on: accepted" \
		$TC qdisc change dev $DEV root qvisor partial
	tap_check "partial: the third tier is accepted" \
		add_class 3 rank prio range 0 15 levels 16
	has "partial: shown with P1=approx" \
		'backend sppifo 2 partial policy "1 >> 2 >> 3" .*guarantees P1=approx' \
		$TC qdisc show dev $DEV
	has "partial: tiers 1 and 2 share the last queue" \
		'queue 0 tier 0 .*queue 1 tier 1 ' qd_stats
	rejects "partial off again: rejected while 3 tiers need queues" \
		'More strict tiers than sppifo queues' \
		$TC qdisc change dev $DEV root qvisor nopartial
	tap_check "sppifo 4: the three tiers fit without partial" \
		$TC qdisc change dev $DEV root qvisor backend sppifo 4 nopartial
	has "sppifo 4: P1=yes" 'backend sppifo 4 policy .*guarantees P1=yes' \
		$TC qdisc show dev $DEV
else
	tap_fail "partial: setup" "$($TC qdisc show dev $DEV)"
fi

# --- AIFO admission under overload ------------------------------------------
# 60 packets into limit 20: AIFO refuses the worse quantiles as the queue
# fills; fifo just drops the tail.  Ranks: a fixed shuffle of 0..59.
RANKSA="37 12 55 3 48 21 9 59 30 16 44 1 27 52 6 39 18 58 33 24 0 46 11 57 35
14 50 7 41 26 2 54 19 43 31 10 56 23 38 5 49 15 29 53 8 36 22 45 13 51 4 34
25 47 17 42 28 20 32 40"
SPECA=$(for r in $RANKSA; do printf '5001:prio=%s,' "$r"; done)
SPECA=${SPECA%,}
sent_mean=$(echo $RANKSA | tr ' ' '\n' | awk '{ s += $1 } END { printf "%d", s / NR }')
for be in aifo fifo; do
	if setup_qdisc backend $be limit 20 &&
		add_class 1 rank prio range 0 59 levels 60; then
		send_blocked "$SPECA" 2000
		got=$(wc -l <"$OUT/got")
		mean=$(awk '{ s += $3 } END { printf "%d", NR ? s / NR : -1 }' "$OUT/got")
		inorder=$(awk 'NR > 1 && $1 <= prev { bad = 1 } { prev = $1 } END { print bad ? "no" : "yes" }' "$OUT/got")
		adm=$(qd_stats | tr '\n' ' ' | sed -n 's/.*drops admission \([0-9]*\).*/\1/p')
		tap_diag "$be: received $got of 60, mean rank $mean (sent $sent_mean), admission drops $adm"
		if [ "$be" = aifo ]; then
			if [ "$got" -lt 60 ] && [ "${adm:-0}" -gt 0 ] &&
				[ "$inorder" = yes ] && [ "$mean" -lt "$sent_mean" ]; then
				tap_ok "aifo: admission drops ($adm), FIFO order, mean rank $mean < $sent_mean"
			else
				tap_fail "aifo overload" "$(cat "$OUT/got")" "$(qd_stats)"
			fi
			aifo_mean=$mean
			has "aifo class shows admission drops" \
				'inversions [0-9]+ unpifoness [0-9]+ admission [1-9]' \
				$TC -s class show dev $DEV classid 1:1
		else
			if [ "$got" -lt 60 ] && [ "$adm" = 0 ] && [ "$inorder" = yes ] &&
				[ "$aifo_mean" -lt "$mean" ]; then
				tap_ok "fifo: tail drops only, mean rank $mean above aifo's $aifo_mean"
			else
				tap_fail "fifo overload" "$(cat "$OUT/got")" "$(qd_stats)"
			fi
		fi
	else
		tap_fail "$be overload: setup" "$($TC qdisc show dev $DEV)"
	fi
done

# --- P3 on the queue backends: 60:40 inside one '+' group -----------------
# Credits act before the backend, so shares do not depend on it.  As
# shares.sh: two UDP floods at 1.5x a 4 Mbit/s link, class byte counters
# sampled over 3 s after 2 s of warm-up, within 2 percentage points.
cl_sent() {	# MINOR: bytes sent by class 1:MINOR
	$TC -s class show dev $DEV | awk -v c="1:$1" '
		$1 == "class" && $3 == c { f = 1; next } f && /Sent/ { print $2; exit }'
}
for p in 5001 5002; do
	$IP netns exec $NS iperf3 -s -D -p $p -I "$OUT/iperf-$p.pid" >/dev/null 2>&1
	on_exit "kill \$(cat $OUT/iperf-$p.pid)"
done
wait_listen $NS 5001 5002
for be in "sppifo 8" aifo; do
	if slow_guest; then
		tap_skip "$be: UDP 60:40 in a '+' group" "share measurement on a slow (sanitizer) guest"
		continue
	fi
	$TC qdisc del dev $DEV root >/dev/null 2>&1
	if ! $TC qdisc add dev $DEV root handle 1: qvisor rate 4mbit limit 2000 noaqm \
		backend $be policy "1 + 2" ||
		! add_class 1 rank fifo weight 60 || ! add_class 2 rank fifo weight 40; then
		tap_fail "$be: 60:40 setup" "$($TC qdisc show dev $DEV)"
		continue
	fi
	for t in 1 2; do
		iperf3 -c $DST -p $((5000 + t)) -u -l 1400 -b 6M -t 7 \
			>"$OUT/iperf-c$t.txt" 2>&1 &
	done
	sleep 2
	a0=$(cl_sent 1) b0=$(cl_sent 2)
	sleep 3
	a1=$(cl_sent 1) b1=$(cl_sent 2)
	wait
	sh1=$(awk -v a=$((a1 - a0)) -v b=$((b1 - b0)) \
		'BEGIN { printf "%.2f", a + b ? 100 * a / (a + b) : 0 }')
	if awk -v g="$sh1" 'BEGIN { exit !(g >= 58 && g <= 62) }'; then
		tap_ok "$be: UDP 60:40 in a '+' group -> $sh1% for the weight-60 tenant"
	else
		tap_fail "$be: UDP 60:40 in a '+' group" "tenant 1 got $sh1%" \
			"$(cat "$OUT/iperf-c1.txt" | tail -3)" "$($TC -s class show dev $DEV)"
	fi
done

# --- switching the backend ---------------------------------------------------
# An 8 bit/s link: the blocker leaves and holds it for ~100 s, then 6
# packets of class 1:1 (SO_PRIORITY 1:1, no filter) stay queued.  Class
# 1:1 is also the default, so that whatever else the stack sends queues
# there too, and deleting the class empties the qdisc.
$TC qdisc del dev $DEV root >/dev/null 2>&1
$TC qdisc add dev $DEV root handle 1: qvisor rate 8bit noaqm backend pifo default 1
$TC class add dev $DEV parent 1: classid 1:1 qvisor rank fifo
qvsend -d $DST -B 64 "5001:prio=65537x6" >/dev/null 2>&1
sleep 0.5
cl_qlen() {
	$TC -s class show dev $DEV classid 1:1 |
		awk '/backlog/{q = $3; sub(/p$/, "", q); print q; exit}'
}
qlen=$(cl_qlen)
if [ "${qlen:-0}" -ge 6 ]; then
	tap_ok "6 packets queued behind an 8 bit/s link"
else
	tap_fail "6 packets queued behind an 8 bit/s link" "queued $qlen" "$(qd_stats)"
fi
rejects "pifo -> sppifo 4 with packets queued: rejected" \
	'Backend can change only while the queue is empty' \
	$TC qdisc change dev $DEV root qvisor backend sppifo 4
rejects "pifo -> aifo with packets queued: rejected" \
	'Backend can change only while the queue is empty' \
	$TC qdisc change dev $DEV root qvisor backend aifo
tap_check "other changes with packets queued still work (limit, partial)" \
	$TC qdisc change dev $DEV root qvisor limit 500 partial
$TC class del dev $DEV classid 1:1
has "class deleted: nothing queued" 'backlog 0b 0p' qd_stats
tap_check "queue empty: pifo -> sppifo 4 accepted" \
	$TC qdisc change dev $DEV root qvisor backend sppifo 4
$TC class add dev $DEV parent 1: classid 1:1 qvisor rank fifo
qvsend -d $DST "5001:prio=65537x3" >/dev/null 2>&1
sleep 0.5
rejects "sppifo 4 -> sppifo 8 with packets queued: rejected" \
	'Backend can change only while the queue is empty' \
	$TC qdisc change dev $DEV root qvisor backend sppifo 8
# one class, no policy: its tier has queues 0-2, rank fifo (joint 0) goes
# to the bottom one
has "queued packets kept in the sppifo queue of their tier" \
	'queue 2 tier 0 bound 0 len [1-9][0-9]* +queue 3 tier 1 ' qd_stats
# the module dumps the same queues as attributes (TCA_QVISOR_QSTATS), which
# tc prints from: not only the xstats arrays kept for older readers
if command -v "$QVNL" >/dev/null; then
	qs=$($QVNL qstats $DEV 2>&1)
	tcq=$(qd_stats | grep -oE 'queue [0-9]+ tier [0-9]+ bound [0-9]+ len [0-9]+')
	if [ "$qs" = "$tcq" ] && grep -qE '^queue 2 tier 0 bound 0 len [1-9]' <<<"$qs"; then
		tap_ok "TCA_QVISOR_QSTATS: the queues tc -s prints, as dumped"
	else
		tap_fail "TCA_QVISOR_QSTATS: the queues tc -s prints, as dumped" \
			"qvnl qstats:" "$qs" "tc -s:" "$tcq"
	fi
else
	tap_skip "TCA_QVISOR_QSTATS as dumped" "no qvnl tool (tools/qvnl.c)"
fi

$TC qdisc del dev $DEV root >/dev/null 2>&1
tap_done
