#include "api/paths.h"

namespace ironstone::api {

namespace {
std::string join(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (auto p : parts) out += p;
  return out;
}
}  // namespace

std::string channel_path(std::string_view board, std::string_view channel) {
  return join({"/v1/channels/", board, "/", channel, ".json"});
}

std::string signature_path(std::string_view path) { return join({path, kSignatureSuffix}); }

std::string release_dir_path(std::string_view board, std::string_view version) {
  return join({"/v1/releases/", board, "/", version, "/"});
}

std::string manifest_path(std::string_view board, std::string_view version) {
  return release_dir_path(board, version) + "manifest.json";
}

std::string torrent_path(std::string_view board, std::string_view version) {
  return release_dir_path(board, version) + "release.torrent";
}

std::string firmware_path(std::string_view board, std::string_view version, std::string_view name) {
  return join({release_dir_path(board, version), "firmware/", name});
}

std::string chunk_path(std::string_view hash_hex) {
  return join({"/chunks/", hash_hex.substr(0, 2), "/", hash_hex, ".zst"});
}

std::string node_events_path(std::string_view node_id) { return join({"/v1/nodes/", node_id, "/events"}); }

std::string node_lifecycle_path(std::string_view node_id) { return join({"/v1/nodes/", node_id, "/lifecycle"}); }

std::string node_history_path(std::string_view node_id) { return join({"/v1/nodes/", node_id, "/history"}); }

std::string node_identity_path(std::string_view mac, bool with_order_key) {
  return join({"/v1/nodes/", mac, "/identity", with_order_key ? "?" : "", with_order_key ? kWithOrderKeyQuery : ""});
}

std::string node_order_path(std::string_view node_id) { return join({"/v1/nodes/", node_id, "/order"}); }

std::string upload_path(std::string_view board, std::string_view version) {
  return join({kUploadsPath, "/", board, "/", version});
}

std::string upload_chunk_path(std::string_view board, std::string_view version, std::string_view hash_hex) {
  return join({upload_path(board, version), "/chunks/", hash_hex, ".zst"});
}

std::string upload_firmware_path(std::string_view board, std::string_view version, std::string_view name) {
  return join({upload_path(board, version), "/firmware/", name});
}

std::string upload_file_path(std::string_view board, std::string_view version, std::string_view name) {
  return join({upload_path(board, version), "/files/", name});
}

std::string upload_commit_path(std::string_view board, std::string_view version) {
  return upload_path(board, version) + "/commit";
}

}  // namespace ironstone::api
