// The fleet's embedded database (SQLite, docs/seeder.md "The fleet database"): each node's
// current record and its history (every flash, every first-boot report), so a seeder
// restart loses nothing.
//
// File: WAL journal, synchronous=FULL, locking_mode=EXCLUSIVE taken at open (a second
// seeder on the same file fails at start-up instead of sharing it). Schema versioned with
// PRAGMA user_version; migrations are a table (kMigrations in fleet_store.cpp) applied in
// order in one transaction each. A database written by a newer schema is refused.
//
// Errors at open, all Error(Errc::kDatabase) naming the file, never an empty fleet:
//   "fleet database F: not an SQLite database (file is not a database); move it away or
//    pass another --fleet-db"
//   "fleet database F: fails PRAGMA quick_check: <first problem>; …"
//   "fleet database F: locked by another process (another ironstone-seeder?): database is locked"
//   "fleet database F: schema version 9 is newer than this seeder's 2"
//
// Threads: one writer thread owns the write connection and is the only one touching the
// database after open. put() only queues (node records coalesce per node: the newest
// wins; history rows are appended in order); the writer commits a batch when a waiter
// needs it (wait()) or batch_delay after the first queued change. Readers never touch
// the database: the Fleet answers from memory (the state loaded at open plus what was
// put since).
//
// Thread safety: put(), wait(), flush() and stats() may be called from any thread.
// Lifetime: the destructor writes what is queued and closes the file.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

struct sqlite3;

namespace ironstone::seeder {

class FleetStore {
 public:
  struct Options {
    std::chrono::milliseconds batch_delay{500};
    std::size_t max_history_loaded = 256;  // per node, newest kept
  };
  struct StoredNode {
    std::string node_id;
    nlohmann::json record;
    std::vector<nlohmann::json> history;  // oldest first
  };
  struct Stats {
    std::uint64_t batches = 0;  // transactions committed
    std::uint64_t rows = 0;     // rows written
    std::uint64_t errors = 0;   // batches that failed (logged; the changes are retried)
  };

  static constexpr int kSchemaVersion = 2;

  // Opens or creates `file` and loads it. Throws Error(Errc::kDatabase) as above.
  explicit FleetStore(std::filesystem::path file);
  FleetStore(std::filesystem::path file, Options options);
  ~FleetStore();
  FleetStore(const FleetStore&) = delete;
  FleetStore& operator=(const FleetStore&) = delete;

  // What the database held at open; moved out once (by the Fleet).
  std::vector<StoredNode> take_loaded();

  // Queues the node's new record and, when given, one history row. Returns a ticket.
  std::uint64_t put(const std::string& node_id, nlohmann::json record, const nlohmann::json* history);
  // Blocks until every change up to `ticket` was committed (or its batch failed).
  void wait(std::uint64_t ticket);
  void flush();

  // The secret the nodes' re-flash order keys derive from (seeder/order_keys.h): 64 hex
  // digits, made at the first open and kept in the database (table settings).
  const std::string& order_secret() const { return order_secret_; }

  Stats stats() const;
  const std::filesystem::path& file() const { return file_; }

 private:
  struct Batch {
    std::map<std::string, std::string> nodes;                  // node id -> record JSON
    std::vector<std::pair<std::string, std::string>> history;  // node id, entry JSON
    std::uint64_t last_ticket = 0;
  };
  void open_database();
  void migrate();
  void load();
  void load_order_secret();
  void writer_loop();
  bool write(const Batch& batch);

  std::filesystem::path file_;
  Options options_;
  sqlite3* db_ = nullptr;
  std::vector<StoredNode> loaded_;
  std::string order_secret_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;     // the writer: work or stop
  std::condition_variable written_;  // waiters: a batch finished
  Batch pending_;
  std::uint64_t next_ticket_ = 0;
  std::uint64_t done_ticket_ = 0;
  std::uint64_t wanted_ticket_ = 0;  // highest ticket a waiter waits for
  bool stop_ = false;
  Stats stats_;
  std::thread writer_;
};

}  // namespace ironstone::seeder
