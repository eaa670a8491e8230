#include "boards/detect.h"

#include <algorithm>
#include <fstream>

#include "boards/errc.h"

namespace ironstone::boards {

namespace fs = std::filesystem;

namespace {

std::string quoted_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const auto& s : items) out += (out.size() > 1 ? ", \"" : "\"") + s + "\"";
  return out + "]";
}

}  // namespace

std::vector<std::string> read_compatible(const fs::path& root) {
  const fs::path candidates[] = {root / "proc/device-tree/compatible",
                                 root / "sys/firmware/devicetree/base/compatible"};
  for (const auto& path : candidates) {
    std::ifstream in(path, std::ios::binary);
    if (!in) continue;
    std::string data(kMaxCompatibleBytes + 1, '\0');
    in.read(data.data(), static_cast<std::streamsize>(data.size()));
    if (in.bad()) throw error(Errc::kIo, path.string() + ": read failed");
    data.resize(static_cast<std::size_t>(in.gcount()));
    if (data.size() > kMaxCompatibleBytes) {
      throw error(Errc::kTooLarge, path.string() + ": larger than " + std::to_string(kMaxCompatibleBytes) + " bytes");
    }
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
  throw error(Errc::kNoDeviceTree, "no device tree: cannot read " + candidates[0].string() + " or " +
                                       candidates[1].string());
}

const BoardProfile& match_board(std::span<const BoardProfile> profiles, const std::vector<std::string>& compatible) {
  for (const auto& c : compatible) {
    for (const auto& p : profiles) {
      if (std::find(p.compatible.begin(), p.compatible.end(), c) != p.compatible.end()) return p;
    }
  }
  std::string known;
  for (const auto& p : profiles) known += (known.empty() ? "" : ", ") + p.name + " " + quoted_list(p.compatible);
  throw error(Errc::kUnknownBoard, "unknown board: device-tree compatible strings " + quoted_list(compatible) +
                                       " match none of the known boards: " + (known.empty() ? "(none)" : known));
}

const BoardProfile& detect_board(std::span<const BoardProfile> profiles, const fs::path& root) {
  return match_board(profiles, read_compatible(root));
}

}  // namespace ironstone::boards
