#include "swarm/hashed_piece.h"

#include "manifest/torrent.h"

namespace ironstone::swarm {

HashedPiece HashedPiece::hash(Bytes bytes) {
  std::vector<lt::sha256_hash> blocks = manifest::block_hashes(*bytes);
  return HashedPiece(std::move(bytes), std::move(blocks));
}

lt::sha256_hash HashedPiece::root() const { return manifest::merkle_root(blocks_); }

}  // namespace ironstone::swarm
