// What `ironstone-flasher`'s main() hands to the library: parsed flags, and the
// function that runs the flash and turns the outcome into an exit status
// (0 only when the target verifiably holds the release).
#pragma once

#include <string>
#include <vector>

#include "flasher/flash.h"

namespace ironstone::flasher {

struct CliArgs {
  FlashOptions options;
  std::string target, state_file = "/var/lib/ironstone/state.json", root = "/", profiles_dir, power;
  std::string cache_dir = "/var/cache/ironstone";
  std::vector<std::string> public_keys;
  std::vector<std::string> seeders;  // --seeder, in order (the first goes to options.seeder_url)
  int linger_seconds = 300;
  int stall_seconds = 120;
  int web_seed_after_ms = 3000;
  std::string log_level = "info";
  // --rearm DEVICE: only re-arm that installer card (card_boot.h) and exit; no flash.
  std::string rearm;
};

int run_cli(CliArgs args);

}  // namespace ironstone::flasher
