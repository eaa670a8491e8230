#include "manifest/errc.h"

namespace ironstone::manifest {

namespace {
const char* describe(int value) {
  switch (static_cast<Errc>(value)) {
    case Errc::kParse: return "malformed input";
    case Errc::kField: return "bad field";
    case Errc::kInconsistent: return "inconsistent fields";
    case Errc::kSignature: return "bad signature";
    case Errc::kUnknownKey: return "unknown key";
    case Errc::kExpired: return "expired";
    case Errc::kBoardMismatch: return "board mismatch";
    case Errc::kRollback: return "rollback refused";
    case Errc::kHashMismatch: return "hash mismatch";
    case Errc::kCompression: return "bad compressed data";
    case Errc::kTorrent: return "torrent mismatch";
    case Errc::kIo: return "i/o error";
    case Errc::kTooLarge: return "input too large";
  }
  return "unknown manifest error";
}
}  // namespace

const std::error_category& category() {
  static const TableCategory cat("manifest", describe);
  return cat;
}
}  // namespace ironstone::manifest
