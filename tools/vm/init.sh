#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# /init of the qvisor test VM (see tools/vm/run.sh).
#
# Mounts the pseudo file systems, loads sch_qvisor, runs every test named
# in /qvisor/tests (TAP on the serial console), prints
#   QVISOR-RESULT pass=P fail=F skip=S
# and powers the VM off.  Kernel command line knobs:
#   qvisor.timeout=SECONDS   per test script (default 300); a script with
#                            a line "# qvisor-timeout: SECONDS" gets that
#                            many if it is more
#   qvisor.shell=1           drop to a shell instead of powering off
#   qvisor.sanitize=1        after the tests, scan kmemleak and fail on any
#                            oops, WARN, BUG, KASAN, UBSAN, lockdep or
#                            kmemleak report in the kernel log (check-debug)
#   qvisor.env.NAME=VALUE    export NAME=VALUE to the tests
export PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb
export QVISOR_VM=1 QVISOR_SELFTESTS=/qvisor/selftests

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mkdir -p /run/netns
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
dmesg -n 1
hostname qvisor-vm
ip link set lo up
# hold_keys: switch the packet path's static keys on once, here, and keep
# them on for the whole run, so that no test flips them while traffic
# flows: under TCG with two vCPUs, live patching of a static branch on the
# packet path oopses now and then with "int3" (seen in netif_rx, and in
# ip_local_deliver_finish when a test's ping switched netstamp back on).
# A timestamping socket holds netstamp_needed_key: a copy of ping named
# qvstamp, so that a test's `killall ping` leaves it alone; a clsact qdisc
# on a dummy device in netns qv-hold holds the ingress and egress keys.
# After every test the loop below checks that both are still there.
hold_keys() {
	[ -x /usr/bin/qvstamp ] || cp /usr/bin/ping /usr/bin/qvstamp
	pidof qvstamp >/dev/null ||
		{ qvstamp -q -i 1000 127.0.0.1 >/dev/null 2>&1 & }
	[ -e /run/netns/qv-hold ] || {
		# no dummy0 in the tests' namespace from loading the module
		modprobe dummy numdummies=0 2>/dev/null
		ip netns add qv-hold &&
			ip -n qv-hold link add qvhold0 type dummy &&
			tc -n qv-hold qdisc add dev qvhold0 clsact
	}
}
keys_held() {
	pidof qvstamp >/dev/null && [ -e /run/netns/qv-hold ] &&
		tc -n qv-hold qdisc show dev qvhold0 2>/dev/null | grep -q clsact
}
echo /sbin/modprobe >/proc/sys/kernel/modprobe

TIMEOUT=300
SHELL_AT_END=0
SANITIZE=0
for arg in $(cat /proc/cmdline); do
	case $arg in
	qvisor.timeout=*) TIMEOUT=${arg#*=} ;;
	qvisor.shell=*) SHELL_AT_END=${arg#*=} ;;
	qvisor.sanitize=*) SANITIZE=${arg#*=} ;;
	qvisor.env.*=*) arg=${arg#qvisor.env.}; export "${arg%%=*}=${arg#*=}" ;;
	esac
done

echo
KVER=$(uname -r)
echo "# qvisor-kernel: $KVER ($(nproc) cpus, $(awk '/MemTotal/{print $2}' /proc/meminfo) kB)"
if [ -f "/lib/modules/$KVER/extra/sch_qvisor.ko" ]; then
	if modprobe sch_qvisor; then
		echo "# sch_qvisor loaded"
	else
		echo "# sch_qvisor failed to load:"
		dmesg | tail -n 20 | sed 's/^/#   /'
	fi
else
	echo "# sch_qvisor.ko not in this image"
fi
hold_keys

pass=0 fail=0 skip=0
for t in $(cat /qvisor/tests); do
	echo "# qvisor-test: $t"
	start=$(date +%s)
	lim=$(sed -n 's/^# qvisor-timeout: *\([0-9][0-9]*\).*/\1/p' \
		"/qvisor/selftests/$t" 2>/dev/null | head -n 1)
	[ -n "$lim" ] && [ "$lim" -gt "$TIMEOUT" ] || lim=$TIMEOUT
	(cd /qvisor/selftests && exec timeout "$lim" bash "./$t") 2>&1 |
		tee /tmp/test.out
	rc=${PIPESTATUS[0]}
	p=$(grep -E '^ok [0-9]+' /tmp/test.out | grep -vciE '# *skip')
	s=$(grep -E '^ok [0-9]+' /tmp/test.out | grep -ciE '# *skip')
	f=$(grep -cE '^not ok [0-9]+' /tmp/test.out)
	if [ "$rc" -eq 4 ] && [ $((p + s + f)) -eq 0 ]; then
		echo "ok 1 - $t # SKIP test exited 4"
		s=1
	elif [ "$rc" -ne 0 ] && [ "$rc" -ne 4 ] && [ "$f" -eq 0 ]; then
		if [ "$rc" -eq 124 ] || [ "$rc" -eq 143 ]; then
			echo "not ok 999 - $t: timed out after ${lim}s"
		else
			echo "not ok 999 - $t: exited with status $rc"
		fi
		f=1
	fi
	echo "# $t: pass=$p fail=$f skip=$s ($(($(date +%s) - start))s)"
	if ! keys_held; then
		echo "# $t removed the static-key holders (qvstamp, netns qv-hold): set up again"
		hold_keys
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
done

if [ "$SANITIZE" = 1 ]; then
	echo "# qvisor-test: sanitizer reports"
	leaks=""
	if [ -w /sys/kernel/debug/kmemleak ]; then
		echo scan >/sys/kernel/debug/kmemleak
		sleep 6
		echo scan >/sys/kernel/debug/kmemleak
		leaks=$(cat /sys/kernel/debug/kmemleak)
	else
		echo "ok 1 - kmemleak scan # SKIP no /sys/kernel/debug/kmemleak"
		skip=$((skip + 1))
	fi
	bad=$(dmesg | grep -E 'WARNING:|BUG:|Oops|general protection|KASAN|UBSAN|refcount_t:|list_(add|del) corruption|kmemleak: .*suspected|possible (circular|recursive) locking|inconsistent lock state|Kernel panic')
	if [ -z "$bad" ] && [ -z "$leaks" ]; then
		echo "ok 1 - sanitizers: no KASAN, UBSAN, lockdep, kmemleak, WARN or BUG report"
		pass=$((pass + 1))
	else
		echo "not ok 1 - sanitizers: $(echo "$bad" | grep -c .) report lines, $(echo "$leaks" | grep -c 'unreferenced object') leaks"
		dmesg | grep -E -A25 'WARNING:|BUG:|Oops|general protection|KASAN|UBSAN|refcount_t:|list_(add|del) corruption|possible (circular|recursive) locking|inconsistent lock state' | head -n 200 | sed 's/^/#   /'
		echo "$leaks" | head -n 100 | sed 's/^/#   /'
		fail=$((fail + 1))
	fi
fi

if [ "$fail" -ne 0 ]; then
	echo "# kernel log (last 40 lines):"
	dmesg | tail -n 40 | sed 's/^/#   /'
fi
echo "QVISOR-RESULT pass=$pass fail=$fail skip=$skip"
if [ "$SHELL_AT_END" = 1 ]; then
	setsid cttyhack bash -i
fi
sync
poweroff -f
