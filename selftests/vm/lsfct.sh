#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# lsfct: the QVISOR paper's Fig. 4 on a leaf-spine with qvisor on every
# hop (issue #22), run inside the test VM: the topology of
# selftests/vm/lib-leafspine.sh, one qvisorctl spec per setting applied in
# every switch namespace, ranks carried from the hosts to every switch in
# the IPv6 flow label (tools/bpf).
#
# Two modes (LSFCT_MODE):
#   check (make check, on CHECK_LONG_KVERS; ~330-360 s, limit below):
#     settings ideal,
#     strict12, pifo and share, seeds 1 and 2, then the ordering of the
#     settings on the two seeds pooled (check_order below, bounds from
#     every run we have, fast and slow); qvisor.long=off on the kernel
#     command line skips it (make check gives it on all but CHECK_LONG_KVERS)
#   bench (make bench-leafspine): every setting, no ordering asserted
#
# qvisor-timeout: 720
# (tools/vm/init.sh: more than make check's 420 s per script; the check
# mode has taken 330 s, and a slower emulated machine must not cut it)
#
# Tenants, each in its native units:
#   pfabric (class 1, the link's default: TCP and everything unmatched):
#     qvflows in every host, flows to the other hosts (uniformly), sizes
#     from LSFCT_CDF, Poisson arrivals at LOAD x the access rate per host;
#     rank = remaining bytes / LSFCT_UNIT (1), capped at the label's
#     2^20 - 1 (MAXR: a flow with more left than that waits at MAXR),
#     "rank mark range 0 MAXR"
#   edf (class 2, DSCP 10): LSFCT_T2_FLOWS constant-bit-rate UDP flows per
#     host, each to a random other host with a budget drawn from
#     LSFCT_BUDGETS (us, carried as the packet's rank), together
#     LSFCT_CBR x the access rate per host; "rank edf 10ms mark_budget
#     range 0 100000": deadline = arrival + the packet's budget, in us
# SETTING: pfifo (backend fifo), pifo (one PIFO on the raw ranks: both
# tenants range 0 MAXR with the same levels, policy "1 > 2" overlap 100),
# strict12 ("1 >> 2"), strict21 ("2 >> 1"), share ("1 + 2", weights 1:1,
# each tenant normalized to its own range), ideal (pfabric alone on the
# strict12 spec), sppifo8 ("1 >> 2" on backend sppifo 8).
# Environment (defaults; lists with spaces or commas): LSFCT_SETTINGS (bench: all seven) LSFCT_LOADS (0.6)
# LSFCT_SEEDS (1 2) LSFCT_SECS (20) LSFCT_LIMIT (200 packets per port) LSFCT_DRAIN (10) LSFCT_CBR (0.3)
# LSFCT_T2_FLOWS (2) LSFCT_BUDGETS (2000 5000 10000 20000) LSFCT_CDF
# (datamining, cut at 3650000 bytes) LSFCT_ACCESS (2, Mbit/s) LSFCT_CORE
# (4: the 4 Mbit/s and 8 Mbit/s of a first run kept the guest's CPUs
# 74-91% busy) LS_SPINES LS_LEAVES LS_HOSTS (2 4 2) LSFCT_LEVELS (4096).
# Output: TAP (one test per cell: it ran and every host's client finished)
# ("# ls-port:" lines: tc -s of every leaf port towards a host after the cell)
# and per cell
#   # ls-summary: SETTING LOAD SEED flows N done D small N MEAN P99 large N MEAN P99 edf due N got G met M frac F delay_us D cpu P% small_median MS
# (FCT in ms over all hosts' flows; small < 100 KB; edf: due = datagrams
# sent, got = received, met = received within their budget (qvrecv -w),
# frac = met / due, delay_us the mean one-way delay of those received;
# cpu: how busy the guest's CPUs were while the flows ran; small_median:
# the median FCT of the small flows).
LS_LEAVES=${LS_LEAVES:-4}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-leafspine.sh"

MODE=${LSFCT_MODE:-check}
if [ "$MODE" = check ]; then
	long_suite lsfct
	DEF_SETTINGS="ideal strict12 pifo share"
