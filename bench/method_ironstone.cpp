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

// Starts a seeder (`argv`, logging to `log_path`) into `child` and waits up to 60 s until it
// logs its ports. Returns http://IP:PORT, or nullopt with *note = "<what> did not start: …".
std::optional<std::string> start_seeder_process(Child& child, const std::vector<std::string>& argv,
                                                const fs::path& log_path, const std::string& ip,
                                                const std::string& what, std::string* note) {
  child = Child(argv, log_path.string());
  static const std::regex re(R"(HTTP port (\d+), BitTorrent port (\d+))");
  std::string log;
  const auto port = wait_for_log(log_path, re, child, std::chrono::seconds(60), std::chrono::milliseconds(50), &log);
  if (!port) {
    *note = what + " did not start: " + tail_line(log);
    return std::nullopt;
  }
  return "http://" + ip + ":" + *port;
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
  return start_seeder_process(seeder, argv, nas_dir / "seeder.log", rack.nas().ip, "the seeder", note);
}

// perf, system-wide, for "which part of Ironstone spends the CPU": records into `data` for
// up to `timeout` seconds.
Child start_perf(const fs::path& data, int timeout, const fs::path& nas_dir) {
  return Child({"perf", "record", "-F", "499", "-a", "-o", data.string(), "--", "sleep", std::to_string(timeout)},
               (nas_dir / "perf.log").string());
}

