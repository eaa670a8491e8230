// A document read from files on disk and read again when one of them changes: what the
// seeder's --inventory (seeder/inventory_file.h) and --enrolment-keys
// (seeder/enrolment_keys.h) have in common.
//
// Every current() call stats the watched files (modification time in ns, size, inode, so an
// editor's write-and-rename counts); when one changed, the loader runs again. The change is
// noted before the load, so a file that changes again while it is read is read again by the
// next call. The loader says which files the new version came from (the inventory and its
// token file); those are watched from then on. No SIGHUP is needed.
//
// When a new version does not load (the loader throws Error), the policy decides what is in
// use until a later version loads:
//   WhenBad::kKeepLastGood  the last good version: a typo never takes the rack's identities
//                           away (the inventory);
//   WhenBad::kFailClosed    an empty T: a typo never keeps a revoked key alive (the
//                           enrolment keys; T must be default-constructible).
// Either way status().error says why and the `failed` hook runs, once per version; the
// files watched stay those of the last good version, so fixing any of them is noticed.
//
// Thread safety: current() and snapshot() from any thread (one mutex); the loader and the
// hooks run under it, on the calling thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "util/error.h"

namespace ironstone::seeder {

enum class WhenBad { kKeepLastGood, kFailClosed };

// What a file is now: modification time, size and inode (all -1/0 when it cannot be stat'ed).
struct FileStamp {
  std::int64_t mtime_ns = -1;
  std::uint64_t size = 0, inode = 0;
  bool operator==(const FileStamp&) const = default;
};
std::vector<FileStamp> stamp_files(const std::vector<std::filesystem::path>& files);

template <class T, WhenBad kWhenBad>
class ReloadingFile {
 public:
  struct Loaded {
    std::shared_ptr<const T> value;
    std::vector<std::filesystem::path> files;  // what it was read from: watched from now on
  };
  using Load = std::function<Loaded()>;  // throws Error when the files do not make a T
  struct Hooks {
    std::function<void(const T& value)> reloaded;                 // a new version is in use
    std::function<void(const Error& why, const T& in_use)> failed;  // a new version did not load
  };
  struct Status {
    std::uint64_t reloads = 0;  // successful loads after the first
    std::string error;          // why the newest version is not in use; empty when it is
  };
  struct Snapshot {
    std::shared_ptr<const T> value;
    Status status;
  };

  // Loads the first version (`watch`: the files to stat before it); throws what `load`
  // throws: a bad file at start-up is the caller's error, not a version to fall back from.
  ReloadingFile(std::vector<std::filesystem::path> watch, Load load, Hooks hooks)
      : load_(std::move(load)), hooks_(std::move(hooks)), watched_(std::move(watch)) {
    stamps_ = stamp_files(watched_);
    adopt(load_());
  }

  // The version in use, reloaded first when a watched file changed.
  std::shared_ptr<const T> current() { return snapshot().value; }
  // The same, with the status of the newest version, both at one instant.
  Snapshot snapshot() {
    std::lock_guard lock(mutex_);
    reload_if_changed();
    return {value_, status_};
  }

 private:
  void reload_if_changed() {
    auto now = stamp_files(watched_);
    if (now == stamps_) return;
    stamps_ = std::move(now);  // first: a change while loading is seen by the next call
    try {
      adopt(load_());
      status_.error.clear();
      ++status_.reloads;
      if (hooks_.reloaded) hooks_.reloaded(*value_);
    } catch (const Error& e) {
      status_.error = e.what();
      if constexpr (kWhenBad == WhenBad::kFailClosed) value_ = std::make_shared<const T>();
      if (hooks_.failed) hooks_.failed(e, *value_);
    }
  }
  // Puts `loaded` in use and watches its files (stamped now when they are other files).
  void adopt(Loaded loaded) {
    if (loaded.files != watched_) {
      watched_ = std::move(loaded.files);
      stamps_ = stamp_files(watched_);
    }
    value_ = std::move(loaded.value);
  }

  const Load load_;
  const Hooks hooks_;
  std::mutex mutex_;
  std::vector<std::filesystem::path> watched_;
  std::vector<FileStamp> stamps_;  // of watched_ when value_ (or the last failure) was read
  std::shared_ptr<const T> value_;
  Status status_;
};

}  // namespace ironstone::seeder
