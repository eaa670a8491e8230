// The release manifest: the one signed document of a release.
//
// Format: docs/release-format.md. Canonical JSON (keys sorted, no whitespace,
// integers only, hashes in lower-case hex, times as RFC 3339 UTC "…Z").
// serialize() is the only writer; parse_manifest() is strict: unknown fields,
// unknown format versions, duplicate keys, trailing bytes, wrong types and sizes
// that do not add up are errors naming the field (manifest::Errc).
//
// The chunk table holds one entry per *unique* non-zero chunk, sorted by hash;
// entry i is stored as chunks/<aa>/<hash>.zst and is piece i (file i) of the
// release torrent. Each entry lists every image offset that holds its bytes.
// Chunk offsets and zero ranges together tile [0, image_size) exactly.
//
// Thread safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/limits.h"
#include "manifest/errc.h"
#include "manifest/hash.h"

namespace ironstone::manifest {

// The format this build writes, and the oldest it still reads. Version 2 adds each chunk's
// stored_hash (BLAKE2b-256 of its stored bytes): a flasher proves what it received with one
// hash over the compressed bytes, then decompresses it, instead of hashing the decompressed
// bytes, ~3x as many (docs/release-format.md, docs/performance-realistic-image.md). Version 1 releases
// (no stored_hash) are still read, and flashed with the raw-hash check.
inline constexpr std::uint32_t kFormatVersion = 2;
inline constexpr std::uint32_t kOldestFormatVersion = 1;
inline constexpr std::uint32_t kMinChunkSize = 64 * 1024;
inline constexpr std::uint32_t kMaxChunkSize = 64 * 1024 * 1024;
inline constexpr std::uint32_t kDefaultChunkSize = 4 * 1024 * 1024;
inline constexpr std::size_t kMaxManifestBytes = api::kMaxManifestBytes;  // the wire limit is the format limit

enum class Compression { kRaw, kZstd };
std::string_view to_string(Compression c);

struct Chunk {
  Hash256 hash;                        // BLAKE2b-256 of the uncompressed bytes: the chunk's name
  std::uint32_t length = 0;            // uncompressed bytes (chunk_size, or less for the image's tail)
  std::uint32_t stored_size = 0;       // bytes of the stored file (<= length when raw, < length when zstd)
  Compression compression = Compression::kZstd;
  std::vector<std::uint64_t> offsets;  // ascending image offsets holding these bytes, each chunk-aligned
  std::optional<Hash256> stored_hash;  // BLAKE2b-256 of the stored bytes (format 2 and later; for a
                                       // raw chunk the same as `hash`); none in format 1
};

struct ZeroRange {
  std::uint64_t offset = 0;  // chunk-aligned
  std::uint64_t length = 0;  // a multiple of chunk_size, except at the image's end
  auto operator<=>(const ZeroRange&) const = default;
};

// A firmware payload carried by a release (e.g. a Pi 5 EEPROM image, a Rock 5B SPI
// bootloader), stored in the release directory as firmware/<name>.
struct Firmware {
  std::string name;  // file name, [A-Za-z0-9._-]+
  std::string kind;  // e.g. "rpi-eeprom", "spi-nor"
  std::uint64_t size = 0;
  Hash256 hash;      // BLAKE2b-256
};

// The release's software bill of materials (SPDX 2.3 JSON, e.g. what `ironstone-build gold`
// writes), stored in the release directory as kSbomFile. Optional: releases of images from
// elsewhere have none. Its hash is signed with the rest of the manifest.
inline constexpr const char* kSbomFile = "sbom.spdx.json";
inline constexpr std::uint64_t kMaxSbomBytes = 64ull << 20;
// A file of the release directory named by the signed manifest: its size and hash.
struct FileRef {
  std::uint64_t size = 0;  // 1..the file kind's limit (kMaxSbomBytes, kMaxAuditFileBytes)
  Hash256 hash;            // BLAKE2b-256 of the file
};
using SbomRef = FileRef;

// The build audit trail: the recipe the image was built from and the build's log, stored in
// the release directory as kRecipeFile and kBuildLogFile, named by Provenance::recipe and
// ::build_log ("provenance": {"recipe": {size, hash}, "build_log": {size, hash}}). Optional:
// older manifests and releases of images from elsewhere have neither.
inline constexpr const char* kRecipeFile = "recipe.yaml";
inline constexpr const char* kBuildLogFile = "build.log";
inline constexpr std::uint64_t kMaxAuditFileBytes = 64ull << 20;

// Provenance is informational: nothing Ironstone decides (trust, what is written) reads it
// except the audit files' hashes. So it is the one place of the manifest open to fields this
// build does not know: a newer builder may add provenance fields without older readers (the
// installer cards already in the racks) refusing its releases. parse_manifest keeps their names
// in `unknown_fields` (inspect shows them) and otherwise ignores them; everywhere else an unknown
// field is an error, and a change of meaning needs a new format_version.
struct Provenance {
  std::string source_name;   // file name of the image given to publish ("-" for stdin)
  Hash256 source_hash;       // BLAKE2b-256 of the source file as read (compressed, if it was)
  std::string git_commit;    // empty when unknown
  std::string ci_run;        // e.g. "github:1234567"; empty when unknown
  std::string builder_host;
  std::string tool_version;
  std::optional<FileRef> recipe;     // kRecipeFile; absent when publish got no --recipe
  std::optional<FileRef> build_log;  // kBuildLogFile; absent when publish got no --build-log
  std::vector<std::string> unknown_fields;  // parsed, not known to this build (sorted); never serialised
};

struct Manifest {
  std::uint32_t format_version = kFormatVersion;
  std::string board;    // [a-z0-9-]+
  std::string version;  // [A-Za-z0-9._+-]+
  std::uint64_t sequence = 0;
  std::string channel;  // [a-z0-9-]+
  std::int64_t created = 0;  // unix seconds
  std::int64_t expires = 0;  // unix seconds
  std::uint64_t image_size = 0;
  Hash256 image_hash;
  std::uint32_t chunk_size = kDefaultChunkSize;
  std::vector<Chunk> chunks;
  std::vector<ZeroRange> zero_ranges;
  std::string info_hash_v2;  // 64 hex chars: SHA-256 info-hash of release.torrent
  std::vector<Firmware> firmware;
  std::optional<SbomRef> sbom;  // the "sbom" field, absent when the release has none
  Provenance provenance;

