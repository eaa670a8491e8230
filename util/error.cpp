#include "util/error.h"

#include <cstdio>

namespace ironstone {

std::string hex_offset(std::uint64_t offset) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llX", static_cast<unsigned long long>(offset));
  return buf;
}

}  // namespace ironstone
