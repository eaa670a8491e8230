// Sample releases shared by the manifest and builder tests: deterministic signing keys,
// small valid manifests (their canonical bytes and signatures are known answers in the
// tests, so do not change the values), and a store of real chunk files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "manifest/hash.h"
#include "manifest/manifest.h"
#include "manifest/minisign.h"

namespace ironstone::testing {

// A hash whose every byte is `b`.
Hash256 filled(std::uint8_t b);

// Deterministic throwaway Ed25519 key from a fixed seed (it signs nothing real); the
// key id bytes are id_byte, id_byte + 1, ... (id_byte = seed_byte when not given).
manifest::SecretKey test_key(std::uint8_t seed_byte = 0x42);
manifest::SecretKey test_key(std::uint8_t seed_byte, std::uint8_t id_byte);

// The fields every sample release shares: board rpi5, version 1.0.0, sequence 7, channel
// stable, created 2026-01-01T00:00:00Z, expires 2030-01-01T00:00:00Z, 64 KiB chunks.
// No image, chunks or hashes.
manifest::Manifest sample_release_header();

// A small, valid manifest: 64 KiB chunks, image of 4 chunks + a 100-byte tail:
//   0x00000 A | 0x10000 zero | 0x20000 A | 0x30000 zero | 0x40000 B (100 bytes)
// with a firmware entry and full provenance.
manifest::Manifest sample_manifest();

// A smaller valid manifest: 0x00000 A | 0x10000 zero, no firmware, provenance without git
// commit or CI run.
manifest::Manifest single_chunk_manifest();

// Writes `blocks` (block i at image offset i * m->chunk_size) into `store` as chunk files,
// encoded as the builder does (zstd level 3, raw when that is not smaller), and adds their
// chunk entries to m->chunks in hash order. Sets nothing else of *m.
void add_stored_chunks(const std::filesystem::path& store, const std::vector<std::vector<std::uint8_t>>& blocks,
                       manifest::Manifest* m);

}  // namespace ironstone::testing
