#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# qvisorctl watch: tenants that survive their taps.  "VMs" are taps on a
# bridge whose uplink carries qvisor; tools/qvtap writes their frames into
# the taps as QEMU would.  The spec matches VM 1 by tap name (iface), VM 2
# by guest MAC (flower src_mac on the uplink), and makes one tenant per
# vnet* tap from a template.  Checked:
# - a tap deleted and re-created (new ifindex) keeps its tenant: its
#   filter is back within 1 s of the tap's creation and the frames
#   written into it reach its class within 1 s (both measured);
# - a tap created while watch runs gets a template tenant and its frames;
# - the qdisc deleted by hand is restored within 1 s;
# - 100 tap create/delete cycles leave no filter or class behind;
# - SIGHUP applies a changed weight in place (counters kept);
# - readiness (Type=notify): READY=1 after the first apply, RELOADING=1
#   then READY=1 around a reload (tools/qvnotify plays systemd);
# - SIGTERM exits 0 and leaves the configuration in place.
# On the sanitizer kernel (QVISOR_SLOW=1) the time limits are 20 s.
. "$(dirname "$0")/lib.sh"

CTL=${QVISORCTL:-qvisorctl}
QVTAP=${QVTAP:-qvtap}
SINK=10.9.2.254
UP=wup0
OUT=${TMPDIR:-/tmp}/qv-watch.$$
CYCLES=${QVISOR_WATCH_CYCLES:-100}
# time limits: 1 s to reclassify, restore; x20 on the sanitizer kernel
S=1
slow_guest && S=20
LIMIT_MS=$((1000 * S))
mkdir -p "$OUT"
on_exit "rm -rf $OUT"

qvisor_loaded || { tap_skip "watch" "sch_qvisor not loaded"; tap_done; }
for t in $CTL $QVTAP; do
	command -v "$t" >/dev/null || { tap_skip "watch" "$t missing"; tap_done; }
done
modprobe tun 2>/dev/null
modprobe cls_flower 2>/dev/null
echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6 2>/dev/null

mktap() {
	$IP tuntap add dev "$1" mode tap && $IP link set "$1" master wbr0 &&
		$IP link set "$1" up
}

setup() {
	$IP netns add qv-wsink || return 1
	on_exit "$IP netns del qv-wsink"
	$IP link add wbr0 type bridge || return 1
	on_exit "$IP link del wbr0"
	$IP link add $UP type veth peer name wup1 netns qv-wsink || return 1
	$IP link set $UP master wbr0 && $IP link set $UP up &&
		$IP -n qv-wsink addr add $SINK/24 dev wup1 &&
		$IP -n qv-wsink link set wup1 up || return 1
	for t in vmtap1 vmtap2 vnet1; do
		mktap $t || return 1
		on_exit "$IP link del $t"
	done
	$IP link set wbr0 up
}

cat >"$OUT/vms.spec" <<EOF
[link]
dev = $UP
policy = 1 + 2 + 3
default = 3

[tenant vm1]
class = 1
match = iface vmtap1
weight = 50

[tenant vm2]                    # qvtap -s 10.9.2.2 sends from 02:00:0a:09:02:02
class = 2
match = mac 02:00:0a:09:02:02
weight = 20

[tenant rest]
class = 3
weight = 30

[template vm]
iface = vnet*
classes = 100-10f
share = rest
rank = fifo
EOF

# packets counted in class 1:MINOR of the uplink
cls_pkts() {
	$TC -s class show dev $UP classid "1:$1" |
		awk '/Sent/ { print $4; exit }'
}

# send frames for $3 seconds (2000/s) into tap $1 from 10.9.2.$2, after
# a warm-up of ${4:-500} ms
send() {
	$QVTAP -i "$1" -m "$mac" -s "10.9.2.$2" -d $SINK -p 5000 -l 200 \
		-t "$3" -r 2000 -w "${4:-500}" >>"$OUT/qvtap.txt" 2>&1
}

# ms from T0 (usec, the tap exists) until a filter names indev $1 (FMS),
# and from T1 (the sender starts) until class 1:$2 counts more than $3
# packets (PMS); polls every 20 ms, up to 3 s
latencies() {
	local now n
	FMS="" PMS=""
	while :; do
		now=${EPOCHREALTIME/./}
		[ -z "$FMS" ] && $TC filter show dev $UP | grep -qE "indev $1( |\$)" &&
			FMS=$(((now - T0) / 1000))
		n=$(cls_pkts "$2")
		[ -z "$PMS" ] && [ "${n:-0}" -gt "$3" ] && PMS=$(((now - T1) / 1000))
		[ -n "$FMS" ] && [ -n "$PMS" ] && return 0
		[ $((now - T0)) -lt $((3000000 * S)) ] || return 1
		sleep 0.02
	done
}

