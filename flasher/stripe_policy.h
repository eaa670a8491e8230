// The stripe policy of one SwarmDownload (swarm_download.h, flasher/stripe.h): which
// stripe this node has, which chunks are its own, the libtorrent priority of each
// chunk, and when the node stops waiting for the other nodes (the fallback: anyone may
// serve everything left). FleetViewPoller asks the seeder's fleet view for the stripe
// on a thread of its own.
//
// The numbers here are tuned (docs/performance.md): 2 s of quiet before the fallback,
// the fleet view asked every 2 s. Behaviour, not style: change them only with new
// measurements.
//
// Thread safety: StripePolicy belongs to the thread that drives the download.
// FleetViewPoller: start()/stop()/latest() from that thread; its own thread calls the
// view function and hands the result over under a mutex.
#pragma once

#include <libtorrent/download_priority.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "flasher/stripe.h"
#include "flasher/swarm_chunks.h"

namespace ironstone::flasher {

class StripePolicy {
 public:
  using Clock = std::chrono::steady_clock;

  const std::optional<Stripe>& stripe() const { return stripe_; }
  bool fallback() const { return fallback_; }
  // From now on anyone may serve every chunk left (the web seed is in use, or fall_back_if_quiet()).
  void fall_back() { fallback_ = true; }

  // Takes stripe `s` and marks each chunk's `own` from stripe_table(). Returns false (and
  // changes nothing) for nullopt or the stripe already in use.
  bool set(const std::optional<Stripe>& s, ChunkTable& chunks);

  // libtorrent priority of chunk c (stripe_priority()): libtorrent's default without a
  // stripe. `http`: this node's stripe comes from the seeder's HTTP store, whose
  // BitTorrent pieces are hidden, so a chunk no node holds may be wanted from the start.
  lt::download_priority_t priority(const ChunkState& c, bool http) const;

  // Strict stripes wait for other nodes to hold the other stripes. Once this node's own
  // stripe is in and no chunk arrived for 2 s (`quiet`; a node left or never connected,
  // a stale view), anyone may serve the rest: returns true when it fell back just now.
  bool fall_back_if_quiet(const ChunkTable& chunks, Clock::duration quiet);

  // Logs the stripe's share (nothing while alone).
  void log(const ChunkTable& chunks, bool http) const;

 private:
  std::optional<Stripe> stripe_;
  bool fallback_ = false;
};

// Asks `view` (the seeder's fleet view; a GET with a 1 s limit) every 2 s on a thread of
// its own, so a slow seeder never holds up alert handling or the HTTP stripe hand-off.
class FleetViewPoller {
 public:
  ~FleetViewPoller() { stop(); }
  // Starts the thread (no-op without a view function or when running).
  void start(const std::function<std::optional<Stripe>()>& view);
  // Stops and joins it (an answer in flight is waited for).
  void stop();
  // The last stripe the view gave, nullopt before the first.
  std::optional<Stripe> latest() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<Stripe> latest_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace ironstone::flasher
