#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Real guest VMs as tenants (make demo-vms; NOT part of make check).
#
# Runs inside the test VM (the "hypervisor host"): boots QVISOR_GUESTS
# (1..3, default 1) nested QEMU/TCG guests of the test VM's own Debian
# kernel with the busybox initramfs of tools/vm/mkguest.sh, each on a tap
# in a bridge.  The bridge's uplink is a veth (up0) to netns qv-sink, where
# one iperf3 server per guest listens (port 5200+N); qvisor is on up0 and
# classifies guest N into class 1:N by flower indev tapN.
#
#   1 guest : it boots; 2 s of iperf3 from it lands in class 1:1 and at the
#             receiver; boot time and throughput printed.
#   2 guests: each alone (link 1000mbit) gives the emulation's send rate;
#             then all guests send together (link 1000mbit still), which
#             gives each guest's rate while the others take their part of
#             the test VM's CPU; the link is set to 3/4 of the slowest of
#             those (QVISOR_GUESTS_FRAC, percent), with tail drop (noaqm)
#             and a limit of about 200 ms of the link (at least 8 packets),
#             so qvisor, not the emulation, is the bottleneck (checked: the
#             receivers together get >= 90% of the link); 60:40 by weight
#             (policy "1 + 2"), shares at the receivers; then 50:50 changed
#             to 60:40 at run time.
#   Shares are bytes received in one wall-clock window common to all
#   guests (ss bytes_received of each connection in the sink, sampled at
#   its start and end; QVISOR_GUESTS_WSECS seconds, after every guest is
#   sending): iperf3's per-server intervals stretch when the emulated
#   machine is busy and start at different times, so summing them gave
#   more than the link and skewed shares.
#   3 guests: also 50:30:20.
. "$(dirname "$0")/lib.sh"

N=${QVISOR_GUESTS:-1}
SECS=${QVISOR_GUESTS_SECS:-30}
WSECS=${QVISOR_GUESTS_WSECS:-16}
FRAC=${QVISOR_GUESTS_FRAC:-75}
# the together runs: their starts spread by the guests' 2 s retries, so
# the common window (CSECS - 8 s, from 1 s after all send) keeps 7 s of
# slack before the first run ends (12 s with 3 s slack lost guest 2 once)
CSECS=20
SINK=10.9.0.254
GDIR=/qvisor/guest
T_START=$(date +%s)
declare -A BOOT ALONE TOGETHER QPID GSECS SPID

qvisor_loaded || { tap_skip "guests" "sch_qvisor not loaded"; tap_done; }
[ -x /usr/bin/qemu-system-x86_64 ] && [ -f $GDIR/vmlinuz ] ||
	{ tap_skip "guests" "no qemu or guest kernel in this image"; tap_done; }

setup() {
	local i
	modprobe tun && modprobe bridge && modprobe veth || return 1
	# ss reads bytes_received through sock_diag (rx_sample)
	modprobe tcp_diag || return 1
	$IP netns add qv-sink || return 1
	on_exit "$IP netns del qv-sink"
	$IP link add br0 type bridge || return 1
	on_exit "$IP link del br0"
	$IP link add up0 type veth peer name up1 netns qv-sink || return 1
	$IP link set up0 master br0 && $IP link set up0 up || return 1
	$IP -n qv-sink addr add $SINK/24 dev up1 &&
		$IP -n qv-sink link set up1 up &&
		$IP -n qv-sink link set lo up || return 1
	for i in $(seq 1 "$N"); do
		$IP tuntap add tap$i mode tap || return 1
		$IP link set tap$i master br0 && $IP link set tap$i up || return 1
	done
	$IP link set br0 up
	on_exit "killall -q qemu-system-x86_64 iperf3"
}

