#include <chrono>
#include "tests/testutil/testutil.h"

#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <stdexcept>
#include <utility>
#include <sys/wait.h>

namespace ironstone::testing {

namespace fs = std::filesystem;

ScopedEnv::ScopedEnv(std::string name, const std::string& value) : name_(std::move(name)) {
  if (const char* old = std::getenv(name_.c_str())) old_ = old;
  ::setenv(name_.c_str(), value.c_str(), 1);
}

ScopedEnv::~ScopedEnv() {
  if (old_)
    ::setenv(name_.c_str(), old_->c_str(), 1);
  else
    ::unsetenv(name_.c_str());
}

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "ironstone-test-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::vector<std::uint8_t> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return {std::istreambuf_iterator<char>(in), {}};
}

std::string read_text(const fs::path& path) {
  auto bytes = read_file(path);
  return {bytes.begin(), bytes.end()};
}

void write_file(const fs::path& path, const std::vector<std::uint8_t>& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

void write_text(const fs::path& path, const std::string& text) {
  write_file(path, std::vector<std::uint8_t>(text.begin(), text.end()));
}

void rewrite_text(const fs::path& path, const std::string& text) {
  const auto before = fs::last_write_time(path);
  write_text(path, text);
  fs::last_write_time(path, before + std::chrono::seconds(1));
}

std::vector<std::uint8_t> pseudo_random(std::size_t size, std::uint64_t seed, bool compressible) {
  std::vector<std::uint8_t> out(size);
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
  for (std::size_t i = 0; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out[i] = compressible ? static_cast<std::uint8_t>("ironstone swarm "[x % 16]) : static_cast<std::uint8_t>(x);
  }
  return out;
}

int run_command(const std::string& command, std::string* output) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return -1;
  std::array<char, 4096> buf;
  std::string out;
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  int status = pclose(pipe);
  if (output) *output = out;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

fs::path binary(const std::string& name) {
  for (const char* sub : {"builder", "seeder", "flasher", "bench"}) {
    fs::path p = fs::path(IRONSTONE_BINARY_DIR) / sub / name;
    if (fs::exists(p)) return p;
  }
  return fs::path(IRONSTONE_BINARY_DIR) / name;
}

bool is_root() { return geteuid() == 0; }

}  // namespace ironstone::testing
