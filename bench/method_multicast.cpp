#include "bench/method_multicast.h"

#include <unistd.h>

#include <cstdio>
#include <thread>

#include "bench/method_http.h"
#include "bench/proc.h"

namespace ironstone::bench {

namespace {

// Why multicast cannot run here ("" when it can): udpcast missing, or loopback without the
// MULTICAST flag.
std::string why_skipped(const RackNet& rack) {
  if (access("/usr/bin/udp-sender", X_OK) != 0 || access("/usr/bin/udp-receiver", X_OK) != 0)
    return "udpcast is not installed (apt-get install udpcast)";
  if (!rack.netns()) {
    std::string out;
    run({"ip", "-o", "link", "show", "lo"}, std::chrono::seconds(10), &out);
    if (out.find("MULTICAST") == std::string::npos)
      return "loopback mode: lo has no MULTICAST flag (run as root for the namespace rack)";
  }
  return "";
}

// The sender's command line: it starts as soon as all `nodes` receivers have joined.
std::vector<std::string> sender_argv(const RackNet& rack, const BenchEnv& env, int nodes) {
  std::vector<std::string> sargv = rack.exec(rack.nas());
  sargv.insert(sargv.end(), {"udp-sender", "--file", env.image.zst.string(), "--interface", rack.nas().dev,
                             "--min-receivers", std::to_string(nodes), "--nokbd", "--portbase", "9000",
                             "--max-wait", "30", "--retries-until-drop", "200"});
  if (rack.netns()) {
    // Just under the NAS link, or tbf drops what udpcast then has to resend.
    char rate[32];
    std::snprintf(rate, sizeof rate, "%.0fm", env.nas_bps * 0.95 / 1e6);
    sargv.insert(sargv.end(), {"--max-bitrate", rate});
  }
  return sargv;
}

}  // namespace

MethodResult run_multicast(const RackNet& rack, const BenchEnv& env) {
  MethodResult r;
  r.method = "multicast";
  r.nodes = int(rack.nodes().size());
  r.floor_s = env.floor_seconds();
  r.note = why_skipped(rack);
  if (!r.note.empty()) {
    r.skipped = true;
    return r;
  }
  const int timeout = env.timeout_for(r.nodes);
  const auto nas_dir = node_dir(env, r.method + "-" + std::to_string(r.nodes), rack.nas());
  const std::vector<Counters> before = rack_counters(rack);

  // Receivers first; the sender starts as soon as all N have joined (--min-receivers).
  const auto cpu0 = CpuSample::now();
  const auto t0 = Clock::now();
  std::vector<std::filesystem::path> targets;
  std::vector<Child> kids;
  const std::vector<std::string> sargv = sender_argv(rack, env, r.nodes);
  Child sender;
  std::thread start_sender([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    sender = Child(sargv, (nas_dir / "udp-sender.log").string());
  });
  try {
    run_node_pipelines(rack, env, r, timeout,
                       [&](const Host& h, const std::filesystem::path& target) {
                         return "udp-receiver --nokbd --interface " + h.dev +
                                " --portbase 9000 --start-timeout 60 --no-progress | zstd -d -q -f -o " +
                                shell_quote(target.string());
                       },
                       &targets, t0, kids);
  } catch (...) {
    start_sender.join();
    throw;
  }
  start_sender.join();
  r.cpu_busy = busy_percent(cpu0, CpuSample::now());
  auto e = sender.wait_until(Clock::now() + std::chrono::seconds(10));
  if (e) r.nas_cpu_s = e->cpu_seconds;
  sender.kill();
  if (!r.ok() && r.note.empty()) r.note = read_file((nas_dir / "udp-sender.log").string()).substr(0, 300);
  const std::vector<Counters> after = rack_counters(rack);
  if (rack.netns()) {
    count_wire_bytes(before, after, r);
  } else {
    r.bytes_source = "payload";
    r.nas_bytes = env.image.zst_bytes;
  }
  check_targets(env, r, targets);
  return r;
}

}  // namespace ironstone::bench
