// Trust rule 1 end to end: a real seeder serves a store whose files were tampered
// with (or a release the node must not take); run_flash refuses before anything is
// written: the target is neither created nor changed, the state file is not
// written, and the seeder's fleet view shows the node failed with the reason.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include "flasher/errc.h"
#include "flasher/state.h"
#include "tests/flasher/flash_rig.h"
#include "tests/testutil/expect_error.h"

namespace ironstone::flasher {
namespace {

using namespace ironstone::flasher::testing;
using ::testing::HasSubstr;
namespace layout = manifest::layout;

class TrustRefusal : public ::testing::Test {
 protected:
  void SetUp() override { spdlog::set_level(spdlog::level::off); }
  void TearDown() override { spdlog::set_level(spdlog::level::info); }

  fs::path release_file(const std::string& version, const std::string& name, const std::string& board = "rpi5") {
    return layout::release_dir(rig.store(), board, version) / name;
  }

  // run_flash must throw kPolicy with `reason` in its message, before touching the target.
  // With `existing_target`, the target holds garbage beforehand and must keep it (bytes
  // and mtime); otherwise it must not be created.
  void expect_refused(FlashOptions o, const std::string& reason, bool existing_target = true) {
    std::vector<std::uint8_t> before;
    struct stat st_before {};
    if (existing_target) {
      fill_garbage(o.target, 3 * kChunk, 31);
      before = read_file(o.target);
      ASSERT_EQ(::stat(o.target.c_str(), &st_before), 0);
    }
    const bool had_state = fs::exists(o.state_file);
    const std::string state_before = had_state ? read_text(o.state_file) : "";
    try {
      run_flash(o);
      ADD_FAILURE() << "the release was accepted; expected a refusal: " << reason;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), make_error_code(Errc::kPolicy)) << e.what();
      EXPECT_THAT(std::string(e.what()), HasSubstr(reason));
    }
    if (existing_target) {
      EXPECT_EQ(read_file(o.target), before) << "the target was changed";
      struct stat st {};
      ASSERT_EQ(::stat(o.target.c_str(), &st), 0);
      EXPECT_EQ(st.st_mtim.tv_sec, st_before.st_mtim.tv_sec);
      EXPECT_EQ(st.st_mtim.tv_nsec, st_before.st_mtim.tv_nsec) << "the target was written to";
    } else {
      EXPECT_FALSE(fs::exists(o.target)) << "the target was created";
    }
    EXPECT_EQ(fs::exists(o.state_file), had_state);
    if (had_state) {
      EXPECT_EQ(read_text(o.state_file), state_before);
    }
    EXPECT_FALSE(fs::exists(o.cache_dir)) << "the swarm was joined";
    auto view = rig.seeder().fleet().view();
    bool reported = false;
    for (const auto& n : view["nodes"])
      if (n.value("node_id", std::string()) == o.node_id) {
        EXPECT_EQ(n.value("state", std::string()), "failed");
        EXPECT_THAT(n.value("error", std::string()), HasSubstr(reason));
        reported = true;
      }
    EXPECT_TRUE(reported) << "the seeder never heard of the failure: " << view.dump();
  }

  // Replaces one base64 character of line `line` (0-based) of a minisign file.
  static void corrupt_minisig_line(const fs::path& sig, int line) {
    std::string text = read_text(sig);
    std::size_t pos = 0;
    for (int i = 0; i < line; ++i) pos = text.find('\n', pos) + 1;
    char& c = text[pos + 30];
    c = c == 'A' ? 'B' : 'A';
    write_text(sig, text);
  }

  Rig rig;
  const std::vector<std::uint8_t> image = make_image(6, 21);
};

TEST_F(TrustRefusal, TamperedManifestIsRefused) {
  rig.publish(image, "1.0");
  rig.start_seeder(false);
  const fs::path m = release_file("1.0", layout::kManifestFile);
  std::string text = read_text(m);
  const auto at = text.find("0123456789abcdef");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 16, "fedcba9876543210");  // same length, still valid JSON
  write_text(m, text);
  expect_refused(rig.flash_options("n1"), "is not the hash the channel pointer signs");
  expect_refused(rig.flash_options("n2"), "is not the hash the channel pointer signs", /*existing_target=*/false);
}

