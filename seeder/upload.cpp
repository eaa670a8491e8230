#include "seeder/upload.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "api/errc.h"
#include "api/limits.h"
#include "api/paths.h"
#include "manifest/chunk_codec.h"
#include "manifest/hash.h"
#include "manifest/layout.h"
#include "seeder/errc.h"
#include "seeder/upload_staging.h"
#include "util/file.h"

namespace ironstone::seeder {

namespace fs = std::filesystem;

static_assert(api::kMaxSignatureBytes == manifest::kMaxMinisignFileBytes, "one limit for signature files");
static_assert(api::kMaxPushChunkBytes == manifest::kMaxChunkSize, "a pushed chunk is at most one chunk");
static_assert(std::string_view(api::kReleaseFiles[0]) == manifest::kSbomFile &&
                  std::string_view(api::kReleaseFiles[1]) == manifest::kRecipeFile &&
                  std::string_view(api::kReleaseFiles[2]) == manifest::kBuildLogFile,
              "api::kReleaseFiles names the files manifest::listed_release_files lists");
static_assert(api::kMaxPushFileBytes >= manifest::kMaxSbomBytes && api::kMaxPushFileBytes >= manifest::kMaxAuditFileBytes,
              "a pushed release file may be as large as the manifest allows");

namespace {

std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::optional<std::string> read_optional(const fs::path& path, std::size_t limit) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  std::string why;
  auto bytes = util::read_small_file(path, limit, &why);
  if (!bytes) throw error(Errc::kStore, path.string() + ": " + why);
  return bytes;
}

// The highest sequence of the store's releases of `board` on `channel` (their own manifests).
std::optional<std::uint64_t> highest_in_store(const fs::path& store, const std::string& board,
                                              const std::string& channel) {
  std::optional<std::uint64_t> highest;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(store / "releases" / board, ec)) {
    if (entry.path().filename().string().starts_with(".")) continue;
    auto text = read_optional(entry.path() / manifest::layout::kManifestFile, api::kMaxManifestBytes);
    if (!text) continue;
    const manifest::Manifest m = manifest::parse_manifest(*text, (entry.path() / "manifest.json").string());
    if (m.channel == channel && (!highest || m.sequence > *highest)) highest = m.sequence;
  }
  return highest;
}

std::optional<std::uint64_t> pointer_sequence(const fs::path& store, const std::string& board,
                                              const std::string& channel) {
  const fs::path file = manifest::layout::channel_file(store, board, channel);
  auto text = read_optional(file, api::kMaxPointerBytes);
  if (!text) return std::nullopt;
  return manifest::parse_channel_pointer(*text, file.string()).sequence;
}

std::int64_t steady_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// An upload nobody sent anything for this long gives up its slot to a new one (its staged files
// stay: the next push of that release picks them up again).
constexpr std::int64_t kIdleSlotSeconds = 60;
// Staging directories untouched this long are removed when the seeder starts.
constexpr auto kStaleStaging = std::chrono::hours(24 * 7);

void remove_stale_staging(const fs::path& store) {
  std::error_code ec;
  const auto limit = fs::file_time_type::clock::now() - kStaleStaging;
  for (const auto& board : fs::directory_iterator(store / ".uploads", ec)) {
    for (const auto& version : fs::directory_iterator(board.path(), ec)) {
      if (fs::last_write_time(version.path(), ec) < limit && !ec) {
        spdlog::info("push: removing {}: untouched for a week", version.path().string());
        fs::remove_all(version.path(), ec);
      }
    }
  }
}

std::int64_t system_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Runs a verification step; a failure is a refusal naming the release and what failed.
template <typename F>
auto refused_unless(const std::string& what, F&& step) {
  try {
    return step();
  } catch (const Error& e) {
    throw error(Errc::kRefused, "push " + what + " refused: " + e.what());
  }
}

