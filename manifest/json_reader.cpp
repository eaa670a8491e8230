#include "manifest/json_reader.h"

#include <vector>

namespace ironstone::strict_json {

nlohmann::json parse_strict(std::string_view text, std::string_view source, ErrorFactory make_error,
                            int max_depth) {
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
    throw make_error(std::string(source) + ": " + (pos == std::string::npos ? what : what.substr(pos + 2)));
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

std::string element(const std::string& path, std::size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

}  // namespace ironstone::strict_json
