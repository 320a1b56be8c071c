#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Configuration churn under traffic.  iperf3 (UDP, port 5201, class 1:1 by
# a u32 filter) and qvsend flows (classes 1:2..1:4 by u32 filters, class
# 1:5 by skb->priority) overload a 8-10 Mbit/s qvisor on a veth, so packets
# are always queued.  Each of QVISOR_STRESS_CYCLES (default 200) cycles:
#   qdisc change (policy, rate, limit; one of three policies, one with
#   weights inside a nested group) + class change (weight, ceil) /
#   class 1:5 add, packets queue in it, class 1:5 delete with them queued /
#   filter churn (delete and re-add a u32 filter) / qdisc replace;
# every QVISOR_STRESS_HEAVY-th cycle (default 10; every cycle took 3.7 s
# under TCG, 200 of them too long) also: qdisc delete, rmmod sch_qvisor,
# modprobe sch_qvisor, qdisc + classes + filters added again.
# After every step, traffic must leave veth0 again within 1 s (its
# tx_packets counter moves).  Every 20 cycles the senders are paused
# (SIGSTOP): the qdisc drains to backlog 0b 0p, qlen 0, and every class to
# backlog 0.  At the end: no oops, WARN, BUG or sanitizer report, counters
# at zero, the module unloads.  Prints the cycles survived.
. "$(dirname "$0")/lib.sh"

NS=qv-stress
DST=10.0.5.2
CYCLES=${QVISOR_STRESS_CYCLES:-200}
BUDGET=${QVISOR_STRESS_BUDGET:-300}	# seconds; stop early and fail past it
RESUME_US=1000000
# link rates; a slow (sanitizer) guest's senders reach ~1 Mbit/s in all,
# so there the link is 30 times slower and packets are still queued
RATE_HI=10mbit RATE_LO=8mbit CEIL=2mbit FILL=0.05
if slow_guest; then
	RATE_HI=300kbit RATE_LO=240kbit CEIL=60kbit FILL=0.5
fi
HEAVY=${QVISOR_STRESS_HEAVY:-10}	# delete + rmmod + modprobe every HEAVY cycles

qvisor_loaded || { tap_skip "stress" "sch_qvisor not loaded"; tap_done; }
tap_check "veth pair across a netns" \
	veth_pair $NS veth0 veth1 10.0.5.1 $DST || tap_done
$IP netns exec $NS iperf3 -s -D -p 5201 >/dev/null 2>&1
on_exit "killall -q iperf3"
klog_mark

TXF=/sys/class/net/veth0/statistics/tx_packets
mkfifo /tmp/stress.fifo
exec 7<>/tmp/stress.fifo
nap() { read -r -t "$1" -u 7 _; }	# sleep without a process

BATCH=/tmp/stress.batch
setup_batch() {
	cat >$BATCH <<-EOF
	qdisc add dev veth0 root handle 1: qvisor rate $RATE_HI limit 600 policy "1 >> 2 + 3 + 4 + 5"
	class add dev veth0 parent 1: classid 1:1 qvisor rank fifo
	class add dev veth0 parent 1: classid 1:2 qvisor rank prio range 0 7 weight 3
	class add dev veth0 parent 1: classid 1:3 qvisor rank fifo weight 2 limit 100
	class add dev veth0 parent 1: classid 1:4 qvisor rank dscp weight 1
	filter add dev veth0 parent 1: protocol ip prio 1 u32 match ip dport 5201 0xffff classid 1:1
	filter add dev veth0 parent 1: protocol ip prio 2 u32 match ip dport 5002 0xffff classid 1:2
	filter add dev veth0 parent 1: protocol ip prio 3 u32 match ip dport 5003 0xffff classid 1:3
	filter add dev veth0 parent 1: protocol ip prio 4 u32 match ip dport 5004 0xffff classid 1:4
	EOF
}
setup_batch
tap_check "qdisc, classes and filters set up" $TC -batch $BATCH || tap_done

# Senders: iperf3 at 6 Mbit/s, four qvsend flows of 200 packets/s
# (6.6 Mbit/s): more than the 8-10 Mbit/s link, little enough CPU that
# the emulated guest keeps up with the churn.
iperf3 -c $DST -p 5201 -u -l 1200 -b 6M -t 3600 >/tmp/stress-iperf.out 2>&1 &
iperf_pid=$!
qvsend -d $DST -l 1000 -t 3600 -r 200 \
	"5002:prio=0-7,5003:none=0,5004:dscp=0-63,5005:prio=65541" \
	>/dev/null 2>/tmp/stress-send.out &
