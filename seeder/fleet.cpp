#include "seeder/fleet.h"

#include <cmath>
#include <set>

#include "manifest/manifest.h"
#include "seeder/errc.h"
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

[[noreturn]] void bad_field(const std::string& field, const std::string& why) {
  throw error(Errc::kBadRequest, "event: field '" + field + "': " + why);
}

std::string get_string(const json& v, const std::string& field, std::size_t max) {
  if (!v.is_string()) bad_field(field, "must be a string");
  const auto& s = v.get_ref<const std::string&>();
  if (s.size() > max) bad_field(field, "longer than " + std::to_string(max) + " bytes");
  return s;
}

std::uint64_t get_u64(const json& v, const std::string& field) {
  if (!v.is_number_unsigned()) bad_field(field, "must be a non-negative integer");
  return v.get<std::uint64_t>();
}

double get_double(const json& v, const std::string& field, double lo, double hi) {
  if (!v.is_number()) bad_field(field, "must be a number");
  const double d = v.get<double>();
  if (!std::isfinite(d) || d < lo || d > hi) {
    bad_field(field, "must be a number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return d;
}

json event_json(const NodeEvent& e) {
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
              {"rate", e.rate},
              {"error", e.error}};
}

double unix_seconds(Fleet::Clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
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

NodeEvent parse_node_event(std::string_view node_id, std::string_view body) {
  if (!valid_node_id(node_id)) throw error(Errc::kBadRequest, "event: bad node id");
  std::set<std::string> seen;
  json doc;
  try {
    doc = json::parse(body, [&](int depth, json::parse_event_t event, json& parsed) {
      if (depth > 1 || (depth == 1 && (event == json::parse_event_t::object_start ||
                                       event == json::parse_event_t::array_start))) {
        throw error(Errc::kBadRequest, "event: nested values are not allowed");
      }
      if (depth == 1 && event == json::parse_event_t::key && !seen.insert(parsed.get<std::string>()).second) {
        throw error(Errc::kBadRequest, "event: duplicate field '" + parsed.get<std::string>() + "'");
      }
      return true;
    });
  } catch (const json::exception& e) {
    throw error(Errc::kBadRequest, std::string("event: malformed JSON: ") + e.what());
  }
  if (!doc.is_object()) throw error(Errc::kBadRequest, "event: body must be a JSON object");

  NodeEvent ev;
  ev.node_id = std::string(node_id);
  bool have_step = false, have_state = false;
  for (const auto& [key, v] : doc.items()) {
    if (key == "node_id") {
      if (get_string(v, key, 64) != node_id) bad_field(key, "does not match the node id in the URL");
    } else if (key == "mac") {
      ev.mac = get_string(v, key, 17);
      auto mac = api::canonical_mac(ev.mac);
      if (!mac) bad_field(key, "must look like dc:a6:32:01:02:03");
      ev.mac = *mac;
    } else if (key == "board") {
      ev.board = get_string(v, key, 64);
      if (!ev.board.empty() && !manifest::valid_board_name(ev.board)) bad_field(key, "must match [a-z0-9-]+");
    } else if (key == "release") {
      ev.release = get_string(v, key, 128);
      if (!ev.release.empty() && !manifest::valid_version_name(ev.release)) {
        bad_field(key, "must match [A-Za-z0-9._+-]+");
      }
    } else if (key == "step") {
      ev.step = get_string(v, key, 32);
      if (!is_lower_name(ev.step, 32)) bad_field(key, "must match [a-z0-9-]{1,32}");
      have_step = true;
    } else if (key == "state") {
      ev.state = get_string(v, key, 16);
      if (ev.state != "working" && ev.state != "done" && ev.state != "failed") {
        bad_field(key, "must be \"working\", \"done\" or \"failed\"");
      }
      have_state = true;
    } else if (key == "progress") {
      ev.progress = get_double(v, key, 0.0, 1.0);
    } else if (key == "bytes_done") {
      ev.bytes_done = get_u64(v, key);
    } else if (key == "bytes_total") {
      ev.bytes_total = get_u64(v, key);
    } else if (key == "bytes_from_seeder") {
      ev.bytes_from_seeder = get_u64(v, key);
    } else if (key == "bytes_from_peers") {
      ev.bytes_from_peers = get_u64(v, key);
    } else if (key == "rate") {
      ev.rate = get_double(v, key, 0.0, 1e15);
    } else if (key == "error") {
      ev.error = get_string(v, key, kMaxErrorText);
    } else {
      throw error(Errc::kBadRequest, "event: unknown field '" + key.substr(0, 64) + "'");
    }
  }
  if (!have_step) bad_field("step", "missing");
  if (!have_state) bad_field("state", "missing");
  if (ev.bytes_total != 0 && ev.bytes_done > ev.bytes_total) bad_field("bytes_done", "exceeds bytes_total");
  return ev;
}

Fleet::Fleet(Options options) : options_(options) {}

void Fleet::record(NodeEvent event, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = nodes_.find(event.node_id);
  bool changed = true;
  if (it == nodes_.end()) {
    if (nodes_.size() >= options_.max_nodes) {
      throw error(Errc::kTooLarge, "fleet: " + std::to_string(options_.max_nodes) + " nodes known already");
    }
    it = nodes_.emplace(event.node_id, Node{event, now, now}).first;
  } else {
    const NodeEvent& last = it->second.last;
    changed = last.step != event.step || last.state != event.state || last.error != event.error ||
              last.release != event.release;
    it->second.last = event;
    it->second.last_seen = now;
  }
  if (changed) {
    log_.push_back(json{{"time", unix_seconds(now)},
                        {"node_id", event.node_id},
                        {"step", event.step},
                        {"state", event.state},
                        {"release", event.release},
                        {"error", event.error}});
    while (log_.size() > options_.max_log) log_.pop_front();
  }
}

std::string Fleet::effective_state(const Node& node, Clock::time_point now) const {
  if (node.last.state == "working" && now - node.last_seen > options_.stale_after) return "stale";
  return node.last.state;
}

FleetCounts Fleet::counts_locked(Clock::time_point now) const {
  FleetCounts c;
  for (const auto& [id, node] : nodes_) {
    ++c.nodes;
    const std::string state = effective_state(node, now);
    if (state == "working") {
      ++c.working;
      c.rate += node.last.rate;
    } else if (state == "done") {
      ++c.done;
    } else if (state == "failed") {
      ++c.failed;
    } else {
      ++c.stale;
    }
    c.bytes_from_seeder += node.last.bytes_from_seeder;
    c.bytes_from_peers += node.last.bytes_from_peers;
  }
  return c;
}

FleetCounts Fleet::counts(Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  return counts_locked(now);
}

namespace {
json summary_json(const FleetCounts& c) {
  return json{{"nodes", c.nodes},
              {"working", c.working},
              {"done", c.done},
              {"failed", c.failed},
              {"stale", c.stale},
              {"still_flashing", c.working > 0},
              {"rate", c.rate},
              {"bytes_from_seeder", c.bytes_from_seeder},
              {"bytes_from_peers", c.bytes_from_peers}};
}
}  // namespace

json Fleet::view(Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  json nodes = json::array();
  for (const auto& [id, node] : nodes_) {
    json n = event_json(node.last);
    n["state"] = effective_state(node, now);
    n["first_seen"] = unix_seconds(node.first_seen);
    n["last_seen"] = unix_seconds(node.last_seen);
    nodes.push_back(std::move(n));
  }
  json events = json::array();
  for (const auto& e : log_) events.push_back(e);
  return json{{"time", unix_seconds(now)},
              {"nodes", std::move(nodes)},
              {"summary", summary_json(counts_locked(now))},
              {"events", std::move(events)}};
}

json Fleet::summary(Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  json releases = json::object();
  for (const auto& [id, node] : nodes_) {
    if (node.last.release.empty()) continue;
    const std::string key = node.last.board + "/" + node.last.release;
    json& r = releases[key];
    if (r.is_null()) r = json{{"working", 0}, {"done", 0}, {"failed", 0}, {"stale", 0}};
    r[effective_state(node, now)] = r[effective_state(node, now)].get<int>() + 1;
  }
  return json{{"time", unix_seconds(now)},
              {"summary", summary_json(counts_locked(now))},
              {"releases", std::move(releases)}};
}

}  // namespace ironstone::seeder
