// What every method runner gets (the image, the binaries, the links, the bounds) and
// what it returns (per-node completion times, bytes, CPU), measured the same way for
// every method: the clock starts when the NAS side is ready and the nodes are started;
// a node's time is when it holds the verified image; the method's time is the last node's.
#pragma once

#include <cstdint>
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "bench/proc.h"
#include "bench/rack_net.h"

namespace ironstone::bench {

struct Image {
  std::filesystem::path gold;         // the raw (sparse) image
  std::uint64_t size = 0;             // image bytes
  std::filesystem::path zst;          // zstd -T0 -3 of the image (HTTP, multicast)
  std::uint64_t zst_bytes = 0;
  std::filesystem::path store, public_key;  // the signed release (Ironstone)
  std::uint64_t stored_bytes = 0;     // compressed non-zero chunks: the floor's numerator
  std::string board = "rpi5", version = "bench-1";
};

struct Binaries {
  std::string build, seeder, flasher, self;
};

struct BenchEnv {
  Image image;
  Binaries bin;
  std::filesystem::path work;  // per-run scratch; node targets go below it
  double link_bps = 100e6, nas_bps = 100e6;
  bool cmp = true;             // byte-compare every node's target with the image afterwards
  bool perf = false;           // profile the Ironstone runs with perf record -a
  int timeout_s = 0;           // 0: from the floor
  std::vector<std::string> seeder_args, flasher_args;  // extra flags for the Ironstone binaries
  // --peers P: the first P nodes of the rack are provisioned peers (method "ironstone-peers"
  // runs `ironstone-seeder --peer-of` on them), the rest flash; "ironstone" flashes only the rest.
  int peers = 0;
  double floor_seconds() const { return double(image.stored_bytes) * 8.0 / link_bps; }
  int timeout_for(int nodes) const;
};

struct NodeResult {
  std::string host;
  bool ok = false;
  double seconds = -1;   // from the start until it held the verified image
  double cpu_s = 0;      // CPU time of the node's processes
  double user_s = 0, sys_s = 0;  // the same, split (wait4 rusage, or /proc/<pid>/stat if killed)
  // Ironstone: the flasher's "cpu by stage" line (CPU s of piece_hash, zstd, blake2b, write,
  // read_back; copied_in, copied_out and bytes_written in bytes); empty for the others.
  std::map<std::string, double> stages;
  std::string error;
  std::uint64_t from_nas = 0, from_peers = 0;  // as the node reports them (Ironstone only)
};

struct MethodResult {
  std::string method;  // ironstone, http, multicast
  int nodes = 0;
  bool skipped = false;
  std::string note;    // why skipped / what failed
  std::vector<NodeResult> per_node;
  std::uint64_t nas_bytes = 0, node_bytes = 0;  // sent by the NAS / by all nodes
  std::string bytes_source;                     // "wire" (interface counters) or "payload"
  double cpu_busy = 0;                          // whole machine, % over the run
  double nas_cpu_s = 0, nodes_cpu_s = 0;
  double nodes_user_s = 0, nodes_sys_s = 0;
  double floor_s = 0;
  std::vector<std::string> profile;             // perf summary lines (Ironstone, --perf)
  std::uint64_t from_peers = 0;                 // payload the flashers report from peers
  std::uint64_t peer_max_rss = 0;               // max VmHWM of the peer processes, bytes
  int flashing = 0;                             // nodes that flashed (nodes minus peers)

  bool ok() const;
  double last() const;     // the last node's time (-1 if any failed)
  double pct(double p) const;
};

MethodResult run_ironstone(const RackNet& rack, const BenchEnv& env);
// --peers: P peers fetch the release from the NAS first (until each lists it in its own
// GET /v1/releases), then the flashing nodes flash with the NAS and the peers as --seeders.
MethodResult run_ironstone_peers(const RackNet& rack, const BenchEnv& env);
MethodResult run_http(const RackNet& rack, const BenchEnv& env);
MethodResult run_multicast(const RackNet& rack, const BenchEnv& env);

// Shared helpers for the runners.
std::filesystem::path node_dir(const BenchEnv& env, const std::string& method, const Host& h);
void check_targets(const BenchEnv& env, MethodResult& r, const std::vector<std::filesystem::path>& targets);
void cleanup_method_dir(const BenchEnv& env, const std::string& method);
bool log_contains(const std::filesystem::path& log, const std::string& needle);
// The interface counters of the NAS, then of every node, in rack order.
std::vector<Counters> rack_counters(const RackNet& rack);
// The bytes sent on the wire between two rack_counters() samples: by the NAS into
// r.nas_bytes, by all nodes into r.node_bytes; r.bytes_source "wire".
void count_wire_bytes(const std::vector<Counters>& before, const std::vector<Counters>& after, MethodResult& r);
// Polls `log` every `poll` until `re` matches it: returns the match's first group. nullopt
// when `child` exits or `timeout` passes first, with *last the log as last read. Throws
// Interrupted after a signal.
std::optional<std::string> wait_for_log(const std::filesystem::path& log, const std::regex& re, Child& child,
                                        std::chrono::seconds timeout, std::chrono::milliseconds poll,
                                        std::string* last);

}  // namespace ironstone::bench
