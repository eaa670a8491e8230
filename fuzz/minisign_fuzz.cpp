// Fuzz target for the minisign parsers (manifest/minisign.h): the same bytes go to the
// public key, secret key (no password, so no scrypt) and signature parsers. Only
// ironstone::Error may escape a parser; anything else (crash, other exception, sanitizer
// report) is a bug. A public key that parses must survive a serialize/parse round trip.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "manifest/hash.h"
#include "manifest/minisign.h"

namespace {

using namespace ironstone::manifest;

void fuzz_public_key(std::string_view text) {
  try {
    const PublicKey key = parse_public_key(text, "fuzz.pub");
    const PublicKey again = parse_public_key(serialize_public_key(key), "fuzz.pub");
    if (again.id != key.id || again.key != key.key) std::abort();
  } catch (const ironstone::Error&) {
  }
}

void fuzz_secret_key(std::string_view text) {
  try {
    (void)parse_secret_key(text, "fuzz.key");
  } catch (const ironstone::Error&) {
  }
}

void fuzz_signature(std::string_view text) {
  try {
    const Signature sig = parse_signature(text, "fuzz.minisig");
    (void)verify({}, {}, sig, "fuzz.minisig");  // no trusted key: must throw kUnknownKey
    std::abort();
  } catch (const ironstone::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool ready = (ironstone::init_crypto(), true);
  (void)ready;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  fuzz_public_key(text);
  fuzz_secret_key(text);
  fuzz_signature(text);
  return 0;
}
