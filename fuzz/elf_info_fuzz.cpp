// Fuzz target: the installer's ELF reader (builder/elf_info.h), which reads binaries and
// libraries it is given (an arm64 flasher, the libraries it needs) without running readelf.
// read_elf_info() takes a path, so the input goes into an in-memory file (memfd) read
// through /proc/self/fd. Any input must give nullopt (not ELF), an ElfInfo, or
// ironstone::Error; nothing else may escape (no crash, sanitizer report, unbounded work).
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "builder/elf_info.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const int fd = ::memfd_create("elf-fuzz", MFD_CLOEXEC);
  if (fd < 0) std::abort();
  for (std::size_t done = 0; done < size;) {
    const ssize_t n = ::write(fd, data + done, size - done);
    if (n <= 0) std::abort();
    done += static_cast<std::size_t>(n);
  }
  try {
    const auto info = ironstone::builder::read_elf_info("/proc/self/fd/" + std::to_string(fd));
    if (info && info->needed.size() > 4096) std::abort();
  } catch (const ironstone::Error&) {
  }
  ::close(fd);
  return 0;
}
