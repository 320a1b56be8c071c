#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Per-tenant sojourn-time AQM (issue #24): qvisor rate 5mbit policy
# "1 >> 2" with tenants by source address, tenant 1 from 10.0.0.1 (and
# ping), tenant 2 from 10.0.0.3.
#  - configuration: the AQM is on without saying so (tc shows aqm and
#    its default target/interval), target >= interval rejected by the
#    kernel with its extack message;
#  - ECN: a TCP flow of tenant 2 with net.ipv4.tcp_ecn=1 is marked CE
#    (ecn_marks > 0) and (almost) not dropped;
#  - a UDP flow of tenant 2 at 6 Mbit/s into the 5 Mbit/s link: with the
#    default AQM its standing queue after 7 s is a fraction of what it is with
#    noaqm (where nothing is dropped and it grows by 1 Mbit/s), and
#    tenant 1 (a ping, tier 1) is never AQM-dropped meanwhile;
#  - noaqm: no AQM drops at all with the same flood, today's behaviour;
#  - the default limit with a rate (AQM on by default) is 100 ms of the
#    rate in 1514-byte packets, at least 64 (5mbit: 64, 10gbit: 82562),
#    else 10000 (no rate, or noaqm); an explicit limit stays; memlimit
#    bounds the truesize held;
#  - a tenant without a limit holds at most its fair part of memlimit
#    (memlimit x weight / its '+' group's weights): unequal loads.
# About 50 s.
. "$(dirname "$0")/lib.sh"
measure_suite aqm

NS=qv-aqm
DEV=veth0
DST=10.0.0.2
RATE=5mbit
SRC1=10.0.0.1
SRC2=10.0.0.3
UDP_LOAD=${QV_AQM_UDP_LOAD:-6M}
OUT=${TMPDIR:-/tmp}/qv-aqm.$$
mkdir -p "$OUT"
on_exit "rm -rf $OUT"

iperf_veth_pair "aqm tests" $SRC1 $SRC2
old_ecn=$(cat /proc/sys/net/ipv4/tcp_ecn)
echo 1 >/proc/sys/net/ipv4/tcp_ecn
on_exit "echo $old_ecn >/proc/sys/net/ipv4/tcp_ecn"
ns_sysctl $NS net/ipv4/tcp_ecn 1

setup() {
	tenants_by_source $SRC1 $SRC2 rate $RATE policy "1 >> 2" "$@"
}
# no "aqm": it is the default
if ! tap_check "qvisor rate $RATE policy \"1 >> 2\" (AQM by default)" setup; then
	tap_done
fi

# --- configuration ---------------------------------------------------------
show=$($TC qdisc show dev $DEV)
if grep -q "aqm target 5ms interval 100ms" <<<"$show"; then
	tap_ok "AQM on by default, shown with target 5ms and interval 100ms"
else
	tap_fail "AQM on by default, shown with its target and interval" "$show"
fi
err=$($TC qdisc change dev $DEV root qvisor target 200ms 2>&1)
if [ $? -ne 0 ] && grep -q "AQM target must be below its interval" <<<"$err"; then
	tap_ok "target 200ms above interval 100ms rejected: $err"
else
	tap_fail "target above interval rejected with the kernel's message" "$err"
fi
err=$($TC class change dev $DEV classid 1:2 qvisor target 300ms interval 200ms 2>&1)
if [ $? -ne 0 ] && grep -q "AQM target must be below its interval" <<<"$err"; then
	tap_ok "class target 300ms above interval 200ms rejected"
else
	tap_fail "class target above interval rejected" "$err"
fi
tap_check "class noaqm, then aqm again, shown" sh -c "
	$TC class change dev $DEV classid 1:1 qvisor noaqm &&
	$TC class show dev $DEV | grep -q '1:1 .* noaqm' &&
	$TC class change dev $DEV classid 1:1 qvisor aqm &&
	$TC class show dev $DEV | grep -q '1:1 .* aqm '"

