#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Build the sanitizer kernel for `make check-debug`: Linux 6.12 from Debian's
# linux-source-6.12, configured from Debian's cloud-amd64 config plus KASAN
# (generic, inline), lockdep (PROVE_LOCKING), DEBUG_ATOMIC_SLEEP, kmemleak,
# UBSAN bounds/shift and DEBUG_LIST; no debug info, no BTF, no module
# signing, and only the modules the VM tests load.
#
#   tools/vm/build-debug-kernel.sh          (as root: installs packages)
#
# Everything lives outside the repository, in $QVISOR_DEBUG_CACHE
# (default /var/cache/qvisor/debug-kernel):
#   src/linux-source-6.12/     the unpacked source (kept, build is O=)
#   build/                     the object tree; also the Kbuild tree (KDIR)
#                              for out-of-tree modules
#   kernels/KVER/vmlinuz       what tools/vm/run.sh boots
#   kernels/KVER/root/lib/modules/KVER/   what tools/vm/mkinitramfs.sh packs
#   kernels/KVER/build -> ../../build
# KVER is 6.12.117-qvdebug (the source's version plus CONFIG_LOCALVERSION).
# A rebuild reuses the object tree, so a second run is incremental.
#
# It takes long (about an hour of CPU on this 2-core machine); run it at
# idle priority:  nice -n 19 ionice -c3 tools/vm/build-debug-kernel.sh
set -euo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
DC=${QVISOR_DEBUG_CACHE:-/var/cache/qvisor/debug-kernel}
SRCVER=${QVISOR_DEBUG_SRCVER:-6.12.117-1~deb12u1}
LOCALVER=-qvdebug
BASECFG=${QVISOR_DEBUG_BASECONFIG:-}
JOBS=${QVISOR_DEBUG_JOBS:-$(nproc)}

t0=$(date +%s)
log() { echo "build-debug-kernel: [$(($(date +%s) - t0))s] $*"; }

# --- packages ----------------------------------------------------------------
need=
[ "$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null)" = "$SRCVER" ] ||
	need="linux-source-6.12=$SRCVER"
for p in flex bison libelf-dev libssl-dev bc cpio kmod xz-utils; do
	dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"
done
if [ -n "$need" ]; then
	log "installing$need"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends $need
fi
TARBALL=$(ls /usr/src/linux-source-6.12.tar.* | head -n1)

# --- source ------------------------------------------------------------------
SRC=$DC/src/linux-source-6.12
mkdir -p "$DC/src"
if [ "$(cat "$DC/src/stamp" 2>/dev/null)" != "$SRCVER" ]; then
	log "unpacking $TARBALL"
	rm -rf "$SRC" "$DC/src/stamp"
	tar -C "$DC/src" -xf "$TARBALL"
	echo "$SRCVER" >"$DC/src/stamp"
fi
KBASE=$(make -s -C "$SRC" kernelversion)
KVER=$KBASE$LOCALVER
log "source $KBASE, building $KVER"

# --- configuration -----------------------------------------------------------
if [ -z "$BASECFG" ]; then
	BASECFG=$(ls "$TOP"/.cache/kernels/6.12.*-cloud-amd64/root/boot/config-* \
		2>/dev/null | tail -n1)
fi
[ -f "$BASECFG" ] || {
	echo "build-debug-kernel: no Debian 6.12 cloud config (run tools/deps.sh" \
		"or set QVISOR_DEBUG_BASECONFIG)" >&2
	exit 1
}
B=$DC/build
mkdir -p "$B"

# Modules the VM tests load: mkinitramfs.sh's list (plus their deps, which
# localmodconfig keeps through Kconfig) as a fake lsmod for localmodconfig.
mods=$(sed -n '/^MODULES="/,/"/p' "$TOP/tools/vm/mkinitramfs.sh" |
	sed -e 's/^MODULES="//' -e 's/\${[^}]*}//' -e 's/"//' | tr -s ' \t' '\n' |
	sed '/^$/d')
{
	echo "Module                  Size  Used by"
	for m in $mods stp llc nf_conntrack nf_defrag_ipv4 nf_defrag_ipv6 \
		nf_nat nf_tables libcrc32c crc32c_generic ${QVISOR_DEBUG_MODULES:-}; do
		printf '%-24s 16384  0\n' "$m"
	done
} >"$B/lsmod.txt"

