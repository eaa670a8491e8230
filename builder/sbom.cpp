#include "builder/sbom.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>
#include <sstream>

#include "builder/errc.h"
#include "builder/image_edit.h"
#include "manifest/hash.h"
#include "manifest/manifest.h"
#include "util/file.h"

namespace ironstone::builder {

namespace fs = std::filesystem;

std::vector<DebPackage> parse_dpkg_status(const std::string& text) {
  std::vector<DebPackage> out;
  std::istringstream in(text);
  DebPackage p;
  std::string status, line;
  auto flush = [&] {
    if (!p.name.empty() && status.size() >= 9 && status.ends_with(" installed")) {
      if (p.source.empty()) p.source = p.name;
      if (p.source_version.empty()) p.source_version = p.version;
      out.push_back(p);
    }
    p = {};
    status.clear();
  };
  while (std::getline(in, line)) {
    if (line.empty()) {
      flush();
      continue;
    }
    if (line[0] == ' ' || line[0] == '\t') continue;
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = line.substr(0, colon);
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    if (key == "Package") p.name = value;
    else if (key == "Version") p.version = value;
    else if (key == "Architecture") p.architecture = value;
    else if (key == "Status") status = value;
    else if (key == "Source") {
      // "Source: glibc (2.36-9)" when the source version differs.
      const auto sp = value.find(' ');
      p.source = value.substr(0, sp);
      if (sp != std::string::npos && value.size() > sp + 2 && value[sp + 1] == '(' && value.back() == ')')
        p.source_version = value.substr(sp + 2, value.size() - sp - 3);
    }
    if (out.size() > 100000) throw error(Errc::kInput, "dpkg status: more than 100000 packages");
  }
  flush();
  std::sort(out.begin(), out.end(), [](const DebPackage& a, const DebPackage& b) {
    return std::tie(a.name, a.architecture) < std::tie(b.name, b.architecture);
  });
  return out;
}

std::vector<std::string> copyright_licenses(const std::string& text) {
  if (text.rfind("Format:", 0) != 0 && text.find("\nFormat:") == std::string::npos) return {};
  std::set<std::string> names;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("License:", 0) != 0) continue;
    std::string v = line.substr(8);
    v.erase(0, v.find_first_not_of(" \t"));
    while (!v.empty() && (v.back() == ' ' || v.back() == '\r')) v.pop_back();
    if (!v.empty() && v.size() < 200) names.insert(v);
  }
  return {names.begin(), names.end()};
}

std::vector<DebPackage> image_packages(const disk::Ext4Image& root) {
  auto st = root.stat("/var/lib/dpkg/status");
  if (!st) return {};
  std::vector<DebPackage> pkgs = parse_dpkg_status(root.cat("/var/lib/dpkg/status"));
  if (!root.exists("/usr/share/doc")) return pkgs;
  StagingDir docs("ironstone-sbom");
  root.dump_tree("/usr/share/doc", docs.path());
  for (auto& p : pkgs) {
    const fs::path f = docs.path() / "doc" / p.name / "copyright";
    std::string why;
    if (auto text = util::read_small_file(f, 4 << 20, &why)) p.licenses = copyright_licenses(*text);
  }
  return pkgs;
}

