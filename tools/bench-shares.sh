#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Share accuracy report: reads the console log of a VM run of
# selftests/vm/shares.sh, taps.sh and lee.sh and writes, into OUTDIR,
#   accuracy.md  target vs measured share per case, the error in percentage
#                points, and Lee et al.'s testbed figures for comparison;
#                Lee et al.'s experiments measured at the receiver with
#                the inter-packet delay (lee.sh's "# lee:" lines)
#   taps.csv     per-interval throughput of the two tap VMs (50:50 -> 60:40)
#   taps.png     the same as a plot (gnuplot)
# and prints accuracy.md.  Used by `make bench-shares`.
#
#   tools/bench-shares.sh LOG OUTDIR
set -eu
LOG=$1
OUT=$2
mkdir -p "$OUT"
KVER=$(sed -n 's/^# qvisor-kernel: \([^ ]*\).*/\1/p' "$LOG" | head -n 1)

# Lee et al.'s figures we have, "CASE=FIGURE;...": their 60:40 results as
# cited in the design (with their distance from the target), their UDP
# 50:50 as quoted in issue #22; both tables look a case up here
LEE="UDP 50:50=46.90:46.95;UDP 60:40=59.1:40.9 (0.9 pp);TCP 60:40=61.1:38.9 (1.1 pp)"
# awk: lee(NAME) gives the figure of case NAME, or "not in our sources"
LEE_AWK='function lee(name,   n, i, kv, f) {
	n = split(LEE, f, ";")
	for (i = 1; i <= n; i++) {
		split(f[i], kv, "=")
		if (kv[1] == name) return kv[2]
	}
	return "not in our sources"
}'

