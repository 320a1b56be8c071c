#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Host test of the tc plugin q_qvisor.so, no kernel support needed:
# - printing: crafted RTM_NEWQDISC / RTM_NEWTCLASS messages (mkmsg) are
#   decoded by "tc -s monitor file F" through the plugin;
# - parsing: bad options are refused by the plugin (exit 1) before anything
#   reaches the kernel.
#
# Environment: TC (default tc), QVISOR_PLUGIN_DIR (a directory holding a
# built q_qvisor.so; default: build one from q_qvisor.c and the in-tree tc
# declarations into a temp dir), QVISOR_MKMSG (a built mkmsg; default:
# build it).  With both given, only bash and tc are needed: make
# plugin-test runs it so inside the unstable chroot, against its tc.
# Output: TAP.  Exit 0 pass, 1 fail, 4 skip.

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TC=${TC:-tc}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

skip_all() {
	echo "1..0 # SKIP $1"
	exit 4
}

command -v "$TC" >/dev/null || skip_all "tc not found"
if [ -z "$QVISOR_PLUGIN_DIR" ]; then
	command -v gcc >/dev/null || skip_all "gcc not found"
	gcc -O2 -fPIC -shared -Wall -Wextra -Werror -Wstrict-prototypes \
		-Wmissing-prototypes -Wold-style-definition -Wformat=2 \
		-I "$ROOT/include" -I "$ROOT/include/uapi" \
		-DQVISOR_TC_VERSION='"test"' -DQVISOR_TC_MIN='"6.1"' \
		-DQVISOR_TC_MAX_MAJOR='"7"' \
		-o "$TMP/q_qvisor.so" "$ROOT/q_qvisor.c" \
		"$ROOT/core/policy.c" "$ROOT/core/policy_tree.c" \
		"$ROOT/include/tc/abi_check.c" || {
		echo "Bail out! cannot build q_qvisor.so"
		exit 1
	}
	QVISOR_PLUGIN_DIR=$TMP
fi
export TC_LIB_DIR=$QVISOR_PLUGIN_DIR

MKMSG=${QVISOR_MKMSG:-}
if [ -z "$MKMSG" ]; then
	command -v gcc >/dev/null || skip_all "gcc not found"
	gcc -O2 -Wall -Wextra -Werror -o "$TMP/mkmsg" \
		"$ROOT/selftests/host/mkmsg.c" || {
		echo "Bail out! cannot build mkmsg"
		exit 1
	}
	MKMSG=$TMP/mkmsg
fi

echo "TAP version 13"
N=0
FAILED=0

result() {	# result OK NAME [DIAG]
	N=$((N + 1))
	if [ "$1" = 0 ]; then
		echo "ok $N - $2"
	else
		echo "not ok $N - $2"
		[ -n "$3" ] && printf '%s\n' "$3" | sed 's/^/# /'
		FAILED=$((FAILED + 1))
	fi
}

# print_test NAME SCENARIO -- WANTED... [ ! UNWANTED... ]
# Each WANTED is a fixed string that must appear in the output, each
# UNWANTED one that must not.
print_test() {
	local name=$1 scen=$2 out want=1 err=0 diag=""

	shift 3
	"$MKMSG" "$scen" > "$TMP/msg.bin" || {
		result 1 "$name" "mkmsg $scen failed"
		return
	}
	out=$("$TC" -s monitor file "$TMP/msg.bin" 2>&1)
	for s in "$@"; do
		if [ "$s" = "!" ]; then
			want=0
			continue
		fi
		if grep -qF -- "$s" <<< "$out"; then
			[ $want = 1 ] || { err=1; diag+="unexpected: $s"$'\n'; }
		else
			[ $want = 0 ] || { err=1; diag+="missing: $s"$'\n'; }
		fi
	done
	[ $err = 0 ] || diag+="output:"$'\n'"$out"
	result $err "$name" "$diag"
}

# parse_test NAME EXPECTED_MESSAGE tc-args...
# The command must fail with exit code 1 and print EXPECTED_MESSAGE.
parse_test() {
	local name=$1 msg=$2 out rc

	shift 2
	out=$("$TC" "$@" 2>&1)
	rc=$?
	if [ $rc = 1 ] && grep -qF -- "$msg" <<< "$out"; then
		result 0 "$name"
	else
		result 1 "$name" "rc=$rc output: $out"
	fi
}

