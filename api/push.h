// Pushing a release to a running seeder (ironstone-build push; docs/http-api.md, "Pushing a
// release"): the two documents of that exchange, as both sides read and write them.
//
// The bundle (the body of POST /v1/uploads) carries a release's signed files, byte for byte,
// in a framing that needs no escaping:
//
//   ironstone-push 1\n
//   board rpi5\n  channel stable\n  version 2026.11.1\n        (one per line, in this order)
//   manifest <N>\n<N bytes>  signature <N>\n<N bytes>  torrent <N>\n<N bytes>
//   [pointer <N>\n<N bytes>  pointer-signature <N>\n<N bytes>]   (the channel pointer, optional)
//
// Sections come in this order, each at most once; a length is decimal without leading zeros
// and at most the section's limit (api/limits.h); nothing may follow the last section. The
// bundle is NOT trusted by being well-formed: the seeder verifies the signatures.
//
// The status (the answer to POST /v1/uploads and GET /v1/uploads/<board>/<version>) says what
// the seeder still lacks:
//   {"board":"rpi5","version":"2026.11.1","state":"pending","missing_chunks":["<hex>",...],
//    "missing_firmware":["u-boot.img"],"missing_files":["sbom.spdx.json","build.log"]}
// `missing_files` names the release-directory files the signed manifest lists (its SBOM, and the
// recipe and build log of its provenance: kReleaseFiles) that the seeder has not been sent yet;
// a seeder older than that field sends none, and parse_push_status then reads it as empty.
// `state`: "pending" (the upload is open), "present" (the seeder already holds this release,
// the same manifest), "committed" (the answer to the commit).
//
// Parsers are strict: parse_push_bundle throws api::Errc::kPush naming the line or section
// ("push bundle: section 'torrent': length 17000000 exceeds 16777216"), kTooLarge above
// kMaxPushBundleBytes; parse_push_status throws kPush naming the field (unknown fields are
// allowed there: a newer seeder may say more).
// Thread safety: plain values and pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ironstone::api {

struct PushBundle {
  std::string board, channel, version;
  std::string manifest, signature, torrent;
  std::string pointer, pointer_signature;  // both empty: no channel pointer
  bool operator==(const PushBundle&) const = default;
};

std::string serialize_push_bundle(const PushBundle& bundle);
PushBundle parse_push_bundle(std::string_view bytes, std::string_view source);

struct PushStatus {
  std::string board, version, state;
  std::vector<std::string> missing_chunks;    // 64 lower-case hex digits each
  std::vector<std::string> missing_firmware;  // firmware names
  std::vector<std::string> missing_files;     // names from kReleaseFiles
  bool operator==(const PushStatus&) const = default;
};

std::string serialize_push_status(const PushStatus& status);
PushStatus parse_push_status(std::string_view json, std::string_view source);

// Names as the routes accept them (docs/http-api.md, "Segment rules"): shared by the parsers
// and the seeder. board and channel [a-z0-9-]{1,64}; version [A-Za-z0-9._+-]{1,64}, not
// starting with '.'; a chunk hash 64 lower-case hex digits; firmware [A-Za-z0-9._-]{1,128},
// not "." or "..".
bool valid_push_board(std::string_view s);
bool valid_push_version(std::string_view s);
bool valid_chunk_hex(std::string_view s);
bool valid_firmware_name(std::string_view s);

// The files of a release directory beside manifest, signature and torrent that a push carries
// when the signed manifest lists them (manifest/manifest.h: kSbomFile, kRecipeFile,
// kBuildLogFile); the only names PUT .../files/<name> accepts.
inline constexpr const char* kReleaseFiles[] = {"sbom.spdx.json", "recipe.yaml", "build.log"};
bool valid_release_file_name(std::string_view s);

}  // namespace ironstone::api
