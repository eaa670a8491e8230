// The HTTP side of one SwarmDownload (swarm_download.h): chunks fetched whole from the
// seeders' HTTP chunk stores (ChunkFetcher, chunk_fetch.h), each proven before it is
// handed out (the torrent's piece hash, then the signed stored_hash, or for a format-1
// release the decoded bytes' BLAKE2b), then also given to libtorrent (add_piece) so that
// this node seeds it like any piece.
//
// Two uses. With HTTP stripes (`stripes`), this node's stripe comes from here from the
// start: request() asks the fetcher, every poll, for what should come from the seeder
// now (stripe.h chunk_source(): a chunk whose holder went is fetched here after all) and
// cancels what should come from the peers. In every mode, take_everything() (the swarm
// stalled) makes request() ask for every chunk still missing: the HTTP fallback that
// replaces libtorrent's web seed (whose 2.0.8 code mixed blocks of a liar into pieces
// from the web seed and then banned the web seed; the seeders' stores are verified
// sources: a failing or lying one is paused and asked again, never dropped, and the
// next seeder is asked meanwhile, chunk_fetch.h). With other nodes, one request at a
// time, paced at the seeder's upload budget / nodes (on_stripe(); tuned,
// docs/performance.md).
//
// Thread safety: belongs to the thread that drives the download; the fetcher's own
// threads do the requests and the verification (chunk_fetch.h).
// REQUIRES: the manifest given to the constructor outlives the HttpHandoff.
#pragma once

#include <libtorrent/torrent_handle.hpp>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "flasher/chunk_fetch.h"
#include "flasher/stripe.h"
#include "flasher/swarm_chunks.h"
#include "manifest/chunk_codec.h"
#include "manifest/manifest.h"
#include "util/cpu_clock.h"

namespace ironstone::swarm {
class ProvenPieces;
}

namespace ironstone::flasher {

class HttpHandoff {
 public:
  // bases: the seeders' chunk store roots ("http://nas:8080/"), in the order to try them;
  // stripes: this node's stripe comes from bases[0] from the start; connections: parallel
  // requests while alone; upload_limit: the seeder's upload budget (bytes/s, 0 = none).
  HttpHandoff(const std::vector<std::string>& bases, const manifest::Manifest& m, const ChunkTable& chunks,
              bool stripes, unsigned connections, std::int64_t upload_limit);

  // A new stripe: chunks no longer this node's are not fetched here; parallelism and pace.
  void on_stripe(const Stripe& stripe, const ChunkTable& chunks);
  // Chunk i arrived another way: not fetched here (an in-flight request still lands).
  void cancel(std::size_t i) { fetcher_.cancel(i); }
  // From now on request() asks for every chunk still missing, whatever its source.
  void take_everything() { everything_ = true; }
  bool taking_everything() const { return everything_; }
  // Queues or cancels every chunk still missing (not delivered, not passed) by chunk_source(),
  // in fetch_order() (stripe.h);
  // every missing one after take_everything(); nothing in BitTorrent-only mode before it.
  void request(const ChunkTable& chunks, bool fallback);
  // Some missing chunk failed at every attempt lately (chunk_fetch.h given_up()).
  bool any_given_up(const ChunkTable& chunks) const;

  // CPU time of the fetcher's threads proving what they fetched, by stage (the piece hash;
  // BLAKE2b and, for a format-1 release, zstd), summed over the threads.
  struct ProofCpu {
    CpuStage piece_hash;
    manifest::DecodeCpu decode;
  };
  const ProofCpu& proof_cpu() const { return *proof_cpu_; }

  // Takes what arrived (verified) since the last call: returned for delivery, and added to
  // libtorrent, for seeding, once it has checked the torrent (held till then).
  // A chunk the fetcher hashed is vouched for to `vouch_to` (the session's disk I/O, may be
  // null) while it is added, so that libtorrent's piece check does not hash it again.
  std::vector<FetchedChunk> hand_over(lt::torrent_handle& handle, const ChunkTable& chunks,
                                      swarm::ProvenPieces* vouch_to = nullptr);

 private:
  // The piece buffer add_piece() reads (the stored bytes, then zeros up to the piece size),
  // reused for every chunk: add_piece() copies it before it returns. Growing each chunk's
  // string to the padded piece instead cost a fresh 4 MiB allocation, its page faults and
  // its zero-filling per chunk (docs/performance.md).
  const char* padded_piece(std::span<const std::uint8_t> stored, std::size_t piece_size);
  std::vector<char> padded_;
  std::size_t padded_dirty_ = 0;  // padded_[0, padded_dirty_) may hold non-zero bytes
  std::unique_ptr<ProofCpu> proof_cpu_;  // before fetcher_: its threads add to it until it is destroyed
  ChunkFetcher fetcher_;
  const std::vector<std::size_t> order_;  // fetch_order() of the chunks (stripe.h): small ones first and last
  const bool stripes_;
  const unsigned connections_;
  const std::int64_t upload_limit_;
  bool everything_ = false;
  std::vector<FetchedChunk> unadded_;  // fetched before libtorrent finished checking the torrent
  bool checked_ = false;               // libtorrent has checked the torrent: add_piece() is taken
};

}  // namespace ironstone::flasher
