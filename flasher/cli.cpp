#include "flasher/cli.h"

#include <algorithm>
#include <iostream>
#include <spdlog/spdlog.h>

#include "boards/profile.h"
#include "flasher/card_boot.h"
#include "util/error.h"

namespace ironstone::flasher {

namespace {

// --rearm: the "disarm_card" files of --board's profile, or of every profile.
int run_rearm(const CliArgs& a) {
  try {
    const std::filesystem::path dir =
        a.profiles_dir.empty() ? boards::default_profiles_dir() : std::filesystem::path(a.profiles_dir);
    std::vector<std::string> files;
    for (const auto& p : boards::load_profiles(dir)) {
      if (a.options.board != "auto" && p.name != a.options.board) continue;
      for (const auto& f : p.disarm_card)
        if (std::find(files.begin(), files.end(), f) == files.end()) files.push_back(f);
    }
    if (files.empty()) {
      std::cerr << "ironstone-flasher: --rearm: no board profile in " << dir.string() << " disarms its card\n";
      return 2;
    }
    const std::filesystem::path card =
        a.rearm.starts_with("/dev/") ? boards::under_root(a.root, a.rearm) : std::filesystem::path(a.rearm);
    const std::string line = rearm_card(a.root, card, files).summary(false);
    std::cout << "ironstone-flasher: " << line << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "ironstone-flasher: --rearm " << a.rearm << ": " << e.what() << "\n";
  }
  return 1;
}

}  // namespace

int run_cli(CliArgs a) {
  spdlog::set_level(spdlog::level::from_str(a.log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  if (!a.rearm.empty()) return run_rearm(a);
  if (!a.seeders.empty()) {
    a.options.seeder_url = a.seeders.front();
    a.options.more_seeders.assign(a.seeders.begin() + 1, a.seeders.end());
  }
  for (auto [missing, name] : {std::pair{a.options.seeder_url.empty(), "--seeder"},
                               std::pair{a.public_keys.empty(), "--public-key"}}) {
    if (missing) {
      std::cerr << "ironstone-flasher: " << name << " is required\n";
      return 2;
    }
  }
  FlashOptions& o = a.options;
  o.target = a.target;
  o.state_file = a.state_file;
  o.root = a.root;
  o.profiles_dir = a.profiles_dir;
  o.cache_dir = a.cache_dir;
  o.linger = std::chrono::seconds(std::max(0, a.linger_seconds));
  o.stall_timeout = std::chrono::seconds(std::max(1, a.stall_seconds));
  o.web_seed_after = std::chrono::milliseconds(std::max(0, a.web_seed_after_ms));
  for (const auto& k : a.public_keys) o.public_keys.emplace_back(k);
  if (!a.power.empty()) {
    o.power = boards::parse_power_action(a.power);
    if (!o.power) {
      std::cerr << "ironstone-flasher: --power " << a.power << ": expected poweroff, reboot or stay-up\n";
      return 2;
    }
  }
  try {
    FlashResult r = run_flash(o);
    std::cout << "ironstone-flasher: " << r.board << "/" << r.version << " (sequence " << r.sequence << ") "
              << (r.already_current ? "was already on the target" : "flashed and verified") << " in " << r.seconds
              << " s: " << r.chunks_downloaded << " of " << r.chunks_total << " chunks downloaded, "
              << r.bytes_written << " bytes written, " << r.from_seeder << " bytes from the seeder, " << r.from_peers
              << " from peers" << (r.web_seed_used ? " (web seed used)" : "")
              << (r.banned_peers ? ", " + std::to_string(r.banned_peers) + " peers banned" : "")
              << (r.banned_peers ? " (" + std::to_string(r.from_banned_peers) + " bytes from them)" : "") << "\n";
    for (const auto& b : r.banned) std::cout << "ironstone-flasher: banned peer " << b << "\n";
    if (r.seeder_bittorrent_used)
      std::cout << "ironstone-flasher: the seeder's HTTP chunk store failed; its BitTorrent side served instead\n";
    if (r.boot_only_changed)
      std::cout << "ironstone-flasher: only the boot partition differed (the node identity of an earlier run)\n";
    if (!r.identity.empty()) std::cout << "ironstone-flasher: identity: " << r.identity << "\n";
    if (!r.disarm.empty()) std::cout << "ironstone-flasher: installer card: " << r.disarm << "\n";
    return 0;
  } catch (const Error& e) {
    std::cerr << "ironstone-flasher: " << e.what() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "ironstone-flasher: " << e.what() << "\n";
  }
  return 1;
}

}  // namespace ironstone::flasher
