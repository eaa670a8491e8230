#include "boards/eeprom.h"

#include <stdlib.h>

#include <fstream>
#include <utility>

#include <spdlog/spdlog.h>

#include "boards/eeprom_config.h"
#include "boards/errc.h"
#include "util/process.h"

namespace ironstone::boards {

namespace fs = std::filesystem;

namespace {

// Runs a tool; Error(kCommand) "<context>: `argv...` exited with N: <stderr tail>" (or
// "<context>: cannot run `argv...`: <why>") unless it exits with 0. Returns stdout.
std::string run_checked(const std::vector<std::string>& argv, const std::string& context) {
  util::ProcessResult r = util::run_process(argv);
  if (r.exit_code != 0) throw error(Errc::kCommand, context + ": " + util::failure_message(argv, r));
  return r.out;
}

// The settings the profile wants, in a fixed order.
std::vector<std::pair<std::string, std::string>> wanted_settings(const EepromParams& p) {
  std::vector<std::pair<std::string, std::string>> w = {{"BOOT_ORDER", p.boot_order}};
  if (p.pcie_probe) w.emplace_back("PCIE_PROBE", "1");
  return w;
}

// "BOOT_ORDER 0xf41 -> 0xf416" for each setting that differs; empty when all are right.
std::string differences(const EepromConfig& cfg, const EepromParams& p) {
  std::string out;
  for (const auto& [key, value] : wanted_settings(p)) {
    auto have = cfg.get(key);
    if (have && same_setting_value(*have, value)) continue;
    out += (out.empty() ? "" : ", ") + key + " " + (have ? *have : "(unset)") + " -> " + value;
  }
  return out;
}

// A private temporary directory, removed with its contents.
class WorkDir {
 public:
  explicit WorkDir(const fs::path& parent) {
    std::string tmpl = (parent / "ironstone-eeprom-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw error(Errc::kIo, tmpl + ": cannot create temporary directory");
    path_ = tmpl;
  }
  ~WorkDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  fs::path write(const std::string& name, std::span<const std::uint8_t> bytes) const {
    fs::path p = path_ / name;
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) throw error(Errc::kIo, p.string() + ": write failed");
    return p;
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::span<const std::uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

FirmwareResult update_eeprom(EepromTool& tool, const EepromParams& params, const FirmwarePayload* payload) {
  if (payload) check_payload(*payload, "rpi-eeprom");
  EepromConfig current = EepromConfig::parse(tool.read_config(), "bootloader config");
  std::string diff = differences(current, params);
  if (diff.empty()) {
    spdlog::info("rpi-eeprom: bootloader config already right (BOOT_ORDER={})", *current.get("BOOT_ORDER"));
    return {FirmwareOutcome::kAlreadyCurrent, "BOOT_ORDER=" + *current.get("BOOT_ORDER")};
  }
  EepromConfig wanted = current;
  for (const auto& [key, value] : wanted_settings(params)) {
    auto have = wanted.get(key);
    if (!have || !same_setting_value(*have, value)) wanted.set(key, value);
  }
  spdlog::info("rpi-eeprom: updating bootloader config: {}{}", diff,
               payload ? " (on image " + payload->name + ")" : std::string());
  tool.write(wanted.text(), payload ? payload->bytes : std::span<const std::uint8_t>());
  EepromConfig back = EepromConfig::parse(tool.read_back(), "bootloader config read back");
  std::string left = differences(back, params);
  if (!left.empty()) {
    throw error(Errc::kVerify, "rpi-eeprom: read back after writing, still wrong: " + left);
  }
  return {FirmwareOutcome::kUpdated, diff};
}

EepromUpdater::EepromUpdater(EepromParams params, std::unique_ptr<EepromTool> tool)
    : params_(std::move(params)), tool_(std::move(tool)) {}

FirmwareResult EepromUpdater::apply(const FirmwarePayload* payload, const WrittenDisk*) { return update_eeprom(*tool_, params_, payload); }

// --- real tools ---

RealEepromTool::RealEepromTool(RealEepromOptions options) : options_(std::move(options)) {}

std::string RealEepromTool::read_config() { return run_checked({"rpi-eeprom-config"}, "rpi-eeprom: read config"); }

void RealEepromTool::write(const std::string& config, std::span<const std::uint8_t> image) {
  WorkDir dir(options_.work_dir);
  fs::path conf = dir.write("boot.conf", as_bytes(config));
  if (image.empty()) {
    run_checked({"rpi-eeprom-config", "--apply", conf.string()}, "rpi-eeprom: apply config");
    return;
  }
  fs::path base = dir.write("pieeprom.bin", image);
  fs::path out = dir.path() / "pieeprom-new.bin";
  run_checked({"rpi-eeprom-config", "--config", conf.string(), "--out", out.string(), base.string()},
              "rpi-eeprom: build image");
  run_checked({"rpi-eeprom-update", "-d", "-f", out.string()}, "rpi-eeprom: update");
}

std::string RealEepromTool::read_back() {
  fs::path staged = options_.bootfs / "pieeprom.upd";
  std::error_code ec;
  if (fs::exists(staged, ec)) {
    return run_checked({"rpi-eeprom-config", staged.string()}, "rpi-eeprom: read staged update");
  }
  WorkDir dir(options_.work_dir);
  fs::path dump = dir.path() / "pieeprom-read.bin";
  run_checked({"flashrom", "-p", options_.spi_programmer, "-r", dump.string()}, "rpi-eeprom: read EEPROM");
  return run_checked({"rpi-eeprom-config", dump.string()}, "rpi-eeprom: read config from EEPROM");
}

// --- simulation ---

SimulatedEeprom::SimulatedEeprom(std::string config, Faults faults) : config_(std::move(config)), faults_(faults) {}

std::string SimulatedEeprom::read_config() { return config_; }

void SimulatedEeprom::write(const std::string& config, std::span<const std::uint8_t> image) {
  ++writes_;
  if (faults_.fail_write) throw error(Errc::kCommand, "simulated EEPROM: write failed");
  last_image_.assign(image.begin(), image.end());
  if (!faults_.lose_write) config_ = config;
}

std::string SimulatedEeprom::read_back() { return config_; }

}  // namespace ironstone::boards
