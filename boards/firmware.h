// Firmware step: the interface every firmware method implements, the payload it
// takes, and the table of methods (name -> params parser + real implementation).
//
// Adding a board with an existing method is a new profile file; a new method is
// one entry in the table in firmware.cpp plus its implementation.
//
// Contract of FirmwareUpdater::apply(): verified, idempotent, read back after
// writing, and skipped when the firmware is already right. Most methods run before
// the image is written (the bootloader must be right first); a method with
// `after_write` runs once the target verified and gets the written disk (its
// partition table), e.g. "efi-boot-order" making its ESP the first boot entry. A payload (a release's
// firmware file, already verified against the signed manifest by the caller) is
// re-hashed before use; a mismatch is Errc::kHashMismatch and nothing is written.
// Thread safety: an updater is used by one thread at a time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "boards/profile.h"
#include "disk/partition_table.h"
#include "manifest/hash.h"

namespace ironstone::strict_json {
class ObjectReader;
}  // namespace ironstone::strict_json

namespace ironstone::boards {

struct FirmwarePayload {
  std::span<const std::uint8_t> bytes;  // not owned; must stay valid during apply()
  Hash256 hash;                         // expected BLAKE2b-256 (from the signed manifest)
  std::string name;                     // for messages, e.g. "pieeprom.bin"
};

// Throws Error(kHashMismatch) "<context>: <name>: hash <actual> does not match expected <hash>".
void check_payload(const FirmwarePayload& payload, std::string_view context);

// The disk an after-write method works on: written and verified against the signed image.
struct WrittenDisk {
  std::string device;           // for messages, e.g. "/dev/nvme0n1"
  disk::PartitionTable table;   // read back from the target
};

enum class FirmwareOutcome { kNotNeeded, kAlreadyCurrent, kUpdated };
std::string_view to_string(FirmwareOutcome o);

struct FirmwareResult {
  FirmwareOutcome outcome = FirmwareOutcome::kNotNeeded;
  std::string detail;  // one line for logs and the seeder, e.g. "BOOT_ORDER 0xf41 -> 0xf416"
};

class FirmwareUpdater {
 public:
  virtual ~FirmwareUpdater() = default;
  virtual std::string_view method() const = 0;
  // `payload` may be null when the method does not need one (see FirmwareMethod);
  // `written` is given to after-write methods only (null for the others).
  virtual FirmwareResult apply(const FirmwarePayload* payload, const WrittenDisk* written) = 0;
};

struct FirmwareMethod {
  std::string_view name;    // profile "firmware.method" and manifest Firmware.kind
  bool requires_payload;    // apply(nullptr) is an error
  bool after_write;         // runs after the verified write, with the WrittenDisk
  // Parses and validates "firmware.params" of the profile's "firmware" object.
  FirmwareParams (*parse_params)(strict_json::ObjectReader& firmware);
  // The implementation on real hardware, paths resolved under `root`.
  std::unique_ptr<FirmwareUpdater> (*make_real)(const FirmwareParams& params, const std::filesystem::path& root);
};

// nullptr for an unknown method name.
const FirmwareMethod* find_firmware_method(std::string_view name);
std::span<const FirmwareMethod> firmware_methods();

}  // namespace ironstone::boards
