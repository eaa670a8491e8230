// End-to-end tests of the real `ironstone-build` binary: exit codes and the exact text a
// user (or CI log) sees for keygen, publish, verify, inspect and gc, good and bad.
#include <sys/stat.h>

#include "builder/store.h"
#include "tests/builder/builder_testing.h"

namespace ironstone::builder::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(tool)) << tool;
    ASSERT_EQ(run(" keygen --secret-key " + q(sk()) + " --public-key " + q(pk())), 0) << out;
    write_file(dir.path() / "gold.img", sample_image());
  }
  static std::string q(const fs::path& p) { return "'" + p.string() + "'"; }
  fs::path sk() const { return dir.path() / "release.key"; }
  fs::path pk() const { return dir.path() / "release.pub"; }
  fs::path store() const { return dir.path() / "store"; }
  // Runs ironstone-build with `args`; output (stdout + stderr) lands in `out`.
  int run(const std::string& args, const std::string& prefix = "") {
    return run_command(prefix + q(tool) + args, &out);
  }
  int publish(const std::string& version, const fs::path& image, const std::string& extra = "") {
    return run(" publish --quiet --store " + q(store()) + " --board rpi5 --version " + version + " --secret-key " +
               q(sk()) + " --chunk-size 64K --threads 2 " + extra + " " + q(image));
  }
  // Publishes versions 1.0 .. n.0, each sharing one chunk with the others and having one of its own.
  void publish_versions(int n) {
    for (int v = 1; v <= n; ++v) {
      write_file(dir.path() / "v.img", concat({pseudo_random(kChunk, 500), pseudo_random(kChunk, v)}));
      ASSERT_EQ(publish(std::to_string(v) + ".0", dir.path() / "v.img", "--raw"), 0) << out;
    }
  }
  int verify(const fs::path& key) { return run(" verify --store " + q(store()) + " --public-key " + q(key)); }

  TempDir dir;
  fs::path tool = ::ironstone::testing::binary("ironstone-build");
  std::string out;
};