  // Sum of stored_size over the chunk table: what a flasher downloads at most.
  std::uint64_t stored_bytes() const;
  // Bytes of the image covered by non-zero chunks.
  std::uint64_t data_bytes() const;
};

// The files of the release directory the manifest names by size and hash besides chunks and
// firmware: its SBOM and its audit trail (kSbomFile, kRecipeFile, kBuildLogFile), those it lists,
// in that order. `ref` points into `m`, which must outlive the result.
struct ListedFile {
  const char* name;
  const FileRef* ref;
};
std::vector<ListedFile> listed_release_files(const Manifest& m);


// Canonical JSON bytes of m. Deterministic: equal manifests give equal bytes.
std::string serialize(const Manifest& m);

// Strict parser. `source` names the input in messages ("manifest.json").
// Throws Error(manifest::Errc) naming the field, e.g.
//   "manifest.json: field 'chunks[3].stored_size': 5000000 exceeds length 4194304".
Manifest parse_manifest(std::span<const std::uint8_t> bytes, std::string_view source);
Manifest parse_manifest(std::string_view bytes, std::string_view source);

// Checks that the fields add up (chunk sizes, alignment, tiling, ordering, names).
// parse_manifest() calls it; builders call it before signing.
void validate(const Manifest& m, std::string_view source);

// Time helpers: RFC 3339 UTC ("2026-11-24T01:40:00Z") <-> unix seconds.
std::string format_time(std::int64_t unix_seconds);
std::optional<std::int64_t> parse_time(std::string_view text);

// Name rules shared by manifests, channel pointers and store paths.
bool valid_board_name(std::string_view s);    // also used for channels
bool valid_version_name(std::string_view s);  // never "." or "..", no '/'

}  // namespace ironstone::manifest
