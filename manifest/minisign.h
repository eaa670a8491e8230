// Keys and signatures in minisign format (https://jedisct1.github.io/minisign/).
//
// Public key file:  "untrusted comment: …\n" base64("Ed" | key_id[8] | ed25519_pk[32]) "\n"
// Secret key file:  "untrusted comment: …\n" base64("Ed" | kdf[2] | "B2" | salt[32] | opslimit[8] |
//                   memlimit[8] | key_id[8] | ed25519_sk[64] | checksum[32]) "\n"
//                   kdf "\0\0" = unencrypted (minisign -W); "Sc" = scrypt, needs a password:
//                   key_id | ed25519_sk | checksum are then XORed with scrypt(password, salt).
// Signature file:   "untrusted comment: …\n" base64("ED" | key_id[8] | sig[64]) "\n"
//                   "trusted comment: …\n" base64(global_sig[64]) "\n"
//                   "ED": sig = Ed25519(BLAKE2b-512(message)); global_sig = Ed25519(sig | trusted_comment).
//                   Legacy "Ed" (sig over the message itself) is accepted when verifying, never produced.
//
// Everything here interoperates with the stock `minisign` tool in both directions.
// Parsers take untrusted text and throw Error(manifest::Errc::kParse/kField) naming
// `source` and the line ("<source>: line 2: signature is not base64"); kTooLarge when the
// text or a comment exceeds the bounds below; verify() throws kUnknownKey / kSignature.
// Parsing is stricter than minisign where minisign is lenient: a missing line, bytes after
// the last line (even a blank line), a NUL or a '\r' that does not end a line are errors.
// Like minisign, lines may end in "\n" or "\r\n", and the last "\n" may be missing.
// Thread safety: free functions, reentrant. Precondition: init_crypto() called.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "manifest/errc.h"
#include "manifest/hash.h"

namespace ironstone::manifest {

// Hard bounds (minisign's own: its line buffers are 1024 and 8192 bytes).
inline constexpr std::size_t kMaxMinisignFileBytes = 16 * 1024;  // any key or signature file
inline constexpr std::size_t kMaxUntrustedCommentBytes = 1003;   // text after "untrusted comment: "
inline constexpr std::size_t kMaxTrustedCommentBytes = 8173;     // text after "trusted comment: "

// The 8-byte key id. Shown as minisign shows it: upper-case hex of the id read as a
// little-endian 64-bit number (e.g. "D2C5C1C8E9F1A3B7").
struct KeyId {
  std::array<std::uint8_t, 8> bytes{};
  std::string hex() const;
  auto operator<=>(const KeyId&) const = default;
};

struct PublicKey {
  KeyId id;
  std::array<std::uint8_t, 32> key{};
};

struct SecretKey {
  KeyId id;
  std::array<std::uint8_t, 64> key{};  // libsodium Ed25519 secret key (seed | public key)
  PublicKey public_key() const;
};

struct Signature {
  KeyId key_id;
  bool prehashed = true;                 // "ED" (true) or legacy "Ed" (false)
  std::array<std::uint8_t, 64> sig{};
  std::string trusted_comment;           // text after "trusted comment: "
  std::array<std::uint8_t, 64> global_sig{};
};

SecretKey generate_secret_key();

// "untrusted comment: minisign public key <ID>\n<base64>\n"
std::string serialize_public_key(const PublicKey& key);
// Accepts the two-line file or the bare base64 line (as given to `minisign -P`).
PublicKey parse_public_key(std::string_view text, std::string_view source);

// Unencrypted secret key (as `minisign -G -W` writes, but with the real checksum where
// minisign writes zeros). The caller writes it with mode 0600.
std::string serialize_secret_key(const SecretKey& key);
// Unencrypted keys need no password; scrypt-encrypted ones need `password` (else kField
// "…: secret key is encrypted: set a password"); a wrong password fails the checksum (kSignature).
// scrypt limits above minisign's ("sensitive") defaults are kField, checked before deriving.
// The checksum of an unencrypted key may be all zero (what `minisign -G -W` writes); any
// other wrong checksum is kSignature; a key whose public half does not match its seed is kField.
SecretKey parse_secret_key(std::string_view text, std::string_view source,
                           std::optional<std::string_view> password = std::nullopt);

// Signs `message` in "ED" mode; returns the .minisig text.
// The trusted comment must be one line (no '\n' or '\r'), else std::invalid_argument.
// Both comments must also be free of NUL bytes and within the bounds above (same exception).
std::string sign(const SecretKey& key, std::span<const std::uint8_t> message, std::string_view trusted_comment,
                 std::string_view untrusted_comment = "signature from ironstone secret key");

Signature parse_signature(std::string_view text, std::string_view source);

// Verifies sig over message with the trusted key whose id matches, and the global
// signature over the trusted comment. Throws kUnknownKey when no trusted key has the
// id, kSignature when either signature fails. Returns the (now trusted) comment.
std::string verify(std::span<const PublicKey> trusted, std::span<const std::uint8_t> message,
                   const Signature& sig, std::string_view source);

}  // namespace ironstone::manifest
