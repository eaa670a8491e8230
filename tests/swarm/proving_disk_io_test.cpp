// Tests for the proving disk I/O (swarm/proving_disk_io.h) in a real libtorrent session:
// pieces handed in with add_piece pass or fail exactly as with libtorrent's own hashing,
// only the pieces the v2 tree proves skip the SHA-1, and exactly those are kept.
#include "swarm/proving_disk_io.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <libtorrent/add_torrent_params.hpp>
#include <libtorrent/alert_types.hpp>
#include <libtorrent/session.hpp>
#include <libtorrent/torrent_handle.hpp>
#include <libtorrent/torrent_status.hpp>
#include <thread>

#include "manifest/layout.h"
#include "manifest/torrent.h"
#include "swarm/lan_settings.h"
#include "tests/testutil/sample_release.h"
#include "tests/testutil/testutil.h"

namespace ironstone::swarm {
namespace {

namespace fs = std::filesystem;
using ::ironstone::testing::add_stored_chunks;
using ::ironstone::testing::pseudo_random;
using ::ironstone::testing::TempDir;

[[maybe_unused]] const bool kCryptoReady = (init_crypto(), true);

constexpr std::uint32_t kChunk = 256 * 1024;  // 16 blocks a piece

std::vector<char> slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

struct Outcome {
  bool passed = false;
  bool failed = false;
  std::string torrent_error;
};

// A release of three chunks (the last one short) and a leecher session with nothing on
// disk, hashing through proving_disk_io, in disk mode or in memory mode (the parameter).
// Pieces are given with add_piece.
class ProvingDiskIo : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    m = ::ironstone::testing::sample_release_header();
    m.chunk_size = kChunk;
    m.image_size = 2 * kChunk + 70000;
    add_stored_chunks(store.path(),
                      {pseudo_random(kChunk, 1, true), pseudo_random(kChunk, 2), pseudo_random(70000, 3)},
                      &m);
    torrent = manifest::make_torrent(m, store.path());
    lt::load_torrent_limits limits;
    ti = std::make_shared<const lt::torrent_info>(
        lt::span<const char>(torrent.data(), static_cast<long>(torrent.size())), limits, lt::from_span);
  }

  bool in_memory() const { return GetParam(); }

