// The signed channel pointer: channels/<board>/<channel>.json (+ .minisig).
// It names the latest release of a board on a channel and pins the exact bytes of
// that release's manifest by hash. Canonical JSON, strict parser (as manifests).
// Format: docs/release-format.md, "Channel pointer".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "manifest/hash.h"

namespace ironstone::manifest {

struct ChannelPointer {
  std::uint32_t format_version = 1;
  std::string board;
  std::string channel;
  std::string version;
  std::uint64_t sequence = 0;
  std::int64_t expires = 0;  // unix seconds; a pointer never outlives its manifest
  Hash256 manifest_hash;     // BLAKE2b-256 of the release's manifest.json bytes
};

std::string serialize(const ChannelPointer& p);
ChannelPointer parse_channel_pointer(std::string_view bytes, std::string_view source);

}  // namespace ironstone::manifest
