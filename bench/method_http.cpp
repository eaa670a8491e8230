#include "bench/method_http.h"

#include <regex>
#include <thread>
#include <tuple>

#include "bench/proc.h"

namespace ironstone::bench {

namespace {

// Runs `node_cmd(host, target)` (a shell pipeline) on every node at once; times each.
void run_nodes(const RackNet& rack, const BenchEnv& env, MethodResult& r, int timeout,
               const std::function<std::string(const Host&, const std::filesystem::path&)>& node_cmd,
               std::vector<std::filesystem::path>* targets, Clock::time_point t0, std::vector<Child>& kids) {
  std::vector<std::filesystem::path> logs;
  for (const auto& h : rack.nodes()) {
    auto d = node_dir(env, r.method + "-" + std::to_string(r.nodes), h);
    targets->push_back(d / "disk.img");
    logs.push_back(d / "node.log");
    std::vector<std::string> a = rack.exec(h);
    a.insert(a.end(), {"bash", "-o", "pipefail", "-c", node_cmd(h, targets->back())});
    kids.emplace_back(a, logs.back().string());
    NodeResult n;
    n.host = h.name;
    r.per_node.push_back(n);
  }
  const auto deadline = t0 + std::chrono::seconds(timeout);
  for (std::size_t i = 0; i < kids.size(); ++i) {
    auto e = kids[i].wait_until(deadline);
    auto& n = r.per_node[i];
    if (!e) {
      n.error = "timeout after " + std::to_string(timeout) + " s";
      std::tie(n.user_s, n.sys_s) = kids[i].live_user_sys();
      n.cpu_s = n.user_s + n.sys_s;
      kids[i].kill();
      continue;
    }
    n.seconds = std::chrono::duration<double>(e->at - t0).count();
    n.cpu_s = e->cpu_seconds;
    n.user_s = e->user_s;
    n.sys_s = e->sys_s;
    n.ok = e->status == 0;
    if (!n.ok) n.error = "exit " + std::to_string(e->status) + ": " + read_file(logs[i].string()).substr(0, 300);
  }
  for (const auto& n : r.per_node) r.nodes_cpu_s += n.cpu_s, r.nodes_user_s += n.user_s, r.nodes_sys_s += n.sys_s;
}

}  // namespace

void run_node_pipelines(const RackNet& rack, const BenchEnv& env, MethodResult& r, int timeout,
                        const std::function<std::string(const Host&, const std::filesystem::path&)>& node_cmd,
                        std::vector<std::filesystem::path>* targets, Clock::time_point t0, std::vector<Child>& kids) {
  run_nodes(rack, env, r, timeout, node_cmd, targets, t0, kids);
}

MethodResult run_http(const RackNet& rack, const BenchEnv& env) {
  MethodResult r;
  r.method = "http";
  r.nodes = int(rack.nodes().size());
  r.floor_s = env.floor_seconds();
  const int timeout = env.timeout_for(r.nodes);
  const auto nas_dir = node_dir(env, r.method + "-" + std::to_string(r.nodes), rack.nas());
  const auto log = nas_dir / "serve.log";
  std::vector<std::string> argv = rack.exec(rack.nas());
  argv.insert(argv.end(), {env.bin.self, "serve", "--listen", rack.nas().ip, "--port", rack.netns() ? "8080" : "0",
                           "--file", env.image.zst.string()});
  Child server(argv, log.string());
  static const std::regex re(R"(listening on [0-9.]+:(\d+))");
  std::string text;
  const auto port = wait_for_log(log, re, server, std::chrono::seconds(20), std::chrono::milliseconds(20), &text);
  if (!port) {
    r.note = "the HTTP server did not start: " + text;
    return r;
  }
  const std::string url = "http://" + rack.nas().ip + ":" + *port + "/image.img.zst";
  const std::vector<Counters> before = rack_counters(rack);
  const auto cpu0 = CpuSample::now();
  const auto t0 = Clock::now();
  std::vector<std::filesystem::path> targets;
  std::vector<Child> kids;
  run_nodes(rack, env, r, timeout,
            [&](const Host&, const std::filesystem::path& target) {
              return "curl -sSf --noproxy '*' -o - " + shell_quote(url) + " | zstd -d -q -f -o " +
                     shell_quote(target.string());
            },
            &targets, t0, kids);
  r.cpu_busy = busy_percent(cpu0, CpuSample::now());
  r.nas_cpu_s = server.live_cpu_seconds();
  const std::vector<Counters> after = rack_counters(rack);
  server.kill();
  if (rack.netns()) {
    count_wire_bytes(before, after, r);
  } else {
    r.bytes_source = "payload";
    for (const auto& n : r.per_node)
      if (n.ok) r.nas_bytes += env.image.zst_bytes;
  }
  check_targets(env, r, targets);
  return r;
}

}  // namespace ironstone::bench
