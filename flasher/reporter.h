// Reporter: tells the seeder (and the log) what the flasher is doing.
// Every step and its progress go to POST /v1/nodes/<node-id>/events as JSON
// (docs/http-api.md, "Node events"; the body is api::serialize_node_event, api/node_event.h);
// delivery is best effort and rate-limited, never blocks or fails a flash. Thread safety: one thread uses a Reporter.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "flasher/seeder_client.h"

namespace ironstone::flasher {

struct Progress {
  double fraction = 0;
  std::uint64_t bytes_done = 0, bytes_total = 0;
  std::uint64_t from_seeder = 0, from_peers = 0;
  std::uint64_t from_banned_peers = 0;
  std::string banned_peers;  // "ip:port (reason); ..." (flasher/swarm_download.h SwarmStats::banned)
  double rate = 0;
};

class Reporter {
 public:
  Reporter(const SeederClient* seeder, std::string node_id, std::string mac);
  void set_board(std::string board) { board_ = std::move(board); }
  void set_release(std::string version) { release_ = std::move(version); }
  const std::string& node_id() const { return node_id_; }

  // A new step starts ("download", "verify", ...): logged and reported at once.
  void step(const std::string& step, const std::string& message);
  // Progress within the current step: reported at most every interval.
  void progress(const Progress& p, bool force = false);
  void done(const std::string& message);
  void failed(const std::string& error);

 private:
  void send(const std::string& state, const std::string& error, bool force);

  const SeederClient* seeder_;
  std::string node_id_, mac_, board_, release_, step_ = "start";
  Progress last_;
  std::chrono::steady_clock::time_point last_sent_{};
  bool warned_ = false;
};

// This node's identity: the MAC of the first non-loopback interface under
// <root>/sys/class/net (lower-case, ""), and a node id derived from it
// ("node-dca632010203"), or from the host name when there is no MAC.
std::string primary_mac(const std::string& root);
std::string default_node_id(const std::string& mac);

}  // namespace ironstone::flasher
