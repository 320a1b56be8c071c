#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Smoke test: sch_qvisor loads, takes a veth as root qdisc, and traffic
# (ping, 2 s of iperf3 TCP) crosses it.  Lines "# table: KEY VALUE" feed
# `make demo`.
. "$(dirname "$0")/lib.sh"

NS=qv-smoke
PINGS=5

if [ -d /sys/module/sch_qvisor ] ||
	grep -q '/sch_qvisor\.ko' "/lib/modules/$(uname -r)/modules.dep" 2>/dev/null; then
	HAVE_KO=1
	tap_check "sch_qvisor module loaded" qvisor_loaded
else
	HAVE_KO=0
	tap_skip "sch_qvisor module loaded" "module missing"
fi

if ! tap_check "veth pair across a netns" \
	veth_pair $NS veth0 veth1 10.0.0.1 10.0.0.2; then
	tap_done
fi

if [ $HAVE_KO = 1 ] && qvisor_loaded; then
	QVISOR=1
	tap_check "qvisor accepted as root qdisc" \
		"$TC" qdisc add dev veth0 root handle 1: qvisor
	if $TC qdisc show dev veth0 | grep -q '^qdisc qvisor 1: root'; then
		tap_ok "tc qdisc show lists qvisor"
	else
		tap_fail "tc qdisc show lists qvisor" "$($TC qdisc show dev veth0)"
	fi
else
	QVISOR=0
	tap_skip "qvisor accepted as root qdisc" "module missing"
	tap_skip "tc qdisc show lists qvisor" "module missing"
fi

before=$(qdisc_sent_packets veth0)
tap_check "ping crosses veth0" ping -c $PINGS -i 0.2 -W 2 10.0.0.2

$IP netns exec $NS iperf3 -s -1 >/tmp/smoke-iperf3-s.log 2>&1 &
on_exit "kill $! 2>/dev/null"
wait_listen $NS 5201
if out=$(iperf3 -c 10.0.0.2 -t 2 -f m 2>&1); then
	mbit=$(echo "$out" | awk '/receiver/{print $7}')
	tap_ok "iperf3 TCP 2 s crosses veth0 (${mbit:-?} Mbit/s)"
else
	tap_fail "iperf3 TCP 2 s crosses veth0" "$out"
fi

after=$(qdisc_sent_packets veth0)
sent=$((${after:-0} - ${before:-0}))
if [ $QVISOR = 1 ]; then
	if [ "$sent" -gt $PINGS ]; then
		tap_ok "qvisor counted $sent packets (> $PINGS pings)"
	else
		tap_fail "qvisor counted more packets than pings" \
			"$($TC -s qdisc show dev veth0)"
	fi
	tap_diag "$($TC -s qdisc show dev veth0)"
	tap_check "qvisor root qdisc deleted" "$TC" qdisc del dev veth0 root
else
	tap_skip "qvisor counted more packets than pings" "module missing"
	tap_skip "qvisor root qdisc deleted" "module missing"
fi

echo "# table: kernel $(uname -r)"
echo "# table: qdisc $([ $QVISOR = 1 ] && echo qvisor || echo 'default (no qvisor)')"
echo "# table: ping_sent $PINGS"
echo "# table: iperf3_mbit ${mbit:-n/a}"
echo "# table: qdisc_packets $sent"
tap_done
