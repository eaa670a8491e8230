// Per-chunk state of one SwarmDownload (swarm_download.h): one ChunkState per chunk
// of the release, in manifest order (chunk i = libtorrent piece i), instead of one
// vector per field.
//
// Thread safety: a ChunkTable belongs to the thread that drives the download
// (SwarmDownload::run()/linger()); nothing here is shared with other threads.
#pragma once

#include <libtorrent/sha1_hash.hpp>
#include <libtorrent/units.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ironstone::flasher {

struct ChunkState {
  bool wanted = false;      // the target lacks it: to be downloaded and handed to the sink
  bool delivered = false;   // handed to the sink (once; a piece may pass twice)
  bool passed = false;      // passed libtorrent's piece hash in this session
  bool reading = false;     // a read_piece() is outstanding for it
  bool own = true;          // in this node's stripe (every chunk while alone, stripe_policy.h)
  bool peer_holds = false;  // a connected node other than the seeder has it (last peer poll)
  int applied = -1;         // the file priority last given to libtorrent (-1: none yet)
  bool has_file = false;    // the torrent has a file for it (always, for a checked torrent)
  lt::file_index_t file{};  // its file in the torrent
  lt::sha256_hash root{};   // the torrent's v2 hash of that file (its piece: one file is one piece)
  int piece_size = 0;       // libtorrent's piece size (add_piece() takes the piece padded to it)
  std::uint64_t stored_size = 0;  // the signed stored size

  // Wanted and not yet handed to the sink.
  bool missing() const { return wanted && !delivered; }
};

class ChunkTable {
 public:
  ChunkTable() = default;
  explicit ChunkTable(std::size_t n) : chunks_(n) {}

  std::size_t size() const { return chunks_.size(); }
  ChunkState& operator[](std::size_t i) { return chunks_[i]; }
  const ChunkState& operator[](std::size_t i) const { return chunks_[i]; }
  // Chunk p of a libtorrent piece index, nullptr when p is out of range.
  ChunkState* piece(int p) {
    return p >= 0 && static_cast<std::size_t>(p) < chunks_.size() ? &chunks_[static_cast<std::size_t>(p)] : nullptr;
  }
  auto begin() { return chunks_.begin(); }
  auto end() { return chunks_.end(); }
  auto begin() const { return chunks_.begin(); }
  auto end() const { return chunks_.end(); }

  std::size_t wanted_count() const {
    std::size_t n = 0;
    for (const auto& c : chunks_) n += c.wanted;
    return n;
  }
  // Every chunk of this node's stripe that is wanted was delivered.
  bool own_stripe_done() const {
    for (const auto& c : chunks_)
      if (c.own && c.missing()) return false;
    return true;
  }
  std::vector<std::uint64_t> stored_sizes() const {
    std::vector<std::uint64_t> out;
    out.reserve(chunks_.size());
    for (const auto& c : chunks_) out.push_back(c.stored_size);
    return out;
  }
  std::vector<lt::sha256_hash> piece_roots() const {
    std::vector<lt::sha256_hash> out;
    out.reserve(chunks_.size());
    for (const auto& c : chunks_) out.push_back(c.root);
    return out;
  }

 private:
  std::vector<ChunkState> chunks_;
};

}  // namespace ironstone::flasher
