#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# qvfct: the flow-completion-time experiment of qvisor, one cell at a time.
# Installed as out/tools/qvfct (so it is on the test VM's PATH); run as
# root where sch_qvisor, qvflows, qvsend and qvrecv are available.
#
#   qvfct SETTING LOAD [SETTING LOAD ...]
#
# Topology: the senders live in the current network namespace, the
# receivers behind a veth pair in namespace fct-rx; the qdisc under test
# is the root of veth0 on the senders' side, shaped to FCT_MBIT (ranks set
# with SO_PRIORITY are seen there; skb->mark would be cleared only when
# crossing into fct-rx).
#   tenant 1 (class 1:1, TCP): qvflows, flow sizes from FCT_CDF (web
#            search or data mining) scaled by FCT_SCALE and cut at
#            FCT_CAP, Poisson arrivals at LOAD x FCT_MBIT; ranked
#            pFabric-style by the sender (remaining bytes in SO_PRIORITY,
#            "rank prio"), or with FCT_T1=las by the qdisc ("rank las")
#   tenant 2 (class 1:2, UDP): qvsend, constant bit rate FCT_CBR x FCT_MBIT
#            in 1400-byte datagrams, ranked with FCT_T2_RANK (default
#            "edf 10ms": deadline = arrival + 10 ms, rank in us relative
#            to the start of the tenant's busy period; "fifo" = rank 0)
# SETTING is one of
#   pfifo     qvisor backend fifo: one FIFO, ranks ignored (the shaper is
#             the same as in the other settings)
#   pifo      one PIFO on both tenants' raw ranks: identical range and
#             levels for both tenants and policy "1 > 2" with overlap 100,
#             which puts both at joint offset 0 with the same quantization
#             (identity transforms up to the common quantization)
#   strict12  qvisor "1 >> 2"
#   strict21  qvisor "2 >> 1"
#   share     qvisor "1 + 2" (weights 1:1)
#   ideal     tenant 1 alone (no UDP), on the strict12 qdisc
#   sppifo8   qvisor "1 >> 2" on "backend sppifo 8" (8 strict-priority
#             FIFOs with SP-PIFO's adaptive bounds, split between the tiers)
#   aifo      qvisor "1 >> 2" on "backend aifo" (one FIFO, rank-quantile
#             admission)
# and NAME-las for any of them: tenant 1 ranked by the qdisc ("rank las",
# bytes its flow already sent) instead of by the sender.  A suffix @N
# (strict12@2) runs the cell with seed N instead of FCT_SEED.
# For each cell it prints the per-flow CSV lines of qvflows prefixed with
# "# fct-flow: " and one line
#   # fct-summary: SETTING LOAD flows N done D small N MEAN P99 large N MEAN P99 udp MBIT
# (FCT in ms; small: < 100 KB; udp: Mbit/s that tenant 2's class sent
# while the flows ran, "-" under pfifo, which has no classes).
#
# Environment (defaults): FCT_MBIT (10) FCT_SECS (20) FCT_DRAIN (10)
# FCT_CBR (0.3) FCT_SEED (1) FCT_LIMIT (1000 packets) FCT_LEVELS (4096)
# FCT_MAXFLOWS (64) FCT_T1 (pfabric | las) FCT_T2_RANK (edf 10ms)
# FCT_CDF (datamining; websearch, or a file in the format of
# tools/fct/datamining.cdf); FCT_SCALE and FCT_CAP (bytes, 0 = none)
# default to 1 and 3650000 for datamining (sizes as published, the 5% of
# flows above 3.65 MB cut to it: mean 291 KB), to 0.125 and 0 for
# websearch (mean 208 KB, largest 3.65 MB), to 1 and 0 for a file.
# Before the cells it prints the sizes' distribution as
#   # fct-sizes: CDF x SCALE, cut at CAP B: mean M B, F% below 100 KB, largest X B
set -u
TC=${TC:-/usr/sbin/tc}
IP=${IP:-/usr/sbin/ip}
MBIT=${FCT_MBIT:-10}
SECS=${FCT_SECS:-20}
DRAIN=${FCT_DRAIN:-10}
CBR=${FCT_CBR:-0.3}
CDF=${FCT_CDF:-datamining}
case $CDF in
websearch) SCALE=${FCT_SCALE:-0.125} CAP=${FCT_CAP:-0} ;;
datamining) SCALE=${FCT_SCALE:-1} CAP=${FCT_CAP:-3650000} ;;
*) SCALE=${FCT_SCALE:-1} CAP=${FCT_CAP:-0} ;;
esac
SIZES=(-f "$CDF" -x "$SCALE" -X "$CAP")
SEED=${FCT_SEED:-1}
LIMIT=${FCT_LIMIT:-1000}
LEVELS=${FCT_LEVELS:-4096}
MAXFLOWS=${FCT_MAXFLOWS:-64}
T1=${FCT_T1:-pfabric}
T2_RANK=${FCT_T2_RANK:-edf 10ms}
NS=fct-rx
DEV=veth0
SRC=10.77.0.1
DST=10.77.0.2
TCP_PORT=7000
UDP_PORT=6000
UDP_LEN=1400
TMP=${TMPDIR:-/tmp}/qvfct.$$

