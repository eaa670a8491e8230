#include "flasher/card_boot.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <spdlog/spdlog.h>

#include "disk/image_fs.h"
#include "disk/partition_table.h"
#include "flasher/errc.h"
#include "flasher/mountinfo.h"

namespace ironstone::flasher {

namespace fs = std::filesystem;

namespace {

std::string first_word(const fs::path& p) {
  std::ifstream in(p);
  std::string s;
  in >> s;
  return s;
}

// How one partition is edited: through its mount point, or in place with debugfs / mtools.
class PartitionAccess {
 public:
  virtual ~PartitionAccess() = default;
  virtual bool exists(const std::string& path) = 0;
  virtual void rename(const std::string& from, const std::string& to) = 0;
  virtual std::string via() const = 0;
};

class MountedAccess : public PartitionAccess {
 public:
  MountedAccess(fs::path dir, std::string mount_point) : dir_(std::move(dir)), mount_point_(std::move(mount_point)) {}
  bool exists(const std::string& path) override {
    std::error_code ec;
    return fs::exists(fs::symlink_status(dir_ / fs::path(path).relative_path(), ec));
  }
  void rename(const std::string& from, const std::string& to) override {
    const fs::path a = dir_ / fs::path(from).relative_path(), b = dir_ / fs::path(to).relative_path();
    std::error_code ec;
    fs::rename(a, b, ec);
    if (ec) throw error(Errc::kCard, a.string() + ": cannot rename to " + b.filename().string() + ": " + ec.message());
    int fd = ::open(b.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
  }
  std::string via() const override { return "mounted at " + mount_point_; }

 private:
  fs::path dir_;
  std::string mount_point_;
};

class ExtAccess : public PartitionAccess {
 public:
  ExtAccess(const fs::path& card, std::uint64_t offset) : image_(card, offset) {}
  bool exists(const std::string& path) override { return image_.exists(path); }
  void rename(const std::string& from, const std::string& to) override { image_.rename(from, to); }
  std::string via() const override { return "ext4 (debugfs)"; }

 private:
  disk::Ext4Image image_;
};

class FatAccess : public PartitionAccess {
 public:
  FatAccess(const fs::path& card, std::uint64_t offset) : image_(card, offset) {}
  bool exists(const std::string& path) override { return image_.exists(path); }
  void rename(const std::string& from, const std::string& to) override { image_.rename(from, to); }
  std::string via() const override { return "FAT (mtools)"; }

