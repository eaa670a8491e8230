#include "seeder/metrics.h"

#include <sstream>

#include "manifest/hash.h"
#include "util/hex.h"

namespace ironstone::seeder {

namespace {

// Label values are validated names (boards, versions, hex), but escape anyway.
std::string escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

class Writer {
 public:
  void header(const char* name, const char* type, const char* help) {
    out_ << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  }
  template <class T>
  void sample(const char* name, const std::string& labels, T value) {
    out_ << name;
    if (!labels.empty()) out_ << '{' << labels << '}';
    out_ << ' ' << value << '\n';
  }
  std::string str() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

}  // namespace

std::string render_metrics(const MetricsSnapshot& s) {
  Writer w;
  if (s.http) {
    const HttpStats& h = *s.http;
    w.header("ironstone_http_connections_total", "counter", "TCP connections accepted.");
    w.sample("ironstone_http_connections_total", "", h.connections_total.load());
    w.header("ironstone_http_connections_open", "gauge", "TCP connections open now.");
    w.sample("ironstone_http_connections_open", "", h.connections_open.load());
    w.header("ironstone_http_requests_total", "counter", "HTTP requests handled.");
    w.sample("ironstone_http_requests_total", "", h.requests_total.load());
    w.header("ironstone_http_responses_total", "counter", "HTTP responses by status class.");
    for (int c = 1; c <= 5; ++c) {
      w.sample("ironstone_http_responses_total", "code=\"" + std::to_string(c) + "xx\"",
               h.responses_by_class[c].load());
    }
    w.header("ironstone_http_timeouts_total", "counter",
             "Connections closed because a request was too slow.");
    w.sample("ironstone_http_timeouts_total", "", h.timeouts.load());
    w.header("ironstone_http_rejected_total", "counter", "Malformed or oversized requests rejected.");
    w.sample("ironstone_http_rejected_total", "", h.rejected.load());
    w.header("ironstone_http_body_bytes_total", "counter", "Response body bytes sent (all routes).");
    w.sample("ironstone_http_body_bytes_total", "", h.body_bytes_sent.load());
  }
  w.header("ironstone_webseed_bytes_total", "counter", "Chunk bytes sent by the web seed (/chunks).");
  w.sample("ironstone_webseed_bytes_total", "", s.chunk_bytes_served);

  w.header("ironstone_releases_seeded", "gauge", "Releases seeded over BitTorrent.");
  w.sample("ironstone_releases_seeded", "", s.torrents.size());
  w.header("ironstone_torrent_uploaded_bytes_total", "counter", "BitTorrent payload bytes uploaded per release.");
  for (const auto& t : s.torrents) {
    w.sample("ironstone_torrent_uploaded_bytes_total",
             "board=\"" + escape(t.board) + "\",version=\"" + escape(t.version) + "\"", t.uploaded);
  }
  w.header("ironstone_torrent_peers", "gauge", "Connected BitTorrent peers per release.");
  for (const auto& t : s.torrents) {
    w.sample("ironstone_torrent_peers",
             "board=\"" + escape(t.board) + "\",version=\"" + escape(t.version) + "\"", t.peers);
  }
  w.header("ironstone_torrent_upload_rate_bytes", "gauge", "BitTorrent upload rate per release (bytes/s).");
  for (const auto& t : s.torrents) {
    w.sample("ironstone_torrent_upload_rate_bytes",
             "board=\"" + escape(t.board) + "\",version=\"" + escape(t.version) + "\"", t.upload_rate);
  }

  w.header("ironstone_tracker_peers", "gauge", "Peers known to the built-in tracker.");
  for (const auto& c : s.tracker) {
    const std::string hash = to_hex(c.info_hash);
    w.sample("ironstone_tracker_peers", "info_hash=\"" + hash + "\",kind=\"seeder\"", c.seeders);
    w.sample("ironstone_tracker_peers", "info_hash=\"" + hash + "\",kind=\"leecher\"", c.leechers);
  }

  w.header("ironstone_fleet_nodes", "gauge", "Nodes by state, as last reported.");
  w.sample("ironstone_fleet_nodes", "state=\"working\"", s.fleet.working);
  w.sample("ironstone_fleet_nodes", "state=\"done\"", s.fleet.done);
  w.sample("ironstone_fleet_nodes", "state=\"failed\"", s.fleet.failed);
  w.sample("ironstone_fleet_nodes", "state=\"stale\"", s.fleet.stale);
  w.header("ironstone_fleet_bytes", "gauge", "Bytes the nodes reported receiving, by source.");
  w.sample("ironstone_fleet_bytes", "source=\"seeder\"", s.fleet.bytes_from_seeder);
  w.sample("ironstone_fleet_bytes", "source=\"peers\"", s.fleet.bytes_from_peers);
  w.header("ironstone_fleet_rate_bytes", "gauge", "Sum of the working nodes' download rates (bytes/s).");
  w.sample("ironstone_fleet_rate_bytes", "", s.fleet.rate);
  return w.str();
}

}  // namespace ironstone::seeder
