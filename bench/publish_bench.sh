#!/usr/bin/env bash
# Publish benchmark: builds a realistic disk image locally (no download) and measures, side by
# side in one run, `ironstone-build publish` against `zstd -T0 -3` of the same image.
#
# Target (docs/performance.md, "Publish"): publish no slower than `zstd -T0 -3`, and its stored
# bytes (sum of the chunk files) within 5% of zstd's output.
#
# The image: MBR-partitioned with sfdisk like a Raspberry Pi card: a 256 MiB FAT32 boot partition
# (mkfs.vfat + mcopy, kernel/firmware-like files), an ext4 root (mke2fs -d) filled with real files
# copied from this machine's /usr/lib and /usr/share, and a large unused (zero) tail up to
# IMAGE_SIZE. Two variants of the same bytes are measured: "sparse" (holes where the image is
# zero, as `dd conv=sparse` or `truncate` leave it) and "dense" (every byte allocated, as a
# downloaded or `dd`-copied image).
#
# Usage: bench/publish_bench.sh [WORKDIR]
# Environment: IMAGE_SIZE (default 4G), ROOT_MIB (1536), PAYLOAD_MIB (800: real files in the
# root fs), CHUNK_SIZE (4M), BUILD_DIR (build), KEEP=1 to keep WORKDIR, DENSE=0 to skip the
# dense variant.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$SRC/build}
TOOL=$BUILD_DIR/builder/ironstone-build
IMAGE_SIZE=${IMAGE_SIZE:-4G}
ROOT_MIB=${ROOT_MIB:-1536}
BOOT_MIB=256
PAYLOAD_MIB=${PAYLOAD_MIB:-800}
CHUNK_SIZE=${CHUNK_SIZE:-4M}
DENSE=${DENSE:-1}
WORK=${1:-$(mktemp -d "${TMPDIR:-/var/tmp}/ironstone-publish-bench.XXXXXX")}
mkdir -p "$WORK"
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT

for t in sfdisk mkfs.vfat mcopy mke2fs zstd; do
  command -v "$t" >/dev/null || { echo "publish_bench: needs $t (apt-get install fdisk dosfstools mtools e2fsprogs zstd)" >&2; exit 2; }
done
if [ ! -x "$TOOL" ]; then
  echo "== building $TOOL (Release)" >&2
  cmake -S "$SRC" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >&2
  ninja -C "$BUILD_DIR" -j2 ironstone-build >&2
fi

bytes_of_dir() { find "$1" -type f -printf '%s\n' | awk '{s += $1} END {printf "%d\n", s}'; }
mib() { awk -v b="$1" 'BEGIN {printf "%.1f", b / 1048576}'; }

img=$WORK/disk.img
echo "== building a ${IMAGE_SIZE} image in $WORK" >&2
# Root filesystem tree: real files from this machine, up to PAYLOAD_MIB.
rootdir=$WORK/rootfs
mkdir -p "$rootdir"/{boot/firmware,etc,home/pi,var/log}
find /usr/lib /usr/share -xdev -type f -size -64M -printf '%s\t%p\0' 2>/dev/null |
  awk -v RS='\0' -v ORS='\0' -v limit=$((PAYLOAD_MIB * 1048576)) -F'\t' \
    '{ if (total + $1 > limit) exit; total += $1; print $2 }' |
  tar --null -T - -cf - 2>/dev/null | tar -C "$rootdir" -xf - || true  # find/awk end early: SIGPIPE
cp -a /etc/. "$rootdir/etc/" 2>/dev/null || true
echo "   root tree: $(du -sm "$rootdir" | cut -f1) MiB of real files" >&2
mke2fs -q -t ext4 -L rootfs -d "$rootdir" "$WORK/root.ext4" "${ROOT_MIB}M"
# Boot partition: FAT32 with kernel/firmware-sized files.
mkfs.vfat -F 32 -n BOOT -C "$WORK/boot.vfat" $((BOOT_MIB * 1024)) >/dev/null
bootfiles=$WORK/bootfiles
mkdir -p "$bootfiles/overlays"
for f in /boot/vmlinuz* /boot/initrd.img*; do [ -f "$f" ] && cp "$f" "$bootfiles/"; done
find /usr/lib/firmware /usr/lib/modules /usr/share/doc -type f -size -4M 2>/dev/null | head -n 200 |
  while read -r f; do cp "$f" "$bootfiles/overlays/" 2>/dev/null || true; done || true
