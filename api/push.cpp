#include "api/push.h"

#include <algorithm>
#include <charconv>

#include "api/errc.h"
#include "api/limits.h"
#include "util/hex.h"
#include "util/json_reader.h"

namespace ironstone::api {

namespace {

constexpr std::string_view kMagic = "ironstone-push 1";

Error push_error(const std::string& message) { return error(Errc::kPush, message); }

bool all_of(std::string_view s, bool (*ok)(char)) { return std::all_of(s.begin(), s.end(), ok); }
bool lower_name_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }
bool version_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '+' || c == '-';
}
bool firmware_char(char c) { return version_char(c) && c != '+'; }

// Reads the bundle front to back; every error names the source and what was being read.
class BundleReader {
 public:
  BundleReader(std::string_view bytes, std::string_view source) : rest_(bytes), source_(source) {}

  // "<key> <value>\n" with the expected key.
  std::string line(std::string_view key) {
    const std::size_t nl = rest_.find('\n');
    if (nl == std::string_view::npos || nl > kMaxPushHeaderBytes) fail("'" + std::string(key) + "': no line");
    const std::string_view l = rest_.substr(0, nl);
    if (l.size() <= key.size() || l.substr(0, key.size()) != key || l[key.size()] != ' ')
      fail("expected '" + std::string(key) + " ...', got '" + printable(l.substr(0, 40)) + "'");
    rest_.remove_prefix(nl + 1);
    return std::string(l.substr(key.size() + 1));
  }

  void magic() {
    if (rest_.substr(0, kMagic.size() + 1) != std::string(kMagic) + "\n")
      fail("does not start with '" + std::string(kMagic) + "'");
    rest_.remove_prefix(kMagic.size() + 1);
  }

  // "<name> <N>\n" then N bytes.
  std::string section(std::string_view name, std::size_t limit) {
    const std::string n = line(name);
    std::size_t length = 0;
    const auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), length);
    if (ec != std::errc() || end != n.data() + n.size() || n.empty() || (n.size() > 1 && n[0] == '0'))
      fail("section '" + std::string(name) + "': bad length '" + printable(n.substr(0, 24)) + "'");
    if (length > limit)
      fail("section '" + std::string(name) + "': length " + n + " exceeds " + std::to_string(limit));
    if (length > rest_.size())
      fail("section '" + std::string(name) + "': " + n + " bytes announced, " + std::to_string(rest_.size()) +
           " left");
    std::string out(rest_.substr(0, length));
    rest_.remove_prefix(length);
    return out;
  }

  bool at(std::string_view prefix) const { return rest_.substr(0, prefix.size()) == prefix; }
  bool done() const { return rest_.empty(); }
  [[noreturn]] void fail(const std::string& what) const { throw push_error(std::string(source_) + ": " + what); }

 private:
  static std::string printable(std::string_view s) {
    std::string out(s);
    for (char& c : out)
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
    return out;
  }
  std::string_view rest_;
  std::string_view source_;
};

std::string section_text(std::string_view name, const std::string& bytes) {
  return std::string(name) + " " + std::to_string(bytes.size()) + "\n" + bytes;
}

std::vector<std::string> name_list(strict_json::ObjectReader& r, const char* key, bool (*valid)(std::string_view),
                                   std::string_view source) {
  const nlohmann::json& items = r.array(key);
  std::vector<std::string> out;
  out.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!items[i].is_string() || !valid(items[i].get_ref<const std::string&>()))
      throw push_error(std::string(source) + ": field '" + strict_json::element(key, i) + "': not a valid name");
    out.push_back(items[i].get<std::string>());
  }
  return out;
}

}  // namespace

bool valid_push_board(std::string_view s) { return !s.empty() && s.size() <= 64 && all_of(s, lower_name_char); }
bool valid_push_version(std::string_view s) {
  return !s.empty() && s.size() <= 64 && s[0] != '.' && all_of(s, version_char);
}
bool valid_chunk_hex(std::string_view s) { return is_lower_hex(s, 64); }
bool valid_release_file_name(std::string_view s) {
  for (const char* name : kReleaseFiles)
    if (s == name) return true;
  return false;
}

