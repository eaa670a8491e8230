#include "boards/errc.h"

namespace ironstone::boards {
namespace {
const char* describe(int value) {
  switch (static_cast<Errc>(value)) {
    case Errc::kParse: return "malformed input";
    case Errc::kField: return "bad field";
    case Errc::kNoDeviceTree: return "no device tree";
    case Errc::kUnknownBoard: return "unknown board";
    case Errc::kHashMismatch: return "hash mismatch";
    case Errc::kVerify: return "read-back mismatch";
    case Errc::kDevice: return "device error";
    case Errc::kNotMtd: return "not an MTD device";
    case Errc::kTooLarge: return "input too large";
    case Errc::kCommand: return "command failed";
    case Errc::kLed: return "LED error";
    case Errc::kPower: return "power control failed";
    case Errc::kUnsupported: return "unsupported";
    case Errc::kIo: return "i/o error";
  }
  return "unknown boards error";
}
}  // namespace

const std::error_category& category() {
  static const TableCategory cat("boards", describe);
  return cat;
}

}  // namespace ironstone::boards
