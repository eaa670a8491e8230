#include "manifest/manifest.h"

#include <ctime>

#include <nlohmann/json.hpp>

#include "api/names.h"
#include "util/json_reader.h"

namespace ironstone::manifest {

using nlohmann::json;

std::string_view to_string(Compression c) { return c == Compression::kZstd ? "zstd" : "raw"; }

std::uint64_t Manifest::stored_bytes() const {
  std::uint64_t total = 0;
  for (const auto& c : chunks) total += c.stored_size;
  return total;
}

std::uint64_t Manifest::data_bytes() const {
  std::uint64_t total = 0;
  for (const auto& c : chunks) total += std::uint64_t{c.length} * c.offsets.size();
  return total;
}

std::string format_time(std::int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::optional<std::int64_t> parse_time(std::string_view text) {
  // Exactly "YYYY-MM-DDTHH:MM:SSZ".
  if (text.size() != 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || text[19] != 'Z')
    return std::nullopt;
  auto num = [&](std::size_t pos, std::size_t len, int lo, int hi) -> std::optional<int> {
    int v = 0;
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      v = v * 10 + (text[i] - '0');
    }
    if (v < lo || v > hi) return std::nullopt;
    return v;
  };
  auto y = num(0, 4, 1970, 9999), mo = num(5, 2, 1, 12), d = num(8, 2, 1, 31), h = num(11, 2, 0, 23),
       mi = num(14, 2, 0, 59), s = num(17, 2, 0, 59);
  if (!y || !mo || !d || !h || !mi || !s) return std::nullopt;
  std::tm tm{};
  tm.tm_year = *y - 1900;
  tm.tm_mon = *mo - 1;
  tm.tm_mday = *d;
  tm.tm_hour = *h;
  tm.tm_min = *mi;
  tm.tm_sec = *s;
  std::int64_t t = timegm(&tm);
  if (format_time(t) != text) return std::nullopt;  // e.g. February 30th
  return t;
}

// The rules live with the wire contract (api/names.h): one definition for the manifest,
// the paths and the node reports.
bool valid_board_name(std::string_view s) { return api::valid_board_name(s); }

bool valid_version_name(std::string_view s) { return api::valid_version_name(s); }

std::string serialize(const Manifest& m) {
  json chunks = json::array();
  for (const auto& c : m.chunks) {
    chunks.push_back({{"hash", c.hash.hex()},
                      {"length", c.length},
                      {"stored_size", c.stored_size},
                      {"compression", to_string(c.compression)},
                      {"offsets", c.offsets}});
    if (c.stored_hash) chunks.back()["stored_hash"] = c.stored_hash->hex();
  }
  json zeros = json::array();
  for (const auto& z : m.zero_ranges) zeros.push_back({{"offset", z.offset}, {"length", z.length}});
  json firmware = json::array();
  for (const auto& f : m.firmware)
    firmware.push_back({{"name", f.name}, {"kind", f.kind}, {"size", f.size}, {"hash", f.hash.hex()}});
  const auto& p = m.provenance;
  json doc = {
      {"format_version", m.format_version},
      {"board", m.board},
      {"version", m.version},
      {"sequence", m.sequence},
      {"channel", m.channel},
      {"created", format_time(m.created)},
      {"expires", format_time(m.expires)},
      {"image_size", m.image_size},
      {"image_hash", m.image_hash.hex()},
      {"chunk_size", m.chunk_size},
      {"chunks", chunks},
      {"zero_ranges", zeros},
      {"info_hash_v2", m.info_hash_v2},
      {"firmware", firmware},
      {"provenance",
       {{"source_name", p.source_name},
        {"source_hash", p.source_hash.hex()},
        {"git_commit", p.git_commit},
        {"ci_run", p.ci_run},
        {"builder_host", p.builder_host},
        {"tool_version", p.tool_version}}},
  };
  const auto file_ref = [](const FileRef& f) { return nlohmann::json{{"size", f.size}, {"hash", f.hash.hex()}}; };
  if (p.recipe) doc["provenance"]["recipe"] = file_ref(*p.recipe);
  if (p.build_log) doc["provenance"]["build_log"] = file_ref(*p.build_log);
  if (m.sbom) doc["sbom"] = file_ref(*m.sbom);
  return doc.dump(-1, ' ', /*ensure_ascii=*/true) + "\n";
}

namespace {

Error field_error(const std::string& message) { return error(Errc::kField, message); }
Error parse_error(const std::string& message) { return error(Errc::kParse, message); }

Hash256 read_hash(strict_json::ObjectReader& r, const char* key) {
  const std::string text = r.string(key);
  auto h = Hash256::from_hex(text);
  // Canonical form only: from_hex() also takes upper case, which serialize() never writes.
  if (!h || h->hex() != text) r.fail(key, "expected 64 lower-case hex digits");
  return *h;
}

// An optional {size, hash} object (FileRef) under `key`; `what` names the file in the
// error for size 0 ("an SBOM is never empty").
std::optional<FileRef> read_file_ref(strict_json::ObjectReader& r, const char* key, std::uint64_t max_size,
                                     const char* what) {
  if (!r.has(key)) return std::nullopt;
  auto f = r.object(key);
  FileRef ref{f.uint("size", max_size), read_hash(f, "hash")};
  if (ref.size == 0) f.fail("size", std::string(what) + " is never empty");
  f.finish();
  return ref;
}

std::int64_t read_time(strict_json::ObjectReader& r, const char* key) {
  auto t = parse_time(r.string(key));
  if (!t) r.fail(key, "expected a UTC time like 2026-01-31T12:00:00Z");
  return *t;
}

// Format 1 has no stored_hash (an unknown field there); from format 2 on every chunk has one.
Chunk read_chunk(const json& value, const std::string& path, std::string_view source, std::uint32_t format) {
  strict_json::ObjectReader r(value, path, source, field_error);
  Chunk c;
  c.hash = read_hash(r, "hash");
  if (format >= 2) c.stored_hash = read_hash(r, "stored_hash");
  c.length = static_cast<std::uint32_t>(r.uint("length", kMaxChunkSize));
  c.stored_size = static_cast<std::uint32_t>(r.uint("stored_size", kMaxChunkSize));
  std::string comp = r.string("compression");
  if (comp == "zstd") {
    c.compression = Compression::kZstd;
  } else if (comp == "raw") {
    c.compression = Compression::kRaw;
  } else {
    r.fail("compression", "expected \"zstd\" or \"raw\", got \"" + comp + "\"");
  }
  const auto& offsets = r.array("offsets");
  c.offsets.reserve(offsets.size());
  for (std::size_t i = 0; i < offsets.size(); ++i) {
    if (!offsets[i].is_number_unsigned()) r.fail("offsets", "element " + std::to_string(i) + " is not an offset");
    c.offsets.push_back(offsets[i].get<std::uint64_t>());
  }
  r.finish();
  return c;
}

}  // namespace

std::vector<ListedFile> listed_release_files(const Manifest& m) {
  std::vector<ListedFile> out;
  if (m.sbom) out.push_back({kSbomFile, &*m.sbom});
  if (m.provenance.recipe) out.push_back({kRecipeFile, &*m.provenance.recipe});
  if (m.provenance.build_log) out.push_back({kBuildLogFile, &*m.provenance.build_log});
  return out;
}

Manifest parse_manifest(std::string_view bytes, std::string_view source) {
  if (bytes.size() > kMaxManifestBytes)
    throw error(Errc::kTooLarge, std::string(source) + ": " + std::to_string(bytes.size()) +
                                     " bytes exceeds the manifest limit of " + std::to_string(kMaxManifestBytes));
  json doc = strict_json::parse_strict(bytes, source, parse_error);
  strict_json::ObjectReader r(doc, "", source, field_error);
  Manifest m;
  m.format_version = static_cast<std::uint32_t>(r.uint("format_version", UINT32_MAX));
  if (m.format_version < kOldestFormatVersion || m.format_version > kFormatVersion)
    r.fail("format_version", "unsupported version " + std::to_string(m.format_version) + " (this build reads " +
                                 std::to_string(kOldestFormatVersion) + " to " + std::to_string(kFormatVersion) + ")");
  m.board = r.string("board");
  m.version = r.string("version");
  m.sequence = r.uint("sequence");
  m.channel = r.string("channel");
  m.created = read_time(r, "created");
  m.expires = read_time(r, "expires");
  m.image_size = r.uint("image_size");
  m.image_hash = read_hash(r, "image_hash");
  m.chunk_size = static_cast<std::uint32_t>(r.uint("chunk_size", kMaxChunkSize));
  const auto& chunks = r.array("chunks");
  m.chunks.reserve(chunks.size());
  for (std::size_t i = 0; i < chunks.size(); ++i)
    m.chunks.push_back(read_chunk(chunks[i], strict_json::element("chunks", i), source, m.format_version));
  const auto& zeros = r.array("zero_ranges");
  for (std::size_t i = 0; i < zeros.size(); ++i) {
    strict_json::ObjectReader z(zeros[i], strict_json::element("zero_ranges", i), source, field_error);
    m.zero_ranges.push_back({z.uint("offset"), z.uint("length")});
    z.finish();
  }
  m.info_hash_v2 = r.string("info_hash_v2");
  const auto& firmware = r.array("firmware");
  for (std::size_t i = 0; i < firmware.size(); ++i) {
    strict_json::ObjectReader f(firmware[i], strict_json::element("firmware", i), source, field_error);
    m.firmware.push_back({f.string("name"), f.string("kind"), f.uint("size"), read_hash(f, "hash")});
    f.finish();
  }
  m.sbom = read_file_ref(r, "sbom", kMaxSbomBytes, "an SBOM");
  auto p = r.object("provenance");
  m.provenance.source_name = p.string("source_name");
  m.provenance.source_hash = read_hash(p, "source_hash");
  m.provenance.git_commit = p.string("git_commit");
  m.provenance.ci_run = p.string("ci_run");
  m.provenance.builder_host = p.string("builder_host");
  m.provenance.tool_version = p.string("tool_version");
  m.provenance.recipe = read_file_ref(p, "recipe", kMaxAuditFileBytes, "a recipe");
  m.provenance.build_log = read_file_ref(p, "build_log", kMaxAuditFileBytes, "a build log");
  m.provenance.unknown_fields = p.unread();  // open to newer builders' fields (manifest.h, Provenance)
  r.finish();
  validate(m, source);
  return m;
}

Manifest parse_manifest(std::span<const std::uint8_t> bytes, std::string_view source) {
  return parse_manifest(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), source);
}

}  // namespace ironstone::manifest