TEST_F(TrustRefusal, BadManifestSignatureIsRefused) {
  rig.publish(image, "1.0");
  rig.start_seeder(false);
  corrupt_minisig_line(release_file("1.0", std::string(layout::kManifestFile) + layout::kSignatureSuffix), 1);
  expect_refused(rig.flash_options("n1"), "manifest.json");
}

TEST_F(TrustRefusal, BadChannelSignatureIsRefused) {
  rig.publish(image, "1.0");
  rig.start_seeder(false);
  const fs::path chan = layout::channel_file(rig.store(), "rpi5", "stable");
  corrupt_minisig_line(fs::path(chan.string() + layout::kSignatureSuffix), 3);  // the global signature
  expect_refused(rig.flash_options("n1"), "stable.json");
}

TEST_F(TrustRefusal, ReleaseSignedByAnUnknownKeyIsRefused) {
  rig.publish(image, "1.0");
  rig.start_seeder(false);
  const fs::path other = rig.dir() / "other.pub";
  write_text(other, manifest::serialize_public_key(test_key(0x11).public_key()));
  FlashOptions o = rig.flash_options("n1");
  o.public_keys = {other};
  expect_refused(o, "signed by unknown key");
}

TEST_F(TrustRefusal, ExpiredReleaseIsRefused) {
  auto po = rig.publish_options("1.0");
  po.now = unix_now() - 200 * 86400;
  po.expires = unix_now() - 86400;
  rig.publish(image, po);
  rig.start_seeder(false);
  expect_refused(rig.flash_options("n1"), "expired at");
}

TEST_F(TrustRefusal, ReleaseForAnotherBoardIsRefused) {
  // A valid, signed rock5b release, served where the rpi5 release would be.
  rig.publish(image, rig.publish_options("1.0", "rock5b"));
  const fs::path from = layout::channel_file(rig.store(), "rock5b", "stable");
  const fs::path to = layout::channel_file(rig.store(), "rpi5", "stable");
  fs::create_directories(to.parent_path());
  fs::copy_file(from, to);
  fs::copy_file(from.string() + layout::kSignatureSuffix, to.string() + layout::kSignatureSuffix);
  fs::create_directories(rig.store() / "releases/rpi5");
  fs::copy(layout::release_dir(rig.store(), "rock5b", "1.0"), layout::release_dir(rig.store(), "rpi5", "1.0"),
           fs::copy_options::recursive);
  rig.start_seeder(false);
  expect_refused(rig.flash_options("n1"), "release is for board 'rock5b', this node is 'rpi5'");
}

TEST_F(TrustRefusal, LowerSequenceThanSeenIsRefusedUnlessTheOperatorAllowsIt) {
  auto po = rig.publish_options("1.0");
  po.sequence = 3;
  rig.publish(image, po);
  rig.start_seeder(false);
  FlashOptions o = rig.flash_options("n1");
  SeenState seen;
  seen.record("rpi5", "stable", 7, "2.0");
  save_state(o.state_file, seen);
  expect_refused(o, "sequence 3 is lower than the highest seen (7)");

  // --allow-older: the operator's explicit override flashes it, and the state keeps 7.
  o.allow_older = true;
  FlashResult r = run_flash(o);
  EXPECT_EQ(r.sequence, 3u);
  EXPECT_EQ(read_file(o.target), image);
  EXPECT_EQ(load_state(o.state_file).highest("rpi5", "stable")->sequence, 7u);
}

TEST_F(TrustRefusal, MissingManifestSignatureIsRefused) {
  rig.publish(image, "1.0");
  rig.start_seeder(false);
  fs::remove(release_file("1.0", std::string(layout::kManifestFile) + layout::kSignatureSuffix));
  FlashOptions o = rig.flash_options("n1");
  // The seeder answers 404 for the signature: the flasher gives up without writing.
  fill_garbage(o.target, 3 * kChunk, 31);
  const auto before = read_file(o.target);
  EXPECT_ERROR_HAS(run_flash(o), Errc::kSeeder, "HTTP 404");
  EXPECT_EQ(read_file(o.target), before);
  EXPECT_FALSE(fs::exists(o.state_file));
}

}  // namespace
}  // namespace ironstone::flasher
