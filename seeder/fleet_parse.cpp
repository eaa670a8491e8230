// Strict parsers of the two node reports (seeder/fleet.h): flash events and lifecycle reports.
#include <cmath>
#include <set>

#include "manifest/manifest.h"
#include "seeder/errc.h"
#include "seeder/fleet.h"
#include "api/node_identity.h"

namespace ironstone::seeder {

using nlohmann::json;

namespace {

constexpr std::size_t kMaxErrorText = 1024;

bool is_lower_name(std::string_view s, std::size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

bool is_hostname(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// Field errors of one kind of document ("event", "lifecycle").
class Fields {
 public:
  explicit Fields(std::string what) : what_(std::move(what)) {}

  [[noreturn]] void bad(const std::string& field, const std::string& why) const {
    throw error(Errc::kBadRequest, what_ + ": field '" + field + "': " + why);
  }
  std::string str(const json& v, const std::string& field, std::size_t max) const {
    if (!v.is_string()) bad(field, "must be a string");
    const auto& s = v.get_ref<const std::string&>();
    if (s.size() > max) bad(field, "longer than " + std::to_string(max) + " bytes");
    return s;
  }
  std::uint64_t u64(const json& v, const std::string& field) const {
    if (!v.is_number_unsigned()) bad(field, "must be a non-negative integer");
    return v.get<std::uint64_t>();
  }
  double real(const json& v, const std::string& field, double lo, double hi) const {
    if (!v.is_number()) bad(field, "must be a number");
    const double d = v.get<double>();
    if (!std::isfinite(d) || d < lo || d > hi) {
      bad(field, "must be a number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }
    return d;
  }
  std::string board(const json& v) const {
    std::string b = str(v, "board", 64);
    if (!b.empty() && !manifest::valid_board_name(b)) bad("board", "must match [a-z0-9-]+");
    return b;
  }
  std::string release(const json& v) const {
    std::string r = str(v, "release", 128);
    if (!r.empty() && !manifest::valid_version_name(r)) bad("release", "must match [A-Za-z0-9._+-]+");
    return r;
  }
  [[noreturn]] void unknown(const std::string& key) const {
    throw error(Errc::kBadRequest, what_ + ": unknown field '" + key.substr(0, 64) + "'");
  }

  // One flat JSON object: no nesting, no duplicate keys.
  json object(std::string_view body) const {
    std::set<std::string> seen;
    json doc;
    try {
      doc = json::parse(body, [&](int depth, json::parse_event_t event, json& parsed) {
        if (depth > 1 || (depth == 1 && (event == json::parse_event_t::object_start ||
                                         event == json::parse_event_t::array_start))) {
          throw error(Errc::kBadRequest, what_ + ": nested values are not allowed");
        }
        if (depth == 1 && event == json::parse_event_t::key && !seen.insert(parsed.get<std::string>()).second) {
          throw error(Errc::kBadRequest, what_ + ": duplicate field '" + parsed.get<std::string>().substr(0, 64) + "'");
        }
        return true;
      });
    } catch (const json::exception& e) {
      throw error(Errc::kBadRequest, what_ + ": malformed JSON: " + e.what());
    }
    if (!doc.is_object()) throw error(Errc::kBadRequest, what_ + ": body must be a JSON object");
    return doc;
  }

 private:
  std::string what_;
};

}  // namespace

bool valid_node_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (std::size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return false;
  }
  return true;
}

NodeEvent parse_node_event(std::string_view node_id, std::string_view body) {
  if (!valid_node_id(node_id)) throw error(Errc::kBadRequest, "event: bad node id");
  const Fields f("event");
  const json doc = f.object(body);
  NodeEvent ev;
  ev.node_id = std::string(node_id);
  bool have_step = false, have_state = false;
  for (const auto& [key, v] : doc.items()) {
    if (key == "node_id") {
      if (f.str(v, key, 64) != node_id) f.bad(key, "does not match the node id in the URL");
    } else if (key == "mac") {
      auto mac = api::canonical_mac(f.str(v, key, 17));
      if (!mac) f.bad(key, "must look like dc:a6:32:01:02:03");
      ev.mac = *mac;
    } else if (key == "board") {
      ev.board = f.board(v);
    } else if (key == "release") {
      ev.release = f.release(v);
    } else if (key == "step") {
      ev.step = f.str(v, key, 32);
      if (!is_lower_name(ev.step, 32)) f.bad(key, "must match [a-z0-9-]{1,32}");
      have_step = true;
    } else if (key == "state") {
      ev.state = f.str(v, key, 16);
      if (ev.state != "working" && ev.state != "done" && ev.state != "failed") {
        f.bad(key, "must be \"working\", \"done\" or \"failed\"");
      }
      have_state = true;
    } else if (key == "progress") {
      ev.progress = f.real(v, key, 0.0, 1.0);
    } else if (key == "bytes_done") {
      ev.bytes_done = f.u64(v, key);
    } else if (key == "bytes_total") {
      ev.bytes_total = f.u64(v, key);
    } else if (key == "bytes_from_seeder") {
      ev.bytes_from_seeder = f.u64(v, key);
    } else if (key == "bytes_from_peers") {
      ev.bytes_from_peers = f.u64(v, key);
    } else if (key == "bytes_from_banned_peers") {
      ev.bytes_from_banned_peers = f.u64(v, key);
    } else if (key == "banned_peers") {  // "ip:port,ip:port" (the event is one flat object)
      const std::string list = f.str(v, key, kMaxBannedPeers * 48);
      for (std::size_t at = 0; at < list.size();) {
        const std::size_t end = std::min(list.find(',', at), list.size());
        const std::string ep = list.substr(at, end - at);
        const bool ok = !ep.empty() && ep.size() <= 47 && ep.find(':') != std::string::npos &&
                        ep.find_first_not_of("0123456789abcdefABCDEF.:[]") == std::string::npos;
        if (!ok || ev.banned_peers.size() >= kMaxBannedPeers) f.bad(key, "must be \"ip:port,ip:port\"");
        ev.banned_peers.push_back(ep);
        at = end + 1;
      }
    } else if (key == "rate") {
      ev.rate = f.real(v, key, 0.0, 1e15);
    } else if (key == "error") {
      ev.error = f.str(v, key, kMaxErrorText);
    } else {
      f.unknown(key);
    }
  }
  if (!have_step) f.bad("step", "missing");
  if (!have_state) f.bad("state", "missing");
  if (ev.bytes_total != 0 && ev.bytes_done > ev.bytes_total) f.bad("bytes_done", "exceeds bytes_total");
  if (ev.bytes_from_banned_peers > ev.bytes_from_peers)
    f.bad("bytes_from_banned_peers", "exceeds bytes_from_peers");
  return ev;
}

LifecycleReport parse_lifecycle_report(std::string_view node_id, std::string_view body) {
  if (body.size() > kMaxLifecycleBody) {
    throw error(Errc::kTooLarge, "lifecycle: body larger than " + std::to_string(kMaxLifecycleBody) + " bytes");
  }
  const Fields f("lifecycle");
  const json doc = f.object(body);
  LifecycleReport r;
  r.node_id = std::string(node_id);
  bool have_state = false;
  for (const auto& [key, v] : doc.items()) {
    if (key == "state") {
      r.state = f.str(v, key, 16);
      if (r.state != "booted" && r.state != "joined" && r.state != "failed") {
        f.bad(key, "must be \"booted\", \"joined\" or \"failed\"");
      }
      have_state = true;
    } else if (key == "hostname") {
      r.hostname = f.str(v, key, 253);
      if (!is_hostname(r.hostname)) f.bad(key, "must be a host name [A-Za-z0-9.-]{1,253}");
    } else if (key == "board") {
      r.board = f.board(v);
    } else if (key == "release") {
      r.release = f.release(v);
    } else if (key == "sequence") {
      r.sequence = f.u64(v, key);
    } else if (key == "stage") {
      r.stage = f.str(v, key, 32);
      if (!is_lower_name(r.stage, 32)) f.bad(key, "must match [a-z0-9-]{1,32}");
    } else if (key == "reason") {
      r.reason = f.str(v, key, kMaxReasonText);
    } else {
      f.unknown(key);
    }
  }
  if (!have_state) f.bad("state", "missing");
  if (r.state == "failed" && r.stage.empty()) f.bad("stage", "missing (required with \"failed\")");
  if (r.state == "failed" && r.reason.empty()) f.bad("reason", "missing (required with \"failed\")");
  return r;
}

}  // namespace ironstone::seeder
