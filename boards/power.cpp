#include "boards/power.h"

#include <sys/reboot.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "boards/errc.h"
#include "util/process.h"

namespace ironstone::boards {

void SystemPowerControl::request(PowerAction action) {
  if (action == PowerAction::kStayUp) {
    spdlog::info("power: staying up");
    return;
  }
  const bool off = action == PowerAction::kPowerOff;
  std::string why;
  if (method_ == PowerMethod::kSystemd) {
    util::ProcessResult r = util::run_process({"systemctl", off ? "poweroff" : "reboot"});
    if (r.exit_code == 0) {
      spdlog::info("power: systemctl {} requested", off ? "poweroff" : "reboot");
      return;
    }
    why = r.exit_code < 0 ? "cannot run systemctl: " + r.spawn_error
                          : "systemctl exited with " + std::to_string(r.exit_code);
    spdlog::warn("power: {}; falling back to reboot(2)", why);
  }
  ::sync();
  ::reboot(off ? RB_POWER_OFF : RB_AUTOBOOT);  // returns only on failure
  std::string sys = std::strerror(errno);
  throw error(Errc::kPower, std::string("power: cannot ") + (off ? "power off" : "reboot") + ": " +
                                (why.empty() ? "" : why + "; ") + "reboot(2): " + sys);
}

}  // namespace ironstone::boards
