// The fleet database: a restart keeps every node and its history; a corrupt, foreign,
// locked or newer database stops the start-up with an error naming the file; kill -9 of
// the real seeder between "done" and "booted" loses nothing.
#include "seeder/fleet_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>

#include "seeder/errc.h"
#include "seeder/fleet.h"
#include "tests/seeder/seeder_test_util.h"
#include "tests/testutil/expect_error.h"

namespace ironstone::seeder {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ironstone::testing::TempDir;
using nlohmann::json;

const std::string kDone =
    R"({"mac":"dc:a6:32:01:02:03","board":"rpi5","release":"2026.11.1","step":"linger","state":"done",)"
    R"("progress":1,"bytes_done":400,"bytes_total":400,"bytes_from_seeder":60,"bytes_from_peers":340})";
const std::string kBooted =
    R"({"state":"booted","hostname":"rack1-n01","board":"rpi5","release":"2026.11.1","sequence":12})";

int sql_int(const fs::path& file, const char* sql) {
  sqlite3* db = nullptr;
  sqlite3_open(file.c_str(), &db);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, sql, -1, &st, nullptr);
  const int v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

TEST(FleetStore, ARestartKeepsEveryNodeItsStateAndItsHistory) {
  TempDir dir;
  const fs::path file = dir / "fleet.sqlite";
  const auto t0 = Fleet::Clock::now() - 10s;
  json before;
  {
    FleetStore store(file);
    Fleet fleet({});
    fleet.attach(&store);
    fleet.record(parse_node_event("node-a", R"({"step":"download","state":"working","progress":0.5})"), t0);
    fleet.record(parse_node_event("node-a", kDone), t0 + 1s);
    fleet.report(parse_lifecycle_report("node-a", kBooted), t0 + 2s);
    fleet.record(parse_node_event("node-b", R"({"step":"download","state":"working","progress":0.3})"), t0 + 3s);
    fleet.record(parse_node_event("node-b", R"({"step":"download","state":"working","progress":0.4})"), t0 + 4s);
    before = fleet.view(t0 + 5s);
  }  // the destructor writes what is queued (node-b's progress)
  EXPECT_EQ(sql_int(file, "PRAGMA user_version"), FleetStore::kSchemaVersion);
  EXPECT_EQ(sql_int(file, "SELECT count(*) FROM history"), 2);

  FleetStore store(file);
  Fleet fleet({});
  fleet.attach(&store);
  const json after = fleet.view(t0 + 5s);
  EXPECT_EQ(after["nodes"], before["nodes"]);
  EXPECT_EQ(after["summary"], before["summary"]);
  const json h = *fleet.history("node-a", t0 + 5s);
  ASSERT_EQ(h["history"].size(), 2u);
  EXPECT_EQ(h["history"][0]["kind"], "flash");
  EXPECT_EQ(h["history"][0]["bytes_from_peers"], 340);
  EXPECT_EQ(h["history"][1]["kind"], "booted");
  EXPECT_DOUBLE_EQ(after["nodes"][1]["progress"].get<double>(), 0.4);
}

TEST(FleetStore, ProgressEventsAreBatchedTransitionsAreWrittenBeforeTheyAreAcknowledged) {
  TempDir dir;
  FleetStore store(dir / "fleet.sqlite", FleetStore::Options{std::chrono::hours(1), 256});
  Fleet fleet({});
  fleet.attach(&store);
  fleet.record(parse_node_event("node-a", R"({"step":"download","state":"working"})"));  // new flash: written
  const auto first = store.stats();
  EXPECT_EQ(first.batches, 1u);
  for (int i = 1; i <= 50; ++i) {
    fleet.record(parse_node_event("node-a", R"({"step":"download","state":"working","progress":0.)" +
                                                std::to_string(i % 10) + "}"));
  }
  EXPECT_EQ(store.stats().batches, 1u);  // queued, coalesced, not yet written (batch delay 1 h)
  fleet.record(parse_node_event("node-a", kDone));  // the flash ended: written with everything before it
  const auto after = store.stats();
  EXPECT_EQ(after.batches, 2u);
  EXPECT_EQ(after.rows, first.rows + 2);  // one node row (the newest record) + one history row
  EXPECT_EQ(after.errors, 0u);
}

TEST(FleetStore, AFileThatIsNotADatabaseIsAnErrorNamingIt) {
  TempDir dir;
  const fs::path file = dir / "fleet.sqlite";
  ironstone::testing::write_text(file, std::string(8192, 'x'));
  EXPECT_ERROR_EQ(FleetStore{file}, Errc::kDatabase,
                  "fleet database " + file.string() +
                      ": not an SQLite database (file is not a database); move it away or pass another --fleet-db");
  EXPECT_EQ(ironstone::testing::read_text(file), std::string(8192, 'x'));  // left as it was
}

TEST(FleetStore, ADamagedDatabaseFailsQuickCheckWithAnErrorNamingIt) {
  TempDir dir;
  const fs::path file = dir / "fleet.sqlite";
  {
    FleetStore store(file);
    Fleet fleet({});
    fleet.attach(&store);
    for (int i = 0; i < 200; ++i) fleet.record(parse_node_event("node-" + std::to_string(i), kDone));
  }
  // Overwrite the middle of the file (b-tree pages of the tables) with garbage, keep the header.
  const auto size = fs::file_size(file);
  ASSERT_GT(size, 16384u);
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size / 2));
    const std::string junk(4096, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  try {
    FleetStore store(file);
    FAIL() << "opened a damaged database";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kDatabase));
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("fleet database " + file.string() + ": ", 0), 0u) << what;
    EXPECT_TRUE(what.find("fails PRAGMA quick_check: ") != std::string::npos ||
                what.find(": corrupt (database disk image is malformed)") != std::string::npos)
        << what;
    EXPECT_NE(what.find("move it away or pass another --fleet-db"), std::string::npos) << what;
  }
}

