// Numbers for people, in messages and reports.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

namespace ironstone::util {

// "1.5 GiB", "512 B": binary units, one decimal.
std::string human_size(std::uint64_t bytes);

}  // namespace ironstone::util
