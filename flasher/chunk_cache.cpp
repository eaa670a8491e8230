#include "flasher/chunk_cache.h"

#include <spdlog/fmt/fmt.h>

#include <fstream>
#include <sstream>

namespace ironstone::flasher {

std::optional<std::uint64_t> memory_available(const std::filesystem::path& root) {
  std::ifstream in(root / "proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key, unit;
    std::uint64_t kib = 0;
    if (fields >> key >> kib >> unit && key == "MemAvailable:" && unit == "kB") return kib * 1024;
  }
  return std::nullopt;
}

bool cache_in_memory(ChunkCache mode, std::uint64_t bytes, const std::filesystem::path& root,
                     std::string* why) {
  constexpr double kMiB = 1024.0 * 1024.0;
  const std::string size = fmt::format("{:.1f} MiB", static_cast<double>(bytes) / kMiB);
  switch (mode) {
    case ChunkCache::kMemory:
      *why = "in memory (" + size + ", --cache memory)";
      return true;
    case ChunkCache::kDisk:
      *why = "on disk (" + size + ", --cache disk)";
      return false;
    case ChunkCache::kAuto:
      break;
  }
  const auto avail = memory_available(root);
  if (!avail) {
    *why = "on disk (" + size + "; " + (root / "proc/meminfo").string() + " has no MemAvailable)";
    return false;
  }
  const std::string of = fmt::format("{} of {:.1f} MiB available", size, static_cast<double>(*avail) / kMiB);
  if (bytes <= *avail / 2) {
    *why = "in memory (" + of + ")";
    return true;
  }
  *why = "on disk (" + of + ": more than half)";
  return false;
}

}  // namespace ironstone::flasher
