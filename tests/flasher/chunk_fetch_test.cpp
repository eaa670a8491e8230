// ChunkFetcher against a real seeder's HTTP chunk store on loopback.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>

#include "flasher/chunk_fetch.h"
#include "manifest/layout.h"
#include "tests/flasher/flash_rig.h"

namespace ironstone::flasher {
namespace {

using namespace ironstone::flasher::testing;

class ChunkFetch : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::off);
    pub_ = rig.publish(make_image(6, 21), "1.0");
    rig.start_seeder(/*bittorrent=*/false);
    for (const auto& c : m().chunks) {
      urls.push_back(rig.seeder_url() + "/" + manifest::layout::chunk_relpath(c.hash));
      sizes.push_back(c.stored_size);
    }
  }
  void TearDown() override { spdlog::set_level(spdlog::level::info); }
  const manifest::Manifest& m() const { return pub_.manifest; }
  std::string stored(std::size_t i) const {
    const auto bytes = read_file(rig.store() / manifest::layout::chunk_relpath(m().chunks[i].hash));
    return std::string(bytes.begin(), bytes.end());
  }
  // Everything that arrives until the fetcher is idle (or 10 s).
  static std::vector<FetchedChunk> drain(ChunkFetcher& f) {
    std::vector<FetchedChunk> got;
    wait_until([&] {
      for (auto& c : f.take()) got.push_back(std::move(c));
      return f.idle();
    }, std::chrono::seconds(10));
    for (auto& c : f.take()) got.push_back(std::move(c));
    std::sort(got.begin(), got.end(), [](const auto& a, const auto& b) { return a.chunk < b.chunk; });
    return got;
  }

  Rig rig;
  builder::PublishResult pub_;
  std::vector<std::string> urls;
  std::vector<std::uint64_t> sizes;
};

TEST_F(ChunkFetch, FetchesExactlyTheWantedChunksOnce) {
  ASSERT_GE(m().chunks.size(), 3u);
  ChunkFetcher f(urls, sizes, 2);
  f.want(0);
  f.want(2);
  f.want(2);  // queued already: once
  const auto got = drain(f);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].chunk, 0u);
  EXPECT_EQ(got[0].stored, stored(0));
  EXPECT_EQ(got[1].chunk, 2u);
  EXPECT_EQ(got[1].stored, stored(2));
  EXPECT_EQ(f.bytes(), sizes[0] + sizes[2]);
  EXPECT_EQ(f.failures(), 0u);
  f.want(0);  // fetched already: not again
  EXPECT_TRUE(drain(f).empty());
}

TEST_F(ChunkFetch, ABodyOfAnotherSizeThanSignedIsRefusedAndFinallyGivenUp) {
  auto lying = sizes;
  lying[1] -= 1;  // the store's file is one byte longer than this "manifest" says
  ChunkFetcher f(urls, lying, 1);
  f.want(1);
  EXPECT_TRUE(drain(f).empty());
  EXPECT_EQ(f.failures(), static_cast<std::size_t>(ChunkFetcher::kMaxAttempts));
  EXPECT_EQ(f.bytes(), 0u);
  f.want(1);  // given up: left to the swarm
  EXPECT_TRUE(f.idle());
}

TEST_F(ChunkFetch, AMissingChunkIsRetriedThenLeftToTheSwarm) {
  auto wrong = urls;
  wrong[0] = rig.seeder_url() + "/chunks/00/" + std::string(64, '0') + ".zst";
  ChunkFetcher f(wrong, sizes, 1);
  f.want(0);
  f.want(1);
  const auto got = drain(f);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].chunk, 1u);
  EXPECT_EQ(f.failures(), static_cast<std::size_t>(ChunkFetcher::kMaxAttempts));
}

// Several seeders: each attempt goes to the next store, so one that fails costs one attempt.
TEST_F(ChunkFetch, AFailedAttemptGoesToTheNextSource) {
  const std::vector<std::string> missing(urls.size(), rig.seeder_url() + "/chunks/00/" + std::string(64, '0') + ".zst");
  ChunkFetcher f({missing, urls}, sizes, 1, {});
  f.want(0);
  const auto got = drain(f);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].stored, stored(0));
  EXPECT_EQ(f.failures(), 1u);
}

// Bytes of the signed size that the verify function refuses (a lying store) are never
// handed out; after kMaxAttempts the chunk is given up, and only for a pause.
TEST_F(ChunkFetch, BytesTheVerifierRefusesAreNeverHandedOutAndTheChunkIsPausedNotDropped) {
  std::atomic<int> asked{0};
  ChunkFetcher f({urls}, sizes, 1, [&](FetchedChunk&) {
    ++asked;
    return std::string("not the signed chunk");
  });
  f.want(1);
  EXPECT_TRUE(drain(f).empty());
  EXPECT_EQ(asked.load(), ChunkFetcher::kMaxAttempts);
  EXPECT_TRUE(f.given_up(1));
  f.want(1);  // within the pause: still given up
  EXPECT_TRUE(f.idle());
  EXPECT_TRUE(f.given_up(1));
}

TEST_F(ChunkFetch, GivenUpChunksListsExactlyTheChunksGivenUp) {
  ChunkFetcher f({urls}, sizes, 1, [](FetchedChunk& c) {
    return c.chunk == 1 ? std::string("not the signed chunk") : std::string();
  });
  EXPECT_TRUE(f.given_up_chunks().empty());
  f.want(0);
  f.want(1);
  const auto got = drain(f);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].chunk, 0u);
  EXPECT_EQ(f.given_up_chunks(), std::vector<std::size_t>{1});
}

TEST_F(ChunkFetch, ACancelledChunkIsNotFetchedAndCanBeWantedAgain) {
  ChunkFetcher f(urls, sizes, 1);
  for (std::size_t i = 0; i < urls.size(); ++i) f.want(i);
  const std::size_t last = urls.size() - 1;
  f.cancel(last);  // still queued behind the others on the one connection
  auto got = drain(f);
  for (const auto& c : got) EXPECT_NE(c.chunk, last);
  EXPECT_EQ(got.size(), urls.size() - 1);
  f.want(last);
  got = drain(f);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].chunk, last);
}

TEST_F(ChunkFetch, AChunkThatFailedThePieceHashIsFetchedAgain) {
  ChunkFetcher f(urls, sizes, 1);
  f.want(0);
  ASSERT_EQ(drain(f).size(), 1u);
  f.retry(0);
  const auto got = drain(f);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].stored, stored(0));
  EXPECT_EQ(f.bytes(), 2 * sizes[0]);
}

TEST_F(ChunkFetch, APacedFetcherKeepsToItsRate) {
  std::uint64_t total = 0;
  for (auto n : sizes) total += n;
  // The last request may start only when the others would have taken ~1 s at this rate.
  const std::uint64_t before_last = total - sizes.back();
  const double rate = static_cast<double>(before_last) / 1.0;
  ChunkFetcher f(urls, sizes, 1);
  f.set_rate(rate);
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < urls.size(); ++i) f.want(i);
  const auto got = drain(f);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(got.size(), urls.size());
  EXPECT_GE(took, std::chrono::milliseconds(950));
  EXPECT_LT(took, std::chrono::seconds(8));
}

}  // namespace
}  // namespace ironstone::flasher
