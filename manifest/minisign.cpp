// minisign keys and signatures: see minisign.h for the formats and contracts.
#include "manifest/minisign.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace ironstone::manifest {
namespace {

constexpr std::string_view kUntrustedPrefix = "untrusted comment: ";
constexpr std::string_view kTrustedPrefix = "trusted comment: ";
constexpr std::string_view kAlgEd = "Ed";      // keys, and legacy signatures over the message itself
constexpr std::string_view kAlgHashed = "ED";  // signatures over BLAKE2b-512(message)
constexpr std::string_view kKdfScrypt = "Sc";
constexpr std::string_view kKdfNone{"\0\0", 2};
constexpr std::string_view kChecksumBlake2b = "B2";

constexpr std::size_t kPublicBlobBytes = 2 + 8 + 32;
constexpr std::size_t kSignatureBlobBytes = 2 + 8 + 64;

// Secret key blob: alg | kdf | chk alg | salt | opslimit | memlimit | key id | sk | checksum.
// The last three fields are XORed with the scrypt output when the key is encrypted.
namespace secret_layout {
constexpr std::size_t kKdf = 2, kChecksumAlg = 4, kSalt = 6, kOpslimit = 38, kMemlimit = 46, kKeyId = 54,
                      kKey = 62, kChecksum = 126, kSize = 158;
constexpr std::size_t kEncryptedBytes = kSize - kKeyId;
}  // namespace secret_layout

constexpr std::uint64_t kMaxScryptOpslimit = crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE;
constexpr std::uint64_t kMaxScryptMemlimit = crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_SENSITIVE;

using Bytes = std::span<const std::uint8_t>;

std::uint64_t load_le64(Bytes p) {
  std::uint64_t v = 0;
  for (std::size_t i = 8; i-- > 0;) v = v << 8 | p[i];
  return v;
}

bool bytes_equal(Bytes bytes, std::string_view text) {
  return bytes.size() == text.size() && std::memcmp(bytes.data(), text.data(), text.size()) == 0;
}

void put(std::span<std::uint8_t> out, std::size_t offset, std::string_view text) {
  std::memcpy(out.data() + offset, text.data(), text.size());
}

void put(std::span<std::uint8_t> out, std::size_t offset, Bytes bytes) {
  std::memcpy(out.data() + offset, bytes.data(), bytes.size());
}

std::string to_base64(Bytes bin) {
  std::string out(sodium_base64_ENCODED_LEN(bin.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), bin.data(), bin.size(), sodium_base64_VARIANT_ORIGINAL);
  out.pop_back();  // the terminating NUL
  return out;
}

// Splits untrusted text into lines. Every error names the source and the 1-based line.
// Lines end in "\n" or "\r\n"; the last one may lack its terminator.
class LineReader {
 public:
  LineReader(std::string_view text, std::string_view source) : text_(text), source_(source) {
    if (text.size() > kMaxMinisignFileBytes) {
      throw error(Errc::kTooLarge, std::string(source) + ": file is too large (" +
                                       std::to_string(text.size()) + " bytes, limit " +
                                       std::to_string(kMaxMinisignFileBytes) + ")");
    }
  }

  bool next_starts_with(std::string_view prefix) const { return text_.substr(pos_).starts_with(prefix); }
  int line() const { return line_; }

  // The next line without its terminator; `what` names it when it is missing.
  std::string_view next(std::string_view what) {
    ++line_;
    if (pos_ >= text_.size())
      throw fail(Errc::kParse, "missing " + std::string(what) + " (file is truncated)");
    const std::size_t newline = text_.find('\n', pos_);
    const std::size_t end = newline == std::string_view::npos ? text_.size() : newline;
    std::string_view line = text_.substr(pos_, end - pos_);
    pos_ = newline == std::string_view::npos ? text_.size() : newline + 1;
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.find('\r') != std::string_view::npos) throw fail(Errc::kParse, "stray carriage return");
    if (line.find('\0') != std::string_view::npos) throw fail(Errc::kParse, "NUL byte");
    return line;
  }