  // Starts a session whose disk I/O proves `proven_for` (the torrent added, or another
  // one) and adds the release torrent.
  void start(std::shared_ptr<const lt::torrent_info> proven_for) {
    session.reset();
    LanOptions lan;
    lan.listen_interfaces = "127.0.0.1:0";
    lan.alert_mask |= lt::alert_category::piece_progress;
    lt::session_params params(lan_settings(lan));
    params.disk_io_constructor = proving_disk_io(std::move(proven_for), counters, in_memory());
    session = std::make_unique<lt::session>(std::move(params));
    lt::add_torrent_params atp;
    atp.ti = std::make_shared<lt::torrent_info>(*ti);
    atp.save_path = cache.path().string();
    atp.flags &= ~(lt::torrent_flags::auto_managed | lt::torrent_flags::paused);
    handle = session->add_torrent(std::move(atp));
    // add_piece() is ignored while libtorrent checks the files.
    bool checked = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!checked && std::chrono::steady_clock::now() < deadline) {
      session->wait_for_alert(std::chrono::milliseconds(100));
      std::vector<lt::alert*> alerts;
      session->pop_alerts(&alerts);
      for (lt::alert* a : alerts)
        checked = checked || lt::alert_cast<lt::torrent_checked_alert>(a) != nullptr;
    }
    ASSERT_TRUE(checked) << "the torrent was not checked in 20 s";
  }

  // The stored bytes of chunk i, padded to the piece size as add_piece wants them.
  std::vector<char> piece(std::size_t i) {
    auto bytes = slurp(store.path() / manifest::layout::chunk_relpath(m.chunks[i].hash));
    bytes.resize(static_cast<std::size_t>(ti->piece_size(lt::piece_index_t(static_cast<int>(i)))), '\0');
    return bytes;
  }

  // Adds `data` as piece i and waits (at most 10 s) for libtorrent's verdict.
  Outcome add(std::size_t i, const std::vector<char>& data) {
    const lt::piece_index_t p(static_cast<int>(i));
    handle.add_piece(p, data.data());
    Outcome o;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!o.passed && !o.failed && o.torrent_error.empty() && std::chrono::steady_clock::now() < deadline) {
      session->wait_for_alert(std::chrono::milliseconds(100));
      std::vector<lt::alert*> alerts;
      session->pop_alerts(&alerts);
      for (lt::alert* a : alerts) {
        if (auto* pf = lt::alert_cast<lt::piece_finished_alert>(a); pf && pf->piece_index == p)
          o.passed = true;
        if (auto* hf = lt::alert_cast<lt::hash_failed_alert>(a); hf && hf->piece_index == p) o.failed = true;
        if (auto* te = lt::alert_cast<lt::torrent_error_alert>(a)) o.torrent_error = te->error.message();
      }
    }
    return o;
  }

  // add(), with `vouched` (the file's bytes the caller claims to have hashed, padded or not)
  // vouched for while it is added, as the flasher's HTTP handoff does.
  Outcome add_vouched(std::size_t i, const std::vector<char>& data, const std::vector<char>& vouched) {
    const lt::piece_index_t p(static_cast<int>(i));
    const auto n = static_cast<long>(m.chunks[i].stored_size);
    counters->vouch(p, HashedPiece::hash(std::make_shared<const std::vector<std::uint8_t>>(vouched.begin(),
                                                                                           vouched.begin() + n)));
    Outcome o = add(i, data);
    counters->withdraw(p);
    return o;
  }

  // The piece failed its hash, and libtorrent's two verdicts agreed.
  static void expect_failed(const Outcome& o) {
    EXPECT_TRUE(o.failed);
    EXPECT_FALSE(o.passed);
    EXPECT_EQ(o.torrent_error, "") << "v1 and v2 verdicts must agree";
  }

  // Piece i, passed after a failed attempt, holds `right`, kept from its complete copy: every
  // block was written again (the failed verdict waited for the first attempt's writes, so
  // none of them was marked finished after libtorrent restored the piece).
  void expect_holds_after_retry(std::size_t i, const std::vector<char>& right) {
    const std::size_t n = m.chunks[i].stored_size;
    auto kept = counters->take(lt::piece_index_t(static_cast<int>(i)));
    ASSERT_TRUE(kept) << "the retry's copy was not complete";
    ASSERT_EQ(kept->size(), n);
    EXPECT_EQ(std::memcmp(kept->data(), right.data(), n), 0);
    const std::vector<char> read = read_piece(i);
    ASSERT_GE(read.size(), n) << "no read_piece answer in 10 s";
    EXPECT_EQ(std::memcmp(read.data(), right.data(), n), 0);
  }

  // Piece i as libtorrent reads it back (read_piece), empty when no answer came in 10 s.
  std::vector<char> read_piece(std::size_t i) {
    const lt::piece_index_t p(static_cast<int>(i));
    handle.read_piece(p);
    std::vector<char> read;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (read.empty() && std::chrono::steady_clock::now() < deadline) {
      session->wait_for_alert(std::chrono::milliseconds(100));
      std::vector<lt::alert*> alerts;
      session->pop_alerts(&alerts);
      for (lt::alert* a : alerts)
        if (auto* rp = lt::alert_cast<lt::read_piece_alert>(a); rp && rp->piece == p && !rp->error)
          read.assign(rp->buffer.get(), rp->buffer.get() + rp->size);
    }
    return read;
  }

  TempDir store, cache;
  manifest::Manifest m;
  std::vector<char> torrent;
  std::shared_ptr<const lt::torrent_info> ti;
  std::shared_ptr<ProvenPieces> counters = std::make_shared<ProvenPieces>();
  std::unique_ptr<lt::session> session;
  lt::torrent_handle handle;
};

