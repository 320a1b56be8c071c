#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# lsreport: tables of the leaf-spine FCT experiment (selftests/vm/lsfct.sh, LSFCT_MODE=bench)
# from one or more console logs.
#
#   tools/fct/lsreport.sh OUT LOG...
#
# Reads the "# ls-summary:" lines (one per cell: setting, load, seed) and
# writes OUT.csv (one line per cell, with the small- and large-flow means
# as ratios to the ideal cell of the same load and seed) and OUT.md (per
# load and setting: the ratios per seed, their mean with a 95 %
# confidence interval (Student's t, seeds - 1 degrees of freedom), the
# deadline-met fraction per seed; "-" for a ratio where the log has no
# ideal cell of that load and seed) and, with gnuplot, OUT.png shaped like
# the QVISOR paper's Fig. 4: per setting against the load, the small- and
# large-flow mean FCT as ratios to ideal (mean over the seeds, 95 % CI as
# error bars) and EDF's deadline-met fraction (its data in OUT.fig.csv).
# make bench-leafspine calls it.
[ $# -ge 2 ] || { echo "usage: lsreport.sh OUT LOG..." >&2; exit 2; }
out=$1
shift
grep -ah '^# ls-summary:' "$@" | awk -v csv="$out.csv" -v md="$out.md" -v fig="$out.fig.csv" '
# fields: 3 setting 4 load 5 seed 7 flows 9 done 11 small n 12 mean
# 13 p99 15 large n 16 mean 17 p99 20 edf due 22 got 24 met 26 frac
# 28 delay_us 30 cpu
{
	k = $3 SUBSEP $4 SUBSEP $5
	if (!(k in sm)) { nc++; cell[nc] = k }
	sm[k] = $12; sp[k] = $13; lm[k] = $16; due[k] = $20; met[k] = $24
	line[k] = $0
	if (!(($3) in seen_s)) { seen_s[$3] = 1; ns++; sets[ns] = $3 }
	if (!(($4) in seen_l)) { seen_l[$4] = 1; nl++; loads[nl] = $4 }
	if (!(($5) in seen_e)) { seen_e[$5] = 1; ne++; seeds[ne] = $5 }
}
# t quantile 0.975 for d degrees of freedom (d <= 10, else 1.96)
function tq(d) {
	split("12.706 4.303 3.182 2.776 2.571 2.447 2.365 2.306 2.262 2.228", t, " ")
	return d >= 1 && d <= 10 ? t[d] : 1.96
}
function ci(a, n) {
	if (n < 2) return ""
	return sprintf(" +- %.2f", hw(a, n))
}
# half width of the 95 % confidence interval of the mean
function hw(a, n,   i, m, v) {
	if (n < 2) return 0
	m = mean(a, n)
	for (i = 1; i <= n; i++) v += (a[i] - m) ^ 2
	return tq(n - 1) * sqrt(v / (n - 1)) / sqrt(n)
}
function mean(a, n,   i, m) {
	for (i = 1; i <= n; i++) m += a[i]
	return n ? m / n : 0
}
END {
	# loads in numeric order, whatever order the logs had them in
	for (i = 2; i <= nl; i++)
		for (j = i; j > 1 && loads[j - 1] + 0 > loads[j] + 0; j--) {
			tmp = loads[j]; loads[j] = loads[j - 1]; loads[j - 1] = tmp
		}
	print "setting,load,seed,small_n,small_mean_ms,small_p99_ms,small_vs_ideal,large_mean_ms,large_vs_ideal,edf_due,edf_met,edf_met_frac" > csv
	for (c = 1; c <= nc; c++) {
		split(cell[c], p, SUBSEP)
		i = "ideal" SUBSEP p[2] SUBSEP p[3]
		rs = (i in sm) && sm[i] > 0 ? sprintf("%.3f", sm[cell[c]] / sm[i]) : ""
		rl = (i in lm) && lm[i] > 0 ? sprintf("%.3f", lm[cell[c]] / lm[i]) : ""
		split(line[cell[c]], f, " ")
		printf "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", p[1], p[2], p[3],
			f[11], sm[cell[c]], sp[cell[c]], rs, lm[cell[c]], rl,
			due[cell[c]], met[cell[c]],
			due[cell[c]] ? sprintf("%.4f", met[cell[c]] / due[cell[c]]) : "" > csv
	}
	print "setting,load,seeds,small_vs_ideal,small_ci,large_vs_ideal,large_ci,edf_met,edf_ci" > fig
	print "| load | setting | small mean ms per seed | small : ideal per seed | mean (95% CI) | large : ideal per seed | mean (95% CI) | EDF met per seed |" > md
	print "| --- | --- | --- | --- | --- | --- | --- | --- |" > md
	for (l = 1; l <= nl; l++) for (s = 1; s <= ns; s++) {
		# n cells; r of them with an ideal cell of the same seed (ratios)
		n = r = ne2 = 0; ms = rss = rls = es = ""
		delete a; delete b; delete m
		for (e = 1; e <= ne; e++) {
			k = sets[s] SUBSEP loads[l] SUBSEP seeds[e]
			i = "ideal" SUBSEP loads[l] SUBSEP seeds[e]
			if (!(k in sm)) continue
			sep = n++ ? " " : ""
			ms = ms (n > 1 ? " / " : "") sprintf("%.1f", sm[k])
			es = es sep (due[k] ? sprintf("%.2f", met[k] / due[k]) : "-")
			if (due[k]) m[++ne2] = met[k] / due[k]
			if (!(i in sm) || sm[i] <= 0 || lm[i] <= 0) {
				rss = rss sep "-"; rls = rls sep "-"
				continue
			}
			r++
			a[r] = sm[k] / sm[i]; b[r] = lm[k] / lm[i]
			rss = rss sep sprintf("%.2f", a[r])
			rls = rls sep sprintf("%.2f", b[r])
		}
		if (!n) continue
		printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", loads[l], sets[s],
			ms, rss, r ? sprintf("%.2f%s", mean(a, r), ci(a, r)) : "-",
			rls, r ? sprintf("%.2f%s", mean(b, r), ci(b, r)) : "-", es > md
		if (r) printf "%s,%s,%d,%.3f,%.3f,%.3f,%.3f,%s,%s\n", sets[s], loads[l], r,
			mean(a, r), hw(a, r), mean(b, r), hw(b, r),
			ne2 ? sprintf("%.3f", mean(m, ne2)) : "", ne2 ? sprintf("%.3f", hw(m, ne2)) : "" > fig
	}
}'

command -v gnuplot >/dev/null || exit 0
. "$(dirname "$0")/labels.sh"
# one data file per setting, in load order
sets=$(tail -n +2 "$out.fig.csv" | cut -d, -f1 | awk '!seen[$0]++')
ps="" pl="" pe="" i=0
for s in $sets; do
	i=$((i + 1))	# one line type per setting in all three panels
	awk -F, -v s="$s" '$1 == s' "$out.fig.csv" | sort -t, -k2,2n >"$out.$s.dat"
	t=$(label "$s")
	[ "$s" = pfifo ] ||
		ps="$ps${ps:+, }\"$out.$s.dat\" using 2:4:5 with yerrorlines lt $i title \"$t\""
	pl="$pl${pl:+, }\"$out.$s.dat\" using 2:6:7 with yerrorlines lt $i title \"$t\""
	[ "$s" = ideal ] ||
		pe="$pe${pe:+, }\"$out.$s.dat\" using 2:8:9 with yerrorlines lt $i title \"$t\""
done
gnuplot <<EOT
set terminal pngcairo size 1500,520 noenhanced
set output "$out.png"
set datafile separator ","
set multiplot layout 1,3 title "leaf-spine, qvisor on every hop: pFabric (bytes) next to EDF (us); mean over seeds, bars 95% CI (clipped)"
set grid
set xlabel "load of tenant 1"
set key top left font ",9"
set title "small flows: mean FCT / ideal (pfifo $(awk -F, '$1 == "pfifo" { if (!n++ || $4 < lo) lo = $4; if ($4 > hi) hi = $4 } END { if (n) printf "%.0f-%.0fx, off scale", lo, hi; else printf "not run" }' "$out.fig.csv"))"
set yrange [0.5:3]
plot $ps
set title "large flows: mean FCT / ideal"
set yrange [0.5:2.5]
plot $pl
set title "EDF tenant: deadlines met (of sent)"
set yrange [0:1]
plot $pe
unset multiplot
EOT
for s in $sets; do rm -f "$out.$s.dat"; done
