#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# A small VM host: three tenant "VMs" (network namespaces) behind a bridge,
# whose uplink carries qvisor.  Tenants are classified by the bridge port
# they came in on (flower indev).  Policy "1 >> 2 + 3" on a 24 Mbit link,
# tenants 2 and 3 weighted 60:40: tenant 1 sends 5 Mbit/s of UDP and
# pings, tenants 2 and 3 saturate with TCP.  The rate leaves the
# emulated guest CPU to spare: at 40 Mbit/s the senders sometimes fell
# behind and let their queue run dry (the other tenant then takes the
# slack, as it should), which moved the split by up to 2 pp (59.3-60.0%,
# once 57.8% in CI); at 24 Mbit/s three runs in a row gave 59.99-60.01%.
# Throughput is measured from the class counters between 1.5 s and
# SECS - 1 s, sampled every half second ("# csv:" lines, plotted by
# `make demo`).  Tenant 1 must get all it sends with a short ping RTT,
# the link must stay busy, and 2 and 3 must split the rest 60:40.
# Lines "# table: ..." are the demo's table.
. "$(dirname "$0")/lib.sh"
measure_suite tenants

RATE_MBIT=${QVISOR_TENANTS_MBIT:-24}
T1_MBIT=5
SECS=${QVISOR_TENANTS_SECS:-8}
SINK=10.9.0.254
declare -A WEIGHT=([1]=1 [2]=60 [3]=40)
declare -A b0 b1 d0 d1

qvisor_loaded || { tap_skip "tenants" "sch_qvisor not loaded"; tap_done; }

# sink <- up1 === up0 (qvisor) <- br0 <- vmNh === eth0 in netns vmN
setup() {
	local i
	$IP netns add qv-sink || return 1
	on_exit "$IP netns del qv-sink"
	$IP link add br0 type bridge || return 1
	on_exit "$IP link del br0"
	$IP link add up0 type veth peer name up1 netns qv-sink || return 1
	on_exit "$IP link del up0"
	$IP link set up0 master br0 && $IP link set up0 up || return 1
	$IP -n qv-sink addr add $SINK/24 dev up1 &&
		$IP -n qv-sink link set up1 up &&
		$IP -n qv-sink link set lo up || return 1
	for i in 1 2 3; do
		$IP netns add qv-vm$i || return 1
		on_exit "$IP netns del qv-vm$i"
		$IP link add vm${i}h type veth peer name eth0 netns qv-vm$i ||
			return 1
		$IP link set vm${i}h master br0 && $IP link set vm${i}h up &&
			$IP -n qv-vm$i addr add 10.9.0.$i/24 dev eth0 &&
			$IP -n qv-vm$i link set eth0 up &&
			$IP -n qv-vm$i link set lo up || return 1
	done
	$IP link set br0 up
}

# The operator's view: one spec file, applied by qvisorctl (libnl-3),
# which creates the qdisc, the classes and the flower filters.
write_spec() {
	cat <<-EOF
	[link]
	dev = up0
	rate = ${RATE_MBIT}mbit
	limit = 1000
	policy = 1 >> 2 + 3
	EOF
	for i in 1 2 3; do
		printf '\n[tenant vm%s]\nclass = %s\nmatch = indev vm%sh\n' \
			$i $i $i
		printf 'rank = dscp\nrange = 0 63\nweight = %s\n' ${WEIGHT[$i]}
	done
}

configure() {
	write_spec >/tmp/demo.spec
	qvisorctl apply /tmp/demo.spec || return 1
	# what apply built must be what the tc commands of the man page build
	$TC qdisc show dev up0 | grep -q "qvisor.*rate ${RATE_MBIT}Mbit.*policy \"1 >> 2 + 3\"" &&
		[ "$($TC class show dev up0 | grep -c 'rank dscp')" = 3 ] &&
		[ "$($TC filter show dev up0 | grep -c 'indev vm')" = 3 ]
}

# sample: "t_ms bytes1 bytes2 bytes3 drops1 drops2 drops3" now
sample() {
	local t out
	t=${EPOCHREALTIME/./}
	out=$($TC -s class show dev up0)
	awk -v t=$((t / 1000)) '
		$1 == "class" { c = $3 }
		/Sent/ { b[c] = $2; d = $7; sub(/,/, "", d); dr[c] = d }
		END { print t, b["1:1"] + 0, b["1:2"] + 0, b["1:3"] + 0,
			     dr["1:1"] + 0, dr["1:2"] + 0, dr["1:3"] + 0 }' <<<"$out"
}

