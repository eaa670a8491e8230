// Error codes of the builder module (publishing, verifying and pruning a store).
#pragma once

#include "util/error.h"

namespace ironstone::builder {

enum class Errc {
  kUsage = 1,    // bad arguments (board name, chunk size, expiry, ...)
  kInput,        // the image cannot be read or is malformed/truncated
  kKey,          // key file missing, unreadable, wrong format or wrong password
  kStore,        // the store cannot be read or written (full disk, permissions)
  kBusy,         // another publisher holds the store lock
  kExists,       // the release already exists
  kVerify,       // `verify` found problems
  kNotFound,     // no such release
  kUnsealed,     // publish --require-sealed: the gold image is not sealed (seal_check.h)
  kRecipe,       // the gold recipe is malformed (recipe.h)
  kTool,         // a tool the build needs is missing or not set up (mmdebstrap, binfmt)
  kNotDiskImage, // publish: the input has no partition table or one that does not fit (--raw overrides)
  kPush,         // push: the seeder refused the release, or the transfer failed (push.h)
  kScanner,      // scan: neither grype nor trivy is installed (scan.h)
  kFindings,     // scan: findings at or above --fail-on (scan.h)
};

const std::error_category& category();
inline std::error_code make_error_code(Errc e) { return {static_cast<int>(e), category()}; }
inline Error error(Errc e, const std::string& message) { return Error(make_error_code(e), message); }

}  // namespace ironstone::builder

template <>
struct std::is_error_code_enum<ironstone::builder::Errc> : std::true_type {};
