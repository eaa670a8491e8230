// Tests for manifest/minisign.h: known-answer vectors made once with the real `minisign`,
// interop with the installed `minisign` binary at test time, and a tamper matrix.
#include "manifest/minisign.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sodium.h>

#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/testutil/expect_error.h"
#include "tests/testutil/testutil.h"

namespace ironstone::manifest {
namespace {

namespace fs = std::filesystem;
using ::ironstone::testing::read_text;
using ::ironstone::testing::run_command;
using ::ironstone::testing::TempDir;
using ::ironstone::testing::write_file;
using ::ironstone::testing::write_text;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Made once with minisign 0.11:
//   minisign -G -W -p kat.pub -s kat.key
//   printf 'Ironstone known-answer message\n' > kat.txt
//   minisign -Sm kat.txt -s kat.key -t "board=rpi4 version=1.0.0 sequence=1 expires=2030-01-01T00:00:00Z"
// (A throwaway, unencrypted test key: it signs nothing but this message.)
constexpr std::string_view kKatPublicKey =
    "untrusted comment: minisign public key C15DE74703CD59D1\n"
    "RWTRWc0DR+ddweTD5Bdc34If5DjcnLPfBvcecjBy18x3WaKgNCDxTjP6\n";
constexpr std::string_view kKatSecretKey =
    "untrusted comment: minisign encrypted secret key\n"
    "RWQAAEIyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA0VnNA0fnXcFU+Ld+"
    "x2Qbk71ZUvgw0D7D/"
    "bW8Zs+PU97J/"
    "WiJtTqnl+TD5Bdc34If5DjcnLPfBvcecjBy18x3WaKgNCDxTjP6AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
constexpr std::string_view kKatMessage = "Ironstone known-answer message\n";
constexpr std::string_view kKatTrustedComment =
    "board=rpi4 version=1.0.0 sequence=1 expires=2030-01-01T00:00:00Z";
constexpr std::string_view kKatSignature =
    "untrusted comment: signature from minisign secret key\n"
    "RUTRWc0DR+ddwVJ4nHls5fECndatKzuJihMjT6qAbP+9yuirIUL8Q/JX5suy+MUM3zVu2u3icwJhOhB28h7zsV2149InXAO8agc=\n"
    "trusted comment: board=rpi4 version=1.0.0 sequence=1 expires=2030-01-01T00:00:00Z\n"
    "r42PV9symiE6lK7/aKS8gLqOEjL2ioXOf9XpjuZF6U9Cv7qxbx0LOLd2hzb+SDdo7Aeo4lWf0vxNKVUUbxxFBg==\n";
constexpr std::string_view kMinisignUntrustedComment = "signature from minisign secret key";

constexpr std::string_view kSource = "release/manifest.json.minisig";

[[maybe_unused]] const bool kCryptoReady = (init_crypto(), true);

std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::vector<std::uint8_t> from_base64(const std::string& text) {
  std::vector<std::uint8_t> out(text.size());
  std::size_t len = 0;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    ADD_FAILURE() << "test input is not base64: " << text;
  }
  out.resize(len);
  return out;
}

std::string to_base64(std::span<const std::uint8_t> bin) {
  std::string out(sodium_base64_ENCODED_LEN(bin.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), bin.data(), bin.size(), sodium_base64_VARIANT_ORIGINAL);
  out.pop_back();
  return out;
}

// Lines without their "\n"; a text ending in "\n" has an empty last element.
std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t nl; (nl = text.find('\n', start)) != std::string_view::npos; start = nl + 1) {
    lines.emplace_back(text.substr(start, nl - start));
  }
  lines.emplace_back(text.substr(start));
  return lines;
}

std::string join_lines(const std::vector<std::string>& lines, std::string_view eol = "\n") {
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) out += (i ? std::string(eol) : "") + lines[i];
  return out;
}

std::string replace_line(std::string_view text, std::size_t index, const std::string& line) {
  auto lines = split_lines(text);
  lines.at(index) = line;
  return join_lines(lines);
}

// Decodes base64 line `index`, lets `edit` change the bytes, re-encodes.
template <class Edit>
std::string edit_blob(std::string_view text, std::size_t index, Edit edit) {
  auto blob = from_base64(split_lines(text).at(index));
  edit(blob);
  return replace_line(text, index, to_base64(blob));
}

std::string flip_blob_byte(std::string_view text, std::size_t index, std::size_t byte) {
  return edit_blob(text, index, [byte](std::vector<std::uint8_t>& b) { b.at(byte) ^= 0x01; });
}

std::array<std::uint8_t, 32> checksum_of(const SecretKey& key) {
  std::array<std::uint8_t, 32> out{};
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, out.size());
  crypto_generichash_update(&st, reinterpret_cast<const std::uint8_t*>("Ed"), 2);
  crypto_generichash_update(&st, key.id.bytes.data(), key.id.bytes.size());
  crypto_generichash_update(&st, key.key.data(), key.key.size());
  crypto_generichash_final(&st, out.data(), out.size());
  return out;
}

