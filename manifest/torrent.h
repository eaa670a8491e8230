// The release torrent (DESIGN.md, "Torrent"): BitTorrent v2 only (BEP 52), private,
// named "chunks", one file "<aa>/<hex>.zst" per entry of the chunk table in table
// order, piece size = chunk size, so piece i is exactly chunk-table entry i.
// The torrent's v2 info-hash is signed in the manifest; check_torrent() ties a
// torrent from anywhere back to a verified manifest.
// Thread safety: reentrant functions.
#pragma once

#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <libtorrent/torrent_info.hpp>

#include "manifest/manifest.h"

namespace ironstone::manifest {

struct TorrentOptions {
  std::vector<std::string> web_seeds;  // BEP 19 URLs, e.g. "http://nas:8080/"
  std::vector<std::string> trackers;   // e.g. "http://nas:8080/announce"
  int hashing_threads = 2;
  // v2 "pieces root" of every chunk file, in chunk-table order (v2_piece_root() of its
  // stored bytes), when the caller computed them while writing the files: the torrent is
  // then built without reading the chunk files again. Empty: the files under `store` are hashed.
  std::vector<Hash256> piece_roots;
};

// BEP 52 "pieces root" of a file no larger than one piece: the SHA-256 merkle root over its
// 16 KiB blocks, leaves padded with zero hashes to a power of two.
Hash256 v2_piece_root(std::span<const std::uint8_t> file_bytes);

// Hashes the chunk files under `store` (which must hold every chunk of m with its
// stored size), or takes options.piece_roots, and returns the bencoded torrent. Deterministic for equal chunk
// tables: no creation date, no creator. Throws kIo / kTorrent naming the file.
std::vector<char> make_torrent(const Manifest& m, const std::filesystem::path& store,
                               const TorrentOptions& options = {});

// File index of chunk i (= piece i) for every chunk, skipping the pad files
// libtorrent puts between files to align them to pieces.
std::vector<lt::file_index_t> chunk_files(const lt::torrent_info& ti);

// Hex SHA-256 v2 info-hash of a loaded torrent.
std::string info_hash_v2(const lt::torrent_info& ti);

// Loads `bytes` (bounded to 16 MiB) and checks it is the torrent the manifest
// signs: info-hash, private, v2-only, piece size, one file per chunk with the
// right path and stored size, piece i = file i. Throws kTorrent naming `source`.
std::shared_ptr<const lt::torrent_info> check_torrent(const Manifest& m, std::span<const char> bytes,
                                                      std::string_view source);

}  // namespace ironstone::manifest
