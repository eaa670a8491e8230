// Replay driver for the fuzz targets without libFuzzer: runs LLVMFuzzerTestOneInput over
// a few built-in edge inputs (empty, one byte, 64 KiB of 0xFF) and then over every file
// named on the command line or found (recursively) in a directory named there.
// Built with any compiler as <name>_replay; under ASan+UBSan this turns each seed corpus
// into a regression test (CTest fuzz_replay_<name>). A crash or sanitizer report fails
// the run; a path that cannot be read is an error (exit 1), so a moved corpus is noticed.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

namespace fs = std::filesystem;

void run(const std::vector<std::uint8_t>& bytes) {
  // A copy in a buffer of exactly the input's size, so ASan sees reads past the end.
  std::vector<std::uint8_t> input(bytes);
  (void)LLVMFuzzerTestOneInput(input.empty() ? nullptr : input.data(), input.size());
}

bool run_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "replay: %s: cannot open\n", file.c_str());
    return false;
  }
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    std::fprintf(stderr, "replay: %s: read failed\n", file.c_str());
    return false;
  }
  std::fprintf(stderr, "replay: %s (%zu bytes)\n", file.c_str(), bytes.size());
  run(bytes);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  run({});
  run({0x00});
  run({'{'});
  run(std::vector<std::uint8_t>(64 * 1024, 0xFF));
  std::size_t files = 0;
  bool ok = true;
  for (int i = 1; i < argc; ++i) {
    fs::path arg = argv[i];
    std::error_code ec;
    if (fs::is_directory(arg, ec)) {
      std::vector<fs::path> found;
      for (fs::recursive_directory_iterator it(arg, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->is_regular_file(ec)) found.push_back(it->path());
      }
      if (ec) {
        std::fprintf(stderr, "replay: %s: cannot list: %s\n", arg.c_str(), ec.message().c_str());
        ok = false;
        continue;
      }
      std::sort(found.begin(), found.end());  // same order every run
      for (const auto& f : found) {
        ok = run_file(f) && ok;
        ++files;
      }
    } else {
      ok = run_file(arg) && ok;
      ++files;
    }
  }
  std::fprintf(stderr, "replay: %zu files and 4 built-in inputs ran%s\n", files, ok ? "" : " (with errors)");
  return ok ? 0 : 1;
}
