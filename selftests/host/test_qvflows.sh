#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Host test of the FCT flow generator tools/qvflows.c, built with ASan and
# UBSan as qvflows_san (see the Makefile): the flow-size sampler against
# the distribution it draws from, a CDF file read back, bad input, and a
# short run of real TCP flows over loopback (server and client), whose
# CSV must list every flow as done with a positive FCT.
cd "$(dirname "$0")" || exit 1
Q=./qvflows_san
T=$(mktemp -d)
trap 'kill $srv 2>/dev/null; rm -rf "$T"' EXIT
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); fail=1; echo "not ok $n - $*"; }
echo "TAP version 13"

# built-in web search CDF, scaled by 1/8: mean 208229 B (analytic)
set -- $($Q -i -x 0.125 -n 400000 -S 5)
# mean M small F max X sampled N mean M2 small F2 max X2
if [ "$2" = 208229 ] && [ "$6" = 3650000 ]; then
	ok "analytic mean $2 and largest size $6 of web search / 8"
else
	nok "analytic mean and largest size" "got: $*"
fi
if awk -v a="$2" -v b="${10}" -v f="$4" -v g="${12}" -v x="${14}" \
	'BEGIN { d = (b - a) / a; e = g - f;
		 exit !(d < 0.02 && d > -0.02 && e < 0.005 && e > -0.005 && x <= 3650000) }'; then
	ok "sampled mean ${10} within 2% and small fraction ${12} within 0.005 of $4"
else
	nok "sampler matches the distribution: $*"
fi

# the data file read back gives the same distribution as the built-in one
if [ "$($Q -i -f ../../tools/fct/websearch.cdf)" = "$($Q -i)" ]; then
	ok "tools/fct/websearch.cdf read with -f equals the built-in table"
else
	nok "tools/fct/websearch.cdf read with -f equals the built-in table"
fi
# the data mining distribution, built in and read from its file
dm="mean 7470236 small 0.8237 max 973333820"
if [ "$($Q -i -f datamining)" = "$dm" ] &&
   [ "$($Q -i -f ../../tools/fct/datamining.cdf)" = "$dm" ]; then
	ok "data mining: $dm, built in and from tools/fct/datamining.cdf"
else
	nok "data mining: $dm" "got: $($Q -i -f datamining)"
fi
# cut at 3.65 MB: the 4.98% of flows above it become 3.65 MB
set -- $($Q -i -f datamining -X 3650000 -n 400000 -S 7)
if [ "$2" = 291127 ] && [ "$6" = 3650000 ] && [ "${14}" = 3650000 ] &&
   awk -v a="$2" -v b="${10}" 'BEGIN { d = (b - a) / a; exit !(d < 0.03 && d > -0.03) }'; then
	ok "data mining cut at 3.65 MB: mean $2 (sampled ${10}), largest $6 (sampled ${14})"
else
	nok "data mining cut at 3.65 MB" "got: $*"
fi
printf '1000 0\n3000 1\n' >"$T/uni.cdf"
if [ "$($Q -i -f "$T/uni.cdf" -X 2000)" = "mean 1750 small 1.0000 max 2000" ]; then
	ok "a uniform 1000..3000 CDF cut at 2000 has mean 1750"
else
	nok "a uniform 1000..3000 CDF cut at 2000 has mean 1750" \
		"$($Q -i -f "$T/uni.cdf" -X 2000)"
fi
if ! $Q -i -f datamining -X 100 >/dev/null 2>"$T/err" &&
   grep -q 'below the smallest size, 1460 bytes' "$T/err"; then
	ok "a cut below the smallest flow is refused: $(cat "$T/err")"
else
	nok "a cut below the smallest flow is refused" "$(cat "$T/err")"
fi
if ! $Q -i -f nosuchcdf >/dev/null 2>"$T/err" &&
   grep -q 'not a built-in distribution (websearch, datamining)' "$T/err"; then
	ok "an unknown distribution is refused: $(cat "$T/err")"
else
	nok "an unknown distribution is refused" "$(cat "$T/err")"
fi
printf '1000 0\n500 0.5\n2000 1\n' >"$T/bad.cdf"
if $Q -i -f "$T/bad.cdf" >/dev/null 2>&1; then
	nok "a CDF with falling sizes is rejected"
else
	ok "a CDF with falling sizes is rejected"
