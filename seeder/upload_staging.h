// The pieces of seeder/upload.h shared by upload.cpp (verification, staging) and
// upload_commit.cpp (moving a staged release into the store). Internal to the seeder.
// Slots: at most api::kMaxUploadsInProgress uploads are open; one idle for a minute gives its slot
// to a new one (its staged files stay, so the next push of it resumes); staging directories
// untouched for a week are removed when the UploadService starts.
// Thread safety: an Upload is guarded by its own mutex (held by the callers of commit_upload).
#pragma once

#include <filesystem>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "manifest/trust.h"
#include "seeder/upload.h"

namespace ironstone::seeder {

struct UploadService::Upload {
  explicit Upload(manifest::VerifiedManifest m) : verified(std::move(m)) {}
  manifest::VerifiedManifest verified;
  api::PushBundle bundle;                                 // the files as pushed
  std::optional<manifest::ChannelPointer> pointer;        // verified, when the bundle had one
  std::map<std::string, const manifest::Chunk*> chunks;   // hex -> entry of verified.manifest()
  std::filesystem::path staging;                          // <store>/.uploads/<board>/<version>
  std::mutex mutex;
  std::atomic<std::int64_t> last_used{0};  // steady-clock seconds of the last request for it

  const manifest::Manifest& manifest() const { return verified.manifest(); }
  std::string key() const { return manifest().board + "/" + manifest().version; }
};

// <store>/chunks/<aa>/<hex>.zst and its staged twin <staging>/chunks/<hex>.zst.
std::filesystem::path store_chunk_file(const std::filesystem::path& store, std::string_view hex);
std::filesystem::path staged_chunk_file(const std::filesystem::path& staging, std::string_view hex);

// Writes `data` to a temporary name beside `path` and renames it into place (not fsynced: the
// commit syncs the store). Throws Error(Errc::kStore) naming the path.
void write_file_replace(const std::filesystem::path& path, std::string_view data);

// Moves the complete staged upload into the store (seeder/upload.h, "Staging"); the caller
// holds upload.mutex and has checked that nothing is missing. Throws (kBusy, kConflict, kStore)
// with the store as it was.
void commit_upload(const std::filesystem::path& store, UploadService::Upload& upload);

}  // namespace ironstone::seeder