usage() {
	echo "usage: qvfct {pfifo|pifo|strict12|strict21|share|ideal|sppifo8|aifo}[-las] LOAD ..." >&2
	exit 2
}

[ $# -ge 2 ] && [ $(($# % 2)) -eq 0 ] || usage
for cmd in qvflows qvsend; do
	command -v $cmd >/dev/null || { echo "qvfct: $cmd not found" >&2; exit 1; }
done

# "mean M small F max X" of the sizes; the largest bounds tenant 1's ranks
INFO=$(qvflows -i "${SIZES[@]}") || { echo "qvfct: qvflows -i failed" >&2; exit 1; }
MAXR=$(echo "$INFO" | awk '{ printf "%d", $6 }')
[ -n "$MAXR" ] && [ "$MAXR" -gt 0 ] || { echo "qvfct: qvflows -i: $INFO" >&2; exit 1; }
echo "$INFO" | awk -v c="$CDF" -v x="$SCALE" -v X="$CAP" '{
	printf "# fct-sizes: %s x %s, %s: mean %d B, %.1f%% below 100 KB, largest %d B\n",
		c, x, (X > 0 ? "cut at " X " B" : "not cut"), $2, 100 * $4, $6 }'

SERVER= SEND=
cleanup() {
	local p
	for p in $SERVER $SEND; do
		kill "$p" 2>/dev/null
	done
	$IP link del $DEV 2>/dev/null
	$IP netns del $NS 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

setup() {
	local mac
	mkdir -p "$TMP"
	$IP netns add $NS || return 1
	$IP link add $DEV type veth peer name veth1 netns $NS || return 1
	$IP addr add $SRC/24 dev $DEV && $IP link set $DEV up || return 1
	$IP -n $NS addr add $DST/24 dev veth1 && $IP -n $NS link set veth1 up &&
		$IP -n $NS link set lo up || return 1
	# no ARP or IPv6 chatter through the shaper
	mac=$($IP -n $NS link show veth1 | awk '/link\/ether/ { print $2 }')
	$IP neigh replace $DST lladdr "$mac" dev $DEV nud permanent
	mac=$($IP link show $DEV | awk '/link\/ether/ { print $2 }')
	$IP -n $NS neigh replace $SRC lladdr "$mac" dev veth1 nud permanent
	echo 1 >/proc/sys/net/ipv6/conf/$DEV/disable_ipv6 2>/dev/null
	# A veth hands each packet to the backlog of the CPU that sent it,
	# and the qdisc dequeues on whichever CPU its timer or a sender ran:
	# two packets of one flow 1 ms apart can then be received out of
	# order (under TCG a vCPU's softirq often waits that long), which
	# TCP takes for loss.  Steer the receive side to one CPU (RPS), as
	# one NIC queue would deliver them.
	$IP netns exec $NS sh -c 'echo 1 >/sys/class/net/veth1/queues/rx-0/rps_cpus' \
		2>/dev/null || echo "qvfct: no RPS, receive order may vary" >&2
	# every flow starts from scratch: no ssthresh cached from earlier flows
	sysctl -qw net.ipv4.tcp_no_metrics_save=1 2>/dev/null ||
		echo 1 >/proc/sys/net/ipv4/tcp_no_metrics_save
	# background helpers never hold our stdout (a caller's pipe)
	$IP netns exec $NS qvflows -s -p $TCP_PORT -r "$TMP/ready" \
		</dev/null >/dev/null 2>&1 &
	SERVER=$!
	local n=50
	while [ ! -e "$TMP/ready" ] && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
	[ -e "$TMP/ready" ]
}

tenant1_rank() {
	case $1 in
	pfabric) echo "rank prio range 0 $MAXR levels $LEVELS" ;;
	las) echo "rank las range 0 $MAXR levels $LEVELS" ;;
	*) echo "qvfct: FCT_T1 must be pfabric or las" >&2; return 1 ;;
	esac
}

