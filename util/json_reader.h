// Strict reading of JSON documents from outside (manifests, channel pointers,
// status events, board profiles): duplicate keys, excessive nesting, unknown
// fields and wrong types are errors that name the field path.
// Thread safety: ObjectReader is a short-lived, single-threaded view.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace ironstone::strict_json {

// Parses `text` as one JSON value. Rejects duplicate keys, nesting deeper than
// max_depth, trailing bytes and invalid UTF-8. `make_error` builds the error thrown
// (so each module keeps its own error codes); messages look like
//   "<source>: duplicate key 'board' at byte 57".
// `syntax_prefix` goes before the parser's own description of a syntax error, e.g.
// "malformed JSON: " gives "<source>: malformed JSON: parse error at line 1, ...".
using ErrorFactory = Error (*)(const std::string& message);
nlohmann::json parse_strict(std::string_view text, std::string_view source, ErrorFactory make_error,
                            int max_depth = 16, std::string_view syntax_prefix = {});

// parse_strict() of a document of at most max_bytes; a larger one is refused before anything is
// parsed: "<source>: larger than <max_bytes> bytes".
nlohmann::json parse_strict_within(std::string_view text, std::size_t max_bytes, std::string_view source,
                                   ErrorFactory make_error, int max_depth = 16, std::string_view syntax_prefix = {});

// Reads an object's fields one by one; finish() rejects fields never read.
class ObjectReader {
 public:
  ObjectReader(const nlohmann::json& object, std::string path, std::string_view source, ErrorFactory make_error);

  bool has(const char* key) const;
  const nlohmann::json& value(const char* key);  // required, any type
  std::string string(const char* key);
  std::uint64_t uint(const char* key, std::uint64_t max = UINT64_MAX);
  bool boolean(const char* key);
  double number(const char* key);
  const nlohmann::json& array(const char* key);
  ObjectReader object(const char* key);
  void finish();  // throws for every field not read
  // The names of the fields not read (sorted), for objects open to fields a newer writer adds.
  std::vector<std::string> unread() const;

  // Bounded readers for hand-written files (board profiles). Their type errors also
  // name the JSON type found: "expected a string, got number".
  // A non-empty string of at most max_len bytes without control characters.
  std::string text(const char* key, std::size_t max_len);
  // An unsigned integer in [min, max]: "7 is out of range [1, 5]".
  std::uint64_t uint_in_range(const char* key, std::uint64_t min, std::uint64_t max);
  // A non-empty array of at most max_items text() strings; items are named "key[i]".
  std::vector<std::string> text_list(const char* key, std::size_t max_items, std::size_t max_len);

  std::string field(const char* key) const;  // "chunks[3].length"
  [[noreturn]] void fail(const char* key, const std::string& problem) const;

 private:
  void check_text(const char* key, const nlohmann::json& v, std::size_t max_len) const;

  const nlohmann::json& object_;
  std::string path_;
  std::string source_;
  ErrorFactory make_error_;
  std::set<std::string> read_;
};

// "chunks[3]" style element path.
std::string element(const std::string& path, std::size_t index);

}  // namespace ironstone::strict_json
