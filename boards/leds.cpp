#include "boards/leds.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <spdlog/spdlog.h>

#include "boards/errc.h"

namespace ironstone::boards {

namespace fs = std::filesystem;

std::string_view describe(FailedStep step) {
  switch (step) {
    case FailedStep::kBoard: return "board detection";
    case FailedStep::kNetwork: return "network";
    case FailedStep::kSeeder: return "seeder discovery";
    case FailedStep::kRelease: return "release fetch and verification";
    case FailedStep::kFirmware: return "firmware";
    case FailedStep::kTarget: return "target disk";
    case FailedStep::kWrite: return "download and write";
    case FailedStep::kVerify: return "final verification";
    case FailedStep::kIdentity: return "node identity and report";
  }
  return "unknown step";
}

std::vector<LedStep> pattern_steps(const LedPattern& p, int code) {
  std::vector<LedStep> steps;
  switch (p.mode) {
    case LedMode::kOff:
    case LedMode::kOn:
      break;
    case LedMode::kBlink:
      steps = {{true, p.on_ms}, {false, p.off_ms}};
      break;
    case LedMode::kHeartbeat:  // like the kernel's: two short beats, then a rest
      steps = {{true, 70}, {false, 180}, {true, 70}, {false, 900}};
      break;
    case LedMode::kCode:
      for (int i = 0; i < code; ++i) {
        steps.push_back({true, p.on_ms});
        steps.push_back({false, i + 1 < code ? p.off_ms : p.pause_ms});
      }
      break;
  }
  return steps;
}

// --- SysfsLed ---

std::vector<std::string> SysfsLed::triggers() const {
  std::ifstream in(dir_ / "trigger");
  std::vector<std::string> out;
  std::string word;
  while (out.size() < 256 && in >> word) {
    if (word.size() > 2 && word.front() == '[' && word.back() == ']') word = word.substr(1, word.size() - 2);
    out.push_back(word);
  }
  return out;
}

bool SysfsLed::has_trigger(std::string_view name) const {
  for (const auto& t : triggers()) {
    if (t == name) return true;
  }
  return false;
}

int SysfsLed::max_brightness() const {
  std::ifstream in(dir_ / "max_brightness");
  int v = 0;
  if (in >> v && v > 0) return v;
  return 1;
}

void SysfsLed::write(std::string_view attribute, std::string_view value) const {
  const fs::path path = dir_ / attribute;
  int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) throw error(Errc::kLed, path.string() + ": cannot open: " + std::strerror(errno));
  ssize_t n;
  do {
    n = ::write(fd, value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(value.size())) {
    throw error(Errc::kLed, path.string() + ": cannot write '" + std::string(value) +
                                "': " + (n < 0 ? std::strerror(err) : "short write"));
  }
}

// --- StatusLeds ---

StatusLeds::StatusLeds(const LedSpec& spec, const fs::path& root)
    : spec_(spec), status_(root / "sys/class/leds" / spec.status) {
  if (spec.fault) fault_.emplace(root / "sys/class/leds" / *spec.fault);
}

StatusLeds::~StatusLeds() { stop_blinker(); }

void StatusLeds::working() {
  set_fault(false);
  show(spec_.working, 0);
}

void StatusLeds::done() {
  set_fault(false);
  show(spec_.done, 0);
}

void StatusLeds::failed(FailedStep step) {
  set_fault(true);
  show(spec_.failed, static_cast<int>(step));
}

void StatusLeds::off() {
  set_fault(false);
  show(LedPattern{.mode = LedMode::kOff}, 0);
}

void StatusLeds::set_fault(bool on) {
  if (!fault_) return;
  fault_->write("trigger", "none");
  fault_->write("brightness", on ? std::to_string(fault_->max_brightness()) : "0");
}

void StatusLeds::stop_blinker() {
  if (!blinker_.joinable()) return;
  blinker_.request_stop();
  wake_.notify_all();
  blinker_.join();
  blinker_ = std::jthread();
}

void StatusLeds::show(const LedPattern& p, int code) {
  stop_blinker();
  const std::string on = std::to_string(status_.max_brightness());
  switch (p.mode) {
    case LedMode::kOff:
    case LedMode::kOn:
      status_.write("trigger", "none");
      status_.write("brightness", p.mode == LedMode::kOn ? on : "0");
      return;
    case LedMode::kBlink:
      if (status_.has_trigger("timer")) {
        status_.write("trigger", "timer");
        status_.write("delay_on", std::to_string(p.on_ms));
        status_.write("delay_off", std::to_string(p.off_ms));
        return;
      }
      break;
    case LedMode::kHeartbeat:
      if (status_.has_trigger("heartbeat")) {
        status_.write("trigger", "heartbeat");
        return;
      }
      break;
    case LedMode::kCode:
      if (status_.has_trigger("pattern")) {
        std::string text;
        for (const auto& s : pattern_steps(p, code)) {
          const std::string b = s.on ? on : "0";
          text += (text.empty() ? "" : " ") + b + " " + std::to_string(s.ms) + " " + b + " 0";
        }
        status_.write("trigger", "pattern");
        status_.write("repeat", "-1");
        status_.write("pattern", text);
        return;
      }
      break;
  }
  // Software fallback: a thread steps through one period, over and over.
  status_.write("trigger", "none");
  std::vector<LedStep> steps = pattern_steps(p, code);
  blinker_ = std::jthread([this, steps = std::move(steps), on](std::stop_token stop) {
    try {
      while (!stop.stop_requested()) {
        for (const auto& s : steps) {
          status_.write("brightness", s.on ? on : "0");
          std::unique_lock lock(mutex_);
          wake_.wait_for(lock, stop, std::chrono::milliseconds(s.ms), [] { return false; });
          if (stop.stop_requested()) return;
        }
      }
    } catch (const std::exception& e) {
      spdlog::warn("led: blinker stopped: {}", e.what());
    }
  });
}

}  // namespace ironstone::boards
