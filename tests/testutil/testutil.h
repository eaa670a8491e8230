// Shared test helpers: temporary directories, file I/O, deterministic data.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ironstone::testing {

// A fresh directory under $TMPDIR, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Sets environment variable `name` to `value` for its lifetime, then restores what was there
// (the old value, or unset). Not thread-safe (setenv): for a test's own thread.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, const std::string& value);
  ~ScopedEnv();
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

std::vector<std::uint8_t> read_file(const std::filesystem::path& path);
std::string read_text(const std::filesystem::path& path);
void write_file(const std::filesystem::path& path, const std::vector<std::uint8_t>& data);
void write_text(const std::filesystem::path& path, const std::string& text);
// Rewrites the existing file `path` with `text` and sets its modification time 1 s after
// the one it had, so that a reload keyed on the modification time sees a change at once
// (no waiting for the clock to move on).
void rewrite_text(const std::filesystem::path& path, const std::string& text);

// Deterministic pseudo-random bytes (xorshift), compressible when `compressible`.
std::vector<std::uint8_t> pseudo_random(std::size_t size, std::uint64_t seed, bool compressible = false);

// Runs a shell command, returns its exit status; output captured into *output when given.
int run_command(const std::string& command, std::string* output = nullptr);

// Path of a built binary, e.g. binary("ironstone-build").
std::filesystem::path binary(const std::string& name);

// True when the process runs as root (loop devices, namespaces): tests that need
// it call GTEST_SKIP() with a reason otherwise.
bool is_root();

}  // namespace ironstone::testing
