// The inventory file of a running seeder (--inventory), reloaded when it changes.
//
// Every current() call (one per identity request) stats the files the inventory was read
// from (the inventory and its token_file: modification time, size, inode, so an editor's
// write-and-rename counts); when one changed, the inventory is parsed again. A new version
// that does not parse is logged (once per version) and the last good inventory stays in
// use, so a typo never takes the rack's identities away. No SIGHUP is needed.
//
// Thread safety: current() and status() may be called from any thread (one mutex).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "seeder/inventory.h"

namespace ironstone::seeder {

class InventoryFile {
 public:
  // Loads `path`; throws Errc::kConfig (naming the file and field) when it does not parse.
  explicit InventoryFile(std::filesystem::path path);

  const std::filesystem::path& path() const { return path_; }
  // The inventory, reloaded first if a file it came from changed.
  std::shared_ptr<const Inventory> current();

  struct Status {
    std::size_t nodes = 0;
    std::uint64_t reloads = 0;  // successful reloads after the first load
    std::string error;          // why the newest version on disk is not in use; empty when it is
  };
  Status status();

 private:
  struct Stamp {
    std::int64_t mtime_ns = -1;
    std::uint64_t size = 0, inode = 0;
    bool operator==(const Stamp&) const = default;
  };
  static std::vector<Stamp> stamps(const std::vector<std::filesystem::path>& files);

  std::filesystem::path path_;
  std::mutex mutex_;
  std::shared_ptr<const Inventory> inventory_;
  std::vector<std::filesystem::path> watched_;
  std::vector<Stamp> loaded_;  // stamps of watched_ when inventory_ (or the last failure) was read
  Status status_;
};

}  // namespace ironstone::seeder