else
	DEF_SETTINGS="pfifo pifo strict12 strict21 share ideal sppifo8"
fi
SETTINGS=$(echo "${LSFCT_SETTINGS:-$DEF_SETTINGS}" | tr , ' ')
LOADS=$(echo "${LSFCT_LOADS:-0.6}" | tr , ' ')
SEEDS=$(echo "${LSFCT_SEEDS:-1 2}" | tr , ' ')
SECS=${LSFCT_SECS:-20}
DRAIN=${LSFCT_DRAIN:-10}
CBR=${LSFCT_CBR:-0.3}
T2_FLOWS=${LSFCT_T2_FLOWS:-2}
BUDGETS=$(echo "${LSFCT_BUDGETS:-2000 5000 10000 20000}" | tr , ' ')
CDF=${LSFCT_CDF:-datamining}
ACCESS=${LSFCT_ACCESS:-2}
CORE=${LSFCT_CORE:-4}
LIMIT=${LSFCT_LIMIT:-200}
UNIT=${LSFCT_UNIT:-1}
LEVELS=${LSFCT_LEVELS:-4096}
T2MAX=100000
UDP_LEN=1000
SIZES=(-f "$CDF" -x 1 -X 3650000)
OUT=${TMPDIR:-/tmp}/qv-lsfct.$$
mkdir -p "$OUT"
on_exit "rm -rf $OUT"
on_exit "killall -q qvflows qvsend qvrecv"

ls_require "lsfct" qvflows qvsend qvrecv qvisorctl

# MAXSIZE: the largest flow; ranks in UNITs, capped at the label's 2^20 - 1
MAXSIZE=$(qvflows -i "${SIZES[@]}" | awk '{ print $6 }')
MAXR=$((MAXSIZE / UNIT))
[ $MAXR -le 1048575 ] || MAXR=1048575
echo "# lsfct: $LS_SPINES spines, $LS_LEAVES leaves, $LS_HOSTS hosts each; access ${ACCESS} Mbit/s, core ${CORE} Mbit/s, limit $LIMIT; $CDF (largest $MAXSIZE B, rank unit $UNIT B, MAXR $MAXR)"

tap_check "leaf-spine built" ls_build || tap_done
tap_check "flow label programs" ls_label || tap_done
HOSTS=$(ls_hosts)
for h in $HOSTS; do
	$IP netns exec "$h" qvflows -s -p 7000 </dev/null >/dev/null 2>&1 &
done
sleep 1

# spec SETTING: the spec file of a setting
spec() {
	local pol extra="" r2="range 0 $T2MAX"
	case $1 in
	pfifo) pol="1 >> 2" extra="backend = fifo" ;;
	pifo) pol="1 > 2" extra="overlap = 100" r2="range 0 $MAXR" ;;
	strict12 | ideal) pol="1 >> 2" ;;
	strict21) pol="2 >> 1" ;;
	share) pol="1 + 2" ;;
	sppifo8) pol="1 >> 2" extra="backend = sppifo 8" ;;
	*) return 1 ;;
	esac
	cat <<EOF
[link]
dev = lf*-h*
rate = ${ACCESS}mbit
policy = $pol
default = 1
limit = $LIMIT
buckets = 16384
aqm = no
$extra

[link core]
dev = lf*-s* sp*-l*
rate = ${CORE}mbit

[tenant pfabric]
class = 1
rank = mark
range = 0 $MAXR
levels = $LEVELS

[tenant edf]
class = 2
match = dscp 10
rank = edf 10ms mark_budget
${r2/range /range = }
levels = $LEVELS
EOF
}

# apply SETTING: fresh qdiscs on every switch port (no packet of the last
# cell left), then the setting's spec in every switch namespace
apply() {
	local s p
	spec "$1" >"$OUT/spec" || return 1
	for s in $(ls_switches); do
		for p in $(ls_ports "$s"); do
			$TC -n "$s" qdisc del dev "$p" root 2>/dev/null
		done
	done
	for s in $(ls_switches); do
		$IP netns exec "$s" qvisorctl apply "$OUT/spec" >"$OUT/apply" 2>&1 ||
			{ cat "$OUT/apply"; return 1; }
	done
}

