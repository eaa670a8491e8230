// util/process.h: stdin from a file, and a running tool's output followed line by line.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <iterator>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "util/process.h"

namespace ironstone::util {
namespace {

TEST(RunProcess, ReadsStdinFromTheGivenFile) {
  const auto dir = std::filesystem::temp_directory_path() / ("process_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  { std::ofstream(dir / "in.txt") << "label: gpt\nsecond line\n"; }
  ProcessOptions o;
  o.stdin_file = (dir / "in.txt").string();
  const ProcessResult r = run_process({"cat"}, o);
  std::filesystem::remove_all(dir);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "label: gpt\nsecond line\n");
}

TEST(RunProcess, AMissingStdinFileIsASpawnFailureNotAnEmptyInput) {
  ProcessOptions o;
  o.stdin_file = "/nonexistent/ironstone/stdin";
  const ProcessResult r = run_process({"cat"}, o);
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_NE(r.spawn_error, "");
}

TEST(RunProcess, HandsEveryLineOfBothStreamsToOnLineAndStillCapturesThem) {
  std::vector<std::string> lines;
  ProcessOptions o;
  o.on_line = [&](std::string_view l) { lines.emplace_back(l); };
  const ProcessResult r = run_process({"sh", "-c", "echo one; echo two >&2; printf 'no newline'"}, o);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "one\nno newline");
  EXPECT_EQ(r.err, "two\n");
  std::sort(lines.begin(), lines.end());
  EXPECT_EQ(lines, (std::vector<std::string>{"no newline", "one", "two"}));
}

TEST(RunProcess, CutsOverlongLinesAt4096Bytes) {
  std::vector<std::string> lines;
  ProcessOptions o;
  o.on_line = [&](std::string_view l) { lines.emplace_back(l); };
  run_process({"sh", "-c", "head -c 5000 /dev/zero | tr '\\\\0' x; echo"}, o);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].size(), 4096u);
  EXPECT_EQ(lines[1].size(), 904u);
}

TEST(RunProcess, WithInheritStderrTheChildWritesToThisProcesssStderrNotTheCapture) {
  const auto file = std::filesystem::temp_directory_path() / ("process_test_err_" + std::to_string(::getpid()));
  std::fflush(stderr);
  const int saved = ::dup(2);
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  ::dup2(fd, 2);
  std::vector<std::string> lines;
  ProcessOptions o;
  o.inherit_stderr = true;
  o.on_line = [&](std::string_view l) { lines.emplace_back(l); };
  const ProcessResult r = run_process({"sh", "-c", "echo out; echo 'bar [==>  ] 40%' >&2"}, o);
  ::dup2(saved, 2);
  ::close(saved);
  ::close(fd);
  std::ifstream in(file);
  const std::string written((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove(file);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(written, "bar [==>  ] 40%\n");
  EXPECT_EQ(lines, (std::vector<std::string>{"out"}));
}

}  // namespace
}  // namespace ironstone::util
