// Releases pushed to the seeder (ironstone-build push; docs/http-api.md, "Pushing a release").
// The signature is the credential: a release is accepted only when its manifest verifies against
// the store's keys/*.pub (signature, trusted comment, not expired, a sequence not lower than the
// highest the store holds for that board and channel), its torrent is the one the manifest signs,
// its channel pointer (optional) verifies and pins that manifest, and every chunk and firmware
// payload, and every release file the manifest lists (SBOM, recipe, build log), hashes to its
// signed value. The upload token (--upload-token-file) is a second factor
// checked by the routes (seeder/routes_upload.cpp), not here.
//
// Staging: an upload lives in <store>/.uploads/<board>/<version>/ (manifest.json, chunks/,
// firmware/, files/), which nothing serves or seeds. begin() answers what is still missing — chunks the
// store already has or that were staged before (an interrupted push, even across a seeder
// restart: staged files are kept) are not asked for again. commit() then moves the release into
// the store as publish does (docs/release-format.md): the release directory is written as
// releases/<board>/.tmp-<version>-push-<pid>/, every file is made durable (syncfs), and the
// directory is renamed into place; the channel pointer follows, unless the store's pointer has a
// higher sequence. On any failure everything commit() put into the store is taken out again (new
// chunk files go back to staging), so the store shows the whole release or nothing of it.
// commit() holds the store's .lock (flock, like publish and gc): busy -> Errc::kBusy.
//
// Errors: ironstone::Error with seeder::Errc, naming the release and the chunk, file or field:
// kBadRequest (malformed bundle, a chunk of the wrong size or hash), kTooLarge, kRefused
// (verification), kNotFound (no such upload, a chunk not in the release), kConflict (commit with
// parts missing; another manifest under that version), kBusy, kStore (file system).
//
// Thread safety: every method may be called from any number of threads; one upload's calls are
// serialised by its own mutex, chunk writes of one upload may run in parallel.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "api/push.h"
#include "manifest/minisign.h"

namespace ironstone::seeder {

struct UploadOptions {
  std::filesystem::path store;                    // canonical
  std::vector<manifest::PublicKey> trusted_keys;  // the store's keys/*.pub; empty: every push is refused
  std::function<void()> on_commit;                // after a release is in place (the swarm's scan_now)
  std::function<std::int64_t()> now;              // unix seconds; unset: the system clock
};

class UploadService {
 public:
  explicit UploadService(UploadOptions options);
  ~UploadService();

  // POST /v1/uploads: verifies the bundle (api/push.h) and opens (or resumes) its upload.
  api::PushStatus begin(std::string_view bundle_bytes);
  // GET /v1/uploads/<board>/<version>.
  api::PushStatus status(const std::string& board, const std::string& version);
  // PUT .../chunks/<hex>.zst, .../firmware/<name>: checked, then staged.
  void put_chunk(const std::string& board, const std::string& version, const std::string& hex, std::string_view body);
  void put_firmware(const std::string& board, const std::string& version, const std::string& name,
                    std::string_view body);
  // PUT .../files/<name>: a release file the signed manifest lists (api::kReleaseFiles), checked
  // against its signed size and BLAKE2b-256, then staged.
  void put_file(const std::string& board, const std::string& version, const std::string& name, std::string_view body);
  // POST .../commit: the release into the store (above); state "committed".
  api::PushStatus commit(const std::string& board, const std::string& version);
  // DELETE /v1/uploads/<board>/<version>: forgets the upload and removes its staging directory.
  void abort(const std::string& board, const std::string& version);

  struct Upload;  // upload.cpp

 private:
  std::shared_ptr<Upload> find(const std::string& board, const std::string& version);
  std::shared_ptr<Upload> open(const api::PushBundle& bundle);

  UploadOptions options_;
  std::mutex mutex_;  // guards uploads_
  std::map<std::string, std::shared_ptr<Upload>> uploads_;  // by "board/version"
};

}  // namespace ironstone::seeder