nfilters() {
	$TC filter show dev $UP | grep -c 'classid\|flowid'
}

tap_check "bridge with taps and an uplink" setup || tap_done
mac=$($IP -n qv-wsink link show wup1 | awk '/ether/ { print $2 }')

# systemd's side of Type=notify (tools/qvnotify)
NOTIFY=""
if command -v qvnotify >/dev/null; then
	qvnotify "$OUT/notify.sock" 120 >"$OUT/notify.log" 2>&1 &
	NPID=$!
	on_exit "kill $NPID"
	wait_for $((2 * S)) test -S "$OUT/notify.sock" && NOTIFY=$OUT/notify.sock
fi
NOTIFY_SOCKET=$NOTIFY "$CTL" watch "$OUT/vms.spec" >"$OUT/watch.log" 2>&1 &
WPID=$!
on_exit "kill $WPID"
if wait_for $((5 * S)) sh -c "$TC class show dev $UP | grep -q '1:100 '"; then
	tap_ok "watch applied the spec: vmtap1 by name, vnet1 from the template"
else
	tap_fail "watch applied the spec" "$(cat "$OUT/watch.log")" \
		"$($TC class show dev $UP)"
	tap_done
fi

if [ -z "$NOTIFY" ]; then
	tap_skip "sd_notify readiness" "no qvnotify"
elif wait_for $((2 * S)) grep -q "READY=1" "$OUT/notify.log"; then
	tap_ok "sd_notify: READY=1 once applied ($(head -n 1 "$OUT/notify.log"))"
else
	tap_fail "sd_notify: READY=1 once applied" "$(cat "$OUT/notify.log")"
fi

# the MAC match, and the name match before any re-creation
b1=$(cls_pkts 1) b2=$(cls_pkts 2)
send vmtap1 1 0.2
send vmtap2 2 0.2
a1=$(cls_pkts 1) a2=$(cls_pkts 2)
if [ $((a1 - b1)) -gt 100 ] && [ $((a2 - b2)) -gt 100 ]; then
	tap_ok "vmtap1 by iface name ($((a1 - b1)) pkts), vmtap2 by guest MAC ($((a2 - b2)) pkts)"
else
	tap_fail "vmtap1 by iface, vmtap2 by MAC" "1:1 +$((a1 - b1)) 1:2 +$((a2 - b2))" \
		"$($TC -s class show dev $UP)" "$($TC filter show dev $UP)"
fi

# 1. re-create vmtap1: new ifindex, same tenant within 1 s
old_idx=$(cat /sys/class/net/vmtap1/ifindex)
$IP link del vmtap1
sleep 0.3
before=$(cls_pkts 1)
# as QEMU and its network script: the tap, then its bridge port, then
# frames at once
$IP tuntap add dev vmtap1 mode tap
T0=${EPOCHREALTIME/./}
$IP link set vmtap1 master wbr0 && $IP link set vmtap1 up
new_idx=$(cat /sys/class/net/vmtap1/ifindex)
T1=${EPOCHREALTIME/./}
send vmtap1 1 3 0 &
spid=$!
latencies vmtap1 1 "$before"
rc=$?
kill "$spid" 2>/dev/null
wait "$spid" 2>/dev/null
echo "# table: watch: tap re-created (ifindex $old_idx -> $new_idx): its filter ${FMS:-?} ms after the tap appeared, its frames in its class ${PMS:-?} ms after the sender started"
if [ $rc -eq 0 ] && [ "$FMS" -le $LIMIT_MS ] && [ "$PMS" -le $LIMIT_MS ] &&
	[ "$old_idx" != "$new_idx" ]; then
	tap_ok "re-created vmtap1 (ifindex $old_idx -> $new_idx): filter after $FMS ms, frames in 1:1 $PMS ms after the sender started"
else
	tap_fail "re-created vmtap1 classified into 1:1 within 1 s" \
		"ifindex $old_idx -> $new_idx, filter ${FMS:-never} ms, frames ${PMS:-never} ms" \
		"$(cat "$OUT/watch.log")" "$($TC filter show dev $UP)"
fi

# 2. a new tap gets a template tenant
mktap vnet7
on_exit "$IP link del vnet7"
if wait_for $((2 * S)) sh -c "$TC class show dev $UP | grep -q '1:101 '"; then
	before=$(cls_pkts 101)
	send vnet7 7 0.2
	after=$(cls_pkts 101)
	if [ $((after - before)) -gt 100 ]; then
		tap_ok "new tap vnet7: template tenant 1:101, $((after - before)) pkts in it"
	else
		tap_fail "new tap vnet7 classified into 1:101" "+$((after - before))" \
			"$($TC filter show dev $UP)"
	fi
