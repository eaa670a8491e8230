// scan_target(): which chunks of a release does the target already hold?
//
// Delta and resume (docs/design.md, "Delta and resume"): before downloading, the flasher reads
// every chunk position of the manifest from the target and BLAKE2b-256-hashes it.
// What cannot be a chunk is not hashed: a hole of a sparse file (Target::known_zero,
// not even read) and a position that reads as all zeros (a fresh or wiped disk).
// Local data is untrusted (trust rule 3): a (chunk, offset) pair counts as present
// only when the bytes there hash to the chunk's signed hash. Zero ranges count as
// present when they read as all zeros (optional, on by default).
//
// Read errors do not abort the scan: the affected position counts as missing (it
// will be written), and the error is counted and the first one kept for the log.
//
// Threads: `threads` workers (at least 1) read in offset order; memory is bounded
// by one chunk buffer per worker. Precondition: init_crypto() was called; the
// manifest was validated. The target must not be written while it is scanned.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "flasher/target.h"
#include "manifest/manifest.h"

namespace ironstone::flasher {

// Called with (bytes scanned so far, total bytes to scan). Calls are serialised (never
// concurrent) and the first argument never decreases; called from worker threads.
using ScanProgress = std::function<void(std::uint64_t scanned, std::uint64_t total)>;

struct ScanOptions {
  unsigned threads = 2;
  bool check_zero_ranges = true;
  // False: only zero ranges are checked (present[][] stays all false).
  bool check_chunks = true;
  ScanProgress progress;
  // When set and it becomes true, workers stop early; unscanned positions count as missing.
  const std::atomic<bool>* cancel = nullptr;
};

struct ScanResult {
  // present[i][j]: manifest.chunks[i].offsets[j] already holds chunk i's bytes.
  std::vector<std::vector<bool>> present;
  // zero_present[k]: manifest.zero_ranges[k] already reads as zeros
  // (all false when zero ranges were not checked).
  std::vector<bool> zero_present;

  std::uint64_t bytes_scanned = 0;   // bytes read from the target
  std::uint64_t bytes_present = 0;   // image bytes (chunks and zero ranges) already right
  std::uint64_t read_errors = 0;
  std::string first_read_error;      // message of the first read error, empty if none
  bool cancelled = false;

  // True when every offset of chunk i holds the right bytes (nothing to download or write).
  bool chunk_complete(std::size_t i) const;
  // Number of (chunk, offset) pairs present / missing.
  std::size_t positions_present() const;
  std::size_t positions_missing() const;
};

ScanResult scan_target(Target& target, const manifest::Manifest& manifest, const ScanOptions& options);

// Convenience form of the brief: threads workers, zero ranges checked.
inline ScanResult scan_target(Target& target, const manifest::Manifest& manifest, unsigned threads,
                              ScanProgress progress = {}) {
  ScanOptions o;
  o.threads = threads;
  o.progress = std::move(progress);
  return scan_target(target, manifest, o);
}

}  // namespace ironstone::flasher
