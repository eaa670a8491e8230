#!/usr/bin/env bash
# Builds a realistic SBC disk image without root and without downloading anything:
# MBR like a Raspberry Pi card, p1 FAT32 boot (mkfs.vfat + mcopy), p2 ext4 root
# (mke2fs -d) filled with real files of this machine (/usr/lib, /usr/share, /etc),
# and a zero tail up to SIZE. The image is sparse where it is zero.
#
# Usage: tools/make-image.sh OUT [SIZE=1G] [PAYLOAD_MIB=200] [ROOT_MIB=auto] [BOOT_MIB=64]
set -euo pipefail
out=${1:?usage: make-image.sh OUT [SIZE] [PAYLOAD_MIB] [ROOT_MIB] [BOOT_MIB]}
size=${2:-1G}
payload_mib=${3:-200}
root_mib=${4:-$((payload_mib * 3 / 2 + 64))}
boot_mib=${5:-64}
for t in sfdisk mkfs.vfat mcopy mke2fs; do
  command -v "$t" >/dev/null || { echo "make-image: needs $t (apt-get install fdisk dosfstools mtools e2fsprogs)" >&2; exit 2; }
done
work=$(mktemp -d "${TMPDIR:-/var/tmp}/ironstone-image.XXXXXX")
trap 'rm -rf "$work"' EXIT

rootdir=$work/rootfs
mkdir -p "$rootdir"/{boot/firmware,etc,home/pi,var/log}
# Real files up to payload_mib, in a stable order so the same machine gives the same image.
find /usr/lib /usr/share -xdev -type f -size -64M -printf '%s\t%p\0' 2>/dev/null | sort -z -t$'\t' -k2 |
  awk -v RS='\0' -v ORS='\0' -v limit=$((payload_mib * 1048576)) -F'\t' \
    '{ if (total + $1 > limit) exit; total += $1; print $2 }' |
  tar --null -T - -cf - 2>/dev/null | tar -C "$rootdir" -xf - 2>/dev/null || true
cp -a /etc/hostname /etc/os-release "$rootdir/etc/" 2>/dev/null || true
: > "$rootdir/etc/machine-id"  # sealed: first boot makes its own
mke2fs -q -t ext4 -L rootfs -E root_owner=0:0 -d "$rootdir" "$work/root.ext4" "${root_mib}M" 2>/dev/null

mkfs.vfat -F 32 -n BOOT -C "$work/boot.vfat" $((boot_mib * 1024)) >/dev/null
mkdir -p "$work/bootfiles"
printf 'arm_64bit=1\nkernel=kernel_2712.img\n' > "$work/bootfiles/config.txt"
printf 'console=serial0,115200 root=LABEL=rootfs rootfstype=ext4 rootwait\n' > "$work/bootfiles/cmdline.txt"
head -c $((8 * 1048576)) /dev/urandom > "$work/bootfiles/kernel_2712.img"
MTOOLS_SKIP_CHECK=1 mcopy -s -i "$work/boot.vfat" "$work/bootfiles"/* ::/

rm -f "$out"
truncate -s "$size" "$out"
printf 'label: dos\nstart=2048, size=%d, type=c, bootable\nstart=%d, size=%d, type=83\n' \
  $((boot_mib * 2048)) $((2048 + boot_mib * 2048)) $((root_mib * 2048)) | sfdisk -q "$out"
dd if="$work/boot.vfat" of="$out" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$work/root.ext4" of="$out" bs=1M seek=$((1 + boot_mib)) conv=notrunc,sparse status=none
echo "make-image: $out: $(stat -c %s "$out") bytes, $(( $(stat -c %b "$out") * $(stat -c %B "$out") / 1048576 )) MiB allocated" >&2
