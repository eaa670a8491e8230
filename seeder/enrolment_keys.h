// The seeder's --enrolment-keys file: the public halves of the installer cards' enrolment keys
// it trusts (swarm/enrolment.h; one "<64 hex> <name>" a line). Reloaded when it changes
// (modification time, size, inode: an editor's write-and-rename counts), checked on every
// identity request, so removing a line revokes that card at once; no SIGHUP.
// Fail closed: a version that does not parse (or a file that vanished) trusts no card until it
// is fixed (logged once per version); a typo never keeps a revoked key alive.
// Thread safety: current() and status() from any thread (one mutex).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace ironstone::seeder {

class EnrolmentKeysFile {
 public:
  using Keys = std::map<std::string, std::string>;  // key hex -> card name
  // Loads `path`; throws Errc::kConfig naming the file and line when it does not parse.
  explicit EnrolmentKeysFile(std::filesystem::path path);

  const std::filesystem::path& path() const { return path_; }
  // The keys, reloaded first when the file changed; empty while the newest version is bad.
  std::shared_ptr<const Keys> current();
  // Why the newest version is not in use ("" when it is).
  std::string error();

 private:
  struct Stamp {
    std::int64_t mtime_ns = -1;
    std::uint64_t size = 0, inode = 0;
    bool operator==(const Stamp&) const = default;
  };
  Stamp stamp() const;
  std::shared_ptr<const Keys> load() const;

  std::filesystem::path path_;
  std::mutex mutex_;
  std::shared_ptr<const Keys> keys_;
  Stamp loaded_;
  std::string error_;
};

}  // namespace ironstone::seeder
