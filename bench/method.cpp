#include "bench/method.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <thread>

#include "bench/proc.h"

namespace ironstone::bench {

int BenchEnv::timeout_for(int nodes) const {
  if (timeout_s > 0) return timeout_s;
  // Generous: three times what HTTP unicast from the NAS would need, plus start-up.
  double unicast = double(image.stored_bytes) * 8.0 / nas_bps * nodes;
  return int(std::max(120.0, 3.0 * unicast + 60.0));
}

bool MethodResult::ok() const {
  if (skipped || per_node.empty()) return false;
  return std::all_of(per_node.begin(), per_node.end(), [](const NodeResult& n) { return n.ok; });
}

double MethodResult::last() const {
  if (!ok()) return -1;
  double m = 0;
  for (const auto& n : per_node) m = std::max(m, n.seconds);
  return m;
}

double MethodResult::pct(double p) const {
  std::vector<double> t;
  for (const auto& n : per_node)
    if (n.ok) t.push_back(n.seconds);
  if (t.empty()) return -1;
  std::sort(t.begin(), t.end());
  // nearest-rank percentile
  std::size_t k = std::size_t(std::ceil(p / 100.0 * double(t.size())));
  k = std::clamp<std::size_t>(k, 1, t.size());
  return t[k - 1];
}

std::filesystem::path node_dir(const BenchEnv& env, const std::string& method, const Host& h) {
  auto d = env.work / "run" / method / h.name;  // method: "ironstone-8"
  std::filesystem::create_directories(d);
  return d;
}

void cleanup_method_dir(const BenchEnv& env, const std::string& method) {
  // Frees the targets and caches; keeps the logs (in the work directory).
  std::error_code ec;
  for (const auto& d : std::filesystem::directory_iterator(env.work / "run" / method, ec)) {
    std::filesystem::remove(d.path() / "disk.img", ec);
    std::filesystem::remove_all(d.path() / "cache", ec);
    std::filesystem::remove_all(d.path() / "root", ec);
  }
}

void check_targets(const BenchEnv& env, MethodResult& r, const std::vector<std::filesystem::path>& targets) {
  if (!env.cmp) return;
  for (std::size_t i = 0; i < r.per_node.size() && i < targets.size(); ++i) {
    auto& n = r.per_node[i];
    if (!n.ok) continue;
    std::string out;
    int st = run({"cmp", "-s", env.image.gold.string(), targets[i].string()}, std::chrono::seconds(300), &out);
    if (st != 0) {
      n.ok = false;
      n.error = "target differs from the image (cmp exit " + std::to_string(st) + ")";
    }
  }
}

bool log_contains(const std::filesystem::path& log, const std::string& needle) {
  return read_file(log.string()).find(needle) != std::string::npos;
}

std::vector<Counters> rack_counters(const RackNet& rack) {
  std::vector<Counters> out;
  out.push_back(rack.counters(rack.nas()));
  for (const auto& h : rack.nodes()) out.push_back(rack.counters(h));
  return out;
}

void count_wire_bytes(const std::vector<Counters>& before, const std::vector<Counters>& after, MethodResult& r) {
  r.bytes_source = "wire";
  r.nas_bytes = after[0].tx - before[0].tx;
  for (std::size_t i = 1; i < after.size(); ++i) r.node_bytes += after[i].tx - before[i].tx;
}

std::optional<std::string> wait_for_log(const std::filesystem::path& log, const std::regex& re, Child& child,
                                        std::chrono::seconds timeout, std::chrono::milliseconds poll,
                                        std::string* last) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    std::smatch m;
    *last = read_file(log.string());
    if (std::regex_search(*last, m, re)) return m[1].str();
    if (child.poll() || Clock::now() > deadline) return std::nullopt;
    throw_if_interrupted();
    std::this_thread::sleep_for(poll);
  }
}

}  // namespace ironstone::bench