send_pid=$!
on_exit "kill -CONT $iperf_pid $send_pid; kill $iperf_pid $send_pid"
sleep 2

# resume NAME: traffic must leave veth0 within 1 s
worst_us=0 worst_step="" stalls=0 steps=0
resume() {
	local p0 p t0 now dt
	read -r p0 <$TXF
	t0=${EPOCHREALTIME/./}
	while :; do
		read -r p <$TXF
		now=${EPOCHREALTIME/./}
		dt=$((now - t0))
		[ "$p" -gt "$p0" ] && break
		if [ $dt -gt $RESUME_US ]; then
			stalls=$((stalls + 1))
			[ $stalls -le 5 ] && tap_diag "cycle $cycle: no traffic 1 s after $1"
			break
		fi
		nap 0.005
	done
	steps=$((steps + 1))
	if [ $dt -gt $worst_us ]; then
		worst_us=$dt
		worst_step="cycle $cycle $1"
	fi
}

# step NAME TC-ARGS...: a tc command that must succeed, then resume
errors=0
step() {
	local name=$1 out
	shift
	if ! out=$("$@" 2>&1); then
		errors=$((errors + 1))
		[ $errors -le 5 ] && tap_diag "cycle $cycle: $name failed: $* :: $out"
	fi
	resume "$name"
}

# backlog_zero: qdisc and classes report backlog 0b 0p
backlog_line() {
	$TC -s qdisc show dev veth0 | awk '/qvisor/{f=1} f && /backlog/{print; exit}'
}
drained() {
	local q c
	q=$(backlog_line)
	c=$($TC -s class show dev veth0 | grep -c 'backlog [1-9]\|backlog 0b [1-9]')
	[[ "$q" == *"backlog 0b 0p"* ]] && [ "$c" -eq 0 ]
}
drain_fail=0 drains=0
check_drain() {
	kill -STOP $iperf_pid $send_pid
	if wait_for 5 drained; then
		drains=$((drains + 1))
	else
		drain_fail=$((drain_fail + 1))
		tap_diag "cycle $cycle: not drained: $(backlog_line)" \
			"$($TC -s class show dev veth0 | grep -B3 'backlog [1-9]\|backlog 0b [1-9]')"
	fi
	kill -CONT $iperf_pid $send_pid
}

queued_deletes=0 rmmods=0 rmmod_fail=0 heavy=0
t_start=${EPOCHREALTIME/./}
cycle=0
while [ $cycle -lt "$CYCLES" ]; do
	cycle=$((cycle + 1))
	case $((cycle % 3)) in
	0) pol="1 >> 2 + 3 + 4 + 5" rate=$RATE_HI lim=600 ceil=0 ;;
	1) pol="1 >> 2 > 3 + 4 >> 5" rate=$RATE_LO lim=400 ceil=$CEIL ;;
	# weights inside a nested group: accounts per level, rounds paced
	# by the group's account
	*) pol="1 >> (2 + 3 >> 4) + 5" rate=$RATE_HI lim=500 ceil=$CEIL ;;
	esac
	cat >/tmp/stress.change <<-EOF
	qdisc change dev veth0 root handle 1: qvisor rate $rate limit $lim policy "$pol"
	class change dev veth0 parent 1: classid 1:$((cycle % 4 + 1)) qvisor weight $((cycle % 7 + 1))
	class change dev veth0 parent 1: classid 1:3 qvisor ceil $ceil burst 20000
	EOF
	step "qdisc and class change" $TC -batch /tmp/stress.change
	# class 1:5 (skb->priority 1:5 of the 5005 flow) fills, then goes
	step "class add" $TC class add dev veth0 parent 1: classid 1:5 qvisor \
		rank fifo weight 2 limit 50
	nap $FILL
	if $TC -s class show dev veth0 classid 1:5 | grep -q 'backlog [0-9]*b [1-9]'; then
		queued_deletes=$((queued_deletes + 1))
	fi
	step "class delete" $TC class del dev veth0 classid 1:5
	# filter churn
	f=$((cycle % 3 + 2))
	cat >/tmp/stress.filter <<-EOF
	filter del dev veth0 parent 1: prio $f
	filter add dev veth0 parent 1: protocol ip prio $f u32 match ip dport $((5000 + f)) 0xffff classid 1:$f
	EOF
	step "filter delete and add" $TC -batch /tmp/stress.filter
	step "qdisc replace" $TC qdisc replace dev veth0 root handle 1: qvisor \
		rate $RATE_HI limit 600 policy "1 >> 2 + 3 + 4 + 5"
	[ $((cycle % 20)) -eq 0 ] && check_drain
	# every HEAVY-th cycle: delete, unload, load, set up again
	if [ $((cycle % HEAVY)) -eq 0 ]; then
		heavy=$((heavy + 1))
		step "qdisc delete" $TC qdisc del dev veth0 root
		if rmmod sch_qvisor 2>/tmp/stress-rmmod.out; then
			rmmods=$((rmmods + 1))
		else
			rmmod_fail=$((rmmod_fail + 1))
			tap_diag "cycle $cycle: rmmod: $(cat /tmp/stress-rmmod.out)"
		fi
		modprobe sch_qvisor || { tap_fail "modprobe sch_qvisor, cycle $cycle"; break; }
		step "qdisc set up again" $TC -batch $BATCH
	fi
	if [ $(((${EPOCHREALTIME/./} - t_start) / 1000000)) -gt "$BUDGET" ]; then
		tap_diag "stopping after $cycle cycles: over the ${BUDGET}s budget"
		break
	fi
