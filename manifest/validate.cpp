// validate(): the fields of a manifest must add up. Every message names the field.
#include <algorithm>
#include <set>

#include "manifest/manifest.h"

namespace ironstone::manifest {
namespace {

class Checker {
 public:
  explicit Checker(std::string_view source) : source_(source) {}
  void require(bool ok, Errc code, const std::string& field, const std::string& problem) const {
    if (!ok) throw error(code, source_ + ": field '" + field + "': " + problem);
  }

 private:
  std::string source_;
};

std::string idx(const char* name, std::size_t i) { return std::string(name) + "[" + std::to_string(i) + "]"; }

bool is_hex(std::string_view s, std::size_t n) {
  return s.size() == n && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// A stretch of the image claimed by a chunk offset or a zero range.
struct Claim {
  std::uint64_t offset, length;
  std::string field;
};

// The scalar fields: format, names, times, chunk size, image size, info hash.
void check_header(const Manifest& m, const Checker& check) {
  check.require(m.format_version >= kOldestFormatVersion && m.format_version <= kFormatVersion, Errc::kField,
                "format_version", "unsupported version");
  check.require(valid_board_name(m.board), Errc::kField, "board", "expected [a-z0-9-]{1,64}");
  check.require(valid_board_name(m.channel), Errc::kField, "channel", "expected [a-z0-9-]{1,64}");
  check.require(valid_version_name(m.version), Errc::kField, "version", "expected [A-Za-z0-9._+-]{1,64}");
  check.require(m.expires > m.created, Errc::kInconsistent, "expires", "not after 'created'");
  const std::uint64_t cs = m.chunk_size;
  check.require(cs >= kMinChunkSize && cs <= kMaxChunkSize && (cs & (cs - 1)) == 0, Errc::kField, "chunk_size",
                std::to_string(cs) + " is not a power of two between 64 KiB and 64 MiB");
  check.require(m.image_size > 0, Errc::kField, "image_size", "image is empty");
  check.require(is_hex(m.info_hash_v2, 64), Errc::kField, "info_hash_v2", "expected 64 lower-case hex digits");
}

// One chunk's length and stored size (field `f`: "chunks[3]").
void check_chunk_sizes(const Chunk& c, std::uint64_t cs, const std::string& f, const Checker& check) {
  check.require(c.length > 0 && c.length <= cs, Errc::kInconsistent, f + ".length",
                std::to_string(c.length) + " is not within 1.." + std::to_string(cs));
  check.require(c.stored_size > 0 && c.stored_size <= c.length, Errc::kInconsistent, f + ".stored_size",
                std::to_string(c.stored_size) + " exceeds length " + std::to_string(c.length));
  if (c.compression == Compression::kRaw)
    check.require(c.stored_size == c.length, Errc::kInconsistent, f + ".stored_size",
                  "raw chunk must store exactly its length");
  else
    check.require(c.stored_size < c.length, Errc::kInconsistent, f + ".stored_size",
                  "zstd chunk must be smaller than its length (else it is stored raw)");
}

// One chunk's stored_hash: there from format 2 on, and a raw chunk's is its hash (the same bytes).
void check_stored_hash(const Manifest& m, const Chunk& c, const std::string& f, const Checker& check) {
  if (m.format_version < 2) {
    check.require(!c.stored_hash, Errc::kField, f + ".stored_hash", "not in format version 1");
    return;
  }
  check.require(c.stored_hash.has_value(), Errc::kField, f + ".stored_hash", "missing");
  if (c.stored_hash && c.compression == Compression::kRaw)
    check.require(*c.stored_hash == c.hash, Errc::kInconsistent, f + ".stored_hash",
                  "a raw chunk's stored bytes are its bytes: must equal 'hash'");
}

// One chunk's offsets: aligned, in the image, ascending, each fitting the chunk's length.
// Appends a claim per offset.
void check_chunk_offsets(const Manifest& m, const Chunk& c, const std::string& f, const Checker& check,
                         std::vector<Claim>& claims) {
  const std::uint64_t cs = m.chunk_size;
  for (std::size_t j = 0; j < c.offsets.size(); ++j) {
    const std::uint64_t off = c.offsets[j];
    const std::string of = f + ".offsets[" + std::to_string(j) + "]";
    check.require(off % cs == 0, Errc::kInconsistent, of, hex_offset(off) + " is not chunk-aligned");
    check.require(off < m.image_size, Errc::kInconsistent, of, hex_offset(off) + " is beyond the image");
    check.require(j == 0 || c.offsets[j - 1] < off, Errc::kInconsistent, of, "offsets not ascending");
    const std::uint64_t expected = std::min<std::uint64_t>(cs, m.image_size - off);
    check.require(c.length == expected, Errc::kInconsistent, f + ".length",
                  std::to_string(c.length) + " does not fit offset " + hex_offset(off) + " (expected " +
                      std::to_string(expected) + ")");
    claims.push_back({off, c.length, of});
  }
}

// The chunk table: sorted by hash, sizes, offsets (no more than the image has positions).
// Appends a claim per chunk offset.
void check_chunks(const Manifest& m, const Checker& check, std::vector<Claim>& claims) {
  const std::uint64_t cs = m.chunk_size;
  const std::uint64_t positions = (m.image_size + cs - 1) / cs;
  std::uint64_t total_offsets = 0;
  for (std::size_t i = 0; i < m.chunks.size(); ++i) {
    const Chunk& c = m.chunks[i];
    const std::string f = idx("chunks", i);
    if (i > 0) check.require(m.chunks[i - 1].hash < c.hash, Errc::kInconsistent, f + ".hash",
                             "chunk table not sorted by hash, or hash listed twice");
    check_chunk_sizes(c, cs, f, check);
    check_stored_hash(m, c, f, check);
    check.require(!c.offsets.empty(), Errc::kInconsistent, f + ".offsets", "empty");
    total_offsets += c.offsets.size();
    check.require(total_offsets <= positions, Errc::kInconsistent, f + ".offsets",
                  "more chunk offsets than the image has chunks");
    check_chunk_offsets(m, c, f, check, claims);
  }
}

// The zero ranges: non-empty, aligned, in the image, sorted and merged. Appends a claim each.
void check_zero_ranges(const Manifest& m, const Checker& check, std::vector<Claim>& claims) {
  const std::uint64_t cs = m.chunk_size;
  for (std::size_t i = 0; i < m.zero_ranges.size(); ++i) {
    const ZeroRange& z = m.zero_ranges[i];
    const std::string f = idx("zero_ranges", i);
    check.require(z.length > 0, Errc::kInconsistent, f + ".length", "empty range");
    check.require(z.offset % cs == 0, Errc::kInconsistent, f + ".offset", hex_offset(z.offset) + " is not chunk-aligned");
    check.require(z.offset < m.image_size && z.length <= m.image_size - z.offset, Errc::kInconsistent, f,
                  "extends beyond the image");
    check.require(z.length % cs == 0 || z.offset + z.length == m.image_size, Errc::kInconsistent, f + ".length",
                  "not a multiple of chunk_size and not at the image's end");
    if (i > 0) {
      const ZeroRange& prev = m.zero_ranges[i - 1];
      check.require(prev.offset + prev.length < z.offset, Errc::kInconsistent, f,
                    "overlaps or touches the previous range (ranges must be sorted and merged)");
    }
    claims.push_back({z.offset, z.length, f});
  }
}

// The claims of chunks and zero ranges cover the image exactly: no gap, no overlap.
void check_coverage(const Manifest& m, const Checker& check, std::vector<Claim> claims) {
  std::sort(claims.begin(), claims.end(), [](const Claim& a, const Claim& b) { return a.offset < b.offset; });
  std::uint64_t covered = 0;
  for (const Claim& c : claims) {
    check.require(c.offset == covered, Errc::kInconsistent, c.field,
                  c.offset < covered ? "overlaps another chunk or zero range at " + hex_offset(c.offset)
                                     : "gap in the image before " + hex_offset(c.offset));
    covered += c.length;
  }
  check.require(covered == m.image_size, Errc::kInconsistent, "image_size",
                "chunks and zero ranges cover " + std::to_string(covered) + " of " + std::to_string(m.image_size) +
                    " bytes");
}

// The firmware files: names unique, kinds and sizes in range.
void check_firmware(const Manifest& m, const Checker& check) {
  std::set<std::string> names;
  for (std::size_t i = 0; i < m.firmware.size(); ++i) {
    const Firmware& fw = m.firmware[i];
    const std::string f = idx("firmware", i);
    check.require(valid_version_name(fw.name), Errc::kField, f + ".name", "expected [A-Za-z0-9._+-]{1,64}");
    check.require(names.insert(fw.name).second, Errc::kInconsistent, f + ".name", "listed twice");
    check.require(valid_board_name(fw.kind), Errc::kField, f + ".kind", "expected [a-z0-9-]{1,64}");
    check.require(fw.size > 0 && fw.size <= 64ull << 20, Errc::kField, f + ".size", "not within 1 byte..64 MiB");
  }
}

}  // namespace

// In this order, so the first problem reported is the same as before the split: header,
// chunks, zero ranges, coverage, firmware.
void validate(const Manifest& m, std::string_view source) {
  const Checker check(source);
  check_header(m, check);
  std::vector<Claim> claims;
  check_chunks(m, check, claims);
  check_zero_ranges(m, check, claims);
  check_coverage(m, check, std::move(claims));
  check_firmware(m, check);
}

}  // namespace ironstone::manifest
