// The gold image's SBOM: SPDX 2.3 JSON listing every package the image's dpkg database
// (/var/lib/dpkg/status) says is installed — name, version, architecture, source package —
// with the licences of machine-readable /usr/share/doc/<package>/copyright files, plus the
// k3s binary and its SHA-256. Read rootlessly with debugfs (disk/image_fs.h).
// Errors: builder::Errc::kInput for a status database that cannot be parsed.
// Thread safety: stateless functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "disk/image_fs.h"

namespace ironstone::builder {

struct DebPackage {
  std::string name, version, architecture, source, source_version;
  std::vector<std::string> licenses;  // Debian's short names from the copyright file
};

struct SbomInput {
  std::string name;                     // the document's name (the recipe's)
  std::int64_t created = 0;             // unix seconds (SOURCE_DATE_EPOCH)
  std::vector<DebPackage> packages;
  std::optional<std::string> k3s_version, k3s_sha256;
};

// Installed packages from a dpkg status file's text (entries whose Status ends "installed").
std::vector<DebPackage> parse_dpkg_status(const std::string& text);
// The `License:` names of a machine-readable (DEP-5) copyright file; empty otherwise.
std::vector<std::string> copyright_licenses(const std::string& text);
// Packages of the image's root plus their licences (one debugfs rdump of /usr/share/doc).
std::vector<DebPackage> image_packages(const disk::Ext4Image& root);
// The SPDX 2.3 JSON document (deterministic: sorted, no random ids).
std::string spdx_json(const SbomInput& input);

}  // namespace ironstone::builder
