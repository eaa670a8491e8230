#include "seeder/fleet_store.h"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <sodium.h>

#include <span>

#include "api/node_order.h"
#include "seeder/errc.h"
#include "util/hex.h"

namespace ironstone::seeder {

using nlohmann::json;

namespace {

// Migration i takes the schema from version i to i + 1 (PRAGMA user_version).
constexpr const char* kMigrations[] = {
    // 0 -> 1: nodes (the current record, JSON) and their history (one row per flash or report).
    "CREATE TABLE nodes (node_id TEXT PRIMARY KEY, record TEXT NOT NULL, updated REAL NOT NULL);"
    "CREATE TABLE history (id INTEGER PRIMARY KEY AUTOINCREMENT, node_id TEXT NOT NULL, time REAL NOT NULL,"
    " kind TEXT NOT NULL, entry TEXT NOT NULL);"
    "CREATE INDEX history_by_node ON history (node_id, id);",
    // 1 -> 2: the seeder's own settings; "order_secret" derives the nodes' re-flash order keys.
    "CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);",
};
static_assert(std::size(kMigrations) == FleetStore::kSchemaVersion);

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// One prepared statement, finalized on scope exit.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  int prepared() const { return rc_; }
  void bind(int i, const std::string& s) { sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT); }
  void bind(int i, double d) { sqlite3_bind_double(stmt_, i, d); }
  void bind(int i, std::int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  int step() { return sqlite3_step(stmt_); }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::string text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  int integer(int col) const { return sqlite3_column_int(stmt_, col); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_OK;
};

}  // namespace

FleetStore::FleetStore(std::filesystem::path file) : FleetStore(std::move(file), Options{}) {}

FleetStore::FleetStore(std::filesystem::path file, Options options)
    : file_(std::move(file)), options_(options) {
  try {
    open_database();
    migrate();
    load();
    load_order_secret();
  } catch (...) {
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw;
  }
  writer_ = std::thread([this] { writer_loop(); });
}

FleetStore::~FleetStore() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) writer_.join();
  sqlite3_close_v2(db_);
}

namespace {

[[noreturn]] void fail(const std::filesystem::path& file, sqlite3* db, int rc, const std::string& doing) {
  const std::string what = "fleet database " + file.string() + ": ";
  const std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_NOTADB:
      throw error(Errc::kDatabase, what + "not an SQLite database (" + msg + "); move it away or pass another --fleet-db");
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      throw error(Errc::kDatabase, what + "locked by another process (another ironstone-seeder?): " + msg);
    case SQLITE_CORRUPT:
      throw error(Errc::kDatabase, what + "corrupt (" + msg + "); move it away or pass another --fleet-db");
    default:
      throw error(Errc::kDatabase, what + doing + ": " + msg);
  }
}

void exec(const std::filesystem::path& file, sqlite3* db, const char* sql, const char* doing) {
  if (const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr); rc != SQLITE_OK) fail(file, db, rc, doing);
}

}  // namespace

void FleetStore::open_database() {
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
  if (const int rc = sqlite3_open_v2(file_.c_str(), &db_, flags, nullptr); rc != SQLITE_OK) {
    fail(file_, db_, rc, "cannot open");
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, 0);
  exec(file_, db_, "PRAGMA locking_mode=EXCLUSIVE", "setting the locking mode");
  {
    Statement wal(db_, "PRAGMA journal_mode=WAL");
    if (wal.prepared() != SQLITE_OK) fail(file_, db_, wal.prepared(), "setting WAL mode");
    if (const int rc = wal.step(); rc != SQLITE_ROW) fail(file_, db_, rc, "setting WAL mode");
    if (wal.text(0) != "wal") {
      throw error(Errc::kDatabase, "fleet database " + file_.string() + ": cannot use WAL mode (journal mode " +
                                       wal.text(0) + ")");
    }
  }
  exec(file_, db_, "PRAGMA synchronous=FULL", "setting synchronous");
  exec(file_, db_, "BEGIN EXCLUSIVE; COMMIT", "taking the exclusive lock");
  Statement check(db_, "PRAGMA quick_check");
  if (check.prepared() != SQLITE_OK) fail(file_, db_, check.prepared(), "PRAGMA quick_check");
  const int rc = check.step();
  if (rc != SQLITE_ROW) fail(file_, db_, rc, "PRAGMA quick_check");
  if (check.text(0) != "ok") {
    throw error(Errc::kDatabase, "fleet database " + file_.string() + ": fails PRAGMA quick_check: " +
                                     check.text(0).substr(0, 300) + "; move it away or pass another --fleet-db");
  }
}

