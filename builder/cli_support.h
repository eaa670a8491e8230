// Small pieces the `ironstone-build` command line needs: sizes, expiry, progress.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace ironstone::builder {

// "4194304", "4M", "4MiB", "512K", "1G" → bytes. Throws Errc::kUsage naming the flag.
std::uint64_t parse_size(const std::string& text, const std::string& flag);
// "90d", "12h", "30m" → seconds; nullopt for anything else (the caller names its flag).
std::optional<std::int64_t> parse_duration(const std::string& text);
// "90d", "12h", "30m" (relative to now) or "2027-01-01T00:00:00Z" → unix seconds.
std::int64_t parse_expiry(const std::string& text, std::int64_t now);

// Progress on stderr: a redrawn bar on a terminal, a plain line every 10% otherwise.
class ProgressPrinter {
 public:
  explicit ProgressPrinter(std::string label);
  void update(std::uint64_t done, std::optional<std::uint64_t> total);
  void finish();

 private:
  std::string label_;
  bool tty_;
  int last_step_ = -1;
  double started_;
};

}  // namespace ironstone::builder
