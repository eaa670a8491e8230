// Error codes of the disk module (partition tables, filesystems inside disk images).
// Errors are ironstone::Error values whose message names the image, the offset and the tool.
#pragma once

#include "util/error.h"

namespace ironstone::disk {

enum class Errc {
  kInput = 1,  // the image or its partition table is malformed, truncated or unreadable
  kTool,       // debugfs or mtools cannot be run (not installed)
  kPath,       // a path inside the image that the tools would misread
  kWrite,      // writing into a filesystem of the image failed (full, read-only, tool error)
  kNotFound,   // no such file inside the image
};

const std::error_category& category();
inline std::error_code make_error_code(Errc e) { return {static_cast<int>(e), category()}; }
inline Error error(Errc e, const std::string& message) { return Error(make_error_code(e), message); }

}  // namespace ironstone::disk

template <>
struct std::is_error_code_enum<ironstone::disk::Errc> : std::true_type {};
