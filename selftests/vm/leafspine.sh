#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# qvisor on every hop of a leaf-spine, configured from one spec.
#
# lib-leafspine.sh builds 2 spines, 2 leaves and 2 hosts per leaf as
# network namespaces (IPv6, ECMP over the spines hashed on the ports);
# qvisorctl applies one spec in every switch namespace (its [link] globs
# pick the namespace's ports); tools/bpf carries each packet's rank from
# its host to every switch in the IPv6 flow label.  Checked: every host
# reaches every other, every switch port has the spec's qdisc, flows
# between two leaves use both spines, and ranks set in a host order the
# packets at the last switch port, three switches later.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-leafspine.sh"

OUT=${TMPDIR:-/tmp}/qv-leafspine.$$
mkdir -p "$OUT"
on_exit "rm -rf $OUT"
NS=qv-h2-1		# start_recv runs qvrecv here
DST=$(ls_host_addr 2 1)
DEV=lf2-h1		# the last hop towards $DST (in qv-lf2)
BLOCKER=1400

# qvsend runs in host 1 of leaf 1 (run_order calls it)
qvsend() {
	$IP netns exec qv-h1-1 qvsend "$@"
}

ls_require "leaf-spine" qvsend qvrecv qvisorctl

tap_check "leaf-spine: $LS_SPINES spines, $LS_LEAVES leaves, $LS_HOSTS hosts each (IPv6, ECMP)" \
	ls_build || tap_done

# --- every host reaches every other --------------------------------------
hosts=$(ls_hosts)
bad=
n=0
for a in $hosts; do
	for b in $hosts; do
		[ "$a" = "$b" ] && continue
		n=$((n + 1))
		$IP netns exec "$a" ping -6 -c 1 -W 2 "$(ls_ns_addr "$b")" \
			>/dev/null 2>&1 || bad="$bad $a->$b"
	done
done
nh=$((LS_LEAVES * LS_HOSTS))
if [ -z "$bad" ] && [ "$n" = $((nh * (nh - 1))) ]; then
	tap_ok "all $n host pairs ping each other"
else
	tap_fail "all host pairs ping each other" "failed:$bad (of $n)"
fi

# --- one spec for every switch -------------------------------------------
cat >"$OUT/ls.spec" <<EOF
[link]
dev = lf*-h*
rate = 10mbit
policy = 1 >> 2
aqm = no

[link core]
dev = lf*-s* sp*-l*
rate = 40mbit

[tenant pfabric]
class = 1
match = src fd10:1:1::/48
rank = mark
range = 0 15
levels = 16

[tenant edf]
class = 2
match = src fd10:1:2::/48
rank = edf 50ms mark_budget
range = 0 1000000
levels = 1000
EOF
bad=
for s in $(ls_switches); do
	$IP netns exec "$s" qvisorctl apply "$OUT/ls.spec" >"$OUT/apply-$s" 2>&1 ||
		bad="$bad $s: $(tail -n 3 "$OUT/apply-$s")"
done
want=$((LS_LEAVES * (LS_HOSTS + LS_SPINES) + LS_SPINES * LS_LEAVES))
got=0
for s in $(ls_switches); do
	for p in $(ls_ports "$s"); do
		$TC -n "$s" qdisc show dev "$p" root | grep -q '^qdisc qvisor 1: root' &&
			got=$((got + 1))
	done
done
if [ -z "$bad" ] && [ "$got" = "$want" ]; then
	tap_ok "qvisorctl apply in every switch namespace: qvisor on all $got ports"
else
	tap_fail "qvisorctl apply in every switch namespace" "errors:$bad" \
		"qvisor roots $got of $want" "$(cat "$OUT"/apply-*)"
fi
rate=$($TC -n qv-sp1 qdisc show dev sp1-l2 root | grep -o 'rate [^ ]*')
edge=$($TC -n qv-lf2 qdisc show dev lf2-h1 root | grep -o 'rate [^ ]*')
if [ "$rate" = "rate 40Mbit" ] && [ "$edge" = "rate 10Mbit" ]; then
	tap_ok "core ports at 40Mbit, host ports at 10Mbit ([link core], [link])"
else
	tap_fail "core and host port rates" "sp1-l2: $rate" "lf2-h1: $edge"
fi

tap_check "flow label programs on every host and switch port" ls_label

# --- ECMP: flows between two leaves take both spines ---------------------
# 16 flows (one source port each); all on one spine by chance: 2^-15
spine_sent() {
	$TC -n "qv-sp$1" -s qdisc show dev "sp$1-l2" root |
		awk '/Sent/{print $4; exit}'
}
before1=$(spine_sent 1)
before2=$(spine_sent 2)
SPEC16=$(for p in $(seq 5001 5016); do printf '%s:none=1x3,' "$p"; done)
qvsend -d "$DST" -s 30000 "${SPEC16%,}" 2>"$OUT/send.err"
sleep 0.5
d1=$(($(spine_sent 1) - before1))
d2=$(($(spine_sent 2) - before2))
if [ "$d1" -gt 0 ] && [ "$d2" -gt 0 ] && [ $((d1 + d2)) -ge 48 ]; then
	tap_ok "16 flows leaf 1 -> leaf 2 over both spines ($d1 and $d2 packets)"
else
	tap_fail "16 flows over both spines" "spine 1: $d1, spine 2: $d2 packets (48 sent)" \
		"$(cat "$OUT/send.err")"
fi

# --- ranks across three switches -----------------------------------------
# The last hop (lf2-h1) throttled to 200 kbit/s: a blocker on the flow's
# own 5-tuple (qvsend -f: the same path) holds it while the rest queue;
# the ranks were set in qv-h1-1 (SO_PRIORITY), so they reached lf2 in
# the flow label.  Port 5000 is tenant 0 of the payload (qvrecv's column 2)
# and tenant pfabric (by source) of the spec.
if $TC -n qv-lf2 qdisc change dev lf2-h1 root qvisor rate 200kbit; then
	RANKS="9 3 12 0 7 3 15 5 9 1 0 11 3 8"
	SPEC=$(for r in $RANKS; do printf '5000:prio=%s,' "$r"; done)
	SPEC=${SPEC%,}
	if ! run_order "ranks set in a host order the packets three switches later" \
		"$SPEC" "$(sent_list "$SPEC" | sort -k3,3n -k1,1n)" 14 -f; then
		tap_diag "$($TC -n qv-lf2 -s class show dev lf2-h1)"
	fi
else
	tap_fail "throttle the last hop" "$($TC -n qv-lf2 qdisc show dev lf2-h1)"
fi

tap_done
