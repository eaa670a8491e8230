// Fuzz target: the two documents of a push (api/push.h): the bundle a seeder reads from
// POST /v1/uploads (untrusted bytes from the network), and the status ironstone-build push
// reads back. Any input must either parse or throw ironstone::Error. A parsed bundle must
// serialise back to exactly the input (the framing has one spelling), and each section must
// be within its limit; a parsed status must round-trip through serialize_push_status.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/limits.h"
#include "api/push.h"
#include "util/error.h"

namespace {

void bundle(std::string_view text) {
  using namespace ironstone::api;
  PushBundle b;
  try {
    b = parse_push_bundle(text, "fuzz-bundle");
  } catch (const ironstone::Error&) {
    return;
  }
  if (serialize_push_bundle(b) != text) std::abort();
  if (b.manifest.size() > kMaxManifestBytes || b.torrent.size() > kMaxTorrentBytes ||
      b.signature.size() > kMaxSignatureBytes || b.pointer.size() > kMaxPointerBytes ||
      b.pointer_signature.size() > kMaxSignatureBytes)
    std::abort();
  if (!valid_push_board(b.board) || !valid_push_board(b.channel) || !valid_push_version(b.version)) std::abort();
}

void status(std::string_view text) {
  using namespace ironstone::api;
  PushStatus s;
  try {
    s = parse_push_status(text, "fuzz-status.json");
  } catch (const ironstone::Error&) {
    return;
  }
  if (parse_push_status(serialize_push_status(s), "again") != s) std::abort();
  for (const auto& hex : s.missing_chunks)
    if (!valid_chunk_hex(hex)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  bundle(text);
  status(text);
  return 0;
}
