#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# qvisorctl: apply a spec over netlink (create, then update in place), roll
# back when a late step fails (the last tenant's filter names a missing
# ingress device; checked on an existing qvisor and on a bare device),
# show --json against tc's own numbers, top.
#
# Tenants on veth0 (root netns, qvsend) are told apart by flower dscp
# (tenant 1), fw mark (tenant 2) and flower src prefix (tenant 3), so the
# per-class packet counts are exact: 20, 30 and 40 packets.
. "$(dirname "$0")/lib.sh"

NS=qv-ctl
DEV=veth0
DST=10.0.0.2
CTL=${QVISORCTL:-qvisorctl}
OUT=${TMPDIR:-/tmp}/qv-ctl.$$
mkdir -p "$OUT"
on_exit "rm -rf $OUT"

if ! qvisor_loaded; then
	tap_skip "qvisorctl tests" "sch_qvisor not loaded"
	tap_done
fi
for t in $CTL qvsend; do
	command -v $t >/dev/null || { tap_skip "qvisorctl tests" "$t missing"; tap_done; }
done
for m in cls_flower cls_fw; do
	modprobe $m >/dev/null 2>&1
done
if ! tap_check "veth pair across a netns" veth_pair $NS $DEV veth1 10.0.0.1 $DST; then
	tap_done
fi
mac=$($IP -n $NS link show veth1 | awk '/link\/ether/{print $2}')
$IP neigh replace $DST lladdr "$mac" dev $DEV nud permanent
echo 1 >/proc/sys/net/ipv6/conf/$DEV/disable_ipv6 2>/dev/null

# --- spec A: create -------------------------------------------------------
cat >"$OUT/a.spec" <<EOF
[link]
dev = $DEV
rate = 20mbit
limit = 2000
policy = 1 >> 2 + 3

[tenant voice]
class = 1
match = dscp 46
rank = prio
range = 0 7
levels = 8

[tenant web]
class = 2
match = mark 2
rank = prio
range = 0 15
levels = 16
weight = 60

[tenant bulk]
class = 3
match = src 10.0.0.1/32
rank = prio
range = 0 15
levels = 16
weight = 40
ceil = 10mbit
EOF

tap_check "plan spec A" $CTL plan "$OUT/a.spec"
$TC qdisc del dev $DEV root >/dev/null 2>&1
if ! tap_check "apply spec A (create)" $CTL apply "$OUT/a.spec"; then
	tap_done
fi

# what tc sees: qdisc options, class options, filters
q=$($TC qdisc show dev $DEV)
if echo "$q" | grep -q 'qvisor 1: root' && echo "$q" | grep -q 'rate 20Mbit' &&
	echo "$q" | grep -q 'policy "1 >> 2 + 3"' && echo "$q" | grep -q 'limit 2000'; then
	tap_ok "tc shows qvisor 1: rate 20Mbit limit 2000 policy \"1 >> 2 + 3\""
else
	tap_fail "tc shows the spec's qdisc" "$q"
fi
c=$($TC class show dev $DEV)
if [ "$(echo "$c" | grep -c '^class qvisor 1:[123] ')" = 3 ] &&
	echo "$c" | grep '1:2 ' | grep -q 'weight 60' &&
	echo "$c" | grep '1:3 ' | grep -q 'weight 40' &&
	echo "$c" | grep '1:3 ' | grep -q 'ceil 10Mbit' &&
	echo "$c" | grep '1:1 ' | grep -q 'range 0 7'; then
	tap_ok "tc shows classes 1:1 1:2 1:3 with the spec's range, weights, ceil"
else
	tap_fail "tc shows the spec's classes" "$c"
fi
f=$($TC filter show dev $DEV)
if [ "$(echo "$f" | grep -c 'classid 1:1 ')" -ge 1 ] &&
	echo "$f" | grep -q 'ip_tos 184/0xfc' &&
	echo "$f" | grep -q 'handle 0x2 classid 1:2' &&
	echo "$f" | grep -q 'src_ip 10.0.0.1' &&
	[ "$(echo "$f" | grep -c 'pref 10[012] ')" -ge 3 ]; then
	tap_ok "tc shows flower dscp, fw mark 2, flower src filters at prefs 100-102"
else
	tap_fail "tc shows the spec's filters" "$f"
fi

# --- traffic: exact per-class counts, then show --json vs tc -------------
qvsend -d $DST "5001:dscp=46x20,5002:mark=2x30,5003:prio=2x40" 2>"$OUT/send.err" ||
	tap_diag "qvsend: $(cat "$OUT/send.err")"
wait_for 5 sh -c "[ \"\$($TC -s qdisc show dev $DEV | awk '/backlog/{print \$3; exit}')\" = 0p ]"

