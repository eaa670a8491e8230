#include "bench/workload.h"

#include <unistd.h>

#include <fstream>
#include <iostream>

#include "bench/proc.h"

namespace ironstone::bench {

namespace fs = std::filesystem;

namespace {

std::uint64_t dir_bytes(const fs::path& d) {
  std::uint64_t s = 0;
  for (const auto& e : fs::recursive_directory_iterator(d))
    if (e.is_regular_file()) s += e.file_size();
  return s;
}

fs::path self_exe() { return fs::read_symlink("/proc/self/exe"); }

std::string find_one(const std::string& bin_dir, const std::string& tree_path, const std::string& name) {
  std::vector<fs::path> candidates;
  if (!bin_dir.empty()) candidates = {fs::path(bin_dir) / tree_path, fs::path(bin_dir) / name};
  auto build = self_exe().parent_path().parent_path();
  candidates.push_back(build / tree_path);
  candidates.push_back(self_exe().parent_path() / name);
  for (const auto& c : candidates)
    if (access(c.c_str(), X_OK) == 0) return fs::absolute(c).string();
  return name;  // PATH
}

}  // namespace

Binaries find_binaries(const std::string& bin_dir) {
  Binaries b;
  b.build = find_one(bin_dir, "builder/ironstone-build", "ironstone-build");
  b.seeder = find_one(bin_dir, "seeder/ironstone-seeder", "ironstone-seeder");
  b.flasher = find_one(bin_dir, "flasher/ironstone-flasher", "ironstone-flasher");
  b.self = self_exe().string();
  return b;
}

fs::path find_make_image() {
  std::vector<fs::path> c;
#ifdef IRONSTONE_SOURCE_DIR
  c.push_back(fs::path(IRONSTONE_SOURCE_DIR) / "tools/make-image.sh");
#endif
  c.push_back(self_exe().parent_path().parent_path().parent_path() / "tools/make-image.sh");
  c.push_back("/usr/share/ironstone/make-image.sh");
  for (const auto& p : c)
    if (fs::exists(p)) return p;
  throw std::runtime_error("tools/make-image.sh not found (pass --image FILE)");
}

Image prepare_image(const ImageOptions& o, const Binaries& bin) {
  Image img;
  fs::create_directories(o.work);
  const std::string params = o.image_file.empty()
                                 ? "built " + o.image_size + " payload " + std::to_string(o.payload_mib)
                                 : "file " + fs::absolute(o.image_file).string() + " " +
                                       std::to_string(fs::file_size(o.image_file));
  const auto params_file = o.work / "params";
  const bool reuse = fs::exists(params_file) && read_file(params_file.string()) == params &&
                     fs::exists(o.work / "store") && fs::exists(o.work / "image.img.zst");
  img.gold = o.image_file.empty() ? o.work / "gold.img" : fs::absolute(o.image_file);
  img.zst = o.work / "image.img.zst";
  img.store = o.work / "store";
  img.public_key = o.work / "release.pub";
  if (!reuse) {
    fs::remove(params_file);
    fs::remove_all(img.store);
    const auto gold_params = o.work / "gold.params";
    if (o.image_file.empty() && !(fs::exists(img.gold) && fs::exists(gold_params) &&
                                  read_file(gold_params.string()) == params)) {
      std::cerr << "bench: building a " << o.image_size << " image with " << o.payload_mib
                << " MiB of real files in its ext4 root (tools/make-image.sh)\n";
      run_checked({"bash", o.make_image.string(), img.gold.string(), o.image_size, std::to_string(o.payload_mib)},
                  std::chrono::seconds(1200));
      std::ofstream(gold_params) << params;
    }
    std::cerr << "bench: publishing it as a signed release, and zstd -T0 -3 of the whole image\n";
    fs::remove(o.work / "release.key");
    fs::remove(img.public_key);
    run_checked({bin.build, "keygen", "--secret-key", (o.work / "release.key").string(), "--public-key",
                 img.public_key.string()});
    run_checked({bin.build, "publish", "--store", img.store.string(), "--board", img.board, "--version",
                 img.version, "--secret-key", (o.work / "release.key").string(), "--quiet", img.gold.string()},
                std::chrono::seconds(1200));
    run_checked({"zstd", "-T0", "-3", "-q", "-f", img.gold.string(), "-o", img.zst.string()},
                std::chrono::seconds(1200));
    std::ofstream(params_file) << params;
  }
  img.size = fs::file_size(img.gold);
  img.zst_bytes = fs::file_size(img.zst);
  img.stored_bytes = dir_bytes(img.store / "chunks");
  return img;
}

}  // namespace ironstone::bench