# qdisc SETTING T1: a fresh root qdisc on $DEV
qdisc() {
	local pol extra="" r1
	$TC qdisc del dev $DEV root 2>/dev/null
	if [ "$1" = pfifo ]; then
		$TC qdisc add dev $DEV root handle 1: qvisor rate ${MBIT}mbit \
			limit $LIMIT noaqm backend fifo
		return
	fi
	case $1 in
	pifo) pol="1 > 2" extra="overlap 100" ;;
	strict12 | ideal) pol="1 >> 2" ;;
	strict21) pol="2 >> 1" ;;
	sppifo8) pol="1 >> 2" extra="backend sppifo 8" ;;
	aifo) pol="1 >> 2" extra="backend aifo" ;;
	share) pol="1 + 2" ;;
	*) usage ;;
	esac
	r1=$(tenant1_rank "$2") || return 1
	$TC qdisc add dev $DEV root handle 1: qvisor rate ${MBIT}mbit \
		limit $LIMIT noaqm buckets 16384 policy "$pol" $extra &&
	$TC class add dev $DEV parent 1: classid 1:1 qvisor $r1 &&
	$TC class add dev $DEV parent 1: classid 1:2 qvisor rank $T2_RANK \
		range 0 $MAXR levels $LEVELS &&
	$TC filter add dev $DEV parent 1: protocol ip prio 1 u32 \
		match ip protocol 6 0xff classid 1:1 &&
	$TC filter add dev $DEV parent 1: protocol ip prio 2 u32 \
		match ip protocol 17 0xff classid 1:2
}

