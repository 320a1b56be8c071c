#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Instructions per enqueue+dequeue pair of the portable core (bucket array,
# with and without the rank transform) against a binary heap, counted with
# callgrind (repeatable whatever the machine's load).  Used by
# `make bench-core`; prints a Markdown table.
#
#   tools/bench/core-bench.sh [DEPTH] [PAIRS]
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
DEPTH=${1:-1000}
PAIRS=${2:-100000}
BIN=$TOP/out/bench/core_bench
mkdir -p "$TOP/out/bench"
${CC:-gcc} -O2 -Wall -Wextra -Werror -I "$TOP/include" -o "$BIN" \
	"$TOP/tools/bench/core_bench.c" "$TOP"/core/*.c -lm
command -v valgrind >/dev/null || { echo "core-bench: valgrind missing" >&2; exit 1; }

ir() {	# MODE BUCKETS DIST -> instructions per pair
	local f=$TOP/out/bench/cg.$1.$2.$3
	valgrind --tool=callgrind "--toggle-collect=run_*" \
		--callgrind-out-file="$f" "$BIN" "$1" "$2" "$3" "$DEPTH" "$PAIRS" \
		>/dev/null 2>&1
	awk -v n="$PAIRS" '/^totals:/ { printf "%.1f", $2 / n }' "$f"
}

echo "Instructions per enqueue+dequeue pair, $DEPTH packets queued, $PAIRS pairs (callgrind, gcc -O2, $(uname -m))"
echo
echo "| buckets | ranks | PIFO | PIFO + transform | PIFO + range auto | binary heap | heap / PIFO |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for b in 64 4096 65536; do
	for d in uniform skewed zipf; do
		p=$(ir pifo $b $d) x=$(ir pifo-xform $b $d) a=$(ir pifo-rauto $b $d) h=$(ir heap $b $d)
		echo "| $b | $d | $p | $x | $a | $h | $(awk -v h="$h" -v p="$p" 'BEGIN { printf "%.1fx", h / p }') |"
	done
done
echo
echo "The measuring loop alone (next rank, checksum, no queue): $(ir none 64 uniform) instructions per pair, included in every count above."