  void expect_end(std::string_view last) {
    if (pos_ < text_.size()) {
      throw error_at(line_ + 1, Errc::kParse, "unexpected content after " + std::string(last));
    }
  }

  Error fail(Errc code, const std::string& message) const { return error_at(line_, code, message); }
  Error error_at(int line, Errc code, const std::string& message) const {
    return error(code, std::string(source_) + ": line " + std::to_string(line) + ": " + message);
  }

 private:
  std::string_view text_;
  std::string_view source_;
  std::size_t pos_ = 0;
  int line_ = 0;
};

// Reads "<prefix><text>" and returns the text, at most max_bytes long.
std::string_view read_comment(LineReader& reader, std::string_view prefix, std::size_t max_bytes,
                              std::string_view what) {
  const std::string_view line = reader.next(what);
  if (!line.starts_with(prefix)) {
    throw reader.fail(Errc::kParse, std::string(what) + " must start with \"" + std::string(prefix) + "\"");
  }
  const std::string_view text = line.substr(prefix.size());
  if (text.size() > max_bytes) {
    throw reader.fail(Errc::kTooLarge, std::string(what) + " is too long (" + std::to_string(text.size()) +
                                           " bytes, limit " + std::to_string(max_bytes) + ")");
  }
  return text;
}

// Decodes the next line (canonical, padded base64) into exactly out.size() bytes.
void read_base64(LineReader& reader, std::string_view what, std::span<std::uint8_t> out) {
  const std::string_view line = reader.next(what);
  std::vector<std::uint8_t> buf(line.size() / 4 * 3 + 3);  // line is bounded by the file size
  std::size_t len = 0;
  const char* end = nullptr;
  const int rc = sodium_base642bin(buf.data(), buf.size(), line.data(), line.size(), nullptr, &len, &end,
                                   sodium_base64_VARIANT_ORIGINAL);
  const bool ok = rc == 0 && end == line.data() + line.size();
  if (ok && len == out.size()) std::memcpy(out.data(), buf.data(), len);
  sodium_memzero(buf.data(), buf.size());
  if (!ok) throw reader.fail(Errc::kParse, std::string(what) + " is not base64");
  if (len != out.size()) {
    throw reader.fail(Errc::kParse, std::string(what) + " has the wrong length (" + std::to_string(len) +
                                        " bytes, expected " + std::to_string(out.size()) + ")");
  }
}

std::array<std::uint8_t, 32> secret_checksum(const KeyId& id, Bytes key) {
  std::array<std::uint8_t, 32> out{};
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, out.size());
  crypto_generichash_update(&state, reinterpret_cast<const std::uint8_t*>(kAlgEd.data()), kAlgEd.size());
  crypto_generichash_update(&state, id.bytes.data(), id.bytes.size());
  crypto_generichash_update(&state, key.data(), key.size());
  crypto_generichash_final(&state, out.data(), out.size());
  return out;
}

// The decoded secret key blob; wiped when it goes out of scope.
struct SecretBlob {
  std::array<std::uint8_t, secret_layout::kSize> bytes{};
  ~SecretBlob() { sodium_memzero(bytes.data(), bytes.size()); }
  Bytes field(std::size_t offset, std::size_t size) const { return Bytes(bytes).subspan(offset, size); }
};

// Checks the algorithm tags; returns true when the key is scrypt-encrypted.
bool check_secret_algorithms(const SecretBlob& blob, const LineReader& reader, int line) {
  if (!bytes_equal(blob.field(0, 2), kAlgEd)) {
    throw reader.error_at(line, Errc::kField, "unsupported signature algorithm (expected \"Ed\")");
  }
  if (!bytes_equal(blob.field(secret_layout::kChecksumAlg, 2), kChecksumBlake2b)) {
    throw reader.error_at(line, Errc::kField, "unsupported checksum algorithm (expected \"B2\")");
  }
  const Bytes kdf = blob.field(secret_layout::kKdf, 2);
  if (bytes_equal(kdf, kKdfScrypt)) return true;
  if (bytes_equal(kdf, kKdfNone)) return false;
  throw reader.error_at(line, Errc::kField, "unsupported key derivation function (expected \"Sc\" or none)");
}

