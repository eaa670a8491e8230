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
    : ChunkFetcher(std::vector<std::vector<std::string>>{std::move(urls)}, std::move(sizes), connections, {}) {}

ChunkFetcher::ChunkFetcher(std::vector<std::vector<std::string>> sources, std::vector<std::uint64_t> sizes,
                           unsigned connections, Verify verify)
    : sources_(std::move(sources)),
      sizes_(std::move(sizes)),
      verify_(std::move(verify)),
      slots_(sizes_.size()) {
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
    if (i >= slots_.size()) return;
    Slot& s = slots_[i];
    if (s.state == State::kGivenUp && std::chrono::steady_clock::now() - s.given_up_at >= kGiveUpPause) {
      s.state = State::kNone;  // paused long enough: the sources get another round
      s.attempts = 0;
    }
    if (s.state != State::kNone) return;
    s.state = State::kQueued;
    queue_.push_back(i);
  }
  cv_.notify_one();
}

bool ChunkFetcher::given_up(std::size_t i) const {
  std::lock_guard lock(mu_);
  return i < slots_.size() && slots_[i].state == State::kGivenUp;
}

std::vector<std::size_t> ChunkFetcher::given_up_chunks() const {
  std::lock_guard lock(mu_);
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < slots_.size(); ++i)
    if (slots_[i].state == State::kGivenUp) out.push_back(i);
  return out;
}

void ChunkFetcher::cancel(std::size_t i) {
  std::lock_guard lock(mu_);
  if (i >= slots_.size() || slots_[i].state != State::kQueued) return;
  slots_[i].state = State::kNone;  // may be wanted again (a stripe that changed back, the fallback)
  queue_.erase(std::remove(queue_.begin(), queue_.end(), i), queue_.end());
}

void ChunkFetcher::retry(std::size_t i) {
  {
    std::lock_guard lock(mu_);
    if (i >= slots_.size() || slots_[i].state != State::kDone) return;
    Slot& s = slots_[i];
    if (++s.attempts >= kMaxAttempts) {
      s.state = State::kGivenUp;
      s.given_up_at = std::chrono::steady_clock::now();
      return;
    }
    s.state = State::kQueued;
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
  Slot& s = slots_[i];
  const int attempt = ++s.attempts;
  if (attempt >= kMaxAttempts) {
    s.state = State::kGivenUp;
    s.given_up_at = std::chrono::steady_clock::now();
    lock.unlock();
    spdlog::warn("fetch: chunk {}: {}; pausing after {} attempts, leaving it to the swarm meanwhile", i, why,
                 attempt);
    return;
  }
  spdlog::warn("fetch: chunk {}: {}; trying again", i, why);
  // A pause before the next attempt, so a restarting seeder is not hammered.
  cv_.wait_for(lock, std::chrono::milliseconds(250 * attempt), [this] { return stop_; });
  s.state = State::kQueued;
  queue_.push_back(i);
}

std::string ChunkFetcher::get(std::size_t i, FetchedChunk* got) {
  std::string url;
  {
    std::lock_guard lock(mu_);
    url = sources_[static_cast<std::size_t>(slots_[i].tried++) % sources_.size()][i];
  }
  const std::uint64_t size = sizes_[i];
  swarm::RequestOptions ro;
  ro.max_body = static_cast<std::size_t>(size);
  ro.bulk_body = true;
  // Generous: a NAS shared by a rack gives one request a small share of its port.
  ro.timeout = std::chrono::milliseconds(30'000 + static_cast<std::int64_t>(size / 128));  // >= 128 KB/s
  try {
    swarm::HttpResponse r = swarm::http_get(url, ro);
    if (r.status != 200) return "GET " + url + ": HTTP " + std::to_string(r.status) + " " + r.reason;
    if (r.body.size() != size)
      return "GET " + url + ": " + std::to_string(r.body.size()) + " bytes, the manifest says " +
             std::to_string(size);
    FetchedChunk fetched{i, std::move(r.body), std::nullopt, std::nullopt};
    if (verify_)
      if (std::string why = verify_(fetched); !why.empty()) return "GET " + url + ": " + why;
    *got = std::move(fetched);
    return {};
  } catch (const std::exception& e) {
    return e.what();
  }
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
      slots_[i].state = State::kInFlight;
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
    FetchedChunk got;
    const std::string error = get(i, &got);
    if (error.empty()) {
      bytes_ += sizes_[i];
      std::lock_guard lock(mu_);
      slots_[i].state = State::kDone;
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
