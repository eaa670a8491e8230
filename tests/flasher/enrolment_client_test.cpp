// The flasher's side of enrolment (flasher/seeder_client.h): with the card's key it asks a real
// in-process seeder (with --enrolment-keys) for its identity signed and opens the sealed answer;
// without a key it gets the seeder's refusal as the reason to skip; a key file others can read is
// refused before anything is sent.
#include <sys/stat.h>

#include <mutex>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "flasher/errc.h"
#include "flasher/seeder_client.h"
#include "seeder/seeder.h"
#include "swarm/enrolment.h"
#include "api/node_identity.h"
#include "tests/testutil/expect_error.h"
#include "tests/testutil/test_http_server.h"
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

// A seeder that answers `failures` requests with `status`, then passes the requests on to the
// real one: a seeder restarting, or busy.
class FlakySeeder {
 public:
  FlakySeeder(std::uint16_t real_port, int failures, int status)
      : real_("http://127.0.0.1:" + std::to_string(real_port)),
        server_([this, failures, status](const std::string& request, int n) {
          {
            std::lock_guard lock(mutex_);
            bodies_.insert(request.substr(request.find("\r\n\r\n") + 4));
          }
          if (n <= failures) return ironstone::testing::response(status, "Unavailable", "{\"error\":\"busy\"}");
          const auto path = request.substr(5, request.find(' ', 5) - 5);  // "POST /v1/… HTTP/1.1"
          const auto r = swarm::http_post_json(real_ + path, request.substr(request.find("\r\n\r\n") + 4), {});
          return ironstone::testing::response(r.status, r.reason, r.body);
        }) {}
  std::string url() const { return server_.url(""); }
  int requests() const { return server_.requests(); }
  std::size_t distinct_bodies() const {
    std::lock_guard lock(mutex_);
    return bodies_.size();
  }

 private:
  std::string real_;
  mutable std::mutex mutex_;
  std::set<std::string> bodies_;
  ironstone::testing::TestServer server_;
};

TEST_F(EnrolledSeeder, ASeederFailingTwiceIsAskedAgainFreshlySignedAndTheThirdAnswerOpens) {
  FlakySeeder flaky(seeder_->http_port(), 2, 503);
  RetryPolicy retry{4, std::chrono::milliseconds(1), std::chrono::milliseconds(1), std::chrono::milliseconds(5000)};
  SeederClient c(flaky.url(), retry);
  c.set_enrolment_key(load_enrolment_key(key_file_));
  std::string why;
  const auto body = c.identity(kMac, &why);
  ASSERT_TRUE(body) << why;
  EXPECT_EQ(api::parse_node_identity(*body, "identity").hostname, "rack1-n02");
  EXPECT_EQ(flaky.requests(), 3);
  EXPECT_EQ(flaky.distinct_bodies(), 3u) << "each attempt signs a new request with a new ephemeral key";
}

TEST_F(EnrolledSeeder, ASeederStillFailingWhenTheRetriesRunOutFailsTheIdentityNamingTheStatus) {
  FlakySeeder flaky(seeder_->http_port(), 100, 503);
  RetryPolicy retry{3, std::chrono::milliseconds(1), std::chrono::milliseconds(1), std::chrono::milliseconds(5000)};
  SeederClient c(flaky.url(), retry);
  c.set_enrolment_key(load_enrolment_key(key_file_));
  try {
    c.identity(kMac);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::kSeeder));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("HTTP 503"));
  }
  EXPECT_EQ(flaky.requests(), 3);
}

TEST_F(EnrolledSeeder, ARefusalIsFinalAtOnceAndNotAskedAgain) {
  FlakySeeder flaky(seeder_->http_port(), 0, 503);  // passes everything on: the real seeder refuses
  RetryPolicy retry{4, std::chrono::milliseconds(1), std::chrono::milliseconds(1), std::chrono::milliseconds(5000)};
  SeederClient c(flaky.url(), retry);
  c.set_enrolment_key(swarm::make_card_key().secret_key);  // a card the seeder does not list
  std::string why;
  EXPECT_FALSE(c.identity(kMac, &why));
  EXPECT_THAT(why, ::testing::HasSubstr("is not in the enrolment keys"));
  EXPECT_EQ(flaky.requests(), 1);
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
