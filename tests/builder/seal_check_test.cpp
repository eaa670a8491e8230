// publish's sealing check on partitioned images built with mke2fs -d: a sealed gold image
// passes silently, an unsealed one is reported file by file (warning, or an error with
// --require-sealed), an image without an ext4 root gets a one-line note.
#include "builder/seal_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "builder/errc.h"
#include "tests/builder/builder_testing.h"
#include "tests/testutil/disk_image.h"

namespace ironstone::builder {
namespace {

using namespace ironstone::builder::testing;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class SealCheck : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = ironstone::testing::missing_disk_tools(); !why.empty()) GTEST_SKIP() << why;
  }
  // A gold image whose root holds the files of `rootfs` (relative path -> content; a
  // trailing '/' makes a directory).
  fs::path image(const std::map<std::string, std::string>& rootfs, const std::string& name = "gold.img") {
    const fs::path dir = t / (name + ".rootfs");
    fs::create_directories(dir / "etc");
    for (const auto& [rel, content] : rootfs) {
      if (rel.ends_with('/')) {
        fs::create_directories(dir / rel);
      } else {
        fs::create_directories((dir / rel).parent_path());
        write_text(dir / rel, content);
      }
    }
    ironstone::testing::DiskSpec spec;
    spec.boot_size = 8ull << 20;
    spec.root_size = 4ull << 20;
    spec.rootfs = dir;
    ironstone::testing::make_disk_image(spec, t / name);
    return t / name;
  }
  TempDir t;
};

TEST_F(SealCheck, SealedImageHasNoFindings) {
  const fs::path img = image({{"etc/machine-id", ""}, {"etc/ssh/sshd_config", "PermitRootLogin no\n"},
                              {"var/lib/cloud/seed/", ""}, {"var/lib/dbus/", ""}});
  ASSERT_FALSE(HasFatalFailure());
  SealReport r = check_sealed(img);
  EXPECT_TRUE(r.checked) << r.note;
  EXPECT_TRUE(r.sealed());
  EXPECT_EQ(r.partition, "partition 2 (ext4 'rootfs')");
  EXPECT_THAT(r.findings, ::testing::IsEmpty());
}

TEST_F(SealCheck, SystemdFirstBootMarkerAndMissingMachineIdAreSealed) {
  EXPECT_TRUE(check_sealed(image({{"etc/machine-id", "uninitialized\n"}}, "a.img")).sealed());
  EXPECT_TRUE(check_sealed(image({{"etc/hostname", "gold\n"}}, "b.img")).sealed());
}

TEST_F(SealCheck, UnsealedImageNamesEveryFileFound) {
  const fs::path img = image({{"etc/machine-id", "0123456789abcdef0123456789abcdef\n"},
                              {"etc/ssh/ssh_host_ed25519_key", "KEY"},
                              {"etc/ssh/ssh_host_ed25519_key.pub", "ssh-ed25519 AAAA"},
                              {"etc/ssh/sshd_config", ""},
                              {"var/lib/cloud/instances/iid-gold/boot-finished", ""},
                              {"var/lib/cloud/instance/", ""}});
  ASSERT_FALSE(HasFatalFailure());
  SealReport r = check_sealed(img);
  ASSERT_TRUE(r.checked) << r.note;
  EXPECT_FALSE(r.sealed());
  EXPECT_THAT(r.findings,
              ElementsAre("/etc/machine-id: not empty (33 bytes): every node would share one machine id",
                          "/etc/ssh/ssh_host_ed25519_key: SSH host key present",
                          "/etc/ssh/ssh_host_ed25519_key.pub: SSH host key present",
                          "/var/lib/cloud/instance: cloud-init state present (run `cloud-init clean`)",
                          "/var/lib/cloud/instances: cloud-init state present (run `cloud-init clean`)"));
}

TEST_F(SealCheck, ImageWithoutExt4RootGetsANoteNotAFailure) {
  ironstone::testing::DiskSpec spec;
  spec.boot_size = 8ull << 20;
  spec.root_size = 4ull << 20;
  spec.with_root = false;
  ironstone::testing::make_disk_image(spec, t / "boot-only.img");
  ASSERT_FALSE(HasFatalFailure());
  SealReport r = check_sealed(t / "boot-only.img");
  EXPECT_FALSE(r.checked);
  EXPECT_EQ(r.note, (t / "boot-only.img").string() +
                        ": no ext4 root partition (MBR table: 1 FAT 8.0 MiB, 2 unknown 4.0 MiB): sealing not checked");

  write_file(t / "random.img", pseudo_random(256 * 1024, 5));
  EXPECT_EQ(check_sealed(t / "random.img").note,
            (t / "random.img").string() +
                ": no partition table (no MBR signature, no GPT) and no ext filesystem: no root partition to check "
                "for sealing");
}

