// The CI face of the real `ironstone-build` binary: publish --dry-run leaves the store byte for
// byte as it was, --ci prints one JSON summary on stdout and nothing else, --config supplies flags
// (and config.env.example names every flag there is), and scan never passes silently.
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "builder/errc.h"
#include "builder/scan.h"
#include "tests/builder/builder_testing.h"

namespace ironstone::builder::testing {
namespace {

using ::testing::HasSubstr;

class CiCli : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(tool)) << tool;
    ASSERT_EQ(run(" keygen --secret-key " + q(sk()) + " --public-key " + q(pk())), 0) << out;
    write_file(image(), sample_image());
  }
  static std::string q(const fs::path& p) { return "'" + p.string() + "'"; }
  fs::path sk() const { return dir.path() / "release.key"; }
  fs::path pk() const { return dir.path() / "release.pub"; }
  fs::path store() const { return dir.path() / "store"; }
  fs::path image() const { return dir.path() / "gold.img"; }
  // Runs ironstone-build; `out` gets stdout and stderr, unless `args` sends stderr elsewhere.
  int run(const std::string& args, const std::string& prefix = "") {
    return run_command("{ " + prefix + q(tool) + args + "; }", &out);
  }
  std::string publish_args(const std::string& version) const {
    return " publish --store " + q(store()) + " --board rpi5 --version " + version + " --secret-key " + q(sk()) +
           " --chunk-size 64K --threads 2 --expires 2100-01-01T00:00:00Z ";
  }
  fs::path fake_tool_dir() const { return dir.path() / "bin"; }
  // A fake `name` on PATH that prints `json` (what the real scanner would).
  void fake_scanner(const std::string& name, const std::string& json) {
    fs::create_directories(fake_tool_dir());
    write_text(dir.path() / (name + ".json"), json);
    write_text(fake_tool_dir() / name, "#!/bin/sh\necho \"$@\" > " + q(dir.path() / (name + ".args")) + "\ncat " +
                                           q(dir.path() / (name + ".json")) + "\n");
    fs::permissions(fake_tool_dir() / name, fs::perms::owner_all);
  }
  std::string path_with_only(const fs::path& bin) const { return "PATH=" + q(bin) + ":/usr/bin:/bin "; }

  TempDir dir;
  fs::path tool = ::ironstone::testing::binary("ironstone-build");
  std::string out;
};

TEST_F(CiCli, DryRunLeavesAnExistingStoreByteForByteUntouched) {
  ASSERT_EQ(run(publish_args("1.0") + "--quiet " + q(image())), 0) << out;
  write_file(image(), sample_image(7));  // new chunks: a real publish would write chunk files
  const Snapshot before = snapshot(store());
  ASSERT_EQ(run(publish_args("1.1") + "--quiet --dry-run " + q(image())), 0) << out;
  EXPECT_THAT(out, HasSubstr("dry run: would publish rpi5/1.1 (channel stable, sequence 2)"));
  EXPECT_THAT(out, HasSubstr("nothing was written"));
  EXPECT_STORE_UNCHANGED(before, store());
}

TEST_F(CiCli, DryRunIntoNoStoreCreatesNothing) {
  ASSERT_EQ(run(publish_args("1.0") + "--quiet --dry-run " + q(image())), 0) << out;
  EXPECT_FALSE(fs::exists(store()));
}

TEST_F(CiCli, DryRunRefusesWhatPublishWouldRefuse) {
  ASSERT_EQ(run(publish_args("1.0") + "--quiet " + q(image())), 0) << out;
  const Snapshot before = snapshot(store());
  EXPECT_EQ(run(publish_args("1.0") + "--quiet --dry-run " + q(image())), 1);
  EXPECT_THAT(out, HasSubstr("already exists"));
  EXPECT_EQ(run(publish_args("2.0") + "--quiet --dry-run --sequence 1 " + q(image())), 1);
  EXPECT_THAT(out, HasSubstr("is not above the highest published"));
  EXPECT_STORE_UNCHANGED(before, store());
}

TEST_F(CiCli, CiPublishPrintsOneJsonSummaryOnStdout) {
  write_text(fs::path(image().string() + ".spdx.json"), "{\"spdxVersion\":\"SPDX-2.3\"}\n");
  ASSERT_EQ(run(" --ci" + publish_args("1.0") + q(image()) + " 2>/dev/null"), 0) << out;
  const auto j = nlohmann::json::parse(out);  // the whole of stdout: no progress, no prose
  EXPECT_EQ(j["command"], "publish");
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["release"]["version"], "1.0");
  EXPECT_EQ(j["release"]["sequence"], 1);
  EXPECT_EQ(j["sizes"]["image"], sample_image().size());
  EXPECT_EQ(j["hashes"]["manifest"].get<std::string>().size(), 64u);
  EXPECT_EQ(j["sbom"]["path"], image().string() + ".spdx.json");
  EXPECT_TRUE(j["timings"]["total_s"].is_number());
  // A failure is a summary too.
  EXPECT_EQ(run(" publish --ci" + publish_args("1.0").substr(8) + q(image()) + " 2>/dev/null"), 1);
  const auto f = nlohmann::json::parse(out);
  EXPECT_EQ(f["ok"], false);
  EXPECT_THAT(f["error"].get<std::string>(), HasSubstr("already exists"));
}

