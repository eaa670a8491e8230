#include "seeder/order_keys.h"

#include <sodium.h>

#include <span>
#include <stdexcept>

#include "util/hex.h"

namespace ironstone::seeder {

namespace {
constexpr std::string_view kKeyContext = "ironstone-order-key/1 ";
}

OrderKeys::OrderKeys(std::string_view secret_hex) {
  if (!from_hex(secret_hex, std::span<std::uint8_t>(secret_.data(), secret_.size())))
    throw std::invalid_argument("OrderKeys: the secret must be 64 hex digits");
}

OrderKeys::~OrderKeys() { sodium_memzero(secret_.data(), secret_.size()); }

std::array<unsigned char, 32> OrderKeys::key(std::string_view mac) const {
  const std::string input = std::string(kKeyContext) + std::string(mac);
  std::array<unsigned char, 32> out{};
  crypto_generichash(out.data(), out.size(), reinterpret_cast<const unsigned char*>(input.data()), input.size(),
                     secret_.data(), secret_.size());
  return out;
}

std::string OrderKeys::key_hex(std::string_view mac) const {
  auto k = key(mac);
  std::string hex = to_hex(std::span<const std::uint8_t>(k.data(), k.size()));
  sodium_memzero(k.data(), k.size());
  return hex;
}

std::string OrderKeys::authenticate(std::string_view body, std::string_view mac) const {
  auto k = key(mac);
  std::array<unsigned char, crypto_auth_hmacsha256_BYTES> tag{};
  crypto_auth_hmacsha256(tag.data(), reinterpret_cast<const unsigned char*>(body.data()), body.size(), k.data());
  sodium_memzero(k.data(), k.size());
  return to_hex(std::span<const std::uint8_t>(tag.data(), tag.size()));
}

}  // namespace ironstone::seeder