ping_avg() {
	awk -F/ '/min\/avg\/max/ { print $5 }' "$1"
}

tap_check "bridge with three tenant namespaces and an uplink" setup ||
	tap_done
tap_check "qvisorctl apply: qvisor on the uplink, tenants by flower indev" configure ||
	tap_done
wait_for 5 $IP netns exec qv-vm1 ping -c1 -W1 $SINK >/dev/null

for p in 5201 5202 5203; do
	$IP netns exec qv-sink iperf3 -s -D -p $p -1 >/dev/null 2>&1
done
on_exit "killall -q iperf3"
wait_listen qv-sink 5201 5202 5203
$IP netns exec qv-vm1 ping -c 20 -i 0.1 $SINK >/tmp/ping-idle.txt 2>&1

start=${EPOCHREALTIME/./}
$IP netns exec qv-vm1 iperf3 -c $SINK -p 5201 -u -b ${T1_MBIT}M -t $SECS \
	-l 1400 >/tmp/iperf-1.txt 2>&1 &
$IP netns exec qv-vm2 iperf3 -c $SINK -p 5202 -t $SECS >/tmp/iperf-2.txt 2>&1 &
$IP netns exec qv-vm3 iperf3 -c $SINK -p 5203 -t $SECS >/tmp/iperf-3.txt 2>&1 &
sleep 1.5
$IP netns exec qv-vm1 ping -c 30 -i 0.1 $SINK >/tmp/ping-load.txt 2>&1 &
# qvisorctl's per-tenant view over one second of the run
(sleep 1.5; qvisorctl top -n 1 -d 1 up0 >/tmp/ctl-top.txt 2>&1) &
: >/tmp/tenants.samples
# sample until one second before the clients stop
while [ $((${EPOCHREALTIME/./} - start)) -lt $(((SECS - 1) * 1000000)) ]; do
	sample >>/tmp/tenants.samples
	sleep 0.5
done
wait
echo "# csv: t_ms,tenant 1 (tier 1),tenant 2 (weight 60),tenant 3 (weight 40)"
awk '{ printf "# csv: %s,%s,%s,%s\n", $1, $2, $3, $4 }' /tmp/tenants.samples
read -r t0 b0[1] b0[2] b0[3] d0[1] d0[2] d0[3] <<<"$(head -n 1 /tmp/tenants.samples)"
read -r t1 b1[1] b1[2] b1[3] d1[1] d1[2] d1[3] <<<"$(tail -n 1 /tmp/tenants.samples)"

declare -A mbit drops
for i in 1 2 3; do
	mbit[$i]=$(awk -v b=$((b1[$i] - b0[$i])) -v ms=$((t1 - t0)) \
		'BEGIN { printf "%.1f", ms ? b * 8 / ms / 1000 : 0 }')
	drops[$i]=$((d1[$i] - d0[$i]))
done
idle=$(ping_avg /tmp/ping-idle.txt)
load=$(ping_avg /tmp/ping-load.txt)

# share of the '+' group (tenants 2 and 3) against its 60:40 target
grp=$((b1[2] - b0[2] + b1[3] - b0[3]))
fmt='%-7s %-11s %-18s %8s %8s %8s %6s'
echo "# table: $(printf "$fmt" tenant policy class Mbit/s target share drops)"
for i in 1 2 3; do
	case $i in
	1) pol="tier 1" target="-" share="-" ;;
	*) pol="tier 2, +" target="${WEIGHT[$i]}.0%"
	   share=$(awk -v a=$((b1[$i] - b0[$i])) -v t=$grp \
		'BEGIN { printf "%.1f%%", t ? 100 * a / t : 0 }') ;;
	esac
	echo "# table: $(printf "$fmt" $i "$pol" "1:$i indev vm${i}h" \
		"${mbit[$i]}" "$target" "$share" "${drops[$i]}")"
done
echo "# table: ping RTT of tenant 1: idle ${idle:-?} ms, under load ${load:-?} ms"
# "top" without its screen-clearing escapes, for the demo's output
sed "s/$(printf '\033')\[[0-9;]*[A-Za-z]//g" /tmp/ctl-top.txt | sed 's/^/# ctl: /'
$TC -s qdisc show dev up0 | sed 's/^/# /'
$TC -s class show dev up0 | sed 's/^/# /'