// The bundle's files through the trust boundary (manifest/trust.h), against the store's keys.
std::shared_ptr<UploadService::Upload> verify_bundle(api::PushBundle bundle, const UploadOptions& o) {
  const std::string what = bundle.board + "/" + bundle.version;
  if (o.trusted_keys.empty())
    throw error(Errc::kRefused, "push " + what + " refused: this seeder trusts no release keys (" +
                                    (o.store / "keys").string() + "/*.pub is empty)");
  manifest::TrustPolicy policy{o.trusted_keys, bundle.board, bundle.channel, o.now ? o.now() : system_now(),
                               highest_in_store(o.store, bundle.board, bundle.channel), false};
  auto verified = refused_unless(what, [&] {
    return manifest::verify_manifest({bundle.manifest, bundle.signature, "pushed manifest.json"}, policy);
  });
  if (verified.manifest().version != bundle.version)
    throw error(Errc::kRefused, "push " + what + " refused: the signed manifest is version '" +
                                    verified.manifest().version + "'");
  refused_unless(what, [&] {
    return manifest::check_torrent(verified, std::vector<char>(bundle.torrent.begin(), bundle.torrent.end()),
                                   "pushed release.torrent");
  });
  auto upload = std::make_shared<UploadService::Upload>(std::move(verified));
  if (!bundle.pointer.empty()) {
    policy.highest_seen_sequence = pointer_sequence(o.store, bundle.board, bundle.channel);
    upload->pointer = refused_unless(what, [&] {
      auto channel = manifest::verify_channel(bundle.pointer, bundle.pointer_signature, "pushed channel pointer", policy);
      manifest::check_manifest_matches_channel(channel, bundle.manifest, "pushed channel pointer");
      return channel.pointer();
    });
  }
  for (const auto& c : upload->manifest().chunks) upload->chunks.emplace(c.hash.hex(), &c);
  upload->bundle = std::move(bundle);
  upload->staging = o.store / ".uploads" / upload->manifest().board / upload->manifest().version;
  return upload;
}

// What the upload still lacks: chunks in neither the store nor staging, firmware and release
// files not staged.
api::PushStatus missing(const fs::path& store, const UploadService::Upload& u) {
  api::PushStatus s{u.manifest().board, u.manifest().version, "pending", {}, {}, {}};
  std::error_code ec;
  for (const auto& [hex, chunk] : u.chunks) {
    if (!fs::exists(store_chunk_file(store, hex), ec) && !fs::exists(staged_chunk_file(u.staging, hex), ec))
      s.missing_chunks.push_back(hex);
  }
  for (const auto& fw : u.manifest().firmware) {
    if (!fs::exists(u.staging / "firmware" / fw.name, ec)) s.missing_firmware.push_back(fw.name);
  }
  for (const auto& f : manifest::listed_release_files(u.manifest())) {
    if (!fs::exists(u.staging / "files" / f.name, ec)) s.missing_files.push_back(f.name);
  }
  return s;
}

// A pushed file the manifest names by size and hash: checked, then written to `staged`.
void stage_signed_file(const std::string& where, std::string_view body, const manifest::FileRef& want,
                       const fs::path& staged) {
  if (body.size() != want.size)
    throw error(Errc::kBadRequest, where + ": " + std::to_string(body.size()) + " bytes, the signed size is " +
                                       std::to_string(want.size));
  if (ironstone::blake2b256(as_bytes(body)) != want.hash)
    throw error(Errc::kBadRequest, where + ": refused: BLAKE2b-256 does not match the signed hash");
  write_file_replace(staged, body);
}

// The staging directory holds this manifest's upload: one of another manifest is cleared first.
void prepare_staging(const UploadService::Upload& u) {
  const fs::path marker = u.staging / manifest::layout::kManifestFile;
  if (auto old = read_optional(marker, api::kMaxManifestBytes); old && *old != u.bundle.manifest) {
    spdlog::info("push: {}: another manifest was being uploaded; starting over", u.key());
    std::error_code ec;
    fs::remove_all(u.staging, ec);
  }
  std::error_code ec;
  fs::create_directories(u.staging / "chunks", ec);
  if (!ec) fs::create_directories(u.staging / "firmware", ec);
  if (!ec) fs::create_directories(u.staging / "files", ec);
  if (ec) throw error(Errc::kStore, u.staging.string() + ": cannot create: " + ec.message());
  write_file_replace(marker, u.bundle.manifest);
}