# edf_flows SEED: "SRC DST PORT BUDGET" per CBR flow (random pairs)
edf_flows() {
	local hosts b i j _k port=6001
	mapfile -t hosts <<<"$HOSTS"
	read -ra b <<<"$BUDGETS"
	RANDOM=$1
	for i in "${!hosts[@]}"; do
		for _k in $(seq 1 "$T2_FLOWS"); do
			j=$((RANDOM % (${#hosts[@]} - 1)))
			[ "$j" -ge "$i" ] && j=$((j + 1))
			echo "${hosts[$i]} ${hosts[$j]} $port ${b[$((RANDOM % ${#b[@]}))]}"
			port=$((port + 1))
		done
	done
}

# cell SETTING LOAD SEED
cell() {
	local set=$1 load=$2 seed=$3 h i=0 dsts pps ports pids=
	apply "$set" || return 1
	edf_flows "$seed" >"$OUT/edf"
	rm -f "$OUT"/rx-* "$OUT"/tx-* "$OUT"/fl-* "$OUT"/fs-*
	C0=$(cpu_ticks)
	if [ "$set" != ideal ]; then
		for h in $HOSTS; do
			ports=$(awk -v h="$h" '$2 == h { printf "%s%s", s, $3; s = "," }' "$OUT/edf")
			[ -n "$ports" ] || continue
			$IP netns exec "$h" qvrecv -p "$ports" -w $((SECS + DRAIN + 1)) \
				>"$OUT/rx-$h" 2>/dev/null &
			pids="$pids $!"
		done
		pps=$(awk -v c="$CBR" -v m="$ACCESS" -v l=$UDP_LEN -v n="$T2_FLOWS" \
			'BEGIN { printf "%.1f", c * m * 1e6 / 8 / (l + 62) / n }')
		while read -r src dst port budget; do
			$IP netns exec "$src" qvsend -d "$(ls_ns_addr "$dst")" -D 10 \
				-l $UDP_LEN -t $((SECS + DRAIN)) -r "$pps" \
				"$port:prio=$budget" </dev/null >/dev/null 2>"$OUT/tx-$port" &
			pids="$pids $!"
		done <"$OUT/edf"
		sleep 0.5
	fi
	for h in $HOSTS; do
		dsts=$(for d in $HOSTS; do [ "$d" = "$h" ] || ls_ns_addr "$d"; done | paste -sd,)
		i=$((i + 1))
		$IP netns exec "$h" qvflows -c "$dsts" -p 7000 "${SIZES[@]}" \
			-R "$ACCESS" -L "$load" -t "$SECS" -W "$DRAIN" -k prio \
			-u "$UNIT" -M "$MAXR" -C 32 -S $((seed * 100 + i)) \
			-T "$set" -o "$OUT/fl-$h" </dev/null 2>"$OUT/fs-$h" &
	done
	wait_clients
	C1=$(cpu_ticks)
	# shellcheck disable=SC2086 # the edf senders and receivers end on their own
	[ -z "$pids" ] || wait $pids
	summary "$set" "$load" "$seed"
	counters "$set" "$seed"
}

# counters SETTING SEED: what each host-facing port's qdisc and classes
# did in the cell (the ports where the tenants meet at a receiver)
counters() {
	local l p
	for l in $(seq 1 "$LS_LEAVES"); do
		for p in $(ls_ports "qv-lf$l"); do
			case $p in lf*-h*) ;; *) continue ;; esac
			{ $TC -n "qv-lf$l" -s qdisc show dev "$p" root
				$TC -n "qv-lf$l" -s class show dev "$p"; } |
				sed "s/^/# ls-port: $1 $2 $p: /"
		done
	done
}

# cpu_ticks: "busy total" jiffies of all CPUs so far
cpu_ticks() {
	awk '$1 == "cpu" { t = 0; for (i = 2; i <= NF; i++) t += $i
		print t - $5 - $6, t; exit }' /proc/stat
}

# wait_clients: until no qvflows client runs (the servers stay)
wait_clients() {
	local n=$(((SECS + DRAIN) * 10 + 300))
	while pgrep_clients && [ $n -gt 0 ]; do
		sleep 0.1
		n=$((n - 1))
	done
}
pgrep_clients() {
	local p
	for p in $(pidof qvflows); do
		grep -q -- '-c' "/proc/$p/cmdline" 2>/dev/null && return 0
	done
	return 1
}

summary() {
	local fl edf
	# the cell's small-flow FCTs: for its median, then pooled per setting
	: >"$OUT/small-cell"
	fl=$(cat "$OUT"/fl-* 2>/dev/null | awk -F, -v sf="$OUT/small-cell" '$1 != "tag" {
		n++; if ($6 == "done") d++
		if ($3 < 100000) { s[++ns] = $5; print $5 >>sf } else l[++nl] = $5 }
		function stat(a, k,   i, j, t, m, x) {
			if (!k) return "0 0 0"
			for (i = 1; i <= k; i++) { m += a[i]
				for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t } }
			x = int(0.99 * k + 0.999); if (x < 1) x = 1
			return sprintf("%d %.3f %.3f", k, m / k, a[x]) }
		END { printf "flows %d done %d small %s large %s", n, d, stat(s, ns), stat(l, nl) }')
	# due: every packet sent (a lost one missed its deadline)
	edf=$({ cat "$OUT"/tx-* 2>/dev/null | awk '$1 == "flood" { print "tx", $4 }'
		cat "$OUT"/rx-* 2>/dev/null; } | awk '
		$1 == "tx" { due += $2; next }
		{ got += $3; met += $8; d += $6 * $3 }
		END { printf "edf due %d got %d met %d frac %.4f delay_us %.0f", due, got, met,
			due ? met / due : 0, got ? d / got : 0 }')
	cat "$OUT/small-cell" >>"$OUT/small-$1"
	echo "# ls-summary: $1 $2 $3 $fl $edf cpu $(echo "$C0 $C1" |
		awk '{ printf "%.0f%%", ($4 > $2 ? 100 * ($3 - $1) / ($4 - $2) : 0) }') small_median $(median <"$OUT/small-cell")" |
		tee -a "$OUT/summary"
	if cat "$OUT"/fs-* | grep -q '^summary'; then
		tap_ok "cell $1 load $2 seed $3: $fl"
	else
		tap_fail "cell $1 load $2 seed $3" "$(cat "$OUT"/fs-* | tail -n 5)"
	fi
}