void decrypt_secret(SecretBlob& blob, std::string_view password, const LineReader& reader, int line) {
  const std::uint64_t opslimit = load_le64(blob.field(secret_layout::kOpslimit, 8));
  const std::uint64_t memlimit = load_le64(blob.field(secret_layout::kMemlimit, 8));
  if (opslimit > kMaxScryptOpslimit || memlimit > kMaxScryptMemlimit) {
    throw reader.error_at(line, Errc::kField,
                          "scrypt limits out of range (opslimit " + std::to_string(opslimit) + ", memlimit " +
                              std::to_string(memlimit) + ")");
  }
  std::array<std::uint8_t, secret_layout::kEncryptedBytes> stream{};
  const char* pw = password.empty() ? "" : password.data();
  if (crypto_pwhash_scryptsalsa208sha256(stream.data(), stream.size(), pw, password.size(),
                                         blob.bytes.data() + secret_layout::kSalt, opslimit,
                                         static_cast<std::size_t>(memlimit)) != 0) {
    throw reader.error_at(line, Errc::kField, "scrypt key derivation failed (out of memory?)");
  }
  for (std::size_t i = 0; i < stream.size(); ++i) blob.bytes[secret_layout::kKeyId + i] ^= stream[i];
  sodium_memzero(stream.data(), stream.size());
}

// Checks the checksum and that the public half of the key belongs to its seed.
void check_secret_key(const SecretKey& key, const SecretBlob& blob, bool encrypted, const LineReader& reader,
                      int line) {
  const Bytes stored = blob.field(secret_layout::kChecksum, 32);
  const bool all_zero = std::all_of(stored.begin(), stored.end(), [](std::uint8_t b) { return b == 0; });
  auto computed = secret_checksum(key.id, key.key);
  const bool match = sodium_memcmp(computed.data(), stored.data(), computed.size()) == 0;
  if (!match && (encrypted || !all_zero)) {
    throw reader.error_at(
        line, Errc::kSignature,
        encrypted ? "wrong password for the secret key (checksum mismatch)" : "secret key checksum mismatch");
  }
  std::array<std::uint8_t, crypto_sign_PUBLICKEYBYTES> pk{};
  std::array<std::uint8_t, crypto_sign_SECRETKEYBYTES> sk{};
  crypto_sign_seed_keypair(pk.data(), sk.data(), key.key.data());
  const bool consistent = sodium_memcmp(sk.data(), key.key.data(), sk.size()) == 0;
  sodium_memzero(sk.data(), sk.size());
  if (!consistent) throw reader.error_at(line, Errc::kField, "secret key does not match its public half");
}

// One line (no '\n', '\r' or NUL) of at most max_bytes, else std::invalid_argument.
void check_comment_argument(std::string_view comment, std::size_t max_bytes, std::string_view what) {
  if (comment.find_first_of(std::string_view("\n\r\0", 3)) != std::string_view::npos) {
    throw std::invalid_argument(std::string(what) + " must be one line without NUL bytes");
  }
  if (comment.size() > max_bytes) {
    throw std::invalid_argument(std::string(what) + " is too long (" + std::to_string(comment.size()) +
                                " bytes, limit " + std::to_string(max_bytes) + ")");
  }
}

std::array<std::uint8_t, crypto_generichash_BYTES_MAX> blake2b512(Bytes message) {
  std::array<std::uint8_t, crypto_generichash_BYTES_MAX> out{};
  crypto_generichash(out.data(), out.size(), message.data(), message.size(), nullptr, 0);
  return out;
}

