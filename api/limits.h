// Size limits of everything that crosses the seeder <-> flasher HTTP API (docs/http-api.md).
// One place for each: the side that sends, the side that receives and the parser all use
// the same constant, so a document one side accepts is never refused by the other.
// Thread safety: constants.
#pragma once

#include <cstddef>

namespace ironstone::api {

// Release files (GET /v1/channels/..., /v1/releases/...). The parsers in manifest/ enforce
// these too, so a file the flasher can fetch is a file it can parse.
inline constexpr std::size_t kMaxPointerBytes = 64 * 1024;          // channel pointer JSON
inline constexpr std::size_t kMaxManifestBytes = 64 * 1024 * 1024;  // manifest.json
// release.torrent: 16 MiB, for the publisher's check, the seeder loading its store and the
// flasher's fetch alike (the seeder used to take 64 MiB, the manifest code 16 MiB). The lower
// one because it is the one the trust boundary enforces (manifest::check_torrent): a seeder
// taking more would only seed torrents no flasher accepts. The torrent grows by a few hundred
// bytes per chunk (v1 file + pad file + v2 file-tree entry + 20-byte v1 piece hash), so
// 16 MiB holds some 50000 chunks, about 200 GiB of image at the default 4 MiB chunk size;
// libtorrent's own default buffer limit (10 MB) would be lower still.
inline constexpr std::size_t kMaxTorrentBytes = 16 * 1024 * 1024;

// GET /v1/info.
inline constexpr std::size_t kMaxInfoBytes = 64 * 1024;
// POST /v1/nodes/<node-id>/events: the request body (the seeder's --max-body default, which
// bounds every request body; events are its only POST) and the reply (the summary + "ok").
inline constexpr std::size_t kMaxEventBytes = 64 * 1024;
inline constexpr std::size_t kMaxSummaryBytes = 1024 * 1024;  // GET /v1/fleet/summary
inline constexpr std::size_t kMaxEventReplyBytes = kMaxSummaryBytes;
// POST /v1/nodes/<node-id>/lifecycle: the body (CONTRACT-firstboot) and its "reason" field.
inline constexpr std::size_t kMaxLifecycleBytes = 4 * 1024;
inline constexpr std::size_t kMaxLifecycleReasonBytes = 1024;
// GET /v1/nodes/<mac>/identity (api/node_identity.h).
inline constexpr std::size_t kMaxIdentityBytes = 256 * 1024;
// GET /v1/fleet as the flasher reads it (api/fleet.h), and the nodes in it: the seeder
// tracks at most kMaxFleetNodes distinct nodes (more: 503 to the event).
inline constexpr std::size_t kMaxFleetBytes = 4 * 1024 * 1024;
inline constexpr std::size_t kMaxFleetNodes = 4096;

// Pushing a release to a seeder (ironstone-build push, api/push.h, docs/http-api.md "Pushing
// a release"). The bundle (POST /v1/uploads) carries the release's signed files: it is at most
// their limits together plus its few header lines. A signature file is at most
// kMaxSignatureBytes (manifest::kMaxMinisignFileBytes, checked there to be equal).
inline constexpr std::size_t kMaxSignatureBytes = 16 * 1024;
inline constexpr std::size_t kMaxPushHeaderBytes = 4096;
inline constexpr std::size_t kMaxPushBundleBytes =
    kMaxManifestBytes + kMaxTorrentBytes + kMaxPointerBytes + 2 * kMaxSignatureBytes + kMaxPushHeaderBytes;
// PUT /v1/uploads/<board>/<version>/chunks/<hex>.zst: one stored chunk, at most the largest
// chunk size (manifest::kMaxChunkSize); the seeder also refuses anything but its signed
// stored_size. PUT .../firmware/<name>: one firmware payload.
inline constexpr std::size_t kMaxPushChunkBytes = 64 * 1024 * 1024;
inline constexpr std::size_t kMaxPushFirmwareBytes = 64 * 1024 * 1024;
// A release file (SBOM, recipe, build log): manifest::kMaxSbomBytes / kMaxAuditFileBytes.
inline constexpr std::size_t kMaxPushFileBytes = 64 * 1024 * 1024;
// The upload's status (the answer to POST /v1/uploads and GET /v1/uploads/<board>/<version>):
// 67 bytes per missing chunk, and a torrent holds at most some 50000 chunks.
inline constexpr std::size_t kMaxPushStatusBytes = 8 * 1024 * 1024;
// The seeder's --upload-token-file (one line), sent as "Authorization: Bearer <token>".
inline constexpr std::size_t kMaxUploadTokenBytes = 1024;
// Uploads a seeder keeps open at once (more: 503 to the next POST /v1/uploads).
inline constexpr std::size_t kMaxUploadsInProgress = 4;

}  // namespace ironstone::api
