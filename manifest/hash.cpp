#include "manifest/hash.h"

#include <stdexcept>

namespace ironstone {

void init_crypto() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

std::string to_hex(std::span<const std::uint8_t> data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(data.size() * 2, '0');
  for (std::size_t i = 0; i < data.size(); ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 0xF];
  }
  return out;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool from_hex(std::string_view hex, std::span<std::uint8_t> out) {
  if (hex.size() != out.size() * 2) return false;
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = hex_value(hex[2 * i]);
    int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return true;
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
