// ChunkGuard: peer mode's check that a chunk is right before the HTTP chunk store serves it
// (docs/peer-mode.md, "Nothing wrong at run time"). A peer's store was verified when it was
// written and again at start-up, but a disk can flip a bit while the peer runs: so every chunk
// the peer's seeder serves over HTTP (the flashers' HTTP stripe and the BEP 19 web seed) is
// read whole and checked as a flasher checks it (verify_stored_chunk) against the signed
// manifests of the releases the peer holds (set_index(), the follower's), and only the checked
// bytes are sent. A chunk that fails, or that no held release lists, is not served; a failing
// one becomes a suspect: on_suspect runs and the follower drops and re-fetches it
// (PeerFollower::poll_now()).
//
// Cost: one read, one zstd decode and one BLAKE2b-256 of the chunk per request (measured in
// docs/performance.md, "Peer mode: checked chunk serving").
//
// Thread safety: every member from any thread (check() from the HTTP workers, concurrently).
// on_suspect is called with the guard's mutex held: it must not call back into the guard.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

#include "manifest/chunk_codec.h"
#include "manifest/manifest.h"
#include "seeder/config.h"

namespace ironstone::seeder {

// The check of a chunk's stored bytes before a peer keeps or serves them: the signed stored
// size, then BLAKE2b-256 of the stored bytes against the signed stored_hash (format 2), or
// decoding with the signed length as the limit and the decoded bytes' hash (format 1). Throws
// Error(Errc::kStore) "chunk <hex>: …" naming what differs.
void verify_stored_chunk(std::span<const std::uint8_t> stored, const manifest::Chunk& chunk,
                         manifest::ChunkDecoder& decoder);

class ChunkGuard {
 public:
  using Index = std::map<std::string, manifest::Chunk>;  // by hex of the hash

  // The chunks of every release the peer holds (from manifests whose signatures it checked).
  void set_index(Index index);
  // True when `stored` are the right bytes of a chunk the index lists. Else false, and a chunk
  // listed but wrong becomes a suspect (counted in bad_found(), on_suspect called).
  bool check(std::string_view hex, std::string_view stored);
  // The suspects since the last call, by hex.
  Index take_suspects();
  // Chunks found wrong by check() since start.
  std::uint64_t bad_found() const { return bad_found_.load(); }
  // REQUIRES: whatever on_suspect refers to outlives the guard or is unset (empty) first.
  void set_on_suspect(std::function<void()> on_suspect);
  // check() as a SeederConfig::chunk_check; the function keeps the guard alive.
  static ChunkCheck checker(std::shared_ptr<ChunkGuard> guard);

 private:
  std::mutex mutex_;
  Index index_, suspects_;
  std::function<void()> on_suspect_;
  std::atomic<std::uint64_t> bad_found_{0};
};

}  // namespace ironstone::seeder
