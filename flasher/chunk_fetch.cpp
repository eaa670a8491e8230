#include "flasher/chunk_fetch.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <utility>

#include "swarm/http_client.h"

namespace ironstone::flasher {

ChunkFetcher::ChunkFetcher(std::vector<std::string> urls, std::vector<std::uint64_t> sizes,
                           unsigned connections)
    : urls_(std::move(urls)),
      sizes_(std::move(sizes)),
      state_(urls_.size(), State::kNone),
      attempts_(urls_.size(), 0) {
  connections = std::max(1u, connections);
  parallel_ = connections;
  for (unsigned t = 0; t < connections; ++t) threads_.emplace_back([this] { work(); });
}

ChunkFetcher::~ChunkFetcher() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void ChunkFetcher::want(std::size_t i) {
  {
    std::lock_guard lock(mu_);
    if (i >= state_.size() || state_[i] != State::kNone) return;
    state_[i] = State::kQueued;
    queue_.push_back(i);
  }
  cv_.notify_one();
}

void ChunkFetcher::cancel(std::size_t i) {
  std::lock_guard lock(mu_);
  if (i >= state_.size() || state_[i] != State::kQueued) return;
  state_[i] = State::kNone;  // may be wanted again (a stripe that changed back, the fallback)
  queue_.erase(std::remove(queue_.begin(), queue_.end(), i), queue_.end());
}

void ChunkFetcher::retry(std::size_t i) {
  {
    std::lock_guard lock(mu_);
    if (i >= state_.size() || state_[i] != State::kDone) return;
    if (++attempts_[i] >= kMaxAttempts) {
      state_[i] = State::kGivenUp;
      return;
    }
    state_[i] = State::kQueued;
    queue_.push_back(i);
  }
  cv_.notify_one();
}

std::vector<FetchedChunk> ChunkFetcher::take() {
  std::lock_guard lock(mu_);
  return std::exchange(done_, {});
}

void ChunkFetcher::set_parallel(unsigned n) {
  {
    std::lock_guard lock(mu_);
    parallel_ = std::clamp<std::size_t>(n, 1, threads_.size());
  }
  cv_.notify_all();
}

void ChunkFetcher::set_rate(double bytes_per_s) {
  std::lock_guard lock(mu_);
  rate_ = bytes_per_s > 0 ? bytes_per_s : 0;
}

bool ChunkFetcher::idle() const {
  std::lock_guard lock(mu_);
  return queue_.empty() && in_flight_ == 0;
}

void ChunkFetcher::fail(std::size_t i, const std::string& why) {
  ++failures_;
  std::unique_lock lock(mu_);
  const int attempt = ++attempts_[i];
  if (attempt >= kMaxAttempts) {
    state_[i] = State::kGivenUp;
    lock.unlock();
    spdlog::warn("fetch: chunk {}: {}; giving up after {} attempts, leaving it to the swarm", i, why,
                 attempt);
    return;
  }
  spdlog::warn("fetch: chunk {}: {}; trying again", i, why);
  // A pause before the next attempt, so a restarting seeder is not hammered.
  cv_.wait_for(lock, std::chrono::milliseconds(250 * attempt), [this] { return stop_; });
  state_[i] = State::kQueued;
  queue_.push_back(i);
}

void ChunkFetcher::work() {
  for (;;) {
    std::size_t i = 0;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stop_ || (!queue_.empty() && in_flight_ < parallel_); });
      if (stop_) return;
      i = queue_.front();
      queue_.pop_front();
      state_[i] = State::kInFlight;
      ++in_flight_;
      if (rate_ > 0) {
        const auto now = std::chrono::steady_clock::now();
        const auto start = std::max(now, next_start_);
        next_start_ = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                  std::chrono::duration<double>(static_cast<double>(sizes_[i]) / rate_));
        cv_.wait_until(lock, start, [this] { return stop_; });
        if (stop_) return;
      }
    }
    const std::uint64_t size = sizes_[i];
    swarm::RequestOptions ro;
    ro.max_body = static_cast<std::size_t>(size);
    ro.bulk_body = true;
    // Generous: a NAS shared by a rack gives one request a small share of its port.
    ro.timeout = std::chrono::milliseconds(30'000 + static_cast<std::int64_t>(size / 128));  // >= 128 KB/s
    std::string error;
    FetchedChunk got;
    try {
      swarm::HttpResponse r = swarm::http_get(urls_[i], ro);
      if (r.status != 200)
        error = "GET " + urls_[i] + ": HTTP " + std::to_string(r.status) + " " + r.reason;
      else if (r.body.size() != size)
        error = "GET " + urls_[i] + ": " + std::to_string(r.body.size()) + " bytes, the manifest says " +
                std::to_string(size);
      else
        got = FetchedChunk{i, std::move(r.body)};
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (error.empty()) {
      bytes_ += size;
      std::lock_guard lock(mu_);
      state_[i] = State::kDone;
      --in_flight_;
      done_.push_back(std::move(got));
      cv_.notify_one();
      continue;
    }
    fail(i, error);
    std::lock_guard lock(mu_);
    --in_flight_;
    cv_.notify_one();
  }
}

}  // namespace ironstone::flasher