void FleetStore::migrate() {
  int version = 0;
  {
    Statement v(db_, "PRAGMA user_version");
    if (v.prepared() != SQLITE_OK || v.step() != SQLITE_ROW) fail(file_, db_, SQLITE_ERROR, "reading user_version");
    version = v.integer(0);
  }
  if (version > kSchemaVersion) {
    throw error(Errc::kDatabase, "fleet database " + file_.string() + ": schema version " + std::to_string(version) +
                                     " is newer than this seeder's " + std::to_string(kSchemaVersion));
  }
  for (int v = version; v < kSchemaVersion; ++v) {
    const std::string sql = std::string("BEGIN IMMEDIATE;") + kMigrations[v] +
                            "PRAGMA user_version=" + std::to_string(v + 1) + ";COMMIT;";
    if (const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr); rc != SQLITE_OK) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      fail(file_, db_, rc, "migrating the schema to version " + std::to_string(v + 1));
    }
    spdlog::info("fleet database {}: schema version {}", file_.string(), v + 1);
  }
}

void FleetStore::load() {
  std::map<std::string, std::size_t> index;
  Statement nodes(db_, "SELECT node_id, record FROM nodes ORDER BY node_id");
  if (nodes.prepared() != SQLITE_OK) fail(file_, db_, nodes.prepared(), "reading nodes");
  int rc;
  while ((rc = nodes.step()) == SQLITE_ROW) {
    const std::string id = nodes.text(0);
    json record = json::parse(nodes.text(1), nullptr, false);
    if (record.is_discarded() || !record.is_object()) {
      throw error(Errc::kDatabase, "fleet database " + file_.string() + ": node " + id.substr(0, 64) +
                                       ": record is not a JSON object");
    }
    index[id] = loaded_.size();
    loaded_.push_back(StoredNode{id, std::move(record), {}});
  }
  if (rc != SQLITE_DONE) fail(file_, db_, rc, "reading nodes");
  // The newest max_history_loaded rows per node, oldest first.
  Statement hist(db_,
                 "SELECT node_id, entry FROM (SELECT node_id, entry, id, ROW_NUMBER() OVER "
                 "(PARTITION BY node_id ORDER BY id DESC) AS n FROM history) WHERE n <= ?1 ORDER BY id");
  if (hist.prepared() != SQLITE_OK) fail(file_, db_, hist.prepared(), "reading history");
  hist.bind(1, static_cast<std::int64_t>(options_.max_history_loaded));
  while ((rc = hist.step()) == SQLITE_ROW) {
    const auto it = index.find(hist.text(0));
    if (it == index.end()) continue;  // history of a node without a record: not shown
    json entry = json::parse(hist.text(1), nullptr, false);
    if (entry.is_discarded() || !entry.is_object()) continue;
    loaded_[it->second].history.push_back(std::move(entry));
  }
  if (rc != SQLITE_DONE) fail(file_, db_, rc, "reading history");
}

// The secret is made once, when the database is new (or older than schema 2), and kept: every
// node's order key derives from it, so a new secret would orphan every node flashed before.
void FleetStore::load_order_secret() {
  {
    Statement get(db_, "SELECT value FROM settings WHERE name = 'order_secret'");
    if (get.prepared() != SQLITE_OK) fail(file_, db_, get.prepared(), "reading settings");
    const int rc = get.step();
    if (rc == SQLITE_ROW) {
      order_secret_ = get.text(0);
      if (!api::valid_order_key(order_secret_))
        throw error(Errc::kDatabase, "fleet database " + file_.string() +
                                         ": settings.order_secret is not 64 lower-case hex digits");
      return;
    }
    if (rc != SQLITE_DONE) fail(file_, db_, rc, "reading settings");
  }
  unsigned char secret[32];
  randombytes_buf(secret, sizeof secret);
  order_secret_ = to_hex(std::span<const unsigned char>(secret, sizeof secret));
  sodium_memzero(secret, sizeof secret);
  Statement put(db_, "INSERT INTO settings (name, value) VALUES ('order_secret', ?1)");
  if (put.prepared() != SQLITE_OK) fail(file_, db_, put.prepared(), "writing settings");
  put.bind(1, order_secret_);
  if (const int rc = put.step(); rc != SQLITE_DONE) fail(file_, db_, rc, "writing settings");
}

