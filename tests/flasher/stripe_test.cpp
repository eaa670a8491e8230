// Stripes: a node's place among the nodes flashing the same release, from the fleet view.
#include <gtest/gtest.h>

#include "flasher/stripe.h"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace ironstone::flasher {
namespace {

const char* kFleet = R"({"nodes":[
  {"node_id":"n3","board":"rpi5","release":"1.0","state":"working"},
  {"node_id":"n1","board":"rpi5","release":"1.0","state":"working"},
  {"node_id":"n2","board":"rpi5","release":"1.0","state":"done"},
  {"node_id":"n4","board":"rpi5","release":"2.0","state":"working"},
  {"node_id":"n5","board":"rock5b","release":"1.0","state":"working"},
  {"node_id":"n6","board":"rpi5","release":"1.0","state":"working"}]})";

TEST(Stripe, PlaceAmongWorkingNodesOfTheSameReleaseSortedById) {
  EXPECT_EQ(stripe_from_fleet(kFleet, "rpi5/1.0", "n1"), (Stripe{0, 3}));
  EXPECT_EQ(stripe_from_fleet(kFleet, "rpi5/1.0", "n3"), (Stripe{1, 3}));
  EXPECT_EQ(stripe_from_fleet(kFleet, "rpi5/1.0", "n6"), (Stripe{2, 3}));
}

TEST(Stripe, NodeNotYetInTheViewCountsItself) {
  EXPECT_EQ(stripe_from_fleet(kFleet, "rpi5/1.0", "n0"), (Stripe{0, 4}));
  EXPECT_EQ(stripe_from_fleet(R"({"nodes":[]})", "rpi5/1.0", "n0"), (Stripe{0, 1}));
}

TEST(Stripe, AnythingButAFleetViewGivesNoStripe) {
  EXPECT_EQ(stripe_from_fleet("", "rpi5/1.0", "n1"), std::nullopt);
  EXPECT_EQ(stripe_from_fleet("{\"nodes\":", "rpi5/1.0", "n1"), std::nullopt);
  EXPECT_EQ(stripe_from_fleet("[1,2]", "rpi5/1.0", "n1"), std::nullopt);
  EXPECT_EQ(stripe_from_fleet(R"({"nodes":{"a":1}})", "rpi5/1.0", "n1"), std::nullopt);
  // The view is read strictly (api/fleet.h): one malformed entry and it is not a fleet view.
  EXPECT_EQ(stripe_from_fleet(R"({"nodes":[7,{"node_id":"n2","state":"working"}]})", "rpi5/1.0", "n1"),
            std::nullopt);
  EXPECT_EQ(stripe_from_fleet(R"({"nodes":[{"node_id":3,"state":"working"}]})", "rpi5/1.0", "n1"), std::nullopt);
}

TEST(Stripe, OwnStripeGetsTheTopPriority) {
  EXPECT_EQ(stripe_priority(true, 3, false, false), 7);
  EXPECT_EQ(stripe_priority(true, 3, true, true), 7);
}

TEST(Stripe, OtherStripesAreNotAskedForUntilAPeerHoldsThem) {
  EXPECT_EQ(stripe_priority(false, 3, false, false), 0);  // only the seeder has it: not from the NAS
  EXPECT_EQ(stripe_priority(false, 3, true, false), 4);   // a node holds it: from that node
  EXPECT_EQ(stripe_priority(false, 3, true, true), 4);
}

TEST(Stripe, FallbackAsksForTheRestFromAnyoneAtTheLowestPriority) {
  EXPECT_EQ(stripe_priority(false, 3, false, true), 1);
}

TEST(Stripe, ALoneNodeUsesLibtorrentsOwnOrder) {
  for (bool own : {false, true}) {
    EXPECT_EQ(stripe_priority(own, 1, false, false), 4);
    EXPECT_EQ(stripe_priority(own, 0, false, false), 4);
  }
}

TEST(ChunkSource, AChunkAnotherNodeHoldsComesFromThatNodeEvenInTheOwnStripe) {
  EXPECT_EQ(chunk_source(true, true, false), ChunkSource::kPeers);
  EXPECT_EQ(chunk_source(false, true, false), ChunkSource::kPeers);
  EXPECT_EQ(chunk_source(false, true, true), ChunkSource::kPeers);
}

TEST(ChunkSource, TheOwnStripeOrTheFallbackComesFromTheSeeder) {
  EXPECT_EQ(chunk_source(true, false, false), ChunkSource::kSeederHttp);
  EXPECT_EQ(chunk_source(false, false, true), ChunkSource::kSeederHttp);
}

TEST(ChunkSource, AnotherStripeNobodyHoldsYetIsWaitedFor) {
  EXPECT_EQ(chunk_source(false, false, false), ChunkSource::kWait);
}

