#include "boards/json_fields.h"

#include <set>

#include "boards/errc.h"

namespace ironstone::boards {

using nlohmann::json;

json parse_json_strict(std::string_view text, std::string_view source, std::size_t max_bytes) {
  if (text.size() > max_bytes) {
    throw error(Errc::kTooLarge, std::string(source) + ": " + std::to_string(text.size()) +
                                     " bytes exceeds the limit of " + std::to_string(max_bytes));
  }
  // The callback sees every key; one set of keys per open object finds duplicates.
  std::vector<std::set<std::string>> keys;
  std::string problem;
  json::parser_callback_t check = [&](int depth, json::parse_event_t event, json& parsed) {
    if (!problem.empty()) return false;
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (static_cast<std::size_t>(depth) >= kMaxJsonDepth) {
          problem = "nesting deeper than " + std::to_string(kMaxJsonDepth);
        }
        if (event == json::parse_event_t::object_start) keys.emplace_back();
        break;
      case json::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        break;
      case json::parse_event_t::key:
        if (!keys.empty() && !keys.back().insert(parsed.get<std::string>()).second) {
          problem = "duplicate key '" + parsed.get<std::string>() + "'";
        }
        break;
      default:
        break;
    }
    return problem.empty();
  };
  json value;
  try {
    value = json::parse(text.begin(), text.end(), check, /*allow_exceptions=*/true, /*ignore_comments=*/false);
  } catch (const json::exception& e) {
    if (problem.empty()) throw error(Errc::kParse, std::string(source) + ": malformed JSON: " + e.what());
  }
  if (!problem.empty()) throw error(Errc::kParse, std::string(source) + ": " + problem);
  return value;
}

Fields::Fields(const json& value, std::string_view source, std::string path,
               std::initializer_list<std::string_view> allowed)
    : value_(value), source_(source), path_(std::move(path)) {
  if (!value_.is_object()) {
    std::string where = path_.empty() ? std::string("top level") : "field '" + path_ + "'";
    throw error(Errc::kField, std::string(source_) + ": " + where + ": expected an object, got " +
                                  value_.type_name());
  }
  for (const auto& [key, v] : value_.items()) {
    bool known = false;
    for (auto a : allowed) known = known || a == key;
    if (!known) fail(key, "unknown field");
  }
}

std::string Fields::path(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

void Fields::fail(std::string_view key, const std::string& message) const {
  throw error(Errc::kField, std::string(source_) + ": field '" + path(key) + "': " + message);
}

bool Fields::has(std::string_view key) const { return value_.contains(key); }

const json& Fields::get(std::string_view key, json::value_t type, const char* type_name) const {
  auto it = value_.find(key);
  if (it == value_.end()) fail(key, "missing");
  bool ok = it->type() == type ||
            (type == json::value_t::number_unsigned && it->type() == json::value_t::number_integer);
  if (!ok) fail(key, std::string("expected ") + type_name + ", got " + it->type_name());
  return *it;
}

std::string Fields::string(std::string_view key, std::size_t max_len) const {
  const auto& s = get(key, json::value_t::string, "a string").get_ref<const std::string&>();
  if (s.empty()) fail(key, "empty string");
  if (s.size() > max_len) fail(key, "longer than " + std::to_string(max_len) + " characters");
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) fail(key, "contains a control character");
  }
  return s;
}

std::optional<std::string> Fields::optional_string(std::string_view key, std::size_t max_len) const {
  if (!has(key)) return std::nullopt;
  return string(key, max_len);
}

std::uint64_t Fields::uint(std::string_view key, std::uint64_t min, std::uint64_t max) const {
  const auto& v = get(key, json::value_t::number_unsigned, "an unsigned integer");
  if (v.is_number_integer() && v.get<std::int64_t>() < 0) fail(key, "expected an unsigned integer, got a negative number");
  auto n = v.get<std::uint64_t>();
  if (n < min || n > max) {
    fail(key, std::to_string(n) + " is out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  return n;
}

std::optional<std::uint64_t> Fields::optional_uint(std::string_view key, std::uint64_t min, std::uint64_t max) const {
  if (!has(key)) return std::nullopt;
  return uint(key, min, max);
}

bool Fields::boolean(std::string_view key, bool default_value) const {
  if (!has(key)) return default_value;
  return get(key, json::value_t::boolean, "a boolean").get<bool>();
}

std::vector<std::string> Fields::strings(std::string_view key, std::size_t max_items, std::size_t max_len) const {
  const auto& arr = get(key, json::value_t::array, "an array");
  if (arr.empty()) fail(key, "empty array");
  if (arr.size() > max_items) fail(key, "more than " + std::to_string(max_items) + " entries");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < arr.size(); ++i) {
    std::string item_key = std::string(key) + "[" + std::to_string(i) + "]";
    if (!arr[i].is_string()) fail(item_key, std::string("expected a string, got ") + arr[i].type_name());
    const auto& s = arr[i].get_ref<const std::string&>();
    if (s.empty() || s.size() > max_len) {
      fail(item_key, "length must be 1.." + std::to_string(max_len));
    }
    for (unsigned char c : s) {
      if (c < 0x20 || c == 0x7f) fail(item_key, "contains a control character");
    }
    out.push_back(s);
  }
  return out;
}

Fields Fields::object(std::string_view key, std::initializer_list<std::string_view> allowed) const {
  auto it = value_.find(key);
  if (it == value_.end()) fail(key, "missing");
  return Fields(*it, source_, path(key), allowed);
}

}  // namespace ironstone::boards
