// Prometheus naming on GET /metrics: every counter's name ends in "_total" (the Prometheus and
// OpenMetrics convention; a counter without it is read as untyped by some scrapers), and every
// sample belongs to a family declared by "# TYPE" before it.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "tests/seeder/seeder_test_util.h"

namespace ironstone::seeder {
namespace {

using namespace ironstone::seeder::testing;

TEST_F(LoopbackSeederTest, EveryCounterOnMetricsEndsInTotal) {
  make_release(dir_.path(), "rpi5", "1.0", 2, 1024, 5);  // per-release torrent samples
  start(loopback_config(dir_.path(), true));
  ASSERT_TRUE(wait_until([&] { return seeder_->metrics().torrents.size() == 1; })) << "release never seeded";
  http_get(port_, "/v1/info");
  const auto m = http_get(port_, "/metrics");
  ASSERT_EQ(m.status, 200);
  std::map<std::string, std::string> type_of;  // family -> type
  std::istringstream in(m.body);
  int counters = 0, samples = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream words(line.substr(7));
      std::string name, type;
      words >> name >> type;
      type_of[name] = type;
      if (type == "counter") {
        ++counters;
        EXPECT_TRUE(name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0)
            << "counter " << name << " does not end in _total";
      }
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    const std::string name = line.substr(0, line.find_first_of("{ "));
    ++samples;
    EXPECT_TRUE(type_of.count(name)) << "sample of undeclared family: " << line;
  }
  EXPECT_GE(counters, 8) << m.body;
  EXPECT_GT(samples, counters) << m.body;
  EXPECT_NE(m.body.find("ironstone_torrent_uploaded_bytes_total{board=\"rpi5\",version=\"1.0\"} "),
            std::string::npos)
      << m.body;
}

}  // namespace
}  // namespace ironstone::seeder
