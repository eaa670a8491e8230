// Hexadecimal text of bytes (digests, info-hashes, key ids), lower case.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace ironstone {

std::string to_hex(std::span<const std::uint8_t> data);
// Lower- or upper-case hex of exactly out.size() bytes; false on anything else.
bool from_hex(std::string_view hex, std::span<std::uint8_t> out);
// Exactly `digits` lower-case hex digits (digests, chunk names, ids and keys as they appear in URLs).
bool is_lower_hex(std::string_view s, std::size_t digits);

}  // namespace ironstone
