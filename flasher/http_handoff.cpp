#include "flasher/http_handoff.h"

#include <libtorrent/hasher.hpp>
#include <libtorrent/torrent_status.hpp>

#include <algorithm>
#include <array>

namespace ironstone::flasher {

namespace {

// The fetcher's check: the body, zero-padded to libtorrent's piece size, has the piece's v1 hash.
ChunkFetcher::Check piece_hash_check(std::vector<lt::sha1_hash> hashes, const ChunkTable& chunks) {
  if (hashes.empty()) return {};
  std::vector<int> piece_sizes;
  for (const auto& c : chunks) piece_sizes.push_back(c.piece_size);
  return [hashes = std::move(hashes), piece_sizes = std::move(piece_sizes)](std::size_t i, const std::string& body) {
    if (i >= hashes.size() || i >= piece_sizes.size()) return false;
    const auto size = static_cast<std::size_t>(piece_sizes[i]);
    if (body.size() > size) return false;
    lt::hasher h(body.data(), static_cast<int>(body.size()));
    static const std::array<char, 16384> zeros{};
    for (std::size_t left = size - body.size(); left > 0;) {
      const std::size_t n = std::min(left, zeros.size());
      h.update(zeros.data(), static_cast<int>(n));
      left -= n;
    }
    return h.final() == hashes[i];
  };
}

}  // namespace

HttpHandoff::HttpHandoff(std::vector<std::string> urls, const ChunkTable& chunks, unsigned connections,
                         std::int64_t upload_limit, std::vector<lt::sha1_hash> piece_hashes)
    : fetcher_(std::move(urls), chunks.stored_sizes(), connections,
               piece_hash_check(std::move(piece_hashes), chunks)),
      connections_(connections),
      upload_limit_(upload_limit),
      whole_(chunks.size(), false) {}

void HttpHandoff::refetch(std::size_t i) {
  if (stopped_ || i >= whole_.size()) return;
  whole_[i] = true;
  fetcher_.again(i);
}

void HttpHandoff::on_stripe(const Stripe& stripe, const ChunkTable& chunks) {
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

std::string HttpHandoff::failing(std::chrono::steady_clock::duration stall_after) const {
  if (stopped_) return "";
  if (fetcher_.failures_in_a_row() >= 3)
    return std::to_string(fetcher_.failures_in_a_row()) + " requests in a row failed";
  if (fetcher_.given_up() > 0) return std::to_string(fetcher_.given_up()) + " chunks given up";
  const auto quiet = std::chrono::steady_clock::now() - fetcher_.waiting_since();
  if (quiet > stall_after)
    return "no chunk for " + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(quiet).count()) +
           " ms with requests out";
  return "";
}

void HttpHandoff::stop() {
  stopped_ = true;
  fetcher_.close();
}

void HttpHandoff::request(const ChunkTable& chunks, bool fallback) {
  if (stopped_) return;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const ChunkState& c = chunks[i];
    if (!c.wanted || c.delivered || c.passed) continue;
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

HttpHandoff::Taken HttpHandoff::hand_over(lt::torrent_handle& handle, const ChunkTable& chunks) {
  Taken taken;
  for (auto& f : fetcher_.take()) {
    ++taken.chunks;
    taken.bytes += f.stored.size();
    unadded_.push_back(std::move(f));
  }
  if (!checked_ && !unadded_.empty()) {
    const auto state = handle.status({}).state;
    checked_ = state != lt::torrent_status::checking_files && state != lt::torrent_status::checking_resume_data;
  }
  if (!checked_) return taken;
  for (auto& f : unadded_) {
    if (f.chunk >= chunks.size() || chunks[f.chunk].delivered || chunks[f.chunk].passed) continue;
    // libtorrent checks the piece hash (v1 and v2) of what is added, as of what a peer sends.
    f.stored.resize(static_cast<std::size_t>(chunks[f.chunk].piece_size), '\0');
    handle.add_piece(lt::piece_index_t(static_cast<int>(f.chunk)), f.stored.data(),
                     whole_[f.chunk] ? lt::torrent_handle::overwrite_existing : lt::add_piece_flags_t{});
  }
  unadded_.clear();
  return taken;
}

}  // namespace ironstone::flasher
