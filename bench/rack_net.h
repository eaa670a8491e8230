// The simulated rack: a switch and N+1 hosts (the NAS and N nodes), each host with its
// own network stack and a full-duplex port shaped to the link rate in both directions.
//
// Netns mode (root): network namespaces named <prefix>-sw (the switch: a bridge "br0" and
// one port "pK" per host), <prefix>-nas and <prefix>-n1..nN (one "eth0" each, addresses
// 198.18.0.1 for the NAS and 198.18.0.10+i for node i on 198.18.0.0/15). Each veth is
// shaped with `tc ... tbf rate RATE` on both ends. The bridge lives in its own
// namespace, so the root namespace (its interfaces, iptables and br_netfilter) is never
// touched. The prefix is unique per run: "isb<pid>".
//
// Loopback mode (no root): every host is 127.0.0.1 in the current namespace, unshaped.
//
// Teardown deletes exactly the namespaces this object created (which removes every
// interface and qdisc in them), in the destructor, idempotently; callers kill the
// processes they started in the namespaces first. Every `ip`/`tc` call is bounded.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ironstone::bench {

struct Host {
  std::string name;   // "nas", "n1", ...
  std::string ns;     // namespace name ("" in loopback mode)
  std::string ip;     // 198.18.0.1 / 198.18.0.11 / 127.0.0.1
  std::string dev;    // interface inside the host ("eth0"; "lo" in loopback mode)
  std::string port;   // switch port in <prefix>-sw ("p0", "p1", ...)
};

struct Counters {
  std::uint64_t tx = 0, rx = 0;  // bytes the host sent / received on its port
};

class RackNet {
 public:
  // netns: build the namespaces (needs root); otherwise loopback. rate/nas_rate: tc
  // rates ("100mbit"); nas_rate empty = rate.
  RackNet(bool netns, int nodes, const std::string& rate, const std::string& nas_rate, bool verbose = true);
  ~RackNet();
  RackNet(const RackNet&) = delete;
  RackNet& operator=(const RackNet&) = delete;

  bool netns() const { return netns_; }
  const std::string& prefix() const { return prefix_; }
  const Host& nas() const { return nas_; }
  const std::vector<Host>& nodes() const { return nodes_; }
  // argv prefix that runs a command on host h: {"ip","netns","exec",ns} or {}.
  std::vector<std::string> exec(const Host& h) const;
  // Byte counters of h's port (netns mode; zeros in loopback mode).
  Counters counters(const Host& h) const;
  // Deletes everything created, by exact name; prints what was removed. Idempotent.
  void teardown();
  // Names with this prefix that still exist (namespaces, root-namespace links).
  static std::vector<std::string> leftovers(const std::string& prefix);

 private:
  void ip(const std::vector<std::string>& args);
  void add_host(Host& h, int port_index);

  bool netns_, verbose_;
  std::string prefix_, rate_, nas_rate_, switch_ns_;
  Host nas_;
  std::vector<Host> nodes_;
  std::vector<std::string> created_ns_;  // creation order; deleted in reverse
};

// 100mbit / 1gbit / 2.5gbit / 500kbit / 12.5MB/s (tc units) -> bits per second.
double parse_rate_bps(const std::string& rate);

}  // namespace ironstone::bench
