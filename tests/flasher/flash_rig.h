// Helpers for the flasher's integration tests (swarm_test, flash_run_test,
// trust_refusal_test): a store with a signing key, an in-process seeder on
// loopback, images, targets pre-filled with garbage, extra libtorrent sessions
// (a rate-limited honest seed, a lying peer), and flasher processes.
// Header-only: tests/CMakeLists.txt globs only *_test.cpp into flasher_tests.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <libtorrent/add_torrent_params.hpp>
#include <libtorrent/alert_types.hpp>
#include <libtorrent/load_torrent.hpp>
#include <libtorrent/peer_class.hpp>
#include <libtorrent/session.hpp>
#include <libtorrent/session_params.hpp>
#include <libtorrent/torrent_handle.hpp>
#include <libtorrent/torrent_info.hpp>
#include <libtorrent/torrent_status.hpp>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "boards/eeprom.h"
#include "boards/power.h"
#include "builder/publish.h"
#include "flasher/flash.h"
#include "manifest/layout.h"
#include "manifest/minisign.h"
#include "seeder/seeder.h"
#include "swarm/lan_settings.h"
#include "tests/testutil/disk_image.h"
#include "tests/testutil/sample_release.h"
#include "tests/testutil/testutil.h"

extern char** environ;

namespace ironstone::flasher::testing {

namespace fs = std::filesystem;
using ironstone::testing::pseudo_random;
using ironstone::testing::read_file;
using ironstone::testing::read_text;
using ironstone::testing::TempDir;
using ironstone::testing::write_file;
using ironstone::testing::rewrite_text;
using ironstone::testing::write_text;
using Clock = std::chrono::steady_clock;

inline constexpr std::uint32_t kChunk = 128 * 1024;

using ironstone::testing::test_key;  // deterministic signing keys (tests/testutil/sample_release.h)

// An image of `chunks` chunks of kChunk plus a short tail: random and compressible
// chunks, zero chunks (every 5th, from index 3) and one chunk repeated (index 6 = index 1).
// Chunk 0 (the partition table) is never zero.
inline std::vector<std::uint8_t> make_image(std::size_t chunks, std::uint64_t seed, std::size_t tail = 5000) {
  std::vector<std::uint8_t> img;
  img.reserve(chunks * kChunk + tail);
  for (std::size_t k = 0; k < chunks; ++k) {
    std::vector<std::uint8_t> c;
    if (k % 5 == 3) c.assign(kChunk, 0);
    else if (k == 6) c = pseudo_random(kChunk, seed * 1000 + 1, false);
    else c = pseudo_random(kChunk, seed * 1000 + k, k % 4 == 2);
    img.insert(img.end(), c.begin(), c.end());
  }
  auto t = pseudo_random(tail, seed * 1000 + 999, true);
  img.insert(img.end(), t.begin(), t.end());
  return img;
}

// A small partitioned image (MBR): an 8 MiB FAT16 boot partition at 1 MiB holding
// config.txt, and a 4 MiB ext4 root with some random files, so several chunks are non-zero.
// Callers check ironstone::testing::have_tools(disk_image_tools()) first; a failing tool is a fatal failure.
inline constexpr std::uint64_t kBootOffset = 1ull << 20;
inline ironstone::testing::DiskSpec partitioned_spec() {
  ironstone::testing::DiskSpec spec;
  spec.boot_start = kBootOffset;
  spec.boot_size = 8ull << 20;
  spec.root_size = 4ull << 20;
  spec.boot_files = {{"config.txt", "arm_64bit=1\n"}};
  return spec;
}
inline std::vector<std::uint8_t> make_partitioned_image(const fs::path& dir, const std::string& name,
                                                        std::uint64_t seed = 1) {
  const fs::path rootfs = dir / (name + ".rootfs");
  fs::create_directories(rootfs / "etc");
  write_file(rootfs / "etc" / "blob", pseudo_random(300 * 1024, seed));
  ironstone::testing::DiskSpec spec = partitioned_spec();
  spec.rootfs = rootfs;
  ironstone::testing::make_disk_image(spec, dir / name);
  if (::testing::Test::HasFatalFailure()) return {};
  return read_file(dir / name);
}

// A file at the root of the FAT filesystem at `offset` of `image`, read with mtype; nullopt when absent.
inline std::optional<std::string> fat_file(const fs::path& image, std::uint64_t offset, const std::string& name) {
  std::string out;
  const std::string spec = ironstone::testing::quote(image.string() + "@@" + std::to_string(offset));
  if (ironstone::testing::run_command("(MTOOLS_SKIP_CHECK=1 mtype -i " + spec + " ::/" + name + " 2>/dev/null)", &out) != 0)
    return std::nullopt;
  return out;
}

inline std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Writes `size` bytes of garbage (never zero, never image data): stale data shows.
inline void fill_garbage(const fs::path& path, std::size_t size, std::uint64_t seed = 77) {
  auto g = pseudo_random(size, seed);
  for (auto& b : g) b |= 0x01;
  write_file(path, g);
}

// Sum over the manifest of the bytes a full flash writes (each chunk at each offset).
inline std::uint64_t chunk_bytes(const manifest::Manifest& m) {
  std::uint64_t n = 0;
  for (const auto& c : m.chunks) n += std::uint64_t{c.length} * c.offsets.size();
  return n;
}

// Unique chunks whose bytes are not (all) at their offsets in `target` yet.
inline std::size_t chunks_missing(const manifest::Manifest& m, const std::vector<std::uint8_t>& image,
                                  const fs::path& target) {
  auto t = read_file(target);
  std::size_t missing = 0;
  for (const auto& c : m.chunks) {
    bool ok = true;
    for (auto off : c.offsets)
      ok = ok && t.size() >= off + c.length &&
           std::equal(image.begin() + static_cast<std::ptrdiff_t>(off),
                      image.begin() + static_cast<std::ptrdiff_t>(off + c.length),
                      t.begin() + static_cast<std::ptrdiff_t>(off));
    missing += !ok;
  }
  return missing;
}

template <class Pred>
bool wait_until(Pred pred, std::chrono::milliseconds timeout, std::chrono::milliseconds step = std::chrono::milliseconds(20)) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(step);
  }
  return pred();
}