std::vector<std::uint8_t> sig_and_comment(const std::array<std::uint8_t, 64>& sig, std::string_view comment) {
  std::vector<std::uint8_t> out(sig.begin(), sig.end());
  out.insert(out.end(), comment.begin(), comment.end());
  return out;
}

// Empty when `key` verifies both signatures, else why not.
std::optional<std::string> check_with_key(const PublicKey& key, Bytes message, const Signature& sig) {
  const auto prehash = sig.prehashed ? blake2b512(message) : std::array<std::uint8_t, 64>{};
  const Bytes signed_bytes = sig.prehashed ? Bytes(prehash) : message;
  if (crypto_sign_verify_detached(sig.sig.data(), signed_bytes.data(), signed_bytes.size(), key.key.data()) !=
      0) {
    return "signature does not match the message (key " + key.id.hex() + ")";
  }
  const auto global = sig_and_comment(sig.sig, sig.trusted_comment);
  if (crypto_sign_verify_detached(sig.global_sig.data(), global.data(), global.size(), key.key.data()) != 0) {
    return "trusted comment signature does not verify (key " + key.id.hex() + ")";
  }
  return std::nullopt;
}

}  // namespace

std::string KeyId::hex() const {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (std::size_t i = bytes.size(); i-- > 0;) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 0xF];
  }
  return out;
}

PublicKey SecretKey::public_key() const {
  PublicKey pk;
  pk.id = id;
  std::copy(key.begin() + 32, key.end(), pk.key.begin());
  return pk;
}

SecretKey generate_secret_key() {
  init_crypto();
  SecretKey key;
  randombytes_buf(key.id.bytes.data(), key.id.bytes.size());
  std::array<std::uint8_t, crypto_sign_PUBLICKEYBYTES> pk{};
  crypto_sign_keypair(pk.data(), key.key.data());
  return key;
}

std::string serialize_public_key(const PublicKey& key) {
  std::array<std::uint8_t, kPublicBlobBytes> blob{};
  put(blob, 0, kAlgEd);
  put(blob, 2, key.id.bytes);
  put(blob, 10, key.key);
  return std::string(kUntrustedPrefix) + "minisign public key " + key.id.hex() + "\n" + to_base64(blob) +
         "\n";
}

PublicKey parse_public_key(std::string_view text, std::string_view source) {
  LineReader reader(text, source);
  if (reader.next_starts_with(kUntrustedPrefix)) {
    read_comment(reader, kUntrustedPrefix, kMaxUntrustedCommentBytes, "untrusted comment");
  }
  std::array<std::uint8_t, kPublicBlobBytes> blob{};
  read_base64(reader, "public key", blob);
  if (!bytes_equal(Bytes(blob).first(2), kAlgEd)) {
    throw reader.fail(Errc::kField, "unsupported signature algorithm (expected \"Ed\")");
  }
  reader.expect_end("the public key");
  PublicKey key;
  std::copy_n(blob.begin() + 2, 8, key.id.bytes.begin());
  std::copy_n(blob.begin() + 10, 32, key.key.begin());
  return key;
}

// Writes the real checksum (minisign -G -W writes zeros; both are accepted everywhere).
std::string serialize_secret_key(const SecretKey& key) {
  SecretBlob blob;
  put(blob.bytes, 0, kAlgEd);
  put(blob.bytes, secret_layout::kKdf, kKdfNone);
  put(blob.bytes, secret_layout::kChecksumAlg, kChecksumBlake2b);
  put(blob.bytes, secret_layout::kKeyId, key.id.bytes);
  put(blob.bytes, secret_layout::kKey, key.key);
  put(blob.bytes, secret_layout::kChecksum, secret_checksum(key.id, key.key));
  return std::string(kUntrustedPrefix) + "ironstone secret key " + key.id.hex() + " (unencrypted)\n" +
         to_base64(blob.bytes) + "\n";
}

