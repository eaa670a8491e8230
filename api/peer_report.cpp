#include "api/peer_report.h"

#include <nlohmann/json.hpp>

#include "api/errc.h"
#include "api/names.h"
#include "api/node_event.h"
#include "util/json_reader.h"

namespace ironstone::api {

namespace {

Error report_error(const std::string& message) { return error(Errc::kEvent, message); }

bool valid_release_key(const std::string& key) {
  const auto slash = key.find('/');
  return slash != std::string::npos && valid_board_name(key.substr(0, slash)) &&
         valid_version_name(key.substr(slash + 1));
}

}  // namespace

std::string peer_path(std::string_view peer_id) { return std::string(kPeersPath) + "/" + std::string(peer_id); }

std::string peer_report_json(const PeerReport& r) {
  nlohmann::json j = {{"url", r.url}, {"releases", r.releases}, {"bytes_served", r.bytes_served}};
  return j.dump();
}

PeerReport parse_peer_report(std::string_view peer_id, std::string_view body, std::string_view source) {
  const std::string src(source);
  if (!valid_node_id(peer_id)) throw report_error(src + ": bad peer id '" + std::string(peer_id) + "'");
  if (body.size() > kMaxPeerReportBytes)
    throw error(Errc::kTooLarge, src + ": " + std::to_string(body.size()) + " bytes, at most " +
                                     std::to_string(kMaxPeerReportBytes));
  const nlohmann::json doc = strict_json::parse_strict(body, source, report_error);
  if (!doc.is_object()) throw report_error(src + ": expected a JSON object");
  strict_json::ObjectReader o(doc, "", source, report_error);
  PeerReport r;
  r.peer_id = std::string(peer_id);
  r.url = o.text("url", 256);
  if (!r.url.starts_with("http://") && !r.url.starts_with("https://")) o.fail("url", "expected an http(s) URL");
  const auto& releases = o.array("releases");
  if (releases.size() > kMaxPeerReleases) o.fail("releases", "more than " + std::to_string(kMaxPeerReleases));
  for (const auto& v : releases) {
    if (!v.is_string() || !valid_release_key(v.get<std::string>())) o.fail("releases", "expected \"board/version\" strings");
    r.releases.push_back(v.get<std::string>());
  }
  r.bytes_served = o.uint("bytes_served");
  o.finish();
  return r;
}

}  // namespace ironstone::api
