#include "boards/efi_boot.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>

#include "boards/errc.h"

namespace ironstone::boards {

namespace {

constexpr std::uint8_t kMediaPath = 0x04, kHardDrive = 0x01, kFilePath = 0x04;
constexpr std::uint8_t kEndPath = 0x7f, kEndEntire = 0xff;
constexpr std::uint8_t kGptPartitionFormat = 0x02, kGuidSignature = 0x02;
constexpr std::size_t kHardDriveLength = 42;

void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
}
void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void put64(std::vector<std::uint8_t>& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
std::uint64_t get_le(std::span<const std::uint8_t> b, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = v << 8 | b[at + static_cast<std::size_t>(i)];
  return v;
}
void put_ucs2(std::vector<std::uint8_t>& out, std::string_view s) {
  for (char c : s) put16(out, static_cast<unsigned char>(c));
  put16(out, 0);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string hex16(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string guid_text(const std::array<std::uint8_t, 16>& g) {
  static const int order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
    s += digits[g[order[i]] >> 4];
    s += digits[g[order[i]] & 15];
  }
  return s;
}

std::string describe_path(const HardDriveNode& hd, std::string_view loader) {
  return "HD(" + std::to_string(hd.partition_number) + ",GPT," + guid_text(hd.signature) + "," +
         hex16(hd.start_lba) + "," + hex16(hd.size_lba) + ")/File(" + std::string(loader) + ")";
}

std::optional<std::uint16_t> boot_number(std::string_view name) {
  if (name.size() != 8 || !name.starts_with("Boot")) return std::nullopt;
  unsigned v = 0;
  for (char c : name.substr(4)) {
    if (!std::isxdigit(static_cast<unsigned char>(c)) || std::islower(static_cast<unsigned char>(c)))
      return std::nullopt;
    v = v * 16 + static_cast<unsigned>(std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : c - 'A' + 10);
  }
  return static_cast<std::uint16_t>(v);
}

std::vector<std::uint16_t> decode_order(const std::optional<EfiVariable>& v, const std::string& where) {
  std::vector<std::uint16_t> order;
  if (!v) return order;
  if (v->data.size() % 2 != 0)
    throw error(Errc::kParse, where + "/BootOrder: " + std::to_string(v->data.size()) + " bytes, not a list of UINT16");
  for (std::size_t i = 0; i < v->data.size(); i += 2)
    order.push_back(static_cast<std::uint16_t>(v->data[i] | v->data[i + 1] << 8));
  return order;
}

std::string order_text(const std::vector<std::uint16_t>& order) {
  std::string s;
  for (auto n : order) s += (s.empty() ? "" : ",") + boot_variable_name(n).substr(4);
  return s.empty() ? "(empty)" : s;
}

struct Found {
  std::uint16_t number = 0;
  bool right = false;  // active, and the HD() node is the written ESP's
  std::uint32_t attributes = 0;
};

// The Boot#### entries pointing at `hd`'s partition GUID and `loader`: the best one.
std::optional<Found> find_entry(EfiVariables& vars, const HardDriveNode& hd, std::string_view loader,
                                const std::vector<std::uint16_t>& order, std::set<std::uint16_t>& used) {
  std::optional<Found> best;
  auto rank = [&](const Found& f) {  // lower is better: right and first, right, the rest
    return (f.right ? 0 : 2) + (!order.empty() && order.front() == f.number ? 0 : 1);
  };
  for (const auto& name : vars.names()) {
    auto number = boot_number(name);
    if (!number) continue;
    used.insert(*number);
    auto v = vars.read(name);
    if (!v) continue;
    LoadOption o = decode_load_option(v->data);
    if (!o.valid || !o.hd || o.hd->signature != hd.signature || lower(o.file) != lower(std::string(loader))) continue;
    Found f{*number, (o.attributes & kLoadOptionActive) && *o.hd == hd, v->attributes};
    if (!best || rank(f) < rank(*best) || (rank(f) == rank(*best) && f.number < best->number)) best = f;
  }
  return best;
}

}  // namespace

std::optional<std::array<std::uint8_t, 16>> guid_bytes(std::string_view t) {
  if (t.size() != 36 || t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-') return std::nullopt;
  std::array<std::uint8_t, 16> text_order{};
  std::size_t k = 0;
  for (std::size_t i = 0; i < t.size(); i += (t[i] == '-' ? 1 : 2)) {
    if (t[i] == '-') continue;
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    };
    int hi = nibble(t[i]), lo = nibble(t[i + 1]);
    if (hi < 0 || lo < 0 || k >= 16) return std::nullopt;
    text_order[k++] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  static const int order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
  std::array<std::uint8_t, 16> out{};
  for (int i = 0; i < 16; ++i) out[static_cast<std::size_t>(order[i])] = text_order[static_cast<std::size_t>(i)];
  return out;
}

HardDriveNode esp_node(const disk::PartitionTable& table, const std::string& what) {
  if (table.kind != disk::TableKind::kGpt)
    throw error(Errc::kUnsupported, what + ": the image has no GPT (" + disk::describe(table) +
                                        "): UEFI boot entries need a GPT EFI system partition");
  for (const auto& p : table.partitions) {
    if (p.type != kEspTypeGuid) continue;
    auto sig = guid_bytes(p.uuid);
    if (!sig) throw error(Errc::kUnsupported, what + ": partition " + std::to_string(p.number) + ": bad GUID '" + p.uuid + "'");
    return {p.number, p.offset / table.sector_size, p.size / table.sector_size, *sig};
  }
  throw error(Errc::kUnsupported, what + ": no EFI system partition (type " + std::string(kEspTypeGuid) + ") in the image's " +
                                      disk::describe(table));
}

std::vector<std::uint8_t> encode_load_option(std::uint32_t attributes, std::string_view description,
                                             const HardDriveNode& hd, std::string_view loader) {
  std::vector<std::uint8_t> path;
  path.push_back(kMediaPath);
  path.push_back(kHardDrive);
  put16(path, kHardDriveLength);
  put32(path, hd.partition_number);
  put64(path, hd.start_lba);
  put64(path, hd.size_lba);
  path.insert(path.end(), hd.signature.begin(), hd.signature.end());
  path.push_back(kGptPartitionFormat);
  path.push_back(kGuidSignature);
  path.push_back(kMediaPath);
  path.push_back(kFilePath);
  put16(path, static_cast<std::uint16_t>(4 + 2 * (loader.size() + 1)));
  put_ucs2(path, loader);
  path.insert(path.end(), {kEndPath, kEndEntire, 0x04, 0x00});

  std::vector<std::uint8_t> out;
  put32(out, attributes);
  put16(out, static_cast<std::uint16_t>(path.size()));
  put_ucs2(out, description);
  out.insert(out.end(), path.begin(), path.end());
  return out;
}

LoadOption decode_load_option(std::span<const std::uint8_t> b) {
  LoadOption o;
  if (b.size() < 6) return o;
  o.attributes = static_cast<std::uint32_t>(get_le(b, 0, 4));
  const std::size_t path_len = get_le(b, 4, 2);
  std::size_t at = 6;
  for (;; at += 2) {
    if (at + 2 > b.size()) return o;
    std::uint16_t c = static_cast<std::uint16_t>(get_le(b, at, 2));
    if (c == 0) break;
    if (o.description.size() < 256) o.description += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  at += 2;
  if (path_len > b.size() - at) return o;
  const std::size_t end = at + path_len;
  while (at + 4 <= end) {
    const std::uint8_t type = b[at], sub = b[at + 1];
    const std::size_t len = get_le(b, at + 2, 2);
    if (len < 4 || len > end - at) return o;
    if (type == kEndPath && sub == kEndEntire) {
      o.valid = true;
      return o;
    }
    if (type == kMediaPath && sub == kHardDrive && len == kHardDriveLength && !o.hd &&
        b[at + 40] == kGptPartitionFormat && b[at + 41] == kGuidSignature) {
      HardDriveNode hd{static_cast<std::uint32_t>(get_le(b, at + 4, 4)), get_le(b, at + 8, 8), get_le(b, at + 16, 8), {}};
      std::copy(b.begin() + static_cast<std::ptrdiff_t>(at + 24), b.begin() + static_cast<std::ptrdiff_t>(at + 40),
                hd.signature.begin());
      o.hd = hd;
    } else if (type == kMediaPath && sub == kFilePath && o.file.empty()) {
      for (std::size_t i = at + 4; i + 1 < at + len; i += 2) {
        std::uint16_t c = static_cast<std::uint16_t>(get_le(b, i, 2));
        if (c == 0) break;
        o.file += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
      }
    }
    at += len;
  }
  return o;  // no End node within FilePathListLength
}

std::string boot_variable_name(std::uint16_t number) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "Boot%04X", static_cast<unsigned>(number));
  return buf;
}

FirmwareResult EfiBootOrderUpdater::apply(const FirmwarePayload*, const WrittenDisk* written) {
  if (!written) throw error(Errc::kUnsupported, "efi-boot-order: runs after the image is written (no written disk given)");
  const HardDriveNode hd = esp_node(written->table, written->device);
  std::unique_ptr<EfiVariables> vars = vars_();
  const std::string where = vars->where();
  const auto wanted = encode_load_option(kLoadOptionActive, params_.description, hd, params_.loader);
  const std::string path = describe_path(hd, params_.loader);

  const std::optional<EfiVariable> order_var = vars->read("BootOrder");
  const std::vector<std::uint16_t> order = decode_order(order_var, where);
  std::set<std::uint16_t> used;
  std::optional<Found> found = find_entry(*vars, hd, params_.loader, order, used);

  std::vector<std::pair<std::string, EfiVariable>> writes;
  std::string detail;
  std::uint16_t number = 0;
  if (!found) {
    while (used.count(number) && number < 0xffff) ++number;
    if (used.count(number)) throw error(Errc::kDevice, where + ": no free Boot#### number");
    writes.push_back({boot_variable_name(number), {kEfiBootVariableAttributes, wanted}});
    detail = "created " + boot_variable_name(number) + " \"" + params_.description + "\" " + path;
  } else {
    number = found->number;
    if (!found->right) {
      writes.push_back({boot_variable_name(number), {found->attributes, wanted}});
      detail = "rewrote " + boot_variable_name(number) + " as active " + path;
    }
  }
  std::vector<std::uint16_t> new_order{number};
  for (auto n : order)
    if (n != number) new_order.push_back(n);
  if (new_order != order) {
    EfiVariable v{order_var ? order_var->attributes : kEfiBootVariableAttributes, {}};
    for (auto n : new_order) put16(v.data, n);
    writes.push_back({"BootOrder", v});
    detail += (detail.empty() ? "" : "; ") + std::string("BootOrder ") + order_text(order) + " -> " + order_text(new_order);
  }
  if (writes.empty())
    return {FirmwareOutcome::kAlreadyCurrent, boot_variable_name(number) + " " + path + " is first in BootOrder"};

  for (const auto& [name, value] : writes) vars->write(name, value);
  for (const auto& [name, value] : writes) {
    auto back = vars->read(name);
    if (!back || *back != value)
      throw error(Errc::kVerify, where + "/" + name + ": read back " +
                                     (back ? std::to_string(back->data.size()) + " bytes that differ from the " +
                                                 std::to_string(value.data.size()) + " written"
                                           : std::string("nothing")) +
                                     " (the firmware did not store the variable)");
  }
  return {FirmwareOutcome::kUpdated, detail};
}

}  // namespace ironstone::boards
