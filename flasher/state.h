// The flasher's state file: the highest release sequence seen per (board, channel),
// so a replayed older release is refused (trust rule 1, rollback protection).
//
// Format (canonical JSON, one line):
//   {"format_version":1,"seen":{"<board>":{"<channel>":{"sequence":42,"version":"2026.11.1"}}}}
// Parsing is strict: malformed JSON (kStateParse), and unknown, missing, duplicated or
// mistyped fields, bad names, or a file over 1 MiB (kStateField / kTooLarge) are errors
// naming the file and the field, e.g.
//   "/var/lib/ironstone/state.json: field 'seen.rpi5.stable.sequence': expected an unsigned integer".
// A missing file means "nothing seen yet" (an empty SeenState).
//
// Saving is atomic: write <path>.tmp-<pid>, fsync, rename over <path>, fsync the directory;
// a reader sees the old or the new file, never a mix. Concurrent writers of the same
// path are not supported (one flasher per machine).
// Thread safety: SeenState is a plain value.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "flasher/errc.h"

namespace ironstone::flasher {

struct SeenRelease {
  std::uint64_t sequence = 0;
  std::string version;
  auto operator<=>(const SeenRelease&) const = default;
};

class SeenState {
 public:
  // The highest release seen for board/channel, if any.
  std::optional<SeenRelease> highest(std::string_view board, std::string_view channel) const;
  // Records a release; keeps the existing entry when its sequence is higher or equal.
  // Returns true when the entry changed. Board and channel must be [a-z0-9-]+ (kStateField).
  bool record(std::string_view board, std::string_view channel, std::uint64_t sequence, std::string version);

  using Key = std::pair<std::string, std::string>;  // (board, channel)
  const std::map<Key, SeenRelease>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }
  bool operator==(const SeenState&) const = default;

 private:
  std::map<Key, SeenRelease> entries_;
};

inline constexpr std::size_t kMaxStateFileBytes = 1024 * 1024;

// Canonical bytes of a state, and the strict parser (`source` names the input in messages).
std::string serialize_state(const SeenState& state);
SeenState parse_state(std::string_view text, std::string_view source);

// Reads path; a missing file gives an empty state. I/O errors are kIo naming the path.
SeenState load_state(const std::filesystem::path& path);
// Atomically replaces path (its directory is created if needed). Errors name the path.
void save_state(const std::filesystem::path& path, const SeenState& state);

}  // namespace ironstone::flasher
