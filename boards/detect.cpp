#include "boards/detect.h"

#include <algorithm>
#include <fstream>
#include <optional>

#include "boards/errc.h"
#include "util/file.h"

namespace ironstone::boards {

namespace fs = std::filesystem;

namespace {

std::string quoted_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const auto& s : items) out += (out.size() > 1 ? ", \"" : "\"") + s + "\"";
  return out + "]";
}

// The file's bytes (at most kMaxCompatibleBytes), nullopt when it cannot be opened.
std::optional<std::string> read_bounded(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string data = util::read_up_to(in, kMaxCompatibleBytes + 1);
  if (in.bad()) throw error(Errc::kIo, path.string() + ": read failed");
  if (data.size() > kMaxCompatibleBytes) {
    throw error(Errc::kTooLarge, path.string() + ": larger than " + std::to_string(kMaxCompatibleBytes) + " bytes");
  }
  return data;
}

std::vector<std::string> split_nul(const std::string& data) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < data.size()) {
    std::size_t end = data.find('\0', start);
    if (end == std::string::npos) end = data.size();
    if (end > start) out.push_back(data.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// One line of a sysfs text attribute, trailing whitespace and NULs removed; "" when absent.
std::string read_attribute(const fs::path& path) {
  auto data = read_bounded(path);
  if (!data) return "";
  std::string s = data->substr(0, data->find_first_of("\n"));
  while (!s.empty() && (s.back() == '\0' || s.back() == ' ' || s.back() == '\r' || s.back() == '\t')) s.pop_back();
  return s;
}

const fs::path kDeviceTrees[] = {"proc/device-tree", "sys/firmware/devicetree/base"};

}  // namespace

bool MachineFacts::uefi_firmware() const { return efi && !dmi_bios_vendor.starts_with("U-Boot"); }

std::string MachineFacts::describe() const {
  std::string dmi = dmi_sys_vendor + (dmi_product_name.empty() ? "" : " " + dmi_product_name);
  std::string out;
  if (efi) out = uefi_firmware() ? "UEFI" : "U-Boot EFI";
  if (device_tree)
    out += (out.empty() ? "" : ", ") + std::string("device tree ") +
           (compatible.empty() ? "(no compatible)" : compatible.front()) + (model.empty() ? "" : " (" + model + ")");
  if (!dmi.empty()) out += (out.empty() ? "DMI " : ", DMI ") + dmi;
  return out.empty() ? "nothing known" : out;
}

std::vector<std::string> read_compatible(const fs::path& root) {
  for (const auto& dir : kDeviceTrees) {
    if (auto data = read_bounded(root / dir / "compatible")) return split_nul(*data);
  }
  throw error(Errc::kNoDeviceTree, "no device tree: cannot read " + (root / kDeviceTrees[0] / "compatible").string() +
                                       " or " + (root / kDeviceTrees[1] / "compatible").string());
}

MachineFacts read_machine(const fs::path& root) {
  MachineFacts m;
  for (const auto& dir : kDeviceTrees) {
    auto data = read_bounded(root / dir / "compatible");
    if (!data) continue;
    m.device_tree = true;
    m.compatible = split_nul(*data);
    m.model = read_attribute(root / dir / "model");
    break;
  }
  std::error_code ec;
  m.efi = fs::is_directory(root / "sys/firmware/efi", ec);
  const fs::path dmi = root / "sys/class/dmi/id";
  m.dmi_sys_vendor = read_attribute(dmi / "sys_vendor");
  m.dmi_product_name = read_attribute(dmi / "product_name");
  m.dmi_bios_vendor = read_attribute(dmi / "bios_vendor");
  return m;
}

const BoardProfile& match_board(std::span<const BoardProfile> profiles, const std::vector<std::string>& compatible) {
  for (const auto& c : compatible) {
    for (const auto& p : profiles) {
      if (p.detect != DetectBy::kCompatible) continue;
      if (std::find(p.compatible.begin(), p.compatible.end(), c) != p.compatible.end()) return p;
    }
  }
  std::string known;
  for (const auto& p : profiles)
    known += (known.empty() ? "" : ", ") + p.name + " " +
             (p.detect == DetectBy::kUefi ? std::string("(UEFI firmware)") : quoted_list(p.compatible));
  throw error(Errc::kUnknownBoard, "unknown board: device-tree compatible strings " + quoted_list(compatible) +
                                       " match none of the known boards: " + (known.empty() ? "(none)" : known));
}

const BoardProfile& match_board(std::span<const BoardProfile> profiles, const MachineFacts& machine) {
  if (machine.uefi_firmware()) {
    for (const auto& p : profiles)
      if (p.detect == DetectBy::kUefi) return p;
  }
  if (!machine.device_tree) {
    throw error(Errc::kNoDeviceTree,
                std::string("no device tree") + (machine.uefi_firmware() ? " and no UEFI board profile" : " and no UEFI firmware") +
                    " (" + machine.describe() + ")");
  }
  return match_board(profiles, machine.compatible);
}

const BoardProfile& detect_board(std::span<const BoardProfile> profiles, const fs::path& root) {
  MachineFacts machine = read_machine(root);
  if (!machine.device_tree && !machine.uefi_firmware()) read_compatible(root);  // throws the named-paths error
  return match_board(profiles, machine);
}

}  // namespace ironstone::boards
