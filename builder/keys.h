// Signing keys for `ironstone-build` (minisign format, manifest/minisign.h).
#pragma once

#include <filesystem>
#include <vector>

#include "manifest/minisign.h"

namespace ironstone::builder {

// Writes a new key pair. Refuses to overwrite either file (Errc::kExists); the
// secret key file gets mode 0600. Returns the public key.
manifest::PublicKey keygen(const std::filesystem::path& secret_key, const std::filesystem::path& public_key);

// Loads a secret key; an encrypted one takes its password from the environment
// variable IRONSTONE_KEY_PASSWORD. Throws Errc::kKey naming the file.
manifest::SecretKey load_secret_key(const std::filesystem::path& path);

// Loads one or more public key files. Throws Errc::kKey naming the file.
std::vector<manifest::PublicKey> load_public_keys(const std::vector<std::filesystem::path>& paths);

}  // namespace ironstone::builder