TEST(StripeTable, DealsTheBiggestChunksFirstToTheLightestStripe) {
  const std::vector<std::uint64_t> sizes = {10, 40, 30, 20, 5, 5};
  // 40 -> s0, 30 -> s1, 20 -> s1 (30 < 40), 10 -> s0 (40 < 50), 5 -> s0 (a tie: the lower), 5 -> s1.
  const auto t = stripe_table(sizes, 2);
  ASSERT_EQ(t.size(), sizes.size());
  EXPECT_EQ(t[1], 0u);
  EXPECT_EQ(t[2], 1u);
  EXPECT_EQ(t[3], 1u);
  EXPECT_EQ(t[0], 0u);
  EXPECT_EQ(t[4], 0u);
  EXPECT_EQ(t[5], 1u);
  std::uint64_t load[2] = {0, 0};
  for (std::size_t i = 0; i < sizes.size(); ++i) load[t[i]] += sizes[i];
  EXPECT_EQ(load[0], 55u);
  EXPECT_EQ(load[1], 55u);
}

TEST(StripeTable, StripesOfUnevenChunksCarryAboutEqualBytes) {
  // 155 chunks of 20 KiB .. 4 MiB (like the benchmark's release), 8 nodes.
  std::vector<std::uint64_t> sizes;
  std::uint64_t x = 12345, total = 0;
  for (int i = 0; i < 155; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    sizes.push_back(20 * 1024 + (x >> 33) % (4 * 1024 * 1024));
    total += sizes.back();
  }
  const auto t = stripe_table(sizes, 8);
  std::vector<std::uint64_t> load(8, 0);
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    ASSERT_LT(t[i], 8u);
    load[t[i]] += sizes[i];
  }
  const auto [lo, hi] = std::minmax_element(load.begin(), load.end());
  EXPECT_LT(*hi - *lo, 4u * 1024 * 1024) << "a stripe is off by more than one chunk";
  EXPECT_LE(*hi, total / 8 + 4 * 1024 * 1024);
}

TEST(StripeTable, OneNodeOrNoCountIsOneStripe) {
  const std::vector<std::uint64_t> sizes = {3, 1, 2};
  for (std::size_t count : {0u, 1u}) {
    const auto t = stripe_table(sizes, count);
    EXPECT_EQ(t, (std::vector<std::uint32_t>{0, 0, 0}));
  }
  EXPECT_TRUE(stripe_table({}, 4).empty());
}

TEST(FetchOrder, SmallestChunksAtBothEndsLargestInTheMiddle) {
  //                                   0   1   2   3   4   5   6
  const std::vector<std::uint64_t> sizes = {50, 10, 70, 30, 20, 60, 40};
  // By size: 1(10) 4(20) 3(30) 6(40) 0(50) 5(60) 2(70); ranks 0,2,4,6 ascending, then 5,3,1 descending.
  EXPECT_EQ(fetch_order(sizes), (std::vector<std::size_t>{1, 3, 0, 2, 5, 6, 4}));
  const std::vector<std::uint64_t> even = {4, 3, 2, 1};
  EXPECT_EQ(fetch_order(even), (std::vector<std::size_t>{3, 1, 0, 2}));
}

TEST(FetchOrder, EqualSizesKeepIndexOrderAndEveryChunkComesOnce) {
  EXPECT_EQ(fetch_order(std::vector<std::uint64_t>(5, 7)), (std::vector<std::size_t>{0, 2, 4, 3, 1}));
  EXPECT_EQ(fetch_order(std::vector<std::uint64_t>{9}), (std::vector<std::size_t>{0}));
  EXPECT_TRUE(fetch_order({}).empty());
  std::vector<std::uint64_t> sizes;
  std::uint64_t x = 777;
  for (int i = 0; i < 1000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    sizes.push_back((x >> 33) % 5000);
  }
  auto order = fetch_order(sizes);
  std::sort(order.begin(), order.end());
  for (std::size_t i = 0; i < order.size(); ++i) ASSERT_EQ(order[i], i);
}

TEST(FetchOrder, AStripesOwnChunksAlsoStartAndEndWithItsSmallest) {
  std::vector<std::uint64_t> sizes;
  std::uint64_t x = 4242;
  for (int i = 0; i < 400; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    sizes.push_back(1000 + (x >> 33) % (4 * 1024 * 1024));
  }
  const auto table = stripe_table(sizes, 8);
  for (std::uint32_t s = 0; s < 8; ++s) {
    std::vector<std::uint64_t> mine;  // the stripe's sizes in fetch order
    for (std::size_t c : fetch_order(sizes))
      if (table[c] == s) mine.push_back(sizes[c]);
    ASSERT_GE(mine.size(), 4u);
    const auto peak = std::max_element(mine.begin(), mine.end()) - mine.begin();
    EXPECT_TRUE(std::is_sorted(mine.begin(), mine.begin() + peak + 1)) << "stripe " << s;
    EXPECT_TRUE(std::is_sorted(mine.rbegin(), mine.rend() - peak)) << "stripe " << s;
  }
}

}  // namespace
}  // namespace ironstone::flasher
