#!/bin/bash
# A peer seeder's peak resident memory while it fetches a release at loopback speed (no shaping:
# the worst case for a backlog between libtorrent and the follower). Starts a NAS seeder on a
# store the bench cached (ironstone-bench rack builds them under /var/tmp/ironstone-bench-cache),
# one `ironstone-seeder --peer-of` beside it, waits until the peer holds the release, prints the
# peer's VmHWM / VmRSS / RssAnon / RssFile / RssShmem and how long the fetch took.
#   usage: bench/peer_memory.sh CACHE_DIR [SEEDER_BINARY] [extra peer flags, e.g. --disk-io mmap]
#   e.g.:  bench/peer_memory.sh /var/tmp/ironstone-bench-cache/built-2G-p600 build/seeder/ironstone-seeder
# Recorded in docs/performance.md ("A peer's memory, bounded").
set -eu
cache=${1:?usage: $0 CACHE_DIR [SEEDER_BINARY] [peer flags...]}
bin=${2:-build/seeder/ironstone-seeder}
shift $(( $# >= 2 ? 2 : 1 ))
[ -x "$bin" ] || { echo "$0: $bin is not an executable (build it: ninja -C build ironstone-seeder)" >&2; exit 2; }
[ -d "$cache/store/releases" ] || { echo "$0: $cache/store/releases: no store (run ironstone-bench rack once)" >&2; exit 2; }
board=$(ls "$cache/store/releases" | head -1)
work=$(mktemp -d /var/tmp/ironstone-peer-memory.XXXXXX)
nas=""; peer=""
cleanup() { set +e; [ -n "$peer" ] && kill "$peer"; [ -n "$nas" ] && kill "$nas"; wait; rm -rf "$work"; }
trap cleanup EXIT
wait_log() {  # file pattern: up to 30 s
  for _ in $(seq 300); do grep -q "$2" "$1" && return 0; sleep 0.1; done
  echo "$0: '$2' did not appear in $1:" >&2; cat "$1" >&2; return 1
}
"$bin" --store "$cache/store" --listen 127.0.0.1:0 --bt-listen 127.0.0.1:0 --fleet-db "$work/nas.sqlite" \
  > "$work/nas.log" 2>&1 & nas=$!
wait_log "$work/nas.log" "HTTP port"
port=$(sed -n 's/.*HTTP port \([0-9]*\).*/\1/p' "$work/nas.log")
start=$(date +%s.%N)
"$bin" --peer-of "http://127.0.0.1:$port" --store "$work/peer" --public-key "$cache/release.pub" --board "$board" \
  --poll-interval 1 --listen 127.0.0.1:0 --bt-listen 127.0.0.1:0 "$@" > "$work/peer.log" 2>&1 & peer=$!
wait_log "$work/peer.log" "bittorrent: seeding release"
end=$(date +%s.%N)
grep -E "VmHWM|VmRSS|RssAnon|RssFile|RssShmem" "/proc/$peer/status" | tr -s ' \t\n' ' '
printf '; release held after %.1f s\n' "$(echo "$end - $start" | bc)"