void store_le64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

// A scrypt-encrypted secret key file built the way minisign builds one, with chosen limits.
std::string encrypted_secret_key(const SecretKey& key, std::string_view password, std::uint64_t opslimit,
                                 std::uint64_t memlimit) {
  std::vector<std::uint8_t> blob(158, 0);
  std::memcpy(blob.data(), "EdScB2", 6);
  randombytes_buf(blob.data() + 6, 32);
  store_le64(blob.data() + 38, opslimit);
  store_le64(blob.data() + 46, memlimit);
  std::memcpy(blob.data() + 54, key.id.bytes.data(), 8);
  std::memcpy(blob.data() + 62, key.key.data(), 64);
  const auto chk = checksum_of(key);
  std::memcpy(blob.data() + 126, chk.data(), 32);
  if (opslimit <= crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE &&
      memlimit <= crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_SENSITIVE) {
    std::vector<std::uint8_t> stream(104);
    EXPECT_EQ(crypto_pwhash_scryptsalsa208sha256(stream.data(), stream.size(), password.data(),
                                                 password.size(), blob.data() + 6, opslimit, memlimit),
              0);
    for (std::size_t i = 0; i < stream.size(); ++i) blob[54 + i] ^= stream[i];
  }
  return "untrusted comment: minisign encrypted secret key\n" + to_base64(blob) + "\n";
}

// A legacy ("Ed") signature: Ed25519 over the message itself.
std::string legacy_signature(const SecretKey& key, std::string_view message, std::string_view comment) {
  std::vector<std::uint8_t> blob(74);
  std::memcpy(blob.data(), "Ed", 2);
  std::memcpy(blob.data() + 2, key.id.bytes.data(), 8);
  crypto_sign_detached(blob.data() + 10, nullptr, as_bytes(message).data(), message.size(), key.key.data());
  std::vector<std::uint8_t> global_input(blob.begin() + 10, blob.end());
  global_input.insert(global_input.end(), comment.begin(), comment.end());
  std::array<std::uint8_t, 64> global{};
  crypto_sign_detached(global.data(), nullptr, global_input.data(), global_input.size(), key.key.data());
  return "untrusted comment: legacy\n" + to_base64(blob) + "\ntrusted comment: " + std::string(comment) +
         "\n" + to_base64(global) + "\n";
}

// ---------------------------------------------------------------------------------------------
// Known-answer vectors from the real minisign.

TEST(MinisignKnownAnswer, MinisignPublicKeyParsesAndReserializesByteForByte) {
  init_crypto();
  const PublicKey pk = parse_public_key(kKatPublicKey, "kat.pub");
  EXPECT_EQ(pk.id.hex(), "C15DE74703CD59D1");
  EXPECT_EQ(serialize_public_key(pk), kKatPublicKey);
}

TEST(MinisignKnownAnswer, MinisignUnencryptedSecretKeyWithZeroChecksumParsesToTheSameKeyPair) {
  const SecretKey sk = parse_secret_key(kKatSecretKey, "kat.key");
  EXPECT_EQ(sk.id.hex(), "C15DE74703CD59D1");
  const PublicKey pk = parse_public_key(kKatPublicKey, "kat.pub");
  EXPECT_EQ(sk.public_key().id, pk.id);
  EXPECT_EQ(sk.public_key().key, pk.key);
}

TEST(MinisignKnownAnswer, MinisignSignatureVerifiesAndYieldsTheTrustedComment) {
  const PublicKey pk = parse_public_key(kKatPublicKey, "kat.pub");
  const Signature sig = parse_signature(kKatSignature, "kat.txt.minisig");
  EXPECT_TRUE(sig.prehashed);
  EXPECT_EQ(sig.key_id, pk.id);
  EXPECT_EQ(sig.trusted_comment, kKatTrustedComment);
  EXPECT_EQ(verify(std::span(&pk, 1), as_bytes(kKatMessage), sig, "kat.txt.minisig"), kKatTrustedComment);
}

TEST(MinisignKnownAnswer, SigningWithTheEmbeddedSecretKeyReproducesMinisignsSignatureExactly) {
  const SecretKey sk = parse_secret_key(kKatSecretKey, "kat.key");
  EXPECT_EQ(sign(sk, as_bytes(kKatMessage), kKatTrustedComment, kMinisignUntrustedComment), kKatSignature);
}

TEST(MinisignKnownAnswer, KeyIdHexIsTheLittleEndianNumberInUpperCase) {
  const KeyId id{{0xB7, 0xA3, 0xF1, 0xE9, 0xC8, 0xC1, 0xC5, 0xD2}};
  EXPECT_EQ(id.hex(), "D2C5C1C8E9F1A3B7");
}

