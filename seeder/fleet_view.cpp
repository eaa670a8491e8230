#include "seeder/fleet_view.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <thread>
#include <vector>

#include "seeder/errc.h"
#include "swarm/http_client.h"

namespace ironstone::seeder {

using nlohmann::json;

namespace {

constexpr std::size_t kMaxCell = 64;     // longest text cell
constexpr std::size_t kMaxError = 200;   // longest error line
constexpr double kMB = 1e6;

// Text from the network goes to a terminal: no control characters (escape
// sequences), bounded length.
std::string sanitize(std::string_view s, std::size_t max) {
  std::string out;
  for (char c : s) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? '?' : c);
  }
  return out;
}

std::string text(const json& obj, const char* key, std::size_t max = kMaxCell) {
  if (!obj.is_object()) return "-";
  const auto it = obj.find(key);
  if (it == obj.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) return "-";
  return sanitize(it->get_ref<const std::string&>(), max);
}

double number(const json& obj, const char* key) {
  if (!obj.is_object()) return 0;
  const auto it = obj.find(key);
  if (it == obj.end() || !it->is_number()) return 0;
  const double d = it->get<double>();
  return std::isfinite(d) ? d : 0;
}

bool has_number(const json& obj, const char* key) {
  return obj.is_object() && obj.contains(key) && obj[key].is_number();
}

std::string fixed(double value, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

std::string ago(double seconds) {
  if (seconds < 0) seconds = 0;
  const auto s = static_cast<long long>(seconds);
  if (s < 120) return std::to_string(s) + "s ago";
  if (s < 2 * 3600) return std::to_string(s / 60) + "m ago";
  if (s < 2 * 86400) return std::to_string(s / 3600) + "h ago";
  return std::to_string(s / 86400) + "d ago";
}

constexpr std::size_t kColumns = 11;
constexpr std::array<const char*, kColumns> kHeader = {"NODE",      "HOST",     "BOARD",    "RELEASE",
                                                       "STEP",      "STATE",    "PROGRESS", "RATE MB/s",
                                                       "SEEDER MB", "PEERS MB", "LAST SEEN"};
constexpr std::array<bool, kColumns> kRight = {false, false, false, false, false, false,
                                               true,  true,  true,  true,  false};
using Row = std::array<std::string, kColumns>;

// One node's row; *why_line gets its "error: …" or "stale: …" line ("" when there is none).
// `now` is the view's time; without one (have_time false) LAST SEEN is "-".
Row node_row(const json& node, bool have_time, double now, std::string* why_line) {
  Row row;
  row[0] = text(node, "node_id");
  row[1] = text(node, "hostname");
  row[2] = text(node, "board");
  row[3] = text(node, "running_release") != "-" ? text(node, "running_release") : text(node, "release");
  row[4] = text(node, "step");
  row[5] = text(node, "state");
  row[6] = has_number(node, "progress") ? fixed(std::clamp(number(node, "progress"), 0.0, 1.0) * 100, 1) + "%"
                                        : "-";
  row[7] = fixed(std::max(0.0, number(node, "rate")) / kMB, 1);
  row[8] = fixed(std::max(0.0, number(node, "bytes_from_seeder")) / kMB, 1);
  row[9] = fixed(std::max(0.0, number(node, "bytes_from_peers")) / kMB, 1);
  row[10] = have_time && has_number(node, "last_seen") ? ago(now - number(node, "last_seen")) : "-";
  // The reason (failed at any stage, stale) when the seeder gives one, else the flash error.
  std::string why = text(node, "reason", kMaxError);
  if (why == "-") why = text(node, "error", kMaxError);
  *why_line = why == "-" ? std::string() : (row[5] == "stale" ? "stale: " : "error: ") + why;
  return row;
}

// The table of `rows` under kHeader, columns padded to their widest cell, each row followed
// by its error line (indented) when it has one.
std::string format_table(const std::vector<Row>& rows, const std::vector<std::string>& errors) {
  std::array<std::size_t, kColumns> width{};
  for (std::size_t c = 0; c < width.size(); ++c) width[c] = std::string_view(kHeader[c]).size();
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < width.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  std::string out;
  const auto emit = [&](const auto& cells) {
    std::string line;
    for (std::size_t c = 0; c < width.size(); ++c) {
      const std::string_view cell = cells[c];
      const std::string pad(width[c] - cell.size(), ' ');
      if (c) line += "  ";
      if (kRight[c]) {
        line += pad;
        line += cell;
      } else {
        line += cell;
        if (c + 1 < width.size()) line += pad;
      }
    }
    out += line + "\n";
  };
  emit(kHeader);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    emit(rows[i]);
    if (!errors[i].empty()) out += "    " + errors[i] + "\n";
  }
  return out;
}

// The summary line: node counts by state, the rate, the bytes by source.
std::string format_summary(const json& fleet) {
  const json empty = json::object();
  const json& summary =
      fleet.is_object() && fleet.contains("summary") && fleet["summary"].is_object() ? fleet["summary"] : empty;
  const auto count = [&](const char* key) {
    return std::to_string(static_cast<unsigned long long>(std::max(0.0, number(summary, key))));
  };
  return count("nodes") + " nodes: " + count("working") + " working, " + count("done") + " done, " +
         count("booted") + " booted, " + count("joined") + " joined, " + count("failed") + " failed, " +
         (count("reflashing") == "0" ? "" : count("reflashing") + " reflashing, ") + count("stale") + " stale; " + fixed(std::max(0.0, number(summary, "rate")) / kMB, 1) +
         " MB/s; from seeder " + fixed(std::max(0.0, number(summary, "bytes_from_seeder")) / kMB, 1) +
         " MB, from peers " + fixed(std::max(0.0, number(summary, "bytes_from_peers")) / kMB, 1) + " MB\n";
}

