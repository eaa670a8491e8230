#include "bench/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

namespace ironstone::bench {

namespace {

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}
std::string secs(double s) { return s < 0 ? "-" : fmt("%.1f", s); }
std::string oneline(std::string s) {
  for (auto& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s.substr(0, 140);
}
std::string mib(std::uint64_t b) { return fmt("%.0f", double(b) / 1048576.0); }

// The stages of the flasher's "cpu by stage" line, in the order printed.
const char* const kCpuStages[] = {"piece_hash", "zstd", "blake2b", "write", "read_back"};

// Sum over the nodes of one key of their stage maps.
double stage_sum(const MethodResult& r, const std::string& key) {
  double s = 0;
  for (const auto& n : r.per_node) {
    auto it = n.stages.find(key);
    if (it != n.stages.end()) s += it->second;
  }
  return s;
}

double per_node(const MethodResult& r, double total) {
  return r.per_node.empty() ? 0.0 : total / double(r.per_node.size());
}
double gb(std::uint64_t bytes) { return double(bytes) / 1e9; }

// One method's nodes' CPU: user and system, per node and per GB of image; for Ironstone the
// seeder's and the flashers' stages (per node).
void print_cpu(const RunInfo& info, const MethodResult& r) {
  const double user = per_node(r, r.nodes_user_s), sys = per_node(r, r.nodes_sys_s);
  std::printf("%s N=%d: nodes' CPU per node: user %.2f s + system %.2f s = %.2f s; per GB of image: user %.2f s, "
              "system %.2f s; NAS %.1f s; machine %.0f%% busy%s\n",
              r.method.c_str(), r.nodes, user, sys, user + sys, user / gb(info.image.size),
              sys / gb(info.image.size), r.nas_cpu_s, r.cpu_busy,
              r.cpu_busy > 90 ? " -> CPU-bound, not network-bound" : "");
  if (r.method != "ironstone" || stage_sum(r, "bytes_written") <= 0) return;
  const double written = per_node(r, stage_sum(r, "bytes_written"));
  std::printf("  flasher per node, by stage (CPU s; per GB written %.2f GB):", written / 1e9);
  double staged = 0;
  for (const char* k : kCpuStages) {
    const double v = per_node(r, stage_sum(r, k));
    staged += v;
    std::printf(" %s %.2f (%.2f/GB)", k, v, v / (written / 1e9));
  }
  std::printf("; other %.2f; copied in %.0f MiB, out %.0f MiB\n", user + sys - staged,
              per_node(r, stage_sum(r, "copied_in")) / 1048576.0, per_node(r, stage_sum(r, "copied_out")) / 1048576.0);
}

// The same as JSON: per-node means and the per-GB figures.
nlohmann::json cpu_json(const RunInfo& info, const MethodResult& r) {
  const double user = per_node(r, r.nodes_user_s), sys = per_node(r, r.nodes_sys_s);
  nlohmann::json j{{"user_s_per_node", user},
                   {"sys_s_per_node", sys},
                   {"user_s_per_gb_image", user / gb(info.image.size)},
                   {"sys_s_per_gb_image", sys / gb(info.image.size)}};
  if (r.method.rfind("ironstone", 0) == 0) {
    nlohmann::json st;
    for (const char* k : kCpuStages) st[k] = per_node(r, stage_sum(r, k));
    for (const char* k : {"copied_in", "copied_out", "bytes_written"}) st[k] = per_node(r, stage_sum(r, k));
    j["stages_per_node"] = st;
  }
  return j;
}

// The copies of the release the NAS sent.
double nas_copies(const RunInfo& info, const MethodResult& r) {
  return double(r.nas_bytes) / double(std::max<std::uint64_t>(info.image.stored_bytes, 1));
}

// --peers: per method, the flashing nodes, the NAS's copies of the release, the bytes the
// flashers took from peers and the peers' peak resident memory.
void print_peers(const RunInfo& info, const std::vector<MethodResult>& results) {
  for (const auto& r : results) {
    if (r.skipped || r.flashing <= 0 || r.flashing == r.nodes) continue;
    std::printf("peers scenario %-15s: %d flashing of %d; NAS sent %.2f copies (%s MiB); from peers %s MiB; "
                "peer max RSS %s MiB; flasher CPU %.1f s per node\n",
                r.method.c_str(), r.flashing, r.nodes, nas_copies(info, r), mib(r.nas_bytes).c_str(),
                mib(r.from_peers).c_str(), r.peer_max_rss ? mib(r.peer_max_rss).c_str() : "-",
                per_node(r, r.nodes_cpu_s));
  }
}

}  // namespace

std::string cpu_verdict(const MethodResult& r) {
  if (r.skipped || r.per_node.empty()) return "";
  return r.cpu_busy > 90 ? "CPU-bound" : "network";
}

void print_table(const RunInfo& info, const std::vector<MethodResult>& results) {
  std::printf("\nrack: %s, link %s (NAS %s); image %.0f MiB, stored %.1f MiB (compressed non-zero chunks), "
              "zstd image %.1f MiB\n",
              info.mode.c_str(), info.link.c_str(), info.nas_link.c_str(), double(info.image.size) / 1048576.0,
              double(info.image.stored_bytes) / 1048576.0, double(info.image.zst_bytes) / 1048576.0);
  std::printf("%-10s %5s %8s %8s %8s %8s %8s %7s %10s %10s %6s %10s  %s\n", "method", "nodes", "last s", "p50 s",
              "p90 s", "max s", "floor s", "xfloor", "NAS MiB", "nodes MiB", "CPU%", "limit", "note");
  for (const auto& r : results) {
    if (r.skipped) {
      std::printf("%-10s %5d %s\n", r.method.c_str(), r.nodes, ("skipped: " + r.note).c_str());
      continue;
    }
    std::string note = r.note;
    for (const auto& n : r.per_node)
      if (!n.ok) {
        note = n.host + ": " + n.error;
        break;
      }
    double last = r.last();
    std::printf("%-10s %5d %8s %8s %8s %8s %8s %7s %10s %10s %6.0f %10s  %s\n", r.method.c_str(), r.nodes,
                secs(last).c_str(), secs(r.pct(50)).c_str(), secs(r.pct(90)).c_str(), secs(r.pct(100)).c_str(),
                secs(r.floor_s).c_str(), last < 0 ? "-" : fmt("%.2f", last / r.floor_s).c_str(),
                mib(r.nas_bytes).c_str(), mib(r.node_bytes).c_str(), r.cpu_busy, cpu_verdict(r).c_str(),
                oneline(note).c_str());
  }
  // CPU of every method's nodes; the Ironstone flashers' stages and perf profile.
  for (const auto& r : results) {
    if (r.skipped || r.per_node.empty()) continue;
    print_cpu(info, r);
    for (const auto& l : r.profile) std::printf("    %s\n", l.c_str());
  }
  print_peers(info, results);
  std::printf("bytes: %s\n", results.empty() ? "" :
              (std::any_of(results.begin(), results.end(), [](const auto& r) { return r.bytes_source == "wire"; })
                   ? "wire bytes sent on each host's port (interface counters, incl. headers and ACKs)"
                   : "payload bytes as reported (loopback: no per-host interfaces)"));
  std::fflush(stdout);
}

void write_json(const std::filesystem::path& path, const RunInfo& info, const std::vector<MethodResult>& results) {
  nlohmann::json j;
  j["command"] = info.command;
  j["mode"] = info.mode;
  j["link"] = info.link;
  j["nas_link"] = info.nas_link;
  j["started_utc"] = info.started_utc;
  j["host"] = info.host;
  j["cpus"] = info.cpus;
  j["load_before"] = info.load_before;
  j["image"] = {{"bytes", info.image.size},
                {"stored_bytes", info.image.stored_bytes},
                {"zstd_bytes", info.image.zst_bytes},
                {"path", info.image.gold.string()}};
  j["results"] = nlohmann::json::array();
  for (const auto& r : results) {
    nlohmann::json m{{"method", r.method}, {"nodes", r.nodes}, {"skipped", r.skipped}, {"note", r.note},
                     {"ok", r.ok()}, {"floor_s", r.floor_s}, {"cpu_busy_pct", r.cpu_busy},
                     {"limited_by", cpu_verdict(r)}, {"nas_bytes", r.nas_bytes}, {"node_bytes", r.node_bytes},
                     {"bytes_source", r.bytes_source}, {"nas_cpu_s", r.nas_cpu_s}, {"nodes_cpu_s", r.nodes_cpu_s},
                     {"nodes_user_s", r.nodes_user_s}, {"nodes_sys_s", r.nodes_sys_s}};
    if (!r.skipped && !r.per_node.empty()) m["cpu"] = cpu_json(info, r);
    if (r.flashing > 0 && r.flashing != r.nodes) {
      m["flashing"] = r.flashing;
      m["nas_copies"] = nas_copies(info, r);
      m["from_peers"] = r.from_peers;
      m["peer_max_rss"] = r.peer_max_rss;
    }
    if (r.ok()) {
      m["last_s"] = r.last();
      m["p50_s"] = r.pct(50);
      m["p90_s"] = r.pct(90);
      m["max_s"] = r.pct(100);
      m["ratio_to_floor"] = r.last() / r.floor_s;
    }
    m["per_node"] = nlohmann::json::array();
    for (const auto& n : r.per_node)
      m["per_node"].push_back({{"host", n.host}, {"ok", n.ok}, {"seconds", n.seconds}, {"cpu_s", n.cpu_s},
                               {"user_s", n.user_s}, {"sys_s", n.sys_s}, {"stages", n.stages},
                               {"error", n.error}, {"from_nas", n.from_nas}, {"from_peers", n.from_peers}});
    if (!r.profile.empty()) m["perf"] = r.profile;
    j["results"].push_back(m);
  }
  std::ofstream(path) << j.dump(2) << "\n";
}

namespace {

// The plotted points: per method, (nodes, seconds until the last node was done), ascending.
struct SvgData {
  std::map<std::string, std::vector<std::pair<int, double>>> series;
  std::set<int> ns;  // every N run (x axis ticks)
  double ymax = 1, floor_s = 0;
};

SvgData svg_data(const std::vector<MethodResult>& results) {
  SvgData d;
  for (const auto& r : results) {
    if (r.skipped) continue;
    d.floor_s = r.floor_s;
    d.ns.insert(r.nodes);
    if (r.ok()) {
      d.series[r.method].push_back({r.nodes, r.last()});
      d.ymax = std::max(d.ymax, r.last());
    }
  }
  d.ymax = std::max(d.ymax, d.floor_s) * 1.1;
  if (d.ns.empty()) d.ns.insert(1);
  for (auto& [method, pts] : d.series) std::sort(pts.begin(), pts.end());
  return d;
}

// The canvas: size, margins, and data → pixel coordinates.
struct SvgFrame {
  static constexpr int W = 720, H = 440, L = 70, R = 160, T = 40, B = 50;
  int xmin = 0, xmax = 2;
  double ymax = 1;
  double X(double n) const { return L + (W - L - R) * (n - xmin) / double(xmax - xmin); }
  double Y(double s) const { return H - B - (H - T - B) * s / ymax; }
};

// Title, both axes with their ticks and labels, the horizontal grid.
void write_svg_axes(std::ostream& o, const SvgFrame& f, const RunInfo& info, const std::set<int>& ns) {
  const int W = f.W, H = f.H, L = f.L, R = f.R, T = f.T, B = f.B;
  o << "<svg xmlns='http://www.w3.org/2000/svg' width='" << W << "' height='" << H
    << "' font-family='sans-serif' font-size='12'>\n<rect width='100%' height='100%' fill='white'/>\n";
  o << "<text x='" << L << "' y='22' font-size='14'>Time until the last node holds the verified image ("
    << info.mode << ", link " << info.link << ")</text>\n";
  o << "<line x1='" << L << "' y1='" << H - B << "' x2='" << W - R << "' y2='" << H - B << "' stroke='black'/>\n";
  o << "<line x1='" << L << "' y1='" << T << "' x2='" << L << "' y2='" << H - B << "' stroke='black'/>\n";
  for (int n : ns)
    o << "<text x='" << f.X(n) << "' y='" << H - B + 16 << "' text-anchor='middle'>" << n << "</text>\n";
  o << "<text x='" << (L + W - R) / 2 << "' y='" << H - 12 << "' text-anchor='middle'>nodes (N)</text>\n";
  double step = std::pow(10, std::floor(std::log10(f.ymax)));
  if (f.ymax / step < 3) step /= 2;
  for (double s = 0; s <= f.ymax; s += step) {
    o << "<line x1='" << L << "' y1='" << f.Y(s) << "' x2='" << W - R << "' y2='" << f.Y(s)
      << "' stroke='#ddd'/><text x='" << L - 6 << "' y='" << f.Y(s) + 4 << "' text-anchor='end'>" << s
      << "</text>\n";
  }
  o << "<text transform='translate(18," << (T + H - B) / 2 << ") rotate(-90)' text-anchor='middle'>seconds</text>\n";
}

// The floor line, one polyline with points per method, and the legend.
void write_svg_lines(std::ostream& o, const SvgFrame& f, const SvgData& d) {
  const std::map<std::string, std::string> colors{
      {"ironstone", "#1f77b4"}, {"http", "#d62728"}, {"multicast", "#2ca02c"}};
  int legend = 0;
  auto legend_entry = [&](const std::string& name, const std::string& color, bool dashed) {
    int y = f.T + 10 + 20 * legend++;
    o << "<line x1='" << f.W - f.R + 15 << "' y1='" << y << "' x2='" << f.W - f.R + 40 << "' y2='" << y
      << "' stroke='" << color << "' stroke-width='2'" << (dashed ? " stroke-dasharray='5,4'" : "") << "/><text x='"
      << f.W - f.R + 46 << "' y='" << y + 4 << "'>" << name << "</text>\n";
  };
  if (d.floor_s > 0) {
    o << "<line x1='" << f.X(f.xmin) << "' y1='" << f.Y(d.floor_s) << "' x2='" << f.X(f.xmax) << "' y2='"
      << f.Y(d.floor_s) << "' stroke='gray' stroke-dasharray='5,4'/>\n";
    legend_entry("floor (S/L)", "gray", true);
  }
  for (const auto& [method, pts] : d.series) {
    auto it = colors.find(method);
    std::string c = it == colors.end() ? "#9467bd" : it->second;
    o << "<polyline fill='none' stroke='" << c << "' stroke-width='2' points='";
    for (auto [n, s] : pts) o << f.X(n) << "," << f.Y(s) << " ";
    o << "'/>\n";
    for (auto [n, s] : pts) o << "<circle cx='" << f.X(n) << "' cy='" << f.Y(s) << "' r='3' fill='" << c << "'/>\n";
    legend_entry(method, c, false);
  }
}

}  // namespace

void write_svg(const std::filesystem::path& path, const RunInfo& info, const std::vector<MethodResult>& results) {
  const SvgData d = svg_data(results);
  SvgFrame f;
  f.xmax = std::max(*d.ns.rbegin(), 2);
  f.ymax = d.ymax;
  std::ofstream o(path);
  write_svg_axes(o, f, info, d.ns);
  write_svg_lines(o, f, d);
  o << "</svg>\n";
}

}  // namespace ironstone::bench
