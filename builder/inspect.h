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
  // gc --older-than: also remove every release created (the manifest's signed `created`) more
  // than this many seconds before `now`, even one of the newest `keep`. nullopt: by count only.
  std::optional<std::int64_t> older_than;
  std::int64_t now = 0;  // unix seconds; 0 = the current time
};

struct GcResult {
  std::vector<std::string> removed_releases;  // "rpi5/1.0"
  std::vector<std::string> removed_chunks;    // relative paths
  std::uint64_t freed_bytes = 0;
};

// Removes a release when it is not among the newest `keep` of its board and channel, or
// (with `older_than`) when it is older than that; never a release a channel pointer names.
// Keeps every chunk a kept release references and removes the rest (and stale temporaries
// of crashed publishers). Holds the store lock. Throws kUsage for keep < 1 or older_than < 0.
GcResult gc(const GcOptions& options);

}  // namespace ironstone::builder
