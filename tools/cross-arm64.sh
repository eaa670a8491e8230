#!/usr/bin/env bash
# Cross-build Ironstone's binaries for arm64 (Raspberry Pi 5, Rock 5B) on a Debian amd64 host,
# in one command:
#
#   tools/cross-arm64.sh                      install what is missing, build into build-arm64/
#   tools/cross-arm64.sh --target ironstone-flasher
#   tools/cross-arm64.sh --no-install         build only (toolchain and :arm64 libraries present)
#   tools/cross-arm64.sh --install-only       install only
#
# Options: --build-dir DIR (default build-arm64), --build-type T (default Release),
#          --target T (repeatable; default: every binary), -j N (default $IRONSTONE_JOBS or nproc).
# Environment: IRONSTONE_CROSS_EXTRA="pkg:arm64 ..." installs more packages.
#
# It uses Debian's cross toolchain (crossbuild-essential-arm64) and multiarch :arm64 -dev packages,
# configured by cmake/aarch64-linux-gnu.cmake; tests and benchmarks are not built. qemu-user is
# installed so tests/arm64_smoke.sh can run the arm64 flasher (qemu-aarch64, no binfmt needed).
#
# Safety: before installing, every apt transaction is simulated (apt-get install -s). If apt would
# remove any installed package (e.g. an amd64 -dev package other builds need), nothing is installed
# and the culprit packages are named. A package the apt sources do not have is a clear error too.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

TRIPLE=aarch64-linux-gnu
BUILD_DIR=build-arm64
BUILD_TYPE=Release
JOBS=${IRONSTONE_JOBS:-$(nproc)}
TARGETS=()
DO_INSTALL=1
DO_BUILD=1

# What the build needs. Header-only packages (nlohmann-json3-dev, libcli11-dev) are
# architecture-independent; every library is the :arm64 one.
HOST_PACKAGES=(crossbuild-essential-arm64 qemu-user cmake ninja-build pkg-config file)
ARM64_PACKAGES=(
  libtorrent-rasterbar-dev:arm64 libboost-dev:arm64 libboost-system-dev:arm64 libssl-dev:arm64
  libsodium-dev:arm64 libzstd-dev:arm64 liblzma-dev:arm64 nlohmann-json3-dev
  libspdlog-dev:arm64 libfmt-dev:arm64 libcli11-dev libsqlite3-dev:arm64
)
# More packages, e.g. IRONSTONE_CROSS_EXTRA="libgtest-dev:arm64" to cross-build the tests too.
read -r -a EXTRA <<<"${IRONSTONE_CROSS_EXTRA:-}"
ARM64_PACKAGES+=("${EXTRA[@]}")

die() { echo "cross-arm64: $*" >&2; exit 1; }
usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --no-install) DO_INSTALL=0 ;;
    --install-only) DO_BUILD=0 ;;
    --build-dir) BUILD_DIR=${2:?--build-dir needs a directory}; shift ;;
    --build-type) BUILD_TYPE=${2:?--build-type needs a value}; shift ;;
    --target) TARGETS+=("${2:?--target needs a target}"); shift ;;
    -j) JOBS=${2:?-j needs a number}; shift ;;
    -j*) JOBS=${1#-j} ;;
    -h|--help) usage 0 ;;
    *) echo "cross-arm64: unknown argument: $1" >&2; usage 2 ;;
  esac
  shift
done

