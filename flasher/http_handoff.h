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

#include <libtorrent/sha1_hash.hpp>
#include <libtorrent/torrent_handle.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "flasher/chunk_fetch.h"
#include "flasher/stripe.h"
#include "flasher/swarm_chunks.h"

namespace ironstone::flasher {

class HttpHandoff {
 public:
  // urls[i]: chunk i in the seeder's store; connections: parallel requests while alone;
  // upload_limit: the seeder's upload budget (bytes/s, 0 = none); piece_hashes[i]: the v1
  // piece hash of chunk i (of the checked torrent): a body that fails it is refused by the
  // fetcher and never handed to libtorrent (empty: not checked here).
  HttpHandoff(std::vector<std::string> urls, const ChunkTable& chunks, unsigned connections,
              std::int64_t upload_limit, std::vector<lt::sha1_hash> piece_hashes = {});

  // A new stripe: chunks no longer this node's are not fetched here; parallelism and pace.
  void on_stripe(const Stripe& stripe, const ChunkTable& chunks);
  // Chunk i arrived another way (delivered) or failed its piece hash after it was fetched.
  void cancel(std::size_t i) { fetcher_.cancel(i); }
  void retry(std::size_t i) { fetcher_.retry(i); }
  // Chunk i failed its piece hash (blocks from peers, perhaps from several: a lying peer's
  // mixed with the web seed's): fetch it whole from the store, and add it over whatever
  // blocks libtorrent holds of it (overwrite_existing), so the piece comes from one source.
  void refetch(std::size_t i);
  // Queues or cancels every chunk still missing (not delivered, not passed) by chunk_source().
  void request(const ChunkTable& chunks, bool fallback);

  struct Taken {
    std::size_t chunks = 0;
    std::uint64_t bytes = 0;
  };
  // Takes what arrived and adds it to libtorrent once it has checked the torrent (the rest
  // is held till then). Returns what arrived since the last call.
  Taken hand_over(lt::torrent_handle& handle, const ChunkTable& chunks);

  // Why the store is failing, "" while it is not: it served bytes that are not the signed
  // chunk or failed 3 requests in a row ("lies"), gave a chunk up, or sent no chunk for
  // `stall_after` while requests were out ("stalls"). The seeder's BitTorrent side may
  // still be up and honest (swarm_download.h falls back to it).
  std::string failing(std::chrono::steady_clock::duration stall_after) const;
  // Nothing more is asked of the store (what is in flight still lands, checked).
  void stop();
  bool stopped() const { return stopped_; }

 private:
  ChunkFetcher fetcher_;
  const unsigned connections_;
  const std::int64_t upload_limit_;
  std::vector<FetchedChunk> unadded_;  // fetched before libtorrent finished checking the torrent
  std::vector<bool> whole_;            // refetch(): added with overwrite_existing
  bool checked_ = false;               // libtorrent has checked the torrent: add_piece() is taken
  bool stopped_ = false;
};

}  // namespace ironstone::flasher
