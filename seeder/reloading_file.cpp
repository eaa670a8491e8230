#include "seeder/reloading_file.h"

#include <sys/stat.h>

namespace ironstone::seeder {

std::vector<FileStamp> stamp_files(const std::vector<std::filesystem::path>& files) {
  std::vector<FileStamp> out;
  out.reserve(files.size());
  for (const auto& f : files) {
    struct stat st {};
    FileStamp s;
    if (::stat(f.c_str(), &st) == 0) {
      s.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
      s.size = static_cast<std::uint64_t>(st.st_size);
      s.inode = static_cast<std::uint64_t>(st.st_ino);
    }
    out.push_back(s);
  }
  return out;
}

}  // namespace ironstone::seeder
