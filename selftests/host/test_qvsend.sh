#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Host test of the UDP test tools tools/qvsend.c and tools/qvrecv.c, built
# with ASan and UBSan (qvsend_san, qvrecv_san), over loopback: the order
# mode over IPv4 and IPv6 (the receiver is dual-stack), the blocker on the
# first item's flow (-f), and the throughput mode's inter-packet gaps,
# one-way delays and deadlines.  Skips where loopback has no IPv6.
cd "$(dirname "$0")" || exit 1
S=./qvsend_san
R=./qvrecv_san
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); fail=1; echo "not ok $n - $*"; }
echo "TAP version 13"

# recv ARGS...: qvrecv in the background, output in $T/out; waits until
# its sockets are bound
recv() {
	rm -f "$T/ready"
	$R -r "$T/ready" "$@" >"$T/out" 2>"$T/err" &
	rpid=$!
	i=0
	while [ ! -f "$T/ready" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
}

for a in 127.0.0.1 ::1; do
	if [ "$a" = ::1 ] && ! grep -q . /proc/net/if_inet6 2>/dev/null; then
		echo "ok $((n + 1)) - order over $a # SKIP no IPv6"
		n=$((n + 1))
		continue
	fi
	recv -p 5000,5001,5002 -n 4 -i 2000 -v
	$S -d "$a" -B 300 -f "5001:prio=3,5002:dscp=5,5001:tos=8,5002:none=1" 2>"$T/serr"
	wait $rpid
	want="0 1 0 blocker
1 1 3
2 2 5
3 1 2
4 2 0"
	if [ "$(cat "$T/out")" = "$want" ]; then
		ok "order over $a: blocker on the first item's port (-f), ranks in the payload"
	else
		nok "order over $a" "$(cat "$T/out" "$T/err" "$T/serr")"
	fi
done

# -w: 100 packets/s for 1 s: gaps ~10000 us; budgets 10 s all met, 1 us
# none (loopback takes more than a microsecond), rank 0 not due
recv -p 5001,5002,5003 -w 1.5
$S -d 127.0.0.1 -t 1 -r 100 "5001:prio=10000000,5002:prio=1,5003:none=0" 2>"$T/serr"
wait $rpid
# PORT BYTES PACKETS GAP_MEAN GAP_SD DELAY_MEAN DUE MET
if awk '$1 == 5001 { a = ($3 >= 90 && $4 > 9000 && $4 < 11000 && $6 > 0 && $7 == $3 && $8 == $3) }
	$1 == 5002 { b = ($3 >= 90 && $7 == $3 && $8 == 0) }
	$1 == 5003 { c = ($3 >= 90 && $7 == 0 && $8 == 0) }
	END { exit !(a && b && c) }' "$T/out"; then
	ok "-w: gaps ~10 ms at 100/s, every 10 s budget met, no 1 us budget, rank 0 not due"
else
	nok "-w gaps, delays and deadlines" "$(cat "$T/out" "$T/err" "$T/serr")"
fi

if $S -d nowhere 5001:prio=1 2>"$T/serr"; then
	nok "-d with a bad address is refused"
elif grep -q "not an IPv4 or IPv6 address" "$T/serr"; then
	ok "-d with a bad address: $(cat "$T/serr")"
else
	nok "-d with a bad address: message" "$(cat "$T/serr")"
fi
echo "1..$n"
exit $fail
