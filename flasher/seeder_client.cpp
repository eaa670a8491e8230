#include "flasher/seeder_client.h"

#include <sys/stat.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "api/limits.h"
#include "api/paths.h"
#include "flasher/errc.h"
#include "manifest/manifest.h"
#include "manifest/minisign.h"
#include "swarm/http_client.h"
#include "api/node_identity.h"
#include "swarm/url.h"
#include "util/file.h"

namespace ironstone::flasher {

SeederClient::SeederClient(std::string base, RetryPolicy retry) : retry_(retry) {
  while (!base.empty() && base.back() == '/') base.pop_back();
  swarm::Url u = swarm::parse_url(base);
  if (u.target != "/" && !u.target.empty())
    throw error(Errc::kSeeder, "--seeder " + base + ": expected http://HOST[:PORT] without a path");
  base_ = "http://" + u.host_header();
  host_ = u.host;
}

std::string SeederClient::url(const std::string& path) const { return base_ + path; }

std::string SeederClient::get(const std::string& path, std::size_t max_body) const {
  swarm::RequestOptions o;
  o.timeout = retry_.timeout;
  o.max_body = max_body;
  try {
    return swarm::get_with_retry(url(path), retry_.attempts, retry_.initial_backoff, retry_.max_backoff, o).body;
  } catch (const Error& e) {
    throw error(Errc::kSeeder, e.what());
  }
}

Fetched SeederClient::channel(const std::string& board, const std::string& channel) const {
  const std::string path = api::channel_path(board, channel);
  return {get(path, api::kMaxPointerBytes), get(api::signature_path(path), manifest::kMaxMinisignFileBytes)};
}

Fetched SeederClient::manifest(const std::string& board, const std::string& version) const {
  const std::string path = api::manifest_path(board, version);
  return {get(path, api::kMaxManifestBytes), get(api::signature_path(path), manifest::kMaxMinisignFileBytes)};
}

std::string SeederClient::torrent(const std::string& board, const std::string& version) const {
  return get(api::torrent_path(board, version), api::kMaxTorrentBytes);
}

std::string SeederClient::firmware(const std::string& board, const std::string& version, const std::string& name,
                                   std::size_t size) const {
  return get(api::firmware_path(board, version, name), size);
}

swarm::CardSecretKey load_enrolment_key(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw error(Errc::kIdentity, "enrolment key " + path.string() + ": " + std::strerror(errno));
  if (st.st_mode & 077)
    throw error(Errc::kIdentity, "enrolment key " + path.string() +
                                     ": readable by group or others (it is a secret: chmod 600 it)");
  std::ifstream in(path, std::ios::binary);
  const std::string text = util::read_up_to(in, 1025);
  if (in.bad() || !in.eof()) throw error(Errc::kIdentity, "enrolment key " + path.string() + ": cannot read it whole");
  try {
    return swarm::parse_card_secret(text, path.string());
  } catch (const Error& e) {
    throw error(Errc::kIdentity, std::string("enrolment key ") + e.what());
  }
}

namespace {

// Besides swarm::retryable() failures, the answers a later attempt may change: the seeder busy or failing.
bool transient(int status) { return status == 429 || status / 100 == 5; }

}  // namespace

swarm::HttpResponse SeederClient::post_identity(const std::string& url, const std::string& mac,
                                                const swarm::RequestOptions& o,
                                                std::optional<swarm::PreparedRequest>* request) const {
  auto backoff = retry_.initial_backoff;
  const int attempts = std::max(retry_.attempts, 1);
  for (int attempt = 1;; ++attempt) {
    // A fresh request each time: its time must be within the seeder's skew, its ephemeral key unused.
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
    *request = swarm::make_identity_request(*card_key_, mac, now);
    std::string failure;
    try {
      swarm::HttpResponse r = swarm::http_post_json(url, (*request)->json, o);
      if (!transient(r.status) || attempt == attempts) return r;
      failure = "HTTP " + std::to_string(r.status);
    } catch (const Error& e) {
      if (!swarm::retryable(e.code()) || attempt == attempts) throw;
      failure = e.what();
    }
    spdlog::warn("identity: POST {}: attempt {}/{} failed: {}; retrying in {} ms", url, attempt, attempts, failure,
                 backoff.count());
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::max(retry_.max_backoff, retry_.initial_backoff));
  }
}