TEST(ProvenPieces, HoldsNoMoreThanItsBudgetAndATakenPieceFreesItsShare) {
  ProvenPieces held(100);
  auto bytes = [](std::size_t n) { return std::make_shared<const std::vector<std::uint8_t>>(n, 7); };
  EXPECT_TRUE(held.put(lt::piece_index_t(0), bytes(60)));
  EXPECT_FALSE(held.put(lt::piece_index_t(1), bytes(60))) << "60 + 60 > 100";
  EXPECT_EQ(held.over_budget, 1u);
  EXPECT_EQ(held.held_bytes(), 60u);
  EXPECT_FALSE(held.take(lt::piece_index_t(1))) << "what was refused is not held";
  EXPECT_TRUE(held.put(lt::piece_index_t(0), bytes(90))) << "replacing a piece counts its new size only";
  EXPECT_EQ(held.held_bytes(), 90u);
  ASSERT_TRUE(held.take(lt::piece_index_t(0)));
  EXPECT_EQ(held.held_bytes(), 0u);
  EXPECT_TRUE(held.put(lt::piece_index_t(1), bytes(60)));
  EXPECT_TRUE(held.put(lt::piece_index_t(2), bytes(60), /*always=*/true)) << "memory mode: the only copy";
  EXPECT_EQ(held.held_bytes(), 120u);
  EXPECT_EQ(held.held(), 2u);
}

TEST(ProvenPieces, AVouchIsClaimedOnceAndAWithdrawnOneIsGone) {
  ProvenPieces held;
  auto bytes = std::make_shared<const std::vector<std::uint8_t>>(40000, 9);
  held.vouch(lt::piece_index_t(3), HashedPiece::hash(bytes));
  held.vouch(lt::piece_index_t(4), HashedPiece::hash(bytes));
  EXPECT_FALSE(held.claim(lt::piece_index_t(2)));
  auto got = held.claim(lt::piece_index_t(3));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->bytes().get(), bytes.get()) << "the bytes are shared, not copied";
  EXPECT_EQ(got->blocks(), manifest::block_hashes(*bytes));
  EXPECT_EQ(got->root(), manifest::merkle_root(manifest::block_hashes(*bytes)));
  EXPECT_FALSE(held.claim(lt::piece_index_t(3))) << "claimed once";
  held.withdraw(lt::piece_index_t(4));
  EXPECT_FALSE(held.claim(lt::piece_index_t(4)));
}

TEST_P(ProvingDiskIo, PiecesOverTheBudgetAreNotKeptOnDiskButStayReadableAndMemoryModeKeepsThemAll) {
  counters = std::make_shared<ProvenPieces>(m.chunks[0].stored_size);  // room for the first chunk only
  start(ti);
  for (std::size_t i = 0; i < m.chunks.size(); ++i) EXPECT_TRUE(add(i, piece(i)).passed) << "chunk " << i;
  EXPECT_EQ(counters->proven, m.chunks.size()) << "the budget changes what is kept, not what is proven";
  EXPECT_LE(counters->held_bytes(), in_memory() ? SIZE_MAX : m.chunks[0].stored_size);
  EXPECT_EQ(counters->kept, in_memory() ? m.chunks.size() : 1u);
  EXPECT_EQ(counters->over_budget, in_memory() ? 0u : m.chunks.size() - 1);
  // Disk mode: a piece not kept is read back through libtorrent, and reads the signed bytes.
  const std::vector<char> read = read_piece(m.chunks.size() - 1);
  auto want = piece(m.chunks.size() - 1);
  ASSERT_GE(read.size(), m.chunks.back().stored_size) << "no read_piece answer in 10 s";
  EXPECT_EQ(std::memcmp(read.data(), want.data(), m.chunks.back().stored_size), 0);
}