print_test "qdisc options" qdisc-full -- \
	"qdisc qvisor 1: dev lo root" "rate 100Mbit" "limit 500p" \
	"buckets 1024" "slot 2ms" "default 10 " "backend pifo " \
	'policy "1 >> 2 + 3"' "overlap 30%" "flows 4096 " "flow_idle 200ms"
print_test "qdisc xstats" qdisc-full -- \
	"  tenants 3 buckets 4096 joint_width 130 tiers 2" \
	"  deferred 7 blocked 1 rounds 8 refills 9" \
	"  drops pushout 11 limit 12 tenant_limit 13 classify 14" \
	"  implicit 15 default 16 throttled 17 inversions 18 resynth 19" \
	"  flows 4096 live 40 new 41 evicted 42 aged 43"
print_test "qdisc xstats without flow counters (older kernel)" \
	qdisc-oldstats -- "  tenants 2 " "resynth 5" ! "flows" "live" "lends"
print_test "qdisc hides rate 0 and default 0" qdisc-min -- \
	"limit 10000p" ! "rate" "default" "tenants" "tier " "lend"
print_test "qdisc sppifo queues" qdisc-sppifo -- "backend sppifo 8 partial "
print_test "qdisc lend and lends" qdisc-sppifo -- "lend 100ms " " lends 33"
print_test "qdisc without lend hides it, no lends on pifo" qdisc-full -- \
	"flow_idle 200ms" ! "lend"
print_test "qdisc sppifo queues from the xstats arrays (older module)" \
	qdisc-sppifo -- \
	"guarantees P1=approx P2=approx P3=yes P4=approx P5=yes P6=no" \
	"  backend sppifo unpifoness 31 pushdowns 32 drops admission 0" \
	"  queue 0 tier 0 bound 12 len 4" "  queue 1 tier 0 bound 0 len 0" \
	"  queue 2 tier 1 bound 77 len 7" ! "queue 3"
print_test "qdisc sppifo queues from TCA_QVISOR_QSTATS" qdisc-sppifo-qstats -- \
	"  backend sppifo unpifoness 31 pushdowns 32 drops admission 0" \
	"  queue 0 tier 0 bound 12 len 4" "  queue 1 tier 0 bound 0 len 0" \
	"  queue 2 tier 1 bound 77 len 7" "  queue 3 tier 2 bound 90 len 5" \
	! "len 99" "bound 98" "tier 9" "queue 4"
print_test "qdisc aifo queue from TCA_QVISOR_QSTATS" qdisc-aifo-qstats -- \
	"  queue 0 tier 0 len 43" ! "bound" "len 99" "queue 1"
print_test "qdisc aifo window and admission drops" qdisc-aifo -- \
	"backend aifo guarantees P1=no P2=approx P3=yes P4=no P5=yes P6=yes" \
	"  backend aifo unpifoness 41 window 64 k 10% drops admission 42" \
	"  queue 0 tier 0 len 43" ! "partial" "bound"
print_test "qdisc nested groups and the properties inside them" qdisc-nested -- \
	'policy "(1 >> 2) + 3 + (4 > 5)" group "(1 >> 2)" P1=approx P2=yes P3=yes P4=yes P5=yes P6=yes group "(4 > 5)" P1=yes P2=yes P3=yes P4=yes P5=yes P6=yes ' \
	! "guarantees"
print_test "qdisc P7 stated: shown on pifo too, for the policy and inside groups" qdisc-p7 -- \
	'policy "(1 >> 2) + 3 + (4 > 5)" group "(1 >> 2)" P1=approx P2=yes P3=yes P4=yes P5=yes P6=yes P7=yes group "(4 > 5)" P1=yes P2=yes P3=yes P4=yes P5=yes P6=yes P7=no ' \
	"guarantees P1=yes P2=yes P3=yes P4=yes P5=yes P6=yes P7=no "
print_test "qdisc P7 not stated (older module): no P7" qdisc-nested -- \
	! "P7"
print_test "qdisc pifo hides guarantees" qdisc-full -- \
	"  backend pifo unpifoness 0 drops admission 0" ! "guarantees" "queue 0"
print_test "class options" class-full -- \
	"class qvisor 1:3 dev lo parent 1:" "rank mark 0xff " \
	"range 3 9 " "levels 3 " "weight 60 " "ceil 10Mbit " "burst 15Kb " \
	"limit 100p" ! "10ms"
