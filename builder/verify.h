// `ironstone-build verify`: checks a store the way a flasher would, and more.
// For each selected release: the manifest signature by a trusted key, the trusted
// comment, every chunk file (decompressed with the signed length, BLAKE2b), the
// torrent against the manifest, the firmware payloads; and each channel pointer's
// signature and the manifest hash it pins. An expired release is a problem unless
// allow_expired (then a warning). Every problem is collected, not just the first.
//
// Trusted keys: options.keys (--public-key) and the store's keys/*.pub (docs/release-format.md).
// A keys/*.pub file that does not parse is a problem naming the file. With neither, nothing
// verifies ("no trusted public key ...").
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "manifest/minisign.h"

namespace ironstone::builder {

struct VerifyOptions {
  std::filesystem::path store;
  std::vector<manifest::PublicKey> keys;
  std::optional<std::string> board;
  std::optional<std::string> version;
  int threads = 0;
  bool allow_expired = false;  // --allow-expired: an expired release is a warning, not a problem
  std::int64_t now = 0;        // unix seconds for the expiry check; 0 = the system clock
};

struct VerifyReport {
  int releases_checked = 0;
  int chunks_checked = 0;
  std::vector<std::string> problems;  // "releases/rpi5/1.0: chunk 3 (chunks/ab/….zst) @ 0x400000: hash mismatch"
  std::vector<std::string> warnings;
  std::vector<std::string> trusted_keys;  // "<key id> (<file>)" for each key used, --public-key first
  bool ok() const { return problems.empty() && releases_checked > 0; }
};

VerifyReport verify_store(const VerifyOptions& options);

}  // namespace ironstone::builder
