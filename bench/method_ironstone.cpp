#include "bench/method_ironstone.h"

#include <iostream>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>
#include <tuple>

#include "bench/proc.h"

namespace ironstone::bench {

namespace fs = std::filesystem;

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

// "cpu by stage (s): piece_hash=0.312 zstd=0.700 ...; copied_in=123 copied_out=0 bytes_written=456"
void parse_stage_cpu(const std::string& log, NodeResult& n) {
  const auto at = log.find("cpu by stage (s): ");
  if (at == std::string::npos) return;
  const std::string line = log.substr(at, log.find('\n', at) - at);
  static const std::regex kv(R"(([a-z0-9_]+)=([0-9.]+))");
  for (std::sregex_iterator it(line.begin(), line.end(), kv), end; it != end; ++it)
    n.stages[(*it)[1]] = std::stod((*it)[2]);
}

std::string tail_line(const std::string& log) {
  auto end = log.find_last_not_of("\n");
  if (end == std::string::npos) return "";
  auto start = log.rfind('\n', end);
  return log.substr(start == std::string::npos ? 0 : start + 1,
                    end - (start == std::string::npos ? 0 : start + 1) + 1);
}

// Starts the seeder of one run into `seeder` (a fleet of its own: nodes of an earlier run,
// same ids, must not count in this one's stripes) and waits up to 60 s until it logs its
// ports. Returns its URL, or nullopt with *note saying why it did not start.
std::optional<std::string> start_seeder(const RackNet& rack, const BenchEnv& env, const fs::path& nas_dir,
                                        Child& seeder, std::string* note) {
  std::vector<std::string> argv = rack.exec(rack.nas());
  const std::string listen = rack.netns() ? rack.nas().ip + ":8080" : "127.0.0.1:0";
  const std::string bt = rack.netns() ? rack.nas().ip + ":6881" : "127.0.0.1:0";
  for (std::string a : {env.bin.seeder, std::string("--store"), env.image.store.string(),
                        std::string("--listen"), listen, std::string("--bt-listen"), bt})
    argv.push_back(a);
  if (rack.netns()) argv.insert(argv.end(), {"--public-url", "http://" + rack.nas().ip + ":8080/"});
  for (const char* f : {"fleet.sqlite", "fleet.sqlite-wal", "fleet.sqlite-shm"}) fs::remove(nas_dir / f);
  argv.insert(argv.end(), {"--fleet-db", (nas_dir / "fleet.sqlite").string()});
  argv.insert(argv.end(), env.seeder_args.begin(), env.seeder_args.end());
  const auto seeder_log = nas_dir / "seeder.log";
  seeder = Child(argv, seeder_log.string());

  static const std::regex re(R"(HTTP port (\d+), BitTorrent port (\d+))");
  std::string log;
  const auto port = wait_for_log(seeder_log, re, seeder, std::chrono::seconds(60), std::chrono::milliseconds(50), &log);
  if (!port) {
    *note = "the seeder did not start: " + tail_line(log);
    return std::nullopt;
  }
  return "http://" + rack.nas().ip + ":" + *port;
}

// perf, system-wide, for "which part of Ironstone spends the CPU": records into `data` for
// up to `timeout` seconds.
Child start_perf(const fs::path& data, int timeout, const fs::path& nas_dir) {
  return Child({"perf", "record", "-F", "499", "-a", "-o", data.string(), "--", "sleep", std::to_string(timeout)},
               (nas_dir / "perf.log").string());
}

// The flasher command line of node `h`, whose files go below `d`.
std::vector<std::string> flasher_argv(const RackNet& rack, const BenchEnv& env, const Host& h, const fs::path& d,
                                      const std::string& seeder_url, int timeout) {
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
  return a;
}

// The running flashers, one per node in rack order, with their logs and targets.
struct Flashers {
  std::vector<Child> children;
  std::vector<fs::path> logs, targets;
};

Flashers start_flashers(const RackNet& rack, const BenchEnv& env, const std::string& run_name,
                        const std::string& seeder_url, int timeout) {
  Flashers f;
  for (const auto& h : rack.nodes()) {
    auto d = node_dir(env, run_name, h);
    fs::create_directories(d / "root" / "proc");
    // The fake root stands in for the board's hardware; its memory is this machine's, which
    // the flasher's --cache auto reads (flasher/chunk_cache.h).
    std::error_code ec;
    fs::create_symlink("/proc/meminfo", d / "root" / "proc" / "meminfo", ec);
    f.logs.push_back(d / "flasher.log");
    f.targets.push_back(d / "disk.img");
    f.children.emplace_back(flasher_argv(rack, env, h, d, seeder_url, timeout), f.logs.back().string());
  }
  return f;
}

// Waits until every flasher is done (it logs that it lingers, after the final verification
// and the report, or it exits 0) or `timeout` seconds after t0; fills per_node's ok, seconds
// and error. Returns how many did not finish (their error: "timeout after N s").
std::size_t wait_for_flashers(Flashers& f, Clock::time_point t0, int timeout, std::vector<NodeResult>& per_node) {
  const auto deadline = t0 + std::chrono::seconds(timeout);
  std::vector<bool> done(f.children.size(), false);
  std::size_t remaining = f.children.size();
  while (remaining > 0 && Clock::now() < deadline) {
    for (std::size_t i = 0; i < f.children.size(); ++i) {
      if (done[i]) continue;
      const auto& e = f.children[i].poll();
      bool finished = false;
      if (e) {
        finished = true;
        per_node[i].ok = e->status == 0;
        if (!per_node[i].ok)
          per_node[i].error = "flasher exit " + std::to_string(e->status) + ": " + tail_line(read_file(f.logs[i]));
      } else if (log_contains(f.logs[i], "lingering up to")) {
        finished = true;
        per_node[i].ok = true;
      }
      if (finished) {
        per_node[i].seconds = std::chrono::duration<double>(Clock::now() - t0).count();
        done[i] = true;
        --remaining;
      }
    }
    throw_if_interrupted();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (std::size_t i = 0; i < f.children.size(); ++i)
    if (!done[i]) per_node[i].error = "timeout after " + std::to_string(timeout) + " s";
  return remaining;
}

// Lingering nodes exit once the seeder reports the rack done: waits for each (45 s, or 1 s
// when some never finished), kills the rest, and reads each node's CPU time and byte summary
// into per_node. Returns the nodes' CPU seconds in all.
double reap_flashers(Flashers& f, std::size_t remaining, std::vector<NodeResult>& per_node) {
  double cpu = 0;
  for (std::size_t i = 0; i < f.children.size(); ++i) {
    auto e = f.children[i].wait_until(Clock::now() + std::chrono::seconds(remaining ? 1 : 45));
    if (!e) {
      std::tie(per_node[i].user_s, per_node[i].sys_s) = f.children[i].live_user_sys();
      f.children[i].kill();
    } else {
      per_node[i].user_s = e->user_s;
      per_node[i].sys_s = e->sys_s;
    }
    per_node[i].cpu_s = per_node[i].user_s + per_node[i].sys_s;
    cpu += per_node[i].cpu_s;
    const std::string log = read_file(f.logs[i]);
    parse_summary(log, per_node[i]);
    parse_stage_cpu(log, per_node[i]);
  }
  return cpu;
}

// The bytes the NAS and the nodes sent: from the interface counters in a namespace rack
// ("wire"), else from what the nodes report ("payload").
void count_bytes(const RackNet& rack, const std::vector<Counters>& before, const std::vector<Counters>& after,
                 MethodResult& r) {
  if (rack.netns()) {
    count_wire_bytes(before, after, r);
  } else {
    r.bytes_source = "payload";
    for (const auto& n : r.per_node) r.nas_bytes += n.from_nas, r.node_bytes += n.from_peers;
  }
}

// The lines of perf's two summaries (by command and library, by library and symbol), each
// followed by "--".
std::vector<std::string> perf_profile(const fs::path& data) {
  std::vector<std::string> profile;
  std::string out;
  run({"perf", "report", "-i", data.string(), "--stdio", "--no-children", "--sort", "comm,dso", "--percent-limit",
       "2"},
      std::chrono::seconds(120), &out);
  std::string out2;
  run({"perf", "report", "-i", data.string(), "--stdio", "--no-children", "--sort", "dso,sym", "--percent-limit",
       "1.5"},
      std::chrono::seconds(120), &out2);
  for (const std::string* o : {&out, &out2}) {
    std::istringstream in(*o);
    for (std::string line; std::getline(in, line);)
      if (!line.empty() && line[0] != '#' && line.find('%') != std::string::npos) profile.push_back(line);
    profile.push_back("--");
  }
  return profile;
}

}  // namespace

MethodResult run_ironstone(const RackNet& rack, const BenchEnv& env) {
  MethodResult r;
  r.method = "ironstone";
  r.nodes = int(rack.nodes().size());
  r.floor_s = env.floor_seconds();
  const int timeout = env.timeout_for(r.nodes);
  const std::string run_name = r.method + "-" + std::to_string(r.nodes);
  const auto nas_dir = node_dir(env, run_name, rack.nas());

  // Declared in this order so that an early return or Interrupted stops the flashers
  // first, then perf, then the seeder.
  Child seeder;
  const auto seeder_url = start_seeder(rack, env, nas_dir, seeder, &r.note);
  if (!seeder_url) return r;
  const auto perf_data = env.work / ("perf-ironstone-" + std::to_string(r.nodes) + ".data");
  Child perf;
  if (env.perf) perf = start_perf(perf_data, timeout, nas_dir);

  const std::vector<Counters> before = rack_counters(rack);
  const auto cpu0 = CpuSample::now();
  const auto t0 = Clock::now();
  Flashers flashers = start_flashers(rack, env, run_name, *seeder_url, timeout);
  for (const auto& h : rack.nodes()) {
    NodeResult n;
    n.host = h.name;
    r.per_node.push_back(n);
  }

  const std::size_t remaining = wait_for_flashers(flashers, t0, timeout, r.per_node);
  r.cpu_busy = busy_percent(cpu0, CpuSample::now());
  if (env.perf) perf.kill(std::chrono::milliseconds(20000));

  r.nas_cpu_s = seeder.live_cpu_seconds();
  r.nodes_cpu_s = reap_flashers(flashers, remaining, r.per_node);
  for (const auto& n : r.per_node) r.nodes_user_s += n.user_s, r.nodes_sys_s += n.sys_s;
  const std::vector<Counters> after = rack_counters(rack);
  seeder.kill();

  count_bytes(rack, before, after, r);
  if (env.perf) r.profile = perf_profile(perf_data);
  check_targets(env, r, flashers.targets);
  return r;
}

}  // namespace ironstone::bench
