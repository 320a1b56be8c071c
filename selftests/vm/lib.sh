# SPDX-License-Identifier: GPL-2.0-only
# TAP helpers for qvisor VM selftests.  Source it from a test script:
#
#   . "$(dirname "$0")/lib.sh"
#   tap_check "qdisc accepted" $TC qdisc add dev veth0 root handle 1: qvisor
#   tap_ok "rate within 1%"            # or tap_fail "why" / tap_skip "name" "why"
#   tap_done                           # prints the plan, exits 0 / 1 / 4
#
# Inside the VM (QVISOR_VM=1) the tests run as root under tools/vm/init.sh;
# they can also run on any machine with the module installed.  Busybox
# applets shadow tc and ip in a busybox shell, so always use $TC and $IP.

TC=${TC:-/usr/sbin/tc}
IP=${IP:-/usr/sbin/ip}
KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

_tap_n=0
_tap_failed=0
_tap_skipped=0
_tap_cleanups=""

echo "TAP version 13"

tap_ok() {
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n - $*"
}

# tap_fail NAME [DIAGNOSTIC...]
tap_fail() {
	local name=$1
	shift
	_tap_n=$((_tap_n + 1))
	_tap_failed=$((_tap_failed + 1))
	echo "not ok $_tap_n - $name"
	[ $# -gt 0 ] && printf '%s\n' "$@" | sed 's/^/#   /'
	return 0
}

# tap_skip NAME REASON
tap_skip() {
	_tap_n=$((_tap_n + 1))
	_tap_skipped=$((_tap_skipped + 1))
	echo "ok $_tap_n - $1 # SKIP $2"
}

# slow_guest: true on the sanitizer kernel (make check-debug sets
# QVISOR_SLOW=1), where KASAN and lockdep slow the guest ~20x and senders
# no longer keep a 4 Mbit/s link backlogged: rate and share measurements
# are skipped there (they run on the two release kernels).
slow_guest() {
	[ "${QVISOR_SLOW:-0}" = 1 ]
}

# long_suite NAME: end the test NAME with a skip where make check runs only
# the quicker suites (qvisor.long=off on the kernel command line: all but
# CHECK_LONG_KVERS) or on a sanitizer kernel (QVISOR_SLOW), whose slowness
# the measurement of a long suite cannot absorb
long_suite() {
	cmdline_skip qvisor.long=off "$1" CHECK_LONG_KVERS
	if slow_guest; then
		tap_skip "$1" "a measurement the sanitizer kernel's slowness would spoil (QVISOR_SLOW)"
		tap_done
	fi
}

# median: the median of the numbers on stdin, one per line (the lower of
# the two middle ones for an even count); nothing for no input
median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

# measure_suite NAME: end the test NAME with a skip where make check
# leaves the share and latency measurements to other kernels
# (qvisor.measure=off on the kernel command line: all but
# CHECK_MEASURE_KVERS); they measure the schedule, the same code on
# every kernel, and the kernel-facing paths are in the other suites
measure_suite() {
	cmdline_skip qvisor.measure=off "$1" CHECK_MEASURE_KVERS
}

# cmdline_skip WORD NAME KVERS: end the test NAME with a skip when WORD is
# on the kernel command line (make check gives it to all kernels but the
# Makefile's list KVERS)
cmdline_skip() {
	if grep -qw "$1" /proc/cmdline 2>/dev/null; then
		tap_skip "$2" "$1 on the kernel command line (make check runs $2.sh on $3 only)"
		tap_done
	fi
}

# tap_check NAME CMD [ARG...]: ok if CMD exits 0; its output is shown on failure.
# CMD runs in this shell (not a subshell), so it may register cleanups.
tap_check() {
	local name=$1 out rc
	shift
	"$@" >"${TMPDIR:-/tmp}/tap-out.$$" 2>&1
	rc=$?
	out=$(cat "${TMPDIR:-/tmp}/tap-out.$$")
	rm -f "${TMPDIR:-/tmp}/tap-out.$$"
	if [ $rc -eq 0 ]; then
		tap_ok "$name"
	else
		tap_fail "$name" "command: $*" "exit status $rc" "$out"
	fi
	return $rc
}

# tap_check_fail NAME CMD [ARG...]: ok if CMD fails (negative tests).
tap_check_fail() {
	local name=$1 out rc
	shift
	"$@" >"${TMPDIR:-/tmp}/tap-out.$$" 2>&1
	rc=$?
	out=$(cat "${TMPDIR:-/tmp}/tap-out.$$")
	rm -f "${TMPDIR:-/tmp}/tap-out.$$"
	if [ $rc -ne 0 ]; then
		tap_ok "$name"
	else
		tap_fail "$name" "command unexpectedly succeeded: $*" "$out"
	fi
	[ $rc -ne 0 ]
}

# tap_diag TEXT...: a diagnostic line ("# TEXT").
tap_diag() {
	printf '%s\n' "$*" | sed 's/^/# /'
}

# Register a cleanup command; all run (in reverse order) at exit.
on_exit() {
	_tap_cleanups="$*;$_tap_cleanups"
	trap '_tap_run_cleanups' EXIT
}

_tap_run_cleanups() {
	eval "$_tap_cleanups" >/dev/null 2>&1
	_tap_cleanups=""
}

# tap_done: print the plan and exit with the kselftest status.
tap_done() {
	echo "1..$_tap_n"
	_tap_run_cleanups
	trap - EXIT
	[ "$_tap_failed" -eq 0 ] || exit $KSFT_FAIL
	if [ "$_tap_n" -gt 0 ] && [ "$_tap_skipped" -eq "$_tap_n" ]; then
		exit $KSFT_SKIP
	fi
	exit $KSFT_PASS
}

# qvisor_loaded: the qdisc module is in the kernel (loads it if possible).
qvisor_loaded() {
	[ -d /sys/module/sch_qvisor ] && return 0
	modprobe sch_qvisor >/dev/null 2>&1 && [ -d /sys/module/sch_qvisor ]
}

# veth_pair NS DEV PEER ADDR PEERADDR: DEV stays here, PEER moves into a new
# network namespace NS; /24 addresses; everything up.  Removed at exit.
veth_pair() {
	local ns=$1 dev=$2 peer=$3 addr=$4 peeraddr=$5
	$IP netns add "$ns" || return 1
	on_exit "$IP netns del $ns"
	$IP link add "$dev" type veth peer name "$peer" netns "$ns" || return 1
	on_exit "$IP link del $dev"
	$IP addr add "$addr/24" dev "$dev" &&
		$IP link set "$dev" up &&
		$IP -n "$ns" addr add "$peeraddr/24" dev "$peer" &&
		$IP -n "$ns" link set "$peer" up &&
		$IP -n "$ns" link set lo up
}

# udp_test_setup NAME: the start of a test that sends UDP with qvsend
# through $DEV to $DST (qvrecv in netns $NS): skip the test NAME when the
# module or the tools are missing; a veth pair across a netns, with a
# permanent neighbour entry and no IPv6 so that no ARP or IPv6 chatter
# shares the (throttled) link.  Ends the test when the pair fails.
udp_test_setup() {
	local name=$1 t
	if ! qvisor_loaded; then
		tap_skip "$name" "sch_qvisor not loaded"
		tap_done
	fi
	for t in qvsend qvrecv; do
		command -v $t >/dev/null || { tap_skip "$name" "$t missing"; tap_done; }
	done
	quiet_veth_pair
}

# quiet_veth_pair: veth pair $DEV (10.0.0.1) -- veth1 ($DST) in netns $NS,
# with permanent neighbour entries on both sides and no IPv6, so that no
# ARP or IPv6 chatter shares a throttled link; sets PEER_MAC.  Without
# the peer's entry, its replies to a ping wait for an ARP reply from $DEV
# that queues in qvisor's lowest tier behind a flood (guard.sh's tier-1
# ping lost all 15 on 7.2 once).  Ends the test when the pair fails.
quiet_veth_pair() {
	tap_check "veth pair across a netns" \
		veth_pair $NS $DEV veth1 10.0.0.1 $DST || tap_done
	pin_neighbours 10.0.0.1
	echo 1 >/proc/sys/net/ipv6/conf/$DEV/disable_ipv6 2>/dev/null
}

# dev_mac NS DEV: the Ethernet address of DEV in namespace NS ("": this one)
dev_mac() {
	$IP ${1:+-n "$1"} link show "$2" | awk '/link\/ether/{print $2}'
}

# pin_neighbours ADDR...: permanent neighbour entries for the pair $DEV --
# veth1 (in $NS): $DST on $DEV, and each of $DEV's ADDR... on veth1; sets
# PEER_MAC (veth1's)
pin_neighbours() {
	local mine a
	PEER_MAC=$(dev_mac $NS veth1)
	mine=$(dev_mac "" $DEV)
	$IP neigh replace $DST lladdr "$PEER_MAC" dev $DEV nud permanent
	for a in "$@"; do
		$IP -n $NS neigh replace "$a" lladdr "$mine" dev veth1 nud permanent
	done
}

# iperf_veth_pair NAME SRC1 SRC2: skip the test NAME when the module or
# iperf3 is missing; a veth pair $DEV (SRC1, and SRC2 as a second
# source address) -- veth1 ($DST) in netns $NS, with permanent neighbour
# entries on both sides (an ARP reply from $DEV would queue in qvisor's
# lowest tier behind a flood, and the peer's replies to a higher tier's
# ping would wait for it) and no IPv6, and socket buffers large enough for
# iperf3 -w (put back at exit).  Ends the test when the pair fails.
iperf_veth_pair() {
	local f old
	if ! qvisor_loaded; then
		tap_skip "$1" "sch_qvisor not loaded"
		tap_done
	fi
	command -v iperf3 >/dev/null || { tap_skip "$1" "iperf3 missing"; tap_done; }
	shift
	tap_check "veth pair across a netns" \
		veth_pair $NS $DEV veth1 "$1" $DST || tap_done
	pin_neighbours "$1" "$2"
	echo 1 >/proc/sys/net/ipv6/conf/$DEV/disable_ipv6 2>/dev/null
	$IP addr add "$2"/24 dev $DEV
	for f in wmem_max rmem_max; do	# for iperf3 -w
		old=$(cat /proc/sys/net/core/$f)
		echo 8388608 >/proc/sys/net/core/$f
		on_exit "echo $old >/proc/sys/net/core/$f"
	done
}

# tenants_by_source SRC1 SRC2 QDISC-OPTIONS...: qvisor root on $DEV with
# two rank-fifo tenants, 1:1 for packets from SRC1 and 1:2 from SRC2 (u32)
tenants_by_source() {
	local s1=$1 s2=$2
	shift 2
	$TC qdisc add dev $DEV root handle 1: qvisor "$@" &&
		$TC class add dev $DEV parent 1: classid 1:1 qvisor rank fifo &&
		$TC class add dev $DEV parent 1: classid 1:2 qvisor rank fifo &&
		$TC filter add dev $DEV parent 1: protocol ip prio 1 u32 \
			match ip src "$s1"/32 classid 1:1 &&
		$TC filter add dev $DEV parent 1: protocol ip prio 1 u32 \
			match ip src "$s2"/32 classid 1:2
}

# setup_qdisc QDISC-OPTIONS...: fresh qvisor root on $DEV at $RATE,
# without AQM: its users check exact departure orders and push-outs of
# packets held behind a tiny rate for longer than the AQM's interval
setup_qdisc() {
	$TC qdisc del dev $DEV root >/dev/null 2>&1
	$TC qdisc add dev $DEV root handle 1: qvisor rate $RATE noaqm "$@" ||
		return 1
}

# add_class MINOR CLASS-OPTIONS...: class 1:MINOR and a u32 filter sending
# UDP port 5000 + MINOR to it
add_class() {
	local minor=$1
	shift
	$TC class add dev $DEV parent 1: classid 1:$minor qvisor "$@" &&
		$TC filter add dev $DEV parent 1: protocol ip prio 1 u32 \
			match ip dport $((5000 + minor)) 0xffff classid 1:$minor
}

# start_recv N [IDLE_MS]: qvrecv in netns $NS in the background, for N
# packets on the tenant ports 5000-5004 (idle timeout IDLE_MS, default
# 3000), "seq tenant rank" lines to $OUT/got; RPID is its pid.  Fails,
# and stops it, when it is not ready within 5 s.
start_recv() {
	rm -f "$OUT/ready"
	$IP netns exec $NS qvrecv -p 5000,5001,5002,5003,5004 -n "$1" \
		-i "${2:-3000}" -r "$OUT/ready" >"$OUT/got" 2>"$OUT/recv.err" &
	RPID=$!
	wait_for 5 test -f "$OUT/ready" && return 0
	kill $RPID 2>/dev/null
	return 1
}

# sent_list SPEC: "seq tenant rank" of every packet of a qvsend SPEC
sent_list() {
	echo "$1" | tr ',' '\n' | awk -F'[:=]' '{ print NR, $1 - 5000, $3 }'
}

# order_result NAME SPEC EXPECTED: TAP result of an order test whose
# receiver wrote "seq tenant rank" lines to $OUT/got ($OUT/recv.err)
order_result() {
	local name=$1 spec=$2 expected=$3
	echo "$expected" >"$OUT/want"
	if diff -q "$OUT/want" "$OUT/got" >/dev/null; then
		tap_ok "$name"
		tap_diag "order: $(awk '{printf "%s:%s ", $2, $3}' "$OUT/got")"
		return 0
	fi
	tap_fail "$name" "sent (seq tenant rank):" "$(sent_list "$spec")" \
		"expected:" "$expected" "received:" "$(cat "$OUT/got")" \
		"$(cat "$OUT/recv.err")" "$($TC -s qdisc show dev $DEV)"
	return 1
}

# run_order NAME SPEC EXPECTED [N [QVSEND-OPTION...]]: send SPEC (ports
# 5000-5004) to $DST behind a $BLOCKER-byte blocker, compare the arrival
# order with EXPECTED (lines "seq tenant rank"); N packets to wait for
# (default: one per item of SPEC).
run_order() {
	local name=$1 spec=$2 expected=$3 n=${4:-}
	shift 3
	if [ $# -gt 0 ]; then shift; fi
	[ -n "$n" ] || n=$(echo "$spec" | tr ',' '\n' | wc -l)
	if ! start_recv "$n"; then
		tap_fail "$name" "qvrecv did not start: $(cat "$OUT/recv.err")"
		return 1
	fi
	if ! qvsend -d $DST -B $BLOCKER "$@" "$spec" 2>"$OUT/send.err"; then
		tap_fail "$name" "qvsend failed: $(cat "$OUT/send.err")"
		kill $RPID 2>/dev/null
		return 1
	fi
	wait $RPID
	order_result "$name" "$spec" "$expected"
}

# send_blocked SPEC [IDLE_MS]: a $BLOCKER-byte blocker, then SPEC, to $DST;
# arrivals in $OUT/got; 0 when every packet arrived (qvrecv's status)
send_blocked() {
	local spec=$1 n
	n=$(echo "$spec" | tr ',' '\n' | wc -l)
	if ! start_recv "$n" "${2:-3000}"; then
		echo "qvrecv did not start: $(cat "$OUT/recv.err")" >"$OUT/got"
		return 1
	fi
	if ! qvsend -d $DST -B $BLOCKER "$spec" 2>"$OUT/send.err"; then
		kill $RPID 2>/dev/null
		return 1
	fi
	wait $RPID
}

# wait_for SECONDS CMD [ARG...]: poll CMD every 0.1 s until it succeeds.
wait_for() {
	local n=$(($1 * 10))
	shift
	while ! "$@" >/dev/null 2>&1; do
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.1
	done
}

# wait_listen NS PORT...: wait up to 5 s for each TCP PORT to listen in
# netns NS (an iperf3 server just started)
wait_listen() {
	local ns=$1 p
	shift
	for p in "$@"; do
		wait_for 5 sh -c "$IP netns exec $ns ss -ltn | grep -q ':$p '"
	done
}

# ns_sysctl NS KEY VALUE: write /proc/sys/KEY (slashes) in namespace NS
ns_sysctl() {
	$IP netns exec "$1" sh -c "echo $3 >/proc/sys/$2"
}

# iperf_client OUT ARG...: iperf3 ARG... (a client) with its output in OUT;
# tried again at once while the server refuses (still busy with the last
# test), for up to 2 s
iperf_client() {
	local out=$1 n=10
	shift
	while :; do
		iperf3 "$@" >"$out" 2>&1 && return
		grep -q 'connected to' "$out" && return
		n=$((n - 1))
		[ $n -gt 0 ] || return
		sleep 0.2
	done
}

# qdisc_sent_packets DEV: packets sent by DEV's root qdisc.
qdisc_sent_packets() {
	$TC -s qdisc show dev "$1" |
		awk '/^qdisc/{root = / root /} root && /Sent/{print $4; exit}'
}

# class_word CLASS KEY [N]: in `tc -s class show dev $DEV`, the word N
# places (default 1) after the first KEY among CLASS's lines, e.g.
# `class_word 1:2 memory` and `class_word 1:2 memory 3` of "memory M of P"
class_word() {
	$TC -s class show dev $DEV | awk -v c="$1" -v k="$2" -v n="${3:-1}" '
		/^class / { cur = $3 }
		cur == c { for (i = 1; i + n <= NF; i++)
			if ($i == k) { print $(i + n); exit } }'
}

# Kernel log checks (fuzz.sh, stress.sh, adversarial.sh): klog_mark
# remembers where the log is; klog_check NAME makes one TAP line, failing
# on any oops, WARN, BUG, sanitizer (KASAN, UBSAN, lockdep) or kmemleak
# report logged since the mark.
KLOG_BAD='WARNING:|BUG:|Oops|general protection|KASAN|UBSAN|refcount_t:|list_(add|del) corruption|Call Trace|kmemleak: .*suspected|possible (circular|recursive) locking|inconsistent lock state|stack-protector|Kernel panic'
klog_mark() {
	_klog_lines=$(dmesg | wc -l)
}
klog_check() {
	local new bad
	new=$(dmesg | tail -n +$((${_klog_lines:-0} + 1)))
	bad=$(grep -E "$KLOG_BAD" <<<"$new")
	if [ -z "$bad" ]; then
		tap_ok "$1"
	else
		tap_fail "$1" "$(grep -E -A12 "$KLOG_BAD" <<<"$new" | head -n 60)"
	fi
}

# slab_kb: kernel slab memory in kB, after dropping reclaimable caches.
slab_kb() {
	sync
	echo 3 >/proc/sys/vm/drop_caches 2>/dev/null
	awk '/^Slab:/{print $2}' /proc/meminfo
}

# ping_rtt COUNT: "MEDIAN LOSS%" of a ping to $DST every 0.2 s (its
# replies appended to $OUT/ping.log)
ping_rtt() {
	ping -c "$1" -i 0.2 -W 2 $DST 2>&1 | tee -a "$OUT/ping.log" |
		awk '/time=/ { sub(/.*time=/, ""); n++; r[n] = $1 + 0 }
		/packet loss/ { for (i = 1; i <= NF; i++) if ($i ~ /%$/) l = $i }
		END {
			if (!n) { print "none", l; exit }
			for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
				if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
			m = n % 2 ? r[(n + 1) / 2] : (r[n / 2] + r[n / 2 + 1]) / 2
			printf "%.3f %s\n", m, l
		}'
}
