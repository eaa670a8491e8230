// Target I/O: regular files, the in-memory target, mount detection on a fake sysfs,
// and real loop devices (root only, skipped with a reason otherwise).
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "flasher/target.h"
#include "tests/flasher/memory_target.h"
#include "tests/testutil/testutil.h"

namespace ironstone::flasher {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::TempDir;

constexpr std::uint64_t kMiB = 1024 * 1024;

std::unique_ptr<Target> open_file(const fs::path& p, std::uint64_t size) {
  TargetOptions o;
  o.image_size = size;
  return open_target(p, o);
}

std::vector<std::uint8_t> read_back(Target& t, std::uint64_t offset, std::size_t length) {
  std::vector<std::uint8_t> out(length);
  t.read_at(offset, out);
  return out;
}

bool all_zero(const std::vector<std::uint8_t>& v) {
  return std::all_of(v.begin(), v.end(), [](std::uint8_t b) { return b == 0; });
}

template <typename F>
std::string error_of(F&& f, Errc expected) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(expected)) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error thrown";
  return {};
}

TEST(FileTarget, AbsentFileIsCreatedWithImageSize) {
  TempDir dir;
  auto t = open_file(dir / "disk.img", 3 * kMiB + 512);
  EXPECT_EQ(t->size(), 3 * kMiB + 512);
  EXPECT_EQ(fs::file_size(dir / "disk.img"), 3 * kMiB + 512);
  EXPECT_THAT(t->description(), HasSubstr("disk.img (file, 3146240 bytes)"));
}

TEST(FileTarget, LargerExistingFileIsTruncatedToImageSize) {
  TempDir dir;
  testing::write_file(dir / "disk.img", testing::pseudo_random(2 * kMiB, 1));
  auto t = open_file(dir / "disk.img", kMiB);
  EXPECT_EQ(fs::file_size(dir / "disk.img"), kMiB);
  EXPECT_EQ(read_back(*t, 0, kMiB), testing::pseudo_random(kMiB, 1));
}

TEST(FileTarget, WrittenBytesReadBackAfterFlush) {
  TempDir dir;
  auto data = testing::pseudo_random(kMiB + 7, 2);
  {
    auto t = open_file(dir / "disk.img", 4 * kMiB);
    t->write_at(kMiB + 3, data);
    t->flush();
    EXPECT_EQ(read_back(*t, kMiB + 3, data.size()), data);
  }
  auto file = testing::read_file(dir / "disk.img");
  EXPECT_TRUE(std::equal(data.begin(), data.end(), file.begin() + kMiB + 3));
}

