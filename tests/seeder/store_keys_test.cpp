// The store's keys/*.pub on the seeder (seeder/store_keys.h): with keys, only releases signed by one
// of them (and whose torrent that manifest signs) are seeded over BitTorrent; without, all are; a key
// file that does not parse stops the start with an error naming it.
#include "seeder/store_keys.h"

#include <gtest/gtest.h>

#include "manifest/errc.h"
#include "seeder/errc.h"
#include "tests/builder/builder_testing.h"
#include "tests/seeder/seeder_test_util.h"

namespace ironstone::seeder {
namespace {

namespace fs = std::filesystem;
using builder::testing::options;
using builder::testing::sample_image;
using ironstone::testing::test_key;
using ironstone::testing::TempDir;
using ironstone::testing::write_file;
using ironstone::testing::write_text;

class StoreKeys : public ::testing::Test {
 protected:
  void SetUp() override {
    write_file(dir.path() / "gold.img", sample_image());
    auto o = options(store());
    o.expires = 4102444800;
    builder::publish((dir.path() / "gold.img").string(), key, o);
  }
  fs::path store() const { return dir.path() / "store"; }
  fs::path release() const { return store() / "releases/rpi5/1.0"; }
  void trust(const manifest::SecretKey& k, const std::string& name) {
    fs::create_directories(store() / "keys");
    write_text(store() / "keys" / name, manifest::serialize_public_key(k.public_key()));
  }
  std::size_t seeded() {
    Seeder seeder(testing::loopback_config(store(), true));
    seeder.start();
    return seeder.swarm()->torrent_count();
  }
  TempDir dir;
  manifest::SecretKey key = test_key();
};

TEST_F(StoreKeys, ReleaseSignedByAStoreKeyIsSeeded) {
  trust(test_key(0x77), "other.pub");
  trust(key, "release.pub");
  EXPECT_EQ(load_store_keys(store()).size(), 2u);
  EXPECT_EQ(seeded(), 1u);
}

TEST_F(StoreKeys, ReleaseNoStoreKeyVerifiesIsNotSeeded) {
  trust(test_key(0x77), "other.pub");
  EXPECT_EQ(seeded(), 0u);
  try {
    check_release_signed(release(), load_store_keys(store()));
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(manifest::Errc::kUnknownKey)) << e.what();
    EXPECT_NE(std::string(e.what()).find(release().string() + "/manifest.json.minisig: signed by unknown key "),
              std::string::npos)
        << e.what();
  }
}

TEST_F(StoreKeys, StoreWithoutKeysIsSeededUnchecked) {
  EXPECT_TRUE(load_store_keys(store()).empty());
  EXPECT_EQ(seeded(), 1u);
}

TEST_F(StoreKeys, ReleaseWithATorrentItsManifestDoesNotSignIsNotSeeded) {
  trust(key, "release.pub");
  const auto torrent = release() / "release.torrent";
  auto bytes = ironstone::testing::read_file(torrent);
  // Another torrent: the sample torrent of a different release (any valid one will do); here the same
  // torrent with one byte of its info dictionary changed breaks the info-hash the manifest signs.
  const std::string text(bytes.begin(), bytes.end());
  const auto at = text.find("6:pieces");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 20] ^= 1;
  write_file(torrent, bytes);
  EXPECT_EQ(seeded(), 0u);
  try {
    check_release_signed(release(), load_store_keys(store()));
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(manifest::Errc::kTorrent)) << e.what();
  }
}

TEST_F(StoreKeys, UnsignedReleaseIsNotSeeded) {
  trust(key, "release.pub");
  fs::remove(release() / "manifest.json.minisig");
  EXPECT_EQ(seeded(), 0u);
  try {
    check_release_signed(release(), load_store_keys(store()));
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), (release() / "manifest.json.minisig").string() + ": no signature");
  }
}

TEST_F(StoreKeys, KeyFileThatDoesNotParseStopsTheStart) {
  trust(key, "release.pub");
  write_text(store() / "keys" / "broken.pub", "not a key\n");
  Seeder seeder(testing::loopback_config(store(), true));
  try {
    seeder.start();
    ADD_FAILURE() << "started with a broken key file";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kStore)) << e.what();
    EXPECT_NE(std::string(e.what()).find("trusted key " + (store() / "keys/broken.pub").string() + ": "),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace ironstone::seeder
