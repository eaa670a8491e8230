// URL paths of the seeder's HTTP API (docs/http-api.md), in one place for both sides:
// the builders give the path a client requests (seeder_client.cpp, release_fetch.cpp, the
// tests), the route patterns (namespace route) what the seeder registers on its Router
// ({name} is one validated path segment, seeder/routes.h). Segments are put in as they
// are: callers pass names already validated (board, version, MAC, node id).
//
// The node lifecycle (POST /v1/nodes/<node-id>/lifecycle, the gold image's first-boot
// reports) and history (GET /v1/nodes/<node-id>/history) are here beside node_events_path();
// their documents are in api/node_event.h (parse_lifecycle_report, parse_node_event).
//
// Thread safety: pure functions and constants.
#pragma once

#include <string>
#include <string_view>

namespace ironstone::api {

inline constexpr std::string_view kSignatureSuffix = ".minisig";

inline constexpr const char* kInfoPath = "/v1/info";
inline constexpr const char* kReleasesPath = "/v1/releases";
inline constexpr const char* kAnnouncePath = "/announce";
inline constexpr const char* kFleetPath = "/v1/fleet";
inline constexpr const char* kFleetSummaryPath = "/v1/fleet/summary";
inline constexpr const char* kMetricsPath = "/metrics";
inline constexpr const char* kDashboardPath = "/";

// "/v1/channels/rpi5/stable.json"
std::string channel_path(std::string_view board, std::string_view channel);
// "<path>.minisig": the signature beside a channel pointer or manifest.
std::string signature_path(std::string_view path);
// "/v1/releases/rpi5/2026.11.1/", the directory of a release's files.
std::string release_dir_path(std::string_view board, std::string_view version);
std::string manifest_path(std::string_view board, std::string_view version);  // …/manifest.json
std::string torrent_path(std::string_view board, std::string_view version);   // …/release.torrent
std::string firmware_path(std::string_view board, std::string_view version, std::string_view name);
// "/chunks/ab/ab….zst" for the lower-case hex BLAKE2b of a chunk (also its path in the
// torrent, manifest::layout::chunk_relpath, since the store root is the web seed root).
std::string chunk_path(std::string_view hash_hex);
// "/v1/nodes/rack1-n03/events"
std::string node_events_path(std::string_view node_id);
// "/v1/nodes/node-dca632010203/lifecycle" (a MAC works too)
std::string node_lifecycle_path(std::string_view node_id);
// "/v1/nodes/node-dca632010203/history" (a MAC works too)
std::string node_history_path(std::string_view node_id);
// "/v1/nodes/dc:a6:32:01:02:03/identity", with "?with=order_key" when asked (api/node_identity.h)
std::string node_identity_path(std::string_view mac, bool with_order_key = false);
inline constexpr std::string_view kWithOrderKeyQuery = "with=order_key";  // the seeder reads with=order_key
// Re-flash orders (api/node_order.h): "/v1/nodes/rack1-n03/order" (a node polls it), and the
// operator's "/v1/fleet/reflash".
std::string node_order_path(std::string_view node_id);
inline constexpr const char* kFleetReflashPath = "/v1/fleet/reflash";

// Pushing a release (api/push.h): "/v1/uploads" takes the bundle; the upload of a release
// is then "/v1/uploads/rpi5/2026.11.1" (GET: its status, DELETE: abort), with
// ".../chunks/<hex>.zst", ".../firmware/<name>" and ".../files/<name>" (PUT; a name of
// api::kReleaseFiles) and ".../commit" (POST).
inline constexpr const char* kUploadsPath = "/v1/uploads";
std::string upload_path(std::string_view board, std::string_view version);
std::string upload_chunk_path(std::string_view board, std::string_view version, std::string_view hash_hex);
std::string upload_firmware_path(std::string_view board, std::string_view version, std::string_view name);
std::string upload_file_path(std::string_view board, std::string_view version, std::string_view name);
std::string upload_commit_path(std::string_view board, std::string_view version);

namespace route {
inline constexpr const char* kChannel = "/v1/channels/{board}/{channel}.json";
inline constexpr const char* kChannelSignature = "/v1/channels/{board}/{channel}.json.minisig";
inline constexpr const char* kManifest = "/v1/releases/{board}/{version}/manifest.json";
inline constexpr const char* kManifestSignature = "/v1/releases/{board}/{version}/manifest.json.minisig";
inline constexpr const char* kTorrent = "/v1/releases/{board}/{version}/release.torrent";
inline constexpr const char* kFirmware = "/v1/releases/{board}/{version}/firmware/{firmware}";
inline constexpr const char* kSbom = "/v1/releases/{board}/{version}/sbom.spdx.json";
inline constexpr const char* kRecipe = "/v1/releases/{board}/{version}/recipe.yaml";
inline constexpr const char* kBuildLog = "/v1/releases/{board}/{version}/build.log";
inline constexpr const char* kChunk = "/chunks/{aa}/{hex}.zst";
inline constexpr const char* kNodeEvents = "/v1/nodes/{node}/events";
inline constexpr const char* kNodeIdentity = "/v1/nodes/{mac}/identity";
inline constexpr const char* kNodeLifecycle = "/v1/nodes/{node_or_mac}/lifecycle";
inline constexpr const char* kNodeHistory = "/v1/nodes/{node_or_mac}/history";
inline constexpr const char* kNodeOrder = "/v1/nodes/{node_or_mac}/order";
inline constexpr const char* kUpload = "/v1/uploads/{board}/{version}";
inline constexpr const char* kUploadChunk = "/v1/uploads/{board}/{version}/chunks/{hex}.zst";
inline constexpr const char* kUploadFirmware = "/v1/uploads/{board}/{version}/firmware/{firmware}";
inline constexpr const char* kUploadFile = "/v1/uploads/{board}/{version}/files/{file}";
inline constexpr const char* kUploadCommit = "/v1/uploads/{board}/{version}/commit";
}  // namespace route

}  // namespace ironstone::api
