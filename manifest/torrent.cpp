#include "manifest/torrent.h"

#include <cstring>

#include <libtorrent/create_torrent.hpp>
#include <libtorrent/hasher.hpp>
#include <libtorrent/load_torrent.hpp>
#include <libtorrent/settings_pack.hpp>
#include <libtorrent/file_storage.hpp>

#include "api/limits.h"
#include "manifest/layout.h"
#include "util/hex.h"

namespace ironstone::manifest {

namespace fs = std::filesystem;

std::vector<char> make_torrent(const Manifest& m, const fs::path& store, const TorrentOptions& options) {
  if (m.chunks.empty()) throw error(Errc::kTorrent, "release has no non-zero chunks: nothing to put in a torrent");
  lt::file_storage files;
  for (const Chunk& c : m.chunks) files.add_file(layout::chunk_relpath(c.hash), c.stored_size);
  // No flags: a hybrid v1 + v2 torrent (see torrent.h for why not v2_only).
  lt::create_torrent ct(files, static_cast<int>(m.chunk_size), lt::create_flags_t{});
  ct.set_priv(true);
  ct.set_creation_date(0);  // libtorrent stamps time(nullptr) by default: equal releases must give equal bytes
  for (const auto& url : options.web_seeds) ct.add_url_seed(url);
  int tier = 0;
  for (const auto& url : options.trackers) ct.add_tracker(url, tier++);
  if (!options.piece_hashes.empty()) {
    // One chunk file is at most one piece: its v2 piece hash is its pieces root.
    if (options.piece_hashes.size() != m.chunks.size())
      throw error(Errc::kTorrent, std::to_string(options.piece_hashes.size()) + " piece hashes for " +
                                      std::to_string(m.chunks.size()) + " chunks");
    const lt::file_storage& fs = ct.files();
    std::size_t i = 0;
    for (auto f : fs.file_range()) {
      if (fs.pad_file_at(f)) continue;
      const PieceHashes& h = options.piece_hashes.at(i);
      ct.set_hash2(f, 0, lt::sha256_hash(reinterpret_cast<const char*>(h.v2_root.bytes.data())));
      ct.set_hash(lt::piece_index_t(static_cast<int>(i)), lt::sha1_hash(reinterpret_cast<const char*>(h.v1.data())));
      ++i;
    }
  } else {
    lt::settings_pack settings;
    settings.set_int(lt::settings_pack::hashing_threads, std::max(1, options.hashing_threads));
    lt::error_code ec;
    lt::set_piece_hashes(ct, store.string(), settings, [](lt::piece_index_t) {}, ec);
    if (ec) throw error(Errc::kIo, store.string() + ": hashing chunk files for the torrent: " + ec.message());
  }
  if (ct.num_pieces() != static_cast<int>(m.chunks.size()))
    throw error(Errc::kTorrent, "torrent has " + std::to_string(ct.num_pieces()) + " pieces for " +
                                    std::to_string(m.chunks.size()) + " chunks");
  return ct.generate_buf();
}

lt::sha256_hash merkle_root(std::span<const lt::sha256_hash> blocks) {
  if (blocks.empty()) return lt::sha256_hash{};
  std::size_t leaves = 1;
  while (leaves < blocks.size()) leaves *= 2;
  std::vector<lt::sha256_hash> layer(blocks.begin(), blocks.end());
  layer.resize(leaves);  // zero hashes pad the tree
  while (layer.size() > 1) {
    for (std::size_t i = 0; i < layer.size() / 2; ++i) {
      lt::hasher256 h;
      h.update(layer[2 * i]);
      h.update(layer[2 * i + 1]);
      layer[i] = h.final();
    }
    layer.resize(layer.size() / 2);
  }
  return layer.front();
}

std::vector<lt::sha256_hash> block_hashes(std::span<const std::uint8_t> data) {
  constexpr std::size_t kBlock = 16 * 1024;
  std::vector<lt::sha256_hash> blocks;
  for (std::size_t off = 0; off < data.size() || blocks.empty(); off += kBlock) {
    const std::size_t n = std::min(kBlock, data.size() - std::min(off, data.size()));
    blocks.push_back(lt::hasher256(reinterpret_cast<const char*>(data.data()) + off, static_cast<int>(n)).final());
  }
  return blocks;
}

lt::sha1_hash v1_piece_hash(std::span<const std::uint8_t> data, std::uint32_t piece_length) {
  lt::hasher h(reinterpret_cast<const char*>(data.data()), static_cast<int>(data.size()));
  static const std::vector<char> kZeros(64 * 1024, 0);
  for (std::size_t pad = piece_length - std::min<std::size_t>(piece_length, data.size()); pad > 0;) {
    const std::size_t n = std::min(pad, kZeros.size());
    h.update(kZeros.data(), static_cast<int>(n));
    pad -= n;
  }
  return h.final();
}

Hash256 v2_piece_root(std::span<const std::uint8_t> data) {
  const lt::sha256_hash root = merkle_root(block_hashes(data));
  Hash256 out;
  std::memcpy(out.bytes.data(), root.data(), out.bytes.size());
  return out;
}

PieceHashes piece_hashes(std::span<const std::uint8_t> data, std::uint32_t piece_length) {
  PieceHashes out;
  out.v2_root = v2_piece_root(data);
  const lt::sha1_hash v1 = v1_piece_hash(data, piece_length);
  std::memcpy(out.v1.data(), v1.data(), out.v1.size());
  return out;
}

std::vector<lt::file_index_t> chunk_files(const lt::torrent_info& ti) {
  std::vector<lt::file_index_t> out;
  const lt::file_storage& fs = ti.files();
  for (auto f : fs.file_range())
    if (!fs.pad_file_at(f)) out.push_back(f);
  return out;
}

std::string info_hash_v2(const lt::torrent_info& ti) {
  const auto& h = ti.info_hashes().v2;
  return to_hex({reinterpret_cast<const std::uint8_t*>(h.data()), static_cast<std::size_t>(h.size())});
}

namespace {

// The checks of check_torrent() on a loaded torrent; `fail` names the source.
template <typename Fail>
void check_loaded(const Manifest& m, const lt::torrent_info* ti, const Fail& fail) {
  if (!ti || !ti->is_valid()) throw fail("not a valid torrent");
  if (info_hash_v2(*ti) != m.info_hash_v2)
    throw fail("v2 info-hash " + info_hash_v2(*ti) + " is not the signed " + m.info_hash_v2);
  // The info-hash pins the info dictionary; the checks below keep a signed but
  // wrongly built torrent from mapping pieces to the wrong chunks.
  if (!ti->info_hashes().has_v1())
    throw fail("v2-only torrent (no v1 piece hashes): libtorrent 2.0.8 cannot recover from a bad piece in it; "
               "publish the release again");
  if (!ti->priv()) throw fail("not private");
  if (ti->piece_length() != static_cast<int>(m.chunk_size))
    throw fail("piece size " + std::to_string(ti->piece_length()) + " is not the chunk size " +
               std::to_string(m.chunk_size));
  const lt::file_storage& fs = ti->files();
  std::vector<lt::file_index_t> files = chunk_files(*ti);
  if (files.size() != m.chunks.size() || ti->num_pieces() != static_cast<int>(m.chunks.size()))
    throw fail(std::to_string(files.size()) + " files / " + std::to_string(ti->num_pieces()) + " pieces for " +
               std::to_string(m.chunks.size()) + " chunks");
  for (std::size_t i = 0; i < m.chunks.size(); ++i) {
    lt::file_index_t f = files[i];
    const Chunk& c = m.chunks[i];
    std::string want = layout::chunk_relpath(c.hash);
    if (fs.file_path(f) != want) throw fail("file " + std::to_string(i) + " is " + fs.file_path(f) + ", expected " + want);
    if (fs.file_size(f) != static_cast<std::int64_t>(c.stored_size))
      throw fail("file " + want + " has size " + std::to_string(fs.file_size(f)) + ", signed stored size " +
                 std::to_string(c.stored_size));
    if (static_cast<int>(fs.piece_index_at_file(f)) != static_cast<int>(i))
      throw fail("chunk " + std::to_string(i) + " does not start piece " + std::to_string(i));
  }
}

}  // namespace

lt::add_torrent_params load_checked_torrent(const Manifest& m, std::span<const char> bytes, std::string_view source) {
  const std::string src(source);
  auto fail = [&](const std::string& problem) -> Error { return error(Errc::kTorrent, src + ": " + problem); };
  if (bytes.size() > api::kMaxTorrentBytes) throw fail("larger than 16 MiB");
  lt::load_torrent_limits limits;
  limits.max_buffer_size = static_cast<int>(api::kMaxTorrentBytes);
  lt::add_torrent_params params;
  try {
    params = lt::load_torrent_buffer(lt::span<const char>(bytes.data(), static_cast<long>(bytes.size())), limits);
  } catch (const std::exception& e) {
    throw fail(std::string("not a valid torrent: ") + e.what());
  }
  check_loaded(m, params.ti.get(), fail);
  return params;
}

std::shared_ptr<const lt::torrent_info> check_torrent(const Manifest& m, std::span<const char> bytes,
                                                      std::string_view source) {
  const std::string src(source);
  auto fail = [&](const std::string& problem) -> Error { return error(Errc::kTorrent, src + ": " + problem); };
  if (bytes.size() > api::kMaxTorrentBytes) throw fail("larger than 16 MiB");
  lt::load_torrent_limits limits;
  limits.max_buffer_size = static_cast<int>(api::kMaxTorrentBytes);
  std::shared_ptr<lt::torrent_info> ti;
  try {
    ti = std::make_shared<lt::torrent_info>(lt::span<const char>(bytes.data(), static_cast<long>(bytes.size())),
                                            limits, lt::from_span);
  } catch (const std::exception& e) {
    throw fail(std::string("not a valid torrent: ") + e.what());
  }
  check_loaded(m, ti.get(), fail);
  return ti;
}

}  // namespace ironstone::manifest
