// Serving files of the store: regular files only, never outside the store root, with
// a single HTTP Range (RFC 9110 §14): 200 for the whole file, 206 with Content-Range
// for one satisfiable range, 416 with "Content-Range: bytes */size" otherwise.
// A multi-range or syntactically invalid Range header is ignored (whole file), as the
// RFC allows. Accept-Ranges: bytes is always sent.
//
// Thread safety: pure functions over the file system.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "seeder/http_types.h"

namespace ironstone::seeder {

struct ByteRange {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

enum class RangeResult { kNone, kSatisfiable, kUnsatisfiable };

// Parses a Range header value against a file of `size` bytes.
RangeResult parse_range(std::string_view header, std::uint64_t size, ByteRange& out);

// `root` must be canonical (std::filesystem::canonical). `relative` is built by the
// caller from validated segments; the resolved path must still lie under root
// (symlinks pointing out of the store are refused with 404).
Response serve_file(const Request& request, const std::filesystem::path& root,
                    const std::filesystem::path& relative, std::string_view content_type);

// The whole of a store file as serve_file() would resolve it (regular, under root), or
// nullopt when there is none or it cannot be read or is larger than max_bytes.
std::optional<std::string> read_store_file(const std::filesystem::path& root, const std::filesystem::path& relative,
                                           std::uint64_t max_bytes);

// `bytes` (already read and checked by the caller) as serve_file() serves a file: the same
// Range handling, status codes and headers.
Response serve_bytes(const Request& request, std::string bytes, std::string_view content_type);

}  // namespace ironstone::seeder
