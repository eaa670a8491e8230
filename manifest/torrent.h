// The release torrent (docs/design.md, "Torrent"): a hybrid BitTorrent v1 + v2 torrent (BEP 52
// with v1 piece hashes and BEP 47 pad files), private, named "chunks", one file
// "<aa>/<hex>.zst" per entry of the chunk table in table order, piece size = chunk size,
// so piece i is exactly chunk-table entry i (plus pad zeros, which are never sent).
//
// Why hybrid and not v2-only: in libtorrent 2.0.8 a piece of a v2-only torrent that fails
// its hash makes the downloader ask peers for block hashes with a request that is out of
// range for a file smaller than a piece; the peer's reject then makes libtorrent index an
// empty vector (hash_picker::hashes_rejected) and the process dies. With v1 hashes present
// libtorrent handles a bad piece the v1 way (re-download, smart-ban), and the v2 merkle
// hashes are still checked. docs/release-format.md has the details.
// The torrent's v2 info-hash is signed in the manifest; check_torrent() ties a
// torrent from anywhere back to a verified manifest.
// Thread safety: reentrant functions.
#pragma once

#include <array>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <libtorrent/add_torrent_params.hpp>
#include <libtorrent/torrent_info.hpp>

#include "manifest/manifest.h"

namespace ironstone::manifest {

// Both hashes of one piece = one chunk file no larger than a piece.
struct PieceHashes {
  Hash256 v2_root;                     // BEP 52 "pieces root" of the file
  std::array<std::uint8_t, 20> v1{};   // SHA-1 of the file's bytes plus pad zeros to the piece size
};

struct TorrentOptions {
  std::vector<std::string> web_seeds;  // BEP 19 URLs, e.g. "http://nas:8080/"
  std::vector<std::string> trackers;   // e.g. "http://nas:8080/announce"
  int hashing_threads = 2;
  // Piece hashes of every chunk file, in chunk-table order (piece_hashes() of its stored
  // bytes), when the caller computed them while writing the files: the torrent is then
  // built without reading the chunk files again. Empty: the files under `store` are hashed.
  std::vector<PieceHashes> piece_hashes;
};

// BEP 52 merkle root over a file's 16 KiB block hashes (the leaves), filled up to a power
// of two with zero hashes; for a file no larger than one piece this is its "pieces root".
// No leaves: the zero hash.
lt::sha256_hash merkle_root(std::span<const lt::sha256_hash> blocks);
// SHA-256 of each 16 KiB block of a file (the last one as long as it is): the leaves of
// its merkle tree. An empty file has one leaf, the hash of nothing.
std::vector<lt::sha256_hash> block_hashes(std::span<const std::uint8_t> file_bytes);
// The v1 hash of a piece holding one file: SHA-1 of its bytes plus pad zeros up to
// piece_length.
lt::sha1_hash v1_piece_hash(std::span<const std::uint8_t> file_bytes, std::uint32_t piece_length);
// BEP 52 "pieces root" of a file no larger than one piece: the SHA-256 merkle root over its
// 16 KiB blocks, leaves padded with zero hashes to a power of two.
Hash256 v2_piece_root(std::span<const std::uint8_t> file_bytes);
// Both piece hashes of a chunk file; precondition: file_bytes.size() <= piece_length.
PieceHashes piece_hashes(std::span<const std::uint8_t> file_bytes, std::uint32_t piece_length);

// Hashes the chunk files under `store` (which must hold every chunk of m with its
// stored size), or takes options.piece_hashes, and returns the bencoded torrent. Deterministic for equal chunk
// tables: no creation date, no creator. Throws kIo / kTorrent naming the file.
std::vector<char> make_torrent(const Manifest& m, const std::filesystem::path& store,
                               const TorrentOptions& options = {});

// File index of chunk i (= piece i) for every chunk, skipping the pad files
// libtorrent puts between files to align them to pieces.
std::vector<lt::file_index_t> chunk_files(const lt::torrent_info& ti);

// Hex SHA-256 v2 info-hash of a loaded torrent.
std::string info_hash_v2(const lt::torrent_info& ti);

// Loads `bytes` (bounded to api::kMaxTorrentBytes) and checks it is the torrent the manifest
// signs: info-hash, private, hybrid (v1 piece hashes present), piece size, one file per chunk with the
// right path and stored size, piece i = file i. Throws kTorrent naming `source`.
// For a manifest that crossed the trust boundary use check_torrent(const VerifiedManifest&, ...)
// (manifest/trust.h), which keeps the result as a CheckedTorrent.
std::shared_ptr<const lt::torrent_info> check_torrent(const Manifest& m, std::span<const char> bytes,
                                                      std::string_view source);
// The same check, returning what lt::load_torrent_buffer() made of the bytes (the torrent_info
// plus the trackers, web seeds and piece layers it moves out of it).
lt::add_torrent_params load_checked_torrent(const Manifest& m, std::span<const char> bytes, std::string_view source);

}  // namespace ironstone::manifest
