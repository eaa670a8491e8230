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
  std::cerr << "bench: load average before: " << info.load_before;

  std::vector<MethodResult> results;
  std::string leftover_prefix;
  try {
    BenchEnv env;
    env.bin = find_binaries(o.bin_dir);
    if (o.image.image_file.empty()) o.image.make_image = find_make_image();
    env.image = prepare_image(o.image, env.bin);
    info.image = env.image;
    env.work = o.image.work;
    env.link_bps = parse_rate_bps(o.link);
    env.nas_bps = parse_rate_bps(info.nas_link);
    env.cmp = o.cmp;
    env.perf = o.perf;
    env.seeder_args = o.seeder_args;
    env.flasher_args = o.flasher_args;
    env.timeout_s = o.timeout_s;
    std::cerr << "bench: image " << env.image.size << " bytes, stored " << env.image.stored_bytes
              << " bytes in the release, zstd image " << env.image.zst_bytes << " bytes; floor at " << o.link << " "
              << env.floor_seconds() << " s\n";
    for (int n : o.sweep) {
      RackNet rack(netns, n, o.link, o.nas_link);
      leftover_prefix = rack.prefix();
      std::cerr << "bench: N=" << n << ": rack " << (netns ? rack.prefix() + "-{sw,nas,n1..}" : "on loopback")
                << " ready\n";
      for (const auto& m : o.methods) {
        throw_if_interrupted();
        std::cerr << "bench: N=" << n << ": " << m << " ... " << std::flush;
        std::error_code ec;  // fresh logs and targets for this run (a reused --work keeps old ones)
        fs::remove_all(env.work / "run" / (m + "-" + std::to_string(n)), ec);
        MethodResult r;
        if (m == "ironstone") r = run_ironstone(rack, env);
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
        results.push_back(std::move(r));
      }
    }
  } catch (const Interrupted&) {
    std::cerr << "\nbench: interrupted; everything was torn down\n";
    if (!leftover_prefix.empty())
      for (const auto& l : RackNet::leftovers(leftover_prefix)) std::cerr << "bench: LEFT OVER: " << l << "\n";
    return 130;
  }
  bool leftovers = false;
  if (netns && !leftover_prefix.empty()) {
    auto left = RackNet::leftovers(leftover_prefix);
    leftovers = !left.empty();
    for (const auto& l : left) std::cerr << "bench: LEFT OVER: " << l << "\n";
    if (left.empty()) std::cerr << "bench: nothing named " << leftover_prefix << "-* remains\n";
  }
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

}  // namespace ironstone::bench
