// The HTTP hand-off of one SwarmDownload (swarm_download.h): this node's stripe comes
// from the seeder's HTTP chunk store (ChunkFetcher, chunk_fetch.h) and is handed to
// libtorrent with add_piece(), which checks the piece hash and seeds it like any piece.
//
// request() asks the fetcher, every poll, for what should come from the seeder now
// (stripe.h chunk_source(): a chunk whose holder went is fetched here after all) and
// cancels what should come from the peers; hand_over() takes what arrived and gives it
// to libtorrent, holding it while libtorrent still checks the torrent's files (it drops
// add_piece() then). With other nodes, one request at a time, paced at the seeder's
// upload budget / nodes (on_stripe(); tuned, docs/performance.md).
//
// Thread safety: belongs to the thread that drives the download; the fetcher's own
// threads do the requests (chunk_fetch.h).
#pragma once

#include <libtorrent/torrent_handle.hpp>

#include <cstdint>
#include <memory>
#include <vector>

#include "flasher/chunk_fetch.h"
#include "flasher/stripe.h"
#include "flasher/swarm_chunks.h"

namespace ironstone::flasher {

class HttpHandoff {
 public:
  // urls[i]: chunk i in the seeder's store; connections: parallel requests while alone;
  // upload_limit: the seeder's upload budget (bytes/s, 0 = none).
  HttpHandoff(std::vector<std::string> urls, const ChunkTable& chunks, unsigned connections,
              std::int64_t upload_limit);

  // A new stripe: chunks no longer this node's are not fetched here; parallelism and pace.
  void on_stripe(const Stripe& stripe, const ChunkTable& chunks);
  // Chunk i arrived another way (delivered) or failed its piece hash after it was fetched.
  void cancel(std::size_t i) { fetcher_.cancel(i); }
  void retry(std::size_t i) { fetcher_.retry(i); }
  // Queues or cancels every chunk still missing (not delivered, not passed) by chunk_source().
  void request(const ChunkTable& chunks, bool fallback);

  struct Taken {
    std::size_t chunks = 0;
    std::uint64_t bytes = 0;
  };
  // Takes what arrived and adds it to libtorrent once it has checked the torrent (the rest
  // is held till then). Returns what arrived since the last call.
  Taken hand_over(lt::torrent_handle& handle, const ChunkTable& chunks);

 private:
  // The piece buffer add_piece() reads (the stored bytes, then zeros up to the piece size),
  // reused for every chunk: add_piece() copies it before it returns. Growing each chunk's
  // string to the padded piece instead cost a fresh 4 MiB allocation, its page faults and
  // its zero-filling per chunk (docs/performance.md).
  const char* padded_piece(const std::string& stored, std::size_t piece_size);
  std::vector<char> padded_;
  std::size_t padded_dirty_ = 0;  // padded_[0, padded_dirty_) may hold non-zero bytes
  ChunkFetcher fetcher_;
  const unsigned connections_;
  const std::int64_t upload_limit_;
  std::vector<FetchedChunk> unadded_;  // fetched before libtorrent finished checking the torrent
  bool checked_ = false;               // libtorrent has checked the torrent: add_piece() is taken
};

}  // namespace ironstone::flasher
