// Per-thread CPU time, for the flasher's CPU accounting by stage (docs/performance.md,
// "Rack simulation"): the CPU (user + system) the calling thread spent between two points,
// added to an atomic counter. One clock_gettime(CLOCK_THREAD_CPUTIME_ID) at each end, so it
// belongs around work of a chunk or a piece (milliseconds), not around each 16 KiB block.
//
// Thread safety: a CpuStage is an atomic counter, safe from any thread; a CpuTimer belongs to
// the thread that made it (it measures that thread). REQUIRES: the CpuStage outlives the timer.
#pragma once

#include <time.h>

#include <atomic>
#include <cstdint>

namespace ironstone {

// CPU nanoseconds the calling thread has used so far.
inline std::uint64_t thread_cpu_ns() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return std::uint64_t(t.tv_sec) * 1000000000u + std::uint64_t(t.tv_nsec);
}

// Nanoseconds of CPU summed over every thread that ran a stage.
struct CpuStage {
  std::atomic<std::uint64_t> ns{0};
  void add(std::uint64_t n) { ns.fetch_add(n, std::memory_order_relaxed); }
  double seconds() const { return double(ns.load(std::memory_order_relaxed)) / 1e9; }
};

// Adds this thread's CPU time from construction to stop() (or destruction) to `stage`.
class CpuTimer {
 public:
  explicit CpuTimer(CpuStage& stage) : stage_(&stage), start_(thread_cpu_ns()) {}
  ~CpuTimer() { stop(); }
  CpuTimer(const CpuTimer&) = delete;
  CpuTimer& operator=(const CpuTimer&) = delete;
  void stop() {
    if (stage_) stage_->add(thread_cpu_ns() - start_);
    stage_ = nullptr;
  }

 private:
  CpuStage* stage_;
  std::uint64_t start_;
};

}  // namespace ironstone