# lee_table: lee.sh's "# lee: NAME | TARGET | MEASURED | ERROR | GAPS |
# MBIT" lines as a table, with Lee et al.'s figure where we have one
lee_table() {
	grep -q '^# lee: ' "$LOG" || return 0
	echo
	echo "## Lee et al.'s experiments, measured at the receiver (lee.sh)"
	echo
	echo "| case | target | at the receiver | error (pp) | inter-packet delay mean/sd, us | link used | Lee et al. |"
	echo "| --- | --- | --- | --- | --- | --- | --- |"
	sed -n 's/^# lee: //p' "$LOG" | awk -F' [|] ' -v LEE="$LEE" "$LEE_AWK"'
	{
		fig = $1 ~ /alone/ ? "-" : lee($1)
		gaps = $5; gsub(/ /, ", ", gaps)
		if (gaps ~ /^-(, -)*$/) gaps = "-"
		printf "| %s | %s | %s | %s | %s | %s Mbit/s | %s |\n", $1, $2, $3, $4, gaps, $6, fig
	}'
	echo
	echo "Shares: bytes per tenant counted on the receiver's ingress (u32"
	echo "filters with a gact action per tenant in the peer namespace) over"
	echo "a 4 s window after 2 s of warm-up; the dynamic cases measure 50:50,"
	echo "change the weights to 60:40 and measure again from 1 s later."
	echo "Offered loads are unequal so that a FIFO fails every row (UDP: tenant"
	echo "1 at 1.2x the link, the others 2x; TCP: 1 connection with a 64 KB"
	echo "window against 3 connections; ICMP: 2 ping floods against 4). The"
	echo "last five rows go beyond Lee et al.: qvisor's queue full (limit 30"
	echo "packets), the same under htb and under tbf (the parent shapes,"
	echo "qvisor has no rate), and IPv6 (UDP, TCP). Inter-packet delay: the gaps"
	echo "between a tenant's consecutive packets at the receiver by kernel"
	echo "receive timestamps, mean and standard deviation per tenant: for UDP"
	echo "the datagrams at the receiving socket (qvrecv -w), for TCP and ICMP"
	echo "the data segments and echo requests (1000 bytes or more) on the"
	echo "receiver's interface (a tcpdump capture of the window). TCP runs at 30"
	echo "Mbit/s: at 40, tenant 1's one 64 KB window fell short of 60 % in the"
	echo "dynamic case in four full runs of six on 6.12 (56.9-58.6 %, with the link"
	echo "not full: the emulated machine's round trip, not the schedule). The TCP"
	echo "dynamic case runs without a capture: at 40 Mbit/s a capture in its first"
	echo "window cost tenant 1 its 60 % after the change in two runs of two (57.5,"
	echo "58.2 %; 59.99 and 60.00 without)."
	echo "Lee et al.: their 60:40 figures as cited in the design, their UDP"
	echo "50:50 as quoted in issue #22; their other rows and their"
	echo "inter-packet delays are not in the sources we have."
	echo
	echo "The lone tenant is the reference for the gaps: its mean is one"
	echo "datagram's time at the rate, its standard deviation the pacing jitter"
	echo "of the emulated machine alone (the qdisc watchdog's hrtimer under"
	echo "TCG). Two tenants sharing add up to about one datagram time of"
	echo "deviation: credits are counted in bytes per round, so a tenant sends"
	echo "one or two datagrams in a round (quantum 1550 bytes at 50:50 against"
	echo "1442-byte datagrams), and a late timer releases several datagrams"
	echo "back to back. For comparison, one tbf FIFO at the same rate with 200 KB"
	echo "of buffer in qvisor's place (\`QVISOR_LEE_FIFO=1\`, 6.12, 2026-12-07)"
	echo "failed every share row in each of five runs (twelve rows in the first"
	echo "three, fourteen in the fourth, fifteen in the fifth, with TCP at 30"
	echo "Mbit/s and over IPv6): tenant 1 got 28-36 % in the UDP two-tenant rows"
	echo "(16-49 % over IPv6), 3.5-35 % or 85 % in the TCP rows (85 % where the"
	echo "other tenant's connections backed off: TCP in a FIFO is not"
	echo "reproducible here), ICMP 33 %, and 50:30:20 came out as"
	echo "19-23:22-57:21-55. Its tail drops space the lighter tenant's datagrams"
	echo "far less evenly (sd 6200-11700 us at means of 7900-9500 us) than qvisor"
	echo "does. TCP segments and ping requests arrive in trains behind either: TCP"
	echo "sd 4900-6800 us at means of 670-1010 us (one segment time at the"
	echo "tenant's share) behind qvisor, 5500-10000 us behind the FIFO (its fifth"
	echo "run); ICMP sd 8100-13000 us at means of 9600 and 14500 us behind qvisor,"
	echo "6500-15500 us behind the FIFO. A tbf FIFO has no credit rounds, so the"
	echo "trains are not qvisor's rounds; where they come from (TCP's and ping's"
	echo "own bursts, late timers of the emulated machine) was not measured."
	echo "Without loss (a 3 MB FIFO) the UDP gaps were more"
	echo "even than qvisor's (sd 1560-1740 us at means of 4612 and 7694 us,"
	echo "against qvisor's 2200-3100 us): qvisor's credit rounds trade some"
	echo "regularity for the share."
	echo
	echo "How this differs from Lee et al.'s setup: their tenants were VMs"
	echo "whose traffic a leaky-bucket controller in the host paced by credits"
	echo "per time slot; here each tenant is a sender in the test VM's own"
	echo "namespace (real nested guests on taps are in Documentation/vm-hosts.md"
	echo "and the taps rows above), the link is a veth shaped by qvisor's own"
	echo "rate (4 Mbit/s UDP, 30 Mbit/s TCP, 2 Mbit/s ICMP, sized to what the"
	echo "emulated machine sustains), the shares come from qvisor's credit"
	echo "rounds, not time slots, and everything runs under QEMU's software"
	echo "emulation on one 2-core machine."
}

