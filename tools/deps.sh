#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Install what qvisor needs on Debian (bookworm or later), idempotently.
#
#   tools/deps.sh build   what "make && sudo make install" needs: a C
#                         compiler and make, kmod, libnl-3 (+ route), json-c and
#                         pkg-config, pahole (dwarves: 6.12 and later
#                         headers ship vmlinux for BTF), and the headers of
#                         the running kernel if the archive has them.  No
#                         source downloads: the tc plugin builds from the
#                         declarations in include/tc/.
#   tools/deps.sh test    (the default) build, plus what "make check",
#                         "make deb" and the benchmarks need: QEMU, busybox,
#                         iperf3, tcpdump, clang (fuzzers), gnuplot, groff/man,
#                         dkms, debhelper, dh-dkms, lintian; the three test
#                         kernels (6.1 and 6.12 from bookworm, headers in
#                         /usr/src; 7.2 from unstable, headers in a
#                         debootstrapped unstable chroot, see below); the
#                         iproute2 source matching tc (for the plugin fuzzer
#                         only) and checkpatch.pl.
#
# Kernel images are unpacked privately under $CACHE/kernels (no boot hooks
# run on the host); bookworm's header packages are installed normally under
# /usr/src, which is what Kbuild and DKMS expect.
#
# The newest kernel: its kbuild programs (fixdep, modpost, objtool) are
# linked against glibc >= 2.38 and the build wants gcc-16; bookworm has
# glibc 2.36 and gcc-12.  Building those host programs from the kernel
# source would still leave gcc-16 (the compiler the kernel was built with,
# whose plugins and flags the headers assume) missing, and would pin us to
# whatever source build quirks each release brings.  An unstable chroot
# (debootstrap --variant=minbase plus the headers and gcc-16: about a
# minute and 0.8 GB from the archive)
# has exactly the packaged toolchain and headers, and nothing in it touches
# the host: the host's apt sources and packages stay bookworm's.  It lives
# in $SID_ROOT (default /var/cache/qvisor/sid); the Makefile builds a
# module for KVER72 inside it.  The chroot's apt ignores the Release
# file's Valid-Until (the archive here is a snapshot).
#
# A stamp per part makes a second run cheap.
set -eu

TOP=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${QVISOR_CACHE:-$TOP/.cache}
KVER61=${KVER61:-6.1.0-56-cloud-amd64}
KVER612=${KVER612:-6.12.117+deb12-cloud-amd64}
KVER72=${KVER72:-7.2.13+deb14-cloud-amd64}
SID_ROOT=${QVISOR_SID_ROOT:-/var/cache/qvisor/sid}
MIRROR=${QVISOR_MIRROR:-http://deb.debian.org/debian}
WHAT=${1:-test}
case $WHAT in
build | test) ;;
*) echo "usage: $0 [build|test]" >&2; exit 2 ;;
esac

STAMP=$CACHE/deps.stamp
STAMP_WANT="6 $WHAT $KVER61 $KVER612 $KVER72 $SID_ROOT"
[ -f "$STAMP" ] && grep -qxF "$STAMP_WANT" "$STAMP" && exit 0
# "test" includes "build"
[ "$WHAT" = build ] && [ -f "$STAMP" ] &&
	grep -qxF "6 test $KVER61 $KVER612 $KVER72 $SID_ROOT" "$STAMP" && exit 0
mkdir -p "$CACHE"

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive

apt_update() {
	if [ ! -f "$CACHE/apt-updated" ]; then
		$SUDO apt-get update -q
		touch "$CACHE/apt-updated"
	fi
}

apt_install() {
	missing=
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing="$missing $p"
	done
	[ -n "$missing" ] || return 0
	echo "deps: installing$missing"
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -q --no-install-recommends $missing
}

# --- build ------------------------------------------------------------------
BUILD_PKGS="gcc make libc6-dev kmod dwarves pkg-config iproute2
	libnl-3-dev libnl-route-3-dev libjson-c-dev"
