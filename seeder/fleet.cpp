#include "seeder/fleet.h"

#include <ctime>

#include "seeder/errc.h"
#include "seeder/fleet_store.h"
#include "api/node_identity.h"

namespace ironstone::seeder {

using nlohmann::json;

namespace {

double unix_seconds(Fleet::Clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// "2026-12-02 04:50 UTC"
std::string utc_minute(Fleet::Clock::time_point t) {
  const std::time_t s = Fleet::Clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

std::string minutes(std::chrono::seconds s) {
  if (s.count() % 60 == 0) return std::to_string(s.count() / 60) + " min";
  return std::to_string(s.count()) + " s";
}

bool terminal(const std::string& flash_state) { return flash_state == "done" || flash_state == "failed"; }

}  // namespace

Fleet::Fleet(Options options) : options_(options) {}

void Fleet::attach(FleetStore* store) {
  std::lock_guard lock(mutex_);
  store_ = store;
  try {
    restore();
  } catch (const json::exception& e) {
    throw error(Errc::kDatabase, "fleet database " + store->file().string() + ": malformed node record: " + e.what());
  }
}

std::string Fleet::resolve_node_id(std::string_view id_or_mac) const {
  const auto mac = api::canonical_mac(id_or_mac);
  if (!mac) return std::string(id_or_mac);
  std::lock_guard lock(mutex_);
  if (const Node* node = find_by_mac_locked(*mac)) return node->last.node_id;
  std::string id = "node-";
  for (char c : *mac)
    if (c != ':') id += c;
  return id;
}

Fleet::Node& Fleet::node_for(const std::string& id, Clock::time_point now) {
  auto it = nodes_.find(id);
  if (it != nodes_.end()) return it->second;
  if (nodes_.size() >= options_.max_nodes) {
    throw error(Errc::kTooLarge, "fleet: " + std::to_string(options_.max_nodes) + " nodes known already");
  }
  Node node;
  node.last.node_id = id;
  node.first_seen = node.last_seen = node.flash_started = now;
  return nodes_.emplace(id, std::move(node)).first->second;
}

void Fleet::add_history(Node& node, json entry) {
  node.history.push_back(std::move(entry));
  while (node.history.size() > options_.max_history) node.history.pop_front();
}

void Fleet::log_change(const std::string& id, json entry) {
  entry["node_id"] = id;
  log_.push_back(std::move(entry));
  while (log_.size() > options_.max_log) log_.pop_front();
}

void Fleet::record(NodeEvent event, Clock::time_point now) {
  std::uint64_t ticket = 0;
  bool durable = false;
  {
    std::lock_guard lock(mutex_);
    Node& node = node_for(event.node_id, now);
    const NodeEvent& last = node.last;
    const bool changed = !node.flashed || last.step != event.step || last.state != event.state ||
                         last.error != event.error || last.release != event.release;
    // A "working" event after the flash ended (or after first-boot reports) is a new flash.
    const bool new_flash = event.state == "working" && (!node.flashed || terminal(last.state) || node.boot);
    const bool ended = terminal(event.state) && (!node.flashed || !terminal(last.state));
    json entry;
    if (new_flash) {
      node.flash_started = now;
      node.boot.reset();
      if (node.order) entry = carry_out_order(node, now);
    }
    node.flashed = true;
    node.last = std::move(event);
    node.last_seen = now;
    if (ended) {
      node.flash_ended = now;
      const NodeEvent& e = node.last;
      entry = json{{"time", unix_seconds(now)},      {"kind", "flash"},
                   {"board", e.board},               {"release", e.release},
                   {"started", unix_seconds(node.flash_started)},
                   {"outcome", e.state},             {"step", e.step},
                   {"bytes_total", e.bytes_total},   {"bytes_from_seeder", e.bytes_from_seeder},
                   {"bytes_from_peers", e.bytes_from_peers},
                   {"bytes_from_banned_peers", e.bytes_from_banned_peers},
                   {"banned_peers", e.banned_peers},         {"error", e.error}};
      add_history(node, entry);
    }
    if (changed) {
      log_change(node.last.node_id, json{{"time", unix_seconds(now)},
                                         {"step", node.last.step},
                                         {"state", node.last.state},
                                         {"release", node.last.release},
                                         {"error", node.last.error}});
    }
    sample_rates(now);
    durable = new_flash || ended;
    ticket = persist(node, entry.is_null() ? nullptr : &entry);
  }
  if (durable && store_) store_->wait(ticket);
}

void Fleet::report(LifecycleReport report, Clock::time_point now) {
  std::uint64_t ticket = 0;
  {
    std::lock_guard lock(mutex_);
    Node& node = node_for(report.node_id, now);
    json entry = api::to_json(report);
    entry["time"] = unix_seconds(now);
    entry["kind"] = report.state;
    add_history(node, entry);
    log_change(report.node_id, json{{"time", unix_seconds(now)},
                                    {"step", report.stage.empty() ? "first-boot" : report.stage},
                                    {"state", report.state},
                                    {"release", report.release},
                                    {"error", report.reason}});
    node.boot = std::move(report);
    node.boot_at = now;
    node.last_seen = now;
    ticket = persist(node, &entry);
  }
  if (store_) store_->wait(ticket);
}

Fleet::Shown Fleet::shown(const Node& node, Clock::time_point now) const {
  if (node.boot) {
    const LifecycleReport& b = *node.boot;
    if (b.state == "failed") return {"failed", b.stage + ": " + b.reason};
    if (b.state == "reflashing" && now - node.boot_at > options_.boot_timeout)
      return {"stale", "took re-flash order " + b.order + " at " + utc_minute(node.boot_at) + ", no flash started for " +
                           minutes(options_.boot_timeout)};
    if (b.state == "reflashing")
      return {"reflashing", "re-flash order " + b.order + " taken at " + utc_minute(node.boot_at) +
                                "; waiting for the installer card to flash"};
    if (b.state == "booted" && b.join_expected && now - node.boot_at > options_.join_timeout)
      return {"stale", "booted at " + utc_minute(node.boot_at) + ", k3s has not reported joining for " +
                           minutes(options_.join_timeout)};
    return {b.state, ""};
  }
  const NodeEvent& e = node.last;
  if (!node.flashed) return {"stale", "no flash event"};
  if (e.state == "failed") return {"failed", e.step + ": " + e.error};
  if (e.state == "working" && now - node.last_seen > options_.stale_after) {
    return {"stale", "no event for " + minutes(std::chrono::duration_cast<std::chrono::seconds>(now - node.last_seen)) +
                         " (last step " + e.step + ")"};
  }
  if (e.state == "done" && now - node.flash_ended > options_.boot_timeout) {
    return {"stale", "flashed at " + utc_minute(node.flash_ended) + ", no first-boot report for " +
                         minutes(options_.boot_timeout)};
  }
  return {e.state, ""};
}

FleetCounts Fleet::counts_locked(Clock::time_point now) const {
  FleetCounts c;
  for (const auto& [id, node] : nodes_) {
    ++c.nodes;
    const std::string state = shown(node, now).state;
    if (state == "working") {
      ++c.working;
      c.rate += node.last.rate;
    } else if (state == "done") {
      ++c.done;
    } else if (state == "booted") {
      ++c.booted;
    } else if (state == "joined") {
      ++c.joined;
    } else if (state == "failed") {
      ++c.failed;
    } else if (state == "reflashing") {
      ++c.reflashing;
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

// The rack's rate now, split by source: each working node's reported rate, shared between
// the seeder and peers as its bytes so far are (all from the seeder before it has any).
// Rates, not differences of byte counters: a node joining with bytes already counted, or
// leaving, makes no spike.
void Fleet::sample_rates(Clock::time_point now) {
  if (!rates_.empty() && now - last_sample_ < options_.rate_sample_every) return;
  last_sample_ = now;
  double seeder = 0, peers = 0;
  for (const auto& [id, node] : nodes_) {
    if (shown(node, now).state != "working") continue;
    const double s = static_cast<double>(node.last.bytes_from_seeder);
    const double p = static_cast<double>(node.last.bytes_from_peers);
    const double share = s + p > 0 ? p / (s + p) : 0.0;
    peers += node.last.rate * share;
    seeder += node.last.rate * (1 - share);
  }
  rates_.push_back(json{{"time", unix_seconds(now)}, {"seeder", seeder}, {"peers", peers}});
  while (rates_.size() > options_.max_rate_samples) rates_.pop_front();
}

namespace {
json summary_json(const FleetCounts& c) {
  return json{{"nodes", c.nodes},
              {"working", c.working},
              {"done", c.done},
              {"booted", c.booted},
              {"joined", c.joined},
              {"failed", c.failed},
              {"reflashing", c.reflashing},
              {"stale", c.stale},
              {"still_flashing", c.working > 0},
              {"rate", c.rate},
              {"bytes_from_seeder", c.bytes_from_seeder},
              {"bytes_from_peers", c.bytes_from_peers}};
}
}  // namespace

json Fleet::node_json(const Node& node, Clock::time_point now) const {
  json n = api::to_json(node.last);
  const Shown s = shown(node, now);
  n["flash_state"] = node.flashed ? node.last.state : "";
  n["state"] = s.state;
  n["reason"] = s.reason;
  n["hostname"] = node.boot ? node.boot->hostname : "";
  n["running_release"] = node.boot ? node.boot->release : "";
  n["first_seen"] = unix_seconds(node.first_seen);
  n["last_seen"] = unix_seconds(node.last_seen);
  if (node.flashed && terminal(node.last.state)) n["flashed_at"] = unix_seconds(node.flash_ended);
  if (node.boot) n["reported_at"] = unix_seconds(node.boot_at);
  n["order"] = order_json(node, now);
  return n;
}

json Fleet::view(Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  json nodes = json::array();
  for (const auto& [id, node] : nodes_) nodes.push_back(node_json(node, now));
  json events = json::array();
  for (const auto& e : log_) events.push_back(e);
  json rates = json::array();
  for (const auto& r : rates_) rates.push_back(r);
  json peers = json::array();
  for (const auto& [id, p] : peers_)
    peers.push_back(json{{"peer_id", id}, {"url", p.first.url}, {"releases", p.first.releases},
                         {"bytes_served", p.first.bytes_served}, {"last_seen", unix_seconds(p.second)}});
  return json{{"time", unix_seconds(now)},
              {"nodes", std::move(nodes)},
              {"peers", std::move(peers)},
              {"summary", summary_json(counts_locked(now))},
              {"events", std::move(events)},
              {"rates", std::move(rates)}};
}

void Fleet::peer_report(api::PeerReport report, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (!peers_.contains(report.peer_id) && peers_.size() >= options_.max_nodes)
    throw error(Errc::kTooLarge, "fleet: " + std::to_string(peers_.size()) + " peers known already");
  std::string id = report.peer_id;
  peers_[id] = {std::move(report), now};
}

json Fleet::summary(Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  json releases = json::object();
  for (const auto& [id, node] : nodes_) {
    if (node.last.release.empty()) continue;
    json& r = releases[node.last.board + "/" + node.last.release];
    if (r.is_null()) {
      r = json{{"working", 0}, {"done", 0},       {"booted", 0}, {"joined", 0},
               {"failed", 0},  {"reflashing", 0}, {"stale", 0}};
    }
    const std::string state = shown(node, now).state;
    r[state] = r[state].get<int>() + 1;
  }
  return json{{"time", unix_seconds(now)},
              {"summary", summary_json(counts_locked(now))},
              {"releases", std::move(releases)}};
}

std::optional<json> Fleet::history(std::string_view node_id, Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  const auto it = nodes_.find(std::string(node_id));
  if (it == nodes_.end()) return std::nullopt;
  json h = json::array();
  for (const auto& e : it->second.history) h.push_back(e);
  return json{{"node_id", it->first}, {"node", node_json(it->second, now)}, {"history", std::move(h)}};
}

namespace {

Fleet::Clock::time_point from_unix(const json& v) {
  const double s = v.is_number() ? v.get<double>() : 0.0;
  return Fleet::Clock::time_point(std::chrono::duration_cast<Fleet::Clock::duration>(std::chrono::duration<double>(s)));
}

std::string str(const json& o, const char* key) {
  const auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::uint64_t u64(const json& o, const char* key) {
  const auto it = o.find(key);
  return it != o.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

double real(const json& o, const char* key) {
  const auto it = o.find(key);
  return it != o.end() && it->is_number() ? it->get<double>() : 0.0;
}

NodeEvent event_from_json(const json& e, const std::string& id) {
  NodeEvent ev;
  ev.node_id = id;
  if (!e.is_object()) return ev;
  ev.mac = str(e, "mac");
  ev.board = str(e, "board");
  ev.release = str(e, "release");
  ev.step = str(e, "step");
  ev.state = str(e, "state");
  ev.progress = real(e, "progress");
  ev.bytes_done = u64(e, "bytes_done");
  ev.bytes_total = u64(e, "bytes_total");
  ev.bytes_from_seeder = u64(e, "bytes_from_seeder");
  ev.bytes_from_peers = u64(e, "bytes_from_peers");
  ev.bytes_from_banned_peers = u64(e, "bytes_from_banned_peers");
  ev.banned_peers = str(e, "banned_peers");
  ev.rate = real(e, "rate");
  ev.error = str(e, "error");
  return ev;
}

LifecycleReport report_from_json(const json& b, const std::string& id) {
  LifecycleReport r;
  r.node_id = id;
  r.state = str(b, "state");
  r.hostname = str(b, "hostname");
  r.board = str(b, "board");
  r.release = str(b, "release");
  if (b.contains("sequence") && b["sequence"].is_number_unsigned()) r.sequence = b["sequence"].get<std::uint64_t>();
  r.stage = str(b, "stage");
  r.reason = str(b, "reason");
  r.join_expected = b.contains("join_expected") && b["join_expected"].is_boolean() && b["join_expected"].get<bool>();
  r.order = str(b, "order");
  return r;
}

}  // namespace

// The record the store keeps per node: everything Node holds but its history.
std::uint64_t Fleet::persist(const Node& node, const json* history_entry) {
  if (!store_) return 0;
  json record{{"event", api::to_json(node.last)},
              {"flashed", node.flashed},
              {"first_seen", unix_seconds(node.first_seen)},
              {"last_seen", unix_seconds(node.last_seen)},
              {"flash_started", unix_seconds(node.flash_started)},
              {"flash_ended", unix_seconds(node.flash_ended)},
              {"boot", node.boot ? api::to_json(*node.boot) : json(nullptr)},
              {"boot_at", unix_seconds(node.boot_at)},
              {"order", node.order ? json::parse(api::serialize_node_order(*node.order)) : json(nullptr)}};
  return store_->put(node.last.node_id, std::move(record), history_entry);
}

void Fleet::restore() {
  for (auto& stored : store_->take_loaded()) {
    const json& r = stored.record;
    Node node;
    node.last = event_from_json(r.contains("event") ? r["event"] : json(), stored.node_id);
    node.flashed = r.value("flashed", false);
    node.first_seen = from_unix(r.value("first_seen", json()));
    node.last_seen = from_unix(r.value("last_seen", json()));
    node.flash_started = from_unix(r.value("flash_started", json()));
    node.flash_ended = from_unix(r.value("flash_ended", json()));
    if (r.contains("boot") && r["boot"].is_object()) node.boot = report_from_json(r["boot"], stored.node_id);
    node.boot_at = from_unix(r.value("boot_at", json()));
    if (r.contains("order") && r["order"].is_object()) {
      try {
        node.order = api::parse_node_order(r["order"].dump(), "order");
      } catch (const Error& e) {
        throw error(Errc::kDatabase, "fleet database " + store_->file().string() + ": node " + stored.node_id + ": " +
                                         e.what());
      }
    }
    for (auto& e : stored.history) add_history(node, std::move(e));
    nodes_.emplace(stored.node_id, std::move(node));
  }
}

}  // namespace ironstone::seeder