fi
printf '# two points\n1000 0\n3000 1\n' >"$T/uni.cdf"
if [ "$($Q -i -f "$T/uni.cdf")" = "mean 2000 small 1.0000 max 3000" ]; then
	ok "a uniform 1000..3000 CDF has mean 2000"
else
	nok "a uniform 1000..3000 CDF has mean 2000" "$($Q -i -f "$T/uni.cdf")"
fi

# real flows over loopback: 2 s at load 0.5 of 50 Mbit/s, with SO_MARK
# ranks when allowed (CAP_NET_ADMIN), else none
port=$((20000 + $$ % 20000))
$Q -s -p $port -r "$T/ready" >/dev/null 2>&1 &
srv=$!
i=0
while [ ! -e "$T/ready" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
kind=mark
$Q -c 127.0.0.1 -p $port -R 50 -L 0.5 -t 0.2 -W 5 -x 0.125 -k mark \
	-o /dev/null 2>/dev/null || kind=none
$Q -c 127.0.0.1 -p $port -R 50 -L 0.5 -t 2 -W 10 -x 0.125 -k $kind -S 3 \
	-T lo -o "$T/flows.csv" 2>"$T/summary"
rc=$?
flows=$(awk -F, 'NR > 1' "$T/flows.csv" | wc -l)
done_=$(awk -F, 'NR > 1 && $6 == "done" && $5 > 0' "$T/flows.csv" | wc -l)
if [ $rc -eq 0 ] && [ "$flows" -ge 20 ] && [ "$done_" -eq "$flows" ]; then
	ok "loopback: $done_ of $flows flows done (ranks: $kind): $(cat "$T/summary")"
else
	nok "loopback: every flow done" "exit $rc, $done_ of $flows: $(cat "$T/summary")"
fi
# the same seed gives the same flows
cut -d, -f2-4 "$T/flows.csv" >"$T/a"
$Q -c 127.0.0.1 -p $port -R 50 -L 0.5 -t 2 -W 10 -x 0.125 -k none -S 3 \
	-o "$T/flows2.csv" 2>/dev/null
cut -d, -f2-4 "$T/flows2.csv" >"$T/b"
if cmp -s "$T/a" "$T/b"; then
	ok "same seed, same flow sizes and arrival times"
else
	nok "same seed, same flow sizes and arrival times"
fi
# two destinations, IPv4 and IPv6 (the server is dual-stack): the same
# flows, each to one of them drawn from its own stream, both used (new
# TIME-WAIT sockets to each)
v4a=$(ss -tn state time-wait 2>/dev/null | grep -c "127.0.0.1:$port")
if ! grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null; then
	ok "-c 127.0.0.1,::1 # SKIP no ::1 on this host"
elif $Q -c 127.0.0.1,::1 -p $port -R 50 -L 0.5 -t 2 -W 10 -x 0.125 -k none -S 3 \
	-o "$T/flows3.csv" 2>"$T/summary3"; then
	cut -d, -f2-4 "$T/flows3.csv" >"$T/c"
	done_=$(awk -F, 'NR > 1 && $6 == "done"' "$T/flows3.csv" | wc -l)
	v6=$(ss -tn state time-wait 2>/dev/null | grep -c "\[::1\]:$port")
	v4=$(($(ss -tn state time-wait 2>/dev/null | grep -c "127.0.0.1:$port") - v4a))
	if cmp -s "$T/a" "$T/c" && [ "$done_" -eq "$flows" ] &&
	   [ "$v4" -gt 0 ] && [ "$v6" -gt 0 ]; then
		ok "-c 127.0.0.1,::1: the same $done_ flows, over IPv4 and IPv6 ($v4 and $v6 new TIME-WAIT sockets)"
	else
		nok "-c 127.0.0.1,::1: the same flows over both" \
			"done $done_ of $flows, TIME-WAIT v4 $v4 v6 $v6: $(cat "$T/summary3")"
	fi
else
	nok "-c 127.0.0.1,::1 runs" "$(cat "$T/summary3")"
fi
if ! $Q -c 127.0.0.1,nohost -p $port -R 1 -L 1 -t 1 2>"$T/err" &&
   grep -q 'not an address: nohost' "$T/err"; then
	ok "a bad address in the list is refused: $(cat "$T/err")"
else
	nok "a bad address in the list is refused" "$(cat "$T/err")"
fi
echo "1..$n"
exit $fail
