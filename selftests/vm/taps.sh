#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Two "VMs" on real tap devices, as QEMU attaches them: tools/qvtap writes
# their UDP frames into taps that are ports of a bridge; qvisor sits on the
# bridge's uplink and tells the VMs apart with flower indev.  Weights start
# at 50:50 and change to 60:40 half way; the per-tenant throughput is
# sampled every half second ("# csv:" lines, for tools/plot-shares.sh) and
# each phase's share must be within 2 pp of its target.
. "$(dirname "$0")/lib.sh"

QVTAP=${QVTAP:-qvtap}
SINK=10.9.1.254
RATE_MBIT=4
PHASE=${QVISOR_TAPS_PHASE:-5}
STEP=0.5

qvisor_loaded || { tap_skip "taps" "sch_qvisor not loaded"; tap_done; }
command -v "$QVTAP" >/dev/null || { tap_skip "taps" "no qvtap tool"; tap_done; }
modprobe tun 2>/dev/null
echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6 2>/dev/null

setup() {
	local i
	$IP netns add qv-tsink || return 1
	on_exit "$IP netns del qv-tsink"
	$IP link add tbr0 type bridge || return 1
	on_exit "$IP link del tbr0"
	$IP link add tup0 type veth peer name tup1 netns qv-tsink || return 1
	$IP link set tup0 master tbr0 && $IP link set tup0 up &&
		$IP -n qv-tsink addr add $SINK/24 dev tup1 &&
		$IP -n qv-tsink link set tup1 up || return 1
	for i in 1 2; do
		$IP tuntap add dev vmtap$i mode tap || return 1
		on_exit "$IP tuntap del dev vmtap$i mode tap"
		$IP link set vmtap$i master tbr0 && $IP link set vmtap$i up ||
			return 1
	done
	$IP link set tbr0 up
}

configure() {
	local i
	$TC qdisc add dev tup0 root handle 1: qvisor rate ${RATE_MBIT}mbit \
		limit 1000 noaqm policy "1 + 2" || return 1
	for i in 1 2; do
		$TC class add dev tup0 parent 1: classid 1:$i qvisor rank fifo \
			weight 50 &&
		$TC filter add dev tup0 parent 1: protocol ip prio $i \
			flower indev vmtap$i classid 1:$i || return 1
	done
}

# print "t_ms bytes1 bytes2" now
sample() {
	local t out
	t=${EPOCHREALTIME/./}
	out=$($TC -s class show dev tup0)
	awk -v t=$((t / 1000)) '
		$1 == "class" { c = $3 }
		/Sent/ { b[c] = $2 }
		END { print t, b["1:1"] + 0, b["1:2"] + 0 }' <<<"$out"
}

tap_check "bridge with two tap ports and an uplink" setup || tap_done
tap_check "qvisor on the uplink, VMs by flower indev on their taps" \
	configure || tap_done

mac=$($IP -n qv-tsink link show tup1 | awk '/ether/ { print $2 }')
secs=$((4 * PHASE + 10))	# outlives the sampling; stopped below
pids=""
for i in 1 2; do
	# 1.5x the link each: both stay backlogged
	$QVTAP -i vmtap$i -m "$mac" -s 10.9.1.$i -d $SINK -p $((5000 + i)) \
		-l 1000 -t $secs -r $((RATE_MBIT * 1000000 * 3 / 2 / 8 / 1042)) \
		>/tmp/qvtap-$i.txt 2>&1 &
	pids="$pids $!"
done
sleep 1.5
: >/tmp/taps.csv
end=$(awk -v s="$PHASE" 'BEGIN { print s / 0.5 }')
for n in $(seq 1 "$end"); do sample >>/tmp/taps.csv; sleep $STEP; done
$TC class change dev tup0 classid 1:1 qvisor weight 60 &&
	$TC class change dev tup0 classid 1:2 qvisor weight 40
echo "change $(sample)" >>/tmp/taps.csv
for n in $(seq 1 "$end"); do sample >>/tmp/taps.csv; sleep $STEP; done
kill -INT $pids
wait
cat /tmp/qvtap-*.txt | sed 's/^/# /'
echo "# csv: t_ms,tenant1_bytes,tenant2_bytes,phase"
awk '/^change/ { p = 1; next } { printf "# csv: %s,%s,%s,%s\n", $1, $2, $3, p ? "60:40" : "50:50" }' /tmp/taps.csv

# share of tenant 1 between two samples
share_between() {
	awk -v a="$1" -v b="$2" '
		NR == a { t1 = $2; t2 = $3 }
		NR == b { d1 = $2 - t1; d2 = $3 - t2 }
		END { printf "%.2f %.2f", 100 * d1 / (d1 + d2), (d1 + d2) * 8 / 1e6 }' \
		/tmp/taps-samples.csv
}
grep -v '^change' /tmp/taps.csv >/tmp/taps-samples.csv
# phase 1: all samples; phase 2: from one second after the change
read -r s1 m1 <<<"$(share_between 1 "$end")"
read -r s2 m2 <<<"$(share_between $((end + 2)) $((2 * end)))"
echo "# table: taps 50:50: tenant 1 $s1% (target 50%), $m1 Mbit in the phase"
echo "# table: taps 60:40 (after 1 s): tenant 1 $s2% (target 60%), $m2 Mbit in the phase"
if awk -v s="$s1" 'BEGIN { exit !(s >= 48 && s <= 52) }'; then
	tap_ok "VMs on taps share 50:50 within 2 pp ($s1%)"
else
	tap_fail "VMs on taps share 50:50 within 2 pp" "tenant 1: $s1%" \
		"$(cat /tmp/qvtap-*.txt)" "$($TC -s class show dev tup0)"
fi
if awk -v s="$s2" 'BEGIN { exit !(s >= 58 && s <= 62) }'; then
	tap_ok "after changing the weights to 60:40, within 2 pp in 1 s ($s2%)"
else
	tap_fail "after changing the weights to 60:40, within 2 pp in 1 s" \
		"tenant 1: $s2%" "$($TC -s class show dev tup0)"
fi
tap_done
