#include "builder/image_edit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "builder/errc.h"
#include "builder/image_reader.h"
#include "util/format.h"

namespace ironstone::builder {

namespace fs = std::filesystem;
using disk::Ext4Inode;

// ---------------------------------------------------------------- ImageOutput

ImageOutput::ImageOutput(fs::path out) : out_(std::move(out)) {
  const fs::path dir = out_.has_parent_path() ? out_.parent_path() : fs::path(".");
  std::string tmpl = (dir / ("." + out_.filename().string() + ".tmp-XXXXXX")).string();
  fd_ = ::mkstemp(tmpl.data());
  if (fd_ < 0) throw error(Errc::kStore, out_.string() + ": cannot create a temporary file: " + std::strerror(errno));
  tmp_ = tmpl;
  ::fchmod(fd_, 0644);
}

ImageOutput::~ImageOutput() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) {
    std::error_code ec;
    fs::remove(tmp_, ec);
  }
}

void ImageOutput::commit() {
  if (::fsync(fd_) != 0) throw error(Errc::kStore, tmp_.string() + ": fsync: " + std::strerror(errno));
  std::error_code ec;
  fs::rename(tmp_, out_, ec);
  if (ec) throw error(Errc::kStore, "cannot rename " + tmp_.string() + " to " + out_.string() + ": " + ec.message());
  committed_ = true;
  const fs::path dir = out_.has_parent_path() ? out_.parent_path() : fs::path(".");
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

// ---------------------------------------------------------------- expand_image

std::uint64_t expand_image(const std::string& base, int fd, const std::string& out_name, const ProgressFn& progress) {
  auto reader = open_image(base);
  constexpr std::size_t kBlock = 1 << 20;
  std::vector<std::uint8_t> buf(kBlock);
  std::uint64_t pos = 0;
  while (true) {
    bool hole = false;
    const std::size_t n = reader->read(buf, &hole);
    if (n == 0) break;
    const bool zero = hole || std::all_of(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n),
                                          [](std::uint8_t b) { return b == 0; });
    for (std::size_t done = 0; !zero && done < n;) {
      const ssize_t w = ::pwrite(fd, buf.data() + done, n - done, static_cast<off_t>(pos + done));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0)
        throw error(Errc::kStore, out_name + ": write at " + hex_offset(pos + done) + ": " + std::strerror(errno) +
                                      (errno == ENOSPC ? " (the disk of --out is full)" : ""));
      done += static_cast<std::size_t>(w);
    }
    pos += n;
    if (progress) progress(reader->input_position(), reader->input_size());
  }
  if (pos == 0) throw error(Errc::kInput, base + ": the base image is empty");
  if (::ftruncate(fd, static_cast<off_t>(pos)) != 0)
    throw error(Errc::kStore, out_name + ": cannot set size: " + std::strerror(errno));
  return pos;
}

// ---------------------------------------------------------------- partitions

BaseLayout locate_root(int fd, std::uint64_t image_size, const std::string& what, const std::string& who) {
  BaseLayout l;
  l.table = disk::read_partition_table(fd, image_size, what);
  const auto root = disk::root_partition(l.table);
  if (!root)
    throw error(Errc::kInput, what + ": no ext4 root filesystem found (" + disk::describe(l.table) + "); " + who +
                                  " needs a base with an ext2/3/4 root partition");
  l.root = *root;
  l.boot = disk::boot_partition(l.table);
  return l;
}

std::string describe_layout(const BaseLayout& l) {
  return "root filesystem: partition " + std::to_string(l.root.number) + " (ext4, " + util::human_size(l.root.size) +
         " at " + hex_offset(l.root.offset) + ")" +
         (l.boot ? ", boot: partition " + std::to_string(l.boot->number) + " (FAT)" : ", no FAT boot partition");
}

void check_root_dirs(const disk::Ext4Image& ext, const std::string& what, const disk::Partition& root) {
  for (const char* dir : {"/etc", "/usr"}) {
    auto st = ext.stat(dir);
    if (!st || st->type != Ext4Inode::Type::kDirectory)
      throw error(Errc::kInput, what + ": the ext4 filesystem of partition " + std::to_string(root.number) + " has no " + dir +
                                    ": not a root filesystem");
  }
}

void check_free_space(const disk::Ext4Image& ext, const RootEdit& edit, const std::string& what, const std::string& who,
                      const std::string& doc) {
  const std::uint64_t need = edit.bytes_needed();
  const std::uint64_t free = ext.free_bytes();
  if (free < need)
    throw error(Errc::kStore, what + ": the root filesystem has " + util::human_size(free) + " free, " + who + " needs " +
                                  util::human_size(need) + ": use a base with more room in its root (see " + doc + ")");
}

// ---------------------------------------------------------------- StagingDir

