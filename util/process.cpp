#include "util/process.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

extern char** environ;

namespace ironstone::util {

namespace {

struct Pipe {
  int fd[2] = {-1, -1};
  ~Pipe() {
    for (int f : fd) {
      if (f >= 0) ::close(f);
    }
  }
  void close_end(int i) {
    if (fd[i] >= 0) ::close(fd[i]);
    fd[i] = -1;
  }
};

// The child's environment: ours, with `env` replacing or adding variables.
std::vector<std::string> child_environment(const std::vector<std::pair<std::string, std::string>>& env) {
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    bool replaced = std::any_of(env.begin(), env.end(), [&](const auto& p) {
      return kv.size() > p.first.size() && kv.substr(0, p.first.size()) == p.first && kv[p.first.size()] == '=';
    });
    if (!replaced) out.emplace_back(kv);
  }
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

// Cuts a stream into lines for ProcessOptions::on_line.
class LineSplitter {
 public:
  explicit LineSplitter(const std::function<void(std::string_view)>& sink) : sink_(sink) {}
  void feed(std::string_view data) {
    if (!sink_) return;
    for (char c : data) {
      if (c == '\n' || partial_.size() >= kMaxLine) {
        sink_(partial_);
        partial_.clear();
        if (c == '\n') continue;
      }
      partial_ += c;
    }
  }
  void flush() {
    if (sink_ && !partial_.empty()) sink_(partial_);
    partial_.clear();
  }

 private:
  static constexpr std::size_t kMaxLine = 4096;
  const std::function<void(std::string_view)>& sink_;
  std::string partial_;
};

}  // namespace

std::string command_line(const std::vector<std::string>& argv) {
  std::string cmd;
  for (const auto& a : argv) {
    if (!cmd.empty()) cmd += ' ';
    bool plain = !a.empty() && a.find_first_of(" \t\n'\"\\$`*?;&|<>()") == std::string::npos;
    cmd += plain ? a : "'" + a + "'";
  }
  return cmd;
}

std::string failure_message(const std::vector<std::string>& argv, const ProcessResult& r, std::size_t stderr_tail) {
  if (r.exit_code == 0) return {};
  const std::string cmd = command_line(argv);
  if (r.exit_code == -1) return "cannot run `" + cmd + "`: " + r.spawn_error;
  std::string tail = r.err.size() > stderr_tail ? r.err.substr(r.err.size() - stderr_tail) : r.err;
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) tail.pop_back();
  return "`" + cmd + "` exited with " + std::to_string(r.exit_code) + (tail.empty() ? "" : ": " + tail);
}

namespace {

// Starts argv[0] (PATH lookup) with stdin from options.stdin_file (or /dev/null) and stdout,
// stderr into the write ends of `out`, `err`. Returns the error text, empty on success.
std::string spawn_child(const std::vector<std::string>& argv, const ProcessOptions& options, const Pipe& out,
                        const Pipe& err, pid_t& pid) {
  std::vector<std::string> env_strings;
  std::vector<char*> envp;
  if (!options.env.empty()) {
    env_strings = child_environment(options.env);
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string stdin_path = options.stdin_file.empty() ? "/dev/null" : options.stdin_file;
  posix_spawn_file_actions_addopen(&actions, 0, stdin_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out.fd[1], 1);
  if (!options.inherit_stderr) posix_spawn_file_actions_adddup2(&actions, err.fd[1], 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), envp.empty() ? environ : envp.data());
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? std::string() : std::string(std::strerror(rc));
}

// Reads both pipes until both close: into r.out / r.err (each up to options.max_output)
// and line by line to options.on_line.
void collect_output(int out_fd, int err_fd, const ProcessOptions& options, ProcessResult& r) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  const std::size_t max_output = options.max_output;
  int open_fds = 2;
  char buf[8192];
  LineSplitter lines[2] = {LineSplitter(options.on_line), LineSplitter(options.on_line)};
  while (open_fds > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        fds[i].fd = -1;
        --open_fds;
        lines[i].flush();
        continue;
      }
      lines[i].feed(std::string_view(buf, static_cast<std::size_t>(n)));
      std::size_t room = max_output - std::min(max_output, sinks[i]->size());
      sinks[i]->append(buf, std::min(room, static_cast<std::size_t>(n)));
    }
  }
}

// Reaps the child: r.exit_code, or r.spawn_error when waitpid fails.
void wait_child(pid_t pid, ProcessResult& r) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      r.spawn_error = std::strerror(errno);
      return;
    }
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options) {
  ProcessResult r;
  if (argv.empty()) {
    r.spawn_error = "empty command";
    return r;
  }
  Pipe out, err;
  if (::pipe2(out.fd, O_CLOEXEC) != 0 || ::pipe2(err.fd, O_CLOEXEC) != 0) {
    r.spawn_error = std::strerror(errno);
    return r;
  }
  pid_t pid = 0;
  r.spawn_error = spawn_child(argv, options, out, err, pid);
  if (!r.spawn_error.empty()) return r;
  out.close_end(1);
  err.close_end(1);
  collect_output(out.fd[0], err.fd[0], options, r);
  wait_child(pid, r);
  return r;
}

}  // namespace ironstone::util