TEST_P(ProvingDiskIo, RightPiecesPassWithoutSha1AndAreKeptExactly) {
  start(ti);
  for (std::size_t i = 0; i < m.chunks.size(); ++i) {
    Outcome o = add(i, piece(i));
    EXPECT_TRUE(o.passed) << "chunk " << i << " " << o.torrent_error;
    auto kept = counters->take(lt::piece_index_t(static_cast<int>(i)));
    ASSERT_TRUE(kept) << "chunk " << i;
    auto stored = piece(i);
    stored.resize(m.chunks[i].stored_size);
    ASSERT_EQ(kept->size(), stored.size()) << "chunk " << i;
    EXPECT_EQ(std::memcmp(kept->data(), stored.data(), stored.size()), 0) << "chunk " << i;
    EXPECT_FALSE(counters->take(lt::piece_index_t(static_cast<int>(i)))) << "taken once";
  }
  EXPECT_EQ(counters->proven, m.chunks.size());
  EXPECT_EQ(counters->kept, m.chunks.size());
  EXPECT_EQ(counters->not_proven, 0u);
  EXPECT_TRUE(handle.status().is_seeding);
}

TEST_P(ProvingDiskIo, CorruptPieceFailsItsHashIsNotKeptAndTheRightOneThenPasses) {
  start(ti);
  auto bad = piece(1);
  bad[12345] ^= 0x01;
  Outcome o = add(1, bad);
  expect_failed(o);
  EXPECT_EQ(counters->proven, 0u);
  EXPECT_EQ(counters->not_proven, 1u);
  EXPECT_FALSE(counters->take(lt::piece_index_t(1)));

  const auto right = piece(1);
  o = add(1, right);
  EXPECT_TRUE(o.passed) << o.torrent_error;
  EXPECT_EQ(counters->proven, 1u);
  EXPECT_FALSE(handle.status().errc);
  expect_holds_after_retry(1, right);
}

TEST_P(ProvingDiskIo, AVouchedPieceIsProvenByItsBlockHashesAndKeptWithoutACopy) {
  start(ti);
  for (std::size_t i = 0; i < m.chunks.size(); ++i) {
    const auto data = piece(i);
    const Outcome o = add_vouched(i, data, data);
    EXPECT_TRUE(o.passed) << "chunk " << i << " " << o.torrent_error;
    auto kept = counters->take(lt::piece_index_t(static_cast<int>(i)));
    ASSERT_TRUE(kept) << "chunk " << i;
    ASSERT_EQ(kept->size(), m.chunks[i].stored_size);
    EXPECT_EQ(std::memcmp(kept->data(), data.data(), kept->size()), 0) << "chunk " << i;
  }
  EXPECT_EQ(counters->vouched, m.chunks.size()) << "proven by the vouched block hashes";
  EXPECT_EQ(counters->proven, m.chunks.size());
  EXPECT_EQ(counters->not_proven, 0u);
  EXPECT_EQ(counters->copied_in, 0u) << "blocks compared with the vouched bytes, not copied";
  EXPECT_TRUE(handle.status().is_seeding);
  // Seeded from the vouched bytes: what libtorrent reads back is the signed bytes.
  const std::vector<char> read = read_piece(1);
  ASSERT_GE(read.size(), m.chunks[1].stored_size) << "no read_piece answer in 10 s";
  EXPECT_EQ(std::memcmp(read.data(), piece(1).data(), m.chunks[1].stored_size), 0);
}

TEST_P(ProvingDiskIo, VouchedBytesThatAreNotTheTorrentsFailThePiece) {
  start(ti);
  auto bad = piece(1);
  bad[20000] ^= 0x01;
  expect_failed(add_vouched(1, bad, bad));
  EXPECT_EQ(counters->vouched, 0u);
  EXPECT_EQ(counters->proven, 0u);
  EXPECT_FALSE(counters->take(lt::piece_index_t(1)));
}

TEST_P(ProvingDiskIo, BlocksThatAreNotTheVouchedBytesEndTheVouchAndThePieceIsHashedForReal) {
  start(ti);
  const auto right = piece(1);
  auto bad = right;
  bad[40000] ^= 0x80;  // the third block
  // Right bytes vouched, wrong ones written: the vouch ends at the third block, the piece fails.
  expect_failed(add_vouched(1, bad, right));
  // Wrong bytes vouched, right ones written: copied and hashed, the piece passes.
  const Outcome o = add_vouched(1, right, bad);
  EXPECT_TRUE(o.passed) << o.torrent_error;
  EXPECT_EQ(counters->vouched, 0u);
  EXPECT_EQ(counters->proven, 1u);
  expect_holds_after_retry(1, right);
}

