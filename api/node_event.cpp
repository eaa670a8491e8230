#include "api/node_event.h"
#include "api/node_order.h"

#include <cmath>
#include <initializer_list>
#include <set>

#include "api/errc.h"
#include "api/names.h"
#include "api/node_identity.h"

namespace ironstone::api {

using nlohmann::json;

namespace {

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
    throw error(Errc::kEvent, what_ + ": field '" + field + "': " + why);
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
    if (!b.empty() && !valid_board_name(b)) bad("board", "must match [a-z0-9-]+");
    return b;
  }
  std::string release(const json& v) const {
    std::string r = str(v, "release", 128);
    if (!r.empty() && !valid_version_name(r)) bad("release", "must match [A-Za-z0-9._+-]+");
    return r;
  }
  [[noreturn]] void unknown(const std::string& key) const {
    throw error(Errc::kEvent, what_ + ": unknown field '" + key.substr(0, 64) + "'");
  }

  // One flat JSON object: no nesting, no duplicate keys.
  json object(std::string_view body) const {
    std::set<std::string> seen;
    json doc;
    try {
      doc = json::parse(body, [&](int depth, json::parse_event_t event, json& parsed) {
        if (depth > 1 || (depth == 1 && (event == json::parse_event_t::object_start ||
                                         event == json::parse_event_t::array_start))) {
          throw error(Errc::kEvent, what_ + ": nested values are not allowed");
        }
        if (depth == 1 && event == json::parse_event_t::key && !seen.insert(parsed.get<std::string>()).second) {
          throw error(Errc::kEvent, what_ + ": duplicate field '" + parsed.get<std::string>().substr(0, 64) + "'");
        }
        return true;
      });
    } catch (const json::exception& e) {
      throw error(Errc::kEvent, what_ + ": malformed JSON: " + e.what());
    }
    if (!doc.is_object()) throw error(Errc::kEvent, what_ + ": body must be a JSON object");
    return doc;
  }

 private:
  std::string what_;
};

// One field of an event body into `ev` (`key` is known not to be a duplicate).
void read_event_field(const Fields& f, const std::string& key, const json& v, NodeEvent& ev) {
  if (key == "node_id") {
    if (f.str(v, key, 64) != ev.node_id) f.bad(key, "does not match the node id in the URL");
  } else if (key == "mac") {
    auto mac = canonical_mac(f.str(v, key, 17));
    if (!mac) f.bad(key, "must look like dc:a6:32:01:02:03");
    ev.mac = *mac;
  } else if (key == "board") {
    ev.board = f.board(v);
  } else if (key == "release") {
    ev.release = f.release(v);
  } else if (key == "step") {
    ev.step = f.str(v, key, 32);
    if (!is_lower_name(ev.step, 32)) f.bad(key, "must match [a-z0-9-]{1,32}");
  } else if (key == "state") {
    ev.state = f.str(v, key, 16);
    if (ev.state != "working" && ev.state != "done" && ev.state != "failed") {
      f.bad(key, "must be \"working\", \"done\" or \"failed\"");
    }
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
  } else if (key == "banned_peers") {
    ev.banned_peers = f.str(v, key, kMaxEventBannedBytes);
  } else if (key == "rate") {
    ev.rate = f.real(v, key, 0.0, 1e15);
  } else if (key == "error") {
    ev.error = f.str(v, key, kMaxEventErrorBytes);
  } else {
    f.unknown(key);
  }
}

// One field of a lifecycle body into `r`.
void read_lifecycle_field(const Fields& f, const std::string& key, const json& v, LifecycleReport& r) {
  if (key == "state") {
    r.state = f.str(v, key, 16);
    if (r.state != "booted" && r.state != "joined" && r.state != "failed" && r.state != "reflashing") {
      f.bad(key, "must be \"booted\", \"joined\", \"failed\" or \"reflashing\"");
    }
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
    r.reason = f.str(v, key, kMaxLifecycleReasonBytes);
  } else if (key == "order") {
    r.order = f.str(v, key, 32);
    if (!valid_order_id(r.order)) f.bad(key, "must be a re-flash order id (32 lower-case hex digits)");
  } else if (key == "join_expected") {
    if (!v.is_boolean()) f.bad(key, "must be true or false");
    r.join_expected = v.get<bool>();
  } else {
    f.unknown(key);
  }
}

