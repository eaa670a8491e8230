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

namespace {

// The cache subdirectory of the image `o` describes, and its parameters line.
// A release format other than 2 has an entry of its own (suffix -f1), and so has a chunk size
// other than 4M (suffix -c1M), so that they all stay cached.
std::pair<fs::path, std::string> cache_entry(const ImageOptions& o) {
  const bool chunk4m = o.chunk_size == "4M";
  const std::string suffix = (o.release_format == 2 ? "" : "-f" + std::to_string(o.release_format)) +
                             (chunk4m ? "" : "-c" + o.chunk_size);
  const std::string format = " format " + std::to_string(o.release_format) + (chunk4m ? "" : " chunk " + o.chunk_size);
  if (o.image_file.empty())
    return {o.cache / ("built-" + o.image_size + "-p" + std::to_string(o.payload_mib) + suffix),
            "built " + o.image_size + " payload " + std::to_string(o.payload_mib) + format};
  const auto size = std::to_string(fs::file_size(o.image_file));
  return {o.cache / ("file-" + fs::path(o.image_file).filename().string() + "-" + size + suffix),
          "file " + fs::absolute(o.image_file).string() + " " + size + format};
}

// The image part of the parameters (what the gold image depends on; not the release format).
std::string gold_params_of(const std::string& params) { return params.substr(0, params.rfind(" format ")); }

// Signs the image as a release into img.store and writes zstd -T0 -3 of it to img.zst.
void publish_image(const Image& img, const fs::path& dir, const Binaries& bin, const ImageOptions& o) {
  std::cerr << "bench: publishing it as a signed release, and zstd -T0 -3 of the whole image (into " << dir
            << ")\n";
  fs::remove_all(img.store);
  fs::remove(dir / "release.key");
  fs::remove(img.public_key);
  run_checked({bin.build, "keygen", "--secret-key", (dir / "release.key").string(), "--public-key",
               img.public_key.string()});
  run_checked({bin.build, "publish", "--store", img.store.string(), "--board", img.board, "--version", img.version,
               "--secret-key", (dir / "release.key").string(), "--format-version", std::to_string(o.release_format), "--chunk-size", o.chunk_size, "--quiet",
               img.gold.string()},
              std::chrono::seconds(1200));
  run_checked({"zstd", "-T0", "-3", "-q", "-f", img.gold.string(), "-o", img.zst.string()},
              std::chrono::seconds(1200));
}

}  // namespace

Image prepare_image(const ImageOptions& o, const Binaries& bin) {
  Image img;
  const auto [dir, params] = cache_entry(o);
  fs::create_directories(dir);
  const auto params_file = dir / "params";
  const bool reuse = fs::exists(params_file) && read_file(params_file.string()) == params &&
                     fs::exists(dir / "store") && fs::exists(dir / "image.img.zst");
  img.gold = o.image_file.empty() ? dir / "gold.img" : fs::absolute(o.image_file);
  img.zst = dir / "image.img.zst";
  img.store = dir / "store";
  img.public_key = dir / "release.pub";
  if (reuse) {
    std::cerr << "bench: reusing the image and release cached in " << dir << "\n";
  } else {
    fs::remove(params_file);
    const auto gold_params = dir / "gold.params";
    if (o.image_file.empty() && !(fs::exists(img.gold) && fs::exists(gold_params) &&
                                  read_file(gold_params.string()) == gold_params_of(params))) {
      std::cerr << "bench: building a " << o.image_size << " image with " << o.payload_mib
                << " MiB of real files in its ext4 root (tools/make-image.sh) into " << dir << "\n";
      run_checked({"bash", o.make_image.string(), img.gold.string(), o.image_size, std::to_string(o.payload_mib)},
                  std::chrono::seconds(1200));
      std::ofstream(gold_params) << gold_params_of(params);
    }
    publish_image(img, dir, bin, o);
    std::ofstream(params_file) << params;
  }
  img.size = fs::file_size(img.gold);
  img.zst_bytes = fs::file_size(img.zst);
  img.stored_bytes = dir_bytes(img.store / "chunks");
  return img;
}

}  // namespace ironstone::bench
