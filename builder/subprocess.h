// Running the external filesystem tools the installer drives (debugfs, mtools) without a
// shell: argv[0] is looked up in PATH, arguments are passed as they are, stdout and stderr
// are captured separately (each bounded), stdin is /dev/null, extra environment variables
// may be added. Same contract as boards/process.h, which the builder library does not link.
// Thread safety: reentrant.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace ironstone::builder {

struct ProcessResult {
  int exit_code = -1;  // -1: could not be started; 128+N: killed by signal N
  std::string out;
  std::string err;
  std::string spawn_error;  // why it could not be started, when exit_code == -1
};

ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::vector<std::pair<std::string, std::string>>& env = {},
                          std::size_t max_output = 64u << 20);

// "debugfs -w -f x.txt img": for messages.
std::string command_line(const std::vector<std::string>& argv);

}  // namespace ironstone::builder