printf 'arm_64bit=1\nkernel=vmlinuz\n' > "$bootfiles/config.txt"
printf 'console=serial0,115200 root=LABEL=rootfs rootfstype=ext4 rootwait\n' > "$bootfiles/cmdline.txt"
MTOOLS_SKIP_CHECK=1 mcopy -s -i "$WORK/boot.vfat" "$bootfiles"/* ::/
# The disk: MBR, p1 FAT32 at 1 MiB, p2 Linux after it, zero tail up to IMAGE_SIZE.
rm -f "$img"
truncate -s "$IMAGE_SIZE" "$img"
printf 'label: dos\nstart=2048, size=%d, type=c, bootable\nstart=%d, size=%d, type=83\n' \
  $((BOOT_MIB * 2048)) $((2048 + BOOT_MIB * 2048)) $((ROOT_MIB * 2048)) | sfdisk -q "$img"
dd if="$WORK/boot.vfat" of="$img" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$WORK/root.ext4" of="$img" bs=1M seek=$((1 + BOOT_MIB)) conv=notrunc,sparse status=none
rm -rf "$rootdir" "$bootfiles" "$WORK/boot.vfat" "$WORK/root.ext4"
image_bytes=$(stat -c %s "$img")
allocated=$(( $(stat -c %b "$img") * $(stat -c %B "$img") ))
echo "   image: $(mib "$image_bytes") MiB, $(mib "$allocated") MiB allocated" >&2

"$TOOL" keygen --secret-key "$WORK/bench.key" --public-key "$WORK/bench.pub" >/dev/null

results=()
run_variant() {  # $1 = label, $2 = image path
  local label=$1 image=$2
  cat "$image" > /dev/null  # both tools start from a warm page cache
  local zt pt zc pc
  /usr/bin/time -f '%e %U %S' -o "$WORK/time.txt" zstd -q -T0 -3 -f "$image" -o "$WORK/disk.img.zst"
  read -r zt zc <<<"$(awk '{printf "%.2f %.2f", $1, $2 + $3}' "$WORK/time.txt")"
  local zbytes; zbytes=$(stat -c %s "$WORK/disk.img.zst")
  rm -f "$WORK/disk.img.zst"
  rm -rf "$WORK/store"
  /usr/bin/time -f '%e %U %S' -o "$WORK/time.txt" \
    "$TOOL" publish --quiet --store "$WORK/store" --board rpi5 --version bench --secret-key "$WORK/bench.key" \
    --chunk-size "$CHUNK_SIZE" "$image" > "$WORK/publish.log"
  read -r pt pc <<<"$(awk '{printf "%.2f %.2f", $1, $2 + $3}' "$WORK/time.txt")"
  local pbytes; pbytes=$(bytes_of_dir "$WORK/store/chunks")
  "$TOOL" verify --store "$WORK/store" --public-key "$WORK/bench.pub" > "$WORK/verify.log" ||
    { cat "$WORK/verify.log" >&2; exit 1; }
  results+=("$label|$zt|$zbytes|$pt|$pbytes|$zc|$pc")
}

run_variant sparse "$img"
if [ "$DENSE" = 1 ]; then
  cp --sparse=never "$img" "$WORK/dense.img"
  rm -f "$img"
  run_variant dense "$WORK/dense.img"
fi

echo
echo "publish benchmark: $(mib "$image_bytes") MiB image (MBR: FAT32 ${BOOT_MIB} MiB + ext4 ${ROOT_MIB} MiB with ${PAYLOAD_MIB} MiB of real files, zero tail)"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo); chunk size $CHUNK_SIZE"
printf '%-8s | %-16s | %10s | %10s | %14s | %12s\n' variant tool "wall (s)" "CPU (s)" "output (MiB)" "MiB/s in"
printf -- '---------+------------------+------------+------------+----------------+-------------\n'
status=0
for r in "${results[@]}"; do
  IFS='|' read -r label zt zb pt pb zc pc <<<"$r"
  printf '%-8s | %-16s | %10s | %10s | %14s | %12s\n' "$label" "zstd -T0 -3" "$zt" "$zc" "$(mib "$zb")" \
    "$(awk -v b="$image_bytes" -v t="$zt" 'BEGIN {printf "%.0f", b / 1048576 / t}')"
  printf '%-8s | %-16s | %10s | %10s | %14s | %12s\n' "$label" "publish" "$pt" "$pc" "$(mib "$pb")" \
    "$(awk -v b="$image_bytes" -v t="$pt" 'BEGIN {printf "%.0f", b / 1048576 / t}')"
  verdict=$(awk -v zt="$zt" -v pt="$pt" -v zb="$zb" -v pb="$pb" 'BEGIN {
    time_ok = pt <= zt; size_ok = pb <= zb * 1.05;
    printf "time ratio publish/zstd %.2f (%s), size ratio %.3f (%s)", pt / zt, time_ok ? "ok" : "SLOWER",
           pb / zb, size_ok ? "ok" : "MORE THAN 5% LARGER" }')
  echo "$label: $verdict"
  case $verdict in *SLOWER*|*LARGER*) status=1 ;; esac
done
exit $status
