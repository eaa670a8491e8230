// Running an external program without a shell, for the tools boards/ (rpi-eeprom-config,
// rpi-eeprom-update, flashrom, systemctl) and builder/ (debugfs, mtools) drive: argv[0] is
// looked up in PATH, arguments are passed as they are, stdout and stderr are captured
// separately (each bounded by max_output bytes; the rest is read and dropped), stdin is
// /dev/null (or a file), variables may be added to the child's environment, and a long-running
// tool's output can be followed line by line while it runs.
//
// Nothing here throws: a program that cannot be started is reported in the result, and
// callers turn failures into errors of their own module's category (failure_message()
// gives the text).
// Thread safety: reentrant (posix_spawnp; no global state changed).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ironstone::util {

struct ProcessResult {
  int exit_code = -1;  // -1: could not be started; 128+N: killed by signal N
  std::string out;
  std::string err;
  std::string spawn_error;  // why it could not be started, when exit_code == -1
};

struct ProcessOptions {
  // Variables that replace or are added to this process's environment in the child.
  std::vector<std::pair<std::string, std::string>> env;
  // Bound on each of stdout and stderr, in bytes.
  std::size_t max_output = 1 << 20;
  // The child's stdin; empty: /dev/null. A file that cannot be opened fails the spawn.
  std::string stdin_file;
  // Called (on the calling thread, while the child runs) with each line the child writes to
  // stdout or stderr, without its newline; lines are cut at 4096 bytes. Capture is unchanged.
  std::function<void(std::string_view line)> on_line;
  // The child writes its stderr straight to this process's stderr (e.g. a terminal, where a
  // tool such as mmdebstrap draws its own progress bars) instead of into the capture and
  // on_line: ProcessResult::err stays empty.
  bool inherit_stderr = false;
};

ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options = {});

// "debugfs -w -f x.txt img": for messages (arguments with spaces or shell characters quoted).
std::string command_line(const std::vector<std::string>& argv);

// Why `r` is a failure, for messages: "cannot run `cmd`: <why>" when it could not be
// started, "`cmd` exited with N: <last stderr_tail bytes of stderr>" when the exit code
// is not 0 (no ": ..." when stderr is empty); "" when it exited with 0.
std::string failure_message(const std::vector<std::string>& argv, const ProcessResult& r,
                            std::size_t stderr_tail = 400);

}  // namespace ironstone::util
