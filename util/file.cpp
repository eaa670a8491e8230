#include "util/file.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>

namespace ironstone::util {

std::optional<std::string> read_small_file(const std::filesystem::path& path, std::size_t max_bytes, std::string* why) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *why = std::string("cannot open: ") + std::strerror(errno);
    return std::nullopt;
  }
  std::string text = read_up_to(in, max_bytes == SIZE_MAX ? max_bytes : max_bytes + 1);
  if (in.bad()) {
    *why = std::string("read failed: ") + std::strerror(errno);
    return std::nullopt;
  }
  if (text.size() > max_bytes) {
    *why = "larger than " + std::to_string(max_bytes) + " bytes";
    return std::nullopt;
  }
  return text;
}

std::string read_up_to(std::istream& in, std::size_t max_bytes) {
  std::string out;
  char block[64 * 1024];
  while (out.size() < max_bytes) {
    const std::size_t want = std::min(sizeof block, max_bytes - out.size());
    in.read(block, static_cast<std::streamsize>(want));
    const auto got = static_cast<std::size_t>(in.gcount());
    out.append(block, got);
    if (got < want) break;
  }
  return out;
}

}  // namespace ironstone::util