TEST_F(CiCli, ConfigFileSuppliesTheFlagsOfItsSection) {
  write_text(dir.path() / "build.conf", "ci = true\n[publish]\nstore = \"" + store().string() +
                                            "\"\nboard = \"rpi5\"\nversion = \"3.0\"\nsecret-key = \"" +
                                            sk().string() + "\"\nchunk-size = \"64K\"\nexpires = \"2100-01-01T00:00:00Z\"\n");
  ASSERT_EQ(run(" --config " + q(dir.path() / "build.conf") + " publish " + q(image()) + " 2>/dev/null"), 0) << out;
  EXPECT_EQ(nlohmann::json::parse(out)["release"]["version"], "3.0");
  EXPECT_TRUE(fs::exists(store() / "releases/rpi5/3.0/manifest.json"));
}

TEST_F(CiCli, ConfigExampleNamesOnlyRealFlagsAndEveryFlagOfPublishAndPush) {
  const std::string example = read_text(fs::path(IRONSTONE_SOURCE_DIR) / "config.env.example");
  std::string section;
  std::map<std::string, std::set<std::string>> keys;
  std::istringstream lines(example);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line[0] == '#') line = line.substr(line.find_first_not_of("# "));  // commented keys count
    if (line.rfind('[', 0) == 0) section = line.substr(1, line.find(']') - 1);
    const auto eq = line.find(" = ");
    if (eq != std::string::npos && line.find(' ') == eq) keys[section].insert(line.substr(0, eq));
  }
  for (const auto& [sub, names] : keys) {
    ASSERT_EQ(run(sub.empty() ? " --help" : " " + sub + " --help"), 0) << sub << out;
    for (const auto& k : names) EXPECT_THAT(out, HasSubstr("--" + k)) << "[" << sub << "] " << k;
  }
  for (const std::string sub : {"publish", "push", "verify", "scan"}) {
    ASSERT_EQ(run(" " + sub + " --help"), 0);
    std::istringstream help(out);
    for (std::string line; std::getline(help, line);) {
      const auto at = line.find("  --");
      if (at == std::string::npos || line.find("--help") != std::string::npos) continue;
      std::string flag = line.substr(at + 4, line.find_first_of(" ,", at + 4) - at - 4);
      if (flag == "ci" || flag == "config" || flag == "version-info") continue;
      EXPECT_TRUE(keys[sub].count(flag)) << "[" << sub << "] has no key " << flag;
    }
  }
}

TEST_F(CiCli, ScanWithoutAScannerSaysSoAndExitsWithItsOwnStatus) {
  write_text(dir.path() / "sbom.json", "{}");
  fs::create_directories(fake_tool_dir());
  const std::string only = "PATH=" + q(fake_tool_dir()) + " ";  // neither grype nor trivy
  EXPECT_EQ(run(" scan --sbom " + q(dir.path() / "sbom.json"), only), kExitNoScanner);
  EXPECT_THAT(out, HasSubstr("neither grype nor trivy is installed"));
  EXPECT_THAT(out, HasSubstr("was NOT scanned"));
  EXPECT_EQ(run(" --ci scan --sbom " + q(dir.path() / "sbom.json") + " 2>/dev/null", only), kExitNoScanner);
  EXPECT_EQ(nlohmann::json::parse(out)["scanned"], false);
}

TEST_F(CiCli, ScanFailsOnGrypeFindingsAtOrAboveTheThreshold) {
  write_text(dir.path() / "sbom.json", "{}");
  fake_scanner("grype", R"({"matches":[
    {"vulnerability":{"id":"CVE-2026-0001","severity":"High"},"artifact":{"name":"openssl","version":"3.0.11"}},
    {"vulnerability":{"id":"CVE-2026-0002","severity":"Low"},"artifact":{"name":"zlib","version":"1.2.13"}},
    {"vulnerability":{"id":"GHSA-x","severity":"Unknown"},"artifact":{"name":"k3s","version":"1.31"}}]})");
  const std::string path = path_with_only(fake_tool_dir());
  const std::string sbom = q(dir.path() / "sbom.json");
  EXPECT_EQ(run(" scan --sbom " + sbom, path), kExitFindings) << out;
  EXPECT_THAT(out, HasSubstr("high CVE-2026-0001 openssl 3.0.11"));
  EXPECT_THAT(out, ::testing::Not(HasSubstr("CVE-2026-0002")));
  EXPECT_THAT(out, HasSubstr("FAILED: grype found 3 vulnerabilities"));
  EXPECT_EQ(read_text(dir.path() / "grype.args"), "sbom:" + (dir.path() / "sbom.json").string() + " -o json\n");
  EXPECT_EQ(run(" scan --fail-on critical --sbom " + sbom, path), 0) << out;
  EXPECT_EQ(run(" scan --fail-on low --sbom " + sbom + " 2>/dev/null --ci", path), kExitFindings) << out;
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["findings"].size(), 2u);
  EXPECT_EQ(j["counts"]["unknown"], 1);
  EXPECT_EQ(run(" scan --fail-on severe --sbom " + sbom, path), 1);
}

TEST(ScanParsing, TrivyFindingsAndSeverities) {
  const auto f = parse_trivy_json(R"({"Results":[{"Target":"sbom","Vulnerabilities":[
    {"VulnerabilityID":"CVE-1","PkgName":"libc6","InstalledVersion":"2.36","Severity":"CRITICAL"},
    {"VulnerabilityID":"CVE-2","PkgName":"bash","InstalledVersion":"5.2","Severity":"MEDIUM"}]},{"Target":"x"}]})");
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].severity, Severity::kCritical);
  EXPECT_EQ(f[1].package, "bash");
  EXPECT_TRUE(parse_trivy_json(R"({"SchemaVersion":2})").empty());
  EXPECT_ERROR_HAS(parse_grype_json("not json"), Errc::kTool, "grype: output is not JSON");
  EXPECT_ERROR_HAS(parse_grype_json("{}"), Errc::kTool, "no 'matches' array");
}

}  // namespace
}  // namespace ironstone::builder::testing