// Forwards to a FakePowerControl the test keeps (the Board owns and destroys its parts).
class SharedPower : public boards::PowerControl {
 public:
  explicit SharedPower(std::shared_ptr<boards::FakePowerControl> f) : f_(std::move(f)) {}
  void request(boards::PowerAction a) override { f_->request(a); }

 private:
  std::shared_ptr<boards::FakePowerControl> f_;
};
class SharedEeprom : public boards::EepromTool {
 public:
  explicit SharedEeprom(std::shared_ptr<boards::SimulatedEeprom> e) : e_(std::move(e)) {}
  std::string read_config() override { return e_->read_config(); }
  void write(const std::string& c, std::span<const std::uint8_t> img) override { e_->write(c, img); }
  std::string read_back() override { return e_->read_back(); }

 private:
  std::shared_ptr<boards::SimulatedEeprom> e_;
};

// A store with a trusted key, releases published into it, and an in-process seeder.
class Rig {
 public:
  Rig() : store_(dir_ / "store"), key_(test_key(0x42)) {
    fs::create_directories(store_);
    pub_ = dir_ / "release.pub";
    write_text(pub_, manifest::serialize_public_key(key_.public_key()));
  }
  ~Rig() { stop_seeder(); }

  const fs::path& dir() const { return dir_.path(); }
  const fs::path& store() const { return store_; }
  const fs::path& public_key() const { return pub_; }
  const manifest::SecretKey& key() const { return key_; }

  builder::PublishOptions publish_options(const std::string& version, const std::string& board = "rpi5") const {
    builder::PublishOptions o;
    o.store = store_;
    o.board = board;
    o.version = version;
    o.chunk_size = kChunk;
    o.threads = 2;
    o.raw = true;  // make_image()'s images are chunk patterns, not disk images
    o.provenance.git_commit = "0123456789abcdef";
    o.provenance.ci_run = "test:1";
    o.provenance.builder_host = "test";
    return o;
  }
  builder::PublishResult publish(const std::vector<std::uint8_t>& image, const builder::PublishOptions& o,
                                 const manifest::SecretKey* key = nullptr) {
    const fs::path img = dir_ / ("image-" + o.board + "-" + o.version + ".img");
    write_file(img, image);
    return builder::publish(img.string(), key ? *key : key_, o);
  }
  builder::PublishResult publish(const std::vector<std::uint8_t>& image, const std::string& version) {
    return publish(image, publish_options(version));
  }

