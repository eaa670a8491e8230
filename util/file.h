// Reading a small file whole, bounded: for configuration-like inputs (inventory, token files).
// Nothing here throws: callers turn failures into errors of their own module's category.
// Thread safety: reentrant.
#pragma once

#include <cstddef>
#include <filesystem>
#include <istream>
#include <optional>
#include <string>

namespace ironstone::util {

// The file's bytes; nullopt with *why set ("cannot open: No such file or directory",
// "larger than 4096 bytes", "read failed: ...") when it cannot be read whole within max_bytes.
std::optional<std::string> read_small_file(const std::filesystem::path& path, std::size_t max_bytes, std::string* why);

// At most max_bytes from `in`, read in blocks as they come: never a buffer the size of the limit
// up front (a 64 MiB limit for a 25 KB manifest cost 64 MiB of zeroed memory; measured, an 80 MiB
// spike in a peer seeder). Stops at the end of the stream or at max_bytes, leaving the stream's
// state as one read() of that many bytes would (eof only when fewer were there); the caller checks
// in.bad(). Pass limit + 1 to tell "exactly the limit" from "more".
std::string read_up_to(std::istream& in, std::size_t max_bytes);

}  // namespace ironstone::util
