// The dashboard in a real browser: headless Debian chromium against an in-process seeder on
// loopback with a rack in mixed states; the DOM after the page's scripts ran is checked for
// the rows, states, progress, reasons, chart and a node's history, and the screenshot is kept
// as build/test-artifacts/dashboard.png.
#include <gtest/gtest.h>

#include <regex>

#include "seeder/fleet.h"
#include "tests/seeder/seeder_test_util.h"

namespace ironstone::seeder {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace ironstone::seeder::testing;
using nlohmann::json;

constexpr const char* kChromium = "/usr/bin/chromium";

NodeEvent event(const std::string& id, const std::string& step, const std::string& state, double progress,
                std::uint64_t seeder, std::uint64_t peers, double rate) {
  NodeEvent e;
  e.node_id = id;
  e.board = "rpi5";
  e.release = "2026.11.1";
  e.step = step;
  e.state = state;
  e.progress = progress;
  e.bytes_total = 4'000'000'000;
  e.bytes_done = static_cast<std::uint64_t>(progress * 4e9);
  e.bytes_from_seeder = seeder;
  e.bytes_from_peers = peers;
  e.rate = rate;
  return e;
}

LifecycleReport report(const std::string& id, const std::string& state, const std::string& host) {
  LifecycleReport r;
  r.node_id = id;
  r.state = state;
  r.hostname = host;
  r.board = "rpi5";
  r.release = "2026.11.1";
  r.sequence = 12;
  return r;
}

// A rack of seven: two flashing (with ten minutes of rate samples), done, booted, joined,
// stale (flashed 40 min ago, never booted) and failed with a long error.
void fill_rack(Fleet& fleet, Fleet::Clock::time_point now) {
  const auto t0 = now - 600s;
  for (int i = 0; i <= 60; ++i) {
    const auto t = t0 + std::chrono::seconds(10 * i);
    const double f = i / 60.0;
    const auto seeder = static_cast<std::uint64_t>(f * 900e6);
    const auto peers = static_cast<std::uint64_t>(f * f * 2200e6);
    fleet.record(event("rack1-n01", "download", "working", 0.2 + 0.5 * f, seeder / 2, peers / 2, 30e6), t);
    fleet.record(event("rack1-n02", "download", "working", 0.1 + 0.3 * f, seeder / 2, peers / 2, 25e6), t);
  }
  NodeEvent lied_to = event("rack1-n03", "linger", "done", 1, 800'000'000, 3'200'000'000, 0);
  lied_to.bytes_from_banned_peers = 4'194'304;
  lied_to.banned_peers = "10.0.0.66:6881 (sent data that failed the piece hash)";
  fleet.record(lied_to, now - 60s);
  fleet.record(event("rack1-n04", "linger", "done", 1, 700'000'000, 3'300'000'000, 0), now - 500s);
  fleet.report(report("rack1-n04", "booted", "k8s-a04"), now - 300s);
  fleet.record(event("rack1-n05", "linger", "done", 1, 600'000'000, 3'400'000'000, 0), now - 550s);
  fleet.report(report("rack1-n05", "booted", "k8s-a05"), now - 400s);
  fleet.report(report("rack1-n05", "joined", "k8s-a05"), now - 350s);
  fleet.record(event("rack1-n06", "linger", "done", 1, 500'000'000, 3'500'000'000, 0), now - 2400s);
  NodeEvent failed = event("rack1-n07", "verify", "failed", 0.63, 400'000'000, 2'000'000'000, 0);
  failed.error = "chunk 1187 at offset 4978638848: BLAKE2b mismatch after 3 attempts from 2 peers and the seeder; ";
  while (failed.error.size() < 600) failed.error += "the NVMe device reported I/O errors on write (see dmesg); ";
  fleet.record(failed, now - 30s);
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

class Dashboard : public LoopbackSeederTest {
 protected:
  void SetUp() override {
    if (!fs::exists(kChromium)) GTEST_SKIP() << kChromium << " not installed (Debian package chromium)";
    SeederConfig c = loopback_config(dir_.path(), false);
    c.boot_timeout = 1800s;
    start(c);
    fill_rack(seeder_->fleet(), Fleet::Clock::now());
  }
  // Runs chromium on the dashboard; returns its exit status, stdout in *out.
  int chromium(const std::string& mode, const std::string& url, std::string* out) {
    const fs::path profile = dir_ / ("chromium-" + std::to_string(++runs_));
    fs::create_directories(profile);
    const std::string cmd = "timeout 180 " + std::string(kChromium) +
                            " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
                            " --disable-background-networking --disable-component-update --disable-sync"
                            " --disable-dev-shm-usage --user-data-dir=" + profile.string() +
                            " --window-size=1400,900 --virtual-time-budget=6000 " + mode + " '" + url +
                            "' 2>" + (dir_ / "chromium.err").string();
    return ironstone::testing::run_command(cmd, out);
  }
  int runs_ = 0;
};

TEST_F(Dashboard, ARackInMixedStatesRendersRowsStatesProgressChartAndHistory) {
  const std::string url = "http://127.0.0.1:" + std::to_string(port_) + "/#node=rack1-n05";
  std::string dom;
  ASSERT_EQ(chromium("--dump-dom", url, &dom), 0) << ironstone::testing::read_text(dir_ / "chromium.err");

  // One row per node, each with its state.
  EXPECT_EQ(count(dom, "<tr class=\"node "), 7u) << dom;
  for (const auto& [node, state] : std::vector<std::pair<std::string, std::string>>{
           {"rack1-n01", "working"}, {"rack1-n02", "working"}, {"rack1-n03", "done"}, {"rack1-n04", "booted"},
           {"rack1-n05", "joined"}, {"rack1-n06", "stale"}, {"rack1-n07", "failed"}}) {
    EXPECT_NE(dom.find("data-node=\"" + node + "\" data-state=\"" + state + "\""), std::string::npos)
        << node << " " << state;
  }
  EXPECT_NE(dom.find(">k8s-a05<"), std::string::npos);  // host names from the first boot
  // Progress bars at the reported fractions.
  EXPECT_TRUE(std::regex_search(dom, std::regex("style=\"width: 70(\\.0)?%;\"")));
  EXPECT_TRUE(std::regex_search(dom, std::regex("style=\"width: 63(\\.0)?%;\"")));
  EXPECT_NE(dom.find(">70%</span>"), std::string::npos);
  // Reasons: the boot timeout and the long error, in the wrapping cell.
  EXPECT_NE(dom.find("no first-boot report for 30 min"), std::string::npos);
  EXPECT_NE(dom.find("<td class=\"reason\">verify: chunk 1187 at offset 4978638848"), std::string::npos);
  // A node that met a liar names it (and the bytes it sent, in the from-peers cell's title).
  EXPECT_NE(dom.find("<td class=\"reason\">banned peers: 10.0.0.66:6881 (sent data that failed the piece hash)"),
            std::string::npos);
  EXPECT_NE(dom.find("4.0 MiB from banned peers: 10.0.0.66:6881"), std::string::npos) << dom.substr(0, 4000);
  // The counts, the estimate and the chart with both series.
  EXPECT_NE(dom.find("data-state=\"joined\">1 joined<"), std::string::npos);
  EXPECT_NE(dom.find("data-state=\"working\">2 working<"), std::string::npos);
  EXPECT_TRUE(std::regex_search(dom, std::regex("rack done in ~[0-9.]+ (s|min|h) \\(about [0-9]{2}:[0-9]{2} UTC\\)")))
      << dom.substr(0, 4000);
  EXPECT_EQ(count(dom, "<polyline class=\"series-seeder\""), 1u);
  EXPECT_EQ(count(dom, "<polyline class=\"series-peers\""), 1u);
  EXPECT_TRUE(std::regex_search(dom, std::regex("class=\"series-peers\"[^>]*points=\"([0-9.]+,[0-9.]+ ){20,}")));
  // The history of the node named in the URL, expanded.
  EXPECT_NE(dom.find("<tr class=\"history\" data-node=\"rack1-n05\">"), std::string::npos);
  EXPECT_EQ(count(dom, "class=\"entry entry-"), 3u);  // flash, booted, joined
  EXPECT_NE(dom.find("class=\"entry entry-flash\""), std::string::npos);
  EXPECT_NE(dom.find("class=\"entry entry-joined\""), std::string::npos);
  EXPECT_NE(dom.find("<div id=\"err\"></div>"), std::string::npos);  // no "seeder unreachable"

  const fs::path artifacts = fs::path(IRONSTONE_BINARY_DIR) / "test-artifacts";
  fs::create_directories(artifacts);
  const fs::path png = artifacts / "dashboard.png";
  fs::remove(png);
  std::string ignored;
  ASSERT_EQ(chromium("--screenshot=" + png.string(), url, &ignored), 0)
      << ironstone::testing::read_text(dir_ / "chromium.err");
  ASSERT_TRUE(fs::exists(png));
  EXPECT_GT(fs::file_size(png), 20'000u);
  std::cout << "dashboard screenshot: " << png.string() << "\n";
}

}  // namespace
}  // namespace ironstone::seeder
