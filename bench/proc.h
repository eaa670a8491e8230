// Child processes for the rack benchmark: spawn with output to a log file, wait with a
// deadline, kill the whole process group, per-process CPU time (wait4 rusage, which
// includes the child's own reaped children), whole-machine CPU busy % (/proc/stat).
//
// Every wait polls (50 ms) and checks interrupted(): SIGINT/SIGTERM only set a flag, and
// the wait then throws Interrupted so destructors kill children and tear the rack down.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace ironstone::bench {

using Clock = std::chrono::steady_clock;

struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted by a signal") {}
};

// Installs SIGINT/SIGTERM handlers that set a flag (checked by every wait).
void install_signal_flag();
bool interrupted();
void throw_if_interrupted();

struct Exit {
  int status = -1;          // exit code, or 128 + signal
  double cpu_seconds = 0;   // user + system, including reaped descendants
  double user_s = 0, sys_s = 0;  // the same, split
  Clock::time_point at{};   // when the bench saw it exit
};

// A running child in its own process group; the destructor kills the group if still alive.
class Child {
 public:
  Child() = default;
  // Starts argv (argv[0] looked up in PATH) with stdout+stderr written to log_path (truncated)
  // ("" = /dev/null), stdin from /dev/null.
  Child(const std::vector<std::string>& argv, const std::string& log_path);
  ~Child();
  Child(Child&& o) noexcept;
  Child& operator=(Child&& o) noexcept;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0 && !exit_; }
  // Non-blocking: reaps the child if it exited.
  const std::optional<Exit>& poll();
  // Waits until exit or deadline; nullopt on timeout. Throws Interrupted after a signal
  // unless !interruptible (cleanup paths: teardown runs after the signal).
  std::optional<Exit> wait_until(Clock::time_point deadline, bool interruptible = true);
  // SIGTERM to the group, up to grace, then SIGKILL; reaps.
  void kill(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));
  // utime+stime of the live process from /proc/<pid>/stat (0 when gone).
  double live_cpu_seconds() const;
  // The same, split: {utime, stime} in seconds.
  std::pair<double, double> live_user_sys() const;

 private:
  pid_t pid_ = -1;
  std::optional<Exit> exit_;
};

// Runs argv to completion (bounded); returns the exit status, stdout+stderr in *output.
int run(const std::vector<std::string>& argv, std::chrono::seconds timeout, std::string* output = nullptr,
        bool interruptible = true);
// Same, throws std::runtime_error with the output when the status is not 0.
std::string run_checked(const std::vector<std::string>& argv, std::chrono::seconds timeout = std::chrono::seconds(60));

// Whole-machine CPU counters from /proc/stat.
struct CpuSample {
  std::uint64_t busy = 0, total = 0;
  static CpuSample now();
};
double busy_percent(const CpuSample& a, const CpuSample& b);

std::string read_file(const std::string& path);
std::string shell_quote(const std::string& s);

}  // namespace ironstone::bench
