// A piece's file bytes together with the SHA-256 of each of their 16 KiB blocks.
//
// Only HashedPiece::hash() makes one, from the bytes themselves, and the bytes are shared
// and never changed: a HashedPiece in hand means its block hashes are those bytes' own. It
// does not say what the bytes are: whoever relies on it compares root() with the torrent's
// root of the piece's file (ProvingDiskIo does, and the flasher's HTTP proof before it).
//
// Why a type: an HTTP chunk is hashed once by the flasher's fetcher (the torrent's piece
// check) and then handed to libtorrent with add_piece(), whose piece check would hash the
// same bytes again. With a HashedPiece vouched for (ProvenPieces::vouch), the disk I/O
// compares the blocks written with these bytes and takes these hashes instead of hashing
// again: measured on a node fetching everything over HTTP (the 4 GiB bench image), piece
// hashing 0.40 -> 0.21 CPU-s and the node's user CPU -11 %
// (docs/performance-realistic-image.md, "HTTP chunks hashed once").
//
// Thread safety: immutable once made; copies share the bytes.
#pragma once

#include <cstdint>
#include <libtorrent/sha1_hash.hpp>
#include <memory>
#include <vector>

namespace ironstone::swarm {

class HashedPiece {
 public:
  using Bytes = std::shared_ptr<const std::vector<std::uint8_t>>;
  // SHA-256 of every 16 KiB block of *bytes (REQUIRES: bytes not null).
  static HashedPiece hash(Bytes bytes);

  const Bytes& bytes() const { return bytes_; }
  const std::vector<lt::sha256_hash>& blocks() const { return blocks_; }
  // The BEP 52 merkle root over blocks(): the piece's file root when the bytes are right.
  lt::sha256_hash root() const;

 private:
  HashedPiece(Bytes bytes, std::vector<lt::sha256_hash> blocks) : bytes_(std::move(bytes)), blocks_(std::move(blocks)) {}
  Bytes bytes_;
  std::vector<lt::sha256_hash> blocks_;
};

}  // namespace ironstone::swarm
