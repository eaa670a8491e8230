// Error reporting shared by every Ironstone component.
//
// Every module reports failures as ironstone::Error: a std::error_code from the
// module's own category (manifest::Errc, builder::Errc, seeder::Errc, ...) plus a
// message that says where the problem is (file, offset, chunk, field). As an
// error rises, each layer puts its context in front:
//
//   catch (const Error& e) { throw e.with_context("flash: chunk 1832 @ 0x1CA00000"); }
//
// turns "hash mismatch" into "flash: chunk 1832 @ 0x1CA00000: hash mismatch".
// Thread safety: immutable value type.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <system_error>

namespace ironstone {

class Error : public std::runtime_error {
 public:
  Error(std::error_code code, const std::string& message) : std::runtime_error(message), code_(code) {}

  const std::error_code& code() const noexcept { return code_; }

  // A copy of this error with "context: " put in front of the message.
  Error with_context(const std::string& context) const { return Error(code_, context + ": " + what()); }

 private:
  std::error_code code_;
};

// Helper for a module's error category: name() and message() from a table.
class TableCategory : public std::error_category {
 public:
  using Describe = const char* (*)(int);
  constexpr TableCategory(const char* name, Describe describe) : name_(name), describe_(describe) {}
  const char* name() const noexcept override { return name_; }
  std::string message(int value) const override { return describe_(value); }

 private:
  const char* name_;
  Describe describe_;
};

// "0x1CA00000": offsets in messages are hexadecimal, as in a hex dump.
std::string hex_offset(std::uint64_t offset);

}  // namespace ironstone
