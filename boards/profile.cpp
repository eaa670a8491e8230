#include "boards/profile.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>

#include "boards/errc.h"
#include "boards/firmware.h"
#include "util/json_reader.h"
#include "manifest/manifest.h"

namespace ironstone::boards {

namespace fs = std::filesystem;

std::string_view to_string(LedMode m) {
  switch (m) {
    case LedMode::kOff: return "off";
    case LedMode::kOn: return "on";
    case LedMode::kBlink: return "blink";
    case LedMode::kHeartbeat: return "heartbeat";
    case LedMode::kCode: return "code";
  }
  return "?";
}

std::string_view to_string(PowerAction a) {
  switch (a) {
    case PowerAction::kPowerOff: return "poweroff";
    case PowerAction::kReboot: return "reboot";
    case PowerAction::kStayUp: return "stay-up";
  }
  return "?";
}

std::optional<PowerAction> parse_power_action(std::string_view s) {
  for (auto a : {PowerAction::kPowerOff, PowerAction::kReboot, PowerAction::kStayUp}) {
    if (to_string(a) == s) return a;
  }
  return std::nullopt;
}

namespace {

using strict_json::ObjectReader;

constexpr int kMaxJsonDepth = 16;
constexpr std::size_t kMaxName = 64;
constexpr std::size_t kMaxText = 256;

bool valid_led_name(std::string_view s) {
  // sysfs names such as "ACT", "blue:status", "rgb:status-1"; never a path.
  return s != "." && s != ".." && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == ':' || c == '-' || c == '_' || c == '.';
  });
}

LedPattern parse_pattern(ObjectReader& leds, const char* key) {
  ObjectReader f = leds.object(key);
  static const std::map<std::string, LedMode, std::less<>> modes = {
      {"off", LedMode::kOff}, {"on", LedMode::kOn}, {"blink", LedMode::kBlink},
      {"heartbeat", LedMode::kHeartbeat}, {"code", LedMode::kCode}};
  std::string mode = f.text("mode", kMaxName);
  auto it = modes.find(mode);
  if (it == modes.end()) f.fail("mode", "'" + mode + "' is not one of off, on, blink, heartbeat, code");
  LedPattern p{.mode = it->second};
  bool timed = p.mode == LedMode::kBlink || p.mode == LedMode::kCode;
  for (auto k : {"on_ms", "off_ms", "pause_ms"}) {
    bool wanted = timed && (std::string_view(k) != "pause_ms" || p.mode == LedMode::kCode);
    if (!wanted && f.has(k)) f.fail(k, "not allowed with mode '" + mode + "'");
  }
  if (timed) {
    p.on_ms = static_cast<std::uint32_t>(f.uint_in_range("on_ms", 20, 5000));
    p.off_ms = static_cast<std::uint32_t>(f.uint_in_range("off_ms", 20, 5000));
  }
  if (p.mode == LedMode::kCode) p.pause_ms = static_cast<std::uint32_t>(f.uint_in_range("pause_ms", 200, 10000));
  f.finish();
  return p;
}

LedSpec parse_leds(ObjectReader& root) {
  ObjectReader leds = root.object("leds");
  LedSpec spec;
  auto led_name = [&](const char* key) {
    ObjectReader led = leds.object(key);
    std::string name = led.text("name", kMaxName);
    if (!valid_led_name(name)) led.fail("name", "'" + name + "' is not a valid LED name");
    led.finish();
    return name;
  };
  spec.status = led_name("status");
  if (leds.has("fault")) spec.fault = led_name("fault");
  if (spec.fault == spec.status) leds.fail("fault", "must differ from 'leds.status'");
  spec.working = parse_pattern(leds, "working");
  spec.done = parse_pattern(leds, "done");
  spec.failed = parse_pattern(leds, "failed");
  if (spec.working.mode == LedMode::kCode) leds.fail("working", "mode 'code' is reserved for 'failed'");
  if (spec.done.mode == LedMode::kCode) leds.fail("done", "mode 'code' is reserved for 'failed'");
  if (spec.failed.mode != LedMode::kCode) leds.fail("failed", "mode must be 'code' (N blinks, then a pause)");
  if (spec.working == spec.done) leds.fail("done", "must differ from 'leds.working'");
  leds.finish();
  return spec;
}

FirmwareSpec parse_firmware(ObjectReader& root) {
  ObjectReader fw = root.object("firmware");
  FirmwareSpec spec;
  spec.method = fw.text("method", kMaxName);
  const FirmwareMethod* method = find_firmware_method(spec.method);
  if (!method) {
    std::string known;
    for (const auto& m : firmware_methods()) known += (known.empty() ? "" : ", ") + std::string(m.name);
    fw.fail("method", "unknown method '" + spec.method + "' (known: " + known + ")");
  }
  spec.params = method->parse_params(fw);
  fw.finish();
  return spec;
}

PowerSpec parse_power(ObjectReader& root) {
  ObjectReader f = root.object("power");
  PowerSpec spec;
  std::string action = f.text("action", kMaxName);
  auto a = parse_power_action(action);
  if (!a) f.fail("action", "'" + action + "' is not one of poweroff, reboot, stay-up");
  spec.action = *a;
  if (f.has("method")) {
    std::string m = f.text("method", kMaxName);
    if (m == "systemd") spec.method = PowerMethod::kSystemd;
    else if (m == "syscall") spec.method = PowerMethod::kSyscall;
    else f.fail("method", "'" + m + "' is not one of systemd, syscall");
  }
  f.finish();
  return spec;
}

