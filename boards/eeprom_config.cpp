#include "boards/eeprom_config.h"

#include <charconv>

#include "boards/errc.h"

namespace ironstone::boards {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::optional<unsigned long long> to_number(std::string_view s) {
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s.remove_prefix(2);
    base = 16;
  }
  unsigned long long v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

bool same_setting_value(std::string_view a, std::string_view b) {
  a = trim(a);
  b = trim(b);
  auto na = to_number(a), nb = to_number(b);
  if (na && nb) return *na == *nb;
  return a == b;
}

EepromConfig EepromConfig::parse(std::string_view text, std::string_view source) {
  if (text.size() > kMaxEepromConfigBytes) {
    throw error(Errc::kTooLarge, std::string(source) + ": " + std::to_string(text.size()) +
                                     " bytes exceeds the limit of " + std::to_string(kMaxEepromConfigBytes));
  }
  EepromConfig cfg;
  cfg.final_newline_ = text.empty() || text.back() == '\n';
  bool unconditional = true;  // before any section header
  std::size_t number = 0;
  while (!text.empty()) {
    ++number;
    auto nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (raw.find('\0') != std::string_view::npos) {
      throw error(Errc::kParse, std::string(source) + ": line " + std::to_string(number) + ": NUL byte");
    }
    Line line{.raw = std::string(raw)};
    std::string_view t = trim(raw);
    if (t.starts_with('[')) {
      if (!t.ends_with(']')) {
        throw error(Errc::kParse, std::string(source) + ": line " + std::to_string(number) +
                                      ": unterminated section header '" + std::string(t) + "'");
      }
      unconditional = trim(t.substr(1, t.size() - 2)) == "all";
    } else if (!t.empty() && !t.starts_with('#')) {
      auto eq = t.find('=');
      if (eq != std::string_view::npos) {
        line.key = std::string(trim(t.substr(0, eq)));
        line.value = std::string(trim(t.substr(eq + 1)));
      }
    }
    line.unconditional = unconditional;
    cfg.lines_.push_back(std::move(line));
  }
  return cfg;
}

std::optional<std::string> EepromConfig::get(std::string_view key) const {
  std::optional<std::string> value;
  for (const auto& l : lines_) {
    if (l.unconditional && l.key == key) value = l.value;
  }
  return value;
}

void EepromConfig::set(std::string_view key, std::string_view value) {
  bool found = false;
  std::size_t insert_at = lines_.size();
  bool have_block = false;
  for (std::size_t i = 0; i < lines_.size(); ++i) {
    Line& l = lines_[i];
    if (!l.unconditional) continue;
    // The end of an unconditional block: after its last non-blank line.
    if (!trim(l.raw).empty()) {
      insert_at = i + 1;
      have_block = true;
    }
    if (l.key == key) {
      l.value = std::string(value);
      l.raw = l.key + "=" + l.value;
      found = true;
    }
  }
  if (found) return;
  Line line{.raw = std::string(key) + "=" + std::string(value), .key = std::string(key),
            .value = std::string(value), .unconditional = true};
  if (have_block) {
    lines_.insert(lines_.begin() + static_cast<std::ptrdiff_t>(insert_at), std::move(line));
    return;
  }
  if (lines_.empty()) {
    lines_.push_back(std::move(line));
    return;
  }
  lines_.push_back(Line{.raw = "[all]", .unconditional = true});
  lines_.push_back(std::move(line));
}

std::string EepromConfig::text() const {
  std::string out;
  for (std::size_t i = 0; i < lines_.size(); ++i) {
    out += lines_[i].raw;
    if (i + 1 < lines_.size() || final_newline_) out += '\n';
  }
  return out;
}

}  // namespace ironstone::boards
