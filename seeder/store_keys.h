// The store's trusted keys (keys/*.pub, docs/release-format.md) as the seeder uses them: a
// release is seeded over BitTorrent only when its manifest is signed by one of them and its
// torrent is the one that manifest signs (manifest/torrent.h check_torrent). A store without
// keys/*.pub is seeded unchecked (the flashers check every release with their own keys either
// way; the seeder logs that at start). The keys are read once, at start.
// Thread safety: stateless functions.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "manifest/minisign.h"

namespace ironstone::seeder {

// Every keys/*.pub of the store, sorted by file name. Throws Error(Errc::kStore) naming the
// file when one cannot be read or parsed (fail closed: a broken key list is not "no keys").
std::vector<manifest::PublicKey> load_store_keys(const std::filesystem::path& store);

// Checks that releases/<board>/<version>/ (release_dir) has a manifest signed by one of `keys`
// and a torrent that manifest signs. Throws Error (the manifest module's codes: kSignature,
// kUnknownKey, kParse, kTorrent ...) naming the file; Errc::kStore when a file cannot be read.
void check_release_signed(const std::filesystem::path& release_dir, const std::vector<manifest::PublicKey>& keys);

}  // namespace ironstone::seeder
