// ChunkFetcher: this node's stripe from the seeder's HTTP chunk store.
//
// The seeder has every chunk, so over BitTorrent libtorrent's picker asked it for
// other nodes' stripes as well whenever it had a free request slot (measured, 8 nodes
// on 100 Mbit/s ports: the NAS sent 1.7 copies of the release while the nodes' ports
// idled). So a node takes exactly the chunks it is given (want()) from the store the
// seeder serves anyway for its web seed (GET <store>/chunks/ab/<hash>.zst, see
// docs/http-api.md), and everything else from the other nodes; SwarmDownload hides
// the seeder's BitTorrent pieces from libtorrent (seeder_filter.h) and hands what
// arrives here to libtorrent (add_piece), which checks the piece hash and seeds it.
//
// Nothing here is trusted: a body must be 200 and exactly the chunk's signed
// stored_size (the response limit, so nothing larger is ever read into memory), and,
// with a `verify` function (HttpHandoff gives one: the torrent's piece hash and the signed
// stored_hash, and it hands the proof on, so the ChunkWriter only decodes), pass it before
// it is handed out.
// A failed or refused request is retried after a pause, each attempt at the next source
// (several seeders: sources[0], sources[1], ...), up to kMaxAttempts per chunk; then the
// chunk is given up for kGiveUpPause (given_up() says so, and the swarm takes it over),
// after which want() queues it again with fresh attempts: a source that failed or lied
// is paused, never dropped for good.
//
// Thread safety: want(), cancel(), take(), bytes() and failures() from any thread;
// `connections` worker threads do the requests. The destructor stops and joins them
// (an in-flight request ends by its timeout at worst).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "manifest/chunk_codec.h"
#include "swarm/hashed_piece.h"

namespace ironstone::flasher {

struct FetchedChunk {
  std::size_t chunk = 0;
  std::string stored;  // exactly the chunk's stored_size bytes, unverified (empty once `proven` holds them)
  std::optional<manifest::ProvenStored> proven;  // set by a `verify` that proved them (HttpHandoff's)
  std::optional<swarm::HashedPiece> hashed;      // and their block hashes, the same bytes as `proven`
  // The stored bytes, wherever they are now.
  std::span<const std::uint8_t> bytes() const {
    if (proven) return *proven->bytes();
    return {reinterpret_cast<const std::uint8_t*>(stored.data()), stored.size()};
  }
};

class ChunkFetcher {
 public:
  static constexpr int kMaxAttempts = 5;
  static constexpr std::chrono::seconds kGiveUpPause{5};
  // "" when got.stored (exactly the signed size) is chunk i, else why not; it may move the
  // bytes into got.proven. Called on the worker threads, concurrently: must be thread-safe.
  using Verify = std::function<std::string(FetchedChunk& got)>;

  // urls[i], sizes[i]: where chunk i is and its signed stored size.
  ChunkFetcher(std::vector<std::string> urls, std::vector<std::uint64_t> sizes, unsigned connections);
  // sources[s][i]: chunk i at source s (REQUIRES: at least one source, each with sizes.size()
  // URLs); attempt k of a chunk goes to source k % sources.size(). verify may be empty.
  ChunkFetcher(std::vector<std::vector<std::string>> sources, std::vector<std::uint64_t> sizes,
               unsigned connections, Verify verify);
  ~ChunkFetcher();
  ChunkFetcher(const ChunkFetcher&) = delete;
  ChunkFetcher& operator=(const ChunkFetcher&) = delete;

  // Queues chunk i unless it is queued, in flight, fetched, or given up less than
  // kGiveUpPause ago (then: again, with fresh attempts).
  void want(std::size_t i);
  // Chunk i failed kMaxAttempts times in a row (and want() has not queued it again since).
  bool given_up(std::size_t i) const;
  // Every chunk given_up() now, in index order (one lock, for a caller asking about all).
  std::vector<std::size_t> given_up_chunks() const;
  // Chunk i is no longer wanted from here (it arrived another way, or left the stripe):
  // drop it from the queue; want() may queue it again. An in-flight one still lands.
  void cancel(std::size_t i);
  // Chunk i failed the piece hash after it was fetched: fetch it again (counts as an attempt).
  void retry(std::size_t i);
  // At most n requests at once (1 <= n <= connections; default: connections).
  void set_parallel(unsigned n);
  // Paces the requests to bytes_per_s on average (a request starts only when the ones
  // before it, at that rate, would have ended); 0 = unpaced (the default).
  void set_rate(double bytes_per_s);
  // What arrived since the last call.
  std::vector<FetchedChunk> take();
  // True when nothing is queued or in flight.
  bool idle() const;
  std::uint64_t bytes() const { return bytes_.load(); }
  std::size_t failures() const { return failures_.load(); }

 private:
  enum class State : std::uint8_t { kNone, kQueued, kInFlight, kDone, kGivenUp };
  struct Slot {  // one chunk's fetch state
    State state = State::kNone;
    int attempts = 0;  // failed in a row (reset when a paused chunk is wanted again)
    int tried = 0;     // requests made so far: the next goes to source tried % sources
    std::chrono::steady_clock::time_point given_up_at;
  };
  void work();
  std::string get(std::size_t i, FetchedChunk* got);
  void fail(std::size_t i, const std::string& why);

  const std::vector<std::vector<std::string>> sources_;
  const std::vector<std::uint64_t> sizes_;
  const Verify verify_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::size_t> queue_;
  std::vector<Slot> slots_;  // by chunk index
  std::vector<FetchedChunk> done_;
  std::size_t in_flight_ = 0;
  std::size_t parallel_ = 1;
  double rate_ = 0;                                   // bytes/s, 0 = unpaced
  std::chrono::steady_clock::time_point next_start_;  // pacing: when the next request may start
  bool stop_ = false;
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<std::size_t> failures_{0};
  std::vector<std::thread> threads_;
};

}  // namespace ironstone::flasher