done
elapsed=$(((${EPOCHREALTIME/./} - t_start) / 1000000))

# Senders off: everything drains.
kill -STOP $iperf_pid $send_pid
if wait_for 5 drained; then
	tap_ok "backlog and qlen back to zero after the senders stop"
else
	tap_fail "backlog and qlen back to zero after the senders stop" \
		"$($TC -s qdisc show dev veth0)" "$($TC -s class show dev veth0)"
fi
kill -CONT $iperf_pid $send_pid
kill $iperf_pid $send_pid 2>/dev/null
wait $iperf_pid $send_pid 2>/dev/null

if [ "$cycle" -ge "$CYCLES" ] && [ $errors -eq 0 ]; then
	tap_ok "$cycle cycles survived, every command accepted (${elapsed}s)"
else
	tap_fail "$CYCLES cycles survived, every command accepted" \
		"$cycle cycles in ${elapsed}s, $errors commands failed"
fi
if [ $stalls -eq 0 ]; then
	tap_ok "traffic resumed within 1 s after each of $steps changes (worst $((worst_us / 1000)) ms: $worst_step)"
else
	tap_fail "traffic resumed within 1 s after each change" \
		"$stalls of $steps changes stalled"
fi
if [ $drain_fail -eq 0 ] && [ $drains -ge $((cycle / 20)) ]; then
	tap_ok "drained to zero backlog at each of $drains pauses"
else
	tap_fail "drained to zero backlog at each pause" "$drain_fail of $((drains + drain_fail)) did not"
fi
if [ $queued_deletes -ge $((cycle / 2)) ]; then
	tap_ok "class deleted with packets queued in $queued_deletes of $cycle cycles"
else
	tap_fail "class deleted with packets queued in at least half the cycles" \
		"only $queued_deletes of $cycle"
fi
if [ $rmmod_fail -eq 0 ] && [ $rmmods -eq $heavy ] && [ $heavy -ge $((cycle / HEAVY)) ]; then
	tap_ok "qdisc delete, rmmod, modprobe, set up again: $rmmods times (every $HEAVY cycles)"
else
	tap_fail "rmmod/modprobe between cycles" "$rmmod_fail rmmods failed"
fi
klog_check "kernel log: no oops, WARN, BUG or sanitizer report"
$TC qdisc del dev veth0 root 2>/dev/null
tap_check "rmmod sch_qvisor at the end" rmmod sch_qvisor
modprobe sch_qvisor
tap_diag "stress: cycles $cycle, steps $steps, worst resume $((worst_us / 1000)) ms," \
	"queued deletes $queued_deletes, rmmods $rmmods, ${elapsed}s;" \
	"iperf3: $(grep -a -E 'sender|receiver' /tmp/stress-iperf.out | tr -s ' ' | tail -n 2 | tr '\n' ' ')"
tap_done
