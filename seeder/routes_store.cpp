#include <algorithm>
#include <nlohmann/json.hpp>

#include "api/paths.h"
#include "api/push.h"
#include "manifest/layout.h"
#include "manifest/manifest.h"
#include "seeder/file_response.h"
#include "seeder/routes.h"
#include "api/node_identity.h"

namespace ironstone::seeder {

namespace fs = std::filesystem;

namespace {

bool is_hex_lower(std::string_view s, std::size_t n) {
  return s.size() == n && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool valid_firmware_name(std::string_view s) {
  if (s.empty() || s.size() > 128 || s == "." || s == "..") return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kSignature = "text/plain; charset=utf-8";
constexpr std::string_view kTorrent = "application/x-bittorrent";
constexpr std::string_view kBinary = "application/octet-stream";
constexpr std::string_view kText = "text/plain; charset=utf-8";

// No chunk file is larger (a chunk's signed length limit, with room for zstd's worst case).
constexpr std::uint64_t kMaxStoredChunk = 2ull * manifest::kMaxChunkSize;

// Peer mode: the chunk read whole, checked, and served from the checked bytes.
Response serve_checked(const Request& r, const fs::path& store, const fs::path& rel, const std::string& hex,
                       const ChunkCheck& check) {
  auto bytes = read_store_file(store, rel, kMaxStoredChunk);
  if (!bytes) return error_response(http::status::not_found, "no such file");
  if (!check(hex, *bytes)) return error_response(http::status::not_found, "chunk " + hex + " failed verification");
  return serve_bytes(r, std::move(*bytes), kBinary);
}

}  // namespace

nlohmann::json list_releases(const fs::path& store) {
  nlohmann::json out = nlohmann::json::array();
  std::error_code ec;
  std::vector<std::pair<std::string, std::string>> found;
  for (fs::directory_iterator b(store / "releases", ec), end; !ec && b != end; b.increment(ec)) {
    const std::string board = b->path().filename().string();
    if (!manifest::valid_board_name(board)) continue;
    std::error_code ec2;
    for (fs::directory_iterator v(b->path(), ec2); !ec2 && v != end; v.increment(ec2)) {
      const std::string version = v->path().filename().string();
      std::error_code ec3;
      if (version.starts_with('.') || !manifest::valid_version_name(version) ||
          !fs::is_regular_file(v->path() / manifest::layout::kManifestFile, ec3)) {
        continue;
      }
      found.emplace_back(board, version);
    }
  }
  std::sort(found.begin(), found.end());
  for (const auto& [board, version] : found) {
    const fs::path dir = manifest::layout::release_dir(store, board, version);
    std::error_code e;
    out.push_back({{"board", board},
                   {"version", version},
                   {"manifest", api::manifest_path(board, version)},
                   {"signature", api::signature_path(api::manifest_path(board, version))},
                   {"torrent", api::torrent_path(board, version)},
                   {"signed", fs::is_regular_file(dir / (std::string(manifest::layout::kManifestFile) +
                                                         manifest::layout::kSignatureSuffix),
                                                  e)}});
  }
  return out;
}

void define_route_params(Router& router) {
  router.define_param("board", [](std::string_view s) { return manifest::valid_board_name(s); });
  router.define_param("channel", [](std::string_view s) { return manifest::valid_board_name(s); });
  router.define_param("version", [](std::string_view s) { return manifest::valid_version_name(s); });
  router.define_param("firmware", valid_firmware_name);
  router.define_param("file", [](std::string_view s) { return api::valid_release_file_name(s); });
  router.define_param("aa", [](std::string_view s) { return is_hex_lower(s, 2); });
  router.define_param("hex", [](std::string_view s) { return is_hex_lower(s, 64); });
  router.define_param("node", [](std::string_view s) { return valid_node_id(s); });
  router.define_param("peer", [](std::string_view s) { return valid_node_id(s); });
  router.define_param("mac", [](std::string_view s) { return api::canonical_mac(s).has_value(); });
  router.define_param("node_or_mac",
                      [](std::string_view s) { return valid_node_id(s) || api::canonical_mac(s).has_value(); });
}

void add_store_routes(Router& router, const fs::path& store, std::atomic<std::uint64_t>& chunk_bytes,
                      ChunkCheck check) {
  using V = http::verb;
  const std::string sig = manifest::layout::kSignatureSuffix;

  router.add({V::get}, api::route::kChannel, [store](const Request& r, const Params& p) {
    return serve_file(r, store, fs::path("channels") / p[0] / (p[1] + ".json"), kJson);
  });
  router.add({V::get}, api::route::kChannelSignature,
             [store, sig](const Request& r, const Params& p) {
               return serve_file(r, store, fs::path("channels") / p[0] / (p[1] + ".json" + sig), kSignature);
             });

  const auto release_file = [store](std::string name, std::string_view type) {
    return [store, name = std::move(name), type](const Request& r, const Params& p) {
      return serve_file(r, store, fs::path("releases") / p[0] / p[1] / name, type);
    };
  };
  const std::string manifest = manifest::layout::kManifestFile;
  router.add({V::get}, api::route::kManifest, release_file(manifest, kJson));
  router.add({V::get}, api::route::kManifestSignature,
             release_file(manifest + sig, kSignature));
  router.add({V::get}, api::route::kTorrent,
             release_file(manifest::layout::kTorrentFile, kTorrent));
  router.add({V::get}, api::route::kSbom, release_file(manifest::kSbomFile, kJson));
  router.add({V::get}, api::route::kRecipe, release_file(manifest::kRecipeFile, kText));
  router.add({V::get}, api::route::kBuildLog, release_file(manifest::kBuildLogFile, kText));
  router.add({V::get}, api::route::kFirmware,
             [store](const Request& r, const Params& p) {
               return serve_file(r, store, fs::path("releases") / p[0] / p[1] / "firmware" / p[2], kBinary);
             });

  router.add({V::get}, api::kReleasesPath, [store](const Request&, const Params&) {
    return json_response(nlohmann::json{{"releases", list_releases(store)}}.dump() + "\n");
  });

  // BEP 19 web seed: libtorrent requests <url>chunks/<aa>/<hex>.zst with Range.
  router.add({V::get}, api::route::kChunk, [store, &chunk_bytes, check](const Request& r, const Params& p) {
    if (!p[1].starts_with(p[0]))
      return error_response(http::status::not_found, "chunk is not in that directory");
    const fs::path rel = fs::path("chunks") / p[0] / (p[1] + ".zst");
    Response res = check ? serve_checked(r, store, rel, p[1], check) : serve_file(r, store, rel, kBinary);
    if (r.method() == http::verb::get) {
      if (auto* f = std::get_if<FileResponse>(&res)) chunk_bytes.fetch_add(f->body().length);
      const auto* s = std::get_if<StringResponse>(&res);
      if (s && (s->result() == http::status::ok || s->result() == http::status::partial_content))
        chunk_bytes.fetch_add(s->body().size());
    }
    return res;
  });
}

}  // namespace ironstone::seeder
