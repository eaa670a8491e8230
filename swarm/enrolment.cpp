#include "swarm/enrolment.h"

#include <sodium.h>

#include <nlohmann/json.hpp>

#include <set>
#include <span>

#include "util/hex.h"
#include "swarm/errc.h"
#include "api/node_identity.h"

namespace ironstone::swarm {

namespace {

constexpr std::string_view kSecretHeader = "ironstone enrolment secret key v1";

Error fail(const std::string& message) { return error(Errc::kEnrolment, message); }

template <std::size_t N>
std::array<std::uint8_t, N> hex_field(const nlohmann::json& doc, const char* name) {
  std::array<std::uint8_t, N> out{};
  const auto it = doc.find(name);
  if (it == doc.end() || !it->is_string()) throw fail(std::string("identity request: field '") + name + "' missing");
  if (!from_hex(it->get_ref<const std::string&>(), out))
    throw fail(std::string("identity request: field '") + name + "' must be " + std::to_string(2 * N) + " hex digits");
  return out;
}

std::string base64(std::span<const std::uint8_t> bin) {
  std::string out(sodium_base64_ENCODED_LEN(bin.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), bin.data(), bin.size(), sodium_base64_VARIANT_ORIGINAL);
  out.pop_back();  // the terminating NUL
  return out;
}

}  // namespace

CardKeyPair make_card_key() {
  CardKeyPair k;
  crypto_sign_keypair(k.public_key.data(), k.secret_key.data());
  return k;
}

std::string serialize_card_secret(const CardSecretKey& key) {
  return std::string(kSecretHeader) + "\n" + to_hex(key) + "\n";
}

CardSecretKey parse_card_secret(std::string_view text, std::string_view source) {
  const std::string where(source);
  if (text.size() > 1024) throw fail(where + ": not an enrolment secret key (too large)");
  const auto nl = text.find('\n');
  if (nl == std::string_view::npos || text.substr(0, nl) != kSecretHeader)
    throw fail(where + ": not an enrolment secret key (first line must be \"" + std::string(kSecretHeader) + "\")");
  std::string_view hex = text.substr(nl + 1);
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r')) hex.remove_suffix(1);
  CardSecretKey key{};
  if (!from_hex(hex, key)) throw fail(where + ": line 2: expected 128 hex digits");
  // The public half is the last 32 bytes; it must belong to the seed.
  CardPublicKey pk{};
  CardSecretKey again{};
  crypto_sign_seed_keypair(pk.data(), again.data(), key.data());
  if (sodium_memcmp(again.data(), key.data(), key.size()) != 0)
    throw fail(where + ": line 2: the public half does not match the secret half");
  sodium_memzero(again.data(), again.size());
  return key;
}

std::string card_public_hex(const CardPublicKey& key) { return to_hex(key); }

std::map<std::string, std::string> parse_enrolment_keys(std::string_view text, std::string_view source) {
  std::map<std::string, std::string> keys;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;
    const std::string_view hex = line.substr(0, line.find_first_of(" \t"));
    CardPublicKey k{};
    if (!from_hex(hex, k))
      throw fail(std::string(source) + ": line " + std::to_string(line_no) +
                 ": expected a card key (64 hex digits) and a name");
    std::string_view name = line.substr(hex.size());
    while (!name.empty() && (name.front() == ' ' || name.front() == '\t')) name.remove_prefix(1);
    keys[to_hex(k)] = std::string(name);
  }
  return keys;
}

std::string signed_message(const std::string& mac, std::int64_t time, const BoxPublicKey& ephemeral_key) {
  return "ironstone identity request v1\n" + mac + "\n" + std::to_string(time) + "\n" + to_hex(ephemeral_key) + "\n";
}

PreparedRequest make_identity_request(const CardSecretKey& card, const std::string& mac, std::int64_t now) {
  PreparedRequest p;
  crypto_box_keypair(p.ephemeral_public.data(), p.ephemeral_secret.data());
  const std::string msg = signed_message(mac, now, p.ephemeral_public);
  std::array<std::uint8_t, 64> sig{};
  crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const unsigned char*>(msg.data()), msg.size(),
                       card.data());
  const std::span<const std::uint8_t> pk(card.data() + 32, 32);
  p.json = nlohmann::json{{"mac", mac},
                          {"time", now},
                          {"ephemeral_key", to_hex(p.ephemeral_public)},
                          {"card_key", to_hex(pk)},
                          {"signature", to_hex(sig)}}
               .dump();
  return p;
}

