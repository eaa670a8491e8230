// Node identities only for enrolled installer cards (swarm/enrolment.h, seeder/enrolment_keys.h):
// a signed POST gets the identity sealed to its ephemeral key; no key, an unknown or revoked key, a
// stale time, a MAC the request is not signed for or that is not in the inventory are refused with
// exact messages; GET is refused once the seeder has enrolment keys; the join token never appears
// in the HTTP response bytes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "seeder/enrolment_keys.h"
#include "seeder/errc.h"
#include "swarm/enrolment.h"
#include "swarm/errc.h"
#include "tests/seeder/seeder_test_util.h"
#include "tests/testutil/expect_error.h"

namespace ironstone::seeder {
namespace {

using namespace ironstone::seeder::testing;
using ironstone::testing::rewrite_text;
using ironstone::testing::write_text;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

const char* kInventory = R"({
  "format_version": 1,
  "cluster": {"k3s": {"server": "https://10.0.0.10:6443", "token": "K10verysecret::server:abc"}},
  "nodes": {"dc:a6:32:01:02:04": {"hostname": "rack1-n02"}}
})";
const std::string kMac = "dc:a6:32:01:02:04";
const std::string kToken = "K10verysecret::server:abc";

std::int64_t now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class Enrolment : public LoopbackSeederTest {
 protected:
  void SetUp() override {
    ironstone::init_crypto();
    card_ = swarm::make_card_key();
    other_ = swarm::make_card_key();
    fs::create_directories(dir_.path() / "store");
    write_text(dir_.path() / "inventory.json", kInventory);
    write_keys("# rack 1 cards\n" + swarm::card_public_hex(card_.public_key) + " card-01\n");
    SeederConfig c = loopback_config(dir_.path() / "store", false);
    c.inventory = dir_.path() / "inventory.json";
    c.enrolment_keys = dir_.path() / "enrolment-keys";
    start(c);
  }
  void write_keys(const std::string& text) { write_text(dir_.path() / "enrolment-keys", text); }
  // An edit the running seeder sees on its next request: a new modification time at once.
  void edit_keys(const std::string& text) { rewrite_text(dir_.path() / "enrolment-keys", text); }
  // The raw HTTP response to a POST of `body`.
  std::string post_raw(const std::string& mac, const std::string& body) {
    return raw_exchange(port_, "POST /v1/nodes/" + mac + "/identity HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                               "Content-Type: application/json\r\nContent-Length: " +
                                   std::to_string(body.size()) + "\r\n\r\n" + body);
  }
  HttpReply post(const std::string& mac, const std::string& body) {
    return http_request(port_, "POST", "/v1/nodes/" + mac + "/identity", {{"Content-Type", "application/json"}},
                        body);
  }
  static std::string error_of(const HttpReply& r) { return json::parse(r.body).value("error", std::string()); }

  swarm::CardKeyPair card_, other_;
};

TEST_F(Enrolment, SignedRequestGetsTheIdentitySealedToItsEphemeralKeyOnly) {
  const auto req = swarm::make_identity_request(card_.secret_key, kMac, now());
  const std::string raw = post_raw(kMac, req.json);
  ASSERT_EQ(raw_status(raw), 200) << raw;
  EXPECT_THAT(raw, Not(HasSubstr(kToken)));  // never readable on the wire
  EXPECT_THAT(raw, Not(HasSubstr("K10verysecret")));
  const std::string body = raw.substr(raw.find("\r\n\r\n") + 4);
  const std::string identity = swarm::open_identity(body, req.ephemeral_public, req.ephemeral_secret);
  const auto id = api::parse_node_identity(identity, "sealed answer");
  EXPECT_EQ(id.hostname, "rack1-n02");
  ASSERT_TRUE(id.k3s);
  EXPECT_EQ(id.k3s->token, kToken);
  // Another request's ephemeral key does not open it.
  const auto other = swarm::make_identity_request(card_.secret_key, kMac, now());
  EXPECT_ERROR_EQ(swarm::open_identity(body, other.ephemeral_public, other.ephemeral_secret), swarm::Errc::kEnrolment,
                  "sealed identity: does not open with this request's key");
}

TEST_F(Enrolment, OldCardWithoutKeyIsRefusedOnGet) {
  const auto r = http_get(port_, "/v1/nodes/" + kMac + "/identity");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(error_of(r), "no identity for " + kMac +
                             ": this seeder serves identities only to enrolled installer cards (POST, signed with the "
                             "card's enrolment key); make the card again with ironstone-build installer");
  EXPECT_THAT(r.body, Not(HasSubstr(kToken)));
}

TEST_F(Enrolment, UnknownCardKeyIsRefused) {
  const auto r = post(kMac, swarm::make_identity_request(other_.secret_key, kMac, now()).json);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(error_of(r), "no identity for " + kMac + ": card key " + swarm::card_public_hex(other_.public_key) +
                             " is not in the enrolment keys");
}

TEST_F(Enrolment, RemovingTheKeyLineRevokesTheCardWithoutRestart) {
  ASSERT_EQ(post(kMac, swarm::make_identity_request(card_.secret_key, kMac, now()).json).status, 200);
  edit_keys(swarm::card_public_hex(other_.public_key) + " card-02\n");
  const auto r = post(kMac, swarm::make_identity_request(card_.secret_key, kMac, now()).json);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(error_of(r), "no identity for " + kMac + ": card key " + swarm::card_public_hex(card_.public_key) +
                             " is not in the enrolment keys");
  EXPECT_EQ(post(kMac, swarm::make_identity_request(other_.secret_key, kMac, now()).json).status, 200);
}