# cl_aqm CLASS: "DROPS MARKS MAX_SOJOURN_US BACKLOG_PKTS" of a class
cl_aqm() {
	$TC -s class show dev $DEV | awk -v c="$1" '
		/^class / { cur = $3 }
		cur == c && /backlog/ { q = $3; sub(/p$/, "", q) }
		cur == c && /ecn_marks/ {
			for (i = 1; i < NF; i++) {
				if ($i == "drops") d = $(i + 1)
				if ($i == "ecn_marks") m = $(i + 1)
				if ($i == "max_sojourn") s = $(i + 1)
			}
			sub(/us$/, "", s)
		}
		END { print d + 0, m + 0, s + 0, q + 0 }'
}

$IP netns exec $NS iperf3 -s -p 5202 >"$OUT/srv.log" 2>&1 &
on_exit "kill $! 2>/dev/null"
wait_listen $NS 5202

# --- ECN: a TCP flow is marked, not dropped ---------------------------------
read -r d0 m0 x x <<<"$(cl_aqm 1:2)"
iperf3 -c $DST -B $SRC2 -p 5202 -t 6 >"$OUT/tcp.log" 2>&1
read -r d1 m1 soj x <<<"$(cl_aqm 1:2)"
marks=$((m1 - m0)) drops=$((d1 - d0))
tap_diag "TCP with ECN for 6 s: $marks CE marks, $drops AQM drops," \
	"max sojourn ${soj} us; $(grep -E 'sender|receiver' "$OUT/tcp.log" | head -2)"
if [ "$marks" -gt 0 ]; then
	tap_ok "ECN-capable TCP: the AQM marked $marks packets CE"
else
	tap_fail "ECN-capable TCP: the AQM marked packets CE" \
		"$($TC -s class show dev $DEV)" "$(cat "$OUT/tcp.log")"
fi
# only Not-ECT packets (SYN, retransmissions) may be dropped
if [ $((drops * 10)) -le "$marks" ]; then
	tap_ok "ECN-capable TCP: $drops AQM drops (at most a tenth of the marks)"
else
	tap_fail "ECN-capable TCP: few AQM drops" "$drops drops, $marks marks"
fi

# --- UDP above the link rate, with and without AQM ----------------------------
# udp_run NAME: tenant 2 sends UDP at $UDP_LOAD for 9 s while tenant 1
# pings; prints "BACKLOG_AT_7S T2_DROPS T1_DROPS MAX_SOJOURN_US PING_LOSS%"
udp_run() {
	local c p d0 d1 e0 e1 x q soj loss
	sleep 2		# the previous queue drains
	read -r d0 x x x <<<"$(cl_aqm 1:2)"
	read -r e0 x x x <<<"$(cl_aqm 1:1)"
	iperf3 -c $DST -B $SRC2 -p 5202 -u -b $UDP_LOAD -l 1400 -w 4M -t 9 \
		>"$OUT/udp-$1.log" 2>&1 &
	c=$!
	ping -c 20 -i 0.3 -W 2 -I $SRC1 $DST >"$OUT/ping-$1.log" 2>&1 &
	p=$!
	sleep 7
	read -r x x x q <<<"$(cl_aqm 1:2)"
	wait $c $p
	read -r d1 x soj x <<<"$(cl_aqm 1:2)"
	read -r e1 x x x <<<"$(cl_aqm 1:1)"
	loss=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' "$OUT/ping-$1.log")
	echo "$q $((d1 - d0)) $((e1 - e0)) $soj ${loss:-100}"
}

read -r q_aqm t2d_aqm t1d_aqm soj_aqm loss_aqm <<<"$(udp_run aqm)"
tap_diag "UDP $UDP_LOAD into $RATE with aqm: backlog ${q_aqm}p at 7 s," \
	"tenant 2 AQM drops $t2d_aqm, tenant 1 AQM drops $t1d_aqm," \
	"max sojourn ${soj_aqm} us, ping loss ${loss_aqm}%"
if [ "$t2d_aqm" -gt 0 ]; then
	tap_ok "UDP above the link rate: tenant 2's AQM dropped $t2d_aqm packets"
else
	tap_fail "UDP above the link rate: tenant 2's AQM dropped packets" \
		"$($TC -s class show dev $DEV)" "$(cat "$OUT/udp-aqm.log")"
fi
if [ "$t1d_aqm" -eq 0 ] && [ "$loss_aqm" = 0 ]; then
	tap_ok "tier isolation: tenant 1 (ping) never AQM-dropped, no ping lost"
