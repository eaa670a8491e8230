#include "tests/testutil/sample_release.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <string>

#include "manifest/chunk_codec.h"
#include "manifest/layout.h"
#include "tests/testutil/testutil.h"

namespace ironstone::testing {

namespace fs = std::filesystem;
using manifest::Compression;
using manifest::Manifest;

Hash256 filled(std::uint8_t b) {
  Hash256 h;
  h.bytes.fill(b);
  return h;
}

manifest::SecretKey test_key(std::uint8_t seed_byte) { return test_key(seed_byte, seed_byte); }

manifest::SecretKey test_key(std::uint8_t seed_byte, std::uint8_t id_byte) {
  init_crypto();
  std::array<std::uint8_t, 32> seed;
  seed.fill(seed_byte);
  manifest::SecretKey k;
  std::array<std::uint8_t, 32> pk;
  crypto_sign_seed_keypair(pk.data(), k.key.data(), seed.data());
  for (std::size_t i = 0; i < k.id.bytes.size(); ++i) k.id.bytes[i] = static_cast<std::uint8_t>(id_byte + i);
  return k;
}

Manifest sample_release_header() {
  Manifest m;
  m.board = "rpi5";
  m.version = "1.0.0";
  m.sequence = 7;
  m.channel = "stable";
  m.created = 1767225600;  // 2026-01-01T00:00:00Z
  m.expires = 1893456000;  // 2030-01-01T00:00:00Z
  m.chunk_size = 65536;
  return m;
}

Manifest sample_manifest() {
  Manifest m = sample_release_header();
  m.image_size = 4 * 65536 + 100;
  m.image_hash = filled(0xaa);
  m.chunks.push_back({filled(0x11), 65536, 1000, Compression::kZstd, {0, 0x20000}, filled(0x12)});
  m.chunks.push_back({filled(0x22), 100, 100, Compression::kRaw, {0x40000}, filled(0x22)});
  m.zero_ranges = {{0x10000, 0x10000}, {0x30000, 0x10000}};
  m.info_hash_v2 = std::string(64, 'b');
  m.firmware.push_back({"pieeprom.bin", "rpi-eeprom", 524288, filled(0xcc)});
  m.provenance = {"gold.img", filled(0xdd), "0123abc", "github:42", "ci-1", "ironstone-build 0.1.0"};
  return m;
}

Manifest single_chunk_manifest() {
  Manifest m = sample_release_header();
  m.image_size = 2 * 65536;
  m.image_hash = filled(0xaa);
  m.chunks.push_back({filled(0x11), 65536, 1000, Compression::kZstd, {0}, filled(0x12)});
  m.zero_ranges = {{0x10000, 0x10000}};
  m.info_hash_v2 = std::string(64, 'b');
  m.provenance = {"gold.img", filled(0xdd), "", "", "ci-1", "ironstone-build 0.1.0"};
  return m;
}

void add_stored_chunks(const fs::path& store, const std::vector<std::vector<std::uint8_t>>& blocks, Manifest* m) {
  manifest::ChunkEncoder enc(3);
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    manifest::Chunk c;
    c.hash = blake2b256(blocks[i]);
    c.length = static_cast<std::uint32_t>(blocks[i].size());
    std::vector<std::uint8_t> stored;
    c.compression = enc.encode(blocks[i], &stored);
    c.stored_size = static_cast<std::uint32_t>(stored.size());
    if (m->format_version >= 2) c.stored_hash = c.compression == Compression::kRaw ? c.hash : blake2b256(stored);
    c.offsets = {i * m->chunk_size};
    fs::path p = store / manifest::layout::chunk_relpath(c.hash);
    fs::create_directories(p.parent_path());
    write_file(p, stored);
    m->chunks.push_back(c);
  }
  std::sort(m->chunks.begin(), m->chunks.end(),
            [](const manifest::Chunk& a, const manifest::Chunk& b) { return a.hash < b.hash; });
}

}  // namespace ironstone::testing
