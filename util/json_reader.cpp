#include "util/json_reader.h"

#include <vector>

namespace ironstone::strict_json {

nlohmann::json parse_strict_within(std::string_view text, std::size_t max_bytes, std::string_view source,
                                   ErrorFactory make_error, int max_depth, std::string_view syntax_prefix) {
  if (text.size() > max_bytes)
    throw make_error(std::string(source) + ": larger than " + std::to_string(max_bytes) + " bytes");
  return parse_strict(text, source, make_error, max_depth, syntax_prefix);
}

nlohmann::json parse_strict(std::string_view text, std::string_view source, ErrorFactory make_error,
                            int max_depth, std::string_view syntax_prefix) {
  // nlohmann's lexer takes a NUL byte for the end of the input, so "{…}\0junk" would parse.
  // JSON text never holds a raw NUL (not even inside strings): refuse it up front.
  if (auto nul = text.find('\0'); nul != std::string_view::npos)
    throw make_error(std::string(source) + ": NUL byte at byte " + std::to_string(nul));
  // Duplicate keys: nlohmann keeps the last one silently, so track keys per open object.
  std::vector<std::set<std::string>> keys;
  std::string problem;
  auto callback = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (!problem.empty()) return false;
    switch (event) {
      case E::object_start:
      case E::array_start:
        if (depth >= max_depth) problem = "nesting deeper than " + std::to_string(max_depth);
        if (event == E::object_start) keys.emplace_back();
        break;
      case E::object_end:
        if (!keys.empty()) keys.pop_back();
        break;
      case E::key:
        if (!keys.empty() && !keys.back().insert(parsed.get<std::string>()).second)
          problem = "duplicate key '" + parsed.get<std::string>() + "'";
        break;
      default:
        break;
    }
    return problem.empty();
  };
  nlohmann::json result;
  try {
    result = nlohmann::json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/true);
  } catch (const nlohmann::json::exception& e) {
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 3: ..." -> keep the part after ']'.
    auto pos = what.find("] ");
    throw make_error(std::string(source) + ": " + std::string(syntax_prefix) +
                     (pos == std::string::npos ? what : what.substr(pos + 2)));
  }
  if (!problem.empty()) throw make_error(std::string(source) + ": " + problem);
  return result;
}

ObjectReader::ObjectReader(const nlohmann::json& object, std::string path, std::string_view source,
                           ErrorFactory make_error)
    : object_(object), path_(std::move(path)), source_(source), make_error_(make_error) {
  if (!object_.is_object()) {
    throw make_error_(source_ + ": " + (path_.empty() ? std::string("document") : "field '" + path_ + "'") +
                      ": expected an object");
  }
}

std::string ObjectReader::field(const char* key) const { return path_.empty() ? key : path_ + "." + key; }

void ObjectReader::fail(const char* key, const std::string& problem) const {
  throw make_error_(source_ + ": field '" + field(key) + "': " + problem);
}

bool ObjectReader::has(const char* key) const { return object_.contains(key); }

const nlohmann::json& ObjectReader::value(const char* key) {
  auto it = object_.find(key);
  if (it == object_.end()) fail(key, "missing");
  read_.insert(key);
  return *it;
}

std::string ObjectReader::string(const char* key) {
  const auto& v = value(key);
  if (!v.is_string()) fail(key, "expected a string");
  return v.get<std::string>();
}

std::uint64_t ObjectReader::uint(const char* key, std::uint64_t max) {
  const auto& v = value(key);
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0))
    fail(key, "expected a non-negative integer");
  auto n = v.get<std::uint64_t>();
  if (n > max) fail(key, std::to_string(n) + " exceeds " + std::to_string(max));
  return n;
}

bool ObjectReader::boolean(const char* key) {
  const auto& v = value(key);
  if (!v.is_boolean()) fail(key, "expected true or false");
  return v.get<bool>();
}

double ObjectReader::number(const char* key) {
  const auto& v = value(key);
  if (!v.is_number()) fail(key, "expected a number");
  return v.get<double>();
}

const nlohmann::json& ObjectReader::array(const char* key) {
  const auto& v = value(key);
  if (!v.is_array()) fail(key, "expected an array");
  return v;
}

ObjectReader ObjectReader::object(const char* key) {
  const auto& v = value(key);
  if (!v.is_object()) fail(key, "expected an object");
  return ObjectReader(v, field(key), source_, make_error_);
}

void ObjectReader::finish() {
  for (const auto& [key, v] : object_.items()) {
    if (!read_.count(key)) fail(key.c_str(), "unknown field");
  }
}

std::vector<std::string> ObjectReader::unread() const {
  std::vector<std::string> out;
  for (const auto& [key, v] : object_.items())
    if (!read_.count(key)) out.push_back(key);
  return out;  // nlohmann::json objects iterate in key order
}

void ObjectReader::check_text(const char* key, const nlohmann::json& v, std::size_t max_len) const {
  if (!v.is_string()) fail(key, std::string("expected a string, got ") + v.type_name());
  const auto& s = v.get_ref<const std::string&>();
  if (s.empty()) fail(key, "empty string");
  if (s.size() > max_len) fail(key, "longer than " + std::to_string(max_len) + " characters");
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) fail(key, "contains a control character");
  }
}

std::string ObjectReader::text(const char* key, std::size_t max_len) {
  const auto& v = value(key);
  check_text(key, v, max_len);
  return v.get<std::string>();
}

std::uint64_t ObjectReader::uint_in_range(const char* key, std::uint64_t min, std::uint64_t max) {
  const auto& v = value(key);
  if (v.is_number_integer() && !v.is_number_unsigned() && v.get<std::int64_t>() < 0)
    fail(key, "expected an unsigned integer, got a negative number");
  if (!v.is_number_integer()) fail(key, std::string("expected an unsigned integer, got ") + v.type_name());
  auto n = v.get<std::uint64_t>();
  if (n < min || n > max)
    fail(key, std::to_string(n) + " is out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  return n;
}

std::vector<std::string> ObjectReader::text_list(const char* key, std::size_t max_items, std::size_t max_len) {
  const auto& v = value(key);
  if (!v.is_array()) fail(key, std::string("expected an array, got ") + v.type_name());
  if (v.empty()) fail(key, "empty array");
  if (v.size() > max_items) fail(key, "more than " + std::to_string(max_items) + " entries");
  std::vector<std::string> out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    check_text(element(key, i).c_str(), v[i], max_len);
    out.push_back(v[i].get<std::string>());
  }
  return out;
}

std::string element(const std::string& path, std::size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

}  // namespace ironstone::strict_json
