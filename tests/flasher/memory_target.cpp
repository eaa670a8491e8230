#include "tests/flasher/memory_target.h"

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace ironstone::flasher {

MemoryTarget::MemoryTarget(std::uint64_t size, std::string name)
    : size_(size), name_(std::move(name)), data_(static_cast<std::size_t>(size)) {}

void MemoryTarget::check(Op op, const char* what, std::uint64_t offset, std::uint64_t length) const {
  if (offset > size_ || length > size_ - offset) {
    throw error(Errc::kOutOfRange, name_ + ": " + what + " @ " + hex_offset(offset) + ": " +
                                       std::to_string(length) + " bytes beyond the end (" +
                                       std::to_string(size_) + " bytes)");
  }
  for (const Injected& inj : injected_) {
    if (inj.op != op) continue;
    if (op == Op::kFlush || (inj.offset >= offset && inj.offset < offset + length)) {
      throw io_error(Errc::kIo, name_, what, op == Op::kFlush ? 0 : inj.offset, inj.err);
    }
  }
}

void MemoryTarget::read_at(std::uint64_t offset, std::span<std::uint8_t> out) {
  std::lock_guard lock(mutex_);
  check(Op::kRead, "read", offset, out.size());
  std::copy_n(data_.begin() + static_cast<std::ptrdiff_t>(offset), out.size(), out.begin());
  ++reads_;
}

void MemoryTarget::write_at(std::uint64_t offset, std::span<const std::uint8_t> data) {
  std::lock_guard lock(mutex_);
  check(Op::kWrite, "write", offset, data.size());
  std::copy(data.begin(), data.end(), data_.begin() + static_cast<std::ptrdiff_t>(offset));
  ++writes_;
}

void MemoryTarget::zero_range(std::uint64_t offset, std::uint64_t length) {
  std::lock_guard lock(mutex_);
  check(Op::kZero, "zero", offset, length);
  std::fill_n(data_.begin() + static_cast<std::ptrdiff_t>(offset), length, std::uint8_t{0});
  ++zeroes_;
}

void MemoryTarget::flush() {
  std::lock_guard lock(mutex_);
  check(Op::kFlush, "flush", 0, 0);
  ++flushes_;
}

std::string MemoryTarget::description() const {
  return name_ + " (memory, " + std::to_string(size_) + " bytes)";
}

void MemoryTarget::inject_error(Op op, std::uint64_t offset, int err) {
  std::lock_guard lock(mutex_);
  injected_.push_back({op, offset, err});
}

void MemoryTarget::clear_errors() {
  std::lock_guard lock(mutex_);
  injected_.clear();
}

std::vector<std::uint8_t> MemoryTarget::bytes(std::uint64_t offset, std::uint64_t length) const {
  std::lock_guard lock(mutex_);
  if (offset > size_ || length > size_ - offset) {
    throw error(Errc::kOutOfRange, name_ + ": bytes @ " + hex_offset(offset) + ": beyond the end");
  }
  auto first = data_.begin() + static_cast<std::ptrdiff_t>(offset);
  return {first, first + static_cast<std::ptrdiff_t>(length)};
}

std::uint64_t MemoryTarget::reads() const { std::lock_guard lock(mutex_); return reads_; }
std::uint64_t MemoryTarget::writes() const { std::lock_guard lock(mutex_); return writes_; }
std::uint64_t MemoryTarget::zeroes() const { std::lock_guard lock(mutex_); return zeroes_; }
std::uint64_t MemoryTarget::flushes() const { std::lock_guard lock(mutex_); return flushes_; }

}  // namespace ironstone::flasher