IdentityRequest parse_identity_request(std::string_view json) {
  if (json.size() > kMaxIdentityRequestBytes) throw fail("identity request: larger than 4096 bytes");
  const auto doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) throw fail("identity request: not a JSON object");
  static const std::set<std::string> known{"mac", "time", "ephemeral_key", "card_key", "signature"};
  for (const auto& [k, v] : doc.items())
    if (!known.contains(k)) throw fail("identity request: unknown field '" + k + "'");
  IdentityRequest r;
  const auto mac = doc.find("mac");
  if (mac == doc.end() || !mac->is_string()) throw fail("identity request: field 'mac' missing");
  const auto canonical = api::canonical_mac(mac->get_ref<const std::string&>());
  if (!canonical) throw fail("identity request: field 'mac' is not a MAC address");
  r.mac = *canonical;
  const auto time = doc.find("time");
  if (time == doc.end() || !time->is_number_integer()) throw fail("identity request: field 'time' must be an integer");
  r.time = time->get<std::int64_t>();
  r.ephemeral_key = hex_field<32>(doc, "ephemeral_key");
  r.card_key = hex_field<32>(doc, "card_key");
  r.signature = hex_field<64>(doc, "signature");
  return r;
}

std::string check_identity_request(const IdentityRequest& r, const std::map<std::string, std::string>& trusted,
                                   std::int64_t now) {
  const std::string hex = to_hex(r.card_key);
  const auto it = trusted.find(hex);
  if (it == trusted.end()) throw fail("card key " + hex + " is not in the enrolment keys");
  const std::string msg = signed_message(r.mac, r.time, r.ephemeral_key);
  if (crypto_sign_verify_detached(r.signature.data(), reinterpret_cast<const unsigned char*>(msg.data()), msg.size(),
                                  r.card_key.data()) != 0)
    throw fail("signature does not verify (card key " + hex + ")");
  const std::int64_t skew = r.time > now ? r.time - now : now - r.time;
  if (skew > kEnrolmentMaxSkewSeconds)
    throw fail("request time " + std::to_string(r.time) + " is " + std::to_string(skew) +
               " s from the seeder's clock (at most " + std::to_string(kEnrolmentMaxSkewSeconds) + " s)");
  return it->second;
}

std::string seal_identity(std::string_view identity_json, const BoxPublicKey& ephemeral_key) {
  std::vector<std::uint8_t> sealed(identity_json.size() + crypto_box_SEALBYTES);
  crypto_box_seal(sealed.data(), reinterpret_cast<const unsigned char*>(identity_json.data()), identity_json.size(),
                  ephemeral_key.data());
  return nlohmann::json{{"sealed", base64(sealed)}}.dump() + "\n";
}

std::string open_identity(std::string_view answer_json, const BoxPublicKey& ephemeral_public,
                          const BoxSecretKey& ephemeral_secret) {
  const auto doc = nlohmann::json::parse(answer_json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("sealed") || !doc["sealed"].is_string())
    throw fail("sealed identity: not a {\"sealed\": ...} document");
  const std::string& b64 = doc["sealed"].get_ref<const std::string&>();
  std::vector<std::uint8_t> sealed(b64.size());
  std::size_t len = 0;
  if (sodium_base642bin(sealed.data(), sealed.size(), b64.data(), b64.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      len < crypto_box_SEALBYTES)
    throw fail("sealed identity: not base64 of a sealed box");
  std::string out(len - crypto_box_SEALBYTES, '\0');
  if (crypto_box_seal_open(reinterpret_cast<unsigned char*>(out.data()), sealed.data(), len, ephemeral_public.data(),
                           ephemeral_secret.data()) != 0)
    throw fail("sealed identity: does not open with this request's key");
  return out;
}

}  // namespace ironstone::swarm
