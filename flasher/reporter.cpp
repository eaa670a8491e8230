#include "flasher/reporter.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <spdlog/spdlog.h>

#include "api/node_event.h"

namespace ironstone::flasher {

Reporter::Reporter(const SeederClient* seeder, std::string node_id, std::string mac)
    : seeder_(seeder), node_id_(std::move(node_id)), mac_(std::move(mac)) {}

void Reporter::step(const std::string& step, const std::string& message) {
  step_ = step;
  // Progress is per step; the byte counts by source are per run and keep their totals.
  last_ = {.from_seeder = last_.from_seeder,
           .from_peers = last_.from_peers,
           .from_banned_peers = last_.from_banned_peers,
           .banned_peers = last_.banned_peers};
  spdlog::info("[{}] {}", step, message);
  send("working", "", true);
}

void Reporter::progress(const Progress& p, bool force) {
  // The byte counts by source are per run and only grow: a later step's progress (the
  // final verification, which knows nothing of sources) must not report them as 0.
  const std::uint64_t from_seeder = std::max(p.from_seeder, last_.from_seeder);
  const std::uint64_t from_peers = std::max(p.from_peers, last_.from_peers);
  const std::uint64_t from_banned = std::max(p.from_banned_peers, last_.from_banned_peers);
  std::string banned = p.banned_peers.empty() ? last_.banned_peers : p.banned_peers;
  last_ = p;
  last_.from_seeder = from_seeder;
  last_.from_peers = from_peers;
  last_.from_banned_peers = from_banned;
  last_.banned_peers = std::move(banned);
  send("working", "", force);
}

void Reporter::done(const std::string& message) {
  step_ = "done";
  last_.fraction = 1;
  spdlog::info("[done] {}", message);
  send("done", "", true);
}

void Reporter::failed(const std::string& error) {
  spdlog::error("[{}] failed: {}", step_, error);
  send("failed", error.substr(0, api::kMaxEventErrorBytes), true);
}

void Reporter::send(const std::string& state, const std::string& error, bool force) {
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_sent_ < std::chrono::milliseconds(1000)) return;
  last_sent_ = now;
  if (!seeder_) return;
  const std::uint64_t total = last_.bytes_total;
  api::NodeEvent event;
  event.node_id = node_id_;
  event.mac = mac_;
  event.board = board_;
  event.release = release_;
  event.step = step_;
  event.state = state;
  event.progress = std::clamp(last_.fraction, 0.0, 1.0);
  event.bytes_done = total ? std::min(last_.bytes_done, total) : last_.bytes_done;
  event.bytes_total = total;
  event.bytes_from_seeder = last_.from_seeder;
  event.bytes_from_peers = last_.from_peers;
  event.bytes_from_banned_peers = last_.from_banned_peers;
  event.banned_peers = last_.banned_peers.substr(0, api::kMaxEventBannedBytes);
  event.rate = std::max(0.0, last_.rate);
  event.error = error;
  std::string why;
  if (!seeder_->post_event(node_id_, api::serialize_node_event(event), &why) && !warned_) {
    spdlog::warn("status report to the seeder failed ({}); flashing goes on", why);
    warned_ = true;
  }
}

std::string primary_mac(const std::string& root) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> ifaces;
  for (const auto& e : fs::directory_iterator(fs::path(root) / "sys/class/net", ec)) ifaces.push_back(e.path());
  std::sort(ifaces.begin(), ifaces.end());
  for (const auto& p : ifaces) {
    if (p.filename() == "lo") continue;
    std::ifstream in(p / "address");
    std::string mac;
    if (in >> mac && mac.size() == 17 && mac != "00:00:00:00:00:00") {
      std::transform(mac.begin(), mac.end(), mac.begin(), ::tolower);
      return mac;
    }
  }
  return "";
}

std::string default_node_id(const std::string& mac) {
  if (!mac.empty()) {
    std::string id = "node-";
    for (char c : mac)
      if (c != ':') id += c;
    return id;
  }
  char host[64] = {};
  ::gethostname(host, sizeof host - 1);
  std::string id;
  for (char c : std::string(host))
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_') id += c;
  return id.empty() ? "node" : id.substr(0, 64);
}

}  // namespace ironstone::flasher
