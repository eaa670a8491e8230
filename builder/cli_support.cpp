#include "builder/cli_support.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "builder/errc.h"
#include "manifest/manifest.h"

namespace ironstone::builder {

std::uint64_t parse_size(const std::string& text, const std::string& flag) {
  std::size_t pos = 0;
  std::uint64_t n = 0;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9' && pos < 19) n = n * 10 + (text[pos++] - '0');
  std::string unit = text.substr(pos);
  std::uint64_t mult = 0;
  if (unit.empty() || unit == "B") mult = 1;
  else if (unit == "K" || unit == "KiB") mult = 1ull << 10;
  else if (unit == "M" || unit == "MiB") mult = 1ull << 20;
  else if (unit == "G" || unit == "GiB") mult = 1ull << 30;
  if (pos == 0 || mult == 0) throw error(Errc::kUsage, flag + " '" + text + "': expected a size like 4M, 512K or 4194304");
  return n * mult;
}

std::optional<std::int64_t> parse_duration(const std::string& text) {
  std::size_t pos = 0;
  std::int64_t n = 0;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9' && pos < 9) n = n * 10 + (text[pos++] - '0');
  std::string unit = text.substr(pos);
  std::int64_t mult = unit == "d" ? 86400 : unit == "h" ? 3600 : unit == "m" ? 60 : 0;
  if (pos == 0 || mult == 0) return std::nullopt;
  return n * mult;
}

std::int64_t parse_expiry(const std::string& text, std::int64_t now) {
  if (auto t = manifest::parse_time(text)) return *t;
  const auto d = parse_duration(text);
  if (!d)
    throw error(Errc::kUsage, "--expires '" + text + "': expected a duration (90d, 12h, 30m) or a UTC time like 2027-01-01T00:00:00Z");
  return now + *d;
}

static double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

ProgressPrinter::ProgressPrinter(std::string label)
    : label_(std::move(label)), tty_(::isatty(STDERR_FILENO)), started_(now_seconds()) {}

void ProgressPrinter::update(std::uint64_t done, std::optional<std::uint64_t> total) {
  double mib = static_cast<double>(done) / (1 << 20);
  double rate = mib / std::max(1e-3, now_seconds() - started_);
  if (!total || *total == 0) {
    int step = static_cast<int>(mib / 256);
    if (tty_) std::fprintf(stderr, "\r%s %.0f MiB read (%.0f MiB/s)", label_.c_str(), mib, rate);
    else if (step != last_step_) std::fprintf(stderr, "%s %.0f MiB read (%.0f MiB/s)\n", label_.c_str(), mib, rate);
    last_step_ = step;
    return;
  }
  double frac = std::min(1.0, static_cast<double>(done) / static_cast<double>(*total));
  if (tty_) {
    const int width = 30;
    int filled = static_cast<int>(frac * width);
    std::fprintf(stderr, "\r%s [%.*s%*s] %5.1f%% %.0f MiB/s", label_.c_str(), filled,
                 "##############################", width - filled, "", frac * 100, rate);
  } else {
    int step = static_cast<int>(frac * 10);
    if (step != last_step_) std::fprintf(stderr, "%s %d%% (%.0f MiB/s)\n", label_.c_str(), step * 10, rate);
    last_step_ = step;
  }
}

void ProgressPrinter::finish() {
  if (tty_) std::fprintf(stderr, "\n");
}

}  // namespace ironstone::builder
