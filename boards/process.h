// Running an external tool (rpi-eeprom-config, rpi-eeprom-update, flashrom,
// systemctl) without a shell: argv[0] is looked up in PATH, arguments are passed
// as they are, stdout and stderr are captured (each bounded by max_output bytes;
// the rest is read and dropped). stdin is /dev/null.
// Thread safety: reentrant (posix_spawnp; no global state changed).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace ironstone::boards {

struct ProcessResult {
  int exit_code = -1;  // -1: could not be started; 128+N: killed by signal N
  std::string out;
  std::string err;
  std::string spawn_error;  // why it could not be started, when exit_code == -1
};

ProcessResult run_process(const std::vector<std::string>& argv, std::size_t max_output = 1 << 20);

// run_process() that throws Error(kCommand) "<context>: `argv...` exited with N: <stderr tail>"
// unless the exit code is 0. Returns stdout.
std::string run_checked(const std::vector<std::string>& argv, const std::string& context);

}  // namespace ironstone::boards
