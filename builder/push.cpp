#include "builder/push.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "api/limits.h"
#include "api/paths.h"
#include "builder/errc.h"
#include "manifest/channel.h"
#include "manifest/hash.h"
#include "manifest/layout.h"
#include "swarm/http_client.h"

namespace ironstone::builder {

namespace fs = std::filesystem;

namespace {

// One exchange with the seeder; returns the response only when its status is 2xx.
class SeederLink {
 public:
  SeederLink(const PushOptions& o, std::string what) : what_(std::move(what)) {
    base_ = swarm::parse_url(o.seeder);
    options_.timeout = o.timeout;
    options_.max_body = api::kMaxPushStatusBytes;
    if (!o.token.empty()) options_.headers.emplace_back("Authorization", "Bearer " + o.token);
  }

  swarm::HttpResponse send(const std::string& method, const std::string& path, std::string_view body,
                           const std::string& content_type, const std::string& item = {}) {
    swarm::Url url = base_;
    url.target = path;
    options_.content_type = content_type;
    swarm::HttpResponse r;
    try {
      r = swarm::http_send(url, method, body, options_);
    } catch (const Error& e) {
      throw error(Errc::kPush, where(item) + e.what());
    }
    if (r.status < 200 || r.status >= 300) {
      last_status_ = r.status;
      throw error(Errc::kPush, where(item) + method + " " + url.text() + ": HTTP " + std::to_string(r.status) + " " +
                                   r.reason + ": " + error_text(r.body));
    }
    return r;
  }

  unsigned last_status() const { return last_status_; }
  std::string seeder_text() const {
    swarm::Url root = base_;
    root.target = "/";
    return root.text();
  }

 private:
  std::string where(const std::string& item) const {
    return "push " + what_ + " to " + seeder_text() + ": " + (item.empty() ? "" : item + ": ");
  }
  // The seeder's {"error": "..."}, else the body's start.
  static std::string error_text(const std::string& body) {
    try {
      auto doc = nlohmann::json::parse(body);
      if (doc.is_object() && doc.contains("error") && doc["error"].is_string()) return doc["error"].get<std::string>();
    } catch (const std::exception&) {
    }
    return body.substr(0, 200);
  }

