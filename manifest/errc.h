// Error codes of the manifest module (release format, signatures, trust rules).
#pragma once

#include "util/error.h"

namespace ironstone::manifest {

enum class Errc {
  kParse = 1,       // bytes are not well-formed (JSON, base64, minisign, bencode)
  kField,           // a field is missing, unknown, duplicated or out of range
  kInconsistent,    // fields do not add up (sizes, offsets, tiling of the image)
  kSignature,       // a signature does not verify or is missing
  kUnknownKey,      // signed by a key that is not trusted
  kExpired,         // manifest or channel pointer past its expiry
  kBoardMismatch,   // release is for another board or channel
  kRollback,        // sequence lower than the highest seen
  kHashMismatch,    // bytes do not match their signed hash
  kCompression,     // a chunk does not decompress to its signed length
  kTorrent,         // the torrent does not match the manifest
  kIo,              // reading or writing a file failed
  kTooLarge,        // input exceeds a hard bound
};

const std::error_category& category();
inline std::error_code make_error_code(Errc e) { return {static_cast<int>(e), category()}; }
inline Error error(Errc e, const std::string& message) { return Error(make_error_code(e), message); }

}  // namespace ironstone::manifest

template <>
struct std::is_error_code_enum<ironstone::manifest::Errc> : std::true_type {};