TEST(FleetStore, ASecondOpenOfTheSameFileIsLockedOut) {
  TempDir dir;
  const fs::path file = dir / "fleet.sqlite";
  FleetStore first(file);
  EXPECT_ERROR_EQ(FleetStore{file}, Errc::kDatabase,
                  "fleet database " + file.string() +
                      ": locked by another process (another ironstone-seeder?): database is locked");
}

TEST(FleetStore, ADatabaseOfANewerSchemaIsRefused) {
  TempDir dir;
  const fs::path file = dir / "fleet.sqlite";
  { FleetStore store(file); }
  ASSERT_EQ(sql_int(file, "PRAGMA user_version=9"), -1);  // no row; sets it
  EXPECT_ERROR_EQ(FleetStore{file}, Errc::kDatabase,
                  "fleet database " + file.string() + ": schema version 9 is newer than this seeder's 2");
}

TEST(FleetStore, TheSeederRefusesToStartOnACorruptDatabase) {
  TempDir dir;
  fs::create_directories(dir / "store");
  ironstone::testing::write_text(dir / "store" / "fleet.sqlite", "not a database, clearly");
  Seeder seeder(testing::loopback_config(dir / "store", false));
  EXPECT_ERROR_HAS(seeder.start(), Errc::kDatabase,
                   "fleet database " + fs::canonical(dir / "store").string() + "/fleet.sqlite: not an SQLite database");
}

// The real binary, killed with SIGKILL after the node reported "done" and before "booted":
// the restarted seeder has the flash in the node's history, then takes the booted report.
TEST(FleetStore, KillMinusNineBetweenDoneAndBootedLosesNothing) {
  const auto bin = ironstone::testing::binary("ironstone-seeder");
  if (!fs::exists(bin)) GTEST_SKIP() << "ironstone-seeder not built: " << bin;
  if (ironstone::testing::run_command("command -v curl >/dev/null") != 0) GTEST_SKIP() << "curl not installed";
  TempDir dir;
  fs::create_directories(dir / "store" / "releases");
  const std::string db = (dir / "nodes.sqlite").string();
  const std::string start =
      bin.string() + " --store " + (dir / "store").string() + " --fleet-db " + db +
      " --listen 127.0.0.1:0 --no-bittorrent > LOG 2>&1 & pid=$!\n"
      "for i in $(seq 200); do grep -q 'HTTP port' LOG && break; sleep 0.05; done\n"
      "port=$(sed -n 's/.*HTTP port \\([0-9]*\\).*/\\1/p' LOG)\n";
  const auto run = [&](const std::string& log) {
    std::string s = start;
    for (std::size_t p; (p = s.find("LOG")) != std::string::npos;) s.replace(p, 3, (dir / log).string());
    return s;
  };
  const std::string curl = "curl -sf -o /dev/null -w '%{http_code}\\n' -H 'Content-Type: application/json' ";
  const std::string script =
      run("seeder-1.log") +
      curl + "-d '{\"board\":\"rpi5\",\"release\":\"1.0\",\"step\":\"download\",\"state\":\"working\"}' "
             "http://127.0.0.1:$port/v1/nodes/node-dca632010203/events\n" +
      curl + "-d '" + kDone + "' http://127.0.0.1:$port/v1/nodes/node-dca632010203/events\n" +
      "kill -KILL $pid; wait $pid; echo killed=$?\n" + run("seeder-2.log") +
      "curl -sf http://127.0.0.1:$port/v1/nodes/node-dca632010203/history > " + (dir / "after-kill.json").string() +
      "\n" + curl + "-d '" + kBooted + "' http://127.0.0.1:$port/v1/nodes/dc:a6:32:01:02:03/lifecycle\n" +
      "curl -sf http://127.0.0.1:$port/v1/nodes/node-dca632010203/history > " + (dir / "after-boot.json").string() +
      "\nkill -TERM $pid; wait $pid; echo exit=$?\n";
  ironstone::testing::write_text(dir / "run.sh", script);
  std::string out;
  ASSERT_EQ(ironstone::testing::run_command("bash " + (dir / "run.sh").string(), &out), 0) << out;
  // bash may add its own "Killed" line: look for the answers in order.
  const auto at = [&](const std::string& what, std::size_t from) { return out.find(what, from); };
  const std::size_t posted = at("200\n200\n", 0);
  ASSERT_NE(posted, std::string::npos) << out;
  const std::size_t killed_at = at("killed=137\n", posted);
  ASSERT_NE(killed_at, std::string::npos) << out;
  ASSERT_NE(at("204\nexit=0\n", killed_at), std::string::npos) << out << ironstone::testing::read_text(dir / "seeder-2.log");

  const json killed = json::parse(ironstone::testing::read_text(dir / "after-kill.json"));
  EXPECT_EQ(killed["node"]["state"], "done");
  ASSERT_EQ(killed["history"].size(), 1u);
  EXPECT_EQ(killed["history"][0]["kind"], "flash");
  EXPECT_EQ(killed["history"][0]["outcome"], "done");
  EXPECT_EQ(killed["history"][0]["release"], "2026.11.1");
  EXPECT_EQ(killed["history"][0]["bytes_from_peers"], 340);
  const json booted = json::parse(ironstone::testing::read_text(dir / "after-boot.json"));
  EXPECT_EQ(booted["node"]["state"], "booted");
  EXPECT_EQ(booted["node"]["hostname"], "rack1-n01");
  ASSERT_EQ(booted["history"].size(), 2u);
  EXPECT_EQ(booted["history"][1]["kind"], "booted");
}

}  // namespace
}  // namespace ironstone::seeder