 private:
  disk::FatImage image_;
};

disk::PartitionTable read_card_table(const fs::path& card) {
  int fd = ::open(card.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw error(Errc::kCard, card.string() + ": cannot open the installer card: " + std::strerror(errno));
  struct stat st {};
  std::uint64_t size = 0;
  if (::fstat(fd, &st) == 0 && S_ISBLK(st.st_mode)) ::ioctl(fd, BLKGETSIZE64, &size);
  else size = static_cast<std::uint64_t>(st.st_size);
  try {
    disk::PartitionTable t = disk::read_partition_table(fd, size, card.string());
    ::close(fd);
    return t;
  } catch (const Error& e) {
    ::close(fd);
    throw error(Errc::kCard, e.what());
  }
}

// The Linux name of partition `number` of disk `disk` ("mmcblk1" 2 -> "mmcblk1p2", "sda" 1 -> "sda1").
std::string partition_name(const std::string& disk, unsigned number) {
  if (number == 0) return disk;
  return disk + (!disk.empty() && std::isdigit(static_cast<unsigned char>(disk.back())) ? "p" : "") +
         std::to_string(number);
}

std::optional<MountEntry> mount_of(const fs::path& root, const std::vector<MountEntry>& mounts, const std::string& part) {
  const std::string dev = first_word(root / "sys/class/block" / part / "dev");
  for (auto it = mounts.rbegin(); it != mounts.rend(); ++it) {  // the last mount of a device is the visible one
    if (it->root != "/") continue;
    if ((!dev.empty() && it->dev == dev) || it->source == "/dev/" + part) return *it;
  }
  return std::nullopt;
}

std::unique_ptr<PartitionAccess> access_for(const fs::path& root, const std::vector<MountEntry>& mounts,
                                            const fs::path& card, const std::string& disk, const disk::Partition& p,
                                            unsigned number) {
  if (auto m = mount_of(root, mounts, partition_name(disk, number)))
    return std::make_unique<MountedAccess>(root / fs::path(m->mount_point).relative_path(), m->mount_point);
  if (p.fs == disk::FsKind::kExt) return std::make_unique<ExtAccess>(card, p.offset);
  if (p.fs == disk::FsKind::kFat) return std::make_unique<FatAccess>(card, p.offset);
  return nullptr;
}

std::string card_name(const fs::path& root, const fs::path& card) {
  auto rel = card.lexically_relative(root);
  if (!rel.empty() && rel.native().rfind("..", 0) != 0 && rel.native().rfind("dev/", 0) == 0) return "/" + rel.string();
  return card.string();
}

CardChanges rename_all(const fs::path& root, const fs::path& card, const std::vector<std::string>& files, bool disarm) {
  CardChanges out;
  out.card = card_name(root, card);
  const disk::PartitionTable table = read_card_table(card);
  std::vector<MountEntry> mounts;
  try {
    mounts = read_mountinfo(root / "proc");
  } catch (const Error&) {
    // no mount table (a card image on a workstation): every partition is edited in place
  }
  const std::string disk = card.filename().string();
  for (const auto& p : table.partitions) {
    const unsigned number = table.kind == disk::TableKind::kNone ? 0 : p.number;
    auto access = access_for(root, mounts, card, disk, p, number);
    if (!access) continue;
    for (const auto& f : files) {
      const std::string armed = f, disarmed = f + std::string(kDisarmedSuffix);
      const std::string& from = disarm ? armed : disarmed;
      const std::string& to = disarm ? disarmed : armed;
      CardFile cf{number, armed, access->via()};
      try {
        const bool has_from = access->exists(from), has_to = access->exists(to);
        if (has_from && has_to)
          throw error(Errc::kCard, "both " + armed + " and " + disarmed + " exist: remove the one that is wrong");
        if (has_from) {
          access->rename(from, to);
          out.changed.push_back(cf);
        } else if (has_to) {
          out.already.push_back(cf);
        }
      } catch (const Error& e) {
        throw error(Errc::kCard, out.card + ": partition " + std::to_string(number) + " (" + access->via() + "): " +
                                     e.what());
      }
    }
  }
  return out;
}

std::string list(const std::vector<CardFile>& files) {
  std::string s;
  for (const auto& f : files)
    s += (s.empty() ? "" : ", ") + std::string("partition ") + std::to_string(f.partition) + " " + f.path + " (" +
         f.via + ")";
  return s;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

std::string CardChanges::summary(bool disarm) const {
  const char* verb = disarm ? "disarmed" : "re-armed";
  if (changed.empty()) return std::string("already ") + verb + " " + card + ": " + list(already);
  return std::string(verb) + " " + card + ": " + list(changed) + (already.empty() ? "" : "; already " + list(already));
}

fs::path booted_disk(const fs::path& root) {
  const auto mounts = read_mountinfo(root / "proc");
  const MountEntry* slash = nullptr;
  for (const auto& m : mounts)
    if (m.mount_point == "/") slash = &m;
  if (!slash) throw error(Errc::kCard, (root / "proc/self/mountinfo").string() + ": nothing is mounted at /");
  std::error_code ec;
  fs::path part = fs::canonical(root / "sys/dev/block" / slash->dev, ec);
  if (ec && slash->source.starts_with("/dev/"))
    part = fs::canonical(root / "sys/class/block" / fs::path(slash->source).filename(), ec);
  if (ec || !fs::exists(part / "partition"))
    throw error(Errc::kCard, "cannot tell which card the installer booted from: / is " + slash->source + " (" +
                                 slash->dev + ", " + slash->fstype + "), not a partition of a disk");
  return root / "dev" / part.parent_path().filename();
}

CardChanges disarm_card(const fs::path& root, const fs::path& card, const std::vector<std::string>& files) {
  CardChanges c = rename_all(root, card, files, true);
  if (c.changed.empty() && c.already.empty())
    throw error(Errc::kCard, c.card + ": nothing to disarm: none of " + joined(files) +
                                 " on its partitions, so its firmware may boot it again");
  return c;
}

CardChanges rearm_card(const fs::path& root, const fs::path& card, const std::vector<std::string>& files) {
  CardChanges c = rename_all(root, card, files, false);
  if (c.changed.empty() && c.already.empty())
    throw error(Errc::kCard, c.card + ": nothing to re-arm: no " + std::string(kDisarmedSuffix) +
                                 " file and none of " + joined(files) + " on its partitions");
  return c;
}

std::string disarm_step(const fs::path& root, const fs::path& target, const std::vector<std::string>& files) {
  const fs::path card = booted_disk(root);
  std::error_code ec;
  if (card.filename() == target.filename() || fs::equivalent(card, target, ec))
    throw error(Errc::kCard, card_name(root, card) + ": the installer runs from the target disk itself; not disarming it");
  CardChanges c = disarm_card(root, card, files);
  const std::string line = c.summary(true) + "; re-arm: ironstone-flasher --rearm " + c.card;
  spdlog::info("disarm: {}", line);
  return line;
}

}  // namespace ironstone::flasher