// Pieces already in the cache from an earlier session have no copy in memory: the inner
// disk I/O hashes them, their v2 tree proves them, nothing is kept.
TEST_P(ProvingDiskIo, PiecesFromAnEarlierRunAreProvenFromDiskAndNotKept) {
  if (in_memory()) GTEST_SKIP() << "memory mode keeps nothing from an earlier run";
  start(ti);
  for (std::size_t i = 0; i < m.chunks.size(); ++i) ASSERT_TRUE(add(i, piece(i)).passed) << "chunk " << i;
  for (std::size_t i = 0; i < m.chunks.size(); ++i) counters->take(lt::piece_index_t(static_cast<int>(i)));
  session.reset();  // flushes and closes the cache files

  counters = std::make_shared<ProvenPieces>();
  start(ti);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!handle.status().is_seeding && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(handle.status().is_seeding);
  EXPECT_EQ(counters->proven, m.chunks.size());
  EXPECT_EQ(counters->kept, 0u);
  EXPECT_EQ(counters->not_proven, 0u);
  EXPECT_EQ(counters->held(), 0u);
}

TEST_P(ProvingDiskIo, AnotherTorrentsPiecesAreHashedWithSha1) {
  manifest::Manifest other = ::ironstone::testing::sample_release_header();
  other.chunk_size = kChunk;
  other.image_size = kChunk;
  TempDir other_store;
  add_stored_chunks(other_store.path(), {pseudo_random(kChunk, 9, true)}, &other);
  auto other_torrent = manifest::make_torrent(other, other_store.path());
  lt::load_torrent_limits limits;
  auto other_ti = std::make_shared<const lt::torrent_info>(
      lt::span<const char>(other_torrent.data(), static_cast<long>(other_torrent.size())), limits,
      lt::from_span);
  start(other_ti);
  Outcome o = add(0, piece(0));
  EXPECT_TRUE(o.passed) << o.torrent_error;
  EXPECT_EQ(counters->proven, 0u);
  EXPECT_EQ(counters->not_proven, 0u);
  EXPECT_EQ(counters->held(), 0u);
}

// Memory mode: no cache file is made, and a second, ordinary libtorrent session downloads
// the whole release from this one over loopback (reads served from memory, pad zeros
// included in the piece hash it checks).
TEST_P(ProvingDiskIo, AProvenReleaseIsSeededToAnotherSession) {
  start(ti);
  for (std::size_t i = 0; i < m.chunks.size(); ++i) ASSERT_TRUE(add(i, piece(i)).passed) << "chunk " << i;
  if (in_memory()) {
    EXPECT_TRUE(fs::is_empty(cache.path())) << "memory mode wrote cache files";
  }
  EXPECT_TRUE(counters->in_memory == in_memory());

  TempDir other;
  LanOptions lan;
  lan.listen_interfaces = "127.0.0.1:0";
  lt::session leecher(lt::session_params(lan_settings(lan)));
  lt::add_torrent_params atp;
  atp.ti = std::make_shared<lt::torrent_info>(*ti);
  atp.save_path = other.path().string();
  atp.flags &= ~(lt::torrent_flags::auto_managed | lt::torrent_flags::paused);
  atp.peers.emplace_back(lt::make_address("127.0.0.1"), session->listen_port());
  lt::torrent_handle h = leecher.add_torrent(std::move(atp));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!h.status().is_seeding && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(h.status().is_seeding) << "downloaded " << h.status().total_wanted_done << " bytes";
  for (const auto& c : m.chunks) {
    const auto rel = manifest::layout::chunk_relpath(c.hash);
    EXPECT_EQ(slurp(other.path() / rel), slurp(store.path() / rel)) << rel;
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, ProvingDiskIo, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "InMemory" : "OnDisk";
                         });

}  // namespace
}  // namespace ironstone::swarm