TEST(MinisignKnownAnswer, BarePublicKeyLineIsAcceptedAsMinisignDashP) {
  const PublicKey file = parse_public_key(kKatPublicKey, "kat.pub");
  const PublicKey bare = parse_public_key("RWTRWc0DR+ddweTD5Bdc34If5DjcnLPfBvcecjBy18x3WaKgNCDxTjP6", "-P");
  EXPECT_EQ(bare.id, file.id);
  EXPECT_EQ(bare.key, file.key);
  EXPECT_EQ(parse_public_key("RWTRWc0DR+ddweTD5Bdc34If5DjcnLPfBvcecjBy18x3WaKgNCDxTjP6\n", "-P").key,
            file.key);
}

// ---------------------------------------------------------------------------------------------
// Keys.

TEST(MinisignKeys, GeneratedKeysRoundTripThroughTheirFiles) {
  const SecretKey sk = generate_secret_key();
  const SecretKey parsed = parse_secret_key(serialize_secret_key(sk), "ironstone.key");
  EXPECT_EQ(parsed.id, sk.id);
  EXPECT_EQ(parsed.key, sk.key);
  const PublicKey pk = parse_public_key(serialize_public_key(sk.public_key()), "ironstone.pub");
  EXPECT_EQ(pk.id, sk.id);
  EXPECT_EQ(pk.key, sk.public_key().key);
  EXPECT_NE(generate_secret_key().id, sk.id);
}

TEST(MinisignKeys, SecretKeyWithCorruptChecksumIsRejected) {
  const std::string text = flip_blob_byte(serialize_secret_key(generate_secret_key()), 1, 130);
  EXPECT_ERROR_HAS(parse_secret_key(text, "k.key"), Errc::kSignature,
                   "k.key: line 2: secret key checksum mismatch");
}

TEST(MinisignKeys, SecretKeyWhosePublicHalfDoesNotBelongToItsSeedIsRejected) {
  SecretKey sk = generate_secret_key();
  sk.key[40] ^= 0x01;  // public half, checksum recomputed over the damaged key
  const std::string text = edit_blob(serialize_secret_key(generate_secret_key()), 1, [&](auto& blob) {
    std::memcpy(blob.data() + 54, sk.id.bytes.data(), 8);
    std::memcpy(blob.data() + 62, sk.key.data(), 64);
    const auto chk = checksum_of(sk);
    std::memcpy(blob.data() + 126, chk.data(), 32);
  });
  EXPECT_ERROR_HAS(parse_secret_key(text, "k.key"), Errc::kField,
                   "k.key: line 2: secret key does not match its public half");
}

TEST(MinisignKeys, SecretKeyWithUnknownAlgorithmsIsRejected) {
  const std::string text = serialize_secret_key(generate_secret_key());
  auto with = [&](std::size_t offset, const char* tag) {
    return edit_blob(text, 1, [&](auto& blob) { std::memcpy(blob.data() + offset, tag, 2); });
  };
  EXPECT_ERROR_HAS(parse_secret_key(with(0, "ED"), "k"), Errc::kField, "line 2: unsupported signature");
  EXPECT_ERROR_HAS(parse_secret_key(with(2, "Ar"), "k"), Errc::kField, "unsupported key derivation");
  EXPECT_ERROR_HAS(parse_secret_key(with(4, "B3"), "k"), Errc::kField, "unsupported checksum");
}

TEST(MinisignKeys, SecretKeyWithoutItsCommentLineIsRejected) {
  const std::string text = serialize_secret_key(generate_secret_key());
  EXPECT_ERROR_HAS(parse_secret_key(split_lines(text)[1], "k.key"), Errc::kParse,
                   "k.key: line 1: untrusted comment must start with \"untrusted comment: \"");
}

TEST(MinisignKeys, EncryptedSecretKeyDecryptsWithTheRightPassword) {
  const SecretKey sk = generate_secret_key();
  const std::string text =
      encrypted_secret_key(sk, "correct horse", crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_MIN,
                           crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_MIN);
  const SecretKey parsed = parse_secret_key(text, "k.key", "correct horse");
  EXPECT_EQ(parsed.id, sk.id);
  EXPECT_EQ(parsed.key, sk.key);
}

TEST(MinisignKeys, EncryptedSecretKeyWithWrongPasswordFailsTheChecksum) {
  const std::string text = encrypted_secret_key(generate_secret_key(), "correct horse",
                                                crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_MIN,
                                                crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_MIN);
  EXPECT_ERROR_HAS(parse_secret_key(text, "k.key", "battery staple"), Errc::kSignature,
                   "k.key: line 2: wrong password for the secret key");
  EXPECT_ERROR_HAS(parse_secret_key(text, "k.key", ""), Errc::kSignature, "wrong password");
}

TEST(MinisignKeys, EncryptedSecretKeyWithoutPasswordAsksForOne) {
  const std::string text = encrypted_secret_key(generate_secret_key(), "pw", ~0ull, ~0ull);
  EXPECT_ERROR_HAS(parse_secret_key(text, "k.key"), Errc::kField,
                   "k.key: line 2: secret key is encrypted: set a password");
}

