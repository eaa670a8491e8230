// ChunkWriter: verify-then-write of downloaded chunks (docs/design.md, "Trust rules", rule 2).
//
// submit() takes a chunk's stored bytes as they came through libtorrent's piece
// hash; worker threads check them against the signed manifest and decompress them with
// the signed length as the hard limit (manifest::ChunkDecoder::decode(): BLAKE2b-256 of
// the stored bytes for a format-2 release, of the decoded bytes for format 1; bytes
// proven already, fetched over HTTP, are not hashed again), and only then write the result at
// every offset of that chunk that the target does not already hold. Nothing that
// fails verification is ever written. Each write is read back at once and compared
// with the verified bytes (Errc::kVerify on a difference), so when finish() returns,
// positions_verified() == positions_pending() says every written position holds
// the signed bytes: the flasher's final verification needs no second hashing pass.
//
// The first chunk of the image is written last (finish()), so a half-flashed disk
// never boots: begin() first overwrites offset 0 with zeros when anything will be
// written, because the old partition table may be valid and point into new data.
//
// Lifetime: REQUIRES: `target` and the manifest `m` outlive the ChunkWriter (it keeps
// references to both, and its workers use them until finish() or the destructor).
//
// CPU accounting: cpu() holds the workers' CPU time by stage (per-thread CPU clocks around
// each chunk's decode, write and read-back; a few clock reads per 128 KiB block).
//
// Thread safety: begin(), submit() and finish() are for one producer thread; the
// counters (chunks_done(), bytes_written(), positions_*(), cpu()) may be read from any thread.
// Workers are internal. finish() rethrows the first worker error, with context
// ("flash: chunk 1832 @ 0x1CA00000: hash mismatch …").
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "flasher/target.h"
#include "manifest/chunk_codec.h"
#include "manifest/manifest.h"
#include "util/cpu_clock.h"

namespace ironstone::flasher {

class ChunkWriter {
 public:
  // pending[i]: offsets of chunk i to write (those the scan did not find right).
  ChunkWriter(Target& target, const manifest::Manifest& m, std::vector<std::vector<std::uint64_t>> pending,
              unsigned threads);
  ~ChunkWriter();
  ChunkWriter(const ChunkWriter&) = delete;
  ChunkWriter& operator=(const ChunkWriter&) = delete;

  // True when chunk i has offsets to write.
  bool wanted(std::size_t i) const { return !pending_[i].empty(); }
  // Invalidates the first chunk on the target if anything will be written.
  void begin();
  // Queues chunk i's stored bytes; blocks while the queue is full. Idempotent per
  // chunk (a second delivery of the same chunk is ignored). Throws the first worker
  // error early so the producer stops.
  void submit(std::size_t i, std::shared_ptr<const std::vector<std::uint8_t>> stored);
  void submit(std::size_t i, std::vector<std::uint8_t> stored) {
    submit(i, std::make_shared<const std::vector<std::uint8_t>>(std::move(stored)));
  }
  // The same for stored bytes proven against the signed entry already (fetched over HTTP):
  // decoded within the signed length, not hashed again. The proof must be chunk i's.
  void submit(std::size_t i, manifest::ProvenStored proven);
  // Chunks verified and written (or queued to be written last) so far.
  std::size_t chunks_done() const;
  std::size_t chunks_wanted() const { return wanted_count_; }
  std::uint64_t bytes_written() const;
  // (chunk, offset) positions to write in all, and those written and read back right.
  std::size_t positions_pending() const;
  std::size_t positions_verified() const;
  // Waits for the queue, writes the deferred first chunk, rethrows the first error.
  void finish();

  struct Cpu {
    manifest::DecodeCpu decode;  // zstd and BLAKE2b
    CpuStage write, read_back;   // pwrite; pread + compare
  };
  const Cpu& cpu() const { return cpu_; }

 private:
  struct Item {
    std::size_t chunk;
    std::shared_ptr<const std::vector<std::uint8_t>> stored;  // shared with the swarm, never changed
    std::optional<manifest::ProvenStored> proven;              // instead of `stored`, when proven
  };
  void enqueue(Item item);
  void worker();
  void process(Item& item, class ChunkDecoderHolder& dec);
  void throw_if_failed();

  Target& target_;
  const manifest::Manifest& m_;
  std::vector<std::vector<std::uint64_t>> pending_;
  std::size_t wanted_count_ = 0;
  std::size_t queue_limit_;
  mutable std::mutex mu_;
  std::condition_variable cv_item_, cv_space_, cv_idle_;
  std::deque<Item> queue_;
  std::vector<bool> accepted_;
  std::size_t done_ = 0;
  std::size_t busy_ = 0;
  std::uint64_t written_ = 0;
  std::size_t verified_ = 0;  // positions written and read back right
  bool stopping_ = false;
  std::exception_ptr failure_;
  std::vector<std::uint8_t> first_chunk_;  // decoded bytes for offset 0, written last
  std::size_t first_index_ = 0;            // the chunk at offset 0
  bool first_pending_ = false;
  Cpu cpu_;
  std::vector<std::thread> workers_;
};

}  // namespace ironstone::flasher