std::optional<std::string> SeederClient::identity(const std::string& mac, std::string* why) const {
  swarm::RequestOptions o;
  o.timeout = retry_.timeout;
  o.max_body = api::kMaxIdentityBytes * 2;  // base64 of a sealed box: 4/3 of the identity and 48 bytes
  o.accept_status = {403, 404};
  const std::string url = this->url(api::node_identity_path(mac, true));  // asks for the order key too
  swarm::HttpResponse r;
  std::optional<swarm::PreparedRequest> request;
  try {
    if (card_key_) {
      r = post_identity(url, mac, o, &request);
    } else {
      r = swarm::get_with_retry(url, retry_.attempts, retry_.initial_backoff, retry_.max_backoff, o);
    }
  } catch (const Error& e) {
    throw error(Errc::kSeeder, e.what());
  }
  if (r.status / 100 == 2) {
    if (!request) return r.body;
    try {
      return swarm::open_identity(r.body, request->ephemeral_public, request->ephemeral_secret);
    } catch (const Error& e) {
      throw error(Errc::kSeeder, "POST " + url + ": " + e.what());
    }
  }
  if (r.status != 403 && r.status != 404)
    throw error(Errc::kSeeder, "POST " + url + ": HTTP " + std::to_string(r.status));
  if (why) {
    try {
      *why = nlohmann::json::parse(r.body).at("error").get<std::string>();
    } catch (const std::exception&) {
      *why = "HTTP " + std::to_string(r.status);
    }
  }
  return std::nullopt;
}

SeederClient::Info SeederClient::info() const {
  Info info;
  try {
    swarm::RequestOptions o;
    o.timeout = std::chrono::milliseconds(3000);
    o.max_body = api::kMaxInfoBytes;
    auto r = swarm::http_get(url(api::kInfoPath), o);
    if (r.status != 200) return info;
    auto doc = nlohmann::json::parse(r.body);
    if (doc.contains("bt_port") && doc["bt_port"].is_number_integer()) info.bt_port = doc["bt_port"].get<int>();
    if (doc.contains("upload_limit") && doc["upload_limit"].is_number_integer())
      info.upload_limit = std::max<std::int64_t>(0, doc["upload_limit"].get<std::int64_t>());
  } catch (const std::exception&) {
  }
  return info;
}

bool SeederClient::post_event(const std::string& node_id, const std::string& json, std::string* why) const {
  try {
    swarm::RequestOptions o;
    o.timeout = std::chrono::milliseconds(2000);
    o.max_body = api::kMaxEventReplyBytes;
    auto r = swarm::http_post_json(url(api::node_events_path(node_id)), json, o);
    if (r.status / 100 == 2) return true;
    if (why) *why = "HTTP " + std::to_string(r.status) + " " + r.body.substr(0, 200);
  } catch (const std::exception& e) {
    if (why) *why = e.what();
  }
  return false;
}

std::optional<std::string> SeederClient::fleet() const {
  try {
    swarm::RequestOptions o;
    o.timeout = std::chrono::milliseconds(1000);  // asked from the download loop: keep it short
    o.max_body = api::kMaxFleetBytes;
    auto r = swarm::http_get(url(api::kFleetPath), o);
    if (r.status == 200) return r.body;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

bool SeederClient::rack_still_flashing(const std::string& release_key) const {
  try {
    swarm::RequestOptions o;
    o.timeout = std::chrono::milliseconds(3000);
    o.max_body = api::kMaxSummaryBytes;
    auto r = swarm::http_get(url(api::kFleetSummaryPath), o);
    if (r.status != 200) return true;
    auto doc = nlohmann::json::parse(r.body);
    const auto& releases = doc.at("releases");
    if (releases.contains(release_key)) return releases.at(release_key).value("working", 0) > 0;
    return doc.at("summary").value("still_flashing", true);
  } catch (const std::exception&) {
    return true;  // unknown: keep seeding until the linger time ends
  }
}

}  // namespace ironstone::flasher