TEST(MinisignKeys, EncryptedSecretKeyWithExcessiveScryptLimitsIsRejectedBeforeDeriving) {
  const auto sensitive_ops = crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE;
  const auto sensitive_mem = crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_SENSITIVE;
  const SecretKey sk = generate_secret_key();
  EXPECT_ERROR_HAS(parse_secret_key(encrypted_secret_key(sk, "pw", 1, ~0ull), "k", "pw"), Errc::kField,
                   "scrypt limits out of range");
  EXPECT_ERROR_HAS(parse_secret_key(encrypted_secret_key(sk, "pw", sensitive_ops + 1, 1), "k", "pw"),
                   Errc::kField, "scrypt limits out of range");
  EXPECT_ERROR_HAS(parse_secret_key(encrypted_secret_key(sk, "pw", 1, sensitive_mem * 2), "k", "pw"),
                   Errc::kField, "scrypt limits out of range");
}

TEST(MinisignKeys, PublicKeyWithSignatureAlgorithmTagIsRejected) {
  const std::string text = edit_blob(kKatPublicKey, 1, [](auto& b) { std::memcpy(b.data(), "ED", 2); });
  EXPECT_ERROR_HAS(parse_public_key(text, "keys/a.pub"), Errc::kField,
                   "keys/a.pub: line 2: unsupported signature algorithm");
}

TEST(MinisignKeys, PublicKeyWithExtraLineIsRejected) {
  EXPECT_ERROR_HAS(parse_public_key(std::string(kKatPublicKey) + "RWQ=\n", "keys/a.pub"), Errc::kParse,
                   "keys/a.pub: line 3: unexpected content after the public key");
}

TEST(MinisignKeys, PublicKeyThatIsNotBase64IsRejected) {
  EXPECT_ERROR_HAS(parse_public_key("untrusted comment: x\nnot a key!\n", "keys/a.pub"), Errc::kParse,
                   "keys/a.pub: line 2: public key is not base64");
  EXPECT_ERROR_HAS(parse_public_key("RWTRWc0DR+ddweTD5Bdc34If5DjcnLPfBvcecjBy18x3WaKgNCDxTjP", "-P"),
                   Errc::kParse, "-P: line 1: public key is not base64");
  EXPECT_ERROR_HAS(parse_public_key("RWTRWc0D", "-P"), Errc::kParse,
                   "-P: line 1: public key has the wrong length (6 bytes, expected 42)");
}

TEST(MinisignKeys, EmptyInputIsRejectedByEveryParser) {
  EXPECT_ERROR_HAS(parse_public_key("", "a.pub"), Errc::kParse, "a.pub: line 1: missing public key");
  EXPECT_ERROR_HAS(parse_secret_key("", "a.key"), Errc::kParse,
                   "a.key: line 1: missing untrusted comment");
  EXPECT_ERROR_HAS(parse_signature("", "a.minisig"), Errc::kParse, "a.minisig: line 1: missing");
}

TEST(MinisignKeys, EveryTruncationOfAKeyFileIsRejected) {
  const std::string pub(kKatPublicKey), sec(kKatSecretKey);
  for (std::size_t n = 0; n + 1 < pub.size(); ++n) {
    EXPECT_THROW(parse_public_key(pub.substr(0, n), "a.pub"), Error) << n;
  }
  for (std::size_t n = 0; n + 1 < sec.size(); ++n) {
    EXPECT_ERROR_HAS(parse_secret_key(sec.substr(0, n), "a.key"), Errc::kParse, "a.key: line ");
  }
}

// ---------------------------------------------------------------------------------------------
// Signing and the tamper matrix.

class MinisignTamper : public ::testing::Test {
 protected:
  void SetUp() override {
    init_crypto();
    key_ = generate_secret_key();
    trusted_ = {key_.public_key()};
    message_ = ::ironstone::testing::pseudo_random(10000, 42);
    text_ = sign(key_, message_, kComment);
  }

  // Parses and verifies `text` against message_ with the trusted key; returns the comment.
  std::string check(std::string_view text) const { return check(text, message_); }
  std::string check(std::string_view text, const std::vector<std::uint8_t>& message) const {
    return verify(trusted_, message, parse_signature(text, kSource), kSource);
  }

  static constexpr std::string_view kComment = "board=rpi4 version=2.0.0 sequence=7";
  SecretKey key_;
  std::vector<PublicKey> trusted_;
  std::vector<std::uint8_t> message_;
  std::string text_;
};

TEST_F(MinisignTamper, UntamperedSignatureVerifies) {
  EXPECT_EQ(check(text_), kComment);
  const auto lines = split_lines(text_);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0], "untrusted comment: signature from ironstone secret key");
  EXPECT_EQ(lines[2], "trusted comment: " + std::string(kComment));
  EXPECT_EQ(lines[4], "");
  EXPECT_TRUE(parse_signature(text_, kSource).prehashed);
}

