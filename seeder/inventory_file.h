// The inventory file of a running seeder (--inventory), reloaded when it changes.
//
// Every current() call (one per identity request) stats the files the inventory was read
// from (the inventory and its token_file: modification time, size, inode, so an editor's
// write-and-rename counts); when one changed, the inventory is parsed again
// (seeder/reloading_file.h). A new version that does not parse is logged (once per version)
// and the last good inventory stays in use, so a typo never takes the rack's identities
// away. No SIGHUP is needed.
//
// Thread safety: current() and status() may be called from any thread (one mutex).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "seeder/inventory.h"
#include "seeder/reloading_file.h"

namespace ironstone::seeder {

class InventoryFile {
 public:
  // Loads `path`; throws Errc::kConfig (naming the file and field) when it does not parse.
  explicit InventoryFile(std::filesystem::path path);

  const std::filesystem::path& path() const { return path_; }
  // The inventory, reloaded first if a file it came from changed.
  std::shared_ptr<const Inventory> current() { return file_.current(); }

  struct Status {
    std::size_t nodes = 0;      // in the inventory in use
    std::uint64_t reloads = 0;  // successful reloads after the first load
    std::string error;          // why the newest version on disk is not in use; empty when it is
  };
  Status status();

 private:
  using File = ReloadingFile<Inventory, WhenBad::kKeepLastGood>;

  std::filesystem::path path_;
  File file_;
};

}  // namespace ironstone::seeder
