# SPDX-License-Identifier: GPL-2.0-only
# The share harness of shares.sh and nshares.sh, sourced after lib.sh with
# NS (the peer netns) and SHARES_TEST (the name a skip reports) set:
# a veth pair with iperf3 servers, setup POLICY WEIGHTS..., run SECONDS
# KIND TENANTS..., expect_shares NAME SHARES... and their helpers.

DST=10.0.1.2
# UDP costs a syscall and a qdisc pass per datagram, so under emulation the
# UDP cases shape to a rate the senders can exceed; TCP (GSO) goes faster.
UDP_MBIT=${QVISOR_SHARES_UDP_RATE:-4}
TCP_MBIT=${QVISOR_SHARES_TCP_RATE:-40}
RATE_MBIT=$UDP_MBIT
WARM=2
WIN=${QVISOR_SHARES_WINDOW:-4}
TOL_PP=2

qvisor_loaded || { tap_skip "$SHARES_TEST" "sch_qvisor not loaded"; tap_done; }
tap_check "veth pair across a netns" \
	veth_pair $NS veth0 veth1 10.0.1.1 $DST || tap_done
for p in 5201 5202 5203 5204; do
	$IP netns exec $NS iperf3 -s -D -p $p >/dev/null 2>&1
done
on_exit "killall -q iperf3"
# the servers listen before the first case starts its clients (a client
# refused by a server not up yet left the first case without its tenant)
wait_listen $NS 5201 5202 5203 5204

# setup POLICY WEIGHT...: qvisor with one class per weight (1:1, 1:2, ...),
# tenant N classified by destination port 5200+N
setup() {
	local pol=$1 i=1 w
	shift
	$TC qdisc del dev veth0 root >/dev/null 2>&1
	$TC qdisc add dev veth0 root handle 1: qvisor rate ${RATE_MBIT}mbit \
		limit 2000 noaqm policy "$pol" || return 1
	for w in "$@"; do
		$TC class add dev veth0 parent 1: classid 1:$i qvisor \
			rank fifo weight "$w" || return 1
		$TC filter add dev veth0 parent 1: protocol ip prio $i u32 \
			match ip dport $((5200 + i)) 0xffff classid 1:$i ||
			return 1
		i=$((i + 1))
	done
}

# sample ARRAY: bytes sent by classes 1:1..1:4 into ARRAY[1..4]; prints
# the time of the sample (usec, the middle of the tc call)
sample() {
	local -n arr=$1
	local t0=${EPOCHREALTIME/./} out t1 c
	out=$($TC -s class show dev veth0)
	t1=${EPOCHREALTIME/./}
	for c in 1 2 3 4; do
		arr[$c]=$(awk -v c="1:$c" '
			$1 == "class" && $3 == c { f = 1; next }
			f && /Sent/ { print $2; exit }' <<<"$out")
	done
	echo $(((t0 + t1) / 2))
}

# client SECS MODE T: iperf3 client of tenant T (port 5200+T), output in
# /tmp/iperf-T.txt (iperf_client: retried while the server is busy)
client() {
	local t=$3 opt=

	[ "$2" = udp ] && opt="-u -l 1400 -b $((RATE_MBIT * 3 / 2))M"
	# shellcheck disable=SC2086 # opt is a list of words
	iperf_client /tmp/iperf-$t.txt -c $DST -p $((5200 + t)) $opt -t "$1"
}

# run SECS MODE TENANT...: iperf3 clients (MODE udp: 1.5x the link each,
# tcp: saturating) for SECS; samples byte counters after WARM and after
# WARM+WIN into B0[] and B1[], at times T0 and T1 (usec).  MID_CMD, if set,
# runs at WARM.
declare -A B0 B1
T0=0 T1=0
run() {
	local secs=$1 mode=$2 t
	shift 2
	for t in "$@"; do
		rm -f /tmp/iperf-$t.txt
		client "$secs" "$mode" "$t" &
	done
	# all start together: a tenant strictly below a busy one could not
	# even open its control connection once that one floods
	sleep $WARM
	[ -n "$MID_CMD" ] && eval "$MID_CMD" && sleep 1
	sample B0 >/tmp/t0
	sleep "$WIN"
	sample B1 >/tmp/t1
	T0=$(cat /tmp/t0) T1=$(cat /tmp/t1)
	wait
}

# share T: percent of the window's bytes that tenant T sent
share() {
	local t total=0
	for t in 1 2 3 4; do
		total=$((total + ${B1[$t]:-0} - ${B0[$t]:-0}))
	done
	awk -v a=$((${B1[$1]:-0} - ${B0[$1]:-0})) -v s=$total \
		'BEGIN { printf "%.2f", s ? 100 * a / s : 0 }'
}

# mbit T: tenant T's rate over the window (the window's length as measured:
# a loaded emulator may oversleep)
mbit() {
	awk -v a=$((${B1[$1]:-0} - ${B0[$1]:-0})) -v us=$((T1 - T0)) \
		'BEGIN { printf "%.2f", us ? a * 8 / us : 0 }'
}

# expect_shares NAME TARGET...: each tenant's share within TOL_PP
expect_shares() {
	local name=$1 t=1 got msg="" ok=1 target
	shift
	for target in "$@"; do
		got=$(share $t)
		msg="$msg tenant $t: $got% (target $target%, $(mbit $t) Mbit/s);"
		awk -v g="$got" -v w="$target" -v d=$TOL_PP \
			'BEGIN { exit !(g - w <= d && w - g <= d) }' || ok=0
		t=$((t + 1))
	done
	echo "# table: $name:$msg"
	if [ $ok = 1 ]; then
		tap_ok "$name within $TOL_PP pp"
	else
		tap_fail "$name within $TOL_PP pp" "$msg" \
			"$($TC -s class show dev veth0)" \
			"$(tail -n 3 /tmp/iperf-[1-4].txt 2>/dev/null)"
	fi
}

MID_CMD=
