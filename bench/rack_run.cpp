#include "bench/rack_run.h"

#include <unistd.h>

#include <ctime>
#include <iostream>

#include "bench/method_http.h"
#include "bench/method_ironstone.h"
#include "bench/method_multicast.h"
#include "bench/proc.h"
#include "bench/report.h"

namespace ironstone::bench {

namespace fs = std::filesystem;

namespace {

std::string utc_now() {
  char b[32];
  std::time_t t = std::time(nullptr);
  std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return b;
}

fs::path default_work() {
  // tmpfs keeps every node's disk out of the measurement (the real nodes write to NVMe,
  // faster than the link); falls back to /var/tmp.
  for (const char* base : {"/dev/shm", "/var/tmp"}) {
    if (access(base, W_OK) != 0) continue;
    std::string tmpl = std::string(base) + "/ironstone-bench.XXXXXX";
    if (mkdtemp(tmpl.data())) return tmpl;
  }
  throw std::runtime_error("no writable /dev/shm or /var/tmp");
}

// What the report says about this run and the machine it ran on (the image is added later).
RunInfo make_run_info(const RackOptions& o, bool netns) {
  RunInfo info;
  info.command = o.command;
  info.mode = netns ? "netns rack" : "loopback (unshaped)";
  info.link = o.link;
  info.nas_link = o.nas_link.empty() ? o.link : o.nas_link;
  info.started_utc = utc_now();
  info.cpus = int(sysconf(_SC_NPROCESSORS_ONLN));
  info.load_before = read_file("/proc/loadavg");
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  info.host = host;
  return info;
}

// Finds the binaries, prepares the image (the release, its zstd file) and sets the links
// and bounds every method runs with; fills in o.image.make_image when it is needed.
BenchEnv make_env(RackOptions& o, const RunInfo& info) {
  BenchEnv env;
  env.bin = find_binaries(o.bin_dir);
  if (o.image.image_file.empty()) o.image.make_image = find_make_image();
  env.image = prepare_image(o.image, env.bin);
  env.work = o.image.work;
  env.link_bps = parse_rate_bps(o.link);
  env.nas_bps = parse_rate_bps(info.nas_link);
  env.cmp = o.cmp;
  env.perf = o.perf;
  env.seeder_args = o.seeder_args;
  env.flasher_args = o.flasher_args;
  env.timeout_s = o.timeout_s;
  env.peers = o.peers;
  return env;
}

// Runs method `m` on the rack of `n` nodes in fresh directories (a reused --work keeps old
// ones) and logs its outcome on one line.
MethodResult run_method(const RackNet& rack, const BenchEnv& env, const std::string& m, int n) {
  std::cerr << "bench: N=" << n << ": " << m << " ... " << std::flush;
  std::error_code ec;
  fs::remove_all(env.work / "run" / (m + "-" + std::to_string(n)), ec);
  MethodResult r;
  if (m == "ironstone") r = run_ironstone(rack, env);
  else if (m == "ironstone-peers") r = run_ironstone_peers(rack, env);
  else if (env.peers > 0) throw std::runtime_error("--peers: method " + m + " flashes every node; use ironstone");
  else if (m == "http") r = run_http(rack, env);
  else if (m == "multicast") r = run_multicast(rack, env);
  else throw std::runtime_error("unknown method " + m);
  cleanup_method_dir(env, m + "-" + std::to_string(n));
  if (r.skipped) std::cerr << "skipped: " << r.note << "\n";
  else if (r.ok()) std::cerr << r.last() << " s (" << r.last() / r.floor_s << "x floor), CPU " << r.cpu_busy << "%\n";
  else {
    std::string why = r.note;
    for (const auto& nr : r.per_node)
      if (!nr.ok) why = nr.host + ": " + nr.error;
    std::cerr << "FAILED: " << why << "\n";
  }
  return r;
}

// Every N of the sweep: builds the rack, runs every method on it, tears it down. Sets
// *leftover_prefix to the last rack's name prefix (for the leftover check).
std::vector<MethodResult> run_sweep(const RackOptions& o, const BenchEnv& env, bool netns,
                                    std::string* leftover_prefix) {
  std::vector<MethodResult> results;
  for (int n : o.sweep) {
    RackNet rack(netns, n, o.link, o.nas_link);
    *leftover_prefix = rack.prefix();
    std::cerr << "bench: N=" << n << ": rack " << (netns ? rack.prefix() + "-{sw,nas,n1..}" : "on loopback")
              << " ready\n";
    for (const auto& m : o.methods) {
      throw_if_interrupted();
      results.push_back(run_method(rack, env, m, n));
    }
  }
  return results;
}

// Logs what of the rack named `prefix` is left over; true when something is.
bool report_leftovers(const std::string& prefix) {
  const auto left = RackNet::leftovers(prefix);
  for (const auto& l : left) std::cerr << "bench: LEFT OVER: " << l << "\n";
  return !left.empty();
}

// The table on stdout, OUT.json and OUT.svg; the exit status: 3 when the rack left
// something over, 1 when a method failed, else 0.
int report(const RackOptions& o, const RunInfo& info, const std::vector<MethodResult>& results, bool leftovers) {
  print_table(info, results);
  write_json(o.out + ".json", info, results);
  write_svg(o.out + ".svg", info, results);
  std::printf("wrote %s.json and %s.svg\n", o.out.c_str(), o.out.c_str());
  bool all_ok = true;
  for (const auto& r : results)
    if (!r.skipped && !r.ok()) all_ok = false;
  if (leftovers) return 3;
  return all_ok ? 0 : 1;
}

}  // namespace

int run_rack(RackOptions o) {
  install_signal_flag();
  const bool root = geteuid() == 0;
  const bool netns = root && !o.loopback;
  if (!netns)
    std::cerr << "bench: WARNING: " << (root ? "--loopback" : "not root")
              << ": every host runs on 127.0.0.1 in this namespace, UNSHAPED (no " << o.link
              << " links); times are not comparable to a rack. Run as root for the namespace rack.\n";
  bool own_work = o.image.work.empty();
  if (own_work) o.image.work = default_work();
  struct WorkGuard {
    fs::path dir;
    bool remove;
    ~WorkGuard() {
      std::error_code ec;
      if (remove) fs::remove_all(dir, ec);  // else: logs stay in DIR/run/<method>-<N>/<host>/
    }
  } guard{o.image.work, own_work && !o.keep};

  RunInfo info = make_run_info(o, netns);
  std::cerr << "bench: load average before: " << info.load_before;

  std::vector<MethodResult> results;
  std::string leftover_prefix;
  try {
    const BenchEnv env = make_env(o, info);
    info.image = env.image;
    std::cerr << "bench: image " << env.image.size << " bytes, stored " << env.image.stored_bytes
              << " bytes in the release, zstd image " << env.image.zst_bytes << " bytes; floor at " << o.link << " "
              << env.floor_seconds() << " s\n";
    results = run_sweep(o, env, netns, &leftover_prefix);
  } catch (const Interrupted&) {
    std::cerr << "\nbench: interrupted; everything was torn down\n";
    if (!leftover_prefix.empty()) report_leftovers(leftover_prefix);
    return 130;
  }
  bool leftovers = false;
  if (netns && !leftover_prefix.empty()) {
    leftovers = report_leftovers(leftover_prefix);
    if (!leftovers) std::cerr << "bench: nothing named " << leftover_prefix << "-* remains\n";
  }
  return report(o, info, results, leftovers);
}

}  // namespace ironstone::bench
