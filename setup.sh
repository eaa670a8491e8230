#!/usr/bin/env bash
# Ironstone: install what the project needs (Debian packages only), build, and run a job.
#
#   ./setup.sh            install + build (Release, into build/)
#   ./setup.sh demo       install + build + run the local demo swarm (tools/demo.sh)
#   ./setup.sh test       install + build with ASan+UBSan (into build-asan/) + run the whole test suite
#   ./setup.sh e2e [ARGS] install + build + cross-build the arm64 flasher + the end-to-end run on an
#                         emulated arm64 UEFI machine (tools/e2e.sh ARGS; needs root, ~45 min cold, ~15 cached)
#
# Environment: IRONSTONE_JOBS (parallel build jobs, default: all cores).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libtorrent-rasterbar-dev libboost-dev libboost-system-dev libssl-dev
  libsodium-dev libzstd-dev zstd liblzma-dev xz-utils
  nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  minisign e2fsprogs dosfstools mtools fdisk util-linux iproute2 udpcast curl
  # The gold image (recipes are YAML), the fleet database, the emulated arm64 node, the dashboard test.
  libyaml-cpp-dev libsqlite3-dev mmdebstrap qemu-user-static binfmt-support arch-test
  qemu-system-arm qemu-efi-aarch64 efibootmgr chromium socat python3
)

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "setup: installing ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build() {  # build DIR [cmake args...]
  local dir=$1; shift
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
  cmake --build "$dir" -j "${IRONSTONE_JOBS:-$(nproc)}"
}

install_packages
case "${1:-build}" in
  build)
    build build -DCMAKE_BUILD_TYPE=Release
    ;;
  demo)
    build build -DCMAKE_BUILD_TYPE=Release -DIRONSTONE_TESTS=OFF
    shift; exec tools/demo.sh --build build "$@"
    ;;
  test)
    build build-asan -DCMAKE_BUILD_TYPE=Debug -DIRONSTONE_SANITIZE=ON -DIRONSTONE_BENCH=OFF
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    # No retries: the tests wait on conditions and hooks, not on fixed sleeps, so a flaky test must show.
    cd build-asan && exec ctest --output-on-failure -j "${IRONSTONE_JOBS:-$(nproc)}" --timeout 600
    ;;
  e2e)
    shift; tools/e2e.sh --preflight "$@"
    build build -DCMAKE_BUILD_TYPE=Release -DIRONSTONE_TESTS=OFF -DIRONSTONE_BENCH=OFF
    tools/cross-arm64.sh --target ironstone-flasher
    exec tools/e2e.sh --build build "$@"
    ;;
  *)
    echo "usage: $0 [build|demo|test|e2e]" >&2; exit 2
    ;;
esac
