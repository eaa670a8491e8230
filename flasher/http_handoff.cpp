#include "flasher/http_handoff.h"

#include <libtorrent/torrent_status.hpp>

#include <algorithm>
#include <cstring>
#include <exception>
#include <span>

#include "manifest/chunk_codec.h"
#include "manifest/layout.h"
#include "manifest/torrent.h"
#include "swarm/proving_disk_io.h"
#include "util/hex.h"

namespace ironstone::flasher {
namespace {

std::vector<std::vector<std::string>> chunk_urls(const std::vector<std::string>& bases, const manifest::Manifest& m) {
  std::vector<std::vector<std::string>> sources;
  for (std::string base : bases) {
    if (base.empty()) continue;
    if (base.back() != '/') base += '/';
    std::vector<std::string> urls;
    urls.reserve(m.chunks.size());
    for (const auto& c : m.chunks) urls.push_back(base + manifest::layout::chunk_relpath(c.hash));
    sources.push_back(std::move(urls));
  }
  return sources;
}

// Proves what a store sent, on the fetcher's threads (one decoder each), before anything
// is written: the torrent's piece hash (the v2 root of the chunk's file, SHA-256 over its
// 16 KiB blocks, as libtorrent checks a piece from a peer), then the signed chunk entry: its
// stored_hash (format 2), or decoding and the decoded bytes' hash (format 1). The proof goes
// with the bytes, so the writer decodes them without hashing them again.
ChunkFetcher::Verify signed_chunks(const manifest::Manifest& m, std::vector<lt::sha256_hash> roots,
                                   HttpHandoff::ProofCpu* cpu) {
  return [&m, roots = std::move(roots), cpu](FetchedChunk& got) -> std::string {
    thread_local manifest::ChunkDecoder decoder;
    try {
      auto bytes = std::make_shared<const std::vector<std::uint8_t>>(got.stored.begin(), got.stored.end());
      std::string().swap(got.stored);  // the bytes are in `bytes` now
      std::optional<swarm::HashedPiece> hashed;
      lt::sha256_hash root;
      {
        CpuTimer timer(cpu->piece_hash);
        hashed = swarm::HashedPiece::hash(bytes);
        root = hashed->root();
      }
      if (got.chunk >= roots.size() || root != roots[got.chunk])
        return "not the torrent's piece " + std::to_string(got.chunk) + ": SHA-256 root " +
               to_hex(std::span(reinterpret_cast<const std::uint8_t*>(root.data()), root.size()));
      got.proven = decoder.proven(std::move(bytes), m.chunks[got.chunk], &cpu->decode);
      got.hashed = std::move(hashed);
      return {};
    } catch (const std::exception& e) {
      return std::string("not the signed chunk: ") + e.what();
    }
  };
}

}  // namespace

HttpHandoff::HttpHandoff(const std::vector<std::string>& bases, const manifest::Manifest& m,
                         const ChunkTable& chunks, bool stripes, unsigned connections, std::int64_t upload_limit)
    : proof_cpu_(std::make_unique<ProofCpu>()),
      fetcher_(chunk_urls(bases, m), chunks.stored_sizes(), connections,
               signed_chunks(m, chunks.piece_roots(), proof_cpu_.get())),
      order_(fetch_order(chunks.stored_sizes())),
      stripes_(stripes),
      connections_(connections),
      upload_limit_(upload_limit) {}

void HttpHandoff::on_stripe(const Stripe& stripe, const ChunkTable& chunks) {
  if (!everything_)
    for (std::size_t i = 0; i < chunks.size(); ++i)
      if (!chunks[i].own) fetcher_.cancel(i);
  // With other nodes, one request at a time: the node's port is shared by one TCP
  // stream from the seeder and one from each other node, so its own stripe (1/count of
  // the bytes) takes about its share. Several parallel requests took most of the port,
  // and the other stripes, which the others can only pass on as fast as they get them,
  // fell behind (measured, 2 nodes: 3 requests, 4 MiB/s from the other node against 5.7).
  fetcher_.set_parallel(stripe.count <= 1 ? connections_ : 1);
  const auto nodes = static_cast<double>(std::max<std::size_t>(stripe.count, 1));
  fetcher_.set_rate(upload_limit_ > 0 ? static_cast<double>(upload_limit_) / nodes : 0);
}

void HttpHandoff::request(const ChunkTable& chunks, bool fallback) {
  if (!stripes_ && !everything_) return;
  for (std::size_t i : order_) {  // the fetcher asks in the order it is given
    const ChunkState& c = chunks[i];
    if (!c.wanted || c.delivered || c.passed) continue;
    if (everything_) {
      fetcher_.want(i);
      continue;
    }
    switch (chunk_source(c.own, c.peer_holds, fallback)) {
      case ChunkSource::kSeederHttp:
        fetcher_.want(i);
        break;
      case ChunkSource::kPeers:
        fetcher_.cancel(i);
        break;
      case ChunkSource::kWait:
        break;
    }
  }
}

const char* HttpHandoff::padded_piece(std::span<const std::uint8_t> stored, std::size_t piece_size) {
  if (padded_.size() < piece_size) padded_.resize(piece_size, '\0');
  const std::size_t n = std::min(stored.size(), piece_size);
  std::memcpy(padded_.data(), stored.data(), n);
  if (padded_dirty_ > n) std::memset(padded_.data() + n, 0, padded_dirty_ - n);
  padded_dirty_ = n;
  return padded_.data();
}

bool HttpHandoff::any_given_up(const ChunkTable& chunks) const {
  for (std::size_t i : fetcher_.given_up_chunks())
    if (i < chunks.size() && chunks[i].missing()) return true;
  return false;
}

std::vector<FetchedChunk> HttpHandoff::hand_over(lt::torrent_handle& handle, const ChunkTable& chunks,
                                                 swarm::ProvenPieces* vouch_to) {
  std::vector<FetchedChunk> arrived = fetcher_.take();
  for (const auto& f : arrived)
    if (f.chunk < chunks.size() && !chunks[f.chunk].passed) unadded_.push_back(f);
  if (!checked_ && !unadded_.empty()) {
    const auto state = handle.status({}).state;
    checked_ = state != lt::torrent_status::checking_files && state != lt::torrent_status::checking_resume_data;
  }
  if (!checked_) return arrived;
  for (auto& f : unadded_) {
    if (f.chunk >= chunks.size() || chunks[f.chunk].passed) continue;
    // For seeding: libtorrent checks the piece hash of what is added, as of what a peer sends;
    // vouched for, the disk I/O takes the fetcher's block hashes of these very bytes.
    const lt::piece_index_t piece(static_cast<int>(f.chunk));
    if (vouch_to && f.hashed) vouch_to->vouch(piece, *f.hashed);
    handle.add_piece(piece, padded_piece(f.bytes(), static_cast<std::size_t>(chunks[f.chunk].piece_size)));
    if (vouch_to && f.hashed) vouch_to->withdraw(piece);
  }
  unadded_.clear();
  return arrived;
}

}  // namespace ironstone::flasher