TEST_F(SealCheck, PublishWarnsAboutAnUnsealedImageAndRequireSealedRefusesIt) {
  const fs::path img = image({{"etc/machine-id", "0123456789abcdef0123456789abcdef\n"},
                              {"etc/ssh/ssh_host_rsa_key", "KEY"}});
  ASSERT_FALSE(HasFatalFailure());
  const fs::path store = t / "store";
  PublishOptions o = options(store);
  o.require_sealed = true;
  EXPECT_ERROR_EQ(publish(img.string(), test_key(), o), Errc::kUnsealed,
                  "--require-sealed: " + img.string() + ": the gold image is not sealed, partition 2 (ext4 'rootfs') "
                  "has:\n  /etc/machine-id: not empty (33 bytes): every node would share one machine id\n"
                  "  /etc/ssh/ssh_host_rsa_key: SSH host key present");
  EXPECT_FALSE(fs::exists(store / "releases" / "rpi5" / "1.0"));

  // Without it the release is published and the command line warns, one line per file.
  const fs::path key = t / "release.key";
  write_text(key, manifest::serialize_secret_key(test_key()));
  std::string out;
  EXPECT_EQ(run_command(ironstone::testing::binary("ironstone-build").string() + " publish --quiet --store " +
                            store.string() + " --board rpi5 --version 1.0 --chunk-size 64K --secret-key " + key.string() +
                            " " + img.string(),
                        &out),
            0)
      << out;
  EXPECT_THAT(out, HasSubstr("ironstone-build publish: warning: " + img.string() +
                             " is not sealed, partition 2 (ext4 'rootfs') has (every node flashed from it would share "
                             "these; --require-sealed refuses such images):\n"
                             "ironstone-build publish: warning:   /etc/machine-id: not empty (33 bytes): every node "
                             "would share one machine id\n"
                             "ironstone-build publish: warning:   /etc/ssh/ssh_host_rsa_key: SSH host key present\n"));
  EXPECT_TRUE(fs::exists(store / "releases" / "rpi5" / "1.0" / "manifest.json"));
}

TEST_F(SealCheck, CompressedInputIsCheckedAfterDecompressionAndRequireSealedRefusesIt) {
  const fs::path img = image({{"etc/ssh/ssh_host_ed25519_key", "KEY"}});
  ASSERT_FALSE(HasFatalFailure());
  ironstone::testing::sh("zstd -q -1 " + img.string() + " -o " + img.string() + ".zst");
  ASSERT_FALSE(HasFatalFailure());
  // publish's temporary copy goes to a temp directory of this test's own, so that the check
  // below sees only it (other tests publishing at the same time have copies of their own).
  const fs::path tmp = t / "tmp";
  fs::create_directories(tmp);
  const ironstone::testing::ScopedEnv tmpdir("TMPDIR", tmp.string());
  ASSERT_EQ(fs::temp_directory_path(), tmp);
  PublishOptions o = options(t / "store");
  o.raw = false;
  PublishResult r = publish(img.string() + ".zst", test_key(), o);
  ASSERT_TRUE(r.seal.checked) << r.seal.note;
  EXPECT_EQ(r.seal.partition, "partition 2 (ext4 'rootfs')");
  EXPECT_EQ(r.seal.findings, std::vector<std::string>{"/etc/ssh/ssh_host_ed25519_key: SSH host key present"});
  o = options(t / "store", "2.0");
  o.raw = false;
  o.require_sealed = true;
  EXPECT_ERROR_EQ(publish(img.string() + ".zst", test_key(), o), Errc::kUnsealed,
                  "--require-sealed: " + img.string() + ".zst (zstd): the gold image is not sealed, partition 2 "
                  "(ext4 'rootfs') has:\n  /etc/ssh/ssh_host_ed25519_key: SSH host key present");
  EXPECT_FALSE(fs::exists(t / "store" / "releases" / "rpi5" / "2.0"));
  // The temporary copy the check read is gone.
  for (const auto& e : fs::directory_iterator(tmp)) ADD_FAILURE() << "left behind: " << e.path();
}

TEST_F(SealCheck, PipedInputIsCheckedAfterItHasBeenRead) {
  const fs::path img = image({{"etc/machine-id", ""}});
  ASSERT_FALSE(HasFatalFailure());
  ironstone::testing::sh("xz -q -0 -k " + img.string());
  ASSERT_FALSE(HasFatalFailure());
  const fs::path key = t / "release.key";
  write_text(key, manifest::serialize_secret_key(test_key()));
  std::string out;
  EXPECT_EQ(run_command("cat " + img.string() + ".xz | " + ironstone::testing::binary("ironstone-build").string() +
                            " publish --quiet --require-sealed --store " + (t / "store").string() +
                            " --board rpi5 --version 1.0 --chunk-size 64K --secret-key " + key.string() + " -",
                        &out),
            0)
      << out;
  EXPECT_EQ(out.find("not checked"), std::string::npos) << out;
  EXPECT_TRUE(fs::exists(t / "store" / "releases" / "rpi5" / "1.0" / "manifest.json"));
}

}  // namespace
}  // namespace ironstone::builder