  // upload_limit: bytes/s over all of the seeder's BitTorrent peers (0 = none), the NAS link of a rack.
  // The seeder's --inventory for the next start_seeder() (empty: none).
  void set_inventory(const fs::path& inventory) { inventory_ = inventory; }
  seeder::Seeder& start_seeder(bool bittorrent = true, std::int64_t upload_limit = 0) {
    seeder::SeederConfig c;
    c.inventory = inventory_;
    c.insecure_open_identity = true;  // the flasher's GET (tests/flasher/enrolment_client_test.cpp: sealed)
    c.upload_limit = upload_limit;
    c.store = store_;
    c.http = {"127.0.0.1", 0};
    c.bittorrent = {"127.0.0.1", 0};
    c.enable_bittorrent = bittorrent;
    c.http_threads = 4;
    c.scan_interval = std::chrono::milliseconds(200);
    c.request_timeout = std::chrono::seconds(5);
    c.announce_interval = std::chrono::seconds(2);
    seeder_ = std::make_unique<seeder::Seeder>(c);
    seeder_->start();
    return *seeder_;
  }
  void stop_seeder() {
    if (seeder_) seeder_->stop();
    seeder_.reset();
  }
  seeder::Seeder& seeder() { return *seeder_; }
  std::string seeder_url() const { return "http://127.0.0.1:" + std::to_string(seeder_->http_port()); }

  // Options for an in-process run_flash of node `name`: a file target in the rig's
  // directory, its own state file, cache and fake root, no firmware step, stay up,
  // linger 0, short retries and deadlines.
  FlashOptions flash_options(const std::string& name) const {
    FlashOptions o;
    o.seeder_url = seeder_url();
    o.board = "rpi5";
    o.target = dir_ / (name + ".img");
    o.public_keys = {pub_};
    o.state_file = dir_ / (name + "-state" ) / "state.json";
    o.root = dir_ / (name + "-root");
    fs::create_directories(o.root);
    o.profiles_dir = boards::source_profiles_dir();
    o.skip_firmware = true;
    o.power = boards::PowerAction::kStayUp;
    o.node_id = name;
    o.bt_listen = "127.0.0.1:0";
    o.cache_dir = dir_ / (name + "-cache");
    o.linger = std::chrono::seconds(0);
    o.retry.attempts = 2;
    o.retry.initial_backoff = std::chrono::milliseconds(100);
    o.retry.max_backoff = std::chrono::milliseconds(200);
    o.retry.timeout = std::chrono::milliseconds(5000);
    o.web_seed_after = std::chrono::milliseconds(3000);
    o.stall_timeout = std::chrono::milliseconds(20000);
    return o;
  }

  // Command line for the ironstone-flasher binary, equivalent to flash_options(name).
  std::vector<std::string> flasher_args(const std::string& name) const {
    FlashOptions o = flash_options(name);
    return {"--seeder", o.seeder_url, "--board", "rpi5", "--target", o.target.string(), "--public-key",
            pub_.string(), "--state-file", o.state_file.string(), "--root", o.root.string(), "--profiles",
            o.profiles_dir.string(), "--skip-firmware", "--power", "stay-up", "--node-id", name, "--bt-listen",
            "127.0.0.1:0", "--cache-dir", o.cache_dir.string(), "--linger", "0", "--retries", "2",
            "--stall-timeout", "20", "--log-level", "info"};
  }

 private:
  TempDir dir_;
  fs::path store_, pub_, inventory_;
  manifest::SecretKey key_;
  std::unique_ptr<seeder::Seeder> seeder_;
};

// A libtorrent session (not an Ironstone seeder) seeding a release torrent from
// `save_path` in seed mode with every piece marked verified: it serves whatever
// bytes the files hold, without checking them. With corrupted files it is a lying
// peer; with the store's files and an upload limit it is a slow honest seed.
class RawSeed {
 public:
  RawSeed(const std::vector<char>& torrent, const fs::path& save_path, int upload_limit = 0) {
    swarm::LanOptions lan;
    lan.listen_interfaces = "127.0.0.1:0";
    lan.user_agent = "test-raw-seed/1.0";
    lan.alert_mask = lt::alert_category::error | lt::alert_category::status;
    session_ = std::make_unique<lt::session>(lt::session_params(swarm::lan_settings(lan)));
    swarm::apply_lan_peer_classes(*session_);
    if (upload_limit > 0) {
      for (auto cls : {lt::session::global_peer_class_id, lt::session::local_peer_class_id}) {
        lt::peer_class_info pci = session_->get_peer_class(cls);
        pci.upload_limit = upload_limit;
        session_->set_peer_class(cls, pci);
      }
    }
    lt::add_torrent_params atp =
        lt::load_torrent_buffer(lt::span<const char>(torrent.data(), static_cast<long>(torrent.size())));
    atp.save_path = save_path.string();
    atp.flags |= lt::torrent_flags::seed_mode;
    atp.flags &= ~(lt::torrent_flags::auto_managed | lt::torrent_flags::paused);
    atp.verified_pieces.resize(atp.ti->num_pieces(), true);
    atp.url_seeds.clear();
    atp.trackers.clear();
    handle_ = session_->add_torrent(std::move(atp));
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (port_ == 0 && Clock::now() < deadline) {
      session_->wait_for_alert(std::chrono::milliseconds(100));
      std::vector<lt::alert*> alerts;
      session_->pop_alerts(&alerts);
      for (lt::alert* a : alerts)
        if (auto* ok = lt::alert_cast<lt::listen_succeeded_alert>(a); ok && ok->socket_type == lt::socket_type_t::tcp)
          port_ = static_cast<std::uint16_t>(ok->port);
    }
    if (port_ == 0) throw std::runtime_error("RawSeed: no listen socket");
  }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
  std::int64_t uploaded() const { return handle_.status().total_payload_upload; }