TEST_F(MinisignTamper, SignatureWithFlippedMessageByteIsRejected) {
  auto message = message_;
  message[5000] ^= 0x80;
  EXPECT_ERROR_HAS(check(text_, message), Errc::kSignature,
                   "release/manifest.json.minisig: signature does not match the message");
}

TEST_F(MinisignTamper, SignatureWithFlippedSignatureByteIsRejected) {
  EXPECT_ERROR_HAS(check(flip_blob_byte(text_, 1, 40)), Errc::kSignature,
                   "signature does not match the message");
}

TEST_F(MinisignTamper, SignatureWithFlippedTrustedCommentIsRejected) {
  const std::string text = replace_line(text_, 2, "trusted comment: board=rpi4 version=2.0.0 sequence=8");
  EXPECT_ERROR_HAS(check(text), Errc::kSignature,
                   "release/manifest.json.minisig: trusted comment signature does not verify");
}

TEST_F(MinisignTamper, SignatureWithFlippedGlobalSignatureByteIsRejected) {
  EXPECT_ERROR_HAS(check(flip_blob_byte(text_, 3, 10)), Errc::kSignature,
                   "trusted comment signature does not verify");
}

TEST_F(MinisignTamper, SignatureWithAlteredKeyIdIsRejectedAsUnknownKey) {
  const std::string text = flip_blob_byte(text_, 1, 2);
  KeyId altered = key_.id;
  altered.bytes[0] ^= 0x01;
  EXPECT_ERROR_HAS(check(text), Errc::kUnknownKey,
                   "release/manifest.json.minisig: signed by unknown key " + altered.hex());
}

TEST_F(MinisignTamper, SignatureFromAnUntrustedKeyIsRejectedAsUnknownKey) {
  const SecretKey other = generate_secret_key();
  EXPECT_ERROR_HAS(check(sign(other, message_, kComment)), Errc::kUnknownKey,
                   "signed by unknown key " + other.id.hex());
  EXPECT_ERROR_HAS(verify({}, message_, parse_signature(text_, kSource), kSource), Errc::kUnknownKey,
                   "unknown key");
}

TEST_F(MinisignTamper, TrustedKeyWithTheSameIdButOtherKeyMaterialIsRejected) {
  SecretKey impostor = generate_secret_key();
  impostor.id = key_.id;
  EXPECT_ERROR_HAS(check(sign(impostor, message_, kComment)), Errc::kSignature,
                   "signature does not match the message (key " + key_.id.hex() + ")");
}

TEST_F(MinisignTamper, EveryTrustedKeyWithAMatchingIdIsTried) {
  PublicKey decoy = generate_secret_key().public_key();
  decoy.id = key_.id;
  const std::vector<PublicKey> trusted = {decoy, key_.public_key()};
  EXPECT_EQ(verify(trusted, message_, parse_signature(text_, kSource), kSource), kComment);
}

TEST_F(MinisignTamper, EveryTruncationOfTheSignatureFileIsRejected) {
  for (std::size_t n = 0; n + 1 < text_.size(); ++n) {
    SCOPED_TRACE(n);
    EXPECT_ERROR_HAS(parse_signature(text_.substr(0, n), kSource), Errc::kParse,
                     "release/manifest.json.minisig: line ");
  }
  const auto lines = split_lines(text_);
  EXPECT_ERROR_HAS(parse_signature(join_lines({lines[0], lines[1], lines[2], ""}), kSource),
                   Errc::kParse, "line 4: missing global signature (file is truncated)");
}

TEST_F(MinisignTamper, SignatureWithoutFinalNewlineIsAccepted) {
  EXPECT_EQ(check(text_.substr(0, text_.size() - 1)), kComment);
}

TEST_F(MinisignTamper, SignatureWithExtraLineIsRejected) {
  EXPECT_ERROR_HAS(
      parse_signature(text_ + "extra\n", kSource), Errc::kParse,
      "release/manifest.json.minisig: line 5: unexpected content after the global signature");
  EXPECT_ERROR_HAS(parse_signature(text_ + "\n", kSource), Errc::kParse, "line 5: unexpected content");
}

TEST_F(MinisignTamper, SignatureWithCrlfLineEndingsIsAcceptedLikeMinisign) {
  const std::string crlf = join_lines(split_lines(text_), "\r\n");
  EXPECT_EQ(check(crlf), kComment);  // the '\r' is not part of the signed comment
}

TEST_F(MinisignTamper, SignatureWithStrayCarriageReturnIsRejected) {
  const std::string text = replace_line(text_, 2, "trusted comment: board=rpi4\r version=2.0.0 sequence=7");
  EXPECT_ERROR_HAS(parse_signature(text, kSource), Errc::kParse,
                   "release/manifest.json.minisig: line 3: stray carriage return");
}

TEST_F(MinisignTamper, SignatureWithNulByteInTrustedCommentIsRejected) {
  const std::string text = replace_line(text_, 2, std::string("trusted comment: board=rpi4\0x", 29));
  EXPECT_ERROR_HAS(parse_signature(text, kSource), Errc::kParse, "line 3: NUL byte");
}

