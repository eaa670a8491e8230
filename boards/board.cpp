#include "boards/board.h"

#include <spdlog/spdlog.h>

#include "boards/errc.h"

namespace ironstone::boards {

namespace fs = std::filesystem;

Board Board::detect(std::span<const BoardProfile> profiles, const fs::path& root, BoardParts parts) {
  const BoardProfile& p = detect_board(profiles, root);
  spdlog::info("board: detected {} ({}) from {}", p.name, p.description, read_machine(root).describe());
  return Board(p, root, std::move(parts));
}

Board::Board(BoardProfile profile, fs::path root, BoardParts parts)
    : profile_(std::move(profile)), root_(std::move(root)) {
  const FirmwareMethod* method = find_firmware_method(profile_.firmware.method);
  if (!method) throw error(Errc::kUnsupported, "board " + profile_.name + ": unknown firmware method '" +
                                                   profile_.firmware.method + "'");
  firmware_ = parts.firmware ? std::move(parts.firmware) : method->make_real(profile_.firmware.params, root_);
  power_ = parts.power ? std::move(parts.power) : std::make_unique<SystemPowerControl>(profile_.power.method);
  leds_ = std::make_unique<StatusLeds>(profile_.leds, root_);
}

fs::path Board::target_device() const { return under_root(root_, profile_.target_device); }

bool Board::firmware_requires_payload() const {
  const FirmwareMethod* method = find_firmware_method(profile_.firmware.method);
  return method && method->requires_payload;
}

bool Board::firmware_after_write() const {
  const FirmwareMethod* method = find_firmware_method(profile_.firmware.method);
  return method && method->after_write;
}

FirmwareResult Board::update_firmware(const FirmwarePayload* payload, const WrittenDisk* written) {
  if (!payload && firmware_requires_payload()) {
    throw error(Errc::kUnsupported, "board " + profile_.name + ": firmware method " + profile_.firmware.method +
                                        " needs a payload and the release has none");
  }
  if (firmware_after_write() && !written) {
    throw error(Errc::kUnsupported, "board " + profile_.name + ": firmware method " + profile_.firmware.method +
                                        " runs after the image is written and needs the written disk");
  }
  FirmwareResult r = firmware_->apply(payload, firmware_after_write() ? written : nullptr);
  spdlog::info("board: firmware {}: {} ({})", profile_.firmware.method, to_string(r.outcome), r.detail);
  return r;
}

void Board::finish(std::optional<PowerAction> action) {
  PowerAction a = action.value_or(profile_.power.action);
  spdlog::info("board: power action {}", to_string(a));
  power_->request(a);
}

}  // namespace ironstone::boards
