#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Build the test VM's initramfs for one Debian kernel.
#
#   tools/vm/mkinitramfs.sh KVER OUT.cpio.gz [TEST...]
#
# The image is made of the host's own binaries (busybox-static, bash, tc,
# ip, ss, ping, iperf3, jq, tcpdump and their shared libraries), the
# kernel modules the tests need (with their dependencies, resolved from
# the kernel's modules.dep), and the project's artefacts:
# out/KVER/sch_qvisor.ko, q_qvisor.so, out/tools/*, selftests/vm/*.  TEST
# names (default: every selftests/vm/*.sh but the libraries lib*.sh) are
# written to /qvisor/tests, which the guest /init runs; a TEST path outside
# selftests/vm (a benchmark) is copied in beside them.
#
# The part that does not depend on the project (binaries, libraries, kernel
# modules) is staged once per kernel under .cache/initramfs/KVER/ and reused
# while this script, the module list and the host packages are unchanged.
#
# Environment: QVISOR_VM_MODULES adds kernel modules (names, no .ko);
# QVISOR_VM_PROGS adds host programs with their libraries to this image
# (in /usr/local/bin, after the project's tools, so they replace them);
# QVISOR_VM_FILES adds files or whole folders, each SRC (copied to the
# same path) or SRC=DEST (make demo-vms: QEMU's data, a guest's kernel);
# QVISOR_VM_KO and QVISOR_VM_PLUGIN replace out/KVER/sch_qvisor.ko and
# q_qvisor.so (make deb-check: the packaged ones);
# QVISOR_KERNELS is the folder of kernels (default .cache/kernels).
set -euo pipefail