TEST_F(MinisignTamper, SignatureThatIsNotBase64IsRejected) {
  std::string line = split_lines(text_)[1];
  line[50] = '!';
  EXPECT_ERROR_HAS(parse_signature(replace_line(text_, 1, line), kSource), Errc::kParse,
                   "release/manifest.json.minisig: line 2: signature is not base64");
  EXPECT_ERROR_HAS(parse_signature(replace_line(text_, 1, " " + split_lines(text_)[1]), kSource),
                   Errc::kParse, "line 2: signature is not base64");
  EXPECT_ERROR_HAS(parse_signature(replace_line(text_, 3, split_lines(text_)[3] + "="), kSource),
                   Errc::kParse, "line 4: global signature is not base64");
}

TEST_F(MinisignTamper, NonCanonicalBase64IsRejected) {
  // "...==" encodes one byte; its 4 unused trailing bits must be zero.
  std::string line = split_lines(text_)[3];
  ASSERT_TRUE(line.ends_with("=="));
  char& last = line[line.size() - 3];
  ASSERT_NE(std::string_view("AQgw").find(last), std::string_view::npos);
  ++last;  // B, R, h or x: same first 2 bits, a nonzero unused bit
  EXPECT_ERROR_HAS(parse_signature(replace_line(text_, 3, line), kSource), Errc::kParse,
                   "line 4: global signature is not base64");
}

TEST_F(MinisignTamper, SignatureOfTheWrongLengthIsRejected) {
  const std::string text = edit_blob(text_, 1, [](auto& b) { b.pop_back(); });
  EXPECT_ERROR_HAS(parse_signature(text, kSource), Errc::kParse,
                   "line 2: signature has the wrong length (73 bytes, expected 74)");
}

TEST_F(MinisignTamper, SignatureWithUnsupportedAlgorithmIsRejected) {
  const std::string text = edit_blob(text_, 1, [](auto& b) { std::memcpy(b.data(), "Ex", 2); });
  EXPECT_ERROR_HAS(parse_signature(text, kSource), Errc::kField,
                   "line 2: unsupported signature algorithm (expected \"ED\" or \"Ed\")");
}

TEST_F(MinisignTamper, SignatureWithoutCommentPrefixesIsRejected) {
  EXPECT_ERROR_HAS(parse_signature(replace_line(text_, 0, "untrusted: x"), kSource), Errc::kParse,
                   "line 1: untrusted comment must start with \"untrusted comment: \"");
  EXPECT_ERROR_HAS(parse_signature(replace_line(text_, 2, "Trusted comment: x"), kSource), Errc::kParse,
                   "line 3: trusted comment must start with \"trusted comment: \"");
}

TEST_F(MinisignTamper, OversizedInputIsRejectedBeforeParsing) {
  EXPECT_ERROR_HAS(parse_signature(text_ + std::string(kMaxMinisignFileBytes, 'x'), kSource),
                   Errc::kTooLarge, "release/manifest.json.minisig: file is too large");
  EXPECT_ERROR_HAS(parse_public_key(std::string(kMaxMinisignFileBytes + 1, 'A'), "a.pub"),
                   Errc::kTooLarge, "a.pub: file is too large");
  EXPECT_ERROR_HAS(parse_secret_key(std::string(kMaxMinisignFileBytes + 1, 'A'), "a.key"),
                   Errc::kTooLarge, "a.key: file is too large");
}

TEST_F(MinisignTamper, OverlongCommentsAreRejected) {
  const std::string long_trusted = "trusted comment: " + std::string(kMaxTrustedCommentBytes + 1, 'c');
  EXPECT_ERROR_HAS(parse_signature(replace_line(text_, 2, long_trusted), kSource), Errc::kTooLarge,
                   "line 3: trusted comment is too long (8174 bytes, limit 8173)");
  const std::string long_untrusted = "untrusted comment: " + std::string(kMaxUntrustedCommentBytes + 1, 'u');
  EXPECT_ERROR_HAS(parse_signature(replace_line(text_, 0, long_untrusted), kSource), Errc::kTooLarge,
                   "line 1: untrusted comment is too long");
}

TEST_F(MinisignTamper, LongestAllowedCommentsRoundTrip) {
  const std::string trusted(kMaxTrustedCommentBytes, 't');
  const std::string untrusted(kMaxUntrustedCommentBytes, 'u');
  EXPECT_EQ(check(sign(key_, message_, trusted, untrusted)), trusted);
}

TEST_F(MinisignTamper, SigningRejectsCommentsThatCannotRoundTrip) {
  EXPECT_THROW(sign(key_, message_, "two\nlines"), std::invalid_argument);
  EXPECT_THROW(sign(key_, message_, "carriage\rreturn"), std::invalid_argument);
  EXPECT_THROW(sign(key_, message_, std::string_view("nul\0byte", 8)), std::invalid_argument);
  EXPECT_THROW(sign(key_, message_, std::string(kMaxTrustedCommentBytes + 1, 'x')), std::invalid_argument);
  EXPECT_THROW(sign(key_, message_, "ok", "two\nlines"), std::invalid_argument);
  EXPECT_THROW(sign(key_, message_, "ok", std::string(kMaxUntrustedCommentBytes + 1, 'x')),
               std::invalid_argument);
}

