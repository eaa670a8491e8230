#include "manifest/layout.h"

namespace ironstone::manifest::layout {

std::string chunk_relpath(const Hash256& hash) {
  std::string hex = hash.hex();
  return "chunks/" + hex.substr(0, 2) + "/" + hex + ".zst";
}

std::filesystem::path release_dir(const std::filesystem::path& store, const std::string& board,
                                  const std::string& version) {
  return store / "releases" / board / version;
}

std::filesystem::path channel_file(const std::filesystem::path& store, const std::string& board,
                                   const std::string& channel) {
  return store / "channels" / board / (channel + ".json");
}

}  // namespace ironstone::manifest::layout
