// Error codes of the flasher module (target I/O, scanning, the state file).
// Errors are ironstone::Error values whose message says where: path, offset, field.
#pragma once

#include "util/error.h"

namespace ironstone::flasher {

enum class Errc {
  kIo = 1,        // a read, write, flush or ioctl on the target (or the state file) failed
  kMounted,       // the device, one of its partitions or holders is mounted or in use
  kReadOnly,      // the target cannot be written
  kTooSmall,      // the target is smaller than the image
  kBadTarget,     // the path is neither a block device nor a regular file, or cannot be opened
  kOutOfRange,    // an I/O request lies (partly) beyond the target's end
  kStateParse,    // the state file is not well-formed JSON
  kStateField,    // a field of the state file is missing, unknown, duplicated or out of range
  kTooLarge,      // input exceeds a hard bound
  kSwarm,         // the swarm (peers and web seed) could not deliver the release
  kVerify,        // the written image does not verify against the signed manifest
  kSeeder,        // the seeder could not be reached or answered nonsense
  kPolicy,        // a trust rule refused the release (wraps manifest::Errc messages)
  kIdentity,      // the node identity could not be written (no FAT boot partition, mtools failed)
  kCard,          // the installer card could not be found, disarmed or re-armed (card_boot.h)
};

const std::error_category& category();
inline std::error_code make_error_code(Errc e) { return {static_cast<int>(e), category()}; }
inline Error error(Errc e, const std::string& message) { return Error(make_error_code(e), message); }

}  // namespace ironstone::flasher

template <>
struct std::is_error_code_enum<ironstone::flasher::Errc> : std::true_type {};
