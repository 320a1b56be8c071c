#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# make upstream: the qdisc as patch series for the Linux kernel and for
# iproute2, written by git format-patch, and (--check) applied to Debian's
# linux-source-6.12 and to the iproute2 source and built there.
#
#   tools/upstream.sh [--check] [OUT]      OUT default out/upstream
#
# OUT/kernel/*.patch (against linux-source-6.12: net/sched/Kconfig and
# net/sched/Makefile are taken from it for the context lines):
#   1 the uapi header include/uapi/linux/pkt_sched_qvisor.h
#   2 the portable core, net/sched/qvisor/core/*.c and its headers
#   3 the qdisc, net/sched/qvisor/sch_qvisor_main.c (qvisor_compat.h's
#     helpers in their net-next form, no MODULE_VERSION), its tracepoints
#     include/trace/events/qvisor.h, Kconfig and Makefiles
#   4 the tc-testing cases, tools/testing/selftests/tc-testing/tc-tests/
#     qdiscs/qvisor.json
# OUT/iproute2/*.patch (against the iproute2 source tools/deps.sh unpacks):
#   1 include/uapi/linux/pkt_sched_qvisor.h
#   2 tc/q_qvisor.c (with iproute2's own headers), tc/Makefile,
#     man/man8/tc-qvisor.8
#
# --check applies the kernel series to a copy of linux-source-6.12 (cached
# in LINUX_SRC_CACHE), configures it as Debian's cloud kernel with
# CONFIG_NET_SCH_QVISOR=m and builds net/sched/qvisor/ with W=1 and sparse
# (C=1); runs the kernel's checkpatch.pl --strict inside that tree on every
# patch; applies the iproute2 series to a copy of the iproute2 source and
# builds tc.  Any compiler, sparse or checkpatch message about a qvisor
# file fails.  TAP on stdout.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
CHECK=0
[ "${1:-}" = --check ] && { CHECK=1; shift; }
OUT=$(realpath -m "${1:-$TOP/out/upstream}")
KSRC_TAR=${KSRC_TAR:-/usr/src/linux-source-6.12.tar.xz}
KCONFIG_XZ=${KCONFIG_XZ:-/usr/src/linux-config-6.12/config.amd64_none_cloud-amd64.xz}
LINUX_SRC_CACHE=${LINUX_SRC_CACHE:-/var/cache/qvisor/linux-src}
IPROUTE2=${IPROUTE2:-$TOP/.cache/iproute2}
WORK=$OUT/work

die() { echo "upstream: $*" >&2; exit 1; }

# The kernel source, unpacked once; a stamp says it is complete.
linux_src() {
	local d=$LINUX_SRC_CACHE/linux-source-6.12
	if [ ! -f "$LINUX_SRC_CACHE/.unpacked" ]; then
		[ -f "$KSRC_TAR" ] || die "no $KSRC_TAR (apt-get install linux-source-6.12)"
		rm -rf "$LINUX_SRC_CACHE" && mkdir -p "$LINUX_SRC_CACHE" &&
			tar -xJf "$KSRC_TAR" -C "$LINUX_SRC_CACHE" &&
			touch "$LINUX_SRC_CACHE/.unpacked" || die "unpacking $KSRC_TAR failed"
	fi
	echo "$d"
}

# A repository holding only the files the series touches, as the base
# tree has them, so that format-patch writes real context.
base_repo() {
	local repo=$1 src=$2 f
	shift 2
	rm -rf "$repo" && mkdir -p "$repo"
	git -C "$repo" init -q
	git -C "$repo" config user.name "The qvisor developers"
	git -C "$repo" config user.email "qvisor@localhost"
	for f in "$@"; do
		mkdir -p "$repo/$(dirname "$f")"
		cp "$src/$f" "$repo/$f" || die "no $src/$f"
	done
	git -C "$repo" add -A
	commit "$repo" "base"
}

