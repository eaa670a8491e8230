#include "manifest/channel.h"

#include <nlohmann/json.hpp>

#include "api/limits.h"
#include "util/json_reader.h"
#include "manifest/manifest.h"

namespace ironstone::manifest {

std::string serialize(const ChannelPointer& p) {
  nlohmann::json doc = {{"format_version", p.format_version}, {"board", p.board},
                        {"channel", p.channel},               {"version", p.version},
                        {"sequence", p.sequence},             {"expires", format_time(p.expires)},
                        {"manifest_hash", p.manifest_hash.hex()}};
  return doc.dump() + "\n";
}

namespace {
Error field_error(const std::string& message) { return error(Errc::kField, message); }
Error parse_error(const std::string& message) { return error(Errc::kParse, message); }
}  // namespace

ChannelPointer parse_channel_pointer(std::string_view bytes, std::string_view source) {
  if (bytes.size() > api::kMaxPointerBytes)
    throw error(Errc::kTooLarge, std::string(source) + ": channel pointer larger than 64 KiB");
  nlohmann::json doc = strict_json::parse_strict(bytes, source, parse_error, 4);
  strict_json::ObjectReader r(doc, "", source, field_error);
  ChannelPointer p;
  p.format_version = static_cast<std::uint32_t>(r.uint("format_version", UINT32_MAX));
  if (p.format_version != 1) r.fail("format_version", "unsupported version " + std::to_string(p.format_version));
  p.board = r.string("board");
  if (!valid_board_name(p.board)) r.fail("board", "expected [a-z0-9-]{1,64}");
  p.channel = r.string("channel");
  if (!valid_board_name(p.channel)) r.fail("channel", "expected [a-z0-9-]{1,64}");
  p.version = r.string("version");
  if (!valid_version_name(p.version)) r.fail("version", "expected [A-Za-z0-9._+-]{1,64}");
  p.sequence = r.uint("sequence");
  auto t = parse_time(r.string("expires"));
  if (!t) r.fail("expires", "expected a UTC time like 2026-01-31T12:00:00Z");
  p.expires = *t;
  const std::string hash_text = r.string("manifest_hash");
  auto h = Hash256::from_hex(hash_text);
  if (!h || h->hex() != hash_text) r.fail("manifest_hash", "expected 64 lower-case hex digits");
  p.manifest_hash = *h;
  r.finish();
  return p;
}

}  // namespace ironstone::manifest