// The least recently used upload gives up its slot when it has been idle for kIdleSlotSeconds.
void evict_idle(std::map<std::string, std::shared_ptr<UploadService::Upload>>& uploads) {
  auto oldest = uploads.end();
  for (auto it = uploads.begin(); it != uploads.end(); ++it)
    if (oldest == uploads.end() || it->second->last_used < oldest->second->last_used) oldest = it;
  if (oldest == uploads.end() || steady_now() - oldest->second->last_used < kIdleSlotSeconds) return;
  spdlog::info("push: {}: idle, its slot goes to a new upload (staged files kept)", oldest->first);
  uploads.erase(oldest);
}

}  // namespace

UploadService::UploadService(UploadOptions options) : options_(std::move(options)) {
  remove_stale_staging(options_.store);
}
UploadService::~UploadService() = default;

api::PushStatus UploadService::begin(std::string_view bundle_bytes) {
  api::PushBundle bundle;
  try {
    bundle = api::parse_push_bundle(bundle_bytes, "push bundle");
  } catch (const Error& e) {
    throw error(e.code() == api::Errc::kTooLarge ? Errc::kTooLarge : Errc::kBadRequest, e.what());
  }
  const fs::path dir = manifest::layout::release_dir(options_.store, bundle.board, bundle.version);
  if (auto present = read_optional(dir / manifest::layout::kManifestFile, api::kMaxManifestBytes)) {
    if (*present != bundle.manifest)
      throw error(Errc::kConflict, "push " + bundle.board + "/" + bundle.version + ": the store already holds " +
                                       "this version with another manifest (" + dir.string() + ")");
    return {bundle.board, bundle.version, "present", {}, {}, {}};
  }
  std::shared_ptr<Upload> upload = open(bundle);
  std::lock_guard lock(upload->mutex);
  prepare_staging(*upload);
  api::PushStatus s = missing(options_.store, *upload);
  spdlog::info("push: {} (sequence {}) verified; {} of {} chunks, {} firmware and {} release files to come",
               upload->key(), upload->manifest().sequence, s.missing_chunks.size(), upload->chunks.size(),
               s.missing_firmware.size(), s.missing_files.size());
  return s;
}

std::shared_ptr<UploadService::Upload> UploadService::open(const api::PushBundle& bundle) {
  std::shared_ptr<Upload> upload = verify_bundle(bundle, options_);
  std::lock_guard lock(mutex_);
  auto it = uploads_.find(upload->key());
  if (it == uploads_.end() && uploads_.size() >= api::kMaxUploadsInProgress) evict_idle(uploads_);
  if (it == uploads_.end() && uploads_.size() >= api::kMaxUploadsInProgress)
    throw error(Errc::kBusy, "push " + upload->key() + ": " + std::to_string(uploads_.size()) +
                                 " uploads already open (at most " + std::to_string(api::kMaxUploadsInProgress) +
                                 "); try again later");
  if (it != uploads_.end() && it->second->bundle == upload->bundle) {
    it->second->last_used = steady_now();
    return it->second;
  }
  upload->last_used = steady_now();
  uploads_[upload->key()] = upload;
  return upload;
}


std::shared_ptr<UploadService::Upload> UploadService::find(const std::string& board, const std::string& version) {
  std::lock_guard lock(mutex_);
  auto it = uploads_.find(board + "/" + version);
  if (it == uploads_.end())
    throw error(Errc::kNotFound, "push " + board + "/" + version + ": no upload open (POST " +
                                     api::kUploadsPath + " first)");
  it->second->last_used = steady_now();
  return it->second;
}

api::PushStatus UploadService::status(const std::string& board, const std::string& version) {
  std::shared_ptr<Upload> u = find(board, version);
  std::lock_guard lock(u->mutex);
  return missing(options_.store, *u);
}