cfg() { "$SRC/scripts/config" --file "$B/.config" "$@"; }
log "configuring from $BASECFG"
cp "$BASECFG" "$B/.config"
cfg --set-str LOCALVERSION "$LOCALVER" -d LOCALVERSION_AUTO \
	--set-str SYSTEM_TRUSTED_KEYS "" --set-str SYSTEM_REVOCATION_KEYS "" \
	-d MODULE_SIG -d MODULE_SIG_ALL -d MODULE_COMPRESS -d MODULE_COMPRESS_XZ \
	-d MODULE_COMPRESS_GZIP -e MODULE_COMPRESS_NONE \
	-d DEBUG_INFO -d DEBUG_INFO_DWARF5 -d DEBUG_INFO_DWARF4 \
	-d DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT -d DEBUG_INFO_BTF \
	-d DEBUG_INFO_BTF_MODULES -e DEBUG_INFO_NONE
make -s -C "$SRC" O="$B" olddefconfig >/dev/null
# localmodconfig asks about new symbols on stdin; take the defaults.
make -s -C "$SRC" O="$B" LSMOD="$B/lsmod.txt" localmodconfig \
	< <(yes '') >"$B/localmodconfig.log" 2>&1 || {
	tail -n 20 "$B/localmodconfig.log" >&2
	exit 1
}
cfg -e DEBUG_KERNEL \
	-e KASAN -e KASAN_GENERIC -d KASAN_SW_TAGS -e KASAN_INLINE \
	-d KASAN_OUTLINE -e KASAN_VMALLOC \
	-e PROVE_LOCKING -e DEBUG_LOCKDEP -e DEBUG_ATOMIC_SLEEP \
	-e DEBUG_KMEMLEAK -d DEBUG_KMEMLEAK_DEFAULT_OFF \
	-d DEBUG_KMEMLEAK_AUTO_SCAN \
	--set-val DEBUG_KMEMLEAK_MEM_POOL_SIZE 65536 \
	-e DEBUG_LIST -e SLUB_DEBUG \
	-e UBSAN -e UBSAN_BOUNDS -e UBSAN_SHIFT -d UBSAN_TRAP \
	-d UBSAN_ALIGNMENT -d UBSAN_BOOL -d UBSAN_ENUM \
	-d UBSAN_SIGNED_WRAP -d UBSAN_DIV_ZERO \
	-e NET_SCHED -e NET_CLS_ACT -m IFB -m DUMMY -m VETH \
	-d DEBUG_INFO_BTF -e DEBUG_INFO_NONE -d GDB_SCRIPTS
make -s -C "$SRC" O="$B" olddefconfig >/dev/null
for o in KASAN KASAN_INLINE PROVE_LOCKING DEBUG_ATOMIC_SLEEP DEBUG_KMEMLEAK \
	DEBUG_INFO_NONE; do
	grep -q "^CONFIG_$o=y" "$B/.config" || {
		echo "build-debug-kernel: CONFIG_$o did not stick" >&2
		exit 1
	}
done
# 6.12 has no MODULE_COMPRESS_NONE (6.1 does): "MODULE_COMPRESS off" is
# the bool; Debian's kmod reads xz and zstd but not gzip modules.
grep -qE '^CONFIG_MODULE_COMPRESS(_GZIP)?=y' "$B/.config" && {
	echo "build-debug-kernel: modules would be compressed" >&2
	exit 1
}
grep -q '^CONFIG_DEBUG_INFO_BTF=y' "$B/.config" && {
	echo "build-debug-kernel: BTF still on" >&2
	exit 1
}
log "config: $(grep -c '=m$' "$B/.config") modules," \
	"$(grep -c '=y$' "$B/.config") built-in options"

# --- build -------------------------------------------------------------------
log "building bzImage and modules with -j$JOBS"
make -s -C "$SRC" O="$B" -j"$JOBS" bzImage modules
log "build done"

# --- install -----------------------------------------------------------------
KD=$DC/kernels/$KVER
rm -rf "$KD.new"
mkdir -p "$KD.new/root/boot"
make -s -C "$SRC" O="$B" INSTALL_MOD_PATH="$KD.new/root" INSTALL_MOD_STRIP=1 \
	DEPMOD=/bin/true modules_install
rm -f "$KD.new/root/lib/modules/$KVER/build" \
	"$KD.new/root/lib/modules/$KVER/source"
depmod -b "$KD.new/root" "$KVER"
cp "$B/arch/x86/boot/bzImage" "$KD.new/vmlinuz"
cp "$B/.config" "$KD.new/root/boot/config-$KVER"
cp "$B/System.map" "$KD.new/root/boot/System.map-$KVER"
ln -s ../../build "$KD.new/build"
rm -rf "$KD"
mv "$KD.new" "$KD"
echo "$KVER" >"$DC/kver"
log "installed $KD (KVER=$KVER) in $(($(date +%s) - t0))s"
