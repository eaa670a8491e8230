#include "flasher/errc.h"

namespace ironstone::flasher {
namespace {
const char* describe(int value) {
  switch (static_cast<Errc>(value)) {
    case Errc::kIo: return "i/o error";
    case Errc::kMounted: return "target is mounted or in use";
    case Errc::kReadOnly: return "target is read-only";
    case Errc::kTooSmall: return "target is smaller than the image";
    case Errc::kBadTarget: return "unusable target";
    case Errc::kOutOfRange: return "i/o beyond the target's end";
    case Errc::kStateParse: return "malformed state file";
    case Errc::kStateField: return "bad field in state file";
    case Errc::kTooLarge: return "input too large";
    case Errc::kSwarm: return "swarm download failed";
    case Errc::kVerify: return "verification failed";
    case Errc::kSeeder: return "seeder unreachable";
    case Errc::kPolicy: return "release refused";
    case Errc::kIdentity: return "node identity not written";
    case Errc::kCard: return "installer card not disarmed or re-armed";
  }
  return "unknown flasher error";
}
}  // namespace

const std::error_category& category() {
  static const TableCategory cat("flasher", describe);
  return cat;
}

}  // namespace ironstone::flasher