std::vector<FleetStore::StoredNode> FleetStore::take_loaded() { return std::move(loaded_); }

std::uint64_t FleetStore::put(const std::string& node_id, json record, const json* history) {
  const std::string text = record.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string entry;
  if (history) entry = history->dump(-1, ' ', false, json::error_handler_t::replace);
  std::lock_guard lock(mutex_);
  const bool was_empty = pending_.nodes.empty() && pending_.history.empty();
  pending_.nodes[node_id] = text;
  if (history) pending_.history.emplace_back(node_id, std::move(entry));
  pending_.last_ticket = ++next_ticket_;
  if (was_empty) wake_.notify_one();
  return next_ticket_;
}

void FleetStore::wait(std::uint64_t ticket) {
  std::unique_lock lock(mutex_);
  if (done_ticket_ >= ticket) return;
  wanted_ticket_ = std::max(wanted_ticket_, ticket);
  wake_.notify_one();
  written_.wait(lock, [&] { return done_ticket_ >= ticket; });
}

void FleetStore::flush() {
  std::uint64_t ticket;
  {
    std::lock_guard lock(mutex_);
    ticket = next_ticket_;
  }
  wait(ticket);
}

FleetStore::Stats FleetStore::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void FleetStore::writer_loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [&] { return stop_ || pending_.last_ticket > done_ticket_; });
    if (pending_.last_ticket <= done_ticket_ && stop_) return;
    // Batch: wait up to batch_delay for more, unless someone waits or we stop.
    wake_.wait_for(lock, options_.batch_delay, [&] { return stop_ || wanted_ticket_ > done_ticket_; });
    Batch batch = std::move(pending_);
    pending_ = Batch{};
    pending_.last_ticket = batch.last_ticket;
    lock.unlock();
    const bool ok = write(batch);
    lock.lock();
    if (ok) {
      ++stats_.batches;
      stats_.rows += batch.nodes.size() + batch.history.size();
    } else {
      ++stats_.errors;
      // Keep the changes for the next batch (newer node records win); history goes first.
      for (auto& [id, rec] : batch.nodes) pending_.nodes.try_emplace(id, std::move(rec));
      pending_.history.insert(pending_.history.begin(), batch.history.begin(), batch.history.end());
    }
    done_ticket_ = batch.last_ticket;  // a failed batch does not block waiters forever
    written_.notify_all();
    if (!ok && !stop_) wake_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_; });
  }
}

bool FleetStore::write(const Batch& batch) {
  const auto log_failure = [&](const char* doing) {
    spdlog::error("fleet database {}: {}: {}", file_.string(), doing, sqlite3_errmsg(db_));
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return false;
  };
  if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) return log_failure("begin");
  {
    Statement up(db_, "INSERT INTO nodes (node_id, record, updated) VALUES (?1, ?2, ?3) "
                      "ON CONFLICT(node_id) DO UPDATE SET record = excluded.record, updated = excluded.updated");
    if (up.prepared() != SQLITE_OK) return log_failure("preparing");
    const double now = now_seconds();
    for (const auto& [id, rec] : batch.nodes) {
      up.bind(1, id);
      up.bind(2, rec);
      up.bind(3, now);
      if (up.step() != SQLITE_DONE) return log_failure("writing a node");
      up.reset();
    }
    Statement add(db_, "INSERT INTO history (node_id, time, kind, entry) VALUES (?1, "
                       "coalesce(json_extract(?2, '$.time'), 0), coalesce(json_extract(?2, '$.kind'), ''), ?2)");
    if (add.prepared() != SQLITE_OK) return log_failure("preparing");
    for (const auto& [id, entry] : batch.history) {
      add.bind(1, id);
      add.bind(2, entry);
      if (add.step() != SQLITE_DONE) return log_failure("writing history");
      add.reset();
    }
  }
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) return log_failure("commit");
  return true;
}

}  // namespace ironstone::seeder