else
	tap_fail "new tap vnet7 gets a template class" "$(cat "$OUT/watch.log")" \
		"$($TC class show dev $UP)"
fi

# 3. the qdisc deleted by hand comes back
$TC qdisc del dev $UP root
t0=${EPOCHREALTIME/./}
if wait_for $((3 * S)) sh -c "$TC class show dev $UP | grep -q '1:101 '"; then
	ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
	before=$(cls_pkts 1)
	send vmtap1 1 0.2
	after=$(cls_pkts 1)
	if [ "$ms" -le $LIMIT_MS ] && [ $((after - before)) -gt 100 ]; then
		tap_ok "qdisc deleted by hand restored after $ms ms, vmtap1 classified again"
	else
		tap_fail "qdisc restored within 1 s and classifying" \
			"$ms ms, +$((after - before)) pkts" "$($TC filter show dev $UP)"
	fi
else
	tap_fail "qdisc deleted by hand restored" "$(cat "$OUT/watch.log")" \
		"$($TC qdisc show dev $UP)"
fi

# 4. create/delete cycles leak nothing
sleep 0.5
f0=$(nfilters)
c0=$($TC class show dev $UP | wc -l)
t0=${EPOCHREALTIME/./}
# one ip process per cycle: a template tap comes and goes, and vmtap2
# (the MAC tenant's tap) is re-created
printf '%s\n' "tuntap add dev vnet9 mode tap" "link set vnet9 up" \
	"link del vmtap2" "tuntap add dev vmtap2 mode tap" \
	"link set vmtap2 master wbr0" "link set vmtap2 up" "link del vnet9" \
	>"$OUT/cycle.ip"
for i in $(seq 1 "$CYCLES"); do
	$IP -batch "$OUT/cycle.ip"
done
ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
settled() {
	[ "$(nfilters)" = "$f0" ] &&
		[ "$($TC class show dev $UP | wc -l)" = "$c0" ]
}
if wait_for $((3 * S)) settled && kill -0 $WPID 2>/dev/null; then
	tap_ok "$CYCLES tap create/delete cycles ($ms ms): still $f0 filters, $((c0)) classes, watch alive"
else
	tap_fail "$CYCLES create/delete cycles leave no filter behind" \
		"filters $f0 -> $(nfilters), classes $c0 -> $($TC class show dev $UP | wc -l)" \
		"$(tail -n 30 "$OUT/watch.log")" "$($TC filter show dev $UP)"
fi
echo "# watch log lines over the cycles: $(wc -l <"$OUT/watch.log"), applies: $(grep -c 'applied (' "$OUT/watch.log"), failed applies: $(grep -c 'apply failed' "$OUT/watch.log")"

# 5. SIGHUP: a changed weight, in place
before=$(cls_pkts 1)
sed -i 's/^weight = 50/weight = 70/' "$OUT/vms.spec"
kill -HUP $WPID
if wait_for $((2 * S)) sh -c "$TC class show dev $UP classid 1:1 | grep -q 'weight 70'" &&
	[ "$before" -gt 0 ] && [ "$(cls_pkts 1)" -ge "$before" ]; then
	tap_ok "SIGHUP: weight 50 -> 70 applied in place (class counters kept: $(cls_pkts 1) >= $before pkts)"
else
	tap_fail "SIGHUP applies the new weight in place" \
		"$($TC -s class show dev $UP classid 1:1)" "$(tail -n 5 "$OUT/watch.log")"
fi

if [ -n "$NOTIFY" ]; then
	if wait_for $((2 * S)) sh -c "grep -A1 RELOADING=1 $OUT/notify.log | grep -q READY=1"; then
		tap_ok "sd_notify: RELOADING=1 then READY=1 around the reload"
	else
		tap_fail "sd_notify around the reload" "$(cat "$OUT/notify.log")"
	fi
fi

# 6. SIGTERM: exits 0, the configuration stays
kill -TERM $WPID
wait $WPID
rc=$?
if [ $rc -eq 0 ] && $TC qdisc show dev $UP | grep -q qvisor; then
	tap_ok "SIGTERM: watch exits 0, qvisor stays on $UP"
else
	tap_fail "SIGTERM exits cleanly" "exit $rc" "$($TC qdisc show dev $UP)"
fi
sed -n '1,14p' "$OUT/watch.log" | sed 's/^/# watch log: /'
tap_done
