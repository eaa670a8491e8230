#include "builder/errc.h"

namespace ironstone::builder {
namespace {
const char* describe(int value) {
  switch (static_cast<Errc>(value)) {
    case Errc::kUsage: return "bad arguments";
    case Errc::kInput: return "bad input image";
    case Errc::kKey: return "key problem";
    case Errc::kStore: return "store i/o error";
    case Errc::kBusy: return "store busy";
    case Errc::kExists: return "release exists";
    case Errc::kVerify: return "verification failed";
    case Errc::kNotFound: return "not found";
    case Errc::kUnsealed: return "image not sealed";
    case Errc::kRecipe: return "bad recipe";
    case Errc::kTool: return "build tool missing";
    case Errc::kNotDiskImage: return "not a disk image";
    case Errc::kPush: return "push failed";
    case Errc::kScanner: return "no vulnerability scanner";
    case Errc::kFindings: return "vulnerabilities found";
  }
  return "unknown builder error";
}
}  // namespace

const std::error_category& category() {
  static const TableCategory cat("builder", describe);
  return cat;
}
}  // namespace ironstone::builder
