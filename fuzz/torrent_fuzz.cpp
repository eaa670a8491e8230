// Fuzz target: a release.torrent as it arrives from the network (the seeder's HTTP store or a
// peer), checked against the signed manifest (manifest/torrent.h check_torrent). The manifest is a
// real published release's (torrent_fuzz_manifest.inc, built in), whose torrent is
// fuzz/corpus/torrent/valid.torrent; the bytes are the input. Only ironstone::Error may escape, and
// nothing but a torrent with the manifest's signed v2 info-hash may pass.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include <libtorrent/torrent_info.hpp>

#include "manifest/manifest.h"
#include "manifest/torrent.h"

namespace {

// rpi5/1.0: a 256 KiB image in 64 KiB chunks, two of them stored.
const ironstone::manifest::Manifest& manifest() {
  static const ironstone::manifest::Manifest m = [] {
    return ironstone::manifest::parse_manifest(
#include "torrent_fuzz_manifest.inc"
        , "fuzz-manifest.json");
  }();
  return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& m = manifest();
  try {
    auto ti = ironstone::manifest::check_torrent(m, std::span<const char>(reinterpret_cast<const char*>(data), size),
                                                 "fuzz.torrent");
    if (!ti || ironstone::manifest::info_hash_v2(*ti) != m.info_hash_v2) std::abort();
  } catch (const ironstone::Error&) {
  }
  return 0;
}
