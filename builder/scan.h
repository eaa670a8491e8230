// ironstone-build scan: the gold image's SBOM (SPDX JSON, builder/sbom.h) through a vulnerability
// scanner, grype or trivy, whichever is installed (grype first; --scanner picks one), failing on
// findings at or above a severity. Never a silent pass: with no scanner installed it says so and
// exits with its own status (kExitNoScanner), distinct from "findings" and from other errors.
//
//   grype sbom:<FILE> -o json         -> {"matches":[{"vulnerability":{"id","severity"},
//                                                      "artifact":{"name","version"}}]}
//   trivy sbom --format json --quiet <FILE> -> {"Results":[{"Vulnerabilities":[{"VulnerabilityID",
//                                                      "PkgName","InstalledVersion","Severity"}]}]}
//
// Severities, lowest first: unknown, negligible, low, medium, high, critical (case-insensitive;
// trivy's UNKNOWN and grype's Unknown/Negligible map here). --fail-on none reports but never fails.
// Errors: Error(Errc::kScanner) when none is installed, kTool when the scanner fails or its output
// does not parse (naming the scanner and the field), kUsage for a bad severity.
// Thread safety: reentrant; runs a child process.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ironstone::builder {

inline constexpr int kExitFindings = 2;   // findings at or above --fail-on
inline constexpr int kExitNoScanner = 3;  // neither grype nor trivy installed: not scanned

enum class Severity { kUnknown, kNegligible, kLow, kMedium, kHigh, kCritical, kNone };
// "high", "High", "HIGH" -> kHigh; "none" -> kNone (a threshold nothing reaches). Throws kUsage.
Severity parse_severity(std::string_view text);
std::string_view to_string(Severity s);

struct Finding {
  std::string id;       // CVE-2024-1234, GHSA-…
  std::string package;  // name
  std::string version;
  Severity severity = Severity::kUnknown;
};

struct ScanOptions {
  std::filesystem::path sbom;
  std::string scanner = "auto";  // "auto", "grype" or "trivy"
  Severity fail_on = Severity::kHigh;
};

struct ScanResult {
  std::string scanner;            // the one that ran
  std::vector<Finding> findings;  // all of them
  std::size_t at_or_above = 0;    // findings with severity >= fail_on
  bool failed() const { return at_or_above > 0; }
};

// Which scanner "auto" (or the one asked for) resolves to on PATH; "" when none is there.
std::string find_scanner(const std::string& wanted);
std::vector<Finding> parse_grype_json(std::string_view json);
std::vector<Finding> parse_trivy_json(std::string_view json);
ScanResult scan_sbom(const ScanOptions& options);

}  // namespace ironstone::builder
