// The flasher's side of enrolment (flasher/seeder_client.h): with the card's key it asks a real
// in-process seeder (with --enrolment-keys) for its identity signed and opens the sealed answer;
// without a key it gets the seeder's refusal as the reason to skip; a key file others can read is
// refused before anything is sent.
#include <sys/stat.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "flasher/errc.h"
#include "flasher/seeder_client.h"
#include "seeder/seeder.h"
#include "swarm/enrolment.h"
#include "api/node_identity.h"
#include "tests/testutil/expect_error.h"
#include "tests/testutil/testutil.h"

namespace ironstone::flasher {
namespace {

namespace fs = std::filesystem;
using ironstone::testing::TempDir;
using ironstone::testing::write_text;

const std::string kMac = "dc:a6:32:01:02:04";

class EnrolledSeeder : public ::testing::Test {
 protected:
  void SetUp() override {
    init_crypto();
    card_ = swarm::make_card_key();
    fs::create_directories(dir_.path() / "store");
    write_text(dir_.path() / "inventory.json", R"({"format_version":1,
      "cluster":{"k3s":{"server":"https://10.0.0.10:6443","token":"K10secret::server:x"}},
      "nodes":{"dc:a6:32:01:02:04":{"hostname":"rack1-n02"}}})");
    write_text(dir_.path() / "enrolment-keys", swarm::card_public_hex(card_.public_key) + " card-01\n");
    seeder::SeederConfig c;
    c.store = dir_.path() / "store";
    c.http = {"127.0.0.1", 0};
    c.enable_bittorrent = false;
    c.http_threads = 1;
    c.inventory = dir_.path() / "inventory.json";
    c.enrolment_keys = dir_.path() / "enrolment-keys";
    seeder_ = std::make_unique<seeder::Seeder>(c);
    seeder_->start();
    key_file_ = dir_.path() / "enrolment.key";
    write_text(key_file_, swarm::serialize_card_secret(card_.secret_key));
    ::chmod(key_file_.c_str(), 0600);
  }
  SeederClient client() const {
    RetryPolicy fast{1, std::chrono::milliseconds(1), std::chrono::milliseconds(1), std::chrono::milliseconds(5000)};
    return SeederClient("http://127.0.0.1:" + std::to_string(seeder_->http_port()), fast);
  }
  TempDir dir_;
  swarm::CardKeyPair card_;
  std::unique_ptr<seeder::Seeder> seeder_;
  fs::path key_file_;
};

TEST_F(EnrolledSeeder, CardWithAListedKeyGetsItsIdentity) {
  auto c = client();
  c.set_enrolment_key(load_enrolment_key(key_file_));
  std::string why;
  const auto body = c.identity(kMac, &why);
  ASSERT_TRUE(body) << why;
  const auto id = api::parse_node_identity(*body, "identity");
  EXPECT_EQ(id.hostname, "rack1-n02");
  EXPECT_EQ(id.k3s->token, "K10secret::server:x");
}

TEST_F(EnrolledSeeder, OldCardWithoutKeyIsToldWhy) {
  std::string why;
  EXPECT_FALSE(client().identity(kMac, &why));
  EXPECT_EQ(why, "no identity for " + kMac +
                     ": this seeder serves identities only to enrolled installer cards (POST, signed with the "
                     "card's enrolment key); make the card again with ironstone-build installer");
}

TEST_F(EnrolledSeeder, UnlistedCardIsToldWhy) {
  auto c = client();
  const auto other = swarm::make_card_key();
  c.set_enrolment_key(other.secret_key);
  std::string why;
  EXPECT_FALSE(c.identity(kMac, &why));
  EXPECT_EQ(why, "no identity for " + kMac + ": card key " + swarm::card_public_hex(other.public_key) +
                     " is not in the enrolment keys");
}

TEST_F(EnrolledSeeder, KeyFileOthersCanReadIsRefused) {
  ::chmod(key_file_.c_str(), 0640);
  EXPECT_ERROR_EQ(load_enrolment_key(key_file_), Errc::kIdentity,
                  "enrolment key " + key_file_.string() +
                      ": readable by group or others (it is a secret: chmod 600 it)");
  EXPECT_ERROR_EQ(load_enrolment_key(dir_.path() / "none.key"), Errc::kIdentity,
                  "enrolment key " + (dir_.path() / "none.key").string() + ": No such file or directory");
}

}  // namespace
}  // namespace ironstone::flasher