TEST_F(CliTest, KeygenWritesASecretKeyOnlyTheOwnerCanRead) {
  struct stat st {};
  ASSERT_EQ(::stat(sk().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_THAT(read_text(pk()), StartsWith("untrusted comment: minisign public key "));
}

TEST_F(CliTest, KeygenRefusesToOverwriteAKey) {
  auto before = read_text(sk());
  EXPECT_EQ(run(" keygen --secret-key " + q(sk()) + " --public-key " + q(dir.path() / "other.pub")), 1);
  EXPECT_EQ(out, "ironstone-build keygen: " + sk().string() + ": already exists, not overwriting\n");
  EXPECT_EQ(read_text(sk()), before);
  EXPECT_FALSE(fs::exists(dir.path() / "other.pub"));
}

TEST_F(CliTest, PublishThenVerifyExitsZero) {
  ASSERT_EQ(publish("1.0", dir.path() / "gold.img"), 0) << out;
  EXPECT_THAT(out, StartsWith("published rpi5/1.0 (channel stable, sequence 1) in "));
  EXPECT_THAT(out, HasSubstr("  image " + std::to_string(sample_image().size()) + " bytes, 6 unique chunks, 2 zero ranges"));
  EXPECT_THAT(out, HasSubstr("  info-hash v2 "));
  ASSERT_EQ(verify(pk()), 0) << out;
  EXPECT_THAT(out, HasSubstr("OK: 1 releases, 6 chunks checked, 0 problems\n"));
}

TEST_F(CliTest, PublishingTheSameImageTwiceGivesTheSameInfoHash) {
  auto info_hash = [&](const std::string& text) {
    auto pos = text.find("info-hash v2 ");
    return pos == std::string::npos ? std::string() : text.substr(pos + 13, 64);
  };
  ASSERT_EQ(publish("1.0", dir.path() / "gold.img"), 0) << out;
  std::string first = info_hash(out);
  ASSERT_EQ(run(" publish --quiet --store " + q(dir.path() / "store2") + " --board rpi5 --version 1.0 --secret-key " +
                q(sk()) + " --chunk-size 64K " + q(dir.path() / "gold.img")),
            0)
      << out;
  EXPECT_EQ(first.size(), 64u);
  EXPECT_EQ(info_hash(out), first);
}

TEST_F(CliTest, VerifyNamesEveryProblemAndExitsOne) {
  ASSERT_EQ(publish("1.0", dir.path() / "gold.img"), 0) << out;
  auto m = manifest::parse_manifest(read_text(store() / "releases/rpi5/1.0/manifest.json"), "m");
  const std::string rel0 = manifest::layout::chunk_relpath(m.chunks[0].hash);
  const std::string rel1 = manifest::layout::chunk_relpath(m.chunks[1].hash);
  fs::remove(store() / rel0);
  fs::resize_file(store() / rel1, 1);
  EXPECT_EQ(verify(pk()), 1);
  EXPECT_THAT(out, HasSubstr("problem: releases/rpi5/1.0: chunk 0 (" + rel0 + ") @ " +
                             hex_offset(m.chunks[0].offsets[0]) + ": " + (store() / rel0).string() +
                             ": cannot read: No such file or directory\n"));
  EXPECT_THAT(out, HasSubstr("problem: releases/rpi5/1.0: chunk 1 (" + rel1 + ") @ " +
                             hex_offset(m.chunks[1].offsets[0]) + ": stored size 1 is not the signed " +
                             std::to_string(m.chunks[1].stored_size) + "\n"));
  EXPECT_THAT(out, HasSubstr("FAILED: 1 releases, 6 chunks checked, 2 problems\n"));
}

TEST_F(CliTest, VerifyWithTheWrongPublicKeyFails) {
  ASSERT_EQ(publish("1.0", dir.path() / "gold.img"), 0) << out;
  ASSERT_EQ(run(" keygen --secret-key " + q(dir.path() / "other.key") + " --public-key " + q(dir.path() / "other.pub")), 0);
  EXPECT_EQ(verify(dir.path() / "other.pub"), 1);
  EXPECT_THAT(out, HasSubstr("problem: releases/rpi5/1.0/manifest.json.minisig: signed by unknown key "));
  EXPECT_THAT(out, HasSubstr("FAILED: "));
}

TEST_F(CliTest, VerifyTrustsTheStoreKeysWithoutPublicKeyAndTakesAllowExpired) {
  ASSERT_EQ(publish("1.0", dir.path() / "gold.img"), 0) << out;
  fs::copy_file(pk(), store() / "keys/release.pub");
  ASSERT_EQ(run(" verify --store " + q(store())), 0) << out;
  EXPECT_THAT(out, HasSubstr("trusted key "));
  EXPECT_THAT(out, HasSubstr(" (keys/release.pub)\n"));
  EXPECT_THAT(out, HasSubstr("OK: 1 releases, "));
  ASSERT_EQ(run(" verify --allow-expired --store " + q(store()) + " --public-key " + q(pk())), 0) << out;
}

TEST_F(CliTest, VerifyWithAMissingPublicKeyFileFails) {
  ASSERT_EQ(publish("1.0", dir.path() / "gold.img"), 0) << out;
  EXPECT_EQ(verify(dir.path() / "none.pub"), 1);
  EXPECT_EQ(out, "ironstone-build verify: " + (dir.path() / "none.pub").string() +
                     ": cannot read: No such file or directory\n");
}

class CliBadInput : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    ASSERT_EQ(publish("1.0", dir.path() / "gold.img"), 0) << out;
    before = snapshot(store());
  }
  Snapshot before;
};

TEST_F(CliBadInput, MissingSecretKeyIsAClearErrorAndLeavesStoreUntouched) {
  EXPECT_EQ(run(" publish --quiet --store " + q(store()) + " --board rpi5 --version 2.0 --secret-key " +
                q(dir.path() / "none.key") + " " + q(dir.path() / "gold.img")),
            1);
  EXPECT_EQ(out, "ironstone-build publish: " + (dir.path() / "none.key").string() +
                     ": cannot read: No such file or directory\n");
  EXPECT_STORE_UNCHANGED(before, store());
}

TEST_F(CliBadInput, PublicKeyGivenAsSecretKeyIsAClearErrorAndLeavesStoreUntouched) {
  EXPECT_EQ(run(" publish --quiet --store " + q(store()) + " --board rpi5 --version 2.0 --secret-key " + q(pk()) +
                " " + q(dir.path() / "gold.img")),
            1);
  EXPECT_THAT(out, StartsWith("ironstone-build publish: " + pk().string() + ": line 2: "));
  EXPECT_STORE_UNCHANGED(before, store());
}

