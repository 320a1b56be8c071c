#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# qvisor's tracepoints (include/trace/events/qvisor.h) through tracefs, as
# perf trace, bpftrace and trace-cmd read them: behind a blocker, packets
# of "1 >> 2" fill a 4-packet queue, so tenant 1's packets push tenant 2's
# out.  Checks the fields of qvisor_synth, qvisor_enqueue (tenant, rank,
# joint rank), qvisor_drop (reason pushout, the victim's tenant and rank)
# and qvisor_dequeue, and that the events agree with the counters of tc -s.
. "$(dirname "$0")/lib.sh"

NS=qv-trace
DEV=veth0
DST=10.0.0.2
RATE=200kbit
OUT=${TMPDIR:-/tmp}/qv-trace.$$
mkdir -p "$OUT"
on_exit "rm -rf $OUT"

udp_test_setup "tracepoints"

T=/sys/kernel/tracing
[ -d $T/events ] || mount -t tracefs nodev $T 2>/dev/null
if [ ! -d $T/events/qvisor ]; then
	tap_skip "tracepoints" "no $T/events/qvisor (tracefs or CONFIG_TRACING)"
	tap_done
fi
tap_ok "events/qvisor has $(ls $T/events/qvisor | grep -c qvisor_) events"
on_exit "echo 0 >$T/events/qvisor/enable; echo >$T/trace"

echo >$T/trace
echo 1 >$T/events/qvisor/enable
# tiers: tenant 1 ranks 0..15 -> joint 0..15, tenant 2 -> joint 16..31
if ! { setup_qdisc limit 4 policy "1 >> 2" &&
	add_class 1 rank prio range 0 15 levels 16 &&
	add_class 2 rank prio range 0 15 levels 16; }; then
	tap_fail "setup" "$($TC qdisc show dev $DEV)"
	tap_done
fi
# behind the blocker (implicit tenant): four of tenant 2 fill the queue,
# then three of tenant 1 push out tenant 2's worst (ranks 9, 7, 5)
SPEC="5002:prio=5,5002:prio=9,5002:prio=1,5002:prio=7"
SPEC="$SPEC,5001:prio=3,5001:prio=0,5001:prio=12"
if ! start_recv 5; then
	tap_fail "qvrecv" "$(cat "$OUT/recv.err")"
	tap_done
fi
qvsend -d $DST -B 1400 "$SPEC" 2>"$OUT/send.err" ||
	tap_fail "qvsend" "$(cat "$OUT/send.err")"
wait $RPID
echo 0 >$T/events/qvisor/enable
cat $T/trace >"$OUT/trace"

# ev NAME PATTERN: how many NAME events match the extended regex PATTERN
ev() { grep -E " $1: qdisc=1: $2" "$OUT/trace" | wc -l; }
# want NAME COUNT PATTERN DESCRIPTION
want() {
	local got
	got=$(ev "$1" "$3")
	if [ "$got" = "$2" ]; then
		tap_ok "$4 ($got)"
	else
		tap_fail "$4" "$1 events matching '$3': $got, want $2" \
			"$(grep -E " qvisor_" "$OUT/trace" | sed 's/^.*qvisor_/qvisor_/' | head -n 40)"
	fi
}

want qvisor_synth 1 "tenants=2 width=[0-9]+ tiers=[34] replaced=0" \
	"qvisor_synth: the second class's commit, 2 tenants"
want qvisor_enqueue 1 "tenant=2 rank=9 joint=25 " \
	"qvisor_enqueue: tenant 2 rank 9 at joint 16 + 9"
want qvisor_enqueue 1 "tenant=1 rank=12 joint=12 " \
	"qvisor_enqueue: tenant 1 rank 12 at joint 12"
want qvisor_drop 1 "tenant=2 rank=9 joint=25 reason=pushout" \
	"qvisor_drop: tenant 2's worst (rank 9) pushed out first"
want qvisor_drop 3 "tenant=2 .*reason=pushout" \
	"qvisor_drop: three push-outs, all of tenant 2"
want qvisor_dequeue 1 "tenant=1 rank=0 joint=0 " \
	"qvisor_dequeue: tenant 1's best"
# the blocker and the four survivors leave; the events count them
deq=$(ev qvisor_dequeue "tenant=")
sent=$($TC -s qdisc show dev $DEV | awk '/Sent/ { print $4; exit }')
drops=$($TC -s qdisc show dev $DEV | awk '/dropped/ { sub(",", "", $7); print $7; exit }')
if [ "$deq" = "$sent" ] && [ "$deq" = 5 ]; then
	tap_ok "one qvisor_dequeue per packet sent ($deq)"
else
	tap_fail "one qvisor_dequeue per packet sent" "events $deq, tc -s sent $sent, want 5"
fi
ndrop=$(ev qvisor_drop "tenant=")
if [ "$ndrop" = "$drops" ]; then
	tap_ok "one qvisor_drop per drop of tc -s ($ndrop)"
else
	tap_fail "one qvisor_drop per drop of tc -s" "events $ndrop, tc -s dropped $drops" \
		"$($TC -s qdisc show dev $DEV)"
fi
order=$(awk '$2 != 0 { print $2 }' "$OUT/got" | tr '\n' ' ')
if [ "$order" = "1 1 1 2 " ]; then
	tap_ok "arrival order: tenant 1 first ($order)"
else
	tap_fail "arrival order: tenant 1 first" "got: $order" "$(cat "$OUT/got")"
fi
tap_done
