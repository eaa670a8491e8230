// ironstone-flasher: flags only; the run is flasher/flash.h.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <map>
#include <string>

#include "flasher/cli.h"

int main(int argc, char** argv) {
  using namespace ironstone::flasher;
  CLI::App app{"ironstone-flasher: flash this node from an Ironstone seeder, verified chunk by chunk"};
  app.set_config("--config", "", "read options from a config file (key = value, as on the command line)");
  CliArgs a;
  app.add_option("--seeder", a.seeders,
                 "seeder base URL, e.g. http://nas:8080 (required unless --rearm); repeatable: tried in order, "
                 "all used as web seeds");
  app.add_option("--board", a.options.board, "board name, or auto to detect it from the device tree")
      ->capture_default_str();
  app.add_option("--channel", a.options.channel, "release channel")->capture_default_str();
  app.add_option("--target", a.target, "block device or image file to flash (default: the board's)");
  app.add_option("--public-key", a.public_keys, "trusted minisign public key file(s) (required unless --rearm)");
  app.add_option("--state-file", a.state_file, "where the highest sequence seen is kept")
      ->capture_default_str();
  app.add_flag("--allow-older", a.options.allow_older,
               "accept a release older than the highest seen (logged)");
  app.add_option("--root", a.root, "filesystem root holding proc/, sys/, dev/ (for tests)")
      ->capture_default_str();
  app.add_option("--profiles", a.profiles_dir, "directory of board profiles (*.json)");
  app.add_flag("--skip-firmware", a.options.skip_firmware, "do not touch the board firmware");
  app.add_flag("!--no-disarm", a.options.disarm_card,
               "leave the installer card bootable after the flash (boards whose firmware boots the card first)");
  app.add_option("--rearm", a.rearm,
                 "re-arm the installer card DEVICE (e.g. /dev/mmcblk1, or a card image) disarmed after a flash, "
                 "then exit; nothing is flashed");
  bool no_identity = false;
  app.add_flag(
      "--no-identity", no_identity,
      "do not ask the seeder for this node's identity nor write a cloud-init seed to the boot partition");
  app.add_option("--enrolment-key", a.options.enrolment_key,
                 "installer card's enrolment secret key (mode 0600): ask for the node identity signed, "
                 "get it sealed (the installer writes it to /etc/ironstone/enrolment.key)");
  app.add_option("--power", a.power, "after success: poweroff, reboot or stay-up (default: the board's)");
  app.add_option("--node-id", a.options.node_id, "node id reported to the seeder (default: from the MAC)");
  app.add_option("--bt-listen", a.options.bt_listen, "BitTorrent listen ADDR:PORT")->capture_default_str();
  app.add_option("--cache-dir", a.cache_dir, "where downloaded chunks are kept for seeding with --cache disk")
      ->capture_default_str();
  const std::map<std::string, ChunkCache> caches = {
      {"auto", ChunkCache::kAuto}, {"memory", ChunkCache::kMemory}, {"disk", ChunkCache::kDisk}};
  app.add_option(
         "--cache", a.options.cache,
         "keep downloaded chunks in memory or in --cache-dir; auto: in memory when they take at most half "
         "of the available memory")
      ->transform(CLI::CheckedTransformer(caches, CLI::ignore_case))
      ->default_str("auto");
  app.add_option("--linger", a.linger_seconds, "seconds to keep seeding after the flash")
      ->capture_default_str();
  app.add_option("--threads", a.options.threads, "verify/write threads")->capture_default_str();
  app.add_flag("--full-verify", a.options.full_verify,
               "after writing, re-read and re-hash every chunk (default: each write is read back at once)");
  app.add_option("--peer", a.options.peers, "extra peer ADDR:PORT to connect to");
  app.add_flag("!--bittorrent-only", a.options.http_stripe,
               "take this node's stripe from the seeder over BitTorrent too, not from its HTTP chunk store "
               "(HTTP stays the fallback)");
  app.add_option("--retries", a.options.retry.attempts, "attempts per seeder request")->capture_default_str();
  app.add_option("--stall-timeout", a.stall_seconds, "give up after this many seconds without data")
      ->capture_default_str();
  app.add_option("--web-seed-after", a.web_seed_after_ms,
                 "milliseconds without swarm progress before the missing chunks are fetched over HTTP "
                 "from the seeders' chunk stores (with HTTP stripes: before the seeder's BitTorrent side "
                 "serves a stalled stripe)")
      ->capture_default_str();
  app.add_option("--log-level", a.log_level, "trace, debug, info, warn, error")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  a.options.write_identity = !no_identity;
  return run_cli(a);
}
