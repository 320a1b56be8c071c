#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Lending on sppifo (option lend, Documentation/backends.md): a strict
# tier that sent nothing for the lend time, with empty queues, lends its
# queues but one to the active tiers, and gets them back at its next
# packet.
#
# As backends.sh: qvisor on veth0 with a tiny rate, a blocker packet (no
# class) holds the link while the scripted packets queue up, qvrecv prints
# the arrival order ("seq tenant rank").  sppifo 8 with "1 >> 2 >> 3 >> 4"
# is [2, 2, 2, 1] queues and 1 for packets of no class: tenant 4 has one
# queue (FIFO) without lending, four with tiers 1-3 idle.  Checked: lend
# in tc, tenant 4's inversions off against on (on lower), lends and the
# current queue tiers in tc -s, then tier 1 sends while tier 4's packets
# sit in the lent queues: every tier-1 packet leaves before every queued
# tier-4 packet (P1), and tier 4's own order is what it would have been.
. "$(dirname "$0")/lib.sh"

NS=qv-lend
DEV=veth0
DST=10.0.0.2
RATE=50kbit
BLOCKER=1400
OUT=${TMPDIR:-/tmp}/qv-lend.$$
mkdir -p "$OUT"
on_exit "rm -rf $OUT"

udp_test_setup "lend tests"

# tenant 4: 48 packets of ranks 0..15 in a fixed shuffled order
R4="9 2 0 9 13 12 11 4 6 8 14 0 7 14 0 3 2 15 13 0 13 11 1 6 1 11 5 6 11 11"
R4="$R4 9 10 2 15 5 15 14 5 5 5 10 6 3 2 3 13 1 8"
SPEC4=$(for r in $R4; do printf '5004:prio=%s,' "$r"; done)
SPEC4=${SPEC4%,}

# setup [OPTIONS...]: sppifo 8, 1 >> 2 >> 3 >> 4, four rank-prio tenants
setup() {
	setup_qdisc backend sppifo 8 policy "1 >> 2 >> 3 >> 4" "$@" &&
		add_class 1 rank prio range 0 15 levels 16 &&
		add_class 2 rank prio range 0 15 levels 16 &&
		add_class 3 rank prio range 0 15 levels 16 &&
		add_class 4 rank prio range 0 15 levels 16
}

qd_stats() { $TC -s qdisc show dev $DEV | tr '\n' ' '; }

# inversions LEND: tenant 4's class inversions after sending SPEC4, with
# lend LEND (0 = off); the tiers above have sent nothing for 300 ms
inversions() {
	if ! setup lend "$1"; then
		echo "setup failed: $($TC qdisc show dev $DEV)" >&2
		return 1
	fi
	sleep 0.3
	send_blocked "$SPEC4" || { echo "not all arrived: $(cat "$OUT/got" | wc -l)" >&2; return 1; }
	class_word 1:4 inversions
}

# --- option ----------------------------------------------------------------
if setup lend 100ms; then
	tap_check "lend 100ms shown" \
		bash -c "$TC qdisc show dev $DEV | grep -q 'lend 100ms '"
	tap_check "lend off (0) hidden" \
		bash -c "$TC qdisc change dev $DEV root qvisor lend 0 &&
			 ! $TC qdisc show dev $DEV | grep -q 'lend '"
else
	tap_fail "lend option: setup" "$($TC qdisc show dev $DEV 2>&1)"
fi
tap_check "lend accepted and ignored on pifo" \
	bash -c "$TC qdisc del dev $DEV root; $TC qdisc add dev $DEV root handle 1: qvisor lend 10ms &&
		 $TC qdisc show dev $DEV | grep -q 'lend 10ms '"
if $TC qdisc replace dev $DEV root handle 1: qvisor lend 61s 2>"$OUT/err"; then
	tap_fail "lend over a minute refused" "accepted"
else
	tap_ok "lend over a minute refused"
	tap_diag "$(cat "$OUT/err")"
fi

# --- inversions of tenant 4, lending off and on ----------------------------
OFF=$(inversions 0 2>"$OUT/off.err")
OFF_ORDER=$(awk '$2 == 4 {printf "%s ", $3}' "$OUT/got")
ON=$(inversions 100ms 2>"$OUT/on.err")
ON_ORDER=$(awk '$2 == 4 {printf "%s ", $3}' "$OUT/got")
ON_STATS=$(qd_stats)
tap_diag "tenant 4 inversions: lend off ${OFF:-?}, lend 100ms ${ON:-?}"
tap_diag "order off: $OFF_ORDER"
tap_diag "order on:  $ON_ORDER"
if [ -n "$OFF" ] && [ -n "$ON" ] && [ "$ON" -lt "$OFF" ]; then
	tap_ok "tenant 4 inverts less with lending ($ON < $OFF)"
else
	tap_fail "tenant 4 inverts less with lending" "off '$OFF' on '$ON'" \
		"$(cat "$OUT/off.err" "$OUT/on.err")" "$ON_STATS"
fi
if grep -qE ' lends [1-9]' <<<"$ON_STATS" &&
	grep -qE 'queue 2 tier 2 .*queue 3 tier 3 .*queue 6 tier 3 .*queue 7 tier 4' <<<"$ON_STATS"; then
	tap_ok "lends counted, queues 3-6 shown as tier 3's"
else
	tap_fail "lends counted, queues 3-6 shown as tier 3's" "$ON_STATS"
fi

# --- tier 1 comes back while tier 4's packets sit in the lent queues -------
SPEC14="$SPEC4,5001:prio=7,5001:prio=3,5001:prio=12,5001:prio=0"
if setup lend 100ms; then
	sleep 0.3
	if send_blocked "$SPEC14"; then
		last1=$(awk '$2 == 1 {n = NR} END {print n + 0}' "$OUT/got")
		first4=$(awk '$2 == 4 {print NR; exit}' "$OUT/got")
		n1=$(awk '$2 == 1' "$OUT/got" | wc -l)
		if [ "$n1" -eq 4 ] && [ "$last1" -lt "$first4" ]; then
			tap_ok "P1: tier 1's packets leave before every queued tier-4 packet"
		else
			tap_fail "P1: tier 1's packets leave before every queued tier-4 packet" \
				"last tier 1 at $last1, first tier 4 at $first4" \
				"$(cat "$OUT/got")"
		fi
		tap_diag "order: $(awk '{printf "%s:%s ", $2, $3}' "$OUT/got")"
		# tier 4's packets kept the order they had in the lent queues
		# (the same sends as the lend-on run above)
		ORDER=$(awk '$2 == 4 {printf "%s ", $3}' "$OUT/got")
		if [ "$ORDER" = "$ON_ORDER" ]; then
			tap_ok "tier 4's order unchanged by the return"
		else
			tap_fail "tier 4's order unchanged by the return" \
				"with return: $ORDER" "without:     $ON_ORDER"
		fi
	else
		tap_fail "tier 1 returns: all packets arrive" "$(cat "$OUT/got")"
	fi
else
	tap_fail "tier 1 returns: setup" "$($TC qdisc show dev $DEV 2>&1)"
fi

tap_done