# qdisc RATE W1 [W2 [W3]]: qvisor on up0, class 1:N (weight WN) for tapN.
# Tail drop (noaqm): the AQM's 5 ms target is below one packet's time at
# these rates (30 ms for 1514 bytes at 400 kbit).  The limit is about
# 200 ms of RATE (kbit) in 1514-byte packets, at least 8, so that TCP is
# not seconds behind the link; 300 packets at 1000mbit.
qlimit() {
	local lim=$(($1 * 1000 / 5 / 8 / 1514))
	echo $((lim >= 8 ? lim : 8))
}
qdisc() {
	local rate=$1 i=1 w pol="" lim=300
	shift
	for w in "$@"; do pol="$pol${pol:+ + }$i"; i=$((i + 1)); done
	case $rate in *kbit) lim=$(qlimit "${rate%kbit}") ;; esac
	$TC qdisc del dev up0 root >/dev/null 2>&1
	$TC qdisc add dev up0 root handle 1: qvisor rate "$rate" limit $lim \
		noaqm policy "$pol" || return 1
	i=1
	for w in "$@"; do
		$TC class add dev up0 parent 1: classid 1:$i qvisor rank fifo \
			weight "$w" || return 1
		$TC filter add dev up0 parent 1: protocol all prio $i flower \
			indev tap$i classid 1:$i || return 1
		i=$((i + 1))
	done
}

# boot I: start guest I in the background (console in /tmp/gI.log)
boot() {
	local i=$1
	/usr/bin/qemu-system-x86_64 -accel tcg -m 256 -smp 1 -nographic -no-reboot \
		-kernel $GDIR/vmlinuz -initrd $GDIR/initrd.gz \
		-append "console=ttyS0 quiet panic=-1 qg.id=$i qg.ip=10.9.0.$((10 + i))/24 qg.srv=$SINK qg.secs=${GSECS[$i]}" \
		-nic tap,ifname=tap$i,script=no,downscript=no,model=virtio-net-pci,mac=52:54:00:00:00:0$i \
		</dev/null >/tmp/g$i.log 2>&1 &
	QPID[$i]=$!
}

# wait_log I PATTERN SECS
wait_log() {
	local i=$1 pat=$2 n=$(($3 * 5))
	while ! grep -aq "$pat" /tmp/g$i.log; do
		kill -0 "${QPID[$i]}" 2>/dev/null || { echo "# guest $i: qemu exited"; return 1; }
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.2
	done
}

# server PORT: one iperf3 server, JSON to /tmp/srv-PORT.json
server() {
	$IP netns exec qv-sink iperf3 -s -1 -p "$1" -J >/tmp/srv-$1.json 2>&1 &
}

# class_bytes I: bytes sent by class 1:I
class_bytes() {
	$TC -s class show dev up0 | awk -v c="1:$1" '
		$1 == "class" && $3 == c { f = 1; next }
		f && /Sent/ { print $2; exit }'
}

# servers_start I...: one iperf3 server per guest I (the guests are
# retrying to connect for their next run)
servers_start() {
	local i
	for i in "$@"; do
		$IP netns exec qv-sink iperf3 -s -1 -p $((5200 + i)) -J \
			>/tmp/srv-$((5200 + i)).json 2>&1 &
		SPID[$i]=$!
	done
}

# servers_wait SECS I...: wait until the runs of SECS seconds are over
servers_wait() {
	local secs=$1 i n
	shift
	for i in "$@"; do
		n=$(((secs + 60) * 5))
		while kill -0 "${SPID[$i]}" 2>/dev/null && [ $n -gt 0 ]; do
			sleep 0.2
			n=$((n - 1))
		done
		if kill -0 "${SPID[$i]}" 2>/dev/null; then
			echo "# guest $i: iperf3 did not finish"
			kill "${SPID[$i]}"
		fi
	done
	sleep 0.5
}

# run_iperf SECS I...: the servers of guests I..., until their runs of
# SECS seconds are over
run_iperf() {
	local secs=$1
	shift
	servers_start "$@"
	servers_wait "$secs" "$@"
}

# rx_sample: RX[I] = bytes the sink received so far on the established
# connections to guest I's server port (ss bytes_received), RX_T = when
rx_sample() {
	local port bytes out
	RX=()
	# (no process substitution: the test VM has no /dev/fd)
	out=$($IP netns exec qv-sink ss -tinH state established |
		awk '/^[^ \t]/ { port = "" }	# a connection, its info follows
		{
			for (i = 1; i <= NF; i++) {
				# iperf3 listens on ::, so the sink address
				# shows as [::ffff:10.9.0.254]:PORT
				if ($i ~ /10\.9\.0\.254\]?:520[1-9]$/) {
					port = $i
					sub(/.*:/, "", port)
				}
				if (port != "" && $i ~ /^bytes_received:/) {
					split($i, b, ":")
					sum[port] += b[2]
				}
			}
		}
		END { for (p in sum) print p, sum[p] }')
	while read -r port bytes; do
		[ -n "$port" ] && RX[$((port - 5200))]=$bytes
	done <<<"$out"
	RX_T=${EPOCHREALTIME/./}
}

