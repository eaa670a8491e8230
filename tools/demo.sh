#!/usr/bin/env bash
# The local demo swarm (the README's first command runs it through ./setup.sh demo):
# make a sample disk image, publish it as a signed release, start a seeder, flash
# several simulated nodes in parallel into image files over a real BitTorrent swarm
# on loopback, verify every node byte for byte, show the fleet, clean up.
#
# Usage: tools/demo.sh [--build DIR] [--nodes N] [--size SIZE] [--payload MIB] [--keep]
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
build=build nodes=4 size=1G payload=150 keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --nodes) nodes=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --payload) payload=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "usage: $0 [--build DIR] [--nodes N] [--size SIZE] [--payload MIB] [--keep]" >&2; exit 2 ;;
  esac
done
bin=$(readlink -f "$build")
for b in builder/ironstone-build seeder/ironstone-seeder flasher/ironstone-flasher; do
  [ -x "$bin/$b" ] || { echo "demo: $bin/$b missing: run ./setup.sh first" >&2; exit 1; }
done
work=$(mktemp -d "${TMPDIR:-/var/tmp}/ironstone-demo.XXXXXX")
seeder_pid=
cleanup() {
  [ -n "$seeder_pid" ] && kill "$seeder_pid" 2>/dev/null && wait "$seeder_pid" 2>/dev/null
  if [ "$keep" = 1 ]; then echo "demo: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "1/6 building a sample ${size} disk image (FAT boot + ext4 root with ${payload} MiB of real files + zero tail)"
tools/make-image.sh "$work/gold.img" "$size" "$payload"

say "2/6 publishing it as a signed release"
"$bin/builder/ironstone-build" keygen --secret-key "$work/release.key" --public-key "$work/release.pub"
"$bin/builder/ironstone-build" publish --store "$work/store" --board rpi5 --version demo-1 \
  --secret-key "$work/release.key" --quiet "$work/gold.img"
"$bin/builder/ironstone-build" inspect --store "$work/store" --board rpi5 --version demo-1

say "3/6 starting the seeder"
"$bin/seeder/ironstone-seeder" --store "$work/store" --listen 127.0.0.1:0 --bt-listen 127.0.0.1:0 \
  > "$work/seeder.log" 2>&1 &
seeder_pid=$!
http_port= bt_port=
for _ in $(seq 100); do  # the seeder logs the ports it bound
  read -r http_port bt_port < <(sed -n 's/.*HTTP port \([0-9]*\), BitTorrent port \([0-9]*\).*/\1 \2/p' "$work/seeder.log") || true
  [ -n "$http_port" ] && break
  kill -0 "$seeder_pid" 2>/dev/null || { cat "$work/seeder.log"; exit 1; }
  sleep 0.1
done
[ -n "$http_port" ] || { echo "demo: the seeder did not start"; cat "$work/seeder.log"; exit 1; }
echo "seeder: http://127.0.0.1:$http_port/ (dashboard), BitTorrent on port $bt_port"

say "4/6 flashing $nodes simulated nodes in parallel over the swarm"
start=$(date +%s%N)
pids=()
for i in $(seq 1 "$nodes"); do
  mkdir -p "$work/node$i/root"
  "$bin/flasher/ironstone-flasher" --seeder "http://127.0.0.1:$http_port" --board rpi5 \
    --public-key "$work/release.pub" --target "$work/node$i/disk.img" --root "$work/node$i/root" \
    --node-id "demo-node-$i" --state-file "$work/node$i/state.json" --cache-dir "$work/node$i/cache" \
    --bt-listen 127.0.0.1:0 --skip-firmware --power stay-up --linger 30 \
    > "$work/node$i/flasher.log" 2>&1 &
  pids+=($!)
done
failed=0
for i in $(seq 1 "$nodes"); do
  if wait "${pids[$((i - 1))]}"; then echo "node $i: $(tail -n 1 "$work/node$i/flasher.log")"
  else echo "node $i: FAILED"; tail -n 5 "$work/node$i/flasher.log"; failed=1; fi
done
elapsed=$(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN {printf "%.1f", (b - a) / 1e9}')

say "5/6 verifying every node byte for byte against the gold image"
for i in $(seq 1 "$nodes"); do
  if cmp -s "$work/gold.img" "$work/node$i/disk.img"; then echo "node $i: identical"; else echo "node $i: DIFFERS"; failed=1; fi
done

say "6/6 the fleet, as the seeder sees it"
"$bin/seeder/ironstone-seeder" fleet --url "http://127.0.0.1:$http_port" 2>/dev/null ||
  curl -s "http://127.0.0.1:$http_port/v1/fleet/summary"; echo
stored=$(find "$work/store/chunks" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
metrics=$(curl -s "http://127.0.0.1:$http_port/metrics")
seeder_up=$(echo "$metrics" | awk '/^ironstone_torrent_uploaded_bytes_total/ {s+=$2} /^ironstone_webseed_bytes_total/ {s+=$2} END {printf "%d", s}')
printf '\nsummary: %d nodes flashed in %s s; release stores %d bytes (compressed non-zero chunks)\n' "$nodes" "$elapsed" "$stored"
printf '         the seeder sent %d bytes = %.2f copies of the release (the rest came from the nodes themselves)\n' \
  "$seeder_up" "$(awk -v a="$seeder_up" -v b="$stored" 'BEGIN {printf "%.2f", a / b}')"
printf '         (HTTP unicast sends %d copies; on unshaped loopback the seeder is no bottleneck, so peers matter\n' "$nodes"
printf '         little here: ironstone-bench rack measures a shaped rack, docs/performance.md has the figures)\n'
[ "$failed" = 0 ] && echo "demo: OK" || { echo "demo: FAILED (logs in $work)"; keep=1; exit 1; }
