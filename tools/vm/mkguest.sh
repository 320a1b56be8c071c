#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Build the initramfs of a nested guest VM (a tenant of tools/vm/guests.sh).
#
#   tools/vm/mkguest.sh KVER OUT.cpio.gz
#
# A busybox-static userland, iperf3 with its libraries and the virtio-net
# driver with its dependencies (failover, net_failover, virtio_pci) of the
# Debian kernel KVER.  Its /init brings eth0 up with the address given on
# the kernel command line (qg.ip=A.B.C.D/NN), says "GUEST-READY" on the
# console and then runs iperf3 -c SERVER -p 5200+ID once per entry of
# qg.secs=S1,S2,... (seconds), each retried until the host starts the
# server: the host decides when the guests send by starting their servers.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 KVER OUT.cpio.gz" >&2; exit 2; }
KVER=$1 OUT=$(realpath -m "$2")
TOP=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${QVISOR_CACHE:-$TOP/.cache}
KROOT=${QVISOR_KERNELS:-$CACHE/kernels}/$KVER/root
KMODS=$KROOT/lib/modules/$KVER
[ -d "$KMODS/kernel" ] || { echo "mkguest: no modules for $KVER" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
mkdir -p usr/bin usr/sbin usr/lib usr/lib64 proc sys dev tmp etc
ln -s usr/bin bin
ln -s usr/sbin sbin
ln -s usr/lib lib
ln -s usr/lib64 lib64
cp /bin/busybox usr/bin/busybox
for a in $(busybox --list); do
	[ -e usr/bin/$a ] || ln -s busybox usr/bin/$a
done
put_file() {
	local dir
	dir=$(cd "$(dirname "$1")" && pwd -P)
	mkdir -p "$WORK$dir"
	cp -L "$1" "$WORK$dir/$(basename "$1")"
}
put_file /usr/bin/iperf3
for lib in $(ldd /usr/bin/iperf3 | awk '/=> \//{print $3} /^\t\/[^ ]+ \(/{print $1}'); do
	put_file "$lib"
done
printf 'tcp 6 TCP\nudp 17 UDP\nicmp 1 ICMP\n' >etc/protocols
echo 'root:x:0:0:root:/:/bin/sh' >etc/passwd

# The drivers (uncompressed) with everything they depend on.
dst=usr/lib/modules/$KVER
mkdir -p "$dst"
dep=$(depmod -n -b "$KROOT" "$KVER" 2>/dev/null | grep -E '^[^#: ]+\.ko(\.xz|\.zst|\.gz)?:')
want=""
for name in virtio_pci failover net_failover virtio_net; do
	line=$(grep -E "(^|/)${name}\.ko(\.xz|\.zst|\.gz)?:" <<<"$dep" | head -n1) || continue
	want="$want ${line%%:*} ${line#*:}"
done
for m in $(echo $want | tr ' ' '\n' | sort -u); do
	mkdir -p "$dst/$(dirname "$m")"
	case $m in
	*.xz) xz -dc "$KMODS/$m" >"$dst/${m%.xz}" ;;
	*.zst) zstd -qdc "$KMODS/$m" >"$dst/${m%.zst}" ;;
	*.gz) gzip -dc "$KMODS/$m" >"$dst/${m%.gz}" ;;
	*) cp "$KMODS/$m" "$dst/$m" ;;
	esac
done
for m in modules.builtin modules.builtin.modinfo modules.order; do
	[ -f "$KMODS/$m" ] && cp "$KMODS/$m" "$dst/"
done
[ -f "$dst/modules.order" ] && sed -i -E 's/\.ko\.(xz|zst|gz)$/.ko/' "$dst/modules.order"
depmod -b "$WORK" "$KVER"

cat >init <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
dmesg -n 1
for m in virtio_pci failover net_failover virtio_net; do modprobe $m; done
id=0 ip= srv= secs=
for a in $(cat /proc/cmdline); do
	case $a in
	qg.id=*) id=${a#*=} ;;
	qg.ip=*) ip=${a#*=} ;;
	qg.srv=*) srv=${a#*=} ;;
	qg.secs=*) secs=${a#*=} ;;
	esac
done
ip link set lo up
ip addr add $ip dev eth0
ip link set eth0 up
echo "GUEST-READY id=$id uptime=$(cut -d' ' -f1 /proc/uptime)"
# One iperf3 run per entry of qg.secs (seconds, comma-separated), each
# retried until the host has started this guest's server (port 5200+id).
for t in $(echo "$secs" | tr , ' '); do
	# every try execs iperf3, which costs the nested emulation dearly
	# (with three guests, two polling every 0.3 s held the third to
	# ~100 kbit/s): try every 2 s
	until iperf3 -c "$srv" -p $((5200 + id)) -t "$t" >/tmp/out 2>&1; do
		sleep 2
	done
	tail -n 4 /tmp/out
	echo "GUEST-DONE $t"
done
echo "GUEST-IDLE"
while :; do sleep 60; done
INIT
chmod 755 init
mkdir -p "$(dirname "$OUT")"
find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1 >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
