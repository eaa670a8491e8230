#!/usr/bin/env bash
# Publish benchmark: builds a realistic disk image locally (tools/make-image.sh, no download) and
# measures, side by side in one run and repeated, `ironstone-build publish` against
# `zstd -T0 -3` of the same image.
#
# Target (docs/performance.md, "Publish"): publish no slower than `zstd -T0 -3`, and its stored
# bytes (sum of the chunk files) within 5% of zstd's output.
#
# The image (tools/make-image.sh): MBR like a Raspberry Pi card, a FAT32 boot partition, an ext4
# root (mke2fs -d) filled with real files from this machine's /usr/lib and /usr/share, and a zero
# tail up to IMAGE_SIZE. Two variants of the same bytes are measured: "sparse" (holes where the
# image is zero, as `truncate` or `dd conv=sparse` leave it) and "dense" (every byte allocated, as
# a downloaded or `dd`-copied image).
#
# Each repetition runs, in alternating order: `zstd -T0 -3` (output not synced, as zstd leaves
# it), `zstd -T0 -3` followed by `sync FILE` (fsync of its output: the same durability publish
# gives its release) and publish (which returns only once the release is on disk). Before every
# timed run the page cache holds the image and no dirty pages are left from the previous run
# (`sync`, not timed), so one tool's writeback is never charged to the next.
# Wall and CPU (user + system) time per tool: median and min-max over the repetitions.
#
# Usage: bench/publish_bench.sh [WORKDIR]
# Environment: IMAGE_SIZE (default 4G), ROOT_MIB (1536), BOOT_MIB (256), PAYLOAD_MIB (800: real
# files in the root fs), CHUNK_SIZE (4M), REPEAT (3), BUILD_DIR (build), KEEP=1 to keep WORKDIR,
# DENSE=0 to skip the dense variant, AUTOGROUP_NICE=N (as root) to run this session's scheduler
# autogroup at nice N for the run (e.g. -10 on a machine shared with other sessions' builds,
# which otherwise get half of the CPU whatever their number; restored at exit). Exit status 1
# when a target is missed (medians).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$SRC/build}
TOOL=$BUILD_DIR/builder/ironstone-build
IMAGE_SIZE=${IMAGE_SIZE:-4G}
ROOT_MIB=${ROOT_MIB:-1536}
BOOT_MIB=${BOOT_MIB:-256}
PAYLOAD_MIB=${PAYLOAD_MIB:-800}
CHUNK_SIZE=${CHUNK_SIZE:-4M}
REPEAT=${REPEAT:-3}
DENSE=${DENSE:-1}
WORK=${1:-$(mktemp -d "${TMPDIR:-/var/tmp}/ironstone-publish-bench.XXXXXX")}
mkdir -p "$WORK"
cleanup() {
  [ -z "${saved_nice:-}" ] || echo "$saved_nice" > /proc/self/autogroup
  [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT
if [ -n "${AUTOGROUP_NICE:-}" ]; then
  saved_nice=$(awk '{print $NF}' /proc/self/autogroup)
  echo "$AUTOGROUP_NICE" > /proc/self/autogroup
fi

command -v zstd >/dev/null || { echo "publish_bench: needs zstd (apt-get install zstd)" >&2; exit 2; }
if [ ! -x "$TOOL" ]; then
  echo "== building $TOOL (Release)" >&2
  cmake -S "$SRC" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >&2
  ninja -C "$BUILD_DIR" -j2 ironstone-build >&2
fi

bytes_of_dir() { find "$1" -type f -printf '%s\n' | awk '{s += $1} END {printf "%d\n", s}'; }
mib() { awk -v b="$1" 'BEGIN {printf "%.1f", b / 1048576}'; }
# "median min-max" of the numbers given as arguments.
stats() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {
  m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.2f %.2f-%.2f", m, v[1], v[NR] }'; }

img=$WORK/disk.img
echo "== building a ${IMAGE_SIZE} image in $WORK" >&2
TMPDIR=$WORK "$SRC/tools/make-image.sh" "$img" "$IMAGE_SIZE" "$PAYLOAD_MIB" "$ROOT_MIB" "$BOOT_MIB"
image_bytes=$(stat -c %s "$img")

"$TOOL" keygen --secret-key "$WORK/bench.key" --public-key "$WORK/bench.pub" >/dev/null

# timed NAME FUNCTION: runs the (exported) shell function from a warm cache with no dirty pages
# left over; appends "wall cpu" to $WORK/NAME.times.
timed() {
  local name=$1
  cat "$image" > /dev/null
  sync
  /usr/bin/time -f '%e %U %S' -o "$WORK/time.txt" bash -c "$2"
  awk '{printf "%.2f %.2f\n", $1, $2 + $3}' "$WORK/time.txt" >> "$WORK/$name.times"
}

run_zstd() { zstd -q -T0 -3 -f "$image" -o "$WORK/disk.img.zst"; }
run_zstd_sync() { run_zstd && sync "$WORK/disk.img.zst"; }
run_publish() {
  "$TOOL" publish --quiet --store "$WORK/store" --board rpi5 --version bench --secret-key "$WORK/bench.key" \
    --chunk-size "$CHUNK_SIZE" "$image" > "$WORK/publish.log"
}
one() {  # one tool, one repetition
  case $1 in
    zstd) timed zstd run_zstd; zbytes=$(stat -c %s "$WORK/disk.img.zst"); rm -f "$WORK/disk.img.zst" ;;
    zstd+sync) timed zstd+sync run_zstd_sync; rm -f "$WORK/disk.img.zst" ;;
    publish)
      rm -rf "$WORK/store"
      timed publish run_publish
      pbytes=$(bytes_of_dir "$WORK/store/chunks")
      "$TOOL" verify --store "$WORK/store" --public-key "$WORK/bench.pub" > "$WORK/verify.log" ||
        { cat "$WORK/verify.log" >&2; exit 1; }
      rm -rf "$WORK/store" ;;
  esac
}
export -f run_zstd run_zstd_sync run_publish
export image WORK TOOL CHUNK_SIZE

