// Paths of the release store (docs/release-format.md, "Store layout").
//
//   releases/<board>/<version>/manifest.json (+ .minisig), release.torrent, firmware/<name>
//   chunks/<aa>/<blake2b-hex>.zst          one file per unique non-zero chunk
//   channels/<board>/<channel>.json (+ .minisig)
//   keys/*.pub                              trusted public keys
//
// All functions are pure; callers validate names (valid_board_name, ...) first.
#pragma once

#include <filesystem>
#include <string>

#include "manifest/hash.h"

namespace ironstone::manifest::layout {

inline constexpr const char* kManifestFile = "manifest.json";
inline constexpr const char* kSignatureSuffix = ".minisig";
inline constexpr const char* kTorrentFile = "release.torrent";

// "chunks/ab/abcdef….zst", relative to the store root. This is also the path of
// the chunk inside the torrent (torrent name "chunks"), so the store root is the
// torrent's save path and the seeder's web seed root.
std::string chunk_relpath(const Hash256& hash);
std::filesystem::path release_dir(const std::filesystem::path& store, const std::string& board,
                                  const std::string& version);
std::filesystem::path channel_file(const std::filesystem::path& store, const std::string& board,
                                   const std::string& channel);

}  // namespace ironstone::manifest::layout