TEST_F(MinisignTamper, LegacySignatureOverTheRawMessageIsAccepted) {
  const std::string msg = "legacy message";
  const Signature sig = parse_signature(legacy_signature(key_, msg, "old"), kSource);
  EXPECT_FALSE(sig.prehashed);
  EXPECT_EQ(verify(trusted_, as_bytes(msg), sig, kSource), "old");
  EXPECT_ERROR_HAS(verify(trusted_, as_bytes("legacy messagE"), sig, kSource), Errc::kSignature,
                   "signature does not match the message");
}

TEST_F(MinisignTamper, PrehashedAndLegacyModesAreNotInterchangeable) {
  // The same Ed25519 signature relabelled "Ed" is checked against the raw message and fails.
  const std::string text = edit_blob(text_, 1, [](auto& b) { std::memcpy(b.data(), "Ed", 2); });
  EXPECT_ERROR_HAS(check(text), Errc::kSignature, "signature does not match the message");
}

// ---------------------------------------------------------------------------------------------
// Interop with the installed minisign binary, both directions.

bool have_minisign() { return run_command("command -v minisign") == 0; }

std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

#define SKIP_WITHOUT_MINISIGN() \
  if (!have_minisign()) GTEST_SKIP() << "the minisign binary is not installed (apt-get install minisign)"

class MinisignInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    init_crypto();
    message_ = ::ironstone::testing::pseudo_random(100000, 7);
    write_file(dir_ / "msg.bin", message_);
  }

  // `minisign -Vm msg.bin -x <sig> -p <pub>`; returns the exit status, output in *out.
  int minisign_verify(const std::string& sig_name, const std::string& pub_name, std::string* out) const {
    return run_command("minisign -Vm " + quoted(dir_ / "msg.bin") + " -x " + quoted(dir_ / sig_name) +
                           " -p " + quoted(dir_ / pub_name),
                       out);
  }

  // `minisign -G -W` into ms.pub / ms.key in the temp dir (fatal failure when it fails).
  void minisign_generate_unencrypted() const {
    std::string out;
    ASSERT_EQ(
        run_command("minisign -G -W -p " + quoted(dir_ / "ms.pub") + " -s " + quoted(dir_ / "ms.key"), &out),
        0)
        << out;
  }

  TempDir dir_;
  std::vector<std::uint8_t> message_;
};

