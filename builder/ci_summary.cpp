#include "builder/ci_summary.h"

#include "builder/errc.h"
#include "builder/store.h"
#include "manifest/hash.h"

namespace ironstone::builder {

namespace fs = std::filesystem;

namespace {

std::string hash_of(std::string_view bytes) {
  return blake2b256({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()}).hex();
}

nlohmann::json sbom_json(const std::optional<fs::path>& sbom) {
  if (!sbom) return nullptr;
  const std::string bytes = read_text_file(*sbom, 256ull << 20);
  return {{"path", sbom->string()}, {"blake2b", hash_of(bytes)}, {"bytes", bytes.size()}};
}

// A release file the signed manifest lists, as its hash and size; null when it lists none.
nlohmann::json file_ref_json(const std::optional<manifest::FileRef>& ref, const fs::path& release_dir,
                             const char* name) {
  if (!ref) return nullptr;
  return {{"path", (release_dir / name).string()}, {"blake2b", ref->hash.hex()}, {"bytes", ref->size}};
}

}  // namespace

nlohmann::json publish_summary(const PublishResult& r, const std::optional<fs::path>& sbom, double seconds,
                               bool dry_run) {
  const manifest::Manifest& m = r.manifest;
  return {{"command", "publish"},
          {"ok", true},
          {"dry_run", dry_run},
          {"release",
           {{"board", m.board},
            {"version", m.version},
            {"channel", m.channel},
            {"sequence", m.sequence},
            {"dir", r.release_dir.string()}}},
          {"sizes",
           {{"image", m.image_size},
            {"stored", m.stored_bytes()},
            {"chunks", m.chunks.size()},
            {"zero_ranges", m.zero_ranges.size()},
            {"new_chunk_files", r.new_chunk_files},
            {"reused_chunk_files", r.reused_chunk_files}}},
          {"hashes",
           {{"image", m.image_hash.hex()},
            {"manifest", hash_of(manifest::serialize(m))},
            {"info_hash_v2", m.info_hash_v2},
            {"source", m.provenance.source_hash.hex()}}},
          {"sbom", sbom_json(sbom)},
          {"audit",
           {{"recipe", file_ref_json(m.provenance.recipe, r.release_dir, manifest::kRecipeFile)},
            {"build_log", file_ref_json(m.provenance.build_log, r.release_dir, manifest::kBuildLogFile)}}},
          {"seal",
           {{"checked", r.seal.checked}, {"sealed", r.seal.sealed()}, {"findings", r.seal.findings},
            {"note", r.seal.note}}},
          {"timings", {{"total_s", seconds}}}};
}

nlohmann::json push_summary(const PushResult& r, const std::string& seeder, double seconds) {
  return {{"command", "push"},
          {"ok", true},
          {"release", {{"board", r.board}, {"version", r.version}}},
          {"seeder", seeder},
          {"state", r.state},
          {"chunks_total", r.chunks_total},
          {"chunks_sent", r.chunks_sent},
          {"firmware_sent", r.firmware_sent},
          {"files_sent", r.files_sent},
          {"bytes_sent", r.bytes_sent},
          {"timings", {{"total_s", seconds}}}};
}

nlohmann::json verify_summary(const VerifyReport& r) {
  return {{"command", "verify"},         {"ok", r.ok()},         {"releases_checked", r.releases_checked},
          {"chunks_checked", r.chunks_checked}, {"problems", r.problems}, {"warnings", r.warnings},
          {"trusted_keys", r.trusted_keys}};
}

nlohmann::json failure_summary(const std::string& command, const std::string& message) {
  return {{"command", command}, {"ok", false}, {"error", message}};
}

std::optional<fs::path> find_sbom(const std::string& image, const std::string& given) {
  std::error_code ec;
  if (!given.empty()) {
    if (!fs::is_regular_file(given, ec)) throw error(Errc::kInput, "--sbom " + given + ": no such file");
    return fs::path(given);
  }
  if (image == "-") return std::nullopt;
  const fs::path beside = fs::path(image + ".spdx.json");
  if (fs::is_regular_file(beside, ec)) return beside;
  return std::nullopt;
}

}  // namespace ironstone::builder
