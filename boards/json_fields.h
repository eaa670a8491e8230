// Strict reading of JSON objects from outside input (board profiles), with errors
// that name the file and the field path:
//   "rpi5.json: field 'leds.status.name': expected a string, got number".
//
// A Fields view is built over one JSON object with the list of keys it allows;
// any other key is an error ("unknown field"). Getters check presence, type and
// bounds. Every failure throws Error(boards::Errc::kField).
// Also parse_json_strict(): size-bounded, depth-bounded, rejects duplicate keys.
//
// Ownership: Fields refers to the json and the source string it was given; both
// must outlive it. Thread safety: none needed (stack objects of one parse).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace ironstone::boards {

inline constexpr std::size_t kMaxJsonDepth = 16;

// Parses `text` as JSON; throws Errc::kTooLarge above max_bytes, Errc::kParse on
// malformed JSON, nesting deeper than kMaxJsonDepth or duplicate keys.
nlohmann::json parse_json_strict(std::string_view text, std::string_view source, std::size_t max_bytes);

class Fields {
 public:
  // `path` is the object's own path ("" for the top level, "leds.status").
  Fields(const nlohmann::json& value, std::string_view source, std::string path,
         std::initializer_list<std::string_view> allowed);

  bool has(std::string_view key) const;
  std::string string(std::string_view key, std::size_t max_len) const;
  std::optional<std::string> optional_string(std::string_view key, std::size_t max_len) const;
  std::uint64_t uint(std::string_view key, std::uint64_t min, std::uint64_t max) const;
  std::optional<std::uint64_t> optional_uint(std::string_view key, std::uint64_t min, std::uint64_t max) const;
  bool boolean(std::string_view key, bool default_value) const;
  std::vector<std::string> strings(std::string_view key, std::size_t max_items, std::size_t max_len) const;
  Fields object(std::string_view key, std::initializer_list<std::string_view> allowed) const;

  // "leds.status.name" for key "name" of the object at "leds.status".
  std::string path(std::string_view key) const;
  // Throws Error(kField) "<source>: field '<path(key)>': <message>".
  [[noreturn]] void fail(std::string_view key, const std::string& message) const;

 private:
  const nlohmann::json& get(std::string_view key, nlohmann::json::value_t type, const char* type_name) const;

  const nlohmann::json& value_;
  std::string_view source_;
  std::string path_;
};

}  // namespace ironstone::boards
