#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#
# run.sh [TEST...] -- [FUZZER...]
#
# Runs the host unit tests and the libFuzzer targets and prints one TAP
# stream: each unit test's own TAP output is shown indented (a TAP 13
# subtest) followed by one "ok N - name" line for it; each fuzzer gets one
# line with its executions and exec/s, or "# SKIP" when clang or the
# libFuzzer runtime is missing.  Exit status: 1 if anything failed.
#
# Environment: CLANG, FUZZ_CFLAGS (from the Makefile), FUZZ_SECONDS
# (bounded run time of each fuzzer, default 20), MAKE and IPROUTE2 (the
# iproute2 source fuzz_plugin links with, default ../../.cache/iproute2).

cd "$(dirname "$0")" || exit 1

tests=""
fuzzers=""
seen_sep=0
for a in "$@"; do
	if [ "$a" = "--" ]; then
		seen_sep=1
	elif [ $seen_sep = 0 ]; then
		tests="$tests $a"
	else
		fuzzers="$fuzzers $a"
	fi
done

: "${CLANG:=clang}"
: "${FUZZ_SECONDS:=20}"
: "${MAKE:=make}"
: "${IPROUTE2:=../../.cache/iproute2}"
: "${FUZZ_CFLAGS:=-O1 -g -Wall -Wextra -Werror -I../../include -I../../include/uapi -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all}"

n=0
for t in $tests $fuzzers; do n=$((n + 1)); done
echo "TAP version 13"
echo "1..$n"

i=0
fail=0
for t in $tests; do
	i=$((i + 1))
	out=$(mktemp)
	./"$t" >"$out" 2>&1
	rc=$?
	sed 's/^/    /' "$out"
	if [ $rc -eq 0 ]; then
		echo "ok $i - $t"
	else
		echo "not ok $i - $t # exit $rc"
		fail=1
	fi
	rm -f "$out"
done

# Can clang build and link a libFuzzer target here?
fuzz_skip=""
if [ -n "$fuzzers" ]; then
	if ! command -v "$CLANG" >/dev/null 2>&1; then
		fuzz_skip="no $CLANG (tools/deps.sh installs it)"
	else
		probe=$(mktemp -d)
		printf '%s\n' '#include <stdint.h>' '#include <stddef.h>' \
			'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)' \
			'{ (void)d; (void)n; return 0; }' >"$probe/p.c"
		if ! "$CLANG" -fsanitize=fuzzer,address,undefined \
			"$probe/p.c" -o "$probe/p" >/dev/null 2>&1; then
			fuzz_skip="libFuzzer runtime missing (apt-get install libclang-rt-\$(clang major)-dev, e.g. libclang-rt-14-dev)"
		fi
		rm -rf "$probe"
	fi
fi

