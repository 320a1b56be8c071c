#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# FCT report: reads the console log of a VM run of selftests/vm/fct.sh in
# bench mode (make bench-fct) and writes
#   OUT.md         Markdown table: mean and p99 FCT of small (< 100 KB) and
#                  large flows of tenant 1 per setting and load
#   OUT.csv        the same numbers as CSV
#   OUT-flows.csv  every flow: setting, load, id, size, arrival, FCT, status
#   OUT.png        mean FCT of small and large flows vs load (gnuplot)
# and prints OUT.md.
#
#   tools/fct/report.sh LOG OUT
set -eu
LOG=$1
OUT=$2
mkdir -p "$(dirname "$OUT")"
KVER=$(sed -n 's/^# qvisor-kernel: \([^ ]*\).*/\1/p' "$LOG" | head -n 1)
# the matrix's lines: the short version (if it ran) comes first
APPEND=$(sed -n 's/^# fct-config: //p' "$LOG" | grep -v '^short version' | tail -n 1)
SIZES=$(sed -n 's/^# fct-sizes: //p' "$LOG" | tail -n 1)
WORKLOAD=${SIZES%% *}
case $WORKLOAD in
websearch) WNAME="web search" ;;
datamining) WNAME="data mining" ;;
*) WNAME=${WORKLOAD:-unknown} ;;
esac

. "$(dirname "$0")/labels.sh"

# "# fct-summary: SET LOAD flows N done D small N MEAN P99 large N MEAN P99 udp MBIT"
# (SET@N: cells of the short version that runs first; left out)
sed -n 's/^# fct-summary: //p' "$LOG" | grep -v '^[^ ]*@' | awk '
	BEGIN { print "setting,load,flows,done,small_n,small_mean_ms,small_p99_ms,large_n,large_mean_ms,large_p99_ms,udp_mbit" }
	{ print $1 "," $2 "," $4 "," $6 "," $8 "," $9 "," $10 "," $12 "," $13 "," $14 "," $16 }' \
	>"$OUT.csv"
{
	echo "setting,load,id,size,arrival_s,fct_ms,status"
	sed -n 's/^# fct-flow: //p' "$LOG" | grep -v '^[^,]*@' || true
} >"$OUT-flows.csv"

[ "$(wc -l <"$OUT.csv")" -gt 1 ] || { echo "report: no fct-summary lines in $LOG" >&2; exit 1; }

{
	echo "| load | setting | flows (done) | small: n | small: mean ms | small: p99 ms | large: n | large: mean ms | large: p99 ms | UDP Mbit/s |"
	echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
	tail -n +2 "$OUT.csv" | while IFS=, read -r s l n d sn sm sp ln lm lp u; do
		echo "| $l | $(label "$s") | $n ($d) | $sn | $sm | $sp | $ln | $lm | $lp | $u |"
	done
	echo
	echo "Kernel $KVER under QEMU/TCG, $(date -u +%Y-%m-%d)."
	[ -n "$APPEND" ] && echo "Configuration: $APPEND."
	[ -n "$SIZES" ] && echo "Flow sizes of tenant 1: $SIZES."
	echo "A flow still open at the end of a run counts with its age then (a lower"
	echo "bound of its FCT); flows (done) shows how many completed."
	echo "Command: \`make bench-fct\` (this table alone: \`make bench-fct FCT_KVERS=$KVER FCT_WORKLOADS=$WORKLOAD\`)."
} >"$OUT.md"

if command -v gnuplot >/dev/null; then
	sets=$(tail -n +2 "$OUT.csv" | cut -d, -f1 | awk '!seen[$0]++')
	for s in $sets; do
		awk -F, -v s="$s" '$1 == s' "$OUT.csv" | sort -t, -k2,2n >"$OUT.$s.dat"
	done
	plot_small="" plot_large=""
	for s in $sets; do
		t=$(label "$s")
		plot_small="$plot_small${plot_small:+, }\"$OUT.$s.dat\" using 2:6 with linespoints title \"$t\""
		plot_large="$plot_large${plot_large:+, }\"$OUT.$s.dat\" using 2:9 with linespoints title \"$t\""
	done
	gnuplot <<EOT
set terminal pngcairo size 1100,560 noenhanced
set output "$OUT.png"
set datafile separator ","
set multiplot layout 1,2 title "qvisor: FCT of tenant 1 ($WNAME flows) next to CBR UDP (EDF), $KVER"
set logscale y
set grid
set xlabel "load of tenant 1"
set key bmargin center horizontal maxrows 3 font ",9"
set title "small flows (< 100 KB): mean FCT"
set ylabel "ms"
plot $plot_small
set title "large flows (>= 100 KB): mean FCT"
plot $plot_large
unset multiplot
EOT
	for s in $sets; do rm -f "$OUT.$s.dat"; done
fi
cat "$OUT.md"
