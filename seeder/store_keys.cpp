#include "seeder/store_keys.h"

#include <algorithm>
#include <fstream>
#include <span>

#include "manifest/layout.h"
#include "manifest/manifest.h"
#include "manifest/torrent.h"
#include "seeder/errc.h"
#include "util/file.h"

namespace ironstone::seeder {

namespace fs = std::filesystem;

namespace {

// The whole file, at most `max` bytes (more is an error).
std::string read_bounded(const fs::path& path, std::size_t max) {
  std::string why;
  auto bytes = util::read_small_file(path, max, &why);
  if (!bytes) throw error(Errc::kStore, path.string() + ": " + why);
  return std::move(*bytes);
}

}  // namespace

std::vector<manifest::PublicKey> load_store_keys(const fs::path& store) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(store / "keys", ec))
    if (e.path().extension() == ".pub") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<manifest::PublicKey> keys;
  for (const auto& f : files) {
    try {
      keys.push_back(manifest::parse_public_key(read_bounded(f, 4096), f.string()));
    } catch (const Error& e) {
      throw error(Errc::kStore, std::string("trusted key ") + e.what());
    }
  }
  return keys;
}

void check_release_signed(const fs::path& release_dir, const std::vector<manifest::PublicKey>& keys) {
  const fs::path mf = release_dir / manifest::layout::kManifestFile;
  const fs::path sig_file = mf.string() + manifest::layout::kSignatureSuffix;
  std::error_code ec;
  if (!fs::exists(sig_file, ec)) throw error(Errc::kStore, sig_file.string() + ": no signature");
  const std::string bytes = read_bounded(mf, manifest::kMaxManifestBytes);
  const std::string sig = read_bounded(sig_file, manifest::kMaxMinisignFileBytes);
  const auto message = std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  manifest::verify(keys, message, manifest::parse_signature(sig, sig_file.string()), sig_file.string());
  const manifest::Manifest m = manifest::parse_manifest(bytes, mf.string());
  const fs::path torrent = release_dir / manifest::layout::kTorrentFile;
  const std::string t = read_bounded(torrent, 16 << 20);
  manifest::check_torrent(m, std::span<const char>(t.data(), t.size()), torrent.string());
}

}  // namespace ironstone::seeder