# rx_connected I...: wait (up to 90 s) until every guest I... is sending
rx_connected() {
	local n=450 i ok
	while [ $n -gt 0 ]; do
		rx_sample
		ok=1
		for i in "$@"; do
			[ "${RX[$i]:-0}" -gt 0 ] || ok=0
		done
		[ $ok = 1 ] && return 0
		sleep 0.2
		n=$((n - 1))
	done
	echo "# not every guest of $* connected within 90 s (ss in the sink:)"
	$IP netns exec qv-sink ss -tinH state established | sed 's/^/#   /'
	return 1
}

# rx_window SECS I...: GOT[I] = bytes the sink received from guest I in
# the next SECS seconds of wall clock, all guests in the same window
# (iperf3's own per-server intervals stretch when the emulated machine is
# busy and start at different times, so they do not make one window);
# WIN_S = the window's length in seconds.  Fails when a guest's
# connection ends inside the window.
rx_window() {
	local secs=$1 i t0
	shift
	declare -gA GOT
	rx_sample
	t0=$RX_T
	declare -A R0
	for i in "$@"; do R0[$i]=${RX[$i]:-0}; done
	sleep "$secs"
	rx_sample
	WIN_S=$(awk -v d=$((RX_T - t0)) 'BEGIN { printf "%.3f", d / 1e6 }')
	for i in "$@"; do
		if [ -z "${RX[$i]}" ]; then
			echo "# guest $i: its connection ended inside the window"
			return 1
		fi
		GOT[$i]=$((RX[$i] - R0[$i]))
	done
}

