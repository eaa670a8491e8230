#include "seeder/inventory_file.h"

#include <spdlog/spdlog.h>

namespace ironstone::seeder {

namespace fs = std::filesystem;

InventoryFile::InventoryFile(fs::path path)
    : path_(std::move(path)),
      file_({path_},
            [p = path_] {
              auto inv = std::make_shared<const Inventory>(load_inventory(p));
              auto files = inv->files;
              return File::Loaded{std::move(inv), std::move(files)};
            },
            File::Hooks{.reloaded =
                            [p = path_](const Inventory& inv) {
                              spdlog::info("inventory {}: reloaded, {} nodes", p.string(), inv.nodes.size());
                            },
                        .failed =
                            [](const Error& e, const Inventory& in_use) {
                              spdlog::error("inventory: {}; still serving the previous version ({} nodes)",
                                            e.what(), in_use.nodes.size());
                            }}) {
  spdlog::info("inventory {}: {} nodes", path_.string(), file_.current()->nodes.size());
}

InventoryFile::Status InventoryFile::status() {
  const auto s = file_.snapshot();
  return {s.value->nodes.size(), s.status.reloads, s.status.error};
}

}  // namespace ironstone::seeder
