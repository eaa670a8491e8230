#!/usr/bin/env bash
# Smoke test of an arm64 Ironstone binary under qemu-user (no binfmt registration needed):
#
#   tests/arm64_smoke.sh [BINARY]      default: build-arm64/flasher/ironstone-flasher
#
# Checks that `file` calls it an ARM aarch64 ELF and that `BINARY --help`, run by
# `qemu-aarch64 -L /usr/aarch64-linux-gnu`, prints a usage naming the binary (e.g.
# "ironstone-flasher"). Without the binary (tools/cross-arm64.sh builds it) or qemu-aarch64
# it prints "SKIPPED: <reason>" and exits 0, so the test suite passes on hosts without the
# cross toolchain.
set -uo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
bin=${1:-$root/build-arm64/flasher/ironstone-flasher}
name=$(basename "$bin")

skip() { echo "SKIPPED: $*"; exit 0; }
fail() { echo "FAILED: $*" >&2; exit 1; }

[ -f "$bin" ] || skip "$bin not built (run tools/cross-arm64.sh)"
command -v qemu-aarch64 >/dev/null || skip "qemu-aarch64 not installed (apt-get install qemu-user)"
command -v file >/dev/null || skip "file(1) not installed"

kind=$(file -b "$bin")
case "$kind" in
  *ELF*ARM\ aarch64*) ;;
  *) fail "$bin is not an arm64 ELF: $kind" ;;
esac

sysroot=/usr/aarch64-linux-gnu
[ -d "$sysroot" ] || sysroot=/
out=$(timeout 60 qemu-aarch64 -L "$sysroot" "$bin" --help 2>&1)
status=$?
[ $status -eq 0 ] || fail "qemu-aarch64 $bin --help exited $status: $(echo "$out" | head -5)"
echo "$out" | grep -q "$name" || fail "$bin --help printed no usage naming $name: $(echo "$out" | head -5)"
echo "$out" | grep -qiE 'usage|options' || fail "$bin --help printed no usage: $(echo "$out" | head -5)"
echo "PASSED: $name ($(echo "$kind" | cut -d, -f1-2)) runs under qemu-aarch64 and prints its usage"