# pooled SETTING FIELD: over all seeds and loads of SETTING, from the
# ls-summary lines: small/large = mean FCT (ms) over all their flows,
# nsmall/nlarge = how many, edf = deadline-met fraction (met / due);
# smallmed = the median FCT of all its small flows (summary keeps them),
# cpu = the guest CPU of its cells (how busy, one per cell)
pooled() {
	if [ "$2" = smallmed ]; then
		[ ! -f "$OUT/small-$1" ] || median <"$OUT/small-$1"
		return
	fi
	awk -v s="$1" -v f="$2" '$3 == s {
		hit = 1; ns += $11; sm += $11 * $12; nl += $15; lm += $15 * $16
		due += $20; met += $24; cpu = cpu (cpu == "" ? "" : " ") $30 }
		END { if (!hit) exit
			if (f == "small") printf "%.3f\n", ns ? sm / ns : 0
			if (f == "large") printf "%.3f\n", nl ? lm / nl : 0
			if (f == "nsmall") print ns
			if (f == "nlarge") print nl
			if (f == "edf") printf "%.4f\n", due ? met / due : 0
			if (f == "cpu") print cpu }' "$OUT/summary"
}

# expect WHAT EXPR A B: tap ok when awk's EXPR holds for a and b
expect() {
	if [ -n "$3" ] && [ -n "$4" ] &&
		awk -v a="$3" -v b="$4" "BEGIN { exit !($2) }"; then
		tap_ok "$1 ($3 vs $4)"
	else
		tap_fail "$1" "${3:-none} vs ${4:-none}"
	fi
}

