#include "disk/image_fs.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <sstream>

#include "disk/errc.h"
#include "util/process.h"

namespace ironstone::disk {

namespace fs = std::filesystem;

namespace {

// debugfs prints "debugfs 1.47.0 (5-Feb-2023)" on stderr every time: drop it.
std::string strip_banner(const std::string& err) {
  std::istringstream in(err);
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.rfind("debugfs ", 0) == 0 && line.find('(') != std::string::npos && line.find(':') == std::string::npos) continue;
    if (line.empty()) continue;
    out += line + "\n";
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string tail(const std::string& s, std::size_t n = 600) { return s.size() > n ? "..." + s.substr(s.size() - n) : s; }

using util::ProcessResult;

ProcessResult run_tool(const std::vector<std::string>& argv, const std::string& package) {
  util::ProcessOptions options{.env = {{"MTOOLS_SKIP_CHECK", "1"}, {"MTOOLSRC", "/dev/null"}, {"LC_ALL", "C"}},
                                .max_output = 64u << 20};
  // Reproducible builds: libext2fs stamps inodes and the superblock with this time.
  if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH"); epoch && *epoch)
    options.env.emplace_back("E2FSPROGS_FAKE_TIME", epoch);
  ProcessResult r = util::run_process(argv, options);
  if (r.exit_code == -1)
    throw error(Errc::kTool, "cannot run " + argv[0] + " (" + r.spawn_error + "): install " + package);
  return r;
}

// A private temporary file, removed on destruction.
class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    std::string tmpl = (fs::temp_directory_path() / "ironstone-disk-XXXXXX").string();
    int fd = ::mkstemp(tmpl.data());
    if (fd < 0) throw error(Errc::kWrite, "cannot create a temporary file: " + std::string(std::strerror(errno)));
    path_ = tmpl;
    std::size_t done = 0;
    while (done < content.size()) {
      ssize_t n = ::write(fd, content.data() + done, content.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::close(fd);
        throw error(Errc::kWrite, path_.string() + ": write failed: " + std::strerror(errno));
      }
      done += static_cast<std::size_t>(n);
    }
    ::close(fd);
  }
  ~TempFile() {
    std::error_code ec;
    fs::remove(path_, ec);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

}  // namespace

void check_image_path(const std::string& path) {
  if (path.empty() || path[0] != '/' || path.find_first_of(" \t\r\n\"'\\") != std::string::npos ||
      path.find("/../") != std::string::npos || path.ends_with("/.."))
    throw error(Errc::kPath, "path inside the image '" + path + "': must be absolute, without spaces, quotes or '..'");
}

// ---------------------------------------------------------------- ext4 (debugfs)

Ext4Image::Ext4Image(fs::path image, std::uint64_t offset) : image_(std::move(image)), offset_(offset) {
  if (image_.string().find('?') != std::string::npos)
    throw error(Errc::kPath, image_.string() + ": debugfs cannot open a path containing '?'");
}

std::string Ext4Image::device() const { return image_.string() + "?offset=" + std::to_string(offset_); }

std::string Ext4Image::request(const std::string& command, bool allow_not_found) const {
  ProcessResult r = run_tool({"debugfs", "-R", command, device()}, "e2fsprogs");
  std::string err = strip_banner(r.err);
  if (r.exit_code != 0 || !err.empty()) {
    if (allow_not_found && r.exit_code == 0 && err.find("File not found by ext2_lookup") != std::string::npos &&
        err.find('\n') == std::string::npos)
      return {};
    throw error(Errc::kInput, "debugfs " + command + " on the ext4 filesystem at " + hex_offset(offset_) + " of " +
                                  image_.string() + ": " + (err.empty() ? "exit status " + std::to_string(r.exit_code) : tail(err)));
  }
  return r.out;
}

std::optional<Ext4Inode> Ext4Image::stat(const std::string& path) const {
  check_image_path(path);
  const std::string out = request("stat " + path, true);
  if (out.empty()) return std::nullopt;
  Ext4Inode ino;
  std::istringstream in(out);
  std::string line;
  bool saw_inode = false;
  while (std::getline(in, line)) {
    if (line.rfind("Inode:", 0) == 0) {
      saw_inode = true;
      auto t = line.find("Type:");
      auto m = line.find("Mode:");
      if (t != std::string::npos) {
        std::istringstream ts(line.substr(t + 5));
        std::string type;
        ts >> type;
        if (type == "regular") ino.type = Ext4Inode::Type::kRegular;
        else if (type == "directory") ino.type = Ext4Inode::Type::kDirectory;
        else if (type == "symlink") ino.type = Ext4Inode::Type::kSymlink;
      }
      if (m != std::string::npos) ino.mode = static_cast<unsigned>(std::strtoul(line.c_str() + m + 5, nullptr, 8)) & 07777;
    } else if (line.rfind("User:", 0) == 0) {
      ino.uid = static_cast<std::uint32_t>(std::strtoul(line.c_str() + 5, nullptr, 10));
      auto g = line.find("Group:");
      if (g != std::string::npos) ino.gid = static_cast<std::uint32_t>(std::strtoul(line.c_str() + g + 6, nullptr, 10));
      auto s = line.find("Size:");
      if (s != std::string::npos) ino.size = std::strtoull(line.c_str() + s + 5, nullptr, 10);
    } else if (line.rfind("Fast link dest: \"", 0) == 0) {
      auto start = line.find('"') + 1, end = line.rfind('"');
      if (end > start) ino.link_target = line.substr(start, end - start);
    }
  }
  if (!saw_inode) throw error(Errc::kInput, "debugfs stat " + path + ": unexpected output: " + tail(out, 200));
  return ino;
}

std::string Ext4Image::cat(const std::string& path) const {
  auto st = stat(path);
  if (!st || st->type != Ext4Inode::Type::kRegular)
    throw error(Errc::kNotFound, path + ": no such regular file in the ext4 filesystem of " + image_.string());
  return request("cat " + path, false);
}

std::optional<std::vector<std::string>> Ext4Image::list(const std::string& path) const {
  check_image_path(path);
  auto st = stat(path);
  if (!st || st->type != Ext4Inode::Type::kDirectory) return std::nullopt;
  // `ls -p`: one "/inode/mode/uid/gid/name/size/" line per entry.
  std::istringstream in(request("ls -p " + path, false));
  std::vector<std::string> names;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] != '/') continue;
    std::size_t pos = 1;
    for (int i = 0; i < 4; ++i) {
      auto next = line.find('/', pos);
      if (next == std::string::npos) break;
      pos = next + 1;
    }
    // The name is between the 5th and the last-but-one '/'.
    auto last = line.rfind('/', line.size() - 2);
    if (last == std::string::npos || last < pos) continue;
    std::string name = line.substr(pos, last - pos);
    if (name != "." && name != ".." && !name.empty()) names.push_back(name);
  }
  return names;
}