usage() { echo "usage: $0 KVER OUT.cpio.gz [TEST...]" >&2; exit 2; }
[ $# -ge 2 ] || usage
KVER=$1 OUT=$2
shift 2

TOP=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${QVISOR_CACHE:-$TOP/.cache}
KROOT=${QVISOR_KERNELS:-$CACHE/kernels}/$KVER/root
KMODS=$KROOT/lib/modules/$KVER
[ -d "$KMODS/kernel" ] || {
	echo "mkinitramfs: no modules for $KVER under $KMODS (run tools/deps.sh)" >&2
	exit 1
}

# Kernel modules the tests may load (dependencies are added automatically;
# names built into a kernel are skipped; pfifo/bfifo/fq_codel are built in).
MODULES="veth dummy bridge tun ifb
	sch_prio sch_htb sch_fq sch_fq_codel sch_codel sch_ets sch_skbprio sch_drr sch_tbf
	sch_hfsc sch_qfq
	sch_netem sch_sfq sch_cake sch_ingress sch_multiq sch_mqprio
	cls_u32 cls_flower cls_fw cls_bpf cls_basic cls_matchall
	act_skbedit act_gact act_mirred act_police
	pktgen tcp_diag ${QVISOR_VM_MODULES:-}"

# Host programs copied with their libraries (resolved to real paths).
PROGS="/usr/bin/bash /usr/sbin/tc /usr/bin/ip /usr/bin/ss /usr/bin/ping
	/usr/bin/iperf3 /usr/bin/jq /usr/bin/tcpdump"
# Busybox applets we must NOT link because the host version is the one
# the tests mean.
NO_APPLETS="tc ip ipneigh ping ping6 ss bash"

BASE=$CACHE/initramfs/$KVER
STAMP_WANT=$(
	{
		md5sum <"$0"
		echo "$MODULES"
		dpkg-query -W busybox-static bash iproute2 iperf3 iputils-ping \
			tcpdump libc6 2>/dev/null || true
	} | md5sum | cut -d' ' -f1
)

# Copy FILE (following symlinks) into DEST at the real path of its folder,
# so that /lib/x86_64-linux-gnu/libc.so.6 lands in usr/lib/... (merged /usr).
put_file() {
	local src=$1 dest=$2 dir
	dir=$(cd "$(dirname "$src")" && pwd -P)
	[ -e "$dest$dir/$(basename "$src")" ] && return 0
	mkdir -p "$dest$dir"
	cp -L "$src" "$dest$dir/$(basename "$src")"
}

# Copy an ELF program and its shared libraries.
put_prog() {
	local prog=$1 dest=$2 lib
	put_file "$prog" "$dest"
	for lib in $(ldd "$prog" 2>/dev/null |
		awk '/=> \//{print $3} /^\t\/[^ ]+ \(/{print $1}'); do
		put_file "$lib" "$dest"
	done
}

# Resolve module names (plus dependencies) to paths relative to $KMODS.
resolve_modules() {
	local dep=$1 name path want=" "
	for name in $MODULES; do
		path=$(grep -E "(^|/)${name}\.ko(\.xz|\.zst|\.gz)?:" "$dep" |
			head -n1 | cut -d: -f1) || true
		if [ -z "$path" ]; then
			grep -qE "/${name}\.ko$" "$KMODS/modules.builtin" ||
				echo "mkinitramfs: $KVER has no module $name" >&2
			continue
		fi
		want="$want$path $(grep -E "^${path//+/\\+}:" "$dep" | cut -d: -f2) "
	done
	echo "$want" | tr ' ' '\n' | sed '/^$/d' | sort -u
}

build_base() {
	local stage=$BASE/stage m dst dep applet
	rm -rf "$BASE"
	mkdir -p "$stage"
	cd "$stage"
	mkdir -p usr/bin usr/sbin usr/lib usr/lib64 usr/local/bin \
		proc sys dev tmp run etc root var qvisor
	ln -s usr/bin bin
	ln -s usr/sbin sbin
	ln -s usr/lib lib
	ln -s usr/lib64 lib64
	ln -s ../run var/run

	for m in $PROGS; do
		if [ ! -e "$m" ]; then
			echo "mkinitramfs: no $m on the host (tools/deps.sh test" \
				"installs it); the tests that need it skip" >&2
			continue
		fi
		put_prog "$m" "$stage"
	done
	ln -s /usr/bin/ip usr/sbin/ip
	ln -s /usr/bin/ss usr/sbin/ss
	# tc plugins and netem distribution tables shipped by Debian
	if [ -d /usr/lib/x86_64-linux-gnu/tc ]; then
		mkdir -p usr/lib/x86_64-linux-gnu
		cp -a /usr/lib/x86_64-linux-gnu/tc usr/lib/x86_64-linux-gnu/
		for m in usr/lib/x86_64-linux-gnu/tc/*.so; do
			[ -e "$m" ] && put_prog "/$m" "$stage"
		done
	fi
	[ -d /etc/iproute2 ] && cp -a /etc/iproute2 etc/

	cp /bin/busybox usr/bin/busybox
	for applet in $(busybox --list-full); do
		case " $NO_APPLETS " in *" $(basename "$applet") "*) continue ;; esac
		[ -e "$applet" ] || [ -L "$applet" ] || ln -s /usr/bin/busybox "$applet"
	done

	echo 'root:x:0:0:root:/root:/bin/bash' >etc/passwd
	echo 'root:x:0:' >etc/group
	printf '127.0.0.1 localhost\n::1 localhost\n' >etc/hosts
	printf 'tcp 6 TCP\nudp 17 UDP\nicmp 1 ICMP\n' >etc/protocols

	# kernel modules, decompressed so busybox modprobe can load them
	dep=$BASE/modules.dep
	depmod -n -b "$KROOT" "$KVER" 2>/dev/null |
		grep -E '^[^#: ]+\.ko(\.xz|\.zst|\.gz)?:' >"$dep"
	dst=$stage/usr/lib/modules/$KVER
	mkdir -p "$dst"
	for m in modules.builtin modules.builtin.modinfo modules.order; do
		[ -f "$KMODS/$m" ] && cp "$KMODS/$m" "$dst/"
	done
	for m in $(resolve_modules "$dep"); do
		mkdir -p "$dst/$(dirname "$m")"
		case $m in
		*.xz) xz -dc "$KMODS/$m" >"$dst/${m%.xz}" ;;
		*.zst) zstd -qdc "$KMODS/$m" >"$dst/${m%.zst}" ;;
		*.gz) gzip -dc "$KMODS/$m" >"$dst/${m%.gz}" ;;
		*) cp "$KMODS/$m" "$dst/$m" ;;
		esac
	done
	# modules.order must name the uncompressed files
	sed -i -E 's/\.ko\.(xz|zst|gz)$/.ko/' "$dst/modules.order"
	echo "$STAMP_WANT" >"$BASE/stamp"
}

# Several engineers (and make check) may build images at the same time.
mkdir -p "$CACHE/initramfs"
exec 9>"$CACHE/initramfs/$KVER.lock"
flock 9
if [ "$(cat "$BASE/stamp" 2>/dev/null)" != "$STAMP_WANT" ]; then
	echo "mkinitramfs: staging base image for $KVER" >&2
	(build_base)
fi

# Per-build image: hard-linked copy of the base plus the project's files.
mkdir -p "$(dirname "$OUT")"
WORK=$(mktemp -d "$OUT.root.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
rmdir "$WORK"
cp -al "$BASE/stage" "$WORK"
flock -u 9

# Files are replaced, never written through: the tree shares inodes with BASE.
put_new() {
	mkdir -p "$(dirname "$2")"
	rm -f "$2"
	cp "$1" "$2"
}

KO=${QVISOR_VM_KO:-$TOP/out/$KVER/sch_qvisor.ko}
if [ -f "$KO" ]; then
	put_new "$KO" "$WORK/usr/lib/modules/$KVER/extra/sch_qvisor.ko"
else
	echo "mkinitramfs: note: $KO not built, image has no qvisor module" >&2
fi
PLUGIN=${QVISOR_VM_PLUGIN:-$TOP/q_qvisor.so}
[ -f "$PLUGIN" ] &&
	put_new "$PLUGIN" "$WORK/usr/lib/x86_64-linux-gnu/tc/q_qvisor.so"
for t in "$TOP"/out/tools/*; do
	[ -f "$t" ] && [ -x "$t" ] || continue
	put_new "$t" "$WORK/usr/local/bin/$(basename "$t")"
	for lib in $(ldd "$t" 2>/dev/null | awk '/=> \//{print $3}'); do
		put_file "$lib" "$WORK"
	done
done
# BPF objects (tools/bpf: ranks across hops in the IPv6 flow label)
for t in "$TOP"/out/bpf/*.o; do
	[ -f "$t" ] && put_new "$t" "$WORK/usr/lib/qvisor/bpf/$(basename "$t")"
done
# Extra host programs for this image only (make bench-profile: perf)
for t in ${QVISOR_VM_PROGS:-}; do
	put_new "$t" "$WORK/usr/local/bin/$(basename "$t")"
	for lib in $(ldd "$t" 2>/dev/null | awk '/=> \//{print $3}'); do
		put_file "$lib" "$WORK"
	done
done
# Extra files and folders for this image only (make demo-vms)
for f in ${QVISOR_VM_FILES:-}; do
	src=${f%%=*} dst=${f#*=}
	rm -rf "$WORK$dst"
	mkdir -p "$(dirname "$WORK$dst")"
	cp -rL "$src" "$WORK$dst"
done
mkdir -p "$WORK/qvisor/selftests"
cp -a "$TOP"/selftests/vm/. "$WORK/qvisor/selftests/"
# tc-testing cases (tdc.sh runs them)
cp -a "$TOP"/selftests/tc-testing/*.json "$WORK/qvisor/selftests/"
put_new "$TOP/tools/vm/init.sh" "$WORK/init"
chmod 755 "$WORK/init"

if [ $# -eq 0 ]; then
	for t in "$TOP"/selftests/vm/*.sh; do
		case $(basename "$t") in lib*.sh) ;; *) set -- "$@" "$t" ;; esac
	done
fi
: >"$WORK/qvisor/tests"
for t in "$@"; do
	# A script outside selftests/vm (tools/bench/pktgen-bench.sh) is
	# copied beside the selftests, so it can source lib.sh too.
	if [ -f "$t" ] && [ ! -e "$WORK/qvisor/selftests/$(basename "$t")" ]; then
		cp "$t" "$WORK/qvisor/selftests/"
	fi
	t=$(basename "$t")
	[ -f "$WORK/qvisor/selftests/$t" ] || {
		echo "mkinitramfs: no test selftests/vm/$t" >&2
		exit 1
	}
	echo "$t" >>"$WORK/qvisor/tests"
done

depmod -b "$WORK" "$KVER"

(cd "$WORK" && find . -mindepth 1 | LC_ALL=C sort |
	cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
