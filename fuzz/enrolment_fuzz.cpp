// Fuzz target: the enrolment parsers (swarm/enrolment.h), all of outside input: the identity
// request a client POSTs to the seeder (parsed, then checked against a key list and a clock: it
// must be refused, since the fuzzer cannot sign with the listed key unless the input is the
// seeded valid request), the seeder's --enrolment-keys file, a card's secret key file, and a
// sealed answer the flasher opens. Only ironstone::Error may escape.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "util/error.h"
#include "manifest/hash.h"
#include "swarm/enrolment.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool ready = (ironstone::init_crypto(), true);
  (void)ready;
  using namespace ironstone::swarm;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const IdentityRequest r = parse_identity_request(text);
    // No key is trusted: every request that parses must be refused.
    (void)check_identity_request(r, {}, r.time);
    std::abort();
  } catch (const ironstone::Error&) {
  }
  try {
    const auto keys = parse_enrolment_keys(text, "fuzz-keys");
    for (const auto& [hex, name] : keys)
      if (hex.size() != 64 || name.find('\n') != std::string::npos) std::abort();
  } catch (const ironstone::Error&) {
  }
  try {
    (void)parse_card_secret(text, "fuzz.key");
  } catch (const ironstone::Error&) {
  }
  try {
    BoxPublicKey pk{};
    BoxSecretKey sk{};
    (void)open_identity(text, pk, sk);
  } catch (const ironstone::Error&) {
  }
  return 0;
}
