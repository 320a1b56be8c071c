#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Netlink fuzzing: tools/qvfuzz sends QVISOR_FUZZ_COUNT (default 200000)
# random and mutated qvisor qdisc/class requests (add, change, replace,
# delete, dumps; malformed TCA_OPTIONS of every kind) to a dummy device
# while UDP traffic of eight classes and the unclassified flows through it.
# Afterwards: every request was answered, the generator reached both the
# accepting and the rejecting paths, the kernel log has no oops, WARN, BUG
# or sanitizer report, the qdisc deletes, sch_qvisor unloads, and kernel
# slab memory is back to its starting level (QVISOR_FUZZ_SLAB_TOL_KB,
# default 1024 kB).  QVISOR_FUZZ_SEED picks the seed (default 1795319020,
# "random": the time; printed; qvfuzz -s SEED -p FROM replays a run with
# hex dumps).
. "$(dirname "$0")/lib.sh"

DEV=fz0
COUNT=${QVISOR_FUZZ_COUNT:-200000}
# a fixed default so that make check is reproducible; "random" for a new one
SEED=${QVISOR_FUZZ_SEED:-1795319020}
[ "$SEED" = random ] && SEED=$(date +%s)
TLIMIT=${QVISOR_FUZZ_TIME:-170}
TOL=${QVISOR_FUZZ_SLAB_TOL_KB:-1024}

if ! qvisor_loaded; then
	tap_skip "sch_qvisor loaded" "sch_qvisor module missing"
	tap_done
fi
if ! command -v qvfuzz >/dev/null; then
	tap_skip "netlink fuzzing" "no qvfuzz tool (tools/qvfuzz.c)"
	tap_done
fi
modprobe dummy 2>/dev/null
if ! $IP link add $DEV type dummy || ! $IP link set $DEV up ||
	! $IP addr add 10.77.0.1/24 dev $DEV; then
	tap_fail "dummy device $DEV" "cannot create a dummy device"
	tap_done
fi
on_exit "$IP link del $DEV"

# Warm up (first qdisc and class of the boot allocate caches), then measure.
$TC qdisc add dev $DEV root handle 1: qvisor rate 10mbit policy "1 + 2" &&
	$TC class add dev $DEV parent 1: classid 1:1 qvisor weight 3 &&
	$TC qdisc del dev $DEV root
slab0=$(slab_kb)
klog_mark

# Traffic through the fuzzed qdisc: classes 1:1..1:8 by priority, plus
# unclassified packets, ~4000 packets/s in all.
qvsend -d 10.77.0.2 -l 300 -t $((TLIMIT + 60)) -r 2000 \
	"5001:prio=65537-65544,5002:none=0" 2>/tmp/fuzz-send.out &
send_pid=$!
on_exit "kill $send_pid"

tap_diag "qvfuzz -s $SEED -n $COUNT -t $TLIMIT $DEV"
read -r tx0 </sys/class/net/$DEV/statistics/tx_packets
t0=$EPOCHREALTIME
qvfuzz -s "$SEED" -n "$COUNT" -t "$TLIMIT" $DEV >/tmp/fuzz.out 2>/tmp/fuzz.err
rc=$?
t1=$EPOCHREALTIME
read -r tx1 </sys/class/net/$DEV/statistics/tx_packets
kill $send_pid 2>/dev/null
wait $send_pid 2>/dev/null
cat /tmp/fuzz.out | sed 's/^/# /'
sent=$(sed -n 's/^qvfuzz: seed [0-9]*: \([0-9]*\) messages.*/\1/p' /tmp/fuzz.out)
accepted=$(sed -n 's/^qvfuzz: accepted \([0-9]*\),.*/\1/p' /tmp/fuzz.out)
einval=$(sed -n 's/.*[(, ]EINVAL \([0-9]*\).*/\1/p' /tmp/fuzz.out)
erange=$(sed -n 's/.*[(, ]ERANGE \([0-9]*\).*/\1/p' /tmp/fuzz.out)

if [ $rc -eq 0 ] && [ "${sent:-0}" -ge "$COUNT" ]; then
	tap_ok "qvfuzz: $sent requests sent and answered (seed $SEED)"