TEST_F(Enrolment, BrokenKeysFileTrustsNoCardUntilFixed) {
  edit_keys(swarm::card_public_hex(card_.public_key) + " card-01\nnot-a-key\n");
  const auto r = post(kMac, swarm::make_identity_request(card_.secret_key, kMac, now()).json);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(error_of(r), "no identity for " + kMac + ": card key " + swarm::card_public_hex(card_.public_key) +
                             " is not in the enrolment keys");
  edit_keys(swarm::card_public_hex(card_.public_key) + " card-01\n");
  EXPECT_EQ(post(kMac, swarm::make_identity_request(card_.secret_key, kMac, now()).json).status, 200);
}

TEST_F(Enrolment, StaleOrFutureTimeIsRefused) {
  const auto t = now() - 3600;
  auto r = post(kMac, swarm::make_identity_request(card_.secret_key, kMac, t).json);
  EXPECT_EQ(r.status, 403);
  EXPECT_THAT(error_of(r), ::testing::StartsWith("no identity for " + kMac + ": request time " + std::to_string(t) +
                                                 " is 36"));
  EXPECT_THAT(error_of(r), ::testing::EndsWith(" s from the seeder's clock (at most 300 s)"));
  r = post(kMac, swarm::make_identity_request(card_.secret_key, kMac, now() + 3600).json);
  EXPECT_EQ(r.status, 403);
}

TEST_F(Enrolment, RequestForAnotherMacOrATamperedOneIsRefused) {
  const auto req = swarm::make_identity_request(card_.secret_key, "dc:a6:32:01:02:99", now());
  auto r = post(kMac, req.json);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_of(r), "no identity for " + kMac + ": the request is signed for dc:a6:32:01:02:99");
  // The MAC changed in the body (and the URL to match): the signature no longer verifies.
  auto doc = json::parse(req.json);
  doc["mac"] = kMac;
  r = post(kMac, doc.dump());
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(error_of(r), "no identity for " + kMac + ": signature does not verify (card key " +
                             swarm::card_public_hex(card_.public_key) + ")");
}

TEST_F(Enrolment, MacNotInTheInventoryIsRefused) {
  const std::string mac = "dc:a6:32:01:02:99";
  const auto r = post(mac, swarm::make_identity_request(card_.secret_key, mac, now()).json);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error_of(r), "no identity for " + mac + ": not in the inventory inventory.json");
}

TEST_F(Enrolment, MalformedRequestIsRefused) {
  auto r = post(kMac, "{}");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_of(r), "no identity for " + kMac + ": identity request: field 'mac' missing");
  auto doc = json::parse(swarm::make_identity_request(card_.secret_key, kMac, now()).json);
  doc["signature"] = "abcd";
  r = post(kMac, doc.dump());
  EXPECT_EQ(error_of(r), "no identity for " + kMac + ": identity request: field 'signature' must be 128 hex digits");
  doc["extra"] = 1;
  r = post(kMac, doc.dump());
  EXPECT_EQ(error_of(r), "no identity for " + kMac + ": identity request: unknown field 'extra'");
}

TEST(EnrolmentKeys, FileLinesAreKeyAndNameAndBadLinesAreNamed) {
  ironstone::init_crypto();
  const auto k = swarm::make_card_key();
  const std::string hex = swarm::card_public_hex(k.public_key);
  const auto keys = swarm::parse_enrolment_keys("# comment\n\n  " + hex + "   rack 1 card\n", "keys");
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys.at(hex), "rack 1 card");
  EXPECT_ERROR_EQ(swarm::parse_enrolment_keys(hex + "\nzz\n", "keys"), swarm::Errc::kEnrolment,
                  "keys: line 2: expected a card key (64 hex digits) and a name");
  ironstone::testing::TempDir dir;
  write_text(dir.path() / "k", "zz\n");
  EXPECT_ERROR_EQ(EnrolmentKeysFile(dir.path() / "k"), Errc::kConfig,
                  "--enrolment-keys " + (dir.path() / "k").string() + ": line 1: expected a card key (64 hex "
                  "digits) and a name");
}

TEST(EnrolmentKeys, CardSecretRoundTripsAndATamperedOneIsRefused) {
  ironstone::init_crypto();
  const auto k = swarm::make_card_key();
  const std::string text = swarm::serialize_card_secret(k.secret_key);
  EXPECT_EQ(swarm::parse_card_secret(text, "card.key"), k.secret_key);
  std::string bad = text;
  bad[bad.size() - 2] = bad[bad.size() - 2] == '0' ? '1' : '0';  // the public half no longer matches
  EXPECT_ERROR_EQ(swarm::parse_card_secret(bad, "card.key"), swarm::Errc::kEnrolment,
                  "card.key: line 2: the public half does not match the secret half");
  EXPECT_ERROR_EQ(swarm::parse_card_secret("hello\n", "card.key"), swarm::Errc::kEnrolment,
                  "card.key: not an enrolment secret key (first line must be \"ironstone enrolment secret key v1\")");
}

}  // namespace
}  // namespace ironstone::seeder
