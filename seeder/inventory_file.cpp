#include "seeder/inventory_file.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include "seeder/errc.h"

namespace ironstone::seeder {

namespace fs = std::filesystem;

std::vector<InventoryFile::Stamp> InventoryFile::stamps(const std::vector<fs::path>& files) {
  std::vector<Stamp> out;
  for (const auto& f : files) {
    struct stat st {};
    Stamp s;
    if (::stat(f.c_str(), &st) == 0) {
      s.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
      s.size = static_cast<std::uint64_t>(st.st_size);
      s.inode = static_cast<std::uint64_t>(st.st_ino);
    }
    out.push_back(s);
  }
  return out;
}

InventoryFile::InventoryFile(fs::path path) : path_(std::move(path)) {
  auto inv = std::make_shared<const Inventory>(load_inventory(path_));
  watched_ = inv->files;
  loaded_ = stamps(watched_);
  status_.nodes = inv->nodes.size();
  inventory_ = std::move(inv);
  spdlog::info("inventory {}: {} nodes", path_.string(), status_.nodes);
}

std::shared_ptr<const Inventory> InventoryFile::current() {
  std::lock_guard lock(mutex_);
  auto now = stamps(watched_);
  if (now == loaded_) return inventory_;
  // Stamp first: a file changing again while it is read is seen by the next call.
  loaded_ = now;
  try {
    auto inv = std::make_shared<const Inventory>(load_inventory(path_));
    watched_ = inv->files;
    loaded_ = stamps(watched_);
    inventory_ = std::move(inv);
    status_.nodes = inventory_->nodes.size();
    status_.error.clear();
    ++status_.reloads;
    spdlog::info("inventory {}: reloaded, {} nodes", path_.string(), status_.nodes);
  } catch (const Error& e) {
    // watched_ stays, so fixing the file (or the token file) is noticed.
    status_.error = e.what();
    spdlog::error("inventory: {}; still serving the previous version ({} nodes)", e.what(), status_.nodes);
  }
  return inventory_;
}

InventoryFile::Status InventoryFile::status() {
  (void)current();
  std::lock_guard lock(mutex_);
  return status_;
}

}  // namespace ironstone::seeder
