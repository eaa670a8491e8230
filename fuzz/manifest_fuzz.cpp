// Fuzz target for the release-format parsers (docs/design.md, "Trust rules", rule 4): the same bytes go to
// parse_manifest() and parse_channel_pointer(). Only ironstone::Error may escape a parser;
// anything else (crash, other exception, sanitizer report) is a bug. Whatever parses must
// also survive a canonical round trip: serialize(parse(x)) parses to the same bytes again.
// Seeds: fuzz/corpus/manifest/ (a real manifest.json from a publish and broken variants).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "manifest/channel.h"
#include "manifest/manifest.h"

namespace {

using namespace ironstone::manifest;

void fuzz_manifest(std::string_view text) {
  try {
    const Manifest m = parse_manifest(text, "fuzz.json");
    const std::string canonical = serialize(m);
    const Manifest again = parse_manifest(canonical, "fuzz.json");
    if (serialize(again) != canonical) std::abort();
  } catch (const ironstone::Error&) {
  }
}

void fuzz_channel(std::string_view text) {
  try {
    const ChannelPointer p = parse_channel_pointer(text, "fuzz-channel.json");
    const std::string canonical = serialize(p);
    if (serialize(parse_channel_pointer(canonical, "fuzz-channel.json")) != canonical) std::abort();
  } catch (const ironstone::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  fuzz_manifest(text);
  fuzz_channel(text);
  return 0;
}