void Ext4Image::dump_tree(const std::string& path, const fs::path& into) const {
  check_image_path(path);
  check_image_path(into.string());
  ProcessResult r = run_tool({"debugfs", "-R", "rdump " + path + " " + into.string(), device()}, "e2fsprogs");
  // Without root, rdump cannot give the copies their owners: not an error for a copy.
  std::istringstream in(strip_banner(r.err));
  std::string line, err;
  while (std::getline(in, line))
    if (line.find("while changing ownership") == std::string::npos) err += line + "\n";
  if (r.exit_code != 0 || !err.empty())
    throw error(Errc::kInput, "debugfs rdump " + path + " on the ext4 filesystem at " + hex_offset(offset_) + " of " +
                                  image_.string() + ": " + (err.empty() ? "exit status " + std::to_string(r.exit_code) : tail(err)));
}

std::uint64_t Ext4Image::free_bytes() const {
  std::istringstream in(request("stats", false));
  std::string line;
  std::uint64_t free_blocks = 0, block_size = 0;
  while (std::getline(in, line)) {
    if (line.rfind("Free blocks:", 0) == 0) free_blocks = std::strtoull(line.c_str() + 12, nullptr, 10);
    if (line.rfind("Block size:", 0) == 0) block_size = std::strtoull(line.c_str() + 11, nullptr, 10);
  }
  return free_blocks * block_size;
}

void Ext4Image::run_script(const std::vector<std::string>& commands) {
  std::string script;
  for (const auto& c : commands) script += c + "\n";
  TempFile file(script);
  ProcessResult r = run_tool({"debugfs", "-w", "-f", file.path().string(), device()}, "e2fsprogs");
  std::string err = strip_banner(r.err);
  if (r.exit_code != 0 || !err.empty())
    throw error(Errc::kWrite, "debugfs -w on the ext4 filesystem at " + hex_offset(offset_) + " of " + image_.string() + ": " +
                                  (err.empty() ? "exit status " + std::to_string(r.exit_code) : tail(err)));
}

