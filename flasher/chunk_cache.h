// Where a flasher keeps the stored chunks it downloads and seeds to the rack: in memory
// (swarm/proving_disk_io.h, memory mode: no cache files, no disk jobs) or in files under
// --cache-dir (libtorrent's own disk I/O; a restarted flasher finds them again).
//
// `auto` keeps them in memory when they take at most half of the memory available now
// (MemAvailable in <root>/proc/meminfo), else on disk; an unreadable meminfo means disk.
//
// Thread safety: pure functions (cache_in_memory reads one file).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace ironstone::flasher {

enum class ChunkCache { kAuto, kMemory, kDisk };

// MemAvailable of <root>/proc/meminfo in bytes; nullopt when it cannot be read.
std::optional<std::uint64_t> memory_available(const std::filesystem::path& root);

// True to keep `bytes` of stored chunks in memory. *why says which way and why, e.g.
// "in memory (194.2 MiB of 11.8 GiB available)".
bool cache_in_memory(ChunkCache mode, std::uint64_t bytes, const std::filesystem::path& root,
                     std::string* why);

}  // namespace ironstone::flasher
