// Just enough ELF reading for the installer: the machine a binary is built for and the
// shared libraries it needs (DT_NEEDED, DT_SONAME), without running a (cross) readelf.
// 64- and 32-bit, little- and big-endian; every offset is bounds-checked against the file.
// Thread safety: stateless functions.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ironstone::builder {

inline constexpr std::uint16_t kElfMachineAarch64 = 183;  // EM_AARCH64

struct ElfInfo {
  std::uint16_t machine = 0;           // e_machine
  bool is_64 = false;
  bool dynamic = false;                // has a PT_DYNAMIC segment
  std::string interpreter;             // PT_INTERP, e.g. /lib/ld-linux-aarch64.so.1
  std::vector<std::string> needed;     // DT_NEEDED, in order
  std::string soname;                  // DT_SONAME
};

// "AArch64", "x86-64", "ARM", ... or "machine N".
std::string elf_machine_name(std::uint16_t machine);

// nullopt when `path` is not an ELF file; throws builder::Errc::kInput when it is one but is
// malformed or cannot be read.
std::optional<ElfInfo> read_elf_info(const std::filesystem::path& path);

}  // namespace ironstone::builder