# qvisorctl top saw all three tenants sending at a rate
rated=$(sed "s/$(printf '\033')\[[0-9;]*[A-Za-z]//g" /tmp/ctl-top.txt |
	grep -cE '^1:[123] .*[0-9.]+[mk]bit ')
if [ "$rated" = 3 ]; then
	tap_ok "qvisorctl top shows the three tenants with their rates"
else
	tap_fail "qvisorctl top shows the three tenants with their rates" \
		"$rated rows with a rate" "$(cat -v /tmp/ctl-top.txt)"
fi
if awk -v m="${mbit[1]}" -v t=$T1_MBIT 'BEGIN { exit !(m >= 0.9 * t) }'; then
	tap_ok "tier-1 tenant gets what it sends (${mbit[1]} of $T1_MBIT Mbit/s)"
else
	tap_fail "tier-1 tenant gets what it sends" \
		"measured ${mbit[1]} Mbit/s of $T1_MBIT" "$(cat /tmp/iperf-1.txt)"
fi
s2=$(awk -v a=$((b1[2] - b0[2])) -v t=$grp 'BEGIN { printf "%.2f", t ? 100 * a / t : 0 }')
if awk -v s="$s2" 'BEGIN { exit !(s >= 58 && s <= 62) }'; then
	tap_ok "tenants 2 and 3 split their tier 60:40 within 2 pp ($s2%)"
else
	tap_fail "tenants 2 and 3 split their tier 60:40 within 2 pp" \
		"tenant 2 got $s2% of the group's bytes" \
		"$(tail -4 /tmp/iperf-2.txt)" "$(tail -4 /tmp/iperf-3.txt)"
fi
if awk -v t="${mbit[1]}" -v a="${mbit[2]}" -v b="${mbit[3]}" -v r=$RATE_MBIT \
	'BEGIN { s = t + a + b; exit !(s >= 0.75 * r && s <= 1.05 * r) }'; then
	tap_ok "link used at its rate ($RATE_MBIT Mbit/s)"
else
	tap_fail "link used at its rate" \
		"sum ${mbit[1]} + ${mbit[2]} + ${mbit[3]} Mbit/s vs $RATE_MBIT"
fi
if [ -n "$idle" ] && [ -n "$load" ] &&
	awk -v i="$idle" -v l="$load" 'BEGIN { exit !(l <= i + 5) }'; then
	tap_ok "tier-1 ping RTT under load within 5 ms of idle ($idle -> $load ms)"
else
	tap_fail "tier-1 ping RTT under load within 5 ms of idle" \
		"idle ${idle:-none} ms, load ${load:-none} ms" \
		"$(tail -3 /tmp/ping-load.txt)"
fi
# The class xstats "share" (bytes since the synthesis, derived at dump
# time from the class's byte counter): tenant 1 is alone in its group,
# 2 and 3 split their group's bytes as their Sent counters do (no class
# sent before the last class was added)
cls_share() {
	$TC -s class show dev up0 classid "1:$1" | tr ' ' '\n' |
		awk '$0 == "share" { getline; sub(/%/, ""); print; exit }'
}
cls_sent() {
	$TC -s class show dev up0 classid "1:$1" | awk '/Sent/ { print $2; exit }'
}
sh1=$(cls_share 1) sh2=$(cls_share 2) sh3=$(cls_share 3)
st2=$(cls_sent 2) st3=$(cls_sent 3)
if awk -v a="$sh1" -v b="$sh2" -v c="$sh3" -v x="$st2" -v y="$st3" \
	'BEGIN { w = 100 * x / (x + y)
		 exit !(a == 100 && b - w < 0.05 && w - b < 0.05 &&
			b + c > 99.98 && b + c < 100.02) }'; then
	tap_ok "xstats share: tenant 1 ${sh1}%, tenants 2 and 3 ${sh2}% and ${sh3}% (Sent $st2 and $st3 bytes)"
else
	tap_fail "xstats share follows the class byte counters" \
		"shares 1:1 ${sh1:-none} 1:2 ${sh2:-none} 1:3 ${sh3:-none}" \
		"Sent 1:2 ${st2:-none} 1:3 ${st3:-none}"
fi
tap_done
