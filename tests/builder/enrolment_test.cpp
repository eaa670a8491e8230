// Installer cards' enrolment keys (builder/enrolment.h): a fresh Ed25519 pair per card, the secret
// file created owner-only, the public line in the format the seeder's --enrolment-keys file takes.
#include "builder/enrolment.h"

#include <sys/stat.h>

#include "builder/errc.h"
#include "util/hex.h"
#include "swarm/enrolment.h"
#include "tests/builder/builder_testing.h"

namespace ironstone::builder::testing {
namespace {

TEST(Enrolment, EachCardGetsItsOwnKeyAndADefaultName) {
  const auto a = make_card_enrolment("");
  const auto b = make_card_enrolment("rack1-card-07");
  EXPECT_NE(a.public_hex, b.public_hex);
  EXPECT_EQ(a.public_hex.size(), 64u);
  EXPECT_EQ(a.name, "card-" + a.public_hex.substr(0, 8));
  EXPECT_EQ(b.public_line, b.public_hex + " rack1-card-07");
  const auto secret = swarm::parse_card_secret(b.secret_text, "card");
  EXPECT_EQ(to_hex(std::span(secret.data() + 32, 32)), b.public_hex);
}

TEST(Enrolment, CardNameMustBeOnePrintableLine) {
  EXPECT_ERROR_EQ(make_card_enrolment("two\nlines"), Errc::kUsage,
                  "--card-name 'two\nlines': expected one line of printable text");
  EXPECT_ERROR_EQ(make_card_enrolment(" padded"), Errc::kUsage,
                  "--card-name ' padded': expected one line of printable text");
}

TEST(Enrolment, SecretFileIsOwnerOnlyAndNeverOverwritten) {
  TempDir dir;
  const auto card = make_card_enrolment("c1");
  write_card_secret(dir.path() / "enrolment.key", card);
  struct stat st {};
  ASSERT_EQ(::stat((dir.path() / "enrolment.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(read_text(dir.path() / "enrolment.key"), card.secret_text);
  EXPECT_ERROR_EQ(write_card_secret(dir.path() / "enrolment.key", make_card_enrolment("c2")), Errc::kStore,
                  (dir.path() / "enrolment.key").string() + ": cannot create: File exists");
  EXPECT_EQ(read_text(dir.path() / "enrolment.key"), card.secret_text);
}

TEST(Enrolment, RecordedLinesAreWhatTheSeederReads) {
  TempDir dir;
  const auto file = dir.path() / "enrolment-keys";
  write_text(file, "# rack 1\n");
  const auto a = make_card_enrolment("card a");
  const auto b = make_card_enrolment("");
  record_enrolment(file, a);
  record_enrolment(file, b);
  const auto keys = swarm::parse_enrolment_keys(read_text(file), file.string());
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys.at(a.public_hex), "card a");
  EXPECT_EQ(keys.at(b.public_hex), b.name);
}

}  // namespace
}  // namespace ironstone::builder::testing