TEST_F(CliBadInput, TruncatedZstdImageIsAClearErrorAndLeavesStoreUntouched) {
  fs::path zst = dir.path() / "gold.img.zst";
  ASSERT_EQ(run_command("zstd -q " + q(dir.path() / "gold.img") + " -o " + q(zst)), 0);
  fs::resize_file(zst, fs::file_size(zst) / 2);
  EXPECT_EQ(publish("2.0", zst), 1);
  EXPECT_EQ(out, "ironstone-build publish: " + zst.string() + ": zstd stream truncated at input offset " +
                     hex_offset(fs::file_size(zst)) + "\n");
  EXPECT_STORE_UNCHANGED(before, store());
}

TEST_F(CliBadInput, TruncatedXzImageIsAClearErrorAndLeavesStoreUntouched) {
  ASSERT_EQ(run_command("xz -q -k " + q(dir.path() / "gold.img")), 0);
  fs::path xz = dir.path() / "gold.img.xz";
  fs::resize_file(xz, fs::file_size(xz) - 1);
  EXPECT_EQ(publish("2.0", xz), 1);
  EXPECT_EQ(out, "ironstone-build publish: " + xz.string() + ": xz stream truncated at input offset " +
                     hex_offset(fs::file_size(xz)) + "\n");
  EXPECT_STORE_UNCHANGED(before, store());
}

TEST_F(CliBadInput, UnreadableImageIsAClearErrorAndLeavesStoreUntouched) {
  // As root every file is readable: run the publisher as nobody on a store nobody owns.
  std::string prefix;
  if (::ironstone::testing::is_root()) {
    if (run_command("command -v setpriv") != 0) GTEST_SKIP() << "needs setpriv to drop root";
    fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    ASSERT_EQ(run_command("chown -R 65534:65534 " + q(store()) + " " + q(sk())), 0);
    prefix = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
    before = snapshot(store());
  }
  fs::path secret = dir.path() / "secret.img";
  write_file(secret, sample_image(9));
  fs::permissions(secret, fs::perms::owner_read | fs::perms::owner_write);  // root-owned 0600
  if (!::ironstone::testing::is_root()) fs::permissions(secret, fs::perms::none);
  EXPECT_EQ(run(" publish --quiet --store " + q(store()) + " --board rpi5 --version 2.0 --secret-key " + q(sk()) +
                    " --chunk-size 64K " + q(secret),
                prefix),
            1);
  EXPECT_EQ(out, "ironstone-build publish: " + secret.string() + ": cannot open: Permission denied\n");
  EXPECT_STORE_UNCHANGED(before, store());
}

TEST_F(CliBadInput, StoreBeingWrittenByAnotherPublisherIsRefused) {
  StoreLock other(store());
  EXPECT_EQ(publish("2.0", dir.path() / "gold.img"), 1);
  EXPECT_EQ(out, "ironstone-build publish: " + store().string() +
                     ": store is being written by another publisher (" + (store() / ".lock").string() +
                     " is locked); try again when it has finished\n");
  EXPECT_STORE_UNCHANGED(before, store());
}

TEST_F(CliBadInput, BadFlagsAreRefusedNamingTheFlag) {
  EXPECT_EQ(run(" publish --quiet --store " + q(store()) + " --board rpi5 --version 2.0 --secret-key " + q(sk()) +
                " --chunk-size 3M " + q(dir.path() / "gold.img")),
            1);
  EXPECT_EQ(out, "ironstone-build publish: --chunk-size 3145728: expected a power of two from 64 KiB to 64 MiB\n");
  EXPECT_EQ(run(" publish --quiet --store " + q(store()) + " --board rpi5 --version 2.0 --secret-key " + q(sk()) +
                " --expires soon " + q(dir.path() / "gold.img")),
            1);
  EXPECT_EQ(out, "ironstone-build publish: --expires 'soon': expected a duration (90d, 12h, 30m) or a UTC time like "
                 "2027-01-01T00:00:00Z\n");
  EXPECT_EQ(publish("1.0", dir.path() / "gold.img"), 1);
  EXPECT_EQ(out, "ironstone-build publish: " + (store() / "releases/rpi5/1.0").string() +
                     ": release rpi5/1.0 already exists\n");
  EXPECT_STORE_UNCHANGED(before, store());
}