TEST(FileTarget, ZeroRangeOnFileTargetBecomesHole) {
  TempDir dir;
  const fs::path p = dir / "disk.img";
  auto t = open_file(p, 4 * kMiB);
  t->write_at(0, testing::pseudo_random(4 * kMiB, 3));
  t->flush();
  struct stat before {};
  ASSERT_EQ(::stat(p.c_str(), &before), 0);

  t->zero_range(kMiB, 2 * kMiB);
  t->flush();

  struct stat after {};
  ASSERT_EQ(::stat(p.c_str(), &after), 0);
  EXPECT_LT(after.st_blocks, before.st_blocks) << "no blocks were released";
  int fd = ::open(p.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(::lseek(fd, 0, SEEK_HOLE), static_cast<off_t>(kMiB));
  EXPECT_EQ(::lseek(fd, kMiB, SEEK_DATA), static_cast<off_t>(3 * kMiB));
  ::close(fd);
  EXPECT_TRUE(all_zero(read_back(*t, kMiB, 2 * kMiB)));
  auto expected = testing::pseudo_random(4 * kMiB, 3);
  EXPECT_EQ(read_back(*t, 0, kMiB), std::vector<std::uint8_t>(expected.begin(), expected.begin() + kMiB));
  EXPECT_EQ(read_back(*t, 3 * kMiB, kMiB), std::vector<std::uint8_t>(expected.begin() + 3 * kMiB, expected.end()));
}

TEST(FileTarget, UnalignedZeroRangeReadsAsZerosAndKeepsNeighbours) {
  TempDir dir;
  auto t = open_file(dir / "disk.img", kMiB);
  auto data = testing::pseudo_random(kMiB, 4);
  t->write_at(0, data);
  t->zero_range(1001, 70001);
  auto now = read_back(*t, 0, kMiB);
  for (std::size_t i = 0; i < kMiB; ++i) {
    std::uint8_t want = (i >= 1001 && i < 71002) ? 0 : data[i];
    ASSERT_EQ(now[i], want) << "at byte " << i;
  }
}

TEST(FileTarget, ReadOnlyFileIsRefused) {
  TempDir dir;
  const fs::path p = dir / "disk.img";
  testing::write_file(p, std::vector<std::uint8_t>(4096));
  ASSERT_EQ(::chmod(p.c_str(), 0444), 0);
  auto msg = error_of([&] { open_file(p, 4096); }, Errc::kReadOnly);
  EXPECT_THAT(msg, HasSubstr(p.string()));
  EXPECT_THAT(msg, HasSubstr("read-only"));
}

TEST(FileTarget, DirectoryIsRefused) {
  TempDir dir;
  auto msg = error_of([&] { open_file(dir.path(), 4096); }, Errc::kBadTarget);
  EXPECT_THAT(msg, HasSubstr(dir.path().string()));
}

TEST(FileTarget, IoBeyondTheEndIsOutOfRange) {
  TempDir dir;
  auto t = open_file(dir / "disk.img", 4096);
  std::vector<std::uint8_t> buf(100);
  auto msg = error_of([&] { t->write_at(4000, buf); }, Errc::kOutOfRange);
  EXPECT_THAT(msg, HasSubstr("write @ 0xFA0"));
  error_of([&] { t->read_at(4097, std::span(buf.data(), 0)); }, Errc::kOutOfRange);
  error_of([&] { t->zero_range(0, 4097); }, Errc::kOutOfRange);
}

TEST(FileTarget, WriteErrorNamesPathOffsetAndErrnoText) {
  TempDir dir;
  const fs::path p = dir / "disk.img";
  auto t = open_file(p, 4 * kMiB);
  // A file size limit makes pwrite beyond it fail with EFBIG (SIGXFSZ ignored meanwhile).
  struct rlimit old {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old;
  small.rlim_cur = kMiB;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  std::string msg = error_of([&] { t->write_at(0x1CA000, std::vector<std::uint8_t>(4096, 1)); }, Errc::kIo);
  ::setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_EQ(msg, p.string() + ": write @ 0x1CA000: File too large");
}

TEST(MemoryTarget, InjectedReadErrorNamesTargetOffsetAndErrno) {
  MemoryTarget t(kMiB, "mem0");
  t.inject_error(MemoryTarget::Op::kRead, 0x1CA00);
  std::vector<std::uint8_t> buf(4096);
  t.read_at(0, buf);  // does not cover the injected offset
  auto msg = error_of([&] { t.read_at(0x1C000, buf); }, Errc::kIo);
  EXPECT_EQ(msg, "mem0: read @ 0x1CA00: Input/output error");
  t.clear_errors();
  t.read_at(0x1C000, buf);
  EXPECT_EQ(t.reads(), 2u);
}

TEST(MemoryTarget, WriteZeroAndFlushWorkAndCanFail) {
  MemoryTarget t(8192);
  t.write_at(100, std::vector<std::uint8_t>(50, 7));
  EXPECT_EQ(t.bytes(100, 50), std::vector<std::uint8_t>(50, 7));
  t.zero_range(110, 10);
  EXPECT_EQ(t.bytes(110, 10), std::vector<std::uint8_t>(10, 0));
  EXPECT_EQ(t.bytes(120, 1), std::vector<std::uint8_t>(1, 7));
  t.flush();
  EXPECT_EQ(t.writes(), 1u);
  EXPECT_EQ(t.zeroes(), 1u);
  EXPECT_EQ(t.flushes(), 1u);
  t.inject_error(MemoryTarget::Op::kWrite, 4096, ENOSPC);
  t.inject_error(MemoryTarget::Op::kFlush, 0);
  EXPECT_THAT(error_of([&] { t.write_at(4000, std::vector<std::uint8_t>(200)); }, Errc::kIo),
              HasSubstr("write @ 0x1000: No space left on device"));
  error_of([&] { t.flush(); }, Errc::kIo);
  error_of([&] { t.zero_range(8000, 193); }, Errc::kOutOfRange);
}

// A fake /proc and /sys: disk "sdx" (8:16) with partitions sdx1 (8:17), sdx2 (8:18);
// sdx2 is held by dm-3 (253:3).
struct FakeSystem {
  TempDir dir;
  fs::path proc = dir / "proc";
  fs::path sys = dir / "sys";
  FakeSystem() {
    fs::create_directories(proc / "self");
    auto dev = [&](const fs::path& d, const std::string& number, bool partition) {
      fs::create_directories(d / "holders");
      testing::write_text(d / "dev", number + "\n");
      if (partition) testing::write_text(d / "partition", "1\n");
    };
    fs::path disk = sys / "devices" / "sdx";
    dev(disk, "8:16", false);
    dev(disk / "sdx1", "8:17", true);
    dev(disk / "sdx2", "8:18", true);
    dev(sys / "devices" / "dm-3", "253:3", false);
    fs::create_directories(sys / "class" / "block");
    fs::create_directory_symlink(disk, sys / "class" / "block" / "sdx");
    fs::create_directory_symlink(disk / "sdx1", sys / "class" / "block" / "sdx1");
    fs::create_directory_symlink(disk / "sdx2", sys / "class" / "block" / "sdx2");
    fs::create_directory_symlink(sys / "devices" / "dm-3", sys / "class" / "block" / "dm-3");
    fs::create_directory_symlink(sys / "devices" / "dm-3", disk / "sdx2" / "holders" / "dm-3");
    swaps("");
  }
  void mountinfo(const std::string& lines) { testing::write_text(proc / "self" / "mountinfo", lines); }
  void swaps(const std::string& lines) {
    testing::write_text(proc / "swaps", "Filename\tType\tSize\tUsed\tPriority\n" + lines);
  }
  std::vector<std::string> users() { return block_device_users("sdx", makedev(8, 16), proc, sys); }
};

const char* kRootLine = "22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw\n";

TEST(MountDetection, UnusedDeviceHasNoUsers) {
  FakeSystem s;
  s.mountinfo(kRootLine);
  EXPECT_TRUE(s.users().empty());
}

TEST(MountDetection, MountedPartitionIsFoundByDeviceNumber) {
  FakeSystem s;
  s.mountinfo(std::string(kRootLine) + "40 22 8:17 / /mnt/boot\\040fw rw - vfat /dev/sdx1 rw\n");
  EXPECT_THAT(s.users(), ::testing::ElementsAre("sdx1 (8:17) mounted at /mnt/boot fw"));
}

TEST(MountDetection, MountedHolderOfPartitionIsFound) {
  FakeSystem s;
  s.mountinfo(std::string(kRootLine) + "41 22 253:3 / /srv rw - xfs /dev/mapper/vg-srv rw\n");
  EXPECT_THAT(s.users(), ::testing::ElementsAre("dm-3 (253:3) mounted at /srv"));
}

TEST(MountDetection, BtrfsMountIsFoundBySourceWhenDeviceNumberIsAnonymous) {
  FakeSystem s;
  s.mountinfo(std::string(kRootLine) + "42 22 0:45 / /data rw - btrfs /dev/sdx2 rw\n");
  EXPECT_THAT(s.users(), ::testing::ElementsAre("sdx2 (8:18) mounted at /data"));
}

TEST(MountDetection, SwapOnPartitionCountsAsUse) {
  FakeSystem s;
  s.mountinfo(kRootLine);
  s.swaps("/dev/sdx1\tpartition\t1048572\t0\t-2\n");
  EXPECT_THAT(s.users(), ::testing::ElementsAre("sdx1 (8:17) used as swap"));
}

TEST(MountDetection, UnreadableMountinfoIsAnError) {
  FakeSystem s;
  auto msg = error_of([&] { s.users(); }, Errc::kBadTarget);
  EXPECT_THAT(msg, HasSubstr("mountinfo"));
}

// Real block devices: loop devices set up with losetup (root only; skipped otherwise).

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// A loop device over a fresh sparse file, detached on destruction.
class LoopDevice {
 public:
  LoopDevice(const fs::path& file, std::uint64_t size, bool read_only) {
    testing::run_command("truncate -s " + std::to_string(size) + " '" + file.string() + "'");
    std::string out;
    int rc = testing::run_command(std::string("losetup --find --show ") + (read_only ? "-r " : "") + "'" +
                                      file.string() + "'",
                                  &out);
    if (rc == 0 && out.rfind("/dev/", 0) == 0) device_ = trim(out);
    else error_ = "losetup failed: " + trim(out);
  }
  ~LoopDevice() {
    if (!device_.empty()) testing::run_command("losetup -d " + device_);
  }
  const std::string& device() const { return device_; }
  const std::string& error() const { return error_; }

 private:
  std::string device_, error_;
};

// Mounts a device on a directory, unmounted on destruction.
class Mount {
 public:
  Mount(const std::string& device, const fs::path& dir) : dir_(dir) {
    fs::create_directories(dir);
    std::string out;
    if (testing::run_command("mkfs.ext4 -q -F " + device, &out) != 0) {
      error_ = "mkfs.ext4 failed: " + trim(out);
    } else if (testing::run_command("mount " + device + " '" + dir.string() + "'", &out) != 0) {
      error_ = "mount failed: " + trim(out);
    } else {
      mounted_ = true;
    }
  }
  ~Mount() {
    if (mounted_) testing::run_command("umount '" + dir_.string() + "'");
  }
  const std::string& error() const { return error_; }

 private:
  fs::path dir_;
  bool mounted_ = false;
  std::string error_;
};

#define SKIP_UNLESS_LOOP(loop)                                               \
  if (!testing::is_root()) GTEST_SKIP() << "needs root for loop devices";    \
  if ((loop).device().empty()) GTEST_SKIP() << (loop).error();

std::unique_ptr<Target> open_dev(const std::string& dev, std::uint64_t image_size) {
  TargetOptions o;
  o.image_size = image_size;
  return open_target(dev, o);
}

TEST(BlockTarget, LoopDeviceReportsItsSizeAndReadsBackWrites) {
  TempDir dir;
  LoopDevice loop(dir / "backing.img", 16 * kMiB, false);
  SKIP_UNLESS_LOOP(loop);
  auto t = open_dev(loop.device(), 8 * kMiB);
  EXPECT_EQ(t->size(), 16 * kMiB);
  EXPECT_THAT(t->description(), HasSubstr(loop.device() + " (block device, 16777216 bytes)"));
  auto data = testing::pseudo_random(3 * kMiB, 11);
  t->write_at(kMiB, data);
  t->flush();
  std::vector<std::uint8_t> back(data.size());
  t->read_at(kMiB, back);
  EXPECT_EQ(back, data);
  t.reset();
  auto file = testing::read_file(dir / "backing.img");
  EXPECT_TRUE(std::equal(data.begin(), data.end(), file.begin() + kMiB));
}

TEST(BlockTarget, ZeroRangeOnLoopDeviceUsesBlkZeroOutAndKeepsNeighbours) {
  TempDir dir;
  LoopDevice loop(dir / "backing.img", 8 * kMiB, false);
  SKIP_UNLESS_LOOP(loop);
  auto t = open_dev(loop.device(), 8 * kMiB);
  auto data = testing::pseudo_random(8 * kMiB, 12);
  t->write_at(0, data);
  t->zero_range(2 * kMiB, 4 * kMiB);  // aligned: BLKZEROOUT
  t->zero_range(100, 1000);           // unaligned head and tail: written zeros
  t->flush();
  std::vector<std::uint8_t> back(8 * kMiB);
  t->read_at(0, back);
  for (std::size_t i = 0; i < back.size(); ++i) {
    bool zeroed = (i >= 2 * kMiB && i < 6 * kMiB) || (i >= 100 && i < 1100);
    ASSERT_EQ(back[i], zeroed ? 0 : data[i]) << "at byte " << i;
  }
}

TEST(BlockTarget, TargetSmallerThanImageIsRefusedWithBothSizes) {
  TempDir dir;
  LoopDevice loop(dir / "backing.img", 4 * kMiB, false);
  SKIP_UNLESS_LOOP(loop);
  auto msg = error_of([&] { open_dev(loop.device(), 6 * kMiB); }, Errc::kTooSmall);
  EXPECT_THAT(msg, HasSubstr(loop.device()));
  EXPECT_THAT(msg, HasSubstr("4194304 bytes"));
  EXPECT_THAT(msg, HasSubstr("6291456 bytes"));
}

TEST(BlockTarget, ReadOnlyLoopDeviceIsRefused) {
  TempDir dir;
  LoopDevice loop(dir / "backing.img", 4 * kMiB, true);
  SKIP_UNLESS_LOOP(loop);
  auto msg = error_of([&] { open_dev(loop.device(), kMiB); }, Errc::kReadOnly);
  EXPECT_THAT(msg, HasSubstr(loop.device()));
  EXPECT_THAT(msg, HasSubstr("read-only"));
}

TEST(BlockTarget, MountedBlockDeviceIsRefused) {
  TempDir dir;
  LoopDevice loop(dir / "backing.img", 16 * kMiB, false);
  SKIP_UNLESS_LOOP(loop);
  Mount mount(loop.device(), dir / "mnt");
  if (!mount.error().empty()) GTEST_SKIP() << mount.error();
  auto msg = error_of([&] { open_dev(loop.device(), kMiB); }, Errc::kMounted);
  EXPECT_THAT(msg, HasSubstr(loop.device() + ": refusing to write a device in use"));
  EXPECT_THAT(msg, HasSubstr("mounted at " + (dir / "mnt").string()));
}

TEST(BlockTarget, OpenDeviceIsHeldExclusively) {
  TempDir dir;
  LoopDevice loop(dir / "backing.img", 16 * kMiB, false);
  SKIP_UNLESS_LOOP(loop);
  auto t = open_dev(loop.device(), kMiB);
  // While we hold it, a second exclusive open (e.g. a second flasher) is refused.
  error_of([&] { open_dev(loop.device(), kMiB); }, Errc::kMounted);
}

}  // namespace
}  // namespace ironstone::flasher