# check_order: the ordering of the settings on the pooled seeds.  The
# ratios of FCTs against ideal depend on how busy the emulated machine
# is: ideal carries no EDF traffic and kept the guest's CPUs 48-60% busy,
# the settings with EDF 74-82% on a good day and 83-95% on a slow one,
# where packets wait for the CPU and not in qvisor (on such a day 1 >> 2
# came out 1.54-1.92x ideal for small flows and the raw PIFO's small
# flows ahead of 1 + 2's in one seed of four).  So the check asserts
# what held on every run, fast or slow, with sanity bounds against ideal;
# the upper bounds leave room for a slower machine than ours (a later
# run: 1 + 2 at 2.28x); the paper's quantitative targets are make
# bench-leafspine's (Documentation/fct.md).  Pooled pairs of seeds, as measured
# (bench 6.12 1+2 3+4, 6.1 1+2, pre-checks and CI of sessions 18-19,
# the slow day's 1+2 and 3+4, session 19's pre-check last):
#   1 >> 2 small / ideal small   1.13 1.01 1.16 1.28 1.19 1.54 1.92 1.94  <= 3 (pfifo 46)
#   raw PIFO large / 1 >> 2      1.27 1.12 1.28 1.25 1.26 1.28 1.12 1.28  >= 1.06
#   EDF met, 1 + 2 - 1 >> 2      .275 .128 .255 .255 .222 .251 .102 .249  >= 0.06
#   EDF met, raw PIFO - 1 + 2    .116 .067 .07  .054   -  .060 .078 .066  >= 0.02
#   1 + 2 small / ideal small    1.93 1.82 1.93 1.90 2.07 2.00 1.87 1.72  1.4 .. 4
# The raw PIFO lets EDF's deadlines (2000 us and up) undercut every
# pFabric packet with more bytes left, so EDF meets more deadlines than
# under 1 + 2, which normalizes the two and alternates them by credit:
# where EDF is backlogged a small flow of pFabric gets every other packet
# slot, about twice its FCT alone.  A FIFO in qvisor's place fails the
# first and the last (40x and more) and gives the raw PIFO and 1 + 2 the
# same deadlines; 1 + 2 ordered like 1 >> 2 fails the third, like the
# raw PIFO the fourth.
check_order() {
	local ns s
	for s in $SETTINGS; do
		tap_diag "pooled $s: small mean $(pooled "$s" small) median $(pooled "$s" smallmed) ms, large mean $(pooled "$s" large) ms, edf met $(pooled "$s" edf); guest CPU $(pooled "$s" cpu)"
	done
	ns=$(pooled strict12 nsmall)
	if [ "${ns:-0}" -ge 60 ] && [ "$(pooled strict12 nlarge)" -ge 10 ]; then
		tap_ok "1 >> 2: $ns small and $(pooled strict12 nlarge) large flows measured"
	else
		tap_fail "1 >> 2: at least 60 small and 10 large flows measured" \
			"${ns:-none} small, $(pooled strict12 nlarge) large"
	fi
	expect "small-flow mean FCT: 1 >> 2 within 3x of ideal" "a <= 3 * b" \
		"$(pooled strict12 small)" "$(pooled ideal small)"
	expect "large-flow mean FCT: raw PIFO at least 1.06x 1 >> 2" "a >= 1.06 * b" \
		"$(pooled pifo large)" "$(pooled strict12 large)"
	expect "EDF deadlines met: 1 + 2 at least 0.06 above 1 >> 2" "a >= b + 0.06" \
		"$(pooled share edf)" "$(pooled strict12 edf)"
	expect "EDF deadlines met: raw PIFO at least 0.02 above 1 + 2" "a >= b + 0.02" \
		"$(pooled pifo edf)" "$(pooled share edf)"
	expect "small-flow mean FCT: 1 + 2 between 1.4x and 4x ideal" \
		"a >= 1.4 * b && a <= 4 * b" "$(pooled share small)" "$(pooled ideal small)"
}

for seed in $SEEDS; do
	for load in $LOADS; do
		for set in $SETTINGS; do
			cell "$set" "$load" "$seed" ||
				tap_fail "cell $set load $load seed $seed" "$(cat "$OUT/apply" 2>/dev/null)"
		done
	done
done
[ "$MODE" != check ] || check_order
tap_done