# losses outside the qdisc: backlog drops (all CPUs) and TCP's view
# (retransmitted segments, timeouts) of the senders' namespace
net_counters() {
	local d=0 cpu hex rest
	while read -r cpu hex rest; do
		d=$((d + 16#$hex))
	done </proc/net/softnet_stat
	awk -v d="$d" '
		$1 == "Tcp:" && !h { for (i = 2; i <= NF; i++) ix[$i] = i; h = 1; next }
		$1 == "Tcp:" { r = $(ix["RetransSegs"]) }
		$1 == "TcpExt:" && !g { for (i = 2; i <= NF; i++) jx[$i] = i; g = 1; next }
		$1 == "TcpExt:" { t = $(jx["TCPTimeouts"]); q = $(jx["TCPSpuriousRtxHostQueues"])
			s = $(jx["TCPSynRetrans"]) }
		END { print "softnet_drops", d, "tcp_retrans", r + 0, "tcp_timeouts", t + 0,
			"syn_retrans", s + 0, "rto_while_queued", q + 0 }' \
		/proc/net/snmp /proc/net/netstat
}

# the receivers' view: drops and window trouble in namespace fct-rx
rx_counters() {
	$IP netns exec $NS cat /proc/net/netstat | awk '
		$1 == "TcpExt:" && !g { for (i = 2; i <= NF; i++) jx[$i] = i; g = 1; next }
		$1 == "TcpExt:" { for (k in jx) v[k] = $(jx[k]) }
		END { n = split("PruneCalled TCPRcvQDrop TCPOFODrop TCPZeroWindowDrop TCPToZeroWindowAdv TCPBacklogDrop ListenDrops ListenOverflows TCPOFOQueue", w, " ")
			for (i = 1; i <= n; i++) printf "%s %d ", w[i], v[w[i]]; print "" }'
}

# cpu_ticks: "busy total" jiffies of all CPUs so far (from /proc/stat)
cpu_ticks() {
	awk '$1 == "cpu" { t = 0; for (i = 2; i <= NF; i++) t += $i
		print t - $5 - $6, t; exit }' /proc/stat
}

# class_bytes CLASSID: bytes sent by that class of the root qdisc so far
class_bytes() {
	$TC -s class show dev $DEV | awk -v c="$1" '
		$1 == "class" { me = ($3 == c) }
		me && /Sent/ { b = $2 }
		END { print b + 0 }'
}

# cell SETTING LOAD
cell() {
	local set=$1 load=$2 kind=prio pps udp=0 sum t1=$T1 base=${1%@*} seed=$SEED
	case $set in *@*) seed=${set##*@} ;; esac
	case $base in *-las) t1=las base=${base%-las} ;; esac
	qdisc "$base" $t1 || { echo "qvfct: cannot configure $set" >&2; return 1; }
	[ "$t1" = las ] && kind=none
	$IP tcp_metrics flush all 2>/dev/null
	if [ "$base" != ideal ]; then
		# nobody reads the datagrams (the receiver drops them at no
		# cost); what tenant 2 got is read from its class counters
		pps=$(awk -v c="$CBR" -v m="$MBIT" -v l=$UDP_LEN \
			'BEGIN { printf "%.1f", c * m * 1e6 / 8 / (l + 42) }')
		qvsend -d $DST -l $UDP_LEN -t $((SECS + DRAIN + 2)) -r "$pps" \
			$UDP_PORT:none </dev/null >/dev/null 2>&1 &
		SEND=$!
		sleep 0.5
	fi
	local b0 b1 us0 us1 n0 r0 c0 c1
	n0=$(net_counters) r0=$(rx_counters) c0=$(cpu_ticks)
	b0=$(class_bytes 1:2) us0=${EPOCHREALTIME/./}
	qvflows -c $DST -p $TCP_PORT "${SIZES[@]}" -R "$MBIT" -L "$load" \
		-t "$SECS" -W "$DRAIN" -k $kind -C "$MAXFLOWS" -S "$seed" \
		-T "$set,$load" -o "$TMP/flows.csv" 2>"$TMP/summary"
	b1=$(class_bytes 1:2) us1=${EPOCHREALTIME/./} c1=$(cpu_ticks)
	if [ -n "$SEND" ]; then
		kill "$SEND" 2>/dev/null
		wait "$SEND" 2>/dev/null
		SEND=
	fi
	udp=-
	[ "$base" != pfifo ] && udp=$(awk -v b=$((b1 - b0)) -v us=$((us1 - us0)) \
		'BEGIN { printf "%.2f", us ? b * 8 / us : 0 }')
	sed -n '2,$s/^/# fct-flow: /p' "$TMP/flows.csv"
	grep -v '^summary' "$TMP/summary" | head -n 5 | sed 's/^/# qvflows: /'
	sum=$(sed -n 's/^summary [^ ]* //p' "$TMP/summary")
	[ -n "$sum" ] || { echo "qvfct: no summary from qvflows" >&2; return 1; }
	echo "# fct-summary: $set $load $sum udp $udp"
	echo "# fct-net: before: $n0; after: $(net_counters)"
	echo "# fct-rx: before: $r0; after: $(rx_counters)"
	# how busy the machine was: under emulation a CPU-bound guest
	# delays every flow, whatever the scheduler
	echo "# fct-cpu: $c0 $c1" | awk '{ printf "# fct-cpu: busy %.0f%% of %d CPUs\n",
		($6 > $4 ? 100 * ($5 - $3) / ($6 - $4) : 0), n }' n="$(nproc)"
	$TC -s qdisc show dev $DEV | sed 's/^/# fct-qdisc: /'
	$TC -s class show dev $DEV | sed 's/^/# fct-class: /'
}

setup || { echo "qvfct: setup failed" >&2; exit 1; }
rc=0
while [ $# -ge 2 ]; do
	cell "$1" "$2" || rc=1
	shift 2
done
exit $rc