  swarm::Url base_;
  swarm::RequestOptions options_;
  std::string what_;
  unsigned last_status_ = 0;
};

std::string read_file(const fs::path& p, std::size_t limit) { return read_text_file(p, limit); }

// The channel pointer and its signature when the store's pointer names this manifest; else empty.
std::pair<std::string, std::string> matching_pointer(const Store& store, const manifest::Manifest& m,
                                                     const std::string& manifest_bytes) {
  const fs::path file = manifest::layout::channel_file(store.root(), m.board, m.channel);
  std::error_code ec;
  if (!fs::exists(file, ec)) return {};
  std::string text = read_file(file, api::kMaxPointerBytes);
  const manifest::ChannelPointer p = manifest::parse_channel_pointer(text, file.string());
  const auto* b = reinterpret_cast<const std::uint8_t*>(manifest_bytes.data());
  if (p.version != m.version || p.manifest_hash != ironstone::blake2b256({b, manifest_bytes.size()})) return {};
  return {std::move(text), read_file(fs::path(file.string() + ".minisig"), api::kMaxSignatureBytes)};
}

// Sends the missing chunks, each read from the local store; returns the bytes sent.
void send_chunks(SeederLink& link, const Store& store, const manifest::Manifest& m, const api::PushStatus& status,
                 std::uint64_t total, PushResult& result, const PushOptions& o) {
  std::map<std::string, const manifest::Chunk*> by_hex;
  for (const auto& c : m.chunks) by_hex.emplace(c.hash.hex(), &c);
  for (const std::string& hex : status.missing_chunks) {
    auto it = by_hex.find(hex);
    if (it == by_hex.end())
      throw error(Errc::kPush, "push " + m.board + "/" + m.version + ": the seeder asks for chunk " + hex +
                                   ", which the release does not have");
    const fs::path file = store.root() / manifest::layout::chunk_relpath(it->second->hash);
    const std::string body = read_file(file, api::kMaxPushChunkBytes);
    link.send("PUT", api::upload_chunk_path(m.board, m.version, hex), body, "application/octet-stream",
              "chunk " + hex + " (" + file.string() + ")");
    ++result.chunks_sent;
    result.bytes_sent += body.size();
    if (o.progress) o.progress(result.bytes_sent, total);
  }
}

// A kind of named file a release directory holds besides its chunks: where it lies, its
// upload route, its size limit, the counter of those sent.
struct NamedFiles {
  const char* label;  // "firmware", "release file"
  fs::path dir;
  std::string (*upload_path)(std::string_view board, std::string_view version, std::string_view name);
  std::size_t limit;
  std::size_t PushResult::*sent;
};

// The files of `kind` the seeder lacks, each read from the release directory; the seeder
// checks them against the signed manifest.
void send_named(SeederLink& link, const ReleaseRef& ref, const std::vector<std::string>& names, const NamedFiles& kind,
                std::uint64_t total, PushResult& result, const PushOptions& o) {
  for (const std::string& name : names) {
    const fs::path file = kind.dir / name;
    const std::string body = read_file(file, kind.limit);
    link.send("PUT", kind.upload_path(ref.board, ref.version, name), body, "application/octet-stream",
              std::string(kind.label) + " " + name + " (" + file.string() + ")");
    ++(result.*kind.sent);
    result.bytes_sent += body.size();
    if (o.progress) o.progress(result.bytes_sent, total);
  }
}

// The signed size of a release file the manifest lists, 0 for another name.
std::uint64_t listed_size(const manifest::Manifest& m, const std::string& name) {
  for (const auto& f : manifest::listed_release_files(m))
    if (f.name == name) return f.ref->size;
  return 0;
}

std::uint64_t bytes_to_send(const manifest::Manifest& m, const api::PushStatus& s) {
  std::set<std::string> missing(s.missing_chunks.begin(), s.missing_chunks.end());
  std::uint64_t total = 0;
  for (const auto& c : m.chunks)
    if (missing.count(c.hash.hex())) total += c.stored_size;
  for (const auto& fw : m.firmware)
    if (std::find(s.missing_firmware.begin(), s.missing_firmware.end(), fw.name) != s.missing_firmware.end())
      total += fw.size;
  for (const std::string& name : s.missing_files) total += listed_size(m, name);
  return total;
}

}  // namespace

ReleaseRef select_push_release(const Store& store, const std::optional<std::string>& board,
                               const std::optional<std::string>& version) {
  std::vector<ReleaseRef> all = store.releases();
  std::set<std::string> boards;
  for (const auto& r : all) boards.insert(r.board);
  if (!board && boards.size() > 1) {
    std::string list;
    for (const auto& b : boards) list += (list.empty() ? "" : ", ") + b;
    throw error(Errc::kUsage, store.root().string() + " holds releases of several boards (" + list + "): give --board");
  }
  std::optional<ReleaseRef> best;
  std::uint64_t best_sequence = 0;
  for (const auto& r : all) {
    if ((board && r.board != *board) || (version && r.version != *version)) continue;
    const std::uint64_t seq = store.read_manifest(r).sequence;
    if (!best || seq > best_sequence) best = r, best_sequence = seq;
  }
  if (!best)
    throw error(Errc::kNotFound, store.root().string() + ": no release" + (board ? " of board " + *board : "") +
                                     (version ? " version " + *version : "") + " to push");
  return *best;
}

api::PushBundle make_push_bundle(const Store& store, const ReleaseRef& ref) {
  api::PushBundle b;
  b.manifest = read_file(ref.dir / manifest::layout::kManifestFile, api::kMaxManifestBytes);
  const manifest::Manifest m = manifest::parse_manifest(b.manifest, (ref.dir / "manifest.json").string());
  b.board = m.board;
  b.channel = m.channel;
  b.version = m.version;
  b.signature = read_file(ref.dir / "manifest.json.minisig", api::kMaxSignatureBytes);
  b.torrent = read_file(ref.dir / manifest::layout::kTorrentFile, api::kMaxTorrentBytes);
  std::tie(b.pointer, b.pointer_signature) = matching_pointer(store, m, b.manifest);
  return b;
}

PushResult push_release(const PushOptions& o) {
  const Store store(o.store);
  const ReleaseRef ref = select_push_release(store, o.board, o.version);
  const api::PushBundle bundle = make_push_bundle(store, ref);
  const manifest::Manifest m = manifest::parse_manifest(bundle.manifest, (ref.dir / "manifest.json").string());
  PushResult result{m.board, m.version, "", m.chunks.size(), 0, 0, 0, 0};
  SeederLink link(o, m.board + "/" + m.version);
  const auto begun = link.send("POST", api::kUploadsPath, api::serialize_push_bundle(bundle), "application/octet-stream");
  const api::PushStatus status = api::parse_push_status(begun.body, link.seeder_text() + " " + api::kUploadsPath);
  if (status.state == "present") {
    result.state = "present";
    return result;
  }
  const std::uint64_t total = bytes_to_send(m, status);
  try {
    send_chunks(link, store, m, status, total, result, o);
    send_named(link, ref, status.missing_firmware,
               {"firmware", ref.dir / "firmware", api::upload_firmware_path, api::kMaxPushFirmwareBytes,
                &PushResult::firmware_sent},
               total, result, o);
    send_named(link, ref, status.missing_files,
               {"release file", ref.dir, api::upload_file_path, api::kMaxPushFileBytes, &PushResult::files_sent},
               total, result, o);
  } catch (const Error&) {
    // The seeder refused what this store holds (a corrupt chunk): nothing of it stays there.
    if (link.last_status() == 400) {
      try {
        link.send("DELETE", api::upload_path(m.board, m.version), {}, "application/octet-stream");
      } catch (const Error&) {
      }
    }
    throw;
  }
  const auto done = link.send("POST", api::upload_commit_path(m.board, m.version), {}, "application/json");
  result.state = api::parse_push_status(done.body, link.seeder_text() + " commit").state;
  return result;
}

std::string read_token_file(const fs::path& file) {
  std::string text = read_text_file(file, api::kMaxUploadTokenBytes + 2);
  std::string token = text.substr(0, text.find('\n'));
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!token.empty() && blank(token.back())) token.pop_back();
  while (!token.empty() && blank(token.front())) token.erase(0, 1);
  if (token.empty()) throw error(Errc::kUsage, "--token " + file.string() + ": the first line is empty");
  return token;
}

}  // namespace ironstone::builder
