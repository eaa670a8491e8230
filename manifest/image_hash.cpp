#include "manifest/image_hash.h"

#include <map>

namespace ironstone::manifest {

Hash256 image_hash_from_block_hashes(const std::vector<Hash256>& block_hashes) {
  Blake2b256 h;
  for (const auto& b : block_hashes) h.update(b.bytes);
  return h.final();
}

std::vector<Hash256> block_hashes_of(const Manifest& m) {
  const std::uint64_t cs = m.chunk_size;
  std::vector<Hash256> out(static_cast<std::size_t>((m.image_size + cs - 1) / cs));
  for (const auto& c : m.chunks)
    for (std::uint64_t off : c.offsets) out[static_cast<std::size_t>(off / cs)] = c.hash;
  std::map<std::uint64_t, Hash256> zero_hash;  // by block length
  for (const auto& z : m.zero_ranges) {
    for (std::uint64_t off = z.offset; off < z.offset + z.length; off += cs) {
      std::uint64_t len = std::min(cs, m.image_size - off);
      auto it = zero_hash.find(len);
      if (it == zero_hash.end())
        it = zero_hash.emplace(len, blake2b256(std::vector<std::uint8_t>(static_cast<std::size_t>(len), 0))).first;
      out[static_cast<std::size_t>(off / cs)] = it->second;
    }
  }
  return out;
}

Hash256 image_hash_of(const Manifest& m) { return image_hash_from_block_hashes(block_hashes_of(m)); }

}  // namespace ironstone::manifest
