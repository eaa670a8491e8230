// The built-in tracker: in-process unit behaviour and /announce over HTTP.
#include "seeder/tracker.h"

#include <gtest/gtest.h>

#include "seeder/query.h"
#include "tests/seeder/seeder_test_util.h"

namespace ironstone::seeder {
namespace {

using namespace ironstone::seeder::testing;
using ironstone::testing::TempDir;

std::string escape_all(const std::string& raw) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : raw) {
    out += '%';
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

std::string announce_query(const std::string& hash, const std::string& peer_id, int port, int left,
                           const std::string& extra = "") {
  return "info_hash=" + escape_all(hash) + "&peer_id=" + escape_all(peer_id) +
         "&port=" + std::to_string(port) + "&uploaded=0&downloaded=0&left=" + std::to_string(left) +
         "&compact=1" + extra;
}

// Value of the compact "peers" string in a bencoded response.
std::string compact_peers(const std::string& body) {
  const auto pos = body.find("5:peers");
  if (pos == std::string::npos) return "<none>";
  const auto colon = body.find(':', pos + 7);
  const std::size_t n = std::stoul(body.substr(pos + 7, colon - pos - 7));
  return body.substr(colon + 1, n);
}

std::string peer_bytes(int a, int b, int c, int d, int port) {
  return {static_cast<char>(a), static_cast<char>(b),         static_cast<char>(c),
          static_cast<char>(d), static_cast<char>(port >> 8), static_cast<char>(port & 255)};
}

const std::string kHash =
    std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a", 10) + std::string(10, '\xff');
const std::string kPeerA = "-IS0100-aaaaaaaaaaaa";
const std::string kPeerB = "-IS0100-bbbbbbbbbbbb";

Announce parsed(const std::string& query, const char* ip = "10.0.0.5") {
  auto r = parse_announce(query, boost::asio::ip::make_address(ip));
  if (auto* reason = std::get_if<std::string>(&r)) throw std::runtime_error(*reason);
  return std::get<Announce>(r);
}

TEST(Tracker, ReturnsOtherPeersButNeverTheRequester) {
  Tracker tracker({});
  const auto first = tracker.announce(parsed(announce_query(kHash, kPeerA, 6881, 100), "10.0.0.1"));
  EXPECT_EQ(compact_peers(first), "");
  const auto second = tracker.announce(parsed(announce_query(kHash, kPeerB, 6882, 100), "10.0.0.2"));
  EXPECT_EQ(compact_peers(second), peer_bytes(10, 0, 0, 1, 6881));
  const auto again = tracker.announce(parsed(announce_query(kHash, kPeerA, 6881, 100), "10.0.0.1"));
  EXPECT_EQ(compact_peers(again), peer_bytes(10, 0, 0, 2, 6882));
  EXPECT_NE(again.find("8:intervali30e"), std::string::npos);
}

TEST(Tracker, StoppedRemovesThePeerAndOldPeersExpire) {
  Tracker tracker(Tracker::Options{std::chrono::seconds(10)});
  const auto t0 = Tracker::Clock::now();
  tracker.announce(parsed(announce_query(kHash, kPeerA, 6881, 100), "10.0.0.1"), t0);
  tracker.announce(parsed(announce_query(kHash, kPeerB, 6882, 100, "&event=stopped"), "10.0.0.2"), t0);
  EXPECT_EQ(tracker.counts(t0).at(0).leechers, 1u);
  // 2 x interval later peer A is gone.
  const auto later = tracker.announce(parsed(announce_query(kHash, kPeerB, 6882, 100), "10.0.0.2"),
                                      t0 + std::chrono::seconds(21));
  EXPECT_EQ(compact_peers(later), "");
}

TEST(Tracker, SeedsAreNotSentToSeedsAndLoopbackPeersAreRewritten) {
  Tracker tracker({});
  // The seeder announces itself from loopback.
  tracker.announce(parsed(announce_query(kHash, kPeerA, 6881, 0), "127.0.0.1"));
  auto r =
      parse_announce(announce_query(kHash, kPeerB, 7000, 50), boost::asio::ip::make_address("192.168.1.20"),
                     boost::asio::ip::make_address("192.168.1.2"));
  const auto reply = tracker.announce(std::get<Announce>(r));
  EXPECT_EQ(compact_peers(reply), peer_bytes(192, 168, 1, 2, 6881));
  const auto seed_reply = tracker.announce(parsed(announce_query(kHash, kPeerA, 6881, 0), "127.0.0.1"));
  EXPECT_EQ(compact_peers(seed_reply), peer_bytes(192, 168, 1, 20, 7000));
}

TEST(Tracker, RejectsMalformedAnnounces) {
  const auto ip = boost::asio::ip::make_address("10.0.0.1");
  EXPECT_EQ(std::get<std::string>(parse_announce("peer_id=x&port=1", ip)), "missing info_hash");
  EXPECT_EQ(std::get<std::string>(parse_announce(announce_query("short", kPeerA, 1, 0), ip)),
            "info_hash must be 20 bytes");
  EXPECT_EQ(std::get<std::string>(parse_announce(announce_query(kHash, kPeerA, 0, 0), ip)),
            "port must be 1..65535");
  EXPECT_EQ(std::get<std::string>(parse_announce(announce_query(kHash, kPeerA, 70000, 0), ip)),
            "port must be 1..65535");
  EXPECT_EQ(std::get<std::string>(parse_announce(announce_query(kHash, kPeerA, 1, 0, "&event=bogus"), ip)),
            "unknown event");
  EXPECT_EQ(std::get<std::string>(parse_announce("info_hash=%zz", ip)), "malformed query string");
  EXPECT_EQ(std::get<std::string>(parse_announce(announce_query(kHash, kPeerA, 1, 0, "&numwant=-5"), ip)),
            "numwant must be a non-negative integer");
}

TEST(Tracker, OnlyAllowedTorrentsAreTracked) {
  Tracker tracker({});
  tracker.set_allowed([](const InfoHash20&) { return false; });
  const auto reply = tracker.announce(parsed(announce_query(kHash, kPeerA, 6881, 100)));
  EXPECT_EQ(reply, "d14:failure reason24:torrent not tracked heree");
}

TEST(Tracker, NonCompactResponseListsDictionaries) {
  Tracker tracker({});
  tracker.announce(parsed(announce_query(kHash, kPeerA, 6881, 100), "10.0.0.1"));
  std::string query = announce_query(kHash, kPeerB, 6882, 100);
  query.replace(query.find("compact=1"), 9, "compact=0");
  const auto reply = tracker.announce(parsed(query, "10.0.0.2"));
  EXPECT_NE(reply.find("5:peersld2:ip8:10.0.0.17:peer id20:" + kPeerA + "4:porti6881eee"), std::string::npos)
      << reply;
}

TEST(TrackerHttp, AnnounceReturnsCompactPeersExceptTheRequester) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "releases");
  SeederConfig config = loopback_config(dir.path(), false);
  Seeder seeder(config);
  seeder.start();
  const auto port = seeder.http_port();
  auto a = http_get(port, "/announce?" + announce_query(kHash, kPeerA, 6881, 100));
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(compact_peers(a.body), "");
  auto b = http_get(port, "/announce?" + announce_query(kHash, kPeerB, 6882, 100));
  EXPECT_EQ(compact_peers(b.body), peer_bytes(127, 0, 0, 1, 6881));
  auto a2 = http_get(port, "/announce?" + announce_query(kHash, kPeerA, 6881, 100));
  EXPECT_EQ(compact_peers(a2.body), peer_bytes(127, 0, 0, 1, 6882));
}

TEST(TrackerHttp, BadInfoHashGetsFailureReason) {
  TempDir dir;
  Seeder seeder(loopback_config(dir.path(), false));
  seeder.start();
  auto r = http_get(seeder.http_port(), "/announce?info_hash=abc&peer_id=" + escape_all(kPeerA) + "&port=1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "d14:failure reason26:info_hash must be 20 bytese");
}

}  // namespace
}  // namespace ironstone::seeder
