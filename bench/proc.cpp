#include "bench/proc.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace ironstone::bench {

namespace {
std::atomic<bool> g_interrupted{false};
extern "C" void on_signal(int) { g_interrupted.store(true); }
constexpr auto kPoll = std::chrono::milliseconds(50);
}  // namespace

void install_signal_flag() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}
bool interrupted() { return g_interrupted.load(); }
void throw_if_interrupted() {
  if (interrupted()) throw Interrupted();
}

Child::Child(const std::vector<std::string>& argv, const std::string& log_path) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const char* log = log_path.empty() ? "/dev/null" : log_path.c_str();
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    setpgid(0, 0);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    int in = open("/dev/null", O_RDONLY);
    int out = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in >= 0) dup2(in, 0);
    if (out >= 0) {
      dup2(out, 1);
      dup2(out, 2);
    }
    execvp(args[0], args.data());
    dprintf(2, "exec %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  setpgid(pid, pid);  // also from the parent, so kill(-pid) works at once
  pid_ = pid;
}

Child::~Child() {
  if (running()) kill(std::chrono::milliseconds(1000));
}

Child::Child(Child&& o) noexcept : pid_(o.pid_), exit_(o.exit_) { o.pid_ = -1; }
Child& Child::operator=(Child&& o) noexcept {
  if (this != &o) {
    if (running()) kill(std::chrono::milliseconds(1000));
    pid_ = o.pid_;
    exit_ = o.exit_;
    o.pid_ = -1;
  }
  return *this;
}

const std::optional<Exit>& Child::poll() {
  if (pid_ <= 0 || exit_) return exit_;
  int status = 0;
  struct rusage ru {};
  pid_t r = wait4(pid_, &status, WNOHANG, &ru);
  if (r == pid_) {
    Exit e;
    e.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    e.user_s = double(ru.ru_utime.tv_sec) + double(ru.ru_utime.tv_usec) / 1e6;
    e.sys_s = double(ru.ru_stime.tv_sec) + double(ru.ru_stime.tv_usec) / 1e6;
    e.cpu_seconds = e.user_s + e.sys_s;
    e.at = Clock::now();
    exit_ = e;
    ::kill(-pid_, SIGKILL);  // stragglers left in its group
  } else if (r < 0 && errno == ECHILD) {
    exit_ = Exit{-1, 0, 0, 0, Clock::now()};
  }
  return exit_;
}

std::optional<Exit> Child::wait_until(Clock::time_point deadline, bool interruptible) {
  for (;;) {
    if (poll()) return exit_;
    if (Clock::now() >= deadline) return std::nullopt;
    if (interruptible) throw_if_interrupted();
    std::this_thread::sleep_for(kPoll);
  }
}

void Child::kill(std::chrono::milliseconds grace) {
  if (!running()) return;
  ::kill(-pid_, SIGTERM);
  ::kill(pid_, SIGTERM);
  auto deadline = Clock::now() + grace;
  while (!poll() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (!exit_) {
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    while (!poll()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

double Child::live_cpu_seconds() const {
  const auto [user, sys] = live_user_sys();
  return user + sys;
}

std::pair<double, double> Child::live_user_sys() const {
  if (!running()) return {0, 0};
  std::string s = read_file("/proc/" + std::to_string(pid_) + "/stat");
  auto p = s.rfind(')');
  if (p == std::string::npos) return {0, 0};
  std::istringstream in(s.substr(p + 2));
  std::string f;
  std::vector<std::string> fields;
  while (in >> f) fields.push_back(f);
  // fields[0] is state (field 3); utime is field 14, stime 15 -> indexes 11, 12.
  if (fields.size() < 13) return {0, 0};
  const double tck = double(sysconf(_SC_CLK_TCK));
  return {double(std::stoull(fields[11])) / tck, double(std::stoull(fields[12])) / tck};
}

int run(const std::vector<std::string>& argv, std::chrono::seconds timeout, std::string* output,
        bool interruptible) {
  char tmpl[] = "/tmp/isb-run.XXXXXX";
  int fd = mkstemp(tmpl);
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  close(fd);
  std::string log = tmpl;
  int status;
  {
    Child c(argv, log);
    std::optional<Exit> e;
    try {
      e = c.wait_until(Clock::now() + timeout, interruptible);
    } catch (...) {
      unlink(log.c_str());
      throw;
    }
    if (!e) {
      c.kill();
      status = 124;
    } else {
      status = e->status;
    }
  }
  if (output) *output = read_file(log);
  unlink(log.c_str());
  return status;
}

std::string run_checked(const std::vector<std::string>& argv, std::chrono::seconds timeout) {
  std::string out;
  int st = run(argv, timeout, &out);
  if (st != 0) {
    std::string cmd;
    for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + shell_quote(a);
    throw std::runtime_error(cmd + ": exit " + std::to_string(st) + (st == 124 ? " (timeout)" : "") + ": " + out);
  }
  return out;
}

CpuSample CpuSample::now() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  in >> cpu;
  std::uint64_t v[10] = {};
  for (auto& x : v) in >> x;
  CpuSample s;
  for (auto x : v) s.total += x;
  s.busy = s.total - v[3] - v[4];  // idle + iowait
  return s;
}

double busy_percent(const CpuSample& a, const CpuSample& b) {
  if (b.total <= a.total) return 0;
  return 100.0 * double(b.busy - a.busy) / double(b.total - a.total);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string shell_quote(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=@,+") ==
                        std::string::npos)
    return s;
  std::string r = "'";
  for (char c : s) r += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return r + "'";
}

}  // namespace ironstone::bench
