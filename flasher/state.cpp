#include "flasher/state.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

#include "manifest/manifest.h"
#include "util/file.h"

namespace ironstone::flasher {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string errno_text(int err) { return std::error_code(err, std::system_category()).message(); }

bool valid_name(std::string_view s) { return manifest::valid_board_name(s); }  // boards and channels
bool valid_version(std::string_view s) { return manifest::valid_version_name(s); }

Error field_error(std::string_view source, const std::string& field, const std::string& what) {
  return error(Errc::kStateField, std::string(source) + ": field '" + field + "': " + what);
}

const json& object_field(const json& obj, const char* key, std::string_view source, const std::string& path) {
  auto it = obj.find(key);
  if (it == obj.end()) throw field_error(source, path, "missing");
  return *it;
}

void only_keys(const json& obj, std::set<std::string> allowed, std::string_view source, const std::string& path) {
  for (const auto& [k, v] : obj.items()) {
    if (!allowed.count(k)) throw field_error(source, path.empty() ? k : path + "." + k, "unknown field");
  }
}

}  // namespace

std::optional<SeenRelease> SeenState::highest(std::string_view board, std::string_view channel) const {
  auto it = entries_.find({std::string(board), std::string(channel)});
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

bool SeenState::record(std::string_view board, std::string_view channel, std::uint64_t sequence,
                       std::string version) {
  if (!valid_name(board)) throw error(Errc::kStateField, "state: bad board name '" + std::string(board) + "'");
  if (!valid_name(channel)) throw error(Errc::kStateField, "state: bad channel name '" + std::string(channel) + "'");
  if (!valid_version(version)) throw error(Errc::kStateField, "state: bad version '" + version + "'");
  auto [it, inserted] = entries_.try_emplace({std::string(board), std::string(channel)}, SeenRelease{sequence, version});
  if (inserted) return true;
  if (it->second.sequence >= sequence) return false;
  it->second = SeenRelease{sequence, std::move(version)};
  return true;
}

std::string serialize_state(const SeenState& state) {
  json seen = json::object();
  for (const auto& [key, rel] : state.entries()) {
    seen[key.first][key.second] = {{"sequence", rel.sequence}, {"version", rel.version}};
  }
  json doc = {{"format_version", 1}, {"seen", seen}};
  return doc.dump() + "\n";
}

namespace {

// The JSON document, bounded in depth; duplicate keys are an error naming the first one
// (nlohmann keeps the last silently, so the parser callback finds them).
json parse_state_json(std::string_view text, std::string_view source) {
  struct Frame { std::set<std::string> keys; std::string path, last; };
  std::vector<Frame> stack;
  std::string duplicate;
  auto join = [](const std::string& a, const std::string& b) { return a.empty() ? b : a + "." + b; };
  json::parser_callback_t cb = [&](int, json::parse_event_t ev, json& parsed) {
    if (ev == json::parse_event_t::object_start || ev == json::parse_event_t::array_start) {
      // The format nests 4 deep; without a bound, deep nesting costs quadratic memory (paths).
      constexpr std::size_t kMaxDepth = 16;
      if (stack.size() >= kMaxDepth) {
        throw error(Errc::kStateParse, std::string(source) + ": nesting deeper than " + std::to_string(kMaxDepth));
      }
      stack.push_back({{}, stack.empty() ? "" : join(stack.back().path, stack.back().last), ""});
    } else if (ev == json::parse_event_t::object_end || ev == json::parse_event_t::array_end) {
      if (!stack.empty()) stack.pop_back();
    } else if (ev == json::parse_event_t::key && !stack.empty()) {
      stack.back().last = parsed.get<std::string>();
      if (!stack.back().keys.insert(stack.back().last).second && duplicate.empty()) {
        duplicate = join(stack.back().path, stack.back().last);
      }
    }
    return true;
  };
  json doc;
  try {
    doc = json::parse(text.begin(), text.end(), cb);
  } catch (const json::exception& e) {
    throw error(Errc::kStateParse, std::string(source) + ": not valid JSON: " + e.what());
  }
  if (!duplicate.empty()) throw field_error(source, duplicate, "duplicate key");
  return doc;
}

// The top level: {"format_version": 1, "seen": {...}}; returns "seen".
const json& state_seen(const json& doc, std::string_view source) {
  if (!doc.is_object()) throw field_error(source, "(root)", "expected an object");
  only_keys(doc, {"format_version", "seen"}, source, "");
  const json& fv = object_field(doc, "format_version", source, "format_version");
  if (!fv.is_number_unsigned() || fv.get<std::uint64_t>() != 1) {
    throw field_error(source, "format_version", "unsupported value " + fv.dump() + " (expected 1)");
  }
  const json& seen = object_field(doc, "seen", source, "seen");
  if (!seen.is_object()) throw field_error(source, "seen", "expected an object");
  return seen;
}

// One "seen.<board>.<channel>" entry {"sequence", "version"}, recorded into `state`.
void record_entry(SeenState& state, const std::string& board, const std::string& channel, const json& entry,
                  std::string_view source, const std::string& cpath) {
  if (!entry.is_object()) throw field_error(source, cpath, "expected an object");
  only_keys(entry, {"sequence", "version"}, source, cpath);
  const json& seq = object_field(entry, "sequence", source, cpath + ".sequence");
  if (!seq.is_number_unsigned()) throw field_error(source, cpath + ".sequence", "expected an unsigned integer");
  const json& ver = object_field(entry, "version", source, cpath + ".version");
  if (!ver.is_string() || !valid_version(ver.get<std::string>())) {
    throw field_error(source, cpath + ".version", "expected a version name");
  }
  state.record(board, channel, seq.get<std::uint64_t>(), ver.get<std::string>());
}

}  // namespace

SeenState parse_state(std::string_view text, std::string_view source) {
  if (text.size() > kMaxStateFileBytes) {
    throw error(Errc::kTooLarge, std::string(source) + ": " + std::to_string(text.size()) +
                                     " bytes exceed the limit of " + std::to_string(kMaxStateFileBytes));
  }
  const json doc = parse_state_json(text, source);
  const json& seen = state_seen(doc, source);
  SeenState state;
  for (const auto& [board, channels] : seen.items()) {
    std::string bpath = "seen." + board;
    if (!valid_name(board)) throw field_error(source, bpath, "bad board name");
    if (!channels.is_object()) throw field_error(source, bpath, "expected an object");
    for (const auto& [channel, entry] : channels.items()) {
      std::string cpath = bpath + "." + channel;
      if (!valid_name(channel)) throw field_error(source, cpath, "bad channel name");
      record_entry(state, board, channel, entry, source, cpath);
    }
  }
  return state;
}

SeenState load_state(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!fs::exists(path, ec) && !ec) return {};
    throw error(Errc::kIo, path.string() + ": cannot read: " + errno_text(errno));
  }
  const std::string text = util::read_up_to(in, kMaxStateFileBytes + 1);  // parse_state names a larger one
  if (in.bad()) throw error(Errc::kIo, path.string() + ": read failed");
  return parse_state(text, path.string());
}

void save_state(const fs::path& path, const SeenState& state) {
  const std::string text = serialize_state(state);
  fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw error(Errc::kIo, dir.string() + ": create directory: " + ec.message());
  fs::path tmp = path;
  tmp += ".tmp-" + std::to_string(::getpid());
  auto fail = [&](const char* what) {
    int err = errno;
    ::unlink(tmp.c_str());
    return error(Errc::kIo, path.string() + ": " + what + ": " + errno_text(err));
  };
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw fail("create temporary file");
  for (std::size_t done = 0; done < text.size();) {
    ssize_t r = ::write(fd, text.data() + done, text.size() - done);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) { ::close(fd); throw fail("write"); }
    done += static_cast<std::size_t>(r);
  }
  if (::fsync(fd) != 0) { ::close(fd); throw fail("fsync"); }
  if (::close(fd) != 0) throw fail("close");
  if (::rename(tmp.c_str(), path.c_str()) != 0) throw fail("rename");
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace ironstone::flasher
