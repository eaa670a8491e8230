// The benchmark's image and release, built by the benchmark itself (no download):
// tools/make-image.sh (MBR, FAT32 boot, ext4 root populated with this machine's files,
// zero tail), `ironstone-build keygen` + `publish` into a store, and `zstd -T0 -3` of
// the image for the HTTP and multicast methods. Kept in a cache directory, one
// subdirectory per image (cache/built-<size>-p<payload>/ or cache/file-<name>-<bytes>/),
// and reused when it was built with the same parameters (a "params" file records them).
// Not thread-safe: one benchmark per cache directory at a time.
#pragma once

#include <filesystem>
#include <string>

#include "bench/method.h"

namespace ironstone::bench {

struct ImageOptions {
  std::string image_file;           // use this image instead of building one
  // The built image: realistic by default (~1.2 GB of data in 4 GiB, zstd ratio ~3, like a
  // Debian arm64 root with containerd and k3s); `--image-size small` is the quick 2G/600 one.
  std::string image_size = "4G";    // image size for the built one
  int payload_mib = 1150;           // real files in its ext4 root
  // The release's format (ironstone-build publish --format-version): 2 by default; 1 to
  // measure the flasher on a release without stored hashes, side by side (its own cache entry).
  int release_format = 2;
  // The release's chunk size (ironstone-build publish --chunk-size): one torrent piece each,
  // so also how soon a node can pass a chunk on. Other than 4M: its own cache entry.
  std::string chunk_size = "4M";
  std::filesystem::path cache = "/var/tmp/ironstone-bench-cache";  // built images and releases
  std::filesystem::path work;       // runs (node targets and logs)
  std::filesystem::path make_image; // tools/make-image.sh
};

Image prepare_image(const ImageOptions& o, const Binaries& bin);

// Finds the sibling binaries of this executable in a build tree (or bin_dir / PATH).
Binaries find_binaries(const std::string& bin_dir);
// tools/make-image.sh from the source tree.
std::filesystem::path find_make_image();

}  // namespace ironstone::bench