# tc_class_stat MINOR: "BYTES PKTS DROPS" from tc -s class show (text)
tc_class_stat() {
	$TC -s class show dev $DEV | awk -v want="1:$1" '
		/^class / { cur = $3 }
		cur == want && /Sent/ { d = $7; sub(",", "", d); print $2, $4, d; exit }'
}
# json_num JSON KEY: first number of "KEY":N
json_num() {
	echo "$1" | grep -o "\"$2\":[0-9]*" | head -n1 | cut -d: -f2
}
# ctl_class JSONFILE MINOR KEY
ctl_class() {
	grep "\"class\":\"1:$2\"" "$1" | grep -o "\"$3\":[0-9]*" | head -n1 | cut -d: -f2
}

$CTL show --json -d 0 $DEV >"$OUT/show.json" 2>"$OUT/show.err"
tcj=$($TC -j -s qdisc show dev $DEV)
head1=$(head -n1 "$OUT/show.json")
ok=1
for k in bytes packets drops backlog qlen overlimits requeues; do
	a=$(json_num "$head1" $k)
	b=$(json_num "$tcj" $k)
	if [ -z "$a" ] || [ "$a" != "$b" ]; then
		ok=0
		tap_diag "qdisc $k: qvisorctl '$a' tc -j '$b'"
	fi
done
if [ $ok = 1 ] && [ "$(json_num "$tcj" packets)" -ge 90 ]; then
	tap_ok "show --json qdisc bytes/packets/drops/backlog/qlen equal tc -j -s ($(json_num "$tcj" packets) packets)"
else
	tap_fail "show --json qdisc counters equal tc -j -s" "$head1" "$tcj" "$(cat "$OUT/show.err")"
fi
ok=1
for m in 1 2 3; do
	set -- $(tc_class_stat $m)
	a="$(ctl_class "$OUT/show.json" $m bytes) $(ctl_class "$OUT/show.json" $m packets) $(ctl_class "$OUT/show.json" $m drops)"
	if [ "$a" != "$1 $2 $3" ]; then
		ok=0
		tap_diag "class 1:$m: qvisorctl '$a' tc '$1 $2 $3'"
	fi
done
p1=$(ctl_class "$OUT/show.json" 1 packets)
p2=$(ctl_class "$OUT/show.json" 2 packets)
p3=$(ctl_class "$OUT/show.json" 3 packets)
if [ $ok = 1 ] && [ "$p1 $p2 $p3" = "20 30 40" ]; then
	tap_ok "show --json per-class bytes/packets/drops equal tc -s class; 20/30/40 packets by dscp/mark/src"
else
	tap_fail "show --json per-class counters" "packets: $p1 $p2 $p3 (want 20 30 40)" \
		"$(cat "$OUT/show.json")" "$($TC -s class show dev $DEV)" "$($TC -s filter show dev $DEV)"
fi
t2=$(ctl_class "$OUT/show.json" 2 target_ppm)
t3=$(ctl_class "$OUT/show.json" 3 target_ppm)
w3=$(ctl_class "$OUT/show.json" 3 offset)
if [ "$t2 $t3" = "600000 400000" ] && [ "$(ctl_class "$OUT/show.json" 1 target_ppm)" = 1000000 ] &&
	[ "$w3" = 8 ]; then
	tap_ok "show --json: targets 60%/40% in the 2 + 3 group, tenant 3 at joint offset 8"
else
	tap_fail "show --json targets and offsets" "$(cat "$OUT/show.json")"
fi

# rate over one second while tenant 3 floods 500 pkt/s of 1000 bytes
qvsend -d $DST -l 1000 -t 5 -r 500 "5003:none=0" 2>/dev/null &
spid=$!
sleep 1
$CTL show --json -d 1 $DEV >"$OUT/rate.json" 2>&1
# top while the flood goes on: two screens, tenant 3 with a rate
$CTL top -n 2 -d 0.5 $DEV >"$OUT/top.out" 2>&1
wait $spid
r3=$(ctl_class "$OUT/rate.json" 3 rate_bps)
r1=$(ctl_class "$OUT/rate.json" 1 rate_bps)
# a slow (sanitizer) guest sends less: any rate for tenant 3 there
lo3=2000000
slow_guest && lo3=0
if [ -n "$r3" ] && [ "$r3" -gt $lo3 ] && [ "$r3" -lt 6000000 ] && [ "$r1" = 0 ]; then
	tap_ok "show -d 1: tenant 3 rate $r3 bit/s (sent ~4.2 Mbit/s), tenant 1 idle"
else
	tap_fail "show -d 1 rate" "tenant 3 '$r3' tenant 1 '$r1'" "$(cat "$OUT/rate.json")"
fi

clears=$(grep -c "$(printf '\033\\[H')" "$OUT/top.out")
rows=$(grep -c '^1:3 ' "$OUT/top.out")
rated=$(grep '^1:3 ' "$OUT/top.out" | grep -c '[0-9.]*[mk]bit ')
if [ "$clears" = 2 ] && [ "$rows" = 2 ] && [ "$rated" = 2 ]; then
	tap_ok "top -n 2 -d 0.5: two screens, tenant 3 at $(grep '^1:3 ' "$OUT/top.out" | tail -n1 | awk '{print $10}')"
else
	tap_fail "top -n 2" "clears $clears rows $rows" "$(cat -v "$OUT/top.out")"
