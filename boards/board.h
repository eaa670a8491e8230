// The flasher's entry point into boards/: one object per node, from detection
// to power-off.
//
//   auto profiles = boards::load_profiles(dir);           // boards/*.json
//   boards::Board board = boards::Board::detect(profiles, "/");
//   board.leds().working();
//   ... network, seeder, manifest ...
//   // payload: the manifest's firmware entry whose kind == board.firmware_kind(),
//   // bytes already verified by the caller (re-hashed here before use)
//   boards::FirmwareResult r = board.update_firmware(payload_or_nullptr);
//   ... write board.target_device() ...
//   // or, when board.firmware_after_write() (efi-boot-order), after the verified write:
//   board.update_firmware(payload_or_nullptr, &written_disk);
//   board.leds().done();     or   board.leds().failed(boards::FailedStep::kWrite);
//   board.finish();          // power-off / reboot / stay-up (profile, or override)
//
// Overrides (e.g. a BOOT_ORDER from the flasher's configuration): change the
// BoardProfile value before constructing the Board.
// Tests inject simulated parts (BoardParts); null parts get the real ones.
// Ownership: a Board owns its parts and its LEDs (and their blinker thread).
// Thread safety: use a Board from one thread. Errors: ironstone::Error (boards::Errc).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <span>

#include "boards/detect.h"
#include "boards/firmware.h"
#include "boards/leds.h"
#include "boards/power.h"
#include "boards/profile.h"

namespace ironstone::boards {

struct BoardParts {
  std::unique_ptr<FirmwareUpdater> firmware;  // null: the profile method's real implementation
  std::unique_ptr<PowerControl> power;        // null: SystemPowerControl(profile.power.method)
};

class Board {
 public:
  // detect_board() among `profiles` under `root` ("/" on a node), then Board(...).
  static Board detect(std::span<const BoardProfile> profiles, const std::filesystem::path& root,
                      BoardParts parts = {});

  Board(BoardProfile profile, std::filesystem::path root, BoardParts parts = {});

  const BoardProfile& profile() const { return profile_; }
  const std::string& name() const { return profile_.name; }
  // The default target device, under the root ("/dev/nvme0n1" on a node).
  std::filesystem::path target_device() const;

  // The manifest Firmware.kind this board's firmware step takes ("none": no step).
  const std::string& firmware_kind() const { return profile_.firmware.method; }
  bool firmware_requires_payload() const;
  // Whether the firmware step runs after the verified write (it then needs `written`).
  bool firmware_after_write() const;
  // The firmware step (see firmware.h): verified, idempotent, read back.
  FirmwareResult update_firmware(const FirmwarePayload* payload, const WrittenDisk* written = nullptr);

  // Where /proc, /sys and /dev are ("/" on a node).
  const std::filesystem::path& root() const { return root_; }
  StatusLeds& leds() { return *leds_; }
  PowerControl& power() { return *power_; }
  // Requests the profile's power action, or `action` when given.
  void finish(std::optional<PowerAction> action = std::nullopt);

 private:
  BoardProfile profile_;
  std::filesystem::path root_;
  std::unique_ptr<FirmwareUpdater> firmware_;
  std::unique_ptr<PowerControl> power_;
  std::unique_ptr<StatusLeds> leds_;
};

}  // namespace ironstone::boards