bool valid_firmware_name(std::string_view s) {
  return !s.empty() && s.size() <= 128 && s != "." && s != ".." && all_of(s, firmware_char);
}

std::string serialize_push_bundle(const PushBundle& b) {
  std::string out = std::string(kMagic) + "\nboard " + b.board + "\nchannel " + b.channel + "\nversion " +
                    b.version + "\n";
  out += section_text("manifest", b.manifest) + section_text("signature", b.signature) +
         section_text("torrent", b.torrent);
  if (!b.pointer.empty()) out += section_text("pointer", b.pointer) + section_text("pointer-signature", b.pointer_signature);
  return out;
}

PushBundle parse_push_bundle(std::string_view bytes, std::string_view source) {
  if (bytes.size() > kMaxPushBundleBytes)
    throw error(Errc::kTooLarge, std::string(source) + ": " + std::to_string(bytes.size()) +
                                     " bytes exceed the push bundle limit of " + std::to_string(kMaxPushBundleBytes));
  BundleReader r(bytes, source);
  r.magic();
  PushBundle b;
  b.board = r.line("board");
  if (!valid_push_board(b.board)) r.fail("'board': not a valid board name");
  b.channel = r.line("channel");
  if (!valid_push_board(b.channel)) r.fail("'channel': not a valid channel name");
  b.version = r.line("version");
  if (!valid_push_version(b.version)) r.fail("'version': not a valid version");
  b.manifest = r.section("manifest", kMaxManifestBytes);
  b.signature = r.section("signature", kMaxSignatureBytes);
  b.torrent = r.section("torrent", kMaxTorrentBytes);
  if (r.at("pointer ")) {
    b.pointer = r.section("pointer", kMaxPointerBytes);
    b.pointer_signature = r.section("pointer-signature", kMaxSignatureBytes);
    if (b.pointer.empty()) r.fail("section 'pointer': empty");
  }
  if (!r.done()) r.fail("unexpected bytes after the last section");
  if (b.manifest.empty() || b.signature.empty() || b.torrent.empty())
    r.fail("the manifest, its signature and the torrent must not be empty");
  return b;
}

std::string serialize_push_status(const PushStatus& s) {
  const nlohmann::json doc{{"board", s.board},
                           {"version", s.version},
                           {"state", s.state},
                           {"missing_chunks", s.missing_chunks},
                           {"missing_firmware", s.missing_firmware},
                           {"missing_files", s.missing_files}};
  return doc.dump() + "\n";
}

PushStatus parse_push_status(std::string_view json, std::string_view source) {
  if (json.size() > kMaxPushStatusBytes)
    throw error(Errc::kTooLarge, std::string(source) + ": " + std::to_string(json.size()) +
                                     " bytes exceed the push status limit of " + std::to_string(kMaxPushStatusBytes));
  const nlohmann::json doc = strict_json::parse_strict(json, source, push_error, 8, "malformed JSON: ");
  if (!doc.is_object()) throw push_error(std::string(source) + ": expected a JSON object");
  strict_json::ObjectReader r(doc, "", source, push_error);
  PushStatus s;
  s.board = r.string("board");
  s.version = r.string("version");
  s.state = r.string("state");
  if (s.state != "pending" && s.state != "present" && s.state != "committed")
    r.fail("state", "must be \"pending\", \"present\" or \"committed\"");
  s.missing_chunks = name_list(r, "missing_chunks", valid_chunk_hex, source);
  s.missing_firmware = name_list(r, "missing_firmware", valid_firmware_name, source);
  if (doc.contains("missing_files")) s.missing_files = name_list(r, "missing_files", valid_release_file_name, source);
  return s;
}

}  // namespace ironstone::api
