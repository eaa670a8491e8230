#include "bench/method_ironstone.h"

#include <iostream>
#include <regex>
#include <sstream>
#include <thread>

#include "bench/proc.h"

namespace ironstone::bench {

namespace {

// "... 123 bytes from the seeder, 456 from peers"
void parse_summary(const std::string& log, NodeResult& n) {
  static const std::regex re(R"((\d+) bytes from the seeder, (\d+) from peers)");
  std::smatch m;
  if (std::regex_search(log, m, re)) {
    n.from_nas = std::stoull(m[1]);
    n.from_peers = std::stoull(m[2]);
  }
}

std::string tail_line(const std::string& log) {
  auto end = log.find_last_not_of("\n");
  if (end == std::string::npos) return "";
  auto start = log.rfind('\n', end);
  return log.substr(start == std::string::npos ? 0 : start + 1,
                    end - (start == std::string::npos ? 0 : start + 1) + 1);
}

}  // namespace

MethodResult run_ironstone(const RackNet& rack, const BenchEnv& env) {
  MethodResult r;
  r.method = "ironstone";
  r.nodes = int(rack.nodes().size());
  r.floor_s = env.floor_seconds();
  const int timeout = env.timeout_for(r.nodes);
  const auto nas_dir = node_dir(env, r.method + "-" + std::to_string(r.nodes), rack.nas());

  // The seeder: ready when it logs its ports.
  std::vector<std::string> argv = rack.exec(rack.nas());
  const std::string listen = rack.netns() ? rack.nas().ip + ":8080" : "127.0.0.1:0";
  const std::string bt = rack.netns() ? rack.nas().ip + ":6881" : "127.0.0.1:0";
  for (std::string a : {env.bin.seeder, std::string("--store"), env.image.store.string(),
                        std::string("--listen"), listen, std::string("--bt-listen"), bt})
    argv.push_back(a);
  if (rack.netns()) argv.insert(argv.end(), {"--public-url", "http://" + rack.nas().ip + ":8080/"});
  // A fleet of its own per run: nodes of an earlier run (same ids) must not count in this one's stripes.
  for (const char* f : {"fleet.sqlite", "fleet.sqlite-wal", "fleet.sqlite-shm"}) std::filesystem::remove(nas_dir / f);
  argv.insert(argv.end(), {"--fleet-db", (nas_dir / "fleet.sqlite").string()});
  argv.insert(argv.end(), env.seeder_args.begin(), env.seeder_args.end());
  const auto seeder_log = nas_dir / "seeder.log";
  Child seeder(argv, seeder_log.string());
  std::string http_port;
  {
    static const std::regex re(R"(HTTP port (\d+), BitTorrent port (\d+))");
    auto deadline = Clock::now() + std::chrono::seconds(60);
    for (;;) {
      std::smatch m;
      std::string log = read_file(seeder_log.string());
      if (std::regex_search(log, m, re)) {
        http_port = m[1];
        break;
      }
      if (seeder.poll() || Clock::now() > deadline) {
        r.note = "the seeder did not start: " + tail_line(log);
        return r;
      }
      throw_if_interrupted();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  const std::string seeder_url = "http://" + rack.nas().ip + ":" + http_port;

  // perf, system-wide, for "which part of Ironstone spends the CPU".
  Child perf;
  const auto perf_data = env.work / ("perf-ironstone-" + std::to_string(r.nodes) + ".data");
  if (env.perf)
    perf = Child({"perf", "record", "-F", "499", "-a", "-o", perf_data.string(), "--", "sleep",
                  std::to_string(timeout)},
                 (nas_dir / "perf.log").string());

  std::vector<Counters> before;
  before.push_back(rack.counters(rack.nas()));
  for (const auto& h : rack.nodes()) before.push_back(rack.counters(h));

  const auto cpu0 = CpuSample::now();
  const auto t0 = Clock::now();
  std::vector<Child> flashers;
  std::vector<std::filesystem::path> logs, targets;
  for (const auto& h : rack.nodes()) {
    auto d = node_dir(env, r.method + "-" + std::to_string(r.nodes), h);
    std::filesystem::create_directories(d / "root" / "proc");
    // The fake root stands in for the board's hardware; its memory is this machine's, which
    // the flasher's --cache auto reads (flasher/chunk_cache.h).
    std::error_code ec;
    std::filesystem::create_symlink("/proc/meminfo", d / "root" / "proc" / "meminfo", ec);
    std::vector<std::string> a = rack.exec(h);
    for (std::string s : {env.bin.flasher,
                          std::string("--seeder"),
                          seeder_url,
                          std::string("--board"),
                          env.image.board,
                          std::string("--public-key"),
                          env.image.public_key.string(),
                          std::string("--target"),
                          (d / "disk.img").string(),
                          std::string("--root"),
                          (d / "root").string(),
                          std::string("--node-id"),
                          "bench-" + h.name,
                          std::string("--state-file"),
                          (d / "state.json").string(),
                          std::string("--cache-dir"),
                          (d / "cache").string(),
                          std::string("--bt-listen"),
                          h.ip + (rack.netns() ? ":6881" : ":0"),
                          std::string("--skip-firmware"),
                          std::string("--power"),
                          std::string("stay-up"),
                          std::string("--linger"),
                          std::to_string(timeout)})
      a.push_back(s);
    a.insert(a.end(), env.flasher_args.begin(), env.flasher_args.end());
    logs.push_back(d / "flasher.log");
    targets.push_back(d / "disk.img");
    flashers.emplace_back(a, logs.back().string());
    NodeResult n;
    n.host = h.name;
    r.per_node.push_back(n);
  }

  // A node is done when it logs that it lingers (after the final verification and the
  // report), or when it exits 0.
  const auto deadline = t0 + std::chrono::seconds(timeout);
  std::vector<bool> done(flashers.size(), false);
  std::size_t remaining = flashers.size();
  Clock::time_point last_done = t0;
  while (remaining > 0 && Clock::now() < deadline) {
    for (std::size_t i = 0; i < flashers.size(); ++i) {
      if (done[i]) continue;
      const auto& e = flashers[i].poll();
      bool finished = false;
      if (e) {
        finished = true;
        r.per_node[i].ok = e->status == 0;
        if (!r.per_node[i].ok)
          r.per_node[i].error =
              "flasher exit " + std::to_string(e->status) + ": " + tail_line(read_file(logs[i]));
      } else if (log_contains(logs[i], "lingering up to")) {
        finished = true;
        r.per_node[i].ok = true;
      }
      if (finished) {
        r.per_node[i].seconds = std::chrono::duration<double>(Clock::now() - t0).count();
        done[i] = true;
        --remaining;
        last_done = Clock::now();
      }
    }
    throw_if_interrupted();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const auto cpu1 = CpuSample::now();
  r.cpu_busy = busy_percent(cpu0, cpu1);
  for (std::size_t i = 0; i < flashers.size(); ++i)
    if (!done[i]) r.per_node[i].error = "timeout after " + std::to_string(timeout) + " s";
  if (env.perf) perf.kill(std::chrono::milliseconds(20000));

  // Lingering nodes exit once the seeder reports the rack done; bounded.
  r.nas_cpu_s = seeder.live_cpu_seconds();
  for (std::size_t i = 0; i < flashers.size(); ++i) {
    auto e = flashers[i].wait_until(Clock::now() + std::chrono::seconds(remaining ? 1 : 45));
    if (!e) {
      r.per_node[i].cpu_s = flashers[i].live_cpu_seconds();
      flashers[i].kill();
    } else {
      r.per_node[i].cpu_s = e->cpu_seconds;
    }
    r.nodes_cpu_s += r.per_node[i].cpu_s;
    parse_summary(read_file(logs[i]), r.per_node[i]);
  }
  std::vector<Counters> after;
  after.push_back(rack.counters(rack.nas()));
  for (const auto& h : rack.nodes()) after.push_back(rack.counters(h));
  seeder.kill();

  if (rack.netns()) {
    r.bytes_source = "wire";
    r.nas_bytes = after[0].tx - before[0].tx;
    for (std::size_t i = 1; i < after.size(); ++i) r.node_bytes += after[i].tx - before[i].tx;
  } else {
    r.bytes_source = "payload";
    for (const auto& n : r.per_node) r.nas_bytes += n.from_nas, r.node_bytes += n.from_peers;
  }
  if (env.perf) {
    std::string out;
    run({"perf", "report", "-i", perf_data.string(), "--stdio", "--no-children", "--sort", "comm,dso",
         "--percent-limit", "2"},
        std::chrono::seconds(120), &out);
    std::string out2;
    run({"perf", "report", "-i", perf_data.string(), "--stdio", "--no-children", "--sort", "dso,sym",
         "--percent-limit", "1.5"},
        std::chrono::seconds(120), &out2);
    for (const std::string* o : {&out, &out2}) {
      std::istringstream in(*o);
      for (std::string line; std::getline(in, line);)
        if (!line.empty() && line[0] != '#' && line.find('%') != std::string::npos) r.profile.push_back(line);
      r.profile.push_back("--");
    }
  }
  check_targets(env, r, targets);
  (void)last_done;
  return r;
}

}  // namespace ironstone::bench
