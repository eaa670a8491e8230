// BLAKE2b-256 digests (libsodium crypto_generichash) and their hex form.
// Thread safety: all functions are reentrant; Blake2b256 objects are not shared.
// Precondition: init_crypto() was called once (it is idempotent and thread-safe).
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <sodium.h>

namespace ironstone {

// Calls sodium_init(); throws if libsodium cannot initialise.
void init_crypto();

struct Hash256 {
  std::array<std::uint8_t, 32> bytes{};

  std::string hex() const;
  static std::optional<Hash256> from_hex(std::string_view hex);
  auto operator<=>(const Hash256&) const = default;
};

// Incremental BLAKE2b-256.
class Blake2b256 {
 public:
  Blake2b256();
  void update(std::span<const std::uint8_t> data);
  Hash256 final();

 private:
  crypto_generichash_state state_;
};

Hash256 blake2b256(std::span<const std::uint8_t> data);

// Strong index into a release's chunk table. Index i of the chunk table is also
// piece i of the release torrent (one piece is one stored chunk file).
struct ChunkIndex {
  std::uint32_t value = 0;
  auto operator<=>(const ChunkIndex&) const = default;
};

}  // namespace ironstone
