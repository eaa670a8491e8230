// The benchmark's image and release, built by the benchmark itself (no download):
// tools/make-image.sh (MBR, FAT32 boot, ext4 root populated with this machine's files,
// zero tail), `ironstone-build keygen` + `publish` into a store, and `zstd -T0 -3` of
// the image for the HTTP and multicast methods. Reused from the work directory when
// it was built with the same parameters (a "params" file records them).
#pragma once

#include <filesystem>
#include <string>

#include "bench/method.h"

namespace ironstone::bench {

struct ImageOptions {
  std::string image_file;           // use this image instead of building one
  std::string image_size = "2G";    // image size for the built one
  int payload_mib = 600;            // real files in its ext4 root
  std::filesystem::path work;       // where everything goes
  std::filesystem::path make_image; // tools/make-image.sh
};

Image prepare_image(const ImageOptions& o, const Binaries& bin);

// Finds the sibling binaries of this executable in a build tree (or bin_dir / PATH).
Binaries find_binaries(const std::string& bin_dir);
// tools/make-image.sh from the source tree.
std::filesystem::path find_make_image();

}  // namespace ironstone::bench