fi
$CTL show $DEV -d 0 >"$OUT/show.txt" 2>&1
tap_diag "$(cat "$OUT/show.txt")"

# --- spec B: update in place ----------------------------------------------
sed -e 's/^policy = .*/policy = 1 >> 2 + 4/' -e 's/^weight = 60/weight = 70/' \
	-e '/^\[tenant bulk\]/,$d' "$OUT/a.spec" >"$OUT/b.spec"
cat >>"$OUT/b.spec" <<EOF
[tenant batch]
class = 4
match = src 10.0.0.0/24
rank = dscp
weight = 30
EOF
before=$(json_num "$($TC -j -s qdisc show dev $DEV)" packets)
if tap_check "apply spec B (update: policy, weight, tenant 3 -> 4)" $CTL apply "$OUT/b.spec"; then
	q=$($TC qdisc show dev $DEV)
	c=$($TC class show dev $DEV)
	f=$($TC filter show dev $DEV)
	after=$(json_num "$($TC -j -s qdisc show dev $DEV)" packets)
	if echo "$q" | grep -q 'policy "1 >> 2 + 4"' &&
		echo "$c" | grep '1:2 ' | grep -q 'weight 70' &&
		echo "$c" | grep -q '^class qvisor 1:4 ' &&
		! echo "$c" | grep -q '^class qvisor 1:3 ' &&
		echo "$f" | grep -q 'classid 1:4' && ! echo "$f" | grep -q 'classid 1:3' &&
		! echo "$f" | grep -q 'pref 10[0-9] ' &&
		[ "$(echo "$f" | grep -c 'pref 20[012] ')" -ge 3 ] &&
		[ -n "$before" ] && [ "$after" -ge "$before" ]; then
		tap_ok "update: policy, weight, 1:4 added, 1:3 and old filters gone, qdisc kept (sent $after >= $before)"
	else
		tap_fail "update result" "$q" "$c" "$f" "packets before $before after $after"
	fi
fi

# --- rollback on an existing qvisor: the last filter fails ---------------
snap() {
	# classes come in hash order: sorted
	{ $TC qdisc show dev $DEV; $TC class show dev $DEV | sort
		$TC filter show dev $DEV; } | sed 's/ in_hw_count [0-9]*//'
}
snap >"$OUT/before"
sed -e 's/^policy = .*/policy = 1 >> 2 + 4 + 5/' "$OUT/b.spec" >"$OUT/c.spec"
cat >>"$OUT/c.spec" <<EOF
[tenant broken]
class = 5
match = indev qvnosuch0
EOF
line=$(grep -n 'indev qvnosuch0' "$OUT/c.spec" | cut -d: -f1)
$CTL apply "$OUT/c.spec" >"$OUT/c.out" 2>&1
rc=$?
snap >"$OUT/after"
if [ $rc = 1 ] && grep -q "c.spec:$line: tenant broken: filter" "$OUT/c.out" &&
	grep -q 'Network device not found' "$OUT/c.out" &&
	grep -q 'rolled back: qvisor 1:' "$OUT/c.out"; then
	tap_ok "apply C fails at spec line $line (tenant broken) with the kernel's extack"
else
	tap_fail "apply C fails and names the line" "exit $rc" "$(cat "$OUT/c.out")"
fi
if diff -u "$OUT/before" "$OUT/after" >"$OUT/diff"; then
	tap_ok "rollback: qdisc, classes and filters as before apply C ($(wc -l <"$OUT/before") lines of tc output)"
else
	tap_fail "rollback restores the configuration" "$(cat "$OUT/diff")"
fi

# --- rollback on a bare device --------------------------------------------
$TC qdisc del dev $DEV root >/dev/null 2>&1
snap >"$OUT/before"
$CTL apply "$OUT/c.spec" >"$OUT/c2.out" 2>&1
rc=$?
snap >"$OUT/after"
if [ $rc = 1 ] && grep -q 'has no qvisor qdisc (as before)' "$OUT/c2.out" &&
	diff -q "$OUT/before" "$OUT/after" >/dev/null &&
	! grep -q qvisor "$OUT/after"; then
	tap_ok "rollback of a create: no qvisor left on $DEV"
else
	tap_fail "rollback of a create" "exit $rc" "$(cat "$OUT/c2.out")" "$(cat "$OUT/after")"
fi

# a spec error is reported with its line and touches nothing
printf '[link]\ndev = %s\n[tenant x]\nclass = 1\nweight = 0\n' $DEV >"$OUT/bad.spec"
if ! $CTL apply "$OUT/bad.spec" >"$OUT/bad.out" 2>&1 &&
	grep -q 'bad.spec:5: weight' "$OUT/bad.out" && ! $TC qdisc show dev $DEV | grep -q qvisor; then
	tap_ok "a bad spec is refused with its line, nothing applied"
else
	tap_fail "bad spec" "$(cat "$OUT/bad.out")"
fi

$TC qdisc del dev $DEV root >/dev/null 2>&1
tap_done