print_test "class xstats" class-full -- \
	"  tier 1 level 2 offset 64 width 3" \
	"  ranks 3..9 joint 64..66 clamped 5 best 28" \
	"  group 2 share 60.00% quantum 2280 credit -120 tokens 4000 deferred 6" \
	"  drops pushout 21 limit 22 tenant_limit 23 inversions 24 unpifoness 26 admission 25" \
	! "tenants" "resynth"
print_test "class edf budget, ceil 0 and limit 0 hidden" class-edf -- \
	"rank edf 10ms range 3 9" ! "ceil" "limit 0p" "0xffffffff"
print_test "class mark with full mask" class-mark-all -- \
	"rank mark range 3 9" ! "0xffffffff"
print_test "class without stats" class-nostats -- \
	"rank dscp range 3 9" ! "tier" "tenants"
print_test "class range auto" class-rauto -- \
	"range auto 3 9 window 512 levels 3 " \
	"range_auto tables 27 shift 290000 ppm" ! "range 3 9"
print_test "class xstats of a module before best_pkts" class-rauto-old -- \
	"clamped 5" "range_auto tables 27" ! "best" "shift"
print_test "class without range auto hides it" class-full -- \
	"range 3 9 " ! "auto" "window" "range_auto" "shift"

parse_test "unknown qdisc option" 'What is "foo"?' \
	qdisc add dev lo root handle 1: qvisor foo
parse_test "qdisc help" "Usage: ... qvisor [ rate RATE ]" \
	qdisc add dev lo root handle 1: qvisor help
parse_test "buckets not a power of two" 'illegal "buckets" "100"' \
	qdisc add dev lo root handle 1: qvisor buckets 100
parse_test "buckets too large" 'illegal "buckets" "131072"' \
	qdisc add dev lo root handle 1: qvisor buckets 131072
parse_test "lend over a minute" 'illegal "lend" "61s"' \
	qdisc add dev lo root handle 1: qvisor backend sppifo 8 lend 61s
parse_test "lend not a time" 'illegal "lend" "soon"' \
	qdisc add dev lo root handle 1: qvisor lend soon
parse_test "lend twice" 'duplicate "lend"' \
	qdisc add dev lo root handle 1: qvisor lend 10ms lend 20ms
parse_test "overlap over 100" 'illegal "overlap" "101"' \
	qdisc add dev lo root handle 1: qvisor overlap 101
parse_test "sppifo queues" 'illegal "sppifo" "33"' \
	qdisc add dev lo root handle 1: qvisor backend sppifo 33
parse_test "unknown backend" 'illegal "backend" "wfq"' \
	qdisc add dev lo root handle 1: qvisor backend wfq
parse_test "duplicate option" 'duplicate "limit"' \
	qdisc add dev lo root handle 1: qvisor limit 1 limit 2
parse_test "unknown class option" 'What is "bar"?' \
	class add dev lo parent 1: classid 1:3 qvisor bar
parse_test "class help" "Usage: ... qvisor [ rank" \
	class add dev lo parent 1: classid 1:3 qvisor help
parse_test "weight 0" 'illegal "weight" "0"' \
	class add dev lo parent 1: classid 1:3 qvisor weight 0
parse_test "weight too large" 'illegal "weight" "65536"' \
	class add dev lo parent 1: classid 1:3 qvisor weight 65536
parse_test "range lo > hi" 'illegal "range" 5 1' \
	class add dev lo parent 1: classid 1:3 qvisor range 5 1
parse_test "range auto window too small" 'illegal "window" "8"' \
	class add dev lo parent 1: classid 1:3 qvisor range auto window 8
parse_test "range auto LO > HI" 'illegal "range" 5 1' \
	class add dev lo parent 1: classid 1:3 qvisor range auto 5 1
parse_test "range twice" 'duplicate "range"' \
	class add dev lo parent 1: classid 1:3 qvisor range auto range 1 2
parse_test "levels 0" 'illegal "levels" "0"' \
	class add dev lo parent 1: classid 1:3 qvisor levels 0
parse_test "unknown rank" 'illegal "rank" "wrr"' \
	class add dev lo parent 1: classid 1:3 qvisor rank wrr
parse_test "mark mask does not eat next keyword" 'illegal "weight" "0"' \
	class add dev lo parent 1: classid 1:3 qvisor rank mark weight 0
parse_test "mark mask 0" 'illegal "mark" "0"' \
	class add dev lo parent 1: classid 1:3 qvisor rank mark 0

echo "1..$N"
echo "# $((N - FAILED)) passed, $FAILED failed"
[ $FAILED = 0 ] || exit 1
exit 0
