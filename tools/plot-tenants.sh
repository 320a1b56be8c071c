#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Per-tenant throughput over time from a VM console log: the "# csv:" lines
# that selftests/vm/tenants.sh prints (t_ms, then the cumulative bytes of
# each tenant class) become OUT.csv (time in s, Mbit/s per tenant per
# interval) and, with gnuplot, OUT.png.  Used by `make demo`.
#
#   tools/plot-tenants.sh LOG OUT "TITLE"
set -eu
LOG=$1
OUT=$2
TITLE=${3:-qvisor tenants}
sed -n 's/^# csv: //p' "$LOG" | awk -F, '
	NR == 1 { printf "t_s"; for (i = 2; i <= NF; i++) printf ",%s_mbit", $i; print ""; next }
	{
		if (n++) {
			dt = ($1 - t) / 1000
			printf "%.2f", ($1 - t0) / 1000
			for (i = 2; i <= NF; i++)
				printf ",%.3f", ($i - b[i]) * 8 / dt / 1e6
			print ""
		} else {
			t0 = $1
		}
		t = $1
		for (i = 2; i <= NF; i++) b[i] = $i
	}' >"$OUT.csv"
cols=$(head -n 1 "$OUT.csv" | awk -F, '{ print NF }')
if command -v gnuplot >/dev/null && [ "$(wc -l <"$OUT.csv")" -gt 2 ]; then
	plot=""
	for c in $(seq 2 "$cols"); do
		name=$(head -n 1 "$OUT.csv" | cut -d, -f"$c" | sed 's/_mbit$//')
		plot="$plot${plot:+, }\"$OUT.csv\" using 1:$c every ::1 with linespoints title \"$name\""
	done
	gnuplot <<EOT
set terminal pngcairo size 800,450 noenhanced
set output "$OUT.png"
set datafile separator ","
set title "$TITLE"
set xlabel "time (s)"
set ylabel "throughput (Mbit/s)"
set key top right
set grid
set yrange [0:*]
plot $plot
EOT
fi
