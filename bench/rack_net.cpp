#include "bench/rack_net.h"

#include <unistd.h>

#include <cctype>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "bench/proc.h"

namespace ironstone::bench {

namespace {
constexpr auto kIpTimeout = std::chrono::seconds(20);
}

double parse_rate_bps(const std::string& rate) {
  std::size_t i = 0;
  double v = std::stod(rate, &i);
  std::string u = rate.substr(i);
  for (auto& c : u) c = char(std::tolower(static_cast<unsigned char>(c)));
  if (u == "bit" || u == "bps" || u.empty()) return v;
  if (u == "kbit") return v * 1e3;
  if (u == "mbit") return v * 1e6;
  if (u == "gbit") return v * 1e9;
  if (u == "kb/s" || u == "kbps") return v * 8e3;
  if (u == "mb/s" || u == "mbps") return v * 8e6;
  if (u == "gb/s" || u == "gbps") return v * 8e9;
  throw std::runtime_error("unknown rate unit in '" + rate + "' (use e.g. 100mbit, 1gbit)");
}

RackNet::RackNet(bool netns, int nodes, const std::string& rate, const std::string& nas_rate, bool verbose)
    : netns_(netns), verbose_(verbose), prefix_("isb" + std::to_string(getpid())), rate_(rate),
      nas_rate_(nas_rate.empty() ? rate : nas_rate) {
  nas_.name = "nas";
  for (int i = 1; i <= nodes; ++i) {
    Host h;
    h.name = "n" + std::to_string(i);
    nodes_.push_back(h);
  }
  if (!netns_) {
    nas_.ip = "127.0.0.1";
    nas_.dev = "lo";
    for (auto& h : nodes_) h.ip = "127.0.0.1", h.dev = "lo";
    return;
  }
  parse_rate_bps(rate_);
  parse_rate_bps(nas_rate_);
  try {
    switch_ns_ = prefix_ + "-sw";
    ip({"netns", "add", switch_ns_});
    created_ns_.push_back(switch_ns_);
    ip({"-n", switch_ns_, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0"});
    ip({"-n", switch_ns_, "link", "set", "br0", "up"});
    ip({"-n", switch_ns_, "link", "set", "lo", "up"});
    nas_.ip = "198.18.0.1";
    add_host(nas_, 0);
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      nodes_[i].ip = "198.18.0." + std::to_string(10 + i + 1);
      add_host(nodes_[i], int(i + 1));
    }
  } catch (...) {
    teardown();
    throw;
  }
}

RackNet::~RackNet() { teardown(); }

void RackNet::ip(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"ip"};
  argv.insert(argv.end(), args.begin(), args.end());
  run_checked(argv, kIpTimeout);
}

void RackNet::add_host(Host& h, int port_index) {
  throw_if_interrupted();
  h.ns = prefix_ + "-" + h.name;
  h.dev = "eth0";
  h.port = "p" + std::to_string(port_index);
  ip({"netns", "add", h.ns});
  created_ns_.push_back(h.ns);
  ip({"-n", switch_ns_, "link", "add", h.port, "type", "veth", "peer", "name", h.dev, "netns", h.ns});
  ip({"-n", switch_ns_, "link", "set", h.port, "master", "br0", "up"});
  ip({"-n", h.ns, "link", "set", "lo", "up"});
  // "brd +": udp-receiver finds the sender by broadcast and fails without one.
  ip({"-n", h.ns, "addr", "add", h.ip + "/15", "brd", "+", "dev", h.dev});
  ip({"-n", h.ns, "link", "set", h.dev, "up"});
  ip({"-n", h.ns, "route", "add", "224.0.0.0/4", "dev", h.dev});
  // Both directions: the host's egress (eth0) and the switch's egress toward the host (pK).
  const std::string& rate = &h == &nas_ ? nas_rate_ : rate_;
  for (const auto& [ns, dev] : {std::pair{h.ns, h.dev}, std::pair{switch_ns_, h.port}})
    run_checked({"tc", "-n", ns, "qdisc", "add", "dev", dev, "root", "tbf", "rate", rate, "burst", "256kb",
                 "latency", "50ms"},
                kIpTimeout);
}

std::vector<std::string> RackNet::exec(const Host& h) const {
  if (!netns_) return {};
  return {"ip", "netns", "exec", h.ns};
}

Counters RackNet::counters(const Host& h) const {
  Counters c;
  if (!netns_) return c;
  std::string out;
  if (run({"ip", "-n", h.ns, "-s", "-j", "link", "show", "dev", h.dev}, kIpTimeout, &out, false) != 0) return c;
  try {
    auto j = nlohmann::json::parse(out);
    c.tx = j.at(0).at("stats64").at("tx").at("bytes").get<std::uint64_t>();
    c.rx = j.at(0).at("stats64").at("rx").at("bytes").get<std::uint64_t>();
  } catch (const std::exception&) {
  }
  return c;
}

void RackNet::teardown() {
  if (created_ns_.empty()) return;
  std::vector<std::string> removed, failed;
  for (auto it = created_ns_.rbegin(); it != created_ns_.rend(); ++it) {
    std::string out;
    int st = run({"ip", "netns", "del", *it}, kIpTimeout, &out, /*interruptible=*/false);
    (st == 0 ? removed : failed).push_back(*it);
  }
  created_ns_.clear();
  if (verbose_ || !failed.empty()) {
    std::ostringstream s;
    s << "rack: removed " << removed.size() << " namespaces (" ;
    for (std::size_t i = 0; i < removed.size(); ++i) s << (i ? " " : "") << removed[i];
    s << ") with their veths, bridge and qdiscs";
    if (!failed.empty()) {
      s << "; FAILED to remove:";
      for (const auto& f : failed) s << " " << f;
    }
    std::cerr << s.str() << "\n";
  }
}

std::vector<std::string> RackNet::leftovers(const std::string& prefix) {
  std::vector<std::string> found;
  std::string out;
  run({"ip", "netns", "list"}, kIpTimeout, &out, false);
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    std::string name = line.substr(0, line.find(' '));
    if (name.rfind(prefix + "-", 0) == 0) found.push_back("netns " + name);
  }
  out.clear();
  run({"ip", "-o", "link", "show"}, kIpTimeout, &out, false);
  std::istringstream links(out);
  for (std::string line; std::getline(links, line);)
    if (line.find(" " + prefix + "-") != std::string::npos) found.push_back("link " + line.substr(0, 60));
  return found;
}

}  // namespace ironstone::bench
