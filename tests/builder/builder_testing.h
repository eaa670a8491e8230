// Helpers shared by the builder tests: deterministic keys and options, store snapshots
// ("the store is exactly as it was"), images, and rebuilding an image from a release.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "builder/publish.h"
#include "manifest/chunk_codec.h"
#include "manifest/layout.h"
#include "tests/testutil/expect_error.h"
#include "tests/testutil/sample_release.h"
#include "tests/testutil/testutil.h"

namespace ironstone::builder::testing {

namespace fs = std::filesystem;
using ::ironstone::testing::pseudo_random;
using ::ironstone::testing::read_file;
using ::ironstone::testing::read_text;
using ::ironstone::testing::run_command;
using ::ironstone::testing::TempDir;
using ::ironstone::testing::test_key;  // deterministic throwaway signing key
using ::ironstone::testing::write_file;
using ::ironstone::testing::write_text;

inline constexpr std::uint32_t kChunk = 64 * 1024;
inline constexpr std::int64_t kNow = 1767225600;  // 2026-01-01T00:00:00Z

// Every file and directory under `root` (relative path → contents; directories end in '/').
using Snapshot = std::map<std::string, std::string>;
inline Snapshot snapshot(const fs::path& root) {
  Snapshot s;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    std::string rel = fs::relative(it->path(), root).string();
    if (it->is_directory()) s[rel + "/"] = "<dir>";
    else if (it->is_regular_file()) s[rel] = read_text(it->path());
    else s[rel] = "<special>";
  }
  return s;
}
// Names of entries that differ (for readable failures).
inline std::vector<std::string> diff(const Snapshot& a, const Snapshot& b) {
  std::vector<std::string> out;
  for (const auto& [k, v] : a) {
    auto it = b.find(k);
    if (it == b.end()) out.push_back("-" + k);
    else if (it->second != v) out.push_back("~" + k);
  }
  for (const auto& [k, v] : b)
    if (!a.count(k)) out.push_back("+" + k);
  return out;
}
#define EXPECT_STORE_UNCHANGED(before, root) \
  EXPECT_THAT(::ironstone::builder::testing::diff(before, ::ironstone::builder::testing::snapshot(root)), ::testing::IsEmpty())

inline PublishOptions options(const fs::path& store, const std::string& version = "1.0",
                              const std::string& board = "rpi5") {
  PublishOptions o;
  o.store = store;
  o.board = board;
  o.version = version;
  o.chunk_size = kChunk;
  o.threads = 2;
  o.raw = true;  // most tests publish byte patterns; publish_input_test checks the disk-image refusal
  o.now = kNow;
  o.provenance.git_commit = "0123456789abcdef";
  o.provenance.ci_run = "test:1";
  return o;
}

inline std::vector<std::uint8_t> concat(std::initializer_list<std::vector<std::uint8_t>> parts) {
  std::vector<std::uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
inline std::vector<std::uint8_t> zeros(std::size_t n) { return std::vector<std::uint8_t>(n, 0); }

// A typical small image: random, compressible, zero and repeated 64 KiB blocks, plus a short tail.
// Stamps an MBR with one Linux partition covering sectors 1.. of an image of `image_size`
// bytes into the first 512 bytes of `first` (publish refuses input that is not a disk image).
inline void stamp_mbr(std::vector<std::uint8_t>& first, std::uint64_t image_size) {
  std::fill(first.begin() + 446, first.begin() + 510, 0);
  std::uint8_t* e = first.data() + 446;
  e[4] = 0x83;
  const std::uint32_t start = 1, count = static_cast<std::uint32_t>(image_size / 512 - 1);
  for (int i = 0; i < 4; ++i) {
    e[8 + i] = static_cast<std::uint8_t>(start >> (8 * i));
    e[12 + i] = static_cast<std::uint8_t>(count >> (8 * i));
  }
  first[510] = 0x55;
  first[511] = 0xAA;
}

// A disk image (an MBR, then data, repeated blocks, zero runs and a short tail).
inline std::vector<std::uint8_t> sample_image(std::uint64_t seed = 1) {
  auto a = pseudo_random(kChunk, seed);
  stamp_mbr(a, 9 * kChunk + 12345);
  return concat({a, pseudo_random(kChunk, seed + 1, true), zeros(2 * kChunk), a, pseudo_random(3 * kChunk, seed + 2),
                 zeros(kChunk), pseudo_random(12345, seed + 3, true)});
}

// Rebuilds the image from the store: what a flasher would write.
inline std::vector<std::uint8_t> rebuild(const fs::path& store, const manifest::Manifest& m) {
  std::vector<std::uint8_t> image(m.image_size, 0xEE);
  manifest::ChunkDecoder dec;
  std::vector<std::uint8_t> out;
  for (const auto& c : m.chunks) {
    auto stored = read_file(store / manifest::layout::chunk_relpath(c.hash));
    dec.decode(stored, c, &out);
    for (auto off : c.offsets) std::copy(out.begin(), out.end(), image.begin() + static_cast<std::ptrdiff_t>(off));
  }
  for (const auto& z : m.zero_ranges)
    std::fill_n(image.begin() + static_cast<std::ptrdiff_t>(z.offset), z.length, 0);
  return image;
}

inline std::string slurp(const fs::path& p) { return read_text(p); }

}  // namespace ironstone::builder::testing
