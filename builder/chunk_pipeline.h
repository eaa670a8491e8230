// Cuts an image into chunks and fills the store's chunk files, on every core.
//
// Reading: an image that allows random access (raw file or block device) is read by the
// worker threads themselves, each claiming the next block (the calling thread is one of
// them), so reading is as parallel as the rest; holes of sparse files are not read. Other
// images (pipes, .zst, .xz) are read in order by the calling thread and handed to workers.
// Per block, a worker detects all-zero blocks, hashes the rest once (BLAKE2b-256),
// deduplicates, compresses (zstd, raw when that does not shrink; one zstd context per
// thread) and writes each new unique chunk as chunks/<aa>/<hex>.zst (temp file + rename),
// starting its writeback at once (FileSync::kStartWriteback) but not waiting for it: the
// caller must sync_store() before it commits anything that refers to the chunk files.
// The v2 pieces root of each chunk file is computed from the bytes just written. A chunk
// file already in the store is reused after its contents were checked against its hash.
//
// On any error the chunk files this run created are removed again before the error is
// rethrown, so a failed publish leaves the store exactly as it was.
// Precondition: the caller holds the StoreLock.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <vector>

#include "builder/image_reader.h"
#include "manifest/manifest.h"
#include "manifest/torrent.h"

namespace ironstone::builder {

struct PipelineOptions {
  std::filesystem::path store;
  std::uint32_t chunk_size = manifest::kDefaultChunkSize;
  int level = 3;
  int threads = 0;  // 0 = every core
  // Called now and then, always from the calling thread: (input bytes consumed, input size if known).
  std::function<void(std::uint64_t, std::optional<std::uint64_t>)> progress;
  // Compress and hash, but write no chunk file (publish --dry-run): a new chunk's piece hashes
  // come from its bytes in memory and it is counted in created_files as it would be written.
  bool dry_run = false;
};

struct PipelineResult {
  std::vector<manifest::Chunk> chunks;  // sorted by hash, offsets ascending
  std::vector<manifest::ZeroRange> zero_ranges;
  std::uint64_t image_size = 0;
  Hash256 image_hash;  // manifest/image_hash.h
  std::vector<manifest::PieceHashes> piece_hashes;  // torrent hashes of each chunk's stored bytes, in `chunks` order
  std::vector<std::filesystem::path> created_files;
  std::uint64_t reused_chunks = 0;
};

PipelineResult chunk_image(ImageReader& reader, const PipelineOptions& options);

// Removes chunk files (and their then-empty chunks/<aa>/ directories): rollback.
void remove_created_chunks(const std::vector<std::filesystem::path>& files);

}  // namespace ironstone::builder
