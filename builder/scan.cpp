#include "builder/scan.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "builder/errc.h"
#include "util/process.h"

namespace ironstone::builder {

namespace {

constexpr std::string_view kNames[] = {"unknown", "negligible", "low", "medium", "high", "critical", "none"};

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string_view rest = path ? path : "";
  while (!rest.empty()) {
    const std::size_t colon = rest.find(':');
    const std::string dir(rest.substr(0, colon));
    if (!dir.empty() && ::access((dir + "/" + program).c_str(), X_OK) == 0) return true;
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  return false;
}

Severity severity_of(const nlohmann::json& v) {
  if (!v.is_string()) return Severity::kUnknown;
  try {
    const Severity s = parse_severity(v.get<std::string>());
    return s == Severity::kNone ? Severity::kUnknown : s;
  } catch (const Error&) {
    return Severity::kUnknown;
  }
}

std::string text_of(const nlohmann::json& object, const char* key) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_string()) return {};
  return object[key].get<std::string>();
}

nlohmann::json parse_json(std::string_view text, const char* scanner) {
  try {
    return nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    throw error(Errc::kTool, std::string(scanner) + ": output is not JSON: " + e.what());
  }
}

}  // namespace

Severity parse_severity(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (std::size_t i = 0; i < std::size(kNames); ++i)
    if (lower == kNames[i]) return static_cast<Severity>(i);
  throw error(Errc::kUsage, "--fail-on '" + std::string(text) +
                                "': expected negligible, low, medium, high, critical or none");
}

std::string_view to_string(Severity s) { return kNames[static_cast<std::size_t>(s)]; }

std::string find_scanner(const std::string& wanted) {
  if (wanted != "auto") return on_path(wanted) ? wanted : "";
  for (const char* s : {"grype", "trivy"})
    if (on_path(s)) return s;
  return "";
}

std::vector<Finding> parse_grype_json(std::string_view json) {
  const nlohmann::json doc = parse_json(json, "grype");
  if (!doc.is_object() || !doc.contains("matches") || !doc["matches"].is_array())
    throw error(Errc::kTool, "grype: output has no 'matches' array");
  std::vector<Finding> out;
  for (const auto& m : doc["matches"]) {
    const nlohmann::json& v = m.is_object() && m.contains("vulnerability") ? m["vulnerability"] : nlohmann::json();
    const nlohmann::json& a = m.is_object() && m.contains("artifact") ? m["artifact"] : nlohmann::json();
    out.push_back({text_of(v, "id"), text_of(a, "name"), text_of(a, "version"),
                   severity_of(v.is_object() && v.contains("severity") ? v["severity"] : nlohmann::json())});
  }
  return out;
}

std::vector<Finding> parse_trivy_json(std::string_view json) {
  const nlohmann::json doc = parse_json(json, "trivy");
  if (!doc.is_object()) throw error(Errc::kTool, "trivy: output is not a JSON object");
  std::vector<Finding> out;
  if (!doc.contains("Results")) return out;  // nothing found
  if (!doc["Results"].is_array()) throw error(Errc::kTool, "trivy: 'Results' is not an array");
  for (const auto& r : doc["Results"]) {
    if (!r.is_object() || !r.contains("Vulnerabilities") || !r["Vulnerabilities"].is_array()) continue;
    for (const auto& v : r["Vulnerabilities"])
      out.push_back({text_of(v, "VulnerabilityID"), text_of(v, "PkgName"), text_of(v, "InstalledVersion"),
                     severity_of(v.is_object() && v.contains("Severity") ? v["Severity"] : nlohmann::json())});
  }
  return out;
}

ScanResult scan_sbom(const ScanOptions& o) {
  if (o.scanner != "auto" && o.scanner != "grype" && o.scanner != "trivy")
    throw error(Errc::kUsage, "--scanner '" + o.scanner + "': expected auto, grype or trivy");
  std::error_code ec;
  if (!std::filesystem::is_regular_file(o.sbom, ec)) throw error(Errc::kInput, o.sbom.string() + ": no such SBOM file");
  ScanResult result;
  result.scanner = find_scanner(o.scanner);
  if (result.scanner.empty())
    throw error(Errc::kScanner, (o.scanner == "auto" ? std::string("neither grype nor trivy is") : o.scanner + " is not") +
                                    " installed (not on PATH): " + o.sbom.string() +
                                    " was NOT scanned; install one (docs/ci-setup.md, \"Vulnerability scanning\")");
  const bool grype = result.scanner == "grype";
  const std::vector<std::string> argv =
      grype ? std::vector<std::string>{"grype", "sbom:" + o.sbom.string(), "-o", "json"}
            : std::vector<std::string>{"trivy", "sbom", "--format", "json", "--quiet", o.sbom.string()};
  util::ProcessOptions po;
  po.max_output = 256u << 20;
  const util::ProcessResult run = util::run_process(argv, po);
  if (run.exit_code != 0) throw error(Errc::kTool, util::failure_message(argv, run));
  result.findings = grype ? parse_grype_json(run.out) : parse_trivy_json(run.out);
  for (const auto& f : result.findings)
    if (o.fail_on != Severity::kNone && f.severity >= o.fail_on) ++result.at_or_above;
  return result;
}

}  // namespace ironstone::builder
