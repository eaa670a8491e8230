// Error codes of the boards module (board profiles, detection, firmware, LEDs, power).
//
// Every failure in boards/ is an ironstone::Error with a code from this category
// and a message naming the file, field, device or offset (offsets via hex_offset).
// Thread safety: the category is an immutable singleton.
#pragma once

#include "util/error.h"

namespace ironstone::boards {

enum class Errc {
  kParse = 1,     // input is not well-formed (profile JSON, EEPROM config text)
  kField,         // a profile field is missing, unknown, duplicated, of the wrong type or out of range
  kNoDeviceTree,  // no device-tree compatible file under the root
  kUnknownBoard,  // the device tree matches no known profile (or more than one)
  kHashMismatch,  // a firmware payload does not match its expected hash
  kVerify,        // read-back after writing does not match what was written
  kDevice,        // a device (MTD, EEPROM) cannot be opened, read, erased or written
  kNotMtd,        // the path given as SPI NOR is not an MTD device
  kTooLarge,      // input exceeds a hard bound (profile size, image larger than the flash)
  kCommand,       // an external tool (rpi-eeprom-config, systemctl, ...) failed
  kLed,           // an LED's sysfs files cannot be written
  kPower,         // the power-off / reboot request failed
  kUnsupported,   // unknown firmware method, missing payload, ...
  kIo,            // reading or writing a regular file failed
};

const std::error_category& category();
inline std::error_code make_error_code(Errc e) { return {static_cast<int>(e), category()}; }
inline Error error(Errc e, const std::string& message) { return Error(make_error_code(e), message); }

}  // namespace ironstone::boards

template <>
struct std::is_error_code_enum<ironstone::boards::Errc> : std::true_type {};
