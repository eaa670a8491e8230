// ironstone-build push: a published release of a local store, uploaded to a running seeder
// (docs/http-api.md, "Pushing a release"; the seeder's side is seeder/upload.h).
//
// The release's signed files go in one bundle (api/push.h): the manifest, its signature, the
// torrent, and the channel pointer when the store's pointer names this very manifest. The seeder
// verifies them against its own trusted keys and answers which chunks and firmware files it still
// lacks; only those are sent (so a push that was interrupted resumes where it stopped, and a
// release sharing chunks with one the seeder has sends only the new ones), then the seeder is
// asked to commit. A release the seeder already holds is "present" and nothing is sent.
//
// Errors: Error(builder::Errc::kPush) naming the release, the seeder URL and, for a chunk, its
// hash and file: "push rpi5/1.0 to http://nas:8080/: chunk 0a1b… (store/chunks/0a/0a1b….zst):
// HTTP 400: …". When the seeder refuses a chunk (corrupt in the local store) the upload is
// aborted on the seeder (DELETE), so nothing of it is left there; other failures (network, the
// seeder going away) leave the staged part for the next push to resume. kNotFound: no such
// release; kUsage: an ambiguous choice (several boards, no --board); kStore: local files.
// Thread safety: reentrant; blocks the calling thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "api/push.h"
#include "builder/store.h"

namespace ironstone::builder {

struct PushOptions {
  std::filesystem::path store;
  std::string seeder;                         // base URL, "http://nas:8080" (a path is ignored)
  std::optional<std::string> board, version;  // none: the store's one board; its highest sequence
  std::string token;                          // the seeder's upload token; empty: none sent
  std::chrono::milliseconds timeout{600'000};  // per request
  // Called after every chunk or firmware file sent: bytes sent so far of `total` to send.
  std::function<void(std::uint64_t sent, std::uint64_t total)> progress;
};

struct PushResult {
  std::string board, version;
  std::string state;  // "committed", or "present" (the seeder had it already)
  std::size_t chunks_total = 0, chunks_sent = 0, firmware_sent = 0, files_sent = 0;  // files: SBOM, recipe, build log
  std::uint64_t bytes_sent = 0;  // chunk, firmware and release-file bytes
};

// The release push_release() pushes (above): board and version as given, or chosen.
ReleaseRef select_push_release(const Store& store, const std::optional<std::string>& board,
                               const std::optional<std::string>& version);
// The bundle of a release of the store (api/push.h).
api::PushBundle make_push_bundle(const Store& store, const ReleaseRef& release);
PushResult push_release(const PushOptions& options);
// The token file's first line, trimmed (the seeder's --upload-token-file). Throws kUsage.
std::string read_token_file(const std::filesystem::path& file);

}  // namespace ironstone::builder
