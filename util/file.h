// Reading a small file whole, bounded: for configuration-like inputs (inventory, token files).
// Nothing here throws: callers turn failures into errors of their own module's category.
// Thread safety: reentrant.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

namespace ironstone::util {

// The file's bytes; nullopt with *why set ("cannot open: No such file or directory",
// "larger than 4096 bytes", "read failed: ...") when it cannot be read whole within max_bytes.
std::optional<std::string> read_small_file(const std::filesystem::path& path, std::size_t max_bytes, std::string* why);

}  // namespace ironstone::util