// The flasher command line of node `h`, whose files go below `d`.
std::vector<std::string> flasher_argv(const RackNet& rack, const BenchEnv& env, const Host& h, const fs::path& d,
                                      const std::vector<std::string>& seeder_urls, int timeout) {
  std::vector<std::string> a = rack.exec(h);
  a.push_back(env.bin.flasher);
  for (std::size_t i = 1; i < seeder_urls.size(); ++i) a.insert(a.end(), {"--seeder", seeder_urls[i]});
  for (std::string s : {std::string("--seeder"),
                        seeder_urls.front(),
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

// The running flashers, one per flashing node (the nodes after env.peers) in rack order,
// with their logs and targets.
struct Flashers {
  std::vector<Child> children;
  std::vector<fs::path> logs, targets;
};

Flashers start_flashers(const RackNet& rack, const BenchEnv& env, const std::string& run_name,
                        const std::vector<std::string>& seeder_urls, int timeout) {
  Flashers f;
  for (std::size_t i = std::size_t(env.peers); i < rack.nodes().size(); ++i) {
    const Host& h = rack.nodes()[i];
    auto d = node_dir(env, run_name, h);
    fs::create_directories(d / "root" / "proc");
    // The fake root stands in for the board's hardware; its memory is this machine's, which
    // the flasher's --cache auto reads (flasher/chunk_cache.h).
    std::error_code ec;
    fs::create_symlink("/proc/meminfo", d / "root" / "proc" / "meminfo", ec);
    f.logs.push_back(d / "flasher.log");
    f.targets.push_back(d / "disk.img");
    f.children.emplace_back(flasher_argv(rack, env, h, d, seeder_urls, timeout), f.logs.back().string());
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

// The peer on node `h` (its files below `d`): `ironstone-seeder --peer-of NAS`, polling
// every second. Returns its URL once it logs its ports (60 s), or nullopt with *note.
std::optional<std::string> start_peer(const RackNet& rack, const BenchEnv& env, const Host& h, const fs::path& d,
                                      const std::string& nas_url, Child& peer, std::string* note) {
  std::vector<std::string> argv = rack.exec(h);
  const std::string port = rack.netns() ? ":8080" : ":0", bt = rack.netns() ? ":6881" : ":0";
  for (std::string a : {env.bin.seeder, std::string("--peer-of"), nas_url, std::string("--store"),
                        (d / "store").string(), std::string("--public-key"), env.image.public_key.string(),
                        std::string("--board"), env.image.board, std::string("--poll-interval"), std::string("1"),
                        std::string("--listen"), h.ip + port, std::string("--bt-listen"), h.ip + bt})
    argv.push_back(a);
  if (rack.netns()) argv.insert(argv.end(), {"--public-url", "http://" + h.ip + ":8080/"});
  fs::create_directories(d);
  return start_seeder_process(peer, argv, d / "peer.log", h.ip, "peer " + h.name, note);
}

// Polls the peer's own GET /v1/releases (curl in its namespace) until it lists the bench
// release, which it does only once every chunk is verified on its disk. false on timeout
// or when the peer exits.
bool wait_peer_holds(const RackNet& rack, const BenchEnv& env, const Host& h, const std::string& url, Child& peer,
                     int timeout) {
  const auto deadline = Clock::now() + std::chrono::seconds(timeout);
  const std::string needle = "\"version\":\"" + env.image.version + "\"";
  std::vector<std::string> argv = rack.exec(h);
  argv.insert(argv.end(), {"curl", "-sf", "--max-time", "5", url + "/v1/releases"});
  while (Clock::now() < deadline && !peer.poll()) {
    std::string out;
    if (run(argv, std::chrono::seconds(10), &out) == 0 && out.find(needle) != std::string::npos) return true;
    throw_if_interrupted();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

// The peers: one per node before env.peers, each holding the release before this returns.
// Returns their URLs; empty with *note when one did not get there.
std::vector<std::string> start_peers(const RackNet& rack, const BenchEnv& env, const std::string& run_name,
                                     const std::string& nas_url, std::vector<Child>& peers, std::string* note) {
  std::vector<std::string> urls;
  peers.resize(std::size_t(env.peers));
  for (int i = 0; i < env.peers; ++i) {
    const Host& h = rack.nodes()[std::size_t(i)];
    auto url = start_peer(rack, env, h, node_dir(env, run_name, h), nas_url, peers[std::size_t(i)], note);
    if (!url) return {};
    urls.push_back(*url);
  }
  for (int i = 0; i < env.peers; ++i)
    if (!wait_peer_holds(rack, env, rack.nodes()[std::size_t(i)], urls[std::size_t(i)], peers[std::size_t(i)],
                         env.timeout_for(env.peers))) {
      *note = "peer " + rack.nodes()[std::size_t(i)].name + " did not list " + env.image.version + " in time";
      return {};
    }
  return urls;
}

// The peak resident memory (VmHWM of /proc/<pid>/status) of a live process, in bytes; 0
// when it is gone.
std::uint64_t peak_rss(const Child& c) {
  if (!c.running()) return 0;
  const std::string st = read_file("/proc/" + std::to_string(c.pid()) + "/status");
  static const std::regex re(R"(VmHWM:\s+(\d+) kB)");
  std::smatch m;
  return std::regex_search(st, m, re) ? std::stoull(m[1]) * 1024 : 0;
}

}  // namespace

namespace {

// One Ironstone run: the NAS seeder, with_peers: the peers (holding the release first),
// then the flashing nodes with the NAS and the peers as their --seeders.
MethodResult run_flash(const RackNet& rack, const BenchEnv& env, bool with_peers) {
  MethodResult r;
  r.method = with_peers ? "ironstone-peers" : "ironstone";
  r.nodes = int(rack.nodes().size());
  r.flashing = r.nodes - env.peers;
  r.floor_s = env.floor_seconds();
  const int timeout = env.timeout_for(r.nodes);
  const std::string run_name = r.method + "-" + std::to_string(r.nodes);
  const auto nas_dir = node_dir(env, run_name, rack.nas());

  // Declared in this order so that an early return or Interrupted stops the flashers
  // first, then perf, then the seeder.
  Child seeder;
  const auto seeder_url = start_seeder(rack, env, nas_dir, seeder, &r.note);
  if (!seeder_url) return r;
  std::vector<std::string> seeder_urls{*seeder_url};
  std::vector<Child> peers;
  if (with_peers) {
    const auto urls = start_peers(rack, env, run_name, *seeder_url, peers, &r.note);
    if (urls.empty()) return r;
    seeder_urls.insert(seeder_urls.end(), urls.begin(), urls.end());
  }
  const auto perf_data = env.work / ("perf-ironstone-" + std::to_string(r.nodes) + ".data");
  Child perf;
  if (env.perf) perf = start_perf(perf_data, timeout, nas_dir);

  const std::vector<Counters> before = rack_counters(rack);
  const auto cpu0 = CpuSample::now();
  const auto t0 = Clock::now();
  Flashers flashers = start_flashers(rack, env, run_name, seeder_urls, timeout);
  for (std::size_t i = std::size_t(env.peers); i < rack.nodes().size(); ++i) {
    NodeResult n;
    n.host = rack.nodes()[i].name;
    r.per_node.push_back(n);
  }

  const std::size_t remaining = wait_for_flashers(flashers, t0, timeout, r.per_node);
  r.cpu_busy = busy_percent(cpu0, CpuSample::now());
  if (env.perf) perf.kill(std::chrono::milliseconds(20000));

  r.nas_cpu_s = seeder.live_cpu_seconds();
  r.nodes_cpu_s = reap_flashers(flashers, remaining, r.per_node);
  for (const auto& n : r.per_node) r.nodes_user_s += n.user_s, r.nodes_sys_s += n.sys_s;
  const std::vector<Counters> after = rack_counters(rack);
  for (const auto& p : peers) r.peer_max_rss = std::max(r.peer_max_rss, peak_rss(p));
  for (const auto& n : r.per_node) r.from_peers += n.from_peers;
  for (auto& p : peers) p.kill();
  seeder.kill();

  count_bytes(rack, before, after, r);
  if (env.perf) r.profile = perf_profile(perf_data);
  check_targets(env, r, flashers.targets);
  return r;
}

}  // namespace

MethodResult run_ironstone(const RackNet& rack, const BenchEnv& env) { return run_flash(rack, env, false); }
MethodResult run_ironstone_peers(const RackNet& rack, const BenchEnv& env) { return run_flash(rack, env, true); }

}  // namespace ironstone::bench
