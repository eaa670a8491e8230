// Partitioned disk images for tests, built rootlessly: an MBR or GPT table (sfdisk on a
// sparse file), a FAT boot partition (mkfs.vfat + mcopy) and an ext4 root (mke2fs -d from a
// directory), at fixed offsets so tests can inspect each partition. Used by the installer,
// publish (sealing) and flasher (identity seed) tests. Header only.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "tests/testutil/testutil.h"

namespace ironstone::testing {

inline std::string quote(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

// Runs a shell command; a non-zero exit is a fatal test failure (check HasFatalFailure()).
inline void sh(const std::string& cmd) {
  std::string out;
  int rc = run_command(cmd, &out);
  ASSERT_EQ(rc, 0) << cmd << "\n" << out;
}

// False (and the first missing tool in *missing) unless every tool is on PATH or in /sbin, /usr/sbin.
inline bool have_tools(const std::vector<std::string>& tools, std::string* missing) {
  for (const auto& tool : tools) {
    if (run_command("command -v " + tool + " || test -x /sbin/" + tool + " || test -x /usr/sbin/" + tool) != 0) {
      *missing = tool;
      return false;
    }
  }
  return true;
}
inline const std::vector<std::string>& disk_image_tools() {
  static const std::vector<std::string> tools = {"sfdisk", "mke2fs", "debugfs", "mkfs.vfat", "mcopy", "mtype", "mdir"};
  return tools;
}
// Why a test that builds disk images must skip ("mdir not installed (…)"), or "" when it need not.
inline std::string missing_disk_tools() {
  std::string missing;
  if (have_tools(disk_image_tools(), &missing)) return "";
  return missing + " not installed (fdisk, e2fsprogs, dosfstools, mtools): no partitioned test images";
}

struct DiskSpec {
  bool gpt = false;
  bool with_boot = true;
  bool with_root = true;
  std::uint64_t boot_start = 1ull << 20;  // 1 MiB
  std::uint64_t boot_size = 64ull << 20;  // FAT32 needs >= ~33 MiB; smaller sizes get FAT16
  std::uint64_t root_size = 48ull << 20;  // the root starts right after the boot partition
  std::string boot_label = "bootfs";
  std::vector<std::pair<std::string, std::string>> boot_files;  // name -> content, at the FAT root
  std::filesystem::path rootfs;  // directory copied into the ext4 root (mke2fs -d); empty: an empty root
  std::string label_id;          // the table's id ("0x4e639091" or a GUID); empty: sfdisk picks one
  std::string boot_uuid, root_uuid;  // GPT partition GUIDs; empty: sfdisk picks them
  std::uint64_t root_start() const { return boot_start + boot_size; }
  std::uint64_t total_size() const { return root_start() + root_size + (1 << 20); }
};

// Builds the image `out` (sparse) in `out`'s directory, next to its parts (out.root, out.boot, ...).
inline void make_disk_image(const DiskSpec& spec, const std::filesystem::path& out) {
  namespace fs = std::filesystem;
  const fs::path dir = out.parent_path();
  const std::string name = out.filename().string();
  const fs::path root_img = dir / (name + ".root"), boot_img = dir / (name + ".boot");
  if (spec.with_root) {
    const std::string from = spec.rootfs.empty() ? "" : " -d " + quote(spec.rootfs);
    sh("mke2fs -q -F -t ext4 -L rootfs" + from + " " + quote(root_img) + " " + std::to_string(spec.root_size >> 10) + "k");
    if (::testing::Test::HasFatalFailure()) return;
  }
  if (spec.with_boot) {
    const bool fat32 = spec.boot_size >= (40ull << 20);
    sh("truncate -s " + std::to_string(spec.boot_size) + " " + quote(boot_img) + " && mkfs.vfat " +
       (fat32 ? "-F 32 " : "-F 16 ") + "-s 1 -n " + spec.boot_label + " " + quote(boot_img) + " >/dev/null");
    for (const auto& [file, content] : spec.boot_files) {
      write_text(dir / (name + ".boot-" + file), content);
      sh("MTOOLS_SKIP_CHECK=1 mcopy -i " + quote(boot_img) + " " + quote(dir / (name + ".boot-" + file)) + " ::/" + file);
    }
    if (::testing::Test::HasFatalFailure()) return;
  }
  std::string table = spec.gpt ? "label: gpt\n" : "label: dos\n";
  if (!spec.label_id.empty()) table += "label-id: " + spec.label_id + "\n";
  const char* fat_type = spec.gpt ? "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7" : "c";
  const char* linux_type = spec.gpt ? "0FC63DAF-8483-4772-8E79-3D69D8477DE4" : "83";
  table += "start=" + std::to_string(spec.boot_start / 512) + ", size=" + std::to_string(spec.boot_size / 512) +
           ", type=" + fat_type + (spec.boot_uuid.empty() ? "" : ", uuid=" + spec.boot_uuid) + "\n";
  table += "start=" + std::to_string(spec.root_start() / 512) + ", size=" + std::to_string(spec.root_size / 512) +
           ", type=" + linux_type + (spec.root_uuid.empty() ? "" : ", uuid=" + spec.root_uuid) + "\n";
  write_text(dir / (name + ".sfdisk"), table);
  sh("truncate -s " + std::to_string(spec.total_size()) + " " + quote(out) + " && sfdisk -q " + quote(out) + " < " +
     quote(dir / (name + ".sfdisk")));
  auto place = [&](const fs::path& part, std::uint64_t offset) {
    sh("dd if=" + quote(part) + " of=" + quote(out) + " bs=1M seek=" + std::to_string(offset >> 20) +
       " conv=notrunc,sparse status=none");
  };
  if (spec.with_boot) place(boot_img, spec.boot_start);
  if (spec.with_root) place(root_img, spec.root_start());
}

}  // namespace ironstone::testing
