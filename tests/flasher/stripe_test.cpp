// Stripes: a node's place among the nodes flashing the same release, from the fleet view.
#include <gtest/gtest.h>

#include "flasher/stripe.h"

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
  // Malformed entries are skipped, not fatal.
  EXPECT_EQ(stripe_from_fleet(R"({"nodes":[7,{"node_id":3,"state":"working"}]})", "rpi5/1.0", "n1"),
            (Stripe{0, 1}));
}

TEST(Stripe, OwnStripeGetsTheTopPriority) {
  const Stripe s{1, 3};
  EXPECT_EQ(stripe_priority(s, 1, false, false), 7);
  EXPECT_EQ(stripe_priority(s, 4, false, false), 7);
  EXPECT_EQ(stripe_priority(s, 4, true, true), 7);
}

TEST(Stripe, OtherStripesAreNotAskedForUntilAPeerHoldsThem) {
  const Stripe s{1, 3};
  EXPECT_EQ(stripe_priority(s, 0, false, false), 0);  // only the seeder has it: not from the NAS
  EXPECT_EQ(stripe_priority(s, 2, false, false), 0);
  EXPECT_EQ(stripe_priority(s, 0, true, false), 4);   // a node holds it: from that node
  EXPECT_EQ(stripe_priority(s, 2, true, true), 4);
}

TEST(Stripe, FallbackAsksForTheRestFromAnyoneAtTheLowestPriority) {
  const Stripe s{1, 3};
  EXPECT_EQ(stripe_priority(s, 0, false, true), 1);
  EXPECT_EQ(stripe_priority(s, 5, false, true), 1);
}

TEST(Stripe, ALoneNodeUsesLibtorrentsOwnOrder) {
  for (std::size_t chunk = 0; chunk < 4; ++chunk) {
    EXPECT_EQ(stripe_priority(Stripe{0, 1}, chunk, false, false), 4);
    EXPECT_EQ(stripe_priority(Stripe{0, 0}, chunk, false, false), 4);
  }
}

}  // namespace
}  // namespace ironstone::flasher