bool valid_card_path(std::string_view s) {
  // Absolute, plain names: what debugfs / mtools / a rename take without quoting.
  if (!s.starts_with("/") || s.size() < 2 || s.find("/..") != std::string_view::npos || s.find("//") != std::string_view::npos)
    return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '.' || c == '-' || c == '_';
  });
}

std::vector<std::string> parse_disarm(ObjectReader& root) {
  std::vector<std::string> files = root.text_list("disarm_card", 16, 128);
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (!valid_card_path(files[i]))
      root.fail(strict_json::element("disarm_card", i).c_str(),
                "'" + files[i] + "' must be an absolute path of [A-Za-z0-9._-] names");
  }
  return files;
}

Error parse_error(const std::string& message) { return error(Errc::kParse, message); }
Error field_error(const std::string& message) { return error(Errc::kField, message); }

}  // namespace

BoardProfile parse_profile(std::string_view text, std::string_view source) {
  if (text.size() > kMaxProfileBytes) {
    throw error(Errc::kTooLarge, std::string(source) + ": " + std::to_string(text.size()) +
                                     " bytes exceeds the limit of " + std::to_string(kMaxProfileBytes));
  }
  nlohmann::json doc = strict_json::parse_strict(text, source, parse_error, kMaxJsonDepth, "malformed JSON: ");
  if (!doc.is_object()) {
    throw error(Errc::kField, std::string(source) + ": top level: expected an object, got " + doc.type_name());
  }
  ObjectReader root(doc, "", source, field_error);
  BoardProfile p;
  root.uint_in_range("format", kProfileFormat, kProfileFormat);
  p.name = root.text("name", kMaxName);
  if (!manifest::valid_board_name(p.name)) root.fail("name", "'" + p.name + "' must match [a-z0-9-]+");
  p.description = root.text("description", kMaxText);
  if (root.has("detect")) {
    std::string by = root.text("detect", kMaxName);
    if (by == "uefi") p.detect = DetectBy::kUefi;
    else if (by != "compatible") root.fail("detect", "'" + by + "' is not one of compatible, uefi");
  }
  if (p.detect == DetectBy::kUefi) {
    if (root.has("compatible")) root.fail("compatible", "not allowed with \"detect\": \"uefi\"");
  } else {
    p.compatible = root.text_list("compatible", 16, 128);
  }
  for (std::size_t i = 0; i < p.compatible.size(); ++i) {
    if (std::find(p.compatible.begin(), p.compatible.begin() + i, p.compatible[i]) != p.compatible.begin() + i) {
      root.fail(strict_json::element("compatible", i).c_str(), "duplicate '" + p.compatible[i] + "'");
    }
  }
  p.target_device = root.text("target_device", kMaxText);
  if (!p.target_device.starts_with("/dev/") || p.target_device.find("/..") != std::string::npos) {
    root.fail("target_device", "'" + p.target_device + "' must be an absolute path under /dev/");
  }
  p.firmware = parse_firmware(root);
  p.leds = parse_leds(root);
  p.power = parse_power(root);
  if (root.has("disarm_card")) p.disarm_card = parse_disarm(root);
  root.finish();
  return p;
}

BoardProfile load_profile(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw error(Errc::kIo, file.string() + ": cannot open");
  std::string text;
  text.resize(kMaxProfileBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) throw error(Errc::kIo, file.string() + ": read failed");
  text.resize(static_cast<std::size_t>(in.gcount()));
  BoardProfile p = parse_profile(text, file.string());
  if (p.name != file.stem().string()) {
    throw error(Errc::kField, file.string() + ": field 'name': '" + p.name + "' does not match the file name '" +
                                  file.stem().string() + "'");
  }
  return p;
}

std::vector<BoardProfile> load_profiles(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".json") files.push_back(it->path());
  }
  if (ec) throw error(Errc::kIo, dir.string() + ": cannot list: " + ec.message());
  if (files.size() > kMaxProfiles) {
    throw error(Errc::kTooLarge, dir.string() + ": more than " + std::to_string(kMaxProfiles) + " profiles");
  }
  std::sort(files.begin(), files.end());
  std::vector<BoardProfile> out;
  std::map<std::string, std::string> owner;  // compatible string -> profile name
  std::string uefi_owner;
  for (const auto& f : files) {
    out.push_back(load_profile(f));
    if (out.back().detect == DetectBy::kUefi) {
      if (!uefi_owner.empty())
        throw error(Errc::kField, f.string() + ": field 'detect': \"uefi\" is already claimed by board '" +
                                      uefi_owner + "'");
      uefi_owner = out.back().name;
    }
    for (const auto& c : out.back().compatible) {
      auto [it, fresh] = owner.emplace(c, out.back().name);
      if (!fresh) {
        throw error(Errc::kField, f.string() + ": field 'compatible': '" + c + "' is already claimed by board '" +
                                      it->second + "'");
      }
    }
  }
  return out;
}

fs::path source_profiles_dir() { return IRONSTONE_BOARDS_DIR; }

fs::path default_profiles_dir() {
  return fs::exists(kInstalledProfilesDir) ? fs::path(kInstalledProfilesDir) : source_profiles_dir();
}

fs::path under_root(const fs::path& root, std::string_view absolute) {
  return root / fs::path(absolute).relative_path();
}

}  // namespace ironstone::boards