else
	tap_fail "qvfuzz: $COUNT requests sent and answered (seed $SEED)" \
		"exit $rc, ${sent:-0} messages in ${TLIMIT}s limit" \
		"$(cat /tmp/fuzz.err)"
fi
if [ "${accepted:-0}" -ge $((COUNT / 50)) ] &&
	[ $((${einval:-0} + ${erange:-0})) -ge $((COUNT / 20)) ]; then
	tap_ok "generator reaches both sides: $accepted accepted, $((einval + erange)) EINVAL/ERANGE"
else
	tap_fail "generator reaches both sides" \
		"accepted ${accepted:-0} (want >= $((COUNT / 50)))," \
		"EINVAL+ERANGE $((${einval:-0} + ${erange:-0})) (want >= $((COUNT / 20)))"
fi

probes=$(sed -n 's/^qvfuzz: tree probes \([0-9]*\):.*/\1/p' /tmp/fuzz.out)
mism=$(sed -n 's/^qvfuzz: tree probes .*mismatches \([0-9]*\)$/\1/p' /tmp/fuzz.out)
if [ "${probes:-0}" -gt 0 ] && [ "${mism:-1}" = 0 ]; then
	tap_ok "tree probes: $probes answered as netlink and the core's decoder predict"
else
	tap_fail "tree probes answered as predicted" \
		"${probes:-0} probes, ${mism:-?} mismatches" "$(grep 'tree probe' /tmp/fuzz.err)"
fi

if [ $((tx1 - tx0)) -ge 1000 ]; then
	tap_ok "traffic flowed through the fuzzed qdisc ($((tx1 - tx0)) packets)"
else
	tap_fail "traffic flowed through the fuzzed qdisc" "$((tx1 - tx0)) packets"
fi

# The device and its qdisc still answer.
tap_check "qdisc show after fuzzing" $TC -s qdisc show dev $DEV
tap_check "class show after fuzzing" $TC -s class show dev $DEV
if $TC qdisc show dev $DEV | grep -q 'qdisc qvisor'; then
	tap_check "qvisor qdisc deletes" $TC qdisc del dev $DEV root
else
	tap_ok "qvisor qdisc deletes (none left by the fuzzer)"
fi
klog_check "kernel log: no oops, WARN, BUG or sanitizer report"

# Leaks: the module unloads and slab memory returns to its start.  A
# qdisc's module reference goes when the qdisc is destroyed; give
# deferred work a few seconds, then say what still holds it.
rmmod_retry() {
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		if rmmod sch_qvisor 2>/tmp/fuzz-rmmod.err; then
			[ "$i" -gt 1 ] && tap_diag "rmmod needed $i tries:" \
				"$(cat /tmp/fuzz-rmmod.err)"
			return 0
		fi
		[ "$i" -eq 1 ] && tap_diag "rmmod busy, refcnt" \
			"$(cat /sys/module/sch_qvisor/refcnt 2>/dev/null):" \
			"$($TC qdisc show | grep -c qvisor) qvisor qdiscs left"
		sleep 1
	done
	cat /tmp/fuzz-rmmod.err
	grep '^sch_qvisor' /proc/modules
	$TC qdisc show
	return 1
}
if tap_check "rmmod sch_qvisor" rmmod_retry; then
	slab1=$(slab_kb)
	sleep 2
	slab2=$(slab_kb)
	[ "$slab2" -lt "$slab1" ] && slab1=$slab2
	if [ $((slab1 - slab0)) -le "$TOL" ]; then
		tap_ok "slab back to start: ${slab0} -> ${slab1} kB (tolerance $TOL kB)"
	else
		tap_fail "slab back to start: ${slab0} -> ${slab1} kB (tolerance $TOL kB)" \
			"$(sort -k3 -n -r /proc/slabinfo 2>/dev/null | head -n 15)"
	fi
else
	tap_fail "slab back to start" "module did not unload"
fi
tap_check "sch_qvisor loads again" modprobe sch_qvisor
tap_diag "fuzz: messages $sent, accepted $accepted, seed $SEED," \
	"$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b - a}') s," \
	"slab ${slab0} -> ${slab1:-?} kB;" \
	"packets through $DEV meanwhile: $((tx1 - tx0))"
tap_done
