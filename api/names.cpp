#include "api/names.h"

namespace ironstone::api {

namespace {

bool all_of_chars(std::string_view s, bool (*ok)(char)) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!ok(c)) return false;
  return true;
}

}  // namespace

bool valid_board_name(std::string_view s) {
  return all_of_chars(s, [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

bool valid_version_name(std::string_view s) {
  if (s.empty() || s.front() == '.') return false;
  return all_of_chars(s, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '+' || c == '-';
  });
}

}  // namespace ironstone::api