TEST_F(MinisignInterop, OurSignatureVerifiesWithMinisignAndShowsOurTrustedComment) {
  SKIP_WITHOUT_MINISIGN();
  const SecretKey sk = generate_secret_key();
  write_text(dir_ / "our.pub", serialize_public_key(sk.public_key()));
  write_text(dir_ / "msg.bin.minisig", sign(sk, message_, "board=rpi4 version=3.1.4 sequence=9"));
  std::string out;
  EXPECT_EQ(minisign_verify("msg.bin.minisig", "our.pub", &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("Trusted comment: board=rpi4 version=3.1.4 sequence=9"));
}

TEST_F(MinisignInterop, OurLongestAllowedCommentsAreAcceptedByMinisign) {
  SKIP_WITHOUT_MINISIGN();
  const SecretKey sk = generate_secret_key();
  const std::string trusted(kMaxTrustedCommentBytes, 't');
  write_text(dir_ / "our.pub", serialize_public_key(sk.public_key()));
  write_text(dir_ / "long.minisig", sign(sk, message_, trusted, std::string(kMaxUntrustedCommentBytes, 'u')));
  std::string out;
  EXPECT_EQ(minisign_verify("long.minisig", "our.pub", &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("Trusted comment: " + trusted + "\n"));
}

TEST_F(MinisignInterop, MinisignRejectsOurSignatureOverATamperedMessage) {
  SKIP_WITHOUT_MINISIGN();
  const SecretKey sk = generate_secret_key();
  write_text(dir_ / "our.pub", serialize_public_key(sk.public_key()));
  auto other = message_;
  other[0] ^= 1;
  write_text(dir_ / "other.minisig", sign(sk, other, "tampered"));
  std::string out;
  EXPECT_NE(minisign_verify("other.minisig", "our.pub", &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("Signature verification failed"));
}

TEST_F(MinisignInterop, OurCrlfSignatureVerifiesWithMinisignToo) {
  SKIP_WITHOUT_MINISIGN();
  const SecretKey sk = generate_secret_key();
  const PublicKey pk = sk.public_key();
  const std::string crlf = join_lines(split_lines(sign(sk, message_, "crlf comment")), "\r\n");
  write_text(dir_ / "our.pub", join_lines(split_lines(serialize_public_key(pk)), "\r\n"));
  write_text(dir_ / "crlf.minisig", crlf);
  std::string out;
  EXPECT_EQ(minisign_verify("crlf.minisig", "our.pub", &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("Trusted comment: crlf comment\n"));
  EXPECT_EQ(verify(std::span(&pk, 1), message_, parse_signature(crlf, "crlf.minisig"), "crlf.minisig"),
            "crlf comment");
}

TEST_F(MinisignInterop, MinisignSignatureVerifiesWithUsAndWeReproduceItExactly) {
  SKIP_WITHOUT_MINISIGN();
  ASSERT_NO_FATAL_FAILURE(minisign_generate_unencrypted());
  std::string out;
  ASSERT_EQ(run_command("minisign -Sm " + quoted(dir_ / "msg.bin") + " -s " + quoted(dir_ / "ms.key") +
                            " -t 'board=x86 version=0.0.1 sequence=1'",
                        &out),
            0)
      << out;
  const std::string sig_text = read_text(dir_ / "msg.bin.minisig");
  const PublicKey pk = parse_public_key(read_text(dir_ / "ms.pub"), "ms.pub");
  const Signature sig = parse_signature(sig_text, "msg.bin.minisig");
  EXPECT_TRUE(sig.prehashed);
  EXPECT_EQ(verify(std::span(&pk, 1), message_, sig, "msg.bin.minisig"),
            "board=x86 version=0.0.1 sequence=1");
  const SecretKey sk = parse_secret_key(read_text(dir_ / "ms.key"), "ms.key");
  EXPECT_EQ(sign(sk, message_, "board=x86 version=0.0.1 sequence=1", kMinisignUntrustedComment), sig_text);
}

TEST_F(MinisignInterop, MinisignLegacySignatureVerifiesWithUs) {
  SKIP_WITHOUT_MINISIGN();
  ASSERT_NO_FATAL_FAILURE(minisign_generate_unencrypted());
  std::string out;
  if (run_command("minisign -Sl -m " + quoted(dir_ / "msg.bin") + " -s " + quoted(dir_ / "ms.key") + " -x " +
                      quoted(dir_ / "legacy.minisig") + " -t legacy",
                  &out) != 0) {
    GTEST_SKIP() << "this minisign cannot sign in the legacy format (-l): " << out;
  }
  const PublicKey pk = parse_public_key(read_text(dir_ / "ms.pub"), "ms.pub");
  const Signature sig = parse_signature(read_text(dir_ / "legacy.minisig"), "legacy.minisig");
  EXPECT_FALSE(sig.prehashed);
  EXPECT_EQ(verify(std::span(&pk, 1), message_, sig, "legacy.minisig"), "legacy");
}

TEST_F(MinisignInterop, MinisignSignsWithOurSecretKeyFile) {
  SKIP_WITHOUT_MINISIGN();
  const SecretKey sk = generate_secret_key();
  write_text(dir_ / "our.key", serialize_secret_key(sk));
  std::string out;
  ASSERT_EQ(run_command("minisign -Sm " + quoted(dir_ / "msg.bin") + " -s " + quoted(dir_ / "our.key") +
                            " -t 'signed by minisign'",
                        &out),
            0)
      << out;
  const std::string sig_text = read_text(dir_ / "msg.bin.minisig");
  const PublicKey pk = sk.public_key();
  EXPECT_EQ(verify(std::span(&pk, 1), message_, parse_signature(sig_text, "m"), "m"), "signed by minisign");
  EXPECT_EQ(sign(sk, message_, "signed by minisign", kMinisignUntrustedComment), sig_text);
}

TEST_F(MinisignInterop, MinisignEncryptedSecretKeyNeedsTheRightPassword) {
  SKIP_WITHOUT_MINISIGN();
  std::string out;
  // minisign reads the password (twice) from stdin when stdin is not a terminal.
  if (run_command("printf 'hunter2 pw\\nhunter2 pw\\n' | minisign -G -p " + quoted(dir_ / "enc.pub") +
                      " -s " + quoted(dir_ / "enc.key"),
                  &out) != 0) {
    GTEST_SKIP() << "minisign did not take a password on stdin: " << out;
  }
  const std::string text = read_text(dir_ / "enc.key");
  const PublicKey pk = parse_public_key(read_text(dir_ / "enc.pub"), "enc.pub");
  const SecretKey sk = parse_secret_key(text, "enc.key", "hunter2 pw");
  EXPECT_EQ(sk.public_key().id, pk.id);
  EXPECT_EQ(sk.public_key().key, pk.key);
  EXPECT_ERROR_HAS(parse_secret_key(text, "enc.key", "hunter3 pw"), Errc::kSignature,
                   "enc.key: line 2: wrong password for the secret key");
  EXPECT_ERROR_HAS(parse_secret_key(text, "enc.key"), Errc::kField,
                   "enc.key: line 2: secret key is encrypted: set a password");
}

}  // namespace
}  // namespace ironstone::manifest
