// block_device_users(): is a block device, one of its partitions or holders in use?
// Reads <sys_root>/class/block/<name>/{dev,<partition>/,holders/}, <proc_root>/self/mountinfo
// and <proc_root>/swaps. See target.h.
#include <sys/sysmacros.h>

#include <cctype>
#include <deque>
#include <fstream>
#include <map>
#include <sstream>

#include "flasher/mountinfo.h"
#include "flasher/target.h"

namespace ironstone::flasher {
namespace fs = std::filesystem;
namespace {

std::string dev_string(dev_t dev) { return std::to_string(major(dev)) + ":" + std::to_string(minor(dev)); }

std::string read_dev_file(const fs::path& p) {
  std::ifstream in(p);
  std::string s;
  in >> s;
  return s;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto octal = [&](std::size_t j) { return j < s.size() && s[j] >= '0' && s[j] <= '7'; };
    if (s[i] == '\\' && octal(i + 1) && octal(i + 2) && octal(i + 3)) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

// sysfs name -> "major:minor" for the device, its partitions and (recursively) holders.
std::map<std::string, std::string> related(const std::string& name, dev_t dev, const fs::path& sys_root) {
  std::map<std::string, std::string> devices{{name, dev_string(dev)}};
  std::deque<std::string> queue{name};
  auto add = [&](const std::string& n, const std::string& d) {
    if (devices.emplace(n, d).second) queue.push_back(n);
  };
  while (!queue.empty()) {
    fs::path dir = sys_root / "class" / "block" / queue.front();
    queue.pop_front();
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (!e.is_symlink() && e.is_directory() && fs::exists(e.path() / "partition")) {
        add(e.path().filename().string(), read_dev_file(e.path() / "dev"));
      }
    }
    for (const auto& e : fs::directory_iterator(dir / "holders", ec)) {
      std::string holder = e.path().filename().string();
      add(holder, read_dev_file(sys_root / "class" / "block" / holder / "dev"));
    }
  }
  return devices;
}

}  // namespace

std::vector<MountEntry> read_mountinfo(const fs::path& proc_root) {
  fs::path mountinfo = proc_root / "self" / "mountinfo";
  std::ifstream in(mountinfo);
  if (!in) throw error(Errc::kBadTarget, mountinfo.string() + ": cannot read");
  std::vector<MountEntry> out;
  std::string line;
  for (std::size_t n = 0; n < kMaxMounts && std::getline(in, line); ++n) {
    std::istringstream fields(line);
    std::vector<std::string> f;
    for (std::string w; fields >> w;) f.push_back(w);
    if (f.size() < 5) continue;
    MountEntry e{f[2], unescape(f[3]), unescape(f[4]), "", ""};
    for (std::size_t i = 5; i + 2 < f.size(); ++i) {
      if (f[i] == "-") {
        e.fstype = f[i + 1];
        e.source = unescape(f[i + 2]);
        break;
      }
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<std::string> block_device_users(const std::string& name, dev_t dev, const fs::path& proc_root,
                                            const fs::path& sys_root) {
  auto devices = related(name, dev, sys_root);
  std::map<std::string, std::string> by_number, by_node;  // "M:m" / "/dev/x" -> name
  for (const auto& [n, d] : devices) {
    if (!d.empty()) by_number[d] = n;
    by_node["/dev/" + n] = n;
  }

  std::vector<std::string> users;
  fs::path mountinfo = proc_root / "self" / "mountinfo";
  std::ifstream in(mountinfo);
  if (!in) throw error(Errc::kBadTarget, mountinfo.string() + ": cannot read, so cannot check that " + name + " is unmounted");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::vector<std::string> f;
    for (std::string w; fields >> w;) f.push_back(w);
    if (f.size() < 5) continue;
    std::string source;
    for (std::size_t i = 5; i + 2 < f.size(); ++i) {
      if (f[i] == "-") { source = unescape(f[i + 2]); break; }
    }
    std::string who;
    if (auto it = by_number.find(f[2]); it != by_number.end()) who = it->second;
    else if (auto it2 = by_node.find(source); it2 != by_node.end()) who = it2->second;
    if (!who.empty()) users.push_back(who + " (" + devices[who] + ") mounted at " + unescape(f[4]));
  }

  std::ifstream swaps(proc_root / "swaps");
  std::getline(swaps, line);  // header
  while (std::getline(swaps, line)) {
    std::istringstream fields(line);
    std::string file;
    fields >> file;
    if (auto it = by_node.find(unescape(file)); it != by_node.end()) {
      users.push_back(it->second + " (" + devices[it->second] + ") used as swap");
    }
  }
  return users;
}

}  // namespace ironstone::flasher
