#include "util/file.h"

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
  std::string text(max_bytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) {
    *why = std::string("read failed: ") + std::strerror(errno);
    return std::nullopt;
  }
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > max_bytes) {
    *why = "larger than " + std::to_string(max_bytes) + " bytes";
    return std::nullopt;
  }
  return text;
}

}  // namespace ironstone::util