namespace {

// SPDX identifiers allow letters, digits, '.' and '-'.
std::string spdx_ref(std::string s) {
  for (auto& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') c = '-';
  return s;
}

// Debian short names (DEP-5) that are SPDX identifiers as they are, or nearly.
std::optional<std::string> spdx_id(const std::string& debian) {
  static const std::map<std::string, std::string> map = {
      {"GPL-2", "GPL-2.0-only"},      {"GPL-2+", "GPL-2.0-or-later"},   {"GPL-3", "GPL-3.0-only"},
      {"GPL-3+", "GPL-3.0-or-later"}, {"LGPL-2", "LGPL-2.0-only"},      {"LGPL-2+", "LGPL-2.0-or-later"},
      {"LGPL-2.1", "LGPL-2.1-only"},  {"LGPL-2.1+", "LGPL-2.1-or-later"}, {"LGPL-3", "LGPL-3.0-only"},
      {"LGPL-3+", "LGPL-3.0-or-later"}, {"Expat", "MIT"},               {"MIT", "MIT"},
      {"BSD-2-clause", "BSD-2-Clause"}, {"BSD-3-clause", "BSD-3-Clause"}, {"Apache-2.0", "Apache-2.0"},
      {"public-domain", "LicenseRef-public-domain"}, {"Zlib", "Zlib"}, {"ISC", "ISC"}, {"MPL-2.0", "MPL-2.0"},
      {"CC0-1.0", "CC0-1.0"}, {"Artistic", "Artistic-1.0"}};
  auto it = map.find(debian);
  if (it == map.end()) return std::nullopt;
  return it->second;
}

nlohmann::ordered_json package_json(const DebPackage& p) {
  nlohmann::ordered_json j;
  j["name"] = p.name;
  j["SPDXID"] = "SPDXRef-deb-" + spdx_ref(p.name + "-" + p.architecture);
  j["versionInfo"] = p.version;
  j["downloadLocation"] = "NOASSERTION";
  j["filesAnalyzed"] = false;
  j["sourceInfo"] = "built from Debian source package " + p.source + " " + p.source_version;
  std::vector<std::string> ids;
  for (const auto& l : p.licenses)
    if (auto id = spdx_id(l); id && id->rfind("LicenseRef-", 0) != 0) ids.push_back(*id);
  j["licenseConcluded"] = "NOASSERTION";
  j["licenseDeclared"] = !p.licenses.empty() && ids.size() == p.licenses.size()
                             ? [&] { std::string s; for (const auto& i : ids) s += (s.empty() ? "" : " AND ") + i; return s; }()
                             : "NOASSERTION";
  if (!p.licenses.empty()) {
    std::string c = "Debian copyright file: ";
    for (std::size_t i = 0; i < p.licenses.size(); ++i) c += (i ? ", " : "") + p.licenses[i];
    j["licenseComments"] = c;
  }
  j["copyrightText"] = "NOASSERTION";
  j["externalRefs"] = {{{"referenceCategory", "PACKAGE-MANAGER"}, {"referenceType", "purl"},
                        {"referenceLocator", "pkg:deb/debian/" + p.name + "@" + p.version + "?arch=" + p.architecture}}};
  return j;
}

}  // namespace

std::string spdx_json(const SbomInput& in) {
  nlohmann::ordered_json doc;
  doc["spdxVersion"] = "SPDX-2.3";
  doc["dataLicense"] = "CC0-1.0";
  doc["SPDXID"] = "SPDXRef-DOCUMENT";
  doc["name"] = in.name;
  std::string all;
  for (const auto& p : in.packages) all += p.name + " " + p.version + " " + p.architecture + "\n";
  all += in.k3s_sha256.value_or("");
  const auto h = blake2b256({reinterpret_cast<const std::uint8_t*>(all.data()), all.size()});
  doc["documentNamespace"] = "https://ironstone.invalid/spdx/" + in.name + "-" + h.hex().substr(0, 32);
  doc["creationInfo"] = {{"created", manifest::format_time(in.created)},
                         {"creators", {std::string("Tool: ironstone-build-") + IRONSTONE_VERSION}}};
  nlohmann::ordered_json pkgs = nlohmann::ordered_json::array();
  nlohmann::ordered_json rels = nlohmann::ordered_json::array();
  for (const auto& p : in.packages) pkgs.push_back(package_json(p));
  if (in.k3s_sha256) {
    pkgs.push_back({{"name", "k3s"}, {"SPDXID", "SPDXRef-k3s"}, {"versionInfo", in.k3s_version.value_or("NOASSERTION")},
                    {"downloadLocation", "https://github.com/k3s-io/k3s/releases"}, {"filesAnalyzed", false},
                    {"checksums", {{{"algorithm", "SHA256"}, {"checksumValue", *in.k3s_sha256}}}},
                    {"licenseConcluded", "NOASSERTION"}, {"licenseDeclared", "Apache-2.0"},
                    {"copyrightText", "NOASSERTION"}, {"comment", "installed as /usr/local/bin/k3s"}});
  }
  for (const auto& p : pkgs)
    rels.push_back({{"spdxElementId", "SPDXRef-DOCUMENT"}, {"relationshipType", "DESCRIBES"},
                    {"relatedSpdxElement", p["SPDXID"]}});
  doc["packages"] = pkgs;
  doc["relationships"] = rels;
  return doc.dump(2) + "\n";
}

}  // namespace ironstone::builder