apt_update
# shellcheck disable=SC2086
apt_install $BUILD_PKGS
running=$(uname -r)
if [ ! -f "/lib/modules/$running/build/Makefile" ]; then
	if apt-cache show "linux-headers-$running" >/dev/null 2>&1; then
		apt_install "linux-headers-$running"
	else
		echo "deps: note: the archive has no linux-headers-$running;" \
			"make builds the module only with KVER= or KDIR=" >&2
	fi
fi

if [ "$WHAT" = build ]; then
	echo "$STAMP_WANT" >"$STAMP"
	echo "deps: ready to build (gcc, make, kmod, dwarves, libnl-3; kernel $running)"
	exit 0
fi

# --- test -------------------------------------------------------------------
# iproute2's source package (the plugin fuzzer) needs deb-src; mirror the
# binary entry's URIs and Signed-By so apt accepts it.
SRCLIST=/etc/apt/sources.list.d/qvisor-deb-src.sources
if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ &&
   ! grep -qs '^deb-src' /etc/apt/sources.list; then
	$SUDO tee "$SRCLIST" >/dev/null <<EOT
Types: deb-src
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOT
	rm -f "$CACHE/apt-updated"
	apt_update
fi

TEST_PKGS="build-essential cpio xz-utils zstd gzip dpkg-dev bc
	qemu-system-x86 busybox-static iperf3 iputils-ping tcpdump
	groff-base man-db gnuplot-nox clang jq prometheus irtt
	linux-headers-$KVER61 linux-headers-$KVER612
	debootstrap dkms dh-dkms debhelper fakeroot lintian
	linux-source-6.12 linux-config-6.12 sparse flex bison libelf-dev libssl-dev
	pkg-config"
# shellcheck disable=SC2086
apt_install $TEST_PKGS

# The unstable chroot for the newest kernel's headers (see the top).
if [ ! -f "$SID_ROOT/usr/src/linux-headers-$KVER72/Makefile" ]; then
	if [ ! -x "$SID_ROOT/usr/bin/apt-get" ]; then
		echo "deps: debootstrapping unstable into $SID_ROOT"
		$SUDO rm -rf "$SID_ROOT.tmp"
		$SUDO mkdir -p "$(dirname "$SID_ROOT")"
		$SUDO debootstrap --variant=minbase \
			--include=make,libelf-dev,bc,kmod,xz-utils,ca-certificates \
			sid "$SID_ROOT.tmp" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 || {
			tail -n 20 "$CACHE/debootstrap.log" >&2
			exit 1
		}
		$SUDO mv "$SID_ROOT.tmp" "$SID_ROOT"
	fi
	echo 'Acquire::Check-Valid-Until "false";' |
		$SUDO tee "$SID_ROOT/etc/apt/apt.conf.d/99qvisor" >/dev/null
	# dwarves: 7.2's headers ship vmlinux (BTF); iproute2: the plugin's
	# check against the newest tc; dkms: "make dkms-check" for 7.2.
	echo "deps: installing linux-headers-$KVER72, dwarves, iproute2, dkms" \
		"in $SID_ROOT (log: $CACHE/sid-apt.log)"
	{ $SUDO chroot "$SID_ROOT" apt-get update -q &&
	  $SUDO chroot "$SID_ROOT" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends \
		"linux-headers-$KVER72" dwarves iproute2 dkms &&
	  $SUDO chroot "$SID_ROOT" apt-get clean; } \
		>"$CACHE/sid-apt.log" 2>&1 || {
		tail -n 20 "$CACHE/sid-apt.log" >&2
		exit 1
	}
fi