else
	tap_fail "tier isolation: tenant 1 never AQM-dropped" \
		"tenant 1 AQM drops $t1d_aqm, ping loss $loss_aqm%" \
		"$(cat "$OUT/ping-aqm.log")"
fi

tap_check "qdisc change noaqm, shown as noaqm" sh -c "
	$TC qdisc change dev $DEV root qvisor noaqm &&
	$TC qdisc show dev $DEV | grep -q ' noaqm '"
read -r q_no t2d_no t1d_no soj_no loss_no <<<"$(udp_run noaqm)"
tap_diag "UDP $UDP_LOAD into $RATE with noaqm: backlog ${q_no}p at 7 s," \
	"tenant 2 AQM drops $t2d_no, max sojourn ${soj_no} us"
if [ "$t2d_no" -eq 0 ] && [ "$t1d_no" -eq 0 ]; then
	tap_ok "noaqm: no AQM drops"
else
	tap_fail "noaqm: no AQM drops" "$t2d_no and $t1d_no"
fi
# with the AQM the standing queue is a fraction of the unmanaged one
if [ "$q_no" -ge 40 ] && [ $((q_aqm * 3)) -le "$q_no" ]; then
	tap_ok "standing queue at 7 s: ${q_aqm}p with aqm, ${q_no}p with noaqm"
else
	tap_fail "standing queue with aqm at most a third of noaqm's (and noaqm's >= 40p)" \
		"aqm ${q_aqm}p noaqm ${q_no}p" "$(cat "$OUT/udp-noaqm.log")"
fi
tap_diag "$($TC -s qdisc show dev $DEV)"

# --- buffers in time and memory ----------------------------------------------
# limit_of OPTIONS...: the limit tc shows for a fresh qdisc
limit_of() {
	$TC qdisc del dev $DEV root >/dev/null 2>&1
	$TC qdisc add dev $DEV root handle 1: qvisor "$@" >/dev/null 2>&1 &&
		$TC qdisc show dev $DEV | sed -n 's/.* limit \([0-9]*\)p .*/\1/p'
}
# 100 ms of the rate in 1514-byte packets, at least 64
for c in "64 rate 5mbit" "82562 rate 10gbit" "10000 rate 5mbit noaqm" \
	"10000 rate 10gbit noaqm" "10000" "500 rate 5mbit limit 500"; do
	set -- $c
	want=$1
	shift
	got=$(limit_of "$@")
	if [ "$got" = "$want" ]; then
		tap_ok "default limit of \"$*\": ${got}p"
	else
		tap_fail "default limit of \"$*\": ${want}p" "got ${got:-nothing}"
	fi
done

$TC qdisc del dev $DEV root >/dev/null 2>&1
if tap_check "qvisor rate $RATE memlimit 100k" setup memlimit 100k; then
	iperf3 -c $DST -B $SRC2 -p 5202 -u -b 20M -l 1400 -w 4M -t 4 \
		>"$OUT/udp-mem.log" 2>&1 &
	c=$!
	sleep 2.5
	mem=$($TC -s qdisc show dev $DEV | sed -n 's/.* memory \([0-9]*\).*/\1/p')
	wait $c
	dm=$($TC -s qdisc show dev $DEV | sed -n 's/.* drops memlimit \([0-9]*\).*/\1/p')
	tap_diag "memlimit 100k, UDP at 20M: ${mem:-?} bytes held at 2.5 s, ${dm:-?} drops over memlimit"
	if [ "${mem:-999999}" -le 102400 ] && [ "${mem:-0}" -gt 50000 ] &&
		[ "${dm:-0}" -gt 0 ]; then
		tap_ok "memlimit 100k: ${mem} bytes held, ${dm} arrivals dropped over it"
	else
		tap_fail "memlimit 100k bounds the memory held and counts its drops" \
			"$($TC -s qdisc show dev $DEV)" "$(cat "$OUT/udp-mem.log")"
	fi
fi