results=()
run_variant() {  # $1 = label, $2 = image path
  local label=$1
  image=$2
  rm -f "$WORK"/*.times
  for ((i = 1; i <= REPEAT; i++)); do
    echo "== $label: repetition $i of $REPEAT" >&2
    if ((i % 2)); then order="zstd zstd+sync publish"; else order="publish zstd+sync zstd"; fi
    for t in $order; do one "$t"; done
  done
  local row=$label
  for t in zstd zstd+sync publish; do
    row+="|$(stats $(cut -d' ' -f1 "$WORK/$t.times"))|$(stats $(cut -d' ' -f2 "$WORK/$t.times"))"
    row+="|$(tr '\n' ' ' < "$WORK/$t.times" | awk '{for (i = 1; i <= NF; i += 2) printf "%s%s", (i > 1 ? "," : ""), $i}')"
  done
  results+=("$row|$zbytes|$pbytes")
}

run_variant sparse "$img"
if [ "$DENSE" = 1 ]; then
  cp --sparse=never "$img" "$WORK/dense.img"
  rm -f "$img"
  run_variant dense "$WORK/dense.img"
fi

echo
echo "publish benchmark: $(mib "$image_bytes") MiB image (tools/make-image.sh: FAT32 ${BOOT_MIB} MiB + ext4 ${ROOT_MIB} MiB with ${PAYLOAD_MIB} MiB of real files, zero tail)"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo), load average $(cut -d' ' -f1-3 /proc/loadavg), autogroup $(cat /proc/self/autogroup); chunk size $CHUNK_SIZE; $REPEAT repetitions, median (min-max)"
printf '%-7s | %-12s | %-20s | %-20s | %-12s | %s\n' variant tool "wall (s)" "CPU (s)" "output (MiB)" "wall of each run (s)"
printf -- '--------+--------------+----------------------+----------------------+--------------+---------------------\n'
status=0
for r in "${results[@]}"; do
  IFS='|' read -r label zw zc zruns sw sc sruns pw pc pruns zb pb <<<"$r"
  for t in "zstd -T0 -3|$zw|$zc|$zb|$zruns" "zstd + sync|$sw|$sc|$zb|$sruns" "publish|$pw|$pc|$pb|$pruns"; do
    IFS='|' read -r name w c b runs <<<"$t"
    read -r wm wr <<<"$w"
    read -r cm cr <<<"$c"
    printf '%-7s | %-12s | %6s %-13s | %6s %-13s | %12s | %s\n' "$label" "$name" "$wm" "($wr)" "$cm" "($cr)" "$(mib "$b")" "$runs"
  done
  verdict=$(awk -v zt="${zw%% *}" -v st="${sw%% *}" -v pt="${pw%% *}" -v zb="$zb" -v pb="$pb" 'BEGIN {
    time_ok = pt <= zt; size_ok = pb <= zb * 1.05;
    printf "median wall publish/zstd %.2f (%s), publish/(zstd + sync) %.2f, size ratio %.3f (%s)", pt / zt,
           time_ok ? "ok" : "SLOWER", pt / st, pb / zb, size_ok ? "ok" : "MORE THAN 5% LARGER" }')
  echo "$label: $verdict"
  case $verdict in *SLOWER*|*LARGER*) status=1 ;; esac
done
exit $status