commit() {
	git -C "$1" add -A
	GIT_AUTHOR_NAME="The qvisor developers" GIT_AUTHOR_EMAIL="qvisor@localhost" \
	GIT_COMMITTER_NAME="The qvisor developers" GIT_COMMITTER_EMAIL="qvisor@localhost" \
	GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z" \
		git -C "$1" -c core.autocrlf=false commit -q -s -F - <<<"$2" ||
		die "commit in $1 failed"
}

kernel_series() {
	local r=$WORK/linux q=net/sched/qvisor src
	src=$(linux_src) || exit 1
	base_repo "$r" "$src" net/sched/Kconfig net/sched/Makefile
	mkdir -p "$r/include/uapi/linux"
	cp "$TOP/include/uapi/linux/pkt_sched_qvisor.h" "$r/include/uapi/linux/"
	commit "$r" "net/sched: qvisor: add the uapi header

Netlink attributes and statistics of the qvisor qdisc, a scheduling
hypervisor: several tenants, each ordering its own packets by rank, share
one link under an operator policy such as \"1 >> 2 > 3 + 4\"."
	mkdir -p "$r/$q/core" "$r/$q/include/qvisor"
	# the string parser (core/policy.c) is userspace's: tc sends a tree
	cp "$TOP"/core/policy_tree.c "$TOP"/core/synth.c "$TOP"/core/qmap.c "$r/$q/core/"
	cp "$TOP"/include/qvisor/*.h "$r/$q/include/qvisor/"
	commit "$r" "net/sched: qvisor: add the scheduling core

The policy tree (netlink attributes to flat entries, validated), the
synthesizer that turns the policy and each
tenant's declared rank range into per-tenant rank transforms onto one
joint rank space, and the queue map of the queue backends (core/*.c), and
the per-packet core inline in include/qvisor/: the bucket array, the
transform, credits and caps, the rank functions and the flow table.  The
same files build in userspace for unit tests and fuzzing."
	mkdir -p "$r/include/trace/events"
	cp "$TOP/include/trace/events/qvisor.h" "$r/include/trace/events/"
	# in-tree: no qvisor_compat.h (it bridges 6.1 to 7.2 for the
	# out-of-tree module); its helpers in their net-next form
	python3 - "$TOP/sch_qvisor_main.c" "$r/$q/sch_qvisor_main.c" <<-'PY' || die "sch_qvisor_main.c edit failed"
	import sys
	s = open(sys.argv[1]).read()
	inc = '#include "qvisor_compat.h"\n'
	assert s.count(inc) == 1
	s = s.replace(inc, '#include <net/gso.h>\n')
	helpers = '''
	#define qvisor_ext_msg(extack, msg) NL_SET_ERR_MSG_FMT_MOD(extack, "%s", msg)
	#define QVISOR_RANGE(r)\t(&(r))
	'''
	anchor = '#define CREATE_TRACE_POINTS\n'
	assert s.count(anchor) == 1
	s = s.replace(anchor, helpers.lstrip('\n') + '\n' + anchor)
	ver = 'MODULE_VERSION(QVISOR_VERSION);\n'
	assert s.count(ver) == 1
	s = s.replace(ver, '')
	open(sys.argv[2], 'w').write(s)
	PY
	cat >"$r/$q/Makefile" <<-'MK'
	# SPDX-License-Identifier: GPL-2.0-only
	obj-$(CONFIG_NET_SCH_QVISOR) += sch_qvisor.o
	sch_qvisor-y := sch_qvisor_main.o core/policy_tree.o core/synth.o core/qmap.o
	ccflags-y := -I$(srctree)/$(src)/include
	MK
	python3 - "$r/net/sched/Kconfig" "$r/net/sched/Makefile" <<-'PY' || die "Kconfig/Makefile edit failed"
	import sys
	k, m = sys.argv[1], sys.argv[2]
	s = open(k).read()
	entry = '''config NET_SCH_QVISOR
	\ttristate "qvisor scheduling hypervisor"
	\thelp
	\t  Several tenants share one egress link; each orders its own
	\t  packets by rank as if it owned a PIFO queue, and one operator
	\t  policy (strict priority, preference, weighted sharing) is
	\t  synthesized into per-tenant rank transforms onto a joint rank
	\t  space, applied per packet in O(1).

	\t  To compile this code as a module, choose M here: the
	\t  module will be called sch_qvisor.

	\t  If unsure, say N.

	menuconfig NET_SCH_DEFAULT'''
	assert s.count('menuconfig NET_SCH_DEFAULT') == 1
	open(k, 'w').write(s.replace('menuconfig NET_SCH_DEFAULT', entry))
	s = open(m).read()
	line = 'obj-$(CONFIG_NET_SCH_ETS)\t+= sch_ets.o\n'
	assert s.count(line) == 1
	open(m, 'w').write(s.replace(line, line + 'obj-$(CONFIG_NET_SCH_QVISOR)\t+= qvisor/\n'))
	PY
	commit "$r" "net/sched: add the qvisor qdisc

qvisor lets many tenants (VMs on taps, containers, traffic classes)
share one egress link.  Each tenant is a class that orders its own
packets by rank (skb->priority, mark bits, DSCP, or a rank function:
las, stfq, edf); the operator writes one policy such as
\"1 >> 2 > 3 + 4\" (strict priority, preference, sharing by weight) and
qvisor synthesizes per-tenant transforms onto one joint rank space,
served by a bucket array in O(1) per packet.  Per-tenant weights,
ceilings and limits, an optional link rate, and push-out of the
worst-ranked packet when the queue is full."
	mkdir -p "$r/tools/testing/selftests/tc-testing/tc-tests/qdiscs"
	cp "$TOP/selftests/tc-testing/qvisor.json" \
		"$r/tools/testing/selftests/tc-testing/tc-tests/qdiscs/"
	commit "$r" "selftests/tc-testing: add qvisor tests

Creation with defaults and with options, rejected policies and options
leaving nothing behind or the old configuration in place, change,
replace, classes, qvisor under htb, and JSON output."
	rm -rf "$OUT/kernel" && mkdir -p "$OUT/kernel"
	git -C "$r" format-patch -q --cover-letter -o "$OUT/kernel" HEAD~4 ||
		die "format-patch failed"
	cover "$OUT/kernel/0000-cover-letter.patch"
}

# The cover letter's subject and text
cover() {
	python3 - "$1" <<-'PY' || die "cover letter edit failed"
	import sys
	p = sys.argv[1]
	s = open(p).read()
	s = s.replace('*** SUBJECT HERE ***', 'net/sched: add qvisor, a scheduling hypervisor qdisc')
	s = s.replace('*** BLURB HERE ***', '''qvisor lets many tenants share one egress link.  Each tenant (a class)
	orders its own packets by rank as if it owned a PIFO queue; the operator
	writes one policy, "1 >> 2 > 3 + 4" (strict priority, preference,
	sharing by weight), and qvisor synthesizes per-tenant rank transforms
	onto one joint rank space served by a bucket array: O(1) per packet.

	Patch 1 adds the uapi header, patch 2 the scheduling core (policy
	parser, synthesizer, queue map; the per-packet parts inline in its
	headers), patch 3 the qdisc with its Kconfig and Makefile entries,
	patch 4 tc-testing cases.  The iproute2 part is a separate series.
	A MAINTAINERS entry is left for a later revision.''')
	open(p, 'w').write(s)
	PY
}

iproute2_series() {
	local r=$WORK/iproute2
	[ -f "$IPROUTE2/tc/Makefile" ] || die "no iproute2 source in $IPROUTE2 (tools/deps.sh)"
	base_repo "$r" "$IPROUTE2" tc/Makefile
	mkdir -p "$r/include/uapi/linux"
	cp "$TOP/include/uapi/linux/pkt_sched_qvisor.h" "$r/include/uapi/linux/"
	commit "$r" "uapi: add pkt_sched_qvisor.h"
	mkdir -p "$r/man/man8"
	cp "$TOP/Documentation/tc-qvisor.8" "$r/man/man8/"
	# iproute2's own headers in place of include/tc/qvisor_tc.h
	python3 - "$TOP/q_qvisor.c" "$r/tc/q_qvisor.c" <<-'PY' || die "q_qvisor.c edit failed"
	import re, sys
	s = open(sys.argv[1]).read()
	old = re.search(r'/\* tc.s helpers, declared in-tree.*?#include <uapi/linux/pkt_sched_qvisor.h>\n', s, re.S)
	assert old, 'include block of q_qvisor.c not found'
	s = s.replace(old.group(0), '#include "utils.h"\n#include "tc_util.h"\n#include "tc_common.h"\n#include <linux/pkt_sched_qvisor.h>\n')
	open(sys.argv[2], 'w').write(s)
	PY
	# the policy string parser and the tree encoder/decoder are the
	# module's core files (the kernel takes the policy as a tree)
	mkdir -p "$r/tc/qvisor"
	cp "$TOP/core/policy.c" "$r/tc/q_qvisor_policy.c"
	cp "$TOP/core/policy_tree.c" "$r/tc/q_qvisor_tree.c"
	cp "$TOP"/include/qvisor/{types,policy,policy_tree}.h "$r/tc/qvisor/"
	python3 - "$r/tc/Makefile" <<-'PY' || die "tc/Makefile edit failed"
	import sys
	p = sys.argv[1]
	s = open(p).read()
	line = 'TCMODULES += q_ets.o\n'
	assert s.count(line) == 1
	open(p, 'w').write(s.replace(line, line + 'TCMODULES += q_qvisor.o q_qvisor_policy.o q_qvisor_tree.o\n'))
	PY
	commit "$r" "tc: add support for the qvisor qdisc

qvisor is a scheduling hypervisor qdisc: tenants (classes) order their own
packets by rank and one policy string such as \"1 >> 2 > 3 + 4\" says how
they share the link.  Options of the qdisc and its classes, their
printing (also as JSON) and xstats, and the tc-qvisor(8) man page.  The
policy string is parsed here (q_qvisor_policy.c, the kernel module's
own parser) and sent as a tree of nested attributes (q_qvisor_tree.c)."
	rm -rf "$OUT/iproute2" && mkdir -p "$OUT/iproute2"
	git -C "$r" format-patch -q -o "$OUT/iproute2" HEAD~2 || die "format-patch failed"
}

kernel_series
iproute2_series
echo "upstream: $(ls "$OUT"/kernel/*.patch | wc -l) kernel and" \
	"$(ls "$OUT"/iproute2/*.patch | wc -l) iproute2 patches in $OUT" >&2
[ $CHECK = 1 ] || exit 0

# --- --check -----------------------------------------------------------------
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() {
	n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"
	shift; [ $# -gt 0 ] && printf '%s\n' "$@" | tail -n 40 | sed 's/^/#   /'
}
JOBS=$(nproc)

src=$(linux_src) || exit 1
tree=$WORK/linux-tree
rm -rf "$tree"
# a private copy: hard links for the untouched files, real copies where
# the patches write (patch breaks the links it touches)
cp -al "$src" "$tree" 2>/dev/null || { rm -rf "$tree"; cp -a "$src" "$tree"; } ||
	die "copying the kernel tree failed"
log=$WORK/apply.log
if (cd "$tree" && for p in "$OUT"/kernel/0*.patch; do
		case $p in *0000-cover-letter.patch) continue ;; esac
		patch -p1 --follow-symlinks -s <"$p" || exit 1
	done) >"$log" 2>&1; then
	ok "kernel series applies to linux-source-6.12"
else
	notok "kernel series applies to linux-source-6.12" "$(cat "$log")"
fi

# FILE_PATH_CHANGES asks for a MAINTAINERS entry: said in the cover
# letter.  In the tracepoint header (TRACE_EVENT idiom, see the Makefile's
# checkpatch) OPEN_ENDED_LINE and PARENTHESIS_ALIGNMENT are not errors.
cp_out=$(cd "$tree" && for p in "$OUT"/kernel/0*.patch; do
	case $p in *0000-cover-letter.patch) continue ;; esac
	perl scripts/checkpatch.pl --strict --terse --show-types "$p" 2>&1 |
		python3 -c '
import re, sys
patch = open(sys.argv[1]).read().split("\n")
where, cur = [], None
for line in patch:
	if line.startswith("+++ b/"):
		cur = line[6:]
	where.append(cur)
for m in sys.stdin:
	r = re.match(r"[^:]*:(\d+): (ERROR|WARNING|CHECK):(\w+):", m)
	if not r or r.group(3) == "FILE_PATH_CHANGES":
		continue
	f = where[int(r.group(1)) - 1] if int(r.group(1)) <= len(where) else None
	if f == "include/trace/events/qvisor.h" and r.group(3) in ("OPEN_ENDED_LINE", "PARENTHESIS_ALIGNMENT"):
		continue
	sys.stdout.write(m)
' "$p"
done)
if [ -z "$cp_out" ]; then
	ok "kernel's checkpatch.pl --strict on every kernel patch"
else
	notok "kernel's checkpatch.pl --strict on every kernel patch" "$cp_out"
fi

log=$WORK/build.log
if (cd "$tree" && xz -dc "$KCONFIG_XZ" >.config &&
	scripts/config --module NET_SCH_QVISOR \
		--set-str SYSTEM_TRUSTED_KEYS "" --set-str SYSTEM_REVOCATION_KEYS "" \
		--disable MODULE_SIG_ALL --disable DEBUG_INFO_BTF &&
	make -s olddefconfig && grep -qx 'CONFIG_NET_SCH_QVISOR=m' .config &&
	make -s -j"$JOBS" modules_prepare &&
	make -j"$JOBS" W=1 C=1 net/sched/qvisor/) >"$log" 2>&1; then
	msgs=$(grep -E 'qvisor.*(warning|error):' "$log")
	if [ -z "$msgs" ] && [ -f "$tree/net/sched/qvisor/sch_qvisor.o" ]; then
		ok "in-tree build of net/sched/qvisor/ (CONFIG_NET_SCH_QVISOR=m, W=1, C=1) without messages"
	else
		notok "in-tree build of net/sched/qvisor/ (W=1, C=1) without messages" "$msgs"
	fi
else
	notok "in-tree build of net/sched/qvisor/ (CONFIG_NET_SCH_QVISOR=m, W=1, C=1)" "$(cat "$log")"
fi
if command -v sparse >/dev/null && grep -q 'CHECK.*net/sched/qvisor/sch_qvisor_main.c' "$log"; then
	ok "sparse ran on the qdisc"
else
	notok "sparse ran on the qdisc (apt-get install sparse)" "$(grep -c CHECK "$log") CHECK lines"
fi

ip2=$WORK/iproute2-tree
rm -rf "$ip2" && cp -a "$IPROUTE2" "$ip2"
log=$WORK/iproute2.log
if (cd "$ip2" && for p in "$OUT"/iproute2/0*.patch; do patch -p1 -s <"$p" || exit 1; done &&
	./configure >/dev/null && make -s -j"$JOBS" SUBDIRS="lib tc") >"$log" 2>&1 &&
	nm "$ip2/tc/tc" | grep -q ' qvisor_qdisc_util$'; then
	msgs=$(grep -E 'q_qvisor.*(warning|error):' "$log")
	if [ -z "$msgs" ]; then
		ok "iproute2 series applies and tc builds with q_qvisor.o"
	else
		notok "iproute2 series: tc builds, with messages" "$msgs"
	fi
	if "$ip2/tc/tc" qdisc add dev lo root qvisor help 2>&1 | grep -q 'Usage: ... qvisor'; then
		ok "the built tc knows qvisor (its help text)"
	else
		notok "the built tc knows qvisor (its help text)" \
			"$("$ip2/tc/tc" qdisc add dev lo root qvisor help 2>&1)"
	fi
else
	notok "iproute2 series applies and tc builds with q_qvisor.o" "$(cat "$log")"
fi
echo "1..$n"
[ $failed = 0 ]