# recv_bytes PORT [FROM TO]: bytes the server got (intervals FROM..TO-1)
recv_bytes() {
	local f=/tmp/srv-$1.json
	if [ $# -eq 3 ]; then
		jq "[.intervals[$2:$3][].sum.bytes] | add // 0" $f 2>/dev/null
	else
		jq '.end.sum_received.bytes // 0' $f 2>/dev/null
	fi
}
recv_secs() {
	jq '.end.sum_received.seconds // 0' /tmp/srv-$1.json 2>/dev/null
}

# shares_check NAME W...: the shares of GOT[] (rx_window) within 5
# points of the weights W... of guests 1, 2, ...
shares_check() {
	local name=$1 i tot=0 wtot=0 ok=1 msg="" b w s t
	shift
	i=1
	for w in "$@"; do
		tot=$((tot + ${GOT[$i]:-0}))
		wtot=$((wtot + w))
		i=$((i + 1))
	done
	i=1
	for w in "$@"; do
		b=${GOT[$i]:-0}
		s=$(awk -v b="$b" -v t="$tot" 'BEGIN { printf "%.1f", t ? 100 * b / t : 0 }')
		t=$(awk -v w="$w" -v t="$wtot" 'BEGIN { printf "%.1f", 100 * w / t }')
		msg="$msg guest$i $s% (want $t%, $(awk -v b="$b" -v n="$WIN_S" 'BEGIN { printf "%.3f", b * 8 / n / 1e6 }') Mbit/s)"
		awk -v s="$s" -v t="$t" 'BEGIN { exit !(s - t <= 5 && t - s <= 5) }' || ok=0
		i=$((i + 1))
	done
	TOTAL_MBIT=$(awk -v b="$tot" -v n="$WIN_S" 'BEGIN { printf "%.3f", b * 8 / n / 1e6 }')
	echo "# shares: $name:$msg, total $TOTAL_MBIT Mbit/s in ${WIN_S} s"
	if [ $ok = 1 ]; then
		tap_ok "$name: receiver shares within 5 points:$msg"
	else
		tap_fail "$name: receiver shares within 5 points" "$msg"
	fi
}

# measure_shares NAME SECS W...: the guests of W... are connecting; wait
# until all send, skip 2 s, then shares_check over a SECS window
measure_shares() {
	local name=$1 secs=$2 g
	shift 2
	g=$(seq 1 $#)
	if rx_connected $g && sleep 2 && rx_window "$secs" $g; then
		shares_check "$name" "$@"
	else
		tap_fail "$name: receiver shares within 5 points" "no common window of all guests"
	fi
}

# bottleneck_check NAME: the receivers together got >= 90% of the link
bottleneck_check() {
	if awk -v t="$TOTAL_MBIT" -v r="$RATE_KBIT" 'BEGIN { exit !(t * 1000 >= 0.9 * r) }'; then
		tap_ok "$1: link saturated, qvisor is the bottleneck ($TOTAL_MBIT of $((RATE_KBIT))kbit)"
	else
		tap_fail "$1: link saturated, qvisor is the bottleneck" \
			"receivers got $TOTAL_MBIT Mbit/s of ${RATE_KBIT}kbit"
	fi
}

# finish: runtime and the guests' consoles, then the TAP summary
finish() {
	local i
	echo "# guests: total runtime of this script $(($(date +%s) - T_START)) s"
	for i in $(seq 1 "$N"); do
		echo "# guest $i console (tail):"
		tail -n 12 /tmp/g$i.log | tr -d '\r' | sed 's/^/#   /'
	done
	tap_done
}

tap_check "bridge, $N taps, uplink veth to the sink" setup ||
	tap_done
W1=(0 60 40)
[ "$N" = 1 ] && W1=(0 100)
[ "$N" = 3 ] && W1=(0 50 30 20)
tap_check "qvisor rate 1000mbit on the uplink, guests by flower indev" \
	qdisc 1000mbit "${W1[@]:1}" || tap_done

# --- the runs each guest will make, in order (see run_iperf): alone,
# all together (N >= 2), 60:40, 50:30:20 (N = 3), 50:50 -> 60:40
ASECS=2
[ "$N" -gt 1 ] && ASECS=4
half=$((SECS / 2))
for i in $(seq 1 "$N"); do
	GSECS[$i]=$ASECS
	[ "$N" -ge 2 ] && GSECS[$i]="${GSECS[$i]},$CSECS"
	[ "$N" -ge 2 ] && [ "$i" -le 2 ] && GSECS[$i]="${GSECS[$i]},$SECS"
	[ "$N" -ge 3 ] && GSECS[$i]="${GSECS[$i]},$SECS"
	[ "$N" -ge 2 ] && [ "$i" -le 2 ] && GSECS[$i]="${GSECS[$i]},$((2 * half))"
done

# --- boot
t0=${EPOCHREALTIME/./}
for i in $(seq 1 "$N"); do boot "$i"; done
sleep 5
for i in $(seq 1 "$N"); do
	echo "# guest $i: qemu pid ${QPID[$i]} $(kill -0 ${QPID[$i]} 2>&1 && echo running)"
	head -c 2000 /tmp/g$i.log | tr -d '\r' | sed 's/^/# g'$i': /'
done
for i in $(seq 1 "$N"); do
	if wait_log "$i" GUEST-READY 600; then
		BOOT[$i]=$(((${EPOCHREALTIME/./} - t0) / 100000))
		BOOT[$i]="$((BOOT[$i] / 10)).$((BOOT[$i] % 10))"
		up=$(sed -n 's/.*GUEST-READY.*uptime=\([0-9.]*\).*/\1/p' /tmp/g$i.log | tr -d '\r')
		echo "# guest $i: booted to init in ${BOOT[$i]} s wall clock (guest uptime $up s)"
		tap_ok "guest $i boots (${BOOT[$i]} s)"
	else
		tap_fail "guest $i boots" "$(tail -c 3000 /tmp/g$i.log | tr -d '\r')"
		tap_done
	fi
done
for i in $(seq 1 "$N"); do
	wait_for 30 $IP netns exec qv-sink ping -c1 -W1 10.9.0.$((10 + i)) && continue
	echo "# guest $i does not answer ping; tap$i:"
	$IP -s link show tap$i | sed 's/^/#   /'
	tail -n 12 /tmp/g$i.log | tr -d '\r' | sed 's/^/#   /'
done

# --- each guest alone, link not the bottleneck
for i in $(seq 1 "$N"); do
	c0=$(class_bytes "$i")
	run_iperf $ASECS "$i"
	c1=$(class_bytes "$i")
	got=$(recv_bytes $((5200 + i)))
	secs=$(recv_secs $((5200 + i)))
	ALONE[$i]=$(awk -v b="${got:-0}" -v s="${secs:-0}" 'BEGIN { printf "%d", s ? b * 8 / s / 1000 : 0 }')
	echo "# guest $i alone: ${got:-0} bytes in ${secs:-0} s at the receiver = ${ALONE[$i]} kbit/s; class 1:$i sent $((c1 - c0)) bytes"
	if [ "${got:-0}" -gt 0 ] && [ $((c1 - c0)) -ge "${got:-0}" ]; then
		tap_ok "guest $i alone: iperf3 through class 1:$i, ${ALONE[$i]} kbit/s at the receiver"
	else
		tap_fail "guest $i alone: iperf3 through class 1:$i" \
			"received ${got:-0} bytes, class 1:$i sent $((c1 - c0))" \
			"$(tail -n 8 /tmp/g$i.log)" "$(tail -n 5 /tmp/srv-$((5200 + i)).json)"
	fi
done
$TC -s class show dev up0 | sed 's/^/# /'

if [ "$N" -ge 2 ]; then
	# all guests at once, link 1000mbit: each guest's rate while the
	# others are busy too (a common window once all send: the runs start
	# a little apart); the link is FRAC% of the slowest of these
	servers_start $(seq 1 "$N")
	WIN_S=0
	rx_connected $(seq 1 "$N") && sleep 1 &&
		rx_window $((CSECS - 8)) $(seq 1 "$N")
	servers_wait $CSECS $(seq 1 "$N")
	min=
	for i in $(seq 1 "$N"); do
		TOGETHER[$i]=$(awk -v b="${GOT[$i]:-0}" -v n="$WIN_S" 'BEGIN { printf "%d", n ? b * 8 / n / 1000 : 0 }')
		echo "# guest $i with all $N sending, link 1000mbit: ${TOGETHER[$i]} kbit/s at the receiver in a common ${WIN_S} s window (alone ${ALONE[$i]})"
		[ -z "$min" ] || [ "${TOGETHER[$i]}" -lt "$min" ] && min=${TOGETHER[$i]}
	done
	if [ "$min" -gt 0 ]; then
		tap_ok "$N guests together, link 1000mbit: the slowest gets $min kbit/s"
	else
		tap_fail "$N guests together, link 1000mbit" "a guest got nothing"
		finish
	fi
	RATE_KBIT=$((min * FRAC / 100))
	lim=$(qlimit $RATE_KBIT)
	echo "# link for the share tests: ${RATE_KBIT}kbit (${FRAC}% of the slowest guest with all sending, ${min} kbit/s), noaqm, limit $lim packets ($((lim * 1514 * 8 / RATE_KBIT)) ms of the link)"

	tap_check "qvisor rate ${RATE_KBIT}kbit, weights 60:40" \
		qdisc ${RATE_KBIT}kbit 60 40
	servers_start 1 2
	measure_shares "2 guests 60:40 (TCP)" $WSECS 60 40
	bottleneck_check "2 guests 60:40"
	servers_wait "$SECS" 1 2
	$TC -s class show dev up0 | sed 's/^/# /'

	if [ "$N" -ge 3 ]; then
		tap_check "qvisor rate ${RATE_KBIT}kbit, weights 50:30:20" \
			qdisc ${RATE_KBIT}kbit 50 30 20
		servers_start 1 2 3
		measure_shares "3 guests 50:30:20 (TCP)" $WSECS 50 30 20
		bottleneck_check "3 guests 50:30:20"
		servers_wait "$SECS" 1 2 3
		$TC -s class show dev up0 | sed 's/^/# /'
	fi

	# 50:50, changed to 60:40 while the guests send
	tap_check "qvisor rate ${RATE_KBIT}kbit, weights 50:50" \
		qdisc ${RATE_KBIT}kbit 50 50
	servers_start 1 2
	measure_shares "50:50 before the change" $((WSECS / 2)) 50 50
	$TC class change dev up0 classid 1:1 qvisor weight 60 &&
		$TC class change dev up0 classid 1:2 qvisor weight 40 &&
		echo "# weights changed to 60:40"
	sleep 2
	if rx_window $((WSECS / 2)) 1 2; then
		shares_check "60:40 after the change at run time" 60 40
	else
		tap_fail "60:40 after the change at run time: receiver shares within 5 points" \
			"a guest stopped inside the window"
	fi
	servers_wait "$((2 * half))" 1 2
fi

finish