# --- a tenant's default limit: its fair part of memlimit ----------------------
# policy "1 + 2", weights 1:1, memlimit 100k: tenant 2 floods at 20M,
# tenant 1 sends 1M (below its half of 5mbit).  Tenant 2, without a limit
# of its own, may hold half of memlimit; its arrivals beyond are dropped
# (tenant_limit), tenant 1 loses nothing.  Without the fair part tenant 2
# fills all 100k (the check above, alone in its tier) and nothing counts
# as tenant_limit.  noaqm: the memory, not the AQM, is what is checked.
share_setup() {
	tenants_by_source $SRC1 $SRC2 rate $RATE noaqm memlimit 100k \
		policy "1 + 2"
}
# cl_drops CLASS: "DROPS TENANT_LIMIT_DROPS" of a class
cl_drops() {
	local d t
	d=$(class_word "$1" "(dropped") t=$(class_word "$1" tenant_limit)
	d=${d%,}
	echo "${d:-0} ${t:-0}"
}
# cl_mem CLASS: "MEMORY PART" of a class (tc -s: "memory N of PART")
cl_mem() {
	local m
	m=$(class_word "$1" memory)
	echo "${m:-0} $(class_word "$1" memory 3)"
}
$TC qdisc del dev $DEV root >/dev/null 2>&1
if tap_check "qvisor rate $RATE noaqm memlimit 100k policy \"1 + 2\"" share_setup; then
	$IP netns exec $NS iperf3 -s -p 5203 >"$OUT/srv3.log" 2>&1 &
	on_exit "kill $! 2>/dev/null"
	wait_listen $NS 5203
	iperf3 -c $DST -B $SRC2 -p 5202 -u -b 20M -l 1400 -w 4M -t 4 \
		>"$OUT/udp-part2.log" 2>&1 &
	c2=$!
	iperf3 -c $DST -B $SRC1 -p 5203 -u -b 1M -l 1400 -t 4 \
		>"$OUT/udp-part1.log" 2>&1 &
	c1=$!
	mem=0 cmem=0 part=
	for i in 1 2 3 4 5 6; do
		sleep 0.5
		m=$($TC -s qdisc show dev $DEV | sed -n 's/.* memory \([0-9]*\).*/\1/p')
		[ "${m:-0}" -gt "$mem" ] && mem=$m
		# tenant 2's own counter: "memory N of PART"
		read -r m part <<<"$(cl_mem 1:2)"
		[ "${m:-0}" -gt "$cmem" ] && cmem=$m
	done
	wait $c2 $c1
	read -r d1 t1 <<<"$(cl_drops 1:1)"
	read -r d2 t2 <<<"$(cl_drops 1:2)"
	dm=$($TC -s qdisc show dev $DEV | sed -n 's/.* drops memlimit \([0-9]*\).*/\1/p')
	tap_diag "fair part: most memory held $mem bytes, by tenant 2 $cmem of" \
		"${part:-?}; tenant 2 drops $d2" \
		"(tenant_limit $t2), tenant 1 drops $d1, drops memlimit ${dm:-?}"
	# half of 100k, plus what tenant 1 holds (a few 1400-byte packets)
	if [ "$mem" -le $((51200 + 4 * 3000)) ] && [ "$mem" -gt 25000 ] &&
		[ "$t2" -gt 0 ] && [ "$d1" = 0 ]; then
		tap_ok "tenant 2 held at most its fair part (${mem} bytes, $t2 arrivals over it dropped), tenant 1 lost nothing"
	else
		tap_fail "tenant 2 held at most half of memlimit, tenant 1 lost nothing" \
			"most held $mem, tenant 2 tenant_limit $t2, tenant 1 drops $d1" \
			"$($TC -s class show dev $DEV)"
	fi
	# the class counters say the same: a part of 51200 bytes (100k x
	# 1 / 2), tenant 2 held up to it (more than a quarter) and not over
	if [ "$part" = 51200 ] && [ "$cmem" -le 51200 ] &&
		[ "$cmem" -gt 12800 ]; then
		tap_ok "tenant 2's counters: memory up to $cmem of its part $part"
	else
		tap_fail "tenant 2's class counters show memory within its part 51200" \
			"memory $cmem of ${part:-none}" "$($TC -s class show dev $DEV)"
	fi
fi

$TC qdisc del dev $DEV root >/dev/null 2>&1
tap_done
