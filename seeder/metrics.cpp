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

void write_http(Writer& w, const HttpStats& h) {
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

// The releases seeded over BitTorrent, and per release what was uploaded, to how many peers,
// at what rate.
void write_torrents(Writer& w, const MetricsSnapshot& s) {
  w.header("ironstone_releases_seeded", "gauge", "Releases seeded over BitTorrent.");
  w.sample("ironstone_releases_seeded", "", s.torrents.size());
  const auto release = [](const auto& t) {
    return "board=\"" + escape(t.board) + "\",version=\"" + escape(t.version) + "\"";
  };
  w.header("ironstone_torrent_uploaded_bytes_total", "counter", "BitTorrent payload bytes uploaded per release.");
  for (const auto& t : s.torrents) w.sample("ironstone_torrent_uploaded_bytes_total", release(t), t.uploaded);
  w.header("ironstone_torrent_peers", "gauge", "Connected BitTorrent peers per release.");
  for (const auto& t : s.torrents) w.sample("ironstone_torrent_peers", release(t), t.peers);
  w.header("ironstone_torrent_upload_rate_bytes", "gauge", "BitTorrent upload rate per release (bytes/s).");
  for (const auto& t : s.torrents) w.sample("ironstone_torrent_upload_rate_bytes", release(t), t.upload_rate);
}

void write_tracker(Writer& w, const MetricsSnapshot& s) {
  w.header("ironstone_tracker_peers", "gauge", "Peers known to the built-in tracker.");
  for (const auto& c : s.tracker) {
    const std::string hash = to_hex(c.info_hash);
    w.sample("ironstone_tracker_peers", "info_hash=\"" + hash + "\",kind=\"seeder\"", c.seeders);
    w.sample("ironstone_tracker_peers", "info_hash=\"" + hash + "\",kind=\"leecher\"", c.leechers);
  }
}

// The nodes by state, the fleet database's writer (when there is one), bytes and rate.
void write_fleet(Writer& w, const MetricsSnapshot& s) {
  w.header("ironstone_fleet_nodes", "gauge", "Nodes by state, as last reported.");
  w.sample("ironstone_fleet_nodes", "state=\"working\"", s.fleet.working);
  w.sample("ironstone_fleet_nodes", "state=\"done\"", s.fleet.done);
  w.sample("ironstone_fleet_nodes", "state=\"booted\"", s.fleet.booted);
  w.sample("ironstone_fleet_nodes", "state=\"joined\"", s.fleet.joined);
  w.sample("ironstone_fleet_nodes", "state=\"failed\"", s.fleet.failed);
  w.sample("ironstone_fleet_nodes", "state=\"reflashing\"", s.fleet.reflashing);
  w.sample("ironstone_fleet_nodes", "state=\"stale\"", s.fleet.stale);
  if (s.fleet_db) {
    w.header("ironstone_fleet_db_batches_total", "counter", "Transactions the fleet database's writer committed.");
    w.sample("ironstone_fleet_db_batches_total", "", s.fleet_db->batches);
    w.header("ironstone_fleet_db_rows_total", "counter", "Rows the fleet database's writer wrote.");
    w.sample("ironstone_fleet_db_rows_total", "", s.fleet_db->rows);
    w.header("ironstone_fleet_db_errors_total", "counter", "Fleet database batches that failed (retried).");
    w.sample("ironstone_fleet_db_errors_total", "", s.fleet_db->errors);
  }
  w.header("ironstone_fleet_bytes", "gauge", "Bytes the nodes reported receiving, by source.");
  w.sample("ironstone_fleet_bytes", "source=\"seeder\"", s.fleet.bytes_from_seeder);
  w.sample("ironstone_fleet_bytes", "source=\"peers\"", s.fleet.bytes_from_peers);
  w.header("ironstone_fleet_rate_bytes", "gauge", "Sum of the working nodes' download rates (bytes/s).");
  w.sample("ironstone_fleet_rate_bytes", "", s.fleet.rate);
}

}  // namespace

// The families in this order: HTTP (when a server is given), web seed, torrents, tracker, fleet.
std::string render_metrics(const MetricsSnapshot& s) {
  Writer w;
  if (s.http) write_http(w, *s.http);
  w.header("ironstone_webseed_bytes_total", "counter", "Chunk bytes sent by the web seed (/chunks).");
  w.sample("ironstone_webseed_bytes_total", "", s.chunk_bytes_served);
  write_torrents(w, s);
  write_tracker(w, s);
  write_fleet(w, s);
  return w.str();
}

}  // namespace ironstone::seeder