# "# table: NAME: tenant 1: 59.97% (target 60%, ...); tenant 2: ..." lines
{
	echo "# qvisor share accuracy ($KVER, QEMU/TCG, $(date -u +%Y-%m-%d))"
	echo
	echo "| case | target | measured | error (pp) | Lee et al. |"
	echo "| --- | --- | --- | --- | --- |"
	sed -n 's/^# table: //p' "$LOG" | awk -v LEE="$LEE" "$LEE_AWK"'
	/tenant 1: [0-9.]+% \(target/ {
		name = $0; sub(/: tenant .*/, "", name)
		tgt = ""; got = ""; err = 0; rest = $0
		while (match(rest, /tenant [0-9]+: [0-9.]+% \(target [0-9]+%/)) {
			m = substr(rest, RSTART, RLENGTH)
			rest = substr(rest, RSTART + RLENGTH)
			split(m, f, /[ :%()]+/)
			g = f[3] + 0; t = f[5] + 0
			got = got (got == "" ? "" : ":") sprintf("%.2f", g)
			tgt = tgt (tgt == "" ? "" : ":") t
			e = g - t; if (e < 0) e = -e; if (e > err) err = e
		}
		printf "| %s | %s | %s | %.2f | %s |\n", name, tgt, got, err, lee(name)
	}
	/^taps / {
		name = $0; sub(/: tenant .*/, "", name)
		match($0, /tenant 1 [0-9.]+%/); g = substr($0, RSTART + 9, RLENGTH - 10) + 0
		match($0, /target [0-9]+%/); t = substr($0, RSTART + 7, RLENGTH - 8) + 0
		e = g - t; if (e < 0) e = -e
		printf "| %s (VMs on taps) | %d:%d | %.2f:%.2f | %.2f | - |\n", name, t, 100 - t, g, 100 - g, e
	}
	/^ceil / { printf "| %s | | | | - |\n", $0 }'
	echo
	echo "Error: the largest distance of any tenant's share from its target,"
	echo "over a 4 s window (shares.sh) or a 5 s phase (taps.sh). This table"
	echo "counts at the sender, from qvisor's own per-class byte counters; the"
	echo "next one (lee.sh) counts at the receiver, as Lee et al. did."
	echo "Lee et al.: their testbed's 60:40 results as cited in the design and"
	echo "their UDP 50:50 as quoted in issue #22 (the ceil and taps rows have"
	echo "no counterpart in their paper as far as our sources go)."
	echo "Command: \`make bench-shares\`."
	echo
	echo "The two tap VMs over time (\`out/bench/taps.png\` from the same run;"
	echo "Documentation/accuracy-taps.png):"
	echo
	echo "![VM shares on taps, 50:50 then 60:40](accuracy-taps.png)"
	lee_table
} >"$OUT/accuracy.md"

# per-interval Mbit/s of the two tap VMs
sed -n 's/^# csv: //p' "$LOG" | awk -F, '
	NR == 1 { print "t_s,vm1_mbit,vm2_mbit,phase"; next }
	{
		if (n++) {
			dt = ($1 - t) / 1000
			printf "%.2f,%.3f,%.3f,%s\n", ($1 - t0) / 1000, \
				($2 - a) * 8 / dt / 1e6, ($3 - b) * 8 / dt / 1e6, $4
		} else {
			t0 = $1
		}
		t = $1; a = $2; b = $3
	}' >"$OUT/taps.csv"

if command -v gnuplot >/dev/null && [ "$(wc -l <"$OUT/taps.csv")" -gt 2 ]; then
	gnuplot <<EOF
set terminal pngcairo size 800,450 noenhanced
set output "$OUT/taps.png"
set datafile separator ","
set title "Two VMs on taps, qvisor rate 4mbit, weights 50:50 then 60:40 ($KVER)"
set xlabel "time (s)"
set ylabel "throughput (Mbit/s)"
set key top right
set grid
set yrange [0:4]
plot "$OUT/taps.csv" using 1:2 every ::1 with linespoints title "VM 1 (weight 50, then 60)", \
     "$OUT/taps.csv" using 1:3 every ::1 with linespoints title "VM 2 (weight 50, then 40)"
EOF
fi
cat "$OUT/accuracy.md"
[ -f "$OUT/taps.png" ] && echo && echo "plot: $OUT/taps.png, data: $OUT/taps.csv"
exit 0
