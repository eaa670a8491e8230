#include "flasher/read_back.h"

#include <algorithm>
#include <cstring>

namespace ironstone::flasher {

void read_back(Target& target, std::uint64_t off, std::span<const std::uint8_t> expected,
               std::vector<std::uint8_t>& scratch) {
  scratch.resize(std::min(kReadBackSlice, expected.size()));
  for (std::size_t done = 0; done < expected.size();) {
    const std::size_t n = std::min(scratch.size(), expected.size() - done);
    const std::span<std::uint8_t> got(scratch.data(), n);
    try {
      target.read_at(off + done, got);
    } catch (const Error& e) {
      throw e.with_context("reading back");
    }
    const auto want = expected.subspan(done, n);
    if (std::memcmp(got.data(), want.data(), n) != 0) {
      const auto diff = std::mismatch(got.begin(), got.end(), want.begin()).first - got.begin();
      throw error(Errc::kVerify, "the target does not read back the verified bytes just written (first difference @ " +
                                     hex_offset(off + done + static_cast<std::uint64_t>(diff)) + ")");
    }
    done += n;
  }
}

}  // namespace ironstone::flasher
