#include "flasher/stripe_policy.h"

#include <spdlog/spdlog.h>

namespace ironstone::flasher {

bool StripePolicy::set(const std::optional<Stripe>& s, ChunkTable& chunks) {
  if (!s || s == stripe_) return false;
  stripe_ = s;
  const auto table = stripe_table(chunks.stored_sizes(), stripe_->count);
  for (std::size_t i = 0; i < chunks.size(); ++i) chunks[i].own = stripe_->count <= 1 || table[i] == stripe_->index;
  return true;
}

lt::download_priority_t StripePolicy::priority(const ChunkState& c, bool http) const {
  // With the seeder's pieces hidden (HTTP stripes), a chunk no node holds cannot be asked
  // of anyone, so it may be wanted from the start: libtorrent then asks for it the moment
  // a node announces it, not at the next poll of what the peers hold.
  const bool held = c.peer_holds || http;
  return stripe_ ? lt::download_priority_t{stripe_priority(c.own, stripe_->count, held, fallback_)}
                 : lt::default_priority;
}

bool StripePolicy::fall_back_if_quiet(const ChunkTable& chunks, Clock::duration quiet) {
  if (fallback_ || !stripe_ || stripe_->count <= 1) return false;
  if (!chunks.own_stripe_done()) return false;
  if (quiet < std::chrono::seconds(2)) return false;
  fallback_ = true;
  return true;
}

void StripePolicy::log(const ChunkTable& chunks, bool http) const {
  if (!stripe_ || stripe_->count <= 1) return;
  std::size_t n = 0;
  std::uint64_t bytes = 0;
  for (const auto& c : chunks)
    if (c.own && c.wanted) ++n, bytes += c.stored_size;
  spdlog::info("swarm: stripe {} of {}: {} chunks ({:.1f} MiB) from the seeder{}, the rest from the other nodes",
               stripe_->index + 1, stripe_->count, n, static_cast<double>(bytes) / (1024.0 * 1024.0),
               http ? " over HTTP" : "");
}

void FleetViewPoller::start(const std::function<std::optional<Stripe>()>& view) {
  if (!view || thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this, view] {
    for (;;) {
      {
        std::unique_lock lock(mu_);
        if (cv_.wait_for(lock, std::chrono::seconds(2), [this] { return stop_; })) return;
      }
      std::optional<Stripe> v = view();
      std::lock_guard lock(mu_);
      if (v) latest_ = v;
    }
  });
}

void FleetViewPoller::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::optional<Stripe> FleetViewPoller::latest() const {
  std::lock_guard lock(mu_);
  return latest_;
}

}  // namespace ironstone::flasher