seed_corpus() {
	d=$1
	case "$2" in
	fuzz_policy)
		k=0
		for p in "1" "1 >> 2 + 3" "1 >> 2 > 3 + 4 >> 5" "a + B > 1:10" \
			" 1\t>>\n2 " "1 >>> 2" "1 + + 2" "10000" "ffff>fffe>>1:3" \
			"1+2+3+4+5+6+7+8+9+a+b+c+d+e+f+10+11+12"; do
			printf "$p" >"$d/seed$k"
			k=$((k + 1))
		done
		;;
	fuzz_policy_tree)
		# "1 >> 2 + 3", "1" and the empty tree (TCA_QVISOR_POLICY_TREE)
		printf '\x28\x00\x15\x80\x05\x00\x01\x00\x02\x00\x00\x00\x06\x00\x02\x00\x01\x00\x00\x00\x14\x00\x03\x80\x05\x00\x01\x00\x00\x00\x00\x00\x08\x00\x02\x00\x02\x00\x03\x00' >"$d/seed0"
		printf '\x14\x00\x15\x80\x05\x00\x01\x00\x00\x00\x00\x00\x06\x00\x02\x00\x01\x00\x00\x00' >"$d/seed1"
		printf '\x04\x00\x15\x80' >"$d/seed2"
		;;
	fuzz_plugin)
		# mode byte 1 = qdisc options, 2 = class options, 0 = print
		k=0
		for p in "\001rate 100mbit limit 1000 buckets 4096 slot 1ms default 1a" \
			"\001backend sppifo 8 policy 1>>2+3 overlap 50%%" \
			"\001backend pifo rate 0 limit" \
			"\001backend sppifo 2 partial policy 1>>2>>3" "\001nopartial backend aifo" \
			"\002rank mark 0xff range 0 100 levels 8 weight 2" \
			"\002range auto 0 100 window 64 levels 8" "\002rank dscp range auto" \
			"\002rank edf 10ms ceil 40mbit burst 15k limit 100" \
			"\002rank dscp range 5 1" \
			"\001flows 4096 flow_idle 200ms" \
			"\002rank las range 0 100000 levels 1024" \
			"\002rank stfq" \
			"\001aqm target 5ms interval 100ms noecn memlimit 4m" \
			"\002noaqm ecn target 1ms interval 20ms"; do
			printf "$p" >"$d/seed$k"
			k=$((k + 1))
		done
		# print: TCA_QVISOR_RATE, LIMIT, BACKEND sppifo, QUEUES, POLICY
		printf '\000\014\000\001\000\040\274\276\000\000\000\000\000\010\000\002\000\020\047\000\000\005\000\006\000\001\000\000\000\010\000\007\000\004\000\000\000\010\000\010\000\061\076\062\000' >"$d/seed$k"
		;;
	fuzz_spec)
		k=0
		for sf in specs/*.spec ../../Documentation/examples/*.spec; do
			cp "$sf" "$d/seed$k"
			k=$((k + 1))
		done
		;;
	fuzz_rauto)
		# window 64, 8 levels; runs of ranks 0, 1000 and 40000, a new
		# window of 16, one long run at rank 7
		printf '\100\000\000\000\010\000\000\000\077\000\000\000\000\077\350\003\000\000\077\100\234\000\000\300\020\000\000\000\237\007\000\000\000' >"$d/seed0"
		;;
	fuzz_synth)
		printf '\003\000\020\000\000\062\000\000\000\000\011\000\000\000\003\000\000\000\102\007\000\000\000\000\000\000\000\002\000\000\000\002\003\000\000\000\000\000\000\000\002\000\000\000' >"$d/seed0"
		;;
	esac
}

for f in $fuzzers; do
	i=$((i + 1))
	if [ -n "$fuzz_skip" ]; then
		echo "ok $i - $f # SKIP $fuzz_skip"
		continue
	fi
	if [ "$f" = fuzz_plugin ] && [ ! -f "$IPROUTE2/tc/tc_util.h" ]; then
		echo "ok $i - $f # SKIP no iproute2 source in $IPROUTE2 (run tools/deps.sh)"
		continue
	fi
	log=$(mktemp)
	if [ "$f" = fuzz_plugin ]; then
		# links iproute2 objects: built by the Makefile rule
		build() { "$MAKE" -s --no-print-directory "$f" CLANG="$CLANG" \
			FUZZ_CFLAGS="$FUZZ_CFLAGS" IPROUTE2="$IPROUTE2"; }
	else
		build() { "$CLANG" $FUZZ_CFLAGS "$f.c" ../../core/*.c -o "$f"; }
	fi
	if ! build >"$log" 2>&1; then
		sed 's/^/    # /' "$log"
		echo "not ok $i - $f # build failed"
		fail=1
		rm -f "$log"
		continue
	fi
	work="fuzz-work/$f"
	mkdir -p "$work/corpus" "$work/artifacts"
	seed_corpus "$work/corpus" "$f"
	./"$f" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 \
		-artifact_prefix="$work/artifacts/" -close_fd_mask=1 \
		"$work/corpus" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(sed -n 's/^#[0-9]*.*DONE *cov: \([0-9]*\).*/\1/p' "$log" | tail -1)
	if [ $rc -eq 0 ]; then
		echo "ok $i - $f ${FUZZ_SECONDS}s: ${runs:-?} execs, ${eps:-?} exec/s, cov ${cov:-?}"
	else
		grep -v '^#[0-9]' "$log" | tail -40 | sed 's/^/    # /'
		echo "not ok $i - $f # exit $rc, reproducer in selftests/host/$work/artifacts/"
		fail=1
	fi
	rm -f "$log"
done

exit $fail
