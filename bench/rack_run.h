// `ironstone-bench rack`: for each N of the sweep, build the rack (netns or loopback),
// run every method on it, tear it down; then the table, the JSON and the SVG plot.
// --peers P (issue #13): the first P nodes are provisioned peers; the methods are then
// "ironstone-peers" (the peers hold the release, the other nodes flash from the NAS and the
// peers) and "ironstone" (the same flashing nodes, no peers), reported side by side with
// NAS copies sent, bytes from peers and the peers' peak RSS.
#pragma once

#include <string>
#include <vector>

#include "bench/workload.h"

namespace ironstone::bench {

struct RackOptions {
  std::vector<int> sweep{4};
  std::string link = "100mbit", nas_link;
  std::vector<std::string> methods{"ironstone", "http", "multicast"};
  ImageOptions image;
  std::string bin_dir;
  std::string out = "ironstone-bench";  // writes OUT.json and OUT.svg
  bool loopback = false;                // force loopback mode even as root
  bool keep = false;                    // keep the work directory
  bool cmp = true, perf = false;
  int timeout_s = 0;
  int peers = 0;                        // --peers: the first P nodes are peers (method.h, BenchEnv::peers)
  std::vector<std::string> seeder_args, flasher_args;  // passed through to every seeder / flasher
  std::string command;                  // the command line, for the report
};

int run_rack(RackOptions o);

}  // namespace ironstone::bench