// Leaves out the optional string fields that are empty: the parsers check their form, and ""
// is not a host name, a MAC, ...
void drop_empty(json& doc, std::initializer_list<const char*> keys) {
  for (const char* key : keys)
    if (doc.at(key).get_ref<const std::string&>().empty()) doc.erase(key);
}

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

json to_json(const NodeEvent& e) {
  return json{{"node_id", e.node_id},
              {"mac", e.mac},
              {"board", e.board},
              {"release", e.release},
              {"step", e.step},
              {"state", e.state},
              {"progress", e.progress},
              {"bytes_done", e.bytes_done},
              {"bytes_total", e.bytes_total},
              {"bytes_from_seeder", e.bytes_from_seeder},
              {"bytes_from_peers", e.bytes_from_peers},
              {"bytes_from_banned_peers", e.bytes_from_banned_peers},
              {"banned_peers", e.banned_peers},
              {"rate", e.rate},
              {"error", e.error}};
}

std::string serialize_node_event(const NodeEvent& e) {
  json doc = to_json(e);
  doc.erase("node_id");
  drop_empty(doc, {"mac", "board", "release", "banned_peers", "error"});
  return doc.dump();
}

NodeEvent parse_node_event(std::string_view node_id, std::string_view body) {
  if (!valid_node_id(node_id)) throw error(Errc::kEvent, "event: bad node id");
  const Fields f("event");
  const json doc = f.object(body);
  NodeEvent ev;
  ev.node_id = std::string(node_id);
  for (const auto& [key, v] : doc.items()) read_event_field(f, key, v, ev);
  if (!doc.contains("step")) f.bad("step", "missing");
  if (!doc.contains("state")) f.bad("state", "missing");
  if (ev.bytes_total != 0 && ev.bytes_done > ev.bytes_total) f.bad("bytes_done", "exceeds bytes_total");
  return ev;
}

json to_json(const LifecycleReport& r) {
  json j{{"state", r.state}, {"hostname", r.hostname}, {"board", r.board}, {"release", r.release},
         {"stage", r.stage}, {"reason", r.reason}};
  if (!r.order.empty()) j["order"] = r.order;
  if (r.sequence) j["sequence"] = *r.sequence;
  if (r.join_expected) j["join_expected"] = true;
  return j;
}

std::string serialize_lifecycle_report(const LifecycleReport& r) {
  json doc = to_json(r);
  drop_empty(doc, {"hostname", "board", "release", "stage", "reason"});
  return doc.dump();
}

LifecycleReport parse_lifecycle_report(std::string_view node_id, std::string_view body) {
  if (body.size() > kMaxLifecycleBytes) {
    throw error(Errc::kTooLarge, "lifecycle: body larger than " + std::to_string(kMaxLifecycleBytes) + " bytes");
  }
  const Fields f("lifecycle");
  const json doc = f.object(body);
  LifecycleReport r;
  r.node_id = std::string(node_id);
  for (const auto& [key, v] : doc.items()) read_lifecycle_field(f, key, v, r);
  if (!doc.contains("state")) f.bad("state", "missing");
  if (r.state == "failed" && r.stage.empty()) f.bad("stage", "missing (required with \"failed\")");
  if (r.state == "failed" && r.reason.empty()) f.bad("reason", "missing (required with \"failed\")");
  if (r.state == "reflashing" && r.order.empty()) f.bad("order", "missing (required with \"reflashing\")");
  return r;
}

}  // namespace ironstone::api