SecretKey parse_secret_key(std::string_view text, std::string_view source,
                           std::optional<std::string_view> password) {
  init_crypto();
  LineReader reader(text, source);
  read_comment(reader, kUntrustedPrefix, kMaxUntrustedCommentBytes, "untrusted comment");
  SecretBlob blob;
  read_base64(reader, "secret key", blob.bytes);
  const int line = reader.line();
  reader.expect_end("the secret key");
  const bool encrypted = check_secret_algorithms(blob, reader, line);
  if (encrypted) {
    if (!password) throw reader.error_at(line, Errc::kField, "secret key is encrypted: set a password");
    decrypt_secret(blob, *password, reader, line);
  }
  SecretKey key;
  std::copy_n(blob.bytes.begin() + secret_layout::kKeyId, 8, key.id.bytes.begin());
  std::copy_n(blob.bytes.begin() + secret_layout::kKey, 64, key.key.begin());
  try {
    check_secret_key(key, blob, encrypted, reader, line);
  } catch (...) {
    sodium_memzero(key.key.data(), key.key.size());
    throw;
  }
  return key;
}

std::string sign(const SecretKey& key, std::span<const std::uint8_t> message,
                 std::string_view trusted_comment, std::string_view untrusted_comment) {
  check_comment_argument(trusted_comment, kMaxTrustedCommentBytes, "trusted comment");
  check_comment_argument(untrusted_comment, kMaxUntrustedCommentBytes, "untrusted comment");
  init_crypto();
  const auto prehash = blake2b512(message);
  std::array<std::uint8_t, 64> sig{};
  crypto_sign_detached(sig.data(), nullptr, prehash.data(), prehash.size(), key.key.data());
  std::array<std::uint8_t, kSignatureBlobBytes> blob{};
  put(blob, 0, kAlgHashed);
  put(blob, 2, key.id.bytes);
  put(blob, 10, sig);
  const auto global_input = sig_and_comment(sig, trusted_comment);
  std::array<std::uint8_t, 64> global{};
  crypto_sign_detached(global.data(), nullptr, global_input.data(), global_input.size(), key.key.data());
  return std::string(kUntrustedPrefix) + std::string(untrusted_comment) + "\n" + to_base64(blob) + "\n" +
         std::string(kTrustedPrefix) + std::string(trusted_comment) + "\n" + to_base64(global) + "\n";
}

Signature parse_signature(std::string_view text, std::string_view source) {
  LineReader reader(text, source);
  read_comment(reader, kUntrustedPrefix, kMaxUntrustedCommentBytes, "untrusted comment");
  std::array<std::uint8_t, kSignatureBlobBytes> blob{};
  read_base64(reader, "signature", blob);
  Signature sig;
  const Bytes alg = Bytes(blob).first(2);
  if (bytes_equal(alg, kAlgHashed)) {
    sig.prehashed = true;
  } else if (bytes_equal(alg, kAlgEd)) {
    sig.prehashed = false;
  } else {
    throw reader.fail(Errc::kField, "unsupported signature algorithm (expected \"ED\" or \"Ed\")");
  }
  std::copy_n(blob.begin() + 2, 8, sig.key_id.bytes.begin());
  std::copy_n(blob.begin() + 10, 64, sig.sig.begin());
  sig.trusted_comment = read_comment(reader, kTrustedPrefix, kMaxTrustedCommentBytes, "trusted comment");
  read_base64(reader, "global signature", sig.global_sig);
  reader.expect_end("the global signature");
  return sig;
}

std::string verify(std::span<const PublicKey> trusted, std::span<const std::uint8_t> message,
                   const Signature& sig, std::string_view source) {
  init_crypto();
  std::optional<std::string> failure;
  for (const PublicKey& key : trusted) {
    if (key.id != sig.key_id) continue;
    failure = check_with_key(key, message, sig);
    if (!failure) return sig.trusted_comment;
  }
  if (!failure) {
    throw error(Errc::kUnknownKey, std::string(source) + ": signed by unknown key " + sig.key_id.hex());
  }
  throw error(Errc::kSignature, std::string(source) + ": " + *failure);
}

}  // namespace ironstone::manifest