 private:
  std::unique_ptr<lt::session> session_;
  lt::torrent_handle handle_;
  std::uint16_t port_ = 0;
};

// Copies the store's chunk files of `m` to <dir>/chunks/..., every 97th byte flipped.
inline void write_corrupt_chunks(const fs::path& store, const manifest::Manifest& m, const fs::path& dir) {
  for (const auto& c : m.chunks) {
    const std::string rel = manifest::layout::chunk_relpath(c.hash);
    auto bytes = read_file(store / rel);
    for (std::size_t i = 0; i < bytes.size(); i += 97) bytes[i] ^= 0x5A;
    fs::create_directories((dir / rel).parent_path());
    write_file(dir / rel, bytes);
  }
}

inline std::vector<char> torrent_of(const fs::path& store, const manifest::Manifest& m) {
  auto t = read_file(manifest::layout::release_dir(store, m.board, m.version) / manifest::layout::kTorrentFile);
  return {t.begin(), t.end()};
}

// An ironstone-flasher process; killed (SIGKILL) and reaped on destruction if still running.
class FlasherProcess {
 public:
  FlasherProcess(const std::vector<std::string>& args, const fs::path& log_dir, const std::string& name)
      : out_(log_dir / (name + ".out")), err_(log_dir / (name + ".err")) {
    const std::string bin = ironstone::testing::binary("ironstone-flasher").string();
    std::vector<std::string> argv_s{bin};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int rc = posix_spawn(&pid_, bin.c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) throw std::runtime_error("posix_spawn " + bin + ": " + std::to_string(rc));
  }
  ~FlasherProcess() { kill(); }
  FlasherProcess(const FlasherProcess&) = delete;
  FlasherProcess& operator=(const FlasherProcess&) = delete;

  // Exit status, or nullopt when the process did not end within `timeout` (it keeps running).
  std::optional<int> wait(std::chrono::milliseconds timeout) {
    if (status_) return status_;
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      int st = 0;
      pid_t r = ::waitpid(pid_, &st, WNOHANG);
      if (r == pid_) {
        status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return status_;
      }
      if (Clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  bool running() { return !wait(std::chrono::milliseconds(0)).has_value(); }
  void kill() {
    if (status_ || pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int st = 0;
    ::waitpid(pid_, &st, 0);
    status_ = 128 + SIGKILL;
  }
  std::string out() const { return read_text_or_empty(out_); }
  std::string err() const { return read_text_or_empty(err_); }

  // The summary line's figures ("... N of M chunks downloaded, W bytes written, S bytes
  // from the seeder, P from peers ...").
  struct Summary {
    bool found = false, already_current = false, web_seed_used = false;
    std::uint64_t downloaded = 0, total = 0, written = 0, from_seeder = 0, from_peers = 0;
  };
  Summary summary() const {
    Summary s;
    const std::string text = out();
    std::smatch mm;
    static const std::regex re(
        R"(ironstone-flasher: \S+ \(sequence \d+\) (was already on the target|flashed and verified) in \S+ s: (\d+) of (\d+) chunks downloaded, (\d+) bytes written, (\d+) bytes from the seeder, (\d+) from peers( \(web seed used\))?)");
    if (!std::regex_search(text, mm, re)) return s;
    s.found = true;
    s.already_current = mm[1] == "was already on the target";
    s.downloaded = std::stoull(mm[2]);
    s.total = std::stoull(mm[3]);
    s.written = std::stoull(mm[4]);
    s.from_seeder = std::stoull(mm[5]);
    s.from_peers = std::stoull(mm[6]);
    s.web_seed_used = mm[7].matched;
    return s;
  }

 private:
  static std::string read_text_or_empty(const fs::path& p) {
    std::error_code ec;
    return fs::exists(p, ec) ? read_text(p) : std::string();
  }
  fs::path out_, err_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

}  // namespace ironstone::flasher::testing
