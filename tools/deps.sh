#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Install everything qvisor needs on Debian bookworm, idempotently.
#
#   tools/deps.sh            apt packages, kernels, iproute2 source, checkpatch
#
# Kernel images are unpacked privately under $CACHE (no boot hooks run on the
# host); header packages are installed normally under /usr/src, which is what
# Kbuild and DKMS expect.  A stamp file makes a second run cheap.
set -eu

TOP=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${QVISOR_CACHE:-$TOP/.cache}
KVER61=${KVER61:-6.1.0-56-cloud-amd64}
KVER612=${KVER612:-6.12.117+deb12-cloud-amd64}
STAMP=$CACHE/deps.stamp
STAMP_VER=3

[ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$STAMP_VER $KVER61 $KVER612" ] && exit 0
mkdir -p "$CACHE"

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive

# iproute2's source package needs deb-src; mirror the binary entry's
# URIs and Signed-By so apt accepts it.
SRCLIST=/etc/apt/sources.list.d/qvisor-deb-src.sources
if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ &&
   ! grep -qs '^deb-src' /etc/apt/sources.list; then
	$SUDO tee "$SRCLIST" >/dev/null <<EOT
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOT
	rm -f "$CACHE/apt-updated"
fi
if [ ! -f "$CACHE/apt-updated" ]; then
	$SUDO apt-get update -q
	touch "$CACHE/apt-updated"
fi

PKGS="build-essential kmod cpio xz-utils zstd gzip dpkg-dev bc
	qemu-system-x86 busybox-static dwarves iperf3
	libnl-3-dev libnl-route-3-dev pkg-config
	libjson-c-dev jq prometheus
	linux-headers-$KVER61 linux-headers-$KVER612
	iproute2 iputils-ping groff-base man-db gnuplot-nox clang"
missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "deps: installing$missing"
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -q --no-install-recommends $missing
fi

# Kernel images, unpacked privately: vmlinuz + modules for the test VM.
fetch_kernel() {
	kver=$1 pkg=$2
	dir=$CACHE/kernels/$kver
	[ -f "$dir/vmlinuz" ] && return 0
	mkdir -p "$dir/deb"
	(cd "$dir/deb" && apt-get download -q "$pkg")
	dpkg-deb -x "$dir"/deb/*.deb "$dir/root"
	cp "$dir/root/boot/vmlinuz-$kver" "$dir/vmlinuz"
	rm -rf "$dir/deb"
}
fetch_kernel "$KVER61" "linux-image-$KVER61"
fetch_kernel "$KVER612" "linux-image-$KVER612-unsigned"

# iproute2 source matching the installed tc, for the plugin's headers.
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

echo "$STAMP_VER $KVER61 $KVER612" >"$STAMP"
echo "deps: ready (kernels $KVER61, $KVER612; iproute2 $TCVER)"