# Kernel images, unpacked privately: vmlinuz + modules for the test VM.
# From 7.x Debian splits the image into linux-binary-KVER (vmlinuz under
# /usr/lib/modules/KVER/), linux-modules-KVER (.ko.xz) and linux-base-KVER
# (modules.builtin, modules.order, config); all unpack to usr/lib,
# and root/lib points there so every kernel has root/lib/modules/KVER.
# mkinitramfs.sh decompresses the .ko.xz files for busybox's modprobe.
fetch_kernel() {
	kver=$1
	shift
	dir=$CACHE/kernels/$kver
	[ -f "$dir/vmlinuz" ] && return 0
	rm -rf "$dir"
	mkdir -p "$dir/deb"
	if [ "$kver" = "$KVER72" ]; then
		dl=$SID_ROOT/tmp/qvisor-kernel-dl
		$SUDO rm -rf "$dl" && $SUDO mkdir -p "$dl"
		$SUDO chroot "$SID_ROOT" sh -c "cd ${dl#"$SID_ROOT"} && apt-get download -q $*"
		mv "$dl"/*.deb "$dir/deb/"
		$SUDO rm -rf "$dl"
	else
		(cd "$dir/deb" && apt-get download -q "$@")
	fi
	for d in "$dir"/deb/*.deb; do
		dpkg-deb -x "$d" "$dir/root"
	done
	if [ ! -e "$dir/root/lib" ] && [ -d "$dir/root/usr/lib/modules" ]; then
		ln -s usr/lib "$dir/root/lib"
	fi
	for v in "$dir/root/boot/vmlinuz-$kver" "$dir/root/lib/modules/$kver/vmlinuz"; do
		[ -f "$v" ] && cp "$v" "$dir/vmlinuz.tmp"
	done
	[ -f "$dir/vmlinuz.tmp" ] || { echo "deps: no vmlinuz in $*" >&2; exit 1; }
	mv "$dir/vmlinuz.tmp" "$dir/vmlinuz"
	rm -rf "$dir/deb"
}
fetch_kernel "$KVER61" "linux-image-$KVER61"
fetch_kernel "$KVER612" "linux-image-$KVER612-unsigned"
fetch_kernel "$KVER72" "linux-binary-$KVER72" "linux-modules-$KVER72" \
	"linux-base-$KVER72"

# iproute2 source matching the installed tc: only the plugin fuzzer
# (selftests/host/fuzz_plugin) links iproute2's own lib code.  The plugin
# itself builds from include/tc/.
TCVER=$(dpkg-query -W -f='${Version}' iproute2)
if [ ! -f "$CACHE/iproute2/tc/tc_util.h" ]; then
	rm -rf "$CACHE/iproute2" "$CACHE/iproute2-src"
	mkdir -p "$CACHE/iproute2-src"
	(cd "$CACHE/iproute2-src" && apt-get source -q "iproute2=$TCVER")
	mv "$CACHE"/iproute2-src/iproute2-*/ "$CACHE/iproute2"
	rm -rf "$CACHE/iproute2-src"
fi

# checkpatch.pl and its two data files from Debian's linux-source-6.1.
if [ ! -f "$CACHE/checkpatch/checkpatch.pl" ]; then
	tmp=$CACHE/checkpatch.tmp
	rm -rf "$tmp" && mkdir -p "$tmp"
	(cd "$tmp" && apt-get download -q linux-source-6.1)
	dpkg-deb --fsys-tarfile "$tmp"/linux-source-6.1_*.deb |
		tar -x -C "$tmp" --wildcards '*.tar.xz'
	tar -xJf "$tmp"/usr/src/linux-source-6.1.tar.xz -C "$tmp" \
		--wildcards '*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch'
	mkdir -p "$CACHE/checkpatch"
	mv "$tmp"/linux-source-6.1/scripts/* "$CACHE/checkpatch/"
	rm -rf "$tmp"
fi

echo "$STAMP_WANT" >"$STAMP"
echo "deps: ready to build and test (kernels $KVER61, $KVER612, $KVER72" \
	"in $SID_ROOT; iproute2 $TCVER)"
