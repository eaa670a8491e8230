#include "seeder/chunk_guard.h"

#include <spdlog/spdlog.h>

#include <optional>
#include <vector>

#include "seeder/errc.h"
#include "util/hex.h"

namespace ironstone::seeder {

void verify_stored_chunk(std::span<const std::uint8_t> stored, const manifest::Chunk& c,
                         manifest::ChunkDecoder& dec) {
  const std::string hex = to_hex(c.hash.bytes);
  if (stored.size() != c.stored_size)
    throw error(Errc::kStore, "chunk " + hex + ": " + std::to_string(stored.size()) +
                                  " stored bytes, the manifest signs " + std::to_string(c.stored_size));
  try {
    dec.prove(stored, c);  // format 2: one hash of the stored bytes, nothing decoded
  } catch (const Error& e) {
    throw error(Errc::kStore, "chunk " + hex + ": " + e.what());
  }
}

void ChunkGuard::set_index(Index index) {
  std::lock_guard lock(mutex_);
  index_ = std::move(index);
}

bool ChunkGuard::check(std::string_view hex, std::string_view stored) {
  std::optional<manifest::Chunk> chunk;
  {
    std::lock_guard lock(mutex_);
    if (const auto it = index_.find(std::string(hex)); it != index_.end()) chunk = it->second;
  }
  if (!chunk) {
    spdlog::warn("peer: chunk {} asked for: no release this peer holds lists it (not served)", hex);
    return false;
  }
  try {
    manifest::ChunkDecoder dec;
    verify_stored_chunk(std::span(reinterpret_cast<const std::uint8_t*>(stored.data()), stored.size()), *chunk, dec);
    return true;
  } catch (const Error& e) {
    spdlog::error("peer: {}: not served; the chunk is dropped and fetched again", e.what());
  }
  ++bad_found_;
  std::lock_guard lock(mutex_);
  suspects_.emplace(std::string(hex), *chunk);
  if (on_suspect_) on_suspect_();
  return false;
}

ChunkGuard::Index ChunkGuard::take_suspects() {
  std::lock_guard lock(mutex_);
  return std::exchange(suspects_, {});
}

void ChunkGuard::set_on_suspect(std::function<void()> on_suspect) {
  std::lock_guard lock(mutex_);
  on_suspect_ = std::move(on_suspect);
}

ChunkCheck ChunkGuard::checker(std::shared_ptr<ChunkGuard> guard) {
  return [guard = std::move(guard)](std::string_view hex, std::string_view stored) {
    return guard->check(hex, stored);
  };
}

}  // namespace ironstone::seeder
