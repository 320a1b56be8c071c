#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Markdown tables from the console log of tools/bench/pktgen-bench.sh:
# per configuration and frame size the median pps over the rounds, the
# spread (lowest and highest round, in % of the median) and the ratio to
# pfifo (median of the per-round ratios: each round measures pfifo and the
# configuration within the same minute of the same boot).
#
#   tools/bench/pktgen-report.sh CONSOLE.LOG
set -eu
LOG=${1:?usage: $0 CONSOLE.LOG}

grep -a -q '^# pktgen: [^ ]* [0-9]* [0-9]* [0-9]*$' "$LOG" || {
	echo "pktgen-report: no measurements in $LOG" >&2
	exit 1
}
grep -a -E '^(# pktgen( bench| deep)?: |# deep: |ok |not ok )' "$LOG" | awk '
function median(s,   n, a, i, j, t) {
	n = split(s, a, " ")
	for (i = 2; i <= n; i++)	# insertion sort, n is small
		for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	if (n % 2)
		return a[(n + 1) / 2]
	return (a[n / 2] + a[n / 2 + 1]) / 2
}
function lo(s,   n, a, i, m) {
	n = split(s, a, " "); m = a[1]
	for (i = 2; i <= n; i++) if (a[i] + 0 < m + 0) m = a[i]
	return m
}
function hi(s,   n, a, i, m) {
	n = split(s, a, " "); m = a[1]
	for (i = 2; i <= n; i++) if (a[i] + 0 > m + 0) m = a[i]
	return m
}
# ratio of c to base, per round, median
function rmed(c, base, sz,   r, s) {
	s = ""
	for (r = 1; r <= nround; r++)
		if ((c, sz, r) in pps && (base, sz, r) in pps && pps[base, sz, r] > 0)
			s = s " " pps[c, sz, r] / pps[base, sz, r]
	return s == "" ? "" : median(s)
}
# guest instructions per packet, when the clock counts them (icountN:
# 2^N ns per instruction)
function insns(c,   m) {
	if (shift < 0 || !((c, 60) in runs))
		return ""
	m = median(runs[c, 60])
	return sprintf(" %d |", 1e9 / (2 ^ shift) / m)
}
function cell(c, sz,   m) {
	if (!((c, sz) in runs))
		return "| – | – | – "
	m = median(runs[c, sz])
	return sprintf("| %d | −%.1f/+%.1f%% | %.2f ", m,
		       100 * (m - lo(runs[c, sz])) / m,
		       100 * (hi(runs[c, sz]) - m) / m, rmed(c, "pfifo", sz))
}
function row(c, label) {
	if (!((c, 60) in runs) && !(c in skip))
		return
	if (c in skip) {
		printf "| %s | skipped: %s | | | | | |%s\n", label, skip[c],
		       shift < 0 ? "" : " |"
		return
	}
	printf "| %s %s%s|%s\n", label, cell(c, 60), cell(c, 1514), insns(c)
}
function sweep(c, base, label,   s60, s1514) {
	if (!((c, 60) in runs))
		return
	s60 = rmed(c, base, 60); s1514 = rmed(c, base, 1514)
	printf "| %s | %d | %s | %d | %s |\n", label,
	       median(runs[c, 60]), s60 == "" ? "–" : sprintf("%.2f", s60),
	       median(runs[c, 1514]), s1514 == "" ? "–" : sprintf("%.2f", s1514)
}
BEGIN { shift = -1 }
/^# pktgen bench: / {
	sub(/^# pktgen bench: /, ""); kernel = $0
	if (match(kernel, /clock icount[0-9]+/))
		shift = substr(kernel, RSTART + 12, RLENGTH - 12) + 0
	next
}
/^# pktgen: [^ ]+ [0-9]+ [0-9]+ [0-9]+$/ {
	c = $3; sz = $4; r = $5
	pps[c, sz, r] = $6
	runs[c, sz] = runs[c, sz] " " $6
	if (r > nround) nround = r
	next
}
/^# pktgen deep: / { sub(/^# pktgen deep: /, ""); deepcfg = $0; next }
# deep rows: CONFIG ROUND OFFERED ACCEPTED SENT BACKLOG DROPS
/^# deep: [^ ]+ [0-9]+ [0-9]+ [0-9]+ [0-9]+ [0-9]+ [0-9]+$/ {
	c = $3; r = $4
	off[c, r] = $5
	for (i = 5; i <= 9; i++)
		dv[c, i] = dv[c, i] " " $i
	if (r > nround) nround = r
	next
}
/^ok .*# SKIP/ {
	split($0, a, " - pktgen "); split(a[2], b, " # SKIP ")
	skip[b[1]] = b[2]
}
END {
	ih = shift < 0 ? "" : " guest insns/pkt (64 B) |"
	id = shift < 0 ? "" : " --- |"
	print "Kernel " kernel "."
	print ""
	print "| qdisc | 64 B pps | spread | vs pfifo | 1500 B pps | spread | vs pfifo |" ih
	print "| --- | --- | --- | --- | --- | --- | --- |" id
	n = split("pfifo_fast pfifo prio skbprio fq fq_codel htb drr ets qvisor qvnoaqm", s1, " ")
	for (i = 1; i <= n; i++) {
		l = s1[i]
		if (l == "htb" || l == "drr" || l == "ets") l = l " (1 class)"
		if (l == "qvisor") l = "qvisor (1 tenant, aqm)"
		if (l == "qvnoaqm") l = "qvisor (1 tenant, noaqm)"
		row(s1[i], l)
	}
	print ""
	print "Several tenants, classified by one classic-BPF filter on the UDP source port:"
	print ""
	print "| qdisc | 64 B pps | spread | vs pfifo | 1500 B pps | spread | vs pfifo |" ih
	print "| --- | --- | --- | --- | --- | --- | --- |" id
	row("qv:1:4096", "qvisor 1 tenant, 4096 buckets")
	row("qv:64:4096", "qvisor 64 tenants, 4096 buckets")
	row("qv:1024:65536", "qvisor 1024 tenants, 65536 buckets")
	row("qvplus:8", "qvisor \"1 + ... + 8\", weights 1..8")
	row("qvsppifo:8", "qvisor backend sppifo 8, 8 tenants")
	row("htb:64", "htb, 64 classes")
	row("drr:64", "drr, 64 classes")
	row("htb:1024", "htb, 1024 classes")
	row("drr:1024", "drr, 1024 classes")
	print ""
	print "Scaling sweep (qvisor, strict tiers, BPF filter), pps and ratio to the smallest shape:"
	print ""
	print "| shape | 64 B pps | vs smallest | 1500 B pps | vs smallest |"
	print "| --- | --- | --- | --- | --- |"
	n = split("1 8 64 512 1024", t, " ")
	for (i = 1; i <= n; i++)
		sweep("qv:" t[i] ":65536", "qv:1:65536", t[i] " tenants x 65536 buckets")
	n = split("128 512 4096 32768 65536", b, " ")
	for (i = 1; i <= n; i++)
		sweep("qv:64:" b[i], "qv:64:128", "64 tenants x " b[i] " buckets")
	n = split("64 512 4096 32768 65536", b, " ")
	for (i = 1; i <= n; i++)
		sweep("qv:8:" b[i], "qv:8:64", "8 tenants x " b[i] " buckets")
	if (!(("deep:pfifo", 5) in dv))
		exit
	print ""
	print "Deep queue (" deepcfg ", 60 B), medians over the rounds:"
	print ""
	print "| qdisc | offered pps | accepted pps | dequeued pps | guest insns/offered pkt | vs deep:pfifo | backlog (pkts) | drops in the run |"
	print "| --- | --- | --- | --- | --- | --- | --- | --- |"
	n = split("deep:pfifo deep:skbprio deep:fq deep:htb_fq_codel deep:ets deep:drr deep:qvisor deep:qvplus", dc, " ")
	for (i = 1; i <= n; i++) {
		c = dc[i]
		if (!((c, 5) in dv)) {
			if (c in skip)
				printf "| %s | skipped: %s | | | | | | |\n", c, skip[c]
			continue
		}
		s = ""
		for (r = 1; r <= nround; r++)
			if ((c, r) in off && ("deep:pfifo", r) in off && off["deep:pfifo", r] > 0)
				s = s " " off[c, r] / off["deep:pfifo", r]
		m = median(dv[c, 5])
		printf "| %s | %d | %d | %d | %s | %s | %d | %d |\n", c, m,
		       median(dv[c, 6]), median(dv[c, 7]),
		       shift < 0 || m == 0 ? "–" : sprintf("%d", 1e9 / (2 ^ shift) / m),
		       s == "" ? "–" : sprintf("%.2f", median(s)),
		       median(dv[c, 8]), median(dv[c, 9])
	}
}'
fails=$(grep -a -c '^not ok .* - pktgen ' "$LOG" || true)
if [ "$fails" != 0 ]; then
	echo
	echo "Failed configurations:"
	grep -a -A3 '^not ok .* - pktgen ' "$LOG" | sed 's/^/    /'
fi
