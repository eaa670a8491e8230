// Power at the end of the flasher's run: power off, reboot or stay up.
//
// PowerControl is the seam: SystemPowerControl is the real one, FakePowerControl
// records requests for tests. request() returns once the request is handed over
// (with systemd the shutdown proceeds asynchronously; the caller should stop
// working and wait); with the syscall it does not return on success.
// Errors: Error(kPower) when neither systemd nor the syscall could do it.
// Thread safety: SystemPowerControl is stateless; FakePowerControl is not shared.
#pragma once

#include <vector>

#include "boards/profile.h"

namespace ironstone::boards {

class PowerControl {
 public:
  virtual ~PowerControl() = default;
  virtual void request(PowerAction action) = 0;
};

// kSystemd: `systemctl poweroff` / `systemctl reboot`; when that fails (no
// systemd, non-zero exit), falls back to sync() + reboot(2). kSyscall: only
// sync() + reboot(2) (RB_POWER_OFF / RB_AUTOBOOT). kStayUp does nothing.
class SystemPowerControl : public PowerControl {
 public:
  explicit SystemPowerControl(PowerMethod method = PowerMethod::kSystemd) : method_(method) {}
  void request(PowerAction action) override;

 private:
  PowerMethod method_;
};

class FakePowerControl : public PowerControl {
 public:
  void request(PowerAction action) override { requests_.push_back(action); }
  const std::vector<PowerAction>& requests() const { return requests_; }

 private:
  std::vector<PowerAction> requests_;
};

}  // namespace ironstone::boards