TEST_F(CliTest, GcDryRunListsAndGcRemovesOldReleases) {
  ASSERT_NO_FATAL_FAILURE(publish_versions(3));
  auto before = snapshot(store());
  ASSERT_EQ(run(" gc --store " + q(store()) + " --keep 2 --dry-run"), 0) << out;
  EXPECT_THAT(out, HasSubstr("would remove release rpi5/1.0\n"));
  EXPECT_THAT(out, HasSubstr("would remove 1 releases, 1 chunk files, 65536 bytes\n"));
  EXPECT_STORE_UNCHANGED(before, store());
  ASSERT_EQ(run(" gc --store " + q(store()) + " --keep 2"), 0) << out;
  EXPECT_THAT(out, HasSubstr("removed release rpi5/1.0\n"));
  EXPECT_THAT(out, HasSubstr("removed 1 releases, 1 chunk files, 65536 bytes\n"));
  EXPECT_FALSE(fs::exists(store() / "releases/rpi5/1.0"));
  ASSERT_EQ(verify(pk()), 0) << out;
  EXPECT_THAT(out, HasSubstr("OK: 2 releases, 4 chunks checked, 0 problems\n"));
}

TEST_F(CliTest, GcWithOnlyOlderThanAppliesNoCountRule) {
  ASSERT_NO_FATAL_FAILURE(publish_versions(4));
  auto before = snapshot(store());
  ASSERT_EQ(run(" gc --store " + q(store()) + " --older-than 1d"), 0) << out;
  EXPECT_EQ(out, "removed 0 releases, 0 chunk files, 0 bytes\n");
  EXPECT_STORE_UNCHANGED(before, store());
  ASSERT_EQ(run(" gc --store " + q(store()) + " --older-than 1d --keep 3 --dry-run"), 0) << out;
  EXPECT_THAT(out, HasSubstr("would remove release rpi5/1.0\n"));
}

TEST_F(CliTest, GcWithAnOlderThanThatIsNoDurationFails) {
  EXPECT_EQ(run(" gc --store " + q(store()) + " --older-than 3x"), 1);
  EXPECT_EQ(out, "ironstone-build gc: --older-than '3x': expected a duration (90d, 12h, 30m)\n");
}

TEST_F(CliTest, InspectListsReleasesAndSummarisesOne) {
  ASSERT_EQ(publish("1.0", dir.path() / "gold.img"), 0) << out;
  ASSERT_EQ(run(" inspect --store " + q(store())), 0) << out;
  EXPECT_THAT(out, StartsWith("rpi5      1.0                 stable    seq 1"));
  ASSERT_EQ(run(" inspect --store " + q(store()) + " --board rpi5 --version 1.0"), 0) << out;
  EXPECT_THAT(out, HasSubstr("rpi5"));
  EXPECT_THAT(out, HasSubstr("\nrecipe      none\nbuild log   none\n"));
  EXPECT_EQ(run(" inspect --store " + q(store()) + " --board rpi5 --version 9.9"), 1);
  EXPECT_EQ(out, "ironstone-build inspect: " + (store() / "releases/rpi5/9.9").string() + ": no such release\n");
}

TEST_F(CliTest, InspectShowsTheRecipeAndBuildLogPublishShipped) {
  write_text(dir.path() / "rpi5.yaml", "board: rpi5\n");
  write_text(dir.path() / "gold.log", "built\n");
  ASSERT_EQ(publish("1.0", dir.path() / "gold.img",
                    " --recipe " + q(dir.path() / "rpi5.yaml") + " --build-log " + q(dir.path() / "gold.log")),
            0)
      << out;
  ASSERT_EQ(run(" inspect --store " + q(store()) + " --board rpi5 --version 1.0"), 0) << out;
  EXPECT_THAT(out, HasSubstr("\nrecipe      recipe.yaml (12 B, "));
  EXPECT_THAT(out, HasSubstr("\nbuild log   build.log (6 B, "));
}

}  // namespace
}  // namespace ironstone::builder::testing
