#include "flasher/failed_step.h"

#include <algorithm>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <vector>

#include "flasher/errc.h"

namespace ironstone::flasher {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxInterfaces = 256;
constexpr std::size_t kMaxLines = 4096;

std::string first_word(const fs::path& p) {
  std::ifstream in(p);
  std::string s;
  in >> s;
  return s;
}

bool has_link(const fs::path& dir) {
  const std::string state = first_word(dir / "operstate");
  // "unknown": drivers that do not report it (some virtual and USB NICs); then the carrier says.
  return state == "up" || (state == "unknown" && first_word(dir / "carrier") == "1");
}

// Interfaces of <root>/proc/net/route (IPv4 routes) and if_inet6 (global IPv6 addresses);
// nullopt when neither file is readable.
std::optional<std::set<std::string>> addressed_interfaces(const fs::path& root) {
  std::ifstream route(root / "proc/net/route"), inet6(root / "proc/net/if_inet6");
  if (!route && !inet6) return std::nullopt;
  std::set<std::string> out;
  std::string line;
  for (std::size_t n = 0; route && n < kMaxLines && std::getline(route, line); ++n) {
    std::istringstream f(line);
    std::string iface;
    if (f >> iface && n > 0) out.insert(iface);  // first line: header
  }
  for (std::size_t n = 0; inet6 && n < kMaxLines && std::getline(inet6, line); ++n) {
    std::istringstream f(line);
    std::string addr, index, prefix, scope, flags, iface;
    if (f >> addr >> index >> prefix >> scope >> flags >> iface && scope == "00") out.insert(iface);  // global scope
  }
  return out;
}

}  // namespace

NetworkState network_state(const fs::path& root) {
  std::vector<std::string> interfaces, linked;
  std::error_code ec;
  for (fs::directory_iterator it(root / "sys/class/net", ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name == "lo" || interfaces.size() >= kMaxInterfaces) continue;
    interfaces.push_back(name);
    if (has_link(it->path())) linked.push_back(name);
  }
  if (ec || !fs::exists(root / "sys/class/net")) return {};  // unknown
  std::sort(interfaces.begin(), interfaces.end());
  std::sort(linked.begin(), linked.end());
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
  };
  if (interfaces.empty()) return {true, "no network interface besides lo"};
  if (linked.empty()) return {true, "no link on " + join(interfaces)};
  auto addressed = addressed_interfaces(root);
  if (!addressed) return {};
  for (const auto& i : linked)
    if (addressed->count(i)) return {};
  return {true, "no IPv4 route or global IPv6 address on " + join(linked) + " (DHCP?)"};
}

boards::FailedStep failed_step_for(boards::FailedStep planned, const Error& error, const fs::path& root) {
  if (planned != boards::FailedStep::kRelease) return planned;
  if (error.code() != make_error_code(Errc::kSeeder)) return planned;
  if (network_state(root).down) return boards::FailedStep::kNetwork;
  return boards::FailedStep::kSeeder;
}

}  // namespace ironstone::flasher
