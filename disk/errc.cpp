#include "disk/errc.h"

namespace ironstone::disk {
namespace {
const char* describe(int value) {
  switch (static_cast<Errc>(value)) {
    case Errc::kInput: return "bad disk image";
    case Errc::kTool: return "tool missing";
    case Errc::kPath: return "bad path inside the image";
    case Errc::kWrite: return "cannot write into the image";
    case Errc::kNotFound: return "not found in the image";
  }
  return "unknown disk error";
}
}  // namespace

const std::error_category& category() {
  static const TableCategory cat("disk", describe);
  return cat;
}
}  // namespace ironstone::disk
