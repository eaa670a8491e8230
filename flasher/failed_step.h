// Which blink code (boards::FailedStep, docs/leds.md) a failed step shows.
//
// Each step of the run has its planned code; a failure of the steps that talk to the seeder
// first (the state file and the release: planned kRelease) is refined by what failed:
//   - a trust rule refused the release (flasher::Errc::kPolicy), a bad state file: 4 (kRelease);
//   - the seeder could not be reached or answered with an error (flasher::Errc::kSeeder):
//       2 (kNetwork) when the node's own network is down (network_state() below), else
//       3 (kSeeder);
//   - anything else: the planned code.
// Other steps keep their planned code (a download that stalls is 7, whatever the cause).
//
// network_state() reads, under `root`: <root>/sys/class/net/*/{operstate,carrier} (link) and
// <root>/proc/net/route + <root>/proc/net/if_inet6 (an IPv4 route or a global IPv6 address on
// an interface with link: DHCP/SLAAC done). Facts it cannot read count as "unknown", never as
// "down", so a missing file does not turn a seeder problem into a network one.
// Thread safety: reentrant.
#pragma once

#include <filesystem>
#include <string>

#include "boards/leds.h"
#include "util/error.h"

namespace ironstone::flasher {

struct NetworkState {
  bool down = false;   // known to be down: no interface with link, or none with an address
  std::string reason;  // e.g. "no link on end0, eth1", "no IPv4 route or global IPv6 address on eth0 (DHCP?)"
};

NetworkState network_state(const std::filesystem::path& root);

// The code to show for `error` in a step planned as `planned` on the node under `root`.
boards::FailedStep failed_step_for(boards::FailedStep planned, const Error& error, const std::filesystem::path& root);

}  // namespace ironstone::flasher
