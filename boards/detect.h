// Board detection from the device tree.
//
// Reads <root>/proc/device-tree/compatible, or else
// <root>/sys/firmware/devicetree/base/compatible: NUL-separated strings, most
// specific first. The board is the profile listing the earliest of those strings.
// `root` is "/" on a real node; tests point it at a fake tree.
// Errors: kNoDeviceTree (neither file readable), kTooLarge (file above 4 KiB),
// kUnknownBoard ("... compatible strings found: [...]; known boards: ...").
// Thread safety: reentrant.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "boards/profile.h"

namespace ironstone::boards {

inline constexpr std::size_t kMaxCompatibleBytes = 4096;

// The compatible strings of the device tree under `root`, in file order.
std::vector<std::string> read_compatible(const std::filesystem::path& root);

// The profile matching `compatible` (see above). Throws kUnknownBoard.
const BoardProfile& match_board(std::span<const BoardProfile> profiles, const std::vector<std::string>& compatible);

// read_compatible() + match_board().
const BoardProfile& detect_board(std::span<const BoardProfile> profiles, const std::filesystem::path& root);

}  // namespace ironstone::boards
