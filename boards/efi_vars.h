// UEFI variables of the EFI global namespace (8be4df61-93ca-11d2-aa0d-e0cbaa5f2ac1): the
// interface the "efi-boot-order" firmware method (efi_boot.h) works through, and the real
// implementation over efivarfs.
//
// efivarfs (Documentation/filesystems/efivarfs.rst) shows each variable as a file
// "<Name>-<vendor GUID>" whose content is the 4-byte little-endian attribute word followed by
// the data; writing such a buffer in one write() is SetVariable. The kernel marks most
// variable files immutable (chattr +i): write() clears FS_IMMUTABLE_FL first (FS_IOC_SETFLAGS),
// as efibootmgr's libefivar does. A directory that is not efivarfs (a test's fake root, a
// copy) gets the same bytes and is truncated to them after the write, so it holds exactly
// what efivarfs would show.
//
// Ownership: plain value holding a directory path. Thread safety: one user at a time (the
// firmware serialises SetVariable anyway). Errors: Error(boards::Errc::kDevice) naming the
// file for failed I/O, kParse for a file shorter than its attribute word, kTooLarge above
// kMaxEfiVariableBytes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ironstone::boards {

inline constexpr std::string_view kEfiGlobalGuid = "8be4df61-93ca-11d2-aa0d-e0cbaa5f2ac1";
inline constexpr std::size_t kMaxEfiVariableBytes = 64 * 1024;
inline constexpr std::size_t kMaxEfiVariables = 4096;

// Attribute bits (UEFI 2.10 §8.2, SetVariable()).
inline constexpr std::uint32_t kEfiVariableNonVolatile = 0x1;
inline constexpr std::uint32_t kEfiVariableBootserviceAccess = 0x2;
inline constexpr std::uint32_t kEfiVariableRuntimeAccess = 0x4;
inline constexpr std::uint32_t kEfiBootVariableAttributes =
    kEfiVariableNonVolatile | kEfiVariableBootserviceAccess | kEfiVariableRuntimeAccess;

struct EfiVariable {
  std::uint32_t attributes = kEfiBootVariableAttributes;
  std::vector<std::uint8_t> data;
  bool operator==(const EfiVariable&) const = default;
};

class EfiVariables {
 public:
  virtual ~EfiVariables() = default;
  // Variables of the global namespace, by name ("BootOrder", "Boot0001").
  virtual std::optional<EfiVariable> read(std::string_view name) = 0;
  virtual void write(std::string_view name, const EfiVariable& value) = 0;
  // Names of the global-namespace variables present (unsorted).
  virtual std::vector<std::string> names() = 0;
  // For messages, e.g. "/sys/firmware/efi/efivars".
  virtual std::string where() const = 0;
};

class EfivarfsVariables : public EfiVariables {
 public:
  explicit EfivarfsVariables(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::optional<EfiVariable> read(std::string_view name) override;
  void write(std::string_view name, const EfiVariable& value) override;
  std::vector<std::string> names() override;
  std::string where() const override { return dir_.string(); }

 private:
  std::filesystem::path file(std::string_view name) const;
  std::filesystem::path dir_;
};

}  // namespace ironstone::boards
