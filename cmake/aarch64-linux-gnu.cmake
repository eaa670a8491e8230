# CMake toolchain file: cross-build Ironstone for arm64 (Raspberry Pi 5, Rock 5B) on a
# Debian amd64 host with Debian's cross toolchain and multiarch libraries:
#
#   dpkg --add-architecture arm64 && apt-get update
#   apt-get install crossbuild-essential-arm64 libtorrent-rasterbar-dev:arm64 ...   (see tools/cross-arm64.sh)
#   cmake -S . -B build-arm64 -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
#         -DIRONSTONE_TESTS=OFF -DIRONSTONE_BENCH=OFF
#
# tools/cross-arm64.sh does all of that in one command.
#
# Where things are on a multiarch Debian host:
#   /usr/aarch64-linux-gnu            the cross toolchain's own libc/libstdc++ (libc6-dev-arm64-cross)
#   /usr/lib/aarch64-linux-gnu        the :arm64 libraries and their CMake/pkg-config files
#   /usr/include[/aarch64-linux-gnu]  headers of the :arm64 -dev packages (shared with amd64)
# CMake learns CMAKE_LIBRARY_ARCHITECTURE=aarch64-linux-gnu from the compiler, so it looks in
# <prefix>/lib/aarch64-linux-gnu before <prefix>/lib and never in /usr/lib/x86_64-linux-gnu.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(IRONSTONE_CROSS_TRIPLE aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${IRONSTONE_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${IRONSTONE_CROSS_TRIPLE}-g++)
find_program(IRONSTONE_CROSS_AR NAMES ${IRONSTONE_CROSS_TRIPLE}-ar)
if(IRONSTONE_CROSS_AR)
  set(CMAKE_AR ${IRONSTONE_CROSS_AR} CACHE FILEPATH "arm64 ar")
endif()

set(CMAKE_FIND_ROOT_PATH /usr/${IRONSTONE_CROSS_TRIPLE} /usr/lib/${IRONSTONE_CROSS_TRIPLE})
# Programs (pkg-config, code generators) run on the build host.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
# Multiarch headers and CMake package files live under /usr, not under a sysroot, so the host
# prefix must be searched too; the library architecture above keeps the amd64 ones out.
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

# pkg-config (libsodium, liblzma): only the arm64 .pc files plus the architecture-independent ones.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${IRONSTONE_CROSS_TRIPLE}/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")

# qemu-user runs the arm64 binaries on the host (try_run, tests): no binfmt registration needed.
find_program(IRONSTONE_QEMU_AARCH64 qemu-aarch64)
if(IRONSTONE_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${IRONSTONE_QEMU_AARCH64} -L /usr/${IRONSTONE_CROSS_TRIPLE})
endif()