StagingDir::StagingDir(const std::string& prefix) {
  std::string tmpl = (fs::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (!::mkdtemp(tmpl.data())) throw error(Errc::kStore, "cannot create a temporary directory: " + std::string(std::strerror(errno)));
  path_ = tmpl;
}

StagingDir::~StagingDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

// ---------------------------------------------------------------- RootEdit

std::vector<std::string> inode_commands(const std::string& path, unsigned type_bits, unsigned mode, Owner owner) {
  char m[16];
  std::snprintf(m, sizeof m, "0%o", type_bits | mode);
  return {"sif " + path + " mode " + m, "sif " + path + " uid " + std::to_string(owner.uid),
          "sif " + path + " gid " + std::to_string(owner.gid)};
}

void RootEdit::add_file(const std::string& path, const fs::path& source, unsigned mode, Owner owner) {
  disk::check_image_path(path);
  if (source.string().find_first_of(" \t\n\"'\\") != std::string::npos)
    throw error(Errc::kUsage, source.string() + ": debugfs cannot read a path with spaces or quotes; copy it elsewhere");
  std::error_code ec;
  const auto size = fs::file_size(source, ec);
  if (ec) throw error(Errc::kInput, source.string() + ": cannot read: " + ec.message());
  items_.push_back({Item::Kind::kFile, path, source, "", mode, owner, size});
}

void RootEdit::add_text(const std::string& path, const std::string& text, unsigned mode, Owner owner) {
  const fs::path staged = staging_.path() / ("f" + std::to_string(staged_++));
  std::ofstream out(staged, std::ios::binary | std::ios::trunc);
  out << text;
  out.flush();
  if (!out) throw error(Errc::kStore, staged.string() + ": cannot write");
  out.close();
  add_file(path, staged, mode, owner);
}

void RootEdit::add_dir(const std::string& path, unsigned mode, Owner owner) {
  disk::check_image_path(path);
  items_.push_back({Item::Kind::kDir, path, {}, "", mode, owner, 0});
}

void RootEdit::add_link(const std::string& path, const std::string& target) {
  disk::check_image_path(path);
  items_.push_back({Item::Kind::kLink, path, {}, target, 0777, {}, 0});
}

void RootEdit::remove(const std::string& path) {
  disk::check_image_path(path);
  removals_.push_back(path);
}

std::uint64_t RootEdit::bytes_needed() const {
  std::uint64_t need = 1 << 20;
  for (const auto& i : items_) need += i.size + 4096;
  return need;
}

std::vector<std::string> RootEdit::paths() const {
  std::vector<std::string> out;
  for (const auto& i : items_) out.push_back(i.path);
  return out;
}

// debugfs commands creating every missing directory above `path` (mode 0755, root-owned).
void RootEdit::parent_dirs(const std::string& path, std::set<std::string>& made, std::vector<std::string>& script) const {
  const std::string parent = path.substr(0, path.rfind('/'));
  for (std::size_t pos = 1; pos <= parent.size();) {
    std::size_t next = parent.find('/', pos);
    if (next == std::string::npos) next = parent.size();
    const std::string dir = parent.substr(0, next);
    pos = next + 1;
    if (!made.insert(dir).second) continue;
    auto st = ext_.stat(dir);
    if (!st) {
      script.push_back("mkdir " + dir);
      for (auto& c : inode_commands(dir, 040000, 0755, {})) script.push_back(std::move(c));
    } else if (st->type != Ext4Inode::Type::kDirectory && st->type != Ext4Inode::Type::kSymlink) {
      throw error(Errc::kInput, dir + " in the base's root filesystem is not a directory");
    }
  }
}

void RootEdit::apply() {
  std::vector<std::string> script;
  std::set<std::string> made;
  for (const auto& i : items_) {
    parent_dirs(i.path, made, script);
    const auto st = made.count(i.path) ? std::optional<Ext4Inode>() : ext_.stat(i.path);
    if (i.kind == Item::Kind::kDir) {
      if (!st) script.push_back("mkdir " + i.path);
      else if (st->type != Ext4Inode::Type::kDirectory)
        throw error(Errc::kInput, i.path + " in the base's root filesystem is not a directory");
      for (auto& c : inode_commands(i.path, 040000, i.mode, i.owner)) script.push_back(std::move(c));
      made.insert(i.path);
      continue;
    }
    if (st && st->type == Ext4Inode::Type::kDirectory)
      throw error(Errc::kInput, i.path + " in the base's root filesystem is a directory, expected a file");
    if (st) script.push_back("rm " + i.path);
    if (i.kind == Item::Kind::kLink) {
      script.push_back("symlink " + i.path + " " + i.target);
    } else {
      script.push_back("write " + i.source.string() + " " + i.path);
      for (auto& c : inode_commands(i.path, 0100000, i.mode, i.owner)) script.push_back(std::move(c));
    }
  }
  std::vector<std::string> removed;
  for (const auto& r : removals_) {
    if (!ext_.exists(r)) continue;
    script.push_back("rm " + r);
    removed.push_back(r);
  }
  if (script.empty()) return;
  ext_.run_script(script);
  for (const auto& i : items_) check_back(i);
  for (const auto& r : removed)
    if (ext_.exists(r)) throw error(Errc::kStore, r + " could not be removed from the root filesystem");
}

void RootEdit::check_back(const Item& i) const {
  auto st = ext_.stat(i.path);
  bool ok = st.has_value();
  if (ok && i.kind == Item::Kind::kFile)
    ok = st->type == Ext4Inode::Type::kRegular && st->mode == i.mode && st->size == i.size && st->uid == i.owner.uid &&
         st->gid == i.owner.gid;
  if (ok && i.kind == Item::Kind::kDir) ok = st->type == Ext4Inode::Type::kDirectory && st->mode == i.mode;
  if (ok && i.kind == Item::Kind::kLink)
    ok = st->type == Ext4Inode::Type::kSymlink && (i.target.size() >= 60 || st->link_target == i.target);
  if (!ok) throw error(Errc::kStore, i.path + " was not written correctly into the root filesystem (full?)");
}

}  // namespace ironstone::builder
