// `ironstone-build inspect` and `ironstone-build gc`: reading and pruning a store.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace ironstone::builder {

// Human summary of one release (sizes raw/data/stored, chunks, zero share, dedupe,
// provenance, signing key id). Reads the store's files; does not verify them
// (the summary says so: use `verify` for that).
void inspect_release(const std::filesystem::path& store, const std::string& board, const std::string& version,
                     std::ostream& out);
// Summary of every release in the store, one line each.
void list_releases(const std::filesystem::path& store, std::ostream& out);

struct GcOptions {
  std::filesystem::path store;
  int keep = 3;  // newest releases (by sequence) kept per board and channel
  bool dry_run = false;
};

struct GcResult {
  std::vector<std::string> removed_releases;  // "rpi5/1.0"
  std::vector<std::string> removed_chunks;    // relative paths
  std::uint64_t freed_bytes = 0;
};

// Keeps the newest `keep` releases per board and channel, every release a channel
// pointer names, and every chunk a kept release references; removes the rest
// (and stale temporaries of crashed publishers). Holds the store lock.
GcResult gc(const GcOptions& options);

}  // namespace ironstone::builder