void UploadService::put_chunk(const std::string& board, const std::string& version, const std::string& hex,
                              std::string_view body) {
  std::shared_ptr<Upload> u = find(board, version);
  auto it = u->chunks.find(hex);
  if (it == u->chunks.end())
    throw error(Errc::kNotFound, "push " + u->key() + ": chunk " + hex + " is not in the release");
  const manifest::Chunk& chunk = *it->second;
  const std::string where = "push " + u->key() + ": chunk " + hex;
  if (body.size() != chunk.stored_size)
    throw error(Errc::kBadRequest, where + ": " + std::to_string(body.size()) + " bytes, the signed stored_size is " +
                                       std::to_string(chunk.stored_size));
  thread_local manifest::ChunkDecoder decoder;
  thread_local std::vector<std::uint8_t> plain;
  try {
    // Both hashes: the stored bytes are the signed ones, and they decode to the chunk's `hash`
    // (its name in the store, and what a flasher's scan of a disk compares).
    decoder.decode(as_bytes(body), chunk, &plain, nullptr, manifest::RawCheck::kAlways);
  } catch (const Error& e) {
    throw error(Errc::kBadRequest, where + ": refused: " + e.what());
  }
  write_file_replace(staged_chunk_file(u->staging, hex), body);
}

void UploadService::put_firmware(const std::string& board, const std::string& version, const std::string& name,
                                 std::string_view body) {
  std::shared_ptr<Upload> u = find(board, version);
  const std::string where = "push " + u->key() + ": firmware " + name;
  for (const auto& fw : u->manifest().firmware) {
    if (fw.name != name) continue;
    stage_signed_file(where, body, {fw.size, fw.hash}, u->staging / "firmware" / name);
    return;
  }
  throw error(Errc::kNotFound, where + " is not in the release");
}

void UploadService::put_file(const std::string& board, const std::string& version, const std::string& name,
                             std::string_view body) {
  std::shared_ptr<Upload> u = find(board, version);
  const std::string where = "push " + u->key() + ": release file " + name;
  for (const auto& f : manifest::listed_release_files(u->manifest())) {
    if (f.name != name) continue;
    stage_signed_file(where, body, *f.ref, u->staging / "files" / name);
    return;
  }
  throw error(Errc::kNotFound, where + " is not listed in the signed manifest");
}

api::PushStatus UploadService::commit(const std::string& board, const std::string& version) {
  std::shared_ptr<Upload> u = find(board, version);
  {
    std::lock_guard lock(u->mutex);
    api::PushStatus s = missing(options_.store, *u);
    if (!s.missing_chunks.empty() || !s.missing_firmware.empty() || !s.missing_files.empty()) {
      throw error(Errc::kConflict,
                  "push " + u->key() + ": cannot commit, " + std::to_string(s.missing_chunks.size()) + " chunks, " +
                      std::to_string(s.missing_firmware.size()) + " firmware and " +
                      std::to_string(s.missing_files.size()) + " release files missing" +
                      (s.missing_chunks.empty() ? "" : " (first: chunk " + s.missing_chunks.front() + ")") +
                      (s.missing_files.empty() ? "" : " (first file: " + s.missing_files.front() + ")"));
    }
    commit_upload(options_.store, *u);
  }
  {
    std::lock_guard lock(mutex_);
    if (auto it = uploads_.find(u->key()); it != uploads_.end() && it->second == u) uploads_.erase(it);
  }
  spdlog::info("push: {} (sequence {}) committed into {}", u->key(), u->manifest().sequence, options_.store.string());
  if (options_.on_commit) options_.on_commit();
  return {board, version, "committed", {}, {}, {}};
}

void UploadService::abort(const std::string& board, const std::string& version) {
  std::shared_ptr<Upload> u;
  {
    std::lock_guard lock(mutex_);
    if (auto it = uploads_.find(board + "/" + version); it != uploads_.end()) {
      u = it->second;
      uploads_.erase(it);
    }
  }
  std::unique_lock<std::mutex> lock;
  if (u) lock = std::unique_lock(u->mutex);
  std::error_code ec;
  fs::remove_all(options_.store / ".uploads" / board / version, ec);
  fs::remove(options_.store / ".uploads" / board, ec);  // these two only when empty
  fs::remove(options_.store / ".uploads", ec);
  spdlog::info("push: {}/{} aborted; staging removed", board, version);
}

}  // namespace ironstone::seeder
