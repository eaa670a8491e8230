// MemoryTarget: the in-memory flash Target (flasher/target.h) for the tests, with
// injectable I/O errors. It lives with the tests, beside the real implementations
// (open_target) in flasher/.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "flasher/target.h"

namespace ironstone::flasher {

// In-memory target for tests. Thread-safe (one internal mutex serialises all calls).
class MemoryTarget final : public Target {
 public:
  enum class Op { kRead, kWrite, kZero, kFlush };

  explicit MemoryTarget(std::uint64_t size, std::string name = "memory");

  std::uint64_t size() const override { return size_; }
  void read_at(std::uint64_t offset, std::span<std::uint8_t> out) override;
  void write_at(std::uint64_t offset, std::span<const std::uint8_t> data) override;
  void zero_range(std::uint64_t offset, std::uint64_t length) override;
  void flush() override;
  std::string description() const override;

  // From now on every `op` whose range contains `offset` fails with errno `err`
  // (kFlush ignores offset). Stays until clear_errors().
  void inject_error(Op op, std::uint64_t offset, int err = 5 /* EIO */);
  void clear_errors();

  // A copy of the bytes in [offset, offset + length).
  std::vector<std::uint8_t> bytes(std::uint64_t offset, std::uint64_t length) const;
  // Direct access for test setup; not synchronised with concurrent I/O.
  std::vector<std::uint8_t>& raw() { return data_; }

  // Counters: calls that succeeded.
  std::uint64_t reads() const;
  std::uint64_t writes() const;
  std::uint64_t zeroes() const;
  std::uint64_t flushes() const;

 private:
  struct Injected {
    Op op;
    std::uint64_t offset;
    int err;
  };
  void check(Op op, const char* what, std::uint64_t offset, std::uint64_t length) const;

  std::uint64_t size_;
  std::string name_;
  mutable std::mutex mutex_;
  std::vector<std::uint8_t> data_;
  std::vector<Injected> injected_;
  std::uint64_t reads_ = 0, writes_ = 0, zeroes_ = 0, flushes_ = 0;
};

}  // namespace ironstone::flasher
