#include "manifest/hash.h"

#include <stdexcept>

#include "util/hex.h"

namespace ironstone {

void init_crypto() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

std::string Hash256::hex() const { return to_hex(bytes); }

std::optional<Hash256> Hash256::from_hex(std::string_view hex) {
  Hash256 h;
  if (!ironstone::from_hex(hex, h.bytes)) return std::nullopt;
  return h;
}

Blake2b256::Blake2b256() { crypto_generichash_init(&state_, nullptr, 0, 32); }

void Blake2b256::update(std::span<const std::uint8_t> data) {
  crypto_generichash_update(&state_, data.data(), data.size());
}

Hash256 Blake2b256::final() {
  Hash256 h;
  crypto_generichash_final(&state_, h.bytes.data(), h.bytes.size());
  return h;
}

Hash256 blake2b256(std::span<const std::uint8_t> data) {
  Hash256 h;
  crypto_generichash(h.bytes.data(), h.bytes.size(), data.data(), data.size(), nullptr, 0);
  return h;
}

}  // namespace ironstone