// Peers (peer mode), apart from the flashing nodes: "peers: 2" then one line each,
// "  rack1-n01  http://10.0.0.21:8080/  2 releases (rpi5/1.0, rpi5/1.1)  12.0 MB served  3s ago".
std::string format_peers(const json& fleet, bool have_time, double now) {
  if (!fleet.is_object() || !fleet.contains("peers") || !fleet["peers"].is_array() || fleet["peers"].empty())
    return "";
  std::string out;
  std::size_t peers = 0;
  for (const json& p : fleet["peers"]) {
    if (!p.is_object()) continue;  // not a peer: neither listed nor counted
    ++peers;
    std::string held;
    std::size_t n = 0;
    if (p.contains("releases") && p["releases"].is_array())
      for (const json& r : p["releases"])
        if (r.is_string()) held += (n++ ? ", " : "") + sanitize(r.get_ref<const std::string&>(), kMaxCell);
    out += "  " + text(p, "peer_id") + "  " + text(p, "url") + "  " + std::to_string(n) + " releases (" + held +
           ")  " + fixed(std::max(0.0, number(p, "bytes_served")) / kMB, 1) + " MB served" +
           (have_time && has_number(p, "last_seen") ? "  " + ago(now - number(p, "last_seen")) : "") + "\n";
  }
  return peers ? "peers: " + std::to_string(peers) + "\n" + out : "";
}

}  // namespace

std::string format_fleet(const json& fleet) {
  const double now = number(fleet, "time");
  const bool have_time = has_number(fleet, "time");
  std::vector<Row> rows;
  std::vector<std::string> errors;  // per row ("error: …" or "stale: …"), may be empty
  if (fleet.is_object() && fleet.contains("nodes") && fleet["nodes"].is_array()) {
    for (const json& node : fleet["nodes"]) {
      if (!node.is_object()) continue;
      std::string why;
      rows.push_back(node_row(node, have_time, now, &why));
      errors.push_back(std::move(why));
    }
  }
  std::string out = rows.empty() ? std::string("no nodes have reported yet\n") : format_table(rows, errors);
  return out + format_summary(fleet) + format_peers(fleet, have_time, now);
}

bool fleet_settled(const json& fleet) {
  if (!fleet.is_object() || !fleet.contains("nodes") || !fleet["nodes"].is_array()) return false;
  const json& nodes = fleet["nodes"];
  if (nodes.empty()) return false;
  return std::all_of(nodes.begin(), nodes.end(), [](const json& node) {
    const std::string s = text(node, "state");
    return s == "done" || s == "booted" || s == "joined" || s == "failed" || s == "stale";
  });
}

namespace {

json fetch_fleet(const std::string& url, std::chrono::milliseconds timeout) {
  swarm::RequestOptions o;
  o.timeout = timeout;
  o.max_body = 64 * 1024 * 1024;
  const swarm::HttpResponse r = swarm::http_get(url, o);
  if (r.status != 200) {
    throw swarm::error(swarm::Errc::kHttpStatus,
                "GET " + url + ": HTTP " + std::to_string(r.status) + " " + sanitize(r.body, 200));
  }
  json doc = json::parse(r.body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    throw swarm::error(swarm::Errc::kProtocol, "GET " + url + ": the answer is not a JSON object");
  }
  return doc;
}

// Sleeps up to `total`, waking every 100 ms to ask stop_requested. True if stopped.
bool sleep_unless_stopped(std::chrono::milliseconds total, const std::function<bool()>& stop_requested) {
  const auto deadline = std::chrono::steady_clock::now() + total;
  while (std::chrono::steady_clock::now() < deadline) {
    if (stop_requested()) return true;
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
        std::chrono::milliseconds(100), std::chrono::duration_cast<std::chrono::milliseconds>(
                                            deadline - std::chrono::steady_clock::now()) +
                                            std::chrono::milliseconds(1)));
  }
  return stop_requested();
}

}  // namespace

void run_fleet_view(const FleetViewOptions& options, std::ostream& out,
                    const std::function<bool()>& stop_requested) {
  std::string base = options.url;
  while (base.ends_with('/')) base.pop_back();
  const std::string url = base + "/v1/fleet";
  swarm::parse_url(url);  // a bad --url is an error at once, also when watching

  json doc = fetch_fleet(url, options.timeout);
  while (true) {
    if (options.clear_screen) out << "\033[H\033[2J";
    out << format_fleet(doc);
    out.flush();
    if (options.watch.count() <= 0 || fleet_settled(doc)) return;
    if (sleep_unless_stopped(options.watch, stop_requested)) return;
    while (true) {
      try {
        doc = fetch_fleet(url, options.timeout);
        break;
      } catch (const Error& e) {
        out << "fleet: " << e.what() << " (retrying)\n";
        out.flush();
        if (sleep_unless_stopped(options.watch, stop_requested)) return;
      }
    }
    if (!options.clear_screen) out << "\n";
  }
}

}  // namespace ironstone::seeder