# (Output is captured before grep -q: with pipefail, grep -q closing the pipe early would fail the pipeline.)
installed() { local s; s=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) && [[ $s == *"install ok installed"* ]]; }
has_candidate() { local s; s=$(apt-cache policy "$1" 2>/dev/null) && [[ $s =~ Candidate:\ [^\(] ]]; }

install_packages() {
  command -v apt-get >/dev/null || die "apt-get not found: this script needs a Debian (bookworm) host"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "need root (or sudo) to install packages"
    sudo=(sudo)
  fi
  local need_update=0
  if [[ $'\n'$(dpkg --print-foreign-architectures)$'\n' != *$'\n'arm64$'\n'* ]]; then
    echo "cross-arm64: adding the arm64 architecture (dpkg --add-architecture arm64)"
    "${sudo[@]}" dpkg --add-architecture arm64
    need_update=1
  fi
  local missing=() p
  for p in "${HOST_PACKAGES[@]}" "${ARM64_PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "cross-arm64: toolchain and arm64 libraries already installed"
    return 0
  fi
  # A package apt does not know yet may only need fresh lists.
  for p in "${missing[@]}"; do
    has_candidate "$p" || need_update=1
  done
  if [ $need_update -eq 1 ]; then
    echo "cross-arm64: apt-get update"
    "${sudo[@]}" apt-get update -qq || die "apt-get update failed"
  fi
  local unavailable=()
  for p in "${missing[@]}"; do
    has_candidate "$p" || unavailable+=("$p")
  done
  [ ${#unavailable[@]} -eq 0 ] ||
    die "not available from the configured apt sources: ${unavailable[*]} (is this Debian bookworm with arm64 in the sources?)"

  echo "cross-arm64: simulating: apt-get install ${missing[*]}"
  local sim
  if ! sim=$(apt-get install -s --no-install-recommends "${missing[@]}" 2>&1); then
    echo "$sim" | grep -E '^(E:| )' >&2 || true
    die "apt cannot install these packages together (see above); nothing was installed"
  fi
  local removals
  removals=$(echo "$sim" | awk '/^Remv /{print $2}')
  if [ -n "$removals" ]; then
    echo "cross-arm64: installing would REMOVE installed packages: $(echo $removals)" >&2
    for p in "${missing[@]}"; do
      local r
      r=$(apt-get install -s --no-install-recommends "$p" 2>/dev/null | awk '/^Remv /{print $2}' | xargs)
      [ -z "$r" ] || echo "  $p would remove: $r" >&2
    done
    die "refusing to install (other builds on this machine may need those packages); nothing was installed"
  fi
  echo "cross-arm64: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" ||
    die "apt-get install failed"
}

build() {
  command -v "$TRIPLE-g++" >/dev/null || die "$TRIPLE-g++ not found: run without --no-install (or apt-get install crossbuild-essential-arm64)"
  local args=()
  [ ${#TARGETS[@]} -eq 0 ] || { local t; for t in "${TARGETS[@]}"; do args+=(--target "$t"); done; }
  echo "cross-arm64: configuring $BUILD_DIR ($BUILD_TYPE)"
  cmake -S . -B "$BUILD_DIR" -G Ninja \
    -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/aarch64-linux-gnu.cmake" \
    -DCMAKE_BUILD_TYPE="$BUILD_TYPE" -DIRONSTONE_TESTS=OFF -DIRONSTONE_BENCH=OFF -DIRONSTONE_BUILDER=OFF >/dev/null ||
    die "cmake configure failed (missing :arm64 -dev package? run without --no-install)"
  echo "cross-arm64: building ${TARGETS[*]:-all binaries} with -j$JOBS"
  cmake --build "$BUILD_DIR" -j "$JOBS" "${args[@]}" || die "build failed"
  local bin found=0
  for bin in "$BUILD_DIR"/flasher/ironstone-flasher "$BUILD_DIR"/builder/ironstone-build \
             "$BUILD_DIR"/seeder/ironstone-seeder; do
    [ -f "$bin" ] || continue
    found=1
    file -b "$bin" | grep -q 'ARM aarch64' || die "$bin is not an arm64 ELF: $(file -b "$bin")"
    echo "cross-arm64: $bin ($(file -b "$bin" | cut -d, -f1-2))"
  done
  [ $found -eq 1 ] || die "no binary was built in $BUILD_DIR"
  if command -v qemu-aarch64 >/dev/null && [ -f "$BUILD_DIR/flasher/ironstone-flasher" ]; then
    echo "cross-arm64: smoke test: tests/arm64_smoke.sh $BUILD_DIR/flasher/ironstone-flasher"
    tests/arm64_smoke.sh "$BUILD_DIR/flasher/ironstone-flasher" || echo "cross-arm64: warning: smoke test failed" >&2
  fi
}

[ $DO_INSTALL -eq 0 ] || install_packages
[ $DO_BUILD -eq 0 ] || build
