// The seeder's --enrolment-keys file: the public halves of the installer cards' enrolment keys
// it trusts (swarm/enrolment.h; one "<64 hex> <name>" a line). Reloaded when it changes
// (seeder/reloading_file.h: modification time, size, inode, so an editor's write-and-rename
// counts), checked on every identity request, so removing a line revokes that card at once;
// no SIGHUP.
// Fail closed: a version that does not parse (or a file that vanished) trusts no card until it
// is fixed (logged once per version); a typo never keeps a revoked key alive.
// Thread safety: current() and error() from any thread (one mutex).
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "seeder/reloading_file.h"

namespace ironstone::seeder {

class EnrolmentKeysFile {
 public:
  using Keys = std::map<std::string, std::string>;  // key hex -> card name
  // Loads `path`; throws Errc::kConfig naming the file and line when it does not parse.
  explicit EnrolmentKeysFile(std::filesystem::path path);

  const std::filesystem::path& path() const { return path_; }
  // The keys, reloaded first when the file changed; empty while the newest version is bad.
  std::shared_ptr<const Keys> current() { return file_.current(); }
  // Why the newest version is not in use ("" when it is).
  std::string error() { return file_.snapshot().status.error; }

 private:
  using File = ReloadingFile<Keys, WhenBad::kFailClosed>;
  static File::Loaded load(const std::filesystem::path& path);

  std::filesystem::path path_;
  File file_;
};

}  // namespace ironstone::seeder
