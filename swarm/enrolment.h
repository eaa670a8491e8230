// Enrolment: how an installer card gets its node's identity (which carries the cluster's k3s
// join token) without anyone else on the LAN being able to ask for it or read it on the wire.
// Both sides speak this (the flasher asks, the seeder answers), so it lives here.
// Wire contract: docs/http-api.md ("Node identity"); threat model: README "Trust model".
//
//  - Each installer card has an enrolment key: an Ed25519 key pair made by
//    `ironstone-build installer` (builder/enrolment.h). The secret half is on the card only;
//    the seeder trusts the public halves listed in its --enrolment-keys file (one a line,
//    "<64 hex> <name>"; revoked by removing the line).
//  - The flasher makes a fresh X25519 key pair per request and POSTs
//      {"mac":"dc:a6:32:01:02:03","time":1767225600,"ephemeral_key":"<64 hex>",
//       "card_key":"<64 hex>","signature":"<128 hex>"}
//    the signature being Ed25519 (card secret key) over signed_message() below.
//  - The seeder checks: the card key is listed, the signature, |time - now| <= 300 s, the MAC is
//    in the inventory; then answers {"sealed":"<base64>"}: crypto_box_seal of the identity
//    document (api/node_identity.h) to the ephemeral key. Only the holder of the ephemeral
//    secret key (the flasher that asked, for this one request) can open it.
//
// Errors: Error(swarm::Errc::kEnrolment) with the exact refusal, e.g.
//   "card key 3f…a1 is not in the enrolment keys", "request time 1767225000 is 600 s from the
//   seeder's clock (at most 300 s)", "signature does not verify".
// Thread safety: pure functions; libsodium must be initialised (ironstone::init_crypto()).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace ironstone::swarm {

inline constexpr std::int64_t kEnrolmentMaxSkewSeconds = 300;
inline constexpr std::size_t kMaxIdentityRequestBytes = 4096;

using CardPublicKey = std::array<std::uint8_t, 32>;  // Ed25519 public key
using CardSecretKey = std::array<std::uint8_t, 64>;  // libsodium Ed25519 secret key (seed | public)
using BoxPublicKey = std::array<std::uint8_t, 32>;   // X25519
using BoxSecretKey = std::array<std::uint8_t, 32>;

struct CardKeyPair {
  CardPublicKey public_key{};
  CardSecretKey secret_key{};
};
CardKeyPair make_card_key();

// The card's secret key file: "ironstone enrolment secret key v1\n<128 hex>\n". Parse throws
// kEnrolment naming `source`.
std::string serialize_card_secret(const CardSecretKey& key);
CardSecretKey parse_card_secret(std::string_view text, std::string_view source);
// The public half as the seeder lists it: "<64 hex>".
std::string card_public_hex(const CardPublicKey& key);

// The enrolment keys file (seeder --enrolment-keys): one key a line, "<64 hex> <name>" (the name:
// the rest of the line, may be empty); blank lines and lines starting with '#' are ignored.
// A malformed line is kEnrolment naming `source` and the line number. Key hex -> name.
std::map<std::string, std::string> parse_enrolment_keys(std::string_view text, std::string_view source);

struct IdentityRequest {
  std::string mac;  // canonical
  std::int64_t time = 0;
  BoxPublicKey ephemeral_key{};
  CardPublicKey card_key{};
  std::array<std::uint8_t, 64> signature{};
};

// What the card key signs: a domain-separated line of the fields.
std::string signed_message(const std::string& mac, std::int64_t time, const BoxPublicKey& ephemeral_key);

// The flasher's side: a signed request for `mac` at `now`, and the ephemeral secret key that
// opens its answer (kept in memory for this one request only).
struct PreparedRequest {
  std::string json;
  BoxSecretKey ephemeral_secret{};
  BoxPublicKey ephemeral_public{};
};
PreparedRequest make_identity_request(const CardSecretKey& card, const std::string& mac, std::int64_t now);

// The seeder's side, step 1: the request's form (strict JSON, hex lengths, canonical MAC).
IdentityRequest parse_identity_request(std::string_view json);
// Step 2: key listed (`trusted`: hex -> name; returns the name), signature, time within
// kEnrolmentMaxSkewSeconds of `now`. Throws kEnrolment with the refusal.
std::string check_identity_request(const IdentityRequest& request, const std::map<std::string, std::string>& trusted,
                                   std::int64_t now);

// The sealed answer: {"sealed":"<base64 of crypto_box_seal(identity, ephemeral_key)>"}.
std::string seal_identity(std::string_view identity_json, const BoxPublicKey& ephemeral_key);
// Opens it (kEnrolment when it is not such a document, or it does not open with these keys).
std::string open_identity(std::string_view answer_json, const BoxPublicKey& ephemeral_public,
                          const BoxSecretKey& ephemeral_secret);

}  // namespace ironstone::swarm
