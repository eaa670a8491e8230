// Tests for the trust boundary (manifest/trust.h): signing manifests and channel pointers
// (known-answer vectors, checked against the stock `minisign` too), a tamper matrix where
// every case is refused with the right error, and the policy: board, channel, expiry, rollback.
#include "manifest/trust.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "tests/testutil/expect_error.h"
#include "tests/testutil/sample_release.h"
#include "tests/testutil/testutil.h"

namespace ironstone::manifest {
namespace {

using ::ironstone::testing::filled;
using ::ironstone::testing::run_command;
using ::ironstone::testing::single_chunk_manifest;
using ::ironstone::testing::test_key;
using ::ironstone::testing::TempDir;
using ::ironstone::testing::write_text;
using ::testing::HasSubstr;

[[maybe_unused]] const bool kCryptoReady = (init_crypto(), true);

// Deterministic test keys (throwaway, sign nothing real).
const SecretKey kKey = test_key(0x42, 0x10);
const SecretKey kOtherKey = test_key(0x43, 0x20);

std::span<const std::uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string sign_manifest(const Manifest& m, const SecretKey& key = kKey) {
  std::string text = serialize(m);
  return sign(key, bytes(text), manifest_trusted_comment(m));
}

TrustPolicy policy(std::vector<PublicKey> keys = {kKey.public_key()}) {
  TrustPolicy p;
  p.trusted_keys = std::move(keys);
  p.board = "rpi5";
  p.channel = "stable";
  p.now = 1800000000;  // 2027-01-15
  return p;
}

VerifiedManifest check(const std::string& text, const std::string& sig, const TrustPolicy& p = policy()) {
  return verify_manifest(UnverifiedManifest(text, sig, "releases/rpi5/1.0.0/manifest.json"), p);
}

const std::string kSource = "releases/rpi5/1.0.0/manifest.json";

// ---------------------------------------------------------------------------------------------
// Known answers

TEST(TrustedComment, ManifestCommentStatesBoardChannelVersionSequenceAndExpiry) {
  EXPECT_EQ(manifest_trusted_comment(single_chunk_manifest()),
            "ironstone-manifest board=rpi5 channel=stable version=1.0.0 sequence=7 expires=2030-01-01T00:00:00Z");
}

TEST(TrustedComment, ChannelCommentStatesTheSameFields) {
  ChannelPointer p{1, "rock5b", "beta", "2.0", 12, 1893456000, filled(1)};
  EXPECT_EQ(channel_trusted_comment(p),
            "ironstone-channel board=rock5b channel=beta version=2.0 sequence=12 expires=2030-01-01T00:00:00Z");
}

// Ed25519 is deterministic: the fixed key and the fixed manifest give these exact bytes.
// The vector also verifies with the stock `minisign -V` (ManifestSignatureVerifiesWithStockMinisign).
constexpr std::string_view kKatPublicKey =
    "untrusted comment: minisign public key 1716151413121110\n"
    "RWQQERITFBUWFyFS+NGbeR0kRTJC4V8uq2y3z/p7al7TAJeWDgaYgdsS\n";
constexpr std::string_view kKatSignature =
    "untrusted comment: signature from ironstone secret key\n"
    "RUQQERITFBUWF8blM93VHChxy+vomCTtyAldjHWu5N7BPSvCW8nddOPyl9ukReCFl3TzKKhdbIxxw8J0c3cQuY02m7yWj+Yqpwg=\n"
    "trusted comment: ironstone-manifest board=rpi5 channel=stable version=1.0.0 sequence=7 "
    "expires=2030-01-01T00:00:00Z\n"
    "dXOya7avktbCcc/cHhueEjJsf+PJqcIaSzDFxU6YVAH4lJyt7JPrAjEpBEab81I3aoki+CJJ4dv80Cek7FYdCw==\n";

TEST(ManifestSignature, KnownAnswerVectorForTheFixedKeyAndManifest) {
  EXPECT_EQ(serialize_public_key(kKey.public_key()), kKatPublicKey);
  EXPECT_EQ(sign_manifest(single_chunk_manifest()), kKatSignature);
}

TEST(ManifestSignature, KnownAnswerVectorVerifiesAndYieldsTheManifest) {
  VerifiedManifest v = check(serialize(single_chunk_manifest()), std::string(kKatSignature));
  EXPECT_EQ(v.manifest().version, "1.0.0");
  EXPECT_EQ(v.bytes(), serialize(single_chunk_manifest()));
  EXPECT_EQ(v.key_id(), kKey.id);
  EXPECT_FALSE(v.older_than_seen());
}

TEST(ManifestSignature, ManifestSignatureVerifiesWithStockMinisign) {
  if (run_command("command -v minisign") != 0) GTEST_SKIP() << "minisign not installed";
  TempDir dir;
  write_text(dir / "manifest.json", serialize(single_chunk_manifest()));
  write_text(dir / "manifest.json.minisig", std::string(kKatSignature));
  write_text(dir / "key.pub", std::string(kKatPublicKey));
  std::string out;
  ASSERT_EQ(run_command("minisign -V -p " + (dir / "key.pub").string() + " -m " + (dir / "manifest.json").string(), &out),
            0)
      << out;
  EXPECT_THAT(out, HasSubstr("Trusted comment: ironstone-manifest board=rpi5 channel=stable version=1.0.0 sequence=7"));
}

// ---------------------------------------------------------------------------------------------
// Tamper matrix: every change is refused before anything of the document is trusted.

class Tamper : public ::testing::Test {
 protected:
  std::string text = serialize(single_chunk_manifest());
  std::string sig = sign_manifest(single_chunk_manifest());
  // Line starts of the .minisig text: 0 untrusted comment, 1 signature, 2 trusted comment, 3 global signature.
  std::size_t line(int n) const {
    std::size_t pos = 0;
    for (int i = 0; i < n; ++i) pos = sig.find('\n', pos) + 1;
    return pos;
  }
};

TEST_F(Tamper, EveryFlippedBitOfTheManifestIsRejectedAsABadSignature) {
  const std::string expected =
      kSource + ".minisig: signature does not match the message (key " + kKey.id.hex() + ")";
  for (std::size_t i = 0; i < text.size(); ++i) {
    std::string t = text;
    t[i] ^= 0x01;
    SCOPED_TRACE(i);
    EXPECT_ERROR_EQ(check(t, sig), Errc::kSignature, expected);
  }
}

TEST_F(Tamper, TruncatedOrExtendedManifestIsRejectedAsABadSignature) {
  const std::string expected =
      kSource + ".minisig: signature does not match the message (key " + kKey.id.hex() + ")";
  EXPECT_ERROR_EQ(check(text.substr(0, text.size() - 1), sig), Errc::kSignature, expected);
  EXPECT_ERROR_EQ(check(text.substr(0, text.size() / 2), sig), Errc::kSignature, expected);
  EXPECT_ERROR_EQ(check("", sig), Errc::kSignature, expected);
  EXPECT_ERROR_EQ(check(text + "\n", sig), Errc::kSignature, expected);
}

TEST_F(Tamper, FlippedSignatureBytesAreRejected) {
  // Flip a base64 character inside the Ed25519 signature (after the "ED" + key id prefix).
  std::string s = sig;
  std::size_t pos = line(1) + 20;
  s[pos] = s[pos] == 'A' ? 'B' : 'A';
  EXPECT_ERROR_EQ(check(text, s), Errc::kSignature,
                  kSource + ".minisig: signature does not match the message (key " + kKey.id.hex() + ")");
}

TEST_F(Tamper, FlippedKeyIdIsAnUnknownKey) {
  std::string s = sig;
  std::size_t pos = line(1) + 4;  // base64 of the key id bytes
  s[pos] = s[pos] == 'A' ? 'B' : 'A';
  EXPECT_ERROR_HAS(check(text, s), Errc::kUnknownKey, kSource + ".minisig: signed by unknown key ");
}

TEST_F(Tamper, FlippedTrustedCommentIsRejected) {
  std::string s = sig;
  std::size_t pos = s.find("sequence=7");
  s.replace(pos, 10, "sequence=9");
  EXPECT_ERROR_EQ(check(text, s), Errc::kSignature,
                  kSource + ".minisig: trusted comment signature does not verify (key " + kKey.id.hex() + ")");
}

TEST_F(Tamper, FlippedGlobalSignatureIsRejected) {
  std::string s = sig;
  std::size_t pos = line(3) + 10;
  s[pos] = s[pos] == 'A' ? 'B' : 'A';
  EXPECT_ERROR_EQ(check(text, s), Errc::kSignature,
                  kSource + ".minisig: trusted comment signature does not verify (key " + kKey.id.hex() + ")");
}

TEST_F(Tamper, TruncatedSignatureFileIsAParseError) {
  EXPECT_ERROR_HAS(check(text, sig.substr(0, line(2))), Errc::kParse, kSource + ".minisig: ");
  EXPECT_ERROR_HAS(check(text, sig.substr(0, line(1) + 30)), Errc::kParse, kSource + ".minisig: line 2: ");
}

TEST_F(Tamper, MissingSignatureIsRefused) {
  EXPECT_ERROR_EQ(check(text, ""), Errc::kSignature, kSource + ": no signature (" + kSource + ".minisig)");
}

TEST_F(Tamper, SignatureOfAnotherReleaseIsRejected) {
  Manifest other = single_chunk_manifest();
  other.version = "1.0.1";
  EXPECT_ERROR_EQ(check(text, sign_manifest(other)), Errc::kSignature,
                  kSource + ".minisig: signature does not match the message (key " + kKey.id.hex() + ")");
}

TEST_F(Tamper, KeyNotTrustedIsAnUnknownKey) {
  EXPECT_ERROR_EQ(check(text, sig, policy({kOtherKey.public_key()})), Errc::kUnknownKey,
                  kSource + ".minisig: signed by unknown key " + kKey.id.hex());
  EXPECT_ERROR_EQ(check(text, sig, policy({})), Errc::kUnknownKey,
                  kSource + ".minisig: signed by unknown key " + kKey.id.hex());
}

TEST_F(Tamper, AKeyWithTheSameIdButOtherBytesDoesNotVerify) {
  SecretKey impostor = test_key(0x99, 0x10);  // same id as kKey
  EXPECT_ERROR_EQ(check(text, sign_manifest(single_chunk_manifest(), impostor)), Errc::kSignature,
                  kSource + ".minisig: signature does not match the message (key " + kKey.id.hex() + ")");
}

TEST(TrustOrder, SignatureIsCheckedBeforeTheDocumentIsParsed) {
  // Garbage that is not JSON: refused as unsigned, not parsed.
  Manifest m = single_chunk_manifest();
  EXPECT_ERROR_HAS(check("not json at all", sign_manifest(m)), Errc::kSignature, "signature does not match");
  // A validly signed document that is not a valid manifest: parsed only after the signature holds.
  std::string junk = "{\"board\":\"rpi5\"}";
  std::string sig = sign(kKey, bytes(junk), manifest_trusted_comment(m));
  EXPECT_ERROR_EQ(check(junk, sig), Errc::kField, kSource + ": field 'format_version': missing");
}

TEST(TrustOrder, SignedCommentThatDisagreesWithTheManifestIsRejected) {
  Manifest m = single_chunk_manifest();
  std::string text = serialize(m);
  Manifest lie = m;
  lie.sequence = 99;  // the comment a user sees in `minisign -V` would claim 99
  std::string sig = sign(kKey, bytes(text), manifest_trusted_comment(lie));
  EXPECT_ERROR_EQ(check(text, sig), Errc::kSignature,
                  kSource + ".minisig: trusted comment \"" + manifest_trusted_comment(lie) +
                      "\" does not match the manifest (\"" + manifest_trusted_comment(m) + "\")");
}

TEST(TrustOrder, OneOfSeveralTrustedKeysIsEnough) {
  Manifest m = single_chunk_manifest();
  VerifiedManifest v =
      check(serialize(m), sign_manifest(m, kOtherKey), policy({kKey.public_key(), kOtherKey.public_key()}));
  EXPECT_EQ(v.key_id(), kOtherKey.id);
}

// ---------------------------------------------------------------------------------------------
// Policy: board, channel, expiry, rollback

struct Signed {
  std::string text, sig;
};
Signed signed_manifest(const std::function<void(Manifest&)>& edit) {
  Manifest m = single_chunk_manifest();
  edit(m);
  return {serialize(m), sign_manifest(m)};
}

TEST(TrustPolicy, ReleaseForAnotherBoardIsRefused) {
  auto s = signed_manifest([](Manifest& m) { m.board = "rock5b"; });
  EXPECT_ERROR_EQ(check(s.text, s.sig), Errc::kBoardMismatch,
                  kSource + ": release is for board 'rock5b', this node is 'rpi5'");
}

TEST(TrustPolicy, ReleaseOnAnotherChannelIsRefused) {
  auto s = signed_manifest([](Manifest& m) { m.channel = "beta"; });
  EXPECT_ERROR_EQ(check(s.text, s.sig), Errc::kBoardMismatch,
                  kSource + ": release is on channel 'beta', expected 'stable'");
}

TEST(TrustPolicy, ExpiredManifestIsRefusedAtTheExpirySecond) {
  auto s = signed_manifest([](Manifest&) {});
  TrustPolicy p = policy();
  p.now = 1893456000 - 1;
  EXPECT_NO_THROW(check(s.text, s.sig, p));
  p.now = 1893456000;
  EXPECT_ERROR_EQ(check(s.text, s.sig, p), Errc::kExpired,
                  kSource + ": expired at 2030-01-01T00:00:00Z (now 2030-01-01T00:00:00Z)");
  p.now = 1900000000;
  EXPECT_ERROR_EQ(check(s.text, s.sig, p), Errc::kExpired,
                  kSource + ": expired at 2030-01-01T00:00:00Z (now 2030-03-17T17:46:40Z)");
}

TEST(TrustPolicy, LowerSequenceIsRefusedAsRollback) {
  auto s = signed_manifest([](Manifest&) {});  // sequence 7
  TrustPolicy p = policy();
  p.highest_seen_sequence = 8;
  EXPECT_ERROR_EQ(check(s.text, s.sig, p), Errc::kRollback,
                  kSource + ": sequence 7 is lower than the highest seen (8)");
}

TEST(TrustPolicy, EqualOrHigherSequenceIsAccepted) {
  auto s = signed_manifest([](Manifest&) {});
  TrustPolicy p = policy();
  p.highest_seen_sequence = 7;
  EXPECT_FALSE(check(s.text, s.sig, p).older_than_seen());
  p.highest_seen_sequence = 0;
  EXPECT_FALSE(check(s.text, s.sig, p).older_than_seen());
}

TEST(TrustPolicy, OperatorFlagAllowsAnOlderReleaseAndSaysSo) {
  auto s = signed_manifest([](Manifest&) {});
  TrustPolicy p = policy();
  p.highest_seen_sequence = 100;
  p.allow_older = true;
  EXPECT_TRUE(check(s.text, s.sig, p).older_than_seen());
}

TEST(TrustPolicy, OperatorFlagDoesNotExcuseExpiryOrBoard) {
  TrustPolicy p = policy();
  p.allow_older = true;
  p.highest_seen_sequence = 100;
  auto board = signed_manifest([](Manifest& m) { m.board = "rock5b"; });
  EXPECT_ERROR_HAS(check(board.text, board.sig, p), Errc::kBoardMismatch, "board 'rock5b'");
  p.now = 1900000000;
  auto ok = signed_manifest([](Manifest&) {});
  EXPECT_ERROR_HAS(check(ok.text, ok.sig, p), Errc::kExpired, "expired at");
}

// ---------------------------------------------------------------------------------------------
// Channel pointer

struct SignedPointer {
  ChannelPointer p;
  std::string text, sig;
};
SignedPointer signed_pointer(const std::function<void(ChannelPointer&)>& edit = {}) {
  ChannelPointer p{1, "rpi5", "stable", "1.0.0", 7, 1893456000, blake2b256(bytes(serialize(single_chunk_manifest())))};
  if (edit) edit(p);
  std::string text = serialize(p);
  return {p, text, sign(kKey, bytes(text), channel_trusted_comment(p))};
}

const std::string kChannelSource = "channels/rpi5/stable.json";

TEST(ChannelTrust, ValidPointerVerifiesAndPinsTheManifestBytes) {
  auto s = signed_pointer();
  VerifiedChannel c = verify_channel(s.text, s.sig, kChannelSource, policy());
  EXPECT_EQ(c.pointer().version, "1.0.0");
  EXPECT_NO_THROW(check_manifest_matches_channel(c, serialize(single_chunk_manifest()), kSource));
  std::string other = serialize(single_chunk_manifest()) + " ";
  EXPECT_ERROR_EQ(check_manifest_matches_channel(c, other, kSource), Errc::kHashMismatch,
                  kSource + ": BLAKE2b " + blake2b256(bytes(other)).hex() +
                      " is not the hash the channel pointer signs (" + s.p.manifest_hash.hex() + ")");
}

TEST(ChannelTrust, TamperedPointerIsRejected) {
  auto s = signed_pointer();
  std::string t = s.text;
  t.replace(t.find("\"sequence\":7"), 12, "\"sequence\":8");
  EXPECT_ERROR_EQ(verify_channel(t, s.sig, kChannelSource, policy()), Errc::kSignature,
                  kChannelSource + ".minisig: signature does not match the message (key " + kKey.id.hex() + ")");
  EXPECT_ERROR_EQ(verify_channel(s.text, "", kChannelSource, policy()), Errc::kSignature,
                  kChannelSource + ": no signature (" + kChannelSource + ".minisig)");
}

TEST(ChannelTrust, PointerSignedWithAManifestCommentIsRejected) {
  auto s = signed_pointer();
  std::string sig = sign(kKey, bytes(s.text), manifest_trusted_comment(single_chunk_manifest()));
  EXPECT_ERROR_EQ(verify_channel(s.text, sig, kChannelSource, policy()), Errc::kSignature,
                  kChannelSource + ".minisig: trusted comment \"" + manifest_trusted_comment(single_chunk_manifest()) +
                      "\" does not match the channel pointer");
}

TEST(ChannelTrust, PolicyAppliesToPointers) {
  TrustPolicy p = policy();
  p.highest_seen_sequence = 8;
  auto s = signed_pointer();
  EXPECT_ERROR_EQ(verify_channel(s.text, s.sig, kChannelSource, p), Errc::kRollback,
                  kChannelSource + ": sequence 7 is lower than the highest seen (8)");
  auto b = signed_pointer([](ChannelPointer& cp) { cp.board = "rock5b"; });
  EXPECT_ERROR_EQ(verify_channel(b.text, b.sig, kChannelSource, policy()), Errc::kBoardMismatch,
                  kChannelSource + ": release is for board 'rock5b', this node is 'rpi5'");
  auto e = signed_pointer([](ChannelPointer& cp) { cp.expires = 1700000000; });
  EXPECT_ERROR_HAS(verify_channel(e.text, e.sig, kChannelSource, policy()), Errc::kExpired, "expired at");
  EXPECT_ERROR_HAS(verify_channel(s.text, s.sig, kChannelSource, policy({kOtherKey.public_key()})),
                   Errc::kUnknownKey, "signed by unknown key");
}

}  // namespace
}  // namespace ironstone::manifest
