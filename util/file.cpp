#include "util/file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace ironstone::util {

std::optional<std::string> read_small_file(const std::filesystem::path& path, std::size_t max_bytes, std::string* why) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *why = std::string("cannot open: ") + std::strerror(errno);
    return std::nullopt;
  }
  // Grown as the bytes come, not sized to the limit up front: a 64 MiB limit for a 25 KB
  // manifest must not cost 64 MiB of zeroed memory (measured: an 80 MiB spike in a peer seeder).
  std::string text;
  char block[64 * 1024];
  while (in.read(block, sizeof block) || in.gcount() > 0) {
    const auto n = static_cast<std::size_t>(in.gcount());
    if (n > max_bytes - std::min(max_bytes, text.size()) || text.size() > max_bytes) {
      *why = "larger than " + std::to_string(max_bytes) + " bytes";
      return std::nullopt;
    }
    text.append(block, n);
  }
  if (in.bad()) {
    *why = std::string("read failed: ") + std::strerror(errno);
    return std::nullopt;
  }
  return text;
}

}  // namespace ironstone::util
