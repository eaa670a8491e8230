// Fleet: re-flash orders (seeder/fleet.h, api/node_order.h, docs/http-api.md "Re-flash orders").
#include <sodium.h>

#include <span>

#include "api/node_identity.h"
#include "seeder/errc.h"
#include "seeder/fleet.h"
#include "seeder/fleet_store.h"
#include "util/hex.h"

namespace ironstone::seeder {

using nlohmann::json;

namespace {

std::int64_t unix_whole_seconds(Fleet::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string random_order_id() {
  std::uint8_t id[16];
  randombytes_buf(id, sizeof id);
  return to_hex(std::span<const std::uint8_t>(id, sizeof id));
}

json order_entry(const api::NodeOrder& o, const char* outcome, Fleet::Clock::time_point now) {
  return json{{"time", std::chrono::duration<double>(now.time_since_epoch()).count()},
              {"kind", "order"},
              {"action", o.action},
              {"id", o.id},
              {"outcome", outcome}};
}

}  // namespace

const Fleet::Node* Fleet::find_locked(std::string_view id_or_mac) const {
  if (const auto it = nodes_.find(std::string(id_or_mac)); it != nodes_.end()) return &it->second;
  const auto mac = api::canonical_mac(id_or_mac);
  return mac ? find_by_mac_locked(*mac) : nullptr;
}

const Fleet::Node* Fleet::find_by_mac_locked(const std::string& mac) const {
  for (const auto& [id, node] : nodes_)
    if (node.last.mac == mac) return &node;
  return nullptr;
}

// The node ids of `ids_or_macs`, or Error(kNotFound) naming every name that is no (usable) node.
std::vector<std::string> Fleet::resolve_all(const std::vector<std::string>& ids_or_macs, bool need_mac) const {
  std::vector<std::string> ids;
  std::string unknown, no_mac;
  for (const auto& name : ids_or_macs) {
    const Node* node = find_locked(name);
    if (!node) unknown += (unknown.empty() ? "" : ", ") + name;
    else if (need_mac && node->last.mac.empty()) no_mac += (no_mac.empty() ? "" : ", ") + name;
    else ids.push_back(node->last.node_id);
  }
  std::string why;
  if (!unknown.empty()) why = "no such node: " + unknown;
  if (!no_mac.empty())
    why += (why.empty() ? "" : "; ") + std::string("no MAC known (its flash never reported one): ") + no_mac;
  if (!why.empty()) throw error(Errc::kNotFound, "re-flash: " + why + "; nothing ordered or cancelled");
  return ids;
}

std::vector<api::NodeOrder> Fleet::order_reflash(const std::vector<std::string>& ids_or_macs, Clock::time_point now) {
  std::vector<api::NodeOrder> orders;
  std::uint64_t ticket = 0;
  {
    std::lock_guard lock(mutex_);
    for (const auto& id : resolve_all(ids_or_macs, true)) {
      Node& node = nodes_.at(id);
      api::NodeOrder o{id, node.last.mac, "reflash", random_order_id(), unix_whole_seconds(now),
                       unix_whole_seconds(now) + api::kOrderLifetimeSeconds};
      node.order = o;
      json entry = order_entry(o, "ordered", now);
      add_history(node, entry);
      log_change(id, json{{"time", entry["time"]}, {"step", "order"}, {"state", "reflash ordered"},
                          {"release", node.last.release}, {"error", ""}});
      ticket = persist(node, &entry);
      orders.push_back(std::move(o));
    }
  }
  if (store_) store_->wait(ticket);
  return orders;
}

std::size_t Fleet::cancel_orders(const std::vector<std::string>& ids_or_macs, Clock::time_point now) {
  std::size_t cancelled = 0;
  std::uint64_t ticket = 0;
  {
    std::lock_guard lock(mutex_);
    for (const auto& id : resolve_all(ids_or_macs, false)) {
      Node& node = nodes_.at(id);
      if (!node.order) continue;
      json entry = order_entry(*node.order, "cancelled", now);
      node.order.reset();
      add_history(node, entry);
      ticket = persist(node, &entry);
      ++cancelled;
    }
  }
  if (store_) store_->wait(ticket);
  return cancelled;
}

std::optional<api::NodeOrder> Fleet::open_order(std::string_view node_id, Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  const Node* node = find_locked(node_id);
  if (!node || !node->order || node->order->expires <= unix_whole_seconds(now)) return std::nullopt;
  return node->order;
}

json Fleet::order_json(const Node& node, Clock::time_point now) const {
  if (!node.order) return nullptr;
  const api::NodeOrder& o = *node.order;
  const bool taken = node.boot && node.boot->state == "reflashing" && node.boot->order == o.id;
  const char* state = taken ? "taken" : o.expires <= unix_whole_seconds(now) ? "expired" : "open";
  return json{{"action", o.action}, {"id", o.id}, {"issued", o.issued}, {"expires", o.expires}, {"state", state}};
}

// A new flash of a node with an order: the order is done (or was overtaken by a flash anyway).
json Fleet::carry_out_order(Node& node, Clock::time_point now) {
  json entry = order_entry(*node.order, "carried out", now);
  node.order.reset();
  add_history(node, entry);
  return entry;
}

}  // namespace ironstone::seeder