void Ext4Image::rename(const std::string& from, const std::string& to) {
  check_image_path(from);
  check_image_path(to);
  run_script({"ln " + from + " " + to, "unlink " + from});
  if (!exists(to) || exists(from))
    throw error(Errc::kWrite, "debugfs: renaming " + from + " to " + to + " on the ext4 filesystem at " +
                                  hex_offset(offset_) + " of " + image_.string() + " did not take effect");
}

// ---------------------------------------------------------------- FAT (mtools)

FatImage::FatImage(fs::path image, std::uint64_t offset) : image_(std::move(image)), offset_(offset) {}

std::string FatImage::spec() const { return image_.string() + "@@" + std::to_string(offset_); }

std::optional<std::string> FatImage::read(const std::string& path) const {
  check_image_path(path);
  ProcessResult dir = run_tool({"mdir", "-b", "-i", spec(), "::" + path}, "mtools");
  if (dir.exit_code != 0) {
    if (dir.err.find("not found") != std::string::npos) return std::nullopt;
    throw error(Errc::kInput, "mdir ::" + path + " on the FAT filesystem at " + hex_offset(offset_) + " of " +
                                  image_.string() + ": " + tail(dir.err));
  }
  ProcessResult r = run_tool({"mtype", "-i", spec(), "::" + path}, "mtools");
  if (r.exit_code != 0)
    throw error(Errc::kInput, "mtype ::" + path + " on the FAT filesystem at " + hex_offset(offset_) + " of " +
                                  image_.string() + ": " + tail(r.err));
  return r.out;
}

void FatImage::write(const std::string& path, const std::string& content) {
  check_image_path(path);
  TempFile file(content);
  ProcessResult r = run_tool({"mcopy", "-o", "-i", spec(), file.path().string(), "::" + path}, "mtools");
  if (r.exit_code != 0)
    throw error(Errc::kWrite, "mcopy ::" + path + " on the FAT filesystem at " + hex_offset(offset_) + " of " +
                                  image_.string() + ": " + tail(r.err));
  auto back = read(path);
  if (!back || *back != content)
    throw error(Errc::kWrite, "mcopy ::" + path + ": the file read back differs from what was written");
}

bool FatImage::exists(const std::string& path) const {
  check_image_path(path);
  ProcessResult dir = run_tool({"mdir", "-b", "-a", "-i", spec(), "::" + path}, "mtools");
  if (dir.exit_code == 0) return true;
  if (dir.err.find("not found") != std::string::npos) return false;
  throw error(Errc::kInput, "mdir ::" + path + " on the FAT filesystem at " + hex_offset(offset_) + " of " +
                                image_.string() + ": " + tail(dir.err));
}

void FatImage::rename(const std::string& from, const std::string& to) {
  check_image_path(from);
  check_image_path(to);
  ProcessResult r = run_tool({"mren", "-i", spec(), "::" + from, "::" + to}, "mtools");
  if (r.exit_code != 0)
    throw error(Errc::kWrite, "mren ::" + from + " ::" + to + " on the FAT filesystem at " + hex_offset(offset_) +
                                  " of " + image_.string() + ": " + tail(r.err));
  if (!exists(to) || exists(from))
    throw error(Errc::kWrite, "mren ::" + from + " ::" + to + ": the rename did not take effect");
}

std::vector<std::string> FatImage::list_root() const {
  auto names = list("/");
  if (!names) throw error(Errc::kInput, "mdir ::/ on the FAT filesystem at " + hex_offset(offset_) + " of " + image_.string() + ": no root directory");
  return *names;
}

std::optional<std::vector<std::string>> FatImage::list(const std::string& dir) const {
  check_image_path(dir);
  const std::string prefix = "::" + dir + (dir.back() == '/' ? "" : "/");
  ProcessResult r = run_tool({"mdir", "-b", "-a", "-i", spec(), prefix}, "mtools");
  if (r.exit_code != 0) {
    if (r.err.find("not found") != std::string::npos) return std::nullopt;
    throw error(Errc::kInput, "mdir " + prefix + " on the FAT filesystem at " + hex_offset(offset_) + " of " + image_.string() +
                                  ": " + tail(r.err));
  }
  // One "::/DIR/NAME" line per entry (directories end in '/').
  std::vector<std::string> names;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) != 0) continue;
    std::string name = line.substr(prefix.size());
    while (!name.empty() && (name.back() == '/' || name.back() == '\r')) name.pop_back();
    if (!name.empty() && name != "." && name != "..") names.push_back(name);
  }
  return names;
}

}  // namespace ironstone::disk
