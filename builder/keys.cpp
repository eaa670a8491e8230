#include "builder/keys.h"

#include <cstdlib>

#include "builder/errc.h"
#include "builder/store.h"

namespace ironstone::builder {

namespace fs = std::filesystem;

manifest::PublicKey keygen(const fs::path& secret_key, const fs::path& public_key) {
  init_crypto();
  std::error_code ec;
  for (const auto& p : {secret_key, public_key})
    if (fs::exists(p, ec)) throw error(Errc::kExists, p.string() + ": already exists, not overwriting");
  manifest::SecretKey sk = manifest::generate_secret_key();
  write_file_exclusive(secret_key, manifest::serialize_secret_key(sk), 0600);
  try {
    write_file_exclusive(public_key, manifest::serialize_public_key(sk.public_key()), 0644);
  } catch (...) {
    fs::remove(secret_key, ec);
    throw;
  }
  return sk.public_key();
}

static std::string read_key_file(const fs::path& path) {
  try {
    return read_text_file(path, 4096);
  } catch (const Error& e) {
    throw error(Errc::kKey, e.what());
  }
}

manifest::SecretKey load_secret_key(const fs::path& path) {
  init_crypto();
  std::string text = read_key_file(path);
  const char* password = std::getenv("IRONSTONE_KEY_PASSWORD");
  try {
    return manifest::parse_secret_key(text, path.string(),
                                      password ? std::optional<std::string_view>(password) : std::nullopt);
  } catch (const Error& e) {
    throw error(Errc::kKey, e.what());
  }
}

std::vector<manifest::PublicKey> load_public_keys(const std::vector<fs::path>& paths) {
  init_crypto();
  std::vector<manifest::PublicKey> keys;
  for (const auto& p : paths) {
    try {
      keys.push_back(manifest::parse_public_key(read_key_file(p), p.string()));
    } catch (const Error& e) {
      throw error(Errc::kKey, e.what());
    }
  }
  return keys;
}

}  // namespace ironstone::builder
